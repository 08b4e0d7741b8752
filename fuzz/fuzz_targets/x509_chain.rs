//! X.509 chains (RFC 5280 section 6): the input as a leaf under the fixed intermediate and root
//! of iot-identity/tests/data, as an intermediate above that leaf, and as the trust anchor itself.
#![no_main]

use iot_core::crypto::RustCrypto;
use iot_fuzz::identity::{INTER, LEAF, MemoVerify, NOW, ROOT};
use iot_identity::x509::{Certificate, TrustAnchor, ValidationOptions, validate_chain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut crypto = MemoVerify(RustCrypto::<()>::default());
    let options = ValidationOptions::at(NOW);
    let root = TrustAnchor::from_certificate(ROOT).expect("the test root decodes");
    if let Ok(cert) = Certificate::decode(data) {
        let _ = (cert.common_name(), cert.subject_serial_number());
        let _ = cert.check_validity(NOW);
    }
    // As the leaf, and as the intermediate.
    if let Ok(v) = validate_chain(&mut crypto, &[data, INTER], &root, &options) {
        assert_eq!(v.len, 2);
    }
    let _ = validate_chain(&mut crypto, &[LEAF, data], &root, &options);
    // As the anchor: only the real root, or the intermediate pinned itself (the chain then ends
    // with the anchor's own certificate), or a certificate with one of their names and keys.
    if let Ok(anchor) = TrustAnchor::from_certificate(data) {
        if validate_chain(&mut crypto, &[LEAF, INTER], &anchor, &options).is_ok() {
            let inter =
                TrustAnchor::from_certificate(INTER).expect("the test intermediate decodes");
            let pinned = |a: &TrustAnchor<'_>| {
                (a.subject_raw, a.public_key) == (anchor.subject_raw, anchor.public_key)
            };
            assert!(pinned(&root) || pinned(&inter), "foreign anchor validated");
        }
    }
});
