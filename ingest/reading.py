"""Reading a source file into a `Raw`: the header as a list, every cell as
text in pyarrow string arrays, the row numbers a spreadsheet shows, each
row's input record as JSON and the rows of another field count marked.

One reader for delimited text: pyarrow's parser where the file allows it
(a large ASCII file read straight from disk in blocks), the csv module for anything
unusual (blank or comment lines, rows of another width); XLSX through
openpyxl. Nothing is recoded or parsed here (ingest/codes.py, times.py).
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import tempfile
import zlib
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from changeboard.words import many

from .errors import FileError

ENCODINGS = ("utf-8", "windows-1252")


@dataclass
class Raw:
    """A delimited file read as text: one column of cells per header position.

    `cells` are pyarrow string arrays (untrimmed, "" for empty), padded to
    the header's width; `bad_shape` says why a row has another field count.
    `raw_record` is None until asked for (`record_array`) when pyarrow read
    the file: every row then has the header's width, and its record is
    built from the cells alone, so `records` can build just the rows a load
    rejects.
    """

    name: str
    header: list[str]
    cells: list
    row_number: list[int]
    raw_record: list[str] | pa.ChunkedArray | None
    bad_shape: list[str | None]
    warnings: list[str] = field(default_factory=list)
    spilled: set[int] = field(default_factory=set)  # positions (spill)

    def __len__(self) -> int:
        return len(self.row_number)

    def record_array(self) -> pa.ChunkedArray:
        """Every row's raw record (JSON text) as a chunked string array."""
        if self.raw_record is None:
            self.raw_record = _record_array(self.header, self.cells)
        elif isinstance(self.raw_record, list):
            self.raw_record = pa.chunked_array([pa.array(
                self.raw_record, type=pa.string())])
        return self.raw_record

    def records(self, numbers) -> list[str | None]:
        """The raw records of the rows with these row numbers (None for a
        number the file does not have), built for those rows only when
        they are not built yet: the same text as `record_array`'s."""
        numbers = np.asarray(numbers, dtype=np.int64)
        rows = np.asarray(self.row_number, dtype=np.int64)
        if not len(rows) or not len(numbers):
            return [None] * len(numbers)
        at = np.minimum(np.searchsorted(rows, numbers), len(rows) - 1)
        found = rows[at] == numbers
        take = pa.array(at[found])
        if self.raw_record is None:
            built = _record_array(self.header,
                                  [c.take(take) for c in self.cells])
        else:
            built = self.record_array().take(take)
        texts = iter(built.to_pylist())
        return [next(texts) if hit else None for hit in found]

    def spill(self, shared: Collection[int] = ()) -> None:
        """Move the cells no frame holds to a file, for `records` alone:
        once the adapter has made its columns, a column it read as it is
        (its text buffer at one of the `shared` addresses) stays, and the
        others (codes it recoded, instants it parsed, columns it does not
        read) are written to a temporary Arrow file, unlinked at once and
        read back memory-mapped: only the pages of the rows a load rejects
        are ever read again. At a million changes the ServiceNow export
        held about 400 MB of such cells through the insert. Where the file
        cannot be written (no space), the cells stay in memory."""
        kept = set(shared)
        moved = [i for i, column in enumerate(self.cells)
                 if len(column) and i not in self.spilled
                 and _data_address(column) not in kept]
        if not moved:
            return
        table = pa.table({f"c{i}": self.cells[i] for i in moved})
        try:
            with tempfile.NamedTemporaryFile(prefix="changeboard-cells-",
                                             suffix=".arrow") as spilled:
                with pa.ipc.new_file(spilled.name, table.schema) as writer:
                    writer.write_table(table)
                mapped = pa.ipc.open_file(pa.memory_map(spilled.name)
                                          ).read_all()
        except OSError:
            return
        for i, column in zip(moved, mapped.columns, strict=True):
            # one chunk, as written: its arrays read in place (combining
            # even one chunk would copy it back into memory)
            self.cells[i] = column.chunk(0) if column.num_chunks == 1 \
                else column.combine_chunks()
        self.spilled.update(moved)

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
        return pd.Series(objects(self.trimmed(position)), dtype=object)

    def trimmed(self, position: int) -> pa.Array:
        """Trimmed cells at a position as an arrow string array, empty ->
        null."""
        return _trim_or_null(self.cells[position])


def _data_address(column) -> int | None:
    """The address of a string array's text buffer (None if it has none)."""
    buffers = column.buffers()
    return buffers[2].address if len(buffers) > 2 and buffers[2] else None


def release_memory() -> None:
    """Give back what pyarrow's allocator keeps of the blocks a read parsed
    and let go: about 180 MB after a 635 MB file under mimalloc, which
    otherwise stays in the process through the load."""
    pa.default_memory_pool().release_unused()


def use_load_pool() -> None:
    """Make pyarrow's jemalloc pool the process's default, returning the
    pages it frees at once (decay 0), for a process that loads files; not
    where ARROW_DEFAULT_MEMORY_POOL chose one (the Data page's upload child
    runs under an address-space limit that jemalloc's reservations would
    hit: ingest/uploads.py) or pyarrow has no jemalloc.

    Under pyarrow's default, mimalloc, the parse of a 635 MB canonical
    file spent 2.5-4.6 s of its 5.9-6.6 CPU seconds in the kernel
    (allocating and giving back the 16 MB blocks' pages): 3.3-3.8 s against
    1.5 s in jemalloc. At 1M changes, one process per load, alternated:
    canonical 8.65-8.69 -> 7.10-7.64 s with its peak at 1,168 -> 1,051-1,127
    MB, the ServiceNow export 11.1-11.8 -> 9.2-9.3 s, peak 1,701 -> 1,569
    MB (jemalloc's own decay, instead of 0: 1,800-1,967 MB)."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        return
    if pa.default_memory_pool().backend_name != pool.backend_name:
        pa.jemalloc_set_decay_ms(0)
        pa.set_memory_pool(pool)


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


def objects(array) -> np.ndarray:
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


# files that are no delimited text, by their first bytes: what they are, so
# a PNG named changes.csv is not said to be a text in another encoding
# ('not UTF-8: byte 0x89 ... Windows-1252 or Latin-1?'), nor BPIC 2014's
# XES log a CSV without its columns (a walkthrough's two files)
CSV_FIX = "export the data as CSV (UTF-8) and load that"
NOT_TEXT = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", CSV_FIX),
    (b"\xff\xd8\xff", "a JPEG image", CSV_FIX),
    (b"GIF87a", "a GIF image", CSV_FIX),
    (b"GIF89a", "a GIF image", CSV_FIX),
    (b"%PDF-", "a PDF document", CSV_FIX),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "an Office file of the old format (an XLS workbook?)",
     "save it as CSV UTF-8 and load that"),
    (b"\x1f\x8b", "a gzip-compressed file",
     "name it with .gz at the end (changes.csv.gz): such a file is read "
     "decompressed"),
    (b"<?xml", "an XML file (an XES event log?)", CSV_FIX),
)


def refuse_non_text(name: str, data: bytes) -> None:
    """FileError naming what the file is, and what to do, when its first
    bytes (after a UTF-8 byte order mark) are those of a file that is no
    text table."""
    head = data[3:3 + 16] if data.startswith(b"\xef\xbb\xbf") else data[:16]
    for start, what, fix in NOT_TEXT:
        if head.startswith(start):
            raise FileError(f"{name}: {what}, not a delimited text file: "
                            f"{fix}")


def _read_bytes(path) -> bytes:
    """The file's bytes; a `.gz` file is decompressed (gzip)."""
    try:
        data = Path(path).read_bytes()
        if is_gzip(path):
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileError(f"{Path(path).name}: cannot read: {exc}") from exc
    refuse_non_text(Path(path).name, data)
    return data


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
    decoding warnings (a later encoding in the list warns)."""
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
    `raw_record` is a pyarrow string array (chunked), or None when pyarrow
    read the file (built on demand: Raw.record_array, Raw.records);
    `row_number` a numpy int64 array.
    """
    return _as_table(_read(path, encodings, delimiter, quote, comment))


def _as_table(raw: Raw) -> Raw:
    if isinstance(raw.raw_record, list):
        raw.record_array()
    raw.row_number = np.asarray(raw.row_number, dtype=np.int64)
    return raw


OPEN_QUOTE = "a quote opened in this row is not closed on its line"
# the csv module's fields, as pyarrow's, are as long as a file holds: a 1 MB
# description is a field (and a quote left open runs to the end of the file
# before it is found)
csv.field_size_limit(1 << 30)


def quotes_paired(data) -> bool:
    """An even number of quote characters. pyarrow, and the csv module
    unless strict, take a quote left open as a value running to the end of
    the file; a well-formed file has its quotes in pairs. Counted in 16 MB
    slices (about 0.1 s for 350 MB)."""
    octets = np.frombuffer(data, dtype=np.uint8)
    step = 16 << 20
    return sum(int(np.count_nonzero(octets[at:at + step] == ord('"')))
               for at in range(0, len(octets), step)) % 2 == 0


def csv_records(text: str, *, delimiter: str = ",", quote: str = '"',
                width: int | None = None):
    """The csv module's records of text, each as (record, note). Read
    strictly, so that a quote opened on a line and not closed on it is
    found: read leniently (and by pyarrow) a quote never closed ran to the
    end of the file, taking every row after it into one value (a file of
    20,000 rows loaded the 10,000 before it, with exit 0). That row comes
    as its own line, one field, noted OPEN_QUOTE, and the lines after it
    are read again as rows; so does a record over several lines of another
    field count than `width` (a quote closed lines later), or one whose
    quote closes lines later before other text. A quote closed before more
    text on its own line (`"closed"trailing`), which the strict reading
    refuses, is read as the lenient one and pyarrow read it
    ('closedtrailing'), that record alone."""
    dialect = {"delimiter": delimiter, "quotechar": quote or None,
               "quoting": csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE}
    rest = text  # the text left to read
    while rest:
        reader = csv.reader(io.StringIO(rest, newline=""), strict=True,
                            **dialect)
        ended = 0  # the line the last whole record ended on
        lenient = False  # the record from the line after `ended` fails
        try:
            for record in reader:
                if reader.line_num - ended > 1 and width is not None and \
                        record and len(record) != width:
                    break  # took the rows after its first line in
                ended = reader.line_num
                yield record, None
            else:
                return
        except csv.Error as exc:
            lenient = "unexpected end of data" not in str(exc)
        lines = rest.splitlines(keepends=True)
        record = None
        if lenient:  # that record alone, read leniently
            reader = csv.reader(io.StringIO("".join(lines[ended:]),
                                            newline=""), strict=False,
                                **dialect)
            record = next(reader)
            if reader.line_num > 1:  # it closed lines later: those lines
                record = None        # are rows again
        if record is None:
            yield [lines[ended].rstrip("\r\n") if ended < len(lines)
                   else ""], OPEN_QUOTE
        else:
            yield record, None
        rest = "".join(lines[ended + 1:])


def _read(path, encodings, delimiter, quote, comment) -> Raw:
    path = Path(path)
    fast = _RETRY
    if not comment:
        fast = _read_arrow_file(path, encodings, delimiter, quote)
        if isinstance(fast, Raw):
            return fast
    data, text, warnings = _utf8(path, encodings)
    paired = not quote or quotes_paired(data)
    if not comment and fast is _RETRY and paired:
        fast = _read_arrow(path.name, data, text, delimiter, quote, warnings)
        if fast is not None:
            return fast
    if text is None:
        text = data.decode("ascii")
    del data
    notes: dict[int, str] = {}
    if not paired:  # a quote left open: its row alone is rejected
        records = []
        for record, note in csv_records(text, delimiter=delimiter,
                                           quote=quote):
            if note:
                notes[len(records)] = note
            records.append(record)
    else:  # the csv module's lenient reading, as before
        try:
            reader = csv.reader(io.StringIO(text, newline=""),
                                delimiter=delimiter, quotechar=quote or None,
                                strict=False, quoting=csv.QUOTE_MINIMAL
                                if quote else csv.QUOTE_NONE)
            records = list(reader)
        except csv.Error as exc:
            raise FileError(f"{path.name}: cannot read as delimited text: "
                            f"{exc}") from exc
    return from_records(path.name, records, warnings, comment=comment,
                        notes=notes)


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
    if quote and not quotes_paired(np.memmap(path, dtype=np.uint8,
                                             mode="r")):
        return _RETRY  # a quote left open: pyarrow reads it to the end
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
            value_bytes(c).max(initial=0) < 0x80 for c in raw.cells):
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
    # a file is read in blocks, not memory-mapped: the mapped pages of a
    # 743 MB export counted in the load's peak memory beside the cells
    with (pa.OSFile(str(data)) if isinstance(data, Path)
          else pa.BufferReader(pa.py_buffer(data))) as source:
        table = parse_csv(source, width, delimiter=delimiter, quote=quote,
                          block_size=16 << 20)
    if table is None or table.num_rows == 0:
        return None
    # each column made one array, its parsed blocks let go before the next
    # is copied: the cells are in memory once, not twice (a 743 MB export
    # peaked at 1.8 GB with every column copied before any was let go)
    cells = []
    for _ in range(width):
        cells.append(table.column(0).combine_chunks())
        table = table.remove_column(0)
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
    # the raw records are built when asked for (Raw.record_array, or
    # Raw.records for the rows a load rejects)
    return Raw(name, header, cells, numbers, None, [None] * len(numbers),
               warnings)


def parse_csv(source, width: int, *, delimiter: str = ",", quote: str = '"',
              skip_rows: int = 0, block_size: int | None = None,
              repeating: Collection[int] = ()):
    """pyarrow's multi-threaded parser, every field as text (never null):
    a table of `width` columns f0, f1, ..., or None when a row has another
    field count (a blank line included) or pyarrow refuses the file, for the
    csv module to read it and name the row. Quoted fields may hold newlines.
    The columns at the `repeating` positions (few distinct values: codes,
    flags, the ids and groups rows share) are dictionary-encoded, each
    distinct text held once: at a million changes 14 such columns took
    about 160 MB as plain text.
    """
    names = [f"f{i}" for i in range(width)]
    kept = set(repeating)
    read = pacsv.ReadOptions(column_names=names, skip_rows=skip_rows)
    if block_size:
        read.block_size = block_size
    try:
        return pacsv.read_csv(
            source, read_options=read,
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char=quote or False,
                double_quote=True, newlines_in_values=True,
                ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={
                    name: pa.dictionary(pa.int32(), pa.string())
                    if i in kept else pa.string()
                    for i, name in enumerate(names)},
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError, OSError):
        return None


def from_records(name: str, records: list[list[str]], warnings: list[str],
                 *, comment: str | None = None, first_row: int = 1,
                 notes: dict[int, str] | None = None) -> Raw:
    """A `Raw` from rows of text cells, the first non-blank one the header;
    `notes`: why the record at an index is a bad row (csv_records)."""
    notes = notes or {}
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
        shape = notes.get(index)
        if shape is None and len(row) != width:
            if len(row) > width and not any(c.strip() for c in row[width:]):
                row = row[:width]
            else:
                shape = f"{many(len(row), 'field')}, header has {width}"
        rows.append(row)
        numbers.append(first_row + index)
        bad.append(shape)
    padded = [r if len(r) == width else (r + [""] * width)[:width] for r in rows]
    columns = list(zip(*padded, strict=True)) if padded else [() for _ in header]
    cells = [pa.array(list(c), type=pa.string()) for c in columns]
    raw_record = _raw_records(header, cells)
    for i, (row, shape) in enumerate(zip(rows, bad, strict=True)):
        if shape == OPEN_QUOTE:  # its line, not read as cells
            raw_record[i] = json.dumps({"_text": row[0]}, ensure_ascii=False)
        elif shape:
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

    return pa.chunked_array(parallel(join, slices), type=pa.string())


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def value_bytes(column) -> np.ndarray:
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
    raw = value_bytes(column)
    if not len(raw):
        return "empty"
    if raw.min() < 0x20:
        return "escape"
    data = raw.tobytes()
    return "escape" if b'"' in data or b"\\" in data else "plain"


_THREADS = max(1, min(4, os.cpu_count() or 1))
_JOIN_ROWS = 1 << 16


def parallel(fn, items) -> list:
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
    return _as_table(from_records(f"{path.name}[{chosen}]", records,
                                  warnings))


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
