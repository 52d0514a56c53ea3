//! The `sign_in_states_used` table: sign-in `state` values that already finished a sign-in.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Records `state_sha256` as used; `false` when it already was (a replayed callback).
/// Rows past their expiry are deleted on the way, so the table holds ten minutes of sign-ins.
pub async fn use_once(
    pool: &PgPool,
    state_sha256: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    sqlx::query("delete from sign_in_states_used where expires_at < now()")
        .execute(pool)
        .await?;
    let inserted = sqlx::query(
        "insert into sign_in_states_used (state_sha256, expires_at) values ($1, $2)
         on conflict (state_sha256) do nothing",
    )
    .bind(state_sha256)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
