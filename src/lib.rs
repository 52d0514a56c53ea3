//! immutabot: finds containers whose root file system is writable, and patches them.
//!
//! The analysis core ([`analyze::analyze`]) is pure: text in, inventory, findings and patches
//! out. The CLI and the service are thin edges around it.

pub mod analyze;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod forge;
pub mod ids;
pub mod inventory;
pub mod jobs;
pub mod knowledge;
pub mod model;
pub mod output;
pub mod patch;
pub mod queue;
pub mod reconcile;
pub mod report;
pub mod rescan;
pub mod review;
pub mod rules;
pub mod scan;
pub mod server;
pub mod service;
pub mod settings;
pub mod setup;
pub mod storage;
pub mod suppress;
pub mod telemetry;
pub mod template;
pub mod webhook;
pub mod yaml;
