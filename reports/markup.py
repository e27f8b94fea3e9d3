"""HTML pieces the CAB pack, its minutes and the last CAB's decisions share
(styled by reports/cab/pack.css): escaped text, tables and definition
lists."""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from reports.text import READINESS, as_text, readiness_chip

# columns of running text: they wrap between words; every other column holds
# ids, numbers, codes or dates and never wraps (a span may break at its dash)
TEXT_COLUMNS = frozenset({
    "Title", "Other title", "Evidence", "Period", "Result", "Flags", "Window",
    "Environment", "Team", "Application", "Shared", "Why failed",
    "Approval issue", "Count", "Counts", "KPI", "n counts", "Value",
    "Description", "Justification", "Implementation plan", "Backout plan",
    "Test plan", "Requested by", "Affected CI", "Release name", "Reasons",
    "Agenda changes it carries",
    # CAB decisions (reports/decided.py, reports/minutes.py)
    "Note", "Decision", "What happened", "Finding"})
CHIP_CLASSES = {readiness_chip(k): k for k in READINESS}


def escape(value) -> str:
    """A value as HTML text, quotes escaped; '' for a missing one."""
    return html.escape(as_text(value), quote=True)


# one day's times from and to ('15:00 – 17:00': a change's plan printed
# '15:00 –' above '17:00'); a day ('Mon 14 Dec 2026': a plan of two days
# printed 'Mon' above '14 Dec 2026 00:45'); a word with a dash inside it: an id
# ('ENV-0511', '(APP-178)') or a host name ('cre-de-batch-prd02'), which a
# browser would break after its dash; a number with its hours ('(5.0 h)',
# a plan's '(3 h 15 min)', '(45 min)');
# and an agenda rank with its change ('#2 CHG0000803': a release's agenda
# changes printed '#1 CHG0000804, #2' above 'CHG0000803')
_WHOLE = re.compile(r"\d\d:\d\d – \d\d:\d\d|[A-Z][a-z]{2} \d\d [A-Z][a-z]{2} "
                    r"\d{4}|\S*\w-\w\S*|\S*\d h(?: \d+ min)?\b\S*|"
                    r"\S*\d min\b\S*|#\d+ [^\s,;]+")
# an instant as reports.text.when writes it: 'Tue 01 Dec 2026 10:15', its
# day and its time each whole: a cell is kept on one line (class nw), but a
# wide table may let an instant wrap between them (class inst), and words
# with no id among them ('Successful with issues', class words) between
# words: the CAB pack's landscape pages
_INSTANT = re.compile(r"[A-Z][a-z]{2} \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d")


def running(value) -> str:
    """Running text as HTML (escape()d): it wraps between words, never
    inside an id or a host name, nor between a number and its hours, nor
    between one day's times; a spaced dash ends a line, never begins one.
    The pack printed 'PGW-UK-PRD (ENV-' at a line's end and '0511)' on the
    next, '(5.0' above 'h)', and '15:00 –' above '17:00'."""
    return _WHOLE.sub(lambda m: f'<span class="nw">{m.group(0)}</span>',
                      escape(value)).replace(" – ", "&nbsp;– ")


def _cell(column: str, value) -> str:
    # numpy's numbers too: a frame's integer column gives them; a count
    # with its thousands separator (2,303), as the pages write it
    if isinstance(value, (int, np.integer)) and \
            not isinstance(value, (bool, np.bool_)):
        return f'<td class="num">{int(value):,}</td>'
    if isinstance(value, (float, np.floating)):
        return f'<td class="num">{escape(value)}</td>'
    if column == "Status" and value in CHIP_CLASSES:
        return (f'<td class="nw"><span class="chip {CHIP_CLASSES[value]}">'
                f"{escape(value)}</span></td>")
    if column in TEXT_COLUMNS:
        return f"<td>{running(value)}</td>"
    text = as_text(value)
    if " – " in text:  # a span: each end stays whole
        return f"<td>{_span(text)}</td>"
    if _INSTANT.fullmatch(text):  # its day and its time, each whole
        day, time = text.rsplit(" ", 1)
        return (f'<td class="nw inst"><span class="nw">{escape(day)}</span> '
                f'<span class="nw">{escape(time)}</span></td>')
    if " " in text and not _WHOLE.search(text):  # words, no id among them
        return f'<td class="nw words">{escape(text)}</td>'
    return f'<td class="nw">{escape(text)}</td>'


_TIME = re.compile(r"\d\d:\d\d")


def _span(text: str) -> str:
    """A span's cell text: each end whole, and the dash never first on a
    line; one day's span, 'Wed 09 Dec 2026 15:00 – 17:00', may wrap after
    its day only (it printed '15:00' above '– 17:00')."""
    first, _, last = text.partition(" – ")
    if _INSTANT.fullmatch(first) and _TIME.fullmatch(last):
        day, time = first.rsplit(" ", 1)
        return (f'<span class="nw">{escape(day)}</span> '
                f'<span class="nw">{escape(time)} – {escape(last)}</span>')
    return "&nbsp;– ".join(f'<span class="nw">{escape(part)}</span>'
                           for part in text.split(" – "))


def html_table(frame: pd.DataFrame, empty: str) -> str:
    """A table of the frame; the `empty` line when it has no row."""
    if frame.empty:
        return f'<p class="none">{escape(empty)}</p>'
    # each heading cell names its column for a screen reader (scope)
    head = "".join(f'<th scope="col">{escape(c)}</th>'
                   for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(_cell(c, v) for c, v in zip(frame.columns, row,
                                                    strict=True))
        body.append(f"<tr>{cells}</tr>")
    return (f"<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def definition_list(pairs: list[tuple[str, str]], css: str = "") -> str:
    """A <dl> of (term, value) pairs, of class `css` when given."""
    items = "".join(f"<dt>{escape(k)}</dt><dd>{running(v)}</dd>"
                    for k, v in pairs)
    return f'<dl class="{css}">{items}</dl>' if css else f"<dl>{items}</dl>"
