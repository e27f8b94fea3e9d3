"""python -m ingest: an alias of `changeboard load`, `sync` and `sample`
(changeboard/cli/) in the flat form of earlier versions:

    python -m ingest SOURCE FILE... [--mapping F]  changeboard load SOURCE FILE...
    python -m ingest SOURCE-api [...]              changeboard sync SOURCE [...]
    python -m ingest --sample [--seed N]           changeboard sample [--seed N]
    python -m ingest --remove-sample               changeboard sample --remove

`--mapping` is the mapping file of the `mapping` source and the overrides
file (`--overrides`) of every other source.
"""
import sys

# the flat form's options that take a value
VALUED = {"--db", "--mapping", "--table", "--seed", "--scale", "--since",
          "--query", "--jql", "--project", "--timezone"}


def translate(argv) -> list[str]:
    """The `changeboard` arguments of a flat `python -m ingest` command."""
    words = list(argv)
    for flag, command in (("--remove-sample", ["sample", "--remove"]),
                          ("--sample", ["sample"])):
        if flag in words:
            return [*command, *(w for w in words if w != flag)]
    at = _source_at(words)
    if at is None:
        return ["load", *words]
    source, rest = words[at], words[:at] + words[at + 1:]
    command = "sync" if source.endswith("-api") else "load"
    source = source.removesuffix("-api")
    if source != "mapping":
        rest = ["--overrides" if w == "--mapping" else
                w.replace("--mapping=", "--overrides=", 1)
                if w.startswith("--mapping=") else w for w in rest]
    return [command, source, *rest]


def _source_at(words: list[str]) -> int | None:
    """Where the first positional word (the source) is."""
    i = 0
    while i < len(words):
        word = words[i]
        if word in VALUED:
            i += 2
        elif word.startswith("-"):
            i += 1
        else:
            return i
    return None


def main(argv=None) -> int:
    from changeboard import cli

    return cli.main(translate(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
