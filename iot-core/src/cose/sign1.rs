//! COSE_Sign1 (RFC 9052 section 4.2) with ES256 / ESP256, and ES384 / ES512 (RFC 9053 section
//! 2.1) with keys that hash the Sig_structure themselves.

use super::structure::{Feed, write_sig_structure};
use super::{
    Algorithm, HeaderMap, Headers, open_message, reader, tag, write_bytes_or_nil, write_prefix,
};
use crate::cbor::{Limits, Reader};
use crate::crypto::{
    MAX_ECDSA_SIGNATURE_LEN, P256_SIGNATURE_LEN, SHA256_LEN, Sha256, Signer, Verifier, check_alg,
};
use crate::error::{Error, Result};
use minicbor::encode::Write;

/// A decoded COSE_Sign1, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSign1<'a> {
    /// Both header buckets; the protected one with its bytes as received.
    pub headers: Headers<'a>,
    /// The payload, or `None` when detached.
    pub payload: Option<&'a [u8]>,
    /// The signature bytes.
    pub signature: &'a [u8],
    /// Whether the message carried tag 18.
    pub tagged: bool,
}

impl<'a> CoseSign1<'a> {
    /// Decodes a whole input (tagged 18 or untagged) with the default [`Limits`]; trailing bytes are an error.
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

    /// Decodes one COSE_Sign1 from `r`, leaving what follows.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let tagged = open_message(r, tag::SIGN1, 4)?;
        let headers = Headers::decode(r)?;
        let payload = r.bytes_or_null()?;
        let signature = r.bytes()?;
        Ok(Self {
            headers,
            payload,
            signature,
            tagged,
        })
    }

    /// The signature algorithm.
    pub fn alg(&self) -> Result<Algorithm> {
        self.headers.alg()
    }

    /// Writes the `Sig_structure` for this message (with `detached` as the payload when it has none).
    pub fn write_to_be_signed<W: Write>(
        &self,
        detached: Option<&[u8]>,
        external_aad: &[u8],
        w: W,
    ) -> Result<()> {
        let payload = self.payload.or(detached).ok_or(Error::PayloadMismatch)?;
        write_sig_structure(
            w,
            "Signature1",
            self.headers.protected_raw,
            None,
            external_aad,
            payload,
        )
        .map_err(|_| Error::BufferTooSmall)
    }

    /// Verifies a message with an attached payload.
    pub fn verify<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        key: &mut V,
        external_aad: &[u8],
    ) -> Result<()> {
        let payload = self.payload.ok_or(Error::PayloadMismatch)?;
        self.verify_payload(crypto, key, payload, external_aad)
    }

    /// Verifies a message whose payload is detached and given here.
    pub fn verify_detached<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        key: &mut V,
        payload: &[u8],
        external_aad: &[u8],
    ) -> Result<()> {
        if self.payload.is_some() {
            return Err(Error::PayloadMismatch);
        }
        self.verify_payload(crypto, key, payload, external_aad)
    }

    fn verify_payload<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        key: &mut V,
        payload: &[u8],
        external_aad: &[u8],
    ) -> Result<()> {
        let input = SigInput {
            context: "Signature1",
            body_protected: self.headers.protected_raw,
            sign_protected: None,
            external_aad,
            payload,
        };
        verify_signature(crypto, key, self.alg()?, self.signature, &input)
    }
}

/// The fields of a `Sig_structure` (RFC 9052 section 4.4).
pub(crate) struct SigInput<'x> {
    /// "Signature1" or "Signature".
    pub context: &'x str,
    pub body_protected: &'x [u8],
    /// The signer's protected bucket, for the "Signature" context only.
    pub sign_protected: Option<&'x [u8]>,
    pub external_aad: &'x [u8],
    pub payload: &'x [u8],
}

/// SHA-256 of the Sig_structure, streamed.
pub(crate) fn sig_digest<C: Sha256>(crypto: &mut C, input: &SigInput<'_>) -> [u8; SHA256_LEN] {
    let mut state = crypto.sha256_start();
    // Feed's writer is infallible.
    let _ = write_sig_structure(
        Feed(|b: &[u8]| crypto.sha256_update(&mut state, b)),
        input.context,
        input.body_protected,
        input.sign_protected,
        input.external_aad,
        input.payload,
    );
    crypto.sha256_finish(state)
}

/// Writes the Sig_structure of `input` into `sink` (an infallible writer).
fn feed_sig_structure(input: &SigInput<'_>, sink: &mut dyn FnMut(&[u8])) {
    // Feed's writer is infallible.
    let _ = write_sig_structure(
        Feed(|b: &[u8]| sink(b)),
        input.context,
        input.body_protected,
        input.sign_protected,
        input.external_aad,
        input.payload,
    );
}

/// Whether `alg` is ES384 or ES512, whose keys hash the Sig_structure themselves.
fn is_wide_ecdsa(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::Es384 | Algorithm::Es512)
}

/// Checks an ES256 / ESP256 / ES384 / ES512 `signature` made with `alg` over the Sig_structure of `input`.
pub(crate) fn verify_signature<C: Sha256, V: Verifier>(
    crypto: &mut C,
    key: &mut V,
    alg: Algorithm,
    signature: &[u8],
    input: &SigInput<'_>,
) -> Result<()> {
    // One check for all four: an ECDSA algorithm the key takes, a signature of its length.
    check_alg(alg, key.algorithm(), |a| a.ecdsa_signature_len().is_some())?;
    if Some(signature.len()) != alg.ecdsa_signature_len() {
        return Err(Error::BadSignature);
    }
    if is_wide_ecdsa(alg) {
        return key.verify_message(alg, &mut |sink| feed_sig_structure(input, sink), signature);
    }
    let digest = sig_digest(crypto, input);
    key.verify_digest(&digest, signature)
}

/// Creates COSE_Sign1 messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sign1Builder<'a> {
    /// The protected bucket; it must hold `alg`.
    pub protected: HeaderMap<'a>,
    /// The unprotected bucket.
    pub unprotected: HeaderMap<'a>,
    /// Emit tag 18 (default `true`).
    pub tagged: bool,
    /// Leave the payload out of the message (`nil`), to travel separately.
    pub detached: bool,
}

impl<'a> Sign1Builder<'a> {
    /// A tagged, attached message signed with `alg` (ES256, ESP256, ES384 or ES512) in the protected bucket.
    pub fn new(alg: Algorithm) -> Self {
        Self {
            protected: HeaderMap::with_alg(alg),
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

    /// Signs `payload` with `signer` and writes the message into `out`; returns its length.
    pub fn sign<C: Sha256, S: Signer>(
        &self,
        crypto: &mut C,
        signer: &mut S,
        payload: &[u8],
        external_aad: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let alg = self
            .protected
            .alg
            .ok_or(Error::MissingAlgorithm)?
            .algorithm()?;
        let wide = is_wide_ecdsa(alg);
        check_alg(
            alg,
            signer.algorithm(),
            if wide {
                is_wide_ecdsa
            } else {
                Algorithm::is_ecdsa_p256
            },
        )?;
        let tag = self.tagged.then_some(tag::SIGN1);
        let (at, prot) = write_prefix(out, tag, 4, &self.protected, &self.unprotected)?;
        let at = write_bytes_or_nil(out, at, (!self.detached).then_some(payload))?;
        let protected = out.get(prot).ok_or(Error::BufferTooSmall)?;
        let input = SigInput {
            context: "Signature1",
            body_protected: protected,
            sign_protected: None,
            external_aad,
            payload,
        };
        let mut signature = [0u8; MAX_ECDSA_SIGNATURE_LEN];
        let len = if wide {
            signer.sign_message(
                alg,
                &mut |sink| feed_sig_structure(&input, sink),
                &mut signature,
            )?
        } else {
            let digest = sig_digest(crypto, &input);
            let sig = signer.sign_digest(&digest)?;
            signature
                .get_mut(..P256_SIGNATURE_LEN)
                .ok_or(Error::BufferTooSmall)?
                .copy_from_slice(&sig);
            P256_SIGNATURE_LEN
        };
        let signature = signature.get(..len).ok_or(Error::BufferTooSmall)?;
        write_bytes_or_nil(out, at, Some(signature))
    }
}
