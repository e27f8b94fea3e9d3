-- One row per release going live in the horizon: its readiness status, the
-- reasons in words, and the counts behind them.
-- $as_of: the instant readiness is judged at, as text (with an offset as
--     given, without one in $reporting_tz); null = now (default: null)
-- $horizon_days: releases planned to go live in [as_of, as_of +
--     horizon_days x 24 h) (default: 28)
-- $reporting_tz: IANA zone of an as_of given without offset (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- docs/metrics.md release_readiness (A25), from release_readiness_rows
-- (changeboard/macros/45_readiness.sql). Releases: status not released or
-- cancelled, planned_release_at in the horizon (enterprise releases too).
-- Changes: changes.release_id, close code not cancelled or rejected;
-- n_approved (approved or not_required), n_awaiting (requested),
-- n_not_requested (not_yet_requested, or NULL approval and
-- is_cab_required), n_rejected, n_planned_after_go_live (planned_end_at >
-- planned_release_at). n_failed_recently: changes of the same application
-- implemented in the 30 days before as_of that failed (section 2).
-- Phases remaining: planned_end_at > as_of, no actual_end_at; covered when a
-- booking of the release with the same phase name (case-insensitive) is
-- approved or pending and overlaps the phase's planned window. Bookings
-- pending or rejected that overlap [as_of, planned_release_at). slip_days:
-- phases' lateness so far in days, at least 0. freeze_hit: the go-live lies
-- in a freeze or blackout window (half-open) of the release's application
-- or all, on all environments or a prod one the release books. status:
-- blocked (rejected change, freeze hit, a remaining phase with only rejected
-- bookings), else at_risk (awaiting or not-requested change, uncovered phase,
-- pending booking, change planned after go-live, slip_days > 0, no change
-- linked), else ready; reasons lists every rule that fired in that order.
-- Sorted by (planned_release_at, release_id).
with readiness as (
    select
        release_id,
        name,
        version,
        release_type,
        parent_release_id,
        application_id,
        application_name,
        release_status,
        risk,
        planned_release_at,
        days_to_go_live,
        status,
        reasons,
        n_changes,
        n_approved,
        n_awaiting,
        n_not_requested,
        n_rejected,
        n_planned_after_go_live,
        n_failed_recently,
        n_phases_remaining,
        n_phases_uncovered,
        n_phases_rejected_only,
        uncovered_phases,
        n_bookings_pending,
        n_bookings_rejected,
        slip_days,
        freeze_hit,
        freeze_window_id,
        freeze_window_name,
        freeze_window_kind,
        freeze_start_at,
        freeze_end_at,
        n_freeze_windows,
        as_of,
        horizon_end_at
    from
        release_readiness_rows(
            $as_of, $horizon_days, $reporting_tz, $application_ids,
            $portfolios, $failure_min_priority
        )
)

select * from readiness
order by planned_release_at, release_id
