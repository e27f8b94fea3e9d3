"""change_success_rate and emergency_change_ratio: METRICS.md rules, given rows."""
import pytest

from changeboard import db

JAN = {"start_date": "2026-01-01", "end_date": "2026-02-01"}


def change(change_id, close_code="successful", end="2026-01-15 10:00Z", **extra):
    row = {"change_id": change_id, "change_type": "normal", "state": "closed",
           "created_at": "2025-12-01 09:00Z", "close_code": close_code,
           "actual_end_at": end}
    row.update(extra)
    return row


def rate(con, name="change_success_rate", **params):
    return db.run(con, name, **{**JAN, **params}).iloc[0].to_dict()


def test_outcome_exactly_at_end_date_is_outside_the_window(con, given):
    given("changes", [change("C1", end="2026-01-31 23:59:59Z"),
                      change("C2", end="2026-02-01 00:00Z"),
                      change("C3", end="2026-01-01 00:00Z")])
    assert rate(con)["n"] == 2


def test_window_dates_are_read_in_the_reporting_time_zone(con, given):
    # 23:30 UTC on 31 Jan is 00:30 on 1 Feb in Berlin
    given("changes", [change("C1", end="2026-01-31 23:30Z")])
    assert rate(con)["n"] == 1
    assert rate(con, reporting_tz="Europe/Berlin")["n"] == 0


def test_close_codes_decide_success_and_failure(con, given):
    given("changes", [
        change("C1", "successful"), change("C2", "successful_with_issues"),
        change("C3", "unsuccessful"), change("C4", "backed_out"),
        change("C5", "cancelled", state="cancelled"),
        change("C6", "rejected", state="cancelled"),
    ])
    row = rate(con)
    assert (row["n"], row["n_failed"], row["n_excluded"]) == (4, 2, 2)
    assert row["change_success_rate"] == pytest.approx(0.5)
    assert row["change_failure_rate"] == pytest.approx(0.5)
    assert row["swi_share"] == pytest.approx(0.25)
    assert row["clean_success_rate"] == pytest.approx(0.25)


def test_successful_with_issues_fails_only_with_a_linked_incident(con, given):
    given("changes", [change("C1", "successful_with_issues"),
                      change("C2", "successful_with_issues")])
    given("incidents", [{"incident_id": "I1", "opened_at": "2026-01-16 00:00Z",
                         "caused_by_change_id": "C2", "priority": 3}])
    row = rate(con)
    assert (row["n"], row["n_failed"], row["n_failed_by_incident"]) == (2, 1, 1)


def test_incident_through_a_deployment_and_a_rollback_fail_a_change(con, given):
    given("changes", [change("C1"), change("C2"), change("C3")])
    given("deployments", [
        {"deployment_id": "D1", "application_id": "A", "environment_id": "P",
         "change_id": "C1", "status": "succeeded",
         "started_at": "2026-01-15 09:00Z"},
        {"deployment_id": "D2", "application_id": "A", "environment_id": "P",
         "change_id": "C2", "status": "rolled_back",
         "started_at": "2026-01-15 09:00Z"},
    ])
    given("incidents", [{"incident_id": "I1", "opened_at": "2026-01-16 00:00Z",
                         "caused_by_deployment_id": "D1"}])
    row = rate(con)
    assert (row["n"], row["n_failed"]) == (3, 2)
    assert (row["n_failed_by_incident"], row["n_failed_by_rollback"]) == (1, 1)


def test_failure_signals_overlap_but_a_change_fails_once(con, given):
    given("changes", [change("C1", "backed_out")])
    given("incidents", [
        {"incident_id": f"I{i}", "opened_at": "2026-01-16 00:00Z",
         "caused_by_change_id": "C1"} for i in range(3)])
    row = rate(con)
    assert (row["n"], row["n_failed"], row["n_failed_by_close_code"],
            row["n_failed_by_incident"]) == (1, 1, 1, 1)


def test_min_priority_ignores_lesser_incidents(con, given):
    given("changes", [change("C1"), change("C2")])
    given("incidents", [
        {"incident_id": "I1", "opened_at": "2026-01-16 00:00Z", "priority": 4,
         "caused_by_change_id": "C1"},
        {"incident_id": "I2", "opened_at": "2026-01-16 00:00Z", "priority": 2,
         "caused_by_change_id": "C2"}])
    assert rate(con)["n_failed"] == 2
    assert rate(con, failure_min_priority=3)["n_failed"] == 1


def test_closed_at_stands_in_for_a_missing_actual_end(con, given):
    given("changes", [change("C1", end=None, closed_at="2026-01-20 00:00Z")])
    row = rate(con)
    assert (row["n"], row["n_outcome_from_closed_at"]) == (1, 1)


def test_an_ended_change_without_close_code_is_unclassified(con, given):
    given("changes", [change("C1", None, state="review"), change("C2")])
    row = rate(con)
    assert (row["n"], row["n_unclassified"]) == (1, 1)


def test_zero_denominator_gives_null_not_zero(con):
    row = rate(con)
    assert row["n"] == 0
    assert row["change_success_rate"] is None or row["change_success_rate"] != \
        row["change_success_rate"]  # NULL arrives as None or NaN


def test_filters_narrow_the_population(con, given):
    given("applications", [{"application_id": "A1", "name": "Pay",
                             "portfolio": "Retail"},
                            {"application_id": "A2", "name": "Ledger",
                             "portfolio": "Core"}])
    given("environments", [{"environment_id": "E1", "name": "Pay prod",
                            "tier": "prod"},
                           {"environment_id": "E2", "name": "Pay UAT",
                            "tier": "uat"}])
    given("changes", [
        change("C1", application_id="A1", environment_id="E1",
               assignment_group="Ops"),
        change("C2", "unsuccessful", application_id="A2", environment_id="E2",
               assignment_group="Dev", change_type="emergency")])
    assert rate(con, portfolios=["Retail"])["n"] == 1
    assert rate(con, application_ids=["A2"])["n_failed"] == 1
    assert rate(con, teams=["Ops", "Dev"])["n"] == 2
    assert rate(con, tiers=["uat"])["n"] == 1
    assert rate(con, change_types=["standard"])["n"] == 0


def test_emergency_ratio_counts_implemented_changes_by_type(con, given):
    given("changes", [
        change("C1", change_type="standard"), change("C2", change_type="normal"),
        change("C3", "unsuccessful", change_type="emergency"),
        change("C4", change_type="emergency"),
        change("C5", "cancelled", change_type="emergency", state="cancelled"),
    ])
    row = rate(con, "emergency_change_ratio")
    assert (row["n"], row["n_emergency"], row["n_standard"]) == (4, 2, 1)
    assert row["emergency_change_ratio"] == pytest.approx(0.5)


def test_weeks_are_iso_weeks_zero_filled_and_flagged_when_cut(con, given):
    given("changes", [change("C1", end="2024-12-30 10:00Z"),
                      change("C2", "unsuccessful", end="2025-01-14 10:00Z")])
    rows = db.run(con, "change_success_rate_by_period", start_date="2024-12-30",
                  end_date="2025-01-17", grain="week")
    assert rows[["period_label", "n", "n_failed", "is_complete"]].to_dict(
        "records") == [
        {"period_label": "2025-W01", "n": 1, "n_failed": 0, "is_complete": True},
        {"period_label": "2025-W02", "n": 0, "n_failed": 0, "is_complete": True},
        {"period_label": "2025-W03", "n": 1, "n_failed": 1,
         "is_complete": False},
    ]
    assert rows["change_success_rate"].isna().tolist() == [False, True, False]


def test_periods_are_cut_in_the_reporting_time_zone(con, given):
    given("changes", [change("C1", end="2026-01-31 23:30Z")])
    rows = db.run(con, "change_success_rate_by_period", start_date="2026-01-01",
                  end_date="2026-03-01", grain="month",
                  reporting_tz="Europe/Berlin")
    assert rows[["period_label", "n"]].to_dict("records") == [
        {"period_label": "2026-01", "n": 0}, {"period_label": "2026-02", "n": 1}]


def test_period_rows_add_up_to_the_headline(con, given):
    given("changes", [change(f"C{i}", code, end=f"2026-0{1 + i % 3}-10 00:00Z")
                      for i, code in enumerate(
                          ["successful", "unsuccessful", "backed_out",
                           "successful_with_issues", "successful", "cancelled"])])
    window = {"start_date": "2026-01-01", "end_date": "2026-04-01"}
    rows = db.run(con, "change_success_rate_by_period", grain="quarter", **window)
    head = db.run(con, "change_success_rate", **window).iloc[0]
    assert rows["n"].sum() == head["n"] == 5
    assert rows["n_failed"].sum() == head["n_failed"] == 2
    assert rows["n_excluded"].sum() == head["n_excluded"] == 1
    assert rows["period_label"].tolist() == ["2026-Q1"]


def test_an_unknown_grain_is_refused(con):
    import duckdb
    with pytest.raises(duckdb.InvalidInputException, match="grain must be"):
        db.run(con, "change_success_rate_by_period", grain="day", **JAN)
