//! Surviving reboots with a security context derived once (RFC 8613 appendix B.1).
//!
//! - B.1.1: the Sender Sequence Number is persisted through a [`SequenceNumberStore`] in steps of
//!   `K`: before the first number of each block of `K` is used, that number is stored; after a
//!   reboot the counter resumes `K` above the stored value, so no number is used twice however
//!   the power fails.
//! - B.1.2: after a reboot the replay window is unknown. The first verified request is not
//!   processed: it is answered with a protected 4.01 Unauthorized carrying an Echo option
//!   (RFC 9175 section 2.4) and the server's own Partial IV. A request that returns the Echo value
//!   is fresh; its Partial IV becomes the lower limit of the new replay window.

use crate::coap::{Code, MAX_TOKEN_LEN, Message, MessageType, MessageWriter, OptionNumber};
use crate::context::{DefaultAeadKey, SecurityContext};
use crate::error::{Error, Result};
use crate::protect::{ReceivedRequest, ResponseNonce, SentRequest, UnprotectedResponse};
use crate::replay::{DEFAULT_REPLAY_WINDOW, ReplayWindow};
use iot_core::crypto::{Aead, Rng, ct_eq};

/// Length of the Echo values this server issues (random bytes, RFC 9175 section 2.3).
pub const ECHO_LEN: usize = 8;

/// Durable storage for one Sender Sequence Number (flash, EEPROM, a file).
pub trait SequenceNumberStore {
    /// The value stored last, or `None` if nothing was ever stored ([`Error::Storage`] on failure).
    fn load(&mut self) -> Result<Option<u64>>;
    /// Stores `value`; it must be durable when this returns ([`Error::Storage`] on failure).
    fn store(&mut self, value: u64) -> Result<()>;
}

impl<T: SequenceNumberStore + ?Sized> SequenceNumberStore for &mut T {
    fn load(&mut self) -> Result<Option<u64>> {
        (**self).load()
    }
    fn store(&mut self, value: u64) -> Result<()> {
        (**self).store(value)
    }
}

/// What [`PersistedContext::unprotect_request`] made of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A verified, fresh request of `len` bytes in the output buffer.
    Request {
        /// Length of the verified request.
        len: usize,
        /// The binding for its response.
        request: ReceivedRequest,
    },
    /// The request verified but its freshness is unknown after a reboot: the output buffer holds
    /// `len` bytes of a protected 4.01 response with an Echo option to send back instead of
    /// processing the request (RFC 8613 appendix B.1.2). Its message ID is the request's; a
    /// transport may rewrite it (the header is not protected).
    EchoChallenge {
        /// Length of the protected challenge.
        len: usize,
    },
}

/// A security context whose Sender Sequence Number is persisted in steps of `K` (appendix
/// B.1.1) and whose replay window is recovered with Echo after a reboot (appendix B.1.2).
///
/// It wraps [`SecurityContext`] and offers the same four operations; the context itself is only
/// lent out read-only, so no sequence number can be used without being covered by the store.
#[derive(Debug)]
pub struct PersistedContext<
    S: SequenceNumberStore,
    const W: usize = DEFAULT_REPLAY_WINDOW,
    K = DefaultAeadKey,
> {
    ctx: SecurityContext<W, K>,
    store: S,
    k: u64,
    /// Sequence numbers below this are covered by the stored value.
    reserved_until: u64,
    /// The replay window is unknown until a request returns [`Self::echo`].
    recovering: bool,
    echo: Option<[u8; ECHO_LEN]>,
}

impl<S: SequenceNumberStore, const W: usize, K> PersistedContext<S, W, K> {
    /// A context used for the first time (freshly provisioned): its counter and replay window
    /// are taken as they are. `k` is the number of sequence numbers per store write (at least 1).
    pub fn first_boot(ctx: SecurityContext<W, K>, store: S, k: u64) -> Result<Self> {
        if k == 0 {
            return Err(Error::InvalidContext);
        }
        let reserved_until = ctx.sender_sequence_number();
        Ok(Self {
            ctx,
            store,
            k,
            reserved_until,
            recovering: false,
            echo: None,
        })
    }

    /// The same context after a reboot, derived again from the same parameters: the Sender
    /// Sequence Number resumes at the stored value plus `k` (appendix B.1.1), and the replay
    /// window is recovered with Echo before any request is processed (appendix B.1.2).
    pub fn after_reboot(mut ctx: SecurityContext<W, K>, mut store: S, k: u64) -> Result<Self> {
        if k == 0 {
            return Err(Error::InvalidContext);
        }
        if let Some(stored) = store.load()? {
            let resume = stored
                .checked_add(k)
                .ok_or(Error::SequenceNumberExhausted)?;
            if resume > ctx.sender_sequence_number() {
                ctx.set_sender_sequence_number(resume)
                    .map_err(|_| Error::SequenceNumberExhausted)?;
            }
        }
        let reserved_until = ctx.sender_sequence_number();
        ctx.set_replay_window(ReplayWindow::new());
        Ok(Self {
            ctx,
            store,
            k,
            reserved_until,
            recovering: true,
            echo: None,
        })
    }

    /// The wrapped context, read-only.
    pub fn context(&self) -> &SecurityContext<W, K> {
        &self.ctx
    }

    /// The store, read-only.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Whether the replay window is still to be recovered with Echo.
    pub fn is_recovering(&self) -> bool {
        self.recovering
    }

    /// Makes sure the next Sender Sequence Number is covered by the store, writing the start of a
    /// new block of `k` when it is not. A failed write uses no number.
    fn reserve(&mut self) -> Result<()> {
        let next = self.ctx.sender_sequence_number();
        if next >= self.reserved_until {
            self.store.store(next)?;
            self.reserved_until = next.saturating_add(self.k);
        }
        Ok(())
    }

    /// [`SecurityContext::protect_request`], with the sequence number persisted first.
    pub fn protect_request(
        &mut self,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        request: &Message<'_>,
        out: &mut [u8],
    ) -> Result<(usize, SentRequest)> {
        self.reserve()?;
        self.ctx.protect_request(crypto, request, out)
    }

    /// [`SecurityContext::protect_response`], with the sequence number persisted first when the
    /// response takes its own Partial IV.
    pub fn protect_response(
        &mut self,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        request: &mut ReceivedRequest,
        response: &Message<'_>,
        nonce: ResponseNonce,
        out: &mut [u8],
    ) -> Result<usize> {
        if nonce == ResponseNonce::Own {
            self.reserve()?;
        }
        self.ctx
            .protect_response(crypto, request, response, nonce, out)
    }

    /// [`SecurityContext::unprotect_response`].
    pub fn unprotect_response(
        &self,
        crypto: &mut (impl Aead<AeadKey = K> + ?Sized),
        request: &SentRequest,
        input: &mut [u8],
        out: &mut [u8],
    ) -> Result<UnprotectedResponse> {
        self.ctx.unprotect_response(crypto, request, input, out)
    }

    /// [`SecurityContext::unprotect_request`]; while the replay window is being recovered, a
    /// verified request without the current Echo value is answered with an
    /// [`Incoming::EchoChallenge`] instead of being returned.
    pub fn unprotect_request(
        &mut self,
        crypto: &mut (impl Aead<AeadKey = K> + Rng + ?Sized),
        input: &mut [u8],
        out: &mut [u8],
    ) -> Result<Incoming> {
        let (len, request) = self.ctx.unprotect_request(crypto, input, out)?;
        if !self.recovering {
            return Ok(Incoming::Request { len, request });
        }
        let (echoed, reply_type, message_id, token, token_len) = {
            let msg = Message::decode(out.get(..len).unwrap_or_default())?;
            let echoed = match (&self.echo, msg.option(OptionNumber::ECHO)) {
                (Some(issued), Some(got)) => ct_eq(issued, got.value),
                _ => false,
            };
            let reply_type = if msg.message_type() == MessageType::Confirmable {
                MessageType::Acknowledgement
            } else {
                MessageType::NonConfirmable
            };
            let mut token = [0u8; MAX_TOKEN_LEN];
            let t = msg.token();
            token
                .get_mut(..t.len())
                .ok_or(Error::ValueTooLong)?
                .copy_from_slice(t);
            (echoed, reply_type, msg.message_id(), token, t.len())
        };
        let seq = request.partial_iv().sequence_number();
        if echoed {
            // Fresh: everything below this Partial IV is older than the reboot.
            let mut window = ReplayWindow::with_lower_limit(seq);
            window.accept(seq);
            self.ctx.set_replay_window(window);
            self.recovering = false;
            self.echo = None;
            return Ok(Incoming::Request { len, request });
        }
        // Not known to be fresh: forget it, and challenge.
        self.ctx.set_replay_window(ReplayWindow::new());
        let echo = match self.echo {
            Some(e) => e,
            None => {
                let mut e = [0u8; ECHO_LEN];
                crypto.fill_random(&mut e)?;
                self.echo = Some(e);
                e
            }
        };
        let mut plain = [0u8; 4 + MAX_TOKEN_LEN + 2 + ECHO_LEN];
        let mut w = MessageWriter::new(
            &mut plain,
            reply_type,
            Code::UNAUTHORIZED,
            message_id,
            token.get(..token_len).unwrap_or_default(),
        )?;
        w.option(OptionNumber::ECHO, &echo)?;
        let n = w.finish();
        let challenge = Message::decode(plain.get(..n).unwrap_or_default())?;
        let mut request = request;
        let len =
            self.protect_response(crypto, &mut request, &challenge, ResponseNonce::Own, out)?;
        Ok(Incoming::EchoChallenge { len })
    }
}
