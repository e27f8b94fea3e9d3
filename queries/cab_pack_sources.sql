-- One row: what a CAB pack names of the data it was built from, read
-- directly (data_status and filter_options scan every table for much more).
-- as_of: docs/metrics.md C10, the last succeeded ingest_batches.finished_at,
-- as data_status gives it; batch_ids: the succeeded batches' ids, ascending;
-- application_ids, application_labels: each application's id and its label
-- (its name, else its id), as filter_options labels the applications rows
-- (an application only named on changes has its id as label there too).
select
    (
        select max(finished_at)
        from ingest_batches
        where status = 'succeeded'
    ) as as_of,
    coalesce((
        select list(batch_id order by batch_id)
        from ingest_batches
        where status = 'succeeded'
    ), []) as batch_ids,
    coalesce((
        select list(application_id order by application_id)
        from applications
    ), []) as application_ids,
    coalesce((
        select list(coalesce(name, application_id) order by application_id)
        from applications
    ), []) as application_labels
