-- One row per month meeting the window: releases gone live, zero-filled.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and months (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- docs/metrics.md release_cadence, monthly series (the cadence_rows macro's
-- 'period' rows): n_releases = releases (not cancelled, not enterprise) with
-- actual_release_at in the window and the month, in $reporting_tz. Months
-- cut by the window's edges have is_complete = false.
with counted as (
    select
        month,  -- noqa: RF04
        n_releases,
        is_complete
    from
        cadence_rows(
            $basis, $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios
        )
    where row_kind = 'period'
    order by month
)

select
    *,
    loaded_as_of() as as_of
from counted
