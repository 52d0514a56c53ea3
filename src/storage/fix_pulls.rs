//! The `fix_pulls` table: the fix-all pull request of each repository, what the bot made on
//! its branch last, and the fingerprint of the patch set it carries.

use sqlx::PgPool;
use std::time::Duration;

/// The fix-all pull request a repository has open, for links from elsewhere (the review,
/// the report).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FixPullRef {
    /// Its number.
    pub number: i64,
    /// Its web address.
    pub url: String,
}

/// What the bot remembers of a repository's fix-all pull request.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FixPullRecord {
    /// Its number.
    pub number: i64,
    /// Its web address.
    pub url: String,
    /// The branch it proposes.
    pub branch: String,
    /// The default branch's head the bot's commit was made on.
    pub base_sha: String,
    /// The commit the bot made last on the branch.
    pub head_sha: String,
    /// The patch set's fingerprint.
    pub fingerprint: String,
    /// `open`, `closed` or `merged`.
    pub state: String,
    /// Whether the bot closed it (nothing left to fix), not a person.
    pub closed_by_us: bool,
    /// The foreign branch head the bot last commented about.
    pub commented_head: Option<String>,
}

/// What a write stores: the pull request and the commit the bot just made.
#[derive(Debug, Clone)]
pub struct Written<'a> {
    /// The repository's row id.
    pub repo_id: i64,
    /// Its installation (for the rate).
    pub installation_id: i64,
    /// The pull request's number.
    pub number: i64,
    /// Its web address.
    pub url: &'a str,
    /// The branch.
    pub branch: &'a str,
    /// The default branch's head the commit was made on.
    pub base_sha: &'a str,
    /// The commit.
    pub head_sha: &'a str,
    /// The patch set's fingerprint.
    pub fingerprint: &'a str,
}

/// The repository's fix-all pull request, when it has one open.
pub async fn open_for(pool: &PgPool, repo_id: i64) -> sqlx::Result<Option<FixPullRef>> {
    sqlx::query_as("select number, url from fix_pulls where repository_id = $1 and state = 'open'")
        .bind(repo_id)
        .fetch_optional(pool)
        .await
}

/// Everything remembered of the repository's fix-all pull request, open or not.
pub async fn get(pool: &PgPool, repo_id: i64) -> sqlx::Result<Option<FixPullRecord>> {
    sqlx::query_as(
        "select number, url, branch, base_sha, head_sha, fingerprint, state, closed_by_us,
                commented_head
           from fix_pulls where repository_id = $1",
    )
    .bind(repo_id)
    .fetch_optional(pool)
    .await
}

/// Records a commit the bot made and the (open) pull request that shows it.
pub async fn record_write(pool: &PgPool, w: &Written<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into fix_pulls (repository_id, installation_id, number, url, branch, base_sha,
                                head_sha, fingerprint, state)
         values ($1, $2, $3, $4, $5, $6, $7, $8, 'open')
         on conflict (repository_id) do update set
             installation_id = excluded.installation_id, number = excluded.number,
             url = excluded.url, branch = excluded.branch, base_sha = excluded.base_sha,
             head_sha = excluded.head_sha, fingerprint = excluded.fingerprint, state = 'open',
             closed_by_us = false, commented_head = null, written_at = now(),
             updated_at = now()",
    )
    .bind(w.repo_id)
    .bind(w.installation_id)
    .bind(w.number)
    .bind(w.url)
    .bind(w.branch)
    .bind(w.base_sha)
    .bind(w.head_sha)
    .bind(w.fingerprint)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records that the pull request is no longer open: `state` is `closed` or `merged`, and
/// `by_us` says whether the bot closed it.
pub async fn record_closed(
    pool: &PgPool,
    repo_id: i64,
    state: &str,
    by_us: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "update fix_pulls set state = $2, closed_by_us = $3, updated_at = now()
          where repository_id = $1",
    )
    .bind(repo_id)
    .bind(state)
    .bind(by_us)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records the foreign branch head the bot commented about.
pub async fn record_comment(pool: &PgPool, repo_id: i64, head: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update fix_pulls set commented_head = $2, updated_at = now() where repository_id = $1",
    )
    .bind(repo_id)
    .bind(head)
    .execute(pool)
    .await?;
    Ok(())
}

/// How many of the installation's repositories other than `repo_id` got a fix-pull commit
/// within `window`.
pub async fn written_since(
    pool: &PgPool,
    installation_id: i64,
    repo_id: i64,
    window: Duration,
) -> sqlx::Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from fix_pulls
          where installation_id = $1 and repository_id <> $2
            and written_at > now() - make_interval(secs => $3)",
    )
    .bind(installation_id)
    .bind(repo_id)
    .bind(window.as_secs_f64())
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// What deciding on a fix-pull job after a scan reads of the repository.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AfterScan {
    /// `github` or `gitlab`.
    pub forge: String,
    /// The forge's own id of it.
    pub forge_id: i64,
    /// Its installation (a GitLab project's group).
    pub installation_id: i64,
    /// Its owner.
    pub owner: String,
    /// Its name.
    pub name: String,
    /// Units writable on the default branch now.
    pub writable: i64,
    /// Whether it has a fix-all pull request open.
    pub open: bool,
}

/// The repository as [`AfterScan`] sees it; `None` when it has no installation.
pub async fn after_scan(pool: &PgPool, repo_id: i64) -> sqlx::Result<Option<AfterScan>> {
    sqlx::query_as(
        "select r.forge, r.forge_id, r.installation_id, r.owner, r.name,
                (select count(*) from unit_states u
                  where u.repository_id = r.id and u.valid_to is null and u.state = 'false')
                    as writable,
                exists (select 1 from fix_pulls f
                         where f.repository_id = r.id and f.state = 'open') as open
           from repositories r
          where r.id = $1 and r.installation_id is not null and r.removed_at is null",
    )
    .bind(repo_id)
    .fetch_optional(pool)
    .await
}
