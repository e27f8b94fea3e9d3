"""Deployment frequency, deployment CFR, incident attribution and DORA bands:
docs/metrics.md (shared definitions, the deployment metrics, DORA bands,
profiles), given rows."""
import duckdb
import pandas as pd
import pytest

from changeboard import db

JAN = {"start_date": "2026-01-01", "end_date": "2026-02-01"}


def env(environment_id, tier="prod"):
    return {"environment_id": environment_id, "name": environment_id,
            "tier": tier}


def dep(deployment_id, finished, status="succeeded", app="A", env_id="P",
        **extra):
    row = {"deployment_id": deployment_id, "application_id": app,
           "environment_id": env_id, "status": status,
           "started_at": "2025-12-01 00:00Z", "finished_at": finished}
    row.update(extra)
    return row


def incident(incident_id, opened, app="A", **extra):
    row = {"incident_id": incident_id, "application_id": app,
           "opened_at": opened}
    row.update(extra)
    return row


@pytest.fixture
def envs(given):
    given("environments", [env("P"), env("P2"), env("S", "staging")])


def one(con, name, **params):
    return db.run(con, name, **{**JAN, **params}).iloc[0].to_dict()


def attributed(con, **params):
    rows = db.run(con, "incident_deployment_attribution", **params)
    return {r.incident_id: (r.deployment_id if isinstance(r.deployment_id, str)
                            else None, r.how) for r in rows.itertuples()}


def is_null(value):
    return value is None or value != value


# --- deployment_frequency --------------------------------------------------

def test_only_finished_production_deployments_count(con, given, envs):
    given("deployments", [
        dep("D1", "2026-01-05 10:00Z"),
        dep("D2", "2026-01-05 11:00Z", "rolled_back"),
        dep("D3", "2026-01-06 10:00Z", "failed"),
        dep("D4", "2026-01-06 10:00Z", "cancelled"),
        dep("D5", "2026-01-06 10:00Z", "in_progress"),
        dep("D6", "2026-01-06 10:00Z", env_id="S"),
        dep("D7", "2026-01-06 10:00Z", env_id=None),
        dep("D8", "2026-01-06 10:00Z", env_id="GONE"),
    ])
    row = one(con, "deployment_frequency")
    assert (row["n"], row["deploy_days"], row["n_excluded"],
            row["n_unclassified"]) == (2, 1, 1, 2)
    assert row["deployments_per_day"] == pytest.approx(2 / 31)


def test_rollbacks_count_unless_excluded(con, given, envs):
    given("deployments", [
        dep("D1", "2026-01-05 10:00Z", "rolled_back"),
        dep("D2", "2026-01-05 11:00Z", is_rollback=True),
        dep("D3", "2026-01-07 11:00Z")])
    row = one(con, "deployment_frequency")
    assert (row["n"], row["n_rollbacks"]) == (3, 1)
    row = one(con, "deployment_frequency", exclude_rollbacks=True)
    assert (row["n"], row["n_rollbacks"], row["deploy_days"]) == (2, 1, 2)


def test_deployment_finished_exactly_at_end_date_is_outside(con, given, envs):
    given("deployments", [dep("D1", "2026-02-01 00:00Z"),
                          dep("D2", "2026-01-01 00:00Z")])
    assert one(con, "deployment_frequency")["n"] == 1


def test_deploy_days_are_local_dates(con, given, envs):
    # 23:30 UTC on 5 Jan is 00:30 on 6 Jan in Berlin
    given("deployments", [dep("D1", "2026-01-05 23:30Z"),
                          dep("D2", "2026-01-06 10:00Z")])
    assert one(con, "deployment_frequency")["deploy_days"] == 2
    assert one(con, "deployment_frequency",
               reporting_tz="Europe/Berlin")["deploy_days"] == 1


def test_week_median_uses_complete_weeks_with_zero_weeks(con, given, envs):
    # W = Thu 1 Jan .. Sat 31 Jan 2026: complete ISO weeks 5, 12, 19 Jan
    given("deployments", [
        dep("D0", "2026-01-02 10:00Z"),  # partial week: not in the median
        dep("D1", "2026-01-05 10:00Z"), dep("D2", "2026-01-06 10:00Z"),
        dep("D3", "2026-01-06 12:00Z"), dep("D4", "2026-01-13 10:00Z")])
    row = one(con, "deployment_frequency")
    assert (row["n_weeks"], row["median_deploy_days_per_week"]) == (3, 1.0)
    assert row["n_months"] == 1 and row["median_deploy_days_per_month"] == 4
    devlake = one(con, "deployment_frequency", profile="devlake")
    # weeks meeting W: [1, 2, 1, 0, 0], lower median 1
    assert (devlake["n_weeks"], devlake["median_deploy_days_per_week"]) == (
        5, 1.0)


def test_no_complete_period_gives_null_medians(con, given, envs):
    given("deployments", [dep("D1", "2026-01-05 10:00Z")])
    row = one(con, "deployment_frequency", start_date="2026-01-05",
              end_date="2026-01-09")
    assert row["n"] == 1 and row["n_weeks"] == 0
    assert is_null(row["median_deploy_days_per_week"])
    assert is_null(row["median_deploy_days_per_month"])


def test_weekly_series_is_zero_filled_iso_and_flags_cut_weeks(con, given, envs):
    given("deployments", [dep("D1", "2024-12-30 10:00Z"),
                          dep("D2", "2025-01-14 10:00Z"),
                          dep("D3", "2025-01-14 11:00Z")])
    rows = db.run(con, "deployment_frequency_by_week", start_date="2024-12-30",
                  end_date="2025-01-17")
    assert rows[["iso_week", "n_deployments", "deploy_days",
                 "is_complete"]].to_dict("records") == [
        {"iso_week": "2025-W01", "n_deployments": 1, "deploy_days": 1,
         "is_complete": True},
        {"iso_week": "2025-W02", "n_deployments": 0, "deploy_days": 0,
         "is_complete": True},
        {"iso_week": "2025-W03", "n_deployments": 2, "deploy_days": 1,
         "is_complete": False}]


def test_filters_narrow_deployments(con, given, envs):
    given("applications", [{"application_id": "A", "name": "A",
                             "portfolio": "Retail"},
                            {"application_id": "B", "name": "B",
                             "portfolio": "Core"}])
    given("deployments", [dep("D1", "2026-01-05 10:00Z"),
                          dep("D2", "2026-01-05 10:00Z", app="B")])
    assert one(con, "deployment_frequency", application_ids=["B"])["n"] == 1
    assert one(con, "deployment_frequency", portfolios=["Retail"])["n"] == 1


@pytest.mark.parametrize("name", [
    "deployment_frequency", "deployment_frequency_by_week",
    "deployment_change_failure_rate", "deployment_records"])
def test_an_unknown_profile_is_refused_even_without_data(con, name):
    with pytest.raises(duckdb.InvalidInputException, match="profile must be"):
        db.run(con, name, profile="fourkeys", **JAN)


# --- incident attribution ---------------------------------------------------

def test_inference_is_strict_unless_inclusive(con, given, envs):
    given("deployments", [dep("D1", "2026-01-05 10:00Z"),
                          dep("D2", "2026-01-06 10:00Z")])
    given("incidents", [incident("I1", "2026-01-06 10:00Z")])
    assert attributed(con) == {"I1": ("D1", "inferred")}
    assert attributed(con, attribution_inclusive=True) == {
        "I1": ("D2", "inferred")}


def test_inference_ties_break_on_deployment_id_and_stay_in_the_application(
        con, given, envs):
    given("deployments", [dep("D1", "2026-01-05 10:00Z"),
                          dep("D2", "2026-01-05 10:00Z"),
                          dep("D9", "2026-01-05 11:00Z", app="B"),
                          dep("D8", "2026-01-05 11:00Z", env_id="S")])
    given("incidents", [incident("I1", "2026-01-06 10:00Z"),
                        incident("I2", "2026-01-06 10:00Z", app=None),
                        incident("I3", "2026-01-01 10:00Z")])
    assert attributed(con) == {"I1": ("D2", "inferred"),
                               "I2": (None, "unattributed"),
                               "I3": (None, "unattributed")}


def test_explicit_deployment_link_is_kept_even_for_a_staging_deployment(
        con, given, envs):
    given("deployments", [dep("D1", "2026-01-05 10:00Z"),
                          dep("D2", "2026-01-05 11:00Z", env_id="S")])
    given("incidents", [incident("I1", "2026-01-06 10:00Z",
                                 caused_by_deployment_id="D2")])
    assert attributed(con) == {"I1": ("D2", "explicit_deployment")}
    row = one(con, "deployment_change_failure_rate")
    assert (row["n"], row["n_failed"]) == (1, 0)  # D1 is not re-attributed


def test_change_link_takes_latest_deployment_before_else_earliest(
        con, given, envs):
    given("deployments", [
        dep("D1", "2026-01-05 10:00Z", change_id="C1"),
        dep("D2", "2026-01-07 10:00Z", change_id="C1"),
        dep("D3", "2026-01-09 10:00Z", change_id="C1"),
        dep("D4", "2026-01-08 10:00Z", change_id="C2"),
        dep("D5", "2026-01-09 10:00Z", change_id="C2"),
        dep("D6", "2026-01-04 10:00Z")])
    given("incidents", [
        incident("I1", "2026-01-07 10:00Z", caused_by_change_id="C1"),  # <=
        incident("I2", "2026-01-02 10:00Z", caused_by_change_id="C2"),
        incident("I3", "2026-01-10 10:00Z", caused_by_change_id="C9")])
    assert attributed(con) == {"I1": ("D2", "explicit_change"),
                               "I2": ("D4", "explicit_change"),
                               "I3": (None, "unattributed")}


# --- deployment_change_failure_rate -----------------------------------------

def test_rolled_back_and_followed_by_a_rollback_fail(con, given, envs):
    given("deployments", [
        dep("D1", "2026-01-05 10:00Z", "rolled_back"),
        dep("D2", "2026-01-06 10:00Z"),
        dep("D3", "2026-01-06 11:00Z", is_rollback=True),
        dep("D4", "2026-01-07 10:00Z", env_id="P2"),  # next in P2 is D5
        dep("D5", "2026-01-09 10:00Z", env_id="P2"),
        dep("D6", "2026-01-09 12:00Z", is_rollback=True, status="failed"),
    ])
    row = one(con, "deployment_change_failure_rate")
    assert (row["n"], row["n_failed"], row["n_failed_by_rollback"],
            row["n_excluded"]) == (5, 2, 2, 1)
    records = db.run(con, "deployment_records", **JAN).set_index(
        "deployment_id")
    assert records["is_failed"].to_dict() == {
        "D1": True, "D2": True, "D3": False, "D4": False, "D5": False}
    assert records.loc["D2", "is_followed_by_rollback"]


def test_a_deployments_record_names_its_application_and_environment(
        con, given):
    """The Overview's deployment records showed the environment as a bare
    id beside the application's name: each record names both (a
    production deployment is one to an environment of tier prod, so a
    loaded one)."""
    given("applications", [{"application_id": "A", "name": "Payments"}])
    given("environments", [
        {"environment_id": "ENV-0511", "name": "PGW-UK-PRD", "tier": "prod"},
        {"environment_id": "ENV-0600", "name": "PGW-DE-PRD", "tier": "prod"}])
    given("deployments", [dep("D1", "2026-01-05 10:00Z", env_id="ENV-0511"),
                          dep("D2", "2026-01-06 10:00Z", env_id="ENV-0600")])
    records = db.run(con, "deployment_records", **JAN)
    assert records[["deployment_id", "application_name", "environment_id",
                    "environment_name"]].values.tolist() == [
        ["D1", "Payments", "ENV-0511", "PGW-UK-PRD"],
        ["D2", "Payments", "ENV-0600", "PGW-DE-PRD"]]


def test_a_rollback_without_a_finish_follows_what_it_started_after(
        con, given, envs):
    """A succeeded rollback whose finish time is missing sorted last (NULLs
    last) and failed the newest deployment; it follows the deployment that
    finished before it started."""
    given("deployments", [
        dep("D1", "2026-01-05 10:00Z"),
        dep("D2", None, is_rollback=True, started_at="2026-01-05 11:00Z"),
        dep("D3", "2026-01-20 10:00Z"),
    ])
    records = db.run(con, "deployment_records", **JAN).set_index(
        "deployment_id")
    assert records["is_failed"].to_dict() == {"D1": True, "D3": False}
    row = one(con, "deployment_change_failure_rate")
    assert (row["n"], row["n_failed"]) == (2, 1)
    row = one(con, "deployment_change_failure_rate", profile="devlake")
    assert (row["n"], row["n_failed"]) == (2, 1)


def test_signals_overlap_and_a_deployment_fails_once(con, given, envs):
    given("deployments", [dep("D1", "2026-01-05 10:00Z", "rolled_back"),
                          dep("D2", "2026-01-08 10:00Z")])
    given("incidents", [incident("I1", "2026-01-05 12:00Z"),
                        incident("I2", "2026-01-05 13:00Z"),
                        incident("I3", "2026-01-04 13:00Z")])
    row = one(con, "deployment_change_failure_rate")
    assert (row["n"], row["n_failed"], row["n_failed_by_rollback"],
            row["n_failed_by_incident"], row["n_inferred"],
            row["n_incidents_unattributed"]) == (2, 1, 1, 1, 1, 1)
    assert row["rate"] == pytest.approx(0.5)


def test_incident_after_the_window_fails_a_deployment_in_it(con, given, envs):
    given("deployments", [dep("D1", "2026-01-30 10:00Z")])
    given("incidents", [incident("I1", "2026-02-03 10:00Z")])
    assert one(con, "deployment_change_failure_rate")["n_failed"] == 1


def test_no_deployments_gives_null_rate(con):
    row = one(con, "deployment_change_failure_rate")
    assert row["n"] == 0 and is_null(row["rate"])


# --- DORA bands --------------------------------------------------------------

def test_band_set_holds_the_devlake_thresholds(con):
    rows = con.execute(
        "select metric, level, statistic, op, cast(threshold as double) "
        "from metric_bands() where band_set = 'dora2023-devlake' "
        "order by metric, list_position(['elite','high','medium','low'], "
        "level)").fetchall()
    assert rows == [
        ("deployment_change_failure_rate", "elite",
         "deployment_change_failure_rate", "<=", 0.05),
        ("deployment_change_failure_rate", "high",
         "deployment_change_failure_rate", "<=", 0.10),
        ("deployment_change_failure_rate", "medium",
         "deployment_change_failure_rate", "<=", 0.15),
        ("deployment_change_failure_rate", "low",
         "deployment_change_failure_rate", ">", 0.15),
        ("deployment_frequency", "elite", "median_deploy_days_per_week",
         ">=", 5),
        ("deployment_frequency", "high", "median_deploy_days_per_week",
         ">=", 1),
        ("deployment_frequency", "medium", "median_deploy_days_per_month",
         ">=", 1),
        ("deployment_frequency", "low", "median_deploy_days_per_month",
         "<", 1),
        ("failed_change_recovery_time", "elite", "median_recovery_hours",
         "<", 1),
        ("failed_change_recovery_time", "high", "median_recovery_hours",
         "<", 24),
        ("failed_change_recovery_time", "medium", "median_recovery_hours",
         "<", 168),
        ("failed_change_recovery_time", "low", "median_recovery_hours",
         ">=", 168),
        ("lead_time", "elite", "median_lead_time_hours", "<", 24),
        ("lead_time", "high", "median_lead_time_hours", "<", 168),
        ("lead_time", "medium", "median_lead_time_hours", "<", 720),
        ("lead_time", "low", "median_lead_time_hours", ">=", 720)]


def summary(con, **params):
    return db.run(con, "dora_summary", **{**JAN, **params}).set_index("metric")


def test_the_summary_counts_what_each_deployment_metric_leaves_out(
        con, given, envs):
    """C6: the two deployment rows carry their queries' n_excluded (failed
    production deployments) and n_unclassified (to an environment not
    loaded), and deployment frequency the complete weeks under its weekly
    median; lead time and recovery time none."""
    given("deployments", [
        dep("D1", "2026-01-05 10:00Z"), dep("D2", "2026-01-06 10:00Z"),
        dep("D3", "2026-01-07 10:00Z", "failed"),
        dep("D4", "2026-01-08 10:00Z", "failed", env_id="S"),  # staging
        dep("D5", "2026-01-09 10:00Z", env_id="GONE"),
        dep("D6", "2026-01-10 10:00Z", "rolled_back", env_id="GONE"),
        dep("D7", "2026-02-03 10:00Z", "failed")])  # after the window
    rows = summary(con)
    frequency = one(con, "deployment_frequency")
    failure = one(con, "deployment_change_failure_rate")
    got = rows[["n", "n_weeks", "n_excluded", "n_unclassified"]]
    # complete ISO weeks in January 2026: 5-11, 12-18 and 19-25 (the 1st
    # is a Thursday; the week of the 26th ends on 1 February, outside)
    assert got.loc["deployment_frequency"].tolist() == [2, 3, 1, 2]
    assert got.loc["deployment_frequency"].tolist() == [
        frequency[k] for k in ("n", "n_weeks", "n_excluded",
                               "n_unclassified")]
    assert [failure[k] for k in ("n", "n_excluded", "n_unclassified")] == [
        2, 1, 2]
    assert got.loc["deployment_change_failure_rate", "n_excluded"] == 1
    assert got.loc["deployment_change_failure_rate", "n_unclassified"] == 2
    assert pd.isna(got.loc["deployment_change_failure_rate", "n_weeks"])
    for metric in ("lead_time", "failed_change_recovery_time"):
        assert got.loc[metric, ["n_weeks", "n_excluded",
                                "n_unclassified"]].isna().all(), metric


@pytest.mark.parametrize("n_failed, level", [
    (0, "elite"), (1, "elite"), (2, "high"), (3, "medium"), (4, "low")])
def test_cfr_band_edges_compare_as_integers(con, given, envs, n_failed, level):
    given("deployments", [
        dep(f"D{i:02}", f"2026-01-{1 + i:02} 10:00Z",
            "rolled_back" if i < n_failed else "succeeded")
        for i in range(20)])
    row = summary(con).loc["deployment_change_failure_rate"]
    assert row["raw_value"] == pytest.approx(n_failed / 20)
    assert (row["n"], row["band_level"]) == (20, level)
    assert row["band_set"] == "dora2023-devlake" and row["is_interpretation"]


def test_rate_band_edge_is_exact_where_floats_are_not(con):
    # numerator <= threshold * denominator in decimals: the edge is met
    holds = con.execute(
        "select band_holds('<=', 7 / 100, 7, 100, 0.07::decimal(18, 6)), "
        "band_holds('<=', 8 / 100, 8, 100, 0.07::decimal(18, 6)), "
        "band_holds('<=', null, 0, 0, 0.07::decimal(18, 6))").fetchone()
    assert holds == (True, False, None)


FEB = {"start_date": "2026-02-01", "end_date": "2026-03-01"}
# complete ISO weeks of FEB start on 2, 9 and 16 Feb; the month is complete


@pytest.mark.parametrize("days_per_week, level", [
    (5, "elite"), (4, "high"), (1, "high")])
def test_frequency_band_edges_on_week_medians(con, given, envs,
                                              days_per_week, level):
    given("deployments", [
        dep(f"D{w}{d}", f"2026-02-{2 + 7 * w + d:02} 10:00Z")
        for w in range(3) for d in range(days_per_week)])
    row = summary(con, **FEB).loc["deployment_frequency"]
    assert row["raw_value"] == days_per_week
    assert (row["band_level"], row["level_statistic"]) == (
        level, "median_deploy_days_per_week")


def test_frequency_band_falls_back_to_the_month_median(con, given, envs):
    given("deployments", [dep("D1", "2026-02-01 10:00Z")])  # a Sunday
    row = summary(con, **FEB).loc["deployment_frequency"]
    assert row["raw_value"] == 0
    assert (row["band_level"], row["level_statistic"], row["level_value"]) == (
        "medium", "median_deploy_days_per_month", 1)


def test_frequency_band_low_needs_data_and_none_gives_no_level(con, given,
                                                               envs):
    window = {"start_date": "2026-02-01", "end_date": "2026-03-15"}
    assert is_null(summary(con, **window).loc["deployment_frequency",
                                              "band_level"])
    given("deployments", [dep("D1", "2026-03-10 10:00Z")])  # cut week/month
    row = summary(con, **window).loc["deployment_frequency"]
    assert (row["band_level"], row["level_value"]) == ("low", 0)


def test_frequency_band_of_a_period_without_deployments_in_data_with_some(
        con, given, envs):
    """Deployments loaded, none in the period: its medians are a real 0,
    and the low band is m < 1 with data (docs/metrics.md DORA bands):
    deployments loaded, whatever their date. The period read 0.0 with no
    band, as if there were no data. With a complete month it is low; with
    complete weeks but no complete month nothing tells medium from low."""
    given("deployments", [dep("D1", "2026-03-10 10:00Z")])  # after FEB
    row = summary(con, **FEB).loc["deployment_frequency"]
    assert (row["raw_value"], row["n"]) == (0, 0)
    assert (row["band_level"], row["level_statistic"], row["level_value"]) == (
        "low", "median_deploy_days_per_month", 0)
    # complete weeks of 2, 9 and 16 Feb, no complete month: no level
    weeks = summary(con, start_date="2026-02-02",
                    end_date="2026-02-23").loc["deployment_frequency"]
    assert (weeks["raw_value"], weeks["n"]) == (0, 0)
    assert is_null(weeks["band_level"])


def test_frequency_band_needs_deployments_of_the_chosen_applications(
        con, given, envs):
    """Filtered to an application with no deployment loaded at all, the
    period read 0.0 in the low band because another application's were
    loaded: DevLake's low is 'data present' per project, N/A when none is
    collected. It has no band, and its note says why; its raw value is
    NULL, not a measured 0.0 (`changeboard query dora_summary` printed
    0.0 beside 'no deployment is loaded')."""
    given("applications", [
        {"application_id": "A", "name": "a", "portfolio": "Pay"},
        {"application_id": "B", "name": "b", "portfolio": "Core"}])
    given("deployments", [dep("D1", "2026-03-10 10:00Z")])  # A's, after FEB
    for scope in ({"application_ids": ["B"]}, {"portfolios": ["Core"]}):
        row = summary(con, **FEB, **scope).loc["deployment_frequency"]
        assert is_null(row["raw_value"]) and row["n"] == 0
        assert is_null(row["band_level"])
        assert row["note"] == ("no band: no deployment is loaded for the "
                               "chosen applications")
    row = summary(con, **FEB, application_ids=["A"]).loc[
        "deployment_frequency"]
    assert (row["band_level"], is_null(row["note"])) == ("low", True)


def test_with_no_deployment_loaded_the_frequency_has_no_value(con):
    """No deployment of any date: the median of the period's empty weeks
    read 0.0 (the CLI printed it beside 'no band: no deployment is
    loaded', where the page reads n/a): it is NULL, with n = 0."""
    row = summary(con, **FEB).loc["deployment_frequency"]
    assert is_null(row["raw_value"]) and row["n"] == 0
    assert is_null(row["band_level"])
    assert row["note"] == "no band: no deployment is loaded"


def test_lead_time_is_never_banded_and_no_data_gives_no_level(con):
    rows = summary(con)
    assert rows.index.tolist() == [
        "deployment_frequency", "deployment_change_failure_rate", "lead_time",
        "failed_change_recovery_time"]
    # lead time: we store no code lead time; recovery: no restored change
    assert rows.loc[["lead_time", "failed_change_recovery_time"],
                    "band_level"].isna().all()


# --- every query of this area runs on the sample ----------------------------

@pytest.mark.parametrize("name", [
    "deployment_frequency", "deployment_frequency_by_week",
    "deployment_change_failure_rate", "deployment_records", "dora_summary",
    "release_on_time", "release_on_time_by_application", "release_records",
    "release_cadence", "release_cadence_summary", "release_cadence_by_month",
    "release_cadence_groups", "release_slip_days"])
def test_deployment_and_release_query_runs_on_the_sample_database(sample_db,
                                                                  name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2025-01-01", end_date="2026-01-01")
    assert list(rows.columns)


def test_attribution_runs_on_the_sample_database(sample_db):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, "incident_deployment_attribution")
    assert set(rows["how"]) <= {"explicit_deployment", "explicit_change",
                                "inferred", "unattributed"}


# --- failed_change_recovery_time in dora_summary ------------------------------

def backed_out(change_id, hours):
    # a backed-out change without production deployment recovers from its
    # actual start to its back-out (its actual end)
    from datetime import UTC, datetime, timedelta
    start = datetime(2026, 1, 15, 10, tzinfo=UTC)
    return {"change_id": change_id, "change_type": "normal", "state": "closed",
            "created_at": "2025-12-01 09:00Z", "close_code": "backed_out",
            "actual_start_at": start.isoformat(),
            "actual_end_at": (start + timedelta(hours=hours)).isoformat()}


@pytest.mark.parametrize("hours, level", [
    (0.5, "elite"), (1, "high"), (23.5, "high"), (24, "medium"),
    (167.5, "medium"), (168, "low")])
def test_recovery_band_edges_are_strict_below_1_24_and_168_hours(
        con, given, hours, level):
    given("changes", [backed_out("C1", hours)])
    row = summary(con).loc["failed_change_recovery_time"]
    assert (row["raw_value"], row["n"], row["band_level"]) == (hours, 1, level)
    assert (row["statistic"], row["level_statistic"], row["unit"]) == (
        "median_recovery_hours", "median_recovery_hours", "hours")
    assert "per failed change" in row["note"]


def test_recovery_in_summary_is_the_median_over_changes_restored_in_window(
        con, given):
    # C3 is restored after the window: not in the sample
    given("changes", [backed_out("C1", 1), backed_out("C2", 3),
                      backed_out("C3", 24 * 20)])
    row = summary(con).loc["failed_change_recovery_time"]
    assert (row["raw_value"], row["n"], row["band_level"]) == (2.0, 2, "high")
    head = db.run(con, "failed_change_recovery_time", **JAN).iloc[0]
    assert (row["raw_value"], row["n"]) == (head["median_recovery_hours"],
                                           head["n"])


def test_recovery_in_summary_is_narrowed_by_the_change_filters(con, given):
    """With a team picked, the Releases page showed the team's recovery time
    ("n/a", n = 0) under the band of every team's ("Medium band") and said
    the section was "not filtered by team": the summary's recovery row takes
    the change filters, as its own query, so its value, n and band are the
    team's; the deployment rows do not take them."""
    given("changes", [{**backed_out("C1", 2), "assignment_group": "Ops"},
                      {**backed_out("C2", 48), "assignment_group": "Web"},
                      {**backed_out("C3", 50), "assignment_group": "Web"}])
    every = summary(con).loc["failed_change_recovery_time"]
    assert (every["raw_value"], every["n"], every["band_level"]) == (
        48.0, 3, "medium")
    for teams, expected in ((["Ops"], (2.0, 1, "high")),
                            (["Nobody"], (None, 0, None))):
        row = summary(con, teams=teams).loc["failed_change_recovery_time"]
        got = tuple(None if is_null(v) else v
                    for v in row[["raw_value", "n", "band_level"]])
        assert got == expected
        head = db.run(con, "failed_change_recovery_time", **JAN,
                      teams=teams).iloc[0]
        assert row["n"] == head["n"]
    assert "teams" not in db.params("deployment_frequency")


def test_recovery_without_a_restored_failed_change_has_no_level(con, given):
    given("changes", [{**backed_out("C1", 1), "close_code": "unsuccessful"}])
    given("incidents", [incident("I1", "2026-01-15 12:00Z",
                                 caused_by_change_id="C1")])  # unresolved
    row = summary(con).loc["failed_change_recovery_time"]
    assert row["n"] == 0
    assert is_null(row["raw_value"]) and is_null(row["band_level"])


# --- deployment_change_failure_rate by period and by application ------------

Q1 = {"start_date": "2026-01-01", "end_date": "2026-04-01"}


def cfr_split_rows(given):
    given("deployments", [
        dep("D1", "2026-01-05 10:00Z", "rolled_back"),
        dep("D2", "2026-01-20 10:00Z"),  # I1 is inferred to it
        dep("D3", "2026-03-03 10:00Z", "failed", app="B"),  # excluded
        dep("D4", "2026-03-04 10:00Z", app="B"),
        dep("D5", "2026-03-10 10:00Z", app="B")])
    given("incidents", [incident("I1", "2026-01-21 10:00Z"),
                        incident("I2", "2026-03-05 10:00Z", app="C"),
                        incident("I3", "2026-03-06 10:00Z", app=None)])


CFR_COUNTS = ["n", "n_failed", "n_failed_by_rollback", "n_failed_by_incident",
              "n_inferred", "n_incidents_unattributed", "n_excluded",
              "n_unclassified"]


def test_cfr_by_period_is_zero_filled_and_adds_up_to_the_headline(
        con, given, envs):
    cfr_split_rows(given)
    rows = db.run(con, "deployment_change_failure_rate_by_period",
                  grain="month", **Q1)
    assert rows[["period_label", *CFR_COUNTS]].values.tolist() == [
        ["2026-01", 2, 2, 1, 1, 1, 0, 0, 0],
        ["2026-02", 0, 0, 0, 0, 0, 0, 0, 0],
        ["2026-03", 2, 0, 0, 0, 0, 2, 1, 0]]
    assert rows["is_complete"].tolist() == [True, True, True]
    assert rows["rate"].tolist()[0] == pytest.approx(1.0)
    assert rows["rate"].isna().tolist() == [False, True, False]
    head = db.run(con, "deployment_change_failure_rate", **Q1).iloc[0]
    for column in CFR_COUNTS:
        assert rows[column].sum() == head[column], column
    assert (head["n"], head["n_failed"]) == (4, 2)


def test_cfr_by_period_flags_weeks_cut_by_the_window(con, given, envs):
    given("deployments", [dep("D1", "2026-01-02 10:00Z")])
    rows = db.run(con, "deployment_change_failure_rate_by_period",
                  grain="week", start_date="2026-01-01",
                  end_date="2026-01-14")
    assert rows[["period_label", "n", "is_complete"]].values.tolist() == [
        ["2026-W01", 1, False], ["2026-W02", 0, True], ["2026-W03", 0, False]]


def test_cfr_by_period_refuses_an_unknown_grain(con):
    with pytest.raises(duckdb.InvalidInputException, match="grain must be"):
        db.run(con, "deployment_change_failure_rate_by_period", grain="day",
               **JAN)


def test_cfr_by_application_splits_the_headline_with_a_null_row(
        con, given, envs):
    cfr_split_rows(given)
    rows = db.run(con, "deployment_change_failure_rate_by_application", **Q1)
    assert is_null(rows["application_id"].iloc[-1])
    rows["application_id"] = rows["application_id"].fillna("<null>")
    assert rows[["application_id", *CFR_COUNTS]].values.tolist() == [
        ["A", 2, 2, 1, 1, 1, 0, 0, 0],
        ["B", 2, 0, 0, 0, 0, 0, 1, 0],
        ["C", 0, 0, 0, 0, 0, 1, 0, 0],
        ["<null>", 0, 0, 0, 0, 0, 1, 0, 0]]
    assert rows["rate"].isna().tolist() == [False, False, True, True]
    head = db.run(con, "deployment_change_failure_rate", **Q1).iloc[0]
    for column in CFR_COUNTS:
        assert rows[column].sum() == head[column], column


@pytest.mark.parametrize("name", [
    "deployment_change_failure_rate_by_period",
    "deployment_change_failure_rate_by_application"])
def test_cfr_split_runs_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2025-01-01", end_date="2026-01-01")
    assert list(rows.columns)


# --- one pass over the window (issue 12) ----------------------------------------

@pytest.mark.parametrize("profile", ["default", "devlake"])
def test_frequency_medians_are_those_of_the_weekly_series(sample_db, profile):
    """deployment_frequency counts its weeks from the same per-day pass as
    deployment_frequency_by_week: its week median is the series' median
    (complete weeks; every week meeting W in the devlake profile)."""
    window = {"start_date": "2025-03-01", "end_date": "2025-09-01",
              "profile": profile}
    with db.connect(sample_db, read_only=True) as con:
        head = db.run(con, "deployment_frequency", **window).iloc[0]
        weeks = db.run(con, "deployment_frequency_by_week", **window)
    if profile == "default":
        weeks = weeks[weeks["is_complete"]]
        median = weeks["deploy_days"].median()
    else:  # the lower median
        median = sorted(weeks["deploy_days"])[(len(weeks) - 1) // 2]
    assert head["n_weeks"] == len(weeks) > 20
    assert head["median_deploy_days_per_week"] == median
    assert head["n"] >= weeks["n_deployments"].sum() > 0


def test_window_outcomes_carry_the_signals_stored_for_all_history(sample_db):
    """deployment_outcomes reads the window's part of the stored table (every
    deployment key with its signals, in finish order): a deployment's
    signals are those stored for it."""
    with db.connect(sample_db, read_only=True) as con:
        records = db.run(con, "deployment_records", start_date="2025-01-01",
                         end_date="2025-07-01")
        stored = con.execute(
            "select deployment_id, kind, finished_at, is_rolled_back, "
            "is_followed_by_rollback, n_incidents "
            "from derived_deployment_failures").df()
    assert stored["finished_at"].dropna().is_monotonic_increasing
    # every key is stored; only production deployments carry signals
    others = stored[stored["kind"] != "deployment"]
    assert "excluded" in set(others["kind"]) <= {"excluded", "unclassified"}
    assert not others[["is_rolled_back", "is_followed_by_rollback"]].any(
        axis=None) and (others["n_incidents"] == 0).all()
    stored = stored[stored["kind"] == "deployment"]
    joined = records.merge(stored, on="deployment_id", how="left",
                           suffixes=("", "_stored"))
    assert len(joined) == len(records) > 0
    for column in ("is_rolled_back", "is_followed_by_rollback",
                   "n_incidents"):
        assert (joined[column] == joined[f"{column}_stored"]).all(), column
    assert joined["is_failed"].sum() > 0


def test_local_timestamp_in_utc_is_the_zones_wall_clock(con):
    """local_timestamp reads UTC wall-clock time off the instant (issue 12):
    the value timezone() gives, for instants before 1970 and to the
    microsecond; other zones go through timezone() itself."""
    differ = con.execute("""
        with instants as (
            select to_timestamp(i * 7777.123457 - 2e9) as t,
                   ['UTC', 'Europe/Berlin', 'Asia/Kolkata'][i % 3 + 1] as tz
            from range(60000) as r (i)
        )
        select count(*) filter (
            where local_timestamp(t, tz) is distinct from timezone(tz, t)),
            count(*) filter (where tz = 'UTC')
        from instants""").fetchone()
    assert differ == (0, 20000)


def test_a_devlake_pipeline_counts_for_every_application_it_deploys(
        con, given, envs):
    """profile=devlake keys a pipeline's units by release_id under its
    smallest application id: a filter on another of its applications
    dropped it, although DevLake counts it for every project it touches."""
    given("applications", [{"application_id": "A", "name": "a",
                            "portfolio": "PA"},
                           {"application_id": "B", "name": "b",
                            "portfolio": "PB"}])
    given("deployments", [dep("D1", "2026-01-05 10:00Z", app="A",
                              release_id="R1"),
                          dep("D2", "2026-01-05 10:05Z", app="B",
                              release_id="R1"),
                          dep("D3", "2026-01-07 10:00Z", app="A")])
    for scope, n in (({}, 2), ({"application_ids": ["B"]}, 1),
                     ({"application_ids": ["A"]}, 2),
                     ({"portfolios": ["PB"]}, 1)):
        row = one(con, "deployment_frequency", profile="devlake", **scope)
        assert row["n"] == n, scope
        row = one(con, "deployment_change_failure_rate", profile="devlake",
                  **scope)
        assert row["n"] == n, scope
    # the default profile: each deployment its own application
    assert one(con, "deployment_frequency",
               application_ids=["B"])["n"] == 1


@pytest.mark.parametrize("extra", [
    {}, {"profile": "devlake"}, {"exclude_rollbacks": True},
    {"reporting_tz": "Asia/Kolkata", "portfolios": ["Payments"]},
])
@pytest.mark.parametrize("days", [90, 365])
def test_deployment_groups_give_the_frequency_and_weekly_rows(
        sample_db, days, extra):
    """deployment_frequency_groups: its total, the window before's and its
    weeks equal deployment_frequency (both windows) and
    deployment_frequency_by_week, column for column."""
    from datetime import date, timedelta

    from tests.test_change_metrics import assert_groups_equal_the_queries

    end = date.today() + timedelta(days=1)
    with db.reading(sample_db) as con:
        frames = assert_groups_equal_the_queries(
            con, "deployment_frequency_groups",
            start_date=end - timedelta(days=days), end_date=end, **extra)
    now = frames["deployment_frequency"].iloc[0]
    assert now["n"] > 0 and frames["deployment_frequency:previous"].iloc[0][
        "n"] > 0
    assert frames["deployment_frequency_by_week"]["n_deployments"].sum() \
        == now["n"]


def test_deployment_groups_of_windows_without_deployments(con, given):
    """Windows without a deployment, in data that has one (a year later):
    a real 0. With none loaded at all, n/a: `deployment_frequency` said
    0.0 deployments a day of BPIC 2014, which loads none, where the DORA
    panel says n/a (nothing was measured)."""
    from tests.test_change_metrics import assert_groups_equal_the_queries

    window = {"start_date": "2026-01-05", "end_date": "2026-02-02"}
    none = assert_groups_equal_the_queries(
        con, "deployment_frequency_groups", **window)
    for key in ("deployment_frequency", "deployment_frequency:previous"):
        row = none[key].iloc[0]
        assert (row["n"], row["deploy_days"], row["n_weeks"]) == (0, 0, 4)
        assert pd.isna(row["median_deploy_days_per_week"])
        assert pd.isna(row["deployments_per_day"])
    given("deployments", [dep("D1", "2027-01-05 10:00Z")])
    frames = assert_groups_equal_the_queries(
        con, "deployment_frequency_groups", **window)
    for key in ("deployment_frequency", "deployment_frequency:previous"):
        row = frames[key].iloc[0]
        assert (row["n"], row["deploy_days"], row["n_weeks"],
                row["median_deploy_days_per_week"],
                row["deployments_per_day"]) == (0, 0, 4, 0, 0)
    assert list(frames["deployment_frequency_by_week"]["iso_week"]) == [
        "2026-W02", "2026-W03", "2026-W04", "2026-W05"]
