"""Booking conflicts: per environment and the conflicting pairs."""
from functools import partial

import pandas as pd
import streamlit as st

from changeboard import ui
from views.environment_tabs.common import (
    NO_RELEASE,
    EnvironmentsPage,
    kept_pick,
    pick_box,
)

PARAM = "conflict_env"  # ?conflict_env=<id>: the environment picked


def render(page: EnvironmentsPage) -> None:
    """The conflicts tab."""
    window = page.window
    filters = page.filters
    in_conflict = page.in_conflict
    if in_conflict.empty:
        st.success("No booking conflicts in the period.")
    else:
        ranked = in_conflict.sort_values("conflict_hours", ascending=False)
        st.header("Per environment")
        st.caption(f"{ui.many(len(ranked), 'environment')} with conflicts; conflict "
                   "hours = time with more active bookings than capacity. "
                   "Select a row, or pick one below, to list only its "
                   "pairs.")
        ranked = ranked.reset_index(drop=True)
        ids = ranked["environment_id"].tolist()
        picked = kept_pick("conflict_envs", ids, PARAM)
        ui.table(ranked, "booking_conflicts_by_environment",
                 key="conflict_envs", on_select="rerun",
                 selection_mode="single-row",
                 height=ui.table_height(len(ranked), most=250), column_config={
                     "name": "Environment", "capacity": "Capacity",
                     "n_conflict_pairs": "Conflicting pairs",
                     "n_conflicted_bookings": "Bookings in conflict",
                     "conflict_hours": st.column_config.NumberColumn(
                         "Conflict h", format="%,.1f"),
                     "excess_booking_hours": st.column_config.NumberColumn(
                         "Excess booking h", format="%,.1f"),
                     "n": "Active bookings"},
                 column_order=["name", "capacity", "n_conflict_pairs",
                               "n_conflicted_bookings", "conflict_hours",
                               "excess_booking_hours", "n"])
        pick_box("conflict_envs", ids, ranked["name"], picked,
                 "Pairs of one environment")
        listed = first_pairs(window, filters, in_conflict,
                             None if picked is None else [picked])
        st.header("Conflicting pairs")
        st.caption(f"n = {ui.many(listed.n, 'pair')} of approved or pending "
                   "bookings; overlap clipped to the period.")
        pairs_table(listed, "booking_conflicts")
    ui.definition("booking_conflicts", "How are conflicts computed?",
                  params={**window, **filters})


# the environment's counts each pair's row carries (C6: its active bookings
# as n, ...): the per-environment table's, where beside a pair, shown or
# downloaded, 'n 186' read as the count behind the pairs
ENVIRONMENT_COUNTS = ["n", "n_excluded", "n_invalid", "n_open_ended"]
# each booking's team and phase: whom to call about the clash (a booking
# without a release named no one: an application owner's walkthrough)
PAIR_COLUMNS = ["environment_name", "environment_id", "overlap_start_at",
                "overlap_end_at", "overlap_hours", "booking_id_a", "status_a",
                "release_a", "team_a", "phase_a", "booking_id_b", "status_b",
                "release_b", "team_b", "phase_b"]


def pairs_table(listed: ui.Part, key: str) -> None:
    """The conflicting pairs as this tab and the Overview's records behind
    Conflicts ahead list them: the pairs' own columns shown, names whole;
    downloaded with their ids too, without the environments' counts."""
    kept = listed.map(lambda rows: rows.drop(columns=ENVIRONMENT_COUNTS))
    # a booking without a release says so, as the bookings tables do (the
    # downloads keep it empty)
    rows = kept.rows.assign(**{c: kept.rows[c].fillna(NO_RELEASE)
                               for c in ("release_a", "release_b")})
    # names whole, as wide as the longest shown ('Name (id)' was cut
    # before its id)
    wide = {column: st.column_config.TextColumn(label, width=ui.text_width(
        rows[column].dropna(), 100, 360)) for column, label in (
            ("environment_name", "Environment"), ("release_a", "Release A"),
            ("release_b", "Release B"))}
    ui.table(ui.Part(rows, kept.n, kept.whole), key,
             height=ui.table_height(kept.n, most=320), column_config={
        **wide, "booking_id_a": "Booking A", "status_a": "Status A",
        "team_a": "Team A", "phase_a": "Phase A",
        "booking_id_b": "Booking B", "status_b": "Status B",
        "team_b": "Team B", "phase_b": "Phase B",
        "overlap_start_at": st.column_config.DatetimeColumn(
            "Overlap from (UTC)", format=ui.TABLE_INSTANT),
        "overlap_end_at": st.column_config.DatetimeColumn(
            "Overlap to (UTC)", format=ui.TABLE_INSTANT),
        "overlap_hours": st.column_config.NumberColumn(
            "Overlap h", format="%,.1f")},
        column_order=PAIR_COLUMNS)


def first_pairs(window: dict, filters: dict, in_conflict: pd.DataFrame,
                chosen: list[str] | None) -> ui.Part:
    """The pairs table's first rows and count, the chosen environment's or
    every one's; the download reads them all when clicked. The pairs are
    listed by environment first, so the first rows are those of the first
    environments (by id) whose pairs reach that many, and only they are
    swept; the count is the environments' own (booking_conflicts_by_environment
    counts the same pairs). A year at a million changes is 345,262 pairs:
    counting them and reading the first took 0.9 s, the first ten
    environments' pairs take 0.07 s."""
    envs = in_conflict.sort_values("environment_id")
    if chosen is not None:
        envs = envs[envs["environment_id"].isin(chosen)]
    pairs = envs["n_conflict_pairs"].astype(int)
    before = pairs.cumsum() - pairs  # pairs listed ahead of each
    first = envs.loc[before < ui.SHOWN_ROWS, "environment_id"].tolist()
    rows = ui.scoped("booking_conflicts", window, filters,
                     environment_ids=first).head(ui.SHOWN_ROWS)
    return ui.Part(rows.reset_index(drop=True), int(pairs.sum()),
                   partial(ui.scoped, "booking_conflicts", window, filters,
                           environment_ids=chosen))
