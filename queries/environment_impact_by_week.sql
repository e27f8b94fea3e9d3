-- One row per environment and ISO week of the window: releases with
-- approved or only pending bookings in the week, and the booked hours.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and weeks (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $no_group: only the environments with no group (the Environments page's
--     "(no group)") (default: false)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- docs/metrics.md environment_impact_by_week, the matrix's time variant, over
-- the window_bookings macro (changeboard/macros/): every kept environment times
-- every ISO week (Monday, in $reporting_tz, labelled 2025-W01) that meets W,
-- zero-filled; weeks cut by W are clipped to it (is_complete = false). The
-- filters apply to the environment, as in environment_utilization. Bookings
-- are [start_at, end_at) clipped to W, NULL end_at ends at min(W end,
-- as_of); empty and invalid bookings are ignored. n_releases: distinct
-- releases with an approved booking overlapping the week; n_pending_releases:
-- releases with a pending but no approved booking overlapping it (the two
-- add up); bookings without a release count in no release count.
-- booked_hours = |union of approved bookings within the week|, as in
-- utilisation; n_bookings: approved or pending bookings overlapping the
-- week; n_excluded: rejected or cancelled ones.
with w as (
    select
        w_start,
        w_end,
        as_of
    from report_window($start_date, $end_date, $reporting_tz, $as_of)
),

bookings as (
    select
        environment_id,
        booking_id,
        release_id,
        status,
        is_active,
        clipped_start_at,
        clipped_end_at
    from
        window_bookings(
            $start_date, $end_date, $reporting_tz, $as_of,
            ['approved', 'pending'],
            $tiers, $environment_groups, $application_ids, $portfolios
        )
    where is_in_window
),

weeks as (
    select
        cast(g.week_start as date) as week_start,
        greatest(
            local_midnight(g.week_start, $reporting_tz), w.w_start
        ) as start_at,
        least(
            local_midnight(g.week_start + interval 7 day, $reporting_tz),
            w.w_end
        ) as end_at
    from
        generate_series(
            date_trunc('week', cast($start_date as date)),
            cast($end_date as date) - interval 1 day,
            interval 7 day
        ) as g (week_start)
    cross join w
),

grid as (
    select
        e.environment_id,
        e.name as environment_name,
        e.environment_group,
        e.tier,
        k.week_start,
        k.start_at,
        k.end_at
    from
        scoped_environments(
            $tiers, $environment_groups, $application_ids, $portfolios
        ) as e
    cross join weeks as k
    where
        not coalesce(cast($no_group as boolean), false)
        or e.environment_group is null
),

-- approved bookings merged into disjoint islands, so overlaps count once
approved_ordered as (
    select
        environment_id,
        booking_id,
        clipped_start_at,
        clipped_end_at,
        max(clipped_end_at) over (
            partition by environment_id
            order by clipped_start_at, clipped_end_at, booking_id
            rows between unbounded preceding and 1 preceding
        ) as reach_before
    from bookings
    where status = 'approved'
),

approved_islands as (
    select
        environment_id,
        min(clipped_start_at) as start_at,
        max(clipped_end_at) as end_at
    from (
        select
            *,
            sum(
                case
                    when
                        reach_before is null
                        or clipped_start_at > reach_before
                        then 1
                    else 0
                end
            ) over (
                partition by environment_id
                order by clipped_start_at, clipped_end_at, booking_id
                rows between unbounded preceding and current row
            ) as island
        from approved_ordered
    ) as o
    group by environment_id, island
),

booked as (
    select
        g.environment_id,
        g.week_start,
        sum(
            epoch_us(least(i.end_at, g.end_at))
            - epoch_us(greatest(i.start_at, g.start_at))
        ) / 3.6e9 as booked_hours
    from grid as g
    inner join approved_islands as i
        on
            g.environment_id = i.environment_id
            and g.end_at > i.start_at
            and g.start_at < i.end_at
    group by g.environment_id, g.week_start
),

week_bookings as (
    select
        g.environment_id,
        g.week_start,
        b.booking_id,
        b.release_id,
        b.status,
        b.is_active
    from grid as g
    inner join bookings as b
        on
            g.environment_id = b.environment_id
            and g.end_at > b.clipped_start_at
            and g.start_at < b.clipped_end_at
),

release_weeks as (
    select
        environment_id,
        week_start,
        release_id,
        bool_or(status = 'approved') as has_approved,
        bool_or(status = 'pending') as has_pending
    from week_bookings
    where is_active and release_id is not null
    group by environment_id, week_start, release_id
),

counted as (
    select
        g.environment_id,
        g.environment_name,
        g.environment_group,
        g.tier,
        g.week_start,
        strftime(g.week_start, '%G-W%V') as week_label,
        g.start_at,
        g.end_at,
        g.week_start >= cast($start_date as date)
        and g.week_start + interval 7 day <= cast($end_date as date)
            as is_complete,
        (
            select count(distinct r.release_id)
            from release_weeks as r
            where
                r.environment_id = g.environment_id
                and r.week_start = g.week_start
                and r.has_approved
        ) as n_releases,
        (
            select count(distinct r.release_id)
            from release_weeks as r
            where
                r.environment_id = g.environment_id
                and r.week_start = g.week_start
                and r.has_pending
                and not r.has_approved
        ) as n_pending_releases,
        coalesce(k.booked_hours, 0) as booked_hours,
        (
            select count(distinct b.booking_id)
            from week_bookings as b
            where
                b.environment_id = g.environment_id
                and b.week_start = g.week_start
                and b.is_active
        ) as n_bookings,
        (
            select count(distinct b.booking_id)
            from week_bookings as b
            where
                b.environment_id = g.environment_id
                and b.week_start = g.week_start
                and not b.is_active
        ) as n_excluded,
        w.as_of
    from grid as g
    cross join w
    left join booked as k
        on
            g.environment_id = k.environment_id
            and g.week_start = k.week_start
    order by g.environment_id, g.week_start
)

select * from counted
