-- Files a cached analysis read besides the analysed file (a Compose override beside it, the
-- files its `extends` name), by the same key as `blob_analyses`. Such a file's report is cached
-- under a key that also holds the blob ids those paths had, so a changed override is never
-- answered from the cache, while an unchanged one still is.
create table blob_dependencies (
    blob_sha    text not null,
    path        text not null,
    config_hash text not null,
    -- Paths the core asked for, sorted; a path absent from the tree counts as a dependency too.
    paths       text[] not null,
    created_at  timestamptz not null default now(),
    primary key (blob_sha, path, config_hash)
);
