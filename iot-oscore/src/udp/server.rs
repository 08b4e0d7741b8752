//! The CoAP server over UDP (RFC 7252 sections 4 and 5.2), optionally requiring OSCORE
//! (RFC 8613 section 8.2), with Observe (RFC 7641; under OSCORE, RFC 8613 section 4.1.3.5).

use super::{
    Block, DEFAULT_SZX, MAX_BODY, OptionList, Request, Response, TransmissionParams,
    TransportError, encode, options_of, uint_of, uint_value,
};
use crate::coap::{Code, Message, MessageType, OptionNumber};
use crate::context_dir::ContextDir;
use crate::error::Error;
use crate::oscore_option::OscoreOption;
use crate::persistence::{Incoming, PersistedContext, SequenceNumberStore};
use crate::protect::{ReceivedRequest, ResponseNonce};
use crate::replay::DEFAULT_REPLAY_WINDOW;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use iot_core::crypto::{Aead, Rng};
use std::collections::VecDeque;
use std::format;
use std::io;
use std::net::UdpSocket;
use std::string::{String, ToString};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use std::vec::Vec;

/// Room for the OSCORE option, the code byte and the tag around a protected message.
const OSCORE_OVERHEAD: usize = 64;
/// Block1 uploads in progress at most (the oldest is dropped beyond).
const MAX_UPLOADS: usize = 16;
/// Observers at most; a registration beyond gets a response without Observe (RFC 7641 section 4.1).
pub const MAX_OBSERVERS: usize = 256;
/// Message IDs of an observer's latest non-confirmable notifications, to match a Reset.
const NOTIFICATION_MIDS: usize = 8;

/// The server's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerConfig {
    /// Timers: retransmission of separate responses, deduplication lifetime.
    pub params: TransmissionParams,
    /// Answer confirmable requests with an empty ACK first and the response as a separate
    /// confirmable message (RFC 7252 section 5.2.2) instead of piggybacking it on the ACK.
    pub separate: bool,
    /// Message IDs remembered for deduplication (section 4.5) at most; the oldest go first.
    pub dedup_capacity: usize,
    /// A notification goes out confirmable (retransmitted until acknowledged; an observer that
    /// never acknowledges is removed) when the observer's last confirmable one is at least this
    /// old, non-confirmable otherwise (RFC 7641 section 4.5). Default 24 hours, the RFC's
    /// maximum; zero makes every notification confirmable. A Reset to either ends the observation.
    pub confirm_every: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            params: TransmissionParams::default(),
            separate: false,
            dedup_capacity: 4096,
            confirm_every: Duration::from_secs(24 * 3600),
        }
    }
}

/// What the server knows about a request besides its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// The client's Sender ID (the kid) when the request was protected with OSCORE.
    pub oscore_kid: Option<Vec<u8>>,
    /// Whether the request was confirmable.
    pub confirmable: bool,
}

/// Answers requests.
///
/// A 2.xx response with an Observe option (any value) to a GET or FETCH with Observe 0 makes the
/// resource observed (RFC 7641 section 4.1): the server sets the value, keeps the request, and
/// calls the handler with it again for each notification ([`Server::notify`], [`Notifier`]).
pub trait Handler {
    /// The response to `request`.
    fn handle(&mut self, request: &Request, info: &RequestInfo) -> Response;
}

impl<F: FnMut(&Request, &RequestInfo) -> Response> Handler for F {
    fn handle(&mut self, request: &Request, info: &RequestInfo) -> Response {
        self(request, info)
    }
}

/// A security context a server verifies requests with.
pub trait OscoreContext {
    /// Where its sequence numbers are persisted.
    type Store: SequenceNumberStore;
    /// The backend's prepared AEAD key (its `Aead::AeadKey`).
    type Key;
    /// The context.
    fn persisted(&mut self)
    -> &mut PersistedContext<Self::Store, DEFAULT_REPLAY_WINDOW, Self::Key>;
}

impl<S: SequenceNumberStore, K> OscoreContext for PersistedContext<S, DEFAULT_REPLAY_WINDOW, K> {
    type Store = S;
    type Key = K;
    fn persisted(&mut self) -> &mut Self {
        self
    }
}

impl<K> OscoreContext for ContextDir<K> {
    type Store = crate::context_dir::SequenceFile;
    type Key = K;
    fn persisted(&mut self) -> &mut PersistedContext<Self::Store, DEFAULT_REPLAY_WINDOW, K> {
        self.persisted_mut()
    }
}

/// What a server did, for tests and measurements.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServerStats {
    /// Requests given to the handler.
    pub handled: u32,
    /// Duplicate messages recognised by message ID (section 4.5) and not processed again.
    pub duplicates: u32,
    /// OSCORE requests refused (unknown context, replay, failed decryption, bad option).
    pub oscore_refused: u32,
    /// Unprotected requests refused with 4.01 because OSCORE is required.
    pub unprotected_refused: u32,
    /// 4.01 responses with Echo sent to recover the replay window (RFC 8613 appendix B.1.2).
    pub echo_challenges: u32,
    /// Separate responses sent.
    pub separate_responses: u32,
    /// Retransmissions of separate confirmable responses.
    pub retransmissions: u32,
    /// Resets sent (pings, unparseable confirmable messages).
    pub resets: u32,
    /// Notifications sent (RFC 7641 section 4.2), first transmissions.
    pub notifications: u32,
}

struct Seen {
    peer: SocketAddr,
    mid: u16,
    expires: Instant,
    reply: Vec<u8>,
}

struct Pending {
    peer: SocketAddr,
    mid: u16,
    datagram: Vec<u8>,
    timeout: Duration,
    retransmits: u32,
    at: Instant,
    /// The token of the observation, for a confirmable notification.
    observation: Option<Vec<u8>>,
}

/// A client observing a resource (RFC 7641 section 4.1): the registration, kept to answer it
/// again for each notification, and with OSCORE the request the notifications are bound to.
struct Observer {
    peer: SocketAddr,
    token: Vec<u8>,
    request: Request,
    info: RequestInfo,
    oscore: Option<(usize, ReceivedRequest)>,
    /// Message IDs of the latest non-confirmable notifications.
    mids: VecDeque<u16>,
    /// When the last confirmable notification (or the registration) was sent.
    confirmed: Instant,
}

impl Observer {
    fn is(&self, peer: SocketAddr, token: &[u8]) -> bool {
        self.peer == peer && self.token == token
    }
}

/// Asks a [`Server`] to notify the observers of a resource, from any thread (RFC 7641
/// section 4.2): the path is queued and an empty datagram wakes the server, which sends the
/// notifications from its serving loop.
#[derive(Debug, Clone)]
pub struct Notifier {
    queue: Arc<Mutex<Vec<String>>>,
    wake: Arc<UdpSocket>,
    server: SocketAddr,
}

impl Notifier {
    /// Queues notifications for the resource at `path` (`/a/b`, as [`Request::path_text`]).
    pub fn notify(&self, path: &str) -> Result<(), TransportError> {
        {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            if !q.iter().any(|p| p == path) {
                q.push(path.into());
            }
        }
        self.wake.send_to(&[], self.server)?;
        Ok(())
    }
}

struct Upload {
    peer: SocketAddr,
    key: Vec<Vec<u8>>,
    body: Vec<u8>,
    expires: Instant,
}

/// The datagrams answering one request: the first goes out at once (and is what a duplicate
/// gets); a separate confirmable response follows and is retransmitted until acknowledged.
struct Reply {
    first: Vec<u8>,
    separate: Option<(u16, Vec<u8>)>,
}

/// A CoAP server on one UDP socket. With security contexts it requires OSCORE: unprotected
/// requests get 4.01, requests that fail verification get the code of RFC 8613 section 8.2
/// (unprotected, with a diagnostic payload and Max-Age 0).
pub struct Server<C, H, X = ContextDir> {
    socket: UdpSocket,
    crypto: C,
    handler: H,
    contexts: Vec<X>,
    config: ServerConfig,
    seen: VecDeque<Seen>,
    pending: Vec<Pending>,
    uploads: VecDeque<Upload>,
    observers: Vec<Observer>,
    observe_value: u32,
    queued: Arc<Mutex<Vec<String>>>,
    next_mid: u16,
    buf: Vec<u8>,
    stats: ServerStats,
}

impl<C, H, X> core::fmt::Debug for Server<C, H, X> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("socket", &self.socket)
            .field("contexts", &self.contexts.len())
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// The first unknown critical option (odd number, RFC 7252 section 5.4.1), if any.
fn unknown_critical(options: &OptionList) -> Option<OptionNumber> {
    const KNOWN: [OptionNumber; 10] = [
        OptionNumber::IF_MATCH,
        OptionNumber::URI_HOST,
        OptionNumber::IF_NONE_MATCH,
        OptionNumber::URI_PORT,
        OptionNumber::OSCORE,
        OptionNumber::URI_PATH,
        OptionNumber::URI_QUERY,
        OptionNumber::BLOCK1,
        OptionNumber::BLOCK2,
        OptionNumber::ACCEPT,
    ];
    options
        .iter()
        .map(|(n, _)| *n)
        .find(|n| n.is_critical() && !KNOWN.contains(n))
}

impl<C: Aead<AeadKey = X::Key> + Rng, H: Handler, X: OscoreContext> Server<C, H, X> {
    /// A server on `addr` (port 0 for an ephemeral port). With `contexts`, every request must
    /// be protected with one of them (chosen by kid and kid context).
    pub fn bind(
        addr: SocketAddr,
        mut crypto: C,
        handler: H,
        contexts: Vec<X>,
        config: ServerConfig,
    ) -> Result<Self, TransportError> {
        let socket = UdpSocket::bind(addr)?;
        let mut mid = [0u8; 2];
        crypto.fill_random(&mut mid).map_err(Error::from)?;
        Ok(Self {
            socket,
            crypto,
            handler,
            contexts,
            config,
            seen: VecDeque::new(),
            pending: Vec::new(),
            uploads: VecDeque::new(),
            observers: Vec::new(),
            observe_value: 0,
            queued: Arc::new(Mutex::new(Vec::new())),
            next_mid: u16::from_be_bytes(mid),
            buf: std::vec![0u8; 65536],
            stats: ServerStats::default(),
        })
    }

    /// The socket's local address (with the port chosen when bound to port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.socket.local_addr()?)
    }

    /// What the server did so far.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// The handler.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// The security contexts.
    pub fn contexts(&self) -> &[X] {
        &self.contexts
    }

    /// The number of observers (RFC 7641 section 4.1).
    pub fn observers(&self) -> usize {
        self.observers.len()
    }

    /// A handle that asks this server to notify observers, from another thread.
    pub fn notifier(&self) -> Result<Notifier, TransportError> {
        let mut server = self.socket.local_addr()?;
        let local = match server.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => {
                server.set_ip(Ipv4Addr::LOCALHOST.into());
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0))
            }
            IpAddr::V6(ip) if ip.is_unspecified() => {
                server.set_ip(Ipv6Addr::LOCALHOST.into());
                SocketAddr::from((Ipv6Addr::LOCALHOST, 0))
            }
            IpAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            IpAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        };
        Ok(Notifier {
            queue: Arc::clone(&self.queued),
            wake: Arc::new(UdpSocket::bind(local)?),
            server,
        })
    }

    /// Sends a notification to every observer of the resource at `path` (`/a/b`, as
    /// [`Request::path_text`]; RFC 7641 section 4.2): the handler answers the kept registration
    /// again; a 2.xx answer goes out with the next Observe value, any other code ends the
    /// observation (section 3.2). Under OSCORE each notification is protected with its own
    /// Partial IV (RFC 8613 section 4.1.3.5). Returns the number of notifications sent.
    pub fn notify(&mut self, path: &str) -> Result<usize, TransportError> {
        let observers = core::mem::take(&mut self.observers);
        let mut sent = 0;
        let mut failed = None;
        for mut o in observers {
            if o.request.path_text() == path {
                match self.send_notification(&mut o) {
                    Ok(keep) => {
                        sent += 1;
                        if !keep {
                            continue;
                        }
                    }
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
            self.observers.push(o);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(sent),
        }
    }

    /// Notifies for the paths a [`Notifier`] or a changing request queued.
    fn notify_queued(&mut self) -> Result<(), TransportError> {
        let paths =
            core::mem::take(&mut *self.queued.lock().unwrap_or_else(PoisonError::into_inner));
        for path in paths {
            self.notify(&path)?;
        }
        Ok(())
    }

    /// The next Observe value (24 bits, RFC 7641 section 4.4), shared by all observations.
    fn next_observe_value(&mut self) -> u32 {
        self.observe_value = (self.observe_value + 1) & 0xff_ffff;
        self.observe_value
    }

    /// One notification to `o`; returns whether the observation goes on.
    fn send_notification(&mut self, o: &mut Observer) -> Result<bool, TransportError> {
        let mut response = self.handler.handle(&o.request, &o.info);
        self.slice_block2(&o.request, &mut response);
        let goes_on = response.code.class() == 2;
        response
            .options
            .retain(|(n, _)| *n != OptionNumber::OBSERVE);
        if goes_on {
            let v = self.next_observe_value();
            response
                .options
                .push((OptionNumber::OBSERVE, uint_value(v)));
        }
        let now = Instant::now();
        let confirmable = now.saturating_duration_since(o.confirmed) >= self.config.confirm_every;
        let t = if confirmable {
            MessageType::Confirmable
        } else {
            MessageType::NonConfirmable
        };
        let mid = self.take_mid();
        let plain = encode(
            t,
            response.code,
            mid,
            &o.token,
            &response.options,
            &response.payload,
        )?;
        let datagram = match o.oscore.as_mut() {
            None => plain,
            Some((index, received)) => {
                let ctx = self
                    .contexts
                    .get_mut(*index)
                    .ok_or(TransportError::Oscore(Error::InvalidContext))?;
                let mut out = std::vec![0u8; plain.len() + OSCORE_OVERHEAD];
                let n = ctx.persisted().protect_response(
                    &mut self.crypto,
                    received,
                    &Message::decode(&plain)?,
                    ResponseNonce::Own,
                    &mut out,
                )?;
                out.truncate(n);
                out
            }
        };
        self.socket.send_to(&datagram, o.peer)?;
        self.stats.notifications += 1;
        if confirmable {
            // A newer notification replaces one still unacknowledged (RFC 7641 section 4.5.2).
            self.pending
                .retain(|p| !(p.peer == o.peer && p.observation.as_ref() == Some(&o.token)));
            let timeout = self.config.params.initial_timeout(0.5);
            self.pending.push(Pending {
                peer: o.peer,
                mid,
                datagram,
                timeout,
                retransmits: 0,
                at: now + timeout,
                observation: goes_on.then(|| o.token.clone()),
            });
            o.confirmed = now;
        } else {
            if o.mids.len() >= NOTIFICATION_MIDS {
                o.mids.pop_front();
            }
            o.mids.push_back(mid);
        }
        Ok(goes_on)
    }

    /// Takes the server apart (to close the contexts cleanly, say).
    pub fn into_parts(self) -> (H, Vec<X>) {
        (self.handler, self.contexts)
    }

    /// Serves until `deadline` or until `stop` is set (checked at least every 100 ms).
    pub fn serve_until(
        &mut self,
        deadline: Instant,
        stop: &AtomicBool,
    ) -> Result<(), TransportError> {
        loop {
            let now = Instant::now();
            if now >= deadline || stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let wait = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(100));
            self.serve_once(wait)?;
        }
    }

    /// Retransmits what is due, then waits at most `wait` for one datagram and processes it.
    /// Returns whether a datagram was processed.
    pub fn serve_once(&mut self, wait: Duration) -> Result<bool, TransportError> {
        let now = Instant::now();
        self.retransmit(now)?;
        self.notify_queued()?;
        let mut wake = now + wait;
        if let Some(p) = self.pending.iter().map(|p| p.at).min() {
            wake = wake.min(p);
        }
        let timeout = wake
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        self.socket.set_read_timeout(Some(timeout))?;
        let (n, peer) = match self.socket.recv_from(&mut self.buf) {
            Ok(x) => x,
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::ConnectionRefused => {
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        };
        let datagram = self.buf.get(..n).unwrap_or_default().to_vec();
        self.process(&datagram, peer)?;
        self.notify_queued()?;
        Ok(true)
    }

    fn retransmit(&mut self, now: Instant) -> Result<(), TransportError> {
        let max = self.config.params.max_retransmit;
        let mut i = 0;
        while let Some(p) = self.pending.get_mut(i) {
            if now < p.at {
                i += 1;
                continue;
            }
            if p.retransmits >= max {
                // An observer that never acknowledges is gone (RFC 7641 section 4.5).
                let gone = self.pending.swap_remove(i);
                if let Some(token) = gone.observation {
                    self.observers.retain(|o| !o.is(gone.peer, &token));
                }
                continue;
            }
            self.socket.send_to(&p.datagram, p.peer)?;
            p.retransmits += 1;
            p.timeout = p.timeout.saturating_mul(2);
            p.at = now + p.timeout;
            self.stats.retransmissions += 1;
            i += 1;
        }
        Ok(())
    }

    fn take_mid(&mut self) -> u16 {
        let m = self.next_mid;
        self.next_mid = self.next_mid.wrapping_add(1);
        m
    }

    fn send_reset(&mut self, peer: SocketAddr, mid: u16) -> Result<(), TransportError> {
        let rst = encode(
            MessageType::Reset,
            Code::EMPTY,
            mid,
            &[],
            &OptionList::new(),
            &[],
        )?;
        self.socket.send_to(&rst, peer)?;
        self.stats.resets += 1;
        Ok(())
    }

    /// One datagram: ACK/RST of a separate response, ping, duplicate, or a new request.
    fn process(&mut self, d: &[u8], peer: SocketAddr) -> Result<(), TransportError> {
        let m = match Message::decode(d) {
            Ok(m) => m,
            Err(_) => {
                // Section 4.2: a confirmable message that cannot be processed is rejected.
                if let (Some(&b0), Some(&hi), Some(&lo)) = (d.first(), d.get(2), d.get(3))
                    && b0 >> 6 == 1
                    && (b0 >> 4) & 3 == 0
                {
                    self.send_reset(peer, u16::from_be_bytes([hi, lo]))?;
                }
                return Ok(());
            }
        };
        let mid = m.message_id();
        let confirmable = match m.message_type() {
            MessageType::Acknowledgement | MessageType::Reset => {
                let at = self
                    .pending
                    .iter()
                    .position(|p| p.peer == peer && p.mid == mid);
                let answered = at.map(|i| self.pending.swap_remove(i));
                if m.message_type() == MessageType::Reset {
                    // A Reset to a notification ends the observation (RFC 7641 section 3.6).
                    let token = answered.and_then(|p| p.observation);
                    self.observers.retain(|o| {
                        o.peer != peer
                            || !(token.as_ref() == Some(&o.token) || o.mids.contains(&mid))
                    });
                }
                return Ok(());
            }
            MessageType::Confirmable => true,
            MessageType::NonConfirmable => false,
        };
        if !m.code().is_request() {
            // A ping (section 4.3), or a response sent to a server.
            if confirmable {
                self.send_reset(peer, mid)?;
            }
            return Ok(());
        }
        let now = Instant::now();
        while self.seen.front().is_some_and(|s| s.expires <= now) {
            self.seen.pop_front();
        }
        if let Some(s) = self.seen.iter().find(|s| s.peer == peer && s.mid == mid) {
            self.stats.duplicates += 1;
            if confirmable && !s.reply.is_empty() {
                let reply = s.reply.clone();
                self.socket.send_to(&reply, peer)?;
            }
            return Ok(());
        }
        let reply = self.respond(d, &m, peer)?;
        self.socket.send_to(&reply.first, peer)?;
        if let Some((smid, datagram)) = reply.separate {
            self.socket.send_to(&datagram, peer)?;
            self.stats.separate_responses += 1;
            let timeout = self.config.params.initial_timeout(0.5);
            self.pending.push(Pending {
                peer,
                mid: smid,
                datagram,
                timeout,
                retransmits: 0,
                at: now + timeout,
                observation: None,
            });
        }
        if self.seen.len() >= self.config.dedup_capacity.max(1) {
            self.seen.pop_front();
        }
        self.seen.push_back(Seen {
            peer,
            mid,
            expires: now + self.config.params.exchange_lifetime,
            reply: reply.first,
        });
        Ok(())
    }

    /// Type and message ID of the response to a request (section 5.2): piggybacked on the ACK,
    /// or a separate message with a new ID.
    fn response_header(&mut self, confirmable: bool, mid: u16) -> (MessageType, u16, bool) {
        match (confirmable, self.config.separate) {
            (true, false) => (MessageType::Acknowledgement, mid, false),
            (true, true) => (MessageType::Confirmable, self.take_mid(), true),
            (false, _) => (MessageType::NonConfirmable, self.take_mid(), false),
        }
    }

    /// An unprotected response (an error before or instead of OSCORE processing): piggybacked
    /// on the ACK of a confirmable request, Max-Age 0 (RFC 8613 section 8.2).
    fn plain_error(
        &mut self,
        m: &Message<'_>,
        code: Code,
        diagnostic: &str,
    ) -> Result<Reply, TransportError> {
        let (t, mid) = if m.message_type() == MessageType::Confirmable {
            (MessageType::Acknowledgement, m.message_id())
        } else {
            (MessageType::NonConfirmable, self.take_mid())
        };
        let options = std::vec![(OptionNumber::MAX_AGE, Vec::new())];
        let first = encode(t, code, mid, m.token(), &options, diagnostic.as_bytes())?;
        Ok(Reply {
            first,
            separate: None,
        })
    }

    /// Verifies (with OSCORE when required), handles, and writes the reply to a new request.
    fn respond(
        &mut self,
        d: &[u8],
        m: &Message<'_>,
        peer: SocketAddr,
    ) -> Result<Reply, TransportError> {
        let confirmable = m.message_type() == MessageType::Confirmable;
        let oscore = m.option(OptionNumber::OSCORE);
        let mut verified: Option<(usize, ReceivedRequest)> = None;
        let plain: Vec<u8> = if self.contexts.is_empty() {
            if oscore.is_some() {
                return self.plain_error(m, Code::BAD_OPTION, "OSCORE is not supported here");
            }
            d.to_vec()
        } else {
            let Some(option) = oscore else {
                self.stats.unprotected_refused += 1;
                return self.plain_error(m, Code::UNAUTHORIZED, "OSCORE required");
            };
            let Ok(parsed) = OscoreOption::decode(option.value) else {
                self.stats.oscore_refused += 1;
                return self.plain_error(m, Code::BAD_OPTION, "Failed to decode COSE");
            };
            let found = self.contexts.iter_mut().position(|x| {
                let c = x.persisted().context();
                parsed.kid == Some(c.recipient_id())
                    && parsed.kid_context.is_none_or(|k| Some(k) == c.id_context())
            });
            let Some(index) = found else {
                self.stats.oscore_refused += 1;
                return self.plain_error(m, Code::UNAUTHORIZED, "Security context not found");
            };
            let mut input = d.to_vec();
            let mut out = std::vec![0u8; d.len() + 2 * OSCORE_OVERHEAD];
            let Some(ctx) = self.contexts.get_mut(index) else {
                return self.plain_error(m, Code::INTERNAL_SERVER_ERROR, "context lost");
            };
            match ctx
                .persisted()
                .unprotect_request(&mut self.crypto, &mut input, &mut out)
            {
                Ok(Incoming::Request { len, request }) => {
                    verified = Some((index, request));
                    out.truncate(len);
                    out
                }
                Ok(Incoming::EchoChallenge { len }) => {
                    self.stats.echo_challenges += 1;
                    out.truncate(len);
                    if !confirmable {
                        // The challenge carries the request's ID; a NON reply takes a new one.
                        let new = self.take_mid().to_be_bytes();
                        if let Some(id) = out.get_mut(2..4) {
                            id.copy_from_slice(&new);
                        }
                    }
                    return Ok(Reply {
                        first: out,
                        separate: None,
                    });
                }
                Err(e) => {
                    self.stats.oscore_refused += 1;
                    let code = e.response_code().unwrap_or(Code::INTERNAL_SERVER_ERROR);
                    return self.plain_error(m, code, &e.to_string());
                }
            }
        };
        let pm = Message::decode(&plain)?;
        let mut request = Request {
            method: pm.code(),
            confirmable,
            options: options_of(&pm),
            payload: pm.payload().to_vec(),
        };
        let info = RequestInfo {
            peer,
            oscore_kid: verified.as_ref().map(|(_, r)| r.kid().to_vec()),
            confirmable,
        };
        let mut response = self.dispatch(&mut request, &info);
        let registered = self.observe_request(&request, &info, m.token(), &mut response);
        let changed = [Code::CREATED, Code::DELETED, Code::CHANGED].contains(&response.code);
        if changed && request.method != Code::GET && request.method != Code::FETCH {
            // A resource changed: its observers hear of it after this reply (RFC 7641 4.2).
            let mut q = self.queued.lock().unwrap_or_else(PoisonError::into_inner);
            q.push(request.path_text());
        }
        self.slice_block2(&request, &mut response);
        let (t, mid, separate) = self.response_header(confirmable, m.message_id());
        let plain_response = encode(
            t,
            response.code,
            mid,
            m.token(),
            &response.options,
            &response.payload,
        )?;
        let datagram = match verified.as_mut() {
            None => plain_response,
            Some((index, received)) => {
                let mut out = std::vec![0u8; plain_response.len() + OSCORE_OVERHEAD];
                let ctx = self
                    .contexts
                    .get_mut(*index)
                    .ok_or(TransportError::Oscore(Error::InvalidContext))?;
                // The registration's response is the first notification: its own Partial IV
                // (RFC 8613 section 4.1.3.5).
                let nonce = if registered {
                    ResponseNonce::Own
                } else {
                    ResponseNonce::Request
                };
                let n = ctx.persisted().protect_response(
                    &mut self.crypto,
                    received,
                    &Message::decode(&plain_response)?,
                    nonce,
                    &mut out,
                )?;
                out.truncate(n);
                out
            }
        };
        if registered {
            let mut kept = request;
            kept.options
                .retain(|(n, _)| *n != OptionNumber::OBSERVE && *n != OptionNumber::BLOCK2);
            self.observers.push(Observer {
                peer,
                token: m.token().to_vec(),
                request: kept,
                info,
                oscore: verified,
                mids: VecDeque::new(),
                confirmed: Instant::now(),
            });
        }
        if separate {
            let ack = encode(
                MessageType::Acknowledgement,
                Code::EMPTY,
                m.message_id(),
                &[],
                &OptionList::new(),
                &[],
            )?;
            return Ok(Reply {
                first: ack,
                separate: Some((mid, datagram)),
            });
        }
        Ok(Reply {
            first: datagram,
            separate: None,
        })
    }

    /// Registration and deregistration (RFC 7641 sections 3.1, 3.6 and 4.1): Observe 0 or 1
    /// ends the client's observation under this token (a registration replaces it); a 2.xx
    /// response with Observe to a GET or FETCH with Observe 0 registers, and gets the next Observe
    /// value. Any other response loses its Observe option. Returns whether the client registered.
    fn observe_request(
        &mut self,
        request: &Request,
        info: &RequestInfo,
        token: &[u8],
        response: &mut Response,
    ) -> bool {
        let asked = request.option(OptionNumber::OBSERVE).map(uint_of);
        if asked.is_some() {
            self.observers
                .retain(|o| !(o.is(info.peer, token) && o.info.oscore_kid == info.oscore_kid));
        }
        let register = asked == Some(Some(0))
            && (request.method == Code::GET || request.method == Code::FETCH)
            && response.code.class() == 2
            && response.option(OptionNumber::OBSERVE).is_some()
            && self.observers.len() < MAX_OBSERVERS;
        response
            .options
            .retain(|(n, _)| *n != OptionNumber::OBSERVE);
        if register {
            let v = self.next_observe_value();
            response
                .options
                .push((OptionNumber::OBSERVE, uint_value(v)));
        }
        register
    }

    /// Checks options, assembles Block1 uploads, and calls the handler.
    fn dispatch(&mut self, request: &mut Request, info: &RequestInfo) -> Response {
        if let Some(n) = unknown_critical(&request.options) {
            if n == OptionNumber::PROXY_URI || n == OptionNumber::PROXY_SCHEME {
                return Response::error(Code::new(5, 5), "Proxying Not Supported");
            }
            return Response::error(
                Code::BAD_OPTION,
                &format!("unknown critical option {}", n.0),
            );
        }
        let Some(value) = request.option(OptionNumber::BLOCK1) else {
            self.stats.handled += 1;
            return self.handler.handle(request, info);
        };
        let Some(b) = Block::decode(value) else {
            return Response::error(Code::BAD_OPTION, "bad Block1");
        };
        let now = Instant::now();
        self.uploads.retain(|u| u.expires > now);
        let key: Vec<Vec<u8>> = request
            .options
            .iter()
            .filter(|(n, _)| *n == OptionNumber::URI_PATH || *n == OptionNumber::URI_QUERY)
            .map(|(_, v)| v.clone())
            .chain(info.oscore_kid.iter().cloned())
            .collect();
        let at = self
            .uploads
            .iter()
            .position(|u| u.peer == info.peer && u.key == key);
        let mut body = match (b.num, at) {
            (0, Some(i)) => {
                self.uploads.remove(i);
                Vec::new()
            }
            (0, None) => Vec::new(),
            (_, Some(i)) => self.uploads.remove(i).map(|u| u.body).unwrap_or_default(),
            (_, None) => {
                return Response::error(Code::REQUEST_ENTITY_INCOMPLETE, "no upload in progress");
            }
        };
        if b.offset() != body.len() || (b.more && request.payload.len() != b.size()) {
            return Response::error(Code::REQUEST_ENTITY_INCOMPLETE, "block out of sequence");
        }
        body.extend_from_slice(&request.payload);
        if body.len() > MAX_BODY {
            return Response::error(Code::REQUEST_ENTITY_TOO_LARGE, "body too large");
        }
        if b.more {
            if self.uploads.len() >= MAX_UPLOADS {
                self.uploads.pop_front();
            }
            self.uploads.push_back(Upload {
                peer: info.peer,
                key,
                body,
                expires: now + self.config.params.exchange_lifetime,
            });
            return Response::new(Code::CONTINUE).with_option(OptionNumber::BLOCK1, b.encode());
        }
        request.payload = body;
        request.options.retain(|(n, _)| *n != OptionNumber::BLOCK1);
        self.stats.handled += 1;
        let mut response = self.handler.handle(request, info);
        response.options.push((OptionNumber::BLOCK1, b.encode()));
        response
    }

    /// Cuts a large response body into the block asked for, or the first (RFC 7959 section 2.4).
    fn slice_block2(&self, request: &Request, response: &mut Response) {
        let asked = request.option(OptionNumber::BLOCK2).and_then(Block::decode);
        let whole = Block::size_of(DEFAULT_SZX);
        if asked.is_none() && response.payload.len() <= whole {
            return;
        }
        let (num, szx) = asked.map_or((0, DEFAULT_SZX), |b| (b.num, b.szx.min(DEFAULT_SZX)));
        let block = Block {
            num,
            more: false,
            szx,
        };
        let start = block.offset();
        let total = response.payload.len();
        if start > total || (start == total && start > 0) {
            *response = Response::error(Code::BAD_OPTION, "Block2 beyond the end");
            return;
        }
        let end = start.saturating_add(block.size()).min(total);
        let chunk = response
            .payload
            .get(start..end)
            .unwrap_or_default()
            .to_vec();
        response.payload = chunk;
        response.options.push((
            OptionNumber::BLOCK2,
            Block {
                more: end < total,
                ..block
            }
            .encode(),
        ));
    }
}
