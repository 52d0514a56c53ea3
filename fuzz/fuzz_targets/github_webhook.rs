//! GitHub deliveries: any body under any of the events we read, through the signature check
//! and the parser the webhook endpoint uses (`signature::verify`, `event::parse_with_action`).
//!
//! The first byte picks the `X-GitHub-Event`; the rest is the body. Never a panic; a forged
//! signature never passes while the real one always does; and the one-pass parse the endpoint
//! uses agrees with the plain parse and with the `action` read on its own.

#![no_main]

use immutabot::forge::github::webhook::event::{self, Event};
use immutabot::forge::github::webhook::signature;
use libfuzzer_sys::fuzz_target;

const EVENTS: [&str; 8] = [
    "pull_request",
    "installation",
    "installation_repositories",
    "push",
    "check_run",
    "check_suite",
    "ping",
    "pull_request_review",
];

const SECRET: &[u8] = b"fuzz-webhook-secret";

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let event_name = EVENTS[first as usize % EVENTS.len()];
    check_signature(body);
    let (action, parsed) = event::parse_with_action(event_name, body);
    let plain = event::parse(event_name, body);
    match (&parsed, &plain) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the one-pass parse differs from the plain one"),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "one parse failed and the other did not: {:?} / {:?}",
            parsed.as_ref().map(|_| ()).map_err(|e| e.to_string()),
            plain.as_ref().map(|_| ()).map_err(|e| e.to_string())
        ),
    }
    if parsed.is_ok() || event_name != "pull_request" {
        assert_eq!(
            action,
            event::action_of(body),
            "action read twice, differently"
        );
    }
    if let Ok(ev) = parsed {
        check_event(&ev);
    }
});

/// A forged header never passes; the header GitHub would send always does.
fn check_signature(body: &[u8]) {
    let secrets = [SECRET.to_vec()];
    let good = signature::sign(SECRET, body);
    assert!(signature::verify(&secrets, Some(good.as_bytes()), body));
    // The body's own first bytes as a header: attacker-chosen text.
    let forged = &body[..body.len().min(80)];
    if forged != good.as_bytes() {
        assert!(!signature::verify(&secrets, Some(forged), body));
    }
    assert!(!signature::verify(&[], Some(good.as_bytes()), body));
    assert!(!signature::verify(&secrets, None, body));
}

/// What a parsed event promises its readers.
fn check_event(ev: &Event) {
    match ev {
        Event::Review(r) => {
            assert!(r.number.0 > 0, "pull request number {}", r.number.0);
            assert!(r.repo.name.to_string().contains('/'));
        }
        Event::Scan(s) => assert!(s.repo.name.to_string().contains('/')),
        Event::Ignored(why) => assert!(!why.is_empty()),
        _ => {}
    }
}
