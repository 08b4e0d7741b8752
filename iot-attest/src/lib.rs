#![no_std]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(all(feature = "alloc", feature = "rustcrypto"))]
pub mod appraise;
#[cfg(feature = "bundle")]
pub mod bundle;
pub mod cdsp;
mod claim;
mod claims;
#[cfg(feature = "alloc")]
pub mod ear;
mod error;
#[cfg(feature = "std")]
pub mod json;
pub mod key;
mod label;
pub mod measure;
pub mod psa;
#[cfg(feature = "registrar")]
pub mod registrar;
mod seq;
mod submod;
pub mod suit;
mod token;
mod util;
mod value;
#[cfg(all(feature = "alloc", feature = "rustcrypto"))]
pub mod verify;

pub use cdsp::KeyId;
pub use claim::Claim;
pub use claims::{
    Claims, ClaimsIter, ClaimsWriter, Extra, ExtraIter, MAX_CLAIMS, MAX_SUBMOD_DEPTH, RawClaim,
};
pub use error::{Error, NO_KEY, Result, Violation};
pub use label::Label;
pub use seq::{Ctx, Encoded, Item, MAX_MAP_ENTRIES, Seq, SeqIter};
pub use submod::{ClaimsSet, DetachedDigest, NestedToken, Submod, Submodule};
pub use token::{CWT_TAG, Envelope, Token, TokenBuilder};
pub use value::{
    Audience, Confirmation, DebugStatus, Dloa, IndividualResult, IntendedUse, Location,
    MeasResGroup, MeasResult, Nonce, NumericDate, OemId, Profile, ResultId, Sueid, SwComponent,
    TypedContent, Version,
};
