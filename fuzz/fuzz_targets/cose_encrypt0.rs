//! COSE_Encrypt0 (RFC 9052 section 5.2): decode arbitrary bytes; where that succeeds, decrypt with
//! a fixed key of the message's AEAD (and a base IV for Partial IV messages), and check that a
//! failed decryption leaves no plaintext behind.
#![no_main]

use iot_core::cose::{CoseEncrypt0, SymmetricKey};
use iot_core::crypto::RustCrypto;
use iot_fuzz::{BASE_IV, DETACHED, KEY_128, KEY_256};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = CoseEncrypt0::decode(data) else {
        return;
    };
    let mut crypto = RustCrypto::<()>::default();
    let _ = msg.headers.kid();
    let _ = msg.headers.partial_iv();
    let aead = msg.alg().ok().and_then(|a| a.aead());
    let k: &[u8] = match aead.map(|a| a.key_len()) {
        Some(32) => &KEY_256,
        _ => &KEY_128,
    };
    let nonce_len = aead.map_or(13, |a| a.nonce_len());
    let key = SymmetricKey {
        base_iv: BASE_IV.get(..nonce_len),
        ..SymmetricKey::new(k)
    };
    let mut out = vec![0u8; data.len().max(64)];
    let result = match msg.ciphertext {
        Some(_) => msg.decrypt(&mut crypto, &key, b"", &mut out),
        None => msg.decrypt_detached(&mut crypto, &key, DETACHED, b"", &mut out),
    };
    match result {
        Ok(n) => assert!(n <= out.len()),
        // The backend wipes the buffer when the tag does not verify.
        Err(iot_core::Error::BadTag) => assert!(out.iter().all(|&b| b == 0)),
        Err(_) => {}
    }
});
