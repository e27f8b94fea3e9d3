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
-- open_change_backlog (the open_change_ages macro,
-- changeboard/macros/50_backlog.sql) grouped by state. n: open changes in
-- the state;
-- median_age_days (C4), max_age_days: of age_days, NULL when n = 0 (C5);
-- n_age_upper_bound: ages measured from an earlier milestone than the
-- state's own; n_past_planned_start, n_unclosed_after_implementation: the
-- flags' counts; n_excluded: closed or cancelled changes in the filters
-- (on every row); n_created_after_as_of: open changes in the filters
-- created after as_of, which the backlog leaves out (on every row).
-- Ordered by state_rank.
with backlog as (
    select
        state,
        is_age_exact,
        age_days,
        is_past_planned_start,
        is_unclosed_after_implementation
    from
        open_change_ages(
            $as_of, $close_within_days, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        )
),

params as (
    select resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
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
    select
        count(*) filter (
            where c.state in ('closed', 'cancelled')
        ) as n_excluded,
        count(*) filter (
            where
            c.state not in ('closed', 'cancelled')
            and c.created_at > p.as_of
        ) as n_created_after_as_of
    from
        scoped_changes(
            $application_ids, $portfolios, $teams, $change_types, $tiers
        ) as c
    cross join params as p
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
    any_value(x.n_created_after_as_of) as n_created_after_as_of,
    any_value(p.as_of) as as_of
from states as s
left join backlog as b on s.state = b.state
cross join excluded as x
cross join params as p
group by s.state, s.state_rank
order by s.state_rank
