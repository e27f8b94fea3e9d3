"""Upcoming releases that show every release readiness status and reason.

The generated releases going live in the next four weeks are whatever the
draws make them; these few are laid out by hand so that, at any end date and
scale, the Release readiness page has ready releases, releases waiting on the
CAB, a rejected change, a UAT phase without a booking for its dates, a
go-live in a blackout and one in the year-end freeze, slipping phases, a
pending and a rejected booking, a change planned past go-live and a release
with no change yet; and, for the Change backlog, a scheduled change past its
planned start that nobody started.

They are appended after every other row is drawn, with ids after the others
and no random draw, so every other row stays as it was. Their bookings start
the day after the end date (nothing is booked in the past), their changes are
open (nothing implemented) and pre-approved unless the point is the approval,
so the metrics of the past stay as they were; a booking goes to an
environment of its tier that is free then (its application's own, else a
shared one), so they add no booking conflict ahead either.
"""
from __future__ import annotations

import numpy as np

from . import catalog
from .changes import _cab_texts
from .clock import (
    DAY,
    FREEZE_END,
    FREEZE_START,
    HOUR,
    NEVER,
    epoch,
    in_freeze,
    weekday,
    year_of,
)
from .reference import TIER, Reference

# (key, application, days from the end date to go-live, what it shows)
SHOWCASE = [
    ("ready", "Loan Origination", 9, "ready"),
    ("ready", "Document Management", 15, "ready"),
    ("cab", "Online Account Opening", None, "two changes awaiting CAB"),
    ("unrequested", "Credit Risk Engine", 18, "a change not yet submitted"),
    ("rejected", "AML Transaction Monitoring", 12, "a change rejected by CAB"),
    ("uat_moved", "Customer Master Data", 16, "UAT booked for other dates"),
    ("blackout", "Enterprise Data Warehouse", None, "go-live in a blackout"),
    ("year_end", "Statements Generator", None, "go-live in the year-end freeze"),
    ("slipping", "Fraud Screening", 11, "SIT overrunning, staging pending"),
    ("slipping", "Procurement Portal", 20, "UAT overrunning"),
    ("perf_rejected", "Market Data Feed", 14, "performance slot rejected"),
    ("no_change", "Merchant Onboarding", 19, "no change raised yet"),
    ("late_change", "Identity & Access Management", 22,
     "a migration planned past go-live"),
]


def _go_live(key: str, days, t_end: int) -> int:
    """The go-live instant: days after t_end at 20:00, kept out of the
    year-end freeze (before it if there is room, else just after it) and off
    Thursday and weekend nights (the data-centre power work is on a
    Thursday night); the
    CAB one the Wednesday after the next meeting (Tuesday), the blackout one
    in the data-centre power work (the Thursday after the next Tuesday,
    18:00 for 12 hours), the year-end one on the next 18 December (tomorrow
    night when the freeze is on)."""
    to_tuesday = (1 - weekday(t_end // DAY)) % 7 or 7
    if key == "cab":
        return t_end + (to_tuesday + 1) * DAY + 20 * HOUR
    if key == "blackout":
        return t_end + (to_tuesday + 2) * DAY + 20 * HOUR
    if key == "year_end":
        soon = (t_end // DAY + 1) * DAY + 20 * HOUR
        if in_freeze(soon):  # in the freeze now: tomorrow night
            return soon
        year = year_of(t_end)
        day = epoch(year, FREEZE_START[0], FREEZE_START[1] + 3)
        if day < t_end + 2 * DAY:
            day = epoch(year + 1, FREEZE_START[0], FREEZE_START[1] + 3)
        return day + 20 * HOUR
    t = t_end + days * DAY + 20 * HOUR
    if in_freeze(t):
        year = year_of(t) - (1 if year_of(t) > year_of(t - 60 * DAY) else 0)
        t = epoch(year, *FREEZE_START) - (1 + days % 3) * DAY + 20 * HOUR
        if t < t_end + 3 * DAY:
            t = epoch(year + 1, *FREEZE_END) + (days % 2) * DAY + 20 * HOUR
    # go-lives are on weekday nights other than Thursday's (the power work
    # is on one of them): Thursday and Saturday move back a day, Sunday on
    shift = {3: (-1, 1), 5: (-1, 2), 6: (1, -2)}.get(weekday(t // DAY))
    if shift:
        t += (shift[0] if not in_freeze(t + shift[0] * DAY) else shift[1]) * DAY
    return t


def _environments(ref: Reference, app: int, tiers: list[str]) -> list[int]:
    """The environments a release of the application may book for a phase:
    its own of the first tier it has, else its region's shared ones, in
    that order (tier by tier)."""
    own = [int(ref.env_of[app, TIER[t]]) for t in tiers
           if ref.env_of[app, TIER[t]] >= 0]
    variant = ref.app_variant[app]
    shared = [int(e) for t in tiers for e in ref.shared_of[variant, TIER[t]]
              if e >= 0]
    return list(dict.fromkeys(own + shared))


def _busy(bookings: dict) -> dict[int, list[tuple[int, int]]]:
    """environment -> the [start, end) of its approved and pending
    bookings: the slots a new booking would contend for."""
    busy: dict[int, list[tuple[int, int]]] = {}
    for env, status, start, end in zip(
            bookings["environment_id"], bookings["status"],
            bookings["start_at"], bookings["end_at"], strict=True):
        if status in ("approved", "pending"):
            busy.setdefault(int(env), []).append((int(start), int(end)))
    return busy


def _free(ref: Reference, candidates: list[int], start: int, end: int,
          busy: dict) -> tuple[int, int, int]:
    """Where and when to book [start, end) without adding a booking
    conflict: the first candidate free for all of it; else the longest part
    of it (an hour at least) free on a candidate, which still covers the
    phase; else another environment of the first candidate's tier free for
    all of it; else the first candidate as asked."""
    def gaps(env):
        cursor, found = start, []
        for s, e in sorted(busy.get(env, [])):
            if e <= cursor or s >= end:
                continue
            if s > cursor:
                found.append((cursor, s))
            cursor = max(cursor, e)
        if cursor < end:
            found.append((cursor, end))
        return found

    for env in candidates:
        if gaps(env) == [(start, end)]:
            return env, start, end
    parts = [(e - s, env, s, e) for env in candidates for s, e in gaps(env)
             if e - s >= HOUR]
    if parts:
        _, env, s, e = max(parts, key=lambda p: (p[0], -candidates.index(p[1])))
        return env, s, e
    if candidates:
        tier = ref.env_tier[candidates[0]]
        for env in np.flatnonzero(ref.env_tier == tier):
            if gaps(int(env)) == [(start, end)]:
                return int(env), start, end
    return (candidates[0] if candidates else -1), start, end


def _weekday_before(t: int) -> int:
    """10:00 of the last weekday on or before t's day."""
    day = t // DAY
    while weekday(day) >= 5:
        day -= 1
    return day * DAY + 10 * HOUR


def showcase(ref: Reference, tables: dict, t_end: int) -> dict:
    """tables with the showcase releases, phases, bookings and changes
    appended (see the module docstring)."""
    names = list(ref.app_name)
    rel, ph, bk, ch = ([] for _ in range(4))
    n_rel = len(tables["releases"]["release_id"])
    tomorrow = t_end + DAY + 8 * HOUR  # the first booking starts then
    busy = _busy(tables["environment_bookings"])
    for i, (key, app_name, days, _) in enumerate(SHOWCASE):
        if app_name not in names:  # the estate always has them; be safe
            continue
        app = names.index(app_name)
        release_id = n_rel + len(rel)
        go_live = _go_live(key, days, t_end)
        team = ref.teams[ref.app_team[app]]
        cut = go_live - 3 * HOUR
        # phases: SIT, UAT, pre-prod (staging or perf), prod cut-over; the
        # pre-production ones share [tomorrow, cut) unless they slip
        pre = "perf" if key == "perf_rejected" else (
            "staging" if ref.env_of[app, TIER["staging"]] >= 0 else
            "perf" if ref.env_of[app, TIER["perf"]] >= 0 else "staging")
        span = max(cut - tomorrow, 3 * HOUR)
        step = DAY if span > 4 * DAY else HOUR  # whole days when there is room
        edges = [tomorrow + int(span * f) // step * step for f in (0, .3, .7)]
        edges.append(tomorrow + span)
        plan = {"sit": (edges[0], edges[1]), "uat": (edges[1], edges[2]),
                pre: (edges[2], edges[3]), "prod": (cut, go_live)}
        actual = {}
        if key == "slipping" and days < 15:
            # SIT should have ended two days ago and is still running
            plan["sit"] = (t_end - 9 * DAY + 8 * HOUR, t_end - 2 * DAY)
            actual["sit"] = (plan["sit"][0], NEVER)
        elif key == "slipping":
            # SIT done on time; UAT should have ended yesterday
            plan["sit"] = (t_end - 12 * DAY + 8 * HOUR, t_end - 6 * DAY)
            plan["uat"] = (t_end - 6 * DAY, t_end - DAY)
            actual["sit"] = (plan["sit"][0], plan["sit"][1] - 2 * HOUR)
            actual["uat"] = (t_end - 6 * DAY + HOUR, NEVER)
        first = min(s for s, _ in plan.values())
        status = "in_progress" if actual else "planned"
        rel.append({
            "release_id": release_id,
            "name": f"{app_name} {year_of(go_live)}.{i + 1}",
            "version": f"{year_of(go_live)}.{i + 1}.0",
            "release_type": "independent", "parent_release_id": -1,
            "application_id": app, "status": status,
            "risk": "high" if key in ("cab", "rejected") else "moderate",
            "created_at": min(first, t_end) - 30 * DAY,
            "planned_start_at": first, "planned_release_at": go_live,
            "actual_release_at": NEVER})
        for phase, (start, end) in plan.items():
            a_start, a_end = actual.get(phase, (NEVER, NEVER))
            ph.append({"release_id": release_id, "phase": phase,
                       "planned_start_at": start, "planned_end_at": end,
                       "actual_start_at": a_start, "actual_end_at": a_end})
        # bookings, from tomorrow on: a slot per phase, as planned
        for phase, tiers in (("sit", ["sit"]), ("uat", ["uat"]),
                             (pre, [pre, "staging", "perf"]),
                             ("prod", ["prod"])):
            start, end = plan[phase]
            booking_status = "approved"
            if phase in actual:  # rebooked from tomorrow: overrunning, or
                # a regression re-run after it ended
                start, end = tomorrow, tomorrow + (
                    2 if actual[phase][1] == NEVER else 1) * DAY
            if key == "uat_moved" and phase == "uat":
                # booked for the week UAT was first planned, after it moved
                start, end = plan["uat"][1], plan[pre][1]
            if key == "perf_rejected" and phase == pre:
                booking_status = "rejected"
            if key == "slipping" and days < 15 and phase == pre:
                booking_status = "pending"
            start, end = max(start, tomorrow), max(end, start + HOUR)
            env, start, end = _free(ref, _environments(ref, app, tiers),
                                    start, end, busy)
            if booking_status != "rejected":
                busy.setdefault(env, []).append((start, end))
            bk.append({"environment_id": env, "release_id": release_id,
                       "phase": phase, "team": team,
                       "status": booking_status, "start_at": start,
                       "end_at": end})
        if key != "no_change":
            ch.extend(_changes(ref, key, app, release_id, go_live, t_end))
    ch.append(_slipped(ref, names, t_end))
    next_cab = t_end + ((1 - weekday(t_end // DAY)) % 7 or 7) * DAY
    return _append(tables, rel, ph, bk, ch, next_cab)


def _slipped(ref, names: list, t_end: int) -> dict:
    """For the Change backlog: a scheduled standard change, no release,
    planned two days before the end date, that nobody started (or recorded
    starting): past its planned start and not started, at any scale."""
    app = names.index(SHOWCASE[0][1]) if SHOWCASE[0][1] in names else 0
    env = int(ref.env_of[app, TIER["prod"]])
    team = ref.app_team[app]
    start = (t_end - 2 * DAY) // DAY * DAY + 20 * HOUR
    return {"title": f"Renew the TLS certificate of {ref.app_name[app]}",
            "ci_name": ref.ci_table[env, catalog.COMPONENTS.index("app"), 0],
            "change_type": "standard", "approval": "not_required",
            "state": "scheduled", "risk": "low",
            "planned_start_at": start, "planned_end_at": start + HOUR,
            "application_id": app, "environment_id": env,
            "assignment_group": ref.teams[team],
            "requested_by": ref.people[ref.team_people[team, 0]],
            "release_id": -1, "created_at": _weekday_before(t_end - 8 * DAY)}


def _changes(ref, key, app, release_id, go_live, t_end):
    """The release's open changes: its cut-over, and for some a second one."""
    name = ref.app_name[app]
    env = int(ref.env_of[app, TIER["prod"]])
    team = ref.app_team[app]
    created = _weekday_before(t_end - 8 * DAY)
    app_ci = ref.ci_table[env, catalog.COMPONENTS.index("app"), 0]
    db_ci = ref.ci_table[env, catalog.COMPONENTS.index("db"), 0]

    def change(title, ci, kind="standard", approval="not_required",
               state="scheduled", start=go_live - 3 * HOUR, end=go_live,
               risk="moderate"):
        return {"title": title, "ci_name": ci, "change_type": kind,
                "approval": approval, "state": state, "risk": risk,
                "planned_start_at": start, "planned_end_at": end,
                "application_id": app, "environment_id": env,
                "assignment_group": ref.teams[team],
                "requested_by": ref.people[ref.team_people[team, 0]],
                "release_id": release_id, "created_at": created}

    cutover = f"Deploy {name} to production"
    if key == "cab":
        return [change(cutover, app_ci, "normal", "requested", "authorize",
                       risk="high"),
                change(f"Migrate the {name} database schema", db_ci, "normal",
                       "requested", "authorize", go_live - 5 * HOUR,
                       go_live - 3 * HOUR, "high")]
    if key == "unrequested":
        return [change(cutover, app_ci, "normal", "not_yet_requested",
                       "assess")]
    if key == "rejected":
        return [change(cutover, app_ci, "normal", "rejected", "new",
                       risk="high"),
                change(f"Update the {name} configuration", app_ci)]
    if key == "late_change":
        return [change(cutover, app_ci),
                change(f"Migrate {name} historical data after go-live", db_ci,
                       start=go_live - HOUR, end=go_live + 4 * HOUR)]
    return [change(cutover, app_ci)]


def _append(tables: dict, rel, ph, bk, ch, next_cab: int) -> dict:
    out = dict(tables)
    out["releases"] = _extend(tables["releases"], rel)
    out["release_phases"] = _extend(tables["release_phases"], ph)
    n_bk = len(tables["environment_bookings"]["booking_id"])
    out["environment_bookings"] = _extend(
        tables["environment_bookings"],
        [{"booking_id": n_bk + i, **b} for i, b in enumerate(bk)])
    out["changes"] = _extend(tables["changes"], _change_rows(tables["changes"],
                                                             ch, next_cab))
    return out


def _change_rows(existing: dict, changes: list[dict], next_cab: int
                 ) -> list[dict]:
    """Complete change rows: ids after the others, what a CAB reads, the
    approval's dates: those requested go to the next CAB (next_cab, 00:00
    of its day), the rejected one was rejected two days after it was
    raised."""
    n = len(existing["change_id"])
    titles = np.array([c["title"] for c in changes], dtype=object)
    cis = np.array([c["ci_name"] for c in changes], dtype=object)
    carries = np.array([c["change_type"] != "standard" for c in changes])
    texts = _cab_texts(titles, cis, carries, np.zeros(len(changes), bool))
    rows = []
    for i, c in enumerate(changes):
        standard = c["change_type"] == "standard"
        decided = c["created_at"] + 2 * DAY
        rows.append({
            **c, "change_id": n + i,
            **{k: v[i] for k, v in texts.items()},
            "impact": "medium", "priority": 3, "category": "Software",
            "is_cab_required": not standard,
            "cab_date": next_cab if c["approval"] == "requested" else
            decided // DAY * DAY if c["approval"] == "rejected" else NEVER,
            "approved_at": NEVER, "actual_start_at": NEVER,
            "actual_end_at": NEVER, "closed_at": NEVER, "close_code": None,
            "updated_at": decided if c["approval"] == "rejected"
            else c["created_at"] + HOUR})
    return rows


def _extend(table: dict, rows: list[dict]) -> dict:
    if not rows:
        return table
    return {column: np.concatenate([
        values, np.array([r[column] for r in rows], dtype=values.dtype)])
        for column, values in table.items()}
