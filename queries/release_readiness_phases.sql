-- One row per phase not ended of a release going live in the horizon: a
-- remaining phase once per booking of that phase (or once without booking):
-- is the phase covered? A phase running late once, with how late.
-- $as_of: the instant readiness is judged at, as text (with an offset as
--     given, without one in $reporting_tz); null = now (default: null)
-- $horizon_days: releases planned to go live in [as_of, as_of +
--     horizon_days x 24 h) (default: 28)
-- $reporting_tz: IANA zone of an as_of given without offset (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $release_ids: list of release ids to keep (default: null)
-- The phases release_readiness counts, from the readiness_phase_bookings
-- macro (changeboard/macros/45_readiness.sql): phases of a release in
-- release_readiness with planned_end_at > as_of and no actual_end_at, each
-- with every booking of the release whose phase has the same name
-- (case-insensitive). is_overlapping: the booking overlaps the phase's
-- planned window (half-open; no end_at ends at as_of; a phase without a
-- planned start is open at its start); is_covered: an
-- overlapping booking is approved or pending; is_rejected_only: not covered
-- and an overlapping booking is rejected (a cancelled one does not count).
-- is_late false. Then the phases behind plan, those release_readiness's
-- slip_days is the largest of: ended late (late_days = actual_end_at -
-- planned_end_at) or past their planned end and not ended (as_of -
-- planned_end_at), in days, one row each with is_late true, actual_end_at,
-- and no booking or cover (NULL); late_by: late_days in words
-- (lateness_words, as release_readiness's reason writes the slip).
-- Sorted by (release_id, planned_start_at, phase, start_at, booking_id).
with phases as (
    select
        release_id,
        phase,
        planned_start_at,
        planned_end_at,
        actual_start_at,
        is_covered,
        not is_covered and has_rejected as is_rejected_only,
        booking_id,
        environment_id,
        environment_name,
        tier,
        team,
        booking_status,
        start_at,
        end_at,
        is_overlapping
    from
        readiness_phase_bookings(
            $as_of, $horizon_days, $reporting_tz, $application_ids,
            $portfolios
        )
    where keep($release_ids, release_id)
),

late as (
    select *
    from (
        select
            r.release_id,
            p.phase,
            p.planned_start_at,
            p.planned_end_at,
            p.actual_start_at,
            p.actual_end_at,
            -- as release_readiness's slip: ended, by its end; not ended and
            -- past its planned end, by as_of
            date_diff(
                'microsecond', p.planned_end_at,
                case
                    when p.actual_end_at is not null then p.actual_end_at
                    when p.planned_end_at < r.as_of then r.as_of
                end
            ) / 8.64e10 as late_days
        from
            readiness_releases(
                $as_of, $horizon_days, $reporting_tz, $application_ids,
                $portfolios
            ) as r
        inner join release_phases as p on r.release_id = p.release_id
        where
            r.readiness_class = 'upcoming'
            and keep($release_ids, r.release_id)
    ) as t
    where late_days > 0
),

-- the two, each missing the other's columns (NULL): by name
listed as (
    select
        *,
        false as is_late
    from phases
    union all by name
    select
        *,
        true as is_late
    from late
)

select
    * exclude (is_late, late_days),
    is_late,
    late_days,
    case when is_late then lateness_words(late_days) end as late_by
from listed
order by release_id, planned_start_at, phase, start_at, booking_id
