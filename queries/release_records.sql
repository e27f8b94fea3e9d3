-- One row per release gone live in the window: planned and actual go-live
-- and the days it slipped.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- $kind: only the rows of this kind: released, unclassified or excluded
--     or null for every kind (default: null)
-- The records behind release_on_time (release_outcomes macro): kind is
-- released (counted), unclassified (no planned date) or excluded (cancelled
-- or enterprise); slip_days = local actual date - local planned date;
-- is_on_time = slip_days <= tolerance_days (NULL unless released). Sorted
-- by (actual_release_at, release_id).
with records as (
    select
        release_id,
        name,
        application_id,
        application_name,
        status,
        release_type,
        kind,
        planned_release_at,
        actual_release_at,
        slip_days,
        case
            when kind = 'released' then slip_days <= $tolerance_days
        end as is_on_time
    from
        release_outcomes(
            $start_date, $end_date, $reporting_tz, null, $application_ids,
            $portfolios
        )
    where
        kind <> 'overdue_open'
        and (cast($kind as varchar) is null or kind = cast($kind as varchar))
    order by actual_release_at, release_id
)

select * from records
