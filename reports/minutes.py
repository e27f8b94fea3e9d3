"""The minutes of a CAB meeting: its decisions and attendees as HTML, PDF
and XLSX, in the CAB pack's style and with its provenance block.

build() reads the meeting's decisions (changeboard/decisions.py) and gives
each the change's facts from the pack's agenda, or, for a change not on
it, from the data the pack read (cab_decided_changes), or, for a change
a load added since, from the data as it stood when it was decided. Every
decision is listed, whatever the pack's filters: the current one of each
change, and the earlier ones it replaced.
build_for() reads, unless told, the data as it stood when the meeting's
first decision was recorded (read_version), so a load since does not
renumber them.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from changeboard import db, decisions, snapshots
from reports import cab, decided, markup
from reports.cab.provenance import threshold
from reports.cab.tables import NUMBER_FORMATS
from reports.text import Times, as_text, many, records, span, when, words

DECISION_COLUMNS = ["#", "Change", "Title", "Decision", "Note", "Decided by",
                    "Decided", "Risk", "Type", "Application", "Team",
                    "Planned", "Times recorded"]
ON_PAGE = ["#", "Change", "Title", "Decision", "Note", "Decided by",
           "Decided", "Risk", "Application", "Times recorded"]
# the pack's CSS, every page landscape: the decisions table is wide; on
# screen as wide as a landscape page (in the pack's 60em its last columns
# ran off a 1280-pixel window), and scrolled within in a narrower one
CSS = cab.CSS + """
@page { size: A4 landscape; margin: 12mm 12mm; }
div.decisions td:nth-child(3) { min-width: 12em; }
div.decisions td:nth-child(5) { min-width: 18em; }
@media screen { body { max-width: 100em; }
                div.decisions { overflow-x: auto; } }
"""
EARLIER_COLUMNS = ["Change", "Title", "Decision", "Note", "Decided by",
                   "Decided"]
# the instants of those tables: on the XLSX's sheets, each a date cell under
# a title naming the pack's zone, and the plan its start, end and hours
TIMES = ("Meeting", "Decided", "Planned start", "Planned end")


@dataclass
class Minutes:
    pack: cab.Pack  # the meeting's pack: its agenda and provenance
    decisions: pd.DataFrame  # DECISION_COLUMNS, one row per decided change
    earlier: pd.DataFrame  # EARLIER_COLUMNS: decisions later replaced
    attendees: list[str]
    attendance: dict | None  # who recorded the attendees, and when
    undecided: list[str]  # agenda changes with no decision, agenda order
    # the decisions and earlier ones as the XLSX's sheets: the same rows,
    # their instants a spreadsheet's cells (sheet_columns)
    sheet_decisions: pd.DataFrame
    sheet_earlier: pd.DataFrame
    # the position of the decision log read (decisions.recorded_until)
    until: str | None = None
    # with no decision recorded at this meeting: the nearest meetings that
    # have some (a day mistyped, a meeting moved), in time order
    elsewhere: list = field(default_factory=list)
    # the provenance's Data read line: which data was read when it is the
    # meeting's (read_version); None for another version asked for, or no
    # decision
    read: str | None = None

    @property
    def meeting_at(self):
        return self.pack.meeting_at


def _facts(pack: cab.Pack, current: pd.DataFrame) -> dict[str, dict]:
    """change id -> title, type, risk, application, team and plan of each
    decided change: from the pack's agenda, else from the data the pack
    read, else (a change a load added since: decided at the meeting, not
    on the agenda it began with) from the data as it stood when its
    decision was recorded, which the decision log and the log of loads
    pin, so the minutes rebuilt later read the same (the live data when
    that version is not kept)."""
    wanted = set(current["change_id"])
    found = {r["change_id"]: r for r in records(pack.agenda)
             if r["change_id"] in wanted}
    if not pack.db_path:
        return found
    _described(found, cab.data_file(pack), wanted)
    late: dict[str | None, set] = {}
    for r in records(current):
        if r["change_id"] not in found:
            late.setdefault(snapshots.live_at(
                pack.db_path, pd.Timestamp(r["decided_at"]).to_pydatetime()),
                set()).add(r["change_id"])
    for name, ids in late.items():
        _described(found, snapshots.source(pack.db_path, name)[0]
                   if name else pack.db_path, ids)
    return found


def _described(found: dict, path, wanted: set) -> None:
    """Add to found the facts of the wanted changes it lacks, from the data
    file at path (a change not in it: none)."""
    missing = sorted(wanted - set(found))
    if not missing:
        return
    with db.reading(path) as con:
        rows = decided.changes(con, missing)
    found.update({r["change_id"]: r for r in records(rows)
                  if r["is_known"]})


def build(pack: cab.Pack, until: str | None = None,
          read: str | None = None) -> Minutes:
    """The minutes of the pack's meeting (no decision: empty minutes), from
    the decision log as recorded up to `until` (default: now); `read`: why
    the pack's file version was read (read_version), for the provenance."""
    path, meeting, tz = pack.db_path, pack.meeting_at, pack.reporting_tz
    if path:
        until = decisions.until_key(until) or decisions.recorded_until(path)
    current = decisions.current(path, meeting, until) if path else \
        pd.DataFrame(columns=decisions.COLUMNS + ["n_recorded"])
    history = decisions.history(path, meeting, until=until) if path else \
        pd.DataFrame(
        columns=decisions.COLUMNS + ["is_current"])
    facts = _facts(pack, current)
    replaced = history[~history["is_current"].astype(bool)]
    text, sheet = Times(tz), Times(tz, sheet=True)
    table = _decisions(pack, current, facts, text)
    # agenda order first, then the changes no longer on it, by id (the
    # sheet's rows in the same order)
    order = table.assign(_off=table["#"].isna()).sort_values(
        ["_off", "#", "Change"]).index
    decided_ids = set(table["Change"])
    titles = dict(zip(table["Change"], table["Title"], strict=True))
    return Minutes(
        pack=pack, decisions=table.loc[order].reset_index(drop=True),
        earlier=_earlier(pack, replaced, text, titles),
        attendees=decisions.attendees(path, meeting, until) if path else [],
        attendance=decisions.attendance(path, meeting, until) if path
        else None,
        undecided=[c for c in pack.agenda["change_id"]
                   if c not in decided_ids],
        sheet_decisions=_numbers(_decisions(pack, current, facts, sheet)
                                 .loc[order].reset_index(drop=True)),
        sheet_earlier=_earlier(pack, replaced, sheet, titles),
        until=until if path else None,
        elsewhere=_elsewhere(path, meeting, until)
        if path and current.empty else [], read=read)


NEAREST_MEETINGS = 3  # named when the minutes' meeting has no decision


def _elsewhere(path, meeting, until: str | None) -> list[pd.Timestamp]:
    """The meetings nearest this one with a decision recorded (up to
    `until`), in time order."""
    at = pd.Timestamp(meeting)
    found = decisions.meetings(path, until)
    nearest = sorted(found, key=lambda m: abs(m - at))[:NEAREST_MEETINGS]
    return sorted(nearest)


def no_decision(minutes: Minutes) -> str:
    """What the minutes say when no decision was recorded at the meeting,
    naming the nearest meetings that have some."""
    said = "No decision was recorded at this meeting."
    if minutes.elsewhere:
        tz = minutes.pack.reporting_tz
        said += (" Decisions are recorded at the meeting"
                 f"{'' if len(minutes.elsewhere) == 1 else 's'} of "
                 + ", ".join(when(m, tz) for m in minutes.elsewhere)
                 + f" ({tz}): run the minutes for "
                 + ("that day." if len(minutes.elsewhere) == 1
                    else "one of those days."))
    return said


def sheet_columns(columns: list[str], t: Times) -> list[str]:
    """A table's columns as `t` writes them (reports.text.Times): on a
    sheet, the meeting first, each instant's title naming the zone, and the
    plan, which one date cell cannot hold, as its start, end and hours."""
    if not t.sheet:
        return columns
    out = ["Meeting"]
    for column in columns:
        out += ["Planned start", "Planned end", "Planned hours"] \
            if column == "Planned" else [column]
    return [t.title(c) if c in TIMES else c for c in out]


def _decisions(pack: cab.Pack, current: pd.DataFrame, facts: dict,
               t: Times) -> pd.DataFrame:
    """The current decisions, one row per change (DECISION_COLUMNS), their
    instants as `t` writes them."""
    rows = []
    for r in records(current):
        f = facts.get(r["change_id"], {})
        rank = f.get("agenda_rank")
        rows.append({
            **_meeting(pack, t),
            "#": None if rank is None or pd.isna(rank) else int(rank),
            "Change": r["change_id"], "Title": as_text(f.get("title")),
            "Type": words(f.get("change_type")),
            "Risk": words(f.get("risk")),
            "Application": cab.app_label(pack, f.get("application_id"))
            if f else "(not in the data)",
            "Team": as_text(f.get("assignment_group")),
            **_planned(f.get("planned_start_at"), f.get("planned_end_at"),
                       t),
            "Decision": decisions.label(r["decision"]), "Note": r["note"],
            "Decided by": r["decided_by"],
            t.title("Decided"): t.at(r["decided_at"]),
            "Times recorded": int(r["n_recorded"])})
    table = pd.DataFrame(rows, columns=sheet_columns(DECISION_COLUMNS, t))
    table["#"] = table["#"].astype("Int64")
    return table


def _meeting(pack: cab.Pack, t: Times) -> dict:
    """On a sheet, a row's Meeting cell: the meeting as a date cell, so
    the rows of several meetings' minutes put together still say which
    meeting decided; as text, none (the minutes' title names it)."""
    return {t.title("Meeting"): t.at(pack.meeting_at)} if t.sheet else {}


def _planned(start, end, t: Times) -> dict:
    """The plan: as text, its span (its start alone when it names no end);
    on a sheet, its start and end and the hours elapsed between them (a
    plan from 01:30 to 03:30 across the change to summer time is 1.0)."""
    if not t.sheet:
        return {"Planned": span(start, end, t.tz) if as_text(end)
                else when(start, t.tz)}
    hours = None if not as_text(start) or not as_text(end) else \
        (pd.Timestamp(end) - pd.Timestamp(start)) / pd.Timedelta(hours=1)
    return {t.title("Planned start"): t.at(start),
            t.title("Planned end"): t.at(end), "Planned hours": hours}


def _numbers(table: pd.DataFrame) -> pd.DataFrame:
    """A sheet's numbers shown as the pack's For decision sheet shows them
    (its Planned hours as the block's '1.5')."""
    table.attrs[NUMBER_FORMATS] = {"Planned hours": "0.0"}
    return table


UNDECIDED_COLUMNS = ["#", "Change", "Title", "Risk", "Planned"]


def undecided_table(minutes: Minutes, sheet: bool = False) -> pd.DataFrame:
    """The agenda changes not decided (UNDECIDED_COLUMNS), in agenda
    order, as the decisions are listed: whoever reads the minutes sees
    which changes are still open, not ids alone. `sheet`: its instants as
    the XLSX's cells."""
    pack = minutes.pack
    t = Times(pack.reporting_tz, sheet=sheet)
    wanted = set(minutes.undecided)
    rows = [{**_meeting(pack, t), "#": int(r["agenda_rank"]),
             "Change": r["change_id"], "Title": as_text(r["title"]),
             "Risk": words(r["risk"]),
             **_planned(r["planned_start_at"], r["planned_end_at"], t)}
            for r in records(pack.agenda) if r["change_id"] in wanted]
    table = pd.DataFrame(rows, columns=sheet_columns(UNDECIDED_COLUMNS, t))
    return _numbers(table) if sheet else table


def _earlier(pack: cab.Pack, replaced: pd.DataFrame, t: Times,
             titles: dict[str, str]) -> pd.DataFrame:
    """The decisions later replaced (EARLIER_COLUMNS), each change with the
    title its current decision's row gives it (a bare id named nothing a
    reader knew), their instants as `t` writes them."""
    return pd.DataFrame({
        **{k: [v] * len(replaced) for k, v in _meeting(pack, t).items()},
        "Change": list(replaced["change_id"]),
        "Title": [titles.get(c, "") for c in replaced["change_id"]],
        "Decision": [decisions.label(d) for d in replaced["decision"]],
        "Note": list(replaced["note"]),
        "Decided by": list(replaced["decided_by"]),
        t.title("Decided"): [t.at(v) for v in replaced["decided_at"]],
    }, columns=sheet_columns(EARLIER_COLUMNS, t))


def build_for(db_path, meeting, as_of: str | None = None,
              until: str | None = None) -> Minutes:
    """The minutes of the meeting on that day (or at that instant), from
    the snapshot `as_of` (default: the version read_version picks; `live`:
    the live data) and the decision log as recorded up to `until`
    (default: now)."""
    until = decisions.until_key(until) or decisions.recorded_until(db_path)
    version, read = chosen_version(db_path, meeting, as_of, until)
    return build(cab.build_pack(db_path, meeting, as_of=version,
                                decisions_until=until), until, read)


def chosen_version(db_path, meeting, as_of: str | None = None,
                   until: str | None = None
                   ) -> tuple[str | None, str | None]:
    """(version to read, Data read line): `as_of` when given, else the
    meeting's (read_version); the line only when the version read holds
    the meeting's data. The CLI and the CAB page both choose so."""
    picked, read = read_version(db_path, meeting, until)
    if not as_of:
        return picked, read
    if snapshots.named(db_path, as_of) != (
            picked or snapshots.version_name(db_path)):
        read = None  # another version than the meeting's, as asked
    return as_of, read


def read_version(db_path, meeting, until: str | None = None
                 ) -> tuple[str | None, str | None]:
    """The data the minutes read unless told: as it stood when the
    meeting's first decision (up to `until`) was recorded, so a change
    keeps the number the meeting's agenda gave it after a load changes the
    agenda (the sync after a CAB brings its approvals from the source,
    which take those changes off it), a decision amended since too.
    (version, why): the snapshot holding that data (None: the live file
    does, or none does and the live data is read), and the provenance's
    Data read line (None when no decision was recorded)."""
    decided = decisions.first_decided(db_path, meeting, until)
    if decided is None:
        return None, None
    name = snapshots.live_at(db_path, decided.to_pydatetime())
    then = ("the data as it stood when the meeting's first decision was "
            f"recorded ({when(decided, 'UTC')} UTC)")
    if name is None:
        return None, (
            f"the live data, because {then} is not among the kept versions "
            "(retention pruned it, or the database was copied or restored "
            "without its snapshots): the agenda's numbers are today's, and "
            "a change no longer on it is listed after the others, "
            "unnumbered")
    return (None if name == snapshots.version_name(db_path) else name), (
        f"{then}, so each change keeps the number the meeting's agenda "
        "gave it")


def provenance(minutes: Minutes, out: str = "cab-minutes.pdf"
               ) -> list[tuple[str, str]]:
    """The pack's provenance, less what only the pack reads (its window,
    look-back and filters), with what the minutes record; the Regenerate
    command writes `out`, named as the file it is read in."""
    pack = minutes.pack
    kept = [(k, v) for k, v in cab.provenance(pack)
            if k in ("Meeting", "Data as of", "Batches loaded",
                     "Data version", "Failed changes")]
    who = minutes.attendance
    day = pack.meeting_at.astimezone(cab.reporting_zone())
    command = [*threshold(pack), "python", "-m", "changeboard", "report",
               "minutes",
               "--meeting", f"{day:%Y-%m-%d}", "--db", pack.db_path or "PATH",
               *cab.cadence(pack)]
    if pack.data_version:
        command += ["--as-of", pack.data_version]
    if minutes.until:
        command += ["--decisions-until", minutes.until]
    return [
        *kept,
        *([("Data read", minutes.read)] if minutes.read else []),
        ("Decisions", counted(minutes)
         + (f". {no_decision(minutes)}" if minutes.elsewhere else "")),
        ("Attendees recorded", f"by {who['recorded_by']} on "
         f"{when(who['recorded_at'], pack.reporting_tz)} "
         f"({pack.reporting_tz})" if who else "not recorded"),
        ("Recorded in", "the application state beside the database "
         "(CAB decisions are not ingested data)"),
        ("CAB decisions read", cab.decisions_read(minutes.until)),
        ("Regenerate with", shlex.join([*command, "--out", out])),
    ]


def counted(minutes: Minutes) -> str:
    """'4 changes decided, 1 earlier decision replaced; 36 agenda changes
    not decided'."""
    n_earlier = len(minutes.earlier)
    return (f"{many(len(minutes.decisions), 'change')} decided"
            + (f", {many(n_earlier, 'earlier decision')} replaced"
               if n_earlier else "")
            + f"; {many(len(minutes.undecided), 'agenda change')} not "
            "decided")


def _title(minutes: Minutes) -> str:
    return f"CAB minutes — {when(minutes.meeting_at, minutes.pack.reporting_tz)}"


def to_html(minutes: Minutes, out: str = "cab-minutes.html") -> str:
    """The minutes as one self-contained HTML page (the pack's CSS); its
    Regenerate command writes `out` (the PDF prints this page)."""
    meta = provenance(minutes, out)
    named = dict(meta)
    e = markup.escape
    people = ("<ul>" + "".join(f"<li>{e(n)}</li>" for n in minutes.attendees)
              + "</ul>") if minutes.attendees else \
        '<p class="none">No attendee recorded.</p>'
    undecided = minutes.undecided
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>CAB minutes {minutes.meeting_at:%Y-%m-%d}</title>"
        f"<style>{CSS}</style></head><body><main>"
        f"<h1>{e(_title(minutes))}</h1>"
        f'<p class="meta">{e(named["Meeting"])} · data as of '
        f'{e(named["Data as of"])} · {e(counted(minutes))}</p>'
        f"<h2>Attendees ({len(minutes.attendees)})</h2>{people}"
        f"<h2>Decisions ({len(minutes.decisions):,})</h2>"
        + '<div class="decisions">'
        + markup.html_table(dashed(minutes.decisions), no_decision(minutes))
        + "</div>"
        + (f"<h3>Earlier decisions, replaced ({len(minutes.earlier):,})</h3>"
           + markup.html_table(minutes.earlier, "") if len(minutes.earlier)
           else "")
        + (f"<h3>Agenda changes not decided ({len(undecided):,})</h3>"
           + markup.html_table(undecided_table(minutes), "")
           if undecided else "")
        + f"<footer><b>Produced by Changeboard</b>{markup.definition_list(meta)}</footer>"
        "</main></body></html>\n")


def dashed(table: pd.DataFrame) -> pd.DataFrame:
    """The decisions as HTML and PDF show them: a change not on the agenda
    the minutes number has '–' for its number, as the CAB page shows it (a
    blank cell read as a number left out); its sheet cell stays empty."""
    return table.assign(**{"#": [
        "–" if pd.isna(n) else int(n) for n in table["#"]]})


def sheets(minutes: Minutes) -> dict[str, pd.DataFrame]:
    return {
        "Decisions": minutes.sheet_decisions,
        "Earlier decisions": minutes.sheet_earlier,
        "Attendees": pd.DataFrame({"Attendee": minutes.attendees}),
        "Not decided": undecided_table(minutes, sheet=True),
        "Produced by": pd.DataFrame(provenance(minutes, "cab-minutes.xlsx"),
                                    columns=["Item", "Value"]),
    }


def to_xlsx(minutes: Minutes) -> bytes:
    """One sheet per part, as the pack's XLSX is written: its instants
    date cells in the pack's zone, its numbers numbers (sheet_columns)."""
    return cab.write_xlsx(sheets(minutes))


def to_pdf(minutes: Minutes, path: str | Path) -> Path:
    """Printed by headless Chromium, as the pack is."""
    return cab.print_pdf(to_html(minutes, "cab-minutes.pdf"), path,
                         "the minutes")


def pdf_bytes(minutes: Minutes) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cab-minutes-") as tmp:
        return to_pdf(minutes, Path(tmp) / "minutes.pdf").read_bytes()
