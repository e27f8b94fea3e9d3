"""The last CAB's decisions beside what happened since: the next pack's
"since last CAB" decisions (page, HTML, PDF and an XLSX sheet).

The decisions are the current ones (changeboard/decisions.py) of the latest
meeting before the pack's with any recorded; what happened to each change is
the cab_decided_changes query, whose failure is the project's shared one
(docs/metrics.md). Three findings are called out, the first flagged:
rejected and implemented anyway, approved and then failed or backed out,
deferred and still pending.
"""
from __future__ import annotations

import pandas as pd

from changeboard import db, decisions
from reports.markup import escape, html_table
from reports.text import (
    Times,
    as_text,
    failure_signals,
    is_yes,
    many,
    records,
    signals,
    when,
    words,
)

FINDINGS = {  # finding -> title, in the order shown
    "rejected_implemented": "Rejected, implemented anyway",
    "approved_failed": "Approved, then failed or backed out",
    "deferred_pending": "Deferred, still pending",
}
FLAGGED = "rejected_implemented"
OUTCOMES = {  # cab_decided_changes outcome -> words, as a code reads
    "failed": "Failed", "implemented": "Implemented", "cancelled": "Cancelled",
    "started": "Started, not closed", "closed": "Closed",
    "pending": "Not started", "not_in_data": "Not in the data"}
STARTED = ("failed", "implemented", "started")
COLUMNS = ["Finding", "Change", "Title", "Decision", "What happened", "Note",
           "Risk", "Application", "Team", "Decided by", "Decided", "State",
           "Started", "Ended", "Why failed"]


def finding(decision: str, outcome: str) -> str:
    """What a decision and what happened since add up to ('' = nothing to
    call out)."""
    if decision == "rejected" and outcome in STARTED:
        return "rejected_implemented"
    if decision in ("approved", "approved_with_conditions") and \
            outcome == "failed":
        return "approved_failed"
    if decision == "deferred" and outcome == "pending":
        return "deferred_pending"
    return ""


def changes(con, change_ids, filters: dict | None = None) -> pd.DataFrame:
    """cab_decided_changes for these ids (each once, in order)."""
    name, params = changes_call(change_ids, filters)
    return db.run(con, name, **params)


def changes_call(change_ids, filters: dict | None = None
                 ) -> tuple[str, dict]:
    """The query and parameters of changes(): the pack runs it beside its
    other queries."""
    ids = list(dict.fromkeys(str(c) for c in change_ids))
    return "cab_decided_changes", {"change_ids": ids, **(filters or {})}


def last_decisions(db_path, meeting_at, until: str | None = None
                   ) -> tuple[pd.Timestamp | None, pd.DataFrame | None]:
    """(the last meeting before this one with decisions, its current
    decisions), read from the decision log up to `until`
    (decisions.recorded_until); (None, None) when none was recorded before
    it."""
    last = decisions.last_meeting_before(db_path, meeting_at, until) \
        if db_path else None
    if last is None:
        return None, None
    return last, decisions.current(db_path, last, until)


def look_back(con, db_path, meeting_at, filters: dict | None = None,
              until: str | None = None
              ) -> tuple[pd.Timestamp | None, pd.DataFrame]:
    """(the last meeting before this one with decisions, its current
    decisions beside cab_decided_changes and a `finding` column); (None,
    empty) when no decision was recorded before it. Changes outside the
    filters are left out; changes no longer in the data stay. `until`: the
    decisions recorded up to that log position (decisions.recorded_until)."""
    last, current = last_decisions(db_path, meeting_at, until)
    if last is None:
        return None, pd.DataFrame()
    return last, with_findings(current, changes(con, current["change_id"],
                                                filters))


def with_findings(current: pd.DataFrame, changed: pd.DataFrame
                  ) -> pd.DataFrame:
    """The current decisions beside what cab_decided_changes found of their
    changes (`changed`), with their `finding`, those outside the filters
    left out: look_back's rows."""
    merged = current.merge(changed, on="change_id", how="left")
    merged = merged[merged["is_in_filters"] | ~merged["is_known"]].copy()
    merged["finding"] = [finding(d, o) for d, o in
                         zip(merged["decision"], merged["outcome"],
                             strict=True)]
    rank = {f: i for i, f in enumerate([*FINDINGS, ""])}
    merged["finding_rank"] = merged["finding"].map(rank)
    merged = merged.sort_values(["finding_rank", "change_id"])
    return merged.drop(columns="finding_rank").reset_index(drop=True)


TIMES = ("Decided", "Started", "Ended")


def happened(row) -> str:
    """What happened to a decided change, with its close code: 'Implemented
    (Successful)', 'Failed (Backed out)'. A change failed by a linked
    incident or a rolled-back deployment (docs/metrics.md, failed change)
    says so before a close code that does not fail it: 'Failed (linked
    incident; closed Successful)', never 'Failed (Successful)'."""
    said = OUTCOMES.get(row["outcome"], words(row["outcome"]))
    code = words(row["close_code"])
    if row["outcome"] != "failed":
        return f"{said} ({code})" if code else said
    others = [s for s in signals(row) if s != "close code"]
    if is_yes(row["is_failed_by_close_code"]):
        why = "; ".join([code, ", ".join(others)] if others else [code])
    else:
        why = "; ".join(([", ".join(others)] if others else [])
                        + ([f"closed {code}"] if code else []))
    return f"{said} ({why})" if why else said


def table(pack, finding_: str | None = None, *,
          sheet: bool = False) -> pd.DataFrame:
    """The pack's last-CAB decisions with human columns: those of one
    finding, or all of them (finding None). `sheet`: their instants as a
    spreadsheet's cells (reports.text.Times)."""
    from reports import cab  # cab imports this module

    t = Times(pack.reporting_tz, sheet)
    columns = [t.title(c) if c in TIMES else c for c in COLUMNS]
    rows = pack.decided
    if rows.empty:
        return pd.DataFrame(columns=columns)
    if finding_ is not None:
        rows = rows[rows["finding"] == finding_]
    out = [{
        "Finding": FINDINGS.get(r["finding"], ""),
        "Change": r["change_id"], "Title": as_text(r["title"]),
        "Risk": words(r["risk"]),
        "Application": cab.app_label(pack, r["application_id"])
        if r["is_known"] else "",
        "Team": as_text(r["assignment_group"]),
        "Decision": decisions.label(r["decision"]),
        "Note": as_text(r["note"]), "Decided by": r["decided_by"],
        t.title("Decided"): t.at(r["decided_at"]),
        "What happened": happened(r),
        "State": words(r["state"]),
        t.title("Started"): t.at(r["actual_start_at"]),
        t.title("Ended"): t.at(r["outcome_at"]),
        "Why failed": failure_signals(r)} for r in records(rows)]
    return pd.DataFrame(out, columns=columns)


def heading(pack) -> str:
    """Which meeting's decisions the section shows."""
    if pack.decided_meeting_at is None:
        return ("No CAB decision was recorded before this meeting (the CAB "
                "pack page records them).")
    return (f"Decisions recorded at the meeting of "
            f"{when(pack.decided_meeting_at, pack.reporting_tz)} "
            f"({len(pack.decided):,}), beside what has happened to each change "
            "as the data stands.")


def _flagged_ids(pack) -> list[str]:
    if pack.decided.empty:
        return []
    return list(pack.decided.loc[pack.decided["finding"] == FLAGGED,
                                 "change_id"])


def flagged(pack) -> int:
    """How many changes rejected at the last CAB were implemented anyway."""
    return len(_flagged_ids(pack))


def flag_note(pack) -> str:
    """The prominent line for changes rejected and implemented anyway."""
    ids = _flagged_ids(pack)
    if not ids:
        return ""
    return (f"⚠ {many(len(ids), 'change')} rejected at the last CAB "
            f"{'was' if len(ids) == 1 else 'were'} implemented anyway: "
            f"{', '.join(ids)}.")


def alert_html(pack) -> str:
    """The flag line, at the top of the pack's Since last CAB ('' if none)."""
    note = flag_note(pack)
    return f'<p class="note alert">{escape(note)}</p>' if note else ""


def html(pack, none: str = "None.") -> str:
    """The section's HTML (inside the pack's landscape Since last CAB);
    nothing when no decision was ever recorded before the meeting. `none`:
    what an empty list says (the pack's since_none: 'None in the data so
    far (loaded ...)' when the data was loaded before these days ended)."""
    if pack.decided_meeting_at is None:
        return ""
    parts = ["<h3>Decisions of the last CAB</h3>",
             f'<p class="meta">{escape(heading(pack))}</p>']
    for key, title in FINDINGS.items():
        frame = table(pack, key).drop(columns="Finding")
        parts.append(f'<h4 class="{"alert" if key == FLAGGED else ""}">'
                     f"{escape(title)} ({len(frame):,})</h4>"
                     + html_table(frame, none))
    rest = table(pack, "").drop(columns="Finding")
    parts.append(f"<h4>Other decisions ({len(rest):,})</h4>"
                 + html_table(rest, "None."))
    return "".join(parts)
