"""The change calendar (docs/metrics.md change_calendar and
change_calendar_windows): the queries on given rows, and the page on a small
hand-made published database: a change in a freeze, two colliding, one past
its planned start, each shown where expected; and a month of more changes
than the chart draws."""
import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db
from tests.rows import insert_rows

ROOT = Path(__file__).resolve().parents[1]
MONTH = {"window_start_at": "2026-01-01", "window_end_at": "2026-02-01",
         "reporting_tz": "UTC"}
FREEZE = {"window_id": "W-F", "name": "January freeze", "kind": "freeze",
          "start_at": "2026-01-10 00:00Z", "end_at": "2026-01-12 00:00Z"}


def change(change_id, start, end, **columns):
    return {"change_id": change_id, "change_type": "normal",
            "state": "implement", "risk": "moderate",
            "approval": "approved", "is_cab_required": True,
            "created_at": "2025-12-01 09:00Z", "planned_start_at": start,
            "planned_end_at": end, **columns}


# each a different application unless it should collide
CHANGES = [
    change("FRZ", "2026-01-11 10:00Z", "2026-01-11 12:00Z", risk="high",
           application_id="A-FRZ", actual_start_at="2026-01-11 10:05Z"),
    change("COL1", "2026-01-15 10:00Z", "2026-01-15 12:00Z",
           application_id="A-COL", actual_start_at="2026-01-15 10:00Z",
           release_id="REL-COL"),
    change("COL2", "2026-01-15 11:00Z", "2026-01-15 13:00Z",
           application_id="A-COL", change_type="emergency",
           actual_start_at="2026-01-15 11:00Z"),
    # closed: shown as planned, but never colliding (the CAB evidence rule)
    change("DONE", "2026-01-15 11:30Z", "2026-01-15 12:30Z",
           application_id="A-COL", state="closed", close_code="successful",
           risk="low"),
    change("LATE", "2026-01-20 10:00Z", "2026-01-20 11:00Z",
           application_id="A-LATE", state="scheduled", risk="very_high"),
    change("CXL", "2026-01-16 10:00Z", "2026-01-16 11:00Z",
           application_id="A-CXL", state="cancelled"),
    change("NEXT", "2026-02-03 10:00Z", "2026-02-03 11:00Z",
           application_id="A-NEXT", state="scheduled"),
    change("NOPLAN", None, None, application_id="A-NOPLAN", state="assess"),
]


def rows(frame, *columns) -> list[dict]:
    return [{k: (list(v) if hasattr(v, "__len__") and not isinstance(v, str)
                 else None if pd.isna(v) else v) for k, v in row.items()}
            for row in frame[list(columns)].to_dict("records")]


def test_the_calendar_holds_the_month_with_its_collisions_and_hits(
        con, given):
    given("changes", CHANGES)
    given("blackout_windows", [FREEZE])
    got = db.run(con, "change_calendar", **MONTH,
                 as_of="2026-01-25 00:00Z")
    assert rows(got, "draw_rank", "change_id", "is_emergency", "is_open",
                "is_past_planned_start", "n_collisions", "collides_with",
                "n_freeze_hits", "windows_hit") == [
        {"draw_rank": 1, "change_id": "LATE", "is_emergency": False,
         "is_open": True, "is_past_planned_start": True, "n_collisions": 0,
         "collides_with": None, "n_freeze_hits": 0, "windows_hit": None},
        {"draw_rank": 2, "change_id": "FRZ", "is_emergency": False,
         "is_open": True, "is_past_planned_start": False,
         "n_collisions": 0, "collides_with": None, "n_freeze_hits": 1,
         "windows_hit": ["January freeze"]},
        {"draw_rank": 3, "change_id": "COL1", "is_emergency": False,
         "is_open": True, "is_past_planned_start": False,
         "n_collisions": 1, "collides_with": ["COL2"], "n_freeze_hits": 0,
         "windows_hit": None},
        {"draw_rank": 4, "change_id": "COL2", "is_emergency": True,
         "is_open": True, "is_past_planned_start": False,
         "n_collisions": 1, "collides_with": ["COL1"], "n_freeze_hits": 0,
         "windows_hit": None},
        {"draw_rank": 5, "change_id": "DONE", "is_emergency": False,
         "is_open": False, "is_past_planned_start": False,
         "n_collisions": 0, "collides_with": None, "n_freeze_hits": 0,
         "windows_hit": None},
    ]
    assert list(got["collides_on"].iloc[2]) == ["application"]
    assert set(got["n"]) == {5} and set(got["n_excluded"]) == {1}
    assert set(got["n_unclassified"]) == {1}  # NOPLAN


def test_past_planned_start_is_read_at_as_of(con, given):
    given("changes", CHANGES)
    before = db.run(con, "change_calendar", **MONTH,
                    as_of="2026-01-19 00:00Z")
    assert not before["is_past_planned_start"].any()


def test_the_global_filters_narrow_the_calendar(con, given):
    given("changes", CHANGES)
    got = db.run(con, "change_calendar", **MONTH,
                 application_ids=["A-COL"])
    assert sorted(got["change_id"]) == ["COL1", "COL2", "DONE"]
    got = db.run(con, "change_calendar", **MONTH,
                 change_types=["emergency"])
    assert list(got["change_id"]) == ["COL2"]
    # its partner is filtered out of the view, not out of the collision
    assert list(got["n_collisions"]) == [1]
    assert [list(c) for c in got["collides_with"]] == [["COL1"]]


def test_a_collision_partner_outside_the_period_is_listed(con, given):
    """A change collides with every open change its plan overlaps, wherever
    that one lies (as change_collisions): a change ending on the 1st
    collides in January's calendar too, with February's change, where it
    read no collision at the month's end; a pair sharing every key is one
    collision, on each key."""
    given("changes", [
        change("C1", "2026-01-31 20:00Z", "2026-02-01 04:00Z",
               application_id="A1", environment_id="P1", ci_name="db"),
        change("C2", "2026-02-01 01:00Z", "2026-02-01 02:00Z",
               application_id="A1", environment_id="P1", ci_name="db")])
    january = db.run(con, "change_calendar", **MONTH)
    assert rows(january, "change_id", "n_collisions", "collides_with",
                "collides_on") == [
        {"change_id": "C1", "n_collisions": 1, "collides_with": ["C2"],
         "collides_on": ["application", "ci", "environment"]}]
    february = db.run(con, "change_calendar", **{
        **MONTH, "window_start_at": "2026-02-01",
        "window_end_at": "2026-03-01"})
    assert rows(february, "change_id", "n_collisions", "collides_with",
                "collides_on") == [
        {"change_id": "C1", "n_collisions": 1, "collides_with": ["C2"],
         "collides_on": ["application", "ci", "environment"]},
        {"change_id": "C2", "n_collisions": 1, "collides_with": ["C1"],
         "collides_on": ["application", "ci", "environment"]}]


def test_the_windows_meeting_the_period_and_the_application_filter(
        con, given):
    given("blackout_windows", [
        FREEZE,
        {"window_id": "W-M", "name": "Maintenance A1", "kind": "maintenance",
         "application_id": "A1", "start_at": "2026-01-31 22:00Z",
         "end_at": "2026-02-01 02:00Z"},
        {"window_id": "W-B", "name": "Blackout A2", "kind": "blackout",
         "application_id": "A2", "start_at": "2026-01-05 00:00Z",
         "end_at": "2026-01-06 00:00Z"},
        # back to back with the month: not in it
        {"window_id": "W-OUT", "name": "December", "kind": "freeze",
         "start_at": "2025-12-20 00:00Z", "end_at": "2026-01-01 00:00Z"},
    ])
    got = db.run(con, "change_calendar_windows", **MONTH)
    assert list(got["window_id"]) == ["W-B", "W-F", "W-M"]
    got = db.run(con, "change_calendar_windows", **MONTH,
                 application_ids=["A1"])
    assert list(got["window_id"]) == ["W-F", "W-M"]


# --- the page ---------------------------------------------------------------

def publish(path, changes, windows=()):
    with db.publish(path) as con:
        for table, given in (("changes", changes),
                             ("blackout_windows", list(windows))):
            if not given:
                continue
            insert_rows(con, table, given)
    return path


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    return publish(tmp_path_factory.mktemp("calendar") / "cal.duckdb",
                   CHANGES, [FREEZE])


def calendar_of(path, monkeypatch, **params) -> AppTest:
    """The calendar page on the database at `path`, at the week of 14
    January 2026 and these other address parameters, not yet run."""
    monkeypatch.setattr(config, "DB_PATH", path)
    app = AppTest.from_file(str(ROOT / "views" / "calendar.py"),
                            default_timeout=120)
    app.query_params.update(cal_day="2026-01-14", **params)
    return app


@pytest.fixture
def page(hand_made, monkeypatch):
    monkeypatch.setitem(config.RECORD_URLS, "change_id",
                        "https://itsm.example/change/{id}")
    return calendar_of(hand_made, monkeypatch)


def chart(app) -> dict:
    return json.loads(app.get("plotly_chart")[0].proto.spec)


def chart_caption(app) -> str:
    """The caption under the calendar's chart (what it draws), the one
    after the cards' own."""
    return next(c.value for c in app.caption if c.value.startswith((
        "The change planned", "All ")) or " changes drawn" in c.value)


def drawn(figure) -> dict[str, dict]:
    """change id -> how its bar is drawn (trace name, outline, pattern)."""
    bars = {}
    for trace in figure["data"]:
        if trace.get("type") != "bar" or not trace.get("customdata"):
            continue
        for i, (change_id, _) in enumerate(trace["customdata"]):
            bars[change_id] = {
                "colour": trace["name"],
                "outline": trace["marker"]["line"]["width"][i],
                "pattern": trace["marker"]["pattern"]["shape"][i]}
    return bars


def test_the_month_shows_each_hand_made_change_where_expected(page):
    page.run()
    assert not page.exception
    assert "January 2026" in page.header[0].value
    metrics = {m.label: m.value for m in page.metric}
    assert metrics == {"Planned changes": "5", "Colliding": "2",
                       "In a freeze or blackout": "1",
                       "Not started on time": "1"}
    # the Not started card's n: every change of the month was due to start
    # by the last load (December 2026), LATE alone has not (below)
    figure = chart(page)
    bars = drawn(figure)
    assert set(bars) == {"LATE", "FRZ", "COL1", "COL2", "DONE"}
    # the two colliding changes outlined, the emergency one hatched
    assert {c for c, b in bars.items() if b["outline"] == 3} == \
        {"COL1", "COL2"}
    assert {c for c, b in bars.items() if b["pattern"] == "/"} == {"COL2"}
    assert bars["LATE"]["colour"] == "Very high"
    # the one past its planned start marked, the freeze shaded behind
    marks = [t for t in figure["data"] if t.get("type") == "scatter"]
    assert [c for c, _ in marks[0]["customdata"]] == ["LATE"]
    assert marks[0]["name"] == "Past planned start, not started"
    shapes = figure["layout"]["shapes"]
    assert [(s["name"], s["x0"][:10], s["x1"][:10]) for s in shapes] == [
        ("Change freeze", "2026-01-10", "2026-01-12")]
    legend = {t["name"] for t in figure["data"] if t.get("showlegend", True)}
    assert {"Very high", "High", "Moderate", "Low", "Emergency (hatched)",
            "Collides (black outline)"} <= legend
    # DONE is closed: collisions and window hits are found for open
    # changes, and the two cards say so (a past month's closed changes
    # read 0 beside bars inside a freeze's shading, unsaid)
    captions = [c.value for c in page.caption]
    # the Not started card counts open changes alone, so its n is the
    # open changes due (DONE, closed, started late or not is not counted)
    assert captions[:3] == [
        "of 4 open changes: closed changes are not checked"] * 2 + [
        "of 4 open changes due to start by the last load: closed changes "
        "are not checked"]
    assert "All 5 changes planned in the month are drawn" in captions[3]
    # the full list: each flag in its row
    listed = page.dataframe[0].value
    assert len(listed) == 5
    by_id = {u.rsplit("/", 1)[1]: r for u, r in
             zip(listed["change_id"], listed.to_dict("records"),
                 strict=True)}
    assert by_id["FRZ"]["windows_hit"] == "January freeze"
    assert by_id["COL1"]["collides_with"] == "COL2"
    assert by_id["COL2"]["collides_with"] == "COL1"
    assert by_id["LATE"]["is_past_planned_start"]
    assert not by_id["COL1"]["is_past_planned_start"]
    assert {"Freezes and blackouts hit", "Collides with",
            "Past planned start, not started"} <= set(headings(
                page.dataframe[0]))


def test_selecting_a_change_opens_its_record(page):
    page.run()
    page.selectbox(key="cal_change").select("COL1").run()
    assert not page.exception
    one = page.dataframe[0].value
    assert list(one["change_id"]) == ["https://itsm.example/change/COL1"]
    assert "collides with COL2 (same application)" in " ".join(
        c.value for c in page.caption)
    # the note stands between the picker and its row: the row's table
    # toolbar, shown on hover, covered the picker's clear and open buttons
    kinds = [e.type for e in page.main]
    picker = kinds.index("selectbox")
    assert kinds[picker + 1:picker + 3] == ["caption", "dataframe"], \
        kinds


def test_a_picked_change_says_the_cabs_decision_recorded_on_it(
        tmp_path, monkeypatch):
    """A change the CAB rejected on the CAB page still drew as planned and
    colliding, its row saying nothing of the decision (a CAB chair's
    walkthrough): the picked change's line says the decision, its meeting
    and its note."""
    from changeboard import auth, decisions
    path = publish(tmp_path / "cal.duckdb", CHANGES, [FREEZE])
    decisions.record(path, auth.single_user(), "2026-01-13", "COL1",
                     "rejected", "collides with COL2")
    app = calendar_of(path, monkeypatch, cal_change="COL1").run()
    assert not app.exception
    said = " ".join(c.value for c in app.caption)
    assert ("CAB decision recorded on the CAB page: Rejected at the meeting "
            "of Tue 13 Jan 2026 10:00 (UTC), note: collides with COL2") \
        in said, said
    other = calendar_of(path, monkeypatch, cal_change="COL2").run()
    assert "CAB decision" not in " ".join(c.value for c in other.caption)


def test_a_picked_changes_window_hit_says_its_kind(page):
    """'planned in Data centre power maintenance' read as a maintenance
    window, where it was a blackout: the note names the kind."""
    page.run()
    page.selectbox(key="cal_change").select("FRZ").run()
    assert not page.exception
    assert "FRZ: planned in freeze window January freeze." in " ".join(
        c.value for c in page.caption)


def test_the_change_picker_names_a_change_without_a_title_by_its_id(
        tmp_path, monkeypatch):
    """The Change box offers 'id · title', and the id alone for a change
    without a title: it offered 'NT · nan', and its bar's hover read
    'NT nan'."""
    path = publish(tmp_path / "titles.duckdb", [
        change("T1", "2026-01-15 10:00Z", "2026-01-15 12:00Z",
               application_id="A1", title="Patch the ledger"),
        change("NT", "2026-01-16 10:00Z", "2026-01-16 12:00Z",
               application_id="A2"),
        change("EMPTY", "2026-01-16 14:00Z", "2026-01-16 15:00Z",
               application_id="A3", title="")])
    app = calendar_of(path, monkeypatch)
    app.run()
    assert not app.exception
    assert sorted(app.selectbox(key="cal_change").options) == [
        "EMPTY", "NT", "T1 · Patch the ledger"]
    hovers = {hover.split("<br>")[0] for trace in chart(app)["data"]
              for _, hover in trace.get("customdata") or []}
    assert hovers == {"<b>EMPTY</b> ", "<b>NT</b> ",
                      "<b>T1</b> Patch the ledger"}


def test_a_title_with_markup_reads_as_written_in_its_bars_hover(
        tmp_path, monkeypatch):
    """Plotly reads a subset of HTML in a hover: a title holding a link
    drew one, and Markdown's escaping, used before, showed backslashes
    ('\\<b\\>'). Every value from data is escaped; the hover's own bold
    and line breaks stay."""
    title = '<a href="https://evil.example/x">Patch</a> & <b>reboot</b>'
    path = publish(tmp_path / "markup.duckdb", [
        change("M&1", "2026-01-15 10:00Z", "2026-01-15 12:00Z",
               application_id="A1", title=title)])
    app = calendar_of(path, monkeypatch)
    app.run()
    assert not app.exception
    drawn = chart(app)
    (change_id, hover), = [row for trace in drawn["data"]
                           for row in trace.get("customdata") or []]
    assert change_id == "M&1"  # picked back as stored
    assert hover.split("<br>")[0] == (
        "<b>M&amp;1</b> &lt;a href=\"https://evil.example/x\"&gt;Patch"
        "&lt;/a&gt; &amp; &lt;b&gt;reboot&lt;/b&gt;")
    assert "\\" not in hover and "<a " not in json.dumps(drawn)


def test_a_collision_on_a_ci_reads_as_words(tmp_path, monkeypatch):
    """What two colliding changes share read 'same application, ci' (the
    query's codes) in the caption and a bar's hover, where the cards say
    'the same application, environment or CI': 'same application, CI',
    as the CAB pack's Shared column says 'CI pay-db-prd01'."""
    path = publish(tmp_path / "ci.duckdb", [
        change("CI1", "2026-01-15 10:00Z", "2026-01-15 12:00Z",
               application_id="A1", ci_name="pay-db-prd01"),
        change("CI2", "2026-01-15 11:00Z", "2026-01-15 13:00Z",
               application_id="A1", ci_name="pay-db-prd01")])
    app = calendar_of(path, monkeypatch, cal_change="CI1")
    app.run()
    assert not app.exception
    said = " ".join(c.value for c in app.caption)
    assert "CI1: collides with CI2 (same application, CI)" in said
    hovers = [hover for trace in chart(app)["data"]
              for _, hover in trace.get("customdata") or []]
    assert any("Collides with CI2 (same application, CI)" in h
               for h in hovers)
    assert not any("same application, ci" in h for h in [*hovers, said])
    # the change's row names its CI as the pack does, not 'Ci name'
    picked = app.dataframe[0]
    assert picked.value["ci_name"].tolist() == ["pay-db-prd01"]
    assert "Affected CI" in headings(picked)


def test_outside_maintenance_reads_as_the_cab_pack_says_it(tmp_path,
                                                          monkeypatch):
    """A change planned outside every maintenance window of its
    application: its column read 'Outside maintenance' where the CAB pack's
    agenda flag reads 'Outside maintenance window'; it reads the pack's
    words (test_cab_pack: test_outside_maintenance_reads_one_way_everywhere),
    on the month's table and on the picked change's."""
    path = publish(tmp_path / "m.duckdb", [
        change("OUT", "2026-01-15 10:00Z", "2026-01-15 12:00Z",
               application_id="A-M"),
        change("IN", "2026-01-17 03:00Z", "2026-01-17 04:00Z",
               application_id="A-M")], [
        {"window_id": "W-M", "name": "Saturday maintenance",
         "kind": "maintenance", "application_id": "A-M",
         "start_at": "2026-01-17 02:00Z", "end_at": "2026-01-17 06:00Z"}])
    app = calendar_of(path, monkeypatch, cal_change="OUT")
    app.run()
    assert not app.exception
    for table in app.dataframe[:2]:
        assert "Outside maintenance window" in headings(table)
        assert "Outside maintenance" not in headings(table)
    picked, month = (t.value for t in app.dataframe[:2])
    assert picked["is_outside_maintenance"].tolist() == [True]
    assert dict(zip(month["change_id"], month["is_outside_maintenance"],
                    strict=True)) == {"OUT": True, "IN": False}


def headings(table) -> list[str]:
    """A drawn table's column headings, in order."""
    shown = json.loads(table.proto.columns)
    return [shown.get(c, {}).get("label") or c for c in table.value.columns]


def test_the_tables_name_their_columns_as_the_other_pages_do(page):
    """The change tables were headed with generic names, 'Change id',
    'Change type', 'Application name', 'Environment id', 'Assignment
    group', and the windows' table 'Window id', 'Application name',
    'Environment name' after 'Environment id', where the other pages (the
    Changes page's records, the Environments page's tables) say 'Change',
    'Type', 'Application', 'Environment', 'Team'. They do here too, and an
    environment reads by its name beside its id, as an application (the
    changes' tables showed a bare id)."""
    page.query_params["cal_change"] = "COL1"
    page.run()
    assert not page.exception
    picked, month, windows = page.dataframe
    # these changes' applications and environments have no name in the
    # data: their ids are under "Application" and "Environment", not an
    # empty name column before each (a real-data walkthrough)
    for table in (picked, month):
        assert headings(table)[:10] == [
            "Change", "Title", "Type", "State", "Risk", "Application",
            "Release", "Environment", "Affected CI", "Team"]
        assert table.value["application_id"].notna().any()
    # the release each change delivers, as the readiness page names it (a
    # release manager matched next week's changes to releases through the
    # CLI alone)
    with db.reading(config.DB_PATH) as con:
        delivers = dict(con.execute(
            "select change_id, release_id from changes").fetchall())
    assert "REL-COL" in delivers.values()
    assert list(month.value["release_id"].fillna("")) == [
        delivers[c.rsplit("/", 1)[-1]] or ""
        for c in month.value["change_id"]]
    assert headings(windows) == [
        "Window", "Name", "Kind", "Application", "Environment",
        "Start (UTC)", "End (UTC)"]
    # the ids' columns as wide as their headings (a small one read
    # "Environmen…"); here the ids are under the names' headings
    for table in (picked, month, windows):
        widths = {c.get("label"): c.get("width") for c in json.loads(
            table.proto.columns).values()}
        assert widths["Application"] != "small"
        assert widths["Environment"] != "small"
    generic = {"Change id", "Change type", "Application name",
               "Environment name", "Assignment group", "Window id"}
    assert not generic & {h for t in (picked, month, windows)
                          for h in headings(t)}


def test_the_week_view_and_the_type_colours(page):
    page.query_params["cal_view"] = "Week"
    page.query_params["cal_colour"] = "Type"
    page.run()
    assert not page.exception
    # the ISO week of 14 Jan 2026: Monday 12 to Sunday 18, COL1/COL2/DONE
    assert "week of 12 Jan 2026" in page.header[0].value
    bars = drawn(chart(page))
    assert bars == {
        "COL1": {"colour": "Normal", "outline": 3, "pattern": ""},
        "COL2": {"colour": "Emergency", "outline": 3, "pattern": "/"},
        "DONE": {"colour": "Normal", "outline": 0.5, "pattern": ""}}
    assert chart(page)["layout"].get("shapes", []) == []  # no window


def test_a_link_naming_the_view_in_lower_case_opens_it(page):
    """?cal_view=week (typed, or written by another tool) opened the month:
    a widget kept in the address takes only an option's exact text."""
    page.query_params["cal_view"] = "week"
    page.query_params["cal_colour"] = " TYPE "
    page.run()
    assert not page.exception
    assert "week of 12 Jan 2026" in page.header[0].value
    assert page.segmented_control(key="cal_colour").value == "Type"
    assert page.query_params["cal_view"] == "Week"


N_MANY = 340


def test_a_crowded_month_draws_a_bounded_number_and_lists_all(
        tmp_path, monkeypatch):
    many = [change(f"M{i:04d}", f"2026-01-{1 + i % 28:02d} 10:00Z",
                   f"2026-01-{1 + i % 28:02d} 11:00Z",
                   application_id=f"A{i}",
                   risk="very_high" if i % 10 == 0 else "low")
            for i in range(N_MANY)]
    app = calendar_of(publish(tmp_path / "many.duckdb", many), monkeypatch)
    app.run()
    assert not app.exception
    bars = drawn(chart(app))
    assert len(bars) == 300
    # the highest risk first: every very high change is drawn
    assert {f"M{i:04d}" for i in range(0, N_MANY, 10)} <= set(bars)
    assert f"300 of {N_MANY:,} changes drawn" in chart_caption(app)
    assert len(app.dataframe[0].value) == N_MANY


def test_a_crowded_month_draws_every_days_riskiest(tmp_path, monkeypatch):
    """Drawing the first 300 by risk and start drew a month of a million
    changes' first week alone (its very high risk changes): 9-12 December,
    with 120 more, looked quiet. Each day's riskiest are drawn first."""
    early = [change(f"E{d}{i:02d}", f"2026-01-{d:02d} 10:00Z",
                    f"2026-01-{d:02d} 11:00Z", application_id=f"A{d}{i}",
                    risk="very_high")
             for d in range(1, 6) for i in range(80)]
    late = [change(f"L{d}{i}", f"2026-01-{d:02d} 10:00Z",
                   f"2026-01-{d:02d} 11:00Z", application_id=f"B{d}{i}",
                   risk="very_high" if i < 2 else "low")
            for d in range(20, 23) for i in range(5)]
    app = calendar_of(publish(tmp_path / "crowded.duckdb", early + late),
                      monkeypatch)
    app.run()
    assert not app.exception
    bars = drawn(chart(app))
    assert len(bars) == 300
    assert {c["change_id"] for c in late} <= set(bars)
    # the early days share the rest, each day's first by start and id
    per_day = pd.Series([b[1] for b in bars if b.startswith("E")]).value_counts()
    assert sorted(per_day.tolist()) == [57] * 5
    assert "300 of 415 changes drawn (each day's highest risk, then " \
        "earliest, first)" in chart_caption(app)
    assert len(app.dataframe[0].value) == 415


def test_a_change_in_the_address_is_opened(page):
    page.query_params["cal_change"] = "LATE"
    page.run()
    assert not page.exception
    assert list(page.dataframe[0].value["change_id"]) == [
        "https://itsm.example/change/LATE"]
    assert "past its planned start and not started" in " ".join(
        c.value for c in page.caption)


def test_a_warm_rerun_reads_nothing_again_and_a_new_colouring_redraws(
        page, monkeypatch):
    # the month's rows, bars, figure and table are worked out once per data
    # version, period, filters and colouring (_shown), not on every rerun
    import streamlit as st

    from changeboard import ui
    st.cache_resource.clear()
    asked, query = [], ui.query

    def counted(name, **params):
        asked.append(name)
        return query(name, **params)

    monkeypatch.setattr(ui, "query", counted)
    page.run()
    first = drawn(chart(page))
    assert asked.count("change_calendar") == 1
    page.run()
    assert asked.count("change_calendar") == 1
    assert drawn(chart(page)) == first
    # another session colouring by type: worked out again, with its colours
    other = AppTest.from_file(str(ROOT / "views" / "calendar.py"),
                              default_timeout=120)
    other.query_params.update(cal_day="2026-01-14", cal_colour="Type")
    other.run()
    assert not other.exception
    assert asked.count("change_calendar") == 2
    assert {b["colour"] for b in drawn(chart(other)).values()} == {
        "Normal", "Emergency"}


def test_a_window_without_a_name_is_listed_by_its_id(con, given):
    """A freeze with no name was counted (n_freeze_hits 1) but listed
    nowhere, and the page said the change hit nothing."""
    given("changes", [change("C1", "2026-01-11 10:00Z", "2026-01-11 12:00Z",
                             application_id="A1")])
    given("blackout_windows", [{"window_id": "W-F", "name": None,
                                "kind": "freeze",
                                "start_at": "2026-01-10 00:00Z",
                                "end_at": "2026-01-12 00:00Z"}])
    found = db.run(con, "change_calendar", **MONTH).iloc[0]
    assert found["n_freeze_hits"] == 1
    assert list(found["windows_hit"]) == ["W-F"]


def test_an_as_of_without_an_offset_is_read_in_the_reporting_zone(con, given):
    """as_of '2026-01-20 10:00' in Europe/Berlin is 09:00 UTC: a change
    planned at 09:30 UTC is not yet past its planned start (it was read as
    10:00 UTC, as the backlog does not)."""
    given("changes", [change("C1", "2026-01-20 09:30Z", "2026-01-20 11:00Z",
                             application_id="A1", state="scheduled")])
    found = db.run(con, "change_calendar", window_start_at="2026-01-01",
                   window_end_at="2026-02-01", reporting_tz="Europe/Berlin",
                   as_of="2026-01-20 10:00").iloc[0]
    assert str(found["as_of"]) == "2026-01-20 09:00:00+00:00"
    assert not found["is_past_planned_start"]


def test_a_bar_says_its_plan_as_every_page_writes_a_span(page, monkeypatch):
    """A bar's hover said its plan as '15 Jan 10:00 – 15 Jan 12:00 UTC', in
    UTC while the bars are drawn in the reporting zone, and unlike the
    Environments page's bookings ('18 Feb 00:00 – 03 Mar 00:00'): it says
    it as ui.instants writes a span on every page, in the zone the calendar
    is drawn in; the month picker shows its day as every picker does."""
    from changeboard import ui
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/Berlin")
    page.run()
    assert not page.exception
    hovers = {change_id: hover.split("<br>")
              for trace in chart(page)["data"]
              if trace.get("type") == "bar" and trace.get("customdata")
              for change_id, hover in trace["customdata"]}
    assert "15 Jan 2026 11:00 – 13:00 Europe/Berlin" in hovers["COL1"]
    assert "20 Jan 2026 11:00 – 12:00 Europe/Berlin" in hovers["LATE"]
    assert page.date_input(key="cal_day").proto.format == ui.DAY_INPUT
    assert "as of " in page.metric[3].help and " UTC (the last load)" in \
        page.metric[3].help


@pytest.mark.parametrize("k", [1, 2])
def test_a_month_of_one_change_reads_right_and_of_two_stays_plural(
        tmp_path, monkeypatch, k):
    """A month of one planned change read 'The 1 change planned in the
    month is drawn', over its table 'The 1 change planned in the month':
    it reads 'The change planned in the month', and two 'All 2 changes
    planned in the month' as before."""
    from tests.wording import page_texts, slips_at_one
    path = publish(tmp_path / "cal.duckdb", [
        *(change(f"C{i}", f"2026-01-1{i} 10:00Z", f"2026-01-1{i} 11:00Z",
                 application_id=f"A{i}", state="scheduled")
          for i in range(1, k + 1)),
        *(change(f"X{i}", f"2026-01-2{i} 10:00Z", f"2026-01-2{i} 11:00Z",
                 application_id=f"B{i}", state="cancelled")
          for i in range(1, k + 1))])
    app = calendar_of(path, monkeypatch)
    app.run()
    assert not app.exception
    caption = chart_caption(app)
    assert caption.startswith({
        1: "The change planned in the month is drawn.",
        2: "All 2 changes planned in the month are drawn."}[k]), caption
    assert caption.endswith({
        1: " · 1 cancelled or rejected change not shown",
        2: " · 2 cancelled or rejected changes not shown"}[k]), caption
    heading = {1: "**The change planned in the month**",
               2: "**All 2 changes planned in the month**"}[k]
    assert heading in [m.value for m in app.markdown]
    if k == 1:
        assert slips_at_one(page_texts(app)) == []


def test_data_older_than_today_opens_the_month_it_ends(tmp_path,
                                                        monkeypatch):
    """A data set that ends before this month (BPIC 2014 ends on 31 Mar
    2014) opened the calendar on today's month, empty ('No change is
    planned in this month'), where the period presets end where the data
    does. It now opens on the day the data ends and says so; a day in the
    address still wins."""
    from changeboard import ui
    old = publish(tmp_path / "old.duckdb", [
        change(f"B{i}", f"2014-03-{10 + i}T10:00:00Z",
               f"2014-03-{10 + i}T12:00:00Z", application_id=f"A{i}",
               state="closed", created_at="2014-02-01 09:00Z",
               closed_at=f"2014-03-{11 + i}T09:00:00Z") for i in range(3)])
    monkeypatch.setattr(config, "DB_PATH", old)
    monkeypatch.setattr(ui, "today", lambda: date(2026, 12, 3))
    app = AppTest.from_file(str(ROOT / "views" / "calendar.py"),
                            default_timeout=120)
    app.run()
    assert not app.exception
    assert app.date_input(key="cal_day").value == date(2014, 3, 13)
    assert app.header[0].value == "Planned changes, March 2014"
    assert not [i for i in app.info if "No change is planned" in i.value]
    assert {m.label: m.value for m in app.metric}["Planned changes"] == "3"
    # its 0 said with its n: a closed month's read as nothing due, then as
    # '0 of 3 changes due', every one on time (a walkthrough of BPIC 2014:
    # '0 of 1,081', when 283 had started late): none of its changes is
    # open, and closed ones are not checked
    assert ("of 0 open changes due to start by the last load: closed "
            "changes are not checked") in [c.value for c in app.caption]
    assert ("The change records end on 13 Mar 2014 (the last created or "
            "closed; plans may run later): the calendar opens there.") in [
        c.value for c in app.caption]
    shared = AppTest.from_file(str(ROOT / "views" / "calendar.py"),
                               default_timeout=120)
    shared.query_params["cal_day"] = "2026-12-03"
    shared.run()
    assert shared.date_input(key="cal_day").value == date(2026, 12, 3)
    assert not [c for c in shared.caption
                if "the calendar opens there" in c.value]


def test_the_calendar_says_how_fresh_its_data_is(sample_db, monkeypatch):
    """Every page but the calendar ended with 'Data as of ... (last load)
    · latest record ...': the calendar, whose 'Not started on time' counts
    as of the last load, did not say when that was below the page."""
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    page = AppTest.from_file(str(ROOT / "views" / "calendar.py"),
                             default_timeout=120)
    page.run()
    assert not page.exception
    assert page.caption[-1].value.startswith("Data as of ")
    assert "(last load)" in page.caption[-1].value


def test_the_tables_show_times_in_the_zone_the_chart_is_drawn_in(
        page, monkeypatch):
    """The chart drew its bars in the reporting zone but the tables of
    changes and of windows always showed UTC ('Planned start (UTC)'): a CAB
    in New York read 05:00 on the bar's hover and 10:00 in the row of the
    same change. The tables show the reporting zone's wall time, headed
    with it and written as the CAB pack writes an instant; their downloads
    keep the UTC instants under their own names (planned_start_at),
    and the page says so."""
    from changeboard import ui
    monkeypatch.setattr(config, "REPORTING_TZ", "America/New_York")
    downloaded = {}
    monkeypatch.setattr(ui, "downloads", lambda frame, stem, **_:
                        downloaded.setdefault(stem.split("-")[1], frame))
    page.query_params["cal_change"] = "COL1"
    page.run()
    assert not page.exception
    picked, month, windows = page.dataframe
    zone = "(America/New_York)"
    for table in (picked, month):
        assert [h for h in headings(table) if "Planned" in h] == [
            f"Planned start {zone}", f"Planned end {zone}"]
        row = table.value[table.value["change_id"].str.endswith("/COL1")]
        assert str(row[f"Planned start {zone}"].iloc[0]) == \
            "2026-01-15 05:00:00-05:00"  # 10:00 UTC
    assert headings(windows)[-2:] == [f"Start {zone}", f"End {zone}"]
    assert str(windows.value[f"Start {zone}"].iloc[0]) == \
        "2026-01-09 19:00:00-05:00"
    formats = {c["label"]: c["type_config"]["format"]
               for t in (month, windows)
               for c in json.loads(t.proto.columns).values()
               if "Start" in c.get("label", "")
               or "Planned" in c.get("label", "")}
    assert set(formats.values()) == {"ddd DD MMM YYYY HH:mm"}, formats
    assert not [h for t in (picked, month, windows) for h in headings(t)
                if "UTC" in h]
    # the downloads keep the UTC instants, under the names scripts read
    # (as every table's downloads: no heading of the page's among them)
    assert str(downloaded["calendar"]["planned_start_at"].iloc[0]) \
        .endswith("+00:00")
    assert str(downloaded["windows"]["start_at"].iloc[0]) == \
        "2026-01-10 00:00:00+00:00"
    for frame in downloaded.values():
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c)
                   for c in frame.columns), list(frame.columns)
    said = " ".join(c.value for c in page.caption)
    assert "Times in America/New_York" in said
    assert "the downloads keep the UTC instants" in said


def test_a_changes_environment_reads_by_its_name_beside_its_id(
        tmp_path, monkeypatch):
    """The changes' tables showed an environment as its bare id
    ("ENV-0511") where the windows' table beside them named it: the query
    gives the environments row's name, and both tables show it under
    'Environment', the id after it; a change on an environment not loaded
    keeps its id and an empty name. The download holds both."""
    from changeboard import ui
    path = tmp_path / "env.duckdb"
    with db.publish(path) as con:
        insert_rows(con, "environments", [
            {"environment_id": "ENV-0511", "name": "PGW-UK-PRD",
             "tier": "prod"}])
        insert_rows(con, "changes", [
            change("NAMED", "2026-01-15 10:00Z", "2026-01-15 12:00Z",
                   environment_id="ENV-0511"),
            change("UNKNOWN", "2026-01-16 10:00Z", "2026-01-16 12:00Z",
                   environment_id="ENV-9999")])
    downloaded = {}
    monkeypatch.setattr(ui, "downloads", lambda frame, stem, **_:
                        downloaded.setdefault(stem.split("-")[1], frame))
    app = calendar_of(path, monkeypatch, cal_change="NAMED")
    app.run()
    assert not app.exception
    picked, month = app.dataframe[:2]
    for table in (picked, month):
        shown = headings(table)
        assert shown[shown.index("Environment"):][:2] == [
            "Environment", "Environment id"]
    by_id = dict(zip(month.value["change_id"], zip(
        month.value["environment_name"], month.value["environment_id"],
        strict=True), strict=True))
    assert by_id["NAMED"] == ("PGW-UK-PRD", "ENV-0511")
    assert by_id["UNKNOWN"][1] == "ENV-9999"
    assert pd.isna(by_id["UNKNOWN"][0])
    assert picked.value["environment_name"].tolist() == ["PGW-UK-PRD"]
    listed = downloaded["calendar"]
    assert listed.loc[listed["change_id"] == "NAMED",
                      ["environment_name", "environment_id"]
                      ].values.tolist() == [["PGW-UK-PRD", "ENV-0511"]]


def test_a_tall_calendar_gives_its_days_above_the_bars_too(page,
                                                         monkeypatch):
    """A crowded week drew 5,000 px of bars with the days only below them
    (BPIC 2014, 31 Mar 2014): a chart taller than TALL_PX gives the same
    day axis above the bars too; a short one keeps it below only."""
    from changeboard import charts
    page.run()
    assert not page.exception
    short = chart(page)["layout"]
    assert short["height"] <= charts.TALL_PX and "xaxis2" not in short
    monkeypatch.setattr(charts, "TALL_PX", short["height"] - 1)
    # drawn again: neither the page's shown month nor the figure kept
    # (another test in this process may have drawn it)
    import collections

    import streamlit as st
    st.cache_resource.clear()
    monkeypatch.setattr(charts, "_figures", collections.OrderedDict())
    page.run()
    assert not page.exception
    figure = chart(page)
    top, bottom = figure["layout"]["xaxis2"], figure["layout"]["xaxis"]
    assert (top["side"], top["overlaying"], top["matches"]) == (
        "top", "x", "x")
    for key in ("range", "tickformat", "dtick", "ticklabelmode"):
        assert top[key] == bottom[key], key
    assert [t for t in figure["data"] if t.get("xaxis") == "x2"] == [
        {"hoverinfo": "skip", "showlegend": False, "type": "scatter",
         "x": [], "xaxis": "x2", "y": []}]


def test_the_arrows_move_the_calendar_without_a_warning(page, monkeypatch,
                                                        caplog):
    """◀ and ▶ set the picker's day in Session State (step); with the day
    opened on also passed as its default, every server logged Streamlit's
    'created with a default value but also had its value set via the
    Session State API' with a stack, as if the page were broken."""
    import logging

    from streamlit.elements.lib import policies
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    page.run()
    assert page.date_input(key="cal_day").value == date(2026, 1, 14)
    with caplog.at_level(logging.WARNING):
        page.button(key="cal_back").click().run()
        assert page.date_input(key="cal_day").value == date(2025, 12, 1)
        page.button(key="cal_on").click().run()
        page.button(key="cal_on").click().run()
    assert not page.exception
    assert page.date_input(key="cal_day").value == date(2026, 2, 1)
    assert not [r for r in caplog.records
                if "Session State API" in r.getMessage()]
    # and the address says it: a link to it opened the month before
    assert page.query_params["cal_day"] == "2026-02-01"


def test_not_started_on_time_counts_of_the_changes_due_to_start(
        tmp_path, monkeypatch):
    """The card's n is the changes whose planned start had come by the last
    load, the ones it can count: a change planned after it is not late, nor
    due (a review read '1 of 22 not started yet', 21 of them planned
    later in the month, as 5% late)."""
    from datetime import UTC, datetime, timedelta
    now = datetime.now(UTC)
    at = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%SZ")  # noqa: E731
    path = publish(tmp_path / "due.duckdb", [
        change("DUE", at(now - timedelta(minutes=1)),
               at(now + timedelta(hours=1)), state="scheduled"),
        change("LATER", at(now + timedelta(days=1)),
               at(now + timedelta(days=1, hours=1)), state="scheduled")])
    app = calendar_of(path, monkeypatch)
    app.query_params["cal_day"] = now.date().isoformat()
    app.run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["Not started on time"] \
        == "1"
    captions = [c.value for c in app.caption]
    assert "of 1 open change due to start by the last load" in captions
    # Colliding and In a freeze or blackout say their n when every change
    # is open too (a week of open changes showed none under them)
    assert captions[:2] == ["of 2 open changes"] * 2


def test_the_day_an_old_data_set_opened_on_is_not_kept_for_new_data(
        tmp_path, monkeypatch):
    """The calendar opened on an old data set's last day (March 2014), then
    other data was loaded in the same session: back by the navigation it
    still showed March 2014, empty, the day it had opened on being kept as
    if picked. Only a day other than the opening one is kept."""
    from changeboard import ui
    old = publish(tmp_path / "old.duckdb", [
        change("B1", "2014-03-10T10:00:00Z", "2014-03-10T12:00:00Z",
               state="closed", created_at="2014-02-01 09:00Z",
               closed_at="2014-03-11T09:00:00Z")])
    monkeypatch.setattr(ui, "today", lambda: date(2026, 12, 3))
    monkeypatch.setattr(config, "DB_PATH", old)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.switch_page("views/calendar.py").run()
    assert app.header[0].value == "Planned changes, March 2014"
    app.switch_page("views/changes.py").run()
    assert "kept-cal_day" not in app.session_state
    app.query_params.clear()
    new = publish(tmp_path / "new.duckdb", [
        change("N1", "2026-12-02T10:00:00Z", "2026-12-02T12:00:00Z",
               created_at="2026-12-01 09:00Z")])
    monkeypatch.setattr(config, "DB_PATH", new)
    app.switch_page("views/calendar.py").run()
    assert not app.exception
    assert app.header[0].value == "Planned changes, December 2026"
