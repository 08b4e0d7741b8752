//! OSCORE request verification (RFC 8613 section 8.2) by the server of Appendix C.1.2: feed
//! arbitrary bytes to `unprotect_request`, once with the real AEAD (the C.4 request verifies)
//! and once with an AEAD that accepts an all-zero tag (so inputs reach the plaintext checks).
//!
//! Checks: a rejected request leaves the replay window exactly as it was (section 7.4: the window
//! is updated only after verification); an accepted one was fresh, is then marked as seen, is a
//! valid CoAP request without an OSCORE option, and is refused as a replay when it comes again,
//! without changing the window.
#![no_main]

use iot_core::crypto::{Aead, RustCrypto, RustCryptoAeadKey};
use iot_fuzz::oscore::{self, NullAead};
use iot_oscore::coap::{Message, OptionNumber};
use iot_oscore::{Error, ReplayWindow, SecurityContext};
use libfuzzer_sys::fuzz_target;

/// A window that has seen 25 and 40 already: 20 (the C.4 request) is still fresh, below 9 is too old.
fn window() -> ReplayWindow {
    let mut w = ReplayWindow::new();
    w.accept(40);
    w.accept(25);
    w
}

fn check(
    ctx: &mut SecurityContext,
    crypto: &mut impl Aead<AeadKey = RustCryptoAeadKey>,
    data: &[u8],
) {
    let before = *ctx.replay_window();
    let mut input = data.to_vec();
    let mut out = vec![0u8; data.len()];
    let (len, request) = match ctx.unprotect_request(crypto, &mut input, &mut out) {
        Ok(r) => r,
        Err(_) => {
            assert_eq!(
                *ctx.replay_window(),
                before,
                "a rejected request changed the replay window"
            );
            return;
        }
    };
    let seq = request.partial_iv().sequence_number();
    assert_eq!(
        before.check(seq),
        Ok(()),
        "accepted a sequence number the window had refused"
    );
    assert_eq!(
        ctx.replay_window().check(seq),
        Err(Error::Replay),
        "accepted but not recorded"
    );
    assert_eq!(request.kid(), oscore::CLIENT_ID);
    assert!(!request.nonce_used());
    let msg = Message::decode(&out[..len]).expect("a verified request is a CoAP message");
    assert!(
        msg.code().is_request(),
        "verified request with code {}",
        msg.code()
    );
    assert!(msg.options().all(|o| o.number != OptionNumber::OSCORE));

    let after = *ctx.replay_window();
    let mut again = data.to_vec();
    assert_eq!(
        ctx.unprotect_request(crypto, &mut again, &mut out)
            .map(|_| ()),
        Err(Error::Replay),
        "a replayed request was not refused"
    );
    assert_eq!(
        *ctx.replay_window(),
        after,
        "a replay changed the replay window"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut ctx = oscore::server();
    ctx.set_replay_window(window());
    check(&mut ctx, &mut RustCrypto::<()>::default(), data);

    ctx.set_replay_window(window());
    check(&mut ctx, &mut NullAead, data);
});
