#![no_std]
#![doc = include_str!("../README.md")]
// The README links the whole API, some of it behind features (the builder needs `alloc`, its
// JSON reader `json`, `device_dir` needs `std`): documented with fewer features those links
// cannot resolve.
#![cfg_attr(
    not(all(feature = "json", feature = "full", feature = "rustcrypto")),
    allow(rustdoc::broken_intra_doc_links)
)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod ab;
#[cfg(feature = "alloc")]
pub mod builder;
mod cbor;
pub mod command;
mod component;
#[cfg(feature = "delegation")]
pub mod delegation;
#[cfg(all(feature = "std", feature = "rustcrypto"))]
pub mod device_dir;
mod digest;
#[cfg(feature = "encryption")]
pub mod encryption;
mod envelope;
mod error;
mod manifest;
pub mod platform;
pub mod process;
pub mod report;
#[cfg(feature = "std")]
pub mod rollout;
pub mod text;

#[cfg(feature = "update-management")]
pub use command::ByIndex;
pub use command::{
    Argument, Command, CommandSequence, Commands, IndexArg, IndexList, Parameter, Parameters,
    ReportingPolicy, TryEach,
};
pub use component::{ComponentId, ComponentIter, Components, Segments};
#[cfg(feature = "dependencies")]
pub use component::{Dependencies, Dependency, DependencyIter};
pub use digest::{SuitDigest, alg as digest_alg};
pub use envelope::{AuthenticatedManifest, ENVELOPE_TAG, Envelope, NoVerifier, TrustAnchors};
pub use error::{Capacity, Error, MapKind, Result, Unsupported};
pub use manifest::{
    Common, MANIFEST_VERSION, Manifest, Severable, common_key, envelope_key, manifest_key,
};
pub use platform::{
    Component, Identifier, ManifestId, Platform, PlatformError, PlatformResult, Record,
    SequenceKind,
};
pub use process::{Processor, SuitCrypto};

/// Authentication blocks read from one authentication wrapper; more is
/// [`Error::CapacityExceeded`]. Each costs a signature or MAC check, so the bound also bounds work.
pub const MAX_AUTHENTICATION_BLOCKS: usize = 4;
/// Integrated payloads and dependencies (text-keyed envelope members) in one envelope.
pub const MAX_INTEGRATED_PAYLOADS: usize = 8;
/// Components in `suit-components`, entries in `suit-dependencies`, and indices in one
/// `set-component-index` list (libcsuit's default: 3 components and 1 dependency).
pub const MAX_COMPONENTS: usize = 4;
/// Commands in one command sequence, and sequences in one `try-each` (libcsuit's default: 20).
pub const MAX_COMMANDS: usize = 20;
/// Command sequences nested through `try-each` and `run-sequence`, the top level counting as 1
/// (the nRF SUIT processor's depth: 5).
pub const MAX_NESTING: usize = 5;
