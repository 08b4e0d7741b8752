//! Firmware encryption (draft-ietf-suit-firmware-encryption): the SUIT_Encryption_Info, a
//! COSE_Encrypt (tag 96, RFC 9052 section 5.1) with detached ciphertext, yields the content key
//! through one recipient, and [`Decryptor`] decrypts the payload in chunks of any size.
//!
//! - Key distribution: A128KW (RFC 3394; RFC 9053 section 6.2.1) and
//!   ECDH-ES + A128KW (RFC 9053 section 6.4): P-256 ECDH with the ephemeral key (header -1), the
//!   KEK = HKDF-SHA-256 (no salt, IKM = the x-coordinate, L = 16) over the COSE_KDF_Context with
//!   AlgorithmID A128KW and SuppPubInfo `other` = "SUIT Payload Encryption" (draft section 6.2.4).
//! - Content encryption: A128GCM (RFC 9053 section 4.1, 12-byte IV, the Enc_structure "Encrypt"
//!   with empty external AAD, the 16-byte tag at the end of the payload) and A128CTR (RFC 9459,
//!   16-byte IV as the initial counter block, no integrity: the manifest's image digest is what
//!   protects a CTR payload).
//!
//! The device key's own operation (AES-KW unwrap, P-256 ECDH) is behind [`KeyUnwrap`], so a
//! secure element can keep the key; [`Kek`] is the in-memory implementation, which hands its key
//! to the crypto backend. Every operation goes through the backend's traits ([`PayloadCrypto`]:
//! iot-core's [`EcdhP256`], [`AesKeyWrap`], [`AesCtr`], [`AesGcmOpen`]), so that an accelerator
//! or a secure element can do them too.
//!
//! A firmware image does not fit in RAM, so GCM is opened in pieces ([`AesGcmOpen`]). The
//! plaintext of a GCM payload is therefore released before its tag is checked: a caller must
//! write it where it is not yet trusted (the inactive slot) and accept it only when
//! [`Decryptor::finish`] succeeds, or check the tag first ([`Decryptor::take_tag_check`]).

use crate::error::{Error, Result};
use iot_core::Error as CoreError;
use iot_core::cose::{Algorithm, CoseEncrypt, CoseKey, CoseRecipient, KdfInfo};
use iot_core::crypto::{
    AesCtr, AesGcmOpen, AesKeyWrap, EcdhP256, HmacSha256, P256SharedSecret, SHA256_LEN,
};
use zeroize::Zeroize;

/// The GCM tag length; a GCM payload is the ciphertext followed by the tag.
pub const GCM_TAG_LEN: usize = 16;
/// SuppPubInfo `other` of the COSE_KDF_Context (draft-ietf-suit-firmware-encryption section 6.2.4).
pub const KDF_CONTEXT_OTHER: &[u8] = b"SUIT Payload Encryption";
/// The COSE header label of the ephemeral key (RFC 9053 section 6.3.1).
const EPHEMERAL_KEY: i64 = -1;
/// A128KW key length, and the content key length of A128GCM and A128CTR.
const KEY_LEN: usize = 16;
/// The size of the stack buffer the COSE_KDF_Context and the Enc_structure are built in.
const CONTEXT_LEN: usize = 128;

/// The device's key-encryption key, the secret a recipient of the SUIT_Encryption_Info is opened with.
#[derive(Clone, Copy)]
pub enum Kek<'k> {
    /// An A128KW key shared with the sender (16 bytes).
    A128Kw(&'k [u8]),
    /// The device's static P-256 private key (the 32-byte scalar) for ECDH-ES + A128KW.
    EcdhEsP256(&'k [u8]),
}

impl core::fmt::Debug for Kek<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::A128Kw(_) => "Kek::A128Kw(..)",
            Self::EcdhEsP256(_) => "Kek::EcdhEsP256(..)",
        })
    }
}

impl Kek<'_> {
    /// The recipient algorithm this key opens.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::A128Kw(_) => Algorithm::A128Kw,
            Self::EcdhEsP256(_) => Algorithm::EcdhEsA128Kw,
        }
    }
}

/// The key-encryption key's own operation, wherever the key lives: in memory ([`Kek`]) or in a
/// secure element that performs it and never releases the key ([`Decryptor::open_with`],
/// [`crate::Processor::with_key_unwrap`]). Only the key operation is behind the trait: the
/// COSE structures, the KDF context, HKDF (on the backend's HMAC) and, for ECDH-ES, the AES-KW
/// unwrap under the derived KEK run here, on the crypto backend.
pub trait KeyUnwrap {
    /// The recipient algorithm this key opens: [`Algorithm::A128Kw`] or
    /// [`Algorithm::EcdhEsA128Kw`].
    fn algorithm(&self) -> Algorithm;

    /// A128KW (RFC 3394 section 2.2.2, RFC 9053 section 6.2.1): unwraps the 24-byte `wrapped`
    /// into `cek`; a failed integrity check is [`CoreError::BadTag`]. `backend` is the
    /// processor's crypto backend, with which a key held in memory ([`Kek`]) is unwrapped; an
    /// element that unwraps with its own key ignores it.
    fn unwrap_a128kw(
        &mut self,
        backend: &mut dyn AesKeyWrap,
        wrapped: &[u8],
        cek: &mut [u8; 16],
    ) -> Result<()>;

    /// ECDH-ES (RFC 9053 section 6.3.1): the P-256 shared secret (its x-coordinate) of the
    /// device's static key and `ephemeral`, the sender's SEC1 point as its COSE_Key gave it
    /// (uncompressed, or compressed), already checked by the backend to be on the curve and not
    /// the identity ([`iot_core::crypto::EcdhP256::p256_check_point`]), so that a key kept in
    /// an element is never multiplied by an invalid-curve point. `backend` is
    /// the processor's crypto backend, which does the ECDH of a key held in memory ([`Kek`]); an
    /// element that keeps its key ignores it.
    fn ecdh_p256(
        &mut self,
        backend: &mut dyn EcdhP256,
        ephemeral: &[u8],
    ) -> Result<P256SharedSecret>;
}

impl KeyUnwrap for Kek<'_> {
    fn algorithm(&self) -> Algorithm {
        Kek::algorithm(self)
    }

    fn unwrap_a128kw(
        &mut self,
        backend: &mut dyn AesKeyWrap,
        wrapped: &[u8],
        cek: &mut [u8; 16],
    ) -> Result<()> {
        match self {
            Self::A128Kw(k) => backend.aes128_kw_unwrap(k, wrapped, cek).map_err(core),
            Self::EcdhEsP256(_) => Err(core(CoreError::AlgorithmMismatch)),
        }
    }

    fn ecdh_p256(
        &mut self,
        backend: &mut dyn EcdhP256,
        ephemeral: &[u8],
    ) -> Result<P256SharedSecret> {
        match self {
            Self::EcdhEsP256(d) => backend.p256_ecdh(d, ephemeral).map_err(core),
            Self::A128Kw(_) => Err(core(CoreError::AlgorithmMismatch)),
        }
    }
}

fn core(e: CoreError) -> Error {
    Error::Core(e)
}

/// The KEK of an ECDH-ES + A128KW recipient (RFC 9053 sections 6.3.1 and 6.4).
fn ecdh_kek<C: HmacSha256 + EcdhP256, U: KeyUnwrap + ?Sized>(
    crypto: &mut C,
    recipient: &CoseRecipient<'_>,
    key: &mut U,
    kek: &mut [u8; KEY_LEN],
) -> Result<()> {
    let raw = recipient
        .headers
        .protected
        .get_raw(EPHEMERAL_KEY)
        .or_else(|| recipient.headers.unprotected.get_raw(EPHEMERAL_KEY))
        .ok_or(core(CoreError::InvalidHeader(CoreError::label(
            EPHEMERAL_KEY,
        ))))?;
    let mut sec1 = [0u8; 65];
    let ephemeral = CoseKey::decode(raw)
        .and_then(|k| k.sec1_point(&mut sec1))
        .map_err(|_| core(CoreError::InvalidHeader(CoreError::label(EPHEMERAL_KEY))))?;
    crypto.p256_check_point(ephemeral).map_err(core)?;
    let shared = key.ecdh_p256(crypto, ephemeral)?;
    derive_kek(crypto, recipient, shared.as_bytes(), kek)
}

/// KEK = HKDF-SHA-256 of the shared x-coordinate over the COSE_KDF_Context (RFC 9053 section 5.2).
pub(crate) fn derive_kek<C: HmacSha256>(
    crypto: &mut C,
    recipient: &CoseRecipient<'_>,
    shared: &[u8],
    kek: &mut [u8; KEY_LEN],
) -> Result<()> {
    let info = KdfInfo {
        supp_pub_other: Some(KDF_CONTEXT_OTHER),
        ..KdfInfo::default()
    };
    let mut context = [0u8; CONTEXT_LEN];
    let n = recipient
        .write_kdf_context(Algorithm::A128Kw, &info, &mut context)
        .map_err(core)?;
    let ctx = context.get(..n).ok_or(core(CoreError::BufferTooSmall))?;
    hkdf_16(crypto, shared, ctx, kek)
}

/// HKDF-SHA-256 (RFC 5869 section 2) with no salt and L = 16, on the backend's HMAC (so that the
/// processor needs no more of its crypto backend than it already does): PRK = HMAC(0^32, IKM),
/// OKM = the first 16 bytes of HMAC(PRK, info || 0x01).
fn hkdf_16<C: HmacSha256>(
    crypto: &mut C,
    ikm: &[u8],
    info: &[u8],
    okm: &mut [u8; KEY_LEN],
) -> Result<()> {
    let mut state = crypto.hmac_start(&[0u8; SHA256_LEN]).map_err(core)?;
    crypto.hmac_update(&mut state, ikm);
    let mut prk = crypto.hmac_finish(state);
    let started = crypto.hmac_start(&prk);
    prk.zeroize();
    let mut state = started.map_err(core)?;
    crypto.hmac_update(&mut state, info);
    crypto.hmac_update(&mut state, &[1]);
    let mut t = crypto.hmac_finish(state);
    if let Some(head) = t.get(..KEY_LEN) {
        okm.copy_from_slice(head);
    }
    t.zeroize();
    Ok(())
}

/// The content key from the one recipient whose algorithm is `kek`'s; a recipient of another
/// algorithm only is [`CoreError::AlgorithmMismatch`].
fn content_key<C: HmacSha256 + EcdhP256 + AesKeyWrap, U: KeyUnwrap + ?Sized>(
    crypto: &mut C,
    info: &CoseEncrypt<'_>,
    kek: &mut U,
    cek: &mut [u8; KEY_LEN],
) -> Result<()> {
    let mut found = None;
    for recipient in info.recipients.iter() {
        if recipient.alg().map_err(core)? == kek.algorithm() {
            found = Some(recipient);
            break;
        }
    }
    let recipient = found.ok_or(core(CoreError::AlgorithmMismatch))?;
    let wrapped = recipient.ciphertext.ok_or(core(CoreError::InvalidKey))?;
    if kek.algorithm() == Algorithm::A128Kw {
        return kek.unwrap_a128kw(crypto, wrapped, cek);
    }
    let mut derived = [0u8; KEY_LEN];
    let result = ecdh_kek(crypto, &recipient, kek, &mut derived).and_then(|()| {
        crypto
            .aes128_kw_unwrap(&derived, wrapped, cek)
            .map_err(core)
    });
    derived.zeroize();
    result
}

/// What the payload decryption asks of the crypto backend: P-256 ECDH and HMAC for the ECDH-ES
/// KEK, and the AES operations of iot-core ([`AesKeyWrap`], [`AesCtr`], [`AesGcmOpen`]).
pub trait PayloadCrypto: HmacSha256 + EcdhP256 + AesKeyWrap + AesCtr + AesGcmOpen {}
impl<T: HmacSha256 + EcdhP256 + AesKeyWrap + AesCtr + AesGcmOpen> PayloadCrypto for T {}

/// A first pass over an A128GCM ciphertext that checks its tag before anything is written
/// ([`Decryptor::take_tag_check`]). The backend decrypts as it authenticates: each piece given
/// to [`TagCheck::update`] is overwritten with its (unauthenticated) plaintext, so give it a
/// copy in a scratch buffer and throw that away.
pub struct TagCheck<C: AesGcmOpen>(C::GcmOpenState);

impl<C: AesGcmOpen> core::fmt::Debug for TagCheck<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TagCheck").finish_non_exhaustive()
    }
}

impl<C: AesGcmOpen> TagCheck<C> {
    /// Absorbs the next piece of ciphertext (overwritten, see above).
    pub fn update(&mut self, crypto: &mut C, scratch: &mut [u8]) -> Result<()> {
        crypto
            .aes128_gcm_open_update(&mut self.0, scratch)
            .map_err(core)
    }

    /// Checks `tag` in constant time ([`CoreError::BadTag`]) after the whole ciphertext.
    pub fn finish(self, crypto: &mut C, tag: &[u8]) -> Result<()> {
        crypto.aes128_gcm_open_finish(self.0, tag).map_err(core)
    }
}

enum Mode<C: AesCtr + AesGcmOpen> {
    Ctr(C::AesCtrState),
    Gcm {
        open: C::GcmOpenState,
        check: Option<TagCheck<C>>,
    },
}

/// Decrypts one encrypted payload in chunks (bounded state, no buffer of the payload) on the
/// crypto backend `C`.
///
/// Feed the ciphertext (without a GCM tag) to [`Decryptor::decrypt`] in order, in pieces of any
/// size, then call [`Decryptor::finish`] with the tag (empty for A128CTR). Key material lives in
/// the backend's states, which zeroize on drop.
pub struct Decryptor<C: AesCtr + AesGcmOpen> {
    mode: Mode<C>,
}

impl<C: AesCtr + AesGcmOpen> core::fmt::Debug for Decryptor<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decryptor")
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl<C: PayloadCrypto> Decryptor<C> {
    /// Opens SUIT_Encryption_Info `info` (a COSE_Encrypt with detached ciphertext) with `kek`.
    ///
    /// Errors (as [`Error::Core`]): a recipient of `kek`'s algorithm missing
    /// ([`CoreError::AlgorithmMismatch`]), a content algorithm other than A128GCM / A128CTR
    /// ([`CoreError::UnsupportedAlgorithm`]), an IV of the wrong length ([`CoreError::InvalidNonce`]),
    /// a wrong key or tampered wrapped key ([`CoreError::BadTag`]), an attached ciphertext or a
    /// malformed structure.
    pub fn open(crypto: &mut C, info: &[u8], kek: &Kek<'_>) -> Result<Self> {
        let mut key = *kek;
        Self::open_with(crypto, info, &mut key)
    }

    /// [`Decryptor::open`] with the key operation done by `key` (a secure element, say).
    pub fn open_with<U: KeyUnwrap + ?Sized>(
        crypto: &mut C,
        info: &[u8],
        kek: &mut U,
    ) -> Result<Self> {
        let msg = CoseEncrypt::decode(info).map_err(core)?;
        if msg.ciphertext.is_some() {
            // SUIT carries the ciphertext as the payload (draft section 5): detached only.
            return Err(core(CoreError::PayloadMismatch));
        }
        let alg = msg.alg().map_err(core)?;
        let iv = msg.headers.iv().ok_or(core(CoreError::InvalidNonce))?;
        let iv_len = match alg {
            Algorithm::A128Gcm => 12,
            Algorithm::A128Ctr => 16,
            a => {
                return Err(core(CoreError::UnsupportedAlgorithm(CoreError::label(
                    a.id(),
                ))));
            }
        };
        if iv.len() != iv_len {
            return Err(core(CoreError::InvalidNonce));
        }
        let mut cek = [0u8; KEY_LEN];
        let result = content_key(crypto, &msg, kek, &mut cek)
            .and_then(|()| Self::with_key(crypto, &msg, alg, iv, &cek));
        cek.zeroize();
        result
    }

    fn with_key(
        crypto: &mut C,
        msg: &CoseEncrypt<'_>,
        alg: Algorithm,
        iv: &[u8],
        cek: &[u8],
    ) -> Result<Self> {
        if alg == Algorithm::A128Ctr {
            let ctr = crypto.aes128_ctr_start(cek, iv).map_err(core)?;
            return Ok(Self {
                mode: Mode::Ctr(ctr),
            });
        }
        // The associated data is the Enc_structure ["Encrypt", protected, h''] (RFC 9052 section 5.3).
        let enc_structure = msg.enc_structure(&[]).map_err(core)?;
        let aad = enc_structure.pieces();
        let aad = &aad;
        let open = crypto.aes128_gcm_open_start(cek, iv, aad).map_err(core)?;
        let check = crypto.aes128_gcm_open_start(cek, iv, aad).map_err(core)?;
        Ok(Self {
            mode: Mode::Gcm {
                open,
                check: Some(TagCheck(check)),
            },
        })
    }
}

impl<C: AesCtr + AesGcmOpen> Decryptor<C> {
    /// The content algorithm (A128GCM or A128CTR).
    pub fn algorithm(&self) -> Algorithm {
        match self.mode {
            Mode::Ctr(_) => Algorithm::A128Ctr,
            Mode::Gcm { .. } => Algorithm::A128Gcm,
        }
    }

    /// The length of the tag at the end of the payload: 16 for A128GCM, 0 for A128CTR.
    pub fn tag_len(&self) -> usize {
        match self.mode {
            Mode::Ctr(_) => 0,
            Mode::Gcm { .. } => GCM_TAG_LEN,
        }
    }

    /// For A128GCM, a second tag computation under the same key and IV (`None` for A128CTR
    /// and when taken already): feed it the whole ciphertext and check the tag before
    /// decrypting anything.
    pub fn take_tag_check(&mut self) -> Option<TagCheck<C>> {
        match &mut self.mode {
            Mode::Ctr(_) => None,
            Mode::Gcm { check, .. } => check.take(),
        }
    }

    /// Decrypts the next piece of ciphertext in place. For A128GCM the plaintext is not
    /// authentic until [`Decryptor::finish`] succeeds.
    pub fn decrypt(&mut self, crypto: &mut C, chunk: &mut [u8]) -> Result<()> {
        match &mut self.mode {
            Mode::Ctr(ctr) => crypto.aes128_ctr_apply(ctr, chunk),
            Mode::Gcm { open, .. } => crypto.aes128_gcm_open_update(open, chunk),
        }
        .map_err(core)
    }

    /// Ends the payload: for A128GCM checks `tag` in constant time ([`CoreError::BadTag`]); for
    /// A128CTR `tag` must be empty.
    pub fn finish(self, crypto: &mut C, tag: &[u8]) -> Result<()> {
        match self.mode {
            Mode::Gcm { open, .. } => crypto.aes128_gcm_open_finish(open, tag).map_err(core),
            Mode::Ctr(_) if tag.is_empty() => Ok(()),
            Mode::Ctr(_) => Err(core(CoreError::BadTag)),
        }
    }
}

/// Decrypts a whole payload held in `buf` (ciphertext, then the tag for A128GCM) in place and
/// returns the plaintext length; on failure `buf` is zeroed.
pub fn decrypt_in_place<C: PayloadCrypto>(
    crypto: &mut C,
    info: &[u8],
    kek: &Kek<'_>,
    buf: &mut [u8],
) -> Result<usize> {
    let result = Decryptor::open(crypto, info, kek).and_then(|mut d| {
        let n = buf
            .len()
            .checked_sub(d.tag_len())
            .ok_or(core(CoreError::BadTag))?;
        let (body, tag) = buf.split_at_mut(n);
        d.decrypt(crypto, body)?;
        d.finish(crypto, tag)?;
        Ok(n)
    });
    if result.is_err() {
        buf.fill(0);
    }
    result
}
