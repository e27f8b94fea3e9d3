-- One row per environment with active bookings: its conflicts in the window.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $statuses: list of active booking statuses (default: approved,pending)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- $environment_ids: list of environment ids whose rows to give (default:
--     null)
-- docs/metrics.md booking_conflicts per environment, over the pairs of
-- booking_conflicts.sql; the logic is the environment_conflicts macro in
-- changeboard/macros/. Environments with an active booking in W (n > 0),
-- or with an open-ended or invalid active one.
-- n_conflict_pairs: conflicting pairs; n_conflicted_bookings: distinct
-- bookings in them; conflict_hours: time within W with c(t) > capacity;
-- excess_booking_hours: integral within W of (c(t) - capacity)+. Blackouts
-- and calendars do not apply. n, n_excluded, n_invalid, n_open_ended as in
-- booking_conflicts.sql.
with by_environment as (
    select
        environment_id,
        name,
        capacity,
        n_conflict_pairs,
        n_conflicted_bookings,
        conflict_hours,
        excess_booking_hours,
        n,
        n_excluded,
        n_invalid,
        n_open_ended,
        as_of
    from environment_conflicts(
        $start_date, $end_date, $reporting_tz, $as_of, $statuses,
        $tiers, $environment_groups, $application_ids, $portfolios,
        p_environment_ids := $environment_ids
    )
)

select * from by_environment
