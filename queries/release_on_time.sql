-- One row: share of releases gone live in the window on or before their
-- planned date, and how many days they slipped.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $as_of: instant that ends "overdue" for open releases; null = last load
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- METRICS.md release_on_time over the release_outcomes macro
-- (changeboard/macros/40_deployments.sql): releases with actual_release_at in
-- the window, not cancelled, not enterprise. slip_days = local actual date -
-- local planned date; on time if slip_days <= tolerance_days. NULL planned
-- date is unclassified; n_excluded: cancelled or enterprise releases live in
-- the window. n_overdue_open: not live, not released or cancelled, not
-- enterprise, planned before least(end_date, as_of), however old. Only the
-- latest plan is stored, so re-planning hides slip.
with outcomes as (
    select
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
),

rated as (
    select
        n_on_time / nullif(n, 0) as on_time_rate,
        *
    from counted
)

select * from rated
