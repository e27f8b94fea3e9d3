"""Shared plotly figures: a frame in, a figure out, in one colour-blind-safe palette."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

# Okabe-Ito: distinguishable with every common colour-vision deficiency
STATUS_COLOURS = {
    "Successful": "#009E73",
    "Successful with issues": "#E69F00",
    "Failed": "#D55E00",
    "Pending": "#999999",
}
SERIES = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
          "#F0E442", "#000000"]


# figures already built, by builder and the content of its arguments: a
# rerun that draws the same data (a warm page, a click elsewhere on it)
# reuses the figure instead of building it again with plotly (30-700 ms a
# chart at a million changes); st.plotly_chart only reads a figure
FIGURES_KEPT = 96
_figures: OrderedDict = OrderedDict()
_figures_lock = threading.Lock()
_PLAIN = (str, int, float, bool, type(None), dt.date, dt.datetime,
          dt.timedelta, pd.Timestamp, pd.Timedelta)


def _content(value, digest) -> None:
    """Feed what `value` holds into `digest`; TypeError for a value whose
    content cannot be told (the figure is then built, not kept)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        digest.update(repr((type(value).__name__, list(frame.columns),
                            [str(t) for t in frame.dtypes],
                            getattr(value, "name", None))).encode())
        try:
            hashed = pd.util.hash_pandas_object(frame, index=True)
        except TypeError:  # cells holding lists (e.g. a change's collisions)
            hashed = pd.util.hash_pandas_object(frame.apply(
                lambda column: column.map(_cell_text)
                if column.dtype == object else column), index=True)
        digest.update(hashed.to_numpy().tobytes())
    elif isinstance(value, _PLAIN):
        digest.update(repr((type(value).__name__, value)).encode())
    elif isinstance(value, tuple | list):
        digest.update(f"{type(value).__name__}{len(value)}(".encode())
        for item in value:
            _content(item, digest)
        digest.update(b")")
    elif isinstance(value, dict):
        digest.update(f"dict{len(value)}(".encode())
        for key, item in value.items():
            _content(key, digest)
            _content(item, digest)
        digest.update(b")")
    else:
        raise TypeError(type(value).__name__)


def _cell_text(value):
    """A cell as hashable content: a list or array as the repr of its items
    (a list's repr is whole, where an array's elides a long one)."""
    if isinstance(value, list | tuple | np.ndarray):
        return f"{type(value).__name__}{[_cell_text(v) for v in value]!r}"
    return value


def kept(build):
    """`build`'s figure, built once per content of its arguments (kept for
    the FIGURES_KEPT most recently drawn); figures are shared, never to be
    changed by their callers."""
    @functools.wraps(build)
    def figure(*args, **kwargs):
        digest = hashlib.blake2b(build.__qualname__.encode(), digest_size=20)
        try:
            _content((args, kwargs), digest)
        except TypeError:  # e.g. a frame holding lists: built every time
            return build(*args, **kwargs)
        key = (build.__module__, digest.digest())
        with _figures_lock:
            if key in _figures:
                _figures.move_to_end(key)
                return _figures[key]
        made = build(*args, **kwargs)
        with _figures_lock:
            _figures[key] = made
            while len(_figures) > FIGURES_KEPT:
                _figures.popitem(last=False)
        return made
    return figure


def _layout(figure: go.Figure, *, y_title: str, x_title: str = "") -> go.Figure:
    # the legend above the plot: never over the x axis title
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_title_text="",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        hovermode="x unified", xaxis_title=x_title, yaxis_title=y_title,
        height=340)
    return figure


@kept
def stacked_bars(frame: pd.DataFrame, *, x: str, columns: dict[str, str],
                 y_title: str, x_title: str = "") -> go.Figure:
    """Stacked bars of several count columns, named and coloured by status."""
    # one go.Bar per series: the same figure as plotly express draws, built
    # without its per-call frame reshaping (a tenth of the time)
    figure = go.Figure([
        go.Bar(x=frame[x], y=frame[column], name=name,
               marker_color=STATUS_COLOURS.get(name),
               hovertemplate="%{fullData.name}: %{y:,} " + y_title
               + "<extra></extra>")
        for column, name in columns.items()])
    figure.update_layout(barmode="relative")
    return _layout(figure, y_title=y_title, x_title=x_title)


@kept
def rate_line(frame: pd.DataFrame, *, x: str, y: str, n: str, y_title: str,
              x_title: str = "") -> go.Figure:
    """A 0-1 rate as a percentage line; the hover shows the n behind each point."""
    figure = px.line(frame, x=x, y=y, markers=True, custom_data=[n],
                     color_discrete_sequence=SERIES)
    figure.update_traces(
        hovertemplate="%{y:.1%} of n = %{customdata[0]:,}<extra></extra>")
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _layout(figure, y_title=y_title, x_title=x_title)


TOP_LEGEND = {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0}


@kept
def horizontal_stacked_bars(frame: pd.DataFrame, *, y: str,
                            columns: dict[str, str], x_title: str,
                            y_title: str = "",
                            hover: dict[str, str] | None = None,
                            colours: dict[str, str] | None = None
                            ) -> go.Figure:
    """Horizontal stacked bars, one row per category, first row on top.

    hover maps extra frame columns to hover labels (rates shown as %);
    colours maps series names to colours (default STATUS_COLOURS).
    """
    long = frame.melt(id_vars=[y, *(hover or {})], value_vars=list(columns),
                      var_name="series", value_name="count")
    long["series"] = long["series"].map(columns)
    figure = px.bar(long, y=y, x="count", color="series", orientation="h",
                    color_discrete_map=colours or STATUS_COLOURS,
                    color_discrete_sequence=SERIES,
                    category_orders={"series": list(columns.values()),
                                     y: list(frame[y])},
                    hover_data={k: ":.1%" if k.endswith(("_rate", "_ratio"))
                                else True for k in (hover or {})},
                    labels={"count": x_title, **(hover or {})})
    extra = "".join(
        f"<br>{label}: %{{customdata[{i}]:{'.1%' if k.endswith(('_rate', '_ratio')) else ','}}}"
        for i, (k, label) in enumerate((hover or {}).items()))
    figure.update_traces(hovertemplate="%{y}<br>%{fullData.name}: %{x:,} "
                         + x_title + extra + "<extra></extra>")
    _layout(figure, y_title=y_title, x_title=x_title)
    figure.update_layout(hovermode="closest", legend=TOP_LEGEND,
                         height=max(260, 90 + 26 * len(frame)))
    return figure


@kept
def signed_bars(frame: pd.DataFrame, *, y: str, x: str, x_title: str,
                y_title: str = "", n: str | None = None) -> go.Figure:
    """Horizontal bars of a signed value: green at or above 0, red below."""
    colours = [STATUS_COLOURS["Successful"] if v >= 0
               else STATUS_COLOURS["Failed"] for v in frame[x].fillna(0)]
    figure = go.Figure(go.Bar(
        y=frame[y], x=frame[x], orientation="h", marker_color=colours,
        customdata=frame[[n]] if n else None,
        hovertemplate="%{y}: %{x:,}" + (
            " (n = %{customdata[0]:,})" if n else "") + "<extra></extra>"))
    figure.update_yaxes(categoryorder="array", categoryarray=list(frame[y]),
                        autorange="reversed")
    _layout(figure, y_title=y_title, x_title=x_title)
    figure.update_layout(hovermode="closest", showlegend=False,
                         height=max(260, 90 + 26 * len(frame)))
    return figure


@kept
def histogram(frame: pd.DataFrame, *, x: str, x_title: str,
              y_title: str = "count", colour: str | None = None,
              colours: dict[str, str] | None = None,
              order: list[str] | None = None, nbins: int | None = None,
              bin_size: float | None = None) -> go.Figure:
    """Stacked histogram of a raw value, optionally coloured by a category."""
    figure = px.histogram(
        frame, x=x, color=colour, nbins=nbins,
        color_discrete_map=colours or STATUS_COLOURS,
        color_discrete_sequence=SERIES,
        category_orders={colour: order} if colour and order else None,
        labels={x: x_title})
    if bin_size:
        figure.update_traces(xbins={"size": bin_size})
    figure.update_traces(hovertemplate=x_title + " %{x}: %{y:,} " + y_title
                         + ("<br>%{fullData.name}" if colour else "")
                         + "<extra></extra>")
    figure.update_layout(barmode="stack", bargap=0.05)
    _layout(figure, y_title=y_title, x_title=x_title)
    figure.update_layout(hovermode="closest")
    return figure


@kept
def binned_histogram(frame: pd.DataFrame, *, start: str, end: str, n: str,
                     x_title: str, y_title: str, colour: str,
                     colours: dict[str, str], order: list[str]
                     ) -> go.Figure:
    """A stacked histogram counted already: one row per category (colour)
    and bin [start, end) with its count n, drawn as bars as wide as their
    bin, categories in `order` (others after, by name)."""
    figure = go.Figure()
    named = sorted(set(frame[colour]) - set(order), key=str)
    for name in [c for c in order if c in set(frame[colour])] + named:
        rows = frame[frame[colour] == name]
        figure.add_trace(go.Bar(
            x=(rows[start] + rows[end]) / 2, y=rows[n],
            width=rows[end] - rows[start], name=str(name),
            marker_color=colours.get(name, "#999999"),
            customdata=list(zip(rows[start], rows[end], strict=True)),
            hovertemplate=x_title + " %{customdata[0]:,}–%{customdata[1]:,}"
            ": %{y:,} " + y_title + "<br>" + str(name) + "<extra></extra>"))
    figure.update_layout(barmode="stack", bargap=0)
    _layout(figure, y_title=y_title, x_title=x_title)
    figure.update_layout(hovermode="closest")
    return figure


@kept
def rate_bars(frame: pd.DataFrame, *, y: str, x: str, n: str,
              x_title: str) -> go.Figure:
    """Horizontal bars of 0-1 rates in %, labelled with their value."""
    figure = px.bar(frame, y=y, x=x, orientation="h", text_auto=".0%",
                    custom_data=[n], color_discrete_sequence=SERIES)
    figure.update_traces(
        hovertemplate="%{y}: %{x:.1%} of n = %{customdata[0]:,}"
        "<extra></extra>")
    figure.update_xaxes(tickformat=".0%", range=[0, 1])
    figure.update_yaxes(categoryorder="array", categoryarray=list(frame[y]),
                        autorange="reversed")
    _layout(figure, y_title="", x_title=x_title)
    figure.update_layout(hovermode="closest",
                         height=max(220, 90 + 34 * len(frame)))
    return figure


@kept
def count_bars(frame: pd.DataFrame, *, x: str, y: str, y_title: str,
               x_title: str = "") -> go.Figure:
    """Plain bars of one count column, in the first series colour."""
    figure = px.bar(frame, x=x, y=y, color_discrete_sequence=SERIES)
    figure.update_traces(hovertemplate="%{x}: %{y:,}<extra></extra>")
    return _layout(figure, y_title=y_title, x_title=x_title)


@kept
def release_gantt(frame: pd.DataFrame, *, release: str, phase: str,
                  planned: tuple[str, str], actual: tuple[str, str],
                  window: tuple | None = None,
                  as_of=None) -> go.Figure:
    """A timeline: one row per release, a bar per phase, planned behind
    (light, wide) and actual in front (solid, narrow), coloured by phase.

    window (start, end) shades the period; as_of draws a "data as of" line.
    """
    phases = list(dict.fromkeys(frame[phase]))
    colour = {p: SERIES[i % len(SERIES)] for i, p in enumerate(phases)}
    rows = list(dict.fromkeys(frame[release]))
    figure = go.Figure()
    for kind, (start, end), width, opacity in (
            ("planned", planned, 0.8, 0.3), ("actual", actual, 0.4, 1.0)):
        for name in phases:
            part = frame[(frame[phase] == name) & frame[start].notna()
                         & frame[end].notna()]
            if part.empty:
                continue
            begin = pd.to_datetime(part[start], utc=True)
            finish = pd.to_datetime(part[end], utc=True)
            figure.add_trace(go.Bar(
                y=part[release], base=begin.dt.tz_localize(None),
                x=(finish - begin).dt.total_seconds() * 1000,
                orientation="h", width=width, opacity=opacity,
                marker_color=colour[name],
                marker_line={"width": 1, "color": colour[name]},
                name=name, legendgroup=name,
                showlegend=kind == "actual",
                customdata=list(zip(
                    begin.dt.strftime("%d %b %Y %H:%M"),
                    finish.dt.strftime("%d %b %Y %H:%M"), strict=True)),
                hovertemplate=f"%{{y}}<br>{name} {kind}: "
                "%{customdata[0]} – %{customdata[1]} UTC<extra></extra>"))
    figure.update_layout(barmode="overlay")
    figure.update_xaxes(type="date")
    figure.update_yaxes(categoryorder="array", categoryarray=rows,
                        autorange="reversed")
    if window is not None:
        figure.add_vrect(x0=window[0], x1=window[1], fillcolor="#56B4E9",
                         opacity=0.08, line_width=0, layer="below")
    if as_of is not None:
        figure.add_vline(x=pd.Timestamp(as_of).tz_localize(None)
                         if pd.Timestamp(as_of).tzinfo else as_of,
                         line_dash="dot", line_color="#000000")
    _layout(figure, y_title="", x_title="date (UTC); light bar = planned, "
            "solid = actual")
    figure.update_layout(hovermode="closest", legend=TOP_LEGEND,
                         height=max(300, 110 + 28 * len(rows)))
    return figure


# a change calendar's colours, Okabe-Ito, and what they mean in words
RISK_COLOURS = {"Very high": "#D55E00", "High": "#E69F00",
                "Moderate": "#F0E442", "Low": "#009E73",
                "No risk given": "#999999"}
TYPE_COLOURS = {"Emergency": "#D55E00", "Normal": "#0072B2",
                "Standard": "#56B4E9"}
WINDOW_COLOURS = {"freeze": "#56B4E9", "blackout": "#999999",
                  "maintenance": "#009E73"}
WINDOW_WORDS = {"freeze": "Change freeze", "blackout": "Blackout",
                "maintenance": "Maintenance window"}


def lanes(starts: pd.Series, ends: pd.Series) -> list[int]:
    """Lane of each bar (in start order): the first lane free at its start,
    so bars that overlap in time never share a lane."""
    free_at: list = []
    lane = [0] * len(starts)
    for i in sorted(range(len(starts)), key=lambda k: (starts.iloc[k], k)):
        for j, until in enumerate(free_at):
            if until <= starts.iloc[i]:
                free_at[j], lane[i] = ends.iloc[i], j
                break
        else:
            free_at.append(ends.iloc[i])
            lane[i] = len(free_at) - 1
    return lane


def merged(starts: pd.Series, ends: pd.Series) -> list[tuple]:
    """The union of intervals [start, end) as sorted, disjoint intervals."""
    bands: list[list] = []
    for start, end in sorted(zip(starts, ends, strict=True)):
        if bands and start <= bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], end)
        else:
            bands.append([start, end])
    return [tuple(b) for b in bands]


@kept
def change_calendar(frame: pd.DataFrame, *, colour: str,
                    colours: dict[str, str], period: tuple,
                    windows: pd.DataFrame, tz: str,
                    min_hours: float = 0) -> go.Figure:
    """Planned changes as bars on a calendar (x: time in tz; y: lanes, a
    change per lane at a time), coloured by the frame's `colour` column;
    emergency changes hatched, colliding ones outlined in black, those past
    their planned start and not started marked ×; freeze, blackout and
    maintenance windows shaded behind. A bar is drawn at least min_hours
    wide so short changes show; the hover gives the plan itself.
    customdata[0] of each bar is its change_id (for a selection)."""
    def local(values):
        return pd.to_datetime(values, utc=True).dt.tz_convert(tz) \
            .dt.tz_localize(None)

    start, end = local(frame["planned_start_at"]), local(frame["planned_end_at"])
    shown_end = pd.concat([end, start + pd.Timedelta(hours=min_hours)],
                          axis=1).max(axis=1)
    frame = frame.assign(_start=start, _end=shown_end,
                         _lane=lanes(start, shown_end))
    figure = go.Figure()
    for name, hue in colours.items():
        part = frame[frame[colour] == name]
        if part.empty:
            continue
        figure.add_trace(go.Bar(
            y=part["_lane"], base=part["_start"],
            x=(part["_end"] - part["_start"]).dt.total_seconds() * 1000,
            orientation="h", width=0.8, name=name, marker_color=hue,
            legendgroup=name, showlegend=False,
            marker_pattern_shape=["/" if e else "" for e in
                                  part["is_emergency"]],
            marker_pattern_fgcolor="#000000",
            marker_line_color=["#000000" if c else hue for c in
                               part["n_collisions"] > 0],
            marker_line_width=[3 if c else 0.5 for c in
                               part["n_collisions"] > 0],
            customdata=part[["change_id", "hover"]].to_numpy(),
            hovertemplate="%{customdata[1]}<extra></extra>"))
    # the legend in words: each colour plain, then the two marks on bars
    used = set(frame[colour])
    for label, hue, pattern, line in (
            *((n, h, "", 0) for n, h in colours.items() if n in used),
            ("Emergency (hatched)", "#DDDDDD", "/", 0.5),
            ("Collides (black outline)", "#DDDDDD", "", 3)):
        figure.add_trace(go.Bar(
            x=[None], y=[None], orientation="h", name=label,
            legendgroup=label, marker_color=hue,
            marker_pattern_shape=pattern, marker_pattern_fgcolor="#000000",
            marker_line_color="#000000", marker_line_width=line,
            hoverinfo="skip"))
    late = frame[frame["is_past_planned_start"]]
    if not late.empty:
        figure.add_trace(go.Scatter(
            x=late["_start"], y=late["_lane"], mode="markers",
            marker={"symbol": "x", "size": 9, "color": "#000000"},
            name="Past planned start, not started",
            customdata=late[["change_id", "hover"]].to_numpy(),
            hovertemplate="%{customdata[1]}<extra></extra>"))
    # one band per stretch of time a kind of window covers: windows of many
    # applications or environments at the same time shade once, not darker
    for kind, part in windows.groupby("kind", sort=False):
        bands = merged(local(part["start_at"]), local(part["end_at"]))
        for i, (x0, x1) in enumerate(bands):
            figure.add_vrect(
                x0=x0, x1=x1, fillcolor=WINDOW_COLOURS.get(kind, "#999999"),
                opacity=0.25, line_width=0, layer="below",
                name=WINDOW_WORDS.get(kind, kind), legendgroup=kind,
                showlegend=i == 0)
    n_lanes = int(frame["_lane"].max()) + 1 if len(frame) else 1
    figure.update_layout(barmode="overlay")
    days = (period[1] - period[0]).days
    figure.update_xaxes(type="date", range=[period[0], period[1]],
                        showgrid=True, dtick=86_400_000, tickangle=0,
                        tickformat="%d<br>%a" if days > 7 else "%a %d %b",
                        ticklabelmode="period", tickfont={"size": 10})
    figure.update_yaxes(visible=False, range=[n_lanes - 0.5, -0.5])
    _layout(figure, y_title="", x_title=f"planned time ({tz})")
    figure.update_layout(hovermode="closest", legend=TOP_LEGEND,
                         height=max(320, 140 + 22 * n_lanes))
    return figure
