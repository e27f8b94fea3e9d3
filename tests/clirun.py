"""`python -m MODULE ARGS...` run through MODULE's main() in this process,
with what it writes captured as a subprocess would give it back.

A new interpreter spends about 0.6 s of CPU importing pandas, pyarrow and
DuckDB before the command starts; the suite runs a few hundred commands.
A command given its own environment still runs in a subprocess: the
settings (changeboard.config) are read from the environment once, when
first imported. Tests that are about the entry points themselves (the
`python -m` aliases, a pipe, exit codes of a real process) call
`in_subprocess`.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAINS = {"changeboard": "changeboard.cli", "queries": "queries.__main__",
         "ingest": "ingest.__main__", "reports": "reports.__main__"}


def in_subprocess(*words, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *words], cwd=ROOT, text=True,
                          capture_output=True, env=env, timeout=timeout)


def run(*words, env=None, timeout=120) -> subprocess.CompletedProcess:
    """`python -m *words` from the clone's root: its exit code, stdout and
    stderr, run here unless it is given an environment of its own."""
    module, *args = words
    if env is not None or module not in MAINS:
        return in_subprocess(*words, env=env, timeout=timeout)
    main = importlib.import_module(MAINS[module]).main
    out, err = _stream(), _stream()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err), _warnings_printed_to(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's errors, sys.exit(message)
            code = exc.code
            if isinstance(code, str):
                print(code, file=err)
                code = 1
    return subprocess.CompletedProcess(
        [sys.executable, "-m", *words], code or 0, _text(out), _text(err))


def _stream() -> io.TextIOWrapper:
    """A text stream over bytes, as sys.stdout is (`.buffer` included)."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8",
                            write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    """What subprocess.run(text=True) reads: decoded, newlines universal."""
    stream.flush()
    data = stream.buffer.getvalue().decode("utf-8")
    return data.replace("\r\n", "\n").replace("\r", "\n")


@contextlib.contextmanager
def _warnings_printed_to(stream):
    """The warnings a new interpreter prints, printed to `stream` rather
    than collected by pytest: the filters the product set at import stay,
    and the categories an interpreter hides by default are hidden again
    (pytest shows deprecations)."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, PendingDeprecationWarning,
                         ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)

        def show(message, category, filename, lineno, file=None, line=None):
            stream.write(warnings.formatwarning(
                message, category, filename, lineno, line))

        warnings.showwarning = show
        yield
