-- One row: share of completed changes in the window that were emergencies.
-- $start_date, $end_date: completion window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md emergency_change_ratio = n_emergency / (n_standard + n_normal
-- + n_emergency) over completed changes (docs/metrics.md A24: close code
-- successful, successful_with_issues, unsuccessful or backed_out, or no
-- close code and state review or closed) with completed_at =
-- coalesce(actual_end_at, closed_at) in the window; a NULL change type is
-- unclassified. n_without_close_code: completed changes with no close code
-- (counted in n; a source without close codes still gets the ratio).
-- n_excluded: changes closed cancelled or rejected in the window (not in n).
-- Rows come from the emergency_change_counts macro.
with counted as (
    select
        * exclude (
            is_total, is_previous, dimension_value, period_start,
            period_label, is_complete
        )
    from
        emergency_change_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers,
            null, null
        )
    where is_total
)

-- the columns are the family's, defined once in its *_counts macro
select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from counted
