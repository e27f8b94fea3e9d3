"""Load canonical CSV files into the published database: one loader writes."""
from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from changeboard import config, db

# load order: referenced tables first (references may still dangle)
TABLES = (
    "applications", "environments", "blackout_windows", "releases",
    "release_phases", "changes", "deployments", "environment_bookings",
    "incidents",
)
LINEAGE = ("source", "ingested_batch_id")
_TRUE = ("true", "1", "yes", "y")
_FALSE = ("false", "0", "no", "n")


class LoadError(Exception):
    """A file that cannot be loaded at all; nothing was written."""


@dataclass
class Loaded:
    table: str
    file_name: str
    batch_id: int
    rows_read: int
    rows_loaded: int


def table_for(path: str | Path) -> str:
    """The canonical table a file is for: the longest table name its stem
    starts with, followed by the stem's end, `-` or `.`."""
    stem = Path(path).stem
    for table in sorted(TABLES, key=len, reverse=True):
        if stem == table or stem.startswith((table + "-", table + ".")):
            return table
    raise LoadError(f"{Path(path).name}: no canonical table is named like "
                    f"this file (tables: {', '.join(TABLES)})")


def columns(con, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of a canonical table, lineage left out."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = $t order by ordinal_position", {"t": table},
    ).fetchall()
    return {name: kind for name, kind in rows if name not in LINEAGE}


def _cast(column: str, kind: str) -> str:
    text = f"nullif(trim(\"{column}\"), '')"
    if kind == "BOOLEAN":
        return (f"case when lower({text}) in {_TRUE} then true "
                f"when lower({text}) in {_FALSE} then false "
                f"when {text} is null then null else error("
                f"'column {column}: not a boolean: ' || \"{column}\") end")
    if kind.startswith("TIMESTAMP"):
        return f"cast({text} as timestamptz)"
    return f"cast({text} as {kind})"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_files(paths, db_path=None, *, source: str = "csv",
               label: str | None = None) -> list[Loaded]:
    """Load canonical CSV files in one batch per file, published together.

    Any error fails the whole call and leaves the published database as it
    was. `label` replaces the directory in the recorded file name.
    """
    db_path = Path(db_path or config.DB_PATH)
    files = sorted((Path(p) for p in paths),
                   key=lambda p: TABLES.index(table_for(p)))
    results = []
    with db.publish(db_path) as con:
        for path in files:
            results.append(_load_one(con, path, source, label))
    return results


def _load_one(con, path: Path, source: str, label: str | None) -> Loaded:
    table = table_for(path)
    target = columns(con, table)
    started = datetime.now(UTC)
    batch_id = con.execute(
        "select coalesce(max(batch_id), 0) + 1 from ingest_batches"
    ).fetchone()[0]
    file_name = f"{label}/{path.name}" if label else str(path)
    try:
        con.execute(
            "create or replace temp table incoming as select * from read_csv("
            "$path, header = true, all_varchar = true, delim = ',', "
            "quote = '\"', escape = '\"')", {"path": str(path)})
    except Exception as exc:
        raise LoadError(f"{path.name}: cannot read as CSV: {exc}") from exc
    found = [c for c in columns(con, "incoming")]
    unknown = [c for c in found if c not in target and c not in LINEAGE
               and not c.startswith("x_")]
    if unknown:
        hints = [
            f"{c!r} (did you mean {m[0]!r}?)" if (
                m := difflib.get_close_matches(c, target, n=1)) else repr(c)
            for c in unknown]
        raise LoadError(f"{path.name}: unknown column {', '.join(hints)}")
    present = [c for c in target if c in found]
    select = ", ".join(f"{_cast(c, target[c])} as \"{c}\"" for c in present)
    rows_read = con.execute("select count(*) from incoming").fetchone()[0]
    try:
        # column names and casts come from the schema, values stay in the file
        con.execute(
            f"insert or replace into {table} by name "  # noqa: S608
            f"select {select}, $source as source, $batch as ingested_batch_id "
            "from incoming", {"source": source, "batch": batch_id})
    except Exception as exc:
        raise LoadError(f"{path.name}: {str(exc).splitlines()[0]}") from exc
    con.execute(
        "insert into ingest_batches (batch_id, source, entity, file_name, "
        "file_sha256, started_at, finished_at, rows_read, rows_loaded, "
        "rows_rejected, status) values ($id, $source, $entity, $file, $sha, "
        "$started, current_timestamp, $read, $read, 0, 'succeeded')",
        {"id": batch_id, "source": source, "entity": table,
         "file": file_name, "sha": sha256(path), "started": started,
         "read": rows_read})
    con.execute("drop table incoming")
    return Loaded(table, file_name, batch_id, rows_read, rows_read)


def build_sample(db_path=None, *, seed: int | None = None,
                 scale: float = 1.0) -> list[Loaded]:
    """Generate the sample data and publish it as a fresh database file."""
    import tempfile

    import sample_data

    db_path = Path(db_path or config.DB_PATH)
    with tempfile.TemporaryDirectory() as tmp:
        sample_data.generate(tmp, seed=config.SAMPLE_SEED if seed is None
                             else seed, scale=scale)
        fresh = db_path.with_name(f".{db_path.name}.sample")
        for stale in (fresh, fresh.with_name(fresh.name + ".wal")):
            stale.unlink(missing_ok=True)
        loaded = load_files(sorted(Path(tmp).glob("*.csv")), fresh,
                            label=SAMPLE_LABEL)
        fresh.replace(db_path)
        fresh.with_name(fresh.name + ".lock").unlink(missing_ok=True)
    return loaded


SAMPLE_LABEL = "sample_data"
