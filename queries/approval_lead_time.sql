-- One row per change type (a NULL type is its own row): hours from a
-- change's creation to its approval, for changes approved in the window.
-- $start_date, $end_date: approval window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md approval_lead_time over the approval_spans macro: approval =
-- 'approved' and approved_at in the window, whatever the change's later
-- state; created_at -> approved_at in hours. Median (quantile_cont), p85
-- and mean over the n measured spans; a negative span is left out and
-- counted in n_invalid. n_excluded: approved_at in the window but approval
-- not 'approved'; n_unclassified: approved_at in the window, approval
-- missing. approval_lead_time_summary pools every type.
with summarised as (
    select * exclude (row_kind, bin_start_hours, bin_end_hours)
    from
        approval_lead_time_rows(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, null
        )
    where row_kind = 'dimension'
    order by change_type nulls last
)

-- the columns are the family's, defined once in approval_lead_time_rows
select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from summarised
