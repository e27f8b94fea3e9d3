"""ServiceNow incidents: the list export adapter and the Table API sync, and
that incidents link to the changes of the same instance."""
from pathlib import Path

import pytest
from apifakes import FakeServiceNow, sn_incident, sn_record

import ingest
from changeboard import db
from ingest import api, servicenow_api, servicenow_incidents
from ingest.errors import FileError
from ingest.frames import batch

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "tests" / "data" / "overrides" / "legacy-servicenow.toml"
EXPORT = ("Number,Short description,Priority,Service,Opened,Resolved,"
          "Caused by Change,Urgency\r\n"
          "INC0010001,Payments down – card auth,1 - Critical,Payments,"
          "2026-03-01 08:00:00,2026-03-01 09:30:00,CHG0030001,1 - High\r\n"
          "INC0010002,Slow search,3 - Moderate,Search,2026-03-02 10:00:00,,,"
          "3 - Low\r\n"
          "INC0010003,Bad open time,2 - High,Search,01/03/2026 10:00,,,\r\n")


def rows(path, sql):
    with db.connect(path, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_an_incident_export_reads_labels_display_values_and_cp1252(tmp_path):
    path = tmp_path / "incident.csv"
    path.write_bytes(EXPORT.encode("cp1252"))
    frame = servicenow_incidents.read(path)
    got = frame[["incident_id", "title", "priority", "application_id",
                 "opened_at", "resolved_at", "caused_by_change_id"]]
    assert got.iloc[0].tolist() == [
        "INC0010001", "Payments down – card auth", "1", "Payments",
        "2026-03-01T08:00:00Z", "2026-03-01T09:30:00Z", "CHG0030001"]
    assert got.iloc[1].tolist()[-2:] == [None, None]
    assert batch(frame).table == "incidents"
    assert any("ignored 1 column: Urgency" in w for w in batch(frame).warnings)
    assert any("read as windows-1252" in w for w in batch(frame).warnings)


def test_an_incident_export_loads_and_rejects_a_bad_time_with_its_row(tmp_path):
    path = tmp_path / "incident.csv"
    path.write_bytes(EXPORT.encode("cp1252"))
    result = ingest.load_path("servicenow-incidents", path,
                              tmp_path / "cb.duckdb")
    assert (result.status, result.rows_loaded, result.rows_rejected) == (
        "succeeded", 2, 1)
    reject = result.rejects.iloc[0]
    assert (reject.row_number, reject.column_name, reject.value,
            reject.reason) == (4, "opened_at", "01/03/2026 10:00",
                               "bad_timestamp")
    assert rows(tmp_path / "cb.duckdb", "select source, count(*) from "
                "incidents group by source") == [("servicenow", 2)]


def test_the_site_file_of_the_changes_gives_incidents_its_instance_settings(
        tmp_path):
    """Time zone, date format and id prefix apply, to the incident and to the
    change it names; the file's change-only sections are left to changes."""
    path = tmp_path / "incident.csv"
    path.write_text("number,opened_at,caused_by\n"
                    "INC1,01.03.2026 09:00,CHG7\n", encoding="utf-8")
    options, name = ingest.adapter_options("servicenow-incidents",
                                           {"mapping": str(SITE)})
    assert "columns" not in options and "values" not in options
    frame = servicenow_incidents.read(path, options=options)
    assert frame.iloc[0][["incident_id", "opened_at",
                          "caused_by_change_id"]].tolist() == [
        "emea:INC1", "2026-03-01T08:00:00Z", "emea:CHG7"]


def test_an_incident_export_without_a_number_column_fails_as_a_whole(tmp_path):
    path = tmp_path / "incident.csv"
    path.write_text("short_description,opened_at\nx,2026-03-01 08:00:00\n",
                    encoding="utf-8")
    with pytest.raises(FileError, match="missing required column number"):
        servicenow_incidents.read(path)


def test_incidents_sync_links_them_to_the_changes_synced_before(tmp_path):
    db_path = tmp_path / "cb.duckdb"
    retry = api.Retry(sleep=lambda s: None)
    changes = [sn_record(f"CHG{i}", f"2026-03-01 0{i}:00:00") for i in range(3)]
    incidents = [sn_incident(f"INC{i}", f"2026-03-02 10:{i:02d}:00",
                             caused_by="CHG1" if i == 4 else "")
                 for i in range(12)]
    with FakeServiceNow(changes, token="t") as sn, \
            FakeServiceNow(incidents, table="incident", token="t") as si:
        def client(server):
            return api.Client(server.url, name="ServiceNow", retry=retry,
                              headers={"Authorization": "Bearer t"})
        assert api.sync(servicenow_api.ServiceNowApi(client(sn)),
                        db_path).status == "succeeded"

        def touch(offset):   # an incident of page 1 is edited meanwhile
            if offset == 0:
                incidents[1].update(sys_updated_on="2026-03-02 11:00:00",
                                    priority="1")
        si.after_page = touch
        source = servicenow_api.ServiceNowApi(client(si), table="incident",
                                              page_size=5)
        run = api.sync(source, db_path)
    assert run.status == "succeeded", run.error
    assert run.fetched_again == 1
    assert source.endpoint.endswith("/api/now/table/incident")
    assert rows(db_path, "select count(*), count(distinct incident_id) from "
                "incidents") == [(12, 12)]
    assert rows(db_path, "select incident_id, caused_by_change_id, priority "
                "from incidents where incident_id in ('INC1', 'INC4') "
                "order by 1") == [("INC1", None, 1), ("INC4", "CHG1", 2)]
    assert rows(db_path, "select c.change_id from incidents as i join changes "
                "as c on c.change_id = i.caused_by_change_id") == [("CHG1",)]
    # each endpoint keeps its own watermark
    assert rows(db_path, "select count(distinct endpoint) from api_syncs "
                "where status = 'succeeded'") == [(2,)]


def test_an_unsynced_servicenow_table_is_refused():
    client = api.Client("http://127.0.0.1:9", name="ServiceNow")
    with pytest.raises(api.ApiError, match="'problem' is not synced"):
        servicenow_api.ServiceNowApi(client, table="problem")


# the UCI incident event log's header (the shipped mapping uci-incidents
# reads it), a row per update of an incident, dates d/m/yyyy HH:MM
UCI_HEADER = ("number,incident_state,sys_mod_count,opened_at,cmdb_ci,"
              "priority,caused_by,resolved_at")
UCI_ROWS = ("INC0000045,New,0,29/2/2016 01:16,?,3 - Moderate,?,?\n"
            "INC0000045,Resolved,2,29/2/2016 01:16,?,3 - Moderate,?,"
            "29/2/2016 11:29\n"
            "INC0000047,New,0,29/2/2016 04:40,?,3 - Moderate,?,?\n")


def test_dates_no_row_can_read_say_so_once_and_name_the_way_out(tmp_path):
    """Every row rejected for the form of its opened_at: one warning names
    the first reject, the date_formats setting and the shipped mapping that
    reads this header and these dates; the rejects keep row, column and
    value."""
    path = tmp_path / "incident_event_log.csv"
    path.write_text(f"{UCI_HEADER}\n{UCI_ROWS}", encoding="utf-8")
    result = ingest.load_path("servicenow-incidents", path,
                              tmp_path / "cb.duckdb", dry_run=True)
    assert (result.rows_read, result.rows_rejected) == (3, 3)
    hints = [w for w in result.warnings if "bad_timestamp" in w]
    assert len(hints) == 1
    assert hints[0].startswith(
        f"{path.name}: all 3 rows were rejected as bad_timestamp in "
        "opened_at "
        "(the first, row 2: '29/2/2016 01:16')")
    assert "date_formats in the [source] table of an overrides file" in \
        hints[0]
    assert ("The shipped mapping uci-incidents reads a file with this "
            "header and these dates: changeboard load mapping "
            "incident_event_log.csv --mapping uci-incidents (on the Data "
            'page: the source "Any export, described by a mapping" and the '
            "mapping uci-incidents).") in hints[0]
    first = result.rejects.iloc[0]
    assert (first.row_number, first.column_name, first.value,
            first.reason) == (2, "opened_at", "29/2/2016 01:16",
                              "bad_timestamp")
    # the way out it names reads the file
    mapped = ingest.load_path("mapping", path, tmp_path / "cb.duckdb",
                              options={"mapping": "uci-incidents"})
    assert (mapped.status, mapped.rows_loaded, mapped.rows_rejected) == (
        "succeeded", 2, 0)
    assert not any("bad_timestamp" in w for w in mapped.warnings)


def test_a_few_unreadable_dates_give_no_hint_and_no_foreign_mapping(tmp_path):
    """One bad time in three rows is a bad row, not a wrong format; and a
    file whose dates the shipped mapping cannot read is not sent to it."""
    path = tmp_path / "incident.csv"
    path.write_bytes(EXPORT.encode("cp1252"))
    result = ingest.load_path("servicenow-incidents", path,
                              tmp_path / "cb.duckdb", dry_run=True)
    assert result.rows_rejected == 1
    assert not any("rejected as bad_timestamp" in w for w in result.warnings)
    path.write_text(f"{UCI_HEADER}\n" + UCI_ROWS.replace(
        "29/2/2016", "Feb 29 2016"), encoding="utf-8")
    result = ingest.load_path("servicenow-incidents", path,
                              tmp_path / "cb.duckdb", dry_run=True)
    hints = [w for w in result.warnings if "bad_timestamp" in w]
    assert len(hints) == 1 and "To read these dates, give the file's " \
        "format as date_formats" in hints[0]
    assert "shipped mapping" not in hints[0]
