"""One path to the database: connect(), reading(), run(), version(), publish()."""
from __future__ import annotations

import atexit
import difflib
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from changeboard import config, snapshots

log = logging.getLogger("changeboard.db")

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "queries"
SCHEMA = Path(__file__).with_name("schema.sql")
MACROS = Path(__file__).with_name("macros")
SCHEMA_VERSION = 9
# version -> SQL that brings a database of version-1 up to it; applied in order
MIGRATIONS: dict[int, str] = {
    2: """
        alter table ingest_batches add column if not exists rows_updated integer;
        alter table ingest_batches add column if not exists rows_unchanged integer;
        alter table ingest_batches add column if not exists rows_deleted integer;
        alter table ingest_batches add column if not exists warnings json;
        alter table ingest_rejects add column if not exists detail varchar;
    """,
    # api_syncs is created by schema.sql (create table if not exists)
    3: "",
    4: "alter table ingest_batches add column if not exists rows_merged "
       "integer;",
    # what a CAB reads about a change (issue 11)
    5: """
        alter table changes add column if not exists description varchar;
        alter table changes add column if not exists justification varchar;
        alter table changes add column if not exists implementation_plan varchar;
        alter table changes add column if not exists backout_plan varchar;
        alter table changes add column if not exists test_plan varchar;
    """,
    # who ran each load and sync (issue 14); older rows: unknown (null)
    6: """
        alter table ingest_batches add column if not exists loaded_by varchar;
        alter table api_syncs add column if not exists run_by varchar;
    """,
    # the sample's batches are told apart by their author, no longer by
    # their file name (ingest.loader.SAMPLE_LOADER); those written before
    # are the ones named sample_data/…
    7: """
        update ingest_batches set loaded_by = 'changeboard:sample'
        where starts_with(file_name, 'sample_data/');
    """,
    # what each file was read with: the same file read with a corrected
    # mapping is a new load, not "unchanged" (ingest.loader._same_file)
    8: "alter table ingest_batches add column if not exists settings_sha256 "
       "varchar;",
    # the rows a snapshot-mode load deleted, each kept with its key and
    # record (an auditor could not trace which once the file before was
    # pruned): ingest_deletions, created by schema.sql
    9: "",
}

# DuckDB warns that a cursor's Arrow result is copied once more than a
# relation's (con.sql(...)); measured, the cursor is the faster of the two
# here (a 10,764-row calendar: 51.7 vs 58.4 ms), and the warning is noise
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result",
                        category=UserWarning)

_PARAM_LINE = re.compile(r"^--\s+((?:\$\w+(?:,\s*)?)+)\s*:(.*)$")
_DEFAULT = re.compile(r"\(default:?\s*(.*?)\)\s*$")


class QueryError(Exception):
    """An unknown query, or parameters that do not match its header."""


CONNECTIONS_OPENED = 0  # database instances this process opened (tests count)


def _opened() -> None:
    global CONNECTIONS_OPENED
    CONNECTIONS_OPENED += 1


def connect(path: str | Path = ":memory:", *, read_only: bool = False,
            keep: dict | None = None, begin: bool = False):
    """A DuckDB connection in UTC; writable ones get the schema and macros
    (idempotent), read-only ones find them in the file. `keep` (publish):
    the derived tables set aside, with what they read (as_views). `begin`
    (publish): a transaction is open once the schema and macros are in
    place (migrate); the caller commits it."""
    if not read_only and path != ":memory:" and snapshots.is_snapshot(path):
        raise snapshots.SnapshotError(
            f"{path} is a snapshot: it is never written (read it "
            "read-only, through snapshots.read_path)")
    new = not read_only and (path == ":memory:" or not Path(path).exists())
    if read_only and path != ":memory:":
        # a file a publish may replace while DuckDB opens it (opened_whole)
        _, con = opened_whole(path, lambda: _connected(path, read_only=True),
                              _closed)
    else:
        con = _connected(path, read_only=read_only)
    con.execute("set TimeZone = 'UTC'")
    # a long load or materialize never draws a progress bar on the output
    con.execute("set enable_progress_bar = false")
    if new and _made_one_before():
        _copy_schema(con)  # current: migrate() would find nothing to do
        if begin:
            con.execute("begin")
    elif not read_only:
        migrate(con, keep, begin=begin)
    elif not is_current(con):
        # a file published by an older Changeboard (schema or macros): upgrade
        # it once, the same safe way a load publishes, then read that file
        con.close()
        _upgrade(path)
        return connect(path, read_only=True)
    return con


class NotADatabase(ValueError):
    """A file named as the database that is not one (an export given to
    --db by mistake): said naming it, not DuckDB's error."""


DUCKDB_MAGIC = b"DUCK"  # a DuckDB file's bytes 8-11


def refuse_other_file(path: str | Path, *, reading: bool = False) -> None:
    """NotADatabase when path is a file with bytes that are not a DuckDB
    database's, or, `reading`, no bytes (a missing file is left to its
    caller, and an empty one to a load, which makes the database)."""
    try:
        with open(path, "rb") as file:
            head = file.read(12)
    except (FileNotFoundError, IsADirectoryError):
        return
    if (head or reading) and head[8:12] != DUCKDB_MAGIC:
        raise NotADatabase(f"{path} is not a DuckDB database (--db, else "
                           "CHANGEBOARD_DB, names the database, not a data "
                           "file)")


def _connected(path: str | Path, *, read_only: bool):
    _opened()
    if str(path) != ":memory:":
        refuse_other_file(path, reading=read_only)
    return duckdb.connect(str(path), read_only=read_only)


def _closed(con) -> None:
    con.close()


_templates: dict[str, Path] = {}
_templates_lock = threading.Lock()
_new_databases = 0  # new databases (files or in memory) this process made


def _made_one_before() -> bool:
    """Whether this process made a new database before this one. The first
    gets its macros created in it directly, so a one-off command (the CLI's
    first load) makes no template it would not use again; from the second
    on, the template pays for itself."""
    global _new_databases
    with _templates_lock:
        _new_databases += 1
        return _new_databases > 1


def _schema_template() -> Path:
    """A file of this process holding only the schema and the macros, made
    when a second new database is created (in a private temporary folder,
    removed at exit)."""
    key = macros_sha256()
    with _templates_lock:
        found = _templates.get(key)
        if found is None or not found.exists():
            folder = Path(tempfile.mkdtemp(prefix="changeboard-schema-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            found = folder / "schema.duckdb"
            with duckdb.connect(str(found)) as con:
                con.execute("set TimeZone = 'UTC'")
                migrate(con)
            _templates[key] = found
        return found


def _copy_schema(con) -> None:
    """Fill a new database (a new file, or one in memory) with the schema
    and macros of the template: creating the macros takes about 0.3 s of
    parsing and planning, copying them about 0.05 s; then migrate() finds
    them current."""
    target = con.execute("select current_database()").fetchall()[0][0]
    con.execute("attach $p as changeboard_schema_template (read_only)",
                {"p": str(_schema_template())})
    try:
        # an identifier, quoted: the new file's own catalog name
        con.execute("copy from database changeboard_schema_template to "
                    + '"' + target.replace('"', '""') + '"')
    finally:
        con.execute("detach changeboard_schema_template")
    con.execute("update schema_version set applied_at = current_timestamp")


def _upgrade(path: str | Path) -> None:
    if snapshots.is_snapshot(path):
        raise snapshots.SnapshotError(
            f"{path} is a snapshot of an older Changeboard: it is never "
            "upgraded in place; read it through snapshots.read_path, which "
            "upgrades a copy")
    before = snapshots.version_name(path)
    with publish(path):
        pass
    kept = before in {s.name for s in snapshots.listing(path)}
    # a read that rewrote the file: said (on the CLI's stderr, in the
    # app's log), with the version it keeps
    log.warning("%s was written by another Changeboard: upgraded to this "
                "one's schema and macros%s", path,
                f"; the file before is kept as the snapshot {before}"
                if kept else "")


def _version_of(con) -> int:
    try:
        found = con.execute("select max(version) from schema_version")
    except duckdb.CatalogException:  # no schema at all yet
        return 0
    return found.fetchone()[0] or 0


# a file whose derived_set has another layout has its macros installed again
DERIVED_SET_LAYOUT = b"derived_set (name, sql, reads)\0"


def macros_sha256() -> str:
    """The fingerprint of changeboard/macros/*.sql and of the layout of
    `derived_set`, stored with the macros."""
    digest = hashlib.sha256(DERIVED_SET_LAYOUT)
    for macros in sorted(MACROS.glob("*.sql")):
        digest.update(macros.name.encode() + b"\0" + macros.read_bytes())
    return digest.hexdigest()


def _macros_of(con) -> str | None:
    try:
        found = con.execute("select max(sha256) from macro_set").fetchone()
    except duckdb.CatalogException:  # published before macros were stored
        return None
    return found[0]


def is_current(con) -> bool:
    """Whether the file needs no upgrade: this schema version (or a newer
    one, which a write refuses) with exactly this Changeboard's macros."""
    found = _version_of(con)
    return found > SCHEMA_VERSION or (
        found == SCHEMA_VERSION and _macros_of(con) == macros_sha256())


def install_macros(con) -> None:
    """Create every macro file, in name order, in the database itself, and
    record their fingerprint; a file with these macros already is left alone.

    The files also define the derived views (`create or replace view
    derived_...`): results over all history that many queries share (a
    change's incident links, each incident's deployment). They are views in
    a database being written, so they follow every insert; publish()
    materializes them as tables, so a published file answers from them
    without recomputing. Their definitions are kept in `derived_set`.
    """
    sha256 = macros_sha256()
    if _macros_of(con) == sha256:
        return
    for name, kind in _derived_objects(con):
        con.execute(f"drop {kind} {name}")  # checked identifier
    for macros in sorted(MACROS.glob("*.sql")):
        con.execute(macros.read_text())
    views = _checked(con.execute(
        "select view_name, sql from duckdb_views() "
        "where database_name = current_database() "
        "and view_name like 'derived\\_%' escape '\\' "
        "order by view_oid").fetchall())
    # what each view can read, whatever the data: worked out once here
    # instead of on every publish (two plans of each view, ~0.2 s at 1M)
    con.execute("pragma disable_optimizer")
    try:
        found = [_plan_reads(con, name) for name, _ in views]
    finally:
        con.execute("pragma enable_optimizer")
    con.execute("create or replace table derived_set "
                "(name varchar, sql varchar, reads varchar[])")
    for (name, sql), read in zip(views, found, strict=True):
        # one row at a time, in definition order (rowid order is read back)
        con.execute("insert into derived_set values ($n, $s, $r)",
                    {"n": name, "s": sql,
                     "r": None if read is None else sorted(read)})
    con.execute("create or replace table macro_set as select $h as sha256",
                {"h": sha256})


_DERIVED_NAME = re.compile(r"derived_[a-z0-9_]+")


def _checked(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The rows, once every name is a plain derived_ identifier: names are
    read from the file and written into statements."""
    for name, _ in rows:
        if not _DERIVED_NAME.fullmatch(name):
            raise RuntimeError(f"unexpected derived object name {name!r}")
    return rows


def _derived_objects(con) -> list[tuple[str, str]]:
    """(name, 'table' or 'view') of the derived objects in the database."""
    return _checked(con.execute(
        "select table_name, case table_type when 'VIEW' then 'view' "
        "else 'table' end from information_schema.tables "
        "where table_catalog = current_database() "
        "and table_name like 'derived\\_%' escape '\\' "
        "and table_name <> 'derived_set'").fetchall())


def _derived_definitions(con) -> list[tuple[str, str]]:
    try:
        return _checked(con.execute(
            "select name, sql from derived_set order by rowid").fetchall())
    except duckdb.CatalogException:  # written before derived tables
        return []


def as_views(con, keep: dict | None = None) -> None:
    """Turn materialized derived tables back into views, so a database being
    written reads its derived results fresh after every insert.

    With `keep` (a publish), each table is set aside as `kept_<name>`
    instead of dropped, and keep[name] holds the tables its view reads on
    the data as it was, with their load marks: materialize() puts it back
    when the load changed none of them."""
    kinds = dict(_derived_objects(con))
    for name, sql in _derived_definitions(con):
        if kinds.get(name) == "table":
            if keep is None:
                con.execute(f"drop table {name}")  # checked identifier
            else:
                con.execute(f"drop table if exists kept_{name}")
                con.execute(f"alter table {name} rename to kept_{name}")
            con.execute(sql)
            if keep is not None:
                keep[name] = None
    if keep:
        marks = _derived_marks(con)
        for name in keep:
            keep[name] = (reads(con, name), marks)


def load_marks(con) -> dict[str, tuple]:
    """(row count, highest batch id) of each table with rows from loads:
    every row a load writes carries that load's batch id, the highest so
    far, and a delete lowers a count, so a load changed a table exactly
    when its marks differ. Also what tells a snapshot apart (snapshots.py)."""
    tables = [t for t, in con.execute(
        "select table_name from duckdb_columns() "
        "where database_name = current_database() "
        "and schema_name = 'main' and column_name = 'ingested_batch_id'"
    ).fetchall() if _TABLE_NAME.fullmatch(t)]
    return {t: con.execute(f"select count(*), max(ingested_batch_id) "  # noqa: S608
                           f"from {t}").fetchone() for t in tables}


def _derived_marks(con) -> dict[str, tuple]:
    """load_marks, and a mark of the load log, ingest_batches (a derived
    view may read it: derived_data_status): its row count and a fingerprint
    of every row, which a new batch or a changed one alters. Kept out of
    load_marks: a snapshot is told apart by the data, not by the log."""
    marks = load_marks(con)
    marks["ingest_batches"] = con.execute(
        "select count(*), bit_xor(hash(b)) from ingest_batches as b"
    ).fetchone()
    return marks


_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# plan operators that read no stored table
_INTERNAL_SCANS = {"DUMMY_SCAN", "CTE_SCAN", "DELIM_SCAN", "COLUMN_DATA_SCAN",
                   "CHUNK_SCAN", "RECURSIVE_CTE_SCAN", "EXPRESSION_SCAN"}


def reads(con, name: str) -> frozenset[str] | None:
    """The stored tables the derived view can read (None: not known for
    sure, a scan the plan does not name), as `derived_set` records them:
    the tables its plan scans before the optimizer leaves out any part it
    proves empty from the parameters or the data, so whatever the data,
    a change to none of them leaves the view's result as it was. Every
    file with these macros has them (the fingerprint covers the layout)."""
    stored = con.execute("select reads, reads is null from derived_set "
                         "where name = $n", {"n": name}).fetchall()
    if not stored or stored[0][1]:
        return None
    return frozenset(stored[0][0])


def _plan_reads(con, name: str) -> frozenset[str] | None:
    """The stored tables the view's plan scans, or None (see reads)."""
    found: set[str] = set()
    plan = json.loads(con.execute(
        f"explain (format json) select * from {name}"  # noqa: S608
    ).fetchall()[0][1])  # a checked identifier (_checked)
    stack = list(plan)
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", []))
        operator = str(node.get("name", "")).strip()
        info = node.get("extra_info") or {}
        table = info.get("Table") if isinstance(info, dict) else None
        if table:
            found.add(str(table).rsplit(".", 1)[-1])
        elif "SCAN" in operator and operator not in _INTERNAL_SCANS:
            return None
    return frozenset(found)


MATERIALIZED: list[str] = []  # derived tables the last publish computed
# of those, the ones it computed for the rows a load wrote alone (ROWWISE)
MATERIALIZED_ROWWISE: list[str] = []
# and those it brought up to date from the rows a load added (ADDITIVE)
MATERIALIZED_ADDITIVE: list[str] = []

# Derived views whose every row depends on one row of a table (and, through
# it, on other tables): view -> (that table, the key column of both, the
# view's rows for the table's rows loaded after batch $after). When a load
# changed that table alone among those the view reads, materialize()
# computes only the rows of the table's rows the load wrote (each carries
# its batch id, above every earlier one) and keeps the others, less those
# of deleted rows: after a load of 10,000 changes into a million, the
# failed changes' recoveries of those 10,000 (0.17 s -> 0.1 s).
ROWWISE = {
    "derived_change_outcomes": (
        "changes", "change_id",
        "select * from change_outcome_facts_of($after)"),
    "derived_failed_change_recoveries": (
        "changes", "change_id",
        "select * from failed_change_recoveries_of("
        "null, null, null, null, null, null, $after)"),
    "derived_cab_unplanned_changes": (
        "changes", "change_id",
        "select * from cab_unplanned_changes_of($after)"),
    "derived_open_changes": (
        "changes", "change_id",
        "select * from open_changes_of($after)"),
}


# Derived views kept up to date when a load only adds rows to the tables it
# changes among those a view reads (none rewritten, none deleted): view ->
# its table computed from the kept table (kept_<view>) and the rows loaded
# after batch $after. The dangling references: the kept missing ids less
# those the load added, merged with the dangling references of the rows it
# wrote (a load adding rows cannot make a found reference dangle). After a
# load of 10,000 changes into a million, the deployments' and incidents'
# changes are no longer all looked up again (0.19 s).
ADDITIVE = {
    "derived_dangling_ids": (
        "select table_name, column_name, referenced_table, ref_id, "
        "sum(n)::bigint as n from ("
        "select k.* from kept_derived_dangling_ids as k "
        "anti join added_ids_of($after) as a "
        "on k.referenced_table = a.referenced_table and k.ref_id = a.ref_id "
        "union all select * from dangling_ids_of($after)) "
        "group by table_name, column_name, referenced_table, ref_id"),
}


def materialize(con, kept: dict | None = None) -> None:
    """Store each derived view as a table, in definition order (a later one
    may read an earlier one): publish() calls this last, so readers find
    the results precomputed. A table set aside at the start (`kept`, see
    as_views) is put back instead when none of the tables its view reads,
    before or after the load, changed: a load of changes alone leaves the
    results over incidents and deployments as they were. A file whose
    macros are not this code's is left as it is: it is upgraded (and
    materialized) before it is read."""
    MATERIALIZED.clear()
    MATERIALIZED_ROWWISE.clear()
    MATERIALIZED_ADDITIVE.clear()
    if _macros_of(con) != macros_sha256():
        return
    kept = kept or {}
    kinds = dict(_derived_objects(con))
    names = [n for n, _ in _derived_definitions(con) if kinds.get(n) == "view"]
    marks = _derived_marks(con) if kept else {}
    # what each view reads on the data now, while every one is a view
    now = {n: reads(con, n) for n in names if kept.get(n)}
    for name in names:
        # checked identifiers (_checked), never values
        if _unchanged(kept.get(name), now.get(name), marks):
            con.execute(f"drop view {name}")
            con.execute(f"alter table kept_{name} rename to {name}")
            continue
        MATERIALIZED.append(name)
        since = _loaded_after(name, kept.get(name), now.get(name), marks)
        added = None if since is not None else _added_after(
            con, name, kept.get(name), now.get(name), marks)
        if since is not None:
            MATERIALIZED_ROWWISE.append(name)
            table = ROWWISE[name][0]
            _rowwise(con, name, since, kept[name][1][table][0],
                     marks[table][0])
            fresh = f"kept_{name}"
        else:
            if added is None:
                computed = f"select * from {name}"  # noqa: S608
            else:
                MATERIALIZED_ADDITIVE.append(name)
                computed = ADDITIVE[name]
            con.execute(f"create or replace table {name}__new as "
                        f"{computed}",
                        None if added is None else {"after": added})
            fresh = f"{name}__new"
        con.execute(f"drop view {name}")
        con.execute(f"alter table {fresh} rename to {name}")
    for name in kept:
        con.execute(f"drop table if exists kept_{name}")


def _rowwise(con, name: str, after: int, rows_before: int,
             rows_now: int) -> None:
    """The kept table brought up to date in place: less its rows of the rows
    its ROWWISE table no longer holds as they were (written again by the
    load, or deleted), plus the view's rows of those the load wrote (batch
    id above `after`). In place, not copied: the kept rows of a table with
    a row per change (derived_change_outcomes) are a million at a million
    changes."""
    table, key, fresh = ROWWISE[name]
    written = con.execute(
        f"select count(*) from {table} "  # noqa: S608
        "where ingested_batch_id > $after", {"after": after}).fetchall()[0][0]
    # as many more rows as it wrote: it only added rows (an update or a
    # delete would make the difference smaller), so every kept row stands
    if rows_now - rows_before != written:
        con.execute(
            f"delete from kept_{name} where {key} not in ("  # noqa: S608
            f"select t.{key} from {table} as t where "
            "t.ingested_batch_id is null or t.ingested_batch_id <= $after)",
            {"after": after})
    con.execute(f"insert into kept_{name} {fresh}",  # noqa: S608
                {"after": after})


def _loaded_after(name: str, before, now: frozenset[str] | None,
                  marks: dict) -> int | None:
    """For a ROWWISE view whose row table alone, among what the view reads
    before and after the load, has other load marks: that table's highest
    batch id before the load (None: compute the whole view)."""
    if name not in ROWWISE or before is None or before[0] is None \
            or now is None:
        return None
    read, marks_before = before
    changed = {t for t in read | now
               if t not in marks or t not in marks_before
               or marks[t] != marks_before[t]}
    table = ROWWISE[name][0]
    if changed != {table}:
        return None
    return marks_before[table][1]  # None for a table empty before


def _added_after(con, name: str, before, now: frozenset[str] | None,
                 marks: dict) -> int | None:
    """For an ADDITIVE view, when the load only added rows to each table it
    changed among those the view reads, before and after the load: the
    highest batch id those tables held before it, which every row the load
    wrote is above and no other row is (None: compute the whole view)."""
    if name not in ADDITIVE or before is None or before[0] is None \
            or now is None:
        return None
    read, marks_before = before
    tables = read | now
    if any(t not in marks or t not in marks_before for t in tables):
        return None
    after = max((marks_before[t][1] for t in tables
                 if marks_before[t][1] is not None), default=None)
    if after is None:
        return None
    for table in tables:
        if marks[table] == marks_before[table]:
            continue
        written = con.execute(
            f"select count(*) from {table} "  # noqa: S608
            "where ingested_batch_id > $after", {"after": after}).fetchall()
        # as many more rows as it wrote: none rewritten or deleted
        if marks[table][0] - marks_before[table][0] != written[0][0]:
            return None
    return after


def _unchanged(before, now: frozenset[str] | None, marks: dict) -> bool:
    """Whether a derived table set aside still holds its view's result:
    every table the view read, before or after the load, is one with load
    marks and has the same ones."""
    if before is None or before[0] is None or now is None:
        return False
    read, marks_before = before
    tables = read | now
    return all(t in marks and t in marks_before
               and marks[t] == marks_before[t] for t in tables)


# --- the shared read-only view of a published file --------------------------

_readers: dict[str, tuple[tuple[int, int, int] | None,
                         duckdb.DuckDBPyConnection]] = {}
_readers_lock = threading.Lock()
READ_MEMORY_LIMIT = "1GB"  # DuckDB's buffer pool for the app's reads


@contextmanager
def reading(path: str | Path):
    """A cursor on this process's one read-only view of the published file.

    Every session and thread shares the view (each call gets its own cursor);
    it is reopened when a publish replaces the file, and readers still busy
    with the old view finish on it.
    """
    key = str(Path(path).resolve())
    with _readers_lock:
        known = version(key)
        entry = _readers.get(key)
        if entry is None or entry[0] != known:
            if known is None:
                raise FileNotFoundError(f"no database at {path}")
            known, con = _open_view(key)
            _readers[key] = (known, con)
            _forget_old_snapshot_views(key)
        else:
            con = entry[1]
        cursor = con.cursor()
    try:
        cursor.execute("use published")
        yield cursor
    finally:
        cursor.close()


def beside(con):
    """A new cursor on con's database, using the catalog and schema con
    uses (e.g. the published file of reading()): for a query to run beside
    con's on another thread. Make it on con's thread; the caller closes it."""
    where = con.execute("select current_database(), current_schema()"
                        ).fetchone()
    cursor = con.cursor()
    # names DuckDB gave, quoted as identifiers
    cursor.execute("use " + ".".join(
        '"' + name.replace('"', '""') + '"' for name in where))
    return cursor


SNAPSHOT_VIEWS = 4  # snapshots a process keeps open views of at once


def _forget_old_snapshot_views(opened: str) -> None:
    """Drop the views of all but the SNAPSHOT_VIEWS snapshots opened last
    (an app whose users browse history must not hold a view, and its
    memory, per snapshot ever looked at); a reader still busy with a
    dropped view finishes on it. Call with _readers_lock held."""
    if not snapshots.is_snapshot(opened):
        return
    _snapshot_views.append(opened)
    seen: list[str] = []
    for key in reversed(_snapshot_views):
        if key not in seen:
            seen.append(key)
    for key in seen[SNAPSHOT_VIEWS:]:
        _readers.pop(key, None)
    _snapshot_views[:] = list(reversed(seen[:SNAPSHOT_VIEWS]))


_snapshot_views: list[str] = []


def _open_view(path: str):
    """An in-memory instance with the file attached read-only as `published`:
    attaching, unlike duckdb.connect(path), never returns a cached instance
    of a file that a publish has since replaced. Returns the version of the
    file attached, which no publish replaced while it was being attached
    (opened_whole)."""
    refuse_other_file(path, reading=True)
    for _ in range(2):
        seen, con = opened_whole(path, lambda: _attached_view(path), _closed)
        if is_current(con):
            return seen, con
        con.close()
        _upgrade(path)
    raise RuntimeError(f"{path}: could not upgrade the database")


def _attached_view(path: str):
    _opened()
    con = duckdb.connect(config={"memory_limit": READ_MEMORY_LIMIT})
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("attach $p as published (read_only)", {"p": path})
        con.execute("use published")
    except BaseException:
        con.close()
        raise
    return con


def forget_readers(under: str | Path | None = None) -> None:
    """Drop the shared views (tests: start as a fresh process would); with
    `under`, only those of files in that folder (a test's own databases,
    whose views would otherwise hold their memory until the process ends).
    A reader still busy with a dropped view finishes on it."""
    with _readers_lock:
        if under is None:
            _readers.clear()
            return
        folder = Path(under).resolve()
        for key in [k for k in _readers if Path(k).is_relative_to(folder)]:
            del _readers[key]


def migrate(con, keep: dict | None = None, *, begin: bool = False) -> int:
    """Create or upgrade the canonical schema; returns the version now in
    force. `begin`: open a transaction once the schema and macros are in
    place (their checks of what the file holds stay outside it: a failed
    statement would abort it), before the derived tables become views."""
    con.execute(SCHEMA.read_text())
    current = con.execute("select max(version) from schema_version").fetchone()[0]
    if current is None:
        con.execute("insert into schema_version (version) values ($v)",
                    {"v": SCHEMA_VERSION})
        current = SCHEMA_VERSION
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema version {current} is newer than this "
            f"Changeboard's {SCHEMA_VERSION}: upgrade Changeboard")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        con.execute(MIGRATIONS[version])
        con.execute("insert into schema_version (version) values ($v)",
                    {"v": version})
    install_macros(con)
    if begin:
        con.execute("begin")
    as_views(con, keep)
    return SCHEMA_VERSION


def query_path(name: str) -> Path:
    known = _query_paths.get(name)
    if known is not None:
        return known
    sql = (QUERIES / f"{name}.sql").resolve()
    if sql.parent != QUERIES or not sql.exists():
        known = names()
        near = meant(name, known)
        raise QueryError(f"unknown query {name!r}" + (
            f": did you mean {near}?" if near
            else f" (known: {', '.join(known) or 'none'})"))
    _query_paths[name] = sql
    return sql


# a query's file, once found: resolving it took 24 us a call (a system call
# per folder of its path), and the Overview asks about 96 times a rerun
# (each query's parameters); signature() still sees an edit to the file
_query_paths: dict[str, Path] = {}


def meant(word: str, choices, *, cutoff: float = 0.8,
          starts: bool = True) -> str | None:
    """The one of `choices` a mistyped `word` most likely meant (a letter
    dropped, doubled or swapped; a singular for a plural; with `starts`,
    the start of one name alone), or None."""
    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    if near:
        return near[0]
    starting = [c for c in choices if starts and word and c.startswith(word)]
    return starting[0] if len(starting) == 1 else None


def names() -> list[str]:
    return sorted(p.stem for p in QUERIES.glob("*.sql"))


def header(name: str) -> str:
    """The opening sentence of the query's `--` header: what one row is."""
    words = []
    for line in query_path(name).read_text().splitlines():
        if not line.startswith("--") or _PARAM_LINE.match(line):
            break
        words.append(line.lstrip("- ").strip())
        if words[-1].endswith("."):
            break
    return " ".join(words)


def signature(name: str) -> dict[str, tuple[str | None, str]]:
    """Parameters declared in the header: name -> (default text, description);
    read once per version of the file."""
    path = query_path(name)
    return dict(_signature(name, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=512)
def _signature(name: str, mtime_ns: int
               ) -> tuple[tuple[str, tuple[str | None, str]], ...]:
    """Parameters declared in the header: name -> (default text, description).

    A header line `-- $a, $b: what they are (default: 7)` declares both; a
    default of None means required, the text `null` means "absent means all".
    """
    found: list[tuple[list[str], str]] = []  # (names, description)
    for line in query_path(name).read_text().splitlines():
        if not line.startswith("--"):
            break
        match = _PARAM_LINE.match(line)
        if match:
            found.append((re.findall(r"\$(\w+)", match.group(1)),
                          match.group(2).strip()))
        elif found and re.match(r"^--\s{2,}\S", line):  # continuation line
            names_, text = found[-1]
            found[-1] = (names_, f"{text} {line[2:].strip()}")
        else:
            found.append(([], ""))  # a non-parameter line ends continuation
    declared: dict[str, tuple[str | None, str]] = {}
    for names_, description in found:
        default = _DEFAULT.search(description)
        for param in names_:
            declared[param] = (default.group(1) if default else None,
                               description)
    return tuple(declared.items())


def params(name: str) -> dict[str, str | None]:
    """Declared parameters: name -> default text (None = required)."""
    return {p: d for p, (d, _) in signature(name).items()}


def _bind(value, default: str | None, description: str):
    """A parameter's value as bound: list params become lists (None = all)."""
    is_list = description.startswith("list")
    if value is _ABSENT:
        if default is None or default.lower() == "null":
            return None
        value = default.strip("'\"")
    if is_list and isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if is_list and value is not None:
        return list(value)
    return value


_ABSENT = object()


def run(con, name: str, **values) -> pd.DataFrame:
    """Rows of queries/<name>.sql; DuckDB binds the $params, defaults fill gaps."""
    sql, bound = _bound_query(name, values)
    return frame(con, con.execute(sql, bound).to_arrow_table())


_NULLABLE_INT = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                 pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                 pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
                 pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}


_PLAIN = object()  # a column Arrow's to_pandas gives as .df() does


def _series(column: pa.ChunkedArray):
    """column as DuckDB's .df() gives it: a Series, _PLAIN when the table's
    to_pandas gives it so, or None for a type not covered."""
    kind, nulls = column.type, column.null_count
    if pa.types.is_date(kind):  # .df(): datetime64[us], NaT for NULL
        return column.to_pandas(date_as_object=False).astype("datetime64[us]")
    if pa.types.is_decimal(kind):  # .df(): float64 (also HUGEINT sums)
        return column.cast(pa.float64()).to_pandas()
    if pa.types.is_integer(kind) and nulls:  # .df(): Int64 and kin
        return column.to_pandas(types_mapper=_NULLABLE_INT.get)
    if pa.types.is_boolean(kind) and nulls:  # .df(): boolean
        return column.to_pandas(
            types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    if ((pa.types.is_string(kind) or pa.types.is_large_string(kind))
            and nulls == len(column)):  # .df(): object, None (also no rows)
        return pd.Series([None] * len(column), dtype=object)
    if pa.types.is_list(kind) and nulls:  # .df(): arrays, pd.NA for NULL
        series = column.to_pandas()
        return series.where(series.notna(), pd.NA)
    if (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_list(kind) or pa.types.is_integer(kind)
            or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
            or pa.types.is_timestamp(kind)):
        return _PLAIN
    return None


def frame(con, table: pa.Table) -> pd.DataFrame:
    """A query's rows, fetched as Arrow, as the frame DuckDB's .df() gives
    (same columns, dtypes and values), but 2-3x faster on text: a
    20,000-row backlog 27 -> 8 ms. A type not covered here (INTERVAL,
    STRUCT, TIME, ...) takes .df() of the Arrow table, through con."""
    columns = [_series(column) for column in table.columns]
    if any(series is None for series in columns):
        return con.from_arrow(table).df()
    special = [i for i, series in enumerate(columns) if series is not _PLAIN]
    rows = table.to_pandas()
    for i in special:
        rows.isetitem(i, columns[i])
    return rows


def head(con, name: str, rows: int, **values) -> tuple[pd.DataFrame, int]:
    """The first `rows` rows of queries/<name>.sql, in its order, and how
    many rows it gives in all: for a page that shows the start of a long
    result (a million changes' year is 400,000 rows, and fetching them
    costs ten times the query), reading the whole only for a download."""
    sql, bound = _bound_query(name, values)
    n = con.execute(f"select count(*) from (\n{sql}\n)",  # noqa: S608
                    bound).fetchone()[0]
    return _first(con, sql, bound, rows), int(n)


def first(con, name: str, rows: int, **values) -> pd.DataFrame:
    """The first `rows` rows of queries/<name>.sql, in its order, for a
    caller that knows how many there are (head() without its count)."""
    sql, bound = _bound_query(name, values)
    return _first(con, sql, bound, rows)


def _first(con, sql: str, bound: dict, rows: int) -> pd.DataFrame:
    return frame(con, con.execute(
        f"select * from (\n{sql}\n) limit $head_rows",  # noqa: S608
        {**bound, "head_rows": int(rows)}).to_arrow_table())


def setting_defaults(name: str, given=()) -> dict:
    """The values the settings give those of a query's parameters not
    `given`, read now: the reporting zone (CHANGEBOARD_REPORTING_TZ) and
    the site's failure threshold (CHANGEBOARD_FAILURE_MIN_PRIORITY: every
    page, pack and query fails a change by the same incidents; a setting
    that is no priority is an error only where it is used). The queries
    take them (_bound_query), and a page's command names them
    (ui.command_line)."""
    wanted = set(params(name)) - set(given)
    found = {}
    if "reporting_tz" in wanted:
        found["reporting_tz"] = config.REPORTING_TZ
    if "failure_min_priority" in wanted:
        found["failure_min_priority"] = config.failure_min_priority()
    return found


def _bound_query(name: str, values: dict) -> tuple[str, dict]:
    """queries/<name>.sql and its $params' values, checked and defaulted."""
    sql = query_path(name).read_text()
    declared = signature(name)
    extra = sorted(set(values) - set(declared))
    if extra:
        near = [m for m in (meant(e, declared) for e in extra) if m]
        raise QueryError(f"query {name!r} has no parameter"
                         + ("s " if len(extra) > 1 else " ") + ", ".join(extra)
                         + (f"; did you mean {', '.join(near)}?" if near
                            else "")
                         + f" (it takes: {', '.join(declared) or 'none'})")
    missing = [p for p, (d, _) in declared.items()
               if d is None and p not in values]
    if missing:
        raise QueryError(f"query {name!r} needs parameter"
                         + ("s " if len(missing) > 1 else " ")
                         + ", ".join(missing))
    values.update(setting_defaults(name, values))
    bound = {p: _bind(values.get(p, _ABSENT), d, text)
             for p, (d, text) in declared.items()}
    return sql, bound


def version(path: str | Path) -> tuple[int, int, int] | None:
    """(inode, mtime, ctime) of the published file: changes with every
    publish. A publish that changed no data keeps the replaced file's
    mtime (replace), and a freed inode may be given again: the ctime,
    which the publish's chmod sets, tells such files apart."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns


REOPENS = 5  # times a read-only open is tried while publishes replace the file


def opened_whole(path: str | Path, open_once, undo):
    """(version, open_once()): the file at `path` opened read-only by
    open_once(), once no publish replaced the file while it was opened.

    DuckDB does not read a database file through one open: attaching it or
    connecting to it reads the header (which blocks hold the catalog, how
    many blocks there are) through one open of the path, closes it, and
    opens the path again to read the blocks (strace: two or three openat
    of the path). A publish renaming its new file in between gives it the
    old file's header over the new file's blocks: the first query to read
    a block past the new file's end fails ("Could not read enough bytes
    from file"), others read the old file's catalog out of the new file's
    blocks (the old data only where the new file left them as they were).
    Once the blocks' open is made, every read goes through it, so what was
    opened is one whole file when the file's version is the same before
    and after opening it: otherwise it is given to undo() and the file
    opened again, also when opening it failed (the error may be the
    mix's). A publish takes far longer than an open: the second try finds
    the file left in place."""
    last: BaseException | None = None
    for _ in range(REOPENS):
        seen = version(path)
        try:
            found = open_once()
        except duckdb.Error as exc:
            if version(path) == seen:
                raise
            last = exc
            continue
        if version(path) == seen:
            return seen, found
        undo(found)
    raise RuntimeError(f"{path} was replaced by a publish each of the "
                       f"{REOPENS} times it was opened") from last


NEW_FILE_MODE = 0o600  # a new database, copy or lock: owner only
# working files a killed writer leaves: `.<db>.<pid>.tmp`, the sample build's
# `.<db>.sample.tmp` (with its lock) and its own `..<db>.sample.tmp.<pid>.tmp`,
# and their WALs
_STALE = (r"^(\.{name}\.(\d+|sample)\.tmp(\.wal)?|\.{name}\.sample\.tmp\.lock"
          r"|\.\.{name}\.sample\.tmp\.\d+\.tmp(\.wal)?)$")


@contextmanager
def writer_lock(path: str | Path):
    """The exclusive lock on `<path>.lock` that serialises writers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"),
                 os.O_WRONLY | os.O_CREAT, NEW_FILE_MODE)
    with open(fd, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def publish(path: str | Path):
    """A writable copy of the published database; swapped in if the block succeeds.

    Writers are serialised by an exclusive lock on `<path>.lock`. Readers keep
    reading the file they opened; the next connect sees the new one. On any
    error the copy is deleted, so a failed load changes nothing. The new file
    keeps the published one's mode and owner; a first one is owner-only.
    """
    path = Path(path)
    if snapshots.is_snapshot(path):
        raise snapshots.SnapshotError(f"{path} is a snapshot: it is never "
                                      "written")
    refuse_other_file(path)  # before the lock file is made beside it
    with writer_lock(path):
        remove_stale(path)  # left by a killed writer; we hold the lock
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        flushing = _copy_owner_only(path, tmp) if path.exists() else None
        kept: dict = {}
        try:
            # one transaction up to the checkpoint: its one commit is the
            # copy's first write to wait on the disk, after the load's work
            con = connect(tmp, keep=kept, begin=True)
        except BaseException:
            _joined(flushing)
            _remove(tmp)
            raise
        try:
            os.chmod(tmp, NEW_FILE_MODE)
            yield con
            materialize(con, kept)
            con.execute("commit")
            _joined(flushing)
            con.execute("checkpoint")
            written = snapshots.fingerprint_of(con) if snapshots.enabled() \
                else None
            con.close()
            replace(tmp, path, written=written)
        except BaseException:
            con.close()
            _joined(flushing)
            _remove(tmp)
            raise


def _joined(flushing: threading.Thread | None) -> None:
    if flushing is not None:
        flushing.join()


def _copy_owner_only(source: Path, copy: Path) -> threading.Thread:
    """Copy `source` to `copy`, created owner-only and filled through the
    descriptor that created it: never readable by others. (Creating it
    first and copying into it by name truncates it a second time, which
    makes ext4 write the whole file back when it is closed: 0.17-0.30 s
    against 0.1 s for a 267 MB database.)

    Returns a started thread writing the copy to disk (fsync), for the
    caller to join before its checkpoint: the disk takes the copy while
    the load reads and checks its rows. Left to the first commit, the
    whole copy was written then (a 10,000-change load into 1M changes,
    with publish's one transaction: setting the derived tables aside
    0.45 -> 0.07 s, the checkpoint 0.47-0.53 -> 0.08-0.10 s)."""
    made = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, NEW_FILE_MODE)
    with open(source, "rb") as reading, os.fdopen(made, "wb") as writing:
        try:  # in the kernel, from where each file stands
            while os.sendfile(writing.fileno(), reading.fileno(), None,
                              1 << 30):
                pass
        except OSError:  # no sendfile between files here: the rest read
            shutil.copyfileobj(reading, writing, 1 << 24)
        flushed = os.dup(writing.fileno())
    flushing = threading.Thread(target=_flush, args=(flushed,),
                                name="changeboard-publish-flush", daemon=True)
    flushing.start()
    return flushing


def _flush(fd: int) -> None:
    """fsync the file open as `fd`, then close it (a thread: the GIL is
    released while the disk works)."""
    try:
        os.fsync(fd)
    except OSError:  # the checkpoint's own fsync still writes it
        pass
    finally:
        os.close(fd)


def replace(fresh: str | Path, path: str | Path, *,
            written: tuple | None = None) -> None:
    """Swap `fresh` in as `path`, with path's mode and owner when it exists
    (owner-only when it does not). The caller holds the writer lock.

    The file replaced is kept as a dated read-only snapshot when the two
    hold different data, and the snapshot folder pruned (snapshots.py);
    when they hold the same (a failed load, a sync that found nothing
    new), fresh takes the replaced file's mtime, so its version name: a
    pack that names that version is rebuilt from fresh, the same bytes.
    `written`: fresh's fingerprint, when the caller took it before closing
    the file."""
    kept = None
    try:
        old = os.stat(path)
    except FileNotFoundError:
        os.chmod(fresh, NEW_FILE_MODE)
    else:
        if snapshots.enabled():
            if snapshots.fingerprint(path) != (
                    written or snapshots.fingerprint(fresh)):
                kept = snapshots.link_old(Path(path))
            else:
                os.utime(fresh, ns=(old.st_atime_ns, old.st_mtime_ns))
        if hasattr(os, "chown"):
            try:
                os.chown(fresh, old.st_uid, old.st_gid)
            except PermissionError:  # not ours to give away: keep the mode
                pass
        os.chmod(fresh, old.st_mode & 0o7777)
    try:
        os.replace(fresh, path)
    except BaseException:
        if kept is not None:
            kept.unlink(missing_ok=True)
        raise
    if kept is not None:
        snapshots.seal(kept)
    if snapshots.enabled() or snapshots.folder(path).is_dir():
        snapshots.prune(path)


def remove_stale(path: str | Path) -> None:
    """Remove the working files killed writers left next to `path`; call
    with the writer lock held."""
    path = Path(path)
    pattern = re.compile(_STALE.format(name=re.escape(path.name)))
    for stale in path.parent.iterdir():
        if pattern.match(stale.name):
            stale.unlink(missing_ok=True)


def _remove(db_file: Path) -> None:
    for p in (db_file, db_file.with_name(db_file.name + ".wal")):
        p.unlink(missing_ok=True)
