"""Figures and display grids of the Environments page: the impact matrix,
the environment x week heatmap and the bookings Gantt."""
from __future__ import annotations

import functools

import narwhals.stable.v1 as nw
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from pandas.io.formats.style import Styler

from changeboard import charts, config
from changeboard.charts import STATUS_COLOURS, _array, _figure, _take
from changeboard.settled_styler import settled
from changeboard.words import each_distinct, period_words, phase_word, word
from reports.text import DAY, instants

# booking status -> the shared Okabe-Ito status colours
BOOKING_COLOURS = {
    "approved": STATUS_COLOURS["Successful"],
    "pending": STATUS_COLOURS["Pending"],
    "rejected": STATUS_COLOURS["Failed"],
    "cancelled": "#DDDDDD",
}
LETTERS = {"approved": "A", "pending": "P", "rejected": "R"}
MORE = "…"  # a cell with more than one booking
NO_GROUP = "(no group)"
TIER_ORDER = ["dev", "test", "sit", "uat", "perf", "staging", "prod", "dr",
              "other"]
TOTAL_ROW = "Total Releases"
MATRIX_ROWS = 50  # releases per page of the matrix
FIXED = ["Release", "Go-live", "Total Impacted"]


def cell_text(status: str, n_bookings: int) -> str:
    """A/P/R, with an ellipsis when the cell holds more than one booking."""
    return LETTERS.get(status, "?") + (MORE if n_bookings > 1 else "")


def ordered_columns(totals: pd.DataFrame, key: str) -> pd.DataFrame:
    """Matrix columns in reading order: by group, tier, then name."""
    frame = totals.copy()
    if "environment_name" not in frame:  # groups: the query's order, NULL last
        return frame.assign(**{key: frame[key].fillna(NO_GROUP)})
    frame["_group"] = frame["environment_group"].fillna("\uffff")
    frame["_tier"] = frame["tier"].map(
        {t: i for i, t in enumerate(TIER_ORDER)}).fillna(len(TIER_ORDER))
    return frame.sort_values(["_group", "_tier", "environment_name"]).drop(
        columns=["_group", "_tier"])


def impact_grid(cells: pd.DataFrame, releases: pd.DataFrame,
                columns: pd.DataFrame, *, key: str,
                total_impacted: str, tz: str | None = None) -> pd.DataFrame:
    """The matrix as shown: a first row of column totals (Total Releases),
    then one row per release with its letters and row total. A release's
    Go-live is its date in `tz` (default: the reporting time zone), the
    zone of the go-live dates that chose the rows.

    cells: long form (release_id, key, cell_status, n_bookings); releases:
    every release row in order with `total_impacted`; columns: the columns
    to show, in order, with key and total_releases.
    """
    keys = [str(k) for k in columns[key]]
    # each cell's letters at its (release row, column): a direct fill, the
    # first cell of a (release, column) winning as a pivot's "first" would
    # (a pivot_table was 45 ms of each build at a million changes)
    row_of = pd.Index(releases["release_id"]).get_indexer(cells["release_id"])
    column_of = pd.Index(keys).get_indexer(
        cells[key].fillna(NO_GROUP).astype(str))
    texts = np.full((len(releases), len(keys)), "", dtype=object)
    shown = (row_of >= 0) & (column_of >= 0)
    placed = pd.DataFrame({"row": row_of[shown], "column": column_of[shown],
                           "text": [cell_text(s, n) for s, n in zip(
                               cells["cell_status"].to_numpy()[shown],
                               cells["n_bookings"].to_numpy()[shown],
                               strict=True)]}
                          ).drop_duplicates(["row", "column"], keep="first")
    texts[placed["row"].to_numpy(), placed["column"].to_numpy()] = (
        placed["text"].to_numpy())
    # one frame of text built at once (the totals row first), then Total
    # Impacted as nullable integers: concatenating frames column by column
    # was most of the build
    full = np.empty((len(releases) + 1, 3 + len(keys)), dtype=object)
    full[0, :3] = [TOTAL_ROW, "", ""]
    full[0, 3:] = [str(int(v)) for v in columns["total_releases"]]
    full[1:, 0] = releases["release_name"].to_numpy()
    full[1:, 1] = pd.to_datetime(releases["go_live_at"], utc=True).dt \
        .tz_convert(tz or config.REPORTING_TZ).dt.strftime(DAY) \
        .to_numpy()
    full[1:, 3:] = texts
    grid = pd.DataFrame(full, columns=[*FIXED, *keys]).astype("str")
    grid["Total Impacted"] = pd.array(
        [pd.NA, *releases[total_impacted].astype("Int64")], dtype="Int64")
    return grid


def _cell_style(value) -> str:
    letter = value[:1] if isinstance(value, str) else ""
    status = {v: k for k, v in LETTERS.items()}.get(letter)
    if status is None:
        return ""
    return (f"background-color: {BOOKING_COLOURS[status]}; color: #000000; "
            "font-weight: 600; text-align: center")


TOTAL_ROW_STYLE = "font-weight: 700; background-color: #F0F2F6"


def _grid_styles(shown: pd.DataFrame) -> np.ndarray:
    """The CSS of every cell of the shown matrix in one pass: its status
    colour (_cell_style of its letter), and on the Total Releases row the
    bold band after it."""
    by_letter = {letter: _cell_style(letter) for letter in LETTERS.values()}
    css = np.array([[by_letter.get(v[:1], "") if isinstance(v, str) else ""
                     for v in row] for row in shown.to_numpy(dtype=object)],
                   dtype=object).reshape(shown.shape)
    total = shown.index.get_level_values(0) == TOTAL_ROW
    css[total] = [[f"{c}; {TOTAL_ROW_STYLE}" if c else TOTAL_ROW_STYLE
                   for c in row] for row in css[total]]
    return css


def column_labels(columns: pd.DataFrame, key: str) -> dict[str, str]:
    """Matrix column key -> its header: the environment's name (made unique
    with its id when two share one), or the group itself."""
    if key != "environment_id":
        return {str(k): str(k) for k in columns[key]}
    names = columns["environment_name"].fillna(columns[key])
    repeated = names.duplicated(keep=False)
    return {str(k): f"{n} ({k})" if r else str(n) for k, n, r in
            zip(columns[key], names, repeated, strict=True)}


def group_scope(group: str | None) -> dict:
    """The query parameters of one picked environment group: NO_GROUP is
    the environments with none; nothing picked is every environment."""
    if group == NO_GROUP:
        return {"environment_groups": None, "no_group": True}
    return {"environment_groups": [group] if group else None}


def environment_rows(frame: pd.DataFrame) -> pd.Series:
    """Each row's environment as a chart row shows it: its name, made unique
    with its id when two environments share one (as column_labels)."""
    pairs = frame[["environment_id", "environment_name"]].drop_duplicates(
        "environment_id")
    labels = column_labels(pairs, "environment_id")
    return frame["environment_id"].astype(str).map(labels)


# a release's own columns in the download, before its cells'
RELEASE_COLUMNS = ["release_id", "release_name", "application_id",
                   "go_live_at"]


def export_cells(cells: pd.DataFrame, releases: pd.DataFrame,
                 columns: pd.DataFrame, *, key: str, total_impacted: str
                 ) -> pd.DataFrame:
    """The matrix as downloaded: in long form, as its query gives it (the
    grid's 'Risk & Data / MDF-PRD' headings, release names and '09 Dec
    2026' joined nothing). One row per release shown and column (its
    environment, or group) it books, in the grid's order: the release's
    ids, its go-live instant (UTC) and row total (`total_impacted`, Total
    Impacted), the cell's columns of the query (ids and codes as stored)
    and the column's total (`total_releases`, Total Releases); a release
    that books none of the columns is one row with its cell empty, as its
    grid row is."""
    keys = pd.Index(columns[key].fillna(NO_GROUP).astype(str))
    rows = releases[[*RELEASE_COLUMNS, total_impacted]].reset_index(
        drop=True).astype({total_impacted: "Int64"})
    rows["_row"] = np.arange(len(rows))
    own = cells.drop(columns=[c for c in (*RELEASE_COLUMNS[1:], "as_of")
                              if c in cells])
    # the cells the grid places: of a release and a column it shows
    at = keys.get_indexer(own[key].fillna(NO_GROUP).astype(str))
    shown = (at >= 0) & own["release_id"].isin(rows["release_id"]).to_numpy()
    at = at[shown]
    placed = own[shown].reset_index(drop=True).assign(
        total_releases=pd.array(
            columns["total_releases"].to_numpy()[at], dtype="Int64"),
        _column=at)
    # counts stay whole and flags true/false where a release has no cell
    placed = placed.astype({c: "Int64" for c in placed.columns
                            if pd.api.types.is_integer_dtype(placed[c])
                            and c != "_column"}
                           | {c: "boolean" for c in placed.columns
                              if pd.api.types.is_bool_dtype(placed[c])})
    out = rows.merge(placed, on="release_id", how="left", sort=False) \
        .sort_values(["_row", "_column"], kind="stable", na_position="first")
    if "as_of" in releases:
        out["as_of"] = releases["as_of"].iloc[0] if len(releases) else pd.NaT
    return out.drop(columns=["_row", "_column"]).reset_index(drop=True)


def styled_grid(grid: pd.DataFrame, columns: pd.DataFrame, key: str
                ) -> Styler | pd.DataFrame:
    """The matrix as shown: releases (name, go-live, Total Impacted) as the
    pinned index, environments under their group's header, cells coloured
    by status (the letters stay for colour-blind readers), and the Total
    Releases row in bold on a light band."""
    labels = column_labels(columns, key)
    shown = grid.copy()
    if shown.size > pd.get_option("styler.render.max_elements"):
        # too many cells to colour (every column asked for): letters only
        return shown.set_index(FIXED).rename(columns=labels)
    shown["Total Impacted"] = [
        "" if pd.isna(v) else str(int(v)) for v in shown["Total Impacted"]]
    shown = shown.set_index(FIXED).rename(columns=labels)
    if key == "environment_id":
        groups = columns["environment_group"].fillna(NO_GROUP)
        shown.columns = pd.MultiIndex.from_arrays(
            [list(groups), list(shown.columns)])
    # every cell's CSS in one pass, settled once: the page keeps the Styler
    # per content of the grid, and a rerun sends what was settled
    return settled(shown, _grid_styles(shown), uuid="impact_matrix")


@functools.cache
def _blues() -> tuple:
    """The "Blues" colour scale as plotly writes it out (its stops)."""
    return go.Heatmap(colorscale="Blues").colorscale


def busiest_environments(frame: pd.DataFrame, value: str, most: int
                         ) -> pd.DataFrame:
    """The rows of the `most` environments of `frame` with the largest sum
    of `value` (ties: the first in the frame's order), in the frame's
    order: what a heatmap draws of a group of hundreds of environments."""
    totals = frame.groupby("environment_id", sort=False)[value].sum()
    if len(totals) <= most:
        return frame
    kept = totals.sort_values(ascending=False, kind="stable").index[:most]
    return frame[frame["environment_id"].isin(kept)]


ROW_PX = 22  # a row of the weekly load's heatmap

# both figures are written as plain dicts, the same figures plotly express
# and update_* drew (see charts: "building a figure")
@charts.kept
def week_heatmap(frame: pd.DataFrame, value: str, value_label: str
                 ) -> go.Figure:
    """Environments (rows) x ISO weeks (columns), darker = more."""
    # one row per environment: two of one name are told apart by their id
    wide = frame.assign(environment_name=environment_rows(frame)).pivot_table(
        index="environment_name", columns="week_label", values=value,
        aggfunc="sum", sort=False)
    weeks = list(pd.unique(frame["week_label"]))
    wide = wide.reindex(columns=weeks)
    # 'Week 47, 2026', as every trend's axis says a week
    weeks = [period_words(w) for w in weeks]
    heatmap = {
        "type": "heatmap", "z": _array(wide.to_numpy()), "x": _array(weeks),
        "y": _array(list(wide.index)), "colorscale": _blues(), "zmin": 0,
        # weeks of nothing but 0 drew mid-blue, as if busy: 0 is white
        "zmax": max(1.0, float(np.nan_to_num(np.nanmax(wide.to_numpy(
            dtype=float), initial=0)))),
        "xgap": 1, "ygap": 1,
        "colorbar": {"title": {"text": value_label}, "tickformat": ",.0f",
                     # a day's hours (a week holds 168), or whole releases
                     "dtick": 24 if value == "booked_hours" else max(
                         1, round(float(frame[value].max()) / 5)),
                     # from the plot's top down, as tall as its rows but
                     # never under 150 px: three environments drew it 45 px
                     # tall, its six numbers printed over each other
                     "lenmode": "pixels", "len": max(150, ROW_PX * len(wide)),
                     "y": 1, "yanchor": "top"},
        "hovertemplate": "%{y} · %{x}<br>" + value_label
        + ": %{z:,.0f}<extra></extra>"}
    height = max(260, ROW_PX * len(wide) + 120)
    layout = {
        "height": height,
        # the plot, and the colour bar beside it, start below plotly's
        # toolbar (charts.top_legend), not under it
        "margin": {"l": 10, "r": 10, "t": charts.TOOLBAR_PX + 8, "b": 10},
        "xaxis": {"title": {"text": "ISO week (Monday start)"},
                  "type": "category"},
        "yaxis": {"title": {"text": "environment"}, "autorange": "reversed",
                  "type": "category"}}
    data = [heatmap]
    if height > charts.TALL_PX:
        # the weeks above the rows too, as the change calendar's days: 60
        # environments drew 1,440 px with the weeks only below them (an
        # unseen point per week gives the top axis its categories)
        layout["xaxis2"] = {"type": "category", "overlaying": "x",
                            "side": "top", "matches": "x"}
        # on an axis of its own, hidden: the rows' axis keeps its range
        layout["yaxis2"] = {"overlaying": "y", "visible": False}
        data.append({"type": "scatter", "mode": "markers", "x": _array(weeks),
                     "y": _array([0] * len(weeks)), "xaxis": "x2",
                     "yaxis": "y2", "marker": {"opacity": 0},
                     "showlegend": False, "hoverinfo": "skip"})
    return _figure(data, layout)


def first_environments(frame: pd.DataFrame, most: int) -> pd.DataFrame:
    """The rows of the first environments of `frame`, in its order, whose
    bookings together are at most `most` (the first environment whole,
    however many it has): what a timeline draws, each row complete."""
    counts = frame.groupby("environment_id", sort=False).size()
    within = (counts.cumsum() <= most).to_numpy(copy=True)
    within[:1] = True
    return frame[frame["environment_id"].isin(counts.index[within])]


def released(frame: pd.DataFrame) -> pd.Series:
    """Each booking's release as "Name (id)", as the pairs table names
    one (two trains' releases may share a name); its id alone when the
    release is not loaded, "(no release)" without one."""
    name = frame["release_name"]
    if "release_id" not in frame:
        return name.fillna("(no release)")
    key = frame["release_id"]
    return (name + " (" + key + ")").fillna(key).fillna(name) \
        .fillna("(no release)")


@charts.kept
def booking_gantt(frame: pd.DataFrame) -> go.Figure:
    """One bar per booking within the window, one row per environment,
    coloured by booking status; the legend names the statuses and the hover
    the phase in words (Approved, Performance)."""
    shown = frame.assign(
        environment_name=environment_rows(frame),
        release=released(frame),
        phase_=each_distinct(frame["phase"], phase_word).fillna("–"),
        team_=frame["team"].fillna("–"),
        # the booked time as every page writes a span, in UTC as the axis
        booked_=instants(frame["clipped_start_at"],
                         frame["clipped_end_at"]))
    # a timeline as plotly express draws one: bars from each start (base),
    # as long as the booking in milliseconds, by status in this order
    times = nw.from_native(shown[["clipped_start_at", "clipped_end_at"]])
    text = [c for c, kind in times.schema.items()
            if kind != nw.Datetime and kind != nw.Date]
    if text:
        times = times.with_columns(nw.col(text).str.to_datetime())
    base = _array(times.get_column("clipped_start_at"))
    length = _array(times.select(
        (nw.col("clipped_end_at") - nw.col("clipped_start_at"))
        .dt.total_milliseconds()).get_column("clipped_end_at"))
    rows = _array(shown["environment_name"])
    customdata = _array(shown[["booking_id", "release", "phase_", "team_",
                               "hours_in_window", "booked_"]])
    order = list(BOOKING_COLOURS)
    groups = charts._groups(shown, "status", order)
    colour = charts._colour_map(
        list(dict.fromkeys([*order, *pd.unique(shown["status"])])),
        BOOKING_COLOURS,
        pio.templates[pio.templates.default].layout.colorway)
    data = [charts._express(
        "bar", name=str(word(status)), legendgroup=str(status),
        x=_take(length, at), y=_take(rows, at),
        base=_take(base, at), customdata=_take(customdata, at),
        orientation="h", opacity=0.85,
        marker={"color": colour[status], "pattern": {"shape": ""},
                "line": {"color": "#FFFFFF", "width": 0.5}},
        hovertemplate="%{y} · %{customdata[0]}<br>%{customdata[1]}<br>"
        "phase %{customdata[2]} · team %{customdata[3]}<br>"
        "%{customdata[5]} (%{customdata[4]:,.0f} h in the period)"
        "<extra></extra>")
        for status, at in groups]
    environments = list(pd.unique(shown["environment_name"]))
    height = max(260, 28 * shown["environment_name"].nunique() + 130)
    return _figure(data, {
        "height": height,
        "barmode": "overlay", "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        # across the top, clear of plotly's toolbar as every chart's
        "legend": {**charts.top_legend(height), "tracegroupgap": 0},
        "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "type": "date",
                  "title": {"text": "booked time (UTC)"}},
        "yaxis": {"anchor": "x", "domain": [0.0, 1.0],
                  "title": {"text": "environment"}, "categoryorder": "array",
                  "categoryarray": _array(list(reversed(environments)))}})
