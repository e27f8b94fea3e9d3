"""The Releases page and release_timeline: given rows, AppTest."""
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db, ui
from tests.clicks import open_page

TIMELINE_PAGE = 20  # releases a page of the timeline draws (PAGE_SIZE)

ROOT = Path(__file__).resolve().parents[1]
JAN = {"start_date": "2026-01-01", "end_date": "2026-02-01",
       "as_of": "2026-03-01 00:00Z"}


def release(release_id, app="A1", **extra):
    return {"release_id": release_id, "name": f"name {release_id}",
            "status": "released", "release_type": "project",
            "application_id": app, **extra}


def phase(release_id, name, planned, actual=(None, None)):
    return {"release_id": release_id, "phase": name,
            "planned_start_at": planned[0], "planned_end_at": planned[1],
            "actual_start_at": actual[0], "actual_end_at": actual[1]}


def test_a_release_meeting_the_window_comes_with_all_its_phases_in_order(
        con, given):
    given("releases", [release("R1")])
    given("release_phases", [
        phase("R1", "uat", ("2026-01-10 00:00Z", "2026-01-20 00:00Z"),
              ("2026-01-11 00:00Z", "2026-01-22 12:00Z")),
        phase("R1", "dev", ("2025-11-01 00:00Z", "2025-12-01 00:00Z"),
              ("2025-11-01 00:00Z", "2025-12-01 00:00Z")),
    ])
    rows = db.run(con, "release_timeline", **JAN)
    assert rows[["phase", "phase_order", "end_slip_days"]].to_dict(
        "records") == [
        {"phase": "dev", "phase_order": 1, "end_slip_days": 0.0},
        {"phase": "uat", "phase_order": 2, "end_slip_days": 2.5},
    ]
    assert rows.loc[0, "release_name"] == "name R1"


def test_a_release_ending_exactly_at_the_window_start_is_outside(con, given):
    given("releases", [release("R1"), release("R2"), release("R3")])
    given("release_phases", [
        phase("R1", "dev", ("2025-12-01 00:00Z", "2026-01-01 00:00Z")),
        phase("R2", "dev", ("2025-12-01 00:00Z", "2026-01-01 00:00:01Z")),
        phase("R3", "dev", ("2026-02-01 00:00Z", "2026-02-10 00:00Z")),
    ])
    rows = db.run(con, "release_timeline", **JAN)
    assert list(rows["release_id"]) == ["R2"]


def test_a_late_actual_phase_brings_its_release_into_the_window(con, given):
    given("releases", [release("R1")])
    given("release_phases", [
        phase("R1", "sit", ("2025-12-01 00:00Z", "2025-12-20 00:00Z"),
              ("2025-12-05 00:00Z", "2026-01-03 00:00Z")),
    ])
    assert list(db.run(con, "release_timeline", **JAN)["release_id"]) == \
        ["R1"]


def test_a_phase_in_progress_is_drawn_up_to_as_of(con, given):
    given("releases", [release("R1", status="in_progress")])
    given("release_phases", [
        phase("R1", "uat", ("2025-11-01 00:00Z", "2025-12-01 00:00Z"),
              ("2025-11-02 00:00Z", None)),
    ])
    row = db.run(con, "release_timeline", **JAN).iloc[0]
    assert bool(row["is_in_progress"])
    assert str(row["shown_actual_end_at"]) == "2026-03-01 00:00:00+00:00"
    assert row["end_slip_days"] != row["end_slip_days"]  # NULL


def test_the_timeline_follows_the_application_filter(con, given):
    given("applications", [{"application_id": "A1", "name": "One",
                            "portfolio": "P1"},
                           {"application_id": "A2", "name": "Two",
                            "portfolio": "P2"}])
    given("releases", [release("R1"), release("R2", app="A2")])
    given("release_phases", [
        phase(r, "dev", ("2026-01-05 00:00Z", "2026-01-06 00:00Z"))
        for r in ("R1", "R2")])
    assert list(db.run(con, "release_timeline", **JAN,
                       application_ids=["A2"])["release_id"]) == ["R2"]
    rows = db.run(con, "release_timeline", **JAN, portfolios=["P1"])
    assert list(rows["application_name"]) == ["One"]


@pytest.mark.parametrize("name", ["release_timeline"])
def test_my_queries_run_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2025-01-01",
                      end_date="2027-01-01")
    assert len(rows) > 0


# --- the page -------------------------------------------------------------------

def page(sample_db, monkeypatch, **url):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params.update({"period": "last_365", **url})
    return app.switch_page("views/releases.py").run()


@pytest.fixture
def app(sample_db, monkeypatch):
    return page(sample_db, monkeypatch)


def test_the_deployment_failure_rate_says_it_counts_every_incident(
        sample_db, monkeypatch):
    """DORA's deployment failure rate counts an incident of any priority,
    whatever CHANGEBOARD_FAILURE_MIN_PRIORITY: its help says so, and what
    the Overview's rate counts under the setting (a review: the setting
    was said to hold on every page)."""
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "2")
    app = page(sample_db, monkeypatch)
    assert not app.exception
    [failure] = [m for m in app.metric if m.label == "Deployment failure rate"]
    assert "followed by an incident of any priority" in failure.help
    assert failure.help.endswith(
        "counts change requests, failed by a linked P1–P2 incident.")


def card_caption(app, label: str) -> str:
    """The one caption under the card of this label (a DORA card)."""
    [column] = [c for c in app.columns if len(c.metric) == 1
                and c.metric[0].label == label]
    [caption] = [c.value for c in column.caption]
    return caption


def captions(app) -> str:
    return " ".join(c.value for c in app.caption)


def test_releases_page_renders_every_section(app):
    assert not app.exception
    assert [s.value for s in app.header] == [
        "Release cadence", "On-time releases", "Release timeline",
        "DORA key metrics"]
    labels = [m.label for m in app.metric]
    assert "On-time rate" in labels and "Deployment frequency" in labels
    text = captions(app)
    assert "interpretation" in " ".join(m.value for m in app.markdown) + text
    # the band set in words; no internal names in the panel (the "How is
    # this computed?" expander names the query for analysts, on purpose)
    assert "DORA 2023 as Apache DevLake bands it" in text
    shown = " ".join(c.value for c in app.caption
                     if not c.value.startswith("Query:")) + " ".join(
        m.label for m in app.metric)
    assert "dora2023-devlake" not in shown and "dora_summary" not in shown
    # 'Deployment failure rate (DORA)' did not fit a quarter of the page at
    # 1280 pixels: the panel's heading says DORA, the card's help what it is
    [failure] = [m for m in app.metric if m.label == "Deployment failure rate"]
    assert failure.help.startswith("DORA's change failure rate, counted per "
                                   "production deployment")
    assert "n = " in text


def test_a_filter_changes_the_numbers(app, sample_db, monkeypatch):
    with db.connect(sample_db, read_only=True) as con:
        busiest = db.run(con, "release_cadence", start_date="2025-01-01",
                         end_date="2027-01-01").sort_values(
            "n_releases").iloc[-1]["application_id"]
    narrowed = page(sample_db, monkeypatch, application_ids=busiest)
    assert not narrowed.exception
    assert narrowed.multiselect(key="filter-application_ids").value == \
        [busiest]
    assert [m.value for m in narrowed.metric] != \
        [m.value for m in app.metric]


def test_picking_an_application_shows_its_releases(app):
    box = app.selectbox(key="release_app")
    box.select(box.options[1]).run()
    assert not app.exception
    records = next(d.value for d in app.dataframe
                   if "Counted as" in d.value.columns)
    assert len(records) > 0
    assert set(records["Application"]) == {box.options[1]}


def test_the_view_round_trips_through_the_url(sample_db, monkeypatch):
    app = page(sample_db, monkeypatch, tolerance_days="3",
               release_app="All releases in the period")
    assert not app.exception
    assert app.number_input(key="tolerance_days").value == 3
    assert app.selectbox(key="release_app").value == \
        "All releases in the period"
    assert "+3 days tolerance" in captions(app)


# --- the timeline a page at a time (issue 12) ------------------------------------

def test_a_page_of_the_timeline_is_that_slice_of_releases_and_the_summary_counts_all(
        con, given):
    given("releases", [release(f"R{i}") for i in range(1, 6)])
    given("release_phases", [
        # R5 starts first; R2 is in progress; R4 ends before the window
        phase("R1", "dev", ("2026-01-03 00:00Z", "2026-01-04 00:00Z")),
        phase("R1", "uat", ("2026-01-05 00:00Z", "2026-01-06 00:00Z")),
        phase("R2", "dev", ("2026-01-04 00:00Z", "2026-01-05 00:00Z"),
              ("2026-01-04 00:00Z", None)),
        phase("R3", "dev", ("2026-01-06 00:00Z", "2026-01-07 00:00Z")),
        phase("R4", "dev", ("2025-11-01 00:00Z", "2025-12-01 00:00Z")),
        phase("R5", "dev", ("2025-12-20 00:00Z", "2026-01-02 00:00Z")),
    ])
    whole = db.run(con, "release_timeline", **JAN)
    assert list(dict.fromkeys(whole["release_id"])) == ["R5", "R1", "R2",
                                                         "R3"]
    part = db.run(con, "release_timeline", **JAN, release_offset=1,
                  release_limit=2)
    pd.testing.assert_frame_equal(part, whole[whole["release_id"].isin(
        ["R1", "R2"])].reset_index(drop=True))
    assert list(db.run(con, "release_timeline", **JAN, release_offset=3,
                       release_limit=20)["release_id"]) == ["R3"]
    summary = db.run(con, "release_timeline_summary", **JAN).iloc[0]
    assert (summary["n_releases"], summary["n_phases"],
            summary["n_in_progress"]) == (4, 5, 1)


def test_the_summary_counts_the_releases_ended_before_the_first_open_one(
        con, given):
    """n_ended_first: the releases, in timeline order, before the first one
    with a phase in progress or a span ending after as_of (all of them
    when every one has ended): the page opens there."""
    given("releases", [release(f"R{i}") for i in range(1, 5)])
    given("release_phases", [
        # in timeline order: R4, R1, R2 (in progress from 5 Jan), R3
        phase("R4", "dev", ("2026-01-01 00:00Z", "2026-01-02 00:00Z")),
        phase("R1", "dev", ("2026-01-03 00:00Z", "2026-01-04 00:00Z")),
        phase("R2", "dev", ("2026-01-05 00:00Z", "2026-01-06 00:00Z"),
              ("2026-01-05 00:00Z", None)),
        phase("R3", "dev", ("2026-01-07 00:00Z", "2026-01-20 00:00Z")),
    ])

    def ended_first(as_of: str) -> int:
        return int(db.run(con, "release_timeline_summary",
                          **{**JAN, "as_of": as_of}).iloc[0]["n_ended_first"])
    assert ended_first("2026-03-01 00:00Z") == 2  # R2 still in progress
    assert ended_first("2026-01-03 12:00Z") == 1  # R1 under way
    assert ended_first("2026-01-02 00:00Z") == 1  # R4 ends at as_of
    assert ended_first("2026-01-01 12:00Z") == 0
    con.execute("update release_phases set actual_end_at = "
                "'2026-01-06 00:00Z' where release_id = 'R2'")
    assert ended_first("2026-03-01 00:00Z") == 4  # every one has ended


def test_the_timeline_opens_on_the_first_release_still_under_way(
        sample_db, monkeypatch):
    """A long period's timeline opened on its oldest releases, long over:
    it opens on the page of the first release with a phase in progress or
    ahead at the as-of time, starting there, or a full page ending on the
    last release when that one is within the last page (2 releases drew
    the second alone: a release manager's walkthrough)."""
    app = page(sample_db, monkeypatch, period="all")
    pick = app.selectbox(key="timeline_page")
    # the release by its name, as the chart labels it, and its place
    said = re.search(r"(Opens on )?(.+?), no\. ([\d,]+) by first phase "
                     r"start,( is)? the first still under way or ahead; the "
                     r"([\d,]+) before it have ended", captions(app))
    assert said, captions(app)
    live = int(said.group(3).replace(",", ""))
    assert int(said.group(5).replace(",", "")) == live - 1 > 0
    assert bool(said.group(1)) != bool(said.group(4))
    assert pick.index > 0
    first, last = (int(n.replace(",", "")) for n in
                   pick.options[pick.index].split(" of ")[0].split("–"))
    n = int(pick.options[pick.index].split(" of ")[1].split()[0]
            .replace(",", ""))
    assert first <= live <= last
    # it starts there, or is a full page to the last release
    assert first == live if said.group(1) else \
        (last, last - first + 1) == (n, TIMELINE_PAGE)
    shown = next(d.value for d in app.dataframe
                 if "Phase" in d.value.columns
                 and "In progress" in d.value.columns)
    release = list(dict.fromkeys(shown["Release"]))[live - first]
    # named as drawn, as data (not Markdown)
    assert said.group(2).endswith(ui.plain(f"({release})"))
    phases = shown[shown["Release"] == release]
    # that release has a phase in progress or not yet ended
    assert phases["In progress"].any() or (
        phases["Planned end"].max() > pd.Timestamp.now(tz="UTC")), phases


def test_a_few_releases_are_drawn_on_one_page_of_the_timeline(
        tmp_path, monkeypatch):
    """Two releases in a period drew only the second, the first still under
    way, under 'Releases shown: 2–2 of 2' (a release manager's
    walkthrough): releases that fit on one page are drawn on it, and the
    caption says which is the first still under way."""
    from datetime import UTC, datetime, timedelta

    from tests.rows import insert_rows
    now = datetime.now(UTC).replace(microsecond=0)

    def at(days: int) -> str:
        return (now + timedelta(days=days)).isoformat()
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        insert_rows(con, "releases", [release(f"R{i}") for i in (1, 2, 3)])
        insert_rows(con, "release_phases", [
            phase("R1", "dev", (at(-60), at(-50)), (at(-60), at(-50))),
            phase("R2", "dev", (at(-40), at(-30)), (at(-40), at(-31))),
            phase("R3", "dev", (at(-5), at(5)), (at(-5), None))])
    app = page(path, monkeypatch, period="last_90")
    assert not app.exception
    assert app.selectbox(key="timeline_page").options == [
        "1–3 of 3 (by first phase start)"]
    assert ui.plain("R3 (R3)") + ", no. 3 by first phase start, is the " \
        "first still under way or ahead; the 2 before it have ended." in \
        captions(app)
    shown = next(d.value for d in app.dataframe
                 if "Phase" in d.value.columns
                 and "In progress" in d.value.columns)
    assert shown["Release"].nunique() == 3


def test_the_timeline_opens_afresh_for_another_period(sample_db,
                                                      monkeypatch):
    """Last 90 days' timeline paged on, then Last 12 months: the pick kept
    the old page, its label counting the old period's releases ('700-719
    of 8,453' over 24,920) and the chart drawing them (a walkthrough at a
    million changes). Another period opens the timeline as it opens."""
    fresh = page(sample_db, monkeypatch)  # last 365 days
    opened = fresh.selectbox(key="timeline_page")
    app = page(sample_db, monkeypatch, period="all")
    pick = app.selectbox(key="timeline_page")
    assert len(pick.options) > 1
    later = (pick.index + 1) % len(pick.options)
    pick.set_value(later).run()
    assert app.selectbox(key="timeline_page").index == later
    app.selectbox(key="period").select("last_365").run()
    assert not app.exception
    moved = app.selectbox(key="timeline_page")
    assert (moved.options, moved.index) == (opened.options, opened.index)


def test_the_page_draws_one_page_of_the_timeline(app):
    table = next(d.value for d in app.dataframe
                 if "Phase" in d.value.columns
                 and "In progress" in d.value.columns)
    assert 0 < table["Release"].nunique() <= 20
    assert any(e.label.startswith("The ") and re.search(
        r"phases of releases? [\d,]+", e.label) for e in app.expander)


def test_the_timeline_downloads_offer_every_phase_of_the_period(
        sample_db, monkeypatch):
    # the table shows one page of releases; its downloads are read when
    # clicked and hold every phase of every release of the period (all the
    # data: some days the last year's releases fit on one page)
    app = page(sample_db, monkeypatch, period="all")
    text = captions(app)
    said = re.search(r"The downloads hold all ([\d,]+) phases of the "
                     r"([\d,]+) releases", text)
    assert said, text
    phases, releases = (int(g.replace(",", "")) for g in said.groups())
    shown = next(d.value for d in app.dataframe
                 if "Phase" in d.value.columns
                 and "In progress" in d.value.columns)
    assert releases > shown["Release"].nunique() and phases > len(shown)


def _releases_page(sample_db, tmp_path, monkeypatch, *rewrites: str
                   ) -> AppTest:
    """The Releases page over the last year, on a copy of the sample
    rewritten by these statements."""
    import shutil
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        for statement in rewrites:
            con.execute(statement)
    monkeypatch.setattr(config, "DB_PATH", copy)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "last_365"
    app.switch_page("views/releases.py").run()
    assert not app.exception
    return app


def _nothing_live(sample_db, tmp_path, monkeypatch) -> AppTest:
    """The Releases page over the last year, on a copy of the sample where
    nothing went live: every release slipped."""
    return _releases_page(
        sample_db, tmp_path, monkeypatch,
        "update releases set actual_release_at = null, status = 'planned', "
        "ingested_batch_id = (select max(batch_id) + 1 from ingest_batches) "
        "where status = 'released'")


def test_overdue_releases_are_shown_when_none_went_live(sample_db, tmp_path,
                                                        monkeypatch):
    """With nothing gone live in the period the on-time section said only
    'widen the dates', hiding the overdue releases the query counts; the
    per-application table dropped applications whose releases are all
    overdue."""
    app = _nothing_live(sample_db, tmp_path, monkeypatch)
    overdue = next(m for m in app.metric if m.label == "Overdue, not live")
    assert int(overdue.value.replace(",", "")) > 0
    assert next(m for m in app.metric if m.label == "On-time rate"
                ).value == "n/a"
    table = next(d.value for d in app.dataframe
                 if "Overdue, not live" in d.value.columns)
    assert table["Overdue, not live"].sum() == int(
        overdue.value.replace(",", ""))


def test_a_median_without_data_reads_n_a_not_n_a_days(sample_db, tmp_path,
                                                        monkeypatch):
    """With nothing gone live the slip medians are NULL (C5): their cards
    read 'n/a days'; they read n/a, as every other card without data."""
    app = _nothing_live(sample_db, tmp_path, monkeypatch)
    values = {m.label: m.value for m in app.metric}
    assert values["Median slip"] == "n/a"
    assert values["Median slip of late releases"] == "n/a"
    assert not [v for v in values.values() if "n/a " in v]


def _a_third_never_went_live(sample_db, tmp_path) -> Path:
    """A copy of the sample where a third of the releases gone live are
    still in progress: overdue, not live."""
    import shutil
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        con.execute("update releases set actual_release_at = null, status = "
                    "'in_progress', ingested_batch_id = (select max(batch_id)"
                    " + 1 from ingest_batches) where status = 'released' and "
                    "hash(release_id) % 3 = 0")
    return copy


def test_the_overdue_card_lists_the_releases_it_counts(sample_db, tmp_path,
                                                       monkeypatch):
    """"Overdue, not live" could not be drilled into: the records listed
    only releases gone live. Under the cards, its releases are listed (the
    card's rule, so as many rows as it counts), with downloads, whatever
    the filters."""
    from changeboard import ui
    copy = _a_third_never_went_live(sample_db, tmp_path)
    # and every release of the application with the most gone live, so the
    # filtered card counts several whatever day the sample is laid out from
    with db.publish(copy) as con:
        app_id = con.execute(
            "select application_id from releases where status = 'released' "
            "group by all order by count(*) desc, application_id limit 1"
        ).fetchone()[0]
        con.execute("update releases set actual_release_at = null, status = "
                    "'in_progress', ingested_batch_id = (select max(batch_id)"
                    " + 1 from ingest_batches) where status = 'released' and "
                    "application_id = $app", {"app": app_id})
    for url in ({}, {"application_ids": app_id}):
        app = page(copy, monkeypatch, **url)
        assert not app.exception
        card = next(m for m in app.metric if m.label == "Overdue, not live")
        n = int(card.value.replace(",", ""))
        assert n > 1
        [listing] = [e for e in app.expander
                     if e.label == f"The {n:,} releases overdue, not live"]
        [table] = [d.value for d in listing.dataframe]
        assert len(table) == n and table["Release"].is_unique
        assert list(table.columns) == [
            "Release", "Name", "Application", "Status", "Type",
            "Planned go-live (UTC)", "Overdue (days)"]
        assert (table["Overdue (days)"] >= 0).all()
        assert f"{n:,} releases not live" in " ".join(
            c.value for c in listing.caption)
        assert [b.label for b in listing.get("download_button")] == [
            "CSV", "XLSX"]
        filters = {"application_ids": [app_id]} if url else {}
        whole = ui.scoped_part("release_records", ui.window_for("last_365"),
                               filters, kind="overdue_open").whole()
        assert len(whole) == n and set(whole["release_id"]) == set(
            table["Release"])
        if url:
            assert set(whole["application_id"]) == {app_id}


def test_release_lists_read_statuses_and_types_as_words(sample_db, tmp_path,
                                                        monkeypatch):
    """The overdue list and the releases behind the numbers showed raw codes
    (in_progress, project, released): their columns were renamed to the
    page's labels before ui.table, which turns codes into words only under
    their own names. They read as words, as on every other page."""
    from changeboard import ui
    copy = _a_third_never_went_live(sample_db, tmp_path)
    app = page(copy, monkeypatch, release_app="All releases in the period")
    assert not app.exception
    [listing] = [e for e in app.expander
                 if e.label.endswith("releases overdue, not live")]
    [overdue] = [d.value for d in listing.dataframe]
    assert "In progress" in set(overdue["Status"])
    records = next(d.value for d in app.dataframe
                   if "Counted as" in d.value.columns)
    for table, columns in ((overdue, ["Status", "Type"]),
                           (records, ["Status", "Type", "Counted as"])):
        for column in columns:
            values = set(table[column].dropna())
            assert values and values == {ui.word(v) for v in values}, \
                (column, values)



def _on_time_by_application(app) -> tuple[pd.DataFrame, set[str]]:
    """The per-application on-time table, and the applications its chart
    draws a bar for."""
    import json
    table = next(d.value for d in app.dataframe
                 if "On-time rate" in d.value.columns
                 and "Application" in d.value.columns)
    chart = next(c for c in app.get("plotly_chart")
                 if "on-time-chart" in (c.proto.id or "")
                 or "on-time-chart" in (getattr(c, "key", "") or ""))
    bars = json.loads(chart.proto.spec)["data"]
    return table, set().union(*(set(trace["y"]) for trace in bars))

def test_an_on_time_chart_of_many_applications_draws_the_largest(
        sample_db, tmp_path, monkeypatch):
    """At a million changes the per-application on-time chart drew all 330
    applications, some 8,000 px tall: it draws the 30 with the most
    releases gone live, says so, and the table still lists every one."""
    app = _releases_page(   # 45 applications, each gone live lately
        sample_db, tmp_path, monkeypatch,
        "insert into applications (application_id, name) select 'APP-M' || "
        "i, 'Many ' || lpad(i::varchar, 2, '0') from range(45) as t(i)",
        "update releases set application_id = 'APP-M' || (r.k % 45), "
        "actual_release_at = now() - to_days(cast(r.k as integer)), "
        "planned_release_at = now() - to_days(cast(r.k % 3 as integer)), "
        "ingested_batch_id = (select max(batch_id) + 1 from ingest_batches) "
        "from (select release_id, row_number() over (order by release_id) "
        "as k from releases where actual_release_at is not null) as r "
        "where releases.release_id = r.release_id")
    table, drawn = _on_time_by_application(app)
    assert len(table) > 30
    assert drawn == set(table.nlargest(30, "Released (n)")["Application"])
    assert f"The chart draws the 30 of {len(table):,} applications with the " \
           "most releases gone live; the table lists all." in captions(app)


def test_an_application_with_releases_overdue_alone_is_said_not_drawn_empty(
        sample_db, tmp_path, monkeypatch):
    """'Content Management (APP-011)' drew an empty row at the bottom of
    the per-application chart, unexplained: it had a release overdue and
    none gone live. The chart draws the applications with releases gone
    live; the caption says the others are in the table, which lists
    them."""
    app = _releases_page(
        sample_db, tmp_path, monkeypatch,
        "insert into applications (application_id, name) values "
        "('APP-ZZ', 'Zeta Overdue')",
        "insert into releases (release_id, name, application_id, status, "
        "planned_release_at, ingested_batch_id) values ('REL-ZZ', 'Zeta 1', "
        "'APP-ZZ', 'planned', now() - interval 20 day, (select max(batch_id) "
        "+ 1 from ingest_batches))")
    table, drawn = _on_time_by_application(app)
    assert "Zeta Overdue (APP-ZZ)" in set(table["Application"])
    assert "Zeta Overdue (APP-ZZ)" not in drawn and drawn
    assert "1 application with releases overdue but none gone live in the " \
        "period has no bar; the table lists it (Overdue, not live)." \
        in captions(app)


def test_the_timeline_names_its_phases_in_words(sample_db, tmp_path,
                                                monkeypatch):
    """The timeline's legend and hover named the phases as the data has them
    (sit, uat, pre_prod); they read as a manager says them (SIT, UAT,
    Pre-production), as the phases listed below the chart, each phase keeping
    its colour. A phase's colour is its own on every page of the timeline:
    they went to the phases in the order a page listed them, Staging
    vermillion on one page and pink on the next (a walkthrough at a
    million changes)."""
    import json

    from changeboard import charts, ui
    app = _releases_page(   # a phase named pre_prod where the sample says staging
        sample_db, tmp_path, monkeypatch,
        "update release_phases set phase = 'pre_prod', ingested_batch_id = "
        "(select max(batch_id) + 1 from ingest_batches) "
        "where phase = 'staging'")
    # the first page: releases long over, with every phase (the page opens
    # on those still under way)
    app.selectbox(key="timeline_page").set_value(0).run()
    chart = next(c for c in app.get("plotly_chart")
                 if "timeline-chart" in (c.proto.id or ""))
    traces = json.loads(chart.proto.spec)["data"]
    legend = {t["legendgroup"]: t["name"] for t in traces if t["showlegend"]}
    assert {"sit", "uat", "pre_prod"} <= set(legend), legend
    assert [legend[p] for p in ("sit", "uat", "pre_prod", "perf")] == [
        "SIT", "UAT", "Pre-production", "Performance"], legend
    assert legend == {code: ui.phase_word(code) for code in legend}
    for trace in traces:    # each bar's hover names its phase in words
        assert trace["name"] == legend[trace["legendgroup"]]
        assert f"<br>{trace['name']} " in trace["hovertemplate"]
    colours = {t["legendgroup"]: t["marker"]["color"] for t in traces}
    assert colours == {p: charts.phase_colour(p) for p in colours}
    assert len(set(colours.values())) == len(colours)  # none shares one
    # the last page of the timeline: the same phase, the same colour
    pick = app.selectbox(key="timeline_page")
    pick.set_value(len(pick.options) - 1).run()
    chart = next(c for c in app.get("plotly_chart")
                 if "timeline-chart" in (c.proto.id or ""))
    traces = json.loads(chart.proto.spec)["data"]
    later = {t["legendgroup"]: t["marker"]["color"] for t in traces}
    assert later and all(colours[p] == c for p, c in later.items()
                         if p in colours), (colours, later)
    # the phases listed below that page's chart, each named once in its
    # legend: by its solid bar, or by its plan where none has started (a
    # page of releases ahead drew plans of phases its legend did not name;
    # which phases that page has depends on the day the sample is laid
    # out from)
    listed = next(d.value for d in app.dataframe
                  if "Phase" in d.value.columns
                  and "In progress" in d.value.columns)
    named = [t["name"] for t in traces if t["showlegend"]]
    assert sorted(named) == sorted(set(listed["Phase"])), named


def test_a_phase_reads_as_a_word():
    from changeboard import ui
    assert [ui.phase_word(p) for p in (
        "sit", "uat", "pre_prod", "perf", "prod", "cut_over", "UAT 2",
        None)] == ["SIT", "UAT", "Pre-production", "Performance",
                   "Production", "Cut over", "UAT 2", None]


def test_a_dora_card_without_a_value_puts_no_unit_under_n_a(sample_db,
                                                            monkeypatch):
    """A DORA card without a raw value (lead time, never stored; deployment
    frequency over three days, which hold no complete week) read n/a over a
    caption starting with its unit ('hours · stored only: ...'), 'n/a
    hours' to a reader; the caption says what there is without the unit."""
    from datetime import timedelta

    from changeboard import ui
    last = ui.today() - timedelta(days=8)
    app = page(sample_db, monkeypatch, period="custom",
               **{"from": (last - timedelta(days=2)).isoformat(),
                  "to": last.isoformat()})
    assert not app.exception
    values = {m.label: m.value for m in app.metric}
    assert values["Lead time for changes"] == "n/a"
    assert values["Deployment frequency"] == "n/a"
    under = {column.metric[0].label: [c.value for c in column.caption]
             for column in app.columns if len(column.metric) == 1}
    assert under["Lead time for changes"] == [
        "stored only: Changeboard has no commit-to-deploy lead time"]
    [frequency] = under["Deployment frequency"]
    # deployments, but no complete week to take their median over: the
    # caption says so, not "no data" beside their n
    assert re.fullmatch(r"n = (1 production deployment|[\d,]+ production "
                        r"deployments) · no band: the period holds no "
                        r"complete week", frequency), frequency
    units = ("hours", "days", "median deploy days per week",
             "median hours to restore", "median days to restore",
             "of production deployments failed")
    for label, captions in under.items():
        assert values[label] != "n/a" or not [
            c for c in captions if c.startswith(units)], (label, captions)


@pytest.mark.parametrize("start, end, value, band, note", [
    # Jan to Mar 2020, three complete months, years before the sample's
    # first deployment: a real 0, low (m < 1 with deployments loaded)
    ("2020-01-01", "2020-03-31", "0.0", "Low band", None),
    # the complete weeks of 6, 13 and 20 Jan 2020, no complete month
    ("2020-01-06", "2020-01-26", "0.0", None,
     "no band: under 1 deploy day a week, and the period holds no complete "
     "month to tell medium from low"),
    # three days: no complete week, no median
    ("2020-01-03", "2020-01-05", "n/a", None,
     "no band: the period holds no complete week")])
def test_deployment_frequency_of_a_period_without_deployments_is_banded_as_0(
        sample_db, monkeypatch, start, end, value, band, note):
    """Deployments loaded, none in the period: the card read '0.0 ·
    n = 0 production deployments · no band: no data', where 0.0 is a real
    zero. It is low when the period holds a complete month (docs/metrics.md
    DORA bands: m < 1, with data); otherwise it says which period is
    missing to band it."""
    app = page(sample_db, monkeypatch, period="custom",
               **{"from": start, "to": end})
    assert not app.exception
    [column] = [c for c in app.columns if len(c.metric) == 1
                and c.metric[0].label == "Deployment frequency"]
    badges = [m.value for m in column.markdown if "-badge[" in m.value]
    assert badges == ([f":red-badge[{band}]"] if band else []), badges
    [caption] = [c.value for c in column.caption]
    assert "n = 0 production deployments" in caption, caption
    assert "no data" not in caption, caption
    assert caption.endswith(note) if note else "no band" not in caption, \
        caption
    assert column.metric[0].value == value


def test_the_other_dora_cards_say_what_the_period_lacks_for_a_band(
        sample_db, monkeypatch):
    """Deployments loaded, none in the period (Jan to Mar 2020): the
    failure rate and recovery time cards read 'no band: no data', as if
    nothing were loaded; they say what the period lacks."""
    app = page(sample_db, monkeypatch, period="custom",
               **{"from": "2020-01-01", "to": "2020-03-31"})
    assert not app.exception
    said = {c.metric[0].label: " ".join(x.value for x in c.caption)
            for c in app.columns if len(c.metric) == 1}
    assert said["Deployment failure rate"].endswith(
        "n = 0 production deployments · no band: no production deployment "
        "in the period"), said
    assert said["Recovery time"].endswith(
        "n = 0 failed changes restored in the period (per change, not per "
        "deployment) · no band: no failed change restored in the period"), \
        said
    assert not any("no data" in c for c in said.values()), said


@pytest.mark.parametrize("median, value, unit", [
    (72.0, "3.0 days", "median days to restore"),
    (5.0, "5.0 h", "median hours to restore"),
    (48.0, "48.0 h", "median hours to restore")])
def test_the_recovery_time_card_names_the_unit_its_value_is_in(
        sample_db, monkeypatch, median, value, unit):
    """The Recovery time card wrote its value in days above 48 hours ('3.0
    days', ui.duration) over a caption saying 'median hours to restore'; the
    caption names the unit the value is written in."""
    from changeboard import ui
    real = ui.scoped

    def recovery_at(name, *args, **kwargs):
        rows = real(name, *args, **kwargs)
        if name == "failed_change_recovery_time":
            rows = rows.assign(median_recovery_hours=median)
        return rows

    monkeypatch.setattr(ui, "scoped", recovery_at)
    app = page(sample_db, monkeypatch)
    assert not app.exception
    under = {column.metric[0].label: (column.metric[0].value,
                                      [c.value for c in column.caption])
             for column in app.columns if len(column.metric) == 1}
    shown, captions = under["Recovery time"]
    assert shown == value
    assert captions[0].startswith(unit + " · n = "), captions
    assert ui.duration_unit(median) in captions[0].split(" · ")[0]


def test_the_dora_cards_count_one_in_the_singular(sample_db, monkeypatch):
    """With one failed change restored and one production deployment the
    DORA cards' captions read 'n = 1 failed changes restored' and 'n = 1
    production deployments'; they read in the singular (ui.many)."""
    from changeboard import ui
    real = ui.scoped

    def counts_of_one(name, *args, **kwargs):
        rows = real(name, *args, **kwargs)
        if name in ("failed_change_recovery_time", "dora_summary"):
            rows = rows.assign(n=1)
        return rows

    monkeypatch.setattr(ui, "scoped", counts_of_one)
    app = page(sample_db, monkeypatch)
    assert not app.exception
    under = {column.metric[0].label: [c.value for c in column.caption]
             for column in app.columns if len(column.metric) == 1}
    assert any("n = 1 failed change restored in the period" in c
               for c in under["Recovery time"]), under["Recovery time"]
    for label in ("Deployment frequency", "Deployment failure rate"):
        assert any(c.endswith("n = 1 production deployment")
                   or "n = 1 production deployment · " in c
                   or "n = 1 production deployment failed" in c
                   for c in under[label]), (label, under[label])
    said = " ".join(c for captions in under.values() for c in captions)
    assert "n = 1 failed changes" not in said
    assert "n = 1 production deployments" not in said


# --- counts of one read in the singular --------------------------------------

def _releases_under_way(path: Path, k: int) -> Path:
    """A database of k releases planned to go live on 20 Jan 2026 and not
    live (overdue at the data's as-of time, 1 Feb), each with one phase
    under way since 5 Jan: k overdue, k phases, k in progress."""
    with db.publish(path) as con:
        con.execute(
            "insert into ingest_batches (batch_id, source, entity, "
            "started_at, finished_at, status) values (1, 'csv', 'releases',"
            " '2026-02-01 00:00Z', '2026-02-01 00:00Z', 'succeeded')")
        for i in range(1, k + 1):
            con.execute(
                "insert into releases (release_id, name, status, "
                "release_type, application_id, planned_release_at, "
                "ingested_batch_id) values ($id, $name, 'in_progress', "
                "'project', 'A1', '2026-01-20 00:00Z', 1)",
                {"id": f"R{i}", "name": f"name R{i}"})
            con.execute(
                "insert into release_phases (release_id, phase, "
                "planned_start_at, planned_end_at, actual_start_at, "
                "ingested_batch_id) values ($id, 'sit', '2026-01-05 00:00Z',"
                " '2026-01-15 00:00Z', '2026-01-05 00:00Z', 1)",
                {"id": f"R{i}"})
    return path


@pytest.mark.parametrize("k", [1, 2])
def test_counts_of_one_read_right_and_counts_of_two_stay_plural(
        tmp_path, monkeypatch, k):
    """With one release the page read 'The downloads hold all 1 phase of
    the 1 release', 'The 1 release overdue, not live', 'The 1 phase of
    releases 1–1', '1 of their 1 phase is in progress' and '1 are overdue,
    not live'. Each now reads right at one, and at two as it did."""
    from tests.wording import page_texts, slips_at_one
    monkeypatch.setattr(config, "DB_PATH",
                        _releases_under_way(tmp_path / "cb.duckdb", k))
    app = open_page("releases", "2026-01-01", "2026-01-31")
    texts = page_texts(app)
    said = " | ".join(texts)
    expected = {
        1: ["The release overdue, not live", "The phase of release 1",
            "The downloads hold the phase of the release, read when "
            "clicked.",
            "Phases in progress, drawn up to the data's as-of time (dotted "
            "line): 1 of 1.",
            "No release with a planned date went live in this period; 1 is "
            "overdue, not live.", "1 of 1 (by first phase start)"],
        2: ["The 2 releases overdue, not live", "The 2 phases of releases 1–2",
            "The downloads hold all 2 phases of the 2 releases, read when "
            "clicked.",
            "Phases in progress, drawn up to the data's as-of time (dotted "
            "line): 2 of 2.",
            "No release with a planned date went live in this period; 2 are "
            "overdue, not live.", "1–2 of 2 (by first phase start)"]}[k]
    for text in expected:
        assert text in said, (text, texts)
    if k == 1:
        assert slips_at_one(texts) == []


def test_a_count_per_period_drops_the_tenth_from_a_hundred(app):
    """At 1M changes the cadence card read 'Releases per month 1,744.0':
    a tenth of so many is noise. Under 100 the tenth stays (14.7)."""
    from changeboard import ui
    assert [ui.per_period(v) for v in (14.66, 99.94, 1743.5, 100.0, None,
                                       float("nan"))] == [
        "14.7", "99.9", "1,744", "100", "n/a", "n/a"]
    with db.reading(config.DB_PATH) as con:
        summary = db.run(con, "release_cadence_summary",
                         **ui.window_for("last_365")).iloc[0]
    shown = next(m.value for m in app.metric
                 if m.label == "Releases per month")
    assert shown == ui.per_period(summary["releases_per_month"])


def test_slips_read_to_a_tenth_of_a_day_in_every_row(app):
    """The per-application table wrote its median slips as they came:
    '3.5' above '3' and '31' in one column. Days, under a page's own label
    as under a query's name, read to a tenth."""
    import json
    assert not app.exception
    table = next(d for d in app.dataframe
                 if "Median slip (days)" in d.value.columns)
    columns = json.loads(table.proto.columns)
    for label in ("Median slip (days)", "Median slip of late (days)"):
        assert columns[label]["type_config"]["format"] == "%.1f", label


def test_with_no_release_loaded_the_sections_say_so_not_widen_the_dates(
        sample_db, tmp_path, monkeypatch):
    """Change data alone (BPIC 2014): the cadence and on-time sections said
    'No release went live in this period — widen the dates or clear the
    application filter', with no filter set and no release of any date to
    find. They say none is loaded and how to load them."""
    app = _releases_page(sample_db, tmp_path, monkeypatch,
                         "delete from release_phases", "delete from releases")
    infos = [i.value for i in app.info if i.value.startswith("No release")]
    hint = ("load `releases.csv` (canonical CSV, columns in "
            "docs/data-model.md) on the Data page or with `changeboard load "
            "csv releases.csv`.")
    assert infos[:2] == [
        "No releases are loaded, so there is no cadence to show: " + hint,
        "No releases are loaded, so there is no on-time rate to show: "
        + hint], infos
    assert not [i for i in infos if "widen" in i], infos
    # nor a tolerance to tune on-time releases that are not there
    assert not app.number_input


@pytest.mark.parametrize("url, advice", [
    ({}, "widen the dates."),
    ({"application_ids": "APP-002"},
     "widen the dates or clear the application filter."),
    # a team filter is a change's: the release sections do not take it
    ({"teams": "Card Services"}, "widen the dates.")])
def test_a_period_without_releases_names_the_filters_it_takes_that_are_set(
        sample_db, monkeypatch, url, advice):
    """'widen the dates or clear the application filter' was said whatever
    the filters: with none set, the second half sent the user to look for
    one. It names the application or portfolio filter when one is set."""
    app = page(sample_db, monkeypatch, period="custom", **{
        "from": "2020-01-01", "to": "2020-03-31"}, **url)
    assert not app.exception
    infos = [i.value for i in app.info if i.value.startswith("No release")]
    assert infos == [
        f"No release went live in this period — {advice}",
        f"No release with a planned date went live in this period — {advice}",
        "No release has a phase planned or under way in this period — "
        f"{advice}"], infos


def test_the_recovery_card_says_outcomes_are_unknown_without_close_codes(
        sample_db, tmp_path, monkeypatch):
    """A source without close codes, incidents or deployments (BPIC 2014):
    no change has an outcome, so none can have failed and been restored.
    The card said 'no band: no failed change restored in the period', which
    reads as none failing; it says no outcome is known, with how many
    completed changes lack one."""
    app = _releases_page(sample_db, tmp_path, monkeypatch,
                         "update changes set close_code = null",
                         "delete from incidents", "delete from deployments")
    caption = card_caption(app, "Recovery time")
    assert re.fullmatch(
        r"n = 0 failed changes restored in the period \(per change, not per "
        r"deployment\) · no band: no change outcome is known in the period "
        r"\([\d,]+ completed changes without a close code\)", caption), \
        caption


def test_the_cadence_says_how_many_releases_it_leaves_out(app):
    """C6: the cadence's n left cancelled releases and enterprise groupings
    gone live in the period out without a count (the on-time section beside
    it counts them); its caption now says how many, as the query counts."""
    from changeboard import ui
    from changeboard.words import many
    period = app.selectbox(key="period").value
    with db.reading(config.DB_PATH) as con:
        summary = db.run(con, "release_cadence_summary",
                         **ui.window_for(period)).iloc[0]
    assert summary["n_excluded"] > 0  # the sample has such releases
    said = next(c.value for c in app.caption
                if c.value.startswith("n = ") and "gap" in c.value)
    assert said.split(" · ")[-1] == many(
        summary["n_excluded"], "cancelled or enterprise release") + \
        " left out", said


def test_the_deployment_frequency_card_says_its_weeks(app):
    """Its value is the median deploy days of the period's complete weeks,
    but its n was the deployments alone ('n = 250 production deployments'
    under a median of 12 weeks): it now says the weeks too, as
    dora_summary counts them."""
    from changeboard import ui
    from changeboard.words import many
    period = app.selectbox(key="period").value
    with db.reading(config.DB_PATH) as con:
        row = db.run(con, "dora_summary", **ui.window_for(period)).set_index(
            "metric").loc["deployment_frequency"]
    assert row["n_weeks"] > 1
    caption = card_caption(app, "Deployment frequency")
    # the deployments are the period's, its cut weeks at the ends too: the
    # median's weeks are said apart from them
    assert (f"n = {many(row['n'], 'production deployment')} · median over "
            f"{many(row['n_weeks'], 'week')}") in caption, caption


def test_the_deployment_failure_rate_says_its_numerator_and_what_it_counts(
        app):
    """'Deployment failure rate 10.0%' said only 'of production deployments
    failed · n = 250 production deployments', a few lines from the
    Overview's 'Change failure rate 4.1%' with '34 of n = 838 failed': it
    says its numerator, as every rate does, and that it counts deployments
    where the Overview counts changes."""
    from changeboard import ui
    from changeboard.words import many
    period = app.selectbox(key="period").value
    with db.reading(config.DB_PATH) as con:
        row = db.run(con, "dora_summary", **ui.window_for(period)).set_index(
            "metric").loc["deployment_change_failure_rate"]
        rate = db.run(con, "deployment_change_failure_rate",
                      **ui.window_for(period)).iloc[0]
    assert (row["n"], row["n_failed"]) == (rate["n"], rate["n_failed"])
    assert row["n_failed"] > 0
    caption = card_caption(app, "Deployment failure rate")
    assert caption.startswith(
        f"{int(row['n_failed']):,} of n = "
        f"{many(row['n'], 'production deployment')} failed · per "
        "deployment; the Overview's Change failure rate counts changes"), \
        caption


def test_the_deployment_failure_rate_says_how_many_failures_are_inferred(
        app):
    """The card said '12 of n = 98 production deployments failed' where 6
    of the 12 failed only through an incident linked to nothing, put on
    its application's last deployment (a process owner's walkthrough):
    docs/metrics.md C8 has a value resting on inference say how much."""
    from changeboard import ui
    period = app.selectbox(key="period").value
    with db.reading(config.DB_PATH) as con:
        row = db.run(con, "dora_summary", **ui.window_for(period)).set_index(
            "metric").loc["deployment_change_failure_rate"]
        rate = db.run(con, "deployment_change_failure_rate",
                      **ui.window_for(period)).iloc[0]
    assert row["n_inferred"] == rate["n_inferred"] > 0
    caption = card_caption(app, "Deployment failure rate")
    assert (f" · {int(row['n_inferred']):,} of the {int(row['n_failed']):,}"
            " with an inferred incident (linked to no deployment or change, "
            "put on its application's last deployment before it opened)"
            ) in caption, caption


def test_a_period_whose_every_release_is_left_out_says_so(sample_db,
                                                           tmp_path,
                                                           monkeypatch):
    """Every release gone live in the period cancelled or an enterprise
    grouping: the cadence said 'No release went live in this period —
    widen the dates.', where the Overview's card counted them left out. It
    says how many went live and are left out, and no hint to widen."""
    from changeboard import ui
    from changeboard.words import many
    app = _releases_page(
        sample_db, tmp_path, monkeypatch,
        "update releases set status = 'cancelled', ingested_batch_id = "
        "(select max(batch_id) + 1 from ingest_batches) where "
        "actual_release_at is not null")
    with db.reading(config.DB_PATH) as con:
        summary = db.run(con, "release_cadence_summary",
                         **ui.window_for("last_365")).iloc[0]
    assert summary["n_releases"] == 0 and summary["n_excluded"] > 0
    said = [i.value for i in app.info]
    assert ("No release the cadence counts went live in this period: "
            + many(summary["n_excluded"], "cancelled or enterprise release")
            + " left out.") in said, said
    assert not [s for s in said if s.startswith("No release went live")]


def test_releases_released_without_a_go_live_time_are_said(sample_db,
                                                            tmp_path,
                                                            monkeypatch):
    """endoflife.date's 1,126 cycles without a release date load as
    released with no go-live time: no period holds them, and the cadence
    said nothing of them (n_unclassified 0). Its caption counts them, in
    the whole data."""
    app = _releases_page(
        sample_db, tmp_path, monkeypatch,
        "update releases set actual_release_at = null, "
        "ingested_batch_id = (select max(batch_id) + 1 from ingest_batches) "
        "where release_id in (select release_id from releases where status "
        "= 'released' order by release_id limit 3)")
    assert any(c.value.startswith("n = ") and c.value.endswith(
        " · 3 releases marked released without a go-live time are in no "
        "period") for c in app.caption), [c.value for c in app.caption]


def test_the_deployment_cards_say_the_deployments_they_leave_out(app):
    """C6: the sample's last 90 days read '2 of n = 21 production
    deployments failed' and 'n = 21 production deployments', while
    dora_summary left out a deployment to production whose status is
    failed (n_excluded = 1). Both deployment cards say the deploys that
    failed to complete, as the query counts them."""
    from changeboard import ui
    from changeboard.words import many
    period = app.selectbox(key="period").value
    with db.reading(config.DB_PATH) as con:
        rows = db.run(con, "dora_summary", **ui.window_for(period)).set_index(
            "metric")
    for metric, label in (("deployment_frequency", "Deployment frequency"),
                          ("deployment_change_failure_rate",
                           "Deployment failure rate")):
        excluded = int(rows.loc[metric, "n_excluded"])
        assert excluded > 0  # the sample has failed deploys to production
        assert rows.loc[metric, "n_unclassified"] == 0
        caption = card_caption(app, label)
        assert (" · " + many(excluded, "deploy to production",
                             "deploys to production")
                + " that failed to complete left out") in caption, caption
        assert "unknown environment" not in caption, caption


def test_the_dora_cards_say_every_count_they_leave_out(sample_db,
                                                        monkeypatch):
    """Deployments to an unknown environment (n_unclassified) and failed
    changes of the period not restored or restored before they failed
    (failed_change_recovery_time's n_open, n_unmeasurable, n_invalid) were
    in no caption: each is said when not 0, in the singular at 1."""
    from changeboard import ui
    real = ui.scoped

    def with_counts(name, *args, **kwargs):
        rows = real(name, *args, **kwargs)
        if name == "dora_summary":
            deployments = rows["metric"].isin(
                ["deployment_frequency", "deployment_change_failure_rate"])
            rows = rows.assign(
                n_excluded=rows["n_excluded"].where(~deployments, 2),
                n_unclassified=rows["n_unclassified"].where(~deployments, 1))
        if name == "failed_change_recovery_time":
            rows = rows.assign(n_open=1, n_unmeasurable=3, n_invalid=1)
        return rows

    monkeypatch.setattr(ui, "scoped", with_counts)
    app = page(sample_db, monkeypatch)
    assert not app.exception
    for label in ("Deployment frequency", "Deployment failure rate"):
        caption = card_caption(app, label)
        assert caption.endswith(
            " · 2 deploys to production that failed to complete left out"
            " · 1 deployment to an unknown environment left out"), caption
    assert card_caption(app, "Recovery time").endswith(
        "(per change, not per deployment) · 1 failed change of the period "
        "not restored yet (an incident still open) · 3 failed changes of "
        "the period with no restoration recorded · 1 change "
        "restored before it failed left out")


@pytest.mark.parametrize("period", ["last_30", "last_90"])
def test_the_slip_chart_ticks_whole_days(sample_db, monkeypatch, period):
    """With one release gone live in the period (the sample's last 30
    days: a slip of 10 days) the slip chart, 'one bar per day', ticked
    9.6, 9.8 ... 10.4 (-0.4 ... 0.4 for a slip of 0): its axis is in whole
    days, whatever the slips (the last 90 days: -1, 0 and 10), its bars
    centred on them."""
    import json

    from changeboard import ui
    app = page(sample_db, monkeypatch, period=period)
    assert not app.exception
    with db.reading(config.DB_PATH) as con:
        slips = list(db.run(con, "release_slip_days",
                            **ui.window_for(period))["slip_days"])
    assert 0 < len(slips) <= 3, slips  # a few releases
    chart = next(c for c in app.get("plotly_chart")
                 if "slip-chart" in (c.proto.id or ""))
    spec = json.loads(chart.proto.spec)
    axis = spec["layout"]["xaxis"]
    assert axis["tick0"] == 0 and axis["dtick"] == 1, axis
    assert axis["range"][0] <= min(slips) - 0.5 and \
        axis["range"][1] >= max(slips) + 0.5, (axis, slips)
    assert axis["range"][1] - axis["range"][0] >= 7
    assert {t["xbins"]["start"] for t in spec["data"]} == {min(slips) - 0.5}


def test_a_release_gone_live_lists_the_changes_it_carries(sample_db,
                                                           monkeypatch):
    """A release manager had no way from a release gone live (Mobile
    Banking App, REL-00058, behind the numbers) to its changes but the CLI:
    the readiness page lists them for the releases going live soon only,
    and the Changes page has no release. Picked under the releases listed,
    a release's changes are listed whatever their dates, kept in the URL."""
    app = page(sample_db, monkeypatch,
               release_app="All releases in the period")
    assert not app.exception
    box = app.selectbox(key="release_changes")
    assert box.value is None and box.options
    records = next(d.value for d in app.dataframe
                   if "Counted as" in d.value.columns)
    with db.reading(sample_db) as con:
        carried = dict(con.execute(
            "select release_id, list(change_id order by change_id) from "
            "changes where release_id is not null group by 1").fetchall())
    release = next(r for r in records["Release"] if r in carried)
    box.set_value(release).run()
    assert not app.exception
    assert app.query_params["release_changes"] in (release, [release])
    listed = next(d for d in app.dataframe
                  if "change_id" in d.value.columns)
    assert sorted(listed.value["change_id"]) == carried[release]
    headed = {c.get("label") for c in json.loads(
        listed.proto.columns).values()}
    assert {"Change", "Type", "Team"} <= headed, headed
    n = len(carried[release])
    assert any(c.value.startswith(f"{n:,} change") and release in c.value
               for c in app.caption)


def test_the_cadence_cards_give_the_command_of_their_own_numbers(
        sample_db, monkeypatch, capsys):
    """The cadence's "How is this computed?" gave `query release_cadence`,
    one row per application: neither the cards' median gap (all
    applications' gaps pooled) nor their releases per month is in it (an
    analyst's walkthrough: 178.0 days on the page, 145.0 and 210.0 from the
    command). It gives release_cadence_summary, whose row is the cards'; the
    table by application has a box of its own."""
    import shlex

    from changeboard.cli import main as cli_main
    from tests.clicks import open_definitions
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = open_definitions(open_page("releases", "2025-01-01", "2026-06-30"))
    cards = {m.label: m.value for m in app.metric}

    def command(query: str) -> list[str]:
        box = next(e for e in app.expander
                   if f"-definition:{query}:" in e.proto.id)
        line = next(c.value for c in box.code if c.language == "bash")
        return shlex.split(line)[3:]  # after 'python -m changeboard'

    words = command("release_cadence_summary")
    assert words[:2] == ["query", "release_cadence_summary"]
    capsys.readouterr()
    assert cli_main([*words, "--format", "json"]) == 0
    row = one_row(json.loads(capsys.readouterr().out))
    assert cards["Median gap between releases"] == \
        f"{row['median_gap_days']:,.1f} days"
    assert cards["Releases gone live"] == f"{row['n_releases']:,}"
    from changeboard import ui
    assert cards["Releases per month"] == ui.per_period(
        row["releases_per_month"])
    assert command("release_cadence")[:2] == ["query", "release_cadence"]


def one_row(rows: list[dict]) -> dict:
    assert len(rows) == 1, rows
    return rows[0]
