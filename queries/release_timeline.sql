-- One row per phase of a release whose phases, planned or actual, meet the
-- window: planned and actual start and end, for a timeline (Gantt) chart.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant an unfinished phase is drawn up to (without an offset:
--     in $reporting_tz); null = last load
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $release_offset: releases to skip, in timeline order (default: 0)
-- $release_limit: at most this many releases after them; null = all
--     (default: null)
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
-- release_id, phase_order). The releases, their spans and their order come
-- from the timeline_releases macro (changeboard/macros/42_releases.sql); a
-- page draws release_limit of them at a time from release_offset
-- (release_timeline_summary counts them all).
with bounds as (
    select resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
),

shown as (
    select
        release_id,
        release_start_at,
        release_end_at
    from
        timeline_releases(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios
        )
    order by release_start_at, release_id
    limit
        cast($release_limit as bigint)
        offset coalesce(cast($release_offset as bigint), 0)
),

timeline as (
    select
        p.release_id,
        r.name as release_name,
        r.application_id,
        a.name as application_name,
        r.status as release_status,
        r.release_type,
        r.planned_release_at,
        r.actual_release_at,
        s.release_start_at,
        s.release_end_at,
        row_number() over (
            partition by p.release_id
            order by
                p.planned_start_at asc nulls last,
                p.actual_start_at asc nulls last,
                p.phase asc
        ) as phase_order,
        p.phase,
        p.planned_start_at,
        p.planned_end_at,
        p.actual_start_at,
        p.actual_end_at,
        case
            when p.actual_end_at is not null then p.actual_end_at
            when p.actual_start_at is not null
                then greatest(p.actual_start_at, b.as_of)
        end as shown_actual_end_at,
        p.actual_start_at is not null
        and p.actual_end_at is null as is_in_progress,
        -- the instants' difference as plain timestamps: the same interval
        -- as timestamptz subtraction in UTC, without a calendar per row
        epoch(
            make_timestamp(epoch_us(p.actual_end_at))
            - make_timestamp(epoch_us(p.planned_end_at))
        )
        / 86400 as end_slip_days
    from release_phases as p
    inner join shown as s on p.release_id = s.release_id
    inner join releases as r on p.release_id = r.release_id
    left join applications as a on r.application_id = a.application_id
    cross join bounds as b
    order by s.release_start_at, p.release_id, phase_order
)

select * from timeline
