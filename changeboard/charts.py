"""Shared plotly figures: a frame in, a figure out, in one colour-blind-safe palette."""
from __future__ import annotations

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


def _layout(figure: go.Figure, *, y_title: str, x_title: str = "") -> go.Figure:
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend_title_text="",
        legend={"orientation": "h", "y": -0.2}, hovermode="x unified",
        xaxis_title=x_title, yaxis_title=y_title, height=340)
    return figure


def stacked_bars(frame: pd.DataFrame, *, x: str, columns: dict[str, str],
                 y_title: str, x_title: str = "") -> go.Figure:
    """Stacked bars of several count columns, named and coloured by status."""
    long = frame.melt(id_vars=[x], value_vars=list(columns),
                      var_name="series", value_name="count")
    long["series"] = long["series"].map(columns)
    figure = px.bar(long, x=x, y="count", color="series",
                    color_discrete_map=STATUS_COLOURS,
                    category_orders={"series": list(columns.values())})
    return _layout(figure, y_title=y_title, x_title=x_title)


def rate_line(frame: pd.DataFrame, *, x: str, y: str, n: str, y_title: str,
              x_title: str = "") -> go.Figure:
    """A 0-1 rate as a percentage line; the hover shows the n behind each point."""
    figure = px.line(frame, x=x, y=y, markers=True, custom_data=[n],
                     color_discrete_sequence=SERIES)
    figure.update_traces(
        hovertemplate="%{y:.1%} of n = %{customdata[0]:,}<extra></extra>")
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _layout(figure, y_title=y_title, x_title=x_title)
