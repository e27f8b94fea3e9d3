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
-- docs/metrics.md environment_impact_matrix column totals over the impact_cells
-- macro (changeboard/macros/). Every environment kept by the tier and group
-- filters is a row (0 when no release books it), plus any environment_id
-- booked by a matrix release but missing from environments.
-- total_releases = matrix releases with an approved or pending booking on
-- it; n_rejected_releases: releases whose bookings on it are all rejected
-- (in no total); n_bookings: their counted bookings; n: the matrix's
-- releases (rows), the same on every row.
with cells as (
    select
        release_id,
        environment_id,
        environment_name,
        environment_group,
        tier,
        cell_status,
        n_bookings,
        is_impacted
    from
        impact_cells(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $tiers, $environment_groups
        )
    where keep($release_ids, release_id)
),

columns_ as (
    select
        environment_id,
        name as environment_name,
        environment_group,
        tier
    from scoped_environments($tiers, $environment_groups, null, null)
    union
    select distinct
        environment_id,
        environment_name,
        environment_group,
        tier
    from cells
),

per_environment as (
    select
        e.environment_id,
        e.environment_name,
        e.environment_group,
        e.tier,
        count(c.release_id) filter (
            where c.is_impacted
        ) as total_releases,
        count(c.release_id) filter (
            where c.cell_status = 'approved'
        ) as n_approved_releases,
        count(c.release_id) filter (
            where c.cell_status = 'pending'
        ) as n_pending_releases,
        count(c.release_id) filter (
            where c.cell_status = 'rejected'
        ) as n_rejected_releases,
        coalesce(cast(sum(c.n_bookings) as bigint), 0) as n_bookings
    from columns_ as e
    left join cells as c on e.environment_id = c.environment_id
    group by all
),

totals as (
    select
        p.*,
        (
            select count(*)
            from
                impact_releases(
                    $start_date, $end_date, $reporting_tz, $application_ids,
                    $portfolios
                )
            where keep($release_ids, release_id)
        ) as n
    from per_environment as p
    order by p.environment_id
)

select
    *,
    loaded_as_of() as as_of
from totals
