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
import io
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import FileError

ENCODINGS = ("utf-8", "windows-1252")
TRUE_VALUES = ("true", "1", "yes", "y")
FALSE_VALUES = ("false", "0", "no", "n")
BOOKKEEPING = ("row_number", "raw_record", "_reject", "_reject_column",
               "_reject_value")
SCHEMA = Path(__file__).resolve().parents[1] / "changeboard" / "schema.sql"
LINEAGE = ("source", "ingested_batch_id")


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
        trimmed = pc.utf8_trim_whitespace(self.cells[position])
        trimmed = pc.if_else(pc.equal(trimmed, ""), None, trimmed)
        return pd.Series(_objects(trimmed), dtype=object)


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
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FileError(f"{Path(path).name}: cannot read: {exc}") from exc
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
            raise FileError(f"{Path(path).name}: unknown encoding "
                            f"{encoding!r}") from exc
        warnings = []
        if number:
            warnings.append(f"{Path(path).name}: not {', '.join(encodings[:number])}"
                            f"; read as {encoding}")
        return text, encoding, warnings
    raise FileError(f"{Path(path).name}: undecodable in every listed encoding: "
                    + "; ".join(failures))


def read_delimited(path, *, encodings=ENCODINGS, delimiter: str = ",",
                   quote: str = '"', comment: str | None = None) -> Raw:
    """Read a delimited text file; the header is row 1 and is kept as a list.

    Blank and comment lines are skipped but counted, so row numbers are those
    a spreadsheet shows. A row with another field count than the header gets
    `bad_row_shape` (extra empty trailing fields are tolerated). Regular
    files take pyarrow's parser; anything unusual the csv module's.
    """
    path = Path(path)
    text, _, warnings = decode(path, encodings)
    if not comment:
        fast = _read_arrow(path.name, text, delimiter, quote, warnings)
        if fast is not None:
            return fast
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


def _read_arrow(name: str, text: str, delimiter: str, quote: str,
                warnings: list[str]) -> Raw | None:
    """pyarrow's reader for files whose every row has the header's field
    count and no blank line; None (use the csv module) otherwise."""
    try:
        first = next(csv.reader(io.StringIO(text, newline=""),
                                delimiter=delimiter, quotechar=quote or None,
                                quoting=csv.QUOTE_MINIMAL if quote
                                else csv.QUOTE_NONE), None)
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
            io.BytesIO(text.encode("utf-8")),
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
    header = [c[0].as_py().strip() for c in cells]
    cells = [c.slice(1) for c in cells]
    count = table.num_rows - 1
    blank = pc.equal(pc.utf8_trim_whitespace(cells[0]), "")
    for column in cells[1:]:
        if not pc.any(blank).as_py():
            break
        blank = pc.and_(blank, pc.equal(pc.utf8_trim_whitespace(column), ""))
    numbers = list(range(2, count + 2))
    if count and pc.any(blank).as_py():
        keep = pc.invert(blank)
        cells = [c.filter(keep) for c in cells]
        numbers = [n for n, b in zip(numbers, blank.to_pylist(), strict=True)
                   if not b]
    if not numbers:
        warnings.append(f"{name}: header only, no data rows")
    return Raw(name, header, cells, numbers, _raw_records(header, cells),
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
    if not cells or len(cells[0]) == 0:
        return []
    groups: dict[str, list[int]] = {}
    for position, key in enumerate(header):
        groups.setdefault(key, []).append(position)
    parts: list = []
    for number, (key, positions) in enumerate(groups.items()):
        parts.append(("{" if not number else ", ") + _json(key) + ": "
                     + ("[" if len(positions) > 1 else ""))
        for k, position in enumerate(positions):
            if k:
                parts.append(", ")
            parts.append(_json_column(cells[position]))
        if len(positions) > 1:
            parts.append("]")
    parts.append("}")
    joined = pc.binary_join_element_wise(*parts, "")
    return joined.to_pylist()


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _json_column(column):
    """JSON string literals of a column of text, vectorised: a column with no
    quote, backslash or control character only gains quotes."""
    data = column.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(
        0, dtype=np.uint8)
    if not len(raw) or (raw.min() >= 0x20 and not (raw == ord('"')).any()
                        and not (raw == ord("\\")).any()):
        return pc.binary_join_element_wise('"', column, '"', "")
    return pa.array([_json(v) for v in column.to_pylist()], pa.string())


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
        records = [[_cell_text(v, date_format) for v in row]
                   for row in book[chosen].iter_rows(values_only=True)]
    finally:
        book.close()
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
    # empty cells right of the header are the sheet's used range, not fields
    header = next((r for r in records if any(c.strip() for c in r)), None)
    if header is not None:
        width = max(i + 1 for i, c in enumerate(header) if c.strip())
        records = [r[:width] if not any(c.strip() for c in r[width:]) else r
                   for r in records]
    return from_records(f"{path.name}[{chosen}]", records, warnings)


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

    return _by_unique(values, one)


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
    yes = {_key(v) for v in true_values}
    no = {_key(v) for v in false_values}
    return _by_unique(values, lambda v: "true" if _key(v) in yes else (
        "false" if _key(v) in no else v))


def leading_integer(values: pd.Series) -> pd.Series:
    """`3 - Moderate` -> `3`, `3.0` -> `3`; no leading integer: as found."""
    def one(value):
        found = re.match(r"\s*(\d+)(?:\.0*)?(?:\s*-.*)?\s*$", value)
        return found.group(1) if found else value
    return _by_unique(values, one)


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
        try:
            first = index.tz_localize(timezone, ambiguous=np.ones(len(index),
                                                                  dtype=bool),
                                      nonexistent="NaT")
        except Exception as exc:  # unknown zone name
            raise FileError(f"unknown time zone {timezone!r}: {exc}") from exc
        strict = index.tz_localize(timezone, ambiguous="NaT",
                                   nonexistent="NaT")
        ambiguous = np.asarray(strict.isna() & first.notna())
        ambiguous_count = int(ambiguous.sum())
        examples = list(dict.fromkeys(values[ambiguous]))[:3]
        utc = first.tz_convert("UTC").tz_localize(None)
    else:
        utc = index
    stamps = np.asarray(utc, dtype="datetime64[s]")
    ok = ~np.isnat(stamps)
    if not ok.any():
        return Parsed(values, local, ambiguous_count, examples)
    # cast + T + Z: several times faster than pyarrow's or numpy's strftime
    iso = pa.array(stamps, type=pa.timestamp("s")).cast(pa.string())
    iso = pc.binary_join_element_wise(pc.replace_substring(iso, " ", "T"),
                                      "Z", "").to_numpy(zero_copy_only=False)
    text = pd.Series(np.where(ok, iso, values.to_numpy()), index=values.index,
                     dtype=object)
    return Parsed(text, local, ambiguous_count, examples)


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


def dst_warning(name: str, column: str, parsed: Parsed, timezone: str) -> list[str]:
    if not parsed.ambiguous:
        return []
    return [f"{name}: column {column}: {parsed.ambiguous} times in the repeated "
            f"autumn hour of {timezone} read as the first occurrence "
            f"(e.g. {', '.join(parsed.examples)})"]


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
