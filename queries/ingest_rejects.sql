-- One row per rejected input row of one load: its row number (header = 1),
-- the column and value at fault, the reason code and the reason in words.
-- $batch_id: the ingest batch whose rejects to list
-- raw_record is the whole input row as JSON text (docs/sources.md section 8).
with rejects as (
    select
        r.batch_id,
        r.row_number,
        r.column_name,
        r.value,
        r.reason,
        r.detail,
        cast(r.raw_record as varchar) as raw_record
    from ingest_rejects as r
    where r.batch_id = cast($batch_id as integer)
),

ordered as (
    select *
    from rejects
    order by row_number, column_name
)

select * from ordered
