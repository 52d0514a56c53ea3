//! Who may read the compliance report (bearer tokens, one owner each; sessions after
//! signing in with GitHub), and comparing secrets in constant time.

pub mod constant_time;
pub mod return_path;
pub mod session;
pub mod tokens;
