"""The seeded sample-data generator: reproducible, loadable, consistent, believable."""
import csv
import re

import pytest

import sample_data
from changeboard import db
from sample_data import COLUMNS, database
from sample_data.__main__ import main

END = "2025-06-30"  # a Monday; the next CAB meets Tuesday 2025-07-01 10:00 UTC
LAST_YEAR, FIRST_YEAR = "2024-06-30", "2023-06-30"


def load(con, directory):
    for table in COLUMNS:
        # table names come from sample_data.COLUMNS, not from input
        con.execute(f"insert into {table} by name "  # noqa: S608
                    "select * from read_csv($path, header = true, all_varchar = true)",
                    {"path": str(directory / f"{table}.csv")})


def rows(con, sql, **params):
    return con.execute(sql, params).fetchall()


def value(con, sql, **params):
    return con.execute(sql, params).fetchone()[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    directory = tmp_path_factory.mktemp("small")
    counts = sample_data.generate(directory, seed=3, scale=0.1, end_date=END)
    return directory, counts


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Scale 1, loaded into the canonical schema (about a second)."""
    directory = tmp_path_factory.mktemp("full")
    sample_data.generate(directory, seed=7, scale=1, end_date=END)
    connection = db.connect()
    load(connection, directory)
    yield connection
    connection.close()


def test_same_seed_scale_and_end_date_give_byte_identical_files(tmp_path, small):
    directory, counts = small
    again = sample_data.generate(tmp_path, seed=3, scale=0.1, end_date=END)
    assert again == counts
    for table in COLUMNS:
        name = f"{table}.csv"
        assert (tmp_path / name).read_bytes() == (directory / name).read_bytes(), name


def test_a_different_seed_gives_different_files(tmp_path, small):
    directory, _ = small
    sample_data.generate(tmp_path, seed=4, scale=0.1, end_date=END)
    for table in ("changes", "releases", "deployments", "environment_bookings",
                  "incidents"):
        name = f"{table}.csv"
        assert (tmp_path / name).read_bytes() != (directory / name).read_bytes(), name


def test_columns_are_the_schema_columns_in_schema_order(con, small):
    directory, _ = small
    for table, columns in COLUMNS.items():
        schema = [name for (name,) in rows(
            con, "select column_name from information_schema.columns "
                 "where table_name = $t order by ordinal_position", t=table)]
        assert columns == [c for c in schema
                           if c not in ("source", "ingested_batch_id")], table
        with open(directory / f"{table}.csv", newline="", encoding="utf-8") as f:
            assert next(csv.reader(f)) == columns, table


def test_files_load_into_the_canonical_schema_with_every_row(con, small):
    directory, counts = small
    load(con, directory)  # the schema's CHECK constraints validate every code
    for table, n in counts.items():
        assert n > 0, table
        # table names come from sample_data.COLUMNS
        assert value(con, f"select count(*) from {table}") == n, table  # noqa: S608


def test_cells_follow_the_canonical_csv_contract(small):
    directory, _ = small
    instant = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    ids = {"application_id": r"APP-\d{3}", "environment_id": r"ENV-\d{4}",
           "window_id": r"BW-\d{4}", "release_id": r"REL-\d{5}",
           "parent_release_id": r"REL-\d{5}", "change_id": r"CHG\d{7}",
           "caused_by_change_id": r"CHG\d{7}", "deployment_id": r"DEP-\d{7}",
           "caused_by_deployment_id": r"DEP-\d{7}", "booking_id": r"BKG-\d{6}",
           "incident_id": r"INC\d{7}"}
    for table in COLUMNS:
        with open(directory / f"{table}.csv", newline="", encoding="utf-8") as f:
            for record in csv.DictReader(f):
                for column, cell in record.items():
                    if cell == "":
                        continue
                    assert cell not in ("NaT", "nan", "None", "NULL"), (table, column)
                    if column.endswith("_at"):
                        assert instant.fullmatch(cell), (table, column, cell)
                    elif column.endswith("_date"):
                        assert re.fullmatch(r"\d{4}-\d\d-\d\d", cell), (table, column)
                    elif column.startswith("is_"):
                        assert cell in ("true", "false"), (table, column, cell)
                    elif column in ("priority", "capacity"):
                        assert re.fullmatch(r"[1-9]\d*", cell), (table, column, cell)
                    elif column in ids:
                        assert re.fullmatch(ids[column], cell), (table, column, cell)


def test_the_cli_writes_every_table(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path), "--seed", "1", "--scale", "0.05",
                 "--end-date", END]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{t}.csv" for t in COLUMNS)
    assert "changes" in capsys.readouterr().out


REFERENCES = [
    ("environments", "application_id", "applications", "application_id"),
    ("blackout_windows", "application_id", "applications", "application_id"),
    ("blackout_windows", "environment_id", "environments", "environment_id"),
    ("releases", "application_id", "applications", "application_id"),
    ("releases", "parent_release_id", "releases", "release_id"),
    ("release_phases", "release_id", "releases", "release_id"),
    ("changes", "application_id", "applications", "application_id"),
    ("changes", "release_id", "releases", "release_id"),
    ("changes", "environment_id", "environments", "environment_id"),
    ("deployments", "application_id", "applications", "application_id"),
    ("deployments", "environment_id", "environments", "environment_id"),
    ("deployments", "release_id", "releases", "release_id"),
    ("deployments", "change_id", "changes", "change_id"),
    ("environment_bookings", "environment_id", "environments", "environment_id"),
    ("environment_bookings", "release_id", "releases", "release_id"),
    ("incidents", "application_id", "applications", "application_id"),
    ("incidents", "caused_by_change_id", "changes", "change_id"),
    ("incidents", "caused_by_deployment_id", "deployments", "deployment_id"),
]


@pytest.mark.parametrize("child, column, parent, key", REFERENCES)
def test_every_reference_resolves(full, child, column, parent, key):
    # identifiers come from REFERENCES above
    sql = (f"select count(*) from {child} c where c.{column} is not null "  # noqa: S608
           f"and not exists (select 1 from {parent} p where p.{key} = c.{column})")
    assert value(full, sql) == 0
    assert value(full, f"select count({column}) from {child}") > 0  # noqa: S608


# each query counts rows that break the rule
ORDERINGS = {
    "window ends after it starts":
        "select count(*) from blackout_windows where end_at <= start_at",
    "booking ends after it starts":
        "select count(*) from environment_bookings where end_at <= start_at",
    "phase plan ends after it starts":
        "select count(*) from release_phases where planned_end_at <= planned_start_at",
    "phase actual ends after it starts":
        "select count(*) from release_phases where actual_end_at < actual_start_at "
        "or (actual_end_at is not null and actual_start_at is null)",
    "release plan is ordered":
        "select count(*) from releases where planned_release_at <= planned_start_at "
        "or created_at > planned_start_at or actual_release_at < created_at",
    "change plan ends after it starts":
        "select count(*) from changes where planned_end_at <= planned_start_at",
    "change work ends after it starts":
        "select count(*) from changes where actual_end_at < actual_start_at "
        "or (actual_end_at is not null and actual_start_at is null)",
    "approved at or after created":
        "select count(*) from changes where approved_at < created_at",
    "work starts after the change is raised":
        "select count(*) from changes where actual_start_at < created_at",
    "closed at or after the work ended":
        "select count(*) from changes where closed_at < actual_end_at "
        "or closed_at < created_at",
    "updated at or after everything else":
        "select count(*) from changes where updated_at < greatest(created_at, "
        "approved_at, actual_start_at, actual_end_at, closed_at)",
    "deployment finishes after it starts":
        "select count(*) from deployments where finished_at < started_at",
    "incident resolved after it opened":
        "select count(*) from incidents where resolved_at <= opened_at",
    "cab date on or after the change was raised":
        "select count(*) from changes where cab_date < cast(created_at as date)",
}


@pytest.mark.parametrize("rule", ORDERINGS)
def test_every_end_is_after_its_start(full, rule):
    assert value(full, ORDERINGS[rule]) == 0


def test_nothing_is_recorded_after_the_end_date(full):
    end = f"{END} 00:00:00+00"
    checks = [
        "select count(*) from changes where greatest(created_at, approved_at, "
        "actual_start_at, actual_end_at, closed_at, updated_at) > cast($end as timestamptz)",
        "select count(*) from releases where greatest(created_at, actual_release_at) "
        "> cast($end as timestamptz)",
        "select count(*) from release_phases where greatest(actual_start_at, "
        "actual_end_at) > cast($end as timestamptz)",
        "select count(*) from deployments where greatest(started_at, finished_at) "
        "> cast($end as timestamptz)",
        "select count(*) from incidents where greatest(opened_at, resolved_at) "
        "> cast($end as timestamptz)",
    ]
    for sql in checks:
        assert value(full, sql, end=end) == 0, sql
    assert value(full, "select count(*) from changes where planned_start_at > "
                       "cast($end as timestamptz)", end=end) > 0


def test_change_states_agree_with_codes_and_times(full):
    broken = {
        "closed changes have an implemented close code and closed_at":
            "state = 'closed' and (closed_at is null or close_code not in "
            "('successful', 'successful_with_issues', 'unsuccessful', 'backed_out'))",
        "cancelled changes are cancelled or rejected":
            "state = 'cancelled' and (closed_at is null or close_code not in "
            "('cancelled', 'rejected'))",
        "open changes have no close code":
            "state not in ('closed', 'cancelled') and (close_code is not null "
            "or closed_at is not null)",
        "implement means started, not finished":
            "state = 'implement' and (actual_start_at is null or actual_end_at is not null)",
        "review and closed mean finished":
            "state in ('review', 'closed') and actual_end_at is null",
        "not started before implement":
            "state in ('new', 'assess', 'authorize', 'scheduled') "
            "and actual_start_at is not null",
        "approved_at exactly when approved":
            "(approval = 'approved') <> (approved_at is not null)",
        "standard changes are pre-approved, no CAB":
            "change_type = 'standard' and (approval <> 'not_required' or is_cab_required)",
        "normal and emergency changes go to a CAB":
            "change_type <> 'standard' and (approval = 'not_required' "
            "or not is_cab_required)",
        "rejected approval, rejected close code":
            "(approval = 'rejected') <> (close_code = 'rejected') "
            "and state = 'cancelled'",
        "rejected changes never start":
            "close_code = 'rejected' and actual_start_at is not null",
    }
    for rule, where in broken.items():
        # rules come from the dict above
        assert value(full, f"select count(*) from changes where {where}") == 0, rule  # noqa: S608


def test_release_status_agrees_with_dates_and_parents(full):
    end = f"{END} 00:00:00+00"
    assert value(full, "select count(*) from releases where (status = 'released') "
                       "<> (actual_release_at is not null)") == 0
    assert value(full, "select count(*) from releases where status = 'draft' "
                       "and planned_start_at < cast($end as timestamptz)", end=end) == 0
    assert value(full, "select count(*) from releases r join release_phases p "
                       "using (release_id) where r.status in ('draft', 'planned') "
                       "and p.actual_start_at is not null") == 0
    assert value(full, "select count(*) from releases where status = 'released' "
                       "and release_type <> 'enterprise'") > 300
    assert value(full, "select count(*) from releases where status in ('planned', "
                       "'draft') and planned_release_at > cast($end as timestamptz) "
                       "+ interval 60 day", end=end) > 0
    # children name an enterprise parent and go live on its date
    assert value(full, "select count(*) from releases c join releases p "
                       "on p.release_id = c.parent_release_id "
                       "where p.release_type <> 'enterprise' "
                       "or p.planned_release_at <> c.planned_release_at") == 0
    assert value(full, "select count(*) from releases c join releases p "
                       "on p.release_id = c.parent_release_id") > 10
    assert value(full, "select count(*) from releases where (release_type = "
                       "'enterprise') <> (application_id is null)") == 0


def test_change_types_are_about_60_35_5(full):
    shares = dict(rows(full, "select change_type, count(*) / sum(count(*)) over () "
                             "from changes group by all"))
    assert shares["standard"] == pytest.approx(.60, abs=.03)
    assert shares["normal"] == pytest.approx(.35, abs=.03)
    assert shares["emergency"] == pytest.approx(.05, abs=.015)


FAILED = "close_code in ('unsuccessful', 'backed_out')"
IMPLEMENTED = ("close_code in ('successful', 'successful_with_issues', "
               "'unsuccessful', 'backed_out')")


def test_emergency_and_risky_changes_fail_more_often(full):
    by_type = dict(rows(full, f"select change_type, avg(({FAILED})::int) "  # noqa: S608
                              f"from changes where {IMPLEMENTED} group by all"))
    assert by_type["emergency"] > 2 * by_type["standard"]
    assert by_type["normal"] > by_type["standard"]
    by_risk = dict(rows(full, f"select risk, avg(({FAILED})::int) "  # noqa: S608
                              f"from changes where {IMPLEMENTED} group by all"))
    assert by_risk["very_high"] > by_risk["high"] > by_risk["moderate"] > by_risk["low"]


def test_change_failure_rate_with_incidents_and_rollbacks_is_5_to_12_percent(full):
    rate = value(full, f"""
        select avg((
            {FAILED}
            or exists (select 1 from incidents i
                       where i.caused_by_change_id = c.change_id)
            or exists (select 1 from incidents i join deployments d
                       on i.caused_by_deployment_id = d.deployment_id
                       where d.change_id = c.change_id)
            or exists (select 1 from deployments d where d.change_id = c.change_id
                       and (d.status = 'rolled_back' or d.is_rollback)))::int)
        from changes c where {IMPLEMENTED}""")  # noqa: S608
    assert .05 <= rate <= .12


def test_some_team_fails_clearly_less_in_the_last_year_than_in_the_first(full):
    improving = rows(full, f"""
        select assignment_group,
            avg(({FAILED})::int) filter (where created_at < cast($first as date)),
            avg(({FAILED})::int) filter (where created_at >= cast($last as date))
        from changes where {IMPLEMENTED} group by all
        having count(*) filter (where created_at < cast($first as date)) >= 40
        and avg(({FAILED})::int) filter (where created_at >= cast($last as date))
            < .5 * avg(({FAILED})::int) filter (where created_at < cast($first as date))
        """, first=FIRST_YEAR, last=LAST_YEAR)  # noqa: S608
    assert len(improving) >= 1
    # and teams differ: not every group fails at the same rate
    spread = rows(full, f"select min(r), max(r) from (select avg(({FAILED})::int) r "  # noqa: S608
                        f"from changes where {IMPLEMENTED} group by assignment_group)")
    assert spread[0][1] > 2 * spread[0][0]


def test_changes_are_raised_in_office_hours_on_weekdays(full):
    weekend = value(full, "select avg((isodow(created_at) >= 6)::int) from changes")
    office = value(full, "select avg((hour(created_at) between 8 and 17)::int) "
                         "from changes")
    assert weekend < .1
    assert office > .7
    # and volume grows over the three years
    assert value(full, "select count(*) filter (where created_at >= cast($last as date))"
                       " > 1.5 * count(*) filter (where created_at < cast($first as date))"
                       " from changes", first=FIRST_YEAR, last=LAST_YEAR)


def test_most_changes_run_to_plan_some_start_late_or_overrun(full):
    late, overran, on_plan = full.execute(f"""
        select avg((actual_start_at > planned_start_at)::int),
            avg((actual_end_at > planned_end_at)::int),
            avg((actual_start_at <= planned_start_at
                 and actual_end_at <= planned_end_at)::int)
        from changes where {IMPLEMENTED}""").fetchone()  # noqa: S608
    assert .15 < late < .5
    assert .1 < overran < .45
    assert on_plan > .5


def test_recent_changes_are_spread_over_the_open_states(full):
    states = {s for (s,) in rows(full, "select distinct state from changes where "
                                       "created_at >= cast($end as date) - 30",
                                 end=END)}
    assert {"new", "assess", "authorize", "scheduled", "implement", "review",
            "closed"} <= states
    old_closed = value(full, "select avg((state in ('closed', 'cancelled'))::int) "
                             "from changes where created_at < cast($end as date) - 90",
                       end=END)
    assert old_closed > .98


def test_emergency_changes_are_approved_fast_some_after_work_started(full):
    hours, retroactive = full.execute("""
        select median(epoch(approved_at) - epoch(created_at)) / 3600,
            count(*) filter (where approved_at > actual_start_at)
        from changes where change_type = 'emergency' and approval = 'approved'
        """).fetchone()
    normal_hours = value(full, "select median(epoch(approved_at) - epoch(created_at))"
                               " / 3600 from changes where change_type = 'normal' "
                               "and approval = 'approved'")
    assert hours < 6 < 48 < normal_hours
    assert retroactive > 10
    assert value(full, "select count(*) from changes where approval = 'rejected'") > 20


def test_next_weeks_cab_agenda_has_changes_awaiting_approval(full):
    full.execute("""
        create or replace temp table agenda as
        select * from changes
        where change_type in ('normal', 'emergency') and is_cab_required
            and approval in ('requested', 'not_yet_requested')
            and state not in ('closed', 'cancelled')
            and planned_start_at < timestamptz '2025-07-08 10:00:00+00'
            and planned_end_at > timestamptz '2025-07-01 10:00:00+00'""")
    assert 15 <= value(full, "select count(*) from agenda") <= 60
    collisions = value(full, """
        select count(*) from agenda a join changes b
        on a.change_id <> b.change_id and b.state not in ('closed', 'cancelled')
            and b.approval <> 'rejected'
            and a.planned_start_at < b.planned_end_at
            and b.planned_start_at < a.planned_end_at
            and (a.application_id = b.application_id
                 or a.environment_id = b.environment_id or a.ci_name = b.ci_name)""")
    hits = value(full, """
        select count(*) from agenda a join blackout_windows w
        on w.kind in ('freeze', 'blackout')
            and (w.application_id is null or w.application_id = a.application_id)
            and (w.environment_id is null or w.environment_id = a.environment_id)
            and a.planned_start_at < w.end_at and w.start_at < a.planned_end_at""")
    assert collisions > 0
    assert hits > 0


def test_fewer_changes_are_planned_in_the_year_end_freeze(full):
    per_day = dict(rows(full, """
        select in_freeze, count(*) / count(distinct cast(planned_start_at as date))
        from (select *, exists (select 1 from blackout_windows w
                  where w.kind = 'freeze' and planned_start_at >= w.start_at
                  and planned_start_at < w.end_at) as in_freeze
              from changes where planned_start_at < cast($end as date)) group by all
        """, end=END))
    assert per_day[True] < .5 * per_day[False]


def test_blackout_windows_cover_freezes_maintenance_and_applications(full):
    kinds = dict(rows(full, "select kind, count(*) from blackout_windows group by all"))
    assert kinds["freeze"] >= 3
    assert kinds["maintenance"] >= 36
    assert value(full, "select count(*) from blackout_windows where "
                       "application_id is not null") > 0
    assert value(full, "select count(*) from blackout_windows where "
                       "environment_id is not null") > 0


def test_environments_have_tiers_shared_ones_and_calendars(full):
    tiers = {t for (t,) in rows(full, "select distinct tier from environments")}
    assert {"dev", "test", "sit", "uat", "perf", "staging", "prod", "dr"} <= tiers
    assert value(full, "select count(*) from environments where is_shared "
                       "and application_id is null") >= 5
    assert value(full, "select count(*) from environments where not is_shared "
                       "and application_id is null") == 0
    assert value(full, "select count(*) from environments where capacity = 2") > 0
    assert value(full, "select count(*) from environments "
                       "where availability = 'business_hours'") > 0
    zones = {z for (z,) in rows(full, "select distinct timezone from environments")}
    assert {"UTC", "Europe/London", "Europe/Berlin", "America/New_York"} <= zones


def test_some_environment_has_overlapping_approved_bookings(full):
    assert value(full, """
        select count(*) from environment_bookings a join environment_bookings b
        on a.environment_id = b.environment_id and a.booking_id < b.booking_id
            and a.start_at < b.end_at and b.start_at < a.end_at
        where a.status = 'approved' and b.status = 'approved'""") > 0


def test_some_bookable_environments_had_no_bookings_in_the_last_90_days(full):
    idle = value(full, """
        select count(*) from environments e
        where tier in ('sit', 'uat', 'perf', 'staging')
            and not exists (select 1 from environment_bookings b
                where b.environment_id = e.environment_id
                and b.end_at > cast($end as date) - 90
                and b.start_at < cast($end as date))""", end=END)
    assert idle > 0
    statuses = dict(rows(full, "select status, count(*) from environment_bookings "
                               "group by all"))
    assert statuses["approved"] > statuses["pending"] > 0
    assert statuses["rejected"] > 0 and statuses["cancelled"] > 0
    assert value(full, "select count(*) from environment_bookings where "
                       "start_at > cast($end as date) + 30 and release_id is not null",
                 end=END) > 0


def test_upcoming_releases_book_sit_uat_pre_prod_and_prod_ahead(full):
    matrix = db.run(full, "environment_impact_matrix", start_date=END,
                    end_date="2025-12-30")
    per_release = matrix.groupby("release_id").size()
    assert len(per_release) > 40 and per_release.min() >= 4
    tiers = dict(rows(full, """
        select r.release_id, list(distinct e.tier order by e.tier)
        from releases r join environment_bookings b using (release_id)
        join environments e using (environment_id)
        where r.planned_release_at >= cast($end as date)
            and r.planned_release_at < cast($end as date) + 182
            and r.status <> 'cancelled' and r.release_type <> 'enterprise'
        group by all""", end=END))
    assert all({"sit", "uat", "prod"} <= set(t) and {"staging", "perf"} & set(t)
               for t in tiers.values()), tiers
    # approved near, pending further out, a few rejected
    ahead = dict(rows(full, """
        select case when start_at < cast($end as date) + 30 then 'near'
            else 'far' end || ' ' || status, count(*)
        from environment_bookings where release_id is not null
            and start_at >= cast($end as date) group by all""", end=END))
    near = ahead.get("near approved", 0) / sum(
        v for k, v in ahead.items() if k.startswith("near"))
    far = ahead.get("far pending", 0) / sum(
        v for k, v in ahead.items() if k.startswith("far"))
    assert near > .8 and far > .5 and ahead.get("far rejected", 0) > 0


def test_releases_are_mostly_on_time_with_a_tail_of_slips(full):
    slips = [s for (s,) in rows(full, """
        select cast(actual_release_at as date) - cast(planned_release_at as date)
        from releases where status = 'released' and release_type <> 'enterprise'""")]
    late = [s for s in slips if s > 0]
    assert .3 < sum(s <= 0 for s in slips) / len(slips) < .8
    assert len(late) > 50
    assert max(late) >= 14


def test_applications_release_at_different_cadences(full):
    gaps = [g for (g,) in rows(full, """
        with gaps as (
            select application_id, epoch(actual_release_at) - epoch(lag(
                actual_release_at) over (partition by application_id
                order by actual_release_at)) as gap
            from releases where status = 'released' and release_type <> 'enterprise')
        select median(gap) / 86400 from gaps group by application_id""")]
    assert min(gaps) < 12
    assert max(gaps) > 80


def test_deployments_reach_every_tier_and_some_are_undone(full):
    by_tier = dict(rows(full, "select e.tier, count(*) from deployments d "
                              "join environments e using (environment_id) group by all"))
    assert {"dev", "sit", "uat", "prod"} <= set(by_tier)
    statuses = dict(rows(full, "select status, count(*) from deployments group by all"))
    assert statuses["succeeded"] > statuses["failed"] > 0
    assert statuses["rolled_back"] > 0
    assert value(full, "select count(*) from deployments where is_rollback "
                       "and status = 'succeeded' and change_id is not null") > 0
    assert value(full, "select count(*) from deployments d join changes c "
                       "using (change_id) where d.status = 'rolled_back' "
                       "and c.close_code <> 'backed_out'") == 0


def test_incidents_skew_to_priority_3_and_4_and_some_are_linked(full):
    priorities = dict(rows(full, "select priority, count(*) from incidents group by all"))
    assert set(priorities) <= {1, 2, 3, 4, 5}
    assert priorities[3] + priorities[4] > .6 * sum(priorities.values())
    linked_change, linked_deployment, unlinked, still_open = full.execute("""
        select count(caused_by_change_id), count(caused_by_deployment_id),
            count(*) filter (where caused_by_change_id is null
                             and caused_by_deployment_id is null),
            count(*) filter (where resolved_at is null)
        from incidents""").fetchone()
    assert linked_change > 20 and linked_deployment > 10
    assert unlinked > linked_change
    assert 0 < still_open < 40
    # a linked change failed or at least had issues, and ended before the incident
    assert value(full, """
        select count(*) from incidents i join changes c
        on c.change_id = i.caused_by_change_id
        where c.actual_end_at is null or i.opened_at < c.actual_start_at""") == 0


# --- the sample database: changes arrive through the ServiceNow and Jira adapters

def _tables(path) -> dict[str, list[tuple]]:
    """Every canonical table's rows, sorted, lineage columns included."""
    with db.connect(path, read_only=True) as con:
        # table names come from sample_data.COLUMNS
        return {table: sorted(con.execute(f"select * from {table}").fetchall(),  # noqa: S608
                              key=repr) for table in COLUMNS}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A sample database built by sample_data.database.publish and the canonical
    files the generator writes for the same seed, scale and end date."""
    directory = tmp_path_factory.mktemp("built")
    path = directory / "sample.duckdb"
    loaded = database.publish(path, seed=5, scale=0.1, end_date=END)
    counts = sample_data.generate(directory / "csv", seed=5, scale=0.1,
                                  end_date=END)
    connection = db.connect()
    load(connection, directory / "csv")
    connection.execute("attach $path as built (read_only)", {"path": str(path)})
    yield path, loaded, counts, connection
    connection.close()


def test_the_sample_build_records_each_source_in_its_batches(built):
    path, loaded, _, con = built
    batches = rows(con, "select source, entity, status, rows_rejected from "
                        "built.ingest_batches order by batch_id")
    assert {b[0] for b in batches} == {"csv", "servicenow", "jira"}
    assert {(s, e) for s, e, *_ in batches if e == "changes"} == {
        ("servicenow", "changes"), ("jira", "changes")}
    assert all(status == "succeeded" and rejected == 0
               for *_, status, rejected in batches)
    assert [r.file_name for r in loaded if r.table == "changes"] == [
        "sample_data/servicenow_change_request.csv",
        "sample_data/jira_changes.csv"]
    assert {t for s, t, *_ in batches if s == "csv"} == set(COLUMNS) - {"changes"}


def test_every_generated_change_arrives_once_from_one_source(built):
    _, loaded, counts, con = built
    per_source = dict(rows(con, "select source, count(*) from built.changes "
                                "group by all"))
    assert set(per_source) == {"servicenow", "jira"}
    assert sum(per_source.values()) == counts["changes"]
    assert sum(r.rows_loaded for r in loaded if r.table == "changes") == \
        counts["changes"]
    assert value(con, "select count(distinct change_id) from built.changes") \
        == counts["changes"]
    assert value(con, "select count(*) from changes c full join built.changes b "
                      "using (change_id) where c.change_id is null "
                      "or b.change_id is null") == 0
    # the Jira subset is the changes of one team's applications, and small
    from sample_data import exports
    assert value(con, """
        select count(*) from built.changes c join applications a
        using (application_id)
        where (a.owner_team = $team) <> (c.source = 'jira')""",
                 team=exports.JIRA_TEAM) == 0
    assert 0 < per_source["jira"] < .1 * counts["changes"]


def _differences(con, source: str, columns) -> dict[str, int]:
    out = {}
    for column in columns:
        # column names come from sample_data.COLUMNS
        n = value(con, f"""select count(*) from built.changes b join changes c
            using (change_id) where b.source = $source
            and b."{column}" is distinct from c."{column}" """,  # noqa: S608
                  source=source)
        if n:
            out[column] = n
    return out


def test_servicenow_changes_equal_the_canonical_rows_in_every_column(built):
    *_, con = built
    assert _differences(con, "servicenow", COLUMNS["changes"]) == {}
    # the site fields carried release and environment
    assert value(con, "select count(release_id) from built.changes "
                      "where source = 'servicenow'") > 0
    assert value(con, "select count(environment_id) from built.changes "
                      "where source = 'servicenow'") > 0


def test_jira_changes_equal_the_canonical_rows_except_what_jira_cannot_carry(
        built):
    from sample_data import exports

    *_, con = built
    carried = [c for c in COLUMNS["changes"]
               if c not in exports.NOT_CARRIED["jira"]]
    assert _differences(con, "jira", carried) == {}
    assert value(con, "select count(*) from built.changes where source = "
                      "'jira' and release_id is not null") > 0
    # release ids match the sample's releases (keys without a project part)
    assert value(con, "select count(*) from built.changes c where release_id "
                      "is not null and not exists (select 1 from "
                      "built.releases r where r.release_id = c.release_id)") == 0
    # what Jira cannot carry is NULL (approval only where the status says)
    for column in exports.NOT_CARRIED["jira"]:
        if column != "approval":
            # column names come from exports.NOT_CARRIED
            assert value(con, f"select count({column}) from built.changes "  # noqa: S608
                              "where source = 'jira'") == 0, column


def test_the_other_tables_are_the_canonical_files(built):
    *_, con = built
    for table in COLUMNS:
        if table == "changes":
            continue
        columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
        # table and column names come from sample_data.COLUMNS
        for a, b in (("built.", ""), ("", "built.")):
            assert value(con, f"select count(*) from (select {columns} from "  # noqa: S608
                              f"{a}{table} except all select {columns} from "
                              f"{b}{table})") == 0, table


def test_the_sample_database_keeps_approvals_cab_dates_and_actual_times(built):
    *_, con = built
    approved, cab, started = con.execute("""
        select count(*) filter (where approval = 'approved'),
            count(cab_date), count(actual_start_at)
        from built.changes""").fetchone()
    assert approved > 50 and cab > 50 and started > 200


def test_the_same_seed_builds_the_same_database(built, tmp_path):
    path, *_ = built
    again = tmp_path / "again.duckdb"
    database.publish(again, seed=5, scale=0.1, end_date=END)
    assert _tables(again) == _tables(path)


def test_a_sample_build_that_fails_leaves_the_published_database(
        tmp_path, monkeypatch):
    import ingest
    from sample_data import exports

    path = tmp_path / "sample.duckdb"
    database.publish(path, seed=5, scale=0.02, end_date=END)
    before = _tables(path)
    # a Jira export read with the wrong date format: every row is rejected
    monkeypatch.setattr(exports, "JIRA_OPTIONS", {"date_format": "%Y"})
    with pytest.raises(ingest.LoadError, match="jira_changes.csv: .* rejected"):
        database.publish(path, seed=6, scale=0.02, end_date=END)
    assert _tables(path) == before


def test_sample_exports_split_below_the_export_caps(tmp_path, monkeypatch):
    from sample_data import exports

    sample_data.generate(tmp_path / "csv", seed=3, scale=0.05, end_date=END)
    monkeypatch.setattr(exports, "SERVICENOW_ROWS", 150)
    monkeypatch.setattr(exports, "JIRA_ROWS", 4)
    files = exports.write_sample(tmp_path / "csv", tmp_path / "out")
    names = {s: [f["path"].name for f in files if f["source"] == s]
             for s in ("csv", "servicenow", "jira")}
    assert names["csv"] == sorted(f"{t}.csv" for t in COLUMNS if t != "changes")
    assert names["servicenow"][0] == "servicenow_change_request-1.csv"
    assert names["jira"][:2] == ["jira_changes-1.csv", "jira_changes-2.csv"]
    # records, not lines: a plan's text holds line breaks

    def records(path, encoding="utf-8"):
        with open(path, newline="", encoding=encoding) as f:
            return sum(1 for _ in csv.reader(f)) - 1

    lines = {s: sum(records(f["path"], "cp1252" if s == "servicenow"
                            else "utf-8")
                    for f in files if f["source"] == s)
             for s in ("servicenow", "jira")}
    changes = records(tmp_path / "csv" / "changes.csv")
    assert lines["servicenow"] + lines["jira"] == changes


def test_normal_and_emergency_changes_carry_what_a_cab_reads(full, built):
    texts = ("description", "justification", "implementation_plan",
             "backout_plan", "test_plan")
    for column in texts:
        # column names come from the tuple above
        assert value(full, f"select count(*) from changes where "  # noqa: S608
                           f"(change_type = 'standard') = ({column} is not null)"
                     ) == 0, column
    assert value(full, "select count(*) from changes where change_type = "
                       "'emergency' and justification not like 'Restores%'") == 0
    # the ServiceNow export carries them, line breaks included
    *_, con = built
    assert value(con, "select count(*) from built.changes where source = "
                      "'servicenow' and implementation_plan like '%' || chr(10)"
                      " || '2. %'") > 0


READINESS_REASONS = [
    "change rejected", "go-live in the freeze window", "go-live in the "
    "blackout window", "only rejected bookings", "awaiting CAB approval",
    "not yet submitted for approval", "without an approved or pending booking "
    "(uat)", "still pending", "planned to end after go-live",
    "running behind plan", "no change linked"]


def readiness_reasons(con, as_of, horizon_days=28):
    found = db.run(con, "release_readiness", as_of=as_of,
                   horizon_days=horizon_days)
    return set(found["status"]), "; ".join(found["reasons"])


def test_upcoming_releases_show_every_readiness_status_and_reason(full):
    # the morning after the end date, the default four weeks
    statuses, reasons = readiness_reasons(full, f"{END} 09:00Z")
    assert statuses == {"blocked", "at_risk", "ready"}
    missing = [r for r in READINESS_REASONS if r not in reasons
               and r != "go-live in the freeze window"]
    assert not missing
    # the year-end freeze is months ahead of 30 June: a longer horizon
    _, later = readiness_reasons(full, f"{END} 09:00Z", horizon_days=200)
    assert 'go-live in the freeze window "Year-end change freeze 2025"' in later


@pytest.mark.parametrize("end", ["2025-12-01", "2025-12-11", "2025-12-20",
                                 "2026-01-03", "2026-03-30"])
def test_the_readiness_showcase_fits_four_weeks_from_any_end_date(
        tmp_path, con, end):
    sample_data.generate(tmp_path, seed=3, scale=0.05, end_date=end)
    load(con, tmp_path)
    statuses, reasons = readiness_reasons(con, f"{end} 23:00Z")
    assert statuses == {"blocked", "at_risk", "ready"}
    # near the year end the year-end freeze is within four weeks; when the
    # power work falls in it too, the freeze (earlier) is the window named
    year_end = end[5:7] == "12" or end < "2026-01-05"
    expected = [r for r in READINESS_REASONS if "go-live in" not in r]
    expected += ["go-live in the freeze window"] if year_end else [
        "go-live in the blackout window"]
    assert not [r for r in expected if r not in reasons]


def test_the_readiness_showcase_adds_no_booking_conflict(full):
    from sample_data.readiness import SHOWCASE
    showcase = {r for (r,) in rows(
        full, "select release_id from releases order by release_id desc "
              "limit $n", n=len(SHOWCASE))}
    pairs = db.run(full, "booking_conflicts", start_date=END,
                   end_date="2025-12-31")
    assert len(pairs) > 0  # the drawn bookings do conflict
    assert not (set(pairs["release_id_a"]) | set(pairs["release_id_b"])) \
        & showcase
