-- One row per week, month or quarter of the window: CAB-required changes
-- started in it, how many without approval, and the rate, zero-filled.
-- $start_date, $end_date: start window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter (default: month)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md unauthorized_changes per period of actual_start_at (C1
-- buckets in reporting_tz, C3 ISO weeks labelled 2025-W01); rows from the
-- cab_required_starts macro, periods from change_periods, counted as
-- unauthorized_changes counts them, so the rows add up to it. Periods cut by
-- the window's edges have is_complete = false; a period without CAB-required
-- changes has n = 0 and a NULL rate.
with counted as (
    select * exclude (is_total, is_previous, dimension_value)
    from
        unauthorized_change_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers,
            null, $grain
        )
    where not is_total
    order by period_start
)

-- the columns are the family's, defined once in its *_counts macro
select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from counted
