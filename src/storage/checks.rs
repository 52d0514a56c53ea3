//! The `pull_requests`, `checks` and `findings` tables: one row per head commit checked, and
//! every finding with the checks it was first and last seen in. The compliance report reads
//! them.

use super::Tx;
use sqlx::PgPool;

/// A finding as the history stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecord {
    /// Rule + path + unit identity; never a line number.
    pub fingerprint: String,
    /// Rule id.
    pub rule: String,
    /// File path.
    pub path: String,
    /// Line at this check.
    pub line: i32,
    /// Workload, when known.
    pub workload: Option<String>,
    /// Container, when known.
    pub container: Option<String>,
    /// Severity name.
    pub severity: String,
    /// Exempted by a suppression.
    pub suppressed: bool,
    /// An inline comment exists (posted now or before).
    pub commented: bool,
}

/// Counts of one check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Files analysed.
    pub files_checked: i32,
    /// Units found.
    pub units: i32,
    /// Units read-only.
    pub read_only: i32,
    /// Units suppressed.
    pub suppressed: i32,
    /// Unsuppressed findings.
    pub findings: i32,
    /// Unsuppressed findings in the diff.
    pub in_diff: i32,
    /// Inline comments posted by this check.
    pub comments: i32,
}

/// The check of one head commit, creating it on first sight. Returns its id and the check
/// run already created for it (a retried job reuses it instead of making a second one).
///
/// `rerun` (someone pressed "Re-run"): a check that had finished starts over without its
/// check run, so a new one is made, as GitHub expects; a retried re-run job then finds the
/// check unfinished and reuses that new run.
pub async fn start_check(
    pool: &PgPool,
    repo_id: i64,
    number: i64,
    head_sha: &str,
    rerun: bool,
) -> sqlx::Result<StartedCheck> {
    let pr: (i64,) = sqlx::query_as(
        "insert into pull_requests (repository_id, number, head_sha) values ($1, $2, $3)
         on conflict (repository_id, number) do update set head_sha = excluded.head_sha
         returning id",
    )
    .bind(repo_id)
    .bind(number)
    .bind(head_sha)
    .fetch_one(pool)
    .await?;
    // `xmax = 0` only on a row this statement inserted.
    let (id, check_run, inserted, started_us): (i64, Option<i64>, bool, i64) = sqlx::query_as(
        "insert into checks (repository_id, pull_request_id, head_sha) values ($1, $2, $3)
         on conflict (pull_request_id, head_sha) do update set
             started_at = case when $4 and checks.finished_at is not null
                               then now() else checks.started_at end,
             check_run_id = case when $4 and checks.finished_at is not null
                                 then null else checks.check_run_id end,
             finished_at = case when $4 then null else checks.finished_at end
         returning id, check_run_id, xmax = 0,
                   (extract(epoch from started_at) * 1000000)::bigint",
    )
    .bind(repo_id)
    .bind(pr.0)
    .bind(head_sha)
    .bind(rerun)
    .fetch_one(pool)
    .await?;
    Ok(StartedCheck {
        id,
        check_run,
        key: format!("immutabot-{id}-{started_us}"),
        maybe_made: !inserted,
    })
}

/// A check as a review attempt starts it.
#[derive(Debug, Clone)]
pub struct StartedCheck {
    /// The check's id.
    pub id: i64,
    /// The check run recorded for it.
    pub check_run: Option<i64>,
    /// Marks the check run made for this check (until a re-run starts it over), so that one
    /// made by an earlier attempt whose record was lost can be found.
    pub key: String,
    /// The check existed before this attempt: a check run may have been made for it without
    /// being recorded (the database went away in between).
    pub maybe_made: bool,
}

/// Remembers the check run created for a check.
pub async fn set_check_run(pool: &PgPool, check_id: i64, check_run_id: i64) -> sqlx::Result<()> {
    sqlx::query("update checks set check_run_id = $2 where id = $1")
        .bind(check_id)
        .bind(check_run_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends a check: its counts and conclusion, every current finding upserted, and the pull
/// request's open findings that are gone marked fixed. Returns the fingerprints newly fixed.
pub async fn finish_check(
    pool: &PgPool,
    check_id: i64,
    conclusion: &str,
    counts: &CheckCounts,
    findings: &[FindingRecord],
) -> sqlx::Result<Vec<String>> {
    let mut tx = pool.begin().await?;
    let (repo_id, pr_id): (i64, i64) = sqlx::query_as(
        "update checks set finished_at = now(),
                duration_ms = (extract(epoch from (now() - started_at)) * 1000)::int,
                conclusion = $2, files_checked = $3, units = $4, read_only = $5,
                suppressed = $6, findings = $7, in_diff = $8, comments = $9
          where id = $1 returning repository_id, pull_request_id",
    )
    .bind(check_id)
    .bind(conclusion)
    .bind(counts.files_checked)
    .bind(counts.units)
    .bind(counts.read_only)
    .bind(counts.suppressed)
    .bind(counts.findings)
    .bind(counts.in_diff)
    .bind(counts.comments)
    .fetch_one(&mut *tx)
    .await?;
    for f in findings {
        sqlx::query(
            "insert into findings (repository_id, pull_request_id, fingerprint, rule, path, line,
                 workload, container, severity, state, commented, first_check_id, last_check_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
             on conflict (pull_request_id, fingerprint) do update set
                 line = excluded.line, severity = excluded.severity, state = excluded.state,
                 commented = findings.commented or excluded.commented,
                 last_check_id = excluded.last_check_id, last_seen_at = now(),
                 fixed_check_id = null, fixed_at = null",
        )
        .bind(repo_id)
        .bind(pr_id)
        .bind(&f.fingerprint)
        .bind(&f.rule)
        .bind(&f.path)
        .bind(f.line)
        .bind(&f.workload)
        .bind(&f.container)
        .bind(&f.severity)
        .bind(if f.suppressed { "suppressed" } else { "open" })
        .bind(f.commented)
        .bind(check_id)
        .execute(&mut *tx)
        .await?;
    }
    let current: Vec<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let fixed: Vec<(String,)> = sqlx::query_as(
        "update findings set state = 'fixed', fixed_check_id = $2, fixed_at = now()
          where pull_request_id = $1 and state <> 'fixed' and not (fingerprint = any($3))
      returning fingerprint",
    )
    .bind(pr_id)
    .bind(check_id)
    .bind(&current)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(fixed.into_iter().map(|(f,)| f).collect())
}

/// Records a closed (or merged) pull request.
pub async fn close_pull_request(
    tx: &mut Tx<'_>,
    repo_id: i64,
    number: i64,
    merged: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into pull_requests (repository_id, number, head_sha, state, closed_at)
         values ($1, $2, '', $3, now())
         on conflict (repository_id, number)
         do update set state = excluded.state, closed_at = now()",
    )
    .bind(repo_id)
    .bind(number)
    .bind(if merged { "merged" } else { "closed" })
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The open pull requests of a repository whose head is `head_sha`, by number.
pub async fn open_at_head(tx: &mut Tx<'_>, repo_id: i64, head_sha: &str) -> sqlx::Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "select number from pull_requests
          where repository_id = $1 and head_sha = $2 and state = 'open' order by number",
    )
    .bind(repo_id)
    .bind(head_sha)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}
