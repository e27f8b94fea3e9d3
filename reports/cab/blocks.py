"""The changes for decision in detail: each change's block, its assessment
(reports/cab/evidence.py) with the tables of what it meets."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reports.cab.evidence import app_label, assessments, environment
from reports.cab.pack import Pack
from reports.text import as_text, failure_signals, span, when, words

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
    rows = agenda.to_dict("records")
    index = assessments(pack).index
    for frame, found in (("collisions", index.collisions),
                         ("window_hits", index.window_hits),
                         ("booking_hits", index.bookings)):
        index.rows(frame, [i for r in rows
                           for i in found.get(r["change_id"], [])])
    index.rows("team_failures", [
        i for r in rows for i in index.failures.get(
            r["assignment_group"], [])[:LAST_FAILURES_SHOWN]])
    return [_block(pack, row) for row in rows]


def _block(pack: Pack, row: dict) -> ChangeBlock:
    found = assessments(pack)
    assessed, index, cid = found.of(row), found.index, row["change_id"]
    return ChangeBlock(
        rank=int(row["agenda_rank"]), change_id=cid,
        title=as_text(row["title"]), facts=assessed.fact_pairs,
        flags=assessed.flags, reading=assessed.reading,
        collisions=_collisions(pack, row, index.rows(
            "collisions", index.collisions.get(cid, []))),
        window_hits=_window_hits(pack, index.rows(
            "window_hits", index.window_hits.get(cid, []))),
        bookings=_bookings(pack, index.rows(
            "booking_hits", index.bookings.get(cid, []))),
        evidence=assessed.evidence(),
        last_failures=_last_failures(pack, index.rows(
            "team_failures", index.failures.get(
                row["assignment_group"], [])[:LAST_FAILURES_SHOWN])),
        in_release=assessed.in_release)


# each table of a block from its rows as dicts (Index.rows)

def _collisions(pack: Pack, row: dict, mine: list[dict]) -> pd.DataFrame:
    cid, tz = row["change_id"], pack.reporting_tz
    return pd.DataFrame({
        "Other change": [r["change_id_b"] if r["change_id_a"] == cid
                         else r["change_id_a"] for r in mine],
        "Other title": [as_text(r["title_b"] if r["change_id_a"] == cid
                                else r["title_a"]) for r in mine],
        "Shared": [f"environment {environment(row)}"
                   if r["match_on"] == "environment" else
                   f"application {app_label(pack, r['match_key'])}"
                   if r["match_on"] == "application"
                   else f"{r['match_on']} {r['match_key']}" for r in mine],
        "Overlap": [span(r["overlap_start_at"], r["overlap_end_at"], tz)
                    for r in mine],
    })


def _window_hits(pack: Pack, hits: list[dict]) -> pd.DataFrame:
    outside = "outside_maintenance"
    return pd.DataFrame({
        "Window": [as_text(r["window_name"]) or "(any maintenance window)"
                   if r["kind"] == outside else
                   f"{as_text(r['window_name'])} ({r['window_id']})".strip()
                   for r in hits],
        "Kind": [r["kind"].replace("_", " ") for r in hits],
        "Overlap": ["planned outside every maintenance window"
                    if r["kind"] == outside else
                    span(r["overlap_start_at"], r["overlap_end_at"],
                         pack.reporting_tz) for r in hits],
    })


def _bookings(pack: Pack, books: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "Booking": [r["booking_id"] for r in books],
        "Environment": [
            f"{as_text(r['environment_name']) or r['environment_id']} "
            f"({as_text(r['tier'])})"
            + (" · target" if r["is_target_environment"] else "")
            for r in books],
        "Team": [as_text(r["team"]) for r in books],
        "Phase": [as_text(r["phase"]) for r in books],
        "Status": [r["status"] for r in books],
        "Overlap": [span(r["overlap_start_at"], r["overlap_end_at"],
                         pack.reporting_tz) for r in books],
    })


def why_failed(rows: pd.DataFrame) -> list[str]:
    """Each failed change's signals: 'close code, incident, rollback'."""
    return [failure_signals(r) for r in rows.to_dict("records")]


def _last_failures(pack: Pack, team: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({
        "Change": [r["change_id"] for r in team],
        "Title": [as_text(r["title"]) for r in team],
        "Close code": [words(r["close_code"]) for r in team],
        "Ended": [when(r["outcome_at"], pack.reporting_tz) for r in team],
        "Why failed": [failure_signals(r) for r in team],
    })
