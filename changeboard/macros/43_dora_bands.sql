-- SQL macros: DORA bands (as data) and failed change recovery time.
-- changeboard/db.py creates every file of this folder, in name order, in the
-- database when it is written (publish) and stores their fingerprint; a file
-- whose fingerprint differs is upgraded before it is read, so it never
-- carries stale definitions. A macro may use macros of files sorted before
-- its own.

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
