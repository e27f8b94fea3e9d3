"""Site overrides files for the ServiceNow and Jira adapters (ingest/overrides.py)
and the accounting of rows a mapping file merges (docs/adapters.md)."""
import json
from pathlib import Path

import pytest

import ingest
from changeboard import db
from ingest import jira, mapping, overrides, servicenow
from ingest.__main__ import main
from ingest.errors import FileError
from ingest.frames import batch

DATA = Path(__file__).resolve().parent / "data" / "overrides"
LEGACY, LEGACY_CSV = DATA / "legacy-servicenow.toml", DATA / "legacy-servicenow.csv"
WORKFLOW, WORKFLOW_CSV = DATA / "jira-workflow.toml", DATA / "jira-workflow.csv"
ADAPTERS = Path(__file__).resolve().parent / "data" / "adapters"


def rows(db_path, sql, **params):
    with db.connect(db_path, read_only=True) as con:
        return con.execute(sql, params).fetchall()


def toml(tmp_path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the form -----------------------------------------------------------------

def test_servicenow_overrides_become_the_adapter_options():
    assert overrides.options("servicenow", LEGACY) == {
        "timezone": "Europe/Berlin", "date_format": ["%d.%m.%Y %H:%M"],
        "id_prefix": "emea:",
        "columns": {"release_id": ["u_release"],
                    "environment_id": ["u_environment", "u_env"]},
        "values": {"state": {"1": "new", "2": "implement", "3": "closed",
                             "4": "closed", "7": "cancelled"},
                   "close_code": {"Backed Out": "backed_out",
                                  "Rolled back": "backed_out"}}}


def test_jira_overrides_become_the_adapter_options():
    assert overrides.options("jira", WORKFLOW) == {
        "date_format": ["%Y-%m-%d %H:%M"], "timezone": "America/New_York",
        "project_key": "OPS", "name": "jira-ops",
        "status": {"Deployed": ["closed", jira.CLOSED, None],
                   "With CAB": ["authorize", None, "requested"],
                   "Rolled back": ["closed", "backed_out", None],
                   "Withdrawn": ["cancelled", "cancelled", None]},
        "resolution": {"Shipped": "successful",
                       "Shipped with issues": "successful_with_issues"}}


def test_an_empty_code_maps_a_source_value_to_null():
    got = overrides.options("servicenow", {"values": {"close_code": {
        "Not applicable": ""}}})
    assert got == {"values": {"close_code": {"Not applicable": None}}}


@pytest.mark.parametrize("source, text, message", [
    ("servicenow", '[source]\ntimezon = "UTC"\n',
     r"site.toml: invalid servicenow overrides: \[source\] unknown key "
     r"'timezon' \(did you mean 'timezone'\?\)"),
    ("servicenow", '[source]\ntimezone = "Europe/Amsterdm"\n',
     r"site.toml: .*timezone 'Europe/Amsterdm' is not an IANA time zone"),
    ("servicenow", '[source]\ntable = "releases"\n',
     r"site.toml: .*table 'releases': servicenow exports are for table "
     "changes"),
    ("servicenow", '[columns]\nrelease_idd = "u_release"\n',
     r"site.toml: .*\[columns\] release_idd: unknown changes column "
     r"'release_idd' \(did you mean 'release_id'\?\)"),
    ("servicenow", '[columns]\nrelease_id = { from = "u_release" }\n',
     r"site.toml: .*\[columns\] release_id: give a header or a list of "
     "headers"),
    ("servicenow", '[values.stat]\n"4" = "closed"\n',
     r"site.toml: .*\[values.stat\]: unknown changes column 'stat' "
     r"\(did you mean 'state'\?\)"),
    ("servicenow", '[values.state]\n"4" = "closed_incomplete"\n',
     r"site.toml: .*\[values.state\] '4' = 'closed_incomplete': not a state "
     r"code \(allowed: new, assess, .*cancelled, or empty\)"),
    ("servicenow", '[values.title]\n"x" = "y"\n',
     r"site.toml: .*\[values.title\]: column title has no codes"),
    ("servicenow", '[status]\n"Done" = "closed"\n',
     r"site.toml: .*unknown section \[status\] \(servicenow overrides take "
     r"no \[status\]\)"),
    ("jira", '[columns]\nrelease_id = "Fix versions"\n',
     r"site.toml: invalid jira overrides: unknown section \[columns\] \(jira "
     r"overrides take no \[columns\]\)"),
    ("jira", '[status]\n"Deployed" = "done"\n',
     r"site.toml: .*\[status\] 'Deployed' = 'done': not a state code"),
    ("jira", '[status]\n"Deployed" = { state = "closed", code = "x" }\n',
     r"site.toml: .*\[status\] 'Deployed': unknown key 'code'"),
    ("jira", '[status]\n"Deployed" = { state = "closed", approval = "ok" }\n',
     r"site.toml: .*\[status\] 'Deployed' = 'ok': not a approval code"),
    ("jira", '[resolution]\n"Shipped" = "shipped"\n',
     r"site.toml: .*\[resolution\] 'Shipped' = 'shipped': not a close_code "
     "code"),
    ("jira", '[source]\nsheet = "Sheet1"\n',
     r"site.toml: .*\[source\] unknown key 'sheet'"),
    ("jira", '[source]\nissue_types = []\n',
     r"site.toml: .*\[source\] issue_types must be a text or a list of texts"),
    ("jira", '[source\n', r"site.toml: invalid overrides file"),
])
def test_a_bad_overrides_file_names_the_file_and_the_key(tmp_path, source, text,
                                                         message):
    with pytest.raises(FileError, match=message):
        overrides.options(source, toml(tmp_path, text))


def test_overrides_are_only_for_servicenow_and_jira():
    with pytest.raises(FileError, match="servicenow or jira, not 'csv'"):
        overrides.options("csv", {})


# --- through load_path and the CLI ----------------------------------------------

def test_a_legacy_state_model_site_loads_with_its_overrides(tmp_path):
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("servicenow", LEGACY_CSV, path,
                              options={"mapping": LEGACY})
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        5, 5, 0)
    assert result.warnings == []   # u_release, u_environment are read
    assert rows(path, "select change_id, state, close_code, release_id, "
                "environment_id, created_at at time zone 'UTC', source "
                "from changes order by change_id") == [
        ("emea:CHG0040001", "closed", "successful", "REL-7", "PRD-1",
         _utc("2024-03-12 08:00"), "servicenow"),
        ("emea:CHG0040002", "closed", "backed_out", "REL-7", "PRD-1",
         _utc("2024-03-13 08:00"), "servicenow"),
        ("emea:CHG0040003", "cancelled", "cancelled", None, None,
         _utc("2024-03-14 09:00"), "servicenow"),
        ("emea:CHG0040004", "implement", None, "REL-8", "UAT-2",
         _utc("2024-03-15 10:00"), "servicenow"),
        ("emea:CHG0040005", "new", None, None, None,
         _utc("2024-03-31 10:30"), "servicenow")]


def _utc(text):
    import datetime as dt
    return dt.datetime.fromisoformat(text)


def test_without_its_overrides_the_legacy_site_would_load_wrong_or_not_at_all():
    frame = servicenow.read(LEGACY_CSV, options={"date_format": "%d.%m.%Y %H:%M"})
    # the built-in model reads 4 as cancelled and knows no "Rolled back"
    assert list(frame["state"]) == ["closed", "cancelled", "7", "2", "1"]
    assert frame.loc[1, "close_code"] == "Rolled back"
    assert "release_id" not in frame
    assert any("u_release" in w for w in batch(frame).warnings)


def test_a_jira_workflow_with_other_status_names_loads_with_its_overrides(
        tmp_path):
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("jira", WORKFLOW_CSV, path,
                              options={"mapping": WORKFLOW})
    assert result.status == "succeeded", result.error
    assert (result.rows_loaded, result.rows_rejected) == (5, 0)
    assert result.source == "jira-ops"
    assert rows(path, "select change_id, state, close_code, approval, "
                "release_id, source from changes order by change_id") == [
        ("OPS-1", "closed", "successful", None, "OPS:1.2", "jira-ops"),
        ("OPS-2", "authorize", None, "requested", "OPS:1.3", "jira-ops"),
        ("OPS-3", "closed", "backed_out", None, None, "jira-ops"),
        ("OPS-4", "closed", "successful_with_issues", None, "OPS:1.2",
         "jira-ops"),
        ("OPS-5", "cancelled", "cancelled", None, None, "jira-ops")]
    assert rows(path, "select source from ingest_batches") == [("jira-ops",)]
    # 09:00 in New York (EDT from 10 March 2024) is 13:00 UTC
    assert rows(path, "select strftime(created_at at time zone 'UTC', "
                "'%H:%M') from changes where change_id = 'OPS-1'") == [
        ("13:00",)]


def test_without_its_overrides_the_jira_workflow_rejects_unknown_statuses(
        tmp_path):
    result = ingest.load_path("jira", WORKFLOW_CSV, tmp_path / "cb.duckdb",
                              options={"date_format": "%Y-%m-%d %H:%M"})
    # four statuses and one resolution the default workflow does not know
    assert result.rows_rejected == 5
    assert dict(result.reasons) == {"unmapped_code": 5}
    assert sorted(result.rejects["value"]) == [
        "Deployed", "Rolled back", "Shipped with issues", "With CAB",
        "Withdrawn"]


def test_options_given_beside_the_overrides_file_win(tmp_path):
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("servicenow", LEGACY_CSV, path, options={
        "mapping": LEGACY, "id_prefix": "apac:"})
    assert result.status == "succeeded", result.error
    assert rows(path, "select min(change_id) from changes") == [
        ("apac:CHG0040001",)]


def test_a_bad_overrides_file_fails_the_batch_before_any_row_is_read(
        tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the export was read")

    monkeypatch.setattr(servicenow, "read", never)
    bad = toml(tmp_path, '[values.state]\n"4" = "closed_incomplete"\n')
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("servicenow", LEGACY_CSV, path,
                              options={"mapping": bad})
    assert result.status == "failed"
    assert "site.toml" in result.error and "[values.state] '4'" in result.error
    assert rows(path, "select source, entity, status, error like '%site.toml%' "
                "from ingest_batches") == [
        ("servicenow", "changes", "failed", True)]
    assert rows(path, "select count(*) from changes") == [(0,)]


def test_the_cli_reads_an_overrides_file_with_mapping(tmp_path, capsys):
    path = tmp_path / "cb.duckdb"
    assert main(["jira", str(WORKFLOW_CSV), "--db", str(path), "--mapping",
                 str(WORKFLOW)]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert rows(path, "select count(*), min(source) from changes") == [
        (5, "jira-ops")]


def test_the_shipped_sample_overrides_file_is_valid():
    from sample_data import exports

    assert overrides.options("servicenow", exports.SERVICENOW_OVERRIDES)[
        "columns"] == {"release_id": ["u_release"],
                       "environment_id": ["u_environment"]}


# --- rows a mapping file merges -------------------------------------------------

def test_merged_rows_are_counted_so_every_input_row_is_accounted_for():
    frame = mapping.read(ADAPTERS / "bpic_like.csv",
                         options={"mapping": ADAPTERS / "bpic_like.toml"})
    # 6 input rows: C1's 3 rows merge into 1, C2 is 1, C3's 2 conflict
    assert batch(frame).rows_read == 6
    assert batch(frame).rows_merged == 2
    assert len(frame) + batch(frame).rows_merged == batch(frame).rows_read


def test_files_without_merging_merge_nothing():
    frame = servicenow.read(LEGACY_CSV, options=overrides.options(
        "servicenow", LEGACY))
    assert batch(frame).rows_merged == 0
    frame = mapping.read(ADAPTERS / "bpic_like.csv", options={"mapping": {
        **_bpic_like(), "source": {**_bpic_like()["source"],
                                   "duplicate_ids": "reject"}}})
    assert batch(frame).rows_merged == 0
    assert len(frame) == batch(frame).rows_read == 6


def _bpic_like() -> dict:
    import tomllib
    return tomllib.loads((ADAPTERS / "bpic_like.toml").read_text())


def test_a_merged_load_records_its_input_rows_and_merged_rows(tmp_path):
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("mapping", ADAPTERS / "bpic_like.csv", path,
                              options={"mapping": ADAPTERS / "bpic_like.toml"})
    assert result.status == "succeeded", result.error
    assert (result.rows_loaded, result.rows_rejected) == (2, 2)
    note = ("bpic_like.csv: 6 input rows: 2 merged into an earlier row of the "
            'same id (duplicate_ids = "merge"), 4 loaded or rejected')
    assert note in result.warnings
    (read, loaded, rejected, warnings), = rows(
        path, "select rows_read, rows_loaded, rows_rejected, warnings "
        "from ingest_batches")
    assert note in json.loads(warnings)
    # rows_read counts input rows; the merged ones are neither loaded nor
    # rejected
    assert (read, result.rows_merged) == (6, 2)
    assert read == loaded + rejected + result.rows_merged


def test_a_merged_load_records_the_input_rows_as_read(tmp_path):
    path = tmp_path / "cb.duckdb"
    ingest.load_path("mapping", ADAPTERS / "bpic_like.csv", path,
                     options={"mapping": ADAPTERS / "bpic_like.toml"})
    assert rows(path, "select rows_read, rows_loaded, rows_rejected, "
                "rows_merged from ingest_batches") == [(6, 2, 2, 2)]


def test_a_list_of_site_headers_is_coalesced_row_by_row(tmp_path):
    """docs/sources.md section 7: `[columns]` takes a header or a list of
    headers, coalesced row by row; an export holding both failed as 'given
    twice'."""
    import ingest
    from changeboard import db
    site = tmp_path / "site.toml"
    site.write_text('[columns]\nenvironment_id = ["u_environment", "u_env"]\n')
    export = tmp_path / "change_request.csv"
    export.write_text("number,type,state,opened_at,u_environment,u_env\n"
                      "CHG1,Normal,Closed,2024-03-12 10:00:00,PROD,\n"
                      "CHG2,Normal,Closed,2024-03-12 10:00:00,,TEST\n"
                      "CHG3,Normal,Closed,2024-03-12 10:00:00,PROD,OTHER\n")
    result = ingest.load_path("servicenow", export, tmp_path / "cb.duckdb",
                              options={"mapping": site})
    assert result.status == "succeeded", result.error
    with db.connect(tmp_path / "cb.duckdb", read_only=True) as con:
        assert con.execute("select change_id, environment_id from changes "
                           "order by 1").fetchall() == [
            ("CHG1", "PROD"), ("CHG2", "TEST"), ("CHG3", "PROD")]


def test_a_site_header_the_export_lacks_is_said(tmp_path):
    """The sample's overrides (u_release, u_environment) on an export with
    neither loaded with no word, release_id and environment_id all empty:
    the load says which overrides found no header in the file."""
    site = toml(tmp_path, '[columns]\nrelease_id = "u_release"\n'
                'environment_id = ["u_environment", "u_env"]\n')
    export = tmp_path / "change_request.csv"
    export.write_text("number,type,state,opened_at,u_env\n"
                      "CHG1,Normal,Closed,2024-03-12 10:00:00,PROD\n")
    result = ingest.load_path("servicenow", export, tmp_path / "cb.duckdb",
                              options={"mapping": site})
    assert result.status == "succeeded", result.error
    said = [w for w in result.warnings if "the overrides read" in w]
    assert said == ["change_request.csv: the overrides read release_id from "
                    "u_release, which the file does not have: release_id "
                    "stays empty"]
