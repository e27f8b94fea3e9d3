"""environment_utilization(_summary) and booking_conflicts(_by_environment)."""
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import given as for_all
from hypothesis import strategies as st

from changeboard import db, groups

# A Monday-to-Monday week in UTC: 168 hours for an `always` environment.
WEEK = {"start_date": "2024-06-03", "end_date": "2024-06-10"}
DAY = {"start_date": "2024-06-03", "end_date": "2024-06-04"}


def env(environment_id="E1", **columns):
    return {"environment_id": environment_id, "name": environment_id.lower(),
            "tier": "uat", **columns}


def booking(booking_id, start_at, end_at, status="approved", env_id="E1",
            **columns):
    return {"booking_id": booking_id, "environment_id": env_id,
            "status": status, "start_at": start_at, "end_at": end_at,
            **columns}


def util(con, **params):
    return db.run(con, "environment_utilization", **{**WEEK, **params})


def summary(con, **params):
    return db.run(con, "environment_utilization_summary", **{**WEEK, **params})


def pairs(con, **params):
    return db.run(con, "booking_conflicts", **{**WEEK, **params})


def by_env(con, **params):
    return db.run(con, "booking_conflicts_by_environment",
                  **{**WEEK, **params})


def one(frame) -> dict:
    assert len(frame) == 1, frame
    return frame.iloc[0].to_dict()


def pick(frame, *columns) -> list[dict]:
    return frame[list(columns)].to_dict("records")


def ts(text):
    return pd.Timestamp(text)


def pair_ids(frame) -> list[tuple[str, str]]:
    return list(zip(frame["booking_id_a"], frame["booking_id_b"], strict=True))


# --- environment_utilization ----------------------------------------------

def test_booking_counts_only_its_part_inside_the_half_open_window(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-02 22:00Z", "2024-06-03 01:00Z"),  # 1 h in
        booking("B2", "2024-06-09 23:00Z", "2024-06-10 02:00Z"),  # 1 h in
        booking("B3", "2024-06-02 23:00Z", "2024-06-03 00:00Z"),  # ends at W
        booking("B4", "2024-06-10 00:00Z", "2024-06-10 01:00Z"),  # at W end
    ])
    row = one(util(con))
    assert (row["available_hours"], row["booked_hours"]) == (168.0, 2.0)
    assert (row["n"], row["n_bookings"]) == (2, 2)
    assert row["utilization"] == pytest.approx(2 / 168)


def test_back_to_back_bookings_add_up_and_never_conflict(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 08:00Z", "2024-06-03 10:00Z"),
        booking("B2", "2024-06-03 10:00Z", "2024-06-03 12:00Z"),
    ])
    assert one(util(con))["booked_hours"] == 4.0
    assert pairs(con).empty
    assert pick(by_env(con), "n_conflict_pairs", "conflict_hours") == [
        {"n_conflict_pairs": 0, "conflict_hours": 0.0}]


def test_contained_booking_is_booked_once_but_demanded_twice(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 08:00Z", "2024-06-03 12:00Z"),
        booking("B2", "2024-06-03 09:00Z", "2024-06-03 10:00Z"),
    ])
    row = one(util(con))
    assert (row["booked_hours"], row["slot_hours"], row["demand_hours"]) == (
        4.0, 4.0, 5.0)
    assert pick(pairs(con), "booking_id_a", "booking_id_b", "overlap_start_at",
                "overlap_end_at", "overlap_hours") == [
        {"booking_id_a": "B1", "booking_id_b": "B2",
         "overlap_start_at": ts("2024-06-03 09:00Z"),
         "overlap_end_at": ts("2024-06-03 10:00Z"), "overlap_hours": 1.0}]


def test_identical_bookings_are_one_union_and_one_conflicting_pair(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 08:00Z", "2024-06-03 10:00Z"),
        booking("B2", "2024-06-03 08:00Z", "2024-06-03 10:00Z"),
    ])
    row = one(util(con))
    assert (row["booked_hours"], row["demand_hours"]) == (2.0, 4.0)
    assert pick(pairs(con), "booking_id_a", "booking_id_b",
                "overlap_hours") == [
        {"booking_id_a": "B1", "booking_id_b": "B2", "overlap_hours": 2.0}]
    assert pick(by_env(con), "n_conflict_pairs", "n_conflicted_bookings",
                "conflict_hours", "excess_booking_hours") == [
        {"n_conflict_pairs": 1, "n_conflicted_bookings": 2,
         "conflict_hours": 2.0, "excess_booking_hours": 2.0}]


def test_zero_length_booking_is_empty_not_invalid(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 08:00Z", "2024-06-03 10:00Z"),
        booking("B2", "2024-06-03 09:00Z", "2024-06-03 09:00Z"),
    ])
    row = one(util(con))
    assert (row["booked_hours"], row["demand_hours"]) == (2.0, 2.0)
    assert (row["n"], row["n_invalid"]) == (1, 0)
    assert pairs(con).empty


def test_open_ended_booking_is_clipped_at_as_of(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", None),
        booking("B2", "2024-06-04 00:00Z", "2024-06-04 12:00Z"),
    ])
    row = one(util(con, as_of="2024-06-04 06:00Z"))
    assert (row["booked_hours"], row["n_open_ended"]) == (36.0, 1)
    assert pick(pairs(con, as_of="2024-06-04 06:00Z"), "booking_id_b",
                "overlap_end_at") == [
        {"booking_id_b": "B2", "overlap_end_at": ts("2024-06-04 06:00Z")}]


def test_bookings_of_an_environment_not_loaded_are_the_totals_unclassified(
        con, given):
    """A booking of an environment that is not loaded was in no count:
    the utilisation totals dropped it without a word. With time in W
    (any status; an open-ended one to as_of) it is the summary's and the
    rollup total's n_unclassified, whatever the filters; an environment's
    and a group's rows have none."""
    given("environments", [env("E1", environment_group="G1")])
    given("environment_bookings", [
        booking("B1", "2024-06-03 09:00Z", "2024-06-03 11:00Z"),
        booking("B2", "2024-06-04 09:00Z", "2024-06-04 11:00Z", env_id="E9"),
        # open-ended from before as_of: in W; rejected counts too
        booking("B3", "2024-06-05 09:00Z", None, "rejected", env_id="E9"),
        # open-ended from after as_of: no time in W
        booking("B4", "2024-06-07 09:00Z", None, env_id="E9"),
        # outside W, ending before it starts, empty
        booking("B5", "2024-06-11 09:00Z", "2024-06-11 11:00Z", env_id="E9"),
        booking("B6", "2024-06-04 12:00Z", "2024-06-04 10:00Z", env_id="E9"),
        booking("B7", "2024-06-04 12:00Z", "2024-06-04 12:00Z", env_id="E9"),
        # ends as W starts (half-open): none of W
        booking("B8", "2024-06-02 09:00Z", "2024-06-03 00:00Z", env_id="E9"),
    ])
    as_of = {"as_of": "2024-06-06 00:00Z"}
    assert pick(summary(con, **as_of), "n", "n_excluded", "n_unclassified"
                ) == [{"n": 1, "n_excluded": 0, "n_unclassified": 2}]
    # a filter that keeps no environment keeps the unplaced bookings
    assert pick(summary(con, tiers=["prod"], **as_of), "n", "n_unclassified"
                ) == [{"n": 0, "n_unclassified": 2}]
    rollup = db.run(con, "environment_utilization_rollup", **WEEK, **as_of)
    assert pick(rollup, "is_total", "n_unclassified") == [
        {"is_total": True, "n_unclassified": 2},
        {"is_total": False, "n_unclassified": 0}]
    assert pick(db.run(con, "environment_utilization_by_group", **WEEK,
                       **as_of), "environment_group", "n_unclassified"
                ) == [{"environment_group": "G1", "n_unclassified": 0}]
    assert pick(util(con, **as_of), "environment_id", "n_unclassified"
                ) == [{"environment_id": "E1", "n_unclassified": 0}]
    # loaded, E9's bookings are placed: none left unclassified
    given("environments", [env("E9")])
    assert one(summary(con, **as_of))["n_unclassified"] == 0


def test_the_conflicts_summary_sums_the_environments_and_says_the_unplaced(
        con, given):
    """The Overview's Conflicts ahead summed booking_conflicts_by_environment
    in the page and left out the bookings of environments not loaded
    without a word (no capacity to sweep them against): the summary sums
    the same rows and counts those as n_unclassified, as the utilisation
    summary does."""
    given("environments", [env("E1", tier="uat"), env("E2", tier="uat")])
    given("environment_bookings", [
        booking("B1", "2024-06-03 09:00Z", "2024-06-03 12:00Z"),
        booking("B2", "2024-06-03 10:00Z", "2024-06-03 13:00Z", "pending"),
        booking("B3", "2024-06-04 09:00Z", "2024-06-04 10:00Z", env_id="E2"),
        booking("B4", "2024-06-04 09:00Z", "2024-06-04 10:00Z", "cancelled",
                env_id="E2"),
        # not loaded: two active ones with time in W, a rejected one (in
        # no conflict, loaded or not: not left out) and one outside
        booking("B5", "2024-06-03 09:00Z", "2024-06-03 12:00Z", env_id="E9"),
        booking("B6", "2024-06-03 10:00Z", "2024-06-03 13:00Z", "pending",
                env_id="E9"),
        booking("B7", "2024-06-12 09:00Z", "2024-06-12 10:00Z", env_id="E9"),
        booking("B8", "2024-06-03 10:00Z", "2024-06-03 13:00Z", "rejected",
                env_id="E9"),
    ])
    row = one(db.run(con, "booking_conflicts_summary", **WEEK))
    assert {k: row[k] for k in (
        "n_conflict_pairs", "n_conflicted_environments", "n_environments",
        "n_conflicted_bookings", "conflict_hours", "excess_booking_hours",
        "n", "n_excluded", "n_invalid", "n_open_ended", "n_unclassified")} == {
        "n_conflict_pairs": 1, "n_conflicted_environments": 1,
        "n_environments": 2, "n_conflicted_bookings": 2,
        "conflict_hours": 2.0, "excess_booking_hours": 2.0, "n": 3,
        "n_excluded": 1, "n_invalid": 0, "n_open_ended": 0,
        "n_unclassified": 2}
    rows = by_env(con)
    for column in ("n_conflict_pairs", "n_conflicted_bookings",
                   "conflict_hours", "n", "n_excluded"):
        assert rows[column].sum() == row[column], column
    # a filter that keeps no environment keeps the unplaced bookings
    kept = one(db.run(con, "booking_conflicts_summary", **WEEK,
                      tiers=["prod"]))
    assert (kept["n_conflict_pairs"], kept["n_environments"],
            kept["n_unclassified"]) == (0, 0, 2)
    assert not pd.isna(kept["as_of"])
    # loaded, E9's two active bookings are swept: one pair more, none left
    # out
    given("environments", [env("E9")])
    row = one(db.run(con, "booking_conflicts_summary", **WEEK))
    assert (row["n_conflict_pairs"], row["n"], row["n_unclassified"]) == (
        2, 5, 0)


def test_a_published_file_counts_its_unplaced_bookings_until_they_are_placed(
        tmp_path):
    """In a published file the bookings of environments not loaded are
    read from a table stored at publish (derived_unplaced_bookings, a scan
    of every booking being 5 ms of each summary at a million changes): a
    publish that loads their environment, or more of them, counts them
    anew."""
    path = tmp_path / "cb.duckdb"

    def booked(con, *rows):
        for booking_id, env_id, status in rows:
            con.execute(
                "insert into environment_bookings (booking_id, environment_id,"
                " status, start_at, end_at) values ($b, $e, $s,"
                " '2024-06-04 09:00Z', '2024-06-04 11:00Z')",
                {"b": booking_id, "e": env_id, "s": status})

    def counted():
        with db.connect(path, read_only=True) as con:
            return (one(db.run(con, "environment_utilization_summary", **WEEK)
                        )["n_unclassified"],
                    one(db.run(con, "booking_conflicts_summary", **WEEK)
                        )["n_unclassified"],
                    con.execute("select count(*) from derived_unplaced_bookings"
                                ).fetchall()[0][0])

    with db.publish(path) as con:
        con.execute("insert into environments (environment_id, name, tier) "
                    "values ('E1', 'e1', 'uat')")
        booked(con, ("B1", "E1", "approved"), ("B2", "E9", "approved"),
               ("B3", "E9", "rejected"))
    # utilisation counts every status, conflicts the active ones
    assert counted() == (2, 1, 2)
    with db.publish(path) as con:
        booked(con, ("B4", "E8", "pending"))
    assert counted() == (3, 2, 3)
    with db.publish(path) as con:
        con.execute("insert into environments (environment_id, name, tier) "
                    "values ('E9', 'e9', 'uat')")
    assert counted() == (1, 1, 1)


def test_open_ended_booking_is_clipped_at_window_end(con, given):
    given("environments", [env()])
    given("environment_bookings", [booking("B1", "2024-06-09 00:00Z", None)])
    row = one(util(con, as_of="2030-01-01"))
    assert (row["booked_hours"], row["n_open_ended"]) == (24.0, 1)


def test_the_live_sweep_of_an_open_ended_booking_equals_the_stored_one(
        tmp_path):
    """An environment with an open-ended booking is swept from the period's
    bookings; every other one is read from the segments stored at publish
    (derived_booking_segments). In a published file, the same bookings give
    the same hours either way: B1 open-ended and read at as_of = its end
    elsewhere, or ending there."""
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute(
            "insert into environments (environment_id, name, tier, capacity,"
            " availability, timezone) values"
            " ('E1', 'e1', 'uat', 2, 'business_hours', 'Europe/Berlin'),"
            " ('E2', 'e2', 'uat', 2, 'business_hours', 'Europe/Berlin')")
        con.execute(
            "insert into blackout_windows (window_id, kind, environment_id,"
            " start_at, end_at) values ('W1', 'maintenance', 'E1',"
            " '2024-03-28 09:00Z', '2024-03-28 11:00Z'), ('W2',"
            " 'maintenance', 'E2', '2024-03-28 09:00Z', '2024-03-28 11:00Z')")
        rows = [("B1", "2024-03-27 07:00Z", "2024-04-02 12:00Z", "approved"),
                ("B2", "2024-03-28 08:00Z", "2024-03-29 08:00Z", "approved"),
                ("B3", "2024-03-28 08:00Z", "2024-04-01 09:30Z", "pending"),
                ("B4", "2024-03-29 08:00Z", "2024-03-29 10:00Z", "approved")]
        for env_id in ("E1", "E2"):
            for booking_id, start, end, status in rows:
                con.execute(
                    "insert into environment_bookings (booking_id,"
                    " environment_id, status, start_at, end_at) values"
                    " ($b, $e, $s, $start, $end)",
                    {"b": f"{booking_id}{env_id}", "e": env_id, "s": status,
                     "start": start,
                     "end": None if (env_id, booking_id) == ("E1", "B1")
                     else end})
    with db.connect(path, read_only=True) as con:
        assert con.execute("select count(distinct environment_id) from "
                           "derived_booking_segments").fetchall() == [(2,)]
        used = db.run(con, "environment_utilization",
                      start_date="2024-03-25", end_date="2024-04-08",
                      as_of="2024-04-02 12:00Z").set_index("environment_id")
    hours = ["available_hours", "booked_hours", "slot_hours", "demand_hours"]
    assert used.loc["E1", "n_open_ended"] == 1
    assert used.loc["E2", "n_open_ended"] == 0
    assert used.loc["E1", hours].tolist() == used.loc["E2", hours].tolist()
    # 10 working days (Berlin moves to CEST on Sunday 31 March) less the
    # 2 h maintenance window on the 28th; the approved bookings' union is
    # B1, from 08:00 CET on the 27th to 14:00 CEST on 2 April: 10 + 8 + 10
    # (27-29 March) + 10 + 6 (1-2 April)
    assert used.loc["E1", ["available_hours", "booked_hours"]].tolist() == [
        98.0, 44.0]


def test_as_of_defaults_to_the_last_succeeded_load(con, given):
    given("environments", [env()])
    given("environment_bookings", [booking("B1", "2024-06-03 00:00Z", None)])
    given("ingest_batches", [
        {"batch_id": 1, "source": "csv", "entity": "environment_bookings",
         "started_at": "2024-06-03 01:00Z", "finished_at": "2024-06-03 02:00Z",
         "status": "succeeded"},
        {"batch_id": 2, "source": "csv", "entity": "environment_bookings",
         "started_at": "2024-06-03 04:00Z", "finished_at": "2024-06-03 05:00Z",
         "status": "failed"},
    ])
    row = one(util(con))
    assert (row["booked_hours"], row["as_of"]) == (2.0, ts("2024-06-03 02:00Z"))


def test_end_before_start_is_invalid_and_ignored(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 10:00Z", "2024-06-03 08:00Z"),
        booking("B2", "2024-06-03 07:00Z", "2024-06-03 09:00Z"),
    ])
    row = one(util(con))
    assert (row["booked_hours"], row["n"], row["n_invalid"]) == (2.0, 1, 1)
    assert pairs(con).empty
    assert pick(by_env(con), "n", "n_invalid") == [{"n": 1, "n_invalid": 1}]


def test_capacity_two_allows_two_overlapping_bookings(con, given):
    given("environments", [env(capacity=2)])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-03 04:00Z"),
        booking("B2", "2024-06-03 01:00Z", "2024-06-03 03:00Z"),
    ])
    assert pairs(con, **DAY).empty
    assert pick(by_env(con, **DAY), "capacity", "conflict_hours") == [
        {"capacity": 2, "conflict_hours": 0.0}]


def test_capacity_two_third_booking_puts_its_overlapping_pairs_in_conflict(
        con, given):
    # c(t) by hour from 00:00: 1 2 3 2 2 1; only [02:00, 03:00) exceeds 2,
    # so B3-B4, which overlap at [04:00, 05:00) only, do not conflict
    given("environments", [env(capacity=2)])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-03 04:00Z"),
        booking("B2", "2024-06-03 01:00Z", "2024-06-03 03:00Z"),
        booking("B3", "2024-06-03 02:00Z", "2024-06-03 05:00Z"),
        booking("B4", "2024-06-03 04:00Z", "2024-06-03 06:00Z"),
    ])
    assert pick(pairs(con, **DAY), "booking_id_a", "booking_id_b",
                "overlap_hours") == [
        {"booking_id_a": "B1", "booking_id_b": "B2", "overlap_hours": 2.0},
        {"booking_id_a": "B1", "booking_id_b": "B3", "overlap_hours": 2.0},
        {"booking_id_a": "B2", "booking_id_b": "B3", "overlap_hours": 1.0},
    ]
    assert pick(by_env(con, **DAY), "n_conflict_pairs",
                "n_conflicted_bookings", "conflict_hours",
                "excess_booking_hours") == [
        {"n_conflict_pairs": 3, "n_conflicted_bookings": 3,
         "conflict_hours": 1.0, "excess_booking_hours": 1.0}]
    row = one(util(con, **DAY))
    assert (row["booked_hours"], row["slot_hours"], row["capacity_hours"],
            row["demand_hours"]) == (6.0, 10.0, 48.0, 11.0)
    assert row["utilization"] == pytest.approx(6 / 24)
    assert row["slot_utilization"] == pytest.approx(10 / 48)
    assert row["demand_ratio"] == pytest.approx(11 / 48)


def test_over_capacity_time_touching_an_overlap_is_no_conflict(con, given):
    # c(t) = 2 on B1-B2's overlap [00:00, 04:00), 3 on [04:00, 06:00);
    # 3 on [08:00, 10:00), 2 on B6-B9's overlap [10:00, 14:00)
    given("environments", [env(capacity=2)])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-03 04:00Z"),
        booking("B2", "2024-06-03 00:00Z", "2024-06-03 06:00Z"),
        booking("B3", "2024-06-03 04:00Z", "2024-06-03 06:00Z"),
        booking("B4", "2024-06-03 04:00Z", "2024-06-03 06:00Z"),
        booking("B6", "2024-06-03 08:00Z", "2024-06-03 14:00Z"),
        booking("B7", "2024-06-03 08:00Z", "2024-06-03 10:00Z"),
        booking("B8", "2024-06-03 08:00Z", "2024-06-03 10:00Z"),
        booking("B9", "2024-06-03 10:00Z", "2024-06-03 14:00Z"),
    ])
    assert pair_ids(pairs(con, **DAY)) == [
        ("B2", "B3"), ("B2", "B4"), ("B3", "B4"),
        ("B6", "B7"), ("B6", "B8"), ("B7", "B8"),
    ]


def test_null_capacity_is_one(con, given):
    given("environments", [env(capacity=None)])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-03 02:00Z"),
        booking("B2", "2024-06-03 01:00Z", "2024-06-03 03:00Z"),
    ])
    assert one(util(con, **DAY))["capacity"] == 1
    assert len(pairs(con, **DAY)) == 1


def test_pending_counts_in_demand_and_conflicts_not_in_utilization(
        con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-03 12:00Z"),
        booking("B2", "2024-06-03 06:00Z", "2024-06-04 06:00Z", "pending"),
    ])
    row = one(util(con, **DAY))
    assert (row["booked_hours"], row["demand_hours"]) == (12.0, 30.0)
    assert (row["n"], row["n_bookings"], row["n_pending"]) == (2, 1, 1)
    assert row["demand_ratio"] == pytest.approx(30 / 24)  # may exceed 1
    assert pick(pairs(con, **DAY), "status_a", "status_b") == [
        {"status_a": "approved", "status_b": "pending"}]
    assert pairs(con, **DAY, statuses="approved").empty
    assert pairs(con, **DAY, statuses=["approved"]).empty


def test_rejected_and_cancelled_bookings_are_ignored(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-03 12:00Z"),
        booking("B2", "2024-06-03 06:00Z", "2024-06-03 18:00Z", "rejected"),
        booking("B3", "2024-06-03 06:00Z", "2024-06-03 18:00Z", "cancelled"),
    ])
    row = one(util(con, **DAY))
    assert (row["booked_hours"], row["demand_hours"]) == (12.0, 12.0)
    assert (row["n"], row["n_excluded"]) == (1, 2)
    assert pairs(con, **DAY).empty
    assert pick(by_env(con, **DAY), "n", "n_excluded") == [
        {"n": 1, "n_excluded": 2}]


def test_business_hours_over_a_berlin_dst_week(con, given):
    # 2024-03-31 is the spring-forward Sunday: 5 days x 10 h
    given("environments", [env(availability="business_hours",
                               timezone="Europe/Berlin")])
    given("environment_bookings", [
        # 07:00-09:00 CET: only 08:00-09:00 is business time
        booking("B1", "2024-03-26 06:00Z", "2024-03-26 08:00Z"),
        # Saturday and the DST Sunday are never available
        booking("B2", "2024-03-30 08:00Z", "2024-03-31 12:00Z"),
    ])
    row = one(util(con, start_date="2024-03-25", end_date="2024-04-01"))
    assert (row["available_hours"], row["booked_hours"]) == (50.0, 1.0)
    assert row["utilization"] == pytest.approx(1 / 50)


def test_business_hours_follow_local_time_across_the_dst_change(con, given):
    # 08:00 Berlin is 07:00Z before 2024-03-31 and 06:00Z after it
    given("environments", [env(availability="business_hours",
                               timezone="Europe/Berlin")])
    given("environment_bookings", [
        booking("B1", "2024-03-28 07:00Z", "2024-03-28 08:00Z"),  # 08-09 CET
        booking("B2", "2024-03-28 06:00Z", "2024-03-28 07:00Z"),  # 07-08 CET
        booking("B3", "2024-04-02 06:00Z", "2024-04-02 07:00Z"),  # 08-09 CEST
        booking("B4", "2024-04-02 16:00Z", "2024-04-02 17:00Z"),  # 18-19 CEST
    ])
    row = one(util(con, start_date="2024-03-28", end_date="2024-04-03"))
    assert (row["available_hours"], row["booked_hours"]) == (40.0, 2.0)


def test_a_clock_change_within_business_hours_changes_that_days_hours(
        con, given):
    # Antarctica/Vostok moved its clocks 7 h back on Monday 1994-01-31,
    # between 08:00 and 18:00: 08:00 was 01:00Z and 18:00 was 18:00Z, so
    # that day's business hours lasted 17 h (the one such weekday since 1970)
    given("environments", [env(availability="business_hours",
                               timezone="Antarctica/Vostok")])
    given("environment_bookings", [
        booking("B1", "1994-01-31 00:00Z", "1994-01-31 02:00Z"),  # 1 h in
        booking("B2", "1994-01-31 17:00Z", "1994-02-01 00:00Z"),  # 1 h in
    ])
    row = one(util(con, start_date="1994-01-31", end_date="1994-02-01"))
    assert (row["available_hours"], row["booked_hours"]) == (17.0, 2.0)


def test_a_weekday_the_clocks_skipped_has_no_business_hours(con, given):
    # Samoa went from 29 December 2011 straight to the 31st (UTC-10 to
    # UTC+14): that Friday never happened there. W (UTC) is Sunday 14:00 to
    # Monday 14:00 local a week later: Monday to Thursday, 40 h, and Monday
    # 2 January 08:00-14:00, 6 h. A booking on what would have been Friday
    # afternoon is Saturday morning in Apia, outside business hours
    given("environments", [env(availability="business_hours",
                               timezone="Pacific/Apia")])
    given("environment_bookings", [
        booking("B1", "2011-12-28 20:00Z", "2011-12-28 22:00Z"),  # Wed 10:00
        booking("B2", "2011-12-30 20:00Z", "2011-12-30 22:00Z"),  # Sat 10:00
    ])
    row = one(util(con, start_date="2011-12-26", end_date="2012-01-02",
                   as_of="2012-02-01 00:00Z"))
    assert (row["available_hours"], row["booked_hours"]) == (46.0, 2.0)


def test_business_hours_are_clipped_to_the_window_instants(con, given):
    # Tokyo 08:00-18:00 is 23:00Z-09:00Z: W = one UTC day meets two local days
    given("environments", [env(availability="business_hours",
                               timezone="Asia/Tokyo")])
    row = one(util(con, start_date="2024-03-26", end_date="2024-03-27"))
    assert row["available_hours"] == 10.0


def test_business_hours_with_null_timezone_are_utc(con, given):
    given("environments", [env(availability="business_hours", timezone=None)])
    given("environment_bookings", [
        booking("B1", "2024-06-03 07:00Z", "2024-06-03 09:00Z")])
    row = one(util(con))
    assert (row["available_hours"], row["booked_hours"]) == (50.0, 1.0)


def test_window_dates_are_local_to_the_reporting_timezone(con, given):
    # the Berlin day of the DST change has 23 hours
    given("environments", [env()])
    row = one(util(con, start_date="2024-03-31", end_date="2024-04-01",
                   reporting_tz="Europe/Berlin"))
    assert row["available_hours"] == 23.0


def test_blackout_window_applies_to_its_environment_only(con, given):
    given("environments", [env("E1"), env("E2")])
    given("blackout_windows", [
        {"window_id": "W1", "kind": "blackout", "environment_id": "E1",
         "start_at": "2024-06-03 00:00Z", "end_at": "2024-06-04 00:00Z"},
        {"window_id": "W2", "kind": "maintenance", "environment_id": "E1",
         "start_at": "2024-06-03 12:00Z", "end_at": "2024-06-04 12:00Z"},
        {"window_id": "W3", "kind": "freeze", "environment_id": "E1",
         "start_at": "2024-06-05 00:00Z", "end_at": "2024-06-06 00:00Z"},
    ])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-05 00:00Z", env_id="E1"),
        booking("B2", "2024-06-03 00:00Z", "2024-06-05 00:00Z", env_id="E2"),
    ])
    assert pick(util(con), "environment_id", "available_hours",
                "booked_hours") == [
        {"environment_id": "E1", "available_hours": 132.0,
         "booked_hours": 12.0},
        {"environment_id": "E2", "available_hours": 168.0,
         "booked_hours": 48.0},
    ]


def test_application_window_does_not_apply_to_a_shared_environment(
        con, given):
    given("environments", [
        env("E1", application_id="A1"),
        env("E2", application_id=None, is_shared=True),
        env("E3", application_id="A2"),
    ])
    given("blackout_windows", [
        {"window_id": "W1", "kind": "blackout", "application_id": "A1",
         "start_at": "2024-06-03 00:00Z", "end_at": "2024-06-04 00:00Z"},
        {"window_id": "W2", "kind": "maintenance",
         "start_at": "2024-06-09 00:00Z", "end_at": "2024-06-09 02:00Z"},
    ])
    assert pick(util(con), "environment_id", "available_hours") == [
        {"environment_id": "E1", "available_hours": 142.0},
        {"environment_id": "E2", "available_hours": 166.0},
        {"environment_id": "E3", "available_hours": 166.0},
    ]


def test_overlapping_blackout_windows_are_subtracted_once(con, given):
    given("environments", [env()])
    given("blackout_windows", [
        {"window_id": "W1", "kind": "blackout",
         "start_at": "2024-06-03 00:00Z", "end_at": "2024-06-03 06:00Z"},
        {"window_id": "W2", "kind": "blackout",
         "start_at": "2024-06-03 04:00Z", "end_at": "2024-06-03 08:00Z"},
    ])
    assert one(util(con, **DAY))["available_hours"] == 16.0


@pytest.mark.parametrize("kinds", ["freeze", ["freeze"], "freeze,blackout",
                                   ["blackout", "freeze"]])
def test_unavailable_kinds_take_a_list_or_comma_text(con, given, kinds):
    given("environments", [env()])
    given("blackout_windows", [
        {"window_id": "W1", "kind": "freeze",
         "start_at": "2024-06-03 00:00Z", "end_at": "2024-06-03 06:00Z"}])
    row = one(util(con, **DAY, unavailable_kinds=kinds))
    assert row["available_hours"] == 18.0


def test_zero_available_time_gives_null_ratios(con, given):
    given("environments", [
        env("E1", availability="business_hours"),
        env("E2"),
    ])
    given("blackout_windows", [
        {"window_id": "W1", "kind": "blackout", "environment_id": "E2",
         "start_at": "2024-06-01 00:00Z", "end_at": "2024-06-11 00:00Z"}])
    given("environment_bookings", [
        booking("B1", "2024-06-08 10:00Z", "2024-06-08 12:00Z", env_id="E1"),
        booking("B2", "2024-06-08 10:00Z", "2024-06-08 12:00Z", env_id="E2"),
    ])
    weekend = {"start_date": "2024-06-08", "end_date": "2024-06-10"}
    frame = util(con, **weekend)
    assert frame["available_hours"].tolist() == [0.0, 0.0]
    assert frame["booked_hours"].tolist() == [0.0, 0.0]
    assert frame["n"].tolist() == [1, 1]
    for column in ("utilization", "slot_utilization", "demand_ratio"):
        assert frame[column].isna().all()
    row = one(summary(con, **weekend))
    assert pd.isna(row["utilization"]) and row["n_idle"] == 0


def test_rollup_is_a_ratio_of_sums(con, given):
    given("environments", [
        env("E1"),                                     # 168 h, 84 booked
        env("E2", availability="business_hours"),      # 50 h, all booked
        env("E3"),                                     # 168 h, idle
    ])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-06 12:00Z", env_id="E1"),
        booking("B2", "2024-06-03 00:00Z", "2024-06-08 00:00Z", env_id="E2"),
        booking("B3", "2024-06-03 00:00Z", "2024-06-08 00:00Z", "pending",
                env_id="E2"),
    ])
    assert util(con)["utilization"].tolist() == [0.5, 1.0, 0.0]
    row = one(summary(con))
    assert row["n_environments"] == 3
    assert (row["available_hours"], row["booked_hours"]) == (386.0, 134.0)
    assert row["utilization"] == pytest.approx(134 / 386)  # not 0.5
    assert row["demand_ratio"] == pytest.approx(184 / 386)
    assert (row["n_idle"], row["n_overbooked"], row["n"]) == (1, 1, 3)


def test_summary_of_no_environments_has_null_ratios(con):
    row = one(summary(con))
    assert (row["n_environments"], row["available_hours"]) == (0, 0.0)
    assert pd.isna(row["utilization"])


@pytest.mark.parametrize("params, expected", [
    ({"tiers": ["prod"]}, ["E2"]),
    ({"tiers": ["uat", "prod"]}, ["E1", "E2"]),
    ({"environment_groups": ["blue"]}, ["E1"]),
    ({"application_ids": ["A2"]}, ["E2"]),
    ({"portfolios": ["retail"]}, ["E1"]),
    ({}, ["E1", "E2", "E3"]),
])
def test_environment_filters_keep_matching_environments(
        con, given, params, expected):
    given("applications", [
        {"application_id": "A1", "name": "a1", "portfolio": "retail"},
        {"application_id": "A2", "name": "a2", "portfolio": "wholesale"},
    ])
    given("environments", [
        env("E1", application_id="A1", environment_group="blue"),
        env("E2", application_id="A2", tier="prod", environment_group="red"),
        env("E3", tier="dev"),
    ])
    given("environment_bookings", [
        booking(f"B{i}", "2024-06-03 00:00Z", "2024-06-03 02:00Z", env_id=e)
        for i, e in enumerate(["E1", "E1", "E2", "E2", "E3", "E3"])])
    assert util(con, **params)["environment_id"].tolist() == expected
    assert by_env(con, **params)["environment_id"].tolist() == expected
    assert sorted(pairs(con, **params)["environment_id"]) == expected
    assert one(summary(con, **params))["n_environments"] == len(expected)


# --- booking_conflicts ------------------------------------------------------

def test_conflict_pair_orders_ids_and_carries_both_bookings(con, given):
    given("environments", [env()])
    given("releases", [{"release_id": "R1", "name": "Cards 4.2",
                        "status": "planned"}])
    given("environment_bookings", [
        booking("B9", "2024-06-03 08:00Z", "2024-06-03 10:00Z",
                release_id="R9", phase="uat"),
        booking("B1", "2024-06-03 09:00Z", "2024-06-03 11:00Z", "pending",
                release_id="R1", team="Cards QA", phase="sit"),
    ])
    assert pick(pairs(con), "environment_id", "booking_id_a", "booking_id_b",
                "status_a", "status_b", "release_id_a", "release_id_b",
                "capacity") == [
        {"environment_id": "E1", "booking_id_a": "B1", "booking_id_b": "B9",
         "status_a": "pending", "status_b": "approved",
         "release_id_a": "R1", "release_id_b": "R9", "capacity": 1}]
    # as the pages name a release: 'Name (id)', the id alone for one not
    # loaded (R9)
    assert pick(pairs(con), "release_a", "release_b") == [
        {"release_a": "Cards 4.2 (R1)", "release_b": "R9"}]
    # and who booked each, for what: whom to call about the clash (an
    # application owner's walkthrough)
    assert pick(pairs(con), "team_a", "phase_a", "team_b", "phase_b") == [
        {"team_a": "Cards QA", "phase_a": "sit", "team_b": None,
         "phase_b": "uat"}]


def test_conflicts_of_chosen_environments(con, given):
    # the Conflicts tab lists one environment's pairs: asked of the query,
    # not cut from every pair of the period in Python
    given("environments", [env("E1"), env("E2")])
    given("environment_bookings", [
        booking(f"{e}{i}", "2024-06-03 08:00Z", "2024-06-03 10:00Z",
                env_id=e) for e in ("E1", "E2") for i in range(3)])
    assert len(pairs(con)) == 6  # three pairs each
    assert set(pairs(con, environment_ids=["E2"])["environment_id"]) == {"E2"}
    assert len(pairs(con, environment_ids=["E2"])) == 3
    assert by_env(con, environment_ids=["E2"])["environment_id"].tolist() \
        == ["E2"]


def test_conflict_overlap_is_clipped_to_the_window(con, given):
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-06-02 20:00Z", "2024-06-03 02:00Z"),
        booking("B2", "2024-06-02 22:00Z", "2024-06-03 04:00Z"),
        # overlap [2024-06-02 10:00, 12:00) ends before W: not in W
        booking("B3", "2024-06-02 08:00Z", "2024-06-02 12:00Z"),
        booking("B4", "2024-06-02 10:00Z", "2024-06-02 14:00Z"),
    ])
    assert pick(pairs(con), "booking_id_a", "booking_id_b",
                "overlap_start_at", "overlap_end_at", "overlap_hours") == [
        {"booking_id_a": "B1", "booking_id_b": "B2",
         "overlap_start_at": ts("2024-06-03 00:00Z"),
         "overlap_end_at": ts("2024-06-03 02:00Z"), "overlap_hours": 2.0}]


def test_conflicts_ignore_calendars_and_blackouts(con, given):
    given("environments", [env(availability="business_hours")])
    given("blackout_windows", [
        {"window_id": "W1", "kind": "blackout",
         "start_at": "2024-06-08 00:00Z", "end_at": "2024-06-09 00:00Z"}])
    given("environment_bookings", [
        booking("B1", "2024-06-08 10:00Z", "2024-06-08 12:00Z"),  # Saturday
        booking("B2", "2024-06-08 11:00Z", "2024-06-08 13:00Z"),
    ])
    assert pairs(con)["overlap_hours"].tolist() == [1.0]
    assert one(by_env(con))["conflict_hours"] == 1.0


def test_conflicts_by_environment_lists_environments_with_active_bookings(
        con, given):
    given("environments", [env("E1"), env("E2"), env("E3")])
    given("environment_bookings", [
        booking("B1", "2024-06-03 08:00Z", "2024-06-03 10:00Z", env_id="E1"),
        booking("B2", "2024-06-03 08:00Z", "2024-06-03 10:00Z", "rejected",
                env_id="E2"),
    ])
    assert pick(by_env(con), "environment_id", "name", "n_conflict_pairs",
                "n_conflicted_bookings", "conflict_hours",
                "excess_booking_hours", "n") == [
        {"environment_id": "E1", "name": "e1", "n_conflict_pairs": 0,
         "n_conflicted_bookings": 0, "conflict_hours": 0.0,
         "excess_booking_hours": 0.0, "n": 1}]


def test_conflicts_of_each_environment_are_its_own_in_one_sweep(con, given):
    # one sweep runs over every environment in (environment, instant) order:
    # an environment's counts must not take in the bookings, starts or time
    # over capacity of the environments sorted before it
    given("environments", [env("E1"), env("E2", capacity=2), env("E3")])
    given("environment_bookings", [
        # E1, capacity 1: three bookings overlapping at once (3 pairs)
        *[booking(f"A{i}", "2024-06-03 00:00Z", "2024-06-03 02:00Z",
                  env_id="E1") for i in range(3)],
        # E2, capacity 2: c(t) 1 2 3 2 1 by hour, over capacity 02:00-03:00
        booking("B1", "2024-06-03 00:00Z", "2024-06-03 04:00Z", env_id="E2"),
        booking("B2", "2024-06-03 01:00Z", "2024-06-03 03:00Z", env_id="E2"),
        booking("B3", "2024-06-03 02:00Z", "2024-06-03 05:00Z", env_id="E2"),
        # E3, capacity 1: back to back (no conflict), then one overlap
        booking("C1", "2024-06-03 00:00Z", "2024-06-03 01:00Z", env_id="E3"),
        booking("C2", "2024-06-03 01:00Z", "2024-06-03 02:00Z", env_id="E3"),
        booking("C3", "2024-06-03 01:30Z", "2024-06-03 03:00Z", env_id="E3"),
    ])
    rows = pick(by_env(con, **DAY), "environment_id", "n_conflict_pairs",
                "n_conflicted_bookings", "conflict_hours",
                "excess_booking_hours", "n")
    assert rows == [
        {"environment_id": "E1", "n_conflict_pairs": 3,
         "n_conflicted_bookings": 3, "conflict_hours": 2.0,
         "excess_booking_hours": 4.0, "n": 3},
        {"environment_id": "E2", "n_conflict_pairs": 3,
         "n_conflicted_bookings": 3, "conflict_hours": 1.0,
         "excess_booking_hours": 1.0, "n": 3},
        {"environment_id": "E3", "n_conflict_pairs": 1,
         "n_conflicted_bookings": 2, "conflict_hours": 0.5,
         "excess_booking_hours": 0.5, "n": 3}]
    # the same pairs as the list of conflicting pairs
    listed = pairs(con, **DAY).groupby("environment_id").size().to_dict()
    assert listed == {r["environment_id"]: r["n_conflict_pairs"]
                      for r in rows}


def test_many_bookings_over_capacity_count_excess_per_extra_booking(
        con, given):
    given("environments", [env(capacity=2)])
    given("environment_bookings", [
        booking(f"B{i}", "2024-06-03 00:00Z", "2024-06-03 03:00Z")
        for i in range(5)])
    row = one(by_env(con, **DAY))
    assert (row["n_conflict_pairs"], row["n_conflicted_bookings"]) == (10, 5)
    assert (row["conflict_hours"], row["excess_booking_hours"]) == (3.0, 9.0)


# --- shared definitions -----------------------------------------------------

@pytest.mark.parametrize("detail, rollup", [
    ("environment_utilization", "environment_utilization_summary"),
    ("booking_conflicts", "booking_conflicts_by_environment"),
])
def test_rollup_query_takes_its_detail_query_parameters(detail, rollup):
    # both read the same macros in changeboard/macros/
    assert db.params(detail) == db.params(rollup)


# --- property: SQL against a half-open reference on an hourly grid ------------

W0 = datetime(2024, 1, 1, tzinfo=UTC)
W_HOURS = 24
# weighted towards active bookings
STATUSES = ["approved"] * 3 + ["pending"] * 2 + ["rejected", "cancelled"]

# short bookings on a small grid, so that ties, containment and back-to-back
# bookings are common
bookings_strategy = st.lists(
    st.tuples(
        st.integers(-3, W_HOURS + 3),                   # start, hours from W0
        st.one_of(st.none(), st.integers(-2, 8)),       # duration; None = open
        st.sampled_from(STATUSES),
    ),
    max_size=12,
)


def reference(bookings, capacity, as_of):
    """Counts per hour cell [h, h+1) of W: every endpoint is a whole hour."""
    def clipped(start, duration):
        end = min(W_HOURS, as_of) if duration is None else start + duration
        return max(start, 0), min(end, W_HOURS)

    spans = {i: (status, *clipped(start, duration))
             for i, (start, duration, status) in enumerate(bookings)
             if duration is None or duration >= 0}
    active = {i: (s, e) for i, (status, s, e) in spans.items()
              if status in ("approved", "pending") and s < e}
    approved = [(s, e) for i, (status, s, e) in spans.items()
                if status == "approved" and s < e]
    c_approved = [sum(s <= h < e for s, e in approved)
                  for h in range(W_HOURS)]
    c_active = [sum(s <= h < e for s, e in active.values())
                for h in range(W_HOURS)]
    conflicting = set()
    for i in active:
        for j in active:
            lo = max(active[i][0], active[j][0])
            hi = min(active[i][1], active[j][1])
            if i < j and any(c_active[h] > capacity for h in range(lo, hi)):
                conflicting.add((f"B{i:02d}", f"B{j:02d}"))
    return {
        "booked_hours": float(sum(c > 0 for c in c_approved)),
        "slot_hours": float(sum(min(c, capacity) for c in c_approved)),
        "demand_hours": float(sum(c_active)),
        "conflict_hours": float(sum(c > capacity for c in c_active)),
        "excess_booking_hours": float(
            sum(max(c - capacity, 0) for c in c_active)),
        "pairs": conflicting,
        "n_invalid": sum(
            d is not None and d < 0 and st_ + d < W_HOURS and st_ > 0
            and status in ("approved", "pending")
            for st_, d, status in bookings),
        "n_open_ended": sum(
            d is None and st_ < W_HOURS and status in ("approved", "pending")
            for st_, d, status in bookings),
    }


@pytest.fixture(scope="module")
def shared_con():
    """E1 (capacity 1) and E2 (capacity 2), `always`; bookings per example."""
    connection = db.connect()
    connection.execute(
        "insert into environments (environment_id, name, tier, capacity)"
        " values ('E1', 'e1', 'uat', 1), ('E2', 'e2', 'uat', 2)")
    yield connection
    connection.close()


# Each example checks both capacities on the same bookings (one query run
# each), so 150 examples make 300 cases and the file stays under ~30 s.
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@for_all(bookings=bookings_strategy, as_of=st.integers(-2, W_HOURS + 2))
def test_sweeps_match_a_half_open_reference(shared_con, bookings, as_of):
    con = shared_con
    con.execute("delete from environment_bookings")
    hour = timedelta(hours=1)
    rows = pd.DataFrame(
        [{"booking_id": f"B{i:02d}", "environment_id": environment_id,
          "status": status, "start_at": W0 + start * hour,
          "end_at": None if d is None else W0 + (start + d) * hour}
         for environment_id in ("E1", "E2")
         for i, (start, d, status) in enumerate(bookings)],
        columns=["booking_id", "environment_id", "status", "start_at",
                 "end_at"])
    rows["booking_id"] += rows["environment_id"]  # ids are unique
    con.register("given_rows", rows)
    con.execute("insert into environment_bookings by name "
                "select * from given_rows")
    con.unregister("given_rows")
    window = {"start_date": "2024-01-01", "end_date": "2024-01-02",
              "as_of": W0 + as_of * hour}
    used = db.run(con, "environment_utilization", **window)
    found = db.run(con, "booking_conflicts_by_environment", **window)
    listed = db.run(con, "booking_conflicts", **window)

    for environment_id, capacity in (("E1", 1), ("E2", 2)):
        expected = reference(bookings, capacity, as_of)
        row = one(used[used["environment_id"] == environment_id])
        assert row["available_hours"] == W_HOURS
        for column in ("booked_hours", "slot_hours", "demand_hours",
                       "n_invalid", "n_open_ended"):
            assert row[column] == pytest.approx(expected[column]), column
        mine = found[found["environment_id"] == environment_id]
        if len(mine):
            row = one(mine)
            for column in ("conflict_hours", "excess_booking_hours",
                           "n_invalid", "n_open_ended"):
                assert row[column] == pytest.approx(expected[column]), column
            assert row["n_conflict_pairs"] == len(expected["pairs"])
        else:
            assert expected["conflict_hours"] == 0 and not expected["pairs"]
        mine = listed[listed["environment_id"] == environment_id]
        assert {(a[:3], b[:3]) for a, b in pair_ids(mine)} == expected["pairs"]


# --- environment_impact_matrix ------------------------------------------------

H1 = {"start_date": "2024-01-01", "end_date": "2024-07-01"}


def release(release_id, go_live="2024-03-01 00:00Z", **columns):
    return {"release_id": release_id, "name": release_id.lower(),
            "status": "planned", "release_type": "project",
            "planned_release_at": go_live, **columns}


def rbooking(booking_id, release_id, env_id="E1", status="approved",
             start_at="2024-02-01 00:00Z", end_at="2024-02-02 00:00Z"):
    return booking(booking_id, start_at, end_at, status=status,
                   env_id=env_id, release_id=release_id)


TOTALS = "environment_impact_totals"  # the three totals in one pass


def matrix(con, name="environment_impact_matrix", **params):
    """The query's rows; for a totals query of the whole matrix, checked
    equal, column for column, to environment_impact_totals' cut of them
    (the page reads that one), so each case below checks both."""
    rows = db.run(con, name, **{**H1, **params})
    if name in groups.GROUPS[TOTALS] and "release_ids" not in params:
        cut = groups.cut(TOTALS, db.run(con, TOTALS, **{**H1, **params}))
        pd.testing.assert_frame_equal(cut[name], rows)
    return rows


def records(frame, *columns) -> list[dict]:
    """pick(), with missing values (a NULL group) as None."""
    return [{k: None if pd.isna(v) else v for k, v in row.items()}
            for row in pick(frame, *columns)]


def test_impact_cell_status_is_the_first_present_of_approved_pending_rejected(
        con, given):
    given("environments", [env("E1"), env("E2"), env("E3")])
    given("releases", [release("R1")])
    given("environment_bookings", [
        rbooking("B1", "R1", "E1", "rejected"),
        rbooking("B2", "R1", "E1", "pending"),
        rbooking("B3", "R1", "E1", "approved"),
        rbooking("B4", "R1", "E2", "rejected"),
        rbooking("B5", "R1", "E2", "pending"),
        rbooking("B6", "R1", "E3", "rejected"),
    ])
    assert pick(matrix(con), "environment_id", "cell_status", "n_bookings",
                "is_impacted") == [
        {"environment_id": "E1", "cell_status": "approved", "n_bookings": 3,
         "is_impacted": True},
        {"environment_id": "E2", "cell_status": "pending", "n_bookings": 2,
         "is_impacted": True},
        {"environment_id": "E3", "cell_status": "rejected", "n_bookings": 1,
         "is_impacted": False}]
    row = one(matrix(con, "environment_impact_release_totals"))
    assert (row["total_impacted"], row["n_rejected_environments"]) == (2, 1)


def test_impact_cells_use_bookings_whenever_they_are_but_not_cancelled_or_empty(
        con, given):
    given("environments", [env("E1"), env("E2"), env("E3")])
    given("releases", [release("R1")])
    given("environment_bookings", [
        # years before W: still the release's booking
        rbooking("B1", "R1", "E1", start_at="2020-01-01 00:00Z",
                 end_at="2020-01-02 00:00Z"),
        rbooking("B2", "R1", "E2", "cancelled"),
        rbooking("B3", "R1", "E3", start_at="2024-02-01 00:00Z",
                 end_at="2024-02-01 00:00Z"),  # empty
    ])
    assert list(matrix(con)["environment_id"]) == ["E1"]
    row = one(matrix(con, "environment_impact_release_totals"))
    assert (row["total_impacted"], row["n_bookings"], row["n_excluded"]) == (
        1, 1, 2)


def test_release_whose_only_bookings_are_rejected_is_a_row_with_total_zero(
        con, given):
    given("environments", [env("E1")])
    given("releases", [release("R1"), release("R2")])
    given("environment_bookings", [rbooking("B1", "R1", status="rejected")])
    assert pick(matrix(con), "release_id", "cell_status") == [
        {"release_id": "R1", "cell_status": "rejected"}]
    assert pick(matrix(con, "environment_impact_release_totals"),
                "release_id", "total_impacted") == [
        {"release_id": "R1", "total_impacted": 0},
        {"release_id": "R2", "total_impacted": 0}]
    assert pick(matrix(con, "environment_impact_environment_totals"),
                "environment_id", "total_releases", "n_rejected_releases",
                "n") == [
        {"environment_id": "E1", "total_releases": 0,
         "n_rejected_releases": 1, "n": 2}]


def test_enterprise_release_is_not_a_row_but_its_children_are(con, given):
    given("environments", [env("E1")])
    given("releases", [
        release("ENT", release_type="enterprise"),
        release("C1", parent_release_id="ENT", go_live="2024-02-01 00:00Z"),
        release("C2", parent_release_id="ENT", go_live="2024-09-01 00:00Z"),
        release("X", status="cancelled"),
        release("N", release_type=None),
    ])
    given("environment_bookings", [
        rbooking("B1", "ENT"), rbooking("B2", "C1"), rbooking("B3", "C2"),
        rbooking("B4", "X"), rbooking("B5", "N")])
    assert sorted(matrix(con)["release_id"]) == ["C1", "N"]
    assert list(matrix(con, "environment_impact_release_totals")[
        "release_id"]) == ["C1", "N"]


def test_go_live_is_the_actual_release_else_the_planned_one_in_half_open_w(
        con, given):
    given("releases", [
        release("R1", go_live="2024-09-01 00:00Z",
                actual_release_at="2024-06-30 23:00Z"),  # live in W
        release("R2", go_live="2024-03-01 00:00Z",
                actual_release_at="2024-07-01 00:00Z"),  # live at W end
        release("R3", go_live="2024-01-01 00:00Z"),      # planned at W start
        release("R4", go_live=None),
    ])
    rows = matrix(con, "environment_impact_release_totals")
    assert pick(rows, "release_id", "go_live_at", "is_live") == [
        {"release_id": "R3", "go_live_at": ts("2024-01-01 00:00Z"),
         "is_live": False},
        {"release_id": "R1", "go_live_at": ts("2024-06-30 23:00Z"),
         "is_live": True}]


def test_impact_totals_count_environments_and_releases_once(con, given):
    given("environments", [env("E1", environment_group="G"),
                           env("E2", environment_group="G"),
                           env("E3")])
    given("releases", [release("R1"), release("R2")])
    given("environment_bookings", [
        rbooking("B1", "R1", "E1"), rbooking("B2", "R1", "E1"),
        rbooking("B3", "R1", "E2", "pending"), rbooking("B4", "R1", "E3"),
        rbooking("B5", "R2", "E1", "pending"),
    ])
    assert pick(matrix(con, "environment_impact_release_totals"),
                "release_id", "total_impacted", "total_impacted_groups",
                "n_bookings") == [
        {"release_id": "R1", "total_impacted": 3,
         "total_impacted_groups": 2, "n_bookings": 4},
        {"release_id": "R2", "total_impacted": 1,
         "total_impacted_groups": 1, "n_bookings": 1}]
    assert pick(matrix(con, "environment_impact_environment_totals"),
                "environment_id", "total_releases", "n_approved_releases",
                "n_pending_releases") == [
        {"environment_id": "E1", "total_releases": 2,
         "n_approved_releases": 1, "n_pending_releases": 1},
        {"environment_id": "E2", "total_releases": 1,
         "n_approved_releases": 0, "n_pending_releases": 1},
        {"environment_id": "E3", "total_releases": 1,
         "n_approved_releases": 1, "n_pending_releases": 0}]


def test_impact_by_group_takes_the_first_present_status_over_the_group(
        con, given):
    given("environments", [env("E1", environment_group="G"),
                           env("E2", environment_group="G"),
                           env("E3")])
    given("releases", [release("R1"), release("R2")])
    given("environment_bookings", [
        rbooking("B1", "R1", "E1", "pending"),
        rbooking("B2", "R1", "E2", "approved"),
        rbooking("B3", "R1", "E3", "rejected"),
        rbooking("B4", "R2", "E2", "rejected"),
    ])
    assert records(matrix(con, "environment_impact_matrix_by_group"),
                "release_id", "environment_group", "cell_status",
                "n_bookings", "n_environments") == [
        {"release_id": "R1", "environment_group": "G",
         "cell_status": "approved", "n_bookings": 2, "n_environments": 2},
        {"release_id": "R1", "environment_group": None,
         "cell_status": "rejected", "n_bookings": 1, "n_environments": 1},
        {"release_id": "R2", "environment_group": "G",
         "cell_status": "rejected", "n_bookings": 1, "n_environments": 1}]
    assert records(matrix(con, "environment_impact_group_totals"),
                "environment_group", "n_environments", "total_releases",
                "n_rejected_releases") == [
        {"environment_group": "G", "n_environments": 2, "total_releases": 1,
         "n_rejected_releases": 1},
        {"environment_group": None, "n_environments": 1,
         "total_releases": 0, "n_rejected_releases": 1}]


def test_impact_filters_apply_to_release_rows_and_environment_columns(
        con, given):
    given("applications", [{"application_id": "A1", "name": "a1"},
                           {"application_id": "A2", "name": "a2"}])
    given("environments", [env("E1", tier="uat", application_id="A2"),
                           env("E2", tier="prod")])
    given("releases", [release("R1", application_id="A1"),
                       release("R2", application_id="A2")])
    given("environment_bookings", [
        rbooking("B1", "R1", "E1"), rbooking("B2", "R1", "E2"),
        rbooking("B3", "R2", "E1")])
    rows = matrix(con, application_ids=["A1"], tiers=["uat"])
    assert pick(rows, "release_id", "environment_id") == [
        {"release_id": "R1", "environment_id": "E1"}]
    assert list(matrix(con, "environment_impact_environment_totals",
                       tiers=["uat"])["environment_id"]) == ["E1"]


def test_impact_keeps_an_unknown_environment_unless_an_environment_filter_is_set(
        con, given):
    # the cells and the release totals read the window's releases once and
    # join the bookings to them: an environment missing from environments
    # stays (no tier or group to filter on) until a tier filter is set; an
    # invalid booking is no cell but counts in n_invalid
    given("environments", [env("E1", tier="uat")])
    given("releases", [release("R1"),
                       release("R2", go_live="2025-01-01 00:00Z")])
    given("environment_bookings", [
        rbooking("B1", "R1", "E1"), rbooking("B2", "R1", "E9", "pending"),
        rbooking("B3", "R1", "E1", start_at="2024-02-03 00:00Z",
                 end_at="2024-02-02 00:00Z"),  # invalid
        rbooking("B4", "R2", "E1")])  # R2 goes live after the window
    assert records(matrix(con), "release_id", "environment_id", "cell_status",
                   "tier") == [
        {"release_id": "R1", "environment_id": "E1", "cell_status": "approved",
         "tier": "uat"},
        {"release_id": "R1", "environment_id": "E9", "cell_status": "pending",
         "tier": None}]
    row = one(matrix(con, "environment_impact_release_totals"))
    assert (row["release_id"], row["total_impacted"],
            row["total_impacted_groups"], row["n_bookings"],
            row["n_invalid"]) == ("R1", 2, 1, 2, 1)  # one NULL group
    row = one(matrix(con, "environment_impact_release_totals", tiers=["uat"]))
    assert (row["total_impacted"], row["n_bookings"], row["n_invalid"]) == (
        1, 1, 1)
    assert pick(matrix(con, tiers=["uat"]), "environment_id") == [
        {"environment_id": "E1"}]


def test_impact_matrix_takes_the_same_parameters_as_its_totals():
    for name in ("environment_impact_release_totals",
                 "environment_impact_environment_totals",
                 "environment_impact_matrix_by_group",
                 "environment_impact_group_totals"):
        assert db.params(name) == db.params("environment_impact_matrix")
    # all of them but the page of releases: its totals are the whole matrix
    assert set(db.params(TOTALS)) == set(
        db.params("environment_impact_matrix")) - {"release_ids"}


@pytest.mark.parametrize("params", [
    {},
    {"reporting_tz": "America/New_York", "tiers": ["uat", "prod"]},
    {"environment_groups": ["Payments"]},
    {"portfolios": ["Digital Channels"]},
    {"start_date": "2000-01-01", "end_date": "2000-02-01"},  # no release
])
def test_the_totals_in_one_pass_are_the_three_queries_on_the_sample(
        sample_db, params):
    """On the sample's six months ahead: every release, environment and
    group row of the three totals queries, cut from the one query."""
    from datetime import date, timedelta
    start = date.today()
    window = {"start_date": start, "end_date": start + timedelta(days=182),
              **params}
    with db.reading(sample_db) as con:
        cut = groups.cut(TOTALS, db.run(con, TOTALS, **window))
        assert set(cut) == set(groups.GROUPS[TOTALS])
        for name, frame in cut.items():
            pd.testing.assert_frame_equal(frame, db.run(con, name, **window))
    if not params:  # the sample books environments ahead, so counts
        releases = cut["environment_impact_release_totals"]
        assert (releases["total_impacted"] > 0).sum() > 10
        assert cut["environment_impact_group_totals"]["total_releases"].sum() \
            > 0


@pytest.mark.parametrize("params", [
    {}, {"portfolios": ["Digital Channels"]}, {"tiers": ["uat", "sit"]},
    {"application_ids": ["APP-001", "APP-002"], "reporting_tz": "Asia/Tokyo"},
    {"start_date": "2000-01-01", "end_date": "2000-02-01"}])
def test_the_conflicts_summary_counts_the_pairs_booking_conflicts_lists(
        sample_db, tmp_path, params):
    """The Overview's Conflicts ahead lists its pairs with the card's count
    (n_conflict_pairs), not counted again: the same number as the pairs
    booking_conflicts gives, on the sample's 90 days ahead and filtered
    (unfiltered, with a pair of its own ahead: the sample's random
    bookings had none on 8 Dec 2026)."""
    import shutil
    from datetime import date, timedelta

    from tests.test_pages import a_conflict_ahead
    if not params:
        shutil.copyfile(sample_db, tmp_path / "cb.duckdb")
        sample_db = tmp_path / "cb.duckdb"
        with db.publish(sample_db) as con:
            a_conflict_ahead(con)
    window = {"start_date": date.today(),
              "end_date": date.today() + timedelta(days=90), **params}
    with db.reading(sample_db) as con:
        pairs = db.run(con, "booking_conflicts", **window)
        summary = one(db.run(con, "booking_conflicts_summary", **window))
    assert summary["n_conflict_pairs"] == len(pairs)
    if not params:
        assert len(pairs) > 0


# --- environment_impact_by_week -----------------------------------------------

def by_week(con, **params):
    rows = db.run(con, "environment_impact_by_week",
                  **{"start_date": "2024-06-01", "end_date": "2024-06-17",
                     **params})
    return rows


def test_by_week_counts_approved_and_only_pending_releases_per_iso_week(
        con, given):
    given("environments", [env()])
    given("environment_bookings", [
        rbooking("B1", "R1", start_at="2024-06-03 00:00Z",
                 end_at="2024-06-05 00:00Z"),
        rbooking("B2", "R2", start_at="2024-06-04 00:00Z",
                 end_at="2024-06-06 00:00Z"),
        rbooking("B3", "R3", "E1", "pending", "2024-06-04 00:00Z",
                 "2024-06-11 00:00Z"),
        rbooking("B4", "R1", "E1", "pending", "2024-06-04 00:00Z",
                 "2024-06-11 00:00Z"),
        rbooking("B5", "R4", start_at="2024-06-06 00:00Z",
                 end_at="2024-06-06 01:00Z"),
        rbooking("B6", "R5", "E1", "rejected", "2024-06-04 00:00Z",
                 "2024-06-05 00:00Z"),
        # ends as the week starts: not in W24
        rbooking("B7", "R6", start_at="2024-06-09 00:00Z",
                 end_at="2024-06-10 00:00Z"),
    ])
    assert pick(by_week(con), "week_label", "is_complete", "n_releases",
                "n_pending_releases", "booked_hours", "n_bookings",
                "n_excluded") == [
        {"week_label": "2024-W22", "is_complete": False, "n_releases": 0,
         "n_pending_releases": 0, "booked_hours": 0.0, "n_bookings": 0,
         "n_excluded": 0},
        # union of approved: Jun 3-6 (72 h) + 1 h + Jun 9 (24 h)
        {"week_label": "2024-W23", "is_complete": True, "n_releases": 4,
         "n_pending_releases": 1, "booked_hours": 97.0, "n_bookings": 6,
         "n_excluded": 1},
        {"week_label": "2024-W24", "is_complete": True, "n_releases": 0,
         "n_pending_releases": 2, "booked_hours": 0.0, "n_bookings": 2,
         "n_excluded": 0}]


def test_by_week_weeks_are_local_to_the_reporting_timezone(con, given):
    given("environments", [env()])
    # Sunday 23:00 UTC is Monday 01:00 in Berlin (summer time)
    given("environment_bookings", [
        rbooking("B1", "R1", start_at="2024-06-09 23:00Z",
                 end_at="2024-06-10 01:00Z")])
    utc = by_week(con)
    berlin = by_week(con, reporting_tz="Europe/Berlin")
    assert list(utc["booked_hours"]) == [0.0, 1.0, 1.0]
    assert list(berlin["booked_hours"]) == [0.0, 0.0, 2.0]


# --- environment_utilization_by_group -----------------------------------------

def test_utilization_by_group_is_a_ratio_of_sums_per_group(con, given):
    given("environments", [
        env("E1", environment_group="G"), env("E2", environment_group="G"),
        env("E3")])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-04 00:00Z", env_id="E1"),
        booking("B2", "2024-06-03 00:00Z", "2024-06-03 12:00Z",
                "pending", env_id="E2"),
        booking("B3", "2024-06-03 00:00Z", "2024-06-10 00:00Z", env_id="E3"),
    ])
    rows = db.run(con, "environment_utilization_by_group", **WEEK)
    assert records(rows, "environment_group", "n_environments",
                "available_hours", "booked_hours", "demand_hours",
                "n_idle", "n") == [
        {"environment_group": "G", "n_environments": 2,
         "available_hours": 336.0, "booked_hours": 24.0,
         "demand_hours": 36.0, "n_idle": 1, "n": 2},
        {"environment_group": None, "n_environments": 1,
         "available_hours": 168.0, "booked_hours": 168.0,
         "demand_hours": 168.0, "n_idle": 0, "n": 1}]
    assert rows["utilization"].tolist() == pytest.approx([24 / 336, 1.0])
    assert db.params("environment_utilization_by_group") == db.params(
        "environment_utilization_summary")


def test_utilization_by_group_sums_to_the_summary(con, given):
    given("environments", [
        env("E1", environment_group="G"), env("E2", environment_group="H")])
    given("environment_bookings", [
        booking("B1", "2024-06-03 00:00Z", "2024-06-05 00:00Z", env_id="E1"),
        booking("B2", "2024-06-03 00:00Z", "2024-06-04 00:00Z", env_id="E2"),
    ])
    rows = db.run(con, "environment_utilization_by_group", **WEEK)
    total = one(summary(con))
    assert rows["booked_hours"].sum() == total["booked_hours"]
    assert rows["n"].sum() == total["n"]


@pytest.mark.parametrize("name", [
    "environment_impact_matrix", "environment_impact_release_totals",
    "environment_impact_environment_totals",
    "environment_impact_matrix_by_group", "environment_impact_group_totals",
    "environment_impact_by_week", "environment_utilization_by_group",
])
def test_new_environment_queries_run_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name, start_date="2025-01-01",
                      end_date="2025-07-01")
    assert list(rows.columns)


def test_each_environment_says_whether_it_is_idle_or_over_booked(con, given):
    given("environments", [
        {"environment_id": e, "name": e, "tier": "uat", "capacity": 1}
        for e in ("IDLE", "BUSY", "OVER")])
    given("environment_bookings", [
        {"booking_id": "B1", "environment_id": "BUSY", "status": "approved",
         "start_at": "2026-01-05 00:00Z", "end_at": "2026-01-06 00:00Z"},
        {"booking_id": "B2", "environment_id": "OVER", "status": "approved",
         "start_at": "2026-01-01 00:00Z", "end_at": "2026-02-01 00:00Z"},
        {"booking_id": "B3", "environment_id": "OVER", "status": "pending",
         "start_at": "2026-01-10 00:00Z", "end_at": "2026-01-12 00:00Z"},
    ])
    rows = db.run(con, "environment_utilization", start_date="2026-01-01",
                  end_date="2026-02-01").set_index("environment_id")
    assert rows["is_idle"].to_dict() == {"BUSY": False, "IDLE": True,
                                         "OVER": False}
    assert rows["is_overbooked"].to_dict() == {"BUSY": False, "IDLE": False,
                                               "OVER": True}
    summary = db.run(con, "environment_utilization_summary",
                     start_date="2026-01-01", end_date="2026-02-01").iloc[0]
    assert (summary["n_idle"], summary["n_overbooked"]) == (1, 1)


def test_a_capacity_booked_exactly_full_is_not_over_booked(con, given):
    """Demand and capacity compared in whole microseconds: with a blackout
    of a millisecond, the day's available time is 86,399.999 s and three
    bookings filling it give exactly capacity x available, which the
    seconds as floats put a rounding above it (259,199.997 against
    259,199.99699999997)."""
    given("environments", [env("FULL", capacity=3), env("OVER", capacity=3)])
    given("blackout_windows", [
        {"window_id": f"W-{e}", "kind": "blackout", "environment_id": e,
         "start_at": "2024-06-03 00:00:00Z",
         "end_at": "2024-06-03 00:00:00.001Z"} for e in ("FULL", "OVER")])
    given("environment_bookings", [
        booking(f"{e}{i}", "2024-06-03 00:00Z", "2024-06-04 00:00Z",
                env_id=e) for e in ("FULL", "OVER") for i in range(3)]
        + [booking("OVER3", "2024-06-03 12:00:00Z", "2024-06-03 12:00:01Z",
                   env_id="OVER")])
    rows = util(con, **DAY).set_index("environment_id")
    assert rows.loc["FULL", "available_hours"] == pytest.approx(
        86_399.999 / 3600)
    assert rows.loc["FULL", "demand_ratio"] == pytest.approx(1)
    assert rows["is_overbooked"].to_dict() == {"FULL": False, "OVER": True}
    assert one(summary(con, **DAY))["n_overbooked"] == 1


# Atlantic/Azores leaves summer time (UTC+0) for winter time (UTC-1) at
# 2024-10-27 01:00Z: its clocks go from 01:00 back to 00:00, so local
# midnight of 27 October happens twice. That date starts at its first
# midnight, 00:00Z, and lasts 25 h; 26 October is an ordinary 24 h day.
AZORES = {"reporting_tz": "Atlantic/Azores", "as_of": "2025-01-01 00:00Z"}
OCT_26 = {"start_date": "2024-10-26", "end_date": "2024-10-27", **AZORES}
OCT_27 = {"start_date": "2024-10-27", "end_date": "2024-10-28", **AZORES}


@pytest.fixture
def first_hour_of_oct_27(con, given):
    # 00:00Z-00:30Z is 27 October 00:00-00:30 in the Azores (first pass)
    given("environments", [env()])
    given("environment_bookings", [
        booking("B1", "2024-10-27 00:00Z", "2024-10-27 00:30Z"),
        booking("B2", "2024-10-27 00:10Z", "2024-10-27 00:20Z")])
    local = con.execute(
        "select cast(timezone($tz, timestamptz '2024-10-27 00:15Z') as date)",
        {"tz": "Atlantic/Azores"}).fetchone()[0]
    assert str(local) == "2024-10-27"
    return con


def test_a_day_whose_midnight_happens_twice_starts_at_its_first(
        first_hour_of_oct_27):
    con = first_hour_of_oct_27
    day = one(db.run(con, "environment_utilization", **OCT_27))
    assert day["available_hours"] == 25.0
    assert (day["booked_hours"], day["n"]) == (0.5, 2)
    before = one(db.run(con, "environment_utilization", **OCT_26))
    assert before["available_hours"] == 24.0
    assert (before["booked_hours"], before["n"]) == (0.0, 0)
    pairs = db.run(con, "booking_conflicts", **OCT_27)
    assert list(zip(pairs["booking_id_a"], pairs["booking_id_b"],
                    strict=True)) == [("B1", "B2")]
    assert db.run(con, "booking_conflicts", **OCT_26).empty
