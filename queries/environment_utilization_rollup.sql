-- One row over every environment (is_total), then one per environment
-- group: the environments' hours in the window and their ratios of sums,
-- from one sweep, for a page that shows both.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- $unavailable_kinds: list of window kinds (default: blackout,maintenance)
-- docs/metrics.md environment_utilization rolled up by C7 over the
-- environments of environment_utilization.sql (all read the environment_usage
-- macro in changeboard/macros/): the is_total row is, column for column,
-- environment_utilization_summary's row, listed first; the others are
-- environment_utilization_by_group's rows in its order (NULL group last).
-- n_unclassified: the total's alone, as environment_utilization_summary's.
with rolled_up as (
    select
        is_total,
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
    order by is_total desc, environment_group asc nulls last
)

select * from rolled_up
