-- One row per window of the release cadence, from one read of both
-- windows' releases: the window's and the equal window before it.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $compare: also the equal window before (default: false)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- row_kind: 'total' (the row of release_cadence_summary) or 'previous'
-- (that row for the window before, with $compare), from the cadence_rows
-- macro: the same numbers (tests compare every column).
with rolled_up as (
    select
        row_kind,
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
            $portfolios, p_previous_too := $compare
        )
    where row_kind in ('total', 'previous')
    order by row_kind = 'previous'
)

select
    *,
    loaded_as_of() as as_of
from rolled_up
