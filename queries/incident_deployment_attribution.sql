-- One row per incident, whenever opened: the production deployment it is
-- attributed to, if any, and how.
-- $application_ids: list of incident application ids to keep (default: null)
-- $portfolios: list of incident application portfolios to keep
--     (default: null)
-- $profile: default, or devlake (per deployment unit: rows sharing a
--     release_id are one deployment) (default: 'default')
-- $attribution_inclusive: a deployment finished exactly when the incident
--     opened may cause it, as Middleware (default: false)
-- docs/metrics.md, shared definitions, incident -> deployment
-- (incident_attribution macro,
-- changeboard/macros/41_deployment_failures.sql). how =
-- explicit_deployment (caused_by_deployment_id, kept as given), explicit_change
-- (caused_by_change_id: the change's latest production deployment finished
-- at or before opened_at, else its earliest), inferred (no link: the latest
-- production deployment of the same application finished strictly before
-- opened_at, ties by deployment_id) or unattributed (no candidate, NULL
-- application, or a linked change without production deployment).
with attribution as (
    select
        i.incident_id,
        i.application_id,
        i.opened_at,
        i.deployment_id,
        i.how
    from incident_attribution($profile, $attribution_inclusive) as i
    left join applications as a on i.application_id = a.application_id
    where
        keep($application_ids, i.application_id)
        and keep($portfolios, a.portfolio)
    order by i.opened_at, i.incident_id
)

select * from attribution
