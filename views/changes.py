"""Changes: outcomes over time, breakdowns, team scores, emergency ratio,
approval lead time, schedule adherence and unauthorised changes, each with
the records behind it."""
from collections.abc import Callable
from datetime import date
from functools import partial

import pandas as pd
import streamlit as st

from changeboard import charts, ui
from changeboard.words import unrated_authorisation

LABELS = {
    "change_id": "Change", "title": "Title", "change_type": "Type",
    "risk": "Risk", "assignment_group": "Team",
    "application_id": "Application", "close_code": "Close code",
    "outcome_at": "Work ended (UTC)", "kind": "Counted as",
    "completed_at": "Work ended (UTC)", "state": "State",
    "is_failed": "Failed", "is_failed_by_close_code": "Failed: close code",
    "is_failed_by_incident": "Failed: incident",
    "incident_ids": "Incident ids",
    "is_failed_by_rollback": "Failed: rollback", "approval": "Approval",
    "created_at": "Created (UTC)", "approved_at": "Approved (UTC)",
    "actual_start_at": "Started (UTC)", "actual_end_at": "Ended (UTC)",
    "lead_time_hours": "Lead time (hours)",
    "is_unauthorized": "Unauthorised", "is_not_approved": "Not approved",
    "is_approved_after_start": "Approved after start",
    "is_approval_time_missing": "Approval time missing",
    "dimension_value": "Value", "n": "Implemented (n)",
    "n_succeeded": "Succeeded", "n_failed": "Failed",
    "change_success_rate": "Success rate",
    "change_failure_rate": "Failure rate",
    "n_successful_with_issues": "With issues",
    # after Failed, of it: 'Failed by incident' and 'Failed by rollback'
    # pushed Unclassified past a 1280-pixel window ('Unclas…', a real-data
    # walkthrough); their help says whose
    "n_failed_by_incident": "By incident",
    "n_failed_by_rollback": "By rollback",
    "n_excluded": "Excluded", "n_unclassified": "Unclassified",
    "score": "Score", "score_per_change": "Score per change",
    "n_successful": "Successful", "n_unsuccessful": "Unsuccessful",
    "n_backed_out": "Backed out", "n_incidents": "Incidents",
    "n_incidents_p1": "P1", "n_incidents_p2": "P2", "n_incidents_p3": "P3",
    "n_incidents_unprioritized": "Incidents without priority",
    "median_lead_time_hours": "Median (hours)",
    "p85_lead_time_hours": "85th percentile (hours)",
    "mean_lead_time_hours": "Mean (hours)", "n_invalid": "Invalid",
}
PERCENT = {"Success rate", "Failure rate"}
RECORD_COLUMNS = ["change_id", "title", "change_type", "risk",
                  "assignment_group", "application_id", "close_code",
                  "outcome_at", "kind", "is_failed", "is_failed_by_close_code",
                  "is_failed_by_incident", "incident_ids",
                  "is_failed_by_rollback"]
# the application's name, then its id, as every other table shows them
EMERGENCY_COLUMNS = ["change_id", "title", "risk", "assignment_group",
                     "application_name", "application_id", "state",
                     "close_code", "completed_at"]
DIMENSIONS = {  # label (also in the URL) -> (dimension, record column)
    "Type": ("change_type", "change_type"),
    "Risk": ("risk", "risk"),
    "Team": ("team", "assignment_group"),
    "Application": ("application", "application_id"),
}
NONE = ui.NONE
# a record's column -> the dimension change_records narrows by
DIMENSION_OF = {"change_type": "change_type", "risk": "risk",
                "assignment_group": "team", "application_id": "application"}
POINT = "Select a bar or a point above, or pick here"
# change types in words, in the colours every page draws them in
TYPE_COLOURS = {**{word: charts.TYPE_COLOURS[word] for word in (
    "Standard", "Normal", "Emergency")}, NONE: "#999999"}


shown = partial(ui.labelled, labels=LABELS)  # columns under their labels


def formats(frame: pd.DataFrame) -> dict:
    found = {c: st.column_config.NumberColumn(format="percent")
             for c in frame.columns if c in PERCENT}
    for column, said in (("By incident", f"a {ui.failing_incident()}"),
                         ("By rollback", "a rolled-back deployment")):
        if column in frame.columns:
            found[column] = st.column_config.NumberColumn(
                help=f"Failed changes failed by {said} (of Failed)")
    if "Unclassified" in frame.columns:
        found["Unclassified"] = st.column_config.NumberColumn(
            help="Ended in the period without a close code: no outcome "
            "(not in n)")
    return found


def behind(span: dict, column: str | None = None, value: str | None = None,
           **extra) -> ui.Part:
    """The change_records of span whose column shows as value ((none): a
    missing one; every change without a column), narrowed by the query and
    read a table's length at a time: a risk or a (none) was read whole and
    matched here (a year of a million changes: 112 ms, all of them 988)."""
    if column is None:
        return ui.scoped_part("change_records", span, filters, **extra)
    return ui.scoped_part("change_records", span, filters,
                          dimension=DIMENSION_OF[column],
                          dimension_value=None if value == NONE else value,
                          **extra)


def records_table(take: Callable[..., ui.Part], stem: str, what: str,
                  key: str) -> None:
    """The changes behind a pick (take(): behind() of it), all of them or,
    switched to, the failed ones alone (a process owner going through a
    team's failures read 200 rows for 9); `key` names the switch, one per
    drill-down, kept as the picks change."""
    failed = st.toggle("Failed only", key=f"failed-only-{key}", help=(
        "Only the failed changes: implemented, and closed unsuccessful or "
        f"backed out, or with a {ui.failing_incident()} or a rolled-back "
        "deployment."))
    rows = take(failed_only=True) if failed else take()
    stem = ui.slug(stem + ("-failed" if failed else ""))
    what = ui.plain(what)  # a team or application name: data, not Markdown
    if rows.n == 0:
        st.info(f"No {'failed ' if failed else ''}changes behind {what}.")
        return
    if failed:
        st.caption(f"{ui.many(rows.n, 'failed change')} behind {what}; the "
                   "Failed columns say by what (close code, "
                   f"{ui.failing_incident()} or rolled-back deployment).")
    else:
        st.caption(f"{ui.many(rows.n, 'change')} behind {what}; the Counted "
                   "as column says which are in n (implemented), excluded "
                   "or unclassified.")
    listed(rows, RECORD_COLUMNS, stem)


def listed(rows: ui.Part, columns: list[str], stem: str) -> None:
    """A records table of `columns`, under the page's labels (the frame
    keeps its names: codes read as words, applications by name); its
    downloads hold every column of the query's rows, ids and codes, as
    `changeboard query` gives them (the unauthorised changes' file lacked
    created_at, actual_end_at and is_approval_time_missing, which the CLI's
    has: an auditor's walkthrough)."""
    ui.table(rows.map(lambda frame: frame[columns]), stem, labels=LABELS,
             download=rows.whole, download_rows=rows.n)


RECORDS_OPEN = "approval-records-open"


def remember_open() -> None:
    """Whether the approval records' list is open, kept apart from the
    expander: its label counts the records, and another count (another
    period or filter) makes it another widget, which opens as this says."""
    st.session_state[RECORDS_OPEN] = bool(
        st.session_state.get("approval-records"))


def records_n(summary: pd.Series) -> int:
    """How many approval_lead_time_records rows the period has: one per
    change the summary counts, of each kind (measured, invalid, excluded,
    unclassified)."""
    return int(sum(summary[k] for k in ("n", "n_invalid", "n_excluded",
                                        "n_unclassified")))


def left_out(summary: pd.Series) -> str:
    """The changes with an approval time the lead time leaves out, each
    kind said: '1 approved before it was created and 1 whose approval is
    not approved (rejected, ...) are left out.' The list below holds them
    too, and counted them with the approved, where the caption named only
    the first kind (an auditor's walkthrough: 165 listed, n = 164)."""
    n_invalid, n_excluded, n_unknown = (
        int(summary[k]) for k in ("n_invalid", "n_excluded",
                                  "n_unclassified"))
    parts = [f"{n_invalid:,} approved before "
             + ("it was" if n_invalid == 1 else "they were") + " created"
             ] if n_invalid or not (n_excluded or n_unknown) else []
    if n_excluded:
        parts.append(f"{n_excluded:,} whose approval is not approved "
                     "(rejected or another value)")
    if n_unknown:
        parts.append(f"{n_unknown:,} with no approval value")
    one = len(parts) == 1 and n_invalid + n_excluded + n_unknown == 1
    return (", ".join(parts[:-1]) + " and " if len(parts) > 1 else "") \
        + parts[-1] + (" is" if one else " are") + " left out."


def lead_left_out(lead: pd.Series) -> str:
    """' Left out: 3 ended before created; 1 cancelled or rejected.' (each
    kind the change lead time leaves out), '' for none."""
    n_invalid, n_unknown, n_excluded = (
        int(lead[k]) for k in ("n_invalid", "n_unclassified", "n_excluded"))
    said = [f"{n_invalid:,} ended before created"] if n_invalid else []
    if n_excluded:
        said.append(f"{n_excluded:,} cancelled or rejected")
    if n_unknown:
        said.append(f"{n_unknown:,} ended with no close code in a state "
                    "other than review or closed")
    return " Left out: " + "; ".join(said) + "." if said else ""


def lead_time_said(lead: pd.Series) -> str:
    """The change lead time's caption: what it measures, its n and each
    kind it leaves out (docs/metrics.md change_lead_time)."""
    return (
        "Hours from a change's creation to the end of its implementation "
        f"(its actual end), for the n = {ui.many(lead['n'], 'change')} "
        "completed in the period"
        + (f", {int(lead['n_without_close_code']):,} of them without a close "
           "code" if lead["n_without_close_code"] else "")
        + f"; mean {ui.duration(lead['mean_lead_time_hours'])}. A request's "
        "lead time, not DORA's (from a commit)." + lead_left_out(lead))


def period_window(trend: pd.DataFrame, label: str) -> dict[str, date]:
    """The part of the chosen window that one trend period covers."""
    starts = list(pd.to_datetime(trend["period_start"]).dt.date)
    i = list(trend["period_label"]).index(label)
    end = starts[i + 1] if i + 1 < len(starts) else window["end_date"]
    return {"start_date": max(starts[i], window["start_date"]),
            "end_date": min(end, window["end_date"])}


status, window, filters = ui.page("Changes")
ui.stop_without_changes(status, "no change outcome, type mix, lead time or adherence")
days = (window["end_date"] - window["start_date"]).days
ui.url_option("grain", ["week", "month"])
grain = st.radio("Trend by", ["week", "month"], key="grain",
                 index=0 if days <= 120 else 1, horizontal=True,
                 bind="query-params")
# the page's queries, two at a time, before it draws them; the breakdown
# and tolerance as last chosen (their widgets come further down)
# the success rate's trend, headline and breakdown: one groups query
# (before its widget is drawn, a breakdown picked in a link is in the URL)
success = {"grain": grain, "dimension": DIMENSIONS.get(
    st.session_state.get("by", st.query_params.get("by")),
    DIMENSIONS["Type"])[0]}
ui.prefetch([(name, window, extra) for name, extra in (
    ("change_success_rate_groups", success),
    ("change_success_score", {}),
    # the emergency ratio and unauthorised changes per value of the
    # breakdown too, counted in their groups' one pass
    ("emergency_change_ratio_groups", success),
    ("change_lead_time", {}),
    ("approval_lead_time_groups", {}),
    ("schedule_adherence", {
        "tolerance_minutes": int(st.session_state.get("tolerance") or 0)}),
    ("unauthorized_changes_groups", {"dimension": success["dimension"]}),
    ("completed_without_start", {}))],
    filters, parts=[
    # the long table's first rows and count, with the queries above (the
    # approval records are read when their list is opened)
    ("unauthorized_change_records", window, {
        "unauthorized_only": not st.session_state.get("unauthorized-all")})])

# --- outcomes over time -------------------------------------------------------
counted = ui.scoped_groups("change_success_rate_groups", window, filters,
                          **success)
trend = counted["change_success_rate_by_period"]
# the periods in words on the axis and in the drill-down, as codes picked
trend, trend_codes = ui.in_words(trend)
overall = counted["change_success_rate"].iloc[0]
st.header(f"Change outcomes per {grain}")
if trend["n"].sum() == 0:
    st.info(ui.no_outcomes(
        overall["n_without_close_code"],
        f"No changes were implemented in this period — "
        f"{ui.widen(window, filters)}."))
else:
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(
            charts.stacked_bars(
                trend, x="period",
                columns={"n_successful": "Successful",
                         "n_successful_with_issues": "Successful with issues",
                         "n_failed": "Failed"},
                y_title="implemented changes", x_title=grain),
            key="outcome-chart", on_select=partial(
                ui.pick_point, "outcome-chart", "changes_period", "x",
                trend_codes),
            selection_mode="points")
    with right:
        st.plotly_chart(
            charts.rate_line(trend, x="period",
                             y="change_success_rate", n="n",
                             y_title="change success rate", x_title=grain),
            key="success-rate-chart")
    st.caption(
        f"Success rate {ui.pct(overall['change_success_rate'])} · "
        f"n = {ui.many(overall['n'], 'implemented change')}, "
        f"{int(overall['n_failed']):,} failed (close code, "
        f"{ui.failing_incident()} or rolled-back deployment) · "
        f"{int(overall['n_excluded']):,} "
        f"cancelled or rejected left out · {int(overall['n_unclassified']):,}"
        " without a close code. Dated by when the work ended; (part) periods"
        " are cut by the dates."
        + charts.small_n_said(trend["n"], "implemented changes"))
    ui.numbers_behind(
        trend, ui.OUTCOME_COLUMNS,
        f"change-outcomes-per-{grain}", labels=ui.OUTCOME_LABELS | {
            "period": grain.capitalize()})
    pick = ui.drill(f"Changes of one {grain}",
                    list(trend.loc[trend["n"] > 0, "period_label"]),
                    "changes_period", POINT,
                    format_func=(period_said := ui.words_of(trend_codes)))
    if pick:
        span, said = period_window(trend, pick), period_said(pick)
        with ui.files_cover(span), ui.files_of(
                f"Changes of one {grain}: {said}"):
            records_table(partial(behind, span), f"changes-{pick}", said,
                          "period")
ui.definition("change_success_rate_by_period",
              params={**window, **filters, "grain": grain})

# --- breakdowns ---------------------------------------------------------------
def named(values: list, dimension: str) -> list:
    """A breakdown's values as its rows show them: an application as
    'Payments Gateway (APP-001)', as the Releases page and the CAB pack
    name it (this breakdown alone read 'APP-001 · Payments Gateway'), one
    without a name by its id, shown once; any other value as it is."""
    if dimension != "application":
        return values
    options = ui.query("filter_options")
    names = dict(zip(options["option_value"], options["option_label"],
                     strict=True))
    return [f"{names[v]} ({v})" if names.get(v, v) != v else v
            for v in values]


def breakdown_file(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """A breakdown's rows as its files hold them: by application, each
    one's name after its id (application_name, empty where the data names
    none), where the files held the id alone and the table 'Name (id)'."""
    if dimension != "application":
        return frame
    return ui.with_names(frame.rename(
        columns={"dimension_value": "application_id"})).rename(
        columns={"application_id": "dimension_value"})


def by_breakdown(rows: pd.DataFrame, columns: dict[str, str], what: str,
                 stem: str) -> None:
    """A family's rows per value of the page's breakdown (Break down by),
    most counted first, folded: which teams or applications drag a rate
    was asked of the success rate alone (a process owner's walkthrough).
    `columns`: the family's columns shown -> their headings."""
    rows = rows[rows["n"] + rows["n_excluded"] + rows["n_unclassified"] > 0]
    if rows.empty:
        return
    ordered = rows.sort_values(["n", "dimension_value"],
                               ascending=[False, True], na_position="last")
    readable = ordered.assign(dimension_value=[
        ui.word(v) if dimension in ("change_type", "risk") else v
        for v in named([ui.label_of(v) for v in ordered["dimension_value"]],
                       dimension)])
    with st.expander(f"{what} by {name.lower()}"):
        ui.table(readable[list(columns)], f"{stem}-by-{dimension}",
                 download=partial(breakdown_file, ordered[list(columns)],
                                  dimension),
                 download_rows=len(ordered), labels=LABELS | columns,
                 column_config=ui.rate_columns(columns, columns))
        st.caption(f"One row per {name.lower()}, {NONE} = not recorded; the "
                   "rows add up to the headline. Break down by (above) "
                   "chooses the rows.")


st.header("Success rate by type, risk, team and application")
ui.url_option("by", DIMENSIONS)
name = st.radio("Break down by", list(DIMENSIONS), key="by", horizontal=True,
                bind="query-params")
dimension, column = DIMENSIONS[name]
# the breakdown counted with the trend, unless another was picked since
by = ui.scoped_groups("change_success_rate_groups", window, filters,
                      **{**success, "dimension": dimension}
                      )["change_success_rate_by"]
by = by[by["n"] + by["n_excluded"] + by["n_unclassified"] > 0]
by_query = by  # its values as the query gives them, for the downloads
if by.empty:
    st.info(f"No changes ended in this period — {ui.widen(window, filters)}.")
else:
    by = by.assign(dimension_value=[ui.label_of(v) for v in by["dimension_value"]])
    values = list(by["dimension_value"])  # what a label picked stands for
    by = by.assign(dimension_value=named(values, dimension))
    labels = list(by["dimension_value"])
    value_of = dict(zip(labels, values, strict=True))
    # a type or risk in words, as the records below say it ('Emergency',
    # 'Very high'); the label picked is still its code
    worded = dict(zip(labels, (ui.word(v) if column in ("change_type", "risk")
                               else v for v in labels), strict=True))
    by = by.assign(dimension_value=[worded[v] for v in labels])
    drill_key = f"changes_{dimension}"
    if by["n"].sum() == 0:  # ended, none with an outcome: no bar to draw
        st.info(ui.no_outcomes(
            overall["n_without_close_code"],
            "No change of this period has an outcome yet: the table counts "
            "those cancelled, rejected or ended without a close code."))
    else:
        st.plotly_chart(
            charts.horizontal_stacked_bars(
                ui.most(by, "n"), y="dimension_value",
                columns={"n_succeeded": "Successful", "n_failed": "Failed"},
                x_title="implemented changes", y_title=name.lower(),
                hover={"change_success_rate": "success rate"}),
            key=f"by-chart-{dimension}", selection_mode="points",
            on_select=partial(ui.pick_point, f"by-chart-{dimension}",
                              drill_key, "y",
                              {w: v for v, w in worded.items()}))
    by_columns = ["dimension_value", "n", "n_succeeded", "n_failed",
                  "change_success_rate", "n_failed_by_incident",
                  "n_failed_by_rollback", "n_excluded", "n_unclassified"]
    table = shown(by, by_columns).rename(columns={"Value": name})
    ui.table(table, f"success-rate-by-{dimension}",
             download=partial(breakdown_file, by_query[by_columns],
                              dimension),
             download_rows=len(by_query),
             column_config=formats(table), key=f"by-table-{dimension}",
             on_select=ui.picking(f"by-table-{dimension}", drill_key,
                               labels),
             selection_mode="single-row")
    st.caption(
        f"One row per {name.lower()}, {NONE} = not recorded; "
        + ("the rows add up to the headline: n is implemented changes, "
           "success rate = (n − failed) ÷ n."
           + ui.drawn_of(by, name.lower(), "implemented changes")
           if by["n"].sum() else
           # no chart, no rate: what the table's counts are beside the
           # completed count above (820 unclassified beside 1,148 on BPIC)
           "no change has an outcome. Unclassified counts the changes whose"
           " work ended in the period (an end recorded) without a close "
           "code; the completed changes above also count those closed "
           "with no end recorded.")
        + f" Select {'a bar or ' if by['n'].sum() else ''}a row to see its "
        "changes.")
    pick = ui.drill(f"Changes of one {name.lower()}", labels, drill_key,
                    format_func=lambda v: worded.get(v, v))
    if pick:
        value = value_of.get(pick, pick)
        said = worded.get(pick, pick)
        with ui.files_of(f"Changes of one {name.lower()}: {said}"):
            records_table(partial(behind, window, column, value),
                          f"changes-{dimension}-{value}", said, "by")
ui.definition("change_success_rate_by",
              params={**window, **filters, "dimension": dimension})

# --- change success score -----------------------------------------------------
st.header("Change success score per team")
score = ui.scoped("change_success_score", window, filters)
score_query = score[score["n"] > 0]  # for the downloads
score = score[score["n"] > 0].assign(
    assignment_group=[ui.label_of(v) for v in score.loc[score["n"] > 0,
                                                      "assignment_group"]])
if score.empty:
    st.info(ui.no_outcomes(
        overall["n_without_close_code"],
        f"No changes were implemented in this period — {ui.widen(window, filters)}."))
else:
    score = score.sort_values("score", ascending=False)
    score_query = score_query.loc[score.index]
    score_columns = ["assignment_group", "score", "score_per_change", "n",
                     "n_successful", "n_successful_with_issues",
                     "n_unsuccessful", "n_backed_out", "n_incidents",
                     "n_incidents_p1", "n_incidents_p2", "n_incidents_p3",
                     "n_incidents_unprioritized"]
    st.plotly_chart(
        charts.signed_bars(ui.most(score, "n"), y="assignment_group",
                           x="score", x_title="change success score (points)",
                           y_title="team", n="n"),
        key="score-chart", selection_mode="points",
        on_select=partial(ui.pick_point, "score-chart", "changes_score_team",
                          "y"))
    ui.table(shown(score, score_columns), "change-success-score",
             download=score_query[score_columns], key="score-table",
             selection_mode="single-row",
             on_select=ui.picking("score-table",
                               "changes_score_team",
                               list(score["assignment_group"])),
             column_config={"Score per change": st.column_config.NumberColumn(
                 format="%.2f")})
    st.caption(
        "ServiceNow's score: 3 per successful change, −2 per successful with "
        "issues, −5 per unsuccessful or backed out, and −10 / −5 / −2 per "
        "linked P1 / P2 / P3 incident. n = implemented changes of the team; "
        "bigger teams score more, compare score per change."
        + ui.drawn_of(score, "team", "implemented changes"))
    pick = ui.drill("Changes of one team", list(score["assignment_group"]),
                    "changes_score_team")
    if pick:
        with ui.files_of(f"Implemented changes of one team: {pick}"):
            records_table(partial(behind, window, "assignment_group", pick,
                                  kind="implemented"),
                          # the breakdown's list of a team is all of its
                          # changes: its files are changes-team-...
                          f"implemented-changes-team-{pick}", pick, "team")
ui.definition("change_success_score", params={**window, **filters})

# --- emergency ratio ----------------------------------------------------------
st.header(f"Emergency change ratio per {grain}")
emergencies = ui.scoped_groups("emergency_change_ratio_groups", window,
                              filters, grain=grain, dimension=dimension)
emergency, emergency_codes = ui.in_words(
    emergencies["emergency_change_ratio_by_period"])
headline = emergencies["emergency_change_ratio"].iloc[0]
if emergency["n"].sum() == 0:
    st.info("No changes of a known type were completed in this period — "
            f"{ui.widen(window, filters)}.")
else:
    st.plotly_chart(
        charts.rate_line(emergency, x="period",
                         y="emergency_change_ratio", n="n",
                         y_title="share of emergency changes", x_title=grain),
        key="emergency-chart", selection_mode="points",
        on_select=partial(ui.pick_point, "emergency-chart",
                          "emergencies_period", "x", emergency_codes))
    st.caption(
        f"Emergency ratio {ui.pct(headline['emergency_change_ratio'])} · "
        f"{int(headline['n_emergency']):,} emergency of n = "
        f"{ui.many(headline['n'], 'completed change')} of a known type, with "
        "or without a close code "
        f"({int(headline['n_unclassified']):,} without a type). A rising "
        "ratio usually means planning is being bypassed."
        + ui.typed_by_filter(filters, sentence=True)
        + charts.small_n_said(emergency["n"], "changes"))
    ui.numbers_behind(
        emergency, ["period", "n", "n_emergency", "emergency_change_ratio"],
        f"emergency-ratio-per-{grain}",
        labels={"period": grain.capitalize(),
                "n": "Completed changes of a known type (n)",
                "n_emergency": "Emergency"})
    by_breakdown(emergencies["emergency_change_ratio_by"],
                 {"dimension_value": name,
                  "n": "Completed, of a known type (n)",
                  "n_emergency": "Emergency",
                  "emergency_change_ratio": "Emergency ratio",
                  "n_unclassified": "Without a type",
                  "n_excluded": "Cancelled or rejected"},
                 "Emergency ratio", "emergency-ratio")
    pick = ui.drill(f"Emergency changes of one {grain}",
                    list(emergency.loc[emergency["n_emergency"] > 0,
                                       "period_label"]),
                    "emergencies_period", POINT,
                    format_func=(emergency_said := ui.words_of(
                        emergency_codes)))
    if pick and "emergency" in (filters.get("change_types") or ["emergency"]):
        # the completed emergency changes the ratio counts (A24), read
        # through the type filter: the whole list is the period's numerator
        rows = ui.scoped_part("emergency_change_records",
                              period_window(emergency, pick),
                              {**filters, "change_types": ["emergency"]})
        # shown literally, as the records above say their period
        st.caption(f"{ui.many(rows.n, 'emergency change')} completed in "
                   f"{ui.plain(emergency_said(pick))}.")
        with ui.files_cover(period_window(emergency, pick)), ui.files_of(
                f"Emergency changes of one {grain}: {emergency_said(pick)}"):
            listed(rows, EMERGENCY_COLUMNS,
                   ui.slug(f"emergency-changes-{pick}"))
ui.definition("emergency_change_ratio_by_period",
              params={**window, **filters, "grain": grain})

# --- change lead time ---------------------------------------------------------
# request lead time, creation to the end of implementation: the one speed
# number a source without close codes or approvals (BPIC 2014) still fills;
# documented and queryable, it was on no page (a real-data walkthrough)
st.header("Change lead time")
lead = ui.scoped("change_lead_time", window, filters).iloc[0]
if lead[["n", "n_invalid", "n_excluded", "n_unclassified"]].sum() == 0:
    st.info("No change was completed in this period — "
            f"{ui.widen(window, filters)}.")
elif lead["n"] == 0:  # ended, none measured: what is left out, said
    st.info("No change completed in this period has a lead time to "
            f"measure.{lead_left_out(lead)}")
else:
    cards = st.columns(3)
    cards[0].metric("Median", ui.duration(lead["median_lead_time_hours"]),
                    border=True)
    cards[1].metric("85th percentile",
                    ui.duration(lead["p85_lead_time_hours"]), border=True)
    cards[2].metric("Completed changes (n)", f"{int(lead['n']):,}",
                    border=True)
    st.caption(lead_time_said(lead))
ui.definition("change_lead_time", params={**window, **filters})

# --- approval lead time -------------------------------------------------------
st.header("Approval lead time")
# the pooled statistics, the histogram and each type's: one groups query
approval = ui.scoped_groups("approval_lead_time_groups", window, filters)
summary = approval["approval_lead_time_summary"].iloc[0]
if summary["n"] == 0 and records_n(ui.scoped(
        "approval_lead_time_summary",
        {"start_date": ui.DATE_MIN, "end_date": ui.date_max()}, {}).iloc[0]
        ) == 0:
    # no change of any date or filter has an approval time (a source that
    # records none, such as BPIC 2014): widening the dates would not help
    st.info("No change in the data has an approval time, so there is no "
            "lead time to show: map `approved_at` and `approval` in the "
            "source's mapping or overrides file (docs/sources.md, section "
            "7).")
elif summary["n"] == 0:
    st.info(f"No change was approved in this period — {ui.widen(window, filters)}.")
else:
    cards = st.columns(3)
    cards[0].metric("Median", ui.duration(summary["median_lead_time_hours"]),
                    border=True)
    cards[1].metric("85th percentile",
                    ui.duration(summary["p85_lead_time_hours"]),
                    border=True)
    cards[2].metric("Approved changes (n)", f"{int(summary['n']):,}",
                    border=True)
    bins = approval["approval_lead_time_histogram"]
    st.plotly_chart(
        charts.binned_histogram(
            bins.assign(change_type=[ui.word(ui.label_of(v))
                                     for v in bins["change_type"]]),
            start="bin_start_hours", end="bin_end_hours", n="n",
            x_title="hours from creation to approval",
            y_title="approved changes", colour="change_type",
            colours=TYPE_COLOURS, order=list(TYPE_COLOURS)),
        key="approval-chart")
    by_type = approval["approval_lead_time"]
    type_columns = ["change_type", "median_lead_time_hours",
                    "p85_lead_time_hours", "mean_lead_time_hours", "n",
                    "n_invalid", "n_excluded", "n_unclassified"]
    ui.table(shown(by_type.assign(change_type=[
        ui.word(ui.label_of(v)) for v in by_type["change_type"]]),
        type_columns).rename(columns={"Implemented (n)": "Approved (n)"}),
        "approval-lead-time-by-type", download=by_type[type_columns],
        column_config={c: st.column_config.NumberColumn(format="%.1f")
                       for c in ("Median (hours)", "85th percentile (hours)",
                                 "Mean (hours)")})
    st.caption(
        f"Hours from a change's creation to its approval, for the n = "
        f"{ui.many(summary['n'], 'change')} approved in the period whatever "
        f"happened later; bars are 24 hours wide. {left_out(summary)}")
    # the records' rows are of the summary's four kinds, so it counts them;
    # they are read when the list is opened (a query as long as the rest)
    n_records = records_n(summary)
    listing = st.expander(
        f"{ui.the(n_records, 'change', article='The')} with an approval time "
        "in the period" + ("" if n_records == summary["n"] else
                           f": {int(summary['n']):,} counted"),
        expanded=st.session_state.get(RECORDS_OPEN, False),
        key="approval-records", on_change=remember_open)
    if listing.open:
        with listing:
            spans = ui.scoped_part("approval_lead_time_records", window,
                                   filters)
            listed(spans, ["change_id", "title", "change_type", "risk",
                           "assignment_group", "application_id", "approval",
                           "created_at", "approved_at", "lead_time_hours",
                           "kind"], "approval-lead-time-records")
ui.definition("approval_lead_time", params={**window, **filters})

# --- schedule adherence -------------------------------------------------------
st.header("Schedule adherence")
tolerance = st.columns([1, 2])[0].number_input(
    "Tolerance (minutes late still on time)", 0, 1440, 0, step=5,
    key="tolerance", bind="query-params")
adherence = ui.scoped("schedule_adherence", window, filters,
                      tolerance_minutes=int(tolerance)).iloc[0]
if adherence["n"] == 0:
    st.info("No completed change with planned and actual times ended in "
            f"this period — {ui.widen(window, filters)}.")
else:
    rates = pd.DataFrame({
        "outcome": ["On schedule", "Started late", "Started early", "Overran"],
        "rate": [adherence[k] for k in ("on_schedule_rate",
                                        "started_late_rate",
                                        "started_early_rate",
                                        "overran_rate")],
        "n": int(adherence["n"])})
    left, right = st.columns([3, 1])
    left.plotly_chart(charts.rate_bars(rates, y="outcome", x="rate", n="n",
                                       x_title="share of completed changes"),
                      key="adherence-chart")
    right.metric("Median start delay",
                 ui.number(adherence["median_start_delay_minutes"], 0,
                           suffix=" min"),
                 border=True, help="Actual − planned start, signed, over n.")
    right.metric("Median overrun",
                 ui.number(adherence["median_overrun_minutes"], 0,
                           suffix=" min"),
                 border=True, help="Actual − planned end, over the changes "
                 "that overran.")
    st.caption(
        f"n = {ui.many(adherence['n'], 'completed change')} that ended in the "
        "period with planned and actual start and end (implemented, or "
        "without a close code and in review or closed) · "
        f"{int(adherence['n_unclassified']):,} without those times or not "
        f"completed · {int(adherence['n_excluded']):,} cancelled or "
        # dated by their actual end as n: a change cancelled before it
        # started has none (the success rate's left-out count, dated by
        # its closing, holds it)
        "rejected that ended in the period"
        # completed, dated by their closing: the other metrics' n holds
        # them, this one cannot (BPIC: 1,271 of 16,970 said nowhere)
        + (f" · {ui.many(adherence['n_without_actual_end'], 'change')} "
           "closed in the period with no actual end recorded, not measured"
           if adherence["n_without_actual_end"] else "")
        + ". A change can both start late and overrun, so the shares "
        "overlap.")
ui.definition("schedule_adherence", params={
    **window, **filters, "tolerance_minutes": int(tolerance)})

# --- unauthorised changes -----------------------------------------------------
def unstarted() -> str:
    """The completed changes the rate cannot date, said: it counts changes
    by their actual start, so one implemented with none recorded (a change
    the CAB rejected, done anyway) was in no count (a process owner's
    walkthrough: 14 of a month's)."""
    row = ui.scoped("completed_without_start", window, filters).iloc[0]
    if not row["n"]:
        return ""
    flagged, unsaid = int(row["n_cab_required"]), int(row["n_cab_flag_missing"])
    return (f" · {ui.many(row['n'], 'change')} completed in the period with "
            "no actual start recorded ("
            + ", ".join(part for part in (
                f"{flagged:,} CAB-required" if flagged else "",
                f"{unsaid:,} with no CAB flag" if unsaid else "") if part)
            + f") {'is' if row['n'] == 1 else 'are'} not counted: the rate "
            "counts changes by their start")


st.header("Changes implemented without required CAB approval")
unauthorized_groups = ui.scoped_groups(
    "unauthorized_changes_groups", window, filters, dimension=dimension)
unauthorized = unauthorized_groups["unauthorized_changes"].iloc[0]
if unauthorized["n"] == 0 and unauthorized["n_unclassified"] > 0:
    # CAB-required changes did start, but none says whether it was approved
    # (a source that records no approval, such as BPIC 2014): widening the
    # dates would not help
    st.info("n = 0: " + unrated_authorisation(
        unauthorized["n_unclassified"], unauthorized["n_cab_flag_missing"])
        + " in the source's mapping or overrides file (docs/sources.md, "
        "section 7)" + unstarted() + ".")
elif unauthorized["n"] == 0:
    st.info("No change needing CAB approval started in this period — "
            f"{ui.widen(window, filters)}" + unstarted() + ".")
else:
    left, right = st.columns([1, 3])
    left.metric("Unauthorised", ui.pct(unauthorized["unauthorized_rate"]),
                border=True)
    right.caption(
        f"{int(unauthorized['n_unauthorized']):,} of n = "
        f"{ui.many(unauthorized['n'], 'CAB-required change')} started in the "
        f"period: {int(unauthorized['n_not_approved']):,} never approved, "
        f"{int(unauthorized['n_approved_after_start']):,} approved only after "
        "work started"
        # an emergency CAB approves in retrospect by design: the committee
        # reads those apart from the breaches (a process owner's
        # walkthrough: 75 of a year's 81 were)
        + ((" (1 of them an emergency change, approved in retrospect)"
            if retro == 1 else f" ({retro:,} of them emergency changes, "
            "approved in retrospect)") if (retro := int(unauthorized[
                "n_emergency_approved_after_start"])) else "")
        # none left out: not said ('0 ... are not counted' read beside
        # the changes with no start that are: a re-check)
        + (f" · {int(unauthorized['n_unclassified']):,} with the CAB "
           "flag or approval missing "
           f"{'is' if unauthorized['n_unclassified'] == 1 else 'are'} not "
           "counted" if unauthorized["n_unclassified"] else "")
        + unstarted() + ".")
    by_breakdown(unauthorized_groups["unauthorized_changes_by"],
                 {"dimension_value": name,
                  "n": "CAB-required, started (n)",
                  "n_unauthorized": "Unauthorised",
                  "n_not_approved": "Never approved",
                  "n_approved_after_start": "Approved after start",
                  "n_emergency_approved_after_start": "Of them emergency",
                  "unauthorized_rate": "Unauthorised rate",
                  "n_unclassified": "CAB flag or approval missing",
                  "n_excluded": "CAB not required"},
                 "Unauthorised changes", "unauthorized-changes")
    everything = st.toggle("Show every CAB-required change",
                           key="unauthorized-all")
    rows = ui.scoped_part("unauthorized_change_records", window, filters,
                          unauthorized_only=not everything)
    if rows.n == 0:
        st.success("Every CAB-required change was approved before it "
                   "started.")
    else:
        listed(rows, ["change_id", "title", "change_type", "risk",
                      "assignment_group", "application_id", "approval",
                      "approved_at", "actual_start_at", "is_unauthorized",
                      "is_not_approved", "is_approved_after_start"],
               "unauthorized-changes")
ui.definition("unauthorized_changes", params={**window, **filters})

ui.as_of_caption(status)
