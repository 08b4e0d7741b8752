//! Firmware encryption against pycose (tests/python/peer.py), both ways: pycose opens the
//! SUIT_Encryption_Info and payload that the builder makes (`builder::encrypt`), and the device's
//! decryptor (`encryption::decrypt_in_place`) opens what pycose makes, for A128KW and for ECDH-ES +
//! A128KW, with A128GCM content (pycose has no A128CTR; the draft's A128CTR examples are
//! reproduced in tests/encryption.rs). A flipped ciphertext bit is refused on either side.
//! Needs `IOT_PYTHON` (a Python with pycose: `.ci/python-attest.sh`); skipped with a printed
//! reason otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_test_vectors::peer::PythonScript;
use iot_update_manifest::builder::encrypt::{Encryption, KeyDistribution, encrypt};
use iot_update_manifest::encryption::{Kek, decrypt_in_place};
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
