-- One row per (release, environment group) cell of the environment impact
-- matrix with environment groups as columns.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $release_ids: list of the matrix's release ids to keep, e.g. the page
--   of releases shown (default: null)
-- docs/metrics.md environment_impact_matrix, columns = environment_group (a
-- NULL group is its own column), from the impact_cells macro: same rows and
-- bookings as environment_impact_matrix. cell_status = first present of
-- approved > pending > rejected over the group's environments; n_bookings
-- (> 1 shows an ellipsis); n_environments: the group's environments with a
-- booking of the release; n_impacted_environments: those with an approved
-- or pending one; is_impacted: at least one.
with cells as (
    select
        release_id,
        release_name,
        application_id,
        go_live_at,
        environment_id,
        environment_group,
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

group_cells as (
    select
        release_id,
        any_value(release_name) as release_name,
        any_value(application_id) as application_id,
        any_value(go_live_at) as go_live_at,
        environment_group,
        case
            when bool_or(cell_status = 'approved') then 'approved'
            when bool_or(cell_status = 'pending') then 'pending'
            else 'rejected'
        end as cell_status,
        cast(sum(n_bookings) as bigint) as n_bookings,
        count(*) as n_environments,
        count(*) filter (
            where is_impacted
        ) as n_impacted_environments,
        bool_or(is_impacted) as is_impacted
    from cells
    group by release_id, environment_group
    order by go_live_at, release_id, environment_group nulls last
)

select
    *,
    loaded_as_of() as as_of
from group_cells
