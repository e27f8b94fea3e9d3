"""The changes for decision in detail: each change's block, its assessment
(reports/cab/evidence.py) with the tables of what it meets."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from changeboard.words import OUTSIDE_MAINTENANCE, shared_word
from reports.cab.evidence import (
    app_label,
    assessments,
    environment,
    evidence_frame,
)
from reports.cab.pack import Pack
from reports.text import (
    Times,
    as_text,
    failure_signals,
    phase_words,
    records,
    span,
    tier_words,
    words,
)

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
    # pandas frames, or Arrow tables (blocks(arrow=True))
    collisions: pd.DataFrame | pa.Table
    window_hits: pd.DataFrame | pa.Table
    bookings: pd.DataFrame | pa.Table
    evidence: pd.DataFrame | pa.Table
    last_failures: pd.DataFrame | pa.Table
    in_release: bool = True  # the change belongs to a release


def blocks(pack: Pack, limit: int | None = None, *,
           start: int = 0, arrow: bool = False,
           sheet: bool = False) -> list[ChangeBlock]:
    """The changes for decision, in agenda order, each with its evidence;
    `limit` of them from position `start` when given. `arrow`: each table
    an Arrow table built straight from its columns, as a page draws it (a
    page of 20 blocks is 100 tables: building pandas frames and converting
    them took a tenth of the CAB page's cold run at 3,000 agenda changes).
    `sheet`: the tables' instants as a spreadsheet's cells (the XLSX's
    sheets; reports.text.Times)."""
    agenda = pack.agenda.iloc[start:]
    agenda = agenda if limit is None else agenda.head(limit)
    rows = records(agenda)
    index = assessments(pack).index
    shown = [_shown_rows(index, row) for row in rows]
    for frame in ("collisions", "window_hits", "booking_hits",
                  "team_failures"):  # the page's rows of each, together
        index.rows(frame, [i for at in shown for i in at[frame]])
    t = Times(pack.reporting_tz, sheet)
    return [_block(pack, row, at, arrow, t) for row, at in zip(rows, shown,
                                                               strict=True)]


def no_rows(pack: Pack, *, sheet: bool = False) -> dict[str, pd.DataFrame]:
    """Each of a block's tables (by its ChangeBlock field) with no row, its
    columns as blocks() writes them: a sheet of no row still has them."""
    t = Times(pack.reporting_tz, sheet)
    # no collision reads the change's row: only its id is looked at
    return {"collisions": pd.DataFrame(_collisions(
                pack, {"change_id": None}, [], t)),
            "window_hits": pd.DataFrame(_window_hits([], t)),
            "bookings": pd.DataFrame(_bookings([], t)),
            "evidence": evidence_frame([], [], t),
            "last_failures": pd.DataFrame(_last_failures([], t))}


def _arrow_table(columns: dict[str, list]) -> pa.Table:
    """The columns (lists of text, None for none) as an Arrow table."""
    return pa.table({name: pa.array(values, type=pa.string())
                     for name, values in columns.items()})


def _shown_rows(index, row: dict) -> dict[str, list[int]]:
    """The positions of the rows a change's block shows, by evidence frame."""
    cid = row["change_id"]
    return {"collisions": index.collisions.get(cid, []),
            "window_hits": index.window_hits.get(cid, []),
            "booking_hits": index.bookings.get(cid, []),
            "team_failures": index.failures.get(
                row["assignment_group"], [])[:LAST_FAILURES_SHOWN]}


def _block(pack: Pack, row: dict, at: dict[str, list[int]],
           arrow: bool, t: Times) -> ChangeBlock:
    found = assessments(pack)
    table = _arrow_table if arrow else pd.DataFrame
    assessed, rows = found.of(row), found.index.rows
    return ChangeBlock(
        rank=int(row["agenda_rank"]), change_id=row["change_id"],
        title=as_text(row["title"]), facts=assessed.fact_pairs,
        flags=assessed.flags, reading=assessed.reading,
        collisions=table(_collisions(pack, row, rows("collisions",
                                                     at["collisions"]), t)),
        window_hits=table(_window_hits(rows("window_hits",
                                            at["window_hits"]), t)),
        bookings=table(_bookings(rows("booking_hits", at["booking_hits"]),
                                 t)),
        evidence=assessed.evidence_table() if arrow
        else assessed.evidence(t),
        last_failures=table(_last_failures(rows(
            "team_failures", at["team_failures"]), t)),
        in_release=assessed.in_release)


# each table of a block, its columns from its rows as dicts (Index.rows),
# its instants written as `t` says (text, or a sheet's cells)

def _collisions(pack: Pack, row: dict, mine: list[dict],
                t: Times) -> dict[str, list]:
    """One row per other change, naming everything the two share: the
    query gives a row per pair and shared key, so a change sharing the
    application and the environment was two rows under a flag 'Collides
    with 1 other change'. The overlap is the two plans', the same for each
    key."""
    cid = row["change_id"]
    by_other: dict[str, list[dict]] = {}
    for r in mine:
        other = r["change_id_b"] if r["change_id_a"] == cid \
            else r["change_id_a"]
        by_other.setdefault(other, []).append(r)
    first = [found[0] for found in by_other.values()]
    # the overlap beside the other change: after what they share (an
    # application and an environment by name and id) it was cut to 'Ov…'
    # at the page's edge at 1400 px (a CAB chair's walkthrough)
    return {
        "Other change": list(by_other),
        **_overlap(first, t),
        "Other title": [as_text(r["title_b"] if r["change_id_a"] == cid
                                else r["title_a"]) for r in first],
        "Shared": ["; ".join(_shared(pack, row, r) for r in found)
                   for found in by_other.values()],
    }


def _shared(pack: Pack, row: dict, collision: dict) -> str:
    """What a collision shares, as the calendar names it (words.SHARED):
    'Environment Prod payments (E1)', 'Application Payments (A1)', 'CI
    pay-db-prd01'."""
    on, key = collision["match_on"], collision["match_key"]
    what = environment(row) if on == "environment" else \
        app_label(pack, key) if on == "application" else as_text(key)
    said = shared_word(on)
    return f"{said[:1].upper()}{said[1:]} {what}"


def _overlap(found: list[dict], t: Times) -> dict[str, list]:
    return t.span("Overlap", [r["overlap_start_at"] for r in found],
                  [r["overlap_end_at"] for r in found])


def _window_hits(hits: list[dict], t: Times) -> dict[str, list]:
    outside = "outside_maintenance"
    columns = {
        "Window": [as_text(r["window_name"]) or "(any maintenance window)"
                   if r["kind"] == outside else
                   f"{as_text(r['window_name'])} ({r['window_id']})".strip()
                   for r in hits],
        "Kind": [OUTSIDE_MAINTENANCE if r["kind"] == outside
                 else words(r["kind"]) for r in hits],
    }
    if t.sheet:  # outside maintenance: no overlap, as its Kind says
        return {**columns, **_overlap(hits, t)}
    return {**columns, "Overlap": [
        "Planned outside every maintenance window" if r["kind"] == outside
        else span(r["overlap_start_at"], r["overlap_end_at"], t.tz)
        for r in hits]}


def _bookings(books: list[dict], t: Times) -> dict[str, list]:
    return {
        "Booking": [r["booking_id"] for r in books],
        "Environment": [
            f"{as_text(r['environment_name']) or r['environment_id']} "
            f"({tier_words(r['tier'])})"
            + (" · target" if r["is_target_environment"] else "")
            for r in books],
        "Team": [as_text(r["team"]) for r in books],
        "Phase": [phase_words(r["phase"]) for r in books],
        "Status": [words(r["status"]) for r in books],
        **_overlap(books, t),
    }


def why_failed(rows: pd.DataFrame) -> list[str]:
    """Each failed change's signals: 'close code, incident, rollback'."""
    return [failure_signals(r) for r in records(rows)]


def _last_failures(team: list[dict], t: Times) -> dict[str, list]:
    return {
        "Change": [r["change_id"] for r in team],
        "Title": [as_text(r["title"]) for r in team],
        "Close code": [words(r["close_code"]) for r in team],
        t.title("Ended"): [t.at(r["outcome_at"]) for r in team],
        "Why failed": [failure_signals(r) for r in team],
    }
