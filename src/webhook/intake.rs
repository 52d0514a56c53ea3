//! Recording a delivery: the delivery row, the facts it carries, and its job, in one
//! transaction. Once this commits, the delivery may be acknowledged: nothing can be lost.

use super::outage::Outage;
use crate::forge::github::webhook::event::{Event, Installation, Repo, ReviewRequest, ScanRequest};
use crate::forge::github::webhook::rerun::RerunRequest;
use crate::ids::{CommitSha, Forge, InstallationId, JobId, PrNumber, RepoId};
use crate::queue::job::{ForgeRepo, Job, ReviewJob, pr_key_for};
use crate::queue::{self};
use crate::storage::deliveries::{self, DeliveryRow, ReviewIntake};
use crate::storage::repositories::{self, InstallationRow, RepoRow};
use crate::storage::{Tx, checks};
use sqlx::Connection;

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

/// Records a signed delivery we could not read, so that it is kept rather than dropped.
/// `false` when the delivery id was already recorded.
pub async fn record_invalid(db: &Outage, d: &Delivery<'_>, why: &str) -> sqlx::Result<bool> {
    let row = DeliveryRow {
        guid: d.guid,
        event: d.event,
        action: d.action,
        installation: None,
        repository: None,
        outcome: "invalid",
        detail: Some(why),
    };
    let mut conn = db.acquire().await?;
    deliveries::insert(&mut *conn, &row).await
}

/// Records a delivery and does what its event asks, atomically; the connection comes from
/// `db`, within intake's bound.
pub async fn record(db: &Outage, d: &Delivery<'_>, event: &Event) -> sqlx::Result<Intake> {
    let mut conn = db.acquire().await?;
    if let Event::Review(r) = event {
        return review_in_one_round_trip(&mut *conn, d, r).await;
    }
    let mut tx = conn.begin().await?;
    let about = About::of(event);
    if !deliveries::insert(&mut *tx, &about.row(d)).await? {
        return Ok(Intake::Duplicate);
    }
    let result = act(&mut tx, d.guid, event).await?;
    tx.commit().await?;
    Ok(result)
}

/// What the delivery row says of an event.
struct About<'a> {
    outcome: &'static str,
    detail: Option<&'a str>,
    installation: Option<InstallationId>,
    repository: Option<String>,
}

impl<'a> About<'a> {
    fn of(event: &'a Event) -> About<'a> {
        let repo = |outcome, installation: InstallationId, repo: &Repo| About {
            outcome,
            detail: None,
            installation: Some(installation),
            repository: Some(repo.name.to_string()),
        };
        let account = |queues: bool, i: &Installation| About {
            outcome: if queues { "queued" } else { "recorded" },
            detail: None,
            installation: Some(i.id),
            repository: None,
        };
        match event {
            Event::Review(r) => repo("queued", r.installation, &r.repo),
            Event::Rerun(r) => repo("queued", r.installation, &r.repo),
            Event::Scan(s) => repo("queued", s.installation, &s.repo),
            Event::Closed {
                repo: r,
                installation,
                ..
            } => repo("recorded", *installation, r),
            Event::Installation {
                action,
                installation,
                repos,
            } => account(action == "created" && !repos.is_empty(), installation),
            Event::InstallationRepositories {
                installation,
                added,
                ..
            } => account(!added.is_empty(), installation),
            Event::Ignored(why) => About {
                outcome: "ignored",
                detail: Some(why),
                installation: None,
                repository: None,
            },
        }
    }

    fn row<'d>(&'d self, d: &'d Delivery<'_>) -> DeliveryRow<'d> {
        DeliveryRow {
            guid: d.guid,
            event: d.event,
            action: d.action,
            installation: self.installation.map(|i| i.0),
            repository: self.repository.as_deref(),
            outcome: self.outcome,
            detail: self.detail,
        }
    }
}

/// Does what a recorded (non-review) event asks, inside its delivery's transaction.
async fn act(tx: &mut Tx<'_>, guid: &str, event: &Event) -> sqlx::Result<Intake> {
    match event {
        // Returned by `record` before the transaction began.
        Event::Review(_) => unreachable!("reviews are recorded by review_in_one_round_trip"),
        Event::Scan(s) => push(tx, guid, s).await,
        Event::Rerun(r) => rerun(tx, guid, r).await,
        Event::Closed {
            repo,
            installation,
            number,
            merged,
        } => closed(tx, *installation, repo, *number, *merged).await,
        Event::Installation {
            action,
            installation,
            repos,
        } => installation_changed(tx, guid, installation, action, repos).await,
        Event::InstallationRepositories {
            installation,
            added,
            removed,
        } => repositories_changed(tx, guid, installation, added, removed).await,
        Event::Ignored(_) => Ok(Intake::Ignored),
    }
}

/// A closed pull request: recorded, and its pending reviews are moot.
async fn closed(
    tx: &mut Tx<'_>,
    installation: InstallationId,
    repo: &Repo,
    number: PrNumber,
    merged: bool,
) -> sqlx::Result<Intake> {
    see_repo(tx, installation, repo).await?;
    checks::close_pull_request(tx, repo.id, number.0, merged).await?;
    let key = pr_key_for(Forge::GitHub, repo.id, number);
    queue::cancel_pending(tx, &key, "pull request closed").await?;
    Ok(Intake::Recorded)
}

/// An installation event: the account and its repositories; on `created`, a scan of each.
async fn installation_changed(
    tx: &mut Tx<'_>,
    guid: &str,
    installation: &Installation,
    action: &str,
    repos: &[Repo],
) -> sqlx::Result<Intake> {
    upsert_installation(tx, installation, action).await?;
    for repo in repos {
        upsert_repo(tx, installation.id, repo).await?;
    }
    if action == "created" {
        scan_all(tx, guid, installation.id, repos).await
    } else {
        Ok(Intake::Recorded)
    }
}

/// Repositories added to (scanned) or removed from (marked, kept) an installation.
async fn repositories_changed(
    tx: &mut Tx<'_>,
    guid: &str,
    installation: &Installation,
    added: &[Repo],
    removed: &[Repo],
) -> sqlx::Result<Intake> {
    upsert_installation(tx, installation, "repositories").await?;
    for repo in added {
        upsert_repo(tx, installation.id, repo).await?;
    }
    let queued = scan_all(tx, guid, installation.id, added).await?;
    for repo in removed {
        // Recorded even when never seen, so the report knows it left.
        upsert_repo(tx, installation.id, repo).await?;
        repositories::mark_removed(tx, repo.id).await?;
    }
    Ok(queued)
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
    let rows: Vec<ReviewIntake> = batch.iter().map(|(d, r)| intake_row(d, r)).collect();
    let results = deliveries::intake_reviews(db, &rows).await?;
    if results.len() != batch.len() {
        return Err(sqlx::Error::Protocol(format!(
            "immutabot_intake_reviews answered {} results for {} deliveries",
            results.len(),
            batch.len()
        )));
    }
    Ok(results.iter().map(|r| from_label(r)).collect())
}

/// One delivery's row for the batch intake, its review job in stored form.
fn intake_row<'a>(d: &Delivery<'a>, r: &'a ReviewRequest) -> ReviewIntake<'a> {
    let job = review_job(r);
    ReviewIntake {
        guid: d.guid,
        event: d.event,
        action: d.action,
        installation: r.installation.0,
        repo_id: r.repo.id,
        owner: r.repo.name.owner(),
        name: r.repo.name.name(),
        default_branch: r.repo.default_branch.as_deref(),
        private: r.repo.private,
        number: r.number.0,
        head_sha: r.head_sha.as_str(),
        payload: job.to_payload(),
        key: job.dedupe_key(),
    }
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

/// The review job a pull-request event asks for.
fn review_job(r: &ReviewRequest) -> Job {
    let mut job = pr_review_job(r.installation, &r.repo, r.number, &r.head_sha);
    job.base_sha = Some(r.base_sha.clone());
    job.base_ref = Some(r.base_ref.clone());
    Job::ReviewPullRequest(job)
}

/// The review job of one pull request at one head.
fn pr_review_job(
    installation: InstallationId,
    repo: &Repo,
    number: PrNumber,
    head: &CommitSha,
) -> ReviewJob {
    ReviewJob {
        repo: ForgeRepo::GitHub {
            installation,
            repo_id: RepoId(repo.id),
            repo: repo.name.clone(),
        },
        number,
        head_sha: head.clone(),
        base_sha: None,
        base_ref: None,
        rerun: false,
    }
}

/// "Re-run" on our check: a review of each open pull request whose head is the commit, found
/// in our records (the event's own list leaves out pull requests from forks). `Ignored`, with
/// the reason on the delivery, when none is known.
async fn rerun(tx: &mut Tx<'_>, guid: &str, r: &RerunRequest) -> sqlx::Result<Intake> {
    see_repo(tx, r.installation, &r.repo).await?;
    let numbers = checks::open_at_head(tx, r.repo.id, r.head_sha.as_str()).await?;
    if numbers.is_empty() {
        let why = format!(
            "no open pull request with head {} is known",
            r.head_sha.as_str()
        );
        deliveries::set_ignored(tx, guid, &why).await?;
        return Ok(Intake::Ignored);
    }
    let jobs: Vec<Job> = numbers
        .into_iter()
        .map(|n| {
            let mut job = pr_review_job(r.installation, &r.repo, PrNumber(n), &r.head_sha);
            job.rerun = true;
            Job::ReviewPullRequest(job)
        })
        .collect();
    let ids = queue::enqueue_all(tx, Some(guid), &jobs).await?;
    Ok(first_queued(&ids).map_or(Intake::AlreadyQueued, Intake::Queued))
}

/// A push to the default branch: a scan of the pushed commit, superseding a pending scan of
/// an older one.
async fn push(tx: &mut Tx<'_>, guid: &str, s: &ScanRequest) -> sqlx::Result<Intake> {
    see_repo(tx, s.installation, &s.repo).await?;
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
    tx: &mut Tx<'_>,
    guid: &str,
    installation: InstallationId,
    repos: &[Repo],
) -> sqlx::Result<Intake> {
    let jobs: Vec<Job> = repos
        .iter()
        .map(|r| crate::scan::enqueue::job(installation, r.id, &r.name, None, None))
        .collect();
    let ids = queue::enqueue_all(tx, Some(guid), &jobs).await?;
    Ok(match (first_queued(&ids), repos.is_empty()) {
        (Some(id), _) => Intake::Queued(id),
        (None, true) => Intake::Recorded,
        (None, false) => Intake::AlreadyQueued,
    })
}

fn first_queued(ids: &[Option<JobId>]) -> Option<JobId> {
    ids.iter().flatten().next().copied()
}

/// The installation and repository an event about a repository names. Pull-request and push
/// events do not name the account; the owner is a good stand-in until an installation event
/// says more.
async fn see_repo(tx: &mut Tx<'_>, installation: InstallationId, repo: &Repo) -> sqlx::Result<()> {
    repositories::upsert_installation_stub(tx, installation.0, repo.name.owner()).await?;
    upsert_repo(tx, installation, repo).await
}

async fn upsert_installation(tx: &mut Tx<'_>, i: &Installation, action: &str) -> sqlx::Result<()> {
    let row = InstallationRow {
        id: i.id.0,
        account_login: &i.account_login,
        account_type: &i.account_type,
    };
    repositories::upsert_installation(tx, row, action).await
}

async fn upsert_repo(tx: &mut Tx<'_>, installation: InstallationId, r: &Repo) -> sqlx::Result<()> {
    let row = RepoRow {
        installation: installation.0,
        id: r.id,
        name: &r.name,
        default_branch: r.default_branch.as_deref(),
        private: r.private,
    };
    // Every delivery of a repository names it; writing its row each time would make all of
    // them queue on one row lock until commit. Write only what is new or changed.
    if repositories::is_unchanged(tx, row).await? {
        return Ok(());
    }
    repositories::write(&mut **tx, row).await
}
