//! GitHub webhooks: the signature check and the events we act on. Payload types stay in
//! [`event`]; what leaves is [`event::Event`].

pub mod batch;
pub mod event;
pub mod intake;
pub mod rerun;
pub mod signature;
