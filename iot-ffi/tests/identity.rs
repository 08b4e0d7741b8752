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
    let mut out = vec![0u8; 400];
    let mut len = out.len();
    let cn = "sensor-ü";
    // SAFETY: live buffers of the stated lengths.
    let status = unsafe {
        iot_identity_csr(
            SEALING_KEY.as_ptr(),
            SEALING_KEY.len(),
            0,
            sealed.as_ptr(),
            sealed.len(),
            UEID.as_ptr(),
            UEID.len(),
            cn.as_ptr(),
            cn.len(),
            out.as_mut_ptr(),
            &mut len,
        )
    };
    assert_eq!(status, IotStatus::Ok);
    let csr = Csr::decode(&out[..len]).unwrap();
    csr.verify(&mut RustCrypto::<()>::default()).unwrap();
    assert_eq!(csr.public_key.as_sec1(), &public);
    assert_eq!(csr.common_name().unwrap(), Some(cn));
    assert_eq!(
        csr.serial_number().unwrap(),
        Some("030305010203040506070809000102")
    );
    // A flipped bit in the signed part no longer verifies.
    let mut bad = out[..len].to_vec();
    bad[40] ^= 1;
    assert!(
        Csr::decode(&bad)
            .and_then(|c| c.verify(&mut RustCrypto::<()>::default()))
            .is_err()
    );
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
