-- One row per week, month or quarter of the window: implemented changes by
-- type and the emergency change ratio, zero-filled.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter (default: month)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- METRICS.md emergency_change_ratio per period (C1 buckets in reporting_tz,
-- C3 ISO weeks labelled 2025-W01, periods from the change_periods macro):
-- n_emergency / (n_standard + n_normal + n_emergency) over implemented
-- changes of the change_outcomes macro; a NULL change type is unclassified.
-- Periods cut by the window's edges have is_complete = false; a period
-- without changes has n = 0 and a NULL ratio.
with implemented as (
    select
        change_type,
        cast(
            date_trunc($grain, timezone($reporting_tz, outcome_at)) as date
        ) as period_start
    from
        change_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, null
        )
    where kind = 'implemented'
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
        count(*) filter (where i.change_type = 'emergency') as n_emergency,
        count(*) filter (where i.change_type = 'normal') as n_normal,
        count(*) filter (where i.change_type = 'standard') as n_standard,
        count(i.period_start) filter (
            where i.change_type is null
        ) as n_unclassified
    from periods as p
    left join implemented as i on p.period_start = i.period_start
    group by p.period_start, p.period_label, p.is_complete
),

rated as (
    select
        period_start,
        period_label,
        is_complete,
        n_standard + n_normal + n_emergency as n,
        n_emergency,
        n_normal,
        n_standard,
        n_unclassified,
        n_emergency
        / nullif(n_standard + n_normal + n_emergency, 0)
            as emergency_change_ratio
    from counted
    order by period_start
)

select * from rated
