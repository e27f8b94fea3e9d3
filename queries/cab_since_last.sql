-- One row per change and reason to look back at it in the CAB meeting: it
-- failed (post-implementation review), it was an emergency change started
-- in the window (retrospective approval), or it started without the
-- approval it needed.
-- $start_date, $end_date: window in $reporting_tz, end exclusive: from the
--     day of the previous meeting to the day of this one
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- review_reason 'failed': the failed implemented changes of
-- change_success_rate (change_outcomes macro: outcome_at =
-- coalesce(actual_end_at, closed_at) in the window; close code
-- unsuccessful/backed_out, a linked incident or a rolled-back deployment).
-- 'emergency': emergency changes whose actual_start_at is in the window,
-- whatever their outcome (cab_required_starts macro), with their approval.
-- 'unauthorized': the unauthorized_change_records rows with is_unauthorized
-- (CAB required, started in the window, not approved or approved after the
-- start). A change may have several reasons. incident_ids: on a 'failed'
-- row failed by a linked incident, those incidents (of
-- $failure_min_priority), in order of opening, as change_records names
-- them; else null. Ordered by reason (failed,
-- emergency, unauthorized), then its instant (outcome_at for failed,
-- actual_start_at otherwise), then change_id.
-- Speed (issue 12): the changes' columns come from the scans that found
-- them (both macros read the changes of the window), so the list never
-- joins back to all of changes (a million rows read for a few hundred).
-- the incidents that fail a change failed by one, as change_records names
-- them (its incident_ids): the pack's "Why failed" reads 'Linked incident
-- (INC0000398)'. Joined to the failed rows where they are found: read
-- from the whole list, 31 -> 51 ms at a million changes (14 days), here 38
-- (change_incident_ids: changeboard/macros/10_changes.sql)
with incidents as (
    select
        change_id,
        incident_ids
    from change_incident_ids($failure_min_priority, null)
),

failed as (
    select
        change_id,
        title,
        change_type,
        risk,
        application_id,
        assignment_group,
        state,
        close_code,
        approval,
        approved_at,
        actual_start_at,
        actual_end_at,
        closed_at,
        is_failed_by_close_code,
        is_failed_by_incident,
        is_failed_by_rollback,
        (
            select i.incident_ids from incidents as i
            where i.change_id = o.change_id and o.is_failed_by_incident
        ) as incident_ids
    from
        change_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority
        ) as o
    where is_failed
),

started as (
    select *
    from
        cab_required_starts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        )
),

-- a change's columns come with each of its reasons; a branch without a
-- flag gives it NULL (union by name)
reasons as (
    select
        1 as reason_rank,
        'failed' as review_reason,
        *
    from failed
    union all by name
    select
        2 as reason_rank,
        'emergency' as review_reason,
        * exclude (is_cab_required, is_unauthorized)
    from started
    where change_type = 'emergency'
    union all by name
    select
        3 as reason_rank,
        'unauthorized' as review_reason,
        * exclude (is_cab_required, is_unauthorized)
    from started
    where is_cab_required and is_unauthorized
),

listed as (
    select
        review_reason,
        change_id,
        title,
        change_type,
        risk,
        application_id,
        assignment_group,
        state,
        close_code,
        approval,
        approved_at,
        actual_start_at,
        coalesce(actual_end_at, closed_at) as outcome_at,
        is_failed_by_close_code,
        is_failed_by_incident,
        is_failed_by_rollback,
        incident_ids,
        is_not_approved,
        is_approved_after_start
    from reasons
    order by
        reason_rank,
        case
            when review_reason = 'failed'
                then coalesce(actual_end_at, closed_at)
            else actual_start_at
        end,
        change_id
)

select * from listed
