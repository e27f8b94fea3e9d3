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
-- application is its own row), from the deployment_outcomes macro, counted
-- as deployment_change_failure counts them, so the rows add up to
-- deployment_change_failure_rate. n_incidents_unattributed: per the
-- incident's application. The overall figure is the headline (a ratio of
-- sums, C7), not an average of these rows.
with counted as (
    select
        application_id,
        n,
        n_failed,
        n_failed_by_rollback,
        n_failed_by_incident,
        n_inferred,
        n_excluded,
        n_unclassified
    from
        deployment_failure_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $attribution_inclusive
        )
    where not is_total
),

unattributed as (
    select
        application_id,
        count(distinct incident_id) as n_incidents_unattributed
    from
        unattributed_incidents(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $attribution_inclusive
        )
    group by application_id
),

joined as (
    select
        coalesce(c.application_id, u.application_id) as application_id,
        coalesce(c.n, 0) as n,
        coalesce(c.n_failed, 0) as n_failed,
        coalesce(c.n_failed_by_rollback, 0) as n_failed_by_rollback,
        coalesce(c.n_failed_by_incident, 0) as n_failed_by_incident,
        coalesce(c.n_inferred, 0) as n_inferred,
        coalesce(u.n_incidents_unattributed, 0) as n_incidents_unattributed,
        coalesce(c.n_excluded, 0) as n_excluded,
        coalesce(c.n_unclassified, 0) as n_unclassified
    from counted as c
    full join unattributed as u
        on c.application_id is not distinct from u.application_id
),

rated as (
    select
        j.application_id,
        a.name as application_name,
        j.n_failed / nullif(j.n, 0) as rate,
        j.n,
        j.n_failed,
        j.n_failed_by_rollback,
        j.n_failed_by_incident,
        j.n_inferred,
        j.n_incidents_unattributed,
        j.n_excluded,
        j.n_unclassified,
        checked_profile($profile) as profile
    from joined as j
    left join applications as a on j.application_id = a.application_id
    order by j.application_id nulls last
)

select * from rated
