"""The CAB pack: the pre-read of a Change Advisory Board meeting.

build_pack() runs the CAB queries for one meeting into a Pack; to_html(),
to_xlsx() and to_pdf() render exactly that pack, and the CAB page shows it.
Every output carries the provenance (meeting, window, filters, data as-of,
batch ids) needed to regenerate it.
"""
from __future__ import annotations

import io
import math
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

import reports
from changeboard import config, db, decisions
from reports import decided
from reports.markup import definition_list, escape, html_table
from reports.text import (
    READINESS as READINESS,  # views/readiness.py reads cab.READINESS
)
from reports.text import (
    as_text,
    is_yes,
    pct,
    ranges,
    readiness_chip,
    shorten,
    span,
    when,
)

SIMILAR_LOOKBACK_DAYS = 365  # history of similar changes (cohorts)
TEAM_LOOKBACK_DAYS = 90  # team success score and its last failures
INCIDENT_LOOKBACK_DAYS = 30  # incidents on the application
LITTLE_HISTORY_N = 5  # fewer similar changes than this is "little history"
RECENT_FAILURE_DAYS = 30  # a team failure this recent raises a flag
LAST_FAILURES_SHOWN = 3
DETAIL_LIMIT = 50  # changes shown with their evidence blocks, in agenda order
AGENDA_LINES = 300  # one-line agenda entries in the HTML and PDF
AGENDA_TITLE_CHARS = 46  # agenda titles are shortened to stay on one line
RELEASE_LINES = 100  # releases going live, listed in the HTML and PDF
RELEASE_CHANGES_SHOWN = 8  # agenda changes named per release there
TEXT_CHARS = 300  # a block's description and plans, shortened in print
# what a CAB reads about a change: heading -> cab_agenda column
READING = (("Description", "description"), ("Justification", "justification"),
           ("Implementation plan", "implementation_plan"),
           ("Backout plan", "backout_plan"), ("Test plan", "test_plan"))
FILTER_NAMES = ("application_ids", "portfolios", "teams", "change_types",
                "tiers")
CHROMIUM = "/usr/bin/chromium"
REASONS = {  # cab_since_last review_reason -> section title
    "failed": "Failed or backed out: post-implementation review",
    "emergency": "Emergency changes implemented: retrospective approval",
    "unauthorized": "Implemented without the required approval",
}


# --- meeting cadence ---------------------------------------------------------

def reporting_zone() -> ZoneInfo:
    return ZoneInfo(config.REPORTING_TZ)


def cab_weekdays() -> list[int]:
    """Weekdays the CAB meets (0 = Monday), from CHANGEBOARD_CAB_WEEKDAYS."""
    days = sorted({int(d) for d in config.CAB_WEEKDAYS.split(",") if d.strip()})
    if not days or not all(0 <= d <= 6 for d in days):
        raise ValueError("CHANGEBOARD_CAB_WEEKDAYS must list days 0-6, "
                         f"got {config.CAB_WEEKDAYS!r}")
    return days


def meeting_on(day: date) -> datetime:
    """The meeting instant of a day: CHANGEBOARD_CAB_TIME in the reporting zone."""
    return datetime.combine(day, time.fromisoformat(config.CAB_TIME),
                            tzinfo=reporting_zone())


def _meetings_around(instant: datetime, step: int):
    local = instant.astimezone(reporting_zone()).date()
    weekdays = cab_weekdays()
    for offset in range(-8, 9)[::step]:
        day = local + timedelta(days=offset)
        if day.weekday() in weekdays:
            yield meeting_on(day)


def next_meeting(after: datetime | None = None) -> datetime:
    """The first meeting at or after the instant (default: now)."""
    after = after or datetime.now(reporting_zone())
    return next(m for m in _meetings_around(after, 1) if m >= after)


def following_meeting(meeting_at: datetime) -> datetime:
    """The first meeting strictly after this one: the review window's end."""
    return next(m for m in _meetings_around(meeting_at, 1) if m > meeting_at)


def previous_meeting(meeting_at: datetime) -> datetime:
    """The last meeting strictly before this one: "since last CAB" starts."""
    return next(m for m in _meetings_around(meeting_at, -1) if m < meeting_at)


def instant(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=reporting_zone())
    return meeting_on(value)


# --- the pack ----------------------------------------------------------------

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
    since_last: pd.DataFrame  # cab_since_last
    kpis: pd.DataFrame  # headline KPIs, since last CAB and the period before
    releases: pd.DataFrame  # release_readiness, going live in the window
    labels: dict[str, str] = field(default_factory=dict)  # application names
    db_path: str | None = None  # the database file read (None: in memory)
    # the last CAB's decisions beside what happened (reports/decided.py)
    decided_meeting_at: pd.Timestamp | None = None
    decided: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the file version read: the live file's or a snapshot's name
    # (changeboard/snapshots.py); None for a connection passed in
    data_version: str | None = None
    # the position of the CAB decision log read (decisions.recorded_until):
    # regenerating with it reads the same decisions
    decisions_until: str | None = None


def build_pack(con_or_db_path, meeting_at: date | datetime, *,
               window_end_at: date | datetime | None = None,
               filters: dict[str, list[str]] | None = None,
               as_of: str | None = None,
               decisions_until: str | None = None) -> Pack:
    """Run the CAB queries for the meeting (a date means the cadence time).

    The review window runs from the meeting to window_end_at, by default the
    next meeting of the cadence; "since last CAB" covers the days from the
    previous meeting's to this meeting's, in the reporting time zone.
    `as_of`: the snapshot to read (changeboard/snapshots.py) instead of the
    live file; the pack is the one built from that file version when it
    was live, byte for byte. `decisions_until`: read the CAB decision log
    as it stood at that position (decisions.recorded_until; default: as it
    stands now), which the pack's provenance names for the same reason.
    """
    if isinstance(con_or_db_path, (str, Path)):
        from changeboard import snapshots

        if db.version(con_or_db_path) is None and as_of in (None, "", "live"):
            raise FileNotFoundError(f"no database at {con_or_db_path}")
        for _ in range(3):  # a publish between naming and opening: again
            read, name = snapshots.source(con_or_db_path, as_of)
            with db.reading(read) as con:
                pack = build_pack(con, meeting_at,
                                  window_end_at=window_end_at,
                                  filters=filters,
                                  decisions_until=decisions_until)
            if pack.data_version == name:
                break
        return pack
    con = con_or_db_path
    start = instant(meeting_at)
    default_end = following_meeting(start)
    end = instant(window_end_at) if window_end_at is not None else default_end
    if end <= start:
        raise ValueError("the review window must end after the meeting")
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    unknown = sorted(set(filters) - set(FILTER_NAMES))
    if unknown:
        raise ValueError(f"unknown filter {', '.join(unknown)}")
    tz = config.REPORTING_TZ
    meeting_day = start.astimezone(reporting_zone()).date()
    since_start = previous_meeting(start).astimezone(reporting_zone()).date()
    before_start = since_start - (meeting_day - since_start)
    window = {"window_start_at": start.isoformat(sep=" "),
              "window_end_at": end.isoformat(sep=" ")}

    def run(name, **params):
        return db.run(con, name, reporting_tz=tz, **params)

    def run_plain(name):
        return db.run(con, name)

    def dates(days_before: int) -> dict[str, date]:
        return {"start_date": meeting_day - timedelta(days=days_before),
                "end_date": meeting_day}

    status = run_plain("data_status").iloc[0]
    batches = run_plain("ingest_batches")
    options = run_plain("filter_options")
    apps = options[options["filter_name"] == "application_ids"]
    path = con.execute("select path from duckdb_databases() "
                       "where database_name = current_database()").fetchone()
    kpis = _kpis(run, filters, since_start, meeting_day, before_start)
    # the live database's path and the file version read (a snapshot, or
    # its upgraded copy, names the database it was a version of): the last
    # CAB's decisions are in the live database's application state
    file = _file_of(path[0] if path else None)
    until = None
    if file["db_path"]:
        until = decisions.until_key(decisions_until) or \
            decisions.recorded_until(file["db_path"])
    decided_at, decided_rows = decided.look_back(con, file["db_path"], start,
                                                 filters, until)
    return Pack(
        releases=_going_live(run, filters, start, end, status["as_of"]),
        meeting_at=start, window_start_at=start, window_end_at=end,
        is_window_end_default=end == default_end,
        since_start_date=since_start, since_end_date=meeting_day,
        before_start_date=before_start, reporting_tz=tz, filters=filters,
        as_of=None if pd.isna(status["as_of"]) else status["as_of"],
        batch_ids=sorted(int(b) for b in batches.loc[
            batches["status"] == "succeeded", "batch_id"]),
        summary=run("cab_agenda_summary", **window, **filters),
        agenda=run("cab_agenda", **window, **filters),
        collisions=run("change_collisions", **window, **filters),
        window_hits=run("change_window_hits", **window, **filters),
        booking_hits=run("cab_booking_hits", **window, **filters),
        similar=run("similar_change_history", **window, **filters,
                    as_of=window["window_start_at"],
                    lookback_days=SIMILAR_LOOKBACK_DAYS),
        # the evidence about a team or an application is never filtered
        team_scores=run("change_success_score", **dates(TEAM_LOOKBACK_DAYS)),
        team_failures=_failed(run("change_records",
                                  **dates(TEAM_LOOKBACK_DAYS))),
        incidents=run("application_incidents",
                      **dates(INCIDENT_LOOKBACK_DAYS),
                      as_of=window["window_start_at"]),
        since_last=run("cab_since_last", start_date=since_start,
                       end_date=meeting_day, **filters),
        kpis=kpis,
        labels=dict(zip(apps["option_value"], apps["option_label"],
                        strict=True)),
        decided_meeting_at=decided_at, decided=decided_rows,
        decisions_until=until, **file,
    )


def _file_of(path: str | None) -> dict:
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
    judged = start if data_as_of is None or pd.isna(data_as_of) else min(
        start, pd.Timestamp(data_as_of).to_pydatetime())
    horizon = math.ceil((end - judged) / timedelta(days=1))
    kept = {k: v for k, v in filters.items()
            if k in db.params("release_readiness")}
    found = run("release_readiness", as_of=judged.isoformat(sep=" "),
                horizon_days=horizon, **kept)
    going_live = found["planned_release_at"]
    return found[(going_live >= pd.Timestamp(start))
                 & (going_live < pd.Timestamp(end))].reset_index(drop=True)


def _failed(records: pd.DataFrame) -> pd.DataFrame:
    failed = records[records["is_failed"].fillna(False).astype(bool)]
    return failed.sort_values(["outcome_at", "change_id"],
                              ascending=[False, True]).reset_index(drop=True)


def _kpis(run, filters, since_start, meeting_day, before_start):
    rows = []
    periods = {"since": {"start_date": since_start, "end_date": meeting_day},
               "before": {"start_date": before_start,
                          "end_date": since_start}}
    specs = [
        ("Change success rate", "change_success_rate", "change_success_rate",
         "n_failed", "failed", "implemented changes"),
        ("Emergency ratio", "emergency_change_ratio", "emergency_change_ratio",
         "n_emergency", "emergency", "implemented changes"),
        ("Unauthorised changes", "unauthorized_changes", "unauthorized_rate",
         "n_unauthorized", "unauthorised", "CAB-required changes started"),
    ]
    for label, query, rate, count, count_label, of in specs:
        row = {"KPI": label, "Counts": of}
        for key, period in periods.items():
            params = {k: v for k, v in filters.items()
                      if k in db.params(query)}
            result = run(query, **period, **params).iloc[0]
            row[f"{key}_rate"] = result[rate]
            row[f"{key}_n"] = int(result["n"])
            row[f"{key}_count"] = int(result[count])
        row["Count is"] = count_label
        rows.append(row)
    return pd.DataFrame(rows)


# --- shared presentation (HTML, XLSX and the page show the same) -----------

def decisions_read(until: str | None) -> str:
    """The provenance line of the CAB decision log's position read."""
    if until is None:
        return "none (an open connection: no application state)"
    if until == decisions.NOTHING:
        return "none recorded yet"
    return (f"as recorded up to {until} (the application state beside the "
            "database; later records are left out when regenerated)")


def provenance(pack: Pack) -> list[tuple[str, str]]:
    """What produced the pack: enough to regenerate it for an audit."""
    tz = pack.reporting_tz
    filters = "; ".join(f"{k} = {', '.join(v)}"
                        for k, v in pack.filters.items()) or "none"
    # every argument quoted as a shell needs it: team names are data
    command = ["python", "-m", "reports", "cab", "--date",
               f"{pack.meeting_at.astimezone(ZoneInfo(tz)):%Y-%m-%d}",
               "--db", pack.db_path or "PATH"]
    if pack.data_version:
        command += ["--as-of", pack.data_version]
    if pack.decisions_until:
        command += ["--decisions-until", pack.decisions_until]
    if not pack.is_window_end_default:
        command += ["--window-end", pack.window_end_at.isoformat(sep=" ")]
    for k, v in pack.filters.items():
        command += [f"--{k.replace('_', '-')}", ",".join(v)]
    return [
        ("Meeting", f"{when(pack.meeting_at, tz)} ({tz})"),
        ("Review window", f"{when(pack.window_start_at, tz)} to "
                          f"{when(pack.window_end_at, tz)}, end exclusive"),
        ("Since last CAB", f"{pack.since_start_date:%d %b %Y} to "
                           f"{pack.since_end_date:%d %b %Y}, end exclusive; "
                           "compared with "
                           f"{pack.before_start_date:%d %b %Y} to "
                           f"{pack.since_start_date:%d %b %Y}"),
        ("Filters", filters),
        ("Data as of", f"{when(pack.as_of, 'UTC')} UTC" if pack.as_of
         is not None else "unknown (no load recorded)"),
        ("Batches loaded", ranges(pack.batch_ids)),
        ("Data version", f"{pack.data_version}: the database file "
                         f"published {when(version_time(pack), 'UTC')} UTC "
                         "(live then, a snapshot once replaced)"
         if pack.data_version else "not named (an open connection)"),
        ("CAB decisions read", decisions_read(pack.decisions_until)),
        ("Regenerate with", shlex.join(command) + " --format html|pdf|xlsx "
                                                  "--out FILE"),
    ]


@dataclass
class ChangeBlock:
    """One change for decision: facts, flags and its evidence tables."""

    rank: int
    change_id: str
    title: str
    facts: list[tuple[str, str]]
    flags: list[str]
    reading: list[tuple[str, str]]  # READING headings and full texts
    collisions: pd.DataFrame
    window_hits: pd.DataFrame
    bookings: pd.DataFrame
    evidence: pd.DataFrame
    last_failures: pd.DataFrame


class _Evidence:
    """The pack's evidence tables looked up by key, built in one pass each:
    a block costs a few dictionary look-ups however long the agenda."""

    def __init__(self, pack: Pack):
        self.similar = {(r["change_id"], r["cohort"]): r
                        for r in pack.similar.to_dict("records")}
        self.scores = {r["assignment_group"]: r
                       for r in pack.team_scores.to_dict("records")
                       if as_text(r["assignment_group"])}
        self.incidents = {r["application_id"]: r
                          for r in pack.incidents.to_dict("records")
                          if as_text(r["application_id"])}
        self.collisions: dict[str, list[int]] = {}
        for i, (a, b) in enumerate(zip(pack.collisions["change_id_a"],
                                       pack.collisions["change_id_b"],
                                       strict=True)):
            self.collisions.setdefault(a, []).append(i)
            self.collisions.setdefault(b, []).append(i)
        self.window_hits = _positions(pack.window_hits["change_id"])
        self.bookings = _positions(pack.booking_hits["change_id"])
        self.failures = _positions(pack.team_failures["assignment_group"])


def _positions(keys: pd.Series) -> dict:
    """key -> the row positions holding it, in frame order."""
    found: dict = {}
    for i, key in enumerate(keys):
        if as_text(key):
            found.setdefault(key, []).append(i)
    return found


def app_label(pack: Pack, application_id) -> str:
    if application_id is None or pd.isna(application_id):
        return "(none)"
    name = pack.labels.get(application_id, application_id)
    return application_id if name == application_id else \
        f"{name} ({application_id})"


def _environment(row: dict) -> str:
    """An environment as 'Name (id)'; the id alone when it has no name."""
    env = as_text(row["environment_id"])
    name = as_text(row.get("environment_name"))
    if not env:
        return "(none)"
    return f"{name} ({env})" if name and name != env else env


def _evidence(pack: Pack, index: _Evidence, row: dict
              ) -> tuple[list[dict], list[str]]:
    tz, flags, lines = pack.reporting_tz, [], []
    for cohort, label in (
            ("application_change_type",
             f"Same application and type ({app_label(pack, row['application_id'])}"
             f", {row['change_type']})"),
            ("assignment_group",
             f"Same team ({as_text(row['assignment_group']) or '(none)'})")):
        found = index.similar.get((row["change_id"], cohort))
        n = None if found is None or pd.isna(found["n"]) else int(found["n"])
        failed = 0 if n is None else int(found["n_failed"])
        lines.append({
            "Evidence": label,
            "Period": f"{SIMILAR_LOOKBACK_DAYS} days before the meeting",
            "n": n,
            "Result": "no key" if n is None else
            "no implemented change" if n == 0 else
            f"{failed} of {n} failed · success {pct(found['success_rate'])}",
            "Latest failure": "" if found is None
            else when(found["last_failure_at"], tz),
        })
        if cohort == "application_change_type" and row["risk"] in (
                "high", "very_high") and (n or 0) < LITTLE_HISTORY_N:
            flags.append(f"{str(row['risk']).replace('_', ' ').capitalize()}"
                         f" risk with little history (n = {n or 0})")
        if cohort == "assignment_group" and found is not None and pd.notna(
                found["last_failure_at"]) and found["last_failure_at"] >= (
                    pd.Timestamp(pack.meeting_at)
                    - pd.Timedelta(days=RECENT_FAILURE_DAYS)):
            flags.append(f"Team failed a change in the last "
                         f"{RECENT_FAILURE_DAYS} days")
    score = index.scores.get(row["assignment_group"])
    lines.append({
        "Evidence": "Team success score (ServiceNow weights)",
        "Period": f"{TEAM_LOOKBACK_DAYS} days before the meeting",
        "n": 0 if score is None else int(score["n"]),
        "Result": "no implemented changes" if score is None
        or pd.isna(score["score"]) else
        f"score {int(score['score'])} · "
        f"{score['score_per_change']:.2f} per change",
        "Latest failure": "",
    })
    hit = index.incidents.get(row["application_id"])
    n_incidents = 0 if hit is None else int(hit["n_incidents"])
    lines.append({
        "Evidence": f"Incidents on {app_label(pack, row['application_id'])}",
        "Period": f"{INCIDENT_LOOKBACK_DAYS} days before the meeting",
        "n": n_incidents,
        "Result": "none" if hit is None else
        f"P1 {int(hit['n_p1'])} · P2 {int(hit['n_p2'])} · "
        f"P3 {int(hit['n_p3'])} · unresolved {int(hit['n_unresolved'])} · "
        f"latest opened {when(hit['last_opened_at'], tz)}",
        "Latest failure": "",
    })
    if n_incidents:
        flags.append(f"{n_incidents} incident(s) on the application in the "
                     f"last {INCIDENT_LOOKBACK_DAYS} days")
    return lines, flags


def _facts(pack: Pack, row: dict) -> list[tuple[str, str]]:
    return [
        ("Type", as_text(row["change_type"])),
        ("Risk", as_text(row["risk"]).replace("_", " ") or "unknown"),
        ("Application", app_label(pack, row["application_id"])),
        ("Team", as_text(row["assignment_group"]) or "(none)"),
        ("Environment", _environment(row)),
        ("Release", as_text(row["release_id"]) or "(none)"),
        ("Planned", span(row["planned_start_at"], row["planned_end_at"],
                         pack.reporting_tz)
         + f" ({row['planned_hours']:.1f} h)"),
        ("State / approval", f"{row['state']} / "
         f"{as_text(row['approval']).replace('_', ' ')}"),
        ("Requested by", as_text(row.get("requested_by")) or "(none)"),
        ("Affected CI", as_text(row.get("ci_name")) or "(none)"),
    ]


def _reading(row: dict) -> list[tuple[str, str]]:
    return [(label, as_text(row.get(column))) for label, column in READING]


def _flags(row: dict, n_bookings: int, evidence_flags: list[str]
           ) -> list[str]:
    flags = []
    if row["change_type"] == "emergency":
        flags.append("Emergency change")
    if row["n_collisions"]:
        flags.append(f"Collides with {int(row['n_collisions'])} "
                     "other change(s)")
    if row["n_freeze_hits"]:
        flags.append("Planned in a freeze window")
    if row["n_blackout_hits"]:
        flags.append("Planned in a blackout window")
    if row["is_outside_maintenance"]:
        flags.append("Outside the maintenance window")
    if n_bookings:
        flags.append("Its release holds environment bookings then")
    return flags + evidence_flags


def _evidence_frame(lines: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(lines)
    frame["n"] = frame["n"].astype("Int64")
    return frame


def blocks(pack: Pack, limit: int | None = None, *, start: int = 0,
           index: _Evidence | None = None) -> list[ChangeBlock]:
    """The changes for decision, in agenda order, each with its evidence;
    `limit` of them from position `start` when given."""
    tz, out, index = pack.reporting_tz, [], index or _Evidence(pack)
    agenda = pack.agenda.iloc[start:]
    agenda = agenda if limit is None else agenda.head(limit)
    for row in agenda.to_dict("records"):
        cid = row["change_id"]
        mine = pack.collisions.iloc[index.collisions.get(cid, [])]
        collisions = pd.DataFrame({
            "Other change": [b if a == cid else a for a, b in
                             zip(mine["change_id_a"], mine["change_id_b"],
                                 strict=True)],
            "Other title": [as_text(tb if a == cid else ta) for a, ta, tb in
                            zip(mine["change_id_a"], mine["title_a"],
                                mine["title_b"], strict=True)],
            "Shared": [f"environment {_environment(row)}"
                       if m == "environment" else
                       f"application {app_label(pack, k)}" if m == "application"
                       else f"{m} {k}" for m, k in
                       zip(mine["match_on"], mine["match_key"], strict=True)],
            "Overlap": [span(s, e, tz) for s, e in
                        zip(mine["overlap_start_at"], mine["overlap_end_at"],
                            strict=True)],
        })
        hits = pack.window_hits.iloc[index.window_hits.get(cid, [])]
        window_hits = pd.DataFrame({
            "Window": [as_text(n) or "(any maintenance window)" if k ==
                       "outside_maintenance" else
                       f"{as_text(n)} ({w})".strip() for w, n, k in
                       zip(hits["window_id"], hits["window_name"],
                           hits["kind"], strict=True)],
            "Kind": [k.replace("_", " ") for k in hits["kind"]],
            "Overlap": ["planned outside every maintenance window"
                        if k == "outside_maintenance" else span(s, e, tz)
                        for k, s, e in zip(hits["kind"],
                                           hits["overlap_start_at"],
                                           hits["overlap_end_at"],
                                           strict=True)],
        })
        books = pack.booking_hits.iloc[index.bookings.get(cid, [])]
        bookings = pd.DataFrame({
            "Booking": list(books["booking_id"]),
            "Environment": [
                f"{as_text(n) or e} ({as_text(t)})" + (" · target" if g else "")
                for e, n, t, g in zip(books["environment_id"],
                                      books["environment_name"],
                                      books["tier"],
                                      books["is_target_environment"],
                                      strict=True)],
            "Team": [as_text(t) for t in books["team"]],
            "Phase": [as_text(p) for p in books["phase"]],
            "Status": list(books["status"]),
            "Overlap": [span(s, e, tz) for s, e in
                        zip(books["overlap_start_at"], books["overlap_end_at"],
                            strict=True)],
        })
        lines, evidence_flags = _evidence(pack, index, row)
        team = pack.team_failures.iloc[index.failures.get(
            row["assignment_group"], [])[:LAST_FAILURES_SHOWN]]
        last_failures = pd.DataFrame({
            "Change": list(team["change_id"]),
            "Title": [as_text(t) for t in team["title"]],
            "Close code": [as_text(c).replace("_", " ") for c in
                           team["close_code"]],
            "Ended": [when(t, tz) for t in team["outcome_at"]],
            "Why failed": [", ".join(
                w for w, f in (("close code", c), ("incident", i),
                               ("rollback", r)) if is_yes(f))
                for c, i, r in zip(team["is_failed_by_close_code"],
                                   team["is_failed_by_incident"],
                                   team["is_failed_by_rollback"],
                                   strict=True)],
        })
        out.append(ChangeBlock(
            rank=int(row["agenda_rank"]), change_id=cid,
            title=as_text(row["title"]), facts=_facts(pack, row),
            flags=_flags(row, len(bookings), evidence_flags),
            reading=_reading(row), collisions=collisions, window_hits=window_hits,
            bookings=bookings, evidence=_evidence_frame(lines),
            last_failures=last_failures))
    return out


def since_last(pack: Pack, reason: str) -> pd.DataFrame:
    """One "since last CAB" list with human columns."""
    rows = pack.since_last[pack.since_last["review_reason"] == reason]
    tz = pack.reporting_tz
    frame = pd.DataFrame({
        "Change": list(rows["change_id"]),
        "Title": [as_text(t) for t in rows["title"]],
        "Type": list(rows["change_type"]),
        "Risk": [as_text(r).replace("_", " ") for r in rows["risk"]],
        "Application": [app_label(pack, a) for a in rows["application_id"]],
        "Team": [as_text(t) for t in rows["assignment_group"]],
        "Started": [when(t, tz) for t in rows["actual_start_at"]],
        "Ended": [when(t, tz) for t in rows["outcome_at"]],
        "Close code": [as_text(c).replace("_", " ") for c in rows["close_code"]],
        "Approval": [as_text(a).replace("_", " ") for a in rows["approval"]],
        "Approved": [when(t, tz) for t in rows["approved_at"]],
    })
    if reason == "failed":
        frame["Why failed"] = [", ".join(
            w for w, f in (("close code", c), ("incident", i),
                           ("rollback", r)) if is_yes(f))
            for c, i, r in zip(rows["is_failed_by_close_code"],
                               rows["is_failed_by_incident"],
                               rows["is_failed_by_rollback"], strict=True)]
    else:
        frame["Approval issue"] = [
            "not approved" if is_yes(n) else
            "approved after it started" if is_yes(a) else ""
            for n, a in zip(rows["is_not_approved"],
                            rows["is_approved_after_start"], strict=True)]
    return frame


def kpi_table(pack: Pack) -> pd.DataFrame:
    k = pack.kpis
    since = f"{pack.since_start_date:%d %b} – {pack.since_end_date:%d %b}"
    before = f"{pack.before_start_date:%d %b} – {pack.since_start_date:%d %b}"
    return pd.DataFrame({
        "KPI": k["KPI"],
        f"Since last CAB ({since})": [pct(v) for v in k["since_rate"]],
        "n": k["since_n"],
        "Count": [f"{c} {w}" for c, w in zip(k["since_count"], k["Count is"],
                                             strict=True)],
        f"Before ({before})": [pct(v) for v in k["before_rate"]],
        "n before": k["before_n"],
        "Change": [_delta(a, b) for a, b in zip(k["since_rate"],
                                                k["before_rate"],
                                                strict=True)],
        "n counts": k["Counts"],
    })


def _delta(now, before) -> str:
    if pd.isna(now) or pd.isna(before):
        return "n/a"
    return f"{100 * (now - before):+.1f} pp"


def headline(pack: Pack) -> list[tuple[str, int]]:
    s = pack.summary.iloc[0]
    return [("For decision", int(s["n"])),
            ("Emergency", int(s["n_emergency"])),
            ("Very high risk", int(s["n_very_high_risk"])),
            ("Collision or window hit", int(
                ((pack.agenda["n_collisions"] > 0)
                 | (pack.agenda["n_freeze_hits"] > 0)
                 | (pack.agenda["n_blackout_hits"] > 0)
                 | pack.agenda["is_outside_maintenance"].astype(bool)).sum())),
            ("Left off: CAB flag missing", int(s["n_unclassified"])),
            ("Left off: no plan", int(s["n_unplanned"]))]


def agenda_lines(pack: Pack, limit: int | None = None,
                 title_chars: int | None = None) -> pd.DataFrame:
    """The agenda, one line per change for decision (the first `limit`),
    titles shortened to `title_chars` when given."""
    agenda = pack.agenda if limit is None else pack.agenda.head(limit)
    rows = []
    for row in agenda.to_dict("records"):
        flags = [word for word, on in (
            ("emergency", row["change_type"] == "emergency"),
            (f"collides ×{int(row['n_collisions'])}", row["n_collisions"]),
            ("freeze", row["n_freeze_hits"]),
            ("blackout", row["n_blackout_hits"]),
            ("outside maintenance", row["is_outside_maintenance"])) if on]
        rows.append({
            "#": int(row["agenda_rank"]), "Change": row["change_id"],
            "Title": shorten(as_text(row["title"]), title_chars),
            "Risk": as_text(row["risk"]).replace("_", " ") or "unknown",
            # the review window gives the year: 'Wed 21 Jan 20:00'
            "Planned start": " ".join(when(row["planned_start_at"],
                                           pack.reporting_tz).split()[:3]
                                      + when(row["planned_start_at"],
                                             pack.reporting_tz).split()[4:]),
            "Flags": ", ".join(flags)})
    return pd.DataFrame(rows, columns=["#", "Change", "Title", "Risk",
                                       "Planned start", "Flags"])


RELEASES_INTRO = (
    "Releases planned to go live in the review window, soonest first, with "
    "their readiness as the data stands (release_readiness: blocked, at "
    "risk or ready, and why) and the changes for decision they carry.")


def release_lines(pack: Pack, limit: int | None = None,
                  changes_shown: int | None = None) -> pd.DataFrame:
    """The releases going live before the next meeting (the first `limit`),
    soonest first, each with its readiness and the agenda changes it
    carries: '#rank id' in agenda order, the first `changes_shown` named
    and the rest counted."""
    carried: dict[str, list[str]] = {}
    for rank, cid, rid in zip(pack.agenda["agenda_rank"],
                              pack.agenda["change_id"],
                              pack.agenda["release_id"], strict=True):
        if as_text(rid):
            carried.setdefault(rid, []).append(f"#{int(rank)} {cid}")
    releases = pack.releases if limit is None else pack.releases.head(limit)
    rows = []
    for row in releases.to_dict("records"):
        mine = carried.get(row["release_id"], [])
        named = mine if changes_shown is None else mine[:changes_shown]
        more = len(mine) - len(named)
        rows.append({
            "Release": row["release_id"], "Release name": as_text(row["name"]),
            "Application": app_label(pack, row["application_id"]),
            "Go-live": when(row["planned_release_at"], pack.reporting_tz),
            "Status": readiness_chip(row["status"]),
            "Reasons": as_text(row["reasons"]) or "none",
            "For decision": len(mine),
            "Agenda changes it carries": ", ".join(named)
            + (f" and {more:,} more" if more else "")})
    return pd.DataFrame(rows, columns=[
        "Release", "Release name", "Application", "Go-live", "Status",
        "Reasons", "For decision", "Agenda changes it carries"])


def releases_note(pack: Pack) -> str:
    """What the HTML and PDF leave out of a long list of releases; ''."""
    n = len(pack.releases)
    if n <= RELEASE_LINES:
        return ""
    return (f"{n:,} releases go live before the next meeting: the first "
            f"{RELEASE_LINES} are listed, soonest first; the XLSX lists all "
            "of them. Narrow the pack with an application filter.")


def size_note(pack: Pack, *, on_page: bool = False) -> str:
    """What a large agenda leaves out of the detail, and how to narrow it;
    '' when every change is shown in full. on_page: said of the CAB page
    (every agenda line, the detail a page at a time) rather than the files."""
    n = len(pack.agenda)
    if n <= DETAIL_LIMIT:
        return ""
    listed = min(n, AGENDA_LINES)
    shown = ("the agenda below lists all of them and the detail shows them "
             "a page at a time; the HTML and PDF detail the first "
             f"{DETAIL_LIMIT}" if on_page else
             "the agenda lists " + ("all of them" if listed == n else
                                    f"the first {listed:,}")
             + f" and the detail covers the first {DETAIL_LIMIT}")
    return (f"{n:,} changes are for decision: {shown}, in agenda order "
            "(highest risk first, then by planned start); the XLSX lists all "
            f"{n:,}. Narrow the pack with a team or application filter, or a "
            "shorter review window.")


def decision_table(pack: Pack, index: _Evidence | None = None
                   ) -> pd.DataFrame:
    """One row per change for decision, the whole agenda: the For decision
    sheet (the same facts, evidence and flags as the detail blocks)."""
    index, rows = index or _Evidence(pack), []
    for row in pack.agenda.to_dict("records"):
        lines, evidence_flags = _evidence(pack, index, row)
        cid = row["change_id"]
        n_bookings = len(index.bookings.get(cid, []))
        rows.append({
            "Rank": int(row["agenda_rank"]), "Change": cid,
            "Title": as_text(row["title"]), **dict(_facts(pack, row)),
            "Similar n": lines[0]["n"], "Similar result": lines[0]["Result"],
            "Team n": lines[1]["n"], "Team result": lines[1]["Result"],
            "Team score": lines[2]["Result"],
            "Incidents 30 d": lines[3]["n"],
            "Collisions": len(index.collisions.get(cid, [])),
            "Window hits": len(index.window_hits.get(cid, [])),
            "Booking hits": n_bookings,
            "Flags": "; ".join(_flags(row, n_bookings, evidence_flags)),
            **dict(_reading(row)),
        })
    frame = pd.DataFrame(rows, columns=[
        "Rank", "Change", "Title", "Type", "Risk", "Application", "Team",
        "Environment", "Release", "Planned", "State / approval",
        "Requested by", "Affected CI", "Similar n",
        "Similar result", "Team n", "Team result", "Team score",
        "Incidents 30 d", "Collisions", "Window hits", "Booking hits",
        "Flags", *(label for label, _ in READING)])
    for column in ("Similar n", "Team n", "Incidents 30 d"):
        frame[column] = frame[column].astype("Int64")
    return frame


def sections(pack: Pack) -> dict[str, pd.DataFrame]:
    """Every section as a table, in pack order: the XLSX's sheets."""
    index = _Evidence(pack)  # built once for the blocks and the sheet
    detailed = blocks(pack, DETAIL_LIMIT, index=index)

    def each(attr):
        parts = [getattr(b, attr).assign(**{"For change": b.change_id})
                 for b in detailed]
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame({"For change": []})
        frame = pd.concat(parts, ignore_index=True)
        return frame[["For change", *frame.columns.drop("For change")]]

    return {
        "Summary": pd.DataFrame(headline(pack), columns=["Count", "Changes"]),
        "For decision": decision_table(pack, index),
        "Collisions": each("collisions"),
        "Window hits": each("window_hits"),
        "Booking hits": each("bookings"),
        "Evidence": each("evidence"),
        "Team last failures": each("last_failures"),
        "Releases going live": release_lines(pack),
        "Since last CAB - KPIs": kpi_table(pack),
        "Failed - review": since_last(pack, "failed"),
        "Emergency - retro approval": since_last(pack, "emergency"),
        "Unauthorised": since_last(pack, "unauthorized"),
        "Since last CAB - decisions": decided.table(pack),
        "Produced by": pd.DataFrame(provenance(pack),
                                    columns=["Item", "Value"]),
    }


# --- renderers ---------------------------------------------------------------

CSS = """
@page { size: A4; margin: 14mm 12mm; }
@page wide { size: A4 landscape; margin: 12mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif;
       font-size: 10pt; color: #1a1a1a; margin: 0 auto; max-width: 60em;
       padding: 1em; line-height: 1.35; }
h1 { font-size: 18pt; margin: 0 0 .2em; }
h2 { font-size: 14pt; border-bottom: 2px solid #0072B2; padding-bottom: 2px;
     margin-top: 1.4em; break-after: avoid; }
h3 { font-size: 11.5pt; margin: 0 0 .4em; }
h4 { font-size: 10pt; margin: .7em 0 .2em; color: #333; break-after: avoid; }
.meta { color: #444; font-size: 9pt; margin: 0 0 .8em; }
.counts { display: flex; flex-wrap: wrap; gap: .5em; margin: .5em 0; }
.count { border: 1px solid #bbb; border-radius: 4px; padding: .3em .6em; }
.count b { font-size: 13pt; display: block; }
section.change { border: 1px solid #999; border-left: 6px solid #0072B2;
                 border-radius: 4px; padding: .6em .8em; margin: .8em 0;
                 break-inside: avoid; page-break-inside: avoid; }
section.change.flagged { border-left-color: #D55E00; }
dl.reading { display: grid; grid-template-columns: max-content 1fr;
             gap: .15em .8em; margin: .5em 0 0; font-size: 9pt; }
dl.reading dt { font-weight: bold; color: #444; }
dl.reading dd { margin: 0; white-space: pre-line; }
dl.reading dd.none { color: #555; font-style: italic; }
dl.reading details, dl.reading summary { margin: 0; }
dl.reading summary { cursor: pointer; }
dl.reading details[open] > summary > span { display: none; }
dl.reading details[open] > summary::after { content: "show less";
                                            color: #555; }
@media print { dl.reading summary { list-style: none; }
               dl.reading summary::-webkit-details-marker { display: none; } }
dl.facts { display: grid;
           grid-template-columns: max-content 1fr max-content 1fr;
           gap: .1em .8em; margin: 0; }
dl.facts dt { font-weight: bold; color: #444; }
dl.facts dd { margin: 0; }
ul.flags { list-style: none; padding: 0; margin: .5em 0 0; }
ul.flags li { display: inline-block; background: #fdebd0; color: #7a3000;
              border: 1px solid #E69F00; border-radius: 3px;
              padding: 0 .4em; margin: 0 .3em .3em 0; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: .2em 0 .4em;
        font-size: 8.5pt; }
th, td { border: 1px solid #ccc; padding: 2px 4px; text-align: left;
         vertical-align: top; overflow-wrap: normal; word-break: normal; }
th { background: #eef3f8; }
tr { break-inside: avoid; }
td.num { text-align: right; }
td.num, td.nw, span.nw { white-space: nowrap; }
section.agenda { break-after: page; page-break-after: always; }
section.agenda table { font-size: 7.5pt; }
section.agenda td { white-space: nowrap; }
section.agenda td:last-child { white-space: normal; }
@media print { body { max-width: none; padding: 0; } }
section.wide { page: wide; break-before: page; }
@media screen { section.wide { max-width: none; } }
p.none { color: #555; font-style: italic; margin: .2em 0; }
span.chip { border-radius: 3px; padding: 0 .35em; font-weight: bold; }
span.chip.blocked { background: #D55E00; color: #fff; }
span.chip.at_risk { background: #E69F00; color: #000; }
span.chip.ready { background: #009E73; color: #fff; }
p.note { background: #fdebd0; border: 1px solid #E69F00; border-radius: 4px;
         padding: .3em .6em; }
p.note.alert { background: #D55E00; border-color: #8a3000; color: #fff;
               font-weight: bold; }
h4.alert { color: #a33a00; }
footer { margin-top: 2em; border-top: 1px solid #999; padding-top: .5em;
         font-size: 8.5pt; color: #333; break-inside: avoid; }
footer dl { display: grid; grid-template-columns: max-content 1fr;
            gap: 0 .8em; margin: 0; }
footer dt { font-weight: bold; }
footer dd { margin: 0; overflow-wrap: break-word; }
"""


def _reading_html(reading: list[tuple[str, str]]) -> str:
    """Each text in full; one longer than TEXT_CHARS shows shortened, in
    print always, on screen until its <details> is opened."""
    parts = []
    for label, text in reading:
        if not text:
            parts.append(f'<dt>{escape(label)}</dt><dd class="none">'
                         "Not recorded.</dd>")
        elif len(text) <= TEXT_CHARS:
            parts.append(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>")
        else:
            parts.append(f"<dt>{escape(label)}</dt><dd><details><summary><span>"
                         f"{escape(shorten(text, TEXT_CHARS))}</span></summary>"
                         f"{escape(text)}</details></dd>")
    return f'<dl class="reading">{"".join(parts)}</dl>'


def block_html(block: ChangeBlock) -> str:
    flags = "".join(f"<li>{escape(f)}</li>" for f in block.flags)
    return (
        f'<section class="change{" flagged" if block.flags else ""}">'
        f"<h3>{block.rank}. {escape(block.change_id)} — {escape(block.title)}</h3>"
        + definition_list(block.facts, "facts")
        + (f'<ul class="flags">{flags}</ul>' if flags else "")
        + _reading_html(block.reading)
        + "<h4>Collisions</h4>"
        + html_table(block.collisions, "No other change planned on the "
                      "same application, environment or CI at that time.")
        + "<h4>Freeze, blackout and maintenance windows</h4>"
        + html_table(block.window_hits, "No window hit.")
        + "<h4>Environment bookings of its release</h4>"
        + html_table(block.bookings, "No booking of its release overlaps "
                      "the plan." if block.facts[5][1] != "(none)"
                      else "The change belongs to no release.")
        + "<h4>Evidence</h4>" + html_table(block.evidence, "")
        + f"<h4>Team's last failures ({TEAM_LOOKBACK_DAYS} days)</h4>"
        + html_table(block.last_failures, "No failed change.")
        + "</section>")


def to_html(pack: Pack) -> str:
    """The pack as one self-contained HTML page: no script, font or link."""
    meta = provenance(pack)
    counts = "".join(f'<div class="count"><b>{n}</b>{escape(label)}</div>'
                     for label, n in headline(pack))
    note = size_note(pack)
    agenda = (
        (f'<p class="note">{escape(note)}</p>' if note else "")
        + html_table(agenda_lines(pack, AGENDA_LINES, AGENDA_TITLE_CHARS),
                      "")
    ) if len(pack.agenda) else (
        '<p class="none">No change needs a CAB decision in this window.</p>')
    details = "".join(block_html(b) for b in blocks(pack, DETAIL_LIMIT))
    # releases going live: a landscape page of their own; when there is
    # none, a line under the agenda
    going = ("<h2>Releases going live before the next meeting</h2>"
             f'<p class="meta">{escape(RELEASES_INTRO)}</p>'
             + (f'<p class="note">{escape(releases_note(pack))}</p>'
                if releases_note(pack) else "")
             + html_table(release_lines(pack, RELEASE_LINES,
                                         RELEASE_CHANGES_SHOWN), ""))
    if pack.releases.empty:
        agenda += ("<h2>Releases going live before the next meeting</h2>"
                   '<p class="none">No release is planned to go live before '
                   "the next meeting.</p>")
        going = ""
    else:
        going = f'<section class="wide releases">{going}</section>'
    since = "".join(
        f"<h3>{escape(title)}</h3>"
        + html_table(since_last(pack, reason), "None.")
        for reason, title in REASONS.items())
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>CAB pack {pack.meeting_at:%Y-%m-%d}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<h1>CAB pack — {escape(meta[0][1])}</h1>"
        f'<p class="meta">Review window {escape(meta[1][1])} · filters: '
        f"{escape(meta[3][1])} · data as of {escape(meta[4][1])} · batches "
        f"{escape(meta[5][1])}</p>"
        f'<div class="counts">{counts}</div>'
        f'<section class="agenda"><h2>Agenda</h2>{agenda}</section>'
        + going
        + (f"<h2>For decision</h2>{details}" if details else "")
        + '<section class="wide"><h2>Since last CAB</h2>'
        f'<p class="meta">{escape(meta[2][1])}</p>' + decided.alert_html(pack)
        + "<h3>Headline KPIs</h3>" + html_table(kpi_table(pack), "") + since
        + decided.html(pack)
        + f"<footer><b>Produced by Changeboard</b>{definition_list(meta)}</footer>"
        "</section>"
        "</body></html>\n")


def version_time(pack: Pack) -> datetime | None:
    """When the file version the pack read was published (from its name)."""
    if not pack.data_version:
        return None
    from changeboard import snapshots

    return snapshots.published_at(pack.data_version)


# the creation date an XLSX records when the pack names no file version
# (fixed, so the same pack is the same bytes)
XLSX_EPOCH = datetime(2000, 1, 1)


def to_xlsx(pack: Pack) -> bytes:
    """One sheet per section; text a spreadsheet would run is neutralised.
    The workbook's creation date is the data version's publish time, never
    the clock: the same pack is the same bytes."""
    made = version_time(pack)
    return write_xlsx(sections(pack),
                      XLSX_EPOCH if made is None else made.replace(tzinfo=None))


def write_xlsx(sheets: dict[str, pd.DataFrame],
               created: datetime = XLSX_EPOCH) -> bytes:
    """A workbook of these sheets, columns sized, formulas neutralised,
    recording `created` as its creation date (never the clock)."""
    buffer = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        engine_kwargs={"options": options}) as writer:
        writer.book.set_properties({"created": created})
        for name, frame in sheets.items():
            reports.neutralise(frame).to_excel(
                writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for i, column in enumerate(frame.columns):
                longest = max([len(str(column)),
                               *(len(as_text(v)) for v in frame[column])])
                sheet.set_column(i, i, min(60, longest + 2))
    return buffer.getvalue()


def to_pdf(pack: Pack, path: str | Path) -> Path:
    """Print the HTML with headless Chromium; each change's block stays whole."""
    return print_pdf(to_html(pack), path)


def print_pdf(page_html: str, path: str | Path, what: str = "the pack"
              ) -> Path:
    """Print a self-contained HTML page to a PDF with headless Chromium."""
    path = Path(path).resolve()
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which(
        "chromium")
    if not browser:
        raise RuntimeError("PDF needs Chromium (/usr/bin/chromium): "
                           "`make chromium` installs it")
    with tempfile.TemporaryDirectory(prefix="cab-pack-") as tmp:
        page = Path(tmp) / "pack.html"
        page.write_text(page_html, encoding="utf-8")
        result = subprocess.run(  # noqa: S603 - fixed binary, own arguments
            [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-pdf-header-footer",
             f"--user-data-dir={Path(tmp) / 'profile'}",
             f"--print-to-pdf={path}", page.as_uri()],
            capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"Chromium could not print {what}: "
                           f"{result.stderr.strip()[-500:]}")
    return path


def pdf_bytes(pack: Pack) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cab-pdf-") as tmp:
        return to_pdf(pack, Path(tmp) / "pack.pdf").read_bytes()
