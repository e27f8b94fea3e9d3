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
-- METRICS.md change_success_rate over the rows of the change_outcomes macro
-- (changeboard/macros/): implemented = close code successful,
-- successful_with_issues, unsuccessful or backed_out, outcome_at =
-- coalesce(actual_end_at, closed_at) in the window. Failed = close code
-- unsuccessful/backed_out, or a linked incident (caused_by_change_id, or
-- caused_by_deployment_id of one of its deployments), or a rolled-back or
-- rollback deployment of the change. n_excluded: cancelled/rejected in the
-- window; n_unclassified: actual_end_at in the window, no close code.
with outcomes as (
    select
        kind,
        close_code,
        outcome_from_closed_at,
        is_failed,
        is_failed_by_close_code,
        is_failed_by_incident,
        is_failed_by_rollback
    from
        change_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority
        )
),

counted as (
    select
        count(*) filter (where kind = 'implemented') as n,
        count(*) filter (where is_failed) as n_failed,
        count(*) filter (
            where
            close_code = 'successful'
            and not (is_failed_by_incident or is_failed_by_rollback)
        ) as n_clean_success,
        count(*) filter (
            where close_code = 'successful_with_issues'
        ) as n_successful_with_issues,
        count(*) filter (
            where is_failed_by_close_code
        ) as n_failed_by_close_code,
        count(*) filter (
            where kind = 'implemented' and is_failed_by_incident
        ) as n_failed_by_incident,
        count(*) filter (
            where kind = 'implemented' and is_failed_by_rollback
        ) as n_failed_by_rollback,
        count(*) filter (
            where outcome_from_closed_at
        ) as n_outcome_from_closed_at,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from outcomes
),

rated as (
    select
        n - n_failed as n_succeeded,
        *,
        (n - n_failed) / nullif(n, 0) as change_success_rate,
        n_failed / nullif(n, 0) as change_failure_rate,
        n_clean_success / nullif(n, 0) as clean_success_rate,
        n_successful_with_issues / nullif(n, 0) as swi_share
    from counted
)

select * from rated
