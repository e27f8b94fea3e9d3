"""Progress on stderr: a bar on a terminal, plain lines when piped (cron).
`Progress` for an API sync's records, `Stages` for a file's load stages."""
from __future__ import annotations

import sys
import threading
import time

from changeboard.words import many

WIDTH = 24


def _bar(share: float) -> str:
    """`[######..................]  25%`"""
    share = min(1.0, max(0.0, share))
    filled = round(share * WIDTH)
    return f"[{'#' * filled}{'.' * (WIDTH - filled)}] {share:4.0%}"


class Progress:
    """A progress bar on stderr when it is a terminal (a line every ten
    pages when piped, e.g. from cron): pages, records of the total the
    server reports, rows loaded."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()

    def line(self, run, total: int | None = None) -> str:
        of = f"/{total:,}" if total else ""
        bar = f"{_bar(run.records_read / total)} " if total else ""
        records = "record" if (total or run.records_read) == 1 else "records"
        return (f"{run.source}: {bar}{many(run.pages, 'page')}, "
                f"{run.records_read:,}{of} {records}, "
                f"{run.rows_loaded:,} loaded")

    def __call__(self, run, total: int | None = None) -> None:
        done = run.status != "running"
        line = self.line(run, total)
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done else ""))
        elif done or run.pages % 10 == 1:
            self.stream.write(line + "\n")
        self.stream.flush()


class Stages:
    """A progress bar of one file's load stages on stderr: redrawn with the
    elapsed time on a terminal, a line per stage otherwise (large files only).
    The shares are what each stage takes of a large load (bench/ingest.py)."""

    SHARES = {"reading": 0.40, "copying": 0.05, "checking": 0.20,
              "writing": 0.30, "publishing": 0.05}
    LARGE = 8_000_000   # bytes: smaller files get no stage lines when piped

    def __init__(self, name: str, size: int, stream=None):
        self.name, self.size = name, size
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.perf_counter()
        self.stage, self.done = None, 0.0
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        if self.tty:
            self._ticker.start()

    def line(self) -> str:
        return (f"{self.name}: {_bar(self.done)} {self.stage or ''} "
                f"{time.perf_counter() - self.started:.1f} s")

    def __call__(self, stage: str) -> None:
        stages = list(self.SHARES)
        if stage in stages:
            self.done = sum(self.SHARES[s] for s in stages[:stages.index(stage)])
        self.stage = stage
        if self.tty:
            self._draw()
        elif self.size >= self.LARGE:
            print(self.line(), file=self.stream, flush=True)

    def finish(self) -> None:
        self._stop.set()
        self.done, self.stage = 1.0, "done"
        if self.tty:
            self._draw()
            self.stream.write("\n")
        elif self.size >= self.LARGE:
            print(self.line(), file=self.stream, flush=True)

    def _draw(self) -> None:
        self.stream.write("\r" + self.line() + " " * 4)
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            self._draw()
