-- One row per reference column (table, column, referenced table): rows whose
-- reference is set but names no loaded row.
-- docs/data-model.md: references may point at rows not loaded yet; they are
-- kept and counted here. n_rows = rows with the reference set; n_dangling =
-- those whose target is absent; n_dangling_ids = distinct missing ids;
-- dangling_share = n_dangling / n_rows (NULL when n_rows = 0). A column with
-- no value set gives no row.
-- Read from derived_dangling_references (changeboard/macros/60_data.sql),
-- computed when a load changes a table it reads.
with ordered as (
    select
        table_name,
        column_name,
        referenced_table,
        n_rows,
        n_dangling,
        n_dangling_ids,
        case when n_rows > 0 then n_dangling / n_rows end as dangling_share
    from derived_dangling_references
    order by table_name, column_name
)

select * from ordered
