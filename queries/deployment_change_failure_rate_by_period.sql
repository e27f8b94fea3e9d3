-- One row per week, month or quarter of the window: production deployments
-- finished in it, how many failed, and the failure rate, zero-filled.
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter (default: month)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $profile: default, or devlake (per deployment unit: rows sharing a
--     release_id are one deployment) (default: 'default')
-- $attribution_inclusive: a deployment finished exactly when an incident
--     opened may cause it, as Middleware (default: false)
-- docs/metrics.md deployment_change_failure_rate per period of finished_at (C1
-- buckets in reporting_tz, C3 ISO weeks labelled 2025-W01); rows from the
-- deployment_failure_counts macro, which counts the headline's and each
-- application's rows too, so the rows add up to
-- deployment_change_failure_rate. n_incidents_unattributed: per period of
-- the incident's opened_at. Periods cut by the window's edges have
-- is_complete = false; a period without deployments has n = 0, NULL rate.
with labelled as (
    select * exclude (is_total, application_id)
    from
        deployment_failure_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $attribution_inclusive, false, $grain
        )
    where not is_total
    order by period_start
)

-- the columns are the family's, defined once in deployment_failure_counts
select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from labelled
