-- One row per DORA key metric: its raw value and n, and the band level it
-- falls in under a named band set (an interpretation, not a measurement).
-- $start_date, $end_date: finish window in $reporting_tz, end exclusive
--     (restoration window for failed_change_recovery_time)
-- $reporting_tz: IANA zone of the window's dates, days and weeks (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $profile: default or devlake, as in deployment_frequency and
--     deployment_change_failure_rate (default: 'default')
-- $attribution_inclusive: a deployment finished exactly when an incident
--     opened may cause it, as Middleware (default: false)
-- $band_set: band set of the metric_bands macro (default: 'dora2023-devlake')
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change
--     and must be resolved; null counts every linked incident (default: null)
-- The last four narrow failed_change_recovery_time alone, as its own query
-- (a deployment has no team, type or tier of change).
-- docs/metrics.md, DORA bands. deployment_frequency (value: median deploy days
-- per week; medium/low are decided by the month median, level_statistic)
-- comes from the same macro as its query; deployment_change_failure_rate's
-- n and n_failed are counted over the same deployment_outcomes rows, as
-- deployment_failure_counts counts them (without its splits and
-- unattributed incidents, which the panel does not show).
-- Levels are tested elite -> high -> medium -> low, first match wins; no
-- deployment loaded for the filtered applications (their note says so) or
-- a NULL statistic -> no level (a period without deployments in data that
-- has some is banded on its zero medians); rates
-- compare as integers (20 * n_failed <= n). lead_time is stored only (no
-- code lead time here).
-- n_weeks: the weeks under deployment_frequency's weekly median (complete
-- weeks; in the devlake profile every week meeting the window), n_failed:
-- the failure rate's numerator, n_inferred: its deployments with an
-- inferred incident, docs/metrics.md C8 (each NULL on the other rows);
-- n_excluded and n_unclassified (C6): the two deployment metrics' own
-- (failed production deployments; deployments to an environment not
-- loaded), as their queries count them; NULL for lead_time and for the
-- recovery time, whose open and unmeasurable failed changes are
-- failed_change_recovery_time's n_open and n_unmeasurable.
-- failed_change_recovery_time: median_recovery_hours and its n from the
-- failed_change_recovery_stats macro, over failed changes restored in the
-- window (per failed change, ours; DevLake measures per incident); no
-- failed change restored -> NULL and no level.
with frequency as (
    select
        n,
        median_deploy_days_per_week,
        n_weeks,
        median_deploy_days_per_month,
        n_excluded,
        n_unclassified
    from
        deployment_frequency_stats(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $profile, false
        )
),

failure as (
    select
        n_failed / nullif(n, 0) as rate,
        n,
        n_failed,
        n_inferred,
        n_excluded,
        n_unclassified
    from (
        select
            count(*) filter (where kind = 'deployment') as n,
            count(*) filter (where is_failed) as n_failed,
            count(*) filter (
                where kind = 'deployment' and n_inferred_incidents > 0
            ) as n_inferred,
            count(*) filter (where kind = 'excluded') as n_excluded,
            count(*) filter (where kind = 'unclassified') as n_unclassified
        from
            deployment_outcomes(
                $start_date, $end_date, $reporting_tz, $application_ids,
                $portfolios, $profile, $attribution_inclusive
            )
    ) as counted
),

recovery as (
    select
        median_recovery_hours,
        n
    from
        failed_change_recovery_stats(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, $failure_min_priority
        )
),

-- the low band's "data present": deployments of the filtered applications
-- are loaded, whatever their date (DevLake's "N/A. Please check if you
-- have collected deployments" is for none collected, per project); a
-- period without one in data that has some is a real zero, low once a
-- complete month is inside it
loaded as (
    select deployments_loaded($application_ids, $portfolios) as has_deployments
),

band_inputs as (
    select
        'deployment_frequency' as metric,
        'median_deploy_days_per_week' as statistic,
        case
            when f.n > 0 or l.has_deployments
                then f.median_deploy_days_per_week
        end as stat_value,
        null::bigint as numerator,
        null::bigint as denominator
    from frequency as f
    cross join loaded as l
    union all
    select
        'deployment_frequency' as metric,
        'median_deploy_days_per_month' as statistic,
        case
            when f.n > 0 or l.has_deployments
                then f.median_deploy_days_per_month
        end as stat_value,
        null::bigint as numerator,
        null::bigint as denominator
    from frequency as f
    cross join loaded as l
    union all
    select
        'deployment_change_failure_rate' as metric,
        'deployment_change_failure_rate' as statistic,
        rate as stat_value,
        n_failed as numerator,
        n as denominator
    from failure
    union all
    select
        'failed_change_recovery_time' as metric,
        'median_recovery_hours' as statistic,
        median_recovery_hours as stat_value,
        null::bigint as numerator,
        null::bigint as denominator
    from recovery
),

matched as (
    select
        b.metric,
        arg_min(
            b.level, list_position(['elite', 'high', 'medium', 'low'], b.level)
        ) as band_level,
        arg_min(
            b.statistic,
            list_position(['elite', 'high', 'medium', 'low'], b.level)
        ) as level_statistic,
        arg_min(
            s.stat_value,
            list_position(['elite', 'high', 'medium', 'low'], b.level)
        ) as level_value
    from metric_bands() as b
    inner join band_inputs as s
        on b.metric = s.metric and b.statistic = s.statistic
    where
        b.band_set = $band_set
        and band_holds(
            b.op, s.stat_value, s.numerator, s.denominator, b.threshold
        )
    group by b.metric
),

keys as (
    select
        1 as key_order,
        'deployment_frequency' as metric,
        'median_deploy_days_per_week' as statistic,
        -- with no deployment loaded (of the filtered applications) the
        -- median of empty weeks is no measured 0: NULL, as the band's input
        case
            when f.n > 0 or l.has_deployments
                then f.median_deploy_days_per_week
        end as raw_value,
        'days' as unit,
        f.n,
        f.n_weeks,
        null::bigint as n_failed,
        null::bigint as n_inferred,
        f.n_excluded,
        f.n_unclassified,
        case
            when not l.has_deployments
                then 'no band: no deployment is loaded' || case
                    when
                        cast($application_ids as varchar[]) is not null
                        or cast($portfolios as varchar[]) is not null
                        then ' for the chosen applications'
                    else ''
                end
        end as note
    from frequency as f
    cross join loaded as l
    union all
    select
        2 as key_order,
        'deployment_change_failure_rate' as metric,
        'deployment_change_failure_rate' as statistic,
        f.rate as raw_value,
        'ratio' as unit,
        f.n,
        null::bigint as n_weeks,
        f.n_failed,
        f.n_inferred,
        f.n_excluded,
        f.n_unclassified,
        null as note
    from failure as f
    union all
    select
        3 as key_order,
        'lead_time' as metric,
        'median_lead_time_hours' as statistic,
        null as raw_value,
        'hours' as unit,
        null as n,
        null::bigint as n_weeks,
        null::bigint as n_failed,
        null::bigint as n_inferred,
        null::bigint as n_excluded,
        null::bigint as n_unclassified,
        'stored only: Changeboard has no commit-to-deploy lead time' as note
    union all
    select
        4 as key_order,
        'failed_change_recovery_time' as metric,
        'median_recovery_hours' as statistic,
        r.median_recovery_hours as raw_value,
        'hours' as unit,
        r.n,
        null::bigint as n_weeks,
        null::bigint as n_failed,
        null::bigint as n_inferred,
        null::bigint as n_excluded,
        null::bigint as n_unclassified,
        'per failed change (ours), not per incident as DevLake' as note
    from recovery as r
),

summary as (
    select
        k.metric,
        k.statistic,
        k.raw_value,
        k.unit,
        k.n,
        k.n_weeks,
        k.n_failed,
        k.n_inferred,
        k.n_excluded,
        k.n_unclassified,
        m.band_level,
        m.level_statistic,
        m.level_value,
        cast($band_set as varchar) as band_set,
        true as is_interpretation,
        k.note
    from keys as k
    left join matched as m on k.metric = m.metric
    order by k.key_order
)

select
    *,
    loaded_as_of() as as_of
from summary
