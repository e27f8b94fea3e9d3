"""changeboard report cab: write the CAB pack of a meeting as HTML, PDF or
XLSX."""
import argparse
import re
import sys
import tempfile
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from changeboard import config
from changeboard.cli.query import said_version, split_list
from changeboard.snapshots import SnapshotError


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        # '2013-02-30' has the form and names no day: said as query says it
        said = "there is no such day" if re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", text.strip()) else "expected YYYY-MM-DD"
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: {said}") from None


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


def filter_values(text: str) -> list[str]:
    """`--teams 'Ops,Dev'`: the values, comma-separated, one holding a comma
    in double quotes as in CSV (`'Ops,"Payments, EMEA"'`), as `changeboard
    query` reads a list and the Regenerate command writes one
    (changeboard.cli.query.split_list)."""
    return split_list(text)


@contextmanager
def read_with(parser, args):
    """The meeting settings for this run: --reporting-tz, --cab-time and
    --cab-weekdays where given, else the environment's; one that cannot be
    read is an input error naming it (not a traceback). The settings are
    put back after (a caller in the same process, a test, keeps its own)."""
    from reports.cab.meetings import PROBLEMS, SETTINGS, settings_problem

    kept = {name: getattr(config, name) for name, _, _ in SETTINGS}
    try:
        for name, _, option in SETTINGS:
            given = getattr(args, option.replace("-", "_"), None)
            if given is None:
                continue
            problem = PROBLEMS[name](given)
            if problem:
                parser.error(f"--{option}: {problem}")
            setattr(config, name, given.strip())
        problem = settings_problem()
        if problem:
            parser.error(problem)
        yield
    finally:
        for name, value in kept.items():
            setattr(config, name, value)


def cab(args, parser) -> int:
    with read_with(parser, args):
        return _cab(args, parser)


def _cab(args, parser) -> int:
    from reports import cab as pack_module  # after parsing: --help stays fast
    from reports.text import many

    filters = {}
    for name in pack_module.FILTER_NAMES:
        value = getattr(args, name)
        if value:
            filters[name] = filter_values(value)
    if getattr(args, "send", False):
        return send(args, parser, filters)
    for flag in ("force", "webhook"):
        if getattr(args, flag, None):
            parser.error(f"--{flag} goes with --send")
    settle_format(parser, args)
    missing = [f"--{n}" for n in ("format", "out")
               if getattr(args, n) is None]
    if missing:
        parser.error(f"{', '.join(missing)} required (or --send)")
    # the next meeting when no day is given, as --send and the page take
    # it (a CAB chair's walkthrough: --out needed a --date --send did not)
    next_one = args.date is None
    if next_one:
        args.date = pack_module.next_meeting().astimezone(
            pack_module.reporting_zone()).date()
    out_folder(parser, args)
    pack, status = write(
        parser, args, pack_module, lambda: pack_module.build_pack(
            args.db or config.DB_PATH, args.date,
            window_end_at=args.window_end, filters=filters,
            as_of=getattr(args, "as_of", None),
            decisions_until=getattr(args, "decisions_until", None)))
    if pack is None:
        return status
    said_version(getattr(args, "as_of", None), pack.data_version,
                 args.db or config.DB_PATH)
    stale = pack_module.stale_note(pack)
    if stale:  # written in the pack too; said where a script's log shows it
        print(f"{parser.prog}: warning: {stale}", file=sys.stderr)
    off_cadence(parser, args.date)
    print(f"wrote {'standard output' if to_stdout(args) else args.out} ("
          + (f"the next meeting, {args.date:%a %d %b %Y}: " if next_one
             else "")
          + f"{many(len(pack.agenda), 'change')} for decision)",
          file=said(args))
    return 0


def off_cadence(parser, day) -> None:
    """Warn on stderr when the meeting is on a day the CAB does not meet
    (the page says it above the pack)."""
    from reports.cab import off_cadence as said

    if day is not None and (note := said(day)):
        print(f"{parser.prog}: warning: {note}", file=sys.stderr)


FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf", ".xlsx": "xlsx"}


def settle_format(parser, args) -> None:
    """--format from --out's suffix when not given (`--out cab.pdf`); a
    --format the suffix contradicts (`--format html --out cab.pdf`, an
    HTML file a PDF reader refuses) is an error, and so, without --format,
    is a suffix it does not know (`--out cab.docx`), named with those it
    knows."""
    if args.out is None:
        return
    if to_stdout(args):  # `--out -`: no name to take a format from
        if args.format is None:
            parser.error("--format required: --out - writes the report to "
                         "standard output (formats: "
                         f"{', '.join(dict.fromkeys(FORMATS.values()))})")
        return
    suffix = args.out.suffix
    implied = FORMATS.get(suffix.lower())
    if args.format is None:
        args.format = implied
        if implied is None:  # `--out cab.docx`: say what it knows
            parser.error(
                f"--format required: --out {args.out}: "
                + (f"unknown suffix {suffix}" if suffix else "no suffix")
                + f" (known: {', '.join(FORMATS)})")
    elif implied is not None and implied != args.format:
        parser.error(f"--out {args.out} is named as {implied.upper()} but "
                     f"--format is {args.format}: change one")


def out_folder(parser, args) -> None:
    """Refuse an --out in a folder that does not exist before the report is
    built (a PDF takes Chromium seconds), not with the OS's [Errno 2]
    after."""
    if not to_stdout(args) and not args.out.parent.is_dir():
        parser.error(f"--out {args.out}: there is no folder "
                     f"{args.out.parent}")


# what the caller gave that cannot work: no database at --db, a filter value
# or window the database cannot answer, an unknown --as-of snapshot
INPUT_ERRORS = (FileNotFoundError, ValueError, SnapshotError)


def to_stdout(args) -> bool:
    """`--out -`: the report goes to standard output (a script piping it
    into its mail: the file was written under the name '-')."""
    return str(args.out) == "-"


def said(args) -> TextIO:
    """Where the line saying what was written goes: standard output, or
    standard error when the report itself went there."""
    return sys.stderr if to_stdout(args) else sys.stdout


def write(parser, args, module, build):
    """Build a report and write it as --format to --out (`-`: standard
    output) with the module's to_html, to_xlsx or to_pdf: (the report, 0),
    or (None, the exit status) when it failed, said on stderr: 2 for an
    input error, as `changeboard query` exits, 1 when writing failed
    (Chromium)."""
    try:
        built = build()
        if args.format == "html":  # UTF-8, as the page says it is
            _written(args, module.to_html(built).encode("utf-8"))
        elif args.format == "xlsx":
            _written(args, module.to_xlsx(built))
        elif to_stdout(args):
            with tempfile.TemporaryDirectory(prefix="changeboard-") as tmp:
                _written(args, module.to_pdf(
                    built, Path(tmp) / "report.pdf").read_bytes())
        else:
            module.to_pdf(built, args.out)
    except (*INPUT_ERRORS, RuntimeError) as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return None, 2 if isinstance(error, INPUT_ERRORS) else 1
    return built, 0


def _written(args, data: bytes) -> None:
    if to_stdout(args):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        args.out.write_bytes(data)


def no_file_with_send(parser, args) -> None:
    """--send mails the PDF: --format and --out are an error beside it."""
    for flag in ("format", "out"):
        if getattr(args, flag) is not None:
            parser.error(f"--{flag} does not go with --send (it sends the "
                         "PDF; write a file with a separate run)")


def send(args, parser, filters: dict) -> int:
    """report cab --send: e-mail the pack and/or post its agenda, once per
    meeting and channel (reports/delivery.py)."""
    from reports import cab as pack_module
    from reports import delivery

    no_file_with_send(parser, args)
    try:
        meeting = args.date if args.date is not None else \
            pack_module.next_meeting()
        off_cadence(parser, args.date)
        return delivery.send(
            args.db or config.DB_PATH, meeting, filters=filters,
            window_end_at=args.window_end, webhook_url=args.webhook,
            force=args.force,
            warn=lambda text: print(f"{parser.prog}: {text}",
                                    file=sys.stderr, flush=True))
    except INPUT_ERRORS as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2
