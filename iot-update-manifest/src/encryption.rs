//! Firmware encryption (draft-ietf-suit-firmware-encryption): the SUIT_Encryption_Info, a
//! COSE_Encrypt (tag 96, RFC 9052 section 5.1) with detached ciphertext, yields the content key
//! through one recipient, and [`Decryptor`] decrypts the payload in chunks of any size.
//!
//! - Key distribution: A128KW (RFC 3394 via the `aes-kw` crate; RFC 9053 section 6.2.1) and
//!   ECDH-ES + A128KW (RFC 9053 section 6.4): P-256 ECDH with the ephemeral key (header -1), the
//!   KEK = HKDF-SHA-256 (no salt, IKM = the x-coordinate, L = 16) over the COSE_KDF_Context with
//!   AlgorithmID A128KW and SuppPubInfo `other` = "SUIT Payload Encryption" (draft section 6.2.4).
//! - Content encryption: A128GCM (RFC 9053 section 4.1, 12-byte IV, the Enc_structure "Encrypt"
//!   with empty external AAD, the 16-byte tag at the end of the payload) and A128CTR (RFC 9459,
//!   16-byte IV as the initial counter block, no integrity: the manifest's image digest is what
//!   protects a CTR payload).
//!
//! The device key's own operation (AES-KW unwrap, P-256 ECDH) is behind [`KeyUnwrap`], so a
//! secure element can keep the key; [`Kek`] is the in-memory implementation.
//!
//! GCM is streamed here from RustCrypto's primitives (`aes`, `ctr`, `ghash`) because the `aes-gcm`
//! crate decrypts only whole messages in one buffer; a firmware image does not fit in RAM. The
//! plaintext of a GCM payload is therefore released before its tag is checked: a caller must
//! write it where it is not yet trusted (the inactive slot) and accept it only when
//! [`Decryptor::finish`] succeeds.

use crate::error::{Error, Result};
use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use iot_core::Error as CoreError;
use iot_core::cose::{Algorithm, CoseEncrypt, CoseKey, CoseRecipient, KdfInfo};
use iot_core::crypto::{HmacSha256, SHA256_LEN, ct_eq};
use zeroize::Zeroize;

/// The GCM tag length; a GCM payload is the ciphertext followed by the tag.
pub const GCM_TAG_LEN: usize = 16;
/// SuppPubInfo `other` of the COSE_KDF_Context (draft-ietf-suit-firmware-encryption section 6.2.4).
pub const KDF_CONTEXT_OTHER: &[u8] = b"SUIT Payload Encryption";
/// The COSE header label of the ephemeral key (RFC 9053 section 6.3.1).
const EPHEMERAL_KEY: i64 = -1;
/// A128KW key length, and the content key length of A128GCM and A128CTR.
const KEY_LEN: usize = 16;
/// A key wrapped with AES-KW: the key and the 8-byte integrity block.
const WRAPPED_LEN: usize = KEY_LEN + 8;
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
/// unwrap under the derived KEK run here.
pub trait KeyUnwrap {
    /// The recipient algorithm this key opens: [`Algorithm::A128Kw`] or
    /// [`Algorithm::EcdhEsA128Kw`].
    fn algorithm(&self) -> Algorithm;

    /// A128KW (RFC 3394 section 2.2.2, RFC 9053 section 6.2.1): unwraps the 24-byte `wrapped`
    /// into `cek`; a failed integrity check is [`CoreError::BadTag`].
    fn unwrap_a128kw(&mut self, wrapped: &[u8], cek: &mut [u8; 16]) -> Result<()>;

    /// ECDH-ES (RFC 9053 section 6.3.1): the x-coordinate of the P-256 shared secret of the
    /// device's static key and `ephemeral` (a SEC1 uncompressed point, 65 bytes).
    fn ecdh_p256(&mut self, ephemeral: &[u8], shared_x: &mut [u8; 32]) -> Result<()>;
}

impl KeyUnwrap for Kek<'_> {
    fn algorithm(&self) -> Algorithm {
        Kek::algorithm(self)
    }

    fn unwrap_a128kw(&mut self, wrapped: &[u8], cek: &mut [u8; 16]) -> Result<()> {
        match self {
            Self::A128Kw(k) => unwrap(k, wrapped, cek),
            Self::EcdhEsP256(_) => Err(core(CoreError::AlgorithmMismatch)),
        }
    }

    fn ecdh_p256(&mut self, ephemeral: &[u8], shared_x: &mut [u8; 32]) -> Result<()> {
        let Self::EcdhEsP256(d) = self else {
            return Err(core(CoreError::AlgorithmMismatch));
        };
        let public = p256::PublicKey::from_sec1_bytes(ephemeral)
            .map_err(|_| core(CoreError::InvalidHeader(EPHEMERAL_KEY)))?;
        let secret = p256::SecretKey::from_slice(d).map_err(|_| core(CoreError::InvalidKey))?;
        let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
        shared_x.copy_from_slice(shared.raw_secret_bytes().as_slice());
        Ok(())
    }
}

fn core(e: CoreError) -> Error {
    Error::Core(e)
}

/// Unwraps a 16-byte key with AES-KW under `kek` (RFC 3394 section 2.2.2); a failed integrity
/// check (wrong key, tampered ciphertext) is [`CoreError::BadTag`].
fn unwrap(kek: &[u8], wrapped: &[u8], out: &mut [u8; KEY_LEN]) -> Result<()> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(core(CoreError::InvalidKey));
    }
    let kw = aes_kw::KwAes128::new_from_slice(kek).map_err(|_| core(CoreError::InvalidKey))?;
    let mut buf = [0u8; WRAPPED_LEN];
    let result = match kw.unwrap_key(wrapped, &mut buf) {
        Ok(key) if key.len() == KEY_LEN => {
            out.copy_from_slice(key);
            Ok(())
        }
        Ok(_) => Err(core(CoreError::InvalidKey)),
        Err(_) => Err(core(CoreError::BadTag)),
    };
    buf.zeroize();
    result
}

/// The KEK of an ECDH-ES + A128KW recipient (RFC 9053 sections 6.3.1 and 6.4).
fn ecdh_kek<C: HmacSha256, U: KeyUnwrap + ?Sized>(
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
        .ok_or(core(CoreError::InvalidHeader(EPHEMERAL_KEY)))?;
    let ephemeral = CoseKey::decode(raw)
        .and_then(|k| k.verifying_key())
        .map_err(|_| core(CoreError::InvalidHeader(EPHEMERAL_KEY)))?;
    let mut shared = [0u8; 32];
    let result = key
        .ecdh_p256(&ephemeral.to_sec1_uncompressed(), &mut shared)
        .and_then(|()| derive_kek(crypto, recipient, &shared, kek));
    shared.zeroize();
    result
}

/// KEK = HKDF-SHA-256 of the shared x-coordinate over the COSE_KDF_Context (RFC 9053 section 5.2).
fn derive_kek<C: HmacSha256>(
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
fn content_key<C: HmacSha256, U: KeyUnwrap + ?Sized>(
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
        return kek.unwrap_a128kw(wrapped, cek);
    }
    let mut derived = [0u8; KEY_LEN];
    let result = ecdh_kek(crypto, &recipient, kek, &mut derived)
        .and_then(|()| unwrap(&derived, wrapped, cek));
    derived.zeroize();
    result
}

/// The A128GCM tag computation: GHASH over the ciphertext as it passes, with a partial block
/// carried. [`Decryptor::tag_check`] gives a copy for a first pass that checks the tag before
/// anything is decrypted or written.
#[derive(Clone)]
pub struct TagCheck {
    ghash: GHash,
    carry: aes::Block,
    carry_len: usize,
    aad_len: u64,
    ct_len: u64,
    mask: aes::Block,
}

impl core::fmt::Debug for TagCheck {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TagCheck").finish_non_exhaustive()
    }
}

impl TagCheck {
    /// Absorbs the next piece of ciphertext.
    pub fn update(&mut self, ciphertext: &[u8]) {
        self.absorb(ciphertext);
        self.ct_len += ciphertext.len() as u64;
    }

    /// Checks `tag` in constant time ([`CoreError::BadTag`]) after the whole ciphertext.
    pub fn finish(mut self, tag: &[u8]) -> Result<()> {
        self.flush();
        let mut lengths = aes::Block::default();
        for (dst, src) in lengths.iter_mut().zip(
            self.aad_len
                .wrapping_mul(8)
                .to_be_bytes()
                .into_iter()
                .chain(self.ct_len.wrapping_mul(8).to_be_bytes()),
        ) {
            *dst = src;
        }
        self.ghash.update(core::slice::from_ref(&lengths));
        let mut s = self.ghash.clone().finalize();
        for (a, b) in s.iter_mut().zip(self.mask.iter()) {
            *a ^= b;
        }
        let ok = ct_eq(&s, tag);
        s.as_mut_slice().zeroize();
        self.mask.as_mut_slice().zeroize();
        if ok {
            Ok(())
        } else {
            Err(core(CoreError::BadTag))
        }
    }

    /// Absorbs `data` into GHASH, whole blocks at once, a partial block carried to the next call.
    fn absorb(&mut self, mut data: &[u8]) {
        if self.carry_len > 0 {
            let take = (KEY_LEN - self.carry_len).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.carry.get_mut(self.carry_len..self.carry_len + take) {
                dst.copy_from_slice(head);
            }
            self.carry_len += take;
            data = rest;
            if self.carry_len < KEY_LEN {
                return;
            }
            self.ghash.update(core::slice::from_ref(&self.carry));
            self.carry_len = 0;
        }
        let (blocks, tail) = aes::Block::slice_as_chunks(data);
        if !blocks.is_empty() {
            self.ghash.update(blocks);
        }
        if let Some(dst) = self.carry.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
            self.carry_len = tail.len();
        }
    }

    /// Pads and absorbs a carried partial block (GCM pads the AAD and the ciphertext separately).
    fn flush(&mut self) {
        if let Some(part) = self.carry.get(..self.carry_len)
            && !part.is_empty()
        {
            self.ghash.update_padded(part);
        }
        self.carry_len = 0;
    }
}

// No heap to box the larger variant into; the whole decryptor is 624 bytes on x86-64.
#[allow(clippy::large_enum_variant)]
enum Mode {
    Ctr(ctr::Ctr128BE<Aes128>),
    Gcm(ctr::Ctr32BE<Aes128>, TagCheck),
}

/// Decrypts one encrypted payload in chunks (bounded state, no buffer of the payload).
///
/// Feed the ciphertext (without a GCM tag) to [`Decryptor::decrypt`] in order, in pieces of any
/// size, then call [`Decryptor::finish`] with the tag (empty for A128CTR). Key material zeroizes on drop.
pub struct Decryptor {
    mode: Mode,
}

impl core::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decryptor")
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    /// Opens SUIT_Encryption_Info `info` (a COSE_Encrypt with detached ciphertext) with `kek`.
    ///
    /// Errors (as [`Error::Core`]): a recipient of `kek`'s algorithm missing
    /// ([`CoreError::AlgorithmMismatch`]), a content algorithm other than A128GCM / A128CTR
    /// ([`CoreError::UnsupportedAlgorithm`]), an IV of the wrong length ([`CoreError::InvalidNonce`]),
    /// a wrong key or tampered wrapped key ([`CoreError::BadTag`]), an attached ciphertext or a
    /// malformed structure.
    pub fn open<C: HmacSha256>(crypto: &mut C, info: &[u8], kek: &Kek<'_>) -> Result<Self> {
        let mut key = *kek;
        Self::open_with(crypto, info, &mut key)
    }

    /// [`Decryptor::open`] with the key operation done by `key` (a secure element, say).
    pub fn open_with<C: HmacSha256, U: KeyUnwrap + ?Sized>(
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
            a => return Err(core(CoreError::UnsupportedAlgorithm(a.id()))),
        };
        if iv.len() != iv_len {
            return Err(core(CoreError::InvalidNonce));
        }
        let mut cek = [0u8; KEY_LEN];
        let result = content_key(crypto, &msg, kek, &mut cek)
            .and_then(|()| Self::with_key(&msg, alg, iv, &cek));
        cek.zeroize();
        result
    }

    fn with_key(msg: &CoseEncrypt<'_>, alg: Algorithm, iv: &[u8], cek: &[u8]) -> Result<Self> {
        let bad_key = |_| core(CoreError::InvalidKey);
        if alg == Algorithm::A128Ctr {
            let ctr = ctr::Ctr128BE::<Aes128>::new_from_slices(cek, iv).map_err(bad_key)?;
            return Ok(Self {
                mode: Mode::Ctr(ctr),
            });
        }
        // SP 800-38D section 7.2: H = E(K, 0), J0 = IV || 1, the keystream from inc32(J0).
        let cipher = Aes128::new_from_slice(cek).map_err(bad_key)?;
        let mut h = aes::Block::default();
        cipher.encrypt_block(&mut h);
        let ghash = GHash::new(&h);
        h.as_mut_slice().zeroize();
        let mut j = aes::Block::default();
        for (dst, src) in j.iter_mut().zip(iv.iter().copied().chain([0, 0, 0, 1])) {
            *dst = src;
        }
        let mut mask = j;
        cipher.encrypt_block(&mut mask);
        if let Some(last) = j.get_mut(15) {
            *last = 2;
        }
        let ctr = ctr::Ctr32BE::<Aes128>::new_from_slices(cek, &j).map_err(bad_key)?;
        let mut gcm = TagCheck {
            ghash,
            carry: aes::Block::default(),
            carry_len: 0,
            aad_len: 0,
            ct_len: 0,
            mask,
        };
        // The associated data is the Enc_structure ["Encrypt", protected, h''] (RFC 9052 section 5.3).
        let aad = msg.enc_structure(&[]).map_err(core)?;
        for piece in aad.pieces() {
            gcm.absorb(piece);
            gcm.aad_len += piece.len() as u64;
        }
        gcm.flush();
        Ok(Self {
            mode: Mode::Gcm(ctr, gcm),
        })
    }

    /// The content algorithm (A128GCM or A128CTR).
    pub fn algorithm(&self) -> Algorithm {
        match self.mode {
            Mode::Ctr(_) => Algorithm::A128Ctr,
            Mode::Gcm(..) => Algorithm::A128Gcm,
        }
    }

    /// The length of the tag at the end of the payload: 16 for A128GCM, 0 for A128CTR.
    pub fn tag_len(&self) -> usize {
        match self.mode {
            Mode::Ctr(_) => 0,
            Mode::Gcm(..) => GCM_TAG_LEN,
        }
    }

    /// A copy of the A128GCM tag computation in its initial state (`None` for A128CTR): feed it
    /// the whole ciphertext and check the tag before decrypting anything.
    pub fn tag_check(&self) -> Option<TagCheck> {
        match &self.mode {
            Mode::Ctr(_) => None,
            Mode::Gcm(_, check) => Some(check.clone()),
        }
    }

    /// Decrypts the next piece of ciphertext in place. For A128GCM the plaintext is not
    /// authentic until [`Decryptor::finish`] succeeds.
    pub fn decrypt(&mut self, chunk: &mut [u8]) -> Result<()> {
        let overflow = |_| core(CoreError::CapacityExceeded);
        match &mut self.mode {
            Mode::Ctr(ctr) => ctr.try_apply_keystream(chunk).map_err(overflow),
            Mode::Gcm(ctr, check) => {
                check.update(chunk);
                ctr.try_apply_keystream(chunk).map_err(overflow)
            }
        }
    }

    /// Ends the payload: for A128GCM checks `tag` in constant time ([`CoreError::BadTag`]); for
    /// A128CTR `tag` must be empty.
    pub fn finish(self, tag: &[u8]) -> Result<()> {
        match self.mode {
            Mode::Gcm(_, check) => check.finish(tag),
            Mode::Ctr(_) if tag.is_empty() => Ok(()),
            Mode::Ctr(_) => Err(core(CoreError::BadTag)),
        }
    }
}

/// Decrypts a whole payload held in `buf` (ciphertext, then the tag for A128GCM) in place and
/// returns the plaintext length; on failure `buf` is zeroed.
pub fn decrypt_in_place<C: HmacSha256>(
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
        d.decrypt(body)?;
        d.finish(tag)?;
        Ok(n)
    });
    if result.is_err() {
        buf.fill(0);
    }
    result
}
