"""What the Environments page's tabs share: the page's scope, the bookings
table and the selection of a table drawn with on_select."""
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from changeboard import env_charts, ui


@dataclass(frozen=True)
class EnvironmentsPage:
    """What the page has read before its tabs: the sidebar period and
    filters, the impact matrix's go-live dates (first .. last inclusive,
    matrix_window end exclusive), utilisation per group and conflicts per
    environment over the period."""
    window: dict[str, date]
    filters: dict[str, list[str]]
    first: date
    last: date
    matrix_window: dict[str, date]
    groups: pd.DataFrame
    load_groups: list[str]
    conflicts_by_env: pd.DataFrame
    in_conflict: pd.DataFrame

    @property
    def busy_group(self) -> int:
        """The position in load_groups of the first group with an active
        booking in the period (0 when none has): the group pickers' first
        choice. The first by name opened the weekly load and the timeline
        empty ('No bookings on this group's environments') beside cards of
        1,280 booked hours."""
        busy = set(self.groups.loc[self.groups["n"] > 0, "environment_group"]
                   .fillna(env_charts.NO_GROUP))
        return next((i for i, g in enumerate(self.load_groups)
                     if g in busy), 0)


def no_bookings_loaded() -> str | None:
    """What a tab of bookings says when no booking of any date is loaded
    (environments loaded alone): no group or dates would fill it, so it
    names what to load instead of asking for wider dates. None when some
    booking is loaded."""
    if int(ui.data_status()["n_bookings"]):
        return None
    return ("No environment booking is loaded, so no release or team uses "
            "an environment here: " + ui.load_hint("environment_bookings")
            + ".")


NO_RELEASE = "(no release)"  # a booking's release where it has none
DRAWN = ":ids"  # beside a table's key: the ids of the rows it last drew


def kept_pick(key: str, ids: list, param: str) -> object | None:
    """The id picked in the single-row table `key` (drawn with
    on_select="rerun"), whose rows have `ids` this run, kept by id rather
    than by row: when the rows change (another period, filter or view) the
    same item stays picked at its new row, or none is when it is gone. A
    table knows only row numbers, so after a change of period it kept row 19
    picked, by then another environment, and listed that one's pairs. The
    pick is kept in the URL as ?<param>=<id>, a link to it: a table not yet
    drawn in this session (a link opened, the tab opened again) starts on
    the link's pick. Call it before drawing the table."""
    state = st.session_state.get(key)
    if state is None:  # not drawn yet: the link's pick, if listed
        linked = st.query_params.get(param)
        picked = linked if linked in ids else None
    else:
        rows = list((state.get("selection") or {}).get("rows") or [])
        # the row was picked among the rows drawn last
        drawn = st.session_state.get(key + DRAWN, ids)
        picked = drawn[rows[0]] if rows and rows[0] < len(drawn) else None
    now = [ids.index(picked)] if picked in ids else []
    st.session_state[key] = ui.table_selection(now)
    st.session_state[key + DRAWN] = list(ids)
    ui.in_address(param, picked if now else None)
    return picked if now else None


def pick_box(key: str, ids: list, names: list, picked, label: str) -> None:
    """A pick box under the single-row table `key` whose rows have `ids`
    (named `names`) this run: the keyboard's way to the same drill-down (a
    table's row is selected from the keyboard only with an unsaid
    Shift+Space on a cell: an accessibility review). It shows the table's
    pick (`picked`, kept_pick's); a pick in it selects that row."""
    box = key + ":box"
    st.session_state[box] = picked
    shown = ui.distinct(dict(zip(ids, (str(n) for n in names), strict=True)))
    st.selectbox(label, ids, index=None, key=box, format_func=shown.get,
                 placeholder="Select a row above, or pick here",
                 on_change=_boxed, args=(key,))


def _boxed(key: str) -> None:
    """pick_box's callback: its pick becomes the table's selected row."""
    pick = st.session_state.get(key + ":box")
    drawn = st.session_state.get(key + DRAWN) or []
    st.session_state[key] = ui.table_selection(
        [drawn.index(pick)] if pick in drawn else [])


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
        "Starts (UTC)", format=ui.TABLE_INSTANT),
    "end_at": st.column_config.DatetimeColumn(
        "Ends (UTC)", format=ui.TABLE_INSTANT),
    "clipped_start_at": st.column_config.DatetimeColumn(
        "From, in period (UTC)", format=ui.TABLE_INSTANT),
    "clipped_end_at": st.column_config.DatetimeColumn(
        "To, in period (UTC)", format=ui.TABLE_INSTANT),
    "hours_in_window": st.column_config.NumberColumn(
        "Hours in period", format="%.1f"),
    "is_counted": st.column_config.CheckboxColumn(
        "In the cell", help="Cancelled, empty and invalid bookings are "
        "listed but make no cell"),
    "booking_id": st.column_config.TextColumn("Booking"),
}


def bookings_table(frame: pd.DataFrame, file_stem: str, columns: list[str]
                   ) -> None:
    """A table of bookings, those of `columns` the frame has; a release's
    id after its name (two releases of one application share a name: "Core
    Banking 30.4" in two trains)."""
    if "release_name" in columns and "release_id" in frame \
            and "release_id" not in columns:
        at = columns.index("release_name") + 1
        columns = [*columns[:at], "release_id", *columns[at:]]
    shown = frame[columns]
    if "release_name" in columns:
        shown = shown.assign(
            release_name=shown["release_name"].fillna(NO_RELEASE))
    # (a release id keeps the table's own heading, "Release id", and its
    # link to the record where a record address is set)
    ui.table(shown, file_stem, column_config={
        c: BOOKING_COLUMNS[c] for c in columns if c in BOOKING_COLUMNS})
