"""CSV and XLSX exports equal the table shown and never run as formulas."""
import io
import re
from datetime import date, datetime

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # the instants' heading names their zone, as the page's table does
    assert back.columns.tolist() == [*frame.columns[:-1], "closed_at (UTC)"]
    assert back["n"].tolist() == [1, 2, 3, 4]
    assert back["rate"].isna().tolist() == [False, True, False, False]
    # text as it is, no quote added (quote-prefixed text cells)
    assert back["title"].tolist() == frame["title"].tolist()
    assert back["closed_at (UTC)"][0] == pd.Timestamp("2026-01-01 10:00")


def test_a_downloads_instants_name_the_zone_they_are_in():
    """A page's XLSX download wrote its instants as naive date-times under
    the column's bare name ('closed_at'): nothing said which zone they were
    in. Each instant column's heading now names the zone its wall times
    are in, the pages' (UTC: a table's '... (UTC)', the 'Data as of'
    line), whatever zone the frame held them in; a heading that names it
    already keeps its name. The CSV writes each instant in that zone too,
    with its offset."""
    from openpyxl import load_workbook
    frame = pd.DataFrame({
        "change_id": ["C1"],
        "planned_start_at": pd.to_datetime(["2026-07-01 12:00"]).tz_localize(
            "Europe/Amsterdam"),
        "Work ended (UTC)": pd.to_datetime(["2026-07-01 15:30Z"], utc=True),
        "day": [pd.Timestamp("2026-07-01")]})  # a day, not an instant
    sheet = load_workbook(io.BytesIO(reports.xlsx_bytes(frame))).active
    assert [c.value for c in sheet[1]] == [
        "change_id", "planned_start_at (UTC)", "Work ended (UTC)", "day"]
    assert sheet["B2"].value == datetime(2026, 7, 1, 10, 0)  # 12:00 CEST
    assert sheet["C2"].value == datetime(2026, 7, 1, 15, 30)
    text = reports.csv_bytes(frame).decode()
    assert "2026-07-01 10:00:00+00:00" in text
    assert "2026-07-01 15:30:00+00:00" in text


def test_an_xlsx_is_written_a_slice_of_rows_at_a_time(monkeypatch):
    """pandas' to_excel kept every cell in memory: a year's 404,013
    changes took the server from 539 MB to 1.83 GB, and it stayed near
    there (a walkthrough at a million changes). The rows are now made safe
    and written a slice at a time, each row to disk as it is written (no
    shared-strings table held for the file: Excel's inline strings), and
    read back as they were, across the slices: values, empty cells, days,
    instants in the pages' zone, formulas made text."""
    import zipfile
    from datetime import date

    from openpyxl import load_workbook
    monkeypatch.setattr(reports, "XLSX_SLICE", 3)
    frame = pd.DataFrame({
        "id": [f"C{i}" for i in range(10)],
        "n": pd.array([i if i % 4 else None for i in range(10)],
                      dtype="Int64"),
        "rate": [i / 10 if i % 3 else float("nan") for i in range(10)],
        "ok": [i % 2 == 0 for i in range(10)],
        "title": ["=1+1" if i == 7 else None if i == 5 else f"t{i}"
                  for i in range(10)],
        "at": pd.to_datetime([f"2026-07-0{1 + i % 9} 12:00" for i in
                              range(10)]).tz_localize("Europe/Amsterdam"),
        "day": [date(2026, 1, 1 + i) if i != 2 else None for i in range(10)],
    })
    data = reports.xlsx_bytes(frame, about=[("Period", "last 90 days")])
    assert "xl/sharedStrings.xml" not in zipfile.ZipFile(io.BytesIO(data)
                                                         ).namelist()
    book = load_workbook(io.BytesIO(data))
    sheet = book["data"]
    assert [c.value for c in sheet[1]] == [
        "id", "n", "rate", "ok", "title", "at (UTC)", "day"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 10
    for i, row in enumerate(rows):
        assert row[:5] == [
            f"C{i}", i if i % 4 else None,
            pytest.approx(i / 10) if i % 3 else None, i % 2 == 0,
            "=1+1" if i == 7 else None if i == 5 else f"t{i}"]
        assert row[5] == datetime(2026, 7, 1 + i % 9, 10, 0)  # 12:00 CEST
        assert row[6] == (None if i == 2 else datetime(2026, 1, 1 + i))
    assert sheet["G2"].number_format == "yyyy-mm-dd"
    assert sheet["F2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert [[c.value for c in row] for row in book["About"].iter_rows()] \
        == [["Period", "last 90 days"]]


def test_xlsx_cells_are_text_not_formulas(frame):
    """Text that reads as a formula is a quote-prefixed text cell: shown as
    it is, where the CSV's quote was shown too ("'+0.3 pp"), and text still
    when the cell is edited; other text is plain."""
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(reports.xlsx_bytes(frame))).active
    titles = [sheet.cell(row, 2) for row in range(2, 6)]
    assert [c.value for c in titles] == frame["title"].tolist()
    assert [c.data_type for c in titles] == ["s"] * 4
    assert [c.quotePrefix for c in titles] == [True, True, True, False]


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


def test_xlsx_says_when_it_is_slow_and_is_not_offered_past_a_sheet(
        sample_db, monkeypatch):
    """An XLSX of 345,262 rows took a minute behind a bare spinner: from
    SLOW_XLSX_ROWS its button says so. Past a sheet's 1,048,575 rows below
    its heading XlsxWriter drops the rest without a word: no XLSX then, and
    the table says why (lowered limits here)."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from changeboard import config, ui
    # Excel's 1,048,576 rows, the heading's one of them
    assert reports.XLSX_ROWS == 2 ** 20 - 1
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    monkeypatch.setattr(ui, "SLOW_XLSX_ROWS", 20)
    monkeypatch.setattr(reports, "XLSX_ROWS", 30)
    script = Path(__file__).with_name("data") / "table_app.py"
    app = AppTest.from_file(str(script), default_timeout=60)

    def buttons(rows: int) -> dict:
        app.session_state["rows"] = rows
        app.run()
        assert not app.exception
        return {b.label: b.help for b in app.get("download_button")}

    assert buttons(19) == {"CSV": "", "XLSX": ""}
    said = buttons(30)["XLSX"]
    assert said.startswith("30 rows: an XLSX this large takes a while")
    assert not [c.value for c in app.caption if "No XLSX" in c.value]
    assert list(buttons(31)) == ["CSV"]
    with pytest.raises(ValueError, match="a sheet holds at most"):
        reports.xlsx_bytes(pd.DataFrame({"n": range(reports.XLSX_ROWS + 1)}))
    assert "No XLSX: a spreadsheet holds at most 30 rows below its " \
        "heading, and these are 31." in [c.value for c in app.caption]


def test_a_table_draws_its_rows_readable_and_linked_made_once_per_content(
        sample_db, monkeypatch):
    """A table's rows are drawn as people read them (codes as words, the
    application's name beside its id, ids linking to their records), made
    once per content: a rerun drawing the same rows makes nothing again."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from changeboard import charts, config, ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    monkeypatch.setitem(config.RECORD_URLS, "change_id",
                        "https://cm.example/c/{id}")
    charts._figures.clear()
    made = []
    readable = ui.readable
    monkeypatch.setattr(ui, "readable",
                        lambda frame, labels=None: made.append(len(frame))
                        or readable(frame, labels))
    with duckdb.connect(str(sample_db), read_only=True) as con:
        name = con.execute("select name from applications where "
                           "application_id = 'APP-001'").fetchone()[0]
    script = Path(__file__).with_name("data") / "kept_table_app.py"
    app = AppTest.from_file(str(script), default_timeout=60)
    app.run()
    app.run()
    assert not app.exception
    assert made == [3]
    drawn = app.dataframe[0].value
    assert list(drawn.columns) == ["change_id", "risk", "application_name",
                                   "application_id", "n"]
    assert drawn["change_id"].tolist() == [
        "https://cm.example/c/CHG%200", "https://cm.example/c/CHG%201",
        "https://cm.example/c/CHG%202"]
    assert drawn["risk"].tolist()[:2] == ["Very high", "Low"]
    assert pd.isna(drawn["risk"].iloc[2])
    # an application the data names none for has no name beside its id
    # (it read its id twice: 'APP-404', 'APP-404'), as the downloads
    # (with_names) and the queries giving application_name leave it
    assert drawn["application_name"].tolist()[0] == name
    assert pd.isna(drawn["application_name"].iloc[1])
    assert drawn["n"].tolist() == [0, 1, 2]
    app.session_state["rows"] = 4  # other rows: made for them
    app.run()
    assert made == [3, 4]
    assert len(app.dataframe[0].value) == 4


def test_columns_get_human_labels():
    from changeboard import ui
    assert ui.human("n_failed") == "Failed (n)"
    assert ui.human("table_name") == "Table name"
    assert ui.human("n") == "n"
    assert ui.human("Release") == "Release"


CODES = ["backed_out", None, "very_high", "Already words", "backed_out", "x1"]


@pytest.mark.parametrize("column", [
    pd.Series(CODES, dtype=object, index=[5, 3, 1, 2, 0, 9]),
    pd.Series(CODES, dtype="string"),
    pd.Series(CODES, dtype="string[pyarrow]", name="risk"),
    pd.Series(CODES, dtype=pd.ArrowDtype(pa.string())),
    pd.Series(["prod", float("nan"), "uat", "dr_site"], dtype=object),
    pd.Series(["prod", "uat", "prod"], dtype=pd.ArrowDtype(pa.string())),
    pd.Series([], dtype=pd.ArrowDtype(pa.string())),
    pd.Series([], dtype=object),
    pd.Series([None, None], dtype=pd.ArrowDtype(pa.string())),
    pd.Series([None, None], dtype=object),
], ids=lambda c: f"{c.dtype}x{len(c)}")
def test_codes_are_worded_once_per_distinct_value_as_map_would(column):
    """Tables word codes and tiers once per distinct value (a rerun maps
    up to 2,000 rows a table): the same values, dtype, index and name as
    Series.map calling the function on every cell."""
    from changeboard import ui
    calls = []

    def counted(value):
        calls.append(value)
        return ui.word(value)

    worded = ui.each_distinct(column, counted)
    if column.notna().any():
        assert len(calls) == column.nunique(dropna=False)
    pd.testing.assert_series_equal(worded, column.map(ui.word))
    tiers = lambda t: ui.TIERS.get(t, t)  # noqa: E731
    pd.testing.assert_series_equal(ui.each_distinct(column, tiers),
                                   column.map(tiers))


def test_a_label_of_several_columns_is_made_once_per_distinct_row():
    from changeboard import ui
    ids = pd.Series(["A-1", None, "A-1", "A-2", None],
                    dtype=pd.ArrowDtype(pa.string()))
    names = pd.Series(["One", None, "One", None, None], dtype=object)
    every_row = [f"{n} ({i})" for i, n in zip(ids, names, strict=True)]
    calls = []

    def label(app_id, name):
        calls.append((app_id, name))
        return f"{name} ({app_id})"

    assert ui.each_distinct_row(label, ids, names) == every_row
    assert len(calls) == 3  # ("A-1", "One"), (NA, None), ("A-2", None)


# --- every cell and header, whatever the text (issue 13, item 5) -------------

def evaluated(cell: str) -> bool:
    """Would a spreadsheet run this cell? A formula starts with = + - @ (or
    a full-width form), also after blanks; a tab, CR or LF start is refused
    as OWASP advises."""
    return (cell[:1] in ("\t", "\r", "\n") or cell.lstrip()[:1]
            in ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"))


def spreadsheet_cells(data: bytes) -> list[str]:
    """The cells a spreadsheet reads from CSV bytes: a quoted field is one
    cell whatever it holds; an unquoted CR or LF ends the row."""
    import csv
    text = data.decode("utf-8")
    return [cell for row in csv.reader(io.StringIO(text, newline=""))
            for cell in row]


@pytest.mark.parametrize("text", [
    "ok\r=1+3", "ok\n=1+3", "ok\r\n@SUM(A1)", " =1+1", "\n=1", "\uff1d1+1",
])
def test_line_breaks_and_blanks_never_start_a_formula(text):
    frame = pd.DataFrame({"t": [text, "plain"], "n": [1, 2]})
    cells = spreadsheet_cells(reports.csv_bytes(frame))
    assert cells == ["t", "n", reports.neutralise(frame)["t"][0], "1",
                     "plain", "2"]
    assert not any(evaluated(c) for c in cells)


def test_headers_are_neutralised_in_csv_and_xlsx():
    from openpyxl import load_workbook
    frame = pd.DataFrame({'=HYPERLINK("http://x","y")': [1], "ok": ["-1"]})
    header = spreadsheet_cells(reports.csv_bytes(frame))[:2]
    assert header == ["'=HYPERLINK(\"http://x\",\"y\")", "ok"]
    sheet = load_workbook(io.BytesIO(reports.xlsx_bytes(frame))).active
    assert sheet["A1"].value == "=HYPERLINK(\"http://x\",\"y\")"
    assert sheet["A1"].quotePrefix and sheet["A1"].font.b
    assert sheet["B2"].value == "-1" and sheet["B2"].quotePrefix
    assert not sheet["B1"].quotePrefix


def test_a_pack_sheets_heading_that_reads_as_a_formula_is_styled_as_any(
        ):
    """The CAB pack's and minutes' sheets (reports.cab.write_xlsx): a
    heading that reads as a formula is quoted text, styled as the other
    headings (it was bold and boxed among plain ones: a review)."""
    from openpyxl import load_workbook

    from reports.cab.xlsx import write_xlsx
    sheet = load_workbook(io.BytesIO(write_xlsx({"S": pd.DataFrame(
        {"=X": ["a"], "ok": ["=1"]})})))["S"]
    quoted, plain = sheet["A1"], sheet["B1"]
    assert (quoted.value, quoted.quotePrefix) == ("=X", True)
    assert (quoted.font.b, quoted.border.left.style) == (
        plain.font.b, plain.border.left.style)
    assert (sheet["B2"].value, sheet["B2"].quotePrefix) == ("=1", True)


def test_the_queries_cli_writes_neutralised_quoted_csv(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from changeboard import db
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("""
            insert into changes (change_id, change_type, state, created_at,
                close_code, actual_end_at, title) values
            ('C1', 'normal', 'closed', '2026-01-01 00:00Z', 'successful',
             '2026-01-10 00:00Z', '=HYPERLINK("http://x","y")'),
            ('C2', 'normal', 'closed', '2026-01-01 00:00Z', 'successful',
             '2026-01-11 00:00Z', 'ok' || chr(13) || '=1+3')""")
    result = subprocess.run(
        [sys.executable, "-m", "queries", "change_records", "--db", str(path),
         "--param", "start_date=2026-01-01", "--param",
         "end_date=2026-02-01", "--format", "csv"],
        cwd=Path(__file__).resolve().parents[1], capture_output=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    cells = spreadsheet_cells(result.stdout)
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells
    assert "ok\r=1+3" in cells
    assert not any(evaluated(c) for c in cells)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text())
def test_no_csv_cell_or_header_is_ever_evaluated(header, value):
    frame = pd.DataFrame({header: [value, "x"], "other": [value, None]})
    cells = spreadsheet_cells(reports.csv_bytes(frame))
    assert not any(evaluated(c) for c in cells), cells


@settings(max_examples=40, deadline=None)
@given(st.text(), st.text())
def test_no_xlsx_cell_or_header_is_ever_evaluated(header, value):
    from openpyxl import load_workbook
    frame = pd.DataFrame({header: [value], "other": [value]})
    sheet = load_workbook(io.BytesIO(reports.xlsx_bytes(frame))).active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            # text that would run if typed is a quoted text cell
            assert cell.quotePrefix or not (isinstance(cell.value, str)
                                            and evaluated(cell.value)), \
                cell.value


def page_downloads(sample_db, monkeypatch, view: str, **state) -> dict:
    """Every download a page offers (file stem -> the frame its files
    hold), built as a click would build it, on the first three months of
    2026 of the sample."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from changeboard import config, ui
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    held = {}

    def record(frame, file_stem, *, rows=None, query=None):
        # with the application names a click adds beside ids alone
        held[file_stem] = ui.with_names(frame() if callable(frame)
                                        else frame)

    monkeypatch.setattr(ui, "downloads", record)
    root = Path(__file__).resolve().parents[1]
    app = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    app.query_params.update({"period": "custom", "from": "2026-01-01",
                             "to": "2026-03-31"})
    app.switch_page(f"views/{view}.py")
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception
    return held


QUARTER = {"start_date": "2026-01-01", "end_date": "2026-04-01"}


def test_breakdowns_by_application_name_each_application_in_their_files(
        sample_db, monkeypatch):
    """The Changes page's breakdowns by application showed 'Name (APP-001)'
    and their files the id alone (carried in the notes): each file names
    each application after its id, as the other downloads do."""
    from changeboard import db
    held = page_downloads(sample_db, monkeypatch, "changes",
                          by="Application")
    with db.connect(sample_db, read_only=True) as con:
        names = dict(con.execute(
            "select application_id, name from applications").fetchall())
    files = [stem for stem in held if stem.endswith("-by-application")]
    assert "success-rate-by-application" in files and len(files) >= 3, \
        sorted(held)
    for stem in files:
        got = held[stem]
        columns = list(got.columns)
        assert columns[columns.index("dimension_value") + 1] == \
            "application_name", stem
        assert "application_id" not in got, stem
        assert [None if pd.isna(n) else n for n in got["application_name"]] \
            == [names.get(a) for a in got["dimension_value"]], stem
        assert got["application_name"].notna().any(), stem


@pytest.mark.parametrize("view", ["backlog", "calendar"])
def test_a_download_of_ids_alone_names_their_applications(
        sample_db, monkeypatch, view):
    """The Backlog's lists and the Calendar's files held application ids
    alone where the page shows each name: a file of ids names them too
    (application_name after application_id), the sample's from its
    applications table."""
    from changeboard import db
    held = page_downloads(sample_db, monkeypatch, view)
    with db.connect(sample_db, read_only=True) as con:
        names = dict(con.execute(
            "select application_id, name from applications").fetchall())
    with_ids = {stem: got for stem, got in held.items()
                if "application_id" in got and len(got)}
    assert with_ids, sorted(held)
    for stem, got in with_ids.items():
        columns = list(got.columns)
        assert columns[columns.index("application_id") + 1] == \
            "application_name", stem
        assert [None if pd.isna(n) else n for n in got["application_name"]
                ] == [names.get(a) for a in got["application_id"]], stem
    assert any(got["application_name"].notna().any()
               for got in with_ids.values())


@pytest.mark.parametrize("view, stems, state", [
    ("changes", {"success-rate-by-change_type": "change_success_rate_by",
                 "change-success-score": "change_success_score",
                 "approval-lead-time-by-type": "approval_lead_time"}, {}),
    ("releases", {"release-cadence-by-application": "release_cadence",
                  "release-on-time-by-application":
                      "release_on_time_by_application",
                  "releases-all-releases-in-the-period": "release_records",
                  "release-timeline": "release_timeline"},
     {"release_app": "All releases in the period"}),
])
def test_page_downloads_hold_the_querys_names_ids_and_codes(
        sample_db, monkeypatch, view, stems, state):
    """The README: a table's downloads keep the column names, ids and codes
    scripts read. The summary tables of the Changes and Releases pages, and
    every Releases table, wrote their page labels instead ('Implemented
    (n)', 'Success rate', 'Application' holding 'Customer Portal
    (APP-007)'), codes as words ('Released', 'SIT') and no application id,
    so a script could not join them to `changeboard query` output. Each
    now holds the query's own columns and values, the same numbers."""
    from changeboard import db
    held = page_downloads(sample_db, monkeypatch, view, **state)
    assert set(stems) <= set(held), sorted(held)
    with db.connect(sample_db, read_only=True) as con:
        for stem, name in stems.items():
            got = held[stem].reset_index(drop=True)
            params = {"dimension": "change_type"} if name.endswith("_by") \
                else {}
            expected = db.run(con, name, **QUARTER, **params)
            assert len(got) > 0, stem
            if "application_name" in got:
                assert "application_id" in got, stem
                # the query's own, or the name a click adds beside its id
                named = con.execute(
                    "select application_id, name from applications").df()
                names = dict(zip(named["application_id"], named["name"],
                                 strict=True))
                assert [None if pd.isna(n) else n
                        for n in got["application_name"]] == [
                    names.get(a) for a in got["application_id"]], stem
                if "application_name" not in expected:
                    got = got.drop(columns="application_name")
            assert set(got.columns) <= set(expected.columns), stem
            # the page leaves out rows with nothing to count: compare the
            # rows it keeps, by their key
            key = next(c for c in ("release_id", "application_id",
                                   "assignment_group", "dimension_value",
                                   "change_type") if c in got)
            expected = expected[expected[key].isin(got[key])]
            columns = list(got.columns)
            pd.testing.assert_frame_equal(
                got.sort_values(columns).reset_index(drop=True),
                expected[columns].sort_values(columns).reset_index(
                    drop=True), check_dtype=False, obj=stem)


def test_a_pages_files_say_their_period_and_filters(sample_db, monkeypatch):
    """A manager's export of the Changes page said neither its period nor
    its filters, in its file name or anywhere in it: the file names carry
    the period's days, and the XLSX has an About sheet saying the page,
    period, filters and data, as the page says them."""
    from pathlib import Path

    import openpyxl
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.testing.v1 import AppTest

    from changeboard import config
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    offered = []

    def button(self, label, data, file_name, *args, **kwargs):
        offered.append((label, file_name, data))
    monkeypatch.setattr(DeltaGenerator, "download_button", button)
    root = Path(__file__).resolve().parents[1]
    app = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    app.query_params.update({"period": "custom", "from": "2026-01-01",
                             "to": "2026-03-31",
                             "teams": "Payments Platform"})
    app.switch_page("views/changes.py")
    app.run()
    assert not app.exception
    names = {name for _, name, _ in offered}
    # filtered: not the unfiltered file's name, which it would replace
    assert "success-rate-by-change_type-2026-01-01-to-2026-03-31-filtered.csv" \
        in names
    data = next(d for label, name, d in offered if name == "success-rate-by-"
                "change_type-2026-01-01-to-2026-03-31-filtered.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data()))
    assert book.sheetnames == ["data", "About"]
    about = {row[0]: row[1] for row in book["About"].iter_rows(
        values_only=True)}
    assert about["Changeboard page"] == "Changes"
    assert about["Table"] == "success-rate-by-change_type"
    assert about["Period"] == ("01 Jan 2026 – 31 Mar 2026 (90 days, dates in "
                               f"{config.REPORTING_TZ})")
    assert about["Filters"] == "Team: Payments Platform"
    assert about["Data"].startswith("the live data, last loaded successfully ")
    assert about["Rows"] == f"{book['data'].max_row - 1:,}"


def test_records_a_filter_does_not_cut_say_so_in_their_files(sample_db,
                                                              monkeypatch):
    """Overview, Team and Application set, Deployments per day's records:
    the page said 'not filtered by team', but the XLSX's About sheet read
    'Filters: Application: ...; Team: ...', as if the deployments were cut
    to one team. The file names the filters its rows were cut by, and says
    the ones they were not; the change records, which take both, name
    both."""
    from pathlib import Path

    import openpyxl
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.testing.v1 import AppTest

    from changeboard import config, db
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    offered = []
    root = Path(__file__).resolve().parents[1]

    def button(self, label, data, file_name, *args, **kwargs):
        offered.append((label, file_name, data))
    monkeypatch.setattr(DeltaGenerator, "download_button", button)
    with db.reading(sample_db) as con:
        # the application deployed most in the year, and its busiest team
        team, app_id = con.execute(
            "select c.assignment_group, c.application_id from changes as c "
            "where c.assignment_group is not null and c.application_id = ("
            "select application_id from deployments where finished_at >= "
            "now() - interval 300 day group by all order by count(*) desc "
            "limit 1) group by all order by count(*) desc limit 1"
        ).fetchone()

    def about(drill: str) -> dict:
        offered.clear()
        app = AppTest.from_file(str(root / "app.py"), default_timeout=120)
        app.query_params.update({"period": "last_365", "teams": team,
                                 "application_ids": app_id, "drill": drill})
        app.run()
        assert not app.exception
        said = [c.value for c in app.caption if c.value.startswith("n = ")]
        # the drill's file: not the cards' or the trend chart's above it
        name, data = next(((n, d) for label, n, d in offered
                           if label == "XLSX" and not n.startswith(
                               ("change-outcomes-per-", "overview-cards"))),
                          (None, said))
        assert name, data
        return name, {row[0]: row[1] for row in openpyxl.load_workbook(
            io.BytesIO(data()))["About"].iter_rows(values_only=True)}

    name, deployments = about("Deployments per day")
    assert deployments["Filters"].startswith("Application: ")
    assert "Team" not in deployments["Filters"]
    assert deployments["Not filtered by"] == (
        "team (the sidebar's, which these rows do not carry)")
    assert name.endswith("-filtered.xlsx")  # cut by the application
    _, changes = about("Change success rate")
    assert f"Team: {team}" in changes["Filters"]
    assert "Not filtered by" not in changes


QUERY_NAMES = "as `changeboard query` names them"
PAGE_WORDS = "as the page shows them"


@pytest.mark.parametrize("view, said, columns", [
    ("backlog", "none: the changes open at the data's as-of time, ",
     QUERY_NAMES),
    ("cab", "the meeting of ", PAGE_WORDS),
    ("calendar", "the month shown: 01 ", QUERY_NAMES),
    ("data", "none: every load recorded, whatever its date", QUERY_NAMES),
    ("readiness", "releases going live in the 28 days from ", QUERY_NAMES),
])
def test_a_page_with_its_own_dates_says_them_in_its_xlsx(
        sample_db, monkeypatch, view, said, columns):
    """The About sheet of a page without the sidebar's period read "the
    page's own dates (see its heading)": the file has no heading. It says
    the dates the page covers. Its Columns line said every table's columns
    were named as `changeboard query` names them, ids and codes as stored,
    where the CAB page's tables are written as the page shows them."""
    from pathlib import Path

    import openpyxl
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.testing.v1 import AppTest

    from changeboard import config
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    offered = []

    def button(self, label, data, file_name, *args, **kwargs):
        offered.append((file_name, data))
    monkeypatch.setattr(DeltaGenerator, "download_button", button)
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1]
                                 / "app.py"), default_timeout=120)
    app.switch_page(f"views/{view}.py").run()
    assert not app.exception
    # a table's XLSX (the CAB pack's own files have no About sheet)
    data = next(d for name, d in offered if name.endswith(".xlsx")
                and not re.fullmatch(r"cab-(pack|minutes)-[\d-]+\.xlsx",
                                     name))
    about = dict(openpyxl.load_workbook(io.BytesIO(data()))[
        "About"].iter_rows(values_only=True))
    assert about["Period"].startswith(said), about["Period"]
    assert about["Columns"].startswith(columns), about["Columns"]


def _environments_offering(sample_db, monkeypatch, **params):
    """The Environments page run on the sample with these address
    parameters, and the (file name, data) of every download it offered."""
    return _offering(sample_db, monkeypatch, "environments", **params)


def _offering(sample_db, monkeypatch, page, **params):
    """A page (views/<page>.py) run on the sample with these address
    parameters, and the (file name, data) of every download it offered."""
    from pathlib import Path

    from streamlit.delta_generator import DeltaGenerator
    from streamlit.testing.v1 import AppTest

    from changeboard import config
    monkeypatch.setattr(config, "DB_PATH", sample_db)
    offered = []

    def button(self, label, data, file_name, *args, **kwargs):
        offered.append((file_name, data))
    monkeypatch.setattr(DeltaGenerator, "download_button", button)
    root = Path(__file__).resolve().parents[1]
    app = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    app.query_params.update(params)
    app.switch_page(f"views/{page}.py")
    app.run()
    assert not app.exception
    return app, offered


def test_a_table_of_other_dates_than_the_sidebars_names_its_own(
        sample_db, monkeypatch):
    """The impact matrix covers its go-live dates, not the sidebar's
    period, but its files were named and described with the sidebar's;
    the About sheet's filters said codes (Environment tier: prod) where the
    sidebar says Production."""
    import openpyxl

    app, offered = _environments_offering(
        sample_db, monkeypatch, period="last_30", tiers="prod",
        view="Impact matrix")
    matrix = [(name, data) for name, data in offered
              if name.startswith("environment_impact_matrix")]
    assert matrix, [name for name, _ in offered]
    name, data = next((n, d) for n, d in matrix if n.endswith(".xlsx"))
    picked = app.date_input(key="go_live").value
    assert name.endswith(f"-{picked[0]}-to-{picked[1]}-filtered.xlsx"), \
        (name, picked)
    about = {row[0]: row[1] for row in openpyxl.load_workbook(io.BytesIO(
        data()))["About"].iter_rows(values_only=True)}
    assert about["Period"].startswith(f"{picked[0]:%d %b %Y} – ")
    assert about["Filters"] == "Environment tier: Production"


@pytest.mark.parametrize("columns, key, stem", [
    ("Environments", "environment_id", "environment_impact_matrix-2"),
    ("Groups", "environment_group", "environment_impact_matrix-by-group-")])
def test_the_impact_matrix_downloads_ids_and_instants_scripts_join_on(
        sample_db, monkeypatch, columns, key, stem):
    """The matrix's files were the grid as drawn: no release_id (its name
    alone), the go-live as text ('09 Dec 2026') and a column per
    environment named 'Risk & Data / MDF-PRD'; the About sheet said
    'as the page shows them'. They hold the matrix's page in long form,
    as its query names it: a release's and application's ids, go_live_at
    an instant (ISO with its offset in the CSV, a date cell under a
    heading naming UTC in the XLSX), the environment's id (or the group)
    and the cell's status code; every release of the page is there."""
    import openpyxl

    from changeboard import db
    app, offered = _environments_offering(
        sample_db, monkeypatch, view="Impact matrix", matrix_columns=columns)
    # each pick's files named apart: by group they hold other columns
    # (both picks' were environment_impact_matrix-<dates>.csv)
    matrix = [n for n, _ in offered if n.startswith("environment_impact")]
    assert matrix and all(n.startswith(stem) for n in matrix), matrix
    files = {name.rsplit(".", 1)[1]: data for name, data in offered
             if name.startswith(stem)}
    rows = pd.read_csv(io.BytesIO(files["csv"]()))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c in rows.columns)
    assert {"release_id", "application_id", "go_live_at", key,
            "cell_status", "total_releases"} <= set(rows.columns)
    assert rows["go_live_at"].str.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00").all()
    assert set(rows["cell_status"].dropna()) <= {
        "approved", "pending", "rejected"}
    # the page's releases, each joinable to the releases loaded
    grid = next(d.value for d in app.dataframe
                if "Total Releases" in d.value.index.get_level_values(0))
    shown = list(dict.fromkeys(grid.index.get_level_values(0)[1:]))
    assert list(dict.fromkeys(rows["release_name"])) == shown
    with db.reading(sample_db) as con:
        loaded = {r for (r,) in con.execute(
            "select release_id from releases").fetchall()}
    assert set(rows["release_id"]) <= loaded
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]()))
    sheet = list(book["data"].iter_rows(values_only=True))
    heading = list(sheet[0])
    assert "go_live_at (UTC)" in heading and "release_id" in heading
    at = heading.index("go_live_at (UTC)")
    assert all(isinstance(row[at], datetime) for row in sheet[1:])
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["Columns"].startswith(QUERY_NAMES), about["Columns"]
    assert about["Rows"] == f"{len(rows):,}"


def test_a_short_text_column_shows_its_longest_value_whole():
    """Streamlit sized a column by its first rows: the backlog's State
    read 'Authoriz' below rows of 'Assess', a drill's application 'AML
    Transaction Monitoring' without its 'FR'. A column of short texts (up
    to 32 characters) is as wide as its longest value and heading; a
    column of sentences keeps Streamlit's width."""
    import json

    from streamlit.testing.v1 import AppTest

    def page():
        import pandas as pd

        from changeboard import ui
        ui.table(pd.DataFrame({
            "state": ["assess"] * 30 + ["authorize"],
            "team": ["Ops"] * 30 + ["AML Transaction Monitoring FR"],
            "title": ["Rotate the service account credentials of a "
                      "payment gateway in every region"] * 31}),
            "states", max_rows=None)

    app = AppTest.from_function(page).run()
    assert not app.exception
    columns = json.loads(app.dataframe[0].proto.columns)
    from changeboard import ui
    assert columns["state"]["width"] == ui.text_width(["Authorize"], 60, 280)
    assert columns["team"]["width"] == ui.text_width(
        ["AML Transaction Monitoring FR"], 60, 280)
    assert "width" not in columns.get("title", {})


def test_a_picked_lists_files_say_the_pick_and_its_period(sample_db,
                                                         monkeypatch):
    """The Changes page's 'Changes of one type: Normal' XLSX said 'Filters:
    none (all)' about its 481 normal changes, and a week's emergency
    changes the sidebar's quarter for their Period (a change manager's
    walkthrough): the About sheet says the pick, and a period's list its
    own days, as its file name does."""
    import openpyxl

    def about(offered, start):
        """The one XLSX whose About sheet says a pick: its name and
        About."""
        [(name, said)] = [
            (n, dict(openpyxl.load_workbook(io.BytesIO(d()))["About"]
                     .iter_rows(values_only=True)))
            for n, d in offered if n.endswith(".xlsx")
            and n.startswith("changes-")]
        assert name.startswith(start), name
        return name, said

    app, offered = _offering(sample_db, monkeypatch, "changes",
                             changes_change_type="Normal", by="Type")
    _, said = about(offered, "changes-change-type-normal")
    assert said["Filters"] == "none (all)"
    assert said["Selection"] == "Changes of one type: Normal"
    week = app.selectbox(key="changes_period")
    app, offered = _offering(sample_db, monkeypatch, "changes",
                             changes_period=week.options[-1])
    name, said = about(offered, "changes-")
    assert said["Selection"].startswith("Changes of one week: ")
    days = re.search(r"-(\d{4}-\d\d-\d\d)-to-(\d{4}-\d\d-\d\d)", name)
    assert days, name
    first, last = (date.fromisoformat(d) for d in days.groups())
    assert (last - first).days <= 6, name  # the week's days, not the period's
    assert said["Period"].startswith(f"{first:%d %b %Y} – {last:%d %b %Y}")
