#![no_std]
#![doc = include_str!("../README.md")]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod aad;
pub mod classes;
pub mod coap;
pub mod context;
#[cfg(feature = "std")]
pub mod context_dir;
mod error;
pub mod nonce;
pub mod observe;
pub mod oscore_option;
pub mod persistence;
mod protect;
#[cfg(feature = "proxy-uri")]
pub mod proxy_uri;
pub mod replay;
#[cfg(feature = "std")]
pub mod udp;

pub use context::{ContextParams, DerivedKeys, SecurityContext};
pub use error::{CryptoError, Error, FormatError, Result};
pub use observe::{Notification, Observation};
pub use persistence::{Incoming, PersistedContext, SequenceNumberStore};
pub use protect::{ReceivedRequest, ResponseNonce, SentRequest, UnprotectedResponse};
pub use replay::ReplayWindow;
