#![no_std]
#![doc = include_str!("../README.md")]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod credential;
#[cfg(feature = "device-dir")]
pub mod device_dir;
pub mod dice;
pub mod enrolment;
mod error;
#[cfg(feature = "pem")]
pub mod key_pem;
pub mod keystore;
#[cfg(feature = "registrar")]
pub mod registrar;
pub mod revocation;
pub mod ueid;
pub mod x509;

pub use error::{Error, Result};
