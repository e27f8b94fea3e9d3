-- One row per production deployment finished in the window: whether it
-- failed and why.
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $profile: default, or devlake (per deployment unit: rows sharing a
--     release_id are one deployment) (default: 'default')
-- $attribution_inclusive: a deployment finished exactly when an incident
--     opened may cause it, as Middleware (default: false)
-- The records behind deployment_change_failure_rate (deployment_outcomes
-- macro): is_failed with its reasons is_rolled_back, is_followed_by_rollback
-- (the next deployment of the same application and environment is a
-- succeeded is_rollback) and n_incidents attributed (n_inferred_incidents of
-- them by inference); the application's and environment's names beside
-- their ids (NULL when not loaded). Sorted by (finished_at, deployment_id).
with records as (
    select
        o.deployment_id,
        o.application_id,
        a.name as application_name,
        o.environment_id,
        e.name as environment_name,
        o.status,
        o.is_rollback,
        o.finished_at,
        o.is_failed,
        o.is_rolled_back,
        o.is_followed_by_rollback,
        o.is_failed_by_incident,
        o.n_incidents,
        o.n_inferred_incidents
    from
        deployment_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $attribution_inclusive
        ) as o
    left join applications as a on o.application_id = a.application_id
    left join environments as e on o.environment_id = e.environment_id
    where o.kind = 'deployment'
    order by o.finished_at, o.deployment_id
)

select * from records
