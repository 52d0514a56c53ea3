//! GitLab deliveries: any `X-Gitlab-Token` and any body through what the webhook endpoint
//! runs before it stores anything (`token_matches`, `parse`, `job_of`, `dedupe_key`).
//!
//! The first byte is how long the token is, taken from the front of the rest; the remainder
//! is the body. Never a panic; only the configured secret opens the door; an event we act on
//! has positive ids, a job whose stored form reads back as the same job, and a dedupe key.

#![no_main]

use immutabot::forge::gitlab::webhook::{self, GitLabEvent};
use immutabot::queue::job::Job;
use immutabot::webhook::gitlab::job_of;
use libfuzzer_sys::fuzz_target;

const SECRET: &[u8] = b"fuzz-gitlab-token";

fuzz_target!(|data: &[u8]| {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let (token, body) = rest.split_at((len as usize).min(rest.len()));
    check_token(token);
    let event = match webhook::parse(body) {
        Ok(event) => event,
        Err(e) => {
            assert!(!e.0.is_empty(), "an error without words");
            return;
        }
    };
    let uuid = std::str::from_utf8(token).ok();
    match &event {
        GitLabEvent::Review(mr) => {
            assert!(mr.project_id.0 > 0 && mr.iid.0 > 0);
            assert!(webhook::dedupe_key(uuid, &event).is_some());
        }
        GitLabEvent::Push(push) => {
            assert!(push.project_id.0 > 0);
            assert!(webhook::dedupe_key(uuid, &event).is_some());
        }
        GitLabEvent::Ignored(why) => {
            assert!(!why.is_empty());
            assert!(webhook::dedupe_key(uuid, &event).is_none());
        }
    }
    // A project path GitLab would never send is refused here, not stored.
    if let Ok(Some(job)) = job_of(&event) {
        let back = Job::decode(job.kind(), &job.to_payload()).expect("a job we made reads back");
        assert_eq!(back, job, "the stored job reads back differently");
    }
});

fn check_token(token: &[u8]) {
    let secrets = [SECRET.to_vec(), b"old-token".to_vec()];
    assert_eq!(
        webhook::token_matches(Some(token), &secrets),
        token == SECRET || token == b"old-token"
    );
    assert!(webhook::token_matches(Some(SECRET), &secrets));
    assert!(!webhook::token_matches(Some(token), &[]));
}
