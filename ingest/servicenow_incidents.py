"""ServiceNow incident list export (CSV or XLSX) -> canonical `incidents`.

The same export rules as change_request (ingest/servicenow.py): field names or
English labels, display or stored values, UTF-8 or Windows-1252, dates in the
exporter's `date_format` and `timezone`. `caused_by` (label "Caused by
Change") is the change's number, so an incident links to the change loaded
from the same instance; `id_prefix` applies to both ids for that reason.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import frames, servicenow

SOURCE, TABLE = "servicenow", "incidents"

COLUMNS = {
    "incident_id": ("number", "Number"),
    "title": ("short_description", "Short description"),
    "application_id": ("business_service", "Service", "Business service"),
    "priority": ("priority", "Priority"),
    "opened_at": ("opened_at", "Opened"),
    "resolved_at": ("resolved_at", "Resolved"),
    "caused_by_change_id": ("caused_by", "Caused by Change"),
}
INSTANTS = ("opened_at", "resolved_at")
IDS = ("incident_id", "caused_by_change_id")


def read(path, *, table=None, options=None) -> pd.DataFrame:
    """Canonical `incidents` columns as text plus bookkeeping
    (docs/adapters.md). options: `date_format` (str or list), `timezone`,
    `sheet`, `id_prefix`, `encoding`, `columns` (site fields, as for
    change_request)."""
    options = dict(options or {})
    formats = options.get("date_format", servicenow.DATE_FORMAT)
    formats = [formats] if isinstance(formats, str) else list(formats)
    timezone = options.get("timezone", "UTC")
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = frames.read_xlsx(path, sheet=options.get("sheet"),
                               date_format=formats[0])
    else:
        raw = frames.read_delimited(path, encodings=options.get(
            "encoding", frames.ENCODINGS))
    columns = servicenow.site_columns(options.get("columns"), COLUMNS, TABLE)
    frames.repeated_headers(raw, {h for hs in columns.values() for h in hs})
    frame, used = frames.select(raw, columns)
    if "incident_id" not in frame:
        raise frames.FileError(
            f"{raw.name}: missing required column number (found: "
            f"{', '.join(raw.header)})")
    warnings = frames.ignored_warning(raw, used) + servicenow.cap_warning(raw)
    if "priority" in frame:
        frame["priority"] = frames.leading_integer(frame["priority"])
    for column in INSTANTS:
        if column in frame:
            parsed = frames.instants(frame[column], formats, timezone)
            frame[column] = parsed.text
            warnings += frames.dst_warning(raw.name, column, parsed, timezone,
                                           rows=raw.row_number)
    for column in IDS:
        if column in frame:
            frame[column] = frames.prefix_ids(frame[column],
                                              options.get("id_prefix"))
    return frames.finish(frame, raw, source=SOURCE, table=TABLE,
                         warnings=warnings, timezone=timezone)
