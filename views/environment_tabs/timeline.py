"""The bookings timeline of one environment group."""
from datetime import timedelta

import streamlit as st

from changeboard import env_charts, ui
from views.environment_tabs.common import (
    EnvironmentsPage,
    bookings_table,
    no_bookings_loaded,
)

# bookings the timeline draws at most, whole environments in its order (a
# year of a portfolio's 20,000 bookings made a 5,700-pixel chart that took
# the browser 8-10 s to draw); the table lists every booking
MAX_BARS = 2_000


STATUSES = ["approved", "pending", "rejected"]  # drawn unless picked


def query_of(span: dict, group: str | None, statuses: list[str]
             ) -> tuple[str, dict, dict]:
    """The tab's query: (name, dates, values), as ui.prefetch takes a
    call."""
    return ("booking_timeline", span, {
        "statuses": statuses or None, **env_charts.group_scope(group)})


def ahead(window: dict) -> list[tuple[str, dict, dict]]:
    """The tab's query as its picks last asked it, for the page to run with
    its own (ui.prefetch): over the sidebar period, once a group is
    picked."""
    group = st.session_state.get("timeline_group")
    if group is None or st.session_state.get(
            "timeline_dates") == "Matrix dates":
        return []
    return [query_of(window, group,
                     st.session_state.get("timeline_statuses", STATUSES))]


def render(page: EnvironmentsPage) -> None:
    """The bookings timeline tab."""
    window = page.window
    filters = page.filters
    matrix_window = page.matrix_window
    load_groups = page.load_groups
    left, middle, right = st.columns([2, 2.2, 2.8])
    timeline_group = left.selectbox("Environment group", load_groups,
                                    index=page.busy_group,
                                    key="timeline_group",
                                    bind="query-params")
    ahead = middle.segmented_control(
        "Dates", ["Sidebar period", "Matrix dates"],
        default="Sidebar period", required=True, key="timeline_dates",
        bind="query-params") == "Matrix dates"
    statuses = right.multiselect(
        "Statuses", list(env_charts.BOOKING_COLOURS),
        default=STATUSES, format_func=ui.word, key="timeline_statuses")
    name, span, extra = query_of(matrix_window if ahead else window,
                                 timeline_group, statuses)
    timeline = ui.scoped(name, span, filters, **extra)
    if timeline.empty and (said := no_bookings_loaded()):
        st.info(said)
    elif timeline.empty:
        st.info("No bookings of this group's environments in these dates: "
                "pick another group or widen the dates.")
    else:
        drawn = env_charts.first_environments(timeline, MAX_BARS)
        st.plotly_chart(env_charts.booking_gantt(drawn), key="booking-gantt")
        n_environments = timeline["environment_id"].nunique()
        st.caption(
            f"n = {ui.many(len(timeline), 'booking')} on "
            f"{ui.many(n_environments, 'environment')}"
            + (f" of {ui.plain(timeline_group)}" if timeline_group else "")
            + f", cut to {ui.day(span['start_date'])} – "
            f"{ui.day(span['end_date'] - timedelta(days=1))}; overlapping "
            "bars on one row are concurrent bookings."
            + ("" if len(drawn) == len(timeline) else
               f" The chart draws the first "
               f"{drawn['environment_id'].nunique():,} of {n_environments:,}"
               f" environments ({ui.many(len(drawn), 'booking')}): "
               + ("shorter dates draw more of them" if timeline_group else
                  "pick a group or shorter dates for the others")
               + "; the table lists every booking."))
        with ui.files_cover(span):  # the sidebar's or the matrix's dates
            bookings_table(timeline, "booking_timeline", [
                "environment_name", "release_name", "phase", "team",
                "status", "start_at", "end_at", "hours_in_window",
                "booking_id"])
    ui.definition("booking_timeline", "What does the timeline show?",
                  params={**span, **filters, **extra})
