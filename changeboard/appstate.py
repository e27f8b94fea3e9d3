"""What people record in Changeboard, kept apart from the data it ingests.

The published DuckDB file is rebuilt and swapped on every load and sync, and
is opened read-only by every app process. What users record — CAB decisions,
attendees, the record of a pack sent — must survive those swaps and be
writable from several app processes at once, so it lives in a SQLite file
beside the database: `<database>.app.sqlite` (CHANGEBOARD_APP_DB overrides).
SQLite in WAL mode lets any number of processes read while one writes; a
writer waits up to BUSY_TIMEOUT_S for another.

Each module that owns tables passes its `create table if not exists` DDL to
`connect`; the file and tables are created on first use, owner-only. Rows are
appended, never updated in place, so history is kept (a module reads the
latest row per key).
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from changeboard import config

BUSY_TIMEOUT_S = 10.0
NEW_FILE_MODE = 0o600


def path_for(db_path: str | Path | None = None) -> Path:
    """The application-state file that belongs with `db_path`."""
    if config.APP_DB:
        return Path(config.APP_DB)
    db_path = Path(db_path if db_path is not None else config.DB_PATH)
    return db_path.with_name(db_path.name + ".app.sqlite")


@contextmanager
def connect(db_path: str | Path | None = None, schema: str = "", *,
            write: bool = True):
    """A connection to the application state, committed on success and rolled
    back on error; `schema` is DDL run first (idempotent statements only).
    write=False for reads: they take no write lock, so a page reading the
    decisions never waits for, or holds up, another process recording one."""
    path = path_for(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, NEW_FILE_MODE))
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S,
                          isolation_level=None)  # explicit transactions
    try:
        con.execute("pragma journal_mode=wal")
        con.execute("pragma foreign_keys=on")
        if schema:
            con.executescript(schema)
        con.execute("begin immediate" if write else "begin")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    finally:
        con.close()
