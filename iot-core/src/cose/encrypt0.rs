//! COSE_Encrypt0 (RFC 9052 section 5.2) with AES-CCM-16-64-128, ChaCha20/Poly1305 and A128GCM.

use super::structure::EncStructure;
use super::{
    AeadAlgorithm, Algorithm, HeaderMap, Headers, MAX_NONCE_LEN, SymmetricKey, nonce_for,
    open_message, reader, tag, write_prefix,
};
use crate::cbor::{Limits, Reader, SliceWriter};
use crate::crypto::{Aead, Rng};
use crate::error::{Error, Result};

/// A decoded COSE_Encrypt0, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseEncrypt0<'a> {
    /// Both header buckets; the protected one with its bytes as received.
    pub headers: Headers<'a>,
    /// Ciphertext with the tag appended, or `None` when detached.
    pub ciphertext: Option<&'a [u8]>,
    /// Whether the message carried tag 16.
    pub tagged: bool,
}

fn aead_of(alg: Algorithm, key: &SymmetricKey<'_>) -> Result<AeadAlgorithm> {
    let aead = alg.aead().ok_or(Error::AlgorithmMismatch)?;
    crate::crypto::check_alg(alg, key.alg, |a| a.aead().is_some())?;
    if key.k.len() != aead.key_len() {
        return Err(Error::InvalidKey);
    }
    Ok(aead)
}

impl<'a> CoseEncrypt0<'a> {
    /// Decodes a whole input (tagged 16 or untagged) with the default [`Limits`].
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        Self::decode_with(input, Limits::default())
    }

    /// Decodes a whole input with the given limits.
    pub fn decode_with(input: &'a [u8], limits: Limits) -> Result<Self> {
        let mut r = reader(input, limits);
        let msg = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(msg)
    }

    /// Decodes one COSE_Encrypt0 from `r`, leaving what follows.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let tagged = open_message(r, tag::ENCRYPT0, 3)?;
        let headers = Headers::decode(r)?;
        let ciphertext = r.bytes_or_null()?;
        Ok(Self {
            headers,
            ciphertext,
            tagged,
        })
    }

    /// The content-encryption algorithm.
    pub fn alg(&self) -> Result<Algorithm> {
        self.headers.alg()
    }

    /// The `Enc_structure` of this message, as the AEAD's associated-data pieces.
    pub fn enc_structure<'s>(&'s self, external_aad: &'s [u8]) -> Result<EncStructure<'s>> {
        EncStructure::new("Encrypt0", self.headers.protected_raw, external_aad)
    }

    /// Decrypts into `out` and returns the plaintext length. On any failure `out` holds no plaintext.
    pub fn decrypt<C: Aead>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let ct = self.ciphertext.ok_or(Error::PayloadMismatch)?;
        self.decrypt_ciphertext(crypto, key, ct, external_aad, out)
    }

    /// Decrypts a detached ciphertext (with its tag) into `out`.
    pub fn decrypt_detached<C: Aead>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        ciphertext: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        if self.ciphertext.is_some() {
            return Err(Error::PayloadMismatch);
        }
        self.decrypt_ciphertext(crypto, key, ciphertext, external_aad, out)
    }

    fn decrypt_ciphertext<C: Aead>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        ct: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let aad = self.enc_structure(external_aad)?;
        open(crypto, &self.headers, key, &aad, ct, out)
    }
}

/// Decrypts `ct` (ciphertext and tag) of a message with `headers` under `key` into `out`, with
/// `aad` as associated data; returns the plaintext length. Shared by COSE_Encrypt0 and COSE_Encrypt.
pub(crate) fn open<C: Aead>(
    crypto: &mut C,
    headers: &Headers<'_>,
    key: &SymmetricKey<'_>,
    aad: &EncStructure<'_>,
    ct: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    let aead = aead_of(headers.alg()?, key)?;
    let mut nonce = [0u8; MAX_NONCE_LEN];
    let nlen = nonce_for(headers, key.base_iv, aead.nonce_len(), &mut nonce)?;
    let body_len = ct.len().checked_sub(aead.tag_len()).ok_or(Error::BadTag)?;
    let (body, tag) = ct.split_at(body_len);
    let buf = out.get_mut(..body_len).ok_or(Error::BufferTooSmall)?;
    buf.copy_from_slice(body);
    crypto.aead_decrypt(
        aead,
        key.k,
        nonce.get(..nlen).unwrap_or_default(),
        &aad.pieces(),
        buf,
        tag,
    )?;
    Ok(body_len)
}

/// Creates COSE_Encrypt0 messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypt0Builder<'a> {
    /// The protected bucket; it must hold `alg`.
    pub protected: HeaderMap<'a>,
    /// The unprotected bucket. Without an `IV` or `Partial IV` here, [`Encrypt0Builder::encrypt`]
    /// draws a random IV and puts it here.
    pub unprotected: HeaderMap<'a>,
    /// Emit tag 16 (default `true`).
    pub tagged: bool,
}

impl<'a> Encrypt0Builder<'a> {
    /// A tagged message encrypted with `alg` (an AEAD) named in the protected bucket.
    pub fn new(alg: Algorithm) -> Self {
        Self {
            protected: HeaderMap::with_alg(alg),
            unprotected: HeaderMap::default(),
            tagged: true,
        }
    }

    /// Sets the key id in the unprotected bucket.
    pub fn kid(mut self, kid: &'a [u8]) -> Self {
        self.unprotected.kid = Some(kid);
        self
    }

    /// Sets the IV in the unprotected bucket.
    pub fn iv(mut self, iv: &'a [u8]) -> Self {
        self.unprotected.iv = Some(iv);
        self
    }

    /// Encrypts `plaintext` under `key` and writes the message into `out`; returns its length.
    pub fn encrypt<C: Aead + Rng>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        plaintext: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        self.seal(crypto, key, plaintext, external_aad, out, &Layer::ENCRYPT0)
    }

    /// Writes the message's `layer` (COSE_Encrypt0, or the body of a COSE_Encrypt whose recipients
    /// the caller appends) with `plaintext` encrypted under `key`; returns the length written.
    pub(crate) fn seal<C: Aead + Rng>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        plaintext: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
        layer: &Layer,
    ) -> Result<usize> {
        let alg = self
            .protected
            .alg
            .or(self.unprotected.alg)
            .ok_or(Error::MissingAlgorithm)?
            .algorithm()?;
        let aead = aead_of(alg, key)?;
        let mut fresh = [0u8; MAX_NONCE_LEN];
        let mut unprotected = self.unprotected.clone();
        let has_iv = self.protected.iv.is_some()
            || self.protected.partial_iv.is_some()
            || unprotected.iv.is_some()
            || unprotected.partial_iv.is_some();
        if !has_iv {
            let iv = fresh
                .get_mut(..aead.nonce_len())
                .ok_or(Error::InvalidNonce)?;
            crypto.fill_random(iv)?;
            unprotected.iv = Some(iv);
        }
        let headers = Headers {
            protected_raw: &[],
            protected: self.protected.clone(),
            unprotected,
        };
        let mut nonce = [0u8; MAX_NONCE_LEN];
        let nlen = nonce_for(&headers, key.base_iv, aead.nonce_len(), &mut nonce)?;

        let tag = self.tagged.then_some(layer.tag);
        let (at, prot) = write_prefix(
            out,
            tag,
            layer.items,
            &headers.protected,
            &headers.unprotected,
        )?;
        let ct_len = plaintext.len() + aead.tag_len();
        let (head, rest) = out.split_at_mut(at);
        let mut w = SliceWriter::new(rest);
        super::structure::write_head(&mut w, 2, ct_len as u64)?;
        let body_at = w.len();
        let body = rest
            .get_mut(body_at..body_at + ct_len)
            .ok_or(Error::BufferTooSmall)?;
        let (buf, tag_out) = body.split_at_mut(plaintext.len());
        buf.copy_from_slice(plaintext);
        let protected = head.get(prot).ok_or(Error::BufferTooSmall)?;
        let aad = EncStructure::new(layer.context, protected, external_aad)?;
        crypto.aead_encrypt(
            aead,
            key.k,
            nonce.get(..nlen).unwrap_or_default(),
            &aad.pieces(),
            buf,
            tag_out,
        )?;
        Ok(at + body_at + ct_len)
    }
}

/// What distinguishes the one-recipient form of a message from the one with recipients: the tag,
/// the number of array items, and the context string of the to-be-authenticated structure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layer {
    pub tag: u64,
    pub items: u64,
    pub context: &'static str,
}

impl Layer {
    pub const ENCRYPT0: Self = Self {
        tag: tag::ENCRYPT0,
        items: 3,
        context: "Encrypt0",
    };
    pub const ENCRYPT: Self = Self {
        tag: tag::ENCRYPT,
        items: 4,
        context: "Encrypt",
    };
    pub const MAC0: Self = Self {
        tag: tag::MAC0,
        items: 4,
        context: "MAC0",
    };
    pub const MAC: Self = Self {
        tag: tag::MAC,
        items: 5,
        context: "MAC",
    };
}
