//! The rules: what is wrong with a unit, as findings with patches.

mod id;

pub use id::RuleId;
