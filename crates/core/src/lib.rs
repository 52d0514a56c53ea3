//! immutabot's analysis core: text in, units, findings and line-exact patches out.
//!
//! Nothing here does I/O: no files, no network, no database, no clock. The CLI and the
//! service call [`analyze::analyze`] with bytes and a [`analyze::Resolver`] for the files a
//! document refers to, and get a [`model::FileReport`] back. Keeping it a crate of its own
//! lets the compiler hold that line: tokio, sqlx, axum, octocrab and reqwest are not
//! dependencies of this crate.

pub mod analyze;
pub mod config;
pub mod date;
pub mod expiry;
pub mod inventory;
pub mod knowledge;
pub mod model;
pub mod output;
pub mod owners;
pub mod patch;
pub mod render;
pub mod rules;
pub mod suppress;
pub mod template;
pub mod yaml;
