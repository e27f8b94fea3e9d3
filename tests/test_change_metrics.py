"""change_success_rate and emergency_change_ratio: docs/metrics.md rules, given rows."""
import duckdb
import pandas as pd
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


def test_the_sites_failure_threshold_is_every_querys_default(
        con, given, monkeypatch):
    """CHANGEBOARD_FAILURE_MIN_PRIORITY is the failure_min_priority of a
    query given none, so the pages and packs (which give none) count as a
    site's policy says; a query given one, or given none explicitly, keeps
    it (the threshold was the CLI's alone: a process owner)."""
    from changeboard import config
    given("changes", [change("C1"), change("C2")])
    given("incidents", [incident("I1", 4, caused_by_change_id="C1"),
                        incident("I2", 2, caused_by_change_id="C2")])
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", " 3 ")
    assert rate(con)["n_failed"] == 1
    assert db.run(con, "change_records", **JAN)["is_failed"].tolist() == [
        False, True]
    assert rate(con, failure_min_priority=None)["n_failed"] == 2
    assert rate(con, failure_min_priority=1)["n_failed"] == 0
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "")
    assert rate(con)["n_failed"] == 2


@pytest.mark.parametrize("text", ["0", "P2", "-1", "2.5", "high"])
def test_a_failure_threshold_that_is_no_priority_is_said(monkeypatch, text):
    from changeboard import config
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", text)
    with pytest.raises(ValueError, match=(
            f"CHANGEBOARD_FAILURE_MIN_PRIORITY='{text}' is not a priority: "
            "a whole number from 1")):
        config.failure_min_priority()


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


def test_period_success_columns_split_the_changes_that_did_not_fail(
        con, given):
    # two closed successful with issues, one of them failed by an incident:
    # the headline counts both by close code; a period's columns stack to n
    given("changes", [change("S1", "successful_with_issues"),
                      change("S2", "successful_with_issues"),
                      change("S3", "successful")])
    given("incidents", [{"incident_id": "I1",
                         "opened_at": "2026-01-16 00:00Z",
                         "caused_by_change_id": "S1"}])
    head = rate(con)
    rows = db.run(con, "change_success_rate_by_period", **JAN)
    assert (head["n"], head["n_failed"], head["n_successful_with_issues"]) \
        == (3, 1, 2)
    one = rows.iloc[0]
    assert (one["n"], one["n_failed"], one["n_successful"],
            one["n_successful_with_issues"]) == (3, 1, 1, 1)
    assert (rows["n_successful"] + rows["n_successful_with_issues"]
            + rows["n_failed"] == rows["n"]).all()


def test_emergency_ratio_counts_cancelled_and_rejected_changes_excluded(
        con, given):
    # X3: cancelled in its state, no close code (A24 excludes it too)
    given("changes", [change("E1", change_type="emergency"),
                      change("N1"),
                      change("X1", "cancelled", state="cancelled"),
                      change("X2", "rejected", change_type="emergency"),
                      change("X3", None, state="cancelled",
                             change_type="emergency")])
    row = rate(con, "emergency_change_ratio")
    assert (row["n"], row["n_emergency"], row["n_excluded"]) == (2, 1, 3)
    assert row["emergency_change_ratio"] == 0.5
    assert rate(con, "change_lead_time")["n_excluded"] == 3
    periods = db.run(con, "emergency_change_ratio_by_period", **JAN)
    assert periods["n_excluded"].sum() == 3
    by = db.run(con, "emergency_change_ratio_by", **JAN, dimension="team")
    assert by["n_excluded"].sum() == 3
    # a change cancelled without a close code has no outcome: the outcome
    # metrics do not see it
    assert rate(con)["n_excluded"] == 2


def test_an_unknown_grain_is_refused(con):
    import duckdb
    with pytest.raises(duckdb.InvalidInputException, match="grain must be"):
        db.run(con, "change_success_rate_by_period", grain="day", **JAN)


# --- change_success_score ---------------------------------------------------

def incident(incident_id, priority=None, opened="2026-01-16 00:00Z",
             resolved=None, **links):
    return {"incident_id": incident_id, "priority": priority,
            "opened_at": opened, "resolved_at": resolved, **links}


def deployment(deployment_id, change_id, status="succeeded", env="P",
               finished="2026-01-15 09:00Z", **extra):
    return {"deployment_id": deployment_id, "application_id": "A",
            "environment_id": env, "change_id": change_id, "status": status,
            "started_at": finished, "finished_at": finished, **extra}


def records(frame):
    """Rows as dicts, a NULL as None (pandas reads a NULL text as NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def by_key(frame, key):
    return {row[key]: row for row in records(frame)}


def test_score_weighs_close_codes_and_linked_incident_priorities(con, given):
    given("changes", [
        change("C1", assignment_group="Ops"),
        change("C2", "successful_with_issues", assignment_group="Ops"),
        change("C3", "unsuccessful", assignment_group="Ops"),
        change("C4", "backed_out", assignment_group="Ops"),
        change("C5", "cancelled", state="cancelled", assignment_group="Ops")])
    given("incidents", [
        incident("I1", 1, caused_by_change_id="C1"),
        incident("I2", 2, caused_by_change_id="C2"),
        incident("I3", 3, caused_by_change_id="C3"),
        incident("I4", 4, caused_by_change_id="C4"),
        incident("I5", None, caused_by_change_id="C1"),
        # opened long before the window: still scored (whenever opened)
        incident("I6", 3, opened="2025-06-01 00:00Z",
                 caused_by_change_id="C2")])
    row = rate(con, "change_success_score")
    # 3 - 2 - 5 - 5 (close codes) - 10 - 5 - 2 - 2 (P1, P2, P3, P3)
    assert row["score"] == -28
    assert row["score_per_change"] == pytest.approx(-7.0)
    assert (row["n"], row["n_successful"], row["n_successful_with_issues"],
            row["n_unsuccessful"], row["n_backed_out"]) == (4, 1, 1, 1, 1)
    assert (row["n_incidents"], row["n_incidents_p1"], row["n_incidents_p2"],
            row["n_incidents_p3"], row["n_incidents_p4_or_lower"],
            row["n_incidents_unprioritized"]) == (6, 1, 1, 2, 1, 1)
    assert row["n_excluded"] == 1


def test_incident_linked_twice_scores_once_per_group_and_in_each_group(
        con, given):
    given("changes", [change("C1", assignment_group="Ops"),
                      change("C2", assignment_group="Ops"),
                      change("C3", assignment_group="Dev")])
    given("deployments", [deployment("D2", "C2"), deployment("D3", "C3")])
    given("incidents", [
        # linked to C1 and (through D2) to C2: both Ops, scored once there
        incident("I1", 1, caused_by_change_id="C1",
                 caused_by_deployment_id="D2"),
        # linked to C2 (Ops) and through D3 to C3 (Dev): scored in both
        incident("I2", 2, caused_by_change_id="C2",
                 caused_by_deployment_id="D3")])
    rows = by_key(db.run(con, "change_success_score", **JAN), "assignment_group")
    assert rows["Ops"]["score"] == 3 + 3 - 10 - 5
    assert rows["Ops"]["n_incidents"] == 2
    assert rows["Dev"]["score"] == 3 - 5
    assert rows["Dev"]["n_incidents_p2"] == 1


def test_score_has_a_row_for_changes_without_a_group(con, given):
    given("changes", [change("C1", assignment_group="Ops"),
                      change("C2", "unsuccessful")])
    rows = db.run(con, "change_success_score", **JAN)
    assert [(r["assignment_group"], r["score"]) for r in records(rows)] == [
        ("Ops", 3), (None, -5)]


def test_score_weights_are_data_in_servicenow_default(con):
    weights = dict(con.execute(
        "select component, weight from servicenow_default()").fetchall())
    assert weights == {"successful": 3, "successful_with_issues": -2,
                       "unsuccessful": -5, "backed_out": -5,
                       "p1": -10, "p2": -5, "p3": -2}


# --- unauthorized_changes ---------------------------------------------------

def started(change_id, approval="approved", approved="2026-01-14 09:00Z",
            start="2026-01-15 09:00Z", cab=True, **extra):
    return change(change_id, approval=approval, approved_at=approved,
                  actual_start_at=start, is_cab_required=cab, **extra)


def test_cab_required_change_started_without_approval_is_unauthorized(
        con, given):
    given("changes", [
        started("C1", approved="2026-01-15 09:00Z"),  # at the start: fine
        started("C2", approved="2026-01-15 09:00:01Z"),  # retroactive
        started("C3", "rejected", approved=None),
        started("C4", approved=None),  # authorised, time missing
        started("C5", cab=False, approval="not_required"),
        started("C6", cab=None),
        started("C7", "requested", start="2026-02-01 00:00Z"),  # outside
        started("C8", None, approved=None),  # approval missing
    ])
    row = rate(con, "unauthorized_changes")
    assert (row["n"], row["n_unauthorized"], row["n_not_approved"],
            row["n_approved_after_start"], row["n_approval_time_missing"],
            row["n_excluded"], row["n_unclassified"]) == (4, 2, 1, 1, 1, 1, 2)
    # of the two unclassified, C6 has no CAB flag (C8 no approval): what
    # to map is said from them
    assert row["n_cab_flag_missing"] == 1
    assert row["unauthorized_rate"] == pytest.approx(0.5)
    # C2's late approval is a normal change's: no emergency among them
    assert row["n_emergency_approved_after_start"] == 0
    # the groups query: C7 (February) in this window, January's in the one
    # before it; its rows equal the three queries'
    frames = assert_groups_equal_the_queries(
        con, "unauthorized_changes_groups", start_date="2026-02-01",
        end_date="2026-03-01", grain="week", dimension="change_type")
    now, before = (frames["unauthorized_changes" + k].iloc[0]
                   for k in ("", ":previous"))
    assert (now["n"], now["n_unauthorized"]) == (1, 1)  # only requested
    assert (before["n"], before["n_unauthorized"], before["n_unclassified"],
            before["n_cab_flag_missing"]) == (4, 2, 2, 1)


def test_emergency_changes_approved_after_they_started_are_counted_apart(
        con, given):
    """An emergency CAB approves in retrospect: of the changes approved
    after they started, the emergency ones are counted apart (a process
    owner's walkthrough: 75 of a year's 81 unauthorised were), and the
    family's breakdowns add up to it."""
    given("changes", [
        started("E1", approved="2026-01-15 10:00Z", change_type="emergency"),
        started("E2", approved="2026-01-15 10:00Z", change_type="emergency"),
        started("E3", "rejected", approved=None, change_type="emergency"),
        started("E4", change_type="emergency"),  # approved before: fine
        started("N1", approved="2026-01-15 10:00Z")])
    row = rate(con, "unauthorized_changes")
    assert (row["n"], row["n_unauthorized"], row["n_not_approved"],
            row["n_approved_after_start"],
            row["n_emergency_approved_after_start"]) == (5, 4, 1, 3, 2)
    rows = db.run(con, "unauthorized_changes_by", dimension="change_type",
                  **JAN)
    assert dict(zip(rows["dimension_value"],
                    rows["n_emergency_approved_after_start"],
                    strict=True)) == {"emergency": 2, "normal": 0}
    assert_groups_equal_the_queries(
        con, "unauthorized_changes_groups", grain="week",
        dimension="team", **JAN)


def test_completed_changes_without_a_start_are_counted_for_the_page(
        con, given):
    """unauthorized_changes counts changes by their actual start: a change
    the CAB rejected and implemented anyway, with no start recorded, was in
    none of its counts. completed_without_start counts the completed ones
    (A24) with no start that needed CAB approval or do not say."""
    given("changes", [
        started("S1"),  # has a start: the rate's
        started("R1", "rejected", approved=None, start=None),
        started("R2", "rejected", approved=None, start=None,
                end=None, closed_at="2026-01-20 00:00Z"),  # closed_at dates it
        started("F1", None, approved=None, start=None, cab=None),
        started("X1", "not_required", approved=None, start=None, cab=False),
        started("K1", "rejected", approved=None, start=None,
                close_code="cancelled", state="cancelled"),  # not completed
        started("L1", "rejected", approved=None, start=None,
                end="2026-02-01 00:00Z")])  # completed after the window
    row = rate(con, "completed_without_start")
    assert (row["n"], row["n_cab_required"], row["n_cab_flag_missing"]) == \
        (3, 2, 1)
    assert (row["n_excluded"], row["n_unclassified"]) == (1, 0)  # K1
    assert rate(con, "unauthorized_changes")["n"] == 1


def test_unauthorized_records_flag_each_cab_required_change(con, given):
    given("changes", [
        started("C1", start="2026-01-15 09:00Z"),
        started("C2", approved="2026-01-16 09:00Z", start="2026-01-15 10:00Z"),
        started("C3", "rejected", approved=None, start="2026-01-15 11:00Z"),
        started("C4", cab=False),
        started("C5", start="2026-01-01 00:00Z", approved=None)])
    rows = db.run(con, "unauthorized_change_records", **JAN)
    flags = ["change_id", "is_unauthorized", "is_not_approved",
             "is_approved_after_start", "is_approval_time_missing"]
    assert rows[flags].values.tolist() == [
        ["C5", False, False, False, True],
        ["C1", False, False, False, False],
        ["C2", True, False, True, False],
        ["C3", True, True, False, False]]


def test_unauthorized_rate_is_null_without_cab_required_changes(con, given):
    given("changes", [started("C1", cab=False)])
    row = rate(con, "unauthorized_changes")
    assert (row["n"], row["n_excluded"]) == (0, 1)
    assert row["unauthorized_rate"] is None or row["unauthorized_rate"] != \
        row["unauthorized_rate"]


# --- approval_lead_time -----------------------------------------------------

def approved(change_id, hours, change_type="normal",
             approved_at="2026-01-15 12:00Z", **extra):
    from datetime import datetime, timedelta
    at = datetime.fromisoformat(approved_at.replace("Z", "+00:00"))
    created = (at - timedelta(hours=hours)).isoformat()
    return change(change_id, change_type=change_type, approval="approved",
                  approved_at=approved_at, created_at=created, **extra)


def test_approval_lead_time_per_change_type(con, given):
    given("changes", [
        approved("N1", 1), approved("N2", 2), approved("N3", 3),
        approved("N4", 10),
        approved("N5", -1),  # approved before created: invalid
        # approved, not yet implemented: still counts
        approved("N6", 100, approved_at="2026-02-01 00:00Z"),  # outside W
        approved("E1", 5, "emergency", state="scheduled", close_code=None,
                 end=None),
        change("X1", approval="approved", approved_at=None),  # outside
        change("X2", approval="rejected", approved_at="2026-01-15 12:00Z"),
    ])
    rows = by_key(db.run(con, "approval_lead_time", **JAN), "change_type")
    normal, emergency = rows["normal"], rows["emergency"]
    assert normal["median_lead_time_hours"] == pytest.approx(2.5)
    assert normal["p85_lead_time_hours"] == pytest.approx(6.85)
    assert normal["mean_lead_time_hours"] == pytest.approx(4.0)
    assert (normal["n"], normal["n_invalid"], normal["n_excluded"]) == (4, 1, 1)
    assert (emergency["n"], emergency["median_lead_time_hours"]) == (1, 5.0)
    assert set(rows) == {"normal", "emergency"}


def test_approval_lead_time_summary_pools_every_type(con, given):
    given("changes", [approved("N1", 1), approved("N2", 2), approved("N3", 3),
                      approved("N4", 10), approved("E1", 5, "emergency")])
    row = rate(con, "approval_lead_time_summary")
    assert (row["n"], row["median_lead_time_hours"]) == (5, 3.0)
    assert row["mean_lead_time_hours"] == pytest.approx(4.2)


# --- change_lead_time -------------------------------------------------------

def test_change_lead_time_runs_from_creation_to_actual_end(con, given):
    given("changes", [
        change("C1", created_at="2026-01-15 10:00Z"),  # zero: kept
        change("C2", created_at="2026-01-15 08:00Z"),
        change("C3", "unsuccessful", created_at="2026-01-15 06:00Z"),
        change("C4", created_at="2026-01-15 11:00Z"),  # negative: invalid
        change("C5", end=None, closed_at="2026-01-20 00:00Z"),  # no fallback
        change("C6", "cancelled", state="cancelled"),
        # ended, no close code, still implementing: not completed (A24)
        change("C7", None, state="implement"),
    ])
    row = rate(con, "change_lead_time")
    assert (row["n"], row["n_invalid"], row["n_excluded"],
            row["n_unclassified"]) == (3, 1, 1, 1)
    assert row["median_lead_time_hours"] == pytest.approx(2.0)
    assert row["p85_lead_time_hours"] == pytest.approx(3.4)
    assert row["mean_lead_time_hours"] == pytest.approx(2.0)


# --- completed changes (docs/metrics.md A24) ---------------------------------------

def completed_rows():
    """Four changes without a close code (a source such as BPIC 2014) and
    one implemented, one cancelled: A24 takes C1-C3 and C5."""
    start, end = "2026-01-15 08:00Z", "2026-01-15 10:00Z"
    times = {"planned_start_at": start, "planned_end_at": end,
             "actual_start_at": "2026-01-15 08:30Z",
             "created_at": "2026-01-15 06:00Z"}
    return [
        change("C1", None, state="closed", change_type="emergency", **times),
        change("C2", None, state="review", **times),
        # no actual end: completed at its close time (not for lead time)
        change("C3", None, state="closed", end=None,
               closed_at="2026-01-16 00:00Z", change_type="standard"),
        change("C4", None, state="implement", **times),
        change("C5", "successful", **{**times, "actual_start_at": start}),
        change("C6", None, state="cancelled", change_type="emergency"),
    ]


def test_completed_changes_without_close_code_feed_how_metrics(con, given):
    given("changes", completed_rows())
    row = rate(con, "emergency_change_ratio")
    assert (row["n"], row["n_emergency"], row["n_standard"],
            row["n_without_close_code"]) == (4, 1, 1, 3)
    assert row["emergency_change_ratio"] == pytest.approx(0.25)
    row = rate(con, "change_lead_time")
    # C1, C2, C5 ended 4 h after creation; C3 has no actual end; C4 not done
    assert (row["n"], row["n_unclassified"], row["n_excluded"],
            row["n_without_close_code"]) == (3, 1, 1, 2)
    assert row["median_lead_time_hours"] == pytest.approx(4.0)
    row = rate(con, "schedule_adherence")
    assert (row["n"], row["n_started_late"], row["n_on_schedule"],
            row["n_without_close_code"]) == (3, 2, 1, 2)
    # C3, completed (closed) with no actual end, is counted, not measured:
    # the four completed changes the emergency ratio counts are all said
    # (BPIC: 1,271 of 16,970 were in no count); C4, not completed, is
    # unclassified as before
    assert (row["n_without_actual_end"], row["n_unclassified"]) == (1, 1)
    assert row["n"] + row["n_without_actual_end"] == 4
    records = db.run(con, "schedule_adherence_records", **JAN)
    assert records["change_id"].tolist() == ["C1", "C2", "C5"]


def test_outcome_metrics_still_need_a_close_code_and_say_so(con, given):
    given("changes", completed_rows())
    row = rate(con)
    # only C5 has an outcome; C1-C3 are completed without a close code
    assert (row["n"], row["n_without_close_code"]) == (1, 3)
    by_period = db.run(con, "emergency_change_ratio_by_period", grain="month",
                       **JAN)
    assert by_period["n"].tolist() == [4]
    assert by_period["n_without_close_code"].tolist() == [3]


# --- schedule_adherence -----------------------------------------------------

def scheduled(change_id, start_delay, end_delay, **extra):
    from datetime import UTC, datetime, timedelta
    start = datetime(2026, 1, 15, 10, tzinfo=UTC)
    end = datetime(2026, 1, 15, 12, tzinfo=UTC)
    row = change(change_id, planned_start_at=start.isoformat(),
                 planned_end_at=end.isoformat(),
                 actual_start_at=(start + timedelta(
                     minutes=start_delay)).isoformat(),
                 end=(end + timedelta(minutes=end_delay)).isoformat())
    row.update(extra)
    return row


def schedule_rows():
    return [scheduled("S1", 0, 0), scheduled("S2", 10, 0),
            scheduled("S3", -5, 0), scheduled("S4", 0, 30),
            scheduled("S5", 20, 60), scheduled("S6", 0, 0, planned_end_at=None),
            scheduled("S7", 0, 0, close_code="cancelled", state="cancelled")]


def test_schedule_adherence_classifies_starts_and_ends(con, given):
    given("changes", schedule_rows())
    row = rate(con, "schedule_adherence")
    assert (row["n"], row["n_on_schedule"], row["n_started_late"],
            row["n_started_early"], row["n_overran"]) == (5, 1, 2, 1, 2)
    assert (row["n_unclassified"], row["n_excluded"],
            row["n_without_actual_end"]) == (1, 1, 0)
    assert row["on_schedule_rate"] == pytest.approx(0.2)
    assert row["started_late_rate"] == pytest.approx(0.4)
    assert row["started_early_rate"] == pytest.approx(0.2)
    assert row["overran_rate"] == pytest.approx(0.4)
    assert row["median_start_delay_minutes"] == pytest.approx(0.0)
    assert row["median_overrun_minutes"] == pytest.approx(45.0)


def test_schedule_tolerance_forgives_late_starts_and_ends_not_early_ones(
        con, given):
    given("changes", schedule_rows())
    row = rate(con, "schedule_adherence", tolerance_minutes=15)
    # S2 (10 min late) is now on time; S5 (20 late) and S4/S5 overruns stay
    assert (row["n_on_schedule"], row["n_started_late"],
            row["n_started_early"], row["n_overran"]) == (2, 1, 1, 2)
    row = rate(con, "schedule_adherence", tolerance_minutes=30)
    assert (row["n_overran"], row["median_overrun_minutes"]) == (1, 60.0)
    # a fraction of a minute is kept, not rounded: S2 is 10 minutes late
    for tolerance, late in ((9.6, 2), (10, 1), (9.99, 2), (600, 0)):
        row = rate(con, "schedule_adherence", tolerance_minutes=tolerance)
        records = db.run(con, "schedule_adherence_records", **JAN,
                         tolerance_minutes=tolerance)
        assert row["n_started_late"] == late, tolerance
        assert records["is_started_late"].sum() == late, tolerance


# --- failed_change_recovery_time --------------------------------------------

def recovery(con, **params):
    return rate(con, "failed_change_recovery_time", **params)


def test_devopsmetrics_recovery_case_is_reproduced(con, given):
    import json
    from datetime import UTC, datetime, timedelta

    from conftest import PEERS
    fixture = PEERS / "transcribed" / "peer_unit_cases.json"
    cases = json.loads(fixture.read_text())
    case = next(c for c in cases["devopsmetrics_cases"]
                if c["name"] == "mttr_mean_with_out_of_window")
    anchor = datetime(2024, 6, 5, 12, tzinfo=UTC)
    changes, incidents = [], []
    for k, (offset, duration) in enumerate(case["restore_items"]):
        resolved = anchor + timedelta(hours=offset)
        opened = resolved - timedelta(hours=duration)
        changes.append(change(f"C{k}", end=opened.isoformat()))
        incidents.append(incident(f"I{k}", 2, opened=opened.isoformat(),
                                  resolved=resolved.isoformat(),
                                  caused_by_change_id=f"C{k}"))
    given("changes", changes)
    given("incidents", incidents)
    row = recovery(con, start_date="2024-05-30", end_date="2024-06-06")
    assert row["n"] == 5
    assert row["median_recovery_hours"] == pytest.approx(0.8333, abs=1e-4)
    assert row["mttr_hours"] == pytest.approx(case["expect_mean_hours"])


def test_close_code_failure_starts_at_first_prod_deployment_and_ends_at_rollback(
        con, given):
    given("environments", [{"environment_id": "P", "name": "prod",
                            "tier": "prod"},
                           {"environment_id": "S", "name": "stage",
                            "tier": "staging"}])
    given("changes", [change("C1", "unsuccessful",
                             actual_start_at="2026-01-15 08:00Z")])
    given("deployments", [
        deployment("D0", "C1", env="S", finished="2026-01-15 09:00Z"),
        deployment("D1", "C1", finished="2026-01-15 10:00Z"),
        deployment("D2", "C1", finished="2026-01-15 12:00Z"),
        # a rollback before the start is no restoration
        deployment("R0", "C1", env="S", finished="2026-01-15 09:30Z",
                   is_rollback=True),
        # any environment; a failed rollback restores nothing
        deployment("R1", "C1", "failed", finished="2026-01-15 11:00Z",
                   is_rollback=True),
        deployment("R2", "C1", env="S", finished="2026-01-15 11:30Z",
                   is_rollback=True)])
    row = recovery(con, **JAN)
    assert (row["n"], row["median_recovery_hours"]) == (1, 1.5)


def test_backed_out_change_without_prod_deployment_recovers_when_backed_out(
        con, given):
    given("changes", [change("C1", "backed_out",
                             actual_start_at="2026-01-15 08:00Z")])
    row = recovery(con, **JAN)
    assert (row["n"], row["median_recovery_hours"]) == (1, 2.0)


def test_incident_failure_starts_at_first_incident_and_ends_when_all_resolved(
        con, given):
    # a late link to an old change: measured from the incidents, not the change
    given("changes", [change("C1", end="2025-06-01 00:00Z")])
    given("incidents", [
        incident("I1", opened="2026-01-15 10:00Z", resolved="2026-01-15 11:00Z",
                 caused_by_change_id="C1"),
        incident("I2", opened="2026-01-15 10:30Z", resolved="2026-01-15 13:00Z",
                 caused_by_change_id="C1")])
    row = recovery(con, **JAN)
    assert (row["n"], row["median_recovery_hours"], row["mttr_hours"]) == (
        1, 3.0, 3.0)


def test_restoration_is_the_earliest_evidence(con, given):
    given("changes", [change("C1", "backed_out",
                             actual_start_at="2026-01-15 06:00Z")])
    given("incidents", [incident("I1", opened="2026-01-15 07:00Z",
                                 resolved="2026-01-15 08:00Z",
                                 caused_by_change_id="C1")])
    assert recovery(con, **JAN)["median_recovery_hours"] == 2.0


def test_unrestored_failures_are_open_or_unmeasurable_never_measured_to_now(
        con, given):
    given("changes", [
        change("C1", "unsuccessful"), change("C2", "unsuccessful"),
        change("C3"),  # its incident is resolved after the window
        change("C4", "unsuccessful", end="2025-12-01 00:00Z"),  # outside
    ])
    given("incidents", [
        incident("I1", opened="2026-01-15 11:00Z", caused_by_change_id="C1"),
        incident("I2", opened="2026-01-15 11:00Z",
                 resolved="2026-01-15 12:00Z", caused_by_change_id="C1"),
        incident("I3", opened="2026-01-31 11:00Z",
                 resolved="2026-02-02 00:00Z", caused_by_change_id="C3")])
    row = recovery(con, **JAN)
    assert (row["n"], row["n_open"], row["n_unmeasurable"]) == (0, 1, 1)
    assert row["median_recovery_hours"] is None or \
        row["median_recovery_hours"] != row["median_recovery_hours"]


def test_restored_before_the_start_is_invalid(con, given):
    given("changes", [change("C1")])
    given("incidents", [incident("I1", opened="2026-01-15 11:00Z",
                                 resolved="2026-01-15 10:00Z",
                                 caused_by_change_id="C1")])
    row = recovery(con, **JAN)
    assert (row["n"], row["n_invalid"]) == (0, 1)


def test_min_priority_decides_which_incidents_must_be_resolved(con, given):
    given("changes", [change("C1", "backed_out",
                             actual_start_at="2026-01-15 06:00Z")])
    given("incidents", [incident("I1", 4, opened="2026-01-15 07:00Z",
                                 resolved="2026-01-15 07:30Z",
                                 caused_by_change_id="C1")])
    assert recovery(con, **JAN)["median_recovery_hours"] == 1.5
    assert recovery(con, failure_min_priority=3, **JAN)[
        "median_recovery_hours"] == 4.0



def test_recovery_reads_the_same_from_a_published_file(con, given):
    """A published file answers from stored per-change recoveries: the team
    filter keeps its changes' rows, a minimum priority is computed afresh;
    each equals the answer over the live tables."""
    given("changes", [
        change("C1", "backed_out", actual_start_at="2026-01-15 06:00Z",
               assignment_group="Blue"),
        change("C2", "backed_out", actual_start_at="2026-01-15 08:00Z",
               assignment_group="Green")])
    given("incidents", [incident("I1", 4, opened="2026-01-15 07:00Z",
                                 resolved="2026-01-15 07:30Z",
                                 caused_by_change_id="C1")])
    asks = [{}, {"teams": ["Blue"]}, {"teams": ["Green"]},
            {"failure_min_priority": 3}, {"teams": ["Blue"],
                                          "failure_min_priority": 3}]
    live = [recovery(con, **JAN, **ask) for ask in asks]
    db.materialize(con)
    assert [recovery(con, **JAN, **ask) for ask in asks] == live
    assert [(row["n"], row["median_recovery_hours"]) for row in live] == [
        (2, 1.75), (1, 1.5), (1, 2.0), (2, 3.0), (1, 4.0)]


# --- breakdowns and records -------------------------------------------------

def breakdown_rows(given):
    given("applications", [
        {"application_id": "A1", "name": "Pay", "portfolio": "Retail"},
        {"application_id": "A2", "name": "Ledger", "portfolio": None}])
    given("changes", [
        change("C1", risk="low", application_id="A1", assignment_group="Ops"),
        change("C2", "unsuccessful", risk="low", application_id="A2",
               change_type="emergency"),
        change("C3", risk=None, application_id="A1", assignment_group="Ops"),
        change("C4", "cancelled", state="cancelled", risk="high",
               application_id=None, assignment_group="Dev"),
        change("C5", None, state="review", risk="high", application_id="A2")])


@pytest.mark.parametrize("dimension, expected", [
    ("change_type", {"emergency": (1, 1), "normal": (2, 0)}),
    ("risk", {"low": (2, 1), "high": (0, 0), None: (1, 0)}),
    ("team", {"Ops": (2, 0), "Dev": (0, 0), None: (1, 1)}),
    ("application", {"A1": (2, 0), "A2": (1, 1), None: (0, 0)}),
    ("portfolio", {"Retail": (2, 0), None: (1, 1)}),
])
def test_success_rate_by_dimension_splits_the_headline(
        con, given, dimension, expected):
    breakdown_rows(given)
    rows = db.run(con, "change_success_rate_by", dimension=dimension, **JAN)
    got = {r["dimension_value"]: (r["n"], r["n_failed"])
           for r in records(rows)}
    assert got == expected
    head = rate(con)
    for column in ("n", "n_failed", "n_excluded", "n_unclassified"):
        assert rows[column].sum() == head[column], column


def test_success_rate_by_an_unknown_dimension_is_refused(con):
    import duckdb
    with pytest.raises(duckdb.InvalidInputException, match="dimension must be"):
        db.run(con, "change_success_rate_by", dimension="colour", **JAN)


def test_emergency_ratio_by_period_is_zero_filled_and_adds_up(con, given):
    given("changes", [
        change("C1", change_type="emergency", end="2024-12-30 10:00Z"),
        change("C2", change_type="normal", end="2024-12-31 10:00Z"),
        change("C3", "cancelled", change_type="emergency", state="cancelled",
               end="2025-01-07 10:00Z"),
        change("C4", change_type="standard", end="2025-01-14 10:00Z")])
    window = {"start_date": "2024-12-30", "end_date": "2025-01-17"}
    rows = db.run(con, "emergency_change_ratio_by_period", grain="week",
                  **window)
    assert rows[["period_label", "n", "n_emergency", "is_complete"]].to_dict(
        "records") == [
        {"period_label": "2025-W01", "n": 2, "n_emergency": 1,
         "is_complete": True},
        {"period_label": "2025-W02", "n": 0, "n_emergency": 0,
         "is_complete": True},
        {"period_label": "2025-W03", "n": 1, "n_emergency": 0,
         "is_complete": False}]
    assert rows["emergency_change_ratio"].tolist()[0] == pytest.approx(0.5)
    assert rows["emergency_change_ratio"].isna().tolist() == [False, True, False]
    head = db.run(con, "emergency_change_ratio", **window).iloc[0]
    assert rows["n"].sum() == head["n"] == 3
    assert rows["n_emergency"].sum() == head["n_emergency"]


def test_emergency_ratio_by_an_unknown_grain_is_refused(con):
    import duckdb
    with pytest.raises(duckdb.InvalidInputException, match="grain must be"):
        db.run(con, "emergency_change_ratio_by_period", grain="day", **JAN)


def test_change_records_are_the_rows_behind_the_success_rate(con, given):
    breakdown_rows(given)
    given("incidents", [incident("I1", caused_by_change_id="C3")])
    rows = db.run(con, "change_records", **JAN)
    assert rows[["change_id", "kind", "is_failed", "is_failed_by_close_code",
                 "is_failed_by_incident", "is_failed_by_rollback"]
                ].values.tolist() == [
        ["C1", "implemented", False, False, False, False],
        ["C2", "implemented", True, True, False, False],
        ["C3", "implemented", True, False, True, False],
        ["C4", "excluded", False, False, False, False],
        ["C5", "unclassified", False, False, False, False]]
    head = rate(con)
    assert (rows["kind"] == "implemented").sum() == head["n"]
    assert rows["is_failed"].sum() == head["n_failed"]
    # failed_only: the same rows, the failed ones alone (the CAB pack's
    # recent failures of a team)
    failed = db.run(con, "change_records", failed_only=True, **JAN)
    assert failed["change_id"].tolist() == ["C2", "C3"]
    assert failed.equals(rows[rows["is_failed"]].reset_index(drop=True))


def test_change_records_newest_first_order_by_outcome_then_id(con, given):
    """newest_first: the latest outcome first, ties by change_id (the CAB
    pack's last failures of a team, which it sorted itself)."""
    given("changes", [
        change("C1", "unsuccessful", end="2026-01-10 10:00Z"),
        change("C2", "backed_out", end="2026-01-20 10:00Z"),
        change("C4", "unsuccessful", end="2026-01-12 10:00Z"),
        change("C3", "unsuccessful", end="2026-01-12 10:00Z"),
        # its outcome when it closed, having no end
        change("C5", closed_at="2026-01-25 10:00Z", end=None)])
    rows = db.run(con, "change_records", **JAN)
    assert rows["change_id"].tolist() == ["C1", "C3", "C4", "C2", "C5"]
    newest = db.run(con, "change_records", newest_first=True, **JAN)
    assert newest["change_id"].tolist() == ["C5", "C2", "C3", "C4", "C1"]
    assert newest.equals(rows.sort_values(
        ["outcome_at", "change_id"], ascending=[False, True]
    ).reset_index(drop=True))
    failed = db.run(con, "change_records", failed_only=True,
                    newest_first=True, **JAN)
    assert failed["change_id"].tolist() == ["C2", "C3", "C4", "C1"]


def cells(frame: pd.DataFrame) -> list[list]:
    """A frame's values, a missing one None whatever its column's type."""
    return frame.astype(object).where(frame.notna(), None).values.tolist()


@pytest.mark.parametrize("dimension, column", [
    ("change_type", "change_type"), ("risk", "risk"),
    ("team", "assignment_group"), ("application", "application_id")])
def test_change_records_keep_a_breakdowns_row_and_its_none(
        con, given, dimension, column):
    """The changes behind a breakdown's row, "(none)" too, are the records
    with that value, narrowed by the query (the Changes page read a risk's
    or a (none)'s whole period and matched them itself: a year of a million
    changes 112 ms, all of them 988)."""
    breakdown_rows(given)
    every = db.run(con, "change_records", **JAN)
    values = list(every[column].drop_duplicates())
    assert len(values) >= 2
    for value in values:
        got = db.run(con, "change_records", dimension=dimension,
                     dimension_value=None if pd.isna(value) else value, **JAN)
        want = every[every[column].isna() if pd.isna(value)
                     else every[column] == value].reset_index(drop=True)
        assert list(got["change_id"]) == list(want["change_id"]), value
        # the same values (a column all null is typed by its rows)
        assert cells(got) == cells(want), value
    with pytest.raises(duckdb.Error, match="portfolio is not one of"):
        db.run(con, "change_records", dimension="portfolio",
               dimension_value="Retail", **JAN)


def test_change_records_name_the_incidents_that_fail_a_change(con, given):
    """A change failed by an incident said only is_failed_by_incident: the
    incident was found by hand in the incidents table (a process owner's
    walkthrough). incident_ids names them, in order of opening: linked to
    the change, or to one of its deployments; of the priority asked; known
    before signals_before."""
    given("changes", [change("C1"), change("C2"), change("C3")])
    given("deployments", [
        {"deployment_id": "D2", "application_id": "A", "environment_id": "P",
         "change_id": "C2", "status": "succeeded",
         "started_at": "2026-01-15 10:00Z",
         "finished_at": "2026-01-15 11:00Z"}])
    given("incidents", [
        {"incident_id": "I9", "opened_at": "2026-01-20 00:00Z",
         "caused_by_change_id": "C1", "priority": 4},
        {"incident_id": "I1", "opened_at": "2026-01-16 00:00Z",
         "caused_by_change_id": "C1", "priority": 2},
        {"incident_id": "I2", "opened_at": "2026-01-17 00:00Z",
         "caused_by_deployment_id": "D2", "priority": 1}])
    rows = db.run(con, "change_records", **JAN).set_index("change_id")
    assert rows["incident_ids"].fillna("-").to_dict() == {
        "C1": "I1, I9", "C2": "I2", "C3": "-"}
    top = db.run(con, "change_records", failure_min_priority=3,
                 **JAN).set_index("change_id")
    assert top.loc["C1", "incident_ids"] == "I1"
    then = db.run(con, "change_records", signals_before="2026-01-16 12:00Z",
                  **JAN).set_index("change_id")
    assert then["incident_ids"].fillna("-").to_dict() == {
        "C1": "I1", "C2": "-", "C3": "-"}
    # the CAB pack's words for a team's failure name them
    from reports.text import failure_signals
    assert failure_signals(rows.loc["C1"]) == "Linked incidents (I1, I9)"
    assert failure_signals(rows.loc["C2"]) == "Linked incident (I2)"


def test_change_records_read_at_an_instant_count_the_signals_known_then(
        con, given):
    """signals_before (the CAB pack's team failures at its meeting): an
    incident or rollback after it fails nothing; with failed_only, the rows
    failed then, the same as the full list's failed rows."""
    given("changes", [change("C1"), change("C2"), change("C3"),
                      change("C4", close_code="backed_out")])
    given("deployments", [
        {"deployment_id": "D2", "application_id": "A", "environment_id": "P",
         "change_id": "C2", "status": "rolled_back",
         "started_at": "2026-01-20 09:00Z"}])
    given("incidents", [
        {"incident_id": "I1", "opened_at": "2026-01-16 00:00Z",
         "caused_by_change_id": "C1"},
        {"incident_id": "I3", "opened_at": "2026-01-25 00:00Z",
         "caused_by_change_id": "C3"}])
    then = {**JAN, "signals_before": "2026-01-18 00:00Z"}
    rows = db.run(con, "change_records", **then)
    assert rows[["change_id", "is_failed", "is_failed_by_incident",
                 "is_failed_by_rollback"]].values.tolist() == [
        ["C1", True, True, False], ["C2", False, False, False],
        ["C3", False, False, False], ["C4", True, False, False]]
    failed = db.run(con, "change_records", failed_only=True, **then)
    assert failed["change_id"].tolist() == ["C1", "C4"]
    assert failed.equals(rows[rows["is_failed"]].reset_index(drop=True))
    now = db.run(con, "change_records", failed_only=True, **JAN)
    assert now["change_id"].tolist() == ["C1", "C2", "C3", "C4"]


# --- every query of this file runs on the sample database -------------------

CHANGE_QUERIES = [
    "change_success_score", "unauthorized_changes",
    "unauthorized_change_records", "approval_lead_time",
    "approval_lead_time_summary", "change_lead_time", "schedule_adherence",
    "failed_change_recovery_time", "change_success_rate_by",
    "emergency_change_ratio_by_period", "change_records"]


@pytest.mark.parametrize("name", CHANGE_QUERIES)
def test_change_query_runs_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2025-01-01", end_date="2026-01-01")
    assert list(rows.columns)


@pytest.mark.parametrize("name, column", [
    ("change_success_score", "n"), ("unauthorized_changes", "n"),
    ("approval_lead_time_summary", "n"), ("change_lead_time", "n"),
    ("schedule_adherence", "n"), ("failed_change_recovery_time", "n"),
    ("change_records", "change_id")])
def test_team_filter_narrows_every_change_query(con, given, name, column):
    given("changes", [
        scheduled(team, 0, 0, close_code="backed_out", assignment_group=team,
                  approval="approved", approved_at="2026-01-15 09:00Z",
                  is_cab_required=True)
        for team in ("Ops", "Dev")])
    everyone = db.run(con, name, **JAN)
    ops = db.run(con, name, teams=["Ops"], **JAN)
    if column == "n":
        assert (everyone[column].sum(), ops[column].sum()) == (2, 1)
    else:
        assert (len(everyone), ops[column].tolist()) == (2, ["Ops"])


# --- emergency_change_ratio_by and unauthorized_changes_by ------------------

# C5 (no close code, in review) is a completed change (docs/metrics.md A24): the
# emergency ratio counts it, the success rate above does not; C4 (cancelled)
# is n_excluded, so its team (Dev) and application (none) have rows of n = 0,
# as in the success rate's breakdown
@pytest.mark.parametrize("dimension, expected", [
    ("change_type", {"emergency": (1, 1), "normal": (3, 0)}),
    ("risk", {"low": (2, 1), "high": (1, 0), None: (1, 0)}),
    ("team", {"Ops": (2, 0), "Dev": (0, 0), None: (2, 1)}),
    ("application", {"A1": (2, 0), "A2": (2, 1), None: (0, 0)}),
    ("portfolio", {"Retail": (2, 0), None: (2, 1)}),
])
def test_emergency_ratio_by_dimension_splits_the_headline(
        con, given, dimension, expected):
    breakdown_rows(given)
    rows = db.run(con, "emergency_change_ratio_by", dimension=dimension, **JAN)
    got = {r["dimension_value"]: (r["n"], r["n_emergency"])
           for r in records(rows)}
    assert got == expected
    head = rate(con, "emergency_change_ratio")
    assert head["n_excluded"] == 1
    for column in ("n", "n_emergency", "n_normal", "n_standard",
                   "n_unclassified", "n_excluded"):
        assert rows[column].sum() == head[column], column


def test_emergency_ratio_by_keeps_a_null_key_as_its_own_row(con, given):
    breakdown_rows(given)
    rows = db.run(con, "emergency_change_ratio_by", dimension="risk", **JAN)
    # sorted, NULL last (high: C5, completed without a close code)
    assert rows["dimension_value"].tolist()[:2] == ["high", "low"]
    null_row = rows[rows["dimension_value"].isna()].iloc[0]
    assert (null_row["n"], null_row["n_emergency"]) == (1, 0)
    assert null_row["emergency_change_ratio"] == 0
    low = rows[rows["dimension_value"] == "low"].iloc[0]
    assert low["emergency_change_ratio"] == pytest.approx(0.5)


def unauthorized_rows(given):
    given("applications", [
        {"application_id": "A1", "name": "Pay", "portfolio": "Retail"}])
    given("changes", [
        started("C1", approved="2026-01-15 09:00Z", assignment_group="Ops",
                application_id="A1", risk="low"),
        started("C2", approved="2026-01-15 09:00:01Z", assignment_group="Ops",
                application_id="A1", change_type="emergency"),
        started("C3", "rejected", approved=None, risk="low"),
        started("C4", cab=False, approval="not_required",
                assignment_group="Dev", application_id="A1"),
        started("C5", cab=None, assignment_group="Dev", risk="high"),
        started("C6", None, approved=None, assignment_group="Ops"),
        started("C7", approved=None, assignment_group="Dev",
                change_type="standard")])


@pytest.mark.parametrize("dimension, expected", [
    ("change_type", {"emergency": (1, 1, 0, 0), "normal": (2, 1, 1, 2),
                     "standard": (1, 0, 0, 0)}),
    ("risk", {"low": (2, 1, 0, 0), "high": (0, 0, 0, 1),
              None: (2, 1, 1, 1)}),
    ("team", {"Dev": (1, 0, 1, 1), "Ops": (2, 1, 0, 1), None: (1, 1, 0, 0)}),
    ("application", {"A1": (2, 1, 1, 0), None: (2, 1, 0, 2)}),
    ("portfolio", {"Retail": (2, 1, 1, 0), None: (2, 1, 0, 2)}),
])
def test_unauthorized_changes_by_dimension_splits_the_headline(
        con, given, dimension, expected):
    unauthorized_rows(given)
    rows = db.run(con, "unauthorized_changes_by", dimension=dimension, **JAN)
    got = {r["dimension_value"]: (r["n"], r["n_unauthorized"],
                                  r["n_excluded"], r["n_unclassified"])
           for r in records(rows)}
    assert got == expected
    head = rate(con, "unauthorized_changes")
    for column in ("n", "n_unauthorized", "n_not_approved",
                   "n_approved_after_start",
                   "n_emergency_approved_after_start",
                   "n_approval_time_missing", "n_excluded", "n_unclassified"):
        assert rows[column].sum() == head[column], column


def test_unauthorized_changes_by_keeps_a_null_key_as_its_own_row(con, given):
    unauthorized_rows(given)
    rows = db.run(con, "unauthorized_changes_by", dimension="team", **JAN)
    assert rows["dimension_value"].tolist()[:2] == ["Dev", "Ops"]
    assert rows["dimension_value"].isna().tolist() == [False, False, True]
    null_row = rows.iloc[2]
    assert (null_row["n"], null_row["n_not_approved"],
            null_row["unauthorized_rate"]) == (1, 1, 1.0)
    assert rows.iloc[1]["unauthorized_rate"] == pytest.approx(0.5)


@pytest.mark.parametrize("name", [
    "emergency_change_ratio_by", "unauthorized_changes_by"])
def test_by_dimension_refuses_an_unknown_dimension(con, name):
    import duckdb
    with pytest.raises(duckdb.InvalidInputException, match="dimension must be"):
        db.run(con, name, dimension="colour", **JAN)


# --- schedule_adherence_records ---------------------------------------------

@pytest.mark.parametrize("tolerance", [0, 15, 30])
def test_schedule_records_are_the_rows_behind_schedule_adherence(
        con, given, tolerance):
    given("changes", schedule_rows())
    rows = db.run(con, "schedule_adherence_records",
                  tolerance_minutes=tolerance, **JAN)
    head = rate(con, "schedule_adherence", tolerance_minutes=tolerance)
    assert len(rows) == head["n"]
    for flag, count in (("is_on_schedule", "n_on_schedule"),
                        ("is_started_late", "n_started_late"),
                        ("is_started_early", "n_started_early"),
                        ("is_overran", "n_overran")):
        assert rows[flag].sum() == head[count], flag


def test_schedule_records_carry_times_delays_and_flags(con, given):
    given("changes", schedule_rows())
    rows = db.run(con, "schedule_adherence_records", **JAN)
    assert rows[["change_id", "start_delay_minutes", "overrun_minutes",
                 "is_started_late", "is_started_early", "is_overran",
                 "is_on_schedule"]].values.tolist() == [
        ["S1", 0, 0, False, False, False, True],
        ["S2", 10, 0, True, False, False, False],
        ["S3", -5, 0, False, True, False, False],
        ["S4", 0, 30, False, False, True, False],
        ["S5", 20, 60, True, False, True, False]]
    assert {"planned_start_at", "planned_end_at", "actual_start_at",
            "actual_end_at"} <= set(rows.columns)


@pytest.mark.parametrize("name", [
    "emergency_change_ratio_by", "unauthorized_changes_by",
    "schedule_adherence_records"])
def test_new_change_query_runs_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2025-01-01", end_date="2026-01-01")
    assert list(rows.columns)


# --- unauthorized_changes_by_period -----------------------------------------

def test_unauthorized_by_period_is_zero_filled_and_adds_up(con, given):
    given("changes", [
        started("C1", approved="2024-12-30 09:00Z", start="2024-12-31 09:00Z"),
        started("C2", approved="2025-01-15 09:00Z", start="2025-01-14 09:00Z"),
        started("C3", "rejected", approved=None, start="2025-01-15 09:00Z"),
        started("C4", cab=False, start="2025-01-01 09:00Z"),
        started("C5", None, approved=None, start="2025-01-02 09:00Z")])
    window = {"start_date": "2024-12-30", "end_date": "2025-01-17"}
    rows = db.run(con, "unauthorized_changes_by_period", grain="week",
                  **window)
    counts = ["n", "n_unauthorized", "n_not_approved",
              "n_approved_after_start", "n_approval_time_missing",
              "n_excluded", "n_unclassified"]
    assert rows[["period_label", "is_complete", *counts]].values.tolist() == [
        ["2025-W01", True, 1, 0, 0, 0, 0, 1, 1],
        ["2025-W02", True, 0, 0, 0, 0, 0, 0, 0],
        ["2025-W03", False, 2, 2, 1, 1, 0, 0, 0]]
    assert rows["unauthorized_rate"].tolist()[2] == pytest.approx(1.0)
    assert rows["unauthorized_rate"].isna().tolist() == [False, True, False]
    head = db.run(con, "unauthorized_changes", **window).iloc[0]
    for column in counts:
        assert rows[column].sum() == head[column], column


def test_unauthorized_by_period_refuses_an_unknown_grain(con):
    import duckdb
    with pytest.raises(duckdb.InvalidInputException, match="grain must be"):
        db.run(con, "unauthorized_changes_by_period", grain="day", **JAN)


def test_unauthorized_by_period_runs_on_the_sample_database(sample_db):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, "unauthorized_changes_by_period",
                      start_date="2025-01-01", end_date="2026-01-01")
    assert list(rows.columns)


# change_success_rate_groups: the three queries' rows from one pass


def assert_groups_equal_the_queries(con, name, **params):
    """Every frame cut from the groups query equals its query's own, column
    for column and dtype for dtype, the window before's total too (for a
    groups query that counts it: groups.compares)."""
    from datetime import date, timedelta

    import pandas as pd

    from changeboard import groups

    grain, dimension = params.pop("grain", None), params.pop("dimension", None)
    takes = db.params(name)
    rows = db.run(con, name, **params, **{
        k: v for k, v in (("grain", grain), ("dimension", dimension),
                          ("compare", True))
        if k in takes})
    frames = groups.cut(name, rows)
    headline = groups.standing_for(name)
    start, end = (date.fromisoformat(str(params[k]))
                  for k in ("start_date", "end_date"))
    before = {**params, "start_date": start - (end - start),
              "end_date": start}
    pd.testing.assert_frame_equal(frames[headline],
                                  db.run(con, headline, **params))
    if groups.compares(name):
        pd.testing.assert_frame_equal(frames[headline + groups.PREVIOUS],
                                      db.run(con, headline, **before))
    else:
        assert headline + groups.PREVIOUS not in frames
    for query, (kind, _) in groups.GROUPS[name].items():
        if kind == "period" and "grain" not in takes:  # weeks, always
            pd.testing.assert_frame_equal(frames[query],
                                          db.run(con, query, **params))
        elif kind == "period" and grain:
            pd.testing.assert_frame_equal(
                frames[query], db.run(con, query, **params, grain=grain))
        if kind == "dimension" and dimension:
            pd.testing.assert_frame_equal(
                frames[query], db.run(con, query, **params,
                                      dimension=dimension))
        elif kind == "dimension" and "dimension" not in takes:  # always one
            pd.testing.assert_frame_equal(frames[query],
                                          db.run(con, query, **params))
    assert start - (end - start) == before["start_date"] != start
    assert timedelta(0) < end - start
    return frames


@pytest.mark.parametrize("name", ["change_success_rate_groups",
                                  "emergency_change_ratio_groups",
                                  "unauthorized_changes_groups"])
@pytest.mark.parametrize(("grain", "dimension", "extra"), [
    ("week", "change_type", {}),
    ("month", "risk", {"reporting_tz": "America/New_York"}),
    ("quarter", "team", {"change_types": ["normal", "standard"]}),
    ("month", "application", {"failure_min_priority": 2}),
    ("week", "portfolio", {"tiers": ["prod"]}),
])
def test_groups_query_gives_the_three_queries_rows(sample_db, name, grain,
                                                   dimension, extra):
    from datetime import date, timedelta

    from changeboard import groups

    if "failure_min_priority" not in db.params(name):
        extra = {k: v for k, v in extra.items() if k != "failure_min_priority"}
    with db.reading(sample_db) as con:
        end = date.today() + timedelta(days=1)
        frames = assert_groups_equal_the_queries(
            con, name, start_date=end - timedelta(days=180), end_date=end,
            grain=grain, dimension=dimension, **extra)
    # the sample has changes in both windows, so the equality means counts
    headline = groups.standing_for(name)
    assert frames[headline].iloc[0]["n"] > 0
    assert frames[headline + groups.PREVIOUS].iloc[0]["n"] > 0
    assert len(frames[headline + "_by"]) > 1


def test_groups_query_counts_each_window_apart_and_empty_ones_as_zero(
        con, given):
    given("changes", [
        change("C1", end="2025-12-31 23:30Z"),      # the window before
        change("C2", "unsuccessful", end="2026-01-01 00:00Z", risk="high"),
        change("C3", end="2026-01-31 23:59Z"),      # no risk: its own row
        change("C4", None, end="2025-12-10 00:00Z", state="review"),
        change("C5", end="2025-11-30 23:00Z"),      # before both windows
    ])
    frames = assert_groups_equal_the_queries(
        con, "change_success_rate_groups", **JAN, grain="week",
        dimension="risk")
    now, before = (frames["change_success_rate" + k].iloc[0]
                   for k in ("", ":previous"))
    assert (now["n"], now["n_failed"], now["n_without_close_code"]) == (2, 1, 0)
    assert (before["n"], before["n_without_close_code"]) == (1, 1)
    risks = frames["change_success_rate_by"]["dimension_value"]
    assert (risks[0], *risks.isna()) == ("high", False, True)
    # in Berlin C1 (23:30 UTC on 31 Dec) ends in this window, C3 (23:59 UTC
    # on 31 Jan) after it, C5 (23:00 UTC on 30 Nov) in the window before
    frames = assert_groups_equal_the_queries(
        con, "change_success_rate_groups", **JAN,
        reporting_tz="Europe/Berlin")
    now, before = (frames["change_success_rate" + k].iloc[0]
                   for k in ("", ":previous"))
    assert (now["n"], now["n_failed"], before["n"]) == (2, 1, 1)
    # a window with nothing in it, nor before it: one zero total each
    frames = assert_groups_equal_the_queries(
        con, "change_success_rate_groups", start_date="2030-01-01",
        end_date="2030-02-01", grain="month", dimension="change_type")
    assert frames["change_success_rate"].iloc[0]["n"] == 0
    assert frames["change_success_rate:previous"].iloc[0]["n"] == 0
    assert frames["change_success_rate_by"].empty


def test_emergency_groups_count_each_window_apart(con, given):
    given("changes", [
        change("C1", end="2025-12-31 23:30Z", change_type="emergency"),
        change("C2", end="2026-01-01 00:00Z", change_type="emergency"),
        change("C3", None, end="2026-01-20 00:00Z", state="closed"),
        change("C4", "cancelled", end="2026-01-21 00:00Z", state="cancelled"),
    ])
    frames = assert_groups_equal_the_queries(
        con, "emergency_change_ratio_groups", **JAN, grain="week",
        dimension="change_type")
    now, before = (frames["emergency_change_ratio" + k].iloc[0]
                   for k in ("", ":previous"))
    assert (now["n"], now["n_emergency"], now["n_without_close_code"],
            now["n_excluded"]) == (2, 1, 1, 1)
    assert (before["n"], before["emergency_change_ratio"]) == (1, 1.0)
    assert list(frames["emergency_change_ratio_by"]["dimension_value"]) == [
        "emergency", "normal"]


@pytest.mark.parametrize("name", ["change_success_rate_groups",
                                  "emergency_change_ratio_groups",
                                  "unauthorized_changes_groups"])
def test_groups_query_refuses_an_unknown_dimension(con, name):
    with pytest.raises(Exception, match="dimension must be"):
        db.run(con, name, **JAN, dimension="colour")
