//! CoAP over UDP endpoints (`std`, RFC 7252 section 4): a [`Client`] with confirmable and
//! non-confirmable requests, retransmission with exponential back-off, piggybacked and separate
//! responses, token matching and Block2 transfers (RFC 7959); a [`Server`] with message-ID
//! deduplication, piggybacked or separate responses and Block1/Block2; Observe (RFC 7641) on
//! both sides ([`Client::observe`], [`Server::notify`]). Both optionally protect
//! their messages with OSCORE (RFC 8613) through [`PersistedContext`](crate::PersistedContext),
//! for example one loaded from a [`ContextDir`](crate::context_dir::ContextDir).
//!
//! Messages here are owned ([`Request`], [`Response`]); the wire work is done by
//! [`crate::coap`] and the protection by [`crate::SecurityContext`].

mod client;
mod files;
mod observe;
mod server;
mod uri;

pub use client::{Client, ClientStats, NoStore};
pub use files::FileHandler;
pub use observe::Observing;
pub use server::{
    Handler, MAX_OBSERVERS, Notifier, OscoreContext, RequestInfo, Server, ServerConfig, ServerStats,
};
pub use uri::CoapUri;

use crate::coap::{Code, Message, MessageType, MessageWriter, OptionNumber};
use crate::error::Error;
use core::fmt;
use core::time::Duration;
use std::io;
use std::string::String;
use std::vec::Vec;

/// The transmission parameters of RFC 7252 section 4.8, and the waits derived from them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransmissionParams {
    /// ACK_TIMEOUT: the first retransmission timeout's lower bound (default 2 s).
    pub ack_timeout: Duration,
    /// ACK_RANDOM_FACTOR: the first timeout is drawn from `[ack_timeout, ack_timeout * factor]`
    /// (default 1.5; at least 1).
    pub ack_random_factor: f64,
    /// MAX_RETRANSMIT: retransmissions of a confirmable message before giving up (default 4).
    pub max_retransmit: u32,
    /// How long a server remembers a message ID for deduplication (EXCHANGE_LIFETIME, 247 s).
    pub exchange_lifetime: Duration,
    /// How long a client waits for a separate response after the empty ACK, or for the answer to
    /// a non-confirmable request (default MAX_TRANSMIT_WAIT, 93 s).
    pub response_timeout: Duration,
}

impl Default for TransmissionParams {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(2),
            ack_random_factor: 1.5,
            max_retransmit: 4,
            exchange_lifetime: Duration::from_secs(247),
            response_timeout: Duration::from_secs(93),
        }
    }
}

impl TransmissionParams {
    /// Short timers for loopback tests and demos: ACK_TIMEOUT 50 ms, MAX_RETRANSMIT 3,
    /// a 2 s response timeout and exchange lifetime.
    pub fn fast() -> Self {
        Self {
            ack_timeout: Duration::from_millis(50),
            ack_random_factor: 1.5,
            max_retransmit: 3,
            exchange_lifetime: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
        }
    }

    /// The first retransmission timeout for a random fraction `r` in `[0, 1]` (section 4.2).
    pub(crate) fn initial_timeout(&self, r: f64) -> Duration {
        let factor = self.ack_random_factor.max(1.0);
        self.ack_timeout
            .mul_f64(1.0 + (factor - 1.0) * r.clamp(0.0, 1.0))
    }

    /// The timeouts of a confirmable message (section 4.2): the initial one for a random
    /// fraction `r` in `[0, 1]`, then after each of the MAX_RETRANSMIT retransmissions one twice
    /// the last; the exchange ends when the last runs out.
    pub(crate) fn retransmission_timeouts(&self, r: f64) -> impl Iterator<Item = Duration> + use<> {
        let first = self.initial_timeout(r);
        (0..=self.max_retransmit).map(move |i| first.saturating_mul(2u32.saturating_pow(i)))
    }

    /// MAX_TRANSMIT_SPAN of section 4.8.2: from the first transmission to the last retransmission.
    pub fn max_transmit_span(&self) -> Duration {
        let doublings = 2u32.saturating_pow(self.max_retransmit).saturating_sub(1);
        self.ack_timeout
            .saturating_mul(doublings)
            .mul_f64(self.ack_random_factor.max(1.0))
    }
}

/// Why an exchange failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// The socket failed.
    Io(io::Error),
    /// No response: the retransmissions ran out (section 4.2) or the response timeout passed.
    Timeout,
    /// The peer answered with a Reset (section 4.2): it could not process the message.
    Reset,
    /// Encoding, protecting or verifying a message failed (a response that fails OSCORE
    /// verification, say).
    Oscore(Error),
    /// An OSCORE request got an unprotected error response (RFC 8613 section 8.2: the server
    /// could not verify the request, or does not speak OSCORE), with its diagnostic payload.
    UnprotectedError {
        /// The response code.
        code: Code,
        /// The diagnostic payload, as text.
        diagnostic: String,
    },
    /// A URI that is not `coap://host[:port]/path?query`, or whose host does not resolve.
    Uri(String),
    /// A block-wise transfer went wrong (blocks out of order, a body beyond the limit).
    Blockwise(String),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "socket: {e}"),
            Self::Timeout => f.write_str("no response (timed out)"),
            Self::Reset => f.write_str("the peer answered with a Reset"),
            Self::Oscore(e) => write!(f, "OSCORE: {e}"),
            Self::UnprotectedError { code, diagnostic } if diagnostic.is_empty() => {
                write!(f, "unprotected {code} {} response", code_name(*code))
            }
            Self::UnprotectedError { code, diagnostic } => write!(
                f,
                "unprotected {code} {} response: {diagnostic}",
                code_name(*code)
            ),
            Self::Uri(e) => write!(f, "URI: {e}"),
            Self::Blockwise(e) => write!(f, "block-wise transfer: {e}"),
        }
    }
}

impl core::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Oscore(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for TransportError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<Error> for TransportError {
    fn from(e: Error) -> Self {
        Self::Oscore(e)
    }
}

/// The name of a response code (RFC 7252 section 12.1.2), empty when unknown.
pub fn code_name(code: Code) -> &'static str {
    match (code.class(), code.detail()) {
        (2, 1) => "Created",
        (2, 2) => "Deleted",
        (2, 3) => "Valid",
        (2, 4) => "Changed",
        (2, 5) => "Content",
        (2, 31) => "Continue",
        (4, 0) => "Bad Request",
        (4, 1) => "Unauthorized",
        (4, 2) => "Bad Option",
        (4, 3) => "Forbidden",
        (4, 4) => "Not Found",
        (4, 5) => "Method Not Allowed",
        (4, 6) => "Not Acceptable",
        (4, 8) => "Request Entity Incomplete",
        (4, 12) => "Precondition Failed",
        (4, 13) => "Request Entity Too Large",
        (4, 15) => "Unsupported Content-Format",
        (5, 0) => "Internal Server Error",
        (5, 1) => "Not Implemented",
        (5, 2) => "Bad Gateway",
        (5, 3) => "Service Unavailable",
        (5, 4) => "Gateway Timeout",
        (5, 5) => "Proxying Not Supported",
        _ => "",
    }
}

/// Options of an owned message, in the order they were added (encoding sorts them stably).
pub type OptionList = Vec<(OptionNumber, Vec<u8>)>;

/// The value of the first option `number` in `options`.
fn first(options: &OptionList, number: OptionNumber) -> Option<&[u8]> {
    options
        .iter()
        .find(|(n, _)| *n == number)
        .map(|(_, v)| v.as_slice())
}

/// The shortest big-endian form of a `uint` option value (RFC 7252 section 3.2).
pub fn uint_value(v: u32) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.get(skip..).unwrap_or_default().to_vec()
}

/// A `uint` option value, if it is at most 4 bytes.
pub fn uint_of(value: &[u8]) -> Option<u32> {
    if value.len() > 4 {
        return None;
    }
    Some(value.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
}

/// A request, owned: method, confirmable or not, options (Uri-Path etc.) and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method code.
    pub method: Code,
    /// Confirmable (true, the default) or non-confirmable.
    pub confirmable: bool,
    /// The options.
    pub options: OptionList,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Request {
    /// A confirmable request without options or payload.
    pub fn new(method: Code) -> Self {
        Self {
            method,
            confirmable: true,
            options: Vec::new(),
            payload: Vec::new(),
        }
    }

    /// A request for `uri` (its Uri-Host, Uri-Port, Uri-Path and Uri-Query, RFC 7252 section 6.4).
    pub fn for_uri(method: Code, uri: &CoapUri) -> Self {
        let mut r = Self::new(method);
        r.options = uri.options();
        r
    }

    /// With an option added.
    pub fn with_option(mut self, number: OptionNumber, value: impl Into<Vec<u8>>) -> Self {
        self.options.push((number, value.into()));
        self
    }

    /// With this payload.
    pub fn with_payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Non-confirmable.
    pub fn non_confirmable(mut self) -> Self {
        self.confirmable = false;
        self
    }

    /// The value of the first option `number`.
    pub fn option(&self, number: OptionNumber) -> Option<&[u8]> {
        first(&self.options, number)
    }

    /// The Uri-Path segments.
    pub fn path(&self) -> impl Iterator<Item = &[u8]> {
        self.options
            .iter()
            .filter(|(n, _)| *n == OptionNumber::URI_PATH)
            .map(|(_, v)| v.as_slice())
    }

    /// The Uri-Path as text, `/a/b` (lossy for segments that are not UTF-8).
    pub fn path_text(&self) -> String {
        let mut s = String::new();
        for seg in self.path() {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(seg));
        }
        if s.is_empty() {
            s.push('/');
        }
        s
    }
}

/// A response, owned: code, options and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The response code.
    pub code: Code,
    /// The options.
    pub options: OptionList,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Response {
    /// A response with this code and no options or payload.
    pub fn new(code: Code) -> Self {
        Self {
            code,
            options: Vec::new(),
            payload: Vec::new(),
        }
    }

    /// With an option added.
    pub fn with_option(mut self, number: OptionNumber, value: impl Into<Vec<u8>>) -> Self {
        self.options.push((number, value.into()));
        self
    }

    /// With this payload.
    pub fn with_payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.payload = payload.into();
        self
    }

    /// An error response with a diagnostic payload (RFC 7252 section 5.5.2).
    pub fn error(code: Code, diagnostic: &str) -> Self {
        Self::new(code).with_payload(diagnostic.as_bytes())
    }

    /// The value of the first option `number`.
    pub fn option(&self, number: OptionNumber) -> Option<&[u8]> {
        first(&self.options, number)
    }

    /// Whether the code is 4.00 or above.
    pub fn is_error(&self) -> bool {
        self.code.class() >= 4
    }
}

/// Encodes a message with options sorted stably by number.
fn encode(
    message_type: MessageType,
    code: Code,
    message_id: u16,
    token: &[u8],
    options: &OptionList,
    payload: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut sorted: Vec<&(OptionNumber, Vec<u8>)> = options.iter().collect();
    sorted.sort_by_key(|(n, _)| *n);
    let size = 4
        + token.len()
        + sorted.iter().map(|(_, v)| v.len() + 5).sum::<usize>()
        + 1
        + payload.len();
    let mut buf = std::vec![0u8; size];
    let mut w = MessageWriter::new(&mut buf, message_type, code, message_id, token)?;
    for (n, v) in sorted {
        w.option(*n, v)?;
    }
    let len = w.payload(payload)?;
    buf.truncate(len);
    Ok(buf)
}

/// The options of a decoded message, owned.
fn options_of(msg: &Message<'_>) -> OptionList {
    msg.options()
        .map(|o| (o.number, o.value.to_vec()))
        .collect()
}

/// A Block1 / Block2 value (RFC 7959 section 2.2): block number, more flag, size exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block {
    pub num: u32,
    pub more: bool,
    pub szx: u8,
}

impl Block {
    /// Decodes an option value; SZX 7 (reserved) and values over 3 bytes are refused.
    pub fn decode(value: &[u8]) -> Option<Self> {
        if value.len() > 3 {
            return None;
        }
        let v = uint_of(value)?;
        let szx = (v & 7) as u8;
        if szx == 7 {
            return None;
        }
        Some(Self {
            num: v >> 4,
            more: v & 8 != 0,
            szx,
        })
    }

    pub fn encode(self) -> Vec<u8> {
        uint_value((self.num << 4) | (u32::from(self.more) << 3) | u32::from(self.szx & 7))
    }

    /// The block size, 2^(SZX + 4).
    pub fn size(self) -> usize {
        Self::size_of(self.szx)
    }

    /// The block size of exponent `szx` (at most 6).
    pub fn size_of(szx: u8) -> usize {
        1usize << (u32::from(szx.min(6)) + 4)
    }

    /// Offset of the block in the body.
    pub fn offset(self) -> usize {
        (self.num as usize).saturating_mul(self.size())
    }
}

/// The block size exponent used when we choose: 6, 1024 bytes (RFC 7959 section 2.2).
pub(crate) const DEFAULT_SZX: u8 = 6;

/// The largest body a client assembles from Block2 or a server from Block1 (16 MiB).
pub const MAX_BODY: usize = 16 << 20;

#[cfg(test)]
mod tests {
    use super::TransmissionParams;
    use core::time::Duration;
    use std::vec::Vec;

    /// Section 4.2: the initial timeout is drawn from `[ACK_TIMEOUT, ACK_TIMEOUT *
    /// ACK_RANDOM_FACTOR]` and doubles after each of the MAX_RETRANSMIT retransmissions; the
    /// span to the last retransmission at the largest draw is MAX_TRANSMIT_SPAN (section 4.8.2).
    #[test]
    fn timeouts_double_from_the_drawn_initial_one() {
        for params in [TransmissionParams::fast(), TransmissionParams::default()] {
            for r in [0.0, 0.3, 1.0] {
                let t: Vec<Duration> = params.retransmission_timeouts(r).collect();
                assert_eq!(t.len(), params.max_retransmit as usize + 1);
                let first = t.first().copied().unwrap_or_default();
                assert_eq!(first, params.initial_timeout(r));
                assert!(first >= params.ack_timeout);
                assert!(first <= params.ack_timeout.mul_f64(params.ack_random_factor));
                for (i, timeout) in t.iter().enumerate() {
                    assert_eq!(*timeout, first * (1 << i), "{params:?} r {r}");
                }
            }
            let span: Duration = params
                .retransmission_timeouts(1.0)
                .take(params.max_retransmit as usize)
                .sum();
            let expected = params.max_transmit_span();
            assert!(
                span.abs_diff(expected) < Duration::from_micros(1),
                "{span:?}"
            );
        }
        assert_eq!(
            TransmissionParams::default().max_transmit_span(),
            Duration::from_secs(45)
        );
    }
}
