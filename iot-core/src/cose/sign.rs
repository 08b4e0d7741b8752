//! COSE_Sign (RFC 9052 section 4.1): one payload, several signatures, each checked on its own
//! with ES256 / ESP256 over the "Signature" Sig_structure (RFC 9052 section 4.4).

use super::list::{CoseList, ListItem};
use super::sign1::{SigInput, verify_signature};
use super::structure::write_sig_structure;
use super::{Algorithm, Headers, open_message, reader, tag};
use crate::cbor::{Limits, Reader};
use crate::crypto::{Sha256, Verifier};
use crate::error::{Error, Result};
use minicbor::encode::Write;

/// How many signatures a COSE_Sign may carry here; more is [`crate::CborError::TooMany`].
pub const MAX_SIGNATURES: usize = 8;

/// One COSE_Signature: `[protected, unprotected, signature]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSignature<'a> {
    /// The signer's header buckets; the protected one with its bytes as received.
    pub headers: Headers<'a>,
    /// The signature bytes.
    pub signature: &'a [u8],
}

impl<'a> CoseSignature<'a> {
    /// The signature algorithm.
    pub fn alg(&self) -> Result<Algorithm> {
        self.headers.alg()
    }
}

impl<'a> ListItem<'a> for CoseSignature<'a> {
    fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        r.array_of(3)?;
        let headers = Headers::decode(r)?;
        let signature = r.bytes()?;
        Ok(Self { headers, signature })
    }

    fn kid(&self) -> Option<&'a [u8]> {
        self.headers.kid()
    }
}

/// The signatures of a [`CoseSign`].
pub type Signatures<'a> = CoseList<'a, CoseSignature<'a>>;

/// A decoded COSE_Sign, borrowing from its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSign<'a> {
    /// The body's header buckets.
    pub headers: Headers<'a>,
    /// The payload, or `None` when detached.
    pub payload: Option<&'a [u8]>,
    /// The signatures, at least one and at most [`MAX_SIGNATURES`].
    pub signatures: Signatures<'a>,
    /// Whether the message carried tag 98.
    pub tagged: bool,
}

impl<'a> CoseSign<'a> {
    /// Decodes a whole input (tagged 98 or untagged) with the default [`Limits`].
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

    /// Decodes one COSE_Sign from `r`, leaving what follows.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let tagged = open_message(r, tag::SIGN, 4)?;
        let headers = Headers::decode(r)?;
        let payload = r.bytes_or_null()?;
        let signatures = Signatures::decode(r, MAX_SIGNATURES)?;
        Ok(Self {
            headers,
            payload,
            signatures,
            tagged,
        })
    }

    /// Writes the `Sig_structure` of signature `index` (with `detached` as the payload when the
    /// message has none).
    pub fn write_to_be_signed<W: Write>(
        &self,
        index: usize,
        detached: Option<&[u8]>,
        external_aad: &[u8],
        w: W,
    ) -> Result<()> {
        let signer = self.signatures.get(index)?;
        let payload = self.payload.or(detached).ok_or(Error::PayloadMismatch)?;
        write_sig_structure(
            w,
            "Signature",
            self.headers.protected_raw,
            Some(signer.headers.protected_raw),
            external_aad,
            payload,
        )
        .map_err(|_| Error::BufferTooSmall)
    }

    /// Verifies signature `index` of a message with an attached payload.
    pub fn verify<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        index: usize,
        key: &mut V,
        external_aad: &[u8],
    ) -> Result<()> {
        let payload = self.payload.ok_or(Error::PayloadMismatch)?;
        self.verify_one(
            crypto,
            &self.signatures.get(index)?,
            key,
            payload,
            external_aad,
        )
    }

    /// Verifies signature `index` of a message whose payload is detached and given here.
    pub fn verify_detached<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        index: usize,
        key: &mut V,
        payload: &[u8],
        external_aad: &[u8],
    ) -> Result<()> {
        if self.payload.is_some() {
            return Err(Error::PayloadMismatch);
        }
        self.verify_one(
            crypto,
            &self.signatures.get(index)?,
            key,
            payload,
            external_aad,
        )
    }

    /// Verifies the signature(s) whose key id is `kid` with `key` (attached payload); returns the
    /// index of the first that verifies. [`Error::NotFound`] when no signature carries `kid`,
    /// otherwise the error of the last one tried.
    pub fn verify_kid<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        kid: &[u8],
        key: &mut V,
        external_aad: &[u8],
    ) -> Result<usize> {
        let payload = self.payload.ok_or(Error::PayloadMismatch)?;
        let mut result = Err(Error::NotFound);
        for (i, signer) in self.signatures.iter().enumerate() {
            if signer.headers.kid() != Some(kid) {
                continue;
            }
            result = self
                .verify_one(crypto, &signer, key, payload, external_aad)
                .map(|()| i);
            if result.is_ok() {
                break;
            }
        }
        result
    }

    fn verify_one<C: Sha256, V: Verifier>(
        &self,
        crypto: &mut C,
        signer: &CoseSignature<'_>,
        key: &mut V,
        payload: &[u8],
        external_aad: &[u8],
    ) -> Result<()> {
        let input = SigInput {
            context: "Signature",
            body_protected: self.headers.protected_raw,
            sign_protected: Some(signer.headers.protected_raw),
            external_aad,
            payload,
        };
        verify_signature(crypto, key, signer.alg()?, signer.signature, &input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CborError;
    use crate::crypto::{P256VerifyingKey, RustCrypto};

    /// cose-wg/Examples ecdsa-01: one ES256 signer, kid "11", payload "This is the content.".
    const ECDSA_01: &str = "D8628443A10300A054546869732069732074686520636F6E74656E742E818343A10126A1044231315840D71C05DB52C9CE7F1BF5AAC01334BBEACAC1D86A2303E6EEAA89266F45C01ED602CA649EAF790D8BC99D2458457CA6A872061940E7AFBE48E289DFAC146AE258";
    const SIGNER: &str = "8343A10126A1044231315840D71C05DB52C9CE7F1BF5AAC01334BBEACAC1D86A2303E6EEAA89266F45C01ED602CA649EAF790D8BC99D2458457CA6A872061940E7AFBE48E289DFAC146AE258";
    const BODY: &str = "D8628443A10300A054546869732069732074686520636F6E74656E742E";

    fn key() -> P256VerifyingKey {
        let x = hex::decode("bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff")
            .unwrap();
        let y = hex::decode("20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e")
            .unwrap();
        P256VerifyingKey::from_coordinates(&x, &y).unwrap()
    }

    /// ecdsa-01's body with `n` copies of its signer.
    fn with_signers(n: u8) -> std::vec::Vec<u8> {
        let mut m = hex::decode(BODY).unwrap();
        m.push(0x80 | n);
        for _ in 0..n {
            m.extend(hex::decode(SIGNER).unwrap());
        }
        m
    }

    #[test]
    fn verifies_by_index_and_kid() {
        let (mut c, mut k) = (RustCrypto::<()>::default(), key());
        let msg = hex::decode(ECDSA_01).unwrap();
        let m = CoseSign::decode(&msg).unwrap();
        assert!(m.tagged);
        assert_eq!(m.signatures.len(), 1);
        m.verify(&mut c, 0, &mut k, b"").unwrap();
        assert_eq!(m.verify_kid(&mut c, b"11", &mut k, b""), Ok(0));
        assert_eq!(
            m.verify(&mut c, 0, &mut k, b"aad"),
            Err(Error::BadSignature)
        );
        assert_eq!(
            m.verify_detached(&mut c, 0, &mut k, b"x", b""),
            Err(Error::PayloadMismatch)
        );
    }

    #[test]
    fn missing_kid_and_index() {
        let (mut c, mut k) = (RustCrypto::<()>::default(), key());
        let msg = hex::decode(ECDSA_01).unwrap();
        let m = CoseSign::decode(&msg).unwrap();
        assert_eq!(
            m.verify_kid(&mut c, b"12", &mut k, b""),
            Err(Error::NotFound)
        );
        assert_eq!(
            m.signatures.find_kid(b"12").map(|(i, _)| i),
            Err(Error::NotFound)
        );
        assert_eq!(m.verify(&mut c, 1, &mut k, b""), Err(Error::NotFound));
        let mut sink = std::vec::Vec::new();
        assert_eq!(
            m.write_to_be_signed(1, None, b"", &mut sink),
            Err(Error::NotFound)
        );
    }

    #[test]
    fn bounded_signature_count() {
        let (mut c, mut k) = (RustCrypto::<()>::default(), key());
        let max = with_signers(MAX_SIGNATURES as u8);
        let m = CoseSign::decode(&max).unwrap();
        assert_eq!(m.signatures.iter().count(), MAX_SIGNATURES);
        m.verify(&mut c, MAX_SIGNATURES - 1, &mut k, b"").unwrap();
        let too_many = with_signers(MAX_SIGNATURES as u8 + 1);
        assert!(matches!(
            CoseSign::decode(&too_many),
            Err(Error::Cbor {
                kind: CborError::TooMany,
                ..
            })
        ));
        assert!(matches!(
            CoseSign::decode(&with_signers(0)),
            Err(Error::Cbor {
                kind: CborError::UnexpectedType,
                ..
            })
        ));
    }

    #[test]
    fn bad_input_is_typed() {
        let msg = hex::decode(ECDSA_01).unwrap();
        // Truncated anywhere, a wrong tag, and a Sign1 tag are errors, not panics.
        for n in 0..msg.len() {
            assert!(CoseSign::decode(&msg[..n]).is_err());
        }
        let mut wrong = msg.clone();
        wrong[1] = 0x61;
        assert_eq!(CoseSign::decode(&wrong), Err(Error::WrongTag(97)));
        // A signer that is not a 3-array.
        let mut bad = hex::decode(BODY).unwrap();
        bad.extend([0x81, 0x82, 0x40, 0xa0]);
        assert!(CoseSign::decode(&bad).is_err());
        // A signer with an unsupported algorithm decodes, and fails to verify with a typed error.
        let mut es256k = msg.clone();
        let at = es256k
            .windows(3)
            .position(|w| w == [0xa1, 0x01, 0x26])
            .unwrap();
        es256k[at + 2] = 0x38;
        es256k.insert(at + 3, 0x2e); // -47, ES256K
        es256k[at - 1] = 0x44;
        let m = CoseSign::decode(&es256k).unwrap();
        let (mut c, mut k) = (RustCrypto::<()>::default(), key());
        assert_eq!(
            m.verify(&mut c, 0, &mut k, b""),
            Err(Error::UnsupportedAlgorithm(-47))
        );
    }
}
