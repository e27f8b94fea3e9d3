-- One row: releases gone live in the window, releases per month and the
-- median gap between consecutive releases of the same application.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- METRICS.md release_cadence, rolled up by C7: the median is over the pooled
-- gaps of every application, never a median of medians.
-- releases_per_month = n_releases / (days in the window / 30.436875).
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end
),

live as (
    select
        r.release_id,
        r.application_id,
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

rolled_up as (
    select
        count(l.release_id) as n_releases,
        count(distinct l.application_id) as n_applications,
        count(l.gap_days) as n_gaps,
        quantile_cont(l.gap_days, 0.5) as median_gap_days,
        count(l.release_id)
        / nullif(
            (epoch(any_value(b.w_end)) - epoch(any_value(b.w_start)))
            / 86400.0 / 30.436875,
            0
        ) as releases_per_month
    from bounds as b
    left join live as l
        on
            b.w_start <= l.actual_release_at
            and b.w_end > l.actual_release_at
)

select * from rolled_up
