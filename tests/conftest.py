"""Shared fixtures: an in-memory canonical database and a row loader."""
from pathlib import Path

import pandas as pd
import pytest

from changeboard import db

# peer projects' test data, copied with their licences (README.md there)
PEERS = Path(__file__).resolve().parent / "fixtures" / "peers"


@pytest.fixture
def con():
    connection = db.connect()
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
