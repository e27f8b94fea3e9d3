"""C10 (docs/metrics.md): every metric's rows end with `as_of`, the end of
the last succeeded load, so a number exported or scripted says which data
it was measured on."""
import pandas as pd
import pytest

from changeboard import db

# every metric family (its headline, breakdowns, periods and groups query)
METRICS = (
    "approval_lead_time", "approval_lead_time_groups",
    "approval_lead_time_histogram", "approval_lead_time_summary",
    "change_lead_time", "change_success_rate", "change_success_rate_by",
    "change_success_rate_by_period", "change_success_rate_groups",
    "change_success_score", "deployment_change_failure_rate",
    "deployment_change_failure_rate_by_application",
    "deployment_change_failure_rate_by_period", "deployment_frequency",
    "deployment_frequency_by_week", "deployment_frequency_groups",
    "dora_summary", "emergency_change_ratio", "emergency_change_ratio_by",
    "emergency_change_ratio_by_period", "emergency_change_ratio_groups",
    "failed_change_recovery_time", "release_cadence",
    "release_cadence_by_month", "release_cadence_groups",
    "release_cadence_summary", "release_cadence_summary_groups",
    "release_on_time", "release_on_time_by_application",
    "release_on_time_groups", "release_slip_days", "schedule_adherence",
    "unauthorized_changes", "unauthorized_changes_by",
    "unauthorized_changes_by_period", "unauthorized_changes_groups",
    "environment_utilization", "environment_utilization_summary",
    "booking_conflicts_by_environment", "booking_conflicts_summary",
    "environment_impact_matrix",
    "environment_impact_matrix_by_group", "environment_impact_release_totals",
    "environment_impact_environment_totals", "environment_impact_group_totals",
    "application_incidents", "release_timeline_summary")
# release_readiness judges at its own $as_of (default: now), which its rows
# carry as as_of
VALUES = {"start_date": "2024-01-01", "end_date": "2027-01-01",
          "dimension": "team", "grain": "month"}


@pytest.mark.parametrize("name", METRICS)
def test_every_row_of_a_metric_says_the_last_loads_end(sample_db, name):
    with db.reading(sample_db) as con:
        loaded = db.run(con, "data_status")["as_of"].iloc[0]
        rows = db.run(con, name, **{p: v for p, v in VALUES.items()
                                    if p in db.params(name)})
    assert len(rows) and not pd.isna(loaded)
    assert "as_of" in rows.columns
    assert (rows["as_of"] == loaded).all(), rows["as_of"].unique()


def test_as_of_is_null_before_any_load_and_the_given_instant_when_given(
        con, given):
    given("changes", [{"change_id": "C1", "change_type": "normal",
                       "state": "closed", "close_code": "successful",
                       "created_at": "2026-01-01 09:00Z",
                       "actual_end_at": "2026-01-15 10:00Z"}])
    given("releases", [{"release_id": "R1", "name": "R1", "status": "released",
                        "planned_release_at": "2026-01-10 09:00Z",
                        "actual_release_at": "2026-01-12 10:00Z"}])
    jan = {"start_date": "2026-01-01", "end_date": "2026-02-01"}
    rate = db.run(con, "change_success_rate", **jan).iloc[0]
    assert rate["n"] == 1 and pd.isna(rate["as_of"])
    on_time = db.run(con, "release_on_time", as_of="2026-03-01 12:00",
                     reporting_tz="Europe/Berlin", **jan).iloc[0]
    assert on_time["n"] == 1
    assert on_time["as_of"] == pd.Timestamp("2026-03-01 11:00Z")
