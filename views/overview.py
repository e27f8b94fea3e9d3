"""Overview: headline change, release and environment numbers for a period."""
import streamlit as st

from changeboard import charts, ui

st.title("Overview")
status = ui.data_banner()
window = ui.period_filter()
filters = ui.global_filters()
if status is None:
    st.stop()
before = ui.previous(window)

success, success_before = (
    ui.scoped("change_success_rate", w, filters).iloc[0] for w in (window, before))
emergency, emergency_before = (
    ui.scoped("emergency_change_ratio", w, filters).iloc[0] for w in (window, before))
releases, releases_before = (
    ui.scoped("release_cadence_summary", w, filters).iloc[0] for w in (window, before))
usage, usage_before = (
    ui.scoped("environment_utilization_summary", w, filters).iloc[0]
    for w in (window, before))

st.caption(f"Deltas compare with the {(window['end_date'] - window['start_date']).days}"
           " days before the period.")
cards = st.columns(4)
with cards[0]:
    st.metric(
        "Change success rate", ui.pct(success["change_success_rate"]),
        ui.delta_points(success["change_success_rate"],
                        success_before["change_success_rate"]),
        border=True,
        help="Implemented changes that did not fail ÷ implemented changes. "
        "Failed: closed unsuccessful or backed out, a linked incident, or a "
        "rolled-back deployment.")
    st.caption(
        f"n = {int(success['n']):,} implemented changes · "
        f"{int(success['n_failed']):,} failed · "
        f"{int(success['n_unclassified']):,} without an outcome")
with cards[1]:
    st.metric(
        "Emergency ratio", ui.pct(emergency["emergency_change_ratio"]),
        ui.delta_points(emergency["emergency_change_ratio"],
                        emergency_before["emergency_change_ratio"]),
        delta_color="inverse", border=True,
        help="Emergency changes ÷ implemented changes of a known type.")
    st.caption(
        f"n = {int(emergency['n']):,} implemented changes · "
        f"{int(emergency['n_emergency']):,} emergency")
with cards[2]:
    st.metric(
        "Releases per month", ui.number(releases["releases_per_month"]),
        ui.delta_number(releases["releases_per_month"],
                        releases_before["releases_per_month"]),
        border=True,
        help="Releases gone live in the period (not cancelled, not grouping "
        "enterprise releases) per 30.4 days.")
    st.caption(
        f"n = {int(releases['n_releases']):,} releases of "
        f"{int(releases['n_applications']):,} applications · median gap "
        f"{ui.number(releases['median_gap_days'])} days"
        + ui.unapplied("release_cadence_summary", filters))
with cards[3]:
    st.metric(
        "Environment utilisation", ui.pct(usage["utilization"]),
        ui.delta_points(usage["utilization"], usage_before["utilization"]),
        delta_color="off", border=True,
        help="Hours with an approved booking ÷ available hours (calendar "
        "minus blackouts and maintenance), summed over environments.")
    st.caption(
        f"n = {int(usage['n_environments']):,} environments · "
        f"{ui.number(usage['booked_hours'], 0)} of "
        f"{ui.number(usage['available_hours'], 0)} h booked · "
        f"{int(usage['n_idle']):,} idle"
        + ui.unapplied("environment_utilization_summary", filters))

days = (window["end_date"] - window["start_date"]).days
grain = "week" if days <= 120 else "month"
trend = ui.scoped("change_success_rate_by_period", window, filters,
                  grain=grain)
st.subheader(f"Change outcomes per {grain}")
if trend["n"].sum() == 0:
    st.info("No changes were implemented in this period: widen the dates.")
else:
    st.plotly_chart(
        charts.stacked_bars(
            trend, x="period_label",
            columns={"n_successful": "Successful",
                     "n_successful_with_issues": "Successful with issues",
                     "n_failed": "Failed"},
            y_title="implemented changes", x_title=grain),
        key="outcome-trend")
    st.caption(
        "Implemented changes by the period their work ended. Failed includes "
        "changes closed successful that later got a linked incident or a "
        "rolled-back deployment. Periods cut by the chosen dates are partial.")

for name in ("change_success_rate", "emergency_change_ratio",
             "release_cadence_summary", "environment_utilization_summary"):
    ui.definition(name, f"How is {name.replace('_', ' ')} computed?")

ui.as_of_caption(status)
