"""Files uploaded through the Data page: kept in a private working directory
that a later upload cleans up if its process died, and read and loaded in a
child process with memory and CPU limits, so a hostile file (an XLSX bomb)
cannot take the server down (issue 13).

`python -m ingest.uploads REQUEST` is that child: it reads the pickled
request (load_path's arguments), applies the limits and writes the pickled
`Loaded` (or the error) next to it. Its environment is an allow-list
(child_env): what Python, its libraries and the load read, never the
service's credentials (sign-in's client and cookie secrets, the SMTP
password, API tokens), which a file that exploited a parser could read.
"""
from __future__ import annotations

import contextlib
import logging
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("changeboard.ingest.uploads")
PREFIX = "changeboard-upload-"
MEMORY_BYTES = 3 << 30     # the child's address space (RLIMIT_AS)
# allocators that reserve address space by the gigabyte would hit that limit
# with nothing in use: glibc's per-thread arenas, Arrow's jemalloc pool
CHILD_ENV = {"MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"}
# the only variables of the server's environment the child gets: the
# interpreter's and the C libraries' (search paths, locale, time zone,
# temporary directory, thread counts) and the settings the load reads (the
# database, the reporting time zone, the snapshots kept at publish); any
# other, a credential above all, stays in the server
CHILD_KEEPS = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "TEMP", "TMP", "LD_LIBRARY_PATH", "VIRTUAL_ENV", "PYTHONPATH",
    "PYTHONHOME", "PYTHONSAFEPATH", "PYTHONNOUSERSITE", "PYTHONUSERBASE",
    "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONHASHSEED",
    "PYTHONUTF8", "PYTHONIOENCODING", "PYTHONTZPATH", "PYTHONWARNINGS",
    "OMP_NUM_THREADS", "OMP_THREAD_LIMIT",
    "CHANGEBOARD_DB", "CHANGEBOARD_REPORTING_TZ",
    "CHANGEBOARD_SNAPSHOTS_KEEP_LAST", "CHANGEBOARD_SNAPSHOTS_DAILY",
    "CHANGEBOARD_SNAPSHOTS_MONTHLY"})
CPU_SECONDS = 300          # the child's CPU time (RLIMIT_CPU)
WALL_SECONDS = 900         # the parent stops waiting and kills it
_OWNER = re.compile(rf"^{PREFIX}(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep(folder: str | Path | None = None) -> None:
    """Remove working directories whose process is gone (a killed app)."""
    folder = Path(folder or tempfile.gettempdir())
    for stale in folder.glob(f"{PREFIX}*"):
        owner = _OWNER.match(stale.name)
        if owner and not _alive(int(owner.group(1))) and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def workdir():
    """A private (0700) directory in the system temp directory, removed on
    exit; one a killed process left is removed by the next call."""
    sweep()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def child_env(environ=None) -> dict[str, str]:
    """The child's whole environment: CHILD_KEEPS and the locale's LC_*
    from `environ` (default: this process's), then CHILD_ENV."""
    environ = os.environ if environ is None else environ
    kept = {name: value for name, value in environ.items()
            if name in CHILD_KEEPS or name.startswith("LC_")}
    return {**kept, **CHILD_ENV}


def load(source: str, path: Path, db_path, **options):
    """`ingest.load_path(source, path, db_path, **options)` in a child
    process with MEMORY_BYTES and CPU_SECONDS and child_env() for its whole
    environment; a child that runs out of either (or WALL_SECONDS) gives a
    failed result, nothing is written."""
    from .loader import Loaded

    request = path.with_name(path.name + ".request")
    answer = path.with_name(path.name + ".answer")
    request.write_bytes(pickle.dumps(
        {"source": source, "path": str(path), "db_path": str(db_path),
         "options": options, "memory": MEMORY_BYTES, "cpu": CPU_SECONDS}))
    root = Path(__file__).resolve().parents[1]
    try:
        child = subprocess.run(  # noqa: S603 - our interpreter, our module
            [sys.executable, "-m", "ingest.uploads", str(request)],
            cwd=root, env=child_env(), capture_output=True,
            text=True, timeout=WALL_SECONDS, check=False)
        code = child.returncode
        if code != 0:
            log.warning("upload child for %s exited %s: %s", path.name, code,
                        child.stderr.strip()[-500:])
    except subprocess.TimeoutExpired:
        code = None
    if code == 0 and answer.exists():
        return pickle.loads(answer.read_bytes())  # noqa: S301 - our child's
    why = (f"took longer than {WALL_SECONDS} s" if code is None else
           f"stopped (exit status {code}: out of memory or CPU time?)")
    return Loaded(options.get("table") or "", options.get("file_name")
                  or path.name, None, source=source, status="failed",
                  error=f"{path.name}: reading the file {why}; a file gets "
                  f"at most {MEMORY_BYTES >> 20:,} MB and {CPU_SECONDS} s of "
                  "CPU: nothing was loaded")


def main(argv=None) -> int:
    import resource

    argv = sys.argv[1:] if argv is None else argv
    request = Path(argv[0])
    asked = pickle.loads(request.read_bytes())  # noqa: S301 - our parent's
    # the limits first, before the file is touched
    resource.setrlimit(resource.RLIMIT_AS, (asked["memory"],) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (asked["cpu"],) * 2)
    import ingest

    result = ingest.load_path(asked["source"], asked["path"],
                              asked["db_path"], **asked["options"])
    answer = request.with_name(request.name.removesuffix(".request")
                               + ".answer")
    answer.write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
