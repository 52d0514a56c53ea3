//! The fake GitHub itself, exercised over real HTTP.

#[path = "support/fake_github/mod.rs"]
mod fake_github;

#[tokio::test]
async fn starts() {
    let gh = fake_github::FakeGitHub::start(1).await;
    assert!(gh.url().starts_with("http://127.0.0.1:"));
}
