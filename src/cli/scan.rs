//! `immutabot scan OWNER[/REPO]`: queues full-repository scans by hand, for the repositories
//! the database knows. The running service's workers do the scanning.

use crate::settings;
use secrecy::ExposeSecret;

/// Arguments of `immutabot scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// `OWNER` for every installed repository of an owner (a GitLab group: its subgroups' too),
    /// `OWNER/REPO` for one (a GitLab project by its full path).
    #[arg(value_name = "OWNER[/REPO]")]
    pub target: String,
    /// Postgres URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Splits `OWNER[/REPO]` at its last `/` (a GitLab project's owner is its group path),
/// refusing what neither forge would accept as a name.
fn target(text: &str) -> Result<(String, Option<String>), String> {
    let probe = if text.contains('/') {
        text.to_string()
    } else {
        format!("{text}/x")
    };
    let github = crate::ids::RepoName::parse(&probe).is_ok();
    if !github && crate::ids::ProjectPath::parse(&probe).is_err() {
        return Err(format!("`{text}` is not OWNER or OWNER/REPO"));
    }
    Ok(match text.rsplit_once('/') {
        Some((owner, repo)) => (owner.to_string(), Some(repo.to_string())),
        None => (text.to_string(), None),
    })
}

/// Queues the scans and prints them; exit 2 when nothing matches or the input is unusable.
pub fn run(args: &ScanArgs) -> u8 {
    let fail = |e: String| {
        eprintln!("immutabot scan: {e}");
        2
    };
    let (owner, repo) = match target(&args.target) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let url = match settings::database_url(args.database_url.as_deref()) {
        Ok(url) => url,
        Err(e) => return fail(e),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("could not start the async runtime: {e}")),
    };
    let result = rt.block_on(async {
        let pool = crate::db::pool(url.expose_secret(), 2)?;
        crate::db::ready(&pool).await.map_err(anyhow::Error::msg)?;
        let queued = crate::scan::enqueue::by_name(&pool, &owner, repo.as_deref()).await?;
        if queued.is_empty() && repo.is_some() {
            // `group/sub` names a GitLab subgroup rather than a project.
            return crate::scan::enqueue::by_name(&pool, &args.target, None).await;
        }
        Ok(queued)
    });
    let queued = match result {
        Ok(q) => q,
        Err(e) => {
            eprintln!("immutabot scan: {e:#}");
            return 1;
        }
    };
    if queued.is_empty() {
        return fail(format!(
            "no installed repository of `{}` is known to the database",
            args.target
        ));
    }
    for q in &queued {
        match q.job {
            Some(id) => println!("queued  {} (job {})", q.repo, id.0),
            None => println!("pending {} (a scan is already queued)", q.repo),
        }
    }
    let new = queued.iter().filter(|q| q.job.is_some()).count();
    println!(
        "{new} scan(s) queued, {} already pending",
        queued.len() - new
    );
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_owner_or_owner_slash_repo() {
        assert_eq!(target("acme").unwrap(), ("acme".into(), None));
        assert_eq!(
            target("acme/web").unwrap(),
            ("acme".into(), Some("web".into()))
        );
        // A GitLab project in a subgroup: its owner is the group path.
        assert_eq!(
            target("acme/payments/shop").unwrap(),
            ("acme/payments".into(), Some("shop".into()))
        );
        for bad in ["", "a//c", "../x", "acme/", "a b", "a/../c"] {
            assert!(target(bad).is_err(), "{bad}");
        }
    }
}
