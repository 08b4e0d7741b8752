//! SUIT_Digest (draft-ietf-suit-manifest, the `SUIT_Digest` CDDL).

use crate::cbor::{Cur, count};
use crate::error::{Error, Result};
use iot_core::CborError;
use iot_core::crypto::{Sha256, ct_eq};

/// Digest algorithm ids of SUIT (COSE algorithm ids, IANA "COSE Algorithms").
pub mod alg {
    /// SHA-256, the one this build computes.
    pub const SHA256: i64 = -16;
    /// SHAKE128.
    pub const SHAKE128: i64 = -18;
    /// SHA-384.
    pub const SHA384: i64 = -43;
    /// SHA-512.
    pub const SHA512: i64 = -44;
    /// SHAKE256.
    pub const SHAKE256: i64 = -45;
}

/// `SUIT_Digest = [algorithm-id, digest-bytes, * extensions]`, borrowing its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuitDigest<'a> {
    /// The COSE algorithm id ([`alg`]).
    pub algorithm: i64,
    /// The digest bytes.
    pub bytes: &'a [u8],
}

impl<'a> SuitDigest<'a> {
    /// Decodes one SUIT_Digest at the cursor; extension items after the bytes are skipped.
    pub(crate) fn decode(c: &mut Cur<'a>) -> Result<Self> {
        let at = c.position();
        let n = c.array()?;
        if n < 2 {
            return Err(Error::Core(iot_core::Error::cbor(
                CborError::UnexpectedType,
                at,
            )));
        }
        let algorithm = c.int()?;
        let bytes = c.bytes()?;
        for _ in 2..count(n) {
            c.skip()?;
        }
        Ok(Self { algorithm, bytes })
    }

    /// Decodes a whole byte string that holds exactly one SUIT_Digest (`bstr .cbor SUIT_Digest`).
    pub(crate) fn decode_all(mut c: Cur<'a>) -> Result<Self> {
        let d = Self::decode(&mut c)?;
        c.finish()?;
        Ok(d)
    }

    /// Checks that this digest is the SHA-256 of `data`, comparing in constant time.
    ///
    /// [`Error::UnsupportedDigestAlgorithm`] for any algorithm but SHA-256; `mismatch` otherwise.
    pub(crate) fn check<C: Sha256>(
        &self,
        crypto: &mut C,
        data: &[u8],
        mismatch: Error,
    ) -> Result<()> {
        if self.algorithm != alg::SHA256 {
            return Err(Error::UnsupportedDigestAlgorithm(iot_core::Error::label(
                self.algorithm,
            )));
        }
        let computed = crypto.sha256(data);
        if ct_eq(&computed, self.bytes) {
            Ok(())
        } else {
            Err(mismatch)
        }
    }

    /// Whether this digest is the SHA-256 of `data` (constant-time comparison); an error only for
    /// an algorithm other than SHA-256.
    pub fn matches<C: Sha256>(&self, crypto: &mut C, data: &[u8]) -> Result<bool> {
        match self.check(crypto, data, Error::DigestMismatch) {
            Ok(()) => Ok(true),
            Err(Error::DigestMismatch) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
