-- SQL macros: releases on time, release cadence and the releases of the
-- release timeline (the derived_release_spans table).
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- release_outcomes(...): releases of the filtered applications for
-- docs/metrics.md release_on_time, each with a kind: 'released'
-- (actual_release_at in W, not cancelled, not enterprise, planned date
-- known), 'unclassified' (same, planned_release_at NULL), 'excluded'
-- (actual_release_at in W but cancelled or enterprise), 'overdue_open' (not
-- live, status not released or cancelled, not enterprise, planned before
-- least(W end, as_of), however old). slip_days = local actual date - local
-- planned date in p_reporting_tz. With p_previous_too, also the rows of the
-- equal window before W (compared_start), is_previous: its releases gone
-- live, and the releases overdue at its end (planned before least(its end,
-- as_of); one overdue at both ends is a row of each).
create or replace macro release_outcomes(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_application_ids,
    p_portfolios, p_previous_too := false
) as table
with live as (
    -- gone live in W: filters on actual_release_at the scan can use
    select
        r.*,
        case
            when
                r.status = 'cancelled'
                or r.release_type = 'enterprise'
                then 'excluded'
            when r.planned_release_at is null
                then 'unclassified'
            else 'released'
        end as kind,
        in_window_before(
            p_previous_too, r.actual_release_at, p_start_date, p_reporting_tz
        ) as is_previous
    from releases as r
    where
        r.actual_release_at >= local_midnight(
            compared_start(p_start_date, p_end_date, p_previous_too),
            p_reporting_tz
        )
        and r.actual_release_at < local_midnight(p_end_date, p_reporting_tz)
),

open_releases as (
    select r.*
    from releases as r
    where
        r.actual_release_at is null
        and r.status not in ('released', 'cancelled')
        and coalesce(r.release_type, '') <> 'enterprise'
),

overdue as (
    select
        r.*,
        'overdue_open' as kind,
        false as is_previous
    from open_releases as r
    where
        r.planned_release_at < least(
            local_midnight(p_end_date, p_reporting_tz),
            resolved_as_of(local_instant(p_as_of, p_reporting_tz))
        )
    union all
    select
        r.*,
        'overdue_open' as kind,
        true as is_previous
    from open_releases as r
    where
        coalesce(p_previous_too, false)
        and r.planned_release_at < least(
            local_midnight(p_start_date, p_reporting_tz),
            resolved_as_of(local_instant(p_as_of, p_reporting_tz))
        )
),

classified as (
    select
        r.release_id,
        r.name,
        r.application_id,
        a.name as application_name,
        r.status,
        r.release_type,
        r.planned_release_at,
        r.actual_release_at,
        r.kind,
        cast(local_timestamp(r.actual_release_at, p_reporting_tz) as date)
        - cast(local_timestamp(r.planned_release_at, p_reporting_tz) as date)
        as slip_days,
        r.is_previous
    from (
        select * from live
        union all
        select * from overdue
    ) as r
    left join applications as a on r.application_id = a.application_id
    where
        keep(p_application_ids, r.application_id)
        and keep(p_portfolios, a.portfolio)
)

select * from classified;

-- release_on_time_counts(..., p_tolerance_days, p_by_application,
-- p_previous_too): docs/metrics.md release_on_time over the release_outcomes
-- macro: with p_by_application one row per application_id (NULL its own
-- row), else the is_total row, the headline (one row even with no
-- releases), and with p_previous_too the headline of the equal window
-- before too (is_previous; one read of both windows' releases). On time:
-- slip_days <= p_tolerance_days; on_time_rate from each row's counts (C7).
-- The one definition of the columns of release_on_time and its
-- by_application.
create or replace macro release_on_time_counts(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_application_ids,
    p_portfolios, p_tolerance_days, p_by_application, p_previous_too := false
) as table
with outcomes as (
    select
        kind,
        slip_days,
        is_previous,
        case when p_by_application then application_id end as key_id,
        case when p_by_application then application_name end as key_name
    from
        release_outcomes(
            p_start_date, p_end_date, p_reporting_tz, p_as_of,
            p_application_ids, p_portfolios, p_previous_too := p_previous_too
        )
),

-- the headline's windows: one row each even with no releases (a row to
-- meet; none by application)
windows as (
    select false as is_previous
    where not p_by_application
    union all
    select true as is_previous
    where not p_by_application and coalesce(p_previous_too, false)
),

counted as (
    select
        not p_by_application as is_total,
        coalesce(w.is_previous, o.is_previous) as is_previous,
        key_id as application_id,
        any_value(key_name) as application_name,
        count(*) filter (where kind = 'released') as n,
        count(*) filter (
            where kind = 'released' and slip_days <= p_tolerance_days
        ) as n_on_time,
        count(*) filter (
            where kind = 'released' and slip_days > p_tolerance_days
        ) as n_late,
        quantile_cont(slip_days, 0.5) filter (
            where kind = 'released'
        ) as median_slip_days,
        avg(slip_days) filter (where kind = 'released') as mean_slip_days,
        quantile_cont(slip_days, 0.5) filter (
            where kind = 'released' and slip_days > p_tolerance_days
        ) as median_slip_days_late,
        count(*) filter (where kind = 'overdue_open') as n_overdue_open,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from windows as w
    full join outcomes as o on w.is_previous = o.is_previous
    group by coalesce(w.is_previous, o.is_previous), key_id
)

select
    is_total,
    is_previous,
    application_id,
    application_name,
    n_on_time / nullif(n, 0) as on_time_rate,
    n,
    n_on_time,
    n_late,
    median_slip_days,
    mean_slip_days,
    median_slip_days_late,
    n_overdue_open,
    n_excluded,
    n_unclassified
from counted;

-- checked_basis(basis): 'releases' or 'deployments' (docs/metrics.md
-- release_cadence); anything else is an error.
create or replace macro checked_basis(p_basis) as
case
    when cast(p_basis as varchar) in ('releases', 'deployments')
        then cast(p_basis as varchar)
    else error('basis must be releases or deployments')
end;

-- cadence_history(basis, ...): one row per release gone live (releases with
-- actual_release_at, not cancelled, not enterprise) or, with basis
-- 'deployments', per production deployment (deployment_keys, default
-- profile), of the filtered applications, whenever it was: event_id,
-- application_id, application_name, event_at.
create or replace macro cadence_history(
    p_basis, p_application_ids, p_portfolios
) as table
with events as (
    select
        r.release_id as event_id,
        r.application_id,
        r.actual_release_at as event_at
    from releases as r
    where
        checked_basis(p_basis) = 'releases'
        and r.actual_release_at is not null
        and r.status <> 'cancelled'
        and coalesce(r.release_type, '') <> 'enterprise'
    union all
    select
        d.deployment_id as event_id,
        d.application_id,
        d.finished_at as event_at
    from deployment_keys('default') as d
    where
        checked_basis(p_basis) = 'deployments'
        and d.kind = 'deployment'
        and d.finished_at is not null
    union all
    -- no row: evaluated even with no data, so a bad basis always errs
    select
        null as event_id,
        null as application_id,
        null as event_at
    where checked_basis(p_basis) is null
)

select
    e.event_id,
    e.application_id,
    a.name as application_name,
    e.event_at
from events as e
left join applications as a on e.application_id = a.application_id
where
    keep(p_application_ids, e.application_id)
    and keep(p_portfolios, a.portfolio);

-- cadence_left_out(basis, ...): the events cadence_history leaves out,
-- whenever they were (C6), of the filtered applications: with basis
-- 'releases', releases gone live that were cancelled or are enterprise
-- groupings (kind 'excluded'); with basis 'deployments', failed production
-- deployments ('excluded') and succeeded or rolled-back deployments to an
-- environment not loaded ('unclassified'), as deployment_frequency counts
-- them. event_at: actual_release_at, or the deployment's finished_at.
create or replace macro cadence_left_out(
    p_basis, p_application_ids, p_portfolios
) as table
with left_out as (
    select
        'excluded' as kind,
        r.application_id,
        r.actual_release_at as event_at
    from releases as r
    where
        checked_basis(p_basis) = 'releases'
        and r.actual_release_at is not null
        and (
            r.status = 'cancelled'
            or coalesce(r.release_type, '') = 'enterprise'
        )
    union all
    select
        d.kind,
        d.application_id,
        d.finished_at as event_at
    from deployment_keys('default') as d
    where
        checked_basis(p_basis) = 'deployments'
        and d.kind in ('excluded', 'unclassified')
        and d.finished_at is not null
)

select
    o.kind,
    o.event_at
from left_out as o
left join applications as a on o.application_id = a.application_id
where
    keep(p_application_ids, o.application_id)
    and keep(p_portfolios, a.portfolio);

-- cadence_events(basis, start, end, tz, ...): one row per cadence_history
-- event at event_at in [p_start_date, p_end_date) read in p_reporting_tz,
-- with gap_days = days since the application's previous event by
-- (event_at, event_id), whenever it was, fractional; NULL for an
-- application's first event. The previous event of a window's first is the
-- application's last before the window (one per application), so the gaps
-- are sequenced over the window's events and those alone, not over all
-- history.
create or replace macro cadence_events(
    p_basis, p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios
) as table
with kept as (
    select
        event_id,
        application_id,
        application_name,
        event_at
    from cadence_history(p_basis, p_application_ids, p_portfolios)
),

-- each application's last event before the window, by (event_at, event_id)
before as (
    select
        application_id,
        max({'event_at': event_at, 'event_id': event_id}) as last_event
    from kept
    where event_at < local_midnight(p_start_date, p_reporting_tz)
    group by application_id
),

sequenced as (
    select
        event_id,
        application_id,
        application_name,
        event_at,
        true as is_in_window
    from kept
    where
        event_at >= local_midnight(p_start_date, p_reporting_tz)
        and event_at < local_midnight(p_end_date, p_reporting_tz)
    union all
    select
        last_event.event_id as event_id,
        application_id,
        null as application_name,
        last_event.event_at as event_at,
        false as is_in_window
    from before
),

gapped as (
    select
        event_id,
        application_id,
        application_name,
        event_at,
        is_in_window,
        (
            epoch(event_at)
            - epoch(
                lag(event_at) over (
                    partition by application_id
                    order by event_at, event_id
                )
            )
        )
        / 86400.0 as gap_days
    from sequenced
)

select
    event_id,
    application_id,
    application_name,
    event_at,
    gap_days
from gapped
where is_in_window;

-- cadence_rows(p_basis, ..., p_previous_too): docs/metrics.md release_cadence
-- from one read of the window's cadence_events, as rows of a row_kind:
-- 'total', the window's rolled up by C7 (and with p_previous_too 'previous',
-- the equal window before's, compared_start): n_releases, n_applications,
-- n_gaps, the median of the pooled gaps of every application (never a
-- median of medians) and releases_per_month = n_releases / (days in the
-- window / 30.436875), its days counted as dates (C2: a day of 23 or 25
-- hours is a day); 'period', one per month of the window from its first
-- date's month (is_complete: wholly inside it), with n_releases, 0 in a
-- month without one; 'dimension', one per application with events in the
-- window: n_releases, n_gaps and its median_gap_days. The 'total' and
-- 'previous' rows also count their window's events left out
-- (cadence_left_out: n_excluded, n_unclassified; NULL on the other rows).
-- An event's gap is to its application's previous event whenever it was,
-- so one read of both
-- windows' events gives each window's gaps. The queries that read one kind
-- filter it: the others' branches are pruned by their constant kind.
create or replace macro cadence_rows(
    p_basis, p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_previous_too := false
) as table
with windows as (
    select
        false as is_previous,
        local_midnight(p_start_date, p_reporting_tz) as w_start,
        local_midnight(p_end_date, p_reporting_tz) as w_end
    union all
    select
        true as is_previous,
        local_midnight(
            compared_start(p_start_date, p_end_date, true), p_reporting_tz
        ) as w_start,
        local_midnight(p_start_date, p_reporting_tz) as w_end
    where coalesce(p_previous_too, false)
),

events as (
    select
        event_id,
        application_id,
        application_name,
        event_at,
        gap_days
    from
        cadence_events(
            p_basis, compared_start(p_start_date, p_end_date, p_previous_too),
            p_end_date, p_reporting_tz, p_application_ids, p_portfolios
        )
),

in_window as (
    select *
    from events
    where event_at >= local_midnight(p_start_date, p_reporting_tz)
),

months as (
    select cast(g.month_start as date) as month_start
    from
        generate_series(
            cast(date_trunc('month', cast(p_start_date as date)) as date),
            cast(p_end_date as date) - interval 1 day,
            interval 1 month
        ) as g (month_start)
),

-- each window's events left out (C6): n_excluded, n_unclassified
left_out as (
    select
        w.is_previous,
        count(o.kind) filter (where o.kind = 'excluded') as n_excluded,
        count(o.kind) filter (where o.kind = 'unclassified') as n_unclassified
    from windows as w
    left join
        cadence_left_out(
            p_basis, p_application_ids, p_portfolios
        ) as o
        on w.w_start <= o.event_at and w.w_end > o.event_at
    group by w.is_previous
),

rolled_up as (
    select
        case when w.is_previous then 'previous' else 'total' end as row_kind,
        any_value(o.n_excluded) as n_excluded,
        any_value(o.n_unclassified) as n_unclassified,
        count(e.event_id) as n_releases,
        count(distinct e.application_id) as n_applications,
        count(e.gap_days) as n_gaps,
        quantile_cont(e.gap_days, 0.5) as median_gap_days,
        count(e.event_id)
        / nullif(
            (cast(p_end_date as date) - cast(p_start_date as date))
            / 30.436875,
            0
        ) as releases_per_month
    from windows as w
    inner join left_out as o on w.is_previous = o.is_previous
    left join events as e on w.w_start <= e.event_at and w.w_end > e.event_at
    group by w.is_previous
),

by_month as (
    select
        m.month_start as month,  -- noqa: RF04
        count(e.event_id) as n_releases,
        m.month_start >= cast(p_start_date as date)
        and m.month_start + interval 1 month
        <= cast(p_end_date as date) as is_complete
    from months as m
    left join (
        select
            event_id,
            cast(
                date_trunc('month', local_timestamp(event_at, p_reporting_tz))
                as date
            ) as month_start
        from in_window
    ) as e on m.month_start = e.month_start
    group by m.month_start
),

by_application as (
    select
        application_id,
        any_value(application_name) as application_name,
        count(*) as n_releases,
        count(gap_days) as n_gaps,
        quantile_cont(gap_days, 0.5) as median_gap_days
    from in_window
    group by application_id
)

select
    row_kind,
    null::date as month,  -- noqa: RF04
    null::boolean as is_complete,
    null::varchar as application_id,
    null::varchar as application_name,
    n_releases,
    n_applications,
    n_gaps,
    median_gap_days,
    releases_per_month,
    n_excluded,
    n_unclassified
from rolled_up
union all
select
    'period' as row_kind,
    month,
    is_complete,
    null::varchar as application_id,
    null::varchar as application_name,
    n_releases,
    null::bigint as n_applications,
    null::bigint as n_gaps,
    null::double as median_gap_days,
    null::double as releases_per_month,
    null::bigint as n_excluded,
    null::bigint as n_unclassified
from by_month
union all
select
    'dimension' as row_kind,
    null::date as month,  -- noqa: RF04
    null::boolean as is_complete,
    application_id,
    application_name,
    n_releases,
    null::bigint as n_applications,
    n_gaps,
    median_gap_days,
    null::double as releases_per_month,
    null::bigint as n_excluded,
    null::bigint as n_unclassified
from by_application;

-- derived_release_spans: one row per release with phases (release_phases
-- of a known release), whatever its dates: its application_id, start_at =
-- the earliest planned or actual phase start, end_at = the latest planned
-- end, actual end, or actual start of a phase started and not ended,
-- n_phases, n_in_progress (started, not ended). A derived view: a table in a
-- published file (changeboard/db.py materialize), so the timeline does not
-- aggregate every phase of every release on each read.
create or replace view derived_release_spans as
select
    p.release_id,
    any_value(r.application_id) as application_id,
    min(least(p.planned_start_at, p.actual_start_at)) as start_at,
    max(
        greatest(
            p.planned_end_at,
            p.actual_end_at,
            case
                when p.actual_end_at is null then p.actual_start_at
            end
        )
    ) as end_at,
    count(*) as n_phases,
    count(*) filter (
        where p.actual_start_at is not null and p.actual_end_at is null
    ) as n_in_progress
from release_phases as p
inner join releases as r on p.release_id = r.release_id
group by p.release_id
order by end_at;

-- timeline_releases(...): one row per release of the filtered applications
-- whose span meets [p_start_date, p_end_date) read in p_reporting_tz
-- (docs/metrics.md release_timeline): release_start_at = the earliest
-- planned or actual start of its phases, release_end_at = the latest planned
-- end, actual end or shown actual end (a phase started and not ended is
-- drawn up to greatest(actual_start_at, as_of)), i.e. derived_release_spans'
-- end_at, or as_of when later and a phase is in progress; kept when
-- release_start_at < W end and release_end_at > W start; n_phases and
-- n_in_progress count their phases. The spans ending after W's start by
-- end_at are read apart from those ending after it only by as_of, so the
-- first read skips what the table (in end_at order) holds before W.
create or replace macro timeline_releases(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_application_ids,
    p_portfolios
) as table
with ending as (
    select * from derived_release_spans
    where end_at > local_midnight(p_start_date, p_reporting_tz)
    union all
    select * from derived_release_spans
    where
        end_at <= local_midnight(p_start_date, p_reporting_tz)
        and n_in_progress > 0
        and resolved_as_of(local_instant(p_as_of, p_reporting_tz))
        > local_midnight(p_start_date, p_reporting_tz)
),

spans as (
    select
        s.release_id,
        s.start_at as release_start_at,
        greatest(
            s.end_at,
            case
                when s.n_in_progress > 0
                    then resolved_as_of(local_instant(p_as_of, p_reporting_tz))
            end
        ) as release_end_at,
        s.n_phases,
        s.n_in_progress
    from ending as s
    left join applications as a on s.application_id = a.application_id
    where
        s.start_at < local_midnight(p_end_date, p_reporting_tz)
        and keep(p_application_ids, s.application_id)
        and keep(p_portfolios, a.portfolio)
)

select
    release_id,
    release_start_at,
    release_end_at,
    n_phases,
    n_in_progress
from spans
where release_end_at > local_midnight(p_start_date, p_reporting_tz);
