//! COSE beside its peers, in one run (issue 2):
//! - `sign1_verify`: iot-core decode + verify; coset decode + p256 verify of the Sig_structure coset
//!   builds; raw p256 `verify_prehash` of the precomputed digest (the floor).
//! - `encrypt0_decrypt`: iot-core decode + decrypt; the raw AEAD crate on the same key, nonce,
//!   Enc_structure and ciphertext (key setup included on both sides), for AES-CCM-16-64-128 and
//!   ChaCha20/Poly1305 at 64 B and 1 KiB.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use aead::{AeadInOut, KeyInit};
use core::hint::black_box;
use coset::TaggedCborSerializable;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use iot_benches::{EXTERNAL_AAD, Encrypt0Fixture, Sign1Fixture};
use iot_core::cose::{Algorithm, CoseEncrypt0, CoseSign1, SymmetricKey};
use iot_core::crypto::{P256VerifyingKey, RustCrypto};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;

type AesCcm16_64_128 = ccm::Ccm<aes::Aes128, ccm::consts::U8, ccm::consts::U13>;

fn sign1_verify(c: &mut Criterion) {
    let fx = Sign1Fixture::new(64).unwrap();
    let mut crypto = RustCrypto::<()>::default();
    let mut ours_key = P256VerifyingKey::from_sec1(&fx.public_sec1).unwrap();
    let raw_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&fx.public_sec1).unwrap();

    // Every contestant must accept the fixture before it is timed.
    CoseSign1::decode(&fx.message)
        .unwrap()
        .verify(&mut crypto, &mut ours_key, EXTERNAL_AAD)
        .unwrap();
    coset_verify(&fx.message, &raw_key).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&fx.signature).unwrap();
    raw_key.verify_prehash(&fx.digest, &sig).unwrap();

    let mut g = c.benchmark_group("sign1_verify");
    g.bench_function("iot-core decode+verify", |b| {
        b.iter(|| {
            CoseSign1::decode(black_box(&fx.message))
                .and_then(|m| m.verify(&mut crypto, &mut ours_key, EXTERNAL_AAD))
                .unwrap()
        })
    });
    g.bench_function("coset decode + p256 verify", |b| {
        b.iter(|| coset_verify(black_box(&fx.message), &raw_key).unwrap())
    });
    g.bench_function("p256 verify_prehash (floor)", |b| {
        b.iter(|| {
            let sig = p256::ecdsa::Signature::from_slice(black_box(&fx.signature)).unwrap();
            raw_key.verify_prehash(black_box(&fx.digest), &sig).unwrap()
        })
    });
    g.finish();
}

/// coset decodes (with allocation), builds the Sig_structure, and p256 hashes and verifies it.
fn coset_verify(msg: &[u8], key: &p256::ecdsa::VerifyingKey) -> Result<(), p256::ecdsa::Error> {
    let sign1 = coset::CoseSign1::from_tagged_slice(msg).map_err(|_| p256::ecdsa::Error::new())?;
    sign1.verify_signature(EXTERNAL_AAD, |sig, tbs| {
        key.verify(tbs, &p256::ecdsa::Signature::from_slice(sig)?)
    })
}

fn raw_decrypt<A: AeadInOut + KeyInit>(fx: &Encrypt0Fixture, buf: &mut [u8]) -> usize {
    let cipher = A::new_from_slice(&fx.key).unwrap();
    let nonce = aead::Nonce::<A>::try_from(fx.nonce.as_slice()).unwrap();
    let tag = aead::Tag::<A>::try_from(fx.tag.as_slice()).unwrap();
    let out = &mut buf[..fx.ciphertext.len()];
    out.copy_from_slice(&fx.ciphertext);
    cipher
        .decrypt_inout_detached(&nonce, &fx.aad, out.into(), &tag)
        .unwrap();
    out.len()
}

fn encrypt0_decrypt(c: &mut Criterion) {
    let mut g = c.benchmark_group("encrypt0_decrypt");
    let mut crypto = RustCrypto::<()>::default();
    let mut buf = vec![0u8; 2048];
    for alg in [Algorithm::AesCcm16_64_128, Algorithm::ChaCha20Poly1305] {
        for len in [64, 1024] {
            let fx = Encrypt0Fixture::new(alg, len).unwrap();
            let key = SymmetricKey::new(&fx.key);
            let raw: fn(&Encrypt0Fixture, &mut [u8]) -> usize = match alg {
                Algorithm::AesCcm16_64_128 => raw_decrypt::<AesCcm16_64_128>,
                _ => raw_decrypt::<chacha20poly1305::ChaCha20Poly1305>,
            };
            let ours = |crypto: &mut RustCrypto<()>, buf: &mut [u8]| {
                CoseEncrypt0::decode(black_box(&fx.message))
                    .and_then(|m| m.decrypt(crypto, &key, EXTERNAL_AAD, buf))
                    .unwrap()
            };
            // Both must give the plaintext back before they are timed.
            let n = ours(&mut crypto, &mut buf);
            assert_eq!(buf[..n], fx.plaintext);
            let n = raw(&fx, &mut buf);
            assert_eq!(buf[..n], fx.plaintext);

            g.throughput(Throughput::Bytes(len as u64));
            g.bench_function(
                BenchmarkId::new(format!("iot-core/{}", alg.name()), len),
                |b| b.iter(|| ours(&mut crypto, &mut buf)),
            );
            g.bench_function(BenchmarkId::new(format!("raw/{}", alg.name()), len), |b| {
                b.iter(|| raw(black_box(&fx), &mut buf))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, sign1_verify, encrypt0_decrypt);
criterion_main!(benches);
