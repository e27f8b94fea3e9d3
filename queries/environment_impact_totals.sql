-- One row per release, environment and environment group of the
-- environment impact matrix with its totals: the rows of
-- environment_impact_release_totals, environment_impact_environment_totals
-- and environment_impact_group_totals, in one pass over the releases and
-- their bookings, where the three queries read them three times.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- row_kind: 'release', 'environment' or 'group'; each kind's rows carry
-- the columns of its query (docs/metrics.md environment_impact_matrix, the
-- definitions of those three queries' headers), in its order, and NULL in
-- the others' (changeboard/groups.py cuts them apart; tests compare every
-- column with the three queries).
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
),

-- impact_bookings' rows and flags, from the releases already read
bookings as materialized (
    select
        b.release_id,
        b.environment_id,
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

-- impact_cells' cells, on the keys alone: 1 approved, 2 pending,
-- 3 rejected, the first present wins; a row of bookings is one booking, so
-- count(*)
cells as materialized (
    select
        release_id,
        environment_id,
        min(
            case status
                when 'approved' then 1 when 'pending' then 2 else 3
            end
        ) as status_rank,
        count(*) as n_bookings
    from bookings
    where is_counted
    group by release_id, environment_id
),

-- a release's cells per environment group (a NULL group is one group)
group_cells as materialized (
    select
        c.release_id,
        e.environment_group,
        bool_or(c.status_rank <= 2) as is_impacted,
        cast(sum(c.n_bookings) as bigint) as n_bookings
    from cells as c
    left join environments as e on c.environment_id = e.environment_id
    group by c.release_id, e.environment_group
),

-- environment_impact_release_totals
cell_totals as (
    select
        release_id,
        count(*) filter (where status_rank <= 2) as total_impacted,
        count(*) filter (where status_rank = 1) as n_approved_environments,
        count(*) filter (where status_rank = 2) as n_pending_environments,
        count(*) filter (where status_rank = 3) as n_rejected_environments
    from cells
    group by release_id
),

group_totals as (
    select
        release_id,
        count(*) as total_impacted_groups
    from group_cells
    where is_impacted
    group by release_id
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

release_rows as (
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
        coalesce(g.total_impacted_groups, 0) as total_impacted_groups,
        coalesce(c.n_approved_environments, 0) as n_approved_environments,
        coalesce(c.n_pending_environments, 0) as n_pending_environments,
        coalesce(c.n_rejected_environments, 0) as n_rejected_environments,
        coalesce(b.n_bookings, 0) as n_bookings,
        coalesce(b.n_excluded, 0) as n_excluded,
        coalesce(b.n_invalid, 0) as n_invalid
    from releases_in_window as r
    left join cell_totals as c on r.release_id = c.release_id
    left join group_totals as g on r.release_id = g.release_id
    left join booking_totals as b on r.release_id = b.release_id
),

-- environment_impact_environment_totals: every kept environment, and any
-- booked one missing from environments (no attributes)
environment_columns as (
    select environment_id
    from scoped_environments($tiers, $environment_groups, null, null)
    union
    select environment_id from cells
),

environment_counts as (
    select
        environment_id,
        count(*) filter (where status_rank <= 2) as total_releases,
        count(*) filter (where status_rank = 1) as n_approved_releases,
        count(*) filter (where status_rank = 2) as n_pending_releases,
        count(*) filter (where status_rank = 3) as n_rejected_releases,
        cast(sum(n_bookings) as bigint) as n_bookings
    from cells
    group by environment_id
),

environment_rows as (
    select
        k.environment_id,
        e.name as environment_name,
        e.environment_group,
        e.tier,
        coalesce(c.total_releases, 0) as total_releases,
        coalesce(c.n_approved_releases, 0) as n_approved_releases,
        coalesce(c.n_pending_releases, 0) as n_pending_releases,
        coalesce(c.n_rejected_releases, 0) as n_rejected_releases,
        coalesce(c.n_bookings, 0) as n_bookings
    from environment_columns as k
    left join environments as e on k.environment_id = e.environment_id
    left join environment_counts as c on k.environment_id = c.environment_id
),

-- environment_impact_group_totals: every group of those environments
group_rows as (
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
            count(*) as n_environments
        from environment_rows
        group by environment_group
    ) as g
    left join group_cells as r
        on g.environment_group is not distinct from r.environment_group
    group by g.environment_group, g.n_environments
),

rows_ as (
    select
        'release' as row_kind,
        1 as kind_order,
        release_id,
        release_name,
        release_type,
        parent_release_id,
        application_id,
        release_status,
        go_live_at,
        is_live,
        total_impacted,
        total_impacted_groups,
        n_approved_environments,
        n_pending_environments,
        n_rejected_environments,
        n_bookings,
        n_excluded,
        n_invalid
    from release_rows
    union all by name
    select
        'environment' as row_kind,
        2 as kind_order,
        environment_id,
        environment_name,
        environment_group,
        tier,
        total_releases,
        n_approved_releases,
        n_pending_releases,
        n_rejected_releases,
        n_bookings
    from environment_rows
    union all by name
    select
        'group' as row_kind,
        3 as kind_order,
        environment_group,
        n_environments,
        total_releases,
        n_rejected_releases,
        n_bookings
    from group_rows
)

select
    * exclude (kind_order),
    -- the matrix's releases (rows), on every environment's and group's row
    case
        when row_kind <> 'release'
            then (select count(*) from releases_in_window)
    end as n,
    loaded_as_of() as as_of
from rows_
order by
    kind_order,
    go_live_at,
    release_id,
    environment_id,
    environment_group nulls last
