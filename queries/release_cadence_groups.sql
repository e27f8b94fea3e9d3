-- One row per kind of the release cadence's rows, from one read of the
-- window's releases: its summary, its months and its applications.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and months (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $basis: releases, or deployments (production deployments stand in for
--     releases) (default: 'releases')
-- row_kind: 'total' (the row of release_cadence_summary), 'period' (the
-- rows of release_cadence_by_month, by month) or 'dimension' (the rows of
-- release_cadence, by application_id), from the cadence_rows macro
-- (changeboard/macros/42_releases.sql): the same numbers (tests compare
-- every column); a column another kind has is NULL.
with cadence as (
    select *
    from
        cadence_rows(
            $basis, $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios
        )
    order by
        list_position(['total', 'period', 'dimension'], row_kind),
        month,
        application_id
)

select
    *,  -- noqa: AM04
    loaded_as_of() as as_of
from cadence
