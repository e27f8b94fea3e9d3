"""The one loader: validates an adapter's frame in SQL, keeps every reject,
upserts the rest and records the batch, then publishes (changeboard/db.py: publish).

Identifiers in the SQL below are canonical column names from the schema (or a
frame's column names, already checked against it), always double-quoted;
values are bound or read from the registered frame, never formatted in.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from changeboard import auth, config, db

from . import schema
from .codes import FALSE_VALUES, TRUE_VALUES
from .errors import WARNED_ROWS, FileError
from .schema import BOOKKEEPING

PREVIEW_REJECTS = 50
# the sample build records its files as sample_data/<name>
# (sample_data.database.publish)
SAMPLE_PREFIX = "sample_data/"
_INSTANT = (r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)"
            r"\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$")
_DATE = r"^\d{4}-\d{2}-\d{2}$"
# test hook: called inside the publish block just before it commits
before_publish = None


@dataclass
class Loaded:
    """What a load did; counts follow ingest_batches."""
    table: str
    file_name: str
    batch_id: int | None
    rows_read: int = 0
    rows_loaded: int = 0  # new + updated + unchanged
    rows_new: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    rows_deleted: int = 0
    rows_merged: int = 0  # input rows a mapping merged into an earlier row
    # of them, older versions a mapping left out (duplicate_ids = "latest")
    rows_superseded: int = 0
    source: str = "csv"
    status: str = "succeeded"  # succeeded, failed, unchanged, dry_run
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)
    rejects: pd.DataFrame | None = None  # the first PREVIEW_REJECTS
    deleted: pd.DataFrame | None = None  # keys of the first rows deleted
    already_loaded: int | None = None  # batch of the same file, if any
    sample_rows_removed: int = 0  # sample rows this load replaced
    # who ran it: a signed-in e-mail, local:<os user> (single-user mode) or
    # cli:<os user> (ingest_batches.loaded_by)
    loaded_by: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("succeeded", "unchanged", "dry_run")


class _Abort(Exception):
    """Leave db.publish without swapping the file in (dry run, same file)."""


class _KeepSample(Exception):
    """A load that replaced the sample failed: publish nothing of it."""


def sample_rows(con) -> int:
    """Rows of every canonical table loaded by the sample build."""
    return sum(con.execute(
        f"select count(*) from {q(table)} where ingested_batch_id in "  # noqa: S608
        "(select batch_id from ingest_batches where starts_with(file_name, "
        "$prefix))", {"prefix": SAMPLE_PREFIX}).fetchall()[0][0]
        for table in schema.TABLES)


def remove_sample(con) -> int:
    """Delete the sample build's rows from every canonical table (its
    ingest_batches rows stay, as history); returns how many were deleted."""
    removed = 0
    for table in schema.TABLES:
        removed += con.execute(
            f"delete from {q(table)} where ingested_batch_id in (select "  # noqa: S608
            "batch_id from ingest_batches where starts_with(file_name, "
            "$prefix))", {"prefix": SAMPLE_PREFIX}).fetchall()[0][0]
    return removed


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load(frame: pd.DataFrame, db_path=None, *, file_name: str, sha256: str,
         dry_run: bool = False, strict: bool = False,
         progress: Callable[[str], None] | None = None,
         replace_sample: bool = False, loaded_by: str | None = None) -> Loaded:
    """Validate and load one adapter frame as one batch, then publish.

    Never raises for bad data: a file-level problem gives status `failed` (an
    ingest_batches row is published unless dry_run). Reloading the same
    sha256 for the same source and table gives status `unchanged`.
    `progress(stage)` is told each stage as it starts: copying, checking,
    writing, publishing. `replace_sample`: the sample build's rows are
    deleted in the same publish, before the frame loads (so its ids cannot
    collide with them), and only if the load does not fail; a dry run shows
    the load as it would be without them. `loaded_by`: who ran it (default
    cli:<os user>).
    """
    progress = progress or _quiet
    db_path = Path(db_path or config.DB_PATH)
    source = frame.attrs.get("source", "csv")
    table = frame.attrs.get("table")
    stored = _already_loaded(db_path, source, table, sha256)
    if stored is not None:
        return Loaded(table, file_name, None, source=source,
                      status="unchanged", already_loaded=stored,
                      loaded_by=loaded_by)
    result: Loaded | None = None
    try:
        progress("copying")
        # a dry run works on a private copy: it never waits for or holds the
        # writer lock
        with (_scratch(db_path) if dry_run else db.publish(db_path)) as con:
            removed = remove_sample(con) if replace_sample else 0
            result = load_into(con, frame, file_name=file_name,
                               sha256=sha256, strict=strict,
                               progress=progress, loaded_by=loaded_by)
            result.sample_rows_removed = removed
            if removed and result.status == "failed":
                raise _KeepSample
            if not dry_run:
                progress("publishing")
            if dry_run or result.status == "unchanged":
                raise _Abort
            if result.status == "failed" and dry_run:
                raise _Abort
            if before_publish is not None:
                before_publish()
    except _Abort:
        if result is not None and result.status != "unchanged":
            result.status = "dry_run" if result.status != "failed" else "failed"
            result.batch_id = None
    except _KeepSample:
        # record the failed load as it would be without replacing the sample
        return load(frame, db_path, file_name=file_name, sha256=sha256,
                    dry_run=dry_run, strict=strict, progress=progress,
                    loaded_by=loaded_by)
    return result


@contextmanager
def _scratch(db_path: Path):
    """A writable private copy of the published database, then deleted."""
    from .uploads import workdir

    with workdir() as folder:
        copy = folder / "dry-run.duckdb"
        if db_path.exists():
            shutil.copyfile(db_path, copy)
        con = db.connect(copy)
        try:
            yield con
        finally:
            con.close()


def _quiet(stage: str) -> None:
    """No progress display."""


def fail(db_path, *, source: str, table: str | None, file_name: str,
         sha256: str | None, error: str, dry_run: bool = False,
         loaded_by: str | None = None) -> Loaded:
    """Record a file that could not be read: only a failed ingest_batches row."""
    result = Loaded(table or "", file_name, None, source=source,
                    status="failed", error=error, loaded_by=loaded_by)
    if dry_run:
        return result
    with db.publish(Path(db_path or config.DB_PATH)) as con:
        result.batch_id = _record_batch(con, result, sha256,
                                        datetime.now(UTC))
    return result


def _already_loaded(db_path: Path, source, table, sha256) -> int | None:
    if not db_path.exists() or not table:
        return None
    with db.connect(db_path, read_only=True) as con:
        return _same_file(con, source, table, sha256)


def _same_file(con, source, table, sha256) -> int | None:
    row = con.execute(
        "select min(batch_id) from ingest_batches where source = $s and "
        "entity = $t and file_sha256 = $h and status = 'succeeded'",
        {"s": source, "t": table, "h": sha256}).fetchall()[0]
    return row[0]


def _record_batch(con, result: Loaded, sha256, started) -> int:
    batch_id = con.execute(
        "select coalesce(max(batch_id), 0) + 1 from ingest_batches"
    ).fetchall()[0][0]
    con.execute(
        "insert into ingest_batches (batch_id, source, entity, file_name, "
        "file_sha256, started_at, finished_at, rows_read, rows_loaded, "
        "rows_rejected, rows_updated, rows_unchanged, rows_deleted, "
        "rows_merged, warnings, status, error, loaded_by) values ($id, "
        "$source, $entity, $file, $sha, $started, current_timestamp, $read, "
        "$loaded, $rejected, $updated, $unchanged, $deleted, $merged, "
        "$warnings, $status, $error, $by)",
        {"id": batch_id, "source": result.source, "entity": result.table,
         "file": result.file_name, "sha": sha256, "started": started,
         "read": result.rows_read, "loaded": result.rows_loaded,
         "rejected": result.rows_rejected, "updated": result.rows_updated,
         "unchanged": result.rows_unchanged, "deleted": result.rows_deleted,
         "merged": result.rows_merged,
         "warnings": json.dumps(result.warnings) if result.warnings else None,
         "status": "failed" if result.status == "failed" else "succeeded",
         "error": result.error,
         "by": result.loaded_by or auth.cli_actor()})
    return batch_id


def load_into(con, frame: pd.DataFrame, *, file_name: str, sha256: str | None,
              strict: bool = False,
              progress: Callable[[str], None] | None = None,
              loaded_by: str | None = None) -> Loaded:
    """The load on an open writable connection (inside db.publish)."""
    progress = progress or _quiet
    started = datetime.now(UTC)
    source = frame.attrs.get("source", "csv")
    table = frame.attrs.get("table")
    result = Loaded(table or "", file_name, None, source=source,
                    warnings=list(frame.attrs.get("warnings", [])),
                    loaded_by=loaded_by)
    if sha256 and table and _same_file(con, source, table, sha256) is not None:
        result.status = "unchanged"
        result.already_loaded = _same_file(con, source, table, sha256)
        return result
    try:
        spec, timezone, present = _check_frame(frame, file_name)
    except FileError as exc:
        result.status, result.error = "failed", str(exc)
        result.batch_id = _record_batch(con, result, sha256, started)
        return result
    batch_id = con.execute(
        "select coalesce(max(batch_id), 0) + 1 from ingest_batches"
    ).fetchall()[0][0]
    result.batch_id = batch_id
    con.register("incoming_frame", frame)
    progress("checking")
    try:
        _stage(con, frame, spec, present, timezone)
        _frame_records(con, frame)
        _reject_duplicates(con, spec)
        _reject_against_stored(con, spec, source)
    finally:
        con.execute("drop view if exists frame_records")
        con.unregister("incoming_frame")
    counts = con.execute(
        "select count(*), count(*) filter (where reason is null) from checked"
    ).fetchall()[0]
    frame_rows, accepted = counts
    # rows_read counts input rows: those merged into an earlier row of their
    # id are neither loaded nor rejected (docs/adapters.md, Counting rows)
    result.rows_merged = int(frame.attrs.get("rows_merged", 0) or 0)
    result.rows_superseded = int(frame.attrs.get("rows_superseded", 0) or 0)
    result.rows_read = frame_rows + result.rows_merged
    result.rows_rejected = frame_rows - accepted
    result.reasons = [tuple(r) for r in con.execute(
        "select reason, count(*) as n from checked where reason is not null "
        "group by reason order by n desc, reason").fetchall()]
    result.warnings += _warnings(con, spec, file_name, timezone)
    if strict and result.rows_rejected:
        result.status = "failed"
        result.error = (f"{file_name}: {result.rows_rejected} rows rejected "
                        "and --strict given: nothing loaded")
        result.rows_loaded = 0
    else:
        progress("writing")
        _classify(con, spec, source, result)
        _write(con, spec, source, batch_id, frame.attrs.get("mode", "upsert"),
               result)
    _write_rejects(con, batch_id)
    result.rejects = con.execute(
        "select row_number, column_name, value, reason, detail "
        "from ingest_rejects where batch_id = $b order by row_number limit $n",
        {"b": batch_id, "n": PREVIEW_REJECTS}).df()
    _record_batch(con, result, sha256, started)
    con.execute("drop view if exists final_rows")
    for name in ("checked", "final"):
        con.execute(f"drop table if exists {name}")
    return result


def _check_frame(frame, file_name):
    table = frame.attrs.get("table")
    spec = schema.describe(table)
    unknown = [c for c in frame.columns if c not in spec.columns
               and c not in BOOKKEEPING and not str(c).startswith("x_")]
    if unknown:
        raise FileError(f"{file_name}: unknown column {', '.join(unknown)} "
                        f"for {table}")
    present = [c for c in spec.columns if c in frame.columns]
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise FileError(f"{file_name}: missing required column "
                        f"{', '.join(missing)} (found: {', '.join(present)})")
    timezone = frame.attrs.get("timezone") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FileError(f"{file_name}: unknown time zone {timezone!r}") from exc
    mode = frame.attrs.get("mode", "upsert")
    if mode not in ("upsert", "snapshot"):
        raise FileError(f"{file_name}: unknown mode {mode!r}")
    return spec, timezone, present


def _value_sql(spec, column: str, timezone: str) -> tuple[str, str, str]:
    """(typed value, reason when non-blank text does not parse, detail) SQL
    for one column read from `r`. Common, clean values take the cheapest
    path: on a million rows each trim or regex costs about a second."""
    kind = spec.kind(column)
    raw = f"r.{q(column)}"
    t = f"nullif(trim({raw}), '')"
    if kind == "code":
        codes = spec.codes[column]
        literal = ", ".join("'" + c.replace("'", "''") + "'" for c in codes)
        normal = f"regexp_replace(lower({t}), '[\\s-]+', '_', 'g')"
        value = (f"case when {raw} in ({literal}) then {raw} "
                 f"when list_contains($codes_{column}, {normal}) "
                 f"then {normal} end")
        return value, "unmapped_code", f"'allowed: {', '.join(codes)}'"
    if kind == "instant":
        shown = f"trim(s.{q('__r_' + column)})"
        detail = (f"case when regexp_full_match({shown}, '{_DATE[1:-1]}') "
                  "then 'date only: midnight would be a guess' "
                  f"when regexp_full_match({shown}, '{_INSTANT[1:-1]}') then "
                  "'does not exist in ' || $tz || ' (DST gap) or out of range' "
                  "else 'not ISO-8601 (e.g. 2024-03-12T15:15:00Z)' end")
        # text without a ':' has no time: date-only never passes
        if timezone == "UTC":  # the session zone: naive text is UTC
            value = (f"case when contains({raw}, ':') then "
                     f"try_cast({raw} as timestamptz) end")
            return value, "bad_timestamp", detail
        offset = (f"(right({t}, 1) in ('Z', 'z') or "
                  f"contains(substr({t}, 17), '+') or "
                  f"contains(substr({t}, 17), '-'))")
        local = f"try_cast({t} as timestamp)"
        # a local time in a DST gap does not round-trip; of an ambiguous
        # one (the repeated autumn hour) the first occurrence is taken
        naive = (
            f"case when timezone($tz, timezone($tz, {local})) <> {local} "
            f"then null when timezone($tz, timezone($tz, {local}) - "
            f"interval 1 hour) = {local} then timezone($tz, {local}) - "
            f"interval 1 hour else timezone($tz, {local}) end")
        value = (f"case when not contains({raw}, ':') then null when {offset} "
                 f"then try_cast({t} as timestamptz) else {naive} end")
        return value, "bad_timestamp", detail
    if kind == "date":
        value = (f"case when regexp_full_match({t}, '{_DATE[1:-1]}') "
                 f"then try_cast({t} as date) end")
        return value, "bad_timestamp", "'not a YYYY-MM-DD date'"
    if kind == "integer":
        low = spec.minimums.get(column)
        check = f" and try_cast({t} as bigint) >= {int(low)}" if low else ""
        value = (f"case when regexp_full_match({t}, '[+-]?\\d+'){check} "
                 f"then try_cast({t} as integer) end")
        detail = (f"'not a whole number >= {low}'" if low is not None
                  else "'not a whole number'")
        return value, "bad_number", detail
    if kind == "number":
        return (f"try_cast({t} as {spec.columns[column]})", "bad_number",
                "'not a number'")
    if kind == "boolean":
        value = (f"case when list_contains($true, lower({t})) then true "
                 f"when list_contains($false, lower({t})) then false end")
        return value, "bad_boolean", "'not true/false, 1/0, yes/no or y/n'"
    padded = f"(ascii({raw}) in (9, 32) or right({raw}, 1) in (' ', chr(9)))"
    if column.endswith("_id") or column in spec.key:
        return f"case when {padded} then {t} else nullif({raw}, '') end", "", \
            "null"
    # free text stays verbatim (formula-looking cells too); blank is NULL
    return (f"case when {raw} = '' or ({padded} and trim({raw}) = '') "
            f"then null else {raw} end", "", "null")


def _stage(con, frame, spec, present, timezone) -> None:
    """`checked`: one row per input row: typed values, the first reason and,
    for a rejected row, its raw record."""
    params: dict = {"true": list(TRUE_VALUES),
                    "false": list(FALSE_VALUES), "tz": timezone}
    raw_columns = [c for c in frame.columns if c not in BOOKKEEPING]
    inner = [f"cast(r.{q(c)} as varchar) as {q('__r_' + c)}"
             for c in raw_columns]
    inner += [f"{q(c) if c in frame.columns else 'null'} as {q(c)}"
              for c in BOOKKEEPING[1:]]
    checks = []
    for column in present:
        value, reason, detail = _value_sql(spec, column, timezone)
        if spec.kind(column) == "code":
            params[f"codes_{column}"] = spec.codes[column]
        raw, typed = f"s.{q('__r_' + column)}", f"s.{q(column)}"
        inner.append(f"{value} as {q(column)}")
        if column in spec.required:
            checks.append((f"{typed} is null and coalesce(trim({raw}), '') = ''",
                           "missing_required", column, "null"))
        if reason:
            checks.append((f"{typed} is null and trim({raw}) <> ''", reason,
                           column, detail))
    interval = schema.INTERVALS.get(spec.name)
    if interval and all(c in present for c in interval):
        start, end = (f"s.{q(c)}" for c in interval)
        checks.append((f"{end} <= {start}", "bad_interval", interval[1],
                       f"'{interval[1]} is not after {interval[0]} ' || "
                       f"trim(s.{q('__r_' + interval[0])})"))
    # the first failing check's index: the conditions run once per row
    first = ("case when s._reject is not null then 0 " + " ".join(
        f"when {cond} then {i}" for i, (cond, _, _, _) in
        enumerate(checks, start=1)) + " end")

    def pick(adapter: str, choose) -> str:
        return (f"case k when 0 then {adapter} " + " ".join(
            f"when {i} then {choose(check)}"
            for i, check in enumerate(checks, start=1)) + " end")

    reason = pick("s._reject", lambda c: f"'{c[1]}'")
    column = pick("s._reject_column", lambda c: f"'{c[2]}'")
    value = pick("s._reject_value", lambda c: f"s.{q('__r_' + c[2])}")
    detail = pick("s._reject_detail", lambda c: c[3])
    record = "to_json(struct_pack(" + ", ".join(
        f"{q(c)} := s.{q('__r_' + c)}" for c in raw_columns) + "))"
    typed = "".join(f", s.{q(c)}" for c in present)
    row_number = ("row_number" if "row_number" in frame.columns
                  else "row_number() over () + 1")
    # identifiers from the schema (or checked frame columns), quoted by q()
    # the raw record is kept for rejected rows only (a row rejected later
    # takes its record from the frame: _frame_records)
    sql = (
        "create or replace temp table checked as select s.row_number, "  # noqa: S608
        f"{reason} as reason, {column} as column_name, {value} as value, "
        f"{detail} as detail, case when k is not null then coalesce(cast("
        f"s.raw_record as json), {record}) end as raw_record{typed} "
        f"from (select *, {first} as k from (select cast({row_number} as "
        f"integer) as row_number, {', '.join(inner)} from incoming_frame as r)"
        " as s) as s")
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _frame_records(con, frame) -> None:
    """`frame_records`: the frame's raw record of each row (NULL if it has
    none), for rows rejected after staging."""
    row_number = ("row_number" if "row_number" in frame.columns
                  else "row_number() over () + 1")
    record = ("cast(raw_record as json)" if "raw_record" in frame.columns
              else "cast(null as json)")
    con.execute(
        "create or replace temp view frame_records as select "  # noqa: S608
        f"cast({row_number} as integer) as row_number, {record} as raw_record "
        "from incoming_frame")


def _key(spec, alias: str) -> str:
    return ", ".join(f"{alias}.{q(k)}" for k in spec.key)


def _key_match(spec, left: str, right: str) -> str:
    return " and ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in spec.key)


def _reject(con, spec, selection: str, reason: str,
            params: dict | None = None) -> None:
    """Mark rows of `checked` (row_number, detail from `selection`)."""
    key = spec.key[0]
    # the input text is not kept for rows that passed the checks: their raw
    # record is the row's parsed values
    record = "to_json(struct_pack(" + ", ".join(
        f"{q(c)} := c.{q(c)}" for c in _present(con, spec)) + "))"
    con.execute(f"create or replace temp table picked as {selection}",
                params or {})
    if con.execute("select count(*) from picked").fetchall()[0][0]:
        # the frame's record of the input row when it has one
        con.execute(
            f"update checked as c set reason = '{reason}', "  # noqa: S608
            f"column_name = '{key}', value = cast(c.{q(key)} as varchar), "
            "detail = s.detail, raw_record = coalesce(c.raw_record, "
            f"s.raw_record, {record}) from (select p.*, f.raw_record from "
            "picked as p left join frame_records as f on f.row_number = "
            "p.row_number) as s "
            "where c.row_number = s.row_number and c.reason is null")
    con.execute("drop table picked")


def _reject_duplicates(con, spec) -> None:
    """duplicate_row, superseded and duplicate_id (docs/sources.md section 8)."""
    key = _key(spec, "c")
    distinct = con.execute(
        f"select count(*) = count(distinct ({key})) from checked as c "  # noqa: S608
        "where reason is null").fetchall()[0][0]
    if distinct:
        return
    content = ", ".join(f"c.{q(c)}" for c in _present(con, spec))
    con.execute(
        f"create or replace temp table copies as select c.row_number, {key}, "  # noqa: S608
        f"hash({content}) as h, "
        f"{'c.updated_at' if 'updated_at' in _present(con, spec) else 'null'}"
        " as upd, "
        f"row_number() over (partition by {key}, hash({content}) "
        "order by c.row_number) as copy_no, "
        f"min(c.row_number) over (partition by {key}, hash({content})) "
        "as first_row from checked as c where c.reason is null")
    _reject(con, spec,
            "select row_number, 'identical to row ' || first_row as detail "
            "from copies where copy_no > 1", "duplicate_row")
    keys = ", ".join(q(k) for k in spec.key)
    con.execute(
        f"create or replace temp table versions as select {keys}, "  # noqa: S608
        "count(*) as n, max(upd) as max_upd, "
        "count(*) filter (where upd = (select max(upd) from copies as i "
        f"where {_key_match(spec, 'i', 'copies')})) as n_at_max "
        f"from copies where copy_no = 1 group by {keys} having count(*) > 1")
    con.execute(
        "create or replace temp table version_rows as select c.row_number, "  # noqa: S608
        "c.upd, v.max_upd, v.n_at_max from copies as c join versions as v on "
        f"{_key_match(spec, 'c', 'v')} where c.copy_no = 1")
    _reject(con, spec,
            "select row_number, 'a newer copy (updated_at ' || max_upd || "
            "') is in the file' as detail from version_rows where "
            "max_upd is not null and (upd is null or upd < max_upd)",
            "superseded")
    _reject(con, spec,
            "select row_number, 'the file has other copies of this id with "
            "different values and no newer updated_at' as detail "
            "from version_rows where max_upd is null or "
            "(upd = max_upd and n_at_max > 1)", "duplicate_id")
    for name in ("copies", "versions", "version_rows"):
        con.execute(f"drop table {name}")


def _present(con, spec) -> list[str]:
    found = {r[0] for r in con.execute("describe checked").fetchall()}
    return [c for c in spec.columns if c in found]


def _reject_against_stored(con, spec, source) -> None:
    """id_owned_by_other_source, older_than_stored."""
    table = q(spec.name)
    match = _key_match(spec, "c", "t")
    _reject(con, spec,
            f"select c.row_number, 'owned by source ''' || t.source || "  # noqa: S608
            "''' (batch ' || coalesce(t.ingested_batch_id, 0) || '); give "
            "one source an id_prefix (mapping file [source] id_prefix) so "
            f"both can load' as detail from checked as c join {table} as t "
            f"on {match} where c.reason is null and t.source <> $source",
            "id_owned_by_other_source", {"source": source})
    if "updated_at" in _present(con, spec):
        _reject(con, spec,
                "select c.row_number, 'stored copy (batch ' || "  # noqa: S608
                "coalesce(t.ingested_batch_id, 0) || ') has updated_at ' || "
                f"t.updated_at as detail from checked as c join {table} as t "
                f"on {match} where c.reason is null and t.source = $source "
                "and t.updated_at > c.updated_at",
                "older_than_stored", {"source": source})


def _classify(con, spec, source, result: Loaded) -> None:
    """`final`: accepted rows as whole table rows, tagged new/updated/unchanged."""
    present = _present(con, spec)
    row = ", ".join(
        f"c.{q(c)}" if c in present
        else f"{spec.defaults.get(c, 'null')}::{spec.columns[c]} as {q(c)}"
        for c in spec.columns)
    same = " and ".join(f"n.{q(c)} is not distinct from t.{q(c)}"
                        for c in spec.columns)
    table = q(spec.name)
    if not con.execute(f"select count(*) from {table}").fetchall()[0][0]:  # noqa: S608
        # an empty table: every row is new, and a view saves a copy
        con.execute(
            f"create or replace temp view final_rows as select {row}, "  # noqa: S608
            "'new' as __load from checked as c where c.reason is null")
        result.rows_new = result.rows_loaded = (
            result.rows_read - result.rows_merged - result.rows_rejected)
        return
    con.execute(
        f"create or replace temp table final as with n as (select {row} "  # noqa: S608
        "from checked as c where c.reason is null) select n.*, case when "
        f"t.{q(spec.key[0])} is null then 'new' when {same} then 'unchanged' "
        f"else 'updated' end as __load from n left join {table} as t on "
        f"{_key_match(spec, 'n', 't')}")
    counts = dict(con.execute(
        "select __load, count(*) from final group by __load").fetchall())
    con.execute("create or replace temp view final_rows as select * from final")
    result.rows_new = counts.get("new", 0)
    result.rows_updated = counts.get("updated", 0)
    result.rows_unchanged = counts.get("unchanged", 0)
    result.rows_loaded = sum(counts.values())


def _write(con, spec, source, batch_id, mode, result: Loaded) -> None:
    columns = ", ".join(q(c) for c in spec.columns)
    table = q(spec.name)
    if mode == "snapshot":
        keys = _key(spec, "c")
        gone = (f"from {table} as t where t.source = $source and "  # noqa: S608
                f"({_key(spec, 't')}) not in (select ({keys}) from checked "
                f"as c where ({keys}) is not null)")
        # the first ones by key, for the preview to show before a commit
        result.deleted = con.execute(
            f"select {_key(spec, 't')} {gone} order by all "
            "limit $n", {"source": source, "n": PREVIEW_REJECTS}).df()
        result.rows_deleted = con.execute(
            f"delete {gone}", {"source": source}).fetchall()[0][0]
    # all new: a plain insert skips the replace path's per-key lookups
    verb = "insert or replace" if result.rows_updated else "insert"
    con.execute(
        f"{verb} into {table} by name select {columns}, "  # noqa: S608
        "$source as source, $batch as ingested_batch_id from final_rows "
        "where __load <> 'unchanged'", {"source": source, "batch": batch_id})


def _write_rejects(con, batch_id) -> None:
    con.execute(
        "insert into ingest_rejects (batch_id, row_number, column_name, "
        "value, reason, detail, raw_record) select $batch, row_number, "
        "column_name, value, reason, detail, raw_record from checked "
        "where reason is not null order by row_number", {"batch": batch_id})



def _warned(con, condition: str) -> tuple[int, str]:
    """How many loaded rows meet `condition` (SQL over `checked`) and
    `(rows 4, 9, ...)`: the first WARNED_ROWS row numbers, as a spreadsheet
    shows them."""
    n, numbers = con.execute(
        "select count(*), list(row_number order by row_number) "  # noqa: S608
        f"[1:{WARNED_ROWS}] from checked where reason is null and "
        f"({condition})").fetchall()[0]
    if not n:
        return 0, ""
    shown = ", ".join(str(r) for r in numbers)
    more = ", …" if n > len(numbers) else ""
    return n, f" (row{'s' if n > 1 else ''} {shown}{more})"


def _warnings(con, spec, file_name, timezone) -> list[str]:
    present = _present(con, spec)
    found = []
    for start, end in schema.SOFT_INTERVALS.get(spec.name, ()):
        if start in present and end in present:
            n, rows = _warned(con, f"{q(end)} < {q(start)}")
            if n:
                found.append(f"{file_name}: {n} rows with {end} before "
                             f"{start}{rows}")
    instants = [c for c in present if spec.kind(c) == "instant"]
    if instants:
        odd = " or ".join(
            f"{q(c)} < timestamptz '1990-01-01' or {q(c)} > "
            "current_timestamp + interval 10 year" for c in instants)
        n, rows = _warned(con, odd)
        if n:
            found.append(f"{file_name}: {n} rows with dates before 1990 or "
                         f"more than 10 years ahead{rows}")
    return found
