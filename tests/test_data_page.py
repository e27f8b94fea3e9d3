"""The Data page: renders, previews an upload as a dry run, commits it."""
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from changeboard import config, db

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
    app.run()
    app.switch_page("views/data.py").run()
    return app


def batches(path):
    with db.connect(path, read_only=True) as con:
        return con.execute("select count(*) from ingest_batches").fetchall()[0][0]


def test_data_page_renders_freshness_and_history(app):
    assert not app.exception
    assert [s.value for s in app.subheader] == [
        "Load a file", "Freshness", "API syncs", "Load history"]
    assert len(app.dataframe) >= 3


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
    assert any("Loaded `changes-upload.csv` as batch" in s.value
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
    app.run()
    app.switch_page("views/data.py").run()
    assert not app.exception
    warning = " ".join(w.value for w in app.warning)
    assert "ServiceNow incident sync failed" in warning
    assert "gave up after 6 attempts" in warning
    assert "resumes from 2026-03-01 22:00" in warning


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
