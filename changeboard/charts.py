"""Shared plotly figures: a frame in, a figure out, in one colour-blind-safe palette."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import threading
import weakref
import zlib
from collections import OrderedDict

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.basevalidators import (
    copy_to_readonly_numpy_array,
    is_homogeneous_array,
    is_none_or_typed_array_spec,
    to_scalar_or_list,
)

from changeboard import words
from reports.text import instants

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
        if isinstance(made, go.Figure):
            _keep_spec(made)
        with _figures_lock:
            _figures[key] = made
            while len(_figures) > FIGURES_KEPT:
                _figures.popitem(last=False)
        return made
    return figure


# --- what st.plotly_chart sends of a kept figure, made once ----------------
# On every rerun st.plotly_chart turns the figure into a dict (a deep copy of
# every value) and the dict into JSON: 5-20 ms a chart, seven charts on the
# Changes page. A kept figure is never changed, so its dict and JSON are
# made once: id(figure) -> [weak reference to it, its dict or None] and
# id(dict) -> [that dict, its JSON or None]; every other figure and dict
# goes through plotly as before.
_SPECS: dict[int, list] = {}
_JSON: dict[int, list] = {}
_spec_lock = threading.Lock()


def _keep_spec(fig: go.Figure) -> None:
    _install_spec_cache()
    _SPECS[id(fig)] = [weakref.ref(fig), None]
    weakref.finalize(fig, _forget_spec, id(fig))


def _forget_spec(fig_id: int) -> None:
    entry = _SPECS.pop(fig_id, None)
    if entry is not None and entry[1] is not None:
        _JSON.pop(id(entry[1]), None)


def _install_spec_cache() -> None:
    """Wrap the two plotly functions st.plotly_chart calls (once)."""
    import plotly.tools
    with _spec_lock:
        if getattr(plotly.tools.return_figure_from_figure_or_data,
                   "changeboard_kept", False):
            return
        as_dict = plotly.tools.return_figure_from_figure_or_data
        to_json = pio.to_json

        def kept_dict(figure_or_data, validate_figure):
            entry = _SPECS.get(id(figure_or_data))
            if entry is None or entry[0]() is not figure_or_data:
                return as_dict(figure_or_data, validate_figure)
            if entry[1] is None:
                made = as_dict(figure_or_data, validate_figure)
                _JSON[id(made)] = [made, None]
                entry[1] = made
            return entry[1]

        def kept_json(fig, *args, **kwargs):
            entry = _JSON.get(id(fig))
            if entry is None or entry[0] is not fig or args or \
                    kwargs != {"validate": False}:
                return to_json(fig, *args, **kwargs)
            if entry[1] is None:
                entry[1] = to_json(fig, validate=False)
            return entry[1]

        kept_dict.changeboard_kept = True
        plotly.tools.return_figure_from_figure_or_data = kept_dict
        pio.to_json = kept_json


# --- building a figure ------------------------------------------------------
# Every builder below writes its figure as plain dicts (traces and one
# layout) and hands them to go.Figure once, with plotly's per-value
# validation off: the figures are the ones plotly express and update_* drew
# before (traces, order, names, values, colours, hovers, layout), built in a
# fraction of the time (plotly express took 50-300 ms a figure, a dict
# figure takes a few). Values go in as validation would have left them
# (_array); tests/test_charts_built.py rebuilds each figure with validation
# on and checks that plotly accepts it unchanged.


class _Shared(np.ndarray):
    """A read-only array that a deep copy shares instead of copying: plotly
    deep-copies a figure's values when it builds it and again for each
    st.plotly_chart (to_dict), item by item for an array of objects (the
    hover texts and ids in customdata: 0.1 s for 12,000 bookings)."""

    def __deepcopy__(self, memo):
        if self.flags.writeable:
            return super().__deepcopy__(memo)
        return self


def _array(values):
    """A data array as plotly's validation keeps it (DataArrayValidator): a
    column, frame or array as a read-only numpy array (time zones dropped,
    local time shown; shared by deep copies), a list as a list of plain
    scalars."""
    if values is None or is_none_or_typed_array_spec(values):
        return values
    if is_homogeneous_array(values):
        return copy_to_readonly_numpy_array(values).view(_Shared)
    return to_scalar_or_list(values)


def _take(array: np.ndarray, rows) -> np.ndarray:
    """These rows of a read-only array, read-only too."""
    part = array[rows]
    part.flags.writeable = False
    return part


MARKUP = "_markup"  # a trace key: its customdata is hover markup, escaped


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A figure of these traces and this layout (plain dicts, values as
    _array leaves them), on the default template as every figure is; the
    traces' axis values, names and hover data shown as written (_as_text),
    but a trace's customdata that is markup made from escaped values
    (trace[MARKUP], e.g. the calendar's hovers)."""
    for trace in data:
        for key in ("x", "y", "name", "customdata"):
            if key in trace and not (key == "customdata"
                                     and trace.get(MARKUP)):
                trace[key] = _as_text(trace[key])
        trace.pop(MARKUP, None)
    for name, axis in layout.items():  # an axis's order names its values
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict) \
                and "categoryarray" in axis:
            axis["categoryarray"] = _as_text(axis["categoryarray"])
    _inked(layout)
    # the chart's toolbar keeps its download as PNG alone: zoom, pan and
    # select tools were 8 Tab stops a chart, 56 on the Changes page (an
    # accessibility review); a drag still zooms, a double click resets it,
    # and a click still picks a bar
    modebar = layout.setdefault("modebar", {})
    modebar.setdefault("remove", MODEBAR_REMOVED)
    # its icons in INK, the one under the pointer in the app's blue: they
    # were #C7C7C7, 1.7:1 on white (a re-check)
    modebar.setdefault("color", INK)
    modebar.setdefault("activecolor", "#0072B2")
    figure = go.Figure({"data": data, "layout": layout}, _validate=False)
    # later changes to the figure (none of ours) are validated as usual
    figure._validate = True
    figure._layout_obj._validate = True
    for trace in figure.data:
        trace._validate = True
    return figure


# the text of axes and legends: Streamlit's chart theme draws it in
# #808495, 3.72:1 on white, where 4.5:1 is asked (an accessibility
# review); this is 9.7:1. Set on each axis, as the theme sets it there
INK = "#444444"


MODEBAR_REMOVED = ["zoom", "pan", "select", "lasso", "zoomin", "zoomout",
                   "autoscale", "resetscale"]


def _inked(layout: dict) -> None:
    """Every axis's tick labels and title, and the legend, in INK, where
    the layout sets no colour of its own."""
    axes = {name for name in layout if name.startswith(("xaxis", "yaxis"))}
    for name in axes | {"xaxis", "yaxis"}:
        axis = layout.get(name)
        if axis is None:
            axis = layout[name] = {}
        if not isinstance(axis, dict):
            continue
        axis.setdefault("tickfont", {}).setdefault("color", INK)
        title = axis.get("title")
        if isinstance(title, str):
            title = axis["title"] = {"text": title}
        if title is None:
            title = axis["title"] = {}
        if isinstance(title, dict):
            title.setdefault("font", {}).setdefault("color", INK)
    legend = layout.setdefault("legend", {})
    if isinstance(legend, dict):
        legend.setdefault("font", {}).setdefault("color", INK)
        title = legend.get("title")
        if isinstance(title, dict):
            title.setdefault("font", {}).setdefault("color", INK)


def _as_text(values):
    """Values (an axis's, a name, hover data: a column or a table) as
    Plotly shows them literally: '<', '>' and '&' as entities. Plotly
    reads a subset of HTML in an axis's labels, a legend and a hover: a
    team named '<a href="https://...">Payments</a>' was a link on the
    Changes page's chart (a security review), and a release so named in a
    booking's hover. ui.pick_point reads a clicked value back
    (html.unescape). Values with none of them are left as they are (the
    shared read-only array)."""
    if isinstance(values, str):
        return _escaped(values)
    if isinstance(values, np.ndarray) and values.dtype.kind in "OU":
        items = values.ravel().tolist()
    elif isinstance(values, list):
        items = values
    else:
        return values
    if not any(_marked(v) for v in items):
        return values
    if isinstance(values, np.ndarray):
        escaped = np.array([_escaped(v) for v in items], dtype=object)
        return _array(escaped.reshape(values.shape))
    return [_as_text(v) if isinstance(v, (list, tuple)) else _escaped(v)
            for v in items]


def _marked(value) -> bool:
    """Whether a value (or a row of values) holds '<', '>' or '&'."""
    if isinstance(value, (list, tuple)):
        return any(_marked(v) for v in value)
    return isinstance(value, str) and ("<" in value or ">" in value
                                       or "&" in value)


def _escaped(value):
    return html.escape(value, quote=False) if isinstance(value, str) \
        else value


def _load_plotly() -> None:
    """Load, when this module is imported, what plotly loads on its first
    figure and first JSON (its table of validators, the default template,
    the trace and layout classes, narwhals' pandas support, 0.1-0.2 s): a
    server pays it once either way, and a page's first figure then takes
    milliseconds like the others."""
    figure = _figure([{"type": kind, "x": _array(pd.Series([0.0]))}
                      for kind in ("bar", "scatter", "histogram", "heatmap")],
                     {"xaxis": {"type": "date"}})
    pio.to_json(figure.to_dict(), validate=False)


# plotly's toolbar (the modebar, 26 px tall, 2 px from the top) and
# Streamlit's fullscreen button sit over the right end of a chart's top 28
# px: a legend across the top starts below them, so a long one (the release
# timeline's phases at 1280 px wide) never runs under them
TOOLBAR_PX = 32


def top_legend(height: int) -> dict:
    """A horizontal legend across the top of a figure `height` pixels tall:
    its top TOOLBAR_PX below the figure's (yref container), however many
    rows it wraps to; plotly widens the top margin to hold it, so the plot
    starts below it. Never over the x axis title either."""
    return {"title": {"text": ""}, "orientation": "h", "x": 0,
            "yref": "container", "y": 1 - TOOLBAR_PX / height,
            "yanchor": "top"}


def _layout(*, y_title: str, x_title: str = "", express: bool = False,
            **more) -> dict:
    """The shared layout: the legend above the plot, clear of the toolbar
    (top_legend), small margins, a unified hover. express: the axes and
    legend as plotly express set them (anchors, domains, trace group gap)."""
    layout = {
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {},
        "hovermode": "x unified", "height": 340,
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}}}
    if express:
        layout["xaxis"].update(anchor="y", domain=[0.0, 1.0])
        layout["yaxis"].update(anchor="x", domain=[0.0, 1.0])
        layout["legend"]["tracegroupgap"] = 0
    for key, value in more.items():
        if isinstance(value, dict) and key in layout:
            layout[key].update(value)
        else:
            layout[key] = value
    layout["legend"] = {**top_legend(layout["height"]), **layout["legend"]}
    return layout


def count_axis(peak) -> dict:
    """An axis of counts: from 0, and a tick at every whole number when the
    largest count is under 10 (plotly's own ticks for 0-3 releases read 0,
    0.2, 0.4 ... or 0.5: half a release); larger counts get whole ticks from
    plotly's own choice (1, 2, 5, 10 ... apart)."""
    axis = {"rangemode": "tozero"}
    if pd.isna(peak) or peak < 10:
        axis.update(tick0=0, dtick=1)
    return axis


# whole numbers an axis of them shows at least (whole_axis)
WHOLE_SPAN = 7
# ticks of a whole_axis at most, and the whole steps between them
WHOLE_TICKS = 12
WHOLE_STEPS = [m * 10 ** e for e in range(12) for m in (1, 2, 5)]


def whole_axis(values) -> dict:
    """An axis of whole numbers (days of slip), a bar centred on each: its
    ticks on whole numbers only, 1, 2, 5, 10 ... apart (at most
    WHOLE_TICKS of them, one at 0 when it is in view), over the values and
    half a bar either side, at least WHOLE_SPAN numbers wide so that one
    value draws a bar, not the chart's width. Plotly's own ticks for one
    value read 9.6, 9.8 ... 10.4, or −0.4 ... 0.4: fractions of a day."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    lo, hi = (int(np.floor(finite.min())), int(np.ceil(finite.max()))) \
        if len(finite) else (0, 0)
    spare = max(0, WHOLE_SPAN - (hi - lo + 1))
    lo, hi = lo - spare // 2, hi + spare - spare // 2
    step = next(s for s in WHOLE_STEPS if (hi - lo) / s < WHOLE_TICKS)
    return {"tick0": 0, "dtick": step, "range": [lo - 0.5, hi + 0.5]}


def _express(trace_type: str, **props) -> dict:
    """A trace as plotly express writes it (one colour, no legend entry
    unless named), before the builder's own properties."""
    name = props.get("name", "")
    trace = {"type": trace_type, "legendgroup": name, "name": name,
             "showlegend": name != "", "xaxis": "x", "yaxis": "y"}
    if trace_type == "bar":
        trace["textposition"] = "auto"
    trace.update(props)
    return trace


def _groups(frame: pd.DataFrame, column: str, order: list | None = None
            ) -> list[tuple]:
    """(value, row positions) of each value of `column`, as plotly express
    groups a colour: values in `order`, then in order of appearance; rows
    without a value left out, unless the column holds one value only (then
    every row)."""
    uniques = list(pd.unique(frame[column]))
    if len(uniques) == 1:
        return [(uniques[0], np.arange(len(frame)))]
    found = frame[[column]].reset_index(drop=True).groupby(
        column, sort=False, observed=True).indices if len(frame) else {}
    return [(value, found[value]) for value in
            dict.fromkeys([*(order or []), *uniques]) if value in found]


def _colour_map(values: list, colours: dict, sequence: list) -> dict:
    """Plotly express's colours of these values: colours' own, then the
    sequence in turn for the others."""
    mapping = dict(colours)
    for value in values:
        if value not in mapping:
            mapping[value] = sequence[len(mapping) % len(sequence)]
    return mapping


@kept
def stacked_bars(frame: pd.DataFrame, *, x: str, columns: dict[str, str],
                 y_title: str, x_title: str = "") -> go.Figure:
    """Stacked bars of several count columns, named and coloured by status."""
    xs = _array(frame[x])
    data = []
    for column, name in columns.items():
        trace = {"type": "bar", "x": xs, "y": _array(frame[column]),
                 # the unit beside the name, not after the count: "Failed
                 # (implemented changes): 1", never "1 implemented changes"
                 "name": name, "hovertemplate": "%{fullData.name} ("
                 + y_title + "): %{y:,}<extra></extra>"}
        if STATUS_COLOURS.get(name) is not None:
            trace["marker"] = {"color": STATUS_COLOURS[name]}
        data.append(trace)
    peak = frame[list(columns)].sum(axis=1).max() if len(frame) else 0
    return _figure(data, _layout(y_title=y_title, x_title=x_title,
                                 barmode="relative",
                                 yaxis=count_axis(peak)))


# a rate over fewer than SMALL_N records is a small sample: its point is
# grey and its hover says so (words.SMALL_N, the bound the Overview's
# deltas and the CAB pack's KPIs use too)
SMALL_N = words.SMALL_N
SMALL_N_COLOUR = "#999999"


def sparkline(frame: pd.DataFrame, column: str) -> list[float]:
    """A card's small line of `column` over the complete periods of
    `frame` (a cut first or last period would dip). A count is 0 in a
    period without rows; a rate there is not known (its n is 0), so that
    period has no point rather than a 0% that reads as every change
    failing. Nor has a rate's period of too few records to read beside
    the others: under SMALL_N and a tenth of the busiest period's n.
    BPIC 2014's July 2013, 1 emergency change of 15 beside months of
    2,300 to 3,100 (and a tail of months of 1 to 4), drew the Emergency
    ratio's line as a spike, which a line cannot grey as the Changes
    page's chart does; a sample whose every week holds under 30 changes
    keeps its points but the nearly empty ones."""
    complete = frame[frame["is_complete"]] if "is_complete" in frame else frame
    if column.startswith("n_"):
        return complete[column].fillna(0).astype(float).tolist()
    if "n" in complete and len(complete):
        n = complete["n"].astype(float)
        complete = complete[~((n < SMALL_N) & (n < n.max() / 10))]
    return complete[column].dropna().astype(float).tolist()


def _small(count) -> bool:
    """Whether a rate of `count` records is a small sample (NULL, 0: no
    rate at all, so no point to grey)."""
    return count is not None and not pd.isna(count) and 0 < count < SMALL_N


def small_n_said(counts: pd.Series, records: str) -> str:
    """What a rate line's caption adds when some point rates fewer than
    SMALL_N records (`records`: 'changes'): ' A grey point rates fewer than
    30 changes: a small sample.'; '' when none does."""
    if not any(_small(c) for c in counts.tolist()):
        return ""
    return f" A grey point rates fewer than {SMALL_N} {records}: a small sample."


@kept
def rate_line(frame: pd.DataFrame, *, x: str, y: str, n: str, y_title: str,
              x_title: str = "") -> go.Figure:
    """A 0-1 rate as a percentage line; the hover shows the n behind each
    point. Its ticks keep up to two decimals, trailing zeros trimmed (d3's
    '~'): an emergency ratio near 0.2 % read '0%' on every tick. A period
    the dates cut (is_complete false, if the frame says) is an open
    circle: its rate stands on a part of the period's changes. A rate of
    fewer than SMALL_N records is a grey point, its hover saying it is a
    small sample."""
    symbol = "circle"
    if "is_complete" in frame:
        symbol = ["circle-open" if complete is False else "circle"
                  for complete in frame["is_complete"].tolist()]
    counts = [None if pd.isna(c) else int(c) for c in frame[n].tolist()]
    small = [_small(c) for c in counts]
    notes = [f"<br>fewer than {SMALL_N}: a small sample" if few else ""
             for few in small]
    trace = _express(
        "scatter", x=_array(frame[x]), y=_array(frame[y]),
        customdata=_array(pd.DataFrame({"n": counts, "note": notes})),
        **{MARKUP: True},  # the notes are ours
        mode="lines+markers",
        orientation="v", line={"color": SERIES[0], "dash": "solid"},
        marker={"symbol": symbol, "color": [
            SMALL_N_COLOUR if few else SERIES[0] for few in small]},
        hovertemplate="%{y:.1%} of n = %{customdata[0]:,}%{customdata[1]}"
                      "<extra></extra>")
    return _figure([trace], _layout(
        y_title=y_title, x_title=x_title, express=True,
        yaxis={"tickformat": ".2~%", "rangemode": "tozero"}))


def _rate(key: str) -> bool:
    return key.endswith(("_rate", "_ratio"))


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
    hover = hover or {}
    extra = "".join(
        f"<br>{label}: %{{customdata[{i}]:{'.1%' if _rate(k) else ','}}}"
        for i, (k, label) in enumerate(hover.items()))
    hovertemplate = ("%{y}<br>%{fullData.name} (" + x_title + "): %{x:,}"
                     + extra + "<extra></extra>")
    names = list(dict.fromkeys(columns.values()))
    colour = _colour_map(names, colours or STATUS_COLOURS, SERIES)
    # the counts as one long column (all series' values of one dtype)
    counts = frame[list(columns)].melt(value_vars=list(columns))["value"]
    ys = _array(frame[y])
    shown = [k for k in hover if k not in ("count", y)]
    customdata = _array(frame[list(dict.fromkeys(shown))]) if shown else None
    data = []
    if len(frame):
        for i, name in enumerate(columns.values()):
            part = counts.iloc[i * len(frame):(i + 1) * len(frame)]
            trace = _express(
                "bar", name=str(name), x=_array(part), y=ys,
                orientation="h",
                marker={"color": colour[name], "pattern": {"shape": ""}},
                hovertemplate=hovertemplate)
            if customdata is not None:
                trace["customdata"] = customdata
            data.append(trace)
    peak = frame[list(columns)].sum(axis=1).max() if len(frame) else 0
    return _figure(data, _layout(
        y_title=y_title, x_title=x_title, express=True, barmode="relative",
        xaxis=count_axis(peak),
        yaxis={"categoryorder": "array",
               "categoryarray": _array(list(reversed(list(frame[y]))))},
        hovermode="closest", height=max(260, 90 + 26 * len(frame))))


@kept
def signed_bars(frame: pd.DataFrame, *, y: str, x: str, x_title: str,
                y_title: str = "", n: str | None = None) -> go.Figure:
    """Horizontal bars of a signed value: green at or above 0, red below."""
    colours = [STATUS_COLOURS["Successful"] if v >= 0
               else STATUS_COLOURS["Failed"] for v in frame[x].fillna(0)]
    trace = {"type": "bar", "y": _array(frame[y]), "x": _array(frame[x]),
             "orientation": "h", "marker": {"color": colours},
             "hovertemplate": "%{y}: %{x:,}" + (
                 " (n = %{customdata[0]:,})" if n else "")
             + "<extra></extra>"}
    if n:
        trace["customdata"] = _array(frame[[n]])
    return _figure([trace], _layout(
        y_title=y_title, x_title=x_title,
        yaxis={"categoryorder": "array",
               "categoryarray": _array(list(frame[y])),
               "autorange": "reversed"},
        hovermode="closest", showlegend=False,
        height=max(260, 90 + 26 * len(frame))))


@kept
def histogram(frame: pd.DataFrame, *, x: str, x_title: str,
              y_title: str = "count", colour: str | None = None,
              colours: dict[str, str] | None = None,
              order: list[str] | None = None, nbins: int | None = None,
              bin_size: float | None = None,
              weight: str | None = None,
              whole: bool = False) -> go.Figure:
    """Stacked histogram of a raw value, optionally coloured by a category.
    `weight`: a column of counts, each row standing for that many values
    (rows counted already: the browser still bins them, into the same bars
    as the values one by one). `whole`: the values are whole numbers (days):
    a bar of each, centred on it, on a whole_axis (bin_size 1)."""
    if whole:
        bin_size = 1
    hovertemplate = (x_title + " %{x}: %{y:,} " + y_title
                     + ("<br>%{fullData.name}" if colour else "")
                     + "<extra></extra>")
    if colour:
        groups = _groups(frame, colour, order)
        mapping = _colour_map(
            list(dict.fromkeys([*(order or []),
                                *pd.unique(frame[colour])])),
            colours or STATUS_COLOURS, SERIES)
    else:
        groups, mapping = [("", np.arange(len(frame)))], {"": SERIES[0]}
    xs = _array(frame[x])
    weights = None if weight is None else _array(frame[weight])
    data = []
    for value, rows in groups:
        trace = _express(
            "histogram", name=str(value), x=_take(xs, rows), bingroup="x",
            orientation="v",
            marker={"color": mapping[value], "pattern": {"shape": ""}},
            hovertemplate=hovertemplate)
        if weights is not None:
            trace.update(y=_take(weights, rows), histfunc="sum")
        if nbins:
            trace["nbinsx"] = nbins
        if bin_size:
            trace["xbins"] = {"size": bin_size}
        data.append(trace)
    counted = frame[x].notna()
    values = frame.loc[counted, x]
    xaxis = {}
    if whole:
        xaxis = whole_axis(values)
        if len(values):  # every trace's bins from the same start
            for trace in data:
                trace["xbins"]["start"] = float(values.min()) - 0.5
    each = (pd.Series(1, index=values.index) if weight is None
            else frame.loc[counted, weight])
    # the tallest bar, its bins taken as whole multiples of bin_size
    # (plotly places them itself; without a size, every value bounds it)
    peak = each.groupby(values // bin_size).sum().max() if bin_size and len(
        values) else each.sum()
    return _figure(data, _layout(
        y_title=y_title, x_title=x_title, express=True, barmode="stack",
        bargap=0.05, hovermode="closest", yaxis=count_axis(peak),
        xaxis=xaxis))


@kept
def binned_histogram(frame: pd.DataFrame, *, start: str, end: str, n: str,
                     x_title: str, y_title: str, colour: str,
                     colours: dict[str, str], order: list[str]
                     ) -> go.Figure:
    """A stacked histogram counted already: one row per category (colour)
    and bin [start, end) with its count n, drawn as bars as wide as their
    bin, categories in `order` (others after, by name)."""
    data = []
    named = sorted(set(frame[colour]) - set(order), key=str)
    for name in [c for c in order if c in set(frame[colour])] + named:
        rows = frame[frame[colour] == name]
        data.append({
            "type": "bar", "x": _array((rows[start] + rows[end]) / 2),
            "y": _array(rows[n]), "width": _array(rows[end] - rows[start]),
            "name": str(name),
            "marker": {"color": colours.get(name, "#999999")},
            "customdata": _array(list(zip(rows[start], rows[end],
                                          strict=True))),
            "hovertemplate": x_title + " %{customdata[0]:,}–"
            "%{customdata[1]:,}: %{y:,} " + y_title + "<br>" + str(name)
            + "<extra></extra>"})
    return _figure(data, _layout(y_title=y_title, x_title=x_title,
                                 barmode="stack", bargap=0,
                                 hovermode="closest"))


@kept
def rate_bars(frame: pd.DataFrame, *, y: str, x: str, n: str,
              x_title: str) -> go.Figure:
    """Horizontal bars of 0-1 rates in %, labelled with their value."""
    trace = _express(
        "bar", x=_array(frame[x]), y=_array(frame[y]), orientation="h",
        texttemplate="%{x:.0%}", customdata=_array(frame[[n]]),
        marker={"color": SERIES[0], "pattern": {"shape": ""}},
        hovertemplate="%{y}: %{x:.1%} of n = %{customdata[0]:,}"
        "<extra></extra>")
    return _figure([trace], _layout(
        y_title="", x_title=x_title, express=True, barmode="relative",
        xaxis={"tickformat": ".0%", "range": [0, 1]},
        yaxis={"categoryorder": "array",
               "categoryarray": _array(list(frame[y])),
               "autorange": "reversed"},
        hovermode="closest", height=max(220, 90 + 34 * len(frame))))


@kept
def count_bars(frame: pd.DataFrame, *, x: str, y: str, y_title: str,
               x_title: str = "") -> go.Figure:
    """Plain bars of one count column, in the first series colour."""
    trace = _express(
        "bar", x=_array(frame[x]), y=_array(frame[y]), orientation="v",
        marker={"color": SERIES[0], "pattern": {"shape": ""}},
        hovertemplate="%{x}: %{y:,}<extra></extra>")
    return _figure([trace], _layout(y_title=y_title, x_title=x_title,
                                    express=True, barmode="relative",
                                    yaxis=count_axis(frame[y].max())))


def _vrect(x0, x1, **props) -> dict:
    """The shape figure.add_vrect draws: x0-x1 over the plot's height."""
    return {"type": "rect", "x0": x0, "x1": x1, "xref": "x", "y0": 0,
            "y1": 1, "yref": "y domain", **props}


# a release phase's colour, the same on every page of the timeline and in
# every period (they went to the phases in the order a page listed them:
# Staging vermillion on one page, pink on the next): the phases named after
# the tiers in their order of a release's life, the same stage under
# another name alike; another name by a checksum of it
PHASE_COLOURS = {
    "sit": SERIES[0], "uat": SERIES[1], "perf": SERIES[2],
    "staging": SERIES[3], "pre_prod": SERIES[3], "preprod": SERIES[3],
    "prod": SERIES[4], "dev": SERIES[5], "test": SERIES[6], "dr": SERIES[7],
    "other": SERIES[7]}


def phase_colour(phase) -> str:
    """A release phase's colour (PHASE_COLOURS; another name's by the
    CRC-32 of its text, the same in every process)."""
    known = PHASE_COLOURS.get(str(phase).strip().lower())
    return known or SERIES[zlib.crc32(str(phase).encode()) % len(SERIES)]


@kept
def release_gantt(frame: pd.DataFrame, *, release: str, phase: str,
                  planned: tuple[str, str], actual: tuple[str, str],
                  window: tuple | None = None,
                  as_of=None, names: dict | None = None) -> go.Figure:
    """A timeline: one row per release, a bar per phase, planned behind
    (light, wide) and actual in front (solid, narrow), coloured by phase.

    window (start, end) shades the period; as_of draws a "data as of" line;
    names (phase -> what the legend and hover call it) names the phases in
    words, their colours still those of the phases as they are.
    """
    phases = list(dict.fromkeys(frame[phase]))
    colour = {p: phase_colour(p) for p in phases}
    called = {p: (names or {}).get(p, p) for p in phases}
    # the legend lists the phases in the order they run (by their first
    # planned start), where it listed the plans-only ones first: "Production,
    # Dev, SIT, UAT, Performance, Staging" (a release manager's walkthrough)
    runs = {p: rank for rank, p in enumerate(dict.fromkeys(
        frame.sort_values(planned[0], kind="stable", na_position="last")[
            phase]))}
    rows = list(dict.fromkeys(frame[release]))
    releases = _array(frame[release])
    data = []
    # each phase named once in the legend, by its solid (actual) bar, or by
    # its plan where none has started: a page of releases ahead drew
    # Pre-production's and Production's plans with no legend naming them
    started = set(frame.loc[frame[actual[0]].notna()
                            & frame[actual[1]].notna(), phase])
    for kind, (start, end), width, opacity in (
            ("planned", planned, 0.8, 0.3), ("actual", actual, 0.4, 1.0)):
        # each column converted once, then cut by phase
        shown = (frame[start].notna() & frame[end].notna()).to_numpy()
        begin = pd.to_datetime(frame[start], utc=True)
        finish = pd.to_datetime(frame[end], utc=True)
        base = _array(begin.dt.tz_localize(None))
        length = _array((finish - begin).dt.total_seconds() * 1000)
        # as every page writes a span of instants, in UTC as the axis
        spans = np.array(instants(begin, finish), dtype=object)
        for name in phases:
            part = (frame[phase] == name).to_numpy() & shown
            if not part.any():
                continue
            data.append({
                "type": "bar", "y": _take(releases, part),
                "base": _take(base, part), "x": _take(length, part),
                "orientation": "h", "width": width, "opacity": opacity,
                "marker": {"color": colour[name],
                           "line": {"width": 1, "color": colour[name]}},
                "name": called[name], "legendgroup": name,
                "legendrank": runs[name],
                "showlegend": (kind == "actual") == (name in started),
                "customdata": _array(spans[part]),
                # the phase's name as written (a name from data)
                "hovertemplate": f"%{{y}}<br>{_escaped(called[name])} "
                f"{kind}: %{{customdata}}<extra></extra>"})
    shapes = []
    if window is not None:
        shapes.append(_vrect(window[0], window[1], fillcolor="#56B4E9",
                             opacity=0.08, line={"width": 0},
                             layer="below"))
    if as_of is not None:
        at = (pd.Timestamp(as_of).tz_localize(None)
              if pd.Timestamp(as_of).tzinfo else as_of)
        shapes.append({"type": "line", "x0": at, "x1": at, "xref": "x",
                       "y0": 0, "y1": 1, "yref": "y domain",
                       "line": {"dash": "dot", "color": "#000000"}})
    layout = _layout(
        y_title="", x_title="date (UTC); light bar = planned, solid = actual",
        barmode="overlay", xaxis={"type": "date"},
        yaxis={"categoryorder": "array", "categoryarray": _array(rows),
               "autorange": "reversed"},
        hovermode="closest", height=max(300, 110 + 28 * len(rows)))
    if shapes:
        layout["shapes"] = shapes
    return _figure(data, layout)


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
    # numpy's values, not a Series' .iloc per item (0.1 s for 300 bars)
    begin, finish = np.asarray(starts), np.asarray(ends)
    free_at: list = []
    lane = [0] * len(begin)
    for i in sorted(range(len(begin)), key=lambda k: (begin[k], k)):
        for j, until in enumerate(free_at):
            if until <= begin[i]:
                free_at[j], lane[i] = finish[i], j
                break
        else:
            free_at.append(finish[i])
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


def calendar_bars(changes: pd.DataFrame, tz: str, most: int
                  ) -> pd.DataFrame:
    """At most `most` of the changes (in their draw order: highest risk,
    then earliest) to draw as bars: each day's first (by its planned start
    in tz), then each day's second, and so on, kept in draw order. The
    first `most` of all drew a month of a million changes' very high risk
    changes of its first week alone: the 120 of 9-12 December were not
    drawn and those days looked quiet."""
    if len(changes) <= most:
        return changes
    day = pd.to_datetime(changes["planned_start_at"], utc=True) \
        .dt.tz_convert(tz).dt.date
    turn = day.groupby(day, sort=False).cumcount().to_numpy()
    # by turn, then draw order; the chosen back in draw order
    chosen = np.lexsort((np.arange(len(changes)), turn))[:most]
    return changes.iloc[np.sort(chosen)]


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
    data = []
    for name, hue in colours.items():
        part = frame[frame[colour] == name]
        if part.empty:
            continue
        collides = part["n_collisions"] > 0
        data.append({
            "type": "bar", "y": _array(part["_lane"]),
            "base": _array(part["_start"]),
            "x": _array((part["_end"] - part["_start"]).dt.total_seconds()
                        * 1000),
            "orientation": "h", "width": 0.8, "name": name,
            "legendgroup": name, "showlegend": False,
            "marker": {
                "color": hue,
                "pattern": {"shape": ["/" if e else "" for e in
                                      part["is_emergency"]],
                            "fgcolor": "#000000"},
                "line": {"color": ["#000000" if c else hue
                                   for c in collides],
                         "width": [3 if c else 0.5 for c in collides]}},
            "customdata": _array(part[["change_id", "hover"]].to_numpy()),
            MARKUP: True,  # the hover's values escaped where it is made
            "hovertemplate": "%{customdata[1]}<extra></extra>"})
    # the legend in words: each colour plain, then the two marks on bars
    used = set(frame[colour])
    for label, hue, pattern, line in (
            *((n, h, "", 0) for n, h in colours.items() if n in used),
            ("Emergency (hatched)", "#DDDDDD", "/", 0.5),
            ("Collides (black outline)", "#DDDDDD", "", 3)):
        data.append({
            "type": "bar", "x": [None], "y": [None], "orientation": "h",
            "name": label, "legendgroup": label,
            "marker": {"color": hue,
                       "pattern": {"shape": pattern, "fgcolor": "#000000"},
                       "line": {"color": "#000000", "width": line}},
            "hoverinfo": "skip"})
    late = frame[frame["is_past_planned_start"]]
    if not late.empty:
        data.append({
            "type": "scatter", "x": _array(late["_start"]),
            "y": _array(late["_lane"]), "mode": "markers",
            "marker": {"symbol": "x", "size": 9, "color": "#000000"},
            "name": "Past planned start, not started",
            "customdata": _array(late[["change_id", "hover"]].to_numpy()),
            MARKUP: True,
            "hovertemplate": "%{customdata[1]}<extra></extra>"})
    # one band per stretch of time a kind of window covers: windows of many
    # applications or environments at the same time shade once, not darker
    shapes = []
    for kind, part in windows.groupby("kind", sort=False):
        bands = merged(local(part["start_at"]), local(part["end_at"]))
        shapes += [_vrect(
            x0, x1, fillcolor=WINDOW_COLOURS.get(kind, "#999999"),
            opacity=0.25, line={"width": 0}, layer="below",
            name=WINDOW_WORDS.get(kind, kind), legendgroup=kind,
            showlegend=i == 0) for i, (x0, x1) in enumerate(bands)]
    n_lanes = int(frame["_lane"].max()) + 1 if len(frame) else 1
    days = (period[1] - period[0]).days
    ticks = {"type": "date", "range": [period[0], period[1]],
             "dtick": 86_400_000, "tickangle": 0,
             "tickformat": "%d<br>%a" if days > 7 else "%a %d %b",
             "ticklabelmode": "period", "tickfont": {"size": 10}}
    height = max(320, 140 + 22 * n_lanes)
    layout = _layout(
        y_title="", x_title=f"planned time ({tz})", barmode="overlay",
        xaxis={**ticks, "showgrid": True},
        yaxis={"visible": False, "range": [n_lanes - 0.5, -0.5]},
        hovermode="closest", height=height)
    if height > TALL_PX:
        # the days above the bars too: a crowded week drew 5,000 px of
        # bars with its dates only below them, out of sight
        layout["xaxis2"] = {**ticks, "overlaying": "x", "side": "top",
                            "matches": "x", "showgrid": False}
        data.append({"type": "scatter", "x": [], "y": [], "xaxis": "x2",
                     "showlegend": False, "hoverinfo": "skip"})
    if shapes:
        layout["shapes"] = shapes
    return _figure(data, layout)


TALL_PX = 900  # a chart taller than a screen: its time axis drawn twice


_load_plotly()
