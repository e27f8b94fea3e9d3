-- One row per week, month or quarter of the window: implemented changes, how
-- many failed, and the success rate, zero-filled.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and periods (default: UTC)
-- $grain: week (ISO, Monday), month or quarter (default: month)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- docs/metrics.md change_success_rate per period (C1 buckets in reporting_tz,
-- C3 ISO weeks labelled 2025-W01); rows from the change_outcomes macro, periods
-- from change_periods. Periods cut by the window's edges are returned with
-- is_complete = false; a period without changes has n = 0 and NULL rates.
-- n, n_failed, n_excluded, n_unclassified: the headline's counts (the rows
-- add up to change_success_rate's). n_successful, n_successful_with_issues:
-- the changes that did not fail, by close code (successful, successful
-- with issues), so n_successful + n_successful_with_issues + n_failed = n;
-- the headline's n_successful_with_issues also counts failed ones.
with counted as (
    select
        period_start,
        period_label,
        is_complete,
        n,
        n_failed,
        n_clean_success as n_successful,
        n_unfailed_successful_with_issues as n_successful_with_issues,
        n_excluded,
        n_unclassified,
        change_success_rate,
        change_failure_rate
    from
        change_success_counts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority,
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
