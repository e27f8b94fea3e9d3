"""The `changeboard` command: load, sync, sample, query, report, snapshots,
serve.

Each subcommand has only its own options, with one meaning each, and its
--help ends with examples. `python -m ingest`, `python -m queries` and
`python -m reports` are aliases of load/sync/sample, query and report.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path

from ingest import sources

DB_HELP = "DuckDB file (default: CHANGEBOARD_DB, else changeboard.duckdb)"

EXAMPLES = {
    "changeboard": """\
examples:
  changeboard sample                       # build the sample database
  changeboard load csv changes.csv releases.csv
  changeboard sync servicenow              # what changed since the last sync
  changeboard query change_success_rate --param start_date=2026-01-01 \\
      --param end_date=2026-04-01
  changeboard report cab --date 2026-01-20 --format pdf --out cab.pdf
  changeboard serve                        # http://localhost:8501
""",
    "load": """\
examples:
  changeboard load csv changes.csv releases.csv environments.csv
  changeboard load servicenow change_request.csv --overrides site.toml
  changeboard load servicenow-incidents incident.xlsx --overrides site.toml
  changeboard load jira jira-export.csv --dry-run
  changeboard load mapping detail_change.csv --mapping bpic2014
  changeboard load mapping bookings.csv --mapping my-bookings.toml --strict

Each file is one batch, published atomically; loading the same file again
changes nothing. docs/sources.md describes every source's format.
""",
    "sync": """\
examples:
  changeboard sync servicenow --query 'assignment_group.name=Network'
  changeboard sync servicenow --since 2026-03-01 --overrides site.toml
  changeboard sync servicenow-incidents
  changeboard sync jira --jql 'project = CHG AND issuetype = Change'
  changeboard sync jira-versions --project CHG --project OPS

Credentials come from the environment (README, "Keeping data current");
docs/api.md says how a sync pages, commits, retries and resumes.
""",
    "sample": """\
examples:
  changeboard sample                       # seed CHANGEBOARD_SAMPLE_SEED, scale 1
  changeboard sample --seed 3 --scale 0.1 --db /tmp/small.duckdb
  changeboard sample --remove              # drop the sample's rows, keep yours
""",
    "query": """\
examples:
  changeboard query --list
  changeboard query change_success_rate --param start_date=2026-01-01 \\
      --param end_date=2026-04-01 \\
      --param 'teams=Payments Platform,Core Ledger' --format csv
  changeboard query dora_summary --param start_date=2026-01-01 \\
      --param end_date=2026-04-01 --param profile=devlake --format json

Windows are half-open [start_date, end_date) dates in the reporting time
zone; list parameters take comma-separated values (a value holding a comma
in double quotes: 'teams=Ops,"Payments, EMEA"') and mean "all" when absent.
""",
    "report": """\
examples:
  changeboard report cab --date 2026-01-20 --format html --out cab.html
  changeboard report cab --date 2026-01-20 --teams 'Payments Platform' \\
      --format pdf --out cab.pdf
  changeboard report cab --send            # e-mail the next meeting's pack
  changeboard report cab --send --meeting 2026-01-20 --force
  changeboard report cab --date 2026-01-20 --format xlsx --out cab.xlsx \\
      --as-of 2026-01-19T16-02-11.483920Z   # as the data stood then
""",
    "snapshots": """\
examples:
  changeboard snapshots list               # time, batches, rows, size
  changeboard snapshots show 2026-01-19T16-02-11.483920Z
  changeboard snapshots show 2026-01-19    # a unique prefix is enough
  changeboard snapshots prune              # apply the retention settings now

Each publish keeps the file it replaces in <database>.snapshots/ (read-only)
unless it changed no data; CHANGEBOARD_SNAPSHOTS_KEEP_LAST, _DAILY and
_MONTHLY say how many are kept (README, "Snapshots and time travel").
""",
    "serve": """\
examples:
  changeboard serve                        # http://localhost:8501
  changeboard serve --port 8502 --db /srv/changeboard.duckdb

Listens on 127.0.0.1 only, with the production options of make run
(deploy/streamlit.toml) and its upload limit CHANGEBOARD_MAX_UPLOAD_MB; a
database file that does not exist yet is built from the sample first.
""",
}


def _parser(name: str, parent=None, **kwargs) -> argparse.ArgumentParser:
    kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
    if name in EXAMPLES:
        kwargs.setdefault("epilog", EXAMPLES[name])
    if parent is None:
        return argparse.ArgumentParser(**kwargs)
    return parent.add_parser(name, **kwargs)


def _db(parser) -> None:
    parser.add_argument("--db", default=None, help=DB_HELP)


def no_database(path) -> str | None:
    """What a command says for a --db (or CHANGEBOARD_DB) naming no file,
    or a file that is not a DuckDB database, an input error (exit 2); None
    when the database is there."""
    if Path(path).is_file():
        from changeboard import db

        try:
            db.refuse_other_file(path, reading=True)
        except db.NotADatabase as other:
            return str(other)
        return None
    return f"no database at {path} (--db, else CHANGEBOARD_DB, names it)"


def _per_source(commands, command: str, entries: dict, **kwargs):
    """A parser per source of `changeboard <command> SOURCE`, each with
    --db; yields (source, parser) for the source's own options."""
    kinds = _parser(command, commands, **kwargs).add_subparsers(
        dest="source", required=True, metavar="SOURCE")
    for entry in entries.values():
        one = kinds.add_parser(
            entry.name, help=entry.help, description=entry.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=EXAMPLES[command])
        _db(one)
        yield entry, one


def _load(commands) -> None:
    for entry, one in _per_source(
            commands, "load", sources.FILES, help="load files of one source",
            description="Load files into the database: one batch per file, "
            "every row checked, published atomically."):
        one.add_argument("files", nargs="+", metavar="FILE",
                         help="files to load (*.gz read as they are)")
        if entry.table is None and not entry.mapping:
            one.add_argument("--table", default=None,
                             help="canonical table (default: from the file "
                             "name, e.g. environment_bookings-prod.csv)")
        if entry.mapping:
            one.add_argument("--mapping", required=True,
                             metavar="NAME_OR_FILE",
                             help="mapping file: a shipped name "
                             "(ingest/mappings/) or a path to a .toml")
        if entry.overrides:
            one.add_argument("--overrides", default=None, metavar="FILE",
                             help=f"{entry.overrides} overrides file: what "
                             "differs at your site (docs/sources.md "
                             "section 7)")
        one.add_argument("--dry-run", action="store_true",
                         help="validate and report; write nothing")
        one.add_argument("--strict", action="store_true",
                         help="load nothing from a file with any rejected "
                         "row")
        one.add_argument("--keep-sample", action="store_true",
                         help="keep the generated sample's rows beside the "
                         "loaded files (default: a load into a database "
                         "holding the sample removes the sample first)")


FLAGS = {
    "since": lambda p: p.add_argument(
        "--since", type=_since, default=None, help="read records updated "
        "since this UTC time instead of the watermark"),
    "full": lambda p: p.add_argument(
        "--full", action="store_true", help="read every record, ignoring the "
        "watermark"),
    "query": lambda p: p.add_argument(
        "--query", default=None, help="an encoded query added to the sync's, "
        "e.g. assignment_group.name=Network"),
    "jql": lambda p: p.add_argument(
        "--jql", default=None, help="JQL selecting change issues (default: "
        "CHANGEBOARD_JIRA_JQL)"),
    "project": lambda p: p.add_argument(
        "--project", action="append", default=None, metavar="KEY",
        help="project key(s) whose fix versions are releases (repeat or "
        "comma-separate)"),
    "timezone": lambda p: p.add_argument(
        "--timezone", default=None, help="zone of the versions' dates "
        "(default: the overrides file's, else UTC)"),
}


def _since(text: str) -> str:
    from changeboard.cli.load import since

    return since(text)


def _sync(commands) -> None:
    for entry, one in _per_source(
            commands, "sync", sources.SYNCS,
            help="read what changed from an API",
            description="Sync one source's API into the database: what "
            "changed since the last successful sync, committed as it is "
            "read."):
        for flag in entry.sync_flags:
            FLAGS[flag](one)
        one.add_argument("--overrides", default=None, metavar="FILE",
                         help=f"{entry.overrides} overrides file (docs/api.md "
                         "says which of its settings apply)")
        one.add_argument("--verbose", action="store_true",
                         help="log each request (never credentials)")


def _sample(commands) -> None:
    sample = _parser("sample", commands, help="build the sample database",
                     description="Rebuild the database from generated "
                     "sample data (about three years of a bank's changes, "
                     "releases, bookings and incidents), or remove the "
                     "sample's rows.")
    _db(sample)
    sample.add_argument("--seed", type=int, default=None,
                        help="sample seed (default: CHANGEBOARD_SAMPLE_SEED)")
    sample.add_argument("--scale", type=_scale, default=1.0,
                        help="size multiplier: 1 = about 8,000 changes "
                        "(default: 1)")
    sample.add_argument("--remove", action="store_true",
                        help="remove the generated sample's rows (its load "
                        "history stays) and build nothing")
    sample.add_argument("--replace", action="store_true",
                        help="rebuild a database that holds loads of your "
                        "own, replacing them and their load history "
                        "(refused without it)")


def _scale(text: str) -> float:
    """--scale: a number above 0 (an input error, not a traceback)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return value


def _query(commands) -> None:
    query = _parser("query", commands, help="run a metric query",
                    description="Run a Changeboard metric query against a "
                    "database.")
    query.add_argument("name", nargs="?", help="query name (see --list)")
    query.add_argument("--list", action="store_true",
                       help="list every query with its one-line definition")
    _db(query)
    query.add_argument("--as-of", default=None, metavar="SNAPSHOT",
                       help="read this snapshot (`changeboard snapshots "
                       "list`) instead of the live file")
    query.add_argument("--param", action="append", default=[],
                       metavar="K=V", help="a query parameter; repeatable; "
                       "list parameters take comma-separated values, one "
                       "holding a comma in double quotes")
    query.add_argument("--format", choices=["csv", "json", "table"],
                       default="table")


def _report(commands) -> None:
    from changeboard.cli.report import _day, _instant

    report = _parser("report", commands, help="write a report (the CAB pack)",
                     description="Changeboard reports.")
    kinds = report.add_subparsers(dest="report", required=True,
                                  metavar="REPORT")
    cab = kinds.add_parser(
        "cab", help="the pre-read of a CAB meeting",
        description="Write the CAB pack of the meeting on --date (default: "
        "the next one): the "
        "changes for decision in the window from that meeting to the next "
        "one, their evidence, and what happened since the last meeting.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES["report"])
    cab.add_argument("--date", "--meeting", dest="date", type=_day,
                     default=None, help="meeting day, YYYY-MM-DD (at "
                     "CHANGEBOARD_CAB_TIME); default: the next meeting")
    cab.add_argument("--window-end", type=_instant, default=None,
                     help="end of the review window (default: the next "
                     "meeting of the CHANGEBOARD_CAB_WEEKDAYS cadence)")
    _db(cab)
    cab.add_argument("--as-of", default=None, metavar="SNAPSHOT",
                     help="read this snapshot instead of the live file: the "
                     "name a pack's provenance gives (`changeboard "
                     "snapshots list`); regenerates that pack byte for byte")
    _decisions_until(cab)
    cadence(cab)
    cab.add_argument("--format", choices=["html", "pdf", "xlsx"],
                     help="default: from --out's suffix (cab.pdf); "
                     "required when it has none, except with --send")
    cab.add_argument("--out", type=Path,
                     help="file to write (- for standard output); "
                     "required, except with --send")
    for name in ("application-ids", "portfolios", "teams", "change-types",
                 "tiers"):
        cab.add_argument(f"--{name}", default=None, metavar="A,B",
                         help=f"only these {name.replace('-', ' ')}")
    _send_options(cab)
    from changeboard.cli import minutes  # report minutes: its own module
    minutes.add(kinds)


def cadence(parser) -> None:
    """--reporting-tz, --cab-time, --cab-weekdays: the settings a CAB pack
    (and its minutes) is read with, for this run; a pack's Regenerate
    command names all three."""
    from changeboard.config import SETTINGS
    from reports.cab.meetings import SETTINGS as CADENCE

    for _, variable, option in CADENCE:
        default, said = SETTINGS[variable]
        parser.add_argument(f"--{option}", default=None,
                            metavar=option.split("-")[-1].upper(),
                            help=f"{said} (default: {variable}, else "
                            f"{default})")


def _decisions_until(parser) -> None:
    parser.add_argument(
        "--decisions-until", default=None, metavar="INSTANT",
        help="read the CAB decisions recorded up to this instant (or `none`), "
        "as a pack's or the minutes' provenance names it; default: all "
        "recorded so far")


def _send_options(cab) -> None:
    """report cab --send (reports/delivery.py; settings in README)."""
    send = cab.add_argument_group(
        "delivery", "e-mail the pack (HTML agenda, PDF attached) to "
        "CHANGEBOARD_CAB_RECIPIENTS and/or post its agenda to a chat "
        "webhook, once per meeting and channel")
    send.add_argument("--send", action="store_true",
                      help="send the pack of --date's meeting (default: the "
                      "next meeting) instead of writing a file")
    send.add_argument("--force", action="store_true",
                      help="with --send: send again what was already sent")
    send.add_argument("--webhook", default=None, metavar="URL",
                      help="with --send: post the agenda to this incoming "
                      "webhook (default: CHANGEBOARD_CAB_WEBHOOK_URL; prefer "
                      "that: a command line is visible to other users)")


def _snapshots(commands) -> None:
    snaps = _parser("snapshots", commands,
                    help="list, show or prune the dated snapshots",
                    description="The dated read-only snapshots each publish "
                    "keeps of the database file it replaces.")
    actions = snaps.add_subparsers(dest="action", required=True,
                                   metavar="ACTION")
    listed = actions.add_parser(
        "list", help="every snapshot: time, batches, rows, size",
        description="List the kept snapshots, oldest first, with the live "
        "file last, and the disk they use.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES["snapshots"])
    _db(listed)
    shown = actions.add_parser(
        "show", help="one snapshot: its batches and row counts",
        description="Show one snapshot: when it was published, its schema "
        "version, its row counts and every batch it contains.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES["snapshots"])
    shown.add_argument("name", metavar="SNAPSHOT",
                       help="a snapshot name (or a unique start of one), "
                       "or `live`")
    _db(shown)
    pruned = actions.add_parser(
        "prune", help="delete what the retention settings no longer keep",
        description="Apply the retention settings now (each publish does "
        "too) and say what was deleted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES["snapshots"])
    _db(pruned)
    pruned.add_argument("--dry-run", action="store_true",
                        help="say what would be deleted; delete nothing")


def _serve(commands) -> None:
    serve = _parser("serve", commands, help="serve the dashboard",
                    description="Serve the dashboard on this machine "
                    "(what `make run` does).")
    _db(serve)
    serve.add_argument("--port", type=int, default=8501,
                       help="port (default: 8501)")


def parser() -> argparse.ArgumentParser:
    top = _parser("changeboard", prog="changeboard",
                  description="Changeboard: analytics for IT change and "
                  "release management over a local DuckDB file.")
    commands = top.add_subparsers(dest="command", required=True,
                                  metavar="COMMAND")
    for add in (_load, _sync, _sample, _query, _report, _snapshots, _serve):
        add(commands)
    return top


def main(argv=None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv=None) -> int:
    top = parser()
    args, extra = top.parse_known_args(sys.argv[1:] if argv is None else argv)
    command = _command(top, args)
    if extra:
        # `query NAME start_date=2026-01-01` said only 'unrecognized
        # arguments' (an analyst's first try): a NAME=VALUE names the option
        named = [a for a in extra if re.fullmatch(r"[A-Za-z_]\w*=.*", a)]
        command.error(f"unrecognized arguments: {' '.join(extra)}" + (
            "; a query's parameters are given as --param NAME=VALUE ("
            + " ".join(f"--param {a}" for a in named) + ")"
            if named and args.command == "query" else ""))
    if args.command in ("load", "sync", "sample"):
        from changeboard.cli import load as module

        return getattr(module, args.command)(args)
    if args.command == "query":
        from changeboard.cli import query

        return query.run(args, command)
    if getattr(args, "run", None):  # a subcommand that names its runner
        return args.run(args, command)
    if args.command == "report":
        from changeboard.cli import report

        return report.cab(args, command)
    if args.command == "snapshots":
        from changeboard.cli import snapshots

        return snapshots.run(args, command)
    from changeboard.cli import serve

    return serve.serve(args, command)


def _command(top, args) -> argparse.ArgumentParser:
    """The (sub)parser that parsed args: its prog names the command in
    messages (`changeboard report cab: ...`)."""
    found = top
    for dest in ("command", "source", "report", "action"):
        name = getattr(args, dest, None)
        actions = [a for a in found._actions
                   if isinstance(a, argparse._SubParsersAction)]
        if name is not None and actions and name in actions[0].choices:
            found = actions[0].choices[name]
    return found
