"""Errors shared by the adapters and the loader, and how many rows a
message names."""

import difflib

WARNED_ROWS = 10  # row numbers a warning names


class FileError(Exception):
    """A file that cannot be loaded at all: the message names the file and,
    where there is one, the column and value. Nothing is written but a failed
    ingest_batches row."""


# the name the first loader used; callers may catch either
LoadError = FileError


def closest(name: str, choices) -> str:
    """` (did you mean 'x'?)` for the closest of choices, or ""."""
    found = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""
