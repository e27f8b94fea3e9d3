"""The Environments page: its two record queries (booking_timeline,
environment_impact_bookings) given rows -> expected rows, and the page in
AppTest on the sample database."""
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db, env_charts, ui
from tests.rows import insert_rows

ROOT = Path(__file__).resolve().parents[1]
PAGE = "views/environments.py"
WEEK = {"start_date": "2024-06-03", "end_date": "2024-06-10"}


def env(environment_id="E1", group="G1", **columns):
    return {"environment_id": environment_id, "name": environment_id.lower(),
            "tier": "uat", "environment_group": group, **columns}


def booking(booking_id, start_at, end_at, status="approved", env_id="E1",
            **columns):
    return {"booking_id": booking_id, "environment_id": env_id,
            "status": status, "start_at": start_at, "end_at": end_at,
            **columns}


def release(release_id, live, **columns):
    return {"release_id": release_id, "name": f"{release_id} name",
            "status": "planned", "release_type": "project",
            "application_id": "A1", "planned_release_at": live, **columns}


def timeline(con, **params):
    return db.run(con, "booking_timeline", **{**WEEK, **params})


def impact(con, **params):
    return db.run(con, "environment_impact_bookings", **{**WEEK, **params})


# --- booking_timeline -----------------------------------------------------

def test_booking_exactly_at_end_date_is_outside_the_timeline(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-02 22:00Z", "2024-06-03 01:00Z"),  # 1 h in W
        booking("B2", "2024-06-02 20:00Z", "2024-06-03 00:00Z"),  # ends at W
        booking("B3", "2024-06-10 00:00Z", "2024-06-10 05:00Z"),  # at W end
        booking("B4", "2024-06-09 22:00Z", "2024-06-11 00:00Z"),  # 2 h in W
    ])
    rows = timeline(con)
    assert rows["booking_id"].tolist() == ["B1", "B4"]
    assert rows["hours_in_window"].tolist() == [1.0, 2.0]
    assert rows["clipped_start_at"].iloc[0] == pd.Timestamp("2024-06-03",
                                                            tz="UTC")
    # the booking as recorded is kept beside its part in the window
    assert rows["start_at"].iloc[0] == pd.Timestamp("2024-06-02 22:00",
                                                    tz="UTC")


def test_open_ended_booking_ends_at_as_of_and_says_so(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-04 00:00Z", None),
        booking("B2", "2024-06-06 00:00Z", None),  # starts after as_of
    ])
    rows = timeline(con, as_of="2024-06-05 12:00Z")
    assert rows[["booking_id", "hours_in_window", "is_open_ended"]].to_dict(
        "records") == [{"booking_id": "B1", "hours_in_window": 36.0,
                        "is_open_ended": True}]
    assert rows["end_at"].isna().all()


def test_empty_and_invalid_bookings_have_no_row(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-04 00:00Z", "2024-06-04 00:00Z"),  # empty
        booking("B2", "2024-06-05 00:00Z", "2024-06-04 00:00Z"),  # invalid
        booking("B3", "2024-06-05 00:00Z", "2024-06-05 02:00Z"),
    ])
    assert timeline(con)["booking_id"].tolist() == ["B3"]


def test_every_status_is_listed_unless_statuses_are_chosen(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-04 00:00Z", "2024-06-04 02:00Z"),
        booking("B2", "2024-06-04 01:00Z", "2024-06-04 03:00Z", "pending"),
        booking("B3", "2024-06-04 02:00Z", "2024-06-04 04:00Z", "rejected"),
        booking("B4", "2024-06-04 03:00Z", "2024-06-04 05:00Z", "cancelled"),
    ])
    assert timeline(con)["status"].tolist() == [
        "approved", "pending", "rejected", "cancelled"]
    chosen = timeline(con, statuses=["approved", "pending"])
    assert chosen["booking_id"].tolist() == ["B1", "B2"]


def test_group_and_environment_filters_pick_the_environments(con, given):
    given("environments", [env("E1", "G1"), env("E2", "G1"),
                           env("E3", "G2")])
    given("environment_bookings", [
        booking(f"B{n}", "2024-06-04 00:00Z", "2024-06-04 02:00Z",
                env_id=f"E{n}") for n in (1, 2, 3)])
    assert timeline(con, environment_groups=["G1"])["booking_id"].tolist() \
        == ["B1", "B2"]
    assert timeline(con, environment_ids=["E3"])["booking_id"].tolist() \
        == ["B3"]
    assert timeline(con, environment_groups=["G1"],
                    environment_ids=["E3"]).empty


def test_timeline_names_the_release_phase_and_team(con, given):
    given("environments", [env()])
    given("releases", [release("R1", "2024-07-01 00:00Z")])
    given("environment_bookings", [
        booking("B1", "2024-06-04 00:00Z", "2024-06-04 02:00Z",
                release_id="R1", phase="uat", team="Payments"),
        booking("B2", "2024-06-04 03:00Z", "2024-06-04 04:00Z",
                phase="training"),  # no release
    ])
    rows = timeline(con)
    assert rows[["booking_id", "release_name", "phase", "team",
                 "environment_name", "environment_group"]].fillna("-").to_dict(
        "records") == [
        {"booking_id": "B1", "release_name": "R1 name", "phase": "uat",
         "team": "Payments", "environment_name": "e1",
         "environment_group": "G1"},
        {"booking_id": "B2", "release_name": "-", "phase": "training",
         "team": "-", "environment_name": "e1", "environment_group": "G1"}]


# --- environment_impact_bookings ------------------------------------------

def test_impact_bookings_are_those_of_releases_going_live_in_the_window(
        con, given):
    given("environments", [env()])
    given("releases", [
        release("R1", "2024-06-05 00:00Z"),
        release("R2", "2024-06-10 00:00Z"),  # go-live at W end: outside
        release("R3", "2024-06-05 00:00Z", status="cancelled"),
        release("R4", "2024-06-05 00:00Z", release_type="enterprise"),
    ])
    given("environment_bookings", [
        # long before the window: a cell is every booking, not clipped
        booking("B1", "2024-04-01 00:00Z", "2024-04-05 00:00Z",
                release_id="R1"),
        booking("B2", "2024-06-01 00:00Z", "2024-06-02 00:00Z",
                release_id="R2"),
        booking("B3", "2024-06-01 00:00Z", "2024-06-02 00:00Z",
                release_id="R3"),
        booking("B4", "2024-06-01 00:00Z", "2024-06-02 00:00Z",
                release_id="R4"),
    ])
    rows = impact(con)
    assert rows["booking_id"].tolist() == ["B1"]
    assert rows["start_at"].iloc[0] == pd.Timestamp("2024-04-01", tz="UTC")


def test_cancelled_empty_and_invalid_bookings_are_listed_but_not_counted(
        con, given):
    given("environments", [env()])
    given("releases", [release("R1", "2024-06-05 00:00Z")])
    given("environment_bookings", [
        booking("B1", "2024-06-01 00:00Z", "2024-06-02 00:00Z",
                release_id="R1"),
        booking("B2", "2024-06-01 00:00Z", "2024-06-02 00:00Z", "cancelled",
                release_id="R1"),
        booking("B3", "2024-06-01 00:00Z", "2024-06-01 00:00Z",
                release_id="R1"),
        booking("B4", "2024-06-02 00:00Z", "2024-06-01 00:00Z",
                release_id="R1"),
        booking("B5", "2024-06-03 00:00Z", None, "rejected",
                release_id="R1"),
    ])
    rows = impact(con).set_index("booking_id")
    assert rows["is_counted"].to_dict() == {
        "B1": True, "B2": False, "B3": False, "B4": False, "B5": True}
    assert rows.loc["B2", "is_cancelled"] and rows.loc["B3", "is_empty"]
    assert rows.loc["B4", "is_invalid"]
    # the counted ones are exactly the bookings of the matrix cell
    cell = db.run(con, "environment_impact_matrix", **WEEK).iloc[0]
    assert (cell["n_bookings"], cell["cell_status"]) == (2, "approved")


def test_release_and_environment_ids_pick_one_cell(con, given):
    given("environments", [env("E1"), env("E2", "G2")])
    given("releases", [release("R1", "2024-06-05 00:00Z"),
                       release("R2", "2024-06-06 00:00Z")])
    given("environment_bookings", [
        booking(f"B{r}{e}", "2024-06-01 00:00Z", "2024-06-02 00:00Z",
                env_id=f"E{e}", release_id=f"R{r}")
        for r in (1, 2) for e in (1, 2)])
    assert impact(con, release_ids=["R2"], environment_ids=["E1"])[
        "booking_id"].tolist() == ["B21"]
    assert impact(con, environment_groups=["G2"])["booking_id"].tolist() == [
        "B12", "B22"]
    assert impact(con, release_ids=["R1"])["booking_id"].tolist() == [
        "B11", "B12"]


@pytest.mark.parametrize("name", ["booking_timeline",
                                  "environment_impact_bookings"])
def test_page_queries_run_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2024-01-01",
                      end_date="2027-01-01")
    assert len(rows.columns) > 5


# --- the matrix grid (changeboard/env_charts.py) ---------------------------

def test_matrix_grid_has_letters_ellipsis_and_both_totals():
    cells = pd.DataFrame({
        "release_id": ["R1", "R1", "R2"],
        "environment_id": ["E1", "E2", "E2"],
        "cell_status": ["approved", "rejected", "pending"],
        "n_bookings": [2, 1, 1]})
    releases = pd.DataFrame({
        "release_id": ["R1", "R2", "R3"], "release_name": ["One", "Two", "3"],
        "go_live_at": pd.to_datetime(["2026-12-01", "2026-12-02",
                                      "2026-12-03"], utc=True),
        "total_impacted": [1, 1, 0]})
    columns = pd.DataFrame({
        "environment_id": ["E2", "E1"], "environment_name": ["uat", "sit"],
        "environment_group": ["G", "G"], "tier": ["uat", "sit"],
        "total_releases": [1, 1]})
    columns = env_charts.ordered_columns(columns, "environment_id")
    assert columns["environment_id"].tolist() == ["E1", "E2"]  # sit < uat
    grid = env_charts.impact_grid(cells, releases, columns,
                                  key="environment_id",
                                  total_impacted="total_impacted")
    assert grid.to_dict("records") == [
        {"Release": "Total Releases", "Go-live": "", "Total Impacted": None,
         "E1": "1", "E2": "1"},
        {"Release": "One", "Go-live": "01 Dec 2026", "Total Impacted": 1,
         "E1": "A…", "E2": "R"},
        {"Release": "Two", "Go-live": "02 Dec 2026", "Total Impacted": 1,
         "E1": "", "E2": "P"},
        {"Release": "3", "Go-live": "03 Dec 2026", "Total Impacted": 0,
         "E1": "", "E2": ""}]
    # the download: long form, with the ids, the go-live instant and both
    # totals (its columns read 'G / sit', its Go-live '01 Dec 2026' text
    # and it had no release id: no file could be joined to it)
    releases["application_id"] = ["A1", "A1", "A2"]
    exported = env_charts.export_cells(cells, releases, columns,
                                       key="environment_id",
                                       total_impacted="total_impacted")
    assert exported.astype(object).where(exported.notna(), None).to_dict(
        "records") == [
        {"release_id": "R1", "release_name": "One", "application_id": "A1",
         "go_live_at": pd.Timestamp("2026-12-01", tz="UTC"),
         "total_impacted": 1, "environment_id": "E1",
         "cell_status": "approved", "n_bookings": 2, "total_releases": 1},
        {"release_id": "R1", "release_name": "One", "application_id": "A1",
         "go_live_at": pd.Timestamp("2026-12-01", tz="UTC"),
         "total_impacted": 1, "environment_id": "E2",
         "cell_status": "rejected", "n_bookings": 1, "total_releases": 1},
        {"release_id": "R2", "release_name": "Two", "application_id": "A1",
         "go_live_at": pd.Timestamp("2026-12-02", tz="UTC"),
         "total_impacted": 1, "environment_id": "E2",
         "cell_status": "pending", "n_bookings": 1, "total_releases": 1},
        {"release_id": "R3", "release_name": "3", "application_id": "A2",
         "go_live_at": pd.Timestamp("2026-12-03", tz="UTC"),
         "total_impacted": 0, "environment_id": None, "cell_status": None,
         "n_bookings": None, "total_releases": None}]


def test_the_matrix_download_by_group_keeps_a_missing_group_empty():
    """By group, a cell of the '(no group)' column is downloaded with its
    group empty, as stored (the heading the page draws is no code a
    script can join on), and with that column's Total Releases."""
    cells = pd.DataFrame({
        "release_id": ["R1", "R1"], "environment_group": [None, "G"],
        "cell_status": ["approved", "pending"], "n_bookings": [1, 3],
        "n_environments": [1, 2], "is_impacted": [True, True]})
    releases = pd.DataFrame({
        "release_id": ["R1"], "release_name": ["One"],
        "application_id": ["A1"],
        "go_live_at": pd.to_datetime(["2026-12-01 23:30"], utc=True),
        "total_impacted_groups": [2]})
    columns = env_charts.ordered_columns(pd.DataFrame({
        "environment_group": ["G", None], "n_environments": [2, 1],
        "total_releases": [4, 7]}), "environment_group")
    exported = env_charts.export_cells(
        cells, releases, columns, key="environment_group",
        total_impacted="total_impacted_groups")
    assert list(exported.columns) == [
        "release_id", "release_name", "application_id", "go_live_at",
        "total_impacted_groups", "environment_group", "cell_status",
        "n_bookings", "n_environments", "is_impacted", "total_releases"]
    assert exported["environment_group"].tolist()[0] == "G"
    assert pd.isna(exported["environment_group"].iloc[1])
    assert exported["total_releases"].tolist() == [4, 7]
    assert exported["n_bookings"].tolist() == [3, 1]


def test_matrix_go_live_is_the_date_in_the_reporting_zone(monkeypatch):
    """The rows are releases going live on local dates of the reporting zone:
    a go-live at 23:30 UTC on 1 Dec is 2 Dec in Berlin, and said so (it
    read 01 Dec, outside the go-live dates picked)."""
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/Berlin")
    releases = pd.DataFrame({
        "release_id": ["R1", "R2"], "release_name": ["One", "Two"],
        "go_live_at": pd.to_datetime(["2026-12-01 23:30", "2026-12-01 22:59"],
                                     utc=True),
        "total_impacted": [0, 0]})
    columns = pd.DataFrame({"environment_id": ["E1"], "total_releases": [0]})
    cells = pd.DataFrame({"release_id": [], "environment_id": [],
                          "cell_status": [], "n_bookings": []})
    grid = env_charts.impact_grid(cells, releases, columns,
                                  key="environment_id",
                                  total_impacted="total_impacted")
    assert list(grid["Go-live"]) == ["", "02 Dec 2026", "01 Dec 2026"]
    assert list(env_charts.impact_grid(
        cells, releases, columns, key="environment_id",
        total_impacted="total_impacted", tz="UTC")["Go-live"]) == [
        "", "01 Dec 2026", "01 Dec 2026"]


def test_two_environments_of_one_name_get_distinct_headers():
    columns = pd.DataFrame({"environment_id": ["E1", "E2"],
                            "environment_name": ["uat", "uat"]})
    assert env_charts.column_labels(columns, "environment_id") == {
        "E1": "uat (E1)", "E2": "uat (E2)"}


# --- the page (AppTest on the sample database) -----------------------------

@pytest.fixture
def app(sample_db, monkeypatch):
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)


def open_page(app, **url):
    app.query_params.update(url)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def bookings_by_group(period: str) -> dict[str, tuple[set, set]]:
    """Each environment group's statuses and phases of the sample's
    bookings meeting the period (of any status; the sample is laid out
    from today, so which groups are booked, and how, varies by day)."""
    window = ui.window_for(period)
    with db.reading(config.DB_PATH) as con:
        found = con.execute(
            "select e.environment_group, list(distinct b.status), "
            "list(distinct b.phase) from environment_bookings b "
            "join environments e using (environment_id) "
            "where b.start_at < $end and coalesce(b.end_at, b.start_at) "
            ">= $start group by all",
            {"start": str(window["start_date"]),
             "end": str(window["end_date"])}).fetchall()
    return {group or env_charts.NO_GROUP: (set(statuses), set(phases))
            for group, statuses, phases in found}


# the Payments environments in no group, as a load would write it
UNGROUP = ("update environments set environment_group = null, "
           "ingested_batch_id = $b where environment_group = 'Payments'")


def published_copy(sample_db, tmp_path, *statements: str,
                   params: dict | None = None) -> Path:
    """A copy of the sample with `statements` run in one publish, written
    as a load writes it: the rows they touch carry a batch id above every
    earlier one (`$b` in a statement), so the derived tables follow."""
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        batch = con.execute("select max(batch_id) + 1 from ingest_batches"
                            ).fetchone()[0]
        for sql in statements:
            con.execute(sql, {**(params or {}), "b": batch}
                        if "$" in sql else None)
    return copy


def page_of(copy: Path, monkeypatch, **url) -> AppTest:
    """The Environments page on `copy`, opened at `url`."""
    monkeypatch.setattr(config, "DB_PATH", copy)
    return open_page(AppTest.from_file(str(ROOT / "app.py"),
                                       default_timeout=90), **url)


def matrix(app) -> pd.DataFrame:
    return next(d.value for d in app.dataframe
                if "Total Releases" in d.value.index.get_level_values(0))


def test_page_draws_cards_matrix_and_every_section(app):
    open_page(app, period="last_365")
    assert [m.label for m in app.metric] == [
        "Environment utilisation", "Idle", "Over-booked, whole period",
        "Booking conflicts"]
    assert all(m.value != "n/a" for m in app.metric)
    grid = matrix(app)
    assert len(grid) > 1 and grid.columns.nlevels == 2  # group over name
    letters = {v[:1] for v in grid.iloc[1:].to_numpy().ravel() if v}
    assert letters and letters <= {"A", "P", "R"}
    captions = " ".join(c.value for c in app.caption)
    assert "releases going live" in captions and "n = " in captions
    assert "How is the environment impact matrix computed?" in [
        e.label for e in app.expander]
    assert not {"Per environment group", "Per environment"} & {
        s.value for s in app.header}  # only the open tab runs
    app.query_params["view"] = "Utilisation"
    app.run()
    assert not app.exception
    assert {"Per environment group", "Per environment"} <= {
        s.value for s in app.header}


def test_bookings_of_environments_not_loaded_are_said_under_utilisation(
        sample_db, tmp_path, monkeypatch):
    """Bookings of an environment missing from environments.csv were left
    out of utilisation without a word: the Environments page says how many
    of the period's are in none of its figures, and the Overview's
    utilisation card how many it left out, its Conflicts ahead those of the
    next 90 days."""
    copy = published_copy(
        sample_db, tmp_path,
        "insert into environment_bookings (booking_id, environment_id, "
        "status, start_at, end_at, ingested_batch_id) values "
        "('BX1', 'ENV-NOT-LOADED', 'approved', now() - interval 10 day, "
        "now() - interval 9 day, $b), ('BX2', 'ENV-NOT-LOADED', 'pending', "
        "now() - interval 20 day, now() - interval 19 day, $b), "
        # ahead: the Overview's Conflicts ahead, not the period's
        "('BX3', 'ENV-NOT-LOADED', 'approved', now() + interval 5 day, "
        "now() + interval 6 day, $b)")
    app = page_of(copy, monkeypatch, period="last_90")
    page = [c.value for c in app.caption if c.value.startswith("Cards,")]
    assert page[0].endswith(
        "2 bookings in the period are of environments not loaded, so in none "
        "of them (the Data page lists them)."), page
    said = "2 bookings of environments not loaded left out"
    app.switch_page("views/overview.py").run()
    assert not app.exception
    assert [c.value for c in app.caption if said in c.value and
            "idle" in c.value], [c.value for c in app.caption]
    ahead = [c.value for c in app.caption if c.value.startswith("next 90")]
    assert ahead[0].endswith(" booked environments · 1 booking of an "
                             "environment not loaded left out"), ahead
    assert ui.unplaced(1) == (" · 1 booking of an environment not loaded "
                              "left out")
    assert ui.unplaced(0) == ui.unplaced(None) == ""
    assert ui.unplaced_sentence(1) == (
        "1 booking in the period is of an environment not loaded, so in none "
        "of them (the Data page lists it).")
    assert ui.unplaced_sentence(0) == ""


def test_without_releases_the_matrix_says_none_is_loaded(
        sample_db, monkeypatch, tmp_path):
    """A source with changes but no releases (BPIC 2014): wider go-live
    dates cannot fill the matrix, so it does not ask for them; with
    releases outside the dates, it does."""
    path = tmp_path / "no-releases.duckdb"
    shutil.copyfile(sample_db, path)
    with db.publish(path) as con:
        con.execute("delete from releases")
    monkeypatch.setattr(config, "DB_PATH", path)
    app = open_page(AppTest.from_file(str(ROOT / "app.py"),
                                      default_timeout=90))
    said = [i.value for i in app.info]
    assert any(s.startswith("No release is loaded") for s in said), said
    assert not any("widen the go-live dates" in s for s in said)
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    far = open_page(AppTest.from_file(str(ROOT / "app.py"),
                                      default_timeout=90))
    far.date_input(key="go_live").set_value(
        (date(1990, 1, 1), date(1990, 1, 31))).run()
    assert not far.exception
    assert any("widen the go-live dates" in i.value for i in far.info)


def test_changing_the_period_changes_the_numbers(app):
    open_page(app, period="last_30")
    before = [m.value for m in app.metric] + [
        c.value for c in app.caption if c.value.startswith("n = ")]
    app.selectbox(key="period").select("last_365").run()
    assert not app.exception
    after = [m.value for m in app.metric] + [
        c.value for c in app.caption if c.value.startswith("n = ")]
    assert after != before


def test_the_tier_filter_narrows_the_matrix_columns(app):
    all_tiers = matrix(open_page(app)).shape[1]
    app.multiselect(key="filter-tiers").set_value(["uat"]).run()
    assert not app.exception
    assert 0 < matrix(app).shape[1] < all_tiers


def test_group_columns_show_one_column_per_environment_group(app):
    open_page(app, matrix_columns="Groups")
    grid = matrix(app)
    assert grid.columns.nlevels == 1
    assert set(grid.columns) <= {"Core Banking", "Corporate Systems",
                                 "Digital Channels", "Integration Hub",
                                 "Mainframe", "Payments", "Performance Lab",
                                 "Resilience", "Risk & Data",
                                 "Shared Test Lab", "Training", "(no group)"}


def test_selecting_a_matrix_row_lists_the_release_bookings(app):
    open_page(app)
    release = matrix(app).index[1][0]
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    assert not app.exception
    assert f"Bookings behind: {release}" in [s.value for s in app.header]
    behind = next(d.value for d in app.dataframe
                  if "booking_id" in d.value.columns
                  and "is_counted" in d.value.columns)
    assert len(behind) > 0 and set(behind["release_name"]) == {release}
    # its id right after its name (two trains' releases share names)
    columns = list(behind.columns)
    assert columns[columns.index("release_name") + 1] == "release_id"
    assert behind["release_id"].nunique() == 1


def test_a_release_and_an_environment_picked_in_boxes_select_in_the_grid(
        app):
    """The keyboard's way to the bookings behind the matrix (a grid's cell
    is selected from the keyboard only with unsaid keys: an accessibility
    review): a release picked is its row, an environment too its cell, an
    environment alone its Total Releases cell; and the boxes show what is
    selected in the grid."""
    open_page(app)
    grid = matrix(app)
    release = grid.index[1][0]

    def headings() -> list[str]:
        return [s.value for s in app.header
                if s.value.startswith("Bookings behind")]

    def selection() -> dict:
        picked = app.session_state["impact_matrix"]["selection"]
        return {k: [tuple(c) if k == "cells" else c for c in picked[k]]
                for k in ("rows", "cells")}

    app.selectbox(key="impact_matrix:release").select(release).run()
    assert not app.exception
    assert headings() == [f"Bookings behind: {release}"]
    assert selection() == {"rows": [1], "cells": []}
    column = app.selectbox(key="impact_matrix:column")
    label = column.options[0]
    column.select_index(0).run()
    assert headings() == [f"Bookings behind: {release} × {label}"]
    assert selection() == {"rows": [], "cells": [(1, label)]}
    app.selectbox(key="impact_matrix:release").set_value(None).run()
    assert headings() == [f"Bookings behind: {label}"]
    assert selection() == {"rows": [], "cells": [(0, label)]}
    # a row selected in the grid: the boxes say which
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [2], "columns": [], "cells": []}}
    app.run()
    assert app.selectbox(key="impact_matrix:release").value == \
        grid.index[2][0]
    assert app.selectbox(key="impact_matrix:column").value is None
    assert headings() == [f"Bookings behind: {grid.index[2][0]}"]


def test_a_matrix_selection_is_a_link(app, sample_db, monkeypatch):
    """A release manager sends the link to the bookings behind a cell: the
    selection's release and column are in the address while the tab is
    open (?matrix_release=, ?matrix_column=; the page of releases is in it
    already), and the link opens on them, on any page of releases."""
    from changeboard import env_charts
    monkeypatch.setattr(env_charts, "MATRIX_ROWS", 5)  # pages of 5 releases
    open_page(app)

    def headings(page) -> list[str]:
        return [s.value for s in page.header
                if s.value.startswith("Bookings behind")]

    def link(page) -> dict:
        # the page of releases as its bound box puts it in a browser's
        # address, by its label (AppTest does not)
        pages = page.selectbox(key="matrix_page")
        return {"matrix_page": pages.options[pages.index],
                **{k: v for k, v in page.query_params.items()
                   if k in ("matrix_release", "matrix_column")}}

    assert not {"matrix_release", "matrix_column"} & set(app.query_params)
    app.selectbox(key="matrix_page").select_index(1).run()
    release = matrix(app).index[2][0]
    app.selectbox(key="impact_matrix:release").select(release).run()
    column = app.selectbox(key="impact_matrix:column")
    label = column.options[0]
    column.select_index(0).run()
    assert headings(app) == [f"Bookings behind: {release} × {label}"]
    sent = link(app)
    assert sent["matrix_page"] == "6–10" and sent["matrix_release"] != release
    linked = page_of(sample_db, monkeypatch, **sent)
    assert headings(linked) == [f"Bookings behind: {release} × {label}"]
    assert linked.selectbox(key="impact_matrix:release").value == release
    assert link(linked) == sent
    # the release alone, then its column alone (its Total Releases cell)
    app.selectbox(key="impact_matrix:column").set_value(None).run()
    assert "matrix_column" not in app.query_params
    alone = page_of(sample_db, monkeypatch, **link(app))
    assert headings(alone) == [f"Bookings behind: {release}"]
    app.selectbox(key="impact_matrix:column").select(label)
    app.selectbox(key="impact_matrix:release").set_value(None).run()
    assert "matrix_release" not in app.query_params
    alone = page_of(sample_db, monkeypatch, **link(app))
    assert headings(alone) == [f"Bookings behind: {label}"]
    # a release or a column the page does not draw: nothing, and the
    # address is the grid's again
    for wrong in ({"matrix_release": "REL-NOPE"},
                  {"matrix_release": sent["matrix_release"],
                   "matrix_column": "ENV-NOPE"},
                  {"matrix_release": sent["matrix_release"],
                   "matrix_page": "1–5"}):
        unknown = page_of(sample_db, monkeypatch, **{**sent, **wrong})
        assert headings(unknown) == [], wrong
        assert not {"matrix_release", "matrix_column"} & set(
            unknown.query_params), wrong
    # another tab open, the link is that tab's
    app.query_params["view"] = "Utilisation"
    app.run()
    assert not app.exception
    assert not {"matrix_release", "matrix_column"} & set(app.query_params)


def test_the_matrix_selection_is_kept_by_release_not_by_row(app,
                                                           monkeypatch):
    """A grid knows only row numbers: a release picked on the first page of
    releases stood for another on the second (the review: the box and the
    heading named a release nobody picked), and a group's Total Releases
    cell stayed selected under an environment's column. The selection now
    follows its release and column, or goes when they are not drawn."""
    from changeboard import env_charts
    monkeypatch.setattr(env_charts, "MATRIX_ROWS", 5)  # pages of 5 releases
    open_page(app)
    pages = app.selectbox(key="matrix_page")
    assert len(pages.options) > 1, "the sample has a second page of releases"

    def headings() -> list[str]:
        return [s.value for s in app.header
                if s.value.startswith("Bookings behind")]

    release = matrix(app).index[1][0]
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    assert headings() == [f"Bookings behind: {release}"]
    pages.select_index(1).run()
    assert release not in set(matrix(app).index.get_level_values(0))
    assert headings() == []
    assert app.selectbox(key="impact_matrix:release").value is None
    assert app.session_state["impact_matrix"]["selection"]["rows"] == []
    # a group's Total Releases cell, then the columns by environment
    app.selectbox(key="matrix_page").select_index(0).run()
    app.segmented_control(key="matrix_columns").set_value("Groups").run()
    group = next(c for c in matrix(app).columns if c not in (
        "Release", "Go-live", "Total Impacted"))
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [], "columns": [], "cells": [(0, group)]}}
    app.run()
    assert headings() == [f"Bookings behind: group {group}"]
    app.segmented_control(key="matrix_columns").set_value(
        "Environments").run()
    assert headings() == []
    assert app.session_state["impact_matrix"]["selection"]["cells"] == []


def test_selecting_a_group_cell_lists_its_bookings(app):
    open_page(app, matrix_columns="Groups")
    grid = matrix(app)
    row, group = next((i, g) for g in grid.columns
                      for i in range(1, len(grid)) if grid[g].iloc[i])
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [], "columns": [], "cells": [(row, group)]}}
    app.run()
    assert not app.exception
    heading = f"Bookings behind: {grid.index[row][0]} × group {group}"
    assert heading in [s.value for s in app.header]
    behind = next(d.value for d in app.dataframe
                  if "is_counted" in d.value.columns)
    assert set(behind["environment_group"]) == {group}
    assert behind["is_counted"].sum() >= 1


def test_an_empty_cell_says_so_and_lists_nothing(app):
    """An empty cell said 'No booking here', then 'n = 0 bookings ...; 0
    cancelled, empty or invalid ones are listed too', with downloads of a
    table of no row: it says the first alone."""
    open_page(app, matrix_columns="Groups")
    grid = matrix(app)
    row, group = next((i, g) for g in grid.columns
                      for i in range(1, len(grid)) if not grid[g].iloc[i])
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [], "columns": [], "cells": [(row, group)]}}
    app.run()
    assert not app.exception
    assert "No booking here: an empty cell. Pick a coloured one." in [
        i.value for i in app.info]
    assert not [c for c in app.caption if "behind the selection" in c.value]
    assert not [d for d in app.dataframe if "is_counted" in d.value.columns]


def test_selecting_an_environment_lists_its_bookings(app):
    open_page(app, period="last_365", view="Utilisation")
    usage = next(d.value for d in app.dataframe if "flag" in d.value.columns)
    busiest = int(usage["n_bookings"].to_numpy().argmax())
    name = usage["name"].iloc[busiest]
    app.session_state["usage_table"] = {
        "selection": {"rows": [busiest], "columns": [], "cells": []}}
    app.run()
    assert not app.exception
    assert f"Bookings of {name} in the period" in [
        s.value for s in app.header]


def test_an_environment_picked_in_the_box_is_the_tables_pick(app):
    """The keyboard's way to an environment's bookings (a table's row is
    selected from the keyboard only with an unsaid Shift+Space: an
    accessibility review): the box under the table picks its row, and shows
    a row selected in the table."""
    open_page(app, period="last_365", view="Utilisation")
    usage = next(d.value for d in app.dataframe if "flag" in d.value.columns)
    row = int(usage["n_bookings"].to_numpy().argmax())
    wanted = usage["environment_id"].iloc[row]
    box = app.selectbox(key="usage_table:box")
    assert box.value is None and box.label == "Bookings of one environment"
    box.select(wanted).run()
    assert not app.exception
    assert f"Bookings of {usage['name'].iloc[row]} in the period" in [
        s.value for s in app.header]
    assert app.session_state["usage_table"]["selection"]["rows"] == [row]
    # a row selected in the table: the box says which
    app.session_state["usage_table"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    assert app.selectbox(key="usage_table:box").value == \
        usage["environment_id"].iloc[0]
    assert f"Bookings of {usage['name'].iloc[0]} in the period" in [
        s.value for s in app.header]


def test_a_picked_environment_is_a_link(app, sample_db, monkeypatch):
    """A manager sends the link to an environment's bookings or pairs: the
    pick is kept in the URL while its tab is open (?usage_env=,
    ?conflict_env=), and the link opens on it."""
    open_page(app, period="last_365", view="Utilisation")
    usage = next(d.value for d in app.dataframe if "flag" in d.value.columns)
    row = int(usage["n_bookings"].to_numpy().argmax())
    wanted, name = usage["environment_id"].iloc[row], usage["name"].iloc[row]
    assert "usage_env" not in app.query_params
    app.selectbox(key="usage_table:box").select(wanted).run()
    assert app.query_params["usage_env"] == wanted
    linked = page_of(sample_db, monkeypatch, period="last_365",
                     view="Utilisation", usage_env=wanted)
    assert f"Bookings of {name} in the period" in [
        s.value for s in linked.header]
    assert linked.session_state["usage_table"]["selection"]["rows"] == [row]
    assert linked.selectbox(key="usage_table:box").value == wanted
    # unpicked, the link is the table's again
    linked.selectbox(key="usage_table:box").select(None).run()
    assert "usage_env" not in linked.query_params
    assert not [s.value for s in linked.header
                if s.value.startswith("Bookings of")]
    # another tab open, the link is that tab's
    app.selectbox(key="usage_table:box").select(wanted).run()
    app.query_params["view"] = "Conflicts"
    app.run()
    assert not app.exception
    assert "usage_env" not in app.query_params


def _three_in_conflict(path: Path) -> Path:
    """Two overlapping bookings on each of E1 (5-25 Jan 2026), E2 (2-4 Jan)
    and E3 (20-30 Jan), published at `path`: ranked by conflict hours, E3
    is the second row in January and the third in 1-20 January, and is not
    listed in 1-9."""
    spans = {"E1": ("05", "25"), "E2": ("02", "04"), "E3": ("20", "30")}
    return _published(path, {
        "environments": [env(e) for e in spans],
        "environment_bookings": [
            booking(f"{e}{i}", f"2026-01-{start} 00:00Z",
                    f"2026-01-{end} 00:00Z", env_id=e)
            for e, (start, end) in spans.items() for i in (1, 2)]})


def test_a_link_to_an_environment_s_pairs_opens_on_them(tmp_path,
                                                       monkeypatch):
    path = _three_in_conflict(tmp_path / "cb.duckdb")
    january = {"period": "custom", "view": "Conflicts",
               "from": "2026-01-01", "to": "2026-01-31"}

    def pairs_of(app) -> set:
        return set(next(d.value for d in app.dataframe
                        if "booking_id_a" in d.value.columns
                        )["environment_id"])

    app = page_of(path, monkeypatch, **january)
    assert pairs_of(app) == {"E1", "E2", "E3"}
    assert "conflict_env" not in app.query_params
    app.selectbox(key="conflict_envs:box").select("E3").run()
    assert app.query_params["conflict_env"] == "E3"
    linked = page_of(path, monkeypatch, **january, conflict_env="E3")
    assert pairs_of(linked) == {"E3"}
    assert linked.session_state["conflict_envs"]["selection"]["rows"] == [1]
    assert linked.selectbox(key="conflict_envs:box").value == "E3"
    # an id the table does not list (another period's, mistyped): no pick
    unknown = page_of(path, monkeypatch, **january, conflict_env="E9")
    assert pairs_of(unknown) == {"E1", "E2", "E3"}
    assert unknown.session_state["conflict_envs"]["selection"]["rows"] == []
    assert "conflict_env" not in unknown.query_params
    # the pick of a period that does not list it is dropped from the link
    app.date_input(key="dates").set_value(
        (date(2026, 1, 1), date(2026, 1, 9))).run()
    assert pairs_of(app) == {"E1", "E2"}
    assert "conflict_env" not in app.query_params


def test_a_picked_environment_stays_picked_when_its_row_moves(app):
    """A table knows only row numbers: after another period or view it kept
    the same row picked, by then another environment, and listed that one's
    bookings or pairs. The pick is kept by environment: at its new row, or
    none when it is not listed."""
    open_page(app, period="last_365", view="Utilisation")
    usage = next(d.value for d in app.dataframe if "flag" in d.value.columns)
    assert (usage["flag"] != "").any() and (usage["flag"] == "").any()
    # the last flagged environment: below unflagged rows in All, so its
    # row number differs once only the flagged are shown
    row = int(usage.index[usage["flag"] != ""][-1])
    name, flag = usage["name"].iloc[row], usage["flag"].iloc[row]
    app.session_state["usage_table"] = {
        "selection": {"rows": [row], "columns": [], "cells": []}}
    app.run()
    headings = [f"Bookings of {name} in the period"]
    assert [s.value for s in app.header if s.value.startswith(
        "Bookings of")] == headings
    shown = "Idle" if "idle" in flag.lower() else "Over-booked"
    app.segmented_control(key="usage_show").set_value(shown).run()
    now = next(d.value for d in app.dataframe if "flag" in d.value.columns)
    assert list(now["name"]).index(name) != row
    assert [s.value for s in app.header if s.value.startswith(
        "Bookings of")] == headings
    assert app.session_state["usage_table"]["selection"]["rows"] == [
        list(now["name"]).index(name)]
    # gone from the rows shown: nothing is picked
    other = "Over-booked" if shown == "Idle" else "Idle"
    app.segmented_control(key="usage_show").set_value(other).run()
    assert not [s.value for s in app.header
                if s.value.startswith("Bookings of")]
    assert app.session_state["usage_table"]["selection"]["rows"] == []


def test_the_picked_environment_s_pairs_follow_it_to_another_period(
        tmp_path, monkeypatch):
    path = _three_in_conflict(tmp_path / "cb.duckdb")

    def shown(app) -> tuple[list, set, list]:
        envs = next(d.value for d in app.dataframe
                    if "n_conflict_pairs" in d.value.columns)
        pairs = next(d.value for d in app.dataframe
                     if "booking_id_a" in d.value.columns)
        return (list(envs["environment_id"]), set(pairs["environment_id"]),
                app.session_state["conflict_envs"]["selection"]["rows"])

    app = page_of(path, monkeypatch, period="custom", view="Conflicts",
                  **{"from": "2026-01-01", "to": "2026-01-31"})
    assert shown(app)[0] == ["E1", "E3", "E2"]
    app.session_state["conflict_envs"] = {
        "selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    assert shown(app) == (["E1", "E3", "E2"], {"E3"}, [1])
    app.date_input(key="dates").set_value(
        (date(2026, 1, 1), date(2026, 1, 20))).run()
    assert shown(app) == (["E1", "E2", "E3"], {"E3"}, [2])
    assert "n = 1 pair of approved or pending bookings; overlap clipped " \
        "to the period." in [c.value for c in app.caption]
    # E3 has no booking in 1-9 January: no pick, every environment's pairs
    app.date_input(key="dates").set_value(
        (date(2026, 1, 1), date(2026, 1, 9))).run()
    assert shown(app) == (["E1", "E2"], {"E1", "E2"}, [])
    assert app.selectbox(key="conflict_envs:box").value is None
    # picked in the box under the table (the keyboard's way): its row
    app.selectbox(key="conflict_envs:box").select("E2").run()
    assert shown(app) == (["E1", "E2"], {"E2"}, [1])


def recorded_reads(monkeypatch):
    """The names of each ui.prefetch call and every query db.run runs, from
    a fresh server's caches on (another test may have read them)."""
    import streamlit as st

    from changeboard import ui
    asked, ran = [], []
    real_prefetch, real_run = ui.prefetch, db.run

    def prefetch(calls, filters, parts=()):
        asked.append([(name, extra) for name, _, extra in calls])
        return real_prefetch(calls, filters, parts)

    def run(con, name, **params):
        ran.append((name, params.get("environment_groups")))
        return real_run(con, name, **params)

    monkeypatch.setattr(ui, "prefetch", prefetch)
    monkeypatch.setattr(db, "run", run)
    st.cache_data.clear()
    ui._prefetched.clear()
    return asked, ran


@pytest.mark.parametrize(("view", "query"), [
    ("Weekly load", "environment_impact_by_week"),
    ("Utilisation", "environment_utilization"),
    ("Bookings timeline", "booking_timeline")])
def test_the_open_tabs_query_runs_with_the_pages(app, monkeypatch, view,
                                                  query):
    """A tab read its query after the page's two (ui.prefetch runs them two
    at a time): a filter change at 1M spent 0.1 s more. The page now runs
    the open tab's query with its own, as the tab's picks last asked it,
    and the tab finds it read."""
    open_page(app, period="last_30", view=view)
    asked, ran = recorded_reads(monkeypatch)
    app.selectbox(key="period").select("last_365").run()
    assert not app.exception
    together = [name for name, _ in next(
        names for names in asked
        if ("environment_utilization_rollup", {}) in names)]
    assert query in together
    assert [name for name, _ in ran].count(query) == 1  # once, with the page's


MATRIX = "environment_impact_totals"  # its rows and columns, one pass


@pytest.mark.parametrize(("picks", "scope"), [
    ({}, None),
    ({"matrix_columns": "Groups", "matrix_group": "Payments"}, ["Payments"])])
def test_the_matrix_reads_its_rows_and_columns_with_the_headlines(
        app, monkeypatch, picks, scope):
    """The matrix read its groups, then its rows and columns, in two rounds
    after the headlines' (0.1-0.2 s of a cold run at a million changes).
    Its first round now runs with the headlines, as its picks last asked
    it, and each query is read once. Its rows, columns and groups were
    three queries, each reading the releases and their bookings (137 ms
    together at a million changes); they are one, read once with no group
    picked (55 ms), and once more for a group picked."""
    open_page(app)
    for key, value in picks.items():
        (app.segmented_control if key == "matrix_columns"
         else app.selectbox)(key=key).set_value(value).run()
    asked, ran = recorded_reads(monkeypatch)
    app.run()
    assert not app.exception
    together = next(names for names in asked
                    if ("environment_utilization_rollup", {}) in names)
    matrix = [(name, extra) for name, extra in together if name == MATRIX]
    assert matrix == [(MATRIX, {})] + (
        [(MATRIX, {"environment_groups": scope})] if scope else [])
    assert ran.count((MATRIX, None)) == 1
    if scope:
        assert ran.count((MATRIX, scope)) == 1
    assert not [name for name, _ in ran if name != MATRIX and name.startswith(
        "environment_impact_") and name.endswith("_totals")]


def test_a_links_matrix_picks_are_its_own(app, monkeypatch):
    """On a link's first run its picks are not read before the matrix's
    controls are drawn: the page reads the groups ahead and the matrix the
    link's group, not every group."""
    asked, ran = recorded_reads(monkeypatch)
    open_page(app, matrix_group="Payments", matrix_columns="Groups")
    assert app.selectbox(key="matrix_group").value == "Payments"
    together = next(names for names in asked
                    if ("environment_utilization_rollup", {}) in names)
    assert [(name, extra) for name, extra in together if name == MATRIX] \
        == [(MATRIX, {})]
    assert ran.count((MATRIX, ["Payments"])) == 1
    assert ran.count((MATRIX, None)) == 1  # the group pick's options


def test_the_view_is_read_back_from_the_url(app):
    open_page(app, period="ytd", matrix_columns="Groups",
              load_value="Booked hours", timeline_dates="Matrix dates")
    assert app.selectbox(key="period").value == "ytd"
    assert app.segmented_control(key="matrix_columns").value == "Groups"
    # the other tabs' controls exist once their tab is open (lazy tabs)
    app.query_params["view"] = "Weekly load"
    app.run()
    assert app.segmented_control(key="load_value").value == "Booked hours"
    app.query_params["view"] = "Bookings timeline"
    app.run()
    assert app.segmented_control(key="timeline_dates").value == \
        "Matrix dates"


def test_a_link_naming_a_tab_in_other_case_opens_that_tab(app):
    """?view=bookings timeline opened the impact matrix: the tabs read the
    address's value as the tab it names, whatever its case and spacing."""
    open_page(app, view="bookings  TIMELINE")
    assert app.segmented_control(key="timeline_dates").value
    assert app.query_params["view"] == "Bookings timeline"


def test_settled_matrix_styler_sends_what_a_plain_styler_sends():
    """styled_grid's Styler is computed once and kept (a rerun reuses it):
    Streamlit gets the same CSS and display values from it as from a plain
    Styler styled cell by cell, and gets them again on a second rerun."""
    from streamlit.elements.lib.pandas_styler_utils import marshall_styler
    from streamlit.proto.ArrowData_pb2 import ArrowData

    cells = pd.DataFrame({
        "release_id": ["R1", "R1", "R2", "R3"],
        "environment_id": ["E1", "E2", "E2", "E3"],
        "cell_status": ["approved", "rejected", "pending", "approved"],
        "n_bookings": [2, 1, 1, 3]})
    releases = pd.DataFrame({
        "release_id": ["R1", "R2", "R3"], "release_name": ["One", "Two", "3"],
        "go_live_at": pd.to_datetime(["2026-12-01", "2026-12-02",
                                      "2026-12-03"], utc=True),
        "total_impacted": [1, 1, 1]})
    columns = pd.DataFrame({
        "environment_id": ["E1", "E2", "E3"],
        "environment_name": ["sit", "uat", "uat"],
        "environment_group": ["G", "G", None], "tier": ["sit", "uat", "uat"],
        "total_releases": [1, 1, 1]})
    grid = env_charts.impact_grid(cells, releases, columns,
                                  key="environment_id",
                                  total_impacted="total_impacted")
    settled = env_charts.styled_grid(grid, columns, "environment_id")
    plain = settled.data.style.map(env_charts._cell_style).apply(
        lambda row: [env_charts.TOTAL_ROW_STYLE
                     if row.name[0] == env_charts.TOTAL_ROW else ""
                     for _ in row], axis=1)
    plain.set_uuid(settled.uuid)

    def sent(styler):
        proto = ArrowData()
        marshall_styler(proto, styler, "default")
        return proto.styler

    expected = sent(plain)
    # a rule per style (band, approved, pending, rejected), 3 + 4 cells
    assert expected.styles.count("background-color") == 4
    assert expected.styles.count("#T_impact_matrix_row") == 3 + 4
    for _ in range(2):  # the first rerun and the next, from the kept state
        got = sent(settled)
        assert got.styles == expected.styles
        assert got.display_values == expected.display_values
        assert got.uuid == expected.uuid
    # pandas' own rendering still reads the settled styles
    assert settled.to_html() == plain.to_html()


def test_settled_styler_arrow_bytes_are_made_once_and_are_streamlits_own(
        monkeypatch):
    """A settled Styler's frame and display values are turned into Arrow
    once: later reruns send the same bytes Streamlit itself makes of them,
    and any other frame is converted afresh every time."""
    from streamlit import dataframe_util
    from streamlit.elements.lib import pandas_styler_utils
    from streamlit.proto.ArrowData_pb2 import ArrowData

    from changeboard import settled_styler

    data = pd.DataFrame(
        [["A", "", "P"], ["", "R…", "A"]],
        index=pd.MultiIndex.from_arrays([["One", "Two"], ["01 Dec", "02 Dec"]],
                                        names=["Release", "Go-live"]),
        columns=pd.MultiIndex.from_arrays([["G", "G", "(no group)"],
                                           ["sit", "uat", "prod"]]))
    css = np.array([["background-color: #cfe", "", "color: red"],
                    ["", "", "background-color: #cfe"]], dtype=object)
    styler = settled_styler.settled(data, css, uuid="kept_bytes")
    made = []
    convert_table = dataframe_util.convert_pandas_df_to_arrow_table
    monkeypatch.setattr(dataframe_util, "convert_pandas_df_to_arrow_table",
                        lambda df: made.append(df.shape) or convert_table(df))
    sent = []
    for _ in range(3):  # a first run and two reruns
        proto = ArrowData()
        pandas_styler_utils.marshall_styler(proto, styler, "default")
        sent.append((proto.styler.display_values,
                     dataframe_util.convert_pandas_df_to_arrow_bytes(
                         styler.data)))
    assert made == [(2, 3), (2, 3)]  # display values, then the data: once
    assert sent[0] == sent[1] == sent[2]
    display_values, data_bytes = sent[0]
    # what Streamlit makes of the frames themselves, unkept
    unkept = dataframe_util.convert_arrow_table_to_arrow_bytes
    assert data_bytes == unkept(convert_table(data))
    assert display_values == unkept(convert_table(data.astype(str)))
    other = data.copy()
    dataframe_util.convert_pandas_df_to_arrow_bytes(other)
    dataframe_util.convert_pandas_df_to_arrow_bytes(other)
    assert made[2:] == [(2, 3), (2, 3)]



@pytest.mark.parametrize("name", ["environment_impact_matrix",
                                  "environment_impact_matrix_by_group"])
def test_matrix_cells_of_a_page_of_releases_are_those_of_the_whole(
        sample_db, name):
    """The page reads the cells of the releases it shows ($release_ids):
    the same rows, in the same order, as the whole matrix's for them."""
    window = {"start_date": "2024-01-01", "end_date": "2027-01-01"}
    with db.connect(sample_db, read_only=True) as con:
        releases = db.run(con, "environment_impact_release_totals", **window)
        whole = db.run(con, name, **window)
        page = list(releases["release_id"].iloc[3:3 + env_charts.MATRIX_ROWS])
        read = db.run(con, name, **window, release_ids=page)
        none = db.run(con, name, **window, release_ids=[])
    expected = whole[whole["release_id"].isin(page)].reset_index(drop=True)
    assert 0 < len(read) < len(whole)
    pd.testing.assert_frame_equal(read, expected)
    assert none.empty


def test_matrix_totals_of_some_releases_count_those_releases(sample_db):
    window = {"start_date": "2024-01-01", "end_date": "2027-01-01"}
    with db.connect(sample_db, read_only=True) as con:
        releases = db.run(con, "environment_impact_release_totals", **window)
        page = list(releases["release_id"].iloc[:env_charts.MATRIX_ROWS])
        rows = db.run(con, "environment_impact_release_totals", **window,
                      release_ids=page)
        columns = db.run(con, "environment_impact_environment_totals",
                         **window, release_ids=page)
        groups = db.run(con, "environment_impact_group_totals", **window,
                        release_ids=page)
    pd.testing.assert_frame_equal(
        rows, releases.iloc[:env_charts.MATRIX_ROWS].reset_index(drop=True))
    impacted = int(rows["total_impacted"].sum())
    assert 0 < impacted < int(releases["total_impacted"].sum())
    assert int(columns["total_releases"].sum()) == impacted  # cell by cell
    assert set(columns["n"]) == set(groups["n"]) == {len(page)}


@pytest.mark.parametrize("params", [
    {"start_date": "2024-01-01", "end_date": "2027-01-01"},
    {"start_date": "2026-03-01", "end_date": "2026-06-01",
     "reporting_tz": "Europe/Berlin", "tiers": ["prod", "uat"]}])
def test_utilization_rollup_is_the_summary_and_the_groups(sample_db, params):
    """The page reads both from one sweep: the is_total row is the summary,
    column for column, and the other rows are the groups, in order."""
    with db.connect(sample_db, read_only=True) as con:
        rollup = db.run(con, "environment_utilization_rollup", **params)
        summary = db.run(con, "environment_utilization_summary", **params)
        groups = db.run(con, "environment_utilization_by_group", **params)
    assert rollup["is_total"].tolist() == [True] + [False] * len(groups)
    assert len(groups) > 1
    pd.testing.assert_frame_equal(
        rollup.iloc[:1][list(summary.columns)].reset_index(drop=True),
        summary)
    pd.testing.assert_frame_equal(
        rollup.iloc[1:].drop(columns="is_total").reset_index(drop=True),
        groups)


def test_many_over_booked_environments_are_named_the_worst_first(
        sample_db, tmp_path, monkeypatch):
    """At a million changes 960 environments were over-booked and the
    warning named every one, a wall of text: it names the ten most
    over-booked and says how many more the table's Over-booked view lists."""
    import re
    copy = published_copy(   # three to five all-year bookings per environment
        sample_db, tmp_path,
        "insert into environment_bookings (booking_id, environment_id, "
        "status, start_at, end_at, ingested_batch_id) select 'OB-' || "
        "environment_id || '-' || i, environment_id, 'approved', "
        "timestamptz '2020-01-01 00:00Z', timestamptz '2035-01-01 00:00Z', "
        "$b from environments, "
        "range(3 + (hash(environment_id) % 3)::int) as t(i)")
    app = page_of(copy, monkeypatch, period="last_365", view="Utilisation")
    over = int(next(m.value for m in app.metric
                    if m.label.startswith("Over-booked")).replace(",", ""))
    assert over > 10
    warning = next(w.value for w in app.warning if "over-booked" in w.value)
    assert warning.startswith(f"{over:,} environments over-booked")
    named = re.findall(r"\*\*(.+?)\*\* \((\d+)%\)", warning)
    assert len(named) == 10
    ratios = [int(r) for _, r in named]
    assert ratios == sorted(ratios, reverse=True)
    assert warning.endswith(f"and {over - 10:,} more: show Over-booked "
                            "below to list them all.")
    # counts keep their thousands separators under a page's own label
    import json
    groups = next(d for d in app.dataframe
                  if "environment_group" in d.value.columns
                  and "n_environments" in d.value.columns)
    shown = json.loads(groups.proto.columns)["n_bookings"]
    assert shown["label"] == "Approved bookings"
    assert shown["type_config"]["format"] == "localized"


def test_a_no_group_column_lists_its_bookings_for_every_release(
        sample_db, tmp_path, monkeypatch):
    """Selecting a cell of the Groups view's '(no group)' column raised
    KeyError ('environment_id' is not a column of the by-group cells); its
    Total Releases cell lists the bookings of every release on the
    environments with no group."""
    app = page_of(published_copy(sample_db, tmp_path, UNGROUP), monkeypatch,
                  matrix_columns="Groups")
    grid = matrix(app)
    row = next(i for i in range(1, len(grid)) if grid["(no group)"].iloc[i])
    for picked in (row, 0):   # a release's cell, then the column's total
        app.session_state["impact_matrix"] = {"selection": {
            "rows": [], "columns": [], "cells": [(picked, "(no group)")]}}
        app.run()
        assert not app.exception, app.exception
        listed = next(d.value for d in app.dataframe
                      if "booking_id" in d.value.columns)
        assert len(listed) > 0 and listed["environment_group"].isna().all()


def test_an_environment_name_is_shown_as_written_in_its_heading(
        sample_db, tmp_path, monkeypatch):
    """A name from the data is not Markdown: '**UAT_1** [docs](…)' was drawn
    bold with a link in the heading of its bookings."""
    import re
    name = "**UAT_1** [docs](http://x.example)"
    copy = published_copy(
        sample_db, tmp_path,
        "update environments set name = $n, ingested_batch_id = $b where "
        "environment_id = (select min(environment_id) from "
        "environment_bookings)", params={"n": name})
    app = page_of(copy, monkeypatch, period="last_365", view="Utilisation")
    usage = next(d.value for d in app.dataframe if "availability" in d.value)
    row = list(usage["name"]).index(name)
    app.session_state["usage_table"] = {"selection": {"rows": [row],
                                                      "columns": []}}
    app.run()
    assert not app.exception
    heading = next(s.value for s in app.header
                   if s.value.startswith("Bookings of"))
    assert "x.example" in heading
    assert not re.search(r"(?<!\\)[*\[\]]", heading)


def test_two_environments_of_one_name_are_two_rows_in_the_charts(con, given):
    """Two environments called 'UAT' were one heatmap row with their hours
    added up, and one Gantt row, where overlapping bars read as a conflict
    that is not there."""
    given("environments", [env("PAY-UAT", name="UAT"),
                           env("CRM-UAT", name="UAT")])
    given("releases", [release("R1", "2024-06-20 10:00Z"),
                       release("R2", "2024-06-21 10:00Z")])
    given("environment_bookings", [
        booking("B1", "2024-06-03 09:00Z", "2024-06-03 17:00Z",
                env_id="PAY-UAT", release_id="R1"),
        booking("B2", "2024-06-03 10:00Z", "2024-06-03 12:00Z",
                env_id="CRM-UAT", release_id="R2")])
    weekly = db.run(con, "environment_impact_by_week", **WEEK)
    heat = env_charts.week_heatmap(weekly, "booked_hours", "booked hours")
    rows = dict(zip(heat.data[0].y, np.asarray(heat.data[0].z)[:, 0],
                    strict=True))
    assert rows == {"UAT (PAY-UAT)": 8.0, "UAT (CRM-UAT)": 2.0}
    gantt = env_charts.booking_gantt(timeline(con))
    drawn = {y for trace in gantt.data for y in trace.y}
    assert drawn == {"UAT (PAY-UAT)", "UAT (CRM-UAT)"}


def test_an_idle_environment_over_booked_by_pending_demand_is_both(
        sample_db, tmp_path, monkeypatch):
    """Nothing approved on it, pending demand over its capacity: the Idle
    card counted it, the table's flag said only Over-booked, so the Idle
    view and the caption's idle count left it out."""
    copy = published_copy(
        sample_db, tmp_path,
        "insert into environments (environment_id, name, tier, capacity, "
        "ingested_batch_id) values ('IDLE-1', 'Idle one', 'uat', 1, $b)",
        "insert into environment_bookings (booking_id, environment_id, "
        "status, start_at, end_at, ingested_batch_id) select 'P' || i, "
        "'IDLE-1', 'pending', timestamptz '2020-01-01 00:00Z', "
        "timestamptz '2035-01-01 00:00Z', $b from range(2) t(i)")
    app = page_of(copy, monkeypatch, period="last_365", view="Utilisation")
    usage = next(d.value for d in app.dataframe if "flag" in d.value.columns)
    assert usage.set_index("environment_id").loc["IDLE-1", "flag"] == \
        "Idle, over-booked"
    idle_card = int(next(m.value for m in app.metric if m.label == "Idle"
                         ).replace(",", ""))
    assert any(c.value.split(" · ")[1].startswith(f"{idle_card:,} idle")
               for c in app.caption if " environments · " in c.value)
    app.segmented_control(key="usage_show").set_value("Idle").run()
    shown = next(d.value for d in app.dataframe if "flag" in d.value.columns)
    assert len(shown) == idle_card and "IDLE-1" in set(shown["environment_id"])


def test_environments_with_no_group_can_be_picked_in_load_and_timeline(
        sample_db, tmp_path, monkeypatch):
    """The Weekly load and Bookings timeline tabs pick one group; the
    environments with none could never be shown."""
    copy = published_copy(sample_db, tmp_path, UNGROUP)
    with db.reading(copy) as con:
        ungrouped = {r[0] for r in con.execute(
            "select name from environments where environment_group is null"
        ).fetchall()}
    app = page_of(copy, monkeypatch, period="last_365", view="Weekly load")
    assert app.selectbox(key="load_group").options[-1] == "(no group)"
    app.selectbox(key="load_group").select("(no group)").run()
    assert not app.exception
    import json
    heat = next(c for c in app.get("plotly_chart")
                if json.loads(c.proto.spec)["data"][0]["type"] == "heatmap")
    rows = set(json.loads(heat.proto.spec)["data"][0]["y"])
    assert rows and {r.rsplit(" (", 1)[0] for r in rows} <= ungrouped
    app.query_params["view"] = "Bookings timeline"
    app.run()
    app.selectbox(key="timeline_group").select("(no group)").run()
    assert not app.exception
    caption = next(c.value for c in app.caption if " bookings on " in c.value)
    assert "environments of" in caption and "None" not in caption


def test_a_weekly_load_of_nothing_to_draw_says_why(sample_db, tmp_path,
                                                   monkeypatch):
    """A group whose bookings name no release drew a blank heatmap under a
    scale of 0-1 for Releases, beside a table of its bookings and a caption
    counting its environments 'with bookings in the period' (a walkthrough
    at a million changes). It says why, and Booked hours draws them."""
    import json
    copy = published_copy(
        sample_db, tmp_path,
        "update environment_bookings set release_id = null, "
        "ingested_batch_id = $b where environment_id in (select "
        "environment_id from environments where environment_group = "
        "'Payments')")
    app = page_of(copy, monkeypatch, period="last_365", view="Weekly load")
    app.selectbox(key="load_group").select("Payments").run()
    assert not app.exception
    assert not [c for c in app.get("plotly_chart")
                if "weekly-load" in (c.proto.id or "")]
    assert any(i.value.startswith(
        "No release has an approved booking on the environments of the "
        "group Payments in the period") for i in app.info), \
        [i.value for i in app.info]
    assert any("booked_hours" in d.value.columns for d in app.dataframe)
    app.segmented_control(key="load_value").set_value("Booked hours").run()
    assert not app.exception
    [heat] = [c for c in app.get("plotly_chart")
              if "weekly-load" in (c.proto.id or "")]
    assert any(v for row in json.loads(heat.proto.spec)["data"][0]["z"]
               for v in row if v)


def card_captions(app) -> str:
    return " ".join(c.value for c in app.caption)


def test_no_available_hours_read_as_a_sentence_not_n_a_h(sample_db, tmp_path,
                                                         monkeypatch):
    """With no available hours (a blackout over every environment) the
    utilisation card's caption read '0 of 0 h booked' under n/a, and
    with an hour count missing 'n/a of n/a h booked'; the over-booked
    card's 'demand ratio n/a overall'. Both say there were no available
    hours in this period; no caption reads n/a followed by a unit."""
    from changeboard import ui
    copy = published_copy(
        sample_db, tmp_path,
        "insert into blackout_windows select 'W-' || environment_id, 'all', "
        "'blackout', null, environment_id, timestamptz '1990-01-01', "
        "timestamptz '2040-01-01', 'csv', $b from environments")
    app = page_of(copy, monkeypatch, period="last_365")
    values = {m.label: m.value for m in app.metric}
    assert values["Environment utilisation"] == "n/a"
    said = card_captions(app)
    assert "environments · no available hours in this period" in said, said
    assert "exceeds capacity × available hours · no available hours in " \
        "this period" in said
    assert " 0 of 0 h" not in said and "n/a" not in said

    real = ui.scoped

    def hours_missing(name, *args, **kwargs):  # as NULL hours would read
        rows = real(name, *args, **kwargs)
        if name == "environment_utilization_rollup":
            rows = rows.assign(available_hours=None, booked_hours=None)
        return rows

    monkeypatch.setattr(ui, "scoped", hours_missing)
    app = page_of(sample_db, monkeypatch, period="last_365")
    said = card_captions(app)
    assert "environments · no available hours in this period" in said, said
    assert "n/a h" not in said and "n/a of" not in said


def test_days_and_instants_read_as_on_the_change_calendar(app):
    """The go-live picker read 03/12/2026 where the Change calendar's reads
    2026-12-03, and a booking's hover '18 Feb 00:00 – 03 Mar 00:00' with no
    year or zone where the calendar names both: the picker shows a day as
    every picker does (ui.DAY_INPUT), the hover writes the booked time as
    ui.instants does on every page (in UTC, as the axis)."""
    import json
    import re

    from changeboard import ui
    open_page(app, period="last_365", view="Bookings timeline")
    assert app.date_input(key="go_live").proto.format == "YYYY-MM-DD" \
        == ui.DAY_INPUT
    gantt = next(c for c in app.get("plotly_chart")
                 if "booking-gantt" in (c.proto.id or ""))
    traces = json.loads(gantt.proto.spec)["data"]
    spans = [row[5] for t in traces for row in t["customdata"]]
    assert spans and all(re.fullmatch(
        r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d – (\d\d [A-Z][a-z]{2} \d{4} )?"
        r"\d\d:\d\d UTC", s) for s in spans), spans[:5]
    assert all("%{customdata[5]} (" in t["hovertemplate"] for t in traces)
    # the release as "Name (id)", as the pairs table names one
    releases = [row[1] for t in traces for row in t["customdata"]]
    assert all(re.fullmatch(r".+ \(REL-\d+\)|\(no release\)", r)
               for r in releases), releases[:5]
    assert any(r != "(no release)" for r in releases)
    table = next(d.value for d in app.dataframe
                 if "release_name" in d.value.columns)
    columns = list(table.columns)
    assert columns[columns.index("release_name") + 1] == "release_id"


def test_the_timeline_draws_whole_environments_up_to_its_bars(
        app, monkeypatch):
    """A year of a portfolio's bookings (20,000 at a million changes) made
    a gantt 5,700 pixels tall that took the browser 8-10 s: it draws the
    first environments whose bookings fit MAX_BARS, each whole, and says
    so; the table still counts every booking."""
    import json

    from views.environment_tabs import timeline
    # a group with bookings of the three statuses shown at first, in the
    # phases named below (Digital Channels most days)
    group = next(g for g, (statuses, phases) in sorted(
        bookings_by_group("last_365").items())
        if {"approved", "pending", "rejected"} <= statuses
        and {"sit", "uat", "perf"} <= phases)
    open_page(app, period="last_365", view="Bookings timeline")
    app.selectbox(key="timeline_group").select(group).run()

    def said() -> str:
        return next(c.value for c in app.caption
                    if re.match(r"n = [\d,]+ bookings? on ", c.value))
    caption = said()
    n = int(caption.split()[2].replace(",", ""))
    assert n >= 6
    assert "The chart draws" not in caption  # all of them fit
    monkeypatch.setattr(timeline, "MAX_BARS", n // 3)
    app.run()
    assert not app.exception
    chart = next(c for c in app.get("plotly_chart")
                 if "booking-gantt" in (c.proto.id or ""))
    traces = json.loads(chart.proto.spec)["data"]
    drawn = [(row, booking[0]) for t in traces
             for row, booking in zip(t["y"], t["customdata"], strict=True)]
    assert 0 < len(drawn) <= n // 3
    caption = said()
    rows = {row for row, _ in drawn}
    assert re.search(rf"The chart draws the first {len(rows)} of \d+ "
                     rf"environments \({len(drawn):,} bookings\): shorter "
                     r"dates draw more of them; the table lists every "
                     r"booking\.$", caption), caption
    assert caption.startswith(f"n = {n:,} bookings on ")
    # each drawn environment whole: all its bookings in the table are drawn
    table = next(d.value for d in app.dataframe
                 if {"environment_name", "booking_id"} <= set(d.value.columns))
    ids = {b for _, b in drawn}
    assert len(table) == min(n, 2_000)
    whole = table[table["environment_name"].isin(rows)]
    assert set(whole["booking_id"]) <= ids


def test_the_weekly_load_draws_the_busiest_environments_up_to_its_rows(
        app, monkeypatch):
    """A year of a group of 205 environments made a heatmap 6,200 px tall
    at a million changes: it draws the HEATMAP_ROWS busiest (most of the
    value shown in the period), in the table's order, and says so; the
    table still lists every environment."""
    import json

    from views.environment_tabs import weekly_load
    open_page(app, period="last_365", view="Weekly load")
    app.selectbox(key="load_group").select("Digital Channels").run()
    app.segmented_control(key="load_value").set_value("Booked hours").run()

    def heat() -> list[str]:
        chart = next(c for c in app.get("plotly_chart")
                     if "weekly-load" in (c.proto.id or ""))
        return json.loads(chart.proto.spec)["data"][0]["y"]

    def said() -> str:
        return next(c.value for c in app.caption
                    if "with bookings in the period" in c.value)
    table = next(d.value for d in app.dataframe
                 if {"environment_name", "week_label"} <= set(d.value.columns))
    hours = table.groupby("environment_name", sort=False)["booked_hours"] \
        .sum()
    n = len(hours)
    assert n >= 6 and len(heat()) == n
    assert "The chart draws" not in said()
    monkeypatch.setattr(weekly_load, "HEATMAP_ROWS", n // 3)
    app.run()
    assert not app.exception
    drawn = heat()
    busiest = hours.sort_values(ascending=False, kind="stable")
    assert set(drawn) == set(busiest.index[:n // 3])
    assert drawn == [e for e in hours.index if e in set(drawn)]
    assert said().endswith(
        f"The chart draws the {n // 3} busiest of {n} environments (most "
        "booked hours in the period); the table lists every one.")
    table = next(d.value for d in app.dataframe
                 if {"environment_name", "week_label"} <= set(d.value.columns))
    assert table["environment_name"].nunique() == n
    # its weeks in words, as the heatmap's ('Week 47, 2026', not '2026-W47')
    assert all(re.fullmatch(r"Week \d{1,2}, \d{4}( \(part\))?", w)
               for w in table["week_label"])


def test_the_weekly_load_marks_the_weeks_its_dates_cut_and_names_its_group(
        app):
    """Dates from a Tuesday drew their first week as a whole 'Week 37,
    2026' where every trend says '(part)', and '3 environments' did not say
    they were one group's (a manager read them beside the page's 30 booked
    environments). The weeks the dates cut say '(part)', on the heatmap and
    in the table, and the caption names the group."""
    import json
    from datetime import timedelta
    start = date.today() - timedelta(days=120)
    start -= timedelta(days=(start.weekday() - 1) % 7)  # a Tuesday
    last = start + timedelta(days=57)  # a Wednesday, shown: cut too
    open_page(app, period="custom", **{"from": start.isoformat(),
                                       "to": last.isoformat()},
              view="Weekly load")
    app.selectbox(key="load_group").select("Digital Channels").run()
    assert not app.exception
    table = next(d.value for d in app.dataframe
                 if {"environment_name", "week_label"} <= set(d.value.columns))
    weeks = list(dict.fromkeys(table["week_label"]))
    first, *middle, end = weeks
    assert len(middle) >= 6
    assert first.endswith(" (part)") and end.endswith(" (part)"), weeks
    assert not [w for w in middle if "(part)" in w]
    assert first == f"Week {start.isocalendar()[1]}, " \
        f"{start.isocalendar()[0]} (part)"
    chart = next(c for c in app.get("plotly_chart")
                 if "weekly-load" in (c.proto.id or ""))
    assert list(json.loads(chart.proto.spec)["data"][0]["x"]) == weeks
    said = next(c.value for c in app.caption
                if "with bookings in the period" in c.value)
    assert re.search(r"n = [\d,]+ environments? of the group Digital "
                     r"Channels with bookings in the period", said), said
    assert "(part) weeks are cut by the chosen dates." in said


def test_bookings_name_their_phases_and_statuses_in_words(app):
    """The bookings timeline's legend and Statuses filter read approved,
    pending, rejected, its hover 'phase perf' and the page's bookings tables
    the phase codes (sit, perf): all read as words (Approved, Performance:
    ui.word, ui.phase_word), the colours those of the statuses and the
    filter still narrowing the bookings by status."""
    import json

    def gantt_traces():
        chart = next(c for c in app.get("plotly_chart")
                     if "booking-gantt" in (c.proto.id or ""))
        return json.loads(chart.proto.spec)["data"]

    def in_words(phases) -> bool:   # no code left: perf, business_acceptance
        return all(p == "–" or p[0].isupper() and "_" not in p
                   for p in phases)

    # a group with bookings of the three statuses shown at first, in the
    # phases named below (Digital Channels most days)
    group = next(g for g, (statuses, phases) in sorted(
        bookings_by_group("last_365").items())
        if {"approved", "pending", "rejected"} <= statuses
        and {"sit", "uat", "perf"} <= phases)
    open_page(app, period="last_365", view="Bookings timeline")
    app.selectbox(key="timeline_group").select(group).run()
    assert not app.exception
    picker = app.multiselect(key="timeline_statuses")
    assert list(picker.options) == ["Approved", "Pending", "Rejected",
                                    "Cancelled"]
    assert picker.value == ["approved", "pending", "rejected"]
    traces = gantt_traces()
    assert {t["legendgroup"]: t["name"] for t in traces} == {
        "approved": "Approved", "pending": "Pending", "rejected": "Rejected"}
    assert all(t["marker"]["color"] == env_charts.BOOKING_COLOURS[
        t["legendgroup"]] for t in traces)
    hovered = {row[2] for t in traces for row in t["customdata"]}
    assert {"SIT", "UAT", "Performance"} <= hovered and in_words(hovered), \
        hovered
    table = next(d.value for d in app.dataframe
                 if {"phase", "booking_id"} <= set(d.value.columns))
    assert {"SIT", "UAT", "Performance"} <= set(table["phase"])
    assert in_words(table["phase"].dropna())

    picker.unselect("rejected").run()
    assert not app.exception
    assert {t["legendgroup"] for t in gantt_traces()} == {"approved",
                                                          "pending"}


def test_the_bookings_behind_a_matrix_row_name_their_phases_in_words(app):
    """The bookings behind a release's row of the impact matrix listed
    their phases as codes (sit, perf); they read as words (SIT,
    Performance: ui.phase_word)."""
    from changeboard import ui
    open_page(app)
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    behind = next(d.value for d in app.dataframe
                  if {"phase", "is_counted"} <= set(d.value.columns))
    phases = set(behind["phase"].dropna())
    assert phases & set(ui.PHASES.values()), phases
    assert all(p[0].isupper() and "_" not in p for p in phases), phases


# --- counts of one read in the singular --------------------------------------

def _environments_of(path: Path, k: int) -> Path:
    """A database of group G1: k environments booked through January 2026
    (E*: approved for R1, going live 20 Jan, and pending for no release:
    over-booked; a cancelled booking of R1 each) and k never booked (X*:
    idle); as of 1 Feb."""
    return _published(path, {
        "environments": [env(f"{kind}{i}") for kind in "EX"
                         for i in range(1, k + 1)],
        "releases": [release("R1", "2026-01-20 00:00Z")],
        "environment_bookings": [
            booking(f"{kind}{i}", "2026-01-05 00:00Z",
                    "2026-01-25 00:00Z" if kind != "C" else
                    "2026-01-06 00:00Z", status=status, env_id=f"E{i}",
                    release_id=release_id)
            for i in range(1, k + 1)
            for kind, status, release_id in (
                ("A", "approved", "R1"), ("P", "pending", None),
                ("C", "cancelled", "R1"))]})


def _published(path: Path, rows: dict[str, list[dict]]) -> Path:
    """A database of `rows` by table, loaded in batch 1 (as of 1 Feb
    2026)."""
    with db.publish(path) as con:
        con.execute(
            "insert into ingest_batches (batch_id, source, entity, "
            "started_at, finished_at, status) values (1, 'csv', "
            "'environments', '2026-02-01 00:00Z', '2026-02-01 00:00Z', "
            "'succeeded')")
        for table, given in rows.items():
            insert_rows(con, table,
                        pd.DataFrame(given).assign(ingested_batch_id=1))
    return path


@pytest.mark.parametrize("k", [1, 2])
def test_counts_of_one_read_right_and_counts_of_two_stay_plural(
        tmp_path, monkeypatch, k):
    """With one environment of a kind the page read 'environments of 2,
    available but never booked' under an Idle card of 1 (and so under
    Over-booked), '1 without any are left out' (Weekly load) and, behind a
    matrix row, 'n = 1 booking behind the selection, whenever they are; 1
    cancelled, empty or invalid ones are listed too'. Each reads right at
    one, and at two as it did."""
    from tests.wording import page_texts, slips_at_one
    copy = _environments_of(tmp_path / "cb.duckdb", k)
    month = {"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}
    app = page_of(copy, monkeypatch, **month)
    app.date_input(key="go_live").set_value(
        (date(2026, 1, 1), date(2026, 1, 31))).run()
    app.session_state["impact_matrix"] = {
        "selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    assert not app.exception
    assert "Bookings behind: R1 name" in [s.value for s in app.header]
    texts = page_texts(app)
    weekly = page_of(copy, monkeypatch, **month, view="Weekly load")
    texts += page_texts(weekly)
    said = " | ".join(texts)
    plural = "" if k == 1 else "s"
    expected = [
        f"environment{plural} of {2 * k}, available but never booked",
        f"environment{plural} of {2 * k} whose demand over the period "
        "exceeds capacity × available hours · ",
        {1: "n = 1 booking behind the selection, of any date (the matrix "
            "counts its releases' bookings, not the period's); 1 "
            "cancelled, empty or invalid one is listed too.",
         2: "n = 2 bookings behind the selection, of any date (the matrix "
            "counts its releases' bookings, not the period's); 2 "
            "cancelled, empty or invalid ones are listed too."}[k],
        f"; {k} without any {'is' if k == 1 else 'are'} left out."]
    assert {m.label: m.value for m in app.metric}["Idle"] == str(k)
    assert {m.label: m.value for m in app.metric}[
        "Over-booked, whole period"] == str(k)
    for text in expected:
        assert text in said, (text, texts)
    if k == 1:
        assert slips_at_one(texts) == []


def test_a_conflict_that_is_not_over_booking_says_why(tmp_path, monkeypatch):
    """May 2026 on the sample: 'Over-booked 0 — environments with demand
    above capacity' beside 'Booking conflicts 1 … 34 h in conflict' (two
    approved bookings of a capacity-1 environment overlapping 34 h), read
    as two answers to one question. Over-booked says it weighs the whole
    period's demand against capacity × available hours, the conflicts that
    they are times with more bookings at once than capacity, and the line
    under the cards why the one need not make the other; the Overview's
    card says 'over the whole period' too."""
    copy = _published(tmp_path / "cb.duckdb", {
        "environments": [env("E1", capacity=1), env("E2")],
        "environment_bookings": [
            booking("B1", "2026-01-20 00:00Z", "2026-01-21 10:00Z"),
            booking("B2", "2026-01-20 00:00Z", "2026-01-21 10:00Z")]})
    month = {"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}
    app = page_of(copy, monkeypatch, **month)
    cards = {m.label: m for m in app.metric}
    over = cards["Over-booked, whole period"]
    assert (over.value, cards["Booking conflicts"].value) == ("0", "1")
    assert "whole period" in over.help and "conflicts" in over.help
    captions = [c.value for c in app.caption]
    assert ("environments of 2 whose demand over the period exceeds "
            "capacity × available hours · demand ratio 4.6% overall"
            in captions), captions
    assert ("pair on 1 environment · 34 h with more bookings at once than "
            "capacity" in captions), captions
    said = " ".join(captions)
    assert ("the 34 h in conflict are the times with more bookings at once "
            "than capacity, so an environment can be in conflict without "
            "being over-booked." in said), said
    assert "demand above capacity" not in said
    overview = page_of(copy, monkeypatch, **month)
    overview.switch_page("views/overview.py").run()
    assert not overview.exception
    assert any("0 over-booked over the whole period" in c.value
               for c in overview.caption), [c.value for c in overview.caption]


def test_the_matrix_key_reads_words(app):
    """The impact matrix's key read 'A approved P pending R rejected',
    lower-case codes where the rest of the page reads words (the Statuses
    filter, the legend of the timeline, the Status column): it reads
    Approved, Pending and Rejected beside their letters."""
    from changeboard import ui
    open_page(app)
    [key] = [m.value for m in app.markdown
             if "more than one booking" in m.value]
    for status in ("approved", "pending", "rejected"):
        letter = env_charts.LETTERS[status]
        assert re.search(f">{letter}</span> {ui.word(status)} ", key), key
        assert ui.word(status) != status
    assert not re.search(r"</span> (approved|pending|rejected)\b", key), key


def test_without_bookings_the_tabs_say_none_is_loaded(sample_db, monkeypatch,
                                                       tmp_path):
    """Environments loaded without a booking: the matrix asked to widen
    the go-live dates (or the tier and group filters) and its Releases
    pick read '1–0'; the weekly load asked for another group. No dates
    or filters would help: each says no booking is loaded and what to
    load, and an empty pick reads 'none'."""
    copy = published_copy(sample_db, tmp_path,
                          "delete from environment_bookings")
    loaded = "No environment booking is loaded, so no release or team " \
        "uses an environment here: load `environment_bookings.csv`"
    app = page_of(copy, monkeypatch)  # releases going live, none booked
    said = [i.value for i in app.info]
    assert any(s.startswith(loaded) for s in said), said
    assert not any("widen" in s for s in said), said
    far = page_of(copy, monkeypatch, go_live=["1990-01-01", "1990-01-31"])
    said = [i.value for i in far.info]
    assert any(s.startswith(loaded) for s in said), said
    assert not any("widen" in s for s in said), said
    assert far.selectbox(key="matrix_page").options == ["none"]
    far.query_params["view"] = "Weekly load"
    far.run()
    assert not far.exception
    assert any(i.value.startswith(loaded) for i in far.info)


def test_conflicting_pairs_name_their_releases(tmp_path, monkeypatch):
    # 'Release A' read a release's id alone where every page names it;
    # the downloads keep the id and the name apart. The column is as wide
    # as its longest name: at 1M 'Name (id)' was cut before the id
    import streamlit as st

    drawn, config_of = st.dataframe, {}

    def dataframe(data, *args, **kwargs):
        if "booking_id_a" in getattr(data, "column_names", ()):
            config_of.update(kwargs["column_config"])
        return drawn(data, *args, **kwargs)

    monkeypatch.setattr(st, "dataframe", dataframe)
    copy = _environments_of(tmp_path / "cb.duckdb", 1)
    app = page_of(copy, monkeypatch, period="custom", view="Conflicts",
                  **{"from": "2026-01-01", "to": "2026-01-31"})
    pairs = next(d.value for d in app.dataframe
                 if "booking_id_a" in d.value.columns)
    with db.reading(copy) as con:
        (name,), = con.execute(
            "select name from releases where release_id = 'R1'").fetchall()
    assert name != "R1"
    assert {pairs["release_a"].iloc[0], pairs["release_b"].iloc[0]} \
        == {f"{name} (R1)", "(no release)"}
    labelled = next(c for c in config_of.values()
                    if c.get("label") == "Release A")
    assert labelled["width"] >= 8 * len(f"{name} (R1)")
    # the ids stay, for the downloads and scripts
    assert {pairs["release_id_a"].iloc[0], pairs["release_id_b"].iloc[0]} \
        == {"R1", None}
    # and each booking's team and phase are shown: whom to call about it
    shown = {c if isinstance(c, str) else c.get("label")
             for c in config_of.values()}
    assert {"Team A", "Phase A", "Team B", "Phase B"} <= shown
    assert {"team_a", "phase_a", "team_b", "phase_b"} <= set(pairs.columns)


def test_the_pairs_table_reads_its_first_rows_and_the_count(tmp_path,
                                                           monkeypatch):
    # a year at a million changes is 345,262 pairs: read whole, the tab
    # took 1.3 s and the process 1.1 GB; it reads the rows it draws and the
    # count (three environments, a pair each; a table of two rows here)
    # The pairs are listed by environment: only the environments the first
    # rows come from are swept (E1 and E2 here), the count is the
    # environments' own, and the whole list is not counted or read
    from changeboard import ui
    monkeypatch.setattr(ui, "SHOWN_ROWS", 2)
    asked = []
    real_run, real_head = db.run, db.head

    def run(con, name, **params):
        if name == "booking_conflicts":
            asked.append(params.get("environment_ids"))
        return real_run(con, name, **params)

    def head(con, name, rows, **params):
        asked.append(("head", name))
        return real_head(con, name, rows, **params)

    monkeypatch.setattr(db, "run", run)
    monkeypatch.setattr(db, "head", head)
    copy = _environments_of(tmp_path / "cb.duckdb", 3)
    month = {"from": "2026-01-01", "to": "2026-01-31"}
    app = page_of(copy, monkeypatch, period="custom", view="Conflicts",
                  **month)
    assert "n = 3 pairs of approved or pending bookings; overlap clipped " \
        "to the period." in [c.value for c in app.caption]
    listed = next(d.value for d in app.dataframe
                  if "booking_id_a" in d.value.columns)
    assert asked == [["E1", "E2"]]
    with db.reading(copy) as con:
        whole = real_run(con, "booking_conflicts", start_date="2026-01-01",
                         end_date="2026-02-01")
    assert len(whole) == 3
    assert listed["booking_id_a"].tolist() \
        == whole["booking_id_a"].head(2).tolist()


def test_matrix_columns_are_wide_enough_for_their_headings(app,
                                                         monkeypatch):
    """The matrix's environment columns were 64 pixels whatever their
    heading: at a million changes 'CBL-LATAM-SIT' and its kin all read
    'CBL-LATA', and the Release column cut 'Identity & Access Managemen'.
    Each is now as wide as its longest text (ui.text_width), within
    bounds."""
    import streamlit as st

    from changeboard import ui

    drawn, seen = st.dataframe, {}

    def dataframe(data, *args, **kwargs):
        if kwargs.get("key") == "impact_matrix":
            seen.update(kwargs["column_config"])
        return drawn(data, *args, **kwargs)

    monkeypatch.setattr(st, "dataframe", dataframe)
    open_page(app, period="last_365")
    grid = matrix(app)
    labels = [label for _, label in grid.columns[3:]]
    assert labels and max(map(len, labels)) > 6  # 64 px cut such names
    for label in labels:
        assert seen[label]["width"] == ui.text_width([label], 64, 200)
        assert seen[label]["width"] >= min(200, 8 * len(label))
    releases = [str(r) for r in grid.index.get_level_values(0)[1:]]
    assert max(map(len, releases)) > 20  # 180 px cut such names
    assert seen["Release"]["width"] == ui.text_width(releases, 180, 320)
    assert ui.text_width(["CBL-LATAM-SIT"], 64, 200) > 64
    assert ui.text_width(["x" * 80], 64, 200) == 200
    assert ui.text_width([], 64, 200) == 64


def test_tables_of_few_rows_are_as_tall_as_their_rows(tmp_path, monkeypatch):
    """The conflicts (per environment, 250 px; pairs, 320 px), weekly load
    (260 px) and utilisation (per environment, 380 px) tables had a fixed
    height: one environment's single conflict, five weeks or two
    environments drew a box of empty rows below them. Each is as tall as
    its rows (ui.table_height, as the Releases page's cadence table),
    up to the height it had; the groups' table, sized by hand and without
    a limit, is too."""
    import streamlit as st

    from changeboard import ui

    drawn = st.dataframe
    heights: dict[str, tuple[int, int | None]] = {}
    tables = {"n_conflict_pairs": ("conflicts by environment", 250),
              "booking_id_a": ("conflicting pairs", 320),
              "week_label": ("weekly load", 260),
              "n_environments": ("utilisation by group", 600),
              "flag": ("utilisation by environment", 380)}

    def dataframe(data, *args, **kwargs):  # each table's rows and height
        for column, (name, _) in tables.items():
            if column in getattr(data, "column_names", ()):
                heights[name] = (data.num_rows, kwargs.get("height"))
        return drawn(data, *args, **kwargs)

    monkeypatch.setattr(st, "dataframe", dataframe)
    copy = _environments_of(tmp_path / "cb.duckdb", 1)
    month = {"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}
    for view in ("Conflicts", "Weekly load", "Utilisation"):
        page_of(copy, monkeypatch, **month, view=view)
    assert {name: rows for name, (rows, _) in heights.items()} == {
        "conflicts by environment": 1, "conflicting pairs": 1,
        "weekly load": 5, "utilisation by group": 1,
        "utilisation by environment": 2}
    assert {name: heights[name][1] for name, _ in tables.values()} == {
        name: ui.table_height(heights[name][0], most)
        for name, most in tables.values()}
    assert all(heights[name][1] < most for name, most in tables.values())


def test_a_tall_weekly_load_gives_its_weeks_above_the_rows_too():
    """60 environments drew a heatmap 1,440 px tall with its weeks only
    below the rows: one taller than charts.TALL_PX gives them above too (a
    hidden point per week on an axis of its own), as the change calendar
    does its days; a short one keeps them below only."""
    import json

    from changeboard import charts

    def weekly(n: int) -> pd.DataFrame:
        return pd.DataFrame([
            {"environment_id": f"E{i:02d}", "environment_name": f"Env {i}",
             "week_label": week, "booked_hours": float(i + w)}
            for i in range(n) for w, week in enumerate(
                ["2026-W48", "2026-W49", "2026-W50"])])

    def drawn(n: int) -> dict:
        return json.loads(env_charts.week_heatmap(
            weekly(n), "booked_hours", "booked hours").to_json())

    short = drawn(5)
    assert short["layout"]["height"] <= charts.TALL_PX
    assert "xaxis2" not in short["layout"] and len(short["data"]) == 1
    tall = drawn(40)
    assert tall["layout"]["height"] > charts.TALL_PX
    top = tall["layout"]["xaxis2"]
    assert (top["side"], top["overlaying"], top["matches"]) == (
        "top", "x", "x")
    assert tall["layout"]["yaxis2"]["visible"] is False
    heat, weeks = tall["data"]
    # weeks in words, as every trend says them (it read '2026-W48')
    assert list(weeks["x"]) == list(heat["x"]) == [
        "Week 48, 2026", "Week 49, 2026", "Week 50, 2026"]
    assert (weeks["xaxis"], weeks["yaxis"], weeks["hoverinfo"]) == (
        "x2", "y2", "skip")
    assert weeks["marker"]["opacity"] == 0


@pytest.mark.parametrize("view, key", [("Weekly load", "load_group"),
                                       ("Bookings timeline", "timeline_group")])
def test_a_group_tab_opens_on_a_group_with_bookings(app, view, key):
    """The weekly load and the timeline opened on the first group by name,
    Core Banking, and said 'No bookings on this group's environments in
    the period' beside cards of 1,280 booked hours: they open on the first
    group with an active booking in the period."""
    def empty() -> bool:
        return any(i.value.startswith("No bookings o") for i in app.info)
    open_page(app, view=view)
    with db.reading(config.DB_PATH) as con:
        groups = db.run(con, "environment_utilization_rollup",
                        **ui.window_for(ui.DEFAULT_PERIOD))
    met = bookings_by_group(ui.DEFAULT_PERIOD)  # any status
    booked = set(groups.loc[~groups["is_total"] & (groups["n"] > 0),
                            "environment_group"].fillna(env_charts.NO_GROUP))
    picker = app.selectbox(key=key)
    # the sample is laid out from today: which groups have bookings in the
    # last 90 days varies by day, and some have none
    idle = [g for g in picker.options if g not in met]
    assert booked and idle
    assert picker.value == next(g for g in picker.options if g in booked)
    assert not empty()
    picker.select(idle[0]).run()
    assert empty()
