"""Exports of query results: CSV and XLSX bytes safe to open in a spreadsheet."""
from __future__ import annotations

import io

import pandas as pd

# a spreadsheet executes a cell starting with one of these (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells a spreadsheet would run as a formula with a quote."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(
                safe[column]):
            safe[column] = safe[column].map(
                lambda v: "'" + v if isinstance(v, str)
                and v.startswith(FORMULA_START) else v)
    return safe


def _naive_utc(frame: pd.DataFrame) -> pd.DataFrame:
    """XLSX has no time zones: instants are written as UTC wall time."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return neutralise(frame).to_csv(index=False).encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    buffer = io.BytesIO()
    # belt and braces: XlsxWriter would otherwise turn "=..." text into formulas
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        engine_kwargs={"options": options}) as writer:
        _naive_utc(neutralise(frame)).to_excel(
            writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet keeps types and time zones; no spreadsheet runs its cells."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
