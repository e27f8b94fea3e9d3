"""Benchmark: simultaneous browser sessions through nginx, 1 and 2 replicas.

  python bench/serve.py [--scale 10] [--sessions 1,4,8] [--replicas 1,2]
                        [--rounds 2]

Builds the sample at --scale once (bench/out/sample-<scale>.duckdb), then
for each replica count starts `python -m changeboard.serve serve` (the app
processes behind Debian's nginx, as `make serve` does) and, for each number
of sessions, opens that many Chromium contexts (their route cookies spread
evenly over the replicas) on the Overview. Every session then pages through
Changes, Releases, Environments, CAB pack, Data and Overview --rounds times,
all sessions clicking the same page at once; a page's time runs from the
click until its title shows, its script has ended and no element is still
loading. Reported: p50 and p95 page time, and each as a ratio to one
session's on the same replicas.

Issue 14, measured once (2026-12-01) on the 2-core development machine
while two other engineers' work ran on it (load average 9-27 throughout, so
the absolute times are inflated), sample at scale 10, 2 rounds:

  replicas sessions  pages   p50 s   p95 s  p50 x  p95 x errors
         1        1     12    1.91    5.14   1.00   1.00      0
         1        4     48    8.11   16.81   4.25   3.27      0
         1        8     96   14.25   34.95   7.47   6.79      0
         2        1     12    2.28    4.59   1.00   1.00      0
         2        4     48    6.38   12.83   2.80   2.79      0
         2        8     96   11.61   30.90   5.09   6.73      0

One replica's page time grows about linearly with simultaneous sessions
(one Python process); a second replica cuts the 4- and 8-session p50 by
21-34 %. Two cores shared by chromium (8 tabs), nginx and the replicas cap
what more replicas can give here: on a server, give each replica a core.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from changeboard import serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TOUR = ["Changes", "Releases", "Environments", "CAB pack", "Data", "Overview"]
SETTLED = """(title) => {
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    const app = document.querySelector('[data-testid="stApp"]');
    return h1 && h1.innerText.trim() === title && app &&
        app.dataset.testScriptState === 'notRunning' &&
        !document.querySelector('[data-testid^="stSkeleton"]');
}"""


def _free_port(after: int = 0) -> int:
    for port in range(max(after, 20000), 60000):
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def sample(scale: float) -> Path:
    path = ROOT / "bench" / "out" / f"sample-{scale:g}.duckdb"
    if not path.exists():
        import ingest
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        ingest.build_sample(path, seed=7, scale=scale)
        print(f"built {path.name} in {time.perf_counter() - started:.0f} s",
              flush=True)
    return path


class Team:
    """`changeboard.serve serve` with some replicas, stopped on exit."""

    def __init__(self, db: Path, replicas: int):
        self.run_dir = Path(tempfile.mkdtemp(prefix="bench-serve-"))
        self.port = _free_port()
        first = _free_port(self.port + 1)
        while _free_port(first) != first or any(
                _free_port(first + i) != first + i for i in range(replicas)):
            first = _free_port(first + 1)
        self.replicas = {f"127.0.0.1:{first + i}" for i in range(replicas)}
        env = {**os.environ, "CHANGEBOARD_DB": str(db),
               "XDG_RUNTIME_DIR": str(self.run_dir)}
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "changeboard.serve", "serve", "--listen",
             f"127.0.0.1:{self.port}", "--replicas", str(replicas),
             "--first-port", str(first)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/_stcore/health",
                                       timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("serve did not start") from None
                time.sleep(0.5)
        self.access = next(self.run_dir.glob("changeboard/nginx-*/access.log"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=60)


async def _page_time(page, title: str, timeout: float) -> float:
    started = time.perf_counter()
    await page.get_by_test_id("stSidebarNav").get_by_role(
        "link", name=title, exact=True).click()
    await page.wait_for_function(SETTLED, arg=title, timeout=timeout * 1000)
    return time.perf_counter() - started


async def measure(team: Team, sessions: int, rounds: int,
                  timeout: float) -> tuple[list[float], int]:
    from playwright.async_api import async_playwright

    per = -(-sessions // len(team.replicas))
    chosen = serve.pinned_routes(team.url, team.access, team.replicas, per)
    # `per` routes to each replica in turn: interleave, so that 1, 4 and 8
    # sessions spread evenly over the replicas
    groups = [chosen[i * per:(i + 1) * per] for i in range(len(team.replicas))]
    routes = [r for group in zip(*groups, strict=True) for r in group]
    routes = routes[:sessions]
    times: list[float] = []
    errors = 0
    async with async_playwright() as play:
        browser = await play.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-sync"])
        pages = []
        for route in routes:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 800})
            await context.add_cookies([{"name": "changeboard_route",
                                        "value": route, "url": team.url}])
            pages.append(await context.new_page())
        await asyncio.gather(*(p.goto(team.url) for p in pages))
        await asyncio.gather(*(p.wait_for_function(
            SETTLED, arg="Overview", timeout=timeout * 1000) for p in pages))
        for _ in range(rounds):
            for title in TOUR:
                times += await asyncio.gather(
                    *(_page_time(p, title, timeout) for p in pages))
        for page in pages:
            errors += await page.get_by_test_id("stException").count()
        await browser.close()
    return times, errors


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] \
        if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--sessions", default="1,4,8")
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    db = sample(args.scale)
    rows = []
    print(f"{'replicas':>8} {'sessions':>8} {'pages':>6} {'p50 s':>7} "
          f"{'p95 s':>7} {'p50 x':>6} {'p95 x':>6} {'errors':>6}",
          flush=True)
    for replicas in map(int, args.replicas.split(",")):
        team = Team(db, replicas)
        try:
            one = None
            for sessions in map(int, args.sessions.split(",")):
                times, errors = asyncio.run(
                    measure(team, sessions, args.rounds, args.timeout))
                p50, p95 = _p(times, 50), _p(times, 95)
                if one is None:
                    one = (p50, p95)
                rows.append((replicas, sessions, len(times), p50, p95,
                             p50 / one[0], p95 / one[1], errors))
                print(f"{replicas:>8} {sessions:>8} {len(times):>6} "
                      f"{p50:>7.2f} {p95:>7.2f} {p50 / one[0]:>6.2f} "
                      f"{p95 / one[1]:>6.2f} {errors:>6}", flush=True)
        finally:
            team.stop()
    return 1 if any(r[-1] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
