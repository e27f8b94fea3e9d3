"""Releases: cadence per application, on-time rate and slip, a timeline of
release phases (planned vs actual) and the DORA panel."""
from functools import partial

import pandas as pd
import streamlit as st

from changeboard import charts, config, ui

LABELS = {
    "release_id": "Release", "name": "Name", "release_name": "Name",
    "application_id": "Application id", "application_name": "Application",
    "status": "Status", "release_status": "Status",
    "release_type": "Type", "kind": "Counted as",
    "planned_release_at": "Planned go-live (UTC)",
    "actual_release_at": "Actual go-live (UTC)", "slip_days": "Slip (days)",
    "is_on_time": "On time", "n_releases": "Releases in period",
    "n_gaps": "Gaps", "median_gap_days": "Median gap (days)",
    "on_time_rate": "On-time rate", "n": "Released (n)",
    "n_on_time": "On time (n)", "n_late": "Late",
    "median_slip_days": "Median slip (days)",
    "median_slip_days_late": "Median slip of late (days)",
    "n_overdue_open": "Overdue, not live", "n_excluded": "Excluded",
    "n_unclassified": "No planned date", "phase": "Phase",
    "planned_start_at": "Planned start (UTC)",
    "planned_end_at": "Planned end (UTC)",
    "actual_start_at": "Actual start (UTC)",
    "actual_end_at": "Actual end (UTC)", "is_in_progress": "In progress",
    "end_slip_days": "End slip (days)", "days_overdue": "Overdue (days)",
}
RECORD_COLUMNS = ["release_id", "name", "application_name", "status",
                  "release_type", "kind", "planned_release_at",
                  "actual_release_at", "slip_days", "is_on_time"]
OVERDUE_COLUMNS = ["release_id", "name", "application_name", "status",
                   "release_type", "planned_release_at", "days_overdue"]
# dora_summary metric -> (label, how to show the raw value, unit); a
# duration's unit is that ui.duration writes its value in ({unit}: hours up
# to 48, then days)
DORA = {
    "deployment_frequency": ("Deployment frequency", ui.number,
                             "median deploy days per week"),
    # a label a quarter of the page wide shows whole (1280 pixels): the
    # panel's heading says DORA, the help that it counts deployments
    "deployment_change_failure_rate": ("Deployment failure rate", ui.pct,
                                       "of production deployments failed"),
    "lead_time": ("Lead time for changes", lambda v: hours(v), "{unit}"),
    "failed_change_recovery_time": ("Recovery time", lambda v: hours(v),
                                    "median {unit} to restore"),
}
HELP = {"deployment_change_failure_rate": (
    "DORA's change failure rate, counted per production deployment: the "
    "share rolled back or followed by an incident of any priority. The "
    "Overview's Change failure rate counts change requests"
    + (f", failed by a {ui.failing_incident()}."
       if config.failure_min_priority() else "."))}
# the cards counted over production deployments
DEPLOYMENT_METRICS = ("deployment_frequency", "deployment_change_failure_rate")
BADGE = {"elite": "green", "high": "blue", "medium": "orange", "low": "red"}
ALL = "All releases in the period"
ON_TIME = {"On time": charts.STATUS_COLOURS["Successful"],
           "Late": charts.STATUS_COLOURS["Failed"]}
PAGE_SIZE = 20


def first_unfinished_said(ended_first: int, opened: int, first: int,
                          shown: pd.Series) -> str:
    """Which release of the timeline is the first still under way or
    ahead: by its name, as the chart labels it, when the page shown holds
    it, and by its place in the list ('Release 7 is the first ...' was read
    as a release named 7: an application owner's walkthrough)."""
    place = f"no. {ended_first + 1:,} by first phase start"
    names = list(dict.fromkeys(shown))
    name = names[ended_first - first] \
        if 0 <= ended_first - first < len(names) else None
    if name is None:
        return (f"{place[0].upper()}{place[1:]} is the first release still "
                "under way or ahead; ")
    name = ui.plain(name)  # data, not Markdown
    if opened == ended_first:
        return (f"Opens on {name}, {place}, the first still under way or "
                "ahead; ")
    return f"{name}, {place}, is the first still under way or ahead; "


def hours(value) -> str:
    return ui.duration(value)


def unit_of(unit: str, value) -> str:
    """A card's unit for its value: a duration's in the unit its value is
    written in ('median days to restore' under '3.0 days')."""
    return unit.format(unit=ui.duration_unit(value)) if "{unit}" in unit \
        else unit


def shown(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The chosen columns under their labels, codes as words: ui.table turns
    codes into words only under their own names (status, release_type);
    phases as the timeline's legend names them (sit -> SIT, ui.readable)."""
    return ui.labelled(ui.readable(frame[columns]), columns, LABELS)


def for_scripts(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A table's download: its columns as the query names them, with codes
    and ids (the application's id before its name), as `changeboard query`
    writes them; the table shows them under labels, as words."""
    wanted = list(columns)
    if "application_name" in wanted and "application_id" not in wanted:
        wanted.insert(wanted.index("application_name"), "application_id")
    return frame[wanted]


def app_label(app_id, name) -> str:
    if app_id is None or pd.isna(app_id):
        return "(no application)"
    return f"{name} ({app_id})" if isinstance(name, str) else str(app_id)


def releases_of(first: int, last: int) -> str:
    """'releases 1–20', 'release 21'."""
    return f"release{'' if last - first == 1 else 's'} " \
        f"{ui.numbered(first, last)}"


def unplanned(period: pd.Series) -> str | None:
    """What the on-time section says when no release of any date or
    filter can be rated (none gone live with a planned date, none overdue)
    but some went live without a planned date: the data has no plans, so
    no period would give an on-time rate. None when some release has a
    plan. Read only when the period (`period`, release_on_time's row) rates
    none: one more query (ui.releases_without_plans)."""
    everything = ui.releases_without_plans()
    if everything is None:
        return None
    live = int(period["n_unclassified"])
    return (f"No release in the data has a planned go-live date "
            f"(`planned_release_at`): {ui.many(everything, 'release')} "
            "went live without one"
            + (f", {live:,} of them in this period" if live else "")
            + ", so none can be rated on time or late (n = 0). Map "
            "`planned_release_at` in the source's mapping file "
            "(docs/sources.md, section 7) or load releases with their planned "
            "dates.")


def undated() -> str:
    """The releases marked released with no go-live time, which no period
    holds (1,126 of endoflife.date's 2,615 cycles), as the cadence says
    them: counted in the whole data, whatever the filters. '' for none."""
    n = status.get("n_releases_undated")
    if n is None or pd.isna(n) or not n:
        return ""
    return (f"{ui.many(int(n), 'release')} marked released without a "
            "go-live time " + ("is" if n == 1 else "are") + " in no period"
            + (" (in the whole data, whatever the filters)"
               if filters else ""))


CHANGE_LABELS = {"change_id": "Change", "change_type": "Type",
                 "application_id": "Application",
                 "assignment_group": "Team"}


def carried_by(releases: pd.DataFrame) -> None:
    """Under the releases listed: the changes one of them carries, whatever
    their dates (the readiness page lists them only for the releases going
    live soon, and the Changes page has no release: a release manager had
    no way from a release gone live to its changes but the CLI)."""
    if releases.empty:
        return
    named = {rid: f"{name} ({rid})" if isinstance(name, str) and name
             else rid for rid, name in zip(releases["release_id"],
                                           releases["name"], strict=True)}
    pick = ui.drill_id("Changes a release carries", named, "release_changes",
                       "Pick a listed release")
    if pick is None:
        return
    changes = ui.query("release_changes", release_ids=[pick])
    if changes.empty:
        st.caption(f"No change names {pick} as its release.")
        return
    st.caption(f"{ui.many(len(changes), 'change')} "
               + ("names" if len(changes) == 1 else "name")
               + f" {pick} as {'its' if len(changes) == 1 else 'their'} "
               "release, whatever their dates.")
    ui.table(changes.drop(columns=["release_id", "is_release_loaded"]),
             f"changes-of-{ui.slug(pick)}", labels=CHANGE_LABELS,
             download=changes)


def no_releases(what: str) -> str | None:
    """What a release section says when no release of any date is loaded
    (change data alone, such as BPIC 2014): wider dates or fewer filters
    cannot help, loading releases can. None when some are loaded."""
    if status["n_releases"]:
        return None
    return (f"No releases are loaded, so there is no {what} to show: "
            + ui.load_hint("releases") + ".")


def widen(filters: dict) -> str:
    """What a release section with nothing in its period suggests: to widen
    the dates, or clear the application and portfolio filters it takes
    when some are set (the team, type and tier filters are changes')."""
    taken = [label for key, label in (("application_ids", "application"),
                                      ("portfolios", "portfolio"))
             if filters.get(key)]
    if not taken:
        return "widen the dates"
    return (f"widen the dates or clear the {' and '.join(taken)} "
            f"filter{'s' if len(taken) > 1 else ''}")


def not_restored() -> str:
    """Why the recovery time card has no band when no failed change was
    restored in the period: no change of the period has a known outcome,
    its completed changes having no close code (a source that records
    none, such as BPIC 2014: "no failed change" would read as none
    failing), else none was restored. One more query, read only then."""
    success = ui.scoped("change_success_rate", window, filters).iloc[0]
    unknown = int(success["n_without_close_code"] or 0)
    if not success["n"] and unknown:
        return ("no band: no change outcome is known in the period "
                f"({ui.many(unknown, 'completed change')} without a close "
                "code)")
    return "no band: no failed change restored in the period"


def recoveries_left_out(row) -> list[str]:
    """What the recovery time's n (failed changes restored in the period)
    does not measure, C6 (docs/metrics.md, failed_change_recovery_time):
    failed changes that ended in the period and are not restored, n_open
    (an incident still open) and n_unmeasurable (nothing shows a
    restoration), and restorations before the failure, n_invalid; none
    said for a count of 0."""
    said = []
    counts = {key: 0 if pd.isna(row[key]) else int(row[key])
              for key in ("n_open", "n_unmeasurable", "n_invalid")}
    if counts["n_open"]:
        said.append(ui.many(counts["n_open"], "failed change")
                    + " of the period not restored yet (an incident still "
                    "open)")
    if counts["n_unmeasurable"]:
        said.append(ui.many(counts["n_unmeasurable"], "failed change")
                    + " of the period with no restoration recorded")
    if counts["n_invalid"]:
        said.append(ui.many(counts["n_invalid"], "change restored before "
                            "it failed", "changes restored before they "
                            "failed") + " left out")
    return said


def app_labels(frame: pd.DataFrame) -> list[str]:
    """app_label of each row (thousands of release rows at a million
    changes, a few hundred applications)."""
    return ui.each_distinct_row(app_label, frame["application_id"],
                                frame["application_name"])


status, window, filters = ui.page("Releases")
# the queries that need no widget below, two at a time (ui.prefetch)
ui.prefetch([(name, window, {}) for name in (
    "release_cadence_groups", "release_timeline_summary", "dora_summary",
    "failed_change_recovery_time")], filters)

# --- cadence ------------------------------------------------------------------
st.header("Release cadence")
# the summary, the months and each application's: one groups query
cadence_frames = ui.scoped_groups("release_cadence_groups", window, filters)
summary = cadence_frames["release_cadence_summary"].iloc[0]
if summary["n_releases"] == 0:
    # releases gone live that the cadence leaves out are said, not a hint
    # to widen the dates past them (the Overview's card counts them)
    left_out = ui.cadence_left_out(summary).removeprefix(" · ")
    said = no_releases("cadence") or (
        f"No release the cadence counts went live in this period: "
        f"{left_out}." if left_out else
        f"No release went live in this period — {widen(filters)}.")
    st.info(said + (f" {no_period}." if (no_period := undated()) else ""))
else:
    cards = st.columns(3)
    cards[0].metric("Releases per month",
                    ui.per_period(summary["releases_per_month"]),
                    border=True)
    cards[1].metric("Median gap between releases",
                    ui.number(summary["median_gap_days"], suffix=" days"),
                    border=True)
    cards[2].metric("Releases gone live", f"{int(summary['n_releases']):,}",
                    border=True)
    st.caption(
        f"n = {ui.many(summary['n_releases'], 'release')} of "
        f"{ui.many(summary['n_applications'], 'application')} (not cancelled, "
        "not enterprise groupings) · median over "
        f"{ui.many(summary['n_gaps'], 'gap')} between consecutive releases of the "
        "same application" + ui.cadence_left_out(summary)
        + (f" · {no_period}" if (no_period := undated()) else "")
        + ui.unapplied("release_cadence_summary", filters))
    monthly = cadence_frames["release_cadence_by_month"]
    monthly = monthly.assign(month=[
        f"{m:%b %Y}" + ("" if complete else ui.PART) for m, complete in
        zip(pd.to_datetime(monthly["month"]), monthly["is_complete"],
            strict=True)])
    st.plotly_chart(
        charts.count_bars(monthly, x="month", y="n_releases",
                          y_title="releases gone live", x_title="month"),
        key="cadence-chart")
    st.caption("Releases gone live per month; (part) months are cut by "
               "the dates.")
    ui.numbers_behind(monthly, ["month", "n_releases"],
                      "releases-per-month",
                      labels={"n_releases": "Releases gone live"})
    cadence_query = cadence_frames["release_cadence"].sort_values(
        "n_releases", ascending=False)
    cadence = cadence_query.assign(application_name=app_labels(cadence_query))
    cadence_columns = ["application_name", "n_releases", "median_gap_days",
                       "n_gaps"]
    ui.table(shown(cadence, cadence_columns),
             "release-cadence-by-application",
             download=for_scripts(cadence_query, cadence_columns),
             height=ui.table_height(len(cadence), most=300),
             column_config={"Median gap (days)":
                            st.column_config.NumberColumn(format="%.1f")})
    st.caption("Per application: releases gone live in the period and "
               "the median days between consecutive releases (a gap "
               "counts in the period of its later release).")
# the cards are release_cadence_summary's (all applications' gaps pooled),
# the table release_cadence's: one box named only the table's query, whose
# rows hold neither the cards' median nor their releases per month
ui.definition("release_cadence_summary", params={**window, **filters})
ui.definition("release_cadence", "How is the table by application computed?",
              params={**window, **filters})

# --- on time ------------------------------------------------------------------
st.header("On-time releases")
# a tolerance with no release loaded would tune nothing: not offered
tolerance = st.columns([1, 2])[0].number_input(
    "Tolerance (days late still on time)", 0, 60, 0, key="tolerance_days",
    bind="query-params") if status["n_releases"] else 0
ui.prefetch([(name, window, {"tolerance_days": int(tolerance)}) for name in (
    "release_on_time", "release_slip_days", "release_on_time_by_application")],
    filters, parts=[("release_records", window, {"kind": "overdue_open"})])
on_time = ui.scoped("release_on_time", window, filters,
                    tolerance_days=int(tolerance)).iloc[0]
rated = on_time["n"] > 0 or on_time["n_overdue_open"] > 0
# the releases of every date and filter went live without a planned date
# (endoflife.date, Jira versions loaded by a mapping): wider dates cannot help
no_plans = None if rated else (no_releases("on-time rate")
                               or unplanned(on_time))
if no_plans:
    st.info(no_plans)
elif not rated:
    st.info("No release with a planned date went live in this period — "
            f"{widen(filters)}.")
else:  # none gone live but some overdue: that is the news
    cards = st.columns(4)
    cards[0].metric("On-time rate", ui.pct(on_time["on_time_rate"]),
                    border=True)
    cards[1].metric("Median slip",
                    ui.number(on_time["median_slip_days"], suffix=" days"),
                    border=True, help="Signed: negative is early.")
    cards[2].metric("Median slip of late releases",
                    ui.number(on_time["median_slip_days_late"],
                              suffix=" days"),
                    border=True)
    n_overdue = int(on_time["n_overdue_open"])
    cards[3].metric("Overdue, not live", f"{n_overdue:,}",
                    border=True, help="Not live, not cancelled, not "
                    "enterprise (a grouping of releases counted on their "
                    "own), planned before the end of the period; listed "
                    "below the cards.")
    st.caption(
        f"{int(on_time['n_on_time']):,} of n = "
        f"{ui.many(on_time['n'], 'release')} went live on or before the "
        f"planned day (+{ui.many(tolerance, 'day')} "
        f"tolerance) · {int(on_time['n_unclassified']):,} without a planned "
        f"date and {int(on_time['n_excluded']):,} cancelled or enterprise "
        "left out. Only the latest plan is stored, so re-planning hides slip."
        + ui.unapplied("release_on_time", filters))
    if n_overdue:
        with st.expander(f"{ui.the(n_overdue, 'release', article='The')} "
                         "overdue, not live"):
            # the card's rule (release_outcomes), so its rows are its count
            overdue = ui.scoped_part("release_records", window, filters,
                                     kind="overdue_open")
            st.caption(
                f"{ui.many(overdue.n, 'release')} not live, not cancelled and not "
                "enterprise, planned before the end of the period (or the "
                "data's as-of time, if earlier), however old; oldest plan "
                "first. Overdue (days): from the planned day to the data's "
                "as-of day.")
            ui.table(overdue.map(lambda rows: shown(
                rows.assign(application_name=app_labels(rows)),
                OVERDUE_COLUMNS)), "releases-overdue-not-live",
                download=lambda: for_scripts(overdue.whole(),
                                             OVERDUE_COLUMNS),
                download_rows=overdue.n)
    # the histogram's releases counted by slip: a year's records are 21,000
    # rows at a million changes, read only for the list of them below
    slips = ui.scoped("release_slip_days", window, filters,
                      tolerance_days=int(tolerance))
    released = slips[["slip_days", "n"]].assign(
        outcome=slips["is_on_time"].map({True: "On time", False: "Late"}))
    by_app = ui.scoped("release_on_time_by_application", window, filters,
                       tolerance_days=int(tolerance))
    by_app_query = by_app[(by_app["n"] > 0) | (by_app["n_overdue_open"] > 0)]
    by_app = by_app_query.assign(application_name=app_labels)
    by_app = by_app.sort_values(["on_time_rate", "n"],
                                ascending=[True, False])
    labels = list(by_app["application_name"])
    if released.empty:
        st.info(f"No release with a planned date went live in this period;"
                f" {n_overdue:,} {'is' if n_overdue == 1 else 'are'} overdue, "
                "not live.")
    else:
        st.plotly_chart(
            charts.histogram(released, x="slip_days",
                             x_title="slip (days, negative = early)",
                             y_title="releases", colour="outcome",
                             colours=ON_TIME, order=list(ON_TIME),
                             weight="n", whole=True),
            key="slip-chart")
        st.caption("Slip distribution: local go-live day − planned day, "
                   "one bar per day.")
        ui.numbers_behind(released, ["slip_days", "outcome", "n"],
                          "release-slip-days",
                          labels={"slip_days": "Slip (days)",
                                  "n": "Releases"})
    # an application with releases overdue but none gone live has no bar
    # (it drew an empty row, unexplained): the table lists it
    live = by_app[by_app["n"] > 0]
    overdue_only = len(by_app) - len(live)
    st.plotly_chart(
        charts.horizontal_stacked_bars(
            ui.most(live, "n"), y="application_name",
            columns={"n_on_time": "On time", "n_late": "Late"},
            x_title="releases gone live", y_title="",
            hover={"on_time_rate": "on-time rate"}, colours=ON_TIME),
        key="on-time-chart", selection_mode="points",
        on_select=partial(ui.pick_point, "on-time-chart", "release_app",
                          "y"))
    st.caption("Per application, least on time first."
               + ui.drawn_of(live, "application", "releases gone live")
               + (f" {ui.many(overdue_only, 'application')} with releases "
                  "overdue but none gone live in the period "
                  f"{'has' if overdue_only == 1 else 'have'} no bar; the "
                  f"table lists {'it' if overdue_only == 1 else 'them'} "
                  "(Overdue, not live)." if overdue_only else "")
               + " Select a bar or a row to see its releases.")
    table = shown(by_app, ["application_name", "on_time_rate", "n",
                           "n_on_time", "n_late", "median_slip_days",
                           "median_slip_days_late", "n_overdue_open",
                           "n_unclassified", "n_excluded"])
    ui.table(table, "release-on-time-by-application", key="on-time-table",
             download=for_scripts(by_app_query.loc[by_app.index], [
                 "application_name", "on_time_rate", "n", "n_on_time",
                 "n_late", "median_slip_days", "median_slip_days_late",
                 "n_overdue_open", "n_unclassified", "n_excluded"]),
             on_select=ui.picking("on-time-table", "release_app",
                               labels),
             selection_mode="single-row",
             column_config={"On-time rate": st.column_config.NumberColumn(
                 format="percent")})
    pick = ui.drill("Releases behind the numbers", [ALL, *labels],
                    "release_app")
    if pick:
        # the records, and applications by name, only for the list picked
        records_query = ui.scoped("release_records", window, filters,
                                  tolerance_days=int(tolerance))
        records = records_query.assign(
            application_name=app_labels(records_query))
        rows = records if pick == ALL else \
            records[records["application_name"] == pick]
        st.caption(f"{ui.many(len(rows), 'release')} gone live in the period "
                   f"({pick}); the Counted as column says which are in n.")
        ui.table(shown(rows, RECORD_COLUMNS), f"releases-{ui.slug(pick)}",
                 download=for_scripts(records_query.loc[rows.index],
                                      RECORD_COLUMNS))
        carried_by(rows)
ui.definition("release_on_time", params={
    **window, **filters, "tolerance_days": int(tolerance)})

# --- timeline -----------------------------------------------------------------
st.header("Release timeline")
span = ui.scoped("release_timeline_summary", window, filters).iloc[0]
n_releases = int(span["n_releases"])
if n_releases == 0 and not status["n_release_phases"]:
    # the timeline draws release phases, and the data has none (releases
    # loaded alone: endoflife.date, Jira versions): wider dates cannot help
    st.info("No release phase (dev, SIT, UAT, cut-over ...) is loaded, so "
            "there is no timeline to draw: "
            + ui.load_hint("release_phases") + ".")
elif n_releases == 0:
    st.info("No release has a phase planned or under way in this period — "
            f"{widen(filters)}.")
else:
    # the timeline is read a page of releases at a time: only what is drawn
    # it opens on a page that starts at the first release still under way
    # or ahead at the as-of time (a long period's first pages are releases
    # long over; the pages before it are cut from there back, the first one
    # shorter); on the first page when every one has ended. A page full
    # where it can be: one that starts within the last PAGE_SIZE starts
    # there, so it holds the releases before it too (2 releases drew the
    # second alone, under 'Releases shown: 2 of 2', a walkthrough)
    ended_first = int(span["n_ended_first"])
    opened = min(ended_first, max(0, n_releases - PAGE_SIZE)) \
        if ended_first < n_releases else 0
    starts = sorted({0, *range(opened % PAGE_SIZE, n_releases, PAGE_SIZE)})
    pages = list(zip(starts, [*starts[1:], n_releases], strict=True))
    # another period or filters: the timeline opens afresh (the pick kept
    # the last period's page: 'releases 700-719 of 8,453' over 24,920). Set
    # through the widget's key, so the browser's box shows it too (the
    # state dropped instead, the page drew the new one under a box that
    # still read the old); the box then takes no index of its own
    scope = repr((window, filters, n_releases, opened))
    if st.session_state.get("timeline_page_scope") != scope:
        st.session_state["timeline_page"] = starts.index(opened)
        st.session_state["timeline_page_scope"] = scope
    chosen = st.columns([1, 1])[0].selectbox(
        "Releases shown", range(len(pages)), key="timeline_page",
        format_func=lambda p: f"{ui.numbered(*pages[p])} of "
        f"{n_releases:,} (by first phase start)")
    first, last = pages[chosen or 0]
    part = ui.scoped("release_timeline", window, filters,
                     release_offset=first, release_limit=last - first)
    part = part.assign(release=[
        f"{n} ({i})" for n, i in zip(part["release_name"],
                                     part["release_id"], strict=True)])
    st.plotly_chart(
        charts.release_gantt(
            part, release="release", phase="phase",
            planned=("planned_start_at", "planned_end_at"),
            actual=("actual_start_at", "shown_actual_end_at"),
            window=(window["start_date"], window["end_date"]),
            as_of=status["as_of"],
            names={p: ui.phase_word(p) for p in part["phase"].unique()}),
        key="timeline-chart")
    st.caption(
        f"{ui.many(n_releases, 'release')} with a phase planned or under way in "
        "the period (shaded); light bars are the plan, solid bars what "
        "happened. Phases in progress, drawn up to the data's as-of time "
        f"(dotted line): {int(span['n_in_progress']):,} of "
        f"{int(span['n_phases']):,}. "
        + (first_unfinished_said(ended_first, opened, first, part["release"])
           + ("the one before it has ended. " if ended_first == 1 else
              f"the {ended_first:,} before it have ended. ")
           if 0 < ended_first < n_releases else "")
        + "Narrow with the Application filter."
        + ui.unapplied("release_timeline", filters))
    phase_columns = ["release_id", "release_name", "application_name",
                     "release_status", "phase", "planned_start_at",
                     "planned_end_at", "actual_start_at", "actual_end_at",
                     "is_in_progress", "end_slip_days"]
    with st.expander(f"{ui.the(len(part), 'phase', article='The')} of "
                     f"{releases_of(first, last)}"):
        st.caption(f"The downloads hold "
                   f"{ui.the(span['n_phases'], 'phase', article='all')} of "
                   f"{ui.the(n_releases, 'release')}, read when clicked.")
        ui.table(shown(part, phase_columns), "release-timeline",
                 download=lambda: for_scripts(ui.scoped(
                     "release_timeline", window, filters), phase_columns),
                 download_rows=int(span["n_phases"]),
                 column_config={"End slip (days)":
                                st.column_config.NumberColumn(format="%.1f")})
ui.definition("release_timeline", params={**window, **filters})

# --- DORA ---------------------------------------------------------------------
def no_band(row) -> str:
    """Why a DORA card has no band. Deployment frequency (deployments
    loaded: the card says so otherwise) is a median over the complete weeks
    inside the period, so a period holding none has no value and no band,
    whether it has deployments or none; under 1 deploy day a week, the
    median over its complete months tells medium from low (docs/metrics.md
    DORA bands), so a period holding no complete month has no band either.
    A period without deployments in data that has some is a real zero: with
    a complete month it is low (m < 1 with data), and has a band. Any other
    card without a band has nothing to place: the failure rate, no
    production deployment in the period."""
    if row.metric == "deployment_frequency":
        if pd.isna(row.raw_value):
            return "no band: the period holds no complete week"
        return ("no band: under 1 deploy day a week, and the period holds "
                "no complete month to tell medium from low")
    if row.metric == "deployment_change_failure_rate" and not row.n:
        return "no band: no production deployment in the period"
    return "no band: no data"


st.header("DORA key metrics")
dora = ui.scoped("dora_summary", window, filters)
recovery = ui.scoped("failed_change_recovery_time", window, filters).iloc[0]
BAND_SETS = {"dora2023-devlake": "DORA 2023 as Apache DevLake bands it"}
band_set = dora["band_set"].iloc[0]
st.caption(
    f"Raw value first; the band is an **interpretation** ("
    f"{BAND_SETS.get(band_set, 'custom thresholds')}: thresholds from Apache "
    "DevLake's DORA dashboard, after DORA's 2023 report). DORA's levels are clusters from an annual survey, "
    "not thresholds, so read the band as a rough guide, not a grade."
    # recovery time is a change's: the change filters narrow it, value and
    # band; the deployment cards are not narrowed by them
    + ui.unapplied("deployment_frequency", filters,
                   "the deployment cards are ", " (a deployment has none); "
                   "the recovery time card is filtered"))
deployments_loaded = bool(status["n_deployments"])
columns = st.columns(4)
for column, row in zip(columns, dora.itertuples(), strict=True):
    label, fmt, unit = DORA[row.metric]
    with column:
        if row.metric == "failed_change_recovery_time":
            # the raw value with its own n; the band is the summary's
            st.metric(label, fmt(recovery["median_recovery_hours"]),
                      border=True, help="Median time from a failed change "
                      "to restored service, in hours up to 48, then in days.")
            if isinstance(row.band_level, str):
                st.markdown(f":{BADGE.get(row.band_level, 'gray')}-badge"
                            f"[{row.band_level.capitalize()} band]")
            # the unit only under a value: never "n/a" over "hours"
            parts = [unit_of(unit, recovery["median_recovery_hours"])] \
                if pd.notna(recovery["median_recovery_hours"]) else []
            parts.append(f"n = {ui.many(recovery['n'], 'failed change')} "
                         "restored in the period (per change, not per "
                         "deployment)")
            parts += recoveries_left_out(recovery)
            if not isinstance(row.band_level, str):
                parts.append(not_restored() if not recovery["n"] else
                             "no band: no data")
            st.caption(" · ".join(parts))
            continue
        if row.metric in DEPLOYMENT_METRICS and not deployments_loaded:
            # no deployment of any date: a median of empty weeks is no
            # measured 0.0, and no period would give one
            st.metric(label, "n/a", border=True, help=HELP.get(row.metric))
            st.caption(f"n = {ui.many(row.n, 'production deployment')} · no "
                       "deployments are loaded: "
                       + ui.load_hint("deployments", short=True))
            continue
        st.metric(label, fmt(row.raw_value), border=True,
                  help=HELP.get(row.metric))
        if isinstance(row.band_level, str):
            st.markdown(f":{BADGE.get(row.band_level, 'gray')}-badge"
                        f"[{row.band_level.capitalize()} band]")
        parts = [unit_of(unit, row.raw_value)] if pd.notna(row.raw_value) \
            else []
        if row.metric == "deployment_change_failure_rate" and \
                pd.notna(row.n) and row.n:
            # a rate with its numerator, as every other rate says it, and
            # what it counts, beside the Overview's rate of changes
            parts = [f"{int(row.n_failed):,} of n = "
                     f"{ui.many(row.n, 'production deployment')} failed",
                     "per deployment; the Overview's Change failure rate "
                     "counts changes"]
            if row.n_inferred:
                # docs/metrics.md C8: a value resting on inference says
                # how much of it does
                parts.append(f"{int(row.n_inferred):,} of the "
                             f"{int(row.n_failed):,} with an inferred "
                             "incident (linked to no deployment or change, "
                             "put on its application's last deployment "
                             "before it opened)")
        elif pd.notna(row.n):
            # the weekly median's own n: its weeks (the deployments are
            # the period's, part-weeks at its ends included)
            parts.append(f"n = {ui.many(row.n, 'production deployment')}"
                         + (f" · median over {ui.many(row.n_weeks, 'week')}"
                            if pd.notna(row.n_weeks) and row.n_weeks else ""))
        if row.metric in DEPLOYMENT_METRICS:
            parts += ui.deployments_left_out(row)
        if isinstance(row.note, str):
            parts.append(row.note)
        elif not isinstance(row.band_level, str):
            parts.append(no_band(row))
        st.caption(" · ".join(parts))
ui.definition("dora_summary", params={**window, **filters})

ui.as_of_caption(status)
