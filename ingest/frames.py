"""Shared helpers of the source adapters: read, select, rename, recode, parse.

An adapter reads a file into a `Raw` (header as a list, cells as text, row
numbers, raw records, wrong-shape rows marked), picks and renames the columns
it declares, recodes values with declared maps and parses instants with the
configured strptime formats and IANA time zone. Everything stays text: the
loader (`ingest.load`) validates and writes (docs/adapters.md).
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import gzip
import io
import json
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import WARNED_ROWS, FileError
from .schema import BOOKKEEPING, LINEAGE

ENCODINGS = ("utf-8", "windows-1252")
TRUE_VALUES = ("true", "1", "yes", "y")
FALSE_VALUES = ("false", "0", "no", "n")
SCHEMA = Path(__file__).resolve().parents[1] / "changeboard" / "schema.sql"


@dataclass
class Raw:
    """A delimited file read as text: one column of cells per header position.

    `cells` are pyarrow string arrays (untrimmed, "" for empty), padded to
    the header's width; `bad_shape` says why a row has another field count.
    """

    name: str
    header: list[str]
    cells: list
    row_number: list[int]
    raw_record: list[str]
    bad_shape: list[str | None]
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row_number)

    def positions(self, name: str) -> list[int]:
        """Positions of a header, compared trimmed and case-insensitively."""
        key = name.strip().casefold()
        return [i for i, h in enumerate(self.header) if h.casefold() == key]

    def column(self, name: str) -> pd.Series | None:
        """The trimmed cells of a header (None if absent); empty -> None."""
        found = self.positions(name)
        return self.at(found[0]) if found else None

    def at(self, position: int) -> pd.Series:
        """Trimmed cells at a position as object text, empty -> None."""
        return pd.Series(_objects(self.trimmed(position)), dtype=object)

    def trimmed(self, position: int) -> pa.Array:
        """Trimmed cells at a position as an arrow string array, empty ->
        null."""
        return _trim_or_null(self.cells[position])


def _trim_or_null(cells: pa.Array) -> pa.Array:
    """utf8_trim_whitespace, then "" -> null. Cells that all begin and end
    with a printable ASCII character are not copied (nothing to trim)."""
    if cells.null_count or len(cells) == 0:
        trimmed = pc.utf8_trim_whitespace(cells)
        return pc.if_else(pc.equal(trimmed, ""), None, trimmed)
    offsets = np.frombuffer(cells.buffers()[1], dtype=np.int32,
                            count=len(cells) + 1, offset=cells.offset * 4)
    data = cells.buffers()[2]
    raw = (np.frombuffer(data, dtype=np.uint8) if data is not None
           else np.empty(0, dtype=np.uint8))
    lengths = np.diff(offsets)
    full = lengths > 0
    starts, ends = offsets[:-1][full], offsets[1:][full] - 1
    edges = np.concatenate([raw[starts], raw[ends]])
    if len(edges) and (edges.min() <= 0x20 or edges.max() >= 0x7f):
        trimmed = pc.utf8_trim_whitespace(cells)
        return pc.if_else(pc.equal(trimmed, ""), None, trimmed)
    if full.all():
        return cells
    bits = np.concatenate([np.zeros(cells.offset, dtype=bool), full])
    validity = pa.py_buffer(np.packbits(bits, bitorder="little"))
    return pa.Array.from_buffers(pa.string(), len(cells),
                                 [validity, *cells.buffers()[1:]],
                                 offset=cells.offset)


def _objects(array) -> np.ndarray:
    """A string array as Python objects; a column of few distinct values
    (codes, names) shares one object per value, which is much faster."""
    if len(array) > 1000:
        encoded = pc.dictionary_encode(array)
        if len(encoded.dictionary) * 4 < len(array):
            values = np.append(encoded.dictionary.to_numpy(
                zero_copy_only=False).astype(object), None)
            indices = encoded.indices.fill_null(len(encoded.dictionary))
            return values[indices.to_numpy()]
    return array.to_numpy(zero_copy_only=False)


# --- reading ---------------------------------------------------------------

def decode(path: Path, encodings=ENCODINGS) -> tuple[str, str, list[str]]:
    """The file's text, the encoding that decoded it and warnings.

    UTF-8 accepts a byte-order mark; a later encoding in the list warns.
    """
    return _decode_bytes(Path(path).name, _read_bytes(path), encodings)


def _read_bytes(path) -> bytes:
    """The file's bytes; a `.gz` file is decompressed (gzip)."""
    try:
        data = Path(path).read_bytes()
        if is_gzip(path):
            data = gzip.decompress(data)
        return data
    except (OSError, EOFError, zlib.error) as exc:
        raise FileError(f"{Path(path).name}: cannot read: {exc}") from exc


def is_gzip(path) -> bool:
    """A `.gz` name (e.g. `incidents.csv.gz`): read decompressed."""
    return Path(path).suffix.lower() == ".gz"


def _decode_bytes(name: str, data: bytes,
                  encodings) -> tuple[str, str, list[str]]:
    failures = []
    for number, encoding in enumerate(encodings):
        codec = "utf-8-sig" if encoding.replace("_", "-").lower() in (
            "utf-8", "utf8") else encoding
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            failures.append(f"{encoding} (byte {exc.start}: "
                            f"{data[exc.start:exc.start + 1]!r})")
            continue
        except LookupError as exc:
            raise FileError(f"{name}: unknown encoding "
                            f"{encoding!r}") from exc
        warnings = []
        if number:
            warnings.append(f"{name}: not {', '.join(encodings[:number])}"
                            f"; read as {encoding}")
        return text, encoding, warnings
    raise FileError(f"{name}: undecodable in every listed encoding: "
                    + "; ".join(failures))


# encodings that read ASCII bytes as the same text
_ASCII_SAFE = {"utf-8", "utf8", "windows-1252", "cp1252", "latin-1",
               "latin1", "iso-8859-1", "ascii", "us-ascii"}


def _utf8(path, encodings) -> tuple[bytes, str | None, list[str]]:
    """The file as UTF-8 bytes, its text (None for ASCII bytes, which are
    not decoded: the same text in every ASCII-compatible encoding) and the
    decoding warnings of `decode`."""
    data = _read_bytes(path)
    if (encodings and encodings[0].replace("_", "-").lower() in _ASCII_SAFE
            and data.isascii()):
        return data, None, []
    text, _, warnings = _decode_bytes(Path(path).name, data, encodings)
    return text.encode("utf-8"), text, warnings


def read_delimited(path, *, encodings=ENCODINGS, delimiter: str = ",",
                   quote: str = '"', comment: str | None = None) -> Raw:
    """Read a delimited text file; the header is row 1 and is kept as a list.

    Blank and comment lines are skipped but counted, so row numbers are those
    a spreadsheet shows. A row with another field count than the header gets
    `bad_row_shape` (extra empty trailing fields are tolerated). Regular
    files take pyarrow's parser; anything unusual the csv module's.
    """
    raw = _read(path, encodings, delimiter, quote, comment)
    if not isinstance(raw.raw_record, list):
        raw.raw_record = raw.raw_record.to_pylist()
    if not isinstance(raw.row_number, list):
        raw.row_number = raw.row_number.tolist()
    return raw


def read_table(path, *, encodings=ENCODINGS, delimiter: str = ",",
               quote: str = '"') -> Raw:
    """`read_delimited` for adapters that work on arrow arrays (large
    files): the same Raw, except that `raw_record` is a pyarrow string array
    (chunked) and `row_number` a numpy int64 array."""
    raw = _read(path, encodings, delimiter, quote, None)
    return _as_table(raw)


def _as_table(raw: Raw) -> Raw:
    if isinstance(raw.raw_record, list):
        raw.raw_record = pa.chunked_array([pa.array(raw.raw_record,
                                                    type=pa.string())])
    raw.row_number = np.asarray(raw.row_number, dtype=np.int64)
    return raw


def _read(path, encodings, delimiter, quote, comment) -> Raw:
    path = Path(path)
    fast = _RETRY
    if not comment:
        fast = _read_arrow_file(path, encodings, delimiter, quote)
        if isinstance(fast, Raw):
            return fast
    data, text, warnings = _utf8(path, encodings)
    if not comment and fast is _RETRY:
        fast = _read_arrow(path.name, data, text, delimiter, quote, warnings)
        if fast is not None:
            return fast
    if text is None:
        text = data.decode("ascii")
    del data
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                            quotechar=quote or None, strict=False,
                            quoting=csv.QUOTE_MINIMAL if quote
                            else csv.QUOTE_NONE)
        records = list(reader)
    except csv.Error as exc:
        raise FileError(f"{path.name}: cannot read as delimited text: "
                        f"{exc}") from exc
    return from_records(path.name, records, warnings, comment=comment)


_RETRY = object()   # _read_arrow_file: read the bytes instead
_DIRECT_BYTES = 1 << 20


def _read_arrow_file(path: Path, encodings, delimiter: str, quote: str):
    """`_read_arrow` straight from the file for a large ASCII file (no copy
    of it in Python, no decoding: ASCII reads the same in every
    ASCII-compatible encoding). _RETRY when the file is small, not ASCII or
    its first record is not within its first 64 KiB; None when pyarrow
    refuses it (as `_read_arrow`)."""
    if not encodings or encodings[0].replace("_", "-").lower() not in \
            _ASCII_SAFE or is_gzip(path):
        return _RETRY
    try:
        if path.stat().st_size < _DIRECT_BYTES:
            return _RETRY
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return _RETRY
    if not head.isascii():
        return _RETRY
    try:
        first = _first_record(head, None, delimiter, quote, whole=False)
    except csv.Error:
        return _RETRY
    if first is None:
        return _RETRY
    warnings: list[str] = []
    raw = _read_arrow(path.name, path, None, delimiter, quote, warnings,
                      first=first)
    if raw is not None and not all(
            _value_bytes(c).max(initial=0) < 0x80 for c in raw.cells):
        return _RETRY
    return raw


def _first_record(data: bytes, text: str | None, delimiter: str,
                  quote: str, *, whole: bool = True) -> list[str] | None:
    """The csv module's first record of the file, read from its first 64 KiB
    when they hold it whole (a large file is not copied into a StringIO).
    Raises csv.Error as reading the whole file would. `whole=False`: `data`
    is only the file's head; None if the head does not hold the record."""
    head_size = 1 << 16
    total = len(text) if text is not None else len(data)
    for size in ((head_size, total) if whole else (total,)):
        head = (text[:size] if text is not None
                else data[:size].decode("ascii"))
        stream = io.StringIO(head, newline="")
        reader = csv.reader(stream, delimiter=delimiter,
                            quotechar=quote or None,
                            quoting=csv.QUOTE_MINIMAL if quote
                            else csv.QUOTE_NONE)
        try:
            first = next(reader, None)
        except csv.Error:
            if size >= total and whole:
                raise
            continue
        if (size >= total and whole) or stream.tell() < len(head):
            return first
    return None


def _read_arrow(name: str, data, text: str | None, delimiter: str,
                quote: str, warnings: list[str], *,
                first: list[str] | None = None) -> Raw | None:
    """pyarrow's reader for files whose every row has the header's field
    count and no blank line; None (use the csv module) otherwise. `data` is
    the file as UTF-8 bytes (or its path, with its `first` record); raw
    records come back as an arrow array."""
    if first is None:
        try:
            first = _first_record(data, text, delimiter, quote)
        except csv.Error:
            return None
    if not first or not any(c.strip() for c in first) or len(delimiter) != 1:
        return None
    width = len(first)
    odd = []

    def invalid(_row):
        odd.append(_row)
        return "skip"

    names = [f"f{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.memory_map(str(data)) if isinstance(data, Path)
            else pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char=quote or False,
                double_quote=True, newlines_in_values=True,
                ignore_empty_lines=False, invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    if odd or table.num_rows == 0:
        return None
    cells = [table.column(i).combine_chunks() for i in range(width)]
    del table
    header = [c[0].as_py().strip() for c in cells]
    cells = [c.slice(1) for c in cells]
    count = len(cells[0])
    blank = pc.equal(pc.utf8_trim_whitespace(cells[0]), "")
    for column in cells[1:]:
        if not pc.any(blank).as_py():
            break
        blank = pc.and_(blank, pc.equal(pc.utf8_trim_whitespace(column), ""))
    numbers = np.arange(2, count + 2, dtype=np.int64)
    if count and pc.any(blank).as_py():
        keep = pc.invert(blank)
        cells = [c.filter(keep) for c in cells]
        numbers = numbers[~blank.to_numpy(zero_copy_only=False)]
    if not len(numbers):
        warnings.append(f"{name}: header only, no data rows")
    return Raw(name, header, cells, numbers, _record_array(header, cells),
               [None] * len(numbers), warnings)


def from_records(name: str, records: list[list[str]], warnings: list[str],
                 *, comment: str | None = None, first_row: int = 1) -> Raw:
    """A `Raw` from rows of text cells, the first non-blank one the header."""
    start = 0
    while start < len(records) and not any(c.strip() for c in records[start]):
        start += 1
    if start == len(records):
        raise FileError(f"{name}: no header row (the file is empty)")
    header = [h.strip() for h in records[start]]
    width = len(header)
    rows, numbers, bad = [], [], []
    for index in range(start + 1, len(records)):
        row = records[index]
        if not row or not any(c.strip() for c in row):
            continue
        if comment and row[0].lstrip().startswith(comment):
            continue
        shape = None
        if len(row) != width:
            if len(row) > width and not any(c.strip() for c in row[width:]):
                row = row[:width]
            else:
                shape = f"{len(row)} fields, header has {width}"
        rows.append(row)
        numbers.append(first_row + index)
        bad.append(shape)
    padded = [r if len(r) == width else (r + [""] * width)[:width] for r in rows]
    columns = list(zip(*padded, strict=True)) if padded else [() for _ in header]
    cells = [pa.array(list(c), type=pa.string()) for c in columns]
    raw_record = _raw_records(header, cells)
    for i, (row, shape) in enumerate(zip(rows, bad, strict=True)):
        if shape:
            raw_record[i] = _raw_record(header, row)
    if not rows:
        warnings.append(f"{name}: header only, no data rows")
    return Raw(name, header, cells, numbers, raw_record, bad, warnings)


def _raw_records(header: list[str], cells: list) -> list[str]:
    """Each row as a JSON object header -> text, built column-wise; a
    repeated header's cells become a list."""
    return _record_array(header, cells).to_pylist()


def _record_array(header: list[str], cells: list) -> pa.ChunkedArray:
    """`_raw_records` as a chunked arrow string array: the JSON text between
    cells is joined into as few literals as possible and the rows are joined
    in parallel slices (pyarrow releases the GIL)."""
    if not cells or len(cells[0]) == 0:
        return pa.chunked_array([], type=pa.string())
    groups: dict[str, list[int]] = {}
    for position, key in enumerate(header):
        groups.setdefault(key, []).append(position)
    parts: list = []

    def text(piece: str) -> None:
        if parts and isinstance(parts[-1], str):
            parts[-1] += piece
        else:
            parts.append(piece)

    for number, (key, positions) in enumerate(groups.items()):
        text(("{" if not number else ", ") + _json(key) + ": "
             + ("[" if len(positions) > 1 else ""))
        for k, position in enumerate(positions):
            if k:
                text(", ")
            column = cells[position]
            kind = _json_kind(column)
            if kind == "empty":
                text('""')
            elif kind == "plain":
                text('"')
                parts.append(column)
                text('"')
            else:
                parts.append(pa.array([_json(v) for v in column.to_pylist()],
                                      pa.string()))
        if len(positions) > 1:
            text("]")
    text("}")
    rows = len(cells[0])
    if not any(not isinstance(p, str) for p in parts):
        return pa.chunked_array([pa.array([parts[0]] * rows, pa.string())])
    # slices of at most 64K rows: faster than one per thread (the inputs of
    # a slice stay in cache)
    step = min(-(-rows // _THREADS), _JOIN_ROWS)
    slices = [(start, min(step, rows - start)) for start in range(0, rows, step)]

    def join(bounds):
        start, length = bounds
        return pc.binary_join_element_wise(
            *(p if isinstance(p, str) else p.slice(start, length)
              for p in parts), "")

    return pa.chunked_array(_parallel(join, slices), type=pa.string())


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _value_bytes(column) -> np.ndarray:
    """The bytes of a string array's values (not of the whole buffer)."""
    data = column.buffers()[2]
    if data is None or len(column) == 0:
        return np.empty(0, dtype=np.uint8)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32,
                            count=len(column) + 1, offset=column.offset * 4)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]


def _json_kind(column) -> str:
    """`empty` (every cell ""), `plain` (no quote, backslash or control
    character: the JSON literal is the text in quotes) or `escape`."""
    if column.null_count:
        return "escape"
    raw = _value_bytes(column)
    if not len(raw):
        return "empty"
    if raw.min() < 0x20:
        return "escape"
    data = raw.tobytes()
    return "escape" if b'"' in data or b"\\" in data else "plain"


def _json_column(column):
    """JSON string literals of a column of text, vectorised: a column with no
    quote, backslash or control character only gains quotes."""
    if _json_kind(column) != "escape":
        return pc.binary_join_element_wise('"', column, '"', "")
    return pa.array([_json(v) for v in column.to_pylist()], pa.string())


_THREADS = max(1, min(4, os.cpu_count() or 1))
_JOIN_ROWS = 1 << 16


def _parallel(fn, items) -> list:
    """fn over items in threads (for pyarrow kernels, which release the GIL)."""
    items = list(items)
    if len(items) < 2 or _THREADS < 2:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        return list(pool.map(fn, items))


def _raw_record(header: list[str], row: list[str]) -> str:
    """One row as JSON; fields beyond the header go under `_extra_fields`."""
    record: dict = {}
    for key, value in zip(header, row, strict=False):
        if key in record:
            old = record[key]
            record[key] = (old if isinstance(old, list) else [old]) + [value]
        else:
            record[key] = [value] if header.count(key) > 1 else value
    if len(row) > len(header):
        record["_extra_fields"] = row[len(header):]
    return _json(record)


def read_xlsx(path, *, sheet: str | None = None,
              date_format: str = "%Y-%m-%d %H:%M:%S") -> Raw:
    """The first sheet (or `sheet`) of a workbook as text cells.

    Dates are written with `date_format` so they parse like a CSV export;
    whole numbers lose their `.0`. Several sheets warn, naming the others.
    """
    import openpyxl

    path = Path(path)
    _check_xlsx_sizes(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise FileError(f"{path.name}: cannot read as XLSX: {exc}") from exc
    try:
        names = book.sheetnames
        chosen = sheet or names[0]
        if chosen not in names:
            raise FileError(f"{path.name}: no sheet {chosen!r} "
                            f"(sheets: {', '.join(names)})")
        warnings = []
        if len(names) > 1:
            others = [n for n in names if n != chosen]
            warnings.append(f"{path.name}: read sheet {chosen!r}; ignored "
                            f"sheets: {', '.join(others)}")
        records = _xlsx_records(path.name, book[chosen], date_format)
    except FileError:
        raise
    except Exception as exc:  # a damaged member (CRC, size beyond declared)
        raise FileError(f"{path.name}: cannot read as XLSX: {exc}") from exc
    finally:
        book.close()
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
    # empty cells right of the header are the sheet's used range, not fields
    header = next((r for r in records if any(c.strip() for c in r)), None)
    if header is not None:
        width = max(i + 1 for i, c in enumerate(header) if c.strip())
        records = [r[:width] if r and not any(c.strip() for c in r[width:])
                   else r for r in records]
    return from_records(f"{path.name}[{chosen}]", records, warnings)


# XLSX limits: a workbook is a zip whose sheet can declare any size; none of
# that is trusted (issue 13)
XLSX_MEMBER_BYTES = 512 << 20   # uncompressed size of one zip member
XLSX_TOTAL_BYTES = 1 << 30      # and of all members
XLSX_MAX_ROWS = 1_048_576       # a sheet's own limit
XLSX_MAX_CELLS = 10_000_000     # cells in non-empty rows
_NO_CELLS: list[str] = []       # every blank row (shared: costs nothing)


def _check_xlsx_sizes(path: Path) -> None:
    """Refuse a workbook whose members would unpack too large, before any is
    opened (a deflate bomb); zipfile never reads past a declared size."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise FileError(f"{path.name}: cannot read as XLSX: {exc}") from exc
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > XLSX_MEMBER_BYTES or total > XLSX_TOTAL_BYTES:
            raise FileError(
                f"{path.name}: cannot read as XLSX: {member.filename} unpacks "
                f"to {member.file_size:,} bytes ({total:,} so far; at most "
                f"{XLSX_MEMBER_BYTES:,} per part and {XLSX_TOTAL_BYTES:,} in "
                "all); save a smaller export or split it")


def _xlsx_records(name: str, worksheet, date_format: str) -> list[list[str]]:
    """The sheet's rows as text, streamed: the declared dimension is ignored
    (no padding to it), blank rows cost nothing, rows and cells are capped."""
    worksheet.reset_dimensions()
    records: list[list[str]] = []
    cells = 0
    for number, row in enumerate(worksheet.iter_rows(values_only=True), 1):
        if number > XLSX_MAX_ROWS:
            raise FileError(f"{name}: more than {XLSX_MAX_ROWS:,} rows")
        if not any(v is not None for v in row):
            records.append(_NO_CELLS)
            continue
        cells += len(row)
        if cells > XLSX_MAX_CELLS:
            raise FileError(f"{name}: more than {XLSX_MAX_CELLS:,} cells by "
                            f"row {number} (row {number} has {len(row):,}); "
                            "save a smaller export or split it")
        records.append([_cell_text(v, date_format) for v in row])
    return records


def _cell_text(value, date_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime(date_format)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- selecting -------------------------------------------------------------

def repeated_headers(raw: Raw, names) -> None:
    """Fail the file if one of these headers occurs more than once."""
    for name in sorted(set(names)):
        found = raw.positions(name)
        if len(found) > 1:
            raise FileError(f"{raw.name}: column {raw.header[found[0]]!r} is "
                            f"repeated {len(found)} times")


def select(raw: Raw, columns: dict[str, tuple[str, ...]]) -> tuple[
        pd.DataFrame, set[int]]:
    """Canonical columns from declared headers (tried in order, coalesced row
    by row), as object text with None for empty; plus the positions used."""
    data, used = {}, set()
    for canonical, headers in columns.items():
        values = None
        for header in headers:
            found = raw.positions(header)
            if not found:
                continue
            used.update(found)
            cells = raw.at(found[0])
            values = cells if values is None else values.where(
                values.notna(), cells)
        if values is not None:
            data[canonical] = values.astype(object)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(raw)))
    return frame, used


def ignored_warning(raw: Raw, used: set[int]) -> list[str]:
    """One warning listing the headers nothing reads."""
    ignored = [h for i, h in enumerate(raw.header) if i not in used]
    if not ignored:
        return []
    unique = list(dict.fromkeys(ignored))
    return [f"{raw.name}: ignored {len(unique)} columns: {', '.join(unique)}"]


def finish(frame: pd.DataFrame, raw: Raw, *, source: str, table: str,
           warnings: list[str], mode: str = "upsert",
           timezone: str = "UTC") -> pd.DataFrame:
    """Add bookkeeping columns (bad_row_shape rejects) and attrs."""
    frame = frame.copy()
    frame["row_number"] = pd.Series(raw.row_number, dtype="int64",
                                    index=frame.index)
    frame["raw_record"] = pd.Series(raw.raw_record, dtype=object,
                                    index=frame.index)
    for column in ("_reject", "_reject_column", "_reject_value"):
        if column not in frame:
            frame[column] = pd.Series([None] * len(frame), dtype=object,
                                      index=frame.index)
    bad = pd.Series(raw.bad_shape, dtype=object, index=frame.index)
    shape = bad.notna()
    if shape.any():
        frame.loc[shape, "_reject"] = "bad_row_shape"
        frame.loc[shape, "_reject_column"] = None
        frame.loc[shape, "_reject_value"] = bad[shape]
    frame = frame.astype({c: object for c in frame.columns if c != "row_number"})
    frame.attrs.update(source=source, table=table,
                       warnings=list(raw.warnings) + list(warnings), mode=mode,
                       timezone=timezone, rows_read=len(raw))
    return frame


def reject(frame: pd.DataFrame, mask, reason: str, column: str | None,
           values) -> None:
    """Mark rows (not already rejected) with an adapter reject."""
    mask = pd.Series(mask, index=frame.index).fillna(False).astype(bool)
    mask &= frame["_reject"].isna()
    if not mask.any():
        return
    values = pd.Series(values, index=frame.index, dtype=object)
    frame.loc[mask, "_reject"] = reason
    frame.loc[mask, "_reject_column"] = column
    frame.loc[mask, "_reject_value"] = values[mask]


# --- recoding --------------------------------------------------------------

def _key(value: str) -> str:
    return value.strip().casefold()


def _as_code(value: str) -> str:
    return re.sub(r"[\s-]+", "_", value.strip().lower())


def recode(values: pd.Series, mapping: dict[str, str | None], *,
           match: str = "exact", codes=None) -> pd.Series:
    """Map source values to codes: trimmed, case-insensitive, `exact` or by
    `prefix` (first declared key that starts the value). A value no key
    matches becomes its code when, written as a code (lowercase, spaces and
    hyphens -> `_`), it is one of `codes`; otherwise it stays as found so the
    loader rejects it and shows it. None stays None."""
    return _by_unique(values, _recoder(mapping, match, codes))


def _recoder(mapping: dict[str, str | None], match: str, codes):
    table = {_key(k): v for k, v in mapping.items()}
    allowed = set(codes or ())

    def one(value):
        key = _key(value)
        if key in table:
            return table[key]
        if match == "prefix":
            for prefix, code in table.items():
                if key.startswith(prefix):
                    return code
        code = _as_code(value)
        return code if code in allowed else value

    return one


def _by_unique(values: pd.Series, fn) -> pd.Series:
    """fn applied once per distinct non-NULL value; None stays None."""
    values = pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if not len(uniques):
        return values
    mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def booleans(values: pd.Series, true_values=TRUE_VALUES,
             false_values=FALSE_VALUES) -> pd.Series:
    """`true`/`false`; anything else stays as found."""
    return _by_unique(values, _boolean(true_values, false_values))


def _boolean(true_values, false_values):
    yes = {_key(v) for v in true_values}
    no = {_key(v) for v in false_values}
    return lambda v: "true" if _key(v) in yes else (
        "false" if _key(v) in no else v)


def leading_integer(values: pd.Series) -> pd.Series:
    """`3 - Moderate` -> `3`, `3.0` -> `3`; no leading integer: as found."""
    return _by_unique(values, _leading_integer)


def _leading_integer(value):
    found = re.match(r"\s*(\d+)(?:\.0*)?(?:\s*-.*)?\s*$", value)
    return found.group(1) if found else value


def prefix_ids(values: pd.Series, prefix: str | None) -> pd.Series:
    if not prefix:
        return values
    return _by_unique(values, lambda v: prefix + v)


# --- instants --------------------------------------------------------------

@dataclass
class Parsed:
    text: pd.Series          # ISO-8601 UTC text, or the original text
    local: pd.Series         # naive local datetimes (NaT if unparsed)
    ambiguous: int = 0       # read as the first of a repeated hour
    examples: list[str] = field(default_factory=list)
    where: list[int] = field(default_factory=list)  # first positions of them


def parse_local(values: pd.Series, formats) -> pd.Series:
    """Naive datetimes from text with strptime formats tried in order."""
    values = pd.Series(values, dtype=object)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = values.notna()
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(values[todo], format=fmt, errors="coerce")
        parsed = parsed.astype("datetime64[us]")
        out[todo] = parsed
        todo &= out.isna()
    return out


def instants(values: pd.Series, formats, timezone: str = "UTC") -> Parsed:
    """Source-local text -> ISO-8601 UTC text (`2024-03-12T15:15:00Z`).

    Unparseable values and times in a spring-forward gap stay as found (the
    loader rejects them as bad_timestamp); times in the repeated autumn hour
    take the first occurrence and are counted for a warning.
    """
    values = pd.Series(values, dtype=object)
    if isinstance(formats, str):
        formats = [formats]
    local = parse_local(values, formats)
    index = pd.DatetimeIndex(local)
    ambiguous_count, examples = 0, []
    if timezone.upper() not in ("UTC", "ETC/UTC", "Z"):
        first, ambiguous = _localize(index, timezone)
        ambiguous_count = int(ambiguous.sum())
        examples = list(dict.fromkeys(values[ambiguous]))[:3]
        where = np.flatnonzero(np.asarray(ambiguous))[:WARNED_ROWS].tolist()
        utc = first.tz_convert("UTC").tz_localize(None)
    else:
        utc, where = index, []
    stamps = np.asarray(utc, dtype="datetime64[s]")
    ok = ~np.isnat(stamps)
    if not ok.any():
        return Parsed(values, local, ambiguous_count, examples, where)
    # cast + T + Z: several times faster than pyarrow's or numpy's strftime
    iso = pa.array(stamps, type=pa.timestamp("s")).cast(pa.string())
    iso = pc.binary_join_element_wise(pc.replace_substring(iso, " ", "T"),
                                      "Z", "").to_numpy(zero_copy_only=False)
    text = pd.Series(np.where(ok, iso, values.to_numpy()), index=values.index,
                     dtype=object)
    return Parsed(text, local, ambiguous_count, examples, where)


def _localize(index: pd.DatetimeIndex, timezone: str):
    """Naive local times in an IANA zone: the times (a repeated autumn hour
    read as its first occurrence, spring-forward gaps NaT) and a mask of the
    ambiguous ones."""
    try:
        first = index.tz_localize(timezone, ambiguous=np.ones(len(index),
                                                              dtype=bool),
                                  nonexistent="NaT")
    except Exception as exc:  # unknown zone name
        raise FileError(f"unknown time zone {timezone!r}: {exc}") from exc
    strict = index.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    return first, np.asarray(strict.isna() & first.notna())


def dates(values: pd.Series, formats) -> pd.Series:
    """`YYYY-MM-DD` from ISO dates or the date part of source-local instants;
    else as found."""
    values = pd.Series(values, dtype=object)
    formats = [formats] if isinstance(formats, str) else list(formats)
    local = parse_local(values, ["%Y-%m-%d", *formats])
    ok = local.notna()
    out = values.copy()
    out[ok] = local[ok].dt.strftime("%Y-%m-%d")
    return out.astype(object)


def dst_warning(name: str, column: str, parsed: Parsed, timezone: str,
                rows=None) -> list[str]:
    """The repeated-autumn-hour warning; given the file's row numbers
    (`Raw.row_number`), it names the rows (the first WARNED_ROWS)."""
    if not parsed.ambiguous:
        return []
    where = getattr(parsed, "where", None) or []
    named = ""
    if rows is not None and where:
        shown = ", ".join(str(int(rows[i])) for i in where)
        more = ", …" if parsed.ambiguous > len(where) else ""
        named = f"; row{'s' if parsed.ambiguous > 1 else ''} {shown}{more}"
    return [f"{name}: column {column}: {parsed.ambiguous} times in the repeated "
            f"autumn hour of {timezone} read as the first occurrence "
            f"(e.g. {', '.join(parsed.examples)}{named})"]


# --- the same steps on arrow arrays (large files) ---------------------------
# Each gives exactly the text of its pandas twin above, on pyarrow string
# arrays (trimmed, null for empty) instead of object Series: per-value
# functions run once per distinct value, instants take a vectorised parse.

def select_arrays(raw: Raw, columns: dict[str, tuple[str, ...]]) -> tuple[
        dict[str, pa.Array], set[int]]:
    """`select` as arrow arrays (canonical column -> array), plus the
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
    trimmed = dict(zip(positions, _parallel(raw.trimmed, positions),
                       strict=True))
    data = {}
    for canonical, found in wanted.items():
        values = trimmed[found[0]]
        for position in found[1:]:
            values = pc.coalesce(values, trimmed[position])
        data[canonical] = values
    return data, used


def by_unique_array(values: pa.Array, fn) -> pa.Array:
    """fn (text -> text or None) applied once per distinct non-null value;
    null stays null."""
    encoded = pc.dictionary_encode(values)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()],
                      type=pa.string())
    return pc.take(mapped, encoded.indices)


def recode_array(values: pa.Array, mapping: dict[str, str | None], *,
                 match: str = "exact", codes=None) -> pa.Array:
    """`recode` on an arrow array."""
    return by_unique_array(values, _recoder(mapping, match, codes))


def booleans_array(values: pa.Array, true_values=TRUE_VALUES,
                   false_values=FALSE_VALUES) -> pa.Array:
    """`booleans` on an arrow array."""
    return by_unique_array(values, _boolean(true_values, false_values))


def leading_integer_array(values: pa.Array) -> pa.Array:
    """`leading_integer` on an arrow array."""
    return by_unique_array(values, _leading_integer)


def prefix_ids_array(values: pa.Array, prefix: str | None) -> pa.Array:
    """`prefix_ids` on an arrow array."""
    if not prefix:
        return values
    return pc.binary_join_element_wise(prefix, values, "")


def dates_array(values: pa.Array, formats) -> pa.Array:
    """`dates` on an arrow array (once per distinct value)."""
    encoded = pc.dictionary_encode(values)
    distinct = pd.Series(encoded.dictionary.to_pylist(), dtype=object)
    mapped = pa.array(list(dates(distinct, formats)), type=pa.string())
    return pc.take(mapped, encoded.indices)


# strptime directives whose text pyarrow and pandas read alike; a value
# parsed with them is kept only if it prints back as the same text
_PLAIN_DIRECTIVES = re.compile(r"%[YmdHMS]")


def _plain_format(fmt: str) -> bool:
    rest = _PLAIN_DIRECTIVES.sub("", fmt)
    return "%" not in rest and "%Y" in fmt


# where each directive's digits are in a timestamp[s] cast to text
# (`YYYY-MM-DD HH:MM:SS`, for years 1000 to 9999)
_CAST_SLICES = {"Y": (0, 4), "m": (5, 7), "d": (8, 10), "H": (11, 13),
                "M": (14, 16), "S": (17, 19)}


def _print(stamps: pa.Array, fmt: str, text: pa.Array | None = None
           ) -> pa.Array:
    """strftime with a plain format, from the timestamps' cast to text (many
    times faster than pc.strftime); `text` is that cast if already made."""
    text = stamps.cast(pa.string()) if text is None else text
    if fmt == "%Y-%m-%d %H:%M:%S":
        return text
    parts: list = []
    for literal, directive in re.findall(r"([^%]*)(?:%([YmdHMS]))?", fmt):
        if literal:
            parts.append(literal)
        if directive:
            start, stop = _CAST_SLICES[directive]
            parts.append(pc.utf8_slice_codeunits(text, start, stop))
    if len(parts) == 1 and isinstance(parts[0], str):
        return pc.if_else(stamps.is_valid(), parts[0], None)
    return pc.binary_join_element_wise(*parts, "")


def parse_local_array(values: pa.Array, formats) -> np.ndarray:
    """`parse_local` on an arrow array: naive datetime64[us] (NaT if
    unparsed)."""
    formats = [formats] if isinstance(formats, str) else list(formats)
    return _parse_local_array(values, formats)[0]


def _parse_plain(values: pa.Array, fmt: str):
    """Values a plain format (`%Y-%m-%d %H:%M:%S` and the like) reads, by
    pyarrow: (timestamp[s] array, mask of values that print back as the
    same text, years 1900-2199, the timestamps as `YYYY-MM-DD HH:MM:SS`
    text), or None if the format is not plain."""
    if not _plain_format(fmt):
        return None
    stamps = None
    if fmt == "%Y-%m-%d %H:%M:%S":
        try:  # ISO-8601 cast: several times faster, fails on any bad value
            stamps = values.cast(pa.timestamp("s"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            stamps = None
    if stamps is None:
        stamps = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
    text = (stamps.fill_null(0) if stamps.null_count else stamps).cast(
        pa.string())
    low, high = (pa.scalar(dt.datetime(y, 1, 1), pa.timestamp("s"))
                 for y in (1900, 2200))
    same = pc.and_(pc.equal(_print(stamps, fmt, text), values),
                   pc.and_(pc.greater_equal(stamps, low),
                           pc.less(stamps, high)))
    return stamps, same.fill_null(False), text


def _parse_local_array(values: pa.Array, formats):
    """(naive datetime64[us], the pyarrow parse of the first format or
    None, whether every value is read or null without pandas)."""
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    todo = values.is_valid().to_numpy(zero_copy_only=False)
    plain = _parse_plain(values, formats[0]) if formats and todo.any() else None
    if plain is not None:
        stamps, same, _ = plain
        ok = same.to_numpy(zero_copy_only=False)
        out[ok] = stamps.filter(same).to_numpy(zero_copy_only=False).astype(
            "datetime64[us]")
        todo &= ~ok
    if todo.any():
        rest = pd.Series(values.filter(pa.array(todo)).to_numpy(
            zero_copy_only=False), dtype=object)
        out[todo] = parse_local(rest, formats).to_numpy()
    return out, plain, not todo.any()


@dataclass
class ParsedArray:
    text: pa.Array           # ISO-8601 UTC text, or the original text
    ambiguous: int = 0       # read as the first of a repeated hour
    examples: list[str] = field(default_factory=list)
    where: list[int] = field(default_factory=list)  # first positions of them


def instants_array(values: pa.Array, formats,
                   timezone: str = "UTC") -> ParsedArray:
    """`instants` on an arrow array: the same text, the same count and
    examples of ambiguous autumn times (for `dst_warning`). Values the first
    format writes plainly are parsed by pyarrow and kept when they print
    back as the same text; every other value goes through pandas as in
    `instants`; UTC text of a pyarrow parse is built without numpy."""
    if isinstance(formats, str):
        formats = [formats]
    utc = timezone.upper() in ("UTC", "ETC/UTC", "Z")
    if utc and formats and values.null_count < len(values):
        plain = _parse_plain(values, formats[0])
        if plain is not None and pc.all(pc.or_(
                plain[1], values.is_null())).as_py():
            # every value is read (or null): the ISO text is the result
            stamps, same, text = plain
            if not pc.any(same).as_py():
                return ParsedArray(values)
            return ParsedArray(_iso(stamps, text))
    local = parse_local_array(values, formats)
    ambiguous_count, examples, where = 0, [], []
    if not utc:
        first, ambiguous = _localize(pd.DatetimeIndex(local), timezone)
        ambiguous_count = int(ambiguous.sum())
        if ambiguous_count:
            examples = list(dict.fromkeys(
                values.filter(pa.array(ambiguous)).to_pylist()))[:3]
            where = np.flatnonzero(
                np.asarray(ambiguous))[:WARNED_ROWS].tolist()
        stamps = np.asarray(first.tz_convert("UTC").tz_localize(None),
                            dtype="datetime64[s]")
    else:
        stamps = local.astype("datetime64[s]")
    ok = ~np.isnat(stamps)
    if not ok.any():
        return ParsedArray(values, ambiguous_count, examples, where)
    iso = _iso(pa.array(stamps, type=pa.timestamp("s")))
    return ParsedArray(pc.if_else(pa.array(ok), iso, values), ambiguous_count,
                       examples, where)


def _iso(stamps: pa.Array, text: pa.Array | None = None) -> pa.Array:
    """`2024-03-12T15:15:00Z` from timestamp[s] (UTC): the cast to text
    (`text`, if already made from the stamps with nulls filled) + T + Z,
    written straight into the result's buffer when every cast has the same
    19 characters."""
    if text is None:
        text = (stamps.fill_null(0) if stamps.null_count else stamps).cast(
            pa.string())
    rows = len(text)
    data = _value_bytes(text)
    if text.null_count or not rows or len(data) != 19 * rows:
        iso = pc.binary_join_element_wise(
            pc.replace_substring(text, " ", "T"), "Z", "")
        return pc.if_else(stamps.is_valid(), iso, None)
    out = np.empty((rows, 20), dtype=np.uint8)
    out[:, :19] = data.reshape(rows, 19)
    out[:, 10] = ord("T")
    out[:, 19] = ord("Z")
    offsets = np.arange(0, 20 * rows + 1, 20, dtype=np.int32)
    validity = None
    if stamps.null_count:
        validity = pa.py_buffer(np.packbits(
            stamps.is_valid().to_numpy(zero_copy_only=False),
            bitorder="little"))
    return pa.Array.from_buffers(pa.string(), rows, [
        validity, pa.py_buffer(offsets), pa.py_buffer(out)])


def finish_arrays(data: dict[str, pa.Array], raw: Raw, *, source: str,
                  table: str, warnings: list[str], mode: str = "upsert",
                  timezone: str = "UTC", arrow: bool = False) -> pd.DataFrame:
    """`finish` for arrow columns: the same columns and attrs. `arrow`
    keeps the text columns arrow-backed (pd.ArrowDtype, NULL is pd.NA) like
    the canonical adapter's large-file path; otherwise object text with
    None, exactly as `finish` gives."""
    rows = len(raw)
    bad = pa.array(list(raw.bad_shape), type=pa.string()) if any(
        b is not None for b in raw.bad_shape) else None
    nulls = pa.nulls(rows, type=pa.string())
    columns = dict(data)
    records = raw.raw_record
    if isinstance(records, list):
        records = pa.array(records, type=pa.string())
    columns["raw_record"] = records
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
        frame = pa.table({k: v for k, v in columns.items()}).to_pandas(
            types_mapper=pd.ArrowDtype)
    else:
        frame = pd.DataFrame({k: pd.Series(_objects_any(v), dtype=object)
                              for k, v in columns.items()},
                             index=pd.RangeIndex(rows))
    order = [c for c in data if c not in BOOKKEEPING]
    frame.insert(len(order), "row_number", numbers)
    frame = frame[[*order, *(c for c in BOOKKEEPING if c in frame)]]
    frame.attrs.update(source=source, table=table,
                       warnings=list(raw.warnings) + list(warnings), mode=mode,
                       timezone=timezone, rows_read=rows)
    return frame


def _objects_any(array) -> np.ndarray:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else \
            array.chunk(0)
    return _objects(array)


# --- canonical schema ------------------------------------------------------

@cache
def schema() -> dict[str, dict[str, tuple[str, tuple[str, ...]]]]:
    """table -> column -> (type, allowed codes) from changeboard/schema.sql."""
    tables: dict[str, dict] = {}
    text = SCHEMA.read_text(encoding="utf-8")
    for match in re.finditer(r"create table if not exists (\w+) \((.*?)\n\);",
                             text, re.S):
        name, body = match.groups()
        columns = {}
        for column, kind in re.findall(r"^    (\w+) (\w+)", body, re.M):
            if column in ("primary", "unique", "check") or column in LINEAGE:
                continue
            codes = re.search(rf"{column} in \(([^)]*)\)", body)
            columns[column] = (kind.lower(), tuple(re.findall(
                r"'([^']*)'", codes.group(1))) if codes else ())
        tables[name] = columns
    return tables


def codes(table: str, column: str) -> tuple[str, ...]:
    return schema().get(table, {}).get(column, ("", ()))[1]


def closest(name: str, choices) -> str:
    found = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""
