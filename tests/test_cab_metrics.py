"""CAB evidence (docs/metrics.md): cab_agenda(_summary), change_collisions,
change_window_hits, similar_change_history and cab_booking_hits, given rows."""
import pandas as pd
import pytest

from changeboard import db

# a weekly CAB meeting on Thursday 10:00 UTC: its review window runs to the next
MEETING = {"window_start_at": "2026-01-15 10:00Z",
           "window_end_at": "2026-01-22 10:00Z"}


def change(change_id, start="2026-01-16 20:00Z", end="2026-01-16 22:00Z",
           **columns):
    return {"change_id": change_id, "change_type": "normal",
            "state": "authorize", "is_cab_required": True,
            "approval": "requested", "created_at": "2026-01-01 09:00Z",
            "planned_start_at": start, "planned_end_at": end, **columns}


def history(change_id, close_code="successful", end="2025-12-01 10:00Z",
            **columns):
    return {"change_id": change_id, "change_type": "normal",
            "state": "closed", "close_code": close_code,
            "application_id": "A1", "assignment_group": "Ops",
            "created_at": "2025-01-01 00:00Z", "actual_end_at": end,
            **columns}


def run(con, name, **params):
    return db.run(con, name, **{**MEETING, **params})


def ids(frame, column="change_id") -> list[str]:
    return list(frame[column])


def one(frame) -> dict:
    assert len(frame) == 1, frame
    return frame.iloc[0].to_dict()


def records(frame, *columns) -> list[dict]:
    return [{k: None if pd.isna(v) else v for k, v in row.items()}
            for row in frame[list(columns)].to_dict("records")]


def ts(text):
    return pd.Timestamp(text)


# --- cab_agenda ----------------------------------------------------------------

def test_agenda_holds_open_cab_required_changes_awaiting_approval(con, given):
    given("changes", [
        change("C01"),
        change("C02", change_type="emergency", approval="not_yet_requested"),
        change("C03", change_type="standard"),
        change("C04", is_cab_required=False),
        change("C05", approval="approved"),
        change("C06", approval="rejected"),
        change("C07", approval="not_required"),
        change("C08", state="closed"),
        change("C09", state="cancelled"),
        change("C10", state="new", cab_date="2026-03-01"),  # any cab_date
    ])
    rows = run(con, "cab_agenda")
    assert ids(rows) == ["C01", "C02", "C10"]
    assert (rows["n"].tolist(), rows["n_excluded"].tolist()) == (
        [3] * 3, [7] * 3)


def test_null_cab_required_is_off_the_agenda_and_unclassified(con, given):
    given("changes", [change("C1"), change("C2", is_cab_required=None),
                      change("C3", approval=None),
                      change("C4", is_cab_required=None, state="closed")])
    rows = run(con, "cab_agenda")
    assert ids(rows) == ["C1"]
    assert one(rows)["n_unclassified"] == 2
    assert one(run(con, "cab_agenda_summary"))["n_unclassified"] == 2


def test_empty_agenda_still_reports_its_counts(con, given):
    given("changes", [change("C1", is_cab_required=None),
                      change("C2", start=None, end=None)])
    assert run(con, "cab_agenda").empty
    row = one(run(con, "cab_agenda_summary"))
    assert (row["n"], row["n_unclassified"], row["n_unplanned"]) == (0, 1, 1)


def test_agenda_is_sorted_by_risk_then_planned_start_then_id(con, given):
    given("changes", [
        change("C1", risk="low"),
        change("C2", risk=None),
        change("C3", risk="very_high", start="2026-01-17 00:00Z",
               end="2026-01-17 01:00Z"),
        change("C4", risk="very_high"),
        change("C5", risk="high"),
        change("C0", risk="high"),
        change("C6", risk="moderate"),
    ])
    rows = run(con, "cab_agenda")
    assert ids(rows) == ["C4", "C3", "C0", "C5", "C6", "C1", "C2"]
    assert rows["agenda_rank"].tolist() == list(range(1, 8))


def test_agenda_window_is_half_open_in_instants(con, given):
    given("changes", [
        change("C1", start="2026-01-15 08:00Z", end="2026-01-15 10:00Z"),
        change("C2", start="2026-01-15 08:00Z", end="2026-01-15 10:01Z"),
        change("C3", start="2026-01-22 10:00Z", end="2026-01-22 11:00Z"),
        change("C4", start="2026-01-22 09:59Z", end="2026-01-22 11:00Z"),
        # an empty plan meets the window when its instant is in it
        change("C5", start="2026-01-15 10:00Z", end="2026-01-15 10:00Z"),
        change("C6", start="2026-01-22 10:00Z", end="2026-01-22 10:00Z"),
    ])
    assert ids(run(con, "cab_agenda")) == ["C2", "C5", "C4"]


def test_window_without_offset_is_read_in_the_reporting_timezone(con, given):
    # 10:00 in Berlin is 09:00 UTC in winter
    given("changes", [
        change("C1", start="2026-01-15 09:30Z", end="2026-01-15 09:45Z")])
    local = {"window_start_at": "2026-01-15 10:00",
             "window_end_at": "2026-01-22 10:00"}
    assert ids(run(con, "cab_agenda", **local)) == []
    assert ids(run(con, "cab_agenda", **local,
                   reporting_tz="Europe/Berlin")) == ["C1"]
    by_date = {"window_start_at": "2026-01-15", "window_end_at": "2026-01-16"}
    assert ids(run(con, "cab_agenda", **by_date)) == ["C1"]


def test_agenda_change_without_a_plan_is_counted_unplanned(con, given):
    given("changes", [change("C1", start=None, end=None),
                      change("C2", end="2026-01-16 19:00Z"),  # ends first
                      change("C3", end=None),
                      change("C4", start=None, end=None,
                             change_type="standard")])
    row = one(run(con, "cab_agenda_summary"))
    assert (row["n"], row["n_unplanned"], row["n_unclassified"]) == (0, 3, 0)


def test_agenda_filters_use_the_change_filters(con, given):
    given("changes", [change("C1", assignment_group="Ops"),
                      change("C2", assignment_group="Dev")])
    assert ids(run(con, "cab_agenda", teams=["Dev"])) == ["C2"]


def test_agenda_rows_carry_collision_and_window_hit_counts(con, given):
    given("changes", [change("C1", application_id="A1"),
                      change("C2", application_id="A1", ci_name="db",
                             approval="approved"),
                      change("C3", ci_name="db")])
    given("blackout_windows", [
        {"window_id": "F1", "kind": "freeze", "start_at": "2026-01-16 21:00Z",
         "end_at": "2026-01-17 00:00Z"}])
    rows = run(con, "cab_agenda")
    assert records(rows, "change_id", "n_collisions", "n_freeze_hits",
                   "is_outside_maintenance") == [
        {"change_id": "C1", "n_collisions": 1, "n_freeze_hits": 1,
         "is_outside_maintenance": False},
        {"change_id": "C3", "n_collisions": 1, "n_freeze_hits": 1,
         "is_outside_maintenance": False}]


# --- change_collisions ---------------------------------------------------------

def test_collisions_pair_overlapping_plans_that_share_a_key(con, given):
    given("changes", [
        change("C1", application_id="A1", environment_id="P1", ci_name="db"),
        change("C2", application_id="A1", environment_id="P1",
               start="2026-01-16 21:00Z", end="2026-01-17 02:00Z"),
        change("C3", ci_name="db", start="2026-01-16 21:30Z",
               end="2026-01-16 21:45Z"),
        change("C4", application_id="A2", environment_id="P2",
               ci_name="web"),                              # no shared key
        change("C5", application_id="A1",
               start="2026-01-16 22:00Z", end="2026-01-16 23:00Z"),
    ])
    rows = run(con, "change_collisions")
    assert records(rows, "change_id_a", "change_id_b", "match_on",
                   "overlap_start_at", "overlap_end_at",
                   "overlap_hours") == [
        {"change_id_a": "C1", "change_id_b": "C2", "match_on": "application",
         "overlap_start_at": ts("2026-01-16 21:00Z"),
         "overlap_end_at": ts("2026-01-16 22:00Z"), "overlap_hours": 1.0},
        {"change_id_a": "C1", "change_id_b": "C2", "match_on": "environment",
         "overlap_start_at": ts("2026-01-16 21:00Z"),
         "overlap_end_at": ts("2026-01-16 22:00Z"), "overlap_hours": 1.0},
        {"change_id_a": "C1", "change_id_b": "C3", "match_on": "ci",
         "overlap_start_at": ts("2026-01-16 21:30Z"),
         "overlap_end_at": ts("2026-01-16 21:45Z"), "overlap_hours": 0.25},
        # C1 ends as C5 starts: back-to-back is no collision
        {"change_id_a": "C2", "change_id_b": "C5", "match_on": "application",
         "overlap_start_at": ts("2026-01-16 22:00Z"),
         "overlap_end_at": ts("2026-01-16 23:00Z"), "overlap_hours": 1.0}]
    assert set(rows["n"]) == {5}


def test_collisions_ignore_closed_cancelled_rejected_and_unplanned(con, given):
    given("changes", [
        change("C1", application_id="A1"),
        change("C2", application_id="A1", state="closed"),
        change("C3", application_id="A1", state="cancelled"),
        change("C4", application_id="A1", approval="rejected"),
        change("C5", application_id="A1", start=None, end=None),
        # standard, approved and NULL-approval changes collide too
        change("C6", application_id="A1", change_type="standard",
               approval=None, is_cab_required=None),
    ])
    rows = run(con, "change_collisions")
    assert list(zip(rows["change_id_a"], rows["change_id_b"],
                    strict=True)) == [("C1", "C6")]
    assert (rows.loc[0, "n"], rows.loc[0, "n_unclassified"]) == (2, 1)


def test_a_filter_keeps_the_collisions_of_the_changes_it_shows(con, given):
    """A pack narrowed to one team hid its changes' collisions with other
    teams' changes on the same CI: the flag a CAB relies on ('CI already
    scheduled') went with the filter."""
    given("changes", [change("C1", ci_name="pay-db", assignment_group="Ops"),
                      change("C9", ci_name="pay-db", assignment_group="DBA",
                             approval="approved"),
                      change("C5", ci_name="web", assignment_group="DBA"),
                      change("C6", ci_name="web", assignment_group="DBA")])
    every = run(con, "change_collisions")
    ops = run(con, "change_collisions", teams=["Ops"])
    def pairs(found):
        return sorted(zip(found["change_id_a"], found["change_id_b"],
                          strict=True))
    assert pairs(every) == [("C1", "C9"), ("C5", "C6")]
    assert pairs(ops) == [("C1", "C9")]
    agenda = run(con, "cab_agenda", teams=["Ops"])
    assert records(agenda, "change_id", "n_collisions") == [
        {"change_id": "C1", "n_collisions": 1}]


def test_a_change_in_the_window_collides_with_one_planned_outside_it(
        con, given):
    """Both changes of a pair had to be planned in the window: an agenda
    change from 09:45 read "No collision" beside an approved change until
    10:00 on its environment, the meeting's window starting at 10:00 (and a
    calendar week's last change with one of the next week's). A change
    planned in the window collides with every open change its plan
    overlaps, wherever that one lies; two changes outside it are not
    listed."""
    given("changes", [
        # before the window, overlapping C2's first 15 minutes
        change("C1", application_id="A1", environment_id="E1",
               start="2026-01-15 02:45Z", end="2026-01-15 10:00Z",
               approval="approved", title="Patch before"),
        change("C2", application_id="A1", start="2026-01-15 09:45Z",
               end="2026-01-15 12:45Z", title="On the agenda"),
        # after the window, overlapping C3's last hour
        change("C3", environment_id="E1", start="2026-01-22 09:00Z",
               end="2026-01-22 11:00Z"),
        change("C4", environment_id="E1", start="2026-01-22 10:00Z",
               end="2026-01-22 12:00Z", title="Next week"),
        # both outside the window: never listed
        change("C5", ci_name="db", start="2026-01-23 09:00Z",
               end="2026-01-23 12:00Z"),
        change("C6", ci_name="db", start="2026-01-23 11:00Z",
               end="2026-01-23 13:00Z"),
    ])
    found = run(con, "change_collisions")
    assert records(found, "change_id_a", "change_id_b", "match_on",
                   "title_a", "title_b", "overlap_start_at",
                   "overlap_end_at", "overlap_hours", "n") == [
        {"change_id_a": "C1", "change_id_b": "C2", "match_on": "application",
         "title_a": "Patch before", "title_b": "On the agenda",
         "overlap_start_at": pd.Timestamp("2026-01-15 09:45Z"),
         "overlap_end_at": pd.Timestamp("2026-01-15 10:00Z"),
         "overlap_hours": 0.25, "n": 2},
        {"change_id_a": "C3", "change_id_b": "C4", "match_on": "environment",
         "title_a": None, "title_b": "Next week",
         "overlap_start_at": pd.Timestamp("2026-01-22 10:00Z"),
         "overlap_end_at": pd.Timestamp("2026-01-22 11:00Z"),
         "overlap_hours": 1.0, "n": 2}]
    agenda = run(con, "cab_agenda")
    assert records(agenda, "change_id", "n_collisions") == [
        {"change_id": "C2", "n_collisions": 1},
        {"change_id": "C3", "n_collisions": 1}]
    # a filter keeps the pairs of the changes planned in the window it keeps
    assert ids(run(con, "change_collisions", change_types=["normal"]),
               "change_id_b") == ["C2", "C4"]
    assert run(con, "change_collisions", teams=["nobody"]).empty


@pytest.mark.parametrize("far_start", [False, True])
def test_long_plans_collide_once_whatever_their_dates(con, given, far_start):
    """Pairs are found per time bucket of their plans (a day, longer when
    the starts span more than 1024 days): a plan of months, one that starts
    before the others, one that never ends; each pair once. far_start adds
    a change starting in the year 9000, which makes the buckets years long."""
    given("changes", [
        change("L1", application_id="A1", start="2025-12-01 00:00Z",
               end="2026-03-01 00:00Z"),
        change("L2", application_id="A1", start="2026-01-20 08:00Z",
               end="2026-01-20 09:00Z"),
        change("L3", application_id="A1", start="2025-11-15 00:00Z",
               end="2026-01-16 00:00Z"),
        change("FAR", application_id="A1", start="2026-01-21 00:00Z",
               end="9999-12-31 00:00Z"),
        *([change("X9", application_id="A1", start="9000-01-01 00:00Z",
                  end="9000-01-02 00:00Z")] if far_start else []),
    ])
    rows = run(con, "change_collisions")
    assert records(rows, "change_id_a", "change_id_b", "overlap_start_at",
                   "overlap_end_at") == [
        {"change_id_a": "L1", "change_id_b": "L3",
         "overlap_start_at": ts("2025-12-01 00:00Z"),
         "overlap_end_at": ts("2026-01-16 00:00Z")},
        {"change_id_a": "L1", "change_id_b": "L2",
         "overlap_start_at": ts("2026-01-20 08:00Z"),
         "overlap_end_at": ts("2026-01-20 09:00Z")},
        {"change_id_a": "FAR", "change_id_b": "L1",
         "overlap_start_at": ts("2026-01-21 00:00Z"),
         "overlap_end_at": ts("2026-03-01 00:00Z")},
        # the never-ending plan meets the far one, planned outside the window
        *([{"change_id_a": "FAR", "change_id_b": "X9",
            "overlap_start_at": ts("9000-01-01 00:00Z"),
            "overlap_end_at": ts("9000-01-02 00:00Z")}] if far_start else [])]
    agenda = run(con, "cab_agenda")
    assert records(agenda, "change_id", "n_collisions") == [
        {"change_id": "L3", "n_collisions": 1},
        {"change_id": "L1", "n_collisions": 3},
        {"change_id": "L2", "n_collisions": 1},
        {"change_id": "FAR", "n_collisions": 2 if far_start else 1}]


# --- change_window_hits --------------------------------------------------------

def blackout(window_id, kind="freeze", start="2026-01-16 00:00Z",
             end="2026-01-17 00:00Z", **columns):
    return {"window_id": window_id, "name": window_id.lower(), "kind": kind,
            "start_at": start, "end_at": end, **columns}


def test_window_hits_are_applicable_freezes_and_blackouts_meeting_the_plan(
        con, given):
    given("changes", [change("C1", application_id="A1", environment_id="P1"),
                      change("C2")])
    given("blackout_windows", [
        blackout("W1"),                                        # all
        blackout("W2", "blackout", application_id="A1",
                 start="2026-01-16 21:00Z", end="2026-01-16 23:00Z"),
        blackout("W3", application_id="A2"),                   # other app
        blackout("W4", environment_id="P2"),                   # other env
        blackout("W5", start="2026-01-16 22:00Z",              # back-to-back
                 end="2026-01-17 00:00Z"),
        blackout("W6", "blackout", environment_id="P1",
                 start="2026-01-16 19:00Z", end="2026-01-16 20:30Z"),
    ])
    rows = run(con, "change_window_hits")
    assert records(rows, "change_id", "window_id", "kind", "overlap_start_at",
                   "overlap_hours") == [
        {"change_id": "C1", "window_id": "W6", "kind": "blackout",
         "overlap_start_at": ts("2026-01-16 20:00Z"), "overlap_hours": 0.5},
        {"change_id": "C1", "window_id": "W2", "kind": "blackout",
         "overlap_start_at": ts("2026-01-16 21:00Z"), "overlap_hours": 1.0},
        {"change_id": "C1", "window_id": "W1", "kind": "freeze",
         "overlap_start_at": ts("2026-01-16 20:00Z"), "overlap_hours": 2.0},
        {"change_id": "C2", "window_id": "W1", "kind": "freeze",
         "overlap_start_at": ts("2026-01-16 20:00Z"), "overlap_hours": 2.0}]


def test_outside_maintenance_when_windows_apply_but_none_contains_the_plan(
        con, given):
    given("changes", [
        change("C1", application_id="A1"),                   # inside M1
        change("C2", application_id="A1", end="2026-01-17 01:00Z"),  # spills
        change("C3", application_id="A2"),                   # none apply
        change("C4", application_id="A1", start="2026-01-16 23:00Z",
               end="2026-01-17 01:00Z"),  # covered only by M1 and M2 together
    ])
    given("blackout_windows", [
        blackout("M1", "maintenance", application_id="A1",
                 start="2026-01-16 18:00Z", end="2026-01-17 00:00Z"),
        blackout("M2", "maintenance", application_id="A1",
                 start="2026-01-17 00:00Z", end="2026-01-17 02:00Z"),
    ])
    rows = run(con, "change_window_hits")
    assert records(rows, "change_id", "window_id", "kind",
                   "overlap_hours") == [
        {"change_id": "C2", "window_id": None, "kind": "outside_maintenance",
         "overlap_hours": None},
        {"change_id": "C4", "window_id": None, "kind": "outside_maintenance",
         "overlap_hours": None}]



def test_outside_maintenance_only_where_a_maintenance_window_is_defined(
        con, given):
    """A maintenance window of one environment says nothing about changes to
    other environments, or to none: only that environment's changes planned
    outside it are flagged (issue 11: the flag was on every agenda item)."""
    given("changes", [
        change("C1", environment_id="P1"),                     # outside M1
        change("C2", environment_id="P2"),                     # no window
        change("C3"),                                          # no environment
        change("C4", environment_id="P1", start="2026-01-18 02:00Z",
               end="2026-01-18 03:00Z"),                       # inside M1
    ])
    given("blackout_windows", [
        blackout("M1", "maintenance", environment_id="P1",
                 start="2026-01-18 02:00Z", end="2026-01-18 06:00Z")])
    assert records(run(con, "change_window_hits"), "change_id", "kind") == [
        {"change_id": "C1", "kind": "outside_maintenance"}]
    assert records(run(con, "cab_agenda"), "change_id",
                   "is_outside_maintenance") == [
        {"change_id": "C1", "is_outside_maintenance": True},
        {"change_id": "C2", "is_outside_maintenance": False},
        {"change_id": "C3", "is_outside_maintenance": False},
        {"change_id": "C4", "is_outside_maintenance": False}]


def test_sample_flags_outside_maintenance_only_where_windows_are_defined(
        sample_db):
    """The sample defines maintenance windows for some production
    environments only: the flag is on some agenda items, never all."""
    with db.connect(sample_db, read_only=True) as con:
        assert con.execute(
            "select count(*) from blackout_windows where kind = 'maintenance'"
            " and environment_id is null and application_id is null"
        ).fetchone()[0] == 0
        latest = con.execute(
            "select max(planned_start_at) from changes").fetchone()[0]
        end = pd.Timestamp(latest) + pd.Timedelta(days=1)
        agenda = db.run(con, "cab_agenda", window_start_at=str(
            end - pd.Timedelta(days=90)), window_end_at=str(end))
        maintained = {e for (e,) in con.execute(
            "select distinct environment_id from blackout_windows "
            "where kind = 'maintenance'").fetchall()}
    flagged = agenda[agenda["is_outside_maintenance"]]
    assert len(agenda) and len(flagged) < len(agenda)
    assert set(flagged["environment_id"]) <= maintained

# --- similar_change_history -----------------------------------------------------

def cohorts(con, **params):
    rows = db.run(con, "similar_change_history",
                  **{"change_ids": ["T"], **params})
    return {row["cohort"]: row for row in rows.to_dict("records")}


def target(**columns):
    return change("T", application_id="A1", assignment_group="Ops",
                  cab_date="2026-01-15", **columns)


def test_similar_history_cohorts_by_application_and_type_and_by_team(
        con, given):
    given("changes", [
        target(),
        history("H1"),
        history("H2", "unsuccessful", end="2025-12-05 10:00Z"),
        history("H3", change_type="emergency"),        # team cohort only
        history("H4", application_id="A2", assignment_group="Dev"),  # neither
        history("H5", "backed_out", end="2025-12-10 10:00Z",
                assignment_group="Dev"),                # app cohort only
    ])
    found = cohorts(con)
    app, team = found["application_change_type"], found["assignment_group"]
    assert (app["n"], app["n_failed"], app["success_rate"]) == (
        3, 2, pytest.approx(1 / 3))
    assert app["last_failure_at"] == ts("2025-12-10 10:00Z")
    assert (team["n"], team["n_failed"], team["success_rate"]) == (
        3, 1, pytest.approx(2 / 3))
    assert team["last_failure_at"] == ts("2025-12-05 10:00Z")


def test_similar_history_reads_the_lookback_before_cab_date_midnight(
        con, given):
    # as_of = 2026-01-15 00:00 UTC; lookback 365 days from 2025-01-15 00:00
    given("changes", [
        target(),
        history("H1", end="2025-01-15 00:00Z"),                 # in
        history("H2", end="2025-01-14 23:59Z"),                 # too old
        history("H3", end="2026-01-14 23:59Z"),                 # in
        history("H4", end="2026-01-15 00:00Z"),                 # at as_of
        history("H5", end=None, closed_at="2025-06-01 00:00Z"),  # closed_at
    ])
    app = cohorts(con)["application_change_type"]
    assert app["as_of"] == ts("2026-01-15 00:00Z")
    assert app["n"] == 3
    assert cohorts(con, lookback_days=30)["application_change_type"]["n"] == 1
    berlin = cohorts(con, reporting_tz="Europe/Berlin")
    assert berlin["application_change_type"]["as_of"] == ts(
        "2026-01-14 23:00Z")


def test_similar_history_counts_only_signals_known_at_as_of(con, given):
    given("changes", [target(), history("H1"), history("H2"),
                      history("H3"), history("H4")])
    given("incidents", [
        {"incident_id": "I1", "opened_at": "2026-01-10 00:00Z",
         "caused_by_change_id": "H1"},
        {"incident_id": "I2", "opened_at": "2026-01-15 00:00Z",
         "caused_by_change_id": "H2"},                 # opened at as_of
    ])
    given("deployments", [
        {"deployment_id": "D1", "application_id": "A1", "change_id": "H3",
         "status": "rolled_back", "started_at": "2025-12-01 09:00Z",
         "finished_at": "2025-12-01 10:00Z"},
        {"deployment_id": "D2", "application_id": "A1", "change_id": "H4",
         "status": "succeeded", "is_rollback": True,
         "started_at": "2026-01-16 09:00Z",
         "finished_at": "2026-01-16 10:00Z"},          # after as_of
    ])
    app = cohorts(con)["application_change_type"]
    assert (app["n"], app["n_failed"], app["n_failed_by_incident"],
            app["n_failed_by_rollback"]) == (4, 2, 1, 1)
    later = cohorts(con, as_of="2026-02-01 00:00Z")["application_change_type"]
    assert later["n_failed"] == 4


def test_similar_history_excludes_the_target_and_counts_the_rest(con, given):
    given("changes", [
        target(close_code="unsuccessful", actual_end_at="2025-12-01 00:00Z"),
        history("H1", "cancelled", state="cancelled"),
        history("H2", None, state="review"),
        history("H3", None, state="review", end=None,
                closed_at="2025-12-01 00:00Z"),   # no actual end: outside
    ])
    app = cohorts(con)["application_change_type"]
    assert (app["n"], app["n_excluded"], app["n_unclassified"]) == (0, 1, 1)
    assert app["success_rate"] is None or pd.isna(app["success_rate"])


def test_similar_history_null_key_gives_null_counts(con, given):
    given("changes", [change("T", cab_date="2026-01-15"), history("H1")])
    found = cohorts(con)
    for cohort in ("application_change_type", "assignment_group"):
        assert pd.isna(found[cohort]["n"]), cohort


def test_similar_history_takes_the_agenda_when_no_ids_are_given(con, given):
    given("changes", [
        change("C1", application_id="A1", risk="low"),
        change("C2", application_id="A1", risk="high"),
        history("H1"),
    ])
    rows = db.run(con, "similar_change_history", **MEETING,
                  as_of="2026-01-15 00:00Z")
    assert records(rows, "agenda_rank", "change_id", "cohort", "n") == [
        {"agenda_rank": 1, "change_id": "C2",
         "cohort": "application_change_type", "n": 1},
        {"agenda_rank": 1, "change_id": "C2", "cohort": "assignment_group",
         "n": None},
        {"agenda_rank": 2, "change_id": "C1",
         "cohort": "application_change_type", "n": 1},
        {"agenda_rank": 2, "change_id": "C1", "cohort": "assignment_group",
         "n": None}]


# --- cab_booking_hits ----------------------------------------------------------

def test_booking_hits_are_the_release_bookings_overlapping_the_plan(
        con, given):
    given("changes", [change("C1", release_id="R1", environment_id="P1"),
                      change("C2")])
    given("environments", [{"environment_id": "P1", "name": "prod",
                            "tier": "prod"},
                           {"environment_id": "U1", "name": "uat",
                            "tier": "uat"}])
    given("environment_bookings", [
        {"booking_id": "B1", "environment_id": "P1", "release_id": "R1",
         "status": "approved", "start_at": "2026-01-16 21:00Z",
         "end_at": "2026-01-17 00:00Z"},
        {"booking_id": "B2", "environment_id": "U1", "release_id": "R1",
         "status": "pending", "start_at": "2026-01-16 00:00Z",
         "end_at": None},                                  # open-ended
        {"booking_id": "B3", "environment_id": "U1", "release_id": "R1",
         "status": "approved", "start_at": "2026-01-16 22:00Z",
         "end_at": "2026-01-17 00:00Z"},                   # back-to-back
        {"booking_id": "B4", "environment_id": "U1", "release_id": "R1",
         "status": "cancelled", "start_at": "2026-01-16 20:00Z",
         "end_at": "2026-01-17 00:00Z"},
        {"booking_id": "B5", "environment_id": "U1", "release_id": "R2",
         "status": "approved", "start_at": "2026-01-16 20:00Z",
         "end_at": "2026-01-17 00:00Z"},                   # other release
    ])
    rows = run(con, "cab_booking_hits")
    assert records(rows, "change_id", "booking_id", "overlap_hours",
                   "is_target_environment") == [
        {"change_id": "C1", "booking_id": "B2", "overlap_hours": 2.0,
         "is_target_environment": False},
        {"change_id": "C1", "booking_id": "B1", "overlap_hours": 1.0,
         "is_target_environment": True}]


# --- every CAB query on the sample data ------------------------------------------

@pytest.mark.parametrize("name", [
    "cab_agenda", "cab_agenda_summary", "change_collisions",
    "change_window_hits", "similar_change_history", "cab_booking_hits",
])
def test_cab_queries_run_on_the_sample_database(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        latest = con.execute(
            "select max(planned_start_at) from changes").fetchone()[0]
        # the last month of plans: a non-empty agenda in the sample
        end = pd.Timestamp(latest) + pd.Timedelta(days=1)
        rows = db.run(con, name, window_start_at=str(end - pd.Timedelta(
            days=31)), window_end_at=str(end))
    assert list(rows.columns)


def test_an_empty_plan_neither_collides_nor_hits_a_booking(con, given):
    # an empty plan (end = start) inside another plan of its application,
    # and inside a booking of its release: no time shared, no collision
    # and no booking hit (a positive-length plan does both: the control)
    given("changes", [
        change("C1", application_id="A1", release_id="R1",
               environment_id="P1"),                          # 20:00-22:00
        change("C2", application_id="A1", release_id="R1",
               environment_id="P1", start="2026-01-16 21:00Z",
               end="2026-01-16 21:00Z")])
    given("environments", [{"environment_id": "P1", "name": "prod",
                            "tier": "prod"}])
    given("environment_bookings", [
        {"booking_id": "B1", "environment_id": "P1", "release_id": "R1",
         "status": "approved", "start_at": "2026-01-16 20:00Z",
         "end_at": "2026-01-16 22:00Z"}])
    assert run(con, "change_collisions").empty
    assert run(con, "cab_agenda")["n_collisions"].tolist() == [0, 0]
    assert run(con, "change_calendar")["n_collisions"].tolist() == [0, 0]
    assert ids(run(con, "cab_booking_hits")) == ["C1"]
