-- One row: how the changes implemented in the window kept to their planned
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
-- METRICS.md schedule_adherence: implemented changes with actual_end_at in
-- the window (no closed_at fallback) and all four planned/actual times.
-- With tol = tolerance_minutes: started_late actual_start_at >
-- planned_start_at + tol; started_early actual_start_at < planned_start_at
-- (no tolerance); overran actual_end_at > planned_end_at + tol; on_schedule
-- none of these. Each rate is its count / n (overran can overlap a start
-- flag). median_start_delay_minutes: actual - planned start, signed, over n;
-- median_overrun_minutes: actual - planned end over the overran changes.
-- n_unclassified: no close code, or a planned/actual time missing;
-- n_excluded: cancelled/rejected with actual_end_at in the window.
with ended as (
    select
        kind,
        planned_start_at,
        planned_end_at,
        actual_start_at,
        actual_end_at,
        to_minutes(cast($tolerance_minutes as bigint)) as tol
    from
        change_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, null
        )
    where actual_end_at is not null
),

timed as (
    select
        kind,
        actual_start_at > planned_start_at + tol as is_started_late,
        actual_start_at < planned_start_at as is_started_early,
        actual_end_at > planned_end_at + tol as is_overran,
        epoch(actual_start_at - planned_start_at) / 60 as start_delay_minutes,
        epoch(actual_end_at - planned_end_at) / 60 as overrun_minutes,
        kind = 'implemented'
        and planned_start_at is not null
        and planned_end_at is not null
        and actual_start_at is not null as is_timed
    from ended
),

counted as (
    select
        count(*) filter (where is_timed) as n,
        count(*) filter (
            where
            is_timed
            and not (is_started_late or is_started_early or is_overran)
        ) as n_on_schedule,
        count(*) filter (where is_timed and is_started_late) as n_started_late,
        count(*) filter (
            where is_timed and is_started_early
        ) as n_started_early,
        count(*) filter (where is_timed and is_overran) as n_overran,
        quantile_cont(start_delay_minutes, 0.5) filter (
            where is_timed
        ) as median_start_delay_minutes,
        quantile_cont(overrun_minutes, 0.5) filter (
            where is_timed and is_overran
        ) as median_overrun_minutes,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (
            where
            kind = 'unclassified'
            or (kind = 'implemented' and not is_timed)
        ) as n_unclassified
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

select * from rated
