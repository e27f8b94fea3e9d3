-- One row per environment group: its environments' hours in the window and
-- their ratios of sums.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- $unavailable_kinds: list of window kinds (default: blackout,maintenance)
-- docs/metrics.md environment_utilization rolled up by C7 per environment_group
-- (NULL group is its own row, listed last) over the environments of
-- environment_utilization.sql (all read the environment_usage macro in
-- changeboard/macros/), exactly as environment_utilization_summary does
-- overall: utilization = sum of booked / sum of available hours,
-- slot_utilization = sum of slot / sum of capacity hours, demand_ratio = sum
-- of demand / sum of capacity hours; never a mean of ratios. No available
-- time gives NULL. n_idle: environments with available time and no booked
-- time; n_overbooked: environments with demand_ratio > 1. n, n_bookings,
-- n_pending, n_excluded, n_invalid, n_open_ended: sums over environments.
-- n_unclassified: 0 (a booking of an environment not loaded has no group:
-- environment_utilization_summary counts it).
with rolled_up as (
    select
        environment_group,
        n_environments,
        available_hours,
        booked_hours,
        slot_hours,
        capacity_hours,
        demand_hours,
        utilization,
        slot_utilization,
        demand_ratio,
        n_idle,
        n_overbooked,
        n,
        n_bookings,
        n_pending,
        n_excluded,
        n_invalid,
        n_open_ended,
        n_unclassified,
        as_of
    from
        environment_utilization_rollup(
            $start_date, $end_date, $reporting_tz, $as_of, $tiers,
            $environment_groups, $application_ids, $portfolios,
            $unavailable_kinds
        )
    where not is_total
    order by environment_group nulls last
)

select * from rolled_up
