//! The analysis cache: the core's report per blob, so an unchanged file is never fetched or
//! analysed twice, across scans and repositories.
//!
//! The key is what the report depends on: the blob, its path (Compose file names matter), the
//! settings (`config_hash`), and for a file that read others (a Compose override beside it,
//! `extends`) the ids those paths have in the commit. The paths such a file reads are
//! remembered in `blob_dependencies`; the core asks for the same paths whenever the file and
//! what it read are the same, so checking their ids is enough to trust the report.

use crate::forge::ObjectId;
use crate::model::FileReport;
use crate::storage::blobs::{self, BlobKey};
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// The settings part of the key: this build of the core and the `.immutabot.yml` blob (or
/// the defaults). A new release re-analyses rather than trust an older core's reports.
pub fn config_hash(config_blob: Option<&ObjectId>) -> String {
    let config = config_blob.map_or("default", |id| id.as_str());
    let text = format!("immutabot {}\0config {config}", env!("CARGO_PKG_VERSION"));
    hex::encode(Sha256::digest(text))
}

/// The key of a report that read `deps`: the settings key and each path with its blob id in
/// the commit (`-` when the path is no file there).
pub fn with_dependencies(config_hash: &str, deps: &[(String, Option<ObjectId>)]) -> String {
    let mut text = format!("{config_hash}\0");
    for (path, id) in deps {
        text.push_str(path);
        text.push('\0');
        text.push_str(id.as_ref().map_or("-", |id| id.as_str()));
        text.push('\0');
    }
    hex::encode(Sha256::digest(text))
}

/// The cached report of `path` at `blob`, if any. `id_of` gives the commit's blob id of a path.
pub async fn lookup(
    pool: &PgPool,
    blob: &ObjectId,
    path: &str,
    config_hash: &str,
    id_of: impl Fn(&str) -> Option<ObjectId>,
) -> anyhow::Result<Option<FileReport>> {
    let plain = BlobKey {
        blob: blob.as_str(),
        path,
        config_hash,
    };
    let deps = blobs::dependencies(pool, plain)
        .await
        .context("reading the analysis cache")?;
    let key = match deps {
        Some(paths) => {
            let deps: Vec<_> = paths
                .into_iter()
                .map(|p| {
                    let id = id_of(&p);
                    (p, id)
                })
                .collect();
            with_dependencies(config_hash, &deps)
        }
        None => config_hash.to_string(),
    };
    let row = blobs::report(
        pool,
        BlobKey {
            config_hash: &key,
            ..plain
        },
    )
    .await
    .context("reading the analysis cache")?;
    // A report the current core cannot read is a miss, not an error.
    Ok(row.and_then(|report| serde_json::from_value(report).ok()))
}

/// Caches a report that read `deps` (empty for a file that read nothing else).
pub async fn store(
    pool: &PgPool,
    blob: &ObjectId,
    path: &str,
    config_hash: &str,
    deps: &[(String, Option<ObjectId>)],
    report: &FileReport,
) -> anyhow::Result<()> {
    let plain = BlobKey {
        blob: blob.as_str(),
        path,
        config_hash,
    };
    let key = if deps.is_empty() {
        config_hash.to_string()
    } else {
        let paths: Vec<&str> = deps.iter().map(|(p, _)| p.as_str()).collect();
        blobs::store_dependencies(pool, plain, &paths)
            .await
            .context("writing the analysis cache")?;
        with_dependencies(config_hash, deps)
    };
    let report = serde_json::to_value(report).context("serialising a report")?;
    blobs::store_report(
        pool,
        BlobKey {
            config_hash: &key,
            ..plain
        },
        &report,
    )
    .await
    .context("writing the analysis cache")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: char) -> ObjectId {
        ObjectId::parse(&c.to_string().repeat(40)).unwrap()
    }

    #[test]
    fn keys_change_with_settings_and_with_what_was_read() {
        let plain = config_hash(None);
        assert_eq!(plain, config_hash(None));
        assert_ne!(plain, config_hash(Some(&id('a'))));
        let a = with_dependencies(&plain, &[("o.yaml".into(), Some(id('a')))]);
        let b = with_dependencies(&plain, &[("o.yaml".into(), Some(id('b')))]);
        let absent = with_dependencies(&plain, &[("o.yaml".into(), None)]);
        assert_ne!(a, b);
        assert_ne!(a, absent);
        assert_ne!(absent, plain);
    }
}
