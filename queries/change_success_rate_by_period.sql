-- One row per week, month or quarter of the window: implemented changes, how
-- many failed, and the success rate, zero-filled.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter (default: month)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- METRICS.md change_success_rate per period (C1 buckets in reporting_tz, C3
-- ISO weeks labelled 2025-W01); rows from the change_outcomes macro, periods
-- from change_periods. Periods cut by the window's edges are returned with
-- is_complete = false; a period without changes has n = 0 and NULL rates.
with outcomes as (
    select
        kind,
        close_code,
        is_failed,
        cast(
            date_trunc($grain, timezone($reporting_tz, outcome_at)) as date
        ) as period_start
    from
        change_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority
        )
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
        count(*) filter (where o.kind = 'implemented') as n,
        count(*) filter (where o.is_failed) as n_failed,
        count(*) filter (
            where o.close_code = 'successful' and not o.is_failed
        ) as n_successful,
        count(*) filter (
            where o.close_code = 'successful_with_issues' and not o.is_failed
        ) as n_successful_with_issues,
        count(*) filter (where o.kind = 'excluded') as n_excluded,
        count(*) filter (where o.kind = 'unclassified') as n_unclassified
    from periods as p
    left join outcomes as o on p.period_start = o.period_start
    group by p.period_start, p.period_label, p.is_complete
),

labelled as (
    select
        period_start,
        period_label,
        is_complete,
        n,
        n_failed,
        n_successful,
        n_successful_with_issues,
        n_excluded,
        n_unclassified,
        (n - n_failed) / nullif(n, 0) as change_success_rate,
        n_failed / nullif(n, 0) as change_failure_rate
    from counted
    order by period_start
)

select * from labelled
