-- One row per change behind change_success_rate: implemented, excluded or
-- unclassified changes whose outcome falls in the window, with their signals.
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $outcome_from, $outcome_before: the outcome window as instants instead of
--     the dates' midnights (text with an offset, or in $reporting_tz), as the
--     CAB pack's look-back up to the meeting itself (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- $failed_only: only the failed changes (is_failed), as the CAB pack's
--     recent failures of a team read them (default: false)
-- $newest_first: the latest outcome first (ties by change_id), as the CAB
--     pack lists a team's last failures (default: false)
-- $signals_before: an instant (text with an offset, or in $reporting_tz):
--     count only the failure signals known before it, an incident opened
--     before it, a rollback finished before it, as the CAB pack reads a
--     team's failures at its meeting; null counts every signal
--     (default: null)
-- $kind: only the rows of this kind: implemented, excluded or unclassified
--     or null for every kind (default: null)
-- $dimension: change_type, risk, team or application: only the rows whose
--     value of it is $dimension_value, or missing when that is null (a
--     breakdown's row, its "(none)" too); null keeps every row
--     (default: null)
-- $dimension_value: the value $dimension keeps (default: null)
-- The rows of classified_changes_between (as the change_outcomes macro
-- reads them), read from derived_change_outcomes
-- (change_outcome_facts_between: the same rows and failure columns), for
-- the same parameters as
-- change_success_rate, for drill-down: kind is implemented, excluded
-- (cancelled/rejected) or unclassified (no close code); is_failed and the
-- three signal flags as docs/metrics.md (shared definitions) defines them;
-- with $signals_before, the incident and rollback flags (and is_failed)
-- only from signals known before it, as similar_change_history reads them.
-- incident_ids: the linked incidents that fail a change failed by one
-- (is_failed_by_incident), in order of opening, comma-separated; else null.
-- Ordered by (outcome_at, change_id); with $newest_first, by outcome_at
-- descending, then change_id.
with classified as (
    select
        change_id,
        change_type,
        risk,
        assignment_group,
        application_id,
        close_code,
        outcome_at,
        kind,
        is_failed,
        is_failed_by_close_code,
        is_failed_by_incident,
        is_failed_by_rollback
    from
        change_outcome_facts_between(
            instant_or_midnight($outcome_from, $start_date, $reporting_tz),
            instant_or_midnight($outcome_before, $end_date, $reporting_tz),
            $application_ids, $portfolios, $teams, $change_types, $tiers,
            $failure_min_priority
        )
    where
        (cast($kind as varchar) is null or kind = cast($kind as varchar))
        and (
            chosen_dimension($dimension) is null
            or change_dimension_value(
                record_dimension($dimension), change_type, risk,
                assignment_group, application_id, null
            ) is not distinct from cast($dimension_value as varchar)
        )
),

-- every signal (no $signals_before; the branch below folds away)
signalled_now as (
    select * from classified
    where local_instant($signals_before, $reporting_tz) is null
),

-- the signals known before $signals_before: a change's first linked
-- incident of the priority opened, or its first rollback finished, before
-- it (change_failure_signals, as similar_change_history reads them), and
-- is_failed from them; the columns in classified's order
signalled_then as (
    select
        * replace (
            is_failed_outcome(
                kind, close_code, is_failed_by_incident, is_failed_by_rollback
            ) as is_failed
        )
    from (
        select
            c.* replace (
                coalesce(
                    c.is_failed_by_incident
                    and f.first_incident_at
                    < local_instant($signals_before, $reporting_tz),
                    false
                ) as is_failed_by_incident,
                coalesce(
                    c.is_failed_by_rollback
                    and f.first_rollback_at
                    < local_instant($signals_before, $reporting_tz),
                    false
                ) as is_failed_by_rollback
            )
        from classified as c
        left join change_failure_signals($failure_min_priority) as f
            on c.change_id = f.change_id
        where
            local_instant($signals_before, $reporting_tz) is not null
            -- fewer signals fail no more changes: with $failed_only, only
            -- the changes failed now can be failed then (and only they are
            -- looked up: the CAB pack's 90 days at a million changes, 6,072
            -- of 70,000)
            and (
                c.is_failed
                or not coalesce(cast($failed_only as boolean), false)
            )
    ) as t
),

-- classified's columns, in its order
records as (
    select * from signalled_now
    union all
    select * from signalled_then
),

kept as (
    select * from records
    where is_failed or not coalesce(cast($failed_only as boolean), false)
),

-- the titles of the changes whose outcome falls in the window (its end,
-- or its closing without one), read where the instants let the scan skip
-- the rest: a join on the id alone read every change's (71 of 87 ms for
-- the CAB pack's 90 days at a million changes). The window's rule is
-- outcome_kinds_between's (changeboard/macros/10_changes.sql), written out
-- on the two columns: the titles read through that macro took 76-102 ms
-- against 54-70 (its every column and the filters' joins).
titles as (
    select
        change_id,
        title
    from changes
    where
        actual_end_at
        >= instant_or_midnight($outcome_from, $start_date, $reporting_tz)
        and actual_end_at
        < instant_or_midnight($outcome_before, $end_date, $reporting_tz)
    union all
    select
        change_id,
        title
    from changes
    where
        actual_end_at is null
        and closed_at
        >= instant_or_midnight($outcome_from, $start_date, $reporting_tz)
        and closed_at
        < instant_or_midnight($outcome_before, $end_date, $reporting_tz)
),

-- the incidents that fail each change failed by one, as change_incident_links
-- reads them (of $failure_min_priority; with $signals_before, those opened
-- before it), so a failure can be traced to its incident: the records said
-- only is_failed_by_incident (a process owner's walkthrough)
incidents as (
    select
        change_id,
        incident_ids
    from
        change_incident_ids(
            $failure_min_priority,
            local_instant($signals_before, $reporting_tz)
        )
),

titled as (
    select
        k.change_id,
        c.title,
        k.change_type,
        k.risk,
        k.assignment_group,
        k.application_id,
        k.close_code,
        k.outcome_at,
        k.kind,
        k.is_failed,
        k.is_failed_by_close_code,
        k.is_failed_by_incident,
        k.is_failed_by_rollback,
        i.incident_ids
    from kept as k
    inner join titles as c on k.change_id = c.change_id
    left join incidents as i
        on k.change_id = i.change_id and k.is_failed_by_incident
)

select * from titled
order by
    case
        when not coalesce(cast($newest_first as boolean), false)
            then outcome_at
    end,
    case
        when coalesce(cast($newest_first as boolean), false) then outcome_at
    end desc,
    change_id
