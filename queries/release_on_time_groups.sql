-- One row per window of the on-time release rate, from one read of both
-- windows' releases: the window's and the equal window before it.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $as_of: instant that ends "overdue" for open releases (without an offset:
--     in $reporting_tz); null = last load
--     (default: null)
-- $compare: also the equal window before (default: false)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- row_kind: 'total' (the row of release_on_time) or 'previous' (that row
-- for the window before, with $compare: its releases gone live, and those
-- overdue at its end), from the release_on_time_counts macro: the same
-- numbers (tests compare every column).
with rated as (
    select
        case when is_previous then 'previous' else 'total' end as row_kind,
        * exclude (is_total, is_previous, application_id, application_name)
    from
        release_on_time_counts(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios, $tolerance_days, false, p_previous_too := $compare
        )
    order by is_previous
)

select
    *,  -- noqa: AM04
    resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
from rated
