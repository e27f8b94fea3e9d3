-- One row per API endpoint (changeboard sync SOURCE, e.g. servicenow):
-- its last sync, whether it succeeded, how much it read and loaded, the
-- watermark the next sync starts from and the last successful sync, and
-- who ran the last sync (run_by: cli:<os user>).
-- The watermark is the highest update time of the last successful sync;
-- the next sync reads from 10 minutes before it, or, after a failed run,
-- from that run's last committed record (cursor_at): resumes_from_at is
-- that point (null: from the beginning).
with ranked as (
    select
        s.*,
        row_number() over (
            partition by s.source, s.endpoint order by s.sync_id desc
        ) as recency
    from api_syncs as s
),

last_success as (
    select
        source,
        endpoint,
        max(finished_at) as last_success_at,
        max(watermark_at) as watermark_at
    from api_syncs
    where status = 'succeeded'
    group by source, endpoint
),

endpoints as (
    select
        r.source,
        r.endpoint,
        r.sync_id,
        r.status,
        r.started_at,
        r.finished_at,
        r.pages,
        r.records_read,
        r.rows_loaded,
        r.rows_rejected,
        r.batches,
        r.cursor_at,
        s.watermark_at,
        s.last_success_at,
        case
            when r.status = 'succeeded' then s.watermark_at
            else coalesce(r.cursor_at, s.watermark_at)
        end as resumes_from_at,
        r.error,
        r.run_by
    from ranked as r
    left join last_success as s
        on r.source = s.source and r.endpoint = s.endpoint
    where r.recency = 1
    order by r.source, r.endpoint
)

select * from endpoints
