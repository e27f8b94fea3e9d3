"""The pack as a workbook: one sheet per section (tables.sections)."""
from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

import reports
from reports.cab.pack import Pack
from reports.cab.provenance import version_time
from reports.cab.tables import sections
from reports.text import as_text

# the creation date an XLSX records when the pack names no file version
# (fixed, so the same pack is the same bytes)
XLSX_EPOCH = datetime(2000, 1, 1)


def to_xlsx(pack: Pack) -> bytes:
    """One sheet per section; text a spreadsheet would run is neutralised.
    The workbook's creation date is the data version's publish time, never
    the clock: the same pack is the same bytes."""
    made = version_time(pack)
    return write_xlsx(sections(pack),
                      XLSX_EPOCH if made is None else made.replace(tzinfo=None))


def write_xlsx(sheets: dict[str, pd.DataFrame],
               created: datetime = XLSX_EPOCH) -> bytes:
    """A workbook of these sheets, columns sized, formulas neutralised,
    recording `created` as its creation date (never the clock)."""
    buffer = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        engine_kwargs={"options": options}) as writer:
        writer.book.set_properties({"created": created})
        for name, frame in sheets.items():
            _fitted(reports.neutralise(frame)).to_excel(
                writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for i, column in enumerate(frame.columns):
                longest = max([len(str(column)),
                               *(len(as_text(v)) for v in frame[column])])
                sheet.set_column(i, i, min(60, longest + 2))
    return buffer.getvalue()


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
