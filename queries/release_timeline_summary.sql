-- One row: how many releases the release timeline holds, with their phases
-- and the phases in progress.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant an unfinished phase is drawn up to (without an offset:
--     in $reporting_tz); null = last load
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- The releases of release_timeline (timeline_releases macro,
-- changeboard/macros/42_releases.sql): n_releases whose span meets the
-- window, n_phases of them, n_in_progress of those phases (started, not
-- ended). A page shows the timeline a few releases at a time and counts
-- them all here. n_ended_first: the releases, in the timeline's order
-- (first phase start, then id), before the first one still under way or
-- ahead at as_of (a phase in progress, or its span ending after as_of);
-- n_releases when every one has ended. The page opens on that release.
with releases as (
    select
        *,
        n_in_progress > 0
        or release_end_at
        > resolved_as_of(local_instant($as_of, $reporting_tz)) as is_open
    from
        timeline_releases(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios
        )
),

first_open as (
    select
        release_start_at,
        release_id
    from releases
    where is_open
    order by release_start_at, release_id
    limit 1
),

counted as (
    select
        count(*) as n_releases,
        cast(coalesce(sum(r.n_phases), 0) as bigint) as n_phases,
        cast(coalesce(sum(r.n_in_progress), 0) as bigint) as n_in_progress,
        count(*) filter (
            where
            f.release_id is null
            or r.release_start_at < f.release_start_at
            or (
                r.release_start_at = f.release_start_at
                and r.release_id < f.release_id
            )
        ) as n_ended_first
    from releases as r
    left join first_open as f on true
)

select
    *,
    resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
from counted
