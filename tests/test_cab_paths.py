"""The CAB queries' shortcuts (issue 12) give what the definitions say:
the open changes without a plan read from a derived table in a published
file, the windows found by key, and the history of similar changes read
once for a given as_of or per target's cab date."""
import pandas as pd

from changeboard import db
from tests.rows import insert_rows
from tests.test_cab_metrics import (
    MEETING,
    blackout,
    change,
    history,
    records,
    run,
)

insert = insert_rows


UNPLANNED = [
    change("C1", application_id="A1"),
    change("C2", application_id="A1", start="2026-01-16 21:00Z"),
    change("U1", start=None, end=None),                  # unplanned
    change("U2", end="2026-01-16 19:00Z"),               # ends first
    change("U3", start=None, end=None, state="closed"),  # closed: nothing
    change("U4", start=None, end=None, approval="rejected"),
    change("U5", start=None, end=None, approval="approved"),
]


def counts(con) -> tuple:
    summary = run(con, "cab_agenda_summary").iloc[0]
    pair = run(con, "change_collisions").iloc[0]
    return (int(summary["n"]), int(summary["n_unplanned"]),
            int(pair["n"]), int(pair["n_unclassified"]))


def test_a_published_file_reads_the_unplanned_changes_it_stored(tmp_path):
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        insert(con, "changes", UNPLANNED)
        written = counts(con)  # a file being written: the view, fresh
    # agenda C1, C2; unplanned U1, U2; without a valid plan, open and not
    # rejected: U1, U2, U5
    assert written == (2, 2, 2, 3)
    with db.reading(path) as con:
        kind, = con.execute(
            "select table_type from information_schema.tables "
            "where table_name = 'derived_cab_unplanned_changes'").fetchone()
        stored = [i for i, in con.execute(
            "select change_id from derived_cab_unplanned_changes "
            "order by change_id").fetchall()]
        assert (kind, stored) == ("BASE TABLE", ["U1", "U2", "U4", "U5"])
        assert counts(con) == written


def test_windows_keyed_on_application_and_environment_apply_to_both(
        con, given):
    given("changes", [
        change("C1", application_id="A1", environment_id="P1"),
        change("C2", application_id="A2", environment_id="P1"),
        change("C3", environment_id="P1"),                  # no application
    ])
    given("blackout_windows", [
        blackout("W1", application_id="A1", environment_id="P1"),
        blackout("W2", "blackout", environment_id="P1",
                 start="2026-01-16 21:00Z", end="2026-01-16 23:00Z"),
        blackout("W3", application_id="A1", environment_id="P2"),
        blackout("M1", "maintenance", application_id="A1",
                 environment_id="P1", start="2026-01-18 00:00Z",
                 end="2026-01-18 04:00Z"),
    ])
    hits = records(run(con, "change_window_hits"), "change_id", "window_id",
                   "kind")
    assert [tuple(hit.values()) for hit in hits] == [
        ("C1", "W2", "blackout"), ("C1", "W1", "freeze"),
        ("C1", None, "outside_maintenance"),
        ("C2", "W2", "blackout"), ("C3", "W2", "blackout")]


def test_similar_history_at_a_given_as_of_equals_it_at_the_cab_date(
        con, given):
    """Targets on two cab dates read two periods at once; each target's
    rows equal those read with its cab date's midnight as the as_of. Each
    target is taken out of its own cohort, also when it is the latest
    failure."""
    def target(change_id, cab_date, **columns):
        return change(change_id, application_id="A1", assignment_group="Ops",
                      cab_date=cab_date, **columns)

    given("changes", [
        target("T1", "2026-01-15"),
        target("T2", "2026-01-08"),
        target("T3", "2026-01-15", close_code="unsuccessful",
               actual_end_at="2026-01-05 00:00Z"),
        target("T4", "2026-01-15", close_code="unsuccessful",
               actual_end_at="2026-01-14 00:00Z"),
        history("H1"),
        history("H2", "unsuccessful", end="2026-01-10 00:00Z"),
        history("H3", end="2025-12-20 00:00Z"),
        history("H4", "backed_out", end="2025-12-20 00:00Z"),
        history("H5", change_type="emergency", end="2025-12-15 00:00Z"),
    ])
    given("incidents", [{"incident_id": "I1", "opened_at": "2026-01-12 00:00Z",
                         "caused_by_change_id": "H3"}])
    targets = ["T1", "T2", "T3", "T4"]
    together = db.run(con, "similar_change_history", change_ids=targets)
    app = together[together["cohort"] == "application_change_type"]
    assert app[["change_id", "n", "n_failed"]].values.tolist() == [
        ["T1", 6, 5], ["T2", 4, 2], ["T3", 5, 4], ["T4", 5, 4]]
    assert app["last_failure_at"].tolist() == [
        pd.Timestamp(t) for t in ("2026-01-14 00:00Z", "2026-01-05 00:00Z",
                                  "2026-01-14 00:00Z", "2026-01-10 00:00Z")]
    team = together[together["cohort"] == "assignment_group"]
    assert (team["n"] - app["n"].values).tolist() == [1, 1, 1, 1]  # H5
    for change_id, day in zip(targets, ["2026-01-15", "2026-01-08",
                                        "2026-01-15", "2026-01-15"],
                              strict=True):
        alone = db.run(con, "similar_change_history", change_ids=[change_id],
                       as_of=f"{day} 00:00Z")
        pd.testing.assert_frame_equal(
            alone.reset_index(drop=True),
            together[together["change_id"] == change_id]
            .reset_index(drop=True))
    agenda = db.run(con, "similar_change_history", **MEETING,
                    as_of="2026-01-15 00:00Z")
    on_it = agenda[agenda["cohort"] == "application_change_type"]
    assert on_it[["change_id", "n", "n_failed"]].values.tolist() == [
        ["T1", 6, 5], ["T2", 6, 5], ["T3", 5, 4], ["T4", 5, 4]]
