#![no_std]
#![doc = include_str!("../README.md")]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod credential;
pub mod dice;
pub mod enrolment;
mod error;
pub mod keystore;
pub mod revocation;
pub mod ueid;
pub mod x509;

pub use error::{Error, Result};
