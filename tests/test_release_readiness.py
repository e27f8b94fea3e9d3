"""release_readiness (docs/metrics.md A25): hand-computed given/expect cases,
one rule at a time, then the status order, the boundaries and the summary."""
import pandas as pd
import pytest

from changeboard import db

AS_OF = "2026-03-02 00:00Z"  # a Monday
GO_LIVE = "2026-03-10 20:00Z"


def release(release_id="R1", go_live=GO_LIVE, **extra):
    row = {"release_id": release_id, "name": f"Release {release_id}",
           "status": "planned", "application_id": "A1",
           "release_type": "project", "planned_release_at": go_live}
    row.update(extra)
    return row


def change(change_id, release_id="R1", approval="approved", **extra):
    row = {"change_id": change_id, "release_id": release_id,
           "approval": approval, "is_cab_required": True,
           "change_type": "normal", "state": "scheduled",
           "application_id": "A1", "created_at": "2026-02-01 00:00Z",
           "planned_start_at": "2026-03-10 16:00Z",
           "planned_end_at": "2026-03-10 20:00Z"}
    row.update(extra)
    return row


def phase(name="uat", start="2026-03-03 08:00Z", end="2026-03-07 18:00Z",
          release_id="R1", **extra):
    row = {"release_id": release_id, "phase": name,
           "planned_start_at": start, "planned_end_at": end}
    row.update(extra)
    return row


def booking(booking_id, status="approved", name="uat",
            start="2026-03-03 08:00Z", end="2026-03-07 18:00Z",
            release_id="R1", environment_id="E-UAT"):
    return {"booking_id": booking_id, "environment_id": environment_id,
            "release_id": release_id, "phase": name, "status": status,
            "start_at": start, "end_at": end}


def ready_release(given, **release_extra):
    """R1: one approved change, its UAT phase booked and approved."""
    given("releases", [release(**release_extra)])
    given("changes", [change("C1")])
    given("release_phases", [phase()])
    given("environment_bookings", [booking("B1")])


def rows(con, **params):
    found = db.run(con, "release_readiness", **{"as_of": AS_OF, **params})
    return found.set_index("release_id")


def row(con, release_id="R1", **params):
    return rows(con, **params).loc[release_id]


def test_a_release_with_everything_in_place_is_ready(con, given):
    ready_release(given)
    r = row(con)
    assert (r["status"], r["reasons"]) == ("ready", "")
    assert (r["n_changes"], r["n_approved"], r["n_phases_remaining"],
            r["n_phases_uncovered"]) == (1, 1, 1, 0)
    assert r["days_to_go_live"] == pytest.approx(8 + 20 / 24)
    assert r["slip_days"] == 0


# --- each reason alone -------------------------------------------------------

def test_a_rejected_change_blocks(con, given):
    ready_release(given)
    given("changes", [change("C2", approval="rejected")])
    r = row(con)
    assert (r["status"], r["reasons"]) == ("blocked", "1 change rejected")
    assert (r["n_changes"], r["n_rejected"]) == (2, 1)


def test_a_go_live_in_a_freeze_blocks_and_names_the_window(con, given):
    ready_release(given)
    given("blackout_windows", [{
        "window_id": "W1", "name": "Spring freeze", "kind": "freeze",
        "start_at": "2026-03-09 00:00Z", "end_at": "2026-03-12 00:00Z"}])
    r = row(con)
    assert r["status"] == "blocked"
    assert r["reasons"] == 'go-live in the freeze window "Spring freeze" (W1)'
    assert (r["freeze_hit"], r["freeze_window_name"]) == (True,
                                                          "Spring freeze")


def test_a_phase_with_only_rejected_bookings_blocks_and_is_uncovered(
        con, given):
    given("releases", [release()])
    given("changes", [change("C1")])
    given("release_phases", [phase()])
    given("environment_bookings", [
        booking("B1", status="rejected"),
        booking("B2", status="cancelled")])  # withdrawn: does not count
    r = row(con)
    assert r["status"] == "blocked"
    assert r["reasons"] == (
        "1 remaining phase has only rejected bookings (uat); 1 remaining "
        "phase without an approved or pending booking (uat)")
    assert (r["n_phases_uncovered"], r["n_phases_rejected_only"],
            r["n_bookings_rejected"], r["n_bookings_pending"]) == (1, 1, 1, 0)


@pytest.mark.parametrize(("extra", "reason", "count"), [
    ({"approval": "requested"}, "1 change awaiting CAB approval",
     "n_awaiting"),
    ({"approval": "not_yet_requested"},
     "1 change not yet submitted for approval", "n_not_requested"),
    ({"approval": None, "is_cab_required": True},
     "1 change not yet submitted for approval", "n_not_requested"),
    ({"planned_end_at": "2026-03-10 20:01Z"},
     "1 change planned to end after go-live", "n_planned_after_go_live"),
])
def test_a_change_not_yet_authorised_or_planned_late_puts_it_at_risk(
        con, given, extra, reason, count):
    ready_release(given)
    given("changes", [change("C2", **extra)])
    r = row(con)
    assert (r["status"], r["reasons"], r[count]) == ("at_risk", reason, 1)


def test_a_change_without_approval_and_not_cab_required_is_no_risk(
        con, given):
    ready_release(given)
    given("changes", [change("C2", approval=None, is_cab_required=False)])
    r = row(con)
    assert (r["status"], r["n_changes"], r["n_approved"],
            r["n_not_requested"]) == ("ready", 2, 1, 0)


def test_an_uncovered_phase_puts_it_at_risk(con, given):
    ready_release(given)
    given("release_phases", [phase("perf", "2026-03-08 08:00Z",
                                   "2026-03-09 18:00Z")])
    r = row(con)
    assert r["status"] == "at_risk"
    assert r["reasons"] == ("1 remaining phase without an approved or "
                            "pending booking (perf)")


def test_a_pending_booking_covers_the_phase_but_puts_it_at_risk(con, given):
    given("releases", [release()])
    given("changes", [change("C1")])
    given("release_phases", [phase()])
    given("environment_bookings", [booking("B1", status="pending")])
    r = row(con)
    assert (r["status"], r["reasons"]) == (
        "at_risk", "1 environment booking still pending")
    assert r["n_phases_uncovered"] == 0


def test_slip_so_far_puts_it_at_risk(con, given):
    ready_release(given)
    # SIT ended 1.5 days late; DEV should have ended 2 days ago, still open
    given("release_phases", [
        phase("sit", "2026-02-20 08:00Z", "2026-02-25 00:00Z",
              actual_end_at="2026-02-26 12:00Z"),
        phase("dev", "2026-02-10 08:00Z", "2026-02-28 00:00Z"),
        phase("build", "2026-02-01 08:00Z", "2026-02-05 00:00Z",
              actual_end_at="2026-02-04 00:00Z")])  # early: no slip
    r = row(con)
    assert r["slip_days"] == pytest.approx(2)
    # how far behind and where, as a CAB acts on it: the phase furthest
    # behind (DEV, 2 days; SIT ended 1.5 days late)
    assert (r["status"], r["reasons"]) == (
        "at_risk", "phases running behind plan (up to 2.0 days: dev)")
    assert r["n_phases_remaining"] == 1  # dev and sit are not remaining
    # SIT 2.5 days late and ended, DEV 2 days late and running: running
    # late, named by DEV (REL-64152 read 'ended behind plan (up to 4.8
    # days: UAT)' with Performance 2.6 days late and not ended)
    con.execute("update release_phases set actual_end_at = "
                "timestamptz '2026-02-27 12:00Z' where phase = 'sit'")
    r = row(con)
    assert r["slip_days"] == pytest.approx(2.5)
    assert r["reasons"] == "phases running behind plan (up to 2.0 days: dev)"
    # DEV ended 1.75 days late: every late phase has ended
    con.execute("update release_phases set actual_end_at = "
                "timestamptz '2026-03-01 18:00Z' where phase = 'dev'")
    r = row(con)
    assert r["slip_days"] == pytest.approx(2.5)
    assert r["reasons"] == "phases ended behind plan (up to 2.5 days: sit)"


@pytest.mark.parametrize(("actual_end_at", "said"), [
    ("2026-02-25 03:30Z", "3.5 h"), ("2026-02-25 00:20Z", "20 min"),
    ("2026-02-25 00:00:30Z", "1 min"), ("2026-02-26 00:00Z", "1.0 days")])
def test_a_slip_under_a_day_is_said_in_hours_or_minutes(
        con, given, actual_end_at, said):
    """A phase that ended 3.5 hours late read 'up to 0.0 days' behind plan,
    as if none: under a day the slip is said in hours, under an hour in
    minutes (never 0), and the page says the phase by name."""
    from reports.text import reasons_said
    ready_release(given)
    given("release_phases", [phase("sit", "2026-02-20 08:00Z",
                                   "2026-02-25 00:00Z",
                                   actual_end_at=actual_end_at)])
    r = row(con)
    assert r["slip_days"] > 0
    # SIT has ended: it ended late, it does not run late (REL-60138's
    # three phases all ended, 'running behind plan' read as a delay now)
    assert (r["status"], r["reasons"]) == (
        "at_risk", f"phases ended behind plan (up to {said}: sit)")
    assert reasons_said(r["reasons"]) == [
        f"Phases ended behind plan (up to {said}: SIT)"]


def test_slip_is_never_negative(con, given):
    ready_release(given)
    given("release_phases", [phase("sit", "2026-02-20 08:00Z",
                                   "2026-02-25 00:00Z",
                                   actual_end_at="2026-02-23 00:00Z")])
    assert row(con)["slip_days"] == 0


def test_a_release_with_no_changes_is_at_risk(con, given):
    given("releases", [release()])
    given("release_phases", [phase()])
    given("environment_bookings", [booking("B1")])
    r = row(con)
    assert (r["status"], r["reasons"], r["n_changes"]) == (
        "at_risk", "no change linked", 0)


def test_cancelled_and_rejected_close_codes_leave_the_release(con, given):
    ready_release(given)
    given("changes", [
        change("C2", approval="requested", close_code="cancelled",
               state="cancelled"),
        change("C3", approval="rejected", close_code="rejected",
               state="closed")])
    r = row(con)
    assert (r["status"], r["n_changes"]) == ("ready", 1)


# --- status order ------------------------------------------------------------

def test_blocked_beats_at_risk_and_every_reason_is_listed_in_order(
        con, given):
    given("releases", [release()])
    given("changes", [
        change("C1", approval="requested", planned_end_at="2026-03-11 00:00Z"),
        change("C2", approval="rejected"),
        change("C3", approval="not_yet_requested"),
        change("C4", approval="requested")])
    given("release_phases", [phase(), phase("sit", "2026-03-02 08:00Z",
                                            "2026-03-03 08:00Z")])
    given("environment_bookings", [
        booking("B1", status="rejected"),
        booking("B2", status="pending", name="SIT", start="2026-03-02 08:00Z",
                end="2026-03-03 08:00Z")])
    given("blackout_windows", [{
        "window_id": "W1", "name": "Spring freeze", "kind": "blackout",
        "start_at": "2026-03-10 00:00Z", "end_at": "2026-03-11 00:00Z"}])
    r = row(con)
    assert r["status"] == "blocked"
    assert r["reasons"].split("; ") == [
        "1 change rejected",
        'go-live in the blackout window "Spring freeze" (W1)',
        "1 remaining phase has only rejected bookings (uat)",
        "2 changes awaiting CAB approval",
        "1 change not yet submitted for approval",
        "1 remaining phase without an approved or pending booking (uat)",
        "1 environment booking still pending",
        "1 change planned to end after go-live"]


# --- phase coverage: name and overlap ----------------------------------------

@pytest.mark.parametrize(("name", "start", "end", "covered"), [
    ("UAT", "2026-03-03 08:00Z", "2026-03-07 18:00Z", True),  # case
    ("Uat", "2026-03-07 17:59Z", "2026-03-09 00:00Z", True),  # a minute
    ("uat", "2026-03-01 00:00Z", "2026-03-03 08:00Z", False),  # back-to-back
    ("uat", "2026-03-07 18:00Z", "2026-03-09 00:00Z", False),  # back-to-back
    ("sit", "2026-03-03 08:00Z", "2026-03-07 18:00Z", False),  # other phase
    ("uat", "2026-03-03 08:00Z", "2026-03-03 08:00Z", False),  # empty
    # empty inside the phase, and backwards across it: no time of their own
    ("uat", "2026-03-04 08:00Z", "2026-03-04 08:00Z", False),
    ("uat", "2026-03-06 08:00Z", "2026-03-04 08:00Z", False),
])
def test_a_phase_is_covered_by_a_booking_of_its_name_that_overlaps_it(
        con, given, name, start, end, covered):
    given("releases", [release()])
    given("changes", [change("C1")])
    given("release_phases", [phase()])
    given("environment_bookings", [booking("B1", name=name, start=start,
                                           end=end)])
    r = row(con)
    assert r["n_phases_uncovered"] == (0 if covered else 1)
    assert r["status"] == ("ready" if covered else "at_risk")


def test_an_empty_booking_neither_blocks_a_phase_nor_is_pending(
        con, given):
    # a rejected booking of no time does not make its phase rejected-only
    # (blocked); a pending one of no time in the run-up is not pending
    given("releases", [release(), release("R2", name="Second")])
    given("changes", [change("C1"), change("C2", release_id="R2")])
    given("release_phases", [phase(), phase(release_id="R2")])
    given("environment_bookings", [
        booking("B1", status="rejected", start="2026-03-04 08:00Z",
                end="2026-03-04 08:00Z"),
        booking("B2", release_id="R2"),
        booking("B3", release_id="R2", status="pending", name="prod",
                start="2026-03-09 08:00Z", end="2026-03-09 08:00Z")])
    first, second = row(con), row(con, "R2")
    assert (first["n_phases_rejected_only"], first["status"]) == (
        0, "at_risk")
    assert (second["n_bookings_pending"], second["status"]) == (0, "ready")


def test_an_open_ended_booking_ends_at_as_of(con, given):
    given("releases", [release()])
    given("changes", [change("C1")])
    given("release_phases", [
        phase(),  # starts after as_of: an open booking covers none of it
        phase("sit", "2026-03-01 00:00Z", "2026-03-03 00:00Z")])
    given("environment_bookings", [
        booking("B1", end=None),
        booking("B2", name="sit", start="2026-02-28 00:00Z", end=None)])
    r = row(con)
    assert (r["n_phases_remaining"], r["n_phases_uncovered"],
            r["uncovered_phases"]) == (2, 1, "uat")


def test_another_releases_booking_covers_nothing(con, given):
    given("releases", [release(), release("R2", "2026-03-20 20:00Z")])
    given("changes", [change("C1"), change("C2", release_id="R2")])
    given("release_phases", [phase()])
    given("environment_bookings", [booking("B1", release_id="R2")])
    assert row(con)["n_phases_uncovered"] == 1


def test_ended_phases_and_phases_ended_in_plan_are_not_remaining(
        con, given):
    ready_release(given)
    given("release_phases", [
        phase("sit", "2026-02-20 08:00Z", "2026-03-02 00:00Z"),  # = as_of
        phase("perf", "2026-03-01 08:00Z", "2026-03-05 00:00Z",
              actual_end_at="2026-03-01 20:00Z")])
    r = row(con)
    assert (r["n_phases_remaining"], r["n_phases_uncovered"]) == (1, 0)


# --- bookings counted: overlap [as_of, go-live) ------------------------------

def test_pending_and_rejected_bookings_count_when_they_meet_the_run_up(
        con, given):
    ready_release(given)
    given("environment_bookings", [
        booking("B2", "pending", "perf", "2026-02-20 00:00Z",
                "2026-03-02 00:00Z"),  # ends at as_of: out
        booking("B3", "pending", "perf", "2026-03-10 20:00Z",
                "2026-03-11 00:00Z"),  # starts at go-live: out
        booking("B4", "rejected", "perf", "2026-03-01 00:00Z",
                "2026-03-02 00:01Z"),  # in
        booking("B5", "pending", "prod", "2026-03-10 19:00Z",
                "2026-03-11 00:00Z")])  # in
    r = row(con)
    assert (r["n_bookings_pending"], r["n_bookings_rejected"]) == (1, 1)


# --- freeze windows ----------------------------------------------------------

def window(window_id, start, end, kind="freeze", **extra):
    row = {"window_id": window_id, "name": f"Window {window_id}",
           "kind": kind, "start_at": start, "end_at": end}
    row.update(extra)
    return row


@pytest.mark.parametrize(("start", "end", "hit"), [
    (GO_LIVE, "2026-03-11 00:00Z", True),  # starts at go-live: in
    ("2026-03-10 00:00Z", GO_LIVE, False),  # ends at go-live: out
    ("2026-03-10 00:00Z", "2026-03-10 20:00:01Z", True),
])
def test_freeze_windows_are_half_open_at_the_go_live_instant(
        con, given, start, end, hit):
    ready_release(given)
    given("blackout_windows", [window("W1", start, end)])
    r = row(con)
    assert (r["freeze_hit"], r["status"]) == (
        hit, "blocked" if hit else "ready")


def test_which_freeze_windows_apply_to_a_release(con, given):
    ready_release(given)
    given("environments", [
        {"environment_id": "E-PRD", "name": "Prod", "tier": "prod"},
        {"environment_id": "E-PRD2", "name": "Prod 2", "tier": "prod"},
        {"environment_id": "E-UAT", "name": "UAT", "tier": "uat"}])
    given("environment_bookings", [booking(
        "B9", environment_id="E-PRD", name="prod", start="2026-03-10 16:00Z",
        end="2026-03-11 00:00Z")])
    spanning = ("2026-03-09 00:00Z", "2026-03-12 00:00Z")
    given("blackout_windows", [
        window("W1", *spanning, application_id="A2"),  # another app's
        window("W2", *spanning, environment_id="E-UAT"),  # not prod
        window("W3", *spanning, environment_id="E-PRD2"),  # not booked
        window("W4", *spanning, kind="maintenance"),  # not a freeze
    ])
    assert not row(con)["freeze_hit"]
    given("blackout_windows", [
        window("W5", "2026-03-10 12:00Z", "2026-03-12 00:00Z",
               environment_id="E-PRD", application_id="A1"),
        window("W6", *spanning)])
    r = row(con)
    # both apply: the first by start is named, both are counted
    assert (r["freeze_window_id"], r["n_freeze_windows"]) == ("W6", 2)


# --- changes of the application that failed recently -------------------------

def test_failed_recently_counts_the_applications_failures_in_30_days(
        con, given):
    ready_release(given)

    def done(change_id, end, code, app="A1"):
        return {"change_id": change_id, "application_id": app,
                "created_at": "2026-01-01 00:00Z", "change_type": "normal",
                "close_code": code, "state": "closed", "actual_end_at": end}

    given("changes", [
        done("F1", "2026-02-28 00:00Z", "backed_out"),
        done("F2", "2026-01-31 00:00Z", "unsuccessful"),  # exactly 30 d: in
        done("F3", "2026-01-30 23:59Z", "unsuccessful"),  # 30 d + 1 min: out
        done("F4", "2026-02-27 00:00Z", "successful"),  # linked incident
        done("F5", "2026-02-27 00:00Z", "successful"),  # no signal
        done("F6", "2026-02-27 00:00Z", "unsuccessful", app="A2"),
        done("F7", "2026-03-02 00:00Z", "unsuccessful"),  # at as_of: out
    ])
    given("incidents", [{"incident_id": "I1", "priority": 4,
                         "caused_by_change_id": "F4",
                         "opened_at": "2026-02-27 06:00Z"}])
    assert row(con)["n_failed_recently"] == 3
    assert row(con, failure_min_priority=3)["n_failed_recently"] == 2
    assert row(con)["status"] == "ready"  # informational, not a reason


# --- population: as_of, horizon, unscheduled ---------------------------------

def test_as_of_and_horizon_bound_the_go_lives_half_open(con, given):
    given("releases", [
        release("R0", "2026-03-01 23:59:59Z"),  # before as_of
        release("R1", AS_OF),  # at as_of: in
        release("R2", "2026-03-08 23:59:59Z"),  # in a 7-day horizon
        release("R3", "2026-03-09 00:00Z"),  # at as_of + 7 days: out
        release("R4", "2026-03-30 00:00Z"),  # at as_of + 28 days: out
        release("R5", "2026-03-29 23:00Z"),  # in the default 28 days
    ])
    assert list(rows(con, horizon_days=7).index) == ["R1", "R2"]
    assert list(rows(con).index) == ["R1", "R2", "R3", "R5"]
    assert rows(con, horizon_days=7).loc["R1", "days_to_go_live"] == 0


def test_as_of_without_offset_is_read_in_the_reporting_zone(con, given):
    given("releases", [release("R1", "2026-03-01 23:30Z")])
    # 00:00 in Berlin is 23:00 UTC the day before
    assert list(rows(con, as_of="2026-03-02",
                     reporting_tz="Europe/Berlin").index) == ["R1"]
    assert rows(con, as_of="2026-03-02").empty


def test_summary_counts_statuses_unscheduled_and_excluded(con, given):
    given("releases", [
        release("R1"), release("R2", "2026-03-05 10:00Z"),
        release("R3", "2026-03-06 10:00Z"),
        release("R4", None),  # unscheduled
        release("R5", None, status="draft", planned_start_at=None),
        release("R6", None, status="cancelled"),  # not open: not counted
        release("R7", "2026-03-07 10:00Z", status="released"),  # excluded
        release("R8", "2026-03-07 10:00Z", status="cancelled"),  # excluded
        # overdue, not live: planned before as_of (R9 a year before), not
        # released or cancelled; R10, R11 ended, so not overdue
        release("R9", "2025-03-01 10:00Z", status="in_progress"),
        release("R10", "2026-03-01 10:00Z", status="released"),
        release("R11", "2026-03-01 10:00Z", status="cancelled"),
        release("R12", "2026-03-01 23:59Z"),
        # an enterprise release (a grouping of others) overdue is said apart,
        # as the Releases page's Overdue, not live leaves it out; one with a
        # go-live recorded is live, whatever its status says
        release("R13", "2026-03-01 10:00Z", release_type="enterprise",
                status="in_progress"),
        release("R14", "2026-03-01 10:00Z", status="in_progress",
                actual_release_at="2026-03-02 10:00Z"),
    ])
    given("changes", [change("C1"), change("C2", "R2", approval="rejected"),
                      change("C3", "R3", planned_end_at="2026-03-06 10:00Z")])
    summary = db.run(con, "release_readiness_summary", as_of=AS_OF).iloc[0]
    assert (summary["n"], summary["n_blocked"], summary["n_at_risk"],
            summary["n_ready"], summary["n_unscheduled"],
            summary["n_excluded"], summary["n_overdue"],
            summary["n_overdue_enterprise"]) == (3, 1, 0, 2, 2, 2, 2, 1)
    # the Releases page's count of the same releases, at the same instant
    on_time = db.run(con, "release_on_time", start_date="2025-01-01",
                     end_date="2026-04-01", as_of=AS_OF).iloc[0]
    assert on_time["n_overdue_open"] == summary["n_overdue"]
    assert str(summary["horizon_end_at"]) == "2026-03-30 00:00:00+00:00"
    assert set(rows(con).index) == {"R1", "R2", "R3"}


def test_summary_of_an_empty_horizon_still_says_when(con):
    summary = db.run(con, "release_readiness_summary", as_of=AS_OF,
                     horizon_days=7).iloc[0]
    assert (summary["n"], summary["n_unscheduled"]) == (0, 0)
    assert str(summary["horizon_end_at"]) == "2026-03-09 00:00:00+00:00"


def test_an_empty_horizon_says_when_the_next_open_release_goes_live(
        con, given):
    """Real data whose releases are all released (endoflife.date): the page
    said 'choose a longer horizon', which could not help. The summary gives
    the next open release's planned go-live after the horizon, of the
    filtered applications; none when every later one is released or
    cancelled."""
    given("applications", [
        {"application_id": "A1", "name": "One", "portfolio": "Cards"},
        {"application_id": "A2", "name": "Two", "portfolio": "Loans"}])
    given("releases", [
        release("R1", "2026-03-20 10:00Z"),  # in 28 days, not in 7
        release("R2", "2026-04-20 10:00Z", application_id="A2"),
        release("R3", "2026-03-12 10:00Z", status="released"),
        release("R4", "2026-03-13 10:00Z", status="cancelled")])

    def later(**params):
        return db.run(con, "release_readiness_summary", as_of=AS_OF,
                      horizon_days=7, **params).iloc[0]["next_go_live_at"]
    assert str(later()) == "2026-03-20 10:00:00+00:00"
    assert str(later(application_ids=["A2"])) == "2026-04-20 10:00:00+00:00"
    assert str(later(portfolios=["Loans"])) == "2026-04-20 10:00:00+00:00"
    assert pd.isna(db.run(con, "release_readiness_summary", as_of=AS_OF,
                          horizon_days=91).iloc[0]["next_go_live_at"])
    con.execute("update releases set status = 'released'")
    assert pd.isna(later())


def test_filters_keep_releases_of_the_applications_and_portfolios(
        con, given):
    given("applications", [
        {"application_id": "A1", "name": "One", "portfolio": "Cards"},
        {"application_id": "A2", "name": "Two", "portfolio": "Loans"}])
    given("releases", [release("R1"), release("R2", application_id="A2")])
    assert list(rows(con, application_ids=["A2"]).index) == ["R2"]
    assert list(rows(con, portfolios=["Cards"]).index) == ["R1"]


def test_a_negative_horizon_is_an_error(con, given):
    with pytest.raises(Exception, match="horizon_days"):
        db.run(con, "release_readiness_summary", as_of=AS_OF, horizon_days=-1)
    given("releases", [release()])
    with pytest.raises(Exception, match="horizon_days"):
        rows(con, horizon_days=-1)


def test_the_detail_queries_list_what_the_counts_count(con, given):
    ready_release(given)
    given("changes", [change("C2", approval="requested"),
                      change("C3", approval="rejected", close_code="rejected")])
    given("release_phases", [phase("perf", "2026-03-08 08:00Z",
                                   "2026-03-09 18:00Z")])
    changes = db.run(con, "release_readiness_changes", as_of=AS_OF,
                     release_ids=["R1"])
    assert dict(zip(changes["change_id"], changes["authorisation"],
                    strict=True)) == {"C1": "approved", "C2": "awaiting"}
    phases = db.run(con, "release_readiness_phases", as_of=AS_OF)
    assert list(zip(phases["phase"], phases["booking_id"].fillna("-"),
                    phases["is_covered"], strict=True)) == [
        ("uat", "B1", True), ("perf", "-", False)]
    assert db.run(con, "release_readiness_phases", as_of=AS_OF,
                  release_ids=["R9"]).empty


def test_the_phases_behind_plan_are_listed_apart_with_how_late(con, given):
    """The detail listed the remaining phases only: SIT, past its planned
    end and not ended, was behind the release's 'running behind plan' but
    in no table; and a phase that ended late, which the reason may name,
    neither (helper 75: 'up to 4.0 days: SIT' over a table without SIT).
    The phases the slip is the largest of are listed once each, apart
    (is_late), with how late: not counted as remaining, and no cover is
    judged for them. A phase that ended early is not listed."""
    ready_release(given)
    given("release_phases", [
        phase("sit", "2026-02-20 08:00Z", "2026-02-28 12:00Z"),  # late 1.5 d
        phase("dev", "2026-02-10 08:00Z", "2026-02-25 00:00Z",
              actual_end_at="2026-02-26 00:00Z"),  # ended 1 day late
        phase("build", "2026-02-01 08:00Z", "2026-02-05 00:00Z",
              actual_end_at="2026-02-04 00:00Z")])  # early: not listed
    r = row(con)
    assert r["n_phases_remaining"] == 1
    assert r["reasons"] == "phases running behind plan (up to 1.5 days: sit)"
    phases = db.run(con, "release_readiness_phases", as_of=AS_OF)
    assert list(zip(phases["phase"], phases["is_late"], strict=True)) == [
        ("dev", True), ("sit", True), ("uat", False)]
    late = phases[phases["is_late"]].set_index("phase")
    assert late["late_days"].to_dict() == pytest.approx(
        {"dev": 1.0, "sit": 1.5})
    assert late["late_days"].max() == pytest.approx(r["slip_days"])
    assert str(late.loc["dev", "actual_end_at"]) == \
        "2026-02-26 00:00:00+00:00"
    assert pd.isna(late.loc["sit", "actual_end_at"])
    assert late["booking_id"].isna().all() and late["is_covered"].isna().all()
    remaining = phases[~phases["is_late"]]
    assert remaining["late_days"].isna().all()
    assert list(remaining["booking_id"]) == ["B1"]
    assert db.run(con, "release_readiness_phases", as_of=AS_OF,
                  release_ids=["R9"]).empty


@pytest.mark.parametrize("status, blocked", [
    ("approved", True), ("pending", True), ("cancelled", False),
    ("rejected", False)])
def test_only_a_held_production_booking_brings_its_freeze(con, given, status,
                                                          blocked):
    """A release that booked a production environment and withdrew the
    booking was blocked by that environment's freeze."""
    ready_release(given)
    given("environments", [{"environment_id": "E-PRD", "name": "Prod",
                            "tier": "prod"}])
    given("environment_bookings", [booking(
        "B9", status=status, environment_id="E-PRD", name="prod",
        start="2026-03-10 16:00Z", end="2026-03-11 00:00Z")])
    given("blackout_windows", [window("W1", "2026-03-09 00:00Z",
                                      "2026-03-12 00:00Z",
                                      environment_id="E-PRD")])
    r = row(con)
    assert (r["status"] == "blocked", bool(r["freeze_hit"])) == (blocked,
                                                                 blocked)


def test_a_change_cancelled_without_a_close_code_has_left_the_release(
        con, given):
    """A source without close codes (BPIC's shape) records a cancelled change
    by its state alone: it no longer blocks the release, nor is listed."""
    ready_release(given)
    given("changes", [change("C2", approval="rejected", state="cancelled",
                             close_code=None)])
    r = row(con)
    assert (r["status"], r["n_changes"], r["n_rejected"]) == ("ready", 1, 0)
    listed = db.run(con, "release_readiness_changes", as_of=AS_OF,
                    release_ids=["R1"])
    assert list(listed["change_id"]) == ["C1"]


def test_a_phase_without_a_planned_start_is_covered_by_its_booking(
        con, given):
    """A remaining phase whose plan gives only its end is open at its start:
    a booking of its name held before that end covers it (it was never
    covered, so a booked release read 'without an approved or pending
    booking'); one starting at the planned end, or of no time, does not."""
    given("releases", [release()])
    given("changes", [change("C1")])
    given("release_phases", [phase(start=None), phase("sit", start=None),
                             phase("perf", start=None)])
    given("environment_bookings", [
        booking("B1"),
        booking("B2", name="sit", start="2026-03-07 18:00Z",
                end="2026-03-09 00:00Z"),  # starts at the planned end
        booking("B3", name="perf", start="2026-03-04 08:00Z",
                end="2026-03-04 08:00Z")])  # empty
    r = row(con)
    assert (r["n_phases_remaining"], r["n_phases_uncovered"],
            r["uncovered_phases"]) == (3, 2, "perf, sit")
    phases = db.run(con, "release_readiness_phases", as_of=AS_OF)
    assert dict(zip(phases["phase"], phases["is_covered"], strict=True)) == {
        "uat": True, "sit": False, "perf": False}
