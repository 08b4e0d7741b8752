//! RFC 8613 appendix B.1: Sender Sequence Numbers persisted in steps of K are never reused across
//! simulated power losses (B.1.1), and the replay window is recovered with Echo after a reboot
//! (B.1.2, RFC 9175).
// Helpers outside #[test] functions may unwrap and panic too: a failing test is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_core::crypto::RustCrypto;
use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber};
use iot_oscore::nonce::PartialIv;
use iot_oscore::oscore_option::OscoreOption;
use iot_oscore::{
    ContextParams, Error, Incoming, PersistedContext, ResponseNonce, SecurityContext,
    SequenceNumberStore,
};
use std::collections::BTreeSet;

/// A store in memory that counts its writes and can be made to fail.
#[derive(Debug, Default)]
struct MemStore {
    value: Option<u64>,
    writes: usize,
    fail: bool,
}

impl SequenceNumberStore for MemStore {
    fn load(&mut self) -> Result<Option<u64>, Error> {
        Ok(self.value)
    }
    fn store(&mut self, value: u64) -> Result<(), Error> {
        if self.fail {
            return Err(Error::Storage);
        }
        self.value = Some(value);
        self.writes += 1;
        Ok(())
    }
}

const SECRET: [u8; 16] = [7; 16];

fn derive(sender: &[u8], recipient: &[u8]) -> SecurityContext {
    SecurityContext::derive(
        &mut RustCrypto::<()>::default(),
        &ContextParams::new(&SECRET, sender, recipient),
    )
    .unwrap()
}

fn post(path: &[u8], echo: Option<&[u8]>) -> Vec<u8> {
    let mut buf = vec![0u8; 128];
    let mut w = MessageWriter::new(
        &mut buf,
        MessageType::Confirmable,
        Code::POST,
        0x0101,
        b"tk",
    )
    .unwrap();
    w.option(OptionNumber::URI_PATH, path).unwrap();
    if let Some(e) = echo {
        w.option(OptionNumber::ECHO, e).unwrap();
    }
    let n = w.payload(b"on").unwrap();
    buf.truncate(n);
    buf
}

fn piv_of(protected: &[u8]) -> u64 {
    let m = Message::decode(protected).unwrap();
    let o = OscoreOption::decode(m.option(OptionNumber::OSCORE).unwrap().value).unwrap();
    PartialIv::from_bytes(o.partial_iv.unwrap())
        .unwrap()
        .sequence_number()
}

#[test]
fn sequence_numbers_survive_power_loss() {
    let mut c = RustCrypto::<()>::default();
    let mut store = MemStore::default();
    let mut used = BTreeSet::new();
    let k = 10;
    let mut total = 0;
    let mut writes_bound = 0;
    for (boot, count) in [13usize, 0, 1, 10, 27, 9, 31].into_iter().enumerate() {
        let ctx = derive(b"\x01", b"\x02");
        let mut device = if boot == 0 {
            PersistedContext::<_>::first_boot(ctx, &mut store, k).unwrap()
        } else {
            PersistedContext::<_>::after_reboot(ctx, &mut store, k).unwrap()
        };
        for i in 0..count {
            let mut out = [0u8; 128];
            let (n, _) = device
                .protect_request(
                    &mut c,
                    &Message::decode(&post(b"t", None)).unwrap(),
                    &mut out,
                )
                .unwrap();
            let seq = piv_of(&out[..n]);
            assert!(
                used.insert(seq),
                "boot {boot}, message {i}: sequence number {seq} reused"
            );
        }
        total += count;
        writes_bound += count.div_ceil(k as usize);
        // Power fails here: the context is dropped without any goodbye.
    }
    assert_eq!(used.len(), total);
    assert!(
        store.writes <= writes_bound,
        "{} writes for {total} numbers",
        store.writes
    );
    println!(
        "{total} sequence numbers over 7 boots, {} store writes (K = {k})",
        store.writes
    );
}

#[test]
fn a_failed_store_write_uses_no_number() {
    let mut c = RustCrypto::<()>::default();
    let mut store = MemStore {
        fail: true,
        ..MemStore::default()
    };
    let mut device =
        PersistedContext::<_>::first_boot(derive(b"\x01", b"\x02"), &mut store, 4).unwrap();
    let mut out = [0u8; 128];
    let plain = post(b"t", None);
    assert_eq!(
        device.protect_request(&mut c, &Message::decode(&plain).unwrap(), &mut out),
        Err(Error::Storage)
    );
    assert_eq!(device.context().sender_sequence_number(), 0);
    assert_eq!(
        PersistedContext::<_>::first_boot(derive(b"\x01", b"\x02"), MemStore::default(), 0)
            .err()
            .map(|_| ()),
        Some(())
    );
}

#[test]
fn replay_window_is_recovered_with_echo() {
    let mut c = RustCrypto::from_os();
    let mut client = derive(b"\x01", b"");
    let mut server_store = MemStore::default();

    // Before the reboot: the server accepts a request, which an attacker records.
    let mut server =
        PersistedContext::<_>::first_boot(derive(b"", b"\x01"), &mut server_store, 16).unwrap();
    let mut out = [0u8; 256];
    let (n, _) = client
        .protect_request(
            &mut c,
            &Message::decode(&post(b"unlock", None)).unwrap(),
            &mut out,
        )
        .unwrap();
    let recorded = out[..n].to_vec();
    let mut plain = [0u8; 256];
    let Ok(Incoming::Request { mut request, .. }) =
        server.unprotect_request(&mut c, &mut recorded.clone(), &mut plain)
    else {
        panic!("accepted before the reboot");
    };
    // It answers with its own Partial IV 0, which is persisted.
    server
        .protect_response(
            &mut c,
            &mut request,
            &Message::decode(&[0x60, 0x44, 1, 1]).unwrap(),
            ResponseNonce::Own,
            &mut out,
        )
        .unwrap();
    drop(server);
    assert_eq!(server_store.value, Some(0));

    // After the reboot the window is gone: the replay verifies, but is challenged, not processed.
    let mut server =
        PersistedContext::<_>::after_reboot(derive(b"", b"\x01"), &mut server_store, 16).unwrap();
    assert!(server.is_recovering());
    let Incoming::EchoChallenge { len } = server
        .unprotect_request(&mut c, &mut recorded.clone(), &mut plain)
        .unwrap()
    else {
        panic!("a replay after reboot must be challenged");
    };
    assert!(server.is_recovering());

    // The client's own first request after the reboot is challenged too; the 4.01 carries Echo
    // and the server's own Partial IV.
    let (n, sent) = client
        .protect_request(
            &mut c,
            &Message::decode(&post(b"unlock", None)).unwrap(),
            &mut out,
        )
        .unwrap();
    let Incoming::EchoChallenge { len: clen } = server
        .unprotect_request(&mut c, &mut out[..n], &mut plain)
        .unwrap()
    else {
        panic!("first request after reboot must be challenged");
    };
    assert!(len > 0);
    let mut resp = [0u8; 256];
    let r = client
        .unprotect_response(&mut c, &sent, &mut plain[..clen], &mut resp)
        .unwrap();
    assert!(
        r.partial_iv.is_some(),
        "the challenge has the server's own Partial IV"
    );
    let challenge = Message::decode(&resp[..r.len]).unwrap();
    assert_eq!(challenge.code(), Code::UNAUTHORIZED);
    assert_eq!(challenge.message_type(), MessageType::Acknowledgement);
    let echo = challenge.option(OptionNumber::ECHO).unwrap().value.to_vec();
    assert_eq!(echo.len(), 8);

    // A wrong Echo value is challenged again.
    let (n, _) = client
        .protect_request(
            &mut c,
            &Message::decode(&post(b"unlock", Some(&[0; 8]))).unwrap(),
            &mut out,
        )
        .unwrap();
    assert!(matches!(
        server.unprotect_request(&mut c, &mut out[..n], &mut plain),
        Ok(Incoming::EchoChallenge { .. })
    ));

    // The retry with the Echo value is fresh and processed; it sets the window's lower limit.
    let (n, _) = client
        .protect_request(
            &mut c,
            &Message::decode(&post(b"unlock", Some(&echo))).unwrap(),
            &mut out,
        )
        .unwrap();
    let fresh = out[..n].to_vec();
    let limit = piv_of(&fresh);
    let Ok(Incoming::Request { len, mut request }) =
        server.unprotect_request(&mut c, &mut fresh.clone(), &mut plain)
    else {
        panic!("the request with Echo must be accepted");
    };
    assert_eq!(
        Message::decode(&plain[..len])
            .unwrap()
            .option(OptionNumber::ECHO)
            .unwrap()
            .value,
        echo
    );
    assert!(!server.is_recovering());
    assert_eq!(server.context().replay_window().highest(), Some(limit));
    // Normal service resumes: the response may reuse the request's nonce again.
    let ok = {
        let mut b = [0u8; 16];
        let w = MessageWriter::new(
            &mut b,
            MessageType::Acknowledgement,
            Code::CHANGED,
            0x0101,
            b"tk",
        )
        .unwrap();
        let n = w.finish();
        b[..n].to_vec()
    };
    server
        .protect_response(
            &mut c,
            &mut request,
            &Message::decode(&ok).unwrap(),
            ResponseNonce::Request,
            &mut out,
        )
        .unwrap();

    // Now every replay is refused outright: the recorded pre-reboot request, the fresh one.
    for replay in [&recorded, &fresh] {
        assert_eq!(
            server.unprotect_request(&mut c, &mut replay.clone(), &mut plain),
            Err(Error::Replay)
        );
    }
}
