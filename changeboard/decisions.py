"""CAB decisions and attendees: what a CAB member records at a meeting.

They live in the application state (changeboard/appstate.py: a SQLite file
beside the database), never in the ingested DuckDB file, so a load or a sync
never erases them. Both tables are append-only: recording a decision again
adds a row, the current decision of a change at a meeting is its latest row,
and the earlier ones are its history. A meeting is its instant (the CAB
pack's meeting: reports.cab.meeting_on), stored in UTC.

Every write checks the user's DECIDE permission (the CAB member role, or the
local user in single-user mode) here, where it is written, whatever the page
showed.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime

import pandas as pd

from changeboard import appstate, auth

log = logging.getLogger("changeboard.decisions")

# decision code -> label, in the order a CAB member picks from
DECISIONS = {
    "approved": "Approved",
    "approved_with_conditions": "Approved with conditions",
    "rejected": "Rejected",
    "deferred": "Deferred",
}
NOTE_CHARS = 4000  # longest note kept
# decisions that say nothing without their note: what the note must hold
# (the change's owner learns from the minutes what to meet, what to fix,
# or what the CAB waits for)
NEEDS_NOTE = {"approved_with_conditions": "its conditions",
              "rejected": "its reasons",
              "deferred": "its reasons (what the CAB waits for)"}
NAME_CHARS = 200  # longest attendee entry
MAX_ATTENDEES = 200

SCHEMA = f"""
create table if not exists cab_decisions (
    decision_id integer primary key autoincrement,
    meeting_at text not null,
    change_id text not null,
    decision text not null check (decision in
        ({", ".join(f"'{d}'" for d in DECISIONS)})),
    note text not null default '',
    decided_by text not null,
    decided_at text not null
);
create index if not exists cab_decisions_by_meeting
    on cab_decisions (meeting_at, change_id, decision_id);
create table if not exists cab_attendance (
    attendance_id integer primary key autoincrement,
    meeting_at text not null,
    attendees text not null,
    recorded_by text not null,
    recorded_at text not null
);
create index if not exists cab_attendance_by_meeting
    on cab_attendance (meeting_at, attendance_id);
"""
COLUMNS = ["meeting_at", "change_id", "decision", "note", "decided_by",
           "decided_at"]
INSERT = ("insert into cab_decisions (meeting_at, change_id, decision, note, "
          "decided_by, decided_at) values (?, ?, ?, ?, ?, ?)")
# every reader takes `until`: only rows recorded at or before it (the log's
# position a pack or minutes read; None = everything recorded so far)
HISTORY = ("select meeting_at, change_id, decision, note, decided_by, "
           "decided_at, decision_id = max(decision_id) over (partition by "
           "change_id) as is_current from cab_decisions where meeting_at = ? "
           "and (? is null or change_id = ?) "
           "and (? is null or decided_at <= ?) order by decision_id")
CURRENT = """
select d.meeting_at, d.change_id, d.decision, d.note, d.decided_by,
       d.decided_at, n.n_recorded
from cab_decisions as d
inner join (select change_id, max(decision_id) as last_id,
                   count(*) as n_recorded
            from cab_decisions where meeting_at = ?
                and (? is null or decided_at <= ?)
            group by change_id) as n
    on d.decision_id = n.last_id
order by d.decided_at, d.change_id"""


def meeting_key(meeting) -> str:
    """The stored form of a meeting: its instant in UTC, ISO 8601. A date
    means the meeting of that day (CHANGEBOARD_CAB_TIME in the reporting
    zone); an instant without a zone is read in the reporting zone."""
    from reports import cab  # the meeting cadence lives with the pack

    if meeting is None or (isinstance(meeting, str) and not meeting.strip()):
        raise ValueError("a CAB decision needs its meeting (a date or an "
                         "instant); none was given")
    if isinstance(meeting, str):
        text = meeting.strip()
        try:
            meeting = date.fromisoformat(text)
        except ValueError:
            try:
                meeting = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"meeting {text!r} is not YYYY-MM-DD or an "
                                 "ISO instant") from None
    if isinstance(meeting, pd.Timestamp):
        meeting = meeting.to_pydatetime()
    if not isinstance(meeting, (date, datetime)):
        raise ValueError(f"meeting {meeting!r} is not a date or an instant")
    instant = cab.instant(meeting)
    return instant.astimezone(UTC).isoformat(timespec="seconds")


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).astimezone(
        UTC).isoformat(timespec="microseconds")


NOTHING = "none"  # the log position before any record


def recorded_until(db_path) -> str:
    """The log's position now: the latest time a decision or an attendee list
    was recorded (NOTHING when none was). The log is append-only, so what was
    recorded up to it never changes: a pack or the minutes built "until" it
    read the same rows whenever they are regenerated."""
    found = _read(db_path, "select max(t) from (select max(decided_at) as t "
                  "from cab_decisions union all select max(recorded_at) "
                  "from cab_attendance)")
    if found is None or found.iloc[0, 0] is None:
        return NOTHING
    return str(found.iloc[0, 0])


def until_key(text: str | None) -> str | None:
    """A log position as given on the command line: NOTHING, or an ISO
    instant (UTC when it names no zone) in the stored form; None = now."""
    if text is None:
        return None
    text = text.strip()
    if text == NOTHING:
        return NOTHING
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"decisions until {text!r} is not an ISO instant "
                         f"or {NOTHING!r}") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def _until(until: str | None) -> list:
    """The two bound values of an `until` condition ('' sorts before any
    stored time: NOTHING reads no row)."""
    bound = "" if until == NOTHING else until
    return [bound, bound]


def _check(user: auth.User | None, what: str) -> str:
    """The user's actor if they may decide; else PermissionError."""
    if user is not None and user.can(auth.DECIDE):
        return user.actor
    who = "not signed in" if user is None else \
        f"signed in as {user.email} ({user.role_label})"
    log.warning("refused %s: %s", what, who)
    raise PermissionError(f"Recording {what} needs the CAB member role; you "
                          f"are {who}. Nothing was recorded.")


def _clean(text, label: str, limit: int | None, *, required: bool) -> str:
    """text stripped; ValueError when it is not text, is empty but required,
    is longer than `limit` (None: any length) or holds a control
    character."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValueError(f"{label} must be text, got {type(text).__name__}")
    text = text.strip()
    if required and not text:
        raise ValueError(f"{label} is empty")
    if limit is not None and len(text) > limit:
        raise ValueError(f"{label} is {len(text):,} characters; at most "
                         f"{limit:,} are kept")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ValueError(f"{label} holds a control character")
    return text


class Superseded(ValueError):
    """Not recorded: another decision on the change was recorded since the
    form showed it (`seen` of them then, `row` the latest now)."""

    def __init__(self, row: dict, recorded: int):
        super().__init__(f"{row['decided_by']} recorded {row['decision']} "
                         f"on {row['change_id']} at {row['decided_at']}")
        self.row, self.recorded = row, recorded


def record(db_path, user: auth.User | None, meeting, change_id: str,
           decision: str, note: str = "", *,
           now: datetime | None = None, seen: int | None = None) -> dict:
    """Record the decision on a change at a meeting (a new row: an earlier
    decision stays in the history). Returns the row recorded. `seen`: how
    many decisions on it the form showed at this meeting; when another has
    been recorded since (a second CAB member, another tab), nothing is
    recorded and Superseded names the latest, where it silently replaced
    it."""
    actor = _check(user, "a CAB decision")
    if decision not in DECISIONS:
        raise ValueError(f"decision {decision!r} is not one of "
                         f"{', '.join(DECISIONS)}")
    row = {"meeting_at": meeting_key(meeting),
           # any length: it names a loaded change, and ingest takes ids
           # of any length (the page offers the agenda's ids only)
           "change_id": _clean(change_id, "change id", None,
                               required=True),
           "decision": decision,
           "note": _clean(note, "note", NOTE_CHARS, required=False),
           "decided_by": actor, "decided_at": _now(now)}
    if decision in NEEDS_NOTE and not row["note"]:
        # the minutes would say "Approved with conditions" and name none,
        # or "Rejected" with no reason: the change's owner could not know
        # what was asked of them
        raise ValueError(f"{DECISIONS[decision]} needs {NEEDS_NOTE[decision]}"
                         ": write them in the note. Nothing was recorded.")
    with appstate.connect(db_path, SCHEMA) as con:  # checked and written
        # in one write transaction: no decision can come between
        if seen is not None:
            before = con.execute(
                "select meeting_at, change_id, decision, note, decided_by, "
                "decided_at, count(*) over () from cab_decisions where "
                "meeting_at = ? and change_id = ? order by decision_id desc "
                "limit 1", [row["meeting_at"], row["change_id"]]).fetchone()
            recorded = 0 if before is None else before[-1]
            if recorded != seen:
                raise Superseded(dict(zip(COLUMNS, before, strict=False)),
                                 recorded)
        con.execute(INSERT, [row[c] for c in COLUMNS])
    log.info("recorded CAB decision %s on %s at %s by %s", decision,
             row["change_id"], row["meeting_at"], actor)
    return row


def record_attendees(db_path, user: auth.User | None, meeting, names,
                     *, now: datetime | None = None) -> list[str]:
    """Record who attended a meeting: a list of names, or text with one per
    line ("Lee, Ann" is one name). Replaces the current list; the earlier one
    stays in the history. Returns the list recorded."""
    actor = _check(user, "the CAB attendees")
    key = meeting_key(meeting)
    if isinstance(names, str):
        names = names.splitlines()
    cleaned = []
    for i, name in enumerate(names or [], 1):
        name = _clean(name, f"attendee {i}", NAME_CHARS, required=False)
        if name and name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_ATTENDEES:
        raise ValueError(f"{len(cleaned):,} attendees; at most "
                         f"{MAX_ATTENDEES} are kept")
    with appstate.connect(db_path, SCHEMA) as con:
        con.execute("insert into cab_attendance (meeting_at, attendees, "
                    "recorded_by, recorded_at) values (?, ?, ?, ?)",
                    (key, "\n".join(cleaned), actor, _now(now)))
    return cleaned


def _read(db_path, sql: str, params=()) -> pd.DataFrame | None:
    """Rows of the application state; None when it holds nothing yet (the
    file is not created by a read)."""
    if not appstate.path_for(db_path).exists():
        return None
    with appstate.connect(db_path, SCHEMA, write=False) as con:
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=names)


def _typed(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    if frame is None:
        frame = pd.DataFrame(columns=columns)
    for column in ("meeting_at", "decided_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.reset_index(drop=True)


def history(db_path, meeting, change_id: str | None = None,
            until: str | None = None) -> pd.DataFrame:
    """Every decision recorded at the meeting (on one change when given),
    oldest first, with `is_current` on the latest of each change."""
    found = _read(db_path, HISTORY,
                  [meeting_key(meeting), change_id, change_id,
                   *_until(until)])
    frame = _typed(found, [*COLUMNS, "is_current"])
    frame["is_current"] = frame["is_current"].astype(bool)
    return frame


def latest(db_path, change_ids, until: str | None = None) -> pd.DataFrame:
    """The latest decision recorded (up to `until`) on each of these
    changes, whatever the meeting: change_id, meeting_at, decision, note
    (its conditions or reason; none: not decided here)."""
    ids = [str(c) for c in change_ids]
    found = _read(db_path, "select change_id, meeting_at, decision, note "
                  "from "
                  "cab_decisions as d where decision_id = (select "
                  "max(decision_id) from cab_decisions where change_id = "
                  "d.change_id and (? is null or decided_at <= ?)) and "
                  "change_id in (select value from json_each(?))",
                  [*_until(until), json.dumps(ids)]) if ids else None
    return _typed(found, ["change_id", "meeting_at", "decision", "note"])


def current(db_path, meeting, until: str | None = None) -> pd.DataFrame:
    """The current decision on each change decided at the meeting (its
    latest row), with `n_recorded`: how many times it was recorded."""
    found = _read(db_path, CURRENT, [meeting_key(meeting), *_until(until)])
    return _typed(found, [*COLUMNS, "n_recorded"])


def first_decided(db_path, meeting, until: str | None = None
                  ) -> pd.Timestamp | None:
    """When the meeting's first decision (up to `until`) was recorded; None
    when none was."""
    return _instant(db_path, "select min(decided_at) from cab_decisions "
                    "where meeting_at = ? and (? is null or decided_at <= ?)",
                    [meeting_key(meeting), *_until(until)])


def first_decisions(db_path) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(meeting, when its first decision was recorded) of every meeting
    with a decision, in meeting order."""
    found = _read(db_path, "select meeting_at, min(decided_at) from "
                  "cab_decisions group by meeting_at order by meeting_at")
    if found is None:
        return []
    return [(pd.Timestamp(m), pd.Timestamp(d))
            for m, d in found.itertuples(index=False)]


def _instant(db_path, sql: str, params: list) -> pd.Timestamp | None:
    """The one instant `sql` reads (None: nothing recorded)."""
    found = _read(db_path, sql, params)
    if found is None or found.iloc[0, 0] is None:
        return None
    return pd.Timestamp(found.iloc[0, 0])


def attendees(db_path, meeting, until: str | None = None) -> list[str]:
    """The meeting's attendees as last recorded ([] when none)."""
    found = _read(db_path, "select attendees from cab_attendance where "
                  "meeting_at = ? and (? is null or recorded_at <= ?) "
                  "order by attendance_id desc limit 1",
                  [meeting_key(meeting), *_until(until)])
    if found is None or found.empty or not found.iloc[0, 0]:
        return []
    return found.iloc[0, 0].split("\n")


def attendance(db_path, meeting, until: str | None = None) -> dict | None:
    """Who recorded the meeting's attendees and when (None: nobody)."""
    found = _read(db_path, "select recorded_by, recorded_at from "
                  "cab_attendance where meeting_at = ? and (? is null or "
                  "recorded_at <= ?) order by attendance_id desc limit 1",
                  [meeting_key(meeting), *_until(until)])
    if found is None or found.empty:
        return None
    return {"recorded_by": found.iloc[0, 0],
            "recorded_at": pd.Timestamp(found.iloc[0, 1])}


# a meeting's decisions counted: each change once, by its latest decision
# there (a change of mind counts as one decision), and the rows recorded;
# the decision codes are this module's own (DECISIONS), no value from a user
PER_MEETING = f"""
with latest as (
    select meeting_at, change_id, max(decision_id) as last_id,
           count(*) as n_recorded
    from cab_decisions where (? is null or decided_at <= ?)
    group by meeting_at, change_id)
select l.meeting_at, count(*) as n_decided,
       {", ".join(f"sum(d.decision = '{d}') as n_{d}" for d in DECISIONS)},
       sum(l.n_recorded) - count(*) as n_changed_since
from latest as l
inner join cab_decisions as d on d.decision_id = l.last_id
group by l.meeting_at
order by l.meeting_at desc"""  # noqa: S608
PER_MEETING_COLUMNS = ["meeting_at", "n_decided",
                       *(f"n_{d}" for d in DECISIONS), "n_changed_since"]


def per_meeting(db_path, until: str | None = None) -> pd.DataFrame:
    """The CAB's throughput: one row per meeting with a decision recorded
    (up to `until`), latest first: the changes decided (each once, by its
    latest decision there), how many of them each decision, and
    n_changed_since, the decisions recorded there and replaced by a later
    one (a change of mind)."""
    found = _read(db_path, PER_MEETING, _until(until))
    if found is None:
        return pd.DataFrame(columns=PER_MEETING_COLUMNS)
    found["meeting_at"] = pd.to_datetime(found["meeting_at"], utc=True)
    return found[PER_MEETING_COLUMNS]


def meetings(db_path, until: str | None = None) -> list[pd.Timestamp]:
    """Every meeting with a decision recorded (up to `until`), latest
    first."""
    found = _read(db_path, "select distinct meeting_at from cab_decisions "
                  "where ? is null or decided_at <= ? "
                  "order by meeting_at desc", _until(until))
    return [] if found is None else list(
        pd.to_datetime(found["meeting_at"], utc=True))


def last_meeting_before(db_path, meeting, until: str | None = None
                        ) -> pd.Timestamp | None:
    """The latest meeting before this one with a decision recorded: the
    "last CAB" whose decisions the next pack looks back at."""
    return _instant(db_path, "select max(meeting_at) from cab_decisions "
                    "where meeting_at < ? and (? is null or decided_at <= ?)",
                    [meeting_key(meeting), *_until(until)])


def revision(db_path, before=None) -> int:
    """A number that grows with every decision recorded (at a meeting
    before `before`, when given); 0 when none: a cache key for what shows
    them."""
    key = None if before is None else meeting_key(before)
    found = _read(db_path, "select coalesce(max(decision_id), 0) from "
                  "cab_decisions where ? is null or meeting_at < ?",
                  [key, key])
    return 0 if found is None else int(found.iloc[0, 0])


def label(decision) -> str:
    return DECISIONS.get(decision, "" if decision is None else str(decision))

