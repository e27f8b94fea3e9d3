-- One row per value of the chosen dimension (a NULL value is its own row):
-- change_success_rate and its counts for the changes of that value.
-- $dimension: change_type, risk, team (assignment group), application or
--     portfolio (default: change_type)
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- METRICS.md change_success_rate split by one dimension, over the rows of
-- the change_outcomes macro (same population, failure rule and counts as
-- the headline). dimension_value is the change's change_type, risk,
-- assignment_group, application_id or its application's portfolio. The
-- rows add up to the headline (C7: roll up the counts, not the rates). Any
-- other dimension raises an error.
with chosen as (
    select
        case $dimension
            when 'change_type' then 'change_type'
            when 'risk' then 'risk'
            when 'team' then 'team'
            when 'application' then 'application'
            when 'portfolio' then 'portfolio'
            else
                error(
                    'dimension must be change_type, risk, team, '
                    || 'application or portfolio'
                )
        end as dimension
),

outcomes as (
    select
        o.kind,
        o.close_code,
        o.is_failed,
        o.is_failed_by_close_code,
        o.is_failed_by_incident,
        o.is_failed_by_rollback,
        o.outcome_from_closed_at,
        case ch.dimension
            when 'change_type' then o.change_type
            when 'risk' then o.risk
            when 'team' then o.assignment_group
            when 'application' then o.application_id
            when 'portfolio' then a.portfolio
        end as dimension_value
    from
        change_outcomes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority
        ) as o
    cross join chosen as ch
    left join applications as a on o.application_id = a.application_id
),

counted as (
    select
        dimension_value,
        count(*) filter (where kind = 'implemented') as n,
        count(*) filter (where is_failed) as n_failed,
        count(*) filter (
            where
            close_code = 'successful'
            and not (is_failed_by_incident or is_failed_by_rollback)
        ) as n_clean_success,
        count(*) filter (
            where close_code = 'successful_with_issues'
        ) as n_successful_with_issues,
        count(*) filter (
            where is_failed_by_close_code
        ) as n_failed_by_close_code,
        count(*) filter (
            where kind = 'implemented' and is_failed_by_incident
        ) as n_failed_by_incident,
        count(*) filter (
            where kind = 'implemented' and is_failed_by_rollback
        ) as n_failed_by_rollback,
        count(*) filter (
            where outcome_from_closed_at
        ) as n_outcome_from_closed_at,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from outcomes
    group by dimension_value
),

rated as (
    select
        dimension_value,
        n - n_failed as n_succeeded,
        * exclude (dimension_value),
        (n - n_failed) / nullif(n, 0) as change_success_rate,
        n_failed / nullif(n, 0) as change_failure_rate,
        n_clean_success / nullif(n, 0) as clean_success_rate,
        n_successful_with_issues / nullif(n, 0) as swi_share
    from counted
    order by dimension_value nulls last
)

select * from rated
