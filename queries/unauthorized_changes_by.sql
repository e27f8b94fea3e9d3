-- One row per value of the chosen dimension (a NULL value is its own row):
-- unauthorized_changes and its counts for the changes of that value.
-- $dimension: change_type, risk, team (assignment group), application or
--     portfolio (default: change_type)
-- $start_date, $end_date: start window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md unauthorized_changes split by one dimension, over the rows of
-- the cab_required_starts macro (same population, rule and counts as the
-- headline): is_cab_required = true and actual_start_at in the window;
-- unauthorized if approval <> 'approved' or approved_at > actual_start_at;
-- approved with no approved_at is authorised (n_approval_time_missing).
-- n_excluded: CAB not required; n_unclassified: NULL is_cab_required, or
-- CAB-required with a NULL approval. dimension_value is the change's
-- change_type, risk, assignment_group, application_id or its application's
-- portfolio. The rows add up to the headline (C7: roll up the counts, not
-- the rates). Any other dimension raises an error.
with counted as (
    select
        * exclude (
            is_total, is_previous, period_start, period_label, is_complete
        )
    from
        unauthorized_change_counts(
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
