-- One row per application with incidents opened in the window (incidents
-- without an application are one row): how many, by priority, how many are
-- unresolved at as_of, and the latest.
-- $start_date, $end_date: opening window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $as_of: instant the resolution is read at (without an offset: in
--     $reporting_tz); null = the last succeeded load
--     (default: null)
-- $opened_from, $opened_before: the opening window as instants instead of
--     the dates' midnights (text with an offset, or in $reporting_tz), as
--     the CAB pack's [meeting - 30 days, meeting) (default: null)
-- CAB evidence (docs/metrics.md application_incidents): incidents with
-- opened_at in the window, whatever they are linked to. n_incidents counts
-- incidents (incident_id is the key of incidents: count(*) counts them);
-- n_p1, n_p2, n_p3 and n_p4_or_lower by priority, n_unprioritized with a
-- NULL priority; n_unresolved: resolved_at NULL or after as_of;
-- n_linked_to_change: with a caused_by_change_id or a
-- caused_by_deployment_id; last_opened_at: the latest opened_at.
with opened as (
    select
        i.incident_id,
        i.application_id,
        i.priority,
        i.opened_at,
        i.resolved_at,
        i.caused_by_change_id is not null
        or i.caused_by_deployment_id is not null as is_linked
    from incidents as i
    left join applications as a on i.application_id = a.application_id
    where
        keep($application_ids, i.application_id)
        and keep($portfolios, a.portfolio)
        and i.opened_at
        >= instant_or_midnight($opened_from, $start_date, $reporting_tz)
        and i.opened_at
        < instant_or_midnight($opened_before, $end_date, $reporting_tz)
),

counted as (
    select
        application_id,
        count(*) as n_incidents,
        count(*) filter (where priority = 1) as n_p1,
        count(*) filter (where priority = 2) as n_p2,
        count(*) filter (where priority = 3) as n_p3,
        count(*) filter (
            where priority >= 4
        ) as n_p4_or_lower,
        count(*) filter (
            where priority is null
        ) as n_unprioritized,
        count(*) filter (
            where
            resolved_at is null
            or resolved_at
            > resolved_as_of(local_instant($as_of, $reporting_tz))
        ) as n_unresolved,
        count(*) filter (
            where is_linked
        ) as n_linked_to_change,
        max(opened_at) as last_opened_at
    from opened
    group by application_id
    order by application_id nulls last
)

select
    *,
    resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
from counted
