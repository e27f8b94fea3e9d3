-- One row: the environments' hours in the window and their ratios of sums.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- $unavailable_kinds: list of window kinds (default: blackout,maintenance)
-- docs/metrics.md environment_utilization rolled up by C7 over the environments
-- of environment_utilization.sql (both read the environment_usage macro in
-- changeboard/macros/):
-- utilization = sum of booked / sum of available hours, slot_utilization =
-- sum of slot / sum of capacity hours, demand_ratio = sum of demand / sum of
-- capacity hours; never a mean of ratios. No available time gives NULL.
-- n_idle: environments with available time and no booked time;
-- n_overbooked: environments with demand_ratio > 1. n, n_bookings,
-- n_pending, n_excluded, n_invalid, n_open_ended: sums over environments.
-- n_unclassified: bookings with time in the window of an environment that
-- is not loaded, of any status and whatever the filters (no environment
-- can place them: the unplaced_bookings macro).
with rolled_up as (
    select
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
    where is_total
)

select * from rolled_up
