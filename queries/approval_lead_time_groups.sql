-- One row per grouping the Changes page draws of the approval lead time,
-- from one read of the window's approvals: the pooled statistics, those of
-- each change type and the histogram's bins.
-- $start_date, $end_date: approval window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $bin_hours: width of a histogram bin in hours (default: 24)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- row_kind: 'total' (the row of approval_lead_time_summary), 'dimension'
-- (the rows of approval_lead_time, one per change type) or 'bin' (the rows
-- of approval_lead_time_histogram), in that order, each as its query orders
-- them; the columns of the family's approval_lead_time_rows macro. The same
-- numbers as those three queries (tests compare every column), from one
-- read of the approvals instead of one per query.
with grouped as (
    select *
    from
        approval_lead_time_rows(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $bin_hours
        )
    order by
        group_row_order(row_kind), change_type nulls last, bin_start_hours
)

select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from grouped
