"""Environments: the impact matrix of upcoming releases, weekly load,
utilisation, booking conflicts and a bookings timeline per group. This page
draws the headline cards and the go-live dates; each tab is a module of
views/environment_tabs/."""
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from changeboard import env_charts, ui
from views.environment_tabs import conflicts, matrix, timeline, utilisation, weekly_load
from views.environment_tabs.common import EnvironmentsPage

status, window, filters = ui.page("Environments")

MATRIX_DAYS = 182  # the matrix looks ahead: [today, today + 6 months)
NO_HOURS = "no available hours in this period"  # never 'n/a h'
OVER_BOOKED = "Over-booked, whole period"  # the card: demand ratio > 1
# under the cards when some bookings conflict: why they need not make an
# environment over-booked
CONFLICTS_NOT_OVER_BOOKED = (
    "Over-booked weighs each environment's demand over the whole period "
    "against capacity × available hours; the {hours} h in conflict are the "
    "times with more bookings at once than capacity, so an environment can "
    "be in conflict without being over-booked.")


def hours_booked(booked, available) -> str:
    """'124,991 of 1,267,653 h booked', or a sentence where an hour count is
    missing or nothing was available (the utilisation is then n/a)."""
    if pd.isna(available) or available <= 0:
        return NO_HOURS
    if pd.isna(booked):
        return f"{ui.number(available, 0)} h available, booked hours unknown"
    return f"{ui.number(booked, 0)} of {ui.number(available, 0)} h booked"


def go_live(picked) -> tuple[date, date]:
    """The matrix's go-live dates, first and last, as the picker's value
    gives them: two dates; anything else (one date of two picked so far)
    gives the default, the next MATRIX_DAYS."""
    if isinstance(picked, (tuple, list)) and len(picked) == 2:
        return tuple(picked)
    today = ui.today()
    return today, today + timedelta(days=MATRIX_DAYS - 1)


def matrix_ahead(opened: str | None) -> list[tuple[str, dict, dict]]:
    """The impact matrix's first round of queries, for the page to run with
    its headlines, when the matrix (the first tab) is open and its go-live
    dates are known before their picker is drawn below the cards (as last
    picked; not on a link's first run, whose dates are read there): one
    round of queries, not two after the cards'."""
    if opened not in (None, "Impact matrix") or (
            "go_live" not in st.session_state and "go_live" in st.query_params):
        return []
    first, last, _ = ui.span_clamped(
        *go_live(st.session_state.get("go_live")), "")
    return matrix.ahead(ui.window_for("custom", first, last))


def environments(n) -> str:
    """The noun under a card's count of environments: '1' over 'environment
    of 12', '2' over 'environments of 12'."""
    return "environment" if int(n) == 1 else "environments"


# --- no environments loaded ---------------------------------------------------
if not status["n_environments"]:
    # no period and no go-live dates would fill a card, tab or matrix
    # (releases loaded alone, or changes alone): say what is missing
    st.info("No environments are loaded, so there is no utilisation, "
            "weekly load, booking conflict or environment impact to show. "
            "To see them, " + ui.load_hint("environments",
                                           "environment_bookings")
            + ": the environments, then the bookings of each release or "
            "team on them.")
    ui.as_of_caption(status)
    st.stop()

# --- headlines over the sidebar period -------------------------------------
# the cards' totals and the groups (go-live controls, Utilisation tab) from
# one sweep of the period's bookings
# and the open tab's own query, as its picks last asked it: read after them,
# it made a tab's filter change at a million changes 0.1 s longer
AHEAD = {"Weekly load": weekly_load.ahead, "Utilisation": utilisation.ahead,
         "Bookings timeline": timeline.ahead}
opened = st.session_state.get("view") or st.query_params.get("view")
ui.prefetch([("environment_utilization_rollup", window, {}),
             ("booking_conflicts_by_environment", window, {}),
             *(AHEAD[opened](window) if opened in AHEAD else []),
             *matrix_ahead(opened)], filters)
rollup = ui.scoped("environment_utilization_rollup", window, filters)
usage = rollup[rollup["is_total"]].iloc[0]
groups = rollup[~rollup["is_total"]].drop(columns="is_total").reset_index(
    drop=True)
conflicts_by_env = ui.scoped("booking_conflicts_by_environment", window,
                             filters)
in_conflict = conflicts_by_env[conflicts_by_env["n_conflict_pairs"] > 0]
# the longer labels wider: 'Over-booked, whole period' and its help read
# 'Over-booked, whole …' in a quarter of the page at 1280 pixels
cards = st.columns([1.1, 0.75, 1.3, 1])
with cards[0]:
    st.metric("Environment utilisation", ui.pct(usage["utilization"]),
              border=True, help="Hours with an approved booking ÷ available "
              "hours (calendar minus blackouts and maintenance), summed "
              "over environments.")
    st.caption(f"n = {ui.many(usage['n_environments'], 'environment')} · "
               + hours_booked(usage["booked_hours"],
                              usage["available_hours"]))
with cards[1]:
    st.metric("Idle", f"{int(usage['n_idle']):,}", border=True,
              help="Available in the period but never booked (approved).")
    st.caption(f"{environments(usage['n_idle'])} of "
               f"{int(usage['n_environments']):,}, available but never "
               "booked")
# over-booked weighs a whole period's demand, a conflict any stretch of
# it: "Over-booked 0 ... demand above capacity" beside "Booking conflicts 1
# ... 34 h in conflict" (two bookings of a capacity-1 environment
# overlapping 34 h of May) read as two answers to one question
with cards[2]:
    st.metric(OVER_BOOKED, f"{int(usage['n_overbooked']):,}",
              border=True, help="Environments whose approved + pending "
              "booked hours over the whole period exceed capacity × "
              "available hours (demand ratio > 1). Bookings that overlap "
              "beyond capacity for a while are booking conflicts: an "
              "environment can have some and not be over-booked.")
    st.caption(f"{environments(usage['n_overbooked'])} of "
               f"{int(usage['n_environments']):,} whose demand over the "
               "period exceeds capacity × available hours · " + (
        NO_HOURS if pd.isna(usage["demand_ratio"]) else
        f"demand ratio {ui.pct(usage['demand_ratio'])} overall"))
with cards[3]:
    n_pairs = int(in_conflict["n_conflict_pairs"].sum())
    conflict_hours = ui.number(in_conflict["conflict_hours"].sum(), 0)
    st.metric("Booking conflicts", f"{n_pairs:,}", border=True,
              help="Pairs of approved or pending bookings of one "
              "environment that overlap beyond its capacity at some time "
              "in the period, whatever its calendar; the hours are the "
              "times with more bookings at once than capacity. However "
              "short, an overlap is a conflict; over-booked weighs the "
              "whole period.")
    st.caption(f"{'pair' if n_pairs == 1 else 'pairs'} on "
               f"{ui.many(len(in_conflict), 'environment')} · "
               f"{conflict_hours} h with more bookings at once than "
               "capacity")
# bookings of environments not loaded are in none of the period's figures
said = ui.unplaced_sentence(usage["n_unclassified"])
st.caption("Cards, weekly load, utilisation and conflicts cover the sidebar "
           "period" + ui.unapplied("environment_utilization_rollup",
                                   filters)
           + "; the impact matrix looks ahead over its own go-live dates."
           + (f" {CONFLICTS_NOT_OVER_BOOKED.format(hours=conflict_hours)}"
              if n_pairs else "")
           + (f" {said}" if said else ""))

# the go-live dates of the impact matrix, also the timeline's "Matrix dates"
picked = st.date_input(
    "Releases going live (inclusive): impact matrix and timeline",
    go_live(None), key="go_live", bind="query-params", format=ui.DAY_INPUT,
    width=360, min_value=ui.DATE_MIN, max_value=ui.date_max())
first, last = ui.clamp_span(*go_live(picked), "The go-live range")
matrix_window = ui.window_for("custom", first, last)
# the groups to pick one of, and "(no group)" when some environment has none
load_groups = [g for g in groups["environment_group"] if pd.notna(g)] + (
    [env_charts.NO_GROUP] if groups["environment_group"].isna().any() else [])

page = EnvironmentsPage(window, filters, first, last, matrix_window, groups,
                       load_groups, conflicts_by_env, in_conflict)
TABS = {"Impact matrix": matrix.render, "Weekly load": weekly_load.render,
        "Utilisation": utilisation.render, "Conflicts": conflicts.render,
        "Bookings timeline": timeline.render}
# what is picked on a tab, kept in the URL while the tab is open
PICKED = {"Impact matrix": matrix.PARAMS, "Utilisation": (utilisation.PARAM,),
          "Conflicts": (conflicts.PARAM,)}
ui.url_option("view", TABS)
for name, tab in zip(TABS, st.tabs(list(TABS), key="view", bind="query-params",
                                   on_change="rerun"), strict=True):
    with tab:
        if tab.open:  # only the open tab runs its queries
            TABS[name](page)
        else:
            for param in PICKED.get(name, ()):
                ui.in_address(param, None)

ui.as_of_caption(status)
