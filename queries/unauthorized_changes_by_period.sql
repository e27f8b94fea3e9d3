-- One row per week, month or quarter of the window: CAB-required changes
-- started in it, how many without approval, and the rate, zero-filled.
-- $start_date, $end_date: start window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter (default: month)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- METRICS.md unauthorized_changes per period of actual_start_at (C1 buckets
-- in reporting_tz, C3 ISO weeks labelled 2025-W01); rows from the
-- cab_required_starts macro, periods from change_periods, counted as
-- unauthorized_changes counts them, so the rows add up to it. Periods cut by
-- the window's edges have is_complete = false; a period without CAB-required
-- changes has n = 0 and a NULL rate.
with started as (
    select
        is_cab_required,
        approval,
        is_not_approved,
        is_approved_after_start,
        is_approval_time_missing,
        is_unauthorized,
        cast(
            date_trunc($grain, timezone($reporting_tz, actual_start_at))
            as date
        ) as period_start
    from
        cab_required_starts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
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
        count(*) filter (
            where s.is_cab_required and s.approval is not null
        ) as n,
        count(*) filter (
            where s.is_cab_required and s.is_unauthorized
        ) as n_unauthorized,
        count(*) filter (
            where s.is_cab_required and s.is_not_approved
        ) as n_not_approved,
        count(*) filter (
            where s.is_cab_required and s.is_approved_after_start
        ) as n_approved_after_start,
        count(*) filter (
            where s.is_cab_required and s.is_approval_time_missing
        ) as n_approval_time_missing,
        count(*) filter (where not s.is_cab_required) as n_excluded,
        count(*) filter (
            where
            s.period_start is not null
            and (
                s.is_cab_required is null
                or (s.is_cab_required and s.approval is null)
            )
        ) as n_unclassified
    from periods as p
    left join started as s on p.period_start = s.period_start
    group by p.period_start, p.period_label, p.is_complete
),

labelled as (
    select
        period_start,
        period_label,
        is_complete,
        n_unauthorized / nullif(n, 0) as unauthorized_rate,
        n,
        n_unauthorized,
        n_not_approved,
        n_approved_after_start,
        n_approval_time_missing,
        n_excluded,
        n_unclassified
    from counted
    order by period_start
)

select * from labelled
