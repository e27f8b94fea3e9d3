"""python -m queries: list the metric queries or run one and print its rows."""
import argparse
import os
import sys

import pandas as pd

import reports
from changeboard import config, db


def _parse_params(name: str, pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise db.QueryError(f"--param {pair!r} is not k=v")
        values[key] = None if value == "" else value  # lists split in db.run
    return values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m queries",
        description="Run a Changeboard metric query against a database.")
    parser.add_argument("name", nargs="?", help="query name (see --list)")
    parser.add_argument("--list", action="store_true",
                        help="list every query with its one-line definition")
    parser.add_argument("--db", default=None,
                        help="DuckDB file (default: CHANGEBOARD_DB)")
    parser.add_argument("--param", action="append", default=[],
                        metavar="K=V", help="a query parameter; repeatable; "
                        "list parameters take comma-separated values")
    parser.add_argument("--format", choices=["csv", "json", "table"],
                        default="table")
    args = parser.parse_args(argv)
    try:
        if args.list:
            width = max(map(len, db.names()), default=0)
            for name in db.names():
                params = ", ".join(
                    p if d is None else f"[{p}]"
                    for p, d in db.params(name).items())
                print(f"{name:<{width}}  {db.header(name)}")
                if params:
                    print(f"{'':<{width}}  params: {params}")
            return 0
        if not args.name:
            parser.error("give a query name or --list")
        values = _parse_params(args.name, args.param)
        path = args.db or config.DB_PATH
        with db.connect(path, read_only=True) as con:
            frame = db.run(con, args.name, **values)
    except (db.QueryError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # duckdb errors: one line, not a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
    try:
        _write(frame, args.format)
    except BrokenPipeError:  # e.g. `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _write(frame, fmt: str) -> None:
    if fmt == "csv":  # neutralised and quoted as every export is
        sys.stdout.flush()
        sys.stdout.buffer.write(reports.csv_bytes(frame))
        sys.stdout.buffer.flush()
    elif fmt == "json":
        sys.stdout.write(frame.to_json(orient="records", date_format="iso"))
        sys.stdout.write("\n")
    else:
        _print_table(frame)


def _print_table(frame) -> None:
    with pd.option_context("display.max_rows", 200, "display.max_columns",
                           50, "display.width", 200):
        print(frame.to_string(index=False) if len(frame) else "(no rows)")


if __name__ == "__main__":
    sys.exit(main())
