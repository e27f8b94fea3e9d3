-- Shared SQL building blocks, created as temporary macros on every
-- connection (read-only ones too) by changeboard/db.py, so queries stay short
-- and a database file never carries stale definitions.

-- keep(filter, value): true when the optional list filter is NULL (= all) or
-- holds value.
create or replace temp macro keep(filter_list, value) as
cast(filter_list as varchar[]) is null
or list_contains(cast(filter_list as varchar[]), value);

-- local_midnight(day, tz): the instant a local date starts in an IANA zone.
create or replace temp macro local_midnight(day, tz) as
timezone(tz, cast(cast(day as date) as timestamp));

-- resolved_as_of(as_of): the given instant, else the last succeeded load,
-- else now (METRICS.md C10).
create or replace temp macro resolved_as_of(as_of) as
coalesce(
    cast(as_of as timestamptz),
    (select max(finished_at) from ingest_batches where status = 'succeeded'),
    current_timestamp
);

-- scoped_changes(...): changes passing the global filters (NULL = all).
create or replace temp macro scoped_changes(
    application_ids, portfolios, teams, change_types, tiers
) as table
select c.*
from changes as c
left join applications as a on c.application_id = a.application_id
left join environments as e on c.environment_id = e.environment_id
where
    keep(application_ids, c.application_id)
    and keep(portfolios, a.portfolio)
    and keep(teams, c.assignment_group)
    and keep(change_types, c.change_type)
    and keep(tiers, e.tier);

-- change_failure_signals(min_priority): one row per change with an explicit
-- failure signal (METRICS.md section 2): a linked incident of priority
-- min_priority or higher (NULL = any), reached by caused_by_change_id or by
-- caused_by_deployment_id through the deployment's change; or a rolled-back
-- or rollback deployment of the change.
create or replace temp macro change_failure_signals(min_priority) as table
with linked as (
    select
        i.caused_by_change_id as change_id,
        i.opened_at as signal_at
    from incidents as i
    where
        i.caused_by_change_id is not null
        and (
            cast(min_priority as integer) is null
            or i.priority <= cast(min_priority as integer)
        )
    union all
    select
        d.change_id,
        i.opened_at as signal_at
    from incidents as i
    inner join deployments as d
        on i.caused_by_deployment_id = d.deployment_id
    where
        d.change_id is not null
        and (
            cast(min_priority as integer) is null
            or i.priority <= cast(min_priority as integer)
        )
),

rolled_back as (
    select
        change_id,
        coalesce(finished_at, started_at) as signal_at
    from deployments
    where
        change_id is not null
        and (status = 'rolled_back' or coalesce(is_rollback, false))
),

signals as (
    select
        change_id,
        true as by_incident,
        false as by_rollback,
        signal_at
    from linked
    union all
    select
        change_id,
        false as by_incident,
        true as by_rollback,
        signal_at
    from rolled_back
)

select
    change_id,
    bool_or(by_incident) as by_incident,
    bool_or(by_rollback) as by_rollback,
    min(signal_at) filter (where by_incident) as first_incident_at,
    min(signal_at) filter (where by_rollback) as first_rollback_at
from signals
group by change_id;
