-- One row: the latest planned start of a change (latest_planned_start_at;
-- NULL when no change has a plan). The CAB page opens on the meeting after
-- the data ends only when every record is older than the last meeting and
-- no change is planned after it either (an export some weeks old still
-- holds the next meeting's agenda).
select max(planned_start_at) as latest_planned_start_at
from changes
