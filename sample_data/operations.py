"""Deployments, environment bookings and incidents, drawn from releases and changes.

Every link (release, change, deployment) is one that happened."""
from __future__ import annotations

import numpy as np

from . import catalog
from .changes import (
    BACKED_OUT,
    REDEPLOYED,
    SUCCESSFUL,
    UNSUCCESSFUL,
    WITH_ISSUES,
    ci_names,
)
from .clock import (
    DAY,
    HOUR,
    MINUTE,
    NEVER,
    ceil_to,
    fill,
    floor_to,
    lognormal,
    pick,
    uniform,
    weekday,
)
from .reference import TIER, Reference
from .releases import ENTERPRISE, PHASES, Releases, version_of

STATUSES = ["succeeded", "failed", "rolled_back", "cancelled", "in_progress"]
SUCCEEDED, FAILED, ROLLED_BACK, CANCELLED, IN_PROGRESS = range(5)
# a deploying change's attempts per pattern (changes.DEPLOYED, REDEPLOYED,
# ROLLED_BACK, DEPLOY_FAILED), as ranges of fractions of its actual window:
# (start from, start to, end from, end to, status, is_rollback)
PATTERNS = [
    [(.02, .10, .50, .95, SUCCEEDED, False)],
    [(.02, .05, .20, .30, FAILED, False), (.45, .50, .85, .95, SUCCEEDED, False)],
    [(.02, .05, .25, .35, ROLLED_BACK, False), (.55, .60, .80, .90, SUCCEEDED, True)],
    [(.05, .10, .40, .60, FAILED, False)],
]
BOOKING_STATUSES = ["approved", "pending", "rejected", "cancelled"]
APPROVED, PENDING, REJECTED, WITHDRAWN = range(4)
BOOKINGS_PER_SCALE = 3000
INCIDENTS_PER_SCALE = 400
PRIORITY_WEIGHTS = {"failed": [6, 22, 42, 25, 5], "other": [0, 5, 35, 45, 15],
                    "unlinked": [2, 8, 40, 40, 10]}
RESOLVE_MEDIAN = np.array([2, 5, 20, 72, 168]) * HOUR  # by priority 1-5
OFFICE_HOURS = [0, 0, 0, 0, 0, 0, 0, 1, 3, 5, 6, 6, 4, 5, 6, 6, 5, 4, 2, 1, 1, 0, 0,
                0]  # by UTC hour


def deployments(rng, ref: Reference, rel: Releases, ch: dict, t_end):
    """The deployments table, and per change the deployment an incident it
    caused would name (-1: none)."""
    parts = []
    n_changes = len(ch["app"])
    culprit = np.full(n_changes, -1, dtype=np.int64)
    version, previous = _change_versions(rng, rel, ch)
    width = ch["ae"] - ch["as"]
    deploying = (ch["pattern"] >= 0) & (ch["outcome"] <= BACKED_OUT)
    offset = 0
    for p, attempts in enumerate(PATTERNS):
        rows = np.flatnonzero(deploying & (ch["pattern"] == p))
        for j, (s0, s1, e0, e1, status, is_rollback) in enumerate(attempts):
            k = len(rows)
            start = ch["as"][rows] + (uniform(rng, s0, s1, k) * width[rows]).astype(
                np.int64)
            end = ch["as"][rows] + (uniform(rng, e0, e1, k) * width[rows]).astype(
                np.int64)
            parts.append({
                "app": ch["app"][rows], "env": ch["env"][rows],
                "release": ch["release"][rows], "change": rows,
                "version": (previous if is_rollback else version)[rows],
                "status": np.full(k, status), "is_rollback": np.full(k, is_rollback),
                "start": start, "end": np.maximum(end, start + MINUTE)})
            if j == 0:
                culprit[rows] = offset + np.arange(k)
            offset += k
    # releases go on to disaster recovery once live
    rows = np.flatnonzero(deploying & (ch["pattern"] <= REDEPLOYED)
                          & (ch["kind"] >= 1) & (ch["kind"] <= 2))
    dr = ref.env_of[ch["app"][rows], TIER["dr"]]
    keep = (dr >= 0) & (rng.random(len(rows)) < .6)
    rows, dr = rows[keep], dr[keep]
    start = ch["ae"][rows] + (uniform(rng, .5, 20, len(rows)) * HOUR).astype(np.int64)
    parts.append({
        "app": ch["app"][rows], "env": dr, "release": ch["release"][rows],
        "change": rows, "version": version[rows],
        "status": np.where(rng.random(len(rows)) < .97, SUCCEEDED, FAILED),
        "is_rollback": np.zeros(len(rows), dtype=bool), "start": start,
        "end": start + (uniform(rng, 10, 40, len(rows)) * MINUTE).astype(np.int64)})
    parts.append(_pipeline_deployments(rng, ref, rel))

    d = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = d["start"] <= t_end
    running = d["end"] > t_end
    d["status"] = np.where(running, IN_PROGRESS, d["status"])
    d["end"] = np.where(running, NEVER, d["end"])
    order = np.lexsort((d["change"], d["env"], d["start"]))
    order = order[keep[order]]
    rank = np.full(len(keep), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    culprit = np.where(culprit >= 0, rank[np.maximum(culprit, 0)], -1)
    table = {
        "deployment_id": np.arange(len(order)),
        "application_id": d["app"][order],
        "environment_id": d["env"][order],
        "release_id": d["release"][order],
        "change_id": d["change"][order],
        "version": d["version"][order],
        "status": np.array(STATUSES, dtype=object)[d["status"][order]],
        "is_rollback": d["is_rollback"][order],
        "started_at": d["start"][order],
        "finished_at": d["end"][order],
    }
    rollback_end = np.full(n_changes, NEVER)
    rb = order[d["is_rollback"][order] & (d["change"][order] >= 0)]
    rollback_end[d["change"][rb]] = d["end"][rb]
    return table, culprit, rollback_end


def _change_versions(rng, rel: Releases, ch):
    """What each deploying change installs, and what a rollback restores:
    a release's own version, or a hotfix on the application's live release."""
    live = (rel.kind != ENTERPRISE) & (rel.pe < NEVER)
    big = np.int64(2**34)
    keys = rel.app[live] * big + rel.pe[live]
    order = np.argsort(keys, kind="stable")
    keys, seq = keys[order], rel.seq[live][order]
    app = ch["app"]
    at = np.searchsorted(keys, app * big + np.minimum(ch["as"], big - 1),
                         side="right") - 1
    found = (at >= 0) & (keys[np.maximum(at, 0)] // big == app)
    k = np.where(found, seq[np.maximum(at, 0)], -1)
    major = rel.base_major[app] + (k + rel.k0[app]) // rel.per_major[app]
    minor = (k + rel.k0[app]) % rel.per_major[app]
    patch = rng.integers(1, 6, len(app))
    hotfix = version_of(major, minor, patch)
    base = version_of(major, minor, np.zeros(len(app), dtype=np.int64))
    version = np.where(ch["kind"] == 0, hotfix, ch["version"])
    previous = np.where(ch["kind"] == 0, base, ch["previous"])
    return version, previous


def _pipeline_deployments(rng, ref, rel: Releases):
    """Builds deployed through a release's pre-production phases."""
    ok = ((rel.kind[rel.ph_release] != ENTERPRISE) & (rel.ph_phase < 5)
          & (rel.ph_env >= 0) & (rel.ph_as < NEVER))
    rows = np.flatnonzero(ok)
    phase = rel.ph_phase[rows]
    extra = np.array([1.5, .6, .3, 0, 0])[phase]
    count = 1 + rng.poisson(extra)
    row = np.repeat(rows, count)
    j = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    k = np.repeat(count, count)
    phase = rel.ph_phase[row]
    begin = rel.ph_as[row]
    length = np.where(rel.ph_ae[row] < NEVER, rel.ph_ae[row] - begin,
                      rel.ph_pe[row] - rel.ph_ps[row])
    start = begin + ((j + uniform(rng, 0, .8, len(row))) / k * .8 * length).astype(
        np.int64)
    # pipelines run in office hours, on the day they reach
    start = (start // DAY * DAY + pick(rng, OFFICE_HOURS, len(row)) * HOUR
             + rng.integers(0, HOUR, len(row)))
    u = rng.random(len(row))
    fail = np.array([.12, .07, .05, .05, .03])[phase]
    status = np.select([u < fail, u < fail + .01], [FAILED, CANCELLED], SUCCEEDED)
    release = rel.ph_release[row]
    return {"app": rel.app[release], "env": rel.ph_env[row], "release": release,
            "change": np.full(len(row), -1), "version": rel.version[release],
            "status": status, "is_rollback": np.zeros(len(row), dtype=bool),
            "start": start,
            "end": start + (uniform(rng, 4, 40, len(row)) * MINUTE).astype(np.int64)}


def bookings(rng, ref: Reference, rel: Releases, scale, t_start, t_end):
    """Release phases book their environments; test, performance, training and
    resilience teams book shared ones; some overlap, some are never booked."""
    ok = (rel.ph_phase >= 1) & (rel.ph_phase <= 4) & (rel.ph_env >= 0)
    rows = np.flatnonzero(ok)
    n = len(rows)
    release = rel.ph_release[rows]
    # whole days, as planned, or as used when a slip had the booking moved
    rebooked = (rel.ph_ae[rows] < NEVER) & (rng.random(n) < .3)
    start = floor_to(np.where(rebooked, rel.ph_as[rows], rel.ph_ps[rows]), DAY)
    end = ceil_to(np.where(rebooked, rel.ph_ae[rows], rel.ph_pe[rows]), DAY)
    end = np.maximum(end, start + DAY)
    u = rng.random(n)
    pending = np.select([start > t_end + 14 * DAY, start > t_end], [.55, .2], .03)
    status = np.select([u < .05, u < .05 + pending], [REJECTED, PENDING], APPROVED)
    cancelled = rel.cancel_at[release] <= t_end
    status = np.where(cancelled, np.where(rng.random(n) < .8, WITHDRAWN, REJECTED),
                      status)
    app = rel.app[release]
    team = np.where(app >= 0, ref.teams[ref.app_team[np.maximum(app, 0)]],
                    "Release Management")
    phase = np.array(PHASES, dtype=object)[rel.ph_phase[rows]]
    # the upcoming releases' plan, drawn from a stream of its own so that
    # every other table stays as it was
    plan = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])
    ahead = _forward_plan(plan, ref, rel, t_end, release, start, status)
    status = ahead.pop("phase_status")
    env_rows = np.concatenate([rel.ph_env[rows], ahead["env"]])
    release = np.concatenate([release, ahead["release"]])
    phase = np.concatenate([phase, ahead["phase"]])
    team = np.concatenate([team, ahead["team"]])
    status = np.concatenate([status, ahead["status"]])
    start = np.concatenate([start, ahead["start"]])
    end = np.concatenate([end, ahead["end"]])

    # teams' own bookings make up the rest
    m = max(0, int(round(BOOKINGS_PER_SCALE * scale)) - n)
    env = pick(rng, ref.env_book_weight, m)
    days = np.arange(t_start // DAY, t_end // DAY + 90)
    day = days[rng.integers(0, len(days), m)]
    wd = weekday(day)
    day = day + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    tier = ref.env_tier[env]
    length = np.select([tier == TIER["dr"], tier == TIER["perf"]],
                       [1, 1 + rng.integers(0, 3, m)], 1 + rng.poisson(3, m))
    t_start_b = day * DAY + 8 * HOUR
    t_end_b = (day + length - 1) * DAY + 18 * HOUR
    future = t_start_b > t_end
    u = rng.random(m)
    t_status = np.where(
        future, np.select([u < .55, u < .95, u < .97], [APPROVED, PENDING, REJECTED],
                          WITHDRAWN),
        np.select([u < .86, u < .91, u < .97], [APPROVED, REJECTED, WITHDRAWN], PENDING))
    purpose = [catalog.BOOKING_PURPOSES.get(t, ("regression", "Test Automation"))
               for t in catalog.TIERS]
    t_phase = np.array([p for p, _ in purpose], dtype=object)[tier]
    fixed_team = np.array([team or "" for _, team in purpose], dtype=object)[tier]
    env_app = ref.env_app[env]
    owner = np.where(env_app >= 0, ref.teams[ref.app_team[np.maximum(env_app, 0)]],
                     "Business Acceptance")
    t_team = np.where(fixed_team == "", owner, fixed_team)

    b = {
        "env": np.concatenate([env_rows, env]),
        "release": np.concatenate([release, np.full(m, -1)]),
        "phase": np.concatenate([phase, t_phase]),
        "team": np.concatenate([team, t_team]),
        "status": np.concatenate([status, t_status]),
        "start": np.concatenate([start, t_start_b]),
        "end": np.concatenate([end, t_end_b]),
    }
    order = np.lexsort((b["release"], b["env"], b["start"]))
    return {
        "booking_id": np.arange(len(order)),
        "environment_id": b["env"][order],
        "release_id": b["release"][order],
        "phase": b["phase"][order],
        "team": b["team"][order],
        "status": np.array(BOOKING_STATUSES, dtype=object)[b["status"][order]],
        "start_at": b["start"][order],
        "end_at": b["end"][order],
    }


SLOT_DAYS = {"sit": 7, "uat": 7, "pre-prod": 3}  # days booked before the next


def _forward_plan(plan, ref: Reference, rel: Releases, t_end, booked_release,
                  booked_start, booked_status) -> dict:
    """Each upcoming release (cut-over after t_end, not cancelled, not an
    enterprise grouping) books its SIT -> UAT -> pre-prod -> prod slots
    ahead, as a release plan does: the slots its phases do not book already
    are added (SIT before UAT, UAT before pre-prod, pre-prod before the
    cut-over, prod for the cut-over window), on the application's own
    environment of that tier, else its region's shared one. Every booking of
    an upcoming release that starts after t_end gets a status by how far
    ahead it is: approved when near, pending further out, a few rejected.
    Returns the new bookings and `phase_status`, the given phase bookings'
    statuses with that rule applied."""
    n_rel = len(rel.app)
    ps_of = np.full((n_rel, len(PHASES)), NEVER, dtype=np.int64)
    ps_of[rel.ph_release, rel.ph_phase] = rel.ph_ps
    cut_rows = np.flatnonzero((rel.ph_phase == 5) & (rel.ph_ps > t_end)
                              & (rel.ph_env >= 0))
    upcoming_rel = rel.ph_release[cut_rows]
    keep = ((rel.cancel_at[upcoming_rel] > t_end)
            & (rel.kind[upcoming_rel] != ENTERPRISE)
            & (rel.app[upcoming_rel] >= 0))
    cut_rows, upcoming_rel = cut_rows[keep], upcoming_rel[keep]
    upcoming = np.zeros(n_rel, dtype=bool)
    upcoming[upcoming_rel] = True
    has = np.zeros((n_rel, len(PHASES)), dtype=bool)
    has[rel.ph_release[rel.ph_env >= 0], rel.ph_phase[rel.ph_env >= 0]] = True
    app = rel.app[upcoming_rel]
    variant = ref.app_variant[app]
    cut = floor_to(rel.ph_ps[cut_rows], DAY)
    live = np.maximum(ceil_to(rel.ph_pe[cut_rows], DAY), cut + DAY)
    team_of = ref.teams[ref.app_team[app]]

    def env_for(tiers):
        """The application's own environment of the first tier it has, else
        the region's first shared one of the first tier."""
        found = np.full(len(app), -1, dtype=np.int64)
        for tier in tiers:
            own = ref.env_of[app, TIER[tier]]
            found = np.where(found >= 0, found, own)
        for tier in tiers:
            shared = ref.shared_of[variant, TIER[tier], 0]
            found = np.where(found >= 0, found, shared)
        return found

    pre_end = cut
    pre_start = pre_end - SLOT_DAYS["pre-prod"] * DAY
    uat_start = np.where(ps_of[upcoming_rel, 2] < NEVER,
                         floor_to(ps_of[upcoming_rel, 2], DAY),
                         pre_start - SLOT_DAYS["uat"] * DAY)
    uat_start = np.minimum(uat_start, pre_start - DAY)
    sit_start = uat_start - SLOT_DAYS["sit"] * DAY
    pre_tier = np.where(ref.env_of[app, TIER["staging"]] >= 0, "staging",
                        np.where(ref.env_of[app, TIER["perf"]] >= 0, "perf",
                                 "staging"))
    slots = [  # (needed, environment, phase, start, end)
        (~has[upcoming_rel, 1], env_for(["sit"]), np.full(len(app), "sit"),
         sit_start, uat_start),
        (~has[upcoming_rel, 2], env_for(["uat"]), np.full(len(app), "uat"),
         uat_start, pre_start),
        (~has[upcoming_rel, 3] & ~has[upcoming_rel, 4],
         env_for(["staging", "perf"]), pre_tier, pre_start, pre_end),
        (np.ones(len(app), dtype=bool), rel.ph_env[cut_rows],
         np.full(len(app), "prod"), cut, live),
    ]
    parts = {"env": [], "release": [], "phase": [], "team": [], "start": [],
             "end": []}
    for needed, env, phase, start, end in slots:
        take = needed & (env >= 0) & (end > start)
        parts["env"].append(env[take])
        parts["release"].append(upcoming_rel[take])
        parts["phase"].append(phase[take].astype(object))
        parts["team"].append(team_of[take])
        parts["start"].append(start[take])
        parts["end"].append(end[take])
    out = {k: np.concatenate(v) for k, v in parts.items()}

    def ahead_status(start, current):
        lead = (start - t_end) / DAY
        u = plan.random(len(start))
        pending = np.select([lead > 90, lead > 30], [.8, .45], .08)
        drawn = np.select([u < .04, u < .04 + pending], [REJECTED, PENDING],
                          APPROVED)
        return np.where(start > t_end, drawn, current)

    out["status"] = ahead_status(out["start"],
                                 np.full(len(out["start"]), APPROVED))
    mine = upcoming[booked_release]
    phase_status = booked_status.copy()
    phase_status[mine] = ahead_status(booked_start[mine], booked_status[mine])
    out["phase_status"] = phase_status
    return out


def incidents(rng, ref: Reference, ch: dict, deployments: dict, culprit,
              rollback_end, scale, t_start, t_end):
    """Incidents caused by failed (and a few successful) changes, linked by change,
    by deployment or both, and many unlinked ones."""
    n = len(ch["app"])
    outcome = ch["outcome"]
    failed = (outcome == UNSUCCESSFUL) | (outcome == BACKED_OUT)
    p = np.select([failed, outcome == WITH_ISSUES, outcome == SUCCESSFUL],
                  [.3, .06, .004], 0)
    caused = np.flatnonzero((rng.random(n) < p) & (ch["ae"] <= t_end))
    k = len(caused)
    dep = culprit[caused]
    dep_end = np.where(dep >= 0, deployments["finished_at"][np.maximum(dep, 0)], NEVER)
    span = ch["ae"][caused] - ch["as"][caused]
    during = ch["as"][caused] + (uniform(rng, .3, 1, k) * span).astype(np.int64)
    base = np.where(dep_end < NEVER, dep_end, during)
    is_failed = failed[caused]
    opened = np.where(
        is_failed, base + lognormal(rng, 20 * MINUTE, 1, k, 2 * MINUTE, 6 * HOUR),
        ch["ae"][caused] + uniform(rng, 2 * HOUR, 10 * DAY, k)).astype(np.int64)
    priority = np.where(is_failed, 1 + pick(rng, PRIORITY_WEIGHTS["failed"], k),
                        1 + pick(rng, PRIORITY_WEIGHTS["other"], k))
    resolved = opened + lognormal(rng, 1.0, .9, k, .05, 20).astype(float) * \
        RESOLVE_MEDIAN[priority - 1]
    restored = rollback_end[caused] + (uniform(rng, 5, 45, k) * MINUTE)
    resolved = np.where((rollback_end[caused] < NEVER) & (restored > opened + 600),
                        restored, resolved).astype(np.int64)
    u = rng.random(k)
    has_dep = dep >= 0
    by_change = ~has_dep | (u < .45) | (u >= .8)
    by_dep = has_dep & (u >= .45)
    titles = np.array(catalog.CHANGE_INCIDENT_TITLES, dtype=object)
    linked = {
        "app": ch["app"][caused], "priority": priority, "opened": opened,
        "resolved": resolved, "change": np.where(by_change, caused, -1),
        "deployment": np.where(by_dep, dep, -1),
        "title": _fill_titles(rng, titles, ref.app_name[ch["app"][caused]],
                              ch["ci"][caused]),
    }

    m = max(0, int(round(INCIDENTS_PER_SCALE * scale)) - int((opened <= t_end).sum()))
    days = np.arange(t_start // DAY, t_end // DAY)
    weight = np.where(weekday(days) >= 5, .6, 1.0) * (1 + .2 * (days - days[0])
                                                       / len(days))
    hours = [1, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 6, 5, 6, 6, 6, 5, 4, 3, 2, 2, 2, 1, 1]
    u_opened = (days[pick(rng, weight, m)] * DAY + pick(rng, hours, m) * HOUR
                + rng.integers(0, HOUR, m))
    app = pick(rng, np.array([.5, .8, 1.3, 2.0])[ref.app_crit], m)
    u_priority = 1 + pick(rng, PRIORITY_WEIGHTS["unlinked"], m)
    u_resolved = (u_opened + lognormal(rng, 1.0, .9, m, .05, 20)
                  * RESOLVE_MEDIAN[u_priority - 1]).astype(np.int64)
    prod = ref.env_of[app, TIER["prod"]]
    component = rng.integers(0, 7, m)  # the application tiers of COMPONENTS
    unlinked = {
        "app": app, "priority": u_priority, "opened": u_opened,
        "resolved": u_resolved, "change": np.full(m, -1), "deployment": np.full(m, -1),
        "title": _fill_titles(rng, np.array(catalog.INCIDENT_TITLES, dtype=object),
                              ref.app_name[app], ci_names(rng, ref, prod, component)),
    }
    d = {key: np.concatenate([linked[key], unlinked[key]]) for key in linked}
    backlog = (d["priority"] >= 4) & (rng.random(len(d["app"])) < .04)
    d["resolved"] = np.where(backlog | (d["resolved"] > t_end), NEVER, d["resolved"])
    order = np.lexsort((d["app"], d["opened"]))
    order = order[d["opened"][order] < t_end]
    return {
        "incident_id": np.arange(len(order)),
        "title": d["title"][order],
        "application_id": d["app"][order],
        "priority": d["priority"][order],
        "opened_at": d["opened"][order],
        "resolved_at": d["resolved"][order],
        "caused_by_change_id": d["change"][order],
        "caused_by_deployment_id": d["deployment"][order],
    }


def _fill_titles(rng, templates, app_name, ci):
    which = rng.integers(0, len(templates), len(app_name))
    out = np.empty(len(app_name), dtype=object)
    for j, template in enumerate(templates):
        rows = which == j
        out[rows] = fill(template, app=app_name[rows], ci=ci[rows])
    return out
