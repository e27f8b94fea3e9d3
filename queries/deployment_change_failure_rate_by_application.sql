-- One row per application with a production deployment finished in the
-- window or an unattributed incident opened in it: share of its deployments
-- that failed (rolled back, or caused an incident).
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $profile: default, or devlake (per deployment unit: rows sharing a
--     release_id are one deployment) (default: 'default')
-- $attribution_inclusive: a deployment finished exactly when an incident
--     opened may cause it, as Middleware (default: false)
-- docs/metrics.md deployment_change_failure_rate per application_id (a NULL
-- application is its own row), from the deployment_failure_counts macro,
-- which counts the headline's and each period's rows too, so they add up to
-- deployment_change_failure_rate. n_incidents_unattributed: per the
-- incident's application. The overall figure is the headline (a ratio of
-- sums, C7), not an average of these rows.
with rated as (
    select
        c.application_id,
        a.name as application_name,
        c.* exclude (
            is_total, application_id, period_start, period_label, is_complete
        )
    from
        deployment_failure_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $attribution_inclusive, true, null
        ) as c
    left join applications as a on c.application_id = a.application_id
    where not c.is_total
    order by c.application_id nulls last
)

-- the columns are the family's, defined once in deployment_failure_counts
select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from rated
