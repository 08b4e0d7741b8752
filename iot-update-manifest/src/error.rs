//! The error type of iot-update-manifest.

use core::fmt;

/// The CBOR map a member belongs to, named in [`Error::MissingMember`] and [`Error::UnknownMember`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapKind {
    /// `SUIT_Envelope` (draft-ietf-suit-manifest "Envelope").
    Envelope,
    /// `SUIT_Manifest` ("Manifest").
    Manifest,
    /// `SUIT_Common` ("suit-common").
    Common,
    /// `SUIT_Dependency_Metadata` (draft-ietf-suit-trust-domains "SUIT_Dependencies").
    Dependency,
}

/// A fixed capacity of this crate (the constants at the crate root), named in
/// [`Error::CapacityExceeded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capacity {
    /// [`crate::MAX_AUTHENTICATION_BLOCKS`].
    AuthenticationBlocks,
    /// [`crate::MAX_INTEGRATED_PAYLOADS`].
    IntegratedPayloads,
    /// [`crate::MAX_COMPONENTS`].
    Components,
    /// [`crate::MAX_COMMANDS`].
    Commands,
    /// [`crate::MAX_NESTING`].
    Nesting,
    /// The scratch buffer a dependency manifest is read into ([`crate::process::Processor::with_scratch`]).
    DependencyBuffer,
    /// [`crate::process::MAX_DEPENDENCY_DEPTH`].
    DependencyDepth,
    /// [`crate::delegation::MAX_CHAINS`] (feature `delegation`).
    #[cfg(feature = "delegation")]
    DelegationChains,
    /// [`crate::delegation::MAX_CHAIN_LENGTH`] (feature `delegation`).
    #[cfg(feature = "delegation")]
    DelegationChainLength,
}

/// What this build does not process, named in [`Error::Unsupported`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// A command this processor does not execute (its code).
    Command(i32),
    /// A payload with `suit-parameter-encryption-info` (draft-ietf-suit-firmware-encryption)
    /// that this processor cannot decrypt: no key given
    /// ([`crate::process::Processor::with_decryption_key`]), the `encryption` feature off, or a fetch.
    Encryption,
}

/// Errors of SUIT envelope decoding, authentication and manifest decoding.
///
/// Byte offsets (in [`Error::Core`]'s CBOR errors and in the variants that carry one) count from
/// the start of the envelope, also inside bstr-wrapped members.
///
/// Integer payloads (map and parameter keys, command codes, algorithm ids, tags, versions,
/// indices) are 32-bit, as in [`iot_core::Error`]: [`iot_core::Error::label`] narrows a CBOR `int`
/// and [`iot_core::Error::uint`] a `uint`, saturating; every registered key and code is held as
/// is. So an `Error` is 12 bytes on 32-bit targets (24 with 64-bit payloads), the size every `?`
/// copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An error of iot-core: malformed CBOR, a malformed COSE structure, a crypto backend failure.
    Core(iot_core::Error),
    /// A member the CDDL requires is absent.
    MissingMember {
        /// The map it is missing from.
        map: MapKind,
        /// Its integer key.
        key: i32,
    },
    /// A member this implementation does not know (unknown members are rejected, not skipped).
    UnknownMember {
        /// The map it was found in.
        map: MapKind,
        /// Its integer key.
        key: i32,
    },
    /// `suit-manifest-version` other than 1 ("suit-manifest-version").
    UnsupportedVersion(u32),
    /// A SUIT_Digest algorithm this build does not compute (only SHA-256, -16, is computed).
    UnsupportedDigestAlgorithm(i32),
    /// The authentication wrapper holds a digest but no authentication block ("Authenticated Manifests").
    NoAuthenticationBlock,
    /// No authentication block is a COSE_Sign1 (tag 18) or COSE_Mac0 (tag 17); the tag of the
    /// last one, `None` when untagged.
    UnsupportedAuthenticationBlock(Option<u32>),
    /// No trusted key of the kind an authentication block needs (a COSE_Mac0 but no MAC key, say).
    NoTrustedKey,
    /// No authentication block verified under any trusted key; the last failure (a bad signature
    /// or tag, an algorithm that does not fit the key, a malformed COSE structure).
    NotAuthenticated(iot_core::Error),
    /// The manifest's SHA-256 is not the authenticated SUIT_Digest ("Authenticated Manifests").
    DigestMismatch,
    /// A severed member's digest does not match the member in the envelope ("Severable Elements"); its key.
    SeveredMemberDigestMismatch(i32),
    /// The envelope carries a severable member that the manifest holds inline or does not name
    /// ("Severable Elements"); its key.
    UnexpectedSeveredMember(i32),
    /// A command code this implementation does not know ("SUIT_Command_Sequence").
    UnknownCommand(i32),
    /// A command's argument has the wrong shape ("SUIT_Condition", "SUIT_Directive").
    InvalidArgument {
        /// The command code.
        command: i32,
        /// Byte offset of the argument.
        offset: usize,
    },
    /// A parameter's value has the wrong shape ("SUIT_Parameters").
    InvalidParameter {
        /// The parameter key.
        key: i32,
        /// Byte offset of the value.
        offset: usize,
    },
    /// A fixed capacity would be exceeded.
    CapacityExceeded(Capacity),
    /// A [`crate::Platform`] call failed; processing stopped there.
    Platform(crate::platform::PlatformError),
    /// A condition failed (or lacked the parameter it tests) outside soft failure
    /// ("SUIT_Condition", "suit-parameter-soft-failure").
    ConditionFailed(crate::command::Command),
    /// A directive lacks a parameter it consumes ("SUIT_Directive").
    MissingParameter {
        /// The command code.
        command: i32,
        /// The parameter key.
        parameter: i32,
    },
    /// A component index that names neither a component nor a dependency of the manifest, or
    /// that is beyond [`crate::MAX_COMPONENTS`] ("suit-directive-set-component-index").
    ComponentIndex(u32),
    /// The manifest's sequence number is not newer than the stored one (not at least as new,
    /// for an invocation) ("suit-manifest-sequence-number"). The two numbers are
    /// [`crate::Manifest::sequence_number`] and what [`crate::Platform::stored_sequence_number`]
    /// (or the A/B state, [`crate::ab`]) holds: carried here, their 64 bits would double the size
    /// of every `Error`.
    Rollback,
    /// A command sequence the procedure needs was severed and not supplied ("Severable Elements"); its key.
    SeveredMemberMissing(i32),
    /// A feature this build does not process.
    Unsupported(Unsupported),
    /// A payload does not match its `suit-parameter-image-digest` / `suit-parameter-image-size`
    /// and was not written (an integrated payload is checked before it is stored).
    ImageMismatch,
    /// `suit-parameter-soft-failure` set outside try-each and run-sequence ("suit-parameter-soft-failure").
    SoftFailureNotAllowed,
    /// The source of a copy or swap is the component itself.
    SourceIsDestination,
    /// A command with side effects in the shared sequence, which may only set parameters and
    /// test conditions ("suit-common"); its code.
    NotAllowedInSharedSequence(i32),
    /// An update while a tentative A/B image awaits confirmation ([`crate::ab`]).
    TrialPending,
    /// No A/B slot holds a bootable image.
    NoBootableImage,
    /// A tentative A/B image booted and was not confirmed before the next boot, which reverted
    /// it to the known-good image ([`crate::ab::Reverted`]).
    TrialNotConfirmed,
    /// A `suit-delegation` chain does not hold (feature `delegation`, draft-ietf-suit-trust-domains).
    #[cfg(feature = "delegation")]
    Delegation(crate::delegation::DelegationError),
}

impl From<crate::platform::PlatformError> for Error {
    fn from(e: crate::platform::PlatformError) -> Self {
        Self::Platform(e)
    }
}

impl From<iot_core::Error> for Error {
    fn from(e: iot_core::Error) -> Self {
        Self::Core(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Core(e) => write!(f, "{e}"),
            Self::MissingMember { map, key } => write!(f, "{map:?} lacks required member {key}"),
            Self::UnknownMember { map, key } => write!(f, "{map:?} has unknown member {key}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported manifest version {v}"),
            Self::UnsupportedDigestAlgorithm(a) => write!(f, "unsupported digest algorithm {a}"),
            Self::NoAuthenticationBlock => {
                f.write_str("authentication wrapper has no signature or MAC")
            }
            Self::UnsupportedAuthenticationBlock(Some(t)) => {
                write!(f, "authentication block with unsupported tag {t}")
            }
            Self::UnsupportedAuthenticationBlock(None) => {
                f.write_str("untagged authentication block")
            }
            Self::NoTrustedKey => f.write_str("no trusted key for any authentication block"),
            Self::NotAuthenticated(e) => write!(f, "not authenticated: {e}"),
            Self::DigestMismatch => f.write_str("manifest digest does not match"),
            Self::SeveredMemberDigestMismatch(k) => {
                write!(f, "severed member {k} does not match its digest")
            }
            Self::UnexpectedSeveredMember(k) => {
                write!(
                    f,
                    "envelope carries severable member {k} the manifest does not sever"
                )
            }
            Self::UnknownCommand(c) => write!(f, "unknown command {c}"),
            Self::InvalidArgument { command, offset } => {
                write!(f, "invalid argument of command {command} at byte {offset}")
            }
            Self::InvalidParameter { key, offset } => {
                write!(f, "invalid value of parameter {key} at byte {offset}")
            }
            Self::CapacityExceeded(c) => write!(f, "capacity exceeded: {c:?}"),
            Self::Platform(e) => write!(f, "platform: {e}"),
            Self::ConditionFailed(c) => match c.name() {
                Some(name) => write!(f, "condition {name} ({}) failed", c.code()),
                None => write!(f, "condition {} failed", c.code()),
            },
            Self::MissingParameter { command, parameter } => {
                write!(f, "command {command} lacks parameter {parameter}")
            }
            Self::ComponentIndex(i) => write!(f, "no component or dependency at index {i}"),
            Self::Rollback => f.write_str("sequence number is not newer than the stored one"),
            Self::SeveredMemberMissing(k) => write!(f, "severed member {k} is not supplied"),
            Self::Unsupported(Unsupported::Command(c)) => write!(f, "unsupported command {c}"),
            Self::Unsupported(Unsupported::Encryption) => {
                f.write_str("encrypted payload without a decryption key (or on a fetch)")
            }
            Self::ImageMismatch => f.write_str("payload does not match its digest or size"),
            Self::SoftFailureNotAllowed => {
                f.write_str("soft failure set outside try-each or run-sequence")
            }
            Self::SourceIsDestination => f.write_str("copy or swap onto its own source"),
            Self::NotAllowedInSharedSequence(c) => {
                write!(f, "command {c} is not allowed in the shared sequence")
            }
            Self::TrialPending => f.write_str("a tentative image awaits confirmation"),
            Self::NoBootableImage => f.write_str("no slot holds a bootable image"),
            Self::TrialNotConfirmed => {
                f.write_str("the tentative image booted and was not confirmed")
            }
            #[cfg(feature = "delegation")]
            Self::Delegation(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Core(e) | Self::NotAuthenticated(e) => Some(e),
            Self::Platform(e) => Some(e),
            _ => None,
        }
    }
}

/// The result type of this crate.
pub type Result<T> = core::result::Result<T, Error>;
// The size every `?` copies on 32-bit targets: an iot-core error and a tag (see
// `iot_core::Error::label`).
#[cfg(target_pointer_width = "32")]
const _: () = assert!(core::mem::size_of::<Error>() == 12);
