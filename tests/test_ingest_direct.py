"""The direct insert (loader._direct, checks.insert_passed): an upsert
whose keys are distinct and new to the table goes straight from the frame
into the table, checked as it is inserted, and `checked` holds only the
rows left out. The database and the result must be what staging every row
in `checked` first gives (the path every other load takes)."""
import csv
from pathlib import Path

import pytest
from conftest import capped_inserts
from test_ingest import BAD, CASES, store
from test_ingest_memory import export

import ingest
from changeboard import db
from ingest import checks, loader, servicenow

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "servicenow_change_request.csv"
HEADER = ("change_id,change_type,state,created_at,title,updated_at,"
          "actual_start_at,actual_end_at,priority\n")


def tables(path: Path) -> dict:
    """Every row of changes, ingest_rejects and ingest_batches (less the
    load's times), in a stable order."""
    with db.connect(path, read_only=True) as con:
        return {table: sorted(con.execute(
            f"select * exclude ({skip}) from {table}").fetchall(),  # noqa: S608
            key=repr) for table, skip in (
            ("changes", "source"), ("ingest_rejects", "raw_record"),
            ("ingest_batches", "started_at, finished_at"))} | {
            "records": sorted(con.execute(
                "select row_number, cast(raw_record as varchar) from "
                "ingest_rejects").fetchall(), key=repr),
            "sources": sorted(con.execute(
                "select change_id, source from changes").fetchall(),
                key=repr)}


def outcome(result) -> tuple:
    return (result.status, result.error, result.rows_read,
            result.rows_loaded, result.rows_new, result.rows_updated,
            result.rows_unchanged, result.rows_rejected, result.warnings,
            result.reasons, None if result.rejects is None
            else result.rejects.to_dict("records"))


class Spy:
    """Counts the direct inserts, calling through."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real = checks.insert_passed

        def counted(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(checks, "insert_passed", counted)


def both(monkeypatch, tmp_path, loads, name="x") -> tuple[Spy, list, list]:
    """`loads(path)` (returning the results) run as is and with every load
    staged in `checked`; the databases must be equal, the results too."""
    spy = Spy(monkeypatch)
    direct = loads(tmp_path / f"{name}-direct.duckdb")
    with monkeypatch.context() as patched:
        patched.setattr(loader, "_direct", lambda *args: False)
        staged = loads(tmp_path / f"{name}-staged.duckdb")
    assert [outcome(r) for r in direct] == [outcome(r) for r in staged]
    assert tables(tmp_path / f"{name}-direct.duckdb") == tables(
        tmp_path / f"{name}-staged.duckdb")
    return spy, direct, staged


@pytest.mark.parametrize("name", sorted(
    n for n, case in CASES.items() if "fails" not in case))
def test_the_bad_corpus_loads_the_same_straight_into_the_table(
        name, tmp_path, monkeypatch):
    def loads(path):
        store(path, CASES[name].get("stored", []))
        return [ingest.load_path("csv", BAD / name, path, file_name=name)]

    both(monkeypatch, tmp_path, loads)


def test_most_of_the_corpus_takes_the_direct_insert(tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    names = sorted(n for n, case in CASES.items() if "fails" not in case)
    for name in names:
        target = tmp_path / f"{name}.duckdb"
        store(target, CASES[name].get("stored", []))
        ingest.load_path("csv", BAD / name, target)
    # the others repeat an id, or load one stored
    assert len(names) // 2 < spy.calls < len(names)


def rows_text(rows) -> str:
    return HEADER + "".join(",".join(r) + "\n" for r in rows)


def good(i: int, **changed) -> list[str]:
    row = {"change_id": f"C{i}", "change_type": "normal", "state": "closed",
           "created_at": "2024-03-12T15:15:00Z", "title": f"t{i}",
           "updated_at": "2024-03-14T00:00:00Z",
           "actual_start_at": "2024-03-13T10:00:00Z",
           "actual_end_at": "2024-03-13T11:00:00Z", "priority": "3"}
    row.update(changed)
    return list(row.values())


def mixed(path: Path, first: int = 0, n: int = 40) -> Path:
    """Rows rejected each way a row's own values can be, beside good ones
    and rows that only warn (end before start, a date before 1990)."""
    rows = [good(i) for i in range(first, first + n)]
    rows[3] = good(first + 3, change_type="urgent")
    rows[5] = good(first + 5, created_at="yesterday")
    rows[7] = good(first + 7, state="")
    rows[9] = good(first + 9, change_id="")
    rows[11] = good(first + 11, priority="high")
    rows[13] = good(first + 13, actual_end_at="2024-03-13T09:00:00Z")
    rows[15] = good(first + 15, created_at="1980-01-01T00:00:00Z")
    rows[17] = good(first + 17, change_id=f" C{first + 17} ")
    rows[19] = good(first + 19, updated_at="2024-03-12")
    rows[-1] = good(first + n - 1, title='"say ""hi"" \\ , there"')
    path.write_text(rows_text(rows), encoding="utf-8")
    return path


def test_rejects_warnings_and_counts_are_those_of_staging(
        tmp_path, monkeypatch):
    changes = mixed(tmp_path / "changes.csv")

    def loads(path):
        return [ingest.load_path("csv", changes, path)]

    spy, direct, _ = both(monkeypatch, tmp_path, loads)
    assert spy.calls == 1
    result, = direct
    assert result.rows_rejected == 6 and result.rows_loaded == 34
    assert dict(result.reasons) == {"unmapped_code": 1, "bad_timestamp": 2,
                                    "missing_required": 2, "bad_number": 1}
    assert any("actual_end_at before actual_start_at (row 15)" in w
               for w in result.warnings), result.warnings
    assert any("before 1990" in w and "(row 17)" in w
               for w in result.warnings), result.warnings


def test_a_second_file_of_new_ids_goes_straight_in_and_an_update_does_not(
        tmp_path, monkeypatch):
    first = mixed(tmp_path / "changes.csv")
    more = mixed(tmp_path / "changes-more.csv", first=1000)
    again = tmp_path / "changes-again.csv"
    again.write_text(rows_text([good(i, title="new title",
                                     updated_at="2025-01-01T00:00:00Z")
                                for i in range(0, 60, 2)]), encoding="utf-8")

    def loads(path):
        return [ingest.load_path("csv", f, path) for f in (first, more, again)]

    spy, direct, _ = both(monkeypatch, tmp_path, loads)
    assert spy.calls == 2  # the first two files
    assert [r.rows_new for r in direct] == [34, 34, 10]
    assert direct[2].rows_updated == 20  # the even ids below 40


@pytest.mark.parametrize("ids", [
    ["C1", "C2", "C1"],          # an id twice
    ["C1", " C1", "C2"],         # the same id once padded
])
def test_a_file_repeating_an_id_is_staged(ids, tmp_path, monkeypatch):
    changes = tmp_path / "changes.csv"
    changes.write_text(rows_text([good(0, change_id=i, title=f"t{n}")
                                  for n, i in enumerate(ids)]),
                       encoding="utf-8")

    def loads(path):
        return [ingest.load_path("csv", changes, path)]

    spy, direct, _ = both(monkeypatch, tmp_path, loads)
    assert spy.calls == 0
    assert direct[0].rows_rejected == 2  # no newer copy: both C1 rows


def test_strict_dry_run_and_snapshot_loads_are_the_same(tmp_path,
                                                       monkeypatch):
    changes = mixed(tmp_path / "changes.csv")
    clean = tmp_path / "changes-clean.csv"
    clean.write_text(rows_text([good(i) for i in range(5)]),
                     encoding="utf-8")

    def loads(path):
        return [ingest.load_path("csv", changes, path, strict=True),
                ingest.load_path("csv", clean, path, dry_run=True),
                ingest.load_path("csv", clean, path)]

    spy, direct, _ = both(monkeypatch, tmp_path, loads)
    assert direct[0].status == "failed" and direct[0].rows_loaded == 0
    assert spy.calls == 2  # not the strict load
    frame = ingest.adapter("csv").read(clean)
    ingest.frames.batch(frame).mode = "snapshot"
    calls = spy.calls
    result = loader.load(frame, tmp_path / "x-direct.duckdb",
                         file_name="snap.csv", sha256="snap")
    assert spy.calls == calls and result.rows_unchanged == 5


def test_a_lazy_export_builds_the_records_of_the_rows_left_out(
        tmp_path, monkeypatch):
    header, *rows = list(csv.reader(SAMPLE.read_text("windows-1252")
                                    .splitlines(keepends=True)))
    at = {name: header.index(name) for name in header}
    rows = [list(r) for r in rows]
    rows[0][at["state"]] = "Parked"                     # unmapped_code
    rows[1][at["opened_at"]] = "yesterday"              # bad_timestamp
    rows[1][at["short_description"]] = 'say "hi" \\ \n\ttab'
    rows[-1][at["opened_at"]] = ""                      # missing_required
    path = export(tmp_path / "sn.csv", rows, header)
    monkeypatch.setattr(servicenow, "LAZY_RECORD_ROWS", 1)
    monkeypatch.setattr(servicenow, "ARROW_ROWS", 1)

    def loads(target):
        return [ingest.load_path("servicenow", path, target)]

    spy, direct, _ = both(monkeypatch, tmp_path, loads)
    assert spy.calls == 1
    assert dict(direct[0].reasons) == {"unmapped_code": 1,
                                       "bad_timestamp": 1,
                                       "missing_required": 1}
    with db.connect(tmp_path / "x-direct.duckdb", read_only=True) as con:
        record, = con.execute(
            "select raw_record ->> 'short_description' from ingest_rejects "
            "where reason = 'bad_timestamp'").fetchall()[0]
    assert record == 'say "hi" \\ \n\ttab'


@pytest.mark.parametrize("cap", ["1KB", "1MB"])
def test_a_memory_cap_too_small_for_duckdb_still_loads_the_same(
        cap, tmp_path, monkeypatch):
    # 1KB: DuckDB refuses the cap (it holds more already); 1MB: the insert
    # runs out of memory under it. Either failed statement ends the
    # publish's transaction: the load runs again, its insert uncapped, and
    # publishes what the staged load does (one batch, the same rows)
    changes = mixed(tmp_path / "changes.csv", n=3000)
    monkeypatch.setattr(checks, "INSERT_MEMORY_LIMIT", cap)
    capped = capped_inserts(monkeypatch)

    def loads(path):
        return [ingest.load_path("csv", changes, path)]

    spy, direct, _ = both(monkeypatch, tmp_path, loads)
    assert spy.calls == 2 and capped == [True, False]
    assert direct[0].status == "succeeded"
    assert direct[0].rows_loaded == 2994 and direct[0].batch_id == 1


@pytest.mark.parametrize("limit", [None, "2GiB"])
def test_the_insert_leaves_the_connections_settings_as_they_were(
        limit, tmp_path):
    changes = mixed(tmp_path / "changes.csv")
    frame = ingest.adapter("csv").read(changes)
    con = db.connect(tmp_path / "cb.duckdb")
    settings = ("select current_setting('memory_limit'), "
                "current_setting('disabled_optimizers')")
    try:
        if limit:
            con.execute("set memory_limit = $m", {"m": limit})
            con.execute("set disabled_optimizers = 'join_order'")
        before = con.execute(settings).fetchall()
        result = loader.load_into(con, frame, file_name="changes.csv",
                                  sha256="s")
        assert result.rows_loaded == 34
        assert con.execute(settings).fetchall() == before
    finally:
        con.close()


def test_every_table_of_the_sample_loads_the_same_straight_in(
        tmp_path, monkeypatch):
    # keys of one and of two columns (release_phases), every kind of value
    import sample_data

    folder = tmp_path / "csv"
    sample_data.generate(folder, seed=5, scale=0.02, end_date="2025-06-30")
    files = sorted(folder.glob("*.csv"),
                   key=lambda p: ingest.TABLES.index(ingest.table_for(p)))
    tables_loaded = {ingest.table_for(p) for p in files}

    def loads(path):
        return [ingest.load_path("csv", f, path, file_name=f.name)
                for f in files]

    spy, direct, _ = both(monkeypatch, tmp_path, loads)
    assert spy.calls == len(files) == len(ingest.TABLES)
    assert tables_loaded == set(ingest.TABLES)
    assert all(r.status == "succeeded" and r.rows_loaded for r in direct)
    for table in ingest.TABLES:
        with db.connect(tmp_path / "x-direct.duckdb", read_only=True) as con:
            a = con.execute(f"select * from {table} order by all").fetchall()  # noqa: S608
        with db.connect(tmp_path / "x-staged.duckdb", read_only=True) as con:
            b = con.execute(f"select * from {table} order by all").fetchall()  # noqa: S608
        assert a == b, table


@pytest.mark.parametrize("table", ["changes", "releases", "deployments",
                                   "environment_bookings", "incidents"])
def test_a_load_whose_rows_all_went_in_has_the_checked_stage_makes(
        tmp_path, table):
    """When every row of a direct insert went in, `checked` is made empty
    without the checks' SQL (checks.stage_none): the columns and types
    checks.stage gives, so whatever reads it after reads the same."""
    import sample_data
    from ingest import canonical

    folder = tmp_path / "csv"
    sample_data.generate(folder, seed=5, scale=0.02)
    frame = canonical.read(folder / f"{table}.csv")
    spec, timezone, present = checks.check_frame(frame, f"{table}.csv")
    shapes = []
    with db.connect() as con:
        rows = frame.copy(deep=False)
        rows.attrs = {}
        con.register("incoming_frame", rows)
        for make in (lambda: checks.stage(con, frame, spec, present,
                                          timezone),
                     lambda: checks.stage_none(con, spec, present)):
            make()
            shapes.append(con.execute(
                "select column_name, data_type from duckdb_columns() where "
                "table_name = 'checked' order by column_index").fetchall())
        assert con.execute("select count(*) from checked").fetchone()[0] == 0
    assert shapes[0] == shapes[1]
    assert len(shapes[0]) == 6 + len(present)
