"""Benchmark: the CAB pack and its files, for a small and the whole agenda.

  python bench/cab.py --db PATH [--meeting YYYY-MM-DD] [--small 50]

The meeting is the next one of the cadence unless given. Two packs:
- small: the agenda narrowed to the teams whose changes together come
  nearest --small (the size a CAB reads: issue 12 names 50);
- whole: every change for decision, no filter (thousands at a million
  changes).
For each, in a fresh process of its own (so its peak memory is its own):
building the pack (build_pack: every CAB query and the evidence), then
its HTML, XLSX and PDF (printed by Debian's Chromium), each timed, with the
process's peak resident memory after all four and each file's size.

Targets (issue 12): for a 50-change agenda HTML <= 2 s, XLSX <= 2 s, PDF
<= 5 s; an agenda of thousands finishes in bounded time and memory, with
the pack saying how much it details (reports/cab size_note).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import figures  # bench/, this script's own folder

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"html": 2.0, "xlsx": 2.0, "pdf": 5.0}


def one_pack(db_path: str, meeting: str, filters: dict) -> dict:
    """Runs in a child process: the pack and its three files, timed."""
    sys.path.insert(0, str(ROOT))
    from datetime import date

    from reports import cab

    result: dict = {}
    started = time.perf_counter()
    pack = cab.build_pack(db_path, date.fromisoformat(meeting),
                          filters=filters)
    result["build"] = time.perf_counter() - started
    result["agenda"] = len(pack.agenda)
    result["note"] = cab.size_note(pack)
    for name, render in (("html", cab.to_html), ("xlsx", cab.to_xlsx),
                         ("pdf", cab.pdf_bytes)):
        started = time.perf_counter()
        made = render(pack)
        result[name] = time.perf_counter() - started
        result[f"{name}_kb"] = len(made) / 1024
    result["peak_mb"] = next(int(line.split()[1]) for line in
                             open("/proc/self/status")
                             if line.startswith("VmHWM:")) / 1024
    return result


def _child(db_path: str, meeting: str, filters: dict, timeout: float) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--db", db_path, "--meeting", meeting,
         "--one", json.dumps(filters)], capture_output=True, text=True,
        timeout=timeout, check=False, cwd=ROOT)
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(done.stderr.strip()[-800:])
    return json.loads(lines[-1])


def small_filter(db_path: str, meeting: str, size: int) -> dict:
    """Teams whose agenda for the meeting together comes nearest `size`
    changes without passing it (the largest first)."""
    sys.path.insert(0, str(ROOT))
    from datetime import date

    from reports import cab

    pack = cab.build_pack(db_path, date.fromisoformat(meeting))
    teams = pack.agenda["assignment_group"].dropna().value_counts()
    if teams.empty:
        return {}
    chosen, total = [], 0
    for team, n in teams.items():  # largest first
        if total + n <= size:
            chosen.append(str(team))
            total += n
    return {"teams": chosen or [str(teams.index[-1])]}


def _mark(value: float, target: float | None) -> str:
    if target is None:
        return f"{value:6.2f}   "
    return f"{value:6.2f}{' ok' if value <= target else ' !!'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("CHANGEBOARD_DB",
                                                       "changeboard.duckdb"))
    parser.add_argument("--meeting", help="YYYY-MM-DD (default: the next "
                        "meeting of the cadence)")
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    figures.add_argument(parser)
    args = parser.parse_args()
    figures.use(args)
    figures.as_served()  # the app's allocator
    if args.one is not None:
        print(json.dumps(one_pack(args.db, args.meeting, json.loads(args.one))))
        return 0
    sys.path.insert(0, str(ROOT))
    from reports import cab

    meeting = args.meeting or cab.next_meeting().date().isoformat()
    filters = small_filter(args.db, meeting, args.small)
    print(f"CAB pack for the meeting of {meeting}, {args.db}; targets for a "
          f"{args.small}-change agenda: HTML <= 2 s, XLSX <= 2 s, PDF <= 5 s")
    for label, chosen in (("small", filters), ("whole", {})):
        row = _child(args.db, meeting, chosen, args.timeout)
        small = label == "small"
        print(f"{label:5} agenda {row['agenda']:6,} changes"
              + (f" ({len(chosen['teams'])} teams)" if chosen else "")
              + ": "
              f"build {row['build']:6.2f} s  "
              f"HTML {_mark(row['html'], TARGETS['html'] if small else None)}"
              f" ({row['html_kb']:,.0f} KB)  "
              f"XLSX {_mark(row['xlsx'], TARGETS['xlsx'] if small else None)}"
              f" ({row['xlsx_kb']:,.0f} KB)  "
              f"PDF {_mark(row['pdf'], TARGETS['pdf'] if small else None)}"
              f" ({row['pdf_kb']:,.0f} KB)  peak {row['peak_mb']:,.0f} MB",
              flush=True)
        if row["note"]:
            print(f"      the pack says: {row['note']}")
        _record(label, row, small)
    return 0


def _record(label: str, row: dict, small: bool) -> None:
    """The pack's figures for bench/summary.py: the small agenda's files
    against their targets; the whole agenda's (thousands) have only to
    finish, so they are recorded without one, with its memory."""
    agenda = f"{label} agenda ({row['agenda']:,} changes)"
    for name, shown in (("build", "build"), ("html", "HTML"),
                        ("xlsx", "XLSX"), ("pdf", "PDF")):
        figures.record("cab", f"{agenda}: {shown}", row[name], "s",
                       TARGETS.get(name) if small else None)
    if not small:
        figures.record("cab", f"{agenda}: peak memory", row["peak_mb"],
                       "MB", detail=row["note"] or "")


if __name__ == "__main__":
    sys.exit(main())
