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
            reports.neutralise(frame).to_excel(
                writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for i, column in enumerate(frame.columns):
                longest = max([len(str(column)),
                               *(len(as_text(v)) for v in frame[column])])
                sheet.set_column(i, i, min(60, longest + 2))
    return buffer.getvalue()
