-- SQL macros: release readiness (docs/metrics.md release_readiness, A25): is each
-- upcoming release authorised by the CAB, staffed with environments for its
-- remaining phases and clear of freezes?
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own: this file uses keep (00_common) and local_instant (20_cab).

-- lateness_words(p_days): how late a phase is, as readiness says it: in
-- days from a day; less, in hours, or whole minutes rounded up ('0.0 days'
-- read as none). The reasons' slip and the phases' late_by read it, so the
-- two say one lateness alike.
create or replace macro lateness_words(p_days) as
case
    when p_days >= 1 then printf('%.1f days', p_days)
    when p_days * 24 >= 1 then printf('%.1f h', p_days * 24)
    else cast(ceil(p_days * 1440) as integer) || ' min'
end;

-- readiness_as_of(p_as_of, p_reporting_tz): the instant readiness is
-- judged at: p_as_of read by local_instant in p_reporting_tz, else now. A
-- constant of the query, so filters on it prune before any join.
create or replace macro readiness_as_of(p_as_of, p_reporting_tz) as
coalesce(local_instant(p_as_of, p_reporting_tz), current_timestamp);

-- readiness_horizon_end(p_as_of, p_horizon_days, p_reporting_tz): as_of +
-- p_horizon_days x 24 h, the end (excluded) of the go-lives looked at; a
-- negative horizon is an error.
create or replace macro readiness_horizon_end(
    p_as_of, p_horizon_days, p_reporting_tz
) as
readiness_as_of(p_as_of, p_reporting_tz) + to_hours(
    24 * case
        when cast(p_horizon_days as integer) >= 0
            then cast(p_horizon_days as integer)
        else error('horizon_days must be 0 or more')
    end
);

-- readiness_releases(p_as_of, p_horizon_days, p_reporting_tz,
-- p_application_ids, p_portfolios): the releases of the filtered
-- applications that readiness looks at, with as_of (p_as_of read by
-- local_instant in p_reporting_tz, else now) and horizon_end_at = as_of +
-- p_horizon_days x 24 h, and readiness_class: 'upcoming' (status not
-- released or cancelled, planned_release_at in [as_of, horizon_end_at)),
-- 'unscheduled' (status not released or cancelled, planned_release_at
-- NULL, whenever) or 'excluded' (released or cancelled, planned in the
-- range). Other releases are left out. A negative horizon is an error.
create or replace macro readiness_releases(
    p_as_of, p_horizon_days, p_reporting_tz, p_application_ids, p_portfolios
) as table
-- as_of and the horizon's end are constants of the query: written out in
-- the filter, so the scan skips the releases outside the range; read from
-- one row elsewhere (each written-out copy costs the query's planning)
with bounds as (
    select
        readiness_as_of(p_as_of, p_reporting_tz) as as_of,
        readiness_horizon_end(p_as_of, p_horizon_days, p_reporting_tz)
        as horizon_end_at
),

classified as (
    select
        r.release_id,
        r.name,
        r.version,
        r.release_type,
        r.parent_release_id,
        r.application_id,
        a.name as application_name,
        r.status as release_status,
        r.risk,
        r.planned_start_at,
        r.planned_release_at,
        w.as_of,
        w.horizon_end_at,
        case
            when
                r.planned_release_at >= w.as_of
                and r.planned_release_at < w.horizon_end_at
                then
                    case
                        when r.status in ('released', 'cancelled')
                            then 'excluded'
                        else 'upcoming'
                    end
            when
                r.planned_release_at is null
                and r.status not in ('released', 'cancelled')
                then 'unscheduled'
        end as readiness_class
    from releases as r
    left join applications as a on r.application_id = a.application_id
    cross join bounds as w
    where
        keep(p_application_ids, r.application_id)
        and keep(p_portfolios, a.portfolio)
        and (
            r.planned_release_at is null
            or (
                r.planned_release_at
                >= readiness_as_of(p_as_of, p_reporting_tz)
                and r.planned_release_at < readiness_horizon_end(
                    p_as_of, p_horizon_days, p_reporting_tz
                )
            )
        )
)

select * from classified
where readiness_class is not null;

-- in_release(close_code, state): whether a change with release_id is still
-- in its release: not closed as cancelled or rejected, nor cancelled in its
-- state (a source without close codes); a NULL close code is open.
create or replace macro in_release(p_close_code, p_state) as
coalesce(p_close_code not in ('cancelled', 'rejected'), true)
and p_state <> 'cancelled';

-- readiness_changes(...): one row per change of an upcoming
-- readiness_releases release (changes.release_id), close code not cancelled
-- or rejected (NULL is open and kept), with authorisation: 'approved'
-- (approval approved or not_required), 'awaiting' (requested),
-- 'not_requested' (not_yet_requested, or NULL approval with
-- is_cab_required), 'rejected', else NULL; is_planned_after_go_live:
-- planned_end_at > the release's planned_release_at; portfolio and
-- environment_tier of the change's own application and environment.
create or replace macro readiness_changes(
    p_as_of, p_horizon_days, p_reporting_tz, p_application_ids, p_portfolios
) as table
-- the few upcoming releases first: the changes are joined to them
with r as materialized (
    select
        release_id,
        planned_release_at
    from
        readiness_releases(
            p_as_of, p_horizon_days, p_reporting_tz, p_application_ids,
            p_portfolios
        )
    where readiness_class = 'upcoming'
)

select
    r.release_id,
    r.planned_release_at,
    c.change_id,
    c.title,
    c.change_type,
    c.state,
    c.risk,
    c.application_id,
    a.portfolio,
    e.tier as environment_tier,
    c.assignment_group,
    c.is_cab_required,
    c.cab_date,
    c.approval,
    c.approved_at,
    c.planned_start_at,
    c.planned_end_at,
    case
        when c.approval in ('approved', 'not_required') then 'approved'
        when c.approval = 'requested' then 'awaiting'
        when
            c.approval = 'not_yet_requested'
            or (c.approval is null and c.is_cab_required)
            then 'not_requested'
        when c.approval = 'rejected' then 'rejected'
    end as authorisation,
    coalesce(c.planned_end_at > r.planned_release_at, false)
    as is_planned_after_go_live
from r
inner join changes as c on r.release_id = c.release_id
left join applications as a on c.application_id = a.application_id
left join environments as e on c.environment_id = e.environment_id
where in_release(c.close_code, c.state);

-- books_phase(b_start_at, b_end_at, p_planned_start_at, p_planned_end_at,
-- p_as_of): whether a booking [b_start_at, b_end_at) overlaps a phase's
-- planned window [p_planned_start_at, p_planned_end_at) (half-open) with
-- time of its own: a booking without end_at ends at as_of (docs/metrics.md
-- shared definitions); an empty or backwards booking (end at or before its
-- start) overlaps nothing; a phase without a planned start is open at its
-- start (every instant before its planned end is in it). False, never
-- NULL, when there is no booking.
create or replace macro books_phase(
    b_start_at, b_end_at, p_planned_start_at, p_planned_end_at, p_as_of
) as
coalesce(
    b_start_at < p_planned_end_at
    and coalesce(p_planned_start_at < coalesce(b_end_at, p_as_of), true)
    and b_start_at < coalesce(b_end_at, p_as_of),
    false
);

-- readiness_phase_bookings(...): one row per remaining phase of an upcoming
-- release (release_phases with planned_end_at > as_of and no actual_end_at)
-- and booking of the same release whose phase has the same name
-- (case-insensitive), or one row with NULL booking columns when it has
-- none. is_overlapping: the booking overlaps the phase's planned window
-- with time of its own, as books_phase decides (a phase without a planned
-- start is open at its start). A phase is covered when an overlapping
-- booking is approved or pending; rejected_only: not covered
-- and an overlapping booking is rejected (cancelled ones are withdrawn and
-- do not count), i.e. every overlapping booking left is rejected.
create or replace macro readiness_phase_bookings(
    p_as_of, p_horizon_days, p_reporting_tz, p_application_ids, p_portfolios
) as table
with phases as materialized (
    select
        r.release_id,
        r.as_of,
        p.phase,
        p.planned_start_at,
        p.planned_end_at,
        p.actual_start_at
    from
        readiness_releases(
            p_as_of, p_horizon_days, p_reporting_tz, p_application_ids,
            p_portfolios
        ) as r
    inner join release_phases as p on r.release_id = p.release_id
    where
        r.readiness_class = 'upcoming'
        and p.planned_end_at > r.as_of
        and p.actual_end_at is null
),

matched as (
    select
        p.*,
        b.booking_id,
        b.environment_id,
        b.team,
        b.status as booking_status,
        b.start_at,
        b.end_at,
        books_phase(
            b.start_at, b.end_at, p.planned_start_at, p.planned_end_at, p.as_of
        ) as is_overlapping
    from phases as p
    left join environment_bookings as b
        on
            p.release_id = b.release_id
            and lower(p.phase) = lower(b.phase)
)

select
    m.*,
    e.name as environment_name,
    e.tier,
    coalesce(bool_or(
        m.is_overlapping and m.booking_status in ('approved', 'pending')
    ) over (partition by m.release_id, m.phase), false) as is_covered,
    coalesce(bool_or(
        m.is_overlapping and m.booking_status = 'rejected'
    ) over (partition by m.release_id, m.phase), false) as has_rejected
from matched as m
left join environments as e on m.environment_id = e.environment_id;

-- release_readiness_rows(...): one row per upcoming readiness_releases
-- release (docs/metrics.md release_readiness): change counts by
-- authorisation (as readiness_changes classifies them), n_failed_recently
-- (implemented changes of its application with outcome_at =
-- coalesce(actual_end_at, closed_at) in [as_of - 30 x 24 h, as_of) that
-- failed per docs/metrics.md shared definitions: close code, or a failure
-- signal of priority p_failure_min_priority or higher, read from the
-- derived_change_outcomes table of a published file), remaining phases
-- (covered as readiness_phase_bookings decides), its pending and rejected bookings
-- overlapping [as_of, planned_release_at), slip_days (largest of
-- actual_end_at - planned_end_at over ended phases and as_of -
-- planned_end_at over phases past their planned end and not ended, in days,
-- at least 0), the freeze or blackout window holding planned_release_at
-- (half-open; application_id NULL or the release's; environment_id NULL or
-- a prod-tier environment of one of its bookings; the first by start_at,
-- window_id), status and reasons. The releases are found once; their
-- changes, phases and bookings are read from them, each table once.
create or replace macro release_readiness_rows(
    p_as_of, p_horizon_days, p_reporting_tz, p_application_ids, p_portfolios,
    p_failure_min_priority
) as table
with upcoming as materialized (
    select *
    from
        readiness_releases(
            p_as_of, p_horizon_days, p_reporting_tz, p_application_ids,
            p_portfolios
        )
    where readiness_class = 'upcoming'
),

-- the changes of each upcoming release, counted as readiness_changes
-- classifies them (its authorisation; change_id is the key of changes and
-- release_id of releases: count(*) counts changes), read from the releases
-- already found rather than finding them again
change_counts as (
    select
        u.release_id,
        count(*) as n_changes,
        count(*) filter (
            where c.approval in ('approved', 'not_required')
        ) as n_approved,
        count(*) filter (where c.approval = 'requested') as n_awaiting,
        count(*) filter (
            where
            c.approval = 'not_yet_requested'
            or (c.approval is null and c.is_cab_required)
        ) as n_not_requested,
        count(*) filter (where c.approval = 'rejected') as n_rejected,
        count(*) filter (
            where coalesce(c.planned_end_at > u.planned_release_at, false)
        ) as n_planned_after_go_live
    from upcoming as u
    inner join changes as c on u.release_id = c.release_id
    where in_release(c.close_code, c.state)
    group by u.release_id
),

-- implemented changes of the releases' applications that ended in the 30
-- days before as_of and failed, from derived_change_outcomes (one row per
-- change: count(*) counts changes)
failed_recently as (
    select
        o.application_id,
        count(*) as n_failed_recently
    from
        change_outcome_facts_between(
            readiness_as_of(p_as_of, p_reporting_tz) - to_days(30),
            readiness_as_of(p_as_of, p_reporting_tz),
            null, null, null, null, null, p_failure_min_priority
        ) as o
    where
        o.is_failed
        and o.application_id in (select u.application_id from upcoming as u)
    group by o.application_id
),

-- every phase of the upcoming releases (slips read them all, coverage the
-- remaining ones) and every booking of them (coverage, counts and the
-- prod environments read them), each read once
release_phase_rows as materialized (
    select
        u.release_id,
        u.as_of,
        p.phase,
        p.planned_start_at,
        p.planned_end_at,
        p.actual_end_at
    from upcoming as u
    inner join release_phases as p on u.release_id = p.release_id
),

release_bookings as materialized (
    select
        u.release_id,
        u.as_of,
        u.planned_release_at,
        b.booking_id,
        b.environment_id,
        b.phase,
        b.status,
        b.start_at,
        b.end_at
    from upcoming as u
    inner join environment_bookings as b on u.release_id = b.release_id
),

-- each remaining phase (planned_end_at > as_of, no actual_end_at) with
-- whether a booking of its name (case-insensitive) overlapping its planned
-- window is approved or pending (covered), or rejected: as
-- readiness_phase_bookings decides
phase_cover as (
    select
        p.release_id,
        p.phase,
        coalesce(bool_or(
            books_phase(
                b.start_at, b.end_at, p.planned_start_at, p.planned_end_at,
                p.as_of
            )
            and b.status in ('approved', 'pending')
        ), false) as is_covered,
        coalesce(bool_or(
            books_phase(
                b.start_at, b.end_at, p.planned_start_at, p.planned_end_at,
                p.as_of
            )
            and b.status = 'rejected'
        ), false) as has_rejected
    from release_phase_rows as p
    left join release_bookings as b
        on
            p.release_id = b.release_id
            and lower(p.phase) = lower(b.phase)
    where p.planned_end_at > p.as_of and p.actual_end_at is null
    group by p.release_id, p.phase
),

-- phase_cover has one row per release and phase: count(*) counts phases
phase_counts as (
    select
        release_id,
        count(*) as n_phases_remaining,
        count(*) filter (where not is_covered) as n_phases_uncovered,
        count(*) filter (
            where not is_covered and has_rejected
        ) as n_phases_rejected_only,
        string_agg(phase, ', ' order by phase) filter (
            where not is_covered
        ) as uncovered_phases,
        string_agg(phase, ', ' order by phase) filter (
            where not is_covered and has_rejected
        ) as rejected_only_phases
    from phase_cover
    group by release_id
),

-- release_bookings has one row per booking (booking_id is the key of
-- environment_bookings, release_id of releases): count(*) counts bookings
booking_counts as (
    select
        release_id,
        count(*) filter (where status = 'pending') as n_bookings_pending,
        count(*) filter (where status = 'rejected') as n_bookings_rejected
    from release_bookings
    where
        start_at < planned_release_at
        and as_of < coalesce(end_at, as_of)
        and start_at < end_at
    group by release_id
),

prod_environments as (
    select distinct
        b.release_id,
        b.environment_id
    from release_bookings as b
    inner join environments as e on b.environment_id = e.environment_id
    -- a booking held (approved or pending): a cancelled or rejected one,
    -- or one holding no time, does not bring its environment's freezes
    where
        e.tier = 'prod'
        and b.status in ('approved', 'pending')
        and b.start_at < coalesce(b.end_at, 'infinity'::timestamptz)
),

freezes as (
    select
        u.release_id,
        w.window_id,
        w.name,
        w.kind,
        w.start_at,
        w.end_at,
        row_number() over (
            partition by u.release_id order by w.start_at, w.window_id
        ) as hit_rank,
        count(*) over (partition by u.release_id) as n_freeze_windows
    from upcoming as u
    inner join blackout_windows as w
        on
            u.planned_release_at >= w.start_at
            and u.planned_release_at < w.end_at
    left join prod_environments as p
        on
            u.release_id = p.release_id
            and w.environment_id = p.environment_id
    where
        w.kind in ('freeze', 'blackout')
        and (w.application_id is null or w.application_id = u.application_id)
        and (w.environment_id is null or p.environment_id is not null)
),

slips as (
    select
        release_id,
        max(slip_us) / 8.64e10 as slip_days,
        -- the phase furthest behind, and the one furthest behind of those
        -- still running past their planned end: the reason names a running
        -- one first (a release with one running late is running late,
        -- whichever ended later than planned)
        arg_max(phase, slip_us) as late_phase,
        max(slip_us) filter (where not has_ended) / 8.64e10
        as running_slip_days,
        arg_max(phase, slip_us) filter (where not has_ended)
        as running_phase
    from (
        select
            release_id,
            phase,
            actual_end_at is not null as has_ended,
            case
                when actual_end_at is not null
                    then date_diff(
                        'microsecond', planned_end_at, actual_end_at
                    )
                when planned_end_at < as_of
                    then date_diff('microsecond', planned_end_at, as_of)
            end as slip_us
        from release_phase_rows
    ) as r
    group by release_id
),

counted as (
    select
        u.release_id,
        u.name,
        u.version,
        u.release_type,
        u.parent_release_id,
        u.application_id,
        u.application_name,
        u.release_status,
        u.risk,
        u.planned_start_at,
        u.planned_release_at,
        date_diff('microsecond', u.as_of, u.planned_release_at) / 8.64e10
        as days_to_go_live,
        coalesce(c.n_changes, 0) as n_changes,
        coalesce(c.n_approved, 0) as n_approved,
        coalesce(c.n_awaiting, 0) as n_awaiting,
        coalesce(c.n_not_requested, 0) as n_not_requested,
        coalesce(c.n_rejected, 0) as n_rejected,
        coalesce(c.n_planned_after_go_live, 0) as n_planned_after_go_live,
        coalesce(fr.n_failed_recently, 0) as n_failed_recently,
        coalesce(ph.n_phases_remaining, 0) as n_phases_remaining,
        coalesce(ph.n_phases_uncovered, 0) as n_phases_uncovered,
        coalesce(ph.n_phases_rejected_only, 0) as n_phases_rejected_only,
        ph.uncovered_phases,
        ph.rejected_only_phases,
        coalesce(bc.n_bookings_pending, 0) as n_bookings_pending,
        coalesce(bc.n_bookings_rejected, 0) as n_bookings_rejected,
        greatest(coalesce(s.slip_days, 0), 0) as slip_days,
        -- what the reason says: the phase furthest behind of those running
        -- late, else of those that ended late
        coalesce(s.running_slip_days > 0, false) as is_running_late,
        if(
            s.running_slip_days > 0, s.running_slip_days,
            greatest(coalesce(s.slip_days, 0), 0)
        ) as said_slip_days,
        if(s.running_slip_days > 0, s.running_phase, s.late_phase)
        as late_phase,
        f.window_id is not null as freeze_hit,
        f.window_id as freeze_window_id,
        f.name as freeze_window_name,
        f.kind as freeze_window_kind,
        f.start_at as freeze_start_at,
        f.end_at as freeze_end_at,
        coalesce(f.n_freeze_windows, 0) as n_freeze_windows,
        u.as_of,
        u.horizon_end_at
    from upcoming as u
    left join change_counts as c on u.release_id = c.release_id
    left join failed_recently as fr on u.application_id = fr.application_id
    left join phase_counts as ph on u.release_id = ph.release_id
    left join booking_counts as bc on u.release_id = bc.release_id
    left join freezes as f on u.release_id = f.release_id and f.hit_rank = 1
    left join slips as s on u.release_id = s.release_id
),

-- the reasons in docs/metrics.md order, '; '-separated: blocking ones, then
-- at_risk ones ('' when none fired)
reasoned as (
    select
        *,
        concat_ws(
            '; ',
            case
                when n_rejected = 1 then '1 change rejected'
                when n_rejected > 1 then n_rejected || ' changes rejected'
            end,
            case
                when freeze_hit
                    then
                        'go-live in the ' || freeze_window_kind || ' window'
                        || coalesce(' "' || freeze_window_name || '"', '')
                        || ' (' || freeze_window_id || ')'
            end,
            case
                when n_phases_rejected_only = 1
                    then
                        '1 remaining phase has only rejected bookings ('
                        || rejected_only_phases || ')'
                when n_phases_rejected_only > 1
                    then
                        n_phases_rejected_only
                        || ' remaining phases have only rejected bookings ('
                        || rejected_only_phases || ')'
            end
        ) as blocking,
        concat_ws(
            '; ',
            case
                when n_awaiting = 1 then '1 change awaiting CAB approval'
                when n_awaiting > 1
                    then n_awaiting || ' changes awaiting CAB approval'
            end,
            case
                when n_not_requested = 1
                    then '1 change not yet submitted for approval'
                when n_not_requested > 1
                    then
                        n_not_requested
                        || ' changes not yet submitted for approval'
            end,
            case
                when n_phases_uncovered = 1
                    then
                        '1 remaining phase without an approved or pending '
                        || 'booking (' || uncovered_phases || ')'
                when n_phases_uncovered > 1
                    then
                        n_phases_uncovered
                        || ' remaining phases without an approved or pending '
                        || 'booking (' || uncovered_phases || ')'
            end,
            case
                when n_bookings_pending = 1
                    then '1 environment booking still pending'
                when n_bookings_pending > 1
                    then
                        n_bookings_pending
                        || ' environment bookings still pending'
            end,
            case
                when n_planned_after_go_live = 1
                    then '1 change planned to end after go-live'
                when n_planned_after_go_live > 1
                    then
                        n_planned_after_go_live
                        || ' changes planned to end after go-live'
            end,
            case
                when slip_days > 0
                    then
                        -- a phase runs on past its planned end, or none does
                        -- and phases ended late
                        'phases '
                        || if(is_running_late, 'running', 'ended')
                        || ' behind plan (up to '
                        || lateness_words(said_slip_days)
                        || ': ' || late_phase || ')'
            end,
            case when n_changes = 0 then 'no change linked' end
        ) as at_risk
    from counted
)

select
    * exclude (
        blocking, at_risk, late_phase, is_running_late, said_slip_days
    ),
    case
        when blocking <> '' then 'blocked'
        when at_risk <> '' then 'at_risk'
        else 'ready'
    end as status,
    concat_ws('; ', nullif(blocking, ''), nullif(at_risk, '')) as reasons
from reasoned;
