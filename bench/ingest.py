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
With --repeat N each figure is the fastest of N runs.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

import ingest  # noqa: E402
import sample_data  # noqa: E402

TARGET = 1.5


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=125)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--csv", type=Path, default=None,
                        help="an existing canonical changes.csv to use")
    args = parser.parse_args()
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
            load_db = tmp / "load.duckdb"
            for stale in tmp.glob("load.duckdb*"):
                stale.unlink()
            took, result = timed(lambda p=load_db: ingest.load_path(
                "csv", changes, p))
            assert result.status == "succeeded", result.error
            assert result.rows_loaded == rows, (result.rows_loaded, rows)
            loads.append(took)
        floor_s, load_s = min(floors), min(loads)
        print(f"file: {changes.name}, {rows:,} rows, {size:,.0f} MB")
        print(f"duckdb read_csv   {floor_s:6.2f} s  {rows / floor_s:12,.0f} "
              "rows/s")
        print(f"ingest.load_path  {load_s:6.2f} s  {rows / load_s:12,.0f} "
              "rows/s")
        print(f"ratio {load_s / floor_s:.2f} (target <= {TARGET})")
        # the same changes as a ServiceNow change_request export (cp1252,
        # display values, local date format), through its adapter
        import pandas as pd

        from sample_data import exports
        frame = pd.read_csv(changes, dtype=str, keep_default_na=False)
        sn_path = tmp / "servicenow_change_request.csv"
        exports.write_servicenow(frame, sn_path)
        del frame
        sn_floors, sn_loads = [], []
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
            for stale in tmp.glob("sn-load.duckdb*"):
                stale.unlink()
            took, result = timed(lambda: ingest.load_path(
                "servicenow", sn_path, tmp / "sn-load.duckdb",
                options=exports.SERVICENOW_OPTIONS))
            assert result.status == "succeeded", result.error
            sn_loads.append(took)
        sn_floor_s, sn_load_s = min(sn_floors), min(sn_loads)
        print(f"file: {sn_path.name}, {result.rows_read:,} rows, "
              f"{sn_path.stat().st_size / 1e6:,.0f} MB, "
              f"{result.rows_rejected:,} rejected")
        print(f"duckdb read_csv   {sn_floor_s:6.2f} s  "
              f"{result.rows_read / sn_floor_s:12,.0f} rows/s")
        print(f"ingest servicenow {sn_load_s:6.2f} s  "
              f"{result.rows_read / sn_load_s:12,.0f} rows/s")
        print(f"ratio {sn_load_s / sn_floor_s:.2f} (target <= {TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
