//! OSCORE behaviour beyond the appendix C bytes: errors and their response codes (RFC 8613
//! section 8), the replay window (section 7.4), request-response binding (section 7.1), option
//! classes with Observe, Block, Max-Age and Proxy-Uri (section 4.1), and the OSCORE option (section 6.1).
// Helpers outside #[test] functions may unwrap and panic too: a failing test is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::RustCrypto;
use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber as N};
use iot_oscore::context::MAX_SEQUENCE_NUMBER;
use iot_oscore::nonce::PartialIv;
use iot_oscore::oscore_option::OscoreOption;
use iot_oscore::{ContextParams, DerivedKeys, Error, ReplayWindow, ResponseNonce, SecurityContext};

const SECRET: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const SALT: [u8; 8] = [0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40];

fn crypto() -> RustCrypto<()> {
    RustCrypto::default()
}

fn pair(alg: AeadAlgorithm, id_context: Option<&[u8]>) -> (SecurityContext, SecurityContext) {
    let mut c = crypto();
    let mut cp = ContextParams::new(&SECRET, b"", b"\x01")
        .master_salt(&SALT)
        .alg(alg);
    let mut sp = ContextParams::new(&SECRET, b"\x01", b"")
        .master_salt(&SALT)
        .alg(alg);
    if let Some(ctx) = id_context {
        cp = cp.id_context(ctx);
        sp = sp.id_context(ctx);
    }
    (
        SecurityContext::derive(&mut c, &cp).unwrap(),
        SecurityContext::derive(&mut c, &sp).unwrap(),
    )
}

fn msg(t: MessageType, code: Code, opts: &[(N, &[u8])], payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 2048];
    let mut w = MessageWriter::new(&mut buf, t, code, 0x1234, b"\x0a\x0b").unwrap();
    for (n, v) in opts {
        w.option(*n, v).unwrap();
    }
    let len = w.payload(payload).unwrap();
    buf.truncate(len);
    buf
}

fn get(path: &[u8]) -> Vec<u8> {
    msg(
        MessageType::Confirmable,
        Code::GET,
        &[(N::URI_HOST, b"dev"), (N::URI_PATH, path)],
        b"",
    )
}

fn protect(client: &mut SecurityContext, plain: &[u8]) -> (Vec<u8>, iot_oscore::SentRequest) {
    let mut out = vec![0u8; 2048];
    let (n, sent) = client
        .protect_request(&mut crypto(), &Message::decode(plain).unwrap(), &mut out)
        .unwrap();
    out.truncate(n);
    (out, sent)
}

fn unprotect(
    server: &mut SecurityContext,
    protected: &[u8],
) -> Result<(Vec<u8>, iot_oscore::ReceivedRequest), Error> {
    let mut input = protected.to_vec();
    let mut out = vec![0u8; 2048];
    let (n, r) = server.unprotect_request(&mut crypto(), &mut input, &mut out)?;
    out.truncate(n);
    Ok((out, r))
}

fn options(bytes: &[u8]) -> Vec<(u16, Vec<u8>)> {
    Message::decode(bytes)
        .unwrap()
        .options()
        .map(|o| (o.number.0, o.value.to_vec()))
        .collect()
}

#[test]
fn context_parameters_are_checked() {
    let mut c = crypto();
    let derive =
        |p: ContextParams<'_>| SecurityContext::<32>::derive(&mut crypto(), &p).map(|_| ());
    // IDs up to the nonce length minus 6: 7 bytes for AES-CCM, 6 for the 12-byte nonces.
    assert_eq!(derive(ContextParams::new(&SECRET, &[1; 7], &[2])), Ok(()));
    assert_eq!(
        derive(ContextParams::new(&SECRET, &[1; 8], &[2])),
        Err(Error::InvalidContext)
    );
    for alg in [AeadAlgorithm::ChaCha20Poly1305, AeadAlgorithm::A128Gcm] {
        assert_eq!(
            derive(ContextParams::new(&SECRET, &[2], &[1; 6]).alg(alg)),
            Ok(())
        );
        assert_eq!(
            derive(ContextParams::new(&SECRET, &[2], &[1; 7]).alg(alg)),
            Err(Error::InvalidContext)
        );
    }
    assert_eq!(
        derive(ContextParams::new(&SECRET, &[1], &[1])),
        Err(Error::InvalidContext)
    );
    assert_eq!(
        derive(ContextParams::new(&SECRET, &[1], &[2]).id_context(&[0; 33])),
        Err(Error::InvalidContext)
    );
    let chacha = ContextParams::new(&SECRET, &[1], &[2]).alg(AeadAlgorithm::ChaCha20Poly1305);
    let keys = DerivedKeys::derive(&mut c, &chacha).unwrap();
    assert_eq!((keys.sender_key().len(), keys.common_iv().len()), (32, 12));
    let ctx: SecurityContext = SecurityContext::derive(&mut c, &chacha).unwrap();
    assert_eq!(ctx.common_iv(), keys.common_iv());
    // With and without salt and ID context the keys differ.
    let params = ContextParams::new(&SECRET, &[1], &[2]);
    let a = DerivedKeys::derive(&mut c, &params).unwrap();
    let b = DerivedKeys::derive(&mut c, &params.master_salt(&SALT)).unwrap();
    let d = DerivedKeys::derive(&mut c, &params.id_context(b"")).unwrap();
    assert_ne!(a.sender_key(), b.sender_key());
    assert_ne!(
        a.sender_key(),
        d.sender_key(),
        "an empty ID Context differs from none"
    );
    let ctx: SecurityContext = SecurityContext::derive(&mut c, &params).unwrap();
    let shown = format!("{ctx:?}");
    for key in [a.sender_key(), a.recipient_key()] {
        assert!(
            !shown.contains(&format!("{key:?}")) && !shown.contains(&hex::encode(key)),
            "Debug shows no keys"
        );
    }
}

#[test]
fn round_trips_with_every_algorithm_and_id_context() {
    for alg in [
        AeadAlgorithm::AesCcm16_64_128,
        AeadAlgorithm::ChaCha20Poly1305,
        AeadAlgorithm::A128Gcm,
    ] {
        for ctx in [None, Some(&b"\x37\xcb\xf3\x21"[..])] {
            let (mut client, mut server) = pair(alg, ctx);
            let plain = msg(
                MessageType::Confirmable,
                Code::PUT,
                &[(N::URI_PATH, b"cfg"), (N::CONTENT_FORMAT, b"")],
                b"{}",
            );
            let (protected, sent) = protect(&mut client, &plain);
            let opt = OscoreOption::decode(
                Message::decode(&protected)
                    .unwrap()
                    .option(N::OSCORE)
                    .unwrap()
                    .value,
            )
            .unwrap();
            assert_eq!(opt.kid_context, ctx);
            let (got, mut received) = unprotect(&mut server, &protected).unwrap();
            assert_eq!(got, plain);
            let resp = msg(MessageType::Acknowledgement, Code::CHANGED, &[], b"ok");
            for nonce in [ResponseNonce::Request, ResponseNonce::Own] {
                let mut out = [0u8; 256];
                let n = server
                    .protect_response(
                        &mut crypto(),
                        &mut received,
                        &Message::decode(&resp).unwrap(),
                        nonce,
                        &mut out,
                    )
                    .unwrap();
                let mut plain_out = [0u8; 256];
                let r = client
                    .unprotect_response(&mut crypto(), &sent, &mut out[..n], &mut plain_out)
                    .unwrap();
                assert_eq!(plain_out[..r.len], resp);
                assert_eq!(r.partial_iv.is_some(), nonce == ResponseNonce::Own);
            }
        }
    }
}

#[test]
fn errors_map_to_section_8_response_codes() {
    let (mut client, mut server) = pair(AeadAlgorithm::AesCcm16_64_128, None);
    let (protected, _) = protect(&mut client, &get(b"a"));
    let m = Message::decode(&protected).unwrap();
    let opt_at = protected
        .windows(3)
        .position(|w| w == [0x62, 0x09, 0x00])
        .unwrap()
        + 1;
    assert_eq!(m.option(N::OSCORE).unwrap().value, [0x09, 0x00]);

    // A reserved flag bit, n = 6, a missing kid: 4.02.
    for flags in [0x29u8, 0x0e, 0x01] {
        let mut bad = protected.clone();
        bad[opt_at] = flags;
        let e = unprotect(&mut server, &bad).unwrap_err();
        assert_eq!(e, Error::BadOscoreOption, "flags {flags:#x}");
        assert_eq!(e.response_code(), Some(Code::BAD_OPTION));
    }
    // Another kid: 4.01.
    let (mut other, _) = {
        let mut c = crypto();
        let p = ContextParams::new(&SECRET, b"\x07", b"\x01").master_salt(&SALT);
        (SecurityContext::<32>::derive(&mut c, &p).unwrap(), ())
    };
    let (foreign, _) = protect(&mut other, &get(b"a"));
    let e = unprotect(&mut server, &foreign).unwrap_err();
    assert_eq!(
        (e, e.response_code()),
        (Error::UnknownContext, Some(Code::UNAUTHORIZED))
    );
    // A kid context the server does not have: 4.01.
    let (mut with_ctx, _) = pair(AeadAlgorithm::AesCcm16_64_128, Some(b"ctx"));
    let (foreign, _) = protect(&mut with_ctx, &get(b"a"));
    assert_eq!(
        unprotect(&mut server, &foreign).unwrap_err(),
        Error::UnknownContext
    );
    // A wrong tag: 4.00.
    let mut bad = protected.clone();
    *bad.last_mut().unwrap() ^= 1;
    let e = unprotect(&mut server, &bad).unwrap_err();
    assert_eq!(
        (e, e.response_code()),
        (Error::DecryptionFailed, Some(Code::BAD_REQUEST))
    );
    // No OSCORE option at all: 4.01; a payload no longer than the tag: 4.02.
    assert_eq!(
        unprotect(&mut server, &get(b"a"))
            .unwrap_err()
            .response_code(),
        Some(Code::UNAUTHORIZED)
    );
    let short = msg(
        MessageType::Confirmable,
        Code::POST,
        &[(N::OSCORE, &[0x09, 0x00])],
        &[0; 8],
    );
    assert_eq!(
        unprotect(&mut server, &short).unwrap_err(),
        Error::BadOscoreOption
    );
    let twice = msg(
        MessageType::Confirmable,
        Code::POST,
        &[(N::OSCORE, &[0x09, 0x00]), (N::OSCORE, &[0x09, 0x01])],
        &[0; 20],
    );
    assert_eq!(
        unprotect(&mut server, &twice).unwrap_err(),
        Error::BadOscoreOption
    );
    // The genuine request still passes: none of the above changed the replay window.
    assert_eq!(*server.replay_window(), ReplayWindow::new());
    unprotect(&mut server, &protected).unwrap();
    // Its replay: 4.01.
    let e = unprotect(&mut server, &protected).unwrap_err();
    assert_eq!(
        (e, e.response_code()),
        (Error::Replay, Some(Code::UNAUTHORIZED))
    );
}

#[test]
fn rejected_messages_change_no_state() {
    let (mut client, mut server) = pair(AeadAlgorithm::AesCcm16_64_128, None);
    let mut accepted = Vec::new();
    for i in 0..40u8 {
        let (p, _) = protect(&mut client, &get(&[b'a' + i % 26]));
        accepted.push(p);
    }
    // Deliver out of order: 39, then 10..39, skipping some.
    unprotect(&mut server, &accepted[39]).unwrap();
    for p in accepted.iter().skip(10).step_by(3).take(9) {
        unprotect(&mut server, p).unwrap();
    }
    let before = *server.replay_window();
    assert_eq!(before.highest(), Some(39));
    // Too old (39 - 7 >= 32), replays, and a forgery: all refused, nothing changed.
    let mut forged = accepted[38].clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x80;
    for p in [&accepted[7], &accepted[39], &accepted[10], &forged] {
        assert!(unprotect(&mut server, p).is_err());
        assert_eq!(*server.replay_window(), before);
    }
    // The genuine message 38 is still welcome after its forgery was refused.
    unprotect(&mut server, &accepted[38]).unwrap();
    assert_ne!(*server.replay_window(), before);
}

#[test]
fn replay_window_matches_a_model() {
    fn run<const W: usize>(seqs: &[u64]) {
        let mut w = ReplayWindow::<W>::new();
        let mut seen = std::collections::BTreeSet::new();
        for &s in seqs {
            let top = seen.last().copied();
            let fresh = !seen.contains(&s) && top.is_none_or(|t: u64| s > t || t - s < W as u64);
            assert_eq!(w.check(s).is_ok(), fresh, "W={W} seq={s} seen={seen:?}");
            let before = w;
            w.accept(s);
            if fresh {
                seen.insert(s);
            } else {
                assert_eq!(w, before);
            }
        }
    }
    let seqs: Vec<u64> = (0..400u64)
        .map(|i| (i * 7919) % 211 + (i / 50) * 40)
        .collect();
    run::<1>(&seqs);
    run::<8>(&seqs);
    run::<32>(&seqs);
    run::<64>(&seqs);
    run::<128>(&seqs);
    let floor = ReplayWindow::<32>::with_lower_limit(100);
    assert_eq!(floor.check(99), Err(Error::Replay));
    assert_eq!(floor.check(100), Ok(()));
    assert_eq!(ReplayWindow::<32>::new().size(), 32);
}

#[test]
fn observe_registration_and_notifications() {
    let (mut client, mut server) = pair(AeadAlgorithm::AesCcm16_64_128, None);
    let plain = msg(
        MessageType::Confirmable,
        Code::GET,
        &[(N::OBSERVE, b""), (N::URI_PATH, b"temp")],
        b"",
    );
    let (protected, sent) = protect(&mut client, &plain);
    assert!(sent.is_observe_registration());
    // Outer: FETCH with Outer Observe 0 beside the OSCORE option; Uri-Path only inside.
    let m = Message::decode(&protected).unwrap();
    assert_eq!(m.code(), Code::FETCH);
    assert_eq!(
        options(&protected).iter().map(|o| o.0).collect::<Vec<_>>(),
        [6, 9]
    );
    let (got, mut received) = unprotect(&mut server, &protected).unwrap();
    assert_eq!(got, plain);
    assert!(received.is_observe_registration());

    // A notification with the request's nonce is refused: it needs a Partial IV.
    let note = msg(
        MessageType::NonConfirmable,
        Code::CONTENT,
        &[(N::OBSERVE, &[0x05]), (N::CONTENT_FORMAT, b"")],
        b"21.5",
    );
    let mut out = [0u8; 256];
    assert_eq!(
        server.protect_response(
            &mut crypto(),
            &mut received,
            &Message::decode(&note).unwrap(),
            ResponseNonce::Request,
            &mut out
        ),
        Err(Error::ObserveMismatch)
    );
    let mut plain_out = [0u8; 256];
    for expected_piv in 0..3u64 {
        let n = server
            .protect_response(
                &mut crypto(),
                &mut received,
                &Message::decode(&note).unwrap(),
                ResponseNonce::Own,
                &mut out,
            )
            .unwrap();
        let m = Message::decode(&out[..n]).unwrap();
        assert_eq!(m.code(), Code::CONTENT);
        assert_eq!(
            m.option(N::OBSERVE).unwrap().value,
            [0x05],
            "Outer Observe keeps the value"
        );
        let r = client
            .unprotect_response(&mut crypto(), &sent, &mut out[..n], &mut plain_out)
            .unwrap();
        assert_eq!(r.partial_iv, Some(expected_piv));
        let v = Message::decode(&plain_out[..r.len]).unwrap();
        // The Inner Observe was empty; the client sees the Partial IV's low bytes instead.
        assert_eq!(
            v.option(N::OBSERVE).unwrap().uint(),
            Some(expected_piv as u32)
        );
        assert_eq!(v.payload(), b"21.5");
    }

    // An Inner Observe in a response to a plain GET is refused by the client.
    let (protected, plain_sent) = protect(&mut client, &get(b"temp"));
    let (_, mut plain_received) = unprotect(&mut server, &protected).unwrap();
    let n = server
        .protect_response(
            &mut crypto(),
            &mut plain_received,
            &Message::decode(&note).unwrap(),
            ResponseNonce::Own,
            &mut out,
        )
        .unwrap();
    assert_eq!(
        client.unprotect_response(&mut crypto(), &plain_sent, &mut out[..n], &mut plain_out),
        Err(Error::ObserveMismatch)
    );
}

#[test]
fn block_and_max_age_are_inner_and_outer_copies_are_dropped() {
    let (mut client, mut server) = pair(AeadAlgorithm::AesCcm16_64_128, None);
    let (protected, sent) = protect(&mut client, &get(b"fw"));
    let (_, mut received) = unprotect(&mut server, &protected).unwrap();
    let resp = msg(
        MessageType::Acknowledgement,
        Code::CONTENT,
        &[
            (N::MAX_AGE, &[60]),
            (N::BLOCK2, &[0x0e]),
            (N::SIZE2, &[4, 0]),
        ],
        &[0xab; 64],
    );
    let mut out = [0u8; 256];
    let n = server
        .protect_response(
            &mut crypto(),
            &mut received,
            &Message::decode(&resp).unwrap(),
            ResponseNonce::Request,
            &mut out,
        )
        .unwrap();
    assert_eq!(
        options(&out[..n]),
        [(9, vec![])],
        "only the OSCORE option is outside"
    );
    // A proxy adds Outer Max-Age 0 and an Outer Block2: they are not protected, and are dropped.
    let m = Message::decode(&out[..n]).unwrap();
    let mut buf = [0u8; 256];
    let mut w = MessageWriter::new(
        &mut buf,
        m.message_type(),
        m.code(),
        m.message_id(),
        m.token(),
    )
    .unwrap();
    w.option(N::OSCORE, b"").unwrap();
    w.option(N::MAX_AGE, b"").unwrap();
    w.option(N::BLOCK2, &[0x06]).unwrap();
    let len = w.payload(m.payload()).unwrap();
    let mut plain_out = [0u8; 256];
    let r = client
        .unprotect_response(&mut crypto(), &sent, &mut buf[..len], &mut plain_out)
        .unwrap();
    assert_eq!(plain_out[..r.len], resp);
}

#[test]
fn proxy_uri_is_decomposed() {
    let (mut client, mut server) = pair(AeadAlgorithm::AesCcm16_64_128, None);
    let plain = msg(
        MessageType::Confirmable,
        Code::GET,
        &[
            (N::ACCEPT, &[50]),
            (
                N::PROXY_URI,
                b"coap://example.com:5683/resource/a%20b?q=1&r",
            ),
        ],
        b"",
    );
    let (protected, _) = protect(&mut client, &plain);
    let outer = options(&protected);
    assert_eq!(outer[0], (9, vec![0x09, 0x00]));
    assert_eq!(outer[1], (35, b"coap://example.com".to_vec()));
    assert_eq!(outer.len(), 2);
    let (got, _) = unprotect(&mut server, &protected).unwrap();
    assert_eq!(
        options(&got),
        [
            (11, b"resource".to_vec()),
            (11, b"a b".to_vec()),
            (15, b"q=1".to_vec()),
            (15, b"r".to_vec()),
            (17, vec![50]),
            (35, b"coap://example.com".to_vec()),
        ]
    );
    let mut bad = |uri: &[u8]| {
        let p = msg(
            MessageType::Confirmable,
            Code::GET,
            &[(N::PROXY_URI, uri)],
            b"",
        );
        client
            .protect_request(
                &mut crypto(),
                &Message::decode(&p).unwrap(),
                &mut [0u8; 256],
            )
            .unwrap_err()
    };
    assert_eq!(bad(b"/relative"), Error::InvalidProxyUri);
    assert_eq!(bad(b"coap://h/a#frag"), Error::InvalidProxyUri);
    assert_eq!(bad(b"coap://h/%zz"), Error::InvalidProxyUri);
    let with_path = msg(
        MessageType::Confirmable,
        Code::GET,
        &[(N::URI_PATH, b"x"), (N::PROXY_URI, b"coap://h/")],
        b"",
    );
    assert_eq!(
        client.protect_request(
            &mut crypto(),
            &Message::decode(&with_path).unwrap(),
            &mut [0u8; 256]
        ),
        Err(Error::InvalidProxyUri)
    );
}

#[test]
fn bindings_and_sequence_numbers() {
    let (mut client, mut server) = pair(AeadAlgorithm::AesCcm16_64_128, None);
    let (protected, sent) = protect(&mut client, &get(b"x"));
    let (_, mut received) = unprotect(&mut server, &protected).unwrap();
    let resp = msg(MessageType::Acknowledgement, Code::CONTENT, &[], b"v");
    let resp = Message::decode(&resp).unwrap();
    let mut out = [0u8; 128];
    server
        .protect_response(
            &mut crypto(),
            &mut received,
            &resp,
            ResponseNonce::Request,
            &mut out,
        )
        .unwrap();
    assert!(received.nonce_used());
    assert_eq!(
        server.protect_response(
            &mut crypto(),
            &mut received,
            &resp,
            ResponseNonce::Request,
            &mut out
        ),
        Err(Error::RequestNonceUsed)
    );
    server
        .protect_response(
            &mut crypto(),
            &mut received,
            &resp,
            ResponseNonce::Own,
            &mut out,
        )
        .unwrap();
    // An empty ACK passes through; a client's binding is refused by the server's context.
    let mut ack = [0x60, 0, 0, 0];
    let r = client
        .unprotect_response(&mut crypto(), &sent, &mut ack, &mut out)
        .unwrap();
    assert_eq!((r.len, &out[..4]), (4, &[0x60, 0, 0, 0][..]));
    assert_eq!(
        server.unprotect_response(&mut crypto(), &sent, &mut out.clone(), &mut [0u8; 128]),
        Err(Error::BindingMismatch)
    );
    // A response bound to another request does not verify.
    let (protected2, sent2) = protect(&mut client, &get(b"y"));
    let (_, mut received2) = unprotect(&mut server, &protected2).unwrap();
    let n = server
        .protect_response(
            &mut crypto(),
            &mut received2,
            &resp,
            ResponseNonce::Request,
            &mut out,
        )
        .unwrap();
    let mut plain = [0u8; 128];
    assert_eq!(
        client.unprotect_response(&mut crypto(), &sent, &mut out[..n].to_vec(), &mut plain),
        Err(Error::DecryptionFailed)
    );
    client
        .unprotect_response(&mut crypto(), &sent2, &mut out[..n], &mut plain)
        .unwrap();
    // Protect refuses responses as requests, nested OSCORE, and requests as responses.
    assert_eq!(
        client.protect_request(&mut crypto(), &resp, &mut out),
        Err(Error::WrongMessageKind)
    );
    let nested = msg(
        MessageType::Confirmable,
        Code::GET,
        &[(N::OSCORE, b"")],
        b"",
    );
    assert_eq!(
        client.protect_request(&mut crypto(), &Message::decode(&nested).unwrap(), &mut out),
        Err(Error::NestedOscore)
    );
    // Sequence numbers only move forward and end below 2^40.
    assert_eq!(
        client.set_sender_sequence_number(0),
        Err(Error::InvalidContext)
    );
    client
        .set_sender_sequence_number(MAX_SEQUENCE_NUMBER)
        .unwrap();
    let (p, s) = protect(&mut client, &get(b"z"));
    assert_eq!(s.partial_iv().as_bytes(), [0xff; 5]);
    assert!(unprotect(&mut server, &p).is_ok());
    assert_eq!(
        client.protect_request(
            &mut crypto(),
            &Message::decode(&get(b"z")).unwrap(),
            &mut out
        ),
        Err(Error::SequenceNumberExhausted)
    );
}

#[test]
fn oscore_option_values() {
    // RFC 8613 section 6.3 examples.
    let cases: [(&[u8], OscoreOption<'_>); 5] = [
        (
            &[0x09, 0x05, 0x25],
            OscoreOption {
                partial_iv: Some(&[0x05]),
                kid_context: None,
                kid: Some(&[0x25]),
            },
        ),
        (
            &[0x09, 0x00],
            OscoreOption {
                partial_iv: Some(&[0x00]),
                kid_context: None,
                kid: Some(&[]),
            },
        ),
        (
            &[0x19, 0x05, 0x05, 0x44, 0x61, 0x6c, 0x65, 0x6b],
            OscoreOption {
                partial_iv: Some(&[0x05]),
                kid_context: Some(b"Dalek"),
                kid: Some(&[]),
            },
        ),
        (&[], OscoreOption::default()),
        (
            &[0x01, 0x07],
            OscoreOption {
                partial_iv: Some(&[0x07]),
                kid_context: None,
                kid: None,
            },
        ),
    ];
    for (bytes, opt) in cases {
        assert_eq!(OscoreOption::decode(bytes), Ok(opt));
        let mut out = [0u8; 16];
        let n = opt.encode(&mut out).unwrap();
        assert_eq!(&out[..n], bytes);
    }
    for bad in [
        &[0x00][..],
        &[0x20, 0],
        &[0x40, 0],
        &[0x80, 0],
        &[0x06, 1, 2, 3, 4, 5, 6],
        &[0x07; 8],
        &[0x02, 1],
        &[0x11, 1, 5, 1],
        &[0x01, 1, 2],
    ] {
        assert_eq!(
            OscoreOption::decode(bad),
            Err(Error::BadOscoreOption),
            "{bad:02x?}"
        );
    }
    assert_eq!(PartialIv::from_bytes(&[0, 5]), Err(Error::BadOscoreOption));
    assert_eq!(PartialIv::from_bytes(&[]), Err(Error::BadOscoreOption));
    assert_eq!(PartialIv::from_bytes(&[1; 6]), Err(Error::BadOscoreOption));
    assert_eq!(PartialIv::from_sequence_number(0).unwrap().as_bytes(), [0]);
    assert_eq!(
        PartialIv::from_sequence_number(0x1_0000)
            .unwrap()
            .as_bytes(),
        [1, 0, 0]
    );
    assert_eq!(PartialIv::from_sequence_number(1 << 40), None);
}
