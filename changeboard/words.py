"""Codes as the pages write them, without Streamlit: the chart modules
(changeboard.env_charts) use them, and changeboard.launch loads those before
the server has made its runtime (changeboard.ui, which re-exports these,
declares caches that need it)."""
from __future__ import annotations

import re

import pandas as pd

TIERS = {"dev": "Dev", "test": "Test", "sit": "SIT", "uat": "UAT",
         "perf": "Performance", "staging": "Staging", "prod": "Production",
         "dr": "DR", "other": "Other"}
# a release's phases, mostly named after the tier they run on (sit -> SIT)
PHASES = {**TIERS, "pre_prod": "Pre-production",
          "preprod": "Pre-production"}


# a rate over fewer than this many records is a small sample: the rate
# lines grey its point, the Overview's deltas and the CAB pack's KPIs say
# its n (one change of 15 drew a 6.7 % emergency spike as loud as any)
SMALL_N = 30


# a change planned outside every maintenance window that applies to it
# (change_window_hits kind outside_maintenance, is_outside_maintenance), as
# the CAB pack's agenda, its window hits and flags and the calendar say it
OUTSIDE_MAINTENANCE = "Outside maintenance window"

# what two colliding changes share (change_collisions match_on), as the
# pages say it: 'same application, environment or CI'
SHARED = {"application": "application", "environment": "environment",
          "ci": "CI"}


def shared_word(code):
    """A collision's shared key as words: `ci` -> 'CI', `application` ->
    'application'; another code as word() has it."""
    return SHARED.get(code, word(code)) if isinstance(code, str) else code


def word(code):
    """A code as a word: `backed_out` -> 'Backed out'; other values as they are."""
    if isinstance(code, str) and re.fullmatch(r"[a-z]+(_[a-z]+)*", code):
        return code.replace("_", " ").capitalize()
    return code


def failing_incident(plural: bool = False) -> str:
    """A linked incident that fails a change, as every page and pack says
    it: 'linked incident', or, where CHANGEBOARD_FAILURE_MIN_PRIORITY
    counts the most urgent alone, 'linked P1 incident', 'linked P1–P2
    incident'."""
    from changeboard import config  # read now: tests and settings change it
    return linked_incident(config.failure_min_priority(), plural)


def linked_incident(level: int | None, plural: bool = False) -> str:
    """A linked incident of priority `level` or higher (None: any), in
    words: 'linked P1–P2 incident'."""
    kind = "" if level is None else "P1 " if level == 1 else f"P1–P{level} "
    return f"linked {kind}incident{'s' if plural else ''}"


def numbered(first: int, last: int) -> str:
    """Items first+1 to last of an ordered list, by number: '1–20', '21'
    alone (never '21–21'), 'none' when there is none (never '1–0')."""
    if last <= first:
        return "none"
    return f"{last:,}" if last - first == 1 else f"{first + 1:,}–{last:,}"


_PERIOD = re.compile(r"(\d{4})-(?:(\d{2})|W(\d{2})|Q([1-4]))")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
           "Oct", "Nov", "Dec")


def period_words(label):
    """A trend period's label (the period_label of a *_by_period query) as
    a chart's axis and its drill-down say it: '2013-11' -> 'Nov 2013',
    '2014-W02' -> 'Week 2, 2014', '2026-Q1' -> 'Q1 2026'; any other value
    as it is."""
    found = _PERIOD.fullmatch(label) if isinstance(label, str) else None
    if found is None:
        return label
    year, month, week, quarter = found.groups()
    if month:
        return f"{_MONTHS[int(month) - 1]} {year}" if 1 <= int(month) <= 12 \
            else label
    return f"Week {int(week)}, {year}" if week else f"Q{quarter} {year}"


def many(n, thing: str, things: str | None = None) -> str:
    """'1 application', '2,345 applications': a count before its noun (the
    pages, the reports and the loader's messages)."""
    n = int(n)
    return f"{n:,} {thing if n == 1 else things or thing + 's'}"


def phase_word(code):
    """A release phase as a word: `sit` -> 'SIT', `pre_prod` ->
    'Pre-production', another code as word() has it ('cut_over' -> 'Cut
    over'); a phase written as a name ('UAT 2') as it is."""
    return PHASES.get(code, word(code)) if isinstance(code, str) else code


def each_distinct(column: pd.Series, fn) -> pd.Series:
    """column.map(fn) (same values, dtype and index), calling fn once per
    distinct value instead of once per cell: a table's code columns hold a
    few distinct codes in up to SHOWN_ROWS rows, mapped on every rerun."""
    if column.isna().all():  # the dtype map() infers for no values at all
        return column.map(fn)
    codes, distinct = pd.factorize(column, use_na_sentinel=False)
    mapped = pd.Series(distinct, dtype=column.dtype).map(fn).take(codes)
    mapped.index, mapped.name = column.index, column.name
    return mapped


def unrated_authorisation(n_unclassified, n_cab_flag_missing) -> str:
    """Why changes started cannot be rated authorised or not, and what to
    map, naming only what is missing: BPIC 2014 maps its CAB flag and
    records no approval ('183 CAB-required changes started with no approval
    recorded ...: map `approval` and `approved_at`'), where the advice had
    named `is_cab_required` too. unauthorized_changes' n_unclassified and
    n_cab_flag_missing (of them); Markdown code spans for the columns."""
    flag = int(n_cab_flag_missing)
    approval = int(n_unclassified) - flag
    said = "so authorisation cannot be measured"
    if not flag:
        return (f"{many(approval, 'CAB-required change')} started with no "
                f"approval recorded, {said}: map `approval` and "
                "`approved_at`")
    if not approval:
        return (f"{many(flag, 'change')} started with the CAB flag missing, "
                f"{said}: map `is_cab_required`")
    return (f"{many(flag + approval, 'change')} started with no CAB flag "
            f"({flag:,}) or no approval recorded ({approval:,}), {said}: map "
            "`is_cab_required` and `approval`")


FILTERS = {  # the global filters: query parameter -> sidebar label
    "portfolios": "Portfolio",
    "application_ids": "Application",
    "teams": "Team",
    "change_types": "Change type",
    "tiers": "Environment tier",
}


# what each filter keeps, said under its ? in the sidebar: "Team" read as
# the team owning an application, and the changes of other teams' hands on
# it were left out unsaid (an application owner's walkthrough)
FILTER_HELP = {
    "portfolios": "The applications of these portfolios. A number that is "
    "not filtered by portfolio says so in its caption.",
    "application_ids": "These applications. A number that is not filtered "
    "by application says so in its caption.",
    "teams": "The changes assigned to these teams (a change's assignment "
    "group: the team doing the work), whichever team owns the application. "
    "A number that is not filtered by team says so in its caption.",
    "change_types": "Standard, normal or emergency changes. A number that "
    "is not filtered by change type says so in its caption.",
    "tiers": "The environments of these tiers, and what happens on them. A "
    "number that is not filtered by environment tier says so in its "
    "caption.",
}


def unapplied_filters(declared, filters: dict) -> list[str]:
    """The labels, in lower case, of the chosen filters (`filters`, those
    with a value) that a query declaring the parameters `declared` does
    not take: ['team', 'change type']."""
    return [FILTERS[k].lower() for k, v in filters.items()
            if v and k not in declared]
