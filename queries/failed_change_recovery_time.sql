-- One row: hours from the failure of a change to the restoration of
-- service, for failed changes restored in the window.
-- $start_date, $end_date: restoration window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change
--     and must be resolved; null counts every linked incident (default: null)
-- docs/metrics.md failed_change_recovery_time over the failed_change_recoveries
-- macro. Sample: failed implemented changes whose restored_at is in the
-- window. Start: for a close-code or rollback failure, the finish of the
-- change's earliest production deployment, else actual_start_at, else
-- outcome_at; for a failure by incidents only, their earliest opened_at.
-- Restored: the earliest of a succeeded rollback deployment at or after the
-- start, the back-out's end, and the last resolved_at of its incidents once
-- all are resolved. median_recovery_hours (quantile_cont, primary),
-- p85_recovery_hours, mttr_hours (mean) over the n spans; a negative span
-- is counted in n_invalid instead. Failed changes with no restored_at and
-- outcome_at in the window: n_open when an incident is unresolved (never
-- measured to now), else n_unmeasurable (no evidence of restoration).
with recoveries as (
    select
        outcome_at,
        restored_at,
        has_open_incident,
        recovery_hours
    from
        failed_change_recoveries(
            $application_ids, $portfolios, $teams, $change_types, $tiers,
            $failure_min_priority
        )
),

windowed as (
    select
        *,
        restored_at >= local_midnight($start_date, $reporting_tz)
        and restored_at < local_midnight($end_date, $reporting_tz)
            as is_restored_in_window,
        restored_at is null
        and outcome_at >= local_midnight($start_date, $reporting_tz)
        and outcome_at < local_midnight($end_date, $reporting_tz)
            as is_unrestored_in_window
    from recoveries
),

summarised as (
    select
        -- the median and p85 from one sort of the spans, not two
        quantile_cont(recovery_hours, [0.5, 0.85]) filter (
            where is_restored_in_window and recovery_hours >= 0
        ) as recovery_quantiles,
        avg(recovery_hours) filter (
            where is_restored_in_window and recovery_hours >= 0
        ) as mttr_hours,
        count(*) filter (
            where is_restored_in_window and recovery_hours >= 0
        ) as n,
        count(*) filter (
            where is_unrestored_in_window and has_open_incident
        ) as n_open,
        count(*) filter (
            where is_unrestored_in_window and not has_open_incident
        ) as n_unmeasurable,
        count(*) filter (
            where is_restored_in_window and recovery_hours < 0
        ) as n_invalid
    from windowed
)

select
    recovery_quantiles[1] as median_recovery_hours,
    recovery_quantiles[2] as p85_recovery_hours,
    * exclude (recovery_quantiles),  -- noqa: AM04
    loaded_as_of() as as_of
from summarised
