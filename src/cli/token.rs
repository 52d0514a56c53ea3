//! `immutabot token create`: a bearer token for one owner's report, printed once.

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
        /// Organisation or user whose report the token reads.
        #[arg(long)]
        owner: String,
        /// A note saying who or what uses the token.
        #[arg(long)]
        label: Option<String>,
        /// Postgres URL.
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
}

/// Runs the subcommand: the token alone on standard output, the advice on standard error.
pub fn run(args: &TokenArgs) -> u8 {
    let TokenAction::Create {
        owner,
        label,
        database_url,
    } = &args.action;
    let url = match settings::database_url(database_url.as_deref()) {
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
    let created = rt.block_on(async {
        let pool = crate::db::pool(url.expose_secret(), 1)?;
        let t = tokens::create(&pool, owner, label.as_deref()).await;
        pool.close().await;
        t
    });
    match created {
        Ok(t) => {
            println!("{}", t.token);
            eprintln!(
                "token {} reads the report of `{}`; it is shown only now (only its SHA-256 is stored).\n\
                 Send it as `Authorization: Bearer <token>`, or open /report/{}?token=<token> once in a browser.",
                t.id, t.owner, t.owner
            );
            0
        }
        Err(e) => {
            eprintln!("immutabot token: {e:#}");
            1
        }
    }
}
