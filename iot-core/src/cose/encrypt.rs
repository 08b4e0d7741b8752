//! COSE_Encrypt (RFC 9052 section 5.1) with AES-CCM-16-64-128, ChaCha20/Poly1305 and A128GCM,
//! the key coming from a recipient ([`super::CoseRecipient::content_key`]); the Enc_structure
//! context is "Encrypt".

use super::encrypt0::{Layer, open};
use super::recipient::{ContentKey, KdfInfo, MAX_RECIPIENTS, Recipients, append_recipients};
use super::structure::EncStructure;
use super::{
    Algorithm, Encrypt0Builder, HeaderMap, Headers, SymmetricKey, open_message, reader, tag,
};
use crate::cbor::{Limits, Reader};
use crate::crypto::{Aead, HkdfSha256, Rng};
use crate::error::{Error, Result};

/// A decoded COSE_Encrypt, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseEncrypt<'a> {
    /// The body's header buckets; the protected one with its bytes as received.
    pub headers: Headers<'a>,
    /// Ciphertext with the tag appended, or `None` when detached.
    pub ciphertext: Option<&'a [u8]>,
    /// The recipients, at least one and at most [`MAX_RECIPIENTS`].
    pub recipients: Recipients<'a>,
    /// Whether the message carried tag 96.
    pub tagged: bool,
}

impl<'a> CoseEncrypt<'a> {
    /// Decodes a whole input (tagged 96 or untagged) with the default [`Limits`].
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

    /// Decodes one COSE_Encrypt from `r`, leaving what follows.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let tagged = open_message(r, tag::ENCRYPT, 4)?;
        let headers = Headers::decode(r)?;
        let ciphertext = r.bytes_or_null()?;
        let recipients = Recipients::decode(r, MAX_RECIPIENTS)?;
        Ok(Self {
            headers,
            ciphertext,
            recipients,
            tagged,
        })
    }

    /// The content-encryption algorithm.
    pub fn alg(&self) -> Result<Algorithm> {
        self.headers.alg()
    }

    /// The content key that recipient `index` yields from the shared `secret`.
    pub fn content_key<'k, C: HkdfSha256>(
        &self,
        crypto: &mut C,
        index: usize,
        secret: &SymmetricKey<'k>,
        info: &KdfInfo<'_>,
    ) -> Result<ContentKey<'k>> {
        self.recipients
            .get(index)?
            .content_key(crypto, self.alg()?, secret, info)
    }

    /// The `Enc_structure` ("Encrypt") of this message, as the AEAD's associated-data pieces.
    pub fn enc_structure<'s>(&'s self, external_aad: &'s [u8]) -> Result<EncStructure<'s>> {
        EncStructure::new("Encrypt", self.headers.protected_raw, external_aad)
    }

    /// Decrypts into `out` with the content key and returns the plaintext length. On any failure
    /// `out` holds no plaintext.
    pub fn decrypt<C: Aead>(
        &self,
        crypto: &mut C,
        key: &ContentKey<'_>,
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let ct = self.ciphertext.ok_or(Error::PayloadMismatch)?;
        open(
            crypto,
            &self.headers,
            &key.symmetric(),
            &self.enc_structure(external_aad)?,
            ct,
            out,
        )
    }

    /// Decrypts a detached ciphertext (with its tag) into `out`.
    pub fn decrypt_detached<C: Aead>(
        &self,
        crypto: &mut C,
        key: &ContentKey<'_>,
        ciphertext: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        if self.ciphertext.is_some() {
            return Err(Error::PayloadMismatch);
        }
        open(
            crypto,
            &self.headers,
            &key.symmetric(),
            &self.enc_structure(external_aad)?,
            ciphertext,
            out,
        )
    }
}

/// Creates COSE_Encrypt messages. The content key comes from a recipient, as a reader derives it:
/// encode the recipient (for a direct one, [`super::write_recipient`]), decode it, and take
/// [`super::CoseRecipient::content_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptBuilder<'a> {
    /// The protected bucket; it must hold `alg` (or the unprotected one does).
    pub protected: HeaderMap<'a>,
    /// The unprotected bucket. Without an `IV` or `Partial IV` in either bucket,
    /// [`EncryptBuilder::encrypt`] draws a random IV and puts it here.
    pub unprotected: HeaderMap<'a>,
    /// Emit tag 96 (default `true`).
    pub tagged: bool,
}

impl<'a> EncryptBuilder<'a> {
    /// A tagged message encrypted with `alg` (an AEAD) named in the protected bucket.
    pub fn new(alg: Algorithm) -> Self {
        Self {
            protected: HeaderMap::with_alg(alg),
            unprotected: HeaderMap::default(),
            tagged: true,
        }
    }

    /// Encrypts `plaintext` under the content key and writes the message, with `recipients`
    /// (encoded COSE_recipient items, 1 to [`MAX_RECIPIENTS`]), into `out`; returns its length.
    pub fn encrypt<C: Aead + Rng>(
        &self,
        crypto: &mut C,
        key: &ContentKey<'_>,
        recipients: &[&[u8]],
        plaintext: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let body = Encrypt0Builder {
            protected: self.protected.clone(),
            unprotected: self.unprotected.clone(),
            tagged: self.tagged,
        };
        let at = body.seal(
            crypto,
            &key.symmetric(),
            plaintext,
            external_aad,
            out,
            &Layer::ENCRYPT,
        )?;
        append_recipients(out, at, recipients)
    }
}
