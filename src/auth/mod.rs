//! Who may read the compliance report: bearer tokens, one owner each.

pub mod tokens;
