"""Load source files into the published database: ingest/sources.py declares
the sources, `load` (ingest/loader.py) is the one writer."""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

from changeboard import config, db

from . import frames, mapping, overrides, reading, sources
from .errors import FileError, LoadError
from .loader import (
    SAMPLE_LOADER,
    SAMPLE_PREFIX,
    Loaded,
    fail,
    load,
    load_into,
    remove_sample,
    sample_rows,
    scratch_copy,
)
from .schema import TABLES, table_for

__all__ = ["SAMPLE_LOADER", "SAMPLE_PREFIX", "SOURCES", "TABLES", "FileError", "LoadError",
           "Loaded", "adapter",
           "adapter_options", "fail", "load", "load_files", "load_path",
           "publish_files", "remove_sample", "remove_sample_from", "scratch_copy",
           "sample_rows", "settings_sha256", "sha256", "table_for"]

# the sources a file can be loaded from, by name (ingest/sources.py)
SOURCES = sources.FILES


def adapter(source: str) -> ModuleType:
    """The adapter module of a source; FileError if unknown, API-only or not
    installed."""
    return sources.get(source).adapter()


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def settings_sha256(options: dict | None) -> str | None:
    """The SHA-256 of what a file is read with: its adapter's options (an
    overrides file already resolved into them: adapter_options), a mapping
    file by its text; None for none (the source's defaults). The same file
    read with other settings (a corrected time zone or date format) is
    another load (loader._same_file)."""
    if not options:
        return None
    settings = dict(options)
    spec = settings.get("mapping")
    if spec is not None and not isinstance(spec, dict):
        try:
            settings["mapping"] = mapping.locate(spec).read_text(
                encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass  # the adapter has said so already
    return hashlib.sha256(json.dumps(
        settings, sort_keys=True, default=str).encode()).hexdigest()


def load_path(source: str, path: str | Path, db_path=None, *,
              table: str | None = None, options: dict | None = None,
              file_name: str | None = None, dry_run: bool = False,
              strict: bool = False, progress=None,
              replace_sample: bool = False,
              source_prefix: str | None = None,
              loaded_by: str | None = None) -> Loaded:
    """Read one file with its source's adapter and load it as one batch.

    For servicenow and jira, options["mapping"] names an overrides file
    (ingest/overrides.py), checked before any row is read; other options
    given beside it win over the file's. A file the adapter cannot read (or
    an invalid overrides file) is recorded as a failed batch (unless
    dry_run); the result says what happened, nothing is raised for bad data.
    `progress(stage)` is told each stage as it starts: reading, then the
    loader's (ingest.loader.load). `replace_sample`: remove the generated
    sample's rows in the same publish (the CLI and the Data page do so by
    default), so the database never holds a mix of sample and own data.
    `source_prefix` goes before a source name the mapping or overrides file
    chose (`upload:` from the Data page), so an uploaded file cannot write,
    replace or delete another source's rows. `loaded_by`: who ran the load,
    recorded with the batch (default cli:<os user>).
    """
    if progress is not None:
        progress("reading")
    reading.use_load_pool()
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
            options, name = adapter_options(source, options)
            frame = module.read(path, table=table, options=options)
            batch = frames.batch(frame)
            if name:
                batch.source = name
            batch.settings = settings_sha256(options)
            batch.reader = source
            _note_merged(batch, path, len(frame))
        except FileError as exc:
            error = exc
        else:
            error = None
        digest = hashing.result() if hashing is not None else None
    if error is not None:
        guess = (table or getattr(module, "TABLE", None)
                 or _mapping_table(source, options) or _guess(path))
        return fail(db_path, source=source, table=guess,
                    file_name=file_name, sha256=digest, error=str(error),
                    dry_run=dry_run, loaded_by=loaded_by)
    batch.source = batch.source or getattr(module, "SOURCE", source)
    batch.table = batch.table or table or getattr(module, "TABLE", None)
    if source_prefix and (name or getattr(module, "SOURCE", None) is None):
        batch.source = source_prefix + batch.source
    # the frame is this call's own: the loader frees it once checked
    return load(frame, db_path, file_name=file_name, sha256=digest,
                dry_run=dry_run, strict=strict, progress=progress,
                replace_sample=replace_sample, loaded_by=loaded_by,
                release=True)


def remove_sample_from(db_path=None) -> int:
    """Delete the generated sample's rows from a database (its load history
    stays); returns how many rows were deleted (0: nothing published)."""
    db_path = Path(db_path or config.DB_PATH)
    if not db_path.exists():
        return 0
    with db.connect(db_path, read_only=True) as con:
        if not sample_rows(con):
            return 0
    with db.publish(db_path) as con:
        return remove_sample(con)


def _note_merged(batch: frames.Batch, path: Path, rows: int) -> None:
    """Input rows a mapping merged into an earlier row of their id are
    neither loaded nor rejected: say how many, so the batch's warnings
    account for every input row (docs/adapters.md, "Counting rows")."""
    merged, superseded = batch.rows_merged, batch.rows_superseded
    folded = ((superseded, "superseded by a later version of the same id",
               "latest") if superseded else
              (merged, "merged into an earlier row of the same id", "merge"))
    if folded[0]:
        n, how, mode = folded
        batch.warnings = [*batch.warnings, (
            f"{path.name}: {batch.rows_read:,} input rows: "
            f"{n:,} {how} (duplicate_ids = \"{mode}\"), {rows:,} "
            "loaded or rejected")]


def _mapping_table(source: str, options: dict | None) -> str | None:
    """The table the mapping file of a failed load targets (a mapping that
    is itself invalid still names one in its [source] table), for its
    failed batch; None for a source read without a mapping file."""
    entry = sources.SOURCES.get(source)
    if entry is None or not entry.mapping or not options:
        return None
    return mapping.target(options.get("mapping"))


def _guess(path: Path) -> str:
    try:
        return table_for(path)
    except FileError:
        return "unknown"


def adapter_options(source: str, options: dict | None
                    ) -> tuple[dict | None, str | None]:
    """The options for source's adapter (or API sync) and the source name to
    record (None: the adapter's). A source that takes an overrides file
    (ingest/sources.py: `overrides`) reads options["mapping"] as one, keeping
    the options its entry names (`site_options`: servicenow-incidents takes
    the instance settings of the servicenow file, so one site file serves
    both); other sources get options unchanged."""
    entry = sources.SOURCES.get(source)
    if (entry is None or entry.overrides is None or not options
            or not options.get("mapping")):
        return options, None
    given = {k: v for k, v in options.items() if k != "mapping"}
    resolved = overrides.options(entry.overrides, options["mapping"])
    if entry.site_options is not None:
        resolved = {k: v for k, v in resolved.items()
                    if k in entry.site_options}
    resolved = {**resolved, **given}
    return resolved, resolved.pop("name", None)


def load_files(paths, db_path=None, *, source: str = "csv",
               label: str | None = None,
               options: dict | None = None) -> list[Loaded]:
    """Load files of one source, one batch per file, published together.

    Any file-level error or rejected row fails the whole call (LoadError) and
    leaves the published database as it was. `label` replaces the directory
    in the recorded file name.
    """
    return publish_files([(source, path, options) for path in paths],
                         db_path, label=label)


def publish_files(files, db_path=None, *, label: str | None = None,
                  loaded_by: str | None = None) -> list[Loaded]:
    """Load (source, path, options) files in table order (the given order
    within a table), one strict batch each, and publish them together or not
    at all (LoadError); `loaded_by` as for load_path."""
    db_path = Path(db_path or config.DB_PATH)
    reading.use_load_pool()
    batches = []
    for source, path, options in files:
        path, module = Path(path), adapter(source)
        options, name = adapter_options(source, options)
        table = getattr(module, "TABLE", None) or table_for(path)
        batches.append((TABLES.index(table), module, path, options, name))
    batches.sort(key=lambda batch: batch[0])
    results = []
    with db.publish(db_path) as con:
        for _, module, path, options, name in batches:
            frame = module.read(path, options=options)
            if name:
                frames.batch(frame).source = name
            frames.batch(frame).settings = settings_sha256(options)
            _note_merged(frames.batch(frame), path, len(frame))
            shown = f"{label}/{path.name}" if label else str(path)
            result = load_into(con, frame, file_name=shown,
                               sha256=sha256(path), strict=True,
                               loaded_by=loaded_by)
            if result.status == "failed":
                raise LoadError(result.error)
            results.append(result)
    return results
