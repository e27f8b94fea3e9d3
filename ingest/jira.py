"""Jira Service Management change issues: the issue navigator's CSV export.

Standard fields by label, custom fields as `Custom field (<name>)`, repeated
headers for multi-valued fields (docs/sources.md section 4). Dates follow the
exporter's profile: `date_format` and `timezone` in `options` (defaults
`%d/%b/%y %I:%M %p`, UTC).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from changeboard.words import many

from . import codes, frames, reading, times
from .errors import FileError

SOURCE, TABLE = "jira", "changes"
DATE_FORMAT = "%d/%b/%y %I:%M %p"
EXPORT_CAP = 1_000
ISSUE_TYPES = ("Change",)

COLUMNS = {
    "change_id": ("Issue key",),
    "title": ("Summary",),
    "description": ("Description",),
    # the plan fields of the JSM IT service management change form, where a
    # site has them (absent headers leave the columns NULL)
    "implementation_plan": ("Custom field (Implementation plan)",),
    "backout_plan": ("Custom field (Backout plan)",),
    "test_plan": ("Custom field (Test plan)",),
    "created_at": ("Created",),
    "updated_at": ("Updated",),
    "closed_at": ("Resolved",),
    "change_type": ("Custom field (Change type)",),
    "risk": ("Custom field (Change risk)",),
    "category": ("Custom field (Change reason)",),
    "planned_start_at": ("Custom field (Change start date)",
                         "Custom field (Planned start)"),
    "planned_end_at": ("Custom field (Change completion date)",
                       "Custom field (Planned end)"),
    "impact": ("Custom field (Impact)",),
    "priority": ("Priority",),
    "application_id": ("Custom field (Affected services)",),
    "release_id": ("Fix versions", "Fix Version/s"),
    "requested_by": ("Reporter",),
}
MULTI_VALUED = ("application_id", "release_id")   # first value, warning if more
ISSUE_TYPE, STATUS, RESOLUTION = "Issue Type", "Status", "Resolution"

VALUES = {
    "change_type": {"Standard": "standard", "Normal": "normal",
                    "Emergency": "emergency"},
    "risk": {"Low": "low", "Medium": "moderate", "High": "high",
             "Critical": "very_high"},
    # Jira Cloud's default priorities, and Server and Data Center's (their
    # 'Major' was rejected as not a whole number, the whole change with it:
    # a data administrator's walkthrough)
    "priority": {"Highest": "1", "High": "2", "Medium": "3", "Low": "4",
                 "Lowest": "5", "Blocker": "1", "Critical": "2",
                 "Major": "3", "Minor": "4", "Trivial": "5"},
}
# matched by prefix: "Extensive / Widespread", "Significant / Large", ...
IMPACT = {"Extensive": "high", "Significant": "high", "Moderate": "medium",
          "Minor": "low"}
CLOSED = "resolution"   # close code comes from the Resolution field
# status -> (state, close_code, approval); per workflow: override in options
STATUS_CODES = {
    "Open": ("new", None, None),
    "Planning": ("assess", None, None),
    "Peer review": ("assess", None, None),
    "Awaiting approval": ("authorize", None, "requested"),
    "Awaiting implementation": ("scheduled", None, None),
    "Implementing": ("implement", None, None),
    "Completed": ("closed", CLOSED, None),
    "Done": ("closed", CLOSED, None),
    "Closed": ("closed", CLOSED, None),
    "Failed": ("closed", "unsuccessful", None),
    "Canceled": ("cancelled", "cancelled", None),
    "Cancelled": ("cancelled", "cancelled", None),
    "Declined": ("cancelled", "rejected", "rejected"),
}
RESOLUTION_CODES = {"Done": "successful", "Completed": "successful",
                    "Successful": "successful", "Failed": "unsuccessful",
                    "Backed out": "backed_out", "Rolled back": "backed_out"}


def read(path, *, table=None, options=None) -> pd.DataFrame:
    """Canonical `changes` columns as text plus bookkeeping (docs/adapters.md).

    options: `date_format` (str or list), `timezone`, `issue_types` (default
    ["Change"]), `project_key` (release ids `<key>:<version>`; default the
    issue key's project; a key without `-` gives the bare name), `id_prefix`,
    `encoding`, `status` ({status: [state, close_code, approval]})
    and `resolution` ({resolution: close_code}) overrides.
    """
    options = dict(options or {})
    formats = options.get("date_format", DATE_FORMAT)
    formats = [formats] if isinstance(formats, str) else list(formats)
    timezone = options.get("timezone", "UTC")
    raw = reading.read_delimited(path, encodings=options.get(
        "encoding", reading.ENCODINGS))
    single = [h for c, hs in COLUMNS.items() if c not in MULTI_VALUED for h in hs]
    frames.repeated_headers(raw, [*single, ISSUE_TYPE, STATUS, RESOLUTION])
    for needed in ("Issue key", STATUS, "Created"):
        if not raw.positions(needed):
            raise FileError(f"{raw.name}: missing required column "
                            f"{needed!r} (found: {', '.join(raw.header)})"
                            + frames.delimiter_hint(raw))
    data, used = frames.select(raw, {c: hs for c, hs in COLUMNS.items()
                                     if c not in MULTI_VALUED})
    warnings = []
    for column in MULTI_VALUED:
        values, more, positions = _first_values(raw, COLUMNS[column])
        used |= positions
        if values is not None:
            data[column] = values
        if more:
            warnings.append(
                f"{raw.name}: column {column}: {many(more, 'row')} "
                f"{'has' if more == 1 else 'have'} several values; the first "
                "is kept")
    extra = {raw.positions(h)[0] for h in (ISSUE_TYPE, STATUS, RESOLUTION)
             if raw.positions(h)}
    warnings = frames.ignored_warning(raw, used | extra) + warnings
    if len(raw) == EXPORT_CAP:
        warnings.append(f"{raw.name}: exactly {EXPORT_CAP:,} rows, the Jira "
                        "export cap: the export may be truncated")
    for column, mapping in VALUES.items():
        if column in data:
            data[column] = codes.recode(data[column], mapping,
                                        codes=codes.allowed(TABLE, column))
    if "priority" in data:
        data["priority"] = codes.leading_integer(data["priority"])
    if "impact" in data:
        data["impact"] = codes.recode(data["impact"], IMPACT, match="prefix",
                                      codes=codes.allowed(TABLE, "impact"))
    _status(data, raw, options)
    if "release_id" in data:
        data["release_id"] = _release_ids(data, options.get("project_key"))
    data["change_id"] = codes.prefix_ids(data["change_id"],
                                         options.get("id_prefix"))
    for column in ("created_at", "updated_at", "closed_at", "planned_start_at",
                   "planned_end_at"):
        if column in data:
            parsed = times.instants(data[column], formats, timezone)
            data[column] = parsed.text
            warnings += times.dst_warning(raw.name, column, parsed, timezone,
                                          rows=raw.row_number)
    frame = frames.finish(data, raw, source=SOURCE, table=TABLE,
                          warnings=warnings, timezone=timezone,
                          written=frames.pointers(raw, {
                              **{c: hs for c, hs in COLUMNS.items()
                                 if c not in MULTI_VALUED},
                              "state": (STATUS,),
                              "close_code": (RESOLUTION,)}),
                          date_formats=formats)
    wanted = {codes.key(t) for t in options.get("issue_types", ISSUE_TYPES)}
    if raw.positions(ISSUE_TYPE):
        kinds = pd.Series(raw.column(ISSUE_TYPE), dtype=object, index=frame.index)
        other = ~kinds.fillna("").map(codes.key).isin(wanted)
        # the reject shows the cell as the file wrote it, untrimmed
        written = frames.series(raw.cells[raw.positions(ISSUE_TYPE)[0]],
                                frame.index)
        frames.reject(frame, other, "wrong_issue_type", ISSUE_TYPE, written)
    _unread(frame, raw, options)
    return frame


def _unread(frame: pd.DataFrame, raw, options) -> None:
    """A Status, Resolution, change type, risk or priority that no map of
    this load reads: rejected as unmapped_code in its column, the cell as
    the file wrote it and the detail naming what this load reads and where
    to map others. The loader's own detail lists the canonical codes, which
    a Jira site never writes, and named no file column for Status (a data
    administrator's walkthrough)."""
    statuses = [*STATUS_CODES, *(options.get("status") or {})]
    resolutions = [*RESOLUTION_CODES, *(options.get("resolution") or {})]
    for column, headers, names, more in (
            ("state", (STATUS,), statuses, "the overrides file's [status] "
             "table maps others"),
            ("close_code", (RESOLUTION,), resolutions, "the overrides file's "
             "[resolution] table maps others"),
            *((c, COLUMNS[c], list(VALUES[c]), "a mapping file reads "
               "others") for c in ("change_type", "risk", "priority"))):
        found = next((raw.positions(h)[0] for h in headers
                      if raw.positions(h)), None)
        if column not in frame or found is None:
            continue
        values = frame[column].astype(object)
        unread = ~values.isin(codes.allowed(TABLE, column)) if \
            column != "priority" else ~values.astype(str).str.isdigit()
        frames.reject(
            frame, values.notna() & unread, "unmapped_code", column,
            frames.series(raw.cells[found], frame.index),
            "not a value this load reads ("
            f"{', '.join(dict.fromkeys(names))}, or "
            + ("a number" if column == "priority" else "a code: "
               f"{', '.join(codes.allowed(TABLE, column))}")
            + f"); {more}")


def _first_values(raw, headers):
    """First non-empty cell over the repeated columns of a field, the number
    of rows with more than one value and the positions read."""
    positions = list(dict.fromkeys(i for h in headers
                                   for i in raw.positions(h)))
    if not positions:
        return None, 0, set()
    cells = [raw.trimmed(i) for i in positions]
    first, count = cells[0], np.zeros(len(raw), dtype=np.int64)
    for column in cells:
        count += column.is_valid().to_numpy(zero_copy_only=False)
    for column in cells[1:]:
        first = pc.coalesce(first, column)
    return first, int((count > 1).sum()), set(positions)


def _status(data: dict, raw, options) -> None:
    """state, close_code and approval from Status (and Resolution)."""
    table = {codes.key(k): tuple(v) for k, v in STATUS_CODES.items()}
    table.update({codes.key(k): tuple(v)
                  for k, v in (options.get("status") or {}).items()})
    resolutions = dict(RESOLUTION_CODES)
    resolutions.update(options.get("resolution") or {})
    states = set(codes.allowed(TABLE, "state"))

    def one(value):
        found = table.get(codes.key(value))
        if found:
            return found
        code = codes.as_code(value)
        if code in states:   # a status named like a state (e.g. Review)
            return (code, CLOSED if code == "closed" else None, None)
        return (value, None, None)

    encoded = pc.dictionary_encode(raw.trimmed(raw.positions(STATUS)[0]))
    triples = [one(v) for v in encoded.dictionary.to_pylist()]
    state, close, approval = (
        pc.take(pa.array([t[i] for t in triples], pa.string()),
                encoded.indices) for i in range(3))
    resolution = (raw.trimmed(raw.positions(RESOLUTION)[0])
                  if raw.positions(RESOLUTION)
                  else pa.nulls(len(raw), pa.string()))
    by_resolution = codes.recode(resolution, resolutions,
                                 codes=codes.allowed(TABLE, "close_code"))
    data["state"] = state
    data["close_code"] = pc.if_else(
        pc.equal(close, CLOSED).fill_null(False), by_resolution, close)
    data["approval"] = approval


def _release_ids(data: dict, project_key: str | None) -> pa.Array:
    """`<project key>:<version name>`; the project is the issue key's part
    before its last `-` unless configured; a key without one: the name."""
    releases = data["release_id"]
    if project_key:
        return pc.binary_join_element_wise(project_key, ":", releases, "")
    project = codes.by_unique(data["change_id"], lambda k: k.rsplit(
        "-", 1)[0] if "-" in k else None)
    return pc.if_else(pc.and_(releases.is_valid(), project.is_valid()),
                      pc.binary_join_element_wise(project, ":", releases, ""),
                      releases)
