//! COSE_Mac0 (RFC 9052 section 6.2): decode arbitrary bytes; where that succeeds, verify with a
//! fixed HMAC key, and check that the streamed MAC_structure agrees with MACing it written out whole.
#![no_main]

use iot_core::cbor::SliceWriter;
use iot_core::cose::{Algorithm, CoseMac0, SymmetricKey};
use iot_core::crypto::{HmacSha256, RustCrypto, ct_eq};
use iot_fuzz::{BUF, DETACHED, HMAC_KEY};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = CoseMac0::decode(data) else {
        return;
    };
    let mut crypto = RustCrypto::<()>::default();
    let key = SymmetricKey::new(&HMAC_KEY);
    let _ = msg.headers.kid();
    let streamed = match msg.payload {
        Some(_) => msg.verify(&mut crypto, &key, b""),
        None => msg.verify_detached(&mut crypto, &key, DETACHED, b""),
    };
    let mut buf = vec![0u8; BUF];
    let mut w = SliceWriter::new(&mut buf);
    if msg.write_to_be_maced(Some(DETACHED), b"", &mut w).is_err() {
        return;
    }
    let mut state = crypto.hmac_start(&HMAC_KEY).unwrap();
    crypto.hmac_update(&mut state, w.written());
    let tag = crypto.hmac_finish(state);
    let whole = msg.alg() == Ok(Algorithm::Hmac256) && ct_eq(&tag, msg.tag);
    assert_eq!(
        streamed.is_ok(),
        whole,
        "streamed and whole MAC_structure disagree"
    );
});
