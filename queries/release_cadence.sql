-- One row per application: releases gone live in the window and the median
-- gap between consecutive releases.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- METRICS.md release_cadence: releases with actual_release_at, not cancelled,
-- not enterprise (a grouping release). Per application, ordered by
-- (actual_release_at, release_id), gap = days since the previous release
-- (fractional, 0 kept); a gap is in the window when its later release is; an
-- application's first release has no gap; no gap in the window -> NULL.
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end
),

live as (
    select
        r.release_id,
        r.application_id,
        a.name as application_name,
        r.actual_release_at,
        (
            epoch(r.actual_release_at)
            - epoch(
                lag(r.actual_release_at) over (
                    partition by r.application_id
                    order by r.actual_release_at, r.release_id
                )
            )
        )
        / 86400.0 as gap_days
    from releases as r
    left join applications as a on r.application_id = a.application_id
    where
        r.actual_release_at is not null
        and r.status <> 'cancelled'
        and coalesce(r.release_type, '') <> 'enterprise'
        and keep($application_ids, r.application_id)
        and keep($portfolios, a.portfolio)
),

in_window as (
    select l.*
    from live as l
    cross join bounds as b
    where
        l.actual_release_at >= b.w_start
        and l.actual_release_at < b.w_end
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
