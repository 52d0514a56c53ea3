-- Sign-in states already used at /oauth/callback: each `state` finishes one sign-in only,
-- even on another replica and even if its cookie was copied. Kept (as SHA-256, never the
-- state itself) until the sign-in would have expired anyway; older rows are deleted by the
-- next use.
create table sign_in_states_used (
    state_sha256 bytea primary key,
    expires_at timestamptz not null
);

create index sign_in_states_used_expiry on sign_in_states_used (expires_at);
