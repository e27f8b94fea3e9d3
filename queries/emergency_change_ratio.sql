-- One row: share of implemented changes in the window that were emergencies.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- METRICS.md emergency_change_ratio = n_emergency / (n_standard + n_normal +
-- n_emergency) over implemented changes (close code successful,
-- successful_with_issues, unsuccessful or backed_out) with outcome_at =
-- coalesce(actual_end_at, closed_at) in the window; a NULL change type is
-- unclassified.
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end
),

implemented as (
    select s.change_type
    from
        scoped_changes(
            $application_ids, $portfolios, $teams, $change_types, $tiers
        ) as s
    cross join bounds as b
    where
        s.close_code in (
            'successful', 'successful_with_issues', 'unsuccessful',
            'backed_out'
        )
        and coalesce(s.actual_end_at, s.closed_at) >= b.w_start
        and coalesce(s.actual_end_at, s.closed_at) < b.w_end
),

counted as (
    select
        count(*) filter (where change_type = 'emergency') as n_emergency,
        count(*) filter (where change_type = 'normal') as n_normal,
        count(*) filter (where change_type = 'standard') as n_standard,
        count(*) filter (where change_type is null) as n_unclassified
    from implemented
),

rated as (
    select
        n_standard + n_normal + n_emergency as n,
        n_emergency,
        n_normal,
        n_standard,
        n_unclassified,
        n_emergency
        / nullif(n_standard + n_normal + n_emergency, 0)
            as emergency_change_ratio
    from counted
)

select * from rated
