//! GitHub's webhooks: the signature check and the events we act on. Payload types stay in
//! [`event`] and [`rerun`]; what leaves is [`event::Event`].

pub mod event;
pub mod rerun;
pub mod signature;
