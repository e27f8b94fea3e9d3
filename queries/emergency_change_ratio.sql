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
-- unclassified. Rows come from the change_outcomes macro.
with counted as (
    select
        n,
        n_emergency,
        n_normal,
        n_standard,
        n_unclassified,
        emergency_change_ratio
    from
        emergency_change_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers,
            null, null
        )
    where is_total
)

select * from counted
