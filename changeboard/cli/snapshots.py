"""changeboard snapshots list|show|prune: the dated read-only snapshots each
publish keeps of the database file it replaces (changeboard/snapshots.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from changeboard import config, db, snapshots
from reports import text
from reports.text import many, ranges


def size(n: int) -> str:
    """Bytes as people read them: 8.8 MB."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


def _batches(frame) -> str:
    """Batch ids as ranges: 1–12, 14 (succeeded ones)."""
    if frame is None or frame.empty:
        return "none"
    ids = sorted(int(b) for b in frame.loc[frame["status"] == "succeeded",
                                           "batch_id"])
    return ranges(ids) if ids else "none succeeded"


def _rows(counts: dict) -> int:
    return sum(counts.values())


def run(args, parser) -> int:
    db_path = Path(args.db or config.DB_PATH)
    try:
        if args.action == "list":
            return _list(db_path)
        if args.action == "show":
            return _show(db_path, args.name)
        return _prune(db_path, dry_run=args.dry_run)
    except (snapshots.SnapshotError, ValueError, FileNotFoundError) as error:
        # an input error (no database at --db, no such snapshot, a retention
        # setting that is not a number): 2, as `changeboard query`'s
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2


def _listing(db_path: Path) -> list:
    """The kept snapshots; FileNotFoundError when there is neither a
    database nor a snapshot at --db (a mistyped --db: not 0 of none)."""
    kept = snapshots.listing(db_path)
    if not kept and not db_path.is_file():
        raise FileNotFoundError(f"no database at {db_path} and no snapshots "
                                f"in {snapshots.folder(db_path)}")
    return kept


def _list(db_path: Path) -> int:
    kept = _listing(db_path)
    entries = [(s.name, s.published_at, s.path, s.size) for s in kept]
    live = snapshots.version_name(db_path)
    if live is not None:
        entries.append((f"{live} (live)", snapshots.published_at(live),
                        db_path, db_path.stat().st_size))
    rows = []
    for name, when, path, n_bytes in entries:
        found = snapshots.contents(path)
        rows.append((name, f"{when:%Y-%m-%d %H:%M:%S}",
                     _batches(found["batches"]),
                     f"{found['counts'].get('changes', 0):,}",
                     f"{_rows(found['counts']):,}", size(n_bytes)))
    header = ("snapshot", "published (UTC)", "batches", "changes", "rows",
              "size")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(6)]
    for row in [header, *rows]:  # text left, numbers right, columns aligned
        print("  ".join(v.ljust(w) if i < 3 else v.rjust(w)
                        for i, (v, w) in enumerate(zip(row, widths,
                                                       strict=True))))
    last, days, months = snapshots.policy()
    print(f"\n{many(len(kept), 'snapshot')} in "
          f"{snapshots.folder(db_path)}: "
          f"{size(snapshots.disk_use(db_path))} on disk (a snapshot is the "
          "whole database file it was). Kept: the newest "
          f"{last}, the newest of each of the last {many(days, 'day')} and "
          f"of each of the last {many(months, 'month')}, and every "
          "version a CAB meeting's minutes read.")
    return 0


def _show(db_path: Path, name: str) -> int:
    if name == snapshots.LIVE or (db.version(db_path) is not None and
                                  snapshots.named(db_path, name) ==
                                  snapshots.version_name(db_path)):
        path, shown = db_path, f"{snapshots.version_name(db_path)} (live)"
        if db.version(db_path) is None:
            raise FileNotFoundError(f"no database at {db_path}")
    else:
        found = snapshots.find(db_path, snapshots.named(db_path, name))
        path, shown = found.path, found.name
    contents = snapshots.contents(path)
    published = snapshots.published_at(shown.split(" ")[0])
    print(f"snapshot        {shown}")
    print(f"file            {path}")
    print(f"published       {published:%Y-%m-%d %H:%M:%S.%f} UTC")
    print(f"size            {size(path.stat().st_size)}")
    print(f"schema version  {contents['schema_version']}"
          + ("" if contents["schema_version"] == db.SCHEMA_VERSION else
             f" (this Changeboard: {db.SCHEMA_VERSION}; read through an "
             "upgraded copy, the snapshot is never written)"))
    print("rows")
    for table, n in contents["counts"].items():
        print(f"  {table:<22} {n:>11,}")
    batches = contents["batches"]
    print(f"batches         {_batches(batches)}")
    if batches is not None:
        for row in batches.itertuples():
            finished = "" if row.finished_at is None or \
                str(row.finished_at) == "NaT" else \
                f"{row.finished_at:%Y-%m-%d %H:%M}"
            loaded = "" if row.rows_loaded is None or \
                str(row.rows_loaded) == "nan" else f"{int(row.rows_loaded):,}"
            print(f"  {row.batch_id:>5} {row.status:<9} {finished:<16} "
                  f"{row.source:<14} {row.entity:<20} {loaded:>9} "
                  f"{'row ' if loaded == '1' else 'rows'}  "
                  f"{row.file_name}")
    name = shown.split(" ")[0]
    print(f"\nread it: changeboard query QUERY --as-of {name} ... or "
          f"changeboard report cab --date YYYY-MM-DD --as-of {name} ..."
          if "(live)" not in shown else
          "\nthe live file: a later publish that changes data keeps it as a "
          "snapshot of this name")
    return 0


def _prune(db_path: Path, *, dry_run: bool) -> int:
    kept = _listing(db_path)  # refused before the writer lock is taken
    before = snapshots.disk_use(db_path)
    doomed, pinned = snapshots.outside(db_path)
    for name, meeting in pinned.items():
        print(f"kept {name}: the data the minutes of the CAB meeting of "
              f"{text.when(meeting)} ({config.REPORTING_TZ}) read")
    if dry_run:
        gone = [s for s in doomed if s.name not in pinned]
        for snapshot in gone:
            print(f"would delete {snapshot.name} ({size(snapshot.size)})")
        print(f"{many(len(gone), 'snapshot')} would be deleted; "
              f"{len(kept) - len(gone)} kept")
        return 0
    with db.writer_lock(db_path):
        gone = snapshots.prune(db_path)
    for snapshot in gone:
        print(f"deleted {snapshot.name} ({size(snapshot.size)})")
    after = snapshots.disk_use(db_path)
    print(f"{many(len(gone), 'snapshot')} deleted; "
          f"{len(snapshots.listing(db_path))} "
          f"kept, {size(after)} on disk (was {size(before)})")
    return 0
