-- Full-repository scans and the org-wide compliance report.
--
-- A scan is one commit of a repository's default branch. Unit states are stored by change:
-- a row is valid from the scan that first saw the unit in that state until the scan that saw
-- it change or disappear (valid_to), so storage grows with what changed, not with the size of
-- the organisation. Per-scan counts live on the scan row, which is what the trend reads.

create table scans (
    id            bigserial primary key,
    repository_id bigint not null references repositories (id),
    commit_sha    text not null,
    branch        text,
    state         text not null default 'running' check (state in ('running', 'done', 'failed')),
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    files         integer not null default 0,
    units         integer not null default 0,
    read_only     integer not null default 0,
    suppressed    integer not null default 0,
    writable      integer not null default 0,
    unknown       integer not null default 0,
    error         text,
    unique (repository_id, commit_sha)
);
-- "Latest finished scan per repository" and "last scan at or before a week's end".
create index scans_repo_finished on scans (repository_id, finished_at desc) where state = 'done';
create index scans_finished on scans (finished_at) where state = 'done';

create table unit_states (
    id             bigserial primary key,
    repository_id  bigint not null references repositories (id),
    -- Identity across scans: path, workload and container (never a line number).
    unit_key       text not null,
    path           text not null,
    line           integer not null,
    workload       text not null,
    container      text,
    image          text,
    -- The core's read-only status: 'true', 'false', 'suppressed' or 'unknown'.
    state          text not null check (state in ('true', 'false', 'suppressed', 'unknown')),
    -- Rule ids of the unit's unsuppressed findings.
    rules          text[] not null default '{}',
    -- The suggested patch (model::Fix as JSON) for the writable-root finding, if any.
    fix            jsonb,
    valid_from_scan bigint not null references scans (id),
    valid_from     timestamptz not null,
    valid_to_scan  bigint references scans (id),
    valid_to       timestamptz
);
create index unit_states_current on unit_states (repository_id, state) where valid_to is null;
create index unit_states_key on unit_states (repository_id, unit_key) where valid_to is null;
create index unit_states_history on unit_states (repository_id, valid_from, valid_to);

-- The core's report per file content, so an unchanged file is never fetched or analysed
-- twice, across scans and repositories. The key holds what the analysis depends on: the
-- blob, its path (Compose file names matter) and the settings used.
create table blob_analyses (
    blob_sha    text not null,
    path        text not null,
    config_hash text not null,
    report      jsonb not null,
    created_at  timestamptz not null default now(),
    primary key (blob_sha, path, config_hash)
);

-- Bearer tokens for /report and /api: one owner (organisation or user) each, stored hashed.
create table api_tokens (
    id           bigserial primary key,
    owner        text not null,
    token_sha256 text not null unique,
    label        text,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
create index api_tokens_owner on api_tokens (lower(owner));
