//! The texts of a fix-all pull request: its title, body, commit message, and the comments
//! the bot leaves on it. Names from the repository are escaped as in reviews.

use super::patches::PatchSet;
use crate::review::escape;
use askama::Template;

/// The pull request's title.
pub const TITLE: &str = "Run containers with a read-only root file system";

/// Ends every text the bot writes on a fix-all pull request (and finds its comments again).
pub const MARKER: &str = "<!-- immutabot:fix-pull -->";

/// Ends the note the bot closes a pull request with.
const CLOSED_KEY: &str = "<!-- immutabot:fix-pull closed -->";

#[derive(Template)]
#[template(path = "fix_pull/body.md")]
struct BodyTemplate {
    lead: String,
    noun: &'static str,
    units: Vec<UnitRow>,
    reasons: Vec<Reason>,
    base: String,
    marker: &'static str,
}

struct UnitRow {
    path: String,
    unit: String,
    description: String,
}

struct Reason {
    image: String,
    why: String,
    sources: String,
}

#[derive(Template)]
#[template(path = "fix_pull/comment.md")]
struct ForeignPushTemplate {
    noun: &'static str,
    head: String,
    branch: String,
    base: String,
    marker: String,
}

#[derive(Template)]
#[template(path = "fix_pull/closed.md")]
struct ClosedTemplate {
    noun: &'static str,
    base: String,
    marker: &'static str,
}

/// The change request's body: each unit, the scratch mounts it got, and why. `noun` is what
/// the forge calls it (`pull request`).
pub fn body(set: &PatchSet, base_branch: &str, base_sha: &str, noun: &'static str) -> String {
    let n = set.units.len();
    let files = set.files.len();
    let lead = format!(
        "immutabot found {} with a writable root file system on {} at {}. This {noun} makes {} read-only, with the scratch mounts each image needs, in {}.",
        plural(n, "service or container", "services and containers"),
        escape::code(base_branch),
        escape::code(short(base_sha)),
        if n == 1 { "it" } else { "them" },
        plural(files, "file", "files"),
    );
    let units = set
        .units
        .iter()
        .map(|u| UnitRow {
            path: escape::cell(&escape::code(&u.path)),
            unit: escape::cell(&escape::code(&u.unit)),
            description: escape::cell(&escape::message(&u.description)),
        })
        .collect();
    let mut reasons: Vec<Reason> = Vec::new();
    for u in &set.units {
        let (Some(image), Some(why)) = (&u.image, &u.why) else {
            continue;
        };
        let image = escape::code(image);
        if reasons.iter().any(|r| r.image == image) {
            continue;
        }
        reasons.push(Reason {
            image,
            why: escape::message(why),
            // The knowledge base names its sources in words (a README, a pull request).
            sources: u
                .sources
                .iter()
                .map(|s| escape::message(s))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    crate::review::render::render(&BodyTemplate {
        lead,
        noun,
        units,
        reasons,
        base: escape::code(base_branch),
        marker: MARKER,
    })
}

/// The commit's message.
pub fn commit_message(set: &PatchSet) -> String {
    format!(
        "{TITLE}\n\nimmutabot makes {} read-only, with the scratch mounts each image needs.\n",
        plural(
            set.units.len(),
            "service or container",
            "services and containers"
        )
    )
}

/// The comment left when someone else pushed `head` to the branch; `key` names the push.
pub fn foreign_push(
    head: &str,
    branch: &str,
    base_branch: &str,
    noun: &'static str,
) -> (String, String) {
    let key = format!("<!-- immutabot:fix-pull foreign {head} -->");
    let text = crate::review::render::render(&ForeignPushTemplate {
        noun,
        head: escape::code(short(head)),
        branch: escape::code(branch),
        base: escape::code(base_branch),
        marker: key.clone(),
    });
    (text, key)
}

/// The note the change request is closed with, and the key that finds it again.
pub fn closed(base_branch: &str, noun: &'static str) -> (String, &'static str) {
    let text = crate::review::render::render(&ClosedTemplate {
        noun,
        base: escape::code(base_branch),
        marker: CLOSED_KEY,
    });
    (text, CLOSED_KEY)
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
