"""changeboard report minutes: write the minutes of a CAB meeting (its
decisions and attendees, as recorded on the CAB pack page) as HTML, PDF or
XLSX, or e-mail them to the CAB's list (--send)."""
import argparse
import sys
from pathlib import Path

from changeboard import config
from changeboard.words import many

EXAMPLES = """\
examples:
  changeboard report minutes --meeting 2026-01-20 --format pdf --out min.pdf
  changeboard report minutes --meeting 2026-01-20 --db /srv/cb.duckdb \\
      --format xlsx --out minutes.xlsx
  changeboard report minutes --meeting 2026-01-20 --format pdf --out m.pdf \\
      --as-of 2026-01-20T16-02-11.483920Z \\
      --decisions-until 2026-01-20T11:04:10.123456+00:00   # as then
  changeboard report minutes --meeting 2026-01-20 --send  # e-mail them

The decisions are read from the application state beside the database
(<database>.app.sqlite, or CHANGEBOARD_APP_DB).
"""


def add(kinds) -> None:
    """Register `minutes` among the `report` subcommands."""
    from changeboard.cli import DB_HELP
    from changeboard.cli.report import _day

    minutes = kinds.add_parser(
        "minutes", help="the minutes of a CAB meeting",
        description="Write the minutes of the meeting on --meeting: every "
        "decision recorded, with its note, who and when, and the "
        "attendees, with the CAB pack's provenance; or, with --send, "
        "e-mail them (the PDF attached) to the CAB's distribution list.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES)
    # --date too, as `report cab` takes either
    minutes.add_argument("--meeting", "--date", dest="meeting", required=True,
                         type=_day, help="meeting day, YYYY-MM-DD (at "
                         "CHANGEBOARD_CAB_TIME)")
    minutes.add_argument("--db", default=None, help=DB_HELP)
    minutes.add_argument("--as-of", default=None, metavar="SNAPSHOT",
                         help="read this snapshot, or `live` for the live "
                         "file (default: the data as it stood when the "
                         "meeting's first decision was recorded, so a "
                         "load since leaves the agenda's numbers as the "
                         "meeting saw them; the provenance names it)")
    from changeboard.cli import _decisions_until, cadence
    _decisions_until(minutes)
    cadence(minutes)
    minutes.add_argument("--format", choices=["html", "pdf", "xlsx"],
                         help="default: from --out's suffix")
    minutes.add_argument("--out", type=Path,
                         help="file to write (- for standard output); "
                         "required, except with --send")
    minutes.add_argument("--send", action="store_true",
                         help="e-mail the minutes (the PDF attached) to the "
                         "CAB's distribution list, as `report cab --send` "
                         "mails the pack; once per meeting (README)")
    minutes.add_argument("--force", action="store_true",
                         help="with --send: send again what was already "
                         "sent (the minutes as they stand after a decision "
                         "was corrected)")
    minutes.set_defaults(run=run)


def run(args, parser) -> int:
    from changeboard.cli.report import (
        off_cadence,
        out_folder,
        read_with,
        said,
        settle_format,
        to_stdout,
        write,
    )
    from reports import minutes as module  # after parsing: --help stays fast

    if args.send:
        return send(args, parser)
    if args.force:
        parser.error("--force goes with --send")
    if args.out is None:
        parser.error("--out required (or --send)")
    settle_format(parser, args)
    out_folder(parser, args)
    with read_with(parser, args):
        found, status = write(parser, args, module, lambda: module.build_for(
            args.db or config.DB_PATH, args.meeting, as_of=args.as_of,
            until=args.decisions_until))
    if found is None:
        return status
    off_cadence(parser, args.meeting)
    print(f"wrote {'standard output' if to_stdout(args) else args.out} "
          f"({many(len(found.decisions), 'decision')}, "
          f"{many(len(found.attendees), 'attendee')})", file=said(args))
    return 0


def send(args, parser) -> int:
    """report minutes --send (reports/delivery.py send_minutes)."""
    from changeboard.cli.report import (
        INPUT_ERRORS,
        no_file_with_send,
        off_cadence,
        read_with,
    )
    from reports import delivery

    no_file_with_send(parser, args)
    with read_with(parser, args):
        try:
            off_cadence(parser, args.meeting)
            return delivery.send_minutes(
                args.db or config.DB_PATH, args.meeting, as_of=args.as_of,
                until=args.decisions_until, force=args.force,
                warn=lambda text: print(f"{parser.prog}: {text}",
                                        file=sys.stderr, flush=True))
        except INPUT_ERRORS as error:  # an unknown --as-of snapshot too
            print(f"{parser.prog}: {error}", file=sys.stderr)
            return 2
