//! `immutabot token create | list | revoke`: bearer tokens for one owner's report. A new token
//! is printed once; only its SHA-256 is stored, so `list` shows ids and labels, never tokens.

use crate::auth::tokens;
use crate::settings;
use secrecy::ExposeSecret;

/// Arguments of `immutabot token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// What to do with tokens.
    #[command(subcommand)]
    pub action: TokenAction,
}

/// Token subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenAction {
    /// Create a token that reads one owner's report; only its SHA-256 is stored.
    Create {
        /// Organisation or user (GitHub), or group path (GitLab), whose report the token reads.
        #[arg(long)]
        owner: crate::ids::OwnerName,
        /// A note saying who or what uses the token.
        #[arg(long)]
        label: Option<String>,
        /// Postgres URL.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// List tokens: id, owner, label, when created, last used and revoked.
    List {
        /// Postgres URL.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Revoke a token by its id (from `list`); it is refused from the next request on.
    Revoke {
        /// The token's id.
        id: i64,
        /// Postgres URL.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
}

impl TokenAction {
    fn database_url(&self) -> Option<&str> {
        match self {
            TokenAction::Create { database_url, .. }
            | TokenAction::List { database_url }
            | TokenAction::Revoke { database_url, .. } => database_url.as_deref(),
        }
    }
}

/// Runs the subcommand: results on standard output, advice and errors on standard error.
/// Exit 0 when done, 1 when the database refused or `revoke` found no such live token, 2 on
/// a usage problem.
pub fn run(args: &TokenArgs) -> u8 {
    let url = match settings::database_url(args.action.database_url()) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("immutabot token: {e}");
            return 2;
        }
    };
    let rt = match super::serve::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = rt.block_on(async {
        let pool = crate::db::pool(url.expose_secret(), 1)?;
        let code = act(&pool, &args.action).await;
        pool.close().await;
        code
    });
    result.unwrap_or_else(|e| {
        eprintln!("immutabot token: {e:#}");
        1
    })
}

async fn act(pool: &sqlx::PgPool, action: &TokenAction) -> anyhow::Result<u8> {
    match action {
        TokenAction::Create { owner, label, .. } => {
            let t = tokens::create(pool, owner.as_str(), label.as_deref()).await?;
            println!("{}", t.token);
            eprintln!(
                "token {} reads the report of `{}`; it is shown only now (only its SHA-256 is stored).\n\
                 Send it as `Authorization: Bearer <token>`, or open /report/{}?token=<token> once in a browser.",
                t.id, t.owner, t.owner
            );
            Ok(0)
        }
        TokenAction::List { .. } => {
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
            };
            println!("id\towner\tlabel\tcreated\tlast used\trevoked");
            for t in tokens::list(pool).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.owner,
                    t.label.as_deref().unwrap_or("-"),
                    when(Some(t.created_at)),
                    when(t.last_used_at),
                    when(t.revoked_at)
                );
            }
            Ok(0)
        }
        TokenAction::Revoke { id, .. } => {
            if tokens::revoke(pool, *id).await? {
                eprintln!("token {id} revoked");
                Ok(0)
            } else {
                eprintln!(
                    "immutabot token: no live token has id {id} (see `immutabot token list`)"
                );
                Ok(1)
            }
        }
    }
}
