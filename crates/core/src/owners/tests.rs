use super::*;

fn owners(file: &CodeOwners, path: &str) -> String {
    file.owners_of(path).join(" ")
}

fn errors(file: &CodeOwners) -> String {
    file.errors().iter().map(|e| format!("{e}\n")).collect()
}

const GITHUB: &str = "\
# Platform owns everything by default.
*                       @acme/platform
/deploy/                @acme/ops   # comment after the owners
/deploy/payments/       @acme/payments ops@acme.example
/deploy/payments/legacy.yaml
\\#notes.yaml            @acme/docs
";

#[test]
fn github_last_match_wins_and_an_ownerless_line_unowns() {
    let f = CodeOwners::parse(GITHUB, Syntax::GitHub);
    assert_eq!(errors(&f), "");
    assert_eq!(owners(&f, "compose.yaml"), "@acme/platform");
    assert_eq!(owners(&f, "deploy/web.yaml"), "@acme/ops");
    assert_eq!(
        owners(&f, "deploy/payments/api.yaml"),
        "@acme/payments ops@acme.example"
    );
    assert_eq!(owners(&f, "deploy/payments/legacy.yaml"), "");
    assert_eq!(owners(&f, "#notes.yaml"), "@acme/docs");
}

#[test]
fn gitlab_sections_are_a_union_and_each_section_keeps_its_last_match() {
    let text = "\
* @acme/platform

[Operations] @acme/ops
/deploy/
/deploy/web.yaml @alice

^[Security][2] @acme/security
*.yaml
!deploy/test/**

[operations] @acme/sre
/charts/
";
    let f = CodeOwners::parse(text, Syntax::GitLab);
    assert_eq!(errors(&f), "");
    assert_eq!(
        owners(&f, "deploy/api.yaml"),
        "@acme/platform @acme/ops @acme/security"
    );
    assert_eq!(
        owners(&f, "deploy/web.yaml"),
        "@acme/platform @alice @acme/security"
    );
    assert_eq!(
        owners(&f, "deploy/test/a.yaml"),
        "@acme/platform @acme/ops",
        "the exclusion takes the file out of Security only"
    );
    // A header of the same name (in another case) continues the section, with its defaults.
    assert_eq!(owners(&f, "charts/x/Chart.md"), "@acme/platform @acme/sre");
}

#[test]
fn locations_follow_each_forge() {
    let present = [
        "CODEOWNERS",
        "docs/CODEOWNERS",
        ".github/CODEOWNERS",
        ".gitlab/CODEOWNERS",
    ];
    let exists = |p: &str| present.contains(&p);
    assert_eq!(Syntax::GitHub.locate(exists), Some(".github/CODEOWNERS"));
    assert_eq!(Syntax::GitLab.locate(exists), Some("CODEOWNERS"));
    assert_eq!(
        Syntax::GitHub.locate(|p| p == "docs/CODEOWNERS"),
        Some("docs/CODEOWNERS")
    );
    assert_eq!(Syntax::GitLab.locate(|_| false), None);
}

#[test]
fn lines_that_do_not_parse_are_reported_and_the_rest_applies() {
    let github = "\
*.yaml @acme/platform
!secret.yaml @acme/sec
deploy/[ab].yaml @acme/ops
/deploy/ acme-ops
/deploy/ @acme/ops/extra
/charts/ @acme/charts
";
    let f = CodeOwners::parse(github, Syntax::GitHub);
    insta::assert_snapshot!("github_errors", errors(&f));
    assert_eq!(owners(&f, "charts/a.yaml"), "@acme/charts");
    assert_eq!(owners(&f, "deploy/a.yaml"), "@acme/platform");

    let gitlab = "\
[Unclosed @acme/ops
[] @acme/ops
[Ops][two]
[Ops] not-an-owner
!tmp/ @acme/ops
/deploy/ @@maintainer @acme/a/b/c
";
    let f = CodeOwners::parse(gitlab, Syntax::GitLab);
    insta::assert_snapshot!("gitlab_errors", errors(&f));
    assert_eq!(owners(&f, "deploy/x"), "@@maintainer @acme/a/b/c");
}
