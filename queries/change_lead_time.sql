-- One row: hours from a change's creation to the end of its implementation,
-- for changes implemented in the window (request lead time, not DORA's).
-- $start_date, $end_date: actual end window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- METRICS.md change_lead_time: implemented changes (close code successful,
-- successful_with_issues, unsuccessful or backed_out) with actual_end_at in
-- the window; no closed_at fallback, so the change_outcomes rows without an
-- actual_end_at are left out. created_at -> actual_end_at in hours; median
-- (quantile_cont), p85 and mean over the n spans; zero is kept, a negative
-- span is left out and counted in n_invalid. n_excluded: cancelled/rejected
-- with actual_end_at in the window; n_unclassified: actual_end_at in the
-- window, no close code. Never banded: DORA's lead time starts at a commit.
with ended as (
    select
        kind,
        epoch(actual_end_at - created_at) / 3600 as lead_hours
    from
        change_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, null
        )
    where actual_end_at is not null
),

measured as (
    select
        kind,
        lead_hours,
        kind = 'implemented' and lead_hours >= 0 as is_measured
    from ended
),

summarised as (
    select
        quantile_cont(lead_hours, 0.5) filter (
            where is_measured
        ) as median_lead_time_hours,
        quantile_cont(lead_hours, 0.85) filter (
            where is_measured
        ) as p85_lead_time_hours,
        avg(lead_hours) filter (where is_measured) as mean_lead_time_hours,
        count(*) filter (where is_measured) as n,
        count(*) filter (
            where kind = 'implemented' and lead_hours < 0
        ) as n_invalid,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from measured
)

select * from summarised
