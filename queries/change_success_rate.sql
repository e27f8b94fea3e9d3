-- One row: share of implemented changes in the window that did not fail.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- docs/metrics.md change_success_rate over the rows of the change_outcomes
-- macro (changeboard/macros/): implemented = close code successful,
-- successful_with_issues, unsuccessful or backed_out, outcome_at =
-- coalesce(actual_end_at, closed_at) in the window. Failed = close code
-- unsuccessful/backed_out, or a linked incident (caused_by_change_id, or
-- caused_by_deployment_id of one of its deployments), or a rolled-back or
-- rollback deployment of the change. n_excluded: cancelled/rejected in the
-- window; n_unclassified: actual_end_at in the window, no close code.
-- n_without_close_code: completed changes (A24: no close code, state review
-- or closed, completed_at in the window; is_completed_without_close_code of
-- the outcome_facts_in macro) that have no outcome, so a page can say the
-- source lacks close codes.
with counted as (
    select
        * exclude (
            is_total, is_previous, dimension_value, period_start,
            period_label, is_complete, n_unfailed_successful_with_issues
        )
    from
        change_success_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority,
            null, null
        )
    where is_total
),

unknown as (
    select n_where(is_completed_without_close_code) as n_without_close_code
    from
        outcome_facts_in(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        )
)

-- the columns are the family's, defined once in change_success_counts
select
    c.*,  -- noqa: AM04
    u.n_without_close_code,
    loaded_as_of() as as_of
from counted as c
cross join unknown as u
