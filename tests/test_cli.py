"""The changeboard command and its python -m queries / ingest / reports
aliases, from the command line."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from changeboard import db
from tests import clirun

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, env=None):
    """`python -m *args`, in this process unless given an environment."""
    return clirun.run(*args, env=env)


def two_changes(path, team_1: str, team_2: str, type_2: str = "normal"):
    """A published database of two closed changes of January: C1 of team_1
    succeeded, C2 of team_2 (of type_2) did not."""
    with db.publish(path) as con:
        con.execute("""
            insert into changes (change_id, change_type, state, created_at,
                close_code, actual_end_at, assignment_group)
            values ('C1', 'normal', 'closed', '2026-01-01 00:00Z',
                    'successful', '2026-01-10 00:00Z', $team_1),
                   ('C2', $type_2, 'closed', '2026-01-01 00:00Z',
                    'unsuccessful', '2026-01-11 00:00Z', $team_2)""",
                    {"team_1": team_1, "team_2": team_2, "type_2": type_2})
    return path


@pytest.fixture(scope="module")
def published_tiny_db(tmp_path_factory):
    """two_changes published once for the module (0.2 s each time)."""
    return two_changes(tmp_path_factory.mktemp("tiny") / "cb.duckdb", "Ops",
                       "Dev", "emergency")


@pytest.fixture
def tiny_db(published_tiny_db, tmp_path):
    """A copy of the published file (its mode too) of each test's own."""
    path = tmp_path / "cb.duckdb"
    shutil.copy(published_tiny_db, path)
    return path


def test_list_shows_every_query_with_its_definition():
    result = cli("queries", "--list")
    assert result.returncode == 0
    for name in db.names():
        assert f"{name}  " in result.stdout
    assert "share of implemented changes in the window that did not fail" in \
        result.stdout
    # optional parameters with their defaults, required ones bare
    similar = result.stdout.split("similar_change_history  ")[1].split(
        "\n")[1]
    assert "[lookback_days=365]" in similar and "[reporting_tz=UTC]" in similar
    assert "[teams]" in similar
    assert "params: start_date, end_date, [reporting_tz=UTC]" in \
        result.stdout


def test_list_shows_the_reporting_zone_the_settings_give(monkeypatch):
    """With CHANGEBOARD_REPORTING_TZ set, a query given no reporting_tz is
    read in its zone, but --list said [reporting_tz=UTC] (a process
    owner's walkthrough: November's numbers moved)."""
    from changeboard import config
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/Amsterdam")
    result = cli("queries", "--list")
    assert result.returncode == 0
    assert "[reporting_tz=Europe/Amsterdam]" in result.stdout
    assert "reporting_tz=UTC" not in result.stdout
    # a setting that names no zone is said, not only listed (a re-check)
    monkeypatch.setattr(config, "REPORTING_TZ", "Europe/Amsterdm")
    result = cli("queries", "--list")
    assert result.returncode == 0
    assert "warning: CHANGEBOARD_REPORTING_TZ: unknown time zone " \
        "'Europe/Amsterdm'; did you mean Europe/Amsterdam?" in result.stderr


def test_a_query_runs_as_csv_json_and_table(tiny_db):
    base = ["queries", "change_success_rate", "--db", str(tiny_db),
            "--param", "start_date=2026-01-01", "--param", "end_date=2026-02-01"]
    as_json = json.loads(cli(*base, "--format", "json").stdout)
    assert as_json[0]["n"] == 2 and as_json[0]["change_success_rate"] == 0.5
    as_csv = cli(*base, "--format", "csv").stdout.splitlines()
    assert as_csv[0].startswith("n_succeeded,n,n_failed")
    assert as_csv[1].startswith("1,2,1")
    assert "change_success_rate" in cli(*base, "--format", "table").stdout


def test_a_table_shows_a_null_cell_as_a_dash_whatever_its_type(tiny_db):
    """`--format table` printed a rate with n = 0 as NaN (and a NULL text,
    count or flag as None or <NA>), where the CSV leaves the cell empty and
    the JSON has null; the pages show a dash."""
    import pandas as pd

    from changeboard.cli.query import table_text
    frame = pd.DataFrame({
        "rate": [0.5, None], "n": pd.array([2, None], dtype="Int64"),
        "name": pd.Series(["a", None], dtype=object),
        "text": pd.array(["x", None], dtype="string"),
        "flag": pd.array([True, None], dtype="boolean"),
        "at": pd.to_datetime(["2026-01-01", None]).tz_localize("UTC")})
    lines = table_text(frame).splitlines()
    assert lines[2].split() == ["–"] * 6, lines
    assert lines[1].split()[:5] == ["0.5", "2", "a", "x", "True"], lines
    # a period without changes: every rate NULL
    shown = cli("queries", "change_success_rate", "--db", str(tiny_db),
                "--param", "start_date=2020-01-01", "--param",
                "end_date=2020-02-01", "--format", "table").stdout
    assert "change_success_rate" in shown and "–" in shown
    assert not {"NaN", "None", "<NA>", "NaT"} & set(shown.split()), shown


def test_list_parameters_split_on_commas(tiny_db):
    result = cli("queries", "change_success_rate", "--db", str(tiny_db),
                 "--param", "start_date=2026-01-01", "--param",
                 "end_date=2026-02-01", "--param", "teams=Dev,Ops",
                 "--param", "change_types=normal,standard", "--format", "json")
    # standard: a change type no row has yet is still a valid filter
    assert json.loads(result.stdout)[0]["n"] == 1


@pytest.mark.parametrize("extra", [
    ["--param", "reporting_tz="], ["--param", "teams="],
    ["--param", "failure_min_priority="]])
def test_an_optional_parameter_given_empty_takes_its_default(sample_db,
                                                            extra):
    """`--param reporting_tz=$TZ` with $TZ unset bound NULL over the
    query's default: a zone of none counted every change of all time, with
    exit 0. Given empty, an optional parameter is as if absent."""
    from datetime import date, timedelta
    end = date.today() - timedelta(days=30)
    args = ["queries", "change_success_rate", "--db", str(sample_db),
            "--param", f"start_date={end - timedelta(days=30)}", "--param",
            f"end_date={end}", "--format", "json"]
    plain = cli(*args)
    empty = cli(*args, *extra)
    assert empty.returncode == plain.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == json.loads(plain.stdout)
    assert json.loads(plain.stdout)[0]["n"] > 0


@pytest.mark.parametrize("args, message", [
    (["nope"], "error: unknown query 'nope'"),
    (["change_sucess_rate"], "error: unknown query 'change_sucess_rate': "
     "did you mean change_success_rate?"),
    (["change_success_rate", "--param", "start_date=2026-01-01"],
     "error: query 'change_success_rate' needs parameter end_date"),
    # several read in the plural ('needs parameter start_date, end_date')
    (["change_success_rate"],
     "error: query 'change_success_rate' needs parameters start_date, "
     "end_date"),
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "colour=red", "--param", "size=2"],
     "error: query 'change_success_rate' has no parameters colour, size"),
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "colour=red"],
     "error: query 'change_success_rate' has no parameter colour"),
    (["change_success_rate", "--param", "start_date=yesterday", "--param",
      "end_date=2026-02-01"],
     "error: --param start_date='yesterday' is not a date: expected "
     "YYYY-MM-DD"),
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-30"], "error: --param end_date='2026-02-30' is not "
     "a date: there is no such day"),
    # ISO's basic form, which Python reads and DuckDB does not (it said
    # "expected outcome window in $reporting_tz, end exclusive")
    (["change_success_rate", "--param", "start_date=20260101", "--param",
      "end_date=2026-02-01"],
     "error: --param start_date='20260101' is not a date: expected "
     "YYYY-MM-DD, e.g. 2026-01-31"),
    # priorities start at 1: 0 quietly counted no incident as failing
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "failure_min_priority=0"],
     "error: --param failure_min_priority='0' is not a priority: a whole "
     "number from 1"),
    # an unknown filter value is an error, not n = 0
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "teams=Dev,Nope"],
     "error: --param teams: no team 'Nope' in this database (known: Dev, "
     "Ops)"),
    # a value meant for a known one, letter case or a letter aside
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "teams=dev,Opps"],
     "error: --param teams: no team 'dev', 'Opps' in this database; did you "
     "mean Dev, Ops? (known: Dev, Ops)"),
    (["schedule_adherence", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "tolerance_minutes=abc"],
     # a number: a tolerance may be a fraction of a minute (b706b59)
     "error: --param tolerance_minutes='abc' cannot be read as a number"),
    (["emergency_change_ratio", "--param", "start_date=2026-01-01",
      "--param", "end_date=2026-02-01", "--param", "tiers=prd"],
     "error: --param tiers: no tier 'prd' in this database (it has none)"),
    # a required parameter given empty is an error, not a window from the
    # beginning of time (NULL bound as the start)
    (["change_success_rate", "--param", "start_date=", "--param",
      "end_date=2026-02-01"],
     "error: --param start_date= is empty: query 'change_success_rate' "
     "needs a value for it"),
    (["cab_agenda_summary", "--param", "window_start_at=2026-01-20T10:00Z",
      "--param", "window_end_at="],
     "error: --param window_end_at= is empty"),
    # a bad instant, time zone or choice names its parameter too
    (["cab_agenda_summary", "--param", "window_start_at=tomorrow",
      "--param", "window_end_at=2026-01-27T10:00Z"],
     "error: --param window_start_at='tomorrow' cannot be read as a time "
     "(ISO-8601)"),
    (["open_change_backlog_by_state", "--param", "as_of=2026-13-20"],
     "error: --param as_of='2026-13-20' cannot be read as a time (ISO-8601)"),
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-02-01", "--param", "reporting_tz=Mars/Base"],
     "error: --param reporting_tz='Mars/Base' cannot be read as an IANA "
     "time zone"),
    (["change_success_rate_by_period", "--param", "start_date=2026-01-01",
      "--param", "end_date=2026-02-01", "--param", "grain=fortnight"],
     "error: --param grain='fortnight' is not valid: expected week (ISO, "
     "Monday), month or quarter"),
    # a window whose start is not before its end, or a bin of no hours,
    # printed zeros or empty bins with exit 0: an error, not a real zero
    (["change_success_rate", "--param", "start_date=2026-03-01", "--param",
      "end_date=2026-02-01"],
     "error: --param start_date=2026-03-01 is not before "
     "end_date=2026-02-01"),
    (["change_success_rate", "--param", "start_date=2026-02-01", "--param",
      "end_date=2026-02-01"],
     "error: --param start_date=2026-02-01 is not before"),
    (["approval_lead_time_histogram", "--param", "start_date=2026-01-01",
      "--param", "end_date=2026-02-01", "--param", "bin_hours=0"],
     "error: --param bin_hours=0 is not a number of hours above 0"),
    # a review window backwards, a batch id that is no number, a source
    # no load came from, a negative count of days: '(no rows)' and exit 0
    (["cab_agenda_summary", "--param", "window_start_at=2026-12-08",
      "--param", "window_end_at=2026-12-01"],
     "error: --param window_start_at=2026-12-08 is not before "
     "window_end_at=2026-12-01"),
    (["cab_agenda_summary", "--param", "window_start_at=2026-12-08 10:00",
      "--param", "window_end_at=2026-12-08T11:00+02:00"],
     "error: --param window_start_at=2026-12-08 10:00 is not before"),
    (["ingest_rejects", "--param", "batch_id=abc"],
     "error: --param batch_id='abc' is not a batch id: a whole number"),
    # a batch the database does not hold listed no rows, as a batch with
    # no reject does
    (["ingest_rejects", "--param", "batch_id=9999"],
     "error: --param batch_id=9999: no batch 9999 in this database"),
    (["ingest_batches", "--param", "source=nope"],
     "error: --param source='nope': no load from that source in this "
     "database (known: "),
    (["open_change_backlog_by_state", "--param", "close_within_days=-1"],
     "error: --param close_within_days='-1' is not a number of days, 0 or "
     "more"),
    # a choice the query's own SQL checks names its parameter (exit 2), not
    # DuckDB's exception
    (["change_success_rate_by", "--param", "start_date=2026-01-01",
      "--param", "end_date=2026-02-01", "--param", "dimension=nope"],
     "error: --param dimension='nope' is not valid: dimension must be "
     "change_type, risk, team, application or portfolio"),
    (["change_success_rate_by", "--param", "start_date=2026-01-01",
      "--param", "end_date=2026-02-01", "--param", "dimension=teams"],
     "error: --param dimension='teams' is not valid: dimension must be "
     "change_type, risk, team, application or portfolio; did you mean "
     "team?"),
    # a parameter given twice ran with the last value, silently
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "start_date=2026-02-01", "--param", "end_date=2026-03-01"],
     "error: --param start_date is given twice (start_date='2026-01-01' and "
     "start_date='2026-02-01'): give it once\n"),
    (["change_success_rate", "--param", "start_date=2026-01-01", "--param",
      "end_date=2026-03-01", "--param", "teams=Ops", "--param", "teams="],
     "error: --param teams is given twice (teams='Ops' and teams=''): give "
     "it once, its values comma-separated\n"),
])
def test_bad_calls_exit_non_zero_with_one_line(tiny_db, args, message):
    result = cli("queries", *args, "--db", str(tiny_db))
    assert result.returncode == 2  # an input error, as argparse's are
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_the_sites_failure_threshold_is_the_querys_default_and_checked(
        tiny_db, monkeypatch):
    """CHANGEBOARD_FAILURE_MIN_PRIORITY is failure_min_priority's default:
    --list says it, a query given none uses it, and one that is no
    priority is an input error naming the setting, as the parameter is."""
    from changeboard import config
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "2")
    listed = cli("queries", "--list")
    assert "[failure_min_priority=2]" in listed.stdout
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "P2")
    result = cli("queries", "change_success_rate", "--db", str(tiny_db),
                 "--param", "start_date=2026-01-01", "--param",
                 "end_date=2026-02-01")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(
        "error: CHANGEBOARD_FAILURE_MIN_PRIORITY='P2' is not a priority: "
        "a whole number from 1"), result.stderr
    given = cli("queries", "change_success_rate", "--db", str(tiny_db),
                "--param", "start_date=2026-01-01", "--param",
                "end_date=2026-02-01", "--param", "failure_min_priority=1")
    assert given.returncode == 0, given.stderr  # the parameter wins
    listed = cli("queries", "--list")
    assert "CHANGEBOARD_FAILURE_MIN_PRIORITY='P2' is not a priority" in \
        listed.stderr and "[failure_min_priority]" in listed.stdout


def test_an_application_only_releases_name_is_a_filter_value(tmp_path):
    """Release data loaded without an applications table (endoflife.date's
    versions: application postgresql) could not be filtered by its
    application: filter_options took application ids from the applications
    table and the changes only, so `--param application_ids=postgresql`
    was refused as not in the database (and the sidebar did not offer it)
    though the releases carry it."""
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("""
            insert into releases (release_id, name, application_id, status,
                actual_release_at)
            values ('postgresql:16.1', 'postgresql 16.1', 'postgresql',
                    'released', '2026-01-10 00:00Z'),
                   ('postgresql:16.2', 'postgresql 16.2', 'postgresql',
                    'released', '2026-01-20 00:00Z')""")
        con.execute("""
            insert into incidents (incident_id, application_id, opened_at)
            values ('INC1', 'Configuration Item 7', '2026-01-12 00:00Z')""")
        con.execute("""
            insert into deployments (deployment_id, application_id, status,
                started_at)
            values ('D1', 'payments-api', 'succeeded', '2026-01-12 00:00Z')""")
        con.execute("""
            insert into environments (environment_id, name, tier,
                application_id)
            values ('E1', 'SIT', 'sit', 'ledger')""")
        options = db.run(con, "filter_options")
    applications = options.loc[options["filter_name"] == "application_ids"]
    assert sorted(applications["option_value"]) == [
        "Configuration Item 7", "ledger", "payments-api", "postgresql"]
    assert list(applications["option_label"]) == list(
        applications["option_value"])  # no name known: the id
    result = cli("queries", "release_cadence_summary", "--db", str(path),
                 "--param", "start_date=2026-01-01", "--param",
                 "end_date=2026-02-01", "--param",
                 "application_ids=postgresql", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["n_releases"] == 2


def test_json_keeps_dates_numbers_and_instants_as_csv_has_them(tmp_path):
    path = tmp_path / "cb.duckdb"
    with db.publish(path) as con:
        con.execute("""
            insert into changes (change_id, change_type, state, created_at,
                close_code, actual_end_at)
            select 'C' || i, 'normal', 'closed', '2026-01-01 00:00Z',
                if(i = 1, 'unsuccessful', 'successful'),
                '2026-01-10 00:00Z'
            from range(1, 4) t(i)""")
    base = ["queries", "change_success_rate_by_period", "--db", str(path),
            "--param", "start_date=2026-01-01", "--param",
            "end_date=2026-03-01", "--param", "grain=month"]
    rows = json.loads(cli(*base, "--format", "json").stdout)
    import csv
    import io
    as_csv = list(csv.DictReader(io.StringIO(
        cli(*base, "--format", "csv").stdout)))
    # a DATE is a date, as in the CSV, not a midnight without a zone
    assert [r["period_start"] for r in rows] == ["2026-01-01",
                                                 "2026-02-01"]
    assert [r["period_start"] for r in as_csv] == ["2026-01-01",
                                                   "2026-02-01"]
    # 2/3 to the last digit the CSV has, not cut at 10 decimals
    assert rows[0]["change_success_rate"] == float(
        as_csv[0]["change_success_rate"]) == 2 / 3
    assert rows[1]["change_success_rate"] is None  # NULL
    # an instant keeps its microseconds and says it is UTC
    backlog = json.loads(cli(
        "queries", "open_change_backlog_by_state", "--db", str(path),
        "--param", "as_of=2026-01-20T10:00:00.123456+01:00",
        "--format", "json").stdout)
    assert backlog[0]["as_of"] == "2026-01-20T09:00:00.123456Z"
    # a whole second keeps its six zeros: one format in every row
    backlog = json.loads(cli(
        "queries", "open_change_backlog_by_state", "--db", str(path),
        "--param", "as_of=2026-01-20T10:00:00+01:00",
        "--format", "json").stdout)
    assert backlog[0]["as_of"] == "2026-01-20T09:00:00.000000Z"


def query_examples() -> list[list[str]]:
    """Every `changeboard query` example of the README and of
    `changeboard --help` and `query --help`, as words."""
    import shlex

    from changeboard import cli as commands
    found = []
    for text in ((ROOT / "README.md").read_text(),
                 commands.EXAMPLES["changeboard"], commands.EXAMPLES["query"]):
        lines = iter(text.splitlines())
        for line in lines:
            line = line.strip()
            if not line.startswith("changeboard query "):
                continue
            while line.endswith("\\"):
                line = line[:-1] + next(lines).strip()
            found.append(shlex.split(line.split("#")[0])[1:])
    return found


def test_a_mistyped_team_lists_the_nearest_known_teams_first(sample_db):
    """'Risk Tek' (a letter from Risk Tech, too far for 'did you mean')
    listed the first 8 of 17 teams in name order, Card Services to
    Identity Services, and not Risk Tech: the list cut is the nearest."""
    done = cli("changeboard", "query", "change_success_rate", "--db",
               str(sample_db), "--param", "start_date=2026-01-01", "--param",
               "end_date=2026-02-01", "--param", "teams=Risk Tek")
    assert done.returncode == 2
    said = done.stderr.strip().splitlines()[-1]
    assert said.startswith("error: --param teams: no team 'Risk Tek' in "
                           "this database (17 known; nearest: Risk Tech, ")
    assert said.endswith(", …)") and said.count(", ") == 8
    # no team is near 'Nope': the first in name order, not called nearest
    done = cli("changeboard", "query", "change_success_rate", "--db",
               str(sample_db), "--param", "start_date=2026-01-01", "--param",
               "end_date=2026-02-01", "--param", "teams=Nope")
    said = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 2 and "nearest" not in said
    assert said.startswith("error: --param teams: no team 'Nope' in this "
                           "database (17 known; among them: ")
    assert said.endswith(", …)") and said.count(", ") == 8


def test_every_query_example_runs_on_the_sample_as_written(sample_db):
    examples = query_examples()
    assert len(examples) >= 6
    for words in examples:
        result = cli("changeboard", *words, "--db", str(sample_db))
        assert result.returncode == 0, (words, result.stderr)
        assert result.stdout and not result.stderr


def test_the_report_examples_name_teams_the_sample_has(sample_db):
    """`report cab --help` gave `--teams Payments`, which the sample
    refuses ('did you mean Payments Platform?'): each team an example
    names is one of the sample's."""
    import re
    import shlex

    from changeboard import cli as commands
    text = commands.EXAMPLES["report"].replace("\\\n", " ")
    named = [shlex.split(m)[0] for m in re.findall(
        r"--teams ('[^']+'|\S+)", text)]
    assert named
    with db.reading(sample_db) as con:
        teams = set(db.run(con, "filter_options").query(
            "filter_name == 'teams'")["option_value"])
    assert set(named) <= teams, named


def test_report_minutes_takes_date_as_report_cab_does(sample_db, tmp_path):
    """`report minutes --date` said 'the following arguments are required:
    --meeting' where `report cab` takes either."""
    out = tmp_path / "minutes.html"
    result = cli("changeboard", "report", "minutes", "--date", "2026-01-20",
                 "--db", str(sample_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_a_list_value_holding_a_comma_is_given_in_double_quotes(
        tmp_path, monkeypatch):
    path = two_changes(tmp_path / "cb.duckdb", "Payments, EMEA", "Ops")
    base = ["queries", "change_success_rate", "--db", str(path), "--param",
            "start_date=2026-01-01", "--param", "end_date=2026-02-01",
            "--format", "json"]
    for teams, n in (('"Payments, EMEA"', 1), ('Ops, "Payments, EMEA"', 2),
                     ("Ops", 1)):
        result = cli(*base, "--param", f"teams={teams}")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)[0]["n"] == n, teams
    # the page's command for that filter gives the page's numbers
    import shlex

    from changeboard import asof, config, ui
    monkeypatch.setattr(asof, "chosen", lambda: None)
    monkeypatch.setattr(config, "DB_PATH", path)
    command = ui.command_line("change_success_rate", {
        "start_date": "2026-01-01", "end_date": "2026-02-01",
        "teams": ["Payments, EMEA"]})
    result = cli(*shlex.split(command)[2:], "--format", "json")
    assert result.returncode == 0, (command, result.stderr)
    assert json.loads(result.stdout)[0]["n"] == 1


def test_a_pages_command_counts_the_failures_the_page_counted(tiny_db,
                                                              monkeypatch):
    """A page's "How is this computed?" command carries the failure
    threshold it counted with: run in a shell without
    CHANGEBOARD_FAILURE_MIN_PRIORITY it gave other numbers (a review)."""
    import os
    import shlex

    from changeboard import asof, config, ui
    monkeypatch.setattr(asof, "chosen", lambda: None)
    monkeypatch.setattr(config, "DB_PATH", tiny_db)
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "1")
    window = {"start_date": "2026-01-01", "end_date": "2026-02-01"}
    command = ui.command_line("change_success_rate", window)
    assert "--param failure_min_priority=1" in command
    shell = {k: v for k, v in os.environ.items()
             if k != "CHANGEBOARD_FAILURE_MIN_PRIORITY"}
    result = cli(*shlex.split(command)[2:], "--format", "json", env=shell)
    assert result.returncode == 0, (command, result.stderr)
    with db.reading(tiny_db) as con:
        page = db.run(con, "change_success_rate", **window).iloc[0]
    assert json.loads(result.stdout)[0]["n_failed"] == page["n_failed"]
    monkeypatch.setattr(config, "FAILURE_MIN_PRIORITY", "")
    assert "failure_min_priority" not in ui.command_line(
        "change_success_rate", window)


def test_db_defaults_to_the_changeboard_db_setting(tiny_db):
    import os
    env = {**os.environ, "CHANGEBOARD_DB": str(tiny_db)}
    result = cli("queries", "emergency_change_ratio", "--param",
                 "start_date=2026-01-01", "--param", "end_date=2026-02-01",
                 "--format", "json", env=env)
    assert json.loads(result.stdout)[0]["emergency_change_ratio"] == 0.5


def test_a_value_that_starts_a_known_one_is_suggested(tmp_path):
    """`--teams Payments` was refused with no word of 'Payments
    Platform', which README's "the value meant when one is near"
    promises."""
    path = two_changes(tmp_path / "cb.duckdb", "Payments Platform", "Dev")
    done = changeboard("query", "change_success_rate", "--db", str(path),
                       "--param", "start_date=2026-01-01", "--param",
                       "end_date=2026-02-01", "--param", "teams=payments")
    assert done.returncode == 2
    assert done.stderr.startswith(
        "error: --param teams: no team 'payments' in this database; did you "
        "mean Payments Platform?")


def test_a_query_parameter_written_without_param_names_the_option(tmp_path):
    """`query change_success_rate start_date=2026-01-01` said only
    'changeboard: error: unrecognized arguments: start_date=2026-01-01'
    (an analyst's first try): it names the option that gives them."""
    path = two_changes(tmp_path / "cb.duckdb", "Payments Platform", "Dev")
    done = changeboard("query", "change_success_rate", "--db", str(path),
                       "start_date=2026-01-01", "end_date=2026-02-01")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        "changeboard query: error: unrecognized arguments: "
        "start_date=2026-01-01 end_date=2026-02-01; a query's parameters "
        "are given as --param NAME=VALUE (--param start_date=2026-01-01 "
        "--param end_date=2026-02-01)")
    other = changeboard("load", "csv", "a.csv", "--bogus")
    assert other.returncode == 2
    assert other.stderr.splitlines()[-1] == (
        "changeboard load csv: error: unrecognized arguments: --bogus")


@pytest.mark.parametrize("scale", ["0", "-1", "nan", "many"])
def test_a_sample_scale_of_no_size_is_an_input_error(tmp_path, scale):
    """`sample --scale 0` printed a traceback ending 'ValueError: scale
    must be positive' and exited 1."""
    done = changeboard("sample", "--scale", scale, "--db",
                       str(tmp_path / "s.duckdb"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"changeboard sample: error: argument --scale: {scale!r} is not a "
        "number above 0")
    assert list(tmp_path.iterdir()) == []


def test_the_sample_does_not_replace_your_own_loads_unless_told(tmp_path):
    """`changeboard sample` on a database a data admin had loaded into
    published the sample over it in 4.8 s, without a word: their changes
    and their load history were gone (a snapshot alone kept them). It is
    refused, naming the loads and what to do, unless --replace; a sample
    is rebuilt over a sample as before."""
    tiny_db = tmp_path / "cb.duckdb"
    (tmp_path / "changes.csv").write_text(
        "change_id,change_type,state,created_at\n"
        "C1,normal,new,2026-01-01T00:00:00Z\n", encoding="utf-8")
    loaded = changeboard("load", "csv", str(tmp_path / "changes.csv"),
                         "--db", str(tiny_db))
    assert loaded.returncode == 0, loaded.stderr
    with db.connect(tiny_db, read_only=True) as con:
        n, who = con.execute("select count(*), max(loaded_by) from "
                             "ingest_batches").fetchone()
    assert n and who != "changeboard:sample"
    before = tiny_db.read_bytes()
    refused = changeboard("sample", "--scale", "0.01", "--db", str(tiny_db))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(
        f"error: {tiny_db} holds {n} load{'s' * (n != 1)} of your own, the "
        f"last by {who} on ")
    assert "(--db /tmp/sample.duckdb)" in refused.stderr
    assert "--replace to replace them" in refused.stderr
    assert tiny_db.read_bytes() == before
    replaced = changeboard("sample", "--scale", "0.01", "--replace", "--db",
                           str(tiny_db))
    assert replaced.returncode == 0, replaced.stderr
    with db.connect(tiny_db, read_only=True) as con:
        assert con.execute("select count(*) from ingest_batches where "
                           "loaded_by <> 'changeboard:sample'").fetchone() \
            == (0,)
    again = changeboard("sample", "--scale", "0.01", "--db", str(tiny_db))
    assert again.returncode == 0, again.stderr  # a sample over a sample


def test_a_reject_names_the_exports_own_column_beside_the_tables(tmp_path):
    """A ServiceNow export's reject read 'bad_timestamp in created_at =
    ...' where the file's column is opened_at: both are named."""
    export = tmp_path / "sn.csv"
    export.write_text("number,short_description,type,state,opened_at\n"
                      "CHG1,t,normal,closed,30/02/2026 10:00:00\n")
    done = changeboard("load", "servicenow", str(export), "--db",
                       str(tmp_path / "cb.duckdb"))
    assert done.returncode == 1, done.stderr  # its one row rejected
    assert "  row 2: bad_timestamp in created_at (the file's opened_at) = " \
        "'30/02/2026 10:00:00'" in done.stdout
    assert "rejected as bad_timestamp in created_at (the file's opened_at) " \
        "(the first, row 2:" in done.stdout + done.stderr


def test_the_list_piped_into_head_ends_quietly():
    """`query --list | head -2` printed BrokenPipeError, then an
    UnboundLocalError from the error handler."""
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f"{sys.executable} -m changeboard query --list | head -2"],
        cwd=ROOT, text=True, capture_output=True, timeout=120)
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == "" and result.returncode == 0


def test_a_reporting_zone_setting_that_names_no_zone_is_said(tiny_db):
    import os

    env = {**os.environ, "CHANGEBOARD_REPORTING_TZ": "Europe/Amsterdm"}
    result = cli("changeboard", "query", "change_success_rate", "--db",
                 str(tiny_db), "--param", "start_date=2026-01-01", "--param",
                 "end_date=2026-02-01", env=env)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", "error: CHANGEBOARD_REPORTING_TZ: unknown time zone "
        "'Europe/Amsterdm'; did you mean Europe/Amsterdam?\n")
    # given as a parameter, the setting is not read
    result = cli("changeboard", "query", "change_success_rate", "--db",
                 str(tiny_db), "--param", "start_date=2026-01-01", "--param",
                 "end_date=2026-02-01", "--param", "reporting_tz=UTC",
                 env=env)
    assert result.returncode == 0, result.stderr


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
    # with its reason in words, as every other reject has (it had none)
    assert "row 3: missing_required in state = '' (required: the cell is " \
        "empty)" in result.stdout
    assert "nan" not in result.stdout
    assert "1 row with planned_end_at before planned_start_at (row 4)" in \
        result.stdout
    # a ServiceNow export's empty cell said 'nan' (a data administrator's
    # walkthrough): as canonical CSV says it
    export = tmp_path / "change_request.csv"
    export.write_text("number,short_description,type,state,opened_at\n"
                      "CHG1,x,Normal,Closed,2026-01-05 10:00:00\n"
                      ",y,Normal,Closed,2026-01-05 10:00:00\n",
                      encoding="utf-8")
    exported = cli("changeboard", "load", "servicenow", str(export), "--db",
                   str(tmp_path / "sn.duckdb"))
    assert "row 3: missing_required in change_id (the file's number) = ''" \
        in exported.stdout, exported.stdout
    assert "nan" not in exported.stdout and "None" not in exported.stdout
    assert "dates before 1990 or more than 10 years ahead (row 5): " \
        "created_at = 1970-01-01 00:00:00+00 on row 5" in result.stdout
    # the batch records who ran it: the command line and the OS user
    import getpass
    with db.connect(tmp_path / "cb.duckdb", read_only=True) as con:
        assert con.execute("select loaded_by from ingest_batches").fetchall() \
            == [(f"cli:{getpass.getuser()}",)]


# --- the changeboard command ---------------------------------------------------

def changeboard(*args, env=None):
    return cli("changeboard", *args, env=env)


def load_changes(tmp_path, name: str, *rows: str):
    """`changeboard load csv` of a changes file (name) of these rows under
    a four-column header, into a new database beside it."""
    changes = tmp_path / name
    changes.write_text("change_id,change_type,state,created_at\n"
                       + "".join(f"{row}\n" for row in rows),
                       encoding="utf-8")
    return cli("changeboard", "load", "csv", str(changes), "--db",
               str(tmp_path / "cb.duckdb"))


def test_a_row_shape_reject_names_no_column(tmp_path):
    # a row of the wrong field count is rejected whole: it has no column
    result = load_changes(tmp_path, "changes.csv",
                          "C1,normal,closed,2026-01-01T00:00:00Z", "1")
    assert result.returncode == 0, result.stderr
    assert "  row 3: bad_row_shape: 1 field, header has 4\n" in \
        result.stdout
    assert "None" not in result.stdout


def every_command():
    """Every (sub)command the changeboard parser has, as argument lists."""
    import argparse

    from changeboard import cli as cli_module

    def walk(parser, words):
        yield words
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, [*words, name])
    return list(walk(cli_module.parser(), []))


def test_every_command_is_there_and_its_help_shows_examples(capsys):
    from changeboard import cli as cli_module

    commands = every_command()
    assert {c[0] for c in commands if c} == {
        "load", "sync", "sample", "query", "report", "snapshots", "serve"}
    assert {c[1] for c in commands if c[:1] == ["snapshots"]
            and len(c) == 2} == {"list", "show", "prune"}
    assert {c[1] for c in commands if c[:1] == ["load"] and len(c) == 2} == {
        "csv", "servicenow", "servicenow-incidents", "jira", "mapping"}
    assert {c[1] for c in commands if c[:1] == ["sync"] and len(c) == 2} == {
        "servicenow", "servicenow-incidents", "jira", "jira-versions"}
    for words in commands:
        with pytest.raises(SystemExit) as done:
            cli_module.main([*words, "--help"])
        assert done.value.code == 0
        shown = capsys.readouterr().out
        assert "examples:" in shown and "  changeboard " in shown, words


def test_each_source_has_only_its_own_options(capsys):
    from changeboard import cli as cli_module

    def options(*words):
        """The options part of a help (the examples show other sources)."""
        with pytest.raises(SystemExit):
            cli_module.main([*words, "--help"])
        return capsys.readouterr().out.split("examples:")[0]
    assert "--mapping" in options("load", "mapping")
    assert "--overrides" not in options("load", "mapping")
    assert "--table" not in options("load", "mapping")
    assert "--table" in options("load", "csv")
    for source in ("csv", "servicenow", "jira"):
        assert "--mapping" not in options("load", source)
    for source in ("servicenow", "servicenow-incidents", "jira"):
        assert "--overrides" in options("load", source)
    versions = options("sync", "jira-versions")
    assert "--project" in versions and "--since" not in versions
    assert "--jql" in options("sync", "jira")
    assert "--jql" not in options("sync", "servicenow")
    assert "--query" in options("sync", "servicenow")


def test_load_query_and_sample_run_end_to_end(tmp_path):
    """The `changeboard` command itself, each step a new process (the
    suite's other commands run in-process: tests/clirun.py)."""
    def changeboard(*args):
        return clirun.in_subprocess("changeboard", *args)

    path = tmp_path / "cb.duckdb"
    (tmp_path / "changes.csv").write_text(
        "change_id,change_type,state,created_at,close_code,actual_end_at\n"
        "C1,normal,closed,2026-01-01T00:00:00Z,successful,"
        "2026-01-10T00:00:00Z\n"
        "C2,emergency,closed,2026-01-01T00:00:00Z,unsuccessful,"
        "2026-01-11T00:00:00Z\n", encoding="utf-8")
    loaded = changeboard("load", "csv", str(tmp_path / "changes.csv"),
                         "--db", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "published" in loaded.stdout
    query = changeboard("query", "change_success_rate", "--db", str(path),
                        "--param", "start_date=2026-01-01", "--param",
                        "end_date=2026-02-01", "--format", "json")
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout)[0]["change_success_rate"] == 0.5
    listed = changeboard("query", "--list")
    assert "change_success_rate  " in listed.stdout
    sample = tmp_path / "sample.duckdb"
    built = changeboard("sample", "--seed", "3", "--scale", "0.02", "--db",
                        str(sample))
    assert built.returncode == 0, built.stderr
    assert "published" in built.stdout
    with db.connect(sample, read_only=True) as con:
        assert con.execute("select count(*) from changes").fetchone()[0] > 0
        sources = {r[0] for r in con.execute(
            "select distinct source from ingest_batches").fetchall()}
    assert sources == {"csv", "servicenow", "jira"}
    removed = changeboard("sample", "--remove", "--db", str(sample))
    assert removed.returncode == 0 and "sample rows" in removed.stdout
    with db.connect(sample, read_only=True) as con:
        assert con.execute("select count(*) from changes").fetchone()[0] == 0


def test_report_cab_writes_the_pack(tiny_db, tmp_path):
    out = tmp_path / "cab.xlsx"
    result = changeboard("report", "cab", "--date", "2026-01-20", "--db",
                         str(tiny_db), "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:2] == b"PK"
    assert "changes for decision" in result.stdout
    bad = changeboard("report", "cab", "--date", "2026-01-20", "--db",
                      str(tmp_path / "none.duckdb"), "--format", "html",
                      "--out", str(tmp_path / "x.html"))
    assert bad.returncode == 2  # an input error, as in `query` (was 1)
    assert bad.stderr.startswith("changeboard report cab: ")
    # no --date: the next meeting's, as --send and the page take it (it
    # was "--date required": a CAB chair's walkthrough)
    from reports import cab
    upcoming = cab.next_meeting().astimezone(cab.reporting_zone()).date()
    bare = changeboard("report", "cab", "--db", str(tiny_db), "--out",
                       str(tmp_path / "next.html"))
    assert bare.returncode == 0, bare.stderr
    assert f"(the next meeting, {upcoming:%a %d %b %Y}: " in bare.stdout
    assert f"<title>CAB pack {upcoming:%Y-%m-%d}</title>" in (
        tmp_path / "next.html").read_text()


def test_a_report_written_to_dash_goes_to_standard_output(tiny_db,
                                                           tmp_path):
    """`report cab --out - | mail` wrote a file named '-' and nothing down
    the pipe (an application owner's weekly script). `-` is standard
    output: the report alone, the line saying what was written on stderr;
    --format is needed, there being no file name to take it from."""
    env = {**os.environ, "PYTHONPATH": str(clirun.ROOT)}
    base = [sys.executable, "-m", "changeboard", "report", "cab", "--date",
            "2026-01-20", "--db", str(tiny_db), "--out", "-"]
    work = tmp_path / "work"
    work.mkdir()
    # UTF-8 whatever the terminal's encoding (latin-1 could not write the
    # pack's dashes: a review)
    env["PYTHONIOENCODING"] = "latin-1"
    for form, starts in (("html", b"<!DOCTYPE html>"), ("xlsx", b"PK")):
        piped = subprocess.run([*base, "--format", form], cwd=work,
                               env=env, capture_output=True, timeout=120)
        assert piped.returncode == 0, piped.stderr
        assert piped.stdout.startswith(starts), piped.stdout[:80]
        assert b"wrote standard output (" in piped.stderr
        if form == "html":
            assert "—".encode() in piped.stdout
    assert "For decision" in openpyxl_sheets(piped.stdout)  # the XLSX
    assert list(work.iterdir()) == []  # no file named '-'
    unsaid = subprocess.run(base, cwd=work, env=env, capture_output=True,
                            text=True, timeout=120)
    assert unsaid.returncode == 2
    assert "--format required: --out - writes the report to standard " \
        "output (formats: html, pdf, xlsx)" in unsaid.stderr


def openpyxl_sheets(data: bytes) -> list[str]:
    import io

    import openpyxl
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True).sheetnames


@pytest.mark.parametrize("day, said", [
    ("2013-02-30", "'2013-02-30' is not a date: there is no such day"),
    ("tomorrow", "'tomorrow' is not a date: expected YYYY-MM-DD")])
def test_a_report_date_that_names_no_day_says_so_as_query_does(
        tiny_db, tmp_path, day, said):
    """`report cab --date 2013-02-30` said "is not YYYY-MM-DD" of a date of
    that form; `query` says "there is no such day"."""
    result = changeboard("report", "cab", "--date", day, "--db",
                         str(tiny_db), "--out", str(tmp_path / "cab.html"))
    assert result.returncode == 2
    assert said in result.stderr, result.stderr


def test_a_report_takes_its_format_from_the_file_name(tiny_db, tmp_path):
    """--out cab.xlsx needed --format xlsx too; --format html --out cab.pdf
    wrote HTML into a file named .pdf, which a PDF reader refuses."""
    out = tmp_path / "cab.XLSX"
    result = changeboard("report", "cab", "--date", "2026-01-20", "--db",
                         str(tiny_db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:2] == b"PK"
    minutes = tmp_path / "minutes.html"
    result = changeboard("report", "minutes", "--meeting", "2026-01-20",
                         "--db", str(tiny_db), "--out", str(minutes))
    assert result.returncode == 0, result.stderr
    assert minutes.read_text().lstrip().lower().startswith("<!doctype html")
    clash = changeboard("report", "cab", "--date", "2026-01-20", "--db",
                        str(tiny_db), "--format", "html", "--out",
                        str(tmp_path / "cab.pdf"))
    assert clash.returncode == 2
    assert clash.stderr.splitlines()[-1] == (
        f"changeboard report cab: error: --out {tmp_path / 'cab.pdf'} is "
        "named as PDF but --format is html: change one")
    assert not (tmp_path / "cab.pdf").exists()
    unnamed = changeboard("report", "minutes", "--meeting", "2026-01-20",
                          "--db", str(tiny_db), "--out",
                          str(tmp_path / "m.txt"))
    assert unnamed.returncode == 2
    assert unnamed.stderr.splitlines()[-1].endswith(
        "error: --format required: --out " + str(tmp_path / "m.txt")
        + ": unknown suffix .txt (known: .html, .htm, .pdf, .xlsx)")
    # report cab said only "--format required (or --send)"
    docx = changeboard("report", "cab", "--date", "2026-01-20", "--db",
                       str(tiny_db), "--out", str(tmp_path / "cab.docx"))
    assert docx.returncode == 2
    assert docx.stderr.splitlines()[-1] == (
        "changeboard report cab: error: --format required: --out "
        f"{tmp_path / 'cab.docx'}: unknown suffix .docx (known: .html, "
        ".htm, .pdf, .xlsx)")
    bare = changeboard("report", "cab", "--date", "2026-01-20", "--db",
                       str(tiny_db), "--out", str(tmp_path / "cab"))
    assert bare.returncode == 2
    assert bare.stderr.splitlines()[-1].endswith(
        f"--out {tmp_path / 'cab'}: no suffix (known: .html, .htm, .pdf, "
        ".xlsx)")
    assert not (tmp_path / "cab.docx").exists()


def test_report_cab_refuses_a_filter_value_the_database_does_not_hold(
        tiny_db, tmp_path):
    out = tmp_path / "cab.html"
    result = changeboard("report", "cab", "--date", "2026-01-20", "--db",
                         str(tiny_db), "--format", "html", "--out", str(out),
                         "--teams", "Opps")
    assert result.returncode == 2  # an input error, as in `query`
    assert result.stderr == (
        "changeboard report cab: filter teams: no team 'Opps' in this "
        "database; did you mean Ops? (known: Dev, Ops)\n")
    assert not out.exists()


def test_an_application_given_by_its_name_is_told_its_id(sample_db,
                                                         tmp_path):
    """`--param 'application_ids=Payments Gateway'` was told the ids
    nearest its spelling (APP-001 ... APP-008), never that Payments
    Gateway is APP-001 (an application owner's weekly script)."""
    said = "'Payments Gateway' is the name of application APP-001: give " \
        "its id\n"
    asked = changeboard("query", "change_success_rate", "--db",
                        str(sample_db), "--param",
                        "application_ids=Payments Gateway")
    assert asked.returncode == 2
    assert asked.stderr.endswith(f"error: --param application_ids: {said}")
    out = tmp_path / "cab.html"
    packed = changeboard("report", "cab", "--db", str(sample_db), "--out",
                         str(out), "--application-ids",
                         "payments gateway,APP-002")
    assert packed.returncode == 2 and not out.exists()
    assert packed.stderr == ("changeboard report cab: filter "
                             "application_ids: "
                             + said.replace("'Payments Gateway'",
                                            "'payments gateway'"))
    # a name and a value the database does not hold: both said at once
    both = changeboard("query", "change_success_rate", "--db",
                       str(sample_db), "--param",
                       "application_ids=Payments Gateway,APP-0X9")
    assert both.returncode == 2
    assert f"{said.rstrip()}; no application 'APP-0X9' in this database" \
        in both.stderr
    # a name mistyped: the name meant and its id (it was told the ids
    # nearest its spelling: a re-check walkthrough)
    typo = changeboard("query", "change_success_rate", "--db",
                       str(sample_db), "--param",
                       "application_ids=Paymnts Gateway")
    assert typo.returncode == 2
    assert typo.stderr.endswith(
        "no application 'Paymnts Gateway' in this database; did you mean "
        "Payments Gateway, the name of APP-001? Give its id\n")


def test_the_mapping_source_needs_its_mapping_file(tmp_path):
    result = changeboard("load", "mapping", str(tmp_path / "x.csv"))
    assert result.returncode == 2
    assert "--mapping" in result.stderr


@pytest.mark.parametrize(("args", "said"), [
    (["mapping", "--mapping", "bpic2041"],
     "changeboard load mapping: error: --mapping bpic2041: no such file, and "
     "no shipped mapping is named so; did you mean bpic2014? (shipped: "
     "bpic2014, endoflife-cycles, endoflife-versions, uci-incidents) "
     "(nothing loaded)"),
    (["csv", "--table", "chnages"],
     "changeboard load csv: error: --table chnages: no canonical table is "
     "named so; did you mean changes? (tables: "),
    (["servicenow", "--overrides", "site.toml"],
     "changeboard load servicenow: error: --overrides site.toml: no such "
     "file (nothing loaded)"),
])
def test_a_wrong_mapping_or_table_is_said_before_anything_is_written(
        tmp_path, args, said):
    """`--mapping bpic2041` printed '[Errno 2] No such file or directory',
    made the database with a failed batch in it and exited 1; so did
    `--table nope`. Each is an input error said before any file is read,
    with the name meant, and nothing is written."""
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    target = tmp_path / "new.duckdb"
    done = changeboard("load", args[0], str(data), *args[1:], "--db",
                       str(target))
    assert done.returncode == 2 and done.stderr.startswith(said), done.stderr
    assert list(tmp_path.iterdir()) == [data]


@pytest.mark.parametrize("flat, words", [
    (["csv", "a.csv", "b.csv", "--db", "x"],
     ["load", "csv", "a.csv", "b.csv", "--db", "x"]),
    (["--db", "x", "servicenow", "a.csv", "--mapping", "site.toml"],
     ["load", "servicenow", "--db", "x", "a.csv", "--overrides", "site.toml"]),
    (["mapping", "a.csv", "--mapping", "bpic2014"],
     ["load", "mapping", "a.csv", "--mapping", "bpic2014"]),
    (["jira", "a.csv", "--mapping=site.toml"],
     ["load", "jira", "a.csv", "--overrides=site.toml"]),
    (["servicenow-api", "--since", "2026-03-01", "--query", "a=b"],
     ["sync", "servicenow", "--since", "2026-03-01", "--query", "a=b"]),
    (["jira-versions-api", "--project", "CHG", "--mapping", "site.toml"],
     ["sync", "jira-versions", "--project", "CHG", "--overrides",
      "site.toml"]),
    (["--sample", "--seed", "3", "--scale", "0.1"],
     ["sample", "--seed", "3", "--scale", "0.1"]),
    (["--remove-sample", "--db", "x"], ["sample", "--remove", "--db", "x"]),
    ([], ["load"]),
])
def test_python_m_ingest_is_an_alias_in_the_flat_form(flat, words):
    from ingest.__main__ import translate

    assert translate(flat) == words


def test_serve_runs_streamlit_on_this_machine_as_make_run_does(
        tiny_db, monkeypatch):
    import os

    from changeboard import cli as cli_module
    seen = {}

    def execve(program, argv, env):
        seen.update(program=program, argv=argv, env=env, cwd=os.getcwd())
        raise SystemExit(0)
    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit):
        cli_module.main(["serve", "--db", str(tiny_db), "--port", "8599"])
    argv = seen["argv"]
    # Streamlit's command line, the pages' modules imported first
    assert argv[1:4] == ["-m", "changeboard.launch", "run"]
    assert argv[4] == str(ROOT / "app.py") and seen["cwd"] == str(ROOT)
    words = dict(zip(argv[5::2], argv[6::2], strict=False))
    assert words["--server.address"] == "127.0.0.1"
    assert words["--server.port"] == "8599"
    assert seen["env"]["CHANGEBOARD_DB"] == str(tiny_db.resolve())


def test_the_load_summary_names_each_file_whole_and_once(tmp_path):
    """The summary cut a file's name at 36 characters (UCI's
    'incident_event_log.original-values.first-119998-rows.csv.gz' read
    'incident_event_log.original-values.f', so two exports named alike up
    to there read the same), and a warning named the file twice, once as
    its whole path ('versions.csv: warning: /work/.../versions.csv: 9
    rows with dates before 1990 ...')."""
    name = "changes-servicenow-export-2026-12-03-all-groups-part-1.csv"
    result = load_changes(tmp_path, name,
                          "C1,normal,closed,2026-01-01T00:00:00Z",
                          "C2,normal,closed,1970-01-01T00:00:00Z")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header, row = lines[0].split(), lines[1].split()
    assert header[:2] == ["file", "table"] and row[:2] == [name, "changes"]
    assert lines[0].index("table") == lines[1].index(" changes ") + 1
    warned = [line for line in lines if "dates before 1990" in line]
    assert warned == [f"{name}: warning: 1 row with dates before 1990 or "
                      "more than 10 years ahead (row 3): created_at = "
                      "1970-01-01 00:00:00+00 on row 3"]


def test_a_file_of_unreadable_dates_is_told_its_way_out_once(tmp_path):
    """The UCI incident log loaded as a ServiceNow incident export: every
    row's opened_at is d/m/yyyy. One line names the date_formats setting
    and the shipped mapping; the first rejects still name row, column and
    value."""
    export = tmp_path / "incident_event_log.csv"
    export.write_text(
        "number,incident_state,sys_mod_count,opened_at,cmdb_ci,priority,"
        "caused_by,resolved_at\n"
        "INC0000045,New,0,29/2/2016 01:16,?,3 - Moderate,?,?\n"
        "INC0000047,New,0,29/2/2016 04:40,?,3 - Moderate,?,?\n",
        encoding="utf-8")
    result = changeboard("load", "servicenow-incidents", str(export),
                         "--db", str(tmp_path / "cb.duckdb"), "--dry-run")
    # every row rejected: a failed load, said with its way out
    assert result.returncode == 1, result.stderr
    assert "every one of its 2 rows was rejected (most often bad_timestamp: " \
        "2): nothing loaded" in result.stdout + result.stderr
    told = [line for line in result.stdout.splitlines()
            if "rejected as bad_timestamp" in line]
    assert told == [
        "incident_event_log.csv: warning: all 2 rows were rejected as "
        "bad_timestamp in opened_at (the first, row 2: '29/2/2016 01:16'): "
        "this source reads ISO-8601 times or the format an overrides file "
        "gives. The shipped mapping uci-incidents reads a file with this "
        "header and these dates: changeboard load mapping "
        "incident_event_log.csv --mapping uci-incidents (on the Data "
        'page: the source "Any export, described by a mapping" and the '
        "mapping uci-incidents). Otherwise, give "
        "the file's format as date_formats in the [source] table of an "
        "overrides file (--overrides site.toml, or the overrides TOML on "
        'the Data page; strptime codes, e.g. date_formats = ["%d/%m/%Y '
        '%H:%M"] reads 29/2/2016 01:16).']
    assert "  row 2: bad_timestamp in opened_at = '29/2/2016 01:16'" in \
        result.stdout
    assert "  row 3: bad_timestamp in opened_at = '29/2/2016 04:40'" in \
        result.stdout


def test_a_missing_file_is_refused_before_anything_is_loaded(tmp_path):
    """`changeboard load csv changes.csv missing.csv` loaded changes.csv,
    then recorded missing.csv as a failed batch saying 'no canonical
    table is named like this file' (its name did not match: it was never
    read). A file that is not there, or a folder, is named at once and
    nothing is loaded."""
    changes = tmp_path / "changes.csv"
    changes.write_text("change_id,change_type,state,created_at\n"
                       "C1,normal,closed,2026-01-01T00:00:00Z\n",
                       encoding="utf-8")
    db_path = tmp_path / "cb.duckdb"
    result = changeboard("load", "csv", str(changes),
                         str(tmp_path / "changes-2.csv"), str(tmp_path),
                         "--db", str(db_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"changeboard load csv: error: {tmp_path / 'changes-2.csv'}: no such "
        f"file; {tmp_path}: a folder, not a file (nothing loaded)\n")
    assert not db_path.exists()


def test_an_invalid_mapping_file_is_an_error_of_the_command(tmp_path):
    """docs/sources.md listed an invalid mapping file among the failed
    files recorded as batches, where the command refuses it before reading
    any file (a data administrator's walkthrough): as the docs now say,
    exit 2, nothing loaded, no batch and no database."""
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[source]\nname = "x"\ntable = "releases"\n'
                       'timezone = "Europe/Berln"\n[columns]\n'
                       'release_id = "id"\nname = "name"\n',
                       encoding="utf-8")
    export = tmp_path / "rel.csv"
    export.write_text("id,name\nR1,a\n", encoding="utf-8")
    result = changeboard("load", "mapping", str(export), "--mapping",
                         str(mapping), "--db", str(tmp_path / "cb.duckdb"))
    assert result.returncode == 2
    assert "bad.toml: invalid mapping: [source] timezone 'Europe/Berln'" \
        in result.stderr and "(nothing loaded)" in result.stderr
    assert not (tmp_path / "cb.duckdb").exists()
    said = (ROOT / "docs" / "sources.md").read_text()
    assert "an invalid one is an error of the command (exit 2" in \
        " ".join(said.split())


def test_a_file_named_after_no_table_is_told_the_table_its_header_reads_as(
        tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("\ufeffchange_id,change_type,state,created_at,risk\n"
                      "C1,normal,closed,2026-01-01T00:00:00Z,low\n",
                      encoding="utf-8")
    result = changeboard("load", "csv", str(export), "--db",
                         str(tmp_path / "cb.duckdb"))
    assert result.returncode == 1
    assert ("export.csv: error: no canonical table is named like "
            "this file; its header reads as changes: name it changes.csv (or "
            "changes-<anything>.csv), or choose the table (--table changes, "
            "or Table on the Data page) (tables: ") in result.stdout
    # as told: the same file with --table loads
    told = changeboard("load", "csv", str(export), "--table", "changes",
                       "--db", str(tmp_path / "cb.duckdb"))
    assert told.returncode == 0, told.stdout + told.stderr
    # a header of no table's key: no table is named
    other = tmp_path / "other.csv"
    other.write_text("foo,bar\n1,2\n", encoding="utf-8")
    result = changeboard("load", "csv", str(other), "--db",
                         str(tmp_path / "cb.duckdb"))
    assert "other.csv: error: no canonical table is named like this file " \
        "(tables: " in result.stdout
    # a file named for another table (incidents' columns in releases.csv)
    # was told of unknown columns and 'did you mean created_at?' (a data
    # administrator's walkthrough): it is told the table it reads as
    wrong = tmp_path / "releases.csv"
    wrong.write_text("incident_id,title,priority,opened_at\n"
                     "I1,outage,2,2026-01-01T00:00:00Z\n", encoding="utf-8")
    result = changeboard("load", "csv", str(wrong), "--db",
                         str(tmp_path / "cb.duckdb"))
    assert result.returncode == 1
    assert "for releases; its header reads as incidents: name it " \
        "incidents.csv (or incidents-<anything>.csv), or choose the table " \
        "(--table incidents, or Table on the Data page)" in result.stdout, \
        result.stdout


@pytest.mark.parametrize("content", [b"release_id,name\r\nR1,x\r\n", b""])
def test_a_db_naming_a_file_that_is_no_database_is_said_in_one_line(
        tmp_path, content):
    """--db pointed at an export by mistake printed a traceback ending
    'Cannot launch in-memory database in read-only mode!' (report cab,
    load, snapshots list) or that line as a query's error, exit 1. It is an
    input error naming the file, and the file is left as it was."""
    other = tmp_path / "releases.csv"
    other.write_bytes(content)
    said = (f"{other} is not a DuckDB database (--db, else CHANGEBOARD_DB, "
            "names the database, not a data file)")
    runs = {
        "query": (["query", "data_status"], f"error: {said}"),
        "report cab": (["report", "cab", "--date", "2026-01-20", "--out",
                        str(tmp_path / "x.html")],
                       f"changeboard report cab: {said}"),
        "snapshots": (["snapshots", "list"],
                      f"changeboard snapshots list: {said}")}
    if content:  # an empty file is a new database to a load
        source = tmp_path / "changes.csv"
        source.write_text("change_id\n")
        runs["load"] = (["load", "csv", str(source)],
                        f"changeboard load csv: error: {said} (nothing "
                        "loaded)")
    for name, (args, line) in runs.items():
        done = changeboard(*args, "--db", str(other))
        assert (done.returncode, done.stdout, done.stderr.splitlines()) == (
            2, "", [line]), name
    assert other.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["releases.csv", *(["changes.csv"] if content else [])])


def test_a_missing_database_or_output_folder_is_said_in_one_line(
        tiny_db, tmp_path):
    """A mistyped --db (or CHANGEBOARD_DB) made `query` print DuckDB's
    'IOException: IO Error: Cannot open database ... in read-only mode'
    and `snapshots list` an empty table ending '0 snapshots' with exit 0,
    which a weekly script takes for success; `report cab --out` into a
    folder that does not exist built the pack, then printed Chromium's own
    log lines (bus, dbus, headless command handler) as its error."""
    gone = tmp_path / "typo.duckdb"
    window = ["--param", "start_date=2026-01-01", "--param",
              "end_date=2026-02-01"]
    query = changeboard("query", "change_success_rate", "--db", str(gone),
                        *window)
    # exit 2, as every other input error of `query` (it was 1)
    assert query.returncode == 2 and query.stdout == ""
    assert query.stderr.splitlines() == [
        f"error: no database at {gone} (--db, else CHANGEBOARD_DB, names it)"]
    # report and snapshots exit 2 for it too (they exited 1)
    listed = changeboard("snapshots", "list", "--db", str(gone))
    assert listed.returncode == 2 and listed.stdout == ""
    assert f"no database at {gone} and no snapshots in" in listed.stderr
    shown = changeboard("snapshots", "show", "2026", "--db", str(gone))
    assert shown.returncode == 2 and "no snapshot '2026'" in shown.stderr
    for report in (["cab", "--date", "2026-01-20"],
                   ["minutes", "--meeting", "2026-01-20"]):
        made = changeboard("report", *report, "--db", str(gone), "--out",
                           str(tmp_path / "made.html"))
        assert made.returncode == 2 and made.stdout == ""
        assert made.stderr.splitlines() == [
            f"changeboard report {report[0]}: no database at {gone}"]
    sent = changeboard("report", "cab", "--send", "--webhook",
                       "https://chat.example.com/hook", "--db", str(gone))
    assert sent.returncode == 2
    assert f"no database at {gone}" in sent.stderr
    assert not gone.exists() and not (tmp_path / "made.html").exists()
    # the live file, as before
    ok = changeboard("snapshots", "list", "--db", str(tiny_db))
    assert ok.returncode == 0 and "(live)" in ok.stdout
    out = tmp_path / "no-such-folder" / "cab.pdf"
    pack = changeboard("report", "cab", "--date", "2026-01-20", "--out",
                       str(out), "--db", str(tiny_db))
    assert pack.returncode == 2
    assert pack.stderr.splitlines()[-1] == (
        f"changeboard report cab: error: --out {out}: there is no folder "
        f"{out.parent}")
    assert "Chromium" not in pack.stderr and not out.parent.exists()
    # report minutes built the minutes, then printed the OS's "[Errno 2]"
    out = tmp_path / "no-such-folder" / "minutes.html"
    minutes = changeboard("report", "minutes", "--meeting", "2026-01-20",
                          "--out", str(out), "--db", str(tiny_db))
    assert minutes.returncode == 2
    assert minutes.stderr.splitlines()[-1] == (
        f"changeboard report minutes: error: --out {out}: there is no "
        f"folder {out.parent}")



def test_sample_remove_and_snapshots_prune_refuse_a_missing_database(
        tmp_path):
    """`sample --remove` on a --db naming no file said 'removed 0 sample
    rows' and `snapshots prune` (also --dry-run) '0 snapshots deleted',
    both exiting 0, which a script takes for success; prune also left a
    `<db>.lock` beside the file that is not there. Both refuse it now as
    `query` and `snapshots list` do: exit 2, nothing written."""
    gone = tmp_path / "typo.duckdb"
    removed = changeboard("sample", "--remove", "--db", str(gone))
    assert removed.returncode == 2 and removed.stdout == ""
    assert removed.stderr.splitlines() == [
        f"error: no database at {gone} (--db, else CHANGEBOARD_DB, names it)"]
    for dry_run in ([], ["--dry-run"]):
        pruned = changeboard("snapshots", "prune", *dry_run, "--db",
                             str(gone))
        assert pruned.returncode == 2 and pruned.stdout == ""
        assert pruned.stderr.splitlines() == [
            f"changeboard snapshots prune: no database at {gone} and no "
            f"snapshots in {gone}.snapshots"]
    assert list(tmp_path.iterdir()) == []  # no database, lock or folder

def test_counts_of_one_read_in_the_singular(tmp_path, monkeypatch, capsys):
    """`sample --remove` said 'removed 1 sample rows', `snapshots prune
    --dry-run` '1 of 1 snapshots would be deleted', `report minutes` '1
    decisions, 1 attendees', and a load of a small file 'reading 0.0 MB'."""
    import ingest
    from changeboard import auth, decisions
    from changeboard import cli as cli_module
    changes = tmp_path / "changes.csv"
    changes.write_text("change_id,change_type,state,created_at\n"
                       "C1,normal,closed,2026-01-01T00:00:00Z\nC9\n",
                       encoding="utf-8")
    path = tmp_path / "cb.duckdb"
    loaded = changeboard("load", "csv", str(changes), "--db", str(path))
    assert loaded.returncode == 0, loaded.stderr
    size = changes.stat().st_size
    assert f"changes.csv: reading {size} B as csv" in loaded.stderr
    assert "bad_row_shape: 1 field, header has 4\n" in loaded.stdout
    # a second publish keeps the first file as a snapshot
    changes.write_text("change_id,change_type,state,created_at\n"
                       "C2,normal,closed,2026-01-01T00:00:00Z\n",
                       encoding="utf-8")
    assert changeboard("load", "csv", str(changes), "--db",
                       str(path)).returncode == 0
    for setting in ("KEEP_LAST", "DAILY", "MONTHLY"):
        monkeypatch.setenv(f"CHANGEBOARD_SNAPSHOTS_{setting}", "0")
    assert cli_module.main(["snapshots", "prune", "--dry-run", "--db",
                            str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == \
        "1 snapshot would be deleted; 0 kept"
    monkeypatch.setattr(ingest, "remove_sample_from", lambda db_path: 1)
    assert cli_module.main(["sample", "--remove", "--db", str(path)]) == 0
    assert capsys.readouterr().out == f"removed 1 sample row from {path}\n"
    member = auth.User(email="chair@acme.example", name="Chair",
                       signed_in=True, roles=tuple(
                           r for r in auth.ROLES if r.name == "cab_member"))
    from datetime import date
    decisions.record(path, member, date(2026, 1, 20), "C1", "approved")
    decisions.record_attendees(path, member, date(2026, 1, 20), ["Lee"])
    out = tmp_path / "minutes.html"
    minutes = changeboard("report", "minutes", "--meeting", "2026-01-20",
                          "--db", str(path), "--out", str(out))
    assert minutes.returncode == 0, minutes.stderr
    assert minutes.stdout == f"wrote {out} (1 decision, 1 attendee)\n"


def test_a_load_that_loaded_nothing_does_not_say_published(tmp_path):
    """`changeboard load` ended 'published PATH' (exit 1) when every file
    failed and nothing but their failed batches was written; the last line
    now says what was loaded, and agrees with the exit status."""
    path = tmp_path / "cb.duckdb"
    other = tmp_path / "other.csv"
    other.write_text("foo,bar\n1,2\n", encoding="utf-8")
    changes = tmp_path / "changes.csv"
    changes.write_text("change_id,change_type,state,created_at\n"
                       "C1,normal,closed,2026-01-01T00:00:00Z\n",
                       encoding="utf-8")
    failed = changeboard("load", "csv", str(other), "--db", str(path))
    assert failed.returncode == 1
    assert "published" not in failed.stdout
    assert failed.stdout.splitlines()[-1] == (
        f"nothing loaded into {path}: the file failed (recorded as a failed "
        "batch)")
    both = changeboard("load", "csv", str(other), str(changes), "--db",
                       str(path))
    assert both.returncode == 1
    assert both.stdout.splitlines()[-1].startswith(f"published {path} in ")
    assert both.stdout.splitlines()[-1].endswith(
        " s; 1 of 2 files failed and loaded nothing")
    again = changeboard("load", "csv", str(other), str(changes), "--db",
                        str(path))
    assert again.returncode == 1
    assert again.stdout.splitlines()[-1] == (
        f"nothing loaded into {path}: 1 of 2 files failed, the other was "
        "already loaded (recorded as a failed batch)")
    unchanged = changeboard("load", "csv", str(changes), "--db", str(path))
    assert unchanged.returncode == 0
    assert unchanged.stdout.splitlines()[-1] == (
        f"nothing changed in {path}: the file was already loaded")


def with_a_snapshot(tmp_path):
    """A database of two changes, then three: the first kept as a snapshot;
    its path and the snapshot's name."""
    from changeboard import snapshots
    path = two_changes(tmp_path / "cb.duckdb", "Ops", "Dev")
    with db.publish(path) as con:  # keeps the first as a snapshot
        con.execute("insert into changes (change_id, change_type, state, "
                    "created_at) values ('C3', 'normal', 'new', "
                    "'2026-01-02 00:00Z')")
    return path, snapshots.listing(path)[0].name


def test_hints_name_the_command_as_the_readme_does(tmp_path):
    """The README's "Command line" calls it `changeboard`; `snapshots
    show` said 'read it: python -m changeboard report cab ... --as-of' (and
    not that `query --as-of` reads it too), a wrong --as-of '`python -m
    changeboard snapshots list` lists them', and `query --list` described
    api_syncs by the old `python -m ingest servicenow-api`."""
    path, first = with_a_snapshot(tmp_path)
    shown = changeboard("snapshots", "show", first, "--db", str(path))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1] == (
        f"read it: changeboard query QUERY --as-of {first} ... or "
        f"changeboard report cab --date YYYY-MM-DD --as-of {first} ...")
    # as told: query --as-of reads the snapshot
    read = changeboard("query", "data_status", "--as-of", first, "--db",
                       str(path), "--format", "json")
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)[0]["n_changes"] == 2
    wrong = changeboard("query", "data_status", "--as-of", "1999", "--db",
                        str(path))
    assert wrong.returncode == 2
    assert ("; `changeboard snapshots list` lists them; `live` reads the "
            "live file)") in wrong.stderr
    listed = changeboard("query", "--list").stdout
    syncs = next(line for line in listed.splitlines()
                 if line.startswith("api_syncs "))
    assert "(changeboard sync SOURCE, e.g. servicenow)" in syncs
    for said in (shown.stdout, wrong.stderr, listed):
        assert "python -m" not in said


def test_query_as_of_the_start_of_a_name_says_which_snapshot_it_read(
        tmp_path):
    """`query --as-of` takes the start of a snapshot's name (a day) when
    one snapshot has it, and read that one without a word: a script's log
    could not tell which version its numbers came from. It now says the
    name on stderr (stdout keeps the rows alone), and so does the whole
    name: a script's log names the version whatever it was given."""
    from changeboard import snapshots
    path, first = with_a_snapshot(tmp_path)
    live = snapshots.version_name(path)
    # the start of the snapshot's name alone (the live file's differs)
    day = next(first[:n] for n in range(10, len(first))
               if not live.startswith(first[:n]))
    assert [s.name for s in snapshots.listing(path)
            if s.name.startswith(day)] == [first]
    read = changeboard("query", "data_status", "--as-of", day, "--db",
                       str(path), "--format", "json")
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)[0]["n_changes"] == 2
    assert read.stderr.strip() == (
        f"--as-of {day}: reading the snapshot {first}")
    whole = changeboard("query", "data_status", "--as-of", first, "--db",
                        str(path), "--format", "json")
    assert whole.returncode == 0
    assert whole.stderr.strip() == (
        f"--as-of {first}: reading the snapshot {first}")
    # the start of the live file's name reads it, as `snapshots list`
    # shows it among them ('no snapshot' before); one both names start
    # with names both
    own = next(live[:n] for n in range(10, len(live))
               if not first.startswith(live[:n]))
    read = changeboard("query", "data_status", "--as-of", own, "--db",
                       str(path), "--format", "json")
    assert read.returncode == 0, read.stderr
    assert read.stderr.strip() == (
        f"--as-of {own}: reading the live file, {live}")
    shown = changeboard("snapshots", "show", own, "--db", str(path))
    assert shown.stdout.splitlines()[0] == f"snapshot        {live} (live)"
    both = next(first[:n] for n in range(len(first), 0, -1)
                if live.startswith(first[:n]))
    read = changeboard("query", "data_status", "--as-of", both, "--db",
                       str(path))
    assert read.returncode == 2
    assert read.stderr.strip() == (
        f"error: {both!r} names 2 versions: {live} (live), {first}: give "
        f"more of the name, e.g. {first}")


def test_page_hints_and_settings_name_the_documented_command():
    """Pages and settings said `python -m queries`, `python -m ingest` and
    `python -m changeboard sync ...`; README documents `changeboard ...`.
    The one command a page gives to copy, the query that reproduces a
    number, stays `python -m changeboard query`: `make run` puts no
    `changeboard` on the clone's PATH."""
    import re

    from changeboard import config
    for name in ("CHANGEBOARD_SERVICENOW_INSTANCE", "CHANGEBOARD_JIRA_URL"):
        assert "`changeboard sync " in config.SETTINGS[name][1], name
    for path in [ROOT / "changeboard" / "ui.py", ROOT / "changeboard" /
                 "config.py", *sorted((ROOT / "views").rglob("*.py"))]:
        text = " ".join(path.read_text(encoding="utf-8").split())
        old = re.findall(r"python -m (?:queries|ingest|changeboard(?! query))"
                         r"\b", text.replace('" "', ""))
        assert not old, (path, old)


def test_a_load_or_sync_into_a_folder_that_does_not_exist_is_refused(
        tmp_path):
    """`load --db /srv/changbeoard/cb.duckdb` (a typo) made the folder and a
    new database in it and said 'published': the database meant was never
    loaded. A load and a sync now say the folder is missing and write
    nothing; the dry run too."""
    changes = tmp_path / "changes.csv"
    changes.write_text("change_id,change_type,state,created_at\n"
                       "C1,normal,closed,2026-01-01T00:00:00Z\n",
                       encoding="utf-8")
    typo = tmp_path / "typo" / "cb.duckdb"
    for dry in ([], ["--dry-run"]):
        loaded = changeboard("load", "csv", str(changes), "--db", str(typo),
                             *dry)
        assert loaded.returncode == 2 and loaded.stdout == ""
        assert loaded.stderr.splitlines() == [
            f"changeboard load csv: error: --db {typo}: there is no folder "
            f"{typo.parent} (a new database file is created, not its "
            "folder) (nothing loaded)"]
    by_setting = changeboard("load", "csv", str(changes),
                             env={"CHANGEBOARD_DB": str(typo)})
    assert by_setting.returncode == 2
    assert f"CHANGEBOARD_DB={typo}: there is no folder" in by_setting.stderr
    synced = changeboard("sync", "jira-versions", "--db", str(typo))
    assert synced.returncode == 2 and synced.stdout == ""
    assert f"--db {typo}: there is no folder {typo.parent}" in synced.stderr
    assert "(nothing synced)" in synced.stderr
    assert list(tmp_path.iterdir()) == [changes]
    # a folder that is there: the load creates the database file in it
    assert changeboard("load", "csv", str(changes), "--db",
                       str(tmp_path / "cb.duckdb")).returncode == 0


def test_readiness_from_the_cli_is_judged_at_the_last_load_as_the_page(
        sample_db):
    """`query release_readiness_summary` judged at the wall clock, the
    Release readiness page at the last load: an analyst's 14 releases and
    a slip of 2.3 days beside the page's 15 and 2.2. With no as_of given
    the CLI now judges as the page does, and says so."""
    with db.reading(sample_db) as con:
        loaded = db.run(con, "data_status")["as_of"].iloc[0]
        page = db.run(con, "release_readiness",
                      as_of=loaded.isoformat(sep=" "))
    said = changeboard("query", "release_readiness", "--db", str(sample_db),
                       "--format", "json")
    assert said.returncode == 0, said.stderr
    assert said.stderr.splitlines() == [
        f"as_of {loaded.isoformat(sep=' ')}: judged as the data stands at "
        "its last load, as the Release readiness page judges it (--param "
        "as_of=... for another instant)"]
    rows = json.loads(said.stdout)
    assert [(r["release_id"], r["status"], r["slip_days"]) for r in rows] == [
        (r, s, pytest.approx(d)) for r, s, d in zip(
            page["release_id"], page["status"], page["slip_days"],
            strict=True)]
    given = changeboard("query", "release_readiness_summary", "--db",
                        str(sample_db), "--param", "as_of=2026-01-01 00:00Z")
    assert given.returncode == 0 and given.stderr == ""
