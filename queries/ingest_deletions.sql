-- One row per stored row one load deleted (a snapshot-mode mapping: a row
-- of its source not in the file): its table, its key (the key columns
-- joined by ' | ') and the row as it was, as JSON text.
-- $batch_id: the ingest batch whose deletions to list
with deletions as (
    select
        d.batch_id,
        d.table_name,
        d.row_key,
        cast(d.record as varchar) as record
    from ingest_deletions as d
    where d.batch_id = cast($batch_id as integer)
),

ordered as (
    select *
    from deletions
    order by table_name, row_key
)

select * from ordered
