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

-- plan_meets(start_at, end_at, w_start, w_end): the plan [start_at, end_at)
-- overlaps [w_start, w_end) (docs/metrics.md shared definitions: back-to-back is no
-- overlap); an empty plan (end_at = start_at) meets it when its instant is
-- in it. NULL when a bound is NULL.
create or replace macro plan_meets(start_at, end_at, w_start, w_end) as
(start_at < w_end and w_start < end_at)
or (end_at = start_at and w_start <= start_at and start_at < w_end);

-- cab_changes(...): one row per change passing the global filters
-- (scoped_changes) whose plan meets W or that has no valid plan (no other
-- change has an agenda class or is in a scope), with the review window W = [w_start, w_end) (instants
-- from local_instant in p_reporting_tz) and its CAB classification:
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
with w as (
    select
        local_instant(p_window_start_at, p_reporting_tz) as w_start,
        local_instant(p_window_end_at, p_reporting_tz) as w_end
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
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
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
-- a change with a plan outside W has no agenda class and is in no scope:
-- every consumer ignores it, so it is not carried
where meets_window or not has_plan;

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

-- change_collision_pairs(...): one row per pair of cab_changes in scope
-- whose plans meet W, overlap (with positive length: empty and back-to-back
-- plans never collide) and share a non-NULL key, per key: match_on =
-- 'application' (application_id), 'environment' (environment_id) or 'ci'
-- (ci_name), match_key its value. change_id_a < change_id_b; the overlap is
-- not clipped to W (docs/metrics.md change_collisions).
create or replace macro change_collision_pairs(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with population as (
    select
        change_id,
        title,
        application_id,
        environment_id,
        ci_name,
        planned_start_at,
        planned_end_at
    from
        cab_changes(
            p_window_start_at, p_window_end_at, p_reporting_tz,
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        )
    where is_in_scope and meets_window
),

keyed as (
    select
        change_id,
        title,
        'application' as match_on,
        application_id as match_key,
        planned_start_at,
        planned_end_at
    from population
    where application_id is not null
    union all
    select
        change_id,
        title,
        'environment' as match_on,
        environment_id as match_key,
        planned_start_at,
        planned_end_at
    from population
    where environment_id is not null
    union all
    select
        change_id,
        title,
        'ci' as match_on,
        ci_name as match_key,
        planned_start_at,
        planned_end_at
    from population
    where ci_name is not null
)

select
    a.change_id as change_id_a,
    b.change_id as change_id_b,
    a.title as title_a,
    b.title as title_b,
    a.match_on,
    a.match_key,
    greatest(a.planned_start_at, b.planned_start_at) as overlap_start_at,
    least(a.planned_end_at, b.planned_end_at) as overlap_end_at,
    date_diff(
        'microsecond',
        greatest(a.planned_start_at, b.planned_start_at),
        least(a.planned_end_at, b.planned_end_at)
    ) / 3.6e9 as overlap_hours
from keyed as a
inner join keyed as b
    on
        a.match_on = b.match_on
        and a.match_key = b.match_key
        and a.change_id < b.change_id
        and a.planned_start_at < b.planned_end_at
        and b.planned_start_at < a.planned_end_at;

-- change_window_hits_of(...): one row per hit of a cab_changes change in
-- scope whose plan meets W (docs/metrics.md change_collisions): a freeze or
-- blackout window that applies (application_id NULL or equal, environment_id
-- NULL or equal: a NULL key on the change matches only NULL = all windows)
-- and meets the plan, with the overlap; or kind 'outside_maintenance'
-- (window_id and overlap NULL) when maintenance windows apply to the change
-- but none contains its whole plan.
create or replace macro change_window_hits_of(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with population as (
    select
        change_id,
        application_id,
        environment_id,
        planned_start_at,
        planned_end_at
    from
        cab_changes(
            p_window_start_at, p_window_end_at, p_reporting_tz,
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        )
    where is_in_scope and meets_window
),

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
    from population as c
    inner join blackout_windows as b
        on
            (b.application_id is null or c.application_id = b.application_id)
            and (
                b.environment_id is null
                or c.environment_id = b.environment_id
            )
            -- a freeze or blackout that can meet the plan (plan_meets
            -- decides); every applicable maintenance window, whenever
            and (
                b.kind = 'maintenance'
                or (
                    b.start_at <= c.planned_end_at
                    and c.planned_start_at <= b.end_at
                )
            )
),

maintenance as (
    select
        change_id,
        planned_start_at,
        planned_end_at,
        bool_or(
            start_at <= planned_start_at and planned_end_at <= end_at
        ) as is_contained
    from applicable
    where kind = 'maintenance'
    group by change_id, planned_start_at, planned_end_at
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
where
    kind in ('freeze', 'blackout')
    and plan_meets(planned_start_at, planned_end_at, start_at, end_at)
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
where not is_contained;

-- cab_agenda_changes(...): one row per cab_changes change on the agenda
-- (agenda_class 'agenda'), ranked by agenda_rank: risk (very_high first,
-- NULL last), then planned_start_at, then change_id; with n_collisions
-- (distinct changes it collides with), n_freeze_hits, n_blackout_hits,
-- is_outside_maintenance, and the counts over the whole window repeated on
-- every row: n (agenda), n_unclassified, n_unplanned, n_excluded.
create or replace macro cab_agenda_changes(
    p_window_start_at, p_window_end_at, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers
) as table
with classified as (
    select
        change_id,
        title,
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

collisions as (
    select
        change_id,
        count(distinct other_id) as n_collisions
    from (
        select
            change_id_a as change_id,
            change_id_b as other_id
        from
            change_collision_pairs(
                p_window_start_at, p_window_end_at, p_reporting_tz,
                p_application_ids, p_portfolios, p_teams, p_change_types,
                p_tiers
            )
        union all
        select
            change_id_b as change_id,
            change_id_a as other_id
        from
            change_collision_pairs(
                p_window_start_at, p_window_end_at, p_reporting_tz,
                p_application_ids, p_portfolios, p_teams, p_change_types,
                p_tiers
            )
    ) as p
    group by change_id
),

hits as (
    select
        change_id,
        count(distinct window_id) filter (
            where kind = 'freeze'
        ) as n_freeze_hits,
        count(distinct window_id) filter (
            where kind = 'blackout'
        ) as n_blackout_hits,
        bool_or(kind = 'outside_maintenance') as is_outside_maintenance
    from
        change_window_hits_of(
            p_window_start_at, p_window_end_at, p_reporting_tz,
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        )
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
-- cab_agenda_changes of the window (with their agenda_rank). as_of =
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
        cab_date
    from changes
    where list_contains(cast(p_change_ids as varchar[]), change_id)
    union all
    select
        agenda_rank,
        change_id,
        application_id,
        change_type,
        assignment_group,
        cab_date
    from
        cab_agenda_changes(
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

-- one cohort per distinct key and as_of, however many targets share it
-- (an agenda of thousands has a few hundred); the target itself is taken
-- out of its own cohort's counts afterwards
keys as (
    select distinct
        cohort,
        key_a,
        key_b,
        as_of,
        lookback_start_at
    from cohorts
    where not is_key_missing
),

history as (
    select
        h.change_id,
        h.application_id,
        h.change_type,
        h.assignment_group,
        coalesce(h.actual_end_at, h.closed_at) as outcome_at,
        case
            when
                h.close_code in (
                    'successful', 'successful_with_issues', 'unsuccessful',
                    'backed_out'
                )
                then 'implemented'
            when h.close_code in ('cancelled', 'rejected') then 'excluded'
            when h.close_code is null and h.actual_end_at is not null
                then 'unclassified'
        end as kind,
        coalesce(h.close_code in ('unsuccessful', 'backed_out'), false)
            as by_close_code,
        f.first_incident_at,
        f.first_rollback_at
    from changes as h
    left join change_failure_signals(p_failure_min_priority) as f
        on h.change_id = f.change_id
    where
        coalesce(h.actual_end_at, h.closed_at)
        >= (select min(lookback_start_at) from keys)
        and coalesce(h.actual_end_at, h.closed_at)
        < (select max(as_of) from keys)
),

-- every history row under each cohort's key, so one equi-join finds the
-- members of both cohorts
keyed_history as (
    select
        *,
        'application_change_type' as cohort,
        application_id as key_a,
        change_type as key_b
    from history
    union all
    select
        *,
        'assignment_group' as cohort,
        assignment_group as key_a,
        null as key_b
    from history
),

members as (
    select
        k.*,
        h.change_id,
        h.outcome_at,
        h.kind,
        h.by_close_code,
        coalesce(h.first_incident_at < k.as_of, false) as by_incident,
        coalesce(h.first_rollback_at < k.as_of, false) as by_rollback
    from keys as k
    inner join keyed_history as h
        on
            k.cohort = h.cohort
            and k.key_a = h.key_a
            and k.key_b is not distinct from h.key_b
    where
        h.outcome_at >= k.lookback_start_at
        and h.outcome_at < k.as_of
),

classified as (
    select
        *,
        kind = 'implemented' and (by_close_code or by_incident or by_rollback)
            as is_failed
    from members
),

-- change_id is the key of changes: a member is counted once per cohort
counted as (
    select
        cohort,
        key_a,
        key_b,
        as_of,
        lookback_start_at,
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

-- each target's own row in its cohort, if it is a member: taken out
own as (
    select m.*
    from classified as m
    semi join targets as t on m.change_id = t.change_id
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
            and k.as_of = o.as_of
            and k.lookback_start_at = o.lookback_start_at
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
