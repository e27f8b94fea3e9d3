"""python -m changeboard: the `changeboard` command (changeboard/cli/)."""
import sys

from changeboard.cli import main

if __name__ == "__main__":
    sys.exit(main())
