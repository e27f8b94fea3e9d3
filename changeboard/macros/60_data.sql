-- SQL macros: what the Data page reports about the data as loaded.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- derived_dangling_references: one row per reference column (table, column,
-- referenced table) with a value set: n_rows with the reference set,
-- n_dangling of them whose target is absent, n_dangling_ids distinct
-- missing ids (queries/dangling_references.sql). It takes no parameter, so
-- it is a derived view: a table in a published file (changeboard/db.py
-- materialize), computed when a load changes one of the tables it reads,
-- not on every visit of the Data page (126 ms at a million changes).
-- n_rows is one count() per column, each table scanned once for all its
-- reference columns; the dangling rows come from one anti join per
-- referenced table, probed by the references of every column that names
-- it, so each referenced table's ids are hashed once (the changes' million
-- ids once, not once for deployments and again for incidents) and only
-- dangling rows reach the aggregate.
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

refs_to_applications as (
    select
        'environments' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from environments
    where application_id is not null
    union all
    select
        'blackout_windows' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from blackout_windows
    where application_id is not null
    union all
    select
        'releases' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from releases
    where application_id is not null
    union all
    select
        'changes' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from changes
    where application_id is not null
    union all
    select
        'deployments' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from deployments
    where application_id is not null
    union all
    select
        'incidents' as table_name,
        'application_id' as column_name,
        application_id as ref_id
    from incidents
    where application_id is not null
),

refs_to_environments as (
    select
        'blackout_windows' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from blackout_windows
    where environment_id is not null
    union all
    select
        'changes' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from changes
    where environment_id is not null
    union all
    select
        'deployments' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from deployments
    where environment_id is not null
    union all
    select
        'environment_bookings' as table_name,
        'environment_id' as column_name,
        environment_id as ref_id
    from environment_bookings
    where environment_id is not null
),

refs_to_releases as (
    select
        'releases' as table_name,
        'parent_release_id' as column_name,
        parent_release_id as ref_id
    from releases
    where parent_release_id is not null
    union all
    select
        'release_phases' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from release_phases
    where release_id is not null
    union all
    select
        'changes' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from changes
    where release_id is not null
    union all
    select
        'deployments' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from deployments
    where release_id is not null
    union all
    select
        'environment_bookings' as table_name,
        'release_id' as column_name,
        release_id as ref_id
    from environment_bookings
    where release_id is not null
),

refs_to_changes as (
    select
        'deployments' as table_name,
        'change_id' as column_name,
        change_id as ref_id
    from deployments
    where change_id is not null
    union all
    select
        'incidents' as table_name,
        'caused_by_change_id' as column_name,
        caused_by_change_id as ref_id
    from incidents
    where caused_by_change_id is not null
),

refs_to_deployments as (
    select
        'incidents' as table_name,
        'caused_by_deployment_id' as column_name,
        caused_by_deployment_id as ref_id
    from incidents
    where caused_by_deployment_id is not null
),

dangling as (
    select
        r.table_name,
        r.column_name,
        count(*) as n_dangling,
        count(distinct r.ref_id) as n_dangling_ids
    from refs_to_applications as r
    anti join applications as t on r.ref_id = t.application_id
    group by r.table_name, r.column_name
    union all
    select
        r.table_name,
        r.column_name,
        count(*) as n_dangling,
        count(distinct r.ref_id) as n_dangling_ids
    from refs_to_environments as r
    anti join environments as t on r.ref_id = t.environment_id
    group by r.table_name, r.column_name
    union all
    select
        r.table_name,
        r.column_name,
        count(*) as n_dangling,
        count(distinct r.ref_id) as n_dangling_ids
    from refs_to_releases as r
    anti join releases as t on r.ref_id = t.release_id
    group by r.table_name, r.column_name
    union all
    select
        r.table_name,
        r.column_name,
        count(*) as n_dangling,
        count(distinct r.ref_id) as n_dangling_ids
    from refs_to_changes as r
    anti join changes as t on r.ref_id = t.change_id
    group by r.table_name, r.column_name
    union all
    select
        r.table_name,
        r.column_name,
        count(*) as n_dangling,
        count(distinct r.ref_id) as n_dangling_ids
    from refs_to_deployments as r
    anti join deployments as t on r.ref_id = t.deployment_id
    group by r.table_name, r.column_name
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
