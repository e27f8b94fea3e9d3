-- One row per value of the chosen dimension (a NULL value is its own row):
-- unauthorized_changes and its counts for the changes of that value.
-- $dimension: change_type, risk, team (assignment group), application or
--     portfolio (default: change_type)
-- $start_date, $end_date: start window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- METRICS.md unauthorized_changes split by one dimension, over the rows of
-- the cab_required_starts macro (same population, rule and counts as the
-- headline): is_cab_required = true and actual_start_at in the window;
-- unauthorized if approval <> 'approved' or approved_at > actual_start_at;
-- approved with no approved_at is authorised (n_approval_time_missing).
-- n_excluded: CAB not required; n_unclassified: NULL is_cab_required, or
-- CAB-required with a NULL approval. dimension_value is the change's
-- change_type, risk, assignment_group, application_id or its application's
-- portfolio. The rows add up to the headline (C7: roll up the counts, not
-- the rates). Any other dimension raises an error.
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

started as (
    select
        s.is_cab_required,
        s.approval,
        s.is_not_approved,
        s.is_approved_after_start,
        s.is_approval_time_missing,
        s.is_unauthorized,
        case ch.dimension
            when 'change_type' then s.change_type
            when 'risk' then s.risk
            when 'team' then s.assignment_group
            when 'application' then s.application_id
            when 'portfolio' then a.portfolio
        end as dimension_value
    from
        cab_required_starts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        ) as s
    cross join chosen as ch
    left join applications as a on s.application_id = a.application_id
),

counted as (
    select
        dimension_value,
        count(*) filter (
            where is_cab_required and approval is not null
        ) as n,
        count(*) filter (
            where is_cab_required and is_unauthorized
        ) as n_unauthorized,
        count(*) filter (
            where is_cab_required and is_not_approved
        ) as n_not_approved,
        count(*) filter (
            where is_cab_required and is_approved_after_start
        ) as n_approved_after_start,
        count(*) filter (
            where is_cab_required and is_approval_time_missing
        ) as n_approval_time_missing,
        count(*) filter (where not is_cab_required) as n_excluded,
        count(*) filter (
            where
            is_cab_required is null
            or (is_cab_required and approval is null)
        ) as n_unclassified
    from started
    group by dimension_value
),

rated as (
    select
        dimension_value,
        n_unauthorized / nullif(n, 0) as unauthorized_rate,
        * exclude (dimension_value)
    from counted
    order by dimension_value nulls last
)

select * from rated
