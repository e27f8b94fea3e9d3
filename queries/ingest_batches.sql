-- One row per load (ingest batch), newest first: who ran it, what was
-- read, loaded, updated, left unchanged and rejected, and why a failed load
-- failed. loaded_by: the signed-in e-mail, local:<os user> (single-user
-- mode) or cli:<os user> (command line); null before schema version 6.
-- $source: optional source to show, e.g. csv (default: null)
-- file_sha256: the SHA-256 of the file's bytes, which traces a load to a
-- file by its content (sha256sum), whatever its path or name.
-- rows_new = rows_loaded - rows_updated - rows_unchanged; rows_read =
-- rows_loaded + rows_rejected (docs/sources.md section 8) + rows_merged (input
-- rows a mapping file merged into an earlier row of the same id, or left
-- out as older versions of an id by duplicate_ids = "latest").
with batches as (
    select
        b.batch_id,
        b.source,
        b.entity as table_name,
        b.file_name,
        b.file_sha256,
        b.loaded_by,
        b.status,
        b.started_at,
        b.finished_at,
        b.rows_read,
        b.rows_loaded,
        b.rows_loaded
        - coalesce(b.rows_updated, 0)
        - coalesce(b.rows_unchanged, 0) as rows_new,
        b.rows_updated,
        b.rows_unchanged,
        b.rows_rejected,
        b.rows_deleted,
        b.rows_merged,
        b.error,
        cast(b.warnings as varchar) as warnings
    from ingest_batches as b
    where $source is null or b.source = $source
),

ordered as (
    select *
    from batches
    order by batch_id desc
)

select * from ordered
