-- One row: what a CAB pack names of the data it was built from, read
-- directly (data_status and filter_options scan every table for much more).
-- as_of: docs/metrics.md C10, the last succeeded ingest_batches.finished_at,
-- as data_status gives it; batch_ids: the succeeded batches' ids, ascending;
-- application_ids, application_labels: each application's id and its label
-- (its name, else its id), as filter_options labels the applications rows
-- (an application only named on changes has its id as label there too);
-- n_releases: the releases loaded, of any date (none: the pack's releases
-- going live say that none is loaded, not that none goes live); n_changes:
-- the changes loaded, of any date (none: an empty agenda says so, not that
-- none is planned).
with batches as (
    select
        max(finished_at) as as_of,
        list(batch_id order by batch_id) as batch_ids
    from ingest_batches
    where status = 'succeeded'
),

labels as (
    select
        list(application_id order by application_id) as application_ids,
        list(coalesce(name, application_id) order by application_id)
            as application_labels
    from applications
)

select
    b.as_of,
    coalesce(b.batch_ids, []) as batch_ids,
    coalesce(l.application_ids, []) as application_ids,
    coalesce(l.application_labels, []) as application_labels,
    (select count(*) from releases) as n_releases,
    (select count(*) from changes) as n_changes
from batches as b
cross join labels as l
