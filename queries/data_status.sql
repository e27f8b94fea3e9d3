-- One row: how fresh the data is and whether it is the generated sample.
-- docs/metrics.md C10: as_of = the last succeeded ingest_batches.finished_at.
-- is_sample: any row of a canonical table was loaded by the sample build
-- (a batch whose file_name starts with sample_data/), so a page can say so
-- however much else was loaded; n_sample_rows counts those rows and
-- has_own_data says whether rows of other loads are present beside them.
-- latest_record_at: the latest time something happened in the data (a
-- change created or closed, a release gone live, a deployment finished, an
-- incident opened); plans, and the hand-entered actual start and end of a
-- change (a typo there can say 2021 in a 2014 data set), are not counted.
with batches as (
    select
        max(finished_at) as as_of,
        count(*) as n_batches,
        list(batch_id) filter (
            where starts_with(file_name, 'sample_data/')
        ) as sample_batches
    from ingest_batches
    where status = 'succeeded'
),

loaded_rows as (
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
),

origins as (
    select
        count(*) filter (
            where list_contains(b.sample_batches, r.ingested_batch_id)
        ) as n_sample_rows,
        count(*) filter (
            where not coalesce(
                list_contains(b.sample_batches, r.ingested_batch_id), false
            )
        ) as n_own_rows
    from loaded_rows as r
    cross join batches as b
),

counted as (
    select
        b.as_of,
        b.n_batches,
        o.n_sample_rows > 0 as is_sample,
        o.n_sample_rows,
        o.n_own_rows > 0 as has_own_data,
        (select count(*) from changes) as n_changes,
        (select count(*) from releases) as n_releases,
        (select count(*) from environments) as n_environments,
        (select count(*) from environment_bookings) as n_bookings,
        (select count(*) from incidents) as n_incidents,
        -- the latest thing that happened in the data (never a plan)
        greatest(
            (
                select max(greatest(created_at, closed_at))
                from changes
            ),
            (select max(actual_release_at) from releases),
            (select max(finished_at) from deployments),
            (select max(opened_at) from incidents)
        ) as latest_record_at
    from batches as b
    cross join origins as o
)

select * from counted
