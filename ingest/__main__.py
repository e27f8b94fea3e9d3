"""python -m ingest: load files of one source, or rebuild the sample database."""
import argparse
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import ingest
from changeboard import config
from ingest.progress import Progress, Stages


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _summary(results) -> None:
    print(f"{'file':<36} {'table':<20} {'batch':>5} {'status':<9} "
          f"{'read':>9} {'loaded':>9} {'new':>9} {'updated':>9} "
          f"{'unchanged':>9} {'rejected':>9} {'merged':>9}")
    # read = loaded + rejected + merged (merged: rows merged into another of
    # their id, or superseded by a later version of it)
    for r in results:
        print(f"{Path(r.file_name).name[:36]:<36} {r.table[:20]:<20} "
              f"{r.batch_id or '-':>5} {r.status:<9} {r.rows_read:>9,} "
              f"{r.rows_loaded:>9,} {r.rows_new:>9,} {r.rows_updated:>9,} "
              f"{r.rows_unchanged:>9,} {r.rows_rejected:>9,} "
              f"{r.rows_merged:>9,}")
    for r in results:
        name = Path(r.file_name).name
        if r.status == "unchanged":
            print(f"{name}: already loaded as batch {r.already_loaded}; "
                  "nothing changed")
        if r.error:
            print(f"{name}: error: {r.error}")
        for warning in r.warnings:
            print(f"{name}: warning: {warning}")
        if r.rows_deleted:
            done = "would delete" if r.status == "dry_run" else "deleted"
            first = ", ".join(str(v) for v in r.deleted.iloc[:, 0][:10])
            print(f"{name}: snapshot of source {r.source} {done} "
                  f"{r.rows_deleted:,} stored {r.table} rows not in the file"
                  f" (first: {first})")
        if r.reasons:
            top = ", ".join(f"{reason} {n:,}" for reason, n in r.reasons[:5])
            print(f"{name}: top rejection reasons: {top}")
            if r.rejects is not None:
                for row in r.rejects.head(5).itertuples():
                    print(f"  row {row.row_number}: {row.reason} in "
                          f"{row.column_name} = {row.value!r}"
                          + _detail(row.detail))


def _detail(detail) -> str:
    """` (detail)`, or nothing when the reject has none (NULL reads as NaN
    in a frame: never print "(nan)")."""
    if detail is None or (isinstance(detail, float) and detail != detail):
        return ""
    text = str(detail).strip()
    return f" ({text})" if text else ""


API_SOURCES = ("servicenow-api", "servicenow-incidents-api", "jira-api",
               "jira-versions-api")


def _since(text: str) -> str:
    """--since as UTC `YYYY-MM-DD HH:MM:SS`: a date, a time, or ISO-8601
    with an offset (no offset: UTC)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since {text!r}: expected e.g. 2026-03-01 or "
            "2026-03-01T08:00:00Z") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _sync(args, db_path) -> int:
    """Run one API sync; exit 0 when it succeeded."""
    from . import api

    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(message)s")
    try:
        site, name = (ingest.adapter_options(args.source.removesuffix("-api"),
                                             {"mapping": args.mapping})
                      if args.mapping else (None, None))
        if args.source.startswith("servicenow"):
            from . import servicenow_api as module
            table = ("incident" if args.source == "servicenow-incidents-api"
                     else "change_request")
            source = module.ServiceNowApi(module.client(), table=table,
                                          query=args.query or "", options=site)
        elif args.source == "jira-versions-api":
            from . import jira_api as module
            projects = [p for value in args.project or [] for p in
                        value.split(",")]
            source = module.JiraVersionsApi(
                module.client(), projects, timezone=args.timezone,
                cloud=module.is_cloud(), options=site)
        else:
            from . import jira_api as module
            source = module.JiraApi(module.client(), jql=args.jql,
                                    options=site, cloud=module.is_cloud())
        source.source = name or source.source
    except (api.ApiError, ingest.FileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    progress = Progress()
    run = api.sync(source, db_path, since=args.since, full=args.full,
                   progress=lambda r: progress(r, source.total))
    pages = f"{run.pages} page" + ("" if run.pages == 1 else "s")
    print(f"{run.source} sync {run.sync_id} {run.status}: {pages}, "
          f"{run.records_read:,} read, {run.rows_loaded:,} loaded, "
          f"{run.rows_rejected:,} rejected, {run.fetched_again:,} fetched "
          f"again by the key check, {len(run.batches)} batches")
    print(f"{source.endpoint}: since {run.since_at or 'the beginning'}; "
          f"watermark {run.watermark_at or 'none'}"
          + ("" if run.status == "succeeded" else " (not moved)"))
    _summary(run.batches)
    if run.error:
        print(f"error: {run.error}", file=sys.stderr)
    return 0 if run.status == "succeeded" else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Load files into the Changeboard database: one batch per "
        "file, published atomically.")
    parser.add_argument("source", nargs="?",
                        choices=[*sorted(ingest.SOURCES), *API_SOURCES],
                        help="csv: canonical files named <table>.csv; "
                        "servicenow, jira: their exports; mapping: any file "
                        "with --mapping; servicenow-incidents: an incident "
                        "export; servicenow-api, servicenow-incidents-api, "
                        "jira-api: sync what changed since the last sync; "
                        "jira-versions-api: fix versions as releases "
                        "(docs/api.md)")
    parser.add_argument("files", nargs="*", help="files to load")
    parser.add_argument("--db", default=None,
                        help="DuckDB file (default: CHANGEBOARD_DB)")
    parser.add_argument("--mapping", default=None,
                        help="mapping (or overrides) TOML file")
    parser.add_argument("--table", default=None,
                        help="canonical table (default: from the file name)")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate and report; write nothing")
    parser.add_argument("--strict", action="store_true",
                        help="load nothing from a file with any rejected row")
    parser.add_argument("--sample", action="store_true",
                        help="rebuild the database from generated sample data")
    parser.add_argument("--seed", type=int, default=None,
                        help="sample seed (default: CHANGEBOARD_SAMPLE_SEED)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="sample size multiplier (default: 1)")
    parser.add_argument("--keep-sample", action="store_true",
                        help="keep the generated sample's rows beside the "
                        "loaded files (default: a load into a database "
                        "holding the sample removes the sample first)")
    parser.add_argument("--remove-sample", action="store_true",
                        help="remove the generated sample's rows and exit")
    api_flags = parser.add_argument_group("API syncs")
    api_flags.add_argument("--since", type=_since, default=None,
                           help="read records updated since this UTC time "
                           "instead of the watermark")
    api_flags.add_argument("--full", action="store_true",
                           help="read every record, ignoring the watermark")
    api_flags.add_argument("--query", default=None,
                           help="ServiceNow: an encoded query added to the "
                           "sync's, e.g. assignment_group.name=Network")
    api_flags.add_argument("--jql", default=None,
                           help="Jira: JQL selecting change issues (default: "
                           "CHANGEBOARD_JIRA_JQL)")
    api_flags.add_argument("--project", action="append", default=None,
                           help="jira-versions-api: project key(s) whose fix "
                           "versions are releases (repeat or comma-separate)")
    api_flags.add_argument("--timezone", default="UTC",
                           help="jira-versions-api: zone of the versions' "
                           "dates (default: UTC)")
    api_flags.add_argument("--verbose", action="store_true",
                           help="log each request (never credentials)")
    args = parser.parse_args(argv)
    db_path = args.db or config.DB_PATH
    if args.source in API_SOURCES:
        if args.files:
            parser.error(f"{args.source} takes no files")
        return _sync(args, db_path)
    started = time.perf_counter()
    if args.remove_sample:
        removed = ingest.remove_sample_from(db_path)
        print(f"removed {removed:,} sample rows from {db_path}")
        return 0
    if args.sample:
        try:
            loaded = ingest.build_sample(db_path, seed=args.seed,
                                         scale=args.scale)
        except ingest.FileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        _summary(loaded)
        print(f"published {db_path} in {time.perf_counter() - started:.1f} s")
        return 0
    if not (args.source and args.files):
        parser.error("give SOURCE and FILE..., or --sample")
    options = {"mapping": args.mapping} if args.mapping else None
    results = []
    for file in args.files:
        path = Path(file)
        size = path.stat().st_size / 1e6 if path.exists() else 0
        _progress(f"{path.name}: reading {size:,.1f} MB as {args.source}"
                  + (" (dry run)" if args.dry_run else ""))
        stages = Stages(path.name, int(size * 1e6))
        try:
            result = ingest.load_path(args.source, path, db_path,
                                      table=args.table, options=options,
                                      dry_run=args.dry_run, strict=args.strict,
                                      progress=stages,
                                      replace_sample=not args.keep_sample)
        finally:
            stages.finish()
        _progress(f"{path.name}: {result.status} in "
                  f"{time.perf_counter() - started:.1f} s")
        if result.sample_rows_removed:
            print(f"{path.name}: the generated sample's "
                  f"{result.sample_rows_removed:,} rows "
                  + ("would be" if args.dry_run else "were")
                  + " removed first, so your data is not mixed with it "
                  "(--keep-sample keeps them)")
        results.append(result)
    _summary(results)
    failed = [r for r in results if r.status == "failed"]
    rejected = [r for r in results if r.rows_rejected]
    if args.dry_run:
        print("dry run: nothing was written")
    else:
        print(f"published {db_path} in {time.perf_counter() - started:.1f} s")
    if failed or (args.strict and rejected):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
