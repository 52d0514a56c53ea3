//! Recording a GitLab delivery: the delivery row and its job, in one transaction, like a
//! GitHub one. The project's own row is written by the job, which can ask GitLab for the
//! project's group; intake answers within GitLab's timeout without calling GitLab.

use super::intake::Intake;
use super::outage::Outage;
use crate::forge::gitlab::webhook::GitLabEvent;
use crate::ids::{PrNumber, ProjectPath};
use crate::queue::job::{ForgeRepo, ReviewJob, ScanJob};
use crate::queue::{self, Job};
use crate::storage::deliveries::{self, DeliveryRow};
use sqlx::{Connection, PgPool};

/// The headers that identify a GitLab delivery.
#[derive(Debug, Clone)]
pub struct GitLabDelivery<'a> {
    /// What dedupes it: `X-Gitlab-Event-UUID`, else the project, request and head.
    pub guid: &'a str,
    /// `X-Gitlab-Event`.
    pub event: &'a str,
    /// The merge request's action, when it has one.
    pub action: Option<&'a str>,
}

/// Records a delivery and queues its job, atomically; the connection comes from `db`, within
/// intake's bound.
pub async fn record(db: &Outage, d: &GitLabDelivery<'_>, job: &Job) -> sqlx::Result<Intake> {
    let mut conn = db.acquire().await?;
    let mut tx = conn.begin().await?;
    let row = DeliveryRow {
        guid: d.guid,
        event: d.event,
        action: d.action,
        installation: None,
        repository: Some(&job_repo(job).display_name()),
        outcome: "queued",
        detail: None,
    };
    if !deliveries::insert(&mut *tx, &row).await? {
        return Ok(Intake::Duplicate);
    }
    let queued = queue::enqueue(&mut tx, Some(d.guid), job).await?;
    if queued.is_none() {
        deliveries::note_already_queued(&mut tx, d.guid).await?;
    }
    tx.commit().await?;
    Ok(match queued {
        Some(id) => Intake::Queued(id),
        None => Intake::AlreadyQueued,
    })
}

/// Records a delivery with GitLab's token that we could not read, so that it is kept rather
/// than dropped: under its `Idempotency-Key` when it has one, else under a digest of its
/// body (the same bad body sent again is one row). `false` when it was recorded before.
pub async fn record_invalid(
    pool: &PgPool,
    uuid: Option<&str>,
    event: &str,
    body: &[u8],
    why: &str,
) -> sqlx::Result<bool> {
    use sha2::Digest;
    let guid = match uuid.map(str::trim).filter(|u| !u.is_empty()) {
        Some(uuid) => format!("gitlab:{uuid}"),
        None => format!(
            "gitlab:invalid:{}",
            hex::encode(&sha2::Sha256::digest(body)[..16])
        ),
    };
    let row = DeliveryRow {
        guid: &guid,
        event,
        action: None,
        installation: None,
        repository: None,
        outcome: "invalid",
        detail: Some(why),
    };
    deliveries::insert(pool, &row).await
}

/// The job an event asks for; `None` for an event we ignore, an error for a project path
/// no GitLab allows.
pub fn job_of(event: &GitLabEvent) -> Result<Option<Job>, String> {
    Ok(match event {
        GitLabEvent::Review(mr) => Some(Job::ReviewPullRequest(ReviewJob {
            repo: ForgeRepo::GitLab {
                project_id: mr.project_id,
                path: ProjectPath::parse(&mr.project_path)?,
            },
            number: PrNumber(mr.iid.0),
            head_sha: mr.head_sha.clone(),
            base_sha: None,
            base_ref: Some(mr.target_branch.clone()),
            rerun: false,
        })),
        GitLabEvent::Push(push) => Some(Job::ScanRepository(ScanJob {
            repo: ForgeRepo::GitLab {
                project_id: push.project_id,
                path: ProjectPath::parse(&push.project_path)?,
            },
            commit: Some(push.after.clone()),
            branch: Some(push.default_branch.clone()),
        })),
        GitLabEvent::Ignored(_) => None,
    })
}

fn job_repo(job: &Job) -> &ForgeRepo {
    match job {
        Job::ReviewPullRequest(r) => &r.repo,
        Job::ScanRepository(s) => &s.repo,
        Job::FixPullRequest(f) => &f.repo,
    }
}

/// The event's action, for the delivery log.
pub fn action_of(event: &GitLabEvent) -> Option<&str> {
    match event {
        GitLabEvent::Review(mr) => Some(mr.action.as_str()),
        _ => None,
    }
}
