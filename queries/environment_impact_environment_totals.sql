-- One row per environment (column) of the environment impact matrix: how
-- many releases impact it (Total Releases).
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $release_ids: list of the matrix's release ids to keep, e.g. the page
--   of releases shown (default: null)
-- docs/metrics.md environment_impact_matrix column totals: the environment
-- rows of the impact_totals macro (changeboard/macros/). Every environment
-- kept by the tier and group filters is a row (0 when no release books
-- it), plus any environment_id booked by a matrix release but missing
-- from environments.
-- total_releases = matrix releases with an approved or pending booking on
-- it; n_rejected_releases: releases whose bookings on it are all rejected
-- (in no total); n_bookings: their counted bookings; n: the matrix's
-- releases (rows), the same on every row.
select
    environment_id,
    environment_name,
    environment_group,
    tier,
    total_releases,
    n_approved_releases,
    n_pending_releases,
    n_rejected_releases,
    n_bookings,
    n,
    loaded_as_of() as as_of
from
    impact_totals(
        $start_date, $end_date, $reporting_tz, $application_ids,
        $portfolios, $tiers, $environment_groups,
        p_release_ids := $release_ids
    )
where row_kind = 'environment'
order by environment_id
