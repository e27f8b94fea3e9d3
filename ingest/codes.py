"""Recoding source values: declared value maps, true/false words, leading
integers and id prefixes, on pyarrow string arrays (trimmed, null for empty).

Each rule runs once per distinct value. A value no rule reads stays as
found, so the loader rejects it and shows it (docs/sources.md section 8).
"""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from . import schema

TRUE_VALUES = ("true", "1", "yes", "y")
FALSE_VALUES = ("false", "0", "no", "n")


def key(value: str) -> str:
    """A source value as compared: trimmed, case-insensitive."""
    return value.strip().casefold()


def as_code(value: str) -> str:
    """A value written as a code: lowercase, spaces and hyphens -> `_`."""
    return re.sub(r"[\s-]+", "_", value.strip().lower())


def allowed(table: str, column: str) -> tuple[str, ...]:
    """The codes a canonical column allows (changeboard/schema.sql)."""
    return tuple(schema.describe(table).codes.get(column, ()))


def by_unique(values: pa.Array, fn) -> pa.Array:
    """fn (text -> text or None) applied once per distinct non-null value;
    null stays null."""
    encoded = pc.dictionary_encode(values)
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()],
                      type=pa.string())
    return pc.take(mapped, encoded.indices)


def recode(values: pa.Array, mapping: dict[str, str | None], *,
           match: str = "exact", codes=None) -> pa.Array:
    """Map source values to codes: trimmed, case-insensitive, `exact` or by
    `prefix` (first declared key that starts the value). A value no key
    matches becomes its code when, written as a code (lowercase, spaces and
    hyphens -> `_`), it is one of `codes`; otherwise it stays as found so the
    loader rejects it and shows it."""
    table = {key(k): v for k, v in mapping.items()}
    known = set(codes or ())

    def one(value):
        found = key(value)
        if found in table:
            return table[found]
        if match == "prefix":
            for prefix, code in table.items():
                if found.startswith(prefix):
                    return code
        code = as_code(value)
        return code if code in known else value

    return by_unique(values, one)


def booleans(values: pa.Array, true_values=TRUE_VALUES,
             false_values=FALSE_VALUES) -> pa.Array:
    """`true`/`false`; anything else stays as found."""
    yes = {key(v) for v in true_values}
    no = {key(v) for v in false_values}
    return by_unique(values, lambda v: "true" if key(v) in yes else (
        "false" if key(v) in no else v))


def leading_integer(values: pa.Array) -> pa.Array:
    """`3 - Moderate` -> `3`, `3.0` -> `3`; no leading integer: as found."""
    def one(value):
        found = re.match(r"\s*(\d+)(?:\.0*)?(?:\s*-.*)?\s*$", value)
        return found.group(1) if found else value

    return by_unique(values, one)


def prefix_ids(values: pa.Array, prefix: str | None) -> pa.Array:
    """Ids with a source's prefix (a second instance); null stays null."""
    if not prefix:
        return values
    return pc.binary_join_element_wise(prefix, values, "")
