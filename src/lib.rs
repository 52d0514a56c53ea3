//! immutabot: finds containers whose root file system is writable, and patches them.
//!
//! The analysis core ([`analyze::analyze`]) is pure: text in, inventory, findings and patches
//! out. The CLI and the service are thin edges around it.

pub mod analyze;
pub mod cli;
pub mod config;
pub mod forge;
pub mod ids;
pub mod inventory;
pub mod knowledge;
pub mod model;
pub mod output;
pub mod patch;
pub mod review;
pub mod rules;
pub mod suppress;
pub mod yaml;
