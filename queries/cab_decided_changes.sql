-- One row per given change id: the change as the data stands and what has
-- happened to it since, for the CAB decisions recorded on it (the minutes,
-- and the next pack's "since last CAB" decisions).
-- $change_ids: list of change ids, each given once
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- Every given id has a row, in the order given: is_known says whether the
-- change is in the data, is_in_filters whether it passes the filters
-- (scoped_changes). is_failed and its three signal flags are those of the
-- classified_changes macro (docs/metrics.md shared definitions), whenever
-- the change ended. outcome: 'not_in_data'; 'failed'; 'implemented' (an
-- implemented close code, not failed); 'cancelled' (close code cancelled or
-- rejected, or state cancelled); 'started' (an actual start or end, or
-- state implement or review, with no close code yet); 'closed' (state
-- closed, none of the above); else 'pending' (not started: new, assess,
-- authorize or scheduled). incident_ids: the linked incidents that fail
-- it (of $failure_min_priority or higher, in order of opening, as
-- change_records names them), or null: the pack's "Why failed" reads
-- 'Linked incident (INC0000398)'.
with given as (
    select
        unnest($change_ids) as change_id,
        generate_subscripts($change_ids, 1) as given_rank
),

-- the given changes alone, each table read once and cut on its scan: read
-- by joins to all of the changes it took 270 ms at a million changes for
-- 200 ids, 24 so
known as (
    select
        c.*,
        outcome_kind(c.close_code, c.actual_end_at) as kind
    from changes as c
    where list_contains(cast($change_ids as varchar[]), c.change_id)
),

scoped as (
    select k.change_id
    from known as k
    where
        in_change_scope(
            k.application_id, k.assignment_group, k.change_type,
            k.environment_id, $application_ids, $portfolios, $teams,
            $change_types, $tiers
        )
),

signals as (
    select
        change_id,
        by_incident,
        by_rollback
    from change_failure_signals($failure_min_priority)
    where list_contains(cast($change_ids as varchar[]), change_id)
),

-- the columns of classified_changes (changeboard/macros/10_changes.sql),
-- for these changes: a change of no outcome kind has none
outcomes as (
    select
        k.change_id,
        k.kind,
        coalesce(k.actual_end_at, k.closed_at) as outcome_at,
        failed_close_code(k.close_code) as is_failed_by_close_code,
        coalesce(f.by_incident, false) as is_failed_by_incident,
        coalesce(f.by_rollback, false) as is_failed_by_rollback,
        is_failed_outcome(
            k.kind, k.close_code, coalesce(f.by_incident, false),
            coalesce(f.by_rollback, false)
        ) as is_failed
    from known as k
    left join signals as f on k.change_id = f.change_id
    where k.kind is not null
),

incidents as (
    select
        change_id,
        incident_ids
    from change_incident_ids($failure_min_priority, null)
    where list_contains(cast($change_ids as varchar[]), change_id)
),

decided as (
    select
        g.given_rank,
        g.change_id,
        c.title,
        c.change_type,
        c.risk,
        c.application_id,
        c.assignment_group,
        c.state,
        c.approval,
        c.close_code,
        c.planned_start_at,
        c.planned_end_at,
        c.actual_start_at,
        o.kind,
        c.change_id is not null as is_known,
        s.change_id is not null as is_in_filters,
        coalesce(o.outcome_at, c.actual_end_at, c.closed_at) as outcome_at,
        coalesce(o.is_failed, false) as is_failed,
        coalesce(o.is_failed_by_close_code, false) as is_failed_by_close_code,
        coalesce(o.is_failed_by_incident, false) as is_failed_by_incident,
        coalesce(o.is_failed_by_rollback, false) as is_failed_by_rollback,
        i.incident_ids,
        case
            when c.change_id is null then 'not_in_data'
            when coalesce(o.is_failed, false) then 'failed'
            when o.kind = 'implemented' then 'implemented'
            when o.kind = 'excluded' or c.state = 'cancelled' then 'cancelled'
            when
                c.actual_start_at is not null
                or c.actual_end_at is not null
                or c.state in ('implement', 'review')
                then 'started'
            when c.state = 'closed' then 'closed'
            else 'pending'
        end as outcome
    from given as g
    left join known as c on g.change_id = c.change_id
    left join scoped as s on g.change_id = s.change_id
    left join outcomes as o on g.change_id = o.change_id
    left join incidents as i on g.change_id = i.change_id
)

select
    change_id,
    is_known,
    is_in_filters,
    title,
    change_type,
    risk,
    application_id,
    assignment_group,
    state,
    approval,
    close_code,
    planned_start_at,
    planned_end_at,
    actual_start_at,
    outcome_at,
    kind,
    outcome,
    is_failed,
    is_failed_by_close_code,
    is_failed_by_incident,
    is_failed_by_rollback,
    incident_ids
from decided
order by given_rank
