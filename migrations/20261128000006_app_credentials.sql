-- The GitHub App's credentials when they came through the /setup flow: the private key and
-- webhook secret are sealed (ChaCha20-Poly1305, key from IMMUTABOT_SECRET_KEY), never plain.
create table app_credentials (
    id         integer primary key check (id = 1),
    app_id     bigint not null,
    slug       text not null,
    html_url   text not null,
    nonce      bytea not null,
    sealed     bytea not null,
    created_at timestamptz not null default now()
);
