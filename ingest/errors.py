"""Errors shared by the adapters and the loader, and how many rows a
message names."""

from changeboard.db import meant

WARNED_ROWS = 10  # row numbers a warning names


class FileError(Exception):
    """A file that cannot be loaded at all: the message names the file and,
    where there is one, the column and value. Nothing is written but a failed
    ingest_batches row."""


# the name the first loader used; callers may catch either
LoadError = FileError


def closest(name: str, choices) -> str:
    """` (did you mean 'x'?)` for the closest of choices, or ""."""
    found = meant(name, choices, cutoff=0.6, starts=False)
    return f" (did you mean {found!r}?)" if found else ""
