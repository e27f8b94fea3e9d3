"""The pack as one self-contained HTML page (no script, font or link): the
skeleton is reports/cab/pack.html, its style reports/cab/pack.css; the PDF
is this page printed."""
from __future__ import annotations

import math
from pathlib import Path
from string import Template

from reports import decided
from reports.cab import tables
from reports.cab.blocks import ChangeBlock, blocks
from reports.cab.pack import TEAM_LOOKBACK_DAYS, Pack, stale_note, with_since
from reports.cab.provenance import provenance
from reports.markup import definition_list, escape, html_table, running
from reports.text import shorten

HERE = Path(__file__).parent
# the style of the pack and the minutes (reports/minutes.py adds to it);
# the page has always had a line break before it
CSS = "\n" + (HERE / "pack.css").read_text(encoding="utf-8")
# the template's line breaks and indentation are for reading it: the page
# has a line break only where the template says $nl
PAGE = Template("".join(line.strip() for line in (
    HERE / "pack.html").read_text(encoding="utf-8").splitlines()))
TEXT_CHARS = 300  # a block's description and plans, shortened in print


def to_html(pack: Pack, out: str = "cab-pack.html") -> str:
    """The pack as one self-contained HTML page: no script, font or link;
    its Regenerate command writes `out` (the PDF prints this page)."""
    pack = with_since(pack)
    meta = dict(provenance(pack, out))
    details = "".join(block_html(b) for b in blocks(pack, tables.DETAIL_LIMIT))
    return PAGE.substitute(
        nl="\n", day=f"{pack.meeting_at:%Y-%m-%d}", css=CSS,
        meeting=escape(meta["Meeting"]), window=escape(meta["Review window"]),
        filters=escape(meta["Filters"]), as_of=escape(meta["Data as of"]),
        batches=escape(meta["Batches loaded"]),
        stale=f'<p class="note alert">{escape(stale)}</p>' if (
            stale := stale_note(pack)) else "",
        counts="".join(f'<div class="count"><b>{n:,}</b>{escape(label)}</div>'
                       for label, n in tables.headline(pack)),
        agenda=_agenda(pack) + ("" if len(pack.releases) else (
            "<h2>Releases going live in the review window</h2>"
            f'<p class="none">{escape(tables.no_release_going_live(pack))}'
            "</p>")),
        releases=_releases(pack),
        details=f"<h2>For decision</h2>{details}" if details else "",
        since_dates=escape(meta["Since last CAB"]) + (
            f'</p><p class="note">{escape(cut)}' if (
                cut := meta.get("Since last CAB, counted")) else ""),
        decided_alert=decided.alert_html(pack),
        kpis=html_table(tables.kpi_table(pack), "") + "".join(
            f'<p class="note">{escape(label)}: {escape(note)}.</p>'
            for label, note in tables.kpi_notes(pack)),
        since="".join(_since_list(pack, reason, title)
                      for reason, title in tables.REASONS.items()),
        # what happened to them is as far as the data goes: 'None.' read
        # as all clear from data loaded before the last meeting (a CAB
        # chair's walkthrough)
        decided=decided.html(pack, tables.since_none(pack, "None.")),
        produced_by=definition_list(list(meta.items())))


def _since_list(pack: Pack, reason: str, title: str) -> str:
    """One since-last-CAB list; empty where the data cannot say (its KPI
    unrated: no close code, no approval recorded), '(not known)' and why,
    as the CAB page says it, not 'None.'."""
    frame = tables.since_last(pack, reason)
    unrated = tables.since_empty(pack, reason) if frame.empty else None
    return (f"<h3>{escape(title)}{' (not known)' if unrated else ''}</h3>"
            + html_table(frame, unrated or tables.since_none(pack, "None.")))


def _agenda(pack: Pack) -> str:
    if not len(pack.agenda):
        return f'<p class="none">{escape(tables.empty_agenda(pack))}</p>'
    note = tables.size_note(pack)
    return ((f'<p class="note">{escape(note)}</p>' if note else "")
            + html_table(tables.agenda_lines(pack, tables.AGENDA_LINES,
                                             tables.AGENDA_TITLE_CHARS), ""))


def _releases(pack: Pack) -> str:
    """The releases going live: a landscape page of their own ('' when
    there is none: the agenda says so)."""
    if pack.releases.empty:
        return ""
    note = tables.releases_note(pack)
    return ('<section class="wide releases">'
            "<h2>Releases going live in the review window</h2>"
            f'<p class="meta">{escape(tables.RELEASES_INTRO)}'
            + (f" {escape(unfiltered)}" if (
                unfiltered := tables.releases_unfiltered(pack)) else "")
            + "</p>"
            + (f'<p class="note">{escape(note)}</p>' if note else "")
            + html_table(tables.release_lines(
                pack, tables.RELEASE_LINES, tables.RELEASE_CHANGES_SHOWN), "")
            + "</section>")


def _reading_html(reading: list[tuple[str, str]]) -> str:
    """Each text in full; one longer than TEXT_CHARS shows shortened, in
    print always, on screen until its <details> is opened."""
    parts = []
    for label, text in reading:
        if not text:
            parts.append(f'<dt>{escape(label)}</dt><dd class="none">'
                         "Not recorded.</dd>")
        elif len(text) <= TEXT_CHARS:
            parts.append(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>")
        else:
            parts.append(f"<dt>{escape(label)}</dt><dd><details><summary>"
                         f"<span>{escape(shorten(text, TEXT_CHARS))}</span>"
                         f"</summary>{escape(text)}</details></dd>")
    return f'<dl class="reading">{"".join(parts)}</dl>'


# about the lines an A4 portrait page prints of a change's block (9 pt text,
# 8.5 pt tables, 14 mm margins), as printed_lines counts them: a block of
# 45.5 printed on one page, one of 52 spilled its last row onto the next
PAGE_LINES = 46


# the PDF's own measure (the HTML file holds no script): in print, the
# change blocks are measured as laid out at the A4 page's width and paged
# in order (the first below its heading, at a page's top): a block taller
# than a page runs on from where the one before ends; so does one that
# does not fit below the last rows of a block that ran on, when those rows
# are all its page holds (it would leave that page nearly empty); every
# other block stays whole. printed_lines' estimate (for a browser printing
# the HTML file) put a sample block of 46.5 lines that fills three
# quarters of a page on two.
MEASURE = """<script>
(function () {
  var page = 269 / 25.4 * 96;  /* 297 mm less 2 x 14 mm, in CSS px */
  /* print moves a table row or a heading that would be cut to the next
     page: what is left of a page is counted three lines short, and the
     rows a block runs on with three lines long */
  var safe = 48;
  var blocks = document.querySelectorAll("section.change");
  if (!blocks.length) return;
  document.body.classList.add("measuring");
  var boxes = Array.prototype.map.call(blocks, function (block) {
    return block.getBoundingClientRect();
  });
  var heading = blocks[0].previousElementSibling;
  var used = heading ? boxes[0].top - heading.getBoundingClientRect().top : 0;
  var tail = false;  /* the page holds only the last rows of a block */
  for (var i = 0; i < blocks.length; i++) {
    var box = boxes[i];
    var step = (i + 1 < boxes.length ? boxes[i + 1].top : box.bottom)
      - box.top;  /* the block and the space before the next */
    var fits = used + box.height <= page - safe;
    var runs = box.height > page || (!fits && tail && used <= page * 0.3);
    blocks[i].classList.toggle("long", runs);
    if (runs) {
      used = (used + step) % page + safe;
      tail = true;
    } else if (fits) {
      used += step;
      tail = false;
    } else {
      used = step;
      tail = false;
    }
  }
  document.body.classList.remove("measuring");
})();
</script>"""


def for_print(page_html: str) -> str:
    """The pack's HTML as the PDF prints it: with MEASURE."""
    at = page_html.rindex("</body>")
    return page_html[:at] + MEASURE + page_html[at:]


def printed_lines(block: ChangeBlock) -> float:
    """About how many lines a change's block prints: its heading, facts and
    flags, its reading (each text up to TEXT_CHARS, about 90 characters a
    line) and its five tables (a heading and a header row, then each row
    as many lines as its cells wrap to: _row_lines)."""
    reading = sum(max(1, math.ceil(min(len(text), TEXT_CHARS) / 90))
                  for _, text in block.reading)
    tables = sum(3 + sum(_row_lines(row) for row in frame.itertuples(
        index=False)) for frame in (
        block.collisions, block.window_hits, block.bookings, block.evidence,
        block.last_failures))
    return 2 + math.ceil(len(block.facts) / 2) + bool(block.flags) * 1.5 \
        + reading + tables


def _row_lines(row) -> int:
    """About the lines a table row prints: its cells wrap within their
    columns, about 80 characters of them a line ('Application Payments
    Gateway UK (APP-091); Environment PGW-UK-PRD (ENV-0511)' beside a title
    and a span is three)."""
    return max(1, math.ceil(sum(len(str(v)) for v in row) / 80))


def block_html(block: ChangeBlock) -> str:
    """One change for decision as a section that stays whole in print, or,
    longer than a page, that runs on from where the one before ends: kept
    whole, it started on a page of its own and spilled its last rows onto
    the next, which the next block left nearly empty (28 of a million-change
    pack's 117 pages held 15 lines or fewer)."""
    flags = "".join(f"<li>{running(f)}</li>" for f in block.flags)
    long = " long" if printed_lines(block) > PAGE_LINES else ""
    return (
        f'<section class="change{" flagged" if block.flags else ""}{long}">'
        f"<h3>{block.rank}. {escape(block.change_id)} — "
        f"{escape(block.title)}</h3>"
        + definition_list(block.facts, "facts")
        + (f'<ul class="flags">{flags}</ul>' if flags else "")
        + _reading_html(block.reading)
        + "<h4>Collisions</h4>"
        + html_table(block.collisions, "No other change planned on the "
                     "same application, environment or CI at that time.")
        + "<h4>Freeze, blackout and maintenance windows</h4>"
        + html_table(block.window_hits, "No window hit.")
        + "<h4>Environment bookings of its release</h4>"
        + html_table(block.bookings, "No booking of its release overlaps "
                     "the plan." if block.in_release
                     else "The change belongs to no release.")
        + "<h4>Evidence</h4>" + html_table(block.evidence, "")
        + f"<h4>Team's last failures ({TEAM_LOOKBACK_DAYS} days)</h4>"
        + html_table(block.last_failures, "No failed change.")
        + "</section>")
