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
    /// Seconds a worker's claim on a job lasts without renewal: a job whose process died is
    /// taken again by another this long after its last renewal.
    #[arg(long, env = "IMMUTABOT_JOB_LEASE", default_value = "120")]
    pub job_lease: String,
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
    /// The GitLab instance (`https://gitlab.com` when unset); calls go to its `/api/v4`.
    #[arg(long, env = "GITLAB_URL")]
    pub gitlab_url: Option<String>,
    /// A GitLab project, group or bot-user token with the `api` scope.
    #[arg(long, env = "GITLAB_TOKEN", hide_env_values = true)]
    pub gitlab_token: Option<String>,
    /// A file holding the GitLab token.
    #[arg(long, env = "GITLAB_TOKEN_FILE")]
    pub gitlab_token_file: Option<PathBuf>,
    /// The GitLab webhook's secret token; several, comma-separated, while rotating.
    #[arg(long, env = "GITLAB_WEBHOOK_SECRET", hide_env_values = true)]
    pub gitlab_webhook_secret: Option<String>,
    /// Client id of the GitHub OAuth App the report's "Sign in with GitHub" uses.
    #[arg(long, env = "IMMUTABOT_GITHUB_CLIENT_ID")]
    pub github_client_id: Option<String>,
    /// That OAuth App's client secret.
    #[arg(long, env = "IMMUTABOT_GITHUB_CLIENT_SECRET", hide_env_values = true)]
    pub github_client_secret: Option<String>,
    /// Key sealing the report's session cookies: at least 32 bytes (`openssl rand -hex 32`).
    #[arg(long, env = "IMMUTABOT_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<String>,
    /// Seconds a sign-in covers an organisation before its membership is checked again.
    #[arg(long, env = "IMMUTABOT_SESSION_LIFETIME", default_value = "28800")]
    pub session_lifetime: String,
    /// Days a unit may stay writable on its default branch before the report lists it as
    /// overdue.
    #[arg(long, env = "IMMUTABOT_FIX_TARGET_DAYS", default_value = "30")]
    pub fix_target_days: String,
    /// Which repositories get a fix-all pull request: all, opt-in (`fix_pull_request: true`
    /// in `.immutabot.yml`, or asked for from the report or `immutabot fix-pr`), or off.
    #[arg(long, env = "IMMUTABOT_FIX_PULL_REQUESTS", default_value = "opt-in")]
    pub fix_pull_requests: String,
    /// Repositories of one installation that may get a fix-all pull request commit per hour.
    #[arg(
        long,
        env = "IMMUTABOT_FIX_PULL_REQUESTS_PER_HOUR",
        default_value = "20"
    )]
    pub fix_pull_requests_per_hour: String,
}

/// Signing in to the report with GitHub, when configured.
pub struct SignInConfig {
    /// The OAuth App's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: SecretString,
    /// Seals the session cookies.
    pub session_key: crate::auth::session::SessionKey,
    /// This service's public URL (GitHub sends the browser back to `/oauth/callback` there).
    pub public_url: String,
    /// How long a membership check holds.
    pub lifetime: Duration,
}

/// How to reach GitLab, when it is configured.
pub struct GitLabConfig {
    /// The instance root, without `/api/v4` and without a trailing slash.
    pub url: String,
    /// The API token.
    pub token: SecretString,
    /// Accepted `X-Gitlab-Token` values.
    pub webhook_secrets: Vec<Vec<u8>>,
}

/// GitLab's instance when `GITLAB_URL` is not set.
pub const GITLAB_DEFAULT_URL: &str = "https://gitlab.com";

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
    /// Where the GitHub App's credentials come from; `None` when GitHub is not configured.
    pub app: Option<AppSource>,
    /// GitLab, when configured.
    pub gitlab: Option<GitLabConfig>,
    /// API root, without a trailing slash.
    pub api_url: String,
    /// Web root for links, without a trailing slash.
    pub web_url: String,
    /// Concurrent jobs.
    pub workers: usize,
    /// A job claim's lease.
    pub job_lease: Duration,
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
    /// "Sign in with GitHub" for the report, when configured.
    pub sign_in: Option<SignInConfig>,
    /// The report's time-to-fix target, in days.
    pub fix_target_days: u32,
    /// Fix-all pull requests: which repositories, how many per hour.
    pub fix_pulls: crate::jobs::fix_pull::policy::FixPullSettings,
    /// Where the service is reached from outside (`IMMUTABOT_PUBLIC_URL`), for links to the
    /// report.
    pub public_url: Option<String>,
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
        let github_wanted = self.github_app_id.is_some()
            || self.github_private_key.is_some()
            || self.github_private_key_file.is_some()
            || self.github_webhook_secret.is_some()
            || self.secret_key.is_some();
        let gitlab_wanted = self.gitlab_url.is_some()
            || self.gitlab_token.is_some()
            || self.gitlab_token_file.is_some()
            || self.gitlab_webhook_secret.is_some();
        if !github_wanted && !gitlab_wanted {
            errors.push(NO_FORGE.into());
        }
        let app = match github_wanted {
            true => self.github_source(&mut errors).map(Some),
            false => Some(None),
        };
        let gitlab = match gitlab_wanted {
            true => self.gitlab(&mut errors).map(Some),
            false => Some(None),
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
        let job_lease = take(
            &mut errors,
            self.job_lease
                .parse::<u64>()
                .ok()
                .filter(|n| (3..=86_400).contains(n))
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!(
                        "IMMUTABOT_JOB_LEASE `{}` is not a number of seconds from 3 to 86400",
                        self.job_lease
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
        let sign_in = self.sign_in(&mut errors);
        let fix_target_days = take(&mut errors, fix_target_days(&self.fix_target_days));
        let fix_pulls = self.fix_pulls(&mut errors);
        match (
            database_url,
            bind,
            app,
            gitlab,
            api_url,
            web_url,
            workers,
            job_lease,
            reconcile,
            rescan,
            retention,
            write_interval,
        ) {
            (
                Some(database_url),
                Some(bind),
                Some(app),
                Some(gitlab),
                Some(api_url),
                Some(web_url),
                Some(workers),
                Some(job_lease),
                Some(reconcile_interval),
                Some(rescan_interval),
                Some(retention),
                Some(write_interval),
            ) if errors.is_empty() => Ok(Settings {
                database_url,
                bind,
                app,
                gitlab,
                api_url,
                web_url,
                workers,
                job_lease,
                migrate: !self.no_migrate,
                log_format: self.log_format,
                reconcile_interval,
                rescan_interval,
                retention,
                write_interval,
                sign_in: sign_in.flatten(),
                fix_target_days: fix_target_days.unwrap_or(30),
                fix_pulls,
                public_url: self
                    .public_url
                    .as_deref()
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(|u| u.trim_end_matches('/').to_string()),
            }),
            _ => Err(errors),
        }
    }

    /// The fix-pull settings; the defaults when something is wrong (said in `errors`).
    fn fix_pulls(
        &self,
        errors: &mut Vec<String>,
    ) -> crate::jobs::fix_pull::policy::FixPullSettings {
        use crate::jobs::fix_pull::policy::{FixPullSettings, Mode};
        let mode = take(errors, Mode::parse(&self.fix_pull_requests)).unwrap_or_default();
        let per_hour = take(
            errors,
            self.fix_pull_requests_per_hour
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    format!(
                        "IMMUTABOT_FIX_PULL_REQUESTS_PER_HOUR `{}` is not a whole number of at least 1",
                        self.fix_pull_requests_per_hour
                    )
                }),
        )
        .unwrap_or(crate::jobs::fix_pull::policy::DEFAULT_PER_HOUR);
        FixPullSettings { mode, per_hour }
    }

    /// "Sign in with GitHub": all of client id, secret, session key and public URL, or none
    /// (`Some(None)`); `None` when something is wrong (said in `errors`).
    fn sign_in(&self, errors: &mut Vec<String>) -> Option<Option<SignInConfig>> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
        let (id, secret) = (
            given(&self.github_client_id),
            given(&self.github_client_secret),
        );
        if !id && !secret {
            return Some(None);
        }
        let before = errors.len();
        if !id || !secret {
            errors.push("set both IMMUTABOT_GITHUB_CLIENT_ID and IMMUTABOT_GITHUB_CLIENT_SECRET for signing in with GitHub, or neither".into());
        }
        let key = match self.session_key.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push("IMMUTABOT_SESSION_KEY is not set: signing in with GitHub needs it to seal session cookies (at least 32 bytes, e.g. openssl rand -hex 32)".into());
                None
            }
            Some(k) => take(
                errors,
                crate::auth::session::SessionKey::from_secret(k.as_bytes()),
            ),
        };
        let public_url = match self.public_url.as_deref().map(str::trim) {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            _ => {
                errors.push("IMMUTABOT_PUBLIC_URL must be set to this service's public http(s) URL for signing in with GitHub (the OAuth App's callback is IMMUTABOT_PUBLIC_URL/oauth/callback)".into());
                None
            }
        };
        let lifetime = take(
            errors,
            self.session_lifetime
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (300..=604_800).contains(n))
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!(
                        "IMMUTABOT_SESSION_LIFETIME `{}` is not a number of seconds from 300 to 604800",
                        self.session_lifetime
                    )
                }),
        );
        if errors.len() > before {
            return None;
        }
        Some(Some(SignInConfig {
            client_id: self.github_client_id.clone()?.trim().to_string(),
            client_secret: SecretString::from(
                self.github_client_secret.clone()?.trim().to_string(),
            ),
            session_key: key?,
            public_url: public_url?,
            lifetime: lifetime?,
        }))
    }

    /// The GitHub App's credentials: from the environment, or sealed ones through `/setup`.
    fn github_source(&self, errors: &mut Vec<String>) -> Option<AppSource> {
        let setup_mode = self.github_app_id.is_none()
            && self.github_private_key.is_none()
            && self.github_private_key_file.is_none()
            && self.github_webhook_secret.is_none()
            && self.secret_key.is_some();
        if setup_mode {
            return take(errors, self.setup_source());
        }
        let app_id = take(
            errors,
            match self.github_app_id.as_deref().map(str::trim) {
                None | Some("") => Err(
                    "GITHUB_APP_ID is not set (the App's numeric id, on its settings page)".into(),
                ),
                Some(s) => s
                    .parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("GITHUB_APP_ID `{s}` is not a positive number")),
            },
        );
        let private_key = take(errors, self.private_key());
        let webhook_secrets = take(
            errors,
            webhook_secrets(
                self.github_webhook_secret.as_deref(),
                "GITHUB_WEBHOOK_SECRET",
                "the secret entered in the App's webhook settings",
            ),
        );
        Some(AppSource::Env {
            app_id: app_id?,
            private_key: private_key?,
            webhook_secrets: webhook_secrets?,
        })
    }

    /// The token as given, or read from its file (never both).
    fn gitlab_token_text(&self) -> Result<Option<String>, String> {
        match (&self.gitlab_token, &self.gitlab_token_file) {
            (Some(_), Some(_)) => Err("set GITLAB_TOKEN or GITLAB_TOKEN_FILE, not both".into()),
            (Some(text), None) => Ok(Some(text.clone())),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(Some)
                .map_err(|e| format!("GITLAB_TOKEN_FILE {}: {e}", path.display())),
            (None, None) => Ok(None),
        }
    }

    /// GitLab's instance, token and webhook secret, each checked.
    fn gitlab(&self, errors: &mut Vec<String>) -> Option<GitLabConfig> {
        let url = take(errors, gitlab_url(self.gitlab_url.as_deref()));
        let token = take(
            errors,
            self.gitlab_token_text()
                .and_then(|t| gitlab_token(t.as_deref())),
        );
        let webhook_secrets = take(
            errors,
            webhook_secrets(
                self.gitlab_webhook_secret.as_deref(),
                "GITLAB_WEBHOOK_SECRET",
                "the secret token entered in the project's webhook settings",
            ),
        );
        Some(GitLabConfig {
            url: url?,
            token: token?,
            webhook_secrets: webhook_secrets?,
        })
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

/// What a start with neither forge says.
const NO_FORGE: &str = "no forge is configured: set GITHUB_APP_ID, GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_FILE) and GITHUB_WEBHOOK_SECRET for GitHub (or IMMUTABOT_SECRET_KEY to register the App through /setup), or GITLAB_TOKEN and GITLAB_WEBHOOK_SECRET for GitLab, or both";

/// Webhook secrets: comma-separated, so that an old and a new one both work while rotating.
fn webhook_secrets(value: Option<&str>, name: &str, what: &str) -> Result<Vec<Vec<u8>>, String> {
    let value = value.ok_or_else(|| format!("{name} is not set ({what})"))?;
    let secrets: Vec<Vec<u8>> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.as_bytes().to_vec())
        .collect();
    if secrets.is_empty() {
        return Err(format!("{name} is empty"));
    }
    Ok(secrets)
}

/// The GitLab instance root; `/api/v4` is ours to add, so a URL that already ends in it would
/// send every call to `/api/v4/api/v4`.
fn gitlab_url(value: Option<&str>) -> Result<String, String> {
    let url = api_url_named(
        value.unwrap_or(GITLAB_DEFAULT_URL),
        "GITLAB_URL",
        GITLAB_DEFAULT_URL,
    )?;
    if url.to_ascii_lowercase().ends_with("/api/v4") {
        return Err(format!(
            "GITLAB_URL `{url}` must be the instance root (e.g. https://gitlab.example.com), without /api/v4"
        ));
    }
    Ok(url)
}

/// A token GitLab can receive as a header: set, one word, visible ASCII.
fn gitlab_token(value: Option<&str>) -> Result<SecretString, String> {
    match value.map(str::trim) {
        None | Some("") => Err(
            "GITLAB_TOKEN or GITLAB_TOKEN_FILE is not set (a project, group or bot-user access token with the api scope)"
                .into(),
        ),
        Some(t) if t.bytes().all(|b| b.is_ascii_graphic()) => Ok(SecretString::from(t.to_string())),
        Some(_) => Err("GITLAB_TOKEN must be one word of visible ASCII characters".into()),
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

/// The report's time-to-fix target: 1 to 3650 days.
pub fn fix_target_days(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=3650).contains(d))
        .ok_or_else(|| {
            format!("IMMUTABOT_FIX_TARGET_DAYS `{text}` is not a number of days from 1 to 3650")
        })
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
            job_lease: "1".into(),
            github_api_url: "ftp://x".into(),
            rescan_interval: "5".into(),
            retention_days: "3".into(),
            fix_target_days: "0".into(),
            fix_pull_requests: "sometimes".into(),
            fix_pull_requests_per_hour: "0".into(),
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
            "IMMUTABOT_JOB_LEASE `1`",
            "GITHUB_API_URL `ftp://x`",
            "IMMUTABOT_RESCAN_INTERVAL `5`",
            "IMMUTABOT_RETENTION_DAYS `3`",
            "IMMUTABOT_FIX_TARGET_DAYS `0`",
            "IMMUTABOT_FIX_PULL_REQUESTS `sometimes`",
            "IMMUTABOT_FIX_PULL_REQUESTS_PER_HOUR `0`",
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
        assert_eq!(s.fix_target_days, 30);
        let Some(AppSource::Env {
            webhook_secrets, ..
        }) = &s.app
        else {
            panic!("not from the environment")
        };
        assert_eq!(webhook_secrets, &vec![b"new".to_vec(), b"old".to_vec()]);
        assert_eq!(s.rescan_interval, Duration::from_secs(86400));
        assert_eq!(s.job_lease, Duration::from_secs(120));
        assert_eq!(rescan_interval("0"), Ok(Duration::ZERO));
        assert_eq!(s.retention, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(retention("0"), Ok(None));
        assert!(!format!("{s:?}").contains("postgres://"));
        assert!(s.gitlab.is_none(), "GitLab was not asked for");
        assert_eq!(s.fix_pulls, Default::default());
    }

    /// Only GitLab settings, the rest from the defaults (and none from the environment).
    fn gitlab_only(url: Option<&str>, token: Option<&str>, secret: Option<&str>) -> ServeArgs {
        ServeArgs {
            database_url: Some("postgres://u@h/db".into()),
            github_app_id: None,
            github_private_key: None,
            github_private_key_file: None,
            github_webhook_secret: None,
            secret_key: None,
            gitlab_url: url.map(Into::into),
            gitlab_token: token.map(Into::into),
            gitlab_token_file: None,
            gitlab_webhook_secret: secret.map(Into::into),
            ..parse(&[])
        }
    }

    #[test]
    fn gitlab_alone_is_enough() {
        let s = gitlab_only(None, Some("glpat-abc"), Some("s1,s2"))
            .settings()
            .unwrap();
        assert!(s.app.is_none(), "GitHub was not asked for");
        let gitlab = s.gitlab.unwrap();
        assert_eq!(gitlab.url, "https://gitlab.com");
        assert_eq!(gitlab.token.expose_secret(), "glpat-abc");
        assert_eq!(gitlab.webhook_secrets, vec![b"s1".to_vec(), b"s2".to_vec()]);
        let own = gitlab_only(Some("https://git.example.com/"), Some("t"), Some("s"));
        assert_eq!(
            own.settings().unwrap().gitlab.unwrap().url,
            "https://git.example.com"
        );
    }

    #[test]
    fn gitlab_problems_are_one_line_each() {
        let errors = |a: ServeArgs| a.settings().unwrap_err();
        assert_eq!(
            errors(gitlab_only(Some("ftp://x"), None, Some(""))),
            [
                "GITLAB_URL `ftp://x` is not an http(s) URL (e.g. https://gitlab.com)",
                "GITLAB_TOKEN or GITLAB_TOKEN_FILE is not set (a project, group or bot-user access token with the api scope)",
                "GITLAB_WEBHOOK_SECRET is empty",
            ]
        );
        let e = errors(gitlab_only(
            Some("https://gitlab.com/api/v4"),
            Some("a b"),
            None,
        ));
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].contains("without /api/v4"), "{e:?}");
        assert_eq!(
            e[1],
            "GITLAB_TOKEN must be one word of visible ASCII characters"
        );
        assert!(
            e[2].starts_with("GITLAB_WEBHOOK_SECRET is not set"),
            "{e:?}"
        );
        assert!(!e.join("\n").contains("a b"), "a secret was echoed");
    }

    #[test]
    fn sign_in_needs_every_part_and_echoes_no_secret() {
        let with =
            |id: Option<&str>, secret: Option<&str>, key: Option<&str>, url: Option<&str>| {
                ServeArgs {
                    github_client_id: id.map(Into::into),
                    github_client_secret: secret.map(Into::into),
                    session_key: key.map(Into::into),
                    public_url: url.map(Into::into),
                    ..gitlab_only(None, Some("t"), Some("s"))
                }
            };
        let key = "k".repeat(32);
        let s = with(
            Some("Iv1.x"),
            Some("shh"),
            Some(&key),
            Some("https://bot.example.com/"),
        )
        .settings()
        .unwrap();
        let sign_in = s.sign_in.unwrap();
        assert_eq!(sign_in.public_url, "https://bot.example.com");
        assert_eq!(sign_in.lifetime, Duration::from_secs(28_800));
        assert!(
            with(None, None, None, None)
                .settings()
                .unwrap()
                .sign_in
                .is_none()
        );
        let errors = with(Some("Iv1.x"), None, Some("short-secret"), None)
            .settings()
            .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("set both IMMUTABOT_GITHUB_CLIENT_ID"));
        assert!(errors[1].starts_with("IMMUTABOT_SESSION_KEY must be at least 32 bytes"));
        assert!(errors[2].starts_with("IMMUTABOT_PUBLIC_URL must be set"));
        let errors = with(Some("Iv1.x"), Some("shh"), None, Some("https://b.example"))
            .settings()
            .unwrap_err();
        assert!(
            errors[0].starts_with("IMMUTABOT_SESSION_KEY is not set"),
            "{errors:?}"
        );
        assert!(!errors.join("\n").contains("short-secret") && !errors.join("\n").contains("shh"));
    }

    #[test]
    fn neither_forge_is_one_clear_line() {
        let errors = gitlab_only(None, None, None).settings().unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("no forge is configured: set GITHUB_APP_ID"));
        assert!(errors[0].contains("GITLAB_TOKEN and GITLAB_WEBHOOK_SECRET"));
    }
}
