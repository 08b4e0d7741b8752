//! The error type of iot-attest: CBOR and COSE errors of iot-core, claims that break their
//! definition (RFC 8392, RFC 9711, RFC 9783), and profile violations.

use core::fmt;

/// Claim key reported for an error that no integer claim key names (a text key, or a value
/// checked before its key is known).
pub const NO_KEY: i64 = i64::MIN;

/// Why a claims-set does not conform to a profile ([`Error::Profile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A claim the profile requires is absent.
    Missing,
    /// A byte or text string of a length the profile does not allow.
    Size,
    /// A value outside the range or set the profile allows.
    Value,
    /// A text value not in the format the profile prescribes.
    Format,
    /// A claim the profile forbids, or one in a form it forbids (an array of nonces, say).
    Forbidden,
}

impl Violation {
    fn describe(self) -> &'static str {
        match self {
            Self::Missing => "is missing",
            Self::Size => "has a length the profile does not allow",
            Self::Value => "has a value the profile does not allow",
            Self::Format => "is not in the format the profile prescribes",
            Self::Forbidden => "is not allowed in this form by the profile",
        }
    }
}

/// Errors of iot-attest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An error of iot-core: malformed CBOR (with its byte offset), a COSE or crypto failure, a
    /// buffer too small.
    Core(iot_core::Error),
    /// A claim whose value breaks its definition (a wrong type, a length or value out of range):
    /// the claim key, and the byte offset of the offending item (in the input when decoding, in
    /// the output when encoding).
    InvalidClaim {
        /// The claim key, or [`NO_KEY`].
        key: i64,
        /// Byte offset of the offending item.
        offset: usize,
    },
    /// A claim key that occurs twice in one claims-set, counting a legacy PSA key and its EAT
    /// equivalent as the same claim.
    DuplicateClaim {
        /// The claim key, or [`NO_KEY`] for a text key.
        key: i64,
        /// Byte offset of the second occurrence.
        offset: usize,
    },
    /// The streaming encoder was given a claim whose key does not sort after the previous one
    /// (RFC 8949 section 4.2.1 order), or more or fewer claims than it announced.
    ClaimOrder,
    /// A claims-set that does not conform to a profile: the claim key and what is wrong.
    Profile {
        /// The claim key (2399 for a software component).
        key: i64,
        /// What is wrong.
        violation: Violation,
    },
    /// The claims-set names another profile than the one it is validated against.
    WrongProfile,
    /// The profile does not allow the token's envelope or algorithm (a COSE_Mac0 under the
    /// Constrained Device Standard Profile, say) or its form (a detached EAT bundle).
    EnvelopeNotAllowed,
    /// The token carries no nonce, but the verifier expected one (RFC 9711 section 4.1).
    NonceMissing,
    /// None of the token's nonces is the one the verifier expected.
    NonceMismatch,
    /// The key store holds no key for the token's kid or UEID, or the token names neither.
    UnknownKey,
    /// The key that verified the token is registered for another UEID (PSA Instance ID) than
    /// the one the token claims.
    InstanceMismatch,
    /// The token's `exp` has passed or its `nbf` has not come (RFC 8392 sections 3.1.4, 3.1.5).
    NotValidNow,
    /// A Detached-Submodule-Digest names a hash algorithm other than SHA-256 (RFC 9711
    /// section 4.2.18.2).
    DigestAlgorithm,
    /// A detached EAT bundle lacks the part a Detached-Submodule-Digest names (RFC 9711
    /// section 5).
    DetachedMissing,
    /// A detached part's digest differs from its Detached-Submodule-Digest.
    DetachedDigestMismatch,
    /// A detached EAT bundle carries a part that no Detached-Submodule-Digest names.
    DetachedUnexpected,
}

impl Error {
    /// Attributes a value error raised below a claim to claim `key`: a type mismatch or an
    /// unattributed [`Error::InvalidClaim`] becomes an invalid `key`.
    pub(crate) fn in_claim(self, key: i64) -> Self {
        match self {
            Self::Core(iot_core::Error::Cbor {
                kind: iot_core::CborError::UnexpectedType,
                offset,
            }) => Self::InvalidClaim { key, offset },
            Self::InvalidClaim {
                key: NO_KEY,
                offset,
            } => Self::InvalidClaim { key, offset },
            other => other,
        }
    }

    /// Like [`Error::in_claim`], for an encoder: the offset becomes `offset` in the output.
    pub(crate) fn in_claim_at(self, key: i64, offset: usize) -> Self {
        match self {
            Self::InvalidClaim { key: k, .. } if k == key || k == NO_KEY => {
                Self::InvalidClaim { key, offset }
            }
            other => other,
        }
    }

    pub(crate) const fn profile(key: i64, violation: Violation) -> Self {
        Self::Profile { key, violation }
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
            Self::Core(e) => e.fmt(f),
            Self::InvalidClaim {
                key: NO_KEY,
                offset,
            } => {
                write!(f, "invalid claim value at byte {offset}")
            }
            Self::InvalidClaim { key, offset } => {
                write!(f, "invalid value of claim {key} at byte {offset}")
            }
            Self::DuplicateClaim {
                key: NO_KEY,
                offset,
            } => {
                write!(f, "duplicate claim (text key) at byte {offset}")
            }
            Self::DuplicateClaim { key, offset } => {
                write!(f, "duplicate claim {key} at byte {offset}")
            }
            Self::ClaimOrder => f.write_str("claims out of deterministic order or count"),
            Self::Profile { key, violation } => {
                write!(f, "profile violation: claim {key} {}", violation.describe())
            }
            Self::WrongProfile => f.write_str("the claims name another profile"),
            Self::EnvelopeNotAllowed => {
                f.write_str("the profile does not allow this envelope, algorithm or token form")
            }
            Self::NonceMissing => f.write_str("the token carries no nonce"),
            Self::NonceMismatch => f.write_str("the token's nonce is not the expected one"),
            Self::UnknownKey => f.write_str("no key is known for the token's kid or UEID"),
            Self::InstanceMismatch => {
                f.write_str("the verifying key is registered for another UEID than the token's")
            }
            Self::NotValidNow => f.write_str("the token has expired or is not valid yet"),
            Self::DigestAlgorithm => f.write_str("the detached digest's algorithm is not SHA-256"),
            Self::DetachedMissing => {
                f.write_str("a detached claims-set named by digest is missing")
            }
            Self::DetachedDigestMismatch => {
                f.write_str("a detached claims-set does not match its digest")
            }
            Self::DetachedUnexpected => {
                f.write_str("a detached claims-set is not named by any digest")
            }
        }
    }
}

impl core::error::Error for Error {}

/// Result with iot-attest's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
