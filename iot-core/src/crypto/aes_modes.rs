//! AES-128 operations for payloads decrypted in chunks as they are written (SUIT firmware
//! encryption, draft-ietf-suit-firmware-encryption): the AES key unwrap of a content key, A128CTR
//! and A128GCM opened piece by piece. Behind traits, so that a secure element or an accelerator
//! that holds the keys can do them; [`super::RustCrypto`] implements them in software.

use crate::error::Result;

/// AES key wrap with a 128-bit key-encryption key (RFC 3394; COSE's A128KW, RFC 9053 section 6.2.1).
pub trait AesKeyWrap {
    /// Unwraps `wrapped` (8 bytes longer than `out`, RFC 3394 section 2.2.2) under the 16-byte
    /// `kek` into `out`. A failed integrity check (wrong key, tampered input) is
    /// [`crate::Error::BadTag`]; lengths that do not fit are [`crate::Error::InvalidKey`]. On
    /// failure `out` is zeroed.
    fn aes128_kw_unwrap(&mut self, kek: &[u8], wrapped: &[u8], out: &mut [u8]) -> Result<()>;
    /// Wraps `key` (a multiple of 8 bytes, at least 16, RFC 3394 section 2.2.1) under the 16-byte
    /// `kek` into `out`, which is 8 bytes longer; other lengths are [`crate::Error::InvalidKey`].
    /// The sender's side: a server building SUIT envelopes with encrypted payloads. A device's
    /// backend (a secure element that only unwraps) may leave it out: by default it is
    /// [`crate::Error::UnsupportedAlgorithm`] naming A128KW.
    fn aes128_kw_wrap(&mut self, kek: &[u8], key: &[u8], out: &mut [u8]) -> Result<()> {
        let _ = (kek, key, out);
        Err(crate::Error::UnsupportedAlgorithm(crate::Error::label(
            crate::cose::Algorithm::A128Kw.id(),
        )))
    }
}

/// AES-128 in counter mode (NIST SP 800-38A section 6.5) with a 128-bit big-endian counter:
/// COSE's A128CTR (RFC 9459 section 4), whose 16-byte IV is the first counter block.
pub trait AesCtr {
    /// The running keystream (holds key material: zeroize it on drop).
    type AesCtrState;
    /// Starts the keystream under the 16-byte `key` at the 16-byte counter block `iv`.
    fn aes128_ctr_start(&mut self, key: &[u8], iv: &[u8]) -> Result<Self::AesCtrState>;
    /// XORs the next `data.len()` bytes of keystream into `data` (encrypts or decrypts);
    /// [`crate::Error::CapacityExceeded`] when the counter would wrap.
    fn aes128_ctr_apply(&mut self, state: &mut Self::AesCtrState, data: &mut [u8]) -> Result<()>;
}

/// A128GCM decryption (NIST SP 800-38D section 7.2; RFC 9053 section 4.1) of a ciphertext that
/// arrives in pieces, for messages too large for [`super::Aead::aead_decrypt`]'s one buffer.
///
/// The plaintext of each piece is released before the tag is checked: the caller keeps it where
/// it is not trusted yet (an inactive slot) and accepts it only when
/// [`AesGcmOpen::aes128_gcm_open_finish`] succeeds, or checks the tag in a first pass.
pub trait AesGcmOpen {
    /// The running decryption and tag computation (holds key material: zeroize it on drop).
    type GcmOpenState;
    /// Starts under the 16-byte `key` and the 12-byte `nonce`, with the associated data as
    /// consecutive pieces.
    fn aes128_gcm_open_start(
        &mut self,
        key: &[u8],
        nonce: &[u8],
        aad: &[&[u8]],
    ) -> Result<Self::GcmOpenState>;
    /// Absorbs the next piece of ciphertext and decrypts it in place.
    fn aes128_gcm_open_update(
        &mut self,
        state: &mut Self::GcmOpenState,
        data: &mut [u8],
    ) -> Result<()>;
    /// Checks the 16-byte `tag` in constant time after the whole ciphertext
    /// ([`crate::Error::BadTag`]).
    fn aes128_gcm_open_finish(&mut self, state: Self::GcmOpenState, tag: &[u8]) -> Result<()>;
}

#[cfg(feature = "rustcrypto")]
mod soft {
    use super::{AesCtr, AesGcmOpen, AesKeyWrap};
    use crate::crypto::RustCrypto;
    use crate::crypto::aead::gcm::Aes128GcmOpen;
    use crate::error::{Error, Result};
    use aes::cipher::{KeyInit, KeyIvInit, StreamCipher};

    /// [`RustCrypto`]'s A128CTR keystream (the `ctr` crate over `aes`).
    pub struct Aes128CtrState(ctr::Ctr128BE<aes::Aes128>);

    impl core::fmt::Debug for Aes128CtrState {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("Aes128CtrState(..)")
        }
    }

    /// [`RustCrypto`]'s streamed A128GCM decryption.
    pub struct Aes128GcmOpenState(Aes128GcmOpen);

    impl core::fmt::Debug for Aes128GcmOpenState {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("Aes128GcmOpenState(..)")
        }
    }

    impl<R> AesKeyWrap for RustCrypto<R> {
        fn aes128_kw_unwrap(&mut self, kek: &[u8], wrapped: &[u8], out: &mut [u8]) -> Result<()> {
            if wrapped.len() != out.len().saturating_add(8) {
                out.fill(0);
                return Err(Error::InvalidKey);
            }
            let result = aes_kw::KwAes128::new_from_slice(kek)
                .map_err(|_| Error::InvalidKey)
                .and_then(|kw| match kw.unwrap_key(wrapped, out) {
                    Ok(_) => Ok(()),
                    Err(aes_kw::Error::IntegrityCheckFailed) => Err(Error::BadTag),
                    Err(_) => Err(Error::InvalidKey),
                });
            if result.is_err() {
                out.fill(0);
            }
            result
        }

        fn aes128_kw_wrap(&mut self, kek: &[u8], key: &[u8], out: &mut [u8]) -> Result<()> {
            // RFC 3394 wraps n >= 2 blocks of 64 bits.
            if key.len() < 16
                || !key.len().is_multiple_of(8)
                || out.len() != key.len().saturating_add(8)
            {
                return Err(Error::InvalidKey);
            }
            aes_kw::KwAes128::new_from_slice(kek)
                .map_err(|_| Error::InvalidKey)?
                .wrap_key(key, out)
                .map(|_| ())
                .map_err(|_| Error::InvalidKey)
        }
    }

    impl<R> AesCtr for RustCrypto<R> {
        type AesCtrState = Aes128CtrState;
        fn aes128_ctr_start(&mut self, key: &[u8], iv: &[u8]) -> Result<Aes128CtrState> {
            if iv.len() != 16 {
                return Err(Error::InvalidNonce);
            }
            ctr::Ctr128BE::<aes::Aes128>::new_from_slices(key, iv)
                .map(Aes128CtrState)
                .map_err(|_| Error::InvalidKey)
        }
        fn aes128_ctr_apply(&mut self, state: &mut Aes128CtrState, data: &mut [u8]) -> Result<()> {
            state
                .0
                .try_apply_keystream(data)
                .map_err(|_| Error::CapacityExceeded)
        }
    }

    impl<R> AesGcmOpen for RustCrypto<R> {
        type GcmOpenState = Aes128GcmOpenState;
        fn aes128_gcm_open_start(
            &mut self,
            key: &[u8],
            nonce: &[u8],
            aad: &[&[u8]],
        ) -> Result<Aes128GcmOpenState> {
            Aes128GcmOpen::new(key, nonce, aad).map(Aes128GcmOpenState)
        }
        fn aes128_gcm_open_update(
            &mut self,
            state: &mut Aes128GcmOpenState,
            data: &mut [u8],
        ) -> Result<()> {
            state.0.update(data)
        }
        fn aes128_gcm_open_finish(&mut self, state: Aes128GcmOpenState, tag: &[u8]) -> Result<()> {
            state.0.finish(tag)
        }
    }
}

#[cfg(feature = "rustcrypto")]
pub use soft::{Aes128CtrState, Aes128GcmOpenState};
