-- One row: how the changes completed in the window kept to their planned
-- window (started late or early, overran, on schedule).
-- $start_date, $end_date: actual end window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $tolerance_minutes: minutes a change may start or end after its planned
--     time and still be on time (default: 0)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md schedule_adherence: completed changes (A24: close code
-- successful, successful_with_issues, unsuccessful or backed_out, or no
-- close code and state review or closed; completed_changes macro) with
-- actual_end_at in the window (no closed_at fallback) and all four
-- planned/actual times. n_without_actual_end: completed changes with no
-- actual_end_at, closed in the window (the completed changes the other
-- metrics date by closed_at), which cannot be measured.
-- With tol = tolerance_minutes: started_late actual_start_at >
-- planned_start_at + tol; started_early actual_start_at < planned_start_at
-- (no tolerance); overran actual_end_at > planned_end_at + tol; on_schedule
-- none of these. Each rate is its count / n (overran can overlap a start
-- flag). median_start_delay_minutes: actual - planned start, signed, over n;
-- median_overrun_minutes: actual - planned end over the overran changes.
-- n_unclassified: not completed (no close code, another state), or a
-- planned/actual time missing; n_excluded: cancelled/rejected with
-- actual_end_at in the window; n_without_close_code: changes in n with no
-- close code.
with ended as (
    select
        kind,
        has_outcome,
        planned_start_at,
        planned_end_at,
        actual_start_at,
        actual_end_at,
        actual_end_at is not null as has_end,
        -- microseconds: a fraction of a minute is kept, not rounded
        cast(cast($tolerance_minutes as double) * 60000000 as bigint) as tol_us
    from
        completed_changes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, false
        )
),

timed as (
    select
        kind,
        has_outcome,
        has_end,
        epoch_us(actual_start_at) > epoch_us(planned_start_at) + tol_us
            as is_started_late,
        actual_start_at < planned_start_at as is_started_early,
        epoch_us(actual_end_at) > epoch_us(planned_end_at) + tol_us
            as is_overran,
        span_seconds(planned_start_at, actual_start_at) / 60
            as start_delay_minutes,
        span_seconds(planned_end_at, actual_end_at) / 60 as overrun_minutes,
        kind = 'completed'
        and has_end
        and planned_start_at is not null
        and planned_end_at is not null
        and actual_start_at is not null as is_timed
    from ended
),

counted as (
    select
        n_where(is_timed) as n,
        n_where(
            is_timed
            and not (is_started_late or is_started_early or is_overran)
        ) as n_on_schedule,
        n_where(is_timed and is_started_late) as n_started_late,
        n_where(is_timed and is_started_early) as n_started_early,
        n_where(is_timed and is_overran) as n_overran,
        quantile_cont(start_delay_minutes, 0.5) filter (
            where is_timed
        ) as median_start_delay_minutes,
        quantile_cont(overrun_minutes, 0.5) filter (
            where is_timed and is_overran
        ) as median_overrun_minutes,
        n_where(has_end and kind = 'excluded') as n_excluded,
        n_where(
            has_end and (
                kind = 'unclassified' or (kind = 'completed' and not is_timed)
            )
        ) as n_unclassified,
        n_where(is_timed and not has_outcome) as n_without_close_code,
        n_where(not has_end and kind = 'completed') as n_without_actual_end
    from timed
),

rated as (
    select
        n_on_schedule / nullif(n, 0) as on_schedule_rate,
        n_started_late / nullif(n, 0) as started_late_rate,
        n_started_early / nullif(n, 0) as started_early_rate,
        n_overran / nullif(n, 0) as overran_rate,
        *
    from counted
)

select
    *,
    loaded_as_of() as as_of
from rated
