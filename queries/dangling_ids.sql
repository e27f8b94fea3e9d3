-- One row per reference column and id it names that no loaded row has: the
-- ids behind dangling_references' n_dangling_ids, with n, the rows naming it.
-- $table_name: keep this table's reference columns (default: null)
-- Read from derived_dangling_ids (changeboard/macros/60_data.sql), computed
-- when a load changes a table it reads. Ordered by table, column, most rows
-- first, then id.
with listed as (
    select
        table_name,
        column_name,
        referenced_table,
        ref_id,
        n
    from derived_dangling_ids
    where $table_name is null or table_name = $table_name
)

select * from listed
order by table_name asc, column_name asc, n desc, ref_id asc
