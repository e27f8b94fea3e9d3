"""The Changes page and approval_lead_time_records: given rows, AppTest."""
import re
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db
from tests.clicks import open_page, send
from tests.rows import insert_rows

ROOT = Path(__file__).resolve().parents[1]
JAN = {"start_date": "2026-01-01", "end_date": "2026-02-01"}


def change(change_id, created, approved, approval="approved", **extra):
    return {"change_id": change_id, "change_type": "normal", "state": "closed",
            "title": f"title {change_id}", "approval": approval,
            "created_at": created, "approved_at": approved, **extra}


# --- approval_lead_time_records -------------------------------------------------

def test_each_approval_in_the_window_is_a_row_with_its_hours_and_kind(
        con, given):
    given("changes", [
        change("C1", "2026-01-01 00:00Z", "2026-01-02 12:00Z"),  # 36 h
        change("C2", "2026-01-05 00:00Z", "2026-01-04 00:00Z"),  # negative
        change("C3", "2026-01-05 00:00Z", "2026-01-06 00:00Z",
               approval="rejected"),
        change("C4", "2026-01-05 00:00Z", "2026-01-07 00:00Z", approval=None),
    ])
    rows = db.run(con, "approval_lead_time_records", **JAN)
    assert rows[["change_id", "lead_time_hours", "kind"]].to_dict(
        "records") == [
        {"change_id": "C1", "lead_time_hours": 36.0, "kind": "measured"},
        {"change_id": "C2", "lead_time_hours": -24.0, "kind": "invalid"},
        {"change_id": "C3", "lead_time_hours": 24.0, "kind": "excluded"},
        {"change_id": "C4", "lead_time_hours": 48.0, "kind": "unclassified"},
    ]
    assert rows.loc[0, "title"] == "title C1"
    # one row per change the summary counts, of every kind: the Changes
    # page's list label counts them from the summary, without the rows
    summary = db.run(con, "approval_lead_time_summary", **JAN).iloc[0]
    assert [summary[k] for k in ("n", "n_invalid", "n_excluded",
                                 "n_unclassified")] == [1, 1, 1, 1]


def test_approval_exactly_at_end_date_is_outside_the_window(con, given):
    given("changes", [
        change("C1", "2025-12-31 00:00Z", "2026-01-01 00:00Z"),  # in
        change("C2", "2026-01-30 00:00Z", "2026-02-01 00:00Z"),  # out
        change("C3", "2026-01-30 00:00Z", None),  # approved, no time: out
    ])
    rows = db.run(con, "approval_lead_time_records", **JAN)
    assert list(rows["change_id"]) == ["C1"]


def test_records_add_up_to_the_approval_lead_time_counts(con, given):
    given("changes", [
        change("C1", "2026-01-01 00:00Z", "2026-01-01 10:00Z"),
        change("C2", "2026-01-01 00:00Z", "2026-01-01 20:00Z",
               change_type="emergency"),
        change("C3", "2026-01-01 00:00Z", "2026-01-02 06:00Z"),
        change("C4", "2026-01-05 00:00Z", "2026-01-04 00:00Z"),
    ])
    rows = db.run(con, "approval_lead_time_records", **JAN)
    summary = db.run(con, "approval_lead_time_summary", **JAN).iloc[0]
    measured = rows[rows["kind"] == "measured"]["lead_time_hours"]
    assert len(measured) == summary["n"] == 3
    assert measured.median() == summary["median_lead_time_hours"] == 20
    assert (rows["kind"] == "invalid").sum() == summary["n_invalid"] == 1


def test_approval_records_follow_the_global_filters(con, given):
    given("changes", [
        change("C1", "2026-01-01 00:00Z", "2026-01-01 10:00Z",
               assignment_group="Ops"),
        change("C2", "2026-01-01 00:00Z", "2026-01-01 20:00Z",
               assignment_group="Web", change_type="emergency"),
    ])
    assert list(db.run(con, "approval_lead_time_records", **JAN,
                       teams=["Web"])["change_id"]) == ["C2"]
    assert list(db.run(con, "approval_lead_time_records", **JAN,
                       change_types=["normal"])["change_id"]) == ["C1"]


@pytest.mark.parametrize("name", ["approval_lead_time_records"])
def test_my_queries_run_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2025-01-01",
                      end_date="2027-01-01")
    assert len(rows) > 0


# --- approval_lead_time_histogram ----------------------------------------------

def approvals_of_every_kind() -> list[dict]:
    """Approved changes measured, invalid, excluded and unclassified."""
    return [
        change("C1", "2026-01-01 00:00Z", "2026-01-02 12:00Z"),  # 36 h
        change("C2", "2026-01-01 00:00Z", "2026-01-01 10:00Z"),  # 10 h
        change("C3", "2026-01-01 00:00Z", "2026-01-01 20:00Z",
               change_type="emergency"),  # 20 h
        change("C4", "2026-01-05 00:00Z", "2026-01-04 00:00Z"),  # invalid
        change("C5", "2026-01-05 00:00Z", "2026-01-05 05:00Z",
               approval="rejected"),  # excluded
        change("C6", "2026-01-05 00:00Z", "2026-01-06 00:00Z",
               approval=None),  # unclassified
    ]


def test_the_histogram_counts_the_measured_approvals_in_their_bins(
        con, given):
    given("changes", [
        *approvals_of_every_kind(),
        change("C7", "2026-01-05 00:00Z", "2026-01-06 00:00Z"),  # 24 h
        change("C8", "2026-01-05 00:00Z", "2026-01-07 02:00Z",
               change_type="standard"),  # 50 h
    ])
    rows = db.run(con, "approval_lead_time_histogram", **JAN)
    assert [tuple(r) for r in rows[["change_type", "bin_start_hours",
                                    "bin_end_hours", "n"]].itertuples(
        index=False)] == [("emergency", 0, 24, 1), ("normal", 0, 24, 1),
                          ("normal", 24, 48, 2), ("standard", 48, 72, 1)]
    halves = db.run(con, "approval_lead_time_histogram", **JAN, bin_hours=12)
    assert list(halves["bin_start_hours"]) == [12, 0, 24, 36, 48]
    assert list(halves["n"]) == [1, 1, 1, 1, 1]


def test_the_histogram_holds_every_measured_record_of_the_sample(sample_db):
    years = {"start_date": "2025-01-01", "end_date": "2027-01-01"}
    with db.connect(sample_db, read_only=True) as con:
        bins = db.run(con, "approval_lead_time_histogram", **years)
        records = db.run(con, "approval_lead_time_records", **years)
    measured = records[records["kind"] == "measured"]
    counted = measured.assign(
        bin_start_hours=(measured["lead_time_hours"] // 24) * 24.0,
        change_type=measured["change_type"].astype(object)).groupby(
        ["change_type", "bin_start_hours"], dropna=False).size()
    assert len(measured) > 100
    assert dict(counted) == {(t, b): n for t, b, n in zip(
        bins["change_type"], bins["bin_start_hours"], bins["n"],
        strict=True)}


# --- approval_lead_time_groups ------------------------------------------------

APPROVAL_QUERIES = ("approval_lead_time_summary", "approval_lead_time",
                    "approval_lead_time_histogram")


def assert_approval_groups_equal_the_queries(con, **params):
    """The groups query's rows, cut (changeboard/groups.py), are the three
    queries' frames, column for column and dtype for dtype."""
    from changeboard import groups
    frames = groups.cut("approval_lead_time_groups",
                        db.run(con, "approval_lead_time_groups", **params))
    for name in APPROVAL_QUERIES:
        takes = db.params(name)
        pd.testing.assert_frame_equal(frames[name], db.run(
            con, name, **{k: v for k, v in params.items() if k in takes}))
    return frames


def test_one_read_gives_the_summary_each_type_and_the_bins(con, given):
    given("changes", [
        *approvals_of_every_kind(),
        change("C7", "2026-01-05 00:00Z", "2026-01-07 02:00Z",
               change_type="standard"),  # 50 h
        change("C8", "2025-12-01 00:00Z", "2025-12-31 23:00Z"),  # before
    ])
    frames = assert_approval_groups_equal_the_queries(con, **JAN)
    total = frames["approval_lead_time_summary"].iloc[0]
    assert (total["n"], total["n_invalid"], total["n_excluded"],
            total["n_unclassified"]) == (4, 1, 1, 1)
    assert total["median_lead_time_hours"] == pytest.approx(28.0)
    by_type = frames["approval_lead_time"]
    assert list(by_type["change_type"]) == ["emergency", "normal", "standard"]
    assert list(by_type["n"]) == [1, 2, 1]
    assert list(by_type["n_invalid"]) == [0, 1, 0]
    assert [tuple(r) for r in frames["approval_lead_time_histogram"][
        ["change_type", "bin_start_hours", "n"]].itertuples(index=False)] \
        == [("emergency", 0, 1), ("normal", 0, 1), ("normal", 24, 1),
            ("standard", 48, 1)]
    halves = assert_approval_groups_equal_the_queries(con, **JAN,
                                                      bin_hours=12)
    assert list(halves["approval_lead_time_histogram"]["bin_start_hours"]) \
        == [12, 0, 36, 48]


def test_a_window_without_approvals_is_one_zero_summary_and_no_rows(
        con, given):
    given("changes", [change("C1", "2025-12-01 00:00Z", "2025-12-02 00:00Z")])
    frames = assert_approval_groups_equal_the_queries(con, **JAN)
    total = frames["approval_lead_time_summary"]
    assert len(total) == 1 and total.iloc[0]["n"] == 0
    assert total["median_lead_time_hours"].isna().all()
    assert frames["approval_lead_time"].empty
    assert frames["approval_lead_time_histogram"].empty


@pytest.mark.parametrize("extra", [
    {}, {"reporting_tz": "Asia/Kolkata", "bin_hours": 6},
    {"change_types": ["normal", "emergency"]}, {"tiers": ["prod"]},
    {"teams": ["Payments"], "bin_hours": 48}])
def test_the_groups_query_gives_the_three_queries_rows_on_the_sample(
        sample_db, extra):
    from datetime import date, timedelta
    end = date.today() + timedelta(days=1)
    with db.reading(sample_db) as con:
        frames = assert_approval_groups_equal_the_queries(
            con, start_date=end - timedelta(days=365), end_date=end, **extra)
    if not extra.get("teams"):  # the sample has approvals in every other
        assert len(frames["approval_lead_time_histogram"]) > 5
        assert frames["approval_lead_time_summary"].iloc[0]["n"] > 20


# --- the start of a long result (db.head, ui.Part) -----------------------------

@pytest.mark.parametrize("name", ["approval_lead_time_records",
                                  "unauthorized_change_records",
                                  "change_records"])
def test_a_head_is_the_first_rows_in_order_and_counts_them_all(sample_db,
                                                              name):
    years = {"start_date": "2025-01-01", "end_date": "2027-01-01"}
    with db.connect(sample_db, read_only=True) as con:
        whole = db.run(con, name, **years)
        first, n = db.head(con, name, 7, **years)
        everything, n_all = db.head(con, name, len(whole) + 5, **years)
    assert n == n_all == len(whole) > 7
    # a text column empty in the first rows (no incident among them) is
    # of object dtype there, as DuckDB's .df() gives one: empty in both
    empty = [c for c in first.columns if first[c].isna().all()]
    assert whole.head(7)[empty].isna().all().all()
    pd.testing.assert_frame_equal(first.drop(columns=empty),
                                  whole.head(7).drop(columns=empty))
    pd.testing.assert_frame_equal(everything, whole)


def test_unauthorized_only_keeps_the_unauthorised_rows(sample_db):
    years = {"start_date": "2025-01-01", "end_date": "2027-01-01"}
    with db.connect(sample_db, read_only=True) as con:
        whole = db.run(con, "unauthorized_change_records", **years)
        only = db.run(con, "unauthorized_change_records", **years,
                      unauthorized_only=True)
    expected = whole[whole["is_unauthorized"].fillna(False).astype(bool)]
    assert 0 < len(only) < len(whole)
    pd.testing.assert_frame_equal(only, expected.reset_index(drop=True))


def test_long_tables_draw_their_first_rows_and_download_them_all(
        sample_db, monkeypatch):
    from changeboard import ui
    monkeypatch.setattr(ui, "SHOWN_ROWS", 3)
    app = _last_year(sample_db, monkeypatch)
    approved = next(e for e in app.expander
                    if "with an approval time in the period" in e.label)
    n_approved = int(approved.label.split()[1].replace(",", ""))
    # the approval records are read when their list is opened
    assert not approved.children
    assert not any("lead_time_hours" in d.value for d in app.dataframe)
    app.session_state["approval-records"] = True
    app.run()
    assert not app.exception
    text = captions(app)
    n_unauthorized = int(re.search(r"([\d,]+) of n = [\d,]+ CAB-required",
                                   text).group(1).replace(",", ""))
    assert n_approved > 3 and n_unauthorized > 3
    for n in (n_approved, n_unauthorized):
        assert f"Showing the first 3 of {n:,} rows" in text
    approvals, unauthorized = (next(d.value for d in app.dataframe
                                    if column in d.value)
                               for column in ("lead_time_hours",
                                              "is_unauthorized"))
    assert len(approvals) == len(unauthorized) == 3
    # the downloads read the whole, under the table's labels
    window = ui.window_for("last_365")
    part = ui.scoped_part("unauthorized_change_records", window, {},
                          unauthorized_only=True)
    assert part.n == n_unauthorized == len(part.whole())


def test_the_approval_list_stays_open_when_its_count_changes(
        sample_db, monkeypatch):
    """Opened (as a browser sends it: the expander's new state, then the
    rerun), the list stays open when a filter changes its count, and
    closes when closed."""
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "views" / "changes.py"),
                            default_timeout=120)
    app.query_params["period"] = "last_365"
    app.run()

    def listing():
        return next(e for e in app.expander
                    if "with an approval time in the period" in e.label)

    def click(is_open: bool) -> None:
        send(app, listing()._block_id, bool_value=is_open)

    assert not listing().children
    click(True)
    every = listing().label
    assert listing().children
    app.multiselect(key="filter-change_types").set_value(["normal"]).run()
    assert listing().label != every and listing().children
    click(False)
    assert not listing().children
    app.multiselect(key="filter-change_types").set_value([]).run()
    assert listing().label == every and not listing().children


# --- the page -------------------------------------------------------------------

@pytest.fixture
def app(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "last_365"
    return app.switch_page("views/changes.py").run()


def captions(app) -> str:
    return " ".join(c.value for c in app.caption)


def test_changes_page_renders_every_section_with_its_n(app):
    assert not app.exception
    headers = [s.value for s in app.header]
    assert headers[:2] == ["Change outcomes per month",
                           "Success rate by type, risk, team and application"]
    assert "Changes implemented without required CAB approval" in headers
    text = captions(app)
    assert "n = " in text and "implemented changes" in text
    assert "Data as of" in text
    assert any(e.label == "How is this computed?" for e in app.expander)


def test_the_adherence_says_its_left_out_changes_are_dated_as_its_n(app):
    """Schedule adherence read "0 cancelled or rejected" beside the success
    rate's "41 cancelled or rejected left out": it dates them by their
    actual end, which a change cancelled before it started has not."""
    said = next(c.value for c in app.caption
                if "with planned and actual start and end" in c.value)
    assert re.search(r" · [\d,]+ cancelled or rejected that ended in the "
                     r"period", said), said


def test_a_filter_changes_the_numbers(app):
    before = captions(app)
    app.multiselect(key="filter-change_types").select("emergency").run()
    assert not app.exception
    assert captions(app) != before
    assert app.radio(key="by").value == "Type"
    table = next(d.value for d in app.dataframe if "Type" in d.value.columns)
    assert list(table["Type"]) == ["Emergency"]


def test_picking_a_breakdown_value_shows_its_changes(app):
    app.selectbox(key="changes_change_type").select("normal").run()
    assert not app.exception
    records = next(d.value for d in app.dataframe
                   if "kind" in d.value.columns)
    assert len(records) > 0
    assert set(records["change_type"]) == {"Normal"}


@pytest.mark.parametrize("by, column", [("Type", "change_type"),
                                        ("Risk", "risk")])
def test_a_type_or_risk_breakdown_says_its_values_in_words(app, by, column):
    """The breakdown by type or risk drew the codes ('emergency',
    'very_high') on its bars, table and drill-down, where the records
    below and every other page say 'Emergency', 'Very high'. They read
    in words; the pick is still the code (the records are its)."""
    import json

    from changeboard import ui
    app.radio(key="by").set_value(by).run()
    table = next(d.value for d in app.dataframe if by in d.value.columns)
    said = [v for v in table[by] if v != ui.NONE]
    assert said and all(v == ui.word(v.lower().replace(" ", "_"))
                        and v[0].isupper() for v in said), said
    chart = next(c for c in app.get("plotly_chart")
                 if c.key == f"by-chart-{column}")
    drawn = {y for trace in json.loads(chart.proto.spec)["data"]
             for y in trace["y"]}
    assert set(said) <= drawn
    box = app.selectbox(key=f"changes_{column}")
    assert set(said) <= set(box.options)
    box.select(said[0]).run()
    assert not app.exception
    picked = app.selectbox(key=f"changes_{column}").value
    assert picked == said[0].lower().replace(" ", "_")
    records = next(d.value for d in app.dataframe if "kind" in d.value)
    assert set(records[column]) == {said[0]}


def test_the_approval_lead_time_says_its_types_in_words_in_their_colours(app):
    """The approval lead time's histogram and table said 'emergency',
    'normal' where the breakdown above and every other page say
    'Emergency', 'Normal', and drew the types in colours of their own. They
    read in words, in the colours the calendar draws them in; the download
    keeps the codes."""
    import json

    from changeboard import charts
    table = next(d.value for d in app.dataframe
                 if "Median (hours)" in d.value.columns)
    assert list(table["Type"]) and set(table["Type"]) <= set(
        charts.TYPE_COLOURS), list(table["Type"])
    chart = next(c for c in app.get("plotly_chart")
                 if c.key == "approval-chart")
    traces = json.loads(chart.proto.spec)["data"]
    assert {t["name"] for t in traces} == set(table["Type"])
    assert all(t["marker"]["color"] == charts.TYPE_COLOURS[t["name"]]
               for t in traces), [(t["name"], t["marker"]) for t in traces]


@pytest.mark.parametrize("by", ["Team", "Application", "Risk"])
def test_a_breakdown_row_lists_as_many_changes_as_it_counts(app, by):
    # team and application are read through the query's filter, risk and
    # (none) matched on the page: each lists its row's n + excluded +
    # unclassified (the rows of change_records, its population)
    app.radio(key="by").set_value(by).run()
    table = next(d.value for d in app.dataframe if by in d.value.columns)
    for _, row in table.head(3).iterrows():
        box = app.selectbox(key=next(k for k in (
            "changes_team", "changes_application", "changes_risk")
            if k.endswith(by.lower())))
        box.select(row[by]).run()
        assert not app.exception
        said = next(c.value for c in app.caption
                    if " changes behind " in c.value)
        total = row["Implemented (n)"] + row["Excluded"] + row["Unclassified"]
        assert said.startswith(f"{int(total):,} changes behind"), (by, row)


def test_a_team_score_lists_the_teams_implemented_changes(app):
    score = next(d.value for d in app.dataframe
                 if "Score per change" in d.value.columns)
    team, n = score.iloc[0]["Team"], score.iloc[0]["Implemented (n)"]
    app.selectbox(key="changes_score_team").select(team).run()
    said = next(c.value for c in app.caption if " changes behind " in c.value)
    assert said.startswith(f"{int(n):,} changes behind")
    records = next(d.value for d in app.dataframe
                   if "kind" in d.value.columns)
    assert set(records["kind"]) == {"Implemented"}
    assert set(records["assignment_group"]) == {team}


def test_failed_only_lists_a_teams_failed_changes_alone(app, monkeypatch):
    """A process owner going through a team's failures read every change of
    the team: Failed only lists the failed ones, as many as the team's row
    counts failed, with their signals, and the file says so by its name."""
    by = next(d.value for d in app.dataframe
              if "Score per change" in d.value.columns)
    app.selectbox(key="changes_score_team").select(by.iloc[0]["Team"]).run()
    every = next(d.value for d in app.dataframe if "kind" in d.value.columns)
    failed = every[every["is_failed"]]
    assert 0 < len(failed) < len(every)
    from tests.clicks import download_names
    names = download_names(monkeypatch)
    app.toggle(key="failed-only-team").set_value(True).run()
    assert not app.exception
    said = next(c.value for c in app.caption if " behind " in c.value)
    assert said.startswith(f"{len(failed):,} failed change")
    shown = next(d.value for d in app.dataframe if "kind" in d.value.columns)
    assert list(shown["change_id"]) == list(failed["change_id"])
    assert shown["is_failed"].all()
    team = [n for n in names if n.startswith("implemented-changes-team-")]
    assert team and all("-failed-" in n for n in team), names


def test_a_team_picked_in_the_breakdown_and_the_score_at_once(app):
    """Break down by Team, a team picked there and the same team's score
    picked below drew two record tables with the same file names: the
    page stopped on a duplicate key (a slow-path hunt at a million
    changes). The score's list is of implemented changes, and is named so."""
    app.radio(key="by").set_value("Team").run()
    team = app.selectbox(key="changes_team").options[0]
    app.selectbox(key="changes_team").select(team).run()
    app.selectbox(key="changes_score_team").select(team).run()
    assert not app.exception
    said = [c.value for c in app.caption if " behind " in c.value]
    assert len(said) == 2


def test_a_team_picked_in_a_box_is_its_tables_selected_row(app):
    """The drill-down boxes followed a table's row, not the other way (a
    review): a team picked in the box under the breakdown's table, or the
    score's, is that table's selected row; none picked, none selected."""
    app.radio(key="by").set_value("Team").run()
    box = app.selectbox(key="changes_team")
    team = box.options[1]
    box.select(team).run()
    breakdown = next(d.value for d in app.dataframe
                     if "Success rate" in d.value.columns
                     and "Team" in d.value.columns)
    assert app.session_state["by-table-team"]["selection"]["rows"] == [
        list(breakdown["Team"]).index(team)]
    app.selectbox(key="changes_team").set_value(None).run()
    assert app.session_state["by-table-team"]["selection"]["rows"] == []
    score = app.selectbox(key="changes_score_team")
    score.select(score.options[2]).run()
    assert app.session_state["score-table"]["selection"]["rows"] == [2]


def test_the_page_counts_and_says_the_sites_failure_threshold(
        sample_db, monkeypatch):
    """CHANGEBOARD_FAILURE_MIN_PRIORITY=1: the success rate's failures are
    those of the query given failure_min_priority=1, and the page says
    'linked P1 incident' where it said 'linked incident'."""
    from datetime import date
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "1")
    start, end = date.today() - timedelta(days=365), date.today()
    app = open_page("changes", str(start), str(end))
    said = next(c.value for c in app.caption
                if c.value.startswith("Success rate "))
    window = {"start_date": start, "end_date": end + timedelta(days=1)}
    with db.reading(sample_db) as con:
        urgent = db.run(con, "change_success_rate", failure_min_priority=1,
                        **window).iloc[0]
        every = db.run(con, "change_success_rate", failure_min_priority=None,
                       **window).iloc[0]
    assert urgent["n_failed"] < every["n_failed"]  # the sample tells apart
    assert f"{int(urgent['n_failed']):,} failed (close code, linked P1 " \
        "incident or rolled-back deployment)" in said, said


def test_picking_a_period_shows_the_changes_of_that_period(app):
    box = app.selectbox(key="changes_period")
    box.select(box.options[-1]).run()
    assert not app.exception
    records = next(d.value for d in app.dataframe
                   if "kind" in d.value.columns)
    assert len(records) > 0
    months = set(records["outcome_at"].dt.strftime("%Y-%m"))
    assert months == {app.selectbox(key="changes_period").value}


def axis(app, key: str) -> list[str]:
    """The periods a trend chart's x axis draws, as it says them."""
    import json
    chart = next(c for c in app.get("plotly_chart") if c.key == key)
    return list(json.loads(chart.proto.spec)["data"][0]["x"])


@pytest.mark.parametrize("grain, said", [
    ("month", r"[A-Z][a-z]{2} \d{4}( \(part\))?"),
    ("week", r"Week \d{1,2}, \d{4}( \(part\))?")])
def test_a_periods_drill_down_reads_as_the_charts_axis(app, grain, said):
    """The drill-downs into a trend's period offered its code ('2026-11',
    '2026-W47') where the chart's axis read 'Nov 2026'; the axis and the
    options now say a period the same way, in words ('Nov 2026', 'Week
    47, 2026'), the pick is still the period's code (and a month's bar,
    drawn on a date axis, picked '2026-11-01', no option at all)."""
    from changeboard import ui
    app.radio(key="grain").set_value(grain).run()
    for chart, key in (("outcome-chart", "changes_period"),
                       ("emergency-chart", "emergencies_period")):
        drawn, box = axis(app, chart), app.selectbox(key=key)
        assert box.options and set(box.options) <= set(drawn), key
        assert all(re.fullmatch(said, p) for p in drawn), drawn
    box = app.selectbox(key="changes_period")
    shown = box.options[-1]
    box.select(shown).run()
    assert not app.exception
    picked = app.selectbox(key="changes_period").value
    assert re.fullmatch(r"\d{4}-(W\d{2}|\d{2})", picked)
    # Markdown-escaped in the caption's source: 'Week 49, 2026 \\(part\\)'
    assert f" behind {ui.plain(shown)}; the Counted as" in captions(app)
    box = app.selectbox(key="emergencies_period")
    shown = box.options[-1]
    box.select(shown).run()
    # 'N emergency changes', or '1 emergency change' (the sample is laid
    # out from today, so some days the last such period holds one)
    assert re.search(r"\b[\d,]+ emergency changes? completed in "
                     + re.escape(ui.plain(shown)) + r"\.", captions(app)), \
        captions(app)


@pytest.mark.parametrize("grain", ["month", "week"])
def test_a_period_the_dates_cut_says_so_on_the_axis_and_in_its_pick(
        app, grain):
    """The last 12 months end today and start mid-month: the first and
    last months (and weeks) hold part of their changes, and their rates
    stand on fewer. The axis said 'Dec 2025' like any month; it says
    'Dec 2025 (part)' for exactly the periods the query marks incomplete,
    and the drill-down and its caption say the period the same way."""
    from changeboard import ui
    app.radio(key="grain").set_value(grain).run()
    with db.reading(config.DB_PATH) as con:
        trend = ui.in_words(db.run(
            con, "change_success_rate_by_period", grain=grain,
            **ui.window_for("last_365")))[0]
    cut = [p for p, complete in zip(trend["period"], trend["is_complete"],
                                    strict=True) if not complete]
    assert cut and all(p.endswith(" (part)") for p in cut)
    drawn = axis(app, "outcome-chart")
    assert [p for p in drawn if p.endswith(" (part)")] == cut
    assert len(drawn) - len(cut) >= 10
    # the drill-down offers the periods with implemented changes, cut ones
    # as the axis says them (the sample is laid out from today: on a
    # Monday the last week's part holds none, and the first is whole)
    box = app.selectbox(key="changes_period")
    offered = [p for p in cut if p in box.options]
    assert offered == [p for p, n in zip(trend["period"], trend["n"],
                                         strict=True) if p in cut and n > 0]
    assert offered or grain == "week"  # a year's first month is cut
    if not offered:
        return
    box.select(offered[0]).run()
    assert f" behind {ui.plain(offered[0])}; the Counted as" in captions(app)
    assert re.fullmatch(r"\d{4}-(W\d{2}|\d{2})",
                        app.selectbox(key="changes_period").value)


def test_a_tables_rates_read_with_one_decimal_as_the_cards(app):
    """Streamlit's "percent" format wrote a rate with up to two decimals,
    trailing zeros dropped: 83.58 %, 96.91 % and 100 % in one column, where
    the cards say 93.5 %. The breakdown's rates read with one decimal: the
    query's 0-1 rates drawn x 100 under '%.1f%%'."""
    import json

    from changeboard import ui
    table = next(d for d in app.dataframe if "Success rate" in d.value)
    drawn_as = json.loads(table.proto.columns)["Success rate"]
    assert drawn_as["type_config"]["format"] == "%.1f%%"
    with db.reading(config.DB_PATH) as con:
        by = db.run(con, "change_success_rate_by", dimension="change_type",
                    **ui.window_for("last_365"))
    rates = dict(zip(by["dimension_value"].map(ui.word),
                     by["change_success_rate"], strict=True))
    drawn = dict(zip(table.value["Type"], table.value["Success rate"],
                     strict=True))
    assert drawn.keys() == rates.keys()
    for kind, rate in rates.items():
        assert drawn[kind] == pytest.approx(rate * 100)


def test_a_click_on_a_period_picks_its_code(monkeypatch):
    """A click on a trend's bar or point gives the period as the axis says
    it; the drill-down picks its code."""
    from types import SimpleNamespace

    from changeboard import ui
    clicked = SimpleNamespace(selection=SimpleNamespace(
        points=[{"x": "Nov 2026"}]))
    state = {"outcome-chart": clicked}
    monkeypatch.setattr(ui, "st", SimpleNamespace(session_state=state))
    trend, codes = ui.in_words(pd.DataFrame(
        {"period_label": ["2026-10", "2026-11"], "n": [3, 4]}))
    assert list(trend["period"]) == ["Oct 2026", "Nov 2026"]
    ui.pick_point("outcome-chart", "changes_period", "x", codes)
    assert state["changes_period"] == "2026-11"
    ui.pick_point("outcome-chart", "team", "x")  # no words: as clicked
    assert state["team"] == "Nov 2026"


def test_the_view_round_trips_through_the_url(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params.update({"period": "last_365", "grain": "week",
                             "by": "Risk", "teams": "Digital Web"})
    app.switch_page("views/changes.py").run()
    assert not app.exception
    assert app.radio(key="grain").value == "week"
    assert app.radio(key="by").value == "Risk"
    assert app.multiselect(key="filter-teams").value == ["Digital Web"]
    assert app.header[0].value == "Change outcomes per week"


def test_a_period_before_the_changes_says_where_they_are(sample_db,
                                                         monkeypatch):
    # no wider preset reaches 2001: the page says where the changes are
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = open_page("changes", "2001-01-01", "2001-01-31")
    said = [i.value for i in app.info]
    # its period is a custom range already (it said to pick one)
    assert any(re.search(r"No changes ended in this period — the changes "
                         r"loaded run from \d\d \w{3} \d{4} to \d\d \w{3} "
                         r"\d{4}: pick dates there\.", i) for i in said), said
    assert not any("widen the dates" in i for i in said), said


def page_on_rewritten_changes(sample_db, tmp_path, monkeypatch, sets: str,
                              where: str = "", params: dict | None = None,
                              **url) -> tuple[AppTest, Path]:
    """The Changes page (last 365 days) on a copy of the sample whose
    changes `update changes set <sets> <where>` rewrote, written as a load
    writes it: with a batch id above every earlier one, so the publish
    recomputes the derived tables of what it changed."""
    import shutil
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        con.execute(f"update changes set {sets}, ingested_batch_id = (select "
                    "coalesce(max(batch_id), 0) + 1 from ingest_batches) "
                    + where, params or {})
    monkeypatch.setattr(config, "DB_PATH", copy)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params.update({"period": "last_365", **url})
    app.switch_page("views/changes.py").run()
    return app, copy


def _sidebar_period(app: AppTest) -> dict:
    """The period the sidebar shows ('03 Dec 2025 – 02 Dec 2026 (365
    days)') as a query's start_date and end_date (exclusive)."""
    from datetime import datetime, timedelta

    shown = next(m for c in app.sidebar.caption if (m := re.search(
        r"(\d\d \w{3} \d{4}) – (\d\d \w{3} \d{4})", c.value)))
    start, last = (datetime.strptime(d, "%d %b %Y").date()
                   for d in shown.groups())
    return {"start_date": start, "end_date": last + timedelta(days=1)}


def test_a_source_without_close_codes_says_so_not_to_widen_the_dates(
        sample_db, tmp_path, monkeypatch):
    """A source that records no close code (BPIC 2014's shape): every
    outcome section says how many completed changes lack one, the
    breakdown draws no empty chart and still counts them in its table."""
    from changeboard import ui
    app, copy = page_on_rewritten_changes(sample_db, tmp_path, monkeypatch,
                                          "close_code = null")
    assert not app.exception
    period = _sidebar_period(app)
    with db.connect(copy, read_only=True) as con:
        rate = db.run(con, "change_success_rate", **period).iloc[0]
    assert rate["n"] == 0 and rate["n_without_close_code"] > 0
    notes = [i.value for i in app.info]
    said = [t for t in notes if "this source has no close codes" in t]
    assert len(said) == 3, notes  # outcomes, breakdown, score
    assert all(t.startswith(f"{int(rate['n_without_close_code']):,} changes "
                            "were completed in this period") for t in said)
    assert not any("widen the dates" in t for t in notes)
    assert not any((c.key or "").startswith("by-chart")
                   for c in app.get("plotly_chart"))
    table = next(d.value for d in app.dataframe if "Type" in d.value.columns)
    assert table["Implemented (n)"].sum() == 0
    assert table["Unclassified"].sum() > 0
    assert "Select a row to see its changes" in captions(app)  # no bar
    # no chart drawn, no rate: the caption says no chart is drawn of n
    # ('The chart draws the 30 of 264 applications ...') nor that the rows
    # add up to a headline, and tells the table's Unclassified from the
    # completed count above it (820 beside 1,148 on BPIC)
    breakdown = next(c.value for c in app.caption
                     if c.value.startswith("One row per type"))
    assert "chart" not in breakdown and "headline" not in breakdown
    assert "also count those closed with no end recorded" in breakdown
    # the emergency ratio counts completed changes, close code or not: a
    # period lists the emergency changes it counts
    assert "completed changes of a known type" in captions(app)
    box = app.selectbox(key="emergencies_period")
    pick = box.options[-1]
    box.select(pick).run()
    assert not app.exception
    said = next(c.value for c in app.caption if c.value.endswith(
        f" completed in {ui.plain(pick)}."))
    with db.connect(copy, read_only=True) as con:
        periods = db.run(con, "emergency_change_ratio_by_period", **period,
                         grain=app.radio(key="grain").value)
    # the option says the period in words, the pick is its code
    code = app.selectbox(key="emergencies_period").value
    n = periods.set_index("period_label").loc[code, "n_emergency"]
    assert n > 0 and said.startswith(
        f"{int(n):,} emergency change{'s' * int(n != 1)} completed")
    listed = next(d.value for d in app.dataframe
                  if "completed_at" in d.value.columns)
    assert len(listed) == n


def test_records_read_as_words_with_application_names_and_counts_grouped(
        app):
    """Codes as words and applications by name, under the page's labels,
    and counts with thousands separators (the ids and codes stay in the
    downloads, for scripts)."""
    import json
    app.selectbox(key="changes_change_type").select("normal").run()
    table = next(d for d in app.dataframe if "kind" in d.value.columns)
    rows = table.value
    assert set(rows["kind"]) <= {"Implemented", "Excluded", "Unclassified"}
    assert rows["application_name"].notna().all()
    assert not rows["application_name"].str.fullmatch(r"APP-\d+").any()
    labels = {c: v.get("label") for c, v in json.loads(
        table.proto.columns).items()}
    assert (labels["application_name"], labels["application_id"],
            labels["kind"]) == ("Application", "Application id", "Counted as")
    by = next(d for d in app.dataframe if "Implemented (n)" in d.value)
    assert json.loads(by.proto.columns)["Implemented (n)"]["type_config"][
        "format"] == "localized"


def test_a_team_name_from_the_data_is_shown_as_plain_text(
        sample_db, tmp_path, monkeypatch):
    import re
    image = "![x](http://attacker.example/t.png)"
    app, _ = page_on_rewritten_changes(
        sample_db, tmp_path, monkeypatch, "assignment_group = $g",
        "where assignment_group = (select min(assignment_group) from "
        "changes)", {"g": image})
    app.selectbox(key="changes_score_team").select(image).run()
    assert not app.exception
    shown = [e.value for kind in ("caption", "info")
             for e in app.get(kind) if "attacker.example" in e.value]
    assert shown and not any(re.search(r"(?<!\\)!\\?\[", t) for t in shown)


@pytest.mark.parametrize("text", [
    "see https://evil.example/login now", "HTTP://X.example",
    "www.evil.example", "WWW.Evil.Example/x", "ftp://files.example",
    "plain & simple"])
def test_a_bare_address_in_data_is_no_link(text):
    """Streamlit links a bare web address after reading the Markdown, escaped
    or not (in Chromium: 'https\\://x' and 'https&#58;//x' were both
    links): plain() parts each with an unseen WORD JOINER, so a title or a
    team name from the data cannot put a link on a page. Read back without
    its escapes and joiners, the text is as written."""
    import re

    from changeboard import ui
    shown = re.sub(r"\\(.)", r"\1", ui.plain(text))
    assert shown.replace("\u2060", "") == text
    assert not re.search(r"(?i)[a-z]://|www\.", shown), shown


def test_a_breakdown_of_many_teams_draws_the_largest_and_lists_all(
        sample_db, tmp_path, monkeypatch):
    """150 teams made a chart many screens tall: it draws the 30 with the
    most implemented changes, says so, and the table still lists every
    team."""
    import json
    app, _ = page_on_rewritten_changes(
        sample_db, tmp_path, monkeypatch,
        "assignment_group = 'Team ' || (hash(change_id) % 80)", by="Team")
    assert not app.exception
    table = next(d.value for d in app.dataframe if "Team" in d.value.columns
                 and "Implemented (n)" in d.value.columns)
    assert len(table) > 30
    chart = next(c for c in app.get("plotly_chart")
                 if (c.proto.id or "").find("by-chart-team") >= 0
                 or "by-chart-team" in (c.key or ""))
    bars = json.loads(chart.proto.spec)["data"]
    drawn = set().union(*(set(trace["y"]) for trace in bars))
    largest = set(table.nlargest(30, "Implemented (n)")["Team"])
    assert len(drawn) == 30
    assert drawn == largest
    assert f"The chart draws the 30 of {len(table):,} teams with the most " \
           "implemented changes; the table lists all." in captions(app)


def test_a_median_without_data_reads_n_a_not_n_a_min(sample_db, tmp_path,
                                                     monkeypatch):
    """With no change of the period overrunning, the median overrun is NULL
    (C5): its card read 'n/a min'; it reads n/a, as every other card
    without data (the Releases page's medians alike)."""
    app, _ = page_on_rewritten_changes(
        sample_db, tmp_path, monkeypatch, "actual_end_at = planned_end_at",
        "where planned_end_at is not null and actual_end_at is not null")
    assert not app.exception
    values = {m.label: m.value for m in app.metric}
    assert values["Median overrun"] == "n/a"
    assert values["Median start delay"].endswith(" min")  # n > 0: a value
    assert not [v for v in values.values() if "n/a " in v]


# --- counts of one read in the singular --------------------------------------

def _changes_page(path: Path, monkeypatch, rows: list[dict]) -> AppTest:
    """The Changes page over January 2026 on a database of these changes
    (as of 1 Feb)."""
    with db.publish(path) as con:
        con.execute(
            "insert into ingest_batches (batch_id, source, entity, "
            "started_at, finished_at, status) values (1, 'csv', 'changes', "
            "'2026-02-01 00:00Z', '2026-02-01 00:00Z', 'succeeded')")
        insert_rows(con, "changes",
                    pd.DataFrame(rows).assign(ingested_batch_id=1))
    monkeypatch.setattr(config, "DB_PATH", path)
    return open_page("changes", "2026-01-01", "2026-01-31")


def test_every_kind_the_lead_time_leaves_out_is_said_and_the_list_agrees(
        tmp_path, monkeypatch):
    """The list of approvals counted a rejected change's approval time with
    the approved ('The 165 changes approved in the period' under n = 164),
    and the caption named only those approved before they were created (an
    auditor's walkthrough). The caption says each kind left out, and the
    list says how many of its changes are counted."""
    from tests.wording import page_texts

    app = _changes_page(tmp_path / "a.duckdb", monkeypatch, [
        change("C1", "2026-01-01 00:00Z", "2026-01-02 12:00Z"),
        change("C2", "2026-01-05 00:00Z", "2026-01-04 00:00Z"),
        change("C3", "2026-01-05 00:00Z", "2026-01-06 00:00Z",
               approval="rejected"),
        change("C4", "2026-01-05 00:00Z", "2026-01-07 00:00Z",
               approval=None)])
    said = " | ".join(page_texts(app))
    assert ("1 approved before it was created, 1 whose approval is not "
            "approved (rejected or another value) and 1 with no approval "
            "value are left out.") in said, said
    assert "the n = 1 change approved in the period" in said
    assert "The 4 changes with an approval time in the period: 1 counted" \
        in said, said


def test_a_lead_time_of_changes_all_left_out_says_why(tmp_path,
                                                     monkeypatch):
    """Changes completed in the period, each ended before it was created:
    the change lead time said "No change was completed in this period"
    and hid them (a review). It says what it leaves out."""
    from tests.wording import page_texts

    app = _changes_page(tmp_path / "a.duckdb", monkeypatch, [
        change(f"E{i}", "2026-01-10 00:00Z", None, close_code="successful",
               actual_start_at="2026-01-08 00:00Z",
               actual_end_at="2026-01-09 00:00Z") for i in (1, 2)])
    said = " | ".join(page_texts(app))
    assert "No change completed in this period has a lead time to measure. " \
        "Left out: 2 ended before created." in said, said


def _started_before_approval(i: int) -> dict:
    """A CAB-required change approved a day after creation, after its work
    started: measured for the approval lead time, unauthorised."""
    return change(f"C{i}", "2026-01-05 00:00Z", "2026-01-06 00:00Z",
                  is_cab_required=True, close_code="successful",
                  actual_start_at="2026-01-05 12:00Z",
                  actual_end_at="2026-01-05 14:00Z")


@pytest.mark.parametrize("k", [1, 2])
def test_counts_of_one_read_right_and_counts_of_two_stay_plural(
        tmp_path, monkeypatch, k):
    """With one change of a kind the page read '1 approved before they were
    created are left out', 'The 1 change approved in the period', '1 of n =
    1 CAB-required changes started' and '1 with the CAB flag or approval
    missing are not counted'. Each reads right at one, and at two as it
    did."""
    from tests.wording import page_texts, slips_at_one
    # k measured approvals, each of an unauthorised change, and k started
    # changes whose CAB flag is missing (not counted)
    app = _changes_page(tmp_path / "a.duckdb", monkeypatch, [
        *(_started_before_approval(i) for i in range(1, k + 1)),
        *(change(f"U{i}", "2026-01-05 00:00Z", None, approval=None,
                 is_cab_required=None, actual_start_at="2026-01-07 00:00Z")
          for i in range(1, k + 1))])
    texts = page_texts(app)
    said = " | ".join(texts)
    expected = {
        1: ["The change with an approval time in the period",
            "1 of n = 1 CAB-required change started in the period: 0 never "
            "approved, 1 approved only after work started · 1 with the CAB "
            "flag or approval missing is not counted."],
        2: ["The 2 changes with an approval time in the period",
            "2 of n = 2 CAB-required changes started in the period: 0 never "
            "approved, 2 approved only after work started · 2 with the CAB "
            "flag or approval missing are not counted."]}[k]
    for text in expected:
        assert text in said, (text, texts)
    if k == 1:
        assert slips_at_one(texts) == []
    # one measured approval and k approved before they were created
    app = _changes_page(tmp_path / "b.duckdb", monkeypatch, [
        _started_before_approval(0),
        *(change(f"I{i}", "2026-01-10 00:00Z", "2026-01-09 00:00Z")
          for i in range(1, k + 1))])
    said = " | ".join(page_texts(app))
    assert {1: "1 approved before it was created is left out.",
            2: "2 approved before they were created are left out."}[k] \
        in said, said
    assert f"The {k + 1} changes with an approval time in the period: 1 " \
        "counted" in said


def test_cab_required_changes_without_an_approval_are_not_told_to_widen(
        sample_db, tmp_path, monkeypatch):
    """A source that records the CAB flag but no approval (BPIC 2014: 230
    CAB-required changes started from October 2013 to March 2014): the
    unauthorised-changes section said 'No change needing CAB approval
    started in this period — widen the dates', though they had started;
    it now counts them and says what is missing."""

    app, copy = page_on_rewritten_changes(sample_db, tmp_path, monkeypatch,
                                          "approval = null")
    assert not app.exception
    with db.connect(copy, read_only=True) as con:
        counts = db.run(con, "unauthorized_changes",
                        **_sidebar_period(app)).iloc[0]
    assert counts["n"] == 0 and counts["n_unclassified"] > 0
    notes = [i.value for i in app.info]
    assert not any("No change needing CAB approval" in t for t in notes)
    said = next(t for t in notes if "authorisation cannot be" in t)
    # what is missing, counted as the query counts it; only the approval
    # is named when every change has its CAB flag (the advice said to map
    # is_cab_required too, which BPIC's shipped mapping maps)
    flag = int(counts["n_cab_flag_missing"])
    approval = int(counts["n_unclassified"]) - flag
    # the sample's Jira changes completed with no start and no CAB flag,
    # which the rate cannot date, are said after it
    with db.connect(copy, read_only=True) as con:
        unstarted = int(db.run(con, "completed_without_start",
                               **_sidebar_period(app)).iloc[0]["n"])
    if flag:
        assert said.startswith(
            f"n = 0: {flag + approval:,} changes started with no CAB flag "
            f"({flag:,}) or no approval recorded ({approval:,}), "), said
    else:
        assert said == (
            f"n = 0: {approval:,} CAB-required changes started with no "
            "approval recorded, so authorisation cannot be measured: map "
            "`approval` and `approved_at` in the source's mapping or "
            "overrides file (docs/sources.md, section 7)"
            + (f" · {unstarted:,} changes completed in the period with no "
               f"actual start recorded ({unstarted:,} with no CAB flag) are "
               "not counted: the rate counts changes by their start"
               if unstarted else "") + "."), said
    assert "widen" not in said


def test_an_application_without_a_name_is_labelled_once_in_the_breakdown(
        sample_db, tmp_path, monkeypatch):
    """BPIC 2014's applications (WBS000102, ...) have no applications row:
    the breakdown by application labelled each 'WBS000102 · WBS000102',
    its id twice, where a named one reads 'Card Authorisation (APP-001)',
    as the Releases page and the CAB pack name it (it read 'APP-001 ·
    Card Authorisation' here alone). Picking the row still lists its
    changes."""
    app, _ = page_on_rewritten_changes(
        sample_db, tmp_path, monkeypatch, "application_id = 'WBS000102'",
        "where application_id = (select min(application_id) from changes)",
        by="Application")
    assert not app.exception
    table = next(d.value for d in app.dataframe
                 if "Application" in d.value.columns)
    labels = list(table["Application"])
    assert "WBS000102" in labels
    assert not [v for v in labels if v.startswith("WBS000102 ")]
    assert [v for v in labels if re.fullmatch(r".+ \(APP-\d+\)", v)]
    assert not [v for v in labels if " · " in v]
    app.selectbox(key="changes_application").select("WBS000102").run()
    assert not app.exception
    assert any(c.value.endswith("changes behind WBS000102; the Counted as "
                                "column says which are in n (implemented), "
                                "excluded or unclassified.")
               for c in app.caption)


def test_a_periods_emergency_changes_show_the_application_name_first(app):
    """The emergency changes of a period listed the application's id before
    its name, where every other table puts the name first: at 1280 px the
    id's narrow column read 'Application' beside the name's 'Application'
    (blank for BPIC 2014's applications, which have no name)."""
    import json
    box = app.selectbox(key="emergencies_period")
    box.select(box.options[-1]).run()
    assert not app.exception
    table = next(d for d in app.dataframe
                 if "completed_at" in d.value.columns)
    columns = list(table.value.columns)
    assert columns.index("application_name") + 1 == \
        columns.index("application_id")
    labels = {c: v.get("label") for c, v in json.loads(
        table.proto.columns).items()}
    assert (labels["application_name"], labels["application_id"]) == (
        "Application", "Application id")
    # as the records behind a breakdown row show them
    app.selectbox(key="changes_change_type").select("normal").run()
    records = list(next(d.value for d in app.dataframe
                        if "kind" in d.value.columns).columns)
    assert records.index("application_name") + 1 == \
        records.index("application_id")


def test_a_source_without_approval_times_is_not_told_to_widen_the_dates(
        sample_db, tmp_path, monkeypatch):
    """BPIC 2014 records no approval: the approval lead time said 'No
    change was approved in this period — widen the dates', which no period
    would change. It now says the data has no approval time; a period
    before the data, with approvals elsewhere, says where the changes are."""
    app, copy = page_on_rewritten_changes(sample_db, tmp_path, monkeypatch,
                                          "approved_at = null")
    assert not app.exception
    notes = [i.value for i in app.info]
    assert not any("No change was approved in this period" in t
                   for t in notes)
    said = next(t for t in notes
                if t.startswith("No change in the data has an approval time"))
    assert "widen" not in said and "`approved_at`" in said
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    before = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    before.query_params.update({"period": "custom", "from": "2001-01-01",
                                "to": "2001-01-31"})
    before.run()
    before.switch_page("views/changes.py").run()
    assert not before.exception
    assert any(i.value.startswith("No change was approved in this period — "
                                  "the changes loaded run from ")
               for i in before.info)


def test_a_linked_breakdown_is_counted_with_the_trend_in_one_query(
        sample_db, monkeypatch):
    """?by=Risk: the success rate's trend, headline and risk breakdown come
    from one run of its groups query (a first visit, before the radio is
    drawn, reads the breakdown from the link)."""
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    ran, real = [], db.run

    def recording(con, name, **params):
        ran.append((name, params.get("dimension")))
        return real(con, name, **params)

    monkeypatch.setattr(db, "run", recording)
    app = AppTest.from_file(str(ROOT / "views" / "changes.py"),
                            default_timeout=120)
    app.query_params["by"] = "Risk"
    app.query_params["period"] = "ytd"  # a window no other test caches
    app.run()
    assert not app.exception
    assert [r for r in ran if r[0] == "change_success_rate_groups"] == [
        ("change_success_rate_groups", "risk")]
    assert not {"change_success_rate", "change_success_rate_by",
                "change_success_rate_by_period"} & {name for name, _ in ran}
    # the breakdown's table, after the trend's numbers (a table of periods)
    [trend, by_risk, *_] = app.dataframe
    assert "period" in trend.value.columns
    assert "Very high" in by_risk.value.iloc[:, 0].tolist()


def test_the_sidebar_says_where_the_changes_are_when_the_period_has_none(
        sample_db, monkeypatch):
    """BPIC 2014's changes beside Apache Jira releases of 2022: the presets
    end with the releases and the Overview's change cards all read n/a,
    the sidebar saying only that the data ends in 2022. It now says, under
    the period, where the changes are; not when the period holds some."""
    from changeboard import ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = open_page("changes", "2001-01-01", "2001-01-31")
    first, last = ui.changes_span()
    said = [c.value for c in app.sidebar.caption]
    # a custom range chosen already: it said '(Custom range)' all the same
    assert (f"No change created or closed in this period: the changes run "
            f"from {ui.day(first)}"
            f" to {ui.day(last)} (pick dates there).") in said, said
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "last_365"
    app.run()
    assert not app.exception
    assert not [c.value for c in app.sidebar.caption
                if c.value.startswith("No change created or closed")]


def test_all_data_beside_later_releases_holds_every_change(
        sample_db, tmp_path, monkeypatch):
    """All data runs from the first change to the data's last day, at most
    ten years: with changes 12 years old beside releases of today it was
    shortened to its last ten years, past every change (BPIC 2014 beside
    endoflife.date's releases: 'n = 0 implemented changes' under All
    data). It now keeps its start when that holds every change, and says
    where it ends; a preset of today says where the changes are."""
    from changeboard import ui
    with db.connect(sample_db, read_only=True) as con:
        stamps = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where "
            "table_name = 'changes' and data_type like 'TIMESTAMP%'"
        ).fetchall()]
    app, _ = page_on_rewritten_changes(
        sample_db, tmp_path, monkeypatch,
        ", ".join(f"{c} = {c} - interval 4400 day" for c in stamps),
        period="all")
    assert not app.exception
    first, last = ui.changes_span()
    cut = first + timedelta(days=ui.MAX_SPAN_DAYS - 1)
    assert last < cut < ui.data_last_day()
    assert [w.value for w in app.warning if "spans more" in w.value] == [
        f"All data spans more than 3,660 days: shortened to "
        f"{ui.day(first)} – {ui.day(cut)}, so that it holds every change "
        f"(they run from "
        f"{ui.day(first)} to {ui.day(last)}; the data, to "
        f"{ui.day(ui.data_last_day())})."]
    said = [c.value for c in app.sidebar.caption]
    assert f"{ui.day(first)} – {ui.day(cut)} (3,660 days, UTC)" in said, said
    assert not [c for c in said if c.startswith("No change created or closed")]
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["period"] = "last_365"
    app.switch_page("views/changes.py").run()
    assert not app.exception
    said = [c.value for c in app.sidebar.caption]
    assert (f"No change created or closed in this period: the changes run "
            f"from {ui.day(first)}"
            f" to {ui.day(last)} (Custom range).") in said, said
    assert any(i.value.endswith(": pick a period there (Period: Custom "
                                "range).") for i in app.info)


def test_a_records_download_holds_every_column_the_query_gives(
        sample_db, monkeypatch):
    """The unauthorised changes' CSV and XLSX held the table's columns
    alone: without created_at, actual_end_at and is_approval_time_missing,
    which `changeboard query unauthorized_change_records` gives (an
    auditor's walkthrough). A records table's files hold every column of
    its query, the application's name beside its id."""
    from changeboard import ui

    offered = {}
    monkeypatch.setattr(ui, "downloads", lambda frame, stem, **_:
                        offered.setdefault(stem, frame))
    _last_year(sample_db, monkeypatch)  # its run offers the downloads
    # the records' files, not the breakdown's (unauthorized-changes-by-...)
    stem = next(s for s in offered if s.startswith("unauthorized")
                and "-by-" not in s)
    whole = offered[stem]() if callable(offered[stem]) else offered[stem]
    window = ui.window_for("last_365")
    query = ui.scoped_part("unauthorized_change_records", window, {},
                           unauthorized_only=True).whole()
    assert set(query.columns) <= set(whole.columns), \
        set(query.columns) - set(whole.columns)
    assert {"created_at", "actual_end_at", "is_approval_time_missing"} <= \
        set(whole.columns)
    assert len(whole) == len(query)


def _last_year(sample_db, monkeypatch) -> AppTest:
    """The Changes page on the sample's last 365 days, run."""
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "views" / "changes.py"),
                            default_timeout=120)
    app.query_params["period"] = "last_365"
    app.run()
    assert not app.exception
    return app


def test_emergency_retrospective_approvals_and_unstarted_changes_are_said(
        tmp_path, monkeypatch):
    """'9 of n = 131 CAB-required changes started: 0 never approved, 9
    approved only after work started' were all emergency changes, approved
    in retrospect as an emergency CAB does; and a change the CAB rejected,
    implemented with no actual start recorded, was in no count, the line
    saying '0 ... not counted' (a process owner's walkthrough). The
    caption says how many of the late approvals were emergency changes,
    and how many completed changes have no start to date them by."""
    from tests.wording import page_texts
    rows = [
        _started_before_approval(1),
        {**_started_before_approval(2), "change_type": "emergency"},
        # rejected, implemented anyway, no actual start or end recorded
        change("R1", "2026-01-02 00:00Z", None, approval="rejected",
               is_cab_required=True, close_code="successful",
               closed_at="2026-01-10 00:00Z"),
        # no CAB flag, no start (a Jira change)
        change("J1", "2026-01-02 00:00Z", None, approval=None,
               is_cab_required=None, close_code="successful",
               actual_end_at="2026-01-12 00:00Z"),
        # no CAB needed, no start: not said
        change("X1", "2026-01-02 00:00Z", None, approval="not_required",
               is_cab_required=False, close_code="successful",
               closed_at="2026-01-12 00:00Z"),
        # cancelled with no start: not completed, not said
        change("K1", "2026-01-02 00:00Z", None, approval="rejected",
               is_cab_required=True, close_code="cancelled",
               state="cancelled", closed_at="2026-01-12 00:00Z")]
    app = _changes_page(tmp_path / "a.duckdb", monkeypatch, rows)
    assert not app.exception
    said = " | ".join(page_texts(app))
    assert ("2 of n = 2 CAB-required changes started in the period: 0 never "
            "approved, 2 approved only after work started (1 of them an "
            "emergency change, approved in retrospect) · 2 changes "
            "completed in the period with no actual start recorded (1 "
            "CAB-required, 1 with no CAB flag) are not counted: the rate "
            "counts changes by their start.") in said, said
    with db.connect(tmp_path / "a.duckdb", read_only=True) as con:
        row = db.run(con, "completed_without_start",
                      **_sidebar_period(app)).iloc[0]
    assert (row["n"], row["n_cab_required"], row["n_cab_flag_missing"]) == \
        (2, 1, 1)


def test_emergency_and_unauthorised_changes_break_down_as_the_page_does(
        sample_db, monkeypatch):
    """Which teams drag a rate was shown for the success rate alone; the
    emergency ratio and unauthorised changes by team were the CLI's (a
    process owner's walkthrough). Each has a table of the page's
    breakdown (Break down by), its rows adding up to its headline."""
    from changeboard import ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    app = AppTest.from_file(str(ROOT / "views" / "changes.py"),
                            default_timeout=120)
    app.query_params.update({"period": "last_365", "by": "Team"})
    app.run()
    assert not app.exception
    window = ui.window_for("last_365")
    with db.connect(sample_db, read_only=True) as con:
        emergency = db.run(con, "emergency_change_ratio", **window).iloc[0]
        unauthorized = db.run(con, "unauthorized_changes", **window).iloc[0]
        teams = db.run(con, "unauthorized_changes_by", dimension="team",
                       **window)
    tables = {e.label: e.dataframe[0].value for e in app.expander
              if e.label in ("Emergency ratio by team",
                             "Unauthorised changes by team")}
    assert set(tables) == {"Emergency ratio by team",
                           "Unauthorised changes by team"}
    by_emergency = tables["Emergency ratio by team"]
    assert by_emergency["n"].sum() == emergency["n"]
    assert by_emergency["n_emergency"].sum() == emergency["n_emergency"]
    by_unauthorized = tables["Unauthorised changes by team"]
    for column in ("n", "n_unauthorized", "n_approved_after_start",
                   "n_emergency_approved_after_start"):
        assert by_unauthorized[column].sum() == unauthorized[column], column
    # most counted first, every team with a change started in the period
    assert list(by_unauthorized["n"]) == sorted(by_unauthorized["n"],
                                                reverse=True)
    kept = teams[teams["n"] + teams["n_excluded"] + teams["n_unclassified"]
                 > 0]
    assert len(by_unauthorized) == len(kept)
