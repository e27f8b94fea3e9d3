-- One row per application: releases gone live in the window and the median
-- gap between consecutive releases.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- docs/metrics.md release_cadence over the cadence_events macro (the
-- cadence_rows macro's 'dimension' rows, changeboard/macros/42_releases.sql):
-- releases with actual_release_at, not cancelled, not enterprise (a grouping
-- release). Per application, ordered by
-- (actual_release_at, release_id), gap = days since the previous release
-- (fractional, 0 kept); a gap is in the window when its later release is; an
-- application's first release has no gap; no gap in the window -> NULL.
with per_application as (
    select
        application_id,
        application_name,
        n_releases,
        n_gaps,
        median_gap_days
    from
        cadence_rows(
            $basis, $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios
        )
    where row_kind = 'dimension'
    order by application_id
)

select
    *,
    loaded_as_of() as as_of
from per_application
