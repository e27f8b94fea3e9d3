-- One row per environment group (column) of the environment impact matrix
-- by group: how many releases impact it (Total Releases).
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $release_ids: list of the matrix's release ids to keep, e.g. the page
--   of releases shown (default: null)
-- docs/metrics.md environment_impact_matrix column totals with columns =
-- environment_group (NULL is its own row): the group rows of the
-- impact_totals macro (changeboard/macros/).
-- Every group of the environments kept by the tier and group filters is a
-- row. total_releases = matrix releases with an approved or pending booking
-- on one of the group's environments; n_rejected_releases: releases whose
-- bookings on the group are all rejected; n_environments: kept environments
-- in the group; n: the matrix's releases (rows), the same on every row.
select
    environment_group,
    n_environments,
    total_releases,
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
where row_kind = 'group'
order by environment_group nulls last
