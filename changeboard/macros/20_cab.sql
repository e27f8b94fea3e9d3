-- SQL macros: CAB evidence (docs/metrics.md cab_agenda): the agenda of a
-- meeting, collisions between planned changes, freeze/blackout/maintenance
-- window hits and the history of similar changes.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own: this
-- file sorts after 10_changes.sql, whose scoped_changes and
-- change_failure_signals it uses.

-- local_instant(value, tz): an instant from text (or a timestamp): with an
-- offset or Z ('2026-01-15 10:00+01', '...Z') as given; without one
-- ('2026-01-15 10:00', or a date, which means 00:00) read in the IANA zone
-- tz. NULL stays NULL.
create or replace macro local_instant(value, tz) as
case
    when value is null then null
    when
        regexp_matches(
            cast(value as varchar),
            '\d:\d{2}(:\d{2}(\.\d+)?)?\s*(z|[+-]\d{2}(:?\d{2})?)$',
            'i'
        )
        then cast(cast(value as varchar) as timestamptz)
    else timezone(
        cast(tz as varchar), cast(cast(value as varchar) as timestamp)
    )
end;

-- instant_or_midnight(value, day, tz): local_instant(value, tz) when a value
-- is given, else the midnight that starts the local date day: a query's
-- window given as instants (the CAB pack's look-back up to the meeting)
-- or, by default, as dates.
create or replace macro instant_or_midnight(value, day, tz) as
coalesce(local_instant(value, tz), local_midnight(day, tz));

-- plan_meets(start_at, end_at, w_start, w_end): the plan [start_at, end_at)
-- overlaps [w_start, w_end) (docs/metrics.md shared definitions: back-to-back is no
-- overlap); an empty plan (end_at = start_at) meets it when its instant is
-- in it. NULL when a bound is NULL.
create or replace macro plan_meets(start_at, end_at, w_start, w_end) as
(start_at < w_end and w_start < end_at)
or (end_at = start_at and w_start <= start_at and start_at < w_end);

-- derived_cab_unplanned_changes: the open changes (state not closed or
-- cancelled) without a valid plan (planned_start_at or planned_end_at NULL,
-- or end before start), whatever their dates: with the changes whose plan
-- meets a review window, all cab_changes reads, and few in any data (a scan
-- of every change for them would cost each CAB query more than the rest of
-- its work). Only what classifies and filters them (cab_changes only
-- counts them). A derived view: a table in a published file
-- (changeboard/db.py materialize).
-- cab_unplanned_changes_of(p_after_batch): its rows, of every change (NULL)
-- or of the changes a load after that batch wrote (db.py ROWWISE: a row is
-- its change's alone).
create or replace macro cab_unplanned_changes_of(p_after_batch) as table
select
    change_id,
    change_type,
    state,
    application_id,
    assignment_group,
    environment_id,
    is_cab_required,
    approval,
    planned_start_at,
    planned_end_at
from changes
where
    state not in ('closed', 'cancelled')
    and not coalesce(planned_end_at >= planned_start_at, false)
    and (
        cast(p_after_batch as integer) is null
        or ingested_batch_id > cast(p_after_batch as integer)
    );

create or replace view derived_cab_unplanned_changes as
select *
from cab_unplanned_changes_of(null);

-- cab_changes(...): one row per change passing the global filters (the
-- filters of scoped_changes) whose valid plan meets W, or that is open
-- without a valid plan (no other change has an agenda class or is in a
-- scope), with the review window W = [w_start, w_end) (instants from
-- local_instant in p_reporting_tz) and its CAB classification. Columns:
-- change_id, title, description, justification, implementation_plan,
-- backout_plan, test_plan, change_type, state, risk, impact, priority,
-- application_id, ci_name, assignment_group, requested_by, release_id,
-- environment_id, is_cab_required, cab_date, approval, planned_start_at,
-- planned_end_at, actual_start_at, actual_end_at, closed_at, close_code of
-- the change (of an open change without a valid plan, which is only ever
-- counted, only change_id, change_type, state, application_id,
-- assignment_group, environment_id, is_cab_required, approval and the
-- planned dates: the rest NULL), then w_start, w_end and:
-- has_plan: planned_start_at and planned_end_at set, end >= start;
-- meets_window: has_plan and plan_meets W; is_open: state not closed or
-- cancelled; is_in_scope: is_open and approval not rejected (NULL approval is
-- in scope), the population of collisions and window hits;
-- agenda_class (docs/metrics.md cab_agenda), for open normal or emergency changes
-- whose plan meets W: 'agenda' when is_cab_required and approval in
-- (requested, not_yet_requested); 'unclassified' when it would be but
-- is_cab_required or approval is NULL; 'excluded' for every other change
-- whose plan meets W; 'unplanned' for an open normal/emergency change,
-- is_cab_required, awaiting approval, without a valid plan (whatever its
-- dates); else NULL. risk_rank: very_high 1, high 2, moderate 3, low 4,
-- NULL 5.
create or replace macro cab_changes(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
-- the candidates before any join: a valid plan that starts before W ends
-- and ends at or after W starts (every plan meeting W does; W's bounds are
-- constants of the query, so the scan skips the row groups outside W),
-- and the open changes without a valid plan
with w as (
    select
        local_instant(p_window_start_at, p_reporting_tz) as w_start,
        local_instant(p_window_end_at, p_reporting_tz) as w_end
),

candidates as (
    select
        change_id,
        title,
        description,
        justification,
        implementation_plan,
        backout_plan,
        test_plan,
        change_type,
        state,
        risk,
        impact,
        priority,
        application_id,
        ci_name,
        assignment_group,
        requested_by,
        release_id,
        environment_id,
        is_cab_required,
        cab_date,
        approval,
        planned_start_at,
        planned_end_at,
        actual_start_at,
        actual_end_at,
        closed_at,
        close_code
    from changes
    where
        planned_start_at < local_instant(p_window_end_at, p_reporting_tz)
        and planned_end_at
        >= local_instant(p_window_start_at, p_reporting_tz)
        and planned_end_at >= planned_start_at
    union all
    select
        change_id,
        null as title,
        null as description,
        null as justification,
        null as implementation_plan,
        null as backout_plan,
        null as test_plan,
        change_type,
        state,
        null as risk,
        null as impact,
        null as priority,
        application_id,
        null as ci_name,
        assignment_group,
        null as requested_by,
        null as release_id,
        environment_id,
        is_cab_required,
        null as cab_date,
        approval,
        planned_start_at,
        planned_end_at,
        null as actual_start_at,
        null as actual_end_at,
        null as closed_at,
        null as close_code
    from derived_cab_unplanned_changes
),

-- the global filters, as scoped_changes applies them
scoped as (
    select c.*
    from candidates as c
    left join applications as a on c.application_id = a.application_id
    left join environments as e on c.environment_id = e.environment_id
    where
        keep(p_application_ids, c.application_id)
        and keep(p_portfolios, a.portfolio)
        and keep(p_teams, c.assignment_group)
        and keep(p_change_types, c.change_type)
        and keep(p_tiers, e.tier)
),

flagged as (
    select
        c.*,
        w.w_start,
        w.w_end,
        coalesce(c.planned_end_at >= c.planned_start_at, false) as has_plan,
        coalesce(
            c.planned_end_at >= c.planned_start_at
            and plan_meets(
                c.planned_start_at, c.planned_end_at, w.w_start, w.w_end
            ),
            false
        ) as meets_window,
        c.state not in ('closed', 'cancelled') as is_open,
        c.state not in ('closed', 'cancelled')
        and c.change_type in ('normal', 'emergency')
        and coalesce(c.is_cab_required, true)
        and coalesce(
            c.approval in ('requested', 'not_yet_requested'), true
        ) as is_agenda_candidate
    from scoped as c
    cross join w
)

select
    *,
    is_open and approval is distinct from 'rejected' as is_in_scope,
    case
        when
            meets_window and is_agenda_candidate
            and is_cab_required is not null and approval is not null
            then 'agenda'
        when meets_window and is_agenda_candidate then 'unclassified'
        when meets_window then 'excluded'
        when
            not has_plan and is_agenda_candidate
            and is_cab_required is not null and approval is not null
            then 'unplanned'
    end as agenda_class,
    case risk
        when 'very_high' then 1
        when 'high' then 2
        when 'moderate' then 3
        when 'low' then 4
        else 5
    end as risk_rank
from flagged
-- a candidate whose plan is valid but only near W has no agenda class and
-- is in no scope: every consumer ignores it, so it is not carried
where meets_window or not has_plan;

-- cab_window_scope_all(...): the cab_changes in scope (open, approval not
-- rejected) whose plan meets W, found directly, whatever the filters;
-- is_kept says whether a change passes them. The population of collisions
-- (change_collision_pairs: a pair is listed when either change is kept),
-- with only the columns they read; cab_changes where is_in_scope and
-- meets_window, without its classification (less to plan where a query
-- reads it several times).
create or replace macro cab_window_scope_all(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with w as (
    select
        local_instant(p_window_start_at, p_reporting_tz) as w_start,
        local_instant(p_window_end_at, p_reporting_tz) as w_end
)

select
    c.change_id,
    c.title,
    c.application_id,
    c.environment_id,
    c.ci_name,
    c.planned_start_at,
    c.planned_end_at,
    keep(p_application_ids, c.application_id)
    and keep(p_portfolios, a.portfolio)
    and keep(p_teams, c.assignment_group)
    and keep(p_change_types, c.change_type)
    and keep(p_tiers, e.tier) as is_kept
from changes as c
left join applications as a on c.application_id = a.application_id
left join environments as e on c.environment_id = e.environment_id
cross join w
where
    -- as cab_changes: W's bounds as constants, so the scan skips the row
    -- groups outside W
    c.planned_start_at < local_instant(p_window_end_at, p_reporting_tz)
    and c.planned_end_at >= local_instant(p_window_start_at, p_reporting_tz)
    and c.planned_end_at >= c.planned_start_at
    and plan_meets(c.planned_start_at, c.planned_end_at, w.w_start, w.w_end)
    and c.state not in ('closed', 'cancelled')
    and c.approval is distinct from 'rejected';

-- cab_window_scope(...): the changes of cab_window_scope_all that pass the
-- filters: the population of window hits (change_window_hits_of).
create or replace macro cab_window_scope(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
select * exclude (is_kept)
from
    cab_window_scope_all(
        p_window_start_at, p_window_end_at, p_reporting_tz,
        p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
    )
where is_kept;

-- cab_scope_counts(...): one row, the population counts of
-- change_collisions and change_window_hits (docs/metrics.md change_collisions)
-- over the cab_changes in scope (open, approval not rejected): n = changes
-- whose plan meets W; n_unclassified = changes without a valid plan
-- (NULL planned start or end, or end before start), whatever their dates.
create or replace macro cab_scope_counts(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
-- cab_changes has one row per change: count(*) counts changes
select
    count(*) filter (where meets_window) as n,
    count(*) filter (where not has_plan) as n_unclassified
from
    cab_changes(
        p_window_start_at, p_window_end_at, p_reporting_tz,
        p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
    )
where is_in_scope;

-- derived_change_collision_pairs: every pair of changes in scope of
-- collisions whatever W (open: state not closed or cancelled; approval not
-- rejected; a plan with positive length: empty and back-to-back plans never
-- collide) whose plans overlap and that share a non-NULL key, per key:
-- match_on 'application' (application_id), 'environment' (environment_id)
-- or 'ci' (ci_name), match_key its value; change_id_a < change_id_b; with
-- both plans (planned_start_at_a ... planned_end_at_b). A
-- derived view: a table in a published file (changeboard/db.py
-- materialize), so a window's collisions are the stored pairs of its
-- changes, not a self-join of every change in the window on each query.
-- Found without comparing every two changes of a key: each change is keyed
-- under every time bucket its plan meets up to the latest start (a pair's
-- overlap starts at the later of its starts), and a pair is taken in the
-- bucket of its overlap's start, which both plans meet: once each. A
-- bucket is a day, or a 1024th of the span from the earliest to the latest
-- start when that is longer, so a plan has at most 1025 buckets whatever
-- its dates.
create or replace view derived_change_collision_pairs as
with population as (
    select
        change_id,
        application_id,
        environment_id,
        ci_name,
        planned_start_at,
        planned_end_at,
        epoch_us(planned_start_at) as start_us,
        epoch_us(planned_end_at) as end_us
    from changes
    where
        state not in ('closed', 'cancelled')
        and approval is distinct from 'rejected'
        and planned_end_at > planned_start_at
),

span as (
    select
        max(start_us) as last_start_us,
        greatest(
            86400000000, (max(start_us) - min(start_us)) // 1024 + 1
        ) as bucket_us
    from population
),

bucketed as (
    select
        p.*,
        s.bucket_us,
        unnest(
            range(
                p.start_us // s.bucket_us,
                least(p.end_us - 1, s.last_start_us) // s.bucket_us + 1
            )
        ) as bucket
    from population as p
    cross join span as s
),

keyed as (
    select
        change_id,
        'application' as match_on,
        application_id as match_key,
        bucket,
        bucket_us,
        start_us,
        planned_start_at,
        planned_end_at
    from bucketed
    where application_id is not null
    union all
    select
        change_id,
        'environment' as match_on,
        environment_id as match_key,
        bucket,
        bucket_us,
        start_us,
        planned_start_at,
        planned_end_at
    from bucketed
    where environment_id is not null
    union all
    select
        change_id,
        'ci' as match_on,
        ci_name as match_key,
        bucket,
        bucket_us,
        start_us,
        planned_start_at,
        planned_end_at
    from bucketed
    where ci_name is not null
)

select
    a.change_id as change_id_a,
    b.change_id as change_id_b,
    a.match_on,
    a.match_key,
    a.planned_start_at as planned_start_at_a,
    a.planned_end_at as planned_end_at_a,
    b.planned_start_at as planned_start_at_b,
    b.planned_end_at as planned_end_at_b
from keyed as a
inner join keyed as b
    on
        a.match_on = b.match_on
        and a.match_key = b.match_key
        and a.bucket = b.bucket
        and a.bucket = greatest(a.start_us, b.start_us) // a.bucket_us
        and a.change_id < b.change_id
        and a.planned_start_at < b.planned_end_at
        and b.planned_start_at < a.planned_end_at
order by change_id_a, change_id_b, match_on;

-- collision_partners(): derived_change_collision_pairs read both ways, one
-- row per change in scope, other change it collides with (other_id) and key
-- (match_on), wherever the other's plan lies: a change planned across the
-- start or end of a review window or calendar period collides with the
-- change it overlaps outside it (a change from 09:45 in a window from 10:00
-- with one until 10:00 on its CI). Whether the change itself meets W and
-- passes the filters is the caller's: it reads the partners of the changes
-- it shows, whatever the partners' teams (as change_collision_pairs).
create or replace macro collision_partners() as table
select
    change_id_a as change_id,
    change_id_b as other_id,
    match_on
from derived_change_collision_pairs
union all
select
    change_id_b as change_id,
    change_id_a as other_id,
    match_on
from derived_change_collision_pairs;

-- change_collision_pairs(...): one row per pair of changes in scope of
-- collisions (open, approval not rejected) of which one at least is a
-- cab_change whose plan meets W (cab_window_scope_all), whose plans overlap
-- (with positive length: empty and back-to-back plans never collide) and
-- that share a non-NULL key, per key: match_on = 'application'
-- (application_id), 'environment' (environment_id) or 'ci' (ci_name),
-- match_key its value. change_id_a < change_id_b; the overlap is not
-- clipped to W (docs/metrics.md change_collisions): the other change's plan
-- may lie partly or wholly outside W. The filters choose the changes whose
-- collisions are listed: a pair is listed when either of its changes
-- planned in W passes them, whatever the other's team, type or application
-- (a collision is a fact about the change, not about the view). The pairs
-- of derived_change_collision_pairs with a change that meets W.
create or replace macro change_collision_pairs(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with population as (
    select
        change_id,
        title,
        planned_start_at,
        planned_end_at,
        is_kept
    from
        cab_window_scope_all(
            p_window_start_at, p_window_end_at, p_reporting_tz,
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        )
),

-- the stored pairs with a change of W that passes the filters; the other
-- may be planned outside W, so not in population
listed as (
    select
        p.*,
        a.change_id is null as is_a_outside,
        b.change_id is null as is_b_outside,
        a.title as title_a,
        b.title as title_b
    from derived_change_collision_pairs as p
    left join population as a on p.change_id_a = a.change_id
    left join population as b on p.change_id_b = b.change_id
    where a.is_kept or b.is_kept
),

-- the titles of the changes planned outside W
outside as (
    select
        change_id,
        title
    from changes
    where change_id in (
        select change_id_a from listed where is_a_outside
        union all
        select change_id_b from listed where is_b_outside
    )
)

select
    l.change_id_a,
    l.change_id_b,
    if(l.is_a_outside, oa.title, l.title_a) as title_a,
    if(l.is_b_outside, ob.title, l.title_b) as title_b,
    l.match_on,
    l.match_key,
    greatest(l.planned_start_at_a, l.planned_start_at_b) as overlap_start_at,
    least(l.planned_end_at_a, l.planned_end_at_b) as overlap_end_at,
    date_diff(
        'microsecond',
        greatest(l.planned_start_at_a, l.planned_start_at_b),
        least(l.planned_end_at_a, l.planned_end_at_b)
    ) / 3.6e9 as overlap_hours
from listed as l
left join outside as oa on l.change_id_a = oa.change_id
left join outside as ob on l.change_id_b = ob.change_id;

-- derived_change_window_hits: one row per hit of a change in scope of
-- collisions whatever W (open: state not closed or cancelled; approval not
-- rejected; a valid plan, end at or after start; docs/metrics.md
-- change_collisions): a freeze or blackout window that applies
-- (application_id NULL or equal, environment_id NULL or equal: a NULL key on
-- the change matches only NULL = all windows) and meets the plan, with the
-- overlap; or kind 'outside_maintenance' (window_id and overlap NULL) when
-- maintenance windows apply to the change but none contains its whole plan.
-- A hit depends on the change and the windows alone, not on W: a derived
-- view, a table in a published file (changeboard/db.py materialize), so a
-- window's hits are its changes' stored hits.
create or replace view derived_change_window_hits as
with population as (
    select
        change_id,
        application_id,
        environment_id,
        planned_start_at,
        planned_end_at
    from changes
    where
        state not in ('closed', 'cancelled')
        and approval is distinct from 'rejected'
        and planned_end_at >= planned_start_at
),

-- each change under every (application_id, environment_id) key a window
-- that applies to it can have: its own pair, each of its keys with NULL for
-- the other, and (NULL, NULL). A window applies exactly when its key equals
-- one of these (NULL matching NULL), so an equi-join finds the windows.
keyed as (
    select
        *,
        application_id as key_application_id,
        environment_id as key_environment_id
    from population
    where application_id is not null and environment_id is not null
    union all
    select
        *,
        application_id as key_application_id,
        null as key_environment_id
    from population
    where application_id is not null
    union all
    select
        *,
        null as key_application_id,
        environment_id as key_environment_id
    from population
    where environment_id is not null
    union all
    select
        *,
        null as key_application_id,
        null as key_environment_id
    from population
),

-- a freeze or blackout that applies and can meet the plan (plan_meets
-- decides)
applicable as (
    select
        c.change_id,
        c.planned_start_at,
        c.planned_end_at,
        b.window_id,
        b.name as window_name,
        b.kind,
        b.start_at,
        b.end_at
    from keyed as c
    inner join blackout_windows as b
        on
            c.key_application_id is not distinct from b.application_id
            and c.key_environment_id is not distinct from b.environment_id
            and b.start_at <= c.planned_end_at
            and c.planned_start_at <= b.end_at
    where b.kind in ('freeze', 'blackout')
),

-- the changes some maintenance window applies to (whenever it is), and
-- whether one of them contains the whole plan
maintenance_keys as (
    select distinct
        application_id,
        environment_id
    from blackout_windows
    where kind = 'maintenance'
),

maintained as (
    select distinct c.change_id
    from keyed as c
    inner join maintenance_keys as m
        on
            c.key_application_id is not distinct from m.application_id
            and c.key_environment_id is not distinct from m.environment_id
),

contained as (
    select distinct c.change_id
    from keyed as c
    inner join blackout_windows as b
        on
            c.key_application_id is not distinct from b.application_id
            and c.key_environment_id is not distinct from b.environment_id
            and b.start_at <= c.planned_start_at
            and c.planned_end_at <= b.end_at
    where b.kind = 'maintenance'
),

maintenance as (
    select
        p.change_id,
        p.planned_start_at,
        p.planned_end_at
    from population as p
    semi join maintained as m on p.change_id = m.change_id
    anti join contained as k on p.change_id = k.change_id
)

select
    change_id,
    planned_start_at,
    planned_end_at,
    window_id,
    window_name,
    kind,
    greatest(start_at, planned_start_at) as overlap_start_at,
    least(end_at, planned_end_at) as overlap_end_at,
    date_diff(
        'microsecond',
        greatest(start_at, planned_start_at),
        least(end_at, planned_end_at)
    ) / 3.6e9 as overlap_hours
from applicable
where plan_meets(planned_start_at, planned_end_at, start_at, end_at)
union all
select
    change_id,
    planned_start_at,
    planned_end_at,
    null as window_id,
    null as window_name,
    'outside_maintenance' as kind,
    null as overlap_start_at,
    null as overlap_end_at,
    null as overlap_hours
from maintenance
order by change_id;

-- change_window_hits_of(...): the rows of derived_change_window_hits of the
-- cab_changes in scope whose plan meets W and that pass the filters
-- (cab_window_scope).
create or replace macro change_window_hits_of(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
select h.*
from derived_change_window_hits as h
semi join
    cab_window_scope(
        p_window_start_at, p_window_end_at, p_reporting_tz,
        p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
    ) as p
    on h.change_id = p.change_id;

-- cab_agenda_ranked(...): the agenda of cab_agenda_changes without its
-- evidence: one row per cab_changes change on the agenda (agenda_class
-- 'agenda') with its agenda_rank (risk, very_high first, NULL last; then
-- planned_start_at; then change_id) and the columns of cab_changes, for the
-- queries that need only which changes are on it and in what order.
create or replace macro cab_agenda_ranked(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
select
    row_number() over (
        order by risk_rank, planned_start_at, change_id
    ) as agenda_rank,
    *
from
    cab_changes(
        p_window_start_at, p_window_end_at, p_reporting_tz,
        p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
    )
where agenda_class = 'agenda';

-- cab_agenda_changes(...): one row per cab_changes change on the agenda
-- (agenda_class 'agenda'), ranked by agenda_rank: risk (very_high first,
-- NULL last), then planned_start_at, then change_id; with n_collisions
-- (distinct changes it collides with), n_freeze_hits, n_blackout_hits,
-- is_outside_maintenance, and the counts over the whole window repeated on
-- every row: n (agenda), n_unclassified, n_unplanned, n_excluded; the
-- change's requested_by and the texts a CAB reads (description,
-- justification, implementation_plan, backout_plan, test_plan) come along.
create or replace macro cab_agenda_changes(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with classified as (
    select
        change_id,
        title,
        requested_by,
        description,
        justification,
        implementation_plan,
        backout_plan,
        test_plan,
        change_type,
        state,
        risk,
        risk_rank,
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
        agenda_class,
        w_start,
        w_end
    from
        cab_changes(
            p_window_start_at, p_window_end_at, p_reporting_tz,
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        )
),

counts as (
    select
        count(*) filter (where agenda_class = 'agenda') as n,
        count(*) filter (
            where agenda_class = 'unclassified'
        ) as n_unclassified,
        count(*) filter (
            where agenda_class = 'unplanned'
        ) as n_unplanned,
        count(*) filter (
            where agenda_class = 'excluded'
        ) as n_excluded
    from classified
),

-- the agenda's changes (each in scope: open, approval requested or not yet)
agenda_ids as (
    select change_id
    from classified
    where agenda_class = 'agenda'
),

-- the other changes each collides with (a pair sharing several keys
-- counts once)
collisions as (
    select
        change_id,
        count(distinct other_id) as n_collisions
    from
        collision_partners()
    where change_id in (select change_id from agenda_ids)
    group by change_id
),

-- derived_change_window_hits has one row per change and window (window_id
-- is the key of blackout_windows): count(*) counts windows
hits as (
    select
        change_id,
        count(*) filter (where kind = 'freeze') as n_freeze_hits,
        count(*) filter (where kind = 'blackout') as n_blackout_hits,
        bool_or(kind = 'outside_maintenance') as is_outside_maintenance
    from derived_change_window_hits
    where change_id in (select change_id from agenda_ids)
    group by change_id
)

select
    row_number() over (
        order by c.risk_rank, c.planned_start_at, c.change_id
    ) as agenda_rank,
    c.* exclude (agenda_class, risk_rank),
    date_diff('microsecond', c.planned_start_at, c.planned_end_at) / 3.6e9
        as planned_hours,
    coalesce(k.n_collisions, 0) as n_collisions,
    coalesce(h.n_freeze_hits, 0) as n_freeze_hits,
    coalesce(h.n_blackout_hits, 0) as n_blackout_hits,
    coalesce(h.is_outside_maintenance, false) as is_outside_maintenance,
    n.n,
    n.n_unclassified,
    n.n_unplanned,
    n.n_excluded
from classified as c
cross join counts as n
left join collisions as k on c.change_id = k.change_id
left join hits as h on c.change_id = h.change_id
where c.agenda_class = 'agenda'
order by agenda_rank;

-- similar_change_cohorts(...): one row per target change and cohort
-- (docs/metrics.md similar_change_history). Targets: the changes of
-- p_change_ids when given (filters and window unused), else the
-- cab_agenda_ranked changes of the window (with their agenda_rank). as_of =
-- p_as_of, else 00:00 of the target's cab_date in p_reporting_tz, else now;
-- lookback_start_at = as_of - p_lookback_days x 24 h. Cohorts:
-- 'application_change_type' (same application_id and change_type) and
-- 'assignment_group', of changes h <> t. n: implemented h (close code
-- successful, successful_with_issues, unsuccessful, backed_out) with
-- outcome_at = coalesce(actual_end_at, closed_at) in [lookback_start_at,
-- as_of); n_failed: of those, close code unsuccessful/backed_out or a
-- change_failure_signals(p_failure_min_priority) signal known at as_of
-- (first_incident_at or first_rollback_at before as_of); last_failure_at:
-- latest outcome_at of the failed; n_excluded: cancelled/rejected with
-- outcome_at in the range; n_unclassified: no close code, actual_end_at in
-- the range. A NULL key gives NULL counts.
create or replace macro similar_change_cohorts(
    p_change_ids, p_window_start_at, p_window_end_at, p_reporting_tz,
    p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers,
    p_as_of, p_lookback_days, p_failure_min_priority
) as table
with picked as (
    select
        null as agenda_rank,
        change_id,
        application_id,
        change_type,
        assignment_group,
        cab_date,
        actual_end_at,
        closed_at,
        close_code
    from changes
    where list_contains(cast(p_change_ids as varchar[]), change_id)
    union all
    select
        agenda_rank,
        change_id,
        application_id,
        change_type,
        assignment_group,
        cab_date,
        actual_end_at,
        closed_at,
        close_code
    from
        cab_agenda_ranked(
            p_window_start_at, p_window_end_at, p_reporting_tz,
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        )
    where cast(p_change_ids as varchar[]) is null
),

targets as (
    select
        *,
        as_of - to_hours(24 * cast(p_lookback_days as bigint))
            as lookback_start_at
    from (
        select
            *,
            coalesce(
                cast(p_as_of as timestamptz),
                local_midnight(cab_date, cast(p_reporting_tz as varchar)),
                current_timestamp
            ) as as_of
        from picked
    ) as p
),

-- a cohort's key is (key_a, key_b): (application_id, change_type), or
-- (assignment_group, NULL) for the team
cohorts as (
    select
        *,
        'application_change_type' as cohort,
        application_id as key_a,
        change_type as key_b,
        application_id is null or change_type is null as is_key_missing
    from targets
    union all
    select
        *,
        'assignment_group' as cohort,
        assignment_group as key_a,
        null as key_b,
        assignment_group is null as is_key_missing
    from targets
),

-- the history ranges [lookback_start_at, as_of) the targets read
periods as (
    select distinct
        as_of,
        lookback_start_at
    from cohorts
    where not is_key_missing
),

signals as materialized (
    select
        change_id,
        first_incident_at,
        first_rollback_at
    from change_failure_signals(p_failure_min_priority)
),

-- every change whose outcome_at = coalesce(actual_end_at, closed_at) falls
-- in a period, once per such period, with whether it has a failure signal
-- of any priority (has_signal: only those are looked up in the signals).
-- With p_as_of given there is one period, whose bounds are constants of the
-- query: its changes with an outcome kind are read from the stored
-- outcomes (derived_change_outcomes: the same kind, outcome_at and keys, in
-- a narrow table, with no join); without, each target's cab_date gives its
-- own, joined to the changes.
ranged as (
    select
        cast(p_as_of as timestamptz) as as_of,
        cast(p_as_of as timestamptz)
        - to_hours(24 * cast(p_lookback_days as bigint)) as lookback_start_at,
        o.change_id,
        o.application_id,
        o.change_type,
        o.assignment_group,
        o.close_code,
        o.kind,
        o.outcome_at,
        o.has_incident or o.has_rollback as has_signal
    from derived_change_outcomes as o
    where
        cast(p_as_of as timestamptz) is not null
        and o.kind is not null
        and o.outcome_at >= cast(p_as_of as timestamptz)
        - to_hours(24 * cast(p_lookback_days as bigint))
        and o.outcome_at < cast(p_as_of as timestamptz)
    union all
    -- the history is never filtered, so no join to the filters' tables
    -- (changes of no kind are kept: they count in no cohort)
    select
        p.as_of,
        p.lookback_start_at,
        h.change_id,
        h.application_id,
        h.change_type,
        h.assignment_group,
        h.close_code,
        outcome_kind(h.close_code, h.actual_end_at) as kind,
        coalesce(h.actual_end_at, h.closed_at) as outcome_at,
        true as has_signal
    from changes as h
    inner join periods as p
        on
            coalesce(h.actual_end_at, h.closed_at) >= p.lookback_start_at
            and coalesce(h.actual_end_at, h.closed_at) < p.as_of
    where cast(p_as_of as timestamptz) is null
),

-- each of them classified, its failure known at the period's as_of
classified as (
    select
        *,
        kind = 'implemented' and (by_close_code or by_incident or by_rollback)
            as is_failed
    from (
        select
            r.as_of,
            r.lookback_start_at,
            r.change_id,
            r.application_id,
            r.change_type,
            r.assignment_group,
            r.outcome_at,
            r.kind,
            failed_close_code(r.close_code) as by_close_code,
            coalesce(f.first_incident_at < r.as_of, false) as by_incident,
            coalesce(f.first_rollback_at < r.as_of, false) as by_rollback
        from ranged as r
        -- a change without a signal has no key to look up
        left join signals as f
            on (case when r.has_signal then r.change_id end) = f.change_id
    ) as m
),

-- counted once per period and (application_id, change_type,
-- assignment_group), then rolled up to each cohort's key (change_id is the
-- key of changes: a change is counted once per cohort); the last two
-- failure instants and the change of the last, to take a target out
partial as (
    select
        as_of,
        lookback_start_at,
        application_id,
        change_type,
        assignment_group,
        count(*) filter (where kind = 'implemented') as n,
        count(*) filter (where is_failed) as n_failed,
        count(*) filter (where is_failed and by_close_code)
            as n_failed_by_close_code,
        count(*) filter (where is_failed and by_incident)
            as n_failed_by_incident,
        count(*) filter (where is_failed and by_rollback)
            as n_failed_by_rollback,
        max(outcome_at, 2) filter (where is_failed) as last_two_failures_at,
        arg_max(change_id, outcome_at) filter (where is_failed)
            as last_failure_change_id,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from classified
    group by all
),

keyed_partial as (
    select
        'application_change_type' as cohort,
        application_id as key_a,
        change_type as key_b,
        * exclude (application_id, change_type, assignment_group)
    from partial
    union all
    select
        'assignment_group' as cohort,
        assignment_group as key_a,
        null as key_b,
        * exclude (application_id, change_type, assignment_group)
    from partial
),

counted as (
    select
        cohort,
        key_a,
        key_b,
        as_of,
        lookback_start_at,
        cast(sum(n) as bigint) as n,
        cast(sum(n_failed) as bigint) as n_failed,
        cast(sum(n_failed_by_close_code) as bigint)
            as n_failed_by_close_code,
        cast(sum(n_failed_by_incident) as bigint) as n_failed_by_incident,
        cast(sum(n_failed_by_rollback) as bigint) as n_failed_by_rollback,
        list_slice(
            list_reverse_sort(flatten(list(last_two_failures_at))), 1, 2
        ) as last_two_failures_at,
        arg_max(last_failure_change_id, last_two_failures_at[1])
            as last_failure_change_id,
        cast(sum(n_excluded) as bigint) as n_excluded,
        cast(sum(n_unclassified) as bigint) as n_unclassified
    from keyed_partial
    group by all
),

-- each target's own row in its cohort, if it is a member: taken out
own as (
    select
        change_id,
        cohort,
        kind,
        kind = 'implemented' and (by_close_code or by_incident or by_rollback)
            as is_failed,
        by_close_code,
        by_incident,
        by_rollback
    from (
        select
            k.change_id,
            k.cohort,
            outcome_kind(k.close_code, k.actual_end_at) as kind,
            failed_close_code(k.close_code)
                as by_close_code,
            coalesce(f.first_incident_at < k.as_of, false) as by_incident,
            coalesce(f.first_rollback_at < k.as_of, false) as by_rollback
        from cohorts as k
        left join signals as f on k.change_id = f.change_id
        where
            not k.is_key_missing
            and coalesce(k.actual_end_at, k.closed_at) >= k.lookback_start_at
            and coalesce(k.actual_end_at, k.closed_at) < k.as_of
    ) as o
),

per_target as (
    select
        k.agenda_rank,
        k.change_id,
        k.cohort,
        k.application_id,
        k.change_type,
        k.assignment_group,
        k.as_of,
        k.lookback_start_at,
        k.is_key_missing,
        coalesce(c.n, 0)
        - coalesce(o.kind = 'implemented', false)::int as n,
        coalesce(c.n_failed, 0) - coalesce(o.is_failed, false)::int
            as n_failed,
        coalesce(c.n_failed_by_close_code, 0)
        - coalesce(o.is_failed and o.by_close_code, false)::int
            as n_failed_by_close_code,
        coalesce(c.n_failed_by_incident, 0)
        - coalesce(o.is_failed and o.by_incident, false)::int
            as n_failed_by_incident,
        coalesce(c.n_failed_by_rollback, 0)
        - coalesce(o.is_failed and o.by_rollback, false)::int
            as n_failed_by_rollback,
        coalesce(c.n_excluded, 0) - coalesce(o.kind = 'excluded', false)::int
            as n_excluded,
        coalesce(c.n_unclassified, 0)
        - coalesce(o.kind = 'unclassified', false)::int as n_unclassified,
        case
            when coalesce(o.is_failed, false)
                and c.last_failure_change_id = k.change_id
                then c.last_two_failures_at[2]
            else c.last_two_failures_at[1]
        end as last_failure_at
    from cohorts as k
    left join counted as c
        on
            k.cohort = c.cohort
            and k.as_of = c.as_of
            and k.lookback_start_at = c.lookback_start_at
            and k.key_a = c.key_a
            and k.key_b is not distinct from c.key_b
    left join own as o
        on
            k.change_id = o.change_id
            and k.cohort = o.cohort
)

select
    agenda_rank,
    change_id,
    cohort,
    application_id,
    change_type,
    assignment_group,
    as_of,
    lookback_start_at,
    case when not is_key_missing then n end as n,
    case when not is_key_missing then n_failed end as n_failed,
    case when not is_key_missing then n - n_failed end as n_succeeded,
    (n - n_failed) / nullif(n, 0) as success_rate,
    last_failure_at,
    case
        when not is_key_missing then n_failed_by_close_code
    end as n_failed_by_close_code,
    case
        when not is_key_missing then n_failed_by_incident
    end as n_failed_by_incident,
    case
        when not is_key_missing then n_failed_by_rollback
    end as n_failed_by_rollback,
    case when not is_key_missing then n_excluded end as n_excluded,
    case when not is_key_missing then n_unclassified end as n_unclassified
from per_target
order by agenda_rank, change_id, cohort;
