-- One row per booking of a scoped environment overlapping the window, with
-- its release, phase, team, status and times, for a bookings timeline.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $statuses: list of booking statuses to keep (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $no_group: only the environments with no group (the Environments page's
--     "(no group)") (default: false)
-- $environment_ids: list of environment ids to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- The records behind environment_utilization, booking_conflicts and
-- environment_impact_by_week, over the window_bookings macro
-- (changeboard/macros/). The filters apply to the environment (its tier,
-- group, id, application_id and that application's portfolio), as in
-- environment_utilization. Bookings are [start_at, end_at); a row is a
-- booking of any status with time in W: clipped_start_at, clipped_end_at
-- are its part within W, NULL end_at ends at min(W end, as_of)
-- (is_open_ended); empty and invalid (end_at < start_at) bookings have no
-- time and no row. hours_in_window = clipped_end_at - clipped_start_at.
-- start_at, end_at are the booking as recorded. release_name and
-- application_id are the release's (NULL without a release).
with w as (
    select
        w_start,
        w_end,
        as_of
    from report_window($start_date, $end_date, $reporting_tz, $as_of)
),

in_window as (
    select
        booking_id,
        environment_id,
        is_open_ended,
        clipped_start_at,
        clipped_end_at
    from
        window_bookings(
            $start_date, $end_date, $reporting_tz, $as_of, null,
            $tiers, $environment_groups, $application_ids, $portfolios
        )
    where is_in_window
),

timeline as (
    select
        i.booking_id,
        i.environment_id,
        e.name as environment_name,
        e.environment_group,
        e.tier,
        b.release_id,
        r.name as release_name,
        r.application_id,
        b.phase,
        b.team,
        b.status,
        b.start_at,
        b.end_at,
        i.clipped_start_at,
        i.clipped_end_at,
        (epoch_us(i.clipped_end_at) - epoch_us(i.clipped_start_at))
        / 3.6e9 as hours_in_window,
        i.is_open_ended,
        w.as_of
    from in_window as i
    inner join environment_bookings as b on i.booking_id = b.booking_id
    inner join environments as e on i.environment_id = e.environment_id
    left join releases as r on b.release_id = r.release_id
    cross join w
    where
        keep($statuses, b.status)
        and keep($environment_ids, i.environment_id)
        and (
            not coalesce(cast($no_group as boolean), false)
            or e.environment_group is null
        )
    order by
        e.environment_group nulls last, e.name, i.clipped_start_at,
        i.booking_id
)

select * from timeline
