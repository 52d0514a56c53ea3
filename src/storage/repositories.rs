//! The `installations` and `repositories` tables: who we are installed on and what they
//! hold, on GitHub and on GitLab (see the `forges` migration for how ids are kept apart).

use super::Tx;
use crate::ids::{Forge, ProjectId, ProjectPath, RepoName};
use sqlx::PgPool;
use std::time::Duration;

/// A GitHub repository as an event or a listing names it.
#[derive(Debug, Clone, Copy)]
pub struct RepoRow<'a> {
    /// The installation that reads it.
    pub installation: i64,
    /// GitHub's repository id (the row id).
    pub id: i64,
    /// `owner/name`.
    pub name: &'a RepoName,
    /// Its default branch, when known.
    pub default_branch: Option<&'a str>,
    /// Private repository.
    pub private: bool,
}

/// An installation as its events name it.
#[derive(Debug, Clone, Copy)]
pub struct InstallationRow<'a> {
    /// GitHub's installation id.
    pub id: i64,
    /// The account's login.
    pub account_login: &'a str,
    /// `Organization` or `User`.
    pub account_type: &'a str,
}

/// Records an installation that only its id and owner are known of (pull-request events do
/// not name the account); nothing when it is known.
pub async fn upsert_installation_stub(tx: &mut Tx<'_>, id: i64, owner: &str) -> sqlx::Result<()> {
    sqlx::query(
        "insert into installations (id, account_login) values ($1, $2) on conflict (id) do nothing",
    )
    .bind(id)
    .bind(owner)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records an installation event: `deleted`, `created`, `suspend` and `unsuspend` set or
/// clear the matching time.
pub async fn upsert_installation(
    tx: &mut Tx<'_>,
    i: InstallationRow<'_>,
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
    .bind(i.id)
    .bind(i.account_login)
    .bind(i.account_type)
    .bind(action)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the row already says exactly this (and the repository is present).
pub async fn is_unchanged(tx: &mut Tx<'_>, r: RepoRow<'_>) -> sqlx::Result<bool> {
    let same: Option<(bool,)> = sqlx::query_as(
        "select true from repositories
          where id = $1 and installation_id is not distinct from $2 and owner = $3 and name = $4
            and ($5::text is null or default_branch is not distinct from $5)
            and private = $6 and removed_at is null",
    )
    .bind(r.id)
    .bind(r.installation)
    .bind(r.name.owner())
    .bind(r.name.name())
    .bind(r.default_branch)
    .bind(r.private)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(same.is_some())
}

/// Inserts or updates a GitHub repository's row (and marks it present again).
pub async fn write<'e>(db: impl sqlx::PgExecutor<'e>, r: RepoRow<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into repositories (id, installation_id, owner, name, default_branch, private)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (id) do update set installation_id = excluded.installation_id,
             owner = excluded.owner, name = excluded.name,
             default_branch = coalesce(excluded.default_branch, repositories.default_branch),
             private = excluded.private, removed_at = null",
    )
    .bind(r.id)
    .bind(r.installation)
    .bind(r.name.owner())
    .bind(r.name.name())
    .bind(r.default_branch)
    .bind(r.private)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks a repository removed from its installation (kept, so the report knows it left).
pub async fn mark_removed(tx: &mut Tx<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query("update repositories set removed_at = now() where id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Remembers the default branch the forge named (installation events do not say it).
pub async fn set_default_branch(pool: &PgPool, id: i64, branch: &str) -> sqlx::Result<()> {
    sqlx::query("update repositories set default_branch = $2 where id = $1")
        .bind(id)
        .bind(branch)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ids of the installations that are neither deleted nor suspended.
pub async fn live_installations(pool: &PgPool) -> sqlx::Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "select id from installations
          where forge = 'github' and deleted_at is null and suspended_at is null",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A repository (GitHub) or project (GitLab) that is still installed, with the installation
/// (GitLab: the group) it was found through.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Installed {
    /// Its id.
    pub id: i64,
    /// `github` or `gitlab`.
    pub forge: String,
    /// The forge's own id of it.
    pub forge_id: i64,
    /// The installation (a GitLab project's group).
    pub installation_id: i64,
    /// Its owner.
    pub owner: String,
    /// Its name.
    pub name: String,
}

/// Repositories that are still installed, GitHub's and GitLab's (a literal: sqlx takes only
/// static SQL).
macro_rules! installed {
    () => {
        "select r.id, r.forge, r.forge_id, r.installation_id, r.owner, r.name
           from repositories r join installations i on i.id = r.installation_id
          where r.removed_at is null
            and i.deleted_at is null and i.suspended_at is null"
    };
}

/// The installed repositories of `owner` (or only `owner/name`), case-insensitively; a GitLab
/// group's include its subgroups'.
pub async fn installed_by_name(
    pool: &PgPool,
    owner: &str,
    name: Option<&str>,
) -> sqlx::Result<Vec<Installed>> {
    let sql = concat!(
        installed!(),
        " and (lower(r.owner) = lower($1)
               or (r.forge = 'gitlab' and $2::text is null
                   and starts_with(lower(r.owner), lower($1) || '/')))
          and ($2::text is null or lower(r.name) = lower($2)) order by r.owner, r.name"
    );
    sqlx::query_as(sql)
        .bind(owner)
        .bind(name)
        .fetch_all(pool)
        .await
}

/// The installed repositories whose last finished scan is older than `older_than` (or that
/// were never scanned) and that have no scan pending.
pub async fn installed_stale(pool: &PgPool, older_than: Duration) -> sqlx::Result<Vec<Installed>> {
    // The key is queue::job::scan_key_for(forge, forge_id).
    let sql = concat!(
        installed!(),
        " and not exists (select 1 from scans s where s.repository_id = r.id
                   and s.state = 'done' and s.finished_at > now() - make_interval(secs => $1))
           and not exists (select 1 from jobs j
                   where j.dedupe_key = case r.forge when 'github' then 'scan:' || r.forge_id
                                                     else 'scan:' || r.forge || ':' || r.forge_id end
                   and j.state in ('queued', 'running'))
          order by r.id"
    );
    sqlx::query_as(sql)
        .bind(older_than.as_secs_f64())
        .fetch_all(pool)
        .await
}

/// Records a GitLab group (its full path, nested or not) like a GitHub account; returns
/// its row id.
pub async fn upsert_group(pool: &PgPool, group_id: i64, full_path: &str) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "insert into installations (forge, forge_id, account_login, account_type)
         values ('gitlab', $1, $2, 'Group')
         on conflict (forge, forge_id) do update set account_login = excluded.account_login,
             updated_at = now()
         returning id",
    )
    .bind(group_id)
    .bind(full_path)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// A GitLab project as the forge names it.
#[derive(Debug, Clone, Copy)]
pub struct ProjectRow<'a> {
    /// The row id of the group it was found through ([`upsert_group`]).
    pub group: i64,
    /// GitLab's project id.
    pub id: ProjectId,
    /// `group/.../project`: the owner is the namespace, the name the project's path.
    pub path: &'a ProjectPath,
    /// Its default branch, when known.
    pub default_branch: Option<&'a str>,
    /// Private (or internal) project.
    pub private: bool,
}

/// Records a GitLab project beside GitHub's repositories; returns its row id (negative, so
/// it never collides with a GitHub id).
pub async fn upsert_project(pool: &PgPool, p: ProjectRow<'_>) -> sqlx::Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "insert into repositories (forge, forge_id, installation_id, owner, name,
                                   default_branch, private)
         values ('gitlab', $1, $2, $3, $4, $5, $6)
         on conflict (forge, forge_id) do update set installation_id = excluded.installation_id,
             owner = excluded.owner, name = excluded.name,
             default_branch = coalesce(excluded.default_branch, repositories.default_branch),
             private = excluded.private, removed_at = null
         returning id",
    )
    .bind(p.id.0)
    .bind(p.group)
    .bind(p.path.namespace())
    .bind(p.path.name())
    .bind(p.default_branch)
    .bind(p.private)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// The row id of a forge's repository or project, by the forge's own id.
pub async fn row_id(pool: &PgPool, forge: Forge, forge_id: i64) -> sqlx::Result<Option<i64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("select id from repositories where forge = $1 and forge_id = $2")
            .bind(forge.as_str())
            .bind(forge_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id,)| id))
}

/// The owner and name of the repository whose row is `id`.
pub async fn name_of(pool: &PgPool, id: i64) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as("select owner, name from repositories where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}
