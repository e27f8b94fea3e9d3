"""Load source files into the published database: SOURCES names the adapters,
`load` (ingest/loader.py) is the one writer."""
from __future__ import annotations

import hashlib
import importlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

from changeboard import config, db

from .errors import FileError, LoadError
from .loader import Loaded, fail, load, load_into
from .schema import TABLES, table_for

__all__ = ["SOURCES", "TABLES", "FileError", "LoadError", "Loaded", "adapter",
           "build_sample", "fail", "load", "load_files", "load_path",
           "sha256", "table_for"]

# source name -> adapter module, imported when first used
SOURCES = {
    "csv": "ingest.canonical",
    "servicenow": "ingest.servicenow",
    "jira": "ingest.jira",
    "mapping": "ingest.mapping",
}
SAMPLE_LABEL = "sample_data"


def adapter(source: str) -> ModuleType:
    """The adapter module of a source; FileError if unknown or not installed."""
    if source not in SOURCES:
        raise FileError(f"unknown source {source!r} "
                        f"(sources: {', '.join(SOURCES)})")
    try:
        return importlib.import_module(SOURCES[source])
    except ModuleNotFoundError as exc:
        raise FileError(f"source {source!r} is not available: {exc}") from exc


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_path(source: str, path: str | Path, db_path=None, *,
              table: str | None = None, options: dict | None = None,
              file_name: str | None = None, dry_run: bool = False,
              strict: bool = False) -> Loaded:
    """Read one file with its source's adapter and load it as one batch.

    A file the adapter cannot read is recorded as a failed batch (unless
    dry_run); the result says what happened, nothing is raised for bad data.
    """
    path = Path(path)
    file_name = file_name or str(path)
    db_path = Path(db_path or config.DB_PATH)
    module = None
    # hash the file while the adapter reads it (hashlib and file reads
    # release the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashing = pool.submit(sha256, path) if path.exists() else None
        try:
            module = adapter(source)
            frame = module.read(path, table=table, options=options)
        except FileError as exc:
            error = exc
        else:
            error = None
        digest = hashing.result() if hashing is not None else None
    if error is not None:
        guess = table or getattr(module, "TABLE", None) or _guess(path)
        return fail(db_path, source=source, table=guess,
                    file_name=file_name, sha256=digest, error=str(error),
                    dry_run=dry_run)
    frame.attrs.setdefault("source", getattr(module, "SOURCE", source))
    frame.attrs.setdefault("table", table or getattr(module, "TABLE", None))
    return load(frame, db_path, file_name=file_name, sha256=digest,
                dry_run=dry_run, strict=strict)


def _guess(path: Path) -> str:
    try:
        return table_for(path)
    except FileError:
        return "unknown"


def load_files(paths, db_path=None, *, source: str = "csv",
               label: str | None = None) -> list[Loaded]:
    """Load canonical CSV files, one batch per file, published together.

    Any file-level error or rejected row fails the whole call (LoadError) and
    leaves the published database as it was. `label` replaces the directory
    in the recorded file name.
    """
    module = adapter(source)
    db_path = Path(db_path or config.DB_PATH)
    files = sorted((Path(p) for p in paths),
                   key=lambda p: TABLES.index(table_for(p)))
    results = []
    with db.publish(db_path) as con:
        for path in files:
            frame = module.read(path)
            name = f"{label}/{path.name}" if label else str(path)
            result = load_into(con, frame, file_name=name,
                               sha256=sha256(path), strict=True)
            if result.status == "failed":
                raise LoadError(result.error)
            results.append(result)
    return results


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
