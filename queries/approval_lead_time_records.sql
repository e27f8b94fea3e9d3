-- One row per change with an approval time in the window: hours from its
-- creation to its approval (the rows behind approval_lead_time).
-- $start_date, $end_date: approval window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md approval_lead_time, row by row, from the approval_spans
-- macro: approved_at in the window, whatever the change's later state.
-- lead_time_hours = created_at -> approved_at; kind is measured (counted in
-- the median), invalid (negative span), excluded (approval not 'approved')
-- or unclassified (approval missing). Ordered by (approved_at, change_id).
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
        lead_hours as lead_time_hours,
        kind
    from
        approval_spans(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        )
    order by approved_at, change_id
)

select * from records
