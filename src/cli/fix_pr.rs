//! `immutabot fix-pr OWNER/REPO`: queues the repository's fix-all pull request (a GitLab
//! project's merge request) by hand. The running service's workers make it.

use crate::jobs::fix_pull::{self, Requested};
use crate::queue::job::FixTrigger;
use crate::settings;
use secrecy::ExposeSecret;

/// Arguments of `immutabot fix-pr`.
#[derive(Debug, clap::Args)]
pub struct FixPrArgs {
    /// The installed GitHub repository, or the GitLab project's full path
    /// (`group/subgroup/project`).
    #[arg(value_name = "OWNER/REPO")]
    pub repo: String,
    /// Postgres URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Queues the job and says so; exit 2 when the repository is unknown or the input unusable.
pub fn run(args: &FixPrArgs) -> u8 {
    let fail = |e: String| {
        eprintln!("immutabot fix-pr: {e}");
        2
    };
    let Some((owner, name)) = args
        .repo
        .trim()
        .rsplit_once('/')
        .filter(|(o, n)| !o.is_empty() && !n.is_empty())
    else {
        return fail(format!("`{}` is not OWNER/REPO", args.repo));
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
        fix_pull::request(&pool, owner, name, FixTrigger::Cli).await
    });
    match result {
        Ok(Requested::Queued(id, repo)) => {
            println!("queued  {repo} (job {}): its fix-all pull request", id.0);
            0
        }
        Ok(Requested::AlreadyQueued(repo)) => {
            println!("pending {repo} (its fix-all pull request is already queued)");
            0
        }
        Ok(Requested::Unknown) => fail(format!(
            "no installed GitHub repository or GitLab project `{}` is known to the database",
            args.repo.trim()
        )),
        Err(e) => {
            eprintln!("immutabot fix-pr: {e:#}");
            1
        }
    }
}
