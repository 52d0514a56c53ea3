//! What the end-to-end tests commit to a default branch (commit ids, manifests) and how a
//! patched file is judged (the fix-all pull and merge request tests).

#![allow(dead_code)]

use immutabot::config::Config;
use immutabot::scan::files::{Recording, TreeFiles};

/// The default branch's heads, oldest first.
pub const C1: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
/// See [`C1`].
pub const C2: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
/// See [`C1`].
pub const C3: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";

/// `.immutabot.yml` opting the repository in.
pub const OPT_IN: &str = "fix_pull_request: true\n";

/// A writable nginx Deployment, with a comment the patch must keep.
pub const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      # The shop's front end.
      containers:
        - name: nginx
          image: nginx:1.27
          ports:
            - containerPort: 8080
";

/// A Compose file with one read-only and one writable service.
pub const COMPOSE: &str = "\
services:
  db:
    image: postgres:17
    read_only: true
    tmpfs:
      - /tmp
      - /var/run/postgresql
  worker:
    image: ghcr.io/acme/worker:2.1
";

/// A writable Job, for a later commit.
pub const JOB: &str = "\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      containers:
        - name: migrate
          image: redis:7
";

/// Unsuppressed findings the core still has a patch for, in these files (path, bytes).
pub fn still_to_fix<P: AsRef<str>, B: AsRef<[u8]>>(
    files: impl IntoIterator<Item = (P, B)>,
) -> Vec<String> {
    let empty = TreeFiles::default();
    let mut out = Vec::new();
    for (path, bytes) in files {
        let (path, bytes) = (path.as_ref(), bytes.as_ref());
        if !immutabot::analyze::is_candidate(path) {
            continue;
        }
        let report =
            immutabot::analyze::analyze(path, bytes, &Config::default(), &Recording::new(&empty));
        for f in report.findings.iter().filter(|f| f.suppressed.is_none()) {
            if f.fix.is_some() || f.rule == "writable-root-filesystem" {
                out.push(format!("{path}:{}: {}", f.line, f.rule));
            }
        }
    }
    out
}

/// Lines of `before` that `after` drops: a patch here only adds lines.
pub fn dropped_lines(before: &str, after: &str) -> Vec<String> {
    similar::TextDiff::from_lines(before, after)
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Delete)
        .map(|c| c.value().to_string())
        .collect()
}
