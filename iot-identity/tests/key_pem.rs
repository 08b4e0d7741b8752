//! iot-identity's PEM key reader and writer (`key_pem`) against keys OpenSSL 3 wrote
//! (`openssl ecparam -name prime256v1 -genkey`, then `openssl pkcs8 -topk8 -nocrypt` and
//! `openssl pkey -pubout`), transcribed: one key in every form.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use iot_core::crypto::P256SigningKey;
use iot_identity::key_pem::{self, KeyPemError, PemKey, PrivateKeyForm};

/// SEC1 (RFC 5915) with the "EC PARAMETERS" block OpenSSL writes before it.
const SEC1: &str = "\
-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIMCLx+XXGTOT8FeX35/FKnBzfbyKom8npRbXjxGH/4NsoAoGCCqGSM49
AwEHoUQDQgAE2YqNTcjy/teHNupr2hHOrltIEIrx7NGwhh4WsCUTCkfAFCWVKsZZ
CcGNjY7mXLgtjIlkdnGfB5NhvCNIhMXo/A==
-----END EC PRIVATE KEY-----
";
/// The same key as PKCS#8 (RFC 5958).
const PKCS8: &str = "\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwIvH5dcZM5PwV5ff
n8UqcHN9vIqibyelFtePEYf/g2yhRANCAATZio1NyPL+14c26mvaEc6uW0gQivHs
0bCGHhawJRMKR8AUJZUqxlkJwY2NjuZcuC2MiWR2cZ8Hk2G8I0iExej8
-----END PRIVATE KEY-----
";
/// Its public key as SubjectPublicKeyInfo.
const SPKI: &str = "\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2YqNTcjy/teHNupr2hHOrltIEIrx
7NGwhh4WsCUTCkfAFCWVKsZZCcGNjY7mXLgtjIlkdnGfB5NhvCNIhMXo/A==
-----END PUBLIC KEY-----
";
/// The scalar and the public point, as `openssl pkey -text` prints them.
const D: &str = "c08bc7e5d7193393f05797df9fc52a70737dbc8aa26f27a516d78f1187ff836c";
const Q: &str = "04d98a8d4dc8f2fed78736ea6bda11ceae5b48108af1ecd1b0861e16b025130a47c01425952ac65909c18d8d8ee65cb82d8c896476719f079361bc234884c5e8fc";

fn private(text: &str) -> (P256SigningKey, PrivateKeyForm) {
    match key_pem::decode(text).unwrap() {
        PemKey::Private(k, form) => (k, form),
        PemKey::Public(_) => panic!("a public key from a private key's PEM"),
    }
}

#[test]
fn every_form_of_openssls_key_reads_as_that_key() {
    for (text, form) in [
        (SEC1, PrivateKeyForm::Sec1),
        (PKCS8, PrivateKeyForm::Pkcs8),
        // libcsuit's trust anchor: a PKCS#8 body labelled "EC PRIVATE KEY".
        (
            &PKCS8.replace("PRIVATE KEY", "EC PRIVATE KEY"),
            PrivateKeyForm::Pkcs8LabelledEc,
        ),
    ] {
        let (key, got) = private(text);
        assert_eq!(got, form);
        assert_eq!(hex::encode(*key.to_bytes()), D);
        assert_eq!(hex::encode(key.verifying_key().to_sec1_uncompressed()), Q);
    }
    let PemKey::Public(public) = key_pem::decode(SPKI).unwrap() else {
        panic!("SPKI read as a private key");
    };
    assert_eq!(hex::encode(public.to_sec1_uncompressed()), Q);
    // A private key wins over a public key in the same text.
    let both = format!("{SPKI}{PKCS8}");
    assert_eq!(private(&both).1, PrivateKeyForm::Pkcs8);
}

#[test]
fn written_pem_reads_back_and_is_what_openssl_wrote() {
    let (key, _) = private(SEC1);
    let pkcs8 = key_pem::private_pkcs8(&key).unwrap();
    assert_eq!(hex::encode(*private(&pkcs8).0.to_bytes()), D);
    // OpenSSL's PKCS#8 and SPKI are DER of the same structures: the same text.
    assert_eq!(pkcs8.as_str(), PKCS8);
    assert_eq!(key_pem::public_spki(&key.verifying_key()).unwrap(), SPKI);
}

#[test]
fn what_is_not_a_p256_key_is_refused_with_the_reason() {
    for (label, reason) in [
        ("PRIVATE KEY", KeyPemError::Pkcs8),
        ("EC PRIVATE KEY", KeyPemError::EcPrivateKey),
        ("PUBLIC KEY", KeyPemError::Spki),
        ("CERTIFICATE", KeyPemError::NoKeyBlock),
    ] {
        let garbage = format!("-----BEGIN {label}-----\nAAECAw==\n-----END {label}-----\n");
        assert_eq!(key_pem::decode(&garbage).unwrap_err(), reason, "{label}");
    }
    // A truncated block (no END line) is no block.
    let truncated = &PKCS8[..PKCS8.len() - 30];
    assert_eq!(
        key_pem::decode(truncated).unwrap_err(),
        KeyPemError::NoKeyBlock
    );
}
