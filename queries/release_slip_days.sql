-- One row per slip, in days, of the releases gone live in the window: how
-- many slipped by it, and whether it is on time.
-- $start_date, $end_date: go-live window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates and of slip days
--     (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $tolerance_days: days of slip still counted on time (default: 0)
-- The release_records rows of kind released (release_outcomes macro),
-- counted by slip_days (local actual date - local planned date): n of them,
-- is_on_time = slip_days <= tolerance_days. Sorted by slip_days. The
-- Releases page draws its slip histogram from these rows, not from every
-- release (a year is 20,000 records at a million changes).
with slips as (
    select
        slip_days,
        slip_days <= $tolerance_days as is_on_time,
        count(*) as n
    from
        release_outcomes(
            $start_date, $end_date, $reporting_tz, null, $application_ids,
            $portfolios
        )
    where kind = 'released'
    group by slip_days
    order by slip_days
)

select
    *,
    loaded_as_of() as as_of
from slips
