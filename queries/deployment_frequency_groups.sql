-- One row per grouping the Overview draws of the window's production
-- deployments, from one read of them: the window's total, the equal window
-- before it and each ISO week.
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates, days and weeks (default: UTC)
-- $compare: also the total of the equal window before (default: false)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $exclude_rollbacks: drop is_rollback deployments from n (default: false)
-- $profile: default, or devlake (lower median, every week and month meeting
--     the window, rows sharing a release_id are one deployment)
--     (default: 'default')
-- row_kind: 'total' (the row of deployment_frequency), 'previous' (that row
-- for the window before, with $compare) or 'period' (the rows of
-- deployment_frequency_by_week: week_start, iso_week, n_deployments,
-- deploy_days, is_complete); the deployment_days of both windows are read
-- once and given to deployment_frequency_from and deployment_periods_from
-- (changeboard/macros/40_deployments.sql). The same numbers as those two
-- queries (tests compare every column).
-- (the days' list made once, materialized, and given to both macros)
with days as materialized (
    select list(d) as day_list
    from
        deployment_days(
            compared_start($start_date, $end_date, $compare), $end_date,
            $reporting_tz, $application_ids, $portfolios, $profile,
            $exclude_rollbacks
        ) as d
),

totals as (
    select
        case when is_previous then 'previous' else 'total' end as row_kind,
        * exclude (is_previous)
    from
        deployment_frequency_from(
            (select day_list from days), $start_date, $end_date, $profile,
            $compare,
            -- n/a with no deployment of the filtered applications loaded
            p_loaded := deployments_loaded($application_ids, $portfolios)
        )
),

weeks as (
    select
        'period' as row_kind,
        w.period_start as week_start,
        strftime(w.period_start, '%G-W%V') as iso_week,
        w.n_deployments,
        w.deploy_days,
        w.is_complete
    from
        deployment_periods_from(
            (select day_list from days), $start_date, $end_date, 'week',
            $profile
        ) as w
)

-- the two kinds of row have different columns: matched by name
select  -- noqa: AM07
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from totals
union all by name
select
    *,
    loaded_as_of() as as_of
from weeks
order by group_row_order(row_kind), week_start
