-- One row per pair of planned changes whose plans overlap in the window and
-- that share an application, target environment or configuration item.
-- $window_start_at, $window_end_at: review window (from this meeting to the
--     next), end exclusive: instants as text, with an offset as given, without
--     one in $reporting_tz; a bare date means 00:00
-- $reporting_tz: IANA zone of instants given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md change_collisions, from the change_collision_pairs macro
-- (changeboard/macros/20_cab.sql). Population: changes whose
-- [planned_start_at, planned_end_at) meets the window, state not closed or
-- cancelled, approval not rejected (NULL approval kept). A pair: one change
-- at least in the population, the other open and not rejected wherever its
-- plan lies, plans overlapping with positive length (back-to-back and empty
-- plans never collide), sharing a non-NULL application_id ('application'),
-- environment_id ('environment') or ci_name ('ci'): one row per shared key,
-- match_key its value. change_id_a < change_id_b; the overlap is the plans'
-- own, not clipped to the window. n: changes in the population;
-- n_unclassified: open, not rejected changes without a valid plan (NULL
-- planned start or end, or end before start), whatever their dates.
with pairs as (
    select
        p.change_id_a,
        p.change_id_b,
        p.match_on,
        p.match_key,
        p.title_a,
        p.title_b,
        p.overlap_start_at,
        p.overlap_end_at,
        p.overlap_hours,
        k.n,
        k.n_unclassified
    from
        change_collision_pairs(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        ) as p
    cross join
        cab_scope_counts(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        ) as k
    order by
        p.overlap_start_at, p.change_id_a, p.change_id_b, p.match_on
)

select * from pairs
