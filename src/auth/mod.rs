//! Who may read the compliance report (bearer tokens, one owner each), and comparing
//! secrets in constant time.

pub mod constant_time;
pub mod tokens;
