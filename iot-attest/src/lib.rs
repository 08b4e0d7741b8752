#![no_std]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;

mod claim;
mod claims;
mod error;
pub mod key;
mod label;
pub mod psa;
mod seq;
mod submod;
mod token;
mod util;
mod value;

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
