"""Dated, read-only snapshots of the published database (time travel).

Every publish swaps a new file in for the published one (db.replace). The
file it replaces is kept, hard-linked into `<database>.snapshots/` beside
the database and made read-only (mode 0400): keeping it costs no copy and
no extra disk at the moment of the swap, only the disk the old file would
otherwise have given back. A publish that changed no data (a sync that
found nothing new, a failed load) keeps nothing. A load whose rows were
all unchanged is another version: its batch is one more a pack names.

A file version is named by the UTC time it was published (its mtime, which
nothing changes afterwards): `2026-12-08T14-03-27.512031Z`. The live file
has a name too (version_name), so a CAB pack built from live data names
the snapshot that file becomes when a later publish replaces it. A publish
that changed no data keeps the name of the file it replaces (db.replace
gives the new file its mtime): a pack built from that file is rebuilt from
the new one, the same bytes, as it would have been from a snapshot.

Retention (after each publish): the newest CHANGEBOARD_SNAPSHOTS_KEEP_LAST,
plus the newest of each of the last CHANGEBOARD_SNAPSHOTS_DAILY days, plus
the newest of each of the last CHANGEBOARD_SNAPSHOTS_MONTHLY months (UTC
calendar days and months, the current one included), plus every version a
CAB meeting's minutes read (the data as it stood at its first decision).

A snapshot is never written: it is attached read-only, db.connect and
db.publish refuse it, and one written by an older Changeboard (older schema
or macros) is read through an upgraded copy in `<database>.snapshots/
.upgraded/`, rebuilt whenever the code's schema or macros change; the
snapshot's own bytes never change.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from changeboard import config

SUFFIX = ".duckdb"
FOLDER_SUFFIX = ".snapshots"
UPGRADED = ".upgraded"
SNAPSHOT_MODE = 0o400  # read-only, owner only
_NAME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{6}Z(-\d+)?")
LIVE = "live"


class SnapshotError(Exception):
    """An unknown snapshot, or a write to one."""


@dataclass(frozen=True)
class Snapshot:
    name: str
    path: Path
    published_at: datetime  # when this version was published (UTC)
    size: int  # bytes on disk

    @property
    def label(self) -> str:
        return f"{self.published_at:%d %b %Y %H:%M:%S} UTC"


def labels(kept: list[Snapshot]) -> dict[str, str]:
    """Each snapshot's label, to the second, and to the microsecond where
    another shares its second (a load of several files publishes a version
    per file): a picker whose options read alike picked the first of them
    on the next rerun, so every page went on with another version than
    the one chosen (an auditor's walkthrough)."""
    seconds = Counter(s.label for s in kept)
    return {s.name: s.label if seconds[s.label] == 1 else
            f"{s.published_at:%d %b %Y %H:%M:%S.%f} UTC" for s in kept}


# --- names and places -------------------------------------------------------

def folder(db_path: str | Path) -> Path:
    """`<database>.snapshots/` beside the database."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + FOLDER_SUFFIX)


def is_snapshot(path: str | Path) -> bool:
    """Whether the path is a kept snapshot or an upgraded copy of one."""
    parent = Path(path).resolve().parent
    return parent.name.endswith(FOLDER_SUFFIX) or (
        parent.name == UPGRADED and parent.parent.name.endswith(FOLDER_SUFFIX))


def identify(path: str | Path) -> tuple[Path, str | None]:
    """(the live database, the version name) of a file read: the live file
    itself, a snapshot of it, or a snapshot's upgraded copy."""
    path = Path(path).resolve()
    parent = path.parent
    if parent.name == UPGRADED and parent.parent.name.endswith(FOLDER_SUFFIX):
        parent = parent.parent
    if parent.name.endswith(FOLDER_SUFFIX):
        found = _NAME.match(path.name)
        return (parent.with_name(parent.name[:-len(FOLDER_SUFFIX)]),
                found.group(0) if found else None)
    return path, version_name(path)


def name_at(instant_ns: int) -> str:
    """The name of a file version published at this instant (ns since the
    epoch, UTC)."""
    seconds, ns = divmod(instant_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H-%M-%S}.{ns // 1000:06d}Z"


def version_name(path: str | Path) -> str | None:
    """The name of the file version at path (None: no file)."""
    try:
        return name_at(os.stat(path).st_mtime_ns)
    except FileNotFoundError:
        return None


def published_at(name: str) -> datetime:
    """The publish time a snapshot name records."""
    stem = name.split("Z")[0]
    day, clock = stem.split("T")
    return datetime.fromisoformat(
        f"{day}T{clock[:8].replace('-', ':')}{clock[8:]}+00:00")


def listing(db_path: str | Path) -> list[Snapshot]:
    """The kept snapshots, oldest first."""
    found = []
    where = folder(db_path)
    if not where.is_dir():
        return []
    for path in where.glob(f"*{SUFFIX}"):
        name = path.name[:-len(SUFFIX)]
        if _NAME.fullmatch(name):
            found.append(Snapshot(name, path, published_at(name),
                                  path.stat().st_size))
    return sorted(found, key=lambda s: (s.published_at, s.name))


def named(db_path: str | Path, name: str | None) -> str | None:
    """The version a name denotes, among the kept snapshots and the live
    file (`live`, its own name, or the start of one name alone: a day, as
    `snapshots list` shows the live file beside the snapshots); None for
    no name. SnapshotError when it names none or several."""
    live = version_name(db_path)
    if name in (None, "") or name.strip().casefold() == LIVE \
            or name == live:
        return live
    kept = [s.name for s in listing(db_path)]
    if name in kept:
        return name
    starting = [k for k in [*kept, live] if k and k.startswith(name)]
    if len(starting) == 1:
        return starting[0]
    if not starting:
        find(db_path, name, live_too=True)  # says none, the newest kept
    # the newest five, the live file first: give more of a name for one
    newest = starting[::-1][:5]
    raise SnapshotError(
        f"{name!r} names {len(starting)} versions: " + ", ".join(
            f"{k} (live)" if k == live else k for k in newest)
        + (f" and {len(starting) - 5} older" if len(starting) > 5 else "")
        + ": give more of the name, e.g. " + newest[-1])


LOADS = ("select count(*), max(finished_at), bit_xor(hash(batch_id)) from "
         "f.ingest_batches where status = 'succeeded' and ($at is null or "
         "finished_at <= $at)")


def live_at(db_path: str | Path, instant: datetime) -> str | None:
    """The name of a file version holding the data that was live at
    `instant`: the loads that had succeeded by then, as the live file's log
    records them (compared as fingerprint_of compares them). A version's
    name, the time of its publish or of a copy, cannot say it: a database
    copied with `cp` is published at the copy. The live file, else the
    newest kept snapshot holding them; None when none does (retention
    pruned it)."""
    live = version_name(db_path)
    if live is None:
        return None
    # what is read depends on the versions there are, each of which never
    # changes: worked out once per process for them
    return _holding(str(db_path), live, tuple(listing(db_path)), instant)


@functools.lru_cache(maxsize=64)
def _holding(db_path: str, live: str, kept: tuple[Snapshot, ...],
             instant: datetime) -> str | None:
    with _attached(db_path) as con:
        wanted = con.execute(LOADS, {"at": instant}).fetchone()
        if con.execute(LOADS, {"at": None}).fetchone() == wanted:
            return live
    for snapshot in reversed(kept):
        try:
            with _attached(snapshot.path) as con:
                held = con.execute(LOADS, {"at": None}).fetchone()
        except duckdb.Error:  # unreadable here (another schema): not it
            continue
        if held == wanted:
            return snapshot.name
    return None


def replaced_at(db_path: str | Path, name: str) -> datetime:
    """When the version `name` stopped being the live data: the first load
    the live file's log records after it (a succeeded batch the snapshot
    does not hold), else the live file's publish (a copy made since, say).
    A historical view reads the CAB decisions recorded until then: those
    made while that data was live."""
    snapshot = find(db_path, name)
    return _replaced(str(db_path), version_name(db_path), snapshot)


@functools.lru_cache(maxsize=64)
def _replaced(db_path: str, live: str, snapshot: Snapshot) -> datetime:
    # read as every page reads it: through its upgraded copy when an older
    # Changeboard wrote it
    with _attached(read_path(db_path, snapshot.name)) as con:
        held = [r[0] for r in con.execute(
            "select batch_id from f.ingest_batches where status = "
            "'succeeded'").fetchall()]
    with _attached(db_path) as con:
        after = con.execute(
            "select min(finished_at) from f.ingest_batches where status = "
            "'succeeded' and finished_at >= $published and not "
            "list_contains($held, batch_id)",
            {"published": snapshot.published_at, "held": held}).fetchone()[0]
    return after.astimezone(UTC) if after is not None else published_at(live)


def find(db_path: str | Path, name: str, live_too: bool = False
         ) -> Snapshot:
    """The snapshot called name (or the one unique name starting with it).
    live_too: the name was read as a version, which `live` names too (the
    error says so)."""
    kept = listing(db_path)
    exact = [s for s in kept if s.name == name]
    matches = exact or [s for s in kept if name and s.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        live = version_name(db_path)
        hint = (f"; {name} is the live file (read it without --as-of)"
                if live == name else "")
        newest = ", ".join(s.name for s in kept[::-1][:3]) or "none kept"
        also = f"; `{LIVE}` reads the live file" if live_too else ""
        raise SnapshotError(
            f"no snapshot {name!r} in {folder(db_path)}{hint} (newest: "
            f"{newest}; `changeboard snapshots list` lists them{also})")
    raise SnapshotError(f"{name!r} names {len(matches)} snapshots: "
                        + ", ".join(s.name for s in matches[:5]))


def disk_use(db_path: str | Path) -> int:
    """Bytes the snapshot folder holds (kept snapshots and upgraded copies)."""
    where = folder(db_path)
    if not where.is_dir():
        return 0
    return sum(p.stat().st_size for p in where.rglob("*") if p.is_file())


# --- keeping one (called by db.replace with the writer lock held) -----------

_scratch_con: duckdb.DuckDBPyConnection | None = None
_scratch_lock = threading.Lock()


@contextmanager
def _attached(path: str | Path):
    """A cursor with the file attached read-only as `f`, on one in-memory
    instance per process (starting an instance costs more than the look);
    the live file too (`snapshots list`), attached again if a publish
    replaced it meanwhile (db.opened_whole)."""
    from changeboard import db  # db keeps snapshots: imported late

    db.refuse_other_file(path, reading=True)
    global _scratch_con
    with _scratch_lock:
        if _scratch_con is None:
            _scratch_con = duckdb.connect(config={"memory_limit": "256MB"})
            _scratch_con.execute("set TimeZone = 'UTC'")
        con = _scratch_con
        db.opened_whole(
            path, lambda: con.execute("attach $p as f (read_only)",
                                      {"p": str(path)}),
            lambda _: con.execute("detach f"))
        try:
            yield con
        finally:
            con.execute("use memory")
            con.execute("detach f")


def fingerprint(path: str | Path) -> tuple | None:
    """What says whether two published files hold different data: the schema
    version and macros, per table with rows from loads its row count
    and highest batch id (every row a load writes carries that load's
    batch id, the highest so far; a delete lowers a count), and the
    succeeded loads (a pack names them). A failed load or a sync that
    found nothing new changes none of it."""
    try:
        with _attached(path) as con:
            con.execute("use f")
            return fingerprint_of(con)
    except duckdb.Error:
        return None


def fingerprint_of(con) -> tuple:
    """fingerprint() of the database a connection uses (a publish asks the
    file it wrote before closing it, instead of attaching it again)."""
    found = []
    for meta in ("schema_version", "macro_set"):
        try:
            found.append(con.execute(
                f"select max(columns(*)) from {meta}").fetchall())  # noqa: S608
        except duckdb.CatalogException:
            found.append(None)
    from changeboard import db  # db keeps snapshots: imported late

    found.append(tuple(sorted(db.load_marks(con).items())))
    # the loads a CAB pack names (cab_pack_sources: the succeeded batches
    # and the last one's end, the as_of readiness is judged at): a load
    # whose rows were all unchanged gives another pack from the same rows
    try:
        found.append(con.execute(
            "select count(*), max(finished_at), bit_xor(hash(batch_id)) "
            "from ingest_batches where status = 'succeeded'").fetchall())
    except duckdb.CatalogException:
        found.append(None)
    return tuple(found)


def policy() -> tuple[int, int, int]:
    """(last, days, months) from the settings, read now."""
    values = []
    for setting in ("CHANGEBOARD_SNAPSHOTS_KEEP_LAST",
                    "CHANGEBOARD_SNAPSHOTS_DAILY",
                    "CHANGEBOARD_SNAPSHOTS_MONTHLY"):
        text = config.env(setting)
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{setting} must be a whole number, got "
                             f"{text!r}") from None
        if value < 0:
            raise ValueError(f"{setting} must be 0 or more, got {value}")
        values.append(value)
    return tuple(values)


def enabled() -> bool:
    return any(policy())


def link_old(path: Path) -> Path | None:
    """Keep the published file at path (about to be replaced) under its
    name in the snapshot folder: a hard link, a copy where links are
    impossible. Returns the kept path."""
    name = version_name(path)
    if name is None:
        return None
    where = folder(path)
    where.mkdir(mode=0o700, exist_ok=True)
    for n in range(100):
        kept = where / f"{name}{'' if n == 0 else f'-{n}'}{SUFFIX}"
        try:
            os.link(path, kept)
        except FileExistsError:
            continue
        except OSError:  # no hard links here: a copy keeping the mtime
            if kept.exists():
                continue
            shutil.copy2(path, kept)
        return kept
    return None


def seal(kept: Path) -> None:
    """Make a kept snapshot read-only (after the swap: until then its inode
    was the published file's)."""
    os.chmod(kept, SNAPSHOT_MODE)


# --- retention ----------------------------------------------------------------

def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def retained(times: list[datetime], now: datetime, last: int, days: int,
             months: int) -> set[datetime]:
    """The snapshot times the policy keeps: the `last` newest, the newest of
    each of the last `days` UTC calendar days and of each of the last
    `months` UTC calendar months (today and this month count)."""
    ordered = sorted(set(times), reverse=True)
    kept = set(ordered[:last])
    today = now.astimezone(UTC).date()
    seen_days: set[date] = set()
    seen_months: set[int] = set()
    for moment in ordered:  # newest first: the first of a day is its newest
        day = moment.astimezone(UTC).date()
        if 0 <= (today - day).days < days and day not in seen_days:
            seen_days.add(day)
            kept.add(moment)
        month = _month(day)
        if 0 <= _month(today) - month < months and month not in seen_months:
            seen_months.add(month)
            kept.add(moment)
    return kept


def outside(db_path: str | Path, now: datetime | None = None
            ) -> tuple[list[Snapshot], dict[str, datetime]]:
    """(the snapshots the retention policy no longer keeps, those of them
    kept all the same as the data a CAB meeting's minutes read: name ->
    the meeting)."""
    kept_snapshots = listing(db_path)
    keep = retained([s.published_at for s in kept_snapshots],
                    now or datetime.now(UTC), *policy())
    gone = [s for s in kept_snapshots if s.published_at not in keep]
    return gone, minutes_read(db_path, gone)


def minutes_read(db_path: str | Path, among: list[Snapshot]
                 ) -> dict[str, datetime]:
    """Of `among`, the snapshots holding the data as it stood when a CAB
    meeting's first decision was recorded, which its minutes read
    (reports.minutes.read_version: their numbering and "Regenerate with"
    name it): name -> the meeting. Retention pruned them with nothing
    said, and the minutes then read today's data (an auditor's
    walkthrough). Only the snapshots about to go are read."""
    from changeboard import decisions

    firsts = decisions.first_decisions(db_path) if among else []
    if not firsts:
        return {}
    with _attached(db_path) as con:
        live = con.execute(LOADS, {"at": None}).fetchone()
        wanted = {}
        for meeting, at in firsts:
            held = con.execute(LOADS, {"at": at.to_pydatetime()}).fetchone()
            if held != live:  # the live file holds it: no snapshot needed
                wanted.setdefault(held, meeting.to_pydatetime())
    found = {}
    for snapshot in among:
        try:
            with _attached(snapshot.path) as con:
                held = con.execute(LOADS, {"at": None}).fetchone()
        except duckdb.Error:  # unreadable here (another schema): not it
            continue
        if held in wanted:
            found[snapshot.name] = wanted[held]
    return found


def prune(db_path: str | Path, now: datetime | None = None) -> list[Snapshot]:
    """Delete the snapshots the retention policy no longer keeps, but for
    those a CAB meeting's minutes read (minutes_read), and the upgraded
    copies of snapshots gone or of another Changeboard version; returns
    those deleted. Call with the writer lock held."""
    doomed, pinned = outside(db_path, now)
    gone = []
    for snapshot in doomed:
        if snapshot.name not in pinned:
            snapshot.path.unlink(missing_ok=True)
            gone.append(snapshot)
    upgraded = folder(db_path) / UPGRADED
    if upgraded.is_dir():
        current = _upgraded_suffix()
        wanted = {f"{s.name}.{current}" for s in listing(db_path)}
        for copy in upgraded.iterdir():
            if copy.name.startswith(".") or not copy.name.endswith(SUFFIX):
                continue  # being built, or a builder's lock
            if copy.name not in wanted:
                copy.unlink(missing_ok=True)
    return gone


# --- reading one --------------------------------------------------------------

def _upgraded_suffix() -> str:
    from changeboard import db

    return f"v{db.SCHEMA_VERSION}.{db.macros_sha256()[:12]}{SUFFIX}"


def _is_current_file(path: Path) -> bool:
    from changeboard import db

    st = path.stat()
    return _current(str(path), st.st_ino, st.st_mtime_ns, st.st_ctime_ns,
                    db.SCHEMA_VERSION, db.macros_sha256())


@functools.lru_cache(maxsize=256)
def _current(path: str, inode: int, mtime_ns: int, ctime_ns: int,
             schema: int, macros: str) -> bool:
    """Whether the file needs no upgrade; asked once per file version and
    code version (an app page asks on every query)."""
    from changeboard import db

    with _attached(path) as con:
        con.execute("use f")
        return db.is_current(con)


def read_path(db_path: str | Path, name: str) -> Path:
    """The file to read snapshot `name` from, read-only: the snapshot
    itself, or (written by an older Changeboard) its upgraded copy, built
    once per snapshot and code version. The snapshot is never written."""
    snapshot = find(db_path, name)
    if _is_current_file(snapshot.path):
        return snapshot.path
    from changeboard import db

    upgraded = folder(db_path) / UPGRADED
    copy = upgraded / f"{snapshot.name}.{_upgraded_suffix()}"
    if copy.exists():
        return copy
    with db.writer_lock(copy):  # one builder per copy
        if copy.exists():
            return copy
        upgraded.mkdir(mode=0o700, exist_ok=True)
        work = upgraded / f".{copy.name}.{os.getpid()}.tmp"
        try:
            shutil.copyfile(snapshot.path, work)
            os.chmod(work, 0o600)
            con = duckdb.connect(str(work))  # a private copy: writable
            try:
                con.execute("set TimeZone = 'UTC'")
                db.migrate(con)
                db.materialize(con)
                con.execute("checkpoint")
            finally:
                con.close()
            os.chmod(work, SNAPSHOT_MODE)
            os.replace(work, copy)
        finally:
            for leftover in (work, work.with_name(work.name + ".wal")):
                leftover.unlink(missing_ok=True)
    copy.with_name(copy.name + ".lock").unlink(missing_ok=True)
    return copy


def source(db_path: str | Path, as_of: str | None) -> tuple[Path, str | None]:
    """(file to read, version name) for live data (as_of None or 'live') or
    a snapshot."""
    name = named(db_path, as_of)
    if name == version_name(db_path):
        # the live file by its own name (or the start of it) too: a pack's
        # provenance names the version it read, which stays live until a
        # later publish
        return Path(db_path), name
    snapshot = find(db_path, name)
    return read_path(db_path, snapshot.name), snapshot.name


# --- what a snapshot holds ----------------------------------------------------

def contents(path: str | Path) -> dict:
    """Batches (from ingest_batches) and row counts of a database file,
    read read-only."""
    from changeboard import db  # db keeps snapshots: imported late

    with _attached(path) as con:
        con.execute("use f")
        # the loaded tables' rows, not a derived table's (worked out from
        # them: a snapshot's rows counted derived_open_changes, so a load
        # adding changes could leave the total as it was: an auditor)
        counts = {table: n for table, (n, _) in sorted(
            db.load_marks(con).items()) if not table.startswith("derived_")}
        try:
            batches = con.execute(
                "select batch_id, source, entity, file_name, status, "
                "finished_at, rows_loaded, rows_rejected from ingest_batches "
                "order by batch_id").df()
        except duckdb.CatalogException:
            batches = None
        try:
            version = con.execute(
                "select max(version) from schema_version").fetchone()[0]
        except duckdb.CatalogException:
            version = None
        return {"counts": counts, "batches": batches,
                "schema_version": version}
