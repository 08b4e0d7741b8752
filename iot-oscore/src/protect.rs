//! Protecting and verifying requests and responses (RFC 8613 section 8), and the binding of a
//! response to its request (section 7.1).
//!
//! A client protects a request with [`SecurityContext::protect_request`] and keeps the returned
//! [`SentRequest`] to verify the response with [`SecurityContext::unprotect_response`]. A server
//! verifies with [`SecurityContext::unprotect_request`] and answers with
//! [`SecurityContext::protect_response`] on the returned [`ReceivedRequest`].
//!
//! Verification decrypts the payload in place in the caller's input buffer and writes the
//! verified CoAP message into a second buffer (the result is shorter than the input, so a
//! buffer as long as the input suffices).

use crate::aad::ExternalAad;
use crate::classes::{inner_on_send, kept_on_receive, outer_on_send};
use crate::coap::{
    CoapOption, Code, Message, MessageType, MessageWriter, OptionNumber, OptionValue, Options,
    OptionsWriter, split_options,
};
use crate::context::{Id, MAX_ID_CONTEXT_LEN, MAX_ID_LEN, SecurityContext, same_bytes};
use crate::error::{Error, Result};
use crate::nonce::{MAX_PARTIAL_IV_LEN, Nonce, PartialIv};
use crate::oscore_option::OscoreOption;
#[cfg(feature = "proxy-uri")]
use crate::proxy_uri::ProxyUri;
use core::ops::Range;
use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::Aead;

/// A request this endpoint protected: what its responses are bound to (RFC 8613 section 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentRequest {
    kid: Id,
    piv: PartialIv,
    registration: bool,
}

impl SentRequest {
    /// The request's kid (this endpoint's Sender ID).
    pub fn kid(&self) -> &[u8] {
        self.kid.as_slice()
    }

    /// The request's Partial IV.
    pub fn partial_iv(&self) -> &PartialIv {
        &self.piv
    }

    /// Whether the request registered an observation (Observe 0), so that notifications may follow.
    pub fn is_observe_registration(&self) -> bool {
        self.registration
    }
}

/// A request this endpoint verified: what its responses are bound to (RFC 8613 section 7.1).
///
/// Not `Clone`: it records whether the request's nonce has been used for a response, which may
/// happen once (RFC 8613 section 5.2).
#[derive(Debug, PartialEq, Eq)]
pub struct ReceivedRequest {
    kid: Id,
    piv: PartialIv,
    registration: bool,
    nonce_used: bool,
}

impl ReceivedRequest {
    /// The request's kid (the client's Sender ID).
    pub fn kid(&self) -> &[u8] {
        self.kid.as_slice()
    }

    /// The request's Partial IV.
    pub fn partial_iv(&self) -> &PartialIv {
        &self.piv
    }

    /// Whether the request registered an observation (Observe 0).
    pub fn is_observe_registration(&self) -> bool {
        self.registration
    }

    /// Whether a response already used the request's nonce.
    pub fn nonce_used(&self) -> bool {
        self.nonce_used
    }
}

/// Which nonce protects a response (RFC 8613 sections 5.2 and 8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseNonce {
    /// The request's nonce; the response carries no Partial IV. Allowed once per request.
    Request,
    /// A nonce from a new Partial IV of this endpoint's Sender Sequence Number, carried in the
    /// response (required for Observe notifications and after a reboot, appendix B.1.2).
    Own,
}

/// The outcome of [`SecurityContext::unprotect_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnprotectedResponse {
    /// Length of the verified CoAP message written to the output buffer.
    pub len: usize,
    /// The response's Partial IV as a sequence number, if it carried one (a notification's
    /// number for the client's Notification Number check, RFC 8613 section 7.4.1).
    pub partial_iv: Option<u64>,
}

/// Writes two option streams, each in order, as one ordered stream.
#[cfg(feature = "proxy-uri")]
fn merge<'v>(
    a: impl Iterator<Item = (OptionNumber, OptionValue<'v>)>,
    b: impl Iterator<Item = (OptionNumber, OptionValue<'v>)>,
    mut write: impl FnMut(OptionNumber, OptionValue<'v>) -> Result<()>,
) -> Result<()> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    loop {
        let from_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.0 <= y.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return Ok(()),
        };
        let next = if from_a { a.next() } else { b.next() };
        if let Some((n, v)) = next {
            write(n, v)?;
        }
    }
}

/// What protection needs to know of an original message, found in one pass over its options.
struct Original<'m> {
    /// The decomposed Proxy-Uri, if any.
    #[cfg(feature = "proxy-uri")]
    proxy: Option<ProxyUri<'m>>,
    /// The first Observe option, if any.
    observe: Option<CoapOption<'m>>,
}

impl Original<'_> {
    /// Whether the message registers an observation (Observe 0, RFC 7641 section 2).
    fn registration(&self) -> bool {
        self.observe.is_some_and(|o| o.uint() == Some(0))
    }
}

/// Checks an original message before protection: no OSCORE option (nested OSCORE is not
/// supported, RFC 8613 section 4.1.3.6) and a Proxy-Uri, if any, that decomposes and comes alone
/// (without the `proxy-uri` feature a Proxy-Uri cannot be decomposed and is refused).
fn check_original<'m>(msg: &Message<'m>) -> Result<Original<'m>> {
    #[cfg(feature = "proxy-uri")]
    let (mut proxy, mut uri_options) = (None, false);
    let mut observe = None;
    for o in msg.options() {
        match o.number {
            OptionNumber::OSCORE => return Err(Error::NestedOscore),
            #[cfg(feature = "proxy-uri")]
            OptionNumber::PROXY_URI if proxy.is_some() => return Err(Error::InvalidProxyUri),
            #[cfg(feature = "proxy-uri")]
            OptionNumber::PROXY_URI => proxy = Some(ProxyUri::parse(o.value)?),
            #[cfg(not(feature = "proxy-uri"))]
            OptionNumber::PROXY_URI => return Err(Error::InvalidProxyUri),
            OptionNumber::OBSERVE if observe.is_none() => observe = Some(o),
            #[cfg(feature = "proxy-uri")]
            OptionNumber::URI_HOST
            | OptionNumber::URI_PORT
            | OptionNumber::URI_PATH
            | OptionNumber::URI_QUERY => uri_options = true,
            _ => {}
        }
    }
    #[cfg(feature = "proxy-uri")]
    if proxy.is_some() && uri_options {
        return Err(Error::InvalidProxyUri);
    }
    Ok(Original {
        #[cfg(feature = "proxy-uri")]
        proxy,
        observe,
    })
}

/// The longest OSCORE option a context writes: flags, Partial IV, kid context with its length,
/// kid (RFC 8613 section 6.1).
const OSCORE_OPTION_CAPACITY: usize = 1 + MAX_PARTIAL_IV_LEN + 1 + MAX_ID_CONTEXT_LEN + MAX_ID_LEN;

/// What protects one message.
struct Sealing<'k, K> {
    alg: AeadAlgorithm,
    key: &'k K,
    nonce: Nonce,
    aad: ExternalAad,
}

/// Writes the OSCORE message for `msg` (RFC 8613 sections 4 and 5.3): outer header and options with
/// the OSCORE option, then the plaintext (code, inner options, payload) encrypted in place and the tag.
fn seal<K>(
    crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
    msg: &Message<'_>,
    original: &Original<'_>,
    is_request: bool,
    oscore: &OscoreOption<'_>,
    s: &Sealing<'_, K>,
    out: &mut [u8],
) -> Result<usize> {
    let mut oscore_value = [0u8; OSCORE_OPTION_CAPACITY];
    let oscore_len = oscore.encode(&mut oscore_value)?;
    let oscore_value = oscore_value.get(..oscore_len).unwrap_or_default();
    #[cfg(feature = "proxy-uri")]
    let proxy = original.proxy.as_ref();
    let observe = original.observe.is_some();
    // The outer code (RFC 8613 section 4.2): POST / 2.04, or FETCH / 2.05 with Outer Observe.
    let outer_code = match (is_request, observe) {
        (true, false) => Code::POST,
        (true, true) => Code::FETCH,
        (false, false) => Code::CHANGED,
        (false, true) => Code::CONTENT,
    };
    let mut w = MessageWriter::new(
        out,
        msg.message_type(),
        outer_code,
        msg.message_id(),
        msg.token(),
    )?;
    // The outer options in order, the OSCORE option among them (the original has none).
    let mut oscore_pending = true;
    for o in msg.options().filter(|o| outer_on_send(o.number)) {
        if oscore_pending && o.number > OptionNumber::OSCORE {
            w.option(OptionNumber::OSCORE, oscore_value)?;
            oscore_pending = false;
        }
        #[cfg(feature = "proxy-uri")]
        if let Some(p) = proxy.filter(|_| o.number == OptionNumber::PROXY_URI) {
            w.option(o.number, p.outer())?;
            continue;
        }
        w.option(o.number, o.value)?;
    }
    if oscore_pending {
        w.option(OptionNumber::OSCORE, oscore_value)?;
    }
    w.payload_with(|buf| {
        let plain_len = {
            let mut p = OptionsWriter::new(buf);
            p.byte(msg.code().0)?;
            let inner = msg.options().filter(|o| inner_on_send(o.number)).map(|o| {
                // A notification's Inner Observe is empty (RFC 8613 section 4.1.3.5.2).
                let v = if !is_request && o.number == OptionNumber::OBSERVE {
                    &[][..]
                } else {
                    o.value
                };
                (o.number, OptionValue::Bytes(v))
            });
            #[cfg(feature = "proxy-uri")]
            merge(
                inner,
                proxy.into_iter().flat_map(|p| p.inner_options()),
                |n, v| p.value(n, v),
            )?;
            #[cfg(not(feature = "proxy-uri"))]
            inner.into_iter().try_for_each(|(n, v)| p.value(n, v))?;
            p.payload(msg.payload())?;
            p.len()
        };
        let tag_len = s.alg.tag_len();
        let (plain, rest) = buf
            .split_at_mut_checked(plain_len)
            .ok_or(Error::BufferTooSmall)?;
        let tag = rest.get_mut(..tag_len).ok_or(Error::BufferTooSmall)?;
        crypto.aead_seal(s.key, s.nonce.as_bytes(), &[s.aad.aad()], plain, tag)?;
        Ok(plain_len + tag_len)
    })
}

/// The OSCORE option of a received message: exactly one ([`Error::NotProtected`] without,
/// [`Error::BadOscoreOption`] when repeated or undecodable), and a payload longer than the tag.
fn received_option<'m>(msg: &Message<'m>, alg: AeadAlgorithm) -> Result<OscoreOption<'m>> {
    // Options come in order: the OSCORE option, if any, is the first from its number on, and a
    // second one would follow it directly.
    let mut from_oscore = msg
        .options()
        .skip_while(|o| o.number < OptionNumber::OSCORE);
    let value = match from_oscore.next() {
        Some(o) if o.number == OptionNumber::OSCORE => o.value,
        _ => return Err(Error::NotProtected),
    };
    if from_oscore
        .next()
        .is_some_and(|o| o.number == OptionNumber::OSCORE)
    {
        return Err(Error::BadOscoreOption);
    }
    let option = OscoreOption::decode(value)?;
    // The ciphertext holds at least the code and the tag (RFC 8613 sections 5.3 and 8.2 step 2).
    if msg.payload().len() <= alg.tag_len() {
        return Err(Error::BadOscoreOption);
    }
    Ok(option)
}

/// Where the parts of a received OSCORE message lie in its bytes, noted while it was decoded
/// before decryption, so that [`open`] need not decode the outer message again.
struct Received {
    message_type: MessageType,
    message_id: u16,
    token: Range<usize>,
    options: Range<usize>,
    payload_start: usize,
}

impl Received {
    fn of(msg: &Message<'_>) -> Self {
        Self {
            message_type: msg.message_type(),
            message_id: msg.message_id(),
            token: msg.token_range(),
            options: msg.options_range(),
            payload_start: msg.payload_range().start,
        }
    }
}

/// Which way a message goes, for [`open`].
#[derive(Clone, Copy)]
enum Direction {
    Request,
    Response {
        piv: Option<u64>,
        registration: bool,
    },
}

/// Decrypts the payload of the OSCORE message in `input` in place, checks the inner message, and
/// writes the verified CoAP message (outer header, Class U options, inner code, options and
/// payload; RFC 8613 section 8.2 steps 6 and 7) into `out`. Returns its length and whether it
/// carries Observe 0. Changes no context state.
fn open<K>(
    crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
    input: &mut [u8],
    received: &Received,
    s: &Sealing<'_, K>,
    dir: Direction,
    out: &mut [u8],
) -> Result<(usize, bool)> {
    let (head, payload) = input
        .split_at_mut_checked(received.payload_start)
        .ok_or(Error::BadOscoreOption)?;
    let ct_len = payload
        .len()
        .checked_sub(s.alg.tag_len())
        .filter(|&n| n > 0)
        .ok_or(Error::BadOscoreOption)?;
    let (ct, tag) = payload
        .split_at_mut_checked(ct_len)
        .ok_or(Error::BadOscoreOption)?;
    crypto
        .aead_open(s.key, s.nonce.as_bytes(), &[s.aad.aad()], ct, tag)
        .map_err(|e| match e {
            iot_core::Error::BadTag => Error::DecryptionFailed,
            e => Error::from(e),
        })?;
    let plain: &[u8] = ct;
    let (&code, body) = plain.split_first().ok_or(Error::MalformedPlaintext)?;
    let code = Code(code);
    let code_ok = match dir {
        Direction::Request => code.is_request(),
        Direction::Response { .. } => code.is_response(),
    };
    if !code_ok {
        return Err(Error::MalformedPlaintext);
    }
    let (inner_region, inner_payload) =
        split_options(body, 0).map_err(|_| Error::MalformedPlaintext)?;
    // The outer header, token and options as received (validated before decryption).
    let head: &[u8] = head;
    let mut w = MessageWriter::new(
        out,
        received.message_type,
        code,
        received.message_id,
        head.get(received.token.clone()).unwrap_or_default(),
    )?;
    // One pass over the inner options, merged in order with the kept outer ones (outer first on
    // equal numbers), checking them on the way: no inner OSCORE option; the first Inner Observe
    // decides whether this is a registration or a notification. What was written before a
    // failure is left in `out`, which is scratch until this returns.
    let mut kept = Options::validated(head.get(received.options.clone()).unwrap_or_default())
        .filter(|o| kept_on_receive(o.number));
    let mut next_kept = kept.next();
    let mut observe = None;
    let mut notification_piv = None;
    for o in Options::validated(inner_region) {
        match o.number {
            OptionNumber::OSCORE => return Err(Error::MalformedPlaintext),
            OptionNumber::OBSERVE if observe.is_none() => {
                observe = Some(o);
                if let Direction::Response { piv, registration } = dir {
                    // An Inner Observe only answers a registration, and a notification has a
                    // Partial IV (RFC 8613 section 8.4.2, steps B and C), except that the first
                    // response may use the request's nonce (aiocoap's does); `Observation`
                    // accepts that once.
                    match piv {
                        Some(seq) if registration => notification_piv = Some(seq),
                        None if registration => {}
                        _ => return Err(Error::ObserveMismatch),
                    }
                }
            }
            _ => {}
        }
        while let Some(k) = next_kept.filter(|k| k.number <= o.number) {
            w.option(k.number, k.value)?;
            next_kept = kept.next();
        }
        match notification_piv {
            // The Inner Observe of a notification is empty; give the application the three least
            // significant bytes of the Partial IV as its value (RFC 8613 section 4.1.3.5.2).
            Some(seq) if o.number == OptionNumber::OBSERVE && o.value.is_empty() => {
                w.option_uint(o.number, (seq & 0xff_ffff) as u32)?
            }
            _ => w.option(o.number, o.value)?,
        }
    }
    while let Some(k) = next_kept {
        w.option(k.number, k.value)?;
        next_kept = kept.next();
    }
    let registration = observe.is_some_and(|o| o.uint() == Some(0));
    let len = w.payload(inner_payload.unwrap_or_default())?;
    Ok((len, registration))
}

/// Copies an Empty message (an empty ACK or RST), which OSCORE leaves as it is.
fn pass_through(msg: &[u8], out: &mut [u8]) -> Result<usize> {
    out.get_mut(..msg.len())
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(msg);
    Ok(msg.len())
}

impl<const W: usize, K> SecurityContext<W, K> {
    /// What protects one message under `key`: the AAD of the request with `request_kid` and
    /// `request_piv` (RFC 8613 section 5.4) and the nonce of the message's own Partial IV with the
    /// Sender ID of the endpoint that generated it, if it has one, else of the request's (section
    /// 5.2). Out of line: the four protect and verify paths share it.
    #[inline(never)]
    fn sealing<'k>(
        &self,
        key: &'k K,
        request_kid: &[u8],
        request_piv: &PartialIv,
        own_piv: Option<(&[u8], &PartialIv)>,
    ) -> Result<Sealing<'k, K>> {
        let (id_piv, nonce_piv) = own_piv.unwrap_or((request_kid, request_piv));
        Ok(Sealing {
            alg: self.alg,
            key,
            nonce: Nonce::new(self.alg, self.common_iv(), id_piv, nonce_piv)?,
            aad: ExternalAad::new(self.alg, request_kid, request_piv.as_bytes())?,
        })
    }

    /// Protects a request (RFC 8613 section 8.1) into `out` and returns its length and the binding
    /// for the response. Takes the next Sender Sequence Number as Partial IV; includes the kid
    /// and, if the context has one, the kid context.
    pub fn protect_request(
        &mut self,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        request: &Message<'_>,
        out: &mut [u8],
    ) -> Result<(usize, SentRequest)> {
        if !request.code().is_request() {
            return Err(Error::WrongMessageKind);
        }
        let original = check_original(request)?;
        let piv = self.take_partial_iv()?;
        let sealing = self.sealing(&self.sender_key, self.sender_id(), &piv, None)?;
        let oscore = OscoreOption {
            partial_iv: Some(piv.as_bytes()),
            kid_context: self.id_context(),
            kid: Some(self.sender_id()),
        };
        let len = seal(crypto, request, &original, true, &oscore, &sealing, out)?;
        Ok((
            len,
            SentRequest {
                kid: self.sender_id,
                piv,
                registration: original.registration(),
            },
        ))
    }

    /// Verifies a request (RFC 8613 section 8.2): decrypts `input` in place and writes the
    /// verified request into `out`. The replay window is checked before and updated only after
    /// the whole message verified, so a rejected request changes nothing.
    pub fn unprotect_request(
        &mut self,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        input: &mut [u8],
        out: &mut [u8],
    ) -> Result<(usize, ReceivedRequest)> {
        let (received, piv) = {
            let msg = Message::decode(input)?;
            if !msg.code().is_request() {
                return Err(Error::WrongMessageKind);
            }
            let option = received_option(&msg, self.alg)?;
            let (Some(piv), Some(kid)) = (option.partial_iv, option.kid) else {
                return Err(Error::BadOscoreOption);
            };
            let piv = PartialIv::from_bytes(piv)?;
            if !same_bytes(kid, self.recipient_id()) {
                return Err(Error::UnknownContext);
            }
            if let Some(c) = option.kid_context
                && !self.id_context().is_some_and(|own| same_bytes(c, own))
            {
                return Err(Error::UnknownContext);
            }
            (Received::of(&msg), piv)
        };
        let seq = piv.sequence_number();
        self.replay.check(seq)?;
        let sealing = self.sealing(&self.recipient_key, self.recipient_id(), &piv, None)?;
        let (len, registration) =
            open(crypto, input, &received, &sealing, Direction::Request, out)?;
        self.replay.accept(seq);
        Ok((
            len,
            ReceivedRequest {
                kid: self.recipient_id,
                piv,
                registration,
                nonce_used: false,
            },
        ))
    }

    /// Protects a response to `request` (RFC 8613 section 8.3) into `out` and returns its length.
    ///
    /// With [`ResponseNonce::Request`] the request's nonce is reused and no Partial IV is sent;
    /// this is allowed once per request ([`Error::RequestNonceUsed`] afterwards, even if this call
    /// fails). A response with Observe is a notification and needs [`ResponseNonce::Own`]
    /// ([`Error::ObserveMismatch`]). An Empty message (an empty ACK) is copied unchanged.
    pub fn protect_response(
        &mut self,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        request: &mut ReceivedRequest,
        response: &Message<'_>,
        nonce: ResponseNonce,
        out: &mut [u8],
    ) -> Result<usize> {
        if response.code().is_empty() {
            return pass_through(response.as_bytes(), out);
        }
        if !response.code().is_response() {
            return Err(Error::WrongMessageKind);
        }
        if request.kid != self.recipient_id {
            return Err(Error::BindingMismatch);
        }
        let original = check_original(response)?;
        let observe = original.observe.is_some();
        let own_piv = match nonce {
            ResponseNonce::Request if observe => return Err(Error::ObserveMismatch),
            ResponseNonce::Request if request.nonce_used => return Err(Error::RequestNonceUsed),
            ResponseNonce::Request => {
                request.nonce_used = true;
                None
            }
            ResponseNonce::Own => Some(self.take_partial_iv()?),
        };
        let own = own_piv.as_ref().map(|p| (self.sender_id(), p));
        let sealing = self.sealing(&self.sender_key, request.kid(), &request.piv, own)?;
        let oscore = OscoreOption {
            partial_iv: own_piv.as_ref().map(PartialIv::as_bytes),
            kid_context: None,
            kid: None,
        };
        seal(crypto, response, &original, false, &oscore, &sealing, out)
    }

    /// Verifies a response to `request` (RFC 8613 section 8.4): decrypts `input` in place and
    /// writes the verified response into `out`. An Empty message (an empty ACK or RST) is copied
    /// unchanged. Changes no state: replay of responses is prevented by the binding to the request
    /// (the caller accepts one response per non-Observe request) and, for notifications, by the
    /// caller comparing [`UnprotectedResponse::partial_iv`] with its Notification Number.
    pub fn unprotect_response(
        &self,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        request: &SentRequest,
        input: &mut [u8],
        out: &mut [u8],
    ) -> Result<UnprotectedResponse> {
        if request.kid != self.sender_id {
            return Err(Error::BindingMismatch);
        }
        let (received, piv) = {
            let msg = Message::decode(input)?;
            if msg.code().is_empty() {
                let len = pass_through(msg.as_bytes(), out)?;
                return Ok(UnprotectedResponse {
                    len,
                    partial_iv: None,
                });
            }
            if !msg.code().is_response() {
                return Err(Error::WrongMessageKind);
            }
            let option = received_option(&msg, self.alg)?;
            // A kid context MUST NOT be in a response (RFC 8613 section 5); a kid, if any, is the peer's.
            if option.kid_context.is_some() {
                return Err(Error::BadOscoreOption);
            }
            if option
                .kid
                .is_some_and(|k| !same_bytes(k, self.recipient_id()))
            {
                return Err(Error::UnknownContext);
            }
            let piv = option.partial_iv.map(PartialIv::from_bytes).transpose()?;
            (Received::of(&msg), piv)
        };
        let own = piv.as_ref().map(|p| (self.recipient_id(), p));
        let sealing = self.sealing(&self.recipient_key, request.kid(), &request.piv, own)?;
        let seq = piv.as_ref().map(PartialIv::sequence_number);
        let dir = Direction::Response {
            piv: seq,
            registration: request.registration,
        };
        let (len, _) = open(crypto, input, &received, &sealing, dir, out)?;
        Ok(UnprotectedResponse {
            len,
            partial_iv: seq,
        })
    }
}
