-- One row per application with a release live in the window or overdue:
-- share of releases on or before their planned date, and slip days.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $as_of: instant that ends "overdue" for open releases (without an offset:
--     in $reporting_tz); null = last load
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- docs/metrics.md release_on_time per application_id (a NULL application is its
-- own row), from the release_outcomes macro; see release_on_time. The
-- overall figure is release_on_time (a ratio of sums, C7), not an average of
-- these rows.
with rated as (
    select * exclude (is_total, is_previous)
    from
        release_on_time_counts(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios, $tolerance_days, true
        )
    where not is_total
    order by application_id nulls last
)

-- the columns are the family's, defined once in release_on_time_counts
select
    *,  -- noqa: AM04
    resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
from rated
