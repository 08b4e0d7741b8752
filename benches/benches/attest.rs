//! iot-attest beside the raw P-256 operation under it, one group per side so that the results
//! read as ratios (issue 5, "C, benches, size"). The token is a PSA attestation token (RFC 9783)
//! with a 32-byte nonce, Instance ID, Implementation ID, boot seed and three software components,
//! signed ES256 with a fixed key (RFC 6979, so the bytes are the same every run).
//! - `psa_create_sign` (device side, no heap): the claims-set from `PsaClaims`, encoded, the
//!   Sig_structure hashed and signed, the COSE_Sign1 in tag 61 written (`TokenBuilder::sign`);
//!   the floor is `p256` `sign_prehash` of the same Sig_structure digest.
//! - `psa_verify_appraise` (verifier side, `alloc`): `Verifier::verify` (decode, key lookup by
//!   Instance ID, signature, PSA profile rules, nonce) alone, and followed by
//!   `attestation_result` (appraisal against reference values into an EAR); the floor is `p256`
//!   `verify_prehash` of the same digest with a parsed key.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use core::hint::black_box;
use criterion::{Criterion, criterion_group, criterion_main};
use iot_attest::appraise::{RefComponent, ReferenceValues, attestation_result};
use iot_attest::ear::Tier;
use iot_attest::psa::{Lifecycle, PsaClaims};
use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Verifier};
use iot_attest::{Envelope, SwComponent, Token, TokenBuilder};
use iot_benches::interleaved_ratio;
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256 as _};
use p256::ecdsa::signature::hazmat::{PrehashSigner as _, PrehashVerifier as _};

const IAK: [u8; 32] = [0x42; 32];
const NONCE: [u8; 32] = [0x01; 32];
const INSTANCE_ID: [u8; 33] = {
    let mut id = [0x07; 33];
    id[0] = 0x01; // a RAND UEID
    id
};
/// Measurement value and signer ID of each component, as `[component][0 = value, 1 = signer]`.
const MEASUREMENTS: [[[u8; 32]; 2]; 3] = [
    [[0x11; 32], [0xa1; 32]],
    [[0x12; 32], [0xa1; 32]],
    [[0x13; 32], [0xa2; 32]],
];

fn firmware() -> [SwComponent<'static>; 3] {
    let [bl, prot, arot] = &MEASUREMENTS;
    let component = |ty, m: &'static [[u8; 32]; 2], version| SwComponent {
        measurement_type: Some(ty),
        measurement_value: Some(&m[0]),
        signer_id: Some(&m[1]),
        version: Some(version),
        ..SwComponent::default()
    };
    [
        component("BL", bl, "1.0.3"),
        component("PRoT", prot, "1.2.0"),
        component("ARoT", arot, "0.9.1"),
    ]
}

fn evidence<'a>(firmware: &'a [SwComponent<'a>]) -> PsaClaims<'a> {
    PsaClaims {
        nonce: &NONCE,
        instance_id: &INSTANCE_ID,
        implementation_id: &[0x0a; 32],
        client_id: -1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: Some(&[0x05; 16]),
        certification_reference: None,
        software_components: firmware,
        vsi: None,
    }
}

/// Creates and signs the token into `out`; returns its length.
fn create_sign(
    crypto: &mut RustCrypto<()>,
    iak: &mut P256SigningKey,
    firmware: &[SwComponent<'static>],
    scratch: &mut [u8],
    out: &mut [u8],
) -> usize {
    let claims = evidence(black_box(firmware)).claims();
    TokenBuilder::new()
        .kid(b"iak-1")
        .sign(crypto, iak, Algorithm::Es256, &claims, scratch, out)
        .unwrap()
}

/// The SHA-256 of the token's Sig_structure and its signature.
fn digest_and_signature(crypto: &mut RustCrypto<()>, token: &[u8]) -> ([u8; 32], [u8; 64]) {
    let Envelope::Sign1(m) = Token::decode(token).unwrap().envelope else {
        unreachable!("TokenBuilder::sign makes a COSE_Sign1");
    };
    let mut tbs = Vec::new();
    m.write_to_be_signed(None, &[], &mut tbs).unwrap();
    (crypto.sha256(&tbs), m.signature.try_into().unwrap())
}

fn psa_create_sign(c: &mut Criterion) {
    let mut crypto = RustCrypto::<()>::default();
    let mut iak = P256SigningKey::from_bytes(&IAK).unwrap();
    let fw = firmware();
    let (mut scratch, mut out) = ([0u8; 512], [0u8; 640]);

    // The token must verify, and the floor sign the same digest to the same signature.
    let n = create_sign(&mut crypto, &mut iak, &fw, &mut scratch, &mut out);
    let token = out[..n].to_vec();
    Token::decode(&token)
        .unwrap()
        .verify(&mut crypto, &mut iak.verifying_key(), &[])
        .unwrap();
    let (digest, signature) = digest_and_signature(&mut crypto, &token);
    let raw_key = p256::ecdsa::SigningKey::from_slice(&IAK).unwrap();
    let raw: p256::ecdsa::Signature = raw_key.sign_prehash(&digest).unwrap();
    assert_eq!(
        raw.to_bytes()[..],
        signature[..],
        "RFC 6979: same signature"
    );

    interleaved_ratio(
        "psa_create_sign: create+sign / p256 sign_prehash",
        || {
            black_box(create_sign(
                &mut crypto,
                &mut iak,
                &fw,
                &mut scratch,
                &mut out,
            ));
        },
        || {
            let _: p256::ecdsa::Signature = raw_key.sign_prehash(black_box(&digest)).unwrap();
        },
    );

    let mut g = c.benchmark_group("psa_create_sign");
    g.bench_function(format!("iot-attest create+sign ({n} B token)"), |b| {
        b.iter(|| create_sign(&mut crypto, &mut iak, &fw, &mut scratch, &mut out))
    });
    g.bench_function("p256 sign_prehash (floor)", |b| {
        b.iter(|| -> p256::ecdsa::Signature { raw_key.sign_prehash(black_box(&digest)).unwrap() })
    });
    g.finish();
}

fn psa_verify_appraise(c: &mut Criterion) {
    let mut crypto = RustCrypto::<()>::default();
    let mut iak = P256SigningKey::from_bytes(&IAK).unwrap();
    let fw = firmware();
    let (mut scratch, mut out) = ([0u8; 512], [0u8; 640]);
    let n = create_sign(&mut crypto, &mut iak, &fw, &mut scratch, &mut out);
    let token = out[..n].to_vec();

    // The verifier knows the key by Instance ID (the token's kid is the device's own scheme)
    // and the approved firmware.
    let mut keys = MemoryKeyStore::new();
    keys.insert(KeyEntry {
        name: "bench-device".into(),
        kid: None,
        ueid: Some(INSTANCE_ID.to_vec()),
        key: KeyMaterial::P256(iak.verifying_key()),
    })
    .unwrap();
    let reference = ReferenceValues {
        implementation_id: Some(vec![0x0a; 32]),
        software_components: MEASUREMENTS
            .iter()
            .map(|[value, signer]| RefComponent {
                measurement_value: value.to_vec(),
                signer_id: Some(signer.to_vec()),
                ..RefComponent::default()
            })
            .collect(),
        lifecycle: Some(vec![Lifecycle::Secured]),
        ..ReferenceValues::default()
    };
    let verify_appraise = |crypto: &mut RustCrypto<()>, token: &[u8]| {
        let verified = Verifier::new(&keys)
            .verify(crypto, token, Some(&NONCE))
            .unwrap();
        attestation_result(&verified, token, &reference, Some(&NONCE), 1_750_000_000)
    };
    // Affirmed before it is timed; the floor verifies the same signature.
    assert_eq!(
        verify_appraise(&mut crypto, &token).status(),
        Tier::Affirming
    );
    let (digest, signature) = digest_and_signature(&mut crypto, &token);
    let raw_key = *p256::ecdsa::SigningKey::from_slice(&IAK)
        .unwrap()
        .verifying_key();
    let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
    raw_key.verify_prehash(&digest, &signature).unwrap();

    let floor = || {
        raw_key
            .verify_prehash(black_box(&digest), &signature)
            .unwrap()
    };
    interleaved_ratio(
        "psa_verify_appraise: verify / p256 verify_prehash",
        || {
            black_box(
                Verifier::new(&keys)
                    .verify(&mut crypto, black_box(&token), Some(&NONCE))
                    .unwrap(),
            );
        },
        floor,
    );
    interleaved_ratio(
        "psa_verify_appraise: verify+appraise / p256 verify_prehash",
        || {
            black_box(verify_appraise(&mut crypto, black_box(&token)));
        },
        floor,
    );

    let mut g = c.benchmark_group("psa_verify_appraise");
    g.bench_function("iot-attest verify", |b| {
        b.iter(|| {
            Verifier::new(&keys)
                .verify(&mut crypto, black_box(&token), Some(&NONCE))
                .unwrap()
                .rules
        })
    });
    g.bench_function("iot-attest verify+appraise (EAR)", |b| {
        b.iter(|| verify_appraise(&mut crypto, black_box(&token)))
    });
    g.bench_function("p256 verify_prehash (floor)", |b| b.iter(floor));
    g.finish();
}

criterion_group!(benches, psa_create_sign, psa_verify_appraise);
criterion_main!(benches);
