//! ES384 (P-384) and ES512 (P-521) tokens: signed here, verified through the key store under the
//! Constrained Device Standard Profile (which asks receivers to accept both), refused with the
//! wrong key, a tampered signature or another algorithm's key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Rules, Verifier};
use iot_attest::{Claims, DebugStatus, Error, Nonce, Profile, TokenBuilder, cdsp};
use iot_core::cose::{Algorithm, CoseSign1};
use iot_core::crypto::{P256SigningKey, P384SigningKey, P521SigningKey, RustCrypto, Signer};

const NONCE: [u8; 16] = [0x3c; 16];

fn claims() -> Claims<'static> {
    Claims {
        profile: Some(Profile::Uri(cdsp::PROFILE)),
        nonce: Some(Nonce::One(&NONCE)),
        swname: Some("sensor-fw"),
        dbgstat: Some(DebugStatus::DisabledPermanently),
        ..Claims::default()
    }
}

fn sign(key: &mut impl Signer, alg: Algorithm, kid: &[u8]) -> Vec<u8> {
    let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
    let n = TokenBuilder::new()
        .kid(kid)
        .sign(
            &mut RustCrypto::<()>::default(),
            key,
            alg,
            &claims(),
            &mut scratch,
            &mut out,
        )
        .unwrap();
    out[..n].to_vec()
}

fn store() -> MemoryKeyStore {
    let mut s = MemoryKeyStore::new();
    let p384 = P384SigningKey::from_bytes(&[0x38; 48]).unwrap();
    let p521 = P521SigningKey::from_bytes(&[0x01; 66]).unwrap();
    for (kid, key) in [
        ("p384", KeyMaterial::P384(p384.verifying_key())),
        ("p521", KeyMaterial::P521(p521.verifying_key())),
    ] {
        s.insert(KeyEntry {
            name: kid.into(),
            kid: Some(kid.as_bytes().to_vec()),
            ueid: None,
            key,
        })
        .unwrap();
    }
    s
}

#[test]
fn es384_and_es512_tokens_verify_under_the_constrained_device_profile() {
    let store = store();
    let mut c = RustCrypto::<()>::default();
    let mut p384 = P384SigningKey::from_bytes(&[0x38; 48]).unwrap();
    let mut p521 = P521SigningKey::from_bytes(&[0x01; 66]).unwrap();
    for (token, alg, sig_len) in [
        (
            sign(&mut p384, Algorithm::Es384, b"p384"),
            Algorithm::Es384,
            96,
        ),
        (
            sign(&mut p521, Algorithm::Es512, b"p521"),
            Algorithm::Es512,
            132,
        ),
    ] {
        let m = CoseSign1::decode(&token[2..]).unwrap();
        assert_eq!((m.alg().unwrap(), m.signature.len()), (alg, sig_len));
        let ok = Verifier::new(&store)
            .verify(&mut c, &token, Some(&NONCE))
            .unwrap();
        assert_eq!(ok.rules, Rules::Cdsp);
        assert_eq!(ok.claims.swname, Some("sensor-fw"));
        // Deterministic (RFC 6979): the same claims give the same token.
        let again = match alg {
            Algorithm::Es384 => sign(&mut p384, alg, b"p384"),
            _ => sign(&mut p521, alg, b"p521"),
        };
        assert_eq!(again, token);
        // A flipped signature bit.
        let mut bad = token.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            Verifier::new(&store)
                .verify(&mut c, &bad, Some(&NONCE))
                .unwrap_err(),
            Error::Core(iot_core::Error::BadSignature)
        );
    }
}

#[test]
fn a_key_verifies_only_its_own_algorithm() {
    let store = store();
    let mut c = RustCrypto::<()>::default();
    // An ES384 token that names the P-521 key, an ES512 one that names the P-384 key.
    let mut p384 = P384SigningKey::from_bytes(&[0x38; 48]).unwrap();
    let mut p521 = P521SigningKey::from_bytes(&[0x01; 66]).unwrap();
    for token in [
        sign(&mut p384, Algorithm::Es384, b"p521"),
        sign(&mut p521, Algorithm::Es512, b"p384"),
    ] {
        assert_eq!(
            Verifier::new(&store)
                .verify(&mut c, &token, Some(&NONCE))
                .unwrap_err(),
            Error::Core(iot_core::Error::AlgorithmMismatch)
        );
    }
    // An ES256 token under the P-384 key's kid.
    let mut p256 = P256SigningKey::from_bytes(&[0x25; 32]).unwrap();
    let token = sign(&mut p256, Algorithm::Es256, b"p384");
    assert_eq!(
        Verifier::new(&store)
            .verify(&mut c, &token, Some(&NONCE))
            .unwrap_err(),
        Error::Core(iot_core::Error::AlgorithmMismatch)
    );
    // A P-384 key cannot sign ES512 (nor ES256), a P-256 key cannot sign ES384.
    let refused = |key: &mut dyn Signer, alg: Algorithm| {
        let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
        TokenBuilder::new()
            .sign(
                &mut RustCrypto::<()>::default(),
                &mut &mut *key,
                alg,
                &claims(),
                &mut scratch,
                &mut out,
            )
            .unwrap_err()
    };
    let mismatch = Error::Core(iot_core::Error::AlgorithmMismatch);
    assert_eq!(refused(&mut p384, Algorithm::Es512), mismatch);
    assert_eq!(refused(&mut p384, Algorithm::Es256), mismatch);
    assert_eq!(refused(&mut p256, Algorithm::Es384), mismatch);
    assert_eq!(refused(&mut p521, Algorithm::Esp256), mismatch);
}
