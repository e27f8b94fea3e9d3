"""Canonical CSV (docs/sources.md section 1): UTF-8, comma, RFC 4180, canonical
headers in any order; one file per table, named after it."""
from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pandas as pd

from changeboard.words import many

from . import frames, reading, schema
from .errors import FileError
from .schema import BOOKKEEPING, LINEAGE

SOURCE = "csv"
TABLE = None  # per file: schema.table_for(path)
# files above this size (about 2,500 changes) try pyarrow's multi-threaded
# reader first; smaller ones (and any file pyarrow refuses) go through the
# csv module, which reports exact rows. Both read the bad-input corpus alike
# (tests/test_ingest.py); an incremental load of 10,000 changes (3.7 MB)
# reads in 0.13-0.16 s through pyarrow against 0.6-0.8 s record by record.
FAST_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"
_ZIP = b"PK\x03\x04"  # a zip: an XLSX workbook


def read(path, *, table: str | None = None, options=None) -> pd.DataFrame:
    """Canonical columns as text plus row_number (header = row 1); `x_*`
    columns are kept for raw records and ignored by the loader."""
    path = Path(path)
    table = table or schema.table_for(path)
    spec = schema.describe(table)
    name = path.name
    mapped = _mapped(path, name, table, spec)
    if mapped is not None:
        return _finish(name, table, *mapped)
    try:
        data = path.read_bytes()
        if reading.is_gzip(path):  # an export as shipped: changes.csv.gz
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:  # BadGzipFile is an OSError
        raise FileError(f"{name}: cannot read the file: {exc}") from exc
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if not data or data.isspace():  # (no stripped copy of a large file)
        raise FileError(f"{name}: the file is empty (no header row)")
    reading.refuse_non_text(name, data)
    if data.startswith(_ZIP):
        # an .xlsx (a zip of XML) read as text: 'NUL byte at line 1, byte
        # 5: not a text CSV (UTF-16 or binary?)'
        raise FileError(
            f"{name}: a spreadsheet workbook (XLSX), not a CSV: save it as "
            "CSV UTF-8 for this source; a ServiceNow export in XLSX loads "
            "with the ServiceNow source")
    header_end = data.find(b"\n")
    header_line = data if header_end < 0 else data[:header_end]
    nul = data.find(b"\x00")
    if nul >= 0 and _binary(data, header_line):
        line = data.count(b"\n", 0, nul) + 1
        raise FileError(
            f"{name}: NUL byte at line {line}, byte {nul}: not a text CSV "
            "(UTF-16 or binary?); save it as CSV UTF-8")
    header = _header(name, _decode(name, header_line).rstrip("\r"))
    keep, warnings = _check_header(name, table, spec, header)
    frame = None
    if len(data) >= FAST_BYTES and b'"' not in header_line and nul < 0:
        frame = _fast(data, header, spec)
    if frame is None:
        # a stray NUL inside a field rejects that row (_slow)
        frame = _slow(name, _decode(name, data, header), header,
                      nul=nul >= 0)
    return _finish(name, table, frame, keep, warnings)


def _binary(data: bytes, header_line: bytes) -> bool:
    """A file with NULs that is not text at all: UTF-16 or UTF-32 (a BOM,
    or NULs in the header) or binary (NULs throughout: over 1 byte in 20)."""
    return (data.startswith((b"\xff\xfe", b"\xfe\xff"))
            or b"\x00" in header_line or data.count(b"\x00") * 20 > len(data))


def _mapped(path: Path, name: str, table: str, spec):
    """A large, clean file read by pyarrow straight from disk in blocks (no
    copy of the file in memory, and no memory map: its pages counted in the
    load's peak memory beside the cells): (frame, keep, warnings), or None
    for any file that needs the checks and messages of the path through
    bytes."""
    import pyarrow as pa

    try:
        if not path.is_file() or path.stat().st_size < FAST_BYTES:
            return None
        with open(path, "rb") as handle:
            head = handle.read(len(_BOM) + (1 << 16))
            start = len(_BOM) if head.startswith(_BOM) else 0
            handle.seek(start)
            scanned = _scan(handle)
    except (OSError, ValueError):
        return None
    reading.refuse_non_text(name, head)  # a large XML file has no NUL
    size, nul, quotes = scanned
    header_end = head.find(b"\n", start)
    if (size < FAST_BYTES or header_end < 0
            or head[start:start + (1 << 16)].isspace() or nul
            or quotes % 2):
        # a quote left open at the end (a truncated export): pyarrow would
        # take it as a value running to the end, where the csv module
        # rejects that row
        return None
    header_line = head[start:header_end]
    if b'"' in header_line:
        return None
    header = _header(name, _decode(name, header_line).rstrip("\r"))
    keep, warnings = _check_header(name, table, spec, header)
    try:
        with pa.OSFile(str(path)) as source:
            source.seek(start)
            frame = _parsed(source, header, spec)
    except OSError:
        return None
    if frame is None:
        return None
    return frame, keep, warnings


def _scan(handle, step: int = 16 << 20) -> tuple[int, bool, int]:
    """(bytes, any NUL byte, quote characters) of the rest of an open file,
    read in 16 MB blocks (about 0.2 s for 635 MB)."""
    import numpy as np

    size, nul, quotes = 0, False, 0
    while block := handle.read(step):
        size += len(block)
        nul = nul or b"\x00" in block
        quotes += int(np.count_nonzero(
            np.frombuffer(block, dtype=np.uint8) == ord('"')))
    return size, nul, quotes


def _finish(name, table, frame, keep, warnings) -> pd.DataFrame:
    frame = frame[[c for c in frame.columns
                   if c in keep or c in BOOKKEEPING]]
    if not len(frame):
        warnings.append(f"{name}: header only, no data rows")
    frame.attrs["batch"] = frames.Batch(SOURCE, table, warnings)
    reading.release_memory()
    return frame


def _decode(name: str, data: bytes, header: list[str] | None = None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileError(
            f"{name}: not UTF-8: byte 0x{data[exc.start]:02X} "
            + _where(data, exc.start, line, header)
            + " (Windows-1252 or Latin-1?); save it as CSV UTF-8, or load it "
            "with a mapping file that sets encoding") from exc


def _where(data: bytes, at: int, line: int, header: list[str] | None) -> str:
    """Where byte `at` is: its row as rows are numbered (the header row 1;
    a field holding line breaks makes rows and lines differ) and column,
    with its line of the file when that differs."""
    if header is None:
        return f"at line {line}"
    rows = list(csv.reader(io.StringIO(
        data[:at].decode("utf-8", "replace"), newline="")))
    row = max(len(rows), 1) + (data[:at].endswith(b"\n") or not rows)
    fields = rows[-1] if rows and not data[:at].endswith(b"\n") else [""]
    column = header[len(fields) - 1] if 0 < len(fields) <= len(header) \
        else None
    return (f"in row {row}" + (f", column {column}" if column else "")
            + (f" (line {line} of the file)" if line != row else ""))


def _header(name: str, line: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line]))]
    except csv.Error as exc:
        # a line end other than LF or CRLF: a bare CR (classic Mac) leaves
        # the whole file on the "header line"
        raise FileError(
            f"{name}: cannot read the header row ({exc}); lines must end "
            "with LF or CRLF (a file with CR-only line ends, as old Mac "
            "programs save, must be saved again as CSV UTF-8)") from exc


def _check_header(name, table, spec, header) -> tuple[set[str], list[str]]:
    """Columns to keep; fails the file on unknown, repeated or missing ones."""
    warnings: list[str] = []
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise FileError(f"{name}: repeated header {column!r}")
        seen.add(column)
    ignored = [c for c in header if c in LINEAGE]
    if ignored:
        warnings.append(f"{name}: column {', '.join(ignored)} ignored: the "
                        "loader sets source and ingested_batch_id")
    schema.check_columns(name, spec, header)
    return {c for c in header if c not in LINEAGE}, warnings


def _fast(data, header: list[str], spec) -> pd.DataFrame | None:
    """pyarrow's reader (ingest/reading.py); None when it refuses the file
    (the slow path then reports the exact row)."""
    import pyarrow as pa

    if not reading.quotes_paired(data):
        return None
    return _parsed(pa.BufferReader(pa.py_buffer(data)), header, spec)


# text columns whose values rows share: references to another table's rows
# and the groups and people a row is filed under (never a row's own key or
# free text)
SHARED_TEXT = frozenset({
    "application_id", "environment_id", "release_id", "parent_release_id",
    "portfolio", "owner_team", "environment_group", "timezone", "phase",
    "category", "ci_name", "assignment_group", "requested_by", "team"})


def repeating(spec, header: list[str]) -> list[int]:
    """Positions of the header's columns that hold few distinct values:
    codes and flags, and SHARED_TEXT (read dictionary-encoded, each value
    once: reading.parse_csv)."""
    return [i for i, column in enumerate(header)
            if column in spec.columns and column not in spec.key
            and (spec.kind(column) in ("code", "boolean")
                 or column in SHARED_TEXT)]


def _parsed(source, header: list[str], spec) -> pd.DataFrame | None:
    """pyarrow's reader over a source positioned at the header line; None
    when it refuses the file or a row is empty (see _fast)."""
    table = reading.parse_csv(source, len(header), skip_rows=1,
                              block_size=16 << 20,
                              repeating=repeating(spec, header))
    if table is None or _has_an_empty_row(table):
        return None
    frame = table.rename_columns(header).to_pandas(types_mapper=pd.ArrowDtype)
    frame.insert(0, "row_number", range(2, len(frame) + 2))
    return frame


def _has_an_empty_row(table) -> bool:
    """A row with every field empty: pyarrow reads a blank line so, where
    the csv module skips it (and keeps a row of bare delimiters), so such a
    file is left to the csv module."""
    import pyarrow as pa
    import pyarrow.compute as pc

    empty = None
    for column in table.columns:
        blank = _blank(column) if pa.types.is_dictionary(column.type) \
            else pc.equal(pc.binary_length(column), 0)
        empty = blank if empty is None else pc.and_(empty, blank)
        if not pc.any(empty).as_py():
            return False
    return empty is not None


def _blank(column):
    """Whether each cell of a dictionary-encoded column is empty, from its
    distinct values (never decoding the column)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pa.chunked_array(
        [pc.take(pc.equal(pc.binary_length(chunk.dictionary), 0),
                 chunk.indices) for chunk in column.chunks],
        type=pa.bool_())


def _slow(name: str, text: str, header: list[str], *,
          nul: bool = False) -> pd.DataFrame:
    """The csv module, record by record: exact row numbers and field counts;
    with `nul`, a row with a NUL character in a field is rejected."""
    records: list[list[str]] = []
    # row_number, value, raw json (bad_row_shape)
    shapes: list[tuple[int, str, str]] = []
    nuls: list[tuple[int, str, str, str, str]] = []  # ... column, detail
    width = len(header)
    row = 0
    # a quote opened on a row's line and not closed on it: that line is
    # rejected and the lines after it read as rows (reading.csv_records)
    for record, note in reading.csv_records(text, width=width):
        row += 1
        if row == 1 or not record:
            continue  # the header; a blank line
        if note:
            shapes.append((row, note, json.dumps(
                {"_text": record[0]}, ensure_ascii=False)))
        elif len(record) != width:
            shapes.append((row, f"{many(len(record), 'field')}, header "
                           f"has {width}", _raw(header, record)))
        elif nul and any("\x00" in field for field in record):
            nuls.append(_nul_reject(row, header, record))
        else:
            records.append([row, *record])
    frame = pd.DataFrame(records, columns=["row_number", *header], dtype=object)
    frame["row_number"] = frame["row_number"].astype("int64")
    frame["raw_record"] = None
    frame["_reject"] = None
    frame["_reject_column"] = None
    frame["_reject_value"] = None
    if nuls:
        frame["_reject_detail"] = None
    if shapes or nuls:
        bad = pd.DataFrame({
            "row_number": [s[0] for s in shapes] + [n[0] for n in nuls],
            "raw_record": [s[2] for s in shapes] + [n[2] for n in nuls],
            "_reject": ["bad_row_shape"] * len(shapes)
            + ["nul_byte"] * len(nuls),
            "_reject_column": [None] * len(shapes) + [n[3] for n in nuls],
            "_reject_value": [s[1] for s in shapes] + [n[1] for n in nuls]})
        if nuls:
            bad["_reject_detail"] = [None] * len(shapes) + [
                n[4] for n in nuls]
        frame = pd.concat([frame, bad], ignore_index=True).sort_values(
            "row_number", ignore_index=True)
        frame = frame.astype({c: object for c in frame.columns
                              if c != "row_number"})
    return frame


def _raw(header: list[str], record: list[str]) -> str:
    raw = dict(zip(header, record, strict=False))
    if len(record) > len(header):
        raw["_extra"] = record[len(header):]
    return json.dumps(raw, ensure_ascii=False)


def _nul_reject(row: int, header: list[str], record: list[str]
                ) -> tuple[int, str, str, str, str]:
    """(row, value shown with \\x00, raw json, column, detail) of the first
    field holding a NUL character."""
    at = next(i for i, field in enumerate(record) if "\x00" in field)
    field = record[at]
    return (row, field.replace("\x00", "\\x00"), _raw(header, record),
            header[at], f"NUL byte at character {field.index(chr(0)) + 1} "
            "of the value: not text (a fragment of a binary file?)")
