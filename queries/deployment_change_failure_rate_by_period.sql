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
-- deployment_outcomes macro, periods from change_periods, counted as
-- deployment_change_failure counts them, so the rows add up to
-- deployment_change_failure_rate. n_incidents_unattributed: per period of
-- the incident's opened_at. Periods cut by the window's edges have
-- is_complete = false; a period without deployments has n = 0, NULL rate.
with outcomes as (
    select
        kind,
        is_failed,
        is_failed_by_rollback,
        is_failed_by_incident,
        n_inferred_incidents,
        cast(
            date_trunc($grain, timezone($reporting_tz, finished_at)) as date
        ) as period_start
    from
        deployment_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $attribution_inclusive
        )
),

unattributed_opened as (
    select
        incident_id,
        cast(
            date_trunc($grain, timezone($reporting_tz, opened_at)) as date
        ) as period_start
    from
        unattributed_incidents(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, $attribution_inclusive
        )
),

unattributed as (
    select
        period_start,
        count(distinct incident_id) as n_incidents_unattributed
    from unattributed_opened
    group by period_start
),

periods as (
    select
        period_start,
        period_label,
        is_complete
    from change_periods($start_date, $end_date, $grain)
),

counted as (
    select
        p.period_start,
        p.period_label,
        p.is_complete,
        count(o.kind) filter (where o.kind = 'deployment') as n,
        count(o.kind) filter (where o.is_failed) as n_failed,
        count(o.kind) filter (
            where o.kind = 'deployment' and o.is_failed_by_rollback
        ) as n_failed_by_rollback,
        count(o.kind) filter (
            where o.kind = 'deployment' and o.is_failed_by_incident
        ) as n_failed_by_incident,
        count(o.kind) filter (
            where o.kind = 'deployment' and o.n_inferred_incidents > 0
        ) as n_inferred,
        count(o.kind) filter (where o.kind = 'excluded') as n_excluded,
        count(o.kind) filter (
            where o.kind = 'unclassified'
        ) as n_unclassified
    from periods as p
    left join outcomes as o on p.period_start = o.period_start
    group by p.period_start, p.period_label, p.is_complete
),

labelled as (
    select
        c.period_start,
        c.period_label,
        c.is_complete,
        c.n_failed / nullif(c.n, 0) as rate,
        c.n,
        c.n_failed,
        c.n_failed_by_rollback,
        c.n_failed_by_incident,
        c.n_inferred,
        coalesce(u.n_incidents_unattributed, 0) as n_incidents_unattributed,
        c.n_excluded,
        c.n_unclassified,
        checked_profile($profile) as profile
    from counted as c
    left join unattributed as u on c.period_start = u.period_start
    order by c.period_start
)

select * from labelled
