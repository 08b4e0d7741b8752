//! P-256 keys in PEM (iot-identity `key_pem`, the reader of the registrar's CA key and
//! iot-tool's key files): decode arbitrary text; a key that decodes must write back as PEM and
//! read again as the same key.
#![no_main]

use iot_identity::key_pem::{self, PemKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    match key_pem::decode(text) {
        Ok(PemKey::Private(key, _)) => {
            let pem = key_pem::private_pkcs8(&key).expect("a decoded key encodes");
            match key_pem::decode(&pem) {
                Ok(PemKey::Private(again, _)) => assert_eq!(
                    again.verifying_key().to_sec1_uncompressed(),
                    key.verifying_key().to_sec1_uncompressed(),
                    "the same key read back"
                ),
                other => panic!("our PKCS#8 did not read back: {other:?}"),
            }
        }
        Ok(PemKey::Public(key)) => {
            let pem = key_pem::public_spki(&key).expect("a decoded key encodes");
            match key_pem::decode(&pem) {
                Ok(PemKey::Public(again)) => {
                    assert_eq!(
                        again.to_sec1_uncompressed(),
                        key.to_sec1_uncompressed(),
                        "the same key read back"
                    )
                }
                other => panic!("our SPKI did not read back: {other:?}"),
            }
        }
        Err(_) => {}
    }
});
