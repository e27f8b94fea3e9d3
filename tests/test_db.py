"""The canonical schema, the query runner and publishing."""
import duckdb
import pandas as pd
import pytest

from changeboard import db


def test_schema_creation_is_idempotent(tmp_path):
    path = tmp_path / "cb.duckdb"
    with db.connect(path) as con:
        con.execute("insert into applications (application_id, name) "
                    "values ('A1', 'Payments')")
    with db.connect(path) as con:
        db.migrate(con)
        assert con.execute("select count(*) from applications").fetchone() == (1,)
        assert con.execute("select version from schema_version").fetchall() == [
            (db.SCHEMA_VERSION,)]


_CATALOG = {
    "tables": "select table_name, sql from duckdb_tables() "
              "where database_name = current_database()",
    "views": "select view_name, sql from duckdb_views() "
             "where database_name = current_database() and not internal",
    "constraints": "select table_name, constraint_type, constraint_text "
                   "from duckdb_constraints() "
                   "where database_name = current_database()",
    "indexes": "select index_name, sql from duckdb_indexes() "
               "where database_name = current_database()",
    "functions": "select function_name, function_type, parameters, "
                 "macro_definition from duckdb_functions() "
                 "where database_name = current_database()",
    "derived_set": "select name, sql, reads from derived_set order by rowid",
    "macro_set": "select * from macro_set",
    "schema_version": "select version from schema_version",
}


def _catalog(con) -> dict:
    """The database's own objects; a macro's EXCLUDE list read as a set
    (a copied macro may list the same columns in another order)."""
    import re

    def excludes(text):
        return re.sub(r"EXCLUDE \(([^)]*)\)", lambda m: "EXCLUDE (" + ", ".join(
            sorted(m.group(1).split(", "))) + ")", text)

    found = {}
    for name, sql in _CATALOG.items():
        rows = con.execute(sql).fetchall()
        found[name] = sorted(tuple(excludes(v) if isinstance(v, str) else
                                   repr(v) for v in row) for row in rows)
    return found


def test_a_new_file_is_made_from_a_copy_of_the_schema_and_macros(tmp_path):
    """From a process's second new database on, connect() fills a new file
    (or an in-memory database) from a copy made once (db._schema_template)
    instead of creating the macros again: it holds exactly what creating
    them in it directly gives."""
    with duckdb.connect(str(tmp_path / "direct.duckdb")) as direct:
        direct.execute("set TimeZone = 'UTC'")
        db.migrate(direct)
        expected = _catalog(direct)
    assert len(expected["functions"]) > 50 and expected["derived_set"]
    for name in ("first.duckdb", "second.duckdb", ":memory:"):
        with db.connect(name if name == ":memory:" else tmp_path / name) \
                as con:
            assert _catalog(con) == expected
            assert con.execute(
                "select max(applied_at) > now() - interval 1 minute "
                "from schema_version").fetchone() == (True,)
    # the second and third were copies
    assert db._templates[db.macros_sha256()].exists()


def test_every_data_model_table_exists(con):
    tables = {row[0] for row in con.execute(
        "select table_name from information_schema.tables").fetchall()}
    assert {
        "applications", "environments", "blackout_windows", "releases",
        "release_phases", "changes", "deployments", "environment_bookings",
        "incidents", "ingest_batches", "ingest_rejects",
    } <= tables


def test_codes_outside_their_list_are_refused(con):
    with pytest.raises(duckdb.ConstraintException):
        con.execute("insert into changes (change_id, change_type, state, "
                    "created_at) values ('C1', 'urgent', 'new', now())")


def test_instants_are_stored_as_utc(con, given):
    given("changes", [{"change_id": "C1", "change_type": "normal",
                       "state": "new", "created_at": "2024-03-31 02:30+02:00"}])
    assert con.execute("select strftime(created_at, '%Y-%m-%d %H:%M') "
                       "from changes").fetchone() == ("2024-03-31 00:30",)


def test_an_older_database_is_migrated(tmp_path, monkeypatch):
    path = tmp_path / "cb.duckdb"
    with db.connect(path):
        pass
    monkeypatch.setattr(db, "SCHEMA_VERSION", db.SCHEMA_VERSION + 1)
    monkeypatch.setitem(db.MIGRATIONS, db.SCHEMA_VERSION,
                        "alter table changes add column if not exists x_note varchar")
    with db.connect(path) as con:
        assert con.execute("select max(version) from schema_version").fetchone() == (
            db.SCHEMA_VERSION,)
        assert "x_note" in {r[0] for r in con.execute("describe changes").fetchall()}


def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "cb.duckdb"
    with db.connect(path) as con:
        con.execute("insert into schema_version (version) values (99)")
    with pytest.raises(RuntimeError, match="newer"):
        db.connect(path)


def test_runner_binds_values_never_formats_them(con, given):
    given("changes", [{"change_id": "C1", "change_type": "normal",
                       "state": "closed", "close_code": "successful",
                       "assignment_group": "Ops",
                       "created_at": "2024-01-01 00:00Z", "closed_at": "2024-01-02 00:00Z"}])
    hostile = "Ops'); drop table changes; --"
    rows = db.run(con, "change_success_rate", start_date="2024-01-01",
                  end_date="2024-02-01", teams=[hostile])
    assert rows.loc[0, "n"] == 0
    rows = db.run(con, "change_success_rate", start_date="2024-01-01",
                  end_date="2024-02-01", teams="Ops")
    assert rows.loc[0, "n"] == 1


def test_list_parameters_take_lists_or_comma_text(con, given):
    given("changes", [
        {"change_id": f"C{i}", "change_type": kind, "state": "closed",
         "close_code": "successful", "created_at": "2024-01-01 00:00Z",
         "actual_end_at": "2024-01-02 00:00Z"}
        for i, kind in enumerate(["standard", "normal", "emergency"])])
    as_list = db.run(con, "emergency_change_ratio", start_date="2024-01-01",
                     end_date="2024-02-01", change_types=["normal", "emergency"])
    as_text = db.run(con, "emergency_change_ratio", start_date="2024-01-01",
                     end_date="2024-02-01", change_types="normal,emergency")
    assert as_list.to_dict() == as_text.to_dict()
    assert as_list.loc[0, "n"] == 2


def test_unknown_query_is_refused():
    with pytest.raises(db.QueryError, match="unknown query 'nope'"):
        db.query_path("nope")
    with pytest.raises(db.QueryError, match="unknown query"):
        db.query_path("../changeboard/schema")


@pytest.mark.parametrize("typed, meant", [
    ("change_sucess_rate", "change_success_rate"),  # a letter dropped
    ("change_success_rates", "change_success_rate"),  # a plural
    ("dora", "dora_summary"),  # the start of one name alone
])
def test_a_mistyped_query_name_suggests_the_one_meant(typed, meant):
    with pytest.raises(db.QueryError) as refused:
        db.query_path(typed)
    assert str(refused.value) == (f"unknown query {typed!r}: did you mean "
                                  f"{meant}?")


def test_a_name_near_none_lists_every_query():
    with pytest.raises(db.QueryError) as refused:
        db.query_path("release")  # the start of many names
    assert str(refused.value).startswith("unknown query 'release' (known: ")
    assert all(name in str(refused.value) for name in db.names())


def test_missing_and_extra_parameters_are_refused(con):
    with pytest.raises(db.QueryError, match="needs parameter end_date"):
        db.run(con, "change_success_rate", start_date="2024-01-01")
    with pytest.raises(db.QueryError, match="has no parameter colour"):
        db.run(con, "change_success_rate", start_date="2024-01-01",
               end_date="2024-02-01", colour="red")
    # a near name: the parameter meant, before the ones it takes
    with pytest.raises(db.QueryError, match=r"has no parameter team; did "
                       r"you mean teams\? \(it takes: start_date, "):
        db.run(con, "change_success_rate", start_date="2024-01-01",
               end_date="2024-02-01", team=["Dev"])


def test_every_query_declares_exactly_the_parameters_it_uses():
    import re
    for name in db.names():
        text = db.query_path(name).read_text()
        body = "\n".join(line for line in text.splitlines()
                         if not line.lstrip().startswith("--"))
        used = set(re.findall(r"\$(\w+)", body))
        assert used == set(db.params(name)), name
        assert db.header(name), f"{name} has no header sentence"


def test_a_failed_publish_leaves_the_published_file_as_it_was(tmp_path):
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("insert into applications (application_id, name) "
                    "values ('A1', 'Payments')")
    before = db.version(path)
    with pytest.raises(RuntimeError), db.publish(path) as con:
        con.execute("delete from applications")
        raise RuntimeError("load failed half-way")
    assert db.version(path) == before
    with db.connect(path, read_only=True) as con:
        assert con.execute("select count(*) from applications").fetchone() == (1,)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cb.duckdb", "cb.duckdb.lock"]


def test_a_reader_keeps_its_snapshot_while_a_new_file_is_published(tmp_path):
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("insert into applications values ('A1', 'One', null, null, "
                    "null, 'csv', 1)")
    reader = db.connect(path, read_only=True)
    with db.publish(path) as con:
        con.execute("insert into applications values ('A2', 'Two', null, null, "
                    "null, 'csv', 2)")
    assert reader.execute("select count(*) from applications").fetchone() == (1,)
    reader.close()
    with db.connect(path, read_only=True) as fresh:
        assert fresh.execute("select count(*) from applications").fetchone() == (2,)


def test_forgetting_the_views_of_a_folder_keeps_the_others(tmp_path):
    """A test's own databases' shared views end with it (conftest), each a
    DuckDB instance and its cache; the views of other files stay open."""
    paths = [tmp_path / folder / "cb.duckdb" for folder in ("mine", "other")]
    for path in paths:
        path.parent.mkdir()
        with db.publish(path):
            pass
        with db.reading(path) as cursor:
            assert cursor.execute("select 1").fetchone() == (1,)
    mine, other = (str(p.resolve()) for p in paths)
    assert {mine, other} <= set(db._readers)
    db.forget_readers(under=tmp_path / "mine")
    assert mine not in db._readers and other in db._readers
    kept = db._readers[other][1]
    with db.reading(paths[1]):  # the same view, not opened again
        assert db._readers[other][1] is kept
    with db.reading(paths[0]):  # opened again when read again
        assert mine in db._readers
    db.forget_readers(under=tmp_path)
    assert not {mine, other} & set(db._readers)


def test_reading_a_file_of_an_older_schema_upgrades_it_first(tmp_path, monkeypatch):
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("insert into applications (application_id, name) "
                    "values ('A1', 'Payments')")
    monkeypatch.setattr(db, "SCHEMA_VERSION", db.SCHEMA_VERSION + 1)
    monkeypatch.setitem(db.MIGRATIONS, db.SCHEMA_VERSION,
                        "alter table applications add column x_tag varchar")
    with db.connect(path, read_only=True) as con:
        assert con.execute("select max(version) from schema_version").fetchone() \
            == (db.SCHEMA_VERSION,)
        assert con.execute("select application_id, x_tag from applications"
                           ).fetchall() == [("A1", None)]


# --- file modes and stale files (issue 13, items 11 and 12) -----------------

CHANGES_CSV = (b"change_id,change_type,state,created_at\n"
               b"C1,normal,new,2026-01-01T00:00:00Z\n")


def _load(tmp_path, db_path):
    import ingest
    csv = tmp_path / "changes.csv"
    csv.write_bytes(CHANGES_CSV)
    return ingest.load_path("csv", csv, db_path)


def test_a_load_keeps_the_database_files_mode_and_owner(tmp_path):
    import os
    import stat
    path = tmp_path / "db" / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("select 1")
    # a new database (and its lock) is owner-only
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(f"{path}.lock").st_mode) == 0o600
    os.chmod(path, 0o640)
    if os.geteuid() == 0:   # as root: another owner is kept too
        os.chown(path, 4321, 4322)
    assert _load(tmp_path, path).status == "succeeded"
    after = os.stat(path)
    assert stat.S_IMODE(after.st_mode) == 0o640
    if os.geteuid() == 0:
        assert (after.st_uid, after.st_gid) == (4321, 4322)
    os.chmod(path, 0o600)
    assert _load(tmp_path, path).status in ("succeeded", "unchanged")
    (tmp_path / "changes.csv").write_bytes(CHANGES_CSV.replace(b"new", b"closed"))
    import ingest
    assert ingest.load_path("csv", tmp_path / "changes.csv",
                            path).status == "succeeded"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("in_kernel", [True, False])
def test_a_publish_copies_the_file_owner_only_byte_for_byte(
        sample_db, tmp_path, monkeypatch, in_kernel):
    import os
    import stat
    if not in_kernel:  # a system without sendfile between files (macOS)
        def refused(*args):
            raise OSError(95, "Operation not supported")
        monkeypatch.setattr(os, "sendfile", refused)
    copy = tmp_path / "copy.duckdb"
    mask = os.umask(0o022)  # a umask that lets others read what it makes
    try:
        flushing = db._copy_owner_only(sample_db, copy)
    finally:
        os.umask(mask)
    flushing.join(timeout=60)
    assert not flushing.is_alive()
    assert copy.read_bytes() == sample_db.read_bytes()
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600


def test_a_publish_leaves_no_flushing_thread_or_descriptor(sample_db,
                                                            tmp_path):
    """The copy is written to disk by a thread while the load runs: every
    publish, succeeded or failed, joins it and closes its descriptor."""
    import os
    import shutil
    import threading
    published = tmp_path / "published.duckdb"
    shutil.copyfile(sample_db, published)

    def flushers():
        return [t for t in threading.enumerate()
                if t.name == "changeboard-publish-flush"]

    fds = len(os.listdir("/proc/self/fd"))
    with db.publish(published) as con:
        con.execute("insert into applications (application_id, name) "
                    "values ('APP-FLUSH', 'Flush')")
    with pytest.raises(RuntimeError, match="abandoned"):
        with db.publish(published) as con:
            con.execute("delete from applications")
            raise RuntimeError("abandoned")
    assert flushers() == []
    assert len(os.listdir("/proc/self/fd")) == fds
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from applications where "
                           "application_id = 'APP-FLUSH'").fetchone()[0] == 1
        assert con.execute("select count(*) from applications"
                           ).fetchone()[0] > 1


def test_a_killed_sample_build_leaves_nothing_after_the_next_load(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "cb.duckdb"
    assert _load(tmp_path, path).status == "succeeded"
    build = subprocess.Popen(
        # --replace: the database holds a load of its own
        [sys.executable, "-m", "ingest", "--sample", "--scale", "0.05",
         "--db", str(path), "--replace"],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    # kill it once its working copy is being written
    while time.monotonic() < deadline and not any(
            ".tmp" in p.name and p.stat().st_size > 0
            for p in folder.iterdir() if p.exists()):
        time.sleep(0.02)
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    left = {p.name for p in folder.iterdir()} - {"cb.duckdb", "cb.duckdb.lock"}
    assert any(".sample" in name for name in left), left
    (tmp_path / "changes.csv").write_bytes(CHANGES_CSV.replace(b"new", b"closed"))
    import ingest
    assert ingest.load_path("csv", tmp_path / "changes.csv",
                            path).status == "succeeded"
    # the load kept the file it replaced as a snapshot (issue 17): its
    # folder holds that snapshot and no working file
    assert {p.name for p in folder.iterdir()} == {
        "cb.duckdb", "cb.duckdb.lock", "cb.duckdb.snapshots"}
    assert [p.suffix for p in (folder / "cb.duckdb.snapshots").iterdir()] \
        == [".duckdb"]


def test_a_version_4_database_gains_what_a_cab_reads(tmp_path):
    """Migration 5 adds the changes' description, justification and plans
    to a database written before them; its rows stay."""
    path = tmp_path / "cb.duckdb"
    added = ("description", "justification", "implementation_plan",
             "backout_plan", "test_plan")
    with db.connect(path) as con:
        for column in added:
            con.execute(f"alter table changes drop column {column}")
        con.execute("update schema_version set version = 4")
        con.execute("insert into changes (change_id, change_type, state, "
                    "created_at) values ('C1', 'normal', 'new', now())")
    with db.connect(path) as con:
        columns = {r[0] for r in con.execute("describe changes").fetchall()}
        assert set(added) <= columns
        assert con.execute("select max(version) from schema_version"
                           ).fetchone() == (db.SCHEMA_VERSION,)
        assert con.execute("select change_id, description from changes"
                           ).fetchall() == [("C1", None)]
    assert "if not exists" in db.MIGRATIONS[5]


def _kinds(con) -> dict[str, str]:
    return dict(con.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_name like 'derived%' and table_name <> 'derived_set'"
    ).fetchall())


def test_derived_results_are_tables_when_published_and_follow_every_load(
        tmp_path):
    """Results over all history (a change's incident links, an incident's
    deployment) are stored as tables in a published file, views while it is
    written: each load recomputes them, none is ever stale."""
    path = tmp_path / "cb.duckdb"
    change = {"change_id": "CHG1", "close_code": "successful",
              "actual_end_at": "2026-03-02 10:00:00+00"}

    def success(con):
        return db.run(con, "change_success_rate", start_date="2026-03-01",
                      end_date="2026-03-08").iloc[0]

    with db.publish(path) as con:
        con.execute("insert into changes (change_id, change_type, state, "
                    "created_at, close_code, actual_end_at) values ("
                    "$change_id, 'normal', 'closed', '2026-03-01', "
                    "$close_code, $actual_end_at)", change)
        assert set(_kinds(con).values()) == {"VIEW"}
    with db.connect(path, read_only=True) as con:
        kinds = _kinds(con)
        assert {"derived_change_incident_links", "derived_incident_attribution",
                "derived_deployment_failures"} <= set(kinds)
        assert set(kinds.values()) == {"BASE TABLE"}
        assert (success(con).n, success(con).n_failed) == (1, 0)
    with db.publish(path) as con:
        # while written, the derived objects are views again: this insert
        # shows at once, before the publish
        con.execute("insert into incidents (incident_id, opened_at, "
                    "caused_by_change_id) values ('INC1', "
                    "'2026-03-02 11:00:00+00', 'CHG1')")
        assert success(con).n_failed == 1
    with db.reading(path) as con:
        assert set(_kinds(con).values()) == {"BASE TABLE"}
        assert (success(con).n, success(con).n_failed) == (1, 1)
        assert db.run(con, "incident_deployment_attribution")[
            ["incident_id", "how"]].values.tolist() == [["INC1", "unattributed"]]


def test_other_profiles_and_rules_are_computed_not_read_from_the_table(
        con, given):
    """The stored incident attribution is the default profile's exclusive
    rule; the inclusive rule reads the live tables."""
    given("environments", [{"environment_id": "P", "name": "Prod",
                            "tier": "prod"}])
    given("deployments", [{"deployment_id": "D1", "application_id": "A",
                           "environment_id": "P", "status": "succeeded",
                           "started_at": "2026-03-02 09:00:00+00",
                           "finished_at": "2026-03-02 10:00:00+00"}])
    given("incidents", [{"incident_id": "I1", "application_id": "A",
                         "opened_at": "2026-03-02 10:00:00+00"}])
    db.materialize(con)
    assert _kinds(con)["derived_incident_attribution"] == "BASE TABLE"
    how = {inclusive: db.run(con, "incident_deployment_attribution",
                             attribution_inclusive=inclusive)[
        ["deployment_id", "how"]].values.tolist()
        for inclusive in (False, True)}
    # opened at the deployment's finish: inferred only when inclusive
    assert how == {False: [[None, "unattributed"]],
                   True: [["D1", "inferred"]]}
    db.as_views(con)
    assert set(_kinds(con).values()) == {"VIEW"}


def test_a_version_5_database_gains_who_ran_each_load(tmp_path):
    """Migration 6 adds ingest_batches.loaded_by and api_syncs.run_by to a
    database written before them; its batches stay, with no author."""
    import ingest

    path = tmp_path / "cb.duckdb"
    (tmp_path / "changes.csv").write_text(
        "change_id,change_type,state,created_at\n"
        "C1,normal,new,2024-03-12T15:15:00Z\n")
    assert ingest.load_path("csv", tmp_path / "changes.csv",
                            path).status == "succeeded"
    with db.connect(path) as con:
        con.execute("alter table ingest_batches drop column loaded_by")
        con.execute("alter table api_syncs drop column run_by")
        con.execute("update schema_version set version = 5")
    with db.connect(path, read_only=True) as con:  # reading upgrades it
        assert con.execute("select max(version) from schema_version"
                           ).fetchone() == (db.SCHEMA_VERSION,)
        assert con.execute("select batch_id, loaded_by from ingest_batches"
                           ).fetchall() == [(1, None)]
        assert "run_by" in {r[0] for r in con.execute(
            "describe api_syncs").fetchall()}
        assert db.run(con, "ingest_batches")["loaded_by"].isna().all()


FRAME_TYPES = """
    select
        'x' || i as text, case when i = 1 then null else 'y' end as some_null,
        null::varchar as all_null, i::tinyint as tiny, i::integer as whole,
        case when i = 1 then null else i end as whole_null,
        (i * 1.5)::decimal(10, 2) as exact, sum(i) over () as huge_sum,
        i / 3 as ratio, i > 1 as flag,
        case when i = 1 then null else i > 1 end as flag_null,
        date '2024-03-30' + i::integer as day,
        case when i = 1 then null else date '2024-03-30' end as day_null,
        timestamptz '2024-03-31 00:30:00+00' + i * interval 1 hour as at,
        timestamp '2024-03-31 00:30:00' as naive_at,
        case when i = 1 then null else ['a', 'b'] end as tags,
        [i, i + 1] as numbers
    from range(3) as t(i)
"""


@pytest.mark.parametrize("where", ["", "where whole > 0", "where false"])
def test_a_frame_is_what_duckdb_df_gives(where):
    """db.run builds its frames through Arrow (faster on text): the same
    dtypes and values as .df(), NULLs, dates, decimals, lists and empty
    results included; a type it does not cover takes .df()."""
    con = duckdb.connect()
    con.execute("set timezone = 'Europe/London'")
    for sql, via in ((f"select * from ({FRAME_TYPES}) {where}", None),
                     (f"select *, interval 1 day as span "
                      f"from ({FRAME_TYPES}) {where}", con)):
        # the covered types never need the connection's .df()
        ours = db.frame(via, con.execute(sql).to_arrow_table())
        theirs = con.execute(sql).df()
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
        # lists: the same arrays, a NULL list the same missing value
        for mine, given in zip(ours["tags"], theirs["tags"], strict=True):
            assert type(mine) is type(given)
