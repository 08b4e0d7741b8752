//! The crypto a DICE layer asks of its backend, beyond iot-core's traits.
//!
//! The Open Profile for DICE ("Cryptography") hashes with SHA-512 and derives with HKDF-SHA-512,
//! and open-dice's P-256 variant derives the private key with an HMAC-SHA-512 DRBG; iot-core's
//! traits are SHA-256 only, so these traits add the SHA-512 family, and [`P256Keys`] turns a
//! derived scalar into a key without exporting it again (a secure element may hold it). The
//! certificate itself is ES256 over SHA-256 through iot-core's [`Sha256`] and [`Signer`].
//! [`iot_core::crypto::RustCrypto`] implements them all (feature `rustcrypto`).

use iot_core::crypto::{Sha256, Signer, Verifier};

/// Length of a SHA-512 digest and of an HMAC-SHA-512 tag.
pub const SHA512_LEN: usize = 64;

/// Incremental SHA-512 (FIPS 180-4).
pub trait Sha512 {
    /// The running state of one hash computation.
    type Sha512State;
    /// Starts a hash computation.
    fn sha512_start(&mut self) -> Self::Sha512State;
    /// Absorbs `data`.
    fn sha512_update(&mut self, state: &mut Self::Sha512State, data: &[u8]);
    /// Finishes and returns the digest.
    fn sha512_finish(&mut self, state: Self::Sha512State) -> [u8; SHA512_LEN];
}

/// HMAC-SHA-512 (RFC 2104) over a message given in pieces.
pub trait HmacSha512 {
    /// Writes HMAC-SHA-512 under `key` of the concatenation of `parts` into `out` (kept by the
    /// caller, so that a DRBG's key and state never sit in a returned temporary).
    fn hmac_sha512(
        &mut self,
        key: &[u8],
        parts: &[&[u8]],
        out: &mut [u8; SHA512_LEN],
    ) -> iot_core::Result<()>;
}

/// HKDF with SHA-512 (RFC 5869): extract with `salt`, then expand `info` to `okm.len()` bytes.
pub trait HkdfSha512 {
    /// Fills `okm`; fails when `okm` is longer than 255 * 64 bytes.
    fn hkdf_sha512(
        &mut self,
        salt: &[u8],
        ikm: &[u8],
        info: &[u8],
        okm: &mut [u8],
    ) -> iot_core::Result<()>;
}

/// P-256 keys made from derived values.
pub trait P256Keys {
    /// A private key that signs SHA-256 digests.
    type SigningKey: Signer;
    /// A public key that checks signatures over SHA-256 digests.
    type VerifyingKey: Verifier;
    /// The key with private scalar `d` (32 bytes, big-endian) and its public key `x || y`.
    /// Fails with [`iot_core::Error::InvalidKey`] when `d` is zero or not below the group order.
    fn p256_signing_key(&mut self, d: &[u8; 32]) -> iot_core::Result<(Self::SigningKey, [u8; 64])>;
    /// The public key with affine coordinates `x || y`; [`iot_core::Error::InvalidKey`] when the
    /// point is not on the curve.
    fn p256_verifying_key(&mut self, xy: &[u8; 64]) -> iot_core::Result<Self::VerifyingKey>;
}

/// Everything a DICE layer asks of a backend.
pub trait DiceCrypto: Sha256 + Sha512 + HmacSha512 + HkdfSha512 + P256Keys {}
impl<T: Sha256 + Sha512 + HmacSha512 + HkdfSha512 + P256Keys> DiceCrypto for T {}

#[cfg(feature = "rustcrypto")]
mod rustcrypto {
    use super::{HkdfSha512, HmacSha512, P256Keys, SHA512_LEN, Sha512};
    use hmac::{KeyInit as _, Mac as _};
    use iot_core::Error;
    use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};
    use sha2::Digest as _;

    impl<R> Sha512 for RustCrypto<R> {
        type Sha512State = sha2::Sha512;
        fn sha512_start(&mut self) -> sha2::Sha512 {
            sha2::Sha512::new()
        }
        fn sha512_update(&mut self, state: &mut sha2::Sha512, data: &[u8]) {
            state.update(data);
        }
        fn sha512_finish(&mut self, state: sha2::Sha512) -> [u8; SHA512_LEN] {
            state.finalize().into()
        }
    }

    impl<R> HmacSha512 for RustCrypto<R> {
        fn hmac_sha512(
            &mut self,
            key: &[u8],
            parts: &[&[u8]],
            out: &mut [u8; SHA512_LEN],
        ) -> iot_core::Result<()> {
            // hmac's state zeroizes itself on drop (workspace feature `zeroize`).
            let mut mac =
                hmac::Hmac::<sha2::Sha512>::new_from_slice(key).map_err(|_| Error::InvalidKey)?;
            for part in parts {
                mac.update(part);
            }
            out.copy_from_slice(&mac.finalize().into_bytes());
            Ok(())
        }
    }

    impl<R> HkdfSha512 for RustCrypto<R> {
        fn hkdf_sha512(
            &mut self,
            salt: &[u8],
            ikm: &[u8],
            info: &[u8],
            okm: &mut [u8],
        ) -> iot_core::Result<()> {
            hkdf::Hkdf::<sha2::Sha512>::new(Some(salt), ikm)
                .expand(info, okm)
                .map_err(|_| Error::CapacityExceeded)
        }
    }

    impl<R> P256Keys for RustCrypto<R> {
        type SigningKey = P256SigningKey;
        type VerifyingKey = P256VerifyingKey;

        fn p256_signing_key(
            &mut self,
            d: &[u8; 32],
        ) -> iot_core::Result<(P256SigningKey, [u8; 64])> {
            let key = P256SigningKey::from_bytes(d)?;
            let sec1 = key.verifying_key().to_sec1_uncompressed();
            let mut xy = [0u8; 64];
            xy.copy_from_slice(sec1.get(1..).ok_or(Error::InvalidKey)?);
            Ok((key, xy))
        }

        fn p256_verifying_key(&mut self, xy: &[u8; 64]) -> iot_core::Result<P256VerifyingKey> {
            let (x, y) = xy.split_at(32);
            P256VerifyingKey::from_coordinates(x, y)
        }
    }
}
