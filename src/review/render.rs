//! The words of a review: the inline comment on one finding and the review's own body.
//!
//! Layout lives in the askama templates under `templates/review/`; this module decides
//! what goes in and escapes everything that came from the repository. Markdown templates
//! (`.md`) are not HTML-escaped by askama, so escaping is ours.

use crate::model::{Finding, Fix};
use crate::review::plan::Plan;
use crate::review::{MAX_COMMENT_CHARS, escape, fence, marker};
use crate::rules::RuleId;
use askama::Template;

/// What an inline comment shows of a finding's fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixView<'a> {
    /// A suggestion block: the comment covers exactly the lines the fix replaces.
    Suggestion(&'a Fix),
    /// A diff block (from [`fix_diff::unified`](crate::review::fix_diff::unified)): the fix
    /// reaches lines outside the diff, so GitHub could not apply it as a suggestion.
    Diff(&'a Fix, &'a str),
    /// Only the fix's description: the patch is too long for a comment.
    TooLong(&'a Fix),
    /// No fix.
    Nothing,
}

#[derive(Template)]
#[template(path = "review/comment.md")]
struct CommentTemplate<'a> {
    title: &'a str,
    rule: String,
    message: String,
    fix: Option<String>,
    block: Option<String>,
    why: &'a str,
    help_uri: Option<String>,
    marker: String,
}

/// The body of the inline comment on `finding`, ending with its fingerprint marker.
pub fn comment_body(finding: &Finding, fingerprint: &str, view: &FixView<'_>) -> String {
    let rule = RuleId::parse(&finding.rule);
    let description = |fix: &Fix| escape::message(&fix.description);
    let (fix, block) = match view {
        FixView::Suggestion(fix) => (
            Some(description(fix)),
            Some(fence::fenced("suggestion", &fix.replacement)),
        ),
        FixView::Diff(fix, diff) => (
            Some(format!(
                "{}. The patch also changes lines outside this pull request's diff, so GitHub cannot offer it as a suggestion:",
                description(fix).trim_end_matches('.')
            )),
            Some(fence::fenced("diff", diff)),
        ),
        FixView::TooLong(fix) => (
            Some(format!(
                "{}. The patch is too long for a review comment; `immutabot check --fix` applies it.",
                description(fix).trim_end_matches('.')
            )),
            None,
        ),
        FixView::Nothing => (None, None),
    };
    let mut t = CommentTemplate {
        title: rule.map_or("Finding", RuleId::title),
        rule: escape::code(&finding.rule),
        message: escape::message(&finding.message),
        fix,
        block,
        why: rule.map_or("", why),
        help_uri: rule.map(RuleId::help_uri),
        marker: marker::marker(fingerprint),
    };
    let body = render(&t);
    if body.len() <= MAX_COMMENT_CHARS {
        return body;
    }
    // Only an enormous message can get here: keep the marker, cut the words.
    let room = MAX_COMMENT_CHARS.saturating_sub(body.len() - t.message.len());
    t.message = crate::review::truncate(&t.message, room);
    render(&t)
}

#[derive(Template)]
#[template(path = "review/review.md")]
struct ReviewTemplate {
    total: String,
    parts: Vec<String>,
}

/// The review's body: one short paragraph on how many findings there are and where they went.
pub fn review_body(plan: &Plan) -> String {
    let c = &plan.counts;
    let mut parts = Vec::new();
    if c.commented > 0 {
        parts.push(format!("{} with a comment below", c.commented));
    }
    if c.already_open > 0 {
        parts.push(format!(
            "{} already commented on in an earlier review",
            c.already_open
        ));
    }
    if c.annotated > 0 {
        let because = format!(
            "because a review holds at most {} comments",
            plan.max_comments
        );
        let limit = match c.over_limit {
            0 => String::new(),
            n if n == c.annotated => format!(" {because}"),
            n => format!(" ({n} of them {because})"),
        };
        parts.push(format!(
            "{} {} in the check run{limit}",
            c.annotated,
            if parts.is_empty() { "are" } else { "more" },
        ));
    }
    render(&ReviewTemplate {
        total: match c.findings {
            0 => "no findings".to_string(),
            n => plural(n, "finding", "findings"),
        },
        parts,
    })
}

/// `n` and the noun in the right number.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Rendering into a `String` fails only if a value's `Display` fails, and ours never do.
pub(crate) fn render(t: &impl Template) -> String {
    t.render()
        .unwrap_or_else(|e| format!("immutabot could not render this text: {e}"))
}

/// Why a rule matters, in one line.
fn why(rule: RuleId) -> &'static str {
    match rule {
        RuleId::WritableRootFilesystem => {
            "a container that can write to its root file system no longer runs exactly the image that was tested; an update or an attacker can change it in place."
        }
        RuleId::PodLevelReadOnly => {
            "Kubernetes only honours `readOnlyRootFilesystem` on each container; on the pod it is silently ignored."
        }
        RuleId::ReadOnlyBypassed => {
            "a privileged process, or one with `SYS_ADMIN`, can remount `/` read-write, so read-only protects nothing."
        }
        RuleId::TmpfsOwnedByRoot => {
            "a tmpfs belongs to root unless it sets `uid`, so a non-root process cannot write to it and fails at run time."
        }
        RuleId::SwarmTmpfsIgnored => {
            "`docker stack deploy` ignores service-level `tmpfs` in file versions 3.0 to 3.5, so the paths are not writable in the swarm."
        }
        RuleId::MissingScratchMount => {
            "with a read-only root, every path the image writes to needs a scratch mount, or the container fails when it writes there."
        }
        RuleId::ReadOnlyUnknown => {
            "a value only known at deploy time cannot be checked before merge."
        }
        RuleId::InvalidFile => {
            "a file that cannot be parsed cannot be checked, and Compose or kubectl would reject it too."
        }
        RuleId::InvalidSuppression => {
            "a suppression that names no known rule suppresses nothing, while it reads as if it did."
        }
        RuleId::RenderFailed => {
            "a chart or kustomization that does not render deploys nothing that can be checked, and would fail at deploy time too."
        }
    }
}
