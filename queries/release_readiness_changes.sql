-- One row per change carried by a release going live in the horizon: its
-- approval as an authorisation state for release_readiness.
-- $as_of: the instant readiness is judged at, as text (with an offset as
--     given, without one in $reporting_tz); null = now (default: null)
-- $horizon_days: releases planned to go live in [as_of, as_of +
--     horizon_days x 24 h) (default: 28)
-- $reporting_tz: IANA zone of an as_of given without offset (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $release_ids: list of release ids to keep (default: null)
-- The changes release_readiness counts, from the readiness_changes macro
-- (changeboard/macros/45_readiness.sql): changes.release_id of a release in
-- release_readiness, close code not cancelled or rejected. authorisation:
-- approved (approval approved or not_required), awaiting (requested),
-- not_requested (not_yet_requested, or NULL approval and is_cab_required),
-- rejected, or NULL (no approval and not CAB-required or unknown);
-- is_planned_after_go_live: planned_end_at > the release's
-- planned_release_at. portfolio and environment_tier: of the change's own
-- application and environment (what the CAB pack's filters of those names
-- read; NULL when not loaded). Sorted by (planned_release_at, release_id,
-- planned_start_at, change_id).
with carried as (
    select
        release_id,
        change_id,
        title,
        change_type,
        state,
        risk,
        application_id,
        portfolio,
        environment_tier,
        assignment_group,
        is_cab_required,
        approval,
        authorisation,
        approved_at,
        cab_date,
        planned_start_at,
        planned_end_at,
        is_planned_after_go_live,
        planned_release_at
    from
        readiness_changes(
            $as_of, $horizon_days, $reporting_tz, $application_ids,
            $portfolios
        )
    where keep($release_ids, release_id)
)

select * from carried
order by planned_release_at, release_id, planned_start_at, change_id
