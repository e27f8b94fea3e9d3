-- SQL macros: change populations and failure signals.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- in_change_scope(application_id, assignment_group, change_type,
-- environment_id, filters...): whether a change with these values passes the
-- global filters (NULL = all). The portfolio and tier filters are
-- semi-joins (application_id and environment_id are the keys of their
-- tables), so a NULL filter costs no join: DuckDB folds it away with the
-- constant. The one definition of the filters, for changes
-- (scoped_changes) and for the rows derived from them.
create or replace macro in_change_scope(
    v_application_id, v_team, v_change_type, v_environment_id,
    application_ids, portfolios, teams, change_types, tiers
) as
keep(application_ids, v_application_id)
and keep(teams, v_team)
and keep(change_types, v_change_type)
and (
    cast(portfolios as varchar[]) is null
    or v_application_id in (
        select a.application_id
        from applications as a
        where list_contains(cast(portfolios as varchar[]), a.portfolio)
    )
)
and (
    cast(tiers as varchar[]) is null
    or v_environment_id in (
        select e.environment_id
        from environments as e
        where list_contains(cast(tiers as varchar[]), e.tier)
    )
);

-- scoped_changes(...): changes passing the global filters (in_change_scope).
create or replace macro scoped_changes(
    application_ids, portfolios, teams, change_types, tiers
) as table
select c.*
from changes as c
where
    in_change_scope(
        c.application_id, c.assignment_group, c.change_type,
        c.environment_id, application_ids, portfolios, teams, change_types,
        tiers
    );

-- span_seconds(p_from, p_to): seconds from one instant to another, the same
-- double as epoch(p_to - p_from), read from the stored microseconds: the
-- difference of two timestamptz goes through the calendar, a zone lookup
-- per row, many times dearer.
create or replace macro span_seconds(p_from, p_to) as
(epoch_us(p_to) - epoch_us(p_from)) / 1000000;

-- derived_change_incident_links: one row per distinct (change, incident)
-- pair of failure signal (a) (docs/metrics.md shared definitions), any priority: the
-- incident's caused_by_change_id, or the change of its
-- caused_by_deployment_id. An incident linked both ways to one change is one
-- row; linked to two changes it is a row for each. A derived view: a table
-- in a published file (changeboard/db.py materialize).
create or replace view derived_change_incident_links as
with links as (
    select
        i.caused_by_change_id as change_id,
        i.incident_id
    from incidents as i
    where i.caused_by_change_id is not null
    union
    select
        d.change_id,
        i.incident_id
    from incidents as i
    inner join deployments as d
        on i.caused_by_deployment_id = d.deployment_id
    where d.change_id is not null
)

select
    l.change_id,
    i.incident_id,
    i.priority,
    i.opened_at,
    i.resolved_at
from links as l
inner join incidents as i on l.incident_id = i.incident_id;

-- meets_min_priority(priority, min_priority): whether an incident of that
-- priority fails a change at the threshold min_priority: any incident when
-- it is NULL (unprioritised ones too), else priority min_priority or higher
-- (a number at most it; an unprioritised one never).
create or replace macro meets_min_priority(v_priority, p_min_priority) as
cast(p_min_priority as integer) is null
or v_priority <= cast(p_min_priority as integer);

-- failed_close_code(close_code): closed unsuccessful or backed out (false
-- for any other close code or none).
create or replace macro failed_close_code(p_close_code) as
coalesce(p_close_code in ('unsuccessful', 'backed_out'), false);

-- change_incident_links(min_priority): derived_change_incident_links of
-- priority min_priority or higher (NULL = any, unprioritised included).
create or replace macro change_incident_links(min_priority) as table
select
    change_id,
    incident_id,
    priority,
    opened_at,
    resolved_at
from derived_change_incident_links
where meets_min_priority(priority, min_priority);

-- change_incident_ids(min_priority, before): one row per change with a
-- linked incident of priority min_priority or higher (NULL = any) opened
-- before `before` (NULL: whenever): incident_ids, their ids in order of
-- opening, comma-separated, as change_records and cab_since_last name the
-- incidents that fail a change. Each change's short list is sorted: an
-- ordered string_agg took 14 of change_records' 90 ms at a million
-- changes; the whole (24,355 changes there) is read once and joined, where
-- a lookup of a query's rows read them twice.
create or replace macro change_incident_ids(min_priority, before) as table
select
    change_id,
    array_to_string(
        list_transform(
            list_sort(list(struct_pack(at := opened_at, id := incident_id))),
            lambda link: link.id
        ),
        ', '
    ) as incident_ids
from change_incident_links(min_priority)
where cast(before as timestamptz) is null or opened_at < before
group by change_id;

-- derived_change_rollbacks: one row per rolled-back or rollback deployment
-- of a change, with the instant it signals (finished, else started). A
-- derived view, as above.
create or replace view derived_change_rollbacks as
select
    change_id,
    coalesce(finished_at, started_at) as signal_at
from deployments
where
    change_id is not null
    and (status = 'rolled_back' or coalesce(is_rollback, false));

-- change_failure_signals(min_priority): one row per change with an explicit
-- failure signal (docs/metrics.md shared definitions): a linked incident of priority
-- min_priority or higher (NULL = any), reached by caused_by_change_id or by
-- caused_by_deployment_id through the deployment's change; or a rolled-back
-- or rollback deployment of the change.
create or replace macro change_failure_signals(min_priority) as table
with signals as (
    select
        change_id,
        true as by_incident,
        false as by_rollback,
        opened_at as signal_at
    from change_incident_links(min_priority)
    union all
    select
        change_id,
        false as by_incident,
        true as by_rollback,
        signal_at
    from derived_change_rollbacks
)

select
    change_id,
    bool_or(by_incident) as by_incident,
    bool_or(by_rollback) as by_rollback,
    min(signal_at) filter (where by_incident) as first_incident_at,
    min(signal_at) filter (where by_rollback) as first_rollback_at
from signals
group by change_id;

-- outcome_kind(close_code, actual_end_at): a change's kind by its outcome
-- (docs/metrics.md, shared definitions): 'implemented' (closed successful,
-- successful with issues, unsuccessful or backed out), 'excluded'
-- (cancelled or rejected), 'unclassified' (ended, no close code yet), NULL
-- while it has neither.
create or replace macro outcome_kind(p_close_code, p_actual_end_at) as
case
    when
        p_close_code in (
            'successful', 'successful_with_issues', 'unsuccessful',
            'backed_out'
        )
        then 'implemented'
    when p_close_code in ('cancelled', 'rejected') then 'excluded'
    when p_close_code is null and p_actual_end_at is not null
        then 'unclassified'
end;

-- is_failed_outcome(kind, close_code, by_incident, by_rollback): whether a
-- change of that outcome kind failed (docs/metrics.md shared definitions):
-- implemented, and closed unsuccessful or backed out, or with a failure
-- signal (a linked incident, a rollback).
create or replace macro is_failed_outcome(
    p_kind, p_close_code, p_by_incident, p_by_rollback
) as
p_kind = 'implemented' and (
    failed_close_code(p_close_code)
    or p_by_incident
    or p_by_rollback
);

-- outcome_kinds_between(p_start_at, p_end_at, ...): the changes in the
-- filters whose outcome_at = coalesce(actual_end_at, closed_at) falls in
-- [p_start_at, p_end_at) (instants; NULL bounds: every change), with
-- outcome_at and kind as classified_changes defines them, changes of no kind
-- left out; no failure signal (classified_changes_between adds them). The
-- window is read as two disjoint ranges, actual_end_at in it, or no
-- actual_end_at and closed_at in it, so each is a range on a stored column
-- that the scan filters (zone maps) before reading the other columns; with
-- no window one scan reads every change (the branches not taken fold away).
create or replace macro outcome_kinds_between(
    p_start_at, p_end_at, p_application_ids, p_portfolios, p_teams,
    p_change_types, p_tiers
) as table
with windowed as (
    select c.*
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    where cast(p_start_at as timestamptz) is null
    union all
    select c.*
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    where
        cast(p_start_at as timestamptz) is not null
        and c.actual_end_at >= cast(p_start_at as timestamptz)
        and c.actual_end_at < cast(p_end_at as timestamptz)
    union all
    select c.*
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    where
        cast(p_start_at as timestamptz) is not null
        and c.actual_end_at is null
        and c.closed_at >= cast(p_start_at as timestamptz)
        and c.closed_at < cast(p_end_at as timestamptz)
),

classified as (
    select
        c.*,
        coalesce(c.actual_end_at, c.closed_at) as outcome_at,
        outcome_kind(c.close_code, c.actual_end_at) as kind
    from windowed as c
)

select *
from classified
where kind is not null;

-- classified_changes_between(p_start_at, p_end_at, ...): the rows of
-- classified_changes whose outcome_at falls in [p_start_at, p_end_at)
-- (instants); NULL bounds: every row. outcome_kinds_between with the
-- failure signals of those changes alone (change_failure_signals joined on
-- the window's changes).
create or replace macro classified_changes_between(
    p_start_at, p_end_at, p_application_ids, p_portfolios, p_teams,
    p_change_types, p_tiers, p_failure_min_priority
) as table
with classified as (
    select *
    from
        outcome_kinds_between(
            p_start_at, p_end_at, p_application_ids, p_portfolios, p_teams,
            p_change_types, p_tiers
        )
),

signalled as (
    select
        c.*,
        coalesce(f.by_incident, false) as is_failed_by_incident,
        coalesce(f.by_rollback, false) as is_failed_by_rollback
    from classified as c
    left join change_failure_signals(p_failure_min_priority) as f
        on c.change_id = f.change_id
)

select
    c.* exclude (is_failed_by_incident, is_failed_by_rollback),
    c.kind = 'implemented' and c.actual_end_at is null
    as outcome_from_closed_at,
    failed_close_code(c.close_code) as is_failed_by_close_code,
    c.is_failed_by_incident,
    c.is_failed_by_rollback,
    is_failed_outcome(
        c.kind, c.close_code, c.is_failed_by_incident, c.is_failed_by_rollback
    ) as is_failed
from signalled as c;

-- classified_changes(...): every change in the filters with its outcome
-- (docs/metrics.md shared definitions), whenever it ended: the columns of change_outcomes
-- without its window. kind = 'implemented', 'excluded' or 'unclassified'
-- (see change_outcomes); changes of none of these kinds are left out.
-- is_failed_by_incident / is_failed_by_rollback: the change has a row in
-- change_failure_signals(p_failure_min_priority) with that signal.
create or replace macro classified_changes(
    p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers,
    p_failure_min_priority
) as table
select *
from
    classified_changes_between(
        null, null, p_application_ids, p_portfolios, p_teams, p_change_types,
        p_tiers, p_failure_min_priority
    );

-- change_outcomes(...): one row per change in the filters whose outcome falls
-- in [p_start_date, p_end_date) read in p_reporting_tz (docs/metrics.md shared definitions
-- and change_success_rate). kind = 'implemented' (close code successful,
-- successful_with_issues, unsuccessful or backed_out; outcome_at =
-- coalesce(actual_end_at, closed_at) in W), 'excluded' (cancelled or
-- rejected, same instant in W) or 'unclassified' (no close code,
-- actual_end_at in W). is_failed: close code unsuccessful/backed_out or an
-- explicit signal from change_failure_signals(p_failure_min_priority).
create or replace macro change_outcomes(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_failure_min_priority
) as table
select *
from
    classified_changes_between(
        local_midnight(p_start_date, p_reporting_tz),
        local_midnight(p_end_date, p_reporting_tz),
        p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers,
        p_failure_min_priority
    );

-- change_outcome_facts_of(p_after_batch): one row per change with an
-- outcome kind (outcome_kind) or completed without a close code (A24: no
-- close code, state review or closed), narrowed to what the outcome counts
-- read: the filters' and dimensions' columns, close_code, kind (NULL for a
-- completed change without one), outcome_at = coalesce(actual_end_at,
-- closed_at), outcome_from_closed_at (implemented, no actual_end_at),
-- is_completed_without_close_code, is_cancelled_without_close_code (no
-- close code, state cancelled: A24 excludes it, the outcome metrics never
-- see it: kind NULL), and the change's failure signals of any
-- priority: has_incident, min_incident_priority (the highest priority of
-- its linked incidents, NULL when none is prioritised) and has_rollback.
-- p_after_batch: NULL, or only the changes a load after that batch wrote (a
-- row depends on its change alone: db.py ROWWISE).
create or replace macro change_outcome_facts_of(p_after_batch) as table
with signals as (
    select
        change_id,
        bool_or(is_incident) as has_incident,
        min(priority) as min_incident_priority,
        bool_or(not is_incident) as has_rollback
    from (
        select
            change_id,
            true as is_incident,
            priority
        from derived_change_incident_links
        union all
        select
            change_id,
            false as is_incident,
            null as priority
        from derived_change_rollbacks
    )
    group by change_id
),

ended as (
    select
        c.change_id,
        c.application_id,
        c.assignment_group,
        c.change_type,
        c.environment_id,
        c.risk,
        c.close_code,
        c.actual_end_at,
        c.closed_at,
        outcome_kind(c.close_code, c.actual_end_at) as kind,
        coalesce(
            c.close_code is null and c.state in ('review', 'closed'), false
        ) as is_completed_without_close_code,
        coalesce(
            c.close_code is null and c.state = 'cancelled', false
        ) as is_cancelled_without_close_code
    from changes as c
    where
        cast(p_after_batch as integer) is null
        or c.ingested_batch_id > cast(p_after_batch as integer)
)

select
    e.change_id,
    e.application_id,
    e.assignment_group,
    e.change_type,
    e.environment_id,
    e.risk,
    e.close_code,
    e.kind,
    coalesce(e.actual_end_at, e.closed_at) as outcome_at,
    coalesce(e.kind = 'implemented' and e.actual_end_at is null, false)
    as outcome_from_closed_at,
    e.is_completed_without_close_code,
    e.is_cancelled_without_close_code,
    coalesce(s.has_incident, false) as has_incident,
    s.min_incident_priority,
    coalesce(s.has_rollback, false) as has_rollback
from ended as e
left join signals as s on e.change_id = s.change_id
where
    e.kind is not null
    or e.is_completed_without_close_code
    or e.is_cancelled_without_close_code;

-- derived_change_outcomes: change_outcome_facts_of every change. A derived
-- view: a table in a published file (changeboard/db.py materialize), so the
-- outcome counts read a narrow table with the failure signals joined once,
-- instead of the changes and every signal on each query (a year's success
-- rate at a million changes: 64 -> 7 ms of query).
create or replace view derived_change_outcomes as
select * from change_outcome_facts_of(null);

-- outcome_facts_between(p_start_at, p_end_at, filters...): the rows of
-- derived_change_outcomes in the filters whose outcome_at falls in
-- [p_start_at, p_end_at) (instants; NULL bounds: every row).
create or replace macro outcome_facts_between(
    p_start_at, p_end_at, p_application_ids, p_portfolios, p_teams,
    p_change_types, p_tiers
) as table
select o.*
from derived_change_outcomes as o
where
    in_change_scope(
        o.application_id, o.assignment_group, o.change_type,
        o.environment_id, p_application_ids, p_portfolios, p_teams,
        p_change_types, p_tiers
    )
    and (
        cast(p_start_at as timestamptz) is null
        or (
            o.outcome_at >= cast(p_start_at as timestamptz)
            and o.outcome_at < cast(p_end_at as timestamptz)
        )
    );

-- outcome_facts_in(p_start_date, p_end_date, p_reporting_tz, filters...):
-- outcome_facts_between over [p_start_date, p_end_date) read in
-- p_reporting_tz (NULL dates: every row).
create or replace macro outcome_facts_in(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
select *
from
    outcome_facts_between(
        local_midnight(p_start_date, p_reporting_tz),
        local_midnight(p_end_date, p_reporting_tz),
        p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
    );

-- change_outcome_facts_between(p_start_at, p_end_at, filters...,
-- p_failure_min_priority): the rows of classified_changes_between (same
-- window, filters, kinds and failure columns: outcome_kind,
-- is_failed_outcome) with the columns the counts read (change_id,
-- application_id, assignment_group, change_type, environment_id, risk,
-- close_code, kind, outcome_at, outcome_from_closed_at,
-- is_failed_by_close_code, is_failed_by_incident, is_failed_by_rollback,
-- is_failed), read from derived_change_outcomes: an incident fails a change
-- when its priority is p_failure_min_priority or higher (NULL: any).
create or replace macro change_outcome_facts_between(
    p_start_at, p_end_at, p_application_ids, p_portfolios, p_teams,
    p_change_types, p_tiers, p_failure_min_priority
) as table
with signalled as (
    select
        o.* exclude (
            is_completed_without_close_code, is_cancelled_without_close_code,
            has_incident, min_incident_priority, has_rollback
        ),
        failed_close_code(o.close_code) as is_failed_by_close_code,
        -- the highest priority among its incidents meets the threshold
        o.has_incident and coalesce(
            meets_min_priority(o.min_incident_priority, p_failure_min_priority),
            false
        ) as is_failed_by_incident,
        o.has_rollback as is_failed_by_rollback
    from
        outcome_facts_between(
            p_start_at, p_end_at, p_application_ids, p_portfolios, p_teams,
            p_change_types, p_tiers
        ) as o
    where o.kind is not null
)

select
    *,
    is_failed_outcome(
        kind, close_code, is_failed_by_incident, is_failed_by_rollback
    ) as is_failed
from signalled;

-- completed_changes(...): one row per change in the filters whose work ended
-- in [p_start_date, p_end_date) read in p_reporting_tz (docs/metrics.md A24,
-- completed change). completed_at = coalesce(actual_end_at, closed_at); the
-- window reads completed_at, or actual_end_at alone when p_by_actual_end
-- (change_lead_time, schedule_adherence: no closed_at fallback).
-- kind = 'completed' (close code successful, successful_with_issues,
-- unsuccessful or backed_out; or no close code and state review or closed),
-- 'excluded' (close code cancelled or rejected, or state cancelled) or
-- 'unclassified' (no close code and another state). has_outcome: the close
-- code is one of the four implemented ones, so outcome metrics can use it.
-- The window is read as actual_end_at in it, or (not p_by_actual_end) no
-- actual_end_at and closed_at in it: ranges the scan filters.
create or replace macro completed_changes(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_by_actual_end
) as table
with windowed as (
    select c.*
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    where
        c.actual_end_at >= local_midnight(p_start_date, p_reporting_tz)
        and c.actual_end_at < local_midnight(p_end_date, p_reporting_tz)
    union all
    select c.*
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    where
        not p_by_actual_end
        and c.actual_end_at is null
        and c.closed_at >= local_midnight(p_start_date, p_reporting_tz)
        and c.closed_at < local_midnight(p_end_date, p_reporting_tz)
),

ended as (
    select
        c.*,
        coalesce(c.actual_end_at, c.closed_at) as completed_at,
        coalesce(
            c.close_code in (
                'successful', 'successful_with_issues', 'unsuccessful',
                'backed_out'
            ),
            false
        ) as has_outcome
    from windowed as c
)

select
    e.*,
    case
        when e.has_outcome then 'completed'
        when
            e.close_code in ('cancelled', 'rejected')
            or e.state = 'cancelled'
            then 'excluded'
        when e.close_code is null and e.state in ('review', 'closed')
            then 'completed'
        else 'unclassified'
    end as kind
from ended as e;

-- change_periods(p_start_date, p_end_date, p_grain): one row per week (ISO,
-- Monday), month or quarter overlapping [p_start_date, p_end_date), labelled
-- 2025-W01, 2025-01 or 2025-Q1 (docs/metrics.md C3); is_complete is false for a
-- period the window's edges cut. Any other grain raises an error.
create or replace macro change_periods(
    p_start_date, p_end_date, p_grain
) as table
with periods as (
    select cast(g.period_start as date) as period_start
    from
        generate_series(
            date_trunc(p_grain, cast(p_start_date as date)),
            cast(p_end_date as date) - interval 1 day,
            case p_grain
                when 'week' then interval 7 day
                when 'month' then interval 1 month
                when 'quarter' then interval 3 month
                else error('grain must be week, month or quarter')
            end
        ) as g (period_start)
)

select
    period_start,
    case p_grain
        when 'week' then strftime(period_start, '%G-W%V')
        when 'quarter'
            then
                strftime(period_start, '%Y')
                || '-Q'
                || cast(quarter(period_start) as varchar)
        else strftime(period_start, '%Y-%m')
    end as period_label,
    period_start >= cast(p_start_date as date)
    and period_start
    + case p_grain
        when 'week' then interval 7 day
        when 'quarter' then interval 3 month
        else interval 1 month
    end
    <= cast(p_end_date as date) as is_complete
from periods;

-- grain_periods(start, end, grain): change_periods when p_grain is set, no
-- row when it is NULL (the periods a *_counts macro zero-fills).
create or replace macro grain_periods(p_start_date, p_end_date, p_grain) as
table
select
    period_start,
    period_label,
    is_complete
from change_periods(p_start_date, p_end_date, coalesce(p_grain, 'month'))
where p_grain is not null;

-- servicenow_default(): the weights of ServiceNow's change success score
-- (ServiceNowDocs change-score-calculation.md), one row per scored
-- component: a change's close code, or a linked incident's priority as
-- p1..p3. backed_out is ours, weighed as unsuccessful; a component not
-- listed (priority 4 or lower) weighs 0.
create or replace macro servicenow_default() as table
select
    w.component,
    w.weight
from (
    values
    ('successful', 3),
    ('successful_with_issues', -2),
    ('unsuccessful', -5),
    ('backed_out', -5),
    ('p1', -10),
    ('p2', -5),
    ('p3', -2)
) as w (component, weight);

-- cab_required_starts(...): one row per change in the filters whose
-- actual_start_at falls in [p_start_date, p_end_date) read in
-- p_reporting_tz, with the unauthorized_changes rule (docs/metrics.md unauthorized_changes)
-- applied where is_cab_required is true: not approved, or approved after it
-- started. Approved with no approved_at is authorised
-- (is_approval_time_missing). The flags are NULL when the approval is
-- missing (unclassified). The change's columns a list shows come along
-- (cab_since_last reads no second copy of changes).
create or replace macro cab_required_starts(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with started as (
    select
        c.change_id,
        c.title,
        c.change_type,
        c.risk,
        c.assignment_group,
        c.application_id,
        c.is_cab_required,
        c.approval,
        c.created_at,
        c.approved_at,
        c.actual_start_at,
        c.actual_end_at,
        c.state,
        c.close_code,
        c.closed_at
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    where
        c.actual_start_at >= local_midnight(p_start_date, p_reporting_tz)
        and c.actual_start_at < local_midnight(p_end_date, p_reporting_tz)
)

select
    *,
    approval <> 'approved' as is_not_approved,
    approval = 'approved'
    and coalesce(approved_at > actual_start_at, false)
    as is_approved_after_start,
    approval = 'approved' and approved_at is null as is_approval_time_missing,
    approval <> 'approved'
    or (
        approval = 'approved'
        and coalesce(approved_at > actual_start_at, false)
    )
    as is_unauthorized
from started;

-- approval_spans(...): one row per change in the filters whose approved_at
-- falls in [p_start_date, p_end_date) read in p_reporting_tz, whatever its
-- later state (docs/metrics.md approval_lead_time): lead_hours = created_at ->
-- approved_at. kind = 'measured', 'invalid' (negative span), 'excluded'
-- (approval is not 'approved') or 'unclassified' (approval missing). The
-- change's title, risk, assignment_group and application_id come along for
-- the records (no second read of changes).
create or replace macro approval_spans(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with approved as (
    select
        c.change_id,
        c.change_type,
        c.approval,
        c.created_at,
        c.approved_at,
        span_seconds(c.created_at, c.approved_at) / 3600 as lead_hours,
        c.title,
        c.risk,
        c.assignment_group,
        c.application_id
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    where
        c.approved_at >= local_midnight(p_start_date, p_reporting_tz)
        and c.approved_at < local_midnight(p_end_date, p_reporting_tz)
)

select
    *,
    case
        when approval is null then 'unclassified'
        when approval <> 'approved' then 'excluded'
        when lead_hours < 0 then 'invalid'
        else 'measured'
    end as kind
from approved;

-- failed_change_recoveries(...): one row per failed implemented change in
-- the filters, whenever it ended (docs/metrics.md failed_change_recovery_time).
-- recovery_started_at: for a close-code or rollback failure, the finished_at
-- of its earliest production deployment (prod tier, succeeded or
-- rolled_back), else actual_start_at, else outcome_at; for a failure by
-- incidents only, their earliest opened_at. restored_at: the earliest of a
-- succeeded is_rollback deployment of the change finished at or after the
-- start (any environment), the back-out's end (backed_out only), and the
-- latest resolved_at of its incidents once all are resolved; NULL when none.
-- has_open_incident: one of its incidents is unresolved. p_after_batch:
-- NULL, or only the changes a load after that batch wrote (a row depends
-- on its change alone: db.py ROWWISE recomputes those rows after a load
-- of changes).
create or replace macro failed_change_recoveries_of(
    p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers,
    p_failure_min_priority, p_after_batch
) as table
-- failed: the rows of classified_changes(...) where is_failed, with the
-- columns they need: an implemented change (its close code one of the four
-- implemented ones) failed by its close code or by a failure signal. The
-- close codes are a filter on the scan, with no kind worked out per change
-- first (at a million changes: 0.27 -> 0.17 s with went_live below).
with failed as (
    select
        c.change_id,
        c.assignment_group,
        c.close_code,
        c.actual_start_at,
        c.actual_end_at,
        coalesce(c.actual_end_at, c.closed_at) as outcome_at,
        c.close_code in ('unsuccessful', 'backed_out')
        as is_failed_by_close_code,
        coalesce(f.by_incident, false) as is_failed_by_incident,
        coalesce(f.by_rollback, false) as is_failed_by_rollback
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
    left join change_failure_signals(p_failure_min_priority) as f
        on c.change_id = f.change_id
    where
        (
            cast(p_after_batch as integer) is null
            or c.ingested_batch_id > cast(p_after_batch as integer)
        )
        and (
            c.close_code in ('unsuccessful', 'backed_out')
            or (
                c.close_code in ('successful', 'successful_with_issues')
                and f.change_id is not null
            )
        )
),

-- the first production deployment of the failed changes alone: for every
-- change, production's deployments first, then those of failed changes;
-- for the changes of the loads after p_after_batch (a few thousand), from
-- them, so the deployments' scan skips what their ids rule out (a
-- 10,000-change load into a million: 0.07 -> 0.02 s; the first order
-- reads every deployment, the second is slower for all changes)
went_live as (
    select
        d.change_id,
        min(d.finished_at) as went_live_at
    from deployments as d
    inner join environments as e on d.environment_id = e.environment_id
    where
        cast(p_after_batch as integer) is null
        and e.tier = 'prod'
        and d.status in ('succeeded', 'rolled_back')
        and d.change_id in (select f.change_id from failed as f)
    group by d.change_id
    union all
    select
        d.change_id,
        min(d.finished_at) as went_live_at
    from failed as f
    inner join deployments as d on f.change_id = d.change_id
    inner join environments as e on d.environment_id = e.environment_id
    where
        cast(p_after_batch as integer) is not null
        and e.tier = 'prod'
        and d.status in ('succeeded', 'rolled_back')
    group by d.change_id
),

incident_spans as (
    select
        change_id,
        min(opened_at) as first_opened_at,
        max(resolved_at) as last_resolved_at,
        bool_or(resolved_at is null) as has_open_incident
    from change_incident_links(p_failure_min_priority)
    group by change_id
),

started as (
    select
        f.*,
        case
            when f.is_failed_by_close_code or f.is_failed_by_rollback
                then coalesce(g.went_live_at, f.actual_start_at, f.outcome_at)
            else s.first_opened_at
        end as recovery_started_at,
        s.last_resolved_at,
        coalesce(s.has_open_incident, false) as has_open_incident
    from failed as f
    left join went_live as g on f.change_id = g.change_id
    left join incident_spans as s on f.change_id = s.change_id
),

rollbacks as (
    select
        s.change_id,
        min(d.finished_at) as rolled_back_at
    from started as s
    inner join deployments as d on s.change_id = d.change_id
    where
        coalesce(d.is_rollback, false)
        and d.status = 'succeeded'
        and d.finished_at >= s.recovery_started_at
    group by s.change_id
),

restored as (
    select
        s.*,
        least(
            r.rolled_back_at,
            case
                when s.close_code = 'backed_out'
                    then coalesce(s.actual_end_at, s.outcome_at)
            end,
            case when not s.has_open_incident then s.last_resolved_at end
        ) as restored_at
    from started as s
    left join rollbacks as r on s.change_id = r.change_id
)

select
    change_id,
    assignment_group,
    close_code,
    outcome_at,
    is_failed_by_close_code,
    is_failed_by_incident,
    is_failed_by_rollback,
    has_open_incident,
    recovery_started_at,
    restored_at,
    epoch(restored_at - recovery_started_at) / 3600 as recovery_hours
from restored;

-- derived_failed_change_recoveries: failed_change_recoveries_of every
-- change, failed by an incident of any priority. A derived view: a table in
-- a published file (changeboard/db.py materialize).
create or replace view derived_failed_change_recoveries as
select *
from failed_change_recoveries_of(null, null, null, null, null, null, null);

-- failed_change_recoveries(...): a row depends only on its own change, so
-- derived_failed_change_recoveries as it is when unfiltered, its rows of the
-- changes the filters pass when filtered; a minimum incident priority is
-- computed afresh.
create or replace macro failed_change_recoveries(
    p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers,
    p_failure_min_priority
) as table
select
    r.change_id,
    r.assignment_group,
    r.close_code,
    r.outcome_at,
    r.is_failed_by_close_code,
    r.is_failed_by_incident,
    r.is_failed_by_rollback,
    r.has_open_incident,
    r.recovery_started_at,
    r.restored_at,
    r.recovery_hours
from derived_failed_change_recoveries as r
where
    cast(p_failure_min_priority as integer) is null
    and coalesce(
        cast(p_application_ids as varchar[]),
        cast(p_portfolios as varchar[]),
        cast(p_teams as varchar[]),
        cast(p_change_types as varchar[]),
        cast(p_tiers as varchar[])
    ) is null
union all
select
    r.change_id,
    r.assignment_group,
    r.close_code,
    r.outcome_at,
    r.is_failed_by_close_code,
    r.is_failed_by_incident,
    r.is_failed_by_rollback,
    r.has_open_incident,
    r.recovery_started_at,
    r.restored_at,
    r.recovery_hours
from derived_failed_change_recoveries as r
where
    cast(p_failure_min_priority as integer) is null
    and coalesce(
        cast(p_application_ids as varchar[]),
        cast(p_portfolios as varchar[]),
        cast(p_teams as varchar[]),
        cast(p_change_types as varchar[]),
        cast(p_tiers as varchar[])
    ) is not null
    and r.change_id in (
        select s.change_id
        from
            scoped_changes(
                p_application_ids, p_portfolios, p_teams, p_change_types,
                p_tiers
            ) as s
    )
union all
select
    change_id,
    assignment_group,
    close_code,
    outcome_at,
    is_failed_by_close_code,
    is_failed_by_incident,
    is_failed_by_rollback,
    has_open_incident,
    recovery_started_at,
    restored_at,
    recovery_hours
from
    failed_change_recoveries_of(
        p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers,
        p_failure_min_priority, null
    )
where cast(p_failure_min_priority as integer) is not null;
