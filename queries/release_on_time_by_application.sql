-- One row per application with a release live in the window or overdue:
-- share of releases on or before their planned date, and slip days.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $as_of: instant that ends "overdue" for open releases; null = last load
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- METRICS.md release_on_time per application_id (a NULL application is its
-- own row), from the release_outcomes macro; see release_on_time. The
-- overall figure is release_on_time (a ratio of sums, C7), not an average of
-- these rows.
with outcomes as (
    select
        application_id,
        application_name,
        kind,
        slip_days
    from
        release_outcomes(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios
        )
),

counted as (
    select
        application_id,
        any_value(application_name) as application_name,
        count(*) filter (where kind = 'released') as n,
        count(*) filter (
            where kind = 'released' and slip_days <= $tolerance_days
        ) as n_on_time,
        count(*) filter (
            where kind = 'released' and slip_days > $tolerance_days
        ) as n_late,
        quantile_cont(slip_days, 0.5) filter (
            where kind = 'released'
        ) as median_slip_days,
        avg(slip_days) filter (where kind = 'released') as mean_slip_days,
        quantile_cont(slip_days, 0.5) filter (
            where kind = 'released' and slip_days > $tolerance_days
        ) as median_slip_days_late,
        count(*) filter (where kind = 'overdue_open') as n_overdue_open,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from outcomes
    group by application_id
),

rated as (
    select
        application_id,
        application_name,
        n_on_time / nullif(n, 0) as on_time_rate,
        n,
        n_on_time,
        n_late,
        median_slip_days,
        mean_slip_days,
        median_slip_days_late,
        n_overdue_open,
        n_excluded,
        n_unclassified
    from counted
    order by application_id nulls last
)

select * from rated
