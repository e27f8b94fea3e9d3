"""release_cadence and its summary: METRICS.md rules, given rows."""
import pytest

from changeboard import db

JAN = {"start_date": "2026-01-01", "end_date": "2026-02-01"}


def release(release_id, live, app="A1", **extra):
    row = {"release_id": release_id, "name": release_id, "status": "released",
           "application_id": app, "release_type": "project",
           "actual_release_at": live}
    row.update(extra)
    return row


def test_gaps_reach_back_before_the_window_and_first_release_has_none(con, given):
    given("releases", [
        release("R1", "2025-12-29 12:00Z"),
        release("R2", "2026-01-02 00:00Z"),  # gap 3.5 days, in W
        release("R3", "2026-01-09 00:00Z"),  # gap 7
        release("R4", "2026-01-20 00:00Z", app="A2"),  # first of A2: no gap
    ])
    rows = db.run(con, "release_cadence", **JAN).set_index("application_id")
    assert rows.loc["A1", "n_releases"] == 2
    assert rows.loc["A1", "median_gap_days"] == pytest.approx(5.25)
    assert rows.loc["A2", "n_gaps"] == 0
    assert rows.loc["A2", "median_gap_days"] != rows.loc["A2", "median_gap_days"]


def test_cancelled_enterprise_and_unreleased_releases_are_left_out(con, given):
    given("releases", [
        release("R1", "2026-01-05 00:00Z"),
        release("R2", "2026-01-06 00:00Z", status="cancelled"),
        release("R3", "2026-01-07 00:00Z", release_type="enterprise"),
        release("R4", None, status="planned"),
        release("R5", "2026-01-05 00:00Z"),  # same instant: gap 0 is kept
    ])
    row = db.run(con, "release_cadence_summary", **JAN).iloc[0]
    assert (row["n_releases"], row["n_gaps"], row["median_gap_days"]) == (2, 1, 0)


def test_summary_pools_gaps_of_all_applications(con, given):
    given("releases", [
        release("R1", "2026-01-01 00:00Z"), release("R2", "2026-01-02 00:00Z"),
        release("R3", "2026-01-01 00:00Z", app="A2"),
        release("R4", "2026-01-11 00:00Z", app="A2"),
        release("R5", "2026-01-31 00:00Z", app="A2"),
    ])
    row = db.run(con, "release_cadence_summary", **JAN).iloc[0]
    # pooled gaps [1, 10, 20] -> 10; a median of medians would give 5.5
    assert row["median_gap_days"] == pytest.approx(10)
    assert row["n_applications"] == 2
    assert row["releases_per_month"] == pytest.approx(5 / (31 / 30.436875))


def test_no_release_in_the_window_gives_null_median_and_zero_rate(con):
    row = db.run(con, "release_cadence_summary", **JAN).iloc[0]
    assert row["n_releases"] == 0
    assert row["releases_per_month"] == 0
    assert row["median_gap_days"] != row["median_gap_days"]
