"""Releases, their phases (planned and actual), and the changes they bring.

Each release brings a cutover change, a second attempt after a failed one, and
sometimes a companion database, configuration or network change."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog
from .changes import (
    BACKED_OUT,
    DEPLOY_FAILED,
    DEPLOYED,
    NO_DEPLOYMENT,
    NORMAL,
    REDEPLOYED,
    ROLLED_BACK,
    STANDARD,
    SUCCESSFUL,
    UNSUCCESSFUL,
    WITH_ISSUES,
    WITHDRAWN,
    ci_names,
    failure_probability,
    spec,
)
from .clock import (
    DAY,
    HOUR,
    MINUTE,
    NEVER,
    after_freeze,
    ceil_to,
    epoch,
    fill,
    floor_to,
    in_freeze,
    lognormal,
    pick,
    pick_rows,
    uniform,
    weekday,
    year_of,
)
from .reference import TIER, Reference, region_suffix

ENTERPRISE, PROJECT, INDEPENDENT = 0, 1, 2
RELEASE_TYPES = ["enterprise", "project", "independent"]
STATUSES = ["draft", "planned", "in_progress", "released", "cancelled"]
DRAFT, PLANNED, IN_PROGRESS, RELEASED, CANCELLED = range(5)
PHASES = ["dev", "sit", "uat", "perf", "staging", "prod"]
PHASE_WEIGHT = np.array([.30, .25, .25, .12, .08])
# cutover outcome: fine; a failed first deployment fixed in the same window;
# backed out and redone days later; failed and redone days later
OK, RETRIED, BACKED_OUT_REDONE, FAILED_REDONE = range(4)
RELEASES_PER_SCALE = 580  # plus enterprise parents, ~600 in all at scale 1


@dataclass
class Releases:
    tables: dict  # releases, release_phases
    app: np.ndarray
    kind: np.ndarray
    pe: np.ndarray  # actual go-live, eventually (NEVER if cancelled)
    cancel_at: np.ndarray
    version: np.ndarray  # (major, minor) as "M.m.0"
    seq: np.ndarray  # index of the release within its application
    base_major: np.ndarray  # per application: version numbering
    k0: np.ndarray
    per_major: np.ndarray
    # phases, long form (eventual actuals, NEVER = not (yet) happened)
    ph_release: np.ndarray
    ph_phase: np.ndarray
    ph_env: np.ndarray
    ph_ps: np.ndarray
    ph_pe: np.ndarray
    ph_as: np.ndarray
    ph_ae: np.ndarray
    changes: dict  # change specs (see changes.spec)


def version_of(major, minor, patch):
    """"M.m.p" strings; formatted once per distinct version, then indexed."""
    key = (np.asarray(major) * 1000 + minor) * 1000 + patch
    distinct, inverse = np.unique(key, return_inverse=True)
    text = np.array([f"{k // 1000000}.{k // 1000 % 1000}.{k % 1000}" for k in distinct],
                    dtype=object)
    return text[inverse]


def build(rng, ref: Reference, scale, t_start, t_end) -> Releases:
    n_apps = len(ref.app_code)
    # --- how many releases each application gets: proportional to its cadence
    rate = 1.0 / ref.app_gap
    share = RELEASES_PER_SCALE * scale * rate / rate.sum()
    counts = np.floor(share).astype(np.int64)
    short = int(round(RELEASES_PER_SCALE * scale)) - counts.sum()
    if short > 0:
        counts[np.argsort(-(share - counts), kind="stable")[:short]] += 1
    app = np.repeat(np.arange(n_apps), counts)
    n = len(app)

    # --- planned go-live: regular-ish gaps (gamma, shape 6) across the window
    w0, w1 = t_start + 30 * DAY, t_end + 150 * DAY
    gaps = rng.gamma(6.0, 1.0, n)
    cum = np.cumsum(gaps)
    group_start = np.repeat(np.cumsum(counts) - counts, counts)
    within = cum - (cum[group_start] - gaps[group_start])
    total = np.bincount(app, weights=gaps, minlength=n_apps) + rng.gamma(6.0, 1.0,
                                                                           n_apps)
    raw = w0 + within / total[app] * (w1 - w0)
    crit = ref.app_crit[app]
    day = _go_live_day(rng, raw // DAY, crit)
    hour = np.array([6, 18, 19, 20, 21, 22])[pick(rng, [12, 15, 15, 30, 18, 10], n)]
    prel = day * DAY + hour * HOUR
    frozen = in_freeze(prel) & (rng.random(n) < .95)
    moved = after_freeze(prel[frozen]) // DAY + rng.integers(2, 7, frozen.sum())
    prel[frozen] = _go_live_day(rng, moved, crit[frozen]) * DAY + hour[frozen] * HOUR

    gap = ref.app_gap[app]
    p_independent = np.select([gap <= 14, gap <= 30], [.5, .35], .15)
    kind = np.where(rng.random(n) < p_independent, INDEPENDENT, PROJECT)

    # --- enterprise releases: quarterly go-lives that project releases of some
    # portfolios near them snap to; one parent per portfolio, region and quarter
    grid = _enterprise_grid(t_start, t_end)
    near = np.clip(np.searchsorted(grid, prel), 1, len(grid) - 1)
    near = np.where(np.abs(grid[near - 1] - prel) < np.abs(grid[near] - prel),
                    near - 1, near)
    portfolio = ref.app_portfolio[app]
    eligible = np.isin(portfolio, [catalog.PORTFOLIOS.index(p)
                                   for p in catalog.ENTERPRISE_PORTFOLIOS])
    child = (eligible & (kind == PROJECT) & (gap >= 30)
             & (np.abs(grid[near] - prel) < 12 * DAY) & (grid[near] <= w1))
    prel[child] = grid[near[child]]
    group_key = (portfolio * ref.n_variants + ref.app_variant[app]) * len(grid) + near
    keys, parent_local = np.unique(group_key[child], return_inverse=True)
    n_parents = len(keys)
    parent = np.full(n, -1, dtype=np.int64)
    parent[child] = n + parent_local

    # --- plan: duration from creation to go-live grows with the cadence
    duration = np.where(kind == PROJECT,
                        np.clip(gap * uniform(rng, 1.0, 1.8, n), 10, 120),
                        np.clip(gap * uniform(rng, .5, 1.0, n), 4, 30))
    p0 = floor_to(prel - (duration * DAY).astype(np.int64), DAY) + 8 * HOUR
    cut = np.array([2, 3, 4, 6])[pick(rng, [3, 4, 2, 1], n)] * HOUR
    pcut = prel - cut
    created = p0 - (uniform(rng, 7, 45, n) * DAY).astype(np.int64)
    late_created = created > t_end
    created[late_created] = t_end - (uniform(rng, 1, 480, late_created.sum())
                                     * HOUR).astype(np.int64)
    risk_w = np.where((kind == PROJECT)[:, None], [[20, 45, 28, 7]], [[50, 40, 9, 1]])
    risk_w = risk_w * np.stack([np.ones(n), np.ones(n), 1 + .3 * crit, 1 + .5 * crit],
                               axis=1)
    risk = pick_rows(rng, risk_w)

    # --- how it went: slip (per-application habit), cancellation, cutover
    p_late = (.2 + .35 * rng.random(n_apps))[app] * np.where(kind == PROJECT, 1.2, .7)
    u = rng.random(n)
    late, early = u < p_late, (u >= p_late) & (u < p_late + .04)
    slip_days = np.where(late, np.clip(np.ceil(lognormal(rng, 2.5, 1.0, n)), 1, 60),
                         np.where(early, -rng.integers(1, 3, n), 0)).astype(np.int64)
    ps = pcut + slip_days * DAY + (uniform(rng, -20, 60, n) * MINUTE).astype(np.int64)
    a0 = p0 + np.where(rng.random(n) < .5,
                       (uniform(rng, 0, .5, n) * np.maximum(slip_days, 0) * DAY),
                       0).astype(np.int64)

    change_type = np.where((kind == INDEPENDENT) & (rng.random(n) < .4), STANDARD,
                           NORMAL)
    # the cutover change is raised one to three weeks before (standard: days)
    lead = np.where(change_type == NORMAL, uniform(rng, 7, 21, n),
                    uniform(rng, 2, 7, n))
    c_created = np.maximum(pcut - (lead * DAY).astype(np.int64),
                           created + (uniform(rng, 1, 24, n) * HOUR).astype(np.int64))
    c_created = np.minimum(c_created, pcut - 2 * HOUR)
    change_risk = np.where(change_type == STANDARD, np.minimum(risk, 1), risk)
    team = ref.app_team[app]
    p_fail = failure_probability(ref, change_type, change_risk, team, crit, pcut,
                                 t_start, t_end)
    u = rng.random(n)
    outcome = np.select([u < p_fail, u < p_fail + .07],
                        [np.where(rng.random(n) < .55, BACKED_OUT_REDONE,
                                  FAILED_REDONE), RETRIED], OK)
    e1 = ps + (cut * np.where(outcome == BACKED_OUT_REDONE, uniform(rng, .8, 1.6, n),
                              uniform(rng, .6, 1.3, n))).astype(np.int64)
    redo = outcome >= BACKED_OUT_REDONE
    r0 = ceil_to(e1 + (uniform(rng, 2, 10, n) * DAY).astype(np.int64), 15 * MINUTE)
    r_created = e1 + (uniform(rng, 1, 20, n) * HOUR).astype(np.int64)
    r_as = r0 + (uniform(rng, 0, 15, n) * MINUTE).astype(np.int64)
    r_ae = r_as + (cut * uniform(rng, .6, 1.1, n)).astype(np.int64)
    pe = np.where(redo, r_ae, e1)

    cancelled = rng.random(n) < np.where(kind == PROJECT, .05, .03)
    cancel_at = created + (uniform(rng, .2, .95, n) * (pcut - created)).astype(np.int64)
    cancel_at = np.minimum(cancel_at, np.minimum(pcut, ps) - HOUR)
    cancel_at = np.where(cancelled, np.maximum(cancel_at, created + HOUR), NEVER)
    pe = np.where(cancelled, NEVER, pe)

    # --- versions: numbered per application in go-live order
    order = np.lexsort((prel, app))
    seq = np.empty(n, dtype=np.int64)
    seq[order] = np.arange(n) - group_start[order]
    base_major = rng.integers(1, 9, n_apps)
    per_major = np.maximum(4, np.round(365 / ref.app_gap)).astype(np.int64)
    k0 = rng.integers(1, 4, n_apps)
    major = base_major[app] + (seq + k0[app]) // per_major[app]
    minor = (seq + k0[app]) % per_major[app]
    version = version_of(major, minor, np.zeros(n, dtype=np.int64))
    name = ref.app_name[app] + " " + major.astype(str).astype(object) + "." + \
        minor.astype(str).astype(object)

    # --- enterprise parents, from their children
    parent_app = np.full(n_parents, -1, dtype=np.int64)
    first_child = np.full(n_parents, n, dtype=np.int64)
    np.minimum.at(first_child, parent_local, np.flatnonzero(child))
    p_prel = grid[near[first_child]]
    p_p0 = np.full(n_parents, NEVER)
    np.minimum.at(p_p0, parent_local, p0[child])
    p_p0 = p_p0 - 3 * DAY
    p_created = np.full(n_parents, NEVER)
    np.minimum.at(p_created, parent_local, created[child])
    p_created = p_created - (uniform(rng, 2, 10, n_parents) * DAY).astype(np.int64)
    p_a0 = np.full(n_parents, NEVER)
    np.minimum.at(p_a0, parent_local, a0[child])
    p_ps = np.full(n_parents, NEVER)
    np.minimum.at(p_ps, parent_local, ps[child])
    live = child & ~cancelled
    p_pe = np.full(n_parents, -1, dtype=np.int64)
    np.maximum.at(p_pe, parent_local[live[child]], pe[live])
    p_cancel = np.full(n_parents, -1, dtype=np.int64)
    np.maximum.at(p_cancel, parent_local, cancel_at[child])
    all_cancelled = p_pe < 0
    p_pe = np.where(all_cancelled, NEVER, p_pe)
    p_cancel = np.where(all_cancelled, p_cancel, NEVER)
    p_portfolio = keys // len(grid) // ref.n_variants
    p_variant = keys // len(grid) % ref.n_variants
    year, quarter = _year_quarter(p_prel)
    suffix = np.array([region_suffix(v) for v in range(ref.n_variants)],
                      dtype=object)[p_variant]
    p_name = (np.array(catalog.PORTFOLIOS, dtype=object)[p_portfolio] + suffix + " "
              + year.astype(str).astype(object) + " Q"
              + quarter.astype(str).astype(object) + " Enterprise Release")
    p_version = year.astype(str).astype(object) + ".Q" + quarter.astype(str).astype(
        object)

    def both(mine, theirs):
        return np.concatenate([mine, theirs])

    N = n + n_parents
    app_all = both(app, parent_app)
    kind_all = both(kind, np.full(n_parents, ENTERPRISE))
    prel_all = both(prel, p_prel)
    pcut_all = both(pcut, p_prel - 4 * HOUR)
    p0_all = both(p0, p_p0)
    created_all = both(created, p_created)
    a0_all = both(a0, p_a0)
    ps_all = both(ps, p_ps)
    pe_all = both(pe, p_pe)
    cancel_all = both(cancel_at, p_cancel)
    risk_all = both(risk, np.where(rng.random(n_parents) < .6, 3, 2))
    version_all = both(version, p_version)
    name_all = both(name, p_name)
    parent_all = both(parent, np.full(n_parents, -1))
    variant_all = both(ref.app_variant[app], p_variant)
    no_change_yet = both(c_created > t_end, np.ones(n_parents, dtype=bool))
    status = np.select(
        [cancel_all <= t_end, pe_all <= t_end, a0_all <= t_end,
         (p0_all > t_end + 21 * DAY) & no_change_yet & (rng.random(N) < .55)],
        [CANCELLED, RELEASED, IN_PROGRESS, DRAFT], PLANNED)

    phases = _phases(rng, ref, kind_all, app_all, variant_all, p0_all, pcut_all,
                     prel_all, a0_all, ps_all, pe_all, cancel_all, t_end)

    # --- id order: by creation
    rel_order = np.lexsort((prel_all, app_all, created_all))
    rank = np.empty(N, dtype=np.int64)
    rank[rel_order] = np.arange(N)
    releases = {
        "release_id": np.arange(N),
        "name": name_all[rel_order],
        "version": version_all[rel_order],
        "release_type": np.array(RELEASE_TYPES, dtype=object)[kind_all[rel_order]],
        "parent_release_id": np.where(parent_all >= 0, rank[np.maximum(parent_all, 0)],
                                      -1)[rel_order],
        "application_id": app_all[rel_order],
        "status": np.array(STATUSES, dtype=object)[status[rel_order]],
        "risk": np.array(["low", "moderate", "high", "very_high"],
                         dtype=object)[risk_all[rel_order]],
        "created_at": created_all[rel_order],
        "planned_start_at": p0_all[rel_order],
        "planned_release_at": prel_all[rel_order],
        "actual_release_at": np.where(status == RELEASED, pe_all, NEVER)[rel_order],
    }
    ph_release = rank[phases["release"]]
    ph_order = np.lexsort((phases["phase"], ph_release))
    cutoff = np.minimum(t_end, cancel_all[phases["release"]])
    ph_as = phases["as"]
    ph_ae = phases["ae"]
    started = ph_as <= cutoff
    shown_as = np.where(started, ph_as, NEVER)
    stopped_by_cancel = started & (ph_ae > cutoff) & (cutoff < t_end)
    shown_ae = np.where(started & (ph_ae <= cutoff), ph_ae,
                        np.where(stopped_by_cancel, cutoff, NEVER))
    release_phases = {
        "release_id": ph_release[ph_order],
        "phase": np.array(PHASES, dtype=object)[phases["phase"][ph_order]],
        "planned_start_at": phases["ps"][ph_order],
        "planned_end_at": phases["pe"][ph_order],
        "actual_start_at": shown_as[ph_order],
        "actual_end_at": shown_ae[ph_order],
    }

    changes = _release_changes(
        rng, ref, t_end, app=app, rank=rank[:n], kind=kind, created=created,
        c_created=c_created,
        pcut=pcut, prel=prel, cut=cut, ps=ps, e1=e1, outcome=outcome,
        change_type=change_type, change_risk=change_risk, cancel_at=cancel_at,
        r_created=r_created, r0=r0, r_as=r_as, r_ae=r_ae, version=version,
        previous=version_of(base_major[app] + (seq - 1 + k0[app]) // per_major[app],
                            (seq - 1 + k0[app]) % per_major[app],
                            np.zeros(n, dtype=np.int64)))

    inv = rel_order
    return Releases(
        tables={"releases": releases, "release_phases": release_phases},
        app=app_all[inv], kind=kind_all[inv], pe=pe_all[inv],
        cancel_at=cancel_all[inv], version=version_all[inv],
        seq=both(seq, np.full(n_parents, -1))[inv],
        base_major=base_major, k0=k0, per_major=per_major,
        ph_release=ph_release, ph_phase=phases["phase"], ph_env=phases["env"],
        ph_ps=phases["ps"], ph_pe=phases["pe"], ph_as=np.where(started, ph_as, NEVER),
        ph_ae=np.where(started & (ph_ae <= cutoff), ph_ae, NEVER),
        changes=changes,
    )


def _go_live_day(rng, day, crit):
    """Move go-lives to Tuesday-Thursday; critical systems keep some Saturdays."""
    wd = weekday(day)
    shift = np.select([wd == 0, wd == 4, wd == 5, wd == 6], [1, -1, -2, 2], 0)
    keep = (wd == 5) & (crit == 3) & (rng.random(len(day)) < .5)
    return day + np.where(keep, 0, shift)


def _enterprise_grid(t_start, t_end):
    """Second Saturday of Feb, May, Aug and Nov, 20:00 UTC."""
    grid = []
    for year in range(year_of(t_start) - 1, year_of(t_end) + 3):
        for month in (2, 5, 8, 11):
            day1 = epoch(year, month, 1)
            saturday = day1 + ((5 - weekday(day1 // DAY)) % 7) * DAY + 7 * DAY
            grid.append(saturday + 20 * HOUR)
    return np.array(grid, dtype=np.int64)


def _year_quarter(t):
    d = (t // DAY).astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12
    return year, month // 3 + 1


def _phases(rng, ref, kind, app, variant, p0, pcut, prel, a0, ps, pe, cancel_at,
            t_end):
    N = len(kind)
    safe_app = np.maximum(app, 0)
    has_env = ref.env_of[safe_app] >= 0  # (N, tiers)
    crit = np.where(app >= 0, ref.app_crit[safe_app], 3)
    u = rng.random((N, 4))
    project, independent, enterprise = (kind == PROJECT, kind == INDEPENDENT,
                                        kind == ENTERPRISE)
    has = np.zeros((N, len(PHASES)), dtype=bool)
    has[:, 0] = ~enterprise
    has[:, 1] = project | enterprise | (independent & (u[:, 0] < .4))
    has[:, 2] = True
    has[:, 3] = ((project & (has_env[:, TIER["perf"]] | ((crit >= 2) & (u[:, 1] < .5))))
                 | (enterprise & (u[:, 2] < .5)))
    has[:, 4] = has_env[:, TIER["staging"]] & (project | (independent & (u[:, 3] < .5)))
    has[:, 5] = True
    weight = has[:, :5] * PHASE_WEIGHT
    end_frac = np.cumsum(weight, axis=1) / weight.sum(axis=1, keepdims=True)
    start_frac = end_frac - weight / weight.sum(axis=1, keepdims=True)
    span = (pcut - p0)[:, None]
    plan_s = floor_to(p0[:, None] + (start_frac * span).astype(np.int64), HOUR)
    plan_e = floor_to(p0[:, None] + (end_frac * span).astype(np.int64), HOUR)
    plan_s = np.concatenate([plan_s, pcut[:, None]], axis=1)
    plan_e = np.concatenate([plan_e, prel[:, None]], axis=1)
    # actual pre-production phases stretch [p0, pcut] onto [a0, ps]
    stretch = (ps - a0) / (pcut - p0)
    act_s = a0[:, None] + ((plan_s - p0[:, None]) * stretch[:, None]).astype(np.int64)
    act_e = a0[:, None] + ((plan_e - p0[:, None]) * stretch[:, None]).astype(np.int64)
    act_s[:, 5], act_e[:, 5] = ps, pe
    rel, phase = np.nonzero(has)
    # environment each phase uses (and books): the application's own of that
    # tier, else one of its region's shared ones
    tier = np.array([TIER[p] for p in PHASES])[phase]
    own = np.where(app[rel] >= 0, ref.env_of[safe_app[rel], tier], -1)
    own = np.where((phase == 1) & (rng.random(len(rel)) < .25), -1, own)
    shared = ref.shared_of[variant[rel], tier]
    n_shared = (shared >= 0).sum(axis=1)
    pick_shared = shared[np.arange(len(rel)),
                         np.minimum((rng.random(len(rel)) * n_shared).astype(np.int64),
                                    np.maximum(n_shared - 1, 0))]
    env = np.where(own >= 0, own, pick_shared)
    env = np.where((phase == 5) & (kind[rel] == ENTERPRISE), -1, env)
    return {"release": rel, "phase": phase, "env": env,
            "ps": plan_s[rel, phase], "pe": plan_e[rel, phase],
            "as": np.where(act_s[rel, phase] >= NEVER // 2, NEVER, act_s[rel, phase]),
            "ae": np.where(act_e[rel, phase] >= NEVER // 2, NEVER, act_e[rel, phase])}


def _release_changes(rng, ref, t_end, *, app, rank, kind, created, c_created,
                     pcut, prel, cut, ps, e1, outcome, change_type, change_risk,
                     cancel_at, r_created, r0, r_as, r_ae, version, previous):
    """Change specs: cutover, second attempt, companions (see changes.spec)."""
    n = len(app)
    team = ref.app_team[app]
    app_name = ref.app_name[app]
    prod = ref.env_of[app, TIER["prod"]]
    close_code = np.array([SUCCESSFUL, WITH_ISSUES, BACKED_OUT, UNSUCCESSFUL])[outcome]
    pattern = np.array([DEPLOYED, REDEPLOYED, ROLLED_BACK, DEPLOY_FAILED])[outcome]
    main = spec(
        kind=1, app=app, team=team, type=change_type, risk=change_risk,
        category="Software",
        title=fill("Deploy {app} {version} to production", app=app_name,
                   version=version),
        release=rank, env=prod, ci=ci_names(rng, ref, prod, "app"),
        created=c_created, ps=pcut, pe=prel, as_=ps, ae=e1,
        outcome=np.where(cancel_at < NEVER, WITHDRAWN, close_code),
        cancel_at=cancel_at, pattern=pattern, version=version, previous=previous)
    second = spec(
        kind=2, app=app, team=team, type=NORMAL, risk=change_risk,
        category="Software",
        title=fill("Re-deploy {app} {version} to production (second attempt)",
                   app=app_name, version=version),
        release=rank, env=prod, ci=main["ci"],
        created=r_created, ps=r0, pe=r0 + cut, as_=r_as, ae=r_ae,
        outcome=SUCCESSFUL, cancel_at=NEVER, pattern=DEPLOYED, version=version,
        previous=previous)
    companions = catalog.COMPANION_CHANGES
    which = pick(rng, [c[4] for c in companions], n)
    team_index = {name: i for i, name in enumerate(ref.teams)}
    comp_team = np.array([team_index[c[2]] if c[2] else -1
                          for c in companions])[which]
    comp_title = np.empty(n, dtype=object)
    for j, c in enumerate(companions):
        rows = which == j
        comp_title[rows] = fill(c[0], app=app_name[rows], version=version[rows])
    comp_created = np.maximum(created + HOUR,
                              c_created - (uniform(rng, 0, 3, n) * DAY).astype(np.int64))
    comp_type = np.where(rng.random(n) < .6, NORMAL, STANDARD)
    companion = spec(
        kind=3, app=app, team=np.where(comp_team >= 0, comp_team, team),
        type=comp_type,
        risk=np.minimum(change_risk, np.where(comp_type == STANDARD, 1, 2)),
        category=np.array([c[1] for c in companions], dtype=object)[which],
        title=comp_title, release=rank, env=prod,
        ci=ci_names(rng, ref, prod, np.array([catalog.COMPONENTS.index(c[3])
                                              for c in companions])[which]),
        created=comp_created, ps=pcut - 2 * HOUR, pe=pcut + HOUR,
        as_=ps - 2 * HOUR + (uniform(rng, 0, 20, n) * MINUTE).astype(np.int64),
        ae=ps + (uniform(rng, 10, 80, n) * MINUTE).astype(np.int64),
        outcome=np.where(cancel_at < NEVER, WITHDRAWN, -1), cancel_at=cancel_at,
        pattern=NO_DEPLOYMENT, version=version, previous=previous)
    has_main = (c_created <= t_end) & (c_created < cancel_at)
    has_second = ((outcome >= BACKED_OUT_REDONE) & (cancel_at == NEVER)
                  & (r_created <= t_end))
    has_companion = ((rng.random(n) < np.where(kind == PROJECT, .6, .3))
                     & (comp_created <= t_end) & (comp_created < cancel_at))
    return {k: np.concatenate([main[k][has_main], second[k][has_second],
                               companion[k][has_companion]]) for k in main}
