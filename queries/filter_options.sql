-- One row per value a global filter can take: the filter name, the value
-- and its label, for the sidebar's pick lists.
-- Values come from the reference tables and the rows themselves (an
-- application that only appears on releases can be picked): read from
-- derived_filter_options (changeboard/macros/60_data.sql), computed when a
-- load changes a table it reads.
with sorted as (
    select
        filter_name,
        option_value,
        option_label
    from derived_filter_options
    order by filter_name, option_label, option_value
)

select * from sorted
