"""Pages where the limits bite: a matrix past the Styler's cell limit, a CAB
agenda of thousands, and one database connection per page rerun.

The data is made with SQL straight into a published file: only as much as
reproduces each limit (600 releases x 500 environments = 300,000 matrix
cells > pandas' 262,144; 3,000 changes awaiting the next CAB).
"""
import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from changeboard import config, db, decisions, env_charts, ui
from reports import cab

ROOT = Path(__file__).resolve().parents[1]
N_RELEASES, N_ENVIRONMENTS, N_AGENDA = 600, 500, 3_000


@pytest.fixture(scope="module")
def big_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "scale.duckdb"
    today = pd.Timestamp(ui.today(), tz="UTC")
    meeting = pd.Timestamp(cab.next_meeting()).tz_convert("UTC")
    with db.publish(path) as con:
        con.execute("""
            insert into environments (environment_id, name, tier,
                environment_group)
            select 'ENV-' || lpad(i::varchar, 4, '0'), 'Env ' || i,
                case i % 3 when 0 then 'sit' when 1 then 'uat' else 'prod' end,
                'Group ' || (i % 7)
            from range($n) as t (i)""", {"n": N_ENVIRONMENTS})
        # every release books every environment: the widest matrix there is
        con.execute("""
            insert into releases (release_id, name, status, planned_release_at)
            select 'REL-' || lpad(i::varchar, 4, '0'), 'Release ' || i,
                'planned', $today + to_hours(24 * (1 + i % 150))
            from range($n) as t (i)""", {"n": N_RELEASES, "today": today})
        con.execute("""
            insert into environment_bookings (booking_id, environment_id,
                release_id, phase, status, start_at, end_at)
            select 'B-' || r.i || '-' || e.i,
                'ENV-' || lpad(e.i::varchar, 4, '0'),
                'REL-' || lpad(r.i::varchar, 4, '0'), 'sit',
                case (r.i + e.i) % 3 when 0 then 'approved'
                    when 1 then 'pending' else 'rejected' end,
                $today + to_hours(24 * (r.i % 150)),
                $today + to_hours(24 * (r.i % 150) + 8)
            from range($r) as r (i), range($e) as e (i)""",
                    {"r": N_RELEASES, "e": N_ENVIRONMENTS, "today": today})
        # thousands of normal changes awaiting the next meeting's decision
        con.execute("""
            insert into changes (change_id, title, change_type, state, risk,
                application_id, assignment_group, environment_id,
                is_cab_required, approval, created_at, planned_start_at,
                planned_end_at)
            select 'CHG' || lpad(i::varchar, 7, '0'), 'Change ' || i,
                'normal', 'authorize',
                case i % 4 when 0 then 'very_high' when 1 then 'high'
                    when 2 then 'moderate' else 'low' end,
                'APP-' || (i % 40), 'Team ' || (i % 30),
                'ENV-' || lpad((i % 50)::varchar, 4, '0'),
                true, 'requested', $meeting - interval 10 day,
                $meeting + to_minutes(10 + i % 5000),
                $meeting + to_minutes(70 + i % 5000)
            from range($n) as t (i)""", {"n": N_AGENDA, "meeting": meeting})
    return path


@pytest.fixture
def app(big_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", big_db)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)


def test_the_matrix_is_past_the_styler_limit_and_the_page_draws_it(app):
    assert N_RELEASES * N_ENVIRONMENTS > pd.get_option(
        "styler.render.max_elements")
    app.switch_page("views/environments.py").run()
    assert not app.exception, app.exception
    grid = next(d.value for d in app.dataframe
                if "Total Releases" in d.value.index.get_level_values(0))
    assert len(grid) == 1 + env_charts.MATRIX_ROWS  # a page, and the totals
    assert 0 < grid.shape[1] <= N_ENVIRONMENTS
    captions = " ".join(c.value for c in app.caption)
    assert f"n = {N_RELEASES:,} releases" in captions
    assert f"rows 1–{env_charts.MATRIX_ROWS} of" in captions
    # every column asked for: too many cells to colour, still no exception
    app.toggle(key="matrix_unbooked").set_value(True).run()
    assert not app.exception, app.exception


def test_a_cab_agenda_of_thousands_is_summarised_and_paged(app):
    app.switch_page("views/cab.py").run()
    assert not app.exception, app.exception
    assert app.metric[0].label == "For decision"
    assert app.metric[0].value == f"{N_AGENDA:,}"
    assert any(f"{N_AGENDA:,} changes are for decision" in w.value
               for w in app.warning)
    # the files' agenda stops at 300 lines: the page said only the detail's 50
    assert any(f"the HTML and PDF list the first {cab.AGENDA_LINES} and "
               f"detail the first {cab.DETAIL_LIMIT}" in w.value
               for w in app.warning)
    agenda = next(d.value for d in app.dataframe if "Planned start" in
                  d.value.columns)
    assert len(agenda) == N_AGENDA
    headings = [m.value for m in app.markdown if m.value.startswith("### ")]
    assert len(headings) == 20 and headings[0].startswith("### 1. ")
    app.selectbox(key="cab-detail").select(2_980).run()
    assert not app.exception, app.exception
    headings = [m.value for m in app.markdown if m.value.startswith("### ")]
    assert headings[0].startswith("### 2981. ") and len(headings) == 20
    # one decision form for the whole agenda: a list, not a widget a change
    # (on its tab: only the open tab is drawn)
    assert not any(s.key == "cab-decide-change" for s in app.selectbox)
    app.query_params["tab"] = "decisions"
    app.run()
    assert not any(m.value.startswith("### ") for m in app.markdown)
    choose = app.selectbox(key="cab-decide-change")
    assert len(choose.options) == N_AGENDA
    ids = [o.split()[1] for o in choose.options]
    choose.set_value(ids[-1]).run()
    app.radio(key="cab-decide-choice").set_value("Deferred")
    app.text_area(key="cab-decide-note").input("After the freeze")
    app.button(key="cab-decide-save").click().run()
    assert not app.exception, app.exception
    now = decisions.current(config.DB_PATH, cab.next_meeting().date())
    assert list(now["change_id"]) == [ids[-1]]
    assert list(now["decision"]) == ["deferred"]


def test_one_change_of_thousands_is_found_by_its_id(app):
    """A CAB member could not look one change up by its number: the agenda's
    grid searches only the rows it has drawn, and the detail pages 20 at a
    time. Find opens the page of blocks holding it, in any case."""
    app.switch_page("views/cab.py").run()
    agenda = next(d.value for d in app.dataframe if "Planned start" in
                  d.value.columns)
    wanted = agenda["Change"].iloc[2_345]
    app.text_input(key="cab-find").input(f"  {wanted.lower()} ").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="cab-detail").value == 2_340
    headings = [m.value for m in app.markdown if m.value.startswith("### ")]
    assert any(h.startswith(f"### 2346. {wanted}") for h in headings)
    assert f"{wanted} is #2,346 on the agenda: its block is below." in [
        c.value for c in app.caption]
    # the page scrolls to the block (it was a screen or ten below), once
    scrolls = [h.proto.body for h in app.get("html")
               if "scrollIntoView" in h.proto.body]
    assert len(scrolls) == 1 and f'"cab-block-{wanted}"' in scrolls[0]
    app.run()
    assert not [h for h in app.get("html")
                if "scrollIntoView" in h.proto.body]
    # a made-up id read as a change closed or approved: it is not in the
    # data; a change of the data off the agenda says what keeps it off
    app.text_input(key="cab-find").input("CHG-NOT-THERE").run()
    assert app.selectbox(key="cab-detail").value == 2_340  # left as it was
    said = [c.value for c in app.caption]
    assert "CHG-NOT-THERE is not in the data: no change has this id." in said


def test_the_files_of_a_large_pack_detail_a_bounded_number(big_db):
    pack = cab.build_pack(big_db, cab.next_meeting().date())
    assert len(pack.agenda) == N_AGENDA
    page = cab.to_html(pack)
    assert page.count('<section class="change') == cab.DETAIL_LIMIT
    assert f"{N_AGENDA:,} changes are for decision" in page
    sheets = cab.sections(pack)
    assert len(sheets["For decision"]) == N_AGENDA
    assert set(sheets["Evidence"]["For change"]) == set(
        pack.agenda["change_id"].head(cab.DETAIL_LIMIT))
    # the workbook says which changes its evidence sheets cover: its
    # Collisions sheet named 27 changes beside 1,461 colliding ones
    summary = dict(sheets["Summary"].itertuples(index=False))
    assert list(sheets["Summary"].columns) == ["Agenda", "Changes"]
    assert summary["Detailed in the evidence sheets (first in agenda "
                   "order)"] == cab.DETAIL_LIMIT
    assert (f"the XLSX's For decision sheet lists all {N_AGENDA:,} with "
            "their evidence counts and flags, and its evidence sheets the "
            f"first {cab.DETAIL_LIMIT}") in cab.size_note(pack)
    # its plan flags are the agenda's, change for change (in the block's
    # words); the evidence's are apart
    decided = sheets["For decision"]
    lines = cab.agenda_lines(pack)
    assert list(decided["Change"]) == list(lines["Change"])
    long = {"Emergency": "Emergency change",
            "Freeze window": "Planned in a freeze window",
            "Blackout window": "Planned in a blackout window",
            "Release bookings": "Its release has environment bookings during the plan"}
    said = [[long.get(f, f) for f in re.split(r", (?=[A-Z])", line) if f]
            for line in lines["Flags"]]
    assert said == [f.split("; ") if f else [] for f in decided["Plan flags"]]
    assert any(said) and any(decided["Evidence flags"])


@pytest.mark.parametrize("page", ["views/overview.py", "views/changes.py",
                                  "views/environments.py", "views/cab.py"])
def test_one_page_rerun_opens_one_connection(app, page):
    st.cache_data.clear()
    db.forget_readers()  # as a fresh server process
    before = db.CONNECTIONS_OPENED
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert db.CONNECTIONS_OPENED - before == 1
    # a publish replaces the file: the next rerun opens the new one, once
    with db.publish(config.DB_PATH):
        pass
    before = db.CONNECTIONS_OPENED
    app.run()
    assert db.CONNECTIONS_OPENED - before == 1


def test_the_shared_view_sees_each_publish(big_db, tmp_path):
    path = tmp_path / "copy.duckdb"
    with db.publish(path) as con:
        con.execute("insert into applications (application_id, name) "
                    "values ('A1', 'One')")
    with db.reading(path) as con:
        assert con.execute("select count(*) from applications").fetchone() \
            == (1,)
    with db.publish(path) as con:
        con.execute("insert into applications (application_id, name) "
                    "values ('A2', 'Two')")
    with db.reading(path) as con:
        assert con.execute("select count(*) from applications").fetchone() \
            == (2,)


def test_a_file_with_other_macros_is_upgraded_before_it_is_read(tmp_path):
    path = tmp_path / "old.duckdb"
    with db.publish(path) as con:
        con.execute("update macro_set set sha256 = 'an older Changeboard'")
        con.execute("drop macro keep")
    with db.reading(path) as con:
        assert con.execute("select keep(null, 'x')").fetchone() == (True,)
        assert con.execute("select sha256 from macro_set").fetchone() == (
            db.macros_sha256(),)

