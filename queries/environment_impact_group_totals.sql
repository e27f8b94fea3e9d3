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
-- environment_group (NULL is its own row), over the impact_cells macro.
-- Every group of the environments kept by the tier and group filters is a
-- row. total_releases = matrix releases with an approved or pending booking
-- on one of the group's environments; n_rejected_releases: releases whose
-- bookings on the group are all rejected; n_environments: kept environments
-- in the group; n: the matrix's releases (rows), the same on every row.
with cells as (
    select
        release_id,
        environment_id,
        environment_group,
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
        environment_group,
        environment_id
    from scoped_environments($tiers, $environment_groups, null, null)
    union
    select
        environment_group,
        environment_id
    from cells
),

group_releases as (
    select
        environment_group,
        release_id,
        bool_or(is_impacted) as is_impacted,
        cast(sum(n_bookings) as bigint) as n_bookings
    from cells
    group by environment_group, release_id
),

per_group as (
    select
        g.environment_group,
        g.n_environments,
        count(r.release_id) filter (
            where r.is_impacted
        ) as total_releases,
        count(r.release_id) filter (
            where not r.is_impacted
        ) as n_rejected_releases,
        coalesce(cast(sum(r.n_bookings) as bigint), 0) as n_bookings
    from (
        select
            environment_group,
            count(distinct environment_id) as n_environments
        from columns_
        group by environment_group
    ) as g
    left join group_releases as r
        on g.environment_group is not distinct from r.environment_group
    group by g.environment_group, g.n_environments
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
    from per_group as p
    order by p.environment_group nulls last
)

select
    *,
    loaded_as_of() as as_of
from totals
