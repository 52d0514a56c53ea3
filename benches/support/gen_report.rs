//! Generated scan and pull-request history for the report: benches/report.rs fills a
//! database with it (2,000 repositories × 100 units × 52 weekly scans), the browser test a
//! small one. Deterministic for a seed and a `now`.
//!
//! Unit states are stored by change, as the service stores them: a unit's row stays open
//! (`valid_to` null) until a scan sees it in another state. Each week a small share of units
//! change, more often towards read-only, so the trend climbs slowly.
//!
//! Ownership is what CODEOWNERS would give, per repository folder (see [`codeowners`]): a few
//! dozen teams of very different sizes, most units owned by one team or two, some by nobody.
//! Each unit row carries the highest severity of its findings, mostly `error` (the
//! writable-root rule's default). Both come from their own random stream, so the states,
//! scans and row counts are the same as without them.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use std::fmt::Write as _;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The owner (organisation) of every repository.
    pub owner: String,
    /// Repositories.
    pub repositories: usize,
    /// Units per repository (current, and at every scan).
    pub units_per_repository: usize,
    /// Weekly scans per repository, the last one in the week of `now`.
    pub weeks: usize,
    /// Share of units whose state changes per week.
    pub change_per_week: f64,
    /// Pull requests per repository (each with checks and findings).
    pub pull_requests: usize,
    /// Teams named in the repositories' CODEOWNERS (0: no owners at all, every unit
    /// "(no owner)").
    pub teams: usize,
    /// Random seed.
    pub seed: u64,
}

/// Row counts written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    /// `repositories` rows.
    pub repositories: usize,
    /// `scans` rows.
    pub scans: usize,
    /// `unit_states` rows in all (history included).
    pub unit_states: usize,
    /// Of those, current rows (`valid_to` null).
    pub current_units: usize,
    /// `pull_requests`, `checks` and `findings` rows.
    pub pull_requests: i64,
    /// `checks` rows.
    pub checks: i64,
    /// `findings` rows.
    pub findings: i64,
}

const STATES: [&str; 4] = ["true", "false", "suppressed", "unknown"];

struct UnitRow {
    repo: i64,
    unit: usize,
    state: usize,
    from_scan: i64,
    from: DateTime<Utc>,
    to: Option<(i64, DateTime<Utc>)>,
}

/// Fills an empty, migrated database; repository ids start at `first_id`.
pub async fn generate(
    pool: &PgPool,
    shape: &Shape,
    first_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Written> {
    let mut rng = fastrand::Rng::with_seed(shape.seed);
    sqlx::query(
        "insert into installations (id, account_login) values ($1, $2) on conflict do nothing",
    )
    .bind(first_id)
    .bind(&shape.owner)
    .execute(pool)
    .await?;
    sqlx::query(
        "insert into repositories (id, installation_id, owner, name, default_branch, private)
         select $1 + n, $1, $2, 'service-' || lpad(n::text, 4, '0'), 'main', n % 3 = 0
         from generate_series(0, $3 - 1) as n",
    )
    .bind(first_id)
    .bind(&shape.owner)
    .bind(shape.repositories as i64)
    .execute(pool)
    .await?;

    let mut scans = String::new();
    let mut units: Vec<UnitRow> = Vec::new();
    let mut scan_id = first_id * 1000;
    let mut written = Written {
        repositories: shape.repositories,
        ..Written::default()
    };
    for r in 0..shape.repositories {
        let repo = first_id + r as i64;
        // Each repository starts somewhere between 5 % and 85 % read-only.
        let start = 0.05 + 0.8 * rng.f64();
        let mut current: Vec<usize> = Vec::with_capacity(shape.units_per_repository);
        for w in 0..shape.weeks {
            scan_id += 1;
            let weeks_ago = (shape.weeks - 1 - w) as i64;
            let at = now - Duration::weeks(weeks_ago) - Duration::minutes(rng.i64(1..24 * 60));
            let at = if weeks_ago == 0 {
                at.max(week_start(now))
            } else {
                at
            };
            if w == 0 {
                for u in 0..shape.units_per_repository {
                    let state = pick_initial(&mut rng, start);
                    current.push(units.len());
                    units.push(UnitRow {
                        repo,
                        unit: u,
                        state,
                        from_scan: scan_id,
                        from: at,
                        to: None,
                    });
                }
            } else {
                for slot in current.iter_mut() {
                    if rng.f64() >= shape.change_per_week {
                        continue;
                    }
                    let state = pick_change(&mut rng);
                    let old = &mut units[*slot];
                    if state == old.state {
                        continue;
                    }
                    old.to = Some((scan_id, at));
                    let unit = old.unit;
                    *slot = units.len();
                    units.push(UnitRow {
                        repo,
                        unit,
                        state,
                        from_scan: scan_id,
                        from: at,
                        to: None,
                    });
                }
            }
            let mut counts = [0i32; 4];
            for &slot in &current {
                counts[units[slot].state] += 1;
            }
            let _ = writeln!(
                scans,
                "{scan_id}\t{repo}\t{:016x}{:024x}\tmain\tdone\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                rng.u64(..),
                rng.u128(..) >> 32,
                (at - Duration::seconds(30)).to_rfc3339(),
                at.to_rfc3339(),
                shape.units_per_repository.div_ceil(4),
                shape.units_per_repository,
                counts[0],
                counts[2],
                counts[1],
                counts[3],
            );
            written.scans += 1;
        }
    }
    let mut conn = pool.acquire().await?;
    let mut copy = conn
        .copy_in_raw(
            "copy scans (id, repository_id, commit_sha, branch, state, started_at, finished_at,
                         files, units, read_only, suppressed, writable, unknown) from stdin",
        )
        .await?;
    copy.send(scans.into_bytes()).await?;
    copy.finish().await?;

    let files = shape.units_per_repository.div_ceil(4);
    let mut own_rng = fastrand::Rng::with_seed(shape.seed ^ 0x6f77_6e65_7273);
    let names = team_names(&shape.owner, shape.teams);
    let owners: Vec<Codeowners> = (0..shape.repositories)
        .map(|_| codeowners(&mut own_rng, &shape.owner, &names, files))
        .collect();
    let mut text = String::with_capacity(units.len() * 240);
    for u in &units {
        let repo = &owners[(u.repo - first_id) as usize];
        let (container, line) = (u.unit % 4, 12 + 18 * (u.unit % 4));
        let file = u.unit / 4;
        // The highest severity of the unit's findings, as `.immutabot.yml` rates its rules.
        let (rules, severity) = match STATES[u.state] {
            "false" => ("{writable-root-filesystem}", repo.writable_root),
            "unknown" => ("{read-only-unknown}", "warning"),
            "true" if u.unit % 11 == 0 => ("{missing-scratch-mount}", repo.scratch_mount),
            _ => ("{}", "\\N"),
        };
        let unit_owners = array_literal(&repo.folders[file * repo.folders.len() / files]);
        let fix = if STATES[u.state] == "false" {
            format!(
                r#"{{"description": "Set readOnlyRootFilesystem: true and mount an emptyDir at /tmp", "start_line": {line}, "end_line": {}, "replacement": "        securityContext:\\n          readOnlyRootFilesystem: true\\n"}}"#,
                line + 1
            )
        } else {
            "\\N".to_string()
        };
        let (to_scan, to) = match u.to {
            Some((s, t)) => (s.to_string(), t.to_rfc3339()),
            None => ("\\N".to_string(), "\\N".to_string()),
        };
        let _ = writeln!(
            text,
            "{}\tdeploy/svc-{file:03}.yaml/Deployment/svc-{file:03}/c{container}\tdeploy/svc-{file:03}.yaml\t{line}\tDeployment/svc-{file:03}\tc{container}\tregistry.example.com/svc-{file:03}:1.{}\t{}\t{rules}\t{fix}\t{}\t{}\t{to_scan}\t{to}\t{unit_owners}\t{severity}",
            u.repo,
            u.unit % 7,
            STATES[u.state],
            u.from_scan,
            u.from.to_rfc3339(),
        );
    }
    written.unit_states = units.len();
    written.current_units = units.iter().filter(|u| u.to.is_none()).count();
    let mut copy = conn
        .copy_in_raw(
            "copy unit_states (repository_id, unit_key, path, line, workload, container, image,
                               state, rules, fix, valid_from_scan, valid_from, valid_to_scan,
                               valid_to, owners, severity) from stdin",
        )
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    drop(conn);

    let (prs, checks, findings) = pull_requests(pool, shape, first_id, now).await?;
    written.pull_requests = prs;
    written.checks = checks;
    written.findings = findings;
    sqlx::query("analyze").execute(pool).await?;
    Ok(written)
}

/// One repository's ownership and rule severities.
struct Codeowners {
    /// Owners of each folder (an equal share of the repository's files, in order).
    folders: Vec<Vec<String>>,
    /// Severity of `writable-root-filesystem` in its `.immutabot.yml`.
    writable_root: &'static str,
    /// Severity of `missing-scratch-mount`.
    scratch_mount: &'static str,
}

/// `shape.teams` team names, `@owner/payments` and so on.
fn team_names(owner: &str, teams: usize) -> Vec<String> {
    const WORDS: [&str; 24] = [
        "platform",
        "payments",
        "checkout",
        "search",
        "identity",
        "data",
        "mobile-api",
        "web",
        "billing",
        "catalog",
        "fulfilment",
        "ledger",
        "growth",
        "messaging",
        "risk",
        "pricing",
        "inventory",
        "support-tools",
        "media",
        "maps",
        "ads",
        "partners",
        "reporting",
        "infra",
    ];
    (0..teams)
        .map(|i| match i / WORDS.len() {
            0 => format!("@{owner}/{}", WORDS[i]),
            n => format!("@{owner}/{}-{}", WORDS[i % WORDS.len()], n + 1),
        })
        .collect()
}

/// A team by a Zipf-like weight (a few big teams, a long tail of small ones).
fn pick_team(rng: &mut fastrand::Rng, names: &[String]) -> String {
    let total: f64 = (1..=names.len()).map(|k| 1.0 / k as f64).sum();
    let mut x = rng.f64() * total;
    for (k, name) in names.iter().enumerate() {
        x -= 1.0 / (k + 1) as f64;
        if x < 0.0 {
            return name.clone();
        }
    }
    names[names.len() - 1].clone()
}

/// What a repository's CODEOWNERS says of its 1–4 folders. One repository in twelve has no
/// CODEOWNERS; one in six lists folders only (no `*` line), so its other folders have no
/// owner. A folder line names another team, that team with the platform team, or the
/// default owner with the platform team; now and then a person.
fn codeowners(rng: &mut fastrand::Rng, owner: &str, names: &[String], files: usize) -> Codeowners {
    let folders = rng.usize(1..=4.min(files.max(1)));
    let writable_root = if rng.u8(0..16) == 0 {
        "warning"
    } else {
        "error"
    };
    let scratch_mount = if rng.u8(0..3) == 0 { "info" } else { "warning" };
    let none = || vec![Vec::new(); folders];
    if names.is_empty() || rng.u8(0..12) == 0 {
        return Codeowners {
            folders: none(),
            writable_root,
            scratch_mount,
        };
    }
    let default = (rng.u8(0..6) != 0).then(|| pick_team(rng, names));
    let platform = names[0].clone();
    let folders = (0..folders)
        .map(|f| {
            let inherited = || default.clone().into_iter().collect::<Vec<_>>();
            if f == 0 && default.is_some() {
                return inherited();
            }
            match rng.u8(0..20) {
                0..6 => inherited(),
                6..12 => vec![pick_team(rng, names)],
                12..15 => {
                    let mut two = vec![pick_team(rng, names), platform.clone()];
                    two.dedup();
                    two
                }
                15..18 => {
                    let mut two: Vec<String> = inherited();
                    if !two.contains(&platform) {
                        two.push(platform.clone());
                    }
                    two
                }
                18 => vec![format!("@{}-dev-{:02}", owner, rng.u8(0..40))],
                _ => Vec::new(),
            }
        })
        .collect();
    Codeowners {
        folders,
        writable_root,
        scratch_mount,
    }
}

/// `{"@a/b","@a/c"}`: a text[] in `copy`'s text format.
fn array_literal(owners: &[String]) -> String {
    let quoted: Vec<String> = owners.iter().map(|o| format!("\"{o}\"")).collect();
    format!("{{{}}}", quoted.join(","))
}

/// Monday 00:00 UTC of `now`'s week.
fn week_start(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    let day = now.date_naive() - Duration::days(now.weekday().num_days_from_monday().into());
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
}

fn pick_initial(rng: &mut fastrand::Rng, read_only: f64) -> usize {
    let x = rng.f64();
    if x < read_only {
        0
    } else if x < read_only + 0.03 {
        2
    } else if x < read_only + 0.05 {
        3
    } else {
        1
    }
}

/// A change goes to read-only seven times in ten: teams are fixing things.
fn pick_change(rng: &mut fastrand::Rng) -> usize {
    match rng.u8(0..20) {
        0..14 => 0,
        14..19 => 1,
        _ => 2,
    }
}

/// Pull requests over the last weeks, each with one or two checks and findings: some fixed,
/// some still open. Done in SQL: their volume is small next to the unit history.
async fn pull_requests(
    pool: &PgPool,
    shape: &Shape,
    first_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<(i64, i64, i64)> {
    let last = first_id + shape.repositories as i64 - 1;
    let prs = sqlx::query(
        "insert into pull_requests (repository_id, number, head_sha, state, opened_at, closed_at)
         select r, n, md5(r::text || '/' || n),
                case when n % 4 = 0 then 'open' when n % 7 = 0 then 'closed' else 'merged' end,
                $3 - make_interval(hours => ((r * 7 + n * 53) % (24 * 90))::int),
                case when n % 4 = 0 then null
                     else least($3, $3 - make_interval(hours => ((r * 7 + n * 53) % (24 * 90))::int)
                                    + make_interval(hours => (6 + (r * 13 + n * 29) % 160)::int)) end
         from generate_series($1::bigint, $2::bigint) as r, generate_series(1, $4) as n",
    )
    .bind(first_id)
    .bind(last)
    .bind(now)
    .bind(shape.pull_requests as i32)
    .execute(pool)
    .await?
    .rows_affected() as i64;
    let checks = sqlx::query(
        "insert into checks (repository_id, pull_request_id, head_sha, started_at, finished_at,
                             units, read_only, findings, conclusion)
         select p.repository_id, p.id, p.head_sha || k, p.opened_at + make_interval(hours => k * 20),
                p.opened_at + make_interval(hours => k * 20, secs => 4), 8, 5, 3, 'neutral'
         from pull_requests p, generate_series(0, 1) as k
         where p.repository_id between $1 and $2",
    )
    .bind(first_id)
    .bind(last)
    .execute(pool)
    .await?
    .rows_affected() as i64;
    let findings = sqlx::query(
        "insert into findings (repository_id, pull_request_id, fingerprint, rule, path, line,
                               workload, container, severity, state, first_check_id,
                               last_check_id, fixed_check_id, first_seen_at, last_seen_at, fixed_at)
         select c.repository_id, c.pull_request_id, md5(c.id::text || f),
                (array['writable-root-filesystem', 'missing-scratch-mount', 'tmpfs-owned-by-root'])[f],
                'deploy/svc-001.yaml', 12 + f, 'Deployment/svc-001', 'c' || f,
                case when f = 1 then 'error' else 'warning' end,
                case when f = 1 and p.state <> 'open' then 'fixed'
                     when f = 3 then 'suppressed' else 'open' end,
                c.id, c.id,
                case when f = 1 and p.state <> 'open' then c.id end,
                c.started_at, c.started_at,
                case when f = 1 and p.state <> 'open' then p.closed_at end
         from checks c join pull_requests p on p.id = c.pull_request_id,
              generate_series(1, 3) as f
         where c.repository_id between $1 and $2 and c.head_sha = p.head_sha || '0'",
    )
    .bind(first_id)
    .bind(last)
    .execute(pool)
    .await?
    .rows_affected() as i64;
    Ok((prs, checks, findings))
}
