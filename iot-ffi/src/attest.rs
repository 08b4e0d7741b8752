//! Attestation evidence through the C API (`iot_attest`): a PSA attestation token (RFC 9783) or
//! an EAT of the Constrained Device Standard Profile (RFC 9711 section 6.3) built from a C
//! struct of claims, checked against its profile, and signed as a CWT in COSE_Sign1 (ES256 or
//! ESP256, RFC 9052 section 4) into the caller's buffer.

use crate::{IotStatus, backend, bytes, opt_bytes};
use core::ffi::c_char;
use core::mem::size_of;
use iot_attest::psa::PsaClaims;
use iot_attest::{
    Claims, DebugStatus, IntendedUse, Nonce, NumericDate, OemId, Profile, Seq, SwComponent,
    TokenBuilder, TypedContent, Version,
};
use iot_core::Error;
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, Signer};
use iot_identity::keystore::StoreSigner;

/// The most software components (PSA), manifests or measurements (EAT) one token carries.
pub const IOT_ATTEST_MAX_ITEMS: usize = 8;

/// `iot_attest_*_sign` flag: no CWT tag 61 around the COSE_Sign1 (whose tag 18 stays), so that
/// `iot_sign1_verify` reads the token as it is.
pub const IOT_ATTEST_NO_CWT_TAG: u32 = 1;

/// `IotEatClaims::present` bit: `iat` (6) is set.
pub const IOT_EAT_IAT: u32 = 1;
/// `IotEatClaims::present` bit: `uptime` (261) is set.
pub const IOT_EAT_UPTIME: u32 = 2;
/// `IotEatClaims::present` bit: `bootcount` (267) is set.
pub const IOT_EAT_BOOTCOUNT: u32 = 4;
/// `IotEatClaims::present` bit: `dbgstat` (263) is set.
pub const IOT_EAT_DBGSTAT: u32 = 8;
/// `IotEatClaims::present` bit: `intuse` (275) is set.
pub const IOT_EAT_INTUSE: u32 = 16;

/// One PSA software component (RFC 9783 section 4.4.1). Text is UTF-8 with its length (no NUL
/// needed); a NULL pointer (length 0) leaves the field out.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotSwComponent {
    /// Measurement type (1), e.g. "BL", "PRoT", "ARoT", "App"; NULL for none.
    pub measurement_type: *const c_char,
    /// Its length in bytes.
    pub measurement_type_len: usize,
    /// Measurement value (2): a hash of the component (32, 48 or 64 bytes; required by PSA).
    pub measurement_value: *const u8,
    /// Its length.
    pub measurement_value_len: usize,
    /// Version (4); NULL for none.
    pub version: *const c_char,
    /// Its length in bytes.
    pub version_len: usize,
    /// Signer ID (5): a hash of the signing authority's key (32, 48 or 64 bytes; required).
    pub signer_id: *const u8,
    /// Its length.
    pub signer_id_len: usize,
    /// Measurement description (6), e.g. "sha-256"; NULL for none.
    pub measurement_desc: *const c_char,
    /// Its length in bytes.
    pub measurement_desc_len: usize,
}

/// The claims of a PSA attestation token (RFC 9783 section 4); `eat_profile` is added
/// (`tag:psacertified.org,2023:psa#tfm`). Optional fields are NULL (length 0) when absent.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotPsaClaims {
    /// The verifier's challenge (10): 32, 48 or 64 bytes.
    pub nonce: *const u8,
    /// Its length.
    pub nonce_len: usize,
    /// The Instance ID (256): 33 bytes, a RAND UEID (first byte 0x01).
    pub instance_id: *const u8,
    /// Its length.
    pub instance_id_len: usize,
    /// The Implementation ID (2396): 32 bytes.
    pub implementation_id: *const u8,
    /// Its length.
    pub implementation_id_len: usize,
    /// The caller's partition (2394): negative non-secure, positive secure, never 0.
    pub client_id: i32,
    /// The security lifecycle (2395), e.g. 0x3000 "secured".
    pub lifecycle: u16,
    /// The boot seed (268), 8 to 32 bytes, or NULL.
    pub boot_seed: *const u8,
    /// Its length.
    pub boot_seed_len: usize,
    /// The certification reference (2398), EAN-13+5 text, or NULL.
    pub certification_reference: *const c_char,
    /// Its length in bytes.
    pub certification_reference_len: usize,
    /// The software components (2399): 1 to `IOT_ATTEST_MAX_ITEMS`.
    pub software_components: *const IotSwComponent,
    /// How many.
    pub software_components_count: usize,
    /// The verification service indicator (2400), or NULL.
    pub vsi: *const c_char,
    /// Its length in bytes.
    pub vsi_len: usize,
}

/// Content with its CoAP Content-Format, an element of the `manifests` (272) or
/// `measurements` (273) claim (RFC 9711 sections 4.2.15 and 4.2.16): the installed SUIT
/// manifest, or a measurement of a firmware component.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotTypedContent {
    /// The CoAP Content-Format of `content`.
    pub content_format: u16,
    /// The content.
    pub content: *const u8,
    /// Its length.
    pub content_len: usize,
}

/// The claims of an EAT under the Constrained Device Standard Profile (RFC 9711 section 6.3);
/// `eat_profile` is added (`urn:ietf:rfc:rfc9711`). Optional byte and text fields are NULL
/// (length 0) when absent; optional numbers are present when their bit is in `present`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotEatClaims {
    /// The verifier's challenge (10): 8 to 64 bytes, required.
    pub nonce: *const u8,
    /// Its length.
    pub nonce_len: usize,
    /// The UEID (256, RFC 9711 section 4.2.1), 7 to 33 bytes, or NULL.
    pub ueid: *const u8,
    /// Its length.
    pub ueid_len: usize,
    /// The OEM ID (258): 16 random bytes or a 3-byte IEEE OUI, or NULL.
    pub oemid: *const u8,
    /// Its length.
    pub oemid_len: usize,
    /// The hardware model (259), 1 to 32 bytes, or NULL.
    pub hwmodel: *const u8,
    /// Its length.
    pub hwmodel_len: usize,
    /// The software name (270), or NULL.
    pub swname: *const c_char,
    /// Its length in bytes.
    pub swname_len: usize,
    /// The software version (271, no version scheme), or NULL.
    pub swversion: *const c_char,
    /// Its length in bytes.
    pub swversion_len: usize,
    /// Which of the numbers below are present: `IOT_EAT_IAT`, `IOT_EAT_UPTIME`, ...
    pub present: u32,
    /// Issued at (6), seconds since the Unix epoch.
    pub iat: i64,
    /// Seconds since boot (261).
    pub uptime: u64,
    /// Boots so far (267).
    pub bootcount: u64,
    /// Debug status (263): 0 enabled to 4 disabled-fully-and-permanently.
    pub dbgstat: u8,
    /// Intended use (275): 1 generic, 2 registration, 3 provisioning, 4 certificate issuance,
    /// 5 proof of possession.
    pub intuse: u8,
    /// The `manifests` claim (272): up to `IOT_ATTEST_MAX_ITEMS`, or NULL and 0 for none.
    pub manifests: *const IotTypedContent,
    /// How many.
    pub manifests_count: usize,
    /// The `measurements` claim (273): up to `IOT_ATTEST_MAX_ITEMS`, or NULL and 0 for none.
    pub measurements: *const IotTypedContent,
    /// How many.
    pub measurements_count: usize,
}

impl From<iot_attest::Error> for IotStatus {
    fn from(e: iot_attest::Error) -> Self {
        use iot_attest::Error as E;
        match e {
            E::Core(e) => e.into(),
            E::InvalidClaim { .. } | E::DuplicateClaim { .. } | E::ClaimOrder => Self::InvalidClaim,
            E::Profile { .. } | E::WrongProfile | E::EnvelopeNotAllowed => Self::ProfileViolation,
            _ => Self::Internal,
        }
    }
}

/// Borrows UTF-8 text at (`ptr`, `len`), `None` when `ptr` is NULL; not UTF-8 is an invalid
/// claim.
///
/// # Safety
/// As for [`bytes`].
unsafe fn opt_text<'a>(ptr: *const c_char, len: usize) -> Result<Option<&'a str>, IotStatus> {
    // SAFETY: forwarded from the caller.
    match unsafe { opt_bytes(ptr.cast(), len) }? {
        Some(b) => core::str::from_utf8(b)
            .map(Some)
            .map_err(|_| IotStatus::InvalidClaim),
        None => Ok(None),
    }
}

/// Borrows the `count` elements at `ptr` (NULL only when `count` is 0), at most
/// `IOT_ATTEST_MAX_ITEMS`.
///
/// # Safety
/// Unless `ptr` is NULL, it must point to `count` readable, initialized `T` that no one writes
/// for `'a`.
unsafe fn items<'a, T>(ptr: *const T, count: usize) -> Result<&'a [T], IotStatus> {
    if count > IOT_ATTEST_MAX_ITEMS {
        return Err(IotStatus::CapacityExceeded);
    }
    if ptr.is_null() {
        return if count == 0 {
            Ok(&[])
        } else {
            Err(IotStatus::NullArgument)
        };
    }
    if !ptr.is_aligned() {
        return Err(IotStatus::InvalidArgument);
    }
    // SAFETY: non-NULL and aligned, count is at most IOT_ATTEST_MAX_ITEMS (so the size cannot
    // overflow); the caller guarantees the elements are readable and stable for 'a.
    Ok(unsafe { core::slice::from_raw_parts(ptr, count) })
}

/// Borrows the C struct at `ptr`.
///
/// # Safety
/// Unless NULL, `ptr` must point to a readable, initialized `T` that no one writes for `'a`.
unsafe fn borrow<'a, T>(ptr: *const T) -> Result<&'a T, IotStatus> {
    if ptr.is_null() {
        return Err(IotStatus::NullArgument);
    }
    if !ptr.is_aligned() {
        return Err(IotStatus::InvalidArgument);
    }
    // SAFETY: non-NULL and aligned; the caller guarantees the rest.
    Ok(unsafe { &*ptr })
}

/// Copies the C typed contents into `out`; returns how many.
///
/// # Safety
/// Each element's `content` must be readable for its length (as for [`bytes`]).
unsafe fn typed_contents<'a>(
    src: &[IotTypedContent],
    out: &mut [TypedContent<'a>; IOT_ATTEST_MAX_ITEMS],
) -> Result<usize, IotStatus> {
    for (o, c) in out.iter_mut().zip(src) {
        *o = TypedContent {
            content_format: c.content_format,
            // SAFETY: forwarded from the caller.
            content: unsafe { bytes(c.content, c.content_len) }?,
        };
    }
    Ok(src.len())
}

/// The byte ranges a call reads (claims struct, arrays, strings, key, kid), gathered before the
/// output buffer is borrowed so that `with_out` can refuse an overlap.
struct Ranges {
    r: [(*const u8, usize); MAX_RANGES],
    n: usize,
}

/// Enough for a PSA token: the struct, six strings, the component array and five strings per
/// component, the key and the kid.
const MAX_RANGES: usize = 1 + 6 + 1 + 5 * IOT_ATTEST_MAX_ITEMS + 2;

impl Ranges {
    fn new() -> Self {
        Self {
            r: [(core::ptr::null(), 0); MAX_RANGES],
            n: 0,
        }
    }

    fn push<T>(&mut self, p: *const T, len: usize) -> Result<(), IotStatus> {
        let slot = self.r.get_mut(self.n).ok_or(IotStatus::Internal)?;
        *slot = (p.cast(), len);
        self.n += 1;
        Ok(())
    }

    /// The array of `count` `T` at `p`, as a byte range.
    fn push_array<T>(&mut self, p: *const T, count: usize) -> Result<(), IotStatus> {
        self.push(p, count.saturating_mul(size_of::<T>()))
    }

    fn as_slice(&self) -> &[(*const u8, usize)] {
        self.r.get(..self.n).unwrap_or_default()
    }
}

/// `Some(items)` of the first `n` of `all`, `None` when there are none.
fn seq<'a, T>(all: &'a [T], n: usize) -> Option<Seq<'a, T>> {
    all.get(..n).filter(|s| !s.is_empty()).map(Seq::Items)
}

/// The attestation key of a call: a raw P-256 scalar, or a sealed key of the identity functions.
#[derive(Clone, Copy)]
enum KeyArg {
    Raw(*const u8, usize),
    Sealed {
        sealing_key: *const u8,
        sealing_key_len: usize,
        slot: u8,
        sealed: *const u8,
        sealed_len: usize,
    },
}

impl KeyArg {
    fn is_null(&self) -> bool {
        match *self {
            Self::Raw(p, _) => p.is_null(),
            Self::Sealed {
                sealing_key,
                sealed,
                ..
            } => sealing_key.is_null() || sealed.is_null(),
        }
    }

    fn push_ranges(&self, r: &mut Ranges) -> Result<(), IotStatus> {
        match *self {
            Self::Raw(p, n) => r.push(p, n),
            Self::Sealed {
                sealing_key,
                sealing_key_len,
                sealed,
                sealed_len,
                ..
            } => {
                r.push(sealing_key, sealing_key_len)?;
                r.push(sealed, sealed_len)
            }
        }
    }

    /// Signs with the key (see [`sign_with`]).
    ///
    /// # Safety
    /// The key's pointers must be readable for their lengths (as for [`bytes`]).
    unsafe fn sign(
        self,
        claims: &Claims<'_>,
        alg: i32,
        kid: Option<&[u8]>,
        flags: u32,
        out: &mut [u8],
    ) -> Result<usize, IotStatus> {
        match self {
            Self::Raw(p, n) => {
                // SAFETY: forwarded from the caller.
                let key = unsafe { bytes(p, n) }?;
                if key.len() != crate::IOT_P256_PRIVATE_KEY_LEN {
                    return Err(IotStatus::InvalidKey);
                }
                let mut signer = P256SigningKey::from_bytes(key)?;
                sign_with(&mut signer, claims, alg, kid, flags, out)
            }
            Self::Sealed {
                sealing_key,
                sealing_key_len,
                slot,
                sealed,
                sealed_len,
            } => {
                // SAFETY: forwarded from the caller.
                let key = unsafe { bytes(sealing_key, sealing_key_len) }?;
                // SAFETY: as above.
                let sealed = unsafe { bytes(sealed, sealed_len) }?;
                let slot = crate::identity::key_slot(slot)?;
                let mut store = crate::identity::open(key, slot, sealed)?;
                let mut signer = StoreSigner::new(&mut store, slot);
                sign_with(&mut signer, claims, alg, kid, flags, out)
            }
        }
    }
}

/// Encodes `claims` at the end of `out`, then signs them with `signer` as a CWT (COSE_Sign1) into
/// the front of `out`: no scratch buffer besides the caller's, which must hold the token plus
/// the claims-set.
fn sign_with<S: Signer>(
    signer: &mut S,
    claims: &Claims<'_>,
    alg: i32,
    kid: Option<&[u8]>,
    flags: u32,
    out: &mut [u8],
) -> Result<usize, IotStatus> {
    let alg = Algorithm::from_id(i64::from(alg)).ok_or(Error::UnsupportedAlgorithm(alg))?;
    let n = claims.encode_to(out)?;
    let start = out.len().checked_sub(n).ok_or(IotStatus::BufferTooSmall)?;
    out.copy_within(..n, start);
    let (head, payload) = out.split_at_mut(start);
    let mut builder = TokenBuilder::new().cwt_tag(flags & IOT_ATTEST_NO_CWT_TAG == 0);
    if let Some(kid) = kid {
        builder = builder.kid(kid);
    }
    Ok(builder.sign_payload(&mut backend(), signer, alg, payload, head)?)
}

/// The frame of the sign functions: checks pointers and flags, gathers the input ranges
/// ([`ClaimsArg::ranges`]), then builds the claims and signs into `out` ([`ClaimsArg::build`]).
///
/// # Safety
/// The caller's guarantees of the extern function, forwarded: every pointer readable (or `out`
/// writable) for its length.
#[allow(clippy::too_many_arguments)]
unsafe fn sign_frame<T: ClaimsArg>(
    claims: *const T,
    key: KeyArg,
    alg: i32,
    kid: *const u8,
    kid_len: usize,
    flags: u32,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    if claims.is_null() || key.is_null() || out.is_null() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { crate::oscore::reset_len(out_len, IotStatus::NullArgument) };
    }
    let mut ranges = Ranges::new();
    // SAFETY: the caller guarantees `claims` and its arrays are readable.
    let gathered = unsafe { T::ranges(claims, &mut ranges) }
        .and_then(|()| key.push_ranges(&mut ranges))
        .and_then(|()| ranges.push(kid, kid_len));
    if let Err(e) = gathered {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { crate::oscore::reset_len(out_len, e) };
    }
    // SAFETY: the caller's guarantees, forwarded.
    unsafe {
        crate::oscore::with_out(out, out_len, ranges.as_slice(), |o| {
            if flags & !IOT_ATTEST_NO_CWT_TAG != 0 {
                return Err(IotStatus::InvalidArgument);
            }
            let c = borrow(claims)?;
            let kid = opt_bytes(kid, kid_len)?;
            c.build(&mut |claims| key.sign(claims, alg, kid, flags, o))
        })
    }
}

/// Builds a PSA attestation token (RFC 9783) from `claims`, checks it against the PSA profile
/// (`iot_attest::psa::validate`: `IOT_STATUS_PROFILE_VIOLATION` when a claim breaks it), and
/// signs it as a CWT in COSE_Sign1 with the Initial Attestation Key.
///
/// - `private_key`, `private_key_len`: the 32-byte P-256 scalar of the attestation key
///   (`iot_attest_psa_sign_sealed` takes a sealed key instead).
/// - `alg`: `IOT_ALG_ES256` or `IOT_ALG_ESP256`.
/// - `kid`, `kid_len`: the key id for the unprotected header, or NULL for none.
/// - `flags`: 0 for tag 61 around the tagged COSE_Sign1, or `IOT_ATTEST_NO_CWT_TAG`.
/// - `out`: receives the token; `*out_len` holds its capacity on entry and the token's length on
///   success, 0 on failure. The claims-set is encoded at the end of `out` before the token is
///   written at its start, so the capacity must hold both (about twice the token).
///
/// A claim that breaks its definition (a wrong length, text not UTF-8) gives
/// `IOT_STATUS_INVALID_CLAIM`; more than `IOT_ATTEST_MAX_ITEMS` components
/// `IOT_STATUS_CAPACITY_EXCEEDED`.
///
/// # Safety
/// - `claims` must point to an `IotPsaClaims` whose pointers each point to their length (or
///   count) of readable, initialized data, none written during the call.
/// - `private_key` and `kid` as for `iot_sign1_sign`; `out` must point to `*out_len` writable
///   bytes overlapping no input (the key, kid and claim bytes, the claims struct; an overlap is
///   refused with `IOT_STATUS_INVALID_ARGUMENT`), `out_len` to a writable, aligned `size_t`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_attest_psa_sign(
    claims: *const IotPsaClaims,
    private_key: *const u8,
    private_key_len: usize,
    alg: i32,
    kid: *const u8,
    kid_len: usize,
    flags: u32,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    let key = KeyArg::Raw(private_key, private_key_len);
    // SAFETY: the caller's guarantees, forwarded.
    unsafe { sign_frame(claims, key, alg, kid, kid_len, flags, out, out_len) }
}

/// `iot_attest_psa_sign` with the attestation key sealed by `iot_identity_key_generate`
/// (`sealing_key`, `slot`, `sealed` as for `iot_identity_sign_digest`): the identity key signs
/// the evidence and never leaves the library in the clear.
///
/// # Safety
/// As for `iot_attest_psa_sign`, with the sealing key and sealed key readable for their lengths.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_attest_psa_sign_sealed(
    claims: *const IotPsaClaims,
    sealing_key: *const u8,
    sealing_key_len: usize,
    slot: u8,
    sealed: *const u8,
    sealed_len: usize,
    alg: i32,
    kid: *const u8,
    kid_len: usize,
    flags: u32,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    let key = KeyArg::Sealed {
        sealing_key,
        sealing_key_len,
        slot,
        sealed,
        sealed_len,
    };
    // SAFETY: the caller's guarantees, forwarded.
    unsafe { sign_frame(claims, key, alg, kid, kid_len, flags, out, out_len) }
}

/// Builds an EAT of the Constrained Device Standard Profile (RFC 9711 section 6.3) from
/// `claims`, checks its rules (`iot_attest::cdsp::validate`), and signs it as a CWT in
/// COSE_Sign1, in preferred serialization with definite lengths.
///
/// Arguments and results as for `iot_attest_psa_sign`; an out-of-range `dbgstat` or `intuse`,
/// or a `present` bit that is not defined, gives `IOT_STATUS_INVALID_CLAIM`.
///
/// # Safety
/// As for `iot_attest_psa_sign`, with `claims` an `IotEatClaims`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_attest_eat_sign(
    claims: *const IotEatClaims,
    private_key: *const u8,
    private_key_len: usize,
    alg: i32,
    kid: *const u8,
    kid_len: usize,
    flags: u32,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    let key = KeyArg::Raw(private_key, private_key_len);
    // SAFETY: the caller's guarantees, forwarded.
    unsafe { sign_frame(claims, key, alg, kid, kid_len, flags, out, out_len) }
}

/// `iot_attest_eat_sign` with a sealed key, as `iot_attest_psa_sign_sealed`.
///
/// # Safety
/// As for `iot_attest_psa_sign_sealed`, with `claims` an `IotEatClaims`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_attest_eat_sign_sealed(
    claims: *const IotEatClaims,
    sealing_key: *const u8,
    sealing_key_len: usize,
    slot: u8,
    sealed: *const u8,
    sealed_len: usize,
    alg: i32,
    kid: *const u8,
    kid_len: usize,
    flags: u32,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    let key = KeyArg::Sealed {
        sealing_key,
        sealing_key_len,
        slot,
        sealed,
        sealed_len,
    };
    // SAFETY: the caller's guarantees, forwarded.
    unsafe { sign_frame(claims, key, alg, kid, kid_len, flags, out, out_len) }
}

/// A C struct of claims the sign functions take.
trait ClaimsArg: Sized {
    /// Gathers the byte ranges of the struct and of what it points to (`out` must overlap none).
    ///
    /// # Safety
    /// `claims` must point to a readable struct whose pointers are readable for their lengths
    /// and counts.
    unsafe fn ranges(claims: *const Self, r: &mut Ranges) -> Result<(), IotStatus>;

    /// The claims-set of the struct, validated against its profile, handed to `sign`.
    ///
    /// # Safety
    /// The struct's pointers must be readable for their lengths and counts.
    unsafe fn build(
        &self,
        sign: &mut dyn FnMut(&Claims<'_>) -> Result<usize, IotStatus>,
    ) -> Result<usize, IotStatus>;
}

impl ClaimsArg for IotPsaClaims {
    unsafe fn ranges(claims: *const Self, r: &mut Ranges) -> Result<(), IotStatus> {
        // SAFETY: forwarded from the caller.
        let c = unsafe { borrow(claims) }?;
        r.push(claims, size_of::<IotPsaClaims>())?;
        r.push(c.nonce, c.nonce_len)?;
        r.push(c.instance_id, c.instance_id_len)?;
        r.push(c.implementation_id, c.implementation_id_len)?;
        r.push(c.boot_seed, c.boot_seed_len)?;
        r.push(c.certification_reference, c.certification_reference_len)?;
        r.push(c.vsi, c.vsi_len)?;
        // SAFETY: forwarded from the caller.
        let components = unsafe { items(c.software_components, c.software_components_count) }?;
        r.push_array(components.as_ptr(), components.len())?;
        for s in components {
            r.push(s.measurement_type, s.measurement_type_len)?;
            r.push(s.measurement_value, s.measurement_value_len)?;
            r.push(s.version, s.version_len)?;
            r.push(s.signer_id, s.signer_id_len)?;
            r.push(s.measurement_desc, s.measurement_desc_len)?;
        }
        Ok(())
    }

    unsafe fn build(
        &self,
        sign: &mut dyn FnMut(&Claims<'_>) -> Result<usize, IotStatus>,
    ) -> Result<usize, IotStatus> {
        let c = self;
        // SAFETY: the caller guarantees that c's pointers are readable for their lengths and
        // counts and not written during the call.
        unsafe {
            let mut components = [SwComponent::default(); IOT_ATTEST_MAX_ITEMS];
            let src = items(c.software_components, c.software_components_count)?;
            for (d, s) in components.iter_mut().zip(src) {
                *d = SwComponent {
                    measurement_type: opt_text(s.measurement_type, s.measurement_type_len)?,
                    measurement_value: opt_bytes(s.measurement_value, s.measurement_value_len)?,
                    version: opt_text(s.version, s.version_len)?,
                    signer_id: opt_bytes(s.signer_id, s.signer_id_len)?,
                    measurement_desc: opt_text(s.measurement_desc, s.measurement_desc_len)?,
                };
            }
            let psa = PsaClaims {
                nonce: bytes(c.nonce, c.nonce_len)?,
                instance_id: bytes(c.instance_id, c.instance_id_len)?,
                implementation_id: bytes(c.implementation_id, c.implementation_id_len)?,
                client_id: c.client_id,
                lifecycle: c.lifecycle,
                boot_seed: opt_bytes(c.boot_seed, c.boot_seed_len)?,
                certification_reference: opt_text(
                    c.certification_reference,
                    c.certification_reference_len,
                )?,
                software_components: components.get(..src.len()).unwrap_or_default(),
                vsi: opt_text(c.vsi, c.vsi_len)?,
            };
            let claims = psa.claims();
            iot_attest::psa::validate(&claims)?;
            sign(&claims)
        }
    }
}

impl ClaimsArg for IotEatClaims {
    unsafe fn ranges(claims: *const Self, r: &mut Ranges) -> Result<(), IotStatus> {
        // SAFETY: forwarded from the caller.
        let c = unsafe { borrow(claims) }?;
        r.push(claims, size_of::<IotEatClaims>())?;
        r.push(c.nonce, c.nonce_len)?;
        r.push(c.ueid, c.ueid_len)?;
        r.push(c.oemid, c.oemid_len)?;
        r.push(c.hwmodel, c.hwmodel_len)?;
        r.push(c.swname, c.swname_len)?;
        r.push(c.swversion, c.swversion_len)?;
        for (p, n) in [
            (c.manifests, c.manifests_count),
            (c.measurements, c.measurements_count),
        ] {
            // SAFETY: forwarded from the caller.
            let all = unsafe { items(p, n) }?;
            r.push_array(all.as_ptr(), all.len())?;
            for t in all {
                r.push(t.content, t.content_len)?;
            }
        }
        Ok(())
    }

    unsafe fn build(
        &self,
        sign: &mut dyn FnMut(&Claims<'_>) -> Result<usize, IotStatus>,
    ) -> Result<usize, IotStatus> {
        let c = self;
        // SAFETY: the caller guarantees that c's pointers are readable for their lengths and
        // counts and not written during the call.
        unsafe {
            const KNOWN: u32 =
                IOT_EAT_IAT | IOT_EAT_UPTIME | IOT_EAT_BOOTCOUNT | IOT_EAT_DBGSTAT | IOT_EAT_INTUSE;
            if c.present & !KNOWN != 0 {
                return Err(IotStatus::InvalidClaim);
            }
            let has = |bit: u32| c.present & bit != 0;
            let empty = TypedContent {
                content_format: 0,
                content: &[],
            };
            let mut manifests = [empty; IOT_ATTEST_MAX_ITEMS];
            let n_manifests =
                typed_contents(items(c.manifests, c.manifests_count)?, &mut manifests)?;
            let mut measurements = [empty; IOT_ATTEST_MAX_ITEMS];
            let n_measurements = typed_contents(
                items(c.measurements, c.measurements_count)?,
                &mut measurements,
            )?;
            let oemid = match opt_bytes(c.oemid, c.oemid_len)? {
                None => None,
                Some(b) if b.len() == 3 => Some(OemId::Ieee(b)),
                Some(b) => Some(OemId::Random(b)),
            };
            let dbgstat = if has(IOT_EAT_DBGSTAT) {
                Some(DebugStatus::from_value(u64::from(c.dbgstat)).ok_or(IotStatus::InvalidClaim)?)
            } else {
                None
            };
            let intuse = if has(IOT_EAT_INTUSE) {
                Some(match c.intuse {
                    1 => IntendedUse::Generic,
                    2 => IntendedUse::Registration,
                    3 => IntendedUse::Provisioning,
                    4 => IntendedUse::Csr,
                    5 => IntendedUse::Pop,
                    _ => return Err(IotStatus::InvalidClaim),
                })
            } else {
                None
            };
            let claims = Claims {
                profile: Some(Profile::Uri(iot_attest::cdsp::PROFILE)),
                nonce: Some(Nonce::One(bytes(c.nonce, c.nonce_len)?)),
                ueid: opt_bytes(c.ueid, c.ueid_len)?,
                oemid,
                hwmodel: opt_bytes(c.hwmodel, c.hwmodel_len)?,
                swname: opt_text(c.swname, c.swname_len)?,
                swversion: opt_text(c.swversion, c.swversion_len)?.map(|version| Version {
                    version,
                    scheme: None,
                }),
                iat: has(IOT_EAT_IAT).then_some(NumericDate::Int(c.iat)),
                uptime: has(IOT_EAT_UPTIME).then_some(c.uptime),
                bootcount: has(IOT_EAT_BOOTCOUNT).then_some(c.bootcount),
                dbgstat,
                intuse,
                manifests: seq(&manifests, n_manifests),
                measurements: seq(&measurements, n_measurements),
                ..Claims::default()
            };
            iot_attest::cdsp::validate(&claims)?;
            sign(&claims)
        }
    }
}
