-- One row per source and canonical table: its rows now, its last successful
-- load, and the last load's status and time (a failed load after a good one:
-- last_loaded_at is the good one's, last_load_at the failure's).
-- docs/metrics.md C10: freshness = the last succeeded
-- ingest_batches.finished_at; a table with rows but no successful load of that
-- source has last_loaded_at NULL.
-- n_batches: every load of the table from the source, failed ones too
-- (n_failed_batches of them; data_status's n_batches counts the loads that
-- succeeded, of every table).
with stored as (
    select
        'applications' as table_name,
        source,
        count(*) as n_rows
    from applications
    group by source
    union all
    select
        'environments' as table_name,
        source,
        count(*) as n_rows
    from environments
    group by source
    union all
    select
        'blackout_windows' as table_name,
        source,
        count(*) as n_rows
    from blackout_windows
    group by source
    union all
    select
        'releases' as table_name,
        source,
        count(*) as n_rows
    from releases
    group by source
    union all
    select
        'release_phases' as table_name,
        source,
        count(*) as n_rows
    from release_phases
    group by source
    union all
    select
        'changes' as table_name,
        source,
        count(*) as n_rows
    from changes
    group by source
    union all
    select
        'deployments' as table_name,
        source,
        count(*) as n_rows
    from deployments
    group by source
    union all
    select
        'environment_bookings' as table_name,
        source,
        count(*) as n_rows
    from environment_bookings
    group by source
    union all
    select
        'incidents' as table_name,
        source,
        count(*) as n_rows
    from incidents
    group by source
),

loads as (
    select
        entity as table_name,
        source,
        max(finished_at) filter (
            where status = 'succeeded'
        ) as last_loaded_at,
        arg_max(status, batch_id) as last_status,
        arg_max(coalesce(finished_at, started_at), batch_id) as last_load_at,
        count(*) as n_batches,
        count(*) filter (where status = 'failed') as n_failed_batches
    from ingest_batches
    group by entity, source
),

joined as (
    select
        coalesce(s.table_name, l.table_name) as table_name,
        coalesce(s.source, l.source) as source_name,
        coalesce(s.n_rows, 0) as n_rows,
        l.last_loaded_at,
        l.last_status,
        l.last_load_at,
        coalesce(l.n_batches, 0) as n_batches,
        coalesce(l.n_failed_batches, 0) as n_failed_batches
    from stored as s
    full outer join loads as l
        on s.table_name = l.table_name and s.source = l.source
),

ordered as (
    select *
    from joined
    order by table_name, source_name
)

select * from ordered
