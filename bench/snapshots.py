"""What keeping a snapshot costs a publish, and what a snapshot weighs,
against a compact export (issue 17).

  python bench/snapshots.py --db COPY_OF_A_BIG.duckdb [--repeat 3]

The file given is WRITTEN (publishes into it, snapshots beside it): give a
copy. Each round publishes a one-row change (a delete) with snapshots on
and with them off (all three retention settings 0), timing the whole
publish and, with them on, the snapshot work alone (two fingerprints, the
hard link, sealing, pruning); then it writes the canonical and derived
tables as Parquet (zstd), the compact alternative, and times that.

Measured on a busy shared 2-core machine (other builds running), sample at
scale 125 (1,000,000 changes, a 264 MB file), 3 rounds:

  publish, snapshots off     median 2.66 s  (2.66, 2.58, 4.67)
  publish, snapshots on      median 4.13 s  (2.56, 4.13, 4.75)
    the snapshot work alone  median 0.10 s  (0.04, 0.10, 0.16): two
                             fingerprints, the hard link, pruning
  a snapshot on disk         265 MB: the file it was, no byte copied
  Parquet zstd, 20 tables    76 MB in 6.9 s (5.3 s and 9.1 s in earlier runs)

The publish times vary more between rounds than the snapshot work costs;
the work alone is timed directly. (A round with snapshots off prunes every
snapshot, as the settings say: one is kept at the end.)
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from changeboard import db, snapshots


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def one_publish(path: Path) -> None:
    with db.publish(path) as con:
        con.execute("delete from changes where change_id = (select "
                    "min(change_id) from changes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True,
                        help="a COPY of a big database: it is written")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with db.publish(args.db):  # bring it to this code's macros first
        pass
    spent = {"off": [], "on": [], "snapshot work": []}
    work = {"t": 0.0}
    original_link = snapshots.link_old
    original_fingerprint = snapshots.fingerprint

    def measured(function):
        def wrapper(*a, **k):
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                work["t"] += time.perf_counter() - start
        return wrapper

    snapshots.link_old = measured(original_link)
    snapshots.fingerprint = measured(original_fingerprint)
    snapshots.prune = measured(snapshots.prune)
    for _ in range(args.repeat):
        for setting in ("KEEP_LAST", "DAILY", "MONTHLY"):
            os.environ[f"CHANGEBOARD_SNAPSHOTS_{setting}"] = "0"
        spent["off"].append(timed(lambda: one_publish(args.db)))
        for setting, value in (("KEEP_LAST", "5"), ("DAILY", "14"),
                               ("MONTHLY", "24")):
            os.environ[f"CHANGEBOARD_SNAPSHOTS_{setting}"] = value
        work["t"] = 0.0
        spent["on"].append(timed(lambda: one_publish(args.db)))
        spent["snapshot work"].append(work["t"])
    for what, times in spent.items():
        print(f"publish, {what:<14} median {statistics.median(times):6.2f} s"
              f"  ({', '.join(f'{t:.2f}' for t in times)})")
    kept = snapshots.listing(args.db)
    print(f"snapshots kept: {len(kept)}, newest {kept[-1].size / 1e6:,.0f} MB"
          f"; folder {snapshots.disk_use(args.db) / 1e6:,.0f} MB")
    con = duckdb.connect()
    con.execute("attach $p as f (read_only)", {"p": str(args.db)})
    tables = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where "
        "table_catalog = 'f' and table_type = 'BASE TABLE'").fetchall()]
    with tempfile.TemporaryDirectory(dir=args.db.parent) as out:
        total = 0

        def export():
            nonlocal total
            for table in tables:
                target = Path(out) / f"{table}.parquet"
                con.execute(f"copy f.{table} to '{target}' "  # noqa: S608
                            "(format parquet, compression zstd)")
                total += target.stat().st_size
        seconds = timed(export)
    print(f"Parquet zstd of {len(tables)} tables: {total / 1e6:,.0f} MB in "
          f"{seconds:.1f} s")


if __name__ == "__main__":
    main()
