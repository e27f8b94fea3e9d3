-- One row per freeze or blackout window a planned change meets, and per
-- change planned outside every maintenance window that applies to it.
-- $window_start_at, $window_end_at: review window (from this meeting to the
--     next), end exclusive: instants as text, with an offset as given, without
--     one in $reporting_tz; a bare date means 00:00
-- $reporting_tz: IANA zone of instants given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md change_collisions (window hits), from the
-- change_window_hits_of macro (changeboard/macros/20_cab.sql). Population as
-- change_collisions: plan meets the window, state not closed or cancelled,
-- approval not rejected. A blackout_windows row applies when its
-- application_id is NULL or the change's, and its environment_id NULL or the
-- change's target environment (a change without application or environment
-- is hit only by windows for all). kind freeze or blackout: the window meets
-- the plan; overlap start, end and hours are of window and plan.
-- kind outside_maintenance: maintenance windows apply to the change but none
-- contains its whole plan; window_id and overlap are NULL. n: changes in
-- the population; n_unclassified: open, not rejected changes without a
-- valid plan, whatever their dates.
with hits as (
    select
        h.change_id,
        h.window_id,
        h.window_name,
        h.kind,
        h.planned_start_at,
        h.planned_end_at,
        h.overlap_start_at,
        h.overlap_end_at,
        h.overlap_hours,
        k.n,
        k.n_unclassified
    from
        change_window_hits_of(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        ) as h
    cross join
        cab_scope_counts(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        ) as k
    order by h.change_id, h.kind, h.overlap_start_at, h.window_id
)

select * from hits
