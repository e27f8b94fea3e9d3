"""Figures are built once per content of their arguments (charts.kept)."""
import pandas as pd

from changeboard import charts


def test_the_same_content_draws_the_kept_figure_and_other_content_a_new_one():
    frame = pd.DataFrame({"week": ["W1", "W2"], "n": [3, 5]})
    first = charts.count_bars(frame, x="week", y="n", y_title="changes")
    # an equal frame (another object, as a cached query hands out) and the
    # same arguments: the figure already built
    assert charts.count_bars(frame.copy(), x="week", y="n",
                             y_title="changes") is first
    others = [
        charts.count_bars(frame.assign(n=[3, 6]), x="week", y="n",
                          y_title="changes"),
        charts.count_bars(frame, x="week", y="n", y_title="releases"),
        charts.count_bars(frame.rename(columns={"n": "m"}), x="week",
                          y="m", y_title="changes"),
        charts.count_bars(frame.astype({"n": "float64"}), x="week", y="n",
                          y_title="changes"),
    ]
    assert all(other is not first for other in others)
    assert list(others[0].data[0].y) == [3, 6]
    assert others[1].layout.yaxis.title.text == "releases"


def test_cells_holding_lists_are_kept_by_their_items():
    # the calendar's frame lists each change's collisions
    frame = pd.DataFrame({"week": ["W1", "W2"], "n": [1, 2],
                          "ids": [["C1", "C2"], []]})
    one = charts.count_bars(frame, x="week", y="n", y_title="changes")
    assert charts.count_bars(frame.copy(), x="week", y="n",
                             y_title="changes") is one
    for ids in ([["C1"], []], [["C1", "C3"], []], [["C1", "C2"], ["C4"]],
                [[1, 2], []], [("C1", "C2"), []]):
        assert charts.count_bars(frame.assign(ids=ids), x="week", y="n",
                                 y_title="changes") is not one, ids


def test_a_frame_whose_content_cannot_be_hashed_is_drawn_every_time():
    frame = pd.DataFrame({"week": ["W1"], "n": [1], "ids": [{"C1": 2}]})
    one = charts.count_bars(frame, x="week", y="n", y_title="changes")
    assert charts.count_bars(frame, x="week", y="n",
                             y_title="changes") is not one


def test_only_the_most_recent_figures_are_kept(monkeypatch):
    monkeypatch.setattr(charts, "FIGURES_KEPT", 3)
    frames = [pd.DataFrame({"week": ["W1"], "n": [i]}) for i in range(5)]
    drawn = [charts.count_bars(f, x="week", y="n", y_title="x")
             for f in frames]
    assert len(charts._figures) <= 3
    assert charts.count_bars(frames[4], x="week", y="n",
                             y_title="x") is drawn[4]
    assert charts.count_bars(frames[0], x="week", y="n",
                             y_title="x") is not drawn[0]
