-- One row per value of the chosen dimension (a NULL value is its own row):
-- emergency_change_ratio and its counts for the changes of that value.
-- $dimension: change_type, risk, team (assignment group), application or
--     portfolio (default: change_type)
-- $start_date, $end_date: outcome window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- METRICS.md emergency_change_ratio split by one dimension, over the
-- implemented rows of the change_outcomes macro (same population and counts
-- as the headline): n_emergency / (n_standard + n_normal + n_emergency); a
-- NULL change type is unclassified. dimension_value is the change's
-- change_type, risk, assignment_group, application_id or its application's
-- portfolio. The rows add up to the headline (C7: roll up the counts, not
-- the ratios). Any other dimension raises an error.
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

implemented as (
    select
        o.change_type,
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
            $portfolios, $teams, $change_types, $tiers, null
        ) as o
    cross join chosen as ch
    left join applications as a on o.application_id = a.application_id
    where o.kind = 'implemented'
),

counted as (
    select
        dimension_value,
        count(*) filter (where change_type = 'emergency') as n_emergency,
        count(*) filter (where change_type = 'normal') as n_normal,
        count(*) filter (where change_type = 'standard') as n_standard,
        count(*) filter (where change_type is null) as n_unclassified
    from implemented
    group by dimension_value
),

rated as (
    select
        dimension_value,
        n_standard + n_normal + n_emergency as n,
        n_emergency,
        n_normal,
        n_standard,
        n_unclassified,
        n_emergency
        / nullif(n_standard + n_normal + n_emergency, 0)
            as emergency_change_ratio
    from counted
    order by dimension_value nulls last
)

select * from rated
