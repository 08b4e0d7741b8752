//! Property tests of OSCORE (RFC 8613): protect then unprotect is the identity; no single bit flip
//! of a protected message changes what the receiver accepts as protected content; replays are
//! refused and leave the replay window as it was.
// Helpers outside #[test] functions may unwrap and panic too: a failing test is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::RustCrypto;
use iot_oscore::classes::ProtectionClass;
use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber};
use iot_oscore::{ContextParams, Error, ReplayWindow, ResponseNonce, SecurityContext};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn crypto() -> RustCrypto<()> {
    RustCrypto::default()
}

const ALGS: [AeadAlgorithm; 3] = [
    AeadAlgorithm::AesCcm16_64_128,
    AeadAlgorithm::ChaCha20Poly1305,
    AeadAlgorithm::A128Gcm,
];

fn contexts(
    alg: AeadAlgorithm,
    client_id: &[u8],
    server_id: &[u8],
    ctx: Option<&[u8]>,
) -> (SecurityContext, SecurityContext) {
    let secret = [0x42u8; 16];
    let mut cp = ContextParams::new(&secret, client_id, server_id).alg(alg);
    let mut sp = ContextParams::new(&secret, server_id, client_id).alg(alg);
    if let Some(c) = ctx {
        cp = cp.id_context(c);
        sp = sp.id_context(c);
    }
    let mut c = crypto();
    (
        SecurityContext::derive(&mut c, &cp).unwrap(),
        SecurityContext::derive(&mut c, &sp).unwrap(),
    )
}

/// Options a protected message may carry (no OSCORE, no Proxy-Uri: those are not kept as they are).
const POOL: [u16; 20] = [
    1, 3, 4, 5, 7, 8, 11, 12, 14, 15, 16, 17, 20, 23, 27, 28, 39, 60, 252, 2051,
];

#[derive(Debug, Clone)]
struct Plain {
    t: u8,
    code: u8,
    token: Vec<u8>,
    opts: Vec<(u16, Vec<u8>)>,
    payload: Vec<u8>,
}

impl Plain {
    fn encode(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let mut w = MessageWriter::new(
            &mut buf,
            MessageType::from_bits(self.t),
            Code(self.code),
            0x7d00,
            &self.token,
        )
        .unwrap();
        for (n, v) in &self.opts {
            w.option(OptionNumber(*n), v).unwrap();
        }
        let n = w.payload(&self.payload).unwrap();
        buf.truncate(n);
        buf
    }
}

fn plain(request: bool, max_payload: usize) -> impl Strategy<Value = Plain> {
    let code = if request {
        (1u8..=7).boxed()
    } else {
        prop::sample::select(vec![0x41u8, 0x44, 0x45, 0x80, 0x84, 0xa0]).boxed()
    };
    let observe = if request {
        prop::option::of(0u8..2).boxed()
    } else {
        Just(None).boxed()
    };
    (
        0u8..2,
        code,
        prop::collection::vec(any::<u8>(), 0..=8),
        prop::collection::vec(
            (
                prop::sample::select(POOL.to_vec()),
                prop::collection::vec(any::<u8>(), 0..20),
            ),
            0..6,
        ),
        observe,
        prop::collection::vec(any::<u8>(), 0..max_payload),
    )
        .prop_map(move |(t, code, token, mut opts, observe, payload)| {
            if let Some(o) = observe {
                opts.push((6, if o == 0 { vec![] } else { vec![1] }));
            }
            opts.sort_by_key(|o| o.0);
            Plain {
                t,
                code,
                token,
                opts,
                payload,
            }
        })
}

/// What OSCORE protects end to end: the code, every option that may be Class E, and the payload.
type Content = (Code, Vec<(u16, Vec<u8>)>, Vec<u8>);

fn protected_content(bytes: &[u8]) -> Content {
    let m = Message::decode(bytes).unwrap();
    let opts = m
        .options()
        .filter(|o| ProtectionClass::of(o.number).may_be_inner())
        .map(|o| (o.number.0, o.value.to_vec()))
        .collect();
    (m.code(), opts, m.payload().to_vec())
}

/// Byte ranges of a protected message that OSCORE authenticates: the OSCORE option value and
/// the payload (ciphertext and tag).
fn authenticated(bytes: &[u8]) -> Vec<core::ops::Range<usize>> {
    let m = Message::decode(bytes).unwrap();
    let base = bytes.as_ptr() as usize;
    let v = m.option(OptionNumber::OSCORE).unwrap().value;
    let at = v.as_ptr() as usize - base;
    let p = m.payload();
    let pat = p.as_ptr() as usize - base;
    vec![at..at + v.len(), pat..pat + p.len()]
}

fn id() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// unprotect(protect(m)) == m, byte for byte, for requests and responses of every algorithm.
    #[test]
    fn protect_then_unprotect_is_identity(
        req in plain(true, 300),
        resp in plain(false, 300),
        alg in prop::sample::select(ALGS.to_vec()),
        (client_id, server_id) in (id(), id()).prop_filter("distinct IDs", |(a, b)| a != b),
        ctx in prop::option::of(prop::collection::vec(any::<u8>(), 0..=32)),
        ssn in 0u64..(1 << 40) - 1,
        own in any::<bool>(),
    ) {
        let (mut client, mut server) = contexts(alg, &client_id, &server_id, ctx.as_deref());
        client.set_sender_sequence_number(ssn).unwrap();
        let mut c = crypto();
        let original = req.encode();
        let mut protected = vec![0u8; 4096];
        let (n, sent) = client.protect_request(&mut c, &Message::decode(&original).unwrap(), &mut protected).unwrap();
        let mut out = vec![0u8; n];
        let (len, mut received) = server.unprotect_request(&mut c, &mut protected[..n], &mut out).unwrap();
        prop_assert_eq!(&out[..len], &original[..]);

        let original = resp.encode();
        let nonce = if own { ResponseNonce::Own } else { ResponseNonce::Request };
        let n = server.protect_response(&mut c, &mut received, &Message::decode(&original).unwrap(), nonce, &mut protected).unwrap();
        let mut out = vec![0u8; n];
        let r = client.unprotect_response(&mut c, &sent, &mut protected[..n], &mut out).unwrap();
        prop_assert_eq!(&out[..r.len], &original[..]);
        prop_assert_eq!(r.partial_iv, own.then_some(0));
    }

    /// Flipping any single bit of a protected request or response either gets the message
    /// refused or leaves the protected content (code, Class E options, payload) as it was; flips
    /// in the OSCORE option value or the ciphertext are always refused.
    #[test]
    fn single_bit_flips_are_rejected(
        req in plain(true, 24),
        resp in plain(false, 24),
        alg in prop::sample::select(ALGS.to_vec()),
    ) {
        let mut c = crypto();
        let (mut client, mut server) = contexts(alg, b"", b"\x01", None);
        let original = req.encode();
        let mut protected = vec![0u8; 1024];
        let (n, sent) = client.protect_request(&mut c, &Message::decode(&original).unwrap(), &mut protected).unwrap();
        let protected = protected[..n].to_vec();
        let must_fail = authenticated(&protected);
        let mut out = vec![0u8; 1024];
        let mut refused = 0;
        for bit in 0..protected.len() * 8 {
            let mut flipped = protected.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            // A fresh window each time, so that a flip which verifies does not fill it.
            server.set_replay_window(ReplayWindow::new());
            match server.unprotect_request(&mut c, &mut flipped, &mut out) {
                Ok((len, _)) => {
                    prop_assert!(!must_fail.iter().any(|r| r.contains(&(bit / 8))), "bit {} accepted", bit);
                    prop_assert_eq!(protected_content(&out[..len]), protected_content(&original));
                }
                Err(_) => refused += 1,
            }
        }
        prop_assert!(refused > 0);

        server.set_replay_window(ReplayWindow::new());
        let (_, mut received) = server.unprotect_request(&mut c, &mut protected.clone(), &mut out).unwrap();
        let original = resp.encode();
        let mut sealed = vec![0u8; 1024];
        let n = server.protect_response(&mut c, &mut received, &Message::decode(&original).unwrap(), ResponseNonce::Own, &mut sealed).unwrap();
        let sealed = sealed[..n].to_vec();
        let must_fail = authenticated(&sealed);
        for bit in 0..sealed.len() * 8 {
            let mut flipped = sealed.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            if let Ok(r) = client.unprotect_response(&mut c, &sent, &mut flipped, &mut out) {
                prop_assert!(!must_fail.iter().any(|x| x.contains(&(bit / 8))), "bit {} accepted", bit);
                prop_assert_eq!(protected_content(&out[..r.len]), protected_content(&original));
            }
        }
    }

    /// Delivering protected requests in any order, with repeats: each is accepted at most once,
    /// exactly when a DTLS-style window of 32 allows it; every refusal is `Replay` and leaves the
    /// window unchanged.
    #[test]
    fn replays_are_rejected_and_change_nothing(
        count in 1usize..80,
        order in prop::collection::vec(any::<prop::sample::Index>(), 1..160),
    ) {
        let mut c = crypto();
        let (mut client, mut server) = contexts(AeadAlgorithm::AesCcm16_64_128, b"\x05", b"", None);
        let plain = Plain { t: 0, code: 3, token: vec![1], opts: vec![(11, b"x".to_vec())], payload: b"v".to_vec() }.encode();
        let sent: Vec<Vec<u8>> = (0..count)
            .map(|_| {
                let mut out = vec![0u8; 128];
                let (n, _) = client.protect_request(&mut c, &Message::decode(&plain).unwrap(), &mut out).unwrap();
                out.truncate(n);
                out
            })
            .collect();
        let mut seen = BTreeSet::new();
        let mut out = vec![0u8; 128];
        for i in order {
            let seq = i.index(count);
            let top = seen.last().copied();
            let fresh = !seen.contains(&seq) && top.is_none_or(|t: usize| seq > t || t - seq < 32);
            let before = *server.replay_window();
            let result = server.unprotect_request(&mut c, &mut sent[seq].clone(), &mut out);
            if fresh {
                prop_assert!(result.is_ok());
                seen.insert(seq);
            } else {
                prop_assert_eq!(result.err(), Some(Error::Replay));
                prop_assert_eq!(*server.replay_window(), before);
            }
        }
    }
}
