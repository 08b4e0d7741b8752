//! COSE_Key (RFC 9052 section 7): decode arbitrary bytes; where that succeeds, build the backend
//! keys from it, and check that encoding the key and decoding it again gives the same key.
#![no_main]

use iot_core::cose::CoseKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = CoseKey::decode(data) else {
        return;
    };
    let _ = (key.kid(), key.alg(), key.symmetric());
    let _ = key.verifying_key();
    let _ = key.signing_key();
    let mut buf = vec![0u8; 2 * data.len() + 64];
    let n = key.encode_to(&mut buf).expect("a decoded key encodes");
    let again = CoseKey::decode(&buf[..n]).expect("an encoded key decodes");
    assert_eq!(key, again, "COSE_Key encode/decode round trip");
});
