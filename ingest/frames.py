"""An adapter's frame from a `Raw` (ingest/reading.py): the declared headers
picked and renamed to canonical columns, the bookkeeping columns added and
the adapter's own rejects marked.

Columns are worked on as pyarrow string arrays (ingest/codes.py and
times.py); `finish` turns them into the frame the loader checks
(docs/adapters.md, "The frame read returns"). Everything stays text.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from changeboard.words import many

from .errors import FileError
from .reading import Raw, objects, parallel, release_memory
from .schema import BOOKKEEPING


class Records:
    """Row numbers -> their raw records (a Raw's `records`). pandas deep-copies
    a frame's attrs on every copy (the loader's shallow copy included): this
    is shared instead, or each copy would copy every cell of the file."""

    def __init__(self, build: Callable[[Sequence[int]], list[str | None]]):
        self.build = build

    def __call__(self, numbers: Sequence[int]) -> list[str | None]:
        return self.build(numbers)

    def __deepcopy__(self, memo) -> Records:
        return self


@dataclass
class Batch:
    """What the loader needs to know of a frame beside its rows: it travels
    with the frame as `frame.attrs["batch"]` (docs/adapters.md)."""
    source: str | None                 # ingest_batches.source, rows' `source`
    table: str | None                  # the canonical table
    warnings: list[str] = field(default_factory=list)
    mode: str = "upsert"               # or snapshot: unlisted stored rows go
    timezone: str = "UTC"              # of instants without an offset
    rows_read: int | None = None       # input data rows
    rows_merged: int = 0               # input rows merged into another
    rows_superseded: int = 0           # of them, older versions left out
    # row numbers -> their raw records (JSON text), for a frame whose
    # raw_record column is left NULL (a large file: finish(lazy_records=)):
    # the loader asks only for the rows it rejects
    records: Records | None = field(default=None, compare=False, repr=False)
    # canonical column -> JSON pointers into raw_record of the cells it was
    # read from, tried in order (`pointers`): a reject shows the cell as the
    # file wrote it, not the adapter's text (`12.03.2024 09:00`, not
    # `2024-03-12T08:00:00Z`)
    written: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # the SHA-256 of what the file was read with (ingest.settings_sha256:
    # its mapping or overrides file and options; None: the defaults): the
    # same file read another way is another load
    settings: str | None = None
    # the file's header as read, and the source it was loaded as
    # (ingest.load_path: `servicenow-incidents`, `mapping`, ...): what the
    # loader's hints name when a date column cannot be read (hints.py)
    header: tuple[str, ...] = ()
    reader: str | None = None
    # sources whose stored rows of the table this batch may not join (a
    # mapping's [source] excludes): loaded beside them, the same data
    # would count twice; the load is refused, nothing written
    excludes: tuple[str, ...] = ()
    # the formats the adapter read instants in beside ISO-8601 (its
    # date_format or a mapping's date_formats): a reject's detail names them
    date_formats: tuple[str, ...] = ()


def batch(frame: pd.DataFrame) -> Batch:
    """The frame's Batch; FileError if it has none (not an adapter's)."""
    found = frame.attrs.get("batch")
    if not isinstance(found, Batch):
        raise FileError("the frame has no batch metadata (frames.Batch in "
                        "frame.attrs['batch'])")
    return found


def repeated_headers(raw: Raw, names) -> None:
    """Fail the file if one of these headers occurs more than once."""
    for name in sorted(set(names)):
        found = raw.positions(name)
        if len(found) > 1:
            raise FileError(f"{raw.name}: column {raw.header[found[0]]!r} is "
                            f"repeated {len(found)} times")


def select(raw: Raw, columns: dict[str, tuple[str, ...]]) -> tuple[
        dict[str, pa.Array], set[int]]:
    """Canonical columns from declared headers (tried in order, coalesced row
    by row), as arrays of trimmed text with null for empty; plus the
    positions used."""
    wanted: dict[str, list[int]] = {}
    used: set[int] = set()
    for canonical, headers in columns.items():
        for header in headers:
            found = raw.positions(header)
            if found:
                used.update(found)
                wanted.setdefault(canonical, []).append(found[0])
    positions = sorted({p for ps in wanted.values() for p in ps})
    trimmed = dict(zip(positions, parallel(raw.trimmed, positions),
                       strict=True))
    data = {}
    for canonical, found in wanted.items():
        values = trimmed[found[0]]
        for position in found[1:]:
            values = pc.coalesce(values, trimmed[position])
        data[canonical] = values
    return data, used


def headers_read(written: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Canonical column -> the file's headers it was read from, in words
    ('opened_at', or 'opened_at or sys_created_on' for a column coalesced
    from two), from Batch.written's pointers; only where they differ from
    the column's own name."""
    out = {}
    for column, found in written.items():
        names = list(dict.fromkeys(
            p.lstrip("/").removesuffix("/0").replace("~1", "/")
            .replace("~0", "~") for p in found))
        if names and names != [column]:
            out[column] = " or ".join(names)
    return out


def pointers(raw: Raw, columns: dict[str, tuple[str, ...]]
             ) -> dict[str, tuple[str, ...]]:
    """Batch.written for columns read from these headers (as `select`
    reads them: the first position of each header found, coalesced in
    order): JSON pointers into a raw record (`/Opened at`; `/h/0` for a
    header the file repeats, whose record holds a list)."""
    out = {}
    for canonical, headers in columns.items():
        found = []
        for header in headers:
            positions = raw.positions(header)
            if positions:
                name = raw.header[positions[0]]
                found.append("/" + name.replace("~", "~0").replace("/", "~1")
                             + ("/0" if raw.header.count(name) > 1 else ""))
        if found:
            out[canonical] = tuple(found)
    return out


def other_delimiter(raw, read_with: str = ",") -> str | None:
    """The delimiter a header read as one column holds, other than the one
    it was read with (a ';' file read as comma-separated); None when the
    header has several columns or holds none."""
    if len(raw.header) != 1:
        return None
    return next((other for other in (";", ",", "\t", "|")
                 if other != read_with and other in raw.header[0]), None)


def delimiter_hint(raw) -> str:
    """`; ...` when an export's header read as one column holding another
    delimiter (a ';'-separated Jira or ServiceNow export): the delimiter is
    the likelier fault than a missing column (a data administrator's
    walkthrough was told only 'missing required column'); '' otherwise."""
    other = other_delimiter(raw)
    if other is None:
        return ""
    return (f"; the header read as one column: the file looks "
            f"{other!r}-delimited, and this export is read as "
            "comma-separated CSV (export it again as CSV, or describe it "
            "with a mapping file, whose [source] delimiter says its own)")


def ignored_warning(raw: Raw, used: set[int]) -> list[str]:
    """One warning listing the headers nothing reads."""
    ignored = [h for i, h in enumerate(raw.header) if i not in used]
    if not ignored:
        return []
    unique = list(dict.fromkeys(ignored))
    return [f"{raw.name}: ignored {many(len(unique), 'column')}: "
            f"{', '.join(unique)}"]


def text(values: pd.Series) -> pa.Array:
    """An object Series of text (None for NULL) as a string array."""
    return pa.array(np.asarray(values, dtype=object), type=pa.string(),
                    from_pandas=True)


def series(values: pa.Array, index=None) -> pd.Series:
    """A string array as an object Series, None for NULL."""
    return pd.Series(objects(values), dtype=object, index=index)


def finish(data: dict, raw: Raw, *, source: str, table: str,
           warnings: list[str], mode: str = "upsert", timezone: str = "UTC",
           arrow: bool = False, lazy_records: bool = False,
           written: dict[str, tuple[str, ...]] | None = None,
           date_formats=()) -> pd.DataFrame:
    """The adapter's frame: the canonical columns (string arrays, or object
    Series) in their order, then the bookkeeping columns (row_number,
    raw_record, _reject...; a row of another field count is rejected as
    bad_row_shape) and its Batch. `arrow` keeps the text
    columns arrow-backed (pd.ArrowDtype, NULL is pd.NA) like the canonical
    adapter's large files; otherwise object text with None.
    `lazy_records`: when the raw records are not built yet (pyarrow read
    the file), raw_record stays NULL and Batch.records builds those of the
    rows the loader rejects (on a million rows every record costs about
    1.2 GB and 4 s; a clean file needs none). `written`: Batch.written
    (`pointers`); `date_formats`: Batch.date_formats."""
    rows = len(raw)
    bad = pa.array(list(raw.bad_shape), type=pa.string()) if any(
        b is not None for b in raw.bad_shape) else None
    nulls = pa.nulls(rows, type=pa.string())
    columns = dict(data)
    lazy = lazy_records and raw.raw_record is None
    columns["raw_record"] = nulls if lazy else raw.record_array()
    columns.setdefault("_reject", nulls)
    columns.setdefault("_reject_column", nulls)
    columns.setdefault("_reject_value", nulls)
    if bad is not None:
        shape = bad.is_valid()
        columns["_reject"] = pc.if_else(shape, "bad_row_shape",
                                        columns["_reject"])
        columns["_reject_column"] = pc.if_else(shape, None,
                                               columns["_reject_column"])
        columns["_reject_value"] = pc.if_else(shape, bad,
                                              columns["_reject_value"])
    numbers = pd.Series(np.asarray(raw.row_number, dtype=np.int64),
                        dtype="int64")
    if arrow:
        frame = pa.table(columns).to_pandas(types_mapper=pd.ArrowDtype)
    else:
        frame = pd.DataFrame({k: pd.Series(_objects(v), dtype=object)
                              for k, v in columns.items()},
                             index=pd.RangeIndex(rows))
    order = [c for c in data if c not in BOOKKEEPING]
    frame.insert(len(order), "row_number", numbers)
    frame = frame[[*order, *(c for c in BOOKKEEPING if c in frame)]]
    if lazy:  # the cells are kept for the records of rejected rows
        spill(raw, columns.values(), shared=arrow)
    frame.attrs["batch"] = Batch(source, table,
                                 list(raw.warnings) + list(warnings), mode,
                                 timezone, rows_read=rows,
                                 records=Records(raw.records) if lazy
                                 else None, written=dict(written or {}),
                                 header=tuple(raw.header),
                                 date_formats=tuple(date_formats))
    release_memory()
    return frame


def spill(raw: Raw, columns, *, shared: bool = True) -> None:
    """raw.spill, once the adapter reads its cells no more, leaving in
    memory the cells these columns hold (`shared`: arrow columns, which a
    frame holds zero-copy)."""
    raw.spill(_text_addresses(columns) if shared else ())


def _text_addresses(columns) -> set[int]:
    """The addresses of the text buffers of these arrow columns (an arrow
    frame made of them holds them, zero-copy)."""
    found = set()
    for column in columns:
        if isinstance(column, pa.Array | pa.ChunkedArray):
            chunks = column.chunks if isinstance(column, pa.ChunkedArray) \
                else [column]
            found.update(b[2].address for b in (c.buffers() for c in chunks)
                         if len(b) > 2 and b[2] is not None)
    return found


def _objects(values) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=object)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else \
            values.chunk(0)
    return objects(values)


def reject(frame: pd.DataFrame, mask, reason: str, column: str | None,
           values, detail: str | None = None) -> None:
    """Mark rows (not already rejected) with an adapter reject; `values`:
    each row's value as the file wrote it (its cell, not the adapter's text
    of it: docs/adapters.md), or the id as stored; `detail`: what the
    reject line says after the value."""
    mask = pd.Series(mask, index=frame.index).fillna(False).astype(bool)
    mask &= frame["_reject"].isna()
    if not mask.any():
        return
    values = pd.Series(values, index=frame.index, dtype=object)
    frame.loc[mask, "_reject"] = reason
    frame.loc[mask, "_reject_column"] = column
    frame.loc[mask, "_reject_value"] = values[mask]
    if detail is not None:
        if "_reject_detail" not in frame:
            frame["_reject_detail"] = pd.Series(None, index=frame.index,
                                                dtype=object)
        frame.loc[mask, "_reject_detail"] = detail
