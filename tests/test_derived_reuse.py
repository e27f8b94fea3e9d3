"""A publish recomputes only the derived tables whose inputs it changed
(issue 12): the others are put back as they were. Whatever a load does,
every derived table afterwards equals its view computed afresh."""
import shutil

import pytest

import ingest
from changeboard import db


@pytest.fixture
def published(sample_db, tmp_path):
    path = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, path)
    with db.publish(path):  # a publish of this code: derived tables in place
        pass
    return path


def _rows(con, name):
    return sorted(con.execute(f"select * from {name}").fetchall(), key=repr)


def fresh_check(path, tmp_path) -> dict[str, frozenset[str]]:
    """Assert every derived table of the published file equals its view on
    the same data; return what each view reads."""
    with db.connect(path, read_only=True) as con:
        names = [n for n, in con.execute(
            "select name from derived_set order by rowid").fetchall()]
        stored = {n: _rows(con, n) for n in names}
    copy = tmp_path / "fresh.duckdb"
    shutil.copyfile(path, copy)
    with db.connect(copy) as con:  # writable: every derived object a view
        for name in names:
            assert _rows(con, name) == stored[name], name
        return {n: db.reads(con, n) for n in names}


BATCH = "(select coalesce(max(batch_id), 0) + 1 from ingest_batches)"


@pytest.mark.parametrize("change", [
    # (what a load does, the one table it changes); every derived result
    # reads deployments
    (f"insert into changes (change_id, change_type, state, created_at, "
     f"title, ingested_batch_id) select 'NEW-1', 'normal', 'new', now(), "
     f"'new', {BATCH}", "changes"),
    (f"update incidents set priority = 1, ingested_batch_id = {BATCH} "
     "where incident_id in (select incident_id from incidents limit 5)",
     "incidents"),
    ("delete from deployments where deployment_id in (select deployment_id "
     "from deployments order by deployment_id limit 20)", "deployments"),
    # the booking segments: new bookings, and calendars that change (their
    # stored calendar time follows the environment's availability and zone)
    (f"update environment_bookings set end_at = end_at + interval 3 hour, "
     f"ingested_batch_id = {BATCH} where booking_id in (select booking_id "
     "from environment_bookings order by booking_id limit 30)",
     "environment_bookings"),
    (f"update environments set availability = 'business_hours', timezone = "
     f"'Asia/Tokyo', ingested_batch_id = {BATCH} where environment_id in "
     "(select environment_id from environments order by environment_id "
     "limit 10)", "environments"),
])
def test_a_load_recomputes_what_reads_what_it_changed(published, tmp_path,
                                                      change):
    sql, table = change
    with db.publish(published) as con:
        con.execute(sql)
    recomputed = set(db.MATERIALIZED)
    reads = fresh_check(published, tmp_path)
    assert recomputed == {n for n, read in reads.items() if table in read}
    if table != "deployments":  # some were put back as they were
        assert recomputed < set(reads)


def test_a_publish_that_changes_no_table_computes_nothing(published,
                                                          tmp_path):
    with db.publish(published):
        pass
    assert db.MATERIALIZED == []
    fresh_check(published, tmp_path)


def test_emptying_a_table_and_a_real_load_leave_every_result_fresh(
        published, tmp_path):
    with db.publish(published) as con:
        con.execute("delete from incidents")
    assert "derived_incident_attribution" in db.MATERIALIZED
    fresh_check(published, tmp_path)
    csv = tmp_path / "changes.csv"
    csv.write_text("change_id,change_type,state,created_at,title\n"
                   "REUSE-1,normal,closed,2024-03-12T15:15:00Z,one more\n")
    ingest.load_path("csv", csv, published, replace_sample=False)
    assert db.MATERIALIZED and "derived_incident_attribution" not in \
        db.MATERIALIZED
    fresh_check(published, tmp_path)


OUTCOMES = "derived_change_outcomes"
RECOVERIES = "derived_failed_change_recoveries"
UNPLANNED = "derived_cab_unplanned_changes"
OPEN = "derived_open_changes"


def _recoveries(path):
    with db.connect(path, read_only=True) as con:
        return {r[0]: r for r in con.execute(
            f"select * from {RECOVERIES}").fetchall()}


def test_a_load_of_changes_recomputes_the_recoveries_of_its_changes_alone(
        published, tmp_path):
    """The recoveries (and the outcomes, the CAB's unplanned changes and
    the open changes) of changes a load wrote are computed afresh, the others kept, those of deleted changes
    dropped: each table then equals its view over all changes
    (db.ROWWISE)."""
    before = _recoveries(published)
    with db.publish(published) as con:
        batch = con.execute(f"select {BATCH}").fetchone()[0]
        # newly failed by their close code, gone live in production (their
        # recovery starts at that deployment, looked up for them alone)
        failing = [c for c, in con.execute(
            "select change_id from changes where close_code = 'successful' "
            f"and change_id not in (select change_id from {RECOVERIES}) "
            "and change_id in (select d.change_id from deployments as d "
            "join environments as e on d.environment_id = e.environment_id "
            "where e.tier = 'prod' and d.status = 'succeeded') "
            "order by change_id limit 3").fetchall()]
        con.execute("update changes set close_code = 'unsuccessful', "
                    "ingested_batch_id = $b where list_contains($ids, "
                    "change_id)", {"b": batch, "ids": failing})
        # failed by their close code alone, now successful: no longer failed
        # (inside a publish the derived tables are views, reading the
        # update above)
        mended = [c for c, in con.execute(
            f"select change_id from {RECOVERIES} where is_failed_by_close_code"
            " and not is_failed_by_incident and not is_failed_by_rollback "
            "and not list_contains($ids, change_id) order by change_id "
            "limit 2", {"ids": failing}).fetchall()]
        con.execute("update changes set close_code = 'successful', "
                    "ingested_batch_id = $b where list_contains($ids, "
                    "change_id)", {"b": batch, "ids": mended})
        gone = [c for c, in con.execute(
            f"select change_id from {RECOVERIES} where not list_contains("
            "$ids, change_id) order by change_id limit 2",
            {"ids": mended + failing}).fetchall()]
        con.execute("delete from changes where list_contains($ids, "
                    "change_id)", {"ids": gone})
        # open, its plan dropped: one of the CAB's unplanned changes now
        unplanned = con.execute(
            "select change_id from changes where state not in ('closed', "
            "'cancelled') and planned_end_at >= planned_start_at "
            "order by change_id limit 1").fetchone()[0]
        con.execute("update changes set planned_end_at = null, "
                    "ingested_batch_id = $b where change_id = $c",
                    {"b": batch, "c": unplanned})
        # closed: out of the open changes (the backlog)
        closed = con.execute(
            "select change_id from changes where state = 'implement' "
            "and change_id <> $c order by change_id limit 1",
            {"c": unplanned}).fetchone()[0]
        con.execute("update changes set state = 'closed', "
                    "ingested_batch_id = $b where change_id = $c",
                    {"b": batch, "c": closed})
    assert db.MATERIALIZED_ROWWISE == [OUTCOMES, RECOVERIES, UNPLANNED, OPEN]
    with db.connect(published, read_only=True) as con:
        assert con.execute(f"select count(*) from {UNPLANNED} where "
                           "change_id = $c", {"c": unplanned}).fetchone()[0]
        open_now = {c for c, in con.execute(
            f"select change_id from {OPEN} where list_contains($ids, "
            "change_id)", {"ids": [unplanned, closed]}).fetchall()}
        outcomes = dict(con.execute(
            f"select change_id, close_code from {OUTCOMES} where "
            "list_contains($ids, change_id)",
            {"ids": failing + mended + gone}).fetchall())
    # the rows of the changes written carry their new close codes; those of
    # deleted changes are gone
    assert outcomes == {**dict.fromkeys(failing, "unsuccessful"),
                        **dict.fromkeys(mended, "successful")}
    assert open_now == {unplanned}
    after = _recoveries(published)
    assert len(failing) == 3 and len(mended) == 2 and len(gone) == 2
    assert set(failing) <= set(after) and not set(failing) & set(before)
    assert not (set(mended) | set(gone)) & set(after)
    assert set(mended) | set(gone) <= set(before)
    kept = set(before) - set(mended) - set(gone)
    assert {c: after[c] for c in kept} == {c: before[c] for c in kept}
    fresh_check(published, tmp_path)


def test_a_load_changing_another_table_read_recomputes_all_recoveries(
        published, tmp_path):
    with db.publish(published) as con:
        batch = con.execute(f"select {BATCH}").fetchone()[0]
        con.execute("update changes set close_code = 'backed_out', "
                    "ingested_batch_id = $b where change_id in (select "
                    "change_id from changes order by change_id limit 2)",
                    {"b": batch})
        con.execute("update incidents set resolved_at = null, "
                    "ingested_batch_id = $b where incident_id in (select "
                    "incident_id from incidents where caused_by_change_id "
                    "is not null order by incident_id limit 3)", {"b": batch})
    # the recoveries and the outcomes read incidents too: all of them; the
    # unplanned and the open changes read the changes alone: the rows of
    # those written
    assert {RECOVERIES, OUTCOMES} <= set(db.MATERIALIZED)
    assert db.MATERIALIZED_ROWWISE == [UNPLANNED, OPEN]
    fresh_check(published, tmp_path)


def test_the_sidebars_status_and_options_are_stored_in_a_published_file(
        published):
    """Every page's sidebar reads data_status and filter_options: in a
    published file each reads a stored table (derived_data_status,
    derived_filter_options), not every table of the data on a page's first
    visit after a load."""
    with db.connect(published, read_only=True) as con:
        kinds = dict(db._derived_objects(con))
        assert kinds["derived_data_status"] == "table"
        assert kinds["derived_filter_options"] == "table"
        assert db.reads(con, "derived_data_status") >= {
            "ingest_batches", "changes", "deployments"}
        assert db.run(con, "data_status").iloc[0]["is_sample"]


def test_a_change_to_the_load_log_alone_recomputes_the_data_status(
        published, tmp_path):
    """ingest_batches has no load marks of its own (its rows are the
    loads): a publish that changes it alone recomputes the status read
    from it, and nothing else."""
    with db.publish(published) as con:
        con.execute("update ingest_batches set loaded_by = 'ops@example.com'"
                    " where loaded_by = 'changeboard:sample'")
    assert db.MATERIALIZED == ["derived_data_status"]
    with db.connect(published, read_only=True) as con:
        status = db.run(con, "data_status").iloc[0]
    assert not status["is_sample"] and status["n_sample_rows"] == 0
    fresh_check(published, tmp_path)


def test_a_load_recomputes_the_data_status_with_its_batch(published,
                                                          tmp_path):
    with db.connect(published, read_only=True) as con:
        before = db.run(con, "data_status").iloc[0]
    csv = tmp_path / "changes.csv"
    csv.write_text("change_id,change_type,state,created_at,title\n"
                   "STATUS-1,normal,new,2024-03-12T15:15:00Z,one more\n")
    ingest.load_path("csv", csv, published, replace_sample=False)
    assert "derived_data_status" in db.MATERIALIZED
    with db.connect(published, read_only=True) as con:
        after = db.run(con, "data_status").iloc[0]
    assert after["n_batches"] == before["n_batches"] + 1
    assert after["n_changes"] == before["n_changes"] + 1
    assert after["as_of"] > before["as_of"]
    assert after["has_own_data"] and not before["has_own_data"]
    fresh_check(published, tmp_path)


DANGLING = "derived_dangling_ids"


def _ghosts(path) -> set[tuple]:
    with db.connect(path, read_only=True) as con:
        return set(con.execute(
            f"select * from {DANGLING} where ref_id like 'GHOST%'").fetchall())


def _dangling(path, table: str, column: str) -> tuple[int, int]:
    with db.connect(path, read_only=True) as con:
        rows = db.run(con, "dangling_references")
    row = rows[(rows.table_name == table) & (rows.column_name == column)]
    return (int(row.n_dangling.sum()), int(row.n_dangling_ids.sum()))


def test_loads_adding_rows_bring_the_dangling_references_up_to_date(
        published, tmp_path):
    """A load that only adds rows brings the dangling references up to
    date from its own rows (db.ADDITIVE): a reference to a row it added is
    found, the references of the rows it wrote are looked up, one missing
    id named again is counted once more; a load writing a row again
    computes them whole. Each time they equal the view over all rows."""
    with db.connect(published, read_only=True) as con:
        app = con.execute("select min(application_id) from applications"
                          ).fetchone()[0]
    releases = _dangling(published, "changes", "release_id")

    def load(kind: str, text: str) -> None:
        csv = tmp_path / f"{kind}.csv"
        csv.write_text(text)
        ingest.load_path("csv", csv, published, replace_sample=False)
        fresh_check(published, tmp_path)

    load("deployments", "deployment_id,application_id,change_id,status,"
         f"started_at\nD-GHOST-1,{app},GHOST-1,succeeded,2024-03-12T15:15:00Z"
         f"\nD-GHOST-2,{app},GHOST-1,failed,2024-03-13T15:15:00Z\n")
    assert db.MATERIALIZED_ADDITIVE == [DANGLING]
    assert _ghosts(published) == {
        ("deployments", "change_id", "changes", "GHOST-1", 2)}
    # the change, in a release not loaded: its deployments' reference is
    # found, its own dangles
    changes = "change_id,change_type,state,created_at,title,release_id\n"
    load("changes", changes + "GHOST-1,normal,new,2024-03-12T15:15:00Z,"
         "one,GHOST-R\n")
    assert db.MATERIALIZED_ADDITIVE == [DANGLING]
    assert _ghosts(published) == {
        ("changes", "release_id", "releases", "GHOST-R", 1)}
    assert _dangling(published, "changes", "release_id") == (
        releases[0] + 1, releases[1] + 1)
    # another change in that release: the same missing id, one more row
    load("changes", changes + "GHOST-2,normal,new,2024-03-12T15:15:00Z,"
         "two,GHOST-R\n")
    assert db.MATERIALIZED_ADDITIVE == [DANGLING]
    assert _ghosts(published) == {
        ("changes", "release_id", "releases", "GHOST-R", 2)}
    assert _dangling(published, "changes", "release_id") == (
        releases[0] + 2, releases[1] + 1)
    # a change written again, out of the release: computed whole
    load("changes", changes + "GHOST-1,normal,new,2024-03-12T15:15:00Z,"
         "one,\n")
    assert DANGLING in db.MATERIALIZED
    assert db.MATERIALIZED_ADDITIVE == []
    assert _ghosts(published) == {
        ("changes", "release_id", "releases", "GHOST-R", 1)}
