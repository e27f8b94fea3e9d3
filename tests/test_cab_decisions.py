"""Decisions on the CAB pack (issue 16): the next pack's look back at the last
CAB's decisions, the minutes (HTML, XLSX, PDF, CLI) and the CAB page
recording a decision, on a published file with hand-made changes."""
import io
import json
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import ingest
from changeboard import auth, config, db, decisions, snapshots
from changeboard import cli as changeboard_cli
from reports import cab, decided, minutes
from reports.text import words
from tests.clicks import click_tab, open_definitions
from tests.test_cab_pack import (
    LOWER_CASE_CODES,
    TIME_FORMAT,
    assert_cells_typed,
    done,
    html_cells,
    insert,
    load_cab_data,
    needs_pdf_tools,
    planned,
    seen_runners,
    sheet_cells,
)

ROOT = Path(__file__).resolve().parents[1]
MEETING, LAST = date(2026, 1, 20), date(2026, 1, 13)  # Tuesdays, 10:00 UTC
MEMBER = auth.User(
    email="chair@acme.example", name="Chair", signed_in=True,
    roles=tuple(r for r in auth.ROLES if r.name in ("cab_member", "viewer")))
# change -> (decision at LAST, what the data says happened since)
LOOK_BACK = {
    "D1": "approved",                  # backed out: failed
    "D2": "approved_with_conditions",  # failed by a linked incident
    "D3": "deferred",                  # still authorize, not started
    "D4": "rejected",                  # implemented anyway
    "D5": "rejected",                  # cancelled
    "D6": "approved",                  # implemented, successful
    "D7": "deferred",                  # started since
    "D8": "approved",                  # not in the data
}


def load_look_back(con) -> None:
    load_cab_data(con)
    insert(con, "changes", [
        done("D1", "backed_out", "2026-01-15 12:00Z",
             actual_start_at="2026-01-15 10:00Z", title="Backed out"),
        done("D2", "successful", "2026-01-16 12:00Z",
             actual_start_at="2026-01-16 10:00Z", title="Broke later"),
        planned("D3", "2026-01-30 10:00Z", "2026-01-30 11:00Z",
                application_id="A2", assignment_group="Core",
                title="Waiting"),
        done("D4", "successful", "2026-01-17 12:00Z",
             actual_start_at="2026-01-17 10:00Z", application_id="A2",
             assignment_group="Core", title="Went ahead"),
        {**planned("D5", "2026-01-18 10:00Z", "2026-01-18 11:00Z"),
         "state": "cancelled", "title": "Dropped"},
        done("D6", "successful", "2026-01-16 12:00Z",
             actual_start_at="2026-01-16 10:00Z", title="Fine"),
        {**planned("D7", "2026-01-19 10:00Z", "2026-01-19 14:00Z"),
         "state": "implement", "actual_start_at": "2026-01-19 10:00Z",
         "title": "Under way"},
    ])
    insert(con, "incidents", [
        {"incident_id": "I9", "application_id": "A1", "priority": 3,
         "opened_at": "2026-01-17 08:00Z", "caused_by_change_id": "D2"}])


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    path = tmp_path_factory.mktemp("decided") / "cab.duckdb"
    with db.publish(path) as con:
        load_look_back(con)
    return path


@pytest.fixture
def decided_db(published, tmp_path):
    """A copy of the published file, with the last CAB's decisions beside
    it (each test its own application state)."""
    path = tmp_path / "cab.duckdb"
    shutil.copyfile(published, path)
    for change_id, decision in LOOK_BACK.items():
        decisions.record(path, MEMBER, LAST, change_id, decision,
                         f"note on {change_id}")
    return path


def test_the_next_pack_shows_the_last_cabs_decisions_beside_what_happened(
        decided_db):
    pack = cab.build_pack(decided_db, MEETING)
    assert str(pack.decided_meeting_at) == "2026-01-13 10:00:00+00:00"
    got = {r["change_id"]: (r["outcome"], r["finding"])
           for r in pack.decided.to_dict("records")}
    assert got == {
        "D1": ("failed", "approved_failed"),
        "D2": ("failed", "approved_failed"),
        "D3": ("pending", "deferred_pending"),
        "D4": ("implemented", "rejected_implemented"),
        "D5": ("cancelled", ""),
        "D6": ("implemented", ""),
        "D7": ("started", ""),
        "D8": ("not_in_data", ""),
    }
    # flagged first, then approved-failed, deferred-pending, the rest
    assert list(pack.decided["change_id"]) == [
        "D4", "D1", "D2", "D3", "D5", "D6", "D7", "D8"]
    table = decided.table(pack)
    d2 = table[table["Change"] == "D2"].iloc[0]
    assert d2["Why failed"] == "Linked incident (I9)" and d2["Decision"] == \
        "Approved with conditions" and d2["Note"] == "note on D2"
    assert decided.flag_note(pack) == (
        "⚠ 1 change rejected at the last CAB was implemented anyway: "
        "D4.")
    page = cab.to_html(pack)
    assert '<p class="note alert">⚠ 1 change rejected' in page
    assert page.index("Rejected, implemented anyway (1)") < page.index(
        "Approved, then failed or backed out (2)") < page.index(
        "Deferred, still pending (1)") < page.index("Other decisions (4)")
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    sheet = list(book["Since last CAB - decisions"].values)
    assert [r[sheet[0].index("Change")] for r in sheet[1:]] == list(
        pack.decided["change_id"])
    assert sheet[1][0] == "Rejected, implemented anyway"
    # a team filter keeps that team's changes, and those not in the data
    core = cab.build_pack(decided_db, MEETING, filters={"teams": ["Core"]})
    assert list(core.decided["change_id"]) == ["D4", "D3", "D8"]
    # the meeting the decisions were taken at does not look back at itself
    assert decided.look_back(None, decided_db, cab.meeting_on(LAST))[0] \
        is None


@pytest.mark.parametrize("filters", [None, {"teams": ["Core"]}])
def test_the_last_cabs_changes_are_read_beside_the_packs_other_queries(
        decided_db, monkeypatch, filters):
    """Their query ran last, alone on the pack's connection (30 ms of a cold
    CAB page at a million changes): it is named ahead with the others, and
    the rows are look_back's."""
    runners = seen_runners(monkeypatch)
    pack = cab.build_pack(decided_db, MEETING, filters=filters)
    (runner,) = runners
    assert runner.named.count("cab_decided_changes") == 1
    assert "cab_decided_changes" not in runner.direct
    assert runner.waiting == {}
    with db.reading(decided_db) as con:
        at, rows = decided.look_back(con, decided_db, cab.meeting_on(MEETING),
                                     filters, pack.decisions_until)
    assert pack.decided_meeting_at == at
    pd.testing.assert_frame_equal(pack.decided, rows)
    # a meeting with no decisions before it reads none
    runners.clear()
    first = cab.build_pack(decided_db, LAST, filters=filters)
    assert "cab_decided_changes" not in runners[0].named + runners[0].direct
    assert first.decided.empty and first.decided_meeting_at is None


def test_the_last_cabs_findings_say_the_data_was_loaded_before_them(
        decided_db):
    """Data loaded before the last CAB met: next week's pack said
    "Approved, then failed or backed out (0) None.", which a chair read as
    all clear, where the review lists beside it said "None in the data so
    far (loaded ...)" (a CAB chair's walkthrough). Its empty findings say
    so too, in the HTML (and so the PDF) and on the page's tab."""
    with db.publish(decided_db) as con:  # every load before it met
        con.execute("update ingest_batches set started_at = "
                    "'2026-01-12 09:00Z', finished_at = '2026-01-12 09:00Z'")
    pack = cab.build_pack(decided_db, MEETING, filters={"teams": ["Core"]})
    assert decided.table(pack, "approved_failed").empty
    so_far = "None in the data so far (loaded Mon 12 Jan 2026 09:00 UTC)."
    assert cab.since_none(pack, "None.") == so_far
    page = cab.to_html(pack)
    assert f"Approved, then failed or backed out (0)</h4>" \
        f'<p class="none">{so_far}</p>' in page
    assert "(0)</h4><p class=\"none\">None.</p>" not in page


def test_the_pages_last_cab_findings_say_the_data_was_loaded_before_them(
        decided_db, monkeypatch):
    """The page's Since last CAB tab says it as the pack does."""
    with db.publish(decided_db) as con:
        con.execute("update ingest_batches set started_at = "
                    "'2026-01-12 09:00Z', finished_at = '2026-01-12 09:00Z'")
        loaded = con.execute("select count(*) from ingest_batches").fetchone()
    assert loaded[0] > 0
    app = _page(decided_db, monkeypatch, tab="since", teams="Core")
    captions = [c.value for c in app.caption]
    assert "None in the data so far (loaded Mon 12 Jan 2026 09:00 UTC)." \
        in captions, captions
    assert "None." not in captions


def test_the_decisions_table_shows_each_note_whole(decided_db, monkeypatch):
    """An approval's conditions were cut after a few words in the page's
    decisions table at 1280 px (a CAB chair's walkthrough): the note is
    wrapped beside the title, the first five columns within the table's
    width at 1280 px, each row as tall as the longest note needs."""
    import json

    from changeboard import ui
    record_meeting(decided_db)
    decisions.record(decided_db, MEMBER, MEETING, "C1",
                     "approved_with_conditions", "Start only after C2 has "
                     "finished (not before 19:30 CET), with the DBA on call "
                     "and the rollback script attached to the change")
    app = _page(decided_db, monkeypatch)
    table = next(d for d in app.dataframe
                 if list(d.value.columns[:5]) == [
                     "#", "Change", "Title", "Decision", "Note"])
    widths = {k: c.get("width") for k, c in
              json.loads(table.proto.columns).items()}
    assert sum(widths[c] for c in ("#", "Change", "Title", "Decision",
                                   "Note")) == ui.TABLE_WIDTH, widths
    assert table.proto.row_height >= ui.wrapped_row_height(
        table.value["Note"], widths["Note"], ui.READ_LINES) > ui.ROW_HEIGHT


def record_meeting(path):
    decisions.record(path, MEMBER, MEETING, "C1", "approved", "first go")
    decisions.record(path, MEMBER, MEETING, "C2", "rejected",
                     "no <backout> plan")
    decisions.record(path, MEMBER, MEETING, "C1", "approved_with_conditions",
                     "after 22:00 only")
    # approved meanwhile in the tool: off the agenda, still in the minutes
    decisions.record(path, MEMBER, MEETING, "C3", "deferred", "=cmd|x")
    decisions.record_attendees(path, MEMBER, MEETING, "Ann Chair\nBo Ops")


def test_minutes_under_a_failure_threshold_say_it_and_keep_it(
        decided_db, monkeypatch):
    """The minutes read what happened to each decided change as the pack
    does: built under CHANGEBOARD_FAILURE_MIN_PRIORITY they say so, and
    their command sets it."""
    from changeboard import config
    record_meeting(decided_db)
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "1")
    said = dict(minutes.provenance(minutes.build(cab.build_pack(
        decided_db, MEETING))))
    assert said["Failed changes"].startswith(
        "failed by a linked P1 incident alone")
    assert said["Regenerate with"].startswith(
        "CHANGEBOARD_FAILURE_MIN_PRIORITY=1 python -m changeboard report "
        "minutes ")


def test_minutes_list_every_decision_in_each_format(decided_db, tmp_path):
    record_meeting(decided_db)
    built = minutes.build(cab.build_pack(decided_db, MEETING))
    table = built.decisions
    assert list(table["Change"]) == ["C2", "C1", "C3"]  # agenda order first
    assert list(table["#"].astype(object).where(table["#"].notna(), None)) \
        == [1, 2, None]
    c3 = table.iloc[2]
    assert (c3["Title"], c3["Risk"], c3["Decision"]) == (
        "Other & co", "Low", "Deferred")
    assert c3["Application"] == 'Payments & "Cards" (A1)'
    c1 = table.iloc[1]
    assert (c1["Decision"], c1["Note"], c1["Times recorded"]) == (
        "Approved with conditions", "after 22:00 only", 2)
    assert c1["Decided by"] == "chair@acme.example"
    assert list(built.earlier["Decision"]) == ["Approved"]
    assert built.attendees == ["Ann Chair", "Bo Ops"]
    assert built.undecided == []

    page = minutes.to_html(built)
    assert "CAB minutes — Tue 20 Jan 2026 10:00" in page
    for text in ("C1", "C2", "C3", "after 22:00 only", "no &lt;backout&gt; "
                 "plan", "Ann Chair", "Bo Ops", "Produced by Changeboard",
                 "Batches loaded", "python -m changeboard report minutes "
                 "--meeting 2026-01-20"):
        # the text read (escaped), whatever spans keep its words whole
        assert text in re.sub(r"<[^>]+>", "", page), text
    assert "<script" not in page and "http" not in page
    # one main landmark; heading cells name their column (accessibility)
    assert re.search(r"<body><main><h1>.*</main></body></html>\s*$", page,
                     re.S)
    assert set(re.findall(r"<th\b[^>]*>", page)) == {'<th scope="col">'}
    # each file's Regenerate command writes that file (all named a PDF)
    read = re.sub(r"<[^>]+>", "", page)
    assert "--out cab-minutes.html" in read and ".pdf" not in read
    book = openpyxl.load_workbook(io.BytesIO(minutes.to_xlsx(built)))
    assert dict(book["Produced by"].iter_rows(min_row=2, values_only=True))[
        "Regenerate with"].endswith(" --out cab-minutes.xlsx")
    assert book.sheetnames == ["Decisions", "Earlier decisions", "Attendees",
                               "Not decided", "Produced by"]
    rows = list(book["Decisions"].values)
    notes = [r[rows[0].index("Note")] for r in rows[1:]]
    assert notes == ["no <backout> plan", "after 22:00 only", "=cmd|x"]
    note = book["Decisions"].cell(4, rows[0].index("Note") + 1)
    assert note.data_type == "s" and note.quotePrefix  # text, shown as is
    assert [r[0] for r in book["Attendees"].iter_rows(
        min_row=2, values_only=True)] == ["Ann Chair", "Bo Ops"]


def test_minutes_and_the_last_cabs_decisions_read_the_pages_words(
        decided_db):
    """The minutes wrote a change's risk and type as the data holds them
    ('very high', 'normal'), the last CAB's decisions its state
    ('authorize') and what happened in lower case ('failed (backed
    out)'), where every page writes codes as words: the tables, the HTML
    and the XLSX now read 'Very high', 'Normal', 'Authorize', 'Failed
    (Backed out)'; titles, notes and names stay as written."""
    record_meeting(decided_db)
    pack = cab.build_pack(decided_db, MEETING)
    built = minutes.build(pack)
    expected = [("C2", "Very high", "Emergency"), ("C1", "High", "Normal"),
                ("C3", "Low", "Normal")]
    assert list(built.decisions[["Change", "Risk", "Type"]].itertuples(
        index=False, name=None)) == expected
    cells = html_cells(minutes.to_html(built))
    assert {"Very high", "Emergency", "High", "Normal", "Low",
            "no <backout> plan", "=cmd|x"} <= set(cells)
    assert not LOWER_CASE_CODES & set(cells)
    book = openpyxl.load_workbook(io.BytesIO(minutes.to_xlsx(built)))
    _, rows = sheet_cells(book)["Decisions"]
    assert [(r["Change"].value, r["Risk"].value, r["Type"].value)
            for r in rows] == expected

    happened = {"D4": ("Implemented (Successful)", "Closed"),
                "D1": ("Failed (Backed out)", "Closed"),
                # failed by a linked incident, closed successful: said so,
                # where it read 'Failed (Successful)'
                "D2": ("Failed (linked incident; closed Successful)",
                       "Closed"),
                "D3": ("Not started", "Authorize"),
                "D5": ("Cancelled", "Cancelled"),
                "D6": ("Implemented (Successful)", "Closed"),
                "D7": ("Started, not closed", "Implement"),
                "D8": ("Not in the data", "")}
    table = decided.table(pack)
    assert {r["Change"]: (r["What happened"], r["State"])
            for r in table.to_dict("records")} == happened
    assert table.set_index("Change").loc["D1", "Title"] == "Backed out"
    cells = html_cells(cab.to_html(pack))
    assert {"Failed (Backed out)", "Not started", "Authorize",
            "Implement"} <= set(cells)
    assert not LOWER_CASE_CODES & set(cells)
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    _, rows = sheet_cells(book)["Since last CAB - decisions"]
    assert {r["Change"].value: (r["What happened"].value,
                                r["State"].value or "")
            for r in rows} == happened


@pytest.mark.parametrize("close_code, close, incident, rollback, said", [
    ("backed_out", True, False, False, "Failed (Backed out)"),
    ("unsuccessful", True, True, False,
     "Failed (Unsuccessful; linked incident)"),
    ("successful", False, True, False,
     "Failed (linked incident; closed Successful)"),
    ("successful_with_issues", False, True, True,
     "Failed (linked incident, rolled-back deployment; closed Successful "
     "with issues)"),
    (None, False, False, True, "Failed (rolled-back deployment)"),
])
def test_what_happened_to_a_failed_change_names_what_failed_it(
        close_code, close, incident, rollback, said):
    """A change failed by a linked incident or a rolled-back deployment
    (docs/metrics.md's failed change) but closed successful read 'Failed
    (Successful)': it names the signal before the close code that does not
    fail it; a failing close code is the reason, as before."""
    row = {"outcome": "failed", "close_code": close_code,
           "is_failed_by_close_code": close,
           "is_failed_by_incident": incident,
           "is_failed_by_rollback": rollback}
    assert decided.happened(row) == said
    assert decided.happened({**row, "outcome": "implemented"}) == (
        f"Implemented ({words(close_code)})" if close_code else "Implemented")


@needs_pdf_tools
def test_the_last_cabs_decisions_print_the_pages_words(decided_db,
                                                       tmp_path):
    pdf = cab.to_pdf(cab.build_pack(decided_db, MEETING),
                     tmp_path / "pack.pdf")
    # the crowded landscape table wraps its cells: read them in the order
    # they are written (-raw), each cell whole, not line by line across
    flat = " ".join(subprocess.run(["pdftotext", "-raw", str(pdf), "-"],
                                   capture_output=True, text=True,
                                   check=True).stdout.split())
    for shown in ("Failed (Backed out)", "Implemented (Successful)",
                  "Failed (linked incident; closed Successful)",
                  "Not started", "Started, not closed", "Not in the data",
                  "Authorize", "Implement"):
        assert shown in flat, shown
    for old in ("failed (backed out)", "not started", "authorize",
                "Failed (Successful)"):
        assert old not in flat, old


def test_a_meeting_on_a_day_the_cab_does_not_meet_is_said(
        decided_db, tmp_path, monkeypatch, capsys):
    """?meeting=2026-12-09, a Wednesday of a Tuesday CAB, built its pack
    with nothing said, its agenda holding changes decided the day before,
    and `report minutes --meeting` of it wrote '0 decisions' and exited 0
    (a CAB chair's walkthrough). The page warns, and both commands say it
    on stderr; a CAB day says nothing."""
    assert cab.off_cadence(MEETING) is None  # a Tuesday
    wednesday = date(2026, 1, 21)
    said = cab.off_cadence(wednesday)
    assert said.startswith(
        "Wed 21 Jan 2026 is not a CAB day: the CAB meets on Tuesdays at "
        "10:00 (UTC; CHANGEBOARD_CAB_WEEKDAYS and CHANGEBOARD_CAB_TIME).")
    assert said.endswith("the CAB days around it are Tue 20 Jan and "
                         "Tue 27 Jan 2026.")
    app = _page(decided_db, monkeypatch, tab="since", meeting="2026-01-21")
    assert said in [w.value for w in app.warning]
    assert not [w for w in _page(decided_db, monkeypatch, tab="since").warning
                if "not a CAB day" in w.value]
    for kind, day in (("minutes", "2026-01-21"), ("cab", "2026-01-21"),
                      ("minutes", "2026-01-20")):
        assert changeboard_cli.main([
            "report", kind, "--date", day, "--db", str(decided_db),
            "--out", str(tmp_path / f"{kind}-{day}.html")]) == 0
        err = capsys.readouterr().err
        assert ("not a CAB day" in err) == (day == "2026-01-21"), err


@needs_pdf_tools
def test_minutes_pdf_and_cli(decided_db, tmp_path, capsys):
    record_meeting(decided_db)
    out = tmp_path / "minutes.pdf"
    assert changeboard_cli.main([
        "report", "minutes", "--meeting", "2026-01-20", "--db",
        str(decided_db), "--format", "pdf", "--out", str(out)]) == 0
    assert "3 decisions, 2 attendees" in capsys.readouterr().out
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"],
                          capture_output=True, text=True, check=True).stdout
    for change_id, decision in (("C2", "Rejected"), ("C1", "Approved"),
                                ("C3", "Deferred")):
        assert re.search(rf"\b{change_id}\b.*{decision}", text), change_id
    assert "--out cab-minutes.pdf" in " ".join(text.split())
    # risk and type read as the pages' words
    for change_id, risk, kind in (("C2", "Very high", "Emergency"),
                                  ("C1", "High", "Normal"),
                                  ("C3", "Low", "Normal")):
        assert re.search(rf"\b{change_id}\b.*\s{risk}\s+{kind}\s", text), \
            change_id
    # notes wrap inside their cells: read them in text order
    flat = " ".join(subprocess.run(["pdftotext", str(out), "-"],
                                   capture_output=True, text=True,
                                   check=True).stdout.split())
    for note in ("after 22:00 only", "no <backout> plan", "first go",
                 "Ann Chair", "Bo Ops"):
        assert note in flat, note
    assert "Batches loaded" in text
    html_out = tmp_path / "minutes.html"
    assert changeboard_cli.main([
        "report", "minutes", "--meeting", "2026-01-20", "--db",
        str(decided_db), "--format", "html", "--out", str(html_out)]) == 0
    assert "after 22:00 only" in html_out.read_text()
    assert changeboard_cli.main([
        "report", "minutes", "--meeting", "2026-01-20", "--db",
        str(tmp_path / "none.duckdb"), "--format", "html", "--out",
        str(html_out)]) == 2  # an input error (was 1)
    assert "report minutes: no database" in capsys.readouterr().err


@needs_pdf_tools
def test_the_minutes_heading_after_the_decisions_stands_apart(decided_db,
                                                              tmp_path):
    """'Agenda changes not decided' printed touching the decisions' table
    above it: a heading after a table has a gap above it, as one after a
    paragraph does."""
    decisions.record(decided_db, MEMBER, MEETING, "C2", "rejected", "no plan")
    out = tmp_path / "minutes.pdf"
    assert changeboard_cli.main([
        "report", "minutes", "--meeting", "2026-01-20", "--db",
        str(decided_db), "--format", "pdf", "--out", str(out)]) == 0
    boxes = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1",
                            str(out), "-"], capture_output=True, text=True,
                           check=True).stdout
    words = [(float(y0), float(y1), w) for y0, y1, w in re.findall(
        r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', boxes)]
    heading = next(y0 for y0, _, w in words if w == "Agenda")
    above = max(y1 for _, y1, w in words if y1 < heading)  # the table's end
    assert heading - above >= 10, heading - above  # points; it was 6.4


# a meeting before the start of summer time in New York (2026-03-08 02:00
# EST), and the wall times of its minutes in each zone: the meeting, a plan
# from 06:30Z to 07:30Z (01:30 EST to 03:30 EDT, one hour), a decision
# replaced at 06:45Z and the current one at 07:15Z, and an off-agenda
# change's plan, 2026-01-21 21:00Z to 23:00Z
SPRING = date(2026, 3, 3)
SPRING_WALLS = {
    "UTC": {"meeting": datetime(2026, 3, 3, 10, 0),
            "start": datetime(2026, 3, 8, 6, 30),
            "end": datetime(2026, 3, 8, 7, 30),
            "earlier": datetime(2026, 3, 8, 6, 45),
            "decided": datetime(2026, 3, 8, 7, 15),
            "C3 start": datetime(2026, 1, 21, 21, 0),
            "C3 end": datetime(2026, 1, 21, 23, 0)},
    "America/New_York": {"meeting": datetime(2026, 3, 3, 10, 0),
                         "start": datetime(2026, 3, 8, 1, 30),
                         "end": datetime(2026, 3, 8, 3, 30),
                         "earlier": datetime(2026, 3, 8, 1, 45),
                         "decided": datetime(2026, 3, 8, 3, 15),
                         "C3 start": datetime(2026, 1, 21, 16, 0),
                         "C3 end": datetime(2026, 1, 21, 18, 0)},
}


@pytest.mark.parametrize("zone", list(SPRING_WALLS))
def test_the_minutes_xlsx_writes_instants_as_dates_in_the_packs_zone(
        decided_db, tmp_path, monkeypatch, capsys, zone):
    """The minutes' XLSX wrote Decided and Planned as text ('Sun 08 Mar
    2026 03:15', 'Sun 08 Mar 2026 01:30 – 03:30'): an analyst could not
    sort or filter them. As in the pack's XLSX, each instant is now a date
    cell holding the wall time in the pack's zone, which its column's
    title names, shown as the minutes show it; the meeting is such a
    column, and the plan its start, end and elapsed hours (across the
    start of summer time in New York, 01:30 EST to 03:30 EDT is 1.0); the
    HTML still writes them as text."""
    monkeypatch.setattr(config, "REPORTING_TZ", zone)
    walls = SPRING_WALLS[zone]
    with db.publish(decided_db) as con:
        insert(con, "changes", [planned(
            "C9", "2026-03-08 06:30Z", "2026-03-08 07:30Z", risk="high",
            application_id="A2", assignment_group="Core", title="Spring")])

    def decide(change_id, decision, at):
        decisions.record(decided_db, MEMBER, SPRING, change_id, decision,
                         "after the rollback test" if "conditions" in decision
                         else "" if decision == "approved"
                         else "no rollback test", now=datetime.fromisoformat(at))

    decide("C3", "deferred", "2026-03-03 15:05+00:00")  # not on the agenda
    decide("X1", "rejected", "2026-03-03 15:06+00:00")  # not in the data
    decide("C9", "approved", "2026-03-08 06:45+00:00")
    decide("C9", "approved_with_conditions", "2026-03-08 07:15+00:00")
    out = tmp_path / "minutes.xlsx"
    assert changeboard_cli.main([
        "report", "minutes", "--meeting", f"{SPRING}", "--db",
        str(decided_db), "--format", "xlsx", "--out", str(out)]) == 0
    assert "3 decisions" in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    # every instant a date cell under its zone's title, nothing left as text
    # that reads as a date or a number: the meeting in each row of both
    # sheets, C9's plan and decision, C3's plan (a change off the agenda:
    # read from the data), X1's decision, C9's replaced one
    assert assert_cells_typed(book, zone) == 3 + 3 + 2 + 2 + 2
    cells = sheet_cells(book)
    titles, rows = cells["Decisions"]
    assert titles == [
        f"Meeting ({zone})", "#", "Change", "Title", "Decision", "Note",
        "Decided by", f"Decided ({zone})", "Risk", "Type", "Application",
        "Team", f"Planned start ({zone})", f"Planned end ({zone})",
        "Planned hours", "Times recorded"]
    got = {r["Change"].value: {t.split(" (")[0]: c for t, c in r.items()}
           for r in rows}
    assert list(got) == ["C9", "C3", "X1"]  # agenda order, then by id
    c9, c3, x1 = got["C9"], got["C3"], got["X1"]
    assert {r["Meeting"].value for r in got.values()} == {walls["meeting"]}
    assert (c9["Planned start"].value, c9["Planned end"].value,
            c9["Decided"].value) == (walls["start"], walls["end"],
                                     walls["decided"])
    assert all(c9[t].number_format == TIME_FORMAT
               for t in ("Meeting", "Planned start", "Planned end",
                         "Decided"))
    hours = c9["Planned hours"]
    assert (hours.value, hours.data_type, hours.number_format) == (
        1, "n", "0.0")
    assert (c9["#"].value, c9["#"].data_type) == (1, "n")
    assert (c9["Times recorded"].value, c9["Times recorded"].data_type) \
        == (2, "n")
    assert (c3["#"].value, c3["Planned start"].value, c3["Planned end"].value,
            c3["Planned hours"].value) == (None, walls["C3 start"],
                                           walls["C3 end"], 2)
    assert (x1["Planned start"].value, x1["Planned hours"].value,
            x1["Decided"].value) == (None, None, datetime(2026, 3, 3, 15, 6)
                                     if zone == "UTC"
                                     else datetime(2026, 3, 3, 10, 6))
    titles, rows = cells["Earlier decisions"]
    # a replaced decision's change named by its title too, as above (a
    # walkthrough: 'CHG0000792 | Deferred' named nothing a reader knew)
    assert titles == [f"Meeting ({zone})", "Change", "Title", "Decision",
                      "Note", "Decided by", f"Decided ({zone})"]
    assert [(r["Change"].value, r["Title"].value, r[f"Meeting ({zone})"].value,
             r[f"Decided ({zone})"].value) for r in rows] == [
        ("C9", c9["Title"].value, walls["meeting"], walls["earlier"])]
    assert c9["Title"].value
    # the HTML writes the same wall times as text, as before
    html_out = tmp_path / "minutes.html"
    assert changeboard_cli.main([
        "report", "minutes", "--meeting", f"{SPRING}", "--db",
        str(decided_db), "--format", "html", "--out", str(html_out)]) == 0
    page = re.sub(r"<[^>]+>", "", html_out.read_text(encoding="utf-8"))
    shown = "%a %d %b %Y %H:%M"
    assert f"CAB minutes — {walls['meeting']:{shown}}" in page
    assert f"{walls['start']:{shown}} – {walls['end']:%H:%M}" in page
    for wall in (walls["decided"], walls["earlier"]):
        assert f"{wall:{shown}}" in page
    # a change off the agenda says its whole plan too, as the data has it
    assert f"{walls['C3 start']:{shown}} – {walls['C3 end']:%H:%M}" in page
    if zone != "UTC":
        assert "Sun 08 Mar 2026 01:30 – 03:30" in page


def _page(path, monkeypatch, user=None, tab="decisions", **url):
    """The CAB page of the 20 January meeting, opened on `tab` (?tab=: only
    the open tab is drawn), with any other `url` parameters."""
    import streamlit as st

    from tests.test_signin import AUTH, signed_in
    monkeypatch.setattr(config, "DB_PATH", path)
    st.cache_data.clear()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if user:
        app.secrets["auth"] = AUTH
        app.user = signed_in(user)
    app.query_params.update({"meeting": "2026-01-20", "tab": tab, **url})
    app.switch_page("views/cab.py").run()
    assert not app.exception
    return app


def test_the_decisions_per_meeting_count_each_change_once_by_its_latest(
        decided_db, monkeypatch):
    """The CAB's throughput, meeting by meeting (a process owner counted it
    by hand): the changes decided at each, each once by its latest
    decision there, how many of each decision, and the changes of mind;
    on the page, latest meeting first, with its files."""
    record_meeting(decided_db)  # C1 twice: approved, then with conditions
    rows = decisions.per_meeting(decided_db)
    assert [str(t) for t in rows["meeting_at"]] == [
        "2026-01-20 10:00:00+00:00", "2026-01-13 10:00:00+00:00"]
    this, last = rows.to_dict("records")
    assert {k: this[k] for k in rows.columns[1:]} == {
        "n_decided": 3, "n_approved": 0, "n_approved_with_conditions": 1,
        "n_rejected": 1, "n_deferred": 1, "n_changed_since": 1}
    assert last["n_decided"] == len(LOOK_BACK) and \
        last["n_changed_since"] == 0
    assert sum(last[f"n_{d}"] for d in decisions.DECISIONS) == \
        last["n_decided"]
    # up to a log position: what was recorded by then
    assert decisions.per_meeting(decided_db, decisions.NOTHING).empty
    app = _page(decided_db, monkeypatch)
    drawn = next(d for d in app.dataframe if "n_decided" in d.value.columns)
    shown = json.loads(drawn.proto.columns)
    assert [shown[c]["label"] for c in ("meeting_at", "n_decided",
                                        "n_approved_with_conditions")] == [
        "Meeting (UTC)", "Changes decided", "Approved with conditions"]
    assert list(drawn.value["n_decided"]) == [3, len(LOOK_BACK)]
    assert list(drawn.value["meeting_at"]) == ["Tue 20 Jan 2026 10:00",
                                               "Tue 13 Jan 2026 10:00"]
    assert any(e.label == "Decisions per meeting (2 meetings)"
               for e in app.expander)


def test_the_form_opens_on_and_moves_to_a_change_not_decided_yet(
        decided_db, monkeypatch):
    """The agenda is C2, C1. With C2 decided, the form opens on C1 (a
    reload opened on #1, decided already); saving C1 again, on the form's
    own pick, stays there: nothing else is left."""
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved", "ok")
    app = _page(decided_db, monkeypatch)
    assert app.selectbox(key="cab-decide-change").value == "C1"
    assert app.radio(key="cab-decide-choice").value is None
    app.radio(key="cab-decide-choice").set_value("Approved")
    app.button(key="cab-decide-save").click().run()
    assert app.selectbox(key="cab-decide-change").value == "C1"
    assert app.radio(key="cab-decide-choice").value == "Approved"
    decisions.record(decided_db, MEMBER, MEETING, "C1", "approved", "ok")
    reopened = _page(decided_db, monkeypatch)  # all decided: the first
    assert reopened.selectbox(key="cab-decide-change").value == "C2"


def test_recording_before_the_meeting_says_what_the_first_decision_fixes(
        decided_db, monkeypatch):
    """Decisions recorded the evening before fixed the agenda the minutes
    read, unsaid: two changes loaded after them were in the form and not
    in the minutes (a new user's walkthrough). While the meeting is ahead
    the form's caption says so; a past meeting's does not."""
    ahead = _page(decided_db, monkeypatch, meeting="2030-01-15")
    said = next(c.value for c in ahead.caption
                if c.value.startswith("Recording as"))
    assert ("The meeting is on Tue 15 Jan 2030 10:00: its minutes read the "
            "agenda as it stood when its first decision was recorded, so "
            "the first one recorded now fixes it: a change a later load "
            "adds is not on it.") in said
    past = _page(decided_db, monkeypatch)
    said = next(c.value for c in past.caption
                if c.value.startswith("Recording as"))
    assert "The meeting is on" not in said


def test_another_decision_does_not_keep_the_note_of_the_one_recorded(
        decided_db, monkeypatch):
    """A Deferred change approved with one click kept its deferral's note:
    the log and the minutes read 'Approved · Wait for DBA sign-off' (a new
    user's walkthrough). Another decision takes the recorded note out of
    the form, saying its words; back to the decision recorded, it returns;
    a note written since stays."""
    decisions.record(decided_db, MEMBER, MEETING, "C1", "deferred",
                     "Wait for DBA sign-off")
    app = _page(decided_db, monkeypatch)
    app.selectbox(key="cab-decide-change").set_value("C1").run()
    assert app.radio(key="cab-decide-choice").value == "Deferred"
    assert app.text_area(key="cab-decide-note").value == \
        "Wait for DBA sign-off"
    app.radio(key="cab-decide-choice").set_value("Approved").run()
    assert app.text_area(key="cab-decide-note").value == ""
    from changeboard import ui
    assert [i.value for i in app.info if "out of the form" in i.value] == [
        ui.plain("The note recorded with Deferred is out of the form: it "
                 "was that decision's. It read: Wait for DBA sign-off")]
    app.radio(key="cab-decide-choice").set_value("Deferred").run()
    assert app.text_area(key="cab-decide-note").value == \
        "Wait for DBA sign-off"
    app.text_area(key="cab-decide-note").input("Signed off by the DBA")
    app.radio(key="cab-decide-choice").set_value("Approved").run()
    assert app.text_area(key="cab-decide-note").value == \
        "Signed off by the DBA"
    app.text_area(key="cab-decide-note").input("")
    app.button(key="cab-decide-save").click().run()
    assert not app.exception
    last = decisions.history(decided_db, MEETING, "C1").iloc[-1]
    assert (last["decision"], last["note"]) == ("approved", "")


def test_a_saved_decision_shows_its_own_history(decided_db, monkeypatch):
    """An auditor amended one change's decision and read another's history:
    'History of' kept the change it showed. It now shows the change just
    saved."""
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved", "ok")
    decisions.record(decided_db, MEMBER, MEETING, "C1", "approved", "ok")
    app = _page(decided_db, monkeypatch)
    history = app.selectbox(key="cab-history")
    other = next(o for o in history.options if o.startswith("C2 "))
    history.select(other).run()
    assert app.selectbox(key="cab-history").value == "C2"
    app.selectbox(key="cab-decide-change").set_value("C1").run()
    app.radio(key="cab-decide-choice").set_value("Deferred")
    app.text_area(key="cab-decide-note").input("Wait for the rehearsal")
    app.button(key="cab-decide-save").click().run()
    assert not app.exception
    assert app.selectbox(key="cab-history").value == "C1"
    # the history (the table with a Current column; the decisions per
    # meeting come after it)
    shown = next(d.value for d in app.dataframe
                 if "Current" in d.value.columns)
    assert list(shown["Note"])[-2:] == ["ok", "Wait for the rehearsal"]


def test_a_decided_change_is_named_by_its_title_in_history_and_minutes(
        decided_db, monkeypatch):
    """'History of' offered CHG0000804, CHG0000803, ... and the minutes'
    replaced decisions read 'CHG0000792 | Deferred': bare ids, where the
    agenda just above names each by its title."""
    record_meeting(decided_db)
    app = _page(decided_db, monkeypatch)
    box = app.selectbox(key="cab-history")
    built = minutes.build(cab.build_pack(decided_db, MEETING))
    titles = dict(zip(built.decisions["Change"], built.decisions["Title"],
                      strict=True))
    # AppTest gives the options as the box shows them
    assert sorted(box.options) == sorted(f"{c} — {t}"
                                         for c, t in titles.items())
    assert "C3 — Other & co" in box.options
    assert list(built.earlier["Title"]) == [titles["C1"]]  # C1's first go
    assert titles["C1"]


@pytest.mark.parametrize("space_mm", [220, 235, 245])
def test_a_headings_caption_keeps_to_the_table_after_it(tmp_path, space_mm):
    """The next CAB's PDF ended a page with 'Decisions of the last CAB' and
    its caption, its tables on the next page (a CAB member's walkthrough).
    A heading, its caption and a table's heading are printed with the
    pack's stylesheet below blocks of three heights (the first leaves room
    for a row, the others for the headings but not a row; on the tree
    before, the headings stood alone there): they go with a row."""
    from reports.cab import html as pack_html
    from reports.cab import pdf
    from reports.markup import html_table
    from tests.test_cab_pack import pdf_pages
    rows = html_table(pd.DataFrame({
        "Change": [f"C{i}" for i in range(6)], "Note": ["text " * 30] * 6}),
        "None.")
    page = (f"<html><head><style>{pack_html.CSS}</style></head><body>"
            f'<div style="height: {space_mm}mm"></div>'
            "<h3>Decisions of the last CAB</h3>"
            '<p class="meta">Decisions recorded at the meeting.</p>'
            "<h4>Rejected, implemented anyway (6)</h4>"
            f"{rows}"
            "</body></html>")
    pages = pdf_pages(pdf.print_pdf(page, tmp_path / "p.pdf"))
    [first] = [p for p in pages if "Decisions of the last CAB" in p]
    assert "Rejected, implemented anyway" in first and "C0" in first


def test_a_decision_recorded_meanwhile_is_not_replaced_unsaid(
        decided_db, monkeypatch):
    """Two CAB members had the form open on C1; the one who saved second
    replaced the first one's Approved with Rejected, silently. The second
    save is refused saying who recorded what and when, keeps the form, and
    records on a second click."""
    first = _page(decided_db, monkeypatch)
    assert first.selectbox(key="cab-decide-change").value == "C2"
    first.radio(key="cab-decide-choice").set_value("Rejected")
    first.text_area(key="cab-decide-note").input("No backout plan")
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved",
                     "fine by me")   # the other member, meanwhile
    first.button(key="cab-decide-save").click().run()
    said = " ".join(w.value for w in first.warning).replace("\\", "")
    assert f"Not recorded: {MEMBER.actor} recorded Approved for C2 at " \
        in said and "(note: fine by me)" in said, said
    assert re.search(rf"at \w{{3}} \d\d \w{{3}} \d{{4}} \d\d:\d\d "
                     rf"\({config.REPORTING_TZ}\) after", said), said
    assert list(decisions.current(decided_db, MEETING)["decision"]) == [
        "approved"]
    assert first.radio(key="cab-decide-choice").value == "Rejected"
    first.button(key="cab-decide-save").click().run()
    assert list(decisions.current(decided_db, MEETING)["decision"]) == [
        "rejected"]
    assert not first.warning


def test_what_was_written_for_a_change_and_not_saved_comes_back(
        decided_db, monkeypatch):
    """A note typed for one change was lost when another was picked in the
    form (a CAB member's walkthrough): it comes back with its change,
    unsaved, and says so."""
    app = _page(decided_db, monkeypatch)
    assert app.selectbox(key="cab-decide-change").value == "C2"
    app.radio(key="cab-decide-choice").set_value("Rejected")
    app.text_area(key="cab-decide-note").input("No backout plan")
    app.selectbox(key="cab-decide-change").set_value("C1").run()
    assert app.radio(key="cab-decide-choice").value is None
    assert app.text_area(key="cab-decide-note").value == ""
    app.selectbox(key="cab-decide-change").set_value("C2").run()
    assert app.radio(key="cab-decide-choice").value == "Rejected"
    assert app.text_area(key="cab-decide-note").value == "No backout plan"
    assert any("not saved is back in the form" in i.value for i in app.info)
    assert decisions.current(decided_db, MEETING).empty
    app.button(key="cab-decide-save").click().run()
    assert list(decisions.current(decided_db, MEETING)["note"]) == [
        "No backout plan"]


def test_a_decision_on_a_change_that_left_the_agenda_can_be_amended(
        decided_db, monkeypatch):
    """A load approved C1 in the source after the CAB decided it: C1 left
    the agenda, and with it the form, so its decision could no longer be
    amended (a CAB member's walkthrough). It stays in the form, last, said
    to be no longer on the agenda."""
    decisions.record(decided_db, MEMBER, MEETING, "C1", "deferred",
                     "waits for the DBA")
    with db.publish(decided_db) as con:
        con.execute("update changes set approval = 'approved' "
                    "where change_id = 'C1'")
    app = _page(decided_db, monkeypatch)
    pick = app.selectbox(key="cab-decide-change")
    assert pick.options[-1] == "C1 — no longer on the agenda · Deferred"
    assert not any(o.startswith("C1") for o in pick.options[:-1])
    pick.set_value("C1").run()
    app.radio(key="cab-decide-choice").set_value("Approved")
    app.button(key="cab-decide-save").click().run()
    assert not app.exception
    assert dict(zip(*decisions.current(decided_db, MEETING)[
        ["change_id", "decision"]].T.values, strict=True))["C1"] == \
        "approved"


def test_record_refuses_a_decision_on_what_the_form_did_not_show(
        decided_db):
    decisions.record(decided_db, MEMBER, MEETING, "C1", "approved", "",
                     seen=0)
    with pytest.raises(decisions.Superseded) as newer:
        decisions.record(decided_db, MEMBER, MEETING, "C1", "deferred",
                         "waits for the DBA", seen=0)
    assert (newer.value.recorded, newer.value.row["decision"]) == (
        1, "approved")
    decisions.record(decided_db, MEMBER, MEETING, "C1", "deferred",
                     "waits for the DBA", seen=1)
    assert len(decisions.history(decided_db, MEETING, "C1")) == 2


@pytest.mark.parametrize("k", [1, 2])
def test_the_undecided_count_reads_right_at_one_and_at_two(
        decided_db, monkeypatch, k):
    """The minutes on the page read '1 agenda change(s) not decided yet':
    '1 agenda change', '2 agenda changes' (the agenda is C1 and C2; C3 is
    not on it)."""
    from tests.wording import page_texts, slips_at_one
    decisions.record(decided_db, MEMBER, MEETING, "C1" if k == 1 else "C3",
                     "approved", "ok")
    app = _page(decided_db, monkeypatch)
    said = [c.value for c in app.caption if "not decided" in c.value]
    assert said == [{1: "1 agenda change not decided yet.",
                     2: "2 agenda changes not decided yet."}[k]]
    if k == 1:
        assert slips_at_one(said) == []
        assert not [t for t in page_texts(app) if "(s)" in t]


def test_the_page_records_a_decision_in_single_user_mode(decided_db,
                                                         monkeypatch):
    app = _page(decided_db, monkeypatch)
    tab = app.tabs[3]
    assert tab.label == "Decisions and minutes (0)"
    prepared = ("The pack is the agenda as the data stands, without the "
                "decisions: this meeting's ")
    assert not [c for c in app.caption if c.value.startswith(prepared)]
    assert app.selectbox(key="cab-decide-change").options[0].startswith(
        "#1 C2 — ")
    app.selectbox(key="cab-decide-change").set_value("C1").run()
    app.radio(key="cab-decide-choice").set_value("Rejected")
    app.text_area(key="cab-decide-note").input("No test plan")
    app.button(key="cab-decide-save").click().run()
    assert not app.exception
    now = decisions.current(decided_db, MEETING)
    assert list(now[["change_id", "decision", "note"]].itertuples(
        index=False, name=None)) == [("C1", "rejected", "No test plan")]
    assert now.loc[0, "decided_by"].startswith("local:")
    # the actor in a code span, as the sidebar has it (an e-mail address
    # drew as a mail link)
    assert any(c.value.startswith(f"Recording as `{now.loc[0, 'decided_by']}`"
                                  ". ") for c in app.caption)
    assert any("Recorded rejected for C1" in s.value for s in app.success)
    assert app.tabs[3].label == "Decisions and minutes (1)"
    # beside the pack's files: the decision is in the minutes, not in them
    # (a member looked for it in the HTML pack)
    assert prepared + "1 decision is in its minutes (Decisions and " \
        "minutes)." in [c.value for c in app.caption]
    # C1 is the agenda's last: the form goes back to C2, not decided yet
    assert app.selectbox(key="cab-decide-change").value == "C2"
    app.selectbox(key="cab-decide-change").set_value("C1").run()
    assert app.radio(key="cab-decide-choice").value == "Rejected"
    assert app.text_area(key="cab-decide-note").value == "No test plan"
    app.selectbox(key="cab-decide-change").set_value("C2").run()
    # a change not decided yet: no decision preselected (Approved was one
    # click on Save from an approval nobody chose), and Save says so
    assert app.radio(key="cab-decide-choice").value is None
    assert app.text_area(key="cab-decide-note").value == ""
    app.button(key="cab-decide-save").click().run()
    assert "Pick a decision for C2 before saving it." in [
        e.value for e in app.error]
    assert list(decisions.current(decided_db, MEETING)["change_id"]) == [
        "C1"]
    # saving C2 leaves every agenda change decided: the form stays on C2,
    # showing its decision, and says so (it moved on to C1, decided
    # already, one click on Save from recording it again)
    app.radio(key="cab-decide-choice").set_value("Deferred")
    app.text_area(key="cab-decide-note").input("Until the vendor's patch")
    app.button(key="cab-decide-save").click().run()
    assert app.selectbox(key="cab-decide-change").value == "C2"
    assert app.radio(key="cab-decide-choice").value == "Deferred"
    assert [s.value for s in app.success] == [
        "Recorded deferred for C2. Every change in this list has a decision."]
    assert list(decisions.current(decided_db, MEETING)["decision"]) == [
        "rejected", "deferred"]
    shown = [d.value for d in app.dataframe
             if "Times recorded" in d.value.columns]
    assert shown and list(shown[0]["Change"]) == ["C2", "C1"]  # agenda order
    # each instant's zone in its heading, as on the pack's pages
    assert "Decided (UTC)" in shown[0].columns
    history = next(d.value for d in app.dataframe
                   if "Current" in d.value.columns)
    assert "Decided (UTC)" in history.columns
    # the For decision tab says them too: its agenda's Decision column and
    # each block (a rejection showed nowhere but this tab); opened by its
    # tab (with no ?tab, the page opens the tab open last: this one)
    click_tab(app, app.tabs[0].label)
    agenda = next(d.value for d in app.dataframe if "Flags" in d.value.columns)
    assert list(zip(agenda["Change"], agenda["Decision"], strict=True)) == [
        ("C2", "Deferred"), ("C1", "Rejected")]
    # beside the id: last, a wide screen cut "Approved with conditions"
    assert list(agenda.columns[:3]) == ["#", "Change", "Decision"]
    assert [m.value for m in app.markdown if "Decided at this meeting" in
            m.value] == [":blue-badge[Decided at this meeting: Deferred]",
                         ":blue-badge[Decided at this meeting: Rejected]"]
    # and each block its reasons, as the minutes print them
    assert [c.value for c in app.caption if c.value.startswith(
        "Reasons:")] == ["Reasons: Until the vendor's patch",
                         "Reasons: No test plan"]
    # the last CAB's decisions are on the Since last CAB tab, D4 flagged
    assert not any("D4" in e.value for e in app.error)  # not drawn: closed
    # its label says so from every tab
    assert app.tabs[1].label == "Since last CAB (⚠ 1 rejected, implemented)"
    app.query_params["tab"] = "since"
    app.run()
    assert any("D4" in e.value for e in app.error)


def test_approved_with_conditions_is_not_saved_without_its_conditions(
        decided_db, monkeypatch):
    """Saved with an empty note, 'Approved with conditions' was recorded and
    the minutes read it with no condition named; the page now says what to
    write, records nothing, and saves once the conditions are written."""
    app = _page(decided_db, monkeypatch)
    app.selectbox(key="cab-decide-change").set_value("C1").run()
    app.radio(key="cab-decide-choice").set_value("Approved with conditions")
    app.button(key="cab-decide-save").click().run()
    assert not app.exception
    assert [e.value.replace("\\", "") for e in app.error] == [
        "Approved with conditions needs its conditions: write them in the "
        "note. Nothing was recorded."]
    assert decisions.current(decided_db, MEETING).empty
    # the form stays on the change and the choice, for the note to be added
    assert app.selectbox(key="cab-decide-change").value == "C1"
    assert app.radio(key="cab-decide-choice").value == \
        "Approved with conditions"
    app.text_area(key="cab-decide-note").input("Only after 22:00")
    app.button(key="cab-decide-save").click().run()
    now = decisions.current(decided_db, MEETING)
    assert list(now[["change_id", "decision", "note"]].itertuples(
        index=False, name=None)) == [
        ("C1", "approved_with_conditions", "Only after 22:00")]
    shown = next(d.value for d in app.dataframe
                 if "Times recorded" in d.value.columns)
    assert list(shown["Note"]) == ["Only after 22:00"]


def test_the_pages_minutes_are_the_meetings_whatever_its_filter(
        decided_db, monkeypatch):
    """Filtered to one team, the page's minutes ranked the decided change
    #1 and said nothing was undecided; the minutes are the meeting's (as
    their own Regenerate command writes them): C1 is #2 and C2 undecided."""
    decisions.record(decided_db, MEMBER, MEETING, "C1", "approved", "ok")
    app = _page(decided_db, monkeypatch, teams="Ops")
    shown = next(d.value for d in app.dataframe
                 if "Times recorded" in d.value.columns)
    assert list(zip(shown["#"], shown["Change"], strict=True)) == [(2, "C1")]
    assert any(c.value.startswith("1 agenda change not decided")
               for c in app.caption)
    regenerated = minutes.build_for(decided_db, MEETING)
    assert list(regenerated.decisions["#"]) == [2]
    assert regenerated.undecided == ["C2"]


def test_a_filtered_page_says_its_form_and_its_minutes_number_two_agendas(
        decided_db, monkeypatch):
    """Filtered to one team, the form offered its change as '#1' while the
    minutes beside it number it #2 and count the undecided changes of the
    whole agenda, with nothing said of the two scopes. The form's caption
    says the filters narrow its list and the minutes are the whole
    agenda's; the undecided count says it is the meeting's. Unfiltered,
    neither is said."""
    decisions.record(decided_db, MEMBER, MEETING, "C1", "approved", "ok")
    app = _page(decided_db, monkeypatch, teams="Ops")
    said = [c.value for c in app.caption]
    assert any(c.endswith(
        "The filters or the window chosen narrow this list to this pack's "
        "changes, numbered as in it; the decisions and minutes below are "
        "the meeting's whole agenda, numbered as the minutes number it.")
        for c in said), said
    assert "1 agenda change not decided yet, of the meeting's 2, whatever " \
        "the filters." in said
    whole = _page(decided_db, monkeypatch)
    said = [c.value for c in whole.caption]
    assert not any("narrow this list" in c for c in said), said
    assert "1 agenda change not decided yet." in said


@pytest.mark.parametrize("k", [1, 2])
def test_saved_attendees_are_counted_in_the_singular_for_one(
        decided_db, monkeypatch, k):
    """Saving the attendees said 'Recorded 1 attendee(s).': 'Recorded 1
    attendee.', 'Recorded 2 attendees.'"""
    app = _page(decided_db, monkeypatch)
    attendees = next(t.key for t in app.text_area
                     if t.key.startswith("cab-attendees-"))
    app.text_area(key=attendees).input("\n".join(["Alice", "Bob"][:k]))
    app.button(key="cab-attendees-save").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == [
        {1: "Recorded 1 attendee.", 2: "Recorded 2 attendees."}[k]]


def test_the_attendees_box_shows_the_list_saved(decided_db, monkeypatch):
    """Typed with a repeat and a blank line, the attendees were saved as
    two names, yet the box went on showing the four lines typed."""
    app = _page(decided_db, monkeypatch)
    attendees = next(t.key for t in app.text_area
                     if t.key.startswith("cab-attendees-"))
    app.text_area(key=attendees).input("Ann Smith\nBob Jones\n\n Ann Smith")
    app.button(key="cab-attendees-save").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["Recorded 2 attendees."]
    assert app.text_area(key=attendees).value == "Ann Smith\nBob Jones"


def test_a_half_written_decision_survives_a_look_at_another_tab(
        decided_db, monkeypatch):
    """Only the open tab is drawn, yet what was typed in the decision form
    and the attendees stays while another tab is looked at; a click names
    the open tab in the address (?tab=), none for the first."""
    app = _page(decided_db, monkeypatch)
    attendees = next(t.key for t in app.text_area
                     if t.key.startswith("cab-attendees-"))
    app.selectbox(key="cab-decide-change").set_value("C1").run()
    app.radio(key="cab-decide-choice").set_value("Rejected")
    app.text_area(key="cab-decide-note").input("half-written")
    app.text_area(key=attendees).input("Alice\nBob")
    app.run()
    click_tab(app, app.tabs[1].label)
    assert app.query_params["tab"] in ("since", ["since"])
    assert "What happened since the last CAB" in [s.value
                                                   for s in app.header]
    assert not any(t.key == "cab-decide-note" for t in app.text_area)
    click_tab(app, app.tabs[3].label)
    assert app.query_params["tab"] in ("decisions", ["decisions"])
    assert app.selectbox(key="cab-decide-change").value == "C1"
    assert app.radio(key="cab-decide-choice").value == "Rejected"
    assert app.text_area(key="cab-decide-note").value == "half-written"
    assert app.text_area(key=attendees).value == "Alice\nBob"
    assert decisions.current(decided_db, MEETING).empty  # nothing saved
    click_tab(app, app.tabs[0].label)
    assert "tab" not in app.query_params
    assert any(m.value.startswith("### 1. ") for m in app.markdown)
    # and while another page is looked at: they came back empty after a
    # look at Release readiness (a CAB chair's walkthrough)
    app.switch_page("views/readiness.py").run()
    assert not app.exception
    assert "cab-decide-note" not in app.session_state  # Streamlit forgot it
    app.query_params.update({"meeting": "2026-01-20", "tab": "decisions"})
    app.switch_page("views/cab.py").run()
    assert not app.exception
    assert app.selectbox(key="cab-decide-change").value == "C1"
    assert app.radio(key="cab-decide-choice").value == "Rejected"
    assert app.text_area(key="cab-decide-note").value == "half-written"
    assert app.text_area(key=attendees).value == "Alice\nBob"
    assert decisions.current(decided_db, MEETING).empty  # nothing saved


def test_the_decision_form_shows_the_picked_meetings_decision(
        tmp_path, monkeypatch):
    # C5's plan spans two review windows: on the 13 Jan and the 20 Jan
    # agendas. Rejected at 13 Jan; with 20 Jan picked, the form starts from
    # 20 Jan's (none: no decision picked, no note), so Save never records
    # the last meeting's decision at this one
    path = tmp_path / "cab.duckdb"
    with db.publish(path) as con:
        load_cab_data(con)
        insert(con, "changes", [planned(
            "C5", "2026-01-19 09:00Z", "2026-01-21 09:00Z", risk="very_high",
            application_id="A2", assignment_group="Core", title="Spans")])
    decisions.record(path, MEMBER, LAST, "C5", "rejected", "no backout plan")
    monkeypatch.setattr(config, "DB_PATH", path)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["meeting"] = LAST.isoformat()
    app.query_params["tab"] = "decisions"
    app.switch_page("views/cab.py").run()
    assert app.selectbox(key="cab-decide-change").value == "C5"
    assert app.radio(key="cab-decide-choice").value == "Rejected"
    app.date_input(key="cab-meeting").set_value(MEETING).run()
    assert not app.exception
    assert app.tabs[3].label == "Decisions and minutes (0)"
    assert app.selectbox(key="cab-decide-change").value == "C5"
    assert (app.radio(key="cab-decide-choice").value,
            app.text_area(key="cab-decide-note").value) == (None, "")
    # back: 13 Jan's own decision again
    app.date_input(key="cab-meeting").set_value(LAST).run()
    assert (app.radio(key="cab-decide-choice").value,
            app.text_area(key="cab-decide-note").value) == (
        "Rejected", "no backout plan")
    app.date_input(key="cab-meeting").set_value(MEETING).run()
    app.radio(key="cab-decide-choice").set_value("Approved")
    app.button(key="cab-decide-save").click().run()
    assert list(decisions.current(path, MEETING)[["decision", "note"]]
                .itertuples(index=False, name=None)) == [("approved", "")]


def test_a_viewer_sees_decisions_but_no_controls(decided_db, monkeypatch):
    record_meeting(decided_db)
    monkeypatch.setenv("CHANGEBOARD_VIEWERS", "@acme.example")
    monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS", "chair@acme.example")
    app = _page(decided_db, monkeypatch, {"email": "vic@acme.example"})
    keys = {w.key for w in [*app.selectbox, *app.radio, *app.text_area,
                            *app.button]}
    assert not keys & {"cab-decide-change", "cab-decide-choice",
                       "cab-decide-note", "cab-decide-save",
                       "cab-attendees-save"}
    assert any("needs the CAB member role" in i.value for i in app.info)
    shown = [d.value for d in app.dataframe if "Times recorded" in d.value.columns]
    assert shown and list(shown[0]["Change"]) == ["C2", "C1", "C3"]
    assert any("Ann Chair" in m.value for m in app.markdown)


def test_a_save_from_a_session_no_longer_a_cab_member_records_nothing(
        decided_db, monkeypatch):
    """The role is checked again where the decision is written: a Save that
    arrives after the role was taken away (or a forged widget message)."""
    monkeypatch.setenv("CHANGEBOARD_VIEWERS", "@acme.example")
    monkeypatch.setenv("CHANGEBOARD_CAB_MEMBERS", "chair@acme.example")
    app = _page(decided_db, monkeypatch, {"email": "chair@acme.example"})
    app.radio(key="cab-decide-choice").set_value("Rejected")
    from tests.test_signin import signed_in
    app.user = signed_in({"email": "vic@acme.example"})
    app.button(key="cab-decide-save").click().run()
    assert not app.exception
    assert decisions.current(decided_db, MEETING).empty
    assert any("needs the CAB member role" in e.value for e in app.error)
    assert not app.success


def _regenerate_command(meta: dict) -> list[str]:
    """The arguments of the provenance's "Regenerate with" command."""
    import shlex

    words = shlex.split(meta["Regenerate with"].split(" --out ")[0])
    kind = next(w for w in words if w in ("cab", "minutes"))
    return words[words.index(kind) + 1:]  # after ... report cab|minutes


def test_a_pack_and_minutes_regenerated_later_read_the_decisions_they_read(
        decided_db, tmp_path):
    """The decision log is append-only: rebuilt from the position its
    provenance names, a pack and the minutes are the same bytes after a
    decision is changed, another recorded and the attendees edited."""
    decisions.record(decided_db, MEMBER, MEETING, "C1", "approved", "ok")
    decisions.record_attendees(decided_db, MEMBER, MEETING, ["Ana", "Bo"])
    pack = cab.build_pack(decided_db, MEETING)
    first = minutes.build_for(decided_db, MEETING)  # as the CLI writes them
    before = (cab.to_html(pack), cab.to_xlsx(pack), minutes.to_html(first),
              minutes.to_xlsx(first))
    meta = dict(cab.provenance(pack))
    until = pack.decisions_until
    assert until == first.until != decisions.NOTHING
    assert until in meta["CAB decisions read"]
    assert ["--decisions-until", until] == _regenerate_command(meta)[-2:]

    decisions.record(decided_db, MEMBER, LAST, "D4", "approved", "amended")
    decisions.record(decided_db, MEMBER, LAST, "D9", "rejected", "late")
    decisions.record(decided_db, MEMBER, MEETING, "C1", "rejected", "no")
    decisions.record_attendees(decided_db, MEMBER, MEETING, ["Cy"])
    assert cab.build_pack(decided_db, MEETING).decided.set_index(
        "change_id").loc["D4", "decision"] == "approved"  # now: changed

    again = cab.build_pack(decided_db, MEETING, decisions_until=until)
    again_minutes = minutes.build_for(decided_db, MEETING, until=until)
    assert (cab.to_html(again), cab.to_xlsx(again),
            minutes.to_html(again_minutes),
            minutes.to_xlsx(again_minutes)) == before

    # the command line the provenance names, run as an auditor would
    out = tmp_path / "again.html"
    assert changeboard_cli.main(
        ["report", "cab", *_regenerate_command(meta), "--format", "html",
         "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == before[0]
    named = dict(minutes.provenance(first))
    out = tmp_path / "minutes.html"
    assert changeboard_cli.main(
        ["report", "minutes", *_regenerate_command(named), "--format",
         "html", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == before[2]


def test_before_any_record_a_pack_reads_none_then_or_later(decided_db):
    fresh = decided_db.with_name("fresh.duckdb")
    shutil.copyfile(decided_db, fresh)
    pack = cab.build_pack(fresh, MEETING)
    assert pack.decisions_until == decisions.NOTHING
    decisions.record(fresh, MEMBER, LAST, "D1", "approved", "")
    assert cab.build_pack(fresh, MEETING).decided_meeting_at is not None
    assert cab.build_pack(fresh, MEETING, decisions_until=decisions.NOTHING
                          ).decided_meeting_at is None
    with pytest.raises(ValueError, match="not an ISO instant"):
        cab.build_pack(fresh, MEETING, decisions_until="yesterday")


def test_a_kpi_with_nothing_before_the_last_cab_says_so(decided_db,
                                                        monkeypatch):
    """The since-last-CAB KPIs' captions read 'before: n/a of 0' when the
    period before the last meeting held none of what a KPI counts (a team
    new to the data): they now say there was none, and an n of one reads
    in the singular."""
    app = _page(decided_db, monkeypatch, tab="since", teams="Core")
    captions = [c.value for c in app.caption]
    kpis = [c for c in captions if c.startswith("n = ")]
    assert kpis, captions
    assert not any("n/a of 0" in c for c in kpis), kpis
    assert any(" · none before" in c for c in kpis), kpis
    assert any(c.startswith("n = 1 implemented change · 0 failed · before: "
                            "0.0% of 1") for c in kpis), kpis


def test_what_happened_gives_the_command_that_looks_its_changes_up(
        decided_db, monkeypatch):
    """The last CAB's decisions' "How is what happened computed?" said only
    'run it yourself with ... --param ...': it gives the command, with the
    decided changes it looks up, and that command gives the page's rows."""
    import shlex

    from changeboard.cli import main as cli_main
    app = open_definitions(_page(decided_db, monkeypatch, tab="since"))
    how = next(e for e in app.expander
               if e.label == "How is what happened computed?")
    command = next(c.value for c in how.code if c.language == "bash")
    words = shlex.split(command)[3:]  # after 'python -m changeboard'
    given = next(w for w in words if w.startswith("change_ids="))
    assert sorted(given.split("=", 1)[1].split(",")) == sorted(LOOK_BACK)
    assert cli_main(words) == 0


def test_the_minutes_and_the_flag_count_in_the_singular_at_one(
        decided_db, monkeypatch):
    # they read '1 agenda change(s) not decided', '1 earlier decision(s)
    # replaced', '1 changes decided' and '1 change(s) ... were implemented'
    import dataclasses

    import pandas as pd

    record_meeting(decided_db)
    built = minutes.build(cab.build_pack(decided_db, MEETING))

    def line(m):
        return dict(minutes.provenance(m))["Decisions"]

    assert line(built) == ("3 changes decided, 1 earlier decision replaced; "
                           "0 agenda changes not decided")
    one = dataclasses.replace(built, decisions=built.decisions.iloc[:1],
                              undecided=["C9"])
    assert line(one) == ("1 change decided, 1 earlier decision replaced; "
                         "1 agenda change not decided")
    two = dataclasses.replace(built, earlier=pd.concat([built.earlier] * 2),
                              undecided=["C8", "C9"])
    assert line(two) == ("3 changes decided, 2 earlier decisions replaced; "
                         "2 agenda changes not decided")
    monkeypatch.setattr(decided, "_flagged_ids", lambda pack: ["D4", "D5"])
    assert decided.flag_note(built.pack) == (
        "⚠ 2 changes rejected at the last CAB were implemented anyway: "
        "D4, D5.")


def test_minutes_of_a_day_without_decisions_name_the_meetings_that_have_some(
        decided_db, tmp_path, capsys):
    """`report minutes --meeting 2026-01-21` (the day after the CAB, typed
    by mistake) wrote minutes of 0 decisions that said only 'No decision
    was recorded at this meeting.', ready to be circulated as the
    meeting's. They now name the nearest meetings whose decisions are
    recorded, and the day to run them for; as of a log position, only the
    meetings recorded by then (the minutes regenerate the same)."""
    import html

    import pandas as pd

    record_meeting(decided_db)  # 20 Jan; decided_db has 13 Jan's
    out = tmp_path / "minutes.html"
    assert changeboard_cli.main([
        "report", "minutes", "--meeting", "2026-01-21", "--db",
        str(decided_db), "--out", str(out)]) == 0
    capsys.readouterr()
    said = ("No decision was recorded at this meeting. Decisions are "
            "recorded at the meetings of Tue 13 Jan 2026 10:00, Tue 20 Jan "
            "2026 10:00 (UTC): run the minutes for one of those days.")
    page = html.unescape(out.read_text())
    assert f'<p class="none">{said}</p>' in page
    built = minutes.build_for(decided_db, date(2026, 1, 21))
    assert dict(minutes.provenance(built))["Decisions"].endswith(said)
    book = openpyxl.load_workbook(io.BytesIO(minutes.to_xlsx(built)))
    produced = {row[0]: row[1] for row in book["Produced by"].values}
    assert produced["Decisions"].endswith(said)
    # the log as it stood before 20 Jan's decisions: 13 Jan's only
    first = decisions.history(decided_db, MEETING)["decided_at"].min()
    before = minutes.build_for(
        decided_db, date(2026, 1, 21),
        until=(first - pd.Timedelta(microseconds=1)).isoformat())
    assert minutes.no_decision(before) == (
        "No decision was recorded at this meeting. Decisions are recorded "
        "at the meeting of Tue 13 Jan 2026 10:00 (UTC): run the minutes for "
        "that day.")
    # a meeting with decisions names no other
    assert minutes.build_for(decided_db, MEETING).elsewhere == []


def test_the_minutes_name_each_undecided_change_with_its_title_and_plan(
        decided_db):
    """The minutes listed the agenda changes not decided as ids alone
    ('C2'): whoever read them could not tell which changes were still
    open without the pack beside them. They are now a table in agenda
    order with the title, risk and plan (the XLSX: date cells), as the
    decisions are."""
    import html

    decisions.record(decided_db, MEMBER, MEETING, "C1", "approved", "ok")
    built = minutes.build(cab.build_pack(decided_db, MEETING))
    assert built.undecided == ["C2"]
    c2 = built.pack.agenda.set_index("change_id").loc["C2"]
    table = minutes.undecided_table(built)
    assert list(table.columns) == ["#", "Change", "Title", "Risk", "Planned"]
    assert table.to_dict("records") == [{
        "#": 1, "Change": "C2", "Title": c2["title"], "Risk": "Very high",
        "Planned": cab.span(c2["planned_start_at"], c2["planned_end_at"],
                            "UTC")}]
    page = minutes.to_html(built)
    section = page.split("Agenda changes not decided (1)")[1]
    assert f"<td>{html.escape(c2['title'])}</td>" in section
    book = openpyxl.load_workbook(io.BytesIO(minutes.to_xlsx(built)))
    rows = list(book["Not decided"].values)
    assert rows[0] == ("Meeting (UTC)", "#", "Change", "Title", "Risk",
                       "Planned start (UTC)", "Planned end (UTC)",
                       "Planned hours")
    # C2's title is a formula: a text cell, as every sheet writes one
    assert rows[1][1:5] == (1, "C2", c2["title"], "Very high")
    assert book["Not decided"].cell(2, 4).quotePrefix
    assert rows[1][5] == c2["planned_start_at"].tz_convert("UTC") \
        .tz_localize(None).to_pydatetime()


def _approve_in_the_source(path: Path, folder: Path, change_id: str,
                           approval: str = "approved",
                           title: str = "") -> None:
    """A load of the change as the source has it after the CAB: approved,
    so no longer awaiting approval (off the agenda); or another approval
    (a change the load adds)."""
    csv = folder / f"{approval}-{change_id}" / "changes.csv"
    csv.parent.mkdir()
    csv.write_text(
        "change_id,change_type,state,is_cab_required,approval,created_at,"
        "planned_start_at,planned_end_at,risk,application_id,title\n"
        f"{change_id},emergency,scheduled,true,{approval},"
        f"2026-01-01T09:00Z,2026-01-22T01:00Z,2026-01-22T02:00Z,very_high,"
        f"A2,{title}\n")
    assert ingest.load_path("csv", csv, path).status == "succeeded"


def _numbered(found: minutes.Minutes) -> dict:
    return dict(zip(found.decisions["Change"],
                    found.decisions["#"].astype(object), strict=True))


MEETINGS_DATA = "the data as it stood when the meeting's first decision " \
    "was recorded ("


def test_minutes_run_after_a_load_number_the_changes_as_the_meeting_did(
        decided_db, tmp_path):
    """The CAB approved C2 (#1) and deferred C1 (#2); the nightly sync then
    brought C2's approval from the source, which takes it off the agenda.
    Minutes run the next morning numbered C1 #1 and listed C2 last,
    unnumbered, against the pack the CAB held. They now read the data as
    it stood when the meeting's first decision was recorded, and say so,
    also after a decision amended since (a walkthrough: reading the version
    of the last decision renumbered them again); `live` reads today's
    data; the command the minutes name gives the same bytes, those written
    before the load too."""
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved", "")
    decisions.record(decided_db, MEMBER, MEETING, "C1", "deferred", "DBA")
    held = minutes.build_for(decided_db, MEETING)
    assert _numbered(held) == {"C2": 1, "C1": 2}
    read = dict(minutes.provenance(held))["Data read"]
    assert read.startswith(MEETINGS_DATA) and read.endswith(
        " UTC), so each change keeps the number the meeting's agenda gave "
        "it")
    written = minutes.to_html(held)

    _approve_in_the_source(decided_db, tmp_path, "C2")
    decisions.record(decided_db, MEMBER, MEETING, "C2",
                     "approved_with_conditions", "after 22:00")
    after = minutes.build_for(decided_db, MEETING)
    assert _numbered(after) == {"C2": 1, "C1": 2}
    assert after.pack.data_version == held.pack.data_version
    said = dict(minutes.provenance(after))
    assert said["Data read"] == read
    assert f"--as-of {held.pack.data_version}" in said["Regenerate with"]
    # the CLI's default is the same minutes, and so are the commands the
    # minutes name, before the load and after
    html = minutes.to_html(after)
    for args, expected in (
            (["--meeting", str(MEETING), "--db", str(decided_db)], html),
            (_regenerate_command(said), html),
            (_regenerate_command(dict(minutes.provenance(held))), written)):
        out = tmp_path / "m.html"
        assert changeboard_cli.main(["report", "minutes", *args, "--format",
                                     "html", "--out", str(out)]) == 0
        assert out.read_text(encoding="utf-8") == expected
    # --as-of live (any case) reads today's agenda, and says nothing
    today = minutes.build_for(decided_db, MEETING, as_of="Live")
    assert _numbered(today) == {"C1": 1, "C2": pd.NA}
    assert today.read is None


def test_a_change_a_load_added_after_the_first_decision_is_described(
        decided_db, tmp_path):
    """A change a load adds after the meeting's first decision is not on
    the agenda the minutes number (the data as it stood then); decided at
    the meeting, it is listed after the others, unnumbered, with its title
    and risk as the data stood when it was decided (it read '(not in the
    data)'), so a later load that renames it changes neither the minutes
    nor what their Regenerate command writes (the live data's title did)."""
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved", "")
    _approve_in_the_source(decided_db, tmp_path, "N1", "requested",
                           "Late emergency fix")
    decisions.record(decided_db, MEMBER, MEETING, "N1", "approved", "")
    found = minutes.build_for(decided_db, MEETING)
    assert _numbered(found) == {"C2": 1, "N1": pd.NA}
    late = found.decisions.set_index("Change").loc["N1"]
    assert (late["Title"], late["Risk"], late["Application"]) == \
        ("Late emergency fix", "Very high", "Core (A2)")
    written = minutes.to_html(found)
    # its number cell says it has none, as the CAB page's '–' does (blank)
    row = re.search(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>N1</td>", written)
    assert row and row.group(1) == "–"
    _approve_in_the_source(decided_db, tmp_path, "N1", "approved",
                           "Renamed since")
    assert minutes.to_html(minutes.build_for(decided_db, MEETING)) == written
    out = tmp_path / "again.html"
    assert changeboard_cli.main(
        ["report", "minutes",
         *_regenerate_command(dict(minutes.provenance(found))),
         "--format", "html", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == written


def test_minutes_of_a_copied_database_read_it_as_the_meetings_data(
        decided_db, tmp_path):
    """A database copied with its application state (plain cp: published
    at the copy, no snapshot) holds the meeting's data: the minutes read it
    as such, where they said the meeting's version was pruned, and after a
    load its snapshot (named by the copy's time, after the decisions) is
    read, where they renumbered."""
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved", "")
    decisions.record(decided_db, MEMBER, MEETING, "C1", "deferred", "DBA")
    copy = tmp_path / "copy" / "cab.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(decided_db, copy)
    shutil.copyfile(decisions.appstate.path_for(decided_db),
                    decisions.appstate.path_for(copy))
    found = minutes.build_for(copy, MEETING)
    assert found.read.startswith(MEETINGS_DATA)
    assert _numbered(found) == {"C2": 1, "C1": 2}
    _approve_in_the_source(copy, tmp_path, "C2")
    again = minutes.build_for(copy, MEETING)
    assert _numbered(again) == {"C2": 1, "C1": 2}
    assert again.pack.data_version == found.pack.data_version


def test_minutes_whose_meetings_version_is_pruned_read_live_and_say_so(
        decided_db, tmp_path):
    """A load before the decisions, then one after, and retention pruned
    the version the decisions were recorded on (the one the first load
    published): the snapshot before both loads is no substitute (it lacks
    the first load), so the live data is read and said."""
    _approve_in_the_source(decided_db, tmp_path, "C3")  # off the agenda
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved", "")
    decisions.record(decided_db, MEMBER, MEETING, "C1", "deferred", "DBA")
    on = minutes.build_for(decided_db, MEETING)
    assert on.read.startswith(MEETINGS_DATA)
    assert _numbered(on) == {"C2": 1, "C1": 2}
    _approve_in_the_source(decided_db, tmp_path, "C2")
    kept = snapshots.listing(decided_db)
    assert len(kept) == 2 and kept[-1].name == on.pack.data_version
    kept[-1].path.chmod(0o600)
    kept[-1].path.unlink()
    found = minutes.build_for(decided_db, MEETING)
    assert _numbered(found) == {"C1": 1, "C2": pd.NA}
    assert found.pack.data_version == snapshots.version_name(decided_db)
    read = dict(minutes.provenance(found))["Data read"]
    assert read.startswith("the live data, because " + MEETINGS_DATA)
    assert " UTC) is not among the kept versions (retention pruned it, or " \
        "the database was copied or restored without its snapshots): the " \
        "agenda's numbers are today's" in read


def test_the_pages_minutes_number_the_changes_as_the_meeting_did(
        decided_db, tmp_path, monkeypatch):
    """The CAB page's decisions table and minutes files are the minutes
    `report minutes` writes: after a load took C2 off the agenda, C2 is
    still #1 there, said under the table beside the form's numbering of
    today's agenda; filtered, the count of undecided changes is of the
    meeting's agenda (it said 'of the meeting's 1', today's, beside the
    meeting's undecided C1)."""
    decisions.record(decided_db, MEMBER, MEETING, "C2", "approved", "")
    _approve_in_the_source(decided_db, tmp_path, "C2")
    app = _page(decided_db, monkeypatch)
    print("EXP", [e.label for e in app.expander], [list(d.value.columns)[:3] for d in app.dataframe])
    table = next(d.value for d in app.dataframe
                 if "Times recorded" in d.value.columns)
    assert dict(zip(table["Change"], table["#"], strict=True)) == {"C2": 1}
    captions = [c.value for c in app.caption]
    assert any(c.startswith("Numbered as in the minutes, which read "
                            + MEETINGS_DATA)
               and c.endswith("The form above and the pack's files read "
                              "today's agenda.") for c in captions), captions
    assert app.selectbox(key="cab-decide-change").options[0].startswith(
        "#1 C1 — ")  # today's agenda
    filtered = _page(decided_db, monkeypatch, teams="Ops")
    assert "1 agenda change not decided yet, of the meeting's 2, whatever " \
        "the filters." in [c.value for c in filtered.caption]


def test_the_attendees_line_names_the_zone_of_its_time(decided_db,
                                                       monkeypatch):
    """'Attendees recorded by ... on Sun 06 Dec 2026 17:20' named no zone,
    in a provenance block whose other times are UTC (a walkthrough with
    CHANGEBOARD_REPORTING_TZ=Europe/Amsterdam)."""
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/Amsterdam")
    decisions.record_attendees(decided_db, MEMBER, MEETING, ["Ana"])
    said = dict(minutes.provenance(minutes.build_for(
        decided_db, MEETING)))["Attendees recorded"]
    assert said.startswith("by chair@acme.example on ")
    assert said.endswith(" (Europe/Amsterdam)")


@pytest.mark.parametrize("filters", [
    {}, {"teams": ["Digital Web"], "failure_min_priority": 2},
    {"portfolios": ["Payments"], "tiers": ["prod"]}])
def test_decided_changes_read_only_the_given_changes_as_every_change_reads(
        sample_db, filters):
    """cab_decided_changes reads the given changes alone (270 -> 24 ms at a
    million changes for 200 ids): each change's outcome, failure flags and
    filters as classified_changes and scoped_changes give them over all
    of the changes, for every change of the sample and an unknown id."""
    with db.reading(sample_db) as con:
        ids = [r[0] for r in con.execute(
            "select change_id from changes order by change_id desc"
        ).fetchall()] + ["NOT-A-CHANGE"]
        got = db.run(con, "cab_decided_changes", change_ids=ids, **filters)
        scope = {k: filters.get(k) for k in (
            "application_ids", "portfolios", "teams", "change_types",
            "tiers")}
        want = con.execute("""
            select c.change_id, o.kind, o.is_failed, o.is_failed_by_close_code,
                   o.is_failed_by_incident, o.is_failed_by_rollback,
                   s.change_id is not null as is_in_filters
            from changes as c
            left join classified_changes(null, null, null, null, null, $p)
                as o on c.change_id = o.change_id
            left join scoped_changes($a, $o, $t, $c, $e) as s
                on c.change_id = s.change_id""",
            {"p": filters.get("failure_min_priority"),
             "a": scope["application_ids"], "o": scope["portfolios"],
             "t": scope["teams"], "c": scope["change_types"],
             "e": scope["tiers"]}).df()
    assert list(got["change_id"]) == ids  # in the order given
    assert not got["is_known"].iloc[-1] and \
        got["outcome"].iloc[-1] == "not_in_data"
    got = got.iloc[:-1].set_index("change_id")
    want = want.set_index("change_id").loc[got.index]
    assert 0 < want["is_in_filters"].sum() < len(want) or not filters
    assert want["is_failed"].fillna(False).sum() > 0
    assert (got["kind"].fillna("none") == want["kind"].fillna("none")).all()
    for flag in ("is_failed", "is_failed_by_close_code",
                 "is_failed_by_incident", "is_failed_by_rollback",
                 "is_in_filters"):
        assert (got[flag] == want[flag].fillna(False).astype(bool)).all(), \
            flag
