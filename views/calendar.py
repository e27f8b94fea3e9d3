"""Change calendar: planned changes of a month or a week, coloured by risk or
type, with freeze, blackout and maintenance windows behind them and the
collisions and window hits of the CAB evidence."""
import html
from datetime import date, timedelta
from functools import partial
from typing import NamedTuple

import numpy as np
import pandas as pd
import streamlit as st

from changeboard import asof, charts, config, decisions, ui
from changeboard.words import OUTSIDE_MAINTENANCE, shared_word
from reports.text import when

MAX_BARS = 300  # bars drawn at most; the table below lists every change
MIN_HOURS = {"Month": 6, "Week": 1}  # the narrowest bar drawn, per view
RISKS = {"very_high": "Very high", "high": "High", "moderate": "Moderate",
         "low": "Low"}
COLUMNS = ["change_id", "title", "change_type", "state", "risk",
           "application_id", "release_id", "environment_name",
           "environment_id", "ci_name",
           "assignment_group",
           "planned_start_at", "planned_end_at", "is_past_planned_start",
           "n_collisions", "collides_with", "windows_hit",
           "is_outside_maintenance"]
# the headings the other pages give these columns (the Changes page's
# Change, Type, Application, Team; the CAB pack's Affected CI and flags);
# the columns keep their names, so a code reads as a word, an
# application's and an environment's name go beside their ids (under these
# headings; the ids under "Application id", "Environment id"), an id links
# to its record, and the downloads keep the names scripts read, as every
# table's downloads do
HEADINGS = {"change_id": "Change", "change_type": "Type",
            "application_id": "Application", "release_id": "Release",
            "environment_id": "Environment",
            "assignment_group": "Team",
            "ci_name": "Affected CI",
            "is_past_planned_start": "Past planned start, not started",
            "n_collisions": "Collides with (n)",
            "collides_with": "Collides with",
            "windows_hit": "Freezes and blackouts hit",
            "is_outside_maintenance": OUTSIDE_MAINTENANCE}
# the windows' table: an environment by name, as the Environments page
# names it, then its id, as an application's
WINDOW_COLUMNS = ["window_id", "name", "kind", "application_id",
                  "environment_name", "environment_id", "start_at", "end_at"]
WINDOW_HEADINGS = {"window_id": "Window", "application_id": "Application",
                   "environment_id": "Environment"}
# the tables' instants, headed with the zone they are in: on the page in the
# reporting zone the chart is drawn in, written as the CAB pack writes them
# (Wed 21 Jan 2026 20:00); in the downloads the UTC instants (+00:00) under
# their own names, as every table's downloads keep them
TIMES = {"planned_start_at": "Planned start", "planned_end_at": "Planned end"}
WINDOW_TIMES = {"start_at": "Start", "end_at": "End"}
PACK_TIME = "ddd DD MMM YYYY HH:mm"  # reports.text.when, as moment.js


def in_zone(frame: pd.DataFrame, times: dict[str, str], tz: str
            ) -> tuple[pd.DataFrame, dict]:
    """The frame with its instants (column -> heading) in tz under headings
    naming it ('Planned start (America/New_York)'), and their columns'
    configs: they show as the pack writes them and sort as instants."""
    headed = {c: f"{h} ({tz})" for c, h in times.items()}
    shown = frame.assign(**{c: pd.to_datetime(frame[c], utc=True)
                            .dt.tz_convert(tz) for c in times})
    return shown.rename(columns=headed), {
        h: st.column_config.DatetimeColumn(h, format=PACK_TIME, timezone=tz)
        for h in headed.values()}


def period_of(view: str, day: date) -> tuple[date, date]:
    """[first, end) of the month, or of the ISO week (Monday on), of day."""
    if view == "Week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def step(direction: int) -> None:
    """Move the shown day a month or a week back or on."""
    view = st.session_state.get("cal_view") or "Month"
    day = st.session_state.get("cal_day") or ui.today()
    first, end = period_of(view, day)
    st.session_state["cal_day"] = end if direction > 0 else \
        period_of(view, first - timedelta(days=1))[0]


def as_lists(column: pd.Series) -> list[list]:
    """A list column's cells as lists (NULL = empty): its cells are arrays,
    or a missing value (a float NaN, pd.NA or None). One pass over 13,000
    planned changes' three list columns (a month at a million changes)."""
    return [values.tolist() if isinstance(values, np.ndarray) else
            [] if values is None or values is pd.NA or
            isinstance(values, float) else list(values) for values in column]


def listed(values) -> str:
    return ", ".join(map(str, values))


def shared(keys) -> str:
    """What a change shares with those it collides with, in words:
    'application, CI' (collides_on holds the codes)."""
    return listed(shared_word(k) for k in keys)


def listing(frame: pd.DataFrame) -> pd.DataFrame:
    """The table's columns, lists as text."""
    return frame[COLUMNS].assign(
        collides_with=[listed(v) for v in frame["collides_with"]],
        windows_hit=[listed(v) for v in frame["windows_hit"]])


def as_text(value) -> str:
    """A value as a hover shows it literally ('<', '>', '&' as entities)."""
    return html.escape(str(value), quote=False)


def hover(row) -> str:
    """A bar's hover; its plan (row.plan) as ui.instants writes it. Plotly
    reads a subset of HTML in it: every value from data is escaped (a title
    '<b>Patch</b> & reboot' as written; Markdown's escaping, used before,
    showed its backslashes)."""
    # a missing title is NaN (it read 'nan')
    title = row.title if isinstance(row.title, str) else ""
    lines = [f"<b>{as_text(row.change_id)}</b> {as_text(title[:70])}",
             as_text(f"{ui.word(row.change_type)} · risk "
                     f"{RISKS.get(row.risk, 'not given')} · "
                     f"{ui.word(row.state)}"),
             as_text(row.plan)]
    if row.n_collisions:
        lines.append(as_text(f"Collides with {listed(row.collides_with)} "
                             f"(same {shared(row.collides_on)})"))
    if row.windows_hit:
        lines.append(as_text(f"In {listed(row.windows_hit)}"))
    if row.is_past_planned_start:
        lines.append("Past its planned start, not started")
    return "<br>".join(lines)


class Shown(NamedTuple):
    """What the page shows of a month or week, worked out once per data
    version, period, filters and colouring, and shared by every rerun and
    session (never changed by the page): the rows with their list columns
    as lists, the windows, the bars drawn and their figure, the table (its
    times in the calendar's zone) with its columns' configs, its downloads'
    rows (in UTC) and the change picker's labels."""
    changes: pd.DataFrame
    windows: pd.DataFrame
    drawn: pd.DataFrame
    figure: object
    table: pd.DataFrame
    table_config: dict
    download: pd.DataFrame
    labels: dict[str, str]


# a warm rerun of a month of 8,000 planned changes spent 0.3-0.5 s reading
# the cached rows back (their list columns) and dressing them again
@st.cache_resource(ttl=config.CACHE_TTL, max_entries=16, show_spinner=False)
def _shown(version, path, window: dict, filters: dict, colour_by: str,
           view: str, tz: str) -> Shown:
    in_windows = {**window, **{k: v for k, v in filters.items()
                               if k == "application_ids"}}
    ui.prefetch([("change_calendar", {}, {**window, **filters}),
                 ("change_calendar_windows", {}, in_windows)], {})
    changes = ui.query("change_calendar", **window, **filters)
    changes = changes.assign(**{c: as_lists(changes[c]) for c in
                                ("collides_with", "collides_on",
                                 "windows_hit")})
    windows = ui.query("change_calendar_windows", **in_windows)
    drawn = charts.calendar_bars(changes, tz, MAX_BARS)
    # the plan in the calendar's zone, as the bars are drawn
    drawn = drawn.assign(plan=ui.instants(
        drawn["planned_start_at"], drawn["planned_end_at"], tz))
    drawn = drawn.assign(
        colour=drawn["risk"].map(RISKS).fillna("No risk given")
        if colour_by == "Risk" else drawn["change_type"].map(ui.word),
        hover=[hover(r) for r in drawn.itertuples()])
    first, end = (pd.Timestamp(window[k]) for k in ("window_start_at",
                                                     "window_end_at"))
    figure = None if changes.empty else charts.change_calendar(
        drawn, colour="colour",
        colours=charts.RISK_COLOURS if colour_by == "Risk"
        else charts.TYPE_COLOURS, period=(first, end), windows=windows,
        tz=tz, min_hours=MIN_HOURS[view])
    # 'CHG0000804 · Migrate the ...', or the id alone without a title (it
    # read 'CHG0000804 · nan': a missing title is NaN in a text column)
    titles = changes["title"].fillna("")
    labels = dict(zip(changes["change_id"].tolist(), (
        changes["change_id"] + (" · " + titles).where(titles != "", "")
    ).tolist(), strict=True))
    listed_ = listing(changes)
    table, table_config = in_zone(listed_, TIMES, tz)
    return Shown(changes, windows, drawn, figure, table, table_config,
                 listed_, labels)


status, _, filters = ui.page("Change calendar", period=False)
ui.stop_without_changes(status, "no planned change")

controls = st.columns([1.2, 1.6, 0.75, 0.75, 1.4],
                      vertical_alignment="bottom")
ui.url_option("cal_view", ["Month", "Week"])
ui.url_option("cal_colour", ["Risk", "Type"])
view = controls[0].segmented_control(
    "View", ["Month", "Week"], default="Month", key="cal_view",
    required=True, bind="query-params")
# the calendar opens on today's month or week, unless all the changes are
# older (a 2014 data set): then on the day their records end (its releases
# may run later: endoflife.date beside BPIC 2014)
latest = ui.latest_record_day("changes_last_at")
opens = ui.today()
if latest is not None and latest < period_of(view, opens)[0]:
    opens = latest
# the day in the address (a link to a week or month), else the one shown
# last in this session (a page link has no address: the month picked was
# lost on a visit to another page), until one is picked
if "cal_day" not in st.session_state and (wanted := ui.kept(
        "cal_day", ui.url_date("cal_day"), None)):
    st.session_state["cal_day"] = wanted
# the day opened on is the picker's default only until it holds one: Back
# and Next set it (step), and a default beside that is what Streamlit warns of
day = controls[1].date_input(
    f"{view} of", "today" if "cal_day" in st.session_state else opens,
    key="cal_day", min_value=ui.DATE_MIN, max_value=ui.date_max(),
    format=ui.DAY_INPUT)
# the day shown, in the address: bound to it, the picker left it out after
# Back or Next (set in Session State), and a link opened another week
if day is not None:
    st.query_params["cal_day"] = day.isoformat()
    # kept for the session only when it is not the period the page opens on
    # (other data loaded since would open elsewhere: kept, the day the old
    # data opened on stayed)
    if period_of(view, day)[0] != period_of(view, opens)[0]:
        ui.keep("cal_day", day)
    else:
        st.session_state.pop("kept-cal_day", None)
if opens != ui.today() and day == opens:
    st.caption(f"The change records end on {ui.day(latest)} (the last "
               "created or closed; plans may run later): the calendar opens "
               "there.")
# named in words, their arrows icons a screen reader skips: named "◀" and
# "▶", they were read as "black left-pointing triangle" (an accessibility
# review)
controls[2].button("Back", icon=":material/chevron_left:", key="cal_back",
                   on_click=step, args=(-1,), width="stretch",
                   help=f"The {view.lower()} before")
controls[3].button("Next", icon=":material/chevron_right:", key="cal_on",
                   icon_position="right",
                   on_click=step, args=(1,), width="stretch",
                   help=f"The {view.lower()} after")
colour_by = controls[4].segmented_control(
    "Colour by", ["Risk", "Type"], default="Risk", key="cal_colour",
    required=True, bind="query-params")
first, end = period_of(view, day or ui.today())
ui.page_dates(f"the {view.lower()} shown: {ui.day(first)} – "
              f"{ui.day(end - timedelta(days=1))} (dates in "
              f"{config.REPORTING_TZ})")
window = {"window_start_at": first.isoformat(),
          "window_end_at": end.isoformat()}

shown = _shown(*asof.source(), window, filters, colour_by, view,
               config.REPORTING_TZ)
changes, windows = shown.changes, shown.windows
label = f"{first:%B %Y}" if view == "Month" else \
    f"week of {ui.day(first)} (ISO week {first.isocalendar()[1]})"
st.header(f"Planned changes, {label}")

n = 0 if changes.empty else int(changes["n"].iloc[0])
if changes.empty:
    st.info(f"No change is planned in this {view.lower()} — pick another "
            f"{view.lower()} or clear the filters.")
else:
    late = int(changes["is_past_planned_start"].sum())
    colliding = int((changes["n_collisions"] > 0).sum())
    frozen = int(((changes["n_freeze_hits"] + changes["n_blackout_hits"])
                  > 0).sum())
    # collisions and window hits are found for open changes, to plan
    # around (docs/metrics.md change_collisions): a past month's closed
    # changes read 0 beside bars inside a freeze's shading, unsaid
    # said whether or not some are closed: a week of open changes showed
    # these two cards with no n under them, where the month's had one (a
    # walkthrough)
    n_open = int(changes["is_open"].sum())
    checked = f"of {ui.many(n_open, 'open change')}" + (
        ": closed changes are not checked" if n_open < n else "")
    cards = st.columns(4)
    cards[0].metric("Planned changes", f"{n:,}", border=True)
    cards[1].metric("Colliding", f"{colliding:,}", border=True,
                    help="Open changes overlapping another one on the same "
                    "application, environment or CI (closed ones are not "
                    "checked).")
    cards[2].metric("In a freeze or blackout", f"{frozen:,}", border=True,
                    help="Open changes whose plan meets a change freeze or "
                    "blackout window of their application or environment "
                    "(closed ones are not checked).")
    cards[1].caption(checked)
    cards[2].caption(checked)
    # a label a quarter of the page wide shows whole (1280 pixels)
    cards[3].metric("Not started on time", f"{late:,}",
                    border=True, help="Open changes past their planned "
                    "start and not started, as of "
                    f"{ui.instant(changes['as_of'].iloc[0])} (the last "
                    "load); closed ones are not checked.")
    # its n: the open changes whose planned start had come by the last
    # load, the ones it counts (a closed change is never counted: one that
    # started late, or has no start recorded, is not 'not started'); a
    # closed month's 0 read as nothing due with no n, then as '0 of 1,081
    # changes due', every one on time, when 283 had started late
    due = changes["planned_start_at"] < changes["as_of"]
    due_open = int((due & changes["is_open"]).sum())
    cards[3].caption(
        f"of {ui.many(due_open, 'open change')} due to start by the last "
        "load" + (": closed changes are not checked"
                  if due_open < int(due.sum()) else ""))
    drawn, tz = shown.drawn, config.REPORTING_TZ
    st.plotly_chart(
        shown.figure, key="cal-chart", selection_mode="points",
        on_select=partial(ui.pick_point, "cal-chart", "cal_change",
                          "customdata"))
    shown_of = ((f"The change planned in the {view.lower()} is drawn"
                 if n == 1 else
                 f"All {n:,} changes planned in the {view.lower()} are drawn")
                if len(drawn) == n else
                f"{len(drawn):,} of {n:,} changes drawn (each day's highest "
                "risk, then earliest, first); the table below lists all of "
                "them")
    st.caption(
        f"{shown_of}. A bar is a plan (at least {MIN_HOURS[view]} h wide so "
        "short changes show; hover for the times), a row holds changes that "
        "do not overlap. Shading: change freezes (blue), blackouts (grey) "
        "and maintenance windows (green), each for its application or "
        f"environment (the table of windows below). Times in {tz}. Select a "
        "bar to open its change." + ui.unapplied("change_calendar", filters)
        + (" · " + ui.many(changes["n_excluded"].iloc[0],
                           "cancelled or rejected change") + " not shown"
           if changes["n_excluded"].iloc[0] else ""))

    pick = ui.drill_id("Change", shown.labels, "cal_change",
                       "Select a bar or a row, or pick here")
    if pick:
        one = changes[changes["change_id"] == pick]
        row = one.iloc[0]
        one = listing(one)
        notes = []
        if row["n_collisions"]:
            notes.append(f"collides with {listed(row['collides_with'])} "
                         f"(same {shared(row['collides_on'])})")
        if row["windows_hit"]:
            # by kind: a blackout named '... maintenance' read as a
            # maintenance window, the opposite
            kinds = " and ".join(kind for kind, hits in (
                ("freeze", row["n_freeze_hits"]),
                ("blackout", row["n_blackout_hits"])) if hits)
            notes.append(f"planned in {kinds} window"
                         f"{'s' if len(row['windows_hit']) > 1 else ''} "
                         f"{listed(row['windows_hit'])}")
        if row["is_outside_maintenance"]:
            notes.append("planned outside its maintenance windows")
        if row["is_past_planned_start"]:
            notes.append("past its planned start and not started")
        # the CAB's decision recorded on the CAB page: a change it rejected
        # still drew as planned, colliding, with nothing said (a CAB
        # chair's walkthrough); the source's state follows on a load
        decided = decisions.latest(config.DB_PATH, [pick],
                                   asof.decisions_until())
        if len(decided):
            last = decided.iloc[0]
            notes.append(
                "CAB decision recorded on the CAB page: "
                f"{decisions.label(last['decision'])} at the meeting of "
                f"{when(last['meeting_at'], config.REPORTING_TZ)} "
                f"({config.REPORTING_TZ})"
                # its own full stop dropped: the caption ends the sentence
                + (f", note: {ui.plain(last['note'].rstrip('. '))}"
                   if last["note"] else ""))
        # said above its row: the table's toolbar, shown on hover, covered
        # the picker's clear and open buttons right above it
        st.caption(f"{pick}: " + ("; ".join(notes) if notes else
                                  "no collision or window hit")
                   + ". The change id links to its record where a record "
                   "address is set.")
        ui.table(in_zone(one, TIMES, tz)[0], f"change-{pick}",
                 labels=HEADINGS, download=one,
                 column_config=shown.table_config)

    st.markdown(f"**The change planned in the {view.lower()}**" if n == 1
                else f"**All {n:,} changes planned in the {view.lower()}**")
    ui.table(shown.table,
             f"change-calendar-{first:%Y-%m-%d}-{view.lower()}",
             labels=HEADINGS, key="cal-table", selection_mode="single-row",
             on_select=ui.picking("cal-table", "cal_change",
                               list(shown.labels)),
             download=shown.download, column_config=shown.table_config)
    st.caption(f"Times in {tz}, as the chart; the downloads keep the UTC "
               "instants (+00:00).")

if not windows.empty:
    with st.expander(f"Freeze, blackout and maintenance windows in the "
                     f"{view.lower()} ({len(windows):,})"):
        listed_windows = windows[WINDOW_COLUMNS]
        shown_windows, window_config = in_zone(listed_windows, WINDOW_TIMES,
                                               config.REPORTING_TZ)
        ui.table(shown_windows,
                 f"change-windows-{first:%Y-%m-%d}-{view.lower()}",
                 labels=WINDOW_HEADINGS, column_config=window_config,
                 download=listed_windows)
        st.caption(f"Times in {config.REPORTING_TZ}; the downloads keep "
                   "the UTC instants (+00:00).")
ui.definition("change_calendar", params={**window, **filters})

ui.as_of_caption(status)
