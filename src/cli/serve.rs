//! `immutabot serve` and `immutabot migrate`: start-up checks, then the async service.

use super::MigrateArgs;
use crate::settings::{self, LogFormat, ServeArgs};
use secrecy::ExposeSecret;

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("immutabot: could not start the async runtime: {e}");
            2
        })
}

/// Checks every setting (one line per problem), then runs the service.
pub fn serve(args: &ServeArgs) -> u8 {
    let settings = match args.settings() {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("immutabot serve: {e}");
            }
            return 2;
        }
    };
    crate::telemetry::init_logs(settings.log_format);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(crate::service::run(settings)) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the service stopped");
            eprintln!("immutabot serve: {e:#}");
            1
        }
    }
}

/// Applies the migrations.
pub fn migrate(args: &MigrateArgs) -> u8 {
    let url = match settings::database_url(args.database_url.as_deref()) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("immutabot migrate: {e}");
            return 2;
        }
    };
    crate::telemetry::init_logs(LogFormat::Text);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let result = rt.block_on(async {
        let pool = crate::db::pool(url.expose_secret(), 2)?;
        crate::db::migrate(&pool).await?;
        crate::db::ready(&pool).await.map_err(anyhow::Error::msg)
    });
    match result {
        Ok(()) => {
            println!(
                "migrations applied ({} in all)",
                crate::db::MIGRATOR.iter().count()
            );
            0
        }
        Err(e) => {
            eprintln!("immutabot migrate: {e:#}");
            1
        }
    }
}
