//! The error type of iot-identity: iot-core's CBOR, COSE and crypto errors, and certificates
//! that break their profile.

use core::fmt;

/// Errors of iot-identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An error of iot-core: malformed CBOR (with its byte offset), a COSE or crypto failure,
    /// a buffer too small.
    Core(iot_core::Error),
    /// A certificate claim that is absent although required, of the wrong type or length, or
    /// present twice: the claim's CBOR label.
    InvalidClaim(i64),
    /// A certificate's issuer is not the subject of the certificate (or key) before it.
    IssuerMismatch,
    /// A certificate's subject is not the identifier derived from its subject public key.
    SubjectMismatch,
    /// A certificate's key usage does not allow what it is used for (a DICE certificate must
    /// allow keyCertSign, RFC 5280 section 4.2.1.3).
    KeyUsage,
    /// The key derivation found no valid private key: every DRBG output tried was zero or not
    /// below the P-256 group order (about 2^-32 likely per try; see `dice::MAX_KEY_TRIES`).
    KeyDerivation,
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
            Self::InvalidClaim(label) => write!(f, "certificate claim {label} missing or invalid"),
            Self::IssuerMismatch => f.write_str("certificate issuer does not match its authority"),
            Self::SubjectMismatch => {
                f.write_str("certificate subject is not the ID of its subject key")
            }
            Self::KeyUsage => f.write_str("certificate key usage does not allow keyCertSign"),
            Self::KeyDerivation => f.write_str("no valid private key derived"),
        }
    }
}

impl core::error::Error for Error {}

/// Result with iot-identity's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
