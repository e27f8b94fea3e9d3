"""Every page renders on the sample database; filters change the numbers."""
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config
from tests.clicks import open_definitions

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "views").glob("*.py"))


@pytest.fixture
def app(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def card_caption(app, label: str) -> str:
    """The caption under the Overview's card `label` (in its column)."""
    return next(column.caption[0].value for column in app.columns
                if any(m.label == label for m in column.metric))


def app_on_a_copy(sample_db, tmp_path, monkeypatch, change):
    """The app, not yet run, on a copy of the sample database that
    change(con) altered first, inside a publish (as a load writes), and
    the copy's path."""
    import shutil

    from changeboard import db
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        change(con)
    monkeypatch.setattr(config, "DB_PATH", copy)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60), copy


def all_data_on_a_copy(sample_db, tmp_path, monkeypatch, change):
    """app_on_a_copy's app, run under the "All data" period."""
    app, _ = app_on_a_copy(sample_db, tmp_path, monkeypatch, change)
    app.query_params["period"] = "all"
    app.run()
    assert not app.exception
    return app


def without_close_codes(con) -> None:
    """Every change's close code gone, as a later load writes it (BPIC
    2014 records none)."""
    con.execute("update changes set close_code = null, ingested_batch_id = "
                "(select coalesce(max(batch_id), 0) + 1 from ingest_batches)")


def test_every_page_is_in_the_navigation():
    app_py = (ROOT / "app.py").read_text()
    assert len(PAGES) == 9
    for page in PAGES:
        assert f'st.Page("{page}", title=' in app_py


def commandless_definitions(app) -> list[str]:
    """The labels of the "How is ... computed?" boxes that give no command
    reproducing their numbers ('run it yourself with ... --param ...'),
    but the last CAB's decisions' where none was recorded (no change to
    look up)."""
    return [e.label for e in app.expander if any(
        "--param ...`" in c.value for c in e.caption)
        and e.label != "How is what happened computed?"]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app, page):
    """Every page draws; every "How is ... computed?" box on it gives the
    command that reproduces its numbers (the Releases page's four, the
    Changes page's and the CAB tabs' said only '--param ...')."""
    app.switch_page(page).run()
    assert not app.exception
    assert commandless_definitions(app) == []


@pytest.mark.parametrize("page, tabs", [
    ("views/environments.py", ["Weekly load", "Utilisation", "Conflicts",
                               "Bookings timeline"]),
    ("views/cab.py", ["since", "releases"])])
def test_every_tabs_definitions_give_their_command(app, page, tabs):
    for tab in tabs:
        app.query_params.clear()
        app.query_params.update({"view" if "environments" in page else
                                 "tab": tab})
        app.switch_page(page).run()
        assert not app.exception
        assert app.expander and commandless_definitions(app) == [], tab


@pytest.mark.parametrize("page", ["views/overview.py", "views/changes.py"])
def test_a_page_runs_each_query_once_two_at_a_time(app, monkeypatch, page):
    # ui.prefetch runs a page's queries before the page draws them: each
    # must be the very call the page makes (else it runs twice), and the
    # numbers are those of one query at a time
    import threading

    import streamlit as st

    from changeboard import db, ui
    calls, threads, run, head = [], set(), db.run, db.head

    def counted(con, name, **values):
        calls.append((name, repr(sorted(values.items()))))
        threads.add(threading.current_thread().name)
        return run(con, name, **values)

    def counted_head(con, name, rows, **values):  # a long table's start
        calls.append((name, rows, repr(sorted(values.items()))))
        threads.add(threading.current_thread().name)
        return head(con, name, rows, **values)

    def cards():
        st.cache_data.clear()
        ui._prefetched.clear()  # as a fresh server: nothing cached
        calls.clear()
        app.query_params["period"] = "last_365"
        app.switch_page(page).run()
        assert not app.exception
        return [(m.label, m.value, m.delta) for m in app.metric], \
            [c.value for c in app.caption], [
                d.value.to_csv() for d in app.dataframe]

    monkeypatch.setattr(db, "run", counted)
    monkeypatch.setattr(db, "head", counted_head)
    together = cards()
    # (the Changes page makes 9 calls: its groups queries stand for 14)
    assert len(calls) == len(set(calls)) > 8
    assert len(threads) > 1
    # a warm rerun runs no query
    calls.clear()
    threads.clear()
    app.run()
    assert calls == [] and threads == set()
    monkeypatch.setattr(ui, "prefetch",
                        lambda calls, filters, parts=(): None)
    assert cards() == together


def test_overview_shows_the_eight_headlines_with_their_n(app):
    app.query_params["period"] = "last_365"
    app.run()
    labels = [m.label for m in app.metric]
    assert labels == ["Change success rate", "Change failure rate",
                      "Emergency ratio", "Deployments per day",
                      "Median release interval", "On-time release rate",
                      "Environment utilisation", "Conflicts ahead"]
    assert all(m.value != "n/a" for m in app.metric), [m.value for m in app.metric]
    captions = " ".join(c.value for c in app.caption)
    assert "n = " in captions and "implemented changes" in captions
    assert captions.count("n = ") >= 7  # every rate and count shows its n
    assert "Data as of" in captions
    assert any("sample data" in i.value for i in app.info)


def test_changing_the_period_changes_the_numbers(app):
    app.run()
    before = [(m.value, m.delta) for m in app.metric]
    app.selectbox(key="period").select("last_365").run()
    assert not app.exception
    after = [(m.value, m.delta) for m in app.metric]
    assert after != before
    assert app.query_params["period"] == ["last_365"] or \
        app.query_params["period"] == "last_365"


def test_a_custom_range_starts_from_the_period_showing(app):
    # picking "Custom range" keeps the dates on screen to adjust, not the
    # last 90 days of the clock (a data set ending in 2014 jumped to now)
    from changeboard import ui
    app.run()
    app.selectbox(key="period").select("last_365").run()
    showing = ui.window_for("last_365")
    app.selectbox(key="period").select("custom").run()
    assert not app.exception
    assert app.date_input(key="dates").value == (
        showing["start_date"], showing["end_date"] - timedelta(days=1))
    # dates picked in the custom range stay when the page changes
    picked = (showing["start_date"] + timedelta(days=10),
              showing["end_date"] - timedelta(days=20))
    app.date_input(key="dates").set_value(picked).run()
    app.switch_page("views/changes.py").run()
    assert app.date_input(key="dates").value == picked


@pytest.mark.parametrize(("given", "dates", "said"), [
    ({"from": "2014-02-30", "to": "2014-03-31"},
     (date(2014, 1, 1), date(2014, 3, 31)), "the 90 days to 31 Mar 2014"),
    ({"from": "2014-03-15"}, (date(2014, 3, 15), date(2014, 6, 12)),
     "the 90 days from 15 Mar 2014")])
def test_a_custom_link_with_one_good_date_keeps_it(app, given, dates, said):
    """A shared link whose from was no date (2014-02-30) or missing fell
    back to the clock's last 90 days (Sep-Dec 2026 on data of 2014, every
    card n/a) and dropped the good date too: it keeps it, 90 days long."""
    app.query_params.update({"period": "custom", **given})
    app.run()
    assert not app.exception
    assert app.date_input(key="dates").value == dates
    assert any(said in w.value for w in app.warning), \
        [w.value for w in app.warning]
    if "from" in given and given["from"] == "2014-02-30":  # written as a day
        assert any(w.value == "Ignored from=`2014-02-30` in the address: "
                   "there is no such day." for w in app.warning)


def test_a_custom_link_without_dates_shows_the_datas_last_90_days(
        app, monkeypatch):
    """?period=custom alone, years after the data ends: the data's last 90
    days, as the presets end with the data, not the clock's."""
    from changeboard import ui
    app.run()
    latest = ui.latest_record_day("latest_reported_at") or \
        ui.latest_record_day()
    monkeypatch.setattr(ui, "today", lambda: latest + timedelta(days=1000))
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    fresh.query_params["period"] = "custom"
    fresh.run()
    assert not fresh.exception
    assert fresh.date_input(key="dates").value == (
        latest - timedelta(days=89), latest)


@pytest.mark.parametrize("page", ["overview", "changes", "releases",
                                  "environments"])
def test_all_data_is_a_period_from_the_first_change_to_the_last_record(
        app, sample_db, page):
    """A manager with years of history had to pick Custom range and type
    the first date: "All data" runs from the day the first change was
    created to the data's last day, and the page counts that window."""
    from changeboard import db, ui
    with db.reading(sample_db) as con:
        status = db.run(con, "data_status").iloc[0]
        first = status["changes_first_at"].date()
        last = status["latest_reported_at"].date()
        whole = {"start_date": first, "end_date": last + timedelta(days=1)}
        n = int(db.run(con, "change_success_rate", **whole)["n"].iloc[0])
    app.query_params["period"] = "all"
    if page != "overview":
        app.run()
        app.switch_page(f"views/{page}.py")
    app.run()
    assert not app.exception
    assert app.selectbox(key="period").value == "all"
    days = (last - first).days + 1
    assert any(c.value == f"{ui.day(first)} – {ui.day(last)} ({days:,} "
               "days, UTC)" for c in app.sidebar.caption), \
        [c.value for c in app.sidebar.caption]
    if page == "overview":
        assert any(c.value.startswith(f"n = {n:,} implemented changes")
                   for c in app.caption), [c.value for c in app.caption]


def releases_under_all_data_span(app, first, last) -> None:
    """The Releases page under All data, its sidebar saying the period runs
    from `first` to `last`."""
    from changeboard import ui
    app.query_params["period"] = "all"
    app.run()
    app.switch_page("views/releases.py")
    app.run()
    assert not app.exception
    days = (last - first).days + 1
    assert f"{ui.day(first)} – {ui.day(last)} ({days:,} days, UTC)" in [
        c.value for c in app.sidebar.caption]


def test_all_data_without_changes_starts_at_the_first_release(
        sample_db, tmp_path, monkeypatch):
    """A database of Jira versions or endoflife.date's releases, no change
    in it: "All data" read the last 90 days (3,218 of 99,373 releases) and
    could be widened only by a custom range. It starts at the first
    release gone live (or deployment finished) when no change is loaded."""
    from changeboard import db

    def releases_only(con):
        for table in ("incidents", "deployments", "changes"):
            con.execute(f"delete from {table}")  # noqa: S608 - fixed names

    app, copy = app_on_a_copy(sample_db, tmp_path, monkeypatch, releases_only)
    with db.reading(copy) as con:
        first, last = con.execute(
            "select min(actual_release_at), max(actual_release_at) "
            "from releases").fetchone()
    first, last = first.date(), last.date()
    assert (last - first).days > 89  # the sample's releases span more
    releases_under_all_data_span(app, first, last)


def test_all_data_starts_at_a_release_older_than_the_first_change(
        sample_db, tmp_path, monkeypatch):
    """Apache's Jira versions of 2006 on beside BPIC 2014's changes of
    2011-2014: "All data" started at the first change, and the Releases
    page listed 27 of the 51 versions under it (a walkthrough). It starts
    at the data's first day: here a release gone live 400 days before the
    first change."""
    from changeboard import db

    def an_older_release(con):
        batch = ("(select coalesce(max(batch_id), 0) + 1 from "
                 "ingest_batches)")
        con.execute(
            "insert into releases (release_id, name, status, application_id,"
            " release_type, planned_release_at, actual_release_at, source, "
            "ingested_batch_id) select 'OLDEST', 'Oldest', 'released', "
            "(select min(application_id) from releases), 'project', t, t, "
            f"'csv', {batch} from (select min(created_at) - interval 400 day "
            "as t from changes)")

    app, copy = app_on_a_copy(sample_db, tmp_path, monkeypatch,
                              an_older_release)
    with db.reading(copy) as con:
        status = db.run(con, "data_status").iloc[0]
        (oldest,), = con.execute("select actual_release_at from releases "
                                 "where release_id = 'OLDEST'").fetchall()
    first, last = oldest.date(), status["latest_reported_at"].date()
    assert first < status["changes_first_at"].date()
    releases_under_all_data_span(app, first, last)


def test_all_data_from_before_1990_says_its_period_once(
        sample_db, tmp_path, monkeypatch):
    """endoflife.date holds releases of 1970: "All data" said "All data
    1970-01-01 is outside 1990-01-01 to 2036-12-07: 1990-01-01 is used."
    and then "All data spans more than 3,660 days: shortened to start on
    ..." (a real-data walkthrough). One line says where the data runs and
    the period shown."""
    from changeboard import ui

    def a_release_of_1970(con):
        con.execute(
            "insert into releases (release_id, name, status, release_type, "
            "planned_release_at, actual_release_at, source, "
            "ingested_batch_id) values ('OLD-1970', 'Old', 'released', "
            "'project', '1970-01-01 00:00Z', '1970-01-01 00:00Z', 'csv', "
            "(select coalesce(max(batch_id), 0) + 1 from ingest_batches))")

    app = all_data_on_a_copy(sample_db, tmp_path, monkeypatch,
                             a_release_of_1970)
    end = ui.data_last_day()
    start = end - timedelta(days=ui.MAX_SPAN_DAYS - 1)
    said = [w.value for w in app.warning if "All data" in w.value]
    assert said == [
        f"All data runs from {ui.day(date(1970, 1, 1))} to {ui.day(end)}: "
        f"the period shows {ui.day(start)} – {ui.day(end)}, at most its last "
        f"3,660 days between {ui.day(ui.DATE_MIN)} and "
        f"{ui.day(ui.date_max())}; a custom range reaches the days before "
        "it."], said


@pytest.mark.parametrize("first, last", [
    (date(1970, 1, 1), date(1970, 1, 1)),   # all of it before 1990
    (date(2040, 1, 1), date(2045, 1, 1)),   # all of it past the range
    (date(2020, 1, 1), date(2045, 1, 1))])  # its end past the range
def test_all_data_outside_the_range_is_a_period_in_it_said_so(
        monkeypatch, first, last):
    """A period cut to the range kept its start past its end (data of 1970
    alone gave 1990 – 1970), or named the range's end as the data's (a
    review). The period is in the range, in order, and the line says the
    data's own days."""
    from changeboard import ui

    said = []
    monkeypatch.setattr(ui, "data_last_day", lambda: last)
    monkeypatch.setattr(ui, "latest_record_day",
                        lambda column=None: first if column else last)
    monkeypatch.setattr(ui, "changes_span", lambda: None)
    monkeypatch.setattr(ui.st, "warning", said.append)
    start, end = ui.all_days()
    assert ui.DATE_MIN <= start <= end <= ui.date_max()
    assert (end - start).days < ui.MAX_SPAN_DAYS
    assert said == [f"All data runs from {ui.day(first)} to {ui.day(last)}: "
                    f"the period shows {ui.day(start)} – {ui.day(end)}, at "
                    f"most its last 3,660 days between {ui.day(ui.DATE_MIN)} "
                    f"and {ui.day(ui.date_max())}"
                    + ("; a custom range reaches the days before it"
                       if first < start and start > ui.DATE_MIN else "")
                    + "."]


def test_all_data_holds_every_change_in_a_zone_far_from_utc(
        app, sample_db, monkeypatch):
    """"All data" took the data's first and last instants' UTC days, read
    as days of the reporting zone: in Pacific/Kiritimati (UTC+14) it left
    out the changes of the last hours (748 of 749 completed)."""
    from changeboard import config, db
    monkeypatch.setattr(config, "REPORTING_TZ", "Pacific/Kiritimati")
    with db.reading(sample_db) as con:
        every = db.run(con, "emergency_change_ratio", start_date="1990-01-01",
                       end_date="2100-01-01",
                       reporting_tz="Pacific/Kiritimati")["n"].iloc[0]
    app.query_params["period"] = "all"
    app.run()
    assert not app.exception
    assert any(c.value.endswith(f"of n = {every:,} completed changes")
               for c in app.caption), [c.value for c in app.caption]
    # the sidebar says whose days they are (the XLSX alone said it)
    assert any(c.value.endswith(" days, Pacific/Kiritimati)")
               for c in app.sidebar.caption), \
        [c.value for c in app.sidebar.caption]


def test_a_custom_range_too_long_is_shortened_in_the_box_itself(app):
    """Dates picked over more than MAX_SPAN_DAYS were shortened for the
    queries and the caption ('15 Aug 2016 – 22 Aug 2026'), but the box kept
    showing the dates typed (2013-10-31 – 2026-08-22): it shows the dates
    in use, and the page says once what was changed."""
    from changeboard import ui
    app.run()
    app.selectbox(key="period").select("custom").run()
    end = ui.today()
    typed = (end - timedelta(days=ui.MAX_SPAN_DAYS + 400), end)
    app.date_input(key="dates").set_value(typed).run()
    assert not app.exception
    used = (end - timedelta(days=ui.MAX_SPAN_DAYS - 1), end)
    assert app.date_input(key="dates").value == used
    said = [w.value for w in app.warning if "spans more than" in w.value]
    assert said == [f"The custom period spans more than "
                    f"{ui.MAX_SPAN_DAYS:,} days: shortened to start on "
                    f"{used[0].isoformat()}."]
    assert f"{ui.day(used[0])} – {ui.day(end)}" in " ".join(
        c.value for c in app.sidebar.caption)
    app.run()  # said once, when it was changed
    assert not [w for w in app.warning if "spans more than" in w.value]
    assert app.date_input(key="dates").value == used
    # a range half picked (its first day clicked) is left to the picker
    app.date_input(key="dates").set_value((end,)).run()
    assert not app.exception


def test_a_period_before_or_after_every_change_says_where_they_are(
        tmp_path, monkeypatch):
    # changes of 2014 beside releases gone live last week (BPIC 2014 with
    # endoflife.date): the presets end with the releases, and "widen the
    # dates" would never reach the changes; the empty charts say where
    # they are instead
    from datetime import date

    from changeboard import db
    from tests.rows import insert_rows
    path = tmp_path / "cb.duckdb"
    live = (date.today() - timedelta(days=7)).isoformat() + " 12:00Z"
    with db.publish(path) as con:
        insert_rows(con, "changes", [{
            "change_id": f"C{i}", "change_type": "normal", "state": "closed",
            "created_at": f"2014-01-0{i} 09:00Z",
            "actual_end_at": f"2014-02-0{i} 09:00Z",
            "closed_at": f"2014-03-0{i} 09:00Z",
            "close_code": "successful"} for i in (1, 2)] + [{
            "change_id": "C3", "change_type": "emergency", "state": "closed",
            "created_at": "2013-06-01 09:00Z",
            "actual_end_at": "2013-06-02 09:00Z",
            "closed_at": "2013-06-03 09:00Z", "close_code": "successful"}])
        insert_rows(con, "releases", [{
            "release_id": "R1", "name": "R1", "status": "released",
            "actual_release_at": live}])
    monkeypatch.setattr(config, "DB_PATH", path)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    where = ("the changes loaded run from 01 Jun 2013 to 02 Mar 2014: pick "
             "a period there (Period: Custom range)")
    assert [i.value for i in app.info] == [
        f"No changes were implemented in this period: {where}."]
    app.switch_page("views/changes.py").run()
    assert not app.exception
    said = [i.value for i in app.info]
    assert f"No changes ended in this period — {where}." in said
    assert not any("widen the dates" in i for i in said), said
    # the calendar opens where the changes end, not on the releases' month
    app.switch_page("views/calendar.py").run()
    assert not app.exception
    assert app.date_input(key="cal_day").value == date(2014, 3, 2)
    assert ("The change records end on 02 Mar 2014 (the last created or "
            "closed; plans may run later): the calendar opens there.") in [
        c.value for c in app.caption]
    app.switch_page("views/changes.py").run()
    # a period that meets them: the changes are shown
    app.selectbox(key="period").select("custom").run()
    app.date_input(key="dates").set_value(
        (date(2014, 1, 1), date(2014, 3, 31))).run()
    assert not any("the changes loaded run from" in i.value
                   for i in app.info)
    # there, a filter that leaves none: the dates or the filter
    app.multiselect(key="filter-change_types").set_value(["emergency"]).run()
    assert "No changes ended in this period — widen the dates or clear " \
        "some filters." in [i.value for i in app.info]


def test_the_period_is_read_back_from_the_url(app):
    app.query_params["period"] = "ytd"
    app.run()
    assert app.selectbox(key="period").value == "ytd"


def test_a_missing_database_says_how_to_build_one(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "DB_PATH", tmp_path / "none.duckdb")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert "`changeboard sample`" in app.warning[0].value


def test_global_filters_come_from_the_url_and_narrow_the_numbers(
        sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)

    def first_caption(url):
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        app.query_params.update(url)
        app.run()
        assert not app.exception
        return app, next(c.value for c in app.caption
                         if c.value.startswith("n = "))

    _, n_all = first_caption({"period": "last_365"})
    app, n_emergency = first_caption({"period": "last_365",
                                      "change_types": "emergency"})
    assert app.multiselect(key="filter-change_types").value == ["emergency"]
    assert n_emergency != n_all
    assert app.metric[2].value == "100.0%"  # only emergencies are left
    assert any("not filtered by change type" in c.value for c in app.caption)


def test_a_links_filter_value_not_in_the_data_is_said_not_applied(app):
    """?application_ids=WBS999999 was dropped from the address and every
    number read for the whole organisation, unsaid. The sidebar says which
    values of the link are not in the data; the known ones still apply."""
    app.query_params.update({"change_types": "emergency,nope,never",
                             "teams": "WBS999999"})
    app.run()
    assert not app.exception
    assert [w.value for w in app.sidebar.warning] == [
        "Team: `WBS999999` from the address is not in the loaded data, so "
        "not applied.",
        "Change type: `nope, never` from the address are not in the loaded "
        "data, so not applied."]
    assert app.multiselect(key="filter-change_types").value == ["emergency"]
    assert app.multiselect(key="filter-teams").value == []
    app.run()  # the address now holds what applies: said once
    assert not app.sidebar.warning


def _team_renamed(sample_db, tmp_path, monkeypatch, name: str) -> None:
    """The pages read a copy of the sample whose team Risk Tech is named
    `name`."""
    import shutil

    from changeboard import db
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        con.execute(
            "update changes set assignment_group = $name, "
            "ingested_batch_id = (select max(batch_id) + 1 from "
            "ingest_batches) where assignment_group = 'Risk Tech'",
            {"name": name})
    monkeypatch.setattr(config, "DB_PATH", copy)


def test_a_filter_value_holding_a_comma_goes_through_the_address(
        sample_db, tmp_path, monkeypatch):
    """A team named 'Payments, EMEA' picked in the sidebar went into the
    address as 'Payments, EMEA', read back as two teams: the copied link
    opened on every team, warning that the team is not in the data (a
    process owner's walkthrough). The address quotes it, as the CLI and
    the page's own links do, and reads it back."""
    _team_renamed(sample_db, tmp_path, monkeypatch, "Risk, Tech")

    def opened(query: dict) -> AppTest:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        app.query_params.update(query)
        app.run()
        assert not app.exception
        return app

    app = opened({})
    app.multiselect(key="filter-teams").select("Risk, Tech").run()
    assert not app.exception
    link = app.query_params["teams"]
    assert link in ('"Risk, Tech"', ['"Risk, Tech"']), link
    again = opened({"teams": '"Risk, Tech"'})
    assert again.multiselect(key="filter-teams").value == ["Risk, Tech"]
    assert not again.sidebar.warning
    # a plain list still reads as before, a quoted value beside it
    both = opened({"teams": 'Core Ledger,"Risk, Tech"'})
    assert both.multiselect(key="filter-teams").value == [
        "Core Ledger", "Risk, Tech"]
    assert not both.sidebar.warning


def test_a_filter_value_with_spaces_at_its_ends_goes_through_the_address(
        sample_db, tmp_path, monkeypatch):
    """The loader keeps a team named ' Risk Tech '; read from the address
    stripped, its link opened on every team, warning it was not in the
    data (a review)."""
    _team_renamed(sample_db, tmp_path, monkeypatch, " Risk Tech ")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["teams"] = " Risk Tech ,Core Ledger"
    app.run()
    assert not app.exception
    assert app.multiselect(key="filter-teams").value == [" Risk Tech ",
                                                         "Core Ledger"]
    assert not app.sidebar.warning
    # a link typed with a space after each comma still reads its teams
    # (the stripped form, when the name as written is none)
    typed = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    typed.query_params["teams"] = "Core Ledger, Digital Web"
    typed.run()
    assert not typed.exception
    assert typed.multiselect(key="filter-teams").value == [
        "Core Ledger", "Digital Web"]
    assert not typed.sidebar.warning


def test_the_footers_counts_say_they_are_the_whole_databases(app):
    """'8,016 changes, 611 releases, 162 environments' under cards filtered
    to one application read as that application's, and only the sidebar's
    chips said the page was filtered (an application owner's walkthrough):
    the page says what it is filtered to, and the footer that its counts
    are the database's."""
    app.query_params["application_ids"] = "APP-001"
    app.run()
    assert not app.exception
    # and the page says what it is filtered to, under its title
    from changeboard import ui
    assert app.main.caption[0].value == \
        f"Filtered to {ui.plain('Application: Payments Gateway')} (sidebar)."
    footer = [c.value for c in app.main.caption
              if c.value.startswith("Data as of ")]
    assert len(footer) == 1, footer
    footer = footer[0]
    assert " · in the database: " in footer
    assert footer.endswith(" (all dates, unfiltered)")


def test_each_filter_says_what_it_keeps(app):
    """"Team" read as the team owning the application: its owner set it
    and the changes other teams made to the application were left out,
    unsaid (an application owner's walkthrough). Each filter's help says
    what it keeps; Team's, that it is the change's assignment group."""
    from changeboard import words
    app.run()
    assert not app.exception
    for name in words.FILTERS:
        assert app.multiselect(key=f"filter-{name}").help == \
            words.FILTER_HELP[name]
    assert "assignment group" in app.multiselect(key="filter-teams").help


def test_the_type_and_tier_filters_offer_words_and_keep_codes(app):
    # the pages say "Emergency" and "Production": so do the filters
    app.query_params["tiers"] = "prod"
    app.run()
    types = app.multiselect(key="filter-change_types")
    assert types.options == ["Emergency", "Normal", "Standard"]
    tiers = app.multiselect(key="filter-tiers")
    assert "Production" in tiers.options and "prod" not in tiers.options
    assert tiers.value == ["prod"]  # the address and the queries: codes
    app.multiselect(key="filter-change_types").set_value(["emergency"]).run()
    assert app.query_params["change_types"] in ("emergency", ["emergency"])


def test_two_applications_of_one_name_are_told_apart_in_the_filter(
        sample_db, tmp_path, monkeypatch):
    """Two applications of one name read alike in the sidebar, and the
    browser sends a pick back by its label: the first of the two was
    applied whichever was picked (as the As of picker did with two
    snapshots of one second). A shared name now says its id."""
    def same_name(con):
        con.execute("update applications set name = 'Core', "
                    "ingested_batch_id = (select max(batch_id) + 1 from "
                    "ingest_batches) where application_id in (select "
                    "application_id from applications order by 1 limit 2)")

    app, _ = app_on_a_copy(sample_db, tmp_path, monkeypatch, same_name)
    app.run()
    assert not app.exception
    box = app.multiselect(key="filter-application_ids")
    assert len(set(box.options)) == len(box.options)
    cores = [o for o in box.options if o.startswith("Core (")]
    assert len(cores) == 2 and all(re.fullmatch(r"Core \(.+\)", o)
                                   for o in cores), cores


def test_reset_clears_the_filters(app):
    app.query_params["teams"] = "nobody-by-this-name"
    app.query_params["change_types"] = "normal"
    app.run()
    assert app.multiselect(key="filter-change_types").value == ["normal"]
    app.button(key="reset-filters").click().run()
    assert app.multiselect(key="filter-change_types").value == []
    assert "change_types" not in app.query_params


def test_definitions_come_from_the_metrics_document():
    from changeboard import ui
    text = ui.definition_text("change_success_rate")
    assert text.startswith("Of the changes implemented in the period")
    assert "## " not in text
    assert ui.definition_text("no_such_metric") == ""


def test_overview_explains_each_headline(app):
    app.run()
    open_definitions(app)
    labels = [e.label for e in app.expander]
    assert "How are “Change success rate” and “Change failure rate” computed?" in labels
    assert any("did not fail" in m.value for m in app.markdown)


def test_filters_and_period_survive_a_page_switch(app):
    """A page link carries no query string: the session's choices do."""
    app.run()
    team = app.multiselect(key="filter-teams").options[0]
    app.multiselect(key="filter-teams").select(team).run()
    app.selectbox(key="period").select("last_365").run()
    n_overview = next(c.value for c in app.caption if c.value.startswith(
        "n = "))
    app.query_params.clear()  # what following a page link does to the URL
    app.switch_page("views/changes.py").run()
    assert not app.exception
    assert app.multiselect(key="filter-teams").value == [team]
    assert app.selectbox(key="period").value == "last_365"
    assert app.query_params["teams"] in (team, [team])
    assert app.query_params["period"] in ("last_365", ["last_365"])
    app.query_params.clear()
    app.switch_page("views/cab.py").run()  # a page without a period
    assert app.multiselect(key="filter-teams").value == [team]
    app.query_params.clear()
    app.switch_page("views/overview.py").run()
    assert app.selectbox(key="period").value == "last_365"
    assert next(c.value for c in app.caption if c.value.startswith(
        "n = ")) == n_overview


def test_a_shared_link_wins_over_the_session(app):
    app.run()
    app.selectbox(key="period").select("last_365").run()
    app.query_params["period"] = "ytd"
    app.switch_page("views/changes.py").run()
    assert app.selectbox(key="period").value == "ytd"


def test_a_card_with_nothing_behind_it_says_so_not_an_empty_grid(app):
    """Conflicts ahead with no conflicting pair drew a grid of column names
    ('Booking id a', 'Status a') over no row."""
    app.query_params.update({"period": "custom", "from": "2001-01-01",
                             "to": "2001-01-31",
                             "drill": "Change success rate"})
    app.run()
    assert not app.exception
    assert any(c.value.startswith("n = 0 ") for c in app.caption)
    assert [i.value for i in app.info if "Nothing to list" in i.value] == [
        "Nothing to list: no record is behind this card's number. Pick a "
        "longer period."]
    assert not app.dataframe


def test_the_release_interval_delta_says_days(app):
    app.query_params["period"] = "last_365"
    app.run()
    card = next(m for m in app.metric if m.label == "Median release interval")
    assert card.value.endswith(" days")
    assert card.delta is not None and card.delta.endswith(" days"), card.delta


def test_a_cards_delta_says_better_or_worse_as_its_colour_does(app):
    """Whether a delta is good or bad was its colour alone (an
    accessibility review: red and green are one colour to many): each
    coloured delta says 'better' (green) or 'worse' (red); a grey one, or
    a card whose delta is neither (utilisation), says neither."""
    from streamlit.proto.Metric_pb2 import Metric
    app.query_params["period"] = "last_365"
    app.run()
    said = {m.label: (m.proto.color, m.proto.delta_description)
            for m in app.metric if m.delta}
    words = {Metric.MetricColor.GREEN: "better",
             Metric.MetricColor.RED: "worse"}
    assert said and all(words.get(color, "") == description
                        for color, description in said.values()), said
    assert {"better", "worse"} <= {d for _, d in said.values()}, said


def test_the_release_interval_card_says_the_releases_it_leaves_out(app):
    """C6: the Median release interval's caption counts the cancelled
    releases and enterprise groupings gone live in the period, which its n
    leaves out, as release_cadence_summary does."""
    from changeboard import db, ui
    from changeboard.words import many
    app.query_params["period"] = "last_365"
    app.run()
    with db.reading(config.DB_PATH) as con:
        summary = db.run(con, "release_cadence_summary",
                         **ui.window_for("last_365")).iloc[0]
    assert summary["n_excluded"] > 0  # the sample has such releases
    said = next(c.value for c in app.caption if " gap" in c.value
                and c.value.startswith("n = "))
    assert said.endswith(" · " + many(summary["n_excluded"],
                                      "cancelled or enterprise release")
                         + " left out"), said


def a_conflict_ahead(con) -> None:
    """Two approved bookings of a one-place environment that overlap ten
    days from today: the sample lays out its bookings at random from the
    day it is built, and on some days has no conflict in the next 90 (8
    Dec 2026: test_a_cards_list_counts_what_its_query_lists failed)."""
    con.execute(
        "insert into environment_bookings (booking_id, environment_id, "
        "status, start_at, end_at) select 'AHEAD-' || i, environment_id, "
        "'approved', current_date + interval 10 day + interval 8 hour, "
        "current_date + interval 11 day + interval 18 hour from (select "
        "environment_id from environments where capacity = 1 order by 1 "
        "limit 1), range(2) as t (i)")


@pytest.mark.parametrize("filters", [{}, {"teams": "Digital Web"}])
def test_a_cards_list_counts_what_its_query_lists(sample_db, tmp_path,
                                                  monkeypatch, filters):
    """The success and failure rates' and Conflicts ahead's lists take
    their count from the card (not counted again): it is the number of
    rows their query gives, with the period and filters they are read
    with, and the whole list downloads that many."""
    import streamlit as st

    from changeboard import db
    app, sample_db = app_on_a_copy(sample_db, tmp_path, monkeypatch,
                                   a_conflict_ahead)
    st.cache_data.clear()  # each list read here, not cached by another test
    asked = []
    real = db.run
    def reading(reader: str):  # what a list reads, first rows only
        real_read = getattr(db, reader)

        def read(con, name, rows, **values):
            asked.append((name, values, reader))
            return real_read(con, name, rows, **values)
        return read
    for reader in ("first", "head"):
        monkeypatch.setattr(db, reader, reading(reader))
    app.query_params.update({"period": "last_365", **filters})
    app.run()
    for label, query, noun in (
            ("Change success rate", "change_records", "implemented change"),
            ("Change failure rate", "change_records", "failed change"),
            ("Conflicts ahead", "booking_conflicts",
             "conflicting booking pair")):
        app.pills(key="drill").set_value(label).run()
        assert not app.exception, label
        # the list's caption: 'n = 3,235 implemented changes (the card's
        # n), 08 Dec 2025 – 07 Dec 2026'
        shown = next(c.value for c in app.caption if re.match(
            rf"(n = )?[\d,]+ {noun}s?\b.* – ", c.value))
        n = int(shown.removeprefix("n = ").split()[0].replace(",", ""))
        # what the list read, read whole
        values, read = next((v, r) for name, v, r in reversed(asked)
                            if name == query)
        assert read == "first", label  # its first rows, not counted again
        asked.clear()
        with db.reading(sample_db) as con:
            assert len(real(con, query, **values)) == n, (label, shown)
        assert n > 0, label


def test_every_overview_card_drills_down_to_its_records(app):
    app.query_params["period"] = "last_365"
    app.run()
    cards = {m.label: m for m in app.metric}
    captions = [c.value for c in app.caption]
    assert app.pills(key="drill").options == list(cards)
    for label in cards:
        app.pills(key="drill").set_value(label).run()
        assert not app.exception, (label, app.exception)
        # the records' count: 'n = 12 failed changes ...', or, for rows
        # that are not the card's n, '300 applications ...'
        shown = next(c.value for c in app.caption
                     if re.match(r"(n = )?[\d,]+ [a-z]", c.value)
                     and c.value not in captions)
        n = int(shown.removeprefix("n = ").split()[0].replace(",", ""))
        if n == 0:  # no empty grid of column names: a sentence
            assert any(i.value.startswith("Nothing to list")
                       for i in app.info), label
            continue
        records = app.dataframe[-1].value
        from changeboard import ui
        assert len(records) == min(n, ui.SHOWN_ROWS), label
        if n > ui.SHOWN_ROWS:  # a long table says it draws a part
            assert any(c.value.startswith(
                f"Showing the first {ui.SHOWN_ROWS:,} of {n:,} rows")
                for c in app.caption), label
        # the rows behind a rate are its n (or numerator)
        card_n = {
            "Change success rate": r"n = ([\d,]+) implemented",
            "Emergency ratio": r"of n = ([\d,]+) completed",
            "On-time release rate": r"of n = ([\d,]+) on time",
            "Environment utilisation": r"n = ([\d,]+) environments"}.get(label)
        if card_n:
            found = next(re.search(card_n, c) for c in captions
                         if re.search(card_n, c))
            assert n == int(found.group(1).replace(",", "")), label
        if label == "Emergency ratio":
            # its numerator first: the emergency changes were scattered
            # through the n (none in the first ten rows of the sample's)
            n_emergency = int(re.search(r"([\d,]+) of n = ", next(
                c for c in captions if re.search(card_n, c))).group(1))
            kinds = list(records["change_type"])
            assert 0 < n_emergency < len(kinds)
            assert kinds[:n_emergency] == ["Emergency"] * n_emergency
            assert "Emergency" not in kinds[n_emergency:]
        open_definitions(app)
        explain = [e for e in app.expander if e.label.startswith("Explain")]
        assert explain and "python -m changeboard query " in " ".join(
            c.value for c in explain[0].code)


def test_a_definition_draws_its_sql_only_when_opened(app):
    """The Overview's seven "How is ... computed?" expanders, closed, each
    sent its definition, command and SQL, and the browser highlighted the
    SQL of all seven on every visit (half a second of a visit's CPU in
    Chromium). Closed, they now send their label alone; opened, the rerun
    draws what they hold."""
    app.run()
    closed = [e for e in app.expander if e.label.startswith("How ")]
    assert len(closed) == 7
    assert not app.code and not any(e.markdown for e in closed)
    open_definitions(app)
    opened = [e for e in app.expander if e.label.startswith("How ")]
    assert [e.label for e in opened] == [e.label for e in closed]
    assert all(len(e.code) == 2 and e.markdown for e in opened)


def test_a_definition_shows_the_sql_and_the_command_that_reproduce_it(app):
    app.query_params.update({"period": "last_30", "teams": "Card Services"})
    app.run()
    open_definitions(app)
    how = next(e for e in app.expander
               if e.label == "How are “Change success rate” and “Change failure rate” computed?")
    command, sql = (c.value for c in how.code)
    assert command.startswith(
        "python -m changeboard query change_success_rate ")
    assert "--param 'teams=Card Services'" in command
    assert sql == (ROOT / "queries" / "change_success_rate.sql").read_text(
    ).rstrip("\n")
    # the command gives the card's number
    import shlex
    import subprocess
    import sys
    words = shlex.split(command)
    done = subprocess.run([sys.executable, "-m", *words[2:], "--format",
                           "csv"], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    header, row = done.stdout.splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    card = next(m for m in app.metric if m.label == "Change success rate")
    assert card.value == f"{100 * float(values['change_success_rate']):.1f}%"


def test_the_command_of_a_definition_carries_the_reporting_time_zone(
        app, monkeypatch):
    # the page's numbers are in the served reporting time zone; the
    # command, pasted into a shell without that setting, must be too
    monkeypatch.setattr(config, "REPORTING_TZ", "Pacific/Auckland")
    app.query_params.update({"period": "last_30"})
    app.run()
    open_definitions(app)
    how = next(e for e in app.expander
               if e.label == "How are “Change success rate” and “Change failure rate” computed?")
    command = how.code[0].value
    assert "--param reporting_tz=Pacific/Auckland" in command
    import os
    import shlex
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items()
           if k != "CHANGEBOARD_REPORTING_TZ"}
    done = subprocess.run([sys.executable, "-m", *shlex.split(command)[2:],
                           "--format", "csv"], cwd=ROOT, capture_output=True,
                          text=True, check=True, env=env)
    header, row = done.stdout.splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    card = next(m for m in app.metric if m.label == "Change success rate")
    assert card.value == f"{100 * float(values['change_success_rate']):.1f}%"


def test_tables_show_codes_as_words_and_applications_by_name(app):
    app.query_params.update({"period": "last_365",
                             "drill": "Change failure rate"})
    app.run()
    records = app.dataframe[-1].value
    assert set(records["close_code"]) <= {
        "Successful", "Successful with issues", "Unsuccessful", "Backed out"}
    assert "Backed out" in set(records["close_code"])
    assert not records["risk"].dropna().str.contains("_").any()
    names = records["application_name"].dropna()
    assert len(names) and not names.str.startswith("APP-").any()
    assert list(records.columns).index("application_name") < list(
        records.columns).index("application_id")


def test_durations_and_deltas_read_as_people_read_them():
    from changeboard import ui
    assert ui.duration(314.8) == "13.1 days"
    assert ui.duration(47.5) == "47.5 h"
    assert ui.duration(None) == "n/a"
    # no change reads flat (grey, no arrow), apart from not compared (None)
    assert ui.delta_points(0.1234, 0.1234) == "0.0 pp"
    assert ui.delta_points(0.12339, 0.12341) == "0.0 pp"  # not -0.0
    assert ui.delta_points(0.12, None) is None
    assert ui.delta_points(0.5, 0.4) == "+10.0 pp"
    assert ui.delta_number(0.0, 0.0) == "0.0"
    assert ui.delta_number(7.49, 7.5, unit=" days") == "0.0 days"
    assert ui.delta_style("0.0 pp", "inverse") == {"delta_color": "off",
                                                     "delta_arrow": "off"}
    # a fall of a rate where lower is better: inverse colour, in a word too
    assert ui.delta_style("-1.0 pp", "inverse") == {
        "delta_color": "inverse", "delta_description": "better"}
    assert ui.delta_style("-1.0 pp")["delta_description"] == "worse"
    assert ui.delta_style("+0.1", "off") == {"delta_color": "off"}
    # the median release interval's '+72.7' said no unit
    assert ui.delta_number(80.2, 7.5, unit=" days") == "+72.7 days"
    assert ui.number(None, suffix=" days") == "n/a"


def test_a_rate_that_did_not_move_reads_flat_not_as_not_compared(
        sample_db, tmp_path, monkeypatch):
    """A card whose rate is the period before's to the decimal drew no
    delta, as a card compared with nothing does (All data): a manager could
    not tell 'no change' from 'not compared'. It reads '0.0 pp' as the CAB pack does, grey and
    with no arrow (st.metric draws a green up arrow on any delta not
    starting with '-')."""
    def one_success_one_failure_a_month(con):
        batch = "(select coalesce(max(batch_id), 0) + 1 from ingest_batches)"
        con.execute(
            "insert into changes (change_id, change_type, state, created_at,"
            " actual_end_at, closed_at, close_code, source, "
            "ingested_batch_id) select 'FLAT-' || i, 'normal', 'closed', "
            "t - interval 2 day, t, t, code, 'csv', " + batch + " from "
            "(values (1, timestamptz '2001-01-10 10:00:00+00', 'successful'),"
            " (2, timestamptz '2001-01-11 10:00:00+00', 'unsuccessful'),"
            " (3, timestamptz '2001-02-10 10:00:00+00', 'successful'),"
            " (4, timestamptz '2001-02-11 10:00:00+00', 'unsuccessful'))"
            " as v(i, t, code)")
    app, _ = app_on_a_copy(sample_db, tmp_path, monkeypatch,
                           one_success_one_failure_a_month)
    app.query_params.update({"period": "custom", "from": "2001-02-01",
                             "to": "2001-02-28"})
    app.run()
    assert not app.exception
    card = next(m for m in app.metric if m.label == "Change success rate")
    assert card.value == "50.0%"
    assert card.delta == "0.0 pp"
    assert card_caption(app, "Change success rate").endswith(
        " · before: n = 2")
    assert card.proto.direction == card.proto.NONE
    assert card.proto.color == card.proto.GRAY


@pytest.mark.parametrize(("rate", "shown"), [
    (1 / 3000, "<0.1%"), (2999 / 3000, ">99.9%"), (0.0, "0.0%"),
    (1.0, "100.0%"), (0.0005, "0.1%"), (0.9994, "99.9%"), (0.125, "12.5%"),
    (None, "n/a"), (1.5, "150.0%")])
def test_a_rate_not_zero_never_reads_as_zero_nor_one_short_as_all(rate,
                                                                  shown):
    """A year's 1 unauthorised change in 3,000 read '0.0%' on its card and
    2,999 successes '100.0%': a CAB reads those as none and all."""
    from changeboard import ui
    assert ui.pct(rate) == shown


def test_a_whole_percent_keeps_the_same_rule():
    from changeboard import ui
    assert [ui.pct(r, 0) for r in (0.004, 0.006, 0.994, 0.996, 0.0, 1.0)] \
        == ["<1%", "1%", "99%", ">99%", "0%", "100%"]


def test_change_ids_link_to_their_record_at_the_source(app, monkeypatch):
    monkeypatch.setenv("CHANGEBOARD_SERVICENOW_INSTANCE", "acme")
    app.query_params.update({"period": "last_365",
                             "drill": "Change failure rate"})
    app.run()
    records = app.dataframe[-1].value
    link = records["change_id"].iloc[0]
    assert link.startswith("https://acme.service-now.com/change_request.do"
                           "?sysparm_query=number=CHG")
    monkeypatch.delenv("CHANGEBOARD_SERVICENOW_INSTANCE")
    app.run()
    assert app.dataframe[-1].value["change_id"].iloc[0].startswith("CHG")


def test_no_delta_arrow_on_an_empty_population(app):
    """A period before any data: every card of the period is n/a or zero,
    and none shows a delta (no "↓ -0.0 pp" in red, no "↑ +0.0" in green).
    "Conflicts ahead" looks at the next 90 days from today, whatever the
    period: it shows what it shows for the default period (the sample ends
    today, so on some days it has conflicts ahead)."""
    default = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    default.run()
    ahead = {m.value for m in default.metric if m.label == "Conflicts ahead"}
    assert len(ahead) == 1
    app.query_params.update({"period": "custom", "from": "2001-01-01",
                             "to": "2001-03-31"})
    app.run()
    assert not app.exception
    assert app.metric and all(
        not m.delta and m.proto.direction == m.proto.NONE
        for m in app.metric), [(m.label, m.value, m.delta)
                               for m in app.metric]
    assert {m.value for m in app.metric
            if m.label == "Conflicts ahead"} == ahead
    # from when it looks ahead, said (on data ending in 2014 "next 90 days"
    # read as of its end)
    from changeboard import ui
    assert any(c.value.startswith(f"next 90 days from {ui.day(ui.today())} "
                                  "· on ") for c in app.caption)
    assert {m.value for m in app.metric if m.label != "Conflicts ahead"
            } <= {"n/a", "0", "0.0", "0.0%"}


def test_every_page_opens_with_the_shared_skeleton():
    """ui.page() gives every page (the CAB pack aside, which still opens by
    hand) its title, banner, period and filters: no page repeats them."""
    for page in PAGES:
        text = (ROOT / page).read_text()
        if page == "views/cab.py":
            continue
        assert "ui.page(" in text, page
        assert "st.title(" not in text and "ui.data_banner()" not in text, page


def test_the_environments_tabs_are_modules_not_pages():
    tabs = sorted((ROOT / "views" / "environment_tabs").glob("*.py"))
    assert {p.stem for p in tabs} >= {"matrix", "weekly_load", "utilisation",
                                      "conflicts", "timeline"}
    app_py = (ROOT / "app.py").read_text()
    assert "environment_tabs" not in app_py
    assert not (ROOT / "pages").exists()  # Streamlit would serve those too


def test_drill_labels_and_file_names():
    from changeboard import ui

    assert ui.label_of(None) == ui.label_of(float("nan")) == "(none)"
    assert ui.label_of("normal") == "normal"
    assert ui.slug("Payments Gateway 9.9 (APP-7)") == "payments-gateway-9-9-app-7"


def _conflicts_ahead(sample_db, tmp_path, monkeypatch):
    """The app, not yet run, opened on the records behind Conflicts ahead,
    on a copy of the sample with a conflict ahead. The sample is laid out
    from today: some days none of its bookings ahead conflict, so the copy
    holds one more booking than an environment takes, approved and
    pending, the day after tomorrow."""
    import shutil

    from changeboard import db, ui
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        env_id, capacity = con.execute(
            "select environment_id, coalesce(capacity, 1) from environments "
            "order by environment_id limit 1").fetchone()
        day = ui.today() + timedelta(days=2)
        for i in range(capacity + 1):
            con.execute(
                "insert into environment_bookings (booking_id, "
                "environment_id, status, start_at, end_at) values ($id, $env, "
                "$status, $day + interval 9 hour, $day + interval 13 hour)",
                {"id": f"TEST-{i}", "env": env_id, "day": day,
                 "status": "pending" if i else "approved"})
    monkeypatch.setattr(config, "DB_PATH", copy)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update({"period": "last_365",
                             "drill": "Conflicts ahead"})
    return app


def test_the_conflicts_ahead_records_hold_the_pairs_not_their_environments_n(
        sample_db, tmp_path, monkeypatch):
    """The records behind Conflicts ahead, shown and downloaded, carried
    each environment's counts beside every pair (n 186 beside 47 pairs:
    its active bookings), which an analyst read as the count behind the
    card. They hold the pairs' own columns, as the Environments page's
    Conflicts tab lists them, and the download their ids too."""
    from changeboard import ui
    held = {}

    def record(frame, file_stem, *, rows=None, query=None):
        held[file_stem] = frame() if callable(frame) else frame

    monkeypatch.setattr(ui, "downloads", record)
    app = _conflicts_ahead(sample_db, tmp_path, monkeypatch)
    app.run()
    assert not app.exception
    counts = {"n", "n_excluded", "n_invalid", "n_open_ended"}
    shown = app.dataframe[-1]
    assert not counts & set(shown.value.columns)
    [(stem, pairs)] = [(k, v) for k, v in held.items()
                       if k.startswith("booking_conflicts")]
    assert len(pairs) == len(shown.value) > 0
    assert not counts & set(pairs.columns), stem
    assert {"environment_id", "booking_id_a", "release_id_a",
            "booking_id_b", "release_id_b", "overlap_hours"} <= set(
                pairs.columns)


def test_the_conflicts_ahead_records_name_environments_and_read_as_words(
        sample_db, tmp_path, monkeypatch):
    """The records behind Conflicts ahead showed bare environment ids
    (ENV-0002) and the bookings' statuses as codes (approved), where the
    Environments page names the environment: they name it beside its id,
    and the statuses read as words."""
    from changeboard import db, ui
    app = _conflicts_ahead(sample_db, tmp_path, monkeypatch)
    app.run()
    assert not app.exception
    records = app.dataframe[-1].value
    assert len(records) > 0
    with db.connect(config.DB_PATH, read_only=True) as con:
        names = dict(con.execute(
            "select environment_id, name from environments").fetchall())
    assert list(records["environment_name"]) == [
        names[e] for e in records["environment_id"]]
    assert list(records.columns).index("environment_name") < list(
        records.columns).index("environment_id")
    for column in ("status_a", "status_b"):
        values = set(records[column])
        assert values and values == {ui.word(v) for v in values}
        assert values <= {"Approved", "Pending"}, values


def test_a_median_of_no_week_reads_as_a_sentence_not_n_a_days(app):
    """Three days hold no complete week, so the weekly median of deploy days
    is NULL (C5): the Deployments per day card's caption read 'median n/a
    deploy days a week'; it says there is no complete week to take it over,
    and no caption reads n/a followed by a unit."""
    import re
    from datetime import timedelta

    from changeboard import ui
    last = ui.today() - timedelta(days=8)
    app.query_params.update({"period": "custom",
                             "from": (last - timedelta(days=2)).isoformat(),
                             "to": last.isoformat()})
    app.run()
    assert not app.exception
    captions = [c.value for c in app.caption]
    # 'deployment on 1 day' or 'deployments on 2 days' (ui.many)
    [deployments] = [c for c in captions if re.search(
        "production deployments? on", c)]
    assert re.search(r" days? · no complete week in the period for a weekly "
                     "median$", deployments), deployments
    assert not [c for c in captions if re.search(r"n/a [a-z]", c)], captions


def test_days_and_instants_read_the_same_way_on_every_page():
    """The Change calendar's date picker read 2026-12-03 where the
    Environments page's read 03/12/2026 (the sidebar's and the CAB pack's
    2026/12/03); the calendar's bars said '01 Dec 21:30 – 02 Dec 00:15 UTC'
    where the bookings timeline said '18 Feb 00:00 – 03 Mar 00:00', with no
    zone, and the Data page '2026-03-01 22:00 UTC'. A day, an instant and a
    span of instants are written by ui.day, ui.instant and ui.instants (the
    formatting reports.text shares with the reports), and every date picker
    shows a day as ui.DAY_INPUT."""
    import re
    from datetime import date

    import pandas as pd

    from changeboard import ui
    at = pd.Timestamp("2026-12-01 21:30", tz="UTC")
    assert ui.day(date(2026, 12, 3)) == "03 Dec 2026"
    assert ui.day(None) == ""
    assert ui.instant(at) == "01 Dec 2026 21:30 UTC"
    assert ui.instant("2026-12-01 21:30") == "01 Dec 2026 21:30 UTC"
    assert ui.instant(at, "Europe/Berlin") == "01 Dec 2026 22:30 Europe/Berlin"
    assert ui.instant(None) == ""
    assert ui.instants([at, at, at], [
        at + pd.Timedelta(hours=2, minutes=45), at + pd.Timedelta(minutes=30),
        None]) == ["01 Dec 2026 21:30 – 02 Dec 2026 00:15 UTC",
                   "01 Dec 2026 21:30 – 22:00 UTC", ""]
    assert ui.instants(pd.Series([at]), pd.Series([at]), "Europe/London") \
        == ["01 Dec 2026 21:30 – 21:30 Europe/London"]
    assert ui.DAY_INPUT == "YYYY-MM-DD"  # as the address writes a day
    pickers = 0
    for path in [*PAGES, "changeboard/ui.py",
                 *(str(p.relative_to(ROOT)) for p in
                   (ROOT / "views" / "environment_tabs").glob("*.py"))]:
        text = (ROOT / path).read_text()
        for call in re.findall(r"date_input\((?:[^()]|\([^()]*\))*\)", text):
            pickers += 1
            assert re.search(r"format=(ui\.)?DAY_INPUT\b", call), (path, call)
        assert not re.search(r"%d %b|%H:%M|%Y-%m-%d %H", text), path
        # a table's instants as ui.instant writes them: '07 Sep', not '7 Sep'
        assert not re.search(r"\"D MMM", text), path
    assert pickers == 5


def test_a_count_pointed_back_at_drops_its_one():
    """ui.the: 'all 1 phase of the 1 release' read wrong; one is 'the
    phase', 'the release', more keep their count and article."""
    from changeboard import ui
    assert ui.the(1, "release") == "the release"
    assert ui.the(2, "release") == "the 2 releases"
    assert ui.the(1, "phase", article="all") == "the phase"
    assert ui.the(1_234, "phase", article="all") == "all 1,234 phases"
    assert ui.the(1, "release", article="The") == "The release"
    assert ui.the(3, "release", article="The") == "The 3 releases"
    assert ui.the(2, "box", "boxes", article="All") == "All 2 boxes"


def test_counts_of_one_read_in_the_singular(app, monkeypatch):
    """A count of one before a plural noun read 'on 1 days', '1 releases',
    '(1 days)': with every count of the Overview's cards at one over a
    one-day period, each caption names the thing in the singular (ui.many),
    and counts of two stay plural."""
    import re
    from datetime import timedelta

    from changeboard import ui
    from tests.wording import slips_at_one
    cards = {"change_success_rate", "emergency_change_ratio",
             "deployment_frequency", "release_cadence_summary",
             "release_on_time", "environment_utilization_summary"}
    real, real_groups = ui.scoped, ui.scoped_groups

    def at(k, name, rows):
        if name.removesuffix(":previous") not in cards:
            return rows
        return rows.assign(**{c: k for c in rows.columns
                              if c == "n" or c.startswith("n_")
                              or c == "deploy_days"})

    def counts_at(k):
        def scoped(name, *args, **kwargs):
            return at(k, name, real(name, *args, **kwargs))
        return scoped

    def groups_at(k):  # the cards a groups query counts (changeboard/groups)
        def scoped_groups(name, *args, **kwargs):
            return {query: at(k, query, rows) for query, rows
                    in real_groups(name, *args, **kwargs).items()}
        return scoped_groups

    plural = re.compile(r"(?<![\d,.])1 ([a-z-]+ )?(days|changes|deployments|"
                        r"releases|gaps|environments|applications)\b")
    day = ui.today() - timedelta(days=8)
    app.query_params.update({"period": "custom", "from": day.isoformat(),
                             "to": day.isoformat()})
    for k in (1, 2):
        monkeypatch.setattr(ui, "scoped", counts_at(k))
        monkeypatch.setattr(ui, "scoped_groups", groups_at(k))
        app.run()
        assert not app.exception
        said = [c.value for c in app.caption] + [
            c.value for c in app.sidebar.caption]
        if k == 1:
            assert not [c for c in said if plural.search(c)], said
            assert any(f"({ui.many(1, 'day')}, UTC)" in c for c in said), \
                said
            assert any(c.startswith("n = 1 production deployment on 1 day")
                       for c in said), said
            # 'the 1 day before the period' pointed back at its one
            assert any("Deltas compare with the day before the period" in c
                       for c in said), said
            assert slips_at_one(said) == []
            assert any(c.startswith("n = 1 gap · 1 release of 1 application")
                       for c in said), said
        else:
            assert any(c.startswith("n = 2 production deployments on 2 days")
                       for c in said), said
            assert any(c.startswith("n = 2 gaps · 2 releases of 2 "
                                    "applications") for c in said), said


def test_a_rate_without_data_draws_no_trend_of_zeros(sample_db, tmp_path,
                                                     monkeypatch):
    """A source without close codes (BPIC 2014): the success and failure
    rate cards read n/a, but their small lines drew every month at 0 (a
    month's unknown rate filled with 0), a flat line of 0% success under
    the n/a. They now draw no line; the emergency ratio, known, still
    draws its months, and a count (deployments) still draws its zeros."""
    app, _ = app_on_a_copy(sample_db, tmp_path, monkeypatch,
                           without_close_codes)
    app.query_params["period"] = "last_365"
    app.run()
    assert not app.exception
    cards = {m.label: m for m in app.metric}
    for label in ("Change success rate", "Change failure rate"):
        assert cards[label].value == "n/a"
        assert list(cards[label].proto.chart_data) == [], label
    emergency = list(cards["Emergency ratio"].proto.chart_data)
    assert len(emergency) >= 6 and any(v > 0 for v in emergency)
    assert len(cards["Deployments per day"].proto.chart_data) > 0


@pytest.mark.parametrize(("card", "said"), [
    ("Change success rate", "changes were completed in this period (ended, "
     "or closed with no end recorded), but this source has no close codes"),
    ("Deployments per day", "no deployments are loaded: load "
     "`deployments.csv` on the Data page")])
def test_a_drill_behind_a_card_the_data_cannot_fill_says_why(
        sample_db, tmp_path, monkeypatch, card, said):
    """Change data alone without close codes (BPIC 2014), its whole range
    picked: the drill of the n/a success-rate and deployment cards said
    'Nothing to list ... Pick a longer period.', which could not help. It
    says what the card says: no close codes, no deployment loaded."""
    def change(con):
        without_close_codes(con)
        con.execute("delete from deployments")
    app, _ = app_on_a_copy(sample_db, tmp_path, monkeypatch, change)
    app.query_params.update({"period": "last_365", "drill": card})
    app.run()
    assert not app.exception
    shown = [i.value for i in app.info if i.value.startswith("Nothing")]
    assert len(shown) == 1 and said in shown[0], shown
    assert "longer period" not in shown[0]


def test_a_drill_with_no_failure_among_rated_changes_says_none_failed(
        sample_db, tmp_path, monkeypatch):
    """The failure rate's empty drill said "this source has no close codes"
    whenever one change of the period had none, beside changes rated and
    none failed: it says no record is behind the number."""
    def change(con):
        batch = con.execute("select coalesce(max(batch_id), 0) + 1 from "
                            "ingest_batches").fetchone()[0]
        con.execute("update changes set close_code = 'successful', "
                    "ingested_batch_id = $b where close_code is not null",
                    {"b": batch})
        con.execute("update changes set close_code = null, state = "
                    "'closed' where change_id = (select min(change_id) from "
                    "changes where close_code is not null and "
                    "actual_end_at >= current_date - 200)")
        for table in ("incidents", "deployments"):
            con.execute(f"delete from {table}")  # noqa: S608 - our names
    app, _ = app_on_a_copy(sample_db, tmp_path, monkeypatch, change)
    app.query_params.update({"period": "last_365",
                             "drill": "Change failure rate"})
    app.run()
    assert not app.exception
    shown = [i.value for i in app.info if i.value.startswith("Nothing")]
    assert shown == ["Nothing to list: no record is behind this card's "
                     "number. Pick a longer period."], shown


def test_every_change_type_kept_says_nothing_of_the_filter(app):
    app.query_params.update({"period": "last_365",
                             "change_types": "emergency,normal,standard"})
    app.run()
    assert not app.exception
    assert not [c.value for c in app.caption if "Change type filter" in
                c.value]


def test_every_records_table_shows_the_application_name_before_its_id(app):
    """The records behind the Emergency ratio, Median release interval and
    other cards come from queries that give application_id, then
    application_name: they showed the id first, where every other table
    puts the name first and its id after it (BPIC 2014's applications,
    without a name, read as an id beside an empty name). The downloads
    keep the query's columns."""
    app.query_params["period"] = "last_365"
    app.run()
    both = 0
    for label in [m.label for m in app.metric]:
        app.pills(key="drill").set_value(label).run()
        assert not app.exception, label
        if any(i.value.startswith("Nothing to list") for i in app.info):
            continue  # no record: no table (conflicts ahead, at times)
        columns = list(app.dataframe[-1].value.columns)
        if {"application_name", "application_id"} <= set(columns):
            both += 1
            assert columns.index("application_name") + 1 == columns.index(
                "application_id"), (label, columns)
    assert both >= 4


def test_a_download_is_named_without_spaces(app, monkeypatch):
    """The records behind a card downloaded as
    'emergency_change_records-emergency ratio.csv': a file name with a
    space, which a shell reading it splits. Every download's name is made
    of letters, digits, '_', '.' and '-'; ids keep their case. The XLSX's
    About sheet names its table as the file does (it read the stem with
    the space)."""
    import io

    import openpyxl
    import pandas as pd

    from changeboard import ui
    from tests.clicks import download_names, offered_files
    named = download_names(monkeypatch)
    offered = offered_files(monkeypatch)
    app.query_params["period"] = "last_365"
    app.run()
    app.pills(key="drill").set_value("Emergency ratio").run()
    assert not app.exception
    window = ui.window_for("last_365")
    days = (f"{window['start_date']}-to-"
            f"{window['end_date'] - timedelta(days=1)}")  # the period's
    assert f"emergency_change_records-emergency-ratio-{days}.csv" in named
    about = dict(openpyxl.load_workbook(io.BytesIO(offered[
        f"emergency_change_records-emergency-ratio-{days}.xlsx"]()))[
        "About"].iter_rows(values_only=True))
    assert about["Table"] == "emergency_change_records-emergency-ratio"
    # a query's rows in a CSV carry the data's as_of, as `changeboard
    # query` writes them (METRICS C10); the CSV has no About sheet to say it
    from changeboard import db
    with db.reading(config.DB_PATH) as con:
        as_of = pd.Timestamp(db.run(con, "data_status")["as_of"].iloc[0])
    rows = pd.read_csv(io.BytesIO(offered[
        f"emergency_change_records-emergency-ratio-{days}.csv"]()))
    assert len(rows) and set(rows["as_of"]) == {str(as_of)}, rows.columns
    assert named and all(re.fullmatch(r"[\w.-]+", n) for n in named), named
    assert ui.file_name("release-REL-1 phases") == "release-REL-1-phases"


def test_the_on_time_card_says_the_releases_without_a_plan_left_out(
        sample_db, monkeypatch, tmp_path):
    """On real data (endoflife.date beside BPIC 2014) the card read '100.0%
    · 7 of n = 7 on time' over a year in which 1,774 releases went live,
    1,767 of them without a planned date: it says how many it left out, as
    the Releases page does."""
    import shutil

    from changeboard import db

    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        batch = con.execute("select max(batch_id) + 1 from ingest_batches"
                            ).fetchone()[0]
        con.execute("update releases set planned_release_at = null, "
                    "ingested_batch_id = $b where release_id in (select "
                    "release_id from releases where status = 'released' and "
                    "coalesce(release_type, '') <> 'enterprise' and "
                    "actual_release_at >= now() - interval 300 days "
                    "order by release_id limit 3)", {"b": batch})
    monkeypatch.setattr(config, "DB_PATH", copy)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["period"] = "last_365"
    app.run()
    assert not app.exception
    from changeboard import ui
    with db.reading(copy) as con:
        row = db.run(con, "release_on_time", **ui.window_for("last_365")
                     ).iloc[0]
        before = db.run(con, "release_on_time", **ui.previous(
            ui.window_for("last_365"))).iloc[0]
    assert row["n_unclassified"] > 0
    from changeboard import charts
    small = (f" · before: n = {int(before['n']):,}"
             if before["n"] < charts.SMALL_N else "")
    under = {column.metric[0].label: [c.value for c in column.caption]
             for column in app.columns if len(column.metric) == 1}
    [on_time] = under["On-time release rate"]
    assert on_time == (
        f"{int(row['n_on_time']):,} of n = {int(row['n']):,} on time · "
        f"{int(row['n_overdue_open']):,} overdue, not live · "
        f"{int(row['n_unclassified']):,} without a planned date left out"
        + small)


def test_overview_cards_say_what_the_data_lacks(sample_db, monkeypatch,
                                                tmp_path):
    """Releases without a planned go-live date and no booking loaded: the
    On-time release rate read n/a over '0 of n = 0 on time' and Conflicts
    ahead read 0 over 'on 0 of 0 booked environments', as if measured.
    No period would fill them: each reads n/a and says what the data
    lacks and what to map or load."""
    import shutil

    from changeboard import db

    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:  # rows touched as a later load writes them
        batch = con.execute("select max(batch_id) + 1 from ingest_batches"
                            ).fetchone()[0]
        con.execute("update releases set planned_release_at = null, "
                    "ingested_batch_id = $b", {"b": batch})
        con.execute("delete from environment_bookings")
    monkeypatch.setattr(config, "DB_PATH", copy)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["period"] = "last_365"
    app.run()
    assert not app.exception
    cards = {m.label: m.value for m in app.metric}
    under = {column.metric[0].label: [c.value for c in column.caption]
             for column in app.columns if len(column.metric) == 1}
    assert cards["On-time release rate"] == cards["Conflicts ahead"] == "n/a"
    [on_time] = under["On-time release rate"]
    assert on_time.startswith(
        "n = 0 releases gone live with a plan · no release in the data has "
        "a planned go-live date (") and on_time.endswith(
        " releases without one): map `planned_release_at`"), on_time
    assert under["Conflicts ahead"] == [
        "next 90 days · no environment bookings are loaded: load "
        "`environment_bookings.csv` on the Data page"]
    # what is loaded is measured as before
    assert cards["Median release interval"] != "n/a"
    assert cards["Change success rate"] != "n/a"


def test_no_delta_against_a_period_before_with_nothing_in_it(app):
    """A ten-year custom period: the ten years before hold no deployment
    and no booking, and Deployments per day read '81.2 ↑ +81.2' and the
    utilisation '+12.8 pp', rises from nothing. A card whose period before
    counts n = 0 shows no delta."""
    from changeboard import ui
    end = ui.today()
    app.query_params.update(period="custom", to=end.isoformat(),
                            **{"from": (end - timedelta(days=3650))
                               .isoformat()})
    app.run()
    assert not app.exception
    cards = {m.label: m for m in app.metric}
    for label in ("Deployments per day", "Environment utilisation",
                  "Change success rate", "Emergency ratio"):
        assert cards[label].value != "n/a", label
        assert not cards[label].proto.delta, (label, cards[label].proto.delta)


def test_the_dora_note_names_the_cards_a_team_does_not_narrow(app):
    """With a team picked, the DORA section said "not filtered by team"
    over a recovery card that was the team's (its band was every team's:
    test_dora_metrics): the note names the deployment cards alone."""
    app.run()
    team = app.multiselect(key="filter-teams").options[0]
    app.multiselect(key="filter-teams").set_value([team]).run()
    app.switch_page("views/releases.py").run()
    assert not app.exception
    said = next(c.value for c in app.caption
                if c.value.startswith("Raw value first"))
    assert said.endswith(" · the deployment cards are not filtered by team "
                         "(a deployment has none); the recovery time card is "
                         "filtered"), said
    app.multiselect(key="filter-teams").set_value([]).run()
    said = next(c.value for c in app.caption
                if c.value.startswith("Raw value first"))
    assert "filtered" not in said


def test_durations_in_records_tables_read_to_a_tenth(app):
    """The Overview's records behind "Median release interval" showed
    17.2221 and 62.992 days where its card and the Releases page say 17.2:
    a records table gives days and hours to a tenth."""
    import json
    app.query_params.update(period="last_365", drill="Median release interval")
    app.run()
    assert not app.exception
    [table] = [d for d in app.dataframe
               if "median_gap_days" in d.value.columns]
    config_of = json.loads(table.proto.columns)
    assert config_of["median_gap_days"]["type_config"] == {
        "type": "number", "format": "%.1f"}
    assert config_of["median_gap_days"]["label"] == "Median gap days"


def test_the_overviews_definitions_are_named_by_their_cards(app):
    """"How is release cadence summary computed?" and "... environment
    utilization summary ..." named queries (and spelt utilisation as the
    card does not): each definition names the cards it explains."""
    app.run()
    labels = [e.label for e in app.expander if e.label.startswith("How ")]
    assert labels[:2] == [
        "How are “Change success rate” and “Change failure rate” computed?",
        "How is “Emergency ratio” computed?"]
    assert "How is “Environment utilisation” computed?" in labels
    assert not any("_" in label or "summary" in label for label in labels)


@pytest.mark.parametrize(("types", "said"), [
    ("emergency", "the Change type filter keeps emergency changes alone, "
     "so every change counted is one: clear it for the ratio"),
    ("normal", "the Change type filter leaves emergency changes out, so none "
     "is counted: clear it for the ratio"),
    ("emergency,normal", "the Change type filter leaves some types out, so "
     "the ratio is of the types kept")])
@pytest.mark.parametrize("page", ["overview", "changes"])
def test_the_emergency_ratio_says_when_the_type_filter_decides_it(
        app, page, types, said):
    """With Change type = Emergency the ratio read "100.0%, 35 of n = 35"
    and nothing said the filter made it so."""
    app.query_params.update({"period": "last_365", "change_types": types})
    if page != "overview":
        app.run()
        app.switch_page(f"views/{page}.py")
    app.run()
    assert not app.exception
    shown = [c.value for c in app.caption if said in c.value or
             said[0].upper() + said[1:] in c.value]
    assert len(shown) == 1, [c.value for c in app.caption]
    if page == "changes":  # a sentence among sentences
        assert f" {said[0].upper()}{said[1:]}." in shown[0], shown


def test_a_custom_period_past_the_datas_end_says_how_much_holds_none(app):
    """A link's 90 days from a day 17 days before the data ends read as a
    quiet quarter: the sidebar says the data ends, and how many days of
    the period hold none."""
    from changeboard import ui
    app.run()
    latest = ui.latest_record_day("latest_reported_at") or \
        ui.latest_record_day()

    def sidebar_past(days: int) -> list[str]:
        """The sidebar of a custom period ending `days` past the data."""
        fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        fresh.query_params.update({"period": "custom",
                                   "from": str(latest - timedelta(days=16)),
                                   "to": str(latest + timedelta(days=days))})
        fresh.run()
        assert not fresh.exception
        return [c.value for c in fresh.sidebar.caption]
    assert f"The data ends on {ui.day(latest)}: the last 73 days of the " \
        "period hold none." in sidebar_past(73)
    # one day: 'the last 1 day of the period hold none' (a walkthrough)
    assert f"The data ends on {ui.day(latest)}: the period's last day " \
        "holds none." in sidebar_past(1)


def test_all_data_says_no_delta_rather_than_the_days_before(app):
    app.query_params["period"] = "all"
    app.run()
    assert not app.exception
    assert any(c.value.startswith("No deltas: nothing comes before all the "
                                  "data. The small lines") for c in app.caption)
    assert not any(c.value.startswith("Deltas compare") for c in app.caption)


def test_all_data_says_the_changes_completed_after_its_last_day(
        sample_db, tmp_path, monkeypatch):
    """BPIC 2014 has ten changes closed by March 2014 whose recorded end
    runs to 2021: "All data" ends with the rest of the data and counted
    17,252 of 17,262 completed without a word. It says how many it leaves
    out."""
    import pandas as pd

    from changeboard import db, ui
    with db.reading(sample_db) as con:
        last = db.run(con, "data_status")["latest_reported_at"].iloc[0]

    def change(con):
        con.execute("update changes set actual_end_at = $at, "
                    "ingested_batch_id = (select max(batch_id) + 1 from "
                    "ingest_batches) where change_id = (select min(change_id) "
                    "from changes where close_code = 'successful')",
                    {"at": last + pd.Timedelta(days=400)})
    app, copy = app_on_a_copy(sample_db, tmp_path, monkeypatch, change)
    app.query_params["period"] = "all"
    app.run()
    assert not app.exception
    end = ui.all_days()[1]
    with db.reading(copy) as con:
        later = db.run(con, "emergency_change_ratio",
                       start_date=end + timedelta(days=1),
                       end_date=ui.date_max() + timedelta(days=1)).iloc[0]
    n = int(later["n"] + later["n_unclassified"])
    assert n >= 1
    said = [c.value for c in app.sidebar.caption if "completed after" in
            c.value]
    assert said == [f"{ui.many(n, 'change')} completed after {ui.day(end)} ("
                    + ("its end recorded later than the rest of the data) "
                       "is outside it: a custom range reaches it." if n == 1
                       else "their end recorded later than the rest of the "
                       "data) are outside it: a custom range reaches them.")]


def test_the_overviews_definitions_stand_alone_in_a_managers_words():
    """A manager opened "How is “Median release interval” computed?" and
    read "The same over all filtered applications ...", never what the
    interval is, and Conflicts ahead's box spoke of CPU: each card's
    definition says what it counts, without the engine's notes."""
    from changeboard import ui
    for name in ("release_cadence_summary", "environment_utilization_summary",
                 "booking_conflicts_summary"):
        text = ui.definition_text(name)
        assert text and not text.startswith("The same"), name
        assert not re.search(r"CPU|plotly|\bms\b", text), name
    assert "median release interval" in ui.definition_text(
        "release_cadence_summary")


def test_the_records_behind_a_card_count_one_in_the_singular(app,
                                                             monkeypatch):
    """'n = 1 conflicting booking pairs, next 90 days': each card's records
    now say one in the singular (ui.many), and more in the plural."""
    from changeboard import ui
    real = ui.scoped_part

    def one_record(name, *args, **kwargs):
        got = real(name, *args, **kwargs)
        return ui.Part(got.rows.head(1), 1, got.whole)

    monkeypatch.setattr(ui, "scoped_part", one_record)
    app.query_params["period"] = "last_365"
    app.run()
    said = {}
    for label in [m.label for m in app.metric]:
        app.pills(key="drill").set_value(label).run()
        assert not app.exception, label
        said[label] = next(c.value for c in app.caption
                           if c.value.startswith(("n = 1 ", "1 ")))
    assert said["Conflicts ahead"].startswith(
        "n = 1 conflicting booking pair, next 90 days, ")
    assert said["Change failure rate"].startswith(
        "n = 1 failed change (the rate's numerator), ")
    assert said["Environment utilisation"].startswith(
        "n = 1 environment (the card's n), ")
    # its rows are not the card's n (the gaps): no 'n =' before them
    assert said["Median release interval"].startswith(
        "1 application that released in the period, with the gaps of "
        "each (the card's n counts the gaps), ")
    assert not [s for s in said.values() if re.match(
        r"(n = )?1 [a-z ]*s\b", s) or " their " in s], said


def test_all_data_draws_no_delta_even_when_shortened(sample_db, tmp_path,
                                                     monkeypatch):
    """On real data spanning more than ten years, "All data" is shortened
    to its last 3,660 days and says so; the cards then drew a delta
    against the records before it (the Median release interval '↑ +102.5
    days' from 24 releases left out), under the caption "No deltas:
    nothing comes before all the data". All data draws none."""
    def two_old_releases(con):
        # a change created 12 years ago: All data is shortened to ten; two
        # releases 11 years ago, before its start, give the window before
        # it a release gap
        batch = ("(select coalesce(max(batch_id), 0) + 1 from "
                 "ingest_batches)")
        con.execute(
            "insert into changes (change_id, change_type, state, created_at,"
            " source, ingested_batch_id) values ('OLD-C', 'normal', 'new', "
            f"now() - interval 4400 day, 'csv', {batch})")
        con.execute(
            "insert into releases (release_id, name, status, application_id,"
            " release_type, planned_release_at, actual_release_at, source, "
            "ingested_batch_id) select 'OLD-' || i, 'Old ' || i, 'released',"
            " (select min(application_id) from releases), 'project', t, t, "
            f"'csv', {batch} from (values (1, now() - interval 4000 day), "
            "(2, now() - interval 3900 day)) as v (i, t)")

    app = all_data_on_a_copy(sample_db, tmp_path, monkeypatch,
                             two_old_releases)
    assert any("at most its last 3,660 days between" in w.value
               for w in app.warning)
    assert any(c.value.startswith("No deltas: nothing comes before")
               for c in app.caption)
    deltas = {m.label: m.delta for m in app.metric}
    assert not deltas["Median release interval"], deltas
    assert not any(deltas.values()), deltas


def test_all_data_reads_no_window_before_it(app, monkeypatch):
    """All data draws no delta, yet the Overview read each card's window
    before it (seven queries, or a groups query's $compare): at a million
    changes about a query's planning each. It reads the period alone;
    another period still reads both."""
    from changeboard import db, ui
    calls = []
    real = db.run

    def recorded(con, name, **params):
        calls.append((name, params))
        return real(con, name, **params)

    monkeypatch.setattr(db, "run", recorded)
    for period in ("all", "last_365"):
        calls.clear()
        # what other tests read is cached: each period's queries run here
        for cached in (ui._cached, ui._cached_groups, ui._cached_head):
            cached.clear()
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        app.query_params["period"] = period
        app.run()
        assert not app.exception
        start = ui.all_days()[0] if period == "all" else \
            ui.window_for(period)["start_date"]
        before = [(n, p) for n, p in calls if p.get("compare")
                  or p.get("end_date") == start]
        if period == "all":
            assert calls and not before, before
            assert not any(m.delta for m in app.metric)
        else:
            assert before  # the deltas' window before


def test_the_overviews_deployments_card_says_the_deployments_it_leaves_out(
        app):
    """The Releases page's deployment cards said the sample's failed deploy
    to production left out of their n = 21; the Overview's Deployments per
    day, of the same n, said nothing of it."""
    from changeboard import db, ui
    app.run()
    period = app.selectbox(key="period").value
    with db.reading(config.DB_PATH) as con:
        row = db.run(con, "deployment_frequency",
                     **ui.window_for(period)).iloc[0]
    excluded = int(row["n_excluded"])
    assert excluded > 0  # the sample has failed deploys to production
    said = (" · " + ui.many(excluded, "deploy to production",
                            "deploys to production")
            + " that failed to complete left out")
    assert any(c.value.startswith(f"n = {int(row['n']):,} production "
                                  "deployment") and c.value.endswith(said)
               for c in app.caption), [c.value for c in app.caption]


def test_the_overviews_small_lines_are_said_in_plain_words(app):
    """'the small lines show complete weeks (deployments: weeks), a rate's
    without a week of under 30 records and a tenth of its busiest' read as
    a riddle to a change manager: the caption says what a line is and which
    weeks a rate's line leaves out, as charts.sparkline does."""
    from changeboard import charts
    app.run()
    said = next(c.value for c in app.caption if "small lines" in c.value)
    assert said.endswith(
        ". The small lines are trends over complete weeks; a rate's line "
        f"leaves out a week of both fewer than {charts.SMALL_N} records and "
        "under a tenth of its busiest week's."), said


def test_each_trend_chart_has_the_numbers_it_draws_in_a_table(
        sample_db, monkeypatch):
    """A screen reader read the trend charts as their axis labels run
    together (an accessibility review), and a monthly report could not
    take a trend but by the CLI (a process owner's walkthrough): each
    chart without a table of its own has its numbers under it, in a table
    with its downloads, adding up to the page's headline."""
    from changeboard import db, ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    window = ui.window_for("last_365")
    with db.reading(sample_db) as con:
        success = db.run(con, "change_success_rate", **window).iloc[0]
        emergency = db.run(con, "emergency_change_ratio", **window).iloc[0]
        cadence = db.run(con, "release_cadence_summary", **window).iloc[0]
        on_time = db.run(con, "release_on_time", **window).iloc[0]
    # per table, in the page's order: a column and what it adds up to
    expected = {
        "overview": [("n", success["n"])],
        "changes": [("n", success["n"]),
                    ("n_emergency", emergency["n_emergency"])],
        "releases": [("n_releases", cadence["n_releases"]),
                     ("n", on_time["n"])]}
    for page, sums in expected.items():
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        app.query_params["period"] = "last_365"
        app.run()
        if page != "overview":
            app.switch_page(f"views/{page}.py").run()
        assert not app.exception
        tables = [e.dataframe[0].value for e in app.expander
                  if e.label == "The numbers behind the chart"]
        assert len(tables) == len(sums), page
        for table, (column, total) in zip(tables, sums, strict=True):
            assert len(table) > 1 and table[column].sum() == total, \
                (page, column)
        if page != "releases":  # the outcomes' failures, as the cards
            assert tables[0]["n_failed"].sum() == success["n_failed"]


def test_last_month_and_quarter_are_whole_calendar_periods(monkeypatch):
    """A monthly report asked for November: the presets were 30 or 90
    days back from today (a process owner's walkthrough). Last month and
    Last quarter are the last whole calendar month and quarter, today
    counting as ever; a window of whole months is compared with as many
    whole months before it, any other with as many days."""
    from datetime import date

    from changeboard import ui

    def window(period, today, data_ends=None):
        monkeypatch.setattr(ui, "today", lambda: today)
        w = ui.window_for(period, last_day=data_ends)
        return (w["start_date"], w["end_date"])

    d = date
    for period, today, data_ends, expected in [
        ("last_month", d(2026, 12, 7), None, (d(2026, 11, 1), d(2026, 12, 1))),
        # on a month's last day that month is not whole yet (a review):
        # the month before it
        ("last_month", d(2026, 11, 30), None, (d(2026, 10, 1), d(2026, 11, 1))),
        ("last_month", d(2026, 1, 15), None, (d(2025, 12, 1), d(2026, 1, 1))),
        ("last_quarter", d(2026, 12, 7), None, (d(2026, 7, 1), d(2026, 10, 1))),
        ("last_quarter", d(2026, 2, 1), None, (d(2025, 10, 1), d(2026, 1, 1))),
        ("last_quarter", d(2026, 3, 31), None, (d(2025, 10, 1), d(2026, 1, 1))),
        # data that ends on a month's last day: that month is its last
        # whole one; mid-month, the one before
        ("last_month", d(2026, 12, 7), d(2014, 3, 31),
         (d(2014, 3, 1), d(2014, 4, 1))),
        ("last_month", d(2026, 12, 7), d(2014, 3, 15),
         (d(2014, 2, 1), d(2014, 3, 1))),
        ("last_quarter", d(2026, 12, 7), d(2014, 3, 31),
         (d(2014, 1, 1), d(2014, 4, 1)))]:
        assert window(period, today, data_ends) == expected, \
            (period, today, data_ends)
    november = {"start_date": date(2026, 11, 1), "end_date": date(2026, 12, 1)}
    assert ui.calendar_months("last_month", november) == 1
    assert ui.calendar_months("custom", november) == 1
    assert ui.previous(november, 1) == {"start_date": date(2026, 10, 1),
                                        "end_date": date(2026, 11, 1)}
    assert ui.previous_said(november, 1) == "Oct 2026, the month before"
    # the last 30 days on 30 November, or the year to date on 31 December,
    # are whole months but compare by days (a review)
    assert ui.calendar_months("last_30", november) == 0
    assert ui.calendar_months("ytd", {"start_date": date(2026, 1, 1),
                                      "end_date": date(2027, 1, 1)}) == 0
    assert ui.previous(november) == {"start_date": date(2026, 10, 2),
                                     "end_date": date(2026, 11, 1)}
    assert ui.previous_said(november) == "the 30 days before the period"
    q3 = {"start_date": date(2026, 7, 1), "end_date": date(2026, 10, 1)}
    assert ui.calendar_months("last_quarter", q3) == 3
    assert ui.previous(q3, 3) == {"start_date": date(2026, 4, 1),
                                  "end_date": date(2026, 7, 1)}
    assert ui.previous_said(q3, 3) == \
        "01 Apr 2026 – 30 Jun 2026, the 3 months before"
    days = {"start_date": date(2026, 11, 2), "end_date": date(2026, 12, 2)}
    assert ui.calendar_months("custom", days) == 0
    assert ui.previous(days) == {"start_date": date(2026, 10, 3),
                                 "end_date": date(2026, 11, 2)}


def test_last_months_deltas_compare_with_the_month_before(sample_db,
                                                          monkeypatch):
    """November's success rate read '+0.3 pp' against 2-31 October; the
    calendar October gave +0.06 (a process owner's walkthrough). Last
    month's cards compare with the whole month before it, and say so."""
    from changeboard import charts, db, ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "last_month"
    app.run()
    assert not app.exception
    window = ui.window_for("last_month")
    before = ui.previous(window, 1)
    assert before["end_date"] == window["start_date"] and \
        before["start_date"].day == 1
    assert any(c.value.startswith(
        f"Deltas compare with {before['start_date']:%b %Y}, the month "
        "before.") for c in app.caption)
    with db.reading(sample_db) as con:
        now, then = (db.run(con, "change_success_rate", **w).iloc[0]
                     for w in (window, before))
    card = next(m for m in app.metric if m.label == "Change success rate")
    assert card.value == ui.pct(now["change_success_rate"])
    expected = ui.delta_points(now["change_success_rate"],
                               then["change_success_rate"])
    assert card.delta == expected
    # October's own n under the card, when it is small
    small = f" · before: n = {int(then['n']):,}"
    assert (small in card_caption(app, "Change success rate")) == (
        then["n"] < charts.SMALL_N)


def test_the_overviews_cards_download_as_a_table(sample_db, monkeypatch):
    """A monthly report took the cards' numbers by hand: nothing of the
    Overview's cards could be downloaded (a process owner's walkthrough).
    Its cards are offered as a file: a row each, as the card shows it,
    with its n, the period before's value and n, and the dates."""
    import pandas as pd

    from changeboard import db, ui
    offered = {}
    monkeypatch.setattr(ui, "downloads", lambda frame, stem, **_:
                        offered.setdefault(stem, frame))
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "last_month"
    app.run()
    assert not app.exception
    rows = offered["overview-cards"]
    cards = {m.label: m for m in app.metric}
    assert list(rows["kpi"]) == list(cards)
    assert list(rows["value"]) == [m.value for m in cards.values()]
    assert [d if isinstance(d, str) else "" for d in rows["delta"]] == [
        m.delta or "" for m in cards.values()]
    window = ui.window_for("last_month")
    before = ui.previous(window, 1)
    with db.reading(sample_db) as con:
        now, then = (db.run(con, "change_success_rate", **w).iloc[0]
                     for w in (window, before))
    success = rows.set_index("kpi").loc["Change success rate"]
    assert (success["n"], success["n_before"]) == (now["n"], then["n"])
    assert success["value_before"] == ui.pct(then["change_success_rate"])
    assert (success["start_date"], success["before_start_date"]) == (
        window["start_date"], before["start_date"])
    # its value as a number too, a rate as a share (an analyst could not
    # reckon with '89.1%': a new user's walkthrough)
    assert (success["number"], success["number_before"]) == (
        pytest.approx(now["change_success_rate"]),
        pytest.approx(then["change_success_rate"]))
    assert success["unit"] == "share (0-1)"
    for _, row in rows.iterrows():
        assert pd.isna(row["number"]) == (row["value"] == "n/a"), row["kpi"]
        assert row["unit"], row["kpi"]
    # the card's caption, its n said as the card says it
    assert success["note"].startswith(
        f"n = {ui.many(now['n'], 'implemented change')}")
    # each card's n is the one its caption says (utilisation's read 87,
    # its caption 162 environments: a re-check)
    for _, row in rows.iterrows():
        if pd.notna(row["n"]):
            assert f"{int(row['n']):,} " in row["note"], (row["kpi"],
                                                         row["n"])


def test_all_data_reads_no_window_before_it_whatever_its_shape(
        sample_db, monkeypatch):
    """All data of whole months (BPIC 2014's) read the five groups queries
    for the months before it, which nothing compares with (a review)."""
    from changeboard import ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    read = []
    real = ui.scoped_groups

    def recording(name, window, filters, **extra):
        read.append((name, window["start_date"], extra))
        return real(name, window, filters, **extra)
    monkeypatch.setattr(ui, "scoped_groups", recording)
    # the sample's first change to its last, as whole months
    monkeypatch.setattr(ui, "all_days", lambda: (date(2024, 1, 1),
                                                 date(2026, 11, 30)))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "all"
    app.run()
    assert not app.exception
    assert read and {start for _, start, _ in read} == {date(2024, 1, 1)}
    assert not any(extra.get("compare") for _, _, extra in read)
    assert any(c.value.startswith("No deltas") for c in app.caption)


def test_last_month_says_when_the_data_ends_inside_it(sample_db,
                                                      monkeypatch):
    """With records ending on the 20th, Last month was compared with all of
    the month before, nothing said (a re-check): the sidebar says how many
    of its days hold no data, as a custom range's does."""
    from datetime import timedelta

    from changeboard import ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    window = ui.window_for("last_month")
    ends = window["end_date"] - timedelta(days=11)
    monkeypatch.setattr(ui, "data_last_day", lambda: ends)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "last_month"
    app.run()
    assert not app.exception
    said = [c.value for c in app.sidebar.caption]
    assert f"The data ends on {ui.day(ends)}: the last 10 days of the " \
        "period hold none." in said, said


def test_a_few_deployments_a_day_read_as_more_than_none(app):
    """One production deployment in 90 days (an application's) read
    'Deployments per day 0.0' beside 'n = 1 production deployment', with a
    grey '0.0' delta: under 0.1 the card shows two significant digits, and
    its delta as many decimals."""
    from changeboard import db, ui
    window = ui.window_for("last_90")
    with db.reading(config.DB_PATH) as con:
        ids = con.execute("select application_id from applications"
                          " order by 1").fetchall()
        rates = {a: db.run(con, "deployment_frequency", **window,
                           application_ids=[a]).iloc[0] for (a,) in ids}
    rare = [(a, r) for a, r in rates.items()
            if r["n"] > 0 and r["deployments_per_day"] < 0.05]
    assert rare, "the sample has an application deploying rarely"
    application_id, row = rare[0]
    app.query_params.update({"period": "last_90",
                             "application_ids": application_id})
    app.run()
    assert not app.exception
    card = next(m for m in app.metric if m.label == "Deployments per day")
    assert card.value == ui.per_period(row["deployments_per_day"])
    assert float(card.value) == pytest.approx(row["deployments_per_day"],
                                              rel=0.05)
    assert ui.per_period(1 / 90) == "0.011"
    assert ui.per_period(0.3) == "0.3" and ui.per_period(0) == "0.0"
    assert ui.delta_number(1 / 90, 2 / 90,
                           ui.per_period_digits(1 / 90, 2 / 90)) == "-0.011"
