-- One row: the completed changes whose work ended in the window with no
-- actual start recorded, that unauthorized_changes cannot date (it counts
-- changes by their actual start) though they may have needed CAB approval.
-- $start_date, $end_date: completion window in $reporting_tz, end exclusive
-- $reporting_tz: IANA zone of the window's dates (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md completed_without_start over the completed_changes macro
-- (A24, completed change; completed_at = coalesce(actual_end_at,
-- closed_at) in the window): n, those with no actual_start_at whose CAB
-- flag is true or NULL; of them n_cab_required (the flag true: a change
-- the CAB rejected and implemented anyway, with no start recorded, was in
-- no count) and n_cab_flag_missing (NULL). n_excluded: cancelled or
-- rejected changes of the window with no start, the flag true or NULL;
-- n_unclassified: those ended with no close code in another state than
-- review or closed (completed_changes' kinds).
with unstarted as (
    select
        kind,
        is_cab_required
    from
        completed_changes(
            $start_date, $end_date, $reporting_tz, $application_ids,
            $portfolios, $teams, $change_types, $tiers, false
        )
    where
        actual_start_at is null
        and is_cab_required is distinct from false
)

select
    count(*) filter (where kind = 'completed') as n,
    count(*) filter (
        where kind = 'completed' and is_cab_required
    ) as n_cab_required,
    count(*) filter (
        where kind = 'completed' and is_cab_required is null
    ) as n_cab_flag_missing,
    count(*) filter (where kind = 'excluded') as n_excluded,
    count(*) filter (where kind = 'unclassified') as n_unclassified,
    loaded_as_of() as as_of
from unstarted
