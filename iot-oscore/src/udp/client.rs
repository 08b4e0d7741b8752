//! The CoAP client over UDP (RFC 7252 sections 4 and 5.3), optionally with OSCORE (RFC 8613).

use super::{
    Block, DEFAULT_SZX, MAX_BODY, OptionList, Request, Response, TransmissionParams,
    TransportError, encode, options_of,
};
use crate::coap::{Code, Message, MessageType, OptionNumber};
use crate::error::Error;
use crate::persistence::{PersistedContext, SequenceNumberStore};
use crate::protect::SentRequest;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::time::Duration;
use iot_core::crypto::{Aead, Rng};
use std::collections::VecDeque;
use std::format;
use std::io;
use std::net::UdpSocket;
use std::string::String;
use std::time::Instant;
use std::vec::Vec;

/// Datagrams one exchange reads before it gives up (a bound besides the timers).
const MAX_DATAGRAMS: usize = 4096;
/// Length of the tokens this client makes (random, RFC 7252 section 5.3.1).
pub(super) const TOKEN_LEN: usize = 4;
/// Separate responses remembered, to acknowledge their retransmissions again.
const ACKED_MEMORY: usize = 32;
/// Room for the OSCORE option, the code byte and the tag around a protected message.
const OSCORE_OVERHEAD: usize = 64;

/// What a client did, for tests and measurements.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent (first transmissions).
    pub requests: u32,
    /// Retransmissions of confirmable requests.
    pub retransmissions: u32,
    /// Responses that came as separate responses (after an empty ACK, or without one).
    pub separate_responses: u32,
    /// Requests sent again with the Echo value of a 4.01 (RFC 9175, RFC 8613 appendix B.1.2).
    pub echo_retries: u32,
}

/// No store: the type of "no OSCORE" (in [`Client::request`] and [`Client::observe`]).
#[derive(Debug)]
pub struct NoStore;

impl SequenceNumberStore for NoStore {
    fn load(&mut self) -> crate::Result<Option<u64>> {
        Ok(None)
    }
    fn store(&mut self, _: u64) -> crate::Result<()> {
        Err(Error::Storage)
    }
}

/// A CoAP client on one UDP socket (RFC 7252): confirmable requests are retransmitted with
/// exponential back-off until acknowledged; responses are matched by message ID (ACK) and token;
/// Block2 responses are fetched to the end and Block1 requests sent in blocks (RFC 7959).
#[derive(Debug)]
pub struct Client<C> {
    socket: UdpSocket,
    crypto: C,
    params: TransmissionParams,
    next_mid: u16,
    buf: Vec<u8>,
    acked: VecDeque<(SocketAddr, u16)>,
    stats: ClientStats,
}

fn kind_is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

impl<C: Aead + Rng> Client<C> {
    /// A client on a socket bound to `local` (port 0 for an ephemeral port).
    pub fn bind(
        local: SocketAddr,
        mut crypto: C,
        params: TransmissionParams,
    ) -> Result<Self, TransportError> {
        let socket = UdpSocket::bind(local)?;
        let mut mid = [0u8; 2];
        crypto.fill_random(&mut mid).map_err(Error::from)?;
        Ok(Self {
            socket,
            crypto,
            params,
            next_mid: u16::from_be_bytes(mid),
            buf: std::vec![0u8; 65536],
            acked: VecDeque::new(),
            stats: ClientStats::default(),
        })
    }

    /// A client suited to reach `peer`: bound to the loopback address of its family when `peer`
    /// is a loopback address, else to the unspecified address; an ephemeral port.
    pub fn for_peer(
        peer: SocketAddr,
        crypto: C,
        params: TransmissionParams,
    ) -> Result<Self, TransportError> {
        let ip = match (peer.ip(), peer.ip().is_loopback()) {
            (IpAddr::V4(_), true) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            (IpAddr::V4(_), false) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            (IpAddr::V6(_), true) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            (IpAddr::V6(_), false) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        Self::bind(SocketAddr::new(ip, 0), crypto, params)
    }

    /// The socket's local address.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        Ok(self.socket.local_addr()?)
    }

    /// What the client did so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// The transmission parameters.
    pub fn params(&self) -> &TransmissionParams {
        &self.params
    }

    /// The crypto backend.
    pub fn crypto_mut(&mut self) -> &mut C {
        &mut self.crypto
    }

    fn take_mid(&mut self) -> u16 {
        let m = self.next_mid;
        self.next_mid = self.next_mid.wrapping_add(1);
        m
    }

    fn token(&mut self) -> Result<[u8; TOKEN_LEN], TransportError> {
        let mut t = [0u8; TOKEN_LEN];
        self.crypto.fill_random(&mut t).map_err(Error::from)?;
        Ok(t)
    }

    fn random_fraction(&mut self) -> Result<f64, TransportError> {
        let mut r = [0u8; 4];
        self.crypto.fill_random(&mut r).map_err(Error::from)?;
        Ok(f64::from(u32::from_be_bytes(r)) / f64::from(u32::MAX))
    }

    /// CoAP ping (RFC 7252 section 4.3): an Empty confirmable message, answered by a Reset.
    /// Returns the round-trip time.
    pub fn ping(&mut self, peer: SocketAddr) -> Result<Duration, TransportError> {
        let mid = self.take_mid();
        let ping = encode(
            MessageType::Confirmable,
            Code::EMPTY,
            mid,
            &[],
            &OptionList::new(),
            &[],
        )?;
        let start = Instant::now();
        match self.exchange(peer, &ping, mid, &[], true, false) {
            Err(TransportError::Reset) | Ok(_) => Ok(start.elapsed()),
            Err(e) => Err(e),
        }
    }

    /// Sends `request` to `peer` without protection and returns the response.
    pub fn request(
        &mut self,
        peer: SocketAddr,
        request: &Request,
    ) -> Result<Response, TransportError> {
        self.blockwise::<NoStore, 32>(peer, request, None)
    }

    /// Sends `request` to `peer` protected with OSCORE and returns the verified response. A
    /// protected 4.01 with an Echo option (a server recovering its replay window, RFC 8613
    /// appendix B.1.2) is answered once by sending the request again with that Echo value.
    pub fn request_oscore<S: SequenceNumberStore, const W: usize>(
        &mut self,
        peer: SocketAddr,
        request: &Request,
        ctx: &mut PersistedContext<S, W, C::AeadKey>,
    ) -> Result<Response, TransportError> {
        self.blockwise(peer, request, Some(ctx))
    }

    /// Block1 for a large request payload, then Block2 until the response body is complete.
    fn blockwise<S: SequenceNumberStore, const W: usize>(
        &mut self,
        peer: SocketAddr,
        request: &Request,
        mut ctx: Option<&mut PersistedContext<S, W, C::AeadKey>>,
    ) -> Result<Response, TransportError> {
        let mut response = if request.payload.len() > Block::size_of(DEFAULT_SZX) {
            self.send_blocks(peer, request, ctx.as_deref_mut())?
        } else {
            self.single(peer, request, ctx.as_deref_mut())?
        };
        let mut body: Vec<u8> = Vec::new();
        let mut follow = request.clone();
        follow.payload.clear();
        follow
            .options
            .retain(|(n, _)| *n != OptionNumber::BLOCK1 && *n != OptionNumber::BLOCK2);
        for _ in 0..=(MAX_BODY / 16) {
            let Some(value) = response.option(OptionNumber::BLOCK2) else {
                if !body.is_empty() {
                    return Err(TransportError::Blockwise(
                        "a later block came without Block2".into(),
                    ));
                }
                return Ok(response);
            };
            let b = Block::decode(value)
                .ok_or_else(|| TransportError::Blockwise("undecodable Block2".into()))?;
            if b.offset() != body.len() {
                return Err(TransportError::Blockwise(format!(
                    "block {} of size {} does not follow {} bytes",
                    b.num,
                    b.size(),
                    body.len()
                )));
            }
            body.extend_from_slice(&response.payload);
            if body.len() > MAX_BODY {
                return Err(TransportError::Blockwise(format!(
                    "body beyond {MAX_BODY} bytes"
                )));
            }
            if !b.more {
                response.payload = core::mem::take(&mut body);
                response.options.retain(|(n, _)| *n != OptionNumber::BLOCK2);
                return Ok(response);
            }
            if response.payload.len() != b.size() {
                return Err(TransportError::Blockwise("a middle block is short".into()));
            }
            let next = Block {
                num: b.num.saturating_add(1),
                more: false,
                szx: b.szx,
            };
            let mut r = follow.clone();
            r.options.push((OptionNumber::BLOCK2, next.encode()));
            response = self.single(peer, &r, ctx.as_deref_mut())?;
        }
        Err(TransportError::Blockwise("too many blocks".into()))
    }

    /// Sends a payload in Block1 blocks (RFC 7959 section 2.5), following a smaller size the
    /// server asks for; returns the response to the last block.
    fn send_blocks<S: SequenceNumberStore, const W: usize>(
        &mut self,
        peer: SocketAddr,
        request: &Request,
        mut ctx: Option<&mut PersistedContext<S, W, C::AeadKey>>,
    ) -> Result<Response, TransportError> {
        let mut szx = DEFAULT_SZX;
        let mut offset = 0usize;
        let total = request.payload.len();
        for _ in 0..=(MAX_BODY / 16) {
            let size = Block::size_of(szx);
            let end = offset.saturating_add(size).min(total);
            let more = end < total;
            let block = Block {
                num: u32::try_from(offset / size)
                    .map_err(|_| TransportError::Blockwise("too many blocks".into()))?,
                more,
                szx,
            };
            let mut r = request.clone();
            r.payload = request
                .payload
                .get(offset..end)
                .unwrap_or_default()
                .to_vec();
            r.options.retain(|(n, _)| *n != OptionNumber::BLOCK1);
            r.options.push((OptionNumber::BLOCK1, block.encode()));
            let response = self.single(peer, &r, ctx.as_deref_mut())?;
            if !more || response.code != Code::CONTINUE {
                return Ok(response);
            }
            if let Some(b) = response
                .option(OptionNumber::BLOCK1)
                .and_then(Block::decode)
            {
                szx = szx.min(b.szx);
            }
            offset = end;
        }
        Err(TransportError::Blockwise("too many blocks".into()))
    }

    /// One request and its response; with OSCORE, protected and verified, and sent once more
    /// with the Echo value of a protected 4.01.
    fn single<S: SequenceNumberStore, const W: usize>(
        &mut self,
        peer: SocketAddr,
        request: &Request,
        ctx: Option<&mut PersistedContext<S, W, C::AeadKey>>,
    ) -> Result<Response, TransportError> {
        self.single_with(peer, request, ctx, None)
            .map(|done| done.response)
    }

    /// `single` with the token given (an observation's, to cancel it) or a new one, and what an
    /// observation needs: the token, and with OSCORE the request sent and the response's
    /// Partial IV.
    pub(super) fn single_with<S: SequenceNumberStore, const W: usize>(
        &mut self,
        peer: SocketAddr,
        request: &Request,
        mut ctx: Option<&mut PersistedContext<S, W, C::AeadKey>>,
        token: Option<[u8; TOKEN_LEN]>,
    ) -> Result<Exchanged, TransportError> {
        let cancelling = token.is_some();
        let mut echo: Option<Vec<u8>> = None;
        for attempt in 0..2 {
            let mid = self.take_mid();
            let token = match token {
                Some(t) => t,
                None => self.token()?,
            };
            let mut options = request.options.clone();
            if let Some(e) = &echo {
                options.retain(|(n, _)| *n != OptionNumber::ECHO);
                options.push((OptionNumber::ECHO, e.clone()));
            }
            let message_type = if request.confirmable {
                MessageType::Confirmable
            } else {
                MessageType::NonConfirmable
            };
            let plain = encode(
                message_type,
                request.method,
                mid,
                &token,
                &options,
                &request.payload,
            )?;
            let Some(ctx) = ctx.as_deref_mut() else {
                let raw =
                    self.exchange(peer, &plain, mid, &token, request.confirmable, cancelling)?;
                return Ok(Exchanged {
                    response: owned_response(&raw)?,
                    token,
                    oscore: None,
                });
            };
            let mut protected = std::vec![0u8; plain.len() + OSCORE_OVERHEAD];
            let (n, sent) =
                ctx.protect_request(&mut self.crypto, &Message::decode(&plain)?, &mut protected)?;
            let datagram = protected.get(..n).unwrap_or_default().to_vec();
            let raw = self.exchange(
                peer,
                &datagram,
                mid,
                &token,
                request.confirmable,
                cancelling,
            )?;
            let mut input = raw.clone();
            let mut plain_response = std::vec![0u8; raw.len()];
            let (response, piv) = match ctx.unprotect_response(
                &mut self.crypto,
                &sent,
                &mut input,
                &mut plain_response,
            ) {
                Ok(r) => (
                    owned_response(plain_response.get(..r.len).unwrap_or_default())?,
                    r.partial_iv,
                ),
                Err(Error::NotProtected) => {
                    let m = Message::decode(&raw)?;
                    return Err(TransportError::UnprotectedError {
                        code: m.code(),
                        diagnostic: String::from_utf8_lossy(m.payload()).into_owned(),
                    });
                }
                Err(e) => return Err(TransportError::Oscore(e)),
            };
            match response.option(OptionNumber::ECHO) {
                Some(value) if attempt == 0 && response.code == Code::UNAUTHORIZED => {
                    echo = Some(value.to_vec());
                    self.stats.echo_retries += 1;
                }
                _ => {
                    return Ok(Exchanged {
                        response,
                        token,
                        oscore: Some((sent, piv)),
                    });
                }
            }
        }
        Err(TransportError::Oscore(Error::Replay))
    }

    /// Waits until `deadline` for a datagram from `peer` (others are dropped); none once it passed.
    pub(super) fn receive(
        &mut self,
        peer: SocketAddr,
        deadline: Instant,
    ) -> Result<Option<Vec<u8>>, TransportError> {
        for _ in 0..MAX_DATAGRAMS {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait))?;
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) if from == peer => {
                    return Ok(Some(self.buf.get(..n).unwrap_or_default().to_vec()));
                }
                Ok(_) => {}
                Err(e) if kind_is_timeout(&e) || e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    pub(super) fn send_empty(
        &mut self,
        peer: SocketAddr,
        message_type: MessageType,
        mid: u16,
    ) -> Result<(), TransportError> {
        let m = encode(message_type, Code::EMPTY, mid, &[], &OptionList::new(), &[])?;
        self.socket.send_to(&m, peer)?;
        Ok(())
    }

    /// Sends `datagram` and waits for its response (RFC 7252 sections 4.2, 4.3 and 5.2):
    /// retransmits a confirmable message with exponential back-off until it is acknowledged;
    /// a piggybacked response is matched by message ID and token, a separate one by token
    /// (and acknowledged when confirmable). Returns the raw response datagram. When `cancelling`
    /// an observation under `token`, separate responses with Observe are its late notifications
    /// and are skipped (acknowledged when confirmable).
    fn exchange(
        &mut self,
        peer: SocketAddr,
        datagram: &[u8],
        mid: u16,
        token: &[u8],
        confirmable: bool,
        cancelling: bool,
    ) -> Result<Vec<u8>, TransportError> {
        self.socket.send_to(datagram, peer)?;
        self.stats.requests += 1;
        let start = Instant::now();
        let r = self.random_fraction()?;
        let mut timeouts = self.params.retransmission_timeouts(r);
        let first = timeouts.next().unwrap_or_default();
        let mut retransmit_at = confirmable.then(|| start + first);
        let mut give_up = (!confirmable).then(|| start + self.params.response_timeout);
        let mut separate = false;
        for _ in 0..MAX_DATAGRAMS {
            let now = Instant::now();
            if let Some(at) = retransmit_at.filter(|at| now >= *at) {
                // None after MAX_RETRANSMIT retransmissions.
                let Some(timeout) = timeouts.next() else {
                    return Err(TransportError::Timeout);
                };
                self.socket.send_to(datagram, peer)?;
                self.stats.retransmissions += 1;
                retransmit_at = Some(at.max(now) + timeout);
                continue;
            }
            if give_up.is_some_and(|g| now >= g) {
                return Err(TransportError::Timeout);
            }
            let wake = match (retransmit_at, give_up) {
                (Some(a), Some(g)) => a.min(g),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => now + self.params.response_timeout,
            };
            let wait = wake
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait))?;
            let (n, from) = match self.socket.recv_from(&mut self.buf) {
                Ok(x) => x,
                Err(e) if kind_is_timeout(&e) => continue,
                // An ICMP port unreachable for an earlier datagram: the peer may come up yet.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                Err(e) => return Err(e.into()),
            };
            if from != peer {
                continue;
            }
            let d = self.buf.get(..n).unwrap_or_default().to_vec();
            let Ok(m) = Message::decode(&d) else {
                continue;
            };
            match m.message_type() {
                MessageType::Acknowledgement if m.message_id() == mid => {
                    if m.code().is_empty() {
                        // Section 5.2.2: the response follows separately.
                        retransmit_at = None;
                        separate = true;
                        give_up = Some(now + self.params.response_timeout);
                    } else if m.token() == token {
                        return Ok(d);
                    }
                }
                MessageType::Reset if m.message_id() == mid => return Err(TransportError::Reset),
                t @ (MessageType::Confirmable | MessageType::NonConfirmable)
                    if m.code().is_response() && m.token() == token =>
                {
                    if t == MessageType::Confirmable {
                        self.send_empty(peer, MessageType::Acknowledgement, m.message_id())?;
                        self.acked.push_back((peer, m.message_id()));
                        if self.acked.len() > ACKED_MEMORY {
                            self.acked.pop_front();
                        }
                    }
                    if cancelling && m.option(OptionNumber::OBSERVE).is_some() {
                        continue;
                    }
                    if separate || confirmable {
                        self.stats.separate_responses += 1;
                    }
                    return Ok(d);
                }
                MessageType::Confirmable => {
                    // A retransmitted separate response we answered before gets its ACK again;
                    // anything else unexpected is rejected (section 4.2).
                    let kind = if self.acked.contains(&(from, m.message_id())) {
                        MessageType::Acknowledgement
                    } else {
                        MessageType::Reset
                    };
                    self.send_empty(peer, kind, m.message_id())?;
                }
                _ => {}
            }
        }
        Err(TransportError::Timeout)
    }
}

/// What `Client::single_with` got.
pub(super) struct Exchanged {
    pub response: Response,
    pub token: [u8; TOKEN_LEN],
    /// With OSCORE: the request sent and the response's Partial IV.
    pub oscore: Option<(SentRequest, Option<u64>)>,
}

/// A decoded response, owned.
pub(super) fn owned_response(raw: &[u8]) -> Result<Response, TransportError> {
    let m = Message::decode(raw)?;
    Ok(Response {
        code: m.code(),
        options: options_of(&m),
        payload: m.payload().to_vec(),
    })
}
