"""changeboard query: list the metric queries or run one and print its rows."""
import difflib
import json
import math
import os
import re
import sys
from datetime import date

import numpy as np
import pandas as pd

import reports
from changeboard import config, db, filters, snapshots
from changeboard.cli import no_database
from changeboard.filters import join_list, split_list  # noqa: F401 (cli API)


def _parse_params(name: str, pairs: list[str]) -> dict:
    declared = db.signature(name)
    values, given = {}, {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise db.QueryError(f"--param {pair!r} is not k=v")
        if key in values:  # the last one silently won
            raise db.QueryError(
                f"--param {key} is given twice ({key}={given[key]!r} and "
                f"{key}={value!r}): give it once"
                + (", its values comma-separated" if declared.get(
                    key, (None, ""))[1].startswith("list") else ""))
        given[key] = value
        if value == "" and declared.get(key, (None, ""))[0] is not None:
            # an optional parameter given empty (`reporting_tz=$TZ`, $TZ
            # unset) takes its default, as when absent: bound as NULL, a
            # zone of none counted every change of all time, exit 0
            continue
        values[key] = None if value == "" else value
    for key, value in values.items():  # a list parameter's values
        if value is not None and declared.get(key, (None, ""))[1].startswith(
                "list"):
            values[key] = split_list(value) or None
    return values


def _check_values(con, name: str, values: dict) -> None:
    """One-line QueryError for a required parameter given empty (it would
    be bound as NULL: a window from the beginning of time), a date that is
    not YYYY-MM-DD, a window whose start is not before its end, a bin of no
    hours, or a filter value the database does not hold (n = 0 would read
    as a real zero; so would an empty window)."""
    declared = db.params(name)
    for param, value in values.items():
        if value is None and param in declared and declared[param] is None:
            raise db.QueryError(f"--param {param}= is empty: query {name!r} "
                                "needs a value for it")
        if value is not None and param.endswith("_date"):
            text = value.strip()
            # Python reads 20260131 too (ISO's basic form), DuckDB not
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise db.QueryError(
                    f"--param {param}={value!r} is not a date: expected "
                    "YYYY-MM-DD, e.g. 2026-01-31")
            try:
                date.fromisoformat(text)
            except ValueError:
                raise db.QueryError(
                    f"--param {param}={value!r} is not a date: there is "
                    "no such day") from None
    start, end = values.get("start_date"), values.get("end_date")
    if start is not None and end is not None and \
            date.fromisoformat(start.strip()) >= date.fromisoformat(
                end.strip()):
        raise db.QueryError(
            f"--param start_date={start} is not before end_date={end}: the "
            "window runs from start_date up to, not including, end_date")
    _check_window(values)
    bins = values.get("bin_hours")
    hours = None if bins is None else _number(bins)
    if hours is not None and hours <= 0:
        raise db.QueryError(f"--param bin_hours={bins} is not a number of "
                            "hours above 0")
    for param, value in values.items():  # a count of days or minutes
        unit = param.rpartition("_")[2]
        if value is not None and unit in ("days", "minutes") and \
                param in declared:
            number = _number(value)  # None: the query's cast names it
            if number is not None and not 0 <= number < math.inf:
                raise db.QueryError(f"--param {param}={value!r} is not a "
                                    f"number of {unit}, 0 or more")
    priority = values.get("failure_min_priority")
    if priority is not None and "failure_min_priority" in declared and not (
            priority.strip().isdigit() and int(priority) >= 1):
        # 0 read as "no incident is that urgent": no change failed by one
        raise db.QueryError(
            f"--param failure_min_priority={priority!r} is not a priority: "
            "a whole number from 1 (the most urgent), e.g. 2 counts the "
            "incidents of priority 1 and 2")
    batch = values.get("batch_id")
    if batch is not None and not batch.strip().isdigit():
        raise db.QueryError(f"--param batch_id={batch!r} is not a batch id: "
                            "a whole number (`changeboard query "
                            "ingest_batches` lists them)")
    if batch is not None and "batch_id" in declared and int(batch) not in set(
            db.run(con, "ingest_batches")["batch_id"]):
        # an unknown batch listed no rows, as one with no reject does
        raise db.QueryError(f"--param batch_id={batch}: no batch {batch} in "
                            "this database (`changeboard query "
                            "ingest_batches` lists them)")
    source = values.get("source")
    if source is not None and "source" in declared:
        known = sorted(set(db.run(con, "ingest_batches")["source"]))
        if source not in known:
            raise db.QueryError(
                f"--param source={source!r}: no load from that source in "
                f"this database (known: {', '.join(known) or 'none'})")
    refused = filters.refusal(con, {
        p: v if isinstance(v, list) else split_list(v)
        for p, v in values.items() if p in declared and v})
    if refused:
        raise db.QueryError(f"--param {refused[0]}: {refused[1]}")


def _check_window(values: dict) -> None:
    """A review window (window_start_at, window_end_at) whose start is not
    before its end: an input error, as start_date and end_date are. An
    instant without an offset is in the query's reporting zone."""
    start, end = values.get("window_start_at"), values.get("window_end_at")
    if start is None or end is None:
        return
    zone = values.get("reporting_tz") or config.REPORTING_TZ
    try:
        bounds = [pd.Timestamp(v.strip()) for v in (start, end)]
        bounds = [b if b.tzinfo else b.tz_localize(zone) for b in bounds]
    except (ValueError, TypeError):
        return  # not instants: the query's cast names which
    if bounds[0] >= bounds[1]:
        raise db.QueryError(
            f"--param window_start_at={start} is not before window_end_at="
            f"{end}: the window runs from window_start_at up to, not "
            "including, window_end_at")


def _number(text) -> float | None:
    """The value as a number, or None when it is none (DuckDB's cast then
    names it)."""
    try:
        return float(str(text).strip())
    except ValueError:
        return None


KINDS = {"INT64": "a whole number", "INT32": "a whole number",
         "BIGINT": "a whole number", "INTEGER": "a whole number",
         "DOUBLE": "a number", "DECIMAL": "a number", "BOOL": "true or false",
         "BOOLEAN": "true or false", "DATE": "a date (YYYY-MM-DD)",
         "TIMESTAMP": "a time (ISO-8601)"}


def _conversion(exc: Exception, name: str, values: dict) -> str | None:
    """A DuckDB error about a given value as one line naming the parameter
    (None when no given value is named). DuckDB quotes the value with ' in
    a cast's error and with " in a timestamp's or an extract specifier's."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    for param, value in values.items():
        if value is None or (f"'{value}'" not in first
                             and f'"{value}"' not in first):
            continue
        target = re.search(r" to (?:type )?([A-Z][A-Z0-9 ]*[A-Z0-9])", first)
        if target:
            kind = target.group(1)
            kind = KINDS.get(kind.split()[0], kind.lower())
        elif "TimeZone" in first:
            kind = "an IANA time zone (e.g. Europe/London)"
        elif "timestamp" in first:
            kind = KINDS["TIMESTAMP"]
        else:  # a choice the query checks: say what it takes
            described = db.signature(name).get(param, (None, ""))[1]
            return (f"--param {param}={value!r} is not valid"
                    + (f": expected {described}" if described else ""))
        return f"--param {param}={value!r} cannot be read as {kind}"
    # a check of the query's own, error('dimension must be ...'), naming a
    # parameter given
    own = re.match(r"Invalid Input Error: (\w+) (.+)$", first)
    if own and values.get(own.group(1)) is not None:
        param = own.group(1)
        said = (f"--param {param}={values[param]!r} is not valid: {param} "
                f"{own.group(2)}")
        # 'must be a, b or c': the one meant, when one is near
        choices = re.match(r"must be (.+)$", own.group(2))
        if choices:
            allowed = re.split(r", | or ", choices.group(1))
            near = difflib.get_close_matches(str(values[param]), allowed, 1)
            if near:
                said += f"; did you mean {near[0]}?"
        return said
    return None


def _listed(param: str, default: str | None) -> str:
    """A parameter as --list shows it: required bare, optional in brackets,
    with its default when it has one ([lookback_days=365]); an optional
    one whose absence means "all" ([teams])."""
    if default is None:
        return param
    if default.lower() == "null":
        return f"[{param}]"
    return f"[{param}={default.strip(chr(39) + chr(34))}]"


def _list() -> None:
    if problem := config.zone_problem(config.REPORTING_TZ):
        # listed as the default, then refused by every query (a re-check)
        print(f"warning: CHANGEBOARD_REPORTING_TZ: {problem}: a query given "
              "no reporting_tz refuses it", file=sys.stderr)
    try:
        config.failure_min_priority()
    except ValueError as exc:
        print(f"warning: {exc}", file=sys.stderr)
    width = max(map(len, db.names()), default=0)
    for name in db.names():
        # the reporting zone a query is read in when none is given: the
        # setting's (the list said UTC where CHANGEBOARD_REPORTING_TZ set
        # another, and a monthly job's November moved: a process owner)
        params = ", ".join(_listed(p, _setting_default(p, d))
                           for p, d in db.params(name).items())
        print(f"{name:<{width}}  {db.header(name)}")
        if params:
            print(f"{'':<{width}}  params: {params}")


def _setting_default(param: str, default: str | None) -> str | None:
    """A parameter's default as a query takes it: the reporting zone and
    the failure threshold of the settings (CHANGEBOARD_REPORTING_TZ,
    CHANGEBOARD_FAILURE_MIN_PRIORITY) where they set one."""
    if param == "reporting_tz" and default:
        return repr(config.REPORTING_TZ)
    if param == "failure_min_priority" and default:
        try:
            level = config.failure_min_priority()
        except ValueError:
            return default  # said at the top of the list
        return default if level is None else str(level)
    return default


def _zone_setting(name: str, values: dict) -> None:
    """A query read in the reporting zone of the settings (no
    reporting_tz given) when CHANGEBOARD_REPORTING_TZ names no zone, or
    with their failure threshold when CHANGEBOARD_FAILURE_MIN_PRIORITY is
    no priority: an input error naming the setting, as --param would be."""
    if "reporting_tz" in db.params(name) and \
            values.get("reporting_tz") is None:
        problem = config.zone_problem(config.REPORTING_TZ)
        if problem:
            raise db.QueryError(f"CHANGEBOARD_REPORTING_TZ: {problem}")
    if "failure_min_priority" in db.params(name) and \
            values.get("failure_min_priority") is None:
        try:
            config.failure_min_priority()
        except ValueError as exc:
            raise db.QueryError(str(exc)) from None


def run(args, parser) -> int:
    if args.list:
        return _written(_list)
    values = {}
    try:
        if not args.name:
            parser.error("give a query name or --list")
        values = _parse_params(args.name, args.param)
        _zone_setting(args.name, values)
        as_of = getattr(args, "as_of", None)
        path, version = snapshots.source(args.db or config.DB_PATH, as_of)
        said_version(as_of, version, args.db or config.DB_PATH)
        missing = no_database(path)  # said as report and snapshots say it
        if missing:
            print(f"error: {missing}", file=sys.stderr)
            return 2  # an input error, as a wrong name or parameter is
        with db.connect(path, read_only=True) as con:
            _judged_at_last_load(con, args.name, values)
            _check_values(con, args.name, values)
            frame = db.run(con, args.name, **values)
    except (db.QueryError, KeyError, snapshots.SnapshotError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # duckdb errors: one line, not a traceback
        named = _conversion(exc, args.name, values)
        if named:
            print(f"error: {named}", file=sys.stderr)
            return 2
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
    return _written(lambda: _write(frame, args.format))


def said_version(as_of: str | None, version: str | None, db_path) -> None:
    """Which version --as-of read (the start of a name, a day or '2026-11',
    denotes one): on stderr, as a scripted export's provenance; the rows
    are the same whatever the name given. Nothing without --as-of."""
    if not as_of or not version:
        return
    live = version == snapshots.version_name(db_path)
    print(f"--as-of {as_of}: reading "
          + (f"the live file, {version}" if live
             else f"the snapshot {version}"), file=sys.stderr)


def _judged_at_last_load(con, name: str, values: dict) -> None:
    """Release readiness with no as_of given is judged as the data stands
    at its last load, as the Release readiness page and the CAB pack judge
    it (the query alone judges at the wall clock: a release went missing
    and a slip read 2.3 days against the page's 2.2): said on stderr."""
    if not name.startswith("release_readiness") or "as_of" in values:
        return
    loaded = db.run(con, "data_status")["as_of"].iloc[0]
    if pd.isna(loaded):
        return  # no load recorded: now, as the page judges then
    values["as_of"] = pd.Timestamp(loaded).isoformat(sep=" ")
    print(f"as_of {values['as_of']}: judged as the data stands at its last "
          "load, as the Release readiness page judges it (--param "
          "as_of=... for another instant)", file=sys.stderr)


def _written(write) -> int:
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _write(frame, fmt: str) -> None:
    if fmt == "csv":  # neutralised and quoted as every export is
        sys.stdout.flush()
        sys.stdout.buffer.write(reports.csv_bytes(frame))
        sys.stdout.buffer.flush()
    elif fmt == "json":
        sys.stdout.write(json_text(frame))
        sys.stdout.write("\n")
    else:
        _print_table(frame)


def json_text(frame: pd.DataFrame) -> str:
    """The rows as a JSON array of objects, with what the CSV has: a date
    as YYYY-MM-DD (a DATE column is all midnights), an instant in UTC to
    the microsecond ending in Z, numbers to their last digit (pandas'
    to_json cuts them at 10 decimals), NULL as null."""
    columns = {str(name): _json_column(frame.iloc[:, i])
               for i, name in enumerate(frame.columns)}
    records = [dict(zip(columns, row, strict=True))
               for row in zip(*columns.values(), strict=True)]
    return json.dumps(records, separators=(",", ":"), default=str)


# every instant to the microsecond, a zero fraction too (isoformat drops
# it: one column held both forms, and a fixed parse of the other failed)
JSON_INSTANT = "%Y-%m-%dT%H:%M:%S.%f"


def _json_column(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return [None if pd.isna(v) else v.strftime(JSON_INSTANT) + "Z"
                for v in utc]
    if pd.api.types.is_datetime64_dtype(series.dtype):
        days = series.dropna()
        as_date = bool((days == days.dt.normalize()).all())
        return [None if pd.isna(v) else
                v.strftime("%Y-%m-%d" if as_date else JSON_INSTANT)
                for v in series]
    return [_json_value(v) for v in series.astype(object)]


def _json_value(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_value(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.tz_convert("UTC").strftime(JSON_INSTANT) + "Z" \
            if value.tzinfo else value.strftime(JSON_INSTANT)
    return value


MISSING = "–"  # a table's NULL cell, as the pages show one


def _print_table(frame) -> None:
    with pd.option_context("display.max_rows", 200, "display.max_columns",
                           50, "display.width", 200):
        print(table_text(frame) if len(frame) else "(no rows)")


def table_text(frame: pd.DataFrame) -> str:
    """The rows as a text table, a NULL cell as MISSING: pandas writes NaN,
    NaT, None or <NA> by the column's type (a rate with n = 0 read NaN,
    where the CSV has an empty cell and the JSON null)."""
    shown = frame.copy()
    for i in range(shown.shape[1]):
        column = shown.iloc[:, i]
        missing = column.isna()
        # float and datetime cells take to_string's na_rep; the others'
        # (None, pd.NA) do not
        if missing.any() and not (
                pd.api.types.is_float_dtype(column.dtype)
                or pd.api.types.is_datetime64_any_dtype(column.dtype)):
            shown.isetitem(i, column.astype(object).where(~missing, MISSING))
    return shown.to_string(index=False, na_rep=MISSING)
