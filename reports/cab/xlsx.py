"""The pack as a workbook: one sheet per section (tables.sections), its
instants Excel date cells in the pack's zone and its numbers numbers."""
from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

import reports
from reports.cab.pack import Pack
from reports.cab.provenance import version_time
from reports.cab.tables import NUMBER_FORMATS, sections
from reports.text import SHEET_TIME_FORMAT, as_text

# the creation date an XLSX records when the pack names no file version
# (fixed, so the same pack is the same bytes)
XLSX_EPOCH = datetime(2000, 1, 1)


def to_xlsx(pack: Pack) -> bytes:
    """One sheet per section; text a spreadsheet would run is a text cell.
    The workbook's creation date is the data version's publish time, never
    the clock: the same pack is the same bytes."""
    made = version_time(pack)
    return write_xlsx(sections(pack),
                      XLSX_EPOCH if made is None else made.replace(tzinfo=None))


def write_xlsx(sheets: dict[str, pd.DataFrame],
               created: datetime = XLSX_EPOCH) -> bytes:
    """A workbook of these sheets, columns sized, text that reads as a
    formula a quote-prefixed text cell (reports.quoted_text),
    recording `created` as its creation date (never the clock). A datetime
    is an Excel date cell shown as the pack shows an instant (the wall time
    it holds: `Wed 21 Jan 2026 20:00`); a number is a number, shown with
    its frame's attrs[NUMBER_FORMATS] for its column (one format, or one
    per row) when it has one."""
    buffer = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        datetime_format=SHEET_TIME_FORMAT,
                        engine_kwargs={"options": options}) as writer:
        writer.book.set_properties({"created": created})
        styles: dict[str, object] = {}
        quoted = {
            # text a spreadsheet would run if typed: a text cell, quoted
            "text": writer.book.add_format({"quote_prefix": True})}
        for name, frame in sheets.items():
            fitted = _fitted(frame.copy())
            fitted.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            # a heading as pandas writes it (plain), quoted
            reports.quoted_text(sheet, 0, [str(c) for c in fitted.columns],
                                quoted["text"])
            for row, cells in enumerate(fitted.itertuples(index=False),
                                        start=1):
                reports.quoted_text(sheet, row, cells, quoted["text"])
            for i, column in enumerate(frame.columns):
                longest = max([len(str(column)),
                               *(_width(v) for v in frame[column])])
                sheet.set_column(i, i, min(60, longest + 2))
            for column, formats in frame.attrs.get(NUMBER_FORMATS,
                                                   {}).items():
                _number_formats(writer.book, sheet, styles, frame, column,
                                formats)
    return buffer.getvalue()


def _width(value) -> int:
    """The characters a cell shows (a datetime as SHEET_TIME_FORMAT does)."""
    if isinstance(value, datetime):
        return len("Wed 21 Jan 2026 20:00")
    if isinstance(value, float):
        return len(f"{value:+,.1f}") + 3  # a unit: ' pp', '%'
    return len(as_text(value))


def _number_formats(book, sheet, styles: dict, frame: pd.DataFrame,
                    column: str, formats) -> None:
    """Write the numbers of a column again with their number formats (a
    cell written twice keeps the last)."""
    at = frame.columns.get_loc(column)
    if isinstance(formats, str):
        formats = [formats] * len(frame)
    for row, (value, shown) in enumerate(zip(frame[column], formats,
                                             strict=True), start=1):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or pd.isna(value):
            continue
        if shown not in styles:
            styles[shown] = book.add_format({"num_format": shown})
        sheet.write_number(row, at, value, styles[shown])


# Excel's cell holds 32,767 characters: xlsxwriter cut a longer text there
# silently (a warning on the server only)
CELL_CHARS = 32_767
CUT_MARK = " … [cut here: an Excel cell holds 32,767 characters; the HTML has it in full]"


def _fitted(frame: pd.DataFrame) -> pd.DataFrame:
    """Text longer than a cell holds, cut to fit with CUT_MARK at its end,
    so a reader sees that it goes on."""
    for column in frame.columns:
        dtype = frame[column].dtype
        if (pd.api.types.is_object_dtype(dtype)
                or pd.api.types.is_string_dtype(dtype)):
            frame[column] = frame[column].astype(object).map(
                lambda v: v[:CELL_CHARS - len(CUT_MARK)] + CUT_MARK
                if isinstance(v, str) and len(v) > CELL_CHARS else v)
    return frame
