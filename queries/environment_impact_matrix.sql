-- One row per (release, environment) cell of the environment impact matrix:
-- the release's bookings on that environment and the cell's status.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $release_ids: list of the matrix's release ids to keep, e.g. the page
--   of releases shown (default: null)
-- docs/metrics.md environment_impact_matrix, long form, from the impact_cells
-- macro in changeboard/macros/. Rows are releases with go_live_at =
-- coalesce(actual_release_at, planned_release_at) in W, not cancelled, not
-- enterprise (an enterprise release's children are rows on their own
-- go-live dates). The application filters apply to the release, the tier and
-- group filters to the environment (the columns). A cell is a release's
-- non-cancelled bookings on one environment, whenever they are (not clipped
-- to W); empty (end_at = start_at) and invalid (end_at < start_at) bookings
-- are ignored. cell_status = first present of approved > pending > rejected;
-- n_bookings > 1 shows an ellipsis; is_impacted: approved or pending (a
-- rejected-only cell counts in no total). A release with no such booking has
-- no cell here: environment_impact_release_totals lists every row.
with cells as (
    select
        release_id,
        release_name,
        application_id,
        go_live_at,
        environment_id,
        environment_name,
        environment_group,
        tier,
        cell_status,
        n_bookings,
        n_approved_bookings,
        n_pending_bookings,
        n_rejected_bookings,
        is_impacted
    from
        impact_cells(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $tiers, $environment_groups
        )
    where keep($release_ids, release_id)
),

ordered as (
    select *
    from cells
    order by go_live_at, release_id, environment_id
)

select
    *,
    loaded_as_of() as as_of
from ordered
