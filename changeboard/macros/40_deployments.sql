-- SQL macros: production deployments, incident attribution,
-- deployment frequency and failure, releases on time, cadence, DORA bands.
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
    null as kind
where checked_profile(p_profile) is null;

-- deployment_keys(profile): one row per deployment (deployment_key) with a
-- kind: 'deployment' when any of its units is one (then finished_at is the
-- latest finish of those units, status rolled_back when any is), else
-- 'unclassified', else 'excluded'. In the default profile a key is one row.
create or replace macro deployment_keys(p_profile) as table
-- the default profile: a key is one unit, read as it is (no aggregate, so a
-- window on finished_at reaches the scan of deployments)
select
    deployment_key as deployment_id,
    application_id,
    environment_id,
    kind,
    finished_at,
    status,
    kind = 'deployment' and is_rollback as is_rollback,
    1 as n_units
from deployment_units(p_profile)
where kind is not null and checked_profile(p_profile) = 'default'
union all
select
    deployment_key as deployment_id,
    min(application_id) as application_id,
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
    case
        when bool_or(kind = 'deployment' and status = 'rolled_back')
            then 'rolled_back'
        when bool_or(kind = 'deployment') then 'succeeded'
        else min(status)
    end as status,
    coalesce(
        bool_or(is_rollback) filter (where kind = 'deployment'), false
    ) as is_rollback,
    count(*) as n_units
from deployment_units(p_profile)
where kind is not null and checked_profile(p_profile) = 'devlake'
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
    cast(timezone(p_reporting_tz, d.finished_at) as date) as local_date,
    d.kind = 'deployment'
    and not (
        d.is_rollback
        and coalesce(cast(p_exclude_rollbacks as boolean), false)
    ) as is_counted
from deployment_keys(p_profile) as d
left join applications as a on d.application_id = a.application_id
where
    keep(p_application_ids, d.application_id)
    and keep(p_portfolios, a.portfolio)
    and d.finished_at >= local_midnight(p_start_date, p_reporting_tz)
    and d.finished_at < local_midnight(p_end_date, p_reporting_tz);

-- incident_attribution(profile, inclusive): one row per incident, whenever
-- opened, with the deployment (deployment_keys id) it is attributed to and
-- how (docs/metrics.md shared definitions, incident -> deployment, C8):
-- 'explicit_deployment': caused_by_deployment_id, kept as given even when it
-- is no production deployment; 'explicit_change': caused_by_change_id = c ->
-- c's latest production deployment finished at or before opened_at, else its
-- earliest (none: 'unattributed', never inferred); 'inferred' (no link): the
-- latest production deployment (unit, in the devlake profile) of the same
-- application finished strictly before opened_at (at or before when
-- inclusive, as Middleware), by (finished_at, deployment_id) desc;
-- 'unattributed': no candidate or NULL application.
create or replace macro incident_attribution_of(p_profile, p_inclusive) as
table
with units as (
    select
        deployment_id,
        deployment_key,
        application_id,
        change_id,
        finished_at
    from deployment_units(p_profile)
    where kind = 'deployment' and finished_at is not null
),

by_deployment as (
    select
        i.incident_id,
        coalesce(u.deployment_key, i.caused_by_deployment_id)
        as deployment_id,
        'explicit_deployment' as how
    from incidents as i
    left join deployment_units(p_profile) as u
        on i.caused_by_deployment_id = u.deployment_id
    where i.caused_by_deployment_id is not null
),

by_change as (
    select
        i.incident_id,
        u.deployment_key as deployment_id,
        'explicit_change' as how
    from incidents as i
    inner join units as u on i.caused_by_change_id = u.change_id
    where
        i.caused_by_deployment_id is null
        and i.caused_by_change_id is not null
    qualify
        row_number() over (
            partition by i.incident_id
            order by
                u.finished_at <= i.opened_at desc,
                case
                    when u.finished_at <= i.opened_at then u.finished_at
                end desc,
                case
                    when u.finished_at <= i.opened_at then u.deployment_id
                end desc,
                u.finished_at asc,
                u.deployment_id asc
        )
        = 1
),

-- the latest unit of each application and finished_at, by deployment_id:
-- the as-of joins below then pick the latest finished_at before opened_at
latest_units as (
    select
        application_id,
        finished_at,
        arg_max(deployment_key, deployment_id) as deployment_key
    from units
    where application_id is not null
    group by application_id, finished_at
),

unlinked as (
    select
        incident_id,
        application_id,
        opened_at
    from incidents
    where
        caused_by_deployment_id is null
        and caused_by_change_id is null
        and application_id is not null
        and opened_at is not null
),

inferred as (
    select
        i.incident_id,
        u.deployment_key as deployment_id,
        'inferred' as how
    from unlinked as i
    asof inner join latest_units as u
        on
            i.application_id = u.application_id
            and i.opened_at > u.finished_at
    where not coalesce(cast(p_inclusive as boolean), false)
    union all
    select
        i.incident_id,
        u.deployment_key as deployment_id,
        'inferred' as how
    from unlinked as i
    asof inner join latest_units as u
        on
            i.application_id = u.application_id
            and i.opened_at >= u.finished_at
    where coalesce(cast(p_inclusive as boolean), false)
),

attributed as (
    select
        incident_id,
        deployment_id,
        how
    from by_deployment
    union all
    select
        incident_id,
        deployment_id,
        how
    from by_change
    union all
    select
        incident_id,
        deployment_id,
        how
    from inferred
)

select
    i.incident_id,
    i.application_id,
    i.priority,
    i.opened_at,
    i.caused_by_change_id,
    i.caused_by_deployment_id,
    a.deployment_id,
    coalesce(a.how, 'unattributed') as how
from incidents as i
left join attributed as a on i.incident_id = a.incident_id;


-- derived_incident_attribution: incident_attribution_of('default', false), the profile and rule
-- every page uses, whenever opened. A derived view: a table in a published file
-- (changeboard/db.py materialize), so pages do not recompute it.
create or replace view derived_incident_attribution as
select * from incident_attribution_of('default', false);

-- incident_attribution(profile, inclusive): derived_incident_attribution for the default
-- profile and rule, else computed by incident_attribution_of.
create or replace macro incident_attribution(p_profile, p_inclusive) as table
select
    incident_id,
    application_id,
    priority,
    opened_at,
    caused_by_change_id,
    caused_by_deployment_id,
    deployment_id,
    how
from derived_incident_attribution
where
    checked_profile(p_profile) = 'default'
    and not coalesce(cast(p_inclusive as boolean), false)
union all
select
    incident_id,
    application_id,
    priority,
    opened_at,
    caused_by_change_id,
    caused_by_deployment_id,
    deployment_id,
    how
from incident_attribution_of(p_profile, p_inclusive)
where
    not (checked_profile(p_profile) = 'default'
    and not coalesce(cast(p_inclusive as boolean), false));

-- deployment_failures(profile, inclusive): one row per production deployment
-- (deployment_keys), whenever finished, with its failure signals (docs/metrics.md
-- deployment_change_failure_rate): by_rollback = status rolled_back, or the
-- next production deployment of the same application and environment (by
-- finished_at, deployment_id) is a succeeded is_rollback; n_incidents /
-- n_inferred_incidents attributed to it by incident_attribution.
create or replace macro deployment_failures_of(p_profile, p_inclusive) as
table
with sequenced as (
    select
        deployment_id,
        status,
        lead(status) over w_next as next_status,
        lead(is_rollback) over w_next as next_is_rollback
    from deployment_keys(p_profile)
    where kind = 'deployment'
    window
        w_next as (
            partition by application_id, environment_id
            order by finished_at, deployment_id
        )
),

incident_counts as (
    select
        deployment_id,
        count(distinct incident_id) as n_incidents,
        count(distinct incident_id) filter (
            where how = 'inferred'
        ) as n_inferred_incidents
    from incident_attribution(p_profile, p_inclusive)
    where deployment_id is not null
    group by deployment_id
)

select
    s.deployment_id,
    s.status = 'rolled_back' as is_rolled_back,
    coalesce(
        s.next_status = 'succeeded' and s.next_is_rollback, false
    ) as is_followed_by_rollback,
    coalesce(c.n_incidents, 0) as n_incidents,
    coalesce(c.n_inferred_incidents, 0) as n_inferred_incidents
from sequenced as s
left join incident_counts as c on s.deployment_id = c.deployment_id;


-- derived_deployment_failures: deployment_failures_of('default', false), the profile and rule
-- every page uses, whenever finished. A derived view: a table in a published file
-- (changeboard/db.py materialize), so pages do not recompute it.
create or replace view derived_deployment_failures as
select * from deployment_failures_of('default', false);

-- deployment_failures(profile, inclusive): derived_deployment_failures for the default
-- profile and rule, else computed by deployment_failures_of.
create or replace macro deployment_failures(p_profile, p_inclusive) as table
select
    deployment_id,
    is_rolled_back,
    is_followed_by_rollback,
    n_incidents,
    n_inferred_incidents
from derived_deployment_failures
where
    checked_profile(p_profile) = 'default'
    and not coalesce(cast(p_inclusive as boolean), false)
union all
select
    deployment_id,
    is_rolled_back,
    is_followed_by_rollback,
    n_incidents,
    n_inferred_incidents
from deployment_failures_of(p_profile, p_inclusive)
where
    not (checked_profile(p_profile) = 'default'
    and not coalesce(cast(p_inclusive as boolean), false));

-- deployment_outcomes(...): window_deployments (rollbacks kept) with the
-- failure signals of deployment_failures; is_failed only for kind
-- 'deployment'.
create or replace macro deployment_outcomes(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_inclusive
) as table
select
    w.deployment_id,
    w.application_id,
    w.environment_id,
    w.kind,
    w.status,
    w.is_rollback,
    w.finished_at,
    w.n_units,
    coalesce(f.is_rolled_back, false) as is_rolled_back,
    coalesce(f.is_followed_by_rollback, false) as is_followed_by_rollback,
    coalesce(f.is_rolled_back or f.is_followed_by_rollback, false)
    as is_failed_by_rollback,
    coalesce(f.n_incidents, 0) > 0 as is_failed_by_incident,
    coalesce(f.n_incidents, 0) as n_incidents,
    coalesce(f.n_inferred_incidents, 0) as n_inferred_incidents,
    w.kind = 'deployment' and coalesce(
        f.is_rolled_back or f.is_followed_by_rollback or f.n_incidents > 0,
        false
    ) as is_failed
from
    window_deployments(
        p_start_date, p_end_date, p_reporting_tz, p_application_ids,
        p_portfolios, p_profile, false
    ) as w
left join deployment_failures(p_profile, p_inclusive) as f
    on w.deployment_id = f.deployment_id;

-- unattributed_incidents(...): one row per incident_attribution row of
-- how 'unattributed' (an incident may give several: count distinct
-- incident_id) of the filtered applications (any, NULL application
-- included, when unfiltered) opened in [p_start_date, p_end_date) read in
-- p_reporting_tz: n_incidents_unattributed of the deployment change failure
-- queries.
create or replace macro unattributed_incidents(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_inclusive
) as table
select
    i.incident_id,
    i.application_id,
    i.opened_at
from incident_attribution(p_profile, p_inclusive) as i
left join applications as a on i.application_id = a.application_id
where
    i.how = 'unattributed'
    and keep(p_application_ids, i.application_id)
    and keep(p_portfolios, a.portfolio)
    and i.opened_at >= local_midnight(p_start_date, p_reporting_tz)
    and i.opened_at < local_midnight(p_end_date, p_reporting_tz);

-- deployment_failure_counts(...): the counts of the deployment change
-- failure rate over deployment_outcomes, by grouping sets ((application_id),
-- ()): the is_total row is the headline (one row even with no deployments),
-- the others split it by application_id.
create or replace macro deployment_failure_counts(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_inclusive
) as table
select
    grouping(application_id) > 0 as is_total,
    application_id,
    count(*) filter (where kind = 'deployment') as n,
    count(*) filter (where is_failed) as n_failed,
    count(*) filter (
        where kind = 'deployment' and is_failed_by_rollback
    ) as n_failed_by_rollback,
    count(*) filter (
        where kind = 'deployment' and is_failed_by_incident
    ) as n_failed_by_incident,
    count(*) filter (
        where kind = 'deployment' and n_inferred_incidents > 0
    ) as n_inferred,
    count(*) filter (where kind = 'excluded') as n_excluded,
    count(*) filter (where kind = 'unclassified') as n_unclassified
from
    deployment_outcomes(
        p_start_date, p_end_date, p_reporting_tz, p_application_ids,
        p_portfolios, p_profile, p_inclusive
    )
group by grouping sets ((application_id), ());

-- deployment_change_failure(...): one row, docs/metrics.md
-- deployment_change_failure_rate: n production deployments finished in W,
-- n_failed, the overlapping n_failed_by_* counts, n_inferred (deployments
-- with an inferred incident), n_incidents_unattributed (incidents of the
-- filtered applications, any when unfiltered, opened in W and attributed to
-- no deployment), n_excluded (failed) and n_unclassified (no environment).
create or replace macro deployment_change_failure(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_inclusive
) as table
with counted as (
    select
        n,
        n_failed,
        n_failed_by_rollback,
        n_failed_by_incident,
        n_inferred,
        n_excluded,
        n_unclassified
    from
        deployment_failure_counts(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_profile, p_inclusive
        )
    where is_total
),

unattributed as (
    select count(distinct incident_id) as n_incidents_unattributed
    from
        unattributed_incidents(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_profile, p_inclusive
        )
)

select
    c.n_failed / nullif(c.n, 0) as rate,
    c.n,
    c.n_failed,
    c.n_failed_by_rollback,
    c.n_failed_by_incident,
    c.n_inferred,
    u.n_incidents_unattributed,
    c.n_excluded,
    c.n_unclassified,
    checked_profile(p_profile) as profile
from counted as c
cross join unattributed as u;

-- deployment_periods(...): one row per ISO week or month (p_grain) meeting
-- [p_start_date, p_end_date), zero-filled: n_deployments counted by
-- window_deployments, deploy_days = distinct local finish dates, is_complete
-- when the period lies wholly inside the window.
create or replace macro deployment_periods(
    p_start_date, p_end_date, p_reporting_tz, p_grain, p_application_ids,
    p_portfolios, p_profile, p_exclude_rollbacks
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
),

counted_deployments as (
    select
        deployment_id,
        local_date,
        cast(date_trunc(p_grain, local_date) as date) as period_start
    from
        window_deployments(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_profile, p_exclude_rollbacks
        )
    where is_counted
)

select
    p.period_start,
    p.period_start >= cast(p_start_date as date)
    and p.period_start
    + case p_grain when 'week' then interval 7 day else interval 1 month end
    <= cast(p_end_date as date) as is_complete,
    count(d.deployment_id) as n_deployments,
    count(distinct d.local_date) as deploy_days
from periods as p
left join counted_deployments as d on p.period_start = d.period_start
group by p.period_start;

-- deployment_frequency_stats(...): one row, docs/metrics.md deployment_frequency:
-- n, deployments_per_day = n / days(W), deploy_days, median deploy days per
-- ISO week and per month over complete periods inside W, zero periods
-- included (devlake profile: every period meeting W, lower median), with
-- n_weeks and n_months; n_rollbacks (is_rollback deployments, counted in n
-- unless p_exclude_rollbacks), n_excluded (failed), n_unclassified.
create or replace macro deployment_frequency_stats(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_exclude_rollbacks
) as table
with deployed as (
    select
        kind,
        is_counted,
        is_rollback,
        local_date
    from
        window_deployments(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_profile, p_exclude_rollbacks
        )
),

counted as (
    select
        count(*) filter (where is_counted) as n,
        count(distinct local_date) filter (where is_counted) as deploy_days,
        count(*) filter (
            where kind = 'deployment' and is_rollback
        ) as n_rollbacks,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from deployed
),

weeks as (
    select
        count(*) as n_weeks,
        profile_median(deploy_days, p_profile)
        as median_deploy_days_per_week
    from
        deployment_periods(
            p_start_date, p_end_date, p_reporting_tz, 'week',
            p_application_ids, p_portfolios, p_profile, p_exclude_rollbacks
        )
    where is_complete or checked_profile(p_profile) = 'devlake'
),

months as (
    select
        count(*) as n_months,
        profile_median(deploy_days, p_profile)
        as median_deploy_days_per_month
    from
        deployment_periods(
            p_start_date, p_end_date, p_reporting_tz, 'month',
            p_application_ids, p_portfolios, p_profile, p_exclude_rollbacks
        )
    where is_complete or checked_profile(p_profile) = 'devlake'
)

select
    c.n,
    c.n / nullif(
        cast(p_end_date as date) - cast(p_start_date as date), 0
    ) as deployments_per_day,
    c.deploy_days,
    w.median_deploy_days_per_week,
    w.n_weeks,
    m.median_deploy_days_per_month,
    m.n_months,
    c.n_rollbacks,
    c.n_excluded,
    c.n_unclassified,
    checked_profile(p_profile) as profile
from counted as c
cross join weeks as w
cross join months as m;

-- release_outcomes(...): releases of the filtered applications for
-- docs/metrics.md release_on_time, each with a kind: 'released'
-- (actual_release_at in W, not cancelled, not enterprise, planned date
-- known), 'unclassified' (same, planned_release_at NULL), 'excluded'
-- (actual_release_at in W but cancelled or enterprise), 'overdue_open' (not
-- live, status not released or cancelled, not enterprise, planned before
-- least(W end, as_of), however old). slip_days = local actual date - local
-- planned date in p_reporting_tz.
create or replace macro release_outcomes(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_application_ids,
    p_portfolios
) as table
with bounds as (
    select
        local_midnight(p_start_date, p_reporting_tz) as w_start,
        local_midnight(p_end_date, p_reporting_tz) as w_end,
        resolved_as_of(p_as_of) as as_of
),

classified as (
    select
        r.release_id,
        r.name,
        r.application_id,
        a.name as application_name,
        r.status,
        r.release_type,
        r.planned_release_at,
        r.actual_release_at,
        case
            when
                r.actual_release_at >= b.w_start
                and r.actual_release_at < b.w_end
                then
                    case
                        when
                            r.status = 'cancelled'
                            or r.release_type = 'enterprise'
                            then 'excluded'
                        when r.planned_release_at is null
                            then 'unclassified'
                        else 'released'
                    end
            when
                r.actual_release_at is null
                and r.status not in ('released', 'cancelled')
                and coalesce(r.release_type, '') <> 'enterprise'
                and r.planned_release_at < least(b.w_end, b.as_of)
                then 'overdue_open'
        end as kind,
        cast(timezone(p_reporting_tz, r.actual_release_at) as date)
        - cast(timezone(p_reporting_tz, r.planned_release_at) as date)
        as slip_days
    from releases as r
    cross join bounds as b
    left join applications as a on r.application_id = a.application_id
    where
        keep(p_application_ids, r.application_id)
        and keep(p_portfolios, a.portfolio)
)

select * from classified
where kind is not null;

-- release_on_time_counts(..., p_tolerance_days): docs/metrics.md release_on_time
-- over the release_outcomes macro, grouping sets ((application_id), ()): the
-- is_total row is the headline (one row even with no releases), the others
-- one per application_id (NULL its own row). On time: slip_days <=
-- p_tolerance_days; on_time_rate from each row's counts (C7).
create or replace macro release_on_time_counts(
    p_start_date, p_end_date, p_reporting_tz, p_as_of, p_application_ids,
    p_portfolios, p_tolerance_days
) as table
with counted as (
    select
        grouping(application_id) > 0 as is_total,
        application_id,
        any_value(application_name) as application_name,
        count(*) filter (where kind = 'released') as n,
        count(*) filter (
            where kind = 'released' and slip_days <= p_tolerance_days
        ) as n_on_time,
        count(*) filter (
            where kind = 'released' and slip_days > p_tolerance_days
        ) as n_late,
        quantile_cont(slip_days, 0.5) filter (
            where kind = 'released'
        ) as median_slip_days,
        avg(slip_days) filter (where kind = 'released') as mean_slip_days,
        quantile_cont(slip_days, 0.5) filter (
            where kind = 'released' and slip_days > p_tolerance_days
        ) as median_slip_days_late,
        count(*) filter (where kind = 'overdue_open') as n_overdue_open,
        count(*) filter (where kind = 'excluded') as n_excluded,
        count(*) filter (where kind = 'unclassified') as n_unclassified
    from
        release_outcomes(
            p_start_date, p_end_date, p_reporting_tz, p_as_of,
            p_application_ids, p_portfolios
        )
    group by grouping sets ((application_id), ())
)

select
    *,
    n_on_time / nullif(n, 0) as on_time_rate
from counted;

-- checked_basis(basis): 'releases' or 'deployments' (docs/metrics.md
-- release_cadence); anything else is an error.
create or replace macro checked_basis(p_basis) as
case
    when cast(p_basis as varchar) in ('releases', 'deployments')
        then cast(p_basis as varchar)
    else error('basis must be releases or deployments')
end;

-- cadence_events(basis, ...): one row per release gone live (releases with
-- actual_release_at, not cancelled, not enterprise) or, with basis
-- 'deployments', per production deployment (deployment_keys, default
-- profile), of the filtered applications, with gap_days = days since the
-- application's previous event by (event_at, event_id), fractional; NULL for
-- an application's first event.
create or replace macro cadence_events(
    p_basis, p_application_ids, p_portfolios
) as table
with events as (
    select
        r.release_id as event_id,
        r.application_id,
        r.actual_release_at as event_at
    from releases as r
    where
        checked_basis(p_basis) = 'releases'
        and r.actual_release_at is not null
        and r.status <> 'cancelled'
        and coalesce(r.release_type, '') <> 'enterprise'
    union all
    select
        d.deployment_id as event_id,
        d.application_id,
        d.finished_at as event_at
    from deployment_keys('default') as d
    where
        checked_basis(p_basis) = 'deployments'
        and d.kind = 'deployment'
        and d.finished_at is not null
    union all
    -- no row: evaluated even with no data, so a bad basis always errs
    select
        null as event_id,
        null as application_id,
        null as event_at
    where checked_basis(p_basis) is null
)

select
    e.event_id,
    e.application_id,
    a.name as application_name,
    e.event_at,
    (
        epoch(e.event_at)
        - epoch(
            lag(e.event_at) over (
                partition by e.application_id
                order by e.event_at, e.event_id
            )
        )
    )
    / 86400.0 as gap_days
from events as e
left join applications as a on e.application_id = a.application_id
where
    keep(p_application_ids, e.application_id)
    and keep(p_portfolios, a.portfolio);

-- metric_bands(): the band sets of docs/metrics.md DORA bands, as data. A metric's
-- levels are tested elite -> high -> medium -> low, first match wins; a
-- NULL statistic matches no level; rates compare as integers (band_holds).
-- dora2023-devlake: thresholds from apache/incubator-devlake@420e494b
-- grafana/dashboards/DORA.json, labels from backend/plugins/dora/models/
-- migrationscripts/20240223_add_dora_2023_benchmark.go.
create or replace macro metric_bands() as table
select
    band_set,
    metric,
    level,
    statistic,
    op,
    cast(threshold as decimal(18, 6)) as threshold,
    unit,
    source
from (
    values
    (
        'dora2023-devlake', 'deployment_frequency', 'elite',
        'median_deploy_days_per_week', '>=', 5, 'days',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'deployment_frequency', 'high',
        'median_deploy_days_per_week', '>=', 1, 'days',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'deployment_frequency', 'medium',
        'median_deploy_days_per_month', '>=', 1, 'days',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'deployment_frequency', 'low',
        'median_deploy_days_per_month', '<', 1, 'days',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'lead_time', 'elite',
        'median_lead_time_hours', '<', 24, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'lead_time', 'high',
        'median_lead_time_hours', '<', 168, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'lead_time', 'medium',
        'median_lead_time_hours', '<', 720, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'lead_time', 'low',
        'median_lead_time_hours', '>=', 720, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'deployment_change_failure_rate', 'elite',
        'deployment_change_failure_rate', '<=', 0.05, 'ratio',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'deployment_change_failure_rate', 'high',
        'deployment_change_failure_rate', '<=', 0.10, 'ratio',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'deployment_change_failure_rate', 'medium',
        'deployment_change_failure_rate', '<=', 0.15, 'ratio',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'deployment_change_failure_rate', 'low',
        'deployment_change_failure_rate', '>', 0.15, 'ratio',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'failed_change_recovery_time', 'elite',
        'median_recovery_hours', '<', 1, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'failed_change_recovery_time', 'high',
        'median_recovery_hours', '<', 24, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'failed_change_recovery_time', 'medium',
        'median_recovery_hours', '<', 168, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    ),
    (
        'dora2023-devlake', 'failed_change_recovery_time', 'low',
        'median_recovery_hours', '>=', 168, 'hours',
        'devlake@420e494b grafana/dashboards/DORA.json'
    )
) as b (band_set, metric, level, statistic, op, threshold, unit, source);

-- band_holds(op, value, numerator, denominator, threshold): whether a
-- statistic meets one band row. A rate given as numerator/denominator
-- compares exactly in decimals (numerator op threshold * denominator, i.e.
-- 20 * n_failed <= n for 0.05); otherwise value op threshold. NULL -> NULL.
create or replace macro band_holds(
    op, value, numerator, denominator, threshold
) as
case
    when numerator is not null and denominator > 0
        then
            case op
                when '<' then
                    cast(numerator as decimal(38, 6)) < threshold * denominator
                when '<=' then
                    cast(numerator as decimal(38, 6))
                    <= threshold * denominator
                when '>' then
                    cast(numerator as decimal(38, 6)) > threshold * denominator
                when '>=' then
                    cast(numerator as decimal(38, 6))
                    >= threshold * denominator
            end
    when numerator is null
        then
            case op
                when '<' then cast(value as double) < cast(threshold as double)
                when '<=' then
                    cast(value as double) <= cast(threshold as double)
                when '>' then cast(value as double) > cast(threshold as double)
                when '>=' then
                    cast(value as double) >= cast(threshold as double)
            end
end;

-- failed_change_recovery_stats(...): the headline of docs/metrics.md
-- failed_change_recovery_time over the failed_change_recoveries macro (per
-- failed change, ours; DevLake measures per incident): the median
-- (quantile_cont) of recovery_hours and its n over the failed changes whose
-- restored_at falls in [p_start_date, p_end_date) read in p_reporting_tz; a
-- negative span is left out (n_invalid in failed_change_recovery_time).
create or replace macro failed_change_recovery_stats(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_teams, p_change_types, p_tiers, p_failure_min_priority
) as table
with measured as (
    select r.recovery_hours
    from
        failed_change_recoveries(
            p_application_ids, p_portfolios, p_teams, p_change_types,
            p_tiers, p_failure_min_priority
        ) as r
    where
        r.restored_at >= local_midnight(p_start_date, p_reporting_tz)
        and r.restored_at < local_midnight(p_end_date, p_reporting_tz)
        and r.recovery_hours >= 0
)

select
    quantile_cont(recovery_hours, 0.5) as median_recovery_hours,
    count(*) as n
from measured;
