//! The error type of iot-oscore: malformed CoAP (RFC 7252 section 3) and the OSCORE processing
//! errors of RFC 8613 section 8, each mapped to the response code section 8 names.

use crate::coap::Code;
use core::fmt;

/// What was wrong with a CoAP message (RFC 7252 section 3), reported in [`Error::Format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// The message ends inside the header, the token, an option or its extended fields.
    Truncated,
    /// A version other than 1 (section 3).
    Version,
    /// Token length 9 to 15, reserved (section 3).
    TokenLength,
    /// Option delta nibble 15 in a byte that is not the payload marker 0xFF (section 3.1).
    ReservedDelta,
    /// Option length nibble 15, reserved (section 3.1).
    ReservedLength,
    /// Option number beyond 65535 after adding the delta (section 3.1).
    OptionNumberOverflow,
    /// A payload marker followed by a zero-length payload (section 3).
    EmptyPayload,
    /// An Empty message (code 0.00) with a token, options or payload (section 4.1).
    EmptyMessageNotEmpty,
    /// Longer than [`MAX_MESSAGE_LEN`](crate::coap::MAX_MESSAGE_LEN): more than a UDP datagram
    /// carries (RFC 768), and beyond what an [`Error::Format`] offset counts.
    TooLong,
}

impl FormatError {
    fn describe(self) -> &'static str {
        match self {
            Self::Truncated => "message truncated",
            Self::Version => "CoAP version is not 1",
            Self::TokenLength => "token length 9-15 is reserved",
            Self::ReservedDelta => "option delta 15 outside the payload marker",
            Self::ReservedLength => "option length 15 is reserved",
            Self::OptionNumberOverflow => "option number beyond 65535",
            Self::EmptyPayload => "payload marker with no payload",
            Self::EmptyMessageNotEmpty => "empty message with token, options or payload",
            Self::TooLong => "message longer than 65535 bytes",
        }
    }
}

/// Errors of the CoAP codec and of OSCORE processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A malformed CoAP message (RFC 7252 section 3), with the byte offset of the fault.
    Format {
        /// What was wrong.
        kind: FormatError,
        /// Byte offset in the input (a message is at most
        /// [`MAX_MESSAGE_LEN`](crate::coap::MAX_MESSAGE_LEN) bytes long).
        offset: u16,
    },
    /// An option written after one with a larger number (options go in order, RFC 7252 section 3.1).
    OptionOutOfOrder {
        /// The number that came too late.
        number: u16,
    },
    /// A value too long for the CoAP encoding (an option over 65804 bytes, a token over 8).
    ValueTooLong,
    /// The caller's output buffer is too small.
    BufferTooSmall,
    /// Context parameters that RFC 8613 section 3.3 forbids (an ID longer than the nonce
    /// length minus 6, equal Sender and Recipient IDs) or beyond this crate's capacities.
    InvalidContext,
    /// A message of the wrong kind for the operation (a response given to `protect_request`).
    WrongMessageKind,
    /// The message to protect already carries an OSCORE option (nested OSCORE, RFC 8613 section 4.1.3.6).
    NestedOscore,
    /// A Proxy-Uri that cannot be decomposed (RFC 8613 section 4.1.3.3, RFC 7252 section 6.4),
    /// or one combined with Uri-Host, Uri-Port, Uri-Path or Uri-Query; any Proxy-Uri without the
    /// `proxy-uri` feature.
    InvalidProxyUri,
    /// A message to unprotect without an OSCORE option.
    NotProtected,
    /// The OSCORE option or the compressed COSE object failed to decode (RFC 8613 sections 6.1
    /// and 8.2 step 2): reserved bits or lengths, a request without kid or Partial IV, a response
    /// with a kid context, a non-minimal Partial IV, a payload shorter than the tag.
    BadOscoreOption,
    /// No security context for the kid and kid context received (RFC 8613 section 8.2 step 2).
    UnknownContext,
    /// A Partial IV already received or older than the replay window (RFC 8613 section 7.4).
    Replay,
    /// The AEAD tag did not verify (RFC 8613 section 8.2 step 6).
    DecryptionFailed,
    /// The decrypted plaintext is not a well-formed inner message (code, options, payload; RFC
    /// 8613 section 5.3), or its code does not fit a request or a response.
    MalformedPlaintext,
    /// The Sender Sequence Number reached its maximum (RFC 8613 section 7.2.1): derive a new context.
    SequenceNumberExhausted,
    /// A request binding used with a context it does not belong to (RFC 8613 section 7.1).
    BindingMismatch,
    /// The request's nonce was already used for a response: a second response needs its own
    /// Partial IV (RFC 8613 section 5.2).
    RequestNonceUsed,
    /// An Observe notification without a Partial IV, or an inner Observe in a response to a
    /// request that did not register (RFC 8613 sections 4.1.3.5.2 and 8.4).
    ObserveMismatch,
    /// A [`crate::persistence::SequenceNumberStore`] could not read or write its value.
    Storage,
    /// An error of the crypto backend (iot-core's crypto traits).
    Crypto(CryptoError),
}

/// An error of the crypto backend, reported in [`Error::Crypto`]: the kind of the
/// [`iot_core::Error`] without its payload, so that [`Error`] stays small (four bytes, one
/// register on a 32-bit target; the id of an unsupported algorithm is the context's). One kind per kind of
/// [`iot_core::Error`], in its order, so that the conversion copies the discriminant; a kind
/// added there later is reported as [`CryptoError::Backend`] until it is mirrored here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// [`iot_core::Error::Cbor`].
    Cbor,
    /// [`iot_core::Error::WrongTag`].
    WrongTag,
    /// [`iot_core::Error::UnknownCriticalHeader`].
    UnknownCriticalHeader,
    /// [`iot_core::Error::InvalidHeader`].
    InvalidHeader,
    /// [`iot_core::Error::MissingAlgorithm`].
    MissingAlgorithm,
    /// [`iot_core::Error::UnsupportedAlgorithm`].
    UnsupportedAlgorithm,
    /// [`iot_core::Error::AlgorithmMismatch`].
    AlgorithmMismatch,
    /// [`iot_core::Error::InvalidKey`].
    InvalidKey,
    /// [`iot_core::Error::BadSignature`].
    BadSignature,
    /// [`iot_core::Error::BadTag`].
    BadTag,
    /// [`iot_core::Error::PayloadMismatch`].
    PayloadMismatch,
    /// [`iot_core::Error::InvalidNonce`].
    InvalidNonce,
    /// [`iot_core::Error::BufferTooSmall`]: an output of the backend (not the caller's buffer,
    /// which is [`Error::BufferTooSmall`]).
    BufferTooSmall,
    /// [`iot_core::Error::CapacityExceeded`].
    CapacityExceeded,
    /// [`iot_core::Error::Rng`].
    Rng,
    /// [`iot_core::Error::Backend`], or a kind not mirrored here.
    Backend,
    /// [`iot_core::Error::NotFound`].
    NotFound,
}

// Four bytes, so that a `Result<(), Error>` comes back in a register (r0 on a 32-bit Arm target)
// rather than through memory: with eight bytes every `?` stored, reloaded and compared the result,
// about 560 B of the device image's OSCORE code.
const _: () = assert!(size_of::<Error>() <= 4);

impl Error {
    /// A format error at `offset`, which is below [`MAX_MESSAGE_LEN`](crate::coap::MAX_MESSAGE_LEN)
    /// in a decoded message (saturated otherwise).
    pub(crate) fn format(kind: FormatError, offset: usize) -> Self {
        Self::Format {
            kind,
            offset: u16::try_from(offset).unwrap_or(u16::MAX),
        }
    }

    /// The response code a server MAY send for this error (RFC 8613 section 8.2): 4.02 Bad Option
    /// when the COSE object fails to decode, 4.01 Unauthorized for an unknown context or a replay,
    /// 4.00 Bad Request when decryption fails. `None` for errors that are not a peer's fault.
    pub fn response_code(&self) -> Option<Code> {
        match self {
            Self::BadOscoreOption => Some(Code::BAD_OPTION),
            Self::UnknownContext | Self::Replay | Self::NotProtected => Some(Code::UNAUTHORIZED),
            Self::DecryptionFailed | Self::MalformedPlaintext | Self::Format { .. } => {
                Some(Code::BAD_REQUEST)
            }
            _ => None,
        }
    }
}

impl From<iot_core::Error> for Error {
    fn from(e: iot_core::Error) -> Self {
        use iot_core::Error as E;
        Self::Crypto(match e {
            E::Cbor { .. } => CryptoError::Cbor,
            E::WrongTag(_) => CryptoError::WrongTag,
            E::UnknownCriticalHeader(_) => CryptoError::UnknownCriticalHeader,
            E::InvalidHeader(_) => CryptoError::InvalidHeader,
            E::MissingAlgorithm => CryptoError::MissingAlgorithm,
            E::UnsupportedAlgorithm(_) => CryptoError::UnsupportedAlgorithm,
            E::AlgorithmMismatch => CryptoError::AlgorithmMismatch,
            E::InvalidKey => CryptoError::InvalidKey,
            E::BadSignature => CryptoError::BadSignature,
            E::BadTag => CryptoError::BadTag,
            E::PayloadMismatch => CryptoError::PayloadMismatch,
            E::InvalidNonce => CryptoError::InvalidNonce,
            E::BufferTooSmall => CryptoError::BufferTooSmall,
            E::CapacityExceeded => CryptoError::CapacityExceeded,
            E::Rng => CryptoError::Rng,
            E::Backend => CryptoError::Backend,
            E::NotFound => CryptoError::NotFound,
            _ => CryptoError::Backend,
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Format { kind, offset } => {
                write!(
                    f,
                    "malformed CoAP message: {} at byte {offset}",
                    kind.describe()
                )
            }
            Self::OptionOutOfOrder { number } => {
                write!(f, "CoAP option {number} written after a larger one")
            }
            Self::ValueTooLong => f.write_str("value too long for CoAP"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
            Self::InvalidContext => f.write_str("invalid OSCORE context parameters"),
            Self::WrongMessageKind => f.write_str("wrong kind of CoAP message for this operation"),
            Self::NestedOscore => f.write_str("message already carries an OSCORE option"),
            Self::InvalidProxyUri => f.write_str("Proxy-Uri cannot be decomposed"),
            Self::NotProtected => f.write_str("message carries no OSCORE option"),
            Self::BadOscoreOption => f.write_str("Failed to decode COSE"),
            Self::UnknownContext => f.write_str("Security context not found"),
            Self::Replay => f.write_str("Replay detected"),
            Self::DecryptionFailed => f.write_str("Decryption failed"),
            Self::MalformedPlaintext => f.write_str("decrypted inner message is malformed"),
            Self::SequenceNumberExhausted => f.write_str("sender sequence number exhausted"),
            Self::BindingMismatch => f.write_str("request binding belongs to another context"),
            Self::RequestNonceUsed => f.write_str("the request's nonce was already used"),
            Self::ObserveMismatch => f.write_str("Observe does not match the request"),
            Self::Storage => f.write_str("sequence number storage failed"),
            Self::Crypto(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Crypto(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cbor => "malformed CBOR",
            Self::WrongTag => "unexpected CBOR tag",
            Self::UnknownCriticalHeader => "unknown critical header",
            Self::InvalidHeader => "invalid header parameter",
            Self::MissingAlgorithm => "no algorithm header",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::AlgorithmMismatch => "algorithm does not match the key or operation",
            Self::InvalidKey => "invalid key",
            Self::BadSignature => "signature does not verify",
            Self::BadTag => "authentication tag does not verify",
            Self::PayloadMismatch => "payload attached/detached mismatch",
            Self::InvalidNonce => "nonce or IV of the wrong length",
            Self::BufferTooSmall => "crypto output buffer too small",
            Self::CapacityExceeded => "capacity exceeded",
            Self::Rng => "random number generator failed",
            Self::Backend => "crypto backend failed",
            Self::NotFound => "no signature or recipient with that index or key id",
        })
    }
}

impl core::error::Error for CryptoError {}

/// The result type of this crate.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::{CryptoError, Error};

    #[test]
    fn core_errors_keep_their_kind() {
        use iot_core::Error as E;
        let cases = [
            // The backend's output, not the caller's buffer (Error::BufferTooSmall).
            (
                E::BufferTooSmall,
                Error::Crypto(CryptoError::BufferTooSmall),
            ),
            (
                E::UnsupportedAlgorithm(24),
                Error::Crypto(CryptoError::UnsupportedAlgorithm),
            ),
            (E::InvalidKey, Error::Crypto(CryptoError::InvalidKey)),
            (E::BadTag, Error::Crypto(CryptoError::BadTag)),
            (E::Rng, Error::Crypto(CryptoError::Rng)),
            (E::WrongTag(16), Error::Crypto(CryptoError::WrongTag)),
            (E::NotFound, Error::Crypto(CryptoError::NotFound)),
            (E::Backend, Error::Crypto(CryptoError::Backend)),
        ];
        for (core, ours) in cases {
            assert_eq!(Error::from(core), ours);
        }
    }
}
