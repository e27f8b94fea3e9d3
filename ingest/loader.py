"""The one loader: an adapter's frame checked in SQL (ingest/checks.py), its
rejects kept (ingest/rejects.py), the rest upserted and the batch recorded,
then published (changeboard/db.py: publish).

Identifiers in the SQL below are canonical column names from the schema,
always double-quoted by q(); values are bound, never formatted in.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath

import duckdb
import pandas as pd

from changeboard import auth, config, db
from changeboard.words import many

from . import checks, frames, hints, reading, rejects, schema
from .checks import q
from .errors import FileError

PREVIEW_REJECTS = 50
# the sample build records its files as sample_data/<name>
# (sample_data.database.publish), for people to read
SAMPLE_PREFIX = "sample_data/"
# and its batches' author as this, which tells them apart: a file name is
# whatever path a load was given, an author no load can choose
# (auth.Actor.loaded_by: an e-mail, local:<user> or cli:<user>)
SAMPLE_LOADER = "changeboard:sample"
# test hook: called inside the publish block just before it commits
before_publish = None
# a released frame of this many rows or more is let go at once (_end_frame_view)
FREE_BY_COMMIT_ROWS = 100_000


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
    # canonical column -> the file's header it was read from, where they
    # differ (a ServiceNow export's opened_at for created_at): a reject
    # names both
    file_columns: dict[str, str] = field(default_factory=dict)
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
        "(select batch_id from ingest_batches where loaded_by = $sample)",
        {"sample": SAMPLE_LOADER}).fetchall()[0][0]
        for table in schema.TABLES)


def remove_sample(con) -> int:
    """Delete the sample build's rows from every canonical table (its
    ingest_batches rows stay, as history); returns how many were deleted."""
    removed = 0
    for table in schema.TABLES:
        removed += con.execute(
            f"delete from {q(table)} where ingested_batch_id in (select "  # noqa: S608
            "batch_id from ingest_batches where loaded_by = $sample)",
            {"sample": SAMPLE_LOADER}).fetchall()[0][0]
    return removed


def load(frame: pd.DataFrame, db_path=None, *, file_name: str, sha256: str,
         dry_run: bool = False, strict: bool = False,
         progress: Callable[[str], None] | None = None,
         replace_sample: bool = False, loaded_by: str | None = None,
         release: bool = False, capped: bool = True,
         beside_sample: bool = False) -> Loaded:
    """Validate and load one adapter frame as one batch, then publish.

    Never raises for bad data: a file-level problem gives status `failed` (an
    ingest_batches row is published unless dry_run). Reloading the same
    sha256 for the same source and table gives status `unchanged`.
    `progress(stage)` is told each stage as it starts: copying, checking,
    writing, publishing. `replace_sample`: the sample build's rows are
    deleted in the same publish, before the frame loads (so its ids cannot
    collide with them), and only if the load succeeds and loads or deletes
    a row; a dry run shows
    the load as it would be without them. `loaded_by`: who ran it (default
    cli:<os user>). `release`: the caller reads the frame no more, so its
    columns are dropped once checked (peak memory; not when sample rows
    were removed, as a failed load is then tried again without them).
    `capped`: a direct insert holds DuckDB's buffers to
    checks.insert_memory_limit; when it runs out under it, the load runs
    again without. `beside_sample`: the sample's stored rows are not held
    against the frame's (a load that was to replace the sample and failed,
    recorded beside it with the rejects it had without it).
    """
    progress = progress or _quiet
    db_path = Path(db_path or config.DB_PATH)
    batch = frames.batch(frame)
    source, table = batch.source or "csv", batch.table
    stored = None
    if db_path.exists():   # before taking the writer lock
        # on the process's shared view of the file (a server has it open
        # already: 2 ms, where opening the file again is 50-60 ms at 1M)
        with db.reading(db_path) as con:
            stored = _same_file(con, source, table, sha256, batch.settings)
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
                               progress=progress, loaded_by=loaded_by,
                               release=release and not removed,
                               capped=capped, beside_sample=beside_sample)
            result.sample_rows_removed = removed
            if removed and (result.status == "failed" or not (
                    result.rows_loaded or result.rows_deleted)):
                # a file of no rows (a header alone) would leave an empty
                # dashboard: the sample stays until a load brings data
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
        # record the failed load with the sample kept, its rows judged as
        # they were without it: a --strict load refused for one bad row
        # must not also reject every id the sample happens to hold
        return load(frame, db_path, file_name=file_name, sha256=sha256,
                    dry_run=dry_run, strict=strict, progress=progress,
                    loaded_by=loaded_by, beside_sample=True)
    except checks.CapTooSmall:
        # nothing was published (the frame is whole: it is freed only
        # after the insert): the same load, its insert uncapped
        return load(frame, db_path, file_name=file_name, sha256=sha256,
                    dry_run=dry_run, strict=strict, progress=progress,
                    replace_sample=replace_sample, loaded_by=loaded_by,
                    release=release, capped=False,
                    beside_sample=beside_sample)
    return result


@contextmanager
def scratch_copy(db_path: Path):
    """The path of a private copy of the published database (none if it
    does not exist), deleted with everything written beside it after."""
    from .uploads import workdir

    with workdir() as folder:
        copy = folder / "dry-run.duckdb"
        if db_path.exists():
            shutil.copyfile(db_path, copy)
        yield copy


@contextmanager
def _scratch(db_path: Path):
    """A writable private copy of the published database, then deleted."""
    with scratch_copy(db_path) as copy:
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
        _record_batch(con, result, sha256, datetime.now(UTC))
    return result


def _same_file(con, source, table, sha256, settings=None) -> int | None:
    """The last succeeded batch of this file (same source, table and
    sha256), if it read the file the same way (same settings:
    Batch.settings): loading it again changes nothing. Read with a
    corrected mapping (or back with an earlier one), it is a new load."""
    if not sha256 or not table:
        return None
    row = con.execute(
        "select batch_id, settings_sha256 is not distinct from $settings "
        "from ingest_batches where source = $s and entity = $t and "
        "file_sha256 = $h and status = 'succeeded' order by batch_id desc "
        "limit 1", {"s": source, "t": table, "h": sha256,
                    "settings": settings}).fetchall()
    return row[0][0] if row and row[0][1] else None


def _next_batch_id(con) -> int:
    return con.execute(
        "select coalesce(max(batch_id), 0) + 1 from ingest_batches"
    ).fetchall()[0][0]


def _record_batch(con, result: Loaded, sha256, started,
                  settings: str | None = None) -> int:
    """The batch's ingest_batches row, under result.batch_id (the next id
    if it has none yet)."""
    if result.batch_id is None:
        result.batch_id = _next_batch_id(con)
    batch_id = result.batch_id
    con.execute(
        "insert into ingest_batches (batch_id, source, entity, file_name, "
        "file_sha256, started_at, finished_at, rows_read, rows_loaded, "
        "rows_rejected, rows_updated, rows_unchanged, rows_deleted, "
        "rows_merged, warnings, status, error, loaded_by, settings_sha256) "
        "values ($id, "
        "$source, $entity, $file, $sha, $started, $finished, $read, "
        "$loaded, $rejected, $updated, $unchanged, $deleted, $merged, "
        "$warnings, $status, $error, $by, $settings)",
        {"id": batch_id, "source": result.source, "entity": result.table,
         "file": result.file_name, "sha": sha256, "started": started,
         # now, not current_timestamp: that is the publish's start, before
         # this batch's own when several are published together
         "finished": datetime.now(UTC),
         "read": result.rows_read, "loaded": result.rows_loaded,
         "rejected": result.rows_rejected, "updated": result.rows_updated,
         "unchanged": result.rows_unchanged, "deleted": result.rows_deleted,
         "merged": result.rows_merged,
         "warnings": json.dumps(result.warnings) if result.warnings else None,
         "status": "failed" if result.status == "failed" else "succeeded",
         "error": result.error,
         "by": result.loaded_by or auth.cli_actor(), "settings": settings})
    return batch_id


def _check_excluded(con, table: str, source: str, excludes, said: str
                    ) -> None:
    """A FileError when the table holds rows of a source the batch's
    mapping excludes (its [source] excludes): endoflife.date's cycles
    loaded beside its versions were refused row by row only where an id
    met (175 rows), and the other cycles counted each product's releases
    a second time (a new user's walkthrough)."""
    if not excludes or table not in schema.TABLES:
        return
    # loaded from the command line or uploaded on the Data page (whose
    # sources are prefixed: rejects.UPLOADED)
    named = [*excludes, *(rejects.UPLOADED + e for e in excludes)]
    found = con.execute(
        f"select source, count(*) from {table} "  # noqa: S608 - a table of the schema
        "where source in (select unnest($s)) group by source order by source",
        {"s": named}).fetchall()
    if found:
        held = ", ".join(f"{n:,} from {name}" for name, n in found)
        raise FileError(
            f"{said}: the database holds {table} loaded as {held}, which "
            f"the mapping of {source} excludes: the same data in another "
            "form, counted twice beside it. Nothing was loaded: load it "
            "into a database of its own, or load the other")


def said_name(file_name: str) -> str:
    """How a load's messages name its file: by its name alone, as the
    readers' own messages do (`changes.csv: ...`), where the batch records
    the path it was given (a load from the command line); an API's
    endpoint (a URL) whole."""
    return file_name if "://" in file_name else PurePath(file_name).name


def load_into(con, frame: pd.DataFrame, *, file_name: str, sha256: str | None,
              strict: bool = False,
              progress: Callable[[str], None] | None = None,
              loaded_by: str | None = None, release: bool = False,
              capped: bool = True, beside_sample: bool = False) -> Loaded:
    """The load on an open writable connection (inside db.publish).
    `release`: the frame's columns are dropped once checked (checks.release),
    for a caller that does not read it again. `capped`: as for load();
    checks.CapTooSmall when a direct insert runs out under the cap (the
    caller runs the load again without it). `beside_sample`: the sample's
    stored rows are not held against the frame's rows (load())."""
    progress = progress or _quiet
    started = datetime.now(UTC)
    batch = frames.batch(frame)
    source, table = batch.source or "csv", batch.table
    said = said_name(file_name)
    result = Loaded(table or "", file_name, None, source=source,
                    warnings=list(batch.warnings),
                    loaded_by=loaded_by,
                    file_columns=frames.headers_read(batch.written))
    stored = _same_file(con, source, table, sha256, batch.settings)
    if stored is not None:
        result.status, result.already_loaded = "unchanged", stored
        return result
    try:
        spec, timezone, present = checks.check_frame(frame, said)
        _check_excluded(con, table, source, batch.excludes, said)
    except FileError as exc:
        result.status, result.error = "failed", str(exc)
        _record_batch(con, result, sha256, started, batch.settings)
        return result
    batch_id = result.batch_id = _next_batch_id(con)
    # the rows alone: pyarrow, converting an arrow-backed frame, would try
    # to write its attrs (the Batch) as JSON metadata
    rows = frame.copy(deep=False)
    rows.attrs = {}
    con.register("incoming_frame", rows)
    progress("checking")
    direct = False
    try:
        direct = not strict and _direct(con, frame, spec, source, timezone)
        if direct:
            # each row's checks and typed values go straight into the
            # table; `checked` holds the rejected rows alone
            progress("writing")
            passed = checks.insert_passed(con, frame, spec, present,
                                          timezone, source=source,
                                          batch_id=batch_id, capped=capped)
            _stage_rejected(con, frame, rows, spec, present, timezone,
                            passed)
        else:
            checks.stage(con, frame, spec, present, timezone)
            checks.frame_records(con, frame)
            rejects.duplicates(con, spec)
            rejects.against_stored(
                con, spec, source, sha256,
                ignored_loader=SAMPLE_LOADER if beside_sample else None)
    finally:
        _tidy(con)
    rejects.as_written(con, spec, batch.written)
    del rows
    if release:  # the caller reads the frame no more: free its cells
        large = len(frame) >= FREE_BY_COMMIT_ROWS
        checks.release(con, frame)
        if large:
            _end_frame_view(con)
    counts = con.execute(
        "select count(*), count(*) filter (where reason is null) from checked"
    ).fetchall()[0]
    frame_rows, accepted = counts
    if direct:
        frame_rows, accepted = frame_rows + passed, passed
    # rows_read counts input rows: those merged into an earlier row of their
    # id are neither loaded nor rejected (docs/adapters.md, Counting rows)
    result.rows_merged = batch.rows_merged
    result.rows_superseded = batch.rows_superseded
    result.rows_read = frame_rows + result.rows_merged
    result.rows_rejected = frame_rows - accepted
    result.reasons = [tuple(r) for r in con.execute(
        "select reason, count(*) as n from checked where reason is not null "
        "group by reason order by n desc, reason").fetchall()]
    result.warnings += checks.warnings(
        con, spec, said, timezone,
        _loaded_rows(spec, batch_id) if direct else None)
    result.warnings += hints.unread_dates(con, frame_rows, said, batch)
    if frame_rows and not accepted:
        # every row rejected: a failed load, which changes no data and
        # leaves the data's as-of where it was (a succeeded batch of 0
        # rows moved it, and read as a load that worked); its rejects are
        # recorded, to say why
        result.status = "failed"
        top, n_top = result.reasons[0]
        result.error = (
            f"{said}: every one of its {many(frame_rows, 'row')} was "
            f"rejected (most often {top}: {n_top:,}): nothing loaded")
        result.rows_loaded = 0
    elif direct:  # written: every row new (_direct)
        result.rows_new = result.rows_loaded = accepted
    elif strict and result.rows_rejected:
        result.status = "failed"
        result.error = (f"{said}: {many(result.rows_rejected, 'row')} "
                        "rejected and --strict given: nothing loaded")
        result.rows_loaded = 0
    else:
        progress("writing")
        _classify(con, spec, source, result)
        _write(con, spec, source, batch_id, batch.mode,
               result)
    rejects.write(con, batch_id)
    result.rejects = con.execute(
        "select row_number, column_name, value, reason, detail "
        "from ingest_rejects where batch_id = $b order by row_number limit $n",
        {"b": batch_id, "n": PREVIEW_REJECTS}).df()
    _record_batch(con, result, sha256, started, batch.settings)
    con.execute("drop view if exists final_rows")
    for name in ("checked", "final", "frame_keys"):
        con.execute(f"drop table if exists {name}")
    return result


def _end_frame_view(con) -> None:
    """Commit the transaction and begin the next: DuckDB keeps the frame it
    was given (con.register) until the transaction that dropped its view
    ends, as that view's old version, so checks.release alone freed nothing
    of a load inside db.publish's transaction. A refresh of the 1M-change
    export held its 589 MB of cells through the classifying join and the
    write. Nothing is published before db.publish replaces the file, so a
    commit here changes what a failed load leaves: nothing either way. Only
    for a large frame: a commit can wait for the copy db.publish is still
    flushing (a 10,000-change load would wait for it). On an autocommit
    connection (a dry run's copy) there is nothing to end."""
    try:
        con.execute("commit")
    except duckdb.TransactionException:
        return
    con.execute("begin")
    reading.release_memory()  # now unreferenced: back to the system


def _tidy(con) -> None:
    """Drop what the checks registered, unless a failed statement ended the
    connection's transaction (checks.CapTooSmall: it is discarded)."""
    try:
        con.execute("drop view if exists frame_records")
        con.unregister("incoming_frame")
    except duckdb.TransactionException:
        pass


def _direct(con, frame, spec, source, timezone) -> bool:
    """Whether the frame's rows can go straight into the table, checked as
    they are inserted (checks.insert_passed), with no row rejected against
    another or against the stored rows: an upsert of a frame with row
    numbers whose keys (typed as the checks type them) are distinct and
    none of them stored. Then rejects.duplicates and against_stored find
    nothing and every row loaded is new. Leaves `frame_keys`."""
    if frames.batch(frame).mode != "upsert" or "row_number" not in frame:
        return False
    checks.stage_keys(con, frame, spec, timezone)
    keys = [q(f"__key_{i}") for i in range(len(spec.key))]
    known = " and ".join(f"{k} is not null" for k in keys)
    if not con.execute(
            f"select count(*) = count(distinct ({', '.join(keys)})) "  # noqa: S608
            f"from frame_keys where {known}").fetchall()[0][0]:
        return False
    match = _key_match(spec)
    return not con.execute(
        f"select exists (select 1 from frame_keys as f join {q(spec.name)} "  # noqa: S608
        f"as t on {match})").fetchall()[0][0]


def _key_match(spec) -> str:
    """SQL matching a stored row `t` to its `frame_keys` row `f`."""
    return " and ".join(f"t.{q(k)} = f.{q(f'__key_{i}')}"
                        for i, k in enumerate(spec.key))


def _stage_rejected(con, frame, rows, spec, present, timezone,
                    passed: int) -> None:
    """`checked` for the rows checks.insert_passed left out (`passed` rows
    went in; the others have a missing key, or a key the table does not
    have, as the keys are distinct and new), built by checks.stage from
    those rows of the frame alone."""
    if passed == len(rows):
        # every row went in (an incremental load's usual case): `checked`
        # holds none, and planning the checks' SQL for no row cost 0.08 s
        # of a 10,000-change load
        checks.stage_none(con, spec, present)
        return
    match = _key_match(spec)
    missing = " or ".join(f"f.{q(f'__key_{i}')} is null"
                          for i in range(len(spec.key)))
    numbers = [r[0] for r in con.execute(
        f"select row_number from frame_keys as f where {missing} or not "  # noqa: S608
        f"exists (select 1 from {q(spec.name)} as t where {match}) "
        "order by row_number").fetchall()] if len(rows) > passed else []
    left = rows[rows["row_number"].isin(numbers)] if numbers else rows[:0]
    con.unregister("incoming_frame")
    con.register("incoming_frame", left)
    checks.stage(con, frame, spec, present, timezone)
    staged = con.execute("select count(*) from checked where reason is not "
                         "null").fetchall()[0][0]
    if staged != len(numbers) or staged != len(left):
        raise RuntimeError(f"{len(numbers)} rows not inserted, {len(left)} "
                           f"found in the frame, {staged} rejected by the "
                           "checks")


def _loaded_rows(spec, batch_id) -> tuple[str, dict]:
    """The rows a direct load inserted, with their row numbers (a from
    clause for checks.warnings)."""
    match = _key_match(spec)
    return (f"(select f.row_number, t.* from {q(spec.name)} as t join "  # noqa: S608
            f"frame_keys as f on {match} where t.ingested_batch_id = $batch) "
            "as loaded where true", {"batch": batch_id})


def _classify(con, spec, source, result: Loaded) -> None:
    """`final_rows`: accepted rows as whole table rows, tagged
    new/updated/unchanged. Into a table with rows, the tags are kept by key
    alone (`final`) and `final_rows` reads the rows from `checked`: a
    refresh of a million-change export held every row a second time
    (1.4 GB) to write the few that changed."""
    present = checks.present(con, spec)
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
    # accepted rows have distinct keys (rejects.duplicates): the key finds
    # a row's tag
    con.execute(
        f"create or replace temp table final as with n as (select {row} "  # noqa: S608
        f"from checked as c where c.reason is null) select "
        f"{rejects.key_list(spec, 'n')}, case when "
        f"t.{q(spec.key[0])} is null then 'new' when {same} then 'unchanged' "
        f"else 'updated' end as __load from n left join {table} as t on "
        f"{rejects.key_match(spec, 'n', 't')}")
    counts = dict(con.execute(
        "select __load, count(*) from final group by __load").fetchall())
    con.execute(
        f"create or replace temp view final_rows as select {row}, "  # noqa: S608
        "f.__load from checked as c inner join final as f on "
        f"{rejects.key_match(spec, 'c', 'f')} where c.reason is null")
    result.rows_new = counts.get("new", 0)
    result.rows_updated = counts.get("updated", 0)
    result.rows_unchanged = counts.get("unchanged", 0)
    result.rows_loaded = sum(counts.values())


def _write(con, spec, source, batch_id, mode, result: Loaded) -> None:
    columns = ", ".join(q(c) for c in spec.columns)
    table = q(spec.name)
    if mode == "snapshot":
        keys = rejects.key_list(spec, "c")
        gone = (f"from {table} as t where t.source = $source and "  # noqa: S608
                f"({rejects.key_list(spec, 't')}) not in (select ({keys}) from checked "
                f"as c where ({keys}) is not null)")
        # the first ones by key, for the preview to show before a commit
        result.deleted = con.execute(
            f"select {rejects.key_list(spec, 't')} {gone} order by all "
            "limit $n", {"source": source, "n": PREVIEW_REJECTS}).df()
        # each row deleted, kept with its key and record for the audit
        # trail (ingest_deletions): the rows_deleted count named none
        key_text = " || ' | ' || ".join(
            f"coalesce(cast(t.{q(k)} as varchar), '')" for k in spec.key)
        con.execute(
            "insert into ingest_deletions (batch_id, table_name, row_key, "  # noqa: S608
            f"record) select $batch, $table, {key_text}, to_json(t) {gone}",
            {"source": source, "batch": batch_id, "table": spec.name})
        result.rows_deleted = con.execute(
            f"delete {gone}", {"source": source}).fetchall()[0][0]
    # all new: a plain insert skips the replace path's per-key lookups
    verb = "insert or replace" if result.rows_updated else "insert"
    con.execute(
        f"{verb} into {table} by name select {columns}, "  # noqa: S608
        "$source as source, $batch as ingested_batch_id from final_rows "
        "where __load <> 'unchanged'", {"source": source, "batch": batch_id})
