-- One row per freeze, blackout or maintenance window that meets the
-- calendar's period (a month or a week), in start order.
-- $window_start_at, $window_end_at: the period shown, end exclusive:
--     instants as text, with an offset as given, without one in
--     $reporting_tz; a bare date means 00:00
-- $reporting_tz: IANA zone of instants given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- docs/metrics.md change_calendar_windows: blackout_windows rows whose
-- [start_at, end_at) meets the period (plan_meets). With application ids,
-- a window for all applications (NULL application_id) or for one of them
-- is kept. environment_name: the environments row's name of environment_id.
with period as (
    select
        local_instant($window_start_at, $reporting_tz) as w_start,
        local_instant($window_end_at, $reporting_tz) as w_end
)

select
    b.window_id,
    b.name,
    b.kind,
    b.application_id,
    b.environment_id,
    e.name as environment_name,
    b.start_at,
    b.end_at
from blackout_windows as b
cross join period as p
left join environments as e on b.environment_id = e.environment_id
where
    plan_meets(b.start_at, b.end_at, p.w_start, p.w_end)
    and (
        b.application_id is null
        or keep($application_ids, b.application_id)
    )
order by b.start_at, b.window_id
