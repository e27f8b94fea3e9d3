"""python -m ingest: load canonical CSV files, or rebuild the sample database."""
import argparse
import sys
import time

import ingest
from changeboard import config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Load files into the Changeboard database.")
    parser.add_argument("source", nargs="?", choices=["csv"],
                        help="csv: canonical files named <table>.csv")
    parser.add_argument("files", nargs="*", help="files to load")
    parser.add_argument("--db", default=None,
                        help="DuckDB file (default: CHANGEBOARD_DB)")
    parser.add_argument("--sample", action="store_true",
                        help="rebuild the database from generated sample data")
    parser.add_argument("--seed", type=int, default=None,
                        help="sample seed (default: CHANGEBOARD_SAMPLE_SEED)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="sample size multiplier (default: 1)")
    args = parser.parse_args(argv)
    db_path = args.db or config.DB_PATH
    started = time.perf_counter()
    try:
        if args.sample:
            loaded = ingest.build_sample(db_path, seed=args.seed,
                                         scale=args.scale)
        elif args.source and args.files:
            loaded = ingest.load_files(args.files, db_path)
        else:
            parser.error("give SOURCE and FILE..., or --sample")
    except ingest.LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{'file':<40} {'table':<22} {'batch':>6} {'read':>9} {'loaded':>9}")
    for item in loaded:
        print(f"{item.file_name:<40} {item.table:<22} {item.batch_id:>6} "
              f"{item.rows_read:>9} {item.rows_loaded:>9}")
    print(f"published {db_path} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
