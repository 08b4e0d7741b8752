//! COSE_Mac (RFC 9052 section 6.1) with HMAC 256/256, the key coming from a recipient
//! ([`super::CoseRecipient::content_key`]); the MAC_structure context is "MAC".

use super::encrypt0::Layer;
use super::mac0::{check_tag, mac_tag};
use super::recipient::{ContentKey, KdfInfo, MAX_RECIPIENTS, Recipients, append_recipients};
use super::structure::write_mac_structure;
use super::{Algorithm, HeaderMap, Headers, Mac0Builder, SymmetricKey, open_message, reader, tag};
use crate::cbor::{Limits, Reader};
use crate::crypto::{HkdfSha256, HmacSha256, check_alg};
use crate::error::{Error, Result};
use minicbor::encode::Write;

/// A decoded COSE_Mac, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseMac<'a> {
    /// The body's header buckets; the protected one with its bytes as received.
    pub headers: Headers<'a>,
    /// The payload, or `None` when detached.
    pub payload: Option<&'a [u8]>,
    /// The tag.
    pub tag: &'a [u8],
    /// The recipients, at least one and at most [`MAX_RECIPIENTS`].
    pub recipients: Recipients<'a>,
    /// Whether the message carried tag 97.
    pub tagged: bool,
}

impl<'a> CoseMac<'a> {
    /// Decodes a whole input (tagged 97 or untagged) with the default [`Limits`].
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

    /// Decodes one COSE_Mac from `r`, leaving what follows.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let tagged = open_message(r, tag::MAC, 5)?;
        let headers = Headers::decode(r)?;
        let payload = r.bytes_or_null()?;
        let tag = r.bytes()?;
        let recipients = Recipients::decode(r, MAX_RECIPIENTS)?;
        Ok(Self {
            headers,
            payload,
            tag,
            recipients,
            tagged,
        })
    }

    /// The MAC algorithm.
    pub fn alg(&self) -> Result<Algorithm> {
        self.headers.alg()
    }

    /// The MAC key that recipient `index` yields from the shared `secret`.
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

    /// Writes the `MAC_structure` ("MAC") for this message.
    pub fn write_to_be_maced<W: Write>(
        &self,
        detached: Option<&[u8]>,
        external_aad: &[u8],
        w: W,
    ) -> Result<()> {
        let payload = self.payload.or(detached).ok_or(Error::PayloadMismatch)?;
        write_mac_structure(w, "MAC", self.headers.protected_raw, external_aad, payload)
            .map_err(|_| Error::BufferTooSmall)
    }

    /// Verifies a message with an attached payload under `key`; the tag is compared in constant time.
    pub fn verify<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &ContentKey<'_>,
        external_aad: &[u8],
    ) -> Result<()> {
        let payload = self.payload.ok_or(Error::PayloadMismatch)?;
        self.verify_payload(crypto, key, payload, external_aad)
    }

    /// Verifies a message whose payload is detached and given here.
    pub fn verify_detached<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &ContentKey<'_>,
        payload: &[u8],
        external_aad: &[u8],
    ) -> Result<()> {
        if self.payload.is_some() {
            return Err(Error::PayloadMismatch);
        }
        self.verify_payload(crypto, key, payload, external_aad)
    }

    fn verify_payload<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &ContentKey<'_>,
        payload: &[u8],
        external_aad: &[u8],
    ) -> Result<()> {
        check_alg(self.alg()?, Some(key.algorithm()), |a| {
            a == Algorithm::Hmac256
        })?;
        let expected = mac_tag(
            crypto,
            key.as_bytes(),
            "MAC",
            self.headers.protected_raw,
            external_aad,
            payload,
        )?;
        check_tag(&expected, self.tag)
    }
}

/// Creates COSE_Mac messages with HMAC 256/256; the key comes from a recipient as for
/// [`super::EncryptBuilder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacBuilder<'a> {
    /// The protected bucket; it must hold `alg`.
    pub protected: HeaderMap<'a>,
    /// The unprotected bucket.
    pub unprotected: HeaderMap<'a>,
    /// Emit tag 97 (default `true`).
    pub tagged: bool,
    /// Leave the payload out of the message.
    pub detached: bool,
}

impl<'a> MacBuilder<'a> {
    /// A tagged, attached HMAC 256/256 message.
    pub fn new() -> Self {
        Self {
            protected: HeaderMap::with_alg(Algorithm::Hmac256),
            unprotected: HeaderMap::default(),
            tagged: true,
            detached: false,
        }
    }

    /// MACs `payload` under the content key and writes the message, with `recipients` (encoded
    /// COSE_recipient items, 1 to [`MAX_RECIPIENTS`]), into `out`; returns its length.
    pub fn mac<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &ContentKey<'_>,
        recipients: &[&[u8]],
        payload: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let body = Mac0Builder {
            protected: self.protected.clone(),
            unprotected: self.unprotected.clone(),
            tagged: self.tagged,
            detached: self.detached,
        };
        let at = body.write(
            crypto,
            &key.symmetric(),
            payload,
            external_aad,
            out,
            &Layer::MAC,
        )?;
        append_recipients(out, at, recipients)
    }
}

impl Default for MacBuilder<'_> {
    fn default() -> Self {
        Self::new()
    }
}
