-- One row per grouping a page draws of the window's completed changes by
-- type, counted in one pass: the window's total, the equal window before
-- it, each period and each value of a dimension.
-- $start_date, $end_date: completion window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter: one row per period
--     (default: null)
-- $dimension: change_type, risk, team, application or portfolio: one row per
--     value (default: null)
-- $compare: also the total of the equal window before (default: false)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- row_kind: 'total' (the row of emergency_change_ratio), 'previous' (that
-- row for the window before, with $compare), 'period' (the rows of
-- emergency_change_ratio_by_period, with $grain) or 'dimension' (the rows
-- of emergency_change_ratio_by, with $dimension); then the columns of the
-- family's emergency_change_counts macro. The same numbers as those three
-- queries (tests compare every column), from one read of the outcomes
-- instead of one per query.
with counted as (
    select
        group_row_kind(is_total, is_previous, period_start) as row_kind,
        * exclude (is_total, is_previous)
    from
        emergency_change_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $dimension, $grain,
            p_previous_too := $compare
        )
)

select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from counted
order by group_row_order(row_kind), period_start, dimension_value nulls last
