-- One row: how fresh the data is and whether it is the generated sample.
-- METRICS.md C10: as_of = the last succeeded ingest_batches.finished_at.
with batches as (
    select
        max(finished_at) as as_of,
        count(*) as n_batches,
        count(*) filter (
            where not starts_with(file_name, 'sample_data/')
        ) as n_user_batches
    from ingest_batches
    where status = 'succeeded'
),

counted as (
    select
        b.as_of,
        b.n_batches,
        b.n_batches > 0 and b.n_user_batches = 0 as is_sample,
        (select count(*) from changes) as n_changes,
        (select count(*) from releases) as n_releases,
        (select count(*) from environments) as n_environments,
        (select count(*) from environment_bookings) as n_bookings,
        (select count(*) from incidents) as n_incidents
    from batches as b
)

select * from counted
