-- One row: share of production deployments finished in the window that
-- failed (rolled back, or caused an incident).
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $profile: default, or devlake (per deployment unit: rows sharing a
--     release_id are one deployment) (default: 'default')
-- $attribution_inclusive: a deployment finished exactly when an incident
--     opened may cause it, as Middleware (default: false)
-- docs/metrics.md deployment_change_failure_rate over the
-- deployment_change_failure macro
-- (changeboard/macros/41_deployment_failures.sql):
-- rate = n_failed / n over production deployments finished in the window;
-- failed = status rolled_back, or the next deployment of the same
-- application and environment is a succeeded is_rollback, or at least one
-- incident is attributed to it (explicit links first, else inferred). The
-- n_failed_by_* counts overlap. n_inferred: deployments with an inferred
-- incident. n_incidents_unattributed: incidents opened in the window that no
-- deployment takes.
-- the columns are the family's, defined once in deployment_failure_counts
select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from
    deployment_change_failure(
        $start_date, $end_date, $reporting_tz, $application_ids,
        $portfolios, $profile, $attribution_inclusive
    )
