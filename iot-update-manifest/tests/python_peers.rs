//! Delegation chains that python-cwt issues (tests/python/peer.py), with its default time
//! claims, authenticate on a device with a clock and are refused as the claims say otherwise.
//! Firmware encryption against pycose (tests/python/peer.py), both ways: pycose opens the
//! SUIT_Encryption_Info and payload that the builder makes (`builder::encrypt`), and the device's
//! decryptor (`encryption::decrypt_in_place`) opens what pycose makes, for A128KW and for ECDH-ES +
//! A128KW, with A128GCM content (pycose has no A128CTR; the draft's A128CTR examples are
//! reproduced in tests/encryption.rs). A flipped ciphertext bit is refused on either side.
//! Needs `IOT_PYTHON` (a Python with pycose and python-cwt: `.ci/python-attest.sh`); skipped with a printed
//! reason otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Auth, Extra, cbor, envelope, minimal};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_test_vectors::peer::PythonScript;
use iot_update_manifest::builder::encrypt::{Encryption, KeyDistribution, encrypt};
use iot_update_manifest::delegation::{DelegationError, Reason};
use iot_update_manifest::encryption::{Kek, decrypt_in_place};
use iot_update_manifest::{Envelope, Error, TrustAnchors};
use serde_json::{Value, json};

const IMAGE: &[u8] = b"firmware encrypted on one side, opened on the other";
const KEK: [u8; 16] = *b"A128KW key, 16 B";
const DEVICE: [u8; 32] = [0x3c; 32];

fn peer(test: &str) -> Option<PythonScript> {
    PythonScript::from_env(
        test,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/peer.py"),
    )
}

/// The two key distributions: (the device's key for us, the same for pycose).
fn recipients() -> Vec<(&'static str, Kek<'static>, Value)> {
    vec![
        (
            "A128KW",
            Kek::A128Kw(&KEK),
            json!({"kek": hex::encode(KEK)}),
        ),
        (
            "ECDH-ES + A128KW",
            Kek::EcdhEsP256(&DEVICE),
            json!({"d": hex::encode(DEVICE)}),
        ),
    ]
}

/// The device's public key (SEC1, uncompressed).
fn device_public() -> [u8; 65] {
    P256SigningKey::from_bytes(&DEVICE)
        .unwrap()
        .verifying_key()
        .to_sec1_uncompressed()
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn pycose_opens_what_the_builder_encrypts() {
    let Some(py) = peer("pycose_opens_what_the_builder_encrypts") else {
        return;
    };
    let public = device_public();
    for (name, _, key) in recipients() {
        let distribution = match name {
            "A128KW" => KeyDistribution::A128Kw { kek: &KEK },
            _ => KeyDistribution::EcdhEsA128Kw {
                recipient: &public,
                ephemeral: None,
            },
        };
        let how = Encryption {
            content: Algorithm::A128Gcm,
            distribution,
            kid: Some(b"device-3c"),
            cek: None,
            iv: None,
        };
        let e = encrypt(&mut RustCrypto::from_os(), IMAGE, &how).unwrap();
        let args = with(
            key.clone(),
            json!({"info": hex::encode(&e.info), "ciphertext": hex::encode(&e.ciphertext)}),
        );
        let out = py
            .call("decrypt", &args)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(out["plaintext"], hex::encode(IMAGE), "{name}");
        let mut bad = e.ciphertext.clone();
        bad[3] ^= 0x10;
        let args = with(
            key,
            json!({"info": hex::encode(&e.info), "ciphertext": hex::encode(&bad)}),
        );
        let err = py.call("decrypt", &args).unwrap_err();
        assert!(err.contains("InvalidTag"), "{name}: {err}");
    }
}

#[test]
fn the_decryptor_opens_what_pycose_encrypts() {
    let Some(py) = peer("the_decryptor_opens_what_pycose_encrypts") else {
        return;
    };
    let public = device_public();
    for (name, kek, _) in recipients() {
        let args = match name {
            "A128KW" => json!({"kek": hex::encode(KEK)}),
            _ => json!({"x": hex::encode(&public[1..33]), "y": hex::encode(&public[33..])}),
        };
        let args = with(args, json!({"plaintext": hex::encode(IMAGE)}));
        let out = py
            .call("encrypt", &args)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let info = hex::decode(out["info"].as_str().unwrap()).unwrap();
        let ciphertext = hex::decode(out["ciphertext"].as_str().unwrap()).unwrap();
        let mut buf = ciphertext.clone();
        let n = decrypt_in_place(&mut RustCrypto::from_os(), &info, &kek, &mut buf)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(&buf[..n], IMAGE, "{name}");
        let mut bad = ciphertext;
        bad[0] ^= 1;
        assert!(
            decrypt_in_place(&mut RustCrypto::from_os(), &info, &kek, &mut bad).is_err(),
            "{name}"
        );
    }
}

/// The public key of the scalar `d`, as the peer takes it; with `d` when `private`.
fn p256_json(d: [u8; 32], private: bool) -> Value {
    let sec1 = P256SigningKey::from_bytes(&d)
        .unwrap()
        .verifying_key()
        .to_sec1_uncompressed();
    let mut v = json!({"x": hex::encode(&sec1[1..33]), "y": hex::encode(&sec1[33..])});
    if private {
        v["d"] = json!(hex::encode(d));
    }
    v
}

/// python-cwt issues a two-link chain (trust anchor to an intermediate, intermediate to the
/// envelope's signer) with its default `iat`, `nbf` and `exp`; the envelope authenticates from
/// `nbf` until before `exp` on the device's clock, is refused outside, and without a clock.
#[test]
fn python_cwt_delegation_chains_authenticate() {
    let Some(py) = peer("python_cwt_delegation_chains_authenticate") else {
        return;
    };
    let (anchor, intermediate, signer) = ([0x21; 32], [0x31; 32], [0x11; 32]);
    assert_eq!(
        P256SigningKey::from_bytes(&signer).unwrap().verifying_key(),
        common::signing_key().verifying_key(),
        "the envelopes' signer"
    );
    let link = |issuer: [u8; 32], subject: [u8; 32], extra: Value| {
        let args = json!({"issuer": p256_json(issuer, true), "subject": p256_json(subject, false)});
        let out = py
            .call("cwt", &with(args, extra))
            .unwrap_or_else(|e| panic!("{e}"));
        let cwt = hex::decode(out["cwt"].as_str().unwrap()).unwrap();
        (
            cwt,
            out["nbf"].as_u64().unwrap(),
            out["exp"].as_u64().unwrap(),
        )
    };
    let auth_at = |chain: &[Vec<u8>], now: Option<u64>| {
        let member = cbor(|e| {
            e.array(1).unwrap().array(chain.len() as u64).unwrap();
            for cwt in chain {
                e.bytes(cwt).unwrap();
            }
        });
        let bytes = envelope(&minimal(1), Auth::Sign1, &[Extra::Int(1, &member)]);
        let mut keys = [P256SigningKey::from_bytes(&anchor).unwrap().verifying_key()];
        let mut anchors = TrustAnchors::signers(&mut keys).at_time(now);
        Envelope::decode(&bytes)
            .unwrap()
            .authenticate(&mut RustCrypto::from_os(), &mut anchors)
            .map(|_| ())
    };
    let refused = |link: u8, reason: Reason| {
        Err(Error::Delegation(DelegationError {
            chain: 0,
            link,
            reason,
        }))
    };

    let (first, nbf, exp) = link(anchor, intermediate, json!({}));
    let (second, nbf2, exp2) = link(intermediate, signer, json!({}));
    assert!(nbf < exp && nbf2 < exp2, "python-cwt's defaults");
    let chain = [first, second];
    let (from, until) = (nbf.max(nbf2), exp.min(exp2));
    assert_eq!(auth_at(&chain, Some(from)), Ok(()));
    assert_eq!(auth_at(&chain, Some(until - 1)), Ok(()));
    assert_eq!(
        auth_at(&chain, Some(until)),
        refused(u8::from(exp2 < exp), Reason::Expired)
    );
    assert_eq!(
        auth_at(&chain, Some(nbf.min(nbf2) - 1)),
        refused(0, Reason::NotYetValid)
    );
    // Without a clock the time claims cannot be honoured.
    assert!(matches!(
        auth_at(&chain, None),
        Err(Error::Delegation(DelegationError {
            link: 0,
            reason: Reason::UnsupportedClaim(4 | 5),
            ..
        }))
    ));
    // A chain python-cwt issued with an `exp` already past.
    let (late, _, _) = link(
        anchor,
        signer,
        json!({"nbf": nbf - 7200, "exp": nbf - 3600}),
    );
    assert_eq!(auth_at(&[late], Some(nbf)), refused(0, Reason::Expired));
}
