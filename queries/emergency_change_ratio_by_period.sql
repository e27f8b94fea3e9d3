-- One row per week, month or quarter of the window: completed changes by
-- type and the emergency change ratio, zero-filled.
-- $start_date, $end_date: completion window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter (default: month)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md emergency_change_ratio per period (C1 buckets in
-- reporting_tz, C3 ISO weeks labelled 2025-W01, periods from the change_periods
-- macro): n_emergency / (n_standard + n_normal + n_emergency) over completed
-- changes (A24) of the completed_changes macro, by completed_at; a NULL
-- change type is unclassified.
-- Periods cut by the window's edges have is_complete = false; a period
-- without changes has n = 0 and a NULL ratio.
with periods as (
    select
        period_start,
        period_label,
        is_complete
    from change_periods($start_date, $end_date, $grain)
),

counted as (
    select
        period_start,
        n,
        n_emergency,
        n_normal,
        n_standard,
        n_unclassified,
        n_without_close_code,
        emergency_change_ratio
    from
        emergency_change_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers,
            null, $grain
        )
    where not is_total
),

labelled as (
    select
        p.period_start,
        p.period_label,
        p.is_complete,
        coalesce(c.n, 0) as n,
        coalesce(c.n_emergency, 0) as n_emergency,
        coalesce(c.n_normal, 0) as n_normal,
        coalesce(c.n_standard, 0) as n_standard,
        coalesce(c.n_unclassified, 0) as n_unclassified,
        coalesce(c.n_without_close_code, 0) as n_without_close_code,
        c.emergency_change_ratio
    from periods as p
    left join counted as c on p.period_start = c.period_start
    order by p.period_start
)

select * from labelled
