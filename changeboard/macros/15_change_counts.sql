-- SQL macros: the counts behind the change headlines, their
-- breakdowns by dimension and by period, from one definition each.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.
--
-- Each *_counts macro is the one definition of a family's columns: the
-- headline query (x), its split by a dimension (x_by) and by period
-- (x_by_period) all select from it. It takes p_dimension and p_grain, at
-- most one of them set, and groups by grouping sets ((dimension_value,
-- period_start), ()): the row with is_total is the headline over every
-- input row (one row even with none), the other rows split it by
-- dimension_value (NULL when p_dimension is NULL) or, with p_grain, are one
-- row per period of the window (change_periods: period_label, is_complete),
-- zero-filled. Rates are computed from each row's counts (docs/metrics.md
-- C7), never averaged. Every macro returns is_total, dimension_value,
-- period_start, period_label and is_complete, then its measures.

-- n_where(condition): the number of rows where condition is true, 0 when
-- none (an aggregate, as count(*) filter (where condition), which DuckDB
-- evaluates at about twice the cost of count_if).
create or replace macro n_where(condition) as
coalesce(cast(count_if(condition) as bigint), 0);

-- checked_change_dimension(dimension): the dimension of a *_by query:
-- change_type, risk, team, application or portfolio; anything else (NULL
-- too) raises an error.
create or replace macro checked_change_dimension(p_dimension) as
case p_dimension
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
end;

-- chosen_dimension(dimension): NULL when dimension is NULL, else
-- checked_change_dimension(dimension). A constant of the query, so a
-- headline (no dimension) folds the dimension value away.
create or replace macro chosen_dimension(p_dimension) as
case
    when p_dimension is not null then checked_change_dimension(p_dimension)
end;

-- change_dimension_value(dimension, change_type, risk, assignment_group,
-- application_id, portfolio): a change's value of a checked dimension: its
-- change_type, risk, assignment_group (team), application_id or its
-- application's portfolio; NULL when dimension is NULL.
create or replace macro change_dimension_value(
    p_dimension, v_change_type, v_risk, v_team, v_application_id,
    v_portfolio
) as
case p_dimension
    when 'change_type' then v_change_type
    when 'risk' then v_risk
    when 'team' then v_team
    when 'application' then v_application_id
    when 'portfolio' then v_portfolio
end;

-- record_dimension(dimension): a checked dimension a change's record
-- carries (change_records): any but portfolio, which is an error.
create or replace macro record_dimension(p_dimension) as
case
    when chosen_dimension(p_dimension) = 'portfolio'
        then error(
            'dimension portfolio is not one of a record''s: change_type, '
            || 'risk, team or application'
        )
    else chosen_dimension(p_dimension)
end;

-- period_start_of(grain, tz, instant): the local date the period of grain
-- (week, month, quarter) holding instant starts on, read in tz; NULL when
-- grain is NULL, without reading the zone row by row (a headline has no
-- grain, and the zone conversion is the dearest step of a row); in UTC
-- without a calendar lookup (local_timestamp: a year's 400,000 outcomes by
-- week 32 -> 7 ms).
create or replace macro period_start_of(p_grain, p_tz, p_instant) as
case
    when p_grain is not null
        then
            cast(date_trunc(p_grain, local_timestamp(p_instant, p_tz)) as date)
end;

-- compared_start(p_start_date, p_end_date, p_previous_too): the first date a
-- *_counts macro reads: p_start_date, or with p_previous_too the start of the
-- equal window just before [p_start_date, p_end_date), so one pass counts
-- both (a page's cards and their deltas).
create or replace macro compared_start(
    p_start_date, p_end_date, p_previous_too
) as
case
    when p_previous_too
        then
            cast(p_start_date as date) - cast(
                cast(p_end_date as date) - cast(p_start_date as date)
                as integer
            )
    else cast(p_start_date as date)
end;

-- in_window_before(p_previous_too, instant, p_start_date, p_tz): whether a
-- row a *_counts macro read from compared_start is the window before's.
create or replace macro in_window_before(
    p_previous_too, v_instant, p_start_date, p_tz
) as
coalesce(p_previous_too, false)
and v_instant < local_midnight(p_start_date, p_tz);

-- cell_dimension(is_previous, p_dimension, ...) and cell_period(is_previous,
-- p_grain, p_tz, instant): a row's dimension value (change_dimension_value
-- of the chosen dimension) and period (period_start_of) in a *_counts
-- macro's cells; NULL in the window before, which is counted whole.
create or replace macro cell_dimension(
    v_is_previous, p_dimension, v_change_type, v_risk, v_team,
    v_application_id, v_portfolio
) as
case
    when not v_is_previous
        then
            change_dimension_value(
                chosen_dimension(p_dimension), v_change_type, v_risk, v_team,
                v_application_id, v_portfolio
            )
end;

create or replace macro cell_period(v_is_previous, p_grain, p_tz, v_instant) as
case
    when not v_is_previous then period_start_of(p_grain, p_tz, v_instant)
end;

-- counts_rolled_up(p_cells, p_start_date, p_end_date, p_grain, p_dimension,
-- p_previous_too): the rows of a *_counts macro from its cells, the list
-- of its counts per (is_previous, dimension_value, period_start) (structs:
-- those three, then the counts, each a BIGINT). Counts add up, so the
-- cells give every row at once: per window a total (is_total; zeros when
-- no row is in it; the window before only with p_previous_too), and for
-- the window itself one row per dimension value (with p_dimension) and one
-- per period of p_grain (change_periods, zero-filled: period_label,
-- is_complete). Columns: is_total, is_previous, dimension_value,
-- period_start, the counts, period_label, is_complete.
create or replace macro counts_rolled_up(
    p_cells, p_start_date, p_end_date, p_grain, p_dimension, p_previous_too
) as table
with cells as (
    select unnest(p_cells, recursive := true)
),

-- the cells added up: per window the total (grouped = 3), and for the
-- window itself per dimension value (1) and per period (2)
counted as (
    select
        grouping(dimension_value, period_start) as grouped,
        is_previous,
        dimension_value,
        period_start,
        cast(
            sum(
                columns(
                    c.* exclude (is_previous, dimension_value, period_start)
                )
            ) as bigint
        )
    from cells as c
    group by grouping sets (
        (is_previous), (is_previous, dimension_value),
        (is_previous, period_start)
    )
),

windows as (
    select false as is_previous
    union all
    select true as is_previous
    where coalesce(p_previous_too, false)
)

select
    true as is_total,
    w.is_previous,
    cast(null as varchar) as dimension_value,
    cast(null as date) as period_start,
    coalesce(
        columns(
            c.* exclude (grouped, is_previous, dimension_value, period_start)
        ),
        0
    ),
    cast(null as varchar) as period_label,
    cast(null as boolean) as is_complete
from windows as w
left join counted as c on w.is_previous = c.is_previous and c.grouped = 3
union all
select
    false as is_total,
    false as is_previous,
    c.dimension_value,
    cast(null as date) as period_start,
    columns(
        c.* exclude (grouped, is_previous, dimension_value, period_start)
    ),
    cast(null as varchar) as period_label,
    cast(null as boolean) as is_complete
from counted as c
where c.grouped = 1 and not c.is_previous and p_dimension is not null
union all
select
    false as is_total,
    false as is_previous,
    cast(null as varchar) as dimension_value,
    p.period_start,
    coalesce(
        columns(
            c.* exclude (grouped, is_previous, dimension_value, period_start)
        ),
        0
    ),
    p.period_label,
    p.is_complete
from grain_periods(p_start_date, p_end_date, p_grain) as p
left join counted as c
    on
        p.period_start = c.period_start
        and c.grouped = 2
        and not c.is_previous;

-- group_row_kind(is_total, is_previous, period_start): what a *_counts row
-- is, as a groups query (queries/*_groups.sql) names it: 'total',
-- 'previous' (the window before's total), 'period' or 'dimension'; and
-- group_row_order(row_kind), the order a groups query gives them in (the
-- approval lead time's 'bin' rows last).
create or replace macro group_row_kind(v_is_total, v_is_previous, v_period) as
case
    when v_is_total and v_is_previous then 'previous'
    when v_is_total then 'total'
    when v_period is not null then 'period'
    else 'dimension'
end;

create or replace macro group_row_order(v_row_kind) as
case v_row_kind
    when 'total' then 0 when 'previous' then 1 when 'period' then 2
    when 'dimension' then 3 else 4
end;

-- change_success_counts(..., p_dimension, p_grain, p_previous_too):
-- docs/metrics.md change_success_rate over the change_outcome_facts_between
-- macro (the rows of change_outcomes, read from derived_change_outcomes);
-- periods of p_grain by outcome_at in p_reporting_tz. n_clean_success:
-- successful and no failure signal; n_unfailed_successful_with_issues:
-- successful_with_issues and not failed (the per-period count).
-- It takes both p_dimension and p_grain (then its rows are the total, one
-- per dimension value and one per period), and with p_previous_too it also
-- counts the equal window before (compared_start): one more is_total row,
-- is_previous. The rows are counted once, into cells of (is_previous,
-- dimension value, period), which add up to every row it returns
-- (counts_rolled_up).
create or replace macro change_success_counts(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_failure_min_priority,
    p_dimension, p_grain, p_previous_too := false
) as table
with facts as (
    select
        o.*,
        in_window_before(
            p_previous_too, o.outcome_at, p_start_date, p_reporting_tz
        ) as is_previous
    from
        change_outcome_facts_between(
            local_midnight(
                compared_start(p_start_date, p_end_date, p_previous_too),
                p_reporting_tz
            ),
            local_midnight(p_end_date, p_reporting_tz),
            p_application_ids, p_portfolios, p_teams, p_change_types, p_tiers,
            p_failure_min_priority
        ) as o
),

outcomes as (
    select
        o.is_previous,
        o.kind,
        o.close_code,
        o.is_failed,
        o.is_failed_by_close_code,
        o.is_failed_by_incident,
        o.is_failed_by_rollback,
        o.outcome_from_closed_at,
        cell_dimension(
            o.is_previous, p_dimension, o.change_type, o.risk,
            o.assignment_group, o.application_id, a.portfolio
        ) as dimension_value,
        cell_period(
            o.is_previous, p_grain, p_reporting_tz, o.outcome_at
        ) as period_start
    from facts as o
    -- the portfolio is read only when it is the dimension (a constant: no
    -- join otherwise)
    left join applications as a
        on
            o.application_id = a.application_id
            and coalesce(chosen_dimension(p_dimension) = 'portfolio', false)
),

cells as (
    select
        is_previous,
        dimension_value,
        period_start,
        n_where(kind = 'implemented') as n,
        n_where(is_failed) as n_failed,
        n_where(
            close_code = 'successful'
            and not (is_failed_by_incident or is_failed_by_rollback)
        ) as n_clean_success,
        n_where(
            close_code = 'successful_with_issues'
        ) as n_successful_with_issues,
        n_where(
            close_code = 'successful_with_issues' and not is_failed
        ) as n_unfailed_successful_with_issues,
        n_where(is_failed_by_close_code) as n_failed_by_close_code,
        n_where(
            kind = 'implemented' and is_failed_by_incident
        ) as n_failed_by_incident,
        n_where(
            kind = 'implemented' and is_failed_by_rollback
        ) as n_failed_by_rollback,
        n_where(outcome_from_closed_at) as n_outcome_from_closed_at,
        n_where(kind = 'excluded') as n_excluded,
        n_where(kind = 'unclassified') as n_unclassified
    from outcomes
    group by is_previous, dimension_value, period_start
),

filled as (
    select *
    from
        counts_rolled_up(
            (select list(c) from cells as c), p_start_date, p_end_date,
            p_grain, p_dimension, p_previous_too
        )
)

select
    is_total,
    is_previous,
    -- the dimension is checked once more, in a row of its own, so an
    -- unknown one raises even when no change is in the window
    case
        when p_dimension is not null and ch.dimension is null then null
        else f.dimension_value
    end as dimension_value,
    period_start,
    period_label,
    is_complete,
    n - n_failed as n_succeeded,
    n,
    n_failed,
    n_clean_success,
    n_successful_with_issues,
    n_failed_by_close_code,
    n_failed_by_incident,
    n_failed_by_rollback,
    n_outcome_from_closed_at,
    n_excluded,
    n_unclassified,
    (n - n_failed) / nullif(n, 0) as change_success_rate,
    n_failed / nullif(n, 0) as change_failure_rate,
    n_clean_success / nullif(n, 0) as clean_success_rate,
    n_successful_with_issues / nullif(n, 0) as swi_share,
    n_unfailed_successful_with_issues
from filled as f
cross join (select chosen_dimension(p_dimension) as dimension) as ch;

-- unauthorized_tallies(s) and unauthorized_measures(t): the unauthorized
-- family's columns, defined once. unauthorized_tallies is an aggregate over
-- rows s of cab_required_starts: a struct of the family's counts (n: CAB
-- required with an approval; n_excluded: CAB not required; n_unclassified:
-- is_cab_required NULL, or CAB required with no approval; of them
-- n_cab_flag_missing: is_cab_required NULL, so what to map can be said;
-- n_emergency_approved_after_start: of n_approved_after_start, the
-- emergency changes, approved in retrospect as an emergency CAB does).
-- unauthorized_measures(t) gives, from a row t holding those counts, the
-- family's columns in their order: unauthorized_rate = n_unauthorized / n,
-- then the counts. Each is unnested into columns; the measures read the
-- counts from a row (a CTE's), not from the aggregate itself, which a
-- macro would repeat once per use. The headline (unauthorized_changes)
-- counts its rows with them straight, without the cells a breakdown needs
-- (23 -> 14 ms of CPU for 90 days at 1M changes).
create or replace macro unauthorized_tallies(s) as
struct_pack(
    n := n_where(s.is_cab_required and s.approval is not null),
    n_unauthorized := n_where(s.is_cab_required and s.is_unauthorized),
    n_not_approved := n_where(s.is_cab_required and s.is_not_approved),
    n_approved_after_start := n_where(
        s.is_cab_required and s.is_approved_after_start
    ),
    n_emergency_approved_after_start := n_where(
        s.is_cab_required and s.is_approved_after_start
        and s.change_type = 'emergency'
    ),
    n_approval_time_missing := n_where(
        s.is_cab_required and s.is_approval_time_missing
    ),
    n_excluded := n_where(not s.is_cab_required),
    n_unclassified := n_where(
        s.is_cab_required is null
        or (s.is_cab_required and s.approval is null)
    ),
    n_cab_flag_missing := n_where(s.is_cab_required is null)
);

create or replace macro unauthorized_measures(t) as
struct_pack(
    unauthorized_rate := t.n_unauthorized / nullif(t.n, 0),
    n := t.n,
    n_unauthorized := t.n_unauthorized,
    n_not_approved := t.n_not_approved,
    n_approved_after_start := t.n_approved_after_start,
    n_emergency_approved_after_start := t.n_emergency_approved_after_start,
    n_approval_time_missing := t.n_approval_time_missing,
    n_excluded := t.n_excluded,
    n_unclassified := t.n_unclassified,
    n_cab_flag_missing := t.n_cab_flag_missing
);

-- unauthorized_change_counts(..., p_dimension, p_grain, p_previous_too):
-- docs/metrics.md unauthorized_changes over the cab_required_starts macro;
-- periods of p_grain by actual_start_at in p_reporting_tz. Its rows as
-- change_success_counts gives them: a dimension and a grain together, with
-- p_previous_too the total of the equal window before, from cells
-- (counts_rolled_up).
create or replace macro unauthorized_change_counts(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_dimension, p_grain,
    p_previous_too := false
) as table
with started as (
    select
        s.is_cab_required,
        s.approval,
        s.is_not_approved,
        s.is_approved_after_start,
        s.is_approval_time_missing,
        s.is_unauthorized,
        s.change_type,
        s.is_previous,
        cell_dimension(
            s.is_previous, p_dimension, s.change_type, s.risk,
            s.assignment_group, s.application_id, a.portfolio
        ) as dimension_value,
        cell_period(
            s.is_previous, p_grain, p_reporting_tz, s.actual_start_at
        ) as period_start
    from (
        select
            *,
            in_window_before(
                p_previous_too, actual_start_at, p_start_date, p_reporting_tz
            ) as is_previous
        from
            cab_required_starts(
                compared_start(p_start_date, p_end_date, p_previous_too),
                p_end_date, p_reporting_tz, p_application_ids, p_portfolios,
                p_teams, p_change_types, p_tiers
            )
    ) as s
    -- the portfolio is read only when it is the dimension (a constant: no
    -- join otherwise)
    left join applications as a
        on
            s.application_id = a.application_id
            and coalesce(chosen_dimension(p_dimension) = 'portfolio', false)
),

cells as (
    select
        s.is_previous,
        s.dimension_value,
        s.period_start,
        unnest(unauthorized_tallies(s))
    from started as s
    group by s.is_previous, s.dimension_value, s.period_start
),

filled as (
    select *
    from
        counts_rolled_up(
            (select list(c) from cells as c), p_start_date, p_end_date,
            p_grain, p_dimension, p_previous_too
        )
)

select
    f.is_total,
    f.is_previous,
    -- the dimension is checked once more, in a row of its own, so an
    -- unknown one raises even when no change is in the window
    case
        when p_dimension is not null and ch.dimension is null then null
        else f.dimension_value
    end as dimension_value,
    f.period_start,
    f.period_label,
    f.is_complete,
    unnest(unauthorized_measures(f))
from filled as f
cross join (select chosen_dimension(p_dimension) as dimension) as ch;

-- emergency_change_counts(..., p_dimension, p_grain, p_previous_too):
-- docs/metrics.md emergency_change_ratio over the completed changes
-- (docs/metrics.md A24, as completed_changes classifies them: implemented,
-- or no close code and in review or closed), read from derived_change_outcomes (outcome_facts_in:
-- kind implemented or is_completed_without_close_code), dated by
-- completed_at = coalesce(actual_end_at, closed_at) (outcome_at); periods
-- of p_grain by completed_at in p_reporting_tz. n = standard +
-- normal + emergency; n_unclassified: no change type;
-- n_without_close_code: completed changes (any type) with no close code;
-- n_excluded: changes cancelled or rejected at an instant in the window,
-- as completed_changes excludes them (outcome kind 'excluded', or no close
-- code and state cancelled). Its rows as change_success_counts gives
-- them: a dimension and a grain together, with p_previous_too the total of
-- the equal window before, from cells (counts_rolled_up).
create or replace macro emergency_change_counts(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_dimension, p_grain,
    p_previous_too := false
) as table
with completed as (
    select
        o.change_type,
        coalesce(o.kind = 'implemented', false) as has_outcome,
        coalesce(o.kind = 'excluded', false)
        or o.is_cancelled_without_close_code as is_excluded,
        o.is_previous,
        cell_dimension(
            o.is_previous, p_dimension, o.change_type, o.risk,
            o.assignment_group, o.application_id, a.portfolio
        ) as dimension_value,
        cell_period(
            o.is_previous, p_grain, p_reporting_tz, o.outcome_at
        ) as period_start
    from (
        select
            *,
            in_window_before(
                p_previous_too, outcome_at, p_start_date, p_reporting_tz
            ) as is_previous
        from
            outcome_facts_in(
                compared_start(p_start_date, p_end_date, p_previous_too),
                p_end_date, p_reporting_tz, p_application_ids, p_portfolios,
                p_teams, p_change_types, p_tiers
            )
    ) as o
    -- the portfolio is read only when it is the dimension (a constant: no
    -- join otherwise)
    left join applications as a
        on
            o.application_id = a.application_id
            and coalesce(chosen_dimension(p_dimension) = 'portfolio', false)
    where
        o.kind in ('implemented', 'excluded')
        or o.is_completed_without_close_code
        or o.is_cancelled_without_close_code
),

cells as (
    select
        is_previous,
        dimension_value,
        period_start,
        n_where(not is_excluded and change_type = 'emergency')
            as n_emergency,
        n_where(not is_excluded and change_type = 'normal') as n_normal,
        n_where(not is_excluded and change_type = 'standard') as n_standard,
        n_where(not is_excluded and change_type is null) as n_unclassified,
        n_where(not is_excluded and not has_outcome) as n_without_close_code,
        n_where(is_excluded) as n_excluded
    from completed
    group by is_previous, dimension_value, period_start
),

filled as (
    select *
    from
        counts_rolled_up(
            (select list(c) from cells as c), p_start_date, p_end_date,
            p_grain, p_dimension, p_previous_too
        )
)

select
    is_total,
    is_previous,
    -- the dimension is checked once more, in a row of its own, so an
    -- unknown one raises even when no change is in the window
    case
        when p_dimension is not null and ch.dimension is null then null
        else f.dimension_value
    end as dimension_value,
    period_start,
    period_label,
    is_complete,
    n_standard + n_normal + n_emergency as n,
    n_emergency,
    n_normal,
    n_standard,
    n_unclassified,
    n_without_close_code,
    n_excluded,
    n_emergency
    / nullif(n_standard + n_normal + n_emergency, 0)
        as emergency_change_ratio
from filled as f
cross join (select chosen_dimension(p_dimension) as dimension) as ch;

-- approval_lead_time_rows(..., p_bin_hours): docs/metrics.md
-- approval_lead_time over the approval_spans macro, every row its queries
-- give, from one read of the spans. row_kind 'total' (every change type
-- pooled; one row even with no spans) and 'dimension' (one per
-- change_type, NULL its own), by grouping sets ((change_type), ()): the
-- median (quantile_cont), p85 and mean over the n measured spans,
-- n_invalid (negative spans, left out), n_excluded, n_unclassified. And,
-- with p_bin_hours, row_kind 'bin': per change type and bin k of the
-- measured spans, the n of them whose lead time is in [k * p_bin_hours,
-- (k + 1) * p_bin_hours) (bin_start_hours, bin_end_hours: NULL on the
-- other rows, as the statistics but n are on bin rows). A query keeping one
-- row_kind reads no more than it needs: the other branch's constant kind
-- fails its filter and is pruned. Read together (approval_lead_time_groups)
-- the three cost a year at a million changes 37 ms of CPU, apart 85.
create or replace macro approval_lead_time_rows(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_bin_hours
) as table
with spans as (
    select
        change_type,
        lead_hours,
        kind
    from
        approval_spans(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_teams, p_change_types, p_tiers
        )
),

binned as (
    select
        s.change_type,
        floor(s.lead_hours / w.bin_hours) as bin,
        w.bin_hours
    from spans as s
    cross join (select cast(p_bin_hours as double) as bin_hours) as w
    where s.kind = 'measured' and w.bin_hours is not null
),

summarised as (
    select
        case
            when grouping(change_type) > 0 then 'total' else 'dimension'
        end as row_kind,
        change_type,
        -- the median and p85 from one sort of the spans, not two
        quantile_cont(lead_hours, [0.5, 0.85]) filter (
            where kind = 'measured'
        ) as lead_quantiles,
        avg(lead_hours) filter (
            where kind = 'measured'
        ) as mean_lead_time_hours,
        n_where(kind = 'measured') as n,
        n_where(kind = 'invalid') as n_invalid,
        n_where(kind = 'excluded') as n_excluded,
        n_where(kind = 'unclassified') as n_unclassified
    from spans
    group by grouping sets ((change_type), ())
)

select
    row_kind,
    change_type,
    cast(null as double) as bin_start_hours,
    cast(null as double) as bin_end_hours,
    lead_quantiles[1] as median_lead_time_hours,
    lead_quantiles[2] as p85_lead_time_hours,
    mean_lead_time_hours,
    n,
    n_invalid,
    n_excluded,
    n_unclassified
from summarised
union all
select
    'bin' as row_kind,
    change_type,
    bin * bin_hours as bin_start_hours,
    (bin + 1) * bin_hours as bin_end_hours,
    null as median_lead_time_hours,
    null as p85_lead_time_hours,
    null as mean_lead_time_hours,
    count(*) as n,
    null as n_invalid,
    null as n_excluded,
    null as n_unclassified
from binned
group by change_type, bin, bin_hours;
