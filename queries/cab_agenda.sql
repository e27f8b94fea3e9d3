-- One row per change a CAB meeting must decide on, in agenda order, with its
-- collision and window-hit counts.
-- $window_start_at, $window_end_at: review window (from this meeting to the
--     next), end exclusive: instants as text, with an offset as given, without
--     one in $reporting_tz; a bare date means 00:00
-- $reporting_tz: IANA zone of instants given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md cab_agenda, from the cab_agenda_changes macro
-- (changeboard/macros/20_cab.sql). On the agenda: [planned_start_at,
-- planned_end_at) meets the review window (an empty plan when its instant is
-- in it), change_type normal or emergency, is_cab_required, approval
-- requested or not_yet_requested, state not closed or cancelled; cab_date
-- need not equal the meeting. agenda_rank: risk very_high, high, moderate,
-- low, NULL; then planned_start_at; then change_id. n: agenda changes;
-- n_unclassified: changes that would be on it but have NULL is_cab_required
-- (or NULL approval); n_unplanned: open normal/emergency CAB-required changes
-- awaiting approval with no valid plan, whatever their dates; n_excluded:
-- other changes whose plan meets the window. All four repeat on every row
-- (cab_agenda_summary has them when the agenda is empty). n_collisions,
-- n_freeze_hits, n_blackout_hits, is_outside_maintenance: as
-- change_collisions and change_window_hits; similar_change_history gives the
-- cohorts of the same changes. environment_name: the environments row's name
-- of environment_id (NULL when the environment is unknown); release_name:
-- the releases row's name of release_id (NULL likewise). requested_by,
-- description, justification, implementation_plan, backout_plan, test_plan:
-- the change's text as loaded, for the CAB to read (ci_name is above).
with agenda as (
    select
        agenda_rank,
        change_id,
        title,
        change_type,
        state,
        risk,
        impact,
        priority,
        application_id,
        ci_name,
        environment_id,
        assignment_group,
        release_id,
        is_cab_required,
        cab_date,
        approval,
        planned_start_at,
        planned_end_at,
        planned_hours,
        n_collisions,
        n_freeze_hits,
        n_blackout_hits,
        is_outside_maintenance,
        n,
        n_unclassified,
        n_unplanned,
        n_excluded,
        w_start as window_start_at,
        w_end as window_end_at,
        requested_by,
        description,
        justification,
        implementation_plan,
        backout_plan,
        test_plan
    from
        cab_agenda_changes(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        )
)

select
    a.* exclude (
        requested_by, description, justification, implementation_plan,
        backout_plan, test_plan
    ),
    e.name as environment_name,
    r.name as release_name,
    a.requested_by,
    a.description,
    a.justification,
    a.implementation_plan,
    a.backout_plan,
    a.test_plan
from agenda as a
left join environments as e on a.environment_id = e.environment_id
left join releases as r on a.release_id = r.release_id
order by a.agenda_rank
