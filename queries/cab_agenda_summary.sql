-- One row: how many changes a CAB meeting must decide on, and how many were
-- left off as unclassified, unplanned or excluded.
-- $window_start_at, $window_end_at: review window (from this meeting to the
--     next), end exclusive: instants as text, with an offset as given, without
--     one in $reporting_tz; a bare date means 00:00
-- $reporting_tz: IANA zone of instants given without offset (default: UTC)
-- $application_ids: list of application ids to keep (default: null)
-- $portfolios: list of portfolios to keep (default: null)
-- $teams: list of assignment groups to keep (default: null)
-- $change_types: list of change types to keep (default: null)
-- $tiers: list of target environment tiers to keep (default: null)
-- docs/metrics.md cab_agenda counts, from the cab_changes macro
-- (changeboard/macros/20_cab.sql), so that they show when the agenda
-- is empty: n (cab_agenda rows), n_emergency, n_very_high_risk,
-- n_unclassified (would be on the agenda but is_cab_required or approval is
-- NULL), n_unplanned (open normal/emergency CAB-required changes awaiting
-- approval with no valid plan, whatever their dates), n_excluded (other
-- changes whose plan meets the window).
with classified as (
    select
        change_id,
        change_type,
        risk,
        agenda_class,
        w_start,
        w_end
    from
        cab_changes(
            $window_start_at, $window_end_at, $reporting_tz,
            $application_ids, $portfolios, $teams, $change_types, $tiers
        )
),

counted as (
    select
        count(*) filter (where agenda_class = 'agenda') as n,
        count(*) filter (
            where agenda_class = 'agenda' and change_type = 'emergency'
        ) as n_emergency,
        count(*) filter (
            where agenda_class = 'agenda' and risk = 'very_high'
        ) as n_very_high_risk,
        count(*) filter (
            where agenda_class = 'unclassified'
        ) as n_unclassified,
        count(*) filter (
            where agenda_class = 'unplanned'
        ) as n_unplanned,
        count(*) filter (
            where agenda_class = 'excluded'
        ) as n_excluded,
        local_instant($window_start_at, $reporting_tz) as window_start_at,
        local_instant($window_end_at, $reporting_tz) as window_end_at
    from classified
)

select * from counted
