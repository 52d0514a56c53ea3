//! Whether a fix-all pull request may be made for a repository now: the setting, the
//! repository's opt-in, what asked, and the per-installation rate.

use crate::queue::job::FixTrigger;
use std::time::Duration;

/// `IMMUTABOT_FIX_PULL_REQUESTS`: which repositories get one without being asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every repository with something to fix.
    All,
    /// Repositories whose `.immutabot.yml` says `fix_pull_request: true` (and any a person
    /// asks for).
    #[default]
    OptIn,
    /// None, not even on demand: the bot never writes to repositories.
    Off,
}

impl Mode {
    /// Parses the setting's value.
    pub fn parse(text: &str) -> Result<Mode, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Mode::All),
            "opt-in" | "optin" | "" => Ok(Mode::OptIn),
            "off" => Ok(Mode::Off),
            _ => Err(format!(
                "IMMUTABOT_FIX_PULL_REQUESTS `{text}` is not one of all, opt-in, off"
            )),
        }
    }
}

/// The fix-pull settings of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixPullSettings {
    /// Which repositories get one.
    pub mode: Mode,
    /// Repositories of one installation that may get a new commit per hour.
    pub per_hour: u32,
}

/// The default of `IMMUTABOT_FIX_PULL_REQUESTS_PER_HOUR`.
pub const DEFAULT_PER_HOUR: u32 = 20;

/// The window of the rate.
pub const WINDOW: Duration = Duration::from_secs(3600);

impl Default for FixPullSettings {
    fn default() -> Self {
        FixPullSettings {
            mode: Mode::OptIn,
            per_hour: DEFAULT_PER_HOUR,
        }
    }
}

/// Whether this job may look at the repository at all; `Err` says why not.
pub fn allowed(
    settings: &FixPullSettings,
    trigger: FixTrigger,
    opted_in: bool,
    has_record: bool,
) -> Result<(), &'static str> {
    match settings.mode {
        Mode::Off => Err("fix pull requests are off (IMMUTABOT_FIX_PULL_REQUESTS=off)"),
        Mode::All => Ok(()),
        // A pull request the bot already made is kept up to date (or closed) whatever
        // asked: leaving it to go stale would be worse than either.
        Mode::OptIn if opted_in || trigger.on_demand() || has_record => Ok(()),
        Mode::OptIn => Err("the repository has not opted in (fix_pull_request: true)"),
    }
}

/// Whether one more repository of the installation may get a commit, given how many got
/// one within the window.
pub fn within_rate(settings: &FixPullSettings, written_in_window: i64) -> bool {
    written_in_window < i64::from(settings.per_hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_refuse_the_rest() {
        assert_eq!(Mode::parse("all"), Ok(Mode::All));
        assert_eq!(Mode::parse("Opt-In"), Ok(Mode::OptIn));
        assert_eq!(Mode::parse("off"), Ok(Mode::Off));
        assert!(Mode::parse("sometimes").is_err());
    }

    #[test]
    fn opt_in_lets_people_and_opted_in_repositories_through() {
        let s = FixPullSettings::default();
        assert!(allowed(&s, FixTrigger::Scan, false, false).is_err());
        assert!(allowed(&s, FixTrigger::Scan, true, false).is_ok());
        assert!(allowed(&s, FixTrigger::Scan, false, true).is_ok());
        assert!(allowed(&s, FixTrigger::Report, false, false).is_ok());
        let off = FixPullSettings {
            mode: Mode::Off,
            ..s
        };
        assert!(allowed(&off, FixTrigger::Cli, true, true).is_err());
    }

    #[test]
    fn the_rate_counts_repositories_written_in_the_window() {
        let s = FixPullSettings {
            per_hour: 2,
            ..Default::default()
        };
        assert!(within_rate(&s, 1));
        assert!(!within_rate(&s, 2));
    }
}
