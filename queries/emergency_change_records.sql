-- One row per completed change behind emergency_change_ratio, for
-- drill-down.
-- $start_date, $end_date: completion window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- The completed_changes rows of kind 'completed' (docs/metrics.md A24) that
-- emergency_change_ratio counts: is_emergency marks its numerator, and
-- has_outcome is false for a change completed without a close code. Sorted
-- emergency changes first (the ratio's numerator, which the Overview card's
-- records show at the top of its n: 25 of 874 were scattered through it),
-- then by (completed_at, change_id).
with records as (
    select
        o.change_id,
        o.title,
        o.change_type,
        o.change_type = 'emergency' as is_emergency,
        o.risk,
        o.assignment_group,
        o.application_id,
        a.name as application_name,
        o.state,
        o.close_code,
        o.has_outcome,
        o.completed_at
    from
        completed_changes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, false
        ) as o
    left join applications as a on o.application_id = a.application_id
    where o.kind = 'completed'
)

select * from records
order by is_emergency desc, completed_at asc, change_id asc
