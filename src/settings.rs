//! The service's settings: flags or environment variables, checked all at once so that a
//! bad start says everything that is wrong, one line each. Secrets are never printed.

use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// `immutabot serve` flags; every one can also come from the environment.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Postgres URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "IMMUTABOT_BIND", default_value = "0.0.0.0:8080")]
    pub bind: String,
    /// The GitHub App's numeric id.
    #[arg(long, env = "GITHUB_APP_ID")]
    pub github_app_id: Option<String>,
    /// The App's private key, PEM text (prefer the _FILE form or the environment).
    #[arg(long, env = "GITHUB_PRIVATE_KEY", hide_env_values = true)]
    pub github_private_key: Option<String>,
    /// A file holding the App's private key (PEM).
    #[arg(long, env = "GITHUB_PRIVATE_KEY_FILE")]
    pub github_private_key_file: Option<PathBuf>,
    /// The webhook secret; several, comma-separated, while rotating.
    #[arg(long, env = "GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,
    /// Key (64 hex digits) sealing App credentials created through `/setup`; with it and
    /// no GITHUB_APP_ID/KEY/SECRET, the service starts in setup mode.
    #[arg(long, env = "IMMUTABOT_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// This service's public URL (what GitHub calls); needed by `/setup`.
    #[arg(long, env = "IMMUTABOT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// GitHub's REST API root (GitHub Enterprise Server: `https://HOST/api/v3`).
    #[arg(long, env = "GITHUB_API_URL", default_value = "https://api.github.com")]
    pub github_api_url: String,
    /// GitHub's web root: links to files in the report, and where `/setup` sends the App
    /// manifest (default: from GITHUB_API_URL, `https://github.com` or the Enterprise host).
    #[arg(long, env = "GITHUB_WEB_URL")]
    pub github_web_url: Option<String>,
    /// Jobs run at once by this process.
    #[arg(long, env = "IMMUTABOT_WORKERS", default_value = "4")]
    pub workers: String,
    /// Do not apply database migrations on start (run `immutabot migrate` yourself).
    #[arg(long, env = "IMMUTABOT_NO_MIGRATE")]
    pub no_migrate: bool,
    /// Log format.
    #[arg(long, env = "IMMUTABOT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds between checks for failed webhook deliveries to ask GitHub for again.
    #[arg(long, env = "IMMUTABOT_RECONCILE_INTERVAL", default_value = "300")]
    pub reconcile_interval: String,
    /// Seconds after which a repository's last full scan is stale and rescanned; 0 disables.
    #[arg(long, env = "IMMUTABOT_RESCAN_INTERVAL", default_value = "86400")]
    pub rescan_interval: String,
    /// Days to keep webhook deliveries and finished jobs; 0 keeps them forever.
    #[arg(long, env = "IMMUTABOT_RETENTION_DAYS", default_value = "30")]
    pub retention_days: String,
    /// Minimum spacing between content-creating GitHub requests of one installation, in ms.
    #[arg(
        long,
        env = "IMMUTABOT_GITHUB_WRITE_INTERVAL_MS",
        default_value = "1000"
    )]
    pub github_write_interval_ms: String,
}

/// Where the GitHub App's credentials come from.
pub enum AppSource {
    /// Given at start (GITHUB_APP_ID, GITHUB_PRIVATE_KEY[_FILE], GITHUB_WEBHOOK_SECRET).
    Env {
        /// The App's id.
        app_id: u64,
        /// The App's private key (PEM).
        private_key: SecretString,
        /// Accepted webhook secrets.
        webhook_secrets: Vec<Vec<u8>>,
    },
    /// Stored sealed in the database by the `/setup` flow (or not yet: then `/setup` serves).
    Setup {
        /// Seals and opens the stored credentials.
        key: [u8; 32],
        /// This service's public URL.
        public_url: String,
        /// GitHub's web root.
        web_url: String,
    },
}

/// Settings after every check.
pub struct Settings {
    /// Postgres URL.
    pub database_url: SecretString,
    /// Listen address.
    pub bind: SocketAddr,
    /// Where the App's credentials come from.
    pub app: AppSource,
    /// API root, without a trailing slash.
    pub api_url: String,
    /// Web root for links, without a trailing slash.
    pub web_url: String,
    /// Concurrent jobs.
    pub workers: usize,
    /// Apply migrations on start.
    pub migrate: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Reconciler period.
    pub reconcile_interval: Duration,
    /// Age at which a repository is rescanned; zero disables the periodic rescan.
    pub rescan_interval: Duration,
    /// How long deliveries and finished jobs are kept; `None` keeps them forever.
    pub retention: Option<Duration>,
    /// Pacing of writes per installation.
    pub write_interval: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("api_url", &self.api_url)
            .field("workers", &self.workers)
            .field("migrate", &self.migrate)
            .finish_non_exhaustive()
    }
}

/// Reads the database URL alone (what `immutabot migrate` needs).
pub fn database_url(value: Option<&str>) -> Result<SecretString, String> {
    match value.map(str::trim) {
        None | Some("") => {
            Err("DATABASE_URL is not set (e.g. postgres://user@host:5432/immutabot)".into())
        }
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(SecretString::from(url.to_string()))
        }
        Some(_) => Err("DATABASE_URL must start with postgres:// or postgresql://".into()),
    }
}

impl ServeArgs {
    /// Checks everything; on failure returns one line per problem.
    pub fn settings(&self) -> Result<Settings, Vec<String>> {
        let mut errors = Vec::new();
        let database_url = take(&mut errors, database_url(self.database_url.as_deref()));
        let bind = take(
            &mut errors,
            self.bind.parse::<SocketAddr>().map_err(|_| {
                format!(
                    "IMMUTABOT_BIND `{}` is not an address:port (e.g. 0.0.0.0:8080)",
                    self.bind
                )
            }),
        );
        let setup_mode = self.github_app_id.is_none()
            && self.github_private_key.is_none()
            && self.github_private_key_file.is_none()
            && self.github_webhook_secret.is_none()
            && self.secret_key.is_some();
        let app = if setup_mode {
            take(&mut errors, self.setup_source())
        } else {
            let app_id = take(
                &mut errors,
                match self.github_app_id.as_deref().map(str::trim) {
                    None | Some("") => Err(
                        "GITHUB_APP_ID is not set (the App's numeric id, on its settings page)"
                            .into(),
                    ),
                    Some(s) => s
                        .parse::<u64>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| format!("GITHUB_APP_ID `{s}` is not a positive number")),
                },
            );
            let private_key = take(&mut errors, self.private_key());
            let webhook_secrets = take(&mut errors, match self.github_webhook_secret.as_deref() {
                None => Err("GITHUB_WEBHOOK_SECRET is not set (the secret entered in the App's webhook settings)".into()),
                Some(s) => {
                    let secrets: Vec<Vec<u8>> = s
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| s.as_bytes().to_vec())
                        .collect();
                    if secrets.is_empty() {
                        Err("GITHUB_WEBHOOK_SECRET is empty".into())
                    } else {
                        Ok(secrets)
                    }
                }
            });
            match (app_id, private_key, webhook_secrets) {
                (Some(app_id), Some(private_key), Some(webhook_secrets)) => Some(AppSource::Env {
                    app_id,
                    private_key,
                    webhook_secrets,
                }),
                _ => None,
            }
        };
        let api_url = take(&mut errors, api_url(&self.github_api_url));
        // Checked only when given: a root derived from a bad GITHUB_API_URL is that error.
        let web_url = match &self.github_web_url {
            Some(given) => take(
                &mut errors,
                api_url_named(given, "GITHUB_WEB_URL", "https://github.com"),
            ),
            None => Some(self.web_url()),
        };
        let workers = take(
            &mut errors,
            self.workers
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| {
                    format!(
                        "IMMUTABOT_WORKERS `{}` is not a number from 1 to 256",
                        self.workers
                    )
                }),
        );
        let reconcile = take(&mut errors,
            self.reconcile_interval
                .parse::<u64>()
                .ok()
                .filter(|&n| n >= 10)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!(
                        "IMMUTABOT_RECONCILE_INTERVAL `{}` is not a number of seconds (at least 10)",
                        self.reconcile_interval
                    )
                }),
        );
        let rescan = take(&mut errors, rescan_interval(&self.rescan_interval));
        let retention = take(&mut errors, retention(&self.retention_days));
        let write_interval = take(
            &mut errors,
            self.github_write_interval_ms
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| {
                    format!(
                        "IMMUTABOT_GITHUB_WRITE_INTERVAL_MS `{}` is not a number of milliseconds",
                        self.github_write_interval_ms
                    )
                }),
        );
        match (
            database_url,
            bind,
            app,
            api_url,
            web_url,
            workers,
            reconcile,
            rescan,
            retention,
            write_interval,
        ) {
            (
                Some(database_url),
                Some(bind),
                Some(app),
                Some(api_url),
                Some(web_url),
                Some(workers),
                Some(reconcile_interval),
                Some(rescan_interval),
                Some(retention),
                Some(write_interval),
            ) if errors.is_empty() => Ok(Settings {
                database_url,
                bind,
                app,
                api_url,
                web_url,
                workers,
                migrate: !self.no_migrate,
                log_format: self.log_format,
                reconcile_interval,
                rescan_interval,
                retention,
                write_interval,
            }),
            _ => Err(errors),
        }
    }

    /// GitHub's web root as given, or derived from the API root.
    fn web_url(&self) -> String {
        self.github_web_url
            .clone()
            .unwrap_or_else(|| crate::setup::web_url_for(&self.github_api_url))
    }

    fn setup_source(&self) -> Result<AppSource, String> {
        let key = crate::setup::vault::parse_key(self.secret_key.as_deref().unwrap_or(""))?;
        let public_url = match self.public_url.as_deref().map(str::trim) {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                u.trim_end_matches('/').to_string()
            }
            _ => {
                return Err("IMMUTABOT_PUBLIC_URL must be set to this service's public http(s) URL for /setup".into());
            }
        };
        let web_url = self.web_url().trim_end_matches('/').to_string();
        Ok(AppSource::Setup {
            key,
            public_url,
            web_url,
        })
    }

    fn private_key(&self) -> Result<SecretString, String> {
        let pem = match (&self.github_private_key, &self.github_private_key_file) {
            (Some(_), Some(_)) => {
                return Err("set GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_FILE, not both".into());
            }
            (Some(text), None) => SecretString::from(text.replace("\\n", "\n")),
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(text) => SecretString::from(text),
                Err(e) => {
                    return Err(format!("GITHUB_PRIVATE_KEY_FILE {}: {e}", path.display()));
                }
            },
            (None, None) => {
                return Err("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_FILE is not set (the App's private key, PEM)".into());
            }
        };
        octocrab::jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes())
            .map_err(|_| "the GitHub App private key is not an RSA key in PEM form".to_string())?;
        Ok(pem)
    }
}

/// The periodic rescan's interval: 0 (off) or at least a minute.
fn rescan_interval(text: &str) -> Result<Duration, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|&n| n == 0 || n >= 60)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            format!("IMMUTABOT_RESCAN_INTERVAL `{text}` is not a number of seconds (0 to disable, else at least 60)")
        })
}

/// The retention period: 0 (keep forever) or at least 7 days, so that a delivery outlives
/// GitHub's own record of it and the reconciler never asks for one we deleted.
fn retention(text: &str) -> Result<Option<Duration>, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Ok(None),
        Ok(days) if (7..=36_500).contains(&days) => Ok(Some(Duration::from_secs(days * 86_400))),
        _ => Err(format!(
            "IMMUTABOT_RETENTION_DAYS `{text}` is not a number of days (0 to keep forever, else 7 to 36500)"
        )),
    }
}

fn take<T>(errors: &mut Vec<String>, r: Result<T, String>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// Checks an API root: http(s), a host, no query; the trailing slash is dropped.
pub fn api_url(url: &str) -> Result<String, String> {
    api_url_named(url, "GITHUB_API_URL", "https://api.github.com")
}

/// Checks a URL root like [`api_url`], naming the setting in the error.
fn api_url_named(url: &str, name: &str, example: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let ok = trimmed
        .parse::<http::Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http" | "https")))
        .filter(|u| u.host().is_some() && u.query().is_none());
    match ok {
        Some(_) => Ok(trimmed.to_string()),
        None => Err(format!(
            "{name} `{url}` is not an http(s) URL (e.g. {example})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(args: &[&str]) -> ServeArgs {
        let mut argv = vec!["t"];
        argv.extend_from_slice(args);
        T::try_parse_from(argv).unwrap().args
    }

    #[test]
    fn every_problem_is_one_line() {
        // The environment of the test process must not leak in.
        let a = ServeArgs {
            database_url: None,
            github_app_id: Some("abc".into()),
            github_private_key: Some("not a key".into()),
            github_webhook_secret: None,
            workers: "0".into(),
            github_api_url: "ftp://x".into(),
            rescan_interval: "5".into(),
            retention_days: "3".into(),
            ..parse(&[])
        };
        let errors = a.settings().unwrap_err();
        let text = errors.join("\n");
        for expected in [
            "DATABASE_URL is not set",
            "GITHUB_APP_ID `abc` is not a positive number",
            "not an RSA key in PEM form",
            "GITHUB_WEBHOOK_SECRET is not set",
            "IMMUTABOT_WORKERS `0`",
            "GITHUB_API_URL `ftp://x`",
            "IMMUTABOT_RESCAN_INTERVAL `5`",
            "IMMUTABOT_RETENTION_DAYS `3`",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert!(errors.iter().all(|e| !e.contains('\n')));
        assert!(!text.contains("not a key"), "a secret was echoed");
    }

    #[test]
    fn a_complete_set_is_accepted() {
        let key = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/test-app-key.pem"
        ))
        .unwrap();
        let a = ServeArgs {
            database_url: Some("postgres://u@h/db".into()),
            github_app_id: Some("42".into()),
            github_private_key: Some(key),
            github_private_key_file: None,
            github_webhook_secret: Some("new, old".into()),
            github_api_url: "https://ghe.example.com/api/v3/".into(),
            ..parse(&[])
        };
        let s = a.settings().unwrap();
        assert_eq!(s.api_url, "https://ghe.example.com/api/v3");
        let AppSource::Env {
            webhook_secrets, ..
        } = &s.app
        else {
            panic!("not from the environment")
        };
        assert_eq!(webhook_secrets, &vec![b"new".to_vec(), b"old".to_vec()]);
        assert_eq!(s.rescan_interval, Duration::from_secs(86400));
        assert_eq!(rescan_interval("0"), Ok(Duration::ZERO));
        assert_eq!(s.retention, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(retention("0"), Ok(None));
        assert!(!format!("{s:?}").contains("postgres://"));
    }
}
