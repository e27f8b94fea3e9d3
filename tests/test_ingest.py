"""The canonical CSV adapter and the one loader: a bad-input corpus, reloads,
ownership, dry runs, concurrent readers, a killed load, the CLI."""
import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import ingest
from changeboard import db
from ingest import loader
from ingest.frames import Batch
from tests import clirun

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
CASES = tomllib.loads((BAD / "expected.toml").read_text())
CHANGES = "change_id,change_type,state,created_at,title,updated_at\n"


def rows(db_path, sql, **params):
    with db.connect(db_path, read_only=True) as con:
        return con.execute(sql, params).fetchall()


def sha256_of(path: Path) -> str:
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def changes_csv(path: Path, ids, *, title="t", updated="2024-03-14T00:00:00Z"):
    body = "".join(f"{i},normal,closed,2024-03-12T15:15:00Z,{title},{updated}\n"
                   for i in ids)
    return write(path, CHANGES + body)


def test_the_corpus_has_one_declared_outcome_per_file():
    files = {p.name for p in BAD.iterdir() if p.name != "expected.toml"}
    assert files == set(CASES)
    assert len(files) >= 30


def store(path: Path, stored: list) -> None:
    """A case's stored changes (expected.toml `stored`), each published."""
    for row in stored:
        with db.publish(path) as con:
            con.execute(
                "insert into changes (change_id, change_type, state, "
                "created_at, source) values ($id, 'normal', 'new', "
                "'2024-01-01 00:00Z', $source)",
                {"id": row["change_id"], "source": row["source"]})


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name, tmp_path):
    case = CASES[name]
    path = tmp_path / "cb.duckdb"
    store(path, case.get("stored", []))
    result = ingest.load_path("csv", BAD / name, path)
    if "fails" in case:
        assert result.status == "failed"
        assert case["fails"] in result.error
        assert name in result.error or "unknown canonical" in result.error
        assert rows(path, "select status, error from ingest_batches") == [
            ("failed", result.error)]
        assert rows(path, "select count(*) from ingest_rejects") == [(0,)]
        assert rows(path, "select count(*) from changes") == [
            (len(case.get("stored", [])),)]
        return
    assert result.status == "succeeded", result.error
    assert result.rows_loaded == case["loads"]
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    expected = sorted((r, why, col or None) for r, why, col in
                      case.get("rejects", []))
    assert rows(path, "select row_number, reason, column_name from "
                "ingest_rejects order by row_number") == expected
    assert result.rows_rejected == len(expected)
    assert rows(path, "select count(*) from ingest_rejects where "
                "raw_record is null or detail is null and reason not in "
                "('missing_required', 'bad_row_shape')") == [(0,)]
    if "warns" in case:
        assert any(case["warns"] in w for w in result.warnings), \
            result.warnings
    table = result.table
    key = ingest.schema.describe(table).key[0]
    for target, value in case.get("check", {}).items():
        ident, column = target.split(".")
        # names come from the test's own expected.toml
        found = rows(path, f"select cast({column} as varchar) "  # noqa: S608
                     f"from {table} where {key} = $id", id=ident)
        assert found == [(value,)], target
    (read, loaded, rejected), = rows(
        path, "select rows_read, rows_loaded, rows_rejected "
        "from ingest_batches where status = 'succeeded'")
    assert read == loaded + rejected


def test_a_quote_left_open_says_where_and_loses_no_row_after_it(tmp_path):
    """A quote left open mid-file took the rows after it into one value:
    10,000 rows gone with exit 0. Its row is rejected naming it, the rows
    after it load; so when it closes lines later (the line closing it,
    `27",screen`, has 6 fields)."""
    path = tmp_path / "cb.duckdb"
    opened = "a quote opened in this row is not closed on its line"
    for name, said in (
            ("changes-quote-left-open.csv", [opened]),
            ("changes-quote-spans-rows.csv",
             [opened, "6 fields, header has 5"])):
        result = ingest.load_path("csv", BAD / name, path)
        assert result.status == "succeeded", result.error
        assert rows(path, "select value from ingest_rejects where batch_id "
                    "= $b order by row_number", b=result.batch_id) == [
            (s,) for s in said]
    raw = json.loads(rows(path, "select raw_record from ingest_rejects "
                          "order by batch_id limit 1")[0][0])
    assert raw == {"_text": 'C2,normal,closed,2024-03-12T15:15:00Z,"never '
                   'closed'}
    assert rows(path, "select change_id from changes order by 1") == [
        ("C1",), ("C3",), ("C4",), ("C5",)]


def test_a_semicolon_file_is_not_told_to_name_extra_columns(tmp_path):
    """Its error ended "name extra columns x_...", which does not apply to
    a header read as one column."""
    result = ingest.load_path("csv", BAD / "changes-semicolon.csv",
                              tmp_path / "cb.duckdb")
    assert result.error.endswith("the header looks ';'-delimited: "
                                 "canonical CSV uses commas"), result.error


@pytest.mark.parametrize("source, header", [
    ("jira", "Summary;Issue key;Status;Created"),
    ("servicenow", "number;short_description;state;opened_at"),
    ("servicenow-incidents", "number;short_description;state;opened")])
def test_a_semicolon_export_is_told_its_delimiter(tmp_path, source, header):
    """A ';'-separated Jira export was told only "missing required column
    'Issue key' (found: Summary;Issue key;...)" (a data administrator's
    walkthrough), where canonical CSV and mapping files say the delimiter."""
    export = write(tmp_path / "export.csv", header + "\nA;B;C;D\n")
    result = ingest.load_path(source, export, tmp_path / "cb.duckdb")
    assert result.status == "failed"
    assert result.error.endswith(
        "; the header read as one column: the file looks ';'-delimited, and "
        "this export is read as comma-separated CSV (export it again as CSV, "
        "or describe it with a mapping file, whose [source] delimiter says "
        "its own)"), result.error


def test_every_reject_keeps_its_raw_record_and_says_why(tmp_path):
    path = tmp_path / "cb.duckdb"
    ingest.load_path("csv", BAD / "changes-unknown-code.csv", path)
    (value, detail, raw), = rows(path, "select value, detail, raw_record "
                                 "from ingest_rejects")
    assert value == "done"
    assert "allowed: new, assess" in detail
    assert json.loads(raw)["change_id"] == "C2"


def test_an_unread_time_names_the_format_the_source_reads(tmp_path):
    """A ServiceNow export reads its site's format: a time in another one
    was rejected as 'not ISO-8601', as if ISO-8601 were all it read. The
    detail names the format too; canonical CSV, ISO-8601 alone, says so."""
    export = write(tmp_path / "sn.csv",
                   "number,short_description,type,state,opened_at\n"
                   "CHG1,x,Normal,Closed,2026-01-05 10:00:00\n"
                   "CHG2,y,Normal,Closed,05/01/2026 10:00\n")
    path = tmp_path / "cb.duckdb"
    ingest.load_path("servicenow", export, path,
                     options={"date_format": "%Y-%m-%d %H:%M:%S"})
    assert rows(path, "select row_number, column_name, value, detail from "
                "ingest_rejects") == [(
                    3, "created_at", "05/01/2026 10:00",
                    "read neither as %Y-%m-%d %H:%M:%S nor as ISO-8601 (e.g. "
                    "2024-03-12T15:15:00Z)")]
    ingest.load_path("csv", write(tmp_path / "changes.csv", CHANGES + (
        "C9,normal,closed,05/01/2026 10:00,t,\n")), path)
    assert rows(path, "select detail from ingest_rejects where value = "
                "'05/01/2026 10:00' and batch_id = 2") == [
        ("not ISO-8601 (e.g. 2024-03-12T15:15:00Z)",)]


def test_valid_rows_of_a_mixed_file_are_never_lost(tmp_path):
    path = tmp_path / "cb.duckdb"
    text = CHANGES + "".join(
        f"C{i},{'normal' if i % 3 else 'urgent'},closed,"
        f"2024-03-12T15:15:00Z,t,\n" for i in range(30))
    result = ingest.load_path("csv", write(tmp_path / "changes.csv", text),
                              path)
    assert (result.rows_loaded, result.rows_rejected) == (20, 10)
    assert rows(path, "select count(*) from changes") == [(20,)]


def test_same_file_twice_changes_nothing_and_says_so(tmp_path):
    path = tmp_path / "cb.duckdb"
    csv = changes_csv(tmp_path / "changes.csv", ["C1", "C2"])
    first = ingest.load_path("csv", csv, path)
    before = db.version(path)
    again = ingest.load_path("csv", csv, path)
    assert again.status == "unchanged"
    assert again.already_loaded == first.batch_id
    assert db.version(path) == before
    assert rows(path, "select count(*) from ingest_batches") == [(1,)]


def test_a_batch_finishes_after_it_starts(tmp_path):
    """finished_at was the publish transaction's start (current_timestamp),
    before the batch's own start: the Data page showed a load finishing a
    second before it began, and the data's 'as of' was early."""
    path = tmp_path / "cb.duckdb"
    (tmp_path / "later").mkdir()
    ingest.load_files([changes_csv(tmp_path / "changes.csv", range(20000)),
                       changes_csv(tmp_path / "later" / "changes.csv", ["C1"])],
                      path)
    times = rows(path, "select started_at, finished_at from ingest_batches")
    assert len(times) == 2 and all(s <= f for s, f in times), times


def test_a_bigger_export_updates_rows_in_place(tmp_path):
    path = tmp_path / "cb.duckdb"
    ingest.load_path("csv", changes_csv(tmp_path / "changes.csv", ["C1", "C2"]),
                     path)
    bigger = CHANGES + (
        "C1,normal,closed,2024-03-12T15:15:00Z,t,2024-03-14T00:00:00Z\n"
        "C2,normal,closed,2024-03-12T15:15:00Z,renamed,2024-03-15T00:00:00Z\n"
        "C3,normal,closed,2024-03-12T15:15:00Z,t,2024-03-15T00:00:00Z\n")
    result = ingest.load_path("csv", write(tmp_path / "changes-2.csv", bigger),
                              path)
    assert (result.rows_new, result.rows_updated, result.rows_unchanged) == (
        1, 1, 1)
    assert rows(path, "select change_id, title, ingested_batch_id from changes "
                "order by 1") == [("C1", "t", 1), ("C2", "renamed", 2),
                                  ("C3", "t", 2)]
    assert rows(path, "select rows_read, rows_loaded, rows_updated, "
                "rows_unchanged from ingest_batches where batch_id = 2") == [
        (3, 3, 1, 1)]


def test_an_older_copy_than_the_stored_one_is_rejected(tmp_path):
    path = tmp_path / "cb.duckdb"
    ingest.load_path("csv", changes_csv(tmp_path / "changes.csv", ["C1"],
                                        title="newer"), path)
    older = changes_csv(tmp_path / "changes-old.csv", ["C1"], title="older",
                        updated="2024-03-01T00:00:00Z")
    result = ingest.load_path("csv", older, path)
    assert result.reasons == [("older_than_stored", 1)]
    assert rows(path, "select title from changes") == [("newer",)]


def test_an_id_owned_by_another_source_names_the_owner(tmp_path):
    path = tmp_path / "cb.duckdb"
    frame = pd.DataFrame({"change_id": ["X1"], "change_type": ["normal"],
                          "state": ["new"],
                          "created_at": ["2024-03-12T15:15:00Z"]})
    frame.attrs["batch"] = Batch(source="servicenow", table="changes")
    assert loader.load(frame, path, file_name="sn.csv", sha256="a").ok
    result = ingest.load_path(
        "csv", changes_csv(tmp_path / "changes.csv", ["X1"]), path)
    assert result.reasons == [("id_owned_by_other_source", 1)]
    (detail,), = rows(path, "select detail from ingest_rejects")
    assert "owned by source 'servicenow'" in detail and "id_prefix" in detail
    assert rows(path, "select source from changes") == [("servicenow",)]
    # where the loading source sets one: every source was told a mapping
    # file's [source] id_prefix (a data administrator's walkthrough)
    assert detail.endswith("canonical CSV takes no id_prefix: prefix the "
                           "ids in the file, or give the other source one, "
                           "so both can load"), detail
    assert ingest.rejects.prefix_hint("servicenow-incidents") == (
        "give one source an id_prefix (this one: id_prefix in its "
        "--overrides file) so both can load")
    assert "mapping file [source] id_prefix" in \
        ingest.rejects.prefix_hint("uci-incidents")


UCI_ROWS = ("number,incident_state,sys_mod_count,opened_at,cmdb_ci,priority,"
            "caused_by,resolved_at\n"
            "INC0000045,New,0,29/2/2016 01:16,?,3 - Moderate,?,?\n")


@pytest.mark.parametrize("first, then, said", [
    (None, ingest.rejects.UPLOADED, "loaded from the command line: a Data "
     "page upload cannot change them; load this file with `changeboard "
     "load` to update them"),
    (ingest.rejects.UPLOADED, None, "uploaded on the Data page: the command "
     "line cannot change them; upload this file there to update them")])
def test_an_export_loaded_one_way_then_the_other_says_where_it_can_load(
        tmp_path, first, then, said):
    """The same export (a shipped mapping's) loaded from the command line,
    then uploaded on the Data page, whose loads are source upload:<name>
    (or the other way round): every row was refused as owned by the other
    source, with the advice to give one an id_prefix, which would load
    every row twice (a walkthrough with BPIC 2014's 17,262 changes)."""
    path = tmp_path / "cb.duckdb"
    export = write(tmp_path / "incident_event_log.csv", UCI_ROWS)
    loads = [ingest.load_path("mapping", export, path,
                              options={"mapping": "uci-incidents"},
                              source_prefix=prefix)
             for prefix in (first, then)]
    assert loads[0].status == "succeeded", loads[0].error
    assert loads[1].reasons == [("id_owned_by_other_source", 1)]
    (detail,), = rows(path, "select detail from ingest_rejects")
    owner = f"{first or ''}uci-incidents"
    assert detail.startswith(f"owned by source '{owner}' (batch 1); {said}")
    assert "id_prefix" not in detail


def test_a_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "cb.duckdb"
    ingest.load_path("csv", changes_csv(tmp_path / "changes.csv", ["C1"]), path)
    before = db.version(path)
    result = ingest.load_path("csv", BAD / "changes-unknown-code.csv", path,
                              dry_run=True)
    assert result.status == "dry_run"
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert result.rejects.loc[0, "reason"] == "unmapped_code"
    failed = ingest.load_path("csv", BAD / "changes-empty.csv", path,
                              dry_run=True)
    assert failed.status == "failed"
    assert db.version(path) == before
    assert rows(path, "select count(*) from ingest_batches") == [(1,)]


def test_strict_loads_nothing_from_a_file_with_a_reject(tmp_path):
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("csv", BAD / "changes-unknown-code.csv", path,
                              strict=True)
    assert result.status == "failed" and "--strict" in result.error
    assert rows(path, "select count(*) from changes") == [(0,)]
    assert rows(path, "select status, rows_rejected from ingest_batches") == [
        ("failed", 1)]


def test_naive_instants_use_the_frame_time_zone_and_dst_gaps_are_rejected(
        tmp_path):
    frame = pd.DataFrame({
        "change_id": ["C1", "C2", "C3", "C4"],
        "change_type": ["normal"] * 4, "state": ["new"] * 4,
        "created_at": ["2024-03-12 10:00", "2024-03-31 02:30",
                       "2024-10-27 02:30", "2024-03-12T10:00:00Z"]})
    frame.attrs["batch"] = Batch(source="csv", table="changes",
                                 timezone="Europe/Amsterdam")
    path = tmp_path / "cb.duckdb"
    result = loader.load(frame, path, file_name="f.csv", sha256="x")
    assert result.reasons == [("bad_timestamp", 1)]
    assert rows(path, "select change_id, strftime(created_at, '%H:%M') from "
                "changes order by 1") == [
        ("C1", "09:00"), ("C3", "00:30"), ("C4", "10:00")]
    (row, detail), = rows(path, "select row_number, detail from ingest_rejects")
    assert row == 3 and "DST gap" in detail


def test_adapter_rejects_are_kept_with_their_reason(tmp_path):
    frame = pd.DataFrame({
        "row_number": [2, 3], "change_id": ["J1", "J2"],
        "change_type": ["normal", "normal"], "state": ["new", "new"],
        "created_at": ["2024-03-12T10:00:00Z"] * 2,
        "raw_record": ['{"Issue key": "J1"}', '{"Issue key": "J2"}'],
        "_reject": [None, "wrong_issue_type"],
        "_reject_column": [None, "Issue Type"], "_reject_value": [None, "Bug"]})
    frame.attrs["batch"] = Batch(source="jira", table="changes")
    path = tmp_path / "cb.duckdb"
    result = loader.load(frame, path, file_name="jira.csv", sha256="j")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert rows(path, "select row_number, column_name, value, reason, "
                "raw_record from ingest_rejects") == [
        (3, "Issue Type", "Bug", "wrong_issue_type", '{"Issue key": "J2"}')]


def test_snapshot_mode_removes_this_sources_absent_rows(tmp_path):
    path = tmp_path / "cb.duckdb"

    def bookings(ids, sha):
        frame = pd.DataFrame({"booking_id": ids, "environment_id": "E1",
                              "status": "approved",
                              "start_at": "2024-03-12T10:00:00Z",
                              "end_at": "2024-03-12T11:00:00Z"})
        frame.attrs["batch"] = Batch(source="plutora",
                                     table="environment_bookings",
                                     mode="snapshot")
        return loader.load(frame, path, file_name="b.csv", sha256=sha)

    bookings(["B1", "B2"], "1")
    result = bookings(["B2", "B3"], "2")
    assert result.rows_deleted == 1
    assert rows(path, "select booking_id from environment_bookings "
                "order by 1") == [("B2",), ("B3",)]


def test_a_failed_file_is_recorded_and_published(tmp_path):
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("csv", BAD / "changes-repeated-header.csv", path)
    assert result.batch_id == 1
    assert rows(path, "select source, entity, status, file_sha256 is not null "
                "from ingest_batches") == [("csv", "changes", "failed", True)]


def test_an_unknown_or_missing_source_fails_only_when_used(tmp_path):
    with pytest.raises(ingest.FileError, match="unknown source 'nope'"):
        ingest.adapter("nope")
    assert ingest.adapter("csv").SOURCE == "csv"


def test_an_older_database_gets_the_version_2_ingest_columns(tmp_path):
    import duckdb
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        schema = db.SCHEMA.read_text()
        for added in ("settings_sha256 varchar",               # version 8
                      "loaded_by varchar", "run_by varchar",  # version 6
                      "rows_merged integer"):                  # version 4
            schema = re.sub(r",\n\s*-- schema version \d:[^;]*?" + added,
                            "", schema, flags=re.S)
        for column in ("rows_updated integer,", "rows_unchanged integer,",
                       "rows_deleted integer,", "warnings json",
                       "detail varchar"):
            schema = schema.replace(column, "")
        schema = schema.replace("error varchar,\n", "error varchar\n")
        schema = schema.replace("raw_record json,\n", "raw_record json\n")
        con.execute(schema)
        con.execute("insert into schema_version (version) values (1)")
    result = ingest.load_path("csv", BAD / "changes-unknown-code.csv", path)
    assert result.status == "succeeded"
    assert rows(path, "select max(version) from schema_version") == [
        (db.SCHEMA_VERSION,)]
    assert rows(path, "select detail is not null from ingest_rejects") == [
        (True,)]


def test_the_sample_loads_every_table_without_rejects(sample_db):
    # 8 canonical tables, the changes as a ServiceNow and a Jira export
    assert rows(sample_db, "select source, count(*), sum(rows_rejected) from "
                "ingest_batches group by source order by source") == [
        ("csv", 8, 0), ("jira", 1, 0), ("servicenow", 1, 0)]


# readers in one process, loads in another: whole batches only


READER = """
import sys, time
from pathlib import Path
from changeboard import db
path, stop = sys.argv[1], Path(sys.argv[2])
seen, errors, end = [], 0, time.time() + 120  # until told to stop
while not stop.exists() and time.time() < end:
    try:
        with db.connect(path, read_only=True) as con:
            seen.append(int(db.run(con, "data_status").loc[0, "n_changes"]))
    except Exception as exc:
        errors += 1
        print(repr(exc), file=sys.stderr)
    if len(seen) == 1:
        print("reading", flush=True)
print(errors, len(seen), ",".join(map(str, sorted(set(seen)))))
"""

WRITER = """
import sys
import ingest
path, folder, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
failed = 0
for i in range(1, n + 1):
    result = ingest.load_path("csv", f"{folder}/changes-{i}.csv", path)
    failed += result.status != "succeeded"
print(failed)
"""


def test_readers_only_ever_see_whole_batches_while_loads_run(tmp_path):
    path, batch, loads = tmp_path / "cb.duckdb", 50, 5
    ingest.load_path("csv", changes_csv(tmp_path / "changes-0.csv",
                                        [f"A{j}" for j in range(batch)]), path)
    for i in range(1, loads + 1):
        changes_csv(tmp_path / f"changes-{i}.csv",
                    [f"B{i}-{j}" for j in range(batch)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), str(stop)], cwd=ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "reading"
    writer = subprocess.run(
        [sys.executable, "-c", WRITER, str(path), str(tmp_path), str(loads)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    stop.touch()  # the reader stops after the writer's last load
    out, err = reader.communicate(timeout=60)
    assert writer.stdout.strip() == "0", writer.stderr
    errors, reads, counts = out.split()
    assert errors == "0", err
    assert int(reads) > 0
    assert all(int(c) % batch == 0 for c in counts.split(",")), counts
    assert rows(path, "select count(*) from changes") == [
        ((loads + 1) * batch,)]


# DuckDB opens a database file by its path twice or thrice per attach or
# connect: the header (bytes 0-12287: the main header and the two database
# headers) through one open, the blocks through the next (strace). A publish
# renaming its file in between gives it one file's header over the other's
# blocks: the file these bytes make.
HEADER_BYTES = 3 * 4096


def torn(header_of: Path, blocks_of: Path, into: Path) -> Path:
    into.write_bytes(header_of.read_bytes()[:HEADER_BYTES]
                     + blocks_of.read_bytes()[HEADER_BYTES:])
    return into


@pytest.mark.parametrize("opened", ["view", "connect"])
def test_a_file_replaced_while_it_is_being_opened_is_read_whole(
        tmp_path, monkeypatch, opened):
    # what failed the whole-batches test above about once in 50-80 runs:
    # its reader's query, "Could not read enough bytes" (3 batches' header
    # over the blocks of the shorter 4-batch file); here the publish lands
    # at that moment of the open every time
    path, batch = tmp_path / "cb.duckdb", 50
    for i in range(3):
        ingest.load_path("csv", changes_csv(
            tmp_path / f"changes-{i}.csv",
            [f"C{i}-{j}" for j in range(batch)]), path)
    old = tmp_path / "old.duckdb"
    old.write_bytes(path.read_bytes())
    ingest.load_path("csv", changes_csv(
        tmp_path / "changes-3.csv", [f"C3-{j}" for j in range(batch)]), path)
    new = tmp_path / "new.duckdb"
    new.write_bytes(path.read_bytes())
    torn(old, new, tmp_path / "torn.duckdb")
    os.replace(old, path)  # 3 batches published; the 4th is about to be
    db.forget_readers(under=tmp_path)  # as a fresh process
    name = "_attached_view" if opened == "view" else "_connected"
    really = getattr(db, name)
    calls = []

    def opening_while_published(*args, **kwargs):
        calls.append(db.version(path))
        if len(calls) > 1:
            return really(*args, **kwargs)
        # DuckDB reads 3 batches' header, the 4th batch's publish renames
        # its file in, and DuckDB reads that file's blocks
        os.replace(tmp_path / "torn.duckdb", path)
        try:
            return really(*args, **kwargs)
        finally:
            os.replace(new, path)

    monkeypatch.setattr(db, name, opening_while_published)
    if opened == "view":
        with db.reading(path) as con:
            n = int(db.run(con, "data_status").loc[0, "n_changes"])
    else:
        with db.connect(path, read_only=True) as con:
            n = int(db.run(con, "data_status").loc[0, "n_changes"])
    assert n == 4 * batch  # the file published, whole
    assert len(calls) == 2  # opened again: it was replaced meanwhile


CRASH = """
import sys, time
import ingest
from ingest import loader
loader.before_publish = lambda: (print("paused", flush=True), time.sleep(60))
ingest.load_path("csv", sys.argv[2], sys.argv[1])
"""


def test_a_load_killed_mid_way_leaves_the_previous_data_intact(tmp_path):
    path = tmp_path / "cb.duckdb"
    ingest.load_path("csv", changes_csv(tmp_path / "changes.csv", ["C1"]), path)
    second = changes_csv(tmp_path / "changes-2.csv", ["C2", "C3"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH, str(path), str(second)], cwd=ROOT,
        env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "paused"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert rows(path, "select change_id from changes") == [("C1",)]
    result = ingest.load_path("csv", second, path)
    assert result.status == "succeeded"
    assert rows(path, "select count(*) from changes") == [(3,)]
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))  # cleaned up


# the command line


def cli(*args):
    """`python -m ingest *args`, in this process."""
    return clirun.run("ingest", *args)


def test_cli_says_where_every_reject_is_beyond_the_five_shown(tmp_path):
    """The summary showed five rejects and never said where the others
    were: it gives the command that lists every one, and that command does."""
    import json
    path = tmp_path / "cb.duckdb"
    changes = tmp_path / "changes.csv"
    changes.write_text("change_id,change_type,state,created_at\n" + "".join(
        f"C{i},sideways,new,2026-01-05T09:00:00Z\n" for i in range(7)))
    result = cli("csv", str(changes), "--db", str(path))
    # every row rejected: a failed load, its rejects recorded and said
    assert result.returncode == 1, result.stderr
    said = [line for line in result.stdout.splitlines()
            if line.startswith("  ... every one")]
    assert said == ["  ... every one of the 7: changeboard query "
                    "ingest_rejects --param batch_id=1 --format csv"], said
    listed = clirun.run("changeboard", "query", "ingest_rejects", "--param",
                        "batch_id=1", "--format", "json", "--db", str(path))
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 7


def test_cli_prints_a_summary_and_the_top_reasons(tmp_path):
    path = tmp_path / "cb.duckdb"
    result = cli("csv", str(BAD / "changes-unknown-code.csv"), "--db",
                 str(path))
    assert result.returncode == 0, result.stderr
    assert "rejected" in result.stdout.splitlines()[0]
    assert "top rejection reasons: unmapped_code 1" in result.stdout
    assert "reading" in result.stderr
    strict = cli("csv", str(BAD / "changes-unknown-code.csv"), "--db",
                 str(tmp_path / "s.duckdb"), "--strict")
    assert strict.returncode == 1


def test_cli_error_line_names_the_file_once_and_counts_in_words(tmp_path):
    """A failed file's line said its name twice (`changes.csv: error:
    /path/to/changes.csv: ...`, the error's own path after the line's
    name), and --strict counted one reject as '1 rows rejected'."""
    strict = cli("csv", str(BAD / "changes-unknown-code.csv"), "--db",
                 str(tmp_path / "s.duckdb"), "--strict")
    assert strict.returncode == 1
    assert ("changes-unknown-code.csv: error: 1 row rejected and --strict "
            "given: nothing loaded") in strict.stdout.splitlines()
    header = write(tmp_path / "changes.csv", CHANGES.replace(",title",
                                                             ",titel"))
    failed = cli("csv", str(header), "--db", str(tmp_path / "f.duckdb"))
    assert failed.returncode == 1
    error = [line for line in failed.stdout.splitlines() if " error: " in line]
    assert len(error) == 1, failed.stdout
    assert error[0].startswith("changes.csv: error: unknown column 'titel'")
    assert error[0].count("changes.csv") == 1


def test_cli_exits_non_zero_on_a_failed_file_and_dry_run_writes_nothing(
        tmp_path):
    path = tmp_path / "cb.duckdb"
    failed = cli("csv", str(BAD / "changes-utf16.csv"), "--db", str(path))
    assert failed.returncode == 1
    assert "NUL byte" in failed.stdout
    dry = cli("csv", str(BAD / "changes-bom.csv"), "--db",
              str(tmp_path / "dry.duckdb"), "--dry-run")
    assert dry.returncode == 0 and "nothing was written" in dry.stdout
    assert not (tmp_path / "dry.duckdb").exists() or rows(
        tmp_path / "dry.duckdb", "select count(*) from changes") == [(0,)]


@pytest.mark.parametrize("name", sorted(
    p.name for p in (Path(__file__).parent / "data" / "bad").glob("*.csv")))
def test_large_files_read_in_place_give_what_the_byte_path_gives(
        name, monkeypatch):
    # large files (>= FAST_BYTES) are read from a memory map; with the
    # threshold lowered, every corpus file must come out the same both ways
    from ingest import canonical
    from ingest.errors import FileError
    path = Path(__file__).parent / "data" / "bad" / name
    monkeypatch.setattr(canonical, "FAST_BYTES", 1)

    def outcome():
        try:
            return canonical.read(path, table="changes" if name.startswith(
                "ch") else None)
        except FileError as exc:
            return str(exc)

    mapped = outcome()
    monkeypatch.setattr(canonical, "_mapped", lambda *args: None)
    through_bytes = outcome()
    if isinstance(mapped, str):
        assert mapped == through_bytes
    else:
        pd.testing.assert_frame_equal(mapped, through_bytes)
        assert mapped.attrs == through_bytes.attrs


def test_a_load_reports_its_stages_in_order(tmp_path):
    seen = []
    result = ingest.load_path("csv", BAD / "changes-unknown-code.csv",
                              tmp_path / "cb.duckdb", progress=seen.append)
    assert result.status == "succeeded"
    assert seen == ["reading", "copying", "checking", "writing", "publishing"]
    seen.clear()
    ingest.load_path("csv", BAD / "changes-unknown-code.csv",
                     tmp_path / "dry.duckdb", dry_run=True,
                     progress=seen.append)
    assert seen == ["reading", "copying", "checking", "writing"]
    seen.clear()
    failed = ingest.load_path("csv", BAD / "changes-missing-required-column.csv",
                              tmp_path / "cb.duckdb", progress=seen.append)
    assert failed.status == "failed" and seen == ["reading"]


def test_the_cli_progress_bar_advances_through_the_stages_of_a_large_file():
    import io

    from ingest.progress import Stages
    stream = io.StringIO()
    bar = Stages("changes.csv", Stages.LARGE, stream=stream)
    for stage in ("reading", "copying", "checking", "writing", "publishing"):
        bar(stage)
    bar.finish()
    lines = [line.rsplit(" ", 2)[0] for line in stream.getvalue().splitlines()]
    assert lines == [
        "changes.csv: [........................]   0% reading",
        "changes.csv: [##########..............]  40% copying",
        "changes.csv: [###########.............]  45% checking",
        "changes.csv: [################........]  65% writing",
        "changes.csv: [#######################.]  95% publishing",
        "changes.csv: [########################] 100% done"]
    small = io.StringIO()
    quiet = Stages("small.csv", 1000, stream=small)
    quiet("reading")
    quiet.finish()
    assert small.getvalue() == ""


# --- your own data replaces the sample ---------------------------------------

def sample_copy(sample_db, tmp_path) -> Path:
    import shutil
    path = tmp_path / "cb.duckdb"
    shutil.copyfile(sample_db, path)
    return path


def status(path):
    with db.connect(path, read_only=True) as con:
        return db.run(con, "data_status").iloc[0]


def test_a_load_replaces_the_sample_in_the_same_publish(sample_db, tmp_path):
    path = sample_copy(sample_db, tmp_path)
    before = status(path)
    assert before["is_sample"] and not before["has_own_data"]
    file = changes_csv(tmp_path / "changes.csv", ["OWN-1", "OWN-2"])
    dry = ingest.load_path("csv", file, path, dry_run=True,
                           replace_sample=True)
    assert dry.sample_rows_removed == before["n_sample_rows"]
    assert status(path)["n_sample_rows"] == before["n_sample_rows"]
    result = ingest.load_path("csv", file, path, replace_sample=True)
    assert result.status == "succeeded"
    assert result.sample_rows_removed == before["n_sample_rows"]
    after = status(path)
    assert (after["is_sample"], after["has_own_data"], after["n_changes"],
            after["n_environments"]) == (False, True, 2, 0)


def test_a_failed_load_keeps_the_sample(sample_db, tmp_path):
    path = sample_copy(sample_db, tmp_path)
    n_sample = status(path)["n_sample_rows"]
    bad = write(tmp_path / "changes.csv", CHANGES.replace(",title", ",titel")
                + "X1,normal,closed,2024-03-12T15:15:00Z,t,\n")
    strict = write(tmp_path / "changes-strict.csv",
                   CHANGES + "X2,urgent,closed,2024-03-12T15:15:00Z,t,\n")
    for file, kw in ((bad, {}), (strict, {"strict": True})):
        result = ingest.load_path("csv", file, path, replace_sample=True, **kw)
        assert result.status == "failed" and result.batch_id is not None
        assert result.sample_rows_removed == 0
    assert status(path)["n_sample_rows"] == n_sample
    assert rows(path, "select count(*) from ingest_rejects where batch_id = "
                "(select max(batch_id) from ingest_batches)") == [(1,)]


def test_a_load_of_no_rows_keeps_the_sample(sample_db, tmp_path):
    """A first file holding its header alone removed the sample's 21,464
    rows and loaded none: an empty dashboard and none of the user's data,
    exit 0. The sample stays until a load brings a row; the load is
    recorded beside it. A file whose every row is rejected is a failed
    load, its rejects recorded (it was a succeeded one, and moved the
    data's as-of though no row changed)."""
    path = sample_copy(sample_db, tmp_path)
    n_sample = status(path)["n_sample_rows"]
    header = write(tmp_path / "changes.csv", CHANGES)
    rejected = write(tmp_path / "changes-bad.csv",
                     CHANGES + "X2,urgent,closed,2024-03-12T15:15:00Z,t,\n")
    as_of = []
    for file, outcome in ((header, "succeeded"), (rejected, "failed")):
        result = ingest.load_path("csv", file, path, replace_sample=True)
        assert result.status == outcome and result.batch_id is not None
        assert (result.rows_loaded, result.sample_rows_removed) == (0, 0)
        assert status(path)["n_sample_rows"] == n_sample
        as_of.append(status(path)["as_of"])
    assert result.error.endswith(
        "changes-bad.csv: every one of its 1 row was rejected (most often "
        "unmapped_code: 1): nothing loaded")
    assert as_of[1] == as_of[0]  # the failed load measured nothing new
    assert rows(path, "select count(*) from ingest_rejects where batch_id = "
                "$b", b=result.batch_id) == [(1,)]
    # a row: the sample goes
    file = changes_csv(tmp_path / "changes-own.csv", ["OWN-1"])
    result = ingest.load_path("csv", file, path, replace_sample=True)
    assert result.sample_rows_removed == n_sample
    assert status(path)["n_sample_rows"] == 0


def test_a_strict_load_refused_beside_the_sample_lists_its_own_rejects(
        sample_db, tmp_path):
    """A --strict first load whose ids the sample also uses (an export
    numbered from CHG0000001, as the sample's) and one bad row: it is
    refused and the sample kept, but its rejects were those of the file
    loaded again beside the sample: every good row 'owned by source
    servicenow', the sample's, and the error counted them all."""
    path = sample_copy(sample_db, tmp_path)
    n_sample = status(path)["n_sample_rows"]
    ids = ["CHG0000001", "CHG0000002", "CHG0000003"]
    with db.connect(path, read_only=True) as con:
        assert con.execute("select count(*) from changes where change_id in "
                           "$ids", {"ids": ids}).fetchall() == [(3,)]
    file = write(tmp_path / "changes.csv", CHANGES + "".join(
        f"{i},normal,closed,2024-03-12T15:15:00Z,t,2024-03-14T00:00:00Z\n"
        for i in ids) + "CHG0000004,normal,closed,12/03/2024,t,\n")
    result = ingest.load_path("csv", file, path, replace_sample=True,
                              strict=True)
    assert result.status == "failed" and result.sample_rows_removed == 0
    assert status(path)["n_sample_rows"] == n_sample
    assert (result.rows_read, result.rows_rejected, result.reasons) == (
        4, 1, [("bad_timestamp", 1)])
    assert rows(path, "select row_number, reason from ingest_rejects where "
                "batch_id = $b", b=result.batch_id) == [(5, "bad_timestamp")]


def test_cli_replaces_the_sample_unless_kept_and_can_remove_it(
        sample_db, tmp_path):
    kept = sample_copy(sample_db, tmp_path)
    file = changes_csv(tmp_path / "changes.csv", ["OWN-1"])
    result = cli("csv", str(file), "--db", str(kept), "--keep-sample")
    assert result.returncode == 0, result.stderr
    assert "removed first" not in result.stdout
    mixed = status(kept)
    assert mixed["is_sample"] and mixed["has_own_data"]
    removed = cli("--remove-sample", "--db", str(kept))
    assert f"removed {int(mixed['n_sample_rows']):,} sample rows" in \
        removed.stdout
    assert not status(kept)["is_sample"]
    replaced = tmp_path / "r" / "cb.duckdb"
    replaced.parent.mkdir()
    replaced.write_bytes(Path(sample_db).read_bytes())
    result = cli("csv", str(file), "--db", str(replaced))
    assert result.returncode == 0, result.stderr
    assert "rows were removed first" in result.stdout
    assert (status(replaced)["is_sample"], status(replaced)["n_changes"]) == (
        False, 1)


def test_own_files_in_a_folder_named_sample_data_are_own_data(
        sample_db, tmp_path):
    """The sample was told apart by its batches' file names (sample_data/…):
    a team's file loaded as sample_data/changes.csv counted as the sample
    and the next load deleted its rows. The sample build's batches carry
    their own author instead, which no load can give itself."""
    path = tmp_path / "cb.duckdb"
    own = changes_csv(tmp_path / "changes.csv", ["OWN-1", "OWN-2"])
    # as `python -m ingest csv sample_data/changes.csv` records it
    ingest.load_path("csv", own, path, file_name="sample_data/changes.csv")
    assert rows(path, "select file_name from ingest_batches") == [
        ("sample_data/changes.csv",)]
    mine = status(path)
    assert (mine["is_sample"], mine["has_own_data"], mine["n_sample_rows"]) \
        == (False, True, 0)
    (tmp_path / "later").mkdir()
    later = changes_csv(tmp_path / "later" / "changes.csv", ["OWN-3"])
    more = ingest.load_path("csv", later, path,
                            replace_sample=True)
    assert more.sample_rows_removed == 0
    assert status(path)["n_changes"] == 3
    # the generated sample is still the sample, also in a database written
    # before its batches had their author (migration 7)
    (tmp_path / "s").mkdir()
    copy = sample_copy(sample_db, tmp_path / "s")
    assert status(copy)["is_sample"]
    with db.connect(copy) as con:
        con.execute("update ingest_batches set loaded_by = 'cli:someone'")
        con.execute("update schema_version set version = 6")
    assert status(copy)["is_sample"]


def test_a_nul_inside_one_field_rejects_only_that_row(tmp_path):
    path = tmp_path / "cb.duckdb"
    result = ingest.load_path("csv", BAD / "changes-nul.csv", path)
    assert result.status == "succeeded", result.error
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        5, 4, 1)
    (row, column, value, reason, detail, raw), = rows(
        path, "select row_number, column_name, value, reason, detail, "
        "raw_record->>'title' from ingest_rejects")
    assert (row, column, value, reason) == (4, "title", "nor\\x00mal",
                                            "nul_byte")
    assert "NUL byte at character 4" in detail and raw == "nor\x00mal"
    # UTF-16 and binary files are still refused whole
    for name in ("changes-utf16.csv", "changes-binary.csv"):
        failed = ingest.load_path("csv", BAD / name, path)
        assert failed.status == "failed" and "NUL byte" in failed.error


def test_a_dry_run_neither_waits_for_nor_takes_the_writer_lock(tmp_path):
    import fcntl
    import threading
    path = tmp_path / "cb.duckdb"
    ingest.load_path("csv", BAD / "changes-unknown-code.csv", path)
    done = []
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # a long load is publishing
        worker = threading.Thread(target=lambda: done.append(
            ingest.load_path("csv", BAD / "changes-nul.csv", path,
                             dry_run=True)))
        worker.start()
        worker.join(timeout=60)
        assert done and done[0].status == "dry_run"
    assert rows(path, "select count(*) from ingest_batches") == [(1,)]


def test_a_dry_run_of_several_files_shows_what_loading_them_would_do(
        sample_db, tmp_path):
    """The files of a dry run are checked in turn, as a load publishes
    them: each against the database as the ones before it left it (the
    second file updates what the first added; the sample is removed once),
    and nothing is written."""
    (tmp_path / "second").mkdir()
    first = changes_csv(tmp_path / "changes.csv", ["C1", "C2"])
    second = changes_csv(tmp_path / "second" / "changes.csv", ["C2", "C3"],
                         title="retitled")
    (tmp_path / "dry").mkdir()
    (tmp_path / "real").mkdir()
    dry_db = sample_copy(sample_db, tmp_path / "dry")
    real_db = sample_copy(sample_db, tmp_path / "real")
    before = sha256_of(dry_db)

    def rows_of(out):   # file, table, batch, status, read, loaded, new...
        lines = out.stdout.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("file"))
        return [line.split() for line in lines[at + 1:at + 3]]

    def table(out):   # without the batch and the status
        return [row[:2] + row[4:] for row in rows_of(out)]

    dry = cli("csv", str(first), str(second), "--db", str(dry_db), "--dry-run")
    real = cli("csv", str(first), str(second), "--db", str(real_db))
    assert dry.returncode == 0 and real.returncode == 0, dry.stderr
    assert table(dry) == table(real)
    assert table(dry)[1][2:6] == ["2", "2", "1", "1"]  # read, loaded, new, upd.
    assert dry.stdout.count("rows would be removed first") == 1
    assert [row[2:4] for row in rows_of(dry)] == [["-", "dry_run"]] * 2
    assert "nothing was written" in dry.stdout
    assert sha256_of(dry_db) == before


def test_the_cli_says_which_rows_a_snapshot_deletes(tmp_path):
    mapping = tmp_path / "snap.toml"
    mapping.write_text('[source]\nname = "snap"\ntable = "changes"\n'
                       'mode = "snapshot"\n[columns]\nchange_id = "id"\n'
                       'change_type = "type"\nstate = "state"\n'
                       'created_at = "created"\n')
    data = tmp_path / "export.csv"
    path = tmp_path / "cb.duckdb"
    header = "id,type,state,created\n"
    data.write_text(header + "S1,normal,new,2026-01-05 09:00:00\n"
                    "S2,normal,new,2026-01-05 09:00:00\n")
    assert cli("mapping", str(data), "--mapping", str(mapping), "--db",
               str(path)).returncode == 0
    data.write_text(header + "S1,normal,new,2026-01-05 09:00:00\n")
    dry = cli("mapping", str(data), "--mapping", str(mapping), "--db",
              str(path), "--dry-run")
    assert dry.returncode == 0
    assert ("snapshot of source snap would delete 1 stored changes row not "
            "in the file (first: S2)") in dry.stdout
    assert rows(path, "select count(*) from changes") == [(2,)]


def _read_as_text(path, table):
    """canonical.read's rows as plain text cells, or its error message; the
    bookkeeping columns only the csv module adds are dropped when empty."""
    from ingest import canonical
    from ingest.errors import FileError
    try:
        frame = canonical.read(path, table=table)
    except FileError as exc:
        return str(exc)
    frame = frame.astype(object).where(frame.notna(), None)
    unused = [c for c in frame.columns
              if c.startswith(("_reject", "raw_record"))
              and frame[c].isna().all()]
    return (frame.drop(columns=unused).to_dict("records"),
            frame.attrs["batch"].warnings)


def test_pyarrow_and_the_csv_module_read_the_bad_corpus_alike(monkeypatch):
    # files of FAST_BYTES and more go through pyarrow first, smaller ones
    # through the csv module; whichever reads it, every corpus file gives
    # the same rows, rejects (row, column, value), warnings and errors
    from ingest import canonical
    for source in sorted(BAD.glob("*.csv")):
        table = "changes" if source.name.startswith("ch") else None
        monkeypatch.setattr(canonical, "FAST_BYTES", 1)
        fast = _read_as_text(source, table)
        monkeypatch.setattr(canonical, "FAST_BYTES", 1 << 40)
        slow = _read_as_text(source, table)
        assert fast == slow, source.name

def test_a_sample_file_loads_the_same_rows_through_either_reader(
        tmp_path, monkeypatch):
    from ingest import canonical
    from sample_data import generate
    generate(tmp_path / "csv", seed=5, scale=0.2)
    changes = tmp_path / "csv" / "changes.csv"
    loaded = {}
    for name, threshold in (("fast", 1), ("slow", 1 << 40)):
        monkeypatch.setattr(canonical, "FAST_BYTES", threshold)
        target = tmp_path / f"{name}.duckdb"
        result = ingest.load_path("csv", changes, target)
        assert result.status == "succeeded" and result.rows_rejected == 0
        loaded[name] = rows(target, "select * exclude (ingested_batch_id) "
                                    "from changes order by change_id")
    assert len(loaded["fast"]) > 100
    assert loaded["fast"] == loaded["slow"]


def test_pyarrow_reads_the_columns_rows_share_dictionary_encoded(
        tmp_path, monkeypatch):
    # codes, flags and shared ids/groups are held once per distinct value
    # (a million changes' frame about 160 MB smaller); keys, free text and
    # instants stay plain text. Loaded the same either way (the test above)
    import pandas as pd
    import pyarrow as pa

    from ingest import canonical
    from sample_data import generate
    generate(tmp_path / "csv", seed=5, scale=0.2)
    monkeypatch.setattr(canonical, "FAST_BYTES", 1)  # through pyarrow
    frame = canonical.read(tmp_path / "csv" / "changes.csv")
    assert len(frame) > 1000

    def encoded(column):
        dtype = frame[column].dtype
        return isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(
            dtype.pyarrow_dtype)
    assert all(encoded(c) for c in ("state", "approval", "is_cab_required",
                                    "application_id", "assignment_group"))
    assert not any(encoded(c) for c in ("change_id", "title",
                                        "planned_start_at"))


@pytest.mark.parametrize("fast", [False, True])
def test_an_environment_time_zone_must_be_an_iana_name(
        tmp_path, monkeypatch, fast):
    # an unknown zone loaded made every later publish fail (the derived
    # tables read it); it is rejected, a padded one trimmed
    from ingest import canonical
    monkeypatch.setattr(canonical, "FAST_BYTES", 1 if fast else 1 << 40)
    path = tmp_path / "cb.duckdb"
    bookings = tmp_path / "environment_bookings.csv"
    bookings.write_text(
        "booking_id,environment_id,status,start_at,end_at\n"
        "B1,E1,approved,2024-03-12T10:00:00Z,2024-03-12T11:00:00Z\n")
    assert ingest.load_path("csv", bookings, path).status == "succeeded"
    environments = tmp_path / "environments.csv"
    environments.write_text(
        "environment_id,name,tier,timezone,availability\n"
        "E1,prod,prod,Europe/Berln,business_hours\n"
        "E2,uat,uat, Europe/Berlin ,business_hours\n"
        "E3,sit,sit,,always\n")
    result = ingest.load_path("csv", environments, path)
    assert (result.status, result.rows_loaded, result.rows_rejected) == (
        "succeeded", 2, 1)
    assert rows(path, "select row_number, column_name, value, reason, detail "
                      "from ingest_rejects") == [
        (2, "timezone", "Europe/Berln", "unmapped_code",
         "not an IANA time zone name (e.g. Europe/Berlin)")]
    assert rows(path, "select environment_id, timezone from environments "
                      "order by 1") == [("E2", "Europe/Berlin"), ("E3", None)]
    # the next publish reads the environments: it works
    again = tmp_path / "environment_bookings-2.csv"
    again.write_text(bookings.read_text().replace("B1,", "B2,"))
    assert ingest.load_path("csv", again, path).status == "succeeded"


def test_a_file_with_cr_only_line_ends_is_a_failed_batch(tmp_path):
    # it raised out of load_path (the csv module's error), recording nothing
    path = tmp_path / "cb.duckdb"
    source = tmp_path / "changes.csv"
    source.write_bytes(b"change_id,change_type,state,created_at\r"
                       b"C1,normal,closed,2024-03-12T15:15:00Z\r")
    result = ingest.load_path("csv", source, path)
    assert result.status == "failed"
    assert "CR-only line ends" in result.error
    assert rows(path, "select status, error is not null from "
                      "ingest_batches") == [("failed", True)]


@pytest.mark.parametrize("fast", [False, True])
def test_tabs_around_values_are_trimmed_like_spaces(tmp_path, monkeypatch,
                                                    fast):
    # DuckDB's trim() leaves tabs: a code with a tab was unmapped and a key
    # with one a different id; free text of tabs alone is blank (NULL)
    from ingest import canonical
    monkeypatch.setattr(canonical, "FAST_BYTES", 1 if fast else 1 << 40)
    path = tmp_path / "cb.duckdb"
    source = tmp_path / "changes.csv"
    source.write_text(
        "change_id,change_type,state,created_at,risk,priority,title\n"
        "C1,normal,closed,2024-03-12T15:15:00Z,low\t,\t3,\t\n"
        "C2\t,normal,closed,2024-03-12T15:15:00Z,low,3,a\tb\n"
        " C3 ,normal,closed,2024-03-12T15:15:00Z, \tlow \t,3,x\n")
    result = ingest.load_path("csv", source, path)
    assert result.reasons == [] and result.rows_loaded == 3
    assert rows(path, "select change_id, risk, priority, title from changes "
                      "order by 1") == [
        ("C1", "low", 3, None), ("C2", "low", 3, "a\tb"), ("C3", "low", 3, "x")]


@pytest.mark.parametrize("value, utc", [
    ("2024-03-12t15:15:00Z", "2024-03-12 15:15:00+00"),
    ("2024-03-12T15:15:00z", "2024-03-12 15:15:00+00"),
    ("2024-03-12t16:15:00+01:00", "2024-03-12 15:15:00+00")])
def test_iso_instants_may_write_t_and_z_in_lower_case(
        tmp_path, value, utc):
    path = tmp_path / "cb.duckdb"
    source = tmp_path / "changes.csv"
    source.write_text("change_id,change_type,state,created_at\n"
                      f"C1,normal,closed,{value}\n")
    result = ingest.load_path("csv", source, path)
    assert (result.rows_loaded, result.reasons) == (1, [])
    assert rows(path, "select cast(created_at as varchar) from changes") == [
        (utc,)]


def test_lower_case_t_and_z_in_a_frame_with_its_own_time_zone(tmp_path):
    frame = pd.DataFrame({
        "change_id": ["C1", "C2"], "change_type": ["normal"] * 2,
        "state": ["new"] * 2,
        "created_at": ["2024-03-12t10:00", "2024-03-12t10:00:00z"]})
    frame.attrs["batch"] = Batch(source="csv", table="changes",
                                 timezone="Europe/Amsterdam")
    path = tmp_path / "cb.duckdb"
    result = loader.load(frame, path, file_name="f.csv", sha256="x")
    assert result.reasons == []
    assert rows(path, "select change_id, strftime(created_at, '%H:%M') from "
                "changes order by 1") == [("C1", "09:00"), ("C2", "10:00")]


def load_mapped(tmp_path, mapping: str, data: str):
    """`data` (a CSV's text) loaded with the mapping file `mapping` (its
    TOML) into tmp_path/cb.duckdb."""
    return ingest.load_path(
        "mapping", write(tmp_path / "x.csv", data), tmp_path / "cb.duckdb",
        options={"mapping": write(tmp_path / "m.toml", mapping)})


ZONED_MAPPING = '''[source]
name = "mine"
table = "changes"
timezone = "{zone}"
[columns]
change_id = "id"
change_type = {{ value = "normal" }}
state = {{ value = "closed" }}
created_at = "opened"
'''


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC"])
def test_a_zone_named_after_the_time_is_the_instants_zone(tmp_path, zone):
    """With a mapping in Europe/Berlin, '10:00:00 UTC' and '10:00:00
    America/New_York' both loaded as 09:00Z: the timestamp cast dropped the
    zone's name and read the time in Berlin. In UTC they loaded right: the
    same text gave another instant by the file's zone."""
    result = load_mapped(tmp_path, ZONED_MAPPING.format(zone=zone),
                         "id,opened\n"
                         "C1,2024-03-12 10:00:00 UTC\n"
                         "C2,2024-03-12 10:00:00 America/New_York\n"
                         "C3,2024-03-12 10:00:00\n")
    assert (result.rows_loaded, result.rows_rejected) == (3, 0)
    local = "09:00" if zone == "Europe/Berlin" else "10:00"
    assert rows(tmp_path / "cb.duckdb", "select change_id, strftime("
                "created_at at time zone 'UTC', '%H:%M') from changes "
                "order by 1") == [("C1", "10:00"), ("C2", "14:00"),
                                  ("C3", local)]


def test_an_empty_or_null_version_is_the_oldest_copy_not_a_tie(tmp_path):
    """duplicate_ids = "latest" by sys_mod_count: one '?' (a null value) or
    empty version made the column non-numeric, every version failed to parse
    as a time, and every id with several versions was rejected."""
    result = load_mapped(tmp_path, '''[source]
name = "inc"
table = "incidents"
null_values = ["?"]
duplicate_ids = "latest"
latest_by = "sys_mod_count"
[columns]
incident_id = "number"
opened_at = "opened_at"
resolved_at = "resolved_at"
''', "number,sys_mod_count,opened_at,resolved_at\n"
                 "INC1,0,2024-03-12 10:00:00,?\n"
                 "INC1,1,2024-03-12 10:00:00,2024-03-12 12:00:00\n"
                 "INC2,?,2024-03-12 10:00:00,?\n"
                 "INC2,3,2024-03-12 10:00:00,2024-03-13 12:00:00\n"
                 "INC3,,2024-03-12 10:00:00,?\n"
                 "INC3,2,2024-03-12 10:00:00,2024-03-14 12:00:00\n")
    assert (result.rows_loaded, result.rows_rejected,
            result.rows_superseded) == (3, 0, 3)
    assert len(rows(tmp_path / "cb.duckdb", "select incident_id from "
                    "incidents where resolved_at is not null")) == 3


def test_a_merge_min_or_max_never_drops_an_instant_it_cannot_read(tmp_path):
    """duplicate_ids = "merge" with min/max on instants ranked them as text:
    '5/3/2024 09:00' sorted after the ISO text and lost the min, silently.
    It now wins the merge and is rejected, naming the value."""
    result = load_mapped(tmp_path, '''[source]
name = "mine"
table = "changes"
duplicate_ids = "merge"
[columns]
change_id = "id"
change_type = { value = "normal" }
state = { value = "closed" }
created_at = "opened"
planned_start_at = { from = "start", merge = "min" }
planned_end_at = { from = "end", merge = "max" }
''', "id,opened,start,end\n"
                 "C1,2024-03-01 10:00:00,2024-03-05 10:00:00,"
                 "2024-03-05 12:00:00\n"
                 "C1,2024-03-01 10:00:00,5/3/2024 09:00,2024-03-05 13:00:00\n"
                 "C2,2024-03-01 10:00:00,2024-03-06 10:00:00,"
                 "2024-03-06 12:00:00\n"
                 "C2,2024-03-01 10:00:00,2024-03-06 08:00:00,"
                 "2024-03-06 11:00:00\n")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert rows(tmp_path / "cb.duckdb", "select column_name, value, reason "
                "from ingest_rejects") == [
        ("planned_start_at", "5/3/2024 09:00", "bad_timestamp")]
    assert rows(tmp_path / "cb.duckdb", "select change_id, strftime("
                "planned_start_at, '%H:%M'), strftime(planned_end_at, "
                "'%H:%M') from changes") == [("C2", "08:00", "12:00")]


def test_a_year_before_1900_is_rejected_unless_a_format_reads_it(tmp_path):
    """'24-03-12 10:00:00' (no format read it) loaded as the year 24: the
    loader's timestamp cast takes a two-digit year as it is, and a format's
    %Y reads '12.03.0024' as the year 24 too. Such a year is never a change
    date: rejected, saying why; a declared %y reads 24 as 2024."""
    result = load_mapped(tmp_path, ZONED_MAPPING.format(zone="UTC").replace(
        "[columns]", 'date_formats = ["%d.%m.%Y %H:%M", "%d.%m.%y %H:%M", '
        '"%Y-%m-%d %H:%M:%S"]\n[columns]'),
        "id,opened\nC1,12.03.2024 10:00\nC2,12.03.24 10:00\n"
        "C3,24-03-12 10:00:00\nC4,12.03.0024 10:00\n")
    assert (result.rows_loaded, result.rows_rejected) == (2, 2)
    assert rows(tmp_path / "cb.duckdb", "select change_id, strftime("
                "created_at, '%Y-%m-%d') from changes order by 1") == [
        ("C1", "2024-03-12"), ("C2", "2024-03-12")]
    found = rows(tmp_path / "cb.duckdb", "select row_number, reason, detail "
                 "from ingest_rejects order by 1")
    assert [r[:2] for r in found] == [(4, "bad_timestamp"),
                                      (5, "bad_timestamp")]
    assert all("before 1900" in r[2] and "year 24" in r[2] for r in found), \
        found


def test_a_reject_shows_the_value_as_the_file_wrote_it(tmp_path):
    """A reject's value (and a bad_interval's detail) showed the adapter's
    UTC text (`2024-03-12T08:00:00Z`), not the cell the user can find in
    the file (`12.03.2024 09:00`)."""
    result = load_mapped(tmp_path, '''[source]
name = "plutora"
table = "environment_bookings"
timezone = "Europe/Berlin"
date_formats = ["%d.%m.%Y %H:%M"]
[columns]
booking_id = "Id"
environment_id = "Env"
start_at = "Start at"
end_at = "End/at"
status = { value = "approved" }
''', "Id,Env,Start at,End/at\nB1,E1,12.03.2024 10:00,12.03.2024 09:00\n"
         "B2,E1,12.03.2024 10:00,12.03.2024 11:00\n"
         "B3,E1, 12.03.0024 10:00,12.03.2024 11:00\n")
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    assert rows(tmp_path / "cb.duckdb", "select row_number, column_name, "
                "value, reason, detail from ingest_rejects order by 1") == [
        (2, "end_at", "12.03.2024 09:00", "bad_interval",
         "end_at is not after start_at 12.03.2024 10:00"),
        (4, "start_at", " 12.03.0024 10:00", "bad_timestamp",
         "read as the year 24, before 1900: a two-digit year? write four "
         "digits (or declare the format, e.g. %y)")]


def test_a_servicenow_reject_shows_the_cell_of_the_header_read(tmp_path):
    """Field names or labels, coalesced: the value is the cell read."""
    export = write(tmp_path / "change_request.csv",
                   "number,type,state,Opened,sys_updated_on\n"
                   "CHG1,Normal,Closed,12.03.0024 10:00:00,"
                   "13.03.2024 10:00:00\n")
    result = ingest.load_path("servicenow", export, tmp_path / "cb.duckdb",
                              options={"date_format": "%d.%m.%Y %H:%M:%S",
                                       "timezone": "Europe/Berlin"})
    assert result.rows_rejected == 1
    assert rows(tmp_path / "cb.duckdb", "select column_name, value from "
                "ingest_rejects") == [("created_at", "12.03.0024 10:00:00")]


def test_a_merge_conflict_shows_the_differing_cells_as_the_file_wrote_them(
        tmp_path, capsys):
    """A mapping's merge_conflict showed the adapter's values (UTC text
    `2024-03-12T08:00:00Z | 2024-03-12T09:00:00Z`, codes `closed | new`)
    where the file has `12.03.2024 09:00` and `Done`: now each differing
    value as its first row wrote it; one a `when` rule gave, as the
    mapping writes it."""
    from changeboard.cli.load import summary

    result = load_mapped(tmp_path, '''[source]
name = "mine"
table = "changes"
timezone = "Europe/Berlin"
date_formats = ["%d.%m.%Y %H:%M"]
duplicate_ids = "merge"
id_prefix = "x:"
[columns]
change_id = "Id"
change_type = { from = "Type", values = "type", when = { column = "Emergency", equals = "Y", value = "emergency" } }
state = { from = "Status", values = "state" }
created_at = "Opened"
ci_name = { from = "CI", merge = "first" }
[values.type]
"Normal" = "normal"
[values.state]
"Done" = "closed"
"Open" = "new"
''', "Id,Type,Emergency,Status,Opened,CI\n"
         "C1,Normal,N,Done,12.03.2024 09:00,a\n"
         "C1,Normal,N,Done, 12.03.2024 10:00,b\n"
         "C2,Normal,N,Done,12.03.2024 09:00,a\n"
         "C2,Normal,N,Open,12.03.2024 09:00,b\n"
         "C2,Normal,N,done,12.03.2024 09:00,c\n"
         "C3,Normal,N,Done,12.03.2024 09:00,a\n"
         "C3,Normal,Y,Done,12.03.2024 09:00,b\n"
         "C4,Normal,N,Done,12.03.2024 09:00,a\n"
         "C4,normal,N,done,12.03.2024 09:00,b\n")
    assert (result.rows_loaded, result.rows_rejected,
            result.rows_merged) == (1, 7, 1)
    times = "12.03.2024 09:00 |  12.03.2024 10:00"  # the second's space too
    assert rows(tmp_path / "cb.duckdb", "select row_number, column_name, "
                "value, reason from ingest_rejects order by 1") == [
        (2, "created_at", times, "merge_conflict"),
        (3, "created_at", times, "merge_conflict"),
        (4, "state", "Done | Open", "merge_conflict"),
        (5, "state", "Done | Open", "merge_conflict"),
        (6, "state", "Done | Open", "merge_conflict"),
        (7, "change_type", "Normal | emergency", "merge_conflict"),
        (8, "change_type", "Normal | emergency", "merge_conflict")]
    # and so the message names the file, row, column and value
    summary([result])
    said = capsys.readouterr().out
    assert f"  row 2: merge_conflict in created_at (the file's Opened) = " \
        f"{times!r}" in said
    assert "  row 4: merge_conflict in state (the file's Status) = 'Done " \
        "| Open'" in said


def test_a_jira_issue_type_reject_shows_the_cell_as_written(tmp_path):
    export = write(tmp_path / "jira.csv",
                   "Issue key,Issue Type,Status,Created,"
                   "Custom field (Change type)\n"
                   "J1,Change,Done,12/Mar/24 9:00 AM,Normal\n"
                   "J2, Service request ,Done,12/Mar/24 9:00 AM,Normal\n")
    result = ingest.load_path("jira", export, tmp_path / "cb.duckdb")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert rows(tmp_path / "cb.duckdb", "select row_number, column_name, "
                "value, reason from ingest_rejects") == [
        (3, "Issue Type", " Service request ", "wrong_issue_type")]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_a_bad_instant_is_not_called_a_dst_gap_unless_it_is_one(tmp_path,
                                                                 zone):
    """'2024-03-12 10:00 +25:00' (no such offset) and '2024-02-30 10:00' (no
    such day) were 'does not exist in UTC (DST gap) or out of range'; and
    DuckDB's cast read '10:00+25:00' as 09:00 the day before and '+01:60'
    as +02:00: silently another instant."""
    result = load_mapped(tmp_path, ZONED_MAPPING.format(zone=zone),
                         "id,opened\nC1,2024-03-12 10:00+25:00\n"
                         "C2,2024-02-30 10:00\nC3,2024-03-12 25:00\n"
                         "C4,2024-03-31 02:30\nC5,2024-03-12 10:00+1:0\n"
                         "C6,2024-03-12 10:00 +25:00\n"
                         "C7,2024-03-12 10:00:00+01:60\n"
                         "C8,2024-03-12 10:00:00-05:00\n"
                         "C9,2024-03-12 10:00+0530\n"
                         "C10,2024-03-12 10:00 Etc/GMT+5\n")
    found = dict(rows(tmp_path / "cb.duckdb", "select value, detail from "
                      "ingest_rejects"))
    for value in ("2024-03-12 10:00+25:00", "2024-03-12 10:00 +25:00",
                  "2024-03-12 10:00+1:0", "2024-03-12 10:00:00+01:60"):
        offset = value[value.rindex(" ") + 1:].replace("10:00:00", "").replace(
            "10:00", "")
        assert found.pop(value) == (f"offset {offset} is not a UTC offset "
                                    "(+hh:mm, -12:00 to +14:00)"), value
    assert found.pop("2024-02-30 10:00") == "no such date or time of day"
    assert found.pop("2024-03-12 25:00") == "no such date or time of day"
    assert rows(tmp_path / "cb.duckdb", "select change_id, strftime(created_at"
                " at time zone 'UTC', '%d %H:%M') from changes where "
                "change_id in ('C8', 'C9', 'C10') order by 1") == [
        ("C10", "12 15:00"), ("C8", "12 15:00"), ("C9", "12 04:30")]
    if zone == "UTC":
        assert result.rows_loaded == 4
    else:
        assert found.pop("2024-03-31 02:30") == (
            "does not exist in Europe/Berlin (DST gap: the spring-forward "
            "hour)")
    assert found == {}


CORRECTED = '''[source]
name = "site"
table = "changes"
timezone = "{zone}"
date_formats = ["%d.%m.%Y %H:%M"]
[columns]
change_id = "id"
change_type = {{ value = "normal" }}
state = {{ value = "closed" }}
created_at = "opened"
updated_at = "updated"
'''


def test_a_file_read_again_with_a_corrected_mapping_is_loaded_again(tmp_path):
    """The file's identity was its SHA-256 alone: read again with the
    mapping's time zone corrected it was 'unchanged' and the fix never
    applied; and, read so, its rows (an hour earlier in UTC) were
    older_than_stored against the copies it had itself written."""
    path, data = tmp_path / "cb.duckdb", write(
        tmp_path / "export.csv", "id,opened,updated\n"
        "C1,12.03.2024 10:00,14.03.2024 10:00\n"
        "C2,12.03.2024 11:00,14.03.2024 11:00\n")
    other = write(tmp_path / "later.csv", "id,opened,updated\n"
                  "C2,12.03.2024 11:00,15.03.2024 09:00\n")

    def load(csv, zone):
        return ingest.load_path("mapping", csv, path, options={
            "mapping": write(tmp_path / "m.toml",
                             CORRECTED.format(zone=zone))})

    assert load(data, "UTC").rows_loaded == 2
    assert load(other, "UTC").rows_updated == 1   # C2 by a later export
    again = load(data, "Europe/Berlin")
    assert again.status == "succeeded", again.error
    # C1 was written by this file: replaced; C2's stored copy is another
    # export's, newer: that one stays
    assert (again.rows_updated, again.rows_rejected) == (1, 1)
    assert again.reasons == [("older_than_stored", 1)]
    assert rows(path, "select change_id, strftime(created_at, '%H:%M'), "
                "strftime(updated_at, '%d %H:%M') from changes order by 1") == [
        ("C1", "09:00", "14 09:00"), ("C2", "11:00", "15 09:00")]
    third = load(data, "Europe/Berlin")
    assert (third.status, third.already_loaded) == ("unchanged",
                                                    again.batch_id)
    assert load(data, "UTC").status == "succeeded"   # read as at first


def test_an_export_read_again_with_corrected_overrides_is_loaded_again(
        tmp_path):
    """The same for an overrides file: its time zone is part of how the
    file is read."""
    path = tmp_path / "cb.duckdb"
    export = write(tmp_path / "change_request.csv",
                   "number,type,state,opened_at,sys_updated_on\n"
                   "CHG1,Normal,Closed,12.03.2024 10:00,14.03.2024 10:00\n")

    def load(zone):
        site = write(tmp_path / "site.toml", "[source]\ndate_formats = "
                     f'["%d.%m.%Y %H:%M"]\ntimezone = "{zone}"\n')
        return ingest.load_path("servicenow", export, path,
                                options={"mapping": site})

    assert load("UTC").rows_loaded == 1
    assert (load("Europe/Berlin").rows_updated, load("Europe/Berlin").status
            ) == (1, "unchanged")
    assert rows(path, "select strftime(created_at, '%H:%M') from changes") \
        == [("09:00",)]


def test_an_offset_written_after_a_space_is_not_called_a_dst_gap(tmp_path):
    """'2024-03-12 10:00 +01:00' (DuckDB's cast takes no space before the
    offset) was 'does not exist in UTC (DST gap ...)'."""
    csv = write(tmp_path / "changes.csv", CHANGES.replace(
        ",title,updated_at", "") + "C1,normal,closed,2024-03-12 10:00 +01:00\n"
        "C2,normal,closed,2024-03-12 10:00:00 Z\n")
    ingest.load_path("csv", csv, tmp_path / "cb.duckdb")
    assert rows(tmp_path / "cb.duckdb", "select distinct detail from "
                "ingest_rejects") == [(
        "write the offset right after the time, without a space "
        "(2024-03-12T15:15:00+01:00)",)]


def test_a_file_whose_dates_no_row_can_read_names_its_sources_way_out(
        tmp_path):
    """Every row rejected for the form of one date column: a warning says
    so once and names how this source is told another format (the mapping's
    date_formats; canonical CSV takes ISO-8601 only, a mapping file reads
    others); a count of one reads in the singular."""
    mapping = write(tmp_path / "m.toml", CORRECTED.format(zone="UTC"))
    export = write(tmp_path / "export.csv", "id,opened,updated\n"
                   "C1,12/03/2024 10:00,14/03/2024 10:00\n")
    result = ingest.load_path("mapping", export, tmp_path / "cb.duckdb",
                              options={"mapping": mapping}, dry_run=True)
    hints = [w for w in result.warnings if "rejected as bad_timestamp" in w]
    assert hints == [
        f"{export.name}: its one row was rejected as bad_timestamp in "
        "created_at "
        "(the file's opened) (the first, row 2: '12/03/2024 10:00'): the "
        "mapping reads the "
        "formats its date_formats lists. To read these dates, give the "
        "file's format as date_formats in the mapping's [source] table "
        '(strptime codes, e.g. date_formats = ["%d/%m/%Y %H:%M"] reads '
        "29/2/2016 01:16)."]
    changes = write(tmp_path / "changes.csv",
                    "change_id,change_type,state,created_at\n" + "".join(
                        f"C{i},normal,closed,12.03.2024 10:00\n"
                        for i in range(9))
                    + "C9,normal,closed,2024-03-12T10:00:00Z\n")
    result = ingest.load_path("csv", changes, tmp_path / "cb.duckdb",
                              dry_run=True)
    assert result.rows_rejected == 9
    hints = [w for w in result.warnings if "rejected as bad_timestamp" in w]
    assert len(hints) == 1 and hints[0].startswith(
        f"{changes.name}: 9 rows of 10 were rejected as bad_timestamp in "
        "created_at (the first, row 2: '12.03.2024 10:00'): canonical CSV "
        "takes ISO-8601 times only (2024-03-12T15:15:00Z). To read these "
        "dates, a mapping file reads other formats")


def test_a_failed_load_with_a_mapping_names_the_table_it_targets(tmp_path):
    """A file the mapping cannot read was recorded (and shown in the load
    history) as table 'unknown': it names the table the mapping is for,
    also when the mapping itself is invalid but says which table."""
    path = tmp_path / "cb.duckdb"
    export = write(tmp_path / "export.csv", "number,opened_at\n"
                   "INC1,29/2/2016 01:16\n")
    result = ingest.load_path("mapping", export, path,
                              options={"mapping": "uci-incidents"})
    assert (result.status, result.table) == ("failed", "incidents")
    assert "column 'cmdb_ci' not in the file" in result.error
    invalid = write(tmp_path / "m.toml", '[source]\nname = "x"\n'
                    'table = "releases"\nbogus = 1\n')
    again = ingest.load_path("mapping", export, path,
                             options={"mapping": invalid})
    assert (again.status, again.table) == ("failed", "releases")
    assert "unknown key 'bogus'" in again.error
    assert rows(path, "select entity, status from ingest_batches order by "
                "batch_id") == [("incidents", "failed"),
                                ("releases", "failed")]


def test_a_duplicate_ids_reject_keeps_the_files_own_text(tmp_path):
    """A row rejected after its checks (duplicate_id) kept its parsed
    values as its raw record ('2026-11-20 08:00:00+00', true, null) where
    every other reject keeps the file's text: it keeps the file's text."""
    import json

    import duckdb
    file = tmp_path / "changes.csv"
    file.write_text(
        "change_id,title,change_type,state,is_cab_required,created_at\n"
        "D1,first,normal,closed,yes,2026-11-20T08:00:00Z\n"
        "D1,second,normal,closed,,2026-11-20T08:00:00Z\n"
        "D2,other,normal,closed,no,2026-11-20T09:00:00Z\n")
    result = ingest.load_path("csv", file, tmp_path / "cb.duckdb")
    assert result.status == "succeeded" and result.rows_loaded == 1
    with duckdb.connect(str(tmp_path / "cb.duckdb"), read_only=True) as con:
        records = [json.loads(r) for r, in con.execute(
            "select raw_record from ingest_rejects where reason = "
            "'duplicate_id' order by row_number").fetchall()]
    assert records == [
        {"change_id": "D1", "title": "first", "change_type": "normal",
         "state": "closed", "is_cab_required": "yes",
         "created_at": "2026-11-20T08:00:00Z"},
        {"change_id": "D1", "title": "second", "change_type": "normal",
         "state": "closed", "is_cab_required": "",
         "created_at": "2026-11-20T08:00:00Z"}]


def test_a_workbook_given_as_a_canonical_csv_is_named_as_one(tmp_path):
    """An .xlsx uploaded as a canonical CSV said 'NUL byte at line 1, byte
    5: not a text CSV (UTF-16 or binary?)': it says it is a workbook, and
    what to do."""
    import openpyxl
    book = openpyxl.Workbook()
    book.active.append(["change_id", "change_type", "state", "created_at"])
    book.active.append(["C1", "normal", "closed", "2026-01-01T00:00:00Z"])
    file = tmp_path / "changes.xlsx"
    book.save(file)
    result = ingest.load_path("csv", file, tmp_path / "cb.duckdb")
    assert result.status == "failed"
    assert result.error == (
        "changes.xlsx: a spreadsheet workbook (XLSX), not a CSV: save it as "
        "CSV UTF-8 for this source; a ServiceNow export in XLSX loads with "
        "the ServiceNow source"), result.error
    import duckdb
    with duckdb.connect(str(tmp_path / "cb.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from changes").fetchone() == (0,)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(1, 200)) * 8


@pytest.mark.parametrize("source, options, name, data, said", [
    ("csv", None, "changes.csv", PNG,
     "a PNG image, not a delimited text file: export the data as CSV "
     "(UTF-8) and load that"),
    ("csv", None, "changes.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
     "a PDF document, not a delimited text file"),
    ("csv", None, "changes.csv", b"\x1f\x8b\x08\x00" + bytes(range(200)),
     "a gzip-compressed file, not a delimited text file: name it with .gz "
     "at the end (changes.csv.gz)"),
    ("mapping", {"mapping": "bpic2014"}, "detail_change.csv",
     b'<?xml version="1.0" encoding="UTF-8" ?>\n<log xes.version="1.0">\n',
     "an XML file (an XES event log?), not a delimited text file"),
    ("servicenow", None, "change_request.csv", PNG,
     "a PNG image, not a delimited text file")])
def test_a_file_that_is_no_text_is_named_for_what_it_is(
        tmp_path, source, options, name, data, said):
    """A PNG renamed changes.csv was said to be text in another encoding
    ('not UTF-8: byte 0x89 at line 1 (Windows-1252 or Latin-1?)'), and BPIC
    2014's XES log a CSV without its columns ("column 'Change ID' not in
    the file (found: <?xml version=...)"): the file is named for what it
    is, with what to do, and nothing is written."""
    file = tmp_path / name
    file.write_bytes(data)
    result = ingest.load_path(source, file, tmp_path / "cb.duckdb",
                              options=options)
    assert result.status == "failed"
    assert result.error.startswith(f"{name}: {said}"), result.error
    with db.connect(tmp_path / "cb.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from changes").fetchone() == (0,)


def test_a_byte_not_in_utf8_is_named_by_its_row_and_column(tmp_path):
    """'not UTF-8: byte 0xE9 at line 16' named the file's line, where a
    title holding line breaks made it row 7: rows are numbered with the
    header as row 1 everywhere else. It names the row and the column, and
    the line when it differs."""
    text = ("change_id,title,change_type,state,created_at\n"
            'C1,"two\nlines",normal,closed,2026-01-01T00:00:00Z\n'
            "C2,caf\u00e9,normal,closed,2026-01-01T00:00:00Z\n")
    file = tmp_path / "changes.csv"
    file.write_bytes(text.encode("cp1252"))
    result = ingest.load_path("csv", file, tmp_path / "cb.duckdb")
    assert result.status == "failed"
    assert result.error.startswith(
        "changes.csv: not UTF-8: byte 0xE9 in row 3, column title (line 4 "
        "of the file) (Windows-1252 or Latin-1?)"), result.error
    file.write_bytes(text.replace('"two\nlines"', "one").replace(
        "C2,caf", "\u00e9C2,caf").encode("cp1252"))
    result = ingest.load_path("csv", file, tmp_path / "cb.duckdb")
    assert result.error.startswith(
        "changes.csv: not UTF-8: byte 0xE9 in row 3, column change_id "
        "(Windows"), result.error


def test_a_mapping_file_not_in_utf8_is_a_failed_load_naming_it(tmp_path):
    """A mapping saved as Windows-1252 ended the load with a Python
    traceback (UnicodeDecodeError) where an overrides file of the same
    bytes is refused by name: it is a failed load whose error names the
    mapping file."""
    export = write(tmp_path / "export.csv", "id,opened\nC1,x\n")
    latin = tmp_path / "caf\u00e9.toml"
    latin.write_bytes('[source]\nname = "caf\u00e9"\ntable = "changes"\n'
                      .encode("cp1252"))
    result = ingest.load_path("mapping", export, tmp_path / "cb.duckdb",
                              options={"mapping": latin})
    assert result.status == "failed"
    assert result.error.startswith("caf\u00e9.toml: invalid mapping file: ")
    assert "utf-8" in result.error


def test_a_change_ended_long_after_it_was_closed_is_warned_of(tmp_path):
    """A change is completed at its actual end: BPIC 2014 records one closed
    on 2014-03-20 and ended on 2021-03-20, 77 such in all, counted in
    periods when nothing happened, and the load said nothing (a real-data
    walkthrough). The load names them; a day's lag is not warned of."""
    import ingest

    path = tmp_path / "changes.csv"
    path.write_text(
        "change_id,change_type,state,created_at,closed_at,actual_end_at\n"
        "C1,normal,closed,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,"
        "2026-01-02T20:00:00Z\n"
        "C2,normal,closed,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,"
        "2026-03-02T00:00:00Z\n"
        "C3,normal,closed,2026-01-01T00:00:00Z,,2026-03-02T00:00:00Z\n",
        encoding="utf-8")
    result = ingest.load_path("csv", path, tmp_path / "cb.duckdb")
    assert result.status == "succeeded" and result.rows_loaded == 3
    # by the file's name alone, as the readers' own warnings name it (a
    # path given on the command line stays the batch's name)
    assert [w for w in result.warnings if "after closed_at" in w] == [
        f"{path.name}: 1 row with actual_end_at more than a day after "
        "closed_at (row 3): each is counted as completed at its actual end"]
    assert result.file_name == str(path)


def test_a_mapping_that_excludes_the_stored_source_is_refused_whole(
        tmp_path):
    """endoflife.date's cycles loaded beside its versions were refused row
    by row only where an id met (175 of them), and the other cycles counted
    each product's releases a second time (a new user's walkthrough). The
    two shipped mappings exclude each other: the second load is a failed
    batch naming what the database holds, and writes nothing."""
    database = tmp_path / "cb.duckdb"
    versions = write(tmp_path / "versions.csv",
                     "product,version,release_date\n"
                     "postgresql,16.1,2023-11-09\n"
                     "postgresql,16.2,2024-02-08\n")
    cycles = write(tmp_path / "release_cycles.csv",
                   "product,cycle,release_date,eol,eoas,eoes,lts,latest,"
                   "latest_release_date\n"
                   "postgresql,16,2023-09-14,2028-11-09,,,,16.2,2024-02-08\n"
                   "nodejs,20,2023-04-18,2026-04-30,,,true,20.11.0,"
                   "2024-01-09\n")
    loaded = ingest.load_path("mapping", versions, database,
                              options={"mapping": "endoflife-versions"})
    assert (loaded.status, loaded.rows_loaded) == ("succeeded", 2)
    refused = ingest.load_path("mapping", cycles, database,
                               options={"mapping": "endoflife-cycles"})
    assert refused.status == "failed" and refused.rows_loaded == 0
    assert refused.error == (
        "release_cycles.csv: the database holds releases loaded as 2 from "
        "endoflife, which the mapping of endoflife-cycles excludes: the same "
        "data in another form, counted twice beside it. Nothing was loaded: "
        "load it into a database of its own, or load the other")
    with db.connect(database, read_only=True) as con:
        assert con.execute("select source, count(*) from releases group by "
                           "source").fetchall() == [("endoflife", 2)]
        assert con.execute("select status from ingest_batches order by "
                           "batch_id").fetchall()[-1] == ("failed",)
    # into a database of its own, the cycles load; the versions uploaded
    # there on the Data page (their source prefixed) are refused as well
    alone = ingest.load_path("mapping", cycles, tmp_path / "other.duckdb",
                             options={"mapping": "endoflife-cycles"})
    assert (alone.status, alone.rows_loaded) == ("succeeded", 2)
    from ingest import rejects
    uploaded = ingest.load_path("mapping", versions, tmp_path / "other.duckdb",
                                options={"mapping": "endoflife-versions"},
                                source_prefix=rejects.UPLOADED)
    assert uploaded.status == "failed"
    assert "holds releases loaded as 2 from endoflife-cycles" in \
        uploaded.error
