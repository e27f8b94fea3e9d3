"""open_change_backlog and open_change_backlog_by_state: docs/metrics.md
rules, given rows."""
import pandas as pd
import pytest

from changeboard import db

# the last succeeded load, unless a test gives its own
LOADED = "2026-03-10 12:00Z"
AS_OF = pd.Timestamp(LOADED)


def change(change_id, state, **extra):
    row = {"change_id": change_id, "change_type": "normal", "state": state,
           "created_at": "2026-03-01 12:00Z"}
    row.update(extra)
    return row


def loaded(given, at=LOADED, status="succeeded", batch_id=1):
    given("ingest_batches", [{"batch_id": batch_id, "source": "csv",
                              "entity": "changes", "started_at": at,
                              "finished_at": at, "status": status}])


def backlog(con, **params) -> pd.DataFrame:
    return db.run(con, "open_change_backlog", **params).set_index("change_id")


def by_state(con, **params) -> pd.DataFrame:
    return db.run(con, "open_change_backlog_by_state",
                  **params).set_index("state")


def test_closed_and_cancelled_changes_are_not_in_the_backlog(con, given):
    loaded(given)
    given("changes", [change("C1", "closed", close_code="successful"),
                      change("C2", "cancelled", close_code="cancelled"),
                      change("C3", "new"),
                      # an open state decides, whatever the close code says
                      change("C4", "review", close_code="successful")])
    assert list(backlog(con).index) == ["C3", "C4"]
    states = by_state(con)
    assert int(states["n"].sum()) == 2
    assert set(states["n_excluded"]) == {2}


def test_every_open_state_has_a_row_with_its_n_in_order(con, given):
    loaded(given)
    given("changes", [change("C1", "authorize"), change("C2", "authorize"),
                      change("C3", "implement",
                             actual_start_at="2026-03-09 12:00Z")])
    states = by_state(con)
    assert list(states.index) == ["new", "assess", "authorize", "scheduled",
                                  "implement", "review"]
    assert states["n"].to_dict() == {
        "new": 0, "assess": 0, "authorize": 2, "scheduled": 0,
        "implement": 1, "review": 0}
    # an empty state has no age (n/a), not 0
    assert states["median_age_days"].isna().to_dict() == {
        "new": True, "assess": True, "authorize": False, "scheduled": True,
        "implement": False, "review": True}
    assert states.loc["implement", "median_age_days"] == pytest.approx(1.0)


def test_age_in_state_counts_from_the_milestone_that_state_implies(con, given):
    loaded(given)
    given("changes", [
        change("NEW", "new", created_at="2026-03-08 12:00Z"),
        change("ASSESS", "assess", created_at="2026-03-07 12:00Z"),
        change("AUTH", "authorize", created_at="2026-03-06 12:00Z"),
        change("SCHED", "scheduled", approved_at="2026-03-09 00:00Z"),
        change("IMPL", "implement", approved_at="2026-03-05 12:00Z",
               actual_start_at="2026-03-10 06:00Z"),
        change("REVIEW", "review", actual_start_at="2026-03-02 12:00Z",
               actual_end_at="2026-03-04 12:00Z",
               # an edit does not move the age
               updated_at="2026-03-10 11:00Z"),
    ])
    rows = backlog(con)
    assert rows["age_basis"].to_dict() == {
        "NEW": "created_at", "ASSESS": "created_at", "AUTH": "created_at",
        "SCHED": "approved_at", "IMPL": "actual_start_at",
        "REVIEW": "actual_end_at"}
    assert rows["age_days"].to_dict() == pytest.approx({
        "NEW": 2.0, "ASSESS": 3.0, "AUTH": 4.0, "SCHED": 1.5, "IMPL": 0.25,
        "REVIEW": 6.0})
    # nothing records entering assess or authorize: their age is at most that
    assert rows["is_age_exact"].to_dict() == {
        "NEW": True, "ASSESS": False, "AUTH": False, "SCHED": True,
        "IMPL": True, "REVIEW": True}
    assert list(rows.index) == ["NEW", "ASSESS", "AUTH", "SCHED", "IMPL",
                                "REVIEW"]
    states = by_state(con)
    assert states["n_age_upper_bound"].to_dict() == {
        "new": 0, "assess": 1, "authorize": 1, "scheduled": 0,
        "implement": 0, "review": 0}


def test_a_missing_milestone_falls_back_to_the_one_before(con, given):
    loaded(given)
    given("changes", [
        # scheduled without approval time: since creation, an upper bound
        change("S1", "scheduled", approval="not_required"),
        # implement without a start: since approval
        change("I1", "implement", approved_at="2026-03-08 12:00Z"),
        # review without an end: since the start
        change("R1", "review", actual_start_at="2026-03-09 12:00Z"),
        # a milestone after as_of is not used
        change("R2", "review", actual_start_at="2026-03-09 12:00Z",
               actual_end_at="2026-03-11 12:00Z"),
    ])
    rows = backlog(con)
    assert rows["age_basis"].to_dict() == {
        "S1": "created_at", "I1": "approved_at", "R1": "actual_start_at",
        "R2": "actual_start_at"}
    assert rows["age_days"].to_dict() == pytest.approx(
        {"S1": 9.0, "I1": 2.0, "R1": 1.0, "R2": 1.0})
    assert not rows["is_age_exact"].any()


def test_ages_within_a_state_are_listed_oldest_first(con, given):
    loaded(given)
    given("changes", [change("A", "new", created_at="2026-03-09 12:00Z"),
                      change("B", "new", created_at="2026-03-05 12:00Z"),
                      change("C", "new", created_at="2026-03-09 12:00Z")])
    assert list(backlog(con).index) == ["B", "A", "C"]
    row = by_state(con).loc["new"]
    assert (row["n"], row["median_age_days"], row["max_age_days"]) == (
        3, pytest.approx(1.0), pytest.approx(5.0))


def test_past_its_planned_start_and_not_started(con, given):
    loaded(given)
    given("changes", [
        change("LATE", "scheduled", planned_start_at="2026-03-08 12:00Z"),
        change("STARTED", "implement", planned_start_at="2026-03-08 12:00Z",
               actual_start_at="2026-03-08 13:00Z"),
        change("AHEAD", "scheduled", planned_start_at="2026-03-11 12:00Z"),
        change("NOW", "scheduled", planned_start_at=LOADED),
        change("UNPLANNED", "authorize"),
        change("GONE", "cancelled", planned_start_at="2026-03-01 12:00Z"),
        # started, though only the end of the work is recorded; and in
        # implement with no start recorded: neither is "not started"
        change("ENDED", "review", planned_start_at="2026-03-01 20:00Z",
               actual_end_at="2026-03-01 22:00Z"),
        change("DOING", "implement", planned_start_at="2026-03-08 12:00Z"),
    ])
    rows = backlog(con)
    assert list(rows.index[rows["is_past_planned_start"]]) == ["LATE"]
    assert rows.loc["LATE", "days_past_planned_start"] == pytest.approx(2.0)
    assert rows["days_past_planned_start"].drop("LATE").isna().all()
    assert by_state(con)["n_past_planned_start"].to_dict() == {
        "new": 0, "assess": 0, "authorize": 0, "scheduled": 1,
        "implement": 0, "review": 0}


def test_implemented_and_not_closed_after_n_days_boundary(con, given):
    loaded(given)
    given("changes", [
        change("OVER", "review", actual_end_at="2026-03-05 11:59Z"),
        change("EXACT", "review", actual_end_at="2026-03-05 12:00Z"),
        change("UNDER", "review", actual_end_at="2026-03-05 12:01Z"),
        change("NOT_ENDED", "implement", actual_start_at="2026-03-01 12:00Z"),
        change("CLOSED", "closed", close_code="successful",
               actual_end_at="2026-03-01 12:00Z"),
    ])
    rows = backlog(con)
    late = rows.index[rows["is_unclosed_after_implementation"]]
    assert list(late) == ["OVER"]  # exactly five days is not yet late
    assert rows.loc["EXACT", "days_since_implemented"] == pytest.approx(5.0)
    assert pd.isna(rows.loc["NOT_ENDED", "days_since_implemented"])
    assert by_state(con).loc["review",
                             "n_unclosed_after_implementation"] == 1
    # N is a parameter: after 3 days all three ended changes are late
    rows = backlog(con, close_within_days=3)
    assert set(rows.index[rows["is_unclosed_after_implementation"]]) == {
        "OVER", "EXACT", "UNDER"}
    assert set(rows["close_within_days"]) == {3}


def test_as_of_is_the_last_succeeded_load_not_the_clock(con, given):
    loaded(given, at="2026-03-10 12:00Z", batch_id=1)
    loaded(given, at="2026-03-20 12:00Z", status="failed", batch_id=2)
    given("changes", [change("C1", "new", created_at="2026-03-09 12:00Z")])
    rows = backlog(con)
    assert rows.loc["C1", "as_of"] == AS_OF
    assert rows.loc["C1", "age_days"] == pytest.approx(1.0)
    assert by_state(con).loc["new", "as_of"] == AS_OF
    # an explicit as_of, read in the reporting time zone without an offset
    rows = backlog(con, as_of="2026-03-11 13:00", reporting_tz="Europe/Berlin")
    assert rows.loc["C1", "age_days"] == pytest.approx(2.0)


def test_the_global_filters_narrow_the_backlog(con, given):
    loaded(given)
    given("applications", [{"application_id": "A1", "name": "One",
                            "portfolio": "P1"},
                           {"application_id": "A2", "name": "Two",
                            "portfolio": "P2"}])
    given("changes", [change("C1", "new", application_id="A1",
                             assignment_group="ops"),
                      change("C2", "new", application_id="A2",
                             change_type="emergency"),
                      change("C3", "closed", application_id="A1")])
    assert list(backlog(con, portfolios=["P1"]).index) == ["C1"]
    assert list(backlog(con, change_types=["emergency"]).index) == ["C2"]
    states = by_state(con, teams=["ops"])
    assert (states.loc["new", "n"], states.loc["new", "n_excluded"]) == (1, 0)
    assert by_state(con, portfolios=["P1"]).loc["new", "n_excluded"] == 1


def test_the_counts_per_state_add_up_to_the_lists(sample_db):
    with db.reading(sample_db) as con:
        rows = db.run(con, "open_change_backlog")
        states = db.run(con, "open_change_backlog_by_state").set_index("state")
    assert not rows.empty
    grouped = rows.groupby("state")
    for state, group in grouped:
        row = states.loc[state]
        assert row["n"] == len(group)
        assert row["max_age_days"] == pytest.approx(group["age_days"].max())
        assert row["median_age_days"] == pytest.approx(
            group["age_days"].median())
        assert row["n_age_upper_bound"] == (~group["is_age_exact"]).sum()
        assert row["n_past_planned_start"] == \
            group["is_past_planned_start"].sum()
        assert row["n_unclosed_after_implementation"] == \
            group["is_unclosed_after_implementation"].sum()
    assert states["n"].sum() == len(rows)


def test_a_change_created_after_as_of_is_not_in_that_backlog(con, given):
    """Ages measured at an earlier as_of: a change created after it did not
    exist then, so it is left out and counted (its age was negative)."""
    loaded(given)
    given("changes", [change("OLD", "new", created_at="2026-03-01 12:00Z"),
                      change("AT", "assess", created_at="2026-03-05 12:00Z"),
                      change("NEW", "new", created_at="2026-03-09 12:00Z"),
                      change("GONE", "closed", close_code="successful",
                             created_at="2026-03-09 12:00Z")])
    rows = backlog(con, as_of="2026-03-05 12:00Z")
    assert rows["age_days"].to_dict() == pytest.approx({"OLD": 4.0,
                                                        "AT": 0.0})
    states = by_state(con, as_of="2026-03-05 12:00Z")
    assert states["n"].to_dict() == {
        "new": 1, "assess": 1, "authorize": 0, "scheduled": 0,
        "implement": 0, "review": 0}
    assert set(states["n_created_after_as_of"]) == {1}
    assert set(states["n_excluded"]) == {1}
    # at the last load every open change is in it
    assert set(by_state(con)["n_created_after_as_of"]) == {0}
