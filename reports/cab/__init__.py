"""The CAB pack: the pre-read of a Change Advisory Board meeting.

build_pack() runs the CAB queries for one meeting into a Pack; to_html(),
to_xlsx() and to_pdf() render exactly that pack, and the CAB page shows it.
Every output carries the provenance (meeting, window, filters, data as-of,
batch ids) needed to regenerate it.

The modules: meetings (the cadence), pack (the Pack and build_pack),
evidence (each change's facts, evidence and flags, worked out once),
blocks (each change in detail), tables (the sections as tables),
provenance, html (with pack.html and pack.css), xlsx and pdf. The
formatting they share with the other reports and the pages is
reports/text.py; the HTML pieces, reports/markup.py.
"""
from reports.cab.blocks import LAST_FAILURES_SHOWN, ChangeBlock, blocks
from reports.cab.evidence import (
    LITTLE_HISTORY_N,
    READING,
    RECENT_FAILURE_DAYS,
    app_label,
    environment,
    named,
)
from reports.cab.html import CSS, TEXT_CHARS, block_html, for_print, to_html
from reports.cab.meetings import (
    cab_weekdays,
    following_meeting,
    instant,
    meeting_on,
    next_meeting,
    off_cadence,
    previous_meeting,
    reporting_zone,
    window_end_text,
)
from reports.cab.pack import (
    FILTER_NAMES,
    INCIDENT_LOOKBACK_DAYS,
    MAX_WINDOW_DAYS,
    SIMILAR_LOOKBACK_DAYS,
    TEAM_LOOKBACK_DAYS,
    Pack,
    PackOutdated,
    build_pack,
    data_ends,
    data_file,
    logged_until,
    queries_of,
    stale_note,
    whole,
    with_since,
)
from reports.cab.pdf import CHROMIUM, pdf_bytes, print_pdf, to_pdf
from reports.cab.provenance import (
    cadence,
    decisions_read,
    provenance,
    since_cut,
    since_days,
    version_time,
)
from reports.cab.tables import (
    AGENDA_LINES,
    AGENDA_TITLE_CHARS,
    DETAIL_LIMIT,
    NOT_SUBMITTED,
    REASONS,
    RELEASE_CHANGES_SHOWN,
    RELEASE_LINES,
    RELEASES_INTRO,
    agenda_lines,
    decision_table,
    empty_agenda,
    headline,
    kpi_before,
    kpi_left_out,
    kpi_n,
    kpi_note,
    kpi_notes,
    kpi_since_unknown,
    kpi_small,
    kpi_table,
    kpi_unknown,
    no_release_going_live,
    release_lines,
    releases_note,
    releases_unfiltered,
    sections,
    since_empty,
    since_last,
    since_none,
    size_note,
)
from reports.cab.xlsx import XLSX_EPOCH, to_xlsx, write_xlsx
from reports.text import (
    NO_REASONS,
    READINESS,
    as_text,
    lateness,
    pct,
    readiness_chip,
    reasons_line,
    reasons_said,
    shorten,
    span,
    when,
)

__all__ = [
    "AGENDA_LINES", "AGENDA_TITLE_CHARS", "CHROMIUM", "CSS", "ChangeBlock",
    "DETAIL_LIMIT", "FILTER_NAMES", "INCIDENT_LOOKBACK_DAYS",
    "LAST_FAILURES_SHOWN", "LITTLE_HISTORY_N", "MAX_WINDOW_DAYS", "NO_REASONS",
    "NOT_SUBMITTED",
    "Pack", "PackOutdated", "READINESS", "READING", "REASONS",
    "RECENT_FAILURE_DAYS", "RELEASES_INTRO", "RELEASE_CHANGES_SHOWN",
    "RELEASE_LINES", "SIMILAR_LOOKBACK_DAYS", "TEAM_LOOKBACK_DAYS",
    "TEXT_CHARS", "XLSX_EPOCH", "agenda_lines", "app_label", "as_text",
    "block_html", "blocks", "build_pack", "cab_weekdays", "cadence",
    "data_ends", "data_file", "decision_table", "decisions_read", "empty_agenda",
    "environment", "following_meeting", "for_print", "headline", "instant",
    "kpi_before", "kpi_left_out", "kpi_n", "kpi_note", "kpi_notes",
    "kpi_since_unknown", "kpi_small", "kpi_table",
    "kpi_unknown", "lateness", "logged_until", "meeting_on", "named",
    "next_meeting",
    "no_release_going_live", "off_cadence", "pct",
    "pdf_bytes", "previous_meeting", "print_pdf", "provenance", "queries_of",
    "readiness_chip", "reasons_line", "reasons_said", "release_lines",
    "releases_note", "releases_unfiltered", "reporting_zone", "sections",
    "shorten",
    "since_cut", "since_days", "since_empty", "since_last", "since_none",
    "size_note",
    "stale_note",
    "span", "to_html", "to_pdf", "to_xlsx", "version_time", "when", "whole",
    "window_end_text", "with_since", "write_xlsx",
]
