"""ServiceNow incident list export (CSV or XLSX) -> canonical `incidents`.

The same export rules as change_request (ingest/servicenow.py): field names or
English labels, display or stored values, UTF-8 or Windows-1252, dates in the
exporter's `date_format` and `timezone`. `caused_by` (label "Caused by
Change") is the change's number, so an incident links to the change loaded
from the same instance; `id_prefix` applies to both ids for that reason.
"""
from __future__ import annotations

import pandas as pd

from . import codes, frames, servicenow, times
from .errors import FileError

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
    raw, formats, timezone = servicenow.read_export(path, options)
    columns = servicenow.site_columns(options.get("columns"), COLUMNS, TABLE)
    frames.repeated_headers(raw, {h for hs in columns.values() for h in hs})
    data, used = frames.select(raw, columns)
    if "incident_id" not in data:
        raise FileError(
            f"{raw.name}: missing required column number (found: "
            f"{', '.join(raw.header)})" + frames.delimiter_hint(raw))
    warnings = frames.ignored_warning(raw, used) + servicenow.cap_warning(raw)
    warnings += servicenow.site_columns_missing(raw, options.get("columns"),
                                                data)
    if "priority" in data:
        data["priority"] = codes.leading_integer(data["priority"])
    for column in INSTANTS:
        if column in data:
            parsed = times.instants(data[column], formats, timezone)
            data[column] = parsed.text
            warnings += times.dst_warning(raw.name, column, parsed, timezone,
                                          rows=raw.row_number)
    for column in IDS:
        if column in data:
            data[column] = codes.prefix_ids(data[column],
                                            options.get("id_prefix"))
    return frames.finish(data, raw, source=SOURCE, table=TABLE,
                         warnings=warnings, timezone=timezone,
                         written=frames.pointers(raw, columns),
                         date_formats=formats)
