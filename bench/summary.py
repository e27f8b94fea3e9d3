"""One table of what the benchmarks measured, each figure beside its
target: the last step of `make bench`.

  python bench/summary.py bench/out/figures.jsonl

The file holds the figures the bench scripts recorded (`--record`,
bench/figures.py). A figure over its target is marked `MISSED`; one
without a target (the CAB pack of the whole agenda, which has only to
finish) reads `-`. The last lines count the figures within their targets
and name those that are not.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import figures  # noqa: E402


def shown(value: float, unit: str) -> str:
    """A figure in its unit: seconds to the ms, ms to a tenth, ratios to a
    hundredth, memory in whole MB."""
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:g} {unit}".rstrip()


def table(found: list[dict]) -> list[str]:
    """The table's lines: bench, measure, figure, target, whether met; then
    the count, and the misses by name."""
    width = max([len(f["measure"]) for f in found] + [7])
    lines = [f"{'bench':12} {'measure':{width}}  {'figure':>12}  "
             f"{'target':>14}", "-" * (width + 48)]
    for figure in found:
        ok = figures.met(figure)
        target = ("-" if figure["target"] is None
                  else "<= " + shown(figure["target"], figure["unit"]))
        mark = {True: "ok", False: "MISSED", None: ""}[ok]
        lines.append(f"{figure['bench']:12} {figure['measure']:{width}}  "
                     f"{shown(figure['value'], figure['unit']):>12}  "
                     f"{target:>14}  {mark}")
        if figure["detail"]:
            lines.append(f"{'':12} {'':{width}}  {figure['detail']}")
    judged = [f for f in found if figures.met(f) is not None]
    missed = [f for f in judged if not figures.met(f)]
    lines.append(f"{len(judged) - len(missed)} of {len(judged)} figures "
                 "within their targets")
    if missed:
        lines.append("missed: " + "; ".join(
            f"{f['bench']} {f['measure']} {shown(f['value'], f['unit'])}"
            for f in missed))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    args = parser.parse_args()
    found = figures.read(args.path)
    if not found:
        print(f"{args.path}: no figures recorded")
        return 1
    print("\n".join(table(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
