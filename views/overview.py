"""Overview: the eight headline numbers of a period, each with its n, the
change against the period before (as many whole months before Last month,
Last quarter and a custom range of whole months, else as many days) and a
small trend."""
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

import pandas as pd
import streamlit as st

from changeboard import charts, db, groups, ui

status, window, filters = ui.page("Overview")
period = st.session_state.get("period")
# "All data" has nothing before it: no delta (the cards draw none), and the
# window before it is not read (even when All data is shortened to its last
# ten years: what lies before was left out, not compared with)
all_data = period == "all"
# Last month and Last quarter (and a custom range of whole months) are
# compared with as many whole months before them (November with October),
# which a groups query's window before, of equal length, is not: those are
# read apart, as the other queries are
months = 0 if all_data else ui.calendar_months(period, window)
before = ui.previous(window, months)
calendar_before = bool(months)
NOTHING_BEFORE = pd.Series(dtype=object)  # the row before All data
days = (window["end_date"] - window["start_date"]).days
grain = "week" if days <= 120 else "month"


# the queries whose rows for the period and the one before, and trend, a
# family's groups query counts in one pass (changeboard/groups.py)
GROUPED = {query: family for family, queries in groups.GROUPS.items()
           if groups.compares(family) for query in queries}


def counted(family: str) -> dict:
    """What the page asks a groups query for: the window before, and the
    page's grain where the family's periods have one (deployments: weeks)."""
    compare = not all_data and not calendar_before
    return {k: v for k, v in {"grain": grain, "compare": compare}.items()
            if k in db.params(family)}


def counted_before(family: str) -> dict:
    """What the page asks a groups query for of the months before a period
    of whole months: its total alone, no periods (nothing draws them)."""
    return {k: v for k, v in counted(family).items() if k != "grain"}


def both(name: str):
    """The query's single row for this period and for the one before."""
    if name in GROUPED:
        frames = ui.scoped_groups(GROUPED[name], window, filters,
                                  **counted(GROUPED[name]))
        if calendar_before:
            return frames[name].iloc[0], ui.scoped_groups(
                GROUPED[name], before, filters,
                **counted_before(GROUPED[name]))[name].iloc[0]
        return frames[name].iloc[0], NOTHING_BEFORE if all_data else \
            frames[name + groups.PREVIOUS].iloc[0]
    if all_data:
        return ui.scoped(name, window, filters).iloc[0], NOTHING_BEFORE
    return tuple(ui.scoped(name, w, filters).iloc[0]
                 for w in (window, before))


def by_period(name: str) -> pd.DataFrame:
    """The query's rows per period of the page's grain, for a card's trend."""
    if name in GROUPED:
        return ui.scoped_groups(GROUPED[name], window, filters,
                                **counted(GROUPED[name]))[name]
    by = {"grain": grain} if "grain" in db.params(name) else {}
    return ui.scoped(name, window, filters, **by)


class Card(NamedTuple):
    """One headline card: its number, the change against the period before,
    a small trend, its n, and the records behind it."""
    label: str
    query: str                      # its one-row headline query
    value: Callable[[pd.Series], str]
    caption: Callable[[pd.Series], str]
    help: str
    delta: Callable[[pd.Series, pd.Series], str | None] | None = None
    delta_color: str = "normal"
    trend: tuple[str, str] | None = None   # (by-period query, column)
    # the records behind it: query, the query's values that pick the
    # card's rows (e.g. only the failed changes), what they are: a noun
    # (counted by ui.many, "1 failed change") and the words after it
    records: tuple[str, dict, tuple[str, str]] = ("", {}, ("", ""))
    ahead: bool = False             # the next 90 days, not the period
    # a data_status count the card needs: when it is 0 (no row of any
    # date), the card reads n/a with `missing` under it, not a measured 0
    needs: str = ""
    missing: str = ""
    # what the data of any date lacks for the card when its rows are there
    # but none can be rated (releases without a planned date): said under
    # n/a instead of its n = 0 caption, or None (then the caption stands)
    lacks: Callable[[pd.Series], str | None] | None = None
    # the column of its n, as its caption says it (the cards' file said
    # 87 for utilisation's n = 162 environments: a re-check)
    n_column: str = "n"
    # the column of its row the card shows, and what it counts: the cards'
    # file gives it as a number beside the words (an analyst could not
    # reckon with '0.3%' or '+0.3 pp': a new user's walkthrough)
    column: str = ""
    unit: str = ""
    # the column of its row that counts the records behind it: its list
    # takes that count, not counting them again (at a million changes the
    # count was half of a list's time); '' counts them
    counted: str = ""


# a period before counting fewer than this many: its delta says its n (BPIC
# 2014's emergency ratio read '+0.3 pp' against 2012's 3 changes), as a
# rate line greys such a period's point
SMALL_N = charts.SMALL_N


RATE = "share (0-1)"  # a rate card's unit


def rate(column: str):
    """A rate card's value and delta (in points), its column and unit."""
    return {"value": lambda r: ui.pct(r[column]),
            "delta": lambda r, b: ui.delta_points(r[column], b[column]),
            "column": column, "unit": RATE}


def small_before(card: Card, before: pd.Series) -> str:
    """' · before: n = 3' when a rate card's delta compares with a period
    of fewer than SMALL_N (BPIC 2014's emergency ratio read '+0.3 pp'
    against 2012's 3 changes); under its caption, where it was in its delta
    and cut the delta's 'better' or 'worse' off the card ('+16.7 pp
    (before: n = 2) bet...', a new user's walkthrough)."""
    n = before.get(card.n_column) if card.unit == RATE else None
    if n is None or pd.isna(n) or int(n) >= SMALL_N:
        return ""
    return f" · before: n = {int(n):,}"


def not_loaded(n_is: str, kind: str, table: str) -> str:
    """A card's caption when the table it counts is empty: 'n = 0
    implemented changes · no changes are loaded: load `changes.csv` on the
    Data page' (no period would fill it: wider dates cannot help)."""
    return (f"{n_is} · no {kind} are loaded: "
            + ui.load_hint(table, short=True))


def no_plans(row: pd.Series) -> str | None:
    """The On-time release rate's caption when the period rates no release
    and no release of any date has a planned go-live date (endoflife.date,
    Jira versions loaded by a mapping); None otherwise."""
    if row["n"] or row["n_overdue_open"]:
        return None
    unplanned = ui.releases_without_plans()
    if unplanned is None:
        return None
    return ("n = 0 releases gone live with a plan · no release in the data "
            f"has a planned go-live date ({ui.many(unplanned, 'release')} "
            "without one): map `planned_release_at`")


CARDS = [
    Card("Change success rate", "change_success_rate",
         **rate("change_success_rate"),
         trend=("change_success_rate_by_period", "change_success_rate"),
         help="Implemented changes that did not fail ÷ implemented changes.",
         # not rated: the completed changes without a close code (A24), the
         # count the outcome section and the Emergency card's n use (it
         # said 7,922 'ended' beside 8,390 'completed' on BPIC 2013)
         caption=lambda r: f"n = {ui.many(r['n'], 'implemented change')} · "
         f"{int(r['n_without_close_code']):,} completed without a close "
         "code",
         records=("change_records", {"kind": "implemented"},
                  ("implemented change", " (the card's n)")), counted="n",
         needs="n_changes", missing=not_loaded(
             "n = 0 implemented changes", "changes", "changes")),
    Card("Change failure rate", "change_success_rate",
         **rate("change_failure_rate"), delta_color="inverse",
         trend=("change_success_rate_by_period", "change_failure_rate"),
         help="Closed unsuccessful or backed out, or with a "
         f"{ui.failing_incident()} or a rolled-back deployment ÷ implemented "
         "changes.",
         # no implemented change: as the success rate card, why (BPIC 2014
         # has no close codes: no change has an outcome)
         caption=lambda r: f"{int(r['n_failed']):,} of n = {int(r['n']):,} "
         f"failed · {int(r['n_failed_by_incident']):,} by a "
         f"{ui.failing_incident()}"
         if int(r["n"]) else f"n = 0 implemented changes · "
         f"{int(r['n_without_close_code']):,} completed without a close code",
         records=("change_records", {"failed_only": True},
                  ("failed change", " (the rate's numerator)")),
         counted="n_failed", needs="n_changes", missing=not_loaded(
             "n = 0 implemented changes", "changes", "changes")),
    Card("Emergency ratio", "emergency_change_ratio",
         **rate("emergency_change_ratio"), delta_color="inverse",
         trend=("emergency_change_ratio_by_period", "emergency_change_ratio"),
         help="Emergency changes ÷ completed changes of a known type "
         "(implemented, or without a close code and in review or closed).",
         caption=lambda r: f"{int(r['n_emergency']):,} of n = "
         f"{ui.many(r['n'], 'completed change')}",
         records=("emergency_change_records", {},
                  ("completed change", " (the card's n), its emergency "
                   "changes first")),
         needs="n_changes", missing=not_loaded(
             "n = 0 completed changes", "changes", "changes")),
    Card("Deployments per day", "deployment_frequency",
         value=lambda r: ui.per_period(r["deployments_per_day"]),
         column="deployments_per_day", unit="deployments a day",
         delta=lambda r, b: ui.delta_number(
             r["deployments_per_day"], b["deployments_per_day"],
             ui.per_period_digits(r["deployments_per_day"],
                                  b["deployments_per_day"])),
         trend=("deployment_frequency_by_week", "n_deployments"),
         help="Succeeded or rolled-back deployments to production ÷ days in "
         "the period.",
         caption=lambda r: f"n = {ui.many(r['n'], 'production deployment')}"
         f" on {ui.many(r['deploy_days'], 'day')} · " + (
             "no complete week in the period for a weekly median"
             if pd.isna(r["median_deploy_days_per_week"]) else
             f"median {ui.number(r['median_deploy_days_per_week'])} deploy "
             "days a week") + "".join(
                 f" · {said}" for said in ui.deployments_left_out(r)),
         records=("deployment_records", {}, ("production deployment", "")),
         needs="n_deployments", missing=not_loaded(
             "n = 0 production deployments", "deployments", "deployments")),
    Card("Median release interval", "release_cadence_summary",
         value=lambda r: ui.number(r["median_gap_days"], suffix=" days"),
         column="median_gap_days", unit="days",
         delta=lambda r, b: ui.delta_number(r["median_gap_days"],
                                            b["median_gap_days"],
                                            unit=" days"),
         delta_color="inverse",
         help="Median days between consecutive releases of the same "
         "application, pooled over applications.",
         caption=lambda r: f"n = {ui.many(r['n_gaps'], 'gap')} · "
         f"{ui.many(r['n_releases'], 'release')} of "
         f"{ui.many(r['n_applications'], 'application')}"
         + ui.cadence_left_out(r),
         # its rows are applications, not the card's n, which counts their
         # gaps ('n = 3,218 gaps' over 'n = 300 applications' read as two
         # counts of one thing: a real-data walkthrough)
         records=("release_cadence", {},
                  ("application", " that released in the period, with "
                   "the gaps of each (the card's n counts the gaps)",
                   False)),
         needs="n_releases", missing=not_loaded(
             "n = 0 gaps", "releases", "releases"), n_column="n_gaps"),
    Card("On-time release rate", "release_on_time", **rate("on_time_rate"),
         help="Releases gone live on or before their planned date ÷ releases "
         "gone live with a plan.",
         caption=lambda r: f"{int(r['n_on_time']):,} of n = {int(r['n']):,} "
         f"on time · {int(r['n_overdue_open']):,} overdue, not live"
         # gone live without a plan: out of n, said (1,767 of 1,774 releases
         # of 2013 on real data, beside '7 of n = 7')
         + (f" · {int(r['n_unclassified']):,} without a planned date left "
            "out" if r["n_unclassified"] else ""),
         records=("release_records", {"kind": "released"},
                  ("release", " gone live with a plan (the card's n)")),
         needs="n_releases", missing=not_loaded(
             "n = 0 releases gone live with a plan", "releases", "releases"),
         lacks=no_plans),
    Card("Environment utilisation", "environment_utilization_summary",
         **rate("utilization"), delta_color="off",
         help="Hours with an approved booking ÷ available hours (calendar "
         "minus blackouts and maintenance), summed over environments. "
         "Over-booked: environments whose approved + pending hours over the "
         "whole period exceed capacity × available hours; a shorter "
         "overlap beyond capacity is a booking conflict, not over-booking.",
         caption=lambda r: f"n = {ui.many(r['n_environments'], 'environment')} · "
         f"{int(r['n_idle']):,} idle · {int(r['n_overbooked']):,} over-booked "
         "over the whole period"
         + ui.unplaced(r["n_unclassified"]),
         records=("environment_utilization", {},
                  ("environment", " (the card's n)")),
         needs="n_environments", missing=not_loaded(
             "n = 0 environments", "environments", "environments"),
         n_column="n_environments"),
    Card("Conflicts ahead", "booking_conflicts_summary",
         value=lambda r: f"{int(r['n_conflict_pairs']):,}", ahead=True,
         column="n_conflict_pairs", unit="pairs of bookings",
         help="Pairs of approved or pending bookings of the same environment "
         "that overlap beyond its capacity in the next 90 days.",
         # from when: on BPIC 2014 (data ending in 2014) "next 90 days"
         # read as of the data's end (a real-data walkthrough)
         caption=lambda r: f"next 90 days from {ui.day(ui.today())} · on "
         f"{int(r['n_conflicted_environments']):,} of "
         f"{ui.many(r['n_environments'], 'booked environment')}"
         + ui.unplaced(r["n_unclassified"]),
         records=("booking_conflicts", {},
                  ("conflicting booking pair", ", next 90 days")),
         counted="n_conflict_pairs", needs="n_bookings", missing=not_loaded(
             "next 90 days", "environment bookings", "environment_bookings"),
         n_column="n_environments"),
]
ahead = {"start_date": ui.today(), "end_date": ui.today() + timedelta(days=90)}
# the dearest first, so that two threads end together: listed last, the
# conflicts ahead (about 100 ms at a million changes) ran alone after the
# others; with the utilisation summaries (100-130 ms each) first, the
# groups queries (40-110) fill in. A first run at 1M, six alternations:
# median 0.381 -> 0.355 s
ui.prefetch([
    ("booking_conflicts_summary", ahead, {}),
    *((card.query, w, {}) for card in CARDS
      if not card.ahead and card.query not in GROUPED
      for w in ((window,) if all_data else (window, before))),
    *((family, w, asked(family)) for family in dict.fromkeys(
        GROUPED[card.query] for card in CARDS if card.query in GROUPED)
      for w, asked in ((window, counted), (before, counted_before))
      if w is window or calendar_before),
    *((card.trend[0], window, {"grain": grain}
       if "grain" in db.params(card.trend[0]) else {})
      for card in CARDS if card.trend and card.trend[0] not in GROUPED)],
    filters)
outcomes = by_period("change_success_rate_by_period")
success = both("change_success_rate")[0]

compared = ("No deltas: nothing comes before all the data" if all_data else
            f"Deltas compare with {ui.previous_said(window, months)}")
# "a rate's without a week of under 30 records and a tenth of its
# busiest" read as a riddle (a change manager's walkthrough)
st.caption(f"{compared}. The small lines are trends over complete {grain}s"
           + ("" if grain == "week" else " (deployments: over weeks)")
           + f"; a rate's line leaves out a {grain} of both fewer than "
           f"{charts.SMALL_N} records and under a tenth of its busiest "
           f"{grain}'s.")
# a card that reads n/a for what the data lacks: its words, for its drill
lacks: dict[str, str] = {}
# the cards as rows of a file: a monthly report pasted the page's numbers
# by hand (a process owner's walkthrough)
card_rows: list[dict] = []
# each card's row, for the count of the records behind it (Card.counted)
shown_rows: dict[str, pd.Series] = {}


def card_row(card: Card, value: str, now: pd.Series, before_row: pd.Series,
             delta: str | None, said: str) -> dict:
    """A card as the file's row: what it shows, its n, the period before's
    value and n, and the dates each counts."""
    span = ahead if card.ahead else window
    compared = not (card.ahead or all_data or before_row.empty)

    def n_of(row: pd.Series):
        n = row.get(card.n_column)
        return None if n is None or pd.isna(n) else int(n)

    def number_of(row: pd.Series):
        number = row.get(card.column)
        return None if value == "n/a" or number is None or pd.isna(number) \
            else float(number)
    return {
        "kpi": card.label, "value": value, "number": number_of(now),
        "unit": card.unit, "n": n_of(now), "delta": delta,
        "value_before": card.value(before_row) if compared else None,
        "number_before": number_of(before_row) if compared else None,
        "n_before": n_of(before_row) if compared else None,
        "start_date": span["start_date"],
        "last_day": span["end_date"] - timedelta(days=1),
        "before_start_date": before["start_date"] if compared else None,
        "before_last_day": before["end_date"] - timedelta(days=1)
        if compared else None,
        "note": said}


for card, column in zip(CARDS, [*st.columns(4), *st.columns(4)], strict=True):
    before_row = NOTHING_BEFORE
    if card.ahead:
        now = ui.scoped(card.query, ahead, filters).iloc[0]
        delta = None
    else:
        now, before_row = both(card.query)
        # none under All data, nor with nothing to compare with (a period
        # before the data begins), where '+81.2' read as a rise from 0
        delta = None if all_data or not card.delta or \
            before_row.get("n") == 0 else card.delta(now, before_row)
    shown_rows[card.label] = now
    chart = None
    lacking = card.missing if card.needs and not status[card.needs] \
        else card.lacks(now) if card.lacks else None
    if lacking:
        # nothing of any date to count: no measured 0, delta or trend
        lacks[card.label] = lacking
        with column:
            st.metric(card.label, "n/a", border=True, help=card.help)
            st.caption(lacking)
        card_rows.append(card_row(card, "n/a", now, NOTHING_BEFORE, None,
                                  lacking))
        continue
    if card.trend:
        name, values = card.trend
        chart = charts.sparkline(by_period(name), values)
    said = (card.caption(now)
            + (small_before(card, before_row) if delta is not None else "")
            + ui.unapplied(card.query, filters)
            + (ui.typed_by_filter(filters) if card.query ==
               "emergency_change_ratio" else ""))
    with column:
        st.metric(card.label, card.value(now), delta, border=True,
                  chart_data=chart, help=card.help,
                  **ui.delta_style(delta, card.delta_color))
        st.caption(said)
    card_rows.append(card_row(card, card.value(now), now, before_row, delta,
                              said))
st.caption("The cards as a file, each with its n, the period before's "
           "value and n and the dates each counts (Conflicts ahead: the "
           "next 90 days), and each value as a number too (a rate as a "
           "share, 0 to 1):")
ui.downloads(pd.DataFrame(card_rows).astype({
    "n": "Int64", "n_before": "Int64", "number": "Float64",
    "number_before": "Float64"}), "overview-cards")

st.header(f"Change outcomes per {grain}")
if not status["n_changes"]:
    # release or environment data alone: no period would give an outcome
    st.info("No changes are loaded, so there are no change outcomes to "
            "show: " + ui.load_hint("changes") + ", or a ServiceNow or Jira "
            "change export (docs/sources.md).")
elif outcomes["n"].sum() == 0:
    st.info(ui.no_outcomes(
        success["n_without_close_code"],
        "No changes were implemented in this period: "
        f"{ui.widen(window, filters)}."))
else:
    # the periods in words ('Nov 2013'), as the Changes page says them
    worded = ui.in_words(outcomes)[0]
    st.plotly_chart(
        charts.stacked_bars(
            worded, x="period",
            columns={"n_successful": "Successful",
                     "n_successful_with_issues": "Successful with issues",
                     "n_failed": "Failed"},
            y_title="implemented changes", x_title=grain),
        key="outcome-trend")
    st.caption(
        "Implemented changes by the period their work ended. Failed includes "
        f"changes closed successful that later got a {ui.failing_incident()}"
        " or a rolled-back deployment. (part) periods are cut by the chosen "
        "dates.")
    ui.numbers_behind(
        worded, ui.OUTCOME_COLUMNS, f"change-outcomes-per-{grain}",
        labels=ui.OUTCOME_LABELS | {"period": grain.capitalize()})

# --- the records behind each card ---------------------------------------------
DRILL = {card.label: card for card in CARDS}
st.header("Records behind a card")
ui.url_option("drill", DRILL)
picked = st.pills("Card", list(DRILL), key="drill", bind="query-params",
                  label_visibility="collapsed")
if picked:
    card = DRILL[picked]
    name, rows, (thing, rest, *is_n) = card.records
    span = ahead if card.ahead else window
    # the rows behind the number, read a table's length at a time, as many
    # as the card counts (Card.counted: the conflicting pairs' count took
    # 170 of the list's 370 ms at a million changes)
    known = shown_rows[picked].get(card.counted) if card.counted else None
    records = ui.scoped_part(
        name, span, filters, **rows,
        **({"n": int(known)} if known is not None and pd.notna(known)
           else {}))
    st.caption(("n = " if is_n != [False] else "")
               + f"{ui.many(records.n, thing)}{rest}, "
               f"{ui.day(span['start_date'])} – "
               f"{ui.day(span['end_date'] - timedelta(days=1))}"
               + ui.unapplied(name, filters))
    if records.n:
        with ui.files_cover(span):  # Conflicts ahead: the next 90 days
            if name == "booking_conflicts":  # as the Conflicts tab lists them
                # imported here: the tabs' modules bring the Styler's
                # (13 ms of the page's first run, for a drill seldom picked)
                from views.environment_tabs import conflicts
                conflicts.pairs_table(records, f"{name}-{picked.lower()}")
            else:
                ui.table(records, f"{name}-{picked.lower()}")
    elif picked in lacks:  # "pick a longer period" could not help
        st.info(f"Nothing to list: {lacks[picked].split(' · ', 1)[-1]}.")
    elif name == "change_records" and success["n_without_close_code"] \
            and not success["n"]:
        # completed changes without a close code (BPIC 2014): no outcome
        st.info("Nothing to list: " + ui.no_outcomes(
            success["n_without_close_code"], ""))
    else:  # an empty grid showed only its column names ('Booking id a')
        hint = {(True, True): " Clear a filter or pick a longer period.",
                (True, False): " Clear a filter.",
                (False, True): " Pick a longer period.",
                (False, False): ""}[(bool(filters), span is not ahead)]
        st.info("Nothing to list: no record is behind this card's number."
                + hint)
    ui.definition(name, f"Explain: how the rows behind {picked.lower()} are "
                  "found", params={**span, **filters})
else:
    st.caption("Pick a card to list the records behind its number, with "
               "downloads.")

# each query's definition under the names of the cards it gives ("How is
# environment utilization summary computed?" named a query, not a card)
explained: dict[str, tuple[dict, list[str]]] = {}
for card in CARDS:
    explained.setdefault(card.query, (ahead if card.ahead else window, []))[
        1].append(card.label)
for name, (span, labels) in explained.items():
    ui.definition(name, f"How {'is' if len(labels) == 1 else 'are'} "
                  + " and ".join(f"“{label}”" for label in labels)
                  + " computed?", params={**span, **filters})

ui.as_of_caption(status)
