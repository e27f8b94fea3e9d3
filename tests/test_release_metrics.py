"""release_cadence and its summary: docs/metrics.md rules, given rows."""
import pytest

from changeboard import db

JAN = {"start_date": "2026-01-01", "end_date": "2026-02-01"}


def release(release_id, live, app="A1", **extra):
    row = {"release_id": release_id, "name": release_id, "status": "released",
           "application_id": app, "release_type": "project",
           "actual_release_at": live}
    row.update(extra)
    return row


def deployments(given, rows) -> None:
    """A production environment P and a staging one S, and these
    deployments of application A1: (id, environment, status, finished)."""
    given("environments", [{"environment_id": "P", "name": "P",
                            "tier": "prod"},
                           {"environment_id": "S", "name": "S",
                            "tier": "staging"}])
    given("deployments", [
        {"deployment_id": d, "application_id": "A1", "environment_id": e,
         "status": s, "started_at": t, "finished_at": t}
        for d, e, s, t in rows])


def test_gaps_reach_back_before_the_window_and_first_release_has_none(con, given):
    given("releases", [
        release("R1", "2025-12-29 12:00Z"),
        release("R2", "2026-01-02 00:00Z"),  # gap 3.5 days, in W
        release("R3", "2026-01-09 00:00Z"),  # gap 7
        release("R4", "2026-01-20 00:00Z", app="A2"),  # first of A2: no gap
    ])
    rows = db.run(con, "release_cadence", **JAN).set_index("application_id")
    assert rows.loc["A1", "n_releases"] == 2
    assert rows.loc["A1", "median_gap_days"] == pytest.approx(5.25)
    assert rows.loc["A2", "n_gaps"] == 0
    assert rows.loc["A2", "median_gap_days"] != rows.loc["A2", "median_gap_days"]


def test_cancelled_enterprise_and_unreleased_releases_are_left_out(con, given):
    given("releases", [
        release("R1", "2026-01-05 00:00Z"),
        release("R2", "2026-01-06 00:00Z", status="cancelled"),
        release("R3", "2026-01-07 00:00Z", release_type="enterprise"),
        release("R4", None, status="planned"),
        release("R5", "2026-01-05 00:00Z"),  # same instant: gap 0 is kept
    ])
    row = db.run(con, "release_cadence_summary", **JAN).iloc[0]
    assert (row["n_releases"], row["n_gaps"], row["median_gap_days"]) == (2, 1, 0)


def test_the_releases_left_out_are_counted_in_their_window(con, given):
    """C6: n_excluded counts the releases gone live in the window that were
    cancelled or are enterprise groupings, of the filtered applications, in
    the window's total and the window before's; nothing is unclassified."""
    given("applications", [{"application_id": a, "name": a, "portfolio": p}
                           for a, p in (("A1", "Retail"), ("A2", "Core"))])
    given("releases", [
        release("R1", "2026-01-05 00:00Z"),
        release("R2", "2026-01-06 00:00Z", status="cancelled"),
        release("R3", "2026-01-07 00:00Z", release_type="enterprise"),
        release("R4", "2026-01-08 00:00Z", app="A2", status="cancelled"),
        release("R5", "2026-02-01 00:00Z", status="cancelled"),  # after W
        release("R6", "2025-12-20 00:00Z", release_type="enterprise"),
        release("R7", None, status="cancelled"),  # never live
    ])
    row = db.run(con, "release_cadence_summary", **JAN).iloc[0]
    assert (row["n_releases"], row["n_excluded"], row["n_unclassified"]) == (
        1, 3, 0)
    retail = db.run(con, "release_cadence_summary", **JAN,
                    portfolios=["Retail"]).iloc[0]
    assert retail["n_excluded"] == 2
    frames = db.run(con, "release_cadence_summary_groups", **JAN,
                    compare=True).set_index("row_kind")
    assert frames.loc["previous", "n_excluded"] == 1  # R6, in December
    assert frames.loc["total", "n_excluded"] == 3


def test_deployments_left_out_of_the_cadence_are_counted(con, given):
    """With basis deployments, failed production deployments are excluded
    and deployments to an environment not loaded unclassified, as
    deployment_frequency counts them."""
    deployments(given, [("D1", "P", "succeeded", "2026-01-02 00:00Z"),
                        ("D2", "S", "failed", "2026-01-03 00:00Z"),
                        ("D3", "P", "failed", "2026-01-04 00:00Z"),
                        ("D4", "GONE", "succeeded", "2026-01-05 00:00Z"),
                        ("D5", "P", "failed", "2026-02-04 00:00Z")])
    row = db.run(con, "release_cadence_summary", basis="deployments",
                 **JAN).iloc[0]
    frequency = db.run(con, "deployment_frequency", **JAN).iloc[0]
    assert (row["n_releases"], row["n_excluded"], row["n_unclassified"]) == (
        1, 1, 1)
    assert (row["n_excluded"], row["n_unclassified"]) == (
        frequency["n_excluded"], frequency["n_unclassified"])


def test_summary_pools_gaps_of_all_applications(con, given):
    given("releases", [
        release("R1", "2026-01-01 00:00Z"), release("R2", "2026-01-02 00:00Z"),
        release("R3", "2026-01-01 00:00Z", app="A2"),
        release("R4", "2026-01-11 00:00Z", app="A2"),
        release("R5", "2026-01-31 00:00Z", app="A2"),
    ])
    row = db.run(con, "release_cadence_summary", **JAN).iloc[0]
    # pooled gaps [1, 10, 20] -> 10; a median of medians would give 5.5
    assert row["median_gap_days"] == pytest.approx(10)
    assert row["n_applications"] == 2
    assert row["releases_per_month"] == pytest.approx(5 / (31 / 30.436875))


def test_releases_per_month_counts_the_days_of_a_month_with_a_clock_change(
        con, given):
    # March 2026 in Berlin has a 23-hour day: still 31 days
    given("releases", [release(f"R{day:02d}", f"2026-03-{day:02d} 12:00Z")
                       for day in range(1, 32)])
    row = db.run(con, "release_cadence_summary", start_date="2026-03-01",
                 end_date="2026-04-01", reporting_tz="Europe/Berlin").iloc[0]
    assert row["n_releases"] == 31
    assert row["releases_per_month"] == pytest.approx(31 / (31 / 30.436875),
                                                      rel=1e-12)


def test_no_release_in_the_window_gives_null_median_and_zero_rate(con):
    row = db.run(con, "release_cadence_summary", **JAN).iloc[0]
    assert row["n_releases"] == 0
    assert row["releases_per_month"] == 0
    assert row["median_gap_days"] != row["median_gap_days"]


# --- release_on_time ----------------------------------------------------------

def planned(release_id, plan, live=None, **extra):
    return release(release_id, live, planned_release_at=plan, **extra)


def on_time(con, name="release_on_time", **params):
    return db.run(con, name, **{**JAN, **params}).iloc[0].to_dict()


def test_slip_is_in_local_days_and_tolerance_widens_on_time(con, given):
    given("releases", [
        planned("R1", "2026-01-10 09:00Z", "2026-01-10 23:30Z"),  # Berlin: +1
        planned("R2", "2026-01-10 09:00Z", "2026-01-08 09:00Z"),  # early: -2
        planned("R3", "2026-01-10 09:00Z", "2026-01-13 09:00Z"),  # late: +3
    ])
    row = on_time(con)
    assert (row["n"], row["n_on_time"], row["n_late"]) == (3, 2, 1)
    assert row["on_time_rate"] == pytest.approx(2 / 3)
    assert (row["median_slip_days"], row["mean_slip_days"],
            row["median_slip_days_late"]) == (0, pytest.approx(1 / 3), 3)
    berlin = on_time(con, reporting_tz="Europe/Berlin")
    assert (berlin["n_on_time"], berlin["median_slip_days"]) == (1, 1)
    assert on_time(con, tolerance_days=3)["n_on_time"] == 3


def test_unplanned_cancelled_and_enterprise_releases_stay_out(con, given):
    given("releases", [
        planned("R1", "2026-01-10 09:00Z", "2026-01-10 10:00Z"),
        planned("R2", None, "2026-01-10 10:00Z"),
        planned("R3", "2026-01-10 09:00Z", "2026-01-12 10:00Z",
                status="cancelled"),
        planned("R4", "2026-01-10 09:00Z", "2026-01-12 10:00Z",
                release_type="enterprise")])
    row = on_time(con)
    assert (row["n"], row["n_unclassified"], row["n_excluded"]) == (1, 1, 2)
    records = db.run(con, "release_records", **JAN).set_index("release_id")
    assert records["kind"].to_dict() == {
        "R1": "released", "R2": "unclassified", "R3": "excluded",
        "R4": "excluded"}
    assert records.loc["R1", "is_on_time"] and records.loc["R1",
                                                           "slip_days"] == 0


def slip_counts(records):
    """release_records' released rows counted by slip, as
    release_slip_days counts them."""
    released = records[records["kind"] == "released"]
    return (released.groupby("slip_days", sort=True)
            .agg(is_on_time=("is_on_time", "first"), n=("release_id", "size"))
            .reset_index())


def test_slip_days_count_the_released_records_by_slip(con, given):
    """A slip of exactly the tolerance is on time, a day more late, early
    ones on time; unplanned and cancelled releases are no slip."""
    given("releases", [
        planned("R1", "2026-01-10 09:00Z", "2026-01-10 23:00Z"),  # 0
        planned("R2", "2026-01-10 09:00Z", "2026-01-12 10:00Z"),  # 2
        planned("R3", "2026-01-09 09:00Z", "2026-01-11 10:00Z"),  # 2
        planned("R4", "2026-01-10 09:00Z", "2026-01-13 10:00Z"),  # 3
        planned("R5", "2026-01-12 09:00Z", "2026-01-10 10:00Z"),  # -2
        planned("R6", None, "2026-01-10 10:00Z"),
        planned("R7", "2026-01-01 09:00Z", "2026-01-12 10:00Z",
                status="cancelled")])
    rows = db.run(con, "release_slip_days", tolerance_days=2, **JAN)
    slips = rows[["slip_days", "is_on_time", "n"]]
    assert [tuple(r) for r in slips.itertuples(index=False)] == [
        (-2, True, 1), (0, True, 1), (2, True, 2), (3, False, 1)]
    records = db.run(con, "release_records", tolerance_days=2, **JAN)
    assert rows["n"].sum() == (records["kind"] == "released").sum()


@pytest.mark.parametrize("params", [
    {"days": 90}, {"days": 730, "tolerance_days": 3},
    {"days": 730, "reporting_tz": "Asia/Kolkata", "portfolios": ["Payments"]},
])
def test_slip_days_are_the_records_counted_on_the_sample(sample_db, params):
    from datetime import date, timedelta

    import pandas as pd
    params = dict(params)
    end = date.today() + timedelta(days=1)
    window = {"start_date": end - timedelta(days=params.pop("days")),
              "end_date": end, **params}
    with db.reading(sample_db) as con:
        counted = db.run(con, "release_slip_days", **window)
        records = db.run(con, "release_records", **window)
    assert len(counted) > 2
    pd.testing.assert_frame_equal(counted.drop(columns="as_of"),
                                  slip_counts(records),
                                  check_dtype=False)


def test_overdue_open_releases_count_however_old_until_as_of(con, given):
    given("releases", [
        planned("R1", "2024-03-01 00:00Z", status="planned"),  # very old
        planned("R2", "2026-01-20 00:00Z", status="in_progress"),
        planned("R3", "2026-01-20 00:00Z", status="cancelled"),
        planned("R4", "2026-01-20 00:00Z", status="released"),
        planned("R5", "2026-02-03 00:00Z", status="planned")])
    assert on_time(con, as_of="2026-03-01 00:00Z")["n_overdue_open"] == 2
    assert on_time(con, as_of="2026-01-15 00:00Z")["n_overdue_open"] == 1


def test_the_overdue_records_are_the_releases_n_overdue_open_counts(con,
                                                                    given):
    """release_records lists the releases behind "Overdue, not live" (the
    same rule: release_outcomes), as many as n_overdue_open counts, for
    every as_of, period end, zone and filter; the rows gone live are as
    before, without them."""
    given("applications", [{"application_id": "A1", "name": "One",
                            "portfolio": "P1"},
                           {"application_id": "A2", "name": "Two",
                            "portfolio": "P2"}])
    given("releases", [
        planned("R1", "2024-03-01 00:00Z", status="planned"),  # very old
        planned("R2", "2026-01-20 00:00Z", status="in_progress", app="A2"),
        planned("R3", "2026-01-20 00:00Z", status="cancelled"),
        planned("R4", "2026-01-20 00:00Z", status="released"),
        planned("R5", "2026-02-03 00:00Z", status="planned"),  # after W
        planned("R6", "2026-01-20 00:00Z", status="draft",
                release_type="enterprise"),
        planned("R7", None, status="planned"),  # no plan: never overdue
        planned("R8", "2026-01-31 23:30Z", status="draft"),  # Berlin: Feb 1
        planned("R9", "2026-01-10 09:00Z", "2026-01-12 10:00Z"),  # gone live
        planned("R10", "2026-01-14 00:00Z", status="draft", app=None),
    ])
    for params, ids in [
            ({"as_of": "2026-03-01 00:00Z"}, ["R1", "R10", "R2", "R8"]),
            ({"as_of": "2026-01-15 00:00Z"}, ["R1", "R10"]),
            ({"as_of": "2026-03-01 00:00Z", "reporting_tz": "Europe/Berlin"},
             ["R1", "R10", "R2"]),
            ({"as_of": "2026-03-01 00:00Z", "application_ids": ["A2"]},
             ["R2"]),
            ({"as_of": "2026-03-01 00:00Z", "portfolios": ["P1"]},
             ["R1", "R8"]),
            ({"as_of": "2026-03-01 00:00Z", "end_date": "2026-01-15"},
             ["R1", "R10"]),
            ({}, ["R1", "R10", "R2", "R8"])]:  # as_of null: now, no load
        counted = on_time(con, **params)["n_overdue_open"]
        rows = db.run(con, "release_records", kind="overdue_open",
                      **{**JAN, **params})
        assert list(rows["release_id"]) == ids, params
        assert len(rows) == counted, params
        assert set(rows["kind"]) <= {"overdue_open"}
    rows = db.run(con, "release_records", kind="overdue_open",
                  as_of="2026-03-01 00:00Z", **JAN).set_index("release_id")
    assert rows["days_overdue"].to_dict() == {
        "R1": 730, "R10": 46, "R2": 40, "R8": 29}
    assert rows[["actual_release_at", "slip_days", "is_on_time"]
                ].isna().all().all()
    assert rows.loc["R2", "application_name"] == "Two"
    gone_live = db.run(con, "release_records", as_of="2026-03-01 00:00Z",
                       **JAN)
    assert list(gone_live["release_id"]) == ["R9"]
    assert gone_live["days_overdue"].isna().all()


# the sample's open releases are planned from its load on: an as_of and a
# period end months later make most of them overdue
LATER = {"as_of": "2027-03-01 00:00Z", "end_date": "2027-06-01"}


@pytest.mark.parametrize("params", [
    {"start_date": "2026-01-01", **LATER},
    {"start_date": "2024-01-01", **LATER, "reporting_tz": "America/New_York",
     "as_of": "2027-03-01 00:00"},
    {"start_date": "2026-06-01", "end_date": "2027-02-01",
     "as_of": "2027-03-01 00:00Z"},
    {"start_date": "2026-06-01", **LATER, "tolerance_days": 3}])
def test_the_overdue_records_match_their_count_on_the_sample(sample_db,
                                                             params):
    """On the sample: the overdue records are as many as n_overdue_open,
    in all and per application (release_on_time_by_application)."""
    with db.connect(sample_db, read_only=True) as con:
        counted = db.run(con, "release_on_time", **params).iloc[0]
        by_app = db.run(con, "release_on_time_by_application", **params)
        rows = db.run(con, "release_records", kind="overdue_open", **params)
        portfolio = con.execute("select min(portfolio) from applications"
                                ).fetchone()[0]
        one = {**params, "portfolios": [portfolio]}
        assert len(db.run(con, "release_records", kind="overdue_open",
                          **one)) == db.run(con, "release_on_time", **one
                                            ).iloc[0]["n_overdue_open"]
    assert len(rows) == counted["n_overdue_open"] > 0
    assert rows["release_id"].is_unique
    per_app = rows["application_id"].fillna("-").value_counts().to_dict()
    assert per_app == {k: v for k, v in zip(
        by_app["application_id"].fillna("-"), by_app["n_overdue_open"],
        strict=True) if v}
    assert (rows["days_overdue"] >= 0).all()


def test_no_release_in_the_window_gives_null_on_time_rate(con):
    row = on_time(con)
    assert row["n"] == 0 and row["on_time_rate"] != row["on_time_rate"]


def test_on_time_by_application_keeps_a_null_application_row(con, given):
    given("releases", [
        planned("R1", "2026-01-10 09:00Z", "2026-01-10 10:00Z"),
        planned("R2", "2026-01-10 09:00Z", "2026-01-12 10:00Z", app="A2"),
        planned("R3", "2026-01-10 09:00Z", "2026-01-10 10:00Z", app=None)])
    rows = db.run(con, "release_on_time_by_application", **JAN)
    assert rows[["application_id", "n", "n_on_time"]].fillna("-").to_dict(
        "records") == [
        {"application_id": "A1", "n": 1, "n_on_time": 1},
        {"application_id": "A2", "n": 1, "n_on_time": 0},
        {"application_id": "-", "n": 1, "n_on_time": 1}]


# --- cadence: monthly series and the deployments basis ------------------------

def test_monthly_series_is_zero_filled_and_flags_cut_months(con, given):
    given("releases", [release("R1", "2026-01-05 00:00Z"),
                       release("R2", "2026-03-02 00:00Z"),
                       release("R3", "2026-03-20 00:00Z")])
    rows = db.run(con, "release_cadence_by_month", start_date="2026-01-01",
                  end_date="2026-03-15")
    assert [(str(r.month)[:7], r.n_releases, r.is_complete)
            for r in rows.itertuples()] == [
        ("2026-01", 1, True), ("2026-02", 0, True), ("2026-03", 1, False)]


def test_deployments_basis_uses_production_deployments(con, given):
    deployments(given, [("D1", "P", "succeeded", "2026-01-02 00:00Z"),
                        ("D2", "S", "succeeded", "2026-01-03 00:00Z"),
                        ("D3", "P", "failed", "2026-01-04 00:00Z"),
                        ("D4", "P", "rolled_back", "2026-01-06 00:00Z")])
    row = db.run(con, "release_cadence_summary", basis="deployments",
                 **JAN).iloc[0]
    assert (row["n_releases"], row["n_gaps"], row["median_gap_days"]) == (
        2, 1, 4)
    per_app = db.run(con, "release_cadence", basis="deployments", **JAN)
    assert per_app["median_gap_days"].tolist() == [4]


def test_an_unknown_basis_is_refused(con):
    import duckdb
    with pytest.raises(duckdb.InvalidInputException, match="basis must be"):
        db.run(con, "release_cadence", basis="changes", **JAN)


def test_a_windows_first_gap_starts_at_the_last_release_before_it(con, given):
    """Only the window's releases and each application's last release before
    it are sequenced (issue 12): the gap still reaches back to that one, ties
    broken by release id, a NULL application its own sequence."""
    given("releases", [
        release("R1", "2025-10-01 00:00Z"),
        release("R2", "2025-12-30 00:00Z"),
        release("R3", "2025-12-30 00:00Z"),  # the same instant: R3 is last
        release("R4", "2026-01-03 00:00Z"),  # gap 4 days from R3
        release("N1", "2025-12-31 00:00Z", app=None),
        release("N2", "2026-01-02 12:00Z", app=None),  # gap 2.5
        release("R5", "2026-02-10 00:00Z"),  # after W
    ])
    rows = db.run(con, "release_cadence", **JAN)
    gaps = {(a if isinstance(a, str) else None): g for a, g in
            zip(rows["application_id"], rows["median_gap_days"], strict=True)}
    assert gaps == {"A1": pytest.approx(4), None: pytest.approx(2.5)}
    deployments = db.run(con, "release_cadence_summary", **JAN,
                         basis="deployments").iloc[0]
    assert deployments["n_releases"] == 0


def test_the_timeline_reads_an_as_of_without_an_offset_in_one_zone(con,
                                                                   given):
    """release_timeline read '2024-06-10 02:00' in the reporting zone (since
    2506fe9) and the releases it keeps in UTC: an in-progress release was
    dropped from the window and its summary, and one row's release end was
    hours before its own phase's shown end."""
    given("releases", [{"release_id": "R1", "name": "r1",
                        "status": "in_progress"}])
    given("release_phases", [{
        "release_id": "R1", "phase": "uat",
        "planned_start_at": "2024-06-01 00:00Z",
        "planned_end_at": "2024-06-05 00:00Z",
        "actual_start_at": "2024-06-01 00:00Z"}])  # in progress
    # 10 June in New York is [04:00Z, 04:00Z); as_of 02:00 there is 06:00Z
    params = {"start_date": "2024-06-10", "end_date": "2024-06-11",
              "reporting_tz": "America/New_York", "as_of": "2024-06-10 02:00"}
    summary = db.run(con, "release_timeline_summary", **params).iloc[0]
    rows = db.run(con, "release_timeline", **params)
    assert summary["n_releases"] == 1 and len(rows) == 1
    row = rows.iloc[0]
    assert str(row["release_end_at"]) == str(row["shown_actual_end_at"]) == \
        "2024-06-10 06:00:00+00:00"


def test_an_overdue_enterprise_release_is_not_counted_and_docs_say_so(
        con, given):
    """n_overdue_open leaves out enterprise releases (a grouping release
    would count its children twice), as the query did, but docs/metrics.md
    and the page's card said only 'not live, not cancelled'."""
    from pathlib import Path
    given("releases", [
        planned("R1", "2026-01-20 00:00Z", status="planned"),
        planned("R2", "2026-01-20 00:00Z", status="planned",
                release_type="enterprise")])
    assert on_time(con, as_of="2026-03-01 00:00Z")["n_overdue_open"] == 1
    root = Path(__file__).resolve().parents[1]
    docs = (root / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = docs.split("## `release_on_time`")[1].split("\n## ")[0]
    overdue = " ".join(section.split("`n_overdue_open`")[1].split(
        "- **Caveats**")[0].split())
    assert "not enterprise" in overdue and "released" in overdue
    page = (root / "views" / "releases.py").read_text(encoding="utf-8")
    card = " ".join(page.split('metric("Overdue, not live"')[1].split(
        "st.caption(")[0].replace('"', "").split())
    assert "not enterprise" in card


def groups_on_the_sample(sample_db, name: str, days: int, extra: dict):
    """The groups query's frames for the `days` up to today on the sample,
    each checked against its own query (assert_groups_equal_the_queries)."""
    from datetime import date, timedelta

    from tests.test_change_metrics import assert_groups_equal_the_queries

    end = date.today() + timedelta(days=1)
    with db.reading(sample_db) as con:
        return assert_groups_equal_the_queries(
            con, name, start_date=end - timedelta(days=days), end_date=end,
            **extra)


@pytest.mark.parametrize(("days", "extra"), [
    (120, {}), (365, {}), (120, {"basis": "deployments"}),
    (120, {"reporting_tz": "Asia/Kolkata"}),
    (365, {"reporting_tz": "Asia/Kolkata", "portfolios": ["Payments"]}),
])
def test_cadence_groups_give_both_windows_summaries(sample_db, days, extra):
    """release_cadence_summary_groups: its total and the window before's
    equal release_cadence_summary of each window, column for column (a gap
    reaches back to its application's previous release in either)."""
    frames = groups_on_the_sample(sample_db, "release_cadence_summary_groups", days, extra)
    # releases in both windows, so the equality means counts and gaps
    assert frames["release_cadence_summary"].iloc[0]["n_releases"] > 0
    assert frames["release_cadence_summary:previous"].iloc[0][
        "n_releases"] > 0


@pytest.mark.parametrize(("days", "extra"), [
    (90, {}), (365, {"reporting_tz": "Asia/Kolkata"}),
    (120, {"basis": "deployments"}), (365, {"portfolios": ["Payments"]}),
])
def test_cadence_groups_give_the_summary_months_and_applications(
        sample_db, days, extra):
    """release_cadence_groups: its rows, cut, equal release_cadence_summary,
    release_cadence_by_month and release_cadence, column for column."""
    frames = groups_on_the_sample(sample_db, "release_cadence_groups", days, extra)
    assert frames["release_cadence_summary"].iloc[0]["n_releases"] > 0
    assert len(frames["release_cadence_by_month"]) >= days // 31
    assert len(frames["release_cadence"]) > 1


def test_cadence_groups_of_given_rows_and_of_an_empty_window(con, given):
    """A NULL application is a row of its own, a month without a release a
    0, a gap reaches back before the window; a window without releases has
    its total (0 releases) and months, and no application."""
    from tests.test_change_metrics import assert_groups_equal_the_queries
    given("releases", [
        release("R1", "2025-12-29 12:00Z"),
        release("R2", "2026-01-02 00:00Z"),
        release("R3", "2026-03-09 00:00Z", app="A2"),
        release("N1", "2026-01-31 23:30Z", app=None),
        release("N2", "2026-03-01 00:30Z", app=None),
    ])
    frames = assert_groups_equal_the_queries(
        con, "release_cadence_groups", start_date="2026-01-01",
        end_date="2026-03-15", reporting_tz="Europe/Berlin")
    months = frames["release_cadence_by_month"]
    assert months["n_releases"].tolist() == [1, 1, 2]  # N1 is 1 Feb there
    assert frames["release_cadence"]["n_releases"].tolist() == [1, 1, 2]
    empty = assert_groups_equal_the_queries(
        con, "release_cadence_groups", start_date="2026-05-01",
        end_date="2026-07-01")
    assert empty["release_cadence_summary"]["n_releases"].tolist() == [0]
    assert empty["release_cadence_by_month"]["n_releases"].tolist() == [0, 0]
    assert empty["release_cadence"].empty


@pytest.mark.parametrize(("days", "extra"), [
    (90, {}), (365, {}), (90, {"reporting_tz": "Asia/Kolkata"}),
    (365, {"tolerance_days": 2, "portfolios": ["Payments"]}),
    (120, {"as_of": "2026-10-01 00:00Z"}),
])
def test_on_time_groups_give_both_windows_rows(sample_db, days, extra):
    """release_on_time_groups: its total and the window before's equal
    release_on_time of each window, column for column."""
    frames = groups_on_the_sample(sample_db, "release_on_time_groups", days, extra)
    # releases in both windows, so the equality means counts and slips
    assert frames["release_on_time"].iloc[0]["n"] > 0
    assert frames["release_on_time:previous"].iloc[0]["n"] > 0


def test_on_time_groups_count_overdue_releases_at_each_windows_end(
        con, given):
    """An open release planned before the window began is overdue at the
    end of both windows; one planned within the window, at its end only; a
    release gone live counts in the window it went live in."""
    from tests.test_change_metrics import assert_groups_equal_the_queries
    given("releases", [
        planned("R1", "2025-12-10 00:00Z", "2025-12-12 00:00Z"),  # before
        planned("R2", "2026-01-10 00:00Z", "2026-01-10 05:00Z"),  # in JAN
        planned("R3", "2026-01-10 00:00Z", "2026-01-14 00:00Z"),  # late
        planned("R4", "2025-12-20 00:00Z", status="planned"),  # overdue: both
        planned("R5", "2026-01-20 00:00Z", status="in_progress"),  # JAN's
        planned("R6", "2025-11-20 00:00Z", "2025-11-21 00:00Z"),  # earlier
    ])
    frames = assert_groups_equal_the_queries(
        con, "release_on_time_groups", **JAN, as_of="2026-03-01 00:00Z")
    now, before = (frames["release_on_time" + k].iloc[0]
                   for k in ("", ":previous"))
    assert (now["n"], now["n_on_time"], now["n_late"],
            now["n_overdue_open"]) == (2, 1, 1, 2)
    assert (before["n"], before["n_late"], before["n_overdue_open"]) == (
        1, 1, 1)
    # nothing gone live in the window before's window before: zeros, one row
    empty = assert_groups_equal_the_queries(
        con, "release_on_time_groups", start_date="2025-10-01",
        end_date="2025-11-01", as_of="2026-03-01 00:00Z")
    assert empty["release_on_time:previous"].iloc[0]["n"] == 0
