//! What to do with a repository's fix-all pull request, given what is to fix and what the
//! branch and the pull request look like now. Pure: every input is read before.

pub use crate::forge::fix_branch::RequestState;

/// How the branch gets the new commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchWrite {
    /// The branch does not exist: create it.
    Create,
    /// The branch holds only the bot's commit: move it, forced.
    Force,
}

/// What the bot remembers of the pull request it made last, its state as the forge shows it
/// now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous<'a> {
    /// Open, closed or merged, now.
    pub state: RequestState,
    /// Whether the bot closed it.
    pub closed_by_us: bool,
    /// The default branch's head its commit was made on.
    pub base_sha: &'a str,
    /// The commit the bot made last on the branch.
    pub head_sha: &'a str,
    /// The fingerprint of the patch set it carried.
    pub fingerprint: &'a str,
    /// The foreign branch head the bot already commented about.
    pub commented_head: Option<&'a str>,
}

/// Everything the decision reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation<'a> {
    /// The fingerprint of what is to fix on the default branch's head; `None` when nothing is.
    pub fixes: Option<&'a str>,
    /// The default branch's head.
    pub base_sha: &'a str,
    /// The pull request made last, if any.
    pub previous: Option<Previous<'a>>,
    /// The branch's head, when the branch exists.
    pub branch_head: Option<&'a str>,
    /// Whether that head is the bot's own last commit.
    pub branch_is_ours: bool,
}

/// The decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Make the commit on the default branch's head and open a new pull request.
    Open(BranchWrite),
    /// Make the commit again on the default branch's head and update the open pull request.
    Update,
    /// Someone else pushed to the branch: say so on the pull request, once per push.
    Comment {
        /// The foreign head.
        head: String,
    },
    /// Nothing is left to fix: close the pull request with a note.
    Close,
    /// Leave everything as it is, for this reason.
    Nothing(&'static str),
}

/// Decides what to do.
pub fn decide(s: &Situation<'_>) -> Action {
    let open = s
        .previous
        .as_ref()
        .filter(|p| p.state == RequestState::Open);
    let Some(fixes) = s.fixes else {
        return match open {
            Some(_) => Action::Close,
            None => Action::Nothing("nothing to fix"),
        };
    };
    if let Some(p) = open {
        return keep_up_to_date(s, p, fixes);
    }
    if let Some(p) = &s.previous
        && p.state == RequestState::Closed
        && !p.closed_by_us
        && p.fingerprint == fixes
    {
        return Action::Nothing("a person closed the pull request and the findings did not change");
    }
    match s.branch_head {
        None => Action::Open(BranchWrite::Create),
        Some(_) if s.branch_is_ours => Action::Open(BranchWrite::Force),
        Some(_) => Action::Nothing("the branch holds commits the bot did not make"),
    }
}

/// An open pull request: re-made when the base moved or the fixes changed, never over a
/// commit someone else pushed.
fn keep_up_to_date(s: &Situation<'_>, p: &Previous<'_>, fixes: &str) -> Action {
    if s.branch_head.is_none() {
        // The branch was deleted under an open pull request: GitHub closes it, so this is a
        // moment's race; the next run sees it closed.
        return Action::Nothing("the branch is gone");
    }
    if !s.branch_is_ours {
        let head = s.branch_head.unwrap_or_default();
        if p.commented_head == Some(head) {
            return Action::Nothing("someone else pushed; already said so");
        }
        return Action::Comment {
            head: head.to_string(),
        };
    }
    if p.base_sha == s.base_sha && p.fingerprint == fixes {
        return Action::Nothing("up to date");
    }
    Action::Update
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previous(state: RequestState) -> Previous<'static> {
        Previous {
            state,
            closed_by_us: false,
            base_sha: "b1",
            head_sha: "h1",
            fingerprint: "f1",
            commented_head: None,
        }
    }

    fn situation(
        fixes: Option<&'static str>,
        previous: Option<Previous<'static>>,
    ) -> Situation<'static> {
        Situation {
            fixes,
            base_sha: "b1",
            branch_head: previous.as_ref().map(|p| p.head_sha),
            branch_is_ours: previous.is_some(),
            previous,
        }
    }

    #[test]
    fn a_first_fix_opens_a_pull_request_and_nothing_to_fix_does_nothing() {
        assert_eq!(
            decide(&situation(Some("f1"), None)),
            Action::Open(BranchWrite::Create)
        );
        assert_eq!(
            decide(&situation(None, None)),
            Action::Nothing("nothing to fix")
        );
    }

    #[test]
    fn an_open_pull_request_follows_the_base_and_the_findings() {
        let same = situation(Some("f1"), Some(previous(RequestState::Open)));
        assert_eq!(decide(&same), Action::Nothing("up to date"));
        let moved = Situation {
            base_sha: "b2",
            ..same.clone()
        };
        assert_eq!(decide(&moved), Action::Update);
        let changed = situation(Some("f2"), Some(previous(RequestState::Open)));
        assert_eq!(decide(&changed), Action::Update);
        assert_eq!(
            decide(&situation(None, Some(previous(RequestState::Open)))),
            Action::Close
        );
    }

    #[test]
    fn someone_elses_push_is_commented_on_once_and_never_overwritten() {
        let pushed = Situation {
            base_sha: "b2",
            branch_head: Some("theirs"),
            branch_is_ours: false,
            ..situation(Some("f2"), Some(previous(RequestState::Open)))
        };
        assert_eq!(
            decide(&pushed),
            Action::Comment {
                head: "theirs".into()
            }
        );
        let said = Situation {
            previous: Some(Previous {
                commented_head: Some("theirs"),
                ..previous(RequestState::Open)
            }),
            ..pushed
        };
        assert_eq!(
            decide(&said),
            Action::Nothing("someone else pushed; already said so")
        );
    }

    #[test]
    fn a_person_closed_pull_request_comes_back_only_for_new_findings() {
        let closed = situation(Some("f1"), Some(previous(RequestState::Closed)));
        assert!(matches!(decide(&closed), Action::Nothing(_)));
        let new_findings = situation(Some("f2"), Some(previous(RequestState::Closed)));
        assert_eq!(decide(&new_findings), Action::Open(BranchWrite::Force));
        let ours = Situation {
            previous: Some(Previous {
                closed_by_us: true,
                ..previous(RequestState::Closed)
            }),
            ..closed.clone()
        };
        assert_eq!(decide(&ours), Action::Open(BranchWrite::Force));
        let merged = situation(Some("f1"), Some(previous(RequestState::Merged)));
        assert_eq!(decide(&merged), Action::Open(BranchWrite::Force));
    }

    #[test]
    fn a_foreign_branch_without_a_pull_request_is_left_alone() {
        let foreign = Situation {
            branch_head: Some("theirs"),
            branch_is_ours: false,
            ..situation(Some("f1"), None)
        };
        assert!(matches!(decide(&foreign), Action::Nothing(_)));
    }
}
