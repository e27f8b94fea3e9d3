"""Replicas behind nginx (issue 14): `python -m changeboard.serve serve`
(make serve) starts 2 app processes on loopback ports and Debian's nginx in
front; 8 browser sessions page through the app while a load publishes."""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from changeboard import serve
from tests.test_browser import _free_port
from tests.test_team_service import _start, _stop

ROOT = Path(__file__).resolve().parents[1]
NGINX = "/usr/sbin/nginx"
SESSIONS = 8
NEW = (b"change_id,change_type,state,created_at,title\n"
       b"REPLICA-1,normal,closed,2024-03-12T15:15:00Z,published mid-run\n")
SAMPLE = "You are looking at generated sample data"
MIXED = "Part of this data is generated sample data"
pytestmark = pytest.mark.browser


def _two_free_ports() -> int:
    """Two adjacent ports nothing holds (the replicas' first and second)."""
    first = _free_port()
    while (second := _free_port()) != first + 1:
        first = second
    return first


@pytest.fixture(scope="module")
def team(sample_db, tmp_path_factory):
    if not os.access(NGINX, os.X_OK):
        pytest.fail(f"{NGINX} missing: `make test` installs Debian's nginx")
    tmp = tmp_path_factory.mktemp("replicas")
    database = tmp / "cb.duckdb"
    shutil.copyfile(sample_db, database)
    port, first = _free_port(), _two_free_ports()
    (tmp / "run").mkdir(mode=0o700)
    env = {**os.environ, "CHANGEBOARD_DB": str(database),
           "XDG_RUNTIME_DIR": str(tmp / "run")}
    for name in [k for k in env if k.startswith("CHANGEBOARD_OIDC_")]:
        env.pop(name)
    url = f"http://127.0.0.1:{port}"
    proc = _start([sys.executable, "-m", "changeboard.serve", "serve",
                   "--listen", f"127.0.0.1:{port}", "--replicas", "2",
                   "--first-port", str(first)],
                  env=env, log=tmp / "serve.log",
                  health=f"{url}/_stcore/health")
    access = next((tmp / "run" / "changeboard").glob("nginx-*/access.log"))
    yield {"url": url, "db": database, "access": access, "tmp": tmp,
           "replicas": {f"127.0.0.1:{first}", f"127.0.0.1:{first + 1}"}}
    _stop(proc)
    assert not list((tmp / "run" / "changeboard").glob("nginx-*")), \
        "serve left its nginx directory behind"


def _go(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role(
        "link", name=title, exact=True).click()


def _settled_on(page, title: str) -> None:
    page.wait_for_function(
        """(title) => {
            const h1 = document.querySelector('[data-testid="stMain"] h1');
            const app = document.querySelector('[data-testid="stApp"]');
            return h1 && h1.innerText.trim() === title && app &&
                app.dataset.testScriptState === 'notRunning' &&
                !document.querySelector('[data-testid^="stSkeleton"]');
        }""", arg=title, timeout=120_000)


def test_eight_sessions_page_through_two_replicas_while_a_load_publishes(
        team, browser):
    routes = serve.pinned_routes(team["url"], team["access"],
                                 team["replicas"], SESSIONS // 2)
    failed: list[str] = []
    # the sessions open on the Data page (about half the Overview's work
    # in the browser, 8 times over); Streamlit's frontend opened at /data
    # first asks for its endpoints under /data, as if the app were served
    # there: those two 404s are its own, before it asks at the root
    probes = {f"{team['url']}/data/_stcore/{name}"
              for name in ("health", "host-config")}
    pages = []
    for route in routes:
        context = browser.new_context(
            viewport={"width": 1280, "height": 800})
        context.add_cookies([{"name": "changeboard_route", "value": route,
                              "url": team["url"]}])
        page = context.new_page()
        page.on("requestfailed", lambda r: failed.append(
            f"failed {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and
                r.url not in probes and failed.append(f"{r.status} {r.url}"))
        page.on("websocket", lambda ws: ws.on(
            "socketerror", lambda e: failed.append(f"websocket {e}")))
        pages.append(page)
    for page in pages:  # every session opens at once
        page.goto(f"{team['url']}/data", wait_until="commit")
    for page in pages:
        _settled_on(page, "Data")
        assert SAMPLE in page.inner_text("body")
    started = time.monotonic()
    load = subprocess.Popen(
        [sys.executable, "-m", "ingest", "csv", str(_new_file(team)),
         "--keep-sample", "--db", str(team["db"])], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for title in ("Data", "CAB pack"):  # while it publishes
        for page in pages:
            _go(page, title)
        for page in pages:
            _settled_on(page, title)
            assert page.get_by_test_id("stException").count() == 0
    output = load.communicate(timeout=120)[0].decode()
    assert load.returncode == 0, output
    published = time.monotonic() - started
    for page in pages:  # the next rerun of every session
        _go(page, "Data")
    for page in pages:
        _settled_on(page, "Data")
        text = page.inner_text("body")
        assert MIXED in text and SAMPLE not in text
        assert page.get_by_test_id("stException").count() == 0
    for page in pages:
        page.context.close()
    assert failed == []
    served = {to for route, to in serve.served_routes(team["access"]).items()
              if route in routes}
    assert served == team["replicas"]
    # the WebSockets went through nginx to both replicas
    streams = [line for line in team["access"].read_text().splitlines()
               if "/_stcore/stream" in line]
    assert {re.search(r" (127\.0\.0\.1:\d+) ", line).group(1)
            for line in streams} == team["replicas"]
    # both replicas run on jemalloc (make jemalloc), as each says at start
    said = (team["tmp"] / "serve.log").read_text()
    assert said.count("changeboard: memory allocator: jemalloc\n") == 2
    print(f"load published {published:.1f} s after the sessions settled")


def _new_file(team) -> Path:
    path = team["tmp"] / "changes.csv"
    path.write_bytes(NEW)
    return path
