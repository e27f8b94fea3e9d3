"""What the pack says about each change for decision: its facts, the
evidence of similar changes, its team and its application, and its flags.
Worked out once per change (assess) and read by the blocks, the For
decision sheet and the page alike."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd
import pyarrow as pa

from changeboard.words import OUTSIDE_MAINTENANCE
from reports.cab.pack import (
    INCIDENT_LOOKBACK_DAYS,
    SIMILAR_LOOKBACK_DAYS,
    TEAM_LOOKBACK_DAYS,
    Pack,
)
from reports.text import (
    Times,
    as_text,
    many,
    pct,
    plan_length,
    records,
    records_columns,
    span,
    when,
    words,
)

SIMILAR_READ = ["change_id", "cohort", "n", "n_failed", "success_rate",
                "last_failure_at"]  # what _similar and _flags read of a row
LITTLE_HISTORY_N = 5  # fewer similar changes than this is "little history"
RECENT_FAILURE_DAYS = 30  # a team failure this recent raises a flag
NO_RISK = "No risk given"  # a change without a risk, as the calendar says
# an evidence line's Result for no history, in the pages' words
NO_CHANGE = "No implemented change"  # none in the cohort or of the team
NO_INCIDENT = "No incident"  # on the application in the lookback
NO_HISTORY = "No similar change"  # a cohort the history has no row for
# what a CAB reads about a change: heading -> cab_agenda column
READING = (("Description", "description"), ("Justification", "justification"),
           ("Implementation plan", "implementation_plan"),
           ("Backout plan", "backout_plan"), ("Test plan", "test_plan"))


class Index:
    """The pack's evidence tables looked up by key, built in one pass each:
    a change costs a few dictionary look-ups however long the agenda."""

    def __init__(self, pack: Pack):
        # the columns the evidence reads: all 18 make a 3,000-change
        # pack's index three times as slow
        self.similar = Keyed(pack.similar[SIMILAR_READ],
                             zip(pack.similar["change_id"].tolist(),
                                 pack.similar["cohort"].tolist(),
                                 strict=True))
        self.scores = {r["assignment_group"]: r
                       for r in records(pack.team_scores)
                       if as_text(r["assignment_group"])}
        self.incidents = {r["application_id"]: r
                          for r in records(pack.incidents)
                          if as_text(r["application_id"])}
        self.collisions: dict[str, list[int]] = {}
        for i, (a, b) in enumerate(zip(pack.collisions["change_id_a"],
                                       pack.collisions["change_id_b"],
                                       strict=True)):
            self.collisions.setdefault(a, []).append(i)
            self.collisions.setdefault(b, []).append(i)
        self.window_hits = positions(pack.window_hits["change_id"])
        self.bookings = positions(pack.booking_hits["change_id"])
        self.failures = positions(pack.team_failures["assignment_group"])
        self._pack, self._records = pack, {}

    def rows(self, frame: str, at: list[int]) -> list[dict]:
        """The rows of the pack's `frame` at these positions, as dicts, each
        row made a dict once: blocks() asks for a page's rows together (one
        slice of each frame a page, where a slice per change is 1 ms), and
        a change's block then picks its own."""
        found = self._records.setdefault(frame, {})
        missing = sorted({i for i in at if i not in found})
        if missing:
            found.update(zip(missing, records(getattr(self._pack, frame).iloc[
                missing]), strict=True))
        return [found[i] for i in at]


class Keyed:
    """A frame's rows by key, as records() makes them, each made on its
    first look-up (get): a page draws 20 changes' blocks, and making the
    similar history's every row of a 3,000-change agenda a dict took half
    of the index's time. A key held by several rows gives the last."""

    def __init__(self, frame: pd.DataFrame, keys):
        self._frame, self._columns = frame, None
        self._at = {key: i for i, key in enumerate(keys)}
        self._made: dict[int, dict] = {}

    def get(self, key, default=None):
        i = self._at.get(key)
        if i is None:
            return default
        if i not in self._made:
            if self._columns is None:  # each column's values, once
                self._columns = records_columns(self._frame)
            self._made[i] = {c: v[i] for c, v in self._columns.items()}
        return self._made[i]


def positions(keys: pd.Series) -> dict:
    """key -> the row positions holding it, in frame order."""
    found: dict = {}
    for i, key in enumerate(keys.tolist()):  # faster than an Arrow iterator
        if as_text(key):
            found.setdefault(key, []).append(i)
    return found


def app_label(pack: Pack, application_id) -> str:
    """An application as 'Name (id)'; the id alone when it has no name."""
    if application_id is None or pd.isna(application_id):
        return "(none)"
    name = pack.labels.get(application_id, application_id)
    return application_id if name == application_id else \
        f"{name} ({application_id})"


def named(row: dict, kind: str) -> str:
    """The row's `kind` (environment, release) as 'Name (id)', from its
    `<kind>_id` and `<kind>_name`; the id alone when it has no name, (none)
    without an id."""
    key = as_text(row[f"{kind}_id"])
    name = as_text(row.get(f"{kind}_name"))
    if not key:
        return "(none)"
    return f"{name} ({key})" if name and name != key else key


def environment(row: dict) -> str:
    """An environment as 'Name (id)'; the id alone when it has no name."""
    return named(row, "environment")


class Facts(NamedTuple):
    """A change's facts, each as shown; FACT_LABELS name them."""

    type: str
    risk: str
    application: str
    team: str
    environment: str
    release: str
    planned: str
    state_approval: str
    requested_by: str
    affected_ci: str


FACT_LABELS = ("Type", "Risk", "Application", "Team", "Environment",
               "Release", "Planned", "State / approval", "Requested by",
               "Affected CI")


def facts_of(pack: Pack, row: dict) -> Facts:
    return Facts(
        type=words(row["change_type"]),
        risk=words(row["risk"]) or NO_RISK,
        application=app_label(pack, row["application_id"]),
        team=as_text(row["assignment_group"]) or "(none)",
        environment=environment(row),
        release=named(row, "release"),
        planned=span(row["planned_start_at"], row["planned_end_at"],
                     pack.reporting_tz)
        + f" ({plan_length(row['planned_hours'])})",
        state_approval=f"{words(row['state'])} / {words(row['approval'])}",
        requested_by=as_text(row.get("requested_by")) or "(none)",
        affected_ci=as_text(row.get("ci_name")) or "(none)")


@dataclass
class Assessment:
    """One change for decision as the pack judges it."""

    facts: Facts
    same_app: dict  # evidence lines: similar changes of its application
    same_team: dict  # ... and of its team
    team_score: dict  # its team's success score
    incidents: dict  # incidents on its application
    plan_flags: list[str]  # what its plan runs into (the agenda's flags)
    evidence_flags: list[str]  # what the evidence about it raises
    reading: list[tuple[str, str]]  # READING headings and full texts
    in_release: bool
    # each evidence line's latest failure as an instant (None: none)
    failures_at: tuple = ()

    @property
    def flags(self) -> list[str]:
        """Every flag, the plan's first: the change's block lists them."""
        return self.plan_flags + self.evidence_flags

    @property
    def fact_pairs(self) -> list[tuple[str, str]]:
        return list(zip(FACT_LABELS, self.facts, strict=True))

    @property
    def lines(self) -> list[dict]:
        """The evidence lines, in the order the pack shows them."""
        return [self.same_app, self.same_team, self.team_score,
                self.incidents]

    def evidence(self, t: Times | None = None) -> pd.DataFrame:
        """The evidence lines; with a sheet's `t` (reports.text.Times),
        the latest failure as its cell, under a title naming the zone."""
        return evidence_frame(self.lines, self.failures_at, t)

    def evidence_table(self) -> pa.Table:
        """evidence() as the Arrow table a page draws: text columns, n
        a whole number (NULL where it has none)."""
        lines = self.lines
        return pa.table({name: pa.array(
            [line[name] for line in lines],
            type=pa.int64() if name == "n" else pa.string())
            for name in lines[0]})


# an evidence line's columns (_similar, _team_score, _incidents)
EVIDENCE_COLUMNS = ["Evidence", "Period", "n", "Result", "Latest failure"]


def evidence_frame(lines: list[dict], failures_at,
                   t: Times | None = None) -> pd.DataFrame:
    """Evidence lines as a table (EVIDENCE_COLUMNS, none for no line);
    with a sheet's `t`, each line's latest failure (`failures_at`, an
    instant or None) as its cell, under a title naming the zone."""
    frame = pd.DataFrame(lines, columns=EVIDENCE_COLUMNS)
    frame["n"] = frame["n"].astype("Int64")
    if t is not None and t.sheet:
        at = frame.columns.get_loc("Latest failure")
        frame = frame.drop(columns="Latest failure")
        frame.insert(at, t.title("Latest failure"),
                     [t.at(v) for v in failures_at])
    return frame


class Assessments:
    """The pack's assessments by agenda rank, each worked out on first use."""

    def __init__(self, pack: Pack):
        self.pack, self.index, self.found = pack, Index(pack), {}

    def of(self, row: dict) -> Assessment:
        rank = row["agenda_rank"]
        if rank not in self.found:
            self.found[rank] = _assess(self.pack, self.index, row)
        return self.found[rank]


def assessments(pack: Pack) -> Assessments:
    """The pack's assessments (kept on the pack)."""
    if pack.assessed is None:
        pack.assessed = Assessments(pack)
    return pack.assessed


def _assess(pack: Pack, index: Index, row: dict) -> Assessment:
    cohorts = ("application_change_type", "assignment_group")
    same_app, same_team = (_similar(pack, index, row, cohort)
                           for cohort in cohorts)
    incidents = _incidents(pack, index, row)
    n_bookings = len(index.bookings.get(row["change_id"], []))
    return Assessment(
        facts=facts_of(pack, row), same_app=same_app, same_team=same_team,
        team_score=_team_score(index, row), incidents=incidents,
        plan_flags=_plan_flags(row, n_bookings),
        evidence_flags=_evidence_flags(pack, index, row, same_app["n"],
                                       incidents["n"]),
        reading=[(label, as_text(row.get(column)))
                 for label, column in READING],
        in_release=bool(as_text(row["release_id"])),
        # the lines' order: same application, same team, score, incidents
        failures_at=(*(_last_failure_at(index, row, c) for c in cohorts),
                     None, None))


def _last_failure_at(index: Index, row: dict, cohort: str):
    found = index.similar.get((row["change_id"], cohort))
    return None if found is None else found["last_failure_at"]


def _similar(pack: Pack, index: Index, row: dict, cohort: str) -> dict:
    """The evidence line of the change's similar changes in one cohort."""
    application = (app_label(pack, row["application_id"])
                   if as_text(row["application_id"])
                   else "no application given")
    label = (f"Same application and type ({application}, "
             f"{words(row['change_type'])})"
             if cohort == "application_change_type" else
             "Same team ("
             f"{as_text(row['assignment_group']) or 'no team given'})")
    found = index.similar.get((row["change_id"], cohort))
    n = None if found is None or pd.isna(found["n"]) else int(found["n"])
    failed = 0 if n is None else int(found["n_failed"])
    return {
        "Evidence": label,
        "Period": f"{SIMILAR_LOOKBACK_DAYS} days before the meeting",
        "n": n,
        "Result": _not_given(row, cohort) if n is None else
        NO_CHANGE if n == 0 else
        f"{failed:,} of {n:,} failed · success {pct(found['success_rate'])}",
        "Latest failure": "" if found is None
        else when(found["last_failure_at"], pack.reporting_tz),
    }


def _not_given(row: dict, cohort: str) -> str:
    """Why a change has no cohort of similar changes (the query counts
    none for a missing key): 'No application or type given', 'No team
    given'."""
    keys = (("application", row["application_id"]),
            ("type", row["change_type"])) \
        if cohort == "application_change_type" else \
        (("team", row["assignment_group"]),)
    missing = [key for key, value in keys if not as_text(value)]
    return f"No {' or '.join(missing)} given" if missing else NO_HISTORY


# a change's best score under ServiceNow's weights: successful, no incident
# (change_success_score); below it, there is no floor and no published range
BEST_PER_CHANGE = 3


def _team_score(index: Index, row: dict) -> dict:
    score = index.scores.get(row["assignment_group"])
    return {
        "Evidence": "Team success score (ServiceNow weights)",
        "Period": f"{TEAM_LOOKBACK_DAYS} days before the meeting",
        "n": 0 if score is None else int(score["n"]),
        "Result": _not_given(row, "assignment_group")
        if not as_text(row["assignment_group"]) else
        NO_CHANGE if score is None or pd.isna(score["score"]) else
        f"Score {int(score['score']):,} · "
        f"{score['score_per_change']:.2f} per change ({BEST_PER_CHANGE:.2f} "
        "at best)",
        "Latest failure": "",
    }


def _incidents(pack: Pack, index: Index, row: dict) -> dict:
    if not as_text(row["application_id"]):
        # the incidents no application is named on are no change's own
        return {"Evidence": "Incidents on its application",
                "Period": f"{INCIDENT_LOOKBACK_DAYS} days before the meeting",
                "n": None, "Result": "No application given",
                "Latest failure": ""}
    hit = index.incidents.get(row["application_id"])
    return {
        "Evidence": f"Incidents on {app_label(pack, row['application_id'])}",
        "Period": f"{INCIDENT_LOOKBACK_DAYS} days before the meeting",
        "n": 0 if hit is None else int(hit["n_incidents"]),
        # the priorities add up to n (a 'P3 4' of n = 7 read as three lost)
        "Result": NO_INCIDENT if hit is None else
        f"P1 {int(hit['n_p1'])} · P2 {int(hit['n_p2'])} · "
        f"P3 {int(hit['n_p3'])} · P4 or lower {int(hit['n_p4_or_lower'])}"
        + (f" · no priority {int(hit['n_unprioritized'])}"
           if hit["n_unprioritized"] else "")
        + f" · unresolved {int(hit['n_unresolved'])} · "
        f"latest opened {when(hit['last_opened_at'], pack.reporting_tz)}",
        "Latest failure": "",
    }


RELEASE_BOOKINGS = "Its release has environment bookings during the plan"


def _plan_flags(row: dict, n_bookings: int) -> list[str]:
    """What the plan of the change runs into."""
    flags = []
    if row["change_type"] == "emergency":
        flags.append("Emergency change")
    if row["n_collisions"]:
        flags.append("Collides with "
                     + many(row["n_collisions"], "other change"))
    if row["n_freeze_hits"]:
        flags.append("Planned in a freeze window")
    if row["n_blackout_hits"]:
        flags.append("Planned in a blackout window")
    if row["is_outside_maintenance"]:
        flags.append(OUTSIDE_MAINTENANCE)
    if n_bookings:
        flags.append(RELEASE_BOOKINGS)
    return flags


def _evidence_flags(pack: Pack, index: Index, row: dict, n_similar,
                    n_incidents: int) -> list[str]:
    """What the evidence about the change raises: little history for its
    risk, a recent failure of its team, incidents on its application."""
    flags = []
    if row["risk"] in ("high", "very_high") and \
            (n_similar or 0) < LITTLE_HISTORY_N:
        flags.append(f"{words(row['risk'])} risk with little history "
                     f"(n = {n_similar or 0})")
    team = index.similar.get((row["change_id"], "assignment_group"))
    if team is not None and pd.notna(team["last_failure_at"]) and \
            team["last_failure_at"] >= (pd.Timestamp(pack.meeting_at)
                                        - pd.Timedelta(
                                            days=RECENT_FAILURE_DAYS)):
        flags.append(f"Team failed a change in the last "
                     f"{RECENT_FAILURE_DAYS} days")
    if n_incidents:
        flags.append(f"{many(n_incidents, 'incident')} on the application "
                     f"in the last {INCIDENT_LOOKBACK_DAYS} days")
    return flags
