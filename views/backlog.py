"""Change backlog: the changes not yet closed, by state and age in state;
those past their planned start and not started; those implemented and not
closed after N days. Each list downloadable."""
import pandas as pd
import streamlit as st

from changeboard import ui

# what an age counts from, in words (docs/metrics.md open_change_backlog)
SINCE = {"created_at": "creation", "approved_at": "approval",
         "actual_start_at": "start", "actual_end_at": "end of work"}
UTC = ui.TABLE_INSTANT
COLUMN_CONFIG = {
    "change_id": st.column_config.Column("Change"),
    "age_days": st.column_config.NumberColumn("Days in state", format="%.1f"),
    "counted_from": st.column_config.Column(
        "Counted from", help="The milestone that marks entering the state; "
        "'at most' when the state has none of its own (the age is an upper "
        "bound)"),
    "days_past_planned_start": st.column_config.NumberColumn(
        "Days past planned start", format="%.1f"),
    "days_since_implemented": st.column_config.NumberColumn(
        "Days since work ended", format="%.1f"),
    "assignment_group": st.column_config.Column("Team"),
    "change_type": st.column_config.Column("Type"),
    **{c: st.column_config.DatetimeColumn(f"{label} (UTC)", format=UTC)
       for c, label in (("created_at", "Created"),
                        ("approved_at", "Approved"),
                        ("planned_start_at", "Planned start"),
                        ("planned_end_at", "Planned end"),
                        ("actual_start_at", "Started"),
                        ("actual_end_at", "Work ended"),
                        ("updated_at", "Last updated"))},
}
STATE_CONFIG = {
    "n": st.column_config.NumberColumn("Open (n)"),
    "median_age_days": st.column_config.NumberColumn(
        "Median days in state", format="%.1f"),
    "max_age_days": st.column_config.NumberColumn(
        "Oldest (days)", format="%.1f"),
    "n_age_upper_bound": st.column_config.NumberColumn(
        "Ages at most (n)", help="Counted from an earlier milestone than the "
        "state's own: the change has been in its state at most that long"),
    # short headers, said whole under their ?: at 1280 px the last column
    # read 'Not closed after 5' (an application owner's walkthrough)
    "n_past_planned_start": st.column_config.NumberColumn(
        "Late start (n)", help="Past their planned start, not started"),
}
OPEN_COLUMNS = ["change_id", "title", "state", "age_days", "counted_from",
                "change_type", "risk", "approval", "assignment_group",
                "application_id", "planned_start_at", "actual_start_at",
                "actual_end_at", "updated_at"]
LATE_START_COLUMNS = ["change_id", "title", "state", "days_past_planned_start",
                      "planned_start_at", "planned_end_at", "change_type",
                      "risk", "approval", "assignment_group",
                      "application_id"]
UNCLOSED_COLUMNS = ["change_id", "title", "state", "days_since_implemented",
                    "actual_start_at", "actual_end_at", "change_type", "risk",
                    "assignment_group", "application_id", "updated_at"]


def counted_from(basis: str, exact: bool) -> str:
    """'start', or 'creation (at most)' when the age is an upper bound."""
    return SINCE.get(basis, basis) + ("" if exact else " (at most)")


def listing(rows: pd.DataFrame, columns: list[str], stem: str,
            empty: str, key: str) -> None:
    if rows.empty:
        st.info(empty)
        return
    ui.table(rows[columns], stem, download=rows, key=key,
             height=ui.table_height(len(rows), most=600),
             column_config=COLUMN_CONFIG)


def none_open(n: int, picked: list[str]) -> str:
    """What the open changes' list says when it is empty: that the sidebar
    filters or the chosen states hold none, or, with neither to blame,
    that every change loaded is closed or cancelled (BPIC 2014: 'No open
    change in the filters' was said with no filter set)."""
    if n and picked:
        return "No open change in the chosen states."
    if filters:
        return "No open change in the filters."
    closed = int(states["n_excluded"].iloc[0])
    return ("No change is open: "
            + ("the change loaded is" if closed == 1 else
               f"all {closed:,} changes loaded are")
            + " closed or cancelled.")


status, _, filters = ui.page("Change backlog", period=False)
ui.stop_without_changes(status, "no open change")

days = st.columns([1, 2])[0].number_input(
    "Implemented but not closed after (days)", 0, 365, 5, step=1,
    key="close_within_days", bind="query-params",
    help="An implemented change whose work ended more than this many days "
    "before the data's as-of time, and that is still not closed, is listed.")
params = {"close_within_days": int(days), **filters}
after = f"{int(days)} day{'s' * (int(days) != 1)}"  # "after 5 days"
ui.prefetch([(name, {}, params) for name in (
    "open_change_backlog_by_state", "open_change_backlog")], {})  # both at once
states = ui.query("open_change_backlog_by_state", **params)
rows = ui.query("open_change_backlog", **params)
as_of = pd.Timestamp(states["as_of"].iloc[0])
ui.page_dates(f"none: the changes open at the data's as-of time, "
              f"{ui.instant(as_of)}")
n = int(states["n"].sum())
late_start = rows[rows["is_past_planned_start"]]
unclosed = rows[rows["is_unclosed_after_implementation"]].sort_values(
    ["days_since_implemented", "change_id"], ascending=[False, True])
late_start = late_start.sort_values(["days_past_planned_start", "change_id"],
                                    ascending=[False, True])

later = int(states["n_created_after_as_of"].iloc[0])  # not in it yet then

cards = st.columns(3)
cards[0].metric("Open changes", f"{n:,}", border=True)
cards[1].metric("Past planned start, not started", f"{len(late_start):,}",
                border=True)
cards[2].metric(f"Implemented, not closed after {after}",
                f"{len(unclosed):,}", border=True)
st.caption(
    f"n = {ui.many(n, 'open change')} (state new to review) as of "
    f"{ui.instant(as_of)}, the last load — not the clock · "
    f"{ui.many(states['n_excluded'].iloc[0], 'closed or cancelled change')}"
    " left "
    "out" + (f" and {later:,} created after that time" if later else "")
    + " · of the n, "
    f"{len(late_start):,} "
    + ("is past its" if len(late_start) == 1 else "are past their")
    + " planned start and not started and "
    f"{len(unclosed):,} ended {'its' if len(unclosed) == 1 else 'their'} "
    f"work more than {after} ago")

# --- by state ----------------------------------------------------------------
st.header("By state")
ui.table(states[["state", "n", "median_age_days", "max_age_days",
                 "n_age_upper_bound", "n_past_planned_start",
                 "n_unclosed_after_implementation"]],
         f"open-changes-by-state-{as_of:%Y-%m-%d}", download=states,
         key="states-table", column_config={
             **STATE_CONFIG,
             "n_unclosed_after_implementation": st.column_config.NumberColumn(
                 f"Unclosed after {after} (n)", help="Implemented: their "
                 f"work ended more than {after} ago, and not closed")})
st.caption(
    "Age in state, in days of 24 hours, counts from the milestone that marks "
    "entering the state: creation for new, approval for scheduled, the start "
    "for implement, the end of work for review. Nothing records entering "
    "assess or authorize, so those ages count from creation and are at most "
    "that; a missing milestone falls back to the one before it, also "
    "marked 'at most'. The data has no state history: the states are those "
    "of the last load.")

# --- the three lists ---------------------------------------------------------
shown = rows.assign(counted_from=ui.each_distinct_row(
    counted_from, rows["age_basis"], rows["is_age_exact"]))
stamp = f"{as_of:%Y-%m-%d}"
everything, late, waiting = st.tabs([
    f"Open changes ({n:,})",
    f"Past planned start, not started ({len(late_start):,})",
    f"Implemented, not closed after {after} ({len(unclosed):,})"])
with everything:
    picked = st.multiselect(
        "States", list(states["state"]), key="backlog_states",
        format_func=ui.word, placeholder="All open states",
        bind="query-params")
    chosen = shown[shown["state"].isin(picked)] if picked else shown
    st.caption(f"{len(chosen):,} of n = {ui.many(n, 'open change')}; by "
               "state (new to review), the longest in its state first.")
    listing(chosen, OPEN_COLUMNS, f"open-changes-{stamp}",
            none_open(n, picked), "open-table")
with late:
    st.caption(f"{len(late_start):,} of n = {ui.many(n, 'open change')}: "
               "planned to start before the as-of time with no actual start "
               "recorded, whatever "
               f"{'its' if len(late_start) == 1 else 'their'} state; the most "
               "overdue first.")
    listing(late_start, LATE_START_COLUMNS,
            f"open-changes-past-planned-start-{stamp}",
            "No open change is past its planned start without having "
            "started.", "late-start-table")
with waiting:
    one = len(unclosed) == 1
    st.caption(f"{len(unclosed):,} of n = {ui.many(n, 'open change')}: "
               f"{'its' if one else 'their'} work ended more than {after} "
               "(of 24 hours) before the as-of time and "
               f"{'it is' if one else 'they are'} still not closed; the "
               "longest waiting first.")
    listing(unclosed, UNCLOSED_COLUMNS,
            f"open-changes-not-closed-after-{int(days)}-days-{stamp}",
            f"No implemented change has waited more than {after} "
            "to be closed.", "unclosed-table")

ui.definition("open_change_backlog", params=params)
ui.definition("open_change_backlog_by_state",
              "How are the counts per state computed?", params=params)
ui.as_of_caption(status)
