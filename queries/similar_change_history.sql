-- One row per target change and cohort of similar past changes: how many
-- were implemented in the lookback, how many failed, and the success rate.
-- $change_ids: list of target change ids; null takes the agenda of the
--     review window (default: null)
-- $window_start_at, $window_end_at: review window of the agenda, as
--     cab_agenda; unused with $change_ids (default: null)
-- $reporting_tz: IANA zone of instants and cab dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $as_of: instant the history is read at; null = 00:00 of the target's
--     cab_date in $reporting_tz, else now (default: null)
-- $lookback_days: days of history before as_of, x 24 h (default: 365)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- docs/metrics.md similar_change_history, from the similar_change_cohorts macro
-- (changeboard/macros/20_cab.sql). The filters pick agenda targets
-- only; the history is never filtered. Cohorts: application_change_type
-- (same application_id and change_type) and assignment_group, of changes
-- other than the target. n: implemented changes (close code successful,
-- successful_with_issues, unsuccessful or backed_out) with outcome_at =
-- coalesce(actual_end_at, closed_at) in [as_of - lookback, as_of); n_failed:
-- close code unsuccessful/backed_out, or a linked incident opened before
-- as_of, or a rolled-back/rollback deployment finished before as_of (links
-- known at as_of); success_rate = (n - n_failed) / n, NULL when n = 0;
-- last_failure_at: latest outcome_at of a failed one. n_excluded:
-- cancelled/rejected in the range; n_unclassified: no close code,
-- actual_end_at in the range. A NULL key gives NULL counts.
with cohorts as (
    select
        agenda_rank,
        change_id,
        cohort,
        application_id,
        change_type,
        assignment_group,
        as_of,
        lookback_start_at,
        n,
        n_failed,
        n_succeeded,
        success_rate,
        last_failure_at,
        n_failed_by_close_code,
        n_failed_by_incident,
        n_failed_by_rollback,
        n_excluded,
        n_unclassified
    from
        similar_change_cohorts(
            $change_ids, $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers,
            $as_of, $lookback_days, $failure_min_priority
        )
)

select * from cohorts
