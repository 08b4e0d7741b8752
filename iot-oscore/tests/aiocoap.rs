//! Interoperation with aiocoap as a real peer (RFC 8613 over CoAP/UDP on loopback).
//!
//! Runs only when `IOT_AIOCOAP_BIN` names the bin folder of a virtual environment with
//! `aiocoap[oscore]` (`bash .ci/python-peers.sh` makes one at `.venv`); otherwise each test prints
//! that it skipped and why. The security-context folders are copies of
//! `oscore/aiocoap-contexts/{a,b,c,d}` from the shared vectors (RFC 8613 C.1 and C.3), with the
//! algorithm edited, in a temporary folder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::crypto::RustCrypto;
use iot_oscore::coap::{Code, Message, OptionNumber};
use iot_oscore::context_dir::ContextDir;
use iot_oscore::udp::{
    Client, CoapUri, FileHandler, Notifier, Request, Server, ServerConfig, ServerStats,
    TransmissionParams,
};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// aiocoap's algorithm names for COSE algorithms 10 and 24.
const ALGORITHMS: [&str; 2] = ["AES-CCM-16-64-128", "ChaCha20/Poly1305"];
/// Client and server template folders: without ID context (C.1), with one (C.3).
const PAIRS: [(&str, &str, bool); 2] = [("a", "b", false), ("c", "d", true)];

/// The aiocoap bin folder and the context templates, or `None` after printing why not.
fn setup(test: &str) -> Option<(PathBuf, PathBuf)> {
    let Some(bin) = std::env::var_os("IOT_AIOCOAP_BIN").map(PathBuf::from) else {
        eprintln!(
            "skipped {test}: IOT_AIOCOAP_BIN is not set (run `bash .ci/python-peers.sh` and set it \
             to $PWD/.venv/bin to test against aiocoap)"
        );
        return None;
    };
    for tool in ["aiocoap-client", "aiocoap-fileserver"] {
        assert!(
            bin.join(tool).is_file(),
            "IOT_AIOCOAP_BIN={} has no {tool}",
            bin.display()
        );
    }
    let templates = iot_test_vectors::path("oscore/aiocoap-contexts")?;
    Some((bin, templates))
}

/// A child process killed and reaped when dropped.
struct Peer {
    child: Child,
    log: PathBuf,
}

impl Peer {
    fn spawn(cmd: &mut Command, log: PathBuf) -> Self {
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap();
        Self { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: a crash, leaving aiocoap no chance to save its state.
    fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies template `name` into `tmp/label` with `algorithm` set; returns the folder.
fn context(templates: &Path, name: &str, tmp: &Path, label: &str, algorithm: &str) -> PathBuf {
    let dir = tmp.join(label);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        templates.join(name).join("secret.json"),
        dir.join("secret.json"),
    )
    .unwrap();
    let text = std::fs::read_to_string(templates.join(name).join("settings.json")).unwrap();
    let mut settings: serde_json::Value = serde_json::from_str(&text).unwrap();
    settings["algorithm"] = algorithm.into();
    std::fs::write(dir.join("settings.json"), settings.to_string()).unwrap();
    dir
}

/// An unused UDP port on 127.0.0.1 (free when checked; the peer binds it right after).
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client(params: TransmissionParams) -> Client<RustCrypto<getrandom::SysRng>> {
    Client::bind(
        "127.0.0.1:0".parse().unwrap(),
        RustCrypto::from_os(),
        params,
    )
    .unwrap()
}

/// Timers for talking to a Python peer on loopback: quick, with room for its start-up.
fn params() -> TransmissionParams {
    TransmissionParams {
        ack_timeout: Duration::from_millis(300),
        response_timeout: Duration::from_secs(10),
        ..TransmissionParams::fast()
    }
}

/// Starts `aiocoap-fileserver` on `root` with the server context `ctx`; waits (at most 20 s)
/// until it answers a CoAP ping.
fn fileserver(bin: &Path, tmp: &Path, root: &Path, ctx: &Path, write: bool) -> (Peer, SocketAddr) {
    let creds = tmp.join("fileserver-credentials.json");
    let c =
        serde_json::json!({ ":ours": { "oscore": { "basedir": format!("{}/", ctx.display()) } } });
    std::fs::write(&creds, c.to_string()).unwrap();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut cmd = Command::new(bin.join("aiocoap-fileserver"));
    cmd.arg("--bind")
        .arg(addr.to_string())
        .arg("--credentials")
        .arg(&creds);
    if write {
        cmd.arg("--write");
    }
    cmd.arg(root);
    let peer = Peer::spawn(&mut cmd, tmp.join("fileserver.log"));
    let mut pinger = client(TransmissionParams::fast());
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if pinger.ping(addr).is_ok() {
            return (peer, addr);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("aiocoap-fileserver did not come up: {}", peer.log());
}

/// Runs `aiocoap-client` (at most 30 s) with credentials for `ctx` (none when `None`).
fn aiocoap_client(bin: &Path, tmp: &Path, uri: &str, ctx: Option<&Path>, extra: &[&str]) -> Output {
    let mut cmd = Command::new(bin.join("aiocoap-client"));
    if let Some(ctx) = ctx {
        let creds = tmp.join("client-credentials.json");
        let pattern = format!("{}*", uri.rsplit_once('/').unwrap().0.to_owned() + "/");
        let c = serde_json::json!({ pattern: { "oscore": { "basedir": format!("{}/", ctx.display()) } } });
        std::fs::write(&creds, c.to_string()).unwrap();
        cmd.arg("--credentials").arg(&creds);
    }
    cmd.args(extra).arg(uri);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "aiocoap-client {uri} hung: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Our file server on 127.0.0.1 in a thread, requiring OSCORE with the context folder `ctx`.
struct OurServer {
    addr: SocketAddr,
    notifier: Notifier,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<ServerStats>>,
}

impl OurServer {
    fn start(root: &Path, ctx: &Path) -> Self {
        let mut crypto = RustCrypto::from_os();
        let dir = ContextDir::open(&mut crypto, ctx).unwrap();
        let config = ServerConfig {
            params: TransmissionParams::fast(),
            ..ServerConfig::default()
        };
        let mut server = Server::bind(
            "127.0.0.1:0".parse().unwrap(),
            crypto,
            FileHandler::new(root, true).unwrap(),
            vec![dir],
            config,
        )
        .unwrap();
        let addr = server.local_addr().unwrap();
        let notifier = server.notifier().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            server.serve_until(deadline, &flag).unwrap();
            let stats = server.stats();
            let (_, contexts) = server.into_parts();
            for c in contexts {
                c.close().unwrap();
            }
            stats
        });
        Self {
            addr,
            notifier,
            stop,
            thread: Some(thread),
        }
    }

    fn uri(&self, path: &str) -> String {
        format!("coap://{}/{path}", self.addr)
    }

    /// Stops the server, closes its context folder, and returns what it counted.
    fn stop(mut self) -> ServerStats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for OurServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

#[test]
fn our_client_fetches_from_aiocoap_fileserver() {
    let Some((bin, templates)) = setup("our_client_fetches_from_aiocoap_fileserver") else {
        return;
    };
    for alg in ALGORITHMS {
        for (client_t, server_t, id_context) in PAIRS {
            let what = format!("{alg}, ID context {id_context}");
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("root");
            std::fs::create_dir(&root).unwrap();
            std::fs::write(root.join("hello.txt"), b"Hello from aiocoap\n").unwrap();
            std::fs::write(root.join("big.bin"), body(3000)).unwrap();
            let server_ctx = context(&templates, server_t, tmp.path(), "server", alg);
            let client_ctx = context(&templates, client_t, tmp.path(), "client", alg);
            let (fs, addr) = fileserver(&bin, tmp.path(), &root, &server_ctx, true);

            let mut crypto = RustCrypto::from_os();
            let mut dir = ContextDir::open(&mut crypto, &client_ctx).unwrap();
            assert_eq!(dir.context().id_context().is_some(), id_context);
            let mut c = client(params());
            let get = |path: &str| {
                Request::for_uri(
                    Code::GET,
                    &CoapUri::parse(&format!("coap://{addr}/{path}")).unwrap(),
                )
            };
            let r = c
                .request_oscore(addr, &get("hello.txt"), dir.persisted_mut())
                .unwrap_or_else(|e| panic!("{what}: {e}; fileserver: {}", fs.log()));
            assert_eq!(r.code, Code::CONTENT, "{what}");
            assert_eq!(r.payload, b"Hello from aiocoap\n", "{what}");

            // Block2 through OSCORE: three blocks of 1024.
            let r = c
                .request_oscore(addr, &get("big.bin"), dir.persisted_mut())
                .unwrap();
            assert_eq!((r.code, r.payload.len()), (Code::CONTENT, 3000), "{what}");
            assert_eq!(r.payload, body(3000), "{what}");

            // A missing file: a protected 4.04.
            let r = c
                .request_oscore(addr, &get("missing"), dir.persisted_mut())
                .unwrap();
            assert_eq!(r.code, Code::NOT_FOUND, "{what}");

            // PUT, Block1 through OSCORE (2500 bytes in three blocks).
            let put = get("upload.bin").with_payload(body(2500));
            let put = Request {
                method: Code::PUT,
                ..put
            };
            let r = c
                .request_oscore(addr, &put, dir.persisted_mut())
                .unwrap_or_else(|e| panic!("{what}: PUT: {e}; fileserver: {}", fs.log()));
            assert!(
                r.code == Code::CREATED || r.code == Code::CHANGED,
                "{what}: PUT got {}",
                r.code
            );
            assert_eq!(std::fs::read(root.join("upload.bin")).unwrap(), body(2500));

            // Without OSCORE, our client sees the plain file server (aiocoap serves unprotected
            // requests too); with a wrong key, aiocoap cannot verify and says so unprotected.
            let next = dir.context().sender_sequence_number();
            assert_eq!(next, 8, "{what}: 1 + 3 blocks + 1 + 3 blocks protected");
            dir.close().unwrap();
            let seq: serde_json::Value =
                serde_json::from_slice(&std::fs::read(client_ctx.join("sequence.json")).unwrap())
                    .unwrap();
            assert_eq!(seq["next-to-send"], next, "{what}");

            let wrong = context(&templates, client_t, tmp.path(), "wrong", alg);
            let mut secret: serde_json::Value =
                serde_json::from_slice(&std::fs::read(wrong.join("secret.json")).unwrap()).unwrap();
            secret["secret_hex"] = "00112233445566778899aabbccddeeff".into();
            std::fs::write(wrong.join("secret.json"), secret.to_string()).unwrap();
            let mut wrong_dir = ContextDir::open(&mut crypto, &wrong).unwrap();
            let err = c
                .request_oscore(addr, &get("hello.txt"), wrong_dir.persisted_mut())
                .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("4.00") && text.contains("Decryption failed"),
                "{what}: {text}"
            );
            drop(fs);
        }
    }
}

#[test]
fn our_client_answers_aiocoap_echo_after_its_crash() {
    let Some((bin, templates)) = setup("our_client_answers_aiocoap_echo_after_its_crash") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("t"), b"21.5").unwrap();
    let server_ctx = context(&templates, "b", tmp.path(), "server", ALGORITHMS[0]);
    let client_ctx = context(&templates, "a", tmp.path(), "client", ALGORITHMS[0]);
    let mut crypto = RustCrypto::from_os();
    let mut dir = ContextDir::open(&mut crypto, &client_ctx).unwrap();
    let mut c = client(params());
    let (fs, addr) = fileserver(&bin, tmp.path(), &root, &server_ctx, false);
    let get = Request::for_uri(
        Code::GET,
        &CoapUri::parse(&format!("coap://{addr}/t")).unwrap(),
    );
    let r = c.request_oscore(addr, &get, dir.persisted_mut()).unwrap();
    assert_eq!(r.payload, b"21.5");
    assert_eq!(c.stats().echo_retries, 0);
    fs.crash();
    std::fs::remove_file(server_ctx.join("lock")).ok();
    let (fs, addr2) = fileserver(&bin, tmp.path(), &root, &server_ctx, false);
    let get = Request::for_uri(
        Code::GET,
        &CoapUri::parse(&format!("coap://{addr2}/t")).unwrap(),
    );
    let r = c
        .request_oscore(addr2, &get, dir.persisted_mut())
        .unwrap_or_else(|e| panic!("{e}; fileserver: {}", fs.log()));
    assert_eq!(
        (r.code, r.payload.as_slice()),
        (Code::CONTENT, &b"21.5"[..])
    );
    assert_eq!(
        c.stats().echo_retries,
        1,
        "aiocoap recovers its replay window with Echo after a crash (RFC 8613 B.1.2)"
    );
}

#[test]
fn aiocoap_client_fetches_from_our_server() {
    let Some((bin, templates)) = setup("aiocoap_client_fetches_from_our_server") else {
        return;
    };
    for alg in ALGORITHMS {
        for (client_t, server_t, id_context) in PAIRS {
            let what = format!("{alg}, ID context {id_context}");
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("root");
            std::fs::create_dir(&root).unwrap();
            std::fs::write(root.join("temp"), b"21.5 C").unwrap();
            std::fs::write(root.join("big.bin"), body(2600)).unwrap();
            let server_ctx = context(&templates, server_t, tmp.path(), "server", alg);
            let client_ctx = context(&templates, client_t, tmp.path(), "client", alg);
            let server = OurServer::start(&root, &server_ctx);

            let out = aiocoap_client(
                &bin,
                tmp.path(),
                &server.uri("temp"),
                Some(&client_ctx),
                &[],
            );
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim_end(),
                "21.5 C",
                "{what}"
            );

            let out = aiocoap_client(
                &bin,
                tmp.path(),
                &server.uri("big.bin"),
                Some(&client_ctx),
                &[],
            );
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.stdout.len(), 2600, "{what}: Block2 through OSCORE");

            let out = aiocoap_client(
                &bin,
                tmp.path(),
                &server.uri("put.txt"),
                Some(&client_ctx),
                &["-m", "PUT", "--payload", "from aiocoap"],
            );
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                std::fs::read(root.join("put.txt")).unwrap(),
                b"from aiocoap"
            );

            // Non-confirmable, protected.
            let out = aiocoap_client(
                &bin,
                tmp.path(),
                &server.uri("temp"),
                Some(&client_ctx),
                &["--non"],
            );
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim_end(),
                "21.5 C",
                "{what}"
            );

            // Unprotected: our server requires OSCORE.
            let out = aiocoap_client(&bin, tmp.path(), &server.uri("temp"), None, &[]);
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(all.contains("4.01"), "{what}: {all}");
            assert!(!all.contains("21.5"), "{what}: {all}");

            let stats = server.stop();
            assert_eq!(stats.handled, 6, "{what}: 1 + 3 blocks + 1 + 1: {stats:?}");
            assert_eq!(stats.unprotected_refused, 1, "{what}: {stats:?}");
            assert_eq!(stats.oscore_refused, 0, "{what}: {stats:?}");
        }
    }
}

/// Relays datagrams between a client and `server`, recording what the client sent. Stops when
/// `stop` is set or after 60 s.
fn relay(server: SocketAddr, stop: Arc<AtomicBool>) -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
    let front = UdpSocket::bind("127.0.0.1:0").unwrap();
    let back = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = front.local_addr().unwrap();
    front
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    back.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let thread = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut client = None;
        let mut buf = vec![0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(60);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            if let Ok((n, from)) = front.recv_from(&mut buf) {
                client = Some(from);
                seen.push(buf[..n].to_vec());
                back.send_to(&buf[..n], server).unwrap();
            }
            if let (Ok((n, _)), Some(c)) = (back.recv_from(&mut buf), client) {
                front.send_to(&buf[..n], c).unwrap();
            }
        }
        seen
    });
    (addr, thread)
}

#[test]
fn our_server_refuses_a_replayed_aiocoap_request() {
    let Some((bin, templates)) = setup("our_server_refuses_a_replayed_aiocoap_request") else {
        return;
    };
    for (client_t, server_t, id_context) in PAIRS {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("temp"), b"21.5 C").unwrap();
        let server_ctx = context(&templates, server_t, tmp.path(), "server", ALGORITHMS[1]);
        let client_ctx = context(&templates, client_t, tmp.path(), "client", ALGORITHMS[1]);
        let server = OurServer::start(&root, &server_ctx);
        let stop = Arc::new(AtomicBool::new(false));
        let (front, recorder) = relay(server.addr, Arc::clone(&stop));

        let uri = format!("coap://{front}/temp");
        let out = aiocoap_client(&bin, tmp.path(), &uri, Some(&client_ctx), &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "21.5 C");
        stop.store(true, Ordering::Relaxed);
        let recorded = recorder.join().unwrap();
        let request = recorded
            .iter()
            .find(|d| {
                Message::decode(d).is_ok_and(|m| {
                    m.code().is_request() && m.option(OptionNumber::OSCORE).is_some()
                })
            })
            .expect("a protected request went through the relay")
            .clone();
        let m = Message::decode(&request).unwrap();
        let option = m.option(OptionNumber::OSCORE).unwrap().value;
        assert_eq!(
            option[0] & 0x10 != 0,
            id_context,
            "kid context flag in the OSCORE option"
        );
        // The attacker replays it: as recorded from another address, and with a new message ID
        // (so that no deduplication can hide the replay).
        let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();
        attacker
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut renumbered = request.clone();
        renumbered[2] ^= 0x5a;
        for datagram in [&request, &renumbered] {
            attacker.send_to(datagram, server.addr).unwrap();
            let mut buf = [0u8; 2048];
            let (n, _) = attacker.recv_from(&mut buf).unwrap();
            let m = Message::decode(&buf[..n]).unwrap();
            assert_eq!(m.code(), Code::UNAUTHORIZED, "replay answered {}", m.code());
            assert_eq!(m.payload(), b"Replay detected");
            assert!(
                m.option(OptionNumber::OSCORE).is_none(),
                "error is unprotected"
            );
        }
        let stats = server.stop();
        assert_eq!(
            stats.handled, 1,
            "the replays reached no handler: {stats:?}"
        );
        assert_eq!(stats.oscore_refused, 2, "{stats:?}");
    }
}

#[test]
fn aiocoap_client_answers_our_echo_after_a_crash() {
    let Some((bin, templates)) = setup("aiocoap_client_answers_our_echo_after_a_crash") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("temp"), b"21.5 C").unwrap();
    let server_ctx = context(&templates, "b", tmp.path(), "server", ALGORITHMS[0]);
    let client_ctx = context(&templates, "a", tmp.path(), "client", ALGORITHMS[0]);

    let server = OurServer::start(&root, &server_ctx);
    let out = aiocoap_client(
        &bin,
        tmp.path(),
        &server.uri("temp"),
        Some(&client_ctx),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What a crash leaves behind: sequence.json as it is while the folder is open.
    let while_open = std::fs::read(server_ctx.join("sequence.json")).unwrap();
    assert!(String::from_utf8_lossy(&while_open).contains("unknown"));
    let stats = server.stop();
    assert_eq!(stats.echo_challenges, 0);
    let closed = std::fs::read_to_string(server_ctx.join("sequence.json")).unwrap();
    assert!(
        closed.contains("bitfield"),
        "a clean close saves the window: {closed}"
    );

    // A clean restart needs no Echo.
    let server = OurServer::start(&root, &server_ctx);
    let out = aiocoap_client(
        &bin,
        tmp.path(),
        &server.uri("temp"),
        Some(&client_ctx),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.stop().echo_challenges, 0);

    // After a crash the window is unknown: aiocoap answers our 4.01 Echo and gets the file.
    std::fs::write(server_ctx.join("sequence.json"), &while_open).unwrap();
    let server = OurServer::start(&root, &server_ctx);
    let out = aiocoap_client(
        &bin,
        tmp.path(),
        &server.uri("temp"),
        Some(&client_ctx),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "21.5 C");
    let stats = server.stop();
    assert_eq!(stats.echo_challenges, 1, "{stats:?}");
    assert_eq!(stats.handled, 1, "{stats:?}");
}

/// Waits (at most 20 s) until `peer`'s output contains `text`.
fn wait_for(peer: &Peer, text: &str, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if peer.log().contains(text) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}: no {text:?} from the aiocoap peer: {}", peer.log());
}

/// An aiocoap observer: aiocoap-client 0.4.17 prints no notification after the first response
/// (aiocoap issue 395), so a few lines on aiocoap's API instead. It prints the first response
/// and `count` notifications, one a line, then exits.
const AIOCOAP_OBSERVER: &str = r#"
import asyncio, json, sys
from aiocoap import Context, Message, GET

async def main(uri, credentials, count):
    ctx = await Context.create_client_context()
    with open(credentials) as f:
        ctx.client_credentials.load_from_dict(json.load(f))
    requester = ctx.request(Message(code=GET, uri=uri, observe=0))
    first = await requester.response
    print(first.code, first.payload.decode(), flush=True)
    seen = 0
    async for n in requester.observation:
        print(n.code, n.payload.decode(), flush=True)
        seen += 1
        if seen == count:
            break
    await ctx.shutdown()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"#;

#[test]
fn aiocoap_observes_our_server() {
    let Some((bin, templates)) = setup("aiocoap_observes_our_server") else {
        return;
    };
    for alg in ALGORITHMS {
        for (client_t, server_t, id_context) in PAIRS {
            let what = format!("{alg}, ID context {id_context}");
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("root");
            std::fs::create_dir(&root).unwrap();
            std::fs::write(root.join("temp"), b"t=20.0").unwrap();
            let server_ctx = context(&templates, server_t, tmp.path(), "server", alg);
            let client_ctx = context(&templates, client_t, tmp.path(), "client", alg);
            let server = OurServer::start(&root, &server_ctx);
            let creds = tmp.path().join("client-credentials.json");
            let pattern = format!("coap://{}/*", server.addr);
            let c = serde_json::json!({ pattern: { "oscore": { "basedir": format!("{}/", client_ctx.display()) } } });
            std::fs::write(&creds, c.to_string()).unwrap();
            let mut observer = Peer::spawn(
                Command::new(bin.join("python"))
                    .env("PYTHONUNBUFFERED", "1")
                    .arg("-c")
                    .arg(AIOCOAP_OBSERVER)
                    .arg(server.uri("temp"))
                    .arg(&creds)
                    .arg("2"),
                tmp.path().join("observer.log"),
            );
            wait_for(&observer, "2.05 Content t=20.0", &what);
            for v in ["t=20.5", "t=21.0"] {
                std::fs::write(root.join("temp"), v).unwrap();
                server.notifier.notify("/temp").unwrap();
                wait_for(&observer, &format!("2.05 Content {v}"), &what);
            }
            let start = Instant::now();
            let status = loop {
                if let Some(status) = observer.child.try_wait().unwrap() {
                    break status;
                }
                assert!(start.elapsed() < Duration::from_secs(20), "{what}: no exit");
                std::thread::sleep(Duration::from_millis(50));
            };
            assert!(status.success(), "{what}: {}", observer.log());
            let stats = server.stop();
            assert_eq!(stats.notifications, 2, "{what}");
            assert_eq!(stats.oscore_refused, 0, "{what}");
        }
    }
}

#[test]
fn our_client_observes_aiocoap_fileserver() {
    let Some((bin, templates)) = setup("our_client_observes_aiocoap_fileserver") else {
        return;
    };
    // aiocoap-fileserver looks for changed files every 10 s: one algorithm and pair suffice.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("temp"), b"t=20.0").unwrap();
    let server_ctx = context(&templates, "b", tmp.path(), "server", ALGORITHMS[0]);
    let client_ctx = context(&templates, "a", tmp.path(), "client", ALGORITHMS[0]);
    let (fs, addr) = fileserver(&bin, tmp.path(), &root, &server_ctx, false);
    let mut crypto = RustCrypto::from_os();
    let mut dir = ContextDir::open(&mut crypto, &client_ctx).unwrap();
    let mut c = client(params());
    let get = Request::for_uri(
        Code::GET,
        &CoapUri::parse(&format!("coap://{addr}/temp")).unwrap(),
    );
    let (first, mut obs) = c
        .observe_oscore(addr, &get, dir.persisted_mut())
        .unwrap_or_else(|e| panic!("{e}; fileserver: {}", fs.log()));
    assert_eq!(first.payload, b"t=20.0");
    assert!(obs.is_active(), "aiocoap accepted the registration");
    // aiocoap protects its first response with the request's nonce, without a Partial IV.
    let number = obs.notification_number();
    assert_eq!(number, None);
    // A different size, so that the change shows in the file's stat.
    std::fs::write(root.join("temp"), b"t=20.75").unwrap();
    let n = obs
        .next(Duration::from_secs(25))
        .unwrap()
        .unwrap_or_else(|| panic!("no notification; fileserver: {}", fs.log()));
    assert_eq!(
        (n.code, n.payload.as_slice()),
        (Code::CONTENT, &b"t=20.75"[..])
    );
    assert!(obs.notification_number() > number);
    assert_eq!(obs.refused(), 0);
    let last = obs.cancel().unwrap();
    assert_eq!(last.code, Code::CONTENT);
    assert_eq!(last.option(OptionNumber::OBSERVE), None);
    dir.close().unwrap();
}
