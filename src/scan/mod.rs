//! Full-repository scans: every Compose and Kubernetes file of a commit, analysed (or taken
//! from the cache by blob id), stored as a snapshot whose unit states are kept by change.

pub mod cache;
pub mod enqueue;
pub mod files;
pub mod in_flight;
pub mod snapshot;
pub mod store;
