"""Shared fixtures: an in-memory canonical database, a row loader, the
sample database and the browser."""
import functools
import os
from pathlib import Path

import pytest

from changeboard import db
from tests.rows import insert_rows

# peer projects' test data, copied with their licences (README.md there)
PEERS = Path(__file__).resolve().parent / "fixtures" / "peers"


def pytest_configure(config):
    """`make test` runs pytest on the app's allocator (jemalloc preloaded,
    as changeboard.serve starts the app: its queries plan faster); the
    processes a test starts (a server, which changeboard.serve preloads it
    in again, the CLI, Chromium) get environments as they would outside
    the tests, without it. The xdist controller keeps it for its workers."""
    from changeboard import serve

    if getattr(config, "workerinput", None) is None and \
            config.getoption("numprocesses", None):
        return  # the controller: its workers inherit it
    library = serve.allocator()
    preload = os.environ.get("LD_PRELOAD", "").replace(":", " ").split()
    if library in preload:
        config.preloaded = library  # this process was started on it
        kept = [p for p in preload if p != library]
        if kept:
            os.environ["LD_PRELOAD"] = " ".join(kept)
        else:
            del os.environ["LD_PRELOAD"]


@pytest.fixture
def con():
    """An empty in-memory canonical database (its schema and macros copied
    from the process's template: db._schema_template)."""
    connection = db.connect()
    yield connection
    connection.close()


@pytest.fixture
def given(con):
    """given(table, rows): insert dicts into a canonical table; other columns NULL."""
    return functools.partial(insert_rows, con)


@pytest.fixture(autouse=True)
def _views_of_a_tests_own_files_end_with_it(request):
    """After a test, drop the app's shared read-only views (db.reading) of
    the databases in its tmp_path: each holds a DuckDB instance and its
    cache until the process ends, some 10 MB each, and a worker running
    hundreds of such tests grew past 1 GB (which a child it spawns then
    inherits as its peak: test_data_page's bound on an upload child)."""
    own = request.getfixturevalue("tmp_path") \
        if "tmp_path" in request.fixturenames else None
    yield
    if own is not None:
        db.forget_readers(under=own)


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory):
    """A published database built from the sample generator at a small scale."""
    from sample_data import database

    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    database.publish(path, seed=11, scale=0.1)
    return path


def _scan_components_once() -> None:
    """Streamlit's AppTest scans every installed distribution for component
    manifests each time one is made (~70 ms, a tenth of a small page test);
    the installed packages do not change while the suite runs."""
    from streamlit.components.v2 import manifest_scanner
    manifest_scanner.scan_component_manifests = functools.cache(
        manifest_scanner.scan_component_manifests)


_scan_components_once()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, one per test module (each test opens contexts)."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium")
    with sync_playwright() as play:
        browser = play.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


# The longest test files run first: xdist hands tests to its workers in
# collection order, so a long file collected last (test_replicas, 80-100 s)
# would run alone at the end while the other worker idles.
SLOW_FIRST = ("test_replicas.py", "test_scale.py", "test_team_service.py",
              "test_serving.py", "test_browser.py",
              "test_environment_metrics.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


def capped_inserts(monkeypatch) -> list:
    """Record whether each direct insert (ingest.checks.insert_passed) ran
    capped, calling through: the list of its `capped` arguments."""
    from ingest import checks
    capped: list = []
    real = checks.insert_passed

    def recorded(*args, **kwargs):
        capped.append(kwargs.get("capped"))
        return real(*args, **kwargs)

    monkeypatch.setattr(checks, "insert_passed", recorded)
    return capped
