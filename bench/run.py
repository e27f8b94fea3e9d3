"""Benchmarks: candidate/baseline ratios measured in one run (no absolute targets).

  python bench/run.py [--scale 10] [--repeat 3]

1. Sample generation rows/s at the given scale.
2. Loading the canonical CSVs through ingest.load_files, against the floor:
   DuckDB's bare `create table as select * from read_csv(...)` of the same
   files into an empty database, in the same run.
3. Each Overview headline query on the loaded database over the last
   365 days, against a baseline full scan `select count(*) from changes`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import figures  # noqa: E402 - bench/, this script's own folder

import ingest  # noqa: E402
import sample_data  # noqa: E402
from changeboard import db  # noqa: E402

HEADLINES = ["change_success_rate", "emergency_change_ratio",
             "release_cadence_summary", "environment_utilization_summary"]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    figures.add_argument(parser)
    args = parser.parse_args()
    figures.use(args)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        counts = sample_data.generate(tmp / "csv", seed=7, scale=args.scale)
        generated = time.perf_counter() - started
        rows = sum(counts.values())
        print(f"generate scale {args.scale:g}: {rows:,} rows in "
              f"{generated:.1f} s ({rows / generated:,.0f} rows/s)")
        files = sorted((tmp / "csv").glob("*.csv"))

        def floor():
            path = tmp / "floor.duckdb"
            path.unlink(missing_ok=True)
            with duckdb.connect(str(path)) as con:
                for f in files:
                    con.execute(
                        f"create table {f.stem} as "  # noqa: S608 - bench file names
                        "select * from read_csv($p)", {"p": str(f)})

        def load():
            path = tmp / "load.duckdb"
            path.unlink(missing_ok=True)
            ingest.load_files(files, path)

        floor_s, load_s = best(floor, args.repeat), best(load, args.repeat)
        print(f"load: {load_s:.2f} s vs read_csv floor {floor_s:.2f} s "
              f"-> ratio {load_s / floor_s:.2f}")
        # no target at this scale: issue 12's is bench/ingest.py's, at 1M
        figures.record("run", f"every sample file at scale {args.scale:g}: "
                       "load / read_csv", load_s / floor_s, "x",
                       detail=f"{rows:,} rows: {load_s:.2f} s against "
                       f"{floor_s:.2f} s")
        window = {"start_date": date.today() - timedelta(days=365),
                  "end_date": date.today() + timedelta(days=1)}
        with db.connect(tmp / "load.duckdb", read_only=True) as con:
            scan = best(lambda: con.execute(
                "select count(*) from changes").fetchall(), args.repeat)
            print(f"baseline scan of changes: {1000 * scan:.1f} ms")
            for name in HEADLINES:
                took = best(lambda n=name: db.run(con, n, **window), args.repeat)
                print(f"{name:<34} {1000 * took:8.1f} ms  ratio "
                      f"{took / scan:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
