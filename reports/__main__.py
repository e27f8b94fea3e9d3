"""python -m reports cab: an alias of `changeboard report cab`
(changeboard/cli/)."""
import sys


def main(argv=None) -> int:
    from changeboard import cli

    return cli.main(["report", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
