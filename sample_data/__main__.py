"""python -m sample_data generate --out DIR --seed N --scale S [--end-date D]"""
import argparse
import sys
import time

from . import generate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_data",
                                     description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="write one canonical CSV per table")
    gen.add_argument("--out", required=True, help="directory for <table>.csv files")
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--scale", type=float, default=1.0,
                     help="1 = ~8,000 changes over three years (default: 1)")
    gen.add_argument("--end-date", help="YYYY-MM-DD the data ends at, 00:00 UTC "
                                        "(default: today, UTC)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    counts = generate(args.out, seed=args.seed, scale=args.scale,
                      end_date=args.end_date)
    for table, rows in counts.items():
        print(f"{table:22} {rows:>10,}")
    print(f"wrote {sum(counts.values()):,} rows to {args.out} in "
          f"{time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
