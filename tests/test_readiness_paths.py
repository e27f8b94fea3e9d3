"""release_readiness counts each release's changes and remaining phases
itself (issue 12: from the releases it already found, each table read
once); its counts are those of the detail queries the Readiness page
lists, release_readiness_changes and release_readiness_phases."""
import pandas as pd
import pytest

from changeboard import db


@pytest.fixture(scope="module")
def reader(sample_db):
    with db.reading(sample_db) as con:
        yield con


def latest_go_live(con) -> pd.Timestamp:
    return pd.Timestamp(con.execute(
        "select max(planned_release_at) from releases "
        "where status not in ('released', 'cancelled')").fetchone()[0])


def test_readiness_counts_are_those_of_its_detail_queries(reader):
    end = latest_go_live(reader)
    seen = {"n_changes": 0, "n_phases_uncovered": 0, "n_rejected": 0}
    late_seen = 0
    for weeks in (2, 6, 10, 20):
        window = {"as_of": str(end - pd.Timedelta(weeks=weeks)),
                  "horizon_days": 28}
        rows = db.run(reader, "release_readiness", **window).set_index(
            "release_id")
        changes = db.run(reader, "release_readiness_changes", **window)
        phases = db.run(reader, "release_readiness_phases", **window)
        by_change = changes.groupby("release_id").agg(
            n_changes=("change_id", "count"),
            n_approved=("authorisation", lambda a: (a == "approved").sum()),
            n_awaiting=("authorisation", lambda a: (a == "awaiting").sum()),
            n_not_requested=("authorisation",
                             lambda a: (a == "not_requested").sum()),
            n_rejected=("authorisation", lambda a: (a == "rejected").sum()),
            n_planned_after_go_live=("is_planned_after_go_live", "sum"))
        # the phases running late are listed apart (is_late), as the slip
        # counts them: the latest behind plan no later than slip_days
        late = phases[phases["is_late"]]
        if len(late):
            slip = rows.loc[late["release_id"], "slip_days"].to_numpy()
            assert (late["late_days"].to_numpy() <= slip + 1e-9).all()
            assert (late["late_days"] >= 0).all()
            late_seen += len(late)
        phases = phases[~phases["is_late"]]
        per_phase = phases.drop_duplicates(["release_id", "phase"])
        by_phase = per_phase.groupby("release_id").agg(
            n_phases_remaining=("phase", "count"),
            n_phases_uncovered=("is_covered", lambda c: (~c).sum()),
            n_phases_rejected_only=("is_rejected_only", "sum"))
        expected = pd.concat([by_change, by_phase], axis=1).reindex(
            rows.index).fillna(0).astype(int)
        pd.testing.assert_frame_equal(rows[expected.columns].astype(int),
                                      expected)
        for column in seen:
            seen[column] += int(rows[column].sum())
    assert all(seen.values()), seen  # the sample exercises every count
    assert late_seen  # and a phase running late
