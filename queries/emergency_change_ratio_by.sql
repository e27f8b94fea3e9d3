-- One row per value of the chosen dimension (a NULL value is its own row):
-- emergency_change_ratio and its counts for the changes of that value.
-- $dimension: change_type, risk, team (assignment group), application or
--     portfolio (default: change_type)
-- $start_date, $end_date: completion window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md emergency_change_ratio split by one dimension, over the
-- completed rows of the completed_changes macro (same population and counts
-- as the headline): n_emergency / (n_standard + n_normal + n_emergency); a
-- NULL change type is unclassified. dimension_value is the change's
-- change_type, risk, assignment_group, application_id or its application's
-- portfolio. The rows add up to the headline (C7: roll up the counts, not
-- the ratios). Any other dimension raises an error.
with counted as (
    select
        * exclude (
            is_total, is_previous, period_start, period_label, is_complete
        )
    from
        emergency_change_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers,
            checked_change_dimension($dimension), null
        )
    where not is_total
    order by dimension_value nulls last
)

-- the columns are the family's, defined once in its *_counts macro
select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from counted
