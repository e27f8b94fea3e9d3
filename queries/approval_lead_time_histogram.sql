-- One row per change type and bin of approval lead time: how many approved
-- changes took that long from creation to approval (the histogram of
-- approval_lead_time's measured changes, counted here rather than drawn
-- from every change's row).
-- $start_date, $end_date: approval window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $bin_hours: width of a bin in hours (default: 24)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md approval_lead_time_histogram: the measured rows of
-- approval_lead_time_records; bin k holds lead times in
-- [k * bin_hours, (k + 1) * bin_hours). Ordered by change type, then bin.
with binned as (
    select
        change_type,
        bin_start_hours,
        bin_end_hours,
        n
    from
        approval_lead_time_rows(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $bin_hours
        )
    where row_kind = 'bin'
    order by change_type, bin_start_hours
)

select
    *,
    loaded_as_of() as as_of
from binned
