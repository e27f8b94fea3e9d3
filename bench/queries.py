"""Benchmark: every query the pages run, warm, in-process; and headline
queries against a naive hand-written DuckDB SQL of the same number.

  python bench/queries.py --db PATH [--db PATH2 ...] [--repeat 3]

1. The calls: each page is run once (Streamlit's AppTest) with db.run and db.head
   recorded, so the list is exactly what the pages ask for with their
   default filters and period.
2. Each call is timed warm (the best of --repeat after one untimed run) on
   the process's shared read-only view, as the app runs it.
3. Headline queries are timed beside a naive SQL that computes the same
   number straight from the canonical tables; the bench checks the numbers
   are equal and prints product / naive.

With several --db files (e.g. the sample at scale 10, 30 and 125: 80,000,
240,000 and 1,000,000 changes, as `make bench` gives) each figure is
printed per file, with how its time grew from the first to the last as a
share of how the data grew (1: linear; issue 12: at most linear).
Targets (issue 12): every page query <= 50 ms warm and <= 3x its naive SQL.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import figures  # noqa: E402 - bench/, this script's own folder

from changeboard import config, db  # noqa: E402

PAGES = ["overview", "changes", "releases", "readiness", "environments",
         "calendar", "cab", "backlog", "data"]
TARGET_MS, TARGET_RATIO = 50, 3

# product query, the column compared (or a tuple of columns the page shows,
# the naive SQL returning them in that order, every one compared), and a
# naive SQL of the same numbers over [$s, $e) (UTC days); every naive SQL
# reads only canonical tables
NAIVE = {
    "change_success_rate": ("n_failed", """
        with signal as (
            select caused_by_change_id as change_id from incidents
            union
            select d.change_id from incidents as i
            join deployments as d on i.caused_by_deployment_id = d.deployment_id
            union
            select change_id from deployments
            where status = 'rolled_back' or is_rollback
        )
        select count(*) from changes as c
        where c.close_code in ('successful', 'successful_with_issues',
                               'unsuccessful', 'backed_out')
          and coalesce(c.actual_end_at, c.closed_at) >= $s
          and coalesce(c.actual_end_at, c.closed_at) < $e
          and (c.close_code in ('unsuccessful', 'backed_out')
               or c.change_id in (select change_id from signal))"""),
    # what the Overview card shows: n, deploy days and the median deploy
    # days over the complete ISO weeks in the window (zero weeks included)
    "deployment_frequency": (("n", "deploy_days",
                              "median_deploy_days_per_week"), """
        with days as (
            select cast(d.finished_at as date) as day, count(*) as n
            from deployments as d
            join environments as e using (environment_id)
            where e.tier = 'prod' and d.status in ('succeeded', 'rolled_back')
              and d.finished_at >= $s and d.finished_at < $e
            group by day),
        weeks as (
            select w.week, count(days.day) as deploy_days
            from generate_series(date_trunc('week', cast($s as date)),
                                 cast($e as date) - interval 7 day,
                                 interval 7 day) as w (week)
            left join days on date_trunc('week', days.day) = w.week
            where w.week >= cast($s as date)
            group by w.week)
        select (select sum(n) from days), (select count(*) from days),
               (select median(deploy_days) from weeks)"""),
    # what the Releases page's cards show: n, on time, the median slip, the
    # median slip of the late, and the open releases overdue at the last load
    "release_on_time": (("n", "n_on_time", "median_slip_days",
                         "median_slip_days_late", "n_overdue_open"), """
        with live as (
            select cast(actual_release_at as date)
                   - cast(planned_release_at as date) as slip
            from releases
            where status = 'released' and planned_release_at is not null
              and coalesce(release_type, '') <> 'enterprise'
              and actual_release_at >= $s and actual_release_at < $e)
        select count(*), count(*) filter (where slip <= 0), median(slip),
               median(slip) filter (where slip > 0),
               (select count(*) from releases
                where actual_release_at is null
                  and status not in ('released', 'cancelled')
                  and coalesce(release_type, '') <> 'enterprise'
                  and planned_release_at < least(
                      cast($e as timestamptz),
                      (select max(finished_at) from ingest_batches
                       where status = 'succeeded')))
        from live"""),
    # every count the Changes page shows from the row, each compared
    "unauthorized_changes": (("n", "n_unauthorized", "n_not_approved",
                              "n_approved_after_start", "n_unclassified"), """
        select
          count(*) filter (where is_cab_required and approval is not null),
          count(*) filter (where is_cab_required
                           and (approval <> 'approved'
                                or (approval = 'approved'
                                    and approved_at > actual_start_at))),
          count(*) filter (where is_cab_required
                           and approval <> 'approved'),
          count(*) filter (where is_cab_required and approval = 'approved'
                           and approved_at > actual_start_at),
          count(*) filter (where is_cab_required is null
                           or (is_cab_required and approval is null))
        from changes
        where actual_start_at >= $s and actual_start_at < $e"""),
    # releases going live in the 28 days from $e that are blocked: a
    # rejected change, a freeze or blackout at go-live, or a remaining phase
    # whose overlapping bookings of its name are all rejected
    "release_readiness": ("n_blocked", """
        with r as (
            select * from releases
            where status not in ('released', 'cancelled')
              and planned_release_at >= cast($e as timestamptz)
              and planned_release_at < cast($e as timestamptz)
                  + interval 28 day)
        select count(*) from r
        where exists (
            select 1 from changes as c
            where c.release_id = r.release_id and c.approval = 'rejected'
              and coalesce(c.close_code not in ('cancelled', 'rejected'),
                           true))
        or exists (
            select 1 from blackout_windows as w
            where w.kind in ('freeze', 'blackout')
              and r.planned_release_at >= w.start_at
              and r.planned_release_at < w.end_at
              and (w.application_id is null
                   or w.application_id = r.application_id)
              and (w.environment_id is null or exists (
                  select 1 from environment_bookings as b
                  join environments as e using (environment_id)
                  where b.release_id = r.release_id and e.tier = 'prod'
                    and b.environment_id = w.environment_id)))
        or exists (
            select 1 from release_phases as p
            where p.release_id = r.release_id
              and p.planned_end_at > cast($e as timestamptz)
              and p.actual_end_at is null
              and exists (
                  select 1 from environment_bookings as b
                  where b.release_id = p.release_id
                    and lower(b.phase) = lower(p.phase)
                    and b.status = 'rejected'
                    and b.start_at < p.planned_end_at
                    and p.planned_start_at < coalesce(
                        b.end_at, cast($e as timestamptz)))
              and not exists (
                  select 1 from environment_bookings as b
                  where b.release_id = p.release_id
                    and lower(b.phase) = lower(p.phase)
                    and b.status in ('approved', 'pending')
                    and b.start_at < p.planned_end_at
                    and p.planned_start_at < coalesce(
                        b.end_at, cast($e as timestamptz))))"""),
    # the page's columns per environment, naively (self-joins): conflicting
    # pairs (overlap meets a time when more bookings than capacity are
    # active), bookings in them, hours over capacity and the excess booking
    # hours; the first column (environments booked) is the one compared
    "booking_conflicts_by_environment": ("n_environments_booked", """
        with b as (
            select environment_id, booking_id,
                   greatest(start_at, cast($s as timestamptz)) as s,
                   least(coalesce(end_at, cast($e as timestamptz)),
                         cast($e as timestamptz)) as e
            from environment_bookings
            where status in ('approved', 'pending') and start_at < $e
              and coalesce(end_at, $e) > $s
              and coalesce(end_at > start_at, true)),
        cap as (
            select environment_id, coalesce(capacity, 1) as capacity
            from environments),
        -- active bookings at each instant where one starts or ends, to the
        -- next such instant
        points as (
            select environment_id, t, lead(t) over (
                partition by environment_id order by t) as t_next
            from (select environment_id, s as t from b
                  union select environment_id, e from b)),
        load as (
            select p.environment_id, p.t, p.t_next, count(b.booking_id) as c
            from points as p
            left join b on b.environment_id = p.environment_id
                and b.s <= p.t and p.t < b.e
            group by all),
        over as (
            select l.* from load as l join cap using (environment_id)
            where l.c > cap.capacity),
        pairs as (
            select x.environment_id, x.booking_id as a, y.booking_id as b
            from b as x join b as y
              on x.environment_id = y.environment_id
             and x.booking_id < y.booking_id and x.s < y.e and y.s < x.e
            where exists (
                select 1 from over as o
                where o.environment_id = x.environment_id
                  and o.t >= greatest(x.s, y.s) and o.t < least(x.e, y.e))),
        per_env as (
            select n.environment_id,
                   coalesce(p.n_pairs, 0) as n_pairs,
                   coalesce(k.n_conflicted, 0) as n_conflicted,
                   coalesce(o.conflict_hours, 0) as conflict_hours,
                   coalesce(o.excess_hours, 0) as excess_hours
            from (select distinct environment_id from b) as n
            left join (select environment_id, count(*) as n_pairs
                       from pairs group by environment_id) as p
              using (environment_id)
            left join (select environment_id, count(distinct k)
                              as n_conflicted
                       from (select environment_id, a as k from pairs
                             union all
                             select environment_id, b from pairs)
                       group by environment_id) as k
              using (environment_id)
            left join (select o.environment_id,
                              sum(epoch(o.t_next - o.t)) / 3600
                                  as conflict_hours,
                              sum((o.c - c.capacity) * epoch(o.t_next - o.t))
                                  / 3600 as excess_hours
                       from over as o join cap as c using (environment_id)
                       where o.t_next is not null
                       group by o.environment_id) as o
              using (environment_id))
        select count(*), sum(n_pairs), sum(n_conflicted),
               sum(conflict_hours), sum(excess_hours)
        from per_env"""),
}


def record_calls(db_path: str) -> list[tuple[str, str, dict]]:
    """(page, query, params) of every db.run the pages make, and of every
    db.head (a table's first rows and count: params hold `rows`)."""
    from streamlit.testing.v1 import AppTest
    calls, real, real_head = [], db.run, db.head

    def recording(con, name, **params):
        calls.append((page, name, params))
        return real(con, name, **params)

    def recording_head(con, name, rows, **params):
        calls.append((page, name, {**params, "rows": rows}))
        return real_head(con, name, rows, **params)

    db.run, db.head = recording, recording_head
    try:
        for page in PAGES:
            AppTest.from_file(str(ROOT / "views" / f"{page}.py"),
                              default_timeout=3600).run()
    finally:
        db.run, db.head = real, real_head
    seen, unique = set(), []
    for page, name, params in calls:
        key = (name, repr(sorted(params.items())))
        if key not in seen:
            seen.add(key)
            unique.append((page, name, params))
    return unique


def timed_call(con, name: str, params: dict):
    """The call as the page made it: db.head when it read a table's first
    rows (params hold `rows`), else db.run."""
    if "rows" in params:
        rest = {k: v for k, v in params.items() if k != "rows"}
        return db.head(con, name, params["rows"], **rest)
    return db.run(con, name, **params)


def growth(ms: list[float], sizes: list[int]) -> float:
    """How a query's time grew from the first database to the last, as a
    share of how the data grew: 1 is linear, above 1 faster than the data."""
    return (ms[-1] / ms[0]) / (sizes[-1] / sizes[0])


def best_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000 * min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    figures.add_argument(parser)
    args = parser.parse_args()
    figures.use(args)
    figures.as_served()  # the app's allocator
    paths = [str(Path(p).resolve()) for p in args.db]
    os.environ["CHANGEBOARD_DB"] = paths[-1]
    config.DB_PATH = Path(paths[-1])
    calls = record_calls(paths[-1])
    sizes = []
    for path in paths:
        with db.reading(path) as con:
            sizes.append(con.execute("select count(*) from changes")
                         .fetchone()[0])
    print("changes: " + " / ".join(f"{n:,}" for n in sizes)
          + f"; warm ms, best of {args.repeat}; target <= {TARGET_MS} ms")
    # one database at a time, the others' views closed: timed in turns per
    # query, the 1M file's queries ran a third slower beside the others
    per_path = []
    for path in paths:
        db.forget_readers()
        with db.reading(path) as con:
            per_path.append([best_ms(
                lambda c=con, n=name, p=params: timed_call(c, n, p),
                args.repeat) for _, name, params in calls])
    db.forget_readers()
    timed: list[tuple[str, str, list[float]]] = []
    for i, (page, name, params) in enumerate(calls):
        ms = [figures_of[i] for figures_of in per_path]
        mark = "ok" if ms[-1] <= TARGET_MS else "!!"
        shown = {k: v for k, v in params.items() if k != "reporting_tz"}
        name = f"{name} (head)" if "rows" in params else name
        grows = (f" x{growth(ms, sizes):5.2f} of linear"
                 if len(paths) > 1 else "")
        print(f"{page:12} {name:40} "
              + " ".join(f"{f:8.1f}" for f in ms)
              + f" {mark}{grows}  {str(shown)[:70]}")
        timed.append((page, name, ms))
    slow = [(page, name, ms[-1]) for page, name, ms in timed
            if ms[-1] > TARGET_MS]
    print(f"{len(slow)} of {len(calls)} page queries over {TARGET_MS} ms on "
          "the last database")
    page, name, ms = max(timed, key=lambda t: t[2][-1])
    figures.record("queries", "slowest page query, warm", ms[-1], "ms",
                   TARGET_MS, f"{name} ({page}); {len(slow)} of "
                   f"{len(calls)} over {TARGET_MS} ms" + "".join(
                       f"; {n} ({p}) {t:.1f}" for p, n, t in slow))
    if len(paths) > 1:
        page, name, ms = max(timed, key=lambda t: growth(t[2], sizes))
        print(f"growth {sizes[0]:,} -> {sizes[-1]:,} changes "
              f"(x{sizes[-1] / sizes[0]:.1f}): at most "
              f"x{growth(ms, sizes):.2f} of linear ({name}, {page})")
        figures.record(
            "queries", f"growth {sizes[0]:,} -> {sizes[-1]:,} changes, of "
            "linear", growth(ms, sizes), "x", 1, f"{name} ({page}): "
            + " -> ".join(f"{t:.1f}" for t in ms) + " ms")

    tomorrow = date.today() + timedelta(days=1)
    window = {"start_date": tomorrow - timedelta(days=90),
              "end_date": tomorrow}
    bound = {"s": str(window["start_date"]), "e": str(window["end_date"])}
    # release_readiness looks ahead: 28 days from the window's end
    ahead = {"as_of": str(window["end_date"]), "horizon_days": 28}
    print(f"\nproduct vs naive SQL, last 90 days (readiness: the 28 days "
          f"after), {paths[-1]}")
    with db.reading(paths[-1]) as con:
        for name, (column, naive) in NAIVE.items():
            params = ahead if name == "release_readiness" else window
            product = db.run(con, name, **params)
            if isinstance(column, tuple):  # several columns, all compared
                ours = tuple(float(product[c].iloc[0]) for c in column)
                column = f"{column[0]} +{len(column) - 1}"
            elif column == "n_environments_booked":
                # every figure the page shows, summed over the environments
                ours = (len(product), *(float(product[c].sum()) for c in (
                    "n_conflict_pairs", "n_conflicted_bookings",
                    "conflict_hours", "excess_booking_hours")))
                column = f"{column} +4"
            elif column == "n_blocked":
                ours = int((product["status"] == "blocked").sum())
            else:
                ours = int(product[column].iloc[0])
            # bind the $s, $e the naive SQL uses (DuckDB refuses others)
            used = {k: v for k, v in bound.items() if f"${k}" in naive}
            row = con.execute(naive, used).fetchone()
            theirs = (tuple(float(v) for v in row) if isinstance(ours, tuple)
                      else row[0])
            if isinstance(ours, tuple):  # hours summed in another order
                ours, theirs = (tuple(round(v, 6) for v in t)
                                for t in (ours, theirs))
            # the first figure is printed; a difference in any is shown
            same = "=" if ours == theirs else f"!= {theirs}"
            ours = int(ours[0]) if isinstance(ours, tuple) else ours
            product_ms = best_ms(
                lambda c=con, n=name, p=params: db.run(c, n, **p),
                args.repeat)
            naive_ms = best_ms(lambda c=con, q=naive, u=used: c.execute(q, u)
                               .fetchall(), args.repeat)
            ratio = product_ms / naive_ms
            print(f"{name:36} {column:22} {ours:>9,} {same}"
                  f"  product {product_ms:7.1f} ms  naive {naive_ms:7.1f} ms"
                  f"  ratio {ratio:5.2f} "
                  f"{'ok' if ratio <= TARGET_RATIO else '!!'}")
            figures.record(
                "queries", f"{name} / its naive SQL", ratio, "x",
                TARGET_RATIO, f"{product_ms:.1f} / {naive_ms:.1f} ms" + (
                    "" if same == "=" else f"; the numbers differ: {same}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
