"""Change requests and their lifecycle: approval, implementation, closure, state.

Background (operational) changes are drawn here; release changes come from
releases.py; `derive` takes both through the same lifecycle and reports where
each stands at the end date."""
from __future__ import annotations

import numpy as np

from . import catalog
from .clock import (
    DAY,
    HOUR,
    MINUTE,
    NEVER,
    after_freeze,
    ceil_to,
    fill,
    in_freeze,
    lognormal,
    pick,
    pick_rows,
    uniform,
    weekday,
)
from .reference import TIER, Reference

STANDARD, NORMAL, EMERGENCY = 0, 1, 2
TYPES = ["standard", "normal", "emergency"]
TYPE_SHARE = np.array([.60, .35, .05])
STATES = ["new", "assess", "authorize", "scheduled", "implement", "review", "closed",
          "cancelled"]
NEW, ASSESS, AUTHORIZE, SCHEDULED, IMPLEMENT, REVIEW, CLOSED, CANCELLED = range(8)
APPROVALS = ["not_yet_requested", "requested", "approved", "rejected", "not_required"]
NOT_YET_REQUESTED, REQUESTED, APPROVED, DECLINED, NOT_REQUIRED = range(5)
CLOSE_CODES = ["successful", "successful_with_issues", "unsuccessful", "backed_out",
               "cancelled", "rejected"]
SUCCESSFUL, WITH_ISSUES, UNSUCCESSFUL, BACKED_OUT, WITHDRAWN, REJECTED = range(6)
RISKS = ["low", "moderate", "high", "very_high"]
IMPACTS = ["low", "medium", "high"]
CHANGES_PER_SCALE = 8000
# how a deploying change's production deployments went (operations.PATTERNS):
# succeeded; failed then succeeded; rolled back; failed
DEPLOYED, REDEPLOYED, ROLLED_BACK, DEPLOY_FAILED = range(4)
DRAW_PATTERN = -2  # decided from the change's outcome
NO_DEPLOYMENT = -1
# created_at by UTC hour: office hours, a lunch dip, a quiet night
CREATED_HOURS = [.2, .1, .1, .1, .2, .4, 1, 2.5, 5, 8, 9, 8.5, 6, 7.5, 8, 7.5, 6.5,
                 4.5, 2.5, 1.5, 1, .8, .5, .3]
WEEKDAY_WEIGHT = np.array([1.0, 1.1, 1.1, 1.0, .8, .12, .07])
CAB_WEEKDAY, CAB_HOUR = 1, 10  # the CAB meets on Tuesdays at 10:00 UTC


def spec(*, kind, app, team, type, risk, category, title, release, env, ci,
         created, ps, pe, as_, ae, outcome, cancel_at, pattern, version, previous):
    """A change before its lifecycle is derived; scalars are broadcast.

    kind: 0 background, 1 release cutover, 2 second cutover attempt, 3 companion.
    as_/ae < 0 and outcome < 0 mean "draw them"; version/previous: what a
    release deployment installs and what a rollback restores (None: look up).
    """
    n = len(app)

    def col(x, dtype=None):
        if np.ndim(x) == 0:
            return np.full(n, x, dtype=dtype or (object if isinstance(x, str)
                                                 or x is None else np.int64))
        return np.asarray(x, dtype=dtype) if dtype else np.asarray(x)

    return {"kind": col(kind), "app": col(app), "team": col(team), "type": col(type),
            "risk": col(risk), "category": col(category, object),
            "title": col(title, object), "release": col(release), "env": col(env),
            "ci": col(ci, object), "created": col(created),
            "ps": col(ps), "pe": col(pe), "as": col(as_), "ae": col(ae),
            "outcome": col(outcome), "cancel_at": col(cancel_at),
            "pattern": col(pattern), "version": col(version, object),
            "previous": col(previous, object)}


def failure_probability(ref: Reference, ctype, risk, team, crit, t, t_start, t_end):
    """Chance an implemented change fails: by type, risk, criticality and team,
    the team's multiplier moving linearly from its first-year to last-year value."""
    base = np.array([.028, .08, .09])[ctype]
    risk_factor = np.array([.6, 1.0, 1.6, 2.3])[risk]
    crit_factor = np.array([.85, .95, 1.05, 1.15])[crit]
    profile = ref.team_profile[team]
    progress = np.clip((t - t_start) / (t_end - t_start), 0, 1)
    team_factor = profile[:, 0] + (profile[:, 1] - profile[:, 0]) * progress
    return np.clip(base * risk_factor * crit_factor * team_factor, 0, .6)


def background(rng, ref: Reference, n, t_start, t_end, type_share) -> dict:
    """Operational changes not tied to a release: patching, configuration, infra."""
    days = np.arange(t_start // DAY, t_end // DAY)
    # volume triples over the three years as teams are onboarded; fewer
    # changes are raised in the year-end freeze
    weight = (WEEKDAY_WEIGHT[weekday(days)]
              * (1 + 2 * (days - days[0]) / len(days))
              * np.where(in_freeze(days * DAY), .6, 1))
    created = (days[pick(rng, weight, n)] * DAY + pick(rng, CREATED_HOURS, n) * HOUR
               + rng.integers(0, HOUR, n))
    crit = ref.app_crit
    app_weight = np.array([.5, .8, 1.2, 1.6])[crit] * (30 / ref.app_gap) ** .3
    app = pick(rng, app_weight, n)
    infra_teams = np.flatnonzero(ref.team_is_infra)
    infra = rng.random(n) < .28
    team = np.where(infra, infra_teams[pick(rng, [25, 25, 25, 12, 13], n)],
                    ref.app_team[app])
    profile = ref.team_profile[team]
    # over time fewer emergencies and more planned (normal) work; each drift
    # averages 1 over the growing volume
    progress = (created - t_start) / (t_end - t_start)
    type_w = type_share * np.stack([profile[:, 2] * (1.1 - .15 * progress),
                                    (.8 + .4 * progress) / 1.033,
                                    profile[:, 3] * (1.6 - .9 * progress)], axis=1)
    ctype = pick_rows(rng, type_w)
    crit_app = crit[app]
    risk_w = np.array([[82, 16, 2, 0], [25, 45, 25, 5], [5, 30, 45, 20]],
                      dtype=float)[ctype]
    risk_w[:, 2:] *= (1 + .25 * crit_app)[:, None]
    risk = pick_rows(rng, risk_w)
    category, component = _category(rng, ref, team, infra)
    # target: usually the application's production environment
    u = rng.random(n)
    env_of = ref.env_of[app]
    prod = env_of[:, TIER["prod"]]
    dr = np.where(env_of[:, TIER["dr"]] >= 0, env_of[:, TIER["dr"]], prod)
    pre = np.where(env_of[:, TIER["staging"]] >= 0, env_of[:, TIER["staging"]],
                   np.where(env_of[:, TIER["uat"]] >= 0, env_of[:, TIER["uat"]], prod))
    shared = ref.shared_of[ref.app_variant[app], pick(rng, [0, 1, 4, 2, 2, 1, 0, 0, 1],
                                                       n), 0]
    env = np.select([u < .9, u < .94, u < .98], [prod, dr, pre],
                    np.where(infra & (shared >= 0), shared, prod))

    # planned start: after a lead time that depends on the type
    lead = np.select(
        [ctype == STANDARD, ctype == NORMAL],
        [lognormal(rng, 1.2 * DAY, .9, n, 15 * MINUTE, 14 * DAY),
         lognormal(rng, 18 * DAY, .45, n, 5 * DAY, 60 * DAY)],
        lognormal(rng, 1.5 * HOUR, .8, n, 10 * MINUTE, 12 * HOUR)).astype(np.int64)
    hours = np.where(ctype == STANDARD,
                     pick(rng, [0, 0, 0, 0, 0, 0, 1, 2, 4, 8, 9, 8, 4, 8, 9, 8, 6, 3,
                                1, 1, 1, 0, 0, 0], n),
                     pick(rng, [0, 0, 3, 2, 1, 1, 1, 1, 2, 4, 4, 3, 1, 3, 4, 3, 2, 2,
                                6, 8, 9, 8, 5, 2], n))
    quarter = rng.integers(0, 4, n) * 15 * MINUTE
    day = (created + lead) // DAY
    wd = weekday(day)
    to_monday = np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    move = (((ctype == STANDARD) & (rng.random(n) < .85))
            | ((ctype == NORMAL) & (wd == 6) & (rng.random(n) < .6)))
    day = day + np.where(move, to_monday, 0)
    ps = day * DAY + hours * HOUR + quarter
    ps = np.where(ps <= created + 15 * MINUTE, ceil_to(created + 30 * MINUTE,
                                                       15 * MINUTE), ps)
    frozen = (ctype != EMERGENCY) & in_freeze(ps) & (rng.random(n) < .85)
    ps[frozen] = (after_freeze(ps[frozen]) + rng.integers(0, 4, frozen.sum()) * DAY
                  + ps[frozen] % DAY)
    ps = np.where(ctype == EMERGENCY, ceil_to(created + lead, 5 * MINUTE), ps)
    duration = np.select(
        [ctype == STANDARD, ctype == NORMAL],
        [lognormal(rng, 45 * MINUTE, .7, n, 10 * MINUTE, 6 * HOUR),
         lognormal(rng, 2.5 * HOUR, .6, n, 30 * MINUTE, 12 * HOUR)],
        lognormal(rng, 1.5 * HOUR, .6, n, 20 * MINUTE, 6 * HOUR))
    duration = np.maximum(ceil_to(duration.astype(np.int64), 15 * MINUTE), 15 * MINUTE)

    deploys = ~infra & (((category == "Software") & (rng.random(n) < .7))
                        | ((category == "Configuration") & (rng.random(n) < .15)))
    ci = ci_names(rng, ref, env, component)
    return spec(kind=0, app=app, team=team, type=ctype, risk=risk, category=category,
                title=_titles(rng, ref, app, ci, category, ctype), release=-1, env=env,
                ci=ci, created=created, ps=ps, pe=ps + duration,
                as_=-1, ae=-1, outcome=-1, cancel_at=NEVER,
                pattern=np.where(deploys, DRAW_PATTERN, NO_DEPLOYMENT), version=None,
                previous=None)


def _category(rng, ref, team, infra):
    """Category names, and CI components as indices into catalog.COMPONENTS."""
    n = len(team)
    names, weights = catalog.APP_CATEGORIES
    category = np.array(names, dtype=object)[pick(rng, weights, n)]
    by_category = {"Database": ["db"], "Software": ["web", "api", "app", "batch"],
                   "Configuration": ["app", "api", "web", "mq", "cache"],
                   "Security": ["web", "api"], "Other": ["app", "batch"]}
    component = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for name, parts in by_category.items():
        mask = category == name
        component[mask] = _components(parts)[(u[mask] * len(parts)).astype(np.int64)]
    for team_name, (cats, parts) in catalog.INFRA_WORK.items():
        mask = infra & (ref.teams[team] == team_name)
        k = mask.sum()
        category[mask] = np.array(cats, dtype=object)[rng.integers(0, len(cats), k)]
        component[mask] = _components(parts)[rng.integers(0, len(parts), k)]
    return category, component


def _components(names):
    return np.array([catalog.COMPONENTS.index(c) for c in names])


def _titles(rng, ref, app, ci, category, ctype):
    n = len(app)
    titles = np.empty(n, dtype=object)
    u = rng.random(n)
    for name, templates in catalog.CHANGE_TITLES.items():
        rows = np.flatnonzero(category == name)
        which = (u[rows] * len(templates)).astype(np.int64)
        for j, template in enumerate(templates):
            r = rows[which == j]
            titles[r] = fill(template, app=ref.app_name[app[r]], ci=ci[r])
    return np.where(ctype == EMERGENCY, "Emergency: " + titles, titles)


def ci_names(rng, ref: Reference, env, component):
    """Configuration item names such as pgw-api-prd01 or shared-sit-1-app01, for
    environments and component indices (or names) of catalog.COMPONENTS."""
    n = len(env)
    if isinstance(component, str):
        component = np.full(n, catalog.COMPONENTS.index(component))
    names = ref.ci_table
    return names[env, component, rng.integers(0, names.shape[2], n)]


def derive(rng, ref: Reference, s: dict, t_start, t_end) -> tuple[dict, dict]:
    """The changes table (id order = creation order) and, per row, the eventual
    times and outcome the deployments and incidents are built from."""
    n = len(s["app"])
    ctype, created = s["type"], s["created"].copy()
    ps, pe = s["ps"], s["pe"]
    created = np.minimum(created, ps - 10 * MINUTE)
    std, normal, emergency = ctype == STANDARD, ctype == NORMAL, ctype == EMERGENCY
    crit = ref.app_crit[s["app"]]

    # --- outcome: rejected, withdrawn, or implemented and then failed or not
    outcome = s["outcome"].copy()
    draw = outcome < 0
    rejected = draw & ((normal & (rng.random(n) < .04))
                       | (emergency & (rng.random(n) < .01)))
    withdrawn = draw & ~rejected & (rng.random(n) < np.select([std, normal],
                                                               [.03, .05], .015))
    p_fail = failure_probability(ref, ctype, s["risk"], s["team"], crit, ps, t_start,
                                 t_end)
    u = rng.random(n)
    with_issues = np.array([.05, .10, .18])[ctype]
    implemented = np.select(
        [u < p_fail, u < p_fail + with_issues],
        [np.where(rng.random(n) < .55, BACKED_OUT, UNSUCCESSFUL), WITH_ISSUES],
        SUCCESSFUL)
    outcome = np.where(draw, np.select([rejected, withdrawn], [REJECTED, WITHDRAWN],
                                       implemented), outcome)
    cancel_at = np.where(draw & withdrawn,
                         created + (uniform(rng, .1, .9, n) * (ps - created)).astype(
                             np.int64), s["cancel_at"])
    failed = (outcome == UNSUCCESSFUL) | (outcome == BACKED_OUT)

    # --- actual times: most on schedule, some late, some overrunning
    u = rng.random(n)
    delay = np.select([u < .62, u < .75],
                      [0, -uniform(rng, 1, 20, n) * MINUTE],
                      lognormal(rng, 25 * MINUTE, 1.0, n, MINUTE, 8 * HOUR))
    overran = rng.random(n) < np.where(failed, .55, .2)
    factor = np.where(overran, 1 + lognormal(rng, .25, .8, n, .02, 3),
                      uniform(rng, .4, 1.0, n))
    drawn_as = ps + delay.astype(np.int64)
    drawn_ae = drawn_as + np.maximum((pe - ps) * factor, 2 * MINUTE).astype(np.int64)
    act_s = np.where(s["as"] < 0, drawn_as, s["as"])
    act_e = np.where(s["ae"] < 0, drawn_ae, s["ae"])
    act_s = np.maximum(act_s, created + 5 * MINUTE)
    act_e = np.maximum(act_e, act_s + 2 * MINUTE)
    # a quarter of the work started in the last three days is not yet recorded
    # as complete: it is still in implement at the end date
    unrecorded = ((s["kind"] == 0) & (act_s <= t_end) & (act_s > t_end - 3 * DAY)
                  & (rng.random(n) < .25))
    act_e = np.where(unrecorded, np.maximum(act_e, t_end + lognormal(
        rng, 6 * HOUR, 1, n, HOUR, 3 * DAY).astype(np.int64)), act_e)

    # --- approval: normal changes go to the last weekly CAB at least two hours
    # before their start (or, raised too late for it, are expedited); emergency
    # ones to an ECAB within the hour, a quarter approved only after work started
    lead = ps - created
    assess = created + np.minimum(lognormal(rng, 20 * HOUR, 1, n, 10 * MINUTE, 4 * DAY),
                                  .2 * lead).astype(np.int64)
    request = assess + np.minimum(lognormal(rng, 1.5 * DAY, .8, n, HOUR, 7 * DAY),
                                  .4 * lead).astype(np.int64)
    latest = ps - 2 * HOUR - CAB_HOUR * HOUR  # a meeting day at or before this
    back = (weekday(latest // DAY) - CAB_WEEKDAY) % 7
    meeting = (latest // DAY - back) * DAY + CAB_HOUR * HOUR
    at_meeting = meeting >= request + HOUR
    # decided during the meeting's agenda, and at least 30 minutes before start
    decision = np.where(
        at_meeting, meeting + (rng.random(n) * np.minimum(
            3 * HOUR, ps - meeting - 30 * MINUTE)).astype(np.int64),
        request + (uniform(rng, .1, .7, n) * (ps - request)).astype(np.int64))
    e_assess = created + (uniform(rng, 1, 10, n) * MINUTE).astype(np.int64)
    e_request = e_assess + (uniform(rng, 1, 15, n) * MINUTE).astype(np.int64)
    retroactive = rng.random(n) < .25
    e_decision = np.where(
        retroactive, act_s + (uniform(rng, .5, 48, n) * HOUR).astype(np.int64),
        e_request + lognormal(rng, 40 * MINUTE, .8, n, 5 * MINUTE, 4 * HOUR).astype(
            np.int64))
    assess = np.select([std, emergency], [NEVER, e_assess], assess)
    request = np.select([std, emergency], [NEVER, e_request], request)
    decision = np.select([std, emergency], [NEVER, e_decision], decision)
    cab_day = np.where(normal & at_meeting, meeting // DAY, decision // DAY) * DAY
    scheduled = np.select(
        [std, emergency],
        [np.minimum(created + lognormal(rng, 2 * HOUR, 1.2, n, MINUTE, 2 * DAY).astype(
            np.int64), act_s), np.minimum(decision, act_s)], decision)

    # --- closure
    close_delay = np.select(
        [std, normal],
        [lognormal(rng, 4 * HOUR, 1.2, n, 5 * MINUTE, 5 * DAY),
         lognormal(rng, 2 * DAY, .9, n, HOUR, 14 * DAY)],
        lognormal(rng, 3 * DAY, .9, n, 2 * HOUR, 21 * DAY)) * np.where(failed, 2, 1)
    stale = rng.random(n) < .006  # implemented, never closed
    close = np.where(stale, NEVER, act_e + close_delay.astype(np.int64))
    is_rejected, is_withdrawn = outcome == REJECTED, outcome == WITHDRAWN
    close = np.where(is_rejected,
                     decision + (uniform(rng, 5, 120, n) * MINUTE).astype(np.int64),
                     close)
    close = np.where(is_withdrawn, cancel_at, close)
    never_done = is_rejected | is_withdrawn
    act_s = np.where(never_done, NEVER, act_s)
    act_e = np.where(never_done, NEVER, act_e)
    scheduled = np.where(is_rejected, NEVER, scheduled)

    def until_cancel(t):
        return np.where(is_withdrawn & (t > cancel_at), NEVER, t)

    assess, request, decision, scheduled = (until_cancel(x) for x in
                                            (assess, request, decision, scheduled))

    # --- where each change stands at the end date
    T = t_end
    done = close <= T
    state = np.select(
        [done & never_done, done, act_e <= T, act_s <= T, scheduled <= T,
         request <= T, assess <= T],
        [CANCELLED, CLOSED, REVIEW, IMPLEMENT, SCHEDULED, AUTHORIZE, ASSESS], NEW)
    approval = np.select(
        [std, decision <= T, request <= T],
        [NOT_REQUIRED, np.where(is_rejected, DECLINED, APPROVED), REQUESTED],
        NOT_YET_REQUESTED)
    events = np.stack([created, assess, request, decision, scheduled, act_s, act_e,
                       close])
    updated = np.where(events <= T, events, -1).max(axis=0)

    pattern = s["pattern"].copy()
    u = rng.random(n)
    drawn = np.select(
        [outcome == WITH_ISSUES, outcome == UNSUCCESSFUL, outcome == BACKED_OUT],
        [np.where(u < .35, REDEPLOYED, DEPLOYED),
         np.where(u < .5, DEPLOY_FAILED, DEPLOYED), ROLLED_BACK], DEPLOYED)
    pattern = np.where(pattern == DRAW_PATTERN, drawn, pattern)
    pattern = np.where(never_done, NO_DEPLOYMENT, pattern)

    risk = s["risk"]
    impact = pick_rows(rng, np.array([[70, 25, 5], [35, 50, 15], [10, 50, 40],
                                      [5, 35, 60]], dtype=float)[risk])
    priority = np.clip(4 - (risk + impact) // 2, 1, 4)
    priority = np.where(emergency, np.minimum(priority, np.where(
        rng.random(n) < .3, 1, 2)), priority)
    ci, title = s["ci"], s["title"]
    team = s["team"]
    requester_team = np.where(rng.random(n) < .8, team, ref.app_team[s["app"]])
    requested_by = ref.people[ref.team_people[
        requester_team, rng.integers(0, ref.team_people.shape[1], n)]]

    texts = _cab_texts(title, ci, ~std, emergency)
    order = np.lexsort((s["kind"], ps, created))
    shown = {
        "title": title,
        **texts,
        "change_type": np.array(TYPES, dtype=object)[ctype],
        "state": np.array(STATES, dtype=object)[state],
        "risk": np.array(RISKS, dtype=object)[risk],
        "impact": np.array(IMPACTS, dtype=object)[impact],
        "priority": priority,
        "category": s["category"],
        "application_id": s["app"],
        "ci_name": ci,
        "assignment_group": ref.teams[team],
        "requested_by": requested_by,
        "release_id": s["release"],
        "environment_id": s["env"],
        "is_cab_required": ~std,
        "cab_date": np.where(~std & (request <= T), cab_day, NEVER),
        "approval": np.array(APPROVALS, dtype=object)[approval],
        "created_at": created,
        "approved_at": np.where(approval == APPROVED, decision, NEVER),
        "planned_start_at": ps,
        "planned_end_at": pe,
        "actual_start_at": np.where(act_s <= T, act_s, NEVER),
        "actual_end_at": np.where(act_e <= T, act_e, NEVER),
        "closed_at": np.where(done, close, NEVER),
        "close_code": np.array(CLOSE_CODES + [None], dtype=object)[
            np.where(done, outcome, -1)],
        "updated_at": updated,
    }
    table = {"change_id": np.arange(n)}
    table.update({k: v[order] for k, v in shown.items()})
    eventual = {"kind": s["kind"], "app": s["app"], "env": s["env"],
                "release": s["release"], "outcome": outcome, "as": act_s,
                "ae": act_e, "pattern": pattern, "version": s["version"],
                "previous": s["previous"], "ci": ci}
    eventual = {k: v[order] for k, v in eventual.items()}
    return table, eventual


# what a CAB reads, for normal and emergency changes (standard changes are
# pre-approved and carry none); chosen by position, so no random draw moves
WHY = [
    "Fixes defects reported by the service desk since the last release.",
    "Required to stay on a supported version; the current one leaves vendor "
    "support at the end of the quarter.",
    "Closes findings of the last security review before the audit.",
    "Removes the capacity bottleneck seen at month-end peaks.",
    "Delivers the features committed for this release to the business owner.",
]
TESTED = [
    "Passed the regression suite in SIT and user acceptance in UAT; "
    "performance checked against the last release's baseline.",
    "Deployed and smoke-tested in pre-production with production-like data.",
    "Automated tests green in the pipeline; the rollback was rehearsed in UAT.",
]
EMERGENCY_WHY = ("Restores service after an incident; approved by the "
                 "emergency CAB chair by phone, to be reviewed at the next CAB.")


def _cab_texts(title, ci, carries, emergency) -> dict[str, np.ndarray]:
    n = len(title)
    out = {k: np.full(n, None, dtype=object) for k in (
        "description", "justification", "implementation_plan", "backout_plan",
        "test_plan")}
    for i in np.flatnonzero(carries):
        target = ci[i] if isinstance(ci[i], str) and ci[i] else "the service"
        out["description"][i] = (
            f"{title[i]}. Touches {target} only; users may see a short "
            "interruption while the service restarts.")
        out["justification"][i] = EMERGENCY_WHY if emergency[i] else \
            WHY[i % len(WHY)]
        out["implementation_plan"][i] = (
            "1. Announce the start in the operations channel.\n"
            f"2. Take {target} out of the load balancer and deploy.\n"
            "3. Run the post-deployment checks and return it to service.\n"
            "4. Watch error rates for 30 minutes, then close the task.")
        out["backout_plan"][i] = (
            f"Redeploy the previous version on {target} from the release "
            "repository and restore the configuration backup taken before "
            "step 2 (about 20 minutes).")
        out["test_plan"][i] = TESTED[i % len(TESTED)]
    return out
