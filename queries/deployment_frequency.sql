-- One row: production deployments finished in the window, per day and as
-- median deploy days per week and per month.
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates, days and weeks (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $exclude_rollbacks: drop is_rollback deployments from n (default: false)
-- $profile: default, or devlake (lower median, every week and month meeting
--     the window, rows sharing a release_id are one deployment)
--     (default: 'default')
-- docs/metrics.md deployment_frequency over the deployment_frequency_stats
-- macro (changeboard/macros/40_deployments.sql): production deployment =
-- environment tier prod, status succeeded or rolled_back, finished_at in the
-- window. deployments_per_day = n / days in the window; deploy_days = distinct
-- local finish dates; medians over complete ISO weeks (n_weeks) and complete
-- months inside the window, zero periods included (C3). n_rollbacks counts
-- is_rollback deployments; n_excluded: prod deployments with status failed;
-- n_unclassified: succeeded or rolled back with no or an unknown environment.
with frequency as (
    select
        n,
        deployments_per_day,
        deploy_days,
        median_deploy_days_per_week,
        n_weeks,
        median_deploy_days_per_month,
        n_months,
        n_rollbacks,
        n_excluded,
        n_unclassified,
        profile
    from
        deployment_frequency_stats(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $exclude_rollbacks
        )
)

select
    *,
    loaded_as_of() as as_of
from frequency
