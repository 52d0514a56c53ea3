-- The fix-all pull request of each repository (src/jobs/fix_pull/): one row per repository,
-- the pull request the bot opened last and what it knows of it. `head_sha` is the commit
-- the bot made last on the branch: a branch head other than it is someone else's push,
-- which the bot never overwrites. `fingerprint` names the patch set, so that a pull request
-- a person closed is opened again only when the findings change.
create table fix_pulls (
    repository_id   bigint primary key references repositories (id),
    installation_id bigint not null,
    number          bigint not null,
    url             text not null,
    branch          text not null,
    -- The default branch's head the commit was made on.
    base_sha        text not null,
    head_sha        text not null,
    fingerprint     text not null,
    state           text not null check (state in ('open', 'closed', 'merged')),
    closed_by_us    boolean not null default false,
    -- The foreign branch head the bot last commented about (one comment per push).
    commented_head  text,
    -- Last time the bot made a commit or a pull request here: the per-installation rate.
    written_at      timestamptz not null default now(),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);

create index fix_pulls_installation_written on fix_pulls (installation_id, written_at);
