-- Temporary SQL macros: change populations and failure signals.
-- changeboard/db.py creates every file of this folder, in name order, on each
-- connection (read-only ones too), so a database file never carries stale
-- definitions. A macro may use macros of files sorted before its own.

-- scoped_changes(...): changes passing the global filters (NULL = all).
create or replace temp macro scoped_changes(
    application_ids, portfolios, teams, change_types, tiers
) as table
select c.*
from changes as c
left join applications as a on c.application_id = a.application_id
left join environments as e on c.environment_id = e.environment_id
where
    keep(application_ids, c.application_id)
    and keep(portfolios, a.portfolio)
    and keep(teams, c.assignment_group)
    and keep(change_types, c.change_type)
    and keep(tiers, e.tier);

-- change_failure_signals(min_priority): one row per change with an explicit
-- failure signal (METRICS.md section 2): a linked incident of priority
-- min_priority or higher (NULL = any), reached by caused_by_change_id or by
-- caused_by_deployment_id through the deployment's change; or a rolled-back
-- or rollback deployment of the change.
create or replace temp macro change_failure_signals(min_priority) as table
with linked as (
    select
        i.caused_by_change_id as change_id,
        i.opened_at as signal_at
    from incidents as i
    where
        i.caused_by_change_id is not null
        and (
            cast(min_priority as integer) is null
            or i.priority <= cast(min_priority as integer)
        )
    union all
    select
        d.change_id,
        i.opened_at as signal_at
    from incidents as i
    inner join deployments as d
        on i.caused_by_deployment_id = d.deployment_id
    where
        d.change_id is not null
        and (
            cast(min_priority as integer) is null
            or i.priority <= cast(min_priority as integer)
        )
),

rolled_back as (
    select
        change_id,
        coalesce(finished_at, started_at) as signal_at
    from deployments
    where
        change_id is not null
        and (status = 'rolled_back' or coalesce(is_rollback, false))
),

signals as (
    select
        change_id,
        true as by_incident,
        false as by_rollback,
        signal_at
    from linked
    union all
    select
        change_id,
        false as by_incident,
        true as by_rollback,
        signal_at
    from rolled_back
)

select
    change_id,
    bool_or(by_incident) as by_incident,
    bool_or(by_rollback) as by_rollback,
    min(signal_at) filter (where by_incident) as first_incident_at,
    min(signal_at) filter (where by_rollback) as first_rollback_at
from signals
group by change_id;


-- change_outcomes(...): one row per change in the filters whose outcome falls
-- in [p_start_date, p_end_date) read in p_reporting_tz (METRICS.md section 2
-- and change_success_rate). kind = 'implemented' (close code successful,
-- successful_with_issues, unsuccessful or backed_out; outcome_at =
-- coalesce(actual_end_at, closed_at) in W), 'excluded' (cancelled or
-- rejected, same instant in W) or 'unclassified' (no close code,
-- actual_end_at in W). is_failed: close code unsuccessful/backed_out or an
-- explicit signal from change_failure_signals(p_failure_min_priority).
create or replace temp macro change_outcomes(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_failure_min_priority
) as table
with bounds as (
    select
        local_midnight(p_start_date, p_reporting_tz) as w_start,
        local_midnight(p_end_date, p_reporting_tz) as w_end
),

classified as (
    select
        c.*,
        coalesce(c.actual_end_at, c.closed_at) as outcome_at,
        case
            when
                c.close_code in (
                    'successful', 'successful_with_issues', 'unsuccessful',
                    'backed_out'
                )
                then 'implemented'
            when c.close_code in ('cancelled', 'rejected') then 'excluded'
            when c.close_code is null and c.actual_end_at is not null
                then 'unclassified'
        end as kind
    from
        scoped_changes(
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers
        ) as c
)

select
    c.*,
    c.kind = 'implemented' and c.actual_end_at is null
    as outcome_from_closed_at,
    c.close_code in ('unsuccessful', 'backed_out') as is_failed_by_close_code,
    coalesce(f.by_incident, false) as is_failed_by_incident,
    coalesce(f.by_rollback, false) as is_failed_by_rollback,
    c.kind = 'implemented' and (
        c.close_code in ('unsuccessful', 'backed_out')
        or coalesce(f.by_incident, false)
        or coalesce(f.by_rollback, false)
    ) as is_failed
from classified as c
cross join bounds as b
left join change_failure_signals(p_failure_min_priority) as f
    on c.change_id = f.change_id
where
    c.kind is not null
    and c.outcome_at >= b.w_start
    and c.outcome_at < b.w_end;
