"""The loader's hint for a file whose dates it cannot read: when every (or
nearly every) row is rejected as bad_timestamp in one column, the dates are
written in a form the source was not told about, and row-by-row rejects do
not say what to do. One warning says so, names the first reject (row,
column, value) and the way out: the `date_formats` setting of the source
(an overrides file, a mapping file), and a shipped mapping
(ingest/mappings/) that reads a file with this header and these dates.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from changeboard.words import many

from . import frames, mapping, times
from .errors import FileError

SHARE = 0.9      # of the rows checked: "nearly every row"
EXAMPLES = 20    # distinct rejected values a shipped mapping must read
EXAMPLE = ('strptime codes, e.g. date_formats = ["%d/%m/%Y %H:%M"] reads '
           "29/2/2016 01:16")
OVERRIDES = ("give the file's format as date_formats in the [source] table "
             "of an overrides file (--overrides site.toml, or the overrides "
             f"TOML on the Data page; {EXAMPLE})")
# what each source reads, and how to tell it another format (docs/sources.md)
WAYS = {
    "csv": ("canonical CSV takes ISO-8601 times only "
            "(2024-03-12T15:15:00Z)",
            "a mapping file reads other formats: give them as date_formats "
            f"in its [source] table ({EXAMPLE}) and load the file as source "
            "mapping"),
    "servicenow": ("this source reads ISO-8601 times or the format an "
                   "overrides file gives", OVERRIDES),
    "servicenow-incidents": ("this source reads ISO-8601 times or the format "
                             "an overrides file gives", OVERRIDES),
    "jira": ("this source reads ISO-8601 times or the format an overrides "
             "file gives", OVERRIDES),
    "mapping": ("the mapping reads the formats its date_formats lists",
                "give the file's format as date_formats in the mapping's "
                f"[source] table ({EXAMPLE})"),
}
OTHER = ("the file's dates are not in a format this load reads",
         f"give the file's format as date_formats ({EXAMPLE}; "
         "docs/sources.md, section 7)")


def unread_dates(con, rows: int, file_name: str, batch) -> list[str]:
    """The warning, from the loader's `checked` table (rows rejected in
    this load, their column and value as written), when one column's
    bad_timestamp rejects are SHARE of the `rows` checked or more; else
    nothing. `batch` (frames.Batch) gives the header and the source the
    file was loaded as."""
    if not rows:
        return []
    found = con.execute(
        "select column_name, count(*) as n, arg_min(value, row_number), "
        "min(row_number) from checked where reason = 'bad_timestamp' and "
        "column_name is not null group by column_name "
        "order by n desc, column_name limit 1").fetchall()
    if not found or found[0][1] < SHARE * rows:
        return []
    column, n, value, row = found[0]
    examples = [v for (v,) in con.execute(
        "select distinct value from checked where reason = 'bad_timestamp' "
        "and column_name = $c and value is not null limit $n",
        {"c": column, "n": EXAMPLES}).fetchall()]
    reads, way = WAYS.get(batch.reader or "", OTHER)
    if n == rows:
        counted = ("its one row was" if rows == 1 else
                   f"all {rows:,} rows were")
    else:
        counted = f"{many(n, 'row')} of {rows:,} were"
    read = frames.headers_read(batch.written).get(column)
    text = (f"{file_name}: {counted} rejected as bad_timestamp in {column}"
            + (f" (the file's {read})" if read else "")
            + f" (the first, row {row}: {value!r}): {reads}.")
    names = fitting(batch.header, examples, column)
    if names:
        name = Path(file_name).name
        text += (" The shipped mapping " + " or ".join(names)
                 + " reads a file with this header and these dates: "
                 f"changeboard load mapping {name} --mapping {names[0]} "
                 "(on the Data page: the source \"Any export, described by "
                 f"a mapping\" and the mapping {names[0]}). "
                 f"Otherwise, {way}.")
    else:
        text += f" To read these dates, {way}."
    return [text]


def fitting(header, examples: list[str], column: str) -> list[str]:
    """The shipped mappings that read every header a mapping needs from
    this header and, from the column mapped to `column`, every example
    value (its null values aside), by name."""
    if not header:
        return []
    names = []
    for name, path in mapping.shipped().items():
        try:
            spec = mapping.load(path)
        except FileError:
            continue
        if (column not in {c.name for c in spec.columns}
                or not mapping.reads_header(spec, header)):
            continue
        nulls = {v.strip().casefold() for v in spec.null_values}
        values = [v for v in examples if v.strip().casefold() not in nulls]
        if values and times.parse_local(
                pd.Series([v.strip() for v in values], dtype=object),
                spec.date_formats).notna().all():
            names.append(name)
    return names
