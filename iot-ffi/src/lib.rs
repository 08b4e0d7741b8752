#![cfg_attr(not(feature = "std"), no_std)]
#![doc = include_str!("../README.md")]

//! # The C API
//!
//! Every function returns an [`IotStatus`]. Byte strings are passed as a pointer and a length;
//! the pointer may be NULL only when the length is 0 (and where a parameter says NULL means
//! "absent"). Outputs go into the caller's buffers: nothing is allocated. The COSE work is done by
//! [`iot_core`] (RFC 9052 section 4); this crate only checks and converts arguments.

mod attest;
mod identity;
mod oscore;
mod suit;
pub use attest::*;
pub use identity::*;
pub use oscore::*;
pub use suit::*;

use core::ffi::c_char;
use iot_core::Error;
use iot_core::cose::{Algorithm, CoseKey, CoseSign1, Sign1Builder};
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};

/// The outcome of a call: `IOT_STATUS_OK`, or why it failed.
///
/// The values from `IOT_STATUS_CBOR` to `IOT_STATUS_BACKEND` mirror the families of
/// `iot_core::Error`; those from `IOT_STATUS_COAP_FORMAT` to `IOT_STATUS_OBSERVE_MISMATCH`, those
/// of `iot_oscore::Error` (an OSCORE decryption failure is `IOT_STATUS_BAD_TAG`); those from
/// `IOT_STATUS_INVALID_UEID` to `IOT_STATUS_MALFORMED_SEALED_KEY`, those of `iot_identity` (UEIDs,
/// X.509, sealed keys); `IOT_STATUS_INVALID_CLAIM` and `IOT_STATUS_PROFILE_VIOLATION`, those of
/// `iot_attest`; those from `IOT_STATUS_SUIT_MALFORMED` on, those of `iot_update_manifest`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IotStatus {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL, or a NULL pointer came with a non-zero length.
    NullArgument = 1,
    /// The output buffer is too small.
    BufferTooSmall = 2,
    /// An argument is out of range: unknown flag bits, a length beyond `PTRDIFF_MAX`, a
    /// misaligned pointer, or an output buffer that overlaps an input.
    InvalidArgument = 3,
    /// Malformed or non-conforming CBOR (RFC 8949).
    Cbor = 4,
    /// A CBOR tag other than the one the structure uses (RFC 9052 section 2).
    WrongTag = 5,
    /// A header parameter listed in `crit` that is not understood (RFC 9052 section 3.1).
    UnknownCriticalHeader = 6,
    /// A header parameter that is malformed, duplicated or in both buckets (RFC 9052 section 3).
    InvalidHeader = 7,
    /// No `alg` header parameter.
    MissingAlgorithm = 8,
    /// An algorithm this build does not implement.
    UnsupportedAlgorithm = 9,
    /// The algorithm does not fit the key or the operation.
    AlgorithmMismatch = 10,
    /// A key that is malformed, of the wrong type or curve, or the wrong length.
    InvalidKey = 11,
    /// The signature does not verify.
    BadSignature = 12,
    /// A MAC or AEAD tag does not verify.
    BadTag = 13,
    /// The payload is detached where it was expected attached, or the reverse.
    PayloadMismatch = 14,
    /// A nonce or IV of the wrong length.
    InvalidNonce = 15,
    /// A fixed capacity would be exceeded.
    CapacityExceeded = 16,
    /// The random number generator failed.
    Rng = 17,
    /// The crypto backend failed.
    Backend = 18,
    /// An error this version of the C API does not know, or an internal fault (a caught panic).
    Internal = 19,
    /// A malformed CoAP message (RFC 7252 section 3): truncated, reserved values, options out of
    /// order, a value too long.
    CoapFormat = 20,
    /// A CoAP message of the wrong kind for the operation (a response where a request is due).
    WrongMessageKind = 21,
    /// OSCORE context parameters RFC 8613 section 3.3 forbids (IDs too long or equal, ID Context
    /// over 32 bytes), or a Sender Sequence Number moved back.
    InvalidContext = 22,
    /// The message to protect already carries an OSCORE option (RFC 8613 section 4.1.3.6).
    NestedOscore = 23,
    /// A Proxy-Uri that cannot be decomposed (RFC 8613 section 4.1.3.3).
    InvalidProxyUri = 24,
    /// The message to verify carries no OSCORE option.
    NotProtected = 25,
    /// The OSCORE option or compressed COSE object does not decode (RFC 8613 section 8.2 step 2).
    BadOscoreOption = 26,
    /// No security context for the kid and kid context received (RFC 8613 section 8.2 step 2).
    UnknownContext = 27,
    /// A Partial IV already received or below the replay window (RFC 8613 section 7.4).
    Replay = 28,
    /// The decrypted plaintext is not a well-formed inner message (RFC 8613 section 5.3).
    MalformedPlaintext = 29,
    /// The Sender Sequence Number is exhausted (RFC 8613 section 7.2.1): derive a new context.
    SequenceNumberExhausted = 30,
    /// A request binding of the wrong kind or from another context (RFC 8613 section 7.1).
    BindingMismatch = 31,
    /// The request's nonce was already used for a response (RFC 8613 section 5.2).
    RequestNonceUsed = 32,
    /// Observe does not match the request (RFC 8613 sections 4.1.3.5.2 and 8.4).
    ObserveMismatch = 33,
    /// A UEID that RFC 9711 section 4.2.1 does not allow (length, type, EUI or IMEI rules).
    InvalidUeid = 34,
    /// A certificate or request that is not DER, or not the ASN.1 structure of RFC 5280 / RFC 2986.
    X509Malformed = 35,
    /// A certificate version other than v3 (or v1 without extensions), RFC 5280 section 4.1.2.1.
    X509UnsupportedVersion = 36,
    /// The caller's time is before a certificate's notBefore (RFC 5280 section 4.1.2.5).
    CertNotYetValid = 37,
    /// The caller's time is after a certificate's notAfter (RFC 5280 section 4.1.2.5).
    CertExpired = 38,
    /// A certificate's issuer is not the subject of the certificate or anchor above it.
    IssuerMismatch = 39,
    /// An issuing certificate without basicConstraints cA (RFC 5280 section 4.2.1.9).
    NotCa = 40,
    /// More CA certificates below a CA than its pathLenConstraint allows.
    PathLenExceeded = 41,
    /// keyUsage forbids the use: a CA without keyCertSign, a leaf without digitalSignature
    /// (RFC 5280 section 4.2.1.3).
    KeyUsage = 42,
    /// A critical certificate extension that is not processed (RFC 5280 section 4.2).
    UnknownCriticalExtension = 43,
    /// A certificate extension present twice (RFC 5280 section 4.2).
    DuplicateExtension = 44,
    /// A certificate chain with no certificate below the trust anchor.
    EmptyChain = 45,
    /// More than `IOT_MAX_CHAIN_LEN` certificates below the trust anchor.
    ChainTooLong = 46,
    /// A name attribute that is empty, longer than 64 characters or not valid text (RFC 5280
    /// Appendix A.1).
    InvalidName = 47,
    /// A sealed key that does not open: altered, sealed under another sealing key or for another
    /// slot.
    SealedKeyTampered = 48,
    /// A sealed key that opens but holds no consistent P-256 key for its slot.
    MalformedSealedKey = 49,
    /// A claim that breaks its definition (RFC 9711 section 4, RFC 9783 section 4): a wrong
    /// length or value, text that is not UTF-8, a duplicate.
    InvalidClaim = 50,
    /// Claims that break the token's profile (PSA, RFC 9783; the Constrained Device Standard
    /// Profile, RFC 9711 section 6.3): a required claim missing, a length or value it forbids.
    ProfileViolation = 51,
    /// A SUIT envelope or manifest that breaks its CDDL (draft-ietf-suit-manifest): a member
    /// missing or unknown, an unknown command, an ill-shaped argument or parameter.
    SuitMalformed = 52,
    /// A SUIT envelope that does not authenticate: no authentication block verifies under the
    /// trusted key, or the manifest's digest differs (draft-ietf-suit-manifest "Authenticated
    /// Manifests").
    SuitNotAuthenticated = 53,
    /// A SUIT condition failed (vendor, class, image digest, slot, ...); `IotSuitResult` names it.
    SuitConditionFailed = 54,
    /// The SUIT manifest's sequence number is not newer than the stored one (not at least as new,
    /// for a boot).
    SuitRollback = 55,
    /// A platform callback failed; `IotSuitResult` holds its error.
    SuitPlatform = 56,
    /// A payload does not match its image digest or size and was not written.
    SuitImageMismatch = 57,
    /// A command sequence the procedure needs was severed and not supplied.
    SuitSeveredMemberMissing = 58,
    /// A SUIT feature this build or the C API does not process (a digest algorithm, encrypted
    /// payloads, dependencies).
    SuitUnsupported = 59,
    /// A SUIT manifest that breaks a processing rule: a directive without its parameter, a bad
    /// component index, soft failure or side effects where they are not allowed.
    SuitInvalidManifest = 60,
}

impl From<Error> for IotStatus {
    fn from(e: Error) -> Self {
        match e {
            Error::Cbor { .. } => Self::Cbor,
            Error::WrongTag(_) => Self::WrongTag,
            Error::UnknownCriticalHeader(_) => Self::UnknownCriticalHeader,
            Error::InvalidHeader(_) => Self::InvalidHeader,
            Error::MissingAlgorithm => Self::MissingAlgorithm,
            Error::UnsupportedAlgorithm(_) => Self::UnsupportedAlgorithm,
            Error::AlgorithmMismatch => Self::AlgorithmMismatch,
            Error::InvalidKey => Self::InvalidKey,
            Error::BadSignature => Self::BadSignature,
            Error::BadTag => Self::BadTag,
            Error::PayloadMismatch => Self::PayloadMismatch,
            Error::InvalidNonce => Self::InvalidNonce,
            Error::BufferTooSmall => Self::BufferTooSmall,
            Error::CapacityExceeded => Self::CapacityExceeded,
            Error::Rng => Self::Rng,
            Error::Backend => Self::Backend,
            _ => Self::Internal,
        }
    }
}

impl IotStatus {
    /// The status with C value `value`, if there is one.
    pub const fn from_raw(value: i32) -> Option<Self> {
        Some(match value {
            0 => Self::Ok,
            1 => Self::NullArgument,
            2 => Self::BufferTooSmall,
            3 => Self::InvalidArgument,
            4 => Self::Cbor,
            5 => Self::WrongTag,
            6 => Self::UnknownCriticalHeader,
            7 => Self::InvalidHeader,
            8 => Self::MissingAlgorithm,
            9 => Self::UnsupportedAlgorithm,
            10 => Self::AlgorithmMismatch,
            11 => Self::InvalidKey,
            12 => Self::BadSignature,
            13 => Self::BadTag,
            14 => Self::PayloadMismatch,
            15 => Self::InvalidNonce,
            16 => Self::CapacityExceeded,
            17 => Self::Rng,
            18 => Self::Backend,
            19 => Self::Internal,
            20 => Self::CoapFormat,
            21 => Self::WrongMessageKind,
            22 => Self::InvalidContext,
            23 => Self::NestedOscore,
            24 => Self::InvalidProxyUri,
            25 => Self::NotProtected,
            26 => Self::BadOscoreOption,
            27 => Self::UnknownContext,
            28 => Self::Replay,
            29 => Self::MalformedPlaintext,
            30 => Self::SequenceNumberExhausted,
            31 => Self::BindingMismatch,
            32 => Self::RequestNonceUsed,
            33 => Self::ObserveMismatch,
            34 => Self::InvalidUeid,
            35 => Self::X509Malformed,
            36 => Self::X509UnsupportedVersion,
            37 => Self::CertNotYetValid,
            38 => Self::CertExpired,
            39 => Self::IssuerMismatch,
            40 => Self::NotCa,
            41 => Self::PathLenExceeded,
            42 => Self::KeyUsage,
            43 => Self::UnknownCriticalExtension,
            44 => Self::DuplicateExtension,
            45 => Self::EmptyChain,
            46 => Self::ChainTooLong,
            47 => Self::InvalidName,
            48 => Self::SealedKeyTampered,
            49 => Self::MalformedSealedKey,
            50 => Self::InvalidClaim,
            51 => Self::ProfileViolation,
            52 => Self::SuitMalformed,
            53 => Self::SuitNotAuthenticated,
            54 => Self::SuitConditionFailed,
            55 => Self::SuitRollback,
            56 => Self::SuitPlatform,
            57 => Self::SuitImageMismatch,
            58 => Self::SuitSeveredMemberMissing,
            59 => Self::SuitUnsupported,
            60 => Self::SuitInvalidManifest,
            _ => return None,
        })
    }

    /// A short English description, NUL-terminated.
    pub const fn description(self) -> &'static core::ffi::CStr {
        match self {
            Self::Ok => c"ok",
            Self::NullArgument => c"NULL argument",
            Self::BufferTooSmall => c"output buffer too small",
            Self::InvalidArgument => c"invalid argument",
            Self::Cbor => c"malformed CBOR",
            Self::WrongTag => c"unexpected CBOR tag",
            Self::UnknownCriticalHeader => c"unknown critical header",
            Self::InvalidHeader => c"invalid header parameter",
            Self::MissingAlgorithm => c"no algorithm header",
            Self::UnsupportedAlgorithm => c"unsupported algorithm",
            Self::AlgorithmMismatch => c"algorithm does not match the key or operation",
            Self::InvalidKey => c"invalid key",
            Self::BadSignature => c"signature does not verify",
            Self::BadTag => c"authentication tag does not verify",
            Self::PayloadMismatch => c"payload attached/detached mismatch",
            Self::InvalidNonce => c"nonce or IV of the wrong length",
            Self::CapacityExceeded => c"capacity exceeded",
            Self::Rng => c"random number generator failed",
            Self::Backend => c"crypto backend failed",
            Self::Internal => c"internal error",
            Self::CoapFormat => c"malformed CoAP message",
            Self::WrongMessageKind => c"wrong kind of CoAP message",
            Self::InvalidContext => c"invalid OSCORE context parameters",
            Self::NestedOscore => c"message already carries an OSCORE option",
            Self::InvalidProxyUri => c"Proxy-Uri cannot be decomposed",
            Self::NotProtected => c"message carries no OSCORE option",
            Self::BadOscoreOption => c"Failed to decode COSE",
            Self::UnknownContext => c"Security context not found",
            Self::Replay => c"Replay detected",
            Self::MalformedPlaintext => c"decrypted inner message is malformed",
            Self::SequenceNumberExhausted => c"sender sequence number exhausted",
            Self::BindingMismatch => c"request binding does not fit",
            Self::RequestNonceUsed => c"the request's nonce was already used",
            Self::ObserveMismatch => c"Observe does not match the request",
            Self::InvalidUeid => c"UEID not allowed by RFC 9711",
            Self::X509Malformed => c"malformed X.509 DER",
            Self::X509UnsupportedVersion => c"unsupported certificate version",
            Self::CertNotYetValid => c"certificate not yet valid",
            Self::CertExpired => c"certificate expired",
            Self::IssuerMismatch => c"issuer does not match the issuing subject",
            Self::NotCa => c"issuing certificate is not a CA",
            Self::PathLenExceeded => c"path length constraint exceeded",
            Self::KeyUsage => c"key usage does not allow this use",
            Self::UnknownCriticalExtension => c"unknown critical extension",
            Self::DuplicateExtension => c"duplicate extension",
            Self::EmptyChain => c"empty certificate chain",
            Self::ChainTooLong => c"certificate chain too long",
            Self::InvalidName => c"name attribute too long or invalid",
            Self::SealedKeyTampered => c"sealed key does not authenticate",
            Self::MalformedSealedKey => c"sealed key holds no valid P-256 key",
            Self::InvalidClaim => c"claim value not allowed by its definition",
            Self::ProfileViolation => c"claims break the profile's rules",
            Self::SuitMalformed => c"malformed SUIT envelope or manifest",
            Self::SuitNotAuthenticated => c"SUIT manifest not authenticated",
            Self::SuitConditionFailed => c"SUIT condition failed",
            Self::SuitRollback => c"SUIT sequence number rollback",
            Self::SuitPlatform => c"SUIT platform callback failed",
            Self::SuitImageMismatch => c"payload does not match its image digest",
            Self::SuitSeveredMemberMissing => c"severed SUIT member missing",
            Self::SuitUnsupported => c"unsupported SUIT feature",
            Self::SuitInvalidManifest => c"SUIT manifest breaks a processing rule",
        }
    }
}

/// COSE algorithm id of ES256, ECDSA w/ SHA-256 on P-256 (RFC 9053 section 2.1).
pub const IOT_ALG_ES256: i32 = -7;
/// COSE algorithm id of ESP256, ECDSA using P-256 and SHA-256 (RFC 9864).
pub const IOT_ALG_ESP256: i32 = -9;
/// `iot_sign1_sign` flag: leave the payload out of the message (`nil`, RFC 9052 section 4.1).
pub const IOT_SIGN1_DETACHED: u32 = 1;
/// `iot_sign1_sign` flag: omit CBOR tag 18 (RFC 9052 section 2).
pub const IOT_SIGN1_UNTAGGED: u32 = 2;
/// Length of the private key `iot_sign1_sign` takes: the P-256 scalar, big-endian.
pub const IOT_P256_PRIVATE_KEY_LEN: usize = 32;
/// Length of an uncompressed SEC1 P-256 public key (`04 || x || y`).
pub const IOT_P256_PUBLIC_KEY_LEN: usize = 65;

/// A short English description of `status` as a static NUL-terminated string (never NULL; never
/// free it). Takes the value as an integer so that any value is safe: unknown ones give
/// "unknown status".
#[unsafe(no_mangle)]
pub extern "C" fn iot_status_str(status: i32) -> *const c_char {
    match IotStatus::from_raw(status) {
        Some(s) => s.description().as_ptr(),
        None => c"unknown status".as_ptr(),
    }
}

/// Runs `f`; with `std`, a panic (there should be none) becomes [`IotStatus::Internal`] instead
/// of crossing the C boundary. Without `std`, a panic goes to the `bare-metal` panic handler.
fn guard(f: impl FnOnce() -> Result<(), IotStatus>) -> IotStatus {
    #[cfg(feature = "std")]
    let result = std::panic::catch_unwind(core::panic::AssertUnwindSafe(f))
        .unwrap_or(Err(IotStatus::Internal));
    #[cfg(not(feature = "std"))]
    let result = f();
    match result {
        Ok(()) => IotStatus::Ok,
        Err(s) => s,
    }
}

/// Checks a (pointer, length) pair: NULL only with length 0, the length within `isize::MAX`,
/// and the range not wrapping around the address space.
fn check_range(ptr: *const u8, len: usize) -> Result<(), IotStatus> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(())
        } else {
            Err(IotStatus::NullArgument)
        };
    }
    // isize::MAX is the largest length `slice::from_raw_parts` allows.
    if len > isize::MAX.unsigned_abs() || ptr.addr().checked_add(len).is_none() {
        return Err(IotStatus::InvalidArgument);
    }
    Ok(())
}

/// Borrows `len` bytes at `ptr` (see [`check_range`]); NULL with length 0 gives the empty slice.
///
/// # Safety
/// Unless `ptr` is NULL, `ptr..ptr + len` must be readable memory that nothing writes to for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], IotStatus> {
    check_range(ptr, len)?;
    if ptr.is_null() {
        return Ok(&[]);
    }
    // SAFETY: `ptr` is non-NULL, `len` is at most isize::MAX and the range does not wrap
    // (check_range); the caller guarantees the range is readable and unaliased by writers for 'a.
    // A u8 has no alignment requirement.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// Borrows `len` bytes at `ptr`, or `None` when `ptr` is NULL (then `len` must be 0).
///
/// # Safety
/// As for [`bytes`].
unsafe fn opt_bytes<'a>(ptr: *const u8, len: usize) -> Result<Option<&'a [u8]>, IotStatus> {
    if ptr.is_null() {
        check_range(ptr, len)?;
        return Ok(None);
    }
    // SAFETY: forwarded from the caller.
    unsafe { bytes(ptr, len) }.map(Some)
}

/// Whether a non-empty `a` and `b..b + b_len` share a byte.
fn overlaps(a: &[u8], b: *const u8, b_len: usize) -> bool {
    let (a0, b0) = (a.as_ptr().addr(), b.addr());
    !a.is_empty() && b_len != 0 && a0 < b0.saturating_add(b_len) && b0 < a0.saturating_add(a.len())
}

/// The public key for verification: 65 bytes `04 || x || y` (SEC1 uncompressed), or a COSE_Key
/// map (RFC 9052 section 7) of kty EC2 on P-256, whose `alg`, if any, restricts the message's.
fn verifying_key(bytes: &[u8]) -> Result<P256VerifyingKey, Error> {
    match bytes.first() {
        Some(0x04) if bytes.len() == IOT_P256_PUBLIC_KEY_LEN => P256VerifyingKey::from_sec1(bytes),
        // Major type 5: a CBOR map.
        Some(b) if b >> 5 == 5 => CoseKey::decode(bytes)?.verifying_key(),
        _ => Err(Error::InvalidKey),
    }
}

/// The software backend without a random number generator: COSE_Sign1 needs only SHA-256, and
/// ECDSA signing is deterministic (RFC 6979).
fn backend() -> RustCrypto<()> {
    RustCrypto::default()
}

/// Creates a COSE_Sign1 message (RFC 9052 section 4.2) signed with ECDSA on P-256.
///
/// - `private_key`, `private_key_len`: the 32-byte big-endian P-256 scalar
///   (`IOT_P256_PRIVATE_KEY_LEN`); another length gives `IOT_STATUS_INVALID_KEY`.
/// - `alg`: `IOT_ALG_ES256` or `IOT_ALG_ESP256`, written into the protected header.
/// - `kid`, `kid_len`: the key id for the unprotected header, or NULL for none.
/// - `payload`, `payload_len`: the content (NULL allowed when the length is 0).
/// - `external_aad`, `external_aad_len`: external additional authenticated data (RFC 9052
///   section 4.3), NULL allowed when the length is 0.
/// - `flags`: 0 or a combination of `IOT_SIGN1_DETACHED` and `IOT_SIGN1_UNTAGGED`; other bits give
///   `IOT_STATUS_INVALID_ARGUMENT`.
/// - `out`: the buffer that receives the message; `*out_len` holds its capacity on entry and
///   the message length on success, 0 on failure (the buffer's content is then unspecified).
///   `IOT_STATUS_BUFFER_TOO_SMALL` when the message does not fit.
///
/// # Safety
/// - Every non-NULL input pointer must point to at least its length of readable bytes that no
///   one writes to during the call.
/// - `out` must point to `*out_len` writable bytes that overlap no input (an overlap is detected
///   and refused with `IOT_STATUS_INVALID_ARGUMENT`, but the memory must still be valid).
/// - `out_len` must point to a writable, aligned `size_t`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_sign1_sign(
    private_key: *const u8,
    private_key_len: usize,
    alg: i32,
    kid: *const u8,
    kid_len: usize,
    payload: *const u8,
    payload_len: usize,
    external_aad: *const u8,
    external_aad_len: usize,
    flags: u32,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    if private_key.is_null() || out.is_null() || out_len.is_null() {
        return IotStatus::NullArgument;
    }
    if !out_len.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    // SAFETY: out_len is non-NULL and aligned; the caller guarantees it is readable.
    let capacity = unsafe { out_len.read() };
    let status = guard(|| {
        // SAFETY: the caller guarantees that each non-NULL input pointer is readable for its
        // length and not written during the call.
        let key = unsafe { bytes(private_key, private_key_len) }?;
        // SAFETY: as above.
        let kid = unsafe { opt_bytes(kid, kid_len) }?;
        // SAFETY: as above.
        let payload = unsafe { bytes(payload, payload_len) }?;
        // SAFETY: as above.
        let aad = unsafe { bytes(external_aad, external_aad_len) }?;
        check_range(out.cast_const(), capacity)?;
        let inputs = [key, kid.unwrap_or_default(), payload, aad];
        if inputs
            .iter()
            .any(|i| overlaps(i, out.cast_const(), capacity))
        {
            return Err(IotStatus::InvalidArgument);
        }
        if flags & !(IOT_SIGN1_DETACHED | IOT_SIGN1_UNTAGGED) != 0 {
            return Err(IotStatus::InvalidArgument);
        }
        if key.len() != IOT_P256_PRIVATE_KEY_LEN {
            return Err(IotStatus::InvalidKey);
        }
        let alg = Algorithm::from_id(i64::from(alg)).ok_or(Error::UnsupportedAlgorithm(alg))?;
        let mut signer = P256SigningKey::from_bytes(key)?;
        // SAFETY: out is non-NULL, capacity is within isize::MAX and does not wrap (check_range);
        // the caller guarantees the bytes are writable, and no input overlaps them (checked above)
        // nor does anything else access them during the call.
        let out = unsafe { core::slice::from_raw_parts_mut(out, capacity) };
        let mut builder = Sign1Builder::new(alg);
        if let Some(kid) = kid {
            builder = builder.kid(kid);
        }
        builder.detached = flags & IOT_SIGN1_DETACHED != 0;
        builder.tagged = flags & IOT_SIGN1_UNTAGGED == 0;
        let len = builder.sign(&mut backend(), &mut signer, payload, aad, out)?;
        // SAFETY: out_len is non-NULL, aligned and writable (caller).
        unsafe { out_len.write(len) };
        Ok(())
    });
    if status != IotStatus::Ok {
        // SAFETY: as above.
        unsafe { out_len.write(0) };
    }
    status
}

/// Verifies a COSE_Sign1 message (RFC 9052 section 4.4) signed with ES256 or ESP256.
///
/// - `public_key`, `public_key_len`: 65 bytes `04 || x || y` (uncompressed SEC1,
///   `IOT_P256_PUBLIC_KEY_LEN`), or a COSE_Key (EC2, P-256) whose `alg`, if present, must match
///   the message's. Anything else gives `IOT_STATUS_INVALID_KEY`.
/// - `message`, `message_len`: the message, tagged (18) or untagged; must not be NULL.
/// - `detached_payload`, `detached_payload_len`: NULL when the payload is in the message;
///   otherwise the payload that travelled separately (non-NULL, length 0 allowed).
/// - `external_aad`, `external_aad_len`: external additional authenticated data (RFC 9052
///   section 4.3), NULL allowed when the length is 0.
/// - `payload_out`, `payload_out_len`: each may be NULL. On success they receive the verified
///   payload: for an attached payload a pointer into `message`, valid as long as the caller keeps
///   `message` alive and unmodified (it is borrowed, never copied); for a detached one,
///   `detached_payload` itself. On failure they receive NULL and 0.
///
/// # Safety
/// - Every non-NULL input pointer must point to at least its length of readable bytes that no
///   one writes to during the call.
/// - `payload_out` and `payload_out_len`, when not NULL, must point to writable, aligned
///   objects of their types.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_sign1_verify(
    public_key: *const u8,
    public_key_len: usize,
    message: *const u8,
    message_len: usize,
    detached_payload: *const u8,
    detached_payload_len: usize,
    external_aad: *const u8,
    external_aad_len: usize,
    payload_out: *mut *const u8,
    payload_out_len: *mut usize,
) -> IotStatus {
    if !payload_out.is_aligned() || !payload_out_len.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    let mut verified: (*const u8, usize) = (core::ptr::null(), 0);
    let status = if public_key.is_null() || message.is_null() {
        IotStatus::NullArgument
    } else {
        guard(|| {
            // SAFETY: the caller guarantees that each non-NULL input pointer is readable for
            // its length and not written during the call.
            let key = unsafe { bytes(public_key, public_key_len) }?;
            // SAFETY: as above.
            let message = unsafe { bytes(message, message_len) }?;
            // SAFETY: as above.
            let detached = unsafe { opt_bytes(detached_payload, detached_payload_len) }?;
            // SAFETY: as above.
            let aad = unsafe { bytes(external_aad, external_aad_len) }?;
            let mut key = verifying_key(key)?;
            let msg = CoseSign1::decode(message)?;
            let mut crypto = backend();
            let payload = match detached {
                None => {
                    msg.verify(&mut crypto, &mut key, aad)?;
                    msg.payload.unwrap_or_default()
                }
                Some(payload) => {
                    msg.verify_detached(&mut crypto, &mut key, payload, aad)?;
                    payload
                }
            };
            verified = (payload.as_ptr(), payload.len());
            Ok(())
        })
    };
    if status != IotStatus::Ok {
        verified = (core::ptr::null(), 0);
    }
    if !payload_out.is_null() {
        // SAFETY: non-NULL and aligned (checked); the caller guarantees it is writable.
        unsafe { payload_out.write(verified.0) };
    }
    if !payload_out_len.is_null() {
        // SAFETY: non-NULL and aligned (checked); the caller guarantees it is writable.
        unsafe { payload_out_len.write(verified.1) };
    }
    status
}

unsafe extern "C" {
    /// Called by the panic handler of feature `bare-metal` (a `no_std` staticlib); the C
    /// integrator defines it. It must not return: reset the device, or log and halt. The library
    /// does not panic on any input, so this is the last resort for a bug. Not used, and need not
    /// be defined, in a build with `std`.
    #[allow(dead_code, reason = "only the bare-metal panic handler calls it")]
    fn iot_ffi_panic();
}

/// What a `no_std` staticlib needs and the integrator should not have to choose: a panic handler.
/// It calls `iot_ffi_panic`. No allocator is needed: the API never allocates.
#[cfg(all(feature = "bare-metal", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: iot_ffi_panic takes no arguments and returns nothing; the integrator defines it
    // (see iot.h).
    unsafe { iot_ffi_panic() };
    // Should it return after all, stop here rather than return into a panicking caller.
    loop {
        core::hint::spin_loop();
    }
}
