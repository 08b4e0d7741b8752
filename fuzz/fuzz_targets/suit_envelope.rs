//! SUIT_Envelope decoding (draft-ietf-suit-manifest "Envelope"): decode arbitrary bytes; where
//! that succeeds, authenticate with trust anchors that cost no curve arithmetic (a signature
//! "verifier" that accepts any well-formed COSE_Sign1 and checks only that it was given a 64-byte
//! signature, plus the fixed HMAC key of the manifest target) so that the digest check and the
//! manifest decoder run for every envelope, and walk what an authenticated manifest offers.
#![no_main]

use iot_core::cose::SymmetricKey;
use iot_core::crypto::RustCrypto;
use iot_fuzz::AcceptAll;
use iot_fuzz::suit::{SUIT_MAC_KEY, walk};
use iot_update_manifest::{Envelope, Error, TrustAnchors};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(env) = Envelope::decode(data) else {
        return;
    };
    let _ = (env.is_tagged(), env.digest(), env.delegation());
    // `suit-delegation` decoded on its own; `authenticate` verifies it (feature `delegation`).
    if let Ok(Some(d)) = env.delegation_chains() {
        assert!(d.chains().count() > 0);
    }
    let blocks = env.authentication_blocks();
    let mut crypto = RustCrypto::<()>::default();
    let mut verifiers = [AcceptAll];
    let keys = [SymmetricKey::new(&SUIT_MAC_KEY)];
    let mut anchors = TrustAnchors::new(&mut verifiers, &keys);
    match env.authenticate(&mut crypto, &mut anchors) {
        Ok(m) => {
            assert!(m.authenticated_by() < blocks);
            assert_eq!(m.digest(), env.digest());
            walk(&m);
        }
        Err(Error::NoAuthenticationBlock) => assert_eq!(blocks, 0),
        Err(_) => {}
    }
});
