#![no_std]
#![doc = include_str!("../README.md")]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod aad;
pub mod classes;
pub mod coap;
pub mod context;
mod error;
pub mod nonce;
pub mod oscore_option;
pub mod persistence;
mod protect;
pub mod proxy_uri;
pub mod replay;

pub use context::{ContextParams, SecurityContext};
pub use error::{Error, FormatError, Result};
pub use persistence::{Incoming, PersistedContext, SequenceNumberStore};
pub use protect::{ReceivedRequest, ResponseNonce, SentRequest, UnprotectedResponse};
pub use replay::ReplayWindow;
