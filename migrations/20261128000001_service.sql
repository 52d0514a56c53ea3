-- The service's durable state: deliveries and the job queue (never lose a webhook), and the
-- history of every check and finding (what the org-wide compliance report is built on).
--
-- Ids that come from GitHub (installation, repository) are GitHub's own numbers, so a
-- redelivered or reordered event always lands on the same row.

create table installations (
    id            bigint primary key,
    account_login text not null,
    account_type  text not null default 'Organization',
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    suspended_at  timestamptz,
    deleted_at    timestamptz
);
create index installations_account on installations (lower(account_login));

create table repositories (
    id              bigint primary key,
    installation_id bigint references installations (id),
    owner           text not null,
    name            text not null,
    default_branch  text,
    private         boolean not null default false,
    added_at        timestamptz not null default now(),
    removed_at      timestamptz
);
-- Per-organisation report queries start here.
create index repositories_owner on repositories (lower(owner), lower(name));

-- One row per webhook event (X-GitHub-Delivery). A redelivery carries the same guid, so the
-- primary key makes intake idempotent.
create table deliveries (
    guid            text primary key,
    event           text not null,
    action          text,
    installation_id bigint,
    repository      text,
    outcome         text not null check (outcome in ('queued', 'ignored', 'recorded', 'invalid')),
    detail          text,
    received_at     timestamptz not null default now()
);
create index deliveries_received on deliveries (received_at);

create table jobs (
    id            bigserial primary key,
    kind          text not null,
    delivery_guid text references deliveries (guid),
    payload       jsonb not null,
    -- Jobs with the same key supersede each other (a pull request: newer heads win).
    dedupe_key    text,
    head_sha      text,
    state         text not null default 'queued'
                  check (state in ('queued', 'running', 'done', 'dead', 'superseded')),
    attempts      integer not null default 0,
    max_attempts  integer not null default 8,
    run_after     timestamptz not null default now(),
    locked_by     text,
    locked_until  timestamptz,
    last_error    text,
    created_at    timestamptz not null default now(),
    started_at    timestamptz,
    finished_at   timestamptz
);
-- The claim query scans only what can run; both partial indexes stay small.
create index jobs_ready on jobs (run_after, id) where state = 'queued';
create index jobs_leased on jobs (locked_until) where state = 'running';
create index jobs_pending_key on jobs (dedupe_key) where state in ('queued', 'running');

-- Redeliveries we asked GitHub for, so the reconciler asks once per event.
create table redeliveries (
    guid         text primary key,
    delivery_id  bigint not null,
    requested_at timestamptz not null default now()
);

create table pull_requests (
    id            bigserial primary key,
    repository_id bigint not null references repositories (id),
    number        bigint not null,
    head_sha      text not null,
    state         text not null default 'open' check (state in ('open', 'closed', 'merged')),
    opened_at     timestamptz not null default now(),
    closed_at     timestamptz,
    unique (repository_id, number)
);

-- One check per head commit of a pull request.
create table checks (
    id              bigserial primary key,
    repository_id   bigint not null references repositories (id),
    pull_request_id bigint not null references pull_requests (id),
    head_sha        text not null,
    check_run_id    bigint,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    duration_ms     integer,
    files_checked   integer not null default 0,
    units           integer not null default 0,
    read_only       integer not null default 0,
    suppressed      integer not null default 0,
    findings        integer not null default 0,
    in_diff         integer not null default 0,
    comments        integer not null default 0,
    conclusion      text,
    unique (pull_request_id, head_sha)
);
create index checks_repo_time on checks (repository_id, started_at);
create index checks_time on checks (started_at);

-- Every finding a pull request ever had, keyed by its fingerprint (rule, path, unit: never a
-- line number), with the checks it was first and last seen in.
create table findings (
    id              bigserial primary key,
    repository_id   bigint not null references repositories (id),
    pull_request_id bigint not null references pull_requests (id),
    fingerprint     text not null,
    rule            text not null,
    path            text not null,
    line            integer not null,
    workload        text,
    container       text,
    severity        text not null,
    state           text not null check (state in ('open', 'fixed', 'suppressed')),
    commented       boolean not null default false,
    first_check_id  bigint not null references checks (id),
    last_check_id   bigint not null references checks (id),
    fixed_check_id  bigint references checks (id),
    first_seen_at   timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    fixed_at        timestamptz,
    unique (pull_request_id, fingerprint)
);
create index findings_repo_state on findings (repository_id, state);
create index findings_first_seen on findings (first_seen_at);
create index findings_fixed on findings (fixed_at) where fixed_at is not null;
