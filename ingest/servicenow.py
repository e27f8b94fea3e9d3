"""ServiceNow change_request list export: CSV (Windows-1252 or UTF-8) or XLSX.

Headers are field names or English labels; cells display or stored values
(docs/sources.md section 2). Dates use the exporter's `date_format` and
`timezone`, given in `options` (defaults `%Y-%m-%d %H:%M:%S`, UTC).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import codes, frames, reading, schema, times
from .errors import FileError, closest

SOURCE, TABLE = "servicenow", "changes"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
EXPORT_CAP = 10_000
# frames this long keep arrow-backed text columns (see read)
ARROW_ROWS = 100_000
# frames this long leave raw_record NULL: the loader builds the records of
# the rows it rejects only (frames.finish, lazy_records)
LAZY_RECORD_ROWS = 100_000

# canonical column -> headers, tried in order and coalesced row by row
# (field name first, then the English labels of list and Excel exports)
COLUMNS = {
    "change_id": ("number", "Number"),
    "title": ("short_description", "Short description"),
    "description": ("description", "Description"),
    "justification": ("justification", "Justification"),
    "implementation_plan": ("implementation_plan", "Implementation plan"),
    "backout_plan": ("backout_plan", "Backout plan"),
    "test_plan": ("test_plan", "Test plan"),
    "change_type": ("type", "Type"),
    "state": ("state", "State"),
    "risk": ("risk", "Risk"),
    "impact": ("impact", "Impact"),
    "priority": ("priority", "Priority"),
    "category": ("category", "Category"),
    "application_id": ("business_service", "Service", "Business service"),
    "ci_name": ("cmdb_ci", "Configuration item"),
    "assignment_group": ("assignment_group", "Assignment group"),
    "requested_by": ("requested_by", "Requested by"),
    "is_cab_required": ("cab_required", "CAB required"),
    "cab_date": ("cab_date", "CAB date"),
    "approval": ("approval", "Approval"),
    "created_at": ("opened_at", "Opened", "sys_created_on", "Created"),
    "approved_at": ("approval_set", "Approval set"),
    "planned_start_at": ("start_date", "Planned start date"),
    "planned_end_at": ("end_date", "Planned end date"),
    "actual_start_at": ("work_start", "Actual start"),
    "actual_end_at": ("work_end", "Actual end"),
    "closed_at": ("closed_at", "Closed"),
    "close_code": ("close_code", "Close code"),
    "updated_at": ("sys_updated_on", "Updated"),
}
# cab_date falls back to the date of the CAB meeting's date and time
CAB_DATE_TIME = ("cab_date_time", "CAB date time")

# source value (display or stored; trimmed, case-insensitive) -> code
VALUES = {
    "change_type": {"Standard": "standard", "Normal": "normal",
                    "Emergency": "emergency"},
    "state": {"-5": "new", "New": "new", "-4": "assess", "Assess": "assess",
              "-3": "authorize", "Authorize": "authorize",
              "-2": "scheduled", "Scheduled": "scheduled",
              "-1": "implement", "Implement": "implement",
              "0": "review", "Review": "review", "3": "closed",
              "Closed": "closed", "4": "cancelled", "Canceled": "cancelled",
              "Cancelled": "cancelled"},
    "risk": {"1": "very_high", "Very High": "very_high", "2": "high",
             "High": "high", "3": "moderate", "Moderate": "moderate",
             "4": "low", "Low": "low"},
    "impact": {"1": "high", "1 - High": "high", "2": "medium",
               "2 - Medium": "medium", "3": "low", "3 - Low": "low"},
    "approval": {"Not Yet Requested": "not_yet_requested",
                 "not requested": "not_yet_requested",
                 "Requested": "requested", "Approved": "approved",
                 "Rejected": "rejected", "No Longer Required": "not_required",
                 "not_required": "not_required"},
    "close_code": {"Successful": "successful",
                   "Successful with issues": "successful_with_issues",
                   "successful_issues": "successful_with_issues",
                   "Unsuccessful": "unsuccessful", "None": None},
}
INSTANTS = ("created_at", "approved_at", "planned_start_at", "planned_end_at",
            "actual_start_at", "actual_end_at", "closed_at", "updated_at")


def read(path, *, table=None, options=None) -> pd.DataFrame:
    """Canonical `changes` columns as text plus bookkeeping (docs/adapters.md).

    options: `date_format` (str or list, default `%Y-%m-%d %H:%M:%S`),
    `timezone` (IANA, default UTC), `sheet` (XLSX), `id_prefix` (for a
    second instance), `encoding` (list), `values` (site overrides:
    {canonical column: {source value: code}}, e.g. "Backed Out"),
    `columns` (site fields: {canonical column: header or [headers]}, tried
    before the built-in headers, e.g. {"release_id": "u_release"}).

    The columns are worked on as pyarrow arrays (codes once per distinct
    value, instants by a vectorised parse). A file of ARROW_ROWS rows or more
    comes back with arrow-backed text columns (NULL is pd.NA), like the
    canonical adapter's large files; a smaller one as object text with None.
    """
    options = dict(options or {})
    raw, formats, timezone = read_export(path, options)
    columns = site_columns(options.get("columns"))
    frames.repeated_headers(raw, {h for hs in columns.values() for h in hs})
    # a list of the site's own headers is coalesced row by row (sources.md
    # section 7): only the built-in ones are a repeated column
    _same_column_twice(raw, {c: h for c, h in columns.items()
                             if c not in (options.get("columns") or {})})
    data, used = frames.select(raw, columns)
    if "change_id" not in data:
        raise FileError(
            f"{raw.name}: missing required column number (found: "
            f"{', '.join(raw.header)})" + frames.delimiter_hint(raw))
    warnings = frames.ignored_warning(raw, used | _positions(raw, CAB_DATE_TIME))
    warnings += cap_warning(raw)
    warnings += site_columns_missing(raw, options.get("columns"), data)
    values = {column: dict(mapping) for column, mapping in VALUES.items()}
    for column, extra in (options.get("values") or {}).items():
        values.setdefault(column, {}).update(extra)
    for column, mapping in values.items():
        if column in data:
            data[column] = codes.recode(
                data[column], mapping, codes=codes.allowed(TABLE, column))
    if "priority" in data:
        data["priority"] = codes.leading_integer(data["priority"])
    if "is_cab_required" in data:
        data["is_cab_required"] = codes.booleans(data["is_cab_required"])
    cab_time = next((raw.trimmed(raw.positions(h)[0]) for h in CAB_DATE_TIME
                     if raw.positions(h)), None)
    if cab_time is not None:
        data["cab_date"] = (pc.coalesce(data["cab_date"], cab_time)
                            if "cab_date" in data else cab_time)
    if "cab_date" in data:
        data["cab_date"] = times.dates(data["cab_date"], formats)
    if len(raw) >= LAZY_RECORD_ROWS:
        # the cells of the codes, flags and unread columns are kept for
        # the records of rejected rows alone: moved out of memory before
        # the instants are parsed (the read's peak), not after
        frames.spill(raw, data.values())
    instants = [c for c in INSTANTS if c in data]
    parsed = reading.parallel(
        lambda c: times.instants(data[c], formats, timezone), instants)
    for column, result in zip(instants, parsed, strict=True):
        data[column] = result.text
        warnings += times.dst_warning(raw.name, column, result, timezone,
                                      rows=raw.row_number)
    _cancelled_and_approval(data)
    data["change_id"] = codes.prefix_ids(data["change_id"],
                                         options.get("id_prefix"))
    return frames.finish(data, raw, source=SOURCE, table=TABLE,
                         warnings=warnings, timezone=timezone,
                         arrow=len(raw) >= ARROW_ROWS,
                         lazy_records=len(raw) >= LAZY_RECORD_ROWS,
                         written=frames.pointers(raw, columns),
                         date_formats=formats)


def read_export(path, options: dict):
    """A list export (CSV or XLSX) as a Raw, with its date formats and time
    zone from the options (change_request and incident exports alike)."""
    formats = options.get("date_format", DATE_FORMAT)
    formats = [formats] if isinstance(formats, str) else list(formats)
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        # a date cell is a date and time, whatever the site's text format:
        # written whole (a format without seconds dropped them) and read by
        # that format, after the site's (its text cells are in theirs)
        raw = reading.read_xlsx(path, sheet=options.get("sheet"),
                                date_format=DATE_FORMAT)
        formats = list(dict.fromkeys([*formats, DATE_FORMAT]))
    else:
        raw = reading.read_delimited(path, encodings=options.get(
            "encoding", reading.ENCODINGS))
    return raw, formats, options.get("timezone", "UTC")


def _cancelled_and_approval(data: dict) -> None:
    """Cancelled with no close code -> cancelled (rejected if the approval
    was rejected); an approval time counts only for approved changes (all
    of them when the export has no approval column)."""
    rows = len(data["change_id"])
    nulls = pa.nulls(rows, type=pa.string())
    approval = data.get("approval", nulls)
    if "state" in data:
        close = data.get("close_code", nulls)
        empty = pc.and_(pc.equal(data["state"], "cancelled"),
                        close.is_null()).fill_null(False)
        rejected = pc.equal(approval, "rejected").fill_null(False)
        close = pc.if_else(pc.and_(empty, rejected), "rejected", close)
        close = pc.if_else(pc.and_(empty, pc.invert(rejected)), "cancelled",
                           close)
        data["close_code"] = close
    # approval_set is also set when a change is rejected: kept for approved
    # changes; an export without the approval column cannot say, so its
    # times are kept as they are (dropping them all lost every approval)
    if "approved_at" in data and "approval" in data:
        keep = pc.equal(approval, "approved").fill_null(False)
        data["approved_at"] = pc.if_else(keep, data["approved_at"], None)


def cap_warning(raw) -> list[str]:
    """A warning when an export has exactly the export cap's rows."""
    if len(raw) != EXPORT_CAP:
        return []
    return [f"{raw.name}: exactly {EXPORT_CAP:,} rows, the ServiceNow "
            "export cap: the export may be truncated"]


def site_columns(extra, columns=None, table: str = TABLE
                 ) -> dict[str, tuple[str, ...]]:
    """`columns` (default COLUMNS) with a site's headers first; an unknown
    canonical column of `table` fails."""
    columns = dict(COLUMNS if columns is None else columns)
    known = schema.describe(table).columns
    for canonical, headers in (extra or {}).items():
        if canonical not in known:
            raise FileError(
                f"overrides: unknown {table} column {canonical!r}"
                f"{closest(canonical, known)}")
        headers = (headers,) if isinstance(headers, str) else tuple(headers)
        columns[canonical] = headers + tuple(
            h for h in columns.get(canonical, ()) if h not in headers)
    return columns


def site_columns_missing(raw, extra, data: dict) -> list[str]:
    """A warning per column the overrides map (`extra`: {canonical column:
    header or [headers]}) to none of the file's headers, saying whether
    the column stays empty or is read from a built-in header (`data`: the
    columns read): the sample's u_release and u_environment on an export
    without them left release_id and environment_id empty without a
    word."""
    said = []
    for canonical, headers in (extra or {}).items():
        headers = (headers,) if isinstance(headers, str) else tuple(headers)
        if not any(raw.positions(h) for h in headers):
            said.append(
                f"{raw.name}: the overrides read {canonical} from "
                f"{' or '.join(headers)}, which the file does not have: "
                + (f"{canonical} is read from the export's own header"
                   if canonical in data else f"{canonical} stays empty"))
    return said


def _positions(raw, headers) -> set[int]:
    return {i for h in headers for i in raw.positions(h)}


def _same_column_twice(raw, columns) -> None:
    """Field name and label of one field both present is a repeated column."""
    for canonical, headers in columns.items():
        if canonical == "created_at":
            continue  # opened_at, else sys_created_on: both may be exported
        found = [raw.header[i] for i in sorted(_positions(raw, headers))]
        if len(found) > 1:
            raise FileError(
                f"{raw.name}: column {canonical} is given twice "
                f"({', '.join(found)})")
