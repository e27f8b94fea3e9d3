"""The impact matrix of the releases going live in the go-live dates:
releases x environments (or groups), with the bookings behind a cell."""
from functools import partial
from typing import NamedTuple

import pandas as pd
import streamlit as st

from changeboard import charts, config, env_charts, ui
from views.environment_tabs.common import (
    EnvironmentsPage,
    bookings_table,
    no_bookings_loaded,
    selected,
)

NO_SELECTION = "(all groups)"


class Matrix(NamedTuple):
    """The matrix as read for the chosen columns, group and page."""
    by_group: bool
    key: str                  # environment_id, or environment_group
    scope: dict               # the chosen environment group, as filters
    show_all: bool
    all_releases: pd.DataFrame
    releases: pd.DataFrame    # the page of releases shown
    page_start: int
    cells: pd.DataFrame
    columns: pd.DataFrame
    row_total: str
    noun: str


def releases_from(start: int, n: int) -> str:
    """The Releases pick of a page of the matrix's rows: '1–20', '21–25',
    '21' alone; 'none' when no release goes live in the dates (never
    '1–0')."""
    return ui.numbered(start, min(start + env_charts.MATRIX_ROWS, n))


# the matrix's picks, each bound to the link: on a link's first run the
# link's picks are not read until their controls are drawn
PICKS = ("matrix_columns", "matrix_group")


def ahead(matrix_window: dict) -> list[tuple[str, dict, dict]]:
    """The tab's first round of queries as its picks last asked them, for
    the page to run with its own (ui.prefetch); its groups alone on a
    link's first run."""
    if any(key in st.query_params and key not in st.session_state
           for key in PICKS):
        return first_round(matrix_window, {})[:1]
    return first_round(matrix_window, picks(
        st.session_state.get("matrix_columns"),
        st.session_state.get("matrix_group"))[1])


# the rows and columns of the matrix, counted in one pass
# (changeboard/groups.py): its releases, environments and groups
TOTALS = "environment_impact_totals"


def first_round(matrix_window: dict, scope: dict
                ) -> list[tuple[str, dict, dict]]:
    """The matrix's queries before its cells (which need the page of rows
    these give): every group (the group pick's options), then the rows and
    the columns of the group picked; one query when no group is picked."""
    return [(TOTALS, matrix_window, {}),
            *([(TOTALS, matrix_window, scope)] if scope else [])]


def totals(page: EnvironmentsPage, scope: dict) -> dict[str, pd.DataFrame]:
    """The matrix's releases, environments and groups, as the frames of
    environment_impact_{release,environment,group}_totals."""
    return ui.scoped_groups(TOTALS, page.matrix_window, page.filters,
                            **scope)


def picks(columns: str | None, group: str | None) -> tuple[bool, dict]:
    """The Columns and Environment group picks as the queries read them:
    by group, and the group as filters (none: every group)."""
    return columns == "Groups", (
        {} if group in (None, NO_SELECTION) else {"environment_groups": [group]})


def render(page: EnvironmentsPage) -> None:
    """The environment impact matrix tab."""
    matrix = read(page)
    if matrix.releases.empty:
        _link(None, None)
        first, last = page.first, page.last
        if not int(ui.data_status()["n_releases"]):
            # wider dates cannot help: the data has no release at all
            st.info("No release is loaded, so no environment impact to "
                    "show: load releases and their environment bookings "
                    "(the Data page, or `changeboard load`).")
        elif said := no_bookings_loaded():
            # nor when no release books an environment, whatever its date
            st.info(said)
        else:
            st.info(f"No release goes live between {ui.day(first)} and "
                    f"{ui.day(last)}: widen the go-live dates.")
    else:
        with ui.files_cover(page.matrix_window):  # its go-live dates
            grid, labels = draw(page, matrix)
            bookings_behind(page, matrix, grid, labels)
    ui.definition("environment_impact_matrix",
                  "How is the environment impact matrix computed?",
                  params={**page.matrix_window, **page.filters,
                          **matrix.scope})


def read(page: EnvironmentsPage) -> Matrix:
    """The controls above the matrix, and the matrix they choose."""
    filters = page.filters
    matrix_window = page.matrix_window
    controls = st.columns([2.1, 2, 1.4, 1.3], vertical_alignment="bottom")
    columns_picked = controls[0].segmented_control(
        "Columns", ["Environments", "Groups"],
        default="Environments", key="matrix_columns", required=True,
        bind="query-params")
    all_groups = totals(page, {})["environment_impact_group_totals"]
    group_names = [g for g in all_groups["environment_group"] if pd.notna(g)]
    group = controls[1].selectbox(
        "Environment group", [NO_SELECTION, *group_names], key="matrix_group",
        bind="query-params")
    show_all = controls[3].toggle(
        "All columns", key="matrix_unbooked",
        help="Also show environments (or groups) no release books.")
    by_group, scope = picks(columns_picked, group)
    # the rows and the columns together (the cells need the rows' page)
    ui.prefetch(first_round(matrix_window, scope)[1:], filters)
    counted = totals(page, scope)
    releases = counted["environment_impact_release_totals"]
    # a page of releases at a time: rows, their cells only and, unless all
    # are asked for, the columns those releases book
    all_releases = releases
    starts = list(range(0, len(releases), env_charts.MATRIX_ROWS)) or [0]
    page_start = controls[2].selectbox(
        "Releases", starts, key="matrix_page", bind="query-params",
        # n bound now: `releases` is a page of them below
        format_func=partial(releases_from, n=len(releases)),
        disabled=len(starts) == 1,
        help=f"The matrix shows {env_charts.MATRIX_ROWS} releases at a "
        "time, by go-live date; the download holds the same page, a row "
        "per release and environment (or group) it books.")
    releases = releases.iloc[page_start:page_start + env_charts.MATRIX_ROWS]
    page_of = {"release_ids": list(releases["release_id"])}
    if by_group:
        key = "environment_group"
        cells = ui.scoped("environment_impact_matrix_by_group", matrix_window,
                          filters, **scope, **page_of)
        columns = counted["environment_impact_group_totals"]
        row_total = "total_impacted_groups"
    else:
        key = "environment_id"
        cells = ui.scoped("environment_impact_matrix", matrix_window, filters,
                          **scope, **page_of)
        columns = counted["environment_impact_environment_totals"]
        row_total = "total_impacted"
    if not show_all:
        booked = set(cells[key].fillna(env_charts.NO_GROUP).astype(str))
        columns = columns[columns[key].fillna(env_charts.NO_GROUP)
                          .astype(str).isin(booked)]
    columns = env_charts.ordered_columns(columns, key)
    noun = "environment groups" if by_group else "environments"
    return Matrix(by_group, key, scope, show_all, all_releases, releases,
                  page_start, cells, columns, row_total, noun)


def draw(page: EnvironmentsPage, matrix: Matrix) -> tuple[pd.DataFrame, dict]:
    """The matrix with its caption, legend and downloads: (grid, column
    labels)."""
    (by_group, key, _, show_all, all_releases, releases, page_start, cells,
     columns, row_total, noun) = matrix
    first, last, filters = page.first, page.last, page.filters
    grid, styled, exported = shown_matrix(cells, releases, columns, key,
                                          row_total, config.REPORTING_TZ)
    impacted_releases = int((all_releases[row_total] > 0).sum())
    shown_rows = ("rows" if len(releases) == len(all_releases) else
                  f"rows {page_start + 1:,}–"
                  f"{page_start + len(releases):,} of "
                  f"{len(all_releases):,}")
    st.caption(
        f"n = {ui.many(len(all_releases), 'release')} going live "
        f"{ui.day(first)} – {ui.day(last)} ({shown_rows}; "
        f"{impacted_releases:,} with an approved or pending booking)"
        f" × {ui.many(len(columns), noun[:-1], noun)} "
        + ("(columns, all)" if show_all else
           "booked by the releases shown (columns)")
        + ". Total Impacted counts a release's " + noun + " with an "
        "approved or pending booking, Total Releases an environment's "
        "releases; a rejected-only cell counts in neither"
        + ui.unapplied("environment_impact_matrix", filters) + ".")
    if columns.empty and (said := no_bookings_loaded()):
        st.info(said)
    elif columns.empty:
        st.info(f"None of these releases books one of the chosen "
                f"{noun}: switch on All columns, or widen the tier and "
                "group filters.")
    legend = " ".join(
        f'<span style="background:{env_charts.BOOKING_COLOURS[s]};'
        f'color:#000;padding:1px 7px;border-radius:3px;font-weight:600">'
        f"{env_charts.LETTERS[s]}</span> {ui.word(s)}"
        for s in ("approved", "pending", "rejected"))
    st.markdown(
        f"{legend} &nbsp;·&nbsp; <b>…</b> more than one booking &nbsp;·"
        "&nbsp; select a cell for its bookings, a row for a release's, a "
        "cell of the Total Releases row for "
        + ("a group's" if by_group else "an environment's"),
        unsafe_allow_html=True)
    labels = env_charts.column_labels(columns, key)
    headings = {
        "Release": st.column_config.TextColumn(
            "Release", width=ui.text_width(grid["Release"], 180, 320)),
        "Go-live": st.column_config.TextColumn(
            "Go-live", help="Actual release date, else planned "
            f"({config.REPORTING_TZ})"),
        "Total Impacted": st.column_config.TextColumn(
            "Total Impacted", help=f"{noun.capitalize()} with an "
            "approved or pending booking of the release"),
    }
    for _, column in columns.iterrows():
        label = labels[str(column[key])]
        headings[label] = st.column_config.TextColumn(
            width=ui.text_width([label], 64, 200), alignment="center",
            help=ui.many(column["n_environments"], "environment")
            if by_group else f"{column['environment_group']} · "
            f"{column['tier']} · {column[key]}")
    _linked_selection(releases["release_id"].tolist(), labels)
    _kept_selection(releases["release_id"].tolist(), list(labels.values()))
    st.dataframe(
        styled,
        column_config=headings, key="impact_matrix", on_select="rerun",
        selection_mode=["single-row", "single-cell"],
        height=min(640, 75 + 35 * len(grid)))
    # the files hold the page's cells in long form, with their ids, as
    # scripts read them (ui.downloads); the grid is for reading
    # by group, the files hold other columns (environment_group, no
    # environment_id): named so, not as the environments' under one name
    ui.downloads(exported, "environment_impact_matrix"
                 + ("-by-group" if by_group else ""))
    return grid, labels


@charts.kept
def shown_matrix(cells: pd.DataFrame, releases: pd.DataFrame,
                 columns: pd.DataFrame, key: str, row_total: str,
                 tz: str) -> tuple[pd.DataFrame, object, pd.DataFrame]:
    """The grid, its Styler and the rows its downloads hold, made once per
    content of the page's cells, releases and columns (a rerun reuses
    them: colouring 7,700 cells is 0.3-0.6 s at a million changes);
    shared, never changed."""
    grid = env_charts.impact_grid(cells, releases, columns, key=key,
                                  total_impacted=row_total, tz=tz)
    return grid, env_charts.styled_grid(grid, columns, key), \
        env_charts.export_cells(cells, releases, columns, key=key,
                                total_impacted=row_total)


RELEASE_BOX, COLUMN_BOX = "impact_matrix:release", "impact_matrix:column"
# the selection in the address, a link to its bookings: the release's id
# and the column's key (an environment's id, or a group), each when it is
# part of the selection (the page of releases is in it already)
PARAMS = ("matrix_release", "matrix_column")
DRAWN = "impact_matrix:drawn"  # the releases and column labels drawn last
FIXED = ("Release", "Go-live", "Total Impacted")  # a row's own columns


def _kept_selection(ids: list, columns: list[str]) -> None:
    """The grid's selection kept by release and column, not by number: a
    grid knows only row numbers, so a release picked on the first page of
    releases stood for another on the second (the box and the heading
    named one nobody picked: the review), and a Total Releases cell of a
    group stayed outlined under an environment's column. The same release
    and column stay selected at their new place, or nothing is when they
    are not drawn. Call it before drawing the grid."""
    state = st.session_state.get("impact_matrix") or {}
    selection = state.get("selection") or {}
    drawn_ids, drawn_columns = st.session_state.get(DRAWN, (ids, columns))

    def moved(row: int) -> int | None:
        if row == 0:  # Total Releases
            return 0
        release = drawn_ids[row - 1] if 0 < row <= len(drawn_ids) else None
        return ids.index(release) + 1 if release in ids else None

    rows = [m for r in selection.get("rows") or []
            if (m := moved(r)) is not None]
    cells = [(m, c) for r, c in selection.get("cells") or []
             if (m := moved(r)) is not None
             and (c in FIXED or (c in columns and c in drawn_columns))]
    st.session_state["impact_matrix"] = ui.table_selection(rows, cells)
    st.session_state[DRAWN] = (list(ids), list(columns))


def _linked_selection(ids: list, labels: dict) -> None:
    """On the grid's first draw in this session (a link opened, the tab
    opened again), its selection from the address (PARAMS): the release's
    row, the column's cell, or both. A release not on this page of
    releases, or a column not drawn (another period's, mistyped), selects
    nothing, and leaves the address with the next run's selection."""
    if "impact_matrix" in st.session_state:
        return
    release, column = (st.query_params.get(p) for p in PARAMS)
    row = ids.index(release) + 1 if release in ids else None
    label = labels.get(column) if column is not None else None
    if (release is None and column is None) or \
            (release is not None and row is None) or \
            (column is not None and label is None):
        return
    _select(row or 0, label)


def _select(row: int, column: str | None) -> None:
    """The grid's selection of a release's row (0: the Total Releases row)
    and a column's label: that cell, or the release's row when no column is
    given."""
    cells = [(row, column)] if column is not None else []
    st.session_state["impact_matrix"] = ui.table_selection(
        [row] if row and not cells else [], cells)


def _link(release_id: str | None, column_key: str | None) -> None:
    """The selection's release and column in the address (PARAMS), or
    neither."""
    for param, value in zip(PARAMS, (release_id, column_key), strict=True):
        ui.in_address(param, value)


def _boxes(matrix: Matrix, labels: dict, row: int | None,
           column_key: str | None) -> None:
    """A release box and an environment (or group) box: the keyboard's way
    to the bookings behind a cell (both picked), a row (a release) or a
    Total Releases cell (an environment), where the grid's cells are
    selected from the keyboard only with unsaid keys (an accessibility
    review). They show the grid's selection; a pick selects in the grid.
    Each offers the grid's own names: its rows' releases, its columns."""
    named = ui.distinct(dict(zip(
        matrix.releases["release_id"],
        matrix.releases["release_name"].astype(str), strict=True)))
    releases, columns = list(named.values()), list(labels.values())
    st.session_state[RELEASE_BOX] = releases[row - 1] if row else None
    st.session_state[COLUMN_BOX] = labels.get(column_key)
    noun = "Environment group" if matrix.by_group else "Environment"
    left, right = st.columns(2)
    left.selectbox("Release", releases, index=None, key=RELEASE_BOX,
                   placeholder="Every release", on_change=_boxed,
                   args=(releases, columns))
    right.selectbox(noun, columns, index=None, key=COLUMN_BOX,
                    placeholder=f"Every {noun.lower()}", on_change=_boxed,
                    args=(releases, columns))


def _boxed(releases: list[str], columns: list[str]) -> None:
    """_boxes' callback: the grid's selection from the boxes' picks, a
    cell when an environment is picked (of the Total Releases row without
    a release), else the release's row."""
    release = st.session_state.get(RELEASE_BOX)
    column = st.session_state.get(COLUMN_BOX)
    _select(releases.index(release) + 1 if release in releases else 0,
            column if column in columns else None)


def bookings_behind(page: EnvironmentsPage, matrix: Matrix,
                    grid: pd.DataFrame, labels: dict) -> None:
    """The bookings behind the selected cell, row or column."""
    by_group, scope, releases = matrix.by_group, matrix.scope, \
        matrix.releases
    matrix_window, filters = page.matrix_window, page.filters
    key_of = {label: k for k, label in labels.items()}
    rows, picked_cells = selected("impact_matrix")
    row = column_key = None
    if picked_cells:
        row, column_key = picked_cells[0]
    elif rows:
        row = rows[0]
    column_key = key_of.get(column_key)  # None: a release's own cell
    if row is not None and row >= len(grid):
        row = None  # a selection left over from other dates or filters
    _boxes(matrix, labels, row, column_key)
    _link(str(releases.iloc[row - 1]["release_id"]) if row else None,
          column_key if row is not None else None)
    if row is None or (row == 0 and column_key is None):
        st.caption("Select a cell, a row or a Total Releases cell, or pick "
                   "a release, an environment or both above, to list the "
                   "bookings behind it.")
    else:
        drill = dict(scope)
        what = []
        if row > 0:
            release = releases.iloc[row - 1]
            drill["release_ids"] = [release["release_id"]]
            what.append(f"{release['release_name']}")
        if column_key is not None and by_group:
            # "(no group)": every release's bookings there, not the page's
            drill.update(env_charts.group_scope(column_key))
            what.append(f"group {column_key}")
        elif column_key is not None:
            drill["environment_ids"] = [column_key]
            what.append(labels[column_key])
        behind = ui.scoped("environment_impact_bookings", matrix_window,
                           filters, **drill)
        # names are data: shown as written, not as Markdown
        st.header(f"Bookings behind: {' × '.join(map(ui.plain, what))}")
        if behind.empty:
            # nothing more: 'n = 0 bookings ...; 0 cancelled ... listed too'
            # and downloads of no row read as a table that failed to load
            st.info("No booking here: an empty cell. Pick a coloured one.")
            return
        counted = int(behind["is_counted"].sum())
        others = len(behind) - counted
        # 'whenever it is' read as nothing (a walkthrough): the matrix
        # counts the releases' bookings of any date, not the period's
        st.caption(f"n = {ui.many(counted, 'booking')} behind the "
                   "selection, of any date (the matrix counts its releases' "
                   "bookings, not the period's); "
                   f"{others:,} cancelled, empty or invalid "
                   f"{'one is' if others == 1 else 'ones are'} listed too.")
        bookings_table(behind, "impact_matrix_bookings", [
            "release_name", "environment_name", "environment_group",
            "tier", "phase", "team", "status", "start_at", "end_at",
            "is_counted", "booking_id"])
