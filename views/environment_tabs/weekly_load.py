"""The weekly load: an environment x week heatmap of one group."""
import streamlit as st

from changeboard import env_charts, ui
from changeboard.words import period_words
from views.environment_tabs.common import EnvironmentsPage, no_bookings_loaded

# environments the heatmap draws at most, the busiest (a group of 205 drew a
# chart 6,200 px tall at a million changes); the table lists every one
HEATMAP_ROWS = 60


def query_of(window: dict, group: str | None) -> tuple[str, dict, dict]:
    """The tab's query for a group: (name, window, values), as
    ui.prefetch takes a call."""
    return ("environment_impact_by_week", window,
            env_charts.group_scope(group))


def ahead(window: dict) -> list[tuple[str, dict, dict]]:
    """The tab's query as its group picked last asks it, for the page to
    run with its own (ui.prefetch); none before a group is picked."""
    group = st.session_state.get("load_group")
    return [] if group is None else [query_of(window, group)]


def render(page: EnvironmentsPage) -> None:
    """The weekly load tab."""
    window = page.window
    filters = page.filters
    load_groups = page.load_groups
    left, right = st.columns([2, 2])
    load_group = left.selectbox("Environment group", load_groups,
                                index=page.busy_group, key="load_group",
                                bind="query-params")
    value = {"Releases": "n_releases", "Booked hours": "booked_hours"}[
        right.segmented_control(
            "Show", ["Releases", "Booked hours"], default="Releases",
            required=True, key="load_value", bind="query-params")]
    value_label = {"n_releases": "releases",
                   "booked_hours": "booked hours"}[value]
    name, _, extra = query_of(window, load_group)
    weekly = ui.scoped(name, window, filters, **extra)
    busy = weekly.groupby("environment_id")["n_bookings"].transform("sum") > 0
    if not busy.any() and (said := no_bookings_loaded()):
        st.info(said)
    elif not busy.any():
        st.info("No bookings on this group's environments in the period: "
                "pick another group or widen the dates.")
    else:
        # weeks in words, as every trend says them, '(part)' after a week
        # the period's dates cut (the period's first one, starting on a
        # Tuesday, read as a whole 'Week 37, 2026'); once a week. The
        # download keeps the ISO label scripts sort by
        weeks = weekly.loc[busy, ["week_label", "is_complete"]] \
            .drop_duplicates("week_label")
        said = {w: period_words(w) + ("" if whole else ui.PART)
                for w, whole in zip(weeks["week_label"],
                                    weeks["is_complete"], strict=True)}
        booked = weekly[busy].assign(
            week_label=weekly.loc[busy, "week_label"].map(said))
        drawn = env_charts.busiest_environments(booked, value, HEATMAP_ROWS)
        if not (booked[value].fillna(0) > 0).any():
            # every cell 0: the heatmap drew blank under a scale of 0-1,
            # beside a table of bookings (a group whose bookings name no
            # release, at a million changes)
            st.info(_nothing_to_draw(value, load_group))
        else:
            st.plotly_chart(env_charts.week_heatmap(drawn, value,
                                                    value_label),
                            key="weekly-load")
            _said_drawn(booked, drawn, weekly, busy, value, value_label,
                        load_group)
        ui.table(booked, "environment_impact_by_week", download=weekly[busy],
            column_config={
            "environment_name": "Environment", "environment_group": "Group",
            "tier": "Tier", "week_label": "Week",
            "n_releases": "Releases (approved)",
            "n_pending_releases": "Releases (pending only)",
            "booked_hours": st.column_config.NumberColumn(
                "Booked hours", format="%.1f"),
            "n_bookings": "Bookings", "n_excluded": "Rejected/cancelled"},
            column_order=["environment_name", "tier", "week_label",
                          "n_releases", "n_pending_releases", "booked_hours",
                          "n_bookings", "n_excluded"],
            height=ui.table_height(int(busy.sum()), most=260))
    ui.definition("environment_impact_by_week",
                  "How is the weekly load computed?",
                  params={**window, **filters, **extra})


def _nothing_to_draw(value: str, group: str) -> str:
    """What the tab says when every cell of its heatmap would be 0."""
    where = ("the environments without a group" if group ==
             env_charts.NO_GROUP else
             f"the environments of the group {ui.plain(group)}")
    if value == "n_releases":
        return (f"No release has an approved booking on {where} in the "
                "period: their bookings (listed below) name no release, or "
                "are pending or rejected. Show Booked hours for the hours "
                "approved bookings take.")
    return (f"No approved booking on {where} in the period: their bookings "
            "(listed below) are pending, rejected or cancelled.")


def _said_drawn(booked, drawn, weekly, busy, value: str, value_label: str,
                load_group: str) -> None:
    """The heatmap's caption: what a cell counts, of how many
    environments, and which it draws."""
    idle = weekly.loc[~busy, "environment_id"].nunique()
    n_booked = booked["environment_id"].nunique()
    n_drawn = drawn["environment_id"].nunique()
    st.caption(
        ("Releases with an approved booking overlapping the week (a "
         "release with only pending bookings is not counted)"
         if value == "n_releases" else
         "Hours of the week with at least one approved booking (overlaps "
         "count once)")
        + ". n = " + ui.many(n_booked, "environment") + " "
        + ("without a group" if load_group == env_charts.NO_GROUP else
           f"of the group {ui.plain(load_group)}")
        + " with bookings in the period"
        + (f"; {idle:,} without any {'is' if idle == 1 else 'are'} left"
           " out" if idle else "")
        + ". (part) weeks are cut by the chosen dates."
        + ("" if n_drawn == n_booked else
           f" The chart draws the {n_drawn:,} busiest of {n_booked:,} "
           f"environments (most {value_label} in the period); the table "
           "lists every one."))
