-- One row per application: releases gone live in the window and the median
-- gap between consecutive releases.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- docs/metrics.md release_cadence over the cadence_events macro
-- (changeboard/macros/42_releases.sql): releases with actual_release_at, not
-- cancelled, not enterprise (a grouping release). Per application, ordered by
-- (actual_release_at, release_id), gap = days since the previous release
-- (fractional, 0 kept); a gap is in the window when its later release is; an
-- application's first release has no gap; no gap in the window -> NULL.
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end
),

in_window as (
    select
        e.application_id,
        e.application_name,
        e.gap_days
    from
        cadence_events(
            $basis, $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios
        ) as e
    cross join bounds as b
    where
        e.event_at >= b.w_start
        and e.event_at < b.w_end
),

per_application as (
    select
        application_id,
        any_value(application_name) as application_name,
        count(*) as n_releases,
        count(gap_days) as n_gaps,
        quantile_cont(gap_days, 0.5) as median_gap_days
    from in_window
    group by application_id
    order by application_id
)

select * from per_application
