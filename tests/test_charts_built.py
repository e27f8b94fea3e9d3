"""The figures of changeboard.charts and env_charts, as the pages use them.

The builders write plain dicts and build them with plotly's per-value
validation off (charts: "building a figure"): each figure here is rebuilt
with validation on and must come back unchanged; the rest pins what the
pages rely on (trace order and names, the values a click picks, colours,
hovers with n)."""
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from changeboard import charts, env_charts

UTC = "UTC"


def sent(figure: go.Figure) -> dict:
    """The figure as Streamlit sends it (to_dict, then JSON unvalidated)."""
    return json.loads(pio.to_json(figure.to_dict(), validate=False))


def trend():
    return pd.DataFrame({
        "period_label": ["2026-W47", "2026-W48", "2026-W49"],
        "n_successful": [5, 7, 0], "n_successful_with_issues": [1, 0, 0],
        "n_failed": [2, 1, 0], "n": [8, 8, 0],
        "change_success_rate": [0.75, 0.875, np.nan]})


def by_group():
    return pd.DataFrame({
        "dimension_value": ["Payments · 12", "Ledger · 7", "Cards · 3"],
        "n_succeeded": [10, 5, 0], "n_failed": [2, 2, 3],
        "change_success_rate": [10 / 12, 5 / 7, 0.0]})


def scores():
    return pd.DataFrame({"assignment_group": ["Ops", "Dev", "DBA"],
                         "score": [4.5, 0.0, -2.0], "n": [9, 3, 4]})


def slips():
    return pd.DataFrame({"slip_days": [0, 0, 3, 5, -1, 2, 9],
                         "outcome": ["On time", "On time", "Late", "Late",
                                     "On time", "Late", None]})


def counted_slips():
    """slips() counted by slip and outcome, 9 of them late (12 in all)."""
    return pd.DataFrame({"slip_days": [-1, 0, 2, 3, 5, 9, 9],
                         "outcome": ["On time", "On time", "Late", "Late",
                                     "Late", "Late", None],
                         "n": [1, 2, 1, 1, 1, 5, 1]})


def approval_bins():
    return pd.DataFrame({"change_type": ["normal", "standard", "normal",
                                         "other"],
                         "bin_start_hours": [0.0, 0.0, 24.0, 48.0],
                         "bin_end_hours": [24.0, 24.0, 48.0, 72.0],
                         "n": [4, 9, 2, 1]})


def phases():
    t = pd.Timestamp("2026-10-01", tz=UTC)
    day = pd.Timedelta(days=1)
    return pd.DataFrame({
        "release": ["R1", "R1", "R2"], "phase": ["dev", "sit", "dev"],
        "planned_start_at": [t, t + 10 * day, t + 2 * day],
        "planned_end_at": [t + 10 * day, t + 20 * day, t + 9 * day],
        "actual_start_at": [t, t + 12 * day, pd.NaT],
        "actual_end_at": [t + 12 * day, t + 25 * day, pd.NaT]})


def planned_changes():
    t = pd.Timestamp("2026-12-02 08:00", tz=UTC)
    hour = pd.Timedelta(hours=1)
    return pd.DataFrame({
        "change_id": ["CHG1", "CHG2", "CHG3"],
        "planned_start_at": [t, t + hour, t + 30 * hour],
        "planned_end_at": [t + 2 * hour, t + 3 * hour, t + 31 * hour],
        "colour": ["High", "Low", "High"],
        "is_emergency": [True, False, False], "n_collisions": [1, 1, 0],
        "is_past_planned_start": [True, False, False],
        "hover": ["<b>CHG1</b>", "<b>CHG2</b>", "<b>CHG3</b>"]})


def windows():
    t = pd.Timestamp("2026-12-05", tz=UTC)
    return pd.DataFrame({"kind": ["freeze", "freeze", "maintenance"],
                         "start_at": [t, t + pd.Timedelta(days=1), t],
                         "end_at": [t + pd.Timedelta(days=2),
                                    t + pd.Timedelta(days=3),
                                    t + pd.Timedelta(hours=4)]})


def weekly():
    return pd.DataFrame({"environment_id": ["E1", "E1", "E2", "E2"],
                         "environment_name": ["SIT", "SIT", "UAT", "UAT"],
                         "week_label": ["W1", "W2", "W1", "W2"],
                         "n_releases": [1, 3, 0, 12],
                         "booked_hours": [10.0, 0.0, 168.0, 24.0]})


def bookings():
    t = pd.Timestamp("2026-12-01", tz=UTC)
    day = pd.Timedelta(days=1)
    return pd.DataFrame({
        "booking_id": ["B1", "B2", "B3"],
        "environment_id": ["E1", "E2", "E1"],
        "environment_name": ["SIT", "UAT", "SIT"],
        "status": ["pending", "approved", "approved"],
        "release_name": ["Ledger 2.0", None, "Cards 1.1"],
        "phase": ["sit", None, "sit"], "team": ["Core", "Ops", None],
        "clipped_start_at": [t, t + day, t + 2 * day],
        "clipped_end_at": [t + day, t + 3 * day, t + 2 * day
                           + pd.Timedelta(hours=6)],
        "hours_in_window": [24.0, 48.0, 6.0]})


FIGURES = {
    "stacked_bars": lambda: charts.stacked_bars(
        trend(), x="period_label",
        columns={"n_successful": "Successful",
                 "n_successful_with_issues": "Successful with issues",
                 "n_failed": "Failed"},
        y_title="implemented changes", x_title="week"),
    "rate_line": lambda: charts.rate_line(
        trend(), x="period_label", y="change_success_rate", n="n",
        y_title="change success rate", x_title="week"),
    "horizontal_stacked_bars": lambda: charts.horizontal_stacked_bars(
        by_group(), y="dimension_value",
        columns={"n_succeeded": "Successful", "n_failed": "Failed"},
        x_title="implemented changes", y_title="team",
        hover={"change_success_rate": "success rate"}),
    "signed_bars": lambda: charts.signed_bars(
        scores(), y="assignment_group", x="score", x_title="score",
        y_title="team", n="n"),
    "histogram": lambda: charts.histogram(
        slips(), x="slip_days", x_title="slip (days)", y_title="releases",
        colour="outcome", colours={"On time": "#009E73", "Late": "#D55E00"},
        order=["On time", "Late"], bin_size=1),
    "histogram_counted": lambda: charts.histogram(
        counted_slips(), x="slip_days", x_title="slip (days)",
        y_title="releases", colour="outcome",
        colours={"On time": "#009E73", "Late": "#D55E00"},
        order=["On time", "Late"], bin_size=1, weight="n"),
    "histogram_whole": lambda: charts.histogram(
        counted_slips(), x="slip_days", x_title="slip (days)",
        y_title="releases", colour="outcome",
        colours={"On time": "#009E73", "Late": "#D55E00"},
        order=["On time", "Late"], weight="n", whole=True),
    "binned_histogram": lambda: charts.binned_histogram(
        approval_bins(), start="bin_start_hours", end="bin_end_hours",
        n="n", x_title="hours", y_title="approved changes",
        colour="change_type", order=["standard", "normal"],
        colours={"standard": "#0072B2", "normal": "#56B4E9"}),
    "rate_bars": lambda: charts.rate_bars(
        pd.DataFrame({"outcome": ["On schedule", "Overran"],
                      "rate": [0.8, 0.2], "n": [40, 40]}),
        y="outcome", x="rate", n="n", x_title="share"),
    "count_bars": lambda: charts.count_bars(
        pd.DataFrame({"month": ["Oct", "Nov"], "n_releases": [3, 4]}),
        x="month", y="n_releases", y_title="releases"),
    "release_gantt": lambda: charts.release_gantt(
        phases(), release="release", phase="phase",
        planned=("planned_start_at", "planned_end_at"),
        actual=("actual_start_at", "actual_end_at"),
        window=(pd.Timestamp("2026-10-01").date(),
                pd.Timestamp("2026-11-01").date()),
        as_of=pd.Timestamp("2026-10-20 12:00", tz=UTC)),
    "change_calendar": lambda: charts.change_calendar(
        planned_changes(), colour="colour", colours=charts.RISK_COLOURS,
        period=(pd.Timestamp("2026-12-01"), pd.Timestamp("2027-01-01")),
        windows=windows(), tz="Europe/London", min_hours=6),
    "week_heatmap": lambda: env_charts.week_heatmap(
        weekly(), "n_releases", "releases"),
    "booking_gantt": lambda: env_charts.booking_gantt(bookings()),
}


@pytest.mark.parametrize("name", FIGURES)
def test_plotly_validates_each_figure_and_changes_nothing(name):
    figure = FIGURES[name]()
    rebuilt = go.Figure(  # validation on: plotly coerces what it takes
        data=[trace.to_plotly_json() for trace in figure.data],
        layout=figure.layout.to_plotly_json())
    assert sent(rebuilt) == sent(figure)
    assert sent(figure)["layout"]["template"]["layout"]["colorway"]


def test_bars_over_time_pick_their_period_and_name_their_status():
    figure = sent(FIGURES["stacked_bars"]())
    # the page's click picks x (a period label); series in the given order
    assert [t["name"] for t in figure["data"]] == [
        "Successful", "Successful with issues", "Failed"]
    assert [t["marker"]["color"] for t in figure["data"]] == [
        "#009E73", "#E69F00", "#D55E00"]
    assert all(t["x"] == ["2026-W47", "2026-W48", "2026-W49"]
               for t in figure["data"])
    assert figure["layout"]["barmode"] == "relative"
    # the unit by the name: a count of 1 read "1 implemented changes"
    assert figure["data"][0]["hovertemplate"] == (
        "%{fullData.name} (implemented changes): %{y:,}<extra></extra>")


def test_a_rate_line_shows_the_n_behind_each_point():
    line = FIGURES["rate_line"]()
    assert list(line.data[0].x) == ["2026-W47", "2026-W48", "2026-W49"]
    # the n, then the small-sample note (8 < 30: see below)
    assert [c[0] for c in line.data[0].customdata] == [8, 8, 0]
    assert "n = %{customdata[0]:,}" in line.data[0].hovertemplate
    assert np.isnan(line.data[0].y[2])  # a gap, not a zero


def test_a_rate_line_draws_a_period_the_dates_cut_as_an_open_circle():
    """A rate from a period the chosen dates cut (the window's first and
    last weeks, is_complete false) stands on part of its changes: its
    point is open, the others filled; without is_complete every point is
    filled."""
    cut = trend().assign(is_complete=[False, True, False])
    line = charts.rate_line(cut, x="period_label", y="change_success_rate",
                            n="n", y_title="change success rate")
    assert list(line.data[0].marker.symbol) == [
        "circle-open", "circle", "circle-open"]
    assert FIGURES["rate_line"]().data[0].marker.symbol == "circle"


def test_a_rate_line_greys_a_point_of_fewer_than_30_records():
    """One emergency change of 15 drew a 6.7 % spike as loud as any month's
    point, its n only in the hover: a rate of fewer than 30 records is a
    grey point and its hover says it is a small sample; a period of none
    (no rate, a gap) and one of 30 or more keep the line's colour."""
    frame = pd.DataFrame({"period_label": ["Jun", "Jul", "Aug", "Sep"],
                          "n": pd.array([120, 15, 0, 30], dtype="Int64"),
                          "ratio": [0.0, 1 / 15, np.nan, 0.1]})
    line = charts.rate_line(frame, x="period_label", y="ratio", n="n",
                            y_title="share of emergency changes")
    [trace] = line.data
    blue, grey = charts.SERIES[0], charts.SMALL_N_COLOUR
    assert list(trace.marker.color) == [blue, grey, blue, blue]
    assert [list(row) for row in trace.customdata] == [
        [120, ""], [15, "<br>fewer than 30: a small sample"], [0, ""],
        [30, ""]]
    assert trace.hovertemplate == ("%{y:.1%} of n = %{customdata[0]:,}"
                                   "%{customdata[1]}<extra></extra>")
    assert charts.small_n_said(frame["n"], "changes") == (
        " A grey point rates fewer than 30 changes: a small sample.")
    assert charts.small_n_said(frame["n"].where(frame["n"] != 15, 40),
                               "changes") == ""


def test_a_rate_line_of_small_rates_tells_its_ticks_apart():
    # ".0%" read every tick of a 0.2 % emergency ratio as 0%: up to two
    # decimals, trailing zeros trimmed (1%, 0.05%, 0.15%)
    assert FIGURES["rate_line"]().layout.yaxis.tickformat == ".2~%"


def test_a_few_counts_read_on_whole_ticks_from_zero():
    """Two or three releases a month drew a count axis of 0, 0.2, 0.4 ...
    (the Releases page on Jira and endoflife.date data): half a release.
    Counts under 10 get a tick at every whole number from 0; larger ones
    keep plotly's own ticks, whole numbers (1, 2, 5, 10 ... apart)."""
    few = {"rangemode": "tozero", "tick0": 0, "dtick": 1}
    for name, axis in (("count_bars", "yaxis"), ("stacked_bars", "yaxis"),
                       ("histogram", "yaxis")):
        drawn = sent(FIGURES[name]())["layout"][axis]
        assert {k: drawn.get(k) for k in few} == few, name
    on_time = sent(charts.horizontal_stacked_bars(
        pd.DataFrame({"app": ["openjpa", "bookkeeper"], "on_time": [1, 0],
                      "late": [1, 1]}), y="app",
        columns={"on_time": "On time", "late": "Late"},
        x_title="releases gone live"))["layout"]["xaxis"]
    assert {k: on_time.get(k) for k in few} == few
    many = sent(charts.count_bars(
        pd.DataFrame({"month": ["Jun", "Jul"], "n_releases": [1_088, 9]}),
        x="month", y="n_releases", y_title="releases"))["layout"]["yaxis"]
    assert many["rangemode"] == "tozero" and "dtick" not in many
    # the tallest stacked bar decides (12 changes in a week of 5, 7 and 0)
    assert "dtick" not in sent(charts.stacked_bars(
        pd.DataFrame({"w": ["a"], "s": [5], "f": [7]}), x="w",
        columns={"s": "Successful", "f": "Failed"},
        y_title="changes"))["layout"]["yaxis"]
    assert charts.count_axis(float("nan"))["dtick"] == 1  # an empty frame


def test_horizontal_bars_keep_the_first_row_on_top_and_pick_it_by_y():
    figure = FIGURES["horizontal_stacked_bars"]()
    labels = list(by_group()["dimension_value"])
    assert [t.name for t in figure.data] == ["Successful", "Failed"]
    assert [t.marker.color for t in figure.data] == ["#009E73", "#D55E00"]
    assert all(list(t.y) == labels for t in figure.data)  # picked by y
    assert list(figure.layout.yaxis.categoryarray) == labels[::-1]
    assert list(figure.data[1].x) == [2, 2, 3]
    assert figure.data[0].customdata[0][0] == pytest.approx(10 / 12)
    assert figure.data[0].hovertemplate == (
        "%{y}<br>%{fullData.name} (implemented changes): %{x:,}"
        "<br>success rate: %{customdata[0]:.1%}<extra></extra>")
    assert figure.layout.height == 260


def test_signed_bars_are_green_at_or_above_zero_and_red_below():
    bar = FIGURES["signed_bars"]().data[0]
    assert list(bar.y) == ["Ops", "Dev", "DBA"]
    assert list(bar.marker.color) == ["#009E73", "#009E73", "#D55E00"]
    assert [list(c) for c in bar.customdata] == [[9], [3], [4]]


def test_a_histogram_stacks_its_categories_in_order_and_drops_none():
    figure = FIGURES["histogram"]()
    assert [t.name for t in figure.data] == ["On time", "Late"]
    assert sorted(figure.data[0].x) == [-1, 0, 0]
    assert sorted(figure.data[1].x) == [2, 3, 5]  # the row without one: none
    assert figure.data[0].xbins.size == 1
    assert figure.layout.barmode == "stack"
    # one category only: one trace with every row; a category without a
    # colour of its own takes the series colours in turn (after the given)
    alone = charts.histogram(slips().assign(outcome="Late"), x="slip_days",
                             x_title="slip", colour="outcome",
                             colours={"On time": "#009E73"}, order=None)
    assert [(t.name, len(t.x), t.marker.color) for t in alone.data] == [
        ("Late", 7, charts.SERIES[1])]


def test_a_histogram_of_counted_rows_sums_them_into_the_same_bins():
    """Rows counted already (weight): each trace sends its slips once with
    their counts, and the browser sums them into the bins it would make of
    the values one by one; the count axis sees the tallest stacked bar."""
    figure = FIGURES["histogram_counted"]()
    assert [t.name for t in figure.data] == ["On time", "Late"]
    late = figure.data[1]
    assert (list(late.x), list(late.y)) == ([2, 3, 5, 9], [1, 1, 1, 5])
    assert {t.histfunc for t in figure.data} == {"sum"}
    assert late.xbins.size == 1 and late.bingroup == "x"
    # the tallest bar is 9 days: 5 late and one without an outcome, so the
    # axis ticks every whole number (under 10) as for the values themselves
    rows = counted_slips()
    one_by_one = charts.histogram(
        rows.loc[rows.index.repeat(rows["n"])], x="slip_days",
        x_title="slip (days)", y_title="releases", colour="outcome",
        colours={"On time": "#009E73", "Late": "#D55E00"},
        order=["On time", "Late"], bin_size=1)
    assert figure.layout.yaxis == one_by_one.layout.yaxis
    assert figure.layout.yaxis.dtick == 1
    many = charts.histogram(rows.assign(n=rows["n"] * 2), x="slip_days",
                            x_title="slip", y_title="releases", bin_size=1,
                            weight="n")
    assert many.layout.yaxis.dtick is None  # 12 in the 9-day bar


@pytest.mark.parametrize("slips, ticks, shown", [
    # one release: plotly's own ticks read -0.4 ... 0.4 (or 9.6 ... 10.4)
    ([0], 1, (-3.5, 3.5)), ([10], 1, (6.5, 13.5)),
    ([-1, 0, 10], 1, (-1.5, 10.5)),  # the sample's last 90 days
    ([-1, 0, 11], 2, (-1.5, 11.5)),
    ([-20, 75], 10, (-20.5, 75.5)),
    ([-300, 2_000], 200, (-300.5, 2_000.5))])
def test_a_histogram_of_whole_days_ticks_whole_days_only(slips, ticks,
                                                         shown):
    """The Releases page's slip chart, one bar per day, ticked -0.4, -0.2
    ... 0.4 with a single slip of 0 days: fractions of a day, its one bar
    the chart's width. A histogram of whole numbers ticks whole numbers
    only (1, 2, 5, 10 ... apart, at most 12 ticks, one on 0), its bars
    centred on them, and shows at least 7 days."""
    rows = pd.DataFrame({"slip_days": slips, "n": 1})
    drawn = sent(charts.histogram(rows, x="slip_days", x_title="slip",
                                  weight="n", whole=True))
    axis = drawn["layout"]["xaxis"]
    assert (axis["tick0"], axis["dtick"]) == (0, ticks)
    assert tuple(axis["range"]) == shown
    first, last = (np.ceil(shown[0] / ticks) * ticks,
                   np.floor(shown[1] / ticks) * ticks)
    assert (last - first) / ticks + 1 <= 12
    assert {(t["xbins"]["start"], t["xbins"]["size"])
            for t in drawn["data"]} == {(min(slips) - 0.5, 1)}
    # the figure the page draws passes plotly's validation unchanged
    figure = FIGURES["histogram_whole"]()
    assert figure.layout.xaxis.dtick == 1
    assert {t.xbins.start for t in figure.data} == {-1.5}


def test_binned_bars_are_as_wide_as_their_bin_in_the_given_order():
    figure = FIGURES["binned_histogram"]()
    assert [t.name for t in figure.data] == ["standard", "normal", "other"]
    normal = figure.data[1]
    assert list(normal.x) == [12.0, 36.0] and list(normal.width) == [24, 24]
    assert [list(c) for c in normal.customdata] == [[0.0, 24.0],
                                                    [24.0, 48.0]]
    assert figure.data[2].marker.color == "#999999"


def test_release_phases_show_planned_behind_actual_and_one_legend_entry():
    figure = FIGURES["release_gantt"]()
    assert [(t.name, t.opacity, t.showlegend) for t in figure.data] == [
        ("dev", 0.3, False), ("sit", 0.3, False),
        ("dev", 1.0, True), ("sit", 1.0, True)]
    assert list(figure.layout.yaxis.categoryarray) == ["R1", "R2"]
    assert list(figure.data[2].y) == ["R1"]  # R2 has not started
    assert figure.data[0].x[0] == 10 * 86_400_000
    assert [s.type for s in figure.layout.shapes] == ["rect", "line"]


def test_a_calendar_bar_and_a_late_mark_pick_their_change():
    figure = FIGURES["change_calendar"]()
    bars = [t for t in figure.data if t.type == "bar" and t.customdata
            is not None]
    late = [t for t in figure.data if t.type == "scatter"]
    assert [t.name for t in bars] == ["High", "Low"]
    assert [row[0] for row in bars[0].customdata] == ["CHG1", "CHG3"]
    assert list(bars[0].marker.pattern.shape) == ["/", ""]
    assert list(bars[0].marker.line.width) == [3, 0.5]
    assert [row[0] for row in late[0].customdata] == ["CHG1"]
    # the legend in words, then the windows: two freezes shade as one band
    assert [t.name for t in figure.data if t.customdata is None] == [
        "High", "Low", "Emergency (hatched)", "Collides (black outline)"]
    assert [(s.name, s.showlegend) for s in figure.layout.shapes] == [
        ("Change freeze", True), ("Maintenance window", True)]
    assert bars[0].base[0] == np.datetime64("2026-12-02T08:00")  # London


def test_the_weekly_load_is_an_environment_by_week_grid():
    heat = FIGURES["week_heatmap"]().data[0]
    assert list(heat.x) == ["W1", "W2"] and list(heat.y) == ["SIT", "UAT"]
    assert heat.z.tolist() == [[1, 3], [0, 12]]
    assert heat.colorbar.dtick == 2  # 12 releases / 5, rounded
    assert heat.colorscale[0] == (0.0, "rgb(247,251,255)")


def test_bookings_are_bars_from_their_start_by_status():
    figure = FIGURES["booking_gantt"]()
    assert [(t.name, t.legendgroup) for t in figure.data] == [
        ("Approved", "approved"), ("Pending", "pending")]
    approved = figure.data[0]
    assert [row[0] for row in approved.customdata] == ["B2", "B3"]
    assert [row[1] for row in approved.customdata] == ["(no release)",
                                                       "Cards 1.1"]
    assert list(approved.x) == [2 * 86_400_000, 6 * 3_600_000]
    assert approved.marker.color == env_charts.BOOKING_COLOURS["approved"]
    assert list(figure.layout.yaxis.categoryarray) == ["UAT", "SIT"]


def test_names_and_hover_data_with_markup_read_as_written():
    """Plotly reads a subset of HTML in legends and hovers as in axes: a
    release or team named with a link drew one in a booking's hover, a
    name from data one in the legend. Both go in with '<', '>' and '&' as
    entities; values without them are the shared arrays as before."""
    link = '<a href="https://evil.example/phish">Ledger</a> & co'
    frame = bookings().assign(release_name=[link, None, "Cards 1.1"],
                              team=["Core", "<b>Ops</b>", None])
    figure = env_charts.booking_gantt(frame)
    rows = [list(row) for trace in figure.data for row in trace.customdata]
    assert ['&lt;a href="https://evil.example/phish"&gt;Ledger&lt;/a&gt; '
            '&amp; co', "SIT", "Core"] == rows[-1][1:4]
    assert rows[0][3] == "&lt;b&gt;Ops&lt;/b&gt;"
    plain = FIGURES["booking_gantt"]()
    assert [list(r) for t in plain.data for r in t.customdata][0][1] == \
        "(no release)"
    teams = charts.stacked_bars(
        trend(), x="period_label", y_title="changes",
        columns={"n_failed": "<i>R&D</i>", "n_successful": "Successful"})
    assert [t.name for t in teams.data] == ["&lt;i&gt;R&amp;D&lt;/i&gt;",
                                            "Successful"]
    for built in (figure, teams):
        assert "<a " not in pio.to_json(built) and \
            "<b>Ops" not in pio.to_json(built)


def test_lanes_never_share_a_lane_between_bars_that_overlap():
    t = pd.Timestamp("2026-12-02 08:00")
    hours = [(0, 2), (1, 3), (2, 4), (0, 1), (5, 6), (3, 5)]
    starts = pd.Series([t + pd.Timedelta(hours=a) for a, _ in hours])
    ends = pd.Series([t + pd.Timedelta(hours=b) for _, b in hours])
    lane = charts.lanes(starts, ends)
    # in start order, each bar takes the first lane free at its start
    assert lane == [0, 1, 0, 1, 0, 1]
    for i in range(len(hours)):
        for j in range(i):
            if starts[i] < ends[j] and starts[j] < ends[i]:
                assert lane[i] != lane[j], (i, j)
    assert charts.merged(starts, ends) == [(t, t + pd.Timedelta(hours=6))]


def test_release_phases_named_in_words_keep_their_colours():
    """names renames a phase in the legend and hover, not its colour."""
    as_codes = FIGURES["release_gantt"]()
    figure = charts.release_gantt(
        phases(), release="release", phase="phase",
        planned=("planned_start_at", "planned_end_at"),
        actual=("actual_start_at", "actual_end_at"),
        names={"dev": "Dev", "sit": "SIT"})
    assert [(t.name, t.legendgroup) for t in figure.data] == [
        ("Dev", "dev"), ("SIT", "sit"), ("Dev", "dev"), ("SIT", "sit")]
    assert [t.marker.color for t in figure.data] == [
        t.marker.color for t in as_codes.data]
    assert figure.data[3].hovertemplate.startswith("%{y}<br>SIT actual: ")
    # a phase's name from data reads as written in the hover too (a review)
    marked = charts.release_gantt(
        phases(), release="release", phase="phase",
        planned=("planned_start_at", "planned_end_at"),
        actual=("actual_start_at", "actual_end_at"),
        names={"dev": "<b>Dev</b> & co", "sit": "SIT"})
    assert marked.data[0].hovertemplate.startswith(
        "%{y}<br>&lt;b&gt;Dev&lt;/b&gt; &amp; co planned: ")
    assert marked.data[0].name == "&lt;b&gt;Dev&lt;/b&gt; &amp; co"


def test_a_phase_keeps_its_colour_whatever_the_order_of_the_page():
    """The colours went to the phases in the order a page listed them, so
    Staging was vermillion on one page of the timeline and pink on the
    next: each phase has its own, a name the tiers do not give by a
    checksum of it (the same in every process)."""
    frame = phases()
    swapped = frame.iloc[::-1].reset_index(drop=True)
    kwargs = {"release": "release", "phase": "phase",
              "planned": ("planned_start_at", "planned_end_at"),
              "actual": ("actual_start_at", "actual_end_at")}
    colour_of = [{t.legendgroup: t.marker.color
                  for t in charts.release_gantt(f, **kwargs).data}
                 for f in (frame, swapped)]
    assert colour_of[0] == colour_of[1]
    assert colour_of[0]["sit"] == charts.phase_colour("SIT") == \
        charts.SERIES[0]
    assert charts.phase_colour("Cutover 2") == charts.phase_colour(
        "Cutover 2") in charts.SERIES


def test_the_timelines_legend_lists_the_phases_in_the_order_they_run():
    """The legend read 'Production, Dev, SIT, UAT, Performance, Staging'
    (a release manager's walkthrough): a phase with only plans was listed
    before the started ones, as plotly lists traces in their order. Each
    phase is ranked by its first planned start."""
    t = pd.Timestamp("2026-10-01", tz=UTC)
    day = pd.Timedelta(days=1)
    frame = pd.DataFrame({  # prod planned last, not started
        "release": ["R1"] * 3, "phase": ["prod", "dev", "sit"],
        "planned_start_at": [t + 20 * day, t, t + 10 * day],
        "planned_end_at": [t + 21 * day, t + 10 * day, t + 20 * day],
        "actual_start_at": [pd.NaT, t, t + 10 * day],
        "actual_end_at": [pd.NaT, t + 10 * day, t + 19 * day]})
    figure = charts.release_gantt(
        frame, release="release", phase="phase",
        planned=("planned_start_at", "planned_end_at"),
        actual=("actual_start_at", "actual_end_at"))
    # plotly's legend: by legendrank (1000 when none), then trace order
    listed = sorted((t for t in figure.data if t.showlegend is not False),
                    key=lambda t: (1000 if t.legendrank is None
                                   else t.legendrank))
    assert [t.name for t in listed] == ["dev", "sit", "prod"]


def test_a_booking_and_a_phase_say_their_times_as_every_page_writes_a_span():
    """ui.instants' span, in UTC as the axes: the bookings timeline said
    '01 Dec 00:00 – 02 Dec 00:00' (no year, no zone)."""
    bookings_ = FIGURES["booking_gantt"]()
    [pending, approved] = [t.customdata for t in
                           sorted(bookings_.data, key=lambda t: t.name,
                                  reverse=True)]
    assert pending[0][5] == "01 Dec 2026 00:00 – 02 Dec 2026 00:00 UTC"
    assert approved[1][5] == "03 Dec 2026 00:00 – 06:00 UTC"
    assert "%{customdata[5]}" in bookings_.data[0].hovertemplate
    phases_ = FIGURES["release_gantt"]()
    assert list(phases_.data[0].customdata) == [  # dev planned: R1, R2
        "01 Oct 2026 00:00 – 11 Oct 2026 00:00 UTC",
        "03 Oct 2026 00:00 – 10 Oct 2026 00:00 UTC"]
    assert phases_.data[0].hovertemplate == (
        "%{y}<br>dev planned: %{customdata}<extra></extra>")


def test_a_booking_names_its_status_and_phase_in_words():
    """The bookings timeline's legend read approved/pending and its hover
    'phase sit': the statuses and phases read as words (Approved, SIT),
    each status keeping its colour."""
    figure = FIGURES["booking_gantt"]()
    assert {t.name: t.marker.color for t in figure.data} == {
        "Approved": env_charts.BOOKING_COLOURS["approved"],
        "Pending": env_charts.BOOKING_COLOURS["pending"]}
    phases_ = {row[0]: row[2] for t in figure.data for row in t.customdata}
    assert phases_ == {"B1": "SIT", "B2": "–", "B3": "SIT"}
    assert all("phase %{customdata[2]}" in t.hovertemplate
               for t in figure.data)


# plotly's toolbar (modebar) is 26 px tall, 2 px from the figure's top, over
# its right end; Streamlit's fullscreen button is in the same band
TOOLBAR_BOTTOM_PX = 28


@pytest.mark.parametrize("name", FIGURES)
def test_a_legend_across_the_top_starts_below_the_toolbar(name):
    """At 1280 px wide the release timeline's legend (six phases) ran under
    plotly's toolbar, its last entries hidden: it was anchored on the plot's
    top (y 1 of the plot, growing upwards), so the longer it was the closer
    it came to the figure's top. A horizontal legend now hangs from a line
    below the toolbar's band (y of the figure, yref container), whatever
    its rows; plotly widens the top margin to hold it."""
    layout = sent(FIGURES[name]())["layout"]
    legend = layout.get("legend", {})
    if legend.get("orientation") != "h":
        assert name == "week_heatmap"  # a colour bar, no legend
        return
    assert (legend["yref"], legend["yanchor"]) == ("container", "top")
    assert (1 - legend["y"]) * layout["height"] >= TOOLBAR_BOTTOM_PX
    assert legend["x"] == 0 and legend.get("xref", "paper") == "paper"
    # the plot starts below it: plotly may widen the top margin
    assert layout["margin"].get("autoexpand", True)


def test_a_taller_figure_keeps_its_legend_as_far_below_the_toolbar():
    """The gap is in pixels, not a share of the height: a release timeline
    of 20 releases (670 px) keeps its legend where one of 2 does."""
    t = pd.Timestamp("2026-10-01", tz=UTC)
    frame = pd.DataFrame({
        "release": [f"R{i}" for i in range(20)], "phase": ["dev"] * 20,
        "planned_start_at": [t] * 20,
        "planned_end_at": [t + pd.Timedelta(days=3)] * 20,
        "actual_start_at": [t] * 20,
        "actual_end_at": [t + pd.Timedelta(days=3)] * 20})
    tall = sent(charts.release_gantt(
        frame, release="release", phase="phase",
        planned=("planned_start_at", "planned_end_at"),
        actual=("actual_start_at", "actual_end_at")))["layout"]
    short = sent(FIGURES["release_gantt"]())["layout"]
    assert tall["height"] == 670 and short["height"] == 300
    gaps = [round((1 - f["legend"]["y"]) * f["height"], 6)
            for f in (tall, short)]
    assert gaps[0] == gaps[1] >= TOOLBAR_BOTTOM_PX


def test_the_weekly_loads_colour_bar_starts_below_the_toolbar():
    """The weekly load's colour bar (its key: 'releases' or 'booked
    hours') spans the plot's height at the right, and the plot started 10
    px from the figure's top: plotly's toolbar covered the bar's title and
    the top-right cells. The plot now starts below the toolbar's band."""
    layout = sent(FIGURES["week_heatmap"]())["layout"]
    heat = sent(FIGURES["week_heatmap"]())["data"][0]
    assert heat["colorbar"].get("yref", "paper") == "paper"
    # from the plot's top down
    assert (heat["colorbar"]["y"], heat["colorbar"]["yanchor"]) == (1, "top")
    assert layout["margin"]["t"] >= TOOLBAR_BOTTOM_PX + 4


@pytest.mark.parametrize("rows", [1, 3, 40])
def test_the_weekly_loads_colour_bar_is_readable_over_few_rows(rows):
    """Three environments drew the weekly load's colour bar 45 px tall, its
    six numbers printed over each other (a walkthrough at a million
    changes, one application's environments): the bar is as tall as the
    rows, and never under 150 px."""
    frame = pd.DataFrame({
        "environment_id": [f"E{i}" for i in range(rows) for _ in range(3)],
        "environment_name": [f"Env {i}" for i in range(rows)
                             for _ in range(3)],
        "week_label": ["2026-W47", "2026-W48", "2026-W49"] * rows,
        "n_releases": [1, 3, 6] * rows})
    bar = sent(env_charts.week_heatmap(frame, "n_releases", "releases"))[
        "data"][0]["colorbar"]
    assert bar["lenmode"] == "pixels"
    assert bar["len"] == max(150, env_charts.ROW_PX * rows)


def test_weeks_of_nothing_read_white_not_busy():
    """An environment with no release in any week drew every week
    mid-blue under a colour bar reading only 0: plotly's scale of 0 to 0.
    The scale runs to at least 1, so 0 is its white end."""
    frame = pd.DataFrame({"environment_id": ["E1", "E1"],
                          "environment_name": ["Env 1", "Env 1"],
                          "week_label": ["2026-W48", "2026-W49"],
                          "n_releases": [0, 0]})
    heat = sent(env_charts.week_heatmap(frame, "n_releases", "releases"))[
        "data"][0]
    assert (heat["zmin"], heat["zmax"]) == (0, 1)
    busy = sent(env_charts.week_heatmap(frame.assign(n_releases=[2, 7]),
                                        "n_releases", "releases"))["data"][0]
    assert busy["zmax"] == 7
def test_a_rates_small_line_leaves_out_a_period_too_small_to_read():
    """BPIC 2014's July 2013, 1 emergency change of 15 beside months of
    2,300 to 3,100 and a tail of months of 1 to 4, drew the Overview's
    Emergency ratio line as a spike: a rate's period under SMALL_N records
    and a tenth of the busiest period's n has no point. Counts keep every
    period (0 where none), cut periods are left out, and a sample whose
    every period is small keeps all but its nearly empty ones."""
    frame = pd.DataFrame({
        "is_complete": [False, True, True, True, True, True, True, True],
        "n": [3, 1, 2, 15, 31, 2966, 0, 3109],
        "n_emergency": [1, 0, 0, 1, 0, 4, None, 2],
        "emergency_change_ratio": [1 / 3, 0, 0, 1 / 15, 0, 4 / 2966, None,
                                   2 / 3109]})
    assert charts.sparkline(frame, "emergency_change_ratio") == [
        0, 4 / 2966, 2 / 3109]
    assert charts.sparkline(frame, "n_emergency") == [0, 0, 1, 0, 4, 0, 2]
    small = pd.DataFrame({"is_complete": [True] * 4, "n": [12, 1, 20, 9],
                          "rate": [0.5, 1.0, 0.25, 0.0]})
    # the busiest holds 20: a tenth is 2, so the week of 1 goes
    assert charts.sparkline(small, "rate") == [0.5, 0.25, 0.0]
    assert charts.sparkline(small.drop(columns="n"), "rate") == [
        0.5, 1.0, 0.25, 0.0]  # no n: nothing to judge by
    assert charts.sparkline(small.iloc[:0], "rate") == []


def test_a_value_with_markup_is_an_axis_label_as_written_and_picked_back():
    """A team named '<a href="https://evil.example/phish">Payments</a>'
    was a link on the Changes page's score chart: Plotly reads a subset of
    HTML in labels (a security review). An axis's values go in with '<',
    '>' and '&' as entities, and a click on one picks the team as stored."""
    from types import SimpleNamespace

    import streamlit as st

    from changeboard import ui

    team = '<a href="https://evil.example/phish">Payments</a> & <b>Ops</b>'
    scores = pd.DataFrame({"assignment_group": [team, "Core"],
                           "score": [5, -2], "n": [40, 31]})
    fig = charts.signed_bars(scores, y="assignment_group", x="score",
                             x_title="points", y_title="team", n="n")
    shown = list(fig.data[0].y)
    assert shown == ['&lt;a href="https://evil.example/phish"&gt;Payments'
                     '&lt;/a&gt; &amp; &lt;b&gt;Ops&lt;/b&gt;', "Core"]
    # the axis's order too (its raw names drew a second, linked label)
    assert sorted(fig.layout.yaxis.categoryarray) == sorted(shown)
    assert "<a " not in pio.to_json(fig)  # nothing Plotly reads as a link
    st.session_state["score-chart"] = SimpleNamespace(
        selection=SimpleNamespace(points=[{"y": shown[0]}]))
    ui.pick_point("score-chart", "picked-team", "y")
    assert st.session_state["picked-team"] == team
