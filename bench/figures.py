"""The figures the benchmarks measure against issue 12's targets, kept for
one table (bench/summary.py, the last step of `make bench`).

Every bench script takes `--record PATH`: each figure it prints beside a
target (and the few it prints without one, such as the CAB pack of the
whole agenda, which has only to finish) is then also appended to PATH as
one JSON line:

    {"bench": "pages", "measure": "Overview: cold rerun", "value": 0.31,
     "unit": "s", "target": 0.5, "detail": ""}

`target` is the most the figure may be (null: none); `detail` says what
the figure stands for where one number cannot (the queries over 50 ms).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

RECORD: Path | None = None  # where this process's figures go (--record)


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record", type=Path, metavar="PATH",
        help="also append each figure and its target to PATH as a JSON line "
        "(bench/summary.py prints them as one table)")


def use(args: argparse.Namespace) -> None:
    """Record this run's figures where --record says (nowhere without)."""
    global RECORD
    RECORD = args.record


def as_served() -> None:
    """Run this process, and the processes it starts, on the memory
    allocator the app processes run on (changeboard.serve.app_env: jemalloc
    when installed): the script is started again with it preloaded, once."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from changeboard import serve

    env = serve.app_env()
    if env.get("LD_PRELOAD") != os.environ.get("LD_PRELOAD"):
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def record(bench: str, measure: str, value: float, unit: str,
           target: float | None = None, detail: str = "") -> None:
    """Append one figure to the --record file, if one was given."""
    if RECORD is None:
        return
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    with RECORD.open("a", encoding="utf-8") as out:
        out.write(json.dumps({
            "bench": bench, "measure": measure, "value": float(value),
            "unit": unit, "target": None if target is None else float(target),
            "detail": detail}) + "\n")


def read(path: Path) -> list[dict]:
    """The figures recorded in `path`, in the order they were measured."""
    return [json.loads(line) for line in
            path.read_text(encoding="utf-8").splitlines() if line.strip()]


def met(figure: dict) -> bool | None:
    """Whether the figure is within its target (None: it has none)."""
    if figure["target"] is None:
        return None
    return figure["value"] <= figure["target"]
