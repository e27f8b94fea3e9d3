"""CSV and XLSX exports equal the table shown and never run as formulas."""
import io

import pandas as pd
import pytest

import reports


@pytest.fixture
def frame():
    return pd.DataFrame({
        "change_id": ["CHG1", "CHG2", "CHG3", "CHG4"],
        "title": ["=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1:A9)",
                  "-1+2", "Patch & reboot <b>"],
        "n": [1, 2, 3, 4],
        "rate": [0.5, None, 1.0, 0.25],
        "closed_at": pd.to_datetime(
            ["2026-01-01 10:00Z", "2026-01-02 11:30Z", None,
             "2026-01-04 00:00Z"], utc=True),
    })


@pytest.mark.parametrize("text, safe", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"),
])
def test_cells_a_spreadsheet_would_execute_are_quoted(text, safe):
    assert reports.neutralise(pd.DataFrame({"t": [text]}))["t"][0] == safe


def test_numbers_are_never_quoted(frame):
    out = reports.neutralise(pd.DataFrame({"delta": [-1.5, 2.0]}))
    assert out["delta"].tolist() == [-1.5, 2.0]


def test_csv_export_has_the_rows_and_columns_shown(frame):
    back = pd.read_csv(io.BytesIO(reports.csv_bytes(frame)))
    assert back.columns.tolist() == frame.columns.tolist()
    assert back["change_id"].tolist() == frame["change_id"].tolist()
    assert back["n"].tolist() == [1, 2, 3, 4]
    assert back["title"].tolist()[:2] == ["'=HYPERLINK(\"http://x\",\"y\")",
                                          "'@SUM(A1:A9)"]
    assert back["title"][3] == "Patch & reboot <b>"


def test_xlsx_export_has_the_rows_and_columns_shown(frame):
    back = pd.read_excel(io.BytesIO(reports.xlsx_bytes(frame)))
    assert back.columns.tolist() == frame.columns.tolist()
    assert back["n"].tolist() == [1, 2, 3, 4]
    assert back["rate"].isna().tolist() == [False, True, False, False]
    assert back["title"][0].startswith("'=")
    assert back["closed_at"][0] == pd.Timestamp("2026-01-01 10:00")


def test_xlsx_cells_are_text_not_formulas(frame):
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(reports.xlsx_bytes(frame))).active
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].value.startswith("'=")


def test_parquet_export_keeps_rows_types_and_time_zones(frame):
    back = pd.read_parquet(io.BytesIO(reports.parquet_bytes(frame)))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert str(back["closed_at"].dt.tz) == "UTC"


def test_large_tables_also_offer_parquet(sample_db, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from changeboard import config, ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    script = Path(__file__).with_name("data") / "table_app.py"
    app = AppTest.from_file(str(script), default_timeout=60)
    app.session_state["rows"] = ui.PARQUET_ROWS
    app.run()
    assert not app.exception
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["CSV", "XLSX", "Parquet"]
    app.session_state["rows"] = 10
    app.run()
    assert [b.label for b in app.get("download_button")] == ["CSV", "XLSX"]


def test_columns_get_human_labels():
    from changeboard import ui
    assert ui.human("n_failed") == "Failed (n)"
    assert ui.human("table_name") == "Table name"
    assert ui.human("n") == "n"
    assert ui.human("Release") == "Release"
