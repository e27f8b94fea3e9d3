-- Canonical Changeboard schema: the tables every adapter loads and every query reads.
-- Idempotent: every statement is `create ... if not exists`. Instants are
-- TIMESTAMPTZ in UTC; codes are lowercase text checked against their lists.
-- Bump schema_version (and add a migration in changeboard/db.py) on change.

create table if not exists schema_version (
    version integer not null,
    applied_at timestamptz not null default current_timestamp
);

create table if not exists applications (
    application_id varchar primary key,
    name varchar not null,
    portfolio varchar,
    owner_team varchar,
    criticality varchar check (
        criticality in ('low', 'medium', 'high', 'critical')
    ),
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists environments (
    environment_id varchar primary key,
    name varchar not null,
    tier varchar not null check (
        tier in (
            'dev', 'test', 'sit', 'uat', 'perf', 'staging', 'prod', 'dr',
            'other'
        )
    ),
    application_id varchar,
    environment_group varchar,
    is_shared boolean,
    capacity integer default 1 check (capacity >= 1),
    timezone varchar default 'UTC',
    availability varchar default 'always' check (
        availability in ('always', 'business_hours')
    ),
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists blackout_windows (
    window_id varchar primary key,
    name varchar,
    kind varchar not null check (kind in ('freeze', 'blackout', 'maintenance')),
    application_id varchar,
    environment_id varchar,
    start_at timestamptz not null,
    end_at timestamptz not null,
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists releases (
    release_id varchar primary key,
    name varchar not null,
    version varchar,
    release_type varchar check (
        release_type in ('enterprise', 'project', 'independent')
    ),
    parent_release_id varchar,
    application_id varchar,
    status varchar not null check (
        status in ('draft', 'planned', 'in_progress', 'released', 'cancelled')
    ),
    risk varchar check (risk in ('low', 'moderate', 'high', 'very_high')),
    created_at timestamptz,
    planned_start_at timestamptz,
    planned_release_at timestamptz,
    actual_release_at timestamptz,
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists release_phases (
    release_id varchar not null,
    phase varchar not null,
    planned_start_at timestamptz,
    planned_end_at timestamptz,
    actual_start_at timestamptz,
    actual_end_at timestamptz,
    source varchar not null default 'csv',
    ingested_batch_id integer,
    primary key (release_id, phase)
);

create table if not exists changes (
    change_id varchar primary key,
    title varchar,
    -- what a CAB reads (free text, as the source holds it)
    description varchar,
    justification varchar,
    implementation_plan varchar,
    backout_plan varchar,
    test_plan varchar,
    change_type varchar not null check (
        change_type in ('standard', 'normal', 'emergency')
    ),
    state varchar not null check (
        state in (
            'new', 'assess', 'authorize', 'scheduled', 'implement', 'review',
            'closed', 'cancelled'
        )
    ),
    risk varchar check (risk in ('low', 'moderate', 'high', 'very_high')),
    impact varchar check (impact in ('low', 'medium', 'high')),
    priority integer check (priority >= 1),
    category varchar,
    application_id varchar,
    ci_name varchar,
    assignment_group varchar,
    requested_by varchar,
    release_id varchar,
    environment_id varchar,
    is_cab_required boolean,
    cab_date date,
    approval varchar check (
        approval in (
            'not_yet_requested', 'requested', 'approved', 'rejected',
            'not_required'
        )
    ),
    created_at timestamptz not null,
    approved_at timestamptz,
    planned_start_at timestamptz,
    planned_end_at timestamptz,
    actual_start_at timestamptz,
    actual_end_at timestamptz,
    closed_at timestamptz,
    close_code varchar check (
        close_code in (
            'successful', 'successful_with_issues', 'unsuccessful',
            'backed_out', 'cancelled', 'rejected'
        )
    ),
    updated_at timestamptz,
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists deployments (
    deployment_id varchar primary key,
    application_id varchar not null,
    -- nullable: a deployment with no or an unknown environment is
    -- unclassified by the metrics, not dropped (docs/metrics.md, shared definitions)
    environment_id varchar,
    release_id varchar,
    change_id varchar,
    version varchar,
    status varchar not null check (
        status in (
            'succeeded', 'failed', 'rolled_back', 'cancelled', 'in_progress'
        )
    ),
    is_rollback boolean default false,
    started_at timestamptz not null,
    finished_at timestamptz,
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists environment_bookings (
    booking_id varchar primary key,
    environment_id varchar not null,
    release_id varchar,
    phase varchar,
    team varchar,
    status varchar not null check (
        status in ('approved', 'pending', 'rejected', 'cancelled')
    ),
    start_at timestamptz not null,
    end_at timestamptz,
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists incidents (
    incident_id varchar primary key,
    title varchar,
    application_id varchar,
    priority integer check (priority >= 1),
    opened_at timestamptz not null,
    resolved_at timestamptz,
    caused_by_change_id varchar,
    caused_by_deployment_id varchar,
    source varchar not null default 'csv',
    ingested_batch_id integer
);

create table if not exists ingest_batches (
    batch_id integer primary key,
    source varchar not null,
    entity varchar not null,
    file_name varchar,
    file_sha256 varchar,
    started_at timestamptz not null,
    finished_at timestamptz,
    rows_read integer,
    rows_loaded integer,
    rows_rejected integer,
    status varchar not null check (status in ('succeeded', 'failed')),
    error varchar,
    -- schema version 2: what the loaded rows did, and the load's warnings
    rows_updated integer,
    rows_unchanged integer,
    rows_deleted integer,
    warnings json,
    -- schema version 4: input rows merged into an earlier row of their id
    -- (rows_read = rows_loaded + rows_rejected + rows_merged)
    rows_merged integer,
    -- schema version 6: who ran the load: a signed-in e-mail,
    -- local:<os user> (single-user mode) or cli:<os user>
    loaded_by varchar,
    -- schema version 8: the SHA-256 of what the file was read with (its
    -- mapping or overrides file and options), null for the defaults.
    -- A file is the same load again only read the same way as last time
    settings_sha256 varchar
);

create table if not exists ingest_rejects (
    batch_id integer not null,
    row_number integer not null,
    column_name varchar,
    value varchar,
    reason varchar not null,
    raw_record json,
    -- schema version 2: the reason in words (allowed codes, owning source)
    detail varchar
);

-- schema version 9: one row per stored row a snapshot-mode load deleted
-- (a row of its source not in the file): its table, its key as text (the
-- key columns joined by ' | ') and the whole row as it was, as JSON. The
-- batch's rows_deleted counts them; a snapshot kept of the file before the
-- load holds them too, until retention prunes it.
create table if not exists ingest_deletions (
    batch_id integer not null,
    table_name varchar not null,
    row_key varchar not null,
    record json
);

-- schema version 3: one row per API sync run (python -m ingest servicenow-api
-- | jira-api); its pages are committed as ingest_batches with file_name =
-- endpoint. Never holds credentials.
create table if not exists api_syncs (
    sync_id integer primary key,
    source varchar not null,
    endpoint varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status varchar not null
        check (status in ('running', 'succeeded', 'failed')),
    since_at timestamptz,
    cursor_at timestamptz,
    watermark_at timestamptz,
    pages integer not null default 0,
    records_read integer not null default 0,
    rows_loaded integer not null default 0,
    rows_rejected integer not null default 0,
    batches integer not null default 0,
    error varchar,
    -- schema version 6: who ran the sync (cli:<os user> from the CLI)
    run_by varchar
);
