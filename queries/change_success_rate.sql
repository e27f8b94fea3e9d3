-- One row: share of implemented changes in the window that did not fail.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- METRICS.md change_success_rate: implemented = close code successful,
-- successful_with_issues, unsuccessful or backed_out, outcome_at =
-- coalesce(actual_end_at, closed_at) in the window. Failed = close code
-- unsuccessful/backed_out, or a linked incident (caused_by_change_id, or
-- caused_by_deployment_id of one of its deployments), or a rolled-back or
-- rollback deployment of the change. n_excluded: cancelled/rejected in the
-- window; n_unclassified: actual_end_at in the window, no close code.
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end
),

scoped as (
    select *
    from
        scoped_changes(
            $application_ids, $portfolios, $teams, $change_types, $tiers
        )
),

signals as (
    select * from change_failure_signals($failure_min_priority)
),

implemented as (
    select
        s.change_id,
        s.close_code,
        s.actual_end_at is null as outcome_from_closed_at,
        s.close_code in ('unsuccessful', 'backed_out') as by_close_code,
        coalesce(f.by_incident, false) as by_incident,
        coalesce(f.by_rollback, false) as by_rollback
    from scoped as s
    cross join bounds as b
    left join signals as f on s.change_id = f.change_id
    where
        s.close_code in (
            'successful', 'successful_with_issues', 'unsuccessful',
            'backed_out'
        )
        and coalesce(s.actual_end_at, s.closed_at) >= b.w_start
        and coalesce(s.actual_end_at, s.closed_at) < b.w_end
),

outside as (
    select
        count(*) filter (
            where
            s.close_code in ('cancelled', 'rejected')
            and coalesce(s.actual_end_at, s.closed_at) >= b.w_start
            and coalesce(s.actual_end_at, s.closed_at) < b.w_end
        ) as n_excluded,
        count(*) filter (
            where
            s.close_code is null
            and s.actual_end_at >= b.w_start
            and s.actual_end_at < b.w_end
        ) as n_unclassified
    from scoped as s
    cross join bounds as b
),

counted as (
    select
        count(*) as n,
        count(*) filter (
            where by_close_code or by_incident or by_rollback
        ) as n_failed,
        count(*) filter (
            where
            close_code = 'successful'
            and not (by_incident or by_rollback)
        ) as n_clean_success,
        count(*) filter (
            where close_code = 'successful_with_issues'
        ) as n_successful_with_issues,
        count(*) filter (where by_close_code) as n_failed_by_close_code,
        count(*) filter (where by_incident) as n_failed_by_incident,
        count(*) filter (where by_rollback) as n_failed_by_rollback,
        count(*) filter (
            where outcome_from_closed_at
        ) as n_outcome_from_closed_at
    from implemented
),

rated as (
    select
        c.n - c.n_failed as n_succeeded,
        c.*,
        o.n_excluded,
        o.n_unclassified,
        (c.n - c.n_failed) / nullif(c.n, 0) as change_success_rate,
        c.n_failed / nullif(c.n, 0) as change_failure_rate,
        c.n_clean_success / nullif(c.n, 0) as clean_success_rate,
        c.n_successful_with_issues / nullif(c.n, 0) as swi_share
    from counted as c
    cross join outside as o
)

select * from rated
