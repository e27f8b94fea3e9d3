-- One row per CAB-required change started in the window, with whether it
-- was implemented without approval (the rows behind unauthorized_changes).
-- $start_date, $end_date: start window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $unauthorized_only: keep only the unauthorised changes (default: false)
-- docs/metrics.md unauthorized_changes, row by row, from the
-- cab_required_starts macro: is_cab_required = true and actual_start_at in the
-- window. is_not_approved: approval <> 'approved'; is_approved_after_start:
-- approved_at > actual_start_at; is_unauthorized: either. The flags are
-- NULL when the approval is missing (unclassified); $unauthorized_only
-- keeps the rows whose is_unauthorized is true. Ordered by
-- (actual_start_at, change_id).
with records as (
    select
        change_id,
        title,
        change_type,
        risk,
        assignment_group,
        application_id,
        approval,
        created_at,
        approved_at,
        actual_start_at,
        actual_end_at,
        is_unauthorized,
        is_not_approved,
        is_approved_after_start,
        is_approval_time_missing
    from
        cab_required_starts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        )
    where
        is_cab_required
        and (not cast($unauthorized_only as boolean) or is_unauthorized)
    order by actual_start_at, change_id
)

select * from records
