//! Exemptions on `unit_states` (`exempt_kind`, `exempt_reason`, `exempt_expires`): written
//! with a scan's new rows, read by the report's exemptions list.

use super::Tx;
use crate::scan::snapshot::UnitRow;
use chrono::NaiveDate;
use sqlx::PgPool;

/// Records the exemption of each of this scan's new rows that has one.
pub async fn record(
    tx: &mut Tx<'_>,
    repo_id: i64,
    scan_id: i64,
    rows: &[&UnitRow],
) -> sqlx::Result<()> {
    let exempt: Vec<(&UnitRow, &crate::scan::snapshot::Exempt)> = rows
        .iter()
        .filter_map(|r| Some((*r, r.exempt.as_ref()?)))
        .collect();
    if exempt.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = exempt.iter().map(|(r, _)| r.unit_key.as_str()).collect();
    let kinds: Vec<&str> = exempt.iter().map(|(_, e)| e.kind).collect();
    let reasons: Vec<&str> = exempt.iter().map(|(_, e)| e.reason.as_str()).collect();
    let expires: Vec<Option<NaiveDate>> = exempt.iter().map(|(_, e)| e.expires).collect();
    sqlx::query(
        "update unit_states u
            set exempt_kind = e.kind, exempt_reason = e.reason, exempt_expires = e.expires
           from unnest($3::text[], $4::text[], $5::text[], $6::date[])
                as e (unit_key, kind, reason, expires)
          where u.repository_id = $1 and u.valid_from_scan = $2 and u.valid_to is null
            and u.unit_key = e.unit_key",
    )
    .bind(repo_id)
    .bind(scan_id)
    .bind(&keys)
    .bind(&kinds)
    .bind(&reasons)
    .bind(&expires)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A current unit with an exemption, live or lapsed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExemptionRow {
    /// The repository's row id.
    pub repository_id: i64,
    /// File path.
    pub path: String,
    /// Line in `commit_sha`.
    pub line: i32,
    /// Workload.
    pub workload: String,
    /// Container.
    pub container: Option<String>,
    /// `comment`, `annotation` or `config`.
    pub kind: String,
    /// The reason given.
    pub reason: String,
    /// Its last day, if it has one.
    pub expires: Option<NaiveDate>,
    /// The unit's state (`suppressed` while the exemption holds).
    pub state: String,
    /// The commit of the scan the state is valid from.
    pub commit_sha: String,
    /// The unit's owners (CODEOWNERS).
    pub owners: Vec<String>,
}

/// The current exemptions of the repositories `ids`: the soonest to lapse first.
pub async fn current(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<ExemptionRow>> {
    sqlx::query_as(
        "select u.repository_id, u.path, u.line, u.workload, u.container,
                u.exempt_kind as kind, coalesce(u.exempt_reason, '') as reason,
                u.exempt_expires as expires, u.state, s.commit_sha, u.owners
           from unit_states u join scans s on s.id = u.valid_from_scan
          where u.repository_id = any($1) and u.valid_to is null and u.exempt_kind is not null
          order by u.exempt_expires nulls last, u.repository_id, u.path, u.line, u.workload,
                   u.container nulls first",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}
