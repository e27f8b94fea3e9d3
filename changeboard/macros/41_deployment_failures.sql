-- SQL macros: incident attribution (the derived_incident_attribution
-- table), each deployment key with its failure signals (the
-- derived_deployment_failures table, in finish order), and deployment
-- change failure rate.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

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

-- deployment_failures_of(profile, inclusive): one row per deployment key
-- (deployment_keys: production deployments, failed production deployments
-- and unclassified ones), whenever finished, with its columns (kind,
-- application_id, environment_id, status, is_rollback, finished_at,
-- n_units) and, for kind 'deployment', its failure signals (docs/metrics.md
-- deployment_change_failure_rate; false and 0 for the other kinds):
-- is_rolled_back = status rolled_back; is_followed_by_rollback = the next
-- production deployment of the same application and environment (by
-- finished_at, else started_at, then deployment_id) is a succeeded
-- is_rollback; n_incidents /
-- n_inferred_incidents attributed to it by incident_attribution. Sorted by
-- (finished_at, deployment_id), so the stored table's zone maps skip what a
-- window leaves out.
create or replace macro deployment_failures_of(p_profile, p_inclusive) as
table
with sequenced as (
    select
        deployment_id,
        application_id,
        environment_id,
        kind,
        status,
        is_rollback,
        finished_at,
        n_units,
        -- the next key of the same kind: for a production deployment, the
        -- next production deployment
        lead(status) over w_next as next_status,
        lead(is_rollback) over w_next as next_is_rollback
    from deployment_keys(p_profile)
    window
        w_next as (
            partition by application_id, environment_id, kind
            order by sequenced_at, deployment_id
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
    s.application_id,
    s.environment_id,
    s.kind,
    s.status,
    s.is_rollback,
    s.finished_at,
    s.n_units,
    s.kind = 'deployment' and s.status = 'rolled_back' as is_rolled_back,
    s.kind = 'deployment' and coalesce(
        s.next_status = 'succeeded' and s.next_is_rollback, false
    ) as is_followed_by_rollback,
    case
        when s.kind = 'deployment' then coalesce(c.n_incidents, 0) else 0
    end as n_incidents,
    case
        when s.kind = 'deployment' then coalesce(c.n_inferred_incidents, 0)
        else 0
    end as n_inferred_incidents
from sequenced as s
left join incident_counts as c on s.deployment_id = c.deployment_id
order by s.finished_at, s.deployment_id;


-- derived_deployment_failures: deployment_failures_of('default', false), the profile and rule
-- every page uses, whenever finished. A derived view: a table in a published file
-- (changeboard/db.py materialize), so pages do not recompute it.
create or replace view derived_deployment_failures as
select * from deployment_failures_of('default', false);

-- deployment_failures(profile, inclusive): the rows of kind 'deployment' of
-- derived_deployment_failures for the default profile and rule, else
-- computed by deployment_failures_of.
create or replace macro deployment_failures(p_profile, p_inclusive) as table
select
    deployment_id,
    finished_at,
    is_rolled_back,
    is_followed_by_rollback,
    n_incidents,
    n_inferred_incidents
from derived_deployment_failures
where
    kind = 'deployment'
    and checked_profile(p_profile) = 'default'
    and not coalesce(cast(p_inclusive as boolean), false)
union all
select
    deployment_id,
    finished_at,
    is_rolled_back,
    is_followed_by_rollback,
    n_incidents,
    n_inferred_incidents
from deployment_failures_of(p_profile, p_inclusive)
where
    kind = 'deployment'
    and not (checked_profile(p_profile) = 'default'
    and not coalesce(cast(p_inclusive as boolean), false));

-- deployment_outcomes(...): window_deployments (rollbacks kept) with the
-- failure signals of deployment_failures; is_failed only for kind
-- 'deployment'. For the default profile and rule, the window's rows of
-- derived_deployment_failures (which holds every key with its columns and
-- signals, in finish order); else window_deployments joined to
-- deployment_failures_of, looked up among the keys finished in the same
-- window (a key's own finished_at).
create or replace macro deployment_outcomes(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_inclusive
) as table
with joined as (
    select
        d.deployment_id,
        d.application_id,
        d.environment_id,
        d.kind,
        d.status,
        d.is_rollback,
        d.finished_at,
        d.n_units,
        d.is_rolled_back,
        d.is_followed_by_rollback,
        d.n_incidents,
        d.n_inferred_incidents
    from derived_deployment_failures as d
    left join applications as a on d.application_id = a.application_id
    where
        checked_profile(p_profile) = 'default'
        and not coalesce(cast(p_inclusive as boolean), false)
        and keep(p_application_ids, d.application_id)
        and keep(p_portfolios, a.portfolio)
        and d.finished_at >= local_midnight(p_start_date, p_reporting_tz)
        and d.finished_at < local_midnight(p_end_date, p_reporting_tz)
    union all
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
        coalesce(f.n_incidents, 0) as n_incidents,
        coalesce(f.n_inferred_incidents, 0) as n_inferred_incidents
    from
        window_deployments(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_profile, false
        ) as w
    left join (
        select * from deployment_failures_of(p_profile, p_inclusive)
        where
            kind = 'deployment'
            and finished_at >= local_midnight(p_start_date, p_reporting_tz)
            and finished_at < local_midnight(p_end_date, p_reporting_tz)
    ) as f
        on w.deployment_id = f.deployment_id
    where
        not (checked_profile(p_profile) = 'default'
        and not coalesce(cast(p_inclusive as boolean), false))
)

select
    deployment_id,
    application_id,
    environment_id,
    kind,
    status,
    is_rollback,
    finished_at,
    n_units,
    is_rolled_back,
    is_followed_by_rollback,
    is_rolled_back or is_followed_by_rollback as is_failed_by_rollback,
    n_incidents > 0 as is_failed_by_incident,
    n_incidents,
    n_inferred_incidents,
    kind = 'deployment'
    and (is_rolled_back or is_followed_by_rollback or n_incidents > 0)
    as is_failed
from joined;

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

-- deployment_failure_counts(..., p_by_application, p_grain): the one
-- definition of the columns of docs/metrics.md deployment_change_failure_rate
-- (the headline, by application and by period all select from it), over
-- deployment_outcomes and unattributed_incidents, by grouping sets
-- ((application_id, period_start), ()): the is_total row is the headline
-- (one row even with no deployments); with p_by_application the others
-- split it by application_id (a deployment's, or an unattributed
-- incident's), with p_grain (not both) they are one row per period of the
-- window (change_periods, by finished_at and opened_at in p_reporting_tz),
-- zero-filled. n production deployments finished in W, n_failed, the
-- overlapping n_failed_by_* counts, n_inferred (deployments with an
-- inferred incident), n_incidents_unattributed (incidents of the filtered
-- applications, any when unfiltered, opened in W and attributed to no
-- deployment), n_excluded (failed) and n_unclassified (no environment);
-- rate = n_failed / n from each row's counts (C7).
create or replace macro deployment_failure_counts(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_inclusive, p_by_application, p_grain
) as table
with outcomes as (
    select
        *,
        case when p_by_application then application_id end as key_id,
        cast(
            date_trunc(p_grain, local_timestamp(finished_at, p_reporting_tz))
            as date
        ) as period_start
    from
        deployment_outcomes(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_profile, p_inclusive
        )
),

counted as (
    select
        grouping(key_id, period_start) > 0 as is_total,
        key_id as application_id,
        period_start,
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
    from outcomes
    group by grouping sets ((key_id, period_start), ())
),

unattributed_opened as (
    select
        incident_id,
        case when p_by_application then application_id end as key_id,
        cast(
            date_trunc(p_grain, local_timestamp(opened_at, p_reporting_tz))
            as date
        ) as period_start
    from
        unattributed_incidents(
            p_start_date, p_end_date, p_reporting_tz, p_application_ids,
            p_portfolios, p_profile, p_inclusive
        )
),

unattributed as (
    select
        grouping(key_id, period_start) > 0 as is_total,
        key_id as application_id,
        period_start,
        count(distinct incident_id) as n_incidents_unattributed
    from unattributed_opened
    group by grouping sets ((key_id, period_start), ())
),

joined as (
    select
        coalesce(c.is_total, u.is_total) as is_total,
        coalesce(c.application_id, u.application_id) as application_id,
        coalesce(c.period_start, u.period_start) as period_start,
        coalesce(c.n, 0) as n,
        coalesce(c.n_failed, 0) as n_failed,
        coalesce(c.n_failed_by_rollback, 0) as n_failed_by_rollback,
        coalesce(c.n_failed_by_incident, 0) as n_failed_by_incident,
        coalesce(c.n_inferred, 0) as n_inferred,
        coalesce(u.n_incidents_unattributed, 0) as n_incidents_unattributed,
        coalesce(c.n_excluded, 0) as n_excluded,
        coalesce(c.n_unclassified, 0) as n_unclassified
    from counted as c
    full join unattributed as u
        on
            c.is_total = u.is_total
            and c.application_id is not distinct from u.application_id
            and c.period_start is not distinct from u.period_start
),

filled as (
    select
        j.*,
        cast(null as varchar) as period_label,
        cast(null as boolean) as is_complete
    from joined as j
    where p_grain is null or j.is_total
    union all
    select
        false as is_total,
        null as application_id,
        p.period_start,
        coalesce(
            columns(j.* exclude (is_total, application_id, period_start)), 0
        ),
        p.period_label,
        p.is_complete
    from grain_periods(p_start_date, p_end_date, p_grain) as p
    left join joined as j on p.period_start = j.period_start and not j.is_total
)

select
    is_total,
    application_id,
    period_start,
    period_label,
    is_complete,
    n_failed / nullif(n, 0) as rate,
    n,
    n_failed,
    n_failed_by_rollback,
    n_failed_by_incident,
    n_inferred,
    n_incidents_unattributed,
    n_excluded,
    n_unclassified,
    checked_profile(p_profile) as profile
from filled;

-- deployment_change_failure(...): one row, docs/metrics.md
-- deployment_change_failure_rate: the headline row of
-- deployment_failure_counts (rate, n, ..., profile).
create or replace macro deployment_change_failure(
    p_start_date, p_end_date, p_reporting_tz, p_application_ids,
    p_portfolios, p_profile, p_inclusive
) as table
select
    * exclude (
        is_total, application_id, period_start, period_label, is_complete
    )
from
    deployment_failure_counts(
        p_start_date, p_end_date, p_reporting_tz, p_application_ids,
        p_portfolios, p_profile, p_inclusive, false, null
    )
where is_total;
