-- One row per environment booking of an agenda change's release that
-- overlaps the change's plan.
-- $window_start_at, $window_end_at: review window (from this meeting to the
--     next), end exclusive: instants as text, with an offset as given, without
--     one in $reporting_tz; a bare date means 00:00
-- $reporting_tz: IANA zone of instants given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $statuses: list of booking statuses to show (default: approved,pending)
-- CAB evidence pack: for each cab_agenda change with a release_id, the
-- environment_bookings of that release with a status in $statuses whose
-- [start_at, end_at) overlaps the change's [planned_start_at,
-- planned_end_at) with positive length (an open-ended booking, NULL end_at,
-- runs on; empty and invalid bookings are ignored). overlap start, end and
-- hours are of booking and plan; is_target_environment: the booking is on
-- the change's own environment_id.
with agenda as (
    select
        agenda_rank,
        change_id,
        release_id,
        environment_id,
        planned_start_at,
        planned_end_at
    from
        cab_agenda_ranked(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        )
    where release_id is not null
),

hits as (
    select
        a.agenda_rank,
        a.change_id,
        a.release_id,
        b.booking_id,
        b.environment_id,
        e.name as environment_name,
        e.tier,
        b.phase,
        b.team,
        b.status,
        b.start_at,
        b.end_at,
        greatest(b.start_at, a.planned_start_at) as overlap_start_at,
        least(
            coalesce(b.end_at, a.planned_end_at), a.planned_end_at
        ) as overlap_end_at,
        date_diff(
            'microsecond',
            greatest(b.start_at, a.planned_start_at),
            least(coalesce(b.end_at, a.planned_end_at), a.planned_end_at)
        ) / 3.6e9 as overlap_hours,
        coalesce(b.environment_id = a.environment_id, false)
            as is_target_environment
    from agenda as a
    inner join environment_bookings as b
        on
            a.release_id = b.release_id
            -- an empty plan (end = start) overlaps nothing
            and a.planned_end_at > a.planned_start_at
            and a.planned_end_at > b.start_at
            and coalesce(a.planned_start_at < b.end_at, true)
            and coalesce(b.end_at > b.start_at, true)
    left join environments as e on b.environment_id = e.environment_id
    where list_contains(cast($statuses as varchar[]), b.status)
    order by a.agenda_rank, b.start_at, b.booking_id
)

select * from hits
