//! Observe over UDP (RFC 7641) between our client and server on 127.0.0.1, with and without
//! OSCORE (RFC 8613 section 4.1.3.5): registration, notifications on change, the Notification
//! Number against a replaying relay, deregistration with Observe 1 and with a Reset, the end of
//! an observation on an error, unacknowledged confirmable notifications, and the client's
//! freshness check against a scripted server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::crypto::{RustCrypto, RustCryptoAeadKey};
use iot_oscore::coap::{Code, Message, MessageType, MessageWriter, OptionNumber};
use iot_oscore::oscore_option::OscoreOption;
use iot_oscore::udp::{
    Client, FileHandler, Handler, Notifier, OscoreContext, Request, RequestInfo, Response, Server,
    ServerConfig, ServerStats, TransmissionParams,
};
use iot_oscore::{ContextParams, PersistedContext, SecurityContext, SequenceNumberStore};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Crypto = RustCrypto<getrandom::SysRng>;

const SECRET: [u8; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const SALT: [u8; 8] = [0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40];
const WAIT: Duration = Duration::from_secs(2);

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn client() -> Client<Crypto> {
    Client::bind(local(), RustCrypto::from_os(), TransmissionParams::fast()).unwrap()
}

fn config(confirmable: bool) -> ServerConfig {
    ServerConfig {
        params: TransmissionParams::fast(),
        confirm_every: if confirmable {
            Duration::ZERO
        } else {
            Duration::from_secs(3600)
        },
        ..ServerConfig::default()
    }
}

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
    let c = ContextParams::new(&SECRET, b"", b"\x01").master_salt(&SALT);
    let s = ContextParams::new(&SECRET, b"\x01", b"").master_salt(&SALT);
    let derive = |p| SecurityContext::derive(&mut RustCrypto::<()>::default(), &p).unwrap();
    (
        PersistedContext::first_boot(derive(c), Mem::default(), 8).unwrap(),
        PersistedContext::first_boot(derive(s), Mem::default(), 8).unwrap(),
    )
}

fn get(path: &str) -> Request {
    let mut r = Request::new(Code::GET);
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        r = r.with_option(OptionNumber::URI_PATH, seg.as_bytes());
    }
    r
}

/// An observable `/temp` whose value the test sets; `/gone` answers 4.04.
fn thermometer(value: Arc<Mutex<String>>) -> impl Handler + Send + 'static {
    move |r: &Request, _: &RequestInfo| {
        if r.path_text() != "/temp" {
            return Response::error(Code::NOT_FOUND, "no such sensor");
        }
        let v = value.lock().unwrap().clone();
        if v.is_empty() {
            return Response::error(Code::NOT_FOUND, "sensor removed");
        }
        Response::new(Code::CONTENT)
            .with_option(OptionNumber::OBSERVE, [])
            .with_payload(v.into_bytes())
    }
}

enum Cmd {
    Notify(&'static str, Sender<usize>),
    Observers(Sender<usize>),
}

/// A server in a thread, driven by commands between datagrams.
struct Running<X> {
    addr: SocketAddr,
    notifier: Notifier,
    cmds: Option<Sender<Cmd>>,
    thread: Option<JoinHandle<(ServerStats, Vec<X>)>>,
}

impl<X: OscoreContext<Key = RustCryptoAeadKey> + Send + 'static> Running<X> {
    fn start<H: Handler + Send + 'static>(handler: H, contexts: Vec<X>, c: ServerConfig) -> Self {
        let mut server =
            Server::bind(local(), RustCrypto::from_os(), handler, contexts, c).unwrap();
        let addr = server.local_addr().unwrap();
        let notifier = server.notifier().unwrap();
        let (tx, rx): (Sender<Cmd>, Receiver<Cmd>) = channel();
        let thread = std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(60);
            while Instant::now() < end {
                // Long waits: a Notifier's wake-up datagram must end them.
                server.serve_once(Duration::from_secs(5)).unwrap();
                loop {
                    match rx.try_recv() {
                        Ok(Cmd::Notify(path, reply)) => {
                            reply.send(server.notify(path).unwrap()).unwrap();
                        }
                        Ok(Cmd::Observers(reply)) => reply.send(server.observers()).unwrap(),
                        Err(std::sync::mpsc::TryRecvError::Empty) => break,
                        Err(_) => return (server.stats(), server.into_parts().1),
                    }
                }
            }
            panic!("server ran too long");
        });
        Self {
            addr,
            notifier,
            cmds: Some(tx),
            thread: Some(thread),
        }
    }

    fn cmd<T>(&self, make: impl FnOnce(Sender<T>) -> Cmd) -> T {
        let (tx, rx) = channel();
        self.cmds.as_ref().unwrap().send(make(tx)).unwrap();
        self.notifier.notify("/wake-up").unwrap();
        rx.recv_timeout(WAIT).unwrap()
    }

    /// Notifications sent for `path` now.
    fn notify(&self, path: &'static str) -> usize {
        self.cmd(|tx| Cmd::Notify(path, tx))
    }

    fn observers(&self) -> usize {
        self.cmd(Cmd::Observers)
    }

    fn stop(mut self) -> (ServerStats, Vec<X>) {
        drop(self.cmds.take());
        self.notifier.notify("/wake-up").unwrap();
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Forwards between one client and the server, records what the server sends, and replays a
/// recorded datagram to the client on request.
struct Relay {
    addr: SocketAddr,
    replay: Sender<usize>,
    recorded: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Relay {
    fn start(server: SocketAddr) -> Self {
        let socket = UdpSocket::bind(local()).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let (replay, rx) = channel::<usize>();
        let recorded: Arc<Mutex<Vec<Vec<u8>>>> = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&recorded);
        std::thread::spawn(move || {
            let mut client = None;
            let mut buf = [0u8; 2048];
            let end = Instant::now() + Duration::from_secs(60);
            while Instant::now() < end {
                match rx.try_recv() {
                    Ok(k) => {
                        let d = log.lock().unwrap()[k].clone();
                        socket.send_to(&d, client.unwrap()).unwrap();
                    }
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                    Err(_) => {}
                }
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if from == server {
                    log.lock().unwrap().push(buf[..n].to_vec());
                    socket.send_to(&buf[..n], client.unwrap()).unwrap();
                } else {
                    client = Some(from);
                    socket.send_to(&buf[..n], server).unwrap();
                }
            }
        });
        Self {
            addr,
            replay,
            recorded,
        }
    }
}

#[test]
fn our_client_observes_our_server_with_oscore() {
    for confirmable in [false, true] {
        let (mut client_ctx, server_ctx) = pair();
        let value = Arc::new(Mutex::new(String::from("20.0")));
        let server = Running::start(
            thermometer(Arc::clone(&value)),
            vec![server_ctx],
            config(confirmable),
        );
        let relay = Relay::start(server.addr);
        let mut c = client();
        let (first, mut obs) = c
            .observe_oscore(relay.addr, &get("/temp"), &mut client_ctx)
            .unwrap();
        assert_eq!(
            (first.code, first.payload.as_slice()),
            (Code::CONTENT, &b"20.0"[..])
        );
        assert!(obs.is_active());
        assert!(first.option(OptionNumber::OBSERVE).is_some());
        // The registration's response was protected with the server's own Partial IV.
        let mut number = obs.notification_number().unwrap();
        assert_eq!(server.observers(), 1);

        for v in ["20.5", "21.0", "21.5"] {
            *value.lock().unwrap() = v.into();
            let start = Instant::now();
            server.notifier.notify("/temp").unwrap();
            let n = obs.next(WAIT).unwrap().expect("a notification");
            // The Notifier woke the server from its 5 s wait.
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "{:?}",
                start.elapsed()
            );
            assert_eq!(
                (n.code, n.payload.as_slice()),
                (Code::CONTENT, v.as_bytes())
            );
            let now = obs.notification_number().unwrap();
            assert!(now > number, "{now} after {number}");
            number = now;
            assert_eq!(
                n.option(OptionNumber::OBSERVE),
                Some(&iot_oscore::udp::uint_value((number & 0xff_ffff) as u32)[..]),
                "the Inner Observe is the Partial IV's low bytes"
            );
        }
        // The relay replays an older and the latest notification: neither is delivered. A
        // non-confirmable one fails the Notification Number check; a confirmable one is taken
        // for a retransmission and acknowledged again.
        let recorded = relay.recorded.lock().unwrap().len();
        assert_eq!(
            recorded, 4,
            "the registration's response and three notifications"
        );
        // On the wire (RFC 8613 section 4.1.3.5): 2.05 with an Outer Observe beside the OSCORE
        // option, whose Partial IVs (the server's own) increase.
        let mut pivs = Vec::new();
        for d in relay.recorded.lock().unwrap().iter() {
            let m = Message::decode(d).unwrap();
            assert_eq!(m.code(), Code::CONTENT);
            assert!(m.option(OptionNumber::OBSERVE).is_some());
            let o = OscoreOption::decode(m.option(OptionNumber::OSCORE).unwrap().value).unwrap();
            pivs.push(o.partial_iv.unwrap().to_vec());
        }
        assert!(pivs.windows(2).all(|w| w[0] < w[1]), "{pivs:?}");
        relay.replay.send(1).unwrap();
        relay.replay.send(3).unwrap();
        assert_eq!(obs.next(Duration::from_millis(300)).unwrap(), None);
        assert_eq!(obs.refused(), if confirmable { 0 } else { 2 });
        assert_eq!(obs.notification_number(), Some(number));

        // Still observing: the next notification arrives.
        *value.lock().unwrap() = "22.0".into();
        assert_eq!(server.notify("/temp"), 1);
        let n = obs.next(WAIT).unwrap().unwrap();
        assert_eq!(n.payload, b"22.0");

        // Cancel with Observe 1: a plain 2.05 without Observe, and no more notifications.
        let last = obs.cancel().unwrap();
        assert_eq!(last.code, Code::CONTENT);
        assert_eq!(last.option(OptionNumber::OBSERVE), None);
        assert_eq!(server.observers(), 0);
        assert_eq!(server.notify("/temp"), 0);
        let (stats, _) = server.stop();
        assert_eq!(stats.notifications, 4);
        assert_eq!(stats.oscore_refused, 0);
    }
}

#[test]
fn a_reset_ends_the_observation() {
    for confirmable in [false, true] {
        let value = Arc::new(Mutex::new(String::from("1")));
        let server = Running::<PersistedContext<Mem>>::start(
            thermometer(Arc::clone(&value)),
            vec![],
            config(confirmable),
        );
        let mut c = client();
        let (first, obs) = c.observe(server.addr, &get("/temp")).unwrap();
        assert_eq!(first.payload, b"1");
        assert!(obs.is_active());
        assert_eq!(server.observers(), 1);
        assert_eq!(server.notify("/temp"), 1);
        assert!(obs.reset_next(WAIT).unwrap());
        // The server processes the Reset before the next command.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(server.observers(), 0, "confirmable: {confirmable}");
        server.stop();
    }
}

#[test]
fn an_error_notification_ends_the_observation() {
    let (mut client_ctx, server_ctx) = pair();
    let value = Arc::new(Mutex::new(String::from("5")));
    let server = Running::start(
        thermometer(Arc::clone(&value)),
        vec![server_ctx],
        config(true),
    );
    let mut c = client();
    let (_, mut obs) = c
        .observe_oscore(server.addr, &get("/temp"), &mut client_ctx)
        .unwrap();
    value.lock().unwrap().clear();
    assert_eq!(server.notify("/temp"), 1);
    let n = obs.next(WAIT).unwrap().unwrap();
    assert_eq!(
        (n.code, n.option(OptionNumber::OBSERVE)),
        (Code::NOT_FOUND, None)
    );
    assert!(!obs.is_active());
    assert_eq!(obs.next(Duration::from_millis(10)).unwrap(), None);
    assert_eq!(server.observers(), 0);
    server.stop();
}

#[test]
fn unobservable_resources_and_unregistered_requests_get_no_observer() {
    let server = Running::<PersistedContext<Mem>>::start(
        |r: &Request, _: &RequestInfo| Response::new(Code::CONTENT).with_payload(r.path_text()),
        vec![],
        config(false),
    );
    let mut c = client();
    // The handler sets no Observe: the registration is declined (RFC 7641 section 4.1).
    let (first, obs) = c.observe(server.addr, &get("/plain")).unwrap();
    assert_eq!(first.payload, b"/plain");
    assert!(!obs.is_active());
    drop(obs);
    assert_eq!(server.observers(), 0);
    server.stop();
}

#[test]
fn files_notify_on_put_and_observe_1_deregisters() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fw"), b"v1").unwrap();
    let server = Running::<PersistedContext<Mem>>::start(
        FileHandler::new(dir.path(), true).unwrap(),
        vec![],
        config(false),
    );
    let mut writer = client();
    let mut c = client();
    let (first, mut obs) = c.observe(server.addr, &get("/fw")).unwrap();
    assert_eq!(first.payload, b"v1");
    assert!(obs.is_active());
    let put = |w: &mut Client<Crypto>, body: &[u8]| {
        let mut r = get("/fw").with_payload(body.to_vec());
        r.method = Code::PUT;
        w.request(server.addr, &r).unwrap().code
    };
    assert_eq!(put(&mut writer, b"v2"), Code::CHANGED);
    let n = obs.next(WAIT).unwrap().unwrap();
    assert_eq!(n.payload, b"v2");
    assert_eq!(put(&mut writer, b"v3"), Code::CHANGED);
    assert_eq!(obs.next(WAIT).unwrap().unwrap().payload, b"v3");
    let last = obs.cancel().unwrap();
    assert_eq!(
        (last.code, last.payload.as_slice()),
        (Code::CONTENT, &b"v3"[..])
    );
    assert_eq!(server.observers(), 0);
    assert_eq!(put(&mut writer, b"v4"), Code::CHANGED);
    let (stats, _) = server.stop();
    assert_eq!(stats.notifications, 2);
}

#[test]
fn an_observer_that_never_acknowledges_is_removed() {
    let value = Arc::new(Mutex::new(String::from("1")));
    let server = Running::<PersistedContext<Mem>>::start(
        thermometer(Arc::clone(&value)),
        vec![],
        config(true),
    );
    // A raw client registers and then ignores the confirmable notifications.
    let raw = UdpSocket::bind(local()).unwrap();
    raw.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 256];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::Confirmable, Code::GET, 7, b"tk").unwrap();
    w.option(OptionNumber::OBSERVE, b"").unwrap();
    w.option(OptionNumber::URI_PATH, b"temp").unwrap();
    let n = w.finish();
    raw.send_to(&buf[..n], server.addr).unwrap();
    let mut got = [0u8; 256];
    let (n, _) = raw.recv_from(&mut got).unwrap();
    assert!(
        Message::decode(&got[..n])
            .unwrap()
            .option(OptionNumber::OBSERVE)
            .is_some()
    );
    assert_eq!(server.notify("/temp"), 1);
    // MAX_RETRANSMIT 3: the notification and 3 retransmissions, then the observer is dropped.
    let mut copies = 0;
    let end = Instant::now() + Duration::from_secs(3);
    raw.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while Instant::now() < end {
        if raw.recv_from(&mut got).is_ok() {
            copies += 1;
        }
    }
    assert_eq!(copies, 4);
    assert_eq!(server.observers(), 0);
    server.stop();
}

/// A scripted server: answers the registration, sends the given notifications and one under
/// another token (which must get a Reset), then answers the cancellation after a late
/// notification.
fn scripted(
    notes: Vec<(MessageType, u16, u32, &'static [u8])>,
) -> (SocketAddr, JoinHandle<Vec<u16>>) {
    let socket = UdpSocket::bind(local()).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let addr = socket.local_addr().unwrap();
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let (n, peer) = socket.recv_from(&mut buf).unwrap();
        let req = Message::decode(&buf[..n]).unwrap();
        assert_eq!(req.option(OptionNumber::OBSERVE).unwrap().value, b"");
        let token = req.token().to_vec();
        let mut out = [0u8; 512];
        let mut w = MessageWriter::new(
            &mut out,
            MessageType::Acknowledgement,
            Code::CONTENT,
            req.message_id(),
            &token,
        )
        .unwrap();
        w.option_uint(OptionNumber::OBSERVE, 10).unwrap();
        let n = w.payload(b"10").unwrap();
        socket.send_to(&out[..n], peer).unwrap();
        let mut acks = Vec::new();
        for (t, mid, observe, payload) in notes {
            let mut w = MessageWriter::new(&mut out, t, Code::CONTENT, mid, &token).unwrap();
            w.option_uint(OptionNumber::OBSERVE, observe).unwrap();
            let n = w.payload(payload).unwrap();
            socket.send_to(&out[..n], peer).unwrap();
            if t == MessageType::Confirmable {
                let (n, _) = socket.recv_from(&mut buf).unwrap();
                let ack = Message::decode(&buf[..n]).unwrap();
                assert_eq!(ack.message_type(), MessageType::Acknowledgement);
                acks.push(ack.message_id());
            }
        }
        // A notification under a token the client forgot gets a Reset.
        let mut w = MessageWriter::new(
            &mut out,
            MessageType::NonConfirmable,
            Code::CONTENT,
            100,
            b"??",
        )
        .unwrap();
        w.option_uint(OptionNumber::OBSERVE, 21).unwrap();
        let n = w.payload(b"stray").unwrap();
        socket.send_to(&out[..n], peer).unwrap();
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        let rst = Message::decode(&buf[..n]).unwrap();
        assert_eq!(
            (rst.message_type(), rst.message_id()),
            (MessageType::Reset, 100)
        );
        // The cancellation (Observe 1, same token) crosses a late notification.
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        let cancel = Message::decode(&buf[..n]).unwrap();
        assert_eq!(cancel.option(OptionNumber::OBSERVE).unwrap().value, [1]);
        assert_eq!(cancel.token(), token);
        let mut w = MessageWriter::new(
            &mut out,
            MessageType::NonConfirmable,
            Code::CONTENT,
            99,
            &token,
        )
        .unwrap();
        w.option_uint(OptionNumber::OBSERVE, 20).unwrap();
        let n = w.payload(b"late").unwrap();
        socket.send_to(&out[..n], peer).unwrap();
        let w = MessageWriter::new(
            &mut out,
            MessageType::Acknowledgement,
            Code::CONTENT,
            cancel.message_id(),
            &token,
        )
        .unwrap();
        let n = w.payload(b"final").unwrap();
        socket.send_to(&out[..n], peer).unwrap();
        acks
    });
    (addr, thread)
}

#[test]
fn plain_notifications_older_than_the_last_are_dropped() {
    use MessageType::{Confirmable as Con, NonConfirmable as Non};
    let (addr, thread) = scripted(vec![
        (Non, 1, 12, b"12"),
        (Non, 2, 11, b"11"),
        (Con, 3, 13, b"13"),
        // The same confirmable notification again (its ACK lost): acknowledged, not delivered.
        (Con, 3, 13, b"13"),
        (Non, 4, 12, b"12"),
        // Observe wraps around at 2^24 (RFC 7641 section 3.4).
        (Non, 5, 1, b"wrapped?"),
        (Non, 6, 13 + (1 << 23) - 1, b"far"),
        (Non, 7, 1, b"after wrap"),
    ]);
    let mut c = client();
    let (first, mut obs) = c.observe(addr, &get("/x")).unwrap();
    assert_eq!(first.payload, b"10");
    let mut seen = Vec::new();
    while let Some(n) = obs.next(Duration::from_millis(300)).unwrap() {
        seen.push(String::from_utf8(n.payload).unwrap());
    }
    assert_eq!(seen, ["12", "13", "far", "after wrap"]);
    assert_eq!(obs.refused(), 3);
    let last = obs.cancel().unwrap();
    assert_eq!(
        last.payload, b"final",
        "the late notification is not the answer"
    );
    assert_eq!(last.option(OptionNumber::OBSERVE), None);
    assert_eq!(thread.join().unwrap(), [3, 3]);
}

#[test]
fn a_notification_is_confirmable_once_the_last_confirmable_is_old() {
    let value = Arc::new(Mutex::new(String::from("1")));
    let server = Running::<PersistedContext<Mem>>::start(
        thermometer(Arc::clone(&value)),
        vec![],
        ServerConfig {
            confirm_every: Duration::from_millis(400),
            ..config(false)
        },
    );
    let raw = UdpSocket::bind(local()).unwrap();
    raw.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 256];
    let mut w =
        MessageWriter::new(&mut buf, MessageType::NonConfirmable, Code::GET, 7, b"tk").unwrap();
    w.option(OptionNumber::OBSERVE, b"").unwrap();
    w.option(OptionNumber::URI_PATH, b"temp").unwrap();
    let n = w.finish();
    raw.send_to(&buf[..n], server.addr).unwrap();
    let mut got = [0u8; 256];
    raw.recv_from(&mut got).unwrap();
    let mut next_type = || {
        assert_eq!(server.notify("/temp"), 1);
        let (n, _) = raw.recv_from(&mut got).unwrap();
        let m = Message::decode(&got[..n]).unwrap();
        if m.message_type() == MessageType::Confirmable {
            let ack = MessageWriter::new(
                &mut buf,
                MessageType::Acknowledgement,
                Code::EMPTY,
                m.message_id(),
                b"",
            )
            .unwrap()
            .finish();
            raw.send_to(&buf[..ack], server.addr).unwrap();
        }
        m.message_type()
    };
    assert_eq!(next_type(), MessageType::NonConfirmable);
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(next_type(), MessageType::Confirmable);
    assert_eq!(next_type(), MessageType::NonConfirmable);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.observers(), 1, "the acknowledged observer stays");
    server.stop();
}
