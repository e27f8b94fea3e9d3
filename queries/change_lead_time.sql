-- One row: hours from a change's creation to the end of its implementation,
-- for changes completed in the window (request lead time, not DORA's).
-- $start_date, $end_date: actual end window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md change_lead_time: completed changes (A24: close code
-- successful, successful_with_issues, unsuccessful or backed_out, or no
-- close code and state review or closed) with actual_end_at in the window;
-- no closed_at fallback (completed_changes macro by actual_end_at).
-- created_at -> actual_end_at in hours; median (quantile_cont), p85 and mean
-- over the n spans; zero is kept, a negative span is left out and counted
-- in n_invalid. n_excluded: cancelled/rejected with actual_end_at in the
-- window; n_unclassified: actual_end_at in the window, no close code and
-- another state; n_without_close_code: measured spans of changes with no
-- close code. Never banded: DORA's lead time starts at a commit.
with ended as (
    select
        kind,
        has_outcome,
        span_seconds(created_at, actual_end_at) / 3600 as lead_hours
    from
        completed_changes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, true
        )
),

measured as (
    select
        kind,
        has_outcome,
        lead_hours,
        kind = 'completed' and lead_hours >= 0 as is_measured
    from ended
),

summarised as (
    select
        -- the median and p85 from one sort of the spans, not two
        quantile_cont(lead_hours, [0.5, 0.85]) filter (
            where is_measured
        ) as lead_quantiles,
        avg(lead_hours) filter (where is_measured) as mean_lead_time_hours,
        n_where(is_measured) as n,
        n_where(kind = 'completed' and lead_hours < 0) as n_invalid,
        n_where(kind = 'excluded') as n_excluded,
        n_where(kind = 'unclassified') as n_unclassified,
        n_where(is_measured and not has_outcome) as n_without_close_code
    from measured
)

select
    lead_quantiles[1] as median_lead_time_hours,
    lead_quantiles[2] as p85_lead_time_hours,
    * exclude (lead_quantiles),  -- noqa: AM04
    loaded_as_of() as as_of
from summarised
