"""python -m queries and python -m ingest from the command line."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from changeboard import db

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, text=True,
                          capture_output=True, env=env, timeout=120)


@pytest.fixture
def tiny_db(tmp_path):
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("""
            insert into changes (change_id, change_type, state, created_at,
                close_code, actual_end_at, assignment_group)
            values ('C1', 'normal', 'closed', '2026-01-01 00:00Z',
                    'successful', '2026-01-10 00:00Z', 'Ops'),
                   ('C2', 'emergency', 'closed', '2026-01-01 00:00Z',
                    'unsuccessful', '2026-01-11 00:00Z', 'Dev')""")
    return path


def test_list_shows_every_query_with_its_definition():
    result = cli("queries", "--list")
    assert result.returncode == 0
    for name in db.names():
        assert f"{name}  " in result.stdout
    assert "share of implemented changes in the window that did not fail" in \
        result.stdout


def test_a_query_runs_as_csv_json_and_table(tiny_db):
    base = ["queries", "change_success_rate", "--db", str(tiny_db),
            "--param", "start_date=2026-01-01", "--param", "end_date=2026-02-01"]
    as_json = json.loads(cli(*base, "--format", "json").stdout)
    assert as_json[0]["n"] == 2 and as_json[0]["change_success_rate"] == 0.5
    as_csv = cli(*base, "--format", "csv").stdout.splitlines()
    assert as_csv[0].startswith("n_succeeded,n,n_failed")
    assert as_csv[1].startswith("1,2,1")
    assert "change_success_rate" in cli(*base, "--format", "table").stdout


def test_list_parameters_split_on_commas(tiny_db):
    result = cli("queries", "change_success_rate", "--db", str(tiny_db),
                 "--param", "start_date=2026-01-01", "--param",
                 "end_date=2026-02-01", "--param", "teams=Dev,Ops",
                 "--param", "change_types=normal,standard", "--format", "json")
    # standard: a change type no row has yet is still a valid filter
    assert json.loads(result.stdout)[0]["n"] == 1


@pytest.mark.parametrize("args, message", [
    (["nope"], "error: unknown query 'nope'"),
    (["change_success_rate", "--param", "start_date=2026-01-01"],
     "error: query 'change_success_rate' needs parameter end_date"),
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "colour=red"],
     "error: query 'change_success_rate' has no parameter colour"),
    (["change_success_rate", "--param", "start_date=yesterday", "--param",
      "end_date=2026-02-01"],
     "error: --param start_date='yesterday' is not a date: expected "
     "YYYY-MM-DD"),
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-30"], "error: --param end_date='2026-02-30' is not"),
    # an unknown filter value is an error, not n = 0
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "teams=Dev,Nope"],
     "error: --param teams: no team 'Nope' in this database (known: Dev, "
     "Ops)"),
    (["schedule_adherence", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "tolerance_minutes=abc"],
     "error: --param tolerance_minutes='abc' cannot be read as a whole "
     "number"),
    (["emergency_change_ratio", "--param", "start_date=2026-01-01",
      "--param", "end_date=2026-02-01", "--param", "tiers=prd"],
     "error: --param tiers: no tier 'prd' in this database (it has none)"),
])
def test_bad_calls_exit_non_zero_with_one_line(tiny_db, args, message):
    result = cli("queries", *args, "--db", str(tiny_db))
    assert result.returncode != 0
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_db_defaults_to_the_changeboard_db_setting(tiny_db):
    import os
    env = {**os.environ, "CHANGEBOARD_DB": str(tiny_db)}
    result = cli("queries", "emergency_change_ratio", "--param",
                 "start_date=2026-01-01", "--param", "end_date=2026-02-01",
                 "--format", "json", env=env)
    assert json.loads(result.stdout)[0]["emergency_change_ratio"] == 0.5


def test_output_piped_into_head_ends_quietly(tiny_db):
    command = (f"{sys.executable} -m queries change_success_rate_by_period "
               f"--db {tiny_db} --param start_date=2000-01-01 --param "
               "end_date=2026-12-01 --param grain=week --format csv | head -1")
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT,
                            text=True, capture_output=True, timeout=120)
    assert result.stdout.startswith("period_start,")
    assert "Traceback" not in result.stderr
    assert result.returncode == 0


def test_ingest_rejects_print_no_nan_and_warnings_name_rows(tmp_path):
    changes = tmp_path / "changes.csv"
    changes.write_text(
        "change_id,change_type,state,created_at,planned_start_at,"
        "planned_end_at\n"
        "C1,normal,closed,2026-01-01T00:00:00Z,,\n"
        "C2,normal,,2026-01-01T00:00:00Z,,\n"           # missing_required
        "C3,normal,closed,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,"
        "2026-01-01T00:00:00Z\n"                        # end before start
        "C4,normal,closed,1970-01-01T00:00:00Z,,\n", encoding="utf-8")
    result = cli("ingest", "csv", str(changes), "--db",
                 str(tmp_path / "cb.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "row 3: missing_required in state = " in result.stdout
    assert "nan" not in result.stdout
    assert "1 rows with planned_end_at before planned_start_at (row 4)" in \
        result.stdout
    assert "dates before 1990 or more than 10 years ahead (row 5)" in \
        result.stdout
    # the batch records who ran it: the command line and the OS user
    import getpass
    with db.connect(tmp_path / "cb.duckdb", read_only=True) as con:
        assert con.execute("select loaded_by from ingest_batches").fetchall() \
            == [(f"cli:{getpass.getuser()}",)]
