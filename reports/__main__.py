"""python -m reports cab: write the CAB pack of a meeting as HTML, PDF or XLSX."""
import argparse
import sys
from datetime import date, datetime
from pathlib import Path

from changeboard import config


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not YYYY-MM-DD") from None


def _instant(text: str) -> date | datetime:
    """A date (at the meeting time) or an ISO instant (with or without zone)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not YYYY-MM-DD or an ISO instant") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports", description="Changeboard reports.")
    commands = parser.add_subparsers(dest="command", required=True)
    cab = commands.add_parser(
        "cab", help="the pre-read of a CAB meeting",
        description="Write the CAB pack of the meeting on --date: the changes "
        "for decision in the window from that meeting to the next one, their "
        "evidence, and what happened since the last meeting.")
    cab.add_argument("--date", required=True, type=_day,
                     help="meeting day, YYYY-MM-DD (at CHANGEBOARD_CAB_TIME)")
    cab.add_argument("--window-end", type=_instant, default=None,
                     help="end of the review window (default: the next "
                     "meeting of the CHANGEBOARD_CAB_WEEKDAYS cadence)")
    cab.add_argument("--db", default=None,
                     help="DuckDB file (default: CHANGEBOARD_DB)")
    cab.add_argument("--format", required=True,
                     choices=["html", "pdf", "xlsx"])
    cab.add_argument("--out", required=True, type=Path, help="file to write")
    for name in ("application-ids", "portfolios", "teams", "change-types",
                 "tiers"):
        cab.add_argument(f"--{name}", default=None, metavar="A,B",
                         help=f"only these {name.replace('-', ' ')}")
    args = parser.parse_args(argv)

    from reports import cab as pack_module  # after parsing: --help stays fast

    filters = {}
    for name in pack_module.FILTER_NAMES:
        value = getattr(args, name)
        if value:
            filters[name] = [v.strip() for v in value.split(",") if v.strip()]
    try:
        pack = pack_module.build_pack(
            args.db or config.DB_PATH, args.date,
            window_end_at=args.window_end, filters=filters)
        if args.format == "html":
            args.out.write_text(pack_module.to_html(pack), encoding="utf-8")
        elif args.format == "xlsx":
            args.out.write_bytes(pack_module.to_xlsx(pack))
        else:
            pack_module.to_pdf(pack, args.out)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"python -m reports cab: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(pack.agenda)} changes for decision)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
