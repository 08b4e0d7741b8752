//! The software backend on the RustCrypto crates (DESIGN.md "Crypto" names the generation).
//!
//! The AEAD modes are composed in `super::aead` from RustCrypto's primitives, so that the
//! associated data streams in pieces.

use super::aead::{ccm::AesCcm16_64_128, chachapoly::ChaCha20Poly1305, gcm::Aes128Gcm};
use super::{
    Aead, HkdfSha256, HmacSha256, MAX_ECDSA_SIGNATURE_LEN, Message, P256_SIGNATURE_LEN, Rng,
    SHA256_LEN, Sha256, Signer, Verifier,
};
use crate::cose::{AeadAlgorithm, Algorithm};
use crate::error::{Error, Result};
use hmac::{KeyInit as _, Mac as _};
use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use sha2::Digest as _;

/// The RustCrypto backend, with the random number generator `R` it draws from.
#[derive(Debug, Clone, Default)]
pub struct RustCrypto<R> {
    rng: R,
}

impl<R: rand_core::TryCryptoRng> RustCrypto<R> {
    /// A backend drawing randomness from `rng`.
    pub fn new(rng: R) -> Self {
        Self { rng }
    }
}

#[cfg(feature = "std")]
impl RustCrypto<getrandom::SysRng> {
    /// A backend drawing randomness from the operating system.
    pub fn from_os() -> Self {
        Self {
            rng: getrandom::SysRng,
        }
    }
}

impl<R> Sha256 for RustCrypto<R> {
    type Sha256State = sha2::Sha256;
    fn sha256_start(&mut self) -> sha2::Sha256 {
        sha2::Sha256::new()
    }
    fn sha256_update(&mut self, state: &mut sha2::Sha256, data: &[u8]) {
        state.update(data);
    }
    fn sha256_finish(&mut self, state: sha2::Sha256) -> [u8; SHA256_LEN] {
        state.finalize().into()
    }
}

impl<R> HmacSha256 for RustCrypto<R> {
    type HmacState = hmac::Hmac<sha2::Sha256>;
    fn hmac_start(&mut self, key: &[u8]) -> Result<Self::HmacState> {
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).map_err(|_| Error::InvalidKey)
    }
    fn hmac_update(&mut self, state: &mut Self::HmacState, data: &[u8]) {
        state.update(data);
    }
    fn hmac_finish(&mut self, state: Self::HmacState) -> [u8; SHA256_LEN] {
        state.finalize().into_bytes().into()
    }
}

impl<R> HkdfSha256 for RustCrypto<R> {
    fn hkdf_sha256(&mut self, salt: &[u8], ikm: &[u8], info: &[u8], okm: &mut [u8]) -> Result<()> {
        hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), ikm)
            .expand(info, okm)
            .map_err(|_| Error::CapacityExceeded)
    }
}

/// An AEAD key prepared by [`RustCrypto`]: the expanded AES-128 encryption key schedule (and the
/// GHASH key for A128GCM), or the ChaCha20 key. All of it zeroizes on drop.
pub struct RustCryptoAeadKey(PreparedKey);

enum PreparedKey {
    AesCcm16_64_128(AesCcm16_64_128),
    ChaCha20Poly1305(ChaCha20Poly1305),
    A128Gcm(Aes128Gcm),
}

impl RustCryptoAeadKey {
    /// The algorithm the key was prepared for.
    pub fn alg(&self) -> AeadAlgorithm {
        match self.0 {
            PreparedKey::AesCcm16_64_128(_) => AeadAlgorithm::AesCcm16_64_128,
            PreparedKey::ChaCha20Poly1305(_) => AeadAlgorithm::ChaCha20Poly1305,
            PreparedKey::A128Gcm(_) => AeadAlgorithm::A128Gcm,
        }
    }
}

impl core::fmt::Debug for RustCryptoAeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RustCryptoAeadKey(..)")
    }
}

impl<R> Aead for RustCrypto<R> {
    type AeadKey = RustCryptoAeadKey;

    fn aead_key(&mut self, alg: AeadAlgorithm, key: &[u8]) -> Result<RustCryptoAeadKey> {
        Ok(RustCryptoAeadKey(match alg {
            AeadAlgorithm::AesCcm16_64_128 => {
                PreparedKey::AesCcm16_64_128(AesCcm16_64_128::new(key)?)
            }
            AeadAlgorithm::ChaCha20Poly1305 => {
                PreparedKey::ChaCha20Poly1305(ChaCha20Poly1305::new(key)?)
            }
            AeadAlgorithm::A128Gcm => PreparedKey::A128Gcm(Aes128Gcm::new(key)?),
        }))
    }

    fn aead_seal(
        &mut self,
        key: &RustCryptoAeadKey,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        match &key.0 {
            PreparedKey::AesCcm16_64_128(c) => c.encrypt(nonce, aad, buffer, tag),
            PreparedKey::ChaCha20Poly1305(c) => c.encrypt(nonce, aad, buffer, tag),
            PreparedKey::A128Gcm(c) => c.encrypt(nonce, aad, buffer, tag),
        }
    }

    fn aead_open(
        &mut self,
        key: &RustCryptoAeadKey,
        nonce: &[u8],
        aad: &[&[u8]],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        // Every mode zeroes `buffer` when it fails.
        match &key.0 {
            PreparedKey::AesCcm16_64_128(c) => c.decrypt(nonce, aad, buffer, tag),
            PreparedKey::ChaCha20Poly1305(c) => c.decrypt(nonce, aad, buffer, tag),
            PreparedKey::A128Gcm(c) => c.decrypt(nonce, aad, buffer, tag),
        }
    }
}

impl<R: rand_core::TryCryptoRng> Rng for RustCrypto<R> {
    fn fill_random(&mut self, out: &mut [u8]) -> Result<()> {
        self.rng.try_fill_bytes(out).map_err(|_| Error::Rng)
    }
}

/// A P-256 private key held in memory; zeroized on drop. Signs deterministically (RFC 6979).
#[derive(Clone)]
pub struct P256SigningKey {
    key: p256::ecdsa::SigningKey,
    alg: Option<Algorithm>,
}

impl core::fmt::Debug for P256SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("P256SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl P256SigningKey {
    /// The key with the 32-byte big-endian scalar `d`.
    pub fn from_bytes(d: &[u8]) -> Result<Self> {
        let key = p256::ecdsa::SigningKey::from_slice(d).map_err(|_| Error::InvalidKey)?;
        Ok(Self { key, alg: None })
    }

    /// A fresh key from `rng` (a backend's [`Rng`], so that a hardware generator can feed it).
    pub fn generate(rng: &mut impl Rng) -> Result<Self> {
        // A random 256-bit string is a valid scalar with probability ~1 - 2^-32; retry a few times.
        for _ in 0..8 {
            let mut d = zeroize::Zeroizing::new([0u8; 32]);
            rng.fill_random(d.as_mut())?;
            if let Ok(key) = Self::from_bytes(d.as_ref()) {
                return Ok(key);
            }
        }
        Err(Error::Rng)
    }

    /// Restricts the key to one algorithm (a COSE_Key's `alg`), or lifts the restriction.
    pub fn with_algorithm(mut self, alg: Option<Algorithm>) -> Self {
        self.alg = alg;
        self
    }

    /// The 32-byte private scalar (for export to PKCS#8 by tools; keep it secret).
    pub fn to_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.key.to_bytes().into())
    }

    /// The public key.
    pub fn verifying_key(&self) -> P256VerifyingKey {
        P256VerifyingKey {
            key: *self.key.verifying_key(),
            alg: self.alg,
        }
    }
}

impl Signer for P256SigningKey {
    fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }
    fn sign_digest(&mut self, digest: &[u8; SHA256_LEN]) -> Result<[u8; P256_SIGNATURE_LEN]> {
        let sig: p256::ecdsa::Signature =
            self.key.sign_prehash(digest).map_err(|_| Error::Backend)?;
        Ok(sig.to_bytes().into())
    }
}

/// The affine point `(x, y)`, which must be on the curve with both coordinates below the field
/// prime (SEC 1 section 2.3.4's checks for an uncompressed point), read without SEC1 parsing.
fn affine_point<P>(x: &[u8], y: &[u8]) -> Result<P>
where
    P: p256::elliptic_curve::point::AffineCoordinates,
    P::FieldRepr: for<'a> TryFrom<&'a [u8]>,
{
    let (Ok(x), Ok(y)) = (P::FieldRepr::try_from(x), P::FieldRepr::try_from(y)) else {
        return Err(Error::InvalidKey);
    };
    Option::from(P::from_coordinates(&x, &y)).ok_or(Error::InvalidKey)
}

/// A P-256 public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct P256VerifyingKey {
    key: p256::ecdsa::VerifyingKey,
    alg: Option<Algorithm>,
}

impl P256VerifyingKey {
    /// The key from its SEC1 encoding (uncompressed `04 || x || y` or compressed).
    pub fn from_sec1(bytes: &[u8]) -> Result<Self> {
        let key =
            p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| Error::InvalidKey)?;
        Ok(Self { key, alg: None })
    }

    /// The key from its affine coordinates, 32 bytes each (a COSE_Key's `x` and `y`): the
    /// point must be on the curve. It takes the same keys as [`P256VerifyingKey::from_sec1`]
    /// with `04 || x || y`, without SEC1 parsing: a firmware that keeps its trust anchor as
    /// coordinates links no point decompression.
    pub fn from_coordinates(x: &[u8], y: &[u8]) -> Result<Self> {
        let key = p256::ecdsa::VerifyingKey::from_affine(affine_point::<p256::AffinePoint>(x, y)?)
            .map_err(|_| Error::InvalidKey)?;
        Ok(Self { key, alg: None })
    }

    /// Restricts the key to one algorithm (a COSE_Key's `alg`), or lifts the restriction.
    pub fn with_algorithm(mut self, alg: Option<Algorithm>) -> Self {
        self.alg = alg;
        self
    }

    /// The uncompressed SEC1 encoding, `04 || x || y`.
    pub fn to_sec1_uncompressed(&self) -> [u8; 65] {
        let point = self.key.to_sec1_point(false);
        let mut out = [0u8; 65];
        if let Some(bytes) = point.as_bytes().get(..65) {
            out.copy_from_slice(bytes);
        }
        out
    }
}

impl Verifier for P256VerifyingKey {
    fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }
    fn verify_digest(&mut self, digest: &[u8; SHA256_LEN], signature: &[u8]) -> Result<()> {
        let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|_| Error::BadSignature)?;
        self.key
            .verify_prehash(digest, &sig)
            .map_err(|_| Error::BadSignature)
    }
}

/// An ES384 / ES512 key pair type and its public key: the key hashes the streamed message with
/// the curve's hash (SHA-384 / SHA-512, RFC 9053 section 2.1) and signs deterministically (RFC 6979).
macro_rules! wide_ecdsa {
    ($sk:ident, $vk:ident, $curve:ident, $hash:ty, $alg:ident, $field:literal, $doc:literal) => {
        #[doc = concat!("A ", $doc, " private key held in memory (", stringify!($alg), "); zeroized on drop. Signs deterministically (RFC 6979).")]
        #[derive(Clone)]
        pub struct $sk {
            key: $curve::ecdsa::SigningKey,
        }

        impl core::fmt::Debug for $sk {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($sk)).finish_non_exhaustive()
            }
        }

        impl $sk {
            #[doc = concat!("The key with the ", stringify!($field), "-byte big-endian scalar `d`.")]
            pub fn from_bytes(d: &[u8]) -> Result<Self> {
                let key =
                    $curve::ecdsa::SigningKey::from_slice(d).map_err(|_| Error::InvalidKey)?;
                Ok(Self { key })
            }

            /// The public key.
            pub fn verifying_key(&self) -> $vk {
                $vk {
                    key: $curve::ecdsa::VerifyingKey::from(&self.key),
                }
            }
        }

        impl Signer for $sk {
            fn algorithm(&self) -> Option<Algorithm> {
                Some(Algorithm::$alg)
            }
            fn sign_digest(&mut self, _: &[u8; SHA256_LEN]) -> Result<[u8; P256_SIGNATURE_LEN]> {
                Err(Error::AlgorithmMismatch)
            }
            fn sign_message(
                &mut self,
                alg: Algorithm,
                message: &mut Message<'_>,
                out: &mut [u8; MAX_ECDSA_SIGNATURE_LEN],
            ) -> Result<usize> {
                if alg != Algorithm::$alg {
                    return Err(Error::AlgorithmMismatch);
                }
                let mut h = <$hash>::new();
                message(&mut |b: &[u8]| h.update(b));
                let sig: $curve::ecdsa::Signature = self
                    .key
                    .sign_prehash(&h.finalize())
                    .map_err(|_| Error::Backend)?;
                let bytes = sig.to_bytes();
                let dst = out.get_mut(..bytes.len()).ok_or(Error::BufferTooSmall)?;
                dst.copy_from_slice(&bytes);
                Ok(bytes.len())
            }
        }

        #[doc = concat!("A ", $doc, " public key (", stringify!($alg), ").")]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $vk {
            key: $curve::ecdsa::VerifyingKey,
        }

        impl $vk {
            /// The key from its SEC1 encoding (uncompressed `04 || x || y` or compressed).
            pub fn from_sec1(bytes: &[u8]) -> Result<Self> {
                let key = $curve::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map_err(|_| Error::InvalidKey)?;
                Ok(Self { key })
            }

            #[doc = concat!("The key from its affine coordinates, ", stringify!($field), " bytes each (a COSE_Key's `x` and `y`): the point must be on the curve.")]
            pub fn from_coordinates(x: &[u8], y: &[u8]) -> Result<Self> {
                let point = affine_point::<$curve::AffinePoint>(x, y)?;
                let key = $curve::ecdsa::VerifyingKey::from_affine(point)
                    .map_err(|_| Error::InvalidKey)?;
                Ok(Self { key })
            }

            /// The uncompressed SEC1 encoding, `04 || x || y`.
            pub fn to_sec1_uncompressed(&self) -> [u8; 1 + 2 * $field] {
                let point = self.key.to_sec1_point(false);
                let mut out = [0u8; 1 + 2 * $field];
                if let Some(bytes) = point.as_bytes().get(..out.len()) {
                    out.copy_from_slice(bytes);
                }
                out
            }
        }

        impl Verifier for $vk {
            fn algorithm(&self) -> Option<Algorithm> {
                Some(Algorithm::$alg)
            }
            fn verify_digest(&mut self, _: &[u8; SHA256_LEN], _: &[u8]) -> Result<()> {
                Err(Error::AlgorithmMismatch)
            }
            fn verify_message(
                &mut self,
                alg: Algorithm,
                message: &mut Message<'_>,
                signature: &[u8],
            ) -> Result<()> {
                if alg != Algorithm::$alg {
                    return Err(Error::AlgorithmMismatch);
                }
                let sig = $curve::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| Error::BadSignature)?;
                let mut h = <$hash>::new();
                message(&mut |b: &[u8]| h.update(b));
                self.key
                    .verify_prehash(&h.finalize(), &sig)
                    .map_err(|_| Error::BadSignature)
            }
        }
    };
}

wide_ecdsa!(
    P384SigningKey,
    P384VerifyingKey,
    p384,
    sha2::Sha384,
    Es384,
    48,
    "P-384"
);
wide_ecdsa!(
    P521SigningKey,
    P521VerifyingKey,
    p521,
    sha2::Sha512,
    Es512,
    66,
    "P-521"
);
