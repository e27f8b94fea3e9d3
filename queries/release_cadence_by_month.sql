-- One row per month meeting the window: releases gone live, zero-filled.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and months (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- docs/metrics.md release_cadence, monthly series over the cadence_history
-- macro: n_releases = releases (not cancelled, not enterprise) with
-- actual_release_at in the window and the month, in $reporting_tz. Months
-- cut by the window's edges have is_complete = false.
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end
),

months as (
    select cast(g.month_start as date) as month_start
    from
        generate_series(
            cast(date_trunc('month', cast($start_date as date)) as date),
            cast($end_date as date) - interval 1 day,
            interval 1 month
        ) as g (month_start)
),

live as (
    select
        e.event_id,
        cast(
            date_trunc('month', local_timestamp(e.event_at, $reporting_tz))
            as date
        ) as month_start
    from
        cadence_history($basis, $application_ids, $portfolios) as e
    cross join bounds as b
    where
        e.event_at >= b.w_start
        and e.event_at < b.w_end
),

counted as (
    select
        m.month_start as month,  -- noqa: RF04
        count(l.event_id) as n_releases,
        m.month_start >= cast($start_date as date)
        and m.month_start + interval 1 month
        <= cast($end_date as date) as is_complete
    from months as m
    left join live as l on m.month_start = l.month_start
    group by m.month_start
    order by m.month_start
)

select * from counted
