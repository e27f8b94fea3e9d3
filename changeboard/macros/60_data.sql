-- SQL macros: what the Data page reports about the data as loaded.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- dangling_ids_of(after): one row per reference column and missing id
-- (table_name, column_name, referenced_table, ref_id, n: the rows whose
-- reference is that id), over the rows loaded after batch `after` (all rows
-- when it is NULL), each reference looked up among every row of its table.
-- One anti join per referenced table, probed by the references of every
-- column that names it, so each referenced table's ids are hashed once (the
-- changes' million ids once, not once for deployments and again for
-- incidents) and only dangling rows are grouped.
create or replace macro dangling_ids_of(after) as table
with refs_to_applications as (
    select
        'environments' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from environments
    where
        application_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'blackout_windows' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from blackout_windows
    where
        application_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'releases' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from releases
    where
        application_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'changes' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from changes
    where
        application_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'deployments' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from deployments
    where
        application_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'incidents' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from incidents
    where
        application_id is not null
        and (after is null or ingested_batch_id > after)
),

refs_to_environments as (
    select
        'blackout_windows' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from blackout_windows
    where
        environment_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'changes' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from changes
    where
        environment_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'deployments' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from deployments
    where
        environment_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'environment_bookings' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from environment_bookings
    where
        environment_id is not null
        and (after is null or ingested_batch_id > after)
),

refs_to_releases as (
    select
        'releases' as table_name,
        'parent_release_id' as column_name,
        parent_release_id as ref_id
    from releases
    where
        parent_release_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'release_phases' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from release_phases
    where
        release_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'changes' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from changes
    where
        release_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'deployments' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from deployments
    where
        release_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'environment_bookings' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from environment_bookings
    where
        release_id is not null
        and (after is null or ingested_batch_id > after)
),

refs_to_changes as (
    select
        'deployments' as table_name,
        'change_id' as column_name,
        change_id as ref_id
    from deployments
    where
        change_id is not null
        and (after is null or ingested_batch_id > after)
    union all
    select
        'incidents' as table_name,
        'caused_by_change_id' as column_name,
        caused_by_change_id as ref_id
    from incidents
    where
        caused_by_change_id is not null
        and (after is null or ingested_batch_id > after)
),

refs_to_deployments as (
    select
        'incidents' as table_name,
        'caused_by_deployment_id' as column_name,
        caused_by_deployment_id as ref_id
    from incidents
    where
        caused_by_deployment_id is not null
        and (after is null or ingested_batch_id > after)
),

dangling as (
    select
        r.table_name,
        r.column_name,
        'applications' as referenced_table,
        r.ref_id,
        count(*) as n
    from refs_to_applications as r
    anti join applications as t on r.ref_id = t.application_id
    group by r.table_name, r.column_name, r.ref_id
    union all
    select
        r.table_name,
        r.column_name,
        'environments' as referenced_table,
        r.ref_id,
        count(*) as n
    from refs_to_environments as r
    anti join environments as t on r.ref_id = t.environment_id
    group by r.table_name, r.column_name, r.ref_id
    union all
    select
        r.table_name,
        r.column_name,
        'releases' as referenced_table,
        r.ref_id,
        count(*) as n
    from refs_to_releases as r
    anti join releases as t on r.ref_id = t.release_id
    group by r.table_name, r.column_name, r.ref_id
    union all
    select
        r.table_name,
        r.column_name,
        'changes' as referenced_table,
        r.ref_id,
        count(*) as n
    from refs_to_changes as r
    anti join changes as t on r.ref_id = t.change_id
    group by r.table_name, r.column_name, r.ref_id
    union all
    select
        r.table_name,
        r.column_name,
        'deployments' as referenced_table,
        r.ref_id,
        count(*) as n
    from refs_to_deployments as r
    anti join deployments as t on r.ref_id = t.deployment_id
    group by r.table_name, r.column_name, r.ref_id
)

select * from dangling;

-- added_ids_of(after): the ids (referenced_table, ref_id) of the rows of
-- each table a reference can name, loaded after batch `after`.
create or replace macro added_ids_of(after) as table
select
    'applications' as referenced_table,
    application_id as ref_id
from applications
where ingested_batch_id > after
union all
select
    'environments' as referenced_table,
    environment_id as ref_id
from environments
where ingested_batch_id > after
union all
select
    'releases' as referenced_table,
    release_id as ref_id
from releases
where ingested_batch_id > after
union all
select
    'changes' as referenced_table,
    change_id as ref_id
from changes
where ingested_batch_id > after
union all
select
    'deployments' as referenced_table,
    deployment_id as ref_id
from deployments
where ingested_batch_id > after;

-- derived_dangling_ids: dangling_ids_of over every row. A derived view: a
-- table in a published file (changeboard/db.py materialize). A load that
-- only adds rows brings it up to date from its own rows (db.py ADDITIVE):
-- the kept ids less those the load added, plus the dangling references of
-- the rows it wrote; at a million changes, a load of 10,000 changes no
-- longer looks up every deployment's and incident's change (0.19 s).
create or replace view derived_dangling_ids as
select * from dangling_ids_of(null);

-- derived_dangling_references: one row per reference column (table, column,
-- referenced table) with a value set: n_rows with the reference set,
-- n_dangling of them whose target is absent, n_dangling_ids distinct
-- missing ids (queries/dangling_references.sql), from derived_dangling_ids.
-- It takes no parameter, so it is a derived view: a table in a published
-- file, computed when a load changes one of the tables it reads, not on
-- every visit of the Data page. n_rows is one count() per column, each
-- table scanned once for all its reference columns.
create or replace view derived_dangling_references as
with n_environments as (
    select count(application_id) as application_id
    from environments
),

n_blackout_windows as (
    select
        count(application_id) as application_id,
        count(environment_id) as environment_id
    from blackout_windows
),

n_releases as (
    select
        count(application_id) as application_id,
        count(parent_release_id) as parent_release_id
    from releases
),

n_release_phases as (
    select count(release_id) as release_id
    from release_phases
),

n_changes as (
    select
        count(application_id) as application_id,
        count(release_id) as release_id,
        count(environment_id) as environment_id
    from changes
),

n_deployments as (
    select
        count(application_id) as application_id,
        count(environment_id) as environment_id,
        count(release_id) as release_id,
        count(change_id) as change_id
    from deployments
),

n_environment_bookings as (
    select
        count(environment_id) as environment_id,
        count(release_id) as release_id
    from environment_bookings
),

n_incidents as (
    select
        count(application_id) as application_id,
        count(caused_by_change_id) as caused_by_change_id,
        count(caused_by_deployment_id) as caused_by_deployment_id
    from incidents
),

set_rows as (
    select
        'environments' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        n.application_id as n_rows
    from n_environments as n
    union all
    select
        'blackout_windows' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        n.application_id as n_rows
    from n_blackout_windows as n
    union all
    select
        'blackout_windows' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        n.environment_id as n_rows
    from n_blackout_windows as n
    union all
    select
        'releases' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        n.application_id as n_rows
    from n_releases as n
    union all
    select
        'releases' as table_name,
        'parent_release_id' as column_name,
        'releases' as referenced_table,
        n.parent_release_id as n_rows
    from n_releases as n
    union all
    select
        'release_phases' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        n.release_id as n_rows
    from n_release_phases as n
    union all
    select
        'changes' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        n.application_id as n_rows
    from n_changes as n
    union all
    select
        'changes' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        n.release_id as n_rows
    from n_changes as n
    union all
    select
        'changes' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        n.environment_id as n_rows
    from n_changes as n
    union all
    select
        'deployments' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        n.application_id as n_rows
    from n_deployments as n
    union all
    select
        'deployments' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        n.environment_id as n_rows
    from n_deployments as n
    union all
    select
        'deployments' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        n.release_id as n_rows
    from n_deployments as n
    union all
    select
        'deployments' as table_name,
        'change_id' as column_name,
        'changes' as referenced_table,
        n.change_id as n_rows
    from n_deployments as n
    union all
    select
        'environment_bookings' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        n.environment_id as n_rows
    from n_environment_bookings as n
    union all
    select
        'environment_bookings' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        n.release_id as n_rows
    from n_environment_bookings as n
    union all
    select
        'incidents' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        n.application_id as n_rows
    from n_incidents as n
    union all
    select
        'incidents' as table_name,
        'caused_by_change_id' as column_name,
        'changes' as referenced_table,
        n.caused_by_change_id as n_rows
    from n_incidents as n
    union all
    select
        'incidents' as table_name,
        'caused_by_deployment_id' as column_name,
        'deployments' as referenced_table,
        n.caused_by_deployment_id as n_rows
    from n_incidents as n
),

dangling as (
    select
        table_name,
        column_name,
        sum(n)::bigint as n_dangling,
        count(*) as n_dangling_ids
    from derived_dangling_ids
    group by table_name, column_name
),

counted as (
    select
        s.table_name,
        s.column_name,
        s.referenced_table,
        s.n_rows,
        coalesce(d.n_dangling, 0) as n_dangling,
        coalesce(d.n_dangling_ids, 0) as n_dangling_ids
    from set_rows as s
    left join dangling as d
        on s.table_name = d.table_name and s.column_name = d.column_name
    where s.n_rows > 0
)

select * from counted;

-- derived_data_status: queries/data_status.sql's one row (how fresh the
-- data is, whether it is the generated sample, the tables' sizes, where the
-- records begin and end). It takes no parameter and every page's sidebar
-- reads it, so it is a derived view: a table in a published file, computed
-- at each publish (it reads ingest_batches, which every load writes), not
-- by the first visit of each page after one (18 ms alone at a million
-- changes, 33-45 ms beside a page's first queries). Its columns are
-- described in queries/data_status.sql.
create or replace view derived_data_status as
with batches as (
    select
        max(finished_at) as as_of,
        count(*) as n_batches,
        list(batch_id) filter (
            where loaded_by = 'changeboard:sample'
        ) as sample_batches
    from ingest_batches
    where status = 'succeeded'
),

-- rows per loading batch, table by table: a handful of groups, so the
-- sample test below runs per batch, not per row
loaded_rows as (
    select
        ingested_batch_id,
        count(*) as n_rows
    from (
        select ingested_batch_id from changes
        union all
        select ingested_batch_id from releases
        union all
        select ingested_batch_id from release_phases
        union all
        select ingested_batch_id from applications
        union all
        select ingested_batch_id from environments
        union all
        select ingested_batch_id from environment_bookings
        union all
        select ingested_batch_id from blackout_windows
        union all
        select ingested_batch_id from deployments
        union all
        select ingested_batch_id from incidents
    ) as r
    group by ingested_batch_id
),

origins as (
    select
        coalesce(
            cast(
                sum(r.n_rows) filter (
                    where list_contains(b.sample_batches, r.ingested_batch_id)
                ) as bigint
            ),
            0
        ) as n_sample_rows,
        coalesce(
            cast(
                sum(r.n_rows) filter (
                    where not coalesce(
                        list_contains(b.sample_batches, r.ingested_batch_id),
                        false
                    )
                ) as bigint
            ),
            0
        ) as n_own_rows
    from loaded_rows as r
    cross join batches as b
),

-- the table sizes and the latest record as unions of one-row aggregates,
-- not a dozen scalar subqueries: DuckDB's join planner spent more time
-- ordering a flat join of those than reading them
sizes as (
    select
        sum(n) filter (where table_name = 'changes') as n_changes,
        sum(n) filter (where table_name = 'releases') as n_releases,
        sum(n) filter (where table_name = 'environments') as n_environments,
        sum(n) filter (
            where table_name = 'environment_bookings'
        ) as n_bookings,
        sum(n) filter (where table_name = 'incidents') as n_incidents,
        sum(n) filter (where table_name = 'deployments') as n_deployments,
        sum(n) filter (
            where table_name = 'release_phases'
        ) as n_release_phases,
        sum(n) filter (
            where table_name = 'releases_undated'
        ) as n_releases_undated
    from (
        select
            'changes' as table_name,
            count(*) as n
        from changes
        union all
        select
            'releases' as table_name,
            count(*) as n
        from releases
        union all
        select
            'environments' as table_name,
            count(*) as n
        from environments
        union all
        select
            'environment_bookings' as table_name,
            count(*) as n
        from environment_bookings
        union all
        select
            'incidents' as table_name,
            count(*) as n
        from incidents
        union all
        select
            'deployments' as table_name,
            count(*) as n
        from deployments
        union all
        select
            'release_phases' as table_name,
            count(*) as n
        from release_phases
        union all
        -- released, with no go-live time: in no period (endoflife.date's
        -- cycles without a release date)
        select
            'releases_undated' as table_name,
            count(*) as n
        from releases
        where status = 'released' and actual_release_at is null
    ) as t
),

-- when the changes' records begin and end (created, closed)
changes_span as (
    select
        min(created_at) as changes_first_at,
        greatest(max(created_at), max(closed_at)) as changes_last_at
    from changes
),

-- the latest thing that happened in the data (never a plan); of it, what
-- the pages report on: not an incident that no loaded change or deployment
-- caused (its reference unset or dangling: derived_dangling_ids); and the
-- first thing the pages report on (where "All data" starts without changes)
latest as (
    select
        -- the incidents' own row holds the latest the caused ones' has
        max(happened_at) as latest_record_at,
        max(happened_at) filter (
            where kind in ('change', 'deployment')
        ) as latest_operations_at,
        max(happened_at) filter (
            where kind <> 'incident'
        ) as latest_reported_at,
        min(first_at) filter (
            where kind <> 'incident'
        ) as first_reported_at
    from (
        select
            'change' as kind,
            changes_last_at as happened_at,
            changes_first_at as first_at
        from changes_span
        union all
        select
            'release' as kind,
            max(actual_release_at) as happened_at,
            min(actual_release_at) as first_at
        from releases
        union all
        select
            'deployment' as kind,
            max(finished_at) as happened_at,
            min(finished_at) as first_at
        from deployments
        union all
        select
            'incident' as kind,
            max(opened_at) as happened_at,
            min(opened_at) as first_at
        from incidents
        union all
        select
            'caused_incident' as kind,
            max(c.opened_at) as happened_at,
            min(c.opened_at) as first_at
        from (
            select
                opened_at,
                'caused_by_change_id' as column_name,
                caused_by_change_id as ref_id
            from incidents
            where caused_by_change_id is not null
            union all
            select
                opened_at,
                'caused_by_deployment_id' as column_name,
                caused_by_deployment_id as ref_id
            from incidents
            where caused_by_deployment_id is not null
        ) as c
        anti join derived_dangling_ids as d
            on
                d.table_name = 'incidents'
                and c.column_name = d.column_name
                and c.ref_id = d.ref_id
    ) as h
),

counted as (
    select
        b.as_of,
        b.n_batches,
        o.n_sample_rows > 0 as is_sample,
        o.n_sample_rows,
        o.n_own_rows > 0 as has_own_data,
        cast(s.n_changes as bigint) as n_changes,
        cast(s.n_releases as bigint) as n_releases,
        cast(s.n_environments as bigint) as n_environments,
        cast(s.n_bookings as bigint) as n_bookings,
        cast(s.n_incidents as bigint) as n_incidents,
        cast(s.n_deployments as bigint) as n_deployments,
        cast(s.n_release_phases as bigint) as n_release_phases,
        cast(s.n_releases_undated as bigint) as n_releases_undated,
        l.latest_record_at,
        l.latest_operations_at,
        l.latest_reported_at,
        l.first_reported_at,
        c.changes_first_at,
        c.changes_last_at
    from batches as b
    cross join origins as o
    cross join sizes as s
    cross join latest as l
    cross join changes_span as c
)

select * from counted;

-- derived_filter_options: one row per value a global filter can take
-- (filter_name, option_value, option_label), for the sidebar's pick lists
-- (queries/filter_options.sql sorts them). A derived view, as
-- derived_data_status: computed when a load changes a table it reads.
-- Values come from the reference tables and the rows themselves, so a team
-- or application that only appears on changes can still be picked, and so
-- can an application that only appears on the releases, deployments,
-- incidents or environments a filter keeps (release data such as
-- endoflife.date's, loaded without an applications table). Each column is
-- made distinct on its own first (a few hundred values), so the union
-- dedups those, not a million rows per column.
create or replace view derived_filter_options as
with options as (
    select
        'portfolios' as filter_name,
        portfolio as option_value,
        portfolio as option_label
    from applications
    where portfolio is not null
    union
    select
        'application_ids' as filter_name,
        application_id as option_value,
        coalesce(name, application_id) as option_label
    from applications
    union
    select
        'application_ids' as filter_name,
        u.application_id as option_value,
        u.application_id as option_label
    from (
        select distinct application_id
        from changes
        where application_id is not null
        union
        select distinct application_id
        from releases
        where application_id is not null
        union
        select distinct application_id
        from deployments
        union
        select distinct application_id
        from incidents
        where application_id is not null
        union
        select distinct application_id
        from environments
        where application_id is not null
    ) as u
    where u.application_id not in (select application_id from applications)
    union
    select
        'teams' as filter_name,
        t.assignment_group as option_value,
        t.assignment_group as option_label
    from (
        select distinct assignment_group
        from changes
        where assignment_group is not null
    ) as t
    union
    select
        'change_types' as filter_name,
        k.change_type as option_value,
        k.change_type as option_label
    from (select distinct change_type from changes) as k
    union
    select
        'tiers' as filter_name,
        tier as option_value,
        tier as option_label
    from environments
)

select * from options;
