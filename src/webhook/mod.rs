//! Durable intake: a delivery, the facts it carries and its job, stored before the forge
//! gets its answer. The forges' payloads are parsed in their adapters (`forge::github::webhook`).

pub mod batch;
pub mod gitlab;
pub mod intake;
pub mod outage;
