"""Our deployment metrics against peer test data (docs/metrics.md,
"Verifying against peers").

DevLake's e2e CSVs, copied into tests/fixtures/peers/ with their licence, are
mapped to the canonical tables as that section says; the Middleware and
DevOpsMetrics cases were transcribed by hand into peer_unit_cases.json
(tests/fixtures/peers/README.md has their origin).
"""
import csv
import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import PEERS

from changeboard import db

DORA_E2E = PEERS / "devlake" / "backend" / "plugins" / "dora" / "e2e"
CONNECT = DORA_E2E / "connect_incident_to_deployment"
TRANSCRIBED = PEERS / "transcribed" / "peer_unit_cases.json"

SEPTEMBER = {"start_date": "2022-09-01", "end_date": "2022-10-01"}
PROJECT1 = {**SEPTEMBER, "application_ids": ["project1"]}
STATUS = {"SUCCESS": "succeeded", "FAILURE": "failed"}
TIER = {"PRODUCTION": "prod", "STAGING": "staging"}


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_devlake(given, grain):
    """DevLake's connect-incident fixture, at 'unit' or 'deployment' grain."""
    mapping = read(CONNECT / "raw_tables" / "project_mapping.csv")
    project_of = {(m["table"], m["row_id"]): m["project_name"] for m in mapping}
    given("applications", [
        {"application_id": p, "name": p}
        for p in sorted({m["project_name"] for m in mapping
                         if m["table"] == "cicd_scopes"})])
    given("environments", [{"environment_id": env, "name": env, "tier": tier}
                           for env, tier in TIER.items()])
    units = read(CONNECT / "prev_success_deployment_commit"
                 / "cicd_deployment_commits_after.csv")
    rows = [{"deployment_id": u["id"], "release_id": u["cicd_deployment_id"],
             "application_id": project_of[("cicd_scopes", u["cicd_scope_id"])],
             "environment_id": u["environment"] or None,
             "status": STATUS[u["result"]], "started_at": u["started_date"],
             "finished_at": u["finished_date"]} for u in units]
    if grain == "deployment":
        rows = collapse(rows)
    given("deployments", rows)
    given("incidents", [
        {"incident_id": i["id"], "opened_at": i["created_date"] + "Z",
         "application_id": project_of.get((i["table"], i["scope_id"]))}
        for i in read(CONNECT / "raw_tables" / "incidents.csv")])


def collapse(units):
    """Deployment grain: one row per cicd_deployment_id, finished_at = the
    latest finish of its SUCCESS rows (of all rows when none succeeded)."""
    by_id = {}
    for u in units:
        by_id.setdefault(u["release_id"], []).append(u)
    rows = []
    for deployment_id, group in sorted(by_id.items()):
        ok = [u for u in group if u["status"] == "succeeded"] or group
        rows.append({
            "deployment_id": deployment_id,
            "application_id": group[0]["application_id"],
            "environment_id": group[0]["environment_id"],
            "status": ok[0]["status"],
            "started_at": min(u["started_at"] for u in group),
            "finished_at": max(u["finished_at"] for u in ok)})
    return rows


def attribution_map(con, **params):
    rows = db.run(con, "incident_deployment_attribution", **params)
    return {r.incident_id: (r.deployment_id if isinstance(r.deployment_id, str)
                            else None, r.how)
            for r in rows.itertuples()}


# --- DevLake: incident -> deployment --------------------------------------

def test_devlake_attribution_table_is_reproduced_row_for_row(con, given):
    load_devlake(given, "unit")
    expected = {(r["id"], r["project_name"], r["deployment_id"]) for r in read(
        CONNECT / "snapshot_tables"
        / "project_incident_deployment_relationships.csv")}
    rows = db.run(con, "incident_deployment_attribution", profile="devlake")
    got = {(r.incident_id, r.application_id, r.deployment_id)
           for r in rows.itertuples() if isinstance(r.deployment_id, str)}
    assert len(expected) == 6
    assert got == expected
    unattributed = rows[rows["how"] == "unattributed"]["incident_id"].tolist()
    assert unattributed == ["github:GithubIssue:1:1373792477"]  # repo3 unmapped


def test_default_profile_at_deployment_grain_takes_pipeline1_for_the_early_incident(
        con, given):
    load_devlake(given, "deployment")
    got = attribution_map(con)
    # 09-15 01:56:16 comes before pipeline2 finished (06:51:47), when only
    # one of its units was done: the default grain goes back to pipeline1
    assert got["github:GithubIssue:1:1373792478"] == ("pipeline1", "inferred")
    assert {v for k, v in got.items() if k.endswith(("1367714738", "1370816458",
            "1371320153", "1372381019", "1372644519"))} == {
        ("pipeline7", "inferred")}
    assert got["github:GithubIssue:1:1373792477"] == (None, "unattributed")


# --- DevLake: deployment change failure rate ------------------------------

def test_devlake_cfr_is_two_of_five_through_pipeline2_and_pipeline7(con, given):
    load_devlake(given, "unit")
    row = db.run(con, "deployment_change_failure_rate", profile="devlake",
                 **PROJECT1).iloc[0]
    assert (row["n"], row["n_failed"], row["n_failed_by_incident"],
            row["n_failed_by_rollback"], row["n_inferred"]) == (5, 2, 2, 0, 2)
    assert row["rate"] == pytest.approx(0.40)
    records = db.run(con, "deployment_records", profile="devlake", **PROJECT1)
    assert records["deployment_id"].tolist() == [
        "pipeline1", "pipeline2", "pipeline4", "pipeline6", "pipeline7"]
    assert records[records["is_failed"]]["deployment_id"].tolist() == [
        "pipeline2", "pipeline7"]


def test_default_cfr_is_two_of_five_through_pipeline1_and_pipeline7(con, given):
    load_devlake(given, "deployment")
    row = db.run(con, "deployment_change_failure_rate", **PROJECT1).iloc[0]
    assert (row["n"], row["n_failed"], row["n_inferred"]) == (5, 2, 2)
    assert row["rate"] == pytest.approx(0.40)
    records = db.run(con, "deployment_records", **PROJECT1)
    failed = records[records["is_failed"]]
    assert failed["deployment_id"].tolist() == ["pipeline1", "pipeline7"]
    assert failed["n_inferred_incidents"].tolist() == [1, 5]


def test_unmapped_incident_failed_and_unclassified_rows_are_counted(con, given):
    load_devlake(given, "deployment")
    row = db.run(con, "deployment_change_failure_rate", **SEPTEMBER).iloc[0]
    # all projects: project2's pipeline9 counts, pipeline8 failed, pipeline10
    # has no environment, repo3's incident has no application
    assert (row["n"], row["n_excluded"], row["n_unclassified"],
            row["n_incidents_unattributed"]) == (6, 1, 1, 1)


# --- DevLake: deployment frequency and cadence -----------------------------

def test_default_deployment_frequency_uses_complete_weeks(con, given):
    load_devlake(given, "deployment")
    row = db.run(con, "deployment_frequency", **PROJECT1).iloc[0]
    assert (row["n"], row["deploy_days"], row["n_weeks"]) == (5, 5, 3)
    assert row["median_deploy_days_per_week"] == 2.0  # [0, 3, 2]
    assert row["median_deploy_days_per_month"] == 5.0
    weeks = db.run(con, "deployment_frequency_by_week", **PROJECT1)
    assert weeks[["iso_week", "deploy_days", "is_complete"]].to_dict(
        "records") == [
        {"iso_week": "2022-W35", "deploy_days": 0, "is_complete": False},
        {"iso_week": "2022-W36", "deploy_days": 0, "is_complete": True},
        {"iso_week": "2022-W37", "deploy_days": 3, "is_complete": True},
        {"iso_week": "2022-W38", "deploy_days": 2, "is_complete": True},
        {"iso_week": "2022-W39", "deploy_days": 0, "is_complete": False}]


@pytest.mark.parametrize("grain", ["deployment", "unit"])
def test_devlake_deployment_frequency_uses_every_week_and_the_lower_median(
        con, given, grain):
    load_devlake(given, grain)
    row = db.run(con, "deployment_frequency", profile="devlake",
                 **PROJECT1).iloc[0]
    assert (row["n"], row["n_weeks"], row["n_months"]) == (5, 5, 1)
    assert row["median_deploy_days_per_week"] == 0.0  # [0, 0, 3, 2, 0]
    assert row["median_deploy_days_per_month"] == 5.0


def test_dora_bands_of_the_devlake_fixture(con, given):
    load_devlake(given, "deployment")
    levels = {profile: db.run(con, "dora_summary", profile=profile, **PROJECT1)
              .set_index("metric")["band_level"].to_dict()
              for profile in ("default", "devlake")}
    assert levels["default"]["deployment_frequency"] == "high"
    assert levels["devlake"]["deployment_frequency"] == "medium"
    assert levels["default"]["deployment_change_failure_rate"] == "low"


def test_cadence_of_deployments_has_gaps_3_2_4_3(con, given):
    load_devlake(given, "deployment")
    row = db.run(con, "release_cadence_summary", basis="deployments",
                 **PROJECT1).iloc[0]
    assert (row["n_releases"], row["n_gaps"]) == (5, 4)
    assert row["median_gap_days"] == 3.0


# --- Transcribed unit cases: Middleware and DevOpsMetrics ------------------

ANCHOR = datetime(2024, 6, 5, 12, tzinfo=UTC)
ALL_TIME = {"start_date": "2024-01-01", "end_date": "2025-01-01"}


def at(hours):
    return (ANCHOR + timedelta(hours=hours)).isoformat()


def transcribed(section):
    return json.loads(TRANSCRIBED.read_text())[section]


def one_application(given, deployments, incidents=()):
    given("environments", [{"environment_id": "P", "name": "prod",
                            "tier": "prod"}])
    if deployments:
        given("deployments", deployments)
    if incidents:
        given("incidents", [{"incident_id": f"I{h}", "application_id": "A",
                             "opened_at": at(h)} for h in incidents])


def deployment(deployment_id, hours, status="succeeded"):
    return {"deployment_id": deployment_id, "application_id": "A",
            "environment_id": "P", "status": status,
            "started_at": at(hours - 1), "finished_at": at(hours)}


@pytest.mark.parametrize("case", transcribed("middleware_cases"),
                         ids=lambda c: c["name"])
@pytest.mark.parametrize("inclusive", [False, True])
def test_middleware_cfr_cases(con, given, case, inclusive):
    one_application(given, [deployment(f"D{h}", h) for h in case["deployments_h"]],
                    case["incidents_h"])
    row = db.run(con, "deployment_change_failure_rate",
                 attribution_inclusive=inclusive, **ALL_TIME).iloc[0]
    expected = case.get("expect_cfr_ours",
                        case["expect_cfr_pct_middleware"] / 100)
    assert row["n"] == len(case["deployments_h"])
    if expected is None:
        assert row["rate"] != row["rate"]  # NULL, where Middleware says 0
    else:
        assert row["rate"] == pytest.approx(expected)
    attribution = db.run(con, "incident_deployment_attribution",
                         attribution_inclusive=inclusive)
    got = {str(h): [] for h in case["deployments_h"]}
    for r in attribution.itertuples():
        if isinstance(r.deployment_id, str):
            got[r.deployment_id[1:]].append(float(r.incident_id[1:]))
    expect_map = {k: [float(v) for v in vs]
                  for k, vs in case["expect_map"].items()}
    assert {k: sorted(v) for k, v in got.items()} == {
        k: sorted(v) for k, v in expect_map.items()}
    mapped = sum(len(v) for v in expect_map.values())
    assert row["n_incidents_unattributed"] == len(case["incidents_h"]) - mapped


def test_devopsmetrics_five_deployments_in_seven_days(con, given):
    case = {c["name"]: c for c in transcribed("devopsmetrics_cases")}[
        "df_five_in_seven_days"]
    one_application(given, [deployment(f"D{h}", h)
                            for h in case["deployments_h"]])
    row = db.run(con, "deployment_frequency", start_date="2024-05-30",
                 end_date="2024-06-06").iloc[0]
    assert row["n"] == 5
    assert row["deployments_per_day"] == pytest.approx(5 / 7)
    assert round(row["deployments_per_day"], 4) == case["expect_per_day"]


@pytest.mark.parametrize("case", [
    c for c in transcribed("devopsmetrics_cases") if "outcomes" in c],
    ids=lambda c: c["name"])
def test_devopsmetrics_cfr_cases(con, given, case):
    # a failed item is a deployment that was rolled back
    one_application(given, [
        deployment(f"D{i}", -24 * i, "succeeded" if ok else "rolled_back")
        for i, ok in enumerate(case["outcomes"])])
    end = ANCHOR.date() + timedelta(days=1)
    start = end - timedelta(days=case["window_days"])
    row = db.run(con, "deployment_change_failure_rate", start_date=str(start),
                 end_date=str(end)).iloc[0]
    expected = case.get("expect_rate", case.get("expect_rate_ours"))
    assert row["n"] == len(case["outcomes"])
    if expected is None:
        assert row["rate"] != row["rate"]  # NULL, where DevOpsMetrics says -1
    else:
        assert row["rate"] == pytest.approx(expected)
