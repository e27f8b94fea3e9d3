-- One row per booking behind the environment impact matrix: a booking of a
-- matrix release (row) on a kept environment (column), with its status and
-- times, for drilling into a cell, a row or a column.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $release_ids: list of release ids to keep (default: null)
-- $environment_ids: list of environment ids to keep (default: null)
-- $no_group: only the environments with no group (the matrix's "(no group)"
--     column) (default: false)
-- docs/metrics.md environment_impact_matrix, the records behind the cells of
-- environment_impact_matrix(_by_group), from the impact_bookings macro
-- (changeboard/macros/): releases with go_live_at in W, not cancelled, not
-- enterprise; every booking of theirs, whenever it is (not clipped to W).
-- is_counted: the booking makes its cell (not cancelled, not empty
-- end_at = start_at, not invalid end_at < start_at; an open-ended NULL
-- end_at counts); the others are listed with is_counted = false and the
-- reason in is_cancelled, is_empty, is_invalid.
with bookings as (
    select
        release_id,
        release_name,
        application_id,
        go_live_at,
        booking_id,
        environment_id,
        environment_name,
        environment_group,
        tier,
        status,
        start_at,
        end_at,
        is_counted,
        is_cancelled,
        is_empty,
        is_invalid
    from
        impact_bookings(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $tiers, $environment_groups
        )
    where
        keep($release_ids, release_id)
        and keep($environment_ids, environment_id)
        and (
            not coalesce(cast($no_group as boolean), false)
            or environment_group is null
        )
),

detailed as (
    select
        k.release_id,
        k.release_name,
        k.application_id,
        k.go_live_at,
        k.booking_id,
        k.environment_id,
        k.environment_name,
        k.environment_group,
        k.tier,
        b.phase,
        b.team,
        k.status,
        k.start_at,
        k.end_at,
        k.is_counted,
        k.is_cancelled,
        k.is_empty,
        k.is_invalid
    from bookings as k
    inner join environment_bookings as b on k.booking_id = b.booking_id
    order by
        k.go_live_at, k.release_id, k.environment_group nulls last,
        k.environment_name, k.start_at, k.booking_id
)

select * from detailed
