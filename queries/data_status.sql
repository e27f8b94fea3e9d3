-- One row: how fresh the data is and whether it is the generated sample.
-- docs/metrics.md C10: as_of = the last succeeded ingest_batches.finished_at.
-- is_sample: any row of a canonical table was loaded by the sample build
-- (a batch whose loaded_by is changeboard:sample), so a page can say so
-- however much else was loaded; n_sample_rows counts those rows and
-- has_own_data says whether rows of other loads are present beside them.
-- latest_record_at: the latest time something happened in the data (a
-- change created or closed, a release gone live, a deployment finished, an
-- incident opened); plans, and the hand-entered actual start and end of a
-- change (a typo there can say 2021 in a 2014 data set), are not counted.
-- latest_operations_at: the same of the changes and their deployments (a
-- change created or closed, a deployment finished): where the data a CAB
-- pack reads ends, but for the incidents the changes caused
-- (latest_change_incident; endoflife.date's release history runs to 2026,
-- and the UCI incident log, whose incidents name no BPIC change, to 2016,
-- beside BPIC 2014's changes).
-- changes_first_at, changes_last_at: when the changes' records begin and
-- end (the first created, the last created or closed; NULL with no
-- change), so a page whose period holds no change can say where they are.
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
        ) as n_release_phases
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
    ) as t
),

-- when the changes' records begin and end (created, closed)
changes_span as (
    select
        min(created_at) as changes_first_at,
        greatest(max(created_at), max(closed_at)) as changes_last_at
    from changes
),

-- the latest thing that happened in the data (never a plan)
latest as (
    select
        max(happened_at) as latest_record_at,
        max(happened_at) filter (
            where kind in ('change', 'deployment')
        ) as latest_operations_at
    from (
        select
            'change' as kind,
            changes_last_at as happened_at
        from changes_span
        union all
        select
            'release' as kind,
            max(actual_release_at) as happened_at
        from releases
        union all
        select
            'deployment' as kind,
            max(finished_at) as happened_at
        from deployments
        union all
        select
            'incident' as kind,
            max(opened_at) as happened_at
        from incidents
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
        l.latest_record_at,
        l.latest_operations_at,
        c.changes_first_at,
        c.changes_last_at
    from batches as b
    cross join origins as o
    cross join sizes as s
    cross join latest as l
    cross join changes_span as c
)

select * from counted
