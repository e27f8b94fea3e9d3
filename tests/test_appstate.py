"""The application-state store: beside the database, owner-only, survives a
publish, shared safely by several processes."""
import multiprocessing
import os
import stat

import pytest

from changeboard import appstate, db

DDL = "create table if not exists notes (id integer primary key, body text)"


def test_file_sits_beside_the_database_owner_only(tmp_path):
    database = tmp_path / "cb.duckdb"
    with appstate.connect(database, DDL) as con:
        con.execute("insert into notes(body) values ('a')")
    path = tmp_path / "cb.duckdb.app.sqlite"
    assert appstate.path_for(database) == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_error_rolls_back(tmp_path):
    database = tmp_path / "cb.duckdb"
    with pytest.raises(RuntimeError):
        with appstate.connect(database, DDL) as con:
            con.execute("insert into notes(body) values ('lost')")
            raise RuntimeError("boom")
    with appstate.connect(database, DDL) as con:
        assert con.execute("select count(*) from notes").fetchone() == (0,)


def test_survives_a_publish_of_the_database(tmp_path):
    database = tmp_path / "cb.duckdb"
    with db.publish(database) as con:
        con.execute("select 1")
    with appstate.connect(database, DDL) as con:
        con.execute("insert into notes(body) values ('kept')")
    with db.publish(database) as con:
        con.execute("select 1")
    with appstate.connect(database, DDL) as con:
        assert con.execute("select body from notes").fetchall() == [("kept",)]


def _append(database, n):
    for i in range(n):
        with appstate.connect(database, DDL) as con:
            con.execute("insert into notes(body) values (?)", (str(i),))


def test_several_processes_write_without_losing_a_row(tmp_path):
    database = tmp_path / "cb.duckdb"
    with appstate.connect(database, DDL):
        pass
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append, args=(database, 50))
               for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    with appstate.connect(database, DDL) as con:
        assert con.execute("select count(*) from notes").fetchone() == (150,)


def test_a_read_never_waits_for_a_writer(tmp_path, monkeypatch):
    """WAL: a reader (write=False) sees the last commit while another
    connection holds the write lock; a second writer waits and gives up."""
    import sqlite3

    database = tmp_path / "cb.duckdb"
    with appstate.connect(database, DDL) as con:
        con.execute("insert into notes(body) values ('committed')")
    monkeypatch.setattr(appstate, "BUSY_TIMEOUT_S", 0.2)
    with appstate.connect(database, DDL) as writer:
        writer.execute("insert into notes(body) values ('pending')")
        with appstate.connect(database, DDL, write=False) as reader:
            assert reader.execute("select body from notes").fetchall() == [
                ("committed",)]
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            with appstate.connect(database, DDL):
                pass
