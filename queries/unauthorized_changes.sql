-- One row: share of CAB-required changes started in the window that were
-- implemented without approval.
-- $start_date, $end_date: start window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md unauthorized_changes over the cab_required_starts macro:
-- is_cab_required = true and actual_start_at in the window. Unauthorized if
-- approval <> 'approved' (n_not_approved) or approved_at > actual_start_at
-- (n_approved_after_start, retroactive). Approved with no approved_at is
-- authorised and counted in n_approval_time_missing. unauthorized_rate =
-- n_unauthorized / n. n_excluded: started in the window, CAB not required;
-- n_unclassified: started in the window with a NULL is_cab_required, or
-- CAB-required with a NULL approval.
with counted as (
    select
        * exclude (
            is_total, is_previous, dimension_value, period_start,
            period_label, is_complete
        )
    from
        unauthorized_change_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers,
            null, null
        )
    where is_total
)

-- the columns are the family's, defined once in its *_counts macro
select * from counted  -- noqa: AM04
