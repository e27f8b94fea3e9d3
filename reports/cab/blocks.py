"""The changes for decision in detail: each change's block, its assessment
(reports/cab/evidence.py) with the tables of what it meets."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reports.cab.evidence import app_label, assessments, environment
from reports.cab.pack import Pack
from reports.text import as_text, is_yes, span, when, words

LAST_FAILURES_SHOWN = 3


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
    in_release: bool = True  # the change belongs to a release


def blocks(pack: Pack, limit: int | None = None, *,
           start: int = 0) -> list[ChangeBlock]:
    """The changes for decision, in agenda order, each with its evidence;
    `limit` of them from position `start` when given."""
    agenda = pack.agenda.iloc[start:]
    agenda = agenda if limit is None else agenda.head(limit)
    return [_block(pack, row) for row in agenda.to_dict("records")]


def _block(pack: Pack, row: dict) -> ChangeBlock:
    found = assessments(pack)
    assessed, index, cid = found.of(row), found.index, row["change_id"]
    return ChangeBlock(
        rank=int(row["agenda_rank"]), change_id=cid,
        title=as_text(row["title"]), facts=assessed.fact_pairs,
        flags=assessed.flags, reading=assessed.reading,
        collisions=_collisions(
            pack, row, pack.collisions.iloc[index.collisions.get(cid, [])]),
        window_hits=_window_hits(
            pack, pack.window_hits.iloc[index.window_hits.get(cid, [])]),
        bookings=_bookings(
            pack, pack.booking_hits.iloc[index.bookings.get(cid, [])]),
        evidence=assessed.evidence(),
        last_failures=_last_failures(pack, pack.team_failures.iloc[
            index.failures.get(row["assignment_group"],
                               [])[:LAST_FAILURES_SHOWN]]),
        in_release=assessed.in_release)


def _collisions(pack: Pack, row: dict, mine: pd.DataFrame) -> pd.DataFrame:
    cid, tz = row["change_id"], pack.reporting_tz
    return pd.DataFrame({
        "Other change": [b if a == cid else a for a, b in
                         zip(mine["change_id_a"], mine["change_id_b"],
                             strict=True)],
        "Other title": [as_text(tb if a == cid else ta) for a, ta, tb in
                        zip(mine["change_id_a"], mine["title_a"],
                            mine["title_b"], strict=True)],
        "Shared": [f"environment {environment(row)}"
                   if m == "environment" else
                   f"application {app_label(pack, k)}" if m == "application"
                   else f"{m} {k}" for m, k in
                   zip(mine["match_on"], mine["match_key"], strict=True)],
        "Overlap": [span(s, e, tz) for s, e in
                    zip(mine["overlap_start_at"], mine["overlap_end_at"],
                        strict=True)],
    })


def _window_hits(pack: Pack, hits: pd.DataFrame) -> pd.DataFrame:
    outside = "outside_maintenance"
    return pd.DataFrame({
        "Window": [as_text(n) or "(any maintenance window)" if k == outside
                   else f"{as_text(n)} ({w})".strip() for w, n, k in
                   zip(hits["window_id"], hits["window_name"], hits["kind"],
                       strict=True)],
        "Kind": [k.replace("_", " ") for k in hits["kind"]],
        "Overlap": ["planned outside every maintenance window"
                    if k == outside else span(s, e, pack.reporting_tz)
                    for k, s, e in zip(hits["kind"], hits["overlap_start_at"],
                                       hits["overlap_end_at"], strict=True)],
    })


def _bookings(pack: Pack, books: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Booking": list(books["booking_id"]),
        "Environment": [
            f"{as_text(n) or e} ({as_text(t)})" + (" · target" if g else "")
            for e, n, t, g in zip(books["environment_id"],
                                  books["environment_name"], books["tier"],
                                  books["is_target_environment"],
                                  strict=True)],
        "Team": [as_text(t) for t in books["team"]],
        "Phase": [as_text(p) for p in books["phase"]],
        "Status": list(books["status"]),
        "Overlap": [span(s, e, pack.reporting_tz) for s, e in
                    zip(books["overlap_start_at"], books["overlap_end_at"],
                        strict=True)],
    })


def why_failed(rows: pd.DataFrame) -> list[str]:
    """Each failed change's signals: 'close code, incident, rollback'."""
    return [", ".join(w for w, f in (("close code", c), ("incident", i),
                                     ("rollback", r)) if is_yes(f))
            for c, i, r in zip(rows["is_failed_by_close_code"],
                               rows["is_failed_by_incident"],
                               rows["is_failed_by_rollback"], strict=True)]


def _last_failures(pack: Pack, team: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Change": list(team["change_id"]),
        "Title": [as_text(t) for t in team["title"]],
        "Close code": [words(c) for c in team["close_code"]],
        "Ended": [when(t, pack.reporting_tz) for t in team["outcome_at"]],
        "Why failed": why_failed(team),
    })
