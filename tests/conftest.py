"""Shared fixtures: an in-memory canonical database, a row loader, the
sample database and the browser."""
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from changeboard import db

# peer projects' test data, copied with their licences (README.md there)
PEERS = Path(__file__).resolve().parent / "fixtures" / "peers"


@pytest.fixture(scope="session")
def _schema_file(tmp_path_factory):
    """A database file holding only the schema and macros, made once."""
    path = tmp_path_factory.mktemp("schema") / "schema.duckdb"
    db.connect(path).close()
    return path


@pytest.fixture
def con(_schema_file):
    """An empty in-memory canonical database, as db.connect() makes it.

    Creating the macros takes db.connect() about 0.3 s and some 350 tests
    take this fixture, so it copies them from a file made once instead
    (about 0.06 s); migrate() then finds the schema and macros current."""
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")
    connection.execute("attach $p as schema_file (read_only)",
                       {"p": str(_schema_file)})
    connection.execute("copy from database schema_file to memory")
    connection.execute("detach schema_file")
    db.migrate(connection)
    assert connection.execute("select sha256 from macro_set").fetchall() \
        == [(db.macros_sha256(),)]
    yield connection
    connection.close()


@pytest.fixture
def given(con):
    """given(table, rows): insert dicts into a canonical table; other columns NULL."""
    def insert(table: str, rows: list[dict]) -> None:
        frame = pd.DataFrame(rows)
        con.register("given_rows", frame)
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        # table and column names come from the test itself, not from input
        con.execute(f"insert into {table} ({columns}) "  # noqa: S608
                    f"select {columns} from given_rows")
        con.unregister("given_rows")
    return insert


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory):
    """A published database built from the sample generator at a small scale."""
    from sample_data import database

    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    database.publish(path, seed=11, scale=0.1)
    return path


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
