//! OSCORE response verification (RFC 8613 section 8.4) by the client of Appendix C.1.1, bound to
//! the C.4 request (Partial IV 0x14) and to the same request registering an observation: feed
//! arbitrary bytes to `unprotect_response` with the real AEAD (the C.7 and C.8 responses verify)
//! and with an AEAD that accepts an all-zero tag (so inputs reach the plaintext checks).
//!
//! Checks: a verified response is a valid CoAP response (or an Empty message passed through
//! unchanged) without an OSCORE option, and it carries an Observe option only in a response to a
//! registration (section 8.4.2). Such a response may lack its own Partial IV: the first one may be
//! protected with the request's nonce, as aiocoap sends it; `Observation` takes that once.
#![no_main]

use iot_core::crypto::{Aead, RustCrypto, RustCryptoAeadKey};
use iot_fuzz::oscore::{self, NullAead};
use iot_oscore::coap::{Message, OptionNumber};
use iot_oscore::{SecurityContext, SentRequest};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// The client context (Sender Sequence Number 21 afterwards) and the two requests it sent.
static CLIENT: LazyLock<(SecurityContext, SentRequest, SentRequest)> = LazyLock::new(|| {
    let send = |original: &[u8]| {
        let mut ctx = oscore::client();
        ctx.set_sender_sequence_number(oscore::REQUEST_SEQ).unwrap();
        let msg = Message::decode(original).unwrap();
        let mut out = [0u8; 128];
        let (_, sent) = ctx
            .protect_request(&mut RustCrypto::<()>::default(), &msg, &mut out)
            .unwrap();
        (ctx, sent)
    };
    let (ctx, plain) = send(oscore::REQUEST);
    let (_, registration) = send(oscore::REGISTRATION);
    assert!(registration.is_observe_registration() && !plain.is_observe_registration());
    (ctx, plain, registration)
});

fn check(
    ctx: &SecurityContext,
    crypto: &mut impl Aead<AeadKey = RustCryptoAeadKey>,
    sent: &SentRequest,
    data: &[u8],
) {
    let mut input = data.to_vec();
    let mut out = vec![0u8; data.len()];
    let Ok(r) = ctx.unprotect_response(crypto, sent, &mut input, &mut out) else {
        return;
    };
    let msg = Message::decode(&out[..r.len]).expect("a verified response is a CoAP message");
    if msg.code().is_empty() {
        assert_eq!(
            msg.as_bytes(),
            data,
            "an Empty message passes through unchanged"
        );
        assert_eq!(r.partial_iv, None);
        return;
    }
    assert!(
        msg.code().is_response(),
        "verified response with code {}",
        msg.code()
    );
    assert!(msg.options().all(|o| o.number != OptionNumber::OSCORE));
    if msg.option(OptionNumber::OBSERVE).is_some() {
        assert!(
            sent.is_observe_registration(),
            "Observe in a response to a plain request"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let (ctx, plain, registration) = &*CLIENT;
    for sent in [plain, registration] {
        check(ctx, &mut RustCrypto::<()>::default(), sent, data);
        check(ctx, &mut NullAead, sent, data);
    }
});
