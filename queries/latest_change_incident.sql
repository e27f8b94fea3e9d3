-- One row: latest_change_incident_at, when the latest incident that a
-- loaded change or deployment caused was opened (NULL when none did).
-- With data_status.latest_operations_at, where the data a CAB pack reads
-- ends: an incident log loaded beside the changes (the UCI log to 2016
-- beside BPIC 2014) whose incidents name none of them is not part of it.
-- Read only when the changes' own data is older than the last meeting (it
-- joins the incidents to every change).
select max(i.opened_at) as latest_change_incident_at
from incidents as i
where
    exists (
        select 1
        from changes as c
        where c.change_id = i.caused_by_change_id
    )
    or exists (
        select 1
        from deployments as d
        where d.deployment_id = i.caused_by_deployment_id
    )
