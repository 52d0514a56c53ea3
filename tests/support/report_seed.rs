//! A small hand-written scan and pull-request history whose report is known by heart.
//!
//! Times are relative to the Monday 00:00 UTC of the current week (`week`), so the weekly
//! trend has the same seven points whenever the test runs:
//!
//! | week     | shop (4 units)          | api (2 units)          | total read-only |
//! |----------|-------------------------|------------------------|-----------------|
//! | week-6   | 0 read-only             |                        | 0 / 4           |
//! | week-5,4 | (no scan: carried)      |                        | 0 / 4           |
//! | week-3   | 1 read-only             |                        | 1 / 4           |
//! | week-2   |                         | 0 read-only            | 1 / 6           |
//! | week-1   | 3 read-only, 1 suppr.   | (failed scan: ignored) | 3 / 6           |
//! | week     |                         | 1 read-only            | 4 / 6           |
//!
//! Thirty days ago only shop's first scan existed: 0 / 4, so the change is +66.7 points.
//! Owner "Acme" also has `docs` (never scanned) and `legacy` (removed: not reported);
//! owner "Other" has `secret-repo`, which an Acme token must never see.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use sqlx::PgPool;

/// What the seed's times hang on.
pub struct Seeded {
    /// Monday 00:00 UTC of the current week.
    pub week: DateTime<Utc>,
    /// When the seed was written (the report's "now" is a little later).
    pub now: DateTime<Utc>,
}

/// Monday 00:00 UTC of `t`'s week.
pub fn week_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let day = t.date_naive() - Duration::days(t.weekday().num_days_from_monday().into());
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
}

async fn exec(pool: &PgPool, sql: &'static str, times: &[DateTime<Utc>]) {
    let mut q = sqlx::query(sql);
    for t in times {
        q = q.bind(*t);
    }
    q.execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Writes the history.
pub async fn seed(pool: &PgPool) -> Seeded {
    let now = Utc::now();
    let week = week_start(now);
    let w = |days: i64, hours: i64| week + Duration::days(days) + Duration::hours(hours);
    let d = |days: i64| now - Duration::days(days);
    exec(
        pool,
        "insert into installations (id, account_login) values (1, 'Acme'), (2, 'Other')",
        &[],
    )
    .await;
    exec(
        pool,
        "insert into repositories (id, installation_id, owner, name, default_branch, private, removed_at) values
           (10, 1, 'Acme', 'shop', 'main', true, null),
           (11, 1, 'Acme', 'api', 'main', false, null),
           (12, 1, 'Acme', 'docs', 'main', false, null),
           (13, 1, 'Acme', 'legacy', 'main', false, now()),
           (20, 2, 'Other', 'secret-repo', 'main', true, null)",
        &[],
    )
    .await;
    // Scans: ids 100.. for shop, 110.. for api, others for the repositories that must not count.
    exec(
        pool,
        "insert into scans (id, repository_id, commit_sha, state, finished_at, units, read_only, suppressed, writable, unknown) values
           (100, 10, 'a000000000000000000000000000000000000000', 'done', $1, 4, 0, 0, 4, 0),
           (101, 10, 'a100000000000000000000000000000000000000', 'done', $2, 4, 1, 0, 3, 0),
           (102, 10, 'a200000000000000000000000000000000000000', 'done', $3, 4, 3, 1, 0, 0),
           (110, 11, 'c000000000000000000000000000000000000000', 'done', $4, 2, 0, 0, 2, 0),
           (111, 11, 'cfa11ed000000000000000000000000000000000', 'failed', $3, 99, 99, 0, 0, 0),
           (112, 11, 'c200000000000000000000000000000000000000', 'done', $5, 2, 1, 0, 1, 0),
           (130, 13, 'd000000000000000000000000000000000000000', 'done', $4, 50, 0, 0, 50, 0),
           (200, 20, 'e000000000000000000000000000000000000000', 'done', $4, 70, 70, 0, 0, 0)",
        &[w(-42, 1), w(-21, 1), w(-7, 1), w(-14, 1), week],
    )
    .await;
    exec(
        pool,
        r#"insert into unit_states (repository_id, unit_key, path, line, workload, container, image, state, rules, fix, valid_from_scan, valid_from, valid_to_scan, valid_to) values
           (10, 'compose.yaml/web', 'compose.yaml', 3, 'web', null, 'nginx:1.27', 'false', '{writable-root-filesystem}', null, 100, $1, 102, $3),
           (10, 'compose.yaml/web', 'compose.yaml', 3, 'web', null, 'nginx:1.27', 'true', '{}', null, 102, $3, null, null),
           (10, 'compose.yaml/db', 'compose.yaml', 9, 'db', null, 'postgres:16', 'true', '{}', null, 101, $2, null, null),
           (10, 'compose.yaml/cache', 'compose.yaml', 15, 'cache', null, 'redis:7', 'true', '{}', null, 102, $3, null, null),
           (10, 'compose.yaml/debug', 'compose.yaml', 20, 'debug', null, 'busybox', 'suppressed', '{}', null, 102, $3, null, null),
           (11, 'deploy/api.yaml/Deployment/api/app', 'deploy/api.yaml', 12, 'Deployment/api', 'app', 'ghcr.io/acme/api:2', 'false', '{writable-root-filesystem}',
            '{"description": "Set readOnlyRootFilesystem: true", "start_line": 12, "end_line": 13, "replacement": "        - name: app\n          securityContext:\n            readOnlyRootFilesystem: true\n"}', 110, $4, null, null),
           (11, 'deploy/api.yaml/Deployment/api/sidecar', 'deploy/api.yaml', 20, 'Deployment/api', 'sidecar', 'envoy:1', 'true', '{missing-scratch-mount}', null, 112, $5, null, null),
           (13, 'x/y', 'x.yaml', 1, 'y', null, null, 'false', '{writable-root-filesystem}', null, 130, $4, null, null),
           (20, 'secret.yaml/leak', 'secret.yaml', 1, 'leak', null, null, 'false', '{read-only-bypassed}', null, 200, $4, null, null)"#,
        &[w(-42, 1), w(-21, 1), w(-7, 1), w(-14, 1), week],
    )
    .await;
    // Pull requests: shop #7 open (one open finding, one fixed in 48 h); api #3 closed (an
    // open finding that does not count, one fixed in 24 h, and an old check).
    exec(
        pool,
        "insert into pull_requests (id, repository_id, number, head_sha, state) values
           (1, 10, 7, 'p7', 'open'), (2, 11, 3, 'p3', 'closed'), (3, 20, 1, 'q1', 'open')",
        &[],
    )
    .await;
    exec(
        pool,
        "insert into checks (id, repository_id, pull_request_id, head_sha, started_at) values
           (1, 10, 1, 'p7a', $1), (2, 10, 1, 'p7', $2), (3, 11, 2, 'p3a', $3), (4, 11, 2, 'p3', $4),
           (5, 20, 3, 'q1', $2)",
        &[d(5), d(2), d(40), d(10)],
    )
    .await;
    exec(
        pool,
        "insert into findings (repository_id, pull_request_id, fingerprint, rule, path, line, severity, state, first_check_id, last_check_id, first_seen_at, fixed_at) values
           (10, 1, 'f1', 'writable-root-filesystem', 'compose.yaml', 3, 'error', 'open', 2, 2, $1, null),
           (10, 1, 'f2', 'tmpfs-owned-by-root', 'compose.yaml', 9, 'warning', 'fixed', 1, 1, $2, $3),
           (11, 2, 'f3', 'read-only-bypassed', 'deploy/api.yaml', 12, 'error', 'open', 3, 3, $4, null),
           (11, 2, 'f4', 'writable-root-filesystem', 'deploy/api.yaml', 20, 'error', 'fixed', 4, 4, $5, $6),
           (20, 3, 'f5', 'read-only-bypassed', 'secret.yaml', 1, 'error', 'open', 5, 5, $1, null)",
        &[d(2), d(5), d(3), d(40), d(10), d(9)],
    )
    .await;
    Seeded { week, now }
}
