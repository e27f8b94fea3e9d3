"""Text the app draws in its own colours reads at WCAG 2.2 AA's 4.5:1 on
its background (an accessibility review measured captions at 3.88:1,
chart labels at 3.72:1 and white words on status chips at 2.25:1)."""
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AA = 4.5


def luminance(colour: str) -> float:
    """WCAG 2.2's relative luminance of #rrggbb."""
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
               for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def over(colour: str, alpha: float, background: str) -> str:
    """`colour` at `alpha` over `background`, as the browser draws it."""
    mixed = [round(alpha * int(colour[i:i + 2], 16)
                   + (1 - alpha) * int(background[i:i + 2], 16))
             for i in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def test_the_ratio_is_computed_as_wcag_says():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast("#E69F00", "#FFFFFF") == pytest.approx(2.25, abs=0.01)


def test_captions_drawn_at_60_percent_of_the_text_colour_read_at_aa():
    """Streamlit draws captions in the theme's text colour at 60% opacity,
    on the page's white and the sidebar's #F8F8F7."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text()
                          )["theme"]
    text = theme["textColor"]
    for background in ("#FFFFFF", "#F8F8F7"):
        assert contrast(over(text, 0.6, background), background) >= AA


def test_code_spans_read_at_aa():
    """Code spans in captions ('load `deployments.csv`') were 3.0:1 (a
    re-check), on white and on a code span's grey; and in a caption, drawn
    at 60% with their grey, where the CAB page's 'Recording as
    `local:root`' measured 2.61:1 (axe, a re-survey)."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text()
                          )["theme"]
    code = theme["codeTextColor"]
    for background in ("#FFFFFF", "#EDECEA"):
        assert contrast(code, background) >= AA
        for page in ("#FFFFFF", "#F8F8F7"):  # a caption on the page, sidebar
            assert contrast(over(code, 0.6, page),
                            over(background, 0.6, page)) >= AA


def test_chart_axis_and_legend_text_reads_at_aa():
    from changeboard import charts
    assert contrast(charts.INK, "#FFFFFF") >= AA
    layout = {"xaxis": {"title": "week"}, "yaxis2": {}}
    charts._inked(layout)
    assert layout["xaxis"]["title"] == {"text": "week",
                                        "font": {"color": charts.INK}}
    for axis in ("xaxis", "yaxis", "yaxis2"):
        assert layout[axis]["tickfont"]["color"] == charts.INK
    assert layout["legend"]["font"]["color"] == charts.INK
    # the toolbar's icons (#C7C7C7 before, 1.7:1: a re-check)
    toolbar = charts._figure([], {}).layout.modebar
    assert toolbar.color == charts.INK
    assert contrast(toolbar.activecolor, "#FFFFFF") >= AA


def test_readiness_chips_white_words_read_at_aa():
    """The readiness table draws each status chip's word in white. Its
    colours are read from the page's source: importing the page runs it."""
    source = (ROOT / "views" / "readiness.py").read_text()
    colours = re.search(r"^COLOURS = (\{.*?\})$", source, re.M).group(1)
    for status, colour in eval(colours).items():  # noqa: S307 - our file
        assert contrast(colour, "#FFFFFF") >= AA, status


def test_the_packs_chips_and_alerts_read_at_aa():
    css = (ROOT / "reports" / "cab" / "pack.css").read_text()
    rules = re.findall(r"(span\.chip\.\w+|p\.note\.alert) \{ background: "
                       r"(#[0-9A-Fa-f]{6});[^}]*?(?<![-\w])color: "
                       r"(#[0-9A-Fa-f]{3,6})", css)
    assert {r[0] for r in rules} == {"span.chip.blocked", "span.chip.at_risk",
                                     "span.chip.ready", "p.note.alert"}
    for rule, background, text in rules:
        if len(text) == 4:
            text = "#" + "".join(c * 2 for c in text[1:])
        assert contrast(background, text) >= AA, rule
