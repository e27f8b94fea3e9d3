-- SQL macros: production
-- deployments (the profiles, deployment units and keys, the deployments of
-- a window) and deployment frequency (one pass: deployment_days). Incident
-- attribution and deployment failure: 41_deployment_failures.sql; releases
-- on time, cadence and timeline: 42_releases.sql; DORA bands and recovery
-- time: 43_dora_bands.sql.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

-- checked_profile(profile): 'default' or 'devlake' (docs/metrics.md C11, section
-- 8); anything else is an error.
create or replace macro checked_profile(p_profile) as
case
    when cast(p_profile as varchar) in ('default', 'devlake')
        then cast(p_profile as varchar)
    else error('profile must be default or devlake')
end;

-- profile_median(x, profile): the median of docs/metrics.md C4 (quantile_cont),
-- or DevLake's lower median (quantile_disc) in the devlake profile.
create or replace macro profile_median(x, p_profile) as
case
    when checked_profile(p_profile) = 'devlake'
        then cast(quantile_disc(x, 0.5) as double)
    else quantile_cont(x, 0.5)
end;

-- deployment_units(profile): one row per deployments row with its kind
-- (docs/metrics.md shared definitions, production deployment): 'deployment' (environment
-- tier prod, status succeeded or rolled_back), 'excluded' (tier prod, status
-- failed), 'unclassified' (succeeded or rolled_back with a NULL or dangling
-- environment), else NULL (not a production deployment). deployment_key is
-- the deployment the row belongs to: itself, or in the devlake profile its
-- release_id when set (DevLake's cicd_deployment_id: one pipeline deploying
-- several repos as units, docs/metrics.md profiles, unit grain).
create or replace macro deployment_units(p_profile) as table
select
    d.deployment_id,
    case
        when checked_profile(p_profile) = 'devlake'
            then coalesce(d.release_id, d.deployment_id)
        else d.deployment_id
    end as deployment_key,
    d.application_id,
    d.environment_id,
    d.change_id,
    d.status,
    coalesce(d.is_rollback, false) as is_rollback,
    d.finished_at,
    d.started_at,
    case
        when
            d.status in ('succeeded', 'rolled_back')
            and e.environment_id is null
            then 'unclassified'
        when d.status in ('succeeded', 'rolled_back') and e.tier = 'prod'
            then 'deployment'
        when d.status = 'failed' and e.tier = 'prod' then 'excluded'
    end as kind
from deployments as d
left join environments as e on d.environment_id = e.environment_id
union all
-- no row: evaluated even with no data, so a bad profile always errs
select
    null as deployment_id,
    null as deployment_key,
    null as application_id,
    null as environment_id,
    null as change_id,
    null as status,
    null as is_rollback,
    null as finished_at,
    null as started_at,
    null as kind
where checked_profile(p_profile) is null;

-- deployment_keys(profile): one row per deployment (deployment_key) with a
-- kind: 'deployment' when any of its units is one (then finished_at is the
-- latest finish of those units, status rolled_back when any is), else
-- 'unclassified', else 'excluded'. In the default profile a key is one row.
-- sequenced_at orders keys (finished_at, else started_at: a deployment
-- with no finish time still has a place among its neighbours).
create or replace macro deployment_keys(p_profile) as table
with units as not materialized (
    select * from deployment_units(p_profile)
    where kind is not null
)

-- the default profile: a key is one unit, read as it is (no aggregate, so a
-- window on finished_at reaches the scan of deployments)
select
    deployment_key as deployment_id,
    application_id,
    environment_id,
    kind,
    finished_at,
    coalesce(finished_at, started_at) as sequenced_at,
    status,
    kind = 'deployment' and is_rollback as is_rollback,
    1 as n_units,
    null::varchar[] as application_ids,
    null::varchar[] as portfolios
from units
where checked_profile(p_profile) = 'default'
union all
select
    deployment_key as deployment_id,
    min(units.application_id) as application_id,
    min(environment_id) as environment_id,
    case
        when bool_or(kind = 'deployment') then 'deployment'
        when bool_or(kind = 'unclassified') then 'unclassified'
        else 'excluded'
    end as kind,
    coalesce(
        max(finished_at) filter (where kind = 'deployment'),
        max(finished_at)
    ) as finished_at,
    coalesce(
        max(finished_at) filter (where kind = 'deployment'),
        max(finished_at),
        max(started_at) filter (where kind = 'deployment'),
        max(started_at)
    ) as sequenced_at,
    case
        when bool_or(kind = 'deployment' and status = 'rolled_back')
            then 'rolled_back'
        when bool_or(kind = 'deployment') then 'succeeded'
        else min(status)
    end as status,
    coalesce(
        bool_or(is_rollback) filter (where kind = 'deployment'), false
    ) as is_rollback,
    count(*) as n_units,
    -- every application and portfolio of its units: DevLake counts a
    -- pipeline for each project it touches (an application filter on any
    -- of them keeps it)
    list(distinct units.application_id) as application_ids,
    list(distinct a.portfolio) filter (where a.portfolio is not null)
        as portfolios
from units
left join applications as a on units.application_id = a.application_id
where checked_profile(p_profile) = 'devlake'
group by deployment_key;

create or replace macro window_deployments(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_exclude_rollbacks
) as table
select
    d.deployment_id,
    d.application_id,
    d.environment_id,
    d.kind,
    d.status,
    d.is_rollback,
    d.finished_at,
    d.n_units,
    cast(local_timestamp(d.finished_at, p_reporting_tz) as date) as local_date,
    d.kind = 'deployment'
    and not (
        d.is_rollback
        and coalesce(cast(p_exclude_rollbacks as boolean), false)
    ) as is_counted
from deployment_keys(p_profile) as d
left join applications as a on d.application_id = a.application_id
where
    (
        d.application_ids is null
        and keep(p_application_ids, d.application_id)
        and keep(p_portfolios, a.portfolio)
    or
        -- a devlake pipeline: kept when any of its units is
        d.application_ids is not null
        and (
            cast(p_application_ids as varchar[]) is null
            or list_has_any(
                d.application_ids, cast(p_application_ids as varchar[])
            )
        )
        and (
            cast(p_portfolios as varchar[]) is null
            or list_has_any(d.portfolios, cast(p_portfolios as varchar[]))
        )
    )
    and d.finished_at >= local_midnight(p_start_date, p_reporting_tz)
    and d.finished_at < local_midnight(p_end_date, p_reporting_tz);

-- deployment_days(...): one row per local finish date (p_reporting_tz) of
-- window_deployments: n_deployments counted (is_counted), n_rollbacks
-- (kind deployment, is_rollback), n_excluded and n_unclassified. The one
-- pass over the window's deployments that deployment_periods and
-- deployment_frequency_stats read: a day is a deploy day when
-- n_deployments > 0.
create or replace macro deployment_days(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_exclude_rollbacks
) as table
select
    local_date,
    count(*) filter (where is_counted) as n_deployments,
    count(*) filter (
        where kind = 'deployment' and is_rollback
    ) as n_rollbacks,
    count(*) filter (where kind = 'excluded') as n_excluded,
    count(*) filter (where kind = 'unclassified') as n_unclassified
from
    window_deployments(
        p_start_date, p_end_date, p_reporting_tz, p_application_ids,
        p_portfolios, p_profile, p_exclude_rollbacks
    )
group by local_date;

-- deployment_period_starts(start, end, grain, profile): one row per ISO week or month
-- (p_grain) meeting [p_start_date, p_end_date), is_complete when it lies
-- wholly inside; a bad grain or profile errs.
create or replace macro deployment_period_starts(
    p_start_date, p_end_date, p_grain, p_profile
) as table
with periods as (
    select cast(g.period_start as date) as period_start
    from
        generate_series(
            cast(date_trunc(p_grain, cast(p_start_date as date)) as date),
            cast(p_end_date as date) - interval 1 day,
            case p_grain
                when 'week' then interval 7 day
                when 'month' then interval 1 month
                else error('grain must be week or month')
            end
        ) as g (period_start)
    where checked_profile(p_profile) is not null
)

select
    period_start,
    period_start >= cast(p_start_date as date)
    and period_start
    + case p_grain when 'week' then interval 7 day else interval 1 month end
    <= cast(p_end_date as date) as is_complete
from periods;

-- deployment_periods_from(p_days, p_start_date, p_end_date, p_grain,
-- p_profile): one row per ISO week or month (p_grain) meeting [p_start_date,
-- p_end_date), zero-filled, from p_days, the list of deployment_days rows
-- (structs; only those of dates in the window count): n_deployments
-- counted, deploy_days = dates with one, is_complete when the period lies
-- wholly inside the window.
create or replace macro deployment_periods_from(
    p_days, p_start_date, p_end_date, p_grain, p_profile
) as table
with deploy_days as (
    select
        cast(date_trunc(p_grain, local_date) as date) as period_start,
        n_deployments
    from (select unnest(p_days, recursive := true))
    where
        n_deployments > 0
        and local_date >= cast(p_start_date as date)
        and local_date < cast(p_end_date as date)
)

select
    p.period_start,
    p.is_complete,
    cast(coalesce(sum(d.n_deployments), 0) as bigint) as n_deployments,
    count(d.period_start) as deploy_days
from deployment_period_starts(p_start_date, p_end_date, p_grain, p_profile) as p
left join deploy_days as d on p.period_start = d.period_start
group by p.period_start, p.is_complete;

-- deployment_periods(...): deployment_periods_from over the window's
-- deployment_days.
create or replace macro deployment_periods(
    p_start_date, p_end_date, p_reporting_tz, p_grain, p_application_ids,
    p_portfolios, p_profile, p_exclude_rollbacks
) as table
select *
from
    deployment_periods_from(
        (
            select list(d)
            from
                deployment_days(
                    p_start_date, p_end_date, p_reporting_tz,
                    p_application_ids, p_portfolios, p_profile,
                    p_exclude_rollbacks
                ) as d
        ),
        p_start_date, p_end_date, p_grain, p_profile
    );

-- deployment_frequency_from(p_days, p_start_date, p_end_date, p_profile,
-- p_previous_too): docs/metrics.md deployment_frequency of the window, and
-- with p_previous_too of the equal window before too (compared_start; a
-- row each, is_previous), from p_days, the list of deployment_days rows
-- (structs) of the dates they span: n, deployments_per_day = n / days(W),
-- deploy_days, median deploy days per ISO week and per month over complete
-- periods inside W, zero periods included (devlake profile: every period
-- meeting W, lower median), with n_weeks and n_months; n_rollbacks
-- (is_rollback deployments, counted in n unless they were excluded),
-- n_excluded (failed), n_unclassified. p_loaded false (no deployment of
-- the filtered applications loaded: deployments_loaded): the frequencies
-- are n/a (NULL), not the 0.0 of empty weeks.
create or replace macro deployment_frequency_from(
    p_days, p_start_date, p_end_date, p_profile, p_previous_too,
    p_loaded := true
) as table
with windows as (
    select
        false as is_previous,
        cast(p_start_date as date) as w_start,
        cast(p_end_date as date) as w_end
    union all
    select
        true as is_previous,
        compared_start(p_start_date, p_end_date, true) as w_start,
        cast(p_start_date as date) as w_end
    where coalesce(p_previous_too, false)
),

days as (
    select
        *,
        local_date < cast(p_start_date as date) as is_previous
    from (select unnest(p_days, recursive := true))
),

counted as (
    select
        w.is_previous,
        cast(coalesce(sum(d.n_deployments), 0) as bigint) as n,
        count(*) filter (where d.n_deployments > 0) as deploy_days,
        cast(coalesce(sum(d.n_rollbacks), 0) as bigint) as n_rollbacks,
        cast(coalesce(sum(d.n_excluded), 0) as bigint) as n_excluded,
        cast(coalesce(sum(d.n_unclassified), 0) as bigint) as n_unclassified
    from windows as w
    left join days as d
        on
            w.is_previous = d.is_previous
            and d.local_date >= w.w_start
            and d.local_date < w.w_end
    group by w.is_previous
),

periods as (
    select
        w.is_previous,
        g.grain,
        p.period_start,
        p.is_complete
    from windows as w,
        (values ('week'), ('month')) as g (grain),
        deployment_period_starts(w.w_start, w.w_end, g.grain, p_profile) as p
    where p.is_complete or checked_profile(p_profile) = 'devlake'
),

period_days as (
    select
        p.is_previous,
        p.grain,
        p.period_start,
        count(d.local_date) as deploy_days
    from periods as p
    left join days as d
        on
            d.n_deployments > 0
            and d.is_previous = p.is_previous
            and p.period_start
            = cast(date_trunc(p.grain, d.local_date) as date)
    group by p.is_previous, p.grain, p.period_start
),

medians as (
    select
        w.is_previous,
        count(pd.grain) filter (where pd.grain = 'week') as n_weeks,
        profile_median(
            case when pd.grain = 'week' then pd.deploy_days end, p_profile
        ) as median_deploy_days_per_week,
        count(pd.grain) filter (where pd.grain = 'month') as n_months,
        profile_median(
            case when pd.grain = 'month' then pd.deploy_days end, p_profile
        ) as median_deploy_days_per_month
    from windows as w
    left join period_days as pd on w.is_previous = pd.is_previous
    group by w.is_previous
)

select
    c.is_previous,
    c.n,
    case
        when p_loaded
            then c.n / nullif(
                cast(p_end_date as date) - cast(p_start_date as date), 0
            )
    end as deployments_per_day,
    c.deploy_days,
    case when p_loaded then m.median_deploy_days_per_week end
    as median_deploy_days_per_week,
    m.n_weeks,
    case when p_loaded then m.median_deploy_days_per_month end
    as median_deploy_days_per_month,
    m.n_months,
    c.n_rollbacks,
    c.n_excluded,
    c.n_unclassified,
    checked_profile(p_profile) as profile
from counted as c
inner join medians as m on c.is_previous = m.is_previous
order by c.is_previous;

-- deployments_loaded(p_application_ids, p_portfolios): whether any
-- deployment of the filtered applications is loaded, whatever its date.
-- Without one the frequencies are n/a, not the 0.0 of empty weeks: nothing
-- was measured (DevLake's "N/A. Please check if you have collected
-- deployments"); a period without one in data that has some is a real 0.
create or replace macro deployments_loaded(p_application_ids, p_portfolios)
as exists(
    select 1
    from deployments as d
    left join applications as a on d.application_id = a.application_id
    where
        keep(p_application_ids, d.application_id)
        and keep(p_portfolios, a.portfolio)
);

-- deployment_frequency_stats(..., p_previous_too): deployment_frequency_from
-- over the window's deployment_days (and the window before's, with
-- p_previous_too): one row, or two; its frequencies n/a (NULL) when no
-- deployment of the filtered applications is loaded (deployments_loaded).
create or replace macro deployment_frequency_stats(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_exclude_rollbacks, p_previous_too := false
) as table
select *
from
    deployment_frequency_from(
        (
            select list(d)
            from
                deployment_days(
                    compared_start(p_start_date, p_end_date, p_previous_too),
                    p_end_date, p_reporting_tz, p_application_ids,
                    p_portfolios, p_profile, p_exclude_rollbacks
                ) as d
        ),
        p_start_date, p_end_date, p_profile, p_previous_too,
        p_loaded := deployments_loaded(p_application_ids, p_portfolios)
    );
