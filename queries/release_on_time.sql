-- One row: share of releases gone live in the window on or before their
-- planned date, and how many days they slipped.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $as_of: instant that ends "overdue" for open releases (without an offset:
--     in $reporting_tz); null = last load
--     (default: null)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- docs/metrics.md release_on_time over the release_outcomes macro
-- (changeboard/macros/42_releases.sql): releases with actual_release_at in
-- the window, not cancelled, not enterprise. slip_days = local actual date -
-- local planned date; on time if slip_days <= tolerance_days. NULL planned
-- date is unclassified; n_excluded: cancelled or enterprise releases live in
-- the window. n_overdue_open: not live, not released or cancelled, not
-- enterprise, planned before least(end_date, as_of), however old. Only the
-- latest plan is stored, so re-planning hides slip.
with rated as (
    select
        * exclude (
            is_total, is_previous, application_id, application_name
        )
    from
        release_on_time_counts(
            $start_date, $end_date, $reporting_tz, $as_of, $application_ids,
            $portfolios, $tolerance_days, false
        )
    where is_total
)

-- the columns are the family's, defined once in release_on_time_counts
select
    *,  -- noqa: AM04
    resolved_as_of(local_instant($as_of, $reporting_tz)) as as_of
from rated
