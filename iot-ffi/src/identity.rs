//! Device identity through the C API (`iot_identity`): P-256 keys in the software key store,
//! sealed at rest as COSE_Encrypt0 (RFC 9052 section 5.2) in a buffer the caller keeps, PKCS#10
//! requests (RFC 2986) and validation of the device's certificate chain (RFC 5280 section 6.1).
//!
//! The key never leaves the library in the clear: each call opens the sealed key into a key
//! store on the stack, uses it, and zeroizes it before returning.

use crate::{IotStatus, backend, bytes, check_range, guard, opt_bytes, overlaps};
use core::ffi::c_void;
use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::{Aead, Rng, RustCrypto};
use iot_identity::keystore::{
    KeySlot, KeyStore, KeyStoreError, P256PublicKey, SEALED_KEY_MAX_LEN, SoftwareKeyStore,
    StoreSigner,
};
use iot_identity::ueid::{Ueid, UeidError};
use iot_identity::x509::{
    ChainError, CsrSubject, MAX_CHAIN_LEN, TrustAnchor, ValidationOptions, X509Error,
    validate_chain, write_csr,
};

/// Number of key slots: a sealed key is bound to the slot (0 to `IOT_KEY_SLOTS - 1`) it was
/// generated for and opens only there (keep, say, an IDevID in 0 and an LDevID in 1).
pub const IOT_KEY_SLOTS: u8 = 4;
/// The longest sealed key `iot_identity_key_generate` writes: a buffer of this size always fits.
pub const IOT_SEALED_KEY_MAX_LEN: usize = 160;
/// The longest request `iot_identity_csr` writes (a 64-character common name of four-byte UTF-8
/// characters, a 25-byte UEID, the longest whose hex fits serialNumber, and a 72-byte DER
/// signature): a buffer of this size always fits.
pub const IOT_CSR_MAX_LEN: usize = 529;
/// Length of a SHA-256 digest, what `iot_identity_sign_digest` signs.
pub const IOT_SHA256_LEN: usize = 32;
/// Length of an ECDSA P-256 signature as `r || s` (the form COSE uses, RFC 9053 section 2.1).
pub const IOT_P256_SIGNATURE_LEN: usize = 64;
/// The most certificates `iot_identity_validate_chain` takes below the trust anchor (the leaf
/// and up to two intermediates); the anchor's own certificate may follow them.
pub const IOT_MAX_CHAIN_LEN: usize = 3;

const _: () = assert!(IOT_SEALED_KEY_MAX_LEN == SEALED_KEY_MAX_LEN);
const _: () = assert!(IOT_MAX_CHAIN_LEN == MAX_CHAIN_LEN);
const _: () = assert!(IOT_P256_SIGNATURE_LEN == iot_core::crypto::P256_SIGNATURE_LEN);
const _: () = assert!(IOT_SHA256_LEN == iot_core::crypto::SHA256_LEN);
const _: () =
    assert!(crate::IOT_P256_PUBLIC_KEY_LEN == iot_identity::keystore::P256_PUBLIC_KEY_LEN);

/// The random number generator the caller supplies for key generation: fills `out` with `len`
/// cryptographically secure random bytes and returns 0, or returns non-zero on failure
/// (`IOT_STATUS_RNG`). `ctx` is the caller's pointer, passed through unchanged.
pub type IotRandomFn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, out: *mut u8, len: usize) -> i32>;

/// The key store's backend: RustCrypto for sealing, and the caller's random number generator
/// (absent when only opening keys, which needs none).
pub(crate) struct StoreCrypto {
    random: IotRandomFn,
    ctx: *mut c_void,
    inner: RustCrypto<()>,
}

impl Rng for StoreCrypto {
    fn fill_random(&mut self, out: &mut [u8]) -> iot_core::Result<()> {
        let f = self.random.ok_or(iot_core::Error::Rng)?;
        // SAFETY: the caller of the C function that made this backend guarantees that `random`
        // writes at most `len` bytes at `out` (a valid, exclusive slice here) and may be called
        // with its `ctx`.
        let r = unsafe { f(self.ctx, out.as_mut_ptr(), out.len()) };
        if r == 0 {
            Ok(())
        } else {
            out.fill(0);
            Err(iot_core::Error::Rng)
        }
    }
}

impl Aead for StoreCrypto {
    type AeadKey = <RustCrypto<()> as Aead>::AeadKey;

    fn aead_key(&mut self, alg: AeadAlgorithm, key: &[u8]) -> iot_core::Result<Self::AeadKey> {
        self.inner.aead_key(alg, key)
    }

    fn aead_seal(
        &mut self,
        key: &Self::AeadKey,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &mut [u8],
    ) -> iot_core::Result<()> {
        self.inner.aead_seal(key, nonce, aad, buffer, tag)
    }

    fn aead_open(
        &mut self,
        key: &Self::AeadKey,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> iot_core::Result<()> {
        self.inner.aead_open(key, nonce, aad, buffer, tag)
    }
}

/// A key store of [`IOT_KEY_SLOTS`] slots; its keys are zeroized when it is dropped.
pub(crate) type Store = SoftwareKeyStore<StoreCrypto, { IOT_KEY_SLOTS as usize }>;

impl From<KeyStoreError> for IotStatus {
    fn from(e: KeyStoreError) -> Self {
        match e {
            KeyStoreError::NoSuchSlot(_) => Self::InvalidArgument,
            KeyStoreError::SealingKeyLength(_) => Self::InvalidKey,
            KeyStoreError::Tampered => Self::SealedKeyTampered,
            KeyStoreError::MalformedSealedKey => Self::MalformedSealedKey,
            KeyStoreError::Core(e) => e.into(),
            _ => Self::Internal,
        }
    }
}

impl From<UeidError> for IotStatus {
    fn from(e: UeidError) -> Self {
        match e {
            UeidError::Core(e) => e.into(),
            _ => Self::InvalidUeid,
        }
    }
}

impl From<X509Error> for IotStatus {
    fn from(e: X509Error) -> Self {
        match e {
            X509Error::Malformed { .. } => Self::X509Malformed,
            X509Error::UnsupportedVersion => Self::X509UnsupportedVersion,
            X509Error::UnsupportedSignatureAlgorithm => Self::UnsupportedAlgorithm,
            X509Error::UnsupportedKey => Self::InvalidKey,
            X509Error::BadSignature => Self::BadSignature,
            X509Error::NotYetValid => Self::CertNotYetValid,
            X509Error::Expired => Self::CertExpired,
            X509Error::IssuerMismatch => Self::IssuerMismatch,
            X509Error::NotCa => Self::NotCa,
            X509Error::PathLenExceeded => Self::PathLenExceeded,
            X509Error::KeyUsage => Self::KeyUsage,
            X509Error::UnknownCriticalExtension => Self::UnknownCriticalExtension,
            X509Error::DuplicateExtension => Self::DuplicateExtension,
            X509Error::EmptyChain => Self::EmptyChain,
            X509Error::ChainTooLong => Self::ChainTooLong,
            X509Error::InvalidName => Self::InvalidName,
            X509Error::BufferTooSmall => Self::BufferTooSmall,
            X509Error::Core(e) => e.into(),
            _ => Self::Internal,
        }
    }
}

/// The slot `slot`, if the store has it.
pub(crate) fn key_slot(slot: u8) -> Result<KeySlot, IotStatus> {
    if slot < IOT_KEY_SLOTS {
        Ok(KeySlot(slot))
    } else {
        Err(IotStatus::InvalidArgument)
    }
}

/// A store holding the sealed key `sealed` opened in `slot`.
pub(crate) fn open(sealing_key: &[u8], slot: KeySlot, sealed: &[u8]) -> Result<Store, IotStatus> {
    let crypto = StoreCrypto {
        random: None,
        ctx: core::ptr::null_mut(),
        inner: RustCrypto::default(),
    };
    let mut store = Store::new(crypto, sealing_key)?;
    store.unseal(slot, sealed)?;
    Ok(store)
}

/// Writes `src` to the `N` bytes at `dst` (checked non-NULL by the caller of this function).
///
/// # Safety
/// `dst` must point to `N` writable bytes that nothing else accesses during the call.
unsafe fn write_array<const N: usize>(dst: *mut u8, src: &[u8; N]) {
    // SAFETY: forwarded from the caller; `src` is a Rust array, which cannot overlap C memory
    // the caller hands out as exclusive.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, N) };
}

/// Generates a P-256 key in the software key store (`iot_identity::keystore`) and writes it
/// sealed: a COSE_Encrypt0 (RFC 9052 section 5.2) of its COSE_Key under `sealing_key`, bound to
/// `slot`. Keep the sealed key in flash; the other `iot_identity_*` functions take it back.
///
/// - `sealing_key`, `sealing_key_len`: 16 bytes (A128GCM) or 32 bytes (ChaCha20/Poly1305), e.g.
///   derived from DICE CDI_Seal so that only this firmware on this device opens the key. Another
///   length gives `IOT_STATUS_INVALID_KEY`.
/// - `slot`: below `IOT_KEY_SLOTS`, else `IOT_STATUS_INVALID_ARGUMENT`.
/// - `random`, `random_ctx`: the random number generator (the private key and the IV come from
///   it); NULL gives `IOT_STATUS_NULL_ARGUMENT`, a non-zero return `IOT_STATUS_RNG`.
/// - `sealed`: receives the sealed key; `*sealed_len` holds its capacity on entry
///   (`IOT_SEALED_KEY_MAX_LEN` always suffices) and the length on success, 0 on failure, except
///   `IOT_STATUS_BUFFER_TOO_SMALL`: then the length the sealed key needs (the key generated is
///   dropped; call again with that capacity).
/// - `public_key`: NULL, or receives the 65-byte public key `04 || x || y`.
///
/// # Safety
/// - `sealing_key` must point to `sealing_key_len` readable bytes no one writes during the call.
/// - `random` must be a function that writes at most `len` bytes at `out`.
/// - `sealed` must point to `*sealed_len` writable bytes overlapping no input (refused with
///   `IOT_STATUS_INVALID_ARGUMENT`), `sealed_len` to a writable, aligned `size_t`, and
///   `public_key`, unless NULL, to 65 writable bytes; none accessed by others during the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_identity_key_generate(
    sealing_key: *const u8,
    sealing_key_len: usize,
    slot: u8,
    random: IotRandomFn,
    random_ctx: *mut c_void,
    sealed: *mut u8,
    sealed_len: *mut usize,
    public_key: *mut u8,
) -> IotStatus {
    if sealing_key.is_null() || random.is_none() || sealed.is_null() {
        // SAFETY: the caller guarantees sealed_len is writable when not NULL.
        return unsafe { crate::oscore::reset_len(sealed_len, IotStatus::NullArgument) };
    }
    let mut needed = 0;
    // SAFETY: the caller's guarantees, forwarded.
    let status = unsafe {
        crate::oscore::with_out(
            sealed,
            sealed_len,
            &[(sealing_key, sealing_key_len)],
            |out| {
                let key = bytes(sealing_key, sealing_key_len)?;
                let slot = key_slot(slot)?;
                if !public_key.is_null() {
                    check_range(public_key.cast_const(), crate::IOT_P256_PUBLIC_KEY_LEN)?;
                    if overlaps(out, public_key.cast_const(), crate::IOT_P256_PUBLIC_KEY_LEN)
                        || overlaps(key, public_key.cast_const(), crate::IOT_P256_PUBLIC_KEY_LEN)
                    {
                        return Err(IotStatus::InvalidArgument);
                    }
                }
                let crypto = StoreCrypto {
                    random,
                    ctx: random_ctx,
                    inner: RustCrypto::default(),
                };
                let mut store = Store::new(crypto, key)?;
                let public = store.generate(slot)?;
                let n = store.seal(slot, out).map_err(|e| {
                    let status = IotStatus::from(e);
                    if status == IotStatus::BufferTooSmall {
                        needed = sealed_len_needed(&mut store, slot);
                    }
                    status
                })?;
                if !public_key.is_null() {
                    write_array(public_key, public.as_sec1());
                }
                Ok(n)
            },
        )
    };
    // SAFETY: the caller guarantees sealed_len is writable when not NULL.
    unsafe { report_needed(sealed_len, status, needed) }
}

/// The length of `slot`'s sealed key (0 if it does not seal), sealed again into a scratch
/// buffer: the IV differs, the length does not.
#[cold]
#[inline(never)]
fn sealed_len_needed(store: &mut Store, slot: KeySlot) -> usize {
    store
        .seal(slot, &mut [0u8; SEALED_KEY_MAX_LEN])
        .unwrap_or_default()
}

/// Stores `needed` in `*out_len` after a call that failed with `IOT_STATUS_BUFFER_TOO_SMALL`
/// and knows the length it needs (non-zero); returns `status`.
///
/// # Safety
/// `out_len`, if not NULL, must point to a writable `size_t`.
unsafe fn report_needed(out_len: *mut usize, status: IotStatus, needed: usize) -> IotStatus {
    if status == IotStatus::BufferTooSmall
        && needed != 0
        && !out_len.is_null()
        && out_len.is_aligned()
    {
        // SAFETY: non-NULL and aligned; writable (caller).
        unsafe { out_len.write(needed) };
    }
    status
}

/// Writes the public key of a sealed key (see `iot_identity_key_generate`) into `public_key`:
/// 65 bytes `04 || x || y`. A sealed key that does not open under `sealing_key` for `slot`
/// (altered, another sealing key, another slot) gives `IOT_STATUS_SEALED_KEY_TAMPERED`.
///
/// # Safety
/// Input pointers must point to their length of readable bytes no one writes during the call;
/// `public_key` to 65 writable bytes no one else accesses.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_identity_public_key(
    sealing_key: *const u8,
    sealing_key_len: usize,
    slot: u8,
    sealed: *const u8,
    sealed_len: usize,
    public_key: *mut u8,
) -> IotStatus {
    if sealing_key.is_null() || sealed.is_null() || public_key.is_null() {
        return IotStatus::NullArgument;
    }
    guard(|| {
        // SAFETY: the caller guarantees the inputs are readable for their lengths.
        let key = unsafe { bytes(sealing_key, sealing_key_len) }?;
        // SAFETY: as above.
        let sealed = unsafe { bytes(sealed, sealed_len) }?;
        check_range(public_key.cast_const(), crate::IOT_P256_PUBLIC_KEY_LEN)?;
        if [key, sealed]
            .iter()
            .any(|i| overlaps(i, public_key.cast_const(), crate::IOT_P256_PUBLIC_KEY_LEN))
        {
            return Err(IotStatus::InvalidArgument);
        }
        let slot = key_slot(slot)?;
        let public = open(key, slot, sealed)?.public_key(slot)?;
        // SAFETY: non-NULL; the caller guarantees 65 writable bytes.
        unsafe { write_array(public_key, public.as_sec1()) };
        Ok(())
    })
}

/// Signs a SHA-256 `digest` (32 bytes) with a sealed key: ECDSA P-256, RFC 6979 deterministic,
/// written as 64 bytes `r || s` into `signature`.
///
/// # Safety
/// As for `iot_identity_public_key`; `digest` must point to 32 readable bytes and `signature` to
/// 64 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_identity_sign_digest(
    sealing_key: *const u8,
    sealing_key_len: usize,
    slot: u8,
    sealed: *const u8,
    sealed_len: usize,
    digest: *const u8,
    signature: *mut u8,
) -> IotStatus {
    if sealing_key.is_null() || sealed.is_null() || digest.is_null() || signature.is_null() {
        return IotStatus::NullArgument;
    }
    guard(|| {
        // SAFETY: the caller guarantees the inputs are readable for their lengths.
        let key = unsafe { bytes(sealing_key, sealing_key_len) }?;
        // SAFETY: as above.
        let sealed = unsafe { bytes(sealed, sealed_len) }?;
        // SAFETY: as above, 32 bytes.
        let digest = unsafe { bytes(digest, IOT_SHA256_LEN) }?;
        let digest: &[u8; IOT_SHA256_LEN] =
            digest.try_into().map_err(|_| IotStatus::InvalidArgument)?;
        check_range(signature.cast_const(), IOT_P256_SIGNATURE_LEN)?;
        if [key, sealed, &digest[..]]
            .iter()
            .any(|i| overlaps(i, signature.cast_const(), IOT_P256_SIGNATURE_LEN))
        {
            return Err(IotStatus::InvalidArgument);
        }
        let slot = key_slot(slot)?;
        let sig = open(key, slot, sealed)?.sign_digest(slot, digest)?;
        // SAFETY: non-NULL; the caller guarantees 64 writable bytes.
        unsafe { write_array(signature, &sig) };
        Ok(())
    })
}

/// Writes a PKCS#10 certificate request (RFC 2986 section 4, DER) for a sealed key, signed with
/// it (ecdsa-with-SHA256), subject `CN=<common name>, serialNumber=<UEID in upper-case hex>`.
///
/// - `sealing_key`, `slot`, `sealed`: the key, as for `iot_identity_public_key`.
/// - `ueid`, `ueid_len`: the encoded UEID (type byte and identifier, RFC 9711 section 4.2.1),
///   at most 32 bytes for the 64-character serialNumber; else `IOT_STATUS_INVALID_UEID` or
///   `IOT_STATUS_INVALID_NAME`.
/// - `common_name`, `common_name_len`: UTF-8, 1 to 64 characters, not NUL-terminated; NULL for
///   the UEID in hex. Invalid UTF-8 or length gives `IOT_STATUS_INVALID_NAME`.
/// - `out`: receives the request; `*out_len` holds its capacity on entry and the length on
///   success, 0 on failure, except `IOT_STATUS_BUFFER_TOO_SMALL`: then the request's length (the
///   signature is deterministic, RFC 6979, so a call with that capacity writes it).
///   `IOT_CSR_MAX_LEN` bytes always suffice.
///
/// # Safety
/// Input pointers must point to their length of readable bytes no one writes during the call;
/// `out` to `*out_len` writable bytes overlapping no input (refused with
/// `IOT_STATUS_INVALID_ARGUMENT`); `out_len` to a writable, aligned `size_t`.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iot_identity_csr(
    sealing_key: *const u8,
    sealing_key_len: usize,
    slot: u8,
    sealed: *const u8,
    sealed_len: usize,
    ueid: *const u8,
    ueid_len: usize,
    common_name: *const u8,
    common_name_len: usize,
    out: *mut u8,
    out_len: *mut usize,
) -> IotStatus {
    if sealing_key.is_null() || sealed.is_null() || ueid.is_null() || out.is_null() {
        // SAFETY: the caller guarantees out_len is writable when not NULL.
        return unsafe { crate::oscore::reset_len(out_len, IotStatus::NullArgument) };
    }
    let inputs = [
        (sealing_key, sealing_key_len),
        (sealed, sealed_len),
        (ueid, ueid_len),
        (common_name, common_name_len),
    ];
    let mut needed = 0;
    // SAFETY: the caller's guarantees, forwarded.
    let status = unsafe {
        crate::oscore::with_out(out, out_len, &inputs, |out| {
            let key = bytes(sealing_key, sealing_key_len)?;
            let sealed = bytes(sealed, sealed_len)?;
            let ueid = Ueid::from_bytes(bytes(ueid, ueid_len)?)?;
            let common_name = match opt_bytes(common_name, common_name_len)? {
                Some(cn) => Some(core::str::from_utf8(cn).map_err(|_| IotStatus::InvalidName)?),
                None => None,
            };
            let slot = key_slot(slot)?;
            let mut store = open(key, slot, sealed)?;
            let mut signer = StoreSigner::new(&mut store, slot);
            let public = signer.public_key()?;
            let subject = CsrSubject {
                ueid: &ueid,
                common_name,
            };
            match write_csr(&mut backend(), &mut signer, &public, &subject, out) {
                Err(X509Error::BufferTooSmall) => {
                    needed = csr_len_needed(&mut signer, &public, &subject);
                    Err(IotStatus::BufferTooSmall)
                }
                written => Ok(written?),
            }
        })
    };
    // SAFETY: the caller guarantees out_len is writable when not NULL.
    unsafe { report_needed(out_len, status, needed) }
}

/// The length of the request `iot_identity_csr` makes (0 if it makes none), written in full
/// into a scratch buffer.
#[cold]
#[inline(never)]
fn csr_len_needed(
    signer: &mut StoreSigner<'_, Store>,
    public: &P256PublicKey,
    subject: &CsrSubject<'_>,
) -> usize {
    write_csr(
        &mut backend(),
        signer,
        public,
        subject,
        &mut [0u8; IOT_CSR_MAX_LEN],
    )
    .unwrap_or_default()
}

/// Validates a certificate chain against a pinned trust anchor at a caller-given time (RFC 5280
/// section 6.1, the device profile of `iot_identity::x509`): names chain byte for byte,
/// ecdsa-with-SHA256 signatures verify, every certificate is valid at `now`, issuing
/// certificates are CAs with keyCertSign and within pathLenConstraint, the leaf's keyUsage (if
/// any) allows digitalSignature, no unknown critical extension. Revocation is not checked.
///
/// - `certs`, `cert_lens`, `count`: the DER certificates, leaf first, each issued by the next;
///   at most `IOT_MAX_CHAIN_LEN` below the anchor, optionally followed by the anchor's own
///   certificate. More gives `IOT_STATUS_CHAIN_TOO_LONG`, none `IOT_STATUS_EMPTY_CHAIN`.
/// - `anchor`, `anchor_len`: the trust anchor's DER certificate (its subject and key are
///   pinned; its own validity and extensions are not checked).
/// - `now`: seconds since the Unix epoch.
/// - `failed_index`: NULL, or receives the index in `certs` of the certificate at fault when the
///   chain is refused (0 = the leaf; also 0 for an empty or too long chain), and 0 on success.
///
/// The reason is the status: `IOT_STATUS_CERT_EXPIRED`, `IOT_STATUS_CERT_NOT_YET_VALID`,
/// `IOT_STATUS_ISSUER_MISMATCH`, `IOT_STATUS_BAD_SIGNATURE`, `IOT_STATUS_NOT_CA`,
/// `IOT_STATUS_KEY_USAGE`, `IOT_STATUS_PATH_LEN_EXCEEDED`, `IOT_STATUS_UNKNOWN_CRITICAL_EXTENSION`,
/// `IOT_STATUS_X509_MALFORMED`, ... A malformed anchor gives its reason with index `count`.
///
/// # Safety
/// `certs` and `cert_lens` must point to `count` readable elements, each certificate pointer to
/// its length of readable bytes, `anchor` to `anchor_len` bytes, none written during the call;
/// `failed_index`, unless NULL, to a writable, aligned `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_identity_validate_chain(
    certs: *const *const u8,
    cert_lens: *const usize,
    count: usize,
    anchor: *const u8,
    anchor_len: usize,
    now: u64,
    failed_index: *mut usize,
) -> IotStatus {
    if !failed_index.is_aligned() || !certs.is_aligned() || !cert_lens.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    let mut index = 0;
    let status = if anchor.is_null() || (count != 0 && (certs.is_null() || cert_lens.is_null())) {
        IotStatus::NullArgument
    } else {
        guard(|| {
            // SAFETY: the caller guarantees the anchor is readable for its length.
            let anchor = unsafe { bytes(anchor, anchor_len) }?;
            let anchor = TrustAnchor::from_certificate(anchor).map_err(|e| {
                index = count;
                IotStatus::from(e)
            })?;
            // The chain below the anchor, and the anchor's own certificate after it.
            let mut chain: [&[u8]; MAX_CHAIN_LEN + 1] = [&[]; MAX_CHAIN_LEN + 1];
            if count > chain.len() {
                return Err(IotStatus::ChainTooLong);
            }
            for (i, slot) in chain.iter_mut().enumerate().take(count) {
                // SAFETY: i < count; the caller guarantees `count` readable, aligned elements
                // (alignment checked above).
                let (p, n) = unsafe { (certs.add(i).read(), cert_lens.add(i).read()) };
                if p.is_null() {
                    index = i;
                    return Err(IotStatus::NullArgument);
                }
                // SAFETY: the caller guarantees each certificate is readable for its length.
                *slot = unsafe { bytes(p, n) }.inspect_err(|_| index = i)?;
            }
            let chain = chain.get(..count).ok_or(IotStatus::ChainTooLong)?;
            validate_chain(&mut backend(), chain, &anchor, &ValidationOptions::at(now)).map_err(
                |ChainError { index: i, reason }| {
                    index = i;
                    IotStatus::from(reason)
                },
            )?;
            Ok(())
        })
    };
    if !failed_index.is_null() {
        // SAFETY: non-NULL and aligned (checked); writable (caller).
        unsafe { failed_index.write(if status == IotStatus::Ok { 0 } else { index }) };
    }
    status
}
