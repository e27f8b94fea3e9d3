-- One row per environment: available, booked and demanded hours in the window.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- $unavailable_kinds: list of window kinds (default: blackout,maintenance)
-- docs/metrics.md environment_utilization; the logic is the environment_usage
-- macro in changeboard/macros/. The filters apply to the environment
-- (its application_id, that application's portfolio). Available time A = W
-- within the calendar (always, or business_hours: Mon-Fri 08:00-18:00 per
-- local date in environments.timezone, NULL = UTC, so DST is handled) minus
-- the blackout_windows of $unavailable_kinds that apply: environment_id NULL
-- or equal and application_id NULL or equal (an application's window never
-- applies to a shared environment, application_id NULL).
-- Bookings are [start_at, end_at); NULL end_at ends at min(W end, as_of)
-- (n_open_ended); end_at < start_at is ignored (n_invalid).
-- utilization = |union of approved bookings within A| / |A|;
-- slot_utilization = integral over A of min(c, capacity) / (capacity * |A|),
-- c = approved bookings active at t, NULL capacity = 1;
-- demand_ratio = sum of |booking within A| over approved and pending
-- / (capacity * |A|), may exceed 1. |A| = 0 gives NULL ratios.
-- n = n_bookings (approved) + n_pending with time in W; n_excluded: rejected
-- or cancelled bookings with time in W. is_idle: available time, none booked;
-- is_overbooked: demand_ratio > 1, decided on whole microseconds (exact).
-- n_unclassified: 0 (a loaded environment's bookings are placed; those of
-- an environment not loaded are environment_utilization_summary's).
with per_environment as (
    select
        environment_id,
        name,
        tier,
        environment_group,
        capacity,
        availability,
        available_hours,
        booked_hours,
        slot_hours,
        capacity_hours,
        demand_hours,
        utilization,
        slot_utilization,
        demand_ratio,
        is_idle,
        is_overbooked,
        n,
        n_bookings,
        n_pending,
        n_excluded,
        n_invalid,
        n_open_ended,
        cast(0 as bigint) as n_unclassified,
        as_of
    from environment_usage(
        $start_date, $end_date, $reporting_tz, $as_of, $tiers,
        $environment_groups, $application_ids, $portfolios,
        $unavailable_kinds
    )
)

select * from per_environment
