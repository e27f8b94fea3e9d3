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
with width as (
    select cast($bin_hours as double) as bin_hours
),

measured as (
    select
        s.change_type,
        floor(s.lead_hours / w.bin_hours) as bin,
        w.bin_hours
    from
        approval_spans(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        ) as s
    cross join width as w
    where s.kind = 'measured'
),

binned as (
    select
        change_type,
        bin * bin_hours as bin_start_hours,
        (bin + 1) * bin_hours as bin_end_hours,
        count(*) as n
    from measured
    group by change_type, bin, bin_hours
    order by change_type, bin
)

select * from binned
