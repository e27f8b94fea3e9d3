-- One row per pair of active bookings in conflict on an environment.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $statuses: list of active booking statuses (default: approved,pending)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- $environment_ids: list of environment ids whose pairs to list (default:
--     null)
-- docs/metrics.md booking_conflicts; the logic is the booking_conflict_pairs
-- macro in changeboard/macros/. The filters apply to the environment (its
-- application_id, that application's portfolio). Active bookings have a
-- status in $statuses; they are [start_at, end_at), clipped to W; NULL end_at
-- ends at min(W end, as_of) (n_open_ended); end_at < start_at is ignored
-- (n_invalid); empty, back-to-back, rejected and cancelled never conflict.
-- Calendars and blackouts do not apply. c(t) = active bookings at t (a sweep
-- in which an end sorts before a start at the same instant); NULL capacity
-- = 1. A pair conflicts when its overlap within W meets a segment with
-- c(t) > capacity: with capacity 1, every overlapping pair.
-- booking_id_a < booking_id_b; overlap start, end and hours are clipped to W.
-- release_a, release_b: each booking's release as the pages name one,
-- 'Name (id)' (the id alone for a release without a name or not loaded).
-- n, n_excluded, n_invalid, n_open_ended are the environment's: active
-- bookings with time in W; bookings of other statuses with time in W.
with conflicts as (
    select
        environment_name,
        environment_id,
        booking_id_a,
        booking_id_b,
        status_a,
        status_b,
        release_id_a,
        release_id_b,
        release_a,
        release_b,
        team_a,
        team_b,
        phase_a,
        phase_b,
        overlap_start_at,
        overlap_end_at,
        overlap_hours,
        capacity,
        n,
        n_excluded,
        n_invalid,
        n_open_ended,
        as_of
    from booking_conflict_pairs(
        $start_date, $end_date, $reporting_tz, $as_of, $statuses,
        $tiers, $environment_groups, $application_ids, $portfolios,
        p_environment_ids := $environment_ids
    )
)

select * from conflicts
