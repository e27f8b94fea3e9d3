"""Reference data: applications, teams, people, environments and blackout windows.

Small tables (hundreds of rows at scale 100), so built with plain loops; the
lookup arrays they expose let the large tables be drawn with numpy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog
from .clock import DAY, HOUR, epoch, weekday, year_of

TIER = {t: i for i, t in enumerate(catalog.TIERS)}


@dataclass
class Reference:
    n_variants: int
    # applications
    app_code: np.ndarray  # e.g. "PGW", "PGW-EU"
    app_name: np.ndarray
    app_portfolio: np.ndarray  # index into catalog.PORTFOLIOS
    app_team: np.ndarray  # owner team, index into teams
    app_crit: np.ndarray  # index into catalog.CRITICALITY
    app_gap: np.ndarray  # release gap, days
    app_variant: np.ndarray
    # teams (assignment groups): app teams per region, then infra teams
    teams: np.ndarray
    team_profile: np.ndarray  # (n, 4): fail first year, fail last year, std, emg
    team_is_infra: np.ndarray
    team_people: np.ndarray  # (n, k) person index
    people: np.ndarray
    # environments
    env_app: np.ndarray  # -1 = shared
    env_tier: np.ndarray
    env_name: np.ndarray
    env_book_weight: np.ndarray
    env_of: np.ndarray  # (n_apps, n_tiers) -> environment or -1
    shared_of: np.ndarray  # (n_variants, n_tiers, k) -> environment or -1
    ci_table: np.ndarray  # (environment, component, instance) -> CI name
    tables: dict  # applications, environments, blackout_windows columns


def build(rng, scale: float, t_start: int, t_end: int) -> Reference:
    n_variants = max(1, int(round(np.sqrt(scale))))
    apps, teams, profiles, infra = _applications(n_variants)
    people, team_people = _people(rng, len(teams))
    envs = _environments(rng, apps, n_variants)
    n_apps = len(apps["code"])
    env_of = np.full((n_apps, len(catalog.TIERS)), -1, dtype=np.int64)
    for e, (a, tier) in enumerate(zip(envs["app"], envs["tier"], strict=True)):
        if a >= 0 and env_of[a, tier] < 0:
            env_of[a, tier] = e
    shared_of = np.full((n_variants, len(catalog.TIERS), 4), -1, dtype=np.int64)
    for e, (a, tier, v) in enumerate(zip(envs["app"], envs["tier"], envs["variant"],
                                         strict=True)):
        if a < 0:
            slot = int((shared_of[v, tier] >= 0).sum())
            shared_of[v, tier, slot] = e
    windows = _windows(apps, envs, t_start, t_end)
    team_names = np.array(teams, dtype=object)
    tables = {
        "applications": {
            "application_id": np.arange(n_apps),
            "name": np.array(apps["name"], dtype=object),
            "portfolio": np.array([catalog.PORTFOLIOS[p] for p in apps["portfolio"]],
                                  dtype=object),
            "owner_team": team_names[apps["team"]],
            "criticality": np.array([catalog.CRITICALITY[c] for c in apps["crit"]],
                                    dtype=object),
        },
        "environments": {
            "environment_id": np.arange(len(envs["name"])),
            "name": np.array(envs["name"], dtype=object),
            "tier": np.array([catalog.TIERS[t] for t in envs["tier"]], dtype=object),
            "application_id": np.array(envs["app"]),
            "environment_group": np.array(envs["group"], dtype=object),
            "is_shared": np.array(envs["app"]) < 0,
            "capacity": np.array(envs["capacity"]),
            "timezone": np.array(envs["timezone"], dtype=object),
            "availability": np.array(envs["availability"], dtype=object),
        },
        "blackout_windows": windows,
    }
    return Reference(
        n_variants=n_variants,
        app_code=np.array(apps["code"], dtype=object),
        app_name=np.array(apps["name"], dtype=object),
        app_portfolio=np.array(apps["portfolio"]),
        app_team=np.array(apps["team"]),
        app_crit=np.array(apps["crit"]),
        app_gap=np.array(apps["gap"], dtype=float),
        app_variant=np.array(apps["variant"]),
        teams=team_names,
        team_profile=np.array(profiles, dtype=float),
        team_is_infra=np.array(infra),
        team_people=team_people,
        people=people,
        env_app=np.array(envs["app"]),
        env_tier=np.array(envs["tier"]),
        env_name=np.array(envs["name"], dtype=object),
        env_book_weight=np.array(envs["book_weight"], dtype=float),
        env_of=env_of,
        shared_of=shared_of,
        ci_table=_ci_table(envs, apps["code"]),
        tables=tables,
    )


def region_suffix(v: int) -> str:
    """"" for the first copy of the estate, then " EU", " US", ..., " EU 2", ..."""
    if v == 0:
        return ""
    suffix = " " + catalog.REGIONS[(v - 1) % len(catalog.REGIONS)][0]
    if v > len(catalog.REGIONS):
        suffix += f" {(v - 1) // len(catalog.REGIONS) + 1}"
    return suffix


def _applications(n_variants):
    apps = {k: [] for k in ("code", "name", "portfolio", "team", "crit", "gap",
                            "variant", "tz")}
    teams, profiles, infra = [], [], []
    for v in range(n_variants):
        suffix = region_suffix(v)
        region_tz = None if v == 0 else catalog.REGIONS[(v - 1) % len(catalog.REGIONS)][1]
        team_index = {}
        for team, profile in catalog.TEAMS.items():
            team_index[team] = len(teams)
            teams.append(team + suffix)
            profiles.append(profile)
            infra.append(False)
        for code, name, portfolio, team, crit, tz, gap in catalog.APPLICATIONS:
            apps["code"].append(code + suffix.replace(" ", "-"))
            apps["name"].append(name + suffix)
            apps["portfolio"].append(catalog.PORTFOLIOS.index(portfolio))
            apps["team"].append(team_index[team])
            apps["crit"].append(catalog.CRITICALITY.index(crit))
            apps["gap"].append(gap)
            apps["variant"].append(v)
            apps["tz"].append(tz if region_tz is None or tz == "UTC" else region_tz)
    for team, profile in catalog.INFRA_TEAMS.items():
        teams.append(team)
        profiles.append(profile)
        infra.append(True)
    return apps, teams, profiles, infra


def _people(rng, n_teams, per_team=8):
    first = np.array(catalog.FIRST_NAMES, dtype=object)
    last = np.array(catalog.LAST_NAMES, dtype=object)
    n = n_teams * per_team
    combos = rng.permutation(len(first) * len(last))
    combos = np.concatenate([combos] * (n // len(combos) + 1))[:n]
    names = first[combos // len(last)] + " " + last[combos % len(last)]
    if n > len(first) * len(last):  # more people than names: number the repeats
        repeat = np.arange(n) // (len(first) * len(last))
        names = np.where(repeat > 0, names + " " + (repeat + 1).astype(str), names)
    return names, np.arange(n).reshape(n_teams, per_team)


def _environments(rng, apps, n_variants):
    envs = {k: [] for k in ("name", "tier", "app", "variant", "group", "capacity",
                            "timezone", "availability", "book_weight")}

    def add(name, tier, app, variant, group, capacity, tz, availability, weight):
        for key, value in zip(envs, (name, TIER[tier], app, variant, group, capacity,
                                     tz, availability, weight), strict=True):
            envs[key].append(value)

    for v in range(n_variants):
        for a in np.flatnonzero(np.array(apps["variant"]) == v):
            crit = catalog.CRITICALITY[apps["crit"][a]]
            group = catalog.PORTFOLIOS[apps["portfolio"][a]]
            for tier, p in catalog.CHAIN[crit]:
                if p < 1 and rng.random() >= p:
                    continue
                live = tier in ("prod", "dr")
                capacity = 2 if tier in ("dev", "test") else 1
                tz = "UTC" if live else apps["tz"][a]
                hours = (tier == "uat" and rng.random() < .5) or (
                    tier == "sit" and rng.random() < .15)
                add(f"{apps['code'][a]}-{catalog.TIER_CODE[tier]}", tier, int(a), v,
                    group, capacity, tz, "business_hours" if hours else "always",
                    0.6 if tier in ("sit", "uat", "perf", "staging") else 0.0)
        for name, tier, group, capacity, tz, availability, weight in (
                catalog.SHARED_ENVIRONMENTS):
            add(name + region_suffix(v), tier, -1, v, group, capacity, tz, availability,
                weight)
    return envs


def _ci_table(envs, app_code) -> np.ndarray:
    """Names such as pgw-api-prd01 or shared-sit-1-app01 for every environment,
    catalog component and instance 1-3."""
    table = np.empty((len(envs["name"]), len(catalog.COMPONENTS), 3), dtype=object)
    for e, (name, app, tier) in enumerate(zip(envs["name"], envs["app"], envs["tier"],
                                              strict=True)):
        if app >= 0:
            stem = (app_code[app].lower() + "-{}-"
                    + catalog.TIER_CODE[catalog.TIERS[tier]].lower() + "0{}")
        else:
            stem = name.lower().replace(" ", "-") + "-{}0{}"
        for c, part in enumerate(catalog.COMPONENTS):
            for i in range(3):
                table[e, c, i] = stem.format(part, i + 1)
    return table


def _windows(apps, envs, t_start, t_end):
    """Year-end freezes, monthly maintenance, business blackouts, in time order."""
    rows = []  # (start, end, name, kind, app, env)
    first_year, last_year = year_of(t_start), year_of(t_end + 365 * DAY)
    horizon = t_end + 180 * DAY
    names = list(apps["name"])
    by_name = {}  # catalog name -> the applications (one per region) of that name
    for a in range(len(names)):
        base = catalog.APPLICATIONS[a % len(catalog.APPLICATIONS)][1]
        by_name.setdefault(base, []).append(a)
    # maintenance windows belong to the systems that define one: the production
    # environments of the Core Banking portfolio (a window that applies to every
    # environment would flag every other planned change "outside maintenance")
    maintained = [e for e, (a, tier) in enumerate(zip(envs["app"], envs["tier"],
                                                      strict=True))
                  if a >= 0 and tier == TIER["prod"]
                  and catalog.PORTFOLIOS[apps["portfolio"][a]] == "Core Banking"]
    for year in range(first_year - 1, last_year + 1):
        start = epoch(year, 12, 15)
        if t_start - 30 * DAY <= start <= t_end + 365 * DAY:
            rows.append((start, epoch(year + 1, 1, 5), f"Year-end change freeze {year}",
                         "freeze", -1, -1))
        for month in range(1, 13):
            first = epoch(year, month, 1)
            sunday = first + ((6 - weekday(first // DAY)) % 7) * DAY
            if t_start <= sunday <= horizon:
                for e in maintained:
                    rows.append((sunday + 2 * HOUR, sunday + 6 * HOUR,
                                 f"Monthly maintenance {year}-{month:02d}: "
                                 f"{envs['name'][e]}", "maintenance", -1, e))
        # Black Friday: the fourth Thursday of November, frozen to the Tuesday after
        first = epoch(year, 11, 1)
        thursday = first + ((3 - weekday(first // DAY)) % 7) * DAY + 21 * DAY
        if t_start <= thursday <= horizon:
            for base in ("Payments Gateway", "Card Authorisation", "Customer Portal",
                         "Mobile Banking App"):
                for a in by_name[base]:
                    rows.append((thursday, thursday + 5 * DAY,
                                 f"Peak trading blackout {year}: {names[a]}",
                                 "blackout", a, -1))
        for quarter_end in ((3, 31), (6, 30), (9, 30)):
            end = epoch(year, *quarter_end) + DAY
            if t_start <= end <= horizon:
                for base in ("Finance General Ledger", "Regulatory Reporting",
                             "Settlement Engine"):
                    for a in by_name[base]:
                        rows.append((end - 3 * DAY, end + 2 * DAY,
                                     f"Quarter-end close {year}-{quarter_end[0]:02d}:"
                                     f" {names[a]}", "blackout", a, -1))
    # quarterly data-centre power work, Thursday 18:00 for 12 hours, every 13
    # weeks and so always once in the CAB week after t_end (the next Tuesday
    # onwards): the agenda then has changes that hit a blackout
    to_tuesday = (1 - weekday(t_end // DAY)) % 7 or 7
    anchor = t_end + (to_tuesday + 2) * DAY + 18 * HOUR
    k = (anchor - t_start) // (91 * DAY)
    for i in range(-k, 3):
        start = anchor + i * 91 * DAY
        if start >= t_start:
            rows.append((start, start + 12 * HOUR, "Data centre power maintenance",
                         "blackout", -1, -1))
    # environment-specific: a storage migration of each region's Shared SIT 1
    for e, name in enumerate(envs["name"]):
        if name.startswith("Shared SIT 1"):
            start = t_end - 200 * DAY + 8 * HOUR
            rows.append((start, start + 3 * DAY, f"{name} storage migration",
                         "blackout", -1, e))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    start, end, name, kind, app, env = (list(c) for c in zip(*rows, strict=True))
    return {
        "window_id": np.arange(len(rows)),
        "name": np.array(name, dtype=object),
        "kind": np.array(kind, dtype=object),
        "application_id": np.array(app),
        "environment_id": np.array(env),
        "start_at": np.array(start, dtype=np.int64),
        "end_at": np.array(end, dtype=np.int64),
    }
