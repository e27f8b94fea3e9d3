"""The CAB pack (issue 6): its new queries, the pack built from a small given
data set with hand-computed answers, the HTML / XLSX / PDF renderers, the
CLI and the CAB page."""
import io
import json
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from changeboard import config, db
from reports import __main__ as cli
from reports import cab
from tests.clicks import click_tab, open_definitions, open_linked
from tests.rows import insert_rows

ROOT = Path(__file__).resolve().parents[1]
MEETING = date(2026, 1, 20)  # a Tuesday: the default cadence, 10:00 UTC
SCRIPT_TITLE = '<script>alert("x")</script> & "quoted"'
LONG_TEXT = " ".join(f"Step{i:03d} moves the payments schema forward."
                     for i in range(12)) + " END-OF-TEXT"


insert = insert_rows


def planned(change_id, start, end, **columns):
    return {"change_id": change_id, "change_type": "normal",
            "state": "authorize", "is_cab_required": True,
            "approval": "requested", "created_at": "2026-01-01 09:00Z",
            "planned_start_at": start, "planned_end_at": end, **columns}


def done(change_id, close_code="successful", end="2025-12-01 10:00Z",
         **columns):
    return {"change_id": change_id, "change_type": "normal",
            "state": "closed", "close_code": close_code,
            "application_id": "A1", "assignment_group": "Ops",
            "created_at": "2025-01-01 00:00Z", "actual_end_at": end,
            **columns}


def load_cab_data(con) -> None:
    """Two changes for decision (C2 very high, C1 high) and their history."""
    insert(con, "applications", [
        {"application_id": "A1", "name": 'Payments & "Cards"'},
        {"application_id": "A2", "name": "Core"}])
    insert(con, "environments", [
        {"environment_id": "E1", "name": "Prod payments", "tier": "prod",
         "application_id": "A1"},
        {"environment_id": "E2", "name": "UAT", "tier": "uat"}])
    insert(con, "releases", [
        {"release_id": "R1", "name": "R1", "status": "planned"}])
    insert(con, "changes", [
        planned("C1", "2026-01-21 20:00Z", "2026-01-21 22:00Z", risk="high",
                application_id="A1", assignment_group="Ops",
                environment_id="E1", release_id="R1", title=SCRIPT_TITLE,
                description=LONG_TEXT, justification="Card <b>fees</b>",
                implementation_plan="1. Deploy\n2. Verify",
                backout_plan="Redeploy 4.1", requested_by="Ann Lee",
                ci_name="pay-db-prd01"),
        planned("C2", "2026-01-22 01:00Z", "2026-01-22 02:00Z",
                change_type="emergency", risk="very_high",
                approval="not_yet_requested", application_id="A2",
                assignment_group="Core", title="=SUM(1,2)"),
        # approved: off the agenda, but collides with C1 on application A1
        planned("C3", "2026-01-21 21:00Z", "2026-01-21 23:00Z", risk="low",
                approval="approved", application_id="A1",
                assignment_group="Ops", title="Other & co"),
        planned("C4", "2026-01-25 10:00Z", "2026-01-25 11:00Z",
                change_type="standard", application_id="A2"),
        # history
        done("H1"),
        done("H2", "unsuccessful", "2026-01-15 12:00Z",
             actual_start_at="2026-01-15 11:00Z", title="Broke it"),
        done("H3", end="2025-11-01 10:00Z"),  # failed by incident I1
        done("H4", end="2026-01-17 04:00Z", change_type="emergency",
             is_cab_required=True, approval="approved",
             approved_at="2026-01-18 09:00Z",
             actual_start_at="2026-01-17 03:00Z"),
        done("H5", "backed_out", "2026-01-08 12:00Z", application_id="A2",
             assignment_group="Core"),
        {"change_id": "H6", "change_type": "normal", "state": "implement",
         "application_id": "A2", "assignment_group": "Core",
         "is_cab_required": True, "approval": "requested",
         "created_at": "2026-01-01 00:00Z",
         "actual_start_at": "2026-01-14 09:00Z"},
    ])
    insert(con, "incidents", [
        {"incident_id": "I1", "application_id": "A1", "priority": 2,
         "opened_at": "2026-01-16 08:00Z", "caused_by_change_id": "H3"},
        {"incident_id": "I2", "application_id": "A2", "priority": 1,
         "opened_at": "2025-12-01 08:00Z",
         "resolved_at": "2025-12-01 09:00Z"}])
    insert(con, "blackout_windows", [
        {"window_id": "W1", "name": "Year-end freeze", "kind": "freeze",
         "application_id": "A2", "start_at": "2026-01-21 00:00Z",
         "end_at": "2026-01-23 00:00Z"},
        {"window_id": "W2", "name": "Sat maintenance", "kind": "maintenance",
         "environment_id": "E1", "start_at": "2026-01-24 02:00Z",
         "end_at": "2026-01-24 06:00Z"},
        {"window_id": "W3", "name": "UAT blackout", "kind": "blackout",
         "environment_id": "E2", "start_at": "2026-01-21 00:00Z",
         "end_at": "2026-01-22 00:00Z"}])
    insert(con, "environment_bookings", [
        {"booking_id": "B1", "environment_id": "E2", "release_id": "R1",
         "phase": "uat", "team": "QA", "status": "approved",
         "start_at": "2026-01-21 00:00Z", "end_at": "2026-01-22 00:00Z"},
        {"booking_id": "B2", "environment_id": "E2", "release_id": "R1",
         "team": "QA", "status": "cancelled",
         "start_at": "2026-01-21 00:00Z", "end_at": "2026-01-22 00:00Z"}])
    insert(con, "ingest_batches", [
        {"batch_id": b, "source": "csv", "entity": "changes",
         "started_at": "2026-01-19 07:00Z", "finished_at": f,
         "status": s} for b, f, s in [
            (1, "2026-01-19 07:10Z", "succeeded"),
            (2, "2026-01-19 07:20Z", "failed"),
            (3, "2026-01-19 07:30Z", "succeeded"),
            (4, "2026-01-19 07:40Z", "succeeded")]])


@pytest.fixture(scope="module")
def shared_pack():
    """The pack of load_cab_data at MEETING, built once for the module."""
    connection = db.connect()
    load_cab_data(connection)
    yield cab.build_pack(connection, MEETING)
    connection.close()


@pytest.fixture
def pack(request):
    """The pack of load_cab_data at MEETING: the module's, for a test that
    only reads it (built once: 0.3-1.3 s each for 32 tests), or one of its
    own from `con` for a test that also writes the data."""
    if "con" not in request.fixturenames:
        return request.getfixturevalue("shared_pack")
    con = request.getfixturevalue("con")
    load_cab_data(con)
    return cab.build_pack(con, MEETING)


@pytest.fixture(scope="module")
def published_cab_db(tmp_path_factory):
    """load_cab_data published once for the module (0.3 s each time)."""
    path = tmp_path_factory.mktemp("cab") / "cab.duckdb"
    with db.publish(path) as con:
        load_cab_data(con)
    return path


@pytest.fixture
def cab_db(published_cab_db, tmp_path):
    """A copy of the published file (its mode too) of each test's own: a
    test may record decisions into it, or publish over it."""
    path = tmp_path / "cab.duckdb"
    shutil.copy(published_cab_db, path)
    return path


def seen_runners(monkeypatch) -> list:
    """The pack's Runners from here on, each added as it is left, with the
    names of the calls it was given ahead (`named`)."""
    from reports.cab import pack as pack_module
    runners = []

    class Seen(pack_module.Runner):
        def ahead(self, calls):
            self.named = [name for name, _ in calls]
            return super().ahead(calls)

        def __exit__(self, *exc):
            runners.append(self)
            return super().__exit__(*exc)

    monkeypatch.setattr(pack_module, "Runner", Seen)
    return runners


@pytest.mark.parametrize("filters", [None, {"teams": ["Ops"],
                                             "application_ids": ["A1"]}])
def test_the_packs_queries_run_ahead_two_at_a_time_with_the_same_results(
        cab_db, monkeypatch, filters):
    # all but release_readiness (which waits for the data's as-of) are
    # named ahead: a call named ahead that the pack does not make, or one
    # it makes that was not named, would show here
    from reports.cab import pack as pack_module
    runners = seen_runners(monkeypatch)
    together = cab.build_pack(cab_db, MEETING, filters=filters)
    (runner,) = runners
    assert runner.direct == ["release_readiness"]
    assert runner.waiting == {}
    # the same pack as with every query run in turn on the one connection:
    # each call named ahead, and no other, then made directly
    monkeypatch.setattr(pack_module.Runner, "ahead",
                        lambda self, calls: None)
    in_turn = cab.build_pack(cab_db, MEETING, filters=filters)
    assert sorted(runners[1].direct) == sorted(
        ["release_readiness", *runner.named])
    assert len(runner.named) > 12
    for field in ("summary", "agenda", "collisions", "window_hits",
                  "booking_hits", "similar", "team_scores", "team_failures",
                  "incidents", "since_last", "kpis", "releases"):
        pd.testing.assert_frame_equal(getattr(together, field),
                                      getattr(in_turn, field), obj=field)


def test_a_pack_built_without_its_since_section_reads_it_when_asked(
        cab_db, monkeypatch):
    """The CAB page builds its pack without the "since last CAB" section
    (a fifth of its queries; it opens on the agenda): with_since reads it
    from the same file version, once, and the files are those of a pack
    built whole."""
    from reports.cab import pack as pack_module
    ran = []
    real = db.run
    monkeypatch.setattr(db, "run", lambda con, name, **values: ran.append(
        name) or real(con, name, **values))
    since_queries = {name for name, _ in pack_module._since_calls(
        pack_module.period_of(MEETING, None), {})}
    assert "cab_since_last" in since_queries and len(since_queries) > 2
    lazy = cab.build_pack(cab_db, MEETING, since_last=False)
    assert not since_queries & set(ran) and lazy.since_last is None
    whole = cab.build_pack(cab_db, MEETING)
    ran.clear()
    assert cab.with_since(lazy) is lazy
    assert sorted(ran) == sorted(
        [name for name, _ in pack_module._since_calls(
            pack_module.period_of(MEETING, None), {})])
    for field in ("since_last", "kpis"):
        pd.testing.assert_frame_equal(getattr(lazy, field),
                                      getattr(whole, field), obj=field)
    ran.clear()
    assert cab.to_html(lazy) == cab.to_html(whole)
    assert cab.to_xlsx(lazy) == cab.to_xlsx(whole)
    assert not since_queries & set(ran)  # read once, kept on the pack


@pytest.mark.parametrize("kept", [True, False])
def test_a_since_section_is_read_from_the_packs_version_or_not_at_all(
        cab_db, monkeypatch, kept):
    """After a load replaced the file version a pack read, its since
    section is that version's, from the snapshot the load kept of it; with
    none kept, PackOutdated: never the new version's numbers beside the
    old agenda."""
    if not kept:
        for setting in ("KEEP_LAST", "DAILY", "MONTHLY"):
            monkeypatch.setenv(f"CHANGEBOARD_SNAPSHOTS_{setting}", "0")
    whole = cab.build_pack(cab_db, MEETING)
    lazy = cab.build_pack(cab_db, MEETING, since_last=False)
    with db.publish(cab_db) as con:  # a failed change since the last CAB
        insert_rows(con, "changes", [{
            "change_id": "C-LATER", "title": "Loaded later",
            "change_type": "normal", "state": "closed",
            "close_code": "unsuccessful", "created_at": "2026-01-14 10:00Z",
            "actual_start_at": "2026-01-15 10:00Z",
            "actual_end_at": "2026-01-16 10:00Z"}])
    now = cab.build_pack(cab_db, MEETING)
    assert "C-LATER" in set(now.since_last["change_id"])
    if kept:
        cab.with_since(lazy)
        for field in ("since_last", "kpis"):
            pd.testing.assert_frame_equal(getattr(lazy, field),
                                          getattr(whole, field), obj=field)
    else:
        with pytest.raises(cab.PackOutdated):
            cab.with_since(lazy)
        assert lazy.since_last is None
        # a download then holds the whole pack of the file as it is now
        rebuilt = cab.whole(lazy)
        assert rebuilt.data_version == now.data_version != lazy.data_version
        assert cab.to_html(rebuilt) == cab.to_html(now)


def test_a_pack_of_a_connection_to_no_file_cannot_read_its_since_later(con):
    load_cab_data(con)
    lazy = cab.build_pack(con, MEETING, since_last=False)
    assert lazy.db_path is None
    with pytest.raises(cab.PackOutdated, match="not a file"):
        cab.with_since(lazy)


def test_the_cab_page_reads_its_since_section_when_its_tab_opens(
        cab_db, monkeypatch):
    from reports.cab import pack as pack_module
    ran = []
    real = db.run
    monkeypatch.setattr(db, "run", lambda con, name, **values: ran.append(
        name) or real(con, name, **values))
    st.cache_resource.clear()  # a fresh server: no pack built yet
    app = _cab_page(cab_db, monkeypatch)
    assert _drawn(app)["decide"] and "cab_agenda" in ran
    assert "cab_since_last" not in ran
    app.query_params["tab"] = "since"
    app.run()
    assert not app.exception and _drawn(app)["since"]
    assert ran.count("cab_since_last") == 1
    labels = [m.label for m in app.metric]
    assert labels[-len(pack_module.KPI_SPECS):] == [
        kpi.label for kpi in pack_module.KPI_SPECS]
    app.run()
    assert ran.count("cab_since_last") == 1  # kept on the shared pack


def rows(frame, *columns):
    return [tuple(None if pd.isna(v) else v for v in row)
            for row in frame[list(columns)].itertuples(index=False)]


def block(pack, change_id):
    return next(b for b in cab.blocks(pack) if b.change_id == change_id)


# --- the meeting cadence -------------------------------------------------------

def test_meetings_follow_the_weekday_and_time_settings(monkeypatch):
    monkeypatch.setattr(config, "CAB_WEEKDAYS", "1,3")  # Tue and Thu
    monkeypatch.setattr(config, "CAB_TIME", "14:30")
    tuesday = cab.meeting_on(date(2026, 1, 20))
    assert str(tuesday) == "2026-01-20 14:30:00+00:00"
    assert str(cab.following_meeting(tuesday)) == "2026-01-22 14:30:00+00:00"
    assert str(cab.previous_meeting(tuesday)) == "2026-01-15 14:30:00+00:00"
    assert cab.next_meeting(tuesday) == tuesday  # at the meeting: this one
    assert str(cab.next_meeting(tuesday + pd.Timedelta(minutes=1))) == \
        "2026-01-22 14:30:00+00:00"


def test_the_meeting_is_read_in_the_reporting_time_zone(monkeypatch):
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/Berlin")
    assert str(cab.meeting_on(date(2026, 7, 21)).astimezone(
        pd.Timestamp(0, tz="UTC").tzinfo)) == "2026-07-21 08:00:00+00:00"


def test_a_change_found_off_the_agenda_says_what_keeps_it_off(
        cab_db, monkeypatch):
    """Find said of any id off the agenda that it 'may be closed, approved
    or rejected, standard ...': a made-up id read the same. It now says
    what keeps that change off, as the data says it."""
    from changeboard.ui import word as ui_word
    with db.reading(cab_db) as con:
        h1 = con.execute("select state, approval from changes where "
                         "change_id = 'H1'").fetchone()
    app = _cab_page(cab_db, monkeypatch)
    app.text_input(key="cab-find").input("H1").run()
    assert not app.exception
    said = [c.value for c in app.caption if c.value.startswith("H1 is not")]
    assert said and said[0].startswith(
        f"H1 is not on this agenda: it is {ui_word(h1[0])}"), said
    assert "may" not in said[0]
    app.text_input(key="cab-find").input("NOPE-1").run()
    assert "NOPE-1 is not in the data: no change has this id." in [
        c.value for c in app.caption]


def test_find_takes_the_number_an_id_ends_in(cab_db, monkeypatch):
    """Typing 3949 for CHG0003949, as a number is said aloud, read 'no
    change has this id'. The one agenda id ending in that number is found
    (C1 here, by '1' or '01'); a number no agenda id ends in says so,
    never that no change has it (H1 is in the data, off the agenda)."""
    app = _cab_page(cab_db, monkeypatch)
    for typed in ("1", "01"):
        app.text_input(key="cab-find").input(typed).run()
        assert not app.exception
        # the page scrolls to C1's block
        assert any('"cab-block-C1"' in h.proto.body for h in app.get("html"))
        assert not [c for c in app.caption if "is not in the data" in
                    c.value]
    app.text_input(key="cab-find").input("7").run()
    assert "No change on this agenda has an id ending in 7: type the " \
        "whole id to see why a change is not on it." in [
            c.value for c in app.caption]


def test_the_releases_going_live_say_the_filters_they_do_not_take(
        cab_db, monkeypatch):
    """With a team picked, For decision held that team's changes and
    Releases going live every release, unsaid (the Readiness, Releases and
    Environments pages each say 'not filtered by team'). The tab and the
    pack's section say which chosen filters they do not take."""
    with db.publish(cab_db) as con:
        con.execute("update releases set planned_release_at = "
                    "'2026-01-22 10:00Z', application_id = 'A1'")
    for filters, said in [({"teams": ["Ops"]}, "Not filtered by team."),
                          ({"teams": ["Ops"], "change_types": ["normal"]},
                           "Not filtered by team, change type."),
                          ({"application_ids": ["A1"]}, "")]:
        built = cab.build_pack(cab_db, MEETING, filters=filters)
        assert list(built.releases["release_id"]) == ["R1"]
        assert cab.releases_unfiltered(built) == said
        section = cab.to_html(built).split('<section class="wide releases">'
                                           )[1]
        assert (f"{cab.RELEASES_INTRO} {said}</p>" if said else
                f"{cab.RELEASES_INTRO}</p>") in section
    app = _cab_page(cab_db, monkeypatch, tab="releases", teams="Ops")
    assert f"{cab.RELEASES_INTRO} Not filtered by team." in [
        c.value for c in app.caption]


@pytest.mark.parametrize("loaded", [None, "2026-11-02 07:10Z"])
def test_a_release_going_live_in_a_windows_last_hour_across_a_dst_end(
        con, monkeypatch, loaded):
    # Tue 20 Oct 10:00 BST to Tue 27 Oct 10:00 GMT is 7 days and an hour:
    # a go-live at 09:30 GMT on the 27th is in the window, whether the pack
    # is judged at the meeting (no load) or at a later load (a past pack)
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/London")
    insert(con, "releases", [{"release_id": "R1", "name": "R1",
                              "status": "planned",
                              "planned_release_at": "2026-10-27 09:30Z"}])
    if loaded:
        insert(con, "ingest_batches", [{
            "batch_id": 1, "source": "csv", "entity": "changes",
            "started_at": loaded, "finished_at": loaded,
            "status": "succeeded"}])
    built = cab.build_pack(con, date(2026, 10, 20))
    assert str(built.window_end_at) == "2026-10-27 10:00:00+00:00"
    assert list(built.releases["release_id"]) == ["R1"]
    assert list(cab.release_lines(built)["Release"]) == ["R1"]


def test_each_kpi_says_what_its_n_counts(con):
    # a change closed without a close code is completed (the emergency
    # ratio's n), not implemented (the success rate's)
    insert(con, "changes", [{
        "change_id": "X1", "change_type": "normal", "state": "closed",
        "created_at": "2026-01-01 00:00Z", "actual_end_at": "2026-01-15 12:00Z",
        "closed_at": "2026-01-15 13:00Z"}])
    table = cab.kpi_table(cab.build_pack(con, date(2026, 1, 20)))
    rows = {r["KPI"]: (r["n"], r["n counts"])
            for r in table.to_dict("records")}
    assert rows["Change success rate"] == (0, "implemented changes")
    assert rows["Emergency ratio"] == (1, "completed changes")



def test_each_kpi_names_what_its_n_counts_for_one_and_for_more(pack):
    """The CAB page made a KPI's noun singular by replacing 'changes' with
    'change' in its label: each KPI now carries its singular beside its
    plural (KPI_SPECS), and kpi_n writes a count of it."""
    from reports.cab.pack import KPI_SPECS

    assert [(k.counts, k.counts_one) for k in KPI_SPECS] == [
        ("implemented changes", "implemented change"),
        ("completed changes", "completed change"),
        ("CAB-required changes started", "CAB-required change started")]
    kpis = pack.kpis.to_dict("records")
    assert [(cab.kpi_n(1, k), cab.kpi_n(2, k)) for k in kpis] == [
        ("1 implemented change", "2 implemented changes"),
        ("1 completed change", "2 completed changes"),
        ("1 CAB-required change started", "2 CAB-required changes started")]
    assert cab.kpi_n(1_234, kpis[0]) == "1,234 implemented changes"
    assert cab.kpi_n(0, kpis[2]) == "0 CAB-required changes started"


# --- cab_since_last ------------------------------------------------------------

def since(con, **params):
    return db.run(con, "cab_since_last", start_date="2026-01-13",
                  end_date="2026-01-20", **params)


def test_since_last_lists_failed_emergency_and_unauthorized_changes(pack):
    assert rows(pack.since_last, "review_reason", "change_id") == [
        ("failed", "H2"), ("emergency", "H4"),
        ("unauthorized", "H6"), ("unauthorized", "H4")]


def test_since_last_failed_includes_incident_signals_and_excludes_edges(
        con, given):
    given("changes", [
        done("F1", "backed_out", "2026-01-13 00:00Z"),  # first instant: in
        done("F2", "unsuccessful", "2026-01-20 00:00Z"),  # end: out
        done("F3", "successful", "2026-01-16 00:00Z"),  # failed by incident
        done("F4", "successful", "2026-01-16 00:00Z"),  # clean
        done("F5", "cancelled", "2026-01-16 00:00Z"),  # not implemented
    ])
    given("incidents", [{"incident_id": "I", "opened_at": "2026-01-17 00:00Z",
                         "caused_by_change_id": "F3"}])
    got = since(con)
    assert rows(got, "review_reason", "change_id", "is_failed_by_close_code",
                "is_failed_by_incident") == [
        ("failed", "F1", True, False), ("failed", "F3", False, True)]
    # the incident named, as change_records names it, and in the pack's
    # words (the team's last failures named it, this list did not: a
    # review)
    from reports.text import failure_signals
    assert [i if isinstance(i, str) else None
            for i in got["incident_ids"]] == [None, "I"]
    assert [failure_signals(r) for _, r in got.iterrows()] == [
        "Close code", "Linked incident (I)"]


def test_since_last_emergency_by_start_whatever_the_outcome(con, given):
    given("changes", [
        done("E1", None, None, change_type="emergency", state="implement",
             actual_start_at="2026-01-14 00:00Z", approval="requested"),
        done("E2", change_type="emergency", end="2026-01-15 00:00Z",
             actual_start_at="2026-01-12 23:00Z"),  # started before: out
    ])
    got = since(con)
    assert rows(got, "review_reason", "change_id", "is_not_approved") == [
        ("emergency", "E1", True)]


def test_since_last_unauthorized_needs_cab_and_a_missing_or_late_approval(
        con, given):
    start = {"actual_start_at": "2026-01-14 10:00Z", "end": None,
             "close_code": None, "state": "implement"}
    given("changes", [
        done("U1", **start, is_cab_required=True, approval="requested"),
        done("U2", **start, is_cab_required=True, approval="approved",
             approved_at="2026-01-14 09:00Z"),  # approved in time
        done("U3", **start, is_cab_required=True, approval="approved",
             approved_at="2026-01-14 11:00Z"),  # after the start
        done("U4", **start, is_cab_required=False, approval="requested"),
        done("U5", **start, is_cab_required=True, approval=None),
    ])
    got = since(con)
    assert rows(got, "change_id", "is_not_approved",
                "is_approved_after_start") == [
        ("U1", True, False), ("U3", False, True)]


def test_since_last_filters_by_team(pack, con):
    got = since(con, teams=["Core"])
    assert rows(got, "review_reason", "change_id") == [("unauthorized", "H6")]


# --- application_incidents -----------------------------------------------------

def test_application_incidents_count_by_priority_and_resolution(con, given):
    given("incidents", [
        {"incident_id": "I1", "application_id": "A", "priority": 1,
         "opened_at": "2026-01-01 00:00Z", "resolved_at": "2026-01-02 00:00Z"},
        {"incident_id": "I2", "application_id": "A", "priority": 4,
         "opened_at": "2026-01-05 00:00Z",
         "resolved_at": "2026-02-01 00:00Z"},  # resolved after as_of
        {"incident_id": "I3", "application_id": "A",
         "opened_at": "2026-01-06 00:00Z", "caused_by_change_id": "C"},
        {"incident_id": "I4", "priority": 2,
         "opened_at": "2026-01-07 00:00Z"},  # no application: own row
        {"incident_id": "I5", "application_id": "A", "priority": 1,
         "opened_at": "2026-01-31 00:00Z"},  # end of window: out
    ])
    got = db.run(con, "application_incidents", start_date="2026-01-01",
                 end_date="2026-01-31", as_of="2026-01-20 00:00Z")
    assert rows(got, "application_id", "n_incidents", "n_p1", "n_p2",
                "n_p4_or_lower", "n_unprioritized", "n_unresolved",
                "n_linked_to_change") == [
        ("A", 3, 1, 0, 1, 1, 2, 1), (None, 1, 0, 1, 0, 0, 1, 0)]
    assert got["last_opened_at"].iloc[0] == pd.Timestamp("2026-01-06",
                                                         tz="UTC")


# --- the pack: hand-computed answers -------------------------------------------

def test_pack_lists_the_changes_for_decision_by_risk(pack):
    assert rows(pack.agenda, "agenda_rank", "change_id", "risk") == [
        (1, "C2", "very_high"), (2, "C1", "high")]
    assert str(pack.window_start_at) == "2026-01-20 10:00:00+00:00"
    assert str(pack.window_end_at) == "2026-01-27 10:00:00+00:00"
    assert (pack.since_start_date, pack.since_end_date,
            pack.before_start_date) == (date(2026, 1, 13), date(2026, 1, 20),
                                        date(2026, 1, 6))


def test_pack_shows_each_collision_with_the_other_change(pack):
    c1 = block(pack, "C1")
    assert c1.collisions.to_dict("records") == [{
        "Other change": "C3", "Overlap": "Wed 21 Jan 2026 21:00 – 22:00",
        "Other title": "Other & co",
        "Shared": 'Application Payments & "Cards" (A1)'}]
    # the overlap beside the other change: last, it was cut to 'Ov…' at
    # the page's edge (a CAB chair's walkthrough)
    assert list(c1.collisions.columns[:2]) == ["Other change", "Overlap"]
    assert block(pack, "C2").collisions.empty


def test_pack_shows_each_window_hit(pack):
    assert rows(pack.window_hits, "change_id", "window_id", "kind") == [
        ("C1", None, "outside_maintenance"), ("C2", "W1", "freeze")]
    assert block(pack, "C2").window_hits.to_dict("records") == [{
        "Window": "Year-end freeze (W1)", "Kind": "Freeze",
        "Overlap": "Thu 22 Jan 2026 01:00 – 02:00"}]
    assert list(block(pack, "C1").window_hits["Kind"]) == [
        "Outside maintenance window"]


def test_pack_shows_active_bookings_of_the_changes_release(pack):
    assert block(pack, "C1").bookings.to_dict("records") == [{
        "Booking": "B1", "Environment": "UAT (UAT)", "Team": "QA",
        "Phase": "UAT", "Status": "Approved",
        "Overlap": "Wed 21 Jan 2026 20:00 – 22:00"}]


def test_text_writes_a_code_as_the_pages_word():
    """reports.text reads a code as the pages do (changeboard.words): the
    CAB exports' words are the pages' words; a value that is no code, and
    a missing one, as before."""
    from reports import text

    assert [text.words(c) for c in (
        "very_high", "backed_out", "normal", "approved", "not_yet_requested",
        "outside_maintenance", "Release Type 11", "CI_01", None)] == [
        "Very high", "Backed out", "Normal", "Approved", "Not yet requested",
        "Outside maintenance", "Release Type 11", "CI_01", ""]
    assert [text.phase_words(p) for p in ("uat", "pre_prod", "cut_over",
                                          "UAT 2", None)] == [
        "UAT", "Pre-production", "Cut over", "UAT 2", ""]
    assert [text.tier_words(t) for t in ("prod", "uat", "lab", None)] == [
        "Production", "UAT", "lab", ""]


# what the exports wrote before they read the pages' words: no cell of a
# pack, the minutes or the decided table is one of these any more
LOWER_CASE_CODES = {
    "very high", "high", "low", "normal", "emergency", "authorize",
    "authorize / requested", "authorize / not yet requested", "closed",
    "backed out", "unsuccessful", "requested", "approved", "freeze",
    "outside maintenance", "uat", "UAT (uat)", "failed (backed out)",
    "not started", "not in the data", "implemented (successful)"}


def html_cells(page: str) -> list[str]:
    """The text of every table cell and definition of an HTML page, as a
    reader sees it (a no-break space before a dash reads as a space)."""
    return [unescape(re.sub(r"<[^>]+>", "", c)).replace("\xa0", " ")
            for c in re.findall(
        r"<(?:td|dd)[^>]*>(.*?)</(?:td|dd)>", page, flags=re.DOTALL)]


def test_the_pack_writes_codes_as_the_pages_words(pack):
    """The pack wrote codes from data lower case, as the data holds them
    ('very high', 'authorize / not yet requested', 'backed out', 'normal',
    a window's 'freeze', a booking's 'uat' and 'approved') where every
    page writes them as words ('Very high', 'Authorize / Not yet
    requested', 'Backed out', 'Normal'): the agenda, the blocks, the since
    last CAB lists and the XLSX's sheets now read the pages' words; ids,
    names and titles stay as written."""
    c1, c2 = block(pack, "C1"), block(pack, "C2")
    assert [dict(c2.facts)[k] for k in ("Type", "Risk", "State / approval",
                                        "Team")] == [
        "Emergency", "Very high", "Authorize / Not yet requested", "Core"]
    assert [dict(c1.facts)[k] for k in ("Type", "Risk", "State / approval",
                                        "Application")] == [
        "Normal", "High", "Authorize / Requested", 'Payments & "Cards" (A1)']
    assert c1.evidence["Evidence"].iloc[0] == \
        'Same application and type (Payments & "Cards" (A1), Normal)'
    assert list(c2.last_failures["Close code"]) == ["Backed out"]  # H5
    assert list(cab.agenda_lines(pack)["Risk"]) == ["Very high", "High"]
    failed = cab.since_last(pack, "failed")
    assert rows(failed, "Change", "Type", "Close code") == [
        ("H2", "Normal", "Unsuccessful")]
    assert list(cab.since_last(pack, "emergency")["Type"]) == ["Emergency"]
    assert rows(cab.since_last(pack, "unauthorized"), "Change",
                "Approval") == [("H6", "Requested"), ("H4", "Approved")]

    page = cab.to_html(pack)
    cells = html_cells(page)
    for shown in ("Authorize / Not yet requested", "Very high", "Emergency",
                  "Backed out", "Unsuccessful", "Freeze",
                  "Outside maintenance window", "UAT (UAT)", "Approved"):
        assert shown in cells, shown
    assert not LOWER_CASE_CODES & set(cells), LOWER_CASE_CODES & set(cells)
    assert "=SUM(1,2)" in cells  # a title as written

    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    values = {(sheet.title, v) for sheet in book
              for row in sheet.iter_rows(min_row=2, values_only=True)
              for v in row if isinstance(v, str)}
    assert not LOWER_CASE_CODES & {v for _, v in values}
    decision = {t: {k: c.value for k, c in column(
        book, "For decision", t).items()}
        for t in ("Type", "Risk", "State / approval")}
    assert decision == {
        "Type": {"C2": "Emergency", "C1": "Normal"},
        "Risk": {"C2": "Very high", "C1": "High"},
        "State / approval": {"C2": "Authorize / Not yet requested",
                             "C1": "Authorize / Requested"}}
    assert column(book, "Failed - review", "Close code")["H2"].value == \
        "Unsuccessful"
    assert {k: c.value for k, c in column(
        book, "Unauthorised", "Approval").items()} == {"H6": "Requested",
                                                       "H4": "Approved"}
    assert column(book, "Team last failures", "Close code",
                  "For change")["C2"].value == "Backed out"
    assert {k: c.value for k, c in column(
        book, "Window hits", "Kind", "For change").items()} == {
        "C1": "Outside maintenance window", "C2": "Freeze"}
    assert [column(book, "Booking hits", t, "For change")["C1"].value
            for t in ("Environment", "Phase", "Status")] == [
        "UAT (UAT)", "UAT", "Approved"]


def test_the_packs_own_words_read_as_the_pages_do(pack):
    """The pack's own words were lower case and code-like where the pages
    write capitalised words: an agenda line's flags 'emergency, freeze' and
    'collides ×1, outside maintenance', a missing risk 'unknown', an
    approval issue 'not approved', why a change failed 'close code' or
    'incident'. The agenda (page, HTML, PDF, e-mail), the since last CAB
    lists and their sheets now read 'Emergency, Freeze window', 'Not
    approved', 'No risk given' (the calendar's words) and 'Close code',
    'Linked incident' (the Changes page's)."""
    from reports import delivery
    from reports.cab import evidence

    agenda = cab.agenda_lines(pack)
    assert rows(agenda, "Change", "Flags") == [
        ("C2", "Emergency, Not yet submitted, Freeze window"),
        ("C1", "Collides with 1 other change, Outside maintenance window, "
               "Release bookings")]
    no_risk = pack.agenda.assign(risk=None)
    assert evidence.facts_of(pack, no_risk.iloc[0].to_dict()).risk == \
        "No risk given"
    # on a copy: the module's pack is shared
    assert set(cab.agenda_lines(replace(pack, agenda=no_risk))["Risk"]) == {
        "No risk given"}
    assert rows(cab.since_last(pack, "unauthorized"), "Change",
                "Approval issue") == [("H6", "Not approved"),
                                      ("H4", "Approved after it started")]
    assert rows(cab.since_last(pack, "failed"), "Change", "Why failed") == [
        ("H2", "Close code")]
    # the incident named: the failure can be traced to it
    assert list(block(pack, "C1").last_failures["Why failed"]) == [
        "Close code", "Linked incident (I1)"]  # H2, H3 (incident I1)

    cells = set(html_cells(cab.to_html(pack)))
    assert {"Emergency, Not yet submitted, Freeze window", "Not approved",
            "Approved after it started", "Close code",
            "Linked incident (I1)"} <= cells
    said = {"emergency, freeze", "not approved", "approved after it started",
            "unknown", "close code", "incident",
            "collides ×1, outside maintenance"}
    assert not said & cells
    assert "Emergency, Not yet submitted, Freeze window" in \
        delivery.email_html(pack, "")
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    assert {k: c.value for k, c in column(
        book, "Unauthorised", "Approval issue").items()} == {
        "H6": "Not approved", "H4": "Approved after it started"}
    assert column(book, "Failed - review", "Why failed")["H2"].value == \
        "Close code"
    assert column(book, "Team last failures", "Why failed",
                  "Change")["H3"].value == "Linked incident (I1)"


@pytest.mark.parametrize("level, said", [
    ("", "Linked incidents (I1, I9)"), ("1", "Linked P1 incidents (I1, I9)"),
    ("2", "Linked P1–P2 incidents (I1, I9)")])
def test_why_failed_names_the_incidents_the_sites_threshold_counts(
        monkeypatch, level, said):
    """Under CHANGEBOARD_FAILURE_MIN_PRIORITY a change fails by its urgent
    incidents alone, and "Why failed" says which: 'Linked P1–P2
    incidents', where it said 'Linked incidents' whatever the setting."""
    from changeboard import config
    from reports.text import failure_signals
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", level)
    assert failure_signals({
        "is_failed_by_close_code": True, "is_failed_by_incident": True,
        "is_failed_by_rollback": False, "incident_ids": "I1, I9"}) == \
        f"Close code, {said[0].lower()}{said[1:]}"


def test_a_pack_built_under_a_failure_threshold_says_it_and_keeps_it(
        con, monkeypatch):
    """A pack built with CHANGEBOARD_FAILURE_MIN_PRIORITY counts failures
    by the urgent incidents alone: its Produced by says so, and its
    Regenerate command sets it, so a pack rebuilt elsewhere counts alike."""
    from changeboard import config
    load_cab_data(con)
    plain = dict(cab.provenance(cab.build_pack(con, MEETING)))
    assert "Failed changes" not in plain
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "2")
    said = dict(cab.provenance(cab.build_pack(con, MEETING)))
    assert said["Failed changes"] == (
        "failed by a linked P1–P2 incident alone "
        "(CHANGEBOARD_FAILURE_MIN_PRIORITY=2), a close code or a "
        "rolled-back deployment")
    assert said["Regenerate with"] == \
        "CHANGEBOARD_FAILURE_MIN_PRIORITY=2 " + plain["Regenerate with"]


def _with_c5(con, application_id: str):
    """The pack of the CAB data with C5 beside C1: approved, so off the
    agenda, on C1's CI and plan, of `application_id`."""
    load_cab_data(con)
    insert(con, "changes", [planned(
        "C5", "2026-01-21 21:30Z", "2026-01-21 22:30Z", approval="approved",
        application_id=application_id, assignment_group="Core",
        ci_name="pay-db-prd01", title="Same database")])
    return cab.build_pack(con, MEETING)


def test_a_collisions_shared_key_reads_as_words(con):
    """A collision's Shared column read 'ci pay-db-prd01', 'application
    Payments (A1)': the query's code before the key. It reads 'CI
    pay-db-prd01', 'Application Payments & "Cards" (A1)', as the calendar
    says what colliding changes share (page, HTML, XLSX)."""
    pack = _with_c5(con, "A2")  # shares C1's CI, not its application
    shared = rows(block(pack, "C1").collisions, "Other change", "Shared")
    assert shared == [("C3", 'Application Payments & "Cards" (A1)'),
                      ("C5", "CI pay-db-prd01")]
    cells = html_cells(cab.to_html(pack))
    assert "CI pay-db-prd01" in cells and "ci pay-db-prd01" not in cells
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    assert {r["Other change"].value: r["Shared"].value
            for r in sheet_cells(book)["Collisions"][1]} == dict(shared)


def test_a_change_sharing_two_things_is_one_collision_row(con):
    """At a million changes a block said 'Collides with 1 other change' over
    two rows of the same change, one for the application and one for the
    environment (the query's row per pair and shared key). The block, HTML
    and XLSX list it once, naming both, as the flag counts it."""
    pack = _with_c5(con, "A1")  # shares C1's application and CI
    keys = pack.collisions[(pack.collisions["change_id_a"] == "C1")
                           & (pack.collisions["change_id_b"] == "C5")]
    assert sorted(keys["match_on"]) == ["application", "ci"]
    shared = rows(block(pack, "C1").collisions, "Other change", "Shared")
    assert [other for other, _ in shared] == ["C3", "C5"]
    assert dict(shared)["C5"] == ('Application Payments & "Cards" (A1); '
                                  "CI pay-db-prd01")
    flags = cab.agenda_lines(pack).set_index("Change").at["C1", "Flags"]
    assert "Collides with 2 other changes" in flags
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    assert {r["Other change"].value: r["Shared"].value
            for r in sheet_cells(book)["Collisions"][1]
            if r["For change"].value == "C1"} == dict(shared)


def test_outside_maintenance_reads_one_way_everywhere(pack):
    """C1 is planned outside every maintenance window of its environment:
    its agenda line flagged 'Outside maintenance window' where its window
    hit's Kind read 'Outside maintenance' (block, HTML, PDF, XLSX), its
    block's flag 'Outside the maintenance window' and the hit's Overlap
    'planned outside every maintenance window', lower case. The three read
    'Outside maintenance window' (as the calendar's column does,
    test_change_calendar), the Overlap as a cell starts."""
    said = "Outside maintenance window"
    assert said in cab.agenda_lines(pack).set_index("Change").at["C1",
                                                                  "Flags"]
    c1 = block(pack, "C1")
    assert said in c1.flags
    assert c1.window_hits.to_dict("records") == [{
        "Window": "(any maintenance window)", "Kind": said,
        "Overlap": "Planned outside every maintenance window"}]
    page = cab.to_html(pack)
    assert "Outside the maintenance window" not in page
    assert not {"Outside maintenance", "planned outside every maintenance "
                "window"} & set(html_cells(page))
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    assert column(book, "Window hits", "Kind", "For change")["C1"].value \
        == said


def test_evidence_without_history_and_a_release_without_reasons_read_as_words(
        con):
    """An evidence line without history read code-like, lower case: 'no
    key' (a change without an application or a team), 'no implemented
    change', 'no implemented changes' (a team without a score), 'none' (no
    incident), and a team's score 'score -5 · ...'; a release no readiness
    rule fired on read 'none' for its reasons. They read 'No application
    given', 'No team given', 'No implemented change', 'No incident', 'Score
    -5 · ...' and, as the Release readiness page writes it, '—', on the
    page's blocks, in the HTML (so the PDF) and in the XLSX."""
    load_cab_data(con)
    insert(con, "releases", [
        {"release_id": "R4", "name": "Quiet", "status": "planned",
         "planned_release_at": "2026-01-23 20:00Z"}])
    insert(con, "changes", [
        planned("C5", "2026-01-23 10:00Z", "2026-01-23 11:00Z", risk="high",
                title="Nobody's"),  # no application, no team
        planned("C6", "2026-01-23 08:00Z", "2026-01-23 09:00Z",
                approval="approved", release_id="R4")])  # R4 is ready
    pack = cab.build_pack(con, MEETING)
    results = {change_id: list(block(pack, change_id).evidence["Result"])
               for change_id in ("C5", "C2")}
    # C5 names no application: the incidents of none are not its own
    assert results["C5"] == ["No application given", "No team given",
                             "No team given", "No application given"]
    assert results["C2"] == ["No implemented change",
                             "1 of 1 failed · success 0.0%",
                             "Score -5 · -5.00 per change (3.00 at best)", "No incident"]
    assert rows(cab.release_lines(pack), "Release", "Status", "Reasons") == [
        ("R4", "✔ Ready", "—")]
    said = {"no key", "no implemented change", "no implemented changes",
            "none"}
    page = cab.to_html(pack)
    # the tables' cells (the provenance's Filters 'none' is a definition)
    cells = {unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(
        r"<td[^>]*>(.*?)</td>", page, flags=re.DOTALL)}
    assert {"No application given", "No team given", "No implemented change",
            "No incident", "—"} <= cells
    assert not said & cells, said & cells
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    _, evidence = sheet_cells(book)["Evidence"]
    sheet = {(r["For change"].value, r["Evidence"].value): r["Result"].value
             for r in evidence}
    assert sheet[("C5", "Same team (no team given)")] == "No team given"
    assert sheet[("C5", "Same application and type (no application given, "
                  "Normal)")] == "No application given"
    assert sheet[("C5", "Incidents on its application")] == \
        "No application given"
    assert sheet[("C2", "Incidents on Core (A2)")] == "No incident"
    assert not said & set(sheet.values())
    assert column(book, "Releases going live", "Reasons",
                  "Release")["R4"].value == "—"


def test_pack_similar_change_evidence_numbers_and_n(pack):
    got = pack.similar.set_index(["change_id", "cohort"])
    # C1 (A1 normal): H1, H2 (unsuccessful), H3 (incident I1) -> 1 of 3 ok
    assert rows(got.loc[[("C1", "application_change_type")]], "n",
                "n_failed", "success_rate") == [(3, 2, 1 / 3)]
    # team Ops adds H4: 2 of 4 failed
    assert rows(got.loc[[("C1", "assignment_group")]], "n", "n_failed",
                "success_rate") == [(4, 2, 0.5)]
    # C2 (A2 emergency): no history; team Core: H5 backed out
    assert rows(got.loc[[("C2", "application_change_type")]], "n",
                "success_rate") == [(0, None)]
    assert rows(got.loc[[("C2", "assignment_group")]], "n", "n_failed") == [
        (1, 1)]
    evidence = block(pack, "C1").evidence
    assert list(evidence["n"]) == [3, 4, 4, 1]
    assert list(evidence["Result"]) == [
        "2 of 3 failed · success 33.3%", "2 of 4 failed · success 50.0%",
        "Score -1 · -0.25 per change (3.00 at best)",  # 3 + 3 + 3 - 5 (H2) - 5 (I1 P2)
        "P1 0 · P2 1 · P3 0 · P4 or lower 0 · unresolved 1 · "
        "latest opened Fri 16 Jan 2026 08:00"]
    assert evidence["Latest failure"].iloc[0] == "Thu 15 Jan 2026 12:00"  # H2
    assert list(block(pack, "C1").last_failures["Change"]) == ["H2", "H3"]


def test_the_incident_evidence_adds_up_to_its_n(con):
    # a P4, a P5 and an incident without a priority beside I1 (P2): the
    # result said 'P1 0 · P2 1 · P3 0' of n = 4
    load_cab_data(con)
    insert(con, "incidents", [
        {"incident_id": f"I{i}", "application_id": "A1", "priority": p,
         "opened_at": "2026-01-15 08:00Z"}
        for i, p in ((4, 4), (5, 5), (6, None))])
    evidence = block(cab.build_pack(con, MEETING), "C1").evidence
    row = evidence[evidence["Evidence"].str.startswith("Incidents on")]
    assert list(row["n"]) == [4]
    assert list(row["Result"]) == [
        "P1 0 · P2 1 · P3 0 · P4 or lower 2 · no priority 1 · unresolved 4 · "
        "latest opened Fri 16 Jan 2026 08:00"]


def test_a_change_names_its_release_as_the_other_pages_do(con):
    # the pack said 'Release REL-66215' where every page says the name
    load_cab_data(con)
    con.execute("update releases set name = 'Cards 4.2' where "
                "release_id = 'R1'")
    built = cab.build_pack(con, MEETING)
    assert dict(block(built, "C1").facts)["Release"] == "Cards 4.2 (R1)"
    assert dict(block(built, "C2").facts)["Release"] == "(none)"
    con.execute("update releases set name = 'R1' where release_id = 'R1'")
    # a name that is its id is said once
    assert dict(block(cab.build_pack(con, MEETING), "C1").facts)[
        "Release"] == "R1"


def test_pack_flags_each_change(pack):
    assert block(pack, "C2").flags == [
        "Emergency change", "Planned in a freeze window",
        "Very high risk with little history (n = 0)",
        "Team failed a change in the last 30 days"]
    assert block(pack, "C1").flags == [
        "Collides with 1 other change", "Outside maintenance window",
        "Its release has environment bookings during the plan",
        "High risk with little history (n = 3)",
        "Team failed a change in the last 30 days",
        "1 incident on the application in the last 30 days"]


def test_pack_since_last_cab_kpis_against_the_period_before(pack):
    assert rows(pack.kpis, "KPI", "since_rate", "since_n", "since_count",
                "before_rate", "before_n") == [
        ("Change success rate", 0.5, 2, 1, 0.0, 1),  # H2, H4 vs H5
        ("Emergency ratio", 0.5, 2, 1, 0.0, 1),  # H4
        ("Unauthorised changes", 1.0, 2, 2, None, 0)]  # H6, H4; none before
    assert list(cab.since_last(pack, "unauthorized")["Approval issue"]) == [
        "Not approved", "Approved after it started"]


def test_pack_carries_what_produced_it(pack):
    meta = dict(cab.provenance(pack))
    assert meta["Meeting"] == "Tue 20 Jan 2026 10:00 (UTC)"
    assert meta["Data as of"] == "Mon 19 Jan 2026 07:40 UTC"
    assert meta["Batches loaded"] == "1, 3–4"  # batch 2 failed
    assert meta["Filters"] == "none"
    # an in-memory database has no file: the command says where one goes
    assert meta["Regenerate with"].startswith(
        "python -m changeboard report cab --date 2026-01-20 --db PATH "
        "--reporting-tz UTC --cab-time 10:00 --cab-weekdays 1 "
        "--out cab-pack.pdf")


@pytest.mark.parametrize(("loaded", "said"), [
    ("2026-01-21 08:00Z", None),  # after the meeting: the pack of a past one
    ("2026-01-19 00:00Z", None),  # on the last of its days: the nightly load
    ("2026-01-16 12:00Z", "The data was loaded Fri 16 Jan 2026 12:00 UTC, "
     "before these days end on 20 Jan 2026: what happened after then is not "
     "counted, and the comparison with the period before sets part of a "
     "period against a whole one. Load the data again before the meeting."),
    ("2026-01-10 09:00Z", "The data was loaded Sat 10 Jan 2026 09:00 UTC, "
     "before these days start on 13 Jan 2026: nothing since the last CAB is "
     "in it yet, and the period before is counted only up to then. Load the "
     "data again before the meeting."),
    ("2026-01-02 09:00Z", "The data was loaded Fri 02 Jan 2026 09:00 UTC, "
     "before the period before starts on 06 Jan 2026: nothing of either "
     "period is in it yet. Load the data again before the meeting."),
])
def test_since_last_cab_says_when_the_data_ends_before_its_days(
        pack, tmp_path, loaded, said):
    """Read on Thursday for Tuesday's meeting, "since last CAB" ran to the
    meeting and said 'None.' under each list and '+1.5 pp' against the
    week before, where the data held 3 of its 7 days (or none of them, for
    the meeting after): no word that most of the period was not loaded
    yet. The pack (page, HTML, PDF, XLSX) now says so and what to do, and
    an empty list says it is none so far."""
    import dataclasses

    # its three lists empty: 'None.', or none so far
    pack = dataclasses.replace(pack, as_of=pd.Timestamp(loaded),
                               since_last=pack.since_last.iloc[0:0])
    meta = dict(cab.provenance(pack))
    assert meta.get("Since last CAB, counted") == said
    assert cab.since_cut(pack) == said
    page = unescape(cab.to_html(pack))
    if said is None:
        assert "Load the data again" not in page
        assert cab.since_none(pack, "None.") == "None."
        assert page.count('<p class="none">None.</p>') >= 3
        return
    assert f'<p class="note">{said}</p>' in page
    none = f"None in the data so far (loaded {cab.when(pack.as_of)} UTC)."
    assert cab.since_none(pack, "None.") == none
    assert page.count(none) == 3
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    produced = {row[0]: row[1] for row in book["Produced by"].values}
    assert produced["Since last CAB, counted"] == said


def test_each_file_names_itself_in_its_regenerate_command(pack):
    """The HTML pack's Regenerate command, and the XLSX's, ended '--out
    cab-pack.pdf': run as read, it wrote another file than the one read."""
    page = re.sub(r"<[^>]+>", "", unescape(cab.to_html(pack)))
    assert "--out cab-pack.html" in page and "cab-pack.pdf" not in page
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    produced = dict(book["Produced by"].iter_rows(min_row=2,
                                                  values_only=True))
    assert produced["Regenerate with"].endswith(" --out cab-pack.xlsx")


def hold_teams(con, teams) -> None:
    """Teams the database holds (a change of each, closed long before any
    meeting here), so that a pack may be filtered by them: a filter value
    the database does not hold is refused (test_a_filter_value_the_...)."""
    insert(con, "changes", [
        {"change_id": f"TEAM{i}", "change_type": "standard",
         "state": "closed", "created_at": "2025-01-01 00:00Z",
         "assignment_group": team} for i, team in enumerate(teams)])


def test_regenerate_command_names_the_database_and_every_filter(tmp_path):
    path = tmp_path / "cab dbs" / "pack's.duckdb"
    path.parent.mkdir()
    with db.publish(path) as con:
        load_cab_data(con)
        con.execute("update applications set portfolio = 'Pay' "
                    "where application_id = 'A2'")
    filters = {"application_ids": ["A1", "A2"], "portfolios": ["Pay"],
               "teams": ["Ops"], "change_types": ["normal"],
               "tiers": ["prod"]}
    pack = cab.build_pack(path, MEETING, filters=filters)
    command = dict(cab.provenance(pack))["Regenerate with"]
    assert f"--db {shlex.quote(str(path.resolve()))} " in command
    words = shlex.split(command)
    assert words[words.index("--db") + 1] == str(path.resolve())
    for name, values in filters.items():
        flag = f"--{name.replace('_', '-')}"
        assert words[words.index(flag) + 1] == ",".join(values)


def test_a_filter_value_holding_a_comma_survives_the_regenerate_command(
        con):
    """A team 'Ops, EMEA' was read back as the two teams 'Ops' and 'EMEA':
    the regenerated pack showed another change. The value is quoted as
    every list of the command line reads it (changeboard query too)."""
    from changeboard.cli.query import split_list
    from changeboard.cli.report import filter_values
    load_cab_data(con)
    teams = ["Ops, EMEA", "ACME\\Core", "Dev"]
    hold_teams(con, teams)
    pack = cab.build_pack(con, MEETING, filters={"teams": teams})
    words = shlex.split(dict(cab.provenance(pack))["Regenerate with"])
    word = words[words.index("--teams") + 1]
    assert word == '"Ops, EMEA",ACME\\Core,Dev'
    assert filter_values(word) == split_list(word) == teams
    assert filter_values("Ops, Dev,,") == ["Ops", "Dev"]  # as typed
    assert dict(cab.provenance(pack))["Filters"] == \
        'Team: "Ops, EMEA", ACME\\Core, Dev'


def test_an_application_filter_is_named_in_the_packs_filters(con):
    """A pack for one application said 'filters: application_ids =
    APP-130' in its header and provenance: the id alone, where every page
    names the application (a walkthrough at a million changes). It names
    it as the pages do, its id beside the name."""
    load_cab_data(con)
    pack = cab.build_pack(con, MEETING, filters={"application_ids": ["A2"]})
    assert dict(cab.provenance(pack))["Filters"] == \
        "Application: Core (A2)"
    assert "filters: Application: Core (A2)" in cab.to_html(pack)
    # the Regenerate command keeps the ids the command line takes
    assert "--application-ids A2" in dict(cab.provenance(pack))[
        "Regenerate with"]
    # each filter by its label and its values in words, as the pages'
    # downloads say them ('teams = ...; tiers = prod' named parameters)
    pack = cab.build_pack(con, MEETING, filters={
        "teams": ["Ops"], "tiers": ["prod"], "change_types": ["normal"]})
    assert dict(cab.provenance(pack))["Filters"] == \
        "Team: Ops; Environment tier: Production; Change type: Normal"


def test_an_agenda_the_filters_empty_says_what_they_leave_out(con):
    """With an application and a team filter the agenda was 0 and said
    "none is planned in it. Pick another meeting date", where two changes
    of a release waiting for the CAB were planned in the window and only
    the team filter hid them (a release manager's walkthrough). It says
    how many changes for decision the filters leave out."""
    load_cab_data(con)
    everything = cab.build_pack(con, MEETING)
    assert len(everything.agenda) == 2 and everything.filtered_out is None
    pack = cab.build_pack(con, MEETING, filters={"tiers": ["dr"]})
    assert pack.agenda.empty and pack.filtered_out == 2
    said = ("No change needs a CAB decision in this window under the "
            "filters (environment tier): they leave out 2 changes for "
            "decision in it. Clear or widen the filters to see them.")
    assert cab.empty_agenda(pack) == said
    assert f'<p class="none">{said}</p>' in cab.to_html(pack)
    # a filter that keeps a change asks nothing more
    kept = cab.build_pack(con, MEETING, filters={"application_ids": ["A1"]})
    assert not kept.agenda.empty and kept.filtered_out is None


def test_an_agenda_without_changes_loaded_says_none_are(con):
    """Releases alone loaded (Apache's Jira versions): the agenda said
    none is planned in the window and to pick another date, where no
    change of any date is loaded; it says so, and what to load."""
    insert(con, "releases", [{"release_id": "R1", "name": "R1",
                              "status": "planned"}])
    pack = cab.build_pack(con, MEETING)
    assert pack.agenda.empty and pack.n_changes_loaded == 0
    assert cab.empty_agenda(pack).startswith(
        "No changes are loaded, so none can be for decision: load "
        "changes.csv")


def test_a_filter_value_the_database_does_not_hold_is_refused(con):
    """--teams Opps built a pack of 0 changes for decision, which reads as
    a quiet week; changeboard query refuses such a value, and so does the
    pack, naming the value meant when one is near."""
    load_cab_data(con)
    with pytest.raises(ValueError) as refused:
        cab.build_pack(con, MEETING, filters={"teams": ["Ops", "Opps"]})
    assert str(refused.value) == (
        "filter teams: no team 'Opps' in this database; did you mean Ops? "
        "(known: Core, Ops)")
    with pytest.raises(ValueError, match="no application 'A9' in this "
                       "database"):
        cab.build_pack(con, MEETING, filters={"application_ids": ["A9"]})
    # a code no row carries yet is a valid filter: no environment is dr
    assert cab.build_pack(con, MEETING, filters={"tiers": ["dr"]}).agenda.empty


def test_filters_and_a_window_end_are_in_the_regenerate_command(con):
    load_cab_data(con)
    pack = cab.build_pack(con, MEETING, window_end_at=date(2026, 1, 22),
                          filters={"teams": ["Ops"]})
    assert list(pack.agenda["change_id"]) == ["C1"]
    meta = dict(cab.provenance(pack))
    assert meta["Filters"] == "Team: Ops"
    assert "--window-end '2026-01-22 10:00:00+00:00' --teams Ops" in \
        meta["Regenerate with"]


def test_the_regenerate_command_quotes_every_argument_for_a_shell(con,
                                                                  tmp_path):
    load_cab_data(con)
    teams = ["x'; touch PWNED; echo '", "O'Brien $(id) `id`", "a b\nc"]
    hold_teams(con, teams)
    pack = cab.build_pack(con, MEETING, window_end_at=date(2026, 1, 22),
                          filters={"teams": teams})
    line = dict(cab.provenance(pack))["Regenerate with"]
    assert line.startswith("python -m changeboard report cab ")
    # the whole line, as pasted into a shell ('--format html|pdf|xlsx' was
    # a pipe)
    arguments = line.removeprefix("python -m changeboard report cab ")
    # a real shell reads the arguments back exactly and runs nothing
    shown = subprocess.run(["bash", "-c", f"printf '%s\\0' {arguments}"],
                           cwd=tmp_path, capture_output=True, text=True,
                           check=True).stdout.split("\0")[:-1]
    assert shown == ["--date", "2026-01-20", "--db", "PATH",
                     "--reporting-tz", "UTC", "--cab-time", "10:00",
                     "--cab-weekdays", "1", "--window-end",
                     "2026-01-22 10:00:00+00:00", "--teams", ",".join(teams),
                     "--out", "cab-pack.pdf"]
    assert not (tmp_path / "PWNED").exists()


def test_the_regenerate_command_rebuilds_the_pack_under_other_settings(
        cab_db, tmp_path):
    """A pack written with CHANGEBOARD_CAB_WEEKDAYS=1,3 (a window to
    Thursday) named no cadence in its Regenerate command: run in a shell
    without the setting, it built the window to the next Tuesday, another
    agenda. The same with the zone and the CAB time. The command names all
    three, and, run with other settings in the environment, writes the
    same bytes."""
    import os

    made = {"CHANGEBOARD_REPORTING_TZ": "America/New_York",
            "CHANGEBOARD_CAB_TIME": "05:00",
            "CHANGEBOARD_CAB_WEEKDAYS": "1,3"}
    first = tmp_path / "first.html"
    env = {**os.environ, **made}
    done = subprocess.run(
        [sys.executable, "-m", "changeboard", "report", "cab", "--date",
         "2026-01-20", "--db", str(cab_db), "--out", str(first)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = unescape(first.read_text())
    line = re.search(r"Regenerate with</dt>\s*<dd>(.*?)</dd>", page,
                     re.S).group(1)
    words = shlex.split(re.sub(r"<[^>]+>", "", line))
    for option, value in (("--reporting-tz", "America/New_York"),
                          ("--cab-time", "05:00"), ("--cab-weekdays", "1,3")):
        assert words[words.index(option) + 1] == value
    assert "Tue 20 Jan 2026 05:00 (America/New_York)" in page
    assert "Thu 22 Jan 2026 05:00" in page  # the window ends on Thursday
    again = tmp_path / "again.html"
    words[words.index("--out") + 1] = str(again)
    other = {**os.environ, "CHANGEBOARD_REPORTING_TZ": "Asia/Tokyo",
             "CHANGEBOARD_CAB_TIME": "16:00",
             "CHANGEBOARD_CAB_WEEKDAYS": "4"}
    done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=other,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert again.read_bytes() == first.read_bytes()


@pytest.mark.parametrize(("setting", "value", "said"), [
    ("CHANGEBOARD_REPORTING_TZ", "Europe/Amsterdm", "unknown time zone "
     "'Europe/Amsterdm'; did you mean Europe/Amsterdam?"),
    ("CHANGEBOARD_CAB_TIME", "25:00", "'25:00' is not a time of day: "
     "expected HH:MM, e.g. 10:00"),
    ("CHANGEBOARD_CAB_WEEKDAYS", "tuesday", "'tuesday' is not a list of "
     "weekdays: expected numbers 0-6 (0 = Monday), comma-separated, e.g. "
     "1,3"),
])
def test_a_meeting_setting_that_cannot_be_read_is_named(
        cab_db, tmp_path, monkeypatch, capsys, setting, value, said):
    """A traceback (ZoneInfoNotFoundError), or 'hour must be in 0..23' and
    'invalid literal for int()' naming no setting; an option given the
    same value is named as the option."""
    from changeboard import cli as commands
    monkeypatch.setenv(setting, value)
    monkeypatch.setattr(config, setting.removeprefix("CHANGEBOARD_"), value)
    out = tmp_path / "x.html"
    with pytest.raises(SystemExit) as done:
        commands.main(["report", "cab", "--date", "2026-01-20", "--db",
                       str(cab_db), "--out", str(out)])
    assert done.value.code == 2 and not out.exists()
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"changeboard report cab: error: {setting}: {said}")
    monkeypatch.undo()
    option = "--" + setting.removeprefix("CHANGEBOARD_").lower().replace(
        "_", "-")
    with pytest.raises(SystemExit) as done:
        commands.main(["report", "minutes", "--meeting", "2026-01-20",
                       "--db", str(cab_db), "--out", str(out), option, value])
    assert done.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"changeboard report minutes: error: {option}: {said}")
    # the settings are put back after a run that gave them
    assert commands.main(["report", "cab", "--date", "2026-01-20", "--db",
                          str(cab_db), "--out", str(out), "--cab-time",
                          "11:00"]) == 0
    assert config.CAB_TIME == "10:00"


def test_an_agenda_line_says_the_year_when_the_window_runs_into_another(
        pack):
    """'Wed 06 Jan 19:00' on the agenda of a window from 29 December to 12
    January said no year: the window no longer gives it."""
    from datetime import UTC

    lines = cab.agenda_lines(pack)
    assert all(re.fullmatch(r"\w{3} \d\d \w{3} \d\d:\d\d", t)
               for t in lines["Planned start"]), list(lines["Planned start"])
    # a window to midnight on 1 January stays in its year
    to_new_year = replace(pack, window_end_at=datetime(2027, 1, 1,
                                                       tzinfo=UTC))
    assert list(cab.agenda_lines(to_new_year)["Planned start"]) == \
        list(lines["Planned start"])
    across = replace(pack, window_end_at=datetime(2027, 1, 5, 10,
                                                  tzinfo=UTC))
    assert [t.split()[3] for t in cab.agenda_lines(across)["Planned start"]] \
        == ["2026"] * len(lines)


def test_a_window_longer_than_the_page_allows_is_refused(con):
    """`report cab --window-end 2027-12-31` built a pack the page refuses
    (at most MAX_WINDOW_DAYS after the meeting)."""
    load_cab_data(con)
    last = cab.instant(MEETING) + timedelta(days=cab.MAX_WINDOW_DAYS)
    assert cab.build_pack(con, MEETING, window_end_at=last)  # the last one
    with pytest.raises(ValueError, match=r"the review window must end "
                       r"within 366 days of the meeting \(it ends "
                       r"2027-01-22\)"):
        cab.build_pack(con, MEETING, window_end_at=date(2027, 1, 22))


def test_an_empty_window_gives_an_empty_pack_that_still_renders(con):
    load_cab_data(con)
    pack = cab.build_pack(con, date(2027, 6, 1))
    assert pack.agenda.empty
    # nothing planned then: another date or a wider window may help
    said = ("No change needs a CAB decision in this window: none is planned "
            "in it. Pick another meeting date or widen the review window.")
    assert cab.empty_agenda(pack) == said
    assert f'<p class="none">{said}</p>' in cab.to_html(pack)
    assert openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))


def test_an_agenda_emptied_by_what_it_leaves_off_says_how_many(con):
    """BPIC 2014 records every change closed: a meeting's window held 1,088
    planned changes, all left off, and the page said to pick another
    meeting date, which could not help. It says how many were left off and
    why none is for decision."""
    load_cab_data(con)
    con.execute("update changes set state = 'closed'")
    pack = cab.build_pack(con, MEETING)
    assert pack.agenda.empty
    left_off = int(pack.summary.iloc[0]["n_excluded"])
    assert left_off > 1
    said = cab.empty_agenda(pack)
    assert said.startswith(
        f"No change needs a CAB decision in this window: {left_off} changes "
        "planned in it are left off, as closed or cancelled, ")
    assert "another meeting date" not in said
    assert f'<p class="none">{said}</p>' in cab.to_html(pack)


def test_an_empty_sheet_of_the_xlsx_carries_every_column_header(con):
    """A sheet of the blocks' tables (Collisions, Window hits, Booking hits,
    Evidence, Team last failures) with no row showed one column, 'For
    change': no change colliding, or no change for decision at all. It
    now has the headers a sheet with rows has."""
    load_cab_data(con)

    def sheets(pack) -> dict[str, tuple[int, list]]:
        book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
        return {s.title: (s.max_row - 1, [c.value for c in next(
            s.iter_rows(max_row=1))]) for s in book}

    full = sheets(cab.build_pack(con, MEETING))
    titles = ["Collisions", "Window hits", "Booking hits", "Evidence",
              "Team last failures"]
    assert all(full[t][0] > 0 for t in titles), full
    assert full["Collisions"] == (1, [
        "For change", "Other change", "Overlap start (UTC)",
        "Overlap end (UTC)", "Other title", "Shared"])
    # C3, the change C1 collides with, gone: no change collides
    con.execute("delete from changes where change_id = 'C3'")
    no_collision = sheets(cab.build_pack(con, MEETING))
    assert no_collision["Collisions"] == (0, full["Collisions"][1])
    assert no_collision["Evidence"] == full["Evidence"]
    # no change for decision: every block sheet empty, every header kept
    nothing = sheets(cab.build_pack(con, date(2027, 6, 1)))
    assert {t: nothing[t] for t in titles} == {
        t: (0, full[t][1]) for t in titles}


# --- renderers ----------------------------------------------------------------

def test_each_block_carries_what_a_cab_reads(pack):
    """Issue 11: description, justification, plans, requester and CI; long
    text shortened in print with the full text in the HTML and the XLSX."""
    c1, c2 = block(pack, "C1"), block(pack, "C2")
    assert dict(c1.facts)["Requested by"] == "Ann Lee"
    assert dict(c1.facts)["Affected CI"] == "pay-db-prd01"
    assert dict(c1.facts)["Environment"] == "Prod payments (E1)"
    assert c1.reading == [
        ("Description", LONG_TEXT), ("Justification", "Card <b>fees</b>"),
        ("Implementation plan", "1. Deploy\n2. Verify"),
        ("Backout plan", "Redeploy 4.1"), ("Test plan", "")]
    assert dict(c2.facts)["Requested by"] == "(none)"
    page = cab.to_html(pack)
    short = cab.shorten(LONG_TEXT, cab.TEXT_CHARS)
    assert len(LONG_TEXT) > cab.TEXT_CHARS >= len(short)
    assert short.endswith("…") and "END-OF-TEXT" not in short
    assert (f"<dd><details><summary><span>{short}</span></summary>"
            f"{LONG_TEXT}</details></dd>") in page
    assert "<dd>Card &lt;b&gt;fees&lt;/b&gt;</dd>" in page
    assert page.count("Not recorded.") == 1 + 5  # C1 test plan, C2 all
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    sheet = list(book["For decision"].values)
    row = dict(zip(sheet[0], sheet[2], strict=True))  # C1, ranked second
    assert row["Change"] == "C1" and row["Description"] == LONG_TEXT
    assert row["Backout plan"] == "Redeploy 4.1"
    assert row["Affected CI"] == "pay-db-prd01"


def test_pack_lists_releases_going_live_with_the_agenda_changes_they_carry(
        con, monkeypatch):
    load_cab_data(con)
    con.execute("update releases set planned_release_at = "
                "'2026-01-22 20:00Z', application_id = 'A1'")
    con.execute("update changes set release_id = 'R1' where change_id = 'C2'")
    insert(con, "releases", [
        {"release_id": "R2", "name": "At the next meeting", "status":
         "planned", "planned_release_at": "2026-01-27 10:00Z"},  # out
        {"release_id": "R3", "name": "Before this one", "status": "planned",
         "planned_release_at": "2026-01-20 09:00Z"}])  # out
    pack = cab.build_pack(con, MEETING)
    lines = cab.release_lines(pack)
    assert list(lines["Release"]) == ["R1"]
    row = lines.iloc[0].to_dict()
    # judged at the last load (19 Jan 07:40): C2 and C1 await the CAB
    assert row["Status"] == "⚠ At risk"
    assert row["Reasons"] == ("1 change awaiting CAB approval; 1 change not "
                              "yet submitted for approval")
    assert (row["For decision"], row["Agenda changes it carries"]) == (
        2, "#1 C2, #2 C1")
    assert row["Go-live"] == "Thu 22 Jan 2026 20:00"
    # bounded in print: the first n releases, the first m changes named
    assert cab.release_lines(pack, 1, 1)["Agenda changes it carries"][0] \
        == "#1 C2 and 1 more"
    html = cab.to_html(pack)
    assert "Releases going live in the review window" in html
    assert '<span class="chip at_risk">⚠ At risk</span>' in html
    assert cab.releases_note(pack) == ""
    monkeypatch.setattr(cab.tables, "RELEASE_LINES", 0)
    assert "1 releases go live" in cab.releases_note(pack)
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    sheet = list(book["Releases going live"].values)
    assert sheet[1][sheet[0].index("Agenda changes it carries")] == \
        "#1 C2, #2 C1"


def test_an_empty_window_says_no_release_goes_live(con):
    insert_rows(con, "releases", [{  # live a month after the window
        "release_id": "R9", "name": "later", "status": "planned",
        "planned_release_at": "2026-02-20 10:00Z"}])
    pack = cab.build_pack(con, MEETING)
    assert pack.releases.empty and pack.n_releases_loaded == 1
    assert "No release is planned to go live in the review window" in \
        cab.to_html(pack)


def test_with_no_release_loaded_the_pack_says_so_not_that_none_goes_live(
        con):
    """Change data alone (BPIC 2014): the pack's releases said 'No release
    is planned to go live before the next meeting', as if some were loaded
    and none due. It says none is loaded and which file to load, in the
    HTML (and so the PDF); the CAB page's tab shows the same words."""
    pack = cab.build_pack(con, MEETING)
    assert pack.n_releases_loaded == 0
    said = ("No releases are loaded, so none can be shown going live: load "
            "releases.csv (canonical CSV, columns in docs/data-model.md) on "
            "the Data page or with changeboard load csv releases.csv.")
    assert cab.no_release_going_live(pack) == said
    page = cab.to_html(pack)
    assert said in page and "No release is planned" not in page


def test_html_is_self_contained(pack):
    page = cab.to_html(pack)
    lowered = page.lower()
    for reference in ("http", "src=", "href=", "@import", "url(", "<script",
                      "<link", "<img", "<iframe"):
        assert reference not in lowered, reference
    assert "<style>" in page


def test_html_is_one_main_landmark_with_headed_columns(pack):
    """For a screen reader (an accessibility review): everything the pack
    shows is in its one main landmark, and each table's heading cells name
    their column (scope)."""
    page = cab.to_html(pack)
    assert re.search(r"<body><main>\s*<h1>.*</main></body></html>\s*$", page,
                     re.S)
    assert page.count("<main>") == 1
    headings = re.findall(r"<th\b[^>]*>", page)
    assert len(headings) > 20 and set(headings) == {'<th scope="col">'}


def test_html_escapes_user_text(pack):
    page = cab.to_html(pack)
    assert SCRIPT_TITLE not in page
    assert ("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
            "&quot;quoted&quot;") in page
    assert "Payments &amp; &quot;Cards&quot; (A1)" in page
    assert "Other &amp; co" in page


def test_html_right_aligns_every_count_of_the_evidence(pack):
    # the n of each evidence line is a number, whatever type the frame's
    # column gives it (numpy integers included): right-aligned, never text
    page = cab.to_html(pack)
    tables = re.findall(r"<h4>Evidence</h4><table>(.*?)</table>", page)
    assert tables
    for table in tables:
        head = re.findall(r'<th scope="col">(.*?)</th>', table)
        at = head.index("n")
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1]):
            cell = re.findall(r"<td[^>]*>.*?</td>", row)[at]
            assert cell.startswith('<td class="num">'), cell


def test_html_keeps_each_change_block_together_when_printed(pack):
    page = cab.to_html(pack)
    assert re.search(r"section\.change \{[^}]*break-inside: avoid", page)
    assert page.count('<section class="change') == 2


def test_xlsx_has_a_sheet_per_section_and_neutralises_formulas(pack):
    """No decision was ever recorded before this meeting: as README says
    (and the HTML and PDF do), the file leaves the last CAB's decisions
    out; it wrote an empty 'Since last CAB - decisions' sheet (this test
    listed it) that read as a last CAB deciding nothing."""
    assert pack.decided_meeting_at is None
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    assert book.sheetnames == [
        "Summary", "For decision", "Collisions", "Window hits",
        "Booking hits", "Evidence", "Team last failures",
        "Releases going live", "Since last CAB - KPIs", "Failed - review",
        "Emergency - retro approval", "Unauthorised", "Produced by"]
    decision = list(book["For decision"].values)
    header, first = decision[0], decision[1]
    title = first[header.index("Title")]
    assert title == "=SUM(1,2)"  # as written, no quote shown
    cell = book["For decision"].cell(2, header.index("Title") + 1)
    assert cell.data_type == "s" and cell.quotePrefix
    assert [r[0] for r in book["For decision"].iter_rows(
        min_row=2, values_only=True)] == [1, 2]
    produced = dict(book["Produced by"].iter_rows(min_row=2,
                                                  values_only=True))
    assert produced["Batches loaded"] == "1, 3–4"


needs_pdf_tools = pytest.mark.skipif(
    not (Path(cab.CHROMIUM).exists() and shutil.which("pdftotext")
         and shutil.which("pdfinfo")),
    reason="needs /usr/bin/chromium and poppler-utils (pdftotext, pdfinfo)")


def pdf_pages(pdf: Path, layout: bool = True) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return [subprocess.run(
        ["pdftotext", *(["-layout"] if layout else []), "-f", str(p),
         "-l", str(p), str(pdf), "-"],
        capture_output=True, text=True, check=True).stdout
        for p in range(1, pages + 1)]


def landscape(pdf: Path, page: int) -> bool:
    info = subprocess.run(["pdfinfo", "-f", str(page), "-l", str(page),
                           str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    width, height = map(float, re.search(
        r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info).groups())
    return width > height


@needs_pdf_tools
def test_pdf_renders_with_each_block_on_one_page(pack, tmp_path,
                                                monkeypatch):
    # the pages' layout as the data gives it (its n of 1 and 2 would add
    # small-sample notes: test_a_kpis_change_over_a_small_sample_says_so)
    monkeypatch.setattr(cab.tables, "SMALL_N", 1)
    pdf = cab.to_pdf(pack, tmp_path / "pack.pdf")
    text = pdf_pages(pdf)
    assert len(text) == 4
    assert "CAB pack — Tue 20 Jan 2026 10:00 (UTC)" in text[0]
    # page 1 is the agenda, one line per change; the detail starts after it
    assert "Agenda" in text[0] and "Team's last failures" not in text[0]
    assert re.search(r"^\s*1\s+C2\s+=SUM\(1,2\)\s+Very high\s+"
                     r"Thu 22 Jan 01:00\s+Emergency, Not yet submitted, "
                     r"Freeze window\s*$", text[0],
                     flags=re.MULTILINE)
    assert re.search(r"^\s*2\s+C1\s+.*High\s+Wed 21 Jan 20:00\s+"
                     r"Collides with 1 other change, Outside maintenance"
                     r"\s+window, Release bookings\s*$", text[0],
                     flags=re.MULTILINE)
    for change_id in ("C2", "C1"):
        start = [i for i, t in enumerate(text) if f"{change_id} —" in t]
        assert len(start) == 1, change_id
        assert start[0] > 0
        assert "Team's last failures" in text[start[0]]  # block not split
    # codes read as the pages' words, in the blocks and since last CAB
    c2 = next(t for t in text if "C2 —" in t)
    assert re.search(r"Type\s+Emergency\s+Risk\s+Very high\n", c2)
    assert re.search(r"State / approval\s+Authorize / Not yet requested\n",
                     c2)
    assert re.search(r"Year-end freeze \(W1\)\s+Freeze\s", c2)
    assert re.search(r"^\s*H5\s+Backed out\s", c2, flags=re.MULTILINE)
    assert re.search(r"^\s*H2\s+Broke it\s+Normal\s.*\sUnsuccessful\s",
                     text[3], flags=re.MULTILINE)
    # the PDF shows the long description shortened, never its end
    assert "Step000" in text[2] and "END-OF-TEXT" not in "".join(text)
    assert "Since last CAB" in text[3] and landscape(pdf, 4)
    assert not landscape(pdf, 1)
    assert "Batches loaded" in text[-1]
    # its Regenerate command writes a PDF (the HTML's, printed, named one)
    assert "--out cab-pack.pdf" in " ".join(" ".join(text).split())


@needs_pdf_tools
def test_pdf_never_breaks_an_id_or_a_number(sample_db, tmp_path):
    """Issue 11: 'n=322' printed as '32 / 2', 'CHG0007474' as 'CHG0007 /
    474'. Every change id in the PDF's text is a whole id of the pack, every
    agenda id is on page 1, and the evidence n values are whole numbers."""
    meeting = cab.next_meeting()
    pack = cab.build_pack(sample_db, meeting,
                          window_end_at=meeting + pd.Timedelta(days=28))
    assert len(pack.agenda) >= 3
    pdf = cab.to_pdf(pack, tmp_path / "pack.pdf")
    text = pdf_pages(pdf, layout=False)
    known = {*pack.agenda["change_id"], *pack.collisions["change_id_a"],
             *pack.collisions["change_id_b"], *pack.since_last["change_id"],
             *pack.team_failures["change_id"], *pack.booking_hits[
                 "booking_id"]}
    found = re.findall(r"CHG\d+", "\n".join(text))
    assert found and set(found) <= known
    ids = r"(?<![\w-])({})(?![\w-])"
    first = set(re.findall(ids.format("|".join(
        map(re.escape, pack.agenda["change_id"]))), text[0]))
    assert first == set(pack.agenda["change_id"])
    shown = cab.blocks(pack, 6)
    whole = "\n".join(text)
    for block, after in zip(shown, shown[1:], strict=False):
        # the block's text: from its heading to the next one's (a block
        # longer than a page runs on over the next)
        start = whole.index(f"{block.change_id} —")
        page = whole[start:whole.index(f"{after.change_id} —", start)]
        for n in block.evidence["n"].dropna():
            assert re.search(rf"(?<![\d.]){int(n)}(?![\d.])", page), (
                block.change_id, n)
    for n in pack.kpis["since_n"]:
        assert re.search(rf"(?<![\d.]){int(n)}(?![\d.])", text[-1]
                         + "".join(text)), n
    # nor an environment's, application's or release's id in running text
    # ('PGW-UK-PRD (ENV-' ending a line, '0511)' starting the next, at 1M)
    assert not re.search(r"[A-Z]{2,}-\n", "\n".join(text))


@needs_pdf_tools
def test_a_releases_go_live_prints_on_one_line_at_the_packs_own_size(
        sample_db, tmp_path):
    """The releases' landscape page printed every go-live as 'Wed 09 Dec
    2026' over '20:00' (the README: dates never wrap in a table); kept
    whole, the table still fits its page: page 1 prints at the size of a
    pack without releases."""
    meeting = cab.next_meeting()
    pack = cab.build_pack(sample_db, meeting,
                          window_end_at=meeting + pd.Timedelta(days=28))
    assert len(pack.releases) >= 3
    printed = cab.to_pdf(pack, tmp_path / "pack.pdf")
    lines = "\n".join(pdf_pages(printed)).splitlines()
    lines = lines[next(i for i, line in enumerate(lines)
                       if "Releases going live in the review" in line):]
    instants = r"[A-Z][a-z]{2} \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d"
    # the table's rows (each starts with its release's id), in its order
    n = len(pack.releases.head(cab.tables.RELEASE_LINES))
    shown = [line for line in lines if re.match(r"\s*REL-\d+ ", line)][:n]
    assert len(shown) == n
    assert all(re.search(instants, line) for line in shown), shown
    plain = cab.to_pdf(replace(pack, releases=pack.releases.head(0)),
                       tmp_path / "plain.pdf")
    # not shrunk to fit: page 1's text at the size it has without them
    # (its words differ: the agenda says which releases a change is in)
    assert statistics.mode(word_heights(printed, 1)) == statistics.mode(
        word_heights(plain, 1))


@needs_pdf_tools
def test_chinese_japanese_and_korean_print_as_glyphs_not_boxes(tmp_path,
                                                               caplog):
    """A title or team name in Chinese, Japanese or Korean printed as a row
    of identical boxes: no installed font had them (the make target now
    installs one beside DejaVu). Each character, printed large on a page
    of its own, now draws differently, and the print says nothing."""
    from reports.cab import pdf as pdf_module
    text = "変数변"
    pages = "".join(f'<p style="font-size:300px; page-break-after:always">'
                    f"{char}</p>" for char in text)
    printed = pdf_module.print_pdf(f"<html><body>{pages}</body></html>",
                                   tmp_path / "cjk.pdf")
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(printed),
                    str(tmp_path / "page")], check=True)
    drawn = [path.read_bytes() for path in sorted(tmp_path.glob("page*.png"))]
    assert len(drawn) >= len(text)
    assert len(set(drawn[:len(text)])) == len(text)
    assert not [r for r in caplog.records if r.name == "changeboard.pdf"]


@needs_pdf_tools
def test_a_character_no_font_has_is_named_when_the_pdf_is_printed(
        tmp_path, caplog):
    """Chromium prints a character no installed font has as a box and
    says nothing: the print names each such character (a Linear B sign
    here, which no font of the machine has) and what to install."""
    from reports.cab import pdf as pdf_module
    assert "\U00010000" in pdf_module.unprintable("CHG1 \U00010000 変 é")
    assert pdf_module.unprintable("CHG1 変 é — ＝") == []
    with caplog.at_level("WARNING", logger="changeboard.pdf"):
        pdf_module.print_pdf("<html><body>CHG1 \U00010000 変</body></html>",
                             tmp_path / "x.pdf")
    said = [r.getMessage() for r in caplog.records
            if r.name == "changeboard.pdf"]
    assert len(said) == 1
    assert said[0].startswith("x.pdf: no font installed here has \U00010000"
                              " (U+10000) (1 character in all), so the PDF "
                              "prints them as boxes.")
    assert "fonts-noto" in said[0]


def word_heights(pdf: Path, page: int) -> list[float]:
    """The height of each word's box on a page of the PDF, in points."""
    boxes = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l",
                            str(page), str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    return sorted(float(low) - float(high) for high, low in re.findall(
        r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', boxes))


@needs_pdf_tools
def test_a_wide_since_list_prints_the_pack_at_its_own_size(pack, tmp_path):
    """At a million changes the failed list's twelve columns, each cell on
    one line ('Tue 01 Dec 2026 10:15' three times, 'Successful with
    issues'), were wider than the landscape page, and Chromium shrank the
    whole print to fit them: the agenda's 7.5 pt came out at 6.2 pt, a
    title column 85 px wide. An instant may wrap between its day and its
    time, plain words between words (an id never), so page 1 prints at the
    size of a pack without that list."""
    alone = pack.since_last[pack.since_last["review_reason"] != "failed"]
    plain = cab.to_pdf(replace(pack, since_last=alone), tmp_path / "a.pdf")
    at = pd.Timestamp("2026-01-15 11:00", tz="UTC")
    row = pack.since_last[pack.since_last["review_reason"] == "failed"] \
        .iloc[[0]]
    wide = pd.concat([row.assign(
        change_id=f"CHG09{i:05d}", change_type="emergency", risk="very_high",
        title="Emergency: Upgrade application runtime on "
        f"cpt-apac-mq-prd0{i % 10}", assignment_group="Database "
        "Administration", close_code="successful_with_issues",
        approval="not_yet_requested", approved_at=at, actual_start_at=at,
        outcome_at=at, is_failed_by_incident=True,
        is_failed_by_rollback=True) for i in range(12)])
    printed = cab.to_pdf(replace(pack, since_last=pd.concat([alone, wide])),
                         tmp_path / "b.pdf")
    text = "".join(pdf_pages(printed, layout=False))
    assert "CHG0900011" in text and "cpt-apac-mq-prd01" in text
    assert word_heights(printed, 1) == word_heights(plain, 1)


def test_the_packs_counts_have_thousands_separators(pack, monkeypatch):
    """The pack's headline read '3128 For decision' where the page says
    3,128 (at 1M)."""
    from reports.cab import tables
    monkeypatch.setattr(tables, "headline",
                        lambda _: [("For decision", 3128), ("Emergency", 0)])
    page = cab.to_html(pack)
    assert '<div class="count"><b>3,128</b>For decision</div>' in page
    assert "<b>3128</b>" not in page


def test_the_emergency_list_says_it_lists_changes_started(pack):
    """'Emergency changes implemented: retrospective approval (215)' listed
    emergency changes started since the last CAB, 58 of them still being
    implemented at 1M, beside a KPI counting completed ones (159): the
    heading says started, as cab_since_last lists them; and review, not
    approval: an emergency change approved before it started is listed
    too, with its approval."""
    from reports.cab import tables
    said = tables.REASONS["emergency"]
    assert said == "Emergency changes started: retrospective review"
    assert f"<h3>{said}" in cab.to_html(pack)


def test_a_sheets_change_in_points_is_free_of_float_error():
    """The XLSX's Change cell of a success rate 50% after 40% held
    9.999999999999998 (shown '+10.0 pp' by its format, read off by a
    script); the text rounds as before."""
    assert cab.tables._delta(0.5, 0.4, sheet=True) == 10.0
    assert cab.tables._delta(0.5, 0.4) == "+10.0 pp"
    assert cab.tables._delta(2 / 3, 0.5, sheet=True) == round(
        100 * (2 / 3 - 0.5), 10)


def test_running_text_keeps_ids_host_names_and_hours_whole():
    """A browser breaks a line after a dash: the pack's text cells, facts
    and flags keep a word with a dash inside whole (span.nw, white-space:
    nowrap in pack.css), and a number beside its hours."""
    from reports.markup import definition_list, html_table, running
    said = running("PGW-UK-PRD (ENV-0511) on cre-de-batch-prd02, (5.0 h) x")
    assert said == (
        '<span class="nw">PGW-UK-PRD</span> <span class="nw">(ENV-0511)'
        '</span> on <span class="nw">cre-de-batch-prd02,</span> '
        '<span class="nw">(5.0 h)</span> x')
    assert running("Plan & 2 h – done") == (
        'Plan &amp; <span class="nw">2 h</span>&nbsp;– done')
    # a change's plan printed '15:00 –' above '17:00 (2.0 h)'
    assert running("Wed 09 Dec 2026 15:00 – 17:00 (2.0 h)") == (
        '<span class="nw">Wed 09 Dec 2026</span> '
        '<span class="nw">15:00&nbsp;– 17:00</span> '
        '<span class="nw">(2.0 h)</span>')
    # a plan's length in hours and minutes stays on one line too
    assert running("17:30 – 20:45 (3 h 15 min) x (45 min)") == (
        '<span class="nw">17:30&nbsp;– 20:45</span> '
        '<span class="nw">(3 h 15 min)</span> x '
        '<span class="nw">(45 min)</span>')
    # and one of two days printed 'Mon' above '14 Dec 2026 00:45'
    assert running("Sun 13 Dec 2026 21:00 – Mon 14 Dec 2026 00:45") == (
        '<span class="nw">Sun 13 Dec 2026</span> 21:00&nbsp;– '
        '<span class="nw">Mon 14 Dec 2026</span> 00:45')
    assert '<span class="nw">(APP-178)</span>' in html_table(
        pd.DataFrame({"Application": ["Cards (APP-178)"]}), "none")
    assert '<dd>Cards <span class="nw">(APP-178)</span></dd>' in \
        definition_list([("Application", "Cards (APP-178)")])
    css = (ROOT / "reports" / "cab" / "pack.css").read_text()
    assert re.search(r"span\.nw \{ white-space: nowrap; \}", css)
    # a release's agenda changes printed '#1 CHG0000804, #2' above
    # 'CHG0000803': a rank keeps to its change, the list wraps after a comma
    assert running("#1 CHG0000804, #2 CHG0000803 and 3 more") == (
        '<span class="nw">#1 CHG0000804</span>, '
        '<span class="nw">#2 CHG0000803</span> and 3 more')



def test_a_span_wraps_after_its_day_and_never_before_its_dash():
    """The minutes' plan 'Wed 09 Dec 2026 15:00 – 17:00' printed '15:00'
    above '– 17:00': one day's span may wrap after its day only, and a span
    of two days keeps its dash at the end of the first line."""
    from reports.markup import html_table
    table = html_table(pd.DataFrame({"Planned": [
        "Wed 09 Dec 2026 15:00 – 17:00",
        "Sun 13 Dec 2026 21:00 – Mon 14 Dec 2026 00:45"]}), "none")
    assert ('<td><span class="nw">Wed 09 Dec 2026</span> '
            '<span class="nw">15:00 – 17:00</span></td>') in table
    assert ('<td><span class="nw">Sun 13 Dec 2026 21:00</span>&nbsp;– '
            '<span class="nw">Mon 14 Dec 2026 00:45</span></td>') in table


def test_a_cell_may_wrap_only_where_its_words_allow_it():
    """A cell stays on one line (td.nw); on a landscape page an instant may
    wrap between its day and its time (each whole) and plain words between
    words, but a cell holding an id or a host name never wraps."""
    from reports.markup import html_table
    table = html_table(pd.DataFrame({
        "Started": ["Tue 01 Dec 2026 10:15"],
        "Close code": ["Successful with issues"],
        "Release": ["REL-62490"], "Risk": ["Very high (APP-1)"]}), "none")
    assert ('<td class="nw inst"><span class="nw">Tue 01 Dec 2026</span> '
            '<span class="nw">10:15</span></td>') in table
    assert '<td class="nw words">Successful with issues</td>' in table
    assert '<td class="nw">REL-62490</td>' in table
    assert '<td class="nw">Very high (APP-1)</td>' in table
    css = (ROOT / "reports" / "cab" / "pack.css").read_text()
    assert "section.wide td.inst, section.wide td.words { white-space: " \
        "normal; }" in css


@needs_pdf_tools
def test_a_weeks_agenda_prints_on_page_1_under_one_row_of_cards(
        sample_db, tmp_path):
    """The sample's next meeting (40 changes for decision, a few with two
    flags on two lines) printed its sixth headline card on a row of its
    own and the last three agenda lines on page 2, where README says the
    agenda is page 1: the six cards print on one row and a 40-line agenda,
    five of its lines wrapping their flags, on page 1."""
    import dataclasses
    meeting = cab.next_meeting()
    pack = cab.build_pack(sample_db, meeting,
                          window_end_at=meeting + pd.Timedelta(days=28))
    assert len(pack.agenda)
    agenda = pd.concat([pack.agenda] * (40 // len(pack.agenda) + 1),
                       ignore_index=True).head(40)
    agenda = agenda.assign(
        agenda_rank=range(1, 41), change_id=[f"CHG9{i:06d}" for i in
                                             range(1, 41)],
        title="Upgrade application runtime on the payments gateway",
        n_collisions=[1 if i % 8 == 0 else 0 for i in range(40)],
        n_blackout_hits=[1 if i % 8 == 0 else 0 for i in range(40)])
    pdf = cab.print_pdf(cab.to_html(dataclasses.replace(pack, agenda=agenda)),
                        tmp_path / "pack.pdf")
    first = pdf_pages(pdf)[0]
    assert re.search(r"For decision.*Emergency.*Very high risk.*Collision"
                     r".*Left off:.*Left off:", first), first[:800]
    ids = re.findall(r"CHG9\d{6}", first)
    assert ids == list(agenda["change_id"]), ids[-3:]
    # each flag in full, wherever its line wraps (a window into January
    # prints the planned starts' year, and the flags column is narrower)
    flowing = " ".join(first.split())
    assert flowing.count("Collides with 1 other change,") == 5
    assert flowing.count("Blackout window") == 5

# --- CLI and page --------------------------------------------------------------

def test_cli_writes_each_format(cab_db, tmp_path, capsys):
    for fmt in ("html", "xlsx"):
        out = tmp_path / f"pack.{fmt}"
        assert cli.main(["cab", "--date", "2026-01-20", "--db", str(cab_db),
                         "--format", fmt, "--out", str(out)]) == 0
        assert out.stat().st_size > 0
    assert "2 changes for decision" in capsys.readouterr().out
    # one change: the count reads in the singular
    assert cli.main(["cab", "--date", "2026-01-20", "--db", str(cab_db),
                     "--teams", "Core", "--format", "html", "--out",
                     str(tmp_path / "one.html")]) == 0
    assert "(1 change for decision)" in capsys.readouterr().out
    html_text = (tmp_path / "pack.html").read_text()
    with db.connect(cab_db, read_only=True) as con:
        assert html_text == cab.to_html(cab.build_pack(con, MEETING))


def test_cli_rejects_a_bad_date_and_a_missing_database(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["cab", "--date", "20-01-2026", "--format", "html",
                  "--out", str(tmp_path / "x.html")])
    assert stop.value.code == 2
    assert cli.main(["cab", "--date", "2026-01-20", "--db",
                     str(tmp_path / "none.duckdb"), "--format", "html",
                     "--out", str(tmp_path / "x.html")]) == 2  # was 1
    assert "no database" in capsys.readouterr().err


def _cab_page(path, monkeypatch, **url):
    """The CAB page of the 20 January meeting on the database at path, with
    any other `url` parameters."""
    monkeypatch.setattr(config, "DB_PATH", path)
    st.cache_data.clear()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update({"meeting": "2026-01-20", **url})
    app.switch_page("views/cab.py").run()
    assert not app.exception
    return app


def test_a_pack_past_the_datas_end_says_so_first_in_each_file(
        cab_db, tmp_path, monkeypatch, capsys):
    """BPIC 2014's pack of the next meeting (08 Dec 2026) read '0 changes
    for decision' and 'None' in each list, a quiet week, with nothing
    saying the changes end on 31 Mar 2014: the page opens on the meeting
    after the data, a file built from the CLI did not. Each file says it
    first (HTML and PDF at the top, the XLSX's Produced by), the CLI warns
    on stderr, and the page says it of a meeting picked past the data; the
    meeting the data covers says nothing."""
    from changeboard import cli as changeboard_cli

    out = tmp_path / "late.html"
    assert changeboard_cli.main(["report", "cab", "--date", "2026-12-08",
                                 "--db", str(cab_db), "--out", str(out)]) == 0
    with db.connect(cab_db, read_only=True) as con:
        late = cab.build_pack(con, date(2026, 12, 8))
        current = cab.build_pack(con, MEETING)
    ends = late.data_ends
    assert ends is not None and current.data_ends is None
    said = (f"The changes' data ends on {ends:%d %b %Y}, before this pack's "
            "days (since the last CAB, from 01 Dec 2026): its agenda and "
            "counts hold nothing of them, which is no news of a quiet week.")
    assert said in capsys.readouterr().err
    page = unescape(out.read_text())
    assert f'<p class="note alert">{said}' in page
    assert page.index(said) < page.index("<h2>Agenda</h2>")
    produced = dict(openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(late)))[
        "Produced by"].iter_rows(min_row=2, values_only=True))
    assert produced["Data ends"].startswith(said)
    assert "data ends" not in unescape(cab.to_html(current))
    app = _cab_page(cab_db, monkeypatch, meeting="2026-12-08")
    assert [w.value for w in app.warning if w.value.startswith(said)]
    assert not [w.value for w in _cab_page(cab_db, monkeypatch).warning
                if "data ends" in w.value]


def test_the_agendas_flags_show_the_longest_line_whole(cab_db, monkeypatch):
    """Streamlit sized the agenda's Flags column by its first rows: at a
    million changes a line further down read 'Collides with 2 other
    changes, Blac…'. The column is as wide as its longest line (up to 640
    pixels, about 77 characters)."""
    import json

    app = _cab_page(cab_db, monkeypatch)
    agenda = next(d for d in app.dataframe if "Flags" in d.value.columns)
    longest = max(len(f) for f in agenda.value["Flags"])
    assert longest > 40, agenda.value["Flags"]  # more than one flag
    widths = {k: v.get("width") for k, v in json.loads(
        agenda.proto.columns).items()}
    assert widths["Flags"] >= min(640, 24 + 8 * longest)
    # the title at most 300 pixels: at 1280 the flags began at the edge
    assert widths["Title"] <= 300
    # once the meeting has a decision, a Decision column beside the id:
    # the title and it narrower, or the flags began beyond the edge
    from changeboard import auth, decisions
    decisions.record(cab_db, auth.single_user(), MEETING,
                     agenda.value["Change"].iloc[0], "approved")
    app = _cab_page(cab_db, monkeypatch)
    agenda = next(d for d in app.dataframe if "Flags" in d.value.columns)
    widths = {k: v.get("width") for k, v in json.loads(
        agenda.proto.columns).items()}
    assert list(agenda.value.columns[:3]) == ["#", "Change", "Decision"]
    assert widths["Title"] <= 180 and widths["Decision"] <= 110
    assert widths["Flags"] >= min(640, 24 + 8 * longest)


def test_the_cab_pages_definitions_give_the_command_of_the_packs_numbers(
        cab_db, monkeypatch):
    """'How is similar change history computed?' ended with `python -m
    changeboard query similar_change_history --param ...`: run with its
    defaults it reads the history up to now, not the meeting, and gave
    27,944 where the page said 27,923 at a million changes. Each of the
    CAB page's definitions gives the command with the pack's own
    parameters, and that command gives the pack's rows."""
    import shlex
    import subprocess
    import sys

    from changeboard import asof
    monkeypatch.setattr(asof, "chosen", lambda: None)
    app = open_definitions(_cab_page(cab_db, monkeypatch))
    said = {e.label: e for e in app.expander if e.label.startswith("How is")}
    pack = cab.build_pack(cab_db, MEETING)
    for name, label, rows in (
            ("cab_agenda", "How is the agenda computed?", pack.agenda),
            ("change_collisions", "How is a collision computed?",
             pack.collisions),
            ("similar_change_history",
             "How is the similar-change history computed?", pack.similar)):
        command = said[label].code[0].value
        assert command.startswith(f"python -m changeboard query {name} ")
        assert "--param window_start_at=" in command or \
            "--param 'window_start_at=" in command
        done = subprocess.run(
            [sys.executable, "-m", *shlex.split(command)[2:], "--format",
             "json"], cwd=ROOT, capture_output=True, text=True, check=True)
        got = pd.read_json(io.StringIO(done.stdout))
        assert len(got) == len(rows) > 0, name
        if name == "similar_change_history":
            assert got["n"].fillna(-1).tolist() \
                == rows["n"].fillna(-1).tolist()


def test_the_since_tab_says_the_data_ends_before_its_days(cab_db,
                                                          monkeypatch):
    """The meeting after next, read on data loaded Mon 19 Jan: its "since
    last CAB" days (20 to 27 Jan) are all after the load. The tab said
    'None since the last meeting.' under each list; it now says the data
    ends before those days, and that each list is none so far."""
    app = _cab_page(cab_db, monkeypatch, meeting="2026-01-27", tab="since")
    assert [w.value.replace("\\", "") for w in app.warning] == [
        "The data was loaded Mon 19 Jan 2026 07:40 UTC, before these days "
        "start on 20 Jan 2026: nothing since the last CAB is in it yet, and "
        "the period before is counted only up to then. Load the data again "
        "before the meeting."]
    said = [c.value for c in app.caption if c.value.startswith("None")]
    assert said == ["None in the data so far (loaded Mon 19 Jan 2026 07:40 "
                    "UTC)."] * 3
    # the meeting the data was loaded for: its lists, no warning
    app = _cab_page(cab_db, monkeypatch, tab="since")
    assert not app.warning


@pytest.mark.parametrize(("now", "opens", "said"), [
    # the fixture's data runs to 16 Jan 2026: its meeting opens as before
    ("2026-01-16 12:00", date(2026, 1, 20), None),
    # months later, all of it older than the next meeting's "since last
    # CAB": an empty pack opened; now the meeting after the data ends
    ("2026-06-01 12:00", date(2026, 1, 20),
     "The changes' data ends on 16 Jan 2026: the pack opens on the "
     "meeting after it."),
    # a release history loaded beside them runs later (endoflife.date to
    # 2026 beside BPIC 2014): the page opened on the meeting after its last
    # release, with no change to decide; releases aside, it opens as above
    ("2026-06-01 12:00 +release", date(2026, 1, 20),
     "The changes' data ends on 16 Jan 2026: the pack opens on the "
     "meeting after it."),
    # an incident log loaded beside them runs later (the UCI log to 2016
    # beside BPIC 2014): the page opened on the meeting after its last
    # incident, with no change to decide or since the last CAB; an
    # incident no loaded change caused aside, it opens as above
    ("2026-06-01 12:00 +incident", date(2026, 1, 20),
     "The changes' data ends on 16 Jan 2026: the pack opens on the "
     "meeting after it."),
])
def test_the_page_opens_on_the_meeting_after_the_data_when_all_is_older(
        cab_db, monkeypatch, now, opens, said):
    """On BPIC 2014 the page opened on next week's meeting: an empty
    agenda and since-last-CAB, 'pick another meeting date', and no word of
    which: a dead end. As the calendar opens on the day the data ends, the
    page opens on the meeting after it, and says so."""
    from datetime import UTC

    from reports.cab import meetings

    now, _, later = now.partition(" +")
    with db.publish(cab_db) as con:
        if later == "release":
            insert_rows(con, "releases", [{
                "release_id": "R-LATER", "name": "Later", "status":
                "released", "planned_release_at": "2026-05-20 10:00Z",
                "actual_release_at": "2026-05-28 10:00Z"}])
        elif later == "incident":
            insert_rows(con, "incidents", [{
                "incident_id": "INC-LATER", "opened_at": "2026-05-28 10:00Z",
                "priority": 3}])
    clock = datetime.fromisoformat(now).replace(tzinfo=UTC)
    real = meetings.next_meeting
    monkeypatch.setattr(cab, "next_meeting",
                        lambda after=None: real(after or clock))
    monkeypatch.setattr(config, "DB_PATH", cab_db)

    def opened(**url):
        app = open_linked("cab", **url)
        return app, [c.value for c in app.caption
                     if c.value.startswith("The changes' data ends")]

    app, notes = opened()
    assert app.date_input(key="cab-meeting").value == opens
    assert notes == ([said] if said else [])
    assert app.query_params["meeting"] in (opens.isoformat(),
                                           [opens.isoformat()])
    # a meeting named in the address is kept, without the note
    app, notes = opened(meeting="2026-01-13")
    assert app.date_input(key="cab-meeting").value == date(2026, 1, 13)
    assert notes == []


def test_cli_and_page_produce_the_same_pack(cab_db, tmp_path, monkeypatch):
    out = tmp_path / "cli.html"
    assert cli.main(["cab", "--date", "2026-01-20", "--db", str(cab_db),
                     "--format", "html", "--out", str(out)]) == 0
    built = []
    original = cab.build_pack

    def recording(*args, **kwargs):
        built.append(original(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(cab, "build_pack", recording)
    app = _cab_page(cab_db, monkeypatch)
    assert built and cab.to_html(built[-1]) == out.read_text()
    headings = [m.value for m in app.markdown if m.value.startswith("### ")]
    assert [h.split()[1] for h in headings] == ["1.", "2."]
    assert "C2" in headings[0] and "C1" in headings[1]
    assert app.query_params["meeting"] in ("2026-01-20", ["2026-01-20"])
    # C2 is in no release: the page says so as the files do, not "No
    # booking of its release overlaps the plan"
    said = [c.value for c in app.caption
            if c.value.startswith("Environment bookings of its release")]
    assert said == ["Environment bookings of its release: The change "
                    "belongs to no release."]
    # a change's description and plans are drawn when its expander opens
    readings = [e for e in app.expander
                if e.label == "Description, justification and plans"]
    assert len(readings) == 2 and not any(e.children for e in readings)
    app.session_state["cab-reading-C1"] = True
    app.run()
    assert not app.exception
    texts = [t.value for t in app.text]
    assert "Redeploy 4.1" in texts and "1. Deploy\n2. Verify" in texts
    labels = [m.value for m in app.markdown if m.value.startswith("**")]
    assert labels.count("**Backout plan**") == 1  # C1's alone


def test_blocks_as_arrow_tables_hold_what_the_frames_hold(pack):
    """The page's blocks (arrow=True: each table built straight as Arrow)
    hold the same columns and values as the files' pandas frames."""
    import pyarrow as pa

    framed, tabled = cab.blocks(pack), cab.blocks(pack, arrow=True)
    assert [b.change_id for b in framed] == [b.change_id for b in tabled]
    shown = 0
    for frames_of, tables_of in zip(framed, tabled, strict=True):
        for name in ("collisions", "window_hits", "bookings", "evidence",
                     "last_failures"):
            frame, table = getattr(frames_of, name), getattr(tables_of, name)
            assert isinstance(table, pa.Table)
            assert table.column_names == list(frame.columns)
            assert table.to_pylist() == pa.Table.from_pandas(
                frame, preserve_index=False).to_pylist()
            shown += len(table)
    assert shown > 10  # the fixture's blocks have rows in their tables


def test_page_renders_on_the_sample(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    app.switch_page("views/cab.py").run()
    assert not app.exception
    assert [t.label for t in app.tabs][1] == "Since last CAB"
    assert [t.label for t in app.tabs][2].startswith("Releases going live (")


def _drawn(app) -> dict[str, bool]:
    """Which of the CAB page's tabs have their content drawn."""
    texts = [e.value for e in [*app.caption, *app.header, *app.subheader,
                               *app.markdown]]
    return {
        "decide": any(t.startswith("### 1. ") for t in texts),
        "since": "What happened since the last CAB" in texts,
        "releases": cab.RELEASES_INTRO in texts,
        "decisions": "Attendees" in texts}


def test_only_the_open_tab_is_drawn_and_the_url_names_it(cab_db,
                                                         monkeypatch):
    """The tabs are lazy: the open one runs, the others only show their
    label (with its count); ?tab= opens one (a link to it), an unknown one
    is dropped from the address."""
    app = _cab_page(cab_db, monkeypatch)
    assert _drawn(app) == {"decide": True, "since": False,
                           "releases": False, "decisions": False}
    assert [t.label for t in app.tabs] == [
        "For decision (2)", "Since last CAB", "Releases going live (0)",
        "Decisions and minutes (0)"]
    for tab in ("since", "releases", "decisions"):
        app.query_params["tab"] = tab
        app.run()
        assert not app.exception
        assert _drawn(app) == {name: name == tab for name in _drawn(app)}
        assert len(app.tabs) == 4
    for tab in ("nonsense", "decide"):  # the first tab has no ?tab
        app.query_params["tab"] = tab
        app.run()
        assert _drawn(app)["decide"] and "tab" not in app.query_params


def test_the_open_tab_is_kept_away_and_back_by_the_navigation(
        cab_db, monkeypatch):
    """A CAB member on "Since last CAB" who looked at the Overview came back
    to "For decision" (a page link has no ?tab), while the meeting was
    kept: the tab open last in the session opens, picked or linked to; a
    link's own ?tab, or a pick of the first tab, still wins."""
    app = _cab_page(cab_db, monkeypatch)
    click_tab(app, "Since last CAB")  # picked
    assert app.query_params["tab"] == "since"

    def away_and_back():
        app.switch_page("views/overview.py").run()
        app.query_params.clear()
        app.switch_page("views/cab.py").run()
        assert not app.exception
        return {name for name, drawn in _drawn(app).items() if drawn}

    assert away_and_back() == {"since"}
    assert app.query_params["tab"] == "since"  # and the address says it
    app.query_params["tab"] = "releases"  # linked to
    app.run()
    assert away_and_back() == {"releases"}
    click_tab(app, app.tabs[0].label)  # the first tab: no ?tab
    assert "tab" not in app.query_params
    assert away_and_back() == {"decide"}
    # a link naming a meeting and no tab (Release readiness's 'Open the CAB
    # pack of that meeting', under the changes waiting for a decision)
    # opens For decision, whatever tab was open last
    click_tab(app, "Since last CAB")
    app.switch_page("views/overview.py").run()
    app.query_params.clear()
    app.query_params["meeting"] = "2026-01-20"
    app.switch_page("views/cab.py").run()
    assert not app.exception
    assert {name for name, drawn in _drawn(app).items() if drawn} == {
        "decide"}


@pytest.mark.parametrize("name", ["cab_since_last", "application_incidents"])
def test_new_queries_run_on_the_sample(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        db.run(con, name, start_date="2025-01-01", end_date="2026-01-01")


def test_pack_builds_on_the_sample(sample_db):
    pack = cab.build_pack(sample_db, cab.next_meeting())
    assert cab.to_html(pack) and cab.to_xlsx(pack)


def test_records_are_to_dicts_records_value_for_value():
    """reports.text.records: what to_dict("records") gives, each value of
    the same type (a missing one None where to_dict says None, NaN and NaT
    as they are), for every kind of column a pack's frames hold."""
    import datetime as dt

    import numpy as np
    import pyarrow as pa

    from reports.text import records
    arrow = pd.ArrowDtype
    frame = pd.DataFrame({
        "text": pd.array(["a", None, "c"], dtype="string[pyarrow]"),
        "object": ["a", None, np.nan],
        "object_na": pd.Series(["a", pd.NA, "c"], dtype=object,
                               index=[7, 3, 5]),
        "int": np.array([1, 2, 3]),
        "Int64": pd.array([1, None, 3], dtype="Int64"),
        "bool": np.array([True, False, True]),
        "boolean": pd.array([True, None, False], dtype="boolean"),
        "float": [1.5, np.nan, 2.0],
        "instant": pd.to_datetime(["2026-01-01", None, "2026-01-03"],
                                  utc=True),
        "arrow_instant": pd.array(
            [pd.Timestamp("2026-01-01", tz="UTC"), None,
             pd.Timestamp("2026-01-02 10:30", tz="UTC")],
            dtype=arrow(pa.timestamp("us", tz="UTC"))),
        "arrow_int": pd.array([1, None, 3], dtype=arrow(pa.int64())),
        "arrow_text": pd.array(["x", None, "z"], dtype=arrow(pa.string())),
        "arrow_bool": pd.array([True, None, False], dtype=arrow(pa.bool_())),
        "arrow_float": pd.array([1.5, None, 2.0], dtype=arrow(pa.float64())),
        "date": [dt.date(2026, 1, 1), None, dt.date(2026, 1, 3)],
        "arrow_date": pd.array([dt.date(2026, 1, 1), None,
                                dt.date(2026, 1, 3)],
                               dtype=arrow(pa.date32())),
        "list": [["a"], None, []],
        "span": pd.to_timedelta([1, None, 3], unit="h"),
    }, index=[7, 3, 5])
    expected = frame.to_dict("records")
    got = records(frame)
    assert len(got) == len(expected) == 3
    for mine, theirs in zip(got, expected, strict=True):
        assert list(mine) == list(theirs)
        for column in theirs:
            a, b = mine[column], theirs[column]
            assert type(a) is type(b), (column, a, b)
            assert a is b or a == b or (pd.isna(a) and pd.isna(b)), column
    assert records(frame.iloc[:0]) == []
    assert records(pd.DataFrame(index=range(2))) == [{}, {}]


def test_when_formats_each_instant_in_its_zone_across_a_dst_change():
    """reports.text.when, formatted once per instant and zone: the same
    text as converting each value, naive values read as UTC, across the
    autumn change in Europe/London and in another zone."""
    from reports.text import when
    instants = pd.date_range("2026-10-24 22:00", "2026-10-26 02:00",
                             freq="30min", tz="UTC")
    for zone in ("Europe/London", "America/New_York", "UTC"):
        for stamp in [*instants, *instants]:  # the second pass: remembered
            expected = stamp.tz_convert(zone).strftime("%a %d %b %Y %H:%M")
            assert when(stamp, zone) == expected
            assert when(stamp.tz_localize(None), zone) == expected
            assert when(stamp.to_pydatetime(), zone) == expected
    assert when(pd.Timestamp("2026-10-25 00:30", tz="UTC"),
                "Europe/London") == "Sun 25 Oct 2026 01:30"
    assert when(pd.Timestamp("2026-10-25 01:30", tz="UTC"),
                "Europe/London") == "Sun 25 Oct 2026 01:30"  # GMT again
    assert when(None) == when(pd.NaT) == when(float("nan")) == ""


TIME_FORMAT = "ddd dd mmm yyyy hh:mm"  # as the pack: Sun 08 Mar 2026 01:30
# text a sheet should hold as a date cell or a number, not as text
DATE_TEXT = re.compile(r"\b\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}\b")
NUMBER_TEXT = re.compile(
    r"^[+-]?\d[\d,]*(\.\d+)?( ?%| pp| h| failed| emergency| unauthorised)?$")


def sheet_cells(book) -> dict[str, tuple[list, list[dict]]]:
    """sheet -> (its column titles, its rows as {title: openpyxl cell})."""
    found = {}
    for sheet in book:
        rows = list(sheet.iter_rows())
        titles = [c.value for c in rows[0]] if rows else []
        found[sheet.title] = (titles, [dict(zip(titles, r, strict=True))
                                       for r in rows[1:]])
    return found


def assert_cells_typed(book, zone: str) -> int:
    """Every instant of the pack's workbook a date cell in `zone`, which
    its column's title names, shown as the pack shows it; no date or
    number written as text (the provenance sheet is statements, and an
    evidence line's Result a sentence: 'P1 1 · ... latest opened Fri 16
    Jan 2026 03:00'); the number of date cells."""
    n_dates = 0
    for name, (titles, rows) in sheet_cells(book).items():
        assert not [t for t in titles if "(UTC)" in t and zone != "UTC"]
        zoned = [t for t in titles if t.endswith(f" ({zone})")]
        for row in rows:
            for title, cell in row.items():
                if title in zoned and cell.value is not None:
                    assert isinstance(cell.value, datetime), (name, title)
                    assert cell.number_format == TIME_FORMAT, (name, title)
                    n_dates += 1
                else:
                    assert not isinstance(cell.value, datetime), (name, title)
                if isinstance(cell.value, str) and name != "Produced by":
                    assert (name, title) == ("Evidence", "Result") or \
                        not DATE_TEXT.search(cell.value), (name, title)
                    assert not NUMBER_TEXT.match(cell.value), (name, title)
    return n_dates


def column(book, sheet: str, title: str, key: str = "Change") -> dict:
    """A sheet's cells of one column by the row's `key` column."""
    _, rows = sheet_cells(book)[sheet]
    return {row[key].value: row[title] for row in rows}


def test_the_xlsx_writes_instants_as_dates_in_the_packs_zone_and_numbers_as_numbers(
        cab_db, tmp_path, monkeypatch, capsys):
    """The XLSX wrote every instant as text ('Sun 08 Mar 2026 01:30'), the
    KPIs as '96.7%', '2 failed' and '+1.5 pp' and a plan's hours inside
    its text: an analyst could not sort or filter them. Instants are now
    date cells holding the wall time in the pack's zone (Excel has no
    zones), which each column's title names, shown as the pack shows
    them; a plan is its start, end and hours; KPIs are numbers. In New
    York, across the start of summer time: a plan from 01:30 EST to 03:30
    EDT is one hour."""
    from changeboard import auth, decisions
    from changeboard import cli as changeboard_cli

    zone = "America/New_York"
    monkeypatch.setattr(config, "REPORTING_TZ", zone)
    with db.publish(cab_db) as con:
        insert(con, "changes", [planned(
            "C9", "2026-03-08 06:30Z", "2026-03-08 07:30Z", risk="high",
            application_id="A2", assignment_group="Core", title="Spring")])
        insert(con, "releases", [{
            "release_id": "R9", "name": "R9", "status": "planned",
            "planned_release_at": "2026-03-08 07:00Z"}])  # 03:00 EDT
    member = auth.User(email="chair@acme.example", name="Chair",
                       signed_in=True, roles=tuple(
                           r for r in auth.ROLES if r.name == "cab_member"))
    decisions.record(cab_db, member, date(2026, 1, 13), "H2", "approved",
                     now=datetime.fromisoformat("2026-01-13 15:30+00:00"))
    out = tmp_path / "pack.xlsx"
    assert changeboard_cli.main([
        "report", "cab", "--date", "2026-01-20", "--window-end",
        "2026-03-10", "--db", str(cab_db), "--format", "xlsx", "--out",
        str(out)]) == 0
    book = openpyxl.load_workbook(out)
    assert assert_cells_typed(book, zone) > 20

    def at(sheet, title, key, key_column="Change"):
        return column(book, sheet, f"{title} ({zone})", key_column)[key]

    # summer time starts at 02:00 on 8 March: 06:30Z is 01:30 EST, 07:30Z
    # 03:30 EDT, an hour later
    start = at("For decision", "Planned start", "C9")
    assert (start.value, at("For decision", "Planned end", "C9").value) == (
        datetime(2026, 3, 8, 1, 30), datetime(2026, 3, 8, 3, 30))
    hours = column(book, "For decision", "Planned hours")
    assert (hours["C9"].value, hours["C9"].number_format) == (1, "0.00")
    assert hours["C1"].value == 2
    with db.connect(cab_db, read_only=True) as con:
        built = cab.build_pack(con, date(2026, 1, 20),
                               window_end_at=date(2026, 3, 10))
    page = cab.to_html(built)
    # shown as the pack shows it
    assert f"{start.value:%a %d %b %Y %H:%M}" == "Sun 08 Mar 2026 01:30"
    # (the text read, whatever spans keep its words whole)
    assert "Sun 08 Mar 2026 01:30 – 03:30 (1 h)" in html_cells(page)
    go_live = at("Releases going live", "Go-live", "R9", "Release")
    assert go_live.value == datetime(2026, 3, 8, 3, 0)
    assert f"{go_live.value:%a %d %b %Y %H:%M}" in html_cells(page)
    # since last CAB, 12:00Z on 15 January is 07:00 EST
    assert at("Failed - review", "Ended", "H2").value == \
        datetime(2026, 1, 15, 7, 0)
    assert "Thu 15 Jan 2026 07:00" in html_cells(page)
    assert (at("Emergency - retro approval", "Started", "H4").value,
            at("Emergency - retro approval", "Approved", "H4").value) == (
        datetime(2026, 1, 16, 22, 0), datetime(2026, 1, 18, 4, 0))
    assert at("Since last CAB - decisions", "Decided", "H2").value == \
        datetime(2026, 1, 13, 10, 30)
    ended = column(book, "Team last failures", f"Ended ({zone})", "Change")
    assert ended["H2"].value == datetime(2026, 1, 15, 7, 0)
    collisions = sheet_cells(book)["Collisions"][1]
    assert [(r["For change"].value, r[f"Overlap start ({zone})"].value,
             r[f"Overlap end ({zone})"].value) for r in collisions] == [
        ("C1", datetime(2026, 1, 21, 16, 0), datetime(2026, 1, 21, 17, 0))]
    evidence = sheet_cells(book)["Evidence"][1]
    assert {r[f"Latest failure ({zone})"].value for r in evidence} >= {
        datetime(2026, 1, 15, 7, 0)}
    assert all(isinstance(r["n"].value, int) for r in evidence)
    # counts are whole numbers; the KPIs numbers shown as the pack shows
    # them (96.7%, 2 failed, +1.5 pp), a missing one n/a as there
    for title in ("Rank", "Similar n", "Team n", "Incidents 30 d",
                  "Collisions", "Window hits", "Booking hits"):
        assert all(isinstance(c.value, int) for c in column(
            book, "For decision", title).values() if c.value is not None)
    assert isinstance(column(book, "Releases going live", "For decision",
                             "Release")["R9"].value, int)
    kpis = {r["KPI"].value: r for r in sheet_cells(book)[
        "Since last CAB - KPIs"][1]}
    text = cab.kpi_table(built).set_index("KPI")
    for kpi, row in kpis.items():
        count = row["Count"]
        assert isinstance(count.value, int)
        assert count.number_format == \
            f'0" {text.loc[kpi, "Count"].split(" ", 1)[1]}"'
        for title, cell in row.items():
            if title.startswith(("Since last CAB (", "Before (")):
                assert (cell.value == "n/a") == (text.loc[kpi, title]
                                                 == "n/a")
                if cell.value != "n/a":
                    assert isinstance(cell.value, (int, float))
                    assert cell.number_format == "0.0%"
                    assert f"{100 * cell.value:.1f}%" == text.loc[kpi, title]
        change = row["Change"]
        assert (change.value == "n/a") == (text.loc[kpi, "Change"] == "n/a")
        if change.value != "n/a":
            assert (f"{change.value:+.1f} pp" if change.value else
                    "0.0 pp") == text.loc[kpi, "Change"]
            assert change.number_format == '+0.0" pp";-0.0" pp";0.0" pp"'
    # H2 failed, H4 did not; H5 went well before; none unauthorised before
    assert [(k, r["Count"].value, r["Change"].value) for k, r in
            kpis.items()] == [("Change success rate", 1, 50),
                              ("Emergency ratio", 1, 50),
                              ("Unauthorised changes", 2, "n/a")]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_sample_packs_xlsx_has_dates_and_numbers_as_cells(
        sample_db, monkeypatch, zone):
    monkeypatch.setattr(config, "REPORTING_TZ", zone)
    meeting = cab.next_meeting()
    n_dates = 0
    for at in (meeting, cab.previous_meeting(meeting)):
        pack = cab.build_pack(sample_db, at)
        book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
        n_dates += assert_cells_typed(book, zone)
        go_live = sheet_cells(book)["Releases going live"][1]
        assert [r[f"Go-live ({zone})"].value for r in go_live] == [
            t.tz_convert(zone).tz_localize(None).to_pydatetime()
            for t in pack.releases["planned_release_at"]]
    assert n_dates > 20


def test_the_xlsx_says_where_a_text_longer_than_a_cell_is_cut(con):
    # an Excel cell holds 32,767 characters: the HTML has the plan in full,
    # the XLSX as much as fits, ending with a note that it goes on
    import warnings

    from reports.cab.xlsx import CELL_CHARS, CUT_MARK
    load_cab_data(con)
    text = "Step. " * 6000 + "END-OF-PLAN"
    insert(con, "changes", [planned("C9", "2026-01-21 20:00Z",
                                    "2026-01-21 22:00Z", risk="low",
                                    title="Long plan",
                                    implementation_plan=text)])
    built = cab.build_pack(con, date(2026, 1, 20))
    assert text in cab.to_html(built)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # xlsxwriter warns when it cuts
        book = cab.to_xlsx(built)
    sheet = list(openpyxl.load_workbook(io.BytesIO(book))["For decision"]
                 .values)
    at = sheet[0].index("Implementation plan")
    got = next(r[at] for r in sheet[1:] if r[1] == "C9")
    assert len(got) == CELL_CHARS and got.endswith(CUT_MARK)
    assert text.startswith(got[:-len(CUT_MARK)])


def test_the_since_tabs_kpis_count_one_in_the_singular_and_two_in_the_plural(
        cab_db, tmp_path, monkeypatch):
    """The since-last-CAB captions write each KPI's n with the noun
    KPI_SPECS gives it for one and for more (not a 'changes' replaced in
    the plural): the sample's n of 2, and of 1 once H2 and H6 are gone."""
    def captions(path) -> list[str]:
        app = _cab_page(path, monkeypatch, tab="since")
        return [c.value for c in app.caption if c.value.startswith("n = ")]

    small = (" · small samples: n = 2 since the last CAB and n = 1 before "
             "(under 30), so the change may be chance")
    assert captions(cab_db) == [
        "n = 2 implemented changes · 1 failed · before: 0.0% of 1" + small,
        "n = 2 completed changes · 1 emergency · before: 0.0% of 1" + small,
        "n = 2 CAB-required changes started · 2 unauthorised · none before"
        " · 1 change started with the CAB flag or approval missing, not in n"]
    one = tmp_path / "one.duckdb"
    with db.publish(one) as con:
        load_cab_data(con)
        con.execute("delete from changes where change_id in ('H2', 'H6')")
    small = (" · small samples: n = 1 since the last CAB and n = 1 before "
             "(under 30), so the change may be chance")
    assert captions(one) == [
        "n = 1 implemented change · 0 failed · before: 0.0% of 1" + small,
        "n = 1 completed change · 1 emergency · before: 0.0% of 1" + small,
        "n = 1 CAB-required change started · 1 unauthorised · none before"]


def test_the_since_tabs_kpis_say_what_the_data_lacks_when_n_is_0(
        cab_db, tmp_path, monkeypatch):
    """A source that records no approval (BPIC 2014): the CAB-required
    changes that started are unclassified (docs/metrics.md
    unauthorized_changes), so the card read 'n = 0 ... 0 unauthorised',
    as if none had started. It says how many started with the approval
    (or the CAB flag) missing and what to map, in the singular at one,
    and the list below does not read as none found."""
    monkeypatch.setattr(cab.tables, "SMALL_N", 1)  # no small-sample notes
    def page(*statements):
        path = tmp_path / f"{len(statements)}.duckdb"
        with db.publish(path) as con:
            load_cab_data(con)
            for sql in statements:
                con.execute(sql)
        return _cab_page(path, monkeypatch, tab="since")

    unrecorded = "update changes set approval = null, approved_at = null"
    app = page(unrecorded)
    said = [c.value for c in app.caption]
    # H2 has no CAB flag, H4 and H6 no approval: each said, and what to map
    assert said[said.index("n = 2 completed changes · 1 emergency · "
                           "before: 0.0% of 1") + 1] == (
        "n = 0 CAB-required changes started · 3 changes started with no CAB "
        "flag (1) or no approval recorded (2), so authorisation cannot be "
        "measured: map `is_cab_required` and `approval` (docs/sources.md, "
        "section 7)")
    assert "None can be listed: the data does not say, as Unauthorised " \
        "changes above explains." in said
    assert "Implemented without the required approval (not known)" in [
        s.value for s in app.subheader]
    # H4 and H6 flagged with no approval, H2 with no CAB flag: one left
    one = page(unrecorded,
               "delete from changes where change_id in ('H2', 'H6')")
    # the CAB flag mapped (BPIC 2014): only the approval is named
    assert "n = 0 CAB-required changes started · 1 CAB-required change " \
        "started with no approval recorded, so authorisation cannot be " \
        "measured: map `approval` and `approved_at` (docs/sources.md, " \
        "section 7)" in [c.value for c in one.caption]


def test_a_card_says_what_the_files_say_of_the_period_before(
        cab_db, tmp_path, monkeypatch):
    """BPIC 2014's meeting of 25 Mar 2014: no CAB-required change started
    since the last CAB, 9 the week before with no approval recorded. The
    card read '... 0 unauthorised · none before', where the PDF and XLSX
    said the period before could not be rated and why. The card says what
    the files say, of either period (a since period the source left
    unrated says the period before's 'likewise' too)."""
    monkeypatch.setattr(cab.tables, "SMALL_N", 1)  # no small-sample notes
    path = tmp_path / "before.duckdb"
    with db.publish(path) as con:
        load_cab_data(con)
        # nothing started since the last CAB; H5 started the week before,
        # CAB-required, with no approval recorded
        con.execute("delete from changes where change_id in "
                    "('H2', 'H4', 'H6')")
        con.execute("update changes set approval = null, approved_at = null,"
                    " is_cab_required = true, actual_start_at = "
                    "'2026-01-08 10:00Z' where change_id = 'H5'")
        # and no close code recorded (BPIC 2014 records none): the success
        # rate is unrated in both periods (H1 completed since, H5 before)
        con.execute("update changes set close_code = null")
        con.execute("update changes set actual_end_at = '2026-01-15 12:00Z'"
                    ", closed_at = '2026-01-15 13:00Z' where change_id = "
                    "'H1'")
    app = _cab_page(path, monkeypatch, tab="since")
    assert not app.exception
    with db.connect(path, read_only=True) as con:
        kpis = {k["KPI"]: k for _, k in
                cab.build_pack(con, MEETING).kpis.iterrows()}
    said = [c.value.replace("`", "") for c in app.caption]
    success = cab.kpi_note(kpis["Change success rate"])
    assert success.endswith("; before: 1 change likewise"), success
    assert success in said, said
    note = cab.kpi_note(kpis["Unauthorised changes"])
    assert note == (
        "before: n = 0 CAB-required changes started · 1 CAB-required change "
        "started with no approval recorded, so authorisation cannot be "
        "measured: map approval and approved_at (docs/sources.md, section 7)")
    assert f"n = 0 CAB-required changes started · 0 unauthorised · {note}" \
        in said, said
    assert not any(s.endswith("none before") for s in said), said


UNAUTHORISED_UNKNOWN = (
    "n = 0 CAB-required changes started · 3 changes started with no CAB "
    "flag (1) or no approval recorded (2), so authorisation cannot be "
    "measured: map is_cab_required and approval (docs/sources.md, section "
    "7)")


def test_the_packs_kpis_say_what_the_data_lacks_when_n_is_0(con, tmp_path,
                                                             monkeypatch):
    """A source that records no approval (BPIC 2014): the CAB page says
    authorisation cannot be measured, but the pack's KPI table (HTML, PDF,
    XLSX) read 'n/a · 0 · 0 unauthorised' and its list 'None.', as if
    none had started. The pack says what the page says: the count is not
    known, why, with the counts (and the period before's), and the list
    cannot be listed; in the singular at one."""
    monkeypatch.setattr(cab.tables, "SMALL_N", 1)  # no small-sample notes
    load_cab_data(con)
    con.execute("update changes set approval = null, approved_at = null")
    pack = cab.build_pack(con, MEETING)
    page = cab.to_html(pack)
    [row] = re.findall(r"<tr><td>Unauthorised changes</td>(.*?)</tr>", page)
    assert "not known" in row and "unauthorised" not in row, row
    assert f'<p class="note">Unauthorised changes: {UNAUTHORISED_UNKNOWN}' \
        in page
    assert "<h3>Implemented without the required approval (not known)" \
        "</h3><p class=\"none\">None can be listed: the data does not say, " \
        "as Unauthorised changes above explains.</p>" in page
    # the KPIs the source rates say nothing more
    assert page.count('<p class="note">') == 1
    assert "<h3>Failed or backed out: post-implementation review</h3>" in page
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    kpis = {r["KPI"].value: r for r in sheet_cells(book)[
        "Since last CAB - KPIs"][1]}
    unauthorised = kpis["Unauthorised changes"]
    assert (unauthorised["n"].value, unauthorised["Count"].value) == (
        0, "not known")
    assert unauthorised["Note"].value == UNAUTHORISED_UNKNOWN
    assert kpis["Change success rate"]["Note"].value is None
    assert isinstance(kpis["Change success rate"]["Count"].value, int)
    # H4 and H6 flagged with no approval, H2 with no CAB flag: one left
    con.execute("delete from changes where change_id in ('H2', 'H6')")
    one = cab.kpi_notes(cab.build_pack(con, MEETING))
    assert [(k, n.split(" · ")[1].split(",")[0]) for k, n in one] == [
        ("Unauthorised changes", "1 CAB-required change started with no "
         "approval recorded")]


def test_a_kpi_says_the_changes_its_n_leaves_out(con, monkeypatch):
    """The since-last-CAB success rate read '100.0% · n = 18' on the
    sample with 12 of the week's 30 completed changes left out (no close
    code: no outcome) and nothing said, where the Overview's card says
    them. A KPI with an n now says how many the source left unrated, in
    each period, in the pack's note (HTML, PDF) and its sheet's Note."""
    monkeypatch.setattr(cab.tables, "SMALL_N", 1)  # no small-sample notes
    load_cab_data(con)
    pack = cab.build_pack(con, MEETING)
    said = dict(cab.kpi_notes(pack))
    assert said == {"Unauthorised changes": "1 change started with the CAB "
                    "flag or approval missing, not in n"}
    assert ('<p class="note">Unauthorised changes: 1 change started with the'
            " CAB flag or approval missing, not in n.</p>") in cab.to_html(pack)
    # an implemented change without an outcome, before the last CAB too
    con.execute("update changes set close_code = null where change_id in "
                "(select change_id from changes where close_code is not null"
                " order by change_id limit 2)")
    pack = cab.build_pack(con, MEETING)
    kpi = cab.with_since(pack).kpis.set_index("KPI").loc[
        "Change success rate"]
    notes = [cab.kpi_left_out(kpi, key) for key in ("since", "before")]
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    note = {r["KPI"].value: r["Note"].value for r in sheet_cells(book)[
        "Since last CAB - KPIs"][1]}["Change success rate"]
    assert note == "; ".join(
        [n for n in notes[:1] if n] + [f"before: {n}" for n in notes[1:] if n])
    assert any(notes) and all(
        n is None or n.endswith(" completed without a close code, not in n")
        for n in notes)


def test_the_pages_caption_shows_filter_values_literally(cab_db, monkeypatch):
    # the filters' values are data (ids from the files): in the caption
    # (Markdown) each is shown as written, never as a link
    with db.publish(cab_db) as con:
        insert(con, "applications", [{"application_id": "[Pay](http://x.test)",
                                      "name": "Pay"}])
    app = _cab_page(cab_db, monkeypatch,
                    application_ids="[Pay](http://x.test)")
    caption = next(c.value for c in app.caption
                   if c.value.startswith("Review window"))
    assert r"\[Pay\]\(http" in caption and "](http" not in caption


def test_the_for_decision_sheet_counts_colliding_changes_as_the_page(con):
    """Two changes sharing both their application and their environment
    collide once: the sheet said 2 (a row per shared key) where the page,
    the agenda line and the row's own flag said 1."""
    insert(con, "changes", [
        planned(c, "2026-01-21 20:00Z", "2026-01-21 22:00Z",
                application_id="A1", environment_id="E1")
        for c in ("C1", "C2")])
    pack = cab.build_pack(con, MEETING)
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    sheet = list(book["For decision"].values)
    rows = [dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]]
    assert [(r["Change"], r["Collisions"]) for r in rows] == [("C1", 1),
                                                                ("C2", 1)]
    assert all("Collides with 1 other change" in r["Plan flags"]
               for r in rows)
    assert list(pack.agenda["n_collisions"]) == [1, 1]


def test_an_incident_on_the_meeting_morning_is_evidence(con):
    """'30 days before the meeting' stopped at the meeting day's midnight: a
    P1 on the change's application two hours before a 10:00 meeting was not
    counted and raised no flag. One opened after the meeting, or more than
    30 days before it, is not counted."""
    insert(con, "changes", [planned("C1", "2026-01-21 20:00Z",
                                    "2026-01-21 22:00Z", application_id="A1",
                                    assignment_group="Ops", risk="low")])
    insert(con, "incidents", [
        {"incident_id": "I1", "application_id": "A1", "priority": 1,
         "opened_at": "2026-01-20 08:00Z"},   # the meeting is at 10:00
        {"incident_id": "I2", "application_id": "A1", "priority": 2,
         "opened_at": "2026-01-20 10:30Z"},   # after it
        {"incident_id": "I3", "application_id": "A1", "priority": 2,
         "opened_at": "2025-12-21 09:00Z"},   # 30 days and an hour before
        {"incident_id": "I4", "application_id": "A1", "priority": 3,
         "opened_at": "2025-12-21 11:00Z"}])  # 30 days less an hour
    block = cab.blocks(cab.build_pack(con, MEETING))[0]
    incidents = block.evidence.set_index("Evidence").loc["Incidents on A1"]
    assert incidents["n"] == 2 and "P1 1 · P2 0 · P3 1" in incidents["Result"]
    assert "2 incidents on the application in the last 30 days" in \
        block.flags


def test_a_change_that_failed_overnight_is_in_the_teams_evidence(con):
    """The team's score and last failures stopped at the meeting day's
    midnight: a change of the team backed out at 02:00 before a 10:00
    meeting was in neither. One ended after the meeting is in neither."""
    insert(con, "changes", [
        planned("C1", "2026-01-21 20:00Z", "2026-01-21 22:00Z",
                application_id="A1", assignment_group="Ops", risk="low"),
        done("N1", "backed_out", "2026-01-20 02:00Z"),
        done("N2", "unsuccessful", "2026-01-20 11:00Z")])
    block = cab.blocks(cab.build_pack(con, MEETING))[0]
    assert list(block.last_failures["Change"]) == ["N1"]
    score = block.evidence.set_index("Evidence").loc[
        "Team success score (ServiceNow weights)"]
    assert score["n"] == 1


def test_a_past_meetings_team_failures_are_those_known_at_the_meeting(con):
    """Regenerated after the meeting, the team's last failures took every
    link known now: a change that went well and whose incident (or
    rollback) came after the meeting was listed as a failure the CAB could
    not have seen, while the similar-change evidence beside it, which reads
    the signals known at the meeting, did not count it."""
    insert(con, "changes", [
        planned("C1", "2026-01-21 20:00Z", "2026-01-21 22:00Z",
                application_id="A1", assignment_group="Ops", risk="low"),
        done("K1", end="2026-01-15 10:00Z"),   # incident before the meeting
        done("L1", end="2026-01-16 10:00Z"),   # incident after it
        done("L2", end="2026-01-17 10:00Z")])  # rolled back after it
    insert(con, "incidents", [
        {"incident_id": "I1", "application_id": "A1", "priority": 2,
         "opened_at": "2026-01-19 10:00Z", "caused_by_change_id": "K1"},
        {"incident_id": "I2", "application_id": "A1", "priority": 2,
         "opened_at": "2026-01-20 10:00Z", "caused_by_change_id": "L1"}])
    insert(con, "deployments", [
        {"deployment_id": "D1", "change_id": "L2", "application_id": "A1",
         "environment_id": "E-PRD", "status": "rolled_back",
         "started_at": "2026-01-20 10:30Z",
         "finished_at": "2026-01-20 11:00Z"}])
    pack = cab.build_pack(con, MEETING)
    block = cab.blocks(pack)[0]
    assert list(block.last_failures["Change"]) == ["K1"]
    team = pack.similar.set_index(["change_id", "cohort"]).loc[
        ("C1", "assignment_group")]
    assert (team["n"], team["n_failed"]) == (3, 1)
    # the query keeps every signal known now unless told when
    assert list(db.run(con, "change_records", start_date="2026-01-01",
                       end_date="2026-01-20", failed_only=True)[
        "change_id"]) == ["K1", "L1", "L2"]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam"])
def test_the_page_says_the_zone_of_its_times(cab_db, monkeypatch, zone):
    """The page's review window, planned starts and ends read '10:00' with
    no zone (only the data's as-of time said UTC): a CAB member elsewhere
    could not tell whose 10:00. The caption under the dates says the
    pack's zone."""
    monkeypatch.setattr(config, "REPORTING_TZ", zone)
    st.cache_resource.clear()
    app = _cab_page(cab_db, monkeypatch)
    caption = next(c.value for c in app.caption
                   if c.value.startswith("Review window"))
    assert f"times in {zone}" in caption, caption


def test_evidence_counts_carry_thousands_separators():
    """At 1M changes a team's evidence read '230 of 2303 failed', its n
    2303 and its score 'Score 1136' in the pack and on the page, where
    every other count reads 2,303."""
    from types import SimpleNamespace

    from reports.cab import evidence
    from reports.markup import html_table
    row = {"change_id": "C1", "assignment_group": "Ops",
           "application_id": None, "change_type": "normal"}
    index = SimpleNamespace(
        similar={("C1", "assignment_group"): {
            "n": 2303, "n_failed": 1230, "success_rate": 1073 / 2303,
            "last_failure_at": None}},
        scores={"Ops": {"score": 1136, "score_per_change": 1.9, "n": 597}})
    line = evidence._similar(SimpleNamespace(reporting_tz="UTC"), index, row,
                             "assignment_group")
    assert line["Result"] == "1,230 of 2,303 failed · success 46.6%"
    assert evidence._team_score(index, row)["Result"] == \
        "Score 1,136 · 1.90 per change (3.00 at best)"
    table = html_table(pd.DataFrame([line]), "none")
    assert '<td class="num">2,303</td>' in table
    assert '<td class="num">1.5</td>' in html_table(
        pd.DataFrame({"h": [1.5]}), "none")


def test_the_review_windows_end_follows_the_meeting_and_both_are_kept(
        cab_db, monkeypatch):
    """Moving the meeting from 8 to 15 December, the review window's box
    still showed 15 December while the caption said the window ran to the
    22nd: the old end was dropped and a default given, which a box already
    drawn does not show. And leaving the page lost the meeting picked. The
    end is set with the meeting (the box shows it, as the caption says),
    and both are kept for the next visit, as the sidebar's period."""
    app = _cab_page(cab_db, monkeypatch)

    def window() -> tuple[date, str]:
        box = app.date_input(key="cab-until")
        said = next(c.value for c in app.caption
                    if c.value.startswith("Review window "))
        return box.value, said

    assert window()[0] == date(2026, 1, 27)
    app.date_input(key="cab-meeting").set_value(date(2026, 1, 27)).run()
    assert not app.exception
    end, said = window()
    assert end == date(2026, 2, 3)
    assert said.startswith("Review window Tue 27 Jan 2026 10:00 to Tue 03 "
                           "Feb 2026 10:00")
    # the box is told its new day (a drawn box shows only a day it is sent)
    box = app.date_input(key="cab-until").proto
    assert box.set_value and list(box.value) == ["2026-02-03"]
    # an end picked for this meeting holds while it is the meeting
    app.date_input(key="cab-until").set_value(date(2026, 2, 1)).run()
    assert "to Sun 01 Feb 2026 10:00" in window()[1]
    # away and back by the navigation (no query string): both kept
    app.switch_page("views/calendar.py").run()
    app.query_params.clear()
    app.switch_page("views/cab.py").run()
    assert not app.exception
    assert app.date_input(key="cab-meeting").value == date(2026, 1, 27)
    assert window()[0] == date(2026, 2, 1)
    assert "to Sun 01 Feb 2026 10:00" in window()[1]
    # another meeting: its own default end again
    app.date_input(key="cab-meeting").set_value(date(2026, 1, 20)).run()
    assert window()[0] == date(2026, 1, 27)
    assert "to Tue 27 Jan 2026 10:00" in window()[1]


def test_the_pages_files_name_the_decision_log_as_it_stands(cab_db, tmp_path):
    """A pack the page built before this meeting's first decision was
    downloaded after it saying "CAB decisions read: none recorded yet" and
    `--decisions-until none`, where the CLI run then said "as recorded up
    to ...": a decision for this meeting is not in the pack, which the page
    keeps, but its files name the log's position now (logged_until), and
    are then the CLI's bytes."""
    from changeboard import auth, decisions
    pack = cab.build_pack(cab_db, MEETING)
    assert pack.decisions_until == decisions.NOTHING
    decisions.record(cab_db, auth.single_user(), MEETING, "C1", "rejected",
                     "no test plan")
    now = decisions.recorded_until(cab_db)
    assert now != decisions.NOTHING
    out = tmp_path / "cli.html"
    assert cli.main(["cab", "--date", MEETING.isoformat(), "--db",
                     str(cab_db), "--format", "html", "--out",
                     str(out)]) == 0
    filed = cab.logged_until(pack, now)
    assert cab.to_html(filed) == out.read_text()
    assert now in out.read_text()
    assert now not in cab.to_html(pack)  # what the page wrote
    assert cab.logged_until(filed, now) is filed


@needs_pdf_tools
def test_a_block_longer_than_a_page_runs_on_from_the_one_before(
        pack, tmp_path):
    """Each block was kept whole: one longer than a page began a page of its
    own and spilled its last rows onto the next, which the next block left
    nearly empty (28 of a million-change pack's 117 pages held 15 lines or
    fewer; 1 of 94 now). In the PDF, a block taller than a page as laid
    out (html.MEASURE) runs on from where the one before ends; a shorter
    one stays whole."""
    from dataclasses import replace

    from reports.cab import html
    short = cab.blocks(pack)
    assert all(0 < html.printed_lines(b) <= html.PAGE_LINES for b in short)
    assert ' long"' not in cab.to_html(pack)
    assert "<script" not in cab.to_html(pack)  # the file holds none
    # two blocks of 40 collisions each: longer than a page
    rows = pd.concat([short[1].collisions] * 40, ignore_index=True)
    long = [replace(b, collisions=rows) for b in short]
    page = cab.for_print(
        f"<html><head><style>{cab.CSS}</style></head><body>"
        + "".join(html.block_html(b) for b in long) + "</body></html>")
    text = pdf_pages(cab.print_pdf(page, tmp_path / "long.pdf"))
    whole = "\f".join(text)

    def page_of(words: str) -> int:
        return whole[:whole.index(words)].count("\f")

    # the second starts on the page where the first's last table is
    assert page_of("C2 —") == 0
    assert page_of("C1 —") == page_of("Team's last failures") > 0
    assert not [i for i, t in enumerate(text)
                if len([line for line in t.splitlines() if line.strip()])
                <= 15 and i < len(text) - 1]


@needs_pdf_tools
def test_a_list_heading_at_the_foot_of_a_page_goes_over_with_its_table(
        pack, tmp_path):
    """The sample's 08 Dec pack ended page 35 with the heading
    'Implemented without the required approval' and began page 36 with
    its table, headless. A since-last-CAB list's heading (h3) near the foot
    of a page goes over with its table, as h2 and h4 already did. One
    print of the pack's own list (html._since_list) after spacers growing
    2 mm at a time, each copy from a page of its own, puts the heading at
    the foot of a page (4 of the 23 copies were cut so before; Chromium
    shrinks the page to the table's width, so the spacers are longer
    than A4's 269 mm)."""
    from reports.cab import html
    listed = html._since_list(pack, "unauthorized",
                              "Implemented without the required approval")
    assert "<table" in listed
    copies = "".join(
        f'<section style="break-before: page"><div style="height: {mm}mm">'
        f"</div>{listed}</section>" for mm in range(300, 346, 2))
    page = cab.for_print(f"<html><head><style>{cab.CSS}</style></head>"
                         f"<body>{copies}</body></html>")
    text = pdf_pages(cab.print_pdf(page, tmp_path / "foot.pdf"))
    headed = [i for i, t in enumerate(text)
              if "Implemented without the required approval" in t]
    tabled = [i for i, t in enumerate(text) if any(
        line.startswith("Change") and "Title" in line
        for line in t.splitlines())]
    assert len(headed) == 23
    assert [i for i in headed if i not in tabled] == [], (headed, tabled)


@needs_pdf_tools
def test_a_block_the_estimate_thought_long_that_fits_a_page_stays_whole(
        pack, tmp_path):
    """The sample's 08 Dec pack put block 5 (printed_lines 46.5, over
    PAGE_LINES) on two pages, its heading alone at the foot of one, where
    it filled three quarters of the next: in the PDF each block is
    measured as laid out, not estimated."""
    from dataclasses import replace

    from reports.cab import html
    base = cab.blocks(pack)[1]
    rows = base.collisions
    for n in range(1, 40):  # just over the estimate's page
        rows = pd.concat([base.collisions] * n, ignore_index=True)
        if html.printed_lines(replace(base, collisions=rows)) > \
                html.PAGE_LINES:
            break
    fits = [replace(base, collisions=rows, rank=i, change_id=f"K{i}")
            for i in range(1, 5)]
    assert all(html.PAGE_LINES < html.printed_lines(b) < 52 for b in fits)
    page = f"<html><head><style>{cab.CSS}</style></head><body>" + "".join(
        html.block_html(b) for b in fits) + "</body></html>"
    assert page.count(' long">') == 4  # what the estimate says
    text = pdf_pages(cab.print_pdf(cab.for_print(page), tmp_path / "k.pdf"))
    whole = "\f".join(text)
    for block in fits:
        start = whole.index(f"{block.change_id} —")
        end = whole.index("Team's last failures", start)
        assert "\f" not in whole[start:end], block.change_id


def test_for_decision_says_it_holds_changes_not_yet_submitted_too(
        cab_db, monkeypatch):
    """For decision said its changes were 'awaiting approval' while it
    listed changes not yet submitted for approval (Readiness said 'not
    yet submitted' of the same change): it says both. It said "the
    Approval column says which", and the agenda had no such column: each
    change not yet submitted is flagged so."""
    built = cab.build_pack(cab_db, MEETING)
    assert set(built.agenda["approval"]) == {"requested", "not_yet_requested"}
    app = _cab_page(cab_db, monkeypatch)
    [said] = [c.value for c in app.caption
              if c.value.startswith("Normal and emergency changes")]
    assert ("not yet approved: awaiting approval, or not yet submitted for "
            "it (flagged Not yet submitted); by risk, highest first, then by "
            "planned start") in said  # it read 'very high risk first'
    order = built.agenda.assign(rank=built.agenda["risk"].map(
        {"very_high": 1, "high": 2, "moderate": 3, "low": 4}))
    assert list(order["change_id"]) == list(order.sort_values(
        ["rank", "planned_start_at", "change_id"])["change_id"])
    agenda = next(d.value for d in app.dataframe if "Flags" in d.value.columns)
    flagged = dict(zip(agenda["Change"], agenda["Flags"].str.contains(
        "Not yet submitted"), strict=True))
    assert flagged == {c: a == "not_yet_requested" for c, a in zip(
        built.agenda["change_id"], built.agenda["approval"], strict=True)}


def test_a_rate_change_that_rounds_to_none_reads_0_0_pp_not_minus_0_0():
    """BPIC 2014's emergency ratio went from 0.299% to 0.289%: the pack
    printed -0.0 pp."""
    assert cab.tables._delta(0.00289, 0.00299) == "0.0 pp"
    assert cab.tables._delta(0.00289, 0.00299, sheet=True) == 0.0
    assert cab.tables._delta(0.00309, 0.00299) == "0.0 pp"
    assert cab.tables._delta(0.5, 0.4) == "+10.0 pp"
    assert cab.tables._delta(0.4, 0.5, sheet=True) == pytest.approx(-10.0)
    assert cab.tables._delta(0.0034, 0.0029) == "+0.1 pp"
    assert cab.tables._delta(None, 0.5) == "n/a"


def test_a_kpis_change_over_a_small_sample_says_so():
    """The sample's 'Change success rate 100.0% ↑ +9.1 pp' rested on n = 2
    since the last CAB, said nowhere but in its n: under SMALL_N (30) in
    either period the KPI's note says the change may be chance."""
    from reports.cab import tables

    def kpi(since_n, before_n, since_rate=0.5, before_rate=0.4):
        return pd.Series({"since_n": since_n, "before_n": before_n,
                          "since_rate": since_rate,
                          "before_rate": before_rate})
    assert tables.kpi_small(kpi(2, 40)) == (
        "small sample: n = 2 since the last CAB (under 30), so the change "
        "may be chance")
    assert tables.kpi_small(kpi(300, 29)) == (
        "small sample: n = 29 before (under 30), so the change may be chance")
    assert tables.kpi_small(kpi(30, 30)) is None
    # no change shown (a period without a rate): nothing to doubt
    assert tables.kpi_small(kpi(2, 0, before_rate=float("nan"))) is None


def test_every_headline_card_on_the_cab_page_says_what_it_counts(
        cab_db, monkeypatch):
    """'Left off: CAB flag missing' and 'Left off: no plan' had no help:
    a member could not tell what was left off, or why."""
    app = _cab_page(cab_db, monkeypatch)
    cards = {m.label: m.help for m in app.metric}
    assert set(cards) == set(cab.tables.HEADLINE_HELP)
    assert all(cards.values()), cards
    assert "is_cab_required" in cards["Left off: CAB flag missing"]


def test_the_agendas_files_hold_its_plans_as_dates(sample_db, monkeypatch):
    """The agenda's CSV and XLSX said 'Tue 08 Dec 17:30': no year, no zone,
    and in the XLSX a text cell that sorted Fri < Mon < Thu (a CAB chair's
    walkthrough). They are the pack XLSX's For decision sheet: the plan as
    dates under headings naming the zone, every change of the agenda."""
    import datetime as dt

    from tests.clicks import offered_files
    files = offered_files(monkeypatch)
    meeting = cab.next_meeting()
    app = _cab_page(sample_db, monkeypatch, meeting=f"{meeting:%Y-%m-%d}")
    assert not app.exception
    pack = cab.build_pack(sample_db, meeting)
    assert len(pack.agenda) > 1
    built = {name.rsplit(".", 1)[1]: data() if callable(data) else data
             for name, data in files.items() if "-agenda." in name}
    start = f"Planned start ({cab.reporting_zone().key})"
    got = pd.read_csv(io.BytesIO(built["csv"]))
    assert list(got["Change"]) == list(pack.agenda["change_id"])
    assert pd.to_datetime(got[start]).dt.year.min() >= 2026
    sheet = openpyxl.load_workbook(io.BytesIO(built["xlsx"]))["data"]
    heading, first, *_ = sheet.iter_rows(values_only=True)
    assert isinstance(first[heading.index(start)], dt.datetime)


def test_the_releases_tab_puts_what_the_cab_acts_on_first(sample_db,
                                                          monkeypatch):
    """At 1440 px the tab cut each release's reasons and left the agenda
    changes it carries off to the right, behind its name and its
    application's: on the page they come first, after the release and
    go-live (the printed page keeps the pack's order). The release reads
    'Name (id)': its id alone ('REL-00064') told a member nothing, its
    name being off to the right. Its downloads keep the pack's columns,
    the id apart, as scripts read it."""
    from tests.clicks import offered_files
    files = offered_files(monkeypatch)
    meeting = cab.next_meeting()  # the sample plans releases ahead
    app = _cab_page(sample_db, monkeypatch, tab="releases",
                    meeting=f"{meeting:%Y-%m-%d}")
    table = next(d.value for d in app.dataframe
                 if "Reasons" in d.value.columns)
    assert len(table) >= 3
    assert list(table.columns[:6]) == [
        "Release", next(c for c in table.columns if c.startswith("Go-live")),
        "Status", "Reasons", "For decision", "Agenda changes it carries"]
    assert "Application" in table.columns
    assert "Release name" not in table.columns  # in the first column
    pack = cab.build_pack(sample_db, meeting)
    lines = cab.release_lines(pack)
    assert list(table["Release"]) == [
        f"{name} ({rid})" for rid, name in zip(
            lines["Release"], lines["Release name"], strict=True)]
    assert all(name for name in lines["Release name"])  # the sample names
    csv = next(data for name, data in files.items()
               if "-releases" in name and name.endswith(".csv"))
    got = pd.read_csv(io.BytesIO(csv() if callable(csv) else csv))
    assert list(got["Release"]) == list(lines["Release"])  # the ids
    assert list(got["Release name"]) == list(lines["Release name"])
    # the go-live a date under a heading naming the zone, as the pack's
    # XLSX ('Tue 08 Dec 2026 20:00' said none: a CAB chair's walkthrough)
    go_live = f"Go-live ({cab.reporting_zone().key})"
    assert pd.to_datetime(got[go_live]).notna().all()
    assert list(cab.release_lines(pack).columns[:3]) == [
        "Release", "Release name", "Application"]
    # the reasons whole, wrapped in rows tall enough for the longest, and
    # each release's 'Name (id)' whole ('Identity & Access Management
    # 2026…' was cut before its id), wrapped in them too: at 1440 pixels a
    # Release 363 wide cut the reasons at 330 of their 420
    from changeboard import ui
    shown = next(d for d in app.dataframe if "Reasons" in d.value.columns)
    widths = json.loads(shown.proto.columns)
    named = ui.text_width(table["Release"], 100, ui.NAMED_WIDTH)
    reasons = widths["Reasons"]["width"]
    assert shown.proto.row_height == max(
        ui.wrapped_row_height(table["Reasons"], reasons, ui.READ_LINES),
        ui.wrapped_row_height(table["Release"], named, ui.READ_LINES))
    assert widths["Release"]["width"] == named <= ui.NAMED_WIDTH
    first = [widths[c]["width"] for c in table.columns[:4]]
    # whole at 1280 pixels (the count for decision after them at 1400)
    assert sum(first) == ui.TABLE_WIDTH, first
    assert reasons >= 300, first


def test_a_since_lists_files_say_its_days_and_keep_its_times_as_cells(
        cab_db, monkeypatch):
    """An analyst's walkthrough (BPIC 2014, meeting of 04 Feb 2014): the
    emergency list's XLSX, from the "since last CAB" tab, said 'Period: the
    meeting of ...: review window Tue 04 Feb 2014 10:00 to Tue 11 Feb', the
    week ahead, of changes started the week before; and held its instants
    as text with no zone ('Tue 28 Jan 2014 05:30'). Each list's files are
    named with the days since the last CAB and say them, and hold the
    instants as cells under a title with the zone, as the pack's XLSX."""
    from streamlit.delta_generator import DeltaGenerator
    offered = {}

    def button(self, label, data, file_name, *args, **kwargs):
        offered[file_name] = data
    monkeypatch.setattr(DeltaGenerator, "download_button", button)
    app = _cab_page(cab_db, monkeypatch, tab="since")
    pack = cab.build_pack(cab_db, date(2026, 1, 20))
    first, last = pack.since_start_date, pack.since_end_date - timedelta(
        days=1)
    days = f"-{first.isoformat()}-to-{last.isoformat()}"
    lists = {reason: name for reason in cab.REASONS for name in offered
             if name == f"cab-pack-2026-01-20-{reason}{days}.xlsx"}
    shown = [h.value for h in app.subheader
             if h.value.endswith(")") and not h.value.endswith("(0)")
             and h.value.split(" (")[0] in cab.REASONS.values()]
    assert lists and len(lists) == len(shown), (list(offered), shown)
    for name in lists.values():
        book = openpyxl.load_workbook(io.BytesIO(offered[name]()))
        about = dict(book["About"].iter_rows(values_only=True))
        assert about["Period"].startswith(
            "the meeting of Tue 20 Jan 2026 10:00 (UTC): since the last CAB, "
            f"{first:%d %b %Y} to {pack.since_end_date:%d %b %Y}, end "
            "exclusive (times in UTC)"), about["Period"]
        assert "review window" not in about["Period"]
        sheet = book.worksheets[0]
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        started = header.index("Started (UTC)")
        cells = [row[started].value for row in sheet.iter_rows(min_row=2)]
        assert cells and all(isinstance(c, datetime) for c in cells
                             if c is not None), cells


def test_a_plans_length_is_said_to_the_minute(con):
    """A plan of 17:30 to 20:45 read '(3.2 h)' and one of 2 h 45 '(2.8 h)'
    (a quarter rounded half to even), where the XLSX's 3.25 shows 3.3 in a
    spreadsheet (a CAB chair's walkthrough): hours and minutes, and the
    sheet's number to two places."""
    from reports.text import plan_length
    assert [plan_length(h) for h in (3.25, 2.75, 7.25, 2, 0.75, 1 / 60,
                                     47.99, 48, 84, None)] == [
        "3 h 15 min", "2 h 45 min", "7 h 15 min", "2 h", "45 min", "1 min",
        "47 h 59 min", "2.0 days", "3.5 days", ""]
    from reports.cab import tables
    load_cab_data(con)
    pack = cab.build_pack(con, MEETING)
    frame = tables.decision_table(pack)
    assert frame.attrs[tables.NUMBER_FORMATS]["Planned hours"] == "0.00"
    # each block's plan says it so
    hours = dict(zip(pack.agenda["change_id"], pack.agenda["planned_hours"],
                     strict=True))
    html = cab.to_html(pack)
    for change_id, length in hours.items():
        assert f"({plan_length(length)})" in html, change_id


def _printing_chromiums(folder: Path) -> set[bytes]:
    """The Chromium prints into folder under way, each by its own profile
    folder (--user-data-dir): its processes and the shell of the chromium
    script starting it share it."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.startswith(b"--print-to-pdf=" + bytes(folder)) for a in args):
            found.update(a for a in args if a.startswith(b"--user-data-dir="))
    return found


@needs_pdf_tools
def test_pdfs_asked_for_at_once_print_two_at_a_time_each_page_once(
        tmp_path):
    """A viewer asked the CAB page for its PDF six times at once: six
    Chromiums printed the same pack side by side (a security review). Three
    pages and the first again, asked for at once (pdf.ASKED_AT_ONCE): at
    most two Chromiums print at a time, each page is printed once, and
    every file holds its page."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from reports.cab import pdf

    pages = [cab.for_print(f"<html><body><p>Printed page {i} of "
                           f"{tmp_path.name}</p></body></html>")
             for i in range(3)]
    seen: set[bytes] = set()
    peak, done = [0], threading.Event()

    def watch():
        while not done.is_set():
            now = _printing_chromiums(tmp_path)
            seen.update(now)
            peak[0] = max(peak[0], len(now))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            printed = list(pool.map(
                lambda k: pdf.print_pdf(pages[k % 3], tmp_path / f"{k}.pdf"),
                range(4)))
    finally:
        done.set()
        watcher.join()
    assert 1 <= peak[0] <= 2, peak
    assert len(seen) == 3, seen
    for k, path in enumerate(printed):
        assert pdf_pages(path)[0].split() == [
            "Printed", "page", str(k % 3), "of", tmp_path.name]


@needs_pdf_tools
def test_a_failed_print_fails_the_requests_waiting_for_it_at_once(tmp_path):
    """Requests for a page being printed wait for that print; when it
    failed, each then printed again in turn (a review: four requests took
    4x the failing print's time, and Chromium's timeout is 180 s). They
    now share its failure, and a later request prints afresh."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from reports.cab import pdf

    page = cab.for_print("<html><body><p>Shared failure</p></body></html>")
    nowhere = tmp_path / "no-such-folder" / "first.pdf"  # Chromium fails
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(pdf.print_pdf, page, nowhere)
        while not pdf._printing:  # the first print is under way
            time.sleep(0.005)
        waiting = [pool.submit(pdf.print_pdf, page, tmp_path / f"{k}.pdf")
                   for k in range(3)]
        for request in (first, *waiting):
            with pytest.raises(RuntimeError, match="could not print"):
                request.result(timeout=120)
    assert not pdf._printing
    assert all(not (tmp_path / f"{k}.pdf").exists() for k in range(3))
    assert pdf_pages(pdf.print_pdf(page, tmp_path / "later.pdf"))[0].split() \
        == ["Shared", "failure"]


@needs_pdf_tools
def test_chromium_prints_without_the_servers_settings(tmp_path, monkeypatch):
    """The print's Chromium got the server's whole environment: a viewer's
    click on the PDF started seven processes holding the sign-in client
    secret, which another process of the server's user could read (a
    re-check walkthrough). It gets what it reads alone, and still prints."""
    import threading
    import time

    from reports.cab import pdf

    monkeypatch.setenv("CHANGEBOARD_OIDC_CLIENT_SECRET", "planted-Zq8u1T")
    seen: list[bytes] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            for proc in Path("/proc").iterdir():
                try:
                    args = (proc / "cmdline").read_bytes()
                    if b"--print-to-pdf=" + bytes(tmp_path) in args:
                        seen.append((proc / "environ").read_bytes())
                except OSError:
                    continue
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        printed = pdf.print_pdf(cab.for_print(
            f"<html><body><p>Quiet {tmp_path.name}</p></body></html>"),
            tmp_path / "quiet.pdf")
    finally:
        done.set()
        watcher.join()
    assert pdf_pages(printed)[0].split() == ["Quiet", tmp_path.name]
    assert seen  # Chromium's processes were read while it printed
    assert not [e for e in seen if b"planted-Zq8u1T" in e]
    assert not [e for e in seen if b"CHANGEBOARD_" in e]


@needs_pdf_tools
def test_pdf_requests_past_the_limit_are_refused_at_once(tmp_path):
    """Each PDF request waiting for Chromium held one of the server's few
    download threads: a viewer's 24 tabs held another user's HTML
    download 29.6 s (a re-check walkthrough). Past ASKED_AT_ONCE requests
    in a process, one is refused at once, saying so; the others print."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from reports.cab import pdf

    n = pdf.ASKED_AT_ONCE + 2
    pages = [cab.for_print(f"<html><body><p>Asked {k}</p></body></html>")
             for k in range(n)]

    def asked(k):
        started = time.monotonic()
        try:
            pdf.print_pdf(pages[k], tmp_path / f"{k}.pdf")
            return "printed", time.monotonic() - started
        except pdf.PrinterBusy as busy:
            return str(busy), time.monotonic() - started

    with ThreadPoolExecutor(n) as pool:
        said = list(pool.map(asked, range(n)))
    assert sorted(s for s, _ in said) == sorted(
        ["printed"] * pdf.ASKED_AT_ONCE + [
            f"{pdf.ASKED_AT_ONCE} PDFs are being printed here already: ask "
            "for the pack again in a moment"] * 2)
    assert all(took < 0.5 for s, took in said if s != "printed")
    assert pdf._asked == 0
