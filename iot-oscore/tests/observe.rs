//! The client's Notification Number check for Observe under OSCORE (RFC 8613 sections 7.4.1 and
//! 8.4.1): notifications in order, reordered, replayed and bit-flipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_core::crypto::RustCrypto;
use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber as N};
use iot_oscore::{
    ContextParams, Error, Observation, ReceivedRequest, ResponseNonce, SecurityContext,
};

const SECRET: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const SALT: [u8; 8] = [0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40];

fn crypto() -> RustCrypto<()> {
    RustCrypto::default()
}

fn pair() -> (SecurityContext, SecurityContext) {
    let mut c = crypto();
    let cp = ContextParams::new(&SECRET, b"", b"\x01").master_salt(&SALT);
    let sp = ContextParams::new(&SECRET, b"\x01", b"").master_salt(&SALT);
    (
        SecurityContext::derive(&mut c, &cp).unwrap(),
        SecurityContext::derive(&mut c, &sp).unwrap(),
    )
}

fn msg(t: MessageType, code: Code, opts: &[(N, &[u8])], payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut w = MessageWriter::new(&mut buf, t, code, 0x1234, b"\x0a\x0b").unwrap();
    for (n, v) in opts {
        w.option(*n, v).unwrap();
    }
    let len = w.payload(payload).unwrap();
    buf.truncate(len);
    buf
}

/// The client registers (GET /temp with `observe`), the server verifies it.
fn register(
    client: &mut SecurityContext,
    server: &mut SecurityContext,
    observe: &[u8],
) -> (iot_oscore::SentRequest, ReceivedRequest) {
    let plain = msg(
        MessageType::Confirmable,
        Code::GET,
        &[(N::OBSERVE, observe), (N::URI_PATH, b"temp")],
        b"",
    );
    let mut out = vec![0u8; 512];
    let (n, sent) = client
        .protect_request(&mut crypto(), &Message::decode(&plain).unwrap(), &mut out)
        .unwrap();
    let mut plain_out = vec![0u8; 512];
    let (_, received) = server
        .unprotect_request(&mut crypto(), &mut out[..n], &mut plain_out)
        .unwrap();
    (sent, received)
}

/// The server protects a response (a notification when `observe` is some) with its own Partial IV.
fn respond(
    server: &mut SecurityContext,
    received: &mut ReceivedRequest,
    observe: Option<u8>,
    payload: &[u8],
) -> Vec<u8> {
    let observe = observe.map(|v| [v]);
    let mut opts: Vec<(N, &[u8])> = Vec::new();
    if let Some(v) = &observe {
        opts.push((N::OBSERVE, v));
    }
    let plain = msg(MessageType::NonConfirmable, Code::CONTENT, &opts, payload);
    let mut out = vec![0u8; 512];
    let n = server
        .protect_response(
            &mut crypto(),
            received,
            &Message::decode(&plain).unwrap(),
            ResponseNonce::Own,
            &mut out,
        )
        .unwrap();
    out.truncate(n);
    out
}

/// Verifies `wire` under `obs`; the verified payload on success.
fn receive(
    obs: &mut Observation,
    client: &SecurityContext,
    wire: &[u8],
) -> Result<(Vec<u8>, bool), Error> {
    let mut input = wire.to_vec();
    let mut out = vec![0u8; 512];
    let n = obs.unprotect(client, &mut crypto(), &mut input, &mut out)?;
    let m = Message::decode(&out[..n.response.len]).unwrap();
    Ok((m.payload().to_vec(), n.observing))
}

#[test]
fn only_a_registration_is_observed() {
    let (mut client, mut server) = pair();
    let (sent, _) = register(&mut client, &mut server, b"\x01");
    assert!(!sent.is_observe_registration());
    assert_eq!(Observation::new(sent), Err(Error::ObserveMismatch));
    let (sent, _) = register(&mut client, &mut server, b"");
    let obs = Observation::new(sent).unwrap();
    assert_eq!(obs.notification_number(), None);
    assert_eq!(obs.request(), &sent);
}

#[test]
fn notifications_in_order_are_accepted() {
    let (mut client, mut server) = pair();
    // Another exchange first, so the notifications' Partial IVs do not start at 0.
    let (_, _) = register(&mut client, &mut server, b"\x01");
    server.set_sender_sequence_number(7).unwrap();
    let (sent, mut received) = register(&mut client, &mut server, b"");
    let mut obs = Observation::new(sent).unwrap();
    for (i, value) in [b"20.0", b"20.5", b"21.0"].iter().enumerate() {
        let wire = respond(&mut server, &mut received, Some(i as u8), *value);
        assert_eq!(
            receive(&mut obs, &client, &wire),
            Ok((value.to_vec(), true))
        );
        assert_eq!(obs.notification_number(), Some(7 + i as u64));
    }
}

#[test]
fn reordered_and_replayed_notifications_are_refused_without_change() {
    let (mut client, mut server) = pair();
    let (sent, mut received) = register(&mut client, &mut server, b"");
    let mut obs = Observation::new(sent).unwrap();
    let wires: Vec<Vec<u8>> = (0..4)
        .map(|i| respond(&mut server, &mut received, Some(i), &[b'a' + i]))
        .collect();
    // 0 then 2 arrive; 1 comes late and is older than the Notification Number.
    assert!(receive(&mut obs, &client, &wires[0]).is_ok());
    assert_eq!(
        receive(&mut obs, &client, &wires[2]),
        Ok((b"c".to_vec(), true))
    );
    assert_eq!(obs.notification_number(), Some(2));
    assert_eq!(receive(&mut obs, &client, &wires[1]), Err(Error::Replay));
    assert_eq!(obs.notification_number(), Some(2));
    // A replay of the newest (equal) and of the first (older) are refused.
    assert_eq!(receive(&mut obs, &client, &wires[2]), Err(Error::Replay));
    assert_eq!(receive(&mut obs, &client, &wires[0]), Err(Error::Replay));
    assert_eq!(obs.notification_number(), Some(2));
    assert_eq!(obs.check(Some(2)), Err(Error::Replay));
    assert_eq!(obs.check(Some(3)), Ok(()));
    assert_eq!(
        obs.check(None),
        Err(Error::Replay),
        "no Partial IV after the first"
    );
    // The next one still gets through.
    assert_eq!(
        receive(&mut obs, &client, &wires[3]),
        Ok((b"d".to_vec(), true))
    );
    assert_eq!(obs.notification_number(), Some(3));
}

#[test]
fn bit_flipped_notifications_are_refused_without_change() {
    let (mut client, mut server) = pair();
    let (sent, mut received) = register(&mut client, &mut server, b"");
    let mut obs = Observation::new(sent).unwrap();
    let first = respond(&mut server, &mut received, Some(0), b"20.0");
    assert!(receive(&mut obs, &client, &first).is_ok());
    let next = respond(&mut server, &mut received, Some(1), b"20.5");
    let m = Message::decode(&next).unwrap();
    let header = next.len() - m.payload().len();
    let mut refused = 0;
    for bit in 0..next.len() * 8 {
        let mut flipped = next.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        match receive(&mut obs, &client, &flipped) {
            // A flip in the header's message ID, type or outer Observe value is not protected.
            Ok((payload, _)) => {
                assert!(bit / 8 < header, "flip in byte {} accepted", bit / 8);
                assert_eq!(payload, b"20.5");
                // Accepting it took the number; undo by starting over for the next flip.
                assert_eq!(obs.notification_number(), Some(1));
                obs = Observation::new(sent).unwrap();
                assert!(receive(&mut obs, &client, &first).is_ok());
            }
            Err(_) => {
                refused += 1;
                assert_eq!(obs.notification_number(), Some(0), "bit {bit}");
            }
        }
    }
    assert!(refused > (next.len() - header) * 8, "{refused}");
    assert_eq!(
        receive(&mut obs, &client, &next),
        Ok((b"20.5".to_vec(), true))
    );
}

#[test]
fn notifications_are_bound_to_their_registration() {
    let (mut client, mut server) = pair();
    let (sent_a, mut received_a) = register(&mut client, &mut server, b"");
    let (sent_b, _) = register(&mut client, &mut server, b"");
    let mut a = Observation::new(sent_a).unwrap();
    let mut b = Observation::new(sent_b).unwrap();
    let wire = respond(&mut server, &mut received_a, Some(0), b"x");
    assert_eq!(
        receive(&mut b, &client, &wire),
        Err(Error::DecryptionFailed)
    );
    assert_eq!(b.notification_number(), None);
    assert!(receive(&mut a, &client, &wire).is_ok());
}

#[test]
fn a_final_response_ends_the_observation_and_cannot_be_replayed_late() {
    let (mut client, mut server) = pair();
    let (sent, mut received) = register(&mut client, &mut server, b"");
    let mut obs = Observation::new(sent).unwrap();
    // The server ends the observation with a response without Observe, its own Partial IV...
    let last = respond(&mut server, &mut received, None, b"gone");
    let note = respond(&mut server, &mut received, Some(1), b"21.0");
    assert_eq!(
        receive(&mut obs, &client, &note),
        Ok((b"21.0".to_vec(), true))
    );
    // ... that arrives after a newer notification: refused as stale.
    assert_eq!(receive(&mut obs, &client, &last), Err(Error::Replay));
    let last = respond(&mut server, &mut received, None, b"gone");
    assert_eq!(
        receive(&mut obs, &client, &last),
        Ok((b"gone".to_vec(), false))
    );
}

#[test]
fn a_first_notification_without_partial_iv_is_accepted_once() {
    let (mut client, mut server) = pair();
    let (sent, _) = register(&mut client, &mut server, b"");
    let mut obs = Observation::new(sent).unwrap();
    assert_eq!(obs.check(None), Ok(()));
    // The registration's response with the request's nonce (aiocoap sends its first one so).
    assert_eq!(obs.accept(None, true), Ok(()));
    assert_eq!(obs.notification_number(), None);
    assert_eq!(obs.accept(None, true), Err(Error::Replay), "replayed");
    assert_eq!(obs.accept(Some(0), true), Ok(()));
    assert_eq!(obs.accept(Some(0), true), Err(Error::Replay));
    // A final response with the request's nonce is bound to the request and passes.
    assert_eq!(obs.accept(None, false), Ok(()));
    assert_eq!(obs.accept(Some(0), false), Err(Error::Replay));
    assert_eq!(obs.notification_number(), Some(0));
}
