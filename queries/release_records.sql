-- One row per release gone live in the window: planned and actual go-live
-- and the days it slipped; with $kind overdue_open, the releases overdue,
-- not live, that release_on_time's n_overdue_open counts.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $as_of: instant that ends "overdue" for open releases (without an offset:
--     in $reporting_tz); null = last load, as release_on_time
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- $kind: only the rows of this kind: released, unclassified, excluded or
--     overdue_open; null for every kind gone live (all but overdue_open)
--     (default: null)
-- The records behind release_on_time (release_outcomes macro, the one rule
-- of its counts): kind is released (counted), unclassified (no planned
-- date), excluded (cancelled or enterprise) or overdue_open (not live, not
-- released or cancelled, not enterprise, planned before least(end_date,
-- as_of), however old); slip_days = local actual date - local planned date;
-- is_on_time = slip_days <= tolerance_days (NULL unless released);
-- days_overdue = local date of as_of - local planned date (NULL unless
-- overdue_open). Sorted by (actual_release_at, release_id); overdue ones by
-- (planned_release_at, release_id).
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
        end as is_on_time,
        case
            when kind = 'overdue_open'
                then
                    cast(
                        local_timestamp(
                            resolved_as_of(
                                local_instant($as_of, $reporting_tz)
                            ),
                            $reporting_tz
                        ) as date
                    )
                    - cast(
                        local_timestamp(planned_release_at, $reporting_tz)
                        as date
                    )
        end as days_overdue
    from
        release_outcomes(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios
        )
    where
        case
            when cast($kind as varchar) is null then kind <> 'overdue_open'
            else kind = cast($kind as varchar)
        end
    order by coalesce(actual_release_at, planned_release_at), release_id
)

select * from records
