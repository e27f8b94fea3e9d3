-- One row per open change (state not closed or cancelled) in the filters,
-- created at or before as_of: its age in state and whether it is past its
-- planned start and not started, or implemented and not closed after
-- $close_within_days.
-- $as_of: the instant ages are measured at, as text (with an offset as
--     given, without one in $reporting_tz); null = the last succeeded load
--     (default: null)
-- $close_within_days: days an implemented change may stay open before it
--     is listed as not closed (default: 5)
-- $reporting_tz: IANA zone of an as_of given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md open_change_backlog. The states as loaded (there is no
-- state history): as_of only measures ages and lateness, and leaves out
-- the changes created after it (they did not exist then). state_since_at:
-- the latest milestone the state implies that is at or before as_of: new,
-- assess, authorize created_at; scheduled approved_at, else created_at;
-- implement actual_start_at, else approved_at, else created_at; review
-- actual_end_at, else actual_start_at, else approved_at, else created_at.
-- age_basis names it; is_age_exact when it is the state's own milestone
-- (new created_at, scheduled approved_at, implement actual_start_at, review
-- actual_end_at), else age_days is an upper bound. is_past_planned_start:
-- planned_start_at < as_of and no actual_start_at. is_unclosed_after_
-- implementation: actual_end_at < as_of - close_within_days x 24 h (exactly
-- that many days is not yet late). Days are 24 h, never rounded. Ordered by
-- state (new to review), age_days descending, change_id.
select
    change_id,
    title,
    state,
    state_rank,
    change_type,
    risk,
    priority,
    approval,
    assignment_group,
    application_id,
    created_at,
    approved_at,
    planned_start_at,
    planned_end_at,
    actual_start_at,
    actual_end_at,
    updated_at,
    state_since_at,
    age_basis,
    is_age_exact,
    age_days,
    is_past_planned_start,
    days_past_planned_start,
    is_unclosed_after_implementation,
    days_since_implemented,
    close_within_days,
    as_of
from
    open_change_ages(
        $as_of, $close_within_days, $reporting_tz, $application_ids,
        $portfolios, $teams, $change_types, $tiers
    )
order by state_rank asc, age_days desc, change_id asc
