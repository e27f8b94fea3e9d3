"""Environments: the impact matrix of upcoming releases, weekly load,
utilisation, booking conflicts and a bookings timeline per group."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from changeboard import env_charts, ui

st.title("Environments")
status = ui.data_banner()
window = ui.period_filter()
filters = ui.global_filters()
if status is None:
    st.stop()

MATRIX_DAYS = 182  # the matrix looks ahead: [today, today + 6 months)
NO_SELECTION = "(all groups)"


def selected(key: str) -> tuple[list[int], list]:
    """(rows, cells) selected in a table drawn with on_select."""
    state = st.session_state.get(key) or {}
    selection = state.get("selection") or {}
    return (list(selection.get("rows") or []),
            list(selection.get("cells") or []))


BOOKING_COLUMNS = {
    "release_name": st.column_config.TextColumn("Release"),
    "environment_name": st.column_config.TextColumn("Environment"),
    "environment_group": st.column_config.TextColumn("Group"),
    "tier": st.column_config.TextColumn("Tier"),
    "phase": st.column_config.TextColumn("Phase"),
    "team": st.column_config.TextColumn("Team"),
    "status": st.column_config.TextColumn("Status"),
    "start_at": st.column_config.DatetimeColumn(
        "Starts (UTC)", format="D MMM YYYY HH:mm"),
    "end_at": st.column_config.DatetimeColumn(
        "Ends (UTC)", format="D MMM YYYY HH:mm"),
    "clipped_start_at": st.column_config.DatetimeColumn(
        "From, in period (UTC)", format="D MMM YYYY HH:mm"),
    "clipped_end_at": st.column_config.DatetimeColumn(
        "To, in period (UTC)", format="D MMM YYYY HH:mm"),
    "hours_in_window": st.column_config.NumberColumn(
        "Hours in period", format="%.1f"),
    "is_counted": st.column_config.CheckboxColumn(
        "In the cell", help="Cancelled, empty and invalid bookings are "
        "listed but make no cell"),
    "booking_id": st.column_config.TextColumn("Booking"),
}


def bookings_table(frame: pd.DataFrame, file_stem: str, columns: list[str]
                   ) -> None:
    shown = frame[columns]
    if "release_name" in columns:
        shown = shown.assign(
            release_name=shown["release_name"].fillna("(no release)"))
    ui.table(shown, file_stem,
             column_config={c: BOOKING_COLUMNS[c] for c in columns})


# --- headlines over the sidebar period -------------------------------------
usage = ui.scoped("environment_utilization_summary", window, filters).iloc[0]
conflicts_by_env = ui.scoped("booking_conflicts_by_environment", window,
                             filters)
in_conflict = conflicts_by_env[conflicts_by_env["n_conflict_pairs"] > 0]
cards = st.columns(4)
with cards[0]:
    st.metric("Environment utilisation", ui.pct(usage["utilization"]),
              border=True, help="Hours with an approved booking ÷ available "
              "hours (calendar minus blackouts and maintenance), summed "
              "over environments.")
    st.caption(f"n = {int(usage['n_environments']):,} environments · "
               f"{ui.number(usage['booked_hours'], 0)} of "
               f"{ui.number(usage['available_hours'], 0)} h booked")
with cards[1]:
    st.metric("Idle", f"{int(usage['n_idle']):,}", border=True,
              help="Available in the period but never booked (approved).")
    st.caption(f"environments of {int(usage['n_environments']):,}, "
               "available but never booked")
with cards[2]:
    st.metric("Over-booked", f"{int(usage['n_overbooked']):,}",
              border=True, help="Approved + pending booked time above "
              "capacity × available time (demand ratio > 1).")
    st.caption("environments with demand above capacity · demand ratio "
               f"{ui.pct(usage['demand_ratio'])} overall")
with cards[3]:
    n_pairs = int(in_conflict["n_conflict_pairs"].sum())
    st.metric("Booking conflicts", f"{n_pairs:,}", border=True,
              help="Pairs of approved or pending bookings that overlap "
              "beyond an environment's capacity.")
    st.caption(f"on {len(in_conflict):,} environments · "
               f"{ui.number(in_conflict['conflict_hours'].sum(), 0)} h in "
               "conflict")
st.caption("Cards, weekly load, utilisation and conflicts cover the sidebar "
           "period" + ui.unapplied("environment_utilization_summary",
                                   filters)
           + "; the impact matrix looks ahead over its own go-live dates.")

# the go-live dates of the impact matrix, also the timeline's "Matrix dates"
today = ui.today()
default_dates = (today, today + timedelta(days=MATRIX_DAYS - 1))
picked = st.date_input(
    "Releases going live (inclusive): impact matrix and timeline",
    default_dates, key="go_live", bind="query-params", format="DD/MM/YYYY",
    width=360, min_value=ui.DATE_MIN, max_value=ui.date_max())
first, last = ui.clamp_span(*(
    picked if isinstance(picked, (tuple, list)) and len(picked) == 2
    else default_dates), "The go-live range")
matrix_window = {"start_date": first, "end_date": last + timedelta(days=1)}
groups = ui.scoped("environment_utilization_by_group", window, filters)
load_groups = [g for g in groups["environment_group"] if pd.notna(g)]

tabs = st.tabs(["Impact matrix", "Weekly load", "Utilisation", "Conflicts",
                "Bookings timeline"], key="view", bind="query-params",
               on_change="rerun")

# --- 1. environment impact matrix ------------------------------------------
with tabs[0]:
    if tabs[0].open:  # only the open tab runs its queries
        controls = st.columns([2.1, 2, 1.4, 1.3], vertical_alignment="bottom")
        by_group = controls[0].segmented_control(
            "Columns", ["Environments", "Groups"],
            default="Environments", key="matrix_columns", required=True,
            bind="query-params") == "Groups"
        all_groups = ui.scoped("environment_impact_group_totals", matrix_window,
                               filters)
        group_names = [g for g in all_groups["environment_group"] if pd.notna(g)]
        group = controls[1].selectbox(
            "Environment group", [NO_SELECTION, *group_names], key="matrix_group",
            bind="query-params")
        show_all = controls[3].toggle(
            "All columns", key="matrix_unbooked",
            help="Also show environments (or groups) no release books.")
        scope = {} if group == NO_SELECTION else {"environment_groups": [group]}

        releases = ui.scoped("environment_impact_release_totals", matrix_window,
                             filters, **scope)
        if by_group:
            key, label_of = "environment_group", None
            cells = ui.scoped("environment_impact_matrix_by_group", matrix_window,
                              filters, **scope)
            columns = ui.scoped("environment_impact_group_totals", matrix_window,
                                filters, **scope)
            row_total = "total_impacted_groups"
        else:
            key = "environment_id"
            cells = ui.scoped("environment_impact_matrix", matrix_window, filters,
                              **scope)
            columns = ui.scoped("environment_impact_environment_totals",
                                matrix_window, filters, **scope)
            row_total = "total_impacted"
        # a page of releases at a time: rows and, unless all are asked
        # for, the columns those releases book
        all_releases = releases
        starts = list(range(0, len(releases), env_charts.MATRIX_ROWS)) or [0]
        page_start = controls[2].selectbox(
            "Releases", starts, key="matrix_page", bind="query-params",
            format_func=lambda s: f"{s + 1:,}–"
            f"{min(s + env_charts.MATRIX_ROWS, len(releases)):,}",
            disabled=len(starts) == 1,
            help=f"The matrix shows {env_charts.MATRIX_ROWS} releases at a "
            "time, by go-live date; the download holds the same page.")
        releases = releases.iloc[page_start:page_start + env_charts.MATRIX_ROWS]
        cells = cells[cells["release_id"].isin(releases["release_id"])]
        if not show_all:
            booked = set(cells[key].fillna(env_charts.NO_GROUP).astype(str))
            columns = columns[columns[key].fillna(env_charts.NO_GROUP)
                              .astype(str).isin(booked)]
        columns = env_charts.ordered_columns(columns, key)
        noun = "environment groups" if by_group else "environments"
        if releases.empty:
            st.info(f"No release goes live between {first:%d %b %Y} and "
                    f"{last:%d %b %Y}: widen the go-live dates.")
        else:
            grid = env_charts.impact_grid(cells, releases, columns, key=key,
                                          total_impacted=row_total)
            impacted_releases = int((all_releases[row_total] > 0).sum())
            shown_rows = ("rows" if len(releases) == len(all_releases) else
                          f"rows {page_start + 1:,}–"
                          f"{page_start + len(releases):,} of "
                          f"{len(all_releases):,}")
            st.caption(
                f"n = {len(all_releases):,} releases going live "
                f"{first:%d %b %Y} – {last:%d %b %Y} ({shown_rows}; "
                f"{impacted_releases:,} with an approved or pending booking)"
                f" × {len(columns):,} {noun} "
                + ("(columns, all)" if show_all else
                   "booked by the releases shown (columns)")
                + ". Total Impacted counts a release's " + noun + " with an "
                "approved or pending booking, Total Releases an environment's "
                "releases; a rejected-only cell counts in neither"
                + ui.unapplied("environment_impact_matrix", filters) + ".")
            if columns.empty:
                st.info(f"None of these releases books one of the chosen "
                        f"{noun}: switch on All columns, or widen the tier and "
                        "group filters.")
            legend = " ".join(
                f'<span style="background:{env_charts.BOOKING_COLOURS[s]};'
                f'padding:1px 7px;border-radius:3px;font-weight:600">'
                f"{env_charts.LETTERS[s]}</span> {s}"
                for s in ("approved", "pending", "rejected"))
            st.markdown(
                f"{legend} &nbsp;·&nbsp; <b>…</b> more than one booking &nbsp;·"
                "&nbsp; select a cell for its bookings, a row for a release's, a "
                "cell of the Total Releases row for "
                + ("a group's" if by_group else "an environment's"),
                unsafe_allow_html=True)
            labels = env_charts.column_labels(columns, key)
            key_of = {label: k for k, label in labels.items()}
            config = {
                "Release": st.column_config.TextColumn("Release", width=180),
                "Go-live": st.column_config.TextColumn(
                    "Go-live", help="Actual release date, else planned (UTC)"),
                "Total Impacted": st.column_config.TextColumn(
                    "Total Impacted", help=f"{noun.capitalize()} with an "
                    "approved or pending booking of the release"),
            }
            for _, column in columns.iterrows():
                label = labels[str(column[key])]
                config[label] = st.column_config.TextColumn(
                    width=112 if by_group else 64, alignment="center",
                    help=f"{int(column['n_environments'])} environments"
                    if by_group else f"{column['environment_group']} · "
                    f"{column['tier']} · {column[key]}")
            st.dataframe(
                env_charts.styled_grid(grid, columns, key),
                column_config=config, key="impact_matrix", on_select="rerun",
                selection_mode=["single-row", "single-cell"],
                height=min(640, 75 + 35 * len(grid)))
            ui.downloads(env_charts.export_grid(grid, columns, key),
                      "environment_impact_matrix")

            # drill-down: the bookings behind the selected cell, row or column
            rows, picked_cells = selected("impact_matrix")
            row = column_key = None
            if picked_cells:
                row, column_key = picked_cells[0]
            elif rows:
                row = rows[0]
            column_key = key_of.get(column_key)  # None: a release's own cell
            if row is not None and row >= len(grid):
                row = None  # a selection left over from other dates or filters
            if row is None or (row == 0 and column_key is None):
                st.caption("Select a cell, a row or a Total Releases cell to "
                           "list the bookings behind it.")
            else:
                drill = dict(scope)
                what = []
                if row > 0:
                    release = releases.iloc[row - 1]
                    drill["release_ids"] = [release["release_id"]]
                    what.append(f"{release['release_name']}")
                if column_key is not None and by_group:
                    if column_key == env_charts.NO_GROUP:
                        drill["environment_ids"] = list(
                            cells.loc[cells["environment_group"].isna(),
                                      "environment_id"]) or ["-"]
                    else:
                        drill["environment_groups"] = [column_key]
                    what.append(f"group {column_key}")
                elif column_key is not None:
                    drill["environment_ids"] = [column_key]
                    what.append(labels[column_key])
                behind = ui.scoped("environment_impact_bookings", matrix_window,
                                   filters, **drill)
                st.subheader(f"Bookings behind: {' × '.join(what)}")
                if behind.empty:
                    st.info("No booking here: an empty cell. Pick a coloured one.")
                counted = int(behind["is_counted"].sum())
                st.caption(f"n = {counted:,} booking{'s' * (counted != 1)} "
                           "behind the selection, whenever they are; "
                           f"{len(behind) - counted:,} cancelled, empty or "
                           "invalid ones are listed too.")
                bookings_table(behind, "impact_matrix_bookings", [
                    "release_name", "environment_name", "environment_group",
                    "tier", "phase", "team", "status", "start_at", "end_at",
                    "is_counted", "booking_id"])
        ui.definition("environment_impact_matrix",
                      "How is the environment impact matrix computed?")

# --- 2. environment x week heatmap -----------------------------------------
with tabs[1]:
    if tabs[1].open:  # only the open tab runs its queries
        left, right = st.columns([2, 2])
        load_group = left.selectbox("Environment group", load_groups,
                                    key="load_group", bind="query-params")
        value = {"Releases": "n_releases", "Booked hours": "booked_hours"}[
            right.segmented_control(
                "Show", ["Releases", "Booked hours"], default="Releases",
                required=True, key="load_value", bind="query-params")]
        value_label = {"n_releases": "releases",
                       "booked_hours": "booked hours"}[value]
        weekly = ui.scoped("environment_impact_by_week", window, filters,
                           environment_groups=[load_group] if load_group else None)
        busy = weekly.groupby("environment_id")["n_bookings"].transform("sum") > 0
        if not busy.any():
            st.info("No bookings on this group's environments in the period: "
                    "pick another group or widen the dates.")
        else:
            st.plotly_chart(env_charts.week_heatmap(weekly[busy], value,
                                                    value_label),
                            key="weekly-load")
            idle = weekly.loc[~busy, "environment_id"].nunique()
            st.caption(
                ("Releases with an approved booking overlapping the week (a "
                 "release with only pending bookings is not counted)"
                 if value == "n_releases" else
                 "Hours of the week with at least one approved booking (overlaps "
                 "count once)")
                + f". n = {weekly.loc[busy, 'environment_id'].nunique():,} "
                f"environments with bookings in the period"
                + (f"; {idle:,} without any are left out" if idle else "")
                + ". Weeks cut by the period are partial.")
            ui.table(weekly[busy], "environment_impact_by_week", column_config={
                "environment_name": "Environment", "environment_group": "Group",
                "tier": "Tier", "week_label": "Week",
                "n_releases": "Releases (approved)",
                "n_pending_releases": "Releases (pending only)",
                "booked_hours": st.column_config.NumberColumn(
                    "Booked hours", format="%.1f"),
                "n_bookings": "Bookings", "n_excluded": "Rejected/cancelled"},
                column_order=["environment_name", "tier", "week_label",
                              "n_releases", "n_pending_releases", "booked_hours",
                              "n_bookings", "n_excluded"], height=260)
        ui.definition("environment_impact_by_week",
                      "How is the weekly load computed?")

# --- 3. utilisation ---------------------------------------------------------
with tabs[2]:
    if tabs[2].open:  # only the open tab runs its queries
        st.subheader("Per environment group")
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
            "n_idle": "Idle", "n_overbooked": "Over-booked",
            "n_bookings": "Approved bookings", "n_pending": "Pending"},
            column_order=["environment_group", "n_environments", "utilization",
                          "demand_ratio", "booked_hours", "available_hours",
                          "n_idle", "n_overbooked", "n_bookings", "n_pending"],
            height=38 + 35 * len(groups))
        st.caption("Ratios of sums over the group's environments: booked ÷ "
                   "available hours, demand (approved + pending) ÷ capacity "
                   "hours.")

        st.subheader("Per environment")
        usage_rows = ui.scoped("environment_utilization", window, filters)
        usage_rows["flag"] = ""
        usage_rows.loc[usage_rows["is_idle"], "flag"] = "Idle"
        usage_rows.loc[usage_rows["is_overbooked"], "flag"] = "Over-booked"
        overbooked = usage_rows[usage_rows["flag"] == "Over-booked"]
        if not overbooked.empty:
            st.warning("Over-booked (demand above capacity): " + ", ".join(
                f"**{r.name}** ({ui.pct(r.demand_ratio, 0)})"
                for r in overbooked.itertuples()), icon="⚠️")
        show = st.segmented_control(
            "Show", ["All", "Idle", "Over-booked"], default="All", required=True,
            key="usage_show")
        shown = usage_rows if show == "All" else usage_rows[
            usage_rows["flag"] == show]
        shown = shown.reset_index(drop=True)
        st.caption(f"{len(shown):,} of {len(usage_rows):,} environments · "
                   f"{(usage_rows['flag'] == 'Idle').sum():,} idle (available, "
                   "never booked) · select a row for its bookings.")
        ui.table(shown, "environment_utilization", key="usage_table",
                 on_select="rerun", selection_mode="single-row", height=380,
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
        rows, _ = selected("usage_table")
        if rows and rows[0] < len(shown):
            environment = shown.iloc[rows[0]]
            booked = ui.scoped("booking_timeline", window, filters,
                               environment_ids=[environment["environment_id"]])
            st.subheader(f"Bookings of {environment['name']} in the period")
            if booked.empty:
                st.info("No bookings of this environment in the period.")
            else:
                bookings_table(booked, "environment_bookings", [
                    "release_name", "phase", "team", "status", "start_at",
                    "end_at", "hours_in_window", "booking_id"])
        ui.definition("environment_utilization",
                      "How is utilisation computed?")

# --- 4. conflicts -------------------------------------------------------------
with tabs[3]:
    if tabs[3].open:  # only the open tab runs its queries
        pairs = ui.scoped("booking_conflicts", window, filters)
        if pairs.empty:
            st.success("No booking conflicts in the period.")
        else:
            names = dict(zip(conflicts_by_env["environment_id"],
                             conflicts_by_env["name"], strict=True))
            ranked = in_conflict.sort_values("conflict_hours", ascending=False)
            st.subheader("Per environment")
            st.caption(f"{len(ranked):,} environments with conflicts; conflict "
                       "hours = time with more active bookings than capacity. "
                       "Select a row to list only its pairs.")
            ranked = ranked.reset_index(drop=True)
            ui.table(ranked, "booking_conflicts_by_environment",
                     key="conflict_envs", on_select="rerun",
                     selection_mode="single-row", height=250, column_config={
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
            rows, _ = selected("conflict_envs")
            listed = pairs
            if rows and rows[0] < len(ranked):
                chosen = ranked.iloc[rows[0]]["environment_id"]
                listed = pairs[pairs["environment_id"] == chosen]
            listed = listed.assign(
                environment_name=listed["environment_id"].map(names))
            st.subheader("Conflicting pairs")
            st.caption(f"n = {len(listed):,} pairs of approved or pending "
                       "bookings; overlap clipped to the period.")
            ui.table(listed, "booking_conflicts", height=320, column_config={
                "environment_name": "Environment",
                "booking_id_a": "Booking A", "status_a": "Status A",
                "release_id_a": "Release A", "booking_id_b": "Booking B",
                "status_b": "Status B", "release_id_b": "Release B",
                "overlap_start_at": st.column_config.DatetimeColumn(
                    "Overlap from (UTC)", format="D MMM YYYY HH:mm"),
                "overlap_end_at": st.column_config.DatetimeColumn(
                    "Overlap to (UTC)", format="D MMM YYYY HH:mm"),
                "overlap_hours": st.column_config.NumberColumn(
                    "Overlap h", format="%,.1f")},
                column_order=["environment_name", "overlap_start_at",
                              "overlap_end_at", "overlap_hours", "booking_id_a",
                              "status_a", "release_id_a", "booking_id_b",
                              "status_b", "release_id_b"])
        ui.definition("booking_conflicts", "How are conflicts computed?")

# --- 5. bookings timeline per group -----------------------------------------
with tabs[4]:
    if tabs[4].open:  # only the open tab runs its queries
        left, middle, right = st.columns([2, 2.2, 2.8])
        timeline_group = left.selectbox("Environment group", load_groups,
                                        key="timeline_group",
                                        bind="query-params")
        ahead = middle.segmented_control(
            "Dates", ["Sidebar period", "Matrix dates"],
            default="Sidebar period", required=True, key="timeline_dates",
            bind="query-params") == "Matrix dates"
        statuses = right.multiselect(
            "Statuses", list(env_charts.BOOKING_COLOURS),
            default=["approved", "pending", "rejected"], key="timeline_statuses")
        span = matrix_window if ahead else window
        timeline = ui.scoped(
            "booking_timeline", span, filters, statuses=statuses or None,
            environment_groups=[timeline_group] if timeline_group else None)
        if timeline.empty:
            st.info("No bookings of this group's environments in these dates: "
                    "pick another group or widen the dates.")
        else:
            st.plotly_chart(env_charts.booking_gantt(timeline),
                            key="booking-gantt")
            st.caption(
                f"n = {len(timeline):,} bookings on "
                f"{timeline['environment_id'].nunique():,} environments of "
                f"{timeline_group}, cut to {span['start_date']:%d %b %Y} – "
                f"{span['end_date'] - timedelta(days=1):%d %b %Y}; overlapping "
                "bars on one row are concurrent bookings.")
            bookings_table(timeline, "booking_timeline", [
                "environment_name", "release_name", "phase", "team", "status",
                "start_at", "end_at", "hours_in_window", "booking_id"])
        ui.definition("booking_timeline", "What does the timeline show?")

ui.as_of_caption(status)
