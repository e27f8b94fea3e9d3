"""The loader's checks, built as SQL over the registered frame: each
column's typed value and the reason its text does not parse
(docs/sources.md section 8), staged as the temp table `checked` (one row per
input row, the first failing check's reason), and the warnings of loaded
rows (soft intervals, unlikely dates).

Identifiers in the SQL below are canonical column names from the schema (or a
frame's column names, already checked against it), always double-quoted;
values are bound or read from the registered frame, never formatted in.
"""
from __future__ import annotations

import re
import weakref
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa

from changeboard.words import many

from . import frames, reading, schema
from .codes import FALSE_VALUES, TRUE_VALUES
from .errors import WARNED_ROWS, FileError
from .schema import BOOKKEEPING

_INSTANT = (r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)"
            r"\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$")
_DATE = r"^\d{4}-\d{2}-\d{2}$"
# a numeric UTC offset after a time (`10:00+01:00`, `10:00:00 -0500`), and
# one that is a real one: hours to 14, minutes to 59
_OFFSET = r"\d\s*([+-]\d[\d:]*)$"
_GOOD_OFFSET = r"[+-](0\d|1[0-4])(:?[0-5]\d)?"
# instants and dates before this are rejected (a two-digit year, a
# spreadsheet's day zero): no change, release or incident is that old
EARLIEST = "1900-01-01"


def q(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def check_frame(frame, file_name):
    """The table's schema facts, the frame's time zone and the canonical
    columns it has; FileError for an unknown or missing column, time zone
    or mode."""
    batch = frames.batch(frame)
    spec = schema.describe(batch.table)
    schema.check_columns(file_name, spec,
                         [c for c in frame.columns if c not in BOOKKEEPING])
    present = [c for c in spec.columns if c in frame.columns]
    timezone = batch.timezone or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FileError(f"{file_name}: unknown time zone {timezone!r}") from exc
    mode = batch.mode
    if mode not in ("upsert", "snapshot"):
        raise FileError(f"{file_name}: unknown mode {mode!r}")
    return spec, timezone, present


def _bad_offset(text: str) -> str:
    """SQL: the text ends in a numeric UTC offset that is none (`+25:00`,
    `+01:60`, `+1:0`), which DuckDB's cast reads or refuses as it
    happens (`10:00+25:00` was 09:00 the day before). Text ending in Z, or
    with no sign after its date, is not looked at further."""
    return (f"(right({text}, 1) between '0' and '9' and (contains(substr("
            f"{text}, 11), '+') or contains(substr({text}, 11), '-')) and "
            f"not regexp_full_match(regexp_extract({text}, '{_OFFSET}', 1), "
            f"'(|{_GOOD_OFFSET})'))")


def _value_sql(spec, column: str, timezone: str,
               formats=()) -> tuple[str, str, str]:
    """(typed value, reason when non-blank text does not parse, detail) SQL
    for one column read from `r`. Common, clean values take the cheapest
    path: on a million rows each trim or regex costs about a second.
    `formats`: those the adapter read instants in (frames.Batch
    date_formats), which an instant's detail names, bound as
    $date_formats_read."""
    kind = spec.kind(column)
    raw = f"r.{q(column)}"
    t = f"nullif({_trim(raw)}, '')"
    if column in schema.ZONES.get(spec.name, ()):
        return (f"case when list_contains($zones, {t}) then {t} end",
                "unmapped_code",
                "'not an IANA time zone name (e.g. Europe/Berlin)'")
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
        offset = f"regexp_extract({shown}, '{_OFFSET}', 1)"
        written = (f"regexp_extract({shown}, '{_INSTANT[1:-1]}', 1) || ' ' "
                   f"|| regexp_extract({shown}, '{_INSTANT[1:-1]}', 2)")
        detail = (f"case when regexp_full_match({shown}, '{_DATE[1:-1]}') "
                  "then 'date only: midnight would be a guess' "
                  f"when {offset} <> '' and not regexp_full_match({offset}, "
                  f"'{_GOOD_OFFSET}') then 'offset ' || {offset} || ' is not "
                  "a UTC offset (+hh:mm, -12:00 to +14:00)' "
                  f"when regexp_full_match({shown}, '{_INSTANT[1:-1]}') then "
                  f"case when try_cast({written} as timestamp) is null then "
                  "'no such date or time of day' "
                  f"when regexp_extract({shown}, '{_INSTANT[1:-1]}', 3) <> '' "
                  "then 'write the offset right after the time, without a "
                  "space (2024-03-12T15:15:00+01:00)' "
                  "else 'does not exist in ' || $tz || ' (DST gap: the "
                  "spring-forward hour)' end "
                  + ("else 'read neither as ' || $date_formats_read || "
                     "' nor as ISO-8601 (e.g. 2024-03-12T15:15:00Z)' end"
                     if formats else
                     "else 'not ISO-8601 (e.g. 2024-03-12T15:15:00Z)' end"))
        # text without a ':' has no time: date-only never passes
        # ISO-8601 lets T and Z be written t and z, which DuckDB's cast
        # refuses: read upper-cased when it does (coalesce evaluates the
        # second only for the rows the first left NULL: no cost otherwise)
        if timezone == "UTC":  # the session zone: naive text is UTC
            value = (f"case when not contains({raw}, ':') then null "
                     f"when {_bad_offset(raw)} then null else "
                     f"coalesce(try_cast({raw} as timestamptz), "
                     f"try_cast(upper({raw}) as timestamptz)) end")
            return value, "bad_timestamp", detail
        # an offset or a zone named after the time (`10:00 UTC`,
        # `10:00 America/New_York`): read as written, not in $tz (a
        # timestamp cast drops a zone name and read the time in $tz)
        # (a CASE: the letters are looked for only in text with no offset,
        # and an adapter's own ISO text ends in Z: 6M values 0.34 -> 0.14 s)
        offset = (f"(case when right({t}, 1) in ('Z', 'z') or "
                  f"contains(substr({t}, 17), '+') or "
                  f"contains(substr({t}, 17), '-') then true "
                  f"else regexp_matches(substr({t}, 17), '[A-Za-y]') end)")
        local = (f"coalesce(try_cast({t} as timestamp), "
                 f"try_cast(upper({t}) as timestamp))")
        # a local time in a DST gap does not round-trip; of an ambiguous
        # one (the repeated autumn hour) the first occurrence is taken
        naive = (
            f"case when timezone($tz, timezone($tz, {local})) <> {local} "
            f"then null when timezone($tz, timezone($tz, {local}) - "
            f"interval 1 hour) = {local} then timezone($tz, {local}) - "
            f"interval 1 hour else timezone($tz, {local}) end")
        value = (f"case when not contains({raw}, ':') then null "
                 f"when {_bad_offset(t)} then null when {offset} "
                 f"then coalesce(try_cast({t} as timestamptz), "
                 f"try_cast(upper({t}) as timestamptz)) else {naive} end")
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
    # a leading or trailing space or tab, by bytes (ascii() and right()
    # count characters: a second a million long texts)
    padded = (f"(starts_with({raw}, ' ') or starts_with({raw}, chr(9)) or "
              f"ends_with({raw}, ' ') or ends_with({raw}, chr(9)))")
    if column.endswith("_id") or column in spec.key:
        return f"case when {padded} then {t} else nullif({raw}, '') end", "", \
            "null"
    # free text stays verbatim (formula-looking cells too); blank is NULL
    return (f"case when {raw} = '' or ({padded} and {_trim(raw)} = '') "
            f"then null else {raw} end", "", "null")


def _trim(text: str) -> str:
    """SQL trimming `text` of spaces (any Unicode space, as trim() does)
    and of tabs, which trim() leaves: a value holding a tab takes a regex,
    the others the cheap trim() (a second a million values for the
    regex)."""
    return (f"case when contains({text}, chr(9)) then regexp_replace({text}, "
            "'^[\\t\\p{Zs}]+|[\\t\\p{Zs}]+$', '', 'g') "
            f"else trim({text}) end")


# DuckDB's buffer pool while checks.insert_passed writes (db.py's
# READ_MEMORY_LIMIT is the app's for reading): INSERT_MEMORY_LIMIT at least,
# INSERT_MEMORY_PER_ROW bytes a frame row when that is more (the primary
# key's index grows with the rows, about 40 bytes a change). A 1M-change
# load peaked at 1,265 MB with 1 GB or 384 MB, at 1,178-1,181 MB with 256 MB,
# as fast (5.8-6.0 s)
INSERT_MEMORY_LIMIT = "256MB"
INSERT_MEMORY_PER_ROW = 160
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10,
          "MIB": 2**20, "GIB": 2**30}


def insert_memory_limit(rows: int) -> str:
    """The cap on DuckDB's buffers for a direct insert of `rows` rows."""
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]+)\s*",
                                INSERT_MEMORY_LIMIT).groups()
    floor = int(float(number) * _UNITS[unit.upper()])
    return f"{max(floor, rows * INSERT_MEMORY_PER_ROW)}B"


class CapTooSmall(Exception):
    """The direct insert ran out of memory under insert_memory_limit. A
    failed statement ends the transaction a publish runs the load in, so
    the load runs again from the start without the cap (loader.load)."""

# the SQL function giving a row's raw record when the frame's Batch builds
# them on demand (frames.finish, lazy_records)
RECORDS = "__changeboard_raw_record"


# connections on which RECORDS is registered (asking DuckDB's catalog,
# duckdb_functions(), takes about 35 ms on a file with the macros)
_REGISTERED: weakref.WeakSet = weakref.WeakSet()


def lazy_records(con, frame) -> bool:
    """Register RECORDS on the connection for a frame whose Batch has
    `records` (any earlier one is dropped first); True if registered."""
    drop_records(con)
    records = frames.batch(frame).records
    if records is None:
        return False

    def build(numbers):
        return pa.array(records(numbers.to_numpy(zero_copy_only=False)),
                        type=pa.string())

    con.create_function(RECORDS, build, ["INTEGER"], "VARCHAR",
                        type="arrow")
    _REGISTERED.add(con)
    return True


def has_lazy_records(con) -> bool:
    return con in _REGISTERED


def drop_records(con) -> None:
    """Unregister RECORDS (and the records it holds), if registered."""
    if has_lazy_records(con):
        con.remove_function(RECORDS)
        _REGISTERED.discard(con)


def release(con, frame) -> None:
    """Free the frame's cells once `checked` holds its rows and the rejects
    are marked (for a caller that reads the frame no more: load_path's):
    its columns are dropped in place and its records let go, so the insert
    does not run beside a second copy of the file (about 0.7-1 GB at 1M
    changes)."""
    drop_records(con)
    frames.batch(frame).records = None
    for column in list(frame.columns):
        del frame[column]
    reading.release_memory()


def _checks(frame, spec, present, timezone) -> tuple[list, list, dict]:
    """The inner select's columns over `r` (each column's text as
    `__r_<column>`, the bookkeeping columns and each typed value), the
    checks over `s` (condition, reason, column, detail SQL) in the order
    they are tried, and the parameters they bind."""
    params: dict = {"true": list(TRUE_VALUES),
                    "false": list(FALSE_VALUES), "tz": timezone}
    if any(c in present for c in schema.ZONES.get(spec.name, ())):
        params["zones"] = zone_names()
    raw_columns = [c for c in frame.columns if c not in BOOKKEEPING]
    inner = [f"cast(r.{q(c)} as varchar) as {q('__r_' + c)}"
             for c in raw_columns]
    inner += [f"{q(c) if c in frame.columns else 'null'} as {q(c)}"
              for c in BOOKKEEPING[1:]]
    checks = []
    batch = frame.attrs.get("batch")
    formats = getattr(batch, "date_formats", ())
    if formats:
        params["date_formats_read"] = ", ".join(formats)
    for column in present:
        value, reason, detail = _value_sql(spec, column, timezone, formats)
        if spec.kind(column) == "code":
            params[f"codes_{column}"] = spec.codes[column]
        raw, typed = f"s.{q('__r_' + column)}", f"s.{q(column)}"
        inner.append(f"{value} as {q(column)}")
        if column in spec.required:
            checks.append((f"{typed} is null and coalesce({_trim(raw)}, '') "
                           "= ''",
                           "missing_required", column,
                           "'required: the cell is empty'"))
        if reason:
            checks.append((f"{typed} is null and {_trim(raw)} <> ''", reason,
                           column, detail))
        if spec.kind(column) in ("instant", "date"):
            # DuckDB's cast reads `24-03-12` as the year 24, and a format's
            # %Y reads `12.03.0024` so: never a change date
            kind = "timestamptz" if spec.kind(column) == "instant" else "date"
            checks.append((f"{typed} < {kind} '{EARLIEST}'", "bad_timestamp",
                           column, f"'read as the year ' || year({typed}) || "
                           f"', before {EARLIEST[:4]}: a two-digit year? "
                           "write four digits (or declare the format, e.g. "
                           "%y)'"))
    interval = schema.INTERVALS.get(spec.name)
    if interval and all(c in present for c in interval):
        start, end = (f"s.{q(c)}" for c in interval)
        checks.append((f"{end} <= {start}", "bad_interval", interval[1],
                       f"'{interval[1]} is not after {interval[0]} ' || "
                       f"trim(s.{q('__r_' + interval[0])})"))
    return inner, checks, params


@cache
def zone_names() -> list[str]:
    """The time zone names DuckDB knows (those its timezone() takes)."""
    with duckdb.connect() as con:
        return [r[0] for r in con.execute(
            "select name from pg_timezone_names() order by name").fetchall()]


def _first(checks) -> str:
    """The first failing check's index (0: the adapter's reject; NULL: the
    row passes): the conditions run once per row."""
    return ("case when s._reject is not null then 0 " + " ".join(
        f"when {cond} then {i}" for i, (cond, _, _, _) in
        enumerate(checks, start=1)) + " end")


def _row_number(frame) -> str:
    return ("row_number" if "row_number" in frame.columns
            else "row_number() over () + 1")


def _bound(sql: str, params: dict) -> dict:
    return {k: v for k, v in params.items() if f"${k}" in sql}


def stage(con, frame, spec, present, timezone) -> None:
    """`checked`: one row per input row: typed values, the first reason and,
    for a rejected row, its raw record (asked of the Batch's `records` for
    only these rows when the frame leaves raw_record NULL)."""
    lazy = (f"cast({RECORDS}(s.row_number) as json), "
            if lazy_records(con, frame) else "")
    inner, checks, params = _checks(frame, spec, present, timezone)
    raw_columns = [c for c in frame.columns if c not in BOOKKEEPING]
    first = _first(checks)

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
    # identifiers from the schema (or checked frame columns), quoted by q()
    # the raw record is kept for rejected rows only (a row rejected later
    # takes its record from the frame: _frame_records)
    sql = (
        "create or replace temp table checked as select s.row_number, "  # noqa: S608
        f"{reason} as reason, {column} as column_name, {value} as value, "
        f"{detail} as detail, case when k is not null then coalesce(cast("
        f"s.raw_record as json), {lazy}{record}) end as raw_record{typed} "
        f"from (select *, {first} as k from (select cast({_row_number(frame)} "
        f"as integer) as row_number, {', '.join(inner)} from incoming_frame "
        "as r) as s) as s")
    con.execute(sql, _bound(sql, params))


def stage_none(con, spec, present) -> None:
    """`checked` as stage() makes it, holding no row: its columns (the
    typed ones as the table types them), without the checks' SQL."""
    typed = "".join(f", t.{q(c)}" for c in present)
    # identifiers from the schema (or checked frame columns), quoted by q()
    con.execute(
        "create or replace temp table checked as select "  # noqa: S608
        "cast(null as integer) as row_number, cast(null as varchar) as "
        "reason, cast(null as varchar) as column_name, cast(null as varchar) "
        "as value, cast(null as varchar) as detail, cast(null as json) as "
        f"raw_record{typed} from {q(spec.name)} as t limit 0")


def insert_passed(con, frame, spec, present, timezone, *, source: str,
                  batch_id: int, capped: bool = True) -> int:
    """Insert the rows of `incoming_frame` that pass every check of
    `stage` (the same SQL: typed values, the first failing check NULL)
    straight into the canonical table, with their source and batch, without
    staging them; returns how many. For a frame whose keys are distinct and
    new to the table (loader._direct), where no row can be rejected
    against another. `capped`: DuckDB's buffers held to
    insert_memory_limit(rows); CapTooSmall if the insert runs out under it."""
    inner, checks, params = _checks(frame, spec, present, timezone)
    params |= {"source": source, "batch": batch_id}
    columns = ", ".join(f"s.{q(c)}" for c in present)
    # identifiers from the schema (or checked frame columns), quoted by q()
    sql = (
        f"insert into {q(spec.name)} by name select {columns}, "  # noqa: S608
        "$source as source, $batch as ingested_batch_id from (select "
        f"{', '.join(inner)} from incoming_frame as r) as s "
        f"where ({_first(checks)}) is null")
    # DuckDB would push the filter below the typed values, writing each
    # value's SQL into it: every value parsed twice (about 3 CPU seconds
    # at 1M changes)
    limit, disabled = con.execute(
        "select current_setting('memory_limit'), "
        "current_setting('disabled_optimizers')").fetchall()[0]
    con.execute("set disabled_optimizers = $d", {"d": ",".join(
        n for n in (disabled, "filter_pushdown") if n)})
    try:
        # the insert runs beside the frame: DuckDB's buffers are capped
        # (without, they took about 500-700 MB more at 1M changes). Should
        # DuckDB refuse the cap (it holds more already) or the insert need
        # more, the load runs again without it: either failed statement
        # ends a publish's transaction
        cap = insert_memory_limit(len(frame))
        try:
            if capped:
                con.execute("set memory_limit = $m", {"m": cap})
            return con.execute(sql, _bound(sql, params)).fetchall()[0][0]
        except duckdb.OutOfMemoryException as exc:
            if not capped:
                raise
            raise CapTooSmall(f"the insert needs more than {cap}") from exc
    finally:
        _restore(con, limit, disabled)


def _restore(con, limit: str, disabled: str) -> None:
    """Put back memory_limit (DuckDB's default, which a publish's
    connection has, or the limit as DuckDB showed it, to its 0.1 of a unit)
    and disabled_optimizers; not on a connection whose transaction a failed
    statement ended (its caller discards it)."""
    try:
        con.execute("reset memory_limit")
        if con.execute("select current_setting('memory_limit')"
                       ).fetchall()[0][0] != limit:
            con.execute("set memory_limit = $m", {"m": limit})
        con.execute("set disabled_optimizers = $d", {"d": disabled})
    except duckdb.TransactionException:
        pass


def stage_keys(con, frame, spec, timezone) -> None:
    """`frame_keys`: each row's number and its key's typed values (as
    `stage` makes them: NULL for a missing one), as `__key_<i>`."""
    keys = ", ".join(f"{_value_sql(spec, k, timezone)[0]} as {q(f'__key_{i}')}"
                     for i, k in enumerate(spec.key))
    params = {"tz": timezone} | {f"codes_{k}": spec.codes[k]
                                 for k in spec.key if k in spec.codes}
    sql = ("create or replace temp table frame_keys as select cast("  # noqa: S608
           f"{_row_number(frame)} as integer) as row_number, {keys} "
           "from incoming_frame as r")
    con.execute(sql, _bound(sql, params))


def frame_records(con, frame) -> None:
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


def present(con, spec) -> list[str]:
    found = {r[0] for r in con.execute("describe checked").fetchall()}
    return [c for c in spec.columns if c in found]


def _warned(con, condition: str, loaded: tuple[str, dict] | None = None
            ) -> tuple[int, str]:
    """How many loaded rows meet `condition` (SQL over `checked`, or over
    `loaded`: a from clause of the loaded rows with their row_number, and
    its parameters) and `(rows 4, 9, ...)`: the first WARNED_ROWS row
    numbers, as a spreadsheet shows them."""
    rows, params = loaded or ("checked where reason is null", {})
    n, numbers = con.execute(
        "select count(*), list(row_number order by row_number) "  # noqa: S608
        f"[1:{WARNED_ROWS}] from {rows} and ({condition})",
        params).fetchall()[0]
    if not n:
        return 0, ""
    shown = ", ".join(str(r) for r in numbers)
    more = ", …" if n > len(numbers) else ""
    return n, f" (row{'s' if n > 1 else ''} {shown}{more})"


def warnings(con, spec, file_name, timezone,
             loaded: tuple[str, dict] | None = None) -> list[str]:
    """Loaded rows with an end before their start (where the schema only
    warns) or dates before 1990 or more than 10 years ahead; `loaded` as
    for _warned (default: the rows of `checked` that passed)."""
    columns = present(con, spec)
    found = []
    for start, end in schema.SOFT_INTERVALS.get(spec.name, ()):
        if start in columns and end in columns:
            n, where = _warned(con, f"{q(end)} < {q(start)}", loaded)
            if n:
                found.append(f"{file_name}: {many(n, 'row')} with {end} "
                             f"before {start}{where}")
    if spec.name == "changes" and {"actual_end_at", "closed_at"} <= set(
            columns):
        # a change is completed at its actual end: one recorded years after
        # the record was closed (BPIC 2014: closed 2014-03-20, ended
        # 2021-03-20) counts in a period when nothing happened, unsaid (a
        # real-data walkthrough)
        n, where = _warned(con, "actual_end_at > closed_at + interval 1 day",
                           loaded)
        if n:
            found.append(f"{file_name}: {many(n, 'row')} with actual_end_at "
                         f"more than a day after closed_at{where}: each is "
                         "counted as completed at its actual end")
    instants = [c for c in columns if spec.kind(c) == "instant"]
    if instants:
        odd = {c: f"({q(c)} < timestamptz '1990-01-01' or {q(c)} > "
               "current_timestamp + interval 10 year)" for c in instants}
        n, where = _warned(con, " or ".join(odd.values()), loaded)
        if n:
            found.append(f"{file_name}: {many(n, 'row')} with dates before "
                         f"1990 or more than 10 years ahead{where}: "
                         + _odd_dates(con, odd, loaded))
    return found


def _odd_dates(con, odd: dict[str, str],
               loaded: tuple[str, dict] | None) -> str:
    """Which columns hold the odd dates of warnings(), each with the first
    as read: 'release_date (9, the first 1970-01-01 00:00:00+00 on row
    44204)', or 'created_at = 1970-01-01 00:00:00+00 on row 5' for one."""
    rows, params = loaded or ("checked where reason is null", {})
    named = [(c, f"count(*) filter (where {cond})",
              f"arg_min(cast({q(c)} as varchar), row_number) filter "
              f"(where {cond})", f"min(row_number) filter (where {cond})")
             for c, cond in odd.items()]
    # column names come from the schema (quoted by q()), conditions from
    # odd; the loaded rows' clause from the loader
    found = con.execute(
        "select " + ", ".join(f"{n}, {v}, {r}" for _, n, v, r in named)  # noqa: S608
        + f" from {rows} and ({' or '.join(odd.values())})",
        params).fetchall()[0]
    said = []
    for i, (column, *_) in enumerate(named):
        n, value, row = found[3 * i:3 * i + 3]
        if n == 1:
            said.append(f"{column} = {value} on row {row}")
        elif n:
            said.append(f"{column} ({n:,}, the first {value} on row {row})")
    return ", ".join(said)
