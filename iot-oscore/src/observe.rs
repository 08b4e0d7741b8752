//! The client's side of an Observe registration under OSCORE (RFC 8613 sections 4.1.3.5, 7.4.1
//! and 8.4.1): the Notification Number that keeps old notifications out.
//!
//! A notification carries its own Partial IV. The client remembers, per registration, the
//! largest Partial IV of the notifications it accepted (the Notification Number) and refuses a
//! notification whose Partial IV is not greater, after a replay or a reordering. A refused or
//! unverifiable notification leaves the number as it was.

use crate::coap::{Message, OptionNumber};
use crate::context::SecurityContext;
use crate::error::{Error, Result};
use crate::protect::{SentRequest, UnprotectedResponse};
use iot_core::crypto::Aead;

/// One Observe registration this client made (a request with Observe 0) and its Notification
/// Number (RFC 8613 section 7.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    request: SentRequest,
    number: Option<u64>,
    /// Whether a notification was accepted (with or without a Partial IV).
    notified: bool,
}

/// A verified response to an Observe registration, from [`Observation::unprotect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// The verified response, as [`SecurityContext::unprotect_response`] returns it.
    pub response: UnprotectedResponse,
    /// Whether it is a notification (it carries Observe, RFC 7641 section 3.2), so that more may
    /// follow; a response without Observe ends the observation (RFC 7641 section 3.4).
    pub observing: bool,
}

impl Observation {
    /// Tracks the registration `request` (protected with Observe 0); fails with
    /// [`Error::ObserveMismatch`] for any other request.
    pub fn new(request: SentRequest) -> Result<Self> {
        if !request.is_observe_registration() {
            return Err(Error::ObserveMismatch);
        }
        Ok(Self {
            request,
            number: None,
            notified: false,
        })
    }

    /// The registration request, to which every notification is bound.
    pub fn request(&self) -> &SentRequest {
        &self.request
    }

    /// The Notification Number: the largest Partial IV accepted so far, none before the first
    /// notification.
    pub fn notification_number(&self) -> Option<u64> {
        self.number
    }

    /// Fails with [`Error::Replay`] if a notification with Partial IV `piv` is not newer than
    /// the Notification Number (RFC 8613 section 8.4.1); changes nothing. A notification without
    /// a Partial IV (the first response, protected with the request's nonce, as aiocoap sends
    /// it) is newer only while no notification has been accepted.
    pub fn check(&self, piv: Option<u64>) -> Result<()> {
        match (piv, self.number) {
            (Some(p), Some(n)) if p <= n => Err(Error::Replay),
            (None, _) if self.notified => Err(Error::Replay),
            _ => Ok(()),
        }
    }

    /// Records a verified response to the registration, a notification when `observing` (it
    /// carries Observe), with Partial IV `piv`: fails with [`Error::Replay`] and changes nothing
    /// if it is not newer ([`Self::check`]), else `piv` becomes the Notification Number. A final
    /// response (without Observe) with its own Partial IV is held to the same rule, so an old one
    /// cannot be replayed to end the observation; one with the request's nonce passes.
    pub fn accept(&mut self, piv: Option<u64>, observing: bool) -> Result<()> {
        if piv.is_none() && !observing {
            return Ok(());
        }
        self.check(piv)?;
        self.notified = true;
        self.number = piv.or(self.number);
        Ok(())
    }

    /// Verifies a response to the registration (RFC 8613 sections 8.4 and 8.4.1): decrypts
    /// `input` in place, writes the verified response into `out`, and records it with
    /// [`Self::accept`] ([`Error::Replay`] for an old one). Nothing changes unless the response
    /// is accepted.
    pub fn unprotect<const W: usize, K>(
        &mut self,
        ctx: &SecurityContext<W, K>,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        input: &mut [u8],
        out: &mut [u8],
    ) -> Result<Notification> {
        let response = ctx.unprotect_response(crypto, &self.request, input, out)?;
        let verified = out.get(..response.len).ok_or(Error::BufferTooSmall)?;
        let message = Message::decode(verified)?;
        let observing = message.option(OptionNumber::OBSERVE).is_some();
        self.accept(response.partial_iv, observing)?;
        Ok(Notification {
            response,
            observing,
        })
    }
}
