-- SQL macros: the open-change backlog (docs/metrics.md open_change_backlog).
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- open_changes_of(p_after_batch): the open changes (state not closed or
-- cancelled), without their long texts (the backlog lists none), of every
-- change (NULL) or of the changes a load after that batch wrote (db.py
-- ROWWISE: a row is its change's alone).
create or replace macro open_changes_of(p_after_batch) as table
select
    * exclude (
        description, justification, implementation_plan, backout_plan,
        test_plan
    )
from changes
where
    state not in ('closed', 'cancelled')
    and (
        cast(p_after_batch as integer) is null
        or ingested_batch_id > cast(p_after_batch as integer)
    );

-- derived_open_changes: open_changes_of every change. A derived view: a
-- table in a published file (changeboard/db.py materialize), so the backlog
-- reads its few thousand rows instead of every change's state (at a
-- million changes, 19,304 open: the scan was 47 of the list's 62 ms).
create or replace view derived_open_changes as
select * from open_changes_of(null);

-- open_change_ages(...): one row per open change (state not closed or
-- cancelled) in the filters that exists at as_of (created_at <= as_of: one
-- created later was in no backlog then, and would have a negative age)
-- with its age in state and lateness, as
-- queries/open_change_backlog.sql documents them; the rules live here once,
-- for the list and its per-state counts.
create or replace macro open_change_ages(
    p_as_of, p_close_within_days, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with params as (
    select
        resolved_as_of(local_instant(p_as_of, p_reporting_tz)) as as_of,
        cast(p_close_within_days as integer) as close_within_days
),

open_changes as (
    select
        c.*,
        p.as_of,
        p.close_within_days,
        case when c.approved_at <= p.as_of then c.approved_at end
            as approved_by,
        case when c.actual_start_at <= p.as_of then c.actual_start_at end
            as started_by,
        case when c.actual_end_at <= p.as_of then c.actual_end_at end
            as ended_by
    from derived_open_changes as c
    cross join params as p
    where
        c.created_at <= p.as_of
        and in_change_scope(
            c.application_id, c.assignment_group, c.change_type,
            c.environment_id, p_application_ids, p_portfolios, p_teams,
            p_change_types, p_tiers
        )
),

aged as (
    select
        *,
        case state
            when 'new' then 1
            when 'assess' then 2
            when 'authorize' then 3
            when 'scheduled' then 4
            when 'implement' then 5
            when 'review' then 6
        end as state_rank,
        case
            when state = 'scheduled' and approved_by is not null
                then 'approved_at'
            when state = 'implement' and started_by is not null
                then 'actual_start_at'
            when state = 'implement' and approved_by is not null
                then 'approved_at'
            when state = 'review' and ended_by is not null
                then 'actual_end_at'
            when state = 'review' and started_by is not null
                then 'actual_start_at'
            when state = 'review' and approved_by is not null
                then 'approved_at'
            else 'created_at'
        end as age_basis
    from open_changes
),

dated as (
    select
        *,
        case age_basis
            when 'approved_at' then approved_by
            when 'actual_start_at' then started_by
            when 'actual_end_at' then ended_by
            else created_at
        end as state_since_at
    from aged
)

select
    change_id,
    title,
    state,
    state_rank,
    change_type,
    risk,
    priority,
    approval,
    assignment_group,
    application_id,
    created_at,
    approved_at,
    planned_start_at,
    planned_end_at,
    actual_start_at,
    actual_end_at,
    updated_at,
    state_since_at,
    age_basis,
    (state, age_basis) in (
        ('new', 'created_at'),
        ('scheduled', 'approved_at'),
        ('implement', 'actual_start_at'),
        ('review', 'actual_end_at')
    ) as is_age_exact,
    span_seconds(state_since_at, as_of) / 86400 as age_days,
    -- not started: before implementation, with no start recorded (as the
    -- calendar: a change in implement or review has started, whatever a
    -- source that records only the end of work says)
    coalesce(
        state in ('new', 'assess', 'authorize', 'scheduled')
        and planned_start_at < as_of and actual_start_at is null, false
    ) as is_past_planned_start,
    case
        when
            state in ('new', 'assess', 'authorize', 'scheduled')
            and planned_start_at < as_of and actual_start_at is null
            then span_seconds(planned_start_at, as_of) / 86400
    end as days_past_planned_start,
    coalesce(
        actual_end_at < as_of - to_days(close_within_days), false
    ) as is_unclosed_after_implementation,
    span_seconds(ended_by, as_of) / 86400 as days_since_implemented,
    close_within_days,
    as_of
from dated;
