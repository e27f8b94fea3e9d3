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
-- docs/metrics.md environment_impact_matrix row totals: the release rows of
-- the impact_totals macro (changeboard/macros/), which reads the releases and
-- their bookings once (a second read of the bookings was a quarter of the
-- query at a million changes). Every release of the matrix is a row, also
-- one with no booking (total 0). total_impacted = environments with an
-- approved or pending booking of the release; total_impacted_groups =
-- distinct environment_group of those (a NULL group counts as one);
-- n_rejected_environments: cells whose bookings are all rejected (they count
-- in no total). n_bookings: its non-cancelled, non-empty, valid bookings on
-- kept environments; n_excluded: its cancelled or empty bookings;
-- n_invalid: end_at < start_at.
select
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
    n_invalid,
    loaded_as_of() as as_of
from
    impact_totals(
        $start_date, $end_date, $reporting_tz, $application_ids,
        $portfolios, $tiers, $environment_groups,
        p_release_ids := $release_ids
    )
where row_kind = 'release'
order by go_live_at, release_id
