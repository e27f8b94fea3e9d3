"""What produced a pack: enough to regenerate it for an audit."""
from __future__ import annotations

import shlex
from datetime import datetime
from zoneinfo import ZoneInfo

from changeboard import decisions
from changeboard.filters import join_list
from reports.cab.pack import Pack
from reports.text import ranges, when


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
    shell needs it: team names are data)."""
    day = pack.meeting_at.astimezone(ZoneInfo(pack.reporting_tz))
    words = ["python", "-m", "reports", "cab", "--date", f"{day:%Y-%m-%d}",
             "--db", pack.db_path or "PATH"]
    if pack.data_version:
        words += ["--as-of", pack.data_version]
    if pack.decisions_until:
        words += ["--decisions-until", pack.decisions_until]
    if not pack.is_window_end_default:
        words += ["--window-end", pack.window_end_at.isoformat(sep=" ")]
    for k, v in pack.filters.items():
        words += [f"--{k.replace('_', '-')}", joined(v)]
    return words


def joined(values: list[str]) -> str:
    """Filter values as one command-line word: comma-separated, a value
    holding a comma in double quotes as in CSV, as every list of the command
    line is read (changeboard.filters.split_list)."""
    return join_list(values)


def provenance(pack: Pack) -> list[tuple[str, str]]:
    """What produced the pack: (item, value) pairs, in the order shown."""
    tz = pack.reporting_tz
    # a value holding a comma is quoted, so the list reads unambiguously
    filters = "; ".join(f"{k} = " + ", ".join(
        f'"{x}"' if "," in x else x for x in v)
        for k, v in pack.filters.items()) or "none"
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
        ("Regenerate with", shlex.join(command(pack))
         + " --format html|pdf|xlsx --out FILE"),
    ]
