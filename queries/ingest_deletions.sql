-- One row per stored row one load deleted (a snapshot-mode mapping: a row
-- of its source not in the file): its table, its key (the key columns
-- joined by ' | ') and the row as it was, as JSON text.
-- $batch_id: the ingest batch whose deletions to list
select
    batch_id,
    table_name,
    row_key,
    cast(record as varchar) as record
from ingest_deletions
where batch_id = cast($batch_id as integer)
order by table_name, row_key
