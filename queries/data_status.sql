-- One row: how fresh the data is and whether it is the generated sample.
-- docs/metrics.md C10: as_of = the last succeeded ingest_batches.finished_at.
-- is_sample: any row of a canonical table was loaded by the sample build
-- (a batch whose loaded_by is changeboard:sample), so a page can say so
-- however much else was loaded; n_sample_rows counts those rows and
-- has_own_data says whether rows of other loads are present beside them.
-- latest_record_at: the latest time something happened in the data (a
-- change created or closed, a release gone live, a deployment finished, an
-- incident opened); plans, and the hand-entered actual start and end of a
-- change (a typo there can say 2021 in a 2014 data set), are not counted.
-- latest_operations_at: the same of the changes and their deployments (a
-- change created or closed, a deployment finished): where the data a CAB
-- pack reads ends, but for the incidents the changes caused
-- (latest_change_incident; endoflife.date's release history runs to 2026,
-- and the UCI incident log, whose incidents name no BPIC change, to 2016,
-- beside BPIC 2014's changes).
-- latest_reported_at: latest_record_at without the incidents that no loaded
-- change or deployment caused (an incident log loaded beside the changes
-- holds nothing the pages report on: the UCI log runs to 2017 beside BPIC
-- 2014's changes): where the period presets end when all the data is older
-- than their start.
-- n_releases_undated: releases whose status is released with no go-live
-- time (actual_release_at), which no period holds.
-- first_reported_at: the first such time (a change created, a release gone
-- live, a deployment finished, an incident a loaded change or deployment
-- caused): where "All data" starts when no change is loaded.
-- changes_first_at, changes_last_at: when the changes' records begin and
-- end (the first created, the last created or closed; NULL with no
-- change), so a page whose period holds no change can say where they are.
-- n_batches: the loads that succeeded, of every table (data_freshness counts
-- each table's loads, failed ones too, beside its n_failed_batches).
-- Read from derived_data_status (changeboard/macros/60_data.sql), computed
-- at each publish.
with status as (
    select
        as_of,
        n_batches,
        is_sample,
        n_sample_rows,
        has_own_data,
        n_changes,
        n_releases,
        n_environments,
        n_bookings,
        n_incidents,
        n_deployments,
        n_release_phases,
        n_releases_undated,
        latest_record_at,
        latest_operations_at,
        latest_reported_at,
        first_reported_at,
        changes_first_at,
        changes_last_at
    from derived_data_status
)

select * from status
