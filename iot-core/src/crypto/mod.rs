//! Crypto backend traits.
//!
//! A backend is a value passed in by `&mut` (as lakers does), so that a secure element, a PSA
//! driver or an accelerator can sit behind it and keep state between calls. Hashes and MACs are
//! incremental, so that COSE's Sig_structure and MAC_structure are streamed into them and never
//! buffered whole; signing takes a SHA-256 digest for the same reason. AEADs take their associated
//! data as a list of slices for the same reason (the Enc_structure is written in pieces).
//!
//! [`RustCrypto`] implements every trait in software (feature `rustcrypto`, on by default).

use crate::cose::{AeadAlgorithm, Algorithm};
use crate::error::Result;

#[cfg(feature = "rustcrypto")]
mod aead;
mod aes_modes;
mod ecdh;
#[cfg(feature = "rustcrypto")]
pub use aes_modes::{Aes128CtrState, Aes128GcmOpenState};
pub use aes_modes::{AesCtr, AesGcmOpen, AesKeyWrap};
pub use ecdh::{EcdhP256, P256_SHARED_SECRET_LEN, P256SharedSecret};
#[cfg(feature = "rustcrypto")]
mod rustcrypto;
#[cfg(feature = "rustcrypto")]
pub use rustcrypto::{
    P256SigningKey, P256VerifyingKey, P384SigningKey, P384VerifyingKey, P521SigningKey,
    P521VerifyingKey, RustCrypto, RustCryptoAeadKey,
};

/// Length of a SHA-256 digest.
pub const SHA256_LEN: usize = 32;
/// Length of a P-256 ECDSA signature as COSE carries it: `r || s`, 32 bytes each.
pub const P256_SIGNATURE_LEN: usize = 64;
/// Length of the longest ECDSA signature of [`Algorithm`]: ES512's `r || s`, 66 bytes each.
pub const MAX_ECDSA_SIGNATURE_LEN: usize = 132;

/// A message streamed to a key that hashes it itself: called once with a sink, it writes the
/// message into it piece by piece (a COSE Sig_structure, never buffered whole).
pub type Message<'m> = dyn FnMut(&mut dyn FnMut(&[u8])) + 'm;

/// Incremental SHA-256 (FIPS 180-4).
pub trait Sha256 {
    /// The running state of one hash computation.
    type Sha256State;
    /// Starts a hash computation.
    fn sha256_start(&mut self) -> Self::Sha256State;
    /// Absorbs `data`.
    fn sha256_update(&mut self, state: &mut Self::Sha256State, data: &[u8]);
    /// Finishes and returns the digest.
    fn sha256_finish(&mut self, state: Self::Sha256State) -> [u8; SHA256_LEN];

    /// SHA-256 of `data` in one call.
    fn sha256(&mut self, data: &[u8]) -> [u8; SHA256_LEN] {
        let mut state = self.sha256_start();
        self.sha256_update(&mut state, data);
        self.sha256_finish(state)
    }
}

/// Incremental HMAC-SHA-256 (RFC 2104).
pub trait HmacSha256 {
    /// The running state of one MAC computation (holds key material: zeroize it on drop).
    type HmacState;
    /// Starts a MAC computation under `key`.
    fn hmac_start(&mut self, key: &[u8]) -> Result<Self::HmacState>;
    /// Absorbs `data`.
    fn hmac_update(&mut self, state: &mut Self::HmacState, data: &[u8]);
    /// Finishes and returns the full 32-byte tag.
    fn hmac_finish(&mut self, state: Self::HmacState) -> [u8; SHA256_LEN];
}

/// HKDF with SHA-256 (RFC 5869): extract with `salt` (empty for none), then expand `info` to `okm.len()` bytes.
pub trait HkdfSha256 {
    /// Fills `okm`; fails when `okm` is longer than 255 * 32 bytes.
    fn hkdf_sha256(&mut self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()>;
}

/// Authenticated encryption with a detached tag, in place.
///
/// `aad` is the associated data as consecutive pieces, so that a caller can pass a structure
/// (COSE's Enc_structure) without first copying it into one buffer.
///
/// A key is prepared once with [`Aead::aead_key`] and then used for any number of messages
/// ([`Aead::aead_seal`], [`Aead::aead_open`]), so that a protocol holding a long-lived key (an
/// OSCORE security context) does not redo the key schedule per message. [`Aead::aead_encrypt`] and
/// [`Aead::aead_decrypt`] prepare the key for one message.
pub trait Aead {
    /// A key prepared for one algorithm: an expanded key schedule in software, or a handle to a
    /// key held by a secure element. Secret material in it zeroizes on drop.
    type AeadKey;

    /// Prepares `key` (`alg.key_len()` bytes) for `alg`; [`crate::Error::InvalidKey`] otherwise.
    fn aead_key(&mut self, alg: AeadAlgorithm, key: &[u8]) -> Result<Self::AeadKey>;

    /// Encrypts `buffer` in place under a prepared key and writes the tag into `tag`
    /// (`alg.tag_len()` bytes).
    fn aead_seal(
        &mut self,
        key: &Self::AeadKey,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()>;

    /// Checks `tag` and decrypts `buffer` in place under a prepared key; on failure `buffer`
    /// holds no plaintext.
    fn aead_open(
        &mut self,
        key: &Self::AeadKey,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<()>;

    /// Encrypts `buffer` in place under the key bytes `key` and writes the tag into `tag`
    /// (`alg.tag_len()` bytes).
    fn aead_encrypt(
        &mut self,
        alg: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        let key = self.aead_key(alg, key)?;
        self.aead_seal(&key, nonce, aad, buffer, tag)
    }

    /// Checks `tag` and decrypts `buffer` in place under the key bytes `key`; on failure
    /// `buffer` holds no plaintext.
    fn aead_decrypt(
        &mut self,
        alg: AeadAlgorithm,
        key: &[u8],
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        match self.aead_key(alg, key) {
            Ok(key) => self.aead_open(&key, nonce, aad, buffer, tag),
            Err(e) => {
                buffer.fill(0);
                Err(e)
            }
        }
    }
}

/// A cryptographically secure random number generator.
pub trait Rng {
    /// Fills `out` with random bytes.
    fn fill_random(&mut self, out: &mut [u8]) -> Result<()>;
}

/// Everything a COSE or protocol operation may ask of a backend.
pub trait Crypto: Sha256 + HmacSha256 + HkdfSha256 + Aead + Rng {}
impl<T: Sha256 + HmacSha256 + HkdfSha256 + Aead + Rng> Crypto for T {}

/// A P-256 private key wherever it lives (software, secure element, TPM): it signs digests and
/// never hands out the key.
pub trait Signer {
    /// The one algorithm this key is restricted to, if any (a COSE_Key's `alg`).
    fn algorithm(&self) -> Option<Algorithm>;
    /// ECDSA-signs a SHA-256 digest and returns `r || s`.
    fn sign_digest(&mut self, digest: &[u8; SHA256_LEN]) -> Result<[u8; P256_SIGNATURE_LEN]>;
    /// For ES384 / ES512 keys, which hash with SHA-384 / SHA-512 themselves: signs `message` with
    /// `alg`, writes `r || s` into `out` and returns its length. Other keys refuse with
    /// [`crate::Error::AlgorithmMismatch`] (the default).
    fn sign_message(
        &mut self,
        alg: Algorithm,
        message: &mut Message<'_>,
        out: &mut [u8; MAX_ECDSA_SIGNATURE_LEN],
    ) -> Result<usize> {
        let _ = (alg, message, out);
        Err(crate::Error::AlgorithmMismatch)
    }
}

/// A P-256 public key that checks signatures over SHA-256 digests.
pub trait Verifier {
    /// The one algorithm this key is restricted to, if any (a COSE_Key's `alg`).
    fn algorithm(&self) -> Option<Algorithm>;
    /// Checks an `r || s` signature over `digest`; [`crate::Error::BadSignature`] if it does not verify.
    fn verify_digest(&mut self, digest: &[u8; SHA256_LEN], signature: &[u8]) -> Result<()>;
    /// For ES384 / ES512 keys, which hash with SHA-384 / SHA-512 themselves: checks an `r || s`
    /// signature made with `alg` over `message`. Other keys refuse with
    /// [`crate::Error::AlgorithmMismatch`] (the default).
    fn verify_message(
        &mut self,
        alg: Algorithm,
        message: &mut Message<'_>,
        signature: &[u8],
    ) -> Result<()> {
        let _ = (alg, message, signature);
        Err(crate::Error::AlgorithmMismatch)
    }
}

impl<T: Signer + ?Sized> Signer for &mut T {
    fn algorithm(&self) -> Option<Algorithm> {
        (**self).algorithm()
    }
    fn sign_digest(&mut self, digest: &[u8; SHA256_LEN]) -> Result<[u8; P256_SIGNATURE_LEN]> {
        (**self).sign_digest(digest)
    }
    fn sign_message(
        &mut self,
        alg: Algorithm,
        message: &mut Message<'_>,
        out: &mut [u8; MAX_ECDSA_SIGNATURE_LEN],
    ) -> Result<usize> {
        (**self).sign_message(alg, message, out)
    }
}

impl<T: Verifier + ?Sized> Verifier for &mut T {
    fn algorithm(&self) -> Option<Algorithm> {
        (**self).algorithm()
    }
    fn verify_digest(&mut self, digest: &[u8; SHA256_LEN], signature: &[u8]) -> Result<()> {
        (**self).verify_digest(digest, signature)
    }
    fn verify_message(
        &mut self,
        alg: Algorithm,
        message: &mut Message<'_>,
        signature: &[u8],
    ) -> Result<()> {
        (**self).verify_message(alg, message, signature)
    }
}

/// Checks that a message's algorithm `alg` may be used with a key restricted to `key_alg`
/// for an operation that accepts `allowed` algorithms.
pub(crate) fn check_alg(
    alg: Algorithm,
    key_alg: Option<Algorithm>,
    allowed: fn(Algorithm) -> bool,
) -> Result<()> {
    if !allowed(alg) || key_alg.is_some_and(|k| k != alg) {
        return Err(crate::Error::AlgorithmMismatch);
    }
    Ok(())
}

/// Constant-time equality of two byte strings (tags, digests, MACs); lengths are public.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
