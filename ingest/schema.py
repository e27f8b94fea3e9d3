"""What the loader checks, read once from changeboard/schema.sql: columns and
types, required columns, keys, code lists, minimums and defaults per table."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb

from changeboard import db

from .errors import FileError, closest

# load order: referenced tables first (references may still dangle)
TABLES = (
    "applications", "environments", "blackout_windows", "releases",
    "release_phases", "changes", "deployments", "environment_bookings",
    "incidents",
)
LINEAGE = ("source", "ingested_batch_id")
# what an adapter's frame carries beside the canonical columns: the row's
# number and input record, and the adapter's own reject of it
# (docs/adapters.md, "The frame read returns")
BOOKKEEPING = ("row_number", "raw_record", "_reject", "_reject_column",
               "_reject_value", "_reject_detail")
# tables whose end_at must be after start_at (docs/sources.md section 8)
INTERVALS = {"blackout_windows": ("start_at", "end_at"),
             "environment_bookings": ("start_at", "end_at")}
# end before start only warns on these (column pairs)
SOFT_INTERVALS = {
    "changes": (("planned_start_at", "planned_end_at"),
                ("actual_start_at", "actual_end_at")),
    "releases": (("planned_start_at", "planned_release_at"),),
    "deployments": (("started_at", "finished_at"),),
}
# docs/sources.md section 1 requires these too, where the schema lets them be NULL.
# (deployments.environment_id is not: docs/metrics.md (shared definitions) counts a deployment
# without one as unclassified, so the schema keeps it nullable.)
EXTRA_REQUIRED = {"environment_bookings": ("end_at",)}
# columns holding an IANA time zone name: checked against DuckDB's zones
# (an unknown one loaded would fail every later publish that reads it)
ZONES = {"environments": ("timezone",)}
_IN_LIST = re.compile(r"^\(*\"?(\w+)\"?\s+IN\s+\((.*)\)\)*$", re.S)
_MINIMUM = re.compile(r"^\(*\"?(\w+)\"?\s*>=\s*(-?\d+)\)*$")


@dataclass
class Table:
    name: str
    columns: dict[str, str]  # name -> DuckDB type, lineage left out
    key: list[str]
    required: list[str]  # NOT NULL or key, in column order
    codes: dict[str, list[str]] = field(default_factory=dict)
    minimums: dict[str, int] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)  # SQL text

    def kind(self, column: str) -> str:
        """text, code, instant, date, integer, boolean or number."""
        sql_type = self.columns[column]
        if column in self.codes:
            return "code"
        if sql_type.startswith("TIMESTAMP"):
            return "instant"
        if sql_type == "DATE":
            return "date"
        if sql_type in ("INTEGER", "BIGINT", "SMALLINT"):
            return "integer"
        if sql_type == "BOOLEAN":
            return "boolean"
        if sql_type in ("DOUBLE", "FLOAT") or sql_type.startswith("DECIMAL"):
            return "number"
        return "text"


def table_for(path: str | Path) -> str:
    """The canonical table a file is for: the longest table name its stem
    starts with, followed by the stem's end, `-` or `.`."""
    stem = Path(path).stem
    for table in sorted(TABLES, key=len, reverse=True):
        if stem == table or stem.startswith((table + "-", table + ".")):
            return table
    raise FileError(f"{Path(path).name}: no canonical table is named like "
                    f"this file{_header_hint(path)} (tables: "
                    f"{', '.join(TABLES)})")


def _header_hint(path) -> str:
    """For a file named after no table: the table its header row reads
    as (every key column there, most of its columns the table's), and how
    to say so; '' when none does or the file cannot be read."""
    try:
        with open(path, "rb") as handle:
            line = handle.readline(1 << 16)
    except OSError:
        return ""
    text = line.decode("utf-8", "replace").removeprefix("\ufeff").strip()
    table = reads_as(name.strip() for name in next(csv.reader([text]), []))
    return "" if table is None else _name_it(table)


def _name_it(table: str) -> str:
    return (f"; its header reads as {table}: name it {table}.csv (or "
            f"{table}-<anything>.csv), or choose the table (--table "
            f"{table}, or Table on the Data page)")


def reads_as(header) -> str | None:
    """The table a header row reads as: every key column of it there, and
    more of its columns than any other such table has; None when none, or
    two, do."""
    header = set(header)
    scored = sorted(
        ((sum(name in spec.columns for name in header), table)
         for table in TABLES
         for spec in [describe(table)]
         if spec.key and all(name in header for name in spec.key)),
        reverse=True)
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


@cache
def _catalog() -> tuple[list[tuple], list[tuple]]:
    """Every canonical table's columns and constraints, from one in-memory
    copy of the schema alone (the macros, which cost a quarter of a second
    to create, describe no table)."""
    with duckdb.connect() as con:
        con.execute(db.SCHEMA.read_text())
        columns = con.execute(
            "select table_name, column_name, data_type, is_nullable = 'NO', "
            "column_default from information_schema.columns "
            "order by table_name, ordinal_position").fetchall()
        constraints = con.execute(
            "select table_name, constraint_type, constraint_column_names, "
            "expression from duckdb_constraints()").fetchall()
    return columns, constraints


@cache
def describe(table: str) -> Table:
    """The schema facts of one canonical table (_catalog)."""
    if table not in TABLES:
        raise FileError(f"unknown canonical table {table!r} "
                        f"(tables: {', '.join(TABLES)})")
    found, constraints = _catalog()
    rows = [r[1:] for r in found if r[0] == table]
    constraints = [r[1:] for r in constraints if r[0] == table]
    columns = {n: t for n, t, _, _ in rows if n not in LINEAGE}
    key: list[str] = []
    codes: dict[str, list[str]] = {}
    minimums: dict[str, int] = {}
    for kind, names, expression in constraints:
        if kind == "PRIMARY KEY":
            key = list(names)
        elif kind == "CHECK" and expression:
            if match := _IN_LIST.match(expression.strip()):
                codes[match.group(1)] = re.findall(r"'([^']*)'",
                                                   match.group(2))
            elif match := _MINIMUM.match(expression.strip()):
                minimums[match.group(1)] = int(match.group(2))
    required = [n for n, _, not_null, _ in rows
                if n in columns and (not_null or n in key
                                     or n in EXTRA_REQUIRED.get(table, ()))]
    defaults = {n: d for n, _, _, d in rows if n in columns and d is not None}
    return Table(table, columns, key, required, codes, minimums, defaults)


def check_columns(name: str, spec: Table, columns) -> None:
    """Fail `name` (a file, or the frame read from it) on a column `spec`'s
    table does not have or a required column missing. `x_...` columns are
    the source's own (kept in raw records); lineage columns are set by the
    loader, never read."""
    columns = list(columns)
    unknown = [c for c in columns if c not in spec.columns
               and c not in LINEAGE and not str(c).startswith("x_")]
    if unknown:
        hints = [f"{c!r}{closest(c, spec.columns)}" for c in unknown]
        message = f"{name}: unknown column {', '.join(hints)} for {spec.name}"
        delimiters = [d for d in ";\t|" if any(d in c for c in columns)]
        if len(columns) == 1 and delimiters:
            # one column: not extra columns, so no word of x_ names
            raise FileError(message + f"; the header looks "
                            f"{delimiters[0]!r}-delimited: canonical CSV "
                            "uses commas")
        # a file named for another table (incidents' columns in
        # releases.csv) was told of unknown columns and 'did you mean
        # created_at?' (a data administrator's walkthrough)
        other = reads_as(columns)
        if other is not None and other != spec.name:
            raise FileError(message + _name_it(other))
        if not any("did you mean" in hint for hint in hints):
            message += f" (columns: {', '.join(spec.columns)})"
        raise FileError(message + "; name extra columns x_...")
    missing = [c for c in spec.required if c not in columns]
    if missing:
        raise FileError(f"{name}: missing required column "
                        f"{', '.join(missing)} (found: {', '.join(columns)})")
