-- One row per release of the environment impact matrix: how many
-- environments it impacts (Total Impacted).
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $release_ids: list of the matrix's release ids to keep, e.g. the page
--   of releases shown (default: null)
-- docs/metrics.md environment_impact_matrix row totals over the
-- impact_releases macro (changeboard/macros/) and the rows of impact_bookings
-- made from the releases read once, the cells made as the impact_cells macro
-- makes them but from the bookings read once (a second read of the bookings
-- was a quarter of the query at a million changes). Every release of the
-- matrix is a row, also one with no booking (total 0). total_impacted =
-- environments with an approved or pending booking of the release;
-- total_impacted_groups = distinct environment_group of those (a NULL group
-- counts as one); n_rejected_environments: cells whose bookings are all
-- rejected (they count in no total). n_bookings: its non-cancelled,
-- non-empty, valid bookings on kept environments; n_excluded: its cancelled
-- or empty bookings; n_invalid: end_at < start_at.
with releases_in_window as materialized (
    select
        release_id,
        release_name,
        release_type,
        parent_release_id,
        application_id,
        release_status,
        go_live_at,
        is_live
    from
        impact_releases(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios
        )
    where keep($release_ids, release_id)
),

-- impact_bookings' rows and flags, from the releases already read (the
-- macro would read them again): every booking of a release in the window on
-- an environment the tier and group filters keep (one missing from
-- environments is kept unless a filter is set)
bookings as materialized (
    select
        b.release_id,
        b.environment_id,
        e.environment_group,
        b.status,
        b.status <> 'cancelled'
        and coalesce(b.end_at > b.start_at, true) as is_counted,
        b.status = 'cancelled' as is_cancelled,
        coalesce(b.end_at = b.start_at, false) as is_empty,
        coalesce(b.end_at < b.start_at, false) as is_invalid
    from releases_in_window as r
    inner join environment_bookings as b on r.release_id = b.release_id
    left join environments as e on b.environment_id = e.environment_id
    where
        keep($tiers, e.tier)
        and keep($environment_groups, e.environment_group)
),

-- the cells of impact_cells, from the bookings read once: 1 approved,
-- 2 pending, 3 rejected, the first present wins
cells as (
    select
        release_id,
        environment_id,
        any_value(environment_group) as environment_group,
        min(
            case status
                when 'approved' then 1 when 'pending' then 2 else 3
            end
        ) as status_rank
    from bookings
    where is_counted
    group by release_id, environment_id
),

group_cells as (
    select
        release_id,
        environment_group
    from cells
    where status_rank <= 2
    group by release_id, environment_group
),

cell_totals as (
    select
        c.release_id,
        count(*) filter (where c.status_rank <= 2) as total_impacted,
        (
            select count(*) from group_cells as g
            where g.release_id = c.release_id
        ) as total_impacted_groups,
        count(*) filter (where c.status_rank = 1) as n_approved_environments,
        count(*) filter (where c.status_rank = 2) as n_pending_environments,
        count(*) filter (where c.status_rank = 3) as n_rejected_environments
    from cells as c
    group by c.release_id
),

booking_totals as (
    select
        release_id,
        count(*) filter (where is_counted) as n_bookings,
        count(*) filter (
            where is_cancelled or is_empty
        ) as n_excluded,
        count(*) filter (
            where is_invalid and not is_cancelled
        ) as n_invalid
    from bookings
    group by release_id
),

totals as (
    select
        r.release_id,
        r.release_name,
        r.release_type,
        r.parent_release_id,
        r.application_id,
        r.release_status,
        r.go_live_at,
        r.is_live,
        coalesce(c.total_impacted, 0) as total_impacted,
        coalesce(c.total_impacted_groups, 0) as total_impacted_groups,
        coalesce(c.n_approved_environments, 0) as n_approved_environments,
        coalesce(c.n_pending_environments, 0) as n_pending_environments,
        coalesce(c.n_rejected_environments, 0) as n_rejected_environments,
        coalesce(b.n_bookings, 0) as n_bookings,
        coalesce(b.n_excluded, 0) as n_excluded,
        coalesce(b.n_invalid, 0) as n_invalid
    from releases_in_window as r
    left join cell_totals as c on r.release_id = c.release_id
    left join booking_totals as b on r.release_id = b.release_id
    order by r.go_live_at, r.release_id
)

select
    *,
    loaded_as_of() as as_of
from totals
