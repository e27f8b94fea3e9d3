-- One row per ISO week meeting the window: production deployments and deploy
-- days, zero-filled.
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates, days and weeks (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $exclude_rollbacks: drop is_rollback deployments from the counts
--     (default: false)
-- $profile: default, or devlake (rows sharing a release_id are one
--     deployment) (default: 'default')
-- docs/metrics.md deployment_frequency, weekly series (C1, C3: ISO weeks from
-- Monday, labelled 2025-W01) over the deployment_periods macro. Weeks cut by
-- the window's edges have is_complete = false and count only the deployments
-- inside the window.
with weeks as (
    select
        period_start,
        is_complete,
        n_deployments,
        deploy_days
    from
        deployment_periods(
            $start_date, $end_date, $reporting_tz, 'week', $application_ids,
            $portfolios, $profile, $exclude_rollbacks
        )
),

labelled as (
    select
        period_start as week_start,
        strftime(period_start, '%G-W%V') as iso_week,
        n_deployments,
        deploy_days,
        is_complete
    from weeks
    order by period_start
)

select
    *,
    loaded_as_of() as as_of
from labelled
