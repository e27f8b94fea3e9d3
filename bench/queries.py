"""Benchmark: every query the pages run, warm, in-process; and headline
queries against a naive hand-written DuckDB SQL of the same number.

  python bench/queries.py --db PATH [--db PATH2 ...] [--repeat 3]

1. The calls: each page is run once (Streamlit's AppTest) with db.run
   recorded, so the list is exactly what the pages ask for with their
   default filters and period.
2. Each call is timed warm (the best of --repeat after one untimed run) on
   the process's shared read-only view, as the app runs it.
3. Headline queries are timed beside a naive SQL that computes the same
   number straight from the canonical tables; the bench checks the numbers
   are equal and prints product / naive.

With several --db files (e.g. the sample at scale 10, 30 and 125) each
figure is printed per file, to show how the time grows with the data.
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

from changeboard import config, db  # noqa: E402

PAGES = ["overview", "changes", "releases", "readiness", "environments",
         "cab"]
TARGET_MS, TARGET_RATIO = 50, 3

# product query, the column compared, and a naive SQL of the same number
# over [$s, $e) (UTC days); every naive SQL reads only canonical tables
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
    "deployment_frequency": ("n", """
        select count(*) from deployments as d
        join environments as e using (environment_id)
        where e.tier = 'prod' and d.status in ('succeeded', 'rolled_back')
          and d.finished_at >= $s and d.finished_at < $e"""),
    "release_on_time": ("n", """
        select count(*) from releases
        where status = 'released' and planned_release_at is not null
          and coalesce(release_type, '') <> 'enterprise'
          and actual_release_at >= $s and actual_release_at < $e"""),
    # every count the Changes page shows from the row (n first, compared)
    "unauthorized_changes": ("n", """
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
    "booking_conflicts_by_environment": ("n_environments_booked", """
        select count(distinct environment_id) from environment_bookings
        where status in ('approved', 'pending') and start_at < $e
          and coalesce(end_at, $e) > $s"""),
}


def record_calls(db_path: str) -> list[tuple[str, str, dict]]:
    """(page, query, params) of every db.run the pages make."""
    from streamlit.testing.v1 import AppTest
    calls, real = [], db.run

    def recording(con, name, **params):
        calls.append((page, name, params))
        return real(con, name, **params)

    db.run = recording
    try:
        for page in PAGES:
            AppTest.from_file(str(ROOT / "views" / f"{page}.py"),
                              default_timeout=3600).run()
    finally:
        db.run = real
    seen, unique = set(), []
    for page, name, params in calls:
        key = (name, repr(sorted(params.items())))
        if key not in seen:
            seen.add(key)
            unique.append((page, name, params))
    return unique


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
    args = parser.parse_args()
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
    slow = 0
    for page, name, params in calls:
        figures = []
        for path in paths:
            with db.reading(path) as con:
                figures.append(best_ms(
                    lambda c=con, n=name, p=params: db.run(c, n, **p),
                    args.repeat))
        slow += figures[-1] > TARGET_MS
        mark = "ok" if figures[-1] <= TARGET_MS else "!!"
        shown = {k: v for k, v in params.items() if k != "reporting_tz"}
        print(f"{page:12} {name:40} "
              + " ".join(f"{f:8.1f}" for f in figures)
              + f" {mark}  {str(shown)[:70]}")
    print(f"{slow} of {len(calls)} page queries over {TARGET_MS} ms on the "
          "last database")

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
            if column == "n_environments_booked":
                ours = len(product)
            elif column == "n_blocked":
                ours = int((product["status"] == "blocked").sum())
            else:
                ours = int(product[column].iloc[0])
            # bind the $s, $e the naive SQL uses (DuckDB refuses others)
            used = {k: v for k, v in bound.items() if f"${k}" in naive}
            theirs = con.execute(naive, used).fetchone()[0]
            product_ms = best_ms(
                lambda c=con, n=name, p=params: db.run(c, n, **p),
                args.repeat)
            naive_ms = best_ms(lambda c=con, q=naive, u=used: c.execute(q, u)
                               .fetchall(), args.repeat)
            ratio = product_ms / naive_ms
            print(f"{name:36} {column:22} {ours:>9,} "
                  f"{'=' if ours == theirs else '!= ' + format(theirs, ',')}"
                  f"  product {product_ms:7.1f} ms  naive {naive_ms:7.1f} ms"
                  f"  ratio {ratio:5.2f} "
                  f"{'ok' if ratio <= TARGET_RATIO else '!!'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
