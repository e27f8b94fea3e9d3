"""changeboard load, sync and sample: files, API syncs and the sample into
the database, each published atomically."""
from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import ingest
from changeboard import config, db
from changeboard.cli import no_database
from changeboard.cli.snapshots import size
from changeboard.words import many
from ingest import sources
from ingest.progress import Progress, Stages


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def summary(results) -> None:
    """The per-file table and each file's notes, warnings and top rejects."""
    # every file's whole name: two exports whose names differ after the
    # first 36 characters must not read alike
    width = max([36, *(len(Path(r.file_name).name) for r in results)])
    print(f"{'file':<{width}} {'table':<20} {'batch':>5} {'status':<9} "
          f"{'read':>9} {'loaded':>9} {'new':>9} {'updated':>9} "
          f"{'unchanged':>9} {'rejected':>9} {'merged':>9}")
    # read = loaded + rejected + merged (merged: rows merged into another of
    # their id, or superseded by a later version of it)
    for r in results:
        print(f"{Path(r.file_name).name:<{width}} {r.table[:20]:<20} "
              f"{r.batch_id or '-':>5} {r.status:<9} {r.rows_read:>9,} "
              f"{r.rows_loaded:>9,} {r.rows_new:>9,} {r.rows_updated:>9,} "
              f"{r.rows_unchanged:>9,} {r.rows_rejected:>9,} "
              f"{r.rows_merged:>9,}")
    for r in results:
        name = Path(r.file_name).name
        if r.status == "unchanged":
            print(f"{name}: already loaded as batch {r.already_loaded}; "
                  "nothing changed")
        if r.error:
            print(f"{name}: error: {_unnamed(r.error, r.file_name)}")
        for warning in r.warnings:
            print(f"{name}: warning: {_unnamed(warning, r.file_name)}")
        if r.rows_deleted:
            done = "would delete" if r.status == "dry_run" else "deleted"
            first = ", ".join(str(v) for v in r.deleted.iloc[:, 0][:10])
            print(f"{name}: snapshot of source {r.source} {done} "
                  f"{many(r.rows_deleted, f'stored {r.table} row')} not in "
                  "the file"
                  f" (first: {first})")
        if r.reasons:
            top = ", ".join(f"{reason} {n:,}" for reason, n in r.reasons[:5])
            print(f"{name}: top rejection reasons: {top}")
            if r.rejects is not None:
                for row in r.rejects.head(5).itertuples():
                    print(f"  row {row.row_number}: {row.reason}"
                          + _where(row.column_name, row.value,
                                   r.file_columns)
                          + _detail(row.detail))
            if r.rows_rejected > 5 and r.batch_id and r.status != "dry_run":
                # the five above, then where the rest are (it was not said)
                print(f"  ... every one of the {r.rows_rejected:,}: "
                      "changeboard query ingest_rejects --param "
                      f"batch_id={r.batch_id} --format csv")


def _unnamed(message: str, file_name: str) -> str:
    """A warning or error without the file's name (or path) in front: the
    line says it once, before `warning:` or `error:`."""
    for named in (f"{file_name}: ", f"{Path(file_name).name}: "):
        if message.startswith(named):
            return message[len(named):]
    return message


def _where(column, value, headers: dict | None = None) -> str:
    """` in column = 'value'` (with the file's header it was read from,
    where that differs: ` in created_at (the file's opened_at)`), or
    `: value` for a reject of the whole row (bad_row_shape: no column; its
    value says what is wrong)."""
    if _missing(column):
        return "" if _missing(value) else f": {value}"
    read = (headers or {}).get(column)
    # an empty cell as canonical CSV says it (''), where a ServiceNow or
    # Jira export's read 'nan' or 'None' (a data administrator's walkthrough)
    return f" in {column}" + (f" (the file's {read})" if read else "") + \
        f" = {('' if _missing(value) else value)!r}"


def _missing(value) -> bool:
    """NULL, as a frame gives it: None, or NaN."""
    return value is None or (isinstance(value, float) and value != value)


def _detail(detail) -> str:
    """` (detail)`, or nothing when the reject has none (NULL reads as NaN
    in a frame: never print "(nan)")."""
    if _missing(detail):
        return ""
    text = str(detail).strip()
    return f" ({text})" if text else ""


def since(text: str) -> str:
    """--since as UTC `YYYY-MM-DD HH:MM:SS`: a date, a time, or ISO-8601
    with an offset (no offset: UTC)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since {text!r}: expected e.g. 2026-03-01 or "
            "2026-03-01T08:00:00Z") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def no_folder(args) -> str | None:
    """A database (--db, else CHANGEBOARD_DB) in a folder that does not
    exist: said, not created (a typo in the path made a new folder and a
    new database beside the one meant, and said it was published)."""
    path = Path(args.db or config.DB_PATH)
    if path.parent.is_dir():
        return None
    named = f"--db {args.db}" if args.db else f"CHANGEBOARD_DB={path}"
    return (f"{named}: there is no folder {path.parent} (a new database "
            "file is created, not its folder)")


def _wrong_input(args) -> str | None:
    """A database in no folder, an export given to --db, a --table no
    canonical table is named, or a --mapping (or --overrides) that names
    no file or cannot be read: what is wrong, else None."""
    from ingest import mapping
    from ingest.errors import FileError
    from ingest.schema import TABLES

    wrong = no_folder(args)
    if wrong:
        return wrong
    try:
        db.refuse_other_file(Path(args.db or config.DB_PATH))
    except db.NotADatabase as other:
        return str(other)
    table = getattr(args, "table", None)
    if table is not None and table not in TABLES:
        near = db.meant(table, TABLES, cutoff=0.6)
        return (f"--table {table}: no canonical table is named so"
                + (f"; did you mean {near}?" if near else "")
                + f" (tables: {', '.join(TABLES)})")
    for option in ("mapping", "overrides"):
        given = getattr(args, option, None)
        if given is None:
            continue
        if not mapping.locate(given).is_file():
            shipped = list(mapping.shipped())
            near = db.meant(given, shipped, cutoff=0.6)
            return (f"--{option} {given}: no such file"
                    + ("" if option == "overrides" else
                       (f", and no shipped mapping is named so; did you mean "
                        f"{near}?" if near else ", and no shipped mapping "
                        "is named so") + f" (shipped: {', '.join(shipped)})"))
        if option == "mapping":
            try:
                mapping.load(given)
            except FileError as bad:
                return f"--mapping {given}: {bad}"
    return None


def _file_options(args) -> dict | None:
    """The adapter options of `changeboard load`: a mapping file for the
    mapping source, an overrides file for the sources that take one."""
    given = getattr(args, "mapping", None) or getattr(args, "overrides", None)
    return {"mapping": given} if given else None


def load(args) -> int:
    # what the command line names wrongly is said before any file is read,
    # and nothing is written (not a failed batch in a new database)
    wrong = _wrong_input(args)
    if wrong:
        print(f"changeboard load {args.source}: error: {wrong} (nothing "
              "loaded)", file=sys.stderr)
        return 2
    if not args.dry_run:
        return _load(args, Path(args.db or config.DB_PATH))
    # a dry run loads the files, as a load publishes them, into a private
    # copy (each is checked against what the ones before it left), then
    # deletes it: the database is neither written nor locked
    with ingest.scratch_copy(Path(args.db or config.DB_PATH)) as copy:
        return _load(args, copy)


def _load(args, db_path: Path) -> int:
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:  # before any file is read: nothing is loaded
        print(f"changeboard load {args.source}: error: " + "; ".join(
            f"{f}: " + ("a folder, not a file" if Path(f).is_dir()
                        else "no such file") for f in missing)
            + " (nothing loaded)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    options = _file_options(args)
    table = getattr(args, "table", None)
    results = []
    for file in args.files:
        path = Path(file)
        n_bytes = path.stat().st_size if path.exists() else 0
        _progress(f"{path.name}: reading {size(n_bytes)} as {args.source}"
                  + (" (dry run)" if args.dry_run else ""))
        stages = Stages(path.name, n_bytes)
        try:
            result = ingest.load_path(args.source, path, db_path,
                                      table=table, options=options,
                                      strict=args.strict, progress=stages,
                                      replace_sample=not args.keep_sample)
        finally:
            stages.finish()
        if args.dry_run and result.status != "unchanged":
            result.batch_id = None   # of the copy
            if result.status == "succeeded":
                result.status = "dry_run"
        _progress(f"{path.name}: {result.status} in "
                  f"{time.perf_counter() - started:.1f} s")
        if result.sample_rows_removed:
            removed = result.sample_rows_removed
            print(f"{path.name}: the generated sample's "
                  f"{many(removed, 'row')} "
                  + ("would be" if args.dry_run else
                     "was" if removed == 1 else "were")
                  + " removed first, so your data is not mixed with it "
                  "(--keep-sample keeps them)")
        results.append(result)
    summary(results)
    failed = [r for r in results if r.status == "failed"]
    rejected = [r for r in results if r.rows_rejected]
    took = f"{time.perf_counter() - started:.1f} s"
    loaded = [r for r in results if r.status == "succeeded"]
    if args.dry_run:
        print("dry run: nothing was written")
    elif loaded:
        print(f"published {db_path} in {took}" + (
            f"; {len(failed)} of {many(len(results), 'file')} failed and "
            "loaded nothing" if failed else ""))
    elif failed:  # nothing published but the failed batches' records
        n = len(results)
        print(f"nothing loaded into {db_path}: "
              + ("the file failed" if n == 1 else
                 f"all {n:,} files failed" if len(failed) == n else
                 f"{len(failed)} of {many(n, 'file')} failed, "
                 + ("the other was" if n - len(failed) == 1 else
                    "the others were") + " already loaded")
              + (" (recorded as a failed batch)" if len(failed) == 1 else
                 " (each recorded as a failed batch)"))
    else:
        print(f"nothing changed in {db_path}: "
              + ("the file was" if len(results) == 1 else
                 "every file was") + " already loaded")
    if failed or (args.strict and rejected):
        return 1
    return 0


def sync(args) -> int:
    """Run one API sync; exit 0 when it succeeded."""
    from ingest import api

    entry = sources.get(args.source)
    db_path = args.db or config.DB_PATH
    wrong = no_folder(args)
    if wrong:
        print(f"changeboard sync {args.source}: error: {wrong} (nothing "
              "synced)", file=sys.stderr)
        return 2
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(message)s")
    flags = {}
    if "query" in entry.sync_flags:
        flags["query"] = args.query or ""
    if "jql" in entry.sync_flags:
        flags["jql"] = args.jql
    if "project" in entry.sync_flags:
        flags["projects"] = [p for value in args.project or []
                             for p in value.split(",")]
    if "timezone" in entry.sync_flags:
        flags["timezone"] = args.timezone
    try:
        site, name = (ingest.adapter_options(entry.name,
                                             {"mapping": args.overrides})
                      if args.overrides else (None, None))
        source = entry.sync()(site, **flags)
        source.source = name or source.source
    except (api.ApiError, ingest.FileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    progress = Progress()
    run = api.sync(source, db_path, since=getattr(args, "since", None),
                   full=getattr(args, "full", False),
                   progress=lambda r: progress(r, source.total))
    print(f"{run.source} sync {run.sync_id} {run.status}: "
          f"{many(run.pages, 'page')}, "
          f"{run.records_read:,} read, {run.rows_loaded:,} loaded, "
          f"{run.rows_rejected:,} rejected, {run.fetched_again:,} fetched "
          f"again by the key check, "
          f"{many(len(run.batches), 'batch', 'batches')}")
    print(f"{source.endpoint}: since {run.since_at or 'the beginning'}; "
          f"watermark {run.watermark_at or 'none'}"
          + ("" if run.status == "succeeded" else " (not moved)"))
    summary(run.batches)
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
    return 0 if run.status == "succeeded" else 1


def own_loads(db_path) -> str | None:
    """The loads of a database that are not the sample build's, in words
    ('3 loads of your own, the last by ann@acme.example on 06 Dec 2026'),
    or None when it holds none (or is no database yet)."""
    if no_database(db_path):
        return None
    with db.connect(db_path, read_only=True) as con:
        n, who, when = con.execute(
            "select count(*), arg_max(loaded_by, started_at), "
            "max(started_at) from ingest_batches "
            "where loaded_by is distinct from $sample",
            {"sample": ingest.loader.SAMPLE_LOADER}).fetchone()
    if not n:
        return None
    return (f"{many(n, 'load')} of your own, the last"
            + (f" by {who}" if who else "")
            + (f" on {when:%d %b %Y}" if when else ""))


def sample(args) -> int:
    db_path = args.db or config.DB_PATH
    if args.remove:  # nothing to remove from a file that is not there
        missing = no_database(db_path)
        if missing:
            print(f"error: {missing}", file=sys.stderr)
            return 2
        removed = ingest.remove_sample_from(db_path)
        print(f"removed {many(removed, 'sample row')} from {db_path}")
        return 0
    from sample_data import database

    own = None if args.replace else own_loads(db_path)
    if own:
        print(f"error: {db_path} holds {own}: `changeboard sample` would "
              "replace them and their load history with the sample. Build "
              "the sample in another file (--db /tmp/sample.duckdb), remove "
              "only the sample's rows (--remove), or pass --replace to "
              "replace them", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        loaded = database.publish(db_path, seed=args.seed, scale=args.scale)
    except ingest.FileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary(loaded)
    print(f"published {db_path} in {time.perf_counter() - started:.1f} s")
    return 0
