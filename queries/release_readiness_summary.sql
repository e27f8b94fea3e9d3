-- One row: how many releases going live in the horizon are blocked, at risk
-- or ready, and how many open releases have no planned go-live.
-- $as_of: the instant readiness is judged at, as text (with an offset as
--     given, without one in $reporting_tz); null = now (default: null)
-- $horizon_days: releases planned to go live in [as_of, as_of +
--     horizon_days x 24 h) (default: 28)
-- $reporting_tz: IANA zone of an as_of given without offset (default: UTC)
-- $application_ids: list of release application ids to keep (default: null)
-- $portfolios: list of release application portfolios (default: null)
-- $failure_min_priority: incidents of this priority or higher fail a change;
--     null counts every linked incident (default: null)
-- docs/metrics.md release_readiness (A25) summary, over the readiness_releases
-- and release_readiness_rows macros (changeboard/macros/45_readiness.sql):
-- n = releases in release_readiness (one row each), split into n_blocked,
-- n_at_risk and n_ready; n_unscheduled: releases not released or cancelled
-- without a planned go-live, whenever; n_excluded: released or cancelled
-- releases planned in the horizon. as_of and horizon_end_at as used (also
-- when no release is in the horizon). next_go_live_at: the earliest planned
-- go-live at or after horizon_end_at of a release of those applications
-- not released or cancelled (NULL: none is planned after the horizon), so
-- an empty horizon can say how far the next one is. n_overdue: releases of
-- those applications not released or cancelled, not live and not
-- enterprise, whose planned go-live is before as_of (overdue, not live,
-- whenever; as release_on_time's n_overdue_open counts them): out of the
-- horizon, so not judged, but said; n_overdue_enterprise: the enterprise
-- releases (groupings of others) the same but for their type.
with statuses as (
    select
        count(*) as n,
        count(*) filter (where status = 'blocked') as n_blocked,
        count(*) filter (where status = 'at_risk') as n_at_risk,
        count(*) filter (where status = 'ready') as n_ready
    from
        release_readiness_rows(
            $as_of, $horizon_days, $reporting_tz, $application_ids,
            $portfolios, $failure_min_priority
        )
),

classes as (
    select
        count(*) filter (
            where readiness_class = 'unscheduled'
        ) as n_unscheduled,
        count(*) filter (where readiness_class = 'excluded') as n_excluded,
        readiness_as_of($as_of, $reporting_tz) as as_of,
        readiness_horizon_end(
            $as_of, $horizon_days, $reporting_tz
        ) as horizon_end_at
    from
        readiness_releases(
            $as_of, $horizon_days, $reporting_tz, $application_ids,
            $portfolios
        )
),

-- the releases of those applications not released or cancelled, each with
-- whether it is overdue (planned before as_of, not live) and a grouping
open_releases as (
    select
        r.planned_release_at,
        coalesce(r.release_type = 'enterprise', false) as is_enterprise,
        r.planned_release_at < readiness_as_of($as_of, $reporting_tz)
        and r.actual_release_at is null as is_overdue
    from releases as r
    left join applications as a on r.application_id = a.application_id
    where
        r.status not in ('released', 'cancelled')
        and keep($application_ids, r.application_id)
        and keep($portfolios, a.portfolio)
),

outside as (
    select
        min(planned_release_at) filter (
            where planned_release_at >= readiness_horizon_end(
                $as_of, $horizon_days, $reporting_tz
            )
        ) as next_go_live_at,
        count(*) filter (where is_overdue and not is_enterprise)
            as n_overdue,
        count(*) filter (where is_overdue and is_enterprise)
            as n_overdue_enterprise
    from open_releases
)

select
    s.n,
    s.n_blocked,
    s.n_at_risk,
    s.n_ready,
    c.n_unscheduled,
    c.n_excluded,
    c.as_of,
    c.horizon_end_at,
    o.next_go_live_at,
    o.n_overdue,
    o.n_overdue_enterprise
from statuses as s
cross join classes as c
cross join outside as o
