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


def test_a_kept_figure_is_sent_as_plotly_would_send_it_made_once():
    """st.plotly_chart turns a figure into a dict and the dict into JSON on
    every rerun: for a kept figure both are made once, and are what plotly
    makes of it; any other figure goes through plotly as before."""
    import plotly.graph_objects as go
    import plotly.io as pio
    import plotly.tools
    from streamlit.testing.v1 import AppTest

    frame = pd.DataFrame({"week": ["W1", "W2"], "n": [4, 7]})
    kept = charts.count_bars(frame, x="week", y="n", y_title="sent once")
    # what plotly sends of it: a fresh dict of it, as JSON
    expected = pio.to_json(kept.to_dict(), validate=False)
    sent = [plotly.tools.return_figure_from_figure_or_data(
        kept, validate_figure=True) for _ in range(3)]
    assert sent[0] is sent[1] is sent[2]
    assert {pio.to_json(spec, validate=False) for spec in sent} == {expected}
    other = go.Figure(go.Bar(x=["W1"], y=[1]))  # not kept
    again = [plotly.tools.return_figure_from_figure_or_data(
        other, validate_figure=True) for _ in range(2)]
    assert again[0] is not again[1] and again[0] == again[1]

    def page():
        import pandas as pd
        import streamlit as st

        from changeboard import charts
        st.plotly_chart(charts.count_bars(
            pd.DataFrame({"week": ["W1", "W2"], "n": [4, 7]}), x="week",
            y="n", y_title="sent once"), key="chart")

    app = AppTest.from_function(page)
    app.run()
    app.run()
    assert not app.exception
    assert app.get("plotly_chart")[0].proto.spec == expected
