"""What produced a pack: enough to regenerate it for an audit."""
from __future__ import annotations

import shlex
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from changeboard import config, decisions
from changeboard.filters import join_list
from changeboard.words import FILTERS, linked_incident
from reports.cab.evidence import app_label
from reports.cab.pack import Pack, stale_note
from reports.text import ranges, tier_words, when, words


def decisions_read(until: str | None) -> str:
    """The provenance line of the CAB decision log's position read."""
    if until is None:
        return "none (an open connection: no application state)"
    if until == decisions.NOTHING:
        return "none recorded yet"
    return (f"as recorded up to {until} (the application state beside the "
            "database; later records are left out when regenerated)")


def version_time(pack: Pack) -> datetime | None:
    """When the file version the pack read was published (from its name)."""
    if not pack.data_version:
        return None
    from changeboard import snapshots

    return snapshots.published_at(pack.data_version)


def command(pack: Pack) -> list[str]:
    """The command that builds the pack again (every argument quoted as a
    shell needs it: team names are data), as README names it and the
    minutes name theirs."""
    day = pack.meeting_at.astimezone(ZoneInfo(pack.reporting_tz))
    words = [*threshold(pack), "python", "-m", "changeboard", "report",
             "cab", "--date", f"{day:%Y-%m-%d}",
             "--db", pack.db_path or "PATH", *cadence(pack)]
    if pack.data_version:
        words += ["--as-of", pack.data_version]
    if pack.decisions_until:
        words += ["--decisions-until", pack.decisions_until]
    if not pack.is_window_end_default:
        words += ["--window-end", pack.window_end_at.isoformat(sep=" ")]
    for k, v in pack.filters.items():
        words += [f"--{k.replace('_', '-')}", joined(v)]
    return words


def threshold(pack: Pack) -> list[str]:
    """The failure threshold the pack was built with, as a command's
    setting (CHANGEBOARD_FAILURE_MIN_PRIORITY=2 before it); none unset."""
    level = pack.failure_min_priority
    return [] if level is None else [
        f"CHANGEBOARD_FAILURE_MIN_PRIORITY={level}"]


def cadence(pack: Pack) -> list[str]:
    """The settings the pack's meeting, window and days were read with, as
    options: a shell with other settings rebuilds the same pack."""
    return ["--reporting-tz", pack.reporting_tz,
            "--cab-time", pack.cab_time or config.CAB_TIME,
            "--cab-weekdays", pack.cab_weekdays or config.CAB_WEEKDAYS]


def joined(values: list[str]) -> str:
    """Filter values as one command-line word: comma-separated, a value
    holding a comma in double quotes as in CSV, as every list of the command
    line is read (changeboard.filters.split_list)."""
    return join_list(values)


def _midnight(day, tz: str) -> datetime:
    return datetime.combine(day, datetime.min.time(), ZoneInfo(tz))


def filters_said(pack: Pack) -> str:
    """The pack's filters as the pages' downloads say them: 'Application:
    Core (A2); Team: Ops'; 'none'. Each by its label, not the parameter a
    CAB member never sees ('application_ids = ...; teams = ...', a release
    manager's walkthrough); an application by its name and id ('APP-130'
    alone named nothing a reader knew), a tier or change type in words; a
    value holding a comma in quotes, so the list reads unambiguously."""
    said = {"application_ids": lambda a: app_label(pack, a),
            "tiers": tier_words, "change_types": words}
    return "; ".join(f"{FILTERS.get(k, k)}: " + ", ".join(
        f'"{x}"' if "," in x else x
        for x in map(said.get(k, str), v)) for k, v in pack.filters.items()
        if v) or "none"


def since_days(pack: Pack) -> str:
    """The days "since last CAB" covers: '28 Jan 2014 to 04 Feb 2014, end
    exclusive' (its provenance line, and a list's files on the page)."""
    return (f"{pack.since_start_date:%d %b %Y} to "
            f"{pack.since_end_date:%d %b %Y}, end exclusive")


def since_cut(pack: Pack) -> str | None:
    """What "since last CAB" lacks when the data was loaded before the
    last of its days (a pack read days before its meeting): said, since a
    list reading 'None' or a rate of 3 days against the 7 before is
    otherwise taken for the week's; None when the data was loaded on that
    day or later (the nightly load before the meeting)."""
    if pack.as_of is None:
        return None
    tz = pack.reporting_tz
    loaded = pd.Timestamp(pack.as_of)
    if loaded >= _midnight(pack.since_end_date - timedelta(days=1), tz):
        return None
    starts = _midnight(pack.since_start_date, tz)
    said = f"The data was loaded {when(loaded, 'UTC')} UTC, before "
    if loaded >= starts:
        said += (f"these days end on {pack.since_end_date:%d %b %Y}: what "
                 "happened after then is not counted, and the comparison "
                 "with the period before sets part of a period against a "
                 "whole one.")
    elif loaded >= _midnight(pack.before_start_date, tz):
        said += (f"these days start on {pack.since_start_date:%d %b %Y}: "
                 "nothing since the last CAB is in it yet, and the period "
                 "before is counted only up to then.")
    else:
        said += (f"the period before starts on "
                 f"{pack.before_start_date:%d %b %Y}: nothing of either "
                 "period is in it yet.")
    return said + " Load the data again before the meeting."


def provenance(pack: Pack, out: str = "cab-pack.pdf"
               ) -> list[tuple[str, str]]:
    """What produced the pack: (item, value) pairs, in the order shown; its
    Regenerate command writes `out`, named as the file it is read in (an
    HTML pack's command named a PDF)."""
    tz = pack.reporting_tz
    # a value holding a comma is quoted, so the list reads unambiguously;
    filters = filters_said(pack)
    return [
        ("Meeting", f"{when(pack.meeting_at, tz)} ({tz})"),
        ("Review window", f"{when(pack.window_start_at, tz)} to "
                          f"{when(pack.window_end_at, tz)}, end exclusive"),
        ("Since last CAB", f"{since_days(pack)}; compared with "
                           f"{pack.before_start_date:%d %b %Y} to "
                           f"{pack.since_start_date:%d %b %Y}"),
        *([("Since last CAB, counted", cut)] if (cut := since_cut(pack))
          else []),
        ("Filters", filters),
        ("Data as of", f"{when(pack.as_of, 'UTC')} UTC" if pack.as_of
         is not None else "unknown (no load recorded)"),
        *([("Data ends", stale)] if (stale := stale_note(pack)) else []),
        ("Batches loaded", ranges(pack.batch_ids)),
        ("Data version", f"{pack.data_version}: the database file "
                         f"published {when(version_time(pack), 'UTC')} UTC "
                         "(live then, a snapshot once replaced)"
         if pack.data_version else "not named (an open connection)"),
        ("CAB decisions read", decisions_read(pack.decisions_until)),
        *([("Failed changes", threshold_said(level))]
          if (level := pack.failure_min_priority) is not None else []),
        # a whole command, pasted as it is (the format from the name);
        # 'html|pdf|xlsx' was a shell pipe
        ("Regenerate with", shlex.join([*command(pack), "--out", out])),
    ]


def threshold_said(level: int) -> str:
    """The site's failure threshold a pack was built with, in the words
    the pages use: 'failed by a linked P1–P2 incident alone ...'."""
    return (f"failed by a {linked_incident(level)} alone "
            f"(CHANGEBOARD_FAILURE_MIN_PRIORITY={level}), a close code or a "
            "rolled-back deployment")
