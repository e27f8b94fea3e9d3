"""The Data page: renders, previews an upload as a dry run, commits it."""
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db
from tests.bombs import deflate_bomb

ROOT = Path(__file__).resolve().parents[1]
UPLOAD = (b"change_id,change_type,state,created_at,title\n"
          b"UP-1,normal,closed,2024-03-12T15:15:00Z,uploaded\n"
          b"UP-2,urgent,closed,2024-03-12T15:15:00Z,bad code\n")


@pytest.fixture
def app(sample_db, tmp_path, monkeypatch):
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)  # the test commits into it
    monkeypatch.setattr(config, "DB_PATH", copy)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page("views/data.py").run()
    return app


def shown(markdown: str) -> str:
    """What a visitor reads of Markdown whose punctuation is escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def batches(path):
    with db.connect(path, read_only=True) as con:
        return con.execute("select count(*) from ingest_batches").fetchall()[0][0]


def test_data_page_renders_freshness_and_history(app):
    assert not app.exception
    assert [s.value for s in app.header] == [
        "Load a file", "Freshness", "API syncs", "Load history"]
    assert len(app.dataframe) >= 3
    # instants read in UTC to the second, said once in the heading; counts
    # with thousands separators
    import json
    history = next(d for d in app.dataframe if "batch_id" in d.value)
    config = json.loads(history.proto.columns)
    assert config["started_at"]["label"] == "Started at (UTC)"
    assert config["started_at"]["type_config"]["format"] == \
        "DD MMM YYYY HH:mm:ss"  # as every table writes one (ui.TABLE_INSTANT)
    assert config["rows_read"]["type_config"]["format"] == "localized"
    assert "type_config" not in config.get("batch_id", {})  # an id, no 1,234
    # the source as wide as its longest code: sized by its heading, the
    # column cut the sample's "servicenow" to "servicen"
    assert "servicenow" in set(history.value["source"])
    assert config["source"]["label"] == "Source"
    assert config["source"]["width"] >= 24 + 8 * len("servicenow")


def test_the_load_history_names_a_file_by_its_name(tmp_path, monkeypatch):
    # the path as given to the load ('/work/shared/real-data/.../incident_
    # event_log.original-values.fi…') was cut where two copies differ
    import ingest
    path = tmp_path / "cb.duckdb"
    folder = tmp_path / "exports" / "servicenow" / "2026-12" / "all-groups"
    folder.mkdir(parents=True)
    csv = folder / "changes-export-part-1-of-2.csv"
    csv.write_bytes(UPLOAD)
    assert ingest.load_path("csv", csv, path).status == "succeeded"
    monkeypatch.setattr(config, "DB_PATH", path)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page("views/data.py").run()
    assert not app.exception
    history = next(d.value for d in app.dataframe if "batch_id" in d.value)
    assert list(history["file_name"]) == ["changes-export-part-1-of-2.csv"]
    # the stored name, and so the downloads, keep the whole path
    with db.connect(path, read_only=True) as con:
        assert con.execute("select file_name from ingest_batches"
                           ).fetchall() == [(str(csv),)]


def test_the_freshness_table_reads_a_load_status_as_a_word(app):
    """Freshness showed its last load's status as the code (succeeded)
    where the load history beside it reads Succeeded."""
    app.run()
    assert not app.exception
    freshness = next(d.value for d in app.dataframe
                     if "last_status" in d.value.columns)
    history = next(d.value for d in app.dataframe if "batch_id" in d.value)
    assert set(freshness["last_status"].dropna()) <= set(history["status"])
    assert "Succeeded" in set(freshness["last_status"])


def test_the_dangling_share_reads_as_a_percentage(app):
    """References to rows not loaded showed their dangling share as the
    fraction (1 for every reference dangling, as BPIC 2014's applications
    do without an applications table) where every other share on the
    pages reads as a percentage."""
    import json
    table = next(d for d in app.dataframe
                 if "dangling_share" in d.value.columns)
    config = json.loads(table.proto.columns)["dangling_share"]
    assert config["label"] == "Dangling share"
    # in tenths of a percent, as the cards (ui.table: the share x 100)
    assert config["type_config"]["format"] == "%.1f%%"
    shares = table.value["dangling_share"].dropna()
    assert len(shares) and shares.between(0, 100).all()
    # the tables' names whole: sized by the first rows, the column cut
    # "environment_bookings" to "environment_booking"
    columns = json.loads(table.proto.columns)
    assert "environment_bookings" in set(table.value["table_name"])
    for column, heading in (("table_name", "Table name"),
                            ("referenced_table", "Referenced table")):
        longest = max(table.value[column].str.len().max(), len(heading))
        assert columns[column]["width"] >= 24 + 8 * longest, column
    assert columns["table_name"]["label"] == "Table name"


def test_an_upload_is_previewed_as_a_dry_run_then_committed(app):
    before = batches(config.DB_PATH)
    app.file_uploader(key="data_upload").upload(
        "changes-upload.csv", UPLOAD, "text/csv").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Read"] == "2" and metrics["Rejected"] == "1"
    assert batches(config.DB_PATH) == before
    assert any("generated sample data" in i.value for i in app.info)
    app.button(key="data_commit").click().run()
    assert not app.exception
    assert any("Loaded changes-upload.csv as batch" in s.value
               for s in app.success)
    # the page shows the committed batch: no dry run, no Commit button
    assert not any("Dry run" in m.value for m in app.markdown)
    assert not [b for b in app.button if b.key == "data_commit"]
    assert {m.label: m.value for m in app.metric}["Loaded"] == "1"
    assert batches(config.DB_PATH) == before + 1
    with db.connect(config.DB_PATH, read_only=True) as con:
        assert con.execute("select title from changes where change_id = "
                           "'UP-1'").fetchall() == [("uploaded",)]
        status = db.run(con, "data_status").iloc[0]
    # loading your own data replaced the sample: no mix, no sample banner
    assert (status["is_sample"], status["n_changes"]) == (False, 1)
    assert not any("sample" in i.value for i in app.info)
    assert not any("sample" in w.value for w in app.warning)


def test_a_gzipped_upload_is_read_decompressed(app):
    """The UCI incident log ships as .csv.gz, which `changeboard load`
    reads and the Data page's uploader refused: it takes one, read as the
    command line reads it."""
    import gzip
    app.file_uploader(key="data_upload").upload(
        "changes-upload.csv.gz", gzip.compress(UPLOAD), "application/gzip"
    ).run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Read"] == "2" and metrics["Rejected"] == "1"


def test_keeping_the_sample_shows_a_mixed_data_banner(app):
    app.file_uploader(key="data_upload").upload(
        "changes-upload.csv", UPLOAD, "text/csv").run()
    app.checkbox(key="data_replace_sample").uncheck().run()
    app.button(key="data_commit").click().run()
    assert not app.exception
    with db.connect(config.DB_PATH, read_only=True) as con:
        status = db.run(con, "data_status").iloc[0]
    assert status["is_sample"] and status["has_own_data"]
    assert status["n_changes"] > 1
    assert any("Part of this data is generated sample data" in w.value
               for w in app.warning)


def test_the_last_api_sync_per_endpoint_is_shown_and_a_failure_explained(
        sample_db, tmp_path, monkeypatch):
    copy = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, copy)
    with db.publish(copy) as con:
        con.execute("""
            insert into api_syncs (sync_id, source, endpoint, started_at,
                finished_at, status, cursor_at, watermark_at, pages,
                records_read, rows_loaded, batches, error) values
            (1, 'servicenow',
             'https://acme.service-now.com/api/now/table/incident', '2026-03-01',
             '2026-03-01', 'succeeded', '2026-02-28 23:00Z',
             '2026-02-28 23:00Z', 3, 2500, 2500, 1, null),
            (2, 'servicenow',
             'https://acme.service-now.com/api/now/table/incident', '2026-03-02',
             '2026-03-02', 'failed', '2026-03-01 22:00Z', null, 4, 3000,
             2000, 1, 'HTTP 503; gave up after 6 attempts'),
            (3, 'jira', 'https://acme.atlassian.net/y', '2026-03-02',
             '2026-03-02', 'succeeded', null, '2026-03-01 12:00Z', 1, 0, 0, 0,
             null)""")
    monkeypatch.setattr(config, "DB_PATH", copy)
    with db.connect(copy, read_only=True) as con:
        last = db.run(con, "api_syncs")
    assert last[["source", "sync_id", "status"]].values.tolist() == [
        ["jira", 3, "succeeded"], ["servicenow", 2, "failed"]]
    assert str(last.loc[1, "watermark_at"]).startswith("2026-02-28 23:00")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page("views/data.py").run()
    assert not app.exception
    warning = shown(" ".join(w.value for w in app.warning))
    assert "ServiceNow incident sync failed" in warning
    assert "gave up after 6 attempts" in warning
    assert "resumes from 01 Mar 2026 22:00 UTC" in warning


@pytest.mark.parametrize("name", ["ingest_batches", "data_freshness",
                                  "dangling_references"])
def test_data_queries_run_on_the_sample(sample_db, name):
    with db.connect(sample_db, read_only=True) as con:
        rows = db.run(con, name)
    assert len(rows) > 0


def test_rejects_query_lists_a_batch(tmp_path):
    import ingest
    path = tmp_path / "cb.duckdb"
    csv = tmp_path / "changes.csv"
    csv.write_bytes(UPLOAD)
    result = ingest.load_path("csv", csv, path)
    with db.connect(path, read_only=True) as con:
        rows = db.run(con, "ingest_rejects", batch_id=result.batch_id)
        fresh = db.run(con, "data_freshness")
        dangling = db.run(con, "dangling_references")
    assert rows[["row_number", "column_name", "value", "reason"]].to_dict(
        "records") == [{"row_number": 3, "column_name": "change_type",
                        "value": "urgent", "reason": "unmapped_code"}]
    assert fresh[["table_name", "source_name", "n_rows", "n_batches"]].to_dict(
        "records") == [{"table_name": "changes", "source_name": "csv",
                        "n_rows": 1, "n_batches": 1}]
    assert dangling.empty


def test_freshness_says_a_failed_last_load_at_its_own_time(tmp_path):
    """'Last loaded at 04:14:08' beside 'Last status Failed' read as a load
    that failed at 04:14:08; the failure was at 04:14:47, the time being
    the last good load's (an auditor's walkthrough). The last load's time
    is its own, beside the last good one's."""
    import time

    import ingest
    path = tmp_path / "cb.duckdb"
    good, bad = tmp_path / "good" / "changes.csv", tmp_path / "bad" / \
        "changes.csv"
    for csv, body in ((good, "C1,normal,new,2026-01-05T09:00:00Z,one\n"),
                      (bad, "C2,urgent,new,2026-01-05T09:00:00Z,two\n")):
        csv.parent.mkdir()
        csv.write_text("change_id,change_type,state,created_at,title\n" + body)
    assert ingest.load_path("csv", good, path).status == "succeeded"
    time.sleep(1.1)  # the failed load a second later, as a later run
    assert ingest.load_path("csv", bad, path).status == "failed"
    with db.connect(path, read_only=True) as con:
        fresh = db.run(con, "data_freshness").iloc[0]
        times = dict(con.execute(
            "select status, finished_at from ingest_batches").fetchall())
    assert fresh["last_status"] == "failed"
    assert fresh["last_loaded_at"] == times["succeeded"]
    assert fresh["last_load_at"] == times["failed"] > times["succeeded"]


def test_a_reference_to_a_row_not_loaded_is_counted_as_dangling(con, given):
    given("applications", [{"application_id": "A1", "name": "Pay"}])
    given("changes", [
        {"change_id": f"C{i}", "change_type": "normal", "state": "new",
         "created_at": "2024-01-01 00:00Z", "application_id": app}
        for i, app in enumerate(["A1", "A9", "A9", None])])
    rows = db.run(con, "dangling_references")
    assert rows.to_dict("records") == [{
        "table_name": "changes", "column_name": "application_id",
        "referenced_table": "applications", "n_rows": 3, "n_dangling": 2,
        "n_dangling_ids": 1, "dangling_share": 2 / 3}]


def test_references_of_two_tables_to_one_table_are_counted_apart(con, given):
    # deployments.change_id and incidents.caused_by_change_id both name
    # changes (one anti join for both): each column keeps its own counts,
    # a column whose references all resolve has 0, and one never set no row
    given("applications", [{"application_id": "A1", "name": "Pay"}])
    given("changes", [{"change_id": "C1", "change_type": "normal",
                       "state": "new", "created_at": "2024-01-01 00:00Z",
                       "application_id": "A1"}])
    given("deployments", [
        {"deployment_id": f"D{i}", "application_id": "A1",
         "status": "succeeded", "started_at": "2024-01-02 00:00Z",
         "change_id": change}
        for i, change in enumerate(["C1", "C9", "C9", "C8", None])])
    given("incidents", [
        {"incident_id": f"I{i}", "opened_at": "2024-01-03 00:00Z",
         "caused_by_change_id": change, "caused_by_deployment_id": "D0"}
        for i, change in enumerate(["C9", "C1"])])
    rows = db.run(con, "dangling_references")
    got = {(r["table_name"], r["column_name"]):
           (r["referenced_table"], r["n_rows"], r["n_dangling"],
            r["n_dangling_ids"], r["dangling_share"])
           for r in rows.to_dict("records")}
    assert got == {
        ("changes", "application_id"): ("applications", 1, 0, 0, 0.0),
        ("deployments", "application_id"): ("applications", 5, 0, 0, 0.0),
        ("deployments", "change_id"): ("changes", 4, 3, 2, 3 / 4),
        ("incidents", "caused_by_change_id"): ("changes", 2, 1, 1, 1 / 2),
        ("incidents", "caused_by_deployment_id"): ("deployments", 2, 0, 0,
                                                   0.0)}
    assert list(rows["table_name"]) == sorted(rows["table_name"])


# --- hostile uploads (issue 13, items 1, 2, 8 and 12) -------------------------

POSING = b"""[source]
name = "servicenow"
table = "changes"
mode = "snapshot"

[columns]
change_id = "id"
change_type = "type"
state = "state"
created_at = "created"
title = "title"
"""


def _rows(path, sql):
    with db.connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()


def _upload(app, name, data, *, source=None, toml=None):
    if source:  # its run draws the TOML's uploader, for a source taking one
        app.selectbox(key="data_source").select(source).run()
    if toml is not None:
        app.file_uploader(key="data_mapping").upload(
            "mapping.toml", toml, "application/toml")
    app.file_uploader(key="data_upload").upload(name, data, "text/csv")
    return app.run()


def _cards(app):
    return {m.label: m.value for m in app.metric}


# POSING's columns and a CI, the rows of an id merged, a source of its own
MERGING = POSING.replace(b'name = "servicenow"', b'name = "merged-site"') \
    .replace(b'mode = "snapshot"', b'duplicate_ids = "merge"') \
    + b'ci_name = { from = "ci", merge = "first" }\n'


def test_a_merging_upload_says_its_merged_rows_in_the_cards(app):
    """A mapping that merges rows of one id (BPIC 2014: 29,139 rows read,
    17,262 loaded) showed cards that did not add up to Read: the merged
    rows were in a warning alone (a real-data walkthrough)."""
    data = (b"id,type,state,created,title,ci\n"
            b"M-1,normal,new,2026-01-05 09:00:00,one,CI-1\n"
            b"M-1,normal,new,2026-01-05 09:00:00,one,CI-2\n"
            b"M-1,normal,new,2026-01-05 09:00:00,one,CI-3\n"
            b"M-2,normal,new,2026-01-05 09:00:00,two,CI-1\n")
    app.checkbox(key="data_replace_sample").uncheck()
    _upload(app, "merged.csv", data, source="mapping", toml=MERGING)
    assert not app.exception
    cards = _cards(app)
    assert (cards["Read"], cards["Loaded"], cards["Merged"],
            cards["Rejected"]) == ("4", "2", "2", "0")
    assert "Superseded" not in cards


def test_a_mapping_upload_cannot_pose_as_another_source(app):
    path = config.DB_PATH
    before = _rows(path, "select count(*) from changes where source = "
                   "'servicenow'")[0][0]
    assert before > 100
    taken = _rows(path, "select change_id from changes where source = "
                  "'servicenow' limit 1")[0][0]
    data = (b"id,type,state,created,title\n"
            b"NEW-1,normal,new,2026-01-05 09:00:00,one row\n"
            + f"{taken},normal,new,2026-01-05 09:00:00,taken\n".encode())
    # keep the sample: its servicenow rows are what the upload must not touch
    app.checkbox(key="data_replace_sample").uncheck()
    _upload(app, "one-row.csv", data, source="mapping", toml=POSING)
    assert not app.exception
    cards = _cards(app)
    assert cards["Deleted"] == "0" and cards["New"] == "1"
    assert cards["Rejected"] == "1"   # the id servicenow owns
    app.button(key="data_commit").click().run()
    assert not app.exception
    assert _rows(path, "select count(*) from changes where source = "
                 "'servicenow'")[0][0] == before
    assert _rows(path, "select source from changes where change_id = "
                 "'NEW-1'") == [("upload:servicenow",)]


def test_the_references_to_rows_not_loaded_list_their_ids(app, tmp_path):
    """'changes.release_id 1 dangling' said how many, even in its
    downloads, not which: the page lists the ids, most named first."""
    import ingest
    changes = tmp_path / "changes.csv"
    changes.write_text(
        "change_id,change_type,state,created_at,release_id\n"
        "DG-1,normal,new,2026-01-05T09:00:00Z,REL-NOPE\n"
        "DG-2,normal,new,2026-01-05T09:00:00Z,REL-NOPE\n"
        "DG-3,normal,new,2026-01-05T09:00:00Z,REL-GONE\n")
    assert ingest.load_path("csv", changes, config.DB_PATH).status == \
        "succeeded"
    app.run()
    assert not app.exception
    ids = next(d.value for d in app.dataframe if "ref_id" in d.value.columns)
    mine = ids[ids["ref_id"].isin(["REL-NOPE", "REL-GONE"])]
    assert list(zip(mine["table_name"], mine["column_name"], mine["ref_id"],
                    mine["n"], strict=True)) == [
        ("changes", "release_id", "REL-NOPE", 2),
        ("changes", "release_id", "REL-GONE", 1)]
    counts = next(d.value for d in app.dataframe
                  if "n_dangling_ids" in d.value.columns)
    assert counts["n_dangling_ids"].sum() == len(ids)


def test_a_file_of_a_header_alone_offers_no_commit(app):
    """A header-only export committed a succeeded batch of 0 rows, and
    Freshness then showed its source as loaded now: a broken export job
    read as a refresh. The dry run says there is nothing to load."""
    path = config.DB_PATH
    batches = _rows(path, "select count(*) from ingest_batches")[0][0]
    _upload(app, "changes.csv", b"change_id,change_type,state,created_at\n")
    assert not app.exception
    assert not [b for b in app.button if b.key == "data_commit"]
    assert any("no data rows: there is nothing to load" in i.value
               for i in app.info)
    assert _rows(path, "select count(*) from ingest_batches")[0][0] == batches


def test_a_file_whose_every_row_is_rejected_offers_no_commit(app):
    """UCI's incident log read as a ServiceNow incident export: every row
    rejected, and the dry run offered Commit this load beside 'Loaded 0';
    committed, it recorded a succeeded batch that moved the data's as-of
    though no row changed. It is a failed load, said with its rejects."""
    path = config.DB_PATH
    batches = _rows(path, "select count(*) from ingest_batches")[0][0]
    _upload(app, "changes.csv", b"change_id,change_type,state,created_at\n"
            b"Z-1,sideways,new,2026-01-05T09:00:00Z\n"
            b"Z-2,sideways,new,2026-01-05T09:00:00Z\n")
    assert not app.exception
    assert not [b for b in app.button if b.key == "data_commit"]
    # the file as the page names it ('Dry run of changes.csv'), not the
    # batch's upload/changes.csv
    assert [e.value.replace("\\", "") for e in app.error] == [
        "changes.csv: every one of its 2 rows was rejected (most "
        "often unmapped_code: 2): nothing loaded"]
    rejects = next(d.value for d in app.dataframe
                   if "reason" in d.value.columns)
    assert list(rejects["value"]) == ["sideways", "sideways"]
    assert _rows(path, "select count(*) from ingest_batches")[0][0] == batches


def test_a_mapping_error_names_the_mapping_file_uploaded(app):
    """'mapping mapping-typo.toml: column ...' named a file never uploaded
    (the page saved it under a prefix): the error names typo.toml."""
    typo = POSING.replace(b'title = "title"', b'title = "titel"')
    app.selectbox(key="data_source").select("mapping").run()
    app.file_uploader(key="data_mapping").upload("typo.toml", typo,
                                                 "application/toml")
    app.file_uploader(key="data_upload").upload(
        "one.csv", b"id,type,state,created,title\nN-1,normal,new,"
        b"2026-01-05 09:00:00,x\n", "text/csv").run()
    assert not app.exception
    [error] = [e.value for e in app.error]
    assert "typo.toml" in error and "mapping-typo" not in error, error


def test_a_snapshot_upload_shows_what_it_deletes_and_asks_first(app):
    path = config.DB_PATH
    first = (b"id,type,state,created,title\n"
             b"SNAP-1,normal,new,2026-01-05 09:00:00,a\n"
             b"SNAP-2,normal,new,2026-01-05 09:00:00,b\n")
    _upload(app, "first.csv", first, source="mapping", toml=POSING)
    app.button(key="data_commit").click().run()
    _upload(app, "second.csv", first.replace(b"SNAP-2", b"SNAP-3"))
    assert not app.exception
    assert _cards(app)["Deleted"] == "1"
    assert any("deletes 1 stored changes row of that source" in  # singular
               w.value.replace("\\", "")
               for w in app.warning)
    shown_ids = [frame.value for frame in app.dataframe
                 if "change_id" in frame.value.columns]
    assert shown_ids and shown_ids[0]["change_id"].tolist() == ["SNAP-2"]
    assert app.button(key="data_commit").disabled
    app.checkbox(key="data_confirm_delete").check().run()
    assert not app.button(key="data_commit").disabled
    app.button(key="data_commit").click().run()
    assert not app.exception
    assert _rows(path, "select change_id from changes where source = "
                 "'upload:servicenow' order by 1") == [("SNAP-1",),
                                                        ("SNAP-3",)]


def test_an_xlsx_bomb_is_refused_once_in_a_child_and_the_page_keeps_working(
        app, tmp_path, monkeypatch):
    import resource

    from ingest import uploads
    calls = []
    real = uploads.load
    monkeypatch.setattr(uploads, "load",
                        lambda *a, **k: calls.append(k) or real(*a, **k))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    app.selectbox(key="data_source").select("servicenow")
    app.file_uploader(key="data_upload").upload(
        "bomb.xlsx", deflate_bomb(tmp_path / "bomb.xlsx").read_bytes(),
        "application/octet-stream")
    app.run()
    assert not app.exception
    error = shown(" ".join(e.value for e in app.error))
    assert "unpacks to 629,145,600 bytes" in error
    # reruns (another widget, the same upload) do not read it again
    app.run()
    app.run()
    assert len(calls) == 1 and not app.exception
    # the page process did not grow; no child came near the bound
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - own < 200_000
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1 << 20
    # a file that needs more than the child may use fails, the page lives
    monkeypatch.setattr(uploads, "MEMORY_BYTES", 64 << 20)
    app.file_uploader(key="data_upload").upload("changes.csv", UPLOAD,
                                                "text/csv")
    app.selectbox(key="data_source").select("csv").run()
    assert not app.exception
    assert "out of memory or CPU time" in shown(
        " ".join(e.value for e in app.error))
    # another session keeps working
    other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    other.run()
    other.switch_page("views/data.py").run()
    assert not other.exception and len(other.dataframe) >= 3


def test_file_names_warnings_and_sync_errors_are_plain_text(app):
    image = "![x](http://attacker.example/p.png)"
    with db.publish(config.DB_PATH) as con:
        con.execute(
            "insert into api_syncs (sync_id, source, endpoint, started_at, "
            "status, error) values (99, 'servicenow', 'https://x/api/now/"
            "table/change_request', now(), 'failed', $e)",
            {"e": f"HTTP 400: {image} **bold**"})
    app.run()
    _upload(app, f"changes-{image}.csv".replace("/", "_"),
            b"change_id,change_type,state,created_at,title\n", source="csv")
    assert not app.exception
    texts = [e.value for kind in ("markdown", "warning", "error", "caption",
                                  "info", "success")
             for e in app.get(kind)]
    assert any("attacker.example" in t for t in texts)
    assert not any(re.search(r"(?<!\\)!\\?\[", t) for t in texts
                   if "attacker" in t)
    assert not any(re.search(r"(?<!\\)\*\*bold", t) for t in texts)


def test_uploads_leave_no_files_and_clean_those_a_killed_app_left(app):
    import subprocess
    import sys
    import tempfile
    dead = subprocess.run([sys.executable, "-c", "import os; print("
                           "os.getpid())"], capture_output=True, text=True)
    stale = Path(tempfile.gettempdir()) / (
        f"changeboard-upload-{dead.stdout.strip()}-left")
    stale.mkdir()
    (stale / "changes.csv").write_bytes(UPLOAD)
    _upload(app, "changes-upload.csv", UPLOAD)
    assert not app.exception
    assert not stale.exists()
    import os
    mine = list(Path(tempfile.gettempdir()).glob(
        f"changeboard-upload-{os.getpid()}-*"))
    assert mine == []


SECRETS = {  # the service's credentials, as an operator sets them
    "CHANGEBOARD_OIDC_CLIENT_SECRET": "planted-client-secret-Zq8u1T",
    "CHANGEBOARD_OIDC_COOKIE_SECRET": "planted-cookie-secret-Kp4w9R",
    "CHANGEBOARD_SMTP_PASSWORD": "planted-smtp-password-Vb3n",
    "CHANGEBOARD_CAB_WEBHOOK_URL": "https://hooks.example/planted-hook-Xy7",
    "CHANGEBOARD_SERVICENOW_PASSWORD": "planted-servicenow-password-Lm2",
    "CHANGEBOARD_SERVICENOW_TOKEN": "planted-servicenow-token-Qw9",
    "CHANGEBOARD_JIRA_TOKEN": "planted-jira-token-Rt5",
    "STREAMLIT_SERVER_COOKIE_SECRET": "planted-streamlit-cookie-Hj6",
    "AWS_SECRET_ACCESS_KEY": "planted-aws-secret-Ns4",
}


def test_the_upload_child_gets_none_of_the_services_secrets(app,
                                                            monkeypatch):
    """The child that reads an upload (a hostile file may exploit a
    parser) is given an allow-list of the server's environment: none of
    its credentials; the settings the load reads still reach it. Its
    environment is read from the kernel (/proc/<pid>/environ) while the
    real child runs."""
    import subprocess

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CHANGEBOARD_SNAPSHOTS_KEEP_LAST", "3")
    environs = []
    real_run = subprocess.run

    def run(args, **kwargs):
        if "ingest.uploads" not in args:
            return real_run(args, **kwargs)
        timeout = kwargs.pop("timeout", None)
        kwargs.pop("check", None)
        if kwargs.pop("capture_output", False):
            kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with subprocess.Popen(args, **kwargs) as child:  # noqa: S603
            # Popen returns once the exec began: the kernel shows the new
            # program's environment a moment later
            environ = b""
            while not environ and child.poll() is None:
                environ = Path(f"/proc/{child.pid}/environ").read_bytes()
            environs.append(environ)
            out, err = child.communicate(timeout=timeout)
        return subprocess.CompletedProcess(args, child.returncode, out, err)

    monkeypatch.setattr(subprocess, "run", run)
    before = batches(config.DB_PATH)
    _upload(app, "changes-upload.csv", UPLOAD, source="csv")
    assert not app.exception
    assert _cards(app)["New"] == "1"   # the child read the file
    app.button(key="data_commit").click().run()
    assert not app.exception
    assert batches(config.DB_PATH) == before + 1
    assert len(environs) == 2   # the dry run's child and the commit's
    for environ in environs:
        # names compared, never values: a failure prints no environment
        given = dict(v.decode(errors="replace").split("=", 1)
                     for v in environ.split(b"\0") if v)
        assert [name for name in SECRETS if name in given] == []
        assert [name for name, value in SECRETS.items()
                if value.encode() in environ] == []
        assert {"PATH", "MALLOC_ARENA_MAX",
                "CHANGEBOARD_SNAPSHOTS_KEEP_LAST"} <= set(given)
        assert given["CHANGEBOARD_SNAPSHOTS_KEEP_LAST"] == "3"


@pytest.mark.parametrize("k", [1, 2])
def test_one_reject_and_one_deleted_row_read_right(app, k):
    """An upload with one reject read 'First 1 reject (row 1 = header)',
    and a snapshot deleting one row 'deletes 1 stored changes row of that
    source that are not in the file' and 'The first 1 row it deletes': 'The
    reject', 'that is not in the file', 'The row it deletes'; two read as
    before."""
    from tests.wording import page_texts, slips_at_one
    bad = b"".join(f"BAD-{i},urgent,closed,2024-03-12T15:15:00Z,bad\n"
                   .encode() for i in range(k))
    _upload(app, "changes-bad.csv", UPLOAD.splitlines(keepends=True)[0]
            + UPLOAD.splitlines(keepends=True)[1] + bad)
    assert not app.exception and _cards(app)["Rejected"] == str(k)
    said = [c.value for c in app.caption if "(row 1 = header)" in c.value]
    assert said == [{1: "The reject (row 1 = header):",
                     2: "First 2 rejects (row 1 = header):"}[k]]
    if k == 1:
        assert slips_at_one(page_texts(app)) == []
    # a snapshot of one row where there were 1 + k
    app.file_uploader(key="data_upload").clear()
    first = b"id,type,state,created,title\n" + b"".join(
        f"SNAP-{i},normal,new,2026-01-05 09:00:00,s\n".encode()
        for i in range(k + 1))
    _upload(app, "first.csv", first, source="mapping", toml=POSING)
    app.button(key="data_commit").click().run()
    _upload(app, "second.csv", first.splitlines(keepends=True)[0]
            + first.splitlines(keepends=True)[1])
    assert not app.exception and _cards(app)["Deleted"] == str(k)
    said = [c.value for c in app.caption if "it deletes" in c.value]
    assert said == [{1: "The row it deletes:",
                     2: "The first 2 rows it deletes:"}[k]]
    # '1 stored changes row of that source that are not in the file'
    assert any({1: "deletes 1 stored changes row of that source that is "
                   "not in the file.",
                2: "deletes 2 stored changes rows of that source that are "
                   "not in the file."}[k] in shown(w.value)
               for w in app.warning), [w.value for w in app.warning]
    if k == 1:
        assert slips_at_one(page_texts(app)) == []


def test_a_failed_mapping_load_names_its_table_in_the_history(app, tmp_path):
    """A load its mapping could not read showed Table name 'unknown' in the
    load history: it shows the table the mapping is for."""
    import ingest
    export = tmp_path / "uci-export.csv"  # a name naming no table
    export.write_text("number,opened_at\nINC1,29/2/2016 01:16\n",
                      encoding="utf-8")
    failed = ingest.load_path("mapping", export, config.DB_PATH,
                              options={"mapping": "uci-incidents"})
    assert failed.status == "failed"
    app.run()
    assert not app.exception
    history = next(d.value for d in app.dataframe if "batch_id" in d.value)
    row = history.loc[history["batch_id"] == failed.batch_id].iloc[0]
    assert (row["table_name"], row["status"]) == ("incidents", "Failed")


UCI_EXPORT = (b"number,incident_state,sys_mod_count,opened_at,cmdb_ci,"
              b"priority,caused_by,resolved_at\n"
              b"INC0000045,New,0,29/2/2016 01:16,?,3 - Moderate,?,?\n"
              b"INC0000045,Resolved,2,29/2/2016 01:16,?,3 - Moderate,?,"
              b"29/2/2016 11:29\n"
              b"INC0000047,New,0,29/2/2016 04:40,?,3 - Moderate,?,?\n")


def test_a_shipped_mapping_is_chosen_by_name_with_its_description(app):
    """A mapping that comes with Changeboard (ingest/mappings/) had to be
    found and uploaded as a TOML: the mapping source lists them by name and
    description beside 'upload my own', and one chosen reads the upload
    (recorded as upload:<its name>, as an uploaded mapping's would be)."""
    assert not [s for s in app.selectbox if s.key == "data_shipped_mapping"]
    # the canonical CSV reads no TOML: none is offered (one uploaded beside
    # it was ignored without a word); a ServiceNow export takes overrides
    assert app.selectbox(key="data_source").value == "csv"
    assert app.selectbox(key="data_table")  # which table a CSV fills
    assert not [u for u in app.file_uploader if u.key == "data_mapping"]
    app.selectbox(key="data_source").select("servicenow").run()
    assert app.file_uploader(key="data_mapping")
    app.selectbox(key="data_source").select("mapping").run()
    # the mapping names its table: no box offers another
    assert not [s for s in app.selectbox if s.key == "data_table"]
    chooser = app.selectbox(key="data_shipped_mapping")
    assert chooser.options == [
        "(upload my own mapping TOML)",
        "bpic2014: BPI Challenge 2014: Rabobank's IT change records "
        "(detail_change.csv) as changes, one per change",
        "endoflife-cycles: endoflife.date release cycles "
        "(release_cycles.csv) as releases, one per product cycle",
        "endoflife-versions: endoflife.date versions (versions.csv) as "
        "releases, one per product version",
        "uci-incidents: UCI incident event log (ServiceNow, a row per "
        "update) as incidents, each incident's latest update"]
    assert app.file_uploader(key="data_mapping")   # own TOML: its uploader
    chooser.select("uci-incidents").run()
    assert not [u for u in app.file_uploader if u.key == "data_mapping"]
    app.file_uploader(key="data_upload").upload(
        "incident_event_log.csv", UCI_EXPORT, "text/csv").run()
    assert not app.exception
    cards = _cards(app)
    assert (cards["Read"], cards["Loaded"], cards["Rejected"]) == (
        "3", "2", "0")
    assert any("1 superseded by a later version" in shown(w.value)
               for w in app.warning)
    app.button(key="data_commit").click().run()
    assert not app.exception
    assert _rows(config.DB_PATH, "select incident_id, source, strftime("
                 "resolved_at, '%Y-%m-%d %H:%M') from incidents where "
                 "incident_id like 'INC00000%' order by 1") == [
        ("INC0000045", "upload:uci-incidents", "2016-02-29 11:29"),
        ("INC0000047", "upload:uci-incidents", None)]


def test_the_load_history_says_what_each_load_did_and_its_warnings(
        app, tmp_path):
    """At 1440 px the history showed each batch up to its start time, the
    rows read, loaded and rejected off to the right, and its warnings as a
    JSON list cut mid-sentence ('["detail_change.csv: column Planned
    Start: 5 times in the repeated autumn hour of E…'). What a load did
    comes first, its warnings counted, and read whole below."""
    import ingest
    old = tmp_path / "changes.csv"
    old.write_text("change_id,change_type,state,created_at\n"
                   "OLD-1,normal,closed,1985-01-05T09:00:00Z\n")
    loaded = ingest.load_path("csv", old, config.DB_PATH)
    assert loaded.status == "succeeded" and loaded.warnings
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page("views/data.py").run()
    assert not app.exception
    history = next(d.value for d in app.dataframe
                   if "batch_id" in d.value.columns)
    assert list(history.columns[:8]) == [
        "batch_id", "file_name", "table_name", "status", "rows_read",
        "rows_loaded", "rows_rejected", "warnings"]
    mine = history[history["batch_id"] == loaded.batch_id].iloc[0]
    assert mine["warnings"] == f"{len(loaded.warnings)} warning" + (
        "" if len(loaded.warnings) == 1 else "s")
    box = app.selectbox(key="data_warning_batch")
    assert box.value == loaded.batch_id  # the latest first
    # named by its file and table, as the history lists it ('1' alone)
    assert box.options[0] == f"{loaded.batch_id} · changes.csv (changes)"
    said = [m.value.replace("\\", "") for m in app.markdown
            if m.value.startswith("- ")]
    assert said == ["- " + w for w in loaded.warnings]


def test_a_batch_warning_that_is_no_json_list_is_read_as_one(app):
    """The loader records a batch's warnings as a JSON list (the column is
    JSON); a JSON text written otherwise is one warning, not an error on
    the Data page."""
    with db.publish(config.DB_PATH) as con:
        con.execute("update ingest_batches set warnings = '\"plain words\"' "
                    "where batch_id = (select max(batch_id) from "
                    "ingest_batches)")
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    fresh.switch_page("views/data.py").run()
    assert not fresh.exception
    history = next(d.value for d in fresh.dataframe
                   if "batch_id" in d.value.columns)
    assert history["warnings"].iloc[0] == "1 warning"
    assert "- plain words" in [m.value for m in fresh.markdown]


def test_the_load_history_traces_a_load_to_its_file_by_content(app):
    """The batch's file_sha256 was stored and shown nowhere: an auditor
    could not trace a load to a file but by its name (a walkthrough). The
    load history and its files carry it, as sha256sum prints it."""
    import hashlib

    app.file_uploader(key="data_upload").upload("changes-sha.csv", UPLOAD,
                                                "text/csv").run()
    app.button(key="data_commit").click().run()
    assert not app.exception
    with db.connect(config.DB_PATH, read_only=True) as con:
        history = db.run(con, "ingest_batches")
    mine = history[history["file_name"].str.endswith("changes-sha.csv",
                                                     na=False)]
    assert list(mine["file_sha256"]) == [hashlib.sha256(UPLOAD).hexdigest()]
    shown = next(d.value for d in app.dataframe
                 if "file_sha256" in d.value.columns)
    assert hashlib.sha256(UPLOAD).hexdigest() in set(shown["file_sha256"])


def test_a_snapshot_loads_deleted_rows_are_kept_and_listed(app):
    """A snapshot-mode load said how many stored rows it deleted and named
    the first in its output; which ones, and what they held, was nowhere
    once the file before was pruned (an auditor's walkthrough). Each
    deleted row is kept with its key and record, and the Data page lists
    them by batch."""
    import json

    import ingest
    path = config.DB_PATH
    folder = Path(str(path)).parent
    toml = folder / "snap.toml"
    toml.write_bytes(SNAPSHOT_MAPPING)
    for name, ids in (("first", ("S-1", "S-2", "S-3")), ("second", ("S-2",))):
        data = folder / name / "snap.csv"
        data.parent.mkdir()
        data.write_text("id,type,state,created,title\n" + "".join(
            f"{i},normal,new,2026-01-05 09:00:00,title {i}\n" for i in ids))
        result = ingest.load_path("mapping", data, path,
                                  options={"mapping": str(toml)})
        assert result.status == "succeeded", result.error
    assert result.rows_deleted == 2
    with db.connect(path, read_only=True) as con:
        gone = db.run(con, "ingest_deletions", batch_id=result.batch_id)
    assert list(gone["row_key"]) == ["S-1", "S-3"]
    assert [json.loads(r)["title"] for r in gone["record"]] == [
        "title S-1", "title S-3"]
    app.run()
    assert not app.exception
    box = app.selectbox(key="data_deleted_batch")
    assert box.value == result.batch_id
    listed = next(d.value for d in app.dataframe if "row_key" in d.value)
    assert list(listed["row_key"]) == ["S-1", "S-3"]


# POSING's columns, a source of its own
SNAPSHOT_MAPPING = POSING.replace(b'name = "servicenow"', b'name = "snapped"')
