-- One row per phase of a release whose phases, planned or actual, meet the
-- window: planned and actual start and end, for a timeline (Gantt) chart.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant an unfinished phase is drawn up to; null = last load
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- release_phases joined to releases (docs/data-model.md). A phase started but
-- not ended is in progress: shown_actual_end_at = greatest(actual_start_at,
-- as_of); otherwise shown_actual_end_at = actual_end_at. A release's span
-- runs from the earliest planned or actual phase start to the latest
-- planned end, actual end or shown_actual_end_at of its phases; the release
-- is kept, with all its phases, when the span meets the window (span start
-- < window end and span end > window start; half-open, so a span ending at
-- the window's start is out). Cancelled and enterprise releases are kept
-- (release_status, release_type say so); a release without phases has no
-- row. end_slip_days = (actual_end_at - planned_end_at) in fractional days,
-- NULL unless both are set. phase_order numbers a release's phases by
-- (planned_start_at, actual_start_at, phase). Ordered by (release_start_at,
-- release_id, phase_order).
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end,
        resolved_as_of($as_of) as as_of
),

phases as (
    select
        p.release_id,
        r.name as release_name,
        r.application_id,
        a.name as application_name,
        r.status as release_status,
        r.release_type,
        r.planned_release_at,
        r.actual_release_at,
        p.phase,
        p.planned_start_at,
        p.planned_end_at,
        p.actual_start_at,
        p.actual_end_at,
        p.actual_start_at is not null
        and p.actual_end_at is null as is_in_progress,
        case
            when p.actual_end_at is not null then p.actual_end_at
            when p.actual_start_at is not null
                then greatest(p.actual_start_at, b.as_of)
        end as shown_actual_end_at,
        epoch(p.actual_end_at - p.planned_end_at) / 86400 as end_slip_days
    from release_phases as p
    inner join releases as r on p.release_id = r.release_id
    left join applications as a on r.application_id = a.application_id
    cross join bounds as b
    where
        keep($application_ids, r.application_id)
        and keep($portfolios, a.portfolio)
),

spans as (
    select
        *,
        min(least(planned_start_at, actual_start_at)) over (
            partition by release_id
        ) as release_start_at,
        max(greatest(planned_end_at, actual_end_at, shown_actual_end_at))
            over (partition by release_id)
            as release_end_at,
        row_number() over (
            partition by release_id
            order by
                planned_start_at asc nulls last,
                actual_start_at asc nulls last,
                phase asc
        ) as phase_order
    from phases
),

timeline as (
    select
        s.release_id,
        s.release_name,
        s.application_id,
        s.application_name,
        s.release_status,
        s.release_type,
        s.planned_release_at,
        s.actual_release_at,
        s.release_start_at,
        s.release_end_at,
        s.phase_order,
        s.phase,
        s.planned_start_at,
        s.planned_end_at,
        s.actual_start_at,
        s.actual_end_at,
        s.shown_actual_end_at,
        s.is_in_progress,
        s.end_slip_days
    from spans as s
    cross join bounds as b
    where
        s.release_start_at < b.w_end
        and s.release_end_at > b.w_start
    order by s.release_start_at, s.release_id, s.phase_order
)

select * from timeline
