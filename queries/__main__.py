"""python -m queries: an alias of `changeboard query` (changeboard/cli/)."""
import sys


def main(argv=None) -> int:
    from changeboard import cli

    return cli.main(["query", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
