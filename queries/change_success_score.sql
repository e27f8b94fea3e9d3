-- One row per assignment group (a NULL group is its own row): ServiceNow's
-- change success score of the changes implemented in the window.
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
-- docs/metrics.md change_success_score: implemented changes with outcome_at =
-- coalesce(actual_end_at, closed_at) in the window (outcome_facts_in macro
-- with a kind: the rows of change_outcomes, no failure signal needed)
-- plus the distinct incidents linked to them by caused_by_change_id or
-- caused_by_deployment_id, whenever opened (change_incident_links). score =
-- 3 successful - 2 successful_with_issues - 5 (unsuccessful + backed_out)
-- - 10 P1 - 5 P2 - 2 P3, the weights read from servicenow_default(). Close
-- code and incidents both score; an incident scores once per group, and in
-- every group whose change it is linked to; priority 4 or lower weighs 0 and
-- a NULL priority is counted in n_incidents_unprioritized. score and
-- score_per_change = score / n are NULL when the group has no implemented
-- change.
-- outcomes is read twice, not materialized: the counts need no change id,
-- and only the implemented changes with a linked incident are joined to
-- their incidents (a year at a million changes: 33 -> 23 ms)
with outcomes as not materialized (
    select
        change_id,
        assignment_group,
        kind,
        close_code,
        has_incident
    from
        outcome_facts_between(
            instant_or_midnight($outcome_from, $start_date, $reporting_tz),
            instant_or_midnight($outcome_before, $end_date, $reporting_tz),
            $application_ids, $portfolios, $teams, $change_types, $tiers
        )
    where kind is not null
),

linked_incidents as (
    select distinct
        o.assignment_group,
        l.incident_id,
        l.priority
    from outcomes as o
    inner join change_incident_links(null) as l
        on o.change_id = l.change_id
    where o.kind = 'implemented' and o.has_incident
),

change_counts as (
    select
        assignment_group,
        n_where(kind = 'implemented') as n,
        n_where(close_code = 'successful') as n_successful,
        n_where(
            close_code = 'successful_with_issues'
        ) as n_successful_with_issues,
        n_where(close_code = 'unsuccessful') as n_unsuccessful,
        n_where(close_code = 'backed_out') as n_backed_out,
        n_where(kind = 'excluded') as n_excluded,
        n_where(kind = 'unclassified') as n_unclassified
    from outcomes
    group by assignment_group
),

-- the scored components counted per group (the close codes from
-- change_counts, the incidents by priority), then weighed: the same sum as
-- weighing every change and incident
scored_items as (
    select
        assignment_group,
        'successful' as component,
        n_successful as n_items
    from change_counts
    union all
    select
        assignment_group,
        'successful_with_issues' as component,
        n_successful_with_issues as n_items
    from change_counts
    union all
    select
        assignment_group,
        'unsuccessful' as component,
        n_unsuccessful as n_items
    from change_counts
    union all
    select
        assignment_group,
        'backed_out' as component,
        n_backed_out as n_items
    from change_counts
    union all
    select
        assignment_group,
        'p' || cast(priority as varchar) as component,
        count(*) as n_items
    from linked_incidents
    group by assignment_group, priority
),

scores as (
    select
        s.assignment_group,
        cast(sum(coalesce(w.weight, 0) * s.n_items) as bigint) as score
    from scored_items as s
    left join servicenow_default() as w on s.component = w.component
    group by s.assignment_group
),

incident_counts as (
    select
        assignment_group,
        count(*) as n_incidents,
        n_where(priority = 1) as n_incidents_p1,
        n_where(priority = 2) as n_incidents_p2,
        n_where(priority = 3) as n_incidents_p3,
        n_where(priority >= 4) as n_incidents_p4_or_lower,
        n_where(priority is null) as n_incidents_unprioritized
    from linked_incidents
    group by assignment_group
),

combined as (
    select
        c.assignment_group,
        case when c.n > 0 then s.score end as score,
        case when c.n > 0 then s.score end / nullif(c.n, 0)
            as score_per_change,
        c.n,
        c.n_successful,
        c.n_successful_with_issues,
        c.n_unsuccessful,
        c.n_backed_out,
        coalesce(i.n_incidents, 0) as n_incidents,
        coalesce(i.n_incidents_p1, 0) as n_incidents_p1,
        coalesce(i.n_incidents_p2, 0) as n_incidents_p2,
        coalesce(i.n_incidents_p3, 0) as n_incidents_p3,
        coalesce(i.n_incidents_p4_or_lower, 0) as n_incidents_p4_or_lower,
        coalesce(i.n_incidents_unprioritized, 0)
            as n_incidents_unprioritized,
        c.n_excluded,
        c.n_unclassified
    from change_counts as c
    left join scores as s
        on c.assignment_group is not distinct from s.assignment_group
    left join incident_counts as i
        on c.assignment_group is not distinct from i.assignment_group
    order by c.assignment_group nulls last
)

select
    *,
    loaded_as_of() as as_of
from combined
