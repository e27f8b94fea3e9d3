"""Benchmark: the loader's rows/s on a ~1,000,000-row canonical changes.csv,
and on the same changes as a ServiceNow-shaped export through its adapter,
each against DuckDB's bare read_csv of that file into a table in the same run.

  python bench/ingest.py [--scale 125] [--repeat 1] [--csv PATH]

Target (issue 12): ratio (load time / read_csv time) <= 1.5 for both files
(issue 3 asked for <= 2).
Each load is `ingest.load_path` into a fresh database: reading and mapping
(the canonical adapter, or the ServiceNow adapter: cp1252 display values,
codes, priorities, booleans, local instants, raw records), hashing the file,
validating every value, the insert, the ingest_batches row and publishing
(copy, checkpoint, os.replace). The floor is DuckDB's read_csv of the same
file (latin-1 for the export) into a table of a fresh database file.
With --repeat N each figure is the fastest of N runs. Each run is a child
process of its own, so its peak resident memory is printed too (issue 12:
<= 2x read_csv's).

Where the time goes (1M changes, 635 MB, CPU seconds, one run): reading
(pyarrow's parser 3-4, hashing the file 0.7) 5.0-5.3; opening the new file
about 0.5. A first load (keys distinct and new: loader._direct) checks and
inserts in one statement, straight from the frame (checks.insert_passed):
8.1-8.7, where staging every row in the temp table `checked` (4.9-5.3)
and then inserting from it (6.2-6.8, on one thread: its wall time was its
CPU time) took 11-12. That statement runs with DuckDB's filter pushdown
off: pushed below the typed values, the filter got each value's SQL
written into it and every value was parsed twice (10.9). `checked` then
holds the rejected rows only, staged from those rows of the frame.
Publishing (materialize, checkpoint, replace) 0.2-0.5. read_csv into a
file: 11.3. Any other load (repeated or stored keys, --strict, snapshot)
stages `checked` as before: reading text from the frame there by a
positional join saved 2 in the checks but made the insert single-threaded
and 3 slower: not done.

Where the memory goes (peak resident, 1M changes): the frame's cells are
about 730 MB of arrow memory (the process holds 1.0-1.15 GB after the
read, its own 120 MB included). The direct insert runs beside the frame,
with DuckDB's buffer pool capped at 1 GB for it (checks.INSERT_MEMORY_LIMIT;
uncapped, the insert took 1.8-2.0 GB at its peak, capped 1.32-1.36 GB;
a 300 MB or 512 MB cap gave the same). Before, the peak was while
`checked` was built beside the frame (about 650 MB more: 1,663-1,720 MB).
The ServiceNow export's frame also keeps the cells of every column for the
records of the rows it rejects (frames.Batch.records) beside its mapped
columns: 1.8 GB at its peak. Below 2x read_csv would need the loader not
to hold all of the frame while it inserts (staging and inserting in slices
that free their cells): tried outside the loader (four 250,000-row slices
of the frame's arrow batches, each inserted and freed): each slice's
insert ran on one thread (about 2 s each, 8.6 CPU s in all, as the single
statement) and the next checkpoint rewrote them (3.6-4 s), the peak
1,255 against 1,329 MB: not done. preserve_insertion_order off for the
insert: 7.1 CPU s but 6.7 s wall, the same peak: not done.

Later (2 Dec, ninth pass): the canonical file's repeating columns are read
dictionary-encoded, the direct insert's cap is 256 MB (or 160 bytes a row),
and a frame of 100,000 rows or more is let go by ending the publish's
transaction once checked (DuckDB keeps a registered frame until the
transaction that dropped its view ends): canonical peak 1,223-1,334 ->
1,127-1,138 MB, ServiceNow 1,745-1,751 -> 1,666-1,668 MB, times unchanged
(docs/speed.md, ninth pass).

This bench, the tree before (4179648) and this one run one after the
other three times (--repeat 2 each, a busy 2-core machine: read_csv took
4.7-20 s): canonical 2.01 / 1.61 / 1.85 -> 1.71 / 1.53 / 1.70 x read_csv,
peak 1,661-1,675 -> 1,321-1,333 MB (2.74-2.83 -> 1.97-2.26x); ServiceNow
1.57 / 1.52 / 3.01 -> 1.14 / 1.77 / 1.52, peak 2,041-2,050 -> 1,823-1,831
MB (3.05-3.19 -> 2.80-2.92x).

Later (3 Dec, thirteenth pass): a load parses in pyarrow's jemalloc pool
(reading.use_load_pool), not mimalloc, which spent 2.5-4.6 s of the
parse in the kernel: the tree before (212380a) and after, alternated
twice, --repeat 2: canonical 8.74-8.87 -> 7.65-7.72 s (2.56-2.59 ->
2.21-2.25x read_csv), peak 1,129-1,143 -> 1,012-1,017 MB; ServiceNow
11.15-11.45 -> 8.66 s (2.39-2.71 -> 1.88-1.91x), peak 1,667 -> 1,535-1,539
MB (2.22-2.31x read_csv's).
"""
from __future__ import annotations

import argparse
import os
import pickle
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import figures  # noqa: E402 - bench/, this script's own folder

import ingest  # noqa: E402
import sample_data  # noqa: E402

TARGET = 1.5
MEMORY_TARGET = 2


def timed(fn) -> tuple[float, object]:
    """(seconds, result) of fn() run in a child process of its own, and the
    child's peak resident memory in MB (kept in PEAK), so each figure is
    that run's alone (a forked child starts from this process's pages)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, leave without cleanup
        code = 0
        try:
            started = time.perf_counter()
            result = fn()
            payload = pickle.dumps((time.perf_counter() - started, result))
        except BaseException as exc:  # noqa: BLE001 - shown by the parent
            payload, code = pickle.dumps(repr(exc)), 1
        with os.fdopen(write, "wb") as out:
            out.write(payload)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        payload = source.read()
    _, status, usage = os.wait4(pid, 0)
    found = pickle.loads(payload)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"the timed run failed: {found}")
    PEAK.append(usage.ru_maxrss / 1024)
    return found


PEAK: list[float] = []
BASE_MB = 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=125)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--csv", type=Path, default=None,
                        help="an existing canonical changes.csv to use")
    figures.add_argument(parser)
    args = parser.parse_args()
    figures.use(args)
    global BASE_MB
    BASE_MB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        changes = args.csv
        if changes is None:
            took, counts = timed(lambda: sample_data.generate(
                tmp / "csv", seed=7, scale=args.scale))
            changes = tmp / "csv" / "changes.csv"
            print(f"generated {counts['changes']:,} changes in {took:.1f} s",
                  flush=True)
        size = changes.stat().st_size / 1e6
        floors, loads, rows = [], [], 0
        floor_peaks: list[float] = []
        load_peaks: list[float] = []
        for _ in range(args.repeat):
            floor_db = tmp / "floor.duckdb"
            floor_db.unlink(missing_ok=True)

            def floor(path=floor_db):
                with duckdb.connect(str(path)) as con:
                    con.execute("create table changes as select * from "
                                "read_csv($p)", {"p": str(changes)})
                    return con.execute(
                        "select count(*) from changes").fetchall()[0][0]

            took, rows = timed(floor)
            floors.append(took)
            floor_peaks.append(PEAK[-1])
            load_db = tmp / "load.duckdb"
            for stale in tmp.glob("load.duckdb*"):
                stale.unlink()
            took, result = timed(lambda p=load_db: ingest.load_path(
                "csv", changes, p))
            assert result.status == "succeeded", result.error
            assert result.rows_loaded == rows, (result.rows_loaded, rows)
            loads.append(took)
            load_peaks.append(PEAK[-1])
        floor_s, load_s = min(floors), min(loads)
        print(f"file: {changes.name}, {rows:,} rows, {size:,.0f} MB")
        print(f"duckdb read_csv   {floor_s:6.2f} s  {rows / floor_s:12,.0f} "
              "rows/s")
        print(f"ingest.load_path  {load_s:6.2f} s  {rows / load_s:12,.0f} "
              "rows/s")
        print(f"ratio {load_s / floor_s:.2f} (target <= {TARGET})")
        memory(floor_peaks, load_peaks)
        recorded("canonical changes.csv", load_s, floor_s, floor_peaks,
                 load_peaks, rows)
        # the same changes as a ServiceNow change_request export (cp1252,
        # display values, local date format), through its adapter
        from sample_data import exports
        sn_path = tmp / "servicenow_change_request.csv"
        timed(lambda: export(changes, sn_path))  # in a child: its memory
        sn_floors, sn_loads, floor_peaks, load_peaks = [], [], [], []
        for _ in range(args.repeat):
            sn_floor_db = tmp / "sn-floor.duckdb"
            sn_floor_db.unlink(missing_ok=True)

            def sn_floor(path=sn_floor_db):
                with duckdb.connect(str(path)) as con:
                    con.execute("create table changes as select * from "
                                "read_csv($p, encoding = 'latin-1')",
                                {"p": str(sn_path)})

            took, _ = timed(sn_floor)
            sn_floors.append(took)
            floor_peaks.append(PEAK[-1])
            for stale in tmp.glob("sn-load.duckdb*"):
                stale.unlink()
            took, result = timed(lambda: ingest.load_path(
                "servicenow", sn_path, tmp / "sn-load.duckdb",
                options=exports.SERVICENOW_OPTIONS))
            assert result.status == "succeeded", result.error
            sn_loads.append(took)
            load_peaks.append(PEAK[-1])
        sn_floor_s, sn_load_s = min(sn_floors), min(sn_loads)
        print(f"file: {sn_path.name}, {result.rows_read:,} rows, "
              f"{sn_path.stat().st_size / 1e6:,.0f} MB, "
              f"{result.rows_rejected:,} rejected")
        print(f"duckdb read_csv   {sn_floor_s:6.2f} s  "
              f"{result.rows_read / sn_floor_s:12,.0f} rows/s")
        print(f"ingest servicenow {sn_load_s:6.2f} s  "
              f"{result.rows_read / sn_load_s:12,.0f} rows/s")
        print(f"ratio {sn_load_s / sn_floor_s:.2f} (target <= {TARGET})")
        memory(floor_peaks, load_peaks)
        recorded("ServiceNow export", sn_load_s, sn_floor_s, floor_peaks,
                 load_peaks, result.rows_read)
    return 0


def recorded(what: str, load_s: float, floor_s: float,
             floor_peaks: list[float], load_peaks: list[float],
             rows: int) -> None:
    """The load's time and peak memory against read_csv's, for
    bench/summary.py."""
    figures.record("ingest", f"{what}: load / read_csv", load_s / floor_s,
                   "x", TARGET, f"{rows:,} rows: {load_s:.2f} s against "
                   f"{floor_s:.2f} s")
    floor, load = min(floor_peaks), min(load_peaks)
    figures.record("ingest", f"{what}: peak memory / read_csv's",
                   load / floor, "x", MEMORY_TARGET,
                   f"{load:,.0f} MB against {floor:,.0f} MB")


def export(changes: Path, path: Path) -> None:
    """The changes as a ServiceNow change_request export."""
    import pandas as pd

    from sample_data import exports
    exports.write_servicenow(
        pd.read_csv(changes, dtype=str, keep_default_na=False), path)


def memory(floor_peaks: list[float], load_peaks: list[float]) -> None:
    """Peak resident memory of each run's process (the lowest of the
    repeats), beside issue 12's limit of twice read_csv's."""
    floor, load = min(floor_peaks), min(load_peaks)
    print(f"peak memory: read_csv {floor:,.0f} MB, load {load:,.0f} MB, "
          f"ratio {load / floor:.2f} (target <= {MEMORY_TARGET}; each "
          f"counts this process's {BASE_MB:,.0f} MB it started from)")


if __name__ == "__main__":
    sys.exit(main())
