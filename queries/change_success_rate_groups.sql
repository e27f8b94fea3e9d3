-- One row per grouping a page draws of the window's change outcomes, counted
-- in one pass: the window's total, the equal window before it, each period
-- and each value of a dimension.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
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
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- row_kind: 'total' (the row of change_success_rate), 'previous' (that row
-- for the window before, with $compare), 'period' (the rows of
-- change_success_rate_by_period, with $grain) or 'dimension' (the rows of
-- change_success_rate_by, with $dimension); the columns of the family's
-- change_success_counts macro, and n_without_close_code on the two totals.
-- The same numbers as those three queries (tests compare every column),
-- from one read of the outcomes instead of one per query.
with counted as (
    select
        group_row_kind(is_total, is_previous, period_start) as row_kind,
        * exclude (is_total, is_previous),
        is_total and is_previous as is_previous_total,
        is_total and not is_previous as is_window_total
    from
        change_success_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority,
            $dimension, $grain,
            p_previous_too := $compare
        )
),

unknown as (
    select
        n_where(
            is_completed_without_close_code
            and outcome_at >= local_midnight($start_date, $reporting_tz)
        ) as n_window,
        n_where(
            is_completed_without_close_code
            and outcome_at < local_midnight($start_date, $reporting_tz)
        ) as n_previous
    from
        outcome_facts_in(
            compared_start($start_date, $end_date, $compare), $end_date,
            $reporting_tz, $application_ids, $portfolios, $teams,
            $change_types, $tiers
        )
)

select
    c.* exclude (is_previous_total, is_window_total),  -- noqa: AM04
    case
        when c.is_window_total then u.n_window
        when c.is_previous_total then u.n_previous
    end as n_without_close_code,
    loaded_as_of() as as_of
from counted as c
cross join unknown as u
order by
    group_row_order(c.row_kind), c.period_start, c.dimension_value nulls last
