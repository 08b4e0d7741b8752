//! The OSCORE security context (RFC 8613 section 3): the Common, Sender and Recipient Contexts,
//! derived from the pre-established input parameters with HKDF-SHA-256 (section 3.2.1).

use crate::error::{Error, Result};
use crate::nonce::PartialIv;
use crate::replay::{DEFAULT_REPLAY_WINDOW, ReplayWindow};
use core::fmt;
use iot_core::cose::{AeadAlgorithm, MAX_NONCE_LEN};
use iot_core::crypto::{Aead, HkdfSha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The longest Sender or Recipient ID: the nonce length minus 6 (RFC 8613 section 3.3), 7 bytes
/// for AES-CCM-16-64-128 and 6 for the 12-byte-nonce algorithms.
pub const MAX_ID_LEN: usize = MAX_NONCE_LEN - 6;
/// The longest ID Context this crate holds (RFC 8613 leaves it unbounded; this is a capacity).
pub const MAX_ID_CONTEXT_LEN: usize = 32;
/// The largest Sender Sequence Number: it must stay below 2^40 (RFC 8613 section 7.2.1).
pub const MAX_SEQUENCE_NUMBER: u64 = (1 << 40) - 1;
/// The largest key of [`AeadAlgorithm`].
const MAX_KEY_LEN: usize = 32;

/// Whether two short byte strings (IDs, ID Contexts) are equal: a loop rather than a call to
/// `memcmp`, which a device image would otherwise link for these few bytes (code size).
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A byte string of at most `N` bytes held inline (IDs, ID Contexts).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShortBytes<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> ShortBytes<N> {
    /// A copy of `bytes`, or `None` if it is longer than `N`.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut b = [0u8; N];
        b.get_mut(..bytes.len())?.copy_from_slice(bytes);
        Some(Self {
            bytes: b,
            len: bytes.len(),
        })
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Debug for ShortBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h'")?;
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        write!(f, "'")
    }
}

/// A Sender or Recipient ID.
pub type Id = ShortBytes<MAX_ID_LEN>;
/// An ID Context.
pub type IdContext = ShortBytes<MAX_ID_CONTEXT_LEN>;

/// The pre-established input parameters (RFC 8613 section 3.2).
#[derive(Clone, Copy)]
pub struct ContextParams<'a> {
    /// The AEAD Algorithm; default AES-CCM-16-64-128 (10).
    pub alg: AeadAlgorithm,
    /// The Master Secret.
    pub master_secret: &'a [u8],
    /// The Master Salt; default empty.
    pub master_salt: &'a [u8],
    /// The ID Context, if any.
    pub id_context: Option<&'a [u8]>,
    /// This endpoint's Sender ID.
    pub sender_id: &'a [u8],
    /// This endpoint's Recipient ID (the peer's Sender ID).
    pub recipient_id: &'a [u8],
}

impl fmt::Debug for ContextParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextParams")
            .field("alg", &self.alg)
            .field("id_context", &self.id_context)
            .field("sender_id", &self.sender_id)
            .field("recipient_id", &self.recipient_id)
            .finish_non_exhaustive()
    }
}

impl<'a> ContextParams<'a> {
    /// The parameters with the defaults of RFC 8613 section 3.2: algorithm 10, empty Master Salt,
    /// no ID Context.
    pub fn new(master_secret: &'a [u8], sender_id: &'a [u8], recipient_id: &'a [u8]) -> Self {
        Self {
            alg: AeadAlgorithm::AesCcm16_64_128,
            master_secret,
            master_salt: &[],
            id_context: None,
            sender_id,
            recipient_id,
        }
    }

    /// With a Master Salt.
    pub fn master_salt(mut self, salt: &'a [u8]) -> Self {
        self.master_salt = salt;
        self
    }

    /// With an ID Context.
    pub fn id_context(mut self, id_context: &'a [u8]) -> Self {
        self.id_context = Some(id_context);
        self
    }

    /// With another AEAD Algorithm.
    pub fn alg(mut self, alg: AeadAlgorithm) -> Self {
        self.alg = alg;
        self
    }
}

/// The key type of a [`SecurityContext`] that names none: the RustCrypto backend's prepared key.
#[cfg(feature = "rustcrypto")]
pub type DefaultAeadKey = iot_core::crypto::RustCryptoAeadKey;
/// Without the `rustcrypto` feature there is no default backend: a [`SecurityContext`] names its
/// backend's `Aead::AeadKey`.
#[cfg(not(feature = "rustcrypto"))]
pub type DefaultAeadKey = NoDefaultBackend;

/// Stands for the missing default backend (feature `rustcrypto` off); no backend prepares it.
#[cfg(not(feature = "rustcrypto"))]
#[derive(Debug)]
pub enum NoDefaultBackend {}

/// The secrets derived from the input parameters (RFC 8613 section 3.2.1): Sender Key, Recipient
/// Key and Common IV, as bytes; zeroized on drop. [`SecurityContext::derive`] hands the keys to
/// the backend and keeps only what it prepared; this is for tools and tests that show a derivation.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DerivedKeys {
    #[zeroize(skip)]
    alg: AeadAlgorithm,
    sender: [u8; MAX_KEY_LEN],
    recipient: [u8; MAX_KEY_LEN],
    common_iv: [u8; MAX_NONCE_LEN],
}

/// An OSCORE security context (RFC 8613 section 3.1) with a replay window of `W` sequence
/// numbers, holding the Sender and Recipient Keys as the backend prepared them (`K`, its
/// `Aead::AeadKey`: an expanded key schedule, or a secure element's handle).
///
/// The Master Secret and Master Salt are not kept after derivation (section 3.1 allows this),
/// nor are the key bytes; the prepared keys zeroize on drop.
pub struct SecurityContext<const W: usize = DEFAULT_REPLAY_WINDOW, K = DefaultAeadKey> {
    pub(crate) alg: AeadAlgorithm,
    pub(crate) sender_id: Id,
    pub(crate) recipient_id: Id,
    pub(crate) id_context: Option<IdContext>,
    pub(crate) sender_key: K,
    pub(crate) recipient_key: K,
    common_iv: [u8; MAX_NONCE_LEN],
    sender_sequence_number: u64,
    pub(crate) replay: ReplayWindow<W>,
}

impl<const W: usize, K> fmt::Debug for SecurityContext<W, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityContext")
            .field("alg", &self.alg)
            .field("sender_id", &self.sender_id)
            .field("recipient_id", &self.recipient_id)
            .field("id_context", &self.id_context)
            .field("sender_sequence_number", &self.sender_sequence_number)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

/// A writer of the small CBOR items of the HKDF `info` (RFC 8613 section 3.2.1): heads with arguments below 256, in preferred (shortest) form (RFC 8949
/// section 4.2.1). A larger argument or a full buffer is noted and reported once, by
/// [`SmallCbor::finish`], as [`Error::InvalidContext`].
struct SmallCbor<'b> {
    buf: &'b mut [u8],
    len: usize,
    failed: bool,
}

impl<'b> SmallCbor<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            failed: false,
        }
    }

    /// The length written, or [`Error::InvalidContext`] if anything did not fit.
    fn finish(&self) -> Result<usize> {
        if self.failed {
            return Err(Error::InvalidContext);
        }
        Ok(self.len)
    }

    fn raw(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len = end;
            }
            None => self.failed = true,
        }
    }

    /// A head of major type `major` with argument `arg` (below 256).
    fn head(&mut self, major: u8, arg: u64) {
        let mt = major << 5;
        match u8::try_from(arg) {
            Ok(a @ 0..=23) => self.raw(&[mt | a]),
            Ok(a) => self.raw(&[mt | 24, a]),
            Err(_) => self.failed = true,
        }
    }

    // Out of line (code size).
    #[inline(never)]
    fn bytes(&mut self, bytes: &[u8]) {
        self.head(2, bytes.len() as u64);
        self.raw(bytes);
    }

    /// An integer (a COSE algorithm identifier).
    fn int(&mut self, v: i64) {
        match u64::try_from(v) {
            Ok(u) => self.head(0, u),
            Err(_) => self.head(1, (-1 - v) as u64),
        }
    }
}

/// The `type` "Key" of the HKDF `info`, encoded: text(3).
const KEY: &[u8] = b"\x63Key";
/// The `type` "IV" of the HKDF `info`, encoded: text(2).
const IV: &[u8] = b"\x62IV";

/// Capacity of the HKDF `info`: array head, id (1 + 7), id_context (2 + 32), alg (2), type (1 + 3), L (2).
const INFO_CAPACITY: usize = 1 + (1 + MAX_ID_LEN) + (2 + MAX_ID_CONTEXT_LEN) + 2 + 4 + 2;

/// `info = [id, id_context / nil, alg_aead, type, L]` (RFC 8613 section 3.2.1); `kind` is the
/// encoded `type` ([`KEY`] or [`IV`]).
fn info<'b>(
    out: &'b mut [u8; INFO_CAPACITY],
    id: &[u8],
    id_context: Option<&[u8]>,
    alg: AeadAlgorithm,
    kind: &[u8],
    len: usize,
) -> Result<&'b [u8]> {
    let mut w = SmallCbor::new(out);
    w.raw(&[0x85]);
    w.bytes(id);
    match id_context {
        Some(c) => w.bytes(c),
        None => w.raw(&[0xf6]), // null
    }
    w.int(alg.algorithm().id());
    w.raw(kind);
    w.head(0, len as u64);
    let n = w.finish()?;
    Ok(out.get(..n).unwrap_or_default())
}

impl DerivedKeys {
    /// Derives Sender Key, Recipient Key and Common IV (RFC 8613 section 3.2.1):
    /// `HKDF(salt = Master Salt, IKM = Master Secret, info, L)`.
    ///
    /// Fails with [`Error::InvalidContext`] when an ID is longer than the nonce length minus 6,
    /// the Sender and Recipient IDs are equal, or the ID Context exceeds [`MAX_ID_CONTEXT_LEN`].
    // Out of line, so that HKDF's temporaries are gone before the keys are prepared (stack depth).
    #[inline(never)]
    pub fn derive(
        crypto: &mut (impl HkdfSha256 + ?Sized),
        params: &ContextParams<'_>,
    ) -> Result<Self> {
        let alg = params.alg;
        let max_id = alg.nonce_len() - 6;
        if params.sender_id.len() > max_id
            || params.recipient_id.len() > max_id
            || same_bytes(params.sender_id, params.recipient_id)
            || params
                .id_context
                .is_some_and(|c| c.len() > MAX_ID_CONTEXT_LEN)
        {
            return Err(Error::InvalidContext);
        }
        let mut keys = Self {
            alg,
            sender: [0; MAX_KEY_LEN],
            recipient: [0; MAX_KEY_LEN],
            common_iv: [0; MAX_NONCE_LEN],
        };
        let key_len = alg.key_len();
        let nonce_len = alg.nonce_len();
        let mut buf = [0u8; INFO_CAPACITY];
        for (id, kind, out) in [
            (params.sender_id, KEY, keys.sender.get_mut(..key_len)),
            (params.recipient_id, KEY, keys.recipient.get_mut(..key_len)),
            (&[][..], IV, keys.common_iv.get_mut(..nonce_len)),
        ] {
            let out = out.ok_or(Error::InvalidContext)?;
            let info = info(&mut buf, id, params.id_context, alg, kind, out.len())?;
            crypto.hkdf_sha256(params.master_salt, params.master_secret, info, out)?;
        }
        Ok(keys)
    }

    /// The Sender Key (secret).
    pub fn sender_key(&self) -> &[u8] {
        self.sender.get(..self.alg.key_len()).unwrap_or_default()
    }

    /// The Recipient Key (secret).
    pub fn recipient_key(&self) -> &[u8] {
        self.recipient.get(..self.alg.key_len()).unwrap_or_default()
    }

    /// The Common IV.
    pub fn common_iv(&self) -> &[u8] {
        self.common_iv
            .get(..self.alg.nonce_len())
            .unwrap_or_default()
    }
}

impl<const W: usize, K> SecurityContext<W, K> {
    /// Derives the context (RFC 8613 section 3.2.1, see [`DerivedKeys::derive`]) and has the
    /// backend prepare the Sender and Recipient Keys once, for every message to come.
    ///
    /// Fails with [`Error::InvalidContext`] when an ID is longer than the nonce length minus 6,
    /// the Sender and Recipient IDs are equal, or the ID Context exceeds [`MAX_ID_CONTEXT_LEN`].
    pub fn derive(
        crypto: &mut (impl HkdfSha256 + Aead<AeadKey = K> + ?Sized),
        params: &ContextParams<'_>,
    ) -> Result<Self> {
        // Before the derivation, so that no failure after it has derived keys to erase: these
        // fail only where `DerivedKeys::derive` fails as well, with the same error.
        let sender_id = Id::from_slice(params.sender_id).ok_or(Error::InvalidContext)?;
        let recipient_id = Id::from_slice(params.recipient_id).ok_or(Error::InvalidContext)?;
        let id_context = match params.id_context {
            Some(c) => Some(IdContext::from_slice(c).ok_or(Error::InvalidContext)?),
            None => None,
        };
        let keys = DerivedKeys::derive(crypto, params)?;
        Ok(Self {
            alg: keys.alg,
            sender_id,
            recipient_id,
            id_context,
            sender_key: crypto.aead_key(keys.alg, keys.sender_key())?,
            recipient_key: crypto.aead_key(keys.alg, keys.recipient_key())?,
            common_iv: keys.common_iv,
            sender_sequence_number: 0,
            replay: ReplayWindow::new(),
        })
    }

    /// The AEAD Algorithm.
    pub fn alg(&self) -> AeadAlgorithm {
        self.alg
    }

    /// The Sender ID.
    pub fn sender_id(&self) -> &[u8] {
        self.sender_id.as_slice()
    }

    /// The Recipient ID.
    pub fn recipient_id(&self) -> &[u8] {
        self.recipient_id.as_slice()
    }

    /// The ID Context, if any.
    pub fn id_context(&self) -> Option<&[u8]> {
        self.id_context.as_ref().map(IdContext::as_slice)
    }

    /// The Common IV.
    pub fn common_iv(&self) -> &[u8] {
        self.common_iv
            .get(..self.alg.nonce_len())
            .unwrap_or_default()
    }

    /// The next Sender Sequence Number to be used.
    pub fn sender_sequence_number(&self) -> u64 {
        self.sender_sequence_number
    }

    /// Moves the Sender Sequence Number forward to `next` (restoring persisted state, RFC 8613
    /// appendix B.1.1). Moving it back would reuse nonces and fails with [`Error::InvalidContext`].
    pub fn set_sender_sequence_number(&mut self, next: u64) -> Result<()> {
        if next < self.sender_sequence_number || next > MAX_SEQUENCE_NUMBER + 1 {
            return Err(Error::InvalidContext);
        }
        self.sender_sequence_number = next;
        Ok(())
    }

    /// The replay window of the Recipient Context.
    pub fn replay_window(&self) -> &ReplayWindow<W> {
        &self.replay
    }

    /// Replaces the replay window (after a reboot, once freshness is established as RFC 8613
    /// appendix B.1.2 describes).
    pub fn set_replay_window(&mut self, window: ReplayWindow<W>) {
        self.replay = window;
    }

    /// Takes the next Sender Sequence Number as a Partial IV and advances the counter; a number
    /// is never handed out twice, even if the message it was taken for is not sent.
    pub(crate) fn take_partial_iv(&mut self) -> Result<PartialIv> {
        let seq = self.sender_sequence_number;
        if seq > MAX_SEQUENCE_NUMBER {
            return Err(Error::SequenceNumberExhausted);
        }
        let piv = PartialIv::from_sequence_number(seq).ok_or(Error::SequenceNumberExhausted)?;
        self.sender_sequence_number = seq + 1;
        Ok(piv)
    }
}
