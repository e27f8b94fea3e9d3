"""Exports of query results: CSV and XLSX bytes safe to open in a spreadsheet."""
from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd

# a spreadsheet executes a cell starting with one of these (OWASP CSV
# injection), also after leading blanks or line breaks; full-width forms too
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n",
                 "\uff1d", "\uff0b", "\uff0d", "\uff20")


def is_formula(text: str) -> bool:
    """Would a spreadsheet read this text cell as a formula?"""
    return text.startswith(FORMULA_START) or text.lstrip().startswith(
        FORMULA_START)


def safe_text(value):
    """A text value prefixed with a quote if a spreadsheet would run it."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells and headers a spreadsheet would run as a formula
    with a quote (CSV, which has no cell types; an XLSX writes them as
    text cells instead: quoted_text)."""
    safe = frame.copy()
    for column in safe.columns:
        dtype = safe[column].dtype
        if (pd.api.types.is_object_dtype(dtype)
                or pd.api.types.is_string_dtype(dtype)
                or isinstance(dtype, pd.CategoricalDtype)):
            safe[column] = safe[column].astype(object).map(safe_text)
    safe.columns = [safe_text(str(c)) if isinstance(c, str) else c
                    for c in safe.columns]
    return safe


# the zone a page's table shows its instants in, naming it in the heading
# (changeboard.ui.table: 'Closed at (UTC)'), as the "Data as of" line does
ZONE = "UTC"


def zoned(name) -> str:
    """A heading that names the zone of its instants: 'closed_at (UTC)';
    one that names it already ('Work ended (UTC)') as it is."""
    return str(name) if ZONE in str(name) else f"{name} ({ZONE})"


def _in_zone(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its instants in the pages' zone."""
    instants = [c for c in frame.columns
                if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    if not instants:
        return frame
    out = frame.copy()
    for column in instants:
        out[column] = out[column].dt.tz_convert(ZONE)
    return out


def _naive_utc(frame: pd.DataFrame) -> pd.DataFrame:
    """XLSX has no time zones: instants are written as the wall time in
    the pages' zone (UTC), which their column's heading names, as the
    table on the page does ('closed_at (UTC)')."""
    out = frame.copy()
    names = {}
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert(ZONE).dt.tz_localize(
                None)
            names[column] = zoned(column)
    return out.rename(columns=names)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """RFC 4180 CSV: CRLF line ends, so a field holding a CR or LF is quoted
    (a bare CR would otherwise start a new row in a spreadsheet). An
    instant is in the pages' zone and says so in the text itself
    ('2026-01-01 10:00:00+00:00')."""
    return neutralise(_in_zone(frame)).to_csv(index=False,
                                    lineterminator="\r\n").encode("utf-8")


XLSX_ROWS = 1_048_575  # a sheet's rows below its heading (Excel's 2**20)


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "data",
               about: list[tuple[str, str]] | None = None) -> bytes:
    """The frame as one sheet, and with `about` (label, text) a second
    sheet, "About", saying what the rows are (a page's period, filters,
    data). More rows than a sheet holds is an error: XlsxWriter would drop
    the rest without a word."""
    if len(frame) > XLSX_ROWS:
        raise ValueError(f"{len(frame):,} rows: a sheet holds at most "
                         f"{XLSX_ROWS:,} below its heading")
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {
        # each row goes to a temporary file as it is written: pandas'
        # to_excel kept every cell in memory (404,013 changes: the server
        # 539 MB -> 1.83 GB, and it stayed near there)
        "constant_memory": True,
        # belt and braces: XlsxWriter would otherwise turn "=..." text into
        # formulas, and text that reads as a link into one
        "strings_to_formulas": False, "strings_to_urls": False,
        # instants and days as pandas wrote them
        "default_date_format": "yyyy-mm-dd hh:mm:ss"})
    formats = {"heading": book.add_format({
        "bold": True, "border": 1, "align": "center", "valign": "top"}),
        "day": book.add_format({"num_format": "yyyy-mm-dd"}),
        "text": book.add_format({"quote_prefix": True})}
    formats["heading text"] = book.add_format({
        "bold": True, "border": 1, "align": "center", "valign": "top",
        "quote_prefix": True})
    try:
        data = book.add_worksheet(sheet[:31])
        # the heading as the cells are written: text, instants' zone named
        heading = [str(c) for c in _naive_utc(frame.iloc[:0]).columns]
        data.write_row(0, 0, heading, formats["heading"])
        quoted_text(data, 0, heading, formats["heading text"])
        # a slice of rows at a time: the frame is never copied whole (a
        # year's 428,887 changes: 76 -> 50 s, the process's peak +911 ->
        # +444 MB before slicing)
        for start in range(0, len(frame), XLSX_SLICE):
            _rows_into(data, start + 1, _naive_utc(
                frame.iloc[start:start + XLSX_SLICE]), formats)
        if about:
            page = book.add_worksheet("About")
            page.set_column(0, 0, 18)
            page.set_column(1, 1, 90)
            _rows_into(page, 0, pd.DataFrame(about, columns=["", "value"]),
                       formats)
    finally:
        book.close()
    return buffer.getvalue()


XLSX_SLICE = 20_000  # rows made safe and written at a time


def quoted_text(sheet, row: int, cells, quoted) -> None:
    """Write again, as quote-prefixed text (format `quoted`), the cells of
    a row just written that a spreadsheet would run as a formula if typed:
    the text shows as it is (a CSV's quote, "'+0.3 pp", showed in the
    cell) and stays text when the cell is edited. XlsxWriter writes every
    string as a text cell (strings_to_formulas off), so none runs on
    opening either way."""
    for i, value in enumerate(cells):
        if isinstance(value, str) and is_formula(value):
            sheet.write_string(row, i, value, quoted)


def _rows_into(sheet, first: int, frame: pd.DataFrame, formats) -> None:
    """The frame's rows into the sheet from row `first`, in order (constant
    memory writes rows in order): a missing value is an empty cell, a day
    (a date, not an instant) in the "day" format, as pandas wrote them,
    and text that reads as a formula in the "text" one (quoted_text)."""
    columns = [frame.iloc[:, i].astype(object)
               .where(frame.iloc[:, i].notna(), None).tolist()
               for i in range(frame.shape[1])]
    days = [i for i, values in enumerate(columns)
            if any(isinstance(v, date) and not isinstance(v, datetime)
                   for v in values)]
    texts = [i for i, values in enumerate(columns)
             if any(isinstance(v, str) and is_formula(v) for v in values)]
    for number, row in enumerate(zip(*columns, strict=True), start=first):
        sheet.write_row(number, 0, row)
        # the same row again: still the one being written
        for i in days:
            if isinstance(row[i], date) and not isinstance(row[i], datetime):
                sheet.write_datetime(number, i, row[i], formats["day"])
        if texts:
            quoted_text(sheet, number, row, formats["text"])


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet keeps types and time zones; no spreadsheet runs its cells."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
