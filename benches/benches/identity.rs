//! iot-identity's X.509 beside the raw P-256 work it cannot avoid, one group per operation so
//! that the results read as ratios (issue 6, "C, benches, size"):
//! - `csr_create`: `write_csr` (RFC 2986: CertificationRequestInfo written, SHA-256, ECDSA
//!   RFC 6979, DER signature, outer SEQUENCE) signing with a `P256SigningKey` and through a
//!   `SoftwareKeyStore` slot (`StoreSigner`); the floor is `p256` `sign_prehash` of the same
//!   digest with the same key.
//! - `chain_validate`: `validate_chain` (RFC 5280 section 6.1) of the checked-in leaf and
//!   intermediate under the pinned root (iot-identity/tests/data); beside it `p256`
//!   `verify_prehash` of the same two signatures over precomputed digests with parsed keys (the
//!   floor), and the same plus the SHA-256 of each TBSCertificate and the SEC1 decode of each
//!   issuer key, which every validator does too.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use core::hint::black_box;
use criterion::{Criterion, criterion_group, criterion_main};
use iot_benches::interleaved_ratio;
use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256 as _};
use iot_identity::keystore::{KeySlot, KeyStore, P256PublicKey, SoftwareKeyStore, StoreSigner};
use iot_identity::ueid::Ueid;
use iot_identity::x509::{
    Certificate, Csr, CsrSubject, TrustAnchor, ValidationOptions, validate_chain, write_csr,
};
use p256::ecdsa::signature::hazmat::{PrehashSigner as _, PrehashVerifier as _};

const LEAF: &[u8] = include_bytes!("../../iot-identity/tests/data/leaf.der");
const INTER: &[u8] = include_bytes!("../../iot-identity/tests/data/inter.der");
const ROOT: &[u8] = include_bytes!("../../iot-identity/tests/data/root.der");
/// 2026-01-01T00:00:00Z, inside the validity of the three certificates (tests/data/README.md).
const NOW: u64 = 1_767_225_600;
const DEVICE_KEY: [u8; 32] = [0x42; 32];

fn csr_create(c: &mut Criterion) {
    let mut crypto = RustCrypto::<()>::default();
    let mut key = P256SigningKey::from_bytes(&DEVICE_KEY).unwrap();
    let public = P256PublicKey::from_sec1(&key.verifying_key().to_sec1_uncompressed()).unwrap();
    let ueid = Ueid::eui64([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x00, 0x01]).unwrap();
    let subject = CsrSubject {
        ueid: &ueid,
        common_name: Some("bench-device"),
    };
    let mut out = [0u8; 400];

    // A key store slot holding a generated key, for the same request through the KeyStore trait.
    let mut store = SoftwareKeyStore::<_, 1>::new(RustCrypto::from_os(), &[7u8; 32]).unwrap();
    let store_public = store.generate(KeySlot(0)).unwrap();

    // The request must read back and verify before it is timed; its digest is the floor's input.
    let n = write_csr(&mut crypto, &mut key, &public, &subject, &mut out).unwrap();
    let der = out[..n].to_vec();
    let csr = Csr::decode(&der).unwrap();
    csr.verify(&mut crypto).unwrap();
    let digest = crypto.sha256(csr.info_raw);
    let raw_key = p256::ecdsa::SigningKey::from_slice(&DEVICE_KEY).unwrap();
    let sig: p256::ecdsa::Signature = raw_key.sign_prehash(&digest).unwrap();
    assert_eq!(
        sig.to_bytes()[..],
        csr.signature[..],
        "RFC 6979: same signature"
    );
    let n = write_csr(
        &mut crypto,
        &mut StoreSigner::new(&mut store, KeySlot(0)),
        &store_public,
        &subject,
        &mut out,
    )
    .unwrap();
    Csr::decode(&out[..n]).unwrap().verify(&mut crypto).unwrap();

    interleaved_ratio(
        "csr_create: write_csr (P256SigningKey) / p256 sign_prehash",
        || {
            black_box(
                write_csr(
                    &mut crypto,
                    &mut key,
                    black_box(&public),
                    &subject,
                    &mut out,
                )
                .unwrap(),
            );
        },
        || {
            let _: p256::ecdsa::Signature = raw_key.sign_prehash(black_box(&digest)).unwrap();
        },
    );
    interleaved_ratio(
        "csr_create: write_csr (SoftwareKeyStore) / p256 sign_prehash",
        || {
            let mut signer = StoreSigner::new(&mut store, KeySlot(0));
            black_box(
                write_csr(
                    &mut crypto,
                    &mut signer,
                    black_box(&store_public),
                    &subject,
                    &mut out,
                )
                .unwrap(),
            );
        },
        || {
            let _: p256::ecdsa::Signature = raw_key.sign_prehash(black_box(&digest)).unwrap();
        },
    );

    let mut g = c.benchmark_group("csr_create");
    g.bench_function("iot-identity write_csr (P256SigningKey)", |b| {
        b.iter(|| {
            write_csr(
                &mut crypto,
                &mut key,
                black_box(&public),
                black_box(&subject),
                &mut out,
            )
            .unwrap()
        })
    });
    g.bench_function("iot-identity write_csr (SoftwareKeyStore)", |b| {
        b.iter(|| {
            write_csr(
                &mut crypto,
                &mut StoreSigner::new(&mut store, KeySlot(0)),
                black_box(&store_public),
                black_box(&subject),
                &mut out,
            )
            .unwrap()
        })
    });
    g.bench_function("p256 sign_prehash (floor)", |b| {
        b.iter(|| -> p256::ecdsa::Signature { raw_key.sign_prehash(black_box(&digest)).unwrap() })
    });
    g.finish();
}

/// What a raw verifier needs for one certificate: the issuer's SEC1 key, the TBS and its digest,
/// the signature.
struct RawCert {
    issuer_sec1: [u8; 65],
    tbs: Vec<u8>,
    digest: [u8; 32],
    signature: p256::ecdsa::Signature,
}

fn chain_validate(c: &mut Criterion) {
    let mut crypto = RustCrypto::<()>::default();
    let anchor = TrustAnchor::from_certificate(ROOT).unwrap();
    let chain = [LEAF, INTER];
    let options = ValidationOptions::at(NOW);

    // Both sides must accept the chain before they are timed.
    let ok = validate_chain(&mut crypto, &chain, &anchor, &options).unwrap();
    assert_eq!(ok.len, 2);
    let root = Certificate::decode(ROOT).unwrap();
    let inter = Certificate::decode(INTER).unwrap();
    let leaf = Certificate::decode(LEAF).unwrap();
    let raw: Vec<RawCert> = [(&leaf, &inter.public_key), (&inter, &root.public_key)]
        .into_iter()
        .map(|(cert, issuer)| RawCert {
            issuer_sec1: *issuer.as_sec1(),
            tbs: cert.tbs_raw.to_vec(),
            digest: crypto.sha256(cert.tbs_raw),
            signature: p256::ecdsa::Signature::from_slice(&cert.signature).unwrap(),
        })
        .collect();
    let keys: Vec<p256::ecdsa::VerifyingKey> = raw
        .iter()
        .map(|r| p256::ecdsa::VerifyingKey::from_sec1_bytes(&r.issuer_sec1).unwrap())
        .collect();
    for (r, k) in raw.iter().zip(&keys) {
        k.verify_prehash(&r.digest, &r.signature).unwrap();
    }

    let floor = || {
        for (r, k) in raw.iter().zip(&keys) {
            k.verify_prehash(black_box(&r.digest), &r.signature)
                .unwrap();
        }
    };
    let hash_decode_verify = || {
        for r in &raw {
            let k = p256::ecdsa::VerifyingKey::from_sec1_bytes(black_box(&r.issuer_sec1)).unwrap();
            let digest = RustCrypto::<()>::default().sha256(black_box(&r.tbs));
            k.verify_prehash(&digest, &r.signature).unwrap();
        }
    };
    let mut validate = || {
        black_box(validate_chain(&mut crypto, black_box(&chain), &anchor, &options).unwrap());
    };
    interleaved_ratio(
        "chain_validate: validate_chain / p256 verify_prehash x2",
        &mut validate,
        floor,
    );
    interleaved_ratio(
        "chain_validate: validate_chain / sha256 + sec1 decode + verify_prehash x2",
        &mut validate,
        hash_decode_verify,
    );

    let mut g = c.benchmark_group("chain_validate");
    g.bench_function("iot-identity validate_chain (leaf+inter)", |b| {
        b.iter(&mut validate)
    });
    g.bench_function("p256 verify_prehash x2 (floor)", |b| b.iter(floor));
    g.bench_function("sha256 + sec1 decode + verify_prehash x2", |b| {
        b.iter(hash_decode_verify)
    });
    g.finish();
}

criterion_group!(benches, csr_create, chain_validate);
criterion_main!(benches);
