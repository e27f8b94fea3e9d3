-- One row: releases gone live in the window, releases per month and the
-- median gap between consecutive releases of the same application.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- docs/metrics.md release_cadence, rolled up by C7: the median is over the
-- pooled gaps of every application, never a median of medians (cadence_events
-- macro, changeboard/macros/42_releases.sql).
-- releases_per_month = n_releases / (days in the window / 30.436875), its
-- days counted as dates (a day of 23 or 25 hours is a day).
with bounds as (
    select
        local_midnight($start_date, $reporting_tz) as w_start,
        local_midnight($end_date, $reporting_tz) as w_end
),

events as (
    select
        event_id,
        application_id,
        event_at,
        gap_days
    from cadence_events(
        $basis, $start_date, $end_date, $reporting_tz, $application_ids,
        $portfolios
    )
),

rolled_up as (
    select
        count(e.event_id) as n_releases,
        count(distinct e.application_id) as n_applications,
        count(e.gap_days) as n_gaps,
        quantile_cont(e.gap_days, 0.5) as median_gap_days,
        -- the window's days as dates (C2): a month with a clock change
        -- has as many days as any other, not 23 or 25 hours less or more
        count(e.event_id)
        / nullif(
            (cast($end_date as date) - cast($start_date as date))
            / 30.436875,
            0
        ) as releases_per_month
    from bounds as b
    left join events as e
        on
            b.w_start <= e.event_at
            and b.w_end > e.event_at
)

select * from rolled_up
