//! Pull-request review: which findings become inline comments, which go to the check run,
//! and the exact text of both.
