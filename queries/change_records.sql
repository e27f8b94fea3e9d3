-- One row per change behind change_success_rate: implemented, excluded or
-- unclassified changes whose outcome falls in the window, with their signals.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $outcome_from, $outcome_before: the outcome window as instants instead of
--     the dates' midnights (text with an offset, or in $reporting_tz), as the
--     CAB pack's look-back up to the meeting itself (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- $failed_only: only the failed changes (is_failed), as the CAB pack's
--     recent failures of a team read them (default: false)
-- $kind: only the rows of this kind: implemented, excluded or unclassified
--     or null for every kind (default: null)
-- The rows of classified_changes_between (as the change_outcomes macro
-- reads them) for the same parameters as
-- change_success_rate, for drill-down: kind is implemented, excluded
-- (cancelled/rejected) or unclassified (no close code); is_failed and the
-- three signal flags as docs/metrics.md (shared definitions) defines them.
-- Ordered by (outcome_at, change_id).
with records as (
    select
        change_id,
        title,
        change_type,
        risk,
        assignment_group,
        application_id,
        close_code,
        outcome_at,
        kind,
        is_failed,
        is_failed_by_close_code,
        is_failed_by_incident,
        is_failed_by_rollback
    from
        classified_changes_between(
            instant_or_midnight($outcome_from, $start_date, $reporting_tz),
            instant_or_midnight($outcome_before, $end_date, $reporting_tz),
            $application_ids, $portfolios, $teams, $change_types, $tiers,
            $failure_min_priority
        )
    where
        (is_failed or not coalesce(cast($failed_only as boolean), false))
        and (cast($kind as varchar) is null or kind = cast($kind as varchar))
    order by outcome_at, change_id
)

select * from records
