-- One row per change in the population of schedule_adherence (completed,
-- ended in the window, all four planned/actual times), with its delays and
-- flags (the rows behind schedule_adherence).
-- $start_date, $end_date: actual end window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $tolerance_minutes: minutes a change may start or end after its planned
--     time and still be on time (default: 0)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md schedule_adherence, row by row, from the completed_changes
-- macro: completed changes (A24) with actual_end_at in the window (no
-- closed_at fallback) and planned_start_at, planned_end_at, actual_start_at
-- set.
-- With tol = tolerance_minutes: is_started_late actual_start_at >
-- planned_start_at + tol; is_started_early actual_start_at <
-- planned_start_at (no tolerance); is_overran actual_end_at >
-- planned_end_at + tol; is_on_schedule none of these.
-- start_delay_minutes: actual - planned start, signed; overrun_minutes:
-- actual - planned end, signed (whether or not it overran). Ordered by
-- (actual_end_at, change_id).
with ended as (
    select
        change_id,
        title,
        change_type,
        risk,
        assignment_group,
        application_id,
        planned_start_at,
        planned_end_at,
        actual_start_at,
        actual_end_at,
        -- microseconds: a fraction of a minute is kept, not rounded
        cast(cast($tolerance_minutes as double) * 60000000 as bigint) as tol_us
    from
        completed_changes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, true
        )
    where
        kind = 'completed'
        and planned_start_at is not null
        and planned_end_at is not null
        and actual_start_at is not null
),

flagged as (
    select
        * exclude (tol_us),
        span_seconds(planned_start_at, actual_start_at) / 60
            as start_delay_minutes,
        span_seconds(planned_end_at, actual_end_at) / 60 as overrun_minutes,
        epoch_us(actual_start_at) > epoch_us(planned_start_at) + tol_us
            as is_started_late,
        actual_start_at < planned_start_at as is_started_early,
        epoch_us(actual_end_at) > epoch_us(planned_end_at) + tol_us
            as is_overran
    from ended
),

records as (
    select
        *,
        not is_started_late
        and not is_started_early
        and not is_overran as is_on_schedule
    from flagged
    order by actual_end_at, change_id
)

select * from records
