-- One row: share of CAB-required changes started in the window that were
-- implemented without approval.
-- $start_date, $end_date: start window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md unauthorized_changes over the cab_required_starts macro:
-- is_cab_required = true and actual_start_at in the window. Unauthorized if
-- approval <> 'approved' (n_not_approved) or approved_at > actual_start_at
-- (n_approved_after_start, retroactive). Approved with no approved_at is
-- authorised and counted in n_approval_time_missing. unauthorized_rate =
-- n_unauthorized / n. n_excluded: started in the window, CAB not required;
-- n_unclassified: started in the window with a NULL is_cab_required, or
-- CAB-required with a NULL approval. n_emergency_approved_after_start: of
-- n_approved_after_start, the emergency changes (approved in retrospect,
-- as an emergency CAB does). Completed changes with no start are in no
-- count: completed_without_start counts them.
with tallied as (
    select unnest(unauthorized_tallies(s))
    from
        cab_required_starts(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers
        ) as s
)

-- the columns are the family's, defined once by the unauthorized_tallies
-- and unauthorized_measures macros (as unauthorized_change_counts gives
-- them for a breakdown), counted here without its cells
select
    unnest(unauthorized_measures(tallied)),  -- noqa: AL03
    loaded_as_of() as as_of
from tallied
