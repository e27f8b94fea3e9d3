"""Benchmark: every page's server-side rerun, cold and warm, and a browser pass.

  python bench/pages.py --db PATH [--pages overview,cab] [--browser]
                        [--timeout 120]

Server side (Streamlit's AppTest, one fresh process per page so caches and
the shared connection start empty). Each figure is the page's script run in
Streamlit's script thread, what a server does on a rerun; AppTest's whole
round trip, which also turns every message into its element tree (a table's
Arrow bytes back into a frame, as a browser would), is printed after it:
- cold: the first run of the page (Streamlit's installed components are
  found, and changeboard.launch.warm run, before the clock starts, as a
  server does once at its start);
- warm: the same run again (caches filled; the page compiled once and kept,
  as a server keeps it);
- filter: the period changed from the default to "Last 12 months" (new
  queries, warm connection);
- peak: the process's peak resident memory (VmHWM);
- conns: database connections opened during the cold run.
A page's other tabs (TABS: the Environments page's four besides its impact
matrix) run their queries only when open: each is timed the same way as a
page of its own, opened on that tab (`environments:Conflicts`, as a link
with ?view=Conflicts opens it). `cab:decided` is the CAB page with DECIDED
decisions recorded at the meeting before (in an application state of the
run's own), which it reads beside what happened to each change.

Browser (--browser): a real server started as `make run` starts it
(changeboard.launch) and Debian's Chromium;
first paint is the time from navigation until the page's title shows,
complete until the script has run to its end and the app is idle; then the period is changed on the Overview;
the server's peak memory (VmHWM) after visiting every page is reported.

Targets (issue 12, at about 1M changes): cold <= 0.5 s, warm <= 0.1 s,
filter <= 0.3 s, first paint <= 3 s, server <= 1.5 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import figures  # bench/, this script's own folder

ROOT = Path(__file__).resolve().parents[1]
# a page's other tabs, each timed as a page of its own opened on it: a tab
# runs its queries only when open, so the page's own run does not time them
TABS = {"environments": ["Weekly load", "Utilisation", "Conflicts",
                         "Bookings timeline"]}
PAGES = ["overview", "changes", "releases", "readiness", "environments",
         "calendar", "cab", "cab:decided", "backlog", "data"]
# the CAB page as a CAB finds it the week after a meeting: the last
# meeting's decisions on this many of its agenda's changes read beside what
# happened to each (the page ran a query of 270 ms there that nothing timed)
DECIDED = 300
TARGETS = {"cold": 0.5, "warm": 0.1, "filter": 0.3, "paint": 3.0}


def _discover_components(app) -> None:
    """Find the installed Streamlit components before the clock starts: a
    server does it once, when it starts (Runtime's constructor), AppTest on
    an instance's first run (0.3-0.4 s here), which is not the page's."""
    try:
        from streamlit.components.v2.component_manager import (
            BidiComponentManager,
        )
    except ImportError:  # a Streamlit without them
        return
    if getattr(app, "_bidi_component_manager", False) is None:
        manager = BidiComponentManager()
        manager.discover_and_register_components(start_file_watching=False)
        app._bidi_component_manager = manager


def _server_script_cache() -> None:
    """Keep one compiled copy of each page across runs, as a server does
    (its Runtime holds one ScriptCache): AppTest makes a new cache on every
    run, so each warm run would compile the page again (10-60 ms), which a
    server does once, on a page's first visit."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def _script_clock() -> list[float]:
    """The wall time of each run of the page's script in Streamlit's script
    thread, as a server runs it (appended per run): AppTest then also turns
    every message into its element tree (a table's Arrow bytes back into a
    frame), which a server does not; its whole round trip is shown apart."""
    from streamlit.runtime.scriptrunner import script_runner

    runs: list[float] = []
    run_script = script_runner.ScriptRunner._run_script

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return run_script(self, *args, **kwargs)
        finally:
            runs.append(time.perf_counter() - started)

    script_runner.ScriptRunner._run_script = timed
    return runs


def one_page(page: str) -> dict:
    """Runs in a child process: time the page cold, warm and on a filter."""
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    # what a server does once, before it listens (changeboard.launch: the
    # modules every page uses, the read-only view of the file): cold means
    # empty caches, not a first import of plotly and pandas
    import changeboard.ui  # noqa: F401
    from changeboard import db, launch

    launch.warm()

    name, _, tab = page.partition(":")
    app = AppTest.from_file(str(ROOT / "views" / f"{name}.py"),
                            default_timeout=3600)
    if page == "cab:decided":
        _decided(DECIDED)
    elif tab:  # opened on that tab, as a link to it does (?view=)
        app.query_params["view"] = tab
    _discover_components(app)
    _server_script_cache()
    runs = _script_clock()
    result = {"page": page, "harness": {}}

    def timed(label: str, run) -> None:
        started = time.perf_counter()
        run()
        result["harness"][label] = time.perf_counter() - started
        result[label] = runs[-1]

    opened = getattr(db, "CONNECTIONS_OPENED", None)
    timed("cold", app.run)
    result["error"] = [e.message for e in app.exception][:1]
    if opened is not None:
        result["conns"] = db.CONNECTIONS_OPENED - opened
    timed("warm", app.run)
    try:
        period = app.selectbox(key="period")
    except KeyError:
        period = None
    if period is not None:
        timed("filter", period.select("last_365").run)
    # this process's own peak (ru_maxrss would carry over its parent's)
    result["peak_mb"] = next(int(line.split()[1]) for line in
                             open("/proc/self/status")
                             if line.startswith("VmHWM:")) / 1024
    return result


def _decided(n: int) -> None:
    """Record decisions at the meeting before the next one on n of the
    changes planned in its review week, in an application state of this
    process's own (the database's is never written)."""
    import tempfile
    from datetime import timedelta

    from changeboard import auth, config, db, decisions
    from reports import cab
    from reports.cab.meetings import meeting_on

    config.APP_DB = str(Path(tempfile.mkdtemp()) / "bench.app.sqlite")
    last = meeting_on((cab.next_meeting() - timedelta(days=7)).date())
    member = auth.User("bench@example.org", "Bench", tuple(
        r for r in auth.ROLES if r.name == "cab_member"), True)
    with db.reading(config.DB_PATH) as con:
        ids = [i for i, in con.execute(
            "select change_id from changes where planned_start_at >= $a "
            "and planned_start_at < $b order by change_id limit $n",
            {"a": last, "b": last + timedelta(days=7), "n": n}).fetchall()]
    for i, change_id in enumerate(ids):
        decision = ("approved", "rejected", "deferred")[i % 3]
        decisions.record(config.DB_PATH, member, last, change_id, decision,
                         "" if decision == "approved" else "bench")


def server_side(db_path: str, pages: list[str], timeout: float) -> list[dict]:
    rows = []
    for page in pages:
        env = {**os.environ, "CHANGEBOARD_DB": db_path}
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--one", page], env=env,
                capture_output=True, text=True, timeout=timeout, check=False)
            line = done.stdout.strip().splitlines()[-1:] or ["{}"]
            row = json.loads(line[0]) if line[0].startswith("{") else {
                "page": page, "error": [done.stderr.strip()[-300:]]}
        except subprocess.TimeoutExpired:
            row = {"page": page, "error": [f"did not finish in {timeout:.0f} s"]}
        rows.append(row)
        print(_row(row), flush=True)
        _record(row)
    return rows


LABELS = {"cold": "cold rerun", "warm": "warm rerun",
          "filter": "filter change"}


def _record(row: dict) -> None:
    """The page's figures, each beside its target, for bench/summary.py;
    a page that raised is recorded as missing its figures."""
    error = "; ".join(row.get("error") or [])
    name, _, tab = row["page"].partition(":")
    shown = f"{name}, {tab} tab" if tab else name
    for key, label in LABELS.items():
        if row.get(key) is not None:
            figures.record("pages", f"{shown}: {label} (server)",
                           row[key], "s", TARGETS[key],
                           f"raised: {error[:100]}" if error else "")


def _fmt(value, target=None) -> str:
    if value is None:
        return "–"
    mark = "" if target is None else (" ok" if value <= target else " !!")
    return f"{value:7.3f}{mark}"


def _row(row: dict) -> str:
    error = "; ".join(row.get("error") or [])
    harness = row.get("harness") or {}
    return (f"{row['page']:13} cold {_fmt(row.get('cold'), TARGETS['cold'])}"
            f"  warm {_fmt(row.get('warm'), TARGETS['warm'])}"
            f"  filter {_fmt(row.get('filter'), TARGETS['filter'])}"
            f"  peak {row.get('peak_mb', 0):6.0f} MB"
            f"  conns {row.get('conns', '–')}"
            "  | with AppTest's tree: " + " / ".join(
                _fmt(harness.get(k)).strip() for k in ("cold", "warm", "filter"))
            + (f"  ERROR {error[:120]}" if error else ""))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser(db_path: str, pages: list[str], timeout: float) -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "changeboard.launch", "run",  # as served
         str(ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env={**os.environ, "CHANGEBOARD_DB": db_path}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base)
        with sync_playwright() as p:
            chrome = p.chromium.launch(executable_path="/usr/bin/chromium")
            page = chrome.new_page(viewport={"width": 1400, "height": 900})
            for name in pages:
                path = "" if name == "overview" else name
                started = time.perf_counter()
                page.goto(f"{base}/{path}")
                page.wait_for_selector("[data-testid='stMain'] h1",
                                       timeout=timeout * 1000)
                painted = time.perf_counter() - started
                _settled(page, timeout)
                took = time.perf_counter() - started
                print(f"browser {name:13} first paint "
                      f"{_fmt(painted, TARGETS['paint'])}  complete "
                      f"{_fmt(took, TARGETS['paint'])}", flush=True)
                figures.record("browser", f"{name}: first paint", painted,
                               "s", TARGETS["paint"])
            page.goto(f"{base}/")
            _settled(page, timeout)
            started = time.perf_counter()
            page.get_by_test_id("stSidebar").get_by_test_id(
                "stSelectbox").first.click()
            page.get_by_role("option", name="Last 12 months").click()
            _settled(page, timeout)
            changed = time.perf_counter() - started
            print(f"browser overview filter change {_fmt(changed)}",
                  flush=True)
            # no target: the server's part is the pages' filter change
            figures.record("browser", "overview: filter change, clicked to "
                           "drawn", changed, "s")
            chrome.close()
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak = next(line for line in status.splitlines()
                    if line.startswith("VmHWM"))
        print(f"server peak memory after every page: {peak.split(':')[1].strip()}"
              " (target <= 1.5 GB)")
        figures.record("browser", "server peak memory after every page",
                       int(peak.split()[1]) / 1024, "MB", 1.5 * 1024)
    finally:
        server.terminate()
        server.wait(10)


def _wait_for(base: str) -> None:
    import urllib.request
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health") as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _settled(page, timeout: float) -> None:
    """The script has run to its end: its title is drawn (the app is "not
    running" before the first run starts, too) and the app is not running."""
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=timeout * 1000)
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]',
        timeout=timeout * 1000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid^=\"stSkeleton\"]')",
        timeout=timeout * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("CHANGEBOARD_DB",
                                                       "changeboard.duckdb"))
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    figures.add_argument(parser)
    args = parser.parse_args()
    figures.use(args)
    figures.as_served()  # the app's allocator
    if args.one:
        print(json.dumps(one_page(args.one)))
        return 0
    pages = [p for p in args.pages.split(",") if p]
    db_path = str(Path(args.db).resolve())
    print(f"database {db_path} ({Path(db_path).stat().st_size / 1e6:,.0f} MB)"
          f"; targets: cold <= {TARGETS['cold']} s, warm <= "
          f"{TARGETS['warm']} s, filter <= {TARGETS['filter']} s")
    server_side(db_path, pages + [f"{page}:{tab}" for page in pages
                                  for tab in TABS.get(page, [])],
                args.timeout)
    if args.browser:
        browser(db_path, pages, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
