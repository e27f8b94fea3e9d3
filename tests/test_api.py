"""API sources against fake ServiceNow and Jira servers on 127.0.0.1: paging,
incremental sync, faults, resume, and secrets kept out of everything."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from apifakes import (
    FakeJira,
    FakeServiceNow,
    always,
    jira_issue,
    once,
    sn_record,
)

from changeboard import auth, db
from ingest import api, jira_api, servicenow_api
from ingest.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "tok-SECRET-7f3a9c"
PASSWORD = "pw-SECRET-e81d44"


@pytest.fixture
def slept():
    return []


@pytest.fixture
def retry(slept):
    """Retries that record their waits instead of sleeping; short timeouts,
    but not so short that a fake answering slowly on a loaded machine is
    retried: with a read timeout of 1 s, a CI run beside a browser pass
    fetched the first page twice, and the test of records moving between
    pages counted none fetched again. The timeout faults stall STALL s."""
    return api.Retry(sleep=slept.append, timeout=(2.0, READ_TIMEOUT))


READ_TIMEOUT = 4.0  # seconds a read waits for the fake
STALL = READ_TIMEOUT + 2.0  # a "timeout" fault's wait: past the read's


def stamp(minute: int) -> str:
    return f"2026-03-02 {10 + minute // 60:02d}:{minute % 60:02d}:00"


def sn_records(n: int, start: int = 0) -> list[dict]:
    return [sn_record(f"CHG{1000 + i}", stamp(start + i)) for i in range(n)]


def fake_client(server, retry):
    """A client of a fake server, with the test token as a bearer token."""
    return api.Client(server.url, name="fake",
                      headers={"Authorization": f"Bearer {TOKEN}"},
                      retry=retry, secrets=(TOKEN,), credentials_hint="TOKEN")


def sn_sync(server, db_path, retry, **kw):
    source = servicenow_api.ServiceNowApi(fake_client(server, retry),
                                          page_size=kw.pop("page_size", 10),
                                          query=kw.pop("query", ""))
    return api.sync(source, db_path, **kw)


def rows(db_path, sql, **params):
    with db.connect(db_path, read_only=True) as con:
        return con.execute(sql, params).fetchall()


def changes(db_path):
    return dict(rows(db_path, "select change_id, strftime(updated_at, "
                     "'%Y-%m-%d %H:%M:%S') from changes"))


def syncs(db_path):
    with db.connect(db_path, read_only=True) as con:
        return con.execute("select * from api_syncs order by sync_id").df()


def sn_queries(server):
    return [r.params.get("sysparm_query", "") for r in server.log
            if r.path.endswith("change_request")]


# --- ServiceNow: the happy path and incremental syncs ----------------------

def test_servicenow_sync_loads_every_page_mapped_like_the_csv_export(
        tmp_path, retry):
    records = sn_records(25)
    records[0].update(state="4", close_code="", approval="rejected",
                      risk="1", priority="1")
    with FakeServiceNow(records, token=TOKEN) as server:
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "succeeded", run.error
    assert (run.pages, run.records_read, run.rows_loaded) == (3, 25, 25)
    got = rows(tmp_path / "cb.duckdb",
               "select change_id, change_type, state, close_code, approval, "
               "risk, priority, application_id, assignment_group, source "
               "from changes where change_id in ('CHG1000', 'CHG1001') "
               "order by change_id")
    assert got == [
        ("CHG1000", "normal", "cancelled", "rejected", "rejected",
         "very_high", 1, "Payments", "Network", "servicenow"),
        ("CHG1001", "normal", "closed", "successful", "approved", "low", 4,
         "Payments", "Network", "servicenow")]
    batches = rows(tmp_path / "cb.duckdb", "select source, file_name, "
                   "rows_read, rows_loaded from ingest_batches")
    assert batches == [("servicenow",
                        server.url + "/api/now/table/change_request", 25, 25)]
    state = syncs(tmp_path / "cb.duckdb").iloc[0]
    assert state["status"] == "succeeded"
    assert str(state["watermark_at"]).startswith("2026-03-02 10:24:00")
    # who ran it: the sync and each batch it committed (the command line)
    assert state["run_by"] == run.run_by == auth.cli_actor()
    assert rows(tmp_path / "cb.duckdb", "select distinct loaded_by from "
                "ingest_batches") == [(auth.cli_actor(),)]
    first = server.log[0].params
    assert first["sysparm_display_value"] == "all"
    assert first["sysparm_query"] == "ORDERBYsys_updated_on"
    assert "sys_id" in first["sysparm_fields"].split(",")


def test_second_sync_reads_from_ten_minutes_before_the_watermark_and_updates_in_place(
        tmp_path, retry):
    records = sn_records(30)
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(records, token=TOKEN) as server:
        sn_sync(server, db_path, retry)
        records[5].update(sys_updated_on=stamp(40), state="-1",
                          close_code="")
        records.append(sn_record("CHG2000", stamp(41)))
        server.log.clear()
        run = sn_sync(server, db_path, retry)
    assert run.status == "succeeded", run.error
    assert sn_queries(server)[0] == ("sys_updated_on>=2026-03-02 10:19:00"
                                     "^ORDERBYsys_updated_on")
    assert len(changes(db_path)) == 31
    assert rows(db_path, "select state, close_code from changes where "
                "change_id = 'CHG1005'") == [("implement", None)]
    assert str(syncs(db_path).iloc[-1]["watermark_at"]).startswith(
        "2026-03-02 10:41:00")


def test_sync_with_nothing_new_succeeds_and_keeps_the_watermark(tmp_path, retry):
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(sn_records(5), token=TOKEN) as server:
        sn_sync(server, db_path, retry)
        server.records.clear()
        run = sn_sync(server, db_path, retry)
    assert (run.status, run.records_read) == ("succeeded", 0)
    marks = syncs(db_path)["watermark_at"].astype(str).tolist()
    assert marks[0] == marks[1] and marks[0].startswith("2026-03-02 10:04:00")


def test_a_site_query_is_added_and_a_malformed_one_refused(tmp_path, retry):
    records = sn_records(6)
    records[0]["assignment_group"] = "Database"
    with FakeServiceNow(records, token=TOKEN) as server:
        run = sn_sync(server, tmp_path / "cb.duckdb", retry,
                      query="assignment_group=Network")
        assert sn_queries(server)[0] == ("assignment_group=Network"
                                         "^ORDERBYsys_updated_on")
        with pytest.raises(api.ApiError, match="cannot read condition"):
            sn_sync(server, tmp_path / "cb.duckdb", retry,
                    query="assignment_group=Network^oops")
    assert run.rows_loaded == 5


# --- ServiceNow: faults ------------------------------------------------------

PAGE = "/api/now/table/change_request"
RECOVERABLE = {
    "500s": [once(("status", 500, {}, b"{}"), path=PAGE, nth=2),
             once(("status", 503, {}, b"{}"), path=PAGE, nth=3)],
    "timeout": [once(("sleep", STALL), path=PAGE, nth=2)],
    "dropped connection mid-page": [once(("drop",), path=PAGE, nth=2)],
    "malformed JSON": [once(("body", b'{"result": [{"number": '), path=PAGE,
                            nth=2)],
}


@pytest.mark.parametrize("fault", list(RECOVERABLE))
def test_servicenow_sync_recovers_from(fault, tmp_path, retry, slept):
    with FakeServiceNow(sn_records(25), token=TOKEN) as server:
        server.faults = RECOVERABLE[fault]
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "succeeded", run.error
    assert len(changes(tmp_path / "cb.duckdb")) == 25
    assert rows(tmp_path / "cb.duckdb", "select count(*) from changes "
                "group by change_id having count(*) > 1") == []
    assert slept and all(0 < s < 5 for s in slept)


def test_429_waits_the_retry_after_seconds(tmp_path, retry, slept):
    with FakeServiceNow(sn_records(15), token=TOKEN) as server:
        server.faults = [once(("status", 429, {"Retry-After": "7"}, b"{}"),
                              path=PAGE, nth=2)]
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "succeeded"
    assert slept == [7.0]
    assert len(changes(tmp_path / "cb.duckdb")) == 15


def test_backoff_grows_with_jitter_and_gives_up_after_five_retries(
        tmp_path, retry, slept):
    with FakeServiceNow(sn_records(5), token=TOKEN) as server:
        server.faults = [always(("status", 502, {}, b"{}"), path=PAGE)]
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "failed"
    assert "HTTP 502" in run.error and "gave up after 6 attempts" in run.error
    assert len(slept) == 5
    for wait, step in zip(slept, (1, 2, 4, 8, 16), strict=True):
        assert step * 0.75 <= wait <= step * 1.25


def test_one_attempt_or_answer_reads_in_the_singular(tmp_path, slept):
    """'gave up after 1 attempts' with no retries configured; a progress
    line of one record read '1 records'."""
    with FakeServiceNow(sn_records(5), token=TOKEN) as server:
        server.faults = [always(("status", 502, {}, b"{}"), path=PAGE)]
        run = sn_sync(server, tmp_path / "a.duckdb",
                      api.Retry(sleep=slept.append, backoff=()))
        assert run.status == "failed"
        assert run.error.endswith("gave up after 1 attempt"), run.error
        server.faults = [always(("status", 429, {"Retry-After": "1"}, b"{}"),
                                path=PAGE)]
        run = sn_sync(server, tmp_path / "b.duckdb",
                      api.Retry(sleep=slept.append, max_rate_limited=0))
        assert run.error.endswith("gave up after 1 rate-limited answer"), \
            run.error

    class Run:
        source, pages, records_read, rows_loaded = "servicenow", 1, 1, 1
    assert Progress().line(Run()) == "servicenow: 1 page, 1 record, 1 loaded"
    assert Progress().line(Run(), 1).endswith("1 page, 1/1 record, 1 loaded")


def test_waiting_longer_than_the_limit_fails_the_sync(tmp_path, slept):
    retry = api.Retry(sleep=slept.append, max_wait=60)
    with FakeServiceNow(sn_records(5), token=TOKEN) as server:
        server.faults = [always(("status", 429, {"Retry-After": "45"}, b"{}"),
                                path=PAGE)]
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "failed" and "gave up after waiting 45 s" in run.error
    assert slept == [45.0]


def test_an_empty_page_is_not_the_end(tmp_path, retry):
    """Limits apply before ACLs: a page can be empty with more to come."""
    with FakeServiceNow(sn_records(25), token=TOKEN) as server:
        server.faults = [once(("status", 200, {"Link": (
            f'<{server.url}{PAGE}?sysparm_offset=20&sysparm_limit=10&'
            'sysparm_display_value=all&sysparm_fields=number,sys_updated_on,'
            'type,state,opened_at&sysparm_query=ORDERBYsys_updated_on>;'
            'rel="next"')}, b'{"result": []}'), path=PAGE, nth=2)]
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "succeeded", run.error
    # the page served empty is found by the key check and fetched
    assert len(changes(tmp_path / "cb.duckdb")) == 25
    assert run.fetched_again == 10


def test_records_changing_between_pages_are_all_loaded_once(tmp_path, retry):
    records = sn_records(30)
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(records, token=TOKEN) as server:
        def touch(offset):
            if offset == 0:   # a record of page 1 moves to the end
                records[2].update(sys_updated_on=stamp(50), risk="2")
        server.after_page = touch
        run = sn_sync(server, db_path, retry)
    assert run.status == "succeeded", run.error
    assert run.fetched_again == 1   # the record offset paging skipped
    loaded = changes(db_path)
    assert len(loaded) == 30
    assert loaded["CHG1002"] == stamp(50)
    assert rows(db_path, "select risk from changes where change_id = "
                "'CHG1002'") == [("high",)]


def test_a_page_failing_after_all_retries_keeps_what_was_committed_and_the_watermark(
        tmp_path, retry):
    records = sn_records(30)
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(records[:10], token=TOKEN) as server:
        sn_sync(server, db_path, retry)          # watermark 10:09
        server.records[:] = records
        server.faults = [lambda r: None if r.params.get("sysparm_offset") in (
            None, "0") else ("body", b"<html>proxy error</html>")]
        failed = sn_sync(server, db_path, retry, commit_every=10)
        assert failed.status == "failed"
        assert "not JSON" in failed.error and "proxy error" in failed.error
        state = syncs(db_path)
        assert state["status"].tolist() == ["succeeded", "failed"]
        assert state["watermark_at"].isna().tolist() == [False, True]
        assert str(state.iloc[1]["cursor_at"]).startswith("2026-03-02 10:09:00")
        # what the failed run committed is kept
        assert len(changes(db_path)) == 10
        # resumed: from the last committed record, not from the start
        server.faults = []
        server.log.clear()
        resumed = sn_sync(server, db_path, retry)
    assert resumed.status == "succeeded", resumed.error
    assert sn_queries(server)[0].startswith("sys_updated_on>=2026-03-02 09:59:00")
    assert len(changes(db_path)) == 30
    assert str(syncs(db_path).iloc[-1]["watermark_at"]).startswith(
        "2026-03-02 10:29:00")


def test_a_resumed_sync_continues_after_the_last_committed_page(tmp_path, retry):
    records = sn_records(40)
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(records, token=TOKEN) as server:
        server.faults = [lambda r: ("status", 500, {}, b"{}")
                         if r.params.get("sysparm_offset") == "20" else None]
        failed = sn_sync(server, db_path, retry, commit_every=10)
        assert failed.status == "failed" and len(changes(db_path)) == 20
        server.faults = []
        server.log.clear()
        resumed = sn_sync(server, db_path, retry)
    assert resumed.status == "succeeded"
    assert sn_queries(server)[0].startswith("sys_updated_on>=2026-03-02 10:09:00")
    # cursor 10:19 (last committed record) less the 10-minute overlap: 10:09
    assert resumed.records_read == 31    # 11 re-read in the overlap, 20 new
    assert len(changes(db_path)) == 40


def test_a_sync_and_its_batches_finish_after_they_start(tmp_path, retry):
    with FakeServiceNow(sn_records(25), token=TOKEN) as server:
        sn_sync(server, tmp_path / "cb.duckdb", retry, page_size=5,
                commit_every=10)
    for table in ("api_syncs", "ingest_batches"):
        times = rows(tmp_path / "cb.duckdb",
                     f"select started_at, finished_at from {table}")
        assert times and all(s <= f for s, f in times), (table, times)


def test_wrong_credentials_fail_at_once_with_a_clear_message(tmp_path, retry,
                                                             slept):
    with FakeServiceNow(sn_records(5), token="another-token") as server:
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
        assert len(server.log) == 1
    assert run.status == "failed" and slept == []
    assert "HTTP 401" in run.error and "credentials were refused" in run.error
    assert syncs(tmp_path / "cb.duckdb")["status"].tolist() == ["failed"]


# --- secrets -----------------------------------------------------------------

def test_secrets_never_reach_logs_errors_or_the_database(tmp_path, caplog,
                                                         monkeypatch):
    caplog.set_level(logging.DEBUG)
    db_path = tmp_path / "cb.duckdb"
    seen = []
    for token, fault in ((TOKEN, None), ("wrong", None),
                         (TOKEN, always(("status", 500, {}, b"{}")))):
        with FakeServiceNow(sn_records(12), token=TOKEN) as server:
            server.faults = [fault] if fault else []
            monkeypatch.setenv("CHANGEBOARD_SERVICENOW_TOKEN", token)
            monkeypatch.setenv("CHANGEBOARD_SERVICENOW_INSTANCE", server.url)
            client = servicenow_api.client(retry=api.Retry(sleep=lambda s: None))
            run = api.sync(servicenow_api.ServiceNowApi(client, page_size=5),
                           db_path)
            seen.append(run.error or "")
            # the token went to the server in the header only
            assert all(TOKEN not in json.dumps(r.params) for r in server.log)
    with FakeServiceNow(sn_records(3), basic=("svc", PASSWORD)) as server:
        monkeypatch.delenv("CHANGEBOARD_SERVICENOW_TOKEN")
        monkeypatch.setenv("CHANGEBOARD_SERVICENOW_USER", "svc")
        monkeypatch.setenv("CHANGEBOARD_SERVICENOW_PASSWORD", PASSWORD)
        monkeypatch.setenv("CHANGEBOARD_SERVICENOW_INSTANCE", server.url)
        cli = subprocess.run(
            [sys.executable, "-m", "ingest", "servicenow-api", "--db",
             str(db_path), "--verbose"], cwd=ROOT, capture_output=True,
            text=True, timeout=120, env=os.environ.copy())
    assert cli.returncode == 0, cli.stderr
    assert "3 read" in cli.stdout
    assert seen[0] == "" and all(s.startswith("ServiceNow GET")
                                 for s in seen[1:])
    dumped = "\n".join(str(v) for table in (
        "ingest_batches", "ingest_rejects", "api_syncs", "changes")
        for row in rows(db_path, f"select * from {table}") for v in row)
    everything = "\n".join([caplog.text, cli.stdout, cli.stderr, dumped, *seen])
    assert "GET" in caplog.text and "HTTP 401" in everything
    for secret in (TOKEN, PASSWORD):
        assert secret not in everything


@pytest.mark.parametrize("elsewhere", ["other port", "other host",
                                       "other scheme"])
def test_a_next_link_to_another_origin_is_not_followed(tmp_path, retry,
                                                        elsewhere):
    with FakeServiceNow(sn_records(12), token=TOKEN) as server, \
            FakeServiceNow(sn_records(12), token=TOKEN) as other:
        client = fake_client(server, retry)
        port = server.httpd.server_address[1]
        # the page's Link rel=next names this origin instead of the server's
        server.url = {"other port": other.url,
                      "other host": f"http://localhost:{port}",
                      "other scheme": f"https://127.0.0.1:{port}"}[elsewhere]
        run = api.sync(servicenow_api.ServiceNowApi(client, page_size=5),
                       tmp_path / "cb.duckdb")
        assert len(server.log) == 1 and other.log == []
    assert run.status == "failed"
    assert "refused to follow a link" in run.error
    assert TOKEN not in run.error
    # what the first page held is kept; the watermark does not move
    assert len(changes(tmp_path / "cb.duckdb")) == 5
    assert syncs(tmp_path / "cb.duckdb")["watermark_at"].isna().all()


def echoed(user: str, password: str) -> list[str]:
    """Basic-auth credentials as a server might echo them back."""
    import base64
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return [f"Authorization: Basic {basic}", basic.rstrip("="),
            base64.urlsafe_b64encode(password.encode()).decode(),
            quote(password, safe=""), json.dumps(password)[1:-1], password]


def test_credentials_a_server_echoes_are_scrubbed_everywhere(
        tmp_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    db_path = tmp_path / "cb.duckdb"
    password = 'pw-SECRET/+="e81d44'
    secrets = echoed("svc", password)
    message = "request had " + " | ".join(
        f"![x](http://attacker.example/{i}) {form}"
        for i, form in enumerate(secrets))
    body = json.dumps({"error": {"message": message,
                                 "detail": secrets[0]}}).encode()
    # a non-JSON answer whose 60-byte excerpt would cut a secret in half
    cut = b"x" * 40 + f"Authorization: Basic {secrets[1]}".encode()
    monkeypatch.setenv("CHANGEBOARD_SERVICENOW_INSTANCE", "unused")
    seen = []
    for fault in (always(("status", 400, {}, body)),
                  always(("body", cut)),
                  always(("status", 503, {}, body))):
        with FakeServiceNow(sn_records(3), basic=("svc", password)) as server:
            server.faults = [fault]
            monkeypatch.setenv("CHANGEBOARD_SERVICENOW_INSTANCE", server.url)
            monkeypatch.setenv("CHANGEBOARD_SERVICENOW_USER", "svc")
            monkeypatch.setenv("CHANGEBOARD_SERVICENOW_PASSWORD", password)
            client = servicenow_api.client(retry=api.Retry(
                sleep=lambda s: None, backoff=(0,)))
            run = api.sync(servicenow_api.ServiceNowApi(client, page_size=5),
                           db_path)
            seen.append(run.error or "")
    # the command line with a bearer token: the server echoes the header
    bearer = json.dumps({"error": {"message": f"you sent Bearer {TOKEN}",
                                   "detail": quote(TOKEN)}}).encode()
    with FakeServiceNow(sn_records(3), token=TOKEN) as server:
        server.faults = [always(("status", 400, {}, bearer))]
        env = {**os.environ, "CHANGEBOARD_SERVICENOW_TOKEN": TOKEN,
               "CHANGEBOARD_SERVICENOW_INSTANCE": server.url}
        env.pop("CHANGEBOARD_SERVICENOW_USER")
        cli = subprocess.run(
            [sys.executable, "-m", "ingest", "servicenow-api", "--db",
             str(db_path), "--verbose"], cwd=ROOT, capture_output=True,
            text=True, timeout=120, env=env)
    assert cli.returncode != 0 and "you sent ***" in cli.stderr
    assert all(s.startswith("ServiceNow GET") for s in seen), seen
    assert "HTTP 400" in seen[0] and "not JSON" in seen[1]
    stored = "\n".join(str(v) for row in rows(
        db_path, "select * from api_syncs") for v in row)
    everything = "\n".join([caplog.text, cli.stdout, cli.stderr, stored,
                            *seen])
    assert "***" in everything
    for secret in [*secrets, f"Bearer {TOKEN}", TOKEN, quote(TOKEN)]:
        assert secret not in everything, secret
    assert secrets[1][:20] not in everything   # not even half of one


# --- the CLI -----------------------------------------------------------------

def test_cli_reports_a_summary_and_exits_non_zero_when_a_sync_fails(tmp_path):
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(sn_records(12), token=TOKEN) as server:
        env = {**os.environ, "CHANGEBOARD_SERVICENOW_INSTANCE": server.url,
               "CHANGEBOARD_SERVICENOW_TOKEN": TOKEN}
        ok = subprocess.run([sys.executable, "-m", "ingest", "servicenow-api",
                             "--db", str(db_path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
        env["CHANGEBOARD_SERVICENOW_TOKEN"] = "nope"
        bad = subprocess.run([sys.executable, "-m", "ingest", "servicenow-api",
                              "--db", str(db_path)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        env.pop("CHANGEBOARD_SERVICENOW_TOKEN")
        missing = subprocess.run([sys.executable, "-m", "ingest",
                                  "servicenow-api", "--db", str(db_path)],
                                 cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "succeeded" in ok.stdout and "12 read" in ok.stdout
    # one batch, not '1 batches'
    assert ok.stdout.splitlines()[0].endswith("by the key check, 1 batch")
    assert "12 loaded" in ok.stdout and "watermark 2026-03-02 10:11:00" in ok.stdout
    assert "servicenow: [########################] 100% 1 page, 12/12 " \
        "records, 12 loaded" in ok.stderr
    assert bad.returncode == 1 and "HTTP 401" in bad.stdout + bad.stderr
    assert missing.returncode == 1
    assert "no ServiceNow credentials" in missing.stderr


# --- Jira --------------------------------------------------------------------

def jira_issues(n: int, start: int = 0) -> list[dict]:
    return [jira_issue(f"CHG-{i + 1}", stamp(start + i)) for i in range(n)]


def jira_sync(server, db_path, retry, **kw):
    source = jira_api.JiraApi(fake_client(server, retry),
                              jql=kw.pop("jql", "project = CHG"),
                              page_size=kw.pop("page_size", 4))
    return api.sync(source, db_path, **kw)


def jira_queries(server):
    return [r.params["jql"] for r in server.log if r.path.endswith("/jql")]


def test_jira_sync_maps_fields_by_name_and_status_and_changelog(tmp_path, retry):
    issues = jira_issues(9)
    issues[0]["fields"].update(status={"name": "Declined"}, resolution=None,
                               customfield_10011={"value": "Critical"},
                               fixVersions=[{"name": "2026.1"},
                                            {"name": "2026.2"}])
    issues[1]["changelog"] = {"histories": [
        {"created": "2026-02-01T08:00:00.000+0100", "items": [
            {"field": "status", "fromString": "Awaiting approval",
             "toString": "Awaiting implementation"}]},
        {"created": "2026-02-02T10:00:00.000+0000", "items": [
            {"field": "status", "fromString": "Awaiting implementation",
             "toString": "Implementing"}]},
        {"created": "2026-02-02T11:30:00.000+0000", "items": [
            {"field": "status", "fromString": "Implementing",
             "toString": "Completed"}]}]}
    db_path = tmp_path / "cb.duckdb"
    with FakeJira(issues, token=TOKEN) as server:
        run = jira_sync(server, db_path, retry)
    assert run.status == "succeeded", run.error
    assert (run.pages, run.rows_loaded, run.rows_rejected) == (3, 9, 0)
    got = rows(db_path, """
        select change_id, change_type, state, close_code, approval, risk,
            priority, application_id, release_id, requested_by,
            strftime(approved_at, '%Y-%m-%d %H:%M'),
            strftime(actual_start_at, '%H:%M'), strftime(actual_end_at, '%H:%M'),
            strftime(created_at, '%Y-%m-%d %H:%M'), source
        from changes where change_id in ('CHG-1', 'CHG-2') order by change_id""")
    assert got == [
        ("CHG-1", "normal", "cancelled", "rejected", "rejected", "very_high",
         3, "Payments", "CHG:2026.1", "Ann Lee", None, None, None,
         "2026-01-05 09:00", "jira"),
        ("CHG-2", "normal", "closed", "successful", None, "low", 3, "Payments",
         "CHG:2026.1", "Ann Lee", "2026-02-01 07:00", "10:00", "11:30",
         "2026-01-05 09:00", "jira")]
    first = jira_queries(server)[0]
    assert first == "(project = CHG) ORDER BY updated ASC, key ASC"
    search = next(r for r in server.log if r.path.endswith("/jql"))
    assert "customfield_10010" in search.params["fields"]
    assert search.params["expand"] == "changelog"


def test_jira_second_sync_bounds_updated_ten_minutes_before_the_watermark(
        tmp_path, retry):
    db_path = tmp_path / "cb.duckdb"
    with FakeJira(jira_issues(6), token=TOKEN) as server:
        jira_sync(server, db_path, retry)
        server.log.clear()
        run = jira_sync(server, db_path, retry)
    assert run.status == "succeeded"
    assert jira_queries(server)[0] == ('(project = CHG) AND updated >= '
                                       '"2026-03-02 09:55" ORDER BY updated '
                                       'ASC, key ASC')


JIRA_SEARCH = "/rest/api/3/search/jql"
JIRA_FAULTS = {
    "429 with Retry-After": [once(("status", 429, {"Retry-After": "3"}, b"{}"),
                                  path=JIRA_SEARCH, nth=2)],
    "500": [once(("status", 500, {}, b"{}"), path=JIRA_SEARCH, nth=2)],
    "timeout": [once(("sleep", STALL), path=JIRA_SEARCH, nth=2)],
    "dropped connection": [once(("drop",), path=JIRA_SEARCH, nth=3)],
    "malformed JSON": [once(("body", b"{'issues': ["), path=JIRA_SEARCH,
                            nth=2)],
    "empty page": [once(("status", 200, {}, json.dumps(
        {"issues": [], "nextPageToken": "4"}).encode()), path=JIRA_SEARCH,
        nth=2)],
}


@pytest.mark.parametrize("fault", list(JIRA_FAULTS))
def test_jira_sync_recovers_from(fault, tmp_path, retry):
    with FakeJira(jira_issues(10), token=TOKEN) as server:
        server.faults = JIRA_FAULTS[fault]
        run = jira_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "succeeded", run.error
    assert len(changes(tmp_path / "cb.duckdb")) == 10


def test_jira_records_changing_between_pages_are_all_loaded_once(tmp_path,
                                                                 retry):
    issues = jira_issues(12)
    with FakeJira(issues, token=TOKEN) as server:
        def touch(start):
            if start == 0:
                issues[1]["fields"]["updated"] = "2026-03-02T11:00:00.000+0000"
                issues[1]["fields"]["summary"] = "Changed meanwhile"
        server.after_page = touch
        run = jira_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "succeeded"
    assert run.fetched_again == 1
    assert len(changes(tmp_path / "cb.duckdb")) == 12
    assert rows(tmp_path / "cb.duckdb", "select title from changes where "
                "change_id = 'CHG-2'") == [("Changed meanwhile",)]


def test_jira_wrong_auth_and_hard_failures_keep_the_watermark(tmp_path, retry):
    db_path = tmp_path / "cb.duckdb"
    with FakeJira(jira_issues(5), token=TOKEN) as server:
        jira_sync(server, db_path, retry)
        server.token = "rotated"
        refused = jira_sync(server, db_path, retry)
        server.token = TOKEN
        server.faults = [always(("body", b"not json"), path=JIRA_SEARCH)]
        broken = jira_sync(server, db_path, retry)
    assert refused.status == broken.status == "failed"
    assert "HTTP 401" in refused.error and "not JSON" in broken.error
    state = syncs(db_path)
    assert state["status"].tolist() == ["succeeded", "failed", "failed"]
    assert state["watermark_at"].notna().tolist() == [True, False, False]


def test_jql_with_its_own_order_is_refused():
    with pytest.raises(api.ApiError, match="leave out ORDER BY"):
        jira_api.check_jql("project = CHG order by created")


def test_two_syncs_into_one_database_run_one_at_a_time(tmp_path, retry):
    import threading
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(sn_records(20), token=TOKEN) as sn, \
            FakeJira(jira_issues(8), token=TOKEN) as jr:
        runs = []
        threads = [threading.Thread(target=lambda f=f, s=s: runs.append(
            f(s, db_path, retry))) for f, s in ((sn_sync, sn), (jira_sync, jr))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(r.status for r in runs) == ["succeeded", "succeeded"]
    assert sorted(r.sync_id for r in runs) == [1, 2]
    assert len(changes(db_path)) == 28
    assert syncs(db_path)["source"].tolist().count("jira") == 1


def test_a_site_overrides_file_applies_to_api_records(tmp_path, retry):
    """Custom fields are requested and mapped, the legacy state model and the
    id prefix apply, and the key check finds prefixed ids in the database."""
    from ingest import overrides

    site = overrides.options("servicenow", ROOT / "tests" / "data" /
                             "overrides" / "legacy-servicenow.toml")
    records = sn_records(20)
    for record in records:
        record.update(state="4", u_release="R-7", u_env="prod")
    db_path = tmp_path / "cb.duckdb"
    with FakeServiceNow(records, token=TOKEN) as server:
        source = servicenow_api.ServiceNowApi(fake_client(server, retry),
                                              options=site, page_size=5)
        server.faults = [lambda r: ("status", 500, {}, b"{}")
                         if r.params.get("sysparm_offset") == "10" else None]
        assert api.sync(source, db_path, commit_every=5).status == "failed"
        server.faults = []
        server.log.clear()
        run = api.sync(source, db_path)
    assert run.status == "succeeded" and run.fetched_again == 0
    fields = server.log[0].params["sysparm_fields"].split(",")
    assert {"u_release", "u_environment", "u_env"} <= set(fields)
    assert rows(db_path, "select count(*), count(distinct change_id), "
                "min(change_id), min(release_id), min(environment_id), "
                "min(state) from changes") == [
        (20, 20, "emea:CHG1000", "R-7", "prod", "closed")]


def test_a_database_from_before_api_syncs_is_upgraded_by_the_first_sync(
        tmp_path, retry):
    db_path = tmp_path / "cb.duckdb"
    with db.publish(db_path) as con:
        con.execute("drop table api_syncs")
        con.execute("delete from schema_version where version >= 3")
    with FakeServiceNow(sn_records(4), token=TOKEN) as server:
        run = sn_sync(server, db_path, retry)
    assert run.status == "succeeded", run.error
    assert rows(db_path, "select max(version) from schema_version") == [
        (db.SCHEMA_VERSION,)]
    assert syncs(db_path)["records_read"].tolist() == [4]


def test_jira_data_center_pages_by_start_at_and_total(tmp_path, retry):
    issues = jira_issues(11)
    db_path = tmp_path / "cb.duckdb"
    with FakeJira(issues, token=TOKEN) as server:
        def touch(start):
            if start == 0:
                issues[0]["fields"]["updated"] = "2026-03-02T11:30:00.000+0000"
        server.after_page = touch
        server.faults = [once(("status", 500, {}, b"{}"),
                              path="/rest/api/2/search", nth=2)]
        source = jira_api.JiraApi(fake_client(server, retry),
                                  jql="project = CHG", page_size=4,
                                  cloud=False)
        run = api.sync(source, db_path)
    assert run.status == "succeeded", run.error
    assert source.total == 11 and run.fetched_again == 1
    starts = [r.params["startAt"] for r in server.log
              if r.path == "/rest/api/2/search" and "expand" in r.params]
    assert starts[:4] == ["0", "4", "4", "8"]   # page 2 retried once
    assert len(changes(db_path)) == 11
    assert all(r.path.startswith("/rest/api/2/") for r in server.log)


def test_a_jira_token_alone_means_data_center(monkeypatch):
    monkeypatch.delenv("CHANGEBOARD_JIRA_EMAIL", raising=False)
    assert jira_api.is_cloud() is False
    monkeypatch.setenv("CHANGEBOARD_JIRA_EMAIL", "sync@acme.com")
    assert jira_api.is_cloud() is True


def test_the_progress_bar_shows_the_share_of_the_total_read():
    run = api.Synced("servicenow", "e", 1, pages=3, records_read=300,
                     rows_loaded=200)
    assert Progress().line(run, 1200) == (
        "servicenow: [######..................]  25% 3 pages, 300/1,200 "
        "records, 200 loaded")
    assert Progress().line(run) == ("servicenow: 3 pages, 300 records, "
                                        "200 loaded")


def test_a_killed_sync_left_running_is_resumed_from_its_last_commit(
        tmp_path, retry):
    """kill -9 between commits leaves the run `running` with its cursor; the
    next run resumes there and the watermark moves only when it succeeds."""
    db_path = tmp_path / "cb.duckdb"
    records = sn_records(30)
    with FakeServiceNow(records, token=TOKEN) as server:
        sn_sync(server, db_path, retry)                 # watermark 10:29
        endpoint = server.url + "/api/now/table/change_request"
        with db.publish(db_path) as con:                # what kill -9 leaves
            con.execute("insert into api_syncs (sync_id, source, endpoint, "
                        "started_at, status, cursor_at) values (2, "
                        "'servicenow', $e, now(), 'running', "
                        "'2026-03-02 10:55:00Z')", {"e": endpoint})
        records += [sn_record(f"CHG{2000 + i}", stamp(40 + i))
                    for i in range(20)]                 # 10:40 .. 10:59
        server.log.clear()
        run = sn_sync(server, db_path, retry)
    assert run.status == "succeeded" and run.sync_id == 3
    assert sn_queries(server)[0].startswith("sys_updated_on>=2026-03-02 10:45:00")
    # the killed run is said to have committed up to 10:55; it did not, and
    # the key check (from the watermark) finds what is missing: 10:40 .. 10:44
    assert len(changes(db_path)) == 50
    assert run.fetched_again == 5
    assert str(syncs(db_path).iloc[-1]["watermark_at"]).startswith(
        "2026-03-02 10:59:00")


# --- Jira fix versions as releases --------------------------------------------

def version(name, release_date=None, released=False, archived=False, **more):
    found = {"id": name, "name": name, "released": released,
             "archived": archived, **more}
    if release_date:
        found["releaseDate"] = release_date
    return found


def versions_sync(server, db_path, retry, projects=("CHG",), **kw):
    source = jira_api.JiraVersionsApi(fake_client(server, retry),
                                      list(projects), **kw)
    return api.sync(source, db_path)


def test_fix_versions_load_as_releases_with_status_and_local_midnight(
        tmp_path, retry):
    db_path = tmp_path / "cb.duckdb"
    versions = {"CHG": [version("2026.1", "2026-03-02", released=True),
                        version("2026.2", "2026-04-01", startDate="2026-03-03"),
                        version("old", "2025-01-01", archived=True),
                        version("someday")],
                "OPS": [version("R7", "2026-03-10")]}
    with FakeJira([], versions=versions, token=TOKEN) as server:
        run = versions_sync(server, db_path, retry, projects=("CHG", "OPS"),
                            timezone="Europe/Berlin")
    assert run.status == "succeeded", run.error
    assert (run.pages, run.rows_loaded, run.watermark_at) == (2, 5, None)
    got = rows(db_path, """
        select release_id, name, release_type, status,
            strftime(planned_start_at, '%Y-%m-%d %H:%M'),
            strftime(planned_release_at, '%Y-%m-%d %H:%M'),
            strftime(actual_release_at, '%Y-%m-%d %H:%M'), source
        from releases order by release_id""")
    assert got == [
        ("CHG:2026.1", "2026.1", "independent", "released", None,
         "2026-03-01 23:00", "2026-03-01 23:00", "jira"),
        ("CHG:2026.2", "2026.2", "independent", "planned", "2026-03-02 23:00",
         "2026-03-31 22:00", None, "jira"),
        ("CHG:old", "old", "independent", "cancelled", None,
         "2024-12-31 23:00", None, "jira"),
        ("CHG:someday", "someday", "independent", "planned", None, None, None,
         "jira"),
        ("OPS:R7", "R7", "independent", "planned", None, "2026-03-09 23:00",
         None, "jira")]


def test_a_version_released_late_keeps_the_plan_an_earlier_sync_stored(
        tmp_path, retry):
    """Jira overwrites releaseDate when a release slips; the sync before the
    release stored the plan, so slip stays measurable."""
    db_path = tmp_path / "cb.duckdb"
    versions = {"CHG": [version("2026.2", "2026-04-01")]}
    with FakeJira([], versions=versions, token=TOKEN) as server:
        versions_sync(server, db_path, retry)
        versions["CHG"][0].update(releaseDate="2026-04-09", released=True)
        versions_sync(server, db_path, retry)
        versions["CHG"][0]["description"] = "edited after the release"
        versions_sync(server, db_path, retry)     # and again: still kept
    assert rows(db_path, "select status, strftime(planned_release_at, "
                "'%Y-%m-%d'), strftime(actual_release_at, '%Y-%m-%d') "
                "from releases") == [("released", "2026-04-01", "2026-04-09")]
    with db.connect(db_path, read_only=True) as con:
        on_time = db.run(con, "release_on_time", start_date="2026-04-01",
                         end_date="2026-05-01")
    assert on_time.loc[0, "median_slip_days"] == 8


def test_an_unknown_jira_project_fails_the_versions_sync_clearly(tmp_path,
                                                                 retry):
    with FakeJira([], versions={"CHG": []}, token=TOKEN) as server:
        run = versions_sync(server, tmp_path / "cb.duckdb", retry,
                            projects=("NOPE",))
    assert run.status == "failed"
    assert "HTTP 404" in run.error and "No project could be found" in run.error


def test_jira_cli_syncs_issues_then_versions_with_a_cloud_account(tmp_path):
    db_path = tmp_path / "cb.duckdb"
    with FakeJira(jira_issues(3), versions={"CHG": [version("2026.1")]},
                  basic=("sync@acme.com", TOKEN)) as server:
        env = {**os.environ, "CHANGEBOARD_JIRA_URL": server.url,
               "CHANGEBOARD_JIRA_EMAIL": "sync@acme.com",
               "CHANGEBOARD_JIRA_TOKEN": TOKEN,
               "CHANGEBOARD_JIRA_JQL": "project = CHG"}

        def cli(*args):
            return subprocess.run([sys.executable, "-m", "ingest", *args,
                                   "--db", str(db_path)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
        issues = cli("jira-api")
        releases = cli("jira-versions-api", "--project", "CHG")
        none = cli("jira-versions-api")
    assert issues.returncode == 0, issues.stderr
    assert "jira sync 1 succeeded: 1 page, 3 read, 3 loaded" in issues.stdout
    assert releases.returncode == 0, releases.stderr
    assert rows(db_path, "select c.change_id, r.status from changes as c "
                "join releases as r using (release_id) order by 1") == [
        ("CHG-1", "planned"), ("CHG-2", "planned"), ("CHG-3", "planned")]
    assert none.returncode == 1 and "no Jira projects" in none.stderr
    assert TOKEN not in issues.stdout + issues.stderr + releases.stdout


def test_jira_versions_take_the_jira_site_files_name_and_time_zone(tmp_path):
    # the alias's --mapping was once ignored for jira-versions-api: it now
    # reads the Jira overrides file; its name and time zone apply (the
    # versions' days are read at 00:00 there), not the change ids' prefix
    site = tmp_path / "site.toml"
    site.write_text('[source]\nname = "jira-ops"\ntimezone = "Europe/Berlin"\n'
                    'id_prefix = "ops:"\n', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('[source]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    with FakeJira([], versions={"CHG": [version("2026.1", "2026-03-02")]},
                  basic=("sync@acme.com", TOKEN)) as server:
        env = {**os.environ, "CHANGEBOARD_JIRA_URL": server.url,
               "CHANGEBOARD_JIRA_EMAIL": "sync@acme.com",
               "CHANGEBOARD_JIRA_TOKEN": TOKEN}

        def run(db_name, *args):
            return subprocess.run([sys.executable, "-m", *args, "--db",
                                   str(tmp_path / db_name)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=120)
        alias = run("alias.duckdb", "ingest", "jira-versions-api", "--project",
                    "CHG", "--mapping", str(site))
        asked = len(server.log)
        invalid = run("bad.duckdb", "changeboard", "sync", "jira-versions",
                      "--project", "CHG", "--overrides", str(bad))
        checked_first = len(server.log) == asked
        given = run("given.duckdb", "changeboard", "sync", "jira-versions",
                    "--project", "CHG", "--overrides", str(site),
                    "--timezone", "UTC")
    assert alias.returncode == 0, alias.stderr
    assert "jira-ops sync" in alias.stdout
    assert invalid.returncode == 1 and checked_first
    assert "bad.toml" in invalid.stderr and "Mars/Olympus" in invalid.stderr
    assert given.returncode == 0, given.stderr

    def stored(db_name):
        return rows(tmp_path / db_name, "select release_id, source, "
                    "strftime(planned_release_at at time zone 'UTC', "
                    "'%Y-%m-%d %H:%M') from releases")
    assert stored("alias.duckdb") == [("CHG:2026.1", "jira-ops",
                                       "2026-03-01 23:00")]
    # --timezone wins over the file's
    assert stored("given.duckdb") == [("CHG:2026.1", "jira-ops",
                                       "2026-03-02 00:00")]


def test_a_sync_whose_direct_insert_runs_out_under_its_cap_commits_once(
        tmp_path, retry, monkeypatch):
    """The batch's direct insert cannot run under its memory cap (DuckDB
    refuses it): the publish is made again uncapped and the run commits
    its records once, as without the cap."""
    from conftest import capped_inserts

    from ingest import checks
    monkeypatch.setattr(checks, "INSERT_MEMORY_LIMIT", "1KB")
    capped = capped_inserts(monkeypatch)
    with FakeServiceNow(sn_records(25), token=TOKEN) as server:
        run = sn_sync(server, tmp_path / "cb.duckdb", retry)
    assert run.status == "succeeded", run.error
    assert capped == [True, False]
    assert run.rows_loaded == 25 and len(changes(tmp_path / "cb.duckdb")) == 25
    assert rows(tmp_path / "cb.duckdb",
                "select count(*) from ingest_batches") == [(1,)]
    assert len(syncs(tmp_path / "cb.duckdb")) == 1


@pytest.mark.parametrize("variable", ["CHANGEBOARD_SERVICENOW_TOKEN",
                                      "CHANGEBOARD_JIRA_TOKEN"])
def test_a_token_read_with_its_line_ending_is_sent_without_it(
        tmp_path, monkeypatch, variable):
    """A token pasted from a file saved on Windows ends in CR LF: requests
    refused the header and its message, with the token in it, went raw to
    stderr in a traceback. A token never begins or ends with white space."""
    monkeypatch.setenv(variable, f" {TOKEN}\r\n")
    monkeypatch.delenv("CHANGEBOARD_JIRA_EMAIL", raising=False)
    make = (servicenow_api.client if "SERVICENOW" in variable
            else jira_api.client)
    client = make("http://127.0.0.1:9", retry=api.Retry(sleep=lambda s: None))
    assert client.session.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_credential_holding_a_line_break_is_refused_without_showing_it(
        tmp_path, monkeypatch):
    halves = (TOKEN[:9], TOKEN[9:])
    with FakeServiceNow(sn_records(3), token=TOKEN) as server:
        env = {**os.environ, "CHANGEBOARD_SERVICENOW_TOKEN": "\n".join(halves),
               "CHANGEBOARD_SERVICENOW_INSTANCE": server.url}
        cli = subprocess.run(
            [sys.executable, "-m", "ingest", "servicenow-api", "--db",
             str(tmp_path / "cb.duckdb"), "--verbose"], cwd=ROOT,
            capture_output=True, text=True, timeout=120, env=env)
        assert server.log == []
    assert cli.returncode == 1
    assert "error: ServiceNow: the credentials hold a line break or a " \
           "control character" in cli.stderr
    assert "Traceback" not in cli.stderr
    for half in halves:
        assert half not in cli.stdout + cli.stderr


def test_a_log_handler_that_fails_prints_no_secret(tmp_path, capsys,
                                                   monkeypatch):
    """A handler that cannot write (a closed stream, a full disk) makes
    logging print '--- Logging error ---' and the exception in hand: the
    failed sync was logged while the server's error echoing the token, or
    a bug's message holding it, was that exception."""
    closed = (tmp_path / "gone.log").open("w")
    closed.close()
    handler = logging.StreamHandler(closed)
    logger = logging.getLogger("changeboard.ingest.api")
    logger.addHandler(handler)
    monkeypatch.setattr(logger, "level", logging.INFO)
    monkeypatch.setattr(logging, "raiseExceptions", True)

    class Broken(servicenow_api.ServiceNowApi):
        def pages(self, since):
            yield [sn_record("CHG1", stamp(0))]
            raise RuntimeError(f"unexpected: sent Bearer {TOKEN}")

    echo = json.dumps({"error": {"message": f"you sent Bearer {TOKEN}"}})
    try:
        with FakeServiceNow(sn_records(3), token=TOKEN) as server:
            server.faults = [always(("status", 400, {}, echo.encode()))]
            run = api.sync(servicenow_api.ServiceNowApi(fake_client(
                server, api.Retry(sleep=lambda s: None)), page_size=5),
                tmp_path / "a.duckdb")
            assert run.status == "failed" and "you sent ***" in run.error
        with FakeServiceNow(sn_records(1), token=TOKEN) as server:
            with pytest.raises(api.SyncError) as raised:
                api.sync(Broken(fake_client(server, api.Retry()),
                                page_size=5), tmp_path / "b.duckdb")
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert err.count("--- Logging error ---") >= 2  # the lines failed
    assert TOKEN not in err
    import traceback
    assert TOKEN not in "".join(traceback.format_exception(raised.value))


def test_an_unforeseen_failure_is_raised_and_logged_without_a_secret(
        tmp_path, caplog):
    """An exception no branch foresaw is raised again (a bug must not pass
    for a failed sync), but its message and traceback are scrubbed first."""
    caplog.set_level(logging.DEBUG)

    class Broken(servicenow_api.ServiceNowApi):
        def pages(self, since):
            yield [sn_record("CHG1", stamp(0))]
            raise RuntimeError(f"unexpected: sent Bearer {TOKEN}")

    with FakeServiceNow(sn_records(1), token=TOKEN) as server:
        source = Broken(fake_client(server, api.Retry()), page_size=5)
        with pytest.raises(api.SyncError) as raised:
            api.sync(source, tmp_path / "cb.duckdb")
    import traceback
    shown = "".join(traceback.format_exception(raised.value))
    assert "RuntimeError: unexpected: sent ***" in shown
    assert "RuntimeError: unexpected: sent ***" in caplog.text
    assert "in pages" in caplog.text       # where it failed stays known
    assert TOKEN not in shown + caplog.text
    assert syncs(tmp_path / "cb.duckdb")["status"].tolist() == ["failed"]
