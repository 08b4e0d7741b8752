//! The CoAP server over UDP (RFC 7252 sections 4 and 5.2), optionally requiring OSCORE
//! (RFC 8613 section 8.2).

use super::{
    Block, DEFAULT_SZX, MAX_BODY, OptionList, Request, Response, TransmissionParams,
    TransportError, encode, options_of,
};
use crate::coap::{Code, Message, MessageType, OptionNumber};
use crate::context_dir::ContextDir;
use crate::error::Error;
use crate::oscore_option::OscoreOption;
use crate::persistence::{Incoming, PersistedContext, SequenceNumberStore};
use crate::protect::{ReceivedRequest, ResponseNonce};
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use iot_core::crypto::{Aead, Rng};
use std::collections::VecDeque;
use std::format;
use std::io;
use std::net::UdpSocket;
use std::string::ToString;
use std::time::Instant;
use std::vec::Vec;

/// Room for the OSCORE option, the code byte and the tag around a protected message.
const OSCORE_OVERHEAD: usize = 64;
/// Block1 uploads in progress at most (the oldest is dropped beyond).
const MAX_UPLOADS: usize = 16;

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            params: TransmissionParams::default(),
            separate: false,
            dedup_capacity: 4096,
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
    /// The context.
    fn persisted(&mut self) -> &mut PersistedContext<Self::Store>;
}

impl<S: SequenceNumberStore> OscoreContext for PersistedContext<S> {
    type Store = S;
    fn persisted(&mut self) -> &mut PersistedContext<S> {
        self
    }
}

impl OscoreContext for ContextDir {
    type Store = crate::context_dir::SequenceFile;
    fn persisted(&mut self) -> &mut PersistedContext<Self::Store> {
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

impl<C: Aead + Rng, H: Handler, X: OscoreContext> Server<C, H, X> {
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
                self.pending.swap_remove(i);
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
                self.pending.retain(|p| !(p.peer == peer && p.mid == mid));
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
        let datagram = match verified {
            None => plain_response,
            Some((index, mut received)) => {
                let mut out = std::vec![0u8; plain_response.len() + OSCORE_OVERHEAD];
                let ctx = self
                    .contexts
                    .get_mut(index)
                    .ok_or(TransportError::Oscore(Error::InvalidContext))?;
                let n = ctx.persisted().protect_response(
                    &mut self.crypto,
                    &mut received,
                    &Message::decode(&plain_response)?,
                    ResponseNonce::Request,
                    &mut out,
                )?;
                out.truncate(n);
                out
            }
        };
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
