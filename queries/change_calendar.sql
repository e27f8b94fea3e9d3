-- One row per change planned in the calendar's period (a month or a week),
-- highest risk and earliest first, with its collisions and window hits.
-- $window_start_at, $window_end_at: the period shown, end exclusive:
--     instants as text, with an offset as given, without one in
--     $reporting_tz; a bare date means 00:00
-- $reporting_tz: IANA zone of instants given without offset (default: UTC)
-- $as_of: instant a planned start is past at; null = the last succeeded
--     load (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md change_calendar, from the cab_changes and
-- collision_partners macros and the derived_change_window_hits table
-- (changeboard/macros/20_cab.sql) with the period as their window W.
-- Shown: changes whose valid plan meets W (plan_meets), not cancelled and
-- approval not rejected; closed changes are shown (what was planned).
-- n_collisions, collides_with, collides_on, n_freeze_hits, n_blackout_hits,
-- windows_hit and is_outside_maintenance as change_collisions and
-- change_window_hits: among open changes only (0 / NULL / false for closed),
-- the partner wherever its plan lies.
-- is_past_planned_start: state new, assess, authorize or scheduled, no
-- actual start, planned_start_at before as_of. draw_rank: risk very_high,
-- high, moderate, low, NULL; then planned_start_at; then change_id. On
-- every row: n (shown changes), n_excluded (cancelled or rejected changes
-- whose plan meets W), n_unclassified (open, not rejected changes without a
-- valid plan, whatever their dates), as_of. environment_name: the
-- environments row's name (NULL when the id is not in environments).
-- release_id: the release the change delivers (NULL for none), as on the
-- Release readiness page.
with period as (
    select
        *,
        resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
    from
        cab_changes(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        )
),

shown as (
    select *
    from period
    where
        meets_window
        and state <> 'cancelled'
        and approval is distinct from 'rejected'
),

counts as (
    select
        count(*) filter (
            where
            meets_window
            and state <> 'cancelled'
            and approval is distinct from 'rejected'
        ) as n,
        count(*) filter (
            where
            meets_window
            and (state = 'cancelled' or approval = 'rejected')
        ) as n_excluded,
        count(*) filter (where is_in_scope and not has_plan) as n_unclassified
    from period
),

-- the drawing order, ranked on the sort keys alone (the window sorts only
-- them, not the rows it would carry)
ranked as (
    select
        change_id,
        row_number() over (
            order by risk_rank, planned_start_at, change_id
        ) as draw_rank
    from shown
),

-- each other change once per shown change (a pair can share several
-- keys; only changes in scope have partners: open, approval not rejected),
-- then listed: the keys as three flags, not a list made distinct and
-- sorted per change
partners as (
    select
        change_id,
        other_id,
        bool_or(match_on = 'application') as on_application,
        bool_or(match_on = 'ci') as on_ci,
        bool_or(match_on = 'environment') as on_environment
    from collision_partners()
    where change_id in (select change_id from shown)
    group by change_id, other_id
),

collisions as (
    select
        change_id,
        count(*) as n_collisions,
        list_sort(list(other_id)) as collides_with,
        -- in name order, as list_sort gives it
        list_concat(
            case when bool_or(on_application) then ['application'] end,
            case when bool_or(on_ci) then ['ci'] end,
            case when bool_or(on_environment) then ['environment'] end
        ) as collides_on
    from partners
    group by change_id
),

-- the stored window hits of the changes shown (only changes in scope have
-- hits), one row per change and window (window_id is the key of
-- blackout_windows): count(*) counts windows
hits as (
    select
        change_id,
        count(*) filter (where kind = 'freeze') as n_freeze_hits,
        count(*) filter (where kind = 'blackout') as n_blackout_hits,
        -- a window without a name is named by its id
        list_sort(list_distinct(list(coalesce(window_name, window_id)) filter (
            where kind in ('freeze', 'blackout')
        ))) as windows_hit,
        bool_or(kind = 'outside_maintenance') as is_outside_maintenance
    from derived_change_window_hits
    where change_id in (select change_id from shown)
    group by change_id
)

select
    r.draw_rank,
    c.change_id,
    c.title,
    c.change_type,
    c.state,
    c.risk,
    c.approval,
    c.application_id,
    c.release_id,
    c.environment_id,
    e.name as environment_name,
    c.ci_name,
    c.assignment_group,
    c.planned_start_at,
    c.planned_end_at,
    c.actual_start_at,
    c.change_type = 'emergency' as is_emergency,
    c.is_open,
    coalesce(
        c.state in ('new', 'assess', 'authorize', 'scheduled')
        and c.actual_start_at is null
        and c.planned_start_at < c.as_of,
        false
    ) as is_past_planned_start,
    coalesce(k.n_collisions, 0) as n_collisions,
    k.collides_with,
    k.collides_on,
    coalesce(h.n_freeze_hits, 0) as n_freeze_hits,
    coalesce(h.n_blackout_hits, 0) as n_blackout_hits,
    h.windows_hit,
    coalesce(h.is_outside_maintenance, false) as is_outside_maintenance,
    n.n,
    n.n_excluded,
    n.n_unclassified,
    c.as_of
from shown as c
inner join ranked as r on c.change_id = r.change_id
cross join counts as n
left join collisions as k on c.change_id = k.change_id
left join hits as h on c.change_id = h.change_id
left join environments as e on c.environment_id = e.environment_id
order by draw_rank
