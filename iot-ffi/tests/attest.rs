//! The attestation functions of the C API called from Rust: the PSA example token of RFC 9783
//! (psa/example in ../shared/vectors) rebuilt from its claims through `iot_attest_psa_sign`
//! carries the example's claims-set (re-encoded in deterministic order) and verifies with
//! iot-attest; an EAT passes the Constrained Device Standard Profile checks.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)]

use core::ptr;
use iot_attest::psa::Lifecycle;
use iot_attest::{Claims, Nonce, Token, cdsp, psa};
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_ffi::*;

/// tfm-es-iak.json of psa/example: d.
const IAK_D: &str = "43fffecb95f8085a7c40e1d3ea790bef4eb78cdd77d58503a64c1600f91b33e7";

fn iak() -> Vec<u8> {
    hex::decode(IAK_D).unwrap()
}

/// `iot_attest_psa_sign` over the claims of sign1-claims.diag.
fn psa_token(flags: u32) -> Vec<u8> {
    let nonce = [0x01u8; 32];
    let mut instance = [0x02u8; 33];
    instance[0] = 0x01;
    let implementation = [0u8; 32];
    let boot_seed = [0u8; 8];
    let (measurement, signer) = ([0x03u8; 32], [0x04u8; 32]);
    let prot = IotSwComponent {
        measurement_type: c"PRoT".as_ptr(),
        measurement_type_len: 4,
        measurement_value: measurement.as_ptr(),
        measurement_value_len: 32,
        version: ptr::null(),
        version_len: 0,
        signer_id: signer.as_ptr(),
        signer_id_len: 32,
        measurement_desc: ptr::null(),
        measurement_desc_len: 0,
    };
    let claims = IotPsaClaims {
        nonce: nonce.as_ptr(),
        nonce_len: nonce.len(),
        instance_id: instance.as_ptr(),
        instance_id_len: instance.len(),
        implementation_id: implementation.as_ptr(),
        implementation_id_len: implementation.len(),
        client_id: i32::MAX,
        lifecycle: 0x3000,
        boot_seed: boot_seed.as_ptr(),
        boot_seed_len: boot_seed.len(),
        certification_reference: ptr::null(),
        certification_reference_len: 0,
        software_components: &prot,
        software_components_count: 1,
        vsi: ptr::null(),
        vsi_len: 0,
    };
    let key = iak();
    let mut out = vec![0u8; 1024];
    let mut len = out.len();
    // SAFETY: every pointer is a live local of the stated length; `out` is a separate Vec.
    let status = unsafe {
        iot_attest_psa_sign(
            &claims,
            key.as_ptr(),
            key.len(),
            IOT_ALG_ES256,
            ptr::null(),
            0,
            flags,
            out.as_mut_ptr(),
            &mut len,
        )
    };
    assert_eq!(status, IotStatus::Ok);
    out.truncate(len);
    out
}

#[test]
fn psa_token_carries_the_example_claims_and_verifies() {
    let Some(example) = iot_test_vectors::read("psa/example/psa-sign1.cbor") else {
        return;
    };
    let example = Token::decode(&example).unwrap();
    let example_claims = example.claims_unverified().unwrap();
    let mut want = [0u8; 512];
    let n = example_claims.encode_to(&mut want).unwrap();

    let mut crypto = RustCrypto::<()>::default();
    let mut vk = P256SigningKey::from_bytes(&iak()).unwrap().verifying_key();
    for flags in [0, IOT_ATTEST_NO_CWT_TAG] {
        let token = psa_token(flags);
        assert_eq!(token.starts_with(&[0xd8, 0x3d]), flags == 0);
        let ours = Token::decode(&token).unwrap();
        assert_eq!(ours.payload().unwrap(), &want[..n]);
        let claims = ours.verify(&mut crypto, &mut vk, &[]).unwrap();
        psa::validate(&claims).unwrap();
        assert_eq!(
            claims.psa_lifecycle.and_then(Lifecycle::from_value),
            Some(Lifecycle::Secured)
        );
        // The example's own signature verifies under the same key: the key is the example's.
        example.verify(&mut crypto, &mut vk, &[]).unwrap();
    }
}

#[test]
fn eat_token_follows_the_constrained_device_profile() {
    let nonce = [0xa5u8; 16];
    let digest = [0x5du8; 32];
    let manifest = IotTypedContent {
        content_format: 60,
        content: digest.as_ptr(),
        content_len: digest.len(),
    };
    let claims = IotEatClaims {
        nonce: nonce.as_ptr(),
        nonce_len: nonce.len(),
        ueid: ptr::null(),
        ueid_len: 0,
        oemid: [0x00u8, 0x1b, 0x63].as_ptr(),
        oemid_len: 3,
        hwmodel: ptr::null(),
        hwmodel_len: 0,
        swname: ptr::null(),
        swname_len: 0,
        swversion: c"2.0".as_ptr(),
        swversion_len: 3,
        present: IOT_EAT_UPTIME,
        iat: 0,
        uptime: 3600,
        bootcount: 0,
        dbgstat: 0,
        intuse: 0,
        manifests: ptr::null(),
        manifests_count: 0,
        measurements: &manifest,
        measurements_count: 1,
    };
    let key = iak();
    let mut out = vec![0u8; 512];
    let mut len = out.len();
    // SAFETY: every pointer is a live local of the stated length; `out` is a separate Vec.
    let status = unsafe {
        iot_attest_eat_sign(
            &claims,
            key.as_ptr(),
            key.len(),
            IOT_ALG_ESP256,
            b"k1".as_ptr(),
            2,
            0,
            out.as_mut_ptr(),
            &mut len,
        )
    };
    assert_eq!(status, IotStatus::Ok);
    let token = &out[..len];
    let t = cdsp::check_token(token).unwrap();
    assert_eq!(t.kid(), Some(&b"k1"[..]));
    let mut vk = P256SigningKey::from_bytes(&key).unwrap().verifying_key();
    let got: Claims<'_> = t
        .verify(&mut RustCrypto::<()>::default(), &mut vk, &[])
        .unwrap();
    cdsp::validate(&got).unwrap();
    assert!(matches!(got.nonce, Some(Nonce::One(n)) if n == nonce));
    assert_eq!(got.uptime, Some(3600));
    assert_eq!(got.swversion.map(|v| v.version), Some("2.0"));
    let m = got.measurements.unwrap().iter().next().unwrap();
    assert_eq!((m.content_format, m.content), (60, &digest[..]));
    assert!(got.iat.is_none() && got.manifests.is_none() && got.dbgstat.is_none());
}
