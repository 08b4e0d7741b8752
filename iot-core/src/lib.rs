#![no_std]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cbor;
pub mod cose;
pub mod crypto;
pub mod diag;
mod error;

pub use error::{CborError, Error, Result};
