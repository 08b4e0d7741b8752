//! COSE_Mac0 (RFC 9052 section 6.2) with HMAC 256/256 (RFC 9053 section 3.1).

use super::encrypt0::Layer;
use super::structure::{Feed, write_mac_structure};
use super::{
    Algorithm, HeaderMap, Headers, SymmetricKey, open_message, reader, tag, write_bytes_or_nil,
    write_prefix,
};
use crate::cbor::{Limits, Reader};
use crate::crypto::{HmacSha256, SHA256_LEN, check_alg, ct_eq};
use crate::error::{Error, Result};
use minicbor::encode::Write;

/// A decoded COSE_Mac0, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseMac0<'a> {
    /// Both header buckets; the protected one with its bytes as received.
    pub headers: Headers<'a>,
    /// The payload, or `None` when detached.
    pub payload: Option<&'a [u8]>,
    /// The tag.
    pub tag: &'a [u8],
    /// Whether the message carried tag 17.
    pub tagged: bool,
}

impl<'a> CoseMac0<'a> {
    /// Decodes a whole input (tagged 17 or untagged) with the default [`Limits`].
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

    /// Decodes one COSE_Mac0 from `r`, leaving what follows.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let tagged = open_message(r, tag::MAC0, 4)?;
        let headers = Headers::decode(r)?;
        let payload = r.bytes_or_null()?;
        let tag = r.bytes()?;
        Ok(Self {
            headers,
            payload,
            tag,
            tagged,
        })
    }

    /// The MAC algorithm.
    pub fn alg(&self) -> Result<Algorithm> {
        self.headers.alg()
    }

    /// Writes the `MAC_structure` for this message.
    pub fn write_to_be_maced<W: Write>(
        &self,
        detached: Option<&[u8]>,
        external_aad: &[u8],
        w: W,
    ) -> Result<()> {
        let payload = self.payload.or(detached).ok_or(Error::PayloadMismatch)?;
        write_mac_structure(w, "MAC0", self.headers.protected_raw, external_aad, payload)
            .map_err(|_| Error::BufferTooSmall)
    }

    /// Verifies a message with an attached payload; the tag is compared in constant time.
    pub fn verify<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        external_aad: &[u8],
    ) -> Result<()> {
        let payload = self.payload.ok_or(Error::PayloadMismatch)?;
        self.verify_payload(crypto, key, payload, external_aad)
    }

    /// Verifies a message whose payload is detached and given here.
    pub fn verify_detached<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
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
        key: &SymmetricKey<'_>,
        payload: &[u8],
        external_aad: &[u8],
    ) -> Result<()> {
        check_alg(self.alg()?, key.alg, |a| a == Algorithm::Hmac256)?;
        let expected = mac_tag(
            crypto,
            key.k,
            "MAC0",
            self.headers.protected_raw,
            external_aad,
            payload,
        )?;
        check_tag(&expected, self.tag)
    }
}

/// HMAC-SHA-256 of the MAC_structure with `context` ("MAC0" or "MAC"), streamed.
pub(crate) fn mac_tag<C: HmacSha256>(
    crypto: &mut C,
    key: &[u8],
    context: &str,
    protected: &[u8],
    external_aad: &[u8],
    payload: &[u8],
) -> Result<[u8; SHA256_LEN]> {
    let mut state = crypto.hmac_start(key)?;
    // Feed's writer is infallible.
    let _ = write_mac_structure(
        Feed(|b: &[u8]| crypto.hmac_update(&mut state, b)),
        context,
        protected,
        external_aad,
        payload,
    );
    Ok(crypto.hmac_finish(state))
}

/// Compares a computed HMAC 256/256 tag with the received one in constant time.
pub(crate) fn check_tag(expected: &[u8; SHA256_LEN], received: &[u8]) -> Result<()> {
    if ct_eq(expected, received) {
        Ok(())
    } else {
        Err(Error::BadTag)
    }
}

/// Creates COSE_Mac0 messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mac0Builder<'a> {
    /// The protected bucket; it must hold `alg`.
    pub protected: HeaderMap<'a>,
    /// The unprotected bucket.
    pub unprotected: HeaderMap<'a>,
    /// Emit tag 17 (default `true`).
    pub tagged: bool,
    /// Leave the payload out of the message.
    pub detached: bool,
}

impl<'a> Mac0Builder<'a> {
    /// A tagged, attached HMAC 256/256 message.
    pub fn new() -> Self {
        Self {
            protected: HeaderMap::with_alg(Algorithm::Hmac256),
            unprotected: HeaderMap::default(),
            tagged: true,
            detached: false,
        }
    }

    /// Sets the key id in the unprotected bucket.
    pub fn kid(mut self, kid: &'a [u8]) -> Self {
        self.unprotected.kid = Some(kid);
        self
    }

    /// MACs `payload` under `key` and writes the message into `out`; returns its length.
    pub fn mac<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        payload: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        self.write(crypto, key, payload, external_aad, out, &Layer::MAC0)
    }

    /// Writes the message's `layer` (COSE_Mac0, or the body of a COSE_Mac whose recipients the
    /// caller appends) with the tag of `payload` under `key`; returns the length written.
    pub(crate) fn write<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        payload: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
        layer: &Layer,
    ) -> Result<usize> {
        let alg = self
            .protected
            .alg
            .ok_or(Error::MissingAlgorithm)?
            .algorithm()?;
        check_alg(alg, key.alg, |a| a == Algorithm::Hmac256)?;
        let tag = self.tagged.then_some(layer.tag);
        let (at, prot) = write_prefix(out, tag, layer.items, &self.protected, &self.unprotected)?;
        let at = write_bytes_or_nil(out, at, (!self.detached).then_some(payload))?;
        let protected = out.get(prot).ok_or(Error::BufferTooSmall)?;
        let t = mac_tag(
            crypto,
            key.k,
            layer.context,
            protected,
            external_aad,
            payload,
        )?;
        write_bytes_or_nil(out, at, Some(&t))
    }
}

impl Default for Mac0Builder<'_> {
    fn default() -> Self {
        Self::new()
    }
}
