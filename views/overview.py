"""Overview: the eight headline numbers of a period, each with its n, the
change against the previous equal period and a small trend."""
from datetime import timedelta

import streamlit as st

from changeboard import charts, ui

st.title("Overview")
status = ui.data_banner()
window = ui.period_filter()
filters = ui.global_filters()
if status is None:
    st.stop()
before = ui.previous(window)
days = (window["end_date"] - window["start_date"]).days
grain = "week" if days <= 120 else "month"


def both(name: str, **extra):
    """The query's single row for this period and for the one before."""
    return tuple(ui.scoped(name, w, filters, **extra).iloc[0]
                 for w in (window, before))


def trend(frame, column: str) -> list[float]:
    """Complete periods only, so a cut first or last period does not dip."""
    complete = frame[frame["is_complete"]] if "is_complete" in frame else frame
    return complete[column].fillna(0).astype(float).tolist()


success, success_before = both("change_success_rate")
emergency, emergency_before = both("emergency_change_ratio")
deploys, deploys_before = both("deployment_frequency")
cadence, cadence_before = both("release_cadence_summary")
on_time, on_time_before = both("release_on_time")
usage, usage_before = both("environment_utilization_summary")
ahead = {"start_date": ui.today(), "end_date": ui.today() + timedelta(days=90)}
conflicts = ui.scoped("booking_conflicts_by_environment", ahead, filters)
by_period = ui.scoped("change_success_rate_by_period", window, filters,
                      grain=grain)
emergency_by_period = ui.scoped("emergency_change_ratio_by_period", window,
                                filters, grain=grain)
deploys_by_week = ui.scoped("deployment_frequency_by_week", window, filters)

st.caption(f"Deltas compare with the {days} days before the period; the small "
           f"lines show complete {grain}s (deployments: weeks).")
row1, row2 = st.columns(4), st.columns(4)
with row1[0]:
    st.metric(
        "Change success rate", ui.pct(success["change_success_rate"]),
        ui.delta_points(success["change_success_rate"],
                        success_before["change_success_rate"]),
        border=True, chart_data=trend(by_period, "change_success_rate"),
        help="Implemented changes that did not fail ÷ implemented changes.")
    st.caption(f"n = {int(success['n']):,} implemented changes · "
               f"{int(success['n_unclassified']):,} without an outcome")
with row1[1]:
    st.metric(
        "Change failure rate", ui.pct(success["change_failure_rate"]),
        ui.delta_points(success["change_failure_rate"],
                        success_before["change_failure_rate"]),
        delta_color="inverse", border=True,
        chart_data=trend(by_period, "change_failure_rate"),
        help="Closed unsuccessful or backed out, or with a linked incident "
        "or a rolled-back deployment ÷ implemented changes.")
    st.caption(f"{int(success['n_failed']):,} of n = {int(success['n']):,} "
               f"failed · {int(success['n_failed_by_incident']):,} by an "
               "incident")
with row1[2]:
    st.metric(
        "Emergency ratio", ui.pct(emergency["emergency_change_ratio"]),
        ui.delta_points(emergency["emergency_change_ratio"],
                        emergency_before["emergency_change_ratio"]),
        delta_color="inverse", border=True,
        chart_data=trend(emergency_by_period, "emergency_change_ratio"),
        help="Emergency changes ÷ completed changes of a known type "
        "(implemented, or without a close code and in review or closed).")
    st.caption(f"{int(emergency['n_emergency']):,} of n = "
               f"{int(emergency['n']):,} completed changes")
with row1[3]:
    st.metric(
        "Deployments per day", ui.number(deploys["deployments_per_day"]),
        ui.delta_number(deploys["deployments_per_day"],
                        deploys_before["deployments_per_day"]),
        border=True, chart_data=trend(deploys_by_week, "n_deployments"),
        help="Succeeded or rolled-back deployments to production ÷ days in "
        "the period.")
    st.caption(f"n = {int(deploys['n']):,} production deployments on "
               f"{int(deploys['deploy_days']):,} days · median "
               f"{ui.number(deploys['median_deploy_days_per_week'])} deploy "
               "days a week" + ui.unapplied("deployment_frequency", filters))
with row2[0]:
    st.metric(
        "Median release interval",
        ui.number(cadence["median_gap_days"], suffix=" days"),
        ui.delta_number(cadence["median_gap_days"],
                        cadence_before["median_gap_days"]),
        delta_color="inverse", border=True,
        help="Median days between consecutive releases of the same "
        "application, pooled over applications.")
    st.caption(f"n = {int(cadence['n_gaps']):,} gaps · "
               f"{int(cadence['n_releases']):,} releases of "
               f"{int(cadence['n_applications']):,} applications"
               + ui.unapplied("release_cadence_summary", filters))
with row2[1]:
    st.metric(
        "On-time release rate", ui.pct(on_time["on_time_rate"]),
        ui.delta_points(on_time["on_time_rate"], on_time_before["on_time_rate"]),
        border=True,
        help="Releases gone live on or before their planned date ÷ releases "
        "gone live with a plan.")
    st.caption(f"{int(on_time['n_on_time']):,} of n = {int(on_time['n']):,} "
               f"on time · {int(on_time['n_overdue_open']):,} overdue, not live"
               + ui.unapplied("release_on_time", filters))
with row2[2]:
    st.metric(
        "Environment utilisation", ui.pct(usage["utilization"]),
        ui.delta_points(usage["utilization"], usage_before["utilization"]),
        delta_color="off", border=True,
        help="Hours with an approved booking ÷ available hours (calendar "
        "minus blackouts and maintenance), summed over environments.")
    st.caption(f"n = {int(usage['n_environments']):,} environments · "
               f"{int(usage['n_idle']):,} idle · "
               f"{int(usage['n_overbooked']):,} over-booked"
               + ui.unapplied("environment_utilization_summary", filters))
with row2[3]:
    n_pairs = int(conflicts["n_conflict_pairs"].sum()) if len(conflicts) else 0
    n_envs = int((conflicts["n_conflict_pairs"] > 0).sum()) if len(
        conflicts) else 0
    st.metric(
        "Conflicts ahead", f"{n_pairs:,}", border=True,
        help="Pairs of approved or pending bookings of the same environment "
        "that overlap beyond its capacity in the next 90 days.")
    st.caption(f"next 90 days · on {n_envs:,} of "
               f"{len(conflicts):,} booked environments"
               + ui.unapplied("booking_conflicts_by_environment", filters))

st.subheader(f"Change outcomes per {grain}")
if by_period["n"].sum() == 0 and success["n_without_close_code"]:
    st.info(f"{int(success['n_without_close_code']):,} changes were completed "
            "in this period, but this source has no close codes, so no "
            "outcome is known: map `close_code`, or load incidents linked to "
            "changes.")
elif by_period["n"].sum() == 0:
    st.info("No changes were implemented in this period: widen the dates.")
else:
    st.plotly_chart(
        charts.stacked_bars(
            by_period, x="period_label",
            columns={"n_successful": "Successful",
                     "n_successful_with_issues": "Successful with issues",
                     "n_failed": "Failed"},
            y_title="implemented changes", x_title=grain),
        key="outcome-trend")
    st.caption(
        "Implemented changes by the period their work ended. Failed includes "
        "changes closed successful that later got a linked incident or a "
        "rolled-back deployment. Periods cut by the chosen dates are partial.")

# --- the records behind each card ---------------------------------------------
DRILL = {  # card -> (records query, window, which rows, what a row is)
    "Change success rate": ("change_records", window, "implemented",
                            "implemented changes (the card's n)"),
    "Change failure rate": ("change_records", window, "failed",
                            "failed changes (the rate's numerator)"),
    "Emergency ratio": ("emergency_change_records", window, None,
                        "completed changes (the card's n)"),
    "Deployments per day": ("deployment_records", window, None,
                            "production deployments"),
    "Median release interval": ("release_cadence", window, None,
                                "applications with their release gaps"),
    "On-time release rate": ("release_records", window, "released",
                             "releases gone live with a plan (the card's n)"),
    "Environment utilisation": ("environment_utilization", window, None,
                                "environments (the card's n)"),
    "Conflicts ahead": ("booking_conflicts", ahead, None,
                        "conflicting booking pairs, next 90 days"),
}
st.subheader("Records behind a card")
picked = st.pills("Card", list(DRILL), key="drill", bind="query-params",
                  label_visibility="collapsed")
if picked:
    name, span, rows, what = DRILL[picked]
    records = ui.scoped(name, span, filters)
    if rows == "implemented":
        records = records[records["kind"] == "implemented"]
    elif rows == "failed":
        records = records[records["is_failed"].fillna(False).astype(bool)]
    elif rows == "released":
        records = records[records["kind"] == "released"]
    st.caption(f"n = {len(records):,} {what}, "
               f"{span['start_date']:%d %b %Y} – "
               f"{span['end_date'] - timedelta(days=1):%d %b %Y}"
               + ui.unapplied(name, filters))
    ui.table(records.reset_index(drop=True), f"{name}-{picked.lower()}")
    ui.definition(name, f"Explain: how the rows behind {picked.lower()} are "
                  "found", params={**span, **filters})
else:
    st.caption("Pick a card to list the records behind its number, with "
               "downloads.")

explained = {"change_success_rate": window, "emergency_change_ratio": window,
             "deployment_frequency": window,
             "release_cadence_summary": window, "release_on_time": window,
             "environment_utilization_summary": window,
             "booking_conflicts_by_environment": ahead}
for name, span in explained.items():
    ui.definition(name, f"How is {name.replace('_', ' ')} computed?",
                  params={**span, **filters})

ui.as_of_caption(status)
