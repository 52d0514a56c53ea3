//! Recording a delivery: the delivery row, the facts it carries, and its job, in one
//! transaction. Once this commits, the delivery may be acknowledged: nothing can be lost.

use crate::forge::github::webhook::event::{Event, Installation, Repo, ReviewRequest, ScanRequest};
use crate::forge::github::webhook::rerun::RerunRequest;
use crate::ids::{CommitSha, InstallationId, JobId};
use crate::queue::{self, NewJob};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// A job was queued.
    Queued(JobId),
    /// The same work was already pending; the delivery is recorded.
    AlreadyQueued,
    /// Facts recorded (installations, repositories, a closed pull request); no job.
    Recorded,
    /// Nothing to do; recorded with the reason.
    Ignored,
    /// This delivery id was seen before: nothing new was done.
    Duplicate,
}

impl Intake {
    /// A short label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Intake::Queued(_) => "queued",
            Intake::AlreadyQueued => "already_queued",
            Intake::Recorded => "recorded",
            Intake::Ignored => "ignored",
            Intake::Duplicate => "duplicate",
        }
    }
}

/// The headers that identify a delivery.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    /// `X-GitHub-Delivery`.
    pub guid: &'a str,
    /// `X-GitHub-Event`.
    pub event: &'a str,
    /// The payload's `action`.
    pub action: Option<&'a str>,
}

/// The dedupe key of a pull request's review jobs.
pub fn pr_key(repo_id: i64, number: i64) -> String {
    format!("pr:{repo_id}#{number}")
}

/// Records a signed delivery we could not read, so that it is kept rather than dropped.
/// `false` when the delivery id was already recorded.
pub async fn record_invalid(pool: &PgPool, d: &Delivery<'_>, why: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into deliveries (guid, event, action, outcome, detail)
         values ($1, $2, $3, 'invalid', $4) on conflict (guid) do nothing",
    )
    .bind(d.guid)
    .bind(d.event)
    .bind(d.action)
    .bind(why)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a delivery and does what its event asks, atomically.
pub async fn record(pool: &PgPool, d: &Delivery<'_>, event: &Event) -> sqlx::Result<Intake> {
    if let Event::Review(r) = event {
        return review_in_one_round_trip(pool, d, r).await;
    }
    let mut tx = pool.begin().await?;
    let (outcome, detail, installation, repository) = match event {
        Event::Review(r) => (
            "queued",
            None,
            Some(r.installation.0),
            Some(r.repo.name.to_string()),
        ),
        Event::Closed {
            repo, installation, ..
        } => (
            "recorded",
            None,
            Some(installation.0),
            Some(repo.name.to_string()),
        ),
        Event::Rerun(r) => (
            "queued",
            None,
            Some(r.installation.0),
            Some(r.repo.name.to_string()),
        ),
        Event::Scan(s) => (
            "queued",
            None,
            Some(s.installation.0),
            Some(s.repo.name.to_string()),
        ),
        Event::Installation {
            action,
            installation,
            repos,
        } => {
            let scans = action == "created" && !repos.is_empty();
            let outcome = if scans { "queued" } else { "recorded" };
            (outcome, None, Some(installation.id.0), None)
        }
        Event::InstallationRepositories {
            installation,
            added,
            ..
        } => {
            let outcome = if added.is_empty() {
                "recorded"
            } else {
                "queued"
            };
            (outcome, None, Some(installation.id.0), None)
        }
        Event::Ignored(why) => ("ignored", Some(why.as_str()), None, None),
    };
    let inserted: Option<(String,)> = sqlx::query_as(
        "insert into deliveries (guid, event, action, installation_id, repository, outcome, detail)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (guid) do nothing returning guid",
    )
    .bind(d.guid)
    .bind(d.event)
    .bind(d.action)
    .bind(installation)
    .bind(&repository)
    .bind(outcome)
    .bind(detail)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        return Ok(Intake::Duplicate);
    }
    let result = match event {
        // Returned above, before the transaction began.
        Event::Review(_) => unreachable!("reviews are recorded by review_in_one_round_trip"),
        Event::Scan(s) => push(&mut tx, d.guid, s).await?,
        Event::Rerun(r) => rerun(&mut tx, d.guid, r).await?,
        Event::Closed {
            repo,
            installation,
            number,
            merged,
        } => {
            upsert_installation_stub(&mut tx, installation.0, repo.name.owner()).await?;
            upsert_repo(&mut tx, installation.0, repo).await?;
            sqlx::query(
                "insert into pull_requests (repository_id, number, head_sha, state, closed_at)
                 values ($1, $2, '', $3, now())
                 on conflict (repository_id, number)
                 do update set state = excluded.state, closed_at = now()",
            )
            .bind(repo.id)
            .bind(number.0)
            .bind(if *merged { "merged" } else { "closed" })
            .execute(&mut *tx)
            .await?;
            queue::cancel_pending(&mut tx, &pr_key(repo.id, number.0), "pull request closed")
                .await?;
            Intake::Recorded
        }
        Event::Installation {
            action,
            installation,
            repos,
        } => {
            upsert_installation(&mut tx, installation, action).await?;
            for repo in repos {
                upsert_repo(&mut tx, installation.id.0, repo).await?;
            }
            if action == "created" {
                scan_all(&mut tx, d.guid, installation.id, repos).await?
            } else {
                Intake::Recorded
            }
        }
        Event::InstallationRepositories {
            installation,
            added,
            removed,
        } => {
            upsert_installation(&mut tx, installation, "repositories").await?;
            for repo in added {
                upsert_repo(&mut tx, installation.id.0, repo).await?;
            }
            let queued = scan_all(&mut tx, d.guid, installation.id, added).await?;
            for repo in removed {
                // Recorded even when never seen, so the report knows it left.
                upsert_repo(&mut tx, installation.id.0, repo).await?;
                sqlx::query("update repositories set removed_at = now() where id = $1")
                    .bind(repo.id)
                    .execute(&mut *tx)
                    .await?;
            }
            queued
        }
        Event::Ignored(_) => Intake::Ignored,
    };
    tx.commit().await?;
    Ok(result)
}

/// The common case, a pull request to review, as one statement: a batch of one.
pub async fn review_in_one_round_trip<'e>(
    db: impl sqlx::PgExecutor<'e>,
    d: &Delivery<'_>,
    r: &ReviewRequest,
) -> sqlx::Result<Intake> {
    let mut results = reviews_in_one_round_trip(db, &[(d.clone(), r)]).await?;
    results.pop().ok_or(sqlx::Error::RowNotFound)
}

/// Many pull-request deliveries as one statement, in its own transaction (group commit: see
/// the migration that defines `immutabot_intake_reviews`). One result per delivery, in order.
pub async fn reviews_in_one_round_trip<'e>(
    db: impl sqlx::PgExecutor<'e>,
    batch: &[(Delivery<'_>, &ReviewRequest)],
) -> sqlx::Result<Vec<Intake>> {
    let (payloads, keys): (Vec<serde_json::Value>, Vec<Option<String>>) = batch
        .iter()
        .map(|(_, r)| {
            let job = review_job(r);
            (job.payload, job.dedupe_key)
        })
        .unzip();
    let column = |f: &dyn Fn(&Delivery, &ReviewRequest) -> Option<String>| -> Vec<Option<String>> {
        batch.iter().map(|(d, r)| f(d, r)).collect()
    };
    let (results,): (Vec<String>,) = sqlx::query_as(
        "select immutabot_intake_reviews($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(column(&|d, _| Some(d.guid.to_string())))
    .bind(column(&|d, _| Some(d.event.to_string())))
    .bind(column(&|d, _| d.action.map(str::to_string)))
    .bind(
        batch
            .iter()
            .map(|(_, r)| r.installation.0)
            .collect::<Vec<i64>>(),
    )
    .bind(batch.iter().map(|(_, r)| r.repo.id).collect::<Vec<i64>>())
    .bind(column(&|_, r| Some(r.repo.name.owner().to_string())))
    .bind(column(&|_, r| Some(r.repo.name.name().to_string())))
    .bind(column(&|_, r| r.repo.default_branch.clone()))
    .bind(
        batch
            .iter()
            .map(|(_, r)| r.repo.private)
            .collect::<Vec<bool>>(),
    )
    .bind(batch.iter().map(|(_, r)| r.number.0).collect::<Vec<i64>>())
    .bind(column(&|_, r| Some(r.head_sha.to_string())))
    .bind(payloads)
    .bind(keys)
    .fetch_one(db)
    .await?;
    if results.len() != batch.len() {
        return Err(sqlx::Error::Protocol(format!(
            "immutabot_intake_reviews answered {} results for {} deliveries",
            results.len(),
            batch.len()
        )));
    }
    Ok(results.iter().map(|r| from_label(r)).collect())
}

/// Reads the intake functions' answer: `duplicate`, `already_queued` or `queued:<job id>`.
fn from_label(result: &str) -> Intake {
    match result {
        "duplicate" => Intake::Duplicate,
        "already_queued" => Intake::AlreadyQueued,
        queued => Intake::Queued(JobId(
            queued
                .trim_start_matches("queued:")
                .parse()
                .unwrap_or_default(),
        )),
    }
}

fn review_job(r: &ReviewRequest) -> NewJob {
    let mut job = pr_review_job(r.installation, &r.repo, r.number.0, &r.head_sha);
    job.payload["base_sha"] = r.base_sha.as_str().into();
    job.payload["base_ref"] = r.base_ref.as_str().into();
    job
}

/// The review job of one pull request at one head (what `jobs::review` reads).
fn pr_review_job(
    installation: InstallationId,
    repo: &Repo,
    number: i64,
    head: &CommitSha,
) -> NewJob {
    NewJob {
        kind: queue::kind::REVIEW,
        payload: json!({
            "installation": installation.0,
            "repo_id": repo.id,
            "repo": repo.name.to_string(),
            "number": number,
            "head_sha": head.as_str(),
        }),
        dedupe_key: Some(pr_key(repo.id, number)),
        head_sha: Some(head.to_string()),
    }
}

/// "Re-run" on our check: a review of each open pull request whose head is the commit, found
/// in our records (the event's own list leaves out pull requests from forks). `Ignored`, with
/// the reason on the delivery, when none is known.
async fn rerun(
    tx: &mut Transaction<'_, Postgres>,
    guid: &str,
    r: &RerunRequest,
) -> sqlx::Result<Intake> {
    upsert_installation_stub(tx, r.installation.0, r.repo.name.owner()).await?;
    upsert_repo(tx, r.installation.0, &r.repo).await?;
    let numbers: Vec<(i64,)> = sqlx::query_as(
        "select number from pull_requests
          where repository_id = $1 and head_sha = $2 and state = 'open' order by number",
    )
    .bind(r.repo.id)
    .bind(r.head_sha.as_str())
    .fetch_all(&mut **tx)
    .await?;
    if numbers.is_empty() {
        sqlx::query("update deliveries set outcome = 'ignored', detail = $2 where guid = $1")
            .bind(guid)
            .bind(format!(
                "no open pull request with head {} is known",
                r.head_sha.as_str()
            ))
            .execute(&mut **tx)
            .await?;
        return Ok(Intake::Ignored);
    }
    let mut first = None;
    for (number,) in numbers {
        let mut job = pr_review_job(r.installation, &r.repo, number, &r.head_sha);
        job.payload["rerun"] = true.into();
        let id = queue::enqueue(tx, Some(guid), &job).await?;
        first = first.or(id);
    }
    Ok(first.map_or(Intake::AlreadyQueued, Intake::Queued))
}

/// A push to the default branch: a scan of the pushed commit, superseding a pending scan of
/// an older one.
async fn push(
    tx: &mut Transaction<'_, Postgres>,
    guid: &str,
    s: &ScanRequest,
) -> sqlx::Result<Intake> {
    upsert_installation_stub(tx, s.installation.0, s.repo.name.owner()).await?;
    upsert_repo(tx, s.installation.0, &s.repo).await?;
    let job = crate::scan::enqueue::job(
        s.installation,
        s.repo.id,
        &s.repo.name,
        Some(&s.commit),
        s.repo.default_branch.as_deref(),
    );
    Ok(match queue::enqueue(tx, Some(guid), &job).await? {
        Some(id) => Intake::Queued(id),
        None => Intake::AlreadyQueued,
    })
}

/// A scan of each repository at its default branch's head (installation events name no
/// commit). `Recorded` when there were none.
async fn scan_all(
    tx: &mut Transaction<'_, Postgres>,
    guid: &str,
    installation: InstallationId,
    repos: &[Repo],
) -> sqlx::Result<Intake> {
    let mut first = None;
    for r in repos {
        let job = crate::scan::enqueue::job(installation, r.id, &r.name, None, None);
        let id = queue::enqueue(tx, Some(guid), &job).await?;
        first = first.or(id);
    }
    Ok(match (first, repos.is_empty()) {
        (Some(id), _) => Intake::Queued(id),
        (None, true) => Intake::Recorded,
        (None, false) => Intake::AlreadyQueued,
    })
}

/// Pull-request events do not name the account; the owner is a good stand-in until an
/// installation event says more.
async fn upsert_installation_stub(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    owner: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into installations (id, account_login) values ($1, $2) on conflict (id) do nothing",
    )
    .bind(id)
    .bind(owner)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_installation(
    tx: &mut Transaction<'_, Postgres>,
    i: &Installation,
    action: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into installations (id, account_login, account_type) values ($1, $2, $3)
         on conflict (id) do update set account_login = excluded.account_login,
             account_type = excluded.account_type, updated_at = now(),
             deleted_at = case when $4 = 'deleted' then now()
                               when $4 = 'created' then null else installations.deleted_at end,
             suspended_at = case when $4 = 'suspend' then now()
                                 when $4 = 'unsuspend' then null else installations.suspended_at end",
    )
    .bind(i.id.0)
    .bind(&i.account_login)
    .bind(&i.account_type)
    .bind(action)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn upsert_repo(
    tx: &mut Transaction<'_, Postgres>,
    installation: i64,
    r: &Repo,
) -> sqlx::Result<()> {
    // Every delivery of a repository names it; writing its row each time would make all of
    // them queue on one row lock until commit. Write only what is new or changed.
    let same: Option<(bool,)> = sqlx::query_as(
        "select true from repositories
          where id = $1 and installation_id is not distinct from $2 and owner = $3 and name = $4
            and ($5::text is null or default_branch is not distinct from $5)
            and private = $6 and removed_at is null",
    )
    .bind(r.id)
    .bind(installation)
    .bind(r.name.owner())
    .bind(r.name.name())
    .bind(&r.default_branch)
    .bind(r.private)
    .fetch_optional(&mut **tx)
    .await?;
    if same.is_some() {
        return Ok(());
    }
    write_repository(
        &mut **tx,
        installation,
        r.id,
        &r.name,
        r.default_branch.as_deref(),
        r.private,
    )
    .await
}

/// Inserts or updates a repository's row (and marks it present again).
pub async fn write_repository<'e>(
    db: impl sqlx::PgExecutor<'e>,
    installation: i64,
    id: i64,
    name: &crate::ids::RepoName,
    default_branch: Option<&str>,
    private: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into repositories (id, installation_id, owner, name, default_branch, private)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (id) do update set installation_id = excluded.installation_id,
             owner = excluded.owner, name = excluded.name,
             default_branch = coalesce(excluded.default_branch, repositories.default_branch),
             private = excluded.private, removed_at = null",
    )
    .bind(id)
    .bind(installation)
    .bind(name.owner())
    .bind(name.name())
    .bind(default_branch)
    .bind(private)
    .execute(db)
    .await?;
    Ok(())
}
