-- One row: the window's booking conflicts summed over environments.
-- $start_date, $end_date: window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $as_of: instant that ends open-ended bookings (default: null)
-- $statuses: list of active booking statuses (default: approved,pending)
-- $tiers: list of environment tiers to keep (default: null)
-- $environment_groups: list of environment groups to keep (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of application portfolios to keep (default: null)
-- docs/metrics.md booking_conflicts rolled up by C7 over the rows of
-- booking_conflicts_by_environment (both read the environment_conflicts
-- macro in changeboard/macros/): n_conflict_pairs, n_conflicted_bookings,
-- conflict_hours, excess_booking_hours, n, n_excluded, n_invalid and
-- n_open_ended are sums over environments (a booking is of one
-- environment, so its sums count each once); n_environments: the
-- environments with a row there (active bookings in the window);
-- n_conflicted_environments: those with a conflicting pair.
-- n_unclassified: active bookings ($statuses) with time in the window of
-- an environment that is not loaded, whatever the filters (no capacity to
-- sweep them against: the unplaced_bookings macro; a rejected or cancelled
-- one would count in no conflict anyway, so none is left out).
with by_environment as (
    select
        n_conflict_pairs,
        n_conflicted_bookings,
        conflict_hours,
        excess_booking_hours,
        n,
        n_excluded,
        n_invalid,
        n_open_ended
    from environment_conflicts(
        $start_date, $end_date, $reporting_tz, $as_of, $statuses,
        $tiers, $environment_groups, $application_ids, $portfolios
    )
)

select
    coalesce(cast(sum(n_conflict_pairs) as bigint), 0) as n_conflict_pairs,
    count(*) filter (where n_conflict_pairs > 0) as n_conflicted_environments,
    -- one row per environment: count(*), no distinct
    count(*) as n_environments,
    coalesce(cast(sum(n_conflicted_bookings) as bigint), 0)
        as n_conflicted_bookings,
    coalesce(sum(conflict_hours), 0) as conflict_hours,
    coalesce(sum(excess_booking_hours), 0) as excess_booking_hours,
    coalesce(cast(sum(n) as bigint), 0) as n,
    coalesce(cast(sum(n_excluded) as bigint), 0) as n_excluded,
    coalesce(cast(sum(n_invalid) as bigint), 0) as n_invalid,
    coalesce(cast(sum(n_open_ended) as bigint), 0) as n_open_ended,
    (
        select u.n
        from unplaced_bookings(
            $start_date, $end_date, $reporting_tz, $as_of,
            p_statuses := $statuses
        ) as u
    ) as n_unclassified,
    (
        select w.as_of
        from report_window(
            $start_date, $end_date, $reporting_tz, $as_of
        ) as w
    ) as as_of
from by_environment
