-- One row per change a release carries (changes.release_id), whatever their
-- dates: the changes of any release, not only those going live soon.
-- $release_ids: list of release ids to keep (default: null)
-- Every change whose release_id is one of $release_ids (null: every change
-- that names a release), cancelled and rejected ones too (state and
-- close_code say so); is_release_loaded: the release is in the releases
-- table. Sorted by (release_id, planned_start_at, change_id), changes
-- without a plan last within their release.
with carried as (
    select
        c.release_id,
        c.change_id,
        c.title,
        c.change_type,
        c.state,
        c.risk,
        c.approval,
        c.close_code,
        c.application_id,
        c.assignment_group,
        c.planned_start_at,
        c.planned_end_at,
        c.actual_start_at,
        c.actual_end_at,
        c.closed_at,
        r.release_id is not null as is_release_loaded
    from changes as c
    left join releases as r on c.release_id = r.release_id
    where
        c.release_id is not null
        and (
            $release_ids is null
            or list_contains(cast($release_ids as varchar[]), c.release_id)
        )
)

select * from carried
order by release_id, planned_start_at nulls last, change_id
