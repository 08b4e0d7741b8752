//! P-256 ECDH (SEC 1 v2 section 3.3.1, NIST SP 800-56A section 5.7.1.2): the key agreement of
//! COSE's ECDH-ES (RFC 9053 section 6.3.1), behind a trait so that an accelerator can do it;
//! [`super::RustCrypto`] implements it in software.

use crate::error::Result;
use zeroize::Zeroize;

/// Length of a P-256 shared secret: the x-coordinate of the shared point.
pub const P256_SHARED_SECRET_LEN: usize = 32;

/// The x-coordinate of a P-256 ECDH shared point (the IKM of COSE's HKDF, RFC 9053 section
/// 6.3.1); zeroized on drop.
pub struct P256SharedSecret([u8; P256_SHARED_SECRET_LEN]);

impl P256SharedSecret {
    /// The x-coordinate a backend computed.
    pub fn new(x: [u8; P256_SHARED_SECRET_LEN]) -> Self {
        Self(x)
    }

    /// The 32-byte big-endian x-coordinate.
    pub fn as_bytes(&self) -> &[u8; P256_SHARED_SECRET_LEN] {
        &self.0
    }
}

impl Drop for P256SharedSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl core::fmt::Debug for P256SharedSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("P256SharedSecret(..)")
    }
}

/// P-256 ECDH with a private key the caller holds in memory (a key kept inside a secure element
/// is used through that element's own interface instead, such as iot-update-manifest's
/// `KeyUnwrap`).
pub trait EcdhP256 {
    /// The shared secret of the 32-byte big-endian private scalar `private` and the SEC1-encoded
    /// point `public` (uncompressed `04 || x || y` or compressed). A scalar that is zero or not
    /// below the group order, or a point that is not on the curve, is
    /// [`crate::Error::InvalidKey`].
    fn p256_ecdh(&mut self, private: &[u8], public: &[u8]) -> Result<P256SharedSecret>;

    /// Checks `public` as [`EcdhP256::p256_ecdh`] checks its point: SEC1-encoded, on the curve,
    /// not the identity; [`crate::Error::InvalidKey`] otherwise. For a key kept elsewhere: the
    /// point is checked here before the element that holds the key multiplies it.
    fn p256_check_point(&mut self, public: &[u8]) -> Result<()>;
}

#[cfg(feature = "rustcrypto")]
mod soft {
    use super::{EcdhP256, P256SharedSecret};
    use crate::crypto::RustCrypto;
    use crate::error::{Error, Result};

    /// A P-256 private scalar's length.
    const SCALAR_LEN: usize = 32;

    impl<R> EcdhP256 for RustCrypto<R> {
        fn p256_ecdh(&mut self, private: &[u8], public: &[u8]) -> Result<P256SharedSecret> {
            if private.len() != SCALAR_LEN {
                return Err(Error::InvalidKey);
            }
            let public = point(public)?;
            // `SecretKey` zeroizes its scalar on drop.
            let secret = p256::SecretKey::from_slice(private).map_err(|_| Error::InvalidKey)?;
            let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
            Ok(P256SharedSecret::new((*shared.raw_secret_bytes()).into()))
        }

        fn p256_check_point(&mut self, public: &[u8]) -> Result<()> {
            point(public).map(drop)
        }
    }

    /// A SEC1-encoded P-256 point: on the curve and not the identity (`PublicKey` refuses both).
    fn point(public: &[u8]) -> Result<p256::PublicKey> {
        p256::PublicKey::from_sec1_bytes(public).map_err(|_| Error::InvalidKey)
    }
}
