"""Instants and dates: source-local text in strptime formats and an IANA
time zone -> ISO-8601 UTC text (`2024-03-12T15:15:00Z`) or `YYYY-MM-DD`, on
pyarrow string arrays (trimmed, null for empty).

A value the first format writes plainly (`%Y-%m-%d %H:%M:%S` and the like)
is parsed by pyarrow and kept when it prints back as the same text; every
other value goes through pandas' strptime, formats tried in order. A value
no format reads, or one in a spring-forward gap, stays as found (the loader
rejects it as bad_timestamp); the repeated autumn hour takes its first
occurrence and is counted for a warning.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import WARNED_ROWS, FileError
from .reading import value_bytes


@dataclass
class Parsed:
    text: pa.Array           # ISO-8601 UTC text, or the original text
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


def dst_warning(name: str, column: str, parsed: Parsed, timezone: str,
                rows=None) -> list[str]:
    """The repeated-autumn-hour warning; given the file's row numbers
    (`Raw.row_number`), it names the rows (the first WARNED_ROWS)."""
    if not parsed.ambiguous:
        return []
    where = parsed.where
    named = ""
    if rows is not None and where:
        shown = ", ".join(str(int(rows[i])) for i in where)
        more = ", …" if parsed.ambiguous > len(where) else ""
        named = f"; row{'s' if parsed.ambiguous > 1 else ''} {shown}{more}"
    return [f"{name}: column {column}: {parsed.ambiguous} times in the repeated "
            f"autumn hour of {timezone} read as the first occurrence "
            f"(e.g. {', '.join(parsed.examples)}{named})"]


def _has_time(fmt: str) -> bool:
    return any(d in fmt for d in ("%H", "%I", "%M", "%X", "%T", "%c"))


def _date_part(fmt: str) -> str:
    """A date-time format's date, for a date field the source writes in
    the same style: '%d.%m.%Y %H:%M:%S' -> '%d.%m.%Y'."""
    return re.split(r"[ T]*%[HIXTc]", fmt, maxsplit=1)[0].rstrip(" T,")


def dates(values: pa.Array, formats) -> pa.Array:
    """`YYYY-MM-DD` from ISO dates, dates written as the formats write their
    date part, or the date part of source-local instants; else as found
    (once per distinct value)."""
    encoded = pc.dictionary_encode(values)
    distinct = pd.Series(encoded.dictionary.to_pylist(), dtype=object)
    formats = [formats] if isinstance(formats, str) else list(formats)
    parts = [_date_part(f) for f in formats if _has_time(f)]
    local = parse_local(distinct, list(dict.fromkeys(
        ["%Y-%m-%d", *formats, *(p for p in parts if p)])))
    ok = local.notna()
    out = distinct.copy()
    out[ok] = local[ok].dt.strftime("%Y-%m-%d")
    mapped = pa.array(list(out.astype(object)), type=pa.string())
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


def _parse_local_array(values: pa.Array, formats) -> np.ndarray:
    """Naive datetime64[us] (NaT if unparsed): the first format by pyarrow
    where it is plain, every other value by `parse_local`."""
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
    return out


def instants(values: pa.Array, formats, timezone: str = "UTC") -> Parsed:
    """Source-local text -> ISO-8601 UTC text (`2024-03-12T15:15:00Z`).

    Unparseable values and times in a spring-forward gap stay as found (the
    loader rejects them as bad_timestamp); times in the repeated autumn hour
    take the first occurrence and are counted (with examples and positions)
    for `dst_warning`. UTC text of a pyarrow parse is built without numpy.
    """
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
                return Parsed(values)
            return Parsed(_iso(stamps, text))
    local = _parse_local_array(values, formats)
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
        return Parsed(values, ambiguous_count, examples, where)
    iso = _iso(pa.array(stamps, type=pa.timestamp("s")))
    return Parsed(pc.if_else(pa.array(ok), iso, values), ambiguous_count,
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
    data = value_bytes(text)
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
