"""Ingest peak memory: a large ServiceNow export leaves raw_record NULL in
its frame and the loader builds the records of the rows it rejects only
(frames.finish, lazy_records), and load_path's frame is freed once checked
(loader.load, release): the database must be the same either way."""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

import ingest
from changeboard import db
from ingest import loader, reading, servicenow
from ingest.frames import batch

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "servicenow_change_request.csv"


def export(path: Path, rows: list[list[str]], header: list[str]) -> Path:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
        [header, *rows])
    path.write_bytes(out.getvalue().encode("windows-1252"))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The sample export with rows the loader rejects in each of its ways,
    and a second file with an older copy of a loaded change."""
    folder = tmp_path_factory.mktemp("records")
    header, *rows = list(csv.reader(SAMPLE.read_text("windows-1252")
                                    .splitlines(keepends=True)))
    at = {name: header.index(name) for name in header}
    bad = [list(r) for r in rows[:6]]
    bad[0][at["number"]] = "CHG9000001"
    bad[0][at["state"]] = "Parked"                    # unmapped_code
    bad[1][at["number"]] = "CHG9000002"
    bad[1][at["opened_at"]] = "yesterday"             # bad_timestamp
    bad[1][at["short_description"]] = 'say "hi" \\ \n\ttab'
    bad[2][at["number"]] = "CHG9000003"
    bad[3] = list(bad[2])                             # duplicate_row
    bad[4][at["number"]] = "CHG9000004"
    bad[5][at["number"]] = "CHG9000004"               # duplicate_id
    bad[5][at["short_description"]] = "another title"
    bad[5][at["sys_updated_on"]] = bad[4][at["sys_updated_on"]]
    first = export(folder / "first.csv", rows + bad, header)
    older = [list(rows[0])]
    older[0][at["sys_updated_on"]] = "2020-01-01 00:00:00"
    older[0][at["opened_at"]] = "2019-12-01 00:00:00"
    second = export(folder / "second.csv", older + rows[1:3], header)
    return first, second


def load_both(files, target: Path, monkeypatch, lazy: bool):
    monkeypatch.setattr(servicenow, "LAZY_RECORD_ROWS",
                        1 if lazy else 1 << 40)
    return [ingest.load_path("servicenow", path, target) for path in files]


def rejects(path: Path):
    with db.connect(path, read_only=True) as con:
        return con.execute(
            "select b.file_name, r.row_number, r.column_name, r.value, "
            "r.reason, r.detail, cast(r.raw_record as varchar) from "
            "ingest_rejects as r join ingest_batches as b using (batch_id) "
            "order by all").fetchall(), con.execute(
            "select * exclude (ingested_batch_id) from changes order by "
            "change_id").fetchall()


def test_a_lazy_frame_builds_only_the_rejected_records_and_loads_the_same(
        files, tmp_path, monkeypatch):
    lazy = load_both(files, tmp_path / "lazy.duckdb", monkeypatch, True)
    eager = load_both(files, tmp_path / "eager.duckdb", monkeypatch, False)
    assert [r.reasons for r in lazy] == [r.reasons for r in eager]
    assert dict(lazy[0].reasons) == {
        "unmapped_code": 1, "bad_timestamp": 1, "duplicate_row": 1,
        "duplicate_id": 2}
    assert dict(lazy[1].reasons) == {"older_than_stored": 1}
    lazy_rows, eager_rows = (rejects(tmp_path / f"{name}.duckdb")
                             for name in ("lazy", "eager"))
    assert lazy_rows == eager_rows
    assert len(lazy_rows[1]) > 10
    records = {row[4]: json.loads(row[6]) for row in lazy_rows[0]}
    assert records["bad_timestamp"]["opened_at"] == "yesterday"
    assert records["bad_timestamp"]["short_description"] == (
        'say "hi" \\ \n\ttab')
    assert records["duplicate_row"]["number"] == "CHG9000003"
    assert records["older_than_stored"]["sys_updated_on"] == (
        "2020-01-01 00:00:00")
    assert records["unmapped_code"]["requested_by"] == "Zoë Müller"


def test_a_lazy_frame_leaves_raw_record_null_and_its_batch_builds_them(
        files, monkeypatch):
    path = files[0]
    eager = servicenow.read(path)
    monkeypatch.setattr(servicenow, "LAZY_RECORD_ROWS", 1)
    lazy = servicenow.read(path)
    assert lazy["raw_record"].isna().all()
    assert eager["raw_record"].notna().all()
    assert lazy.drop(columns="raw_record").equals(
        eager.drop(columns="raw_record"))
    numbers = [lazy["row_number"].iloc[-1], 2, 10**6,
               lazy["row_number"].iloc[5]]
    by_row = dict(zip(eager["row_number"], eager["raw_record"], strict=True))
    assert batch(lazy).records(numbers) == [
        by_row[numbers[0]], by_row[2], None, by_row[numbers[3]]]


def test_raw_records_of_some_rows_equal_those_of_every_row(tmp_path):
    # pyarrow's read builds no record until asked; the csv module's (with
    # comment lines) builds them all: both answer alike
    raw = reading.read_delimited(files_text(tmp_path / "a.csv", ""))
    assert raw.raw_record is None
    wanted = raw.records([3, 2, 99])
    whole = raw.record_array().to_pylist()
    assert wanted == [whole[1], whole[0], None]
    by_module = reading.read_delimited(files_text(tmp_path / "b.csv", ""),
                                       comment="#")
    assert by_module.raw_record is not None
    assert by_module.records([2, 3]) == whole
    assert json.loads(whole[1]) == {"a": ["3", "\n"], "b": "\\"}


def files_text(path: Path, gap: str) -> Path:
    path.write_text('a,b,a\r\n1,"x ""q""",2\r\n' + gap + '3,\\,"\n"\r\n',
                    encoding="utf-8")
    return path


def test_a_released_frame_is_emptied_once_checked_and_loads_the_same(
        files, tmp_path):
    loaded = {}
    for release in (True, False):
        frame = servicenow.read(files[0])
        target = tmp_path / f"{release}.duckdb"
        result = loader.load(frame, target, file_name="sn.csv", sha256="s",
                             release=release)
        assert result.rows_loaded > 10 and result.rows_rejected == 5
        assert list(frame.columns) == ([] if release else list(
            servicenow.read(files[0]).columns))
        loaded[release] = rejects(target)
    assert loaded[True] == loaded[False]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """A canonical changes export loaded once, then again with one row
    changed, one row new and one row rejected (a refresh: stored keys, so
    the staged path: checked, classify, write)."""
    from sample_data import generate
    folder = tmp_path_factory.mktemp("refresh")
    generate(folder / "csv", seed=5, scale=0.2)
    first = folder / "csv" / "changes.csv"
    header, *rows = list(csv.reader(first.read_text().splitlines(
        keepends=True)))
    at = {name: i for i, name in enumerate(header)}
    rows[0][at["title"]] = "retitled"
    extra = [list(rows[1]), list(rows[2])]
    extra[0][at["change_id"]] = "CHG-NEW-1"
    extra[1][at["change_id"]] = "CHG-NEW-2"
    extra[1][at["state"]] = "parked"                       # unmapped_code
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows, *extra])
    second = folder / "changes-refresh.csv"
    second.write_text(out.getvalue())
    return first, second


CLASSIFY = loader._classify


def load_refresh(refreshed, target: Path, monkeypatch, *, free_at: int,
                 dry_run: bool = False):
    """The two loads, each file read through pyarrow (its cells arrow
    memory); the arrow memory still held when the refresh's rows are
    classified (loader._classify), and the results."""
    import pyarrow as pa

    from ingest import canonical
    monkeypatch.setattr(canonical, "FAST_BYTES", 1)
    monkeypatch.setattr(loader, "FREE_BY_COMMIT_ROWS", free_at)
    held, before = [], []

    def watched(*args, **kwargs):
        # arrow memory taken since the refresh began (the process may hold
        # some of other tests')
        held.append(pa.total_allocated_bytes() - before[0])
        return CLASSIFY(*args, **kwargs)
    monkeypatch.setattr(loader, "_classify", watched)
    first, second = refreshed
    results = [ingest.load_path("csv", first, target)]
    before.append(pa.total_allocated_bytes())
    results.append(ingest.load_path("csv", second, target, dry_run=dry_run))
    return held, results


def test_a_large_frame_is_let_go_before_a_refresh_is_classified(
        refreshed, tmp_path, monkeypatch):
    # DuckDB holds a registered frame until the transaction that dropped
    # its view ends: a large one is let go by a commit once checked
    import pyarrow as pa

    from ingest import canonical
    monkeypatch.setattr(canonical, "FAST_BYTES", 1)
    before = pa.total_allocated_bytes()
    frame = canonical.read(refreshed[1])   # its cells: arrow memory
    size = pa.total_allocated_bytes() - before
    del frame
    assert size > 500_000
    kept, kept_results = load_refresh(refreshed, tmp_path / "kept.duckdb",
                                      monkeypatch, free_at=1 << 40)
    freed, freed_results = load_refresh(refreshed, tmp_path / "freed.duckdb",
                                        monkeypatch, free_at=1)
    assert len(kept) == len(freed) == 1   # the refresh's classifying
    assert kept[0] >= size * 0.9     # without the commit: the frame is held
    assert freed[0] < size / 2       # with it: let go
    for a, b in zip(kept_results, freed_results, strict=True):
        assert (a.status, a.rows_new, a.rows_updated, a.rows_unchanged,
                a.rows_rejected, a.reasons) == (
            b.status, b.rows_new, b.rows_updated, b.rows_unchanged,
            b.rows_rejected, b.reasons)
    assert (freed_results[1].rows_new, freed_results[1].rows_updated,
            freed_results[1].rows_rejected) == (1, 1, 1)
    assert rejects(tmp_path / "kept.duckdb") == rejects(
        tmp_path / "freed.duckdb")


def test_a_dry_run_of_a_large_frame_needs_no_transaction_to_end(
        refreshed, tmp_path, monkeypatch):
    target = tmp_path / "dry.duckdb"
    _, results = load_refresh(refreshed, target, monkeypatch, free_at=1,
                              dry_run=True)
    assert results[1].status == "dry_run"
    assert (results[1].rows_new, results[1].rows_updated) == (1, 1)
    with db.connect(target, read_only=True) as con:
        assert con.execute("select count(*) from changes where change_id = "
                           "'CHG-NEW-1'").fetchone()[0] == 0


POOL_CHILD = """
import sys
import pyarrow as pa
import ingest
result = ingest.load_path("servicenow", sys.argv[1], sys.argv[2])
print(result.status, result.rows_loaded, pa.default_memory_pool().backend_name)
"""


@pytest.mark.parametrize("chosen", [None, "system"])
def test_a_load_parses_in_jemalloc_unless_the_environment_chose_a_pool(
        tmp_path, chosen):
    """reading.use_load_pool: a process that loads a file switches pyarrow to
    jemalloc (mimalloc, its default, spent most of a large parse in the
    kernel); the upload child's ARROW_DEFAULT_MEMORY_POOL is kept."""
    env = {k: v for k, v in os.environ.items()
           if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    child = subprocess.run(
        [sys.executable, "-c", POOL_CHILD, str(SAMPLE),
         str(tmp_path / "pool.duckdb")], cwd=ROOT, env=env,
        capture_output=True, text=True, check=True, timeout=120)
    status, rows, pool = child.stdout.split()
    assert (status, pool) == ("succeeded", chosen or "jemalloc")
    assert int(rows) > 0


def wide_file(path: Path, rows: int = 20_000) -> Path:
    lines = ["id,state,note"] + [
        f'{i},{"open" if i % 3 else "closed"},"note {i} ""q"" \\"'
        for i in range(rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_spilled_cells_leave_memory_and_give_the_same_records(
        tmp_path, monkeypatch):
    # reading.Raw.spill: the cells no frame holds go to an unlinked,
    # memory-mapped file; the records built from them stay the same
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "spill"))
    (tmp_path / "spill").mkdir()
    raw = reading.read_delimited(wide_file(tmp_path / "w.csv"))
    whole = reading.read_delimited(wide_file(tmp_path / "v.csv")
                                   ).record_array().to_pylist()
    numbers = [2, 5000, 20_001, 10**6]
    before = raw.records(numbers)
    kept = raw.cells[0]  # as a frame holding the id column as read
    held = pa.total_allocated_bytes()
    size = sum(c.nbytes for c in raw.cells[1:])
    raw.spill([kept.buffers()[2].address])
    assert raw.spilled == {1, 2} and raw.cells[0] is kept
    assert held - pa.total_allocated_bytes() >= size
    assert list((tmp_path / "spill").iterdir()) == []  # unlinked at once
    assert raw.records(numbers) == before == [whole[0], whole[4998],
                                              whole[-1], None]
    assert raw.trimmed(1).to_pylist()[:3] == ["closed", "open", "open"]
    raw.spill()  # the id column now; the others are not written again
    assert raw.spilled == {0, 1, 2}
    assert raw.records(numbers) == before


def test_cells_stay_in_memory_where_no_file_can_be_written(
        tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing"))
    raw = reading.read_delimited(wide_file(tmp_path / "w.csv", rows=100))
    before = raw.records([2, 50])
    raw.spill()
    assert raw.spilled == set() and raw.records([2, 50]) == before


def test_a_large_export_keeps_in_memory_only_the_cells_its_frame_holds(
        files, monkeypatch):
    # the ServiceNow adapter moves out the cells it recoded, parsed or
    # never read; those it took as they are stay (the frame holds them)
    monkeypatch.setattr(servicenow, "LAZY_RECORD_ROWS", 1)
    monkeypatch.setattr(servicenow, "ARROW_ROWS", 1)
    raw = batch(servicenow.read(files[0])).records.build.__self__
    spilled = {raw.header[i] for i in raw.spilled}
    assert {"state", "opened_at", "sys_updated_on", "approval",
            "sys_id"} <= spilled
    assert "number" not in spilled
