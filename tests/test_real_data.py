"""Real public data loads with the shipped mappings and gives numbers.

The files are optional: they are read in place from ../shared/real-data, a
folder beside the clone (never copied into the project: some licences do not
allow it); every test here is marked real_data and skips, saying so, when
they are absent.
"""
import re
from pathlib import Path

import pytest

from changeboard import db

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-data"
BPIC = REAL / "bpic2014-change" / "detail_change.csv"

pytestmark = pytest.mark.real_data


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"optional real data set absent: {path} (see this "
                    "file's docstring)")
    return path


def mapped_db(tmp_path_factory, source: Path, mapping: str) -> Path:
    """A database holding only `source`, loaded with the shipped
    `mapping`."""
    import ingest

    need(source)
    path = tmp_path_factory.mktemp(mapping) / f"{mapping}.duckdb"
    result = ingest.load_path("mapping", source, path,
                              options={"mapping": mapping})
    assert result.status == "succeeded", result.error
    return path


@pytest.fixture(scope="module")
def bpic_db(tmp_path_factory):
    """A database holding only BPIC 2014, loaded with the shipped mapping."""
    return mapped_db(tmp_path_factory, BPIC, "bpic2014")


# BPIC 2014's changes end between late 2012 and 2014 (a few close later)
BPIC_PERIOD = {"start_date": "2013-10-01", "end_date": "2014-04-01"}


def test_bpic_without_close_codes_gets_the_how_metrics(bpic_db):
    with db.connect(bpic_db, read_only=True) as con:
        ratio = db.run(con, "emergency_change_ratio", **BPIC_PERIOD).iloc[0]
        lead = db.run(con, "change_lead_time", **BPIC_PERIOD).iloc[0]
        adherence = db.run(con, "schedule_adherence", **BPIC_PERIOD).iloc[0]
        success = db.run(con, "change_success_rate", **BPIC_PERIOD).iloc[0]
    assert ratio["n"] > 1000 and ratio["n_emergency"] > 0
    assert 0 < ratio["emergency_change_ratio"] < 0.05
    assert ratio["n_without_close_code"] == ratio["n"]
    assert lead["n"] > 1000 and lead["median_lead_time_hours"] > 0
    assert adherence["n"] > 1000
    assert 0 < adherence["on_schedule_rate"] < 1
    # the outcome metrics stay empty and say why: no close codes
    assert success["n"] == 0
    assert success["n_without_close_code"] >= ratio["n"]


def test_bpic_changes_page_shows_its_change_lead_time(bpic_db, monkeypatch):
    """The change lead time is the one speed number BPIC 2014 (no close
    codes, no approvals) fills; documented and queryable, it was on no page
    (a real-data walkthrough). The Changes page shows it with its n, the
    spans left out, and the query's numbers."""
    from changeboard import config
    from tests.clicks import open_page

    monkeypatch.setattr(config, "DB_PATH", bpic_db)
    app = open_page("changes", "2014-01-01", "2014-03-31")
    with db.connect(bpic_db, read_only=True) as con:
        lead = db.run(con, "change_lead_time", start_date="2014-01-01",
                      end_date="2014-04-01").iloc[0]
    assert lead["n"] > 1000 and lead["n_invalid"] > 0
    cards = {m.label: m.value for m in app.metric}
    assert cards["Completed changes (n)"] == f"{int(lead['n']):,}"
    assert cards["Median"] == f"{lead['median_lead_time_hours']:.1f} h"
    assert cards["85th percentile"] == \
        f"{lead['p85_lead_time_hours'] / 24:.1f} days"
    said = " ".join(c.value for c in app.caption)
    assert (f"for the n = {int(lead['n']):,} changes completed in the "
            f"period, {int(lead['n_without_close_code']):,} of them without "
            "a close code") in said
    assert f"Left out: {int(lead['n_invalid']):,} ended before created" \
        in said
    assert "Change lead time" in [s.value for s in app.header]


def test_bpic_by_period_variants_are_filled(bpic_db):
    with db.connect(bpic_db, read_only=True) as con:
        rows = db.run(con, "emergency_change_ratio_by_period", grain="month",
                      **BPIC_PERIOD)
        head = db.run(con, "emergency_change_ratio", **BPIC_PERIOD).iloc[0]
    assert len(rows) == 6 and (rows["n"] > 0).all()
    assert rows["n"].sum() == head["n"]


# --- shipped mappings: 0 rejects and every input row accounted for ----------

UCI = (REAL / "uci-incident-event-log"
       / "incident_event_log.original-values.first-119998-rows.csv.gz")
EOL = REAL / "endoflife-release-data"


def load_shipped(tmp_path, path, name):
    import ingest

    result = ingest.load_path("mapping", need(path), tmp_path / "db.duckdb",
                              options={"mapping": name})
    assert result.status == "succeeded", result.error
    # docs/sources.md section 8 with merged/superseded rows (docs/adapters.md)
    assert result.rows_read == (result.rows_loaded + result.rows_rejected
                                + result.rows_merged)
    with db.connect(tmp_path / "db.duckdb", read_only=True) as con:
        stored = con.execute(
            "select rows_read, rows_loaded, rows_rejected, rows_merged "
            "from ingest_batches where batch_id = $b",
            {"b": result.batch_id}).fetchall()[0]
    assert stored == (result.rows_read, result.rows_loaded,
                      result.rows_rejected, result.rows_merged)
    return result


def test_uci_incident_log_keeps_each_incidents_latest_version(tmp_path):
    result = load_shipped(tmp_path, UCI, "uci-incidents")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected,
            result.rows_superseded) == (119_998, 20_769, 0, 99_229)
    assert result.rows_merged == result.rows_superseded
    assert any("99,229 superseded by a later version" in w
               for w in result.warnings)
    with db.connect(tmp_path / "db.duckdb", read_only=True) as con:
        linked, priorities, latest = con.execute(
            "select count(caused_by_change_id), "
            "list(distinct priority order by priority), "
            "max(opened_at) from incidents").fetchall()[0]
        # INC0000045's last update (sys_mod_count 4) is the one kept
        resolved = con.execute(
            "select resolved_at from incidents where incident_id = "
            "'INC0000045'").fetchall()[0][0]
    assert linked > 0 and priorities == [1, 2, 3, 4]
    assert latest.strftime("%Y-%m") == "2016-05"  # d/m/yyyy, copy A cut
    assert resolved.strftime("%Y-%m-%d %H:%M") == "2016-02-29 11:29"


def test_uci_read_as_a_servicenow_export_is_pointed_at_its_mapping(tmp_path):
    """The log loaded as a ServiceNow incident export: its d/m/yyyy dates
    reject every row; one warning says so and names the way out, the
    shipped mapping uci-incidents first."""
    import ingest

    result = ingest.load_path("servicenow-incidents", need(UCI),
                              tmp_path / "db.duckdb", dry_run=True)
    assert (result.rows_read, result.rows_rejected) == (119_998, 119_998)
    hints = [w for w in result.warnings if "bad_timestamp" in w]
    assert len(hints) == 1
    assert "all 119,998 rows were rejected as bad_timestamp in opened_at " \
        "(the first, row 2: '29/2/2016 01:16')" in hints[0]
    assert f"changeboard load mapping {UCI.name} --mapping uci-incidents " \
        in hints[0]
    assert "date_formats" in hints[0]


def test_endoflife_versions_load_with_an_id_from_two_columns(tmp_path):
    result = load_shipped(tmp_path, EOL / "versions.csv", "endoflife-versions")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected,
            result.rows_merged) == (99_322, 99_322, 0, 0)
    # the documented 1970-01-01 dates of linux-kernel load with a warning
    # (the column and the first value named: an analyst need not search)
    assert any("9 rows with dates before 1990" in w and w.endswith(
        ": actual_release_at (9, the first 1970-01-01 00:00:00+00 on row "
        "44204)") for w in result.warnings), result.warnings
    with db.connect(tmp_path / "db.duckdb", read_only=True) as con:
        row = con.execute(
            "select name, application_id, status from releases where "
            "release_id = 'postgresql:18.6'").fetchall()
        gaps = db.run(con, "release_cadence_summary",
                      start_date="2025-01-01", end_date="2026-01-01").iloc[0]
    assert row == [("postgresql 18.6", "postgresql", "released")]
    assert gaps["n_releases"] > 1000 and gaps["median_gap_days"] > 0


def test_endoflife_cycles_load_with_an_id_from_two_columns(tmp_path):
    result = load_shipped(tmp_path, EOL / "release_cycles.csv",
                          "endoflife-cycles")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        2_615, 2_615, 0)
    with db.connect(tmp_path / "db.duckdb", read_only=True) as con:
        ids, undated = con.execute(
            "select count(distinct release_id), count(*) filter (where "
            "actual_release_at is null) from releases").fetchall()[0]
    assert (ids, undated) == (2_615, 1_126)


def test_bpic_alone_fills_the_overview_with_the_default_period(
        bpic_db, monkeypatch):
    """Opening a 2014 data set: the presets end with the data, so the
    default "last 90 days" shows its emergency ratio and schedule
    adherence, not an empty page."""
    from streamlit.testing.v1 import AppTest

    from changeboard import config

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setattr(config, "DB_PATH", bpic_db)
    app = AppTest.from_file(str(root / "app.py"), default_timeout=120).run()
    assert not app.exception
    assert any("The data ends on" in c.value and "2014" in c.value
               for c in app.sidebar.caption)
    cards = {m.label: m.value for m in app.metric}
    assert cards["Emergency ratio"] != "n/a"
    assert cards["Change success rate"] == "n/a"  # no close codes
    assert cards["Change failure rate"] == "n/a"
    assert any("no close codes" in i.value for i in app.info)
    # both rate cards say why n is 0, not '0 of n = 0 failed'
    said = [c.value for c in app.caption]
    assert not any(c.startswith("0 of n = 0 failed") for c in said), said
    cards_said = [m for c in said if (m := re.fullmatch(
        r"n = 0 implemented changes · ([\d,]+) completed without a close "
        r"code", c))]
    assert len(cards_said) == 2
    # the completed changes the chart names are dated by their end or their
    # closing, and the cards count the same ones (they said 7,922 'ended'
    # beside the chart's 8,390 'completed' for 2013)
    [outcomes] = [i.value for i in app.info if "were completed in this "
                  "period (ended, or closed with no end recorded), but this "
                  "source has no close codes" in i.value]
    assert {m.group(1) for m in cards_said} == {outcomes.split()[0]}
    assert not any("widen the dates" in i.value for i in app.info)
    captions = " ".join(c.value for c in app.caption)
    assert "latest record" in captions and "2014" in captions
    app.switch_page("views/changes.py").run()
    assert not app.exception
    assert "Schedule adherence" in [s.value for s in app.header]
    assert not any("No completed change with planned and actual times"
                   in i.value for i in app.info)
    # schedule adherence counts completed changes (A24), not implemented
    # ones (BPIC has none)
    adherence = next(c.value for c in app.caption
                     if "with planned and actual start and end" in c.value)
    assert re.match(r"n = [\d,]+ completed changes that ended in the period",
                    adherence), adherence
    delay = next(m for m in app.metric if m.label == "Median start delay")
    assert delay.value != "n/a"


# --- pages on a data set that lacks some record kinds -------------------------

EOL_VERSIONS = EOL / "versions.csv"


@pytest.fixture(scope="module")
def eol_db(tmp_path_factory):
    """A database holding only endoflife.date's versions, loaded with the
    shipped mapping: releases gone live, with no planned date, no release
    phase, no deployment and no environment (Jira fix versions loaded by a
    mapping look the same)."""
    return mapped_db(tmp_path_factory, EOL_VERSIONS, "endoflife-versions")


def opened(path, monkeypatch, page: str, **url):
    """The app on `path`, at `page` (views/...) opened with `url`."""
    from streamlit.testing.v1 import AppTest

    from changeboard import config

    monkeypatch.setattr(config, "DB_PATH", path)
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1]
                                / "app.py"), default_timeout=120)
    app.query_params.update(url)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def test_without_deployments_the_frequency_reads_n_a_not_a_measured_0(
        eol_db, monkeypatch):
    """No deployment is loaded: the Overview's Deployments per day and the
    Releases page's DORA deployment frequency read 0.0 over 'n = 0', a
    number that looks measured. They read n/a, keep their n and say that
    no deployments are loaded and what to load; no trend of zeros."""
    overview = opened(eol_db, monkeypatch, "views/overview.py")
    card = next(m for m in overview.metric
                if m.label == "Deployments per day")
    assert card.value == "n/a" and not card.delta
    assert list(card.proto.chart_data) == []
    said = [c.value for c in overview.caption]
    assert any(c.startswith("n = 0 production deployments · no deployments "
                            "are loaded: load `deployments.csv`") for c in said
               ), said
    releases = opened(eol_db, monkeypatch, "views/releases.py")
    cards = {m.label: m.value for m in releases.metric}
    assert cards["Deployment frequency"] == "n/a"
    assert cards["Deployment failure rate"] == "n/a"
    dora = [c.value for c in releases.caption
            if "production deployments" in c.value]
    assert len(dora) == 2 and all(
        "n = 0 production deployments · no deployments are loaded" in c
        for c in dora), dora
    assert not any("median deploy days per week" in c for c in dora)


@pytest.mark.parametrize(("page", "nothing"), [
    ("views/changes.py", "no change outcome, type mix, lead time or "
     "adherence"),
    ("views/calendar.py", "no planned change"),
    ("views/backlog.py", "no open change")])
def test_a_page_of_changes_without_changes_says_what_to_load(
        eol_db, monkeypatch, page, nothing):
    """Release data alone (or an incident log alone): the Changes page
    said 'No changes were implemented in this period — widen the dates'
    section after section, the calendar 'pick another month', the backlog
    'No open change in the filters' under a table of zeros, though no
    period or filter would help. Each says once that no changes are
    loaded and what to load, and draws nothing else."""
    app = opened(eol_db, monkeypatch, page)
    assert [i.value for i in app.info if "sample data" not in i.value] == [
        f"No changes are loaded, so there is {nothing} to show: load "
        "`changes.csv` (canonical CSV, columns in docs/data-model.md) on the "
        "Data page or with `changeboard load csv changes.csv`, or a "
        "ServiceNow or Jira change export (docs/sources.md)."]
    assert not app.metric and not app.dataframe
    assert any(c.value.startswith("Data as of") for c in app.caption)


def test_overview_without_changes_or_environments_says_what_is_not_loaded(
        eol_db, monkeypatch):
    """Release data alone: the Overview said 'No changes were implemented
    in this period: widen the dates', which no period would help, and its
    change, on-time, utilisation and conflict cards read n/a or 0 over
    n = 0 as if measured. It says no changes are loaded and what to load;
    each card without its records reads n/a and says what is not loaded
    (the on-time card: no release has a planned go-live date)."""
    app = opened(eol_db, monkeypatch, "views/overview.py")
    said = [i.value for i in app.info]
    assert not any("widen the dates" in s for s in said), said
    assert any(s.startswith("No changes are loaded, so there are no change "
                            "outcomes to show: load `changes.csv`")
               for s in said), said
    cards = {m.label: m.value for m in app.metric}
    under = {column.metric[0].label: [c.value for c in column.caption]
             for column in app.columns if len(column.metric) == 1}
    for label in ("Change success rate", "Change failure rate",
                  "Emergency ratio"):
        assert cards[label] == "n/a"
        [caption] = under[label]
        assert caption.endswith(" · no changes are loaded: load "
                                "`changes.csv` on the Data page"), caption
    assert cards["On-time release rate"] == "n/a"
    [on_time] = under["On-time release rate"]
    assert re.fullmatch(
        r"n = 0 releases gone live with a plan · no release in the data "
        r"has a planned go-live date \([\d,]+ releases without one\): map "
        r"`planned_release_at`", on_time), on_time
    assert cards["Environment utilisation"] == "n/a"
    assert under["Environment utilisation"] == [
        "n = 0 environments · no environments are loaded: load "
        "`environments.csv` on the Data page"]
    assert cards["Conflicts ahead"] == "n/a"
    assert under["Conflicts ahead"] == [
        "next 90 days · no environment bookings are loaded: load "
        "`environment_bookings.csv` on the Data page"]
    assert cards["Median release interval"] != "n/a"  # releases: measured


def test_overview_on_changes_alone_says_no_releases_are_loaded(
        bpic_db, monkeypatch):
    """BPIC 2014 holds changes only: the release cards read n/a over
    'n = 0 gaps · 0 releases of 0 applications' and '0 of n = 0 on time',
    and Conflicts ahead read 0. They say what is not loaded; the change
    cards, whose changes are loaded, keep their own captions."""
    app = opened(bpic_db, monkeypatch, "views/overview.py")
    under = {column.metric[0].label: [c.value for c in column.caption]
             for column in app.columns if len(column.metric) == 1}
    assert under["Median release interval"] == [
        "n = 0 gaps · no releases are loaded: load `releases.csv` on the "
        "Data page"]
    assert under["On-time release rate"] == [
        "n = 0 releases gone live with a plan · no releases are loaded: "
        "load `releases.csv` on the Data page"]
    assert {m.label: m.value for m in app.metric}["Conflicts ahead"] == "n/a"
    [success] = under["Change success rate"]
    assert success.startswith("n = ") and "loaded" not in success
    assert any("no close codes" in i.value for i in app.info)


def test_releases_without_plans_or_phases_say_what_is_missing(
        eol_db, monkeypatch):
    """endoflife.date has release dates only: the on-time section and the
    release timeline said 'widen the dates', which no period would help.
    They say the data has no planned date (and which field to map) and no
    release phase (and what to load). The cadence of one application (five
    releases in the period) counts on whole ticks, not 0.2 or 0.5 of a
    release, and its one-row table has no box of empty rows below it."""
    import json

    import streamlit as st

    from changeboard import ui

    heights = {}
    drawn = st.dataframe

    def dataframe(data, *args, **kwargs):  # the height each table is given
        heights[tuple(getattr(data, "column_names", ()))] = kwargs.get(
            "height")
        return drawn(data, *args, **kwargs)

    monkeypatch.setattr(st, "dataframe", dataframe)
    app = opened(eol_db, monkeypatch, "views/releases.py",
                 application_ids="postgresql")
    said = [i.value for i in app.info]
    assert not any("widen the dates" in s for s in said), said
    [on_time] = [s for s in said if "planned go-live date" in s]
    assert on_time.startswith("No release in the data has a planned "
                              "go-live date (`planned_release_at`)")
    # every release gone live counted, as the data's count does: those
    # dated before the pages' earliest day too (9 of 1970 were left out)
    with db.connect(eol_db, read_only=True) as con:
        (gone_live,), = con.execute(
            "select count(*) from releases where actual_release_at is not "
            "null and status <> 'cancelled' and coalesce(release_type, '') "
            "<> 'enterprise'").fetchall()
    assert f": {gone_live:,} releases went live without one" in on_time
    assert "Map `planned_release_at`" in on_time
    assert any(s.startswith("No release phase (dev, SIT, UAT, cut-over ...)"
                            " is loaded") and "`release_phases.csv`" in s
               for s in said), said
    cadence = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]
    assert cadence["yaxis"]["dtick"] == 1 and cadence["yaxis"]["tick0"] == 0
    [height] = [h for names, h in heights.items()
                if "Releases in period" in names]
    assert height == ui.table_height(1, most=300) < 300


def test_environments_without_environments_say_so_and_what_to_load(
        eol_db, monkeypatch):
    """No environment is loaded: the page drew cards of 0 and n/a, a
    Releases pick reading '1–0' and 'widen the go-live dates'. It says
    plainly that no environments are loaded and what to load, and draws
    nothing that reads as measured."""
    app = opened(eol_db, monkeypatch, "views/environments.py")
    [said] = [i.value for i in app.info]
    assert said.startswith("No environments are loaded, so there is no "
                           "utilisation")
    assert "`environments.csv` and `environment_bookings.csv`" in said
    assert not app.metric and not app.tabs
    assert not [s for s in app.selectbox if s.label == "Releases"]
    assert "widen" not in said


def test_cab_since_last_says_the_data_records_no_approval(bpic_db,
                                                         monkeypatch):
    """BPIC 2014 flags CAB-required changes but records no approval: the
    since-last-CAB tab read 'Unauthorised changes n/a · n = 0 ... 0
    unauthorised', as if none had started. The changes with the approval
    missing are unclassified (docs/metrics.md unauthorized_changes), so n
    is 0: the card says how many started so and what to map, as the
    Changes page does, and the list below does not read 'None'. The
    success rate (no close codes) says the same of its changes."""
    app = opened(bpic_db, monkeypatch, "views/cab.py", meeting="2014-02-04",
                 tab="since")
    cards = {m.label: m.value for m in app.metric}
    assert cards["Unauthorised changes"] == cards["Change success rate"] \
        == "n/a"
    said = [c.value for c in app.caption]
    [unauthorised] = [c for c in said
                      if c.startswith("n = 0 CAB-required changes started")]
    # the shipped mapping maps the CAB flag: only the approval is missing;
    # and of the week before, as the pack's files say it
    assert unauthorised == (
        "n = 0 CAB-required changes started · 14 CAB-required changes "
        "started with no approval recorded, so authorisation cannot be "
        "measured: map `approval` and `approved_at` (docs/sources.md, "
        "section 7); before: 11 changes likewise")
    [success] = [c for c in said
                 if c.startswith("n = 0 implemented changes")]
    assert "changes completed without a close code, so no outcome is " \
        "known" in success
    assert "None can be listed: the data does not say, as Unauthorised " \
        "changes above explains." in said
    assert not any("0 unauthorised" in c for c in said)
    assert "Implemented without the required approval (not known)" in [
        s.value for s in app.subheader]


def test_cab_pack_says_the_data_records_no_approval(bpic_db, tmp_path):
    """The CAB page says BPIC 2014's authorisation cannot be measured; the
    pack a CAB acts on read 'n/a · 0 · 0 unauthorised' in its KPI table
    (HTML, PDF, XLSX) and 'None.' under the list of changes implemented
    without approval. It says what the page says, in every format, with
    the counts since the last CAB and before."""
    import io
    import shutil
    import subprocess
    from datetime import date

    import openpyxl

    from reports import cab

    pack = cab.build_pack(bpic_db, date(2014, 2, 4))
    said = ("n = 0 CAB-required changes started · 14 CAB-required changes "
            "started with no approval recorded, so authorisation cannot be "
            "measured: map approval and approved_at (docs/sources.md, "
            "section 7); before: 11 changes likewise")
    page = cab.to_html(pack)
    assert f'<p class="note">Unauthorised changes: {said}.</p>' in page
    assert "0 unauthorised" not in page
    assert "None can be listed: the data does not say, as Unauthorised " \
        "changes above explains." in page
    book = openpyxl.load_workbook(io.BytesIO(cab.to_xlsx(pack)))
    sheet = list(book["Since last CAB - KPIs"].values)
    rows = {r[0]: dict(zip(sheet[0], r, strict=True)) for r in sheet[1:]}
    assert (rows["Unauthorised changes"]["Count"],
            rows["Unauthorised changes"]["Note"]) == ("not known", said)
    assert rows["Change success rate"]["Count"] == "not known"
    if shutil.which("pdftotext") and Path(cab.CHROMIUM).exists():
        pdf = cab.to_pdf(pack, tmp_path / "pack.pdf")
        text = " ".join(subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True,
            check=True).stdout.split())
        assert "0 unauthorised" not in text
        assert "14 CAB-required changes started with no approval " \
            "recorded, so authorisation cannot be measured" in text


def test_bpic_schedule_adherence_says_the_changes_it_cannot_measure(
        bpic_db, monkeypatch):
    """BPIC 2014 closes changes with no actual end recorded: they are
    completed (dated by their closing) in the emergency ratio's n, and
    schedule adherence, which needs the actual end, said '1 without those
    times' of a period where 1,271 were in no count. It says them."""
    app = opened(bpic_db, monkeypatch, "views/changes.py", period="custom",
                 **{"from": "2013-10-01", "to": "2014-03-31"})
    window = {"start_date": "2013-10-01", "end_date": "2014-04-01"}
    with db.connect(bpic_db, read_only=True) as con:
        adherence = db.run(con, "schedule_adherence", **window).iloc[0]
        emergency = db.run(con, "emergency_change_ratio", **window).iloc[0]
    closed_only = int(adherence["n_without_actual_end"])
    assert closed_only > 0
    assert adherence["n"] + adherence["n_unclassified"] + closed_only == \
        emergency["n"] + emergency["n_unclassified"]
    said = next(c.value for c in app.caption
                if "that ended in the period" in c.value)
    assert f" · {closed_only:,} changes closed in the period with no actual " \
        "end recorded, not measured. " in said, said


def test_a_delta_against_a_small_period_before_says_its_n(bpic_db,
                                                          monkeypatch):
    """BPIC 2014's emergency ratio for 2013 read '+0.3 pp' against the year
    before, which holds 3 completed changes: a delta against fewer than
    SMALL_N says that n; one against a large n stays as it was."""
    from datetime import date, timedelta

    from changeboard import charts
    small_n = charts.SMALL_N  # the Overview's SMALL_N is this bound
    app = opened(bpic_db, monkeypatch, "views/overview.py", period="custom",
                 **{"from": "2013-01-01", "to": "2013-12-31"})
    start = date(2013, 1, 1)
    before = {"start_date": start - timedelta(days=365), "end_date": start}
    with db.connect(bpic_db, read_only=True) as con:
        n = int(db.run(con, "emergency_change_ratio", **before).iloc[0]["n"])
    assert 0 < n < small_n
    delta = next(m.proto.delta for m in app.metric
                 if m.label == "Emergency ratio")
    assert re.fullmatch(r"[+-]\d+\.\d pp", delta), delta
    # said under the card, where it cut the delta's verdict off
    from tests.test_pages import card_caption
    assert f" · before: n = {n}" in card_caption(app, "Emergency ratio")


def test_a_filter_the_data_gives_no_value_for_says_so(bpic_db, monkeypatch):
    """BPIC 2014 records no team and no portfolio: those filters read
    "All" and opened on "No results". They say "None in the data" and
    cannot be opened; the filters it does record still can."""
    with db.connect(bpic_db, read_only=True) as con:
        options = db.run(con, "filter_options")
    given = set(options["filter_name"])
    assert "teams" not in given and "portfolios" not in given
    assert "change_types" in given
    app = opened(bpic_db, monkeypatch, "views/overview.py")
    for key in ("filter-teams", "filter-portfolios"):
        box = app.sidebar.multiselect(key=key)
        assert (box.proto.placeholder, box.proto.disabled) == (
            "None in the data", True), key
        assert "records no" in box.help
    kinds = app.sidebar.multiselect(key="filter-change_types")
    assert (kinds.proto.placeholder, kinds.proto.disabled) == ("All", False)


def test_an_incident_log_beside_bpic_leaves_the_default_period_on_its_changes(
        bpic_db, tmp_path, monkeypatch):
    """BPIC 2014 beside the UCI incident log, whose incidents no BPIC change
    caused (a few name changes not loaded): the presets ended with the
    incidents, in 2017, and every change card read n/a. They end with what
    the pages report on: the changes, and an incident a loaded change
    caused."""
    import shutil

    from streamlit.testing.v1 import AppTest

    from changeboard import config
    from tests.rows import insert_rows

    copy = tmp_path / "both.duckdb"
    shutil.copyfile(bpic_db, copy)
    with db.publish(copy) as con:
        [(last_change,)] = con.execute(
            "select change_id from changes order by greatest(created_at, "
            "closed_at) desc, change_id limit 1").fetchall()
        insert_rows(con, "incidents", [
            {"incident_id": "UCI1", "opened_at": "2017-02-16 14:17Z"},
            {"incident_id": "UCI2", "opened_at": "2016-05-19 15:42Z",
             "caused_by_change_id": "CHG-NOT-LOADED"},
            {"incident_id": "UCI3", "opened_at": "2014-04-20 09:00Z",
             "caused_by_change_id": last_change}])
    with db.connect(copy, read_only=True) as con:
        status = db.run(con, "data_status").iloc[0]
    assert str(status["latest_record_at"]).startswith("2017-02-16")
    assert str(status["latest_reported_at"]).startswith("2014-04-20")

    monkeypatch.setattr(config, "DB_PATH", copy)
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1]
                                / "app.py"), default_timeout=120).run()
    assert not app.exception
    assert ("The data ends on 20 Apr 2014 (incidents no change caused run to "
            "16 Feb 2017): the period ends there.") in [
        c.value for c in app.sidebar.caption]
    assert {m.label: m.value for m in app.metric}["Emergency ratio"] != "n/a"


def test_bpic_months_of_few_changes_are_grey_points_said_under_the_chart(
        bpic_db, monkeypatch):
    """BPIC 2014 over 2013-2014: July 2013's emergency ratio, 1 change of
    15, drew a 6.7 % spike as loud as the months of a thousand. Its point
    is grey, and the caption says what a grey point is."""
    import json

    from streamlit.testing.v1 import AppTest

    from changeboard import charts, config

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setattr(config, "DB_PATH", bpic_db)
    app = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    app.query_params.update({"period": "custom", "from": "2013-01-01",
                             "to": "2014-12-31"})
    app.switch_page("views/changes.py").run()
    assert not app.exception
    assert any(c.value.startswith("Emergency ratio") and c.value.endswith(
        "A grey point rates fewer than 30 changes: a small sample.")
        for c in app.caption)
    [chart] = [json.loads(c.proto.spec) for c in app.get("plotly_chart")
               if "share of emergency changes" in c.proto.spec]
    [trace] = chart["data"]
    small = [n < 30 for n, _ in trace["customdata"] if n]
    colours = [c for (n, _), c in zip(trace["customdata"],
                                      trace["marker"]["color"], strict=True)
               if n]
    assert any(small) and not all(small)
    assert colours == [charts.SMALL_N_COLOUR if s else charts.SERIES[0]
                       for s in small]


def test_the_jira_version_list_mapping_in_the_docs_loads_apaches_versions(
        tmp_path_factory):
    """docs/sources.md's mapping for a Jira version list exported as a file
    (a release manager found no recipe for one): OPENJPA's 37 versions load
    as releases named as `sync jira-versions` names them."""
    source = need(REAL / "apache-jira-versions" / "OPENJPAVersionInfo.csv")
    text = (Path(__file__).resolve().parents[1] / "docs" /
            "sources.md").read_text()
    block = re.search(r"  ```toml\n((?:(?:  .*)?\n)+?)  ```\n", text[text.index(
        "**Jira versions exported as a file**"):]).group(1)
    from tests.clirun import run
    folder = tmp_path_factory.mktemp("jira-versions")
    mapping, path = folder / "versions.toml", folder / "versions.duckdb"
    mapping.write_text("\n".join(line[2:] for line in block.splitlines()))
    done = run("changeboard", "load", "mapping", str(source), "--mapping",
               str(mapping), "--db", str(path))
    assert done.returncode == 0, done.stderr
    with db.connect(path, read_only=True) as con:
        n, first, live, planned = con.execute(
            "select count(*), min(release_id), count(actual_release_at), "
            "count(planned_release_at) from releases").fetchone()
        # the file holds no plan: mapped as the plan too, every version
        # was on time by construction (100% of n = 27 under All data)
        on_time = db.run(con, "release_on_time", start_date="2000-01-01",
                         end_date="2030-01-01").iloc[0]
    assert (n, live, planned) == (37, 37, 0)
    assert first.startswith("OPENJPA:")
    assert (on_time["n"], on_time["n_unclassified"]) == (0, 37)
