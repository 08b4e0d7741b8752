//! The identity functions of the C API called from Rust: a key sealed by the C API opens in
//! iot-identity's own `SoftwareKeyStore`; its signatures and requests verify with iot-core and
//! iot-identity.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

use core::ffi::c_void;
use iot_core::crypto::{P256VerifyingKey, RustCrypto, Verifier};
use iot_ffi::*;
use iot_identity::keystore::{KeySlot, KeyStore, SoftwareKeyStore};
use iot_identity::x509::Csr;

const SEALING_KEY: [u8; 32] = [0x42; 32];
/// An IMEI UEID (RFC 9711 section 4.2.1, type 0x03): 14 digits.
const UEID: [u8; 15] = [3, 3, 5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2];

/// Counts its calls in `ctx` (a `u32`) and fills from a counter-based stream.
unsafe extern "C" fn counting_random(ctx: *mut c_void, out: *mut u8, len: usize) -> i32 {
    // SAFETY: the tests pass a live `u32` as ctx; the library passes `len` writable bytes.
    let calls = unsafe { &mut *ctx.cast::<u32>() };
    *calls += 1;
    // SAFETY: as above.
    let out = unsafe { core::slice::from_raw_parts_mut(out, len) };
    for (i, b) in out.iter_mut().enumerate() {
        *b = (i as u8)
            .wrapping_mul(31)
            .wrapping_add(*calls as u8)
            .wrapping_add(0x5a);
    }
    0
}

fn generate(slot: u8) -> (Vec<u8>, [u8; 65], u32) {
    let mut sealed = vec![0u8; IOT_SEALED_KEY_MAX_LEN];
    let mut len = sealed.len();
    let mut public = [0u8; 65];
    let mut calls = 0u32;
    // SAFETY: live buffers of the stated lengths; `calls` outlives the call.
    let status = unsafe {
        iot_identity_key_generate(
            SEALING_KEY.as_ptr(),
            SEALING_KEY.len(),
            slot,
            Some(counting_random),
            (&raw mut calls).cast(),
            sealed.as_mut_ptr(),
            &mut len,
            public.as_mut_ptr(),
        )
    };
    assert_eq!(status, IotStatus::Ok);
    sealed.truncate(len);
    (sealed, public, calls)
}

#[test]
fn sealed_key_opens_in_the_rust_key_store_and_signs_verifiably() {
    let (sealed, public, calls) = generate(1);
    assert!(calls >= 2, "key and IV come from the caller's generator");
    // The same sealed key opens in iot-identity's store, in the same slot only.
    let mut store = SoftwareKeyStore::<_, 4>::new(RustCrypto::from_os(), &SEALING_KEY).unwrap();
    assert!(store.unseal(KeySlot(0), &sealed).is_err());
    let opened = store.unseal(KeySlot(1), &sealed).unwrap();
    assert_eq!(opened.as_sec1(), &public);
    assert_eq!(store.public_key(KeySlot(1)).unwrap().as_sec1(), &public);

    let digest = [0x17u8; 32];
    let mut sig = [0u8; 64];
    // SAFETY: live buffers of the stated lengths.
    let status = unsafe {
        iot_identity_sign_digest(
            SEALING_KEY.as_ptr(),
            SEALING_KEY.len(),
            1,
            sealed.as_ptr(),
            sealed.len(),
            digest.as_ptr(),
            sig.as_mut_ptr(),
        )
    };
    assert_eq!(status, IotStatus::Ok);
    let mut vk = P256VerifyingKey::from_sec1(&public).unwrap();
    vk.verify_digest(&digest, &sig).unwrap();
    let mut other = digest;
    other[31] ^= 1;
    assert!(vk.verify_digest(&other, &sig).is_err());
    // RFC 6979: the Rust store signs the same bytes.
    assert_eq!(store.sign_digest(KeySlot(1), &digest).unwrap(), sig);
}

#[test]
fn csr_verifies_and_names_the_device() {
    let (sealed, public, _) = generate(0);
    let cn = "sensor-ü";
    let (status, _, out) = csr(&sealed, &UEID, cn, 400);
    assert_eq!(status, IotStatus::Ok);
    let request = Csr::decode(&out).unwrap();
    request.verify(&mut RustCrypto::<()>::default()).unwrap();
    assert_eq!(request.public_key.as_sec1(), &public);
    assert_eq!(request.common_name().unwrap(), Some(cn));
    assert_eq!(
        request.serial_number().unwrap(),
        Some("030305010203040506070809000102")
    );
    // A flipped bit in the signed part no longer verifies.
    let mut bad = out.clone();
    bad[40] ^= 1;
    assert!(
        Csr::decode(&bad)
            .and_then(|c| c.verify(&mut RustCrypto::<()>::default()))
            .is_err()
    );
}

/// `iot_identity_csr` for the key `sealed` (slot 0) with `ueid` and `cn` into a buffer of
/// `capacity` bytes: the status, the length it reported and the bytes written.
fn csr(sealed: &[u8], ueid: &[u8], cn: &str, capacity: usize) -> (IotStatus, usize, Vec<u8>) {
    let mut out = vec![0u8; capacity];
    let mut len = capacity;
    // SAFETY: live buffers of the stated lengths.
    let status = unsafe {
        iot_identity_csr(
            SEALING_KEY.as_ptr(),
            SEALING_KEY.len(),
            0,
            sealed.as_ptr(),
            sealed.len(),
            ueid.as_ptr(),
            ueid.len(),
            cn.as_ptr(),
            cn.len(),
            out.as_mut_ptr(),
            &mut len,
        )
    };
    out.truncate(if status == IotStatus::Ok { len } else { 0 });
    (status, len, out)
}

#[test]
fn a_small_buffer_is_told_the_length_it_needs() {
    // The sealed key: the length a successful generation writes.
    let (sealed, ..) = generate(0);
    let mut small = [0u8; 40];
    let mut len = small.len();
    let mut calls = 0u32;
    // SAFETY: live buffers of the stated lengths; `calls` outlives the call.
    let status = unsafe {
        iot_identity_key_generate(
            SEALING_KEY.as_ptr(),
            SEALING_KEY.len(),
            0,
            Some(counting_random),
            (&raw mut calls).cast(),
            small.as_mut_ptr(),
            &mut len,
            core::ptr::null_mut(),
        )
    };
    assert_eq!(status, IotStatus::BufferTooSmall);
    assert_eq!(len, sealed.len());

    // The request: deterministic, so the length told is the one a second call writes, whether
    // the buffer missed by one byte or could not even hold the request's signed part.
    let (status, needed, request) = csr(&sealed, &UEID, "sensor-1", IOT_CSR_MAX_LEN);
    assert_eq!(status, IotStatus::Ok);
    assert_eq!(needed, request.len());
    for capacity in [0, 10, needed - 1] {
        let (status, told, _) = csr(&sealed, &UEID, "sensor-1", capacity);
        assert_eq!(
            (status, told),
            (IotStatus::BufferTooSmall, needed),
            "{capacity}"
        );
    }
    assert_eq!(csr(&sealed, &UEID, "sensor-1", needed).2, request);
    // Another failure still reports 0.
    let (status, told, _) = csr(&sealed, &[7, 0, 0, 0, 0, 0, 0, 0, 1], "sensor-1", 10);
    assert_eq!((status, told), (IotStatus::InvalidUeid, 0));
}

#[test]
fn the_longest_request_fits_iot_csr_max_len() {
    let (sealed, ..) = generate(0);
    // A 64-character common name of four-byte characters and the longest UEID whose hex fits the
    // 64-character serialNumber: RAND with 24 bytes (RFC 9711 section 4.2.1; 32 would not fit).
    let cn = "\u{1d11e}".repeat(64);
    let mut ueid = [0x5au8; 25];
    ueid[0] = 0x01;
    let (status, len, request) = csr(&sealed, &ueid, &cn, IOT_CSR_MAX_LEN);
    assert_eq!(status, IotStatus::Ok);
    // The signature's DER (RFC 3279 Ecdsa-Sig-Value) takes at most 72 bytes, fewer when r or s
    // needs no sign byte or has leading zeros: with the longest, the request is the bound.
    let sig = Csr::decode(&request).unwrap().signature;
    let int_len = |x: &[u8]| {
        let x = &x[x.iter().take_while(|&&b| b == 0).count()..];
        2 + x.len() + usize::from(x[0] >= 0x80)
    };
    let der_len = 2 + int_len(&sig[..32]) + int_len(&sig[32..]);
    assert_eq!(len - der_len + 72, IOT_CSR_MAX_LEN);
}

#[test]
fn every_status_has_its_own_description() {
    let mut seen = std::collections::HashSet::new();
    for v in 0..=IotStatus::SuitInvalidManifest as i32 {
        let s = IotStatus::from_raw(v).unwrap();
        assert_eq!(s as i32, v);
        // SAFETY: iot_status_str returns a static NUL-terminated string.
        let text = unsafe { core::ffi::CStr::from_ptr(iot_status_str(v)) };
        assert!(seen.insert(text.to_owned()), "{v}: {text:?} repeated");
    }
    assert!(IotStatus::from_raw(IotStatus::SuitInvalidManifest as i32 + 1).is_none());
}
