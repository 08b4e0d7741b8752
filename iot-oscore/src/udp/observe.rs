//! The client side of Observe (RFC 7641) over UDP, optionally under OSCORE (RFC 8613 sections
//! 4.1.3.5 and 7.4.1): register, receive notifications, cancel.

use super::client::{Client, NoStore, TOKEN_LEN, owned_response};
use super::{Request, Response, TransportError, uint_of};
use crate::coap::{Message, MessageType, OptionNumber};
use crate::observe::Observation;
use crate::persistence::{PersistedContext, SequenceNumberStore};
use crate::replay::DEFAULT_REPLAY_WINDOW;
use core::net::SocketAddr;
use core::time::Duration;
use iot_core::crypto::{Aead, Rng};
use std::collections::VecDeque;
use std::time::Instant;
use std::vec::Vec;

/// Message IDs of confirmable notifications remembered, to acknowledge their retransmissions.
const ACKED: usize = 8;
/// RFC 7641 section 3.4: after this long, a notification is newer whatever its Observe value.
const FRESHNESS: Duration = Duration::from_secs(128);

/// How an observation tells a new notification from an old one.
enum Freshness<'a, S: SequenceNumberStore, const W: usize, K> {
    /// Under OSCORE: the Notification Number (RFC 8613 section 7.4.1), with the context.
    Oscore(Observation, &'a mut PersistedContext<S, W, K>),
    /// Without: the latest Observe value and when it came (RFC 7641 section 3.4).
    Plain(Option<(u32, Instant)>),
}

/// Whether Observe value `v2` at `t2` is newer than `v1` at `t1` (RFC 7641 section 3.4).
fn newer(v1: u32, t1: Instant, v2: u32, t2: Instant) -> bool {
    const HALF: u32 = 1 << 23;
    (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + FRESHNESS
}

/// An observation this client registered ([`Client::observe`], [`Client::observe_oscore`]):
/// notifications arrive through [`Self::next`]; it ends with a response without Observe, a
/// non-2.xx response, [`Self::cancel`] or [`Self::reset_next`].
///
/// Notifications that are not newer than the last one accepted (under OSCORE: a Partial IV not
/// above the Notification Number; without: an older Observe value) or that fail verification
/// are dropped and counted in [`Self::refused`]. Notifications larger than one block
/// (RFC 7959 section 2.6) are given as their first block.
pub struct Observing<
    'a,
    C: Aead,
    S: SequenceNumberStore = NoStore,
    const W: usize = DEFAULT_REPLAY_WINDOW,
> {
    client: &'a mut Client<C>,
    peer: SocketAddr,
    /// The registration without its Observe option.
    request: Request,
    token: [u8; TOKEN_LEN],
    freshness: Freshness<'a, S, W, C::AeadKey>,
    active: bool,
    acked: VecDeque<u16>,
    refused: u32,
}

impl<C: Aead, S: SequenceNumberStore, const W: usize> core::fmt::Debug for Observing<'_, C, S, W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Observing")
            .field("peer", &self.peer)
            .field("token", &self.token)
            .field("active", &self.active)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl<C: Aead + Rng> Client<C> {
    /// Registers as an observer of `request`'s resource (a GET or FETCH; Observe 0 is added,
    /// RFC 7641 section 3.1) and returns the first response with the observation. The server
    /// accepted the registration if the response carries Observe ([`Observing::is_active`]).
    pub fn observe(
        &mut self,
        peer: SocketAddr,
        request: &Request,
    ) -> Result<(Response, Observing<'_, C>), TransportError> {
        self.start_observing(peer, request, None)
    }

    /// [`Self::observe`] under OSCORE: the registration is protected with `ctx`, and each
    /// notification is verified and checked against the Notification Number (RFC 8613
    /// sections 4.1.3.5 and 7.4.1).
    pub fn observe_oscore<'a, S: SequenceNumberStore, const W: usize>(
        &'a mut self,
        peer: SocketAddr,
        request: &Request,
        ctx: &'a mut PersistedContext<S, W, C::AeadKey>,
    ) -> Result<(Response, Observing<'a, C, S, W>), TransportError> {
        self.start_observing(peer, request, Some(ctx))
    }

    fn start_observing<'a, S: SequenceNumberStore, const W: usize>(
        &'a mut self,
        peer: SocketAddr,
        request: &Request,
        mut ctx: Option<&'a mut PersistedContext<S, W, C::AeadKey>>,
    ) -> Result<(Response, Observing<'a, C, S, W>), TransportError> {
        let mut plain = request.clone();
        plain.options.retain(|(n, _)| *n != OptionNumber::OBSERVE);
        let mut registration = plain.clone();
        registration
            .options
            .push((OptionNumber::OBSERVE, Vec::new()));
        let done = self.single_with(peer, &registration, ctx.as_deref_mut(), None)?;
        let observe = done.response.option(OptionNumber::OBSERVE);
        let active = observe.is_some() && done.response.code.class() == 2;
        let freshness = match (ctx, done.oscore) {
            (Some(ctx), Some((sent, piv))) => {
                let mut observation = Observation::new(sent)?;
                observation.accept(piv, observe.is_some())?;
                Freshness::Oscore(observation, ctx)
            }
            _ => Freshness::Plain(observe.and_then(uint_of).map(|v| (v, Instant::now()))),
        };
        Ok((
            done.response,
            Observing {
                client: self,
                peer,
                request: plain,
                token: done.token,
                freshness,
                active,
                acked: VecDeque::new(),
                refused: 0,
            },
        ))
    }
}

impl<C: Aead + Rng, S: SequenceNumberStore, const W: usize> Observing<'_, C, S, W> {
    /// Whether more notifications may come.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Notifications dropped: older than the last one, replayed, or failing verification.
    pub fn refused(&self) -> u32 {
        self.refused
    }

    /// Under OSCORE, the Notification Number (RFC 8613 section 7.4.1).
    pub fn notification_number(&self) -> Option<u64> {
        match &self.freshness {
            Freshness::Oscore(o, _) => o.notification_number(),
            Freshness::Plain(_) => None,
        }
    }

    /// Waits up to `timeout` for the next notification (acknowledging it if confirmable);
    /// `None` when none came in time or the observation has ended. A response without Observe
    /// or with a code other than 2.xx is returned and ends the observation (RFC 7641 section 3.2).
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Response>, TransportError> {
        let deadline = Instant::now() + timeout;
        while self.active {
            let Some(d) = self.client.receive(self.peer, deadline)? else {
                return Ok(None);
            };
            let Ok(m) = Message::decode(&d) else {
                continue;
            };
            let (t, mid) = (m.message_type(), m.message_id());
            let ours = m.token() == self.token
                && m.code().is_response()
                && matches!(t, MessageType::Confirmable | MessageType::NonConfirmable);
            if !ours {
                // RFC 7252 section 4.2: an unexpected confirmable message is rejected, and so is
                // a response under another token (an observation forgotten, RFC 7641 section 3.6).
                if t == MessageType::Confirmable
                    || (t == MessageType::NonConfirmable && m.code().is_response())
                {
                    self.client.send_empty(self.peer, MessageType::Reset, mid)?;
                }
                continue;
            }
            if t == MessageType::Confirmable && self.acked.contains(&mid) {
                // A retransmission whose acknowledgement was lost.
                self.client
                    .send_empty(self.peer, MessageType::Acknowledgement, mid)?;
                continue;
            }
            let Some(response) = self.verify(&d)? else {
                self.refused += 1;
                continue;
            };
            if t == MessageType::Confirmable {
                self.client
                    .send_empty(self.peer, MessageType::Acknowledgement, mid)?;
                if self.acked.len() >= ACKED {
                    self.acked.pop_front();
                }
                self.acked.push_back(mid);
            }
            if response.option(OptionNumber::OBSERVE).is_none() || response.code.class() != 2 {
                self.active = false;
            }
            return Ok(Some(response));
        }
        Ok(None)
    }

    /// The verified, newer response in datagram `d`, or none if it is to be dropped.
    fn verify(&mut self, d: &[u8]) -> Result<Option<Response>, TransportError> {
        match &mut self.freshness {
            Freshness::Oscore(observation, ctx) => {
                let mut input = d.to_vec();
                let mut out = std::vec![0u8; d.len()];
                let crypto = self.client.crypto_mut();
                match observation.unprotect(ctx.context(), crypto, &mut input, &mut out) {
                    Ok(n) => Ok(Some(owned_response(
                        out.get(..n.response.len).unwrap_or_default(),
                    )?)),
                    // Refused: stale, replayed or not verifiable (RFC 8613 section 8.4).
                    Err(_) => Ok(None),
                }
            }
            Freshness::Plain(last) => {
                let response = owned_response(d)?;
                let now = Instant::now();
                let value = response.option(OptionNumber::OBSERVE).and_then(uint_of);
                if let (Some(v2), Some((v1, t1))) = (value, *last)
                    && !newer(v1, t1, v2, now)
                {
                    return Ok(None);
                }
                if let Some(v) = value {
                    *last = Some((v, now));
                }
                Ok(Some(response))
            }
        }
    }

    /// Cancels the observation (RFC 7641 section 3.6): the registration again, under the same
    /// token, with Observe 1; returns the response.
    pub fn cancel(self) -> Result<Response, TransportError> {
        let mut request = self.request;
        request.options.push((OptionNumber::OBSERVE, std::vec![1]));
        let ctx = match self.freshness {
            Freshness::Oscore(_, ctx) => Some(ctx),
            Freshness::Plain(_) => None,
        };
        self.client
            .single_with(self.peer, &request, ctx, Some(self.token))
            .map(|done| done.response)
    }

    /// Ends the observation the other way (RFC 7641 section 3.6): waits up to `timeout` for the
    /// next notification and answers it with a Reset. Returns whether one came.
    pub fn reset_next(self, timeout: Duration) -> Result<bool, TransportError> {
        let deadline = Instant::now() + timeout;
        while let Some(d) = self.client.receive(self.peer, deadline)? {
            let Ok(m) = Message::decode(&d) else {
                continue;
            };
            if m.token() == self.token && m.code().is_response() {
                self.client
                    .send_empty(self.peer, MessageType::Reset, m.message_id())?;
                return Ok(true);
            }
        }
        Ok(false)
    }
}
