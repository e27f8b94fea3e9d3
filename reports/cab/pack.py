"""Pack assembly: build_pack() runs the CAB queries for one meeting into a
Pack, everything the pre-read shows; the writers add nothing else."""
from __future__ import annotations

import math
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from changeboard import config, db, decisions, groups
from changeboard.filters import refusal
from changeboard.words import many, unrated_authorisation
from reports import decided
from reports.cab.meetings import (
    cab_weekdays,
    following_meeting,
    instant,
    previous_meeting,
    reporting_zone,
)
from reports.text import local_day

SIMILAR_LOOKBACK_DAYS = 365  # history of similar changes (cohorts)
MAX_WINDOW_DAYS = 366  # the review window: at most a year after the meeting
TEAM_LOOKBACK_DAYS = 90  # team success score and its last failures
INCIDENT_LOOKBACK_DAYS = 30  # incidents on the application
FILTER_NAMES = ("application_ids", "portfolios", "teams", "change_types",
                "tiers")
class Kpi(NamedTuple):
    """A headline KPI since the last CAB: its label, query, the query's
    rate and count columns, what the count is, and what its n counts,
    for any n ('implemented changes') and for one ('implemented
    change'); `unknown`: the query's count of changes the source leaves
    unrated (n leaves them out), and `unknown_is` what they lack and what
    to map, for a KPI whose n is 0 only because of them; `unknown_split`:
    of them, the query's count of those without the CAB flag, when what
    they lack is said from the counts (words.unrated_authorisation);
    `unknown_short`: what they lack in a few words, said beside an n that
    leaves some of them out."""

    label: str
    query: str
    rate: str
    count: str
    count_is: str
    counts: str
    counts_one: str
    unknown: str = ""
    unknown_is: str = ""
    unknown_split: str = ""
    unknown_short: str = ""


KPI_SPECS = (
    Kpi("Change success rate", "change_success_rate", "change_success_rate",
        "n_failed", "failed", "implemented changes", "implemented change",
        "n_without_close_code",
        "completed without a close code, so no outcome is known: map "
        "`close_code` (docs/sources.md, section 7)",
        unknown_short="completed without a close code"),
    # completed changes (docs/metrics.md A24): wider than the success
    # rate's implemented ones (no close code, in review or closed, counts)
    Kpi("Emergency ratio", "emergency_change_ratio",
        "emergency_change_ratio", "n_emergency", "emergency",
        "completed changes", "completed change"),
    # docs/metrics.md unauthorized_changes: a change whose CAB flag or
    # approval is missing is unclassified (BPIC 2014 records no approval)
    Kpi("Unauthorised changes", "unauthorized_changes", "unauthorized_rate",
        "n_unauthorized", "unauthorised", "CAB-required changes started",
        "CAB-required change started", "n_unclassified",
        unknown_split="n_cab_flag_missing",
        unknown_short="started with the CAB flag or approval missing"),
)


@dataclass
class Pack:
    """Everything one CAB pre-read shows; the renderers add nothing else."""

    meeting_at: datetime
    window_start_at: datetime
    window_end_at: datetime
    is_window_end_default: bool
    since_start_date: date  # since last CAB: [since_start_date, meeting day)
    since_end_date: date
    before_start_date: date  # the period before it, for the KPI deltas
    reporting_tz: str
    filters: dict[str, list[str]]
    as_of: pd.Timestamp | None
    batch_ids: list[int]
    summary: pd.DataFrame  # cab_agenda_summary
    agenda: pd.DataFrame  # cab_agenda
    collisions: pd.DataFrame  # change_collisions
    window_hits: pd.DataFrame  # change_window_hits
    booking_hits: pd.DataFrame  # cab_booking_hits
    similar: pd.DataFrame  # similar_change_history
    team_scores: pd.DataFrame  # change_success_score, TEAM_LOOKBACK_DAYS
    team_failures: pd.DataFrame  # change_records of failed changes, same
    incidents: pd.DataFrame  # application_incidents, INCIDENT_LOOKBACK_DAYS
    releases: pd.DataFrame  # release_readiness, going live in the window
    labels: dict[str, str] = field(default_factory=dict)  # application names
    # the releases loaded, of any date (cab_pack_sources): with none, the
    # releases going live say so, not that none goes live
    n_releases_loaded: int | None = None
    # the changes loaded, of any date: with none, an empty agenda says so
    n_changes_loaded: int | None = None
    # an agenda the filters emptied: the changes for decision in the window
    # they leave out (None when not asked: no filter, or some change kept)
    filtered_out: int | None = None
    # the "since last CAB" section: cab_since_last, and the headline KPIs
    # since then and in the period before; None until read (a pack built
    # with since_last=False, as the CAB page opens on the agenda: with_since
    # reads them from the same file version)
    since_last: pd.DataFrame | None = None
    kpis: pd.DataFrame | None = None
    # the cadence it was built with (CHANGEBOARD_CAB_TIME and _WEEKDAYS,
    # beside reporting_tz): its Regenerate command names them
    cab_time: str | None = None
    cab_weekdays: str | None = None
    # CHANGEBOARD_FAILURE_MIN_PRIORITY it was built with (None: every
    # linked incident fails a change): its provenance says it
    failure_min_priority: int | None = None
    db_path: str | None = None  # the database file read (None: in memory)
    # the day the changes' data ends when it ends before the pack's days
    # since the last CAB (data_ends): an empty agenda is no quiet week
    data_ends: date | None = None
    # the last CAB's decisions beside what happened (reports/decided.py)
    decided_meeting_at: pd.Timestamp | None = None
    decided: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the file version read: the live file's or a snapshot's name
    # (changeboard/snapshots.py); None for a connection passed in
    data_version: str | None = None
    # the position of the CAB decision log read (decisions.recorded_until):
    # regenerating with it reads the same decisions
    decisions_until: str | None = None
    # each change's facts, evidence and flags, worked out on first use and
    # kept, so the HTML, PDF, XLSX and page read the same (cab/evidence.py)
    assessed: object = field(default=None, repr=False, compare=False)


class Period(NamedTuple):
    """The meeting's review window and its "since last CAB" days."""

    start: datetime  # the meeting: the review window starts
    end: datetime  # the review window ends (exclusive)
    is_default_end: bool  # end is the next meeting of the cadence
    meeting_day: date  # in the reporting zone
    since_start: date  # the previous meeting's day
    before_start: date  # as long again before since_start: the KPI deltas


def period_of(meeting_at: date | datetime,
              window_end_at: date | datetime | None) -> Period:
    """The meeting's period (a date means the cadence time); the review
    window ends at window_end_at, by default the next meeting."""
    start = instant(meeting_at)
    default_end = following_meeting(start)
    end = instant(window_end_at) if window_end_at is not None else default_end
    if end <= start:
        raise ValueError("the review window must end after the meeting")
    if end > start + timedelta(days=MAX_WINDOW_DAYS):
        raise ValueError(f"the review window must end within "
                         f"{MAX_WINDOW_DAYS} days of the meeting (it ends "
                         f"{end.astimezone(reporting_zone()):%Y-%m-%d})")
    meeting_day = start.astimezone(reporting_zone()).date()
    since_start = previous_meeting(start).astimezone(reporting_zone()).date()
    return Period(start, end, end == default_end, meeting_day, since_start,
                  since_start - (meeting_day - since_start))


def build_pack(con_or_db_path, meeting_at: date | datetime, *,
               window_end_at: date | datetime | None = None,
               filters: dict[str, list[str]] | None = None,
               as_of: str | None = None,
               decisions_until: str | None = None,
               since_last: bool = True) -> Pack:
    """Run the CAB queries for the meeting (a date means the cadence time).

    The review window runs from the meeting to window_end_at, by default the
    next meeting of the cadence; "since last CAB" covers the days from the
    previous meeting's to this meeting's, in the reporting time zone.
    `as_of`: the snapshot to read (changeboard/snapshots.py) instead of the
    live file; the pack is the one built from that file version when it
    was live, byte for byte. `decisions_until`: read the CAB decision log
    as it stood at that position (decisions.recorded_until; default: as it
    stands now), which the pack's provenance names for the same reason.
    `since_last=False`: the "since last CAB" section is not read yet
    (with_since reads it when asked for: a fifth of the pack's queries).
    """
    options = {"window_end_at": window_end_at, "filters": filters,
               "decisions_until": decisions_until, "since_last": since_last}
    if isinstance(con_or_db_path, (str, Path)):
        return _from_file(con_or_db_path, meeting_at, as_of, options)
    con = con_or_db_path
    period = period_of(meeting_at, window_end_at)
    filters = _checked(filters)
    refused = refusal(con, filters)
    if refused:  # a pack of 0 changes would read as a quiet week
        raise ValueError(f"filter {refused[0]}: {refused[1]}")
    tz = config.REPORTING_TZ
    window = {"window_start_at": period.start.isoformat(sep=" "),
              "window_end_at": period.end.isoformat(sep=" ")}

    file = _file_of(con)
    # the last CAB's decisions (the application state), their changes'
    # query run beside the others: after them, it was 30 ms of a cold CAB
    # page at a million changes with 300 decisions
    until, (decided_at, current) = _decisions_read(
        file["db_path"], period.start, decisions_until)
    looked_up = [] if current is None else [
        decided.changes_call(current["change_id"], filters)]
    with Runner(con, tz) as run:
        run.ahead([*_agenda_calls(window, filters).values(),
                   *_history_calls(period, window).values(),
                   *(_since_calls(period, filters) if since_last else []),
                   *looked_up])
        loaded = _loaded(con)
        ends = data_ends(lambda name: db.run(con, name), datetime.combine(
            period.since_start, datetime.min.time(), reporting_zone()))
        agenda = _agenda(run, window, filters)
        return Pack(
            meeting_at=period.start, window_start_at=period.start,
            window_end_at=period.end,
            is_window_end_default=period.is_default_end,
            since_start_date=period.since_start,
            since_end_date=period.meeting_day,
            before_start_date=period.before_start, reporting_tz=tz,
            cab_time=config.CAB_TIME.strip(),
            cab_weekdays=",".join(map(str, cab_weekdays())),
            failure_min_priority=config.failure_min_priority(),
            filters=filters, **loaded, data_ends=ends,
            releases=_going_live(run, filters, period.start, period.end,
                                 loaded["as_of"]),
            **agenda, filtered_out=_filtered_out(run, window, filters,
                                                 agenda["agenda"]),
            **_history(run, period, window),
            **(_since(run, period, filters) if since_last else {}),
            decided_meeting_at=decided_at, decisions_until=until,
            decided=pd.DataFrame() if current is None else
            decided.with_findings(current, run(*looked_up[0])),
            **file,
        )


def data_ends(read, since: datetime) -> date | None:
    """The day the changes' data ends, in the reporting zone, when it ends
    before `since` (a pack's first day since the last CAB, or the last
    meeting): every change created or closed and deployment finished, and
    every incident they caused, is older, and no change is planned after
    it (a 2014 data set; an export some weeks old still holds the next
    meeting's agenda). None when the data reaches it, or holds no change.
    `read(name)`: a query's rows (db.run on the pack's connection, or a
    page's cached query)."""
    zone = reporting_zone()
    latest = local_day(read("data_status").iloc[0]["latest_operations_at"],
                       zone)
    if latest is None or latest >= since.date():
        return None
    # asked only now: the incidents they caused, and their plans
    caused = local_day(read("latest_change_incident").iloc[0][
        "latest_change_incident_at"], zone)
    if caused is not None and caused >= since.date():
        return None
    planned = read("latest_planned_start").iloc[0]["latest_planned_start_at"]
    if pd.notna(planned) and pd.Timestamp(planned) >= since:
        return None
    return max(latest, caused) if caused else latest


def stale_note(pack: Pack) -> str | None:
    """What a pack whose changes' data ends before its days says first (in
    the HTML, PDF and e-mail, and on the CLI): a pack of 0 changes for
    decision read as a quiet week when the data ended in 2014. None when
    the data reaches its days."""
    if pack.data_ends is None:
        return None
    return (f"The changes' data ends on {pack.data_ends:%d %b %Y}, before "
            f"this pack's days (since the last CAB, from "
            f"{pack.since_start_date:%d %b %Y}): its agenda and counts hold "
            "nothing of them, which is no news of a quiet week. Load "
            "current data, or build the pack of a meeting the data covers.")


class Runner:
    """The pack's queries, db.run on its connection in the reporting zone
    (of those that take one).
    The calls named ahead run PARALLEL at a time on cursors of their own
    while the pack is put together (a query spends 20-40 ms binding and
    planning on one core before it reads a row, and a pack runs 20); any
    other call runs when asked, on the connection (`direct` names them).
    A context: on leaving it the calls still running are waited for."""

    PARALLEL = 2

    def __init__(self, con, tz: str):
        self.con, self.tz = con, tz
        self.waiting: dict[tuple, Future] = {}
        self.direct: list[str] = []
        self.cursors: queue.SimpleQueue = queue.SimpleQueue()
        self.pool = ThreadPoolExecutor(self.PARALLEL)

    def __enter__(self) -> Runner:
        # made here, on the caller's thread: a connection is not to be
        # used by two threads at once
        for _ in range(self.PARALLEL):
            self.cursors.put(db.beside(self.con))
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        while not self.cursors.empty():
            self.cursors.get().close()

    @staticmethod
    def _key(name: str, params: dict) -> tuple:
        return name, repr(sorted(params.items()))

    def ahead(self, calls: list[tuple[str, dict]]) -> None:
        for name, params in calls:
            self.waiting[self._key(name, params)] = self.pool.submit(
                self._on_own_cursor, name, params)

    def _on_own_cursor(self, name: str, params: dict) -> pd.DataFrame:
        cursor = self.cursors.get()
        try:
            return db.run(cursor, name, **self._zoned(name, params))
        finally:
            self.cursors.put(cursor)

    def __call__(self, name: str, params: dict | None = None,
                 **more) -> pd.DataFrame:
        params = {**(params or {}), **more}
        waiting = self.waiting.pop(self._key(name, params), None)
        if waiting is not None:
            return waiting.result()
        self.direct.append(name)
        return db.run(self.con, name, **self._zoned(name, params))

    def _zoned(self, name: str, params: dict) -> dict:
        if "reporting_tz" not in db.params(name):
            return params
        return {"reporting_tz": self.tz, **params}


def _from_file(path, meeting_at, as_of: str | None, options: dict) -> Pack:
    """The pack from the database file, or its snapshot `as_of`."""
    from changeboard import snapshots

    if db.version(path) is None and as_of in (None, "", "live"):
        raise FileNotFoundError(f"no database at {path}")
    for _ in range(3):  # a publish between naming and opening: again
        read, name = snapshots.source(path, as_of)
        with db.reading(read) as con:
            pack = build_pack(con, meeting_at, **options)
        if pack.data_version == name:
            break
    return pack


def _checked(filters: dict[str, list[str]] | None) -> dict[str, list[str]]:
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    unknown = sorted(set(filters) - set(FILTER_NAMES))
    if unknown:
        raise ValueError(f"unknown filter {', '.join(unknown)}")
    return filters


def _loaded(con) -> dict:
    """What the data is: its as-of, the batches loaded, application names."""
    found = db.run(con, "cab_pack_sources").iloc[0]
    return {
        "as_of": None if pd.isna(found["as_of"]) else found["as_of"],
        "batch_ids": [int(b) for b in found["batch_ids"]],
        "labels": dict(zip(found["application_ids"],
                           found["application_labels"], strict=True)),
        "n_releases_loaded": int(found["n_releases"]),
        "n_changes_loaded": int(found["n_changes"]),
    }


class PackOutdated(Exception):
    """The file version a pack read is no longer there to read the rest of
    it from (a load replaced it and kept no snapshot of it)."""


_since_lock = threading.Lock()


def with_since(pack: Pack) -> Pack:
    """The pack with its "since last CAB" section, read now when it was
    built without (build_pack(since_last=False)) from the file version the
    rest of it read, and kept on the pack: every renderer and session
    sharing it reads it once. PackOutdated when that version is gone."""
    if pack.since_last is not None:
        return pack
    with _since_lock:
        if pack.since_last is None:
            period = Period(pack.meeting_at, pack.window_end_at,
                            pack.is_window_end_default, pack.since_end_date,
                            pack.since_start_date, pack.before_start_date)
            with _reading_version(pack) as con, \
                    Runner(con, pack.reporting_tz) as run:
                run.ahead(_since_calls(period, pack.filters))
                read = _since(run, period, pack.filters)
            pack.kpis = read["kpis"]
            pack.since_last = read["since_last"]  # last: it says "read"
    return pack


def whole(pack: Pack, **rebuild) -> Pack:
    """The pack with its "since last CAB" section (with_since), or, when
    the version it read is gone, the whole pack of its file as it is now,
    built again with `rebuild` (build_pack's options: the window's end,
    the filters, an as-of), whose provenance names that version."""
    try:
        return with_since(pack)
    except PackOutdated:
        return build_pack(pack.db_path, pack.meeting_at, **rebuild)


@contextmanager
def _reading_version(pack: Pack):
    """A cursor on the file version the pack read."""
    from changeboard import snapshots

    if not pack.db_path:
        raise PackOutdated("the pack was built on a connection, not a file")
    try:
        with db.reading(data_file(pack)) as con:
            if _file_of(con)["data_version"] != pack.data_version:
                raise PackOutdated(f"{pack.data_version} is no longer live")
            yield con
    except (snapshots.SnapshotError, FileNotFoundError) as gone:
        raise PackOutdated(str(gone)) from gone


def data_file(pack: Pack):
    """The file version the pack read: the live file, or its snapshot once
    a later load replaced it."""
    from changeboard import snapshots

    name = pack.data_version
    if name and name != snapshots.version_name(pack.db_path):
        return snapshots.source(pack.db_path, name)[0]
    return pack.db_path


def logged_until(pack: Pack, until: str) -> Pack:
    """The pack as read with the decision log at `until` (now, on the CAB
    page), when no decision of an earlier meeting was recorded since it was
    built: what it read of the log is then what reading it up to `until`
    gives (a decision for this meeting or a later one is not in the pack),
    and its audit line and Regenerate command name the position the CLI
    would read now. The page rebuilds a pack when an earlier meeting's
    decision is recorded (its cache key), so the precondition holds there;
    the pack's assessments are kept."""
    if pack.decisions_until in (None, until):
        return pack
    moved = replace(pack, decisions_until=until)
    moved.assessed = pack.assessed
    return moved


def _agenda(run, window: dict, filters: dict) -> dict:
    """The changes for decision in the review window and what they meet."""
    return {key: run(*call)
            for key, call in _agenda_calls(window, filters).items()}


def _filtered_out(run, window: dict, filters: dict,
                  agenda: pd.DataFrame) -> int | None:
    """The changes for decision in the window that the filters leave out of
    an agenda they emptied: 'No change needs a CAB decision ... none is
    planned in it' blamed the date, where a team filter hid the two changes
    of a release waiting for the CAB (a release manager's walkthrough).
    None when no filter is set or the agenda holds a change."""
    if not any(filters.values()) or not agenda.empty:
        return None
    return int(run("cab_agenda_summary", window).iloc[0]["n"])


def _agenda_calls(window: dict, filters: dict) -> dict[str, tuple]:
    scope = {**window, **filters}
    return {
        "summary": ("cab_agenda_summary", scope),
        "agenda": ("cab_agenda", scope),
        "collisions": ("change_collisions", scope),
        "window_hits": ("change_window_hits", scope),
        "booking_hits": ("cab_booking_hits", scope),
        "similar": ("similar_change_history", {
            **scope, "as_of": window["window_start_at"],
            "lookback_days": SIMILAR_LOOKBACK_DAYS}),
    }


def queries_of(pack: Pack) -> dict[str, dict]:
    """The parameters the pack's queries ran with, by query name (its
    agenda's, its since-last-CAB list's and its releases going live's):
    what a page's "How is ... computed?" gives as the command reproducing
    the pack's numbers (similar_change_history read at the meeting, not
    now, which its defaults would; readiness as _going_live judged it)."""
    window = {"window_start_at": pack.window_start_at.isoformat(sep=" "),
              "window_end_at": pack.window_end_at.isoformat(sep=" ")}
    return {**dict(_agenda_calls(window, pack.filters).values()),
            **dict([_since_last_call(pack.since_start_date,
                                     pack.since_end_date, pack.filters)]),
            "release_readiness": _going_live_params(
                pack.filters, pack.window_start_at, pack.window_end_at,
                pack.as_of)}


def _history(run, period: Period, window: dict) -> dict:
    """The evidence about teams and applications: never filtered."""
    found = {key: run(*call)
             for key, call in _history_calls(period, window).items()}
    return found


def _history_calls(period: Period, window: dict) -> dict[str, tuple]:
    def look_back(before: int, start: str, end: str) -> dict:
        """The `before` days up to the meeting itself (a change that failed
        overnight, an incident this morning count): as the instants the
        query's `start` and `end` parameters take, with the dates it
        requires."""
        return {"start_date": period.meeting_day - timedelta(days=before),
                "end_date": period.meeting_day,
                start: (period.start - timedelta(days=before)).isoformat(
                    sep=" "),
                end: window["window_start_at"]}

    outcomes = look_back(TEAM_LOOKBACK_DAYS, "outcome_from",
                         "outcome_before")
    return {
        "team_scores": ("change_success_score", outcomes),
        # the failures known at the meeting, as the similar-change
        # evidence counts them: a later incident or rollback is not one;
        # newest first, in the query (sorted here, 40-50 ms of the CAB
        # page's first run at a million changes: pandas' first sort of
        # text columns in a process)
        "team_failures": ("change_records", {
            "failed_only": True, "newest_first": True, **outcomes,
            "signals_before": window["window_start_at"]}),
        "incidents": ("application_incidents", {
            **look_back(INCIDENT_LOOKBACK_DAYS, "opened_from",
                        "opened_before"),
            "as_of": window["window_start_at"]}),
    }


def _since_calls(period: Period, filters: dict) -> list[tuple]:
    return [_since_last_call(period.since_start, period.meeting_day,
                             filters), *_kpi_calls(filters, period)]


def _since(run, period: Period, filters: dict) -> dict:
    """The "since last CAB" section: its review list and headline KPIs."""
    return {"since_last": run(*_since_last_call(
                period.since_start, period.meeting_day, filters)),
            "kpis": _kpis(run, filters, period)}


def _since_last_call(since_start: date, meeting_day: date,
                     filters: dict) -> tuple:
    """The since-last-CAB list's query: the days from the last meeting's to
    this meeting's."""
    return ("cab_since_last", {"start_date": since_start,
                               "end_date": meeting_day, **filters})


def _decisions_read(db_path: str | None, start: datetime,
                    decisions_until: str | None) -> tuple:
    """(the position of the decision log read, (the last CAB before `start`
    with decisions, its current decisions)), from the live database's
    application state; no decisions without one."""
    if not db_path:
        return None, (None, None)
    until = decisions.until_key(decisions_until) or \
        decisions.recorded_until(db_path)
    return until, decided.last_decisions(db_path, start, until)


def _file_of(con) -> dict:
    """The live database's path and the file version read (a snapshot, or
    its upgraded copy, names the database it was a version of)."""
    found = con.execute("select path from duckdb_databases() "
                        "where database_name = current_database()").fetchone()
    path = found[0] if found else None
    if not path:
        return {"db_path": None, "data_version": None}
    from changeboard import snapshots

    live, name = snapshots.identify(path)
    return {"db_path": str(live), "data_version": name}


def _going_live(run, filters, start: datetime, end: datetime,
                data_as_of) -> pd.DataFrame:
    """release_readiness of the releases planned to go live in the review
    window [start, end), judged as the data stands (its last load), or at
    the meeting when that is earlier (a past meeting's pack): the query's
    horizon runs from then past the window's end, cut back to the window.
    The application filters apply; the others are about changes."""
    found = run("release_readiness",
                **_going_live_params(filters, start, end, data_as_of))
    going_live = found["planned_release_at"]
    return found[(going_live >= pd.Timestamp(start))
                 & (going_live < pd.Timestamp(end))].reset_index(drop=True)


def _going_live_params(filters, start: datetime, end: datetime,
                       data_as_of) -> dict:
    """_going_live's release_readiness parameters: judged at the last load
    or the meeting, whichever is earlier, over the days to the window's
    end, with the application filters."""
    judged = start if data_as_of is None or pd.isna(data_as_of) else min(
        start, pd.Timestamp(data_as_of).to_pydatetime())
    # elapsed time, in UTC: two instants of the reporting zone subtract as
    # wall clocks, and a window across the end of summer time would come
    # out an hour short (its last hour's go-lives lost)
    horizon = math.ceil((end.astimezone(UTC) - judged.astimezone(UTC))
                        / timedelta(days=1))
    kept = {k: v for k, v in filters.items()
            if k in db.params("release_readiness")}
    return {"as_of": judged.isoformat(sep=" "), "horizon_days": horizon,
            **kept}


def _kpi_calls(filters: dict, period: Period) -> list[tuple]:
    """Every KPI's query in each of its periods (as _kpis runs them): a
    family's groups query once for both (changeboard/groups.py)."""
    calls = []
    for kpi in KPI_SPECS:
        both = _kpi_both_call(kpi, filters, period)
        calls += [both] if both else [
            _kpi_call(kpi.query, dates, filters)
            for dates in _kpi_periods(period).values()]
    return calls


def _kpi_both_call(kpi: Kpi, filters: dict, period: Period) -> tuple | None:
    """The call of the KPI family's groups query that counts the days since
    the last CAB and the equal period before at once, or None."""
    family = groups.of(kpi.query)
    return family and _kpi_call(
        family, {**_kpi_periods(period)["since"], "compare": True}, filters)


def _kpi_periods(period: Period) -> dict[str, dict[str, date]]:
    """Since the last CAB, and the period before it."""
    return {"since": {"start_date": period.since_start,
                      "end_date": period.meeting_day},
            "before": {"start_date": period.before_start,
                       "end_date": period.since_start}}


def _kpi_call(query: str, dates: dict, filters: dict) -> tuple:
    return (query, {**dates, **{k: v for k, v in filters.items()
                                if k in db.params(query)}})


def _kpis(run, filters: dict, period: Period) -> pd.DataFrame:
    """The headline KPIs since the last CAB and in the period before it."""
    rows = []
    for kpi in KPI_SPECS:
        row = {"KPI": kpi.label, "Counts": kpi.counts,
               "Counts one": kpi.counts_one}
        both = _kpi_both_call(kpi, filters, period)
        if both:  # since the last CAB and the equal period before, at once
            results = dict(zip(("since", "before"),
                               groups.totals(both[0], run(*both)),
                               strict=True))
        else:
            results = {key: run(*_kpi_call(kpi.query, dates, filters))
                       for key, dates in _kpi_periods(period).items()}
        for key, frame in results.items():
            result = frame.iloc[0]
            row[f"{key}_rate"] = result[kpi.rate]
            row[f"{key}_n"] = int(result["n"])
            row[f"{key}_count"] = int(result[kpi.count])
            unknown = int(result[kpi.unknown]) if kpi.unknown else 0
            row[f"{key}_unknown"] = unknown
            # why they are unrated and what to map, with how many
            row[f"{key}_unknown_said"] = "" if not unknown else (
                f"{unrated_authorisation(unknown, result[kpi.unknown_split])}"
                " (docs/sources.md, section 7)" if kpi.unknown_split else
                f"{many(unknown, 'change')} {kpi.unknown_is}")
        row["Count is"] = kpi.count_is
        row["Unknown is"] = kpi.unknown_short
        rows.append(row)
    return pd.DataFrame(rows)
