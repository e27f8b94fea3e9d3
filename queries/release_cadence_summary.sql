-- One row: releases gone live in the window, releases per month and the
-- median gap between consecutive releases of the same application.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- docs/metrics.md release_cadence, rolled up by C7: the median is over the
-- pooled gaps of every application, never a median of medians (the
-- cadence_rows macro's 'total' row over cadence_events,
-- changeboard/macros/42_releases.sql).
-- releases_per_month = n_releases / (days in the window / 30.436875), its
-- days counted as dates (a day of 23 or 25 hours is a day).
-- n_excluded: releases gone live in the window that were cancelled or are
-- enterprise groupings (basis deployments: failed production deployments);
-- n_unclassified: with basis deployments, deployments to an environment
-- not loaded (cadence_left_out).
with rolled_up as (
    select
        n_releases,
        n_applications,
        n_gaps,
        median_gap_days,
        releases_per_month,
        n_excluded,
        n_unclassified
    from
        cadence_rows(
            $basis, $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios
        )
    where row_kind = 'total'
)

select
    *,
    loaded_as_of() as as_of
from rolled_up
