"""The benchmarks' one table (bench/figures.py, bench/summary.py): what the
bench scripts record with --record and how `make bench` prints it, each
figure beside its target."""
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name: str):
    """A bench script's module, imported as the script imports its
    neighbours (bench/ first on the path)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(
            f"bench_{name}", BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def summary(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / "summary.py"),
                           str(path)], capture_output=True, text=True,
                          check=False, timeout=60)


def test_the_summary_sets_each_figure_beside_its_target(tmp_path,
                                                        monkeypatch):
    figures = bench_module("figures")
    path = tmp_path / "figures.jsonl"
    monkeypatch.setattr(figures, "RECORD", path)
    figures.record("pages", "overview: cold rerun (server)", 0.31, "s", 0.5)
    figures.record("queries", "slowest page query, warm", 56.2, "ms", 50,
                   "similar_change_history (cab); 1 of 57 over 50 ms")
    figures.record("cab", "whole agenda (3,128 changes): PDF", 2.69, "s")
    figures.record("ingest", "canonical changes.csv: load / read_csv", 2.2,
                   "x", 1.5)
    assert [f["unit"] for f in figures.read(path)] == ["s", "ms", "s", "x"]
    done = summary(path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # bench, measure, figure, target and whether met: columns two spaces
    # apart at least
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines]
    assert rows[0] == ["bench", "measure", "figure", "target"]
    assert [r for r in rows if r[0] in ("pages", "queries", "cab", "ingest")
            ] == [
        ["pages", "overview: cold rerun (server)", "0.310 s", "<= 0.500 s",
         "ok"],
        ["queries", "slowest page query, warm", "56.2 ms", "<= 50.0 ms",
         "MISSED"],
        # no target: nothing to meet, not counted below
        ["cab", "whole agenda (3,128 changes): PDF", "2.690 s", "-"],
        ["ingest", "canonical changes.csv: load / read_csv", "2.20x",
         "<= 1.50x", "MISSED"]]
    # what a figure stands for, on the line under it
    detail = lines[[r[0] for r in rows].index("queries") + 1]
    assert detail.strip() == ("similar_change_history (cab); 1 of 57 over "
                              "50 ms")
    assert lines[-2] == "1 of 3 figures within their targets"
    assert lines[-1] == ("missed: queries slowest page query, warm 56.2 ms; "
                         "ingest canonical changes.csv: load / read_csv 2.20x")


def test_a_summary_of_nothing_recorded_says_so(tmp_path):
    path = tmp_path / "figures.jsonl"
    path.write_text("")
    done = summary(path)
    assert done.returncode == 1
    assert done.stdout.strip() == f"{path}: no figures recorded"


def test_without_record_a_bench_writes_no_file(tmp_path, monkeypatch):
    figures = bench_module("figures")
    monkeypatch.setattr(figures, "RECORD", None)
    monkeypatch.chdir(tmp_path)
    figures.record("pages", "overview: cold rerun (server)", 0.31, "s", 0.5)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ms, sizes, grew", [
    ([4.0, 50.0], [80_000, 1_000_000], 1.0),    # as the data: linear
    ([10.0, 25.0], [80_000, 1_000_000], 0.2),   # planning-bound: far below
    ([2.0, 10.0, 50.0], [80_000, 240_000, 1_000_000], 2.0),  # faster
])
def test_growth_is_the_time_grown_as_a_share_of_the_data_grown(
        ms, sizes, grew):
    queries = bench_module("queries")
    assert queries.growth(ms, sizes) == pytest.approx(grew)


def test_the_incremental_bench_records_its_load_against_its_target(
        sample_db, tmp_path):
    # a real run of the script, as `make bench` runs it, on a copy of the
    # small sample (its load of 200 changes takes a second or two)
    copy = tmp_path / "sample.duckdb"
    shutil.copyfile(sample_db, copy)
    path = tmp_path / "figures.jsonl"
    done = subprocess.run(
        [sys.executable, str(BENCH / "incremental.py"), "--db", str(copy),
         "--rows", "200", "--repeat", "1", "--record", str(path)],
        capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (figure,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert figure["bench"] == "incremental"
    assert figure["measure"].startswith("load of 200 changes into ")
    assert figure["unit"] == "s" and figure["target"] == 1.0
    assert 0 < figure["value"] < 60
    # the figure printed is the one recorded
    assert f"{figure['value']:.2f} s end to end" in done.stdout
    within = int(figure["value"] <= 1.0)
    assert summary(path).stdout.splitlines()[-2 + within] == (
        f"{within} of 1 figures within their targets")
