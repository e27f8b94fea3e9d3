-- One row per value a global filter can take: the filter name, the value
-- and its label, for the sidebar's pick lists.
-- Values come from the reference tables and the rows themselves, so a team
-- or application that only appears on changes can still be picked, and so
-- can an application that only appears on the releases, deployments,
-- incidents or environments a filter keeps (release data such as
-- endoflife.date's, loaded without an applications table).
-- Each column is made distinct on its own first (a few hundred values), so
-- the union dedups those, not a million rows per column.
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
),

sorted as (
    select
        filter_name,
        option_value,
        option_label
    from options
    order by filter_name, option_label, option_value
)

select * from sorted
