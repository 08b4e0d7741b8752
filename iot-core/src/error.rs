//! The one error type of the iot-* family.

use core::fmt;

/// What was wrong with a CBOR item (RFC 8949), reported with its byte offset in [`Error::Cbor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CborError {
    /// The input ended inside an item.
    Truncated,
    /// An item of another major type (or another tag) was expected here.
    UnexpectedType,
    /// An indefinite-length item where the profile demands definite lengths.
    IndefiniteLength,
    /// Arrays, maps and tags nested deeper than the decoder's limit.
    TooDeep,
    /// Bytes follow the last item.
    TrailingBytes,
    /// A value out of range, a reserved additional-information value, or invalid UTF-8.
    Malformed,
    /// A map key that occurs twice.
    DuplicateKey,
    /// More items than the bounded decoder can hold.
    TooMany,
    /// An argument not in its shortest form where preferred serialization is required
    /// (RFC 8949 section 4.1).
    NotPreferred,
}

impl CborError {
    fn describe(self) -> &'static str {
        match self {
            Self::Truncated => "input ends inside an item",
            Self::UnexpectedType => "unexpected data item type",
            Self::IndefiniteLength => "indefinite length not allowed",
            Self::TooDeep => "nesting deeper than the limit",
            Self::TrailingBytes => "trailing bytes after the item",
            Self::Malformed => "malformed item",
            Self::DuplicateKey => "duplicate map key",
            Self::TooMany => "more items than the decoder holds",
            Self::NotPreferred => "not in preferred serialization",
        }
    }
}

/// Errors of every iot-* crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Malformed or non-conforming CBOR at a byte offset of the input.
    Cbor {
        /// What was wrong.
        kind: CborError,
        /// Byte offset of the offending item in the input.
        offset: usize,
    },
    /// A COSE tag other than the one this structure uses (RFC 9052 section 2); the tag as
    /// [`Error::uint`] narrows it.
    WrongTag(u32),
    /// A header parameter listed in `crit` that this implementation does not understand
    /// (RFC 9052 section 3.1); the label as [`Error::label`] narrows it, `i32::MIN` for a text label.
    UnknownCriticalHeader(i32),
    /// A header parameter is malformed, duplicated, or present in both buckets (RFC 9052 section 3);
    /// the label as [`Error::label`] narrows it.
    InvalidHeader(i32),
    /// No algorithm header parameter where one is required.
    MissingAlgorithm,
    /// An algorithm this build does not implement: the COSE algorithm id as [`Error::label`]
    /// narrows it, `i32::MIN` for a text id.
    UnsupportedAlgorithm(i32),
    /// The message's algorithm does not fit the key or the operation.
    AlgorithmMismatch,
    /// A key is malformed, of the wrong type or curve, or the wrong length.
    InvalidKey,
    /// A signature did not verify.
    BadSignature,
    /// A MAC or AEAD tag did not verify.
    BadTag,
    /// A payload is detached where one was expected attached, or the reverse.
    PayloadMismatch,
    /// A nonce or IV of the wrong length for the algorithm.
    InvalidNonce,
    /// The caller's output buffer is too small.
    BufferTooSmall,
    /// A fixed capacity (documented where it is set) would be exceeded.
    CapacityExceeded,
    /// The random number generator failed.
    Rng,
    /// The crypto backend failed for a reason of its own (a secure element error, say).
    Backend,
    /// No signature or recipient of a message has the index or key id asked for.
    NotFound,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cbor { kind, offset } => write!(f, "CBOR: {} at byte {offset}", kind.describe()),
            Self::WrongTag(t) => write!(f, "unexpected CBOR tag {t}"),
            Self::UnknownCriticalHeader(l) if *l == i32::MIN => {
                f.write_str("unknown critical header (text label)")
            }
            Self::UnknownCriticalHeader(l) => write!(f, "unknown critical header {l}"),
            Self::InvalidHeader(l) => write!(f, "invalid header parameter {l}"),
            Self::MissingAlgorithm => f.write_str("no algorithm header"),
            Self::UnsupportedAlgorithm(a) if *a == i32::MIN => {
                f.write_str("unsupported algorithm (text id)")
            }
            Self::UnsupportedAlgorithm(a) => write!(f, "unsupported algorithm {a}"),
            Self::AlgorithmMismatch => f.write_str("algorithm does not match the key or operation"),
            Self::InvalidKey => f.write_str("invalid key"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::BadTag => f.write_str("authentication tag does not verify"),
            Self::PayloadMismatch => f.write_str("payload attached/detached mismatch"),
            Self::InvalidNonce => f.write_str("nonce or IV of the wrong length"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
            Self::CapacityExceeded => f.write_str("capacity exceeded"),
            Self::Rng => f.write_str("random number generator failed"),
            Self::Backend => f.write_str("crypto backend failed"),
            Self::NotFound => f.write_str("no signature or recipient with that index or key id"),
        }
    }
}

impl core::error::Error for Error {}

impl Error {
    /// A CBOR error of `kind` at `offset`.
    pub const fn cbor(kind: CborError, offset: usize) -> Self {
        Self::Cbor { kind, offset }
    }

    /// A CBOR integer label (a COSE label or algorithm id, RFC 9052 section 1.5; a map key or
    /// command code of another crate) as error payloads hold it: itself within
    /// `i32::MIN + 1 ..= i32::MAX` (every registered COSE label and algorithm), the nearest bound
    /// beyond; `i32::MIN` is left to stand for a text label.
    ///
    /// Payloads are 32-bit rather than 64-bit so that an [`Error`] is 8 bytes on 32-bit targets
    /// (16 with `i64`, which also needs 8-byte alignment): every `?` copies it.
    pub const fn label(label: i64) -> i32 {
        if label > i32::MAX as i64 {
            i32::MAX
        } else if label <= i32::MIN as i64 {
            i32::MIN + 1
        } else {
            label as i32
        }
    }

    /// A CBOR unsigned integer (a tag number, say) as error payloads hold it: itself up to
    /// `u32::MAX - 1`, `u32::MAX` for anything larger (see [`Error::label`] for why).
    pub const fn uint(value: u64) -> u32 {
        if value >= u32::MAX as u64 {
            u32::MAX
        } else {
            value as u32
        }
    }

    /// [`Error::WrongTag`] for `tag`, narrowed by [`Error::uint`].
    pub const fn wrong_tag(tag: u64) -> Self {
        Self::WrongTag(Self::uint(tag))
    }
}

// The size every `?` copies on 32-bit targets (see `Error::label`).
#[cfg(target_pointer_width = "32")]
const _: () = assert!(core::mem::size_of::<Error>() == 8);

/// Result with the family's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn payloads_narrow_by_saturating() {
        assert_eq!(Error::label(-7), -7);
        assert_eq!(Error::label(i64::from(i32::MAX)), i32::MAX);
        assert_eq!(Error::label(i64::MAX), i32::MAX);
        // i32::MIN stays free for text labels.
        assert_eq!(Error::label(i64::from(i32::MIN)), i32::MIN + 1);
        assert_eq!(Error::label(i64::MIN), i32::MIN + 1);
        assert_eq!(Error::uint(98), 98);
        assert_eq!(Error::uint(u64::from(u32::MAX)), u32::MAX);
        assert_eq!(Error::uint(u64::MAX), u32::MAX);
        assert_eq!(Error::wrong_tag(1 << 40), Error::WrongTag(u32::MAX));
    }
}
