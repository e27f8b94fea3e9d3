-- One row: the environments' hours in the window and their ratios of sums.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- $unavailable_kinds: list of window kinds (default: blackout,maintenance)
-- METRICS.md environment_utilization rolled up by C7 over the environments
-- of environment_utilization.sql (both read the environment_usage macro in
-- changeboard/macros/):
-- utilization = sum of booked / sum of available hours, slot_utilization =
-- sum of slot / sum of capacity hours, demand_ratio = sum of demand / sum of
-- capacity hours; never a mean of ratios. No available time gives NULL.
-- n_idle: environments with available time and no booked time;
-- n_overbooked: environments with demand_ratio > 1. n, n_bookings,
-- n_pending, n_excluded, n_invalid, n_open_ended: sums over environments.
with per_environment as (
    select *
    from environment_usage(
        $start_date, $end_date, $reporting_tz, $as_of, $tiers,
        $environment_groups, $application_ids, $portfolios,
        $unavailable_kinds
    )
),

rolled_up as (
    select
        count(distinct environment_id) as n_environments,
        coalesce(sum(available_hours), 0) as available_hours,
        coalesce(sum(booked_hours), 0) as booked_hours,
        coalesce(sum(slot_hours), 0) as slot_hours,
        coalesce(sum(capacity_hours), 0) as capacity_hours,
        coalesce(sum(demand_hours), 0) as demand_hours,
        sum(booked_hours) / nullif(sum(available_hours), 0) as utilization,
        sum(slot_hours)
        / nullif(sum(capacity_hours), 0) as slot_utilization,
        sum(demand_hours) / nullif(sum(capacity_hours), 0) as demand_ratio,
        count(distinct environment_id) filter (where is_idle) as n_idle,
        count(distinct environment_id) filter (
            where is_overbooked
        ) as n_overbooked,
        coalesce(cast(sum(n) as bigint), 0) as n,
        coalesce(cast(sum(n_bookings) as bigint), 0) as n_bookings,
        coalesce(cast(sum(n_pending) as bigint), 0) as n_pending,
        coalesce(cast(sum(n_excluded) as bigint), 0) as n_excluded,
        coalesce(cast(sum(n_invalid) as bigint), 0) as n_invalid,
        coalesce(cast(sum(n_open_ended) as bigint), 0) as n_open_ended,
        (
            select as_of
            from report_window($start_date, $end_date, $reporting_tz, $as_of)
        ) as as_of
    from per_environment
)

select * from rolled_up
