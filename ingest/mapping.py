"""Bring your own export: a TOML mapping file describes one file shape.

`read(path, options={"mapping": "bpic2014"})` (a name in ingest/mappings/ or a
path to a .toml file). The file format is docs/sources.md section 7: `[source]`,
`[columns]` and `[values.<name>]`. The mapping is checked (canonical columns,
codes, value maps) and the file's header against it before any row is read.
"""
from __future__ import annotations

import string
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from changeboard.words import many

from . import codes, frames, reading, schema, times
from .errors import FileError, closest

SOURCE, TABLE = None, None   # per mapping file: the frame's Batch
MAPPINGS = Path(__file__).resolve().parent / "mappings"
SOURCE_KEYS = {"name", "table", "description", "id_prefix", "encoding",
               "delimiter", "quote", "comment", "timezone", "date_formats",
               "null_values", "true_values", "false_values", "duplicate_ids",
               "latest_by", "mode", "excludes"}
# [source] keys that take a text or a list of texts; the others a text
LIST_KEYS = {"encoding", "date_formats", "null_values", "true_values",
             "false_values", "excludes"}
COLUMN_KEYS = {"from", "values", "match", "when", "value", "merge",
               "template"}
MERGES = ("must_agree", "first", "min", "max")
DUPLICATES = ("reject", "merge", "latest")
PRIMARY_KEYS = {"release_phases": ("release_id", "phase")}
DEFAULT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")


@dataclass
class Column:
    name: str                       # canonical column
    source: str | None = None       # header
    values: dict | None = None      # source value -> code
    match: str = "exact"
    when: dict | None = None        # {column, equals, value}
    value: str | None = None        # constant
    merge: str = "must_agree"
    template: str | None = None     # "{product}:{cycle}": headers in braces

    @property
    def template_headers(self) -> list[str]:
        """The headers a template names, in order, each once."""
        if self.template is None:
            return []
        return list(dict.fromkeys(
            name for _, name, _, _ in string.Formatter().parse(self.template)
            if name is not None))


@dataclass
class Mapping:
    file: str
    name: str
    table: str
    columns: list[Column]
    id_prefix: str | None = None
    encoding: tuple[str, ...] = reading.ENCODINGS
    delimiter: str = ","
    quote: str = '"'
    comment: str | None = None
    timezone: str = "UTC"
    date_formats: tuple[str, ...] = DEFAULT_FORMATS
    null_values: tuple[str, ...] = ("",)
    true_values: tuple[str, ...] = codes.TRUE_VALUES
    false_values: tuple[str, ...] = codes.FALSE_VALUES
    duplicate_ids: str = "reject"
    latest_by: str | None = None
    mode: str = "upsert"
    # sources whose rows of the table this mapping's must not join: the
    # same data at another grain (endoflife.date's versions and cycles)
    excludes: tuple[str, ...] = ()
    headers: list[str] = field(default_factory=list)

    @property
    def keys(self) -> tuple[str, ...]:
        return PRIMARY_KEYS.get(self.table, (_primary(self.table),))


def _primary(table: str) -> str:
    names = {"changes": "change_id", "applications": "application_id",
             "environments": "environment_id", "blackout_windows": "window_id",
             "releases": "release_id", "deployments": "deployment_id",
             "environment_bookings": "booking_id", "incidents": "incident_id"}
    return names[table]


def load(spec) -> Mapping:
    """Parse and check a mapping: a name in ingest/mappings/, a path or a dict.

    Raises FileError naming the mapping, the column and the value.
    """
    if isinstance(spec, dict):
        data, file = spec, "<mapping>"
    else:
        path = locate(spec)
        file = path.name
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FileError(f"{file}: invalid mapping file: {exc}") from exc
    return _check(file, data)


def target(spec) -> str | None:
    """The canonical table a mapping (name, path or dict) is for: the
    checked mapping's, or, of a mapping that does not pass the checks, the
    table its [source] names if there is one; None if it names none."""
    if spec is None:
        return None
    try:
        return load(spec).table
    except (FileError, UnicodeDecodeError):
        pass
    try:
        data = spec if isinstance(spec, dict) else tomllib.loads(
            locate(spec).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    source = data.get("source")
    table = source.get("table") if isinstance(source, dict) else None
    return table if table in schema.TABLES else None


def locate(spec) -> Path:
    """The file of a mapping given by path or by a shipped name."""
    path = Path(spec)
    if not path.suffix and not path.exists():
        path = MAPPINGS / f"{spec}.toml"
    return path


def _column(name: str, spec, table: str, canonical, value_maps: dict,
            fail) -> Column:
    """One [columns] entry, checked against the table's columns and codes."""
    if name not in canonical.columns:
        fail(f"unknown column {name!r} for table {table}"
             f"{closest(name, canonical.columns)}")
    allowed = canonical.codes.get(name, [])
    if isinstance(spec, str):
        return Column(name, source=spec)
    if not isinstance(spec, dict):
        fail(f"column {name}: expected a header or a table, not {spec!r}")
    for key in spec:
        if key not in COLUMN_KEYS:
            fail(f"column {name}: unknown key {key!r}"
                 f"{closest(key, COLUMN_KEYS)}")
    column = Column(name, source=spec.get("from"),
                    match=spec.get("match", "exact"),
                    merge=spec.get("merge", "must_agree"),
                    value=spec.get("value"), when=spec.get("when"),
                    template=spec.get("template"))
    given = [k for k in ("from", "value", "template") if k in spec]
    if len(given) != 1:
        fail(f"column {name}: give exactly one of from, value or template")
    if column.template is not None:
        try:
            headers = column.template_headers
        except ValueError as exc:
            fail(f"column {name}: template {column.template!r}: {exc}")
        if not headers or any(not h or h.isdigit() for h in headers):
            fail(f"column {name}: template {column.template!r} must name "
                 "headers in braces, e.g. \"{product}:{cycle}\"")
        if any(conv or fmt for _, n, fmt, conv in string.Formatter().parse(
                column.template) if n is not None):
            fail(f"column {name}: template {column.template!r}: only "
                 "{header} fields, no conversions or formats")
    if column.match not in ("exact", "prefix"):
        fail(f"column {name}: match must be exact or prefix, "
             f"not {column.match!r}")
    if column.merge not in MERGES:
        fail(f"column {name}: merge must be one of {', '.join(MERGES)}, "
             f"not {column.merge!r}")
    if "values" in spec:
        if spec["values"] not in value_maps:
            fail(f"column {name}: no [values.{spec['values']}]")
        column.values = value_maps[spec["values"]]
        for source_value, code in column.values.items():
            if allowed and code not in allowed:
                fail(f"[values.{spec['values']}] {source_value!r} = "
                     f"{code!r}: not a {name} code (allowed: "
                     f"{', '.join(allowed)})")
    if column.when is not None:
        when = column.when
        if set(when) != {"column", "equals", "value"}:
            fail(f"column {name}: when needs column, equals and value")
        if allowed and when["value"] not in allowed:
            fail(f"column {name}: when value {when['value']!r} is not a "
                 f"code (allowed: {', '.join(allowed)})")
    if column.value is not None and allowed and column.value not in allowed:
        fail(f"column {name}: value {column.value!r} is not a code "
             f"(allowed: {', '.join(allowed)})")
    return column


def _check(file: str, data: dict) -> Mapping:
    def fail(message: str):
        raise FileError(f"{file}: invalid mapping: {message}")

    source = data.get("source") or fail("no [source] table")
    for key in source:
        if key not in SOURCE_KEYS:
            fail(f"[source] unknown key {key!r}{closest(key, SOURCE_KEYS)}")
    for key in ("name", "table"):
        if not source.get(key):
            fail(f"[source] {key} is required")
    for key, value in source.items():
        if key in LIST_KEYS:
            listed = [value] if isinstance(value, str) else value
            if (not isinstance(listed, list) or not listed
                    or not all(isinstance(v, str) for v in listed)):
                fail(f"[source] {key} must be a text or a list of texts, "
                     f"not {value!r}")
        elif key != "timezone" and not isinstance(value, str):
            # (a time zone is checked below, as IANA)
            fail(f"[source] {key} must be a text, not {value!r}")
    table = source["table"]
    if table not in schema.TABLES:
        fail(f"unknown table {table!r}{closest(table, schema.TABLES)}")
    canonical = schema.describe(table)
    value_maps = data.get("values") or {}
    for section in data:
        if section not in ("source", "columns", "values"):
            fail(f"unknown section [{section}]")
    columns = []
    for name, spec in (data.get("columns") or {}).items():
        columns.append(_column(name, spec, table, canonical, value_maps,
                               fail))
    mapping = Mapping(file=file, name=source["name"], table=table,
                      columns=columns)
    for key in ("id_prefix", "delimiter", "quote", "comment", "timezone",
                "duplicate_ids", "latest_by", "mode"):
        if key in source:
            setattr(mapping, key, source[key])
    for key in ("encoding", "date_formats", "null_values", "true_values",
                "false_values", "excludes"):
        if key in source:
            value = source[key]
            setattr(mapping, key, (value,) if isinstance(value, str)
                    else tuple(value))
    if "timezone" in source:
        try:
            zoneinfo.ZoneInfo(mapping.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            fail(f"[source] timezone {mapping.timezone!r} is not an IANA "
                 "time zone (e.g. Europe/Amsterdam)")
    if mapping.duplicate_ids not in DUPLICATES:
        fail(f"duplicate_ids must be one of {', '.join(DUPLICATES)}, "
             f"not {mapping.duplicate_ids!r}")
    if mapping.duplicate_ids == "latest" and not mapping.latest_by:
        fail("duplicate_ids = \"latest\" needs latest_by")
    if mapping.mode not in ("upsert", "snapshot"):
        fail(f"mode must be upsert or snapshot, not {mapping.mode!r}")
    mapped = {c.name for c in columns}
    for key in mapping.keys:
        if key not in mapped:
            fail(f"the primary key column {key} is not mapped")
    return mapping


def read(path, *, table=None, options=None) -> pd.DataFrame:
    """Canonical columns of the mapping's table as text plus bookkeeping.

    options: `mapping` (required: name, path or dict).
    """
    options = dict(options or {})
    if "mapping" not in options:
        raise FileError(f"{Path(path).name}: no mapping given")
    mapping = load(options["mapping"])
    if table and table != mapping.table:
        raise FileError(f"{Path(path).name}: mapping {mapping.file} is for "
                        f"table {mapping.table}, not {table}")
    raw = reading.read_delimited(path, encodings=mapping.encoding,
                                 delimiter=mapping.delimiter,
                                 quote=mapping.quote, comment=mapping.comment)
    _check_header(raw, mapping)
    data, warnings = _columns(raw, mapping)
    frame = frames.finish(data, raw, source=mapping.name, table=mapping.table,
                          warnings=warnings, mode=mapping.mode,
                          timezone=mapping.timezone,
                          written=_written(raw, mapping),
                          date_formats=mapping.date_formats)
    frame = _duplicates(frame, raw, mapping)
    frames.batch(frame).excludes = mapping.excludes
    # input rows absorbed by duplicate_ids = "merge" into an earlier row of
    # their id, or left out as older versions by "latest" (rows_superseded
    # of them): rows_read = len(frame) + rows_merged (docs/adapters.md)
    batch = frames.batch(frame)
    batch.rows_merged = batch.rows_read - len(frame)
    return frame


def _written(raw, mapping: Mapping) -> dict:
    """Batch.written: the cell each column was read from. A merged row
    carries its first input row's record, so only a must_agree column's
    cell there is its value (or empty, when another row gave it), and not
    when a null value such as `?` may stand in that cell."""
    merged = mapping.duplicate_ids == "merge"
    if merged and {v.strip() for v in mapping.null_values} - {""}:
        return {}
    return frames.pointers(raw, {
        c.name: (c.source,) for c in mapping.columns
        if c.source and c.value is None
        and (not merged or c.merge == "must_agree")})


def needed(mapping: Mapping) -> list[str]:
    """The headers a mapping reads, each once, in its order."""
    found = [c.source for c in mapping.columns if c.source]
    found += [h for c in mapping.columns for h in c.template_headers]
    found += [c.when["column"] for c in mapping.columns if c.when]
    if mapping.latest_by:
        found.append(mapping.latest_by)
    return list(dict.fromkeys(found))


def shipped() -> dict[str, Path]:
    """The mappings shipped in ingest/mappings/, by name (`bpic2014`)."""
    return {path.stem: path for path in sorted(MAPPINGS.glob("*.toml"))}


def description(path: Path) -> str | None:
    """A mapping file's `[source] description` (what it reads, in a line,
    for the Data page's list of shipped mappings), or None if it has none
    or cannot be read."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    source = data.get("source")
    text = source.get("description") if isinstance(source, dict) else None
    return text.strip() or None if isinstance(text, str) else None


def reads_header(mapping: Mapping, header) -> bool:
    """Whether a file with this header has every header the mapping reads
    (compared as Raw.positions compares: trimmed, case-insensitively)."""
    have = {h.strip().casefold() for h in header}
    return all(h.strip().casefold() in have for h in needed(mapping))


def _check_header(raw, mapping: Mapping) -> None:
    """Every mapped header present, none of them repeated."""
    for header in needed(mapping):
        found = raw.positions(header)
        if not found:
            raise FileError(
                f"{raw.name}: mapping {mapping.file}: column {header!r} not "
                f"in the file{closest(header, raw.header)} (found: "
                f"{', '.join(raw.header)}){_delimiter_hint(raw, mapping)}")
        if len(found) > 1:
            raise FileError(f"{raw.name}: mapped column {header!r} is "
                            f"repeated {len(found)} times")


def _delimiter_hint(raw, mapping: Mapping) -> str:
    """`; ...` when the header read as one column holding another
    delimiter (a ';' file read with a ',' mapping): the delimiter is the
    likelier fault than the column's name."""
    other = frames.other_delimiter(raw, mapping.delimiter)
    if other is None:
        return ""
    return (f"; the header read as one column: is the file delimited by "
            f"{other!r}? (the mapping's [source] delimiter is "
            f"{mapping.delimiter!r})")


def _cells(raw, header: str, mapping: Mapping) -> pd.Series:
    nulls = {v.strip().casefold() for v in mapping.null_values}
    values = raw.column(header)
    extra = nulls - {""}
    if not extra:
        return values
    hit = values.fillna("").str.casefold().isin(extra)
    return values.where(~hit, None)


def _template(raw, column: Column, mapping: Mapping) -> pd.Series:
    """Cells built from several headers, e.g. "{product}:{cycle}" ->
    `postgresql:16`; NULL when a named cell is empty (or a null value)."""
    out = pd.Series([""] * len(raw), dtype=object)
    missing = pd.Series(False, index=out.index)
    for literal, name, _, _ in string.Formatter().parse(column.template):
        out = out + literal
        if name is not None:
            cells = _cells(raw, name, mapping)
            cells = pd.Series(cells, dtype=object, index=out.index)
            blank = cells.isna() | (cells.fillna("").str.strip() == "")
            missing |= blank
            out = out + cells.fillna("").str.strip()
    return out.where(~missing, None)


def _columns(raw, mapping: Mapping) -> tuple[dict, list[str]]:
    """The mapped columns (object Series of text, None for NULL) and the
    warnings of reading them."""
    canonical = schema.describe(mapping.table)
    data, warnings = {}, []
    for column in mapping.columns:
        kind = canonical.kind(column.name)
        if column.value is not None:
            data[column.name] = pd.Series([column.value] * len(raw), dtype=object)
            continue
        values = (_template(raw, column, mapping) if column.template
                  else _cells(raw, column.source, mapping))
        index = values.index
        if column.values is not None or kind == "code":
            values = frames.series(codes.recode(
                frames.text(values), column.values or {}, match=column.match,
                codes=canonical.codes.get(column.name)), index)
        if column.when is not None:
            values = values.where(~_when_hit(raw, column, mapping),
                                  column.when["value"])
        if column.name.endswith("_at"):
            parsed = times.instants(frames.text(values), mapping.date_formats,
                                    mapping.timezone)
            values = frames.series(parsed.text, index)
            warnings += times.dst_warning(raw.name, column.source, parsed,
                                          mapping.timezone,
                                          rows=raw.row_number)
        elif column.name.endswith("_date"):
            values = frames.series(times.dates(frames.text(values),
                                               mapping.date_formats), index)
        elif kind == "boolean":
            values = frames.series(codes.booleans(
                frames.text(values), mapping.true_values,
                mapping.false_values), index)
        elif column.name in mapping.keys and column.name.endswith("_id"):
            values = frames.series(codes.prefix_ids(
                frames.text(values), mapping.id_prefix), index)
        data[column.name] = values.astype(object)
    return data, warnings


def _when_hit(raw, column: Column, mapping: Mapping) -> pd.Series:
    """The rows whose value the column's `when` rule gives."""
    when = column.when
    test = _cells(raw, when["column"], mapping).fillna("")
    return test.map(codes.key) == codes.key(str(when["equals"]))


def _as_written(raw, column: Column, mapping: Mapping) -> pd.Series:
    """Each row's cell of a column as the file wrote it, untrimmed (a
    template's text as built from its cells; where a `when` rule gave the
    value, that value, as the mapping writes it)."""
    if column.template:
        written = _template(raw, column, mapping)
    else:
        written = frames.series(raw.cells[raw.positions(column.source)[0]])
    if column.when is not None:
        written = written.where(~_when_hit(raw, column, mapping),
                                column.when["value"])
    return written


def _content(frame: pd.DataFrame, names) -> pd.Series:
    """Columns joined into one comparable text per row (NULL distinct)."""
    out = None
    for name in names:
        text = frame[name].astype(object).where(frame[name].notna(), "\x00")
        text = text.astype(str)
        out = text if out is None else out + "\x1f" + text
    return out


def _duplicates(frame: pd.DataFrame, raw, mapping: Mapping) -> pd.DataFrame:
    keys = list(mapping.keys)
    live = frame["_reject"].isna() & frame[keys].notna().all(axis=1)
    if not live.any():
        return frame
    key = _content(frame, keys)
    repeated = live & key[live].duplicated(keep=False).reindex(
        frame.index, fill_value=False)
    if not repeated.any():
        return frame
    if mapping.duplicate_ids == "merge":
        return _merge(frame, raw, mapping, key, repeated)
    if mapping.duplicate_ids == "latest":
        return _latest(frame, raw, mapping, key, repeated)
    # identical input rows (the raw record) are duplicate_row after the first
    same = repeated & frame["raw_record"][repeated].duplicated().reindex(
        frame.index, fill_value=False)
    frames.reject(frame, same, "duplicate_row", None, None)
    repeated &= ~same
    repeated &= key.where(repeated).duplicated(keep=False)
    frames.reject(frame, repeated, "duplicate_id", keys[0], frame[keys[0]])
    return frame


def _latest(frame: pd.DataFrame, raw, mapping: Mapping, key: pd.Series,
            repeated: pd.Series) -> pd.DataFrame:
    """duplicate_ids = "latest": of each id's rows, the one with the highest
    `latest_by` stays; the older versions leave the frame, counted in
    the Batch's rows_superseded (neither loaded nor rejected). Copies tied at
    the highest version that map to the same values are one version (the
    last in the file stays); tied copies that differ are all rejected as
    `duplicate_id` (nothing says which is newer)."""
    order = _order(pd.Series(_cells(raw, mapping.latest_by, mapping),
                             dtype=object, index=frame.index), mapping)
    order = order.fillna(float("-inf"))   # no version: the oldest copy
    top = order[repeated].groupby(key[repeated]).transform("max")
    at_top = repeated & (order == top.reindex(frame.index))
    older = repeated & ~at_top
    mapped = [c.name for c in mapping.columns]
    content = _content(frame, mapped)
    tied = at_top & key.where(at_top).duplicated(keep=False)
    differ = content[tied].groupby(key[tied]).transform("nunique") > 1
    differ = differ.reindex(frame.index, fill_value=False)
    frames.reject(frame, differ, "duplicate_id", mapping.keys[0],
                  frame[mapping.keys[0]])
    same = tied & ~differ & key.where(tied & ~differ).duplicated(keep="last")
    dropped = older | same
    out = frame[~dropped].reset_index(drop=True)
    out.attrs = frame.attrs
    frames.batch(out).rows_superseded = int(dropped.sum())
    return out


def _order(values: pd.Series, mapping: Mapping) -> pd.Series:
    """latest_by as a sortable number: numeric, else a parsed instant,
    whichever reads more of the values given; an empty or unreadable one is
    NaN (the oldest copy), so it never ties every version of its id."""
    values = values.where(values.fillna("").astype(str).str.strip() != "",
                          None)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() >= values.notna().sum():
        return numbers.astype(float)
    local = times.parse_local(values, mapping.date_formats)
    if numbers.notna().sum() >= local.notna().sum():
        return numbers.astype(float)
    stamps = local.to_numpy().astype("datetime64[us]").astype("int64")
    return pd.Series(stamps, index=values.index, dtype=float).where(
        local.notna())


def _merge(frame: pd.DataFrame, raw, mapping: Mapping, key: pd.Series,
           repeated: pd.Series) -> pd.DataFrame:
    """One row per id: merge rules per column; a must_agree column that
    differs rejects all rows of the id (`merge_conflict`), its value the
    differing values as the file wrote them (`_differing`)."""
    canonical = schema.describe(mapping.table)
    group = frame[repeated].copy()
    group_key = key[repeated]
    conflict = pd.Series(False, index=group.index)
    conflict_column = pd.Series(None, index=group.index, dtype=object)
    conflict_value = pd.Series(None, index=group.index, dtype=object)
    merged = {}
    for column in mapping.columns:
        if column.name in mapping.keys:
            continue
        values = group[column.name]
        if column.merge == "must_agree":
            distinct = values.groupby(group_key).transform("nunique")
            bad = (distinct > 1) & ~conflict
            if bad.any():
                listed = _differing(values, _as_written(
                    raw, column, mapping)[group.index], group_key)
                conflict_column[bad] = column.name
                conflict_value[bad] = group_key[bad].map(listed)
                conflict |= bad
            merged[column.name] = _pick(values, group_key, "first")
        else:
            rank = _rank(values, canonical.kind(column.name),
                         canonical.codes.get(column.name))
            merged[column.name] = _pick(values, group_key, column.merge, rank)
    # a conflict anywhere in an id rejects all of that id's rows
    conflict = conflict.groupby(group_key).transform("any")
    for column in mapping.columns:
        if column.merge == "first" and column.name not in mapping.keys:
            _others_said(frame, raw, column, group[column.name][~conflict],
                         group_key[~conflict])
    conflict_column = conflict_column.groupby(group_key).transform("first")
    conflict_value = conflict_value.groupby(group_key).transform("first")
    first = ~group_key.duplicated() & ~conflict
    rows = group[first].copy()
    for name, chosen in merged.items():
        rows[name] = group_key[first].map(chosen).astype(object)
        rows[name] = rows[name].where(rows[name].notna(), None)
    bad_rows = group[conflict].copy()
    bad_rows["_reject"] = "merge_conflict"
    bad_rows["_reject_column"] = conflict_column[conflict]
    bad_rows["_reject_value"] = conflict_value[conflict]
    out = pd.concat([frame[~repeated], rows, bad_rows]).sort_index()
    out = out.astype({c: object for c in out.columns if c != "row_number"})
    out.attrs = frame.attrs
    return out.reset_index(drop=True)


def _others_said(frame: pd.DataFrame, raw, column: Column,
                 values: pd.Series, key: pd.Series) -> None:
    """A warning naming how many ids held several values of a `merge =
    "first"` column, of which the merged row keeps the first: BPIC 2014's
    changes touching several service components kept the first one's
    application, and nothing said that the others were left (a manager
    filtering by application undercounted it by 9%: a walkthrough)."""
    several = int((values.groupby(key).nunique() > 1).sum())
    if several:
        frames.batch(frame).warnings.append(
            f"{raw.name}: column {column.name}"
            + (f" (the file's {column.source})" if column.source else "")
            + f": {many(several, 'id')} had several values in "
            + ("its" if several == 1 else "their") + " merged rows: the "
            "first is kept (merge = \"first\"), the others are not loaded")


def _differing(values: pd.Series, written: pd.Series,
               key: pd.Series) -> pd.Series:
    """Per id, its distinct values in row order, each as the file wrote it
    in the first row that gives it, ` | ` between (`12.03.2024 09:00 |
    12.03.2024 10:00`, not the adapter's UTC text; `Done | Open`, not the
    codes)."""
    rows = pd.DataFrame({"key": key, "value": values,
                         "written": written.fillna("")})
    rows = rows[rows["value"].notna()].drop_duplicates(["key", "value"])
    return rows.groupby("key", sort=False)["written"].agg(" | ".join)


def _rank(values: pd.Series, kind: str, allowed) -> pd.Series:
    """A sortable key: codes by list order, numbers, else text order."""
    if allowed:
        order = {code: i for i, code in enumerate(allowed)}
        return values.map(order).astype(float)
    if kind in ("integer", "number"):
        return pd.to_numeric(values, errors="coerce")
    if kind in ("instant", "date"):
        # by time, not text ('5/3/2024 09:00' sorted after every ISO text
        # and lost a min silently); one that does not read ranks NaN: it
        # wins, and the loader rejects it
        read = pd.to_datetime(values, utc=True, errors="coerce",
                              format="ISO8601" if kind == "instant"
                              else "%Y-%m-%d")
        return (read - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
    return values.rank(method="dense")


def _pick(values: pd.Series, key: pd.Series, how: str,
          rank: pd.Series | None = None) -> pd.Series:
    """Per id, the first non-NULL value, or the one of least/greatest rank."""
    present = values.notna()
    table = pd.DataFrame({"key": key[present], "value": values[present]})
    if how == "first":
        chosen = table.drop_duplicates("key", keep="first")
    else:
        # a value that cannot be ranked (unknown code) wins, so the loader
        # rejects it instead of it vanishing in the merge
        unknown = float("inf") if how == "max" else float("-inf")
        table["rank"] = rank[present].fillna(unknown)
        table = table.sort_values("rank", kind="stable")
        chosen = table.drop_duplicates("key",
                                       keep="first" if how == "min" else "last")
    return chosen.set_index("key")["value"]
