//! The `deliveries` and `redeliveries` tables, and the batch intake function that records
//! pull-request deliveries with their jobs.

use super::Tx;
use sqlx::PgPool;
use std::time::Duration;

/// A delivery row as intake writes it.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryRow<'a> {
    /// `X-GitHub-Delivery`.
    pub guid: &'a str,
    /// `X-GitHub-Event`.
    pub event: &'a str,
    /// The payload's `action`.
    pub action: Option<&'a str>,
    /// The installation it names, if any.
    pub installation: Option<i64>,
    /// `owner/name`, if it names a repository.
    pub repository: Option<&'a str>,
    /// `queued`, `recorded`, `ignored` or `invalid`.
    pub outcome: &'a str,
    /// Why, for ignored and invalid ones.
    pub detail: Option<&'a str>,
}

/// Inserts a delivery; `false` when its id was recorded before (nothing written).
pub async fn insert<'e>(db: impl sqlx::PgExecutor<'e>, d: &DeliveryRow<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into deliveries (guid, event, action, installation_id, repository, outcome, detail)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (guid) do nothing",
    )
    .bind(d.guid)
    .bind(d.event)
    .bind(d.action)
    .bind(d.installation)
    .bind(d.repository)
    .bind(d.outcome)
    .bind(d.detail)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Notes on a recorded delivery that its work was already pending (as the batch intake does).
pub async fn note_already_queued(tx: &mut Tx<'_>, guid: &str) -> sqlx::Result<()> {
    sqlx::query("update deliveries set detail = 'already queued' where guid = $1")
        .bind(guid)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks a recorded delivery ignored, with the reason.
pub async fn set_ignored(tx: &mut Tx<'_>, guid: &str, why: &str) -> sqlx::Result<()> {
    sqlx::query("update deliveries set outcome = 'ignored', detail = $2 where guid = $1")
        .bind(guid)
        .bind(why)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// One pull-request delivery for [`intake_reviews`].
#[derive(Debug, Clone)]
pub struct ReviewIntake<'a> {
    /// The delivery.
    pub guid: &'a str,
    /// Its event.
    pub event: &'a str,
    /// Its action.
    pub action: Option<&'a str>,
    /// The installation.
    pub installation: i64,
    /// The repository's id.
    pub repo_id: i64,
    /// Its owner.
    pub owner: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its default branch, when the event names it.
    pub default_branch: Option<&'a str>,
    /// Private repository.
    pub private: bool,
    /// The pull request.
    pub number: i64,
    /// Its head.
    pub head_sha: &'a str,
    /// The review job, stored form.
    pub payload: serde_json::Value,
    /// Its dedupe key.
    pub key: String,
}

/// Records pull-request deliveries and their review jobs in one statement (see the
/// migration that defines `immutabot_intake_reviews`). One answer per delivery, in order:
/// `duplicate`, `already_queued` or `queued:<job id>`.
pub async fn intake_reviews<'e>(
    db: impl sqlx::PgExecutor<'e>,
    batch: &[ReviewIntake<'_>],
) -> sqlx::Result<Vec<String>> {
    fn col<'b, T>(batch: &'b [ReviewIntake<'_>], f: impl Fn(&'b ReviewIntake<'_>) -> T) -> Vec<T> {
        batch.iter().map(f).collect()
    }
    let (results,): (Vec<String>,) = sqlx::query_as(
        "select immutabot_intake_reviews($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(col(batch, |r| r.guid))
    .bind(col(batch, |r| r.event))
    .bind(col(batch, |r| r.action))
    .bind(col(batch, |r| r.installation))
    .bind(col(batch, |r| r.repo_id))
    .bind(col(batch, |r| r.owner))
    .bind(col(batch, |r| r.name))
    .bind(col(batch, |r| r.default_branch))
    .bind(col(batch, |r| r.private))
    .bind(col(batch, |r| r.number))
    .bind(col(batch, |r| r.head_sha))
    .bind(col(batch, |r| r.payload.clone()))
    .bind(col(batch, |r| r.key.as_str()))
    .fetch_one(db)
    .await?;
    Ok(results)
}

/// Whether a delivery is stored, or its redelivery was asked for in the last 15 minutes.
pub async fn have_or_asked(pool: &PgPool, guid: &str) -> sqlx::Result<bool> {
    let (have,): (bool,) = sqlx::query_as(
        "select exists(select 1 from deliveries where guid = $1)
             or exists(select 1 from redeliveries where guid = $1
                        and requested_at > now() - interval '15 minutes')",
    )
    .bind(guid)
    .fetch_one(pool)
    .await?;
    Ok(have)
}

/// Remembers that a redelivery was asked for.
pub async fn note_redelivery(pool: &PgPool, guid: &str, delivery_id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "insert into redeliveries (guid, delivery_id) values ($1, $2)
         on conflict (guid) do update set delivery_id = $2, requested_at = now()",
    )
    .bind(guid)
    .bind(delivery_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes up to `limit` deliveries received more than `keep` ago that no queued or running
/// job refers to; returns how many.
pub async fn prune(pool: &PgPool, keep: Duration, limit: i64) -> sqlx::Result<u64> {
    // Live jobs are few and indexed (the partial indexes of the claim query).
    let delete = "delete from deliveries where guid in (
             select guid from deliveries
              where received_at < now() - make_interval(secs => $1)
                and guid not in (select delivery_guid from jobs
                                  where state in ('queued', 'running')
                                    and delivery_guid is not null)
              limit $2)";
    super::delete_older(pool, delete, keep, limit).await
}
