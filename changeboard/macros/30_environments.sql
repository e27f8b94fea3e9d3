-- SQL macros: environment calendars, bookings, utilisation,
-- conflicts and the impact matrix.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- report_window(...): one row, the reporting window W = [w_start, w_end)
-- from local dates in p_reporting_tz (end exclusive), and as_of, the instant
-- that ends open-ended bookings (docs/metrics.md C10).
create or replace macro report_window(
    p_start_date, p_end_date, p_reporting_tz, p_as_of
) as table
select
    local_midnight(p_start_date, cast(p_reporting_tz as varchar)) as w_start,
    local_midnight(p_end_date, cast(p_reporting_tz as varchar)) as w_end,
    resolved_as_of(p_as_of) as as_of;

-- scoped_environments(...): one row per environment passing the environment
-- filters (NULL = all), which apply to the environment itself: its tier,
-- group, application_id and that application's portfolio, and with
-- p_environment_ids its id. NULL capacity = 1, NULL availability = always,
-- NULL timezone = UTC (docs/metrics.md environment_utilization,
-- booking_conflicts). The macros of bookings below take p_environment_ids
-- too, and pass it on: a table of some environments' conflicts sweeps only
-- their bookings (a year at a million changes: the pairs of every
-- environment 0.9-1.0 s, of the first ten 65-75 ms).
create or replace macro scoped_environments(
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := null
) as table
select
    e.environment_id,
    e.name,
    e.tier,
    e.environment_group,
    e.application_id,
    coalesce(e.capacity, 1) as capacity,
    coalesce(e.availability, 'always') as availability,
    coalesce(e.timezone, 'UTC') as timezone
from environments as e
left join applications as a on e.application_id = a.application_id
where
    keep(p_tiers, e.tier)
    and keep(p_environment_groups, e.environment_group)
    and keep(p_application_ids, e.application_id)
    and keep(p_portfolios, a.portfolio)
    and keep(p_environment_ids, e.environment_id);

-- window_bookings(...): one row per booking of a scoped environment, as
-- [start_at, end_at) clipped to W (docs/metrics.md environment_utilization,
-- booking_conflicts): active when its status is in p_statuses; NULL end_at
-- ends at min(W end, as_of) (is_open_ended when it starts before W ends);
-- end_at < start_at is invalid and ignored (is_invalid_span_in_window when
-- its span [end_at, start_at) meets W); is_in_window: valid with time in W.
-- Only bookings in W, open-ended or invalid in W are rows.
create or replace macro window_bookings(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := null
) as table
with clipped as (
    select
        b.booking_id,
        b.environment_id,
        b.release_id,
        b.team,
        b.phase,
        b.status,
        coalesce(
            list_contains(cast(p_statuses as varchar[]), b.status), false
        ) as is_active,
        coalesce(b.end_at < b.start_at, false) as is_invalid,
        b.end_at is null and b.start_at < w.w_end as is_open_ended,
        coalesce(b.end_at < w.w_end and b.start_at > w.w_start, false)
            as is_invalid_span_in_window,
        greatest(b.start_at, w.w_start) as clipped_start_at,
        least(coalesce(b.end_at, least(w.w_end, w.as_of)), w.w_end)
            as clipped_end_at
    from environment_bookings as b
    inner join scoped_environments(
        p_tiers, p_environment_groups, p_application_ids, p_portfolios,
        p_environment_ids := p_environment_ids
    ) as e on b.environment_id = e.environment_id
    cross join report_window(
        p_start_date, p_end_date, p_reporting_tz, p_as_of
    ) as w
    -- a cheap pre-filter on the bounds of W (constants, so it runs in the
    -- scan, before any join), implied by the where clause below: every
    -- row kept starts before W ends or ends (invalid) before W ends, and
    -- ends after W starts, is open-ended or starts (invalid) after it
    where
        (
            b.start_at < local_midnight(
                p_end_date, cast(p_reporting_tz as varchar)
            )
            or b.end_at < local_midnight(
                p_end_date, cast(p_reporting_tz as varchar)
            )
        )
        and (
            b.end_at > local_midnight(
                p_start_date, cast(p_reporting_tz as varchar)
            )
            or b.end_at is null
            or b.start_at > local_midnight(
                p_start_date, cast(p_reporting_tz as varchar)
            )
        )
)

select
    *,
    not is_invalid and clipped_start_at < clipped_end_at as is_in_window
from clipped
-- every consumer reads in-window, open-ended or invalid-in-window rows:
-- bookings wholly outside W are not carried
where
    (not is_invalid and clipped_start_at < clipped_end_at)
    or is_open_ended
    or (is_invalid and is_invalid_span_in_window);

-- derived_unplaced_bookings: the bookings of an environment that is not
-- loaded (environment_id in no environments row), whatever their dates and
-- status: a few or none, where the bookings are hundreds of thousands. A
-- derived view: a table in a published file (changeboard/db.py
-- materialize).
create or replace view derived_unplaced_bookings as
select
    b.booking_id,
    b.environment_id,
    b.status,
    b.start_at,
    b.end_at
from environment_bookings as b
where
    b.environment_id not in (select e.environment_id from environments as e);

-- unplaced_bookings(...): one row, n = the bookings of an environment that
-- is not loaded (environment_id in no environments row) with time in W as
-- window_bookings reads it (valid, [start_at, end_at) clipped to W not
-- empty, NULL end_at ending at min(W end, as_of)), of any status: no
-- environment's metric can place them (their tier, group, calendar and
-- capacity are unknown), so the totals report them as n_unclassified
-- (docs/metrics.md environment_utilization), whatever the filters.
-- p_statuses: only bookings of these statuses (a metric that counts only
-- active bookings, booking_conflicts_summary, leaves out no other); NULL:
-- any status. Read from derived_unplaced_bookings: a scan of every
-- booking was 5 ms of each summary at a million changes.
create or replace macro unplaced_bookings(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses := null
) as table
select count(*) as n
from derived_unplaced_bookings as b
cross join report_window(
    p_start_date, p_end_date, p_reporting_tz, p_as_of
) as w
where
    (
        p_statuses is null
        or coalesce(
            list_contains(cast(p_statuses as varchar[]), b.status), false
        )
    )
    and not coalesce(b.end_at < b.start_at, false)
    and greatest(b.start_at, w.w_start)
    < least(coalesce(b.end_at, least(w.w_end, w.as_of)), w.w_end);

-- booking_counts(...): one row per scoped environment with bookings, the
-- counts every environment metric reports (docs/metrics.md
-- environment_utilization, booking_conflicts): n = active bookings with time
-- in W, of which n_approved and n_pending by status; n_excluded = inactive
-- bookings with time in W; n_invalid, n_open_ended = such active bookings.
create or replace macro booking_counts(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := null
) as table
select
    environment_id,
    count(*) filter (where is_active and is_in_window) as n,
    count(*) filter (
        where is_active and is_in_window and status = 'approved'
    ) as n_approved,
    count(*) filter (
        where is_active and is_in_window and status = 'pending'
    ) as n_pending,
    count(*) filter (where not is_active and is_in_window) as n_excluded,
    count(*) filter (
        where is_active and is_invalid and is_invalid_span_in_window
    ) as n_invalid,
    count(*) filter (where is_active and is_open_ended) as n_open_ended
from window_bookings(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := p_environment_ids
)
group by environment_id;

-- zone_business_days(p_start_at, p_end_at, p_timezones): one row per
-- timezone of p_timezones and local date from p_start_at's to p_end_at's
-- in it: span_start_us and span_us, its business hours (Mon-Fri
-- 08:00-18:00 as instants: a clock change within them makes the span
-- shorter or longer; 0 on other days and on a weekday the clocks skipped,
-- such as Samoa's 30 December 2011), and before_us, the business time of
-- the listed days before it in that timezone. Every instant of a span has
-- the span's local date, so the clock at an instant reads its own date's
-- row.
create or replace macro zone_business_days(
    p_start_at, p_end_at, p_timezones
) as table
select
    timezone,
    cast(local_day as date) as local_date,
    span_start_us,
    span_us,
    coalesce(
        sum(span_us) over (
            partition by timezone
            order by local_day
            rows between unbounded preceding and 1 preceding
        ),
        0
    ) as before_us
from (
    select
        timezone,
        local_day,
        epoch_us(timezone(timezone, local_day + interval 8 hour))
            as span_start_us,
        case
            when
                isodow(local_day) <= 5
                -- a weekday the clocks skipped (its 08:00 and 18:00 are
                -- instants of another date) has no business hours
                and cast(
                    timezone(
                        timezone,
                        timezone(timezone, local_day + interval 8 hour)
                    ) as date
                ) = cast(local_day as date)
                and cast(
                    timezone(
                        timezone,
                        timezone(timezone, local_day + interval 18 hour)
                    ) as date
                ) = cast(local_day as date)
                then
                    epoch_us(timezone(timezone, local_day + interval 18 hour))
                    - epoch_us(timezone(timezone, local_day + interval 8 hour))
            else 0
        end as span_us
    from (
        select
            z.timezone,
            unnest(
                generate_series(
                    date_trunc('day', timezone(z.timezone, p_start_at)),
                    date_trunc('day', timezone(z.timezone, p_end_at)),
                    interval 1 day
                )
            ) as local_day
        from (
            select unnest(cast(p_timezones as varchar[])) as timezone
        ) as z
    ) as d
) as d;

-- business_clock_us(p_at, p_span_start_us, p_span_us, p_before_us): the
-- business time up to instant p_at, from the zone_business_days row of its
-- local date: the days before it, plus its own span's time before p_at.
-- It never runs back, so the business time of [x, y) is the clock at y
-- less the clock at x.
create or replace macro business_clock_us(
    p_at, p_span_start_us, p_span_us, p_before_us
) as
p_before_us
+ least(greatest(epoch_us(p_at) - p_span_start_us, 0), p_span_us);

-- booking_sweep(p_start_at, p_end_at, p_as_of, p_environment_ids): one row
-- per environment of the list p_environment_ids and span between two
-- consecutive instants of its active bookings (approved or pending)
-- while one is active: n_approved, n_active = the approved and the active
-- bookings over [start_at, end_at). Each booking counts as [start_at,
-- end_at) clipped to [p_start_at, p_end_at) (NULL bounds: none); one
-- without an end ends at min(p_end_at, p_as_of), so with no p_end_at it is
-- left out, as is one ending before it starts (window_bookings' rule). All
-- events at one instant net out first, so an end and a start at the same
-- instant (back-to-back) never overlap.
create or replace macro booking_sweep(
    p_start_at, p_end_at, p_as_of, p_environment_ids
) as table
with spans as (
    select
        environment_id,
        cast(status = 'approved' as integer) as d_approved,
        greatest(start_at, cast(p_start_at as timestamptz)) as start_at,
        least(
            coalesce(
                end_at,
                least(
                    cast(p_end_at as timestamptz),
                    cast(p_as_of as timestamptz)
                )
            ),
            cast(p_end_at as timestamptz)
        ) as end_at
    from environment_bookings
    where
        status in ('approved', 'pending')
        and environment_id in (
            select unnest(cast(p_environment_ids as varchar[]))
        )
),

instants as (
    select
        environment_id,
        event_at,
        sum(d_approved) as d_approved,
        sum(d_active) as d_active
    from (
        select
            environment_id,
            start_at as event_at,
            d_approved,
            1 as d_active
        from spans
        where start_at < end_at
        union all
        select
            environment_id,
            end_at as event_at,
            -d_approved as d_approved,
            -1 as d_active
        from spans
        where start_at < end_at
    ) as e
    group by environment_id, event_at
),

swept as (
    select
        environment_id,
        event_at as start_at,
        lead(event_at) over by_time as end_at,
        sum(d_approved) over by_time as n_approved,
        sum(d_active) over by_time as n_active
    from instants
    window by_time as (
        partition by environment_id
        order by event_at
        rows between unbounded preceding and current row
    )
)

select
    environment_id,
    start_at,
    end_at,
    cast(n_approved as integer) as n_approved,
    cast(n_active as integer) as n_active
from swept
where n_active > 0;

-- derived_booking_segments: booking_sweep of every loaded environment over
-- all its bookings with an end, whatever the dates, each segment with
-- calendar_us, its time in its environment's calendar (all of it for an
-- `always` environment, its business hours for a business_hours one).
-- Stored in start order, so a window reads only its part. A derived view:
-- a table in a published file (changeboard/db.py materialize), so
-- environment_usage does not sort a year's bookings, nor find each one's
-- business hours, on each read.
create or replace view derived_booking_segments as
with segments as (
    select
        s.environment_id,
        s.start_at,
        s.end_at,
        s.n_approved,
        s.n_active,
        e.is_business,
        e.timezone,
        case
            when e.is_business
                then cast(timezone(e.timezone, s.start_at) as date)
        end as start_date,
        case
            when e.is_business
                then cast(timezone(e.timezone, s.end_at) as date)
        end as end_date
    from
        booking_sweep(
            null, null, null,
            (select list(environment_id) from environments)
        ) as s
    inner join (
        select
            environment_id,
            coalesce(availability, 'always') = 'business_hours'
                as is_business,
            coalesce(timezone, 'UTC') as timezone
        from environments
    ) as e on s.environment_id = e.environment_id
),

business_days as (
    select *
    from
        zone_business_days(
            (select min(start_at) from segments where is_business),
            (select max(end_at) from segments where is_business),
            (select list(distinct timezone) from segments where is_business)
        )
)

select
    s.environment_id,
    s.start_at,
    s.end_at,
    s.n_approved,
    s.n_active,
    case
        when s.is_business
            then
                business_clock_us(
                    s.end_at, de.span_start_us, de.span_us, de.before_us
                )
                - business_clock_us(
                    s.start_at, ds.span_start_us, ds.span_us, ds.before_us
                )
        else epoch_us(s.end_at) - epoch_us(s.start_at)
    end as calendar_us
from segments as s
left join business_days as ds
    on s.timezone = ds.timezone and s.start_date = ds.local_date
left join business_days as de
    on s.timezone = de.timezone and s.end_date = de.local_date
order by s.start_at, s.environment_id;

-- environment_usage(...): one row per scoped environment, ordered by
-- environment_id: available, booked, slot, capacity and demand hours in W and
-- their ratios (docs/metrics.md environment_utilization). Available time A = W
-- within the calendar (always, or business_hours: Mon-Fri 08:00-18:00 per
-- local date in the environment's timezone) minus the blackout_windows of
-- p_unavailable_kinds that apply (environment_id NULL or equal, and
-- application_id NULL or equal). Approved and pending bookings are active;
-- utilization = |union of approved within A| / |A|; slot_utilization =
-- integral over A of min(approved, capacity) / (capacity * |A|);
-- demand_ratio = active booking time within A / (capacity * |A|). |A| = 0
-- gives NULL ratios. n = n_bookings (approved) + n_pending.
create or replace macro environment_usage(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_tiers,
    p_environment_groups, p_application_ids, p_portfolios, p_unavailable_kinds
) as table
with w as (
    select * from report_window(
        p_start_date, p_end_date, p_reporting_tz, p_as_of
    )
),

-- env_key: a small integer per environment, the key of the blocked spans'
-- sweep and of the sums (sorting and hashing it is cheaper than the id)
scoped as (
    select
        *,
        availability = 'business_hours' as is_business,
        row_number() over (order by environment_id) as env_key
    from scoped_environments(
        p_tiers, p_environment_groups, p_application_ids, p_portfolios
    )
),

counts as (
    select *
    from booking_counts(
        p_start_date, p_end_date, p_reporting_tz, p_as_of,
        ['approved', 'pending'],
        p_tiers, p_environment_groups, p_application_ids, p_portfolios
    )
),

-- an environment's calendar clock counts the microseconds of its calendar
-- up to an instant: every one (always), or those of its business hours
-- (business_hours): the calendar time of [x, y) is the clock at y less the
-- clock at x, and as the clock never runs back, the calendar time of the
-- overlap of two spans is the lesser end's clock less the greater start's.
-- Business hours are Mon-Fri 08:00-18:00 per local date, as instants (a
-- clock change within them makes that day's span shorter or longer); the
-- clock at t is the business time of the local days of W before t's, plus
-- that of t's own day up to t. Each day's span, and the business time
-- before it, once per timezone (every environment of one timezone has the
-- same calendar).
business_days as (
    select *
    from
        zone_business_days(
            (select w_start from w),
            (select w_end from w),
            (
                select list(distinct timezone)
                from scoped
                where is_business
            )
        )
),

-- blackout windows of the kinds that meet W, before they meet the
-- environments they apply to
blackouts_in_window as (
    select
        b.environment_id,
        b.application_id,
        greatest(b.start_at, w.w_start) as start_at,
        least(b.end_at, w.w_end) as end_at
    from blackout_windows as b
    cross join w
    where
        list_contains(cast(p_unavailable_kinds as varchar[]), b.kind)
        and b.start_at < w.w_end
        and b.end_at > w.w_start
),

-- each blackout with every scoped environment it applies to: its own
-- environment (of its application, if it names one too), every one of its
-- application, or every one; three equality joins, not one join on either
unavailable as (
    select
        e.env_key,
        e.environment_id,
        b.start_at,
        b.end_at
    from blackouts_in_window as b
    inner join scoped as e
        on
            b.environment_id = e.environment_id
            and (
                b.application_id is null
                or b.application_id = e.application_id
            )
    where b.start_at < b.end_at
    union all
    select
        e.env_key,
        e.environment_id,
        b.start_at,
        b.end_at
    from blackouts_in_window as b
    inner join scoped as e on b.application_id = e.application_id
    where b.environment_id is null and b.start_at < b.end_at
    union all
    select
        e.env_key,
        e.environment_id,
        b.start_at,
        b.end_at
    from blackouts_in_window as b
    cross join scoped as e
    where
        b.environment_id is null
        and b.application_id is null
        and b.start_at < b.end_at
),

-- its unavailable time in W as disjoint spans (where one or more
-- blackouts apply): available = calendar time - calendar time in them
blocked as (
    select
        env_key,
        environment_id,
        start_at,
        end_at
    from (
        select
            env_key,
            environment_id,
            event_at as start_at,
            lead(event_at) over by_time as end_at,
            sum(d_blocked) over by_time as n_blocked
        from (
            select
                env_key,
                environment_id,
                start_at as event_at,
                1 as d_blocked
            from unavailable
            union all
            select
                env_key,
                environment_id,
                end_at as event_at,
                -1 as d_blocked
            from unavailable
        ) as u
        window by_time as (
            partition by env_key
            order by event_at
            rows between unbounded preceding and current row
        )
    ) as b
    where n_blocked > 0 and start_at < end_at
),

-- environments with an active open-ended booking: it ends at min(W end,
-- as_of), which the stored segments cannot know, so their segments are
-- swept here over W, as derived_booking_segments sweeps the others'
live as (
    select environment_id
    from counts
    where n_open_ended > 0
),

-- the stored segments that meet W (the bounds of W as constants first, so
-- the scan skips the others), clipped to it; one inside W keeps its stored
-- calendar time. Read twice, not kept.
stored as not materialized (
    select
        s.environment_id,
        greatest(s.start_at, w.w_start) as start_at,
        least(s.end_at, w.w_end) as end_at,
        s.n_approved,
        s.n_active,
        s.start_at >= w.w_start and s.end_at <= w.w_end as is_inside,
        s.calendar_us
    from derived_booking_segments as s
    cross join w
    where
        s.start_at < local_midnight(
            p_end_date, cast(p_reporting_tz as varchar)
        )
        and s.end_at > local_midnight(
            p_start_date, cast(p_reporting_tz as varchar)
        )
        and s.environment_id not in (select environment_id from live)
),

-- the live segments of the environments swept here
live_segments as (
    select *
    from
        booking_sweep(
            (select w_start from w),
            (select w_end from w),
            (select as_of from w),
            coalesce((select list(environment_id) from live), [])
        )
),

-- the spans whose calendar time is worked out here, with its sign: each
-- segment not wholly inside W (clipped) or swept live (+), less each
-- segment's overlap with each blocked span (-), and W (+) less each blocked
-- span (-): the available time within each and within W
pieces as (
    select
        'segment' as kind,
        environment_id,
        start_at,
        end_at,
        1 as sign,
        n_approved,
        n_active
    from stored
    where not is_inside
    union all
    select
        'segment' as kind,
        environment_id,
        start_at,
        end_at,
        1 as sign,
        n_approved,
        n_active
    from live_segments
    union all
    select
        'segment' as kind,
        s.environment_id,
        greatest(s.start_at, b.start_at) as start_at,
        least(s.end_at, b.end_at) as end_at,
        -1 as sign,
        s.n_approved,
        s.n_active
    from (
        select
            environment_id,
            start_at,
            end_at,
            n_approved,
            n_active
        from stored
        union all
        select * from live_segments
    ) as s
    inner join blocked as b
        on
            s.environment_id = b.environment_id
            and b.start_at < s.end_at
            and b.end_at > s.start_at
    union all
    select
        'window' as kind,
        e.environment_id,
        w.w_start as start_at,
        w.w_end as end_at,
        1 as sign,
        null as n_approved,
        null as n_active
    from scoped as e
    cross join w
    union all
    select
        'window' as kind,
        environment_id,
        start_at,
        end_at,
        -1 as sign,
        null as n_approved,
        null as n_active
    from blocked
),

-- each piece's calendar time, from the calendar clock at its ends; each
-- segment inside W, its stored calendar time
timed as (
    select
        p.env_key,
        p.kind,
        p.capacity,
        p.n_approved,
        p.n_active,
        p.sign * (
            case
                when p.is_business
                    then
                        business_clock_us(
                            p.end_at, de.span_start_us, de.span_us,
                            de.before_us
                        )
                        - business_clock_us(
                            p.start_at, ds.span_start_us, ds.span_us,
                            ds.before_us
                        )
                else epoch_us(p.end_at) - epoch_us(p.start_at)
            end
        ) as us
    from (
        select
            p.*,
            e.env_key,
            e.capacity,
            e.is_business,
            e.timezone,
            -- local dates only where they are read
            case
                when e.is_business
                    then cast(timezone(e.timezone, p.start_at) as date)
            end as start_date,
            case
                when e.is_business
                    then cast(timezone(e.timezone, p.end_at) as date)
            end as end_date
        from pieces as p
        inner join scoped as e on p.environment_id = e.environment_id
    ) as p
    left join business_days as ds
        on p.timezone = ds.timezone and p.start_date = ds.local_date
    left join business_days as de
        on p.timezone = de.timezone and p.end_date = de.local_date
    union all
    select
        e.env_key,
        'segment' as kind,
        e.capacity,
        s.n_approved,
        s.n_active,
        s.calendar_us as us
    from stored as s
    inner join scoped as e on s.environment_id = e.environment_id
    where s.is_inside
),

usage as (
    select
        env_key,
        -- whole microseconds beside the seconds: is_overbooked compares
        -- these, exactly (as floats, a demand of exactly capacity x
        -- available time can come out a rounding above it)
        sum(us) filter (where kind = 'window') as available_us,
        coalesce(
            sum(us * n_active) filter (where kind = 'segment'), 0
        ) as demand_us,
        sum(us) filter (where kind = 'window') / 1e6 as available_seconds,
        coalesce(
            sum(us) filter (where kind = 'segment' and n_approved > 0), 0
        ) / 1e6 as booked_seconds,
        coalesce(
            sum(us * least(n_approved, capacity))
                filter (where kind = 'segment'), 0
        ) / 1e6 as slot_seconds,
        coalesce(
            sum(us * n_active) filter (where kind = 'segment'), 0
        ) / 1e6 as demand_seconds
    from timed
    group by env_key
    -- an environment without available time has no row
    having sum(us) filter (where kind = 'window') > 0
)

select
    e.environment_id,
    e.name,
    e.tier,
    e.environment_group,
    e.capacity,
    e.availability,
    coalesce(u.available_seconds, 0) / 3600 as available_hours,
    coalesce(u.booked_seconds, 0) / 3600 as booked_hours,
    coalesce(u.slot_seconds, 0) / 3600 as slot_hours,
    e.capacity * coalesce(u.available_seconds, 0) / 3600 as capacity_hours,
    coalesce(u.demand_seconds, 0) / 3600 as demand_hours,
    u.booked_seconds / nullif(u.available_seconds, 0) as utilization,
    u.slot_seconds / nullif(e.capacity * u.available_seconds, 0)
        as slot_utilization,
    u.demand_seconds / nullif(e.capacity * u.available_seconds, 0)
        as demand_ratio,
    -- idle: available but never booked; over-booked: demand above capacity
    coalesce(u.available_seconds, 0) > 0
    and coalesce(u.booked_seconds, 0) = 0 as is_idle,
    coalesce(u.demand_us > e.capacity * u.available_us, false)
        as is_overbooked,
    coalesce(c.n, 0) as n,
    coalesce(c.n_approved, 0) as n_bookings,
    coalesce(c.n_pending, 0) as n_pending,
    coalesce(c.n_excluded, 0) as n_excluded,
    coalesce(c.n_invalid, 0) as n_invalid,
    coalesce(c.n_open_ended, 0) as n_open_ended,
    w.as_of
from scoped as e
cross join w
left join usage as u on e.env_key = u.env_key
left join counts as c on e.environment_id = c.environment_id
order by e.environment_id;

-- environment_utilization_rollup(...): docs/metrics.md environment_utilization
-- rolled up by C7 over the environment_usage rows, grouping sets
-- ((environment_group), ()): the is_total row is every environment (one row
-- even with none; sums of no environments are 0, as_of from report_window),
-- the others one per environment_group (NULL its own row). Ratios of sums,
-- never a mean of ratios; no available time gives NULL. n_idle, n_overbooked:
-- environments idle or overbooked; n..n_open_ended: sums over environments.
create or replace macro environment_utilization_rollup(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_tiers,
    p_environment_groups, p_application_ids, p_portfolios,
    p_unavailable_kinds
) as table
select
    grouping(environment_group) > 0 as is_total,
    environment_group,
    -- one environment_usage row per environment: count(*), no distinct
    count(*) as n_environments,
    coalesce(sum(available_hours), 0) as available_hours,
    coalesce(sum(booked_hours), 0) as booked_hours,
    coalesce(sum(slot_hours), 0) as slot_hours,
    coalesce(sum(capacity_hours), 0) as capacity_hours,
    coalesce(sum(demand_hours), 0) as demand_hours,
    sum(booked_hours) / nullif(sum(available_hours), 0) as utilization,
    sum(slot_hours)
    / nullif(sum(capacity_hours), 0) as slot_utilization,
    sum(demand_hours) / nullif(sum(capacity_hours), 0) as demand_ratio,
    count(*) filter (where is_idle) as n_idle,
    count(*) filter (where is_overbooked) as n_overbooked,
    coalesce(cast(sum(n) as bigint), 0) as n,
    coalesce(cast(sum(n_bookings) as bigint), 0) as n_bookings,
    coalesce(cast(sum(n_pending) as bigint), 0) as n_pending,
    coalesce(cast(sum(n_excluded) as bigint), 0) as n_excluded,
    coalesce(cast(sum(n_invalid) as bigint), 0) as n_invalid,
    coalesce(cast(sum(n_open_ended) as bigint), 0) as n_open_ended,
    -- bookings of environments not loaded: the total's alone (no group or
    -- environment can hold them)
    case
        when grouping(environment_group) > 0
            then (
                select u.n
                from unplaced_bookings(
                    p_start_date, p_end_date, p_reporting_tz, p_as_of
                ) as u
            )
        else 0
    end as n_unclassified,
    (
        select as_of
        from report_window(
            p_start_date, p_end_date, p_reporting_tz, p_as_of
        )
    ) as as_of
from
    environment_usage(
        p_start_date, p_end_date, p_reporting_tz, p_as_of, p_tiers,
        p_environment_groups, p_application_ids, p_portfolios,
        p_unavailable_kinds
    )
group by grouping sets ((environment_group), ());

-- booking_segments(...): one row per segment of a scoped environment's sweep
-- over its active bookings within W, between consecutive event instants:
-- n_active = c(t), the active bookings at t, with capacity (docs/metrics.md
-- booking_conflicts). All events at one instant net out first, so an end and
-- a start at the same instant (back-to-back) never count as overlapping.
-- Calendars and blackouts do not apply.
create or replace macro booking_segments(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := null
) as table
with events as (
    select
        environment_id,
        clipped_start_at as event_at,
        1 as delta
    from window_bookings(
        p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
        p_tiers, p_environment_groups, p_application_ids, p_portfolios,
        p_environment_ids := p_environment_ids
    )
    where is_active and is_in_window
    union all
    select
        environment_id,
        clipped_end_at as event_at,
        -1 as delta
    from window_bookings(
        p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
        p_tiers, p_environment_groups, p_application_ids, p_portfolios,
        p_environment_ids := p_environment_ids
    )
    where is_active and is_in_window
),

instants as (
    select
        environment_id,
        event_at,
        sum(delta) as delta
    from events
    group by environment_id, event_at
),

swept as (
    select
        environment_id,
        event_at as start_at,
        lead(event_at) over by_time as end_at,
        sum(delta) over by_time as n_active
    from instants
    window by_time as (partition by environment_id order by event_at)
)

select
    s.environment_id,
    e.capacity,
    s.start_at,
    s.end_at,
    s.n_active,
    (epoch_us(s.end_at) - epoch_us(s.start_at)) / 1e6 as seconds
from swept as s
inner join scoped_environments(
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := p_environment_ids
) as e on s.environment_id = e.environment_id
where s.end_at is not null;

-- conflicting_booking_pairs(...): one row per pair of active bookings in
-- conflict on a scoped environment, unordered (docs/metrics.md
-- booking_conflicts): their overlap within W meets a booking_segments
-- segment with n_active > capacity (with capacity 1, every overlapping
-- pair). booking_id_a < booking_id_b, each with its status, release_id,
-- team and phase (status_a, release_id_a, ...); the overlap is clipped to
-- W.
create or replace macro conflicting_booking_pairs(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := null
) as table
with ranked as (
    select
        environment_id,
        booking_id,
        status,
        release_id,
        team,
        phase,
        clipped_start_at,
        clipped_end_at,
        row_number() over (
            partition by environment_id
            order by clipped_start_at, booking_id
        ) as start_rank
    from window_bookings(
        p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
        p_tiers, p_environment_groups, p_application_ids, p_portfolios,
        p_environment_ids := p_environment_ids
    )
    where is_active and is_in_window
),

-- overlapping pairs without a self-join: ranked by start, booking r overlaps
-- exactly the later-ranked bookings that start before r ends
reach_points as (
    select
        environment_id,
        booking_id,
        clipped_end_at as point_at,
        0 as is_start
    from ranked
    union all
    select
        environment_id,
        booking_id,
        clipped_start_at as point_at,
        1 as is_start
    from ranked
),

-- for each booking, how many bookings start strictly before it ends
reaches as (
    select
        booking_id,
        count(*) filter (where is_start = 1) over (
            partition by environment_id
            order by point_at, is_start
            rows between unbounded preceding and current row
        ) as n_started_before_end
    from reach_points
    qualify is_start = 0
),

overlapping_pairs as (
    select
        r.environment_id,
        least(r.booking_id, o.booking_id) as booking_id_a,
        greatest(r.booking_id, o.booking_id) as booking_id_b,
        if(r.booking_id < o.booking_id, r.status, o.status) as status_a,
        if(r.booking_id < o.booking_id, o.status, r.status) as status_b,
        if(r.booking_id < o.booking_id, r.release_id, o.release_id)
            as release_id_a,
        if(r.booking_id < o.booking_id, o.release_id, r.release_id)
            as release_id_b,
        if(r.booking_id < o.booking_id, r.team, o.team) as team_a,
        if(r.booking_id < o.booking_id, o.team, r.team) as team_b,
        if(r.booking_id < o.booking_id, r.phase, o.phase) as phase_a,
        if(r.booking_id < o.booking_id, o.phase, r.phase) as phase_b,
        o.clipped_start_at as overlap_start_at,
        least(r.clipped_end_at, o.clipped_end_at) as overlap_end_at
    from (
        select
            k.*,
            unnest(
                range(k.start_rank + 1, h.n_started_before_end + 1)
            ) as other_rank
        from ranked as k
        inner join reaches as h on k.booking_id = h.booking_id
    ) as r
    inner join ranked as o
        on
            r.environment_id = o.environment_id
            and r.other_rank = o.start_rank
),

over_capacity as (
    select
        environment_id,
        start_at,
        end_at
    from booking_segments(
        p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
        p_tiers, p_environment_groups, p_application_ids, p_portfolios,
        p_environment_ids := p_environment_ids
    )
    where n_active > capacity
)

-- the over-capacity segments are disjoint: the pair's overlap meets one iff
-- the last segment starting before the overlap ends ends after it starts
select
    p.environment_id,
    p.booking_id_a,
    p.booking_id_b,
    p.status_a,
    p.status_b,
    p.release_id_a,
    p.release_id_b,
    p.team_a,
    p.team_b,
    p.phase_a,
    p.phase_b,
    p.overlap_start_at,
    p.overlap_end_at
from overlapping_pairs as p
asof join over_capacity as s
    on
        p.environment_id = s.environment_id
        and p.overlap_end_at > s.start_at
where s.end_at > p.overlap_start_at;

-- release_label(id, name): a release as the pages name one, 'Name (id)';
-- the id alone when it has no name or the name is the id.
create or replace macro release_label(p_release_id, p_name) as
case
    when p_name is null or p_name = p_release_id then p_release_id
    else p_name || ' (' || p_release_id || ')'
end;

-- booking_conflict_pairs(...): one row per conflicting_booking_pairs pair,
-- ordered by environment_id, overlap start and ids, with the environment's
-- name (environment_name), both bookings'
-- status and release (its id, and as the pages name it: release_label),
-- team and phase (team_a, phase_a, ...: who to call about the clash),
-- overlap hours, the environment's capacity and its
-- booking_counts n, n_excluded, n_invalid, n_open_ended (docs/metrics.md
-- booking_conflicts).
create or replace macro booking_conflict_pairs(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := null
) as table
select
    e.name as environment_name,
    p.environment_id,
    p.booking_id_a,
    p.booking_id_b,
    p.status_a,
    p.status_b,
    p.release_id_a,
    p.release_id_b,
    release_label(p.release_id_a, ra.name) as release_a,
    release_label(p.release_id_b, rb.name) as release_b,
    p.team_a,
    p.team_b,
    p.phase_a,
    p.phase_b,
    p.overlap_start_at,
    p.overlap_end_at,
    (epoch_us(p.overlap_end_at) - epoch_us(p.overlap_start_at)) / 3.6e9
        as overlap_hours,
    e.capacity,
    c.n,
    c.n_excluded,
    c.n_invalid,
    c.n_open_ended,
    w.as_of
from conflicting_booking_pairs(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := p_environment_ids
) as p
left join releases as ra on p.release_id_a = ra.release_id
left join releases as rb on p.release_id_b = rb.release_id
inner join scoped_environments(
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := p_environment_ids
) as e on p.environment_id = e.environment_id
inner join booking_counts(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := p_environment_ids
) as c on p.environment_id = c.environment_id
cross join report_window(
    p_start_date, p_end_date, p_reporting_tz, p_as_of
) as w
order by
    p.environment_id, p.overlap_start_at, p.booking_id_a, p.booking_id_b;

-- environment_conflicts(...): one row per scoped environment with an active
-- booking in W (n > 0), or with an open-ended or invalid active one, ordered
-- by environment_id (docs/metrics.md booking_conflicts per environment):
-- n_conflict_pairs: its conflicting_booking_pairs; n_conflicted_bookings:
-- distinct bookings in them; conflict_hours: time within W with c(t) >
-- capacity; excess_booking_hours: integral within W of (c(t) - capacity)+;
-- n, n_excluded, n_invalid, n_open_ended: its booking_counts.
-- Counted from one sweep of the active bookings, without listing the pairs
-- where capacity is 1 (every overlapping pair conflicts: ranked by start,
-- booking r overlaps the later bookings starting before it ends); a booking
-- is in a conflicting pair iff its span meets time over capacity; with a
-- capacity above 1 the pairs of such bookings whose overlap meets time over
-- capacity are counted by a join per environment and UTC day (a pair meets
-- on the day the later one starts). Equality joins on the
-- sweep's instants, no asof join (the planner turns an asof join with a
-- small estimate into a nested loop).
create or replace macro environment_conflicts(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
    p_tiers, p_environment_groups, p_application_ids, p_portfolios,
    p_environment_ids := null
) as table
with w as (
    select * from report_window(
        p_start_date, p_end_date, p_reporting_tz, p_as_of
    )
),

-- env_key: a small integer per environment, the sweeps' first sort key
scoped as (
    select
        *,
        row_number() over (order by environment_id) as env_key
    from scoped_environments(
        p_tiers, p_environment_groups, p_application_ids, p_portfolios,
        p_environment_ids := p_environment_ids
    )
),

bookings as (
    select
        environment_id,
        booking_id,
        status,
        is_active,
        is_invalid,
        is_in_window,
        is_invalid_span_in_window,
        is_open_ended,
        clipped_start_at,
        clipped_end_at
    from window_bookings(
        p_start_date, p_end_date, p_reporting_tz, p_as_of, p_statuses,
        p_tiers, p_environment_groups, p_application_ids, p_portfolios,
        p_environment_ids := p_environment_ids
    )
),

-- booking_counts, from the bookings read once
counts as (
    select
        environment_id,
        count(*) filter (where is_active and is_in_window) as n,
        count(*) filter (where not is_active and is_in_window) as n_excluded,
        count(*) filter (
            where is_active and is_invalid and is_invalid_span_in_window
        ) as n_invalid,
        count(*) filter (where is_active and is_open_ended) as n_open_ended
    from bookings
    group by environment_id
),

active as (
    select
        e.env_key,
        e.capacity,
        b.booking_id,
        b.clipped_start_at as start_at,
        b.clipped_end_at as end_at
    from bookings as b
    inner join scoped as e on b.environment_id = e.environment_id
    where b.is_active and b.is_in_window
),

-- all events at one instant net out first: an end and a start at the same
-- instant (back-to-back) never overlap
instants as (
    select
        env_key,
        event_at,
        cast(sum(delta) as integer) as delta,
        cast(sum(greatest(delta, 0)) as integer) as n_starts,
        cast(sum(greatest(-delta, 0)) as integer) as n_ends
    from (
        select
            env_key,
            start_at as event_at,
            1 as delta
        from active
        union all
        select
            env_key,
            end_at as event_at,
            -1 as delta
        from active
    ) as e
    group by env_key, event_at
),

-- c(t) = n_active from each instant to the next; n_started_before: the
-- bookings starting strictly before the instant, plus those of every
-- environment before this one (single_pairs takes that offset off).
-- One running sum over every environment in (env_key, event_at) order, not
-- a window partitioned by environment (1,035 partitions at a million
-- changes cost about a third more), on integer counts: each environment's
-- deltas sum to 0 (every booking ends), so c(t) is its own, and its last
-- instant, whose lead is the next environment's first, has c(t) = 0, never
-- over a capacity (>= 1)
swept as (
    select
        env_key,
        event_at as start_at,
        lead(event_at) over by_time as end_at,
        sum(delta) over by_time as n_active,
        sum(n_starts) over by_time - n_starts as n_started_before,
        n_ends
    from instants
    window by_time as (order by env_key, event_at)
),

-- over_us: the segment's time over capacity (c(t) > capacity), in
-- microseconds; over_before: that time before the instant (plus that of the
-- environments before this one, one running sum in (env_key, event_at)
-- order), so the time over capacity within [x, y) of two instants of one
-- environment is over_before(y) - over_before(x)
marked as (
    select
        s.env_key,
        s.start_at as event_at,
        s.n_active - e.capacity as n_excess,
        s.n_started_before,
        s.n_ends,
        case
            when s.end_at is not null and s.n_active > e.capacity
                then epoch_us(s.end_at) - epoch_us(s.start_at)
            else 0
        end as over_us
    from swept as s
    inner join scoped as e on s.env_key = e.env_key
),

marks as (
    select
        env_key,
        event_at,
        n_excess,
        n_started_before,
        n_ends,
        over_us,
        sum(over_us) over (order by env_key, event_at) - over_us as over_before
    from marked
),

conflict_time as (
    select
        env_key,
        sum(over_us) / 1e6 as conflict_seconds,
        sum(n_excess * over_us) / 1e6 as excess_seconds
    from marks
    where over_us > 0
    group by env_key
),

-- each active booking with the time over capacity before its start and
-- before its end (both are instants of the sweep)
booking_marks as (
    select
        a.env_key,
        a.capacity,
        a.booking_id,
        a.start_at,
        a.end_at,
        s.over_before as over_before_start,
        f.over_before as over_before_end
    from active as a
    inner join marks as s
        on a.env_key = s.env_key and a.start_at = s.event_at
    inner join marks as f
        on a.env_key = f.env_key and a.end_at = f.event_at
),

-- a booking is in a conflicting pair iff its span meets time over capacity
-- (there another booking is active with it)
conflicted as (
    select *
    from booking_marks
    where over_before_end > over_before_start
),

conflicted_counts as (
    select
        env_key,
        count(*) as n_conflicted_bookings
    from conflicted
    group by env_key
),

-- capacity 1: every overlapping pair conflicts. Ranked by (start, id),
-- booking r overlaps the later-ranked bookings starting before it ends:
-- n_started_before(r end) - rank(r), and the ranks sum to n(n+1)/2. The
-- starts of the environments before this one, in every n_started_before,
-- are its least (that of its first instant) and come off once per end
single_pairs as (
    select
        s.env_key,
        cast(
            sum(s.n_ends * s.n_started_before)
            - min(s.n_started_before) * sum(s.n_ends) as bigint
        ) as n_started_before_ends
    from marks as s
    inner join scoped as e on s.env_key = e.env_key
    where e.capacity = 1
    group by s.env_key
),

conflicted_shared as (
    select *
    from conflicted
    where capacity > 1
),

-- capacity > 1: the overlapping pairs of conflicted bookings whose overlap
-- meets time over capacity. With a ranked before b by (start, id), the
-- overlap runs from b's start to the earlier end, and as the time over
-- capacity before an instant only grows, it meets such time iff
-- over_before(a end) > over_before(b start) (which also makes them
-- overlap). Each a is listed on every UTC day its span meets and b on the
-- day it starts, so a pair meets on exactly one day: the join compares the
-- bookings of one environment and day, not all of an environment's pairs
multi_pairs as (
    select
        b.env_key,
        count(*) as n_conflict_pairs
    from (
        select
            *,
            epoch_us(start_at) // 86400000000 as start_day
        from conflicted_shared
    ) as b
    inner join (
        select
            env_key,
            booking_id,
            start_at,
            over_before_end,
            unnest(
                range(
                    epoch_us(start_at) // 86400000000,
                    (epoch_us(end_at) - 1) // 86400000000 + 1
                )
            ) as day
        from conflicted_shared
    ) as a
        on
            a.env_key = b.env_key
            and a.day = b.start_day
            and (
                a.start_at < b.start_at
                or (a.start_at = b.start_at and a.booking_id < b.booking_id)
            )
            and a.over_before_end > b.over_before_start
    group by b.env_key
),

active_counts as (
    select
        env_key,
        count(*) as n_active_bookings
    from active
    group by env_key
)

select
    e.environment_id,
    e.name,
    e.capacity,
    coalesce(
        m.n_conflict_pairs,
        sp.n_started_before_ends
        - a.n_active_bookings * (a.n_active_bookings + 1) // 2,
        0
    ) as n_conflict_pairs,
    coalesce(b.n_conflicted_bookings, 0) as n_conflicted_bookings,
    coalesce(t.conflict_seconds, 0) / 3600 as conflict_hours,
    coalesce(t.excess_seconds, 0) / 3600 as excess_booking_hours,
    c.n,
    c.n_excluded,
    c.n_invalid,
    c.n_open_ended,
    w.as_of
from scoped as e
inner join counts as c on e.environment_id = c.environment_id
cross join w
left join active_counts as a on e.env_key = a.env_key
left join single_pairs as sp on e.env_key = sp.env_key
left join multi_pairs as m on e.env_key = m.env_key
left join conflicted_counts as b on e.env_key = b.env_key
left join conflict_time as t on e.env_key = t.env_key
where c.n > 0 or c.n_invalid > 0 or c.n_open_ended > 0
order by e.environment_id;

-- impact_releases(...): one row per row of the environment impact matrix
-- (docs/metrics.md environment_impact_matrix): releases not cancelled and not
-- enterprise (NULL release_type is not enterprise) whose go_live_at =
-- coalesce(actual_release_at, planned_release_at) is in W, read as local
-- dates in p_reporting_tz; the application filters apply to the release's
-- application_id and that application's portfolio.
create or replace macro impact_releases(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids, p_portfolios
) as table
select
    r.release_id,
    r.name as release_name,
    r.release_type,
    r.parent_release_id,
    r.application_id,
    r.status as release_status,
    coalesce(r.actual_release_at, r.planned_release_at) as go_live_at,
    r.actual_release_at is not null as is_live
from releases as r
left join applications as a on r.application_id = a.application_id
cross join report_window(
    p_start_date, p_end_date, p_reporting_tz, null
) as w
where
    r.status <> 'cancelled'
    and coalesce(r.release_type, '') <> 'enterprise'
    and keep(p_application_ids, r.application_id)
    and keep(p_portfolios, a.portfolio)
    and coalesce(r.actual_release_at, r.planned_release_at) >= w.w_start
    and coalesce(r.actual_release_at, r.planned_release_at) < w.w_end;

-- impact_bookings(...): one row per booking, whenever it is (not clipped to
-- W), of an impact_releases release on an environment kept by the tier and
-- group filters (a booking of an environment missing from environments is
-- kept unless one of those filters is set), with its environment and flags:
-- is_cancelled; is_empty (end_at = start_at); is_invalid (end_at <
-- start_at); is_counted = none of these (NULL end_at counts: open-ended).
create or replace macro impact_bookings(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_tiers, p_environment_groups
) as table
select
    r.release_id,
    r.release_name,
    r.application_id,
    r.go_live_at,
    b.booking_id,
    b.environment_id,
    e.name as environment_name,
    e.environment_group,
    e.tier,
    b.status,
    b.start_at,
    b.end_at,
    b.status = 'cancelled' as is_cancelled,
    coalesce(b.end_at = b.start_at, false) as is_empty,
    coalesce(b.end_at < b.start_at, false) as is_invalid,
    b.status <> 'cancelled'
    and coalesce(b.end_at > b.start_at, true) as is_counted
from impact_releases(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids, p_portfolios
) as r
inner join environment_bookings as b on r.release_id = b.release_id
left join environments as e on b.environment_id = e.environment_id
where
    keep(p_tiers, e.tier)
    and keep(p_environment_groups, e.environment_group);

-- impact_cells(...): one row per (release, environment) cell of the
-- environment impact matrix with a counted impact_bookings booking:
-- cell_status = first present of approved > pending > rejected; n_bookings
-- (> 1 shows an ellipsis) and per status; is_impacted = an approved or
-- pending booking (a rejected-only cell counts in no total).
create or replace macro impact_cells(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_tiers, p_environment_groups
) as table
-- the releases of W read once (for the bookings and for the cells'
-- attributes); aggregated on the (release, environment) keys alone, the
-- release's and the environment's attributes joined to the cells afterwards.
-- The bookings are impact_bookings' counted ones (is_counted), joined here
-- to the releases already read rather than through impact_bookings, which
-- would read them again
with releases_in_window as materialized (
    select
        release_id,
        release_name,
        application_id,
        go_live_at
    from impact_releases(
        p_start_date, p_end_date, p_reporting_tz, p_application_ids,
        p_portfolios
    )
),

cells as (
    select
        b.release_id,
        b.environment_id,
        -- 1 approved, 2 pending, 3 rejected: the first present wins
        min(
            case b.status
                when 'approved' then 1 when 'pending' then 2 else 3
            end
        ) as status_rank,
        -- a row is one booking (booking_id is the key of
        -- environment_bookings, each booking has one release): count(*)
        count(*) as n_bookings,
        count(*) filter (where b.status = 'approved') as n_approved_bookings,
        count(*) filter (where b.status = 'pending') as n_pending_bookings,
        count(*) filter (where b.status = 'rejected') as n_rejected_bookings
    from releases_in_window as r
    inner join environment_bookings as b on r.release_id = b.release_id
    left join environments as e on b.environment_id = e.environment_id
    where
        keep(p_tiers, e.tier)
        and keep(p_environment_groups, e.environment_group)
        -- impact_bookings' is_counted
        and b.status <> 'cancelled'
        and coalesce(b.end_at > b.start_at, true)
    group by b.release_id, b.environment_id
)

select
    c.release_id,
    r.release_name,
    r.application_id,
    r.go_live_at,
    c.environment_id,
    e.name as environment_name,
    e.environment_group,
    e.tier,
    case c.status_rank
        when 1 then 'approved' when 2 then 'pending' else 'rejected'
    end as cell_status,
    c.n_bookings,
    c.n_approved_bookings,
    c.n_pending_bookings,
    c.n_rejected_bookings,
    c.status_rank <= 2 as is_impacted
from cells as c
inner join releases_in_window as r on c.release_id = r.release_id
left join environments as e on c.environment_id = e.environment_id;

-- impact_totals(...): the environment impact matrix's totals in one pass
-- over the releases of W (impact_releases, those of p_release_ids) and
-- their bookings: one row per release (row_kind 'release', the rows of
-- environment_impact_release_totals), per environment ('environment':
-- every one the tier and group filters keep, and any booked one missing
-- from environments) and per environment group ('group'), each with the
-- columns of its query and NULL in the others', kind_order (1, 2, 3) and
-- n, the matrix's releases, on every environment's and group's row. The
-- definitions are those of the three queries' headers (docs/metrics.md
-- environment_impact_matrix); the cells are impact_cells', read from the
-- bookings once.
create or replace macro impact_totals(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_tiers, p_environment_groups, p_release_ids := null
) as table
with releases_in_window as materialized (
    select
        release_id,
        release_name,
        release_type,
        parent_release_id,
        application_id,
        release_status,
        go_live_at,
        is_live
    from
        impact_releases(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios
        )
    where keep(p_release_ids, release_id)
),

-- impact_bookings' rows and flags, from the releases already read
bookings as materialized (
    select
        b.release_id,
        b.environment_id,
        b.status,
        b.status <> 'cancelled'
        and coalesce(b.end_at > b.start_at, true) as is_counted,
        b.status = 'cancelled' as is_cancelled,
        coalesce(b.end_at = b.start_at, false) as is_empty,
        coalesce(b.end_at < b.start_at, false) as is_invalid
    from releases_in_window as r
    inner join environment_bookings as b on r.release_id = b.release_id
    left join environments as e on b.environment_id = e.environment_id
    where
        keep(p_tiers, e.tier)
        and keep(p_environment_groups, e.environment_group)
),

-- impact_cells' cells, on the keys alone: 1 approved, 2 pending,
-- 3 rejected, the first present wins; a row of bookings is one booking, so
-- count(*)
cells as materialized (
    select
        release_id,
        environment_id,
        min(
            case status
                when 'approved' then 1 when 'pending' then 2 else 3
            end
        ) as status_rank,
        count(*) as n_bookings
    from bookings
    where is_counted
    group by release_id, environment_id
),

-- a release's cells per environment group (a NULL group is one group)
group_cells as materialized (
    select
        c.release_id,
        e.environment_group,
        bool_or(c.status_rank <= 2) as is_impacted,
        cast(sum(c.n_bookings) as bigint) as n_bookings
    from cells as c
    left join environments as e on c.environment_id = e.environment_id
    group by c.release_id, e.environment_group
),

-- environment_impact_release_totals
cell_totals as (
    select
        release_id,
        count(*) filter (where status_rank <= 2) as total_impacted,
        count(*) filter (where status_rank = 1) as n_approved_environments,
        count(*) filter (where status_rank = 2) as n_pending_environments,
        count(*) filter (where status_rank = 3) as n_rejected_environments
    from cells
    group by release_id
),

group_totals as (
    select
        release_id,
        count(*) as total_impacted_groups
    from group_cells
    where is_impacted
    group by release_id
),

booking_totals as (
    select
        release_id,
        count(*) filter (where is_counted) as n_bookings,
        count(*) filter (
            where is_cancelled or is_empty
        ) as n_excluded,
        count(*) filter (
            where is_invalid and not is_cancelled
        ) as n_invalid
    from bookings
    group by release_id
),

release_rows as (
    select
        r.release_id,
        r.release_name,
        r.release_type,
        r.parent_release_id,
        r.application_id,
        r.release_status,
        r.go_live_at,
        r.is_live,
        coalesce(c.total_impacted, 0) as total_impacted,
        coalesce(g.total_impacted_groups, 0) as total_impacted_groups,
        coalesce(c.n_approved_environments, 0) as n_approved_environments,
        coalesce(c.n_pending_environments, 0) as n_pending_environments,
        coalesce(c.n_rejected_environments, 0) as n_rejected_environments,
        coalesce(b.n_bookings, 0) as n_bookings,
        coalesce(b.n_excluded, 0) as n_excluded,
        coalesce(b.n_invalid, 0) as n_invalid
    from releases_in_window as r
    left join cell_totals as c on r.release_id = c.release_id
    left join group_totals as g on r.release_id = g.release_id
    left join booking_totals as b on r.release_id = b.release_id
),

-- environment_impact_environment_totals: every kept environment, and any
-- booked one missing from environments (no attributes)
environment_columns as (
    select environment_id
    from scoped_environments(p_tiers, p_environment_groups, null, null)
    union
    select environment_id from cells
),

environment_counts as (
    select
        environment_id,
        count(*) filter (where status_rank <= 2) as total_releases,
        count(*) filter (where status_rank = 1) as n_approved_releases,
        count(*) filter (where status_rank = 2) as n_pending_releases,
        count(*) filter (where status_rank = 3) as n_rejected_releases,
        cast(sum(n_bookings) as bigint) as n_bookings
    from cells
    group by environment_id
),

environment_rows as (
    select
        k.environment_id,
        e.name as environment_name,
        e.environment_group,
        e.tier,
        coalesce(c.total_releases, 0) as total_releases,
        coalesce(c.n_approved_releases, 0) as n_approved_releases,
        coalesce(c.n_pending_releases, 0) as n_pending_releases,
        coalesce(c.n_rejected_releases, 0) as n_rejected_releases,
        coalesce(c.n_bookings, 0) as n_bookings
    from environment_columns as k
    left join environments as e on k.environment_id = e.environment_id
    left join environment_counts as c on k.environment_id = c.environment_id
),

-- environment_impact_group_totals: every group of those environments
group_rows as (
    select
        g.environment_group,
        g.n_environments,
        count(r.release_id) filter (
            where r.is_impacted
        ) as total_releases,
        count(r.release_id) filter (
            where not r.is_impacted
        ) as n_rejected_releases,
        coalesce(cast(sum(r.n_bookings) as bigint), 0) as n_bookings
    from (
        select
            environment_group,
            count(*) as n_environments
        from environment_rows
        group by environment_group
    ) as g
    left join group_cells as r
        on g.environment_group is not distinct from r.environment_group
    group by g.environment_group, g.n_environments
),

rows_ as (
    select
        'release' as row_kind,
        1 as kind_order,
        release_id,
        release_name,
        release_type,
        parent_release_id,
        application_id,
        release_status,
        go_live_at,
        is_live,
        total_impacted,
        total_impacted_groups,
        n_approved_environments,
        n_pending_environments,
        n_rejected_environments,
        n_bookings,
        n_excluded,
        n_invalid
    from release_rows
    union all by name
    select
        'environment' as row_kind,
        2 as kind_order,
        environment_id,
        environment_name,
        environment_group,
        tier,
        total_releases,
        n_approved_releases,
        n_pending_releases,
        n_rejected_releases,
        n_bookings
    from environment_rows
    union all by name
    select
        'group' as row_kind,
        3 as kind_order,
        environment_group,
        n_environments,
        total_releases,
        n_rejected_releases,
        n_bookings
    from group_rows
)

select
    *,
    case
        when row_kind <> 'release'
            then (select count(*) from releases_in_window)
    end as n
from rows_;
