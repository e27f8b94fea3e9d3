-- One row per open change (state not closed or cancelled) in the filters:
-- its age in state and whether it is past its planned start and not
-- started, or implemented and not closed after $close_within_days.
-- $as_of: the instant ages are measured at, as text (with an offset as
--     given, without one in $reporting_tz); null = the last succeeded load
--     (default: null)
-- $close_within_days: days an implemented change may stay open before it
--     is listed as not closed (default: 5)
-- $reporting_tz: IANA zone of an as_of given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md open_change_backlog. The states as loaded (there is no
-- state history): as_of only measures ages and lateness. state_since_at:
-- the latest milestone the state implies that is at or before as_of: new,
-- assess, authorize created_at; scheduled approved_at, else created_at;
-- implement actual_start_at, else approved_at, else created_at; review
-- actual_end_at, else actual_start_at, else approved_at, else created_at.
-- age_basis names it; is_age_exact when it is the state's own milestone
-- (new created_at, scheduled approved_at, implement actual_start_at, review
-- actual_end_at), else age_days is an upper bound. is_past_planned_start:
-- planned_start_at < as_of and no actual_start_at. is_unclosed_after_
-- implementation: actual_end_at < as_of - close_within_days x 24 h (exactly
-- that many days is not yet late). Days are 24 h, never rounded. Ordered by
-- state (new to review), age_days descending, change_id.
with params as (
    select
        resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of,
        cast($close_within_days as integer) as close_within_days
),

open_changes as (
    select
        c.*,
        p.as_of,
        p.close_within_days,
        case when c.approved_at <= p.as_of then c.approved_at end
            as approved_by,
        case when c.actual_start_at <= p.as_of then c.actual_start_at end
            as started_by,
        case when c.actual_end_at <= p.as_of then c.actual_end_at end
            as ended_by
    from
        scoped_changes(
            $application_ids, $portfolios, $teams, $change_types, $tiers
        ) as c
    cross join params as p
    where c.state not in ('closed', 'cancelled')
),

aged as (
    select
        *,
        case state
            when 'new' then 1
            when 'assess' then 2
            when 'authorize' then 3
            when 'scheduled' then 4
            when 'implement' then 5
            when 'review' then 6
        end as state_rank,
        case
            when state = 'scheduled' and approved_by is not null
                then 'approved_at'
            when state = 'implement' and started_by is not null
                then 'actual_start_at'
            when state = 'implement' and approved_by is not null
                then 'approved_at'
            when state = 'review' and ended_by is not null
                then 'actual_end_at'
            when state = 'review' and started_by is not null
                then 'actual_start_at'
            when state = 'review' and approved_by is not null
                then 'approved_at'
            else 'created_at'
        end as age_basis
    from open_changes
),

dated as (
    select
        *,
        case age_basis
            when 'approved_at' then approved_by
            when 'actual_start_at' then started_by
            when 'actual_end_at' then ended_by
            else created_at
        end as state_since_at
    from aged
)

select
    change_id,
    title,
    state,
    state_rank,
    change_type,
    risk,
    priority,
    approval,
    assignment_group,
    application_id,
    created_at,
    approved_at,
    planned_start_at,
    planned_end_at,
    actual_start_at,
    actual_end_at,
    updated_at,
    state_since_at,
    age_basis,
    (state, age_basis) in (
        ('new', 'created_at'),
        ('scheduled', 'approved_at'),
        ('implement', 'actual_start_at'),
        ('review', 'actual_end_at')
    ) as is_age_exact,
    epoch(as_of - state_since_at) / 86400 as age_days,
    coalesce(planned_start_at < as_of and actual_start_at is null, false)
        as is_past_planned_start,
    case
        when planned_start_at < as_of and actual_start_at is null
            then epoch(as_of - planned_start_at) / 86400
    end as days_past_planned_start,
    coalesce(
        actual_end_at < as_of - to_days(close_within_days), false
    ) as is_unclosed_after_implementation,
    epoch(as_of - ended_by) / 86400 as days_since_implemented,
    close_within_days,
    as_of
from dated
order by state_rank asc, age_days desc, change_id asc
