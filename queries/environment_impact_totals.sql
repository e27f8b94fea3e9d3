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
-- column with the three queries). All four read the impact_totals macro in
-- changeboard/macros/.
select
    * exclude (kind_order),  -- noqa: AM04
    loaded_as_of() as as_of
from
    impact_totals(
        $start_date, $end_date, $reporting_tz, $application_ids,
        $portfolios, $tiers, $environment_groups
    )
order by
    kind_order,
    go_live_at,
    release_id,
    environment_id,
    environment_group nulls last
