//! Detached EAT bundles (RFC 9711 section 5, tag 602): decode arbitrary bytes as a bundle; where
//! that succeeds, every part is found again by its name, and the digest check against the main
//! token's claims (decoded unverified: this target fuzzes decoding, not signatures) never panics.
#![no_main]

use iot_attest::Token;
use iot_attest::bundle::Bundle;
use iot_core::crypto::RustCrypto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::decode(data) else {
        return;
    };
    for (name, part) in bundle.parts() {
        assert_eq!(
            bundle.part(name).map(|p| p.digested()),
            Some(part.digested()),
            "a decoded part is found by its name"
        );
    }
    let Ok(token) = Token::decode(bundle.main) else {
        return;
    };
    let Ok(claims) = token.claims_unverified() else {
        return;
    };
    let mut crypto = RustCrypto::<()>::default();
    let _ = bundle.verify_digests(&mut crypto, &claims);
});
