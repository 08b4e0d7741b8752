//! The CoAP/UDP endpoints and context folders (`std`) against each other and against scripted
//! peers on 127.0.0.1: retransmission and back-off, deduplication, piggybacked and separate
//! responses, token matching, Block1/Block2, OSCORE required, replays, Echo, and the folders.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::crypto::{RustCrypto, RustCryptoAeadKey};
use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber};
use iot_oscore::context_dir::{ContextDir, ContextDirError, FolderParams};
use iot_oscore::udp::{
    Client, FileHandler, Handler, OscoreContext, Request, RequestInfo, Response, Server,
    ServerConfig, ServerStats, TransmissionParams, TransportError,
};
use iot_oscore::{
    ContextParams, DerivedKeys, PersistedContext, SecurityContext, SequenceNumberStore,
};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Crypto = RustCrypto<getrandom::SysRng>;

const SECRET: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const SALT: [u8; 8] = [0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40];

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn client() -> Client<Crypto> {
    Client::bind(local(), RustCrypto::from_os(), TransmissionParams::fast()).unwrap()
}

/// A store in memory.
#[derive(Debug, Default)]
struct Mem(Option<u64>);

impl SequenceNumberStore for Mem {
    fn load(&mut self) -> iot_oscore::Result<Option<u64>> {
        Ok(self.0)
    }
    fn store(&mut self, v: u64) -> iot_oscore::Result<()> {
        self.0 = Some(v);
        Ok(())
    }
}

/// RFC 8613 C.1 contexts: (client, server).
fn pair() -> (PersistedContext<Mem>, PersistedContext<Mem>) {
    let mut crypto = RustCrypto::<()>::default();
    let c = ContextParams::new(&SECRET, b"", b"\x01").master_salt(&SALT);
    let s = ContextParams::new(&SECRET, b"\x01", b"").master_salt(&SALT);
    (
        PersistedContext::first_boot(
            SecurityContext::derive(&mut crypto, &c).unwrap(),
            Mem::default(),
            8,
        )
        .unwrap(),
        PersistedContext::first_boot(
            SecurityContext::derive(&mut crypto, &s).unwrap(),
            Mem::default(),
            8,
        )
        .unwrap(),
    )
}

/// A handler that answers `2.05 <path>` and counts its calls.
fn echo_path(count: Arc<AtomicUsize>) -> impl Handler + Send + 'static {
    move |r: &Request, _: &RequestInfo| {
        count.fetch_add(1, Ordering::SeqCst);
        Response::new(Code::CONTENT).with_payload(r.path_text().into_bytes())
    }
}

/// A server in a thread, stopped (and its contexts returned) by `stop`.
struct Running<X> {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<(ServerStats, Vec<X>)>>,
}

impl<X: Send + 'static> Running<X> {
    fn start<H: Handler + Send + 'static>(
        handler: H,
        contexts: Vec<X>,
        config: ServerConfig,
    ) -> Self
    where
        X: OscoreContext<Key = RustCryptoAeadKey>,
    {
        let mut server =
            Server::bind(local(), RustCrypto::from_os(), handler, contexts, config).unwrap();
        let addr = server.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            server
                .serve_until(Instant::now() + Duration::from_secs(60), &flag)
                .unwrap();
            let stats = server.stats();
            (stats, server.into_parts().1)
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> (ServerStats, Vec<X>) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl<X> Drop for Running<X> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn fast_config() -> ServerConfig {
    ServerConfig {
        params: TransmissionParams::fast(),
        ..ServerConfig::default()
    }
}

fn get(path: &str) -> Request {
    let mut r = Request::new(Code::GET);
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        r = r.with_option(OptionNumber::URI_PATH, seg.as_bytes());
    }
    r
}

#[test]
fn piggybacked_separate_and_non_confirmable() {
    let count = Arc::new(AtomicUsize::new(0));
    let server = Running::<PersistedContext<Mem>>::start(
        echo_path(Arc::clone(&count)),
        vec![],
        fast_config(),
    );
    let mut c = client();
    let r = c.request(server.addr, &get("/a/b")).unwrap();
    assert_eq!(
        (r.code, r.payload.as_slice()),
        (Code::CONTENT, &b"/a/b"[..])
    );
    let r = c
        .request(server.addr, &get("/n").non_confirmable())
        .unwrap();
    assert_eq!(r.payload, b"/n");
    assert_eq!(c.stats().separate_responses, 0);
    assert_eq!(c.ping(server.addr).map(|_| ()).unwrap(), ());
    let (stats, _) = server.stop();
    assert_eq!(stats.handled, 2);
    assert_eq!(stats.resets, 1, "the ping was answered with a Reset");

    let server = Running::<PersistedContext<Mem>>::start(
        echo_path(Arc::clone(&count)),
        vec![],
        ServerConfig {
            separate: true,
            ..fast_config()
        },
    );
    let r = c.request(server.addr, &get("/sep")).unwrap();
    assert_eq!(r.payload, b"/sep");
    assert_eq!(c.stats().separate_responses, 1);
    // The client acknowledged the separate response: the server does not retransmit it.
    std::thread::sleep(Duration::from_millis(300));
    let (stats, _) = server.stop();
    assert_eq!((stats.separate_responses, stats.retransmissions), (1, 0));
}

/// A relay between a client and `server` that drops the datagrams `drop` picks (by direction,
/// true = towards the server, and index in that direction). Stops after 30 s or on `stop`.
fn lossy_relay(
    server: SocketAddr,
    stop: Arc<AtomicBool>,
    drop: impl Fn(bool, usize) -> bool + Send + 'static,
) -> (SocketAddr, JoinHandle<(usize, usize)>) {
    let front = UdpSocket::bind(local()).unwrap();
    let back = UdpSocket::bind(local()).unwrap();
    let addr = front.local_addr().unwrap();
    front
        .set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    back.set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let t = std::thread::spawn(move || {
        let (mut up, mut down, mut peer) = (0, 0, None);
        let mut buf = vec![0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(30);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            if let Ok((n, from)) = front.recv_from(&mut buf) {
                peer = Some(from);
                if !drop(true, up) {
                    back.send_to(&buf[..n], server).unwrap();
                }
                up += 1;
            }
            if let (Ok((n, _)), Some(p)) = (back.recv_from(&mut buf), peer) {
                if !drop(false, down) {
                    front.send_to(&buf[..n], p).unwrap();
                }
                down += 1;
            }
        }
        (up, down)
    });
    (addr, t)
}

#[test]
fn retransmission_and_deduplication() {
    for oscore in [false, true] {
        let count = Arc::new(AtomicUsize::new(0));
        let (mut cctx, sctx) = pair();
        let contexts = if oscore { vec![sctx] } else { vec![] };
        let server = Running::start(echo_path(Arc::clone(&count)), contexts, fast_config());
        // The first two requests are lost, then the first response: the client retransmits three
        // times; the server handles the request once and answers the duplicate from its cache
        // (with OSCORE, before the replay window could refuse it).
        let stop = Arc::new(AtomicBool::new(false));
        let (relay, t) = lossy_relay(server.addr, Arc::clone(&stop), |up, i| {
            (up && i < 2) || (!up && i == 0)
        });
        let mut c = client();
        let start = Instant::now();
        let r = if oscore {
            c.request_oscore(relay, &get("/x"), &mut cctx).unwrap()
        } else {
            c.request(relay, &get("/x")).unwrap()
        };
        let took = start.elapsed();
        assert_eq!(r.payload, b"/x");
        assert_eq!(c.stats().retransmissions, 3, "oscore {oscore}");
        stop.store(true, Ordering::Relaxed);
        assert_eq!(t.join().unwrap(), (4, 2));
        let (stats, _) = server.stop();
        assert_eq!(
            count.load(Ordering::SeqCst),
            1,
            "oscore {oscore}: handled once"
        );
        assert_eq!(
            (stats.duplicates, stats.oscore_refused),
            (1, 0),
            "{stats:?}"
        );
        // Back-off: timeouts of at least 50, 100 and 200 ms passed before the fourth send.
        assert!(took >= Duration::from_millis(350), "{took:?}");
        assert!(took < Duration::from_millis(3000), "{took:?}");
    }
}

#[test]
fn gives_up_after_max_retransmit() {
    let silent = UdpSocket::bind(local()).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let addr = silent.local_addr().unwrap();
    let counter = std::thread::spawn(move || {
        let mut times = Vec::new();
        let mut buf = [0u8; 512];
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if silent.recv_from(&mut buf).is_ok() {
                times.push(start.elapsed());
            }
        }
        times
    });
    let mut c = client();
    let start = Instant::now();
    let err = c.request(addr, &get("/t")).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, TransportError::Timeout), "{err}");
    let times = counter.join().unwrap();
    // MAX_RETRANSMIT 3: four transmissions, then the last timeout; 50 ms * (1 + 2 + 4 + 8)
    // times a factor in [1, 1.5]. The exact schedule is the unit test
    // `timeouts_double_from_the_drawn_initial_one`. On the wire only bounds from the start hold:
    // a loaded machine wakes the client late, never early, and a late retransmission does not
    // shorten the next wait; the gaps between arrivals also carry the receiving thread's own
    // lateness, so they are not checked one by one. Transmission i comes at least
    // 50 ms * (2^i - 1) after the counter started, which was before the client.
    assert_eq!(times.len(), 4, "{times:?}");
    for (i, t) in times.iter().enumerate() {
        assert!(
            *t >= Duration::from_millis(50 * ((1 << i) - 1)),
            "{i}: {times:?}"
        );
    }
    assert!(
        took >= Duration::from_millis(750) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert_eq!(c.stats().retransmissions, 3);
}

/// A scripted peer: answers the first request it gets with `script(request)` datagrams, and
/// returns everything it received afterwards within 300 ms.
fn scripted(
    script: impl Fn(&Message<'_>) -> Vec<Vec<u8>> + Send + 'static,
) -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
    let s = UdpSocket::bind(local()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let addr = s.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let (n, from) = s.recv_from(&mut buf).unwrap();
        let req = buf[..n].to_vec();
        for d in script(&Message::decode(&req).unwrap()) {
            s.send_to(&d, from).unwrap();
        }
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut after = Vec::new();
        while let Ok((n, _)) = s.recv_from(&mut buf) {
            after.push(buf[..n].to_vec());
        }
        after
    });
    (addr, t)
}

fn msg(t: MessageType, code: Code, mid: u16, token: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let w = MessageWriter::new(&mut buf, t, code, mid, token).unwrap();
    let n = w.payload(payload).unwrap();
    buf[..n].to_vec()
}

#[test]
fn responses_are_matched_by_message_id_and_token() {
    let (addr, t) = scripted(|req| {
        let (mid, tok) = (req.message_id(), req.token().to_vec());
        vec![
            // A stray confirmable response with another token: the client rejects it (RST).
            msg(MessageType::Confirmable, Code::CONTENT, 7, b"zz", b"stray"),
            // A piggybacked response with the right ID but another token: ignored.
            msg(
                MessageType::Acknowledgement,
                Code::CONTENT,
                mid,
                b"zz",
                b"wrong",
            ),
            // The empty ACK, then the separate confirmable response.
            msg(MessageType::Acknowledgement, Code::EMPTY, mid, b"", b""),
            msg(MessageType::Confirmable, Code::CONTENT, 99, &tok, b"right"),
        ]
    });
    let mut c = client();
    let r = c.request(addr, &get("/m")).unwrap();
    assert_eq!(r.payload, b"right");
    assert_eq!(c.stats().separate_responses, 1);
    let after = t.join().unwrap();
    let kinds: Vec<(MessageType, u16)> = after
        .iter()
        .map(|d| {
            let m = Message::decode(d).unwrap();
            assert!(m.code().is_empty());
            (m.message_type(), m.message_id())
        })
        .collect();
    assert_eq!(
        kinds,
        [(MessageType::Reset, 7), (MessageType::Acknowledgement, 99)]
    );

    let (addr, t) = scripted(|req| {
        vec![msg(
            MessageType::Reset,
            Code::EMPTY,
            req.message_id(),
            b"",
            b"",
        )]
    });
    let err = client().request(addr, &get("/r")).unwrap_err();
    assert!(matches!(err, TransportError::Reset), "{err}");
    t.join().unwrap();
}

#[test]
fn oscore_is_required_and_replays_are_refused() {
    let count = Arc::new(AtomicUsize::new(0));
    let (mut cctx, sctx) = pair();
    let server = Running::start(echo_path(Arc::clone(&count)), vec![sctx], fast_config());
    let mut c = client();
    // Unprotected: 4.01.
    let r = c.request(server.addr, &get("/p")).unwrap();
    assert_eq!(
        (r.code, r.payload.as_slice()),
        (Code::UNAUTHORIZED, &b"OSCORE required"[..])
    );
    assert_eq!(r.option(OptionNumber::MAX_AGE), Some(&[][..]), "Max-Age 0");
    // Protected: served.
    let r = c
        .request_oscore(server.addr, &get("/p"), &mut cctx)
        .unwrap();
    assert_eq!((r.code, r.payload.as_slice()), (Code::CONTENT, &b"/p"[..]));
    // A context the server does not have (another Sender ID).
    let mut crypto = RustCrypto::<()>::default();
    let other = ContextParams::new(&SECRET, b"\x07", b"\x01").master_salt(&SALT);
    let mut other = PersistedContext::first_boot(
        SecurityContext::<32>::derive(&mut crypto, &other).unwrap(),
        Mem::default(),
        8,
    )
    .unwrap();
    let err = c
        .request_oscore(server.addr, &get("/p"), &mut other)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unprotected 4.01 Unauthorized response: Security context not found"
    );

    // A replay of a protected request, with a new message ID so deduplication cannot hide it.
    let mut plain = [0u8; 64];
    let mut w = MessageWriter::new(
        &mut plain,
        MessageType::Confirmable,
        Code::GET,
        0x1000,
        b"t1",
    )
    .unwrap();
    w.option(OptionNumber::URI_PATH, b"p").unwrap();
    let n = w.finish();
    let mut wire = [0u8; 128];
    let (len, _) = cctx
        .protect_request(
            &mut crypto,
            &Message::decode(&plain[..n]).unwrap(),
            &mut wire,
        )
        .unwrap();
    let raw = UdpSocket::bind(local()).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 512];
    let mut codes = Vec::new();
    for mid in [0x1000u16, 0x2000] {
        let mut d = wire[..len].to_vec();
        d[2..4].copy_from_slice(&mid.to_be_bytes());
        raw.send_to(&d, server.addr).unwrap();
        let (m, _) = raw.recv_from(&mut buf).unwrap();
        let reply = Message::decode(&buf[..m]).unwrap();
        assert_eq!(reply.message_id(), mid);
        codes.push((reply.code(), reply.payload().to_vec()));
    }
    assert_eq!(
        codes[0].0,
        Code::CHANGED,
        "the first is served (protected, outer 2.04)"
    );
    assert_eq!(codes[1], (Code::UNAUTHORIZED, b"Replay detected".to_vec()));
    let (stats, _) = server.stop();
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(
        (stats.unprotected_refused, stats.oscore_refused),
        (1, 2),
        "{stats:?}"
    );

    // A server without OSCORE refuses the critical OSCORE option.
    let server = Running::<PersistedContext<Mem>>::start(echo_path(count), vec![], fast_config());
    let err = c
        .request_oscore(server.addr, &get("/p"), &mut cctx)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("unprotected 4.02 Bad Option"),
        "{err}"
    );
}

#[test]
fn blockwise_both_ways_with_oscore() {
    let root = tempfile::tempdir().unwrap();
    let (mut cctx, sctx) = pair();
    let server = Running::start(
        FileHandler::new(root.path(), true).unwrap(),
        vec![sctx],
        fast_config(),
    );
    let mut c = client();
    let body: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let put = Request {
        method: Code::PUT,
        ..get("/blob")
    }
    .with_payload(body.clone());
    let r = c.request_oscore(server.addr, &put, &mut cctx).unwrap();
    assert_eq!(r.code, Code::CREATED);
    assert_eq!(std::fs::read(root.path().join("blob")).unwrap(), body);
    let r = c
        .request_oscore(server.addr, &get("/blob"), &mut cctx)
        .unwrap();
    assert_eq!((r.code, r.payload.len()), (Code::CONTENT, 5000));
    assert_eq!(r.payload, body);
    assert!(r.option(OptionNumber::BLOCK2).is_none());
    // 5 Block1 requests and 5 Block2 requests, each its own OSCORE request.
    assert_eq!(cctx.context().sender_sequence_number(), 10);
    let r = c
        .request_oscore(server.addr, &put.clone(), &mut cctx)
        .unwrap();
    assert_eq!(r.code, Code::CHANGED);
    // Paths stay inside the root.
    std::fs::write(root.path().join("..").join("outside-secret"), b"no").ok();
    for bad in ["..", "."] {
        let r = c
            .request_oscore(
                server.addr,
                &get("/").with_option(OptionNumber::URI_PATH, bad),
                &mut cctx,
            )
            .unwrap();
        assert_eq!(r.code, Code::NOT_FOUND, "{bad}");
    }
    let r = c
        .request_oscore(
            server.addr,
            &get("/").with_option(OptionNumber::URI_PATH, "a/../../x"),
            &mut cctx,
        )
        .unwrap();
    assert_eq!(r.code, Code::NOT_FOUND);
    #[cfg(unix)]
    {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("s"), b"secret").unwrap();
        std::os::unix::fs::symlink(outside.path().join("s"), root.path().join("link")).unwrap();
        let r = c
            .request_oscore(server.addr, &get("/link"), &mut cctx)
            .unwrap();
        assert_eq!(r.code, Code::NOT_FOUND, "a symbolic link out of the root");
    }
    let r = c
        .request_oscore(
            server.addr,
            &Request::new(Code::DELETE).with_option(OptionNumber::URI_PATH, "blob"),
            &mut cctx,
        )
        .unwrap();
    assert_eq!(r.code, Code::METHOD_NOT_ALLOWED);
}

fn write_folder(dir: &Path, settings: &str, secret: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("settings.json"), settings).unwrap();
    std::fs::write(dir.join("secret.json"), secret).unwrap();
}

const SECRET_JSON: &str =
    r#"{"secret_hex": "0102030405060708090a0b0c0d0e0f10", "salt_hex": "9e7ca92223786340"}"#;

#[test]
fn context_folders_load_like_aiocoap() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    write_folder(
        &dir,
        r#"{"algorithm": "AES-CCM-16-64-128", "sender-id_hex": "", "recipient-id_hex": "01"}"#,
        SECRET_JSON,
    );
    // RFC 8613 C.1.1: the client's keys.
    let p = FolderParams::read(&dir).unwrap();
    let ctx = p.derive(&mut RustCrypto::<()>::default()).unwrap();
    let keys = DerivedKeys::derive(&mut RustCrypto::<()>::default(), &p.context_params()).unwrap();
    assert_eq!(
        hex::encode(keys.sender_key()),
        "f0910ed7295e6ad4b54fc793154302ff"
    );
    assert_eq!(
        hex::encode(keys.recipient_key()),
        "ffb14e093c94c9cac9471648b4f98710"
    );
    assert_eq!(hex::encode(ctx.common_iv()), "4622d4dd6d944168eefb54987c");

    // ASCII forms and algorithm 24 by name.
    write_folder(
        &tmp.path().join("ascii"),
        r#"{"algorithm": "ChaCha20/Poly1305", "sender-id_ascii": "dev", "recipient-id_ascii": "gw"}"#,
        r#"{"secret_ascii": "correct horse battery staple"}"#,
    );
    let p = FolderParams::read(&tmp.path().join("ascii")).unwrap();
    assert_eq!(
        (p.sender_id.as_slice(), p.master_salt.len()),
        (&b"dev"[..], 0)
    );

    let cases: [(&str, &str, &str); 7] = [
        (
            r#"{"sender-id_hex": "", "recipient-id_hex": "01"}"#,
            "{}",
            "'secret'",
        ),
        (
            r#"{"sender-id_hex": "", "recipient-id_hex": "0g"}"#,
            SECRET_JSON,
            "recipient-id_hex",
        ),
        (
            r#"{"sender-id_hex": "", "recipient-id_hex": "01", "salt_hex": "00"}"#,
            SECRET_JSON,
            "more than one file",
        ),
        (
            r#"{"algorithm": "AES-CCM-16-64-256", "sender-id_hex": "", "recipient-id_hex": "01"}"#,
            SECRET_JSON,
            "not supported",
        ),
        (
            r#"{"sender-id": "", "recipient-id_hex": "01"}"#,
            SECRET_JSON,
            "sender-id_hex",
        ),
        (
            r#"{"sender-id_hex": "", "recipient-id_hex": "01", "window": 64}"#,
            SECRET_JSON,
            "window",
        ),
        (r#"[1]"#, SECRET_JSON, "not a JSON object"),
    ];
    for (i, (settings, secret, needle)) in cases.iter().enumerate() {
        let d = tmp.path().join(format!("bad{i}"));
        write_folder(&d, settings, secret);
        let e = FolderParams::read(&d).unwrap_err();
        assert!(matches!(e, ContextDirError::Invalid { .. }), "{e}");
        assert!(e.to_string().contains(needle), "case {i}: {e}");
    }
    // Equal Sender and Recipient IDs make no context (RFC 8613 section 3.3).
    let d = tmp.path().join("same");
    write_folder(
        &d,
        r#"{"sender-id_hex": "01", "recipient-id_hex": "01"}"#,
        SECRET_JSON,
    );
    let e = ContextDir::open(&mut RustCrypto::<()>::default(), &d).unwrap_err();
    assert!(matches!(e, ContextDirError::Oscore(_)), "{e}");
}

#[test]
fn context_folders_persist_sequence_numbers_and_the_window() {
    let tmp = tempfile::tempdir().unwrap();
    let client_dir = tmp.path().join("client");
    let server_dir = tmp.path().join("server");
    write_folder(
        &client_dir,
        r#"{"sender-id_hex": "", "recipient-id_hex": "01"}"#,
        SECRET_JSON,
    );
    write_folder(
        &server_dir,
        r#"{"sender-id_hex": "01", "recipient-id_hex": ""}"#,
        SECRET_JSON,
    );
    let mut crypto = RustCrypto::from_os();
    let seq = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join("sequence.json")).unwrap()).unwrap()
    };

    let mut cdir = ContextDir::open_with_k(&mut crypto, &client_dir, 4).unwrap();
    // The folder is locked while open.
    let e = ContextDir::open(&mut crypto, &client_dir).unwrap_err();
    assert!(matches!(e, ContextDirError::Locked { .. }), "{e}");
    assert_eq!(seq(&client_dir)["received"], "unknown");

    let count = Arc::new(AtomicUsize::new(0));
    let sdir = ContextDir::open(&mut crypto, &server_dir).unwrap();
    let server = Running::start(echo_path(Arc::clone(&count)), vec![sdir], fast_config());
    let mut c = client();
    for i in 0..5 {
        let r = c
            .request_oscore(server.addr, &get("/s"), cdir.persisted_mut())
            .unwrap();
        assert_eq!(r.payload, b"/s");
        // Reserved in steps of K = 4 before use: 0 -> 4, 4 -> 8.
        let stored = seq(&client_dir)["next-to-send"].as_u64().unwrap();
        assert_eq!(stored, if i < 4 { 4 } else { 8 }, "after request {i}");
    }
    // What a crash would leave of the server's folder.
    let crashed = std::fs::read(server_dir.join("sequence.json")).unwrap();
    let (_, contexts) = server.stop();
    for d in contexts {
        d.close().unwrap();
    }
    cdir.close().unwrap();
    assert_eq!(
        seq(&client_dir)["next-to-send"],
        5,
        "a clean close saves the exact number"
    );
    let s = seq(&server_dir);
    assert_eq!(
        (&s["received"]["index"], &s["received"]["bitfield"]),
        (&0.into(), &0b11111.into())
    );

    // Reopened cleanly, both resume: the server accepts the next request without Echo.
    let mut cdir = ContextDir::open(&mut crypto, &client_dir).unwrap();
    assert_eq!(cdir.context().sender_sequence_number(), 5);
    let sdir = ContextDir::open(&mut crypto, &server_dir).unwrap();
    assert!(!sdir.is_recovering());
    let server = Running::start(echo_path(Arc::clone(&count)), vec![sdir], fast_config());
    c.request_oscore(server.addr, &get("/s"), cdir.persisted_mut())
        .unwrap();
    let (stats, contexts) = server.stop();
    assert_eq!(stats.echo_challenges, 0);
    drop(contexts);

    // After a crash the server recovers its window with Echo; our client answers it.
    std::fs::write(server_dir.join("sequence.json"), crashed).unwrap();
    let sdir = ContextDir::open(&mut crypto, &server_dir).unwrap();
    assert!(sdir.is_recovering());
    let server = Running::start(echo_path(Arc::clone(&count)), vec![sdir], fast_config());
    let r = c
        .request_oscore(server.addr, &get("/e"), cdir.persisted_mut())
        .unwrap();
    assert_eq!(r.payload, b"/e");
    assert_eq!(c.stats().echo_retries, 1);
    let (stats, _) = server.stop();
    assert_eq!((stats.echo_challenges, stats.handled), (1, 1));

    // A window as aiocoap saves it: index 3, bits 0 and 2 (3 and 5 seen).
    drop(cdir);
    std::fs::write(
        server_dir.join("sequence.json"),
        r#"{"next-to-send": 17, "received": {"index": 3, "bitfield": 5}}"#,
    )
    .unwrap();
    let sdir = ContextDir::open(&mut crypto, &server_dir).unwrap();
    let ctx = sdir.context();
    assert_eq!(ctx.sender_sequence_number(), 17);
    let w = ctx.replay_window();
    let ok: Vec<bool> = (0..8).map(|s| w.check(s).is_ok()).collect();
    assert_eq!(ok, [false, false, false, false, true, false, true, true]);
}
