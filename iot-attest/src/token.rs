//! Token envelopes: a CWT (RFC 8392) in COSE_Sign1 (ES256, ESP256, ES384, ES512) or COSE_Mac0 (HMAC 256/256),
//! optionally wrapped in the CWT tag 61 (RFC 8392 section 6). COSE is iot-core's.

use crate::claims::Claims;
use crate::error::Result;
use iot_core::cbor::{Limits, Reader};
use iot_core::cose::{
    Algorithm, CoseMac0, CoseSign1, Mac0Builder, Sign1Builder, SymmetricKey, tag,
};
use iot_core::crypto::{HmacSha256, Sha256, Signer, Verifier};

/// The CWT CBOR tag (RFC 8392 section 6).
pub const CWT_TAG: u64 = 61;

/// The two bytes of the CWT tag head (`0xd8 0x3d`).
const CWT_TAG_HEAD: [u8; 2] = [0xd8, 0x3d];

/// The COSE structure that carries the claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope<'a> {
    /// Signed (ES256 or ESP256).
    Sign1(CoseSign1<'a>),
    /// MACed (HMAC 256/256).
    Mac0(CoseMac0<'a>),
}

/// A received token, borrowing from its input: decode, then verify to get the claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// The COSE envelope.
    pub envelope: Envelope<'a>,
    /// Whether the token carried the CWT tag 61.
    pub cwt_tagged: bool,
}

impl<'a> Token<'a> {
    /// Decodes a token: `61(18(...))`, `61(17(...))`, `18(...)`, `17(...)`, or an untagged
    /// COSE array told apart by its algorithm (an HMAC algorithm makes it a COSE_Mac0).
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        Self::decode_with(input, Limits::default())
    }

    /// Decodes a token with the given CBOR limits.
    pub fn decode_with(input: &'a [u8], limits: Limits) -> Result<Self> {
        let mut r = Reader::with_limits(input, limits);
        let before = r.clone();
        let cwt_tagged = match r.opt_tag()? {
            Some(CWT_TAG) => true,
            _ => {
                r = before;
                false
            }
        };
        let before = r.clone();
        let envelope = match r.opt_tag()? {
            Some(tag::SIGN1) => {
                r = before;
                Envelope::Sign1(CoseSign1::decode_from(&mut r)?)
            }
            Some(tag::MAC0) => {
                r = before;
                Envelope::Mac0(CoseMac0::decode_from(&mut r)?)
            }
            Some(t) => return Err(iot_core::Error::wrong_tag(t).into()),
            None => {
                // Untagged: COSE_Sign1 and COSE_Mac0 have the same shape.
                let m = CoseSign1::decode_from(&mut r)?;
                if m.headers.alg() == Ok(Algorithm::Hmac256) {
                    Envelope::Mac0(CoseMac0 {
                        headers: m.headers,
                        payload: m.payload,
                        tag: m.signature,
                        tagged: false,
                    })
                } else {
                    Envelope::Sign1(m)
                }
            }
        };
        r.finish()?;
        Ok(Self {
            envelope,
            cwt_tagged,
        })
    }

    /// The claims-set bytes (`None` when the payload is detached).
    pub fn payload(&self) -> Option<&'a [u8]> {
        match &self.envelope {
            Envelope::Sign1(m) => m.payload,
            Envelope::Mac0(m) => m.payload,
        }
    }

    /// The key id of the envelope, protected bucket first.
    pub fn kid(&self) -> Option<&'a [u8]> {
        match &self.envelope {
            Envelope::Sign1(m) => m.headers.kid(),
            Envelope::Mac0(m) => m.headers.kid(),
        }
    }

    /// The claims, decoded without checking the signature or MAC: for routing (finding the key
    /// by UEID, say) before verification, never for trusting.
    pub fn claims_unverified(&self) -> Result<Claims<'a>> {
        Claims::decode(self.payload().ok_or(iot_core::Error::PayloadMismatch)?)
    }

    /// Verifies a COSE_Sign1 token with `key` and returns its claims.
    pub fn verify<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        key: &mut V,
        external_aad: &[u8],
    ) -> Result<Claims<'a>> {
        let Envelope::Sign1(m) = &self.envelope else {
            return Err(iot_core::Error::AlgorithmMismatch.into());
        };
        m.verify(crypto, key, external_aad)?;
        self.claims_unverified()
    }

    /// Verifies a COSE_Mac0 token with `key` and returns its claims.
    pub fn verify_mac<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        external_aad: &[u8],
    ) -> Result<Claims<'a>> {
        let Envelope::Mac0(m) = &self.envelope else {
            return Err(iot_core::Error::AlgorithmMismatch.into());
        };
        m.verify(crypto, key, external_aad)?;
        self.claims_unverified()
    }
}

/// Creates tokens. The claims are encoded into a scratch buffer first, because the COSE
/// builders take the payload as a slice of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBuilder<'a> {
    /// The key id to put in the unprotected bucket.
    pub kid: Option<&'a [u8]>,
    /// Prefix the CWT tag 61 (the COSE tag is then always written, RFC 8392 section 6).
    pub cwt_tag: bool,
    /// Write the COSE tag (18 or 17).
    pub cose_tag: bool,
}

impl Default for TokenBuilder<'_> {
    /// Tag 61 around a tagged COSE message, no kid.
    fn default() -> Self {
        Self {
            kid: None,
            cwt_tag: true,
            cose_tag: true,
        }
    }
}

impl<'a> TokenBuilder<'a> {
    /// A builder with the defaults: tag 61 around a tagged COSE message, no kid.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the key id.
    pub fn kid(mut self, kid: &'a [u8]) -> Self {
        self.kid = Some(kid);
        self
    }

    /// Chooses whether to prefix tag 61.
    pub fn cwt_tag(mut self, on: bool) -> Self {
        self.cwt_tag = on;
        self
    }

    /// Chooses whether to write the COSE tag (forced on with tag 61).
    pub fn cose_tag(mut self, on: bool) -> Self {
        self.cose_tag = on;
        self
    }

    /// Writes tag 61 when asked and returns the rest of `out`.
    fn prefix<'o>(&self, out: &'o mut [u8]) -> Result<(usize, &'o mut [u8])> {
        if !self.cwt_tag {
            return Ok((0, out));
        }
        if out.len() < CWT_TAG_HEAD.len() {
            return Err(iot_core::Error::BufferTooSmall.into());
        }
        let (head, rest) = out.split_at_mut(CWT_TAG_HEAD.len());
        head.copy_from_slice(&CWT_TAG_HEAD);
        Ok((CWT_TAG_HEAD.len(), rest))
    }

    /// Signs `claims` with `alg` (ES256, ESP256, ES384 or ES512): the claims-set goes into `scratch`, the
    /// token into `out`; returns the token's length.
    pub fn sign<C: Sha256, S: Signer>(
        &self,
        crypto: &mut C,
        signer: &mut S,
        alg: Algorithm,
        claims: &Claims<'_>,
        scratch: &mut [u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let n = claims.encode_to(scratch)?;
        let payload = scratch.get(..n).ok_or(iot_core::Error::BufferTooSmall)?;
        self.sign_payload(crypto, signer, alg, payload, out)
    }

    /// Signs an already encoded claims-set.
    pub fn sign_payload<C: Sha256, S: Signer>(
        &self,
        crypto: &mut C,
        signer: &mut S,
        alg: Algorithm,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        if alg.ecdsa_signature_len().is_none() {
            return Err(iot_core::Error::AlgorithmMismatch.into());
        }
        let mut b = Sign1Builder::new(alg);
        b.tagged = self.cose_tag || self.cwt_tag;
        if let Some(kid) = self.kid {
            b = b.kid(kid);
        }
        let (at, rest) = self.prefix(out)?;
        Ok(at + b.sign(crypto, signer, payload, &[], rest)?)
    }

    /// MACs `claims` with HMAC 256/256 under `key`: the claims-set goes into `scratch`, the
    /// token into `out`; returns the token's length.
    pub fn mac<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        claims: &Claims<'_>,
        scratch: &mut [u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let n = claims.encode_to(scratch)?;
        let payload = scratch.get(..n).ok_or(iot_core::Error::BufferTooSmall)?;
        self.mac_payload(crypto, key, payload, out)
    }

    /// MACs an already encoded claims-set.
    pub fn mac_payload<C: HmacSha256>(
        &self,
        crypto: &mut C,
        key: &SymmetricKey<'_>,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let mut b = Mac0Builder::new();
        b.tagged = self.cose_tag || self.cwt_tag;
        if let Some(kid) = self.kid {
            b = b.kid(kid);
        }
        let (at, rest) = self.prefix(out)?;
        Ok(at + b.mac(crypto, key, payload, &[], rest)?)
    }
}
