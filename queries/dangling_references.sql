-- One row per reference column (table, column, referenced table): rows whose
-- reference is set but names no loaded row.
-- docs/data-model.md: references may point at rows not loaded yet; they are
-- kept and counted here. n_rows = rows with the reference set; n_dangling =
-- those whose target is absent; n_dangling_ids = distinct missing ids;
-- dangling_share = n_dangling / n_rows (NULL when n_rows = 0).
with refs as (
    select
        'environments' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        e.application_id as ref_id,
        a.application_id is null as is_dangling
    from environments as e
    left join applications as a on e.application_id = a.application_id
    where e.application_id is not null
    union all
    select
        'blackout_windows' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        w.application_id as ref_id,
        a.application_id is null as is_dangling
    from blackout_windows as w
    left join applications as a on w.application_id = a.application_id
    where w.application_id is not null
    union all
    select
        'blackout_windows' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        w.environment_id as ref_id,
        e.environment_id is null as is_dangling
    from blackout_windows as w
    left join environments as e on w.environment_id = e.environment_id
    where w.environment_id is not null
    union all
    select
        'releases' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        r.application_id as ref_id,
        a.application_id is null as is_dangling
    from releases as r
    left join applications as a on r.application_id = a.application_id
    where r.application_id is not null
    union all
    select
        'releases' as table_name,
        'parent_release_id' as column_name,
        'releases' as referenced_table,
        r.parent_release_id as ref_id,
        p.release_id is null as is_dangling
    from releases as r
    left join releases as p on r.parent_release_id = p.release_id
    where r.parent_release_id is not null
    union all
    select
        'release_phases' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        ph.release_id as ref_id,
        r.release_id is null as is_dangling
    from release_phases as ph
    left join releases as r on ph.release_id = r.release_id
    union all
    select
        'changes' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        c.application_id as ref_id,
        a.application_id is null as is_dangling
    from changes as c
    left join applications as a on c.application_id = a.application_id
    where c.application_id is not null
    union all
    select
        'changes' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        c.release_id as ref_id,
        r.release_id is null as is_dangling
    from changes as c
    left join releases as r on c.release_id = r.release_id
    where c.release_id is not null
    union all
    select
        'changes' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        c.environment_id as ref_id,
        e.environment_id is null as is_dangling
    from changes as c
    left join environments as e on c.environment_id = e.environment_id
    where c.environment_id is not null
    union all
    select
        'deployments' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        d.application_id as ref_id,
        a.application_id is null as is_dangling
    from deployments as d
    left join applications as a on d.application_id = a.application_id
    union all
    select
        'deployments' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        d.environment_id as ref_id,
        e.environment_id is null as is_dangling
    from deployments as d
    left join environments as e on d.environment_id = e.environment_id
    where d.environment_id is not null
    union all
    select
        'deployments' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        d.release_id as ref_id,
        r.release_id is null as is_dangling
    from deployments as d
    left join releases as r on d.release_id = r.release_id
    where d.release_id is not null
    union all
    select
        'deployments' as table_name,
        'change_id' as column_name,
        'changes' as referenced_table,
        d.change_id as ref_id,
        c.change_id is null as is_dangling
    from deployments as d
    left join changes as c on d.change_id = c.change_id
    where d.change_id is not null
    union all
    select
        'environment_bookings' as table_name,
        'environment_id' as column_name,
        'environments' as referenced_table,
        b.environment_id as ref_id,
        e.environment_id is null as is_dangling
    from environment_bookings as b
    left join environments as e on b.environment_id = e.environment_id
    union all
    select
        'environment_bookings' as table_name,
        'release_id' as column_name,
        'releases' as referenced_table,
        b.release_id as ref_id,
        r.release_id is null as is_dangling
    from environment_bookings as b
    left join releases as r on b.release_id = r.release_id
    where b.release_id is not null
    union all
    select
        'incidents' as table_name,
        'application_id' as column_name,
        'applications' as referenced_table,
        i.application_id as ref_id,
        a.application_id is null as is_dangling
    from incidents as i
    left join applications as a on i.application_id = a.application_id
    where i.application_id is not null
    union all
    select
        'incidents' as table_name,
        'caused_by_change_id' as column_name,
        'changes' as referenced_table,
        i.caused_by_change_id as ref_id,
        c.change_id is null as is_dangling
    from incidents as i
    left join changes as c on i.caused_by_change_id = c.change_id
    where i.caused_by_change_id is not null
    union all
    select
        'incidents' as table_name,
        'caused_by_deployment_id' as column_name,
        'deployments' as referenced_table,
        i.caused_by_deployment_id as ref_id,
        d.deployment_id is null as is_dangling
    from incidents as i
    left join deployments as d on i.caused_by_deployment_id = d.deployment_id
    where i.caused_by_deployment_id is not null
),

counted as (
    select
        table_name,
        column_name,
        referenced_table,
        count(*) as n_rows,
        count(*) filter (where is_dangling) as n_dangling,
        -- the distinct ids of the dangling rows alone (a FILTER would hash
        -- every row's id: 0.6M distinct ids at a million changes)
        count(distinct case when is_dangling then ref_id end)
            as n_dangling_ids,
        case
            when count(*) > 0
                then count(*) filter (where is_dangling) / count(*)
        end as dangling_share
    from refs
    group by table_name, column_name, referenced_table
),

ordered as (
    select *
    from counted
    order by table_name, column_name
)

select * from ordered
