-- One row per open state (new, assess, authorize, scheduled, implement,
-- review), each present with n = 0 when no change is in it: how many open
-- changes in the filters are in it, how old they are in it, and how many
-- are late.
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
-- docs/metrics.md open_change_backlog_by_state: the rows of
-- open_change_backlog (whose rules, state_since_at and the two lateness
-- flags, are restated here) grouped by state. n: open changes in the state;
-- median_age_days (C4), max_age_days: of age_days, NULL when n = 0 (C5);
-- n_age_upper_bound: ages measured from an earlier milestone than the
-- state's own; n_past_planned_start, n_unclosed_after_implementation: the
-- flags' counts; n_excluded: closed or cancelled changes in the filters
-- (on every row). Ordered by state_rank.
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
),

backlog as (
    select
        state,
        (state, age_basis) in (
            ('new', 'created_at'),
            ('scheduled', 'approved_at'),
            ('implement', 'actual_start_at'),
            ('review', 'actual_end_at')
        ) as is_age_exact,
        epoch(as_of - state_since_at) / 86400 as age_days,
        coalesce(planned_start_at < as_of and actual_start_at is null, false)
            as is_past_planned_start,
        coalesce(
            actual_end_at < as_of - to_days(close_within_days), false
        ) as is_unclosed_after_implementation
    from dated
),

states as (
    select
        s.state,
        s.state_rank
    from (
        values
        ('new', 1),
        ('assess', 2),
        ('authorize', 3),
        ('scheduled', 4),
        ('implement', 5),
        ('review', 6)
    ) as s (state, state_rank)
),

excluded as (
    select count(*) as n_excluded
    from
        scoped_changes(
            $application_ids, $portfolios, $teams, $change_types, $tiers
        )
    where state in ('closed', 'cancelled')
)

select
    s.state,
    s.state_rank,
    count(b.state) as n,
    quantile_cont(b.age_days, 0.5) as median_age_days,
    max(b.age_days) as max_age_days,
    count(b.state) filter (where not b.is_age_exact) as n_age_upper_bound,
    count(b.state) filter (where b.is_past_planned_start)
        as n_past_planned_start,
    count(b.state) filter (where b.is_unclosed_after_implementation)
        as n_unclosed_after_implementation,
    any_value(x.n_excluded) as n_excluded,
    any_value(p.as_of) as as_of
from states as s
left join backlog as b on s.state = b.state
cross join excluded as x
cross join params as p
group by s.state, s.state_rank
order by s.state_rank
