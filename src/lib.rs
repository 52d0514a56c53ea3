//! immutabot: finds containers whose root file system is writable, and patches them.
//!
//! The analysis core is its own crate, [`immutabot_core`] (pure: text in, inventory,
//! findings and patches out); its modules are re-exported here under their own names. This
//! crate adds the CLI and, with the `service` feature (on by default), the review service:
//! forges, queue, database, report.

pub use immutabot_core::{
    analyze, config, date, expiry, inventory, knowledge, model, output, owners, patch, rules,
    suppress, template, yaml,
};

#[cfg(feature = "service")]
pub mod auth;
pub mod cli;
#[cfg(feature = "service")]
pub mod db;
#[cfg(feature = "service")]
pub mod forge;
pub mod ids;
#[cfg(feature = "service")]
pub mod jobs;
#[cfg(feature = "service")]
pub mod queue;
#[cfg(feature = "service")]
pub mod reconcile;
pub mod render;
#[cfg(feature = "service")]
pub mod report;
#[cfg(feature = "service")]
pub mod rescan;
#[cfg(feature = "service")]
pub mod review;
#[cfg(feature = "service")]
pub mod scan;
#[cfg(feature = "service")]
pub mod server;
#[cfg(feature = "service")]
pub mod service;
#[cfg(feature = "service")]
pub mod settings;
#[cfg(feature = "service")]
pub mod setup;
#[cfg(feature = "service")]
pub mod storage;
#[cfg(feature = "service")]
pub mod telemetry;
pub mod today;
#[cfg(feature = "service")]
pub mod webhook;
