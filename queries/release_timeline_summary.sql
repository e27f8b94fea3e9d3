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
-- them all here.
with counted as (
    select
        count(*) as n_releases,
        cast(coalesce(sum(n_phases), 0) as bigint) as n_phases,
        cast(coalesce(sum(n_in_progress), 0) as bigint) as n_in_progress
    from
        timeline_releases(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios
        )
)

select
    *,
    resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
from counted
