"""Utilisation per environment group and per environment, with the
bookings of a selected environment."""
import streamlit as st

from changeboard import ui
from views.environment_tabs.common import (
    EnvironmentsPage,
    bookings_table,
    kept_pick,
    pick_box,
)

PARAM = "usage_env"  # ?usage_env=<id>: the environment picked, a link to it
WARNED = 10  # over-booked environments named in the warning, the worst first


def ahead(window: dict) -> list[tuple[str, dict, dict]]:
    """The tab's per-environment query, for the page to run with its own
    (ui.prefetch)."""
    return [("environment_utilization", window, {})]


def render(page: EnvironmentsPage) -> None:
    """The utilisation tab."""
    window = page.window
    filters = page.filters
    groups = page.groups
    st.header("Per environment group")
    ui.table(groups, "environment_utilization_by_group", column_config={
        "environment_group": "Group", "n_environments": "Environments",
        "utilization": st.column_config.ProgressColumn(
            "Utilisation", format="percent", min_value=0, max_value=1),
        "demand_ratio": st.column_config.NumberColumn(
            "Demand ratio", format="percent"),
        "booked_hours": st.column_config.NumberColumn("Booked h",
                                                      format="%,.0f"),
        "available_hours": st.column_config.NumberColumn("Available h",
                                                         format="%,.0f"),
        "n_idle": "Idle", "n_overbooked": st.column_config.NumberColumn(
            "Over-booked", help="Environments whose demand over the whole "
            "period exceeds capacity × available hours"),
        "n_bookings": "Approved bookings", "n_pending": "Pending"},
        column_order=["environment_group", "n_environments", "utilization",
                      "demand_ratio", "booked_hours", "available_hours",
                      "n_idle", "n_overbooked", "n_bookings", "n_pending"],
        height=ui.table_height(len(groups), most=600))
    st.caption("Ratios of sums over the group's environments: booked ÷ "
               "available hours, demand (approved + pending) ÷ capacity "
               "hours.")

    st.header("Per environment")
    (name, _, extra), = ahead(window)
    usage_rows = ui.scoped(name, window, filters, **extra)
    # both can hold: pending demand over capacity on an environment that
    # nothing approved was booked on
    idle, over = usage_rows["is_idle"], usage_rows["is_overbooked"]
    usage_rows["flag"] = ""
    usage_rows.loc[idle, "flag"] = "Idle"
    usage_rows.loc[over, "flag"] = "Over-booked"
    usage_rows.loc[idle & over, "flag"] = "Idle, over-booked"
    overbooked = usage_rows[over]
    if not overbooked.empty:
        # the most over-booked first; a thousand names are not a warning
        worst = overbooked.sort_values("demand_ratio", ascending=False)
        named = ", ".join(f"**{ui.plain(r.name)}** "
                          f"({ui.pct(r.demand_ratio, 0)})"
                          for r in worst.head(WARNED).itertuples())
        more = len(worst) - WARNED
        st.warning(
            f"{ui.many(len(worst), 'environment')} over-booked (demand over "
            f"the whole period above capacity × available hours): {named}"
            + (f" and {more:,} more: show Over-booked below to list them all."
               if more > 0 else ""), icon="⚠️")
    show = st.segmented_control(
        "Show", ["All", "Idle", "Over-booked"], default="All", required=True,
        key="usage_show")
    shown = usage_rows if show == "All" else usage_rows[
        idle if show == "Idle" else over]
    shown = shown.reset_index(drop=True)
    st.caption(f"{len(shown):,} of {ui.many(len(usage_rows), 'environment')} · "
               f"{int(idle.sum()):,} idle (available, never booked) · "
               "select a row, or pick one below, for its bookings.")
    ids = shown["environment_id"].tolist()
    picked = kept_pick("usage_table", ids, PARAM)
    ui.table(shown, "environment_utilization", key="usage_table",
             on_select="rerun",
             selection_mode="single-row",
             height=ui.table_height(len(shown), most=380),
             column_config={
                 "name": "Environment", "environment_group": "Group",
                 "tier": "Tier", "availability": "Calendar",
                 "capacity": "Capacity", "flag": "Flag",
                 "utilization": st.column_config.ProgressColumn(
                     "Utilisation", format="percent", min_value=0,
                     max_value=1),
                 "demand_ratio": st.column_config.NumberColumn(
                     "Demand ratio", format="percent"),
                 "available_hours": st.column_config.NumberColumn(
                     "Available h", format="%,.0f"),
                 "booked_hours": st.column_config.NumberColumn(
                     "Booked h", format="%,.0f"),
                 "n_bookings": "Approved", "n_pending": "Pending"},
             column_order=["name", "environment_group", "tier", "flag",
                           "utilization", "demand_ratio", "booked_hours",
                           "available_hours", "capacity", "availability",
                           "n_bookings", "n_pending"])
    pick_box("usage_table", ids, shown["name"], picked,
             "Bookings of one environment")
    if picked is not None:
        environment = shown.iloc[ids.index(picked)]
        booked = ui.scoped("booking_timeline", window, filters,
                           environment_ids=[environment["environment_id"]])
        st.header(f"Bookings of {ui.plain(environment['name'])} in the "
                  "period")
        if booked.empty:
            st.info("No bookings of this environment in the period.")
        else:
            bookings_table(booked, "environment_bookings", [
                "release_name", "phase", "team", "status", "start_at",
                "end_at", "hours_in_window", "booking_id"])
    ui.definition("environment_utilization",
                  "How is utilisation computed?",
                  params={**window, **filters})
