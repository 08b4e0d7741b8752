//! Keys that never leave their store: the [`KeyStore`] trait, which a secure element, a TPM or
//! a PSA driver can implement, and [`SoftwareKeyStore`], whose keys live in RAM (zeroized when
//! destroyed or dropped) and at rest only as COSE_Encrypt0 (RFC 9052 section 5.2) under a
//! sealing key.

use core::fmt;
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256_SIGNATURE_LEN, SHA256_LEN, Signer};

/// Length of an uncompressed SEC1 P-256 public key, `04 || x || y`.
pub const P256_PUBLIC_KEY_LEN: usize = 65;

/// Names one key in a store (a slot index, a secure element's key id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeySlot(pub u8);

/// A P-256 public key as its uncompressed SEC1 encoding, `04 || x || y`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct P256PublicKey([u8; P256_PUBLIC_KEY_LEN]);

impl P256PublicKey {
    /// The key from its uncompressed SEC1 encoding; checks the form, not that the point is on
    /// the curve (the backend does that when it uses the key).
    pub fn from_sec1(sec1: &[u8]) -> Result<Self, KeyStoreError> {
        let bytes: [u8; P256_PUBLIC_KEY_LEN] = sec1
            .try_into()
            .map_err(|_| KeyStoreError::Core(iot_core::Error::InvalidKey))?;
        if bytes.first() != Some(&0x04) {
            return Err(KeyStoreError::Core(iot_core::Error::InvalidKey));
        }
        Ok(Self(bytes))
    }

    /// `04 || x || y`.
    pub fn as_sec1(&self) -> &[u8; P256_PUBLIC_KEY_LEN] {
        &self.0
    }

    /// The x coordinate.
    pub fn x(&self) -> &[u8] {
        self.0.get(1..33).unwrap_or_default()
    }

    /// The y coordinate.
    pub fn y(&self) -> &[u8] {
        self.0.get(33..).unwrap_or_default()
    }
}

impl fmt::Debug for P256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P256PublicKey(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Why a key store refused an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// The store has no such slot.
    NoSuchSlot(KeySlot),
    /// The slot holds no key.
    EmptySlot(KeySlot),
    /// The slot already holds a key; destroy it first.
    SlotInUse(KeySlot),
    /// A sealing key that is neither 16 nor 32 bytes.
    SealingKeyLength(usize),
    /// A sealed key did not authenticate: it was altered, sealed under another sealing key, or
    /// sealed for another slot.
    Tampered,
    /// A sealed key authenticated but does not hold a P-256 private key for its slot.
    MalformedSealedKey,
    /// The crypto backend, the random number generator or the COSE layer failed.
    Core(iot_core::Error),
}

impl fmt::Display for KeyStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchSlot(s) => write!(f, "no key slot {}", s.0),
            Self::EmptySlot(s) => write!(f, "key slot {} is empty", s.0),
            Self::SlotInUse(s) => write!(f, "key slot {} already holds a key", s.0),
            Self::SealingKeyLength(n) => write!(f, "sealing key of {n} bytes (16 or 32)"),
            Self::Tampered => f.write_str("sealed key does not authenticate"),
            Self::MalformedSealedKey => f.write_str("sealed key holds no valid P-256 key"),
            Self::Core(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for KeyStoreError {}

impl From<iot_core::Error> for KeyStoreError {
    fn from(e: iot_core::Error) -> Self {
        Self::Core(e)
    }
}

/// P-256 signing keys held by a store that never hands out a private key.
///
/// Signing takes a SHA-256 digest (DESIGN.md "Crypto"), so the store never sees whole messages.
pub trait KeyStore {
    /// Generates a fresh key in the empty `slot` and returns its public key.
    fn generate(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError>;
    /// The public key of the key in `slot`.
    fn public_key(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError>;
    /// ECDSA-signs a SHA-256 `digest` with the key in `slot`; returns `r || s`.
    fn sign_digest(
        &mut self,
        slot: KeySlot,
        digest: &[u8; SHA256_LEN],
    ) -> Result<[u8; P256_SIGNATURE_LEN], KeyStoreError>;
    /// Destroys the key in `slot` (zeroizes it); the slot is empty afterwards.
    fn destroy(&mut self, slot: KeySlot) -> Result<(), KeyStoreError>;
}

/// A store lent out: the permanent identity's [`crate::enrolment::Device`] and the operator's
/// [`crate::enrolment::OperatorIdentity`] each borrow the one store in turn, on their own slots.
impl<T: KeyStore + ?Sized> KeyStore for &mut T {
    fn generate(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError> {
        (**self).generate(slot)
    }
    fn public_key(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError> {
        (**self).public_key(slot)
    }
    fn sign_digest(
        &mut self,
        slot: KeySlot,
        digest: &[u8; SHA256_LEN],
    ) -> Result<[u8; P256_SIGNATURE_LEN], KeyStoreError> {
        (**self).sign_digest(slot, digest)
    }
    fn destroy(&mut self, slot: KeySlot) -> Result<(), KeyStoreError> {
        (**self).destroy(slot)
    }
}

/// One key of a [`KeyStore`] as an iot-core [`Signer`], for COSE and for certificate requests.
#[derive(Debug)]
pub struct StoreSigner<'s, K: ?Sized> {
    store: &'s mut K,
    slot: KeySlot,
}

impl<'s, K: KeyStore + ?Sized> StoreSigner<'s, K> {
    /// The key in `slot` of `store`.
    pub fn new(store: &'s mut K, slot: KeySlot) -> Self {
        Self { store, slot }
    }

    /// Its public key.
    pub fn public_key(&mut self) -> Result<P256PublicKey, KeyStoreError> {
        self.store.public_key(self.slot)
    }
}

impl<K: KeyStore + ?Sized> Signer for StoreSigner<'_, K> {
    fn algorithm(&self) -> Option<Algorithm> {
        None
    }

    fn sign_digest(
        &mut self,
        digest: &[u8; SHA256_LEN],
    ) -> iot_core::Result<[u8; P256_SIGNATURE_LEN]> {
        self.store
            .sign_digest(self.slot, digest)
            .map_err(|e| match e {
                KeyStoreError::Core(e) => e,
                KeyStoreError::NoSuchSlot(_) | KeyStoreError::EmptySlot(_) => {
                    iot_core::Error::InvalidKey
                }
                _ => iot_core::Error::Backend,
            })
    }
}

#[cfg(feature = "rustcrypto")]
pub use software::{SEALED_KEY_MAX_LEN, SoftwareKeyStore};

#[cfg(feature = "rustcrypto")]
mod software {
    use super::{KeySlot, KeyStore, KeyStoreError, P256PublicKey};
    use iot_core::cose::{Algorithm, CoseEncrypt0, CoseKey, Ec2Y, Encrypt0Builder, SymmetricKey};
    use iot_core::crypto::{Aead, P256_SIGNATURE_LEN, P256SigningKey, Rng, SHA256_LEN, Signer};
    use zeroize::Zeroizing;

    /// The longest sealed key [`SoftwareKeyStore::seal`] writes, in bytes.
    pub const SEALED_KEY_MAX_LEN: usize = 160;
    /// The longest COSE_Key plaintext of a sealed key.
    const PLAINTEXT_MAX_LEN: usize = 128;
    /// External AAD prefix of a sealed key's Enc_structure; the slot number follows it, so a
    /// sealed key only opens for the slot it was sealed for.
    const SEAL_CONTEXT: &[u8] = b"iot-identity sealed key v1";

    /// A software key store of `N` slots over the crypto backend `C` (its RNG generates keys and
    /// IVs, its AEAD seals).
    ///
    /// Keys are `p256` keys in RAM, zeroized when destroyed or when the store is dropped. At rest
    /// a key is a COSE_Encrypt0 whose plaintext is its COSE_Key (EC2, P-256, `kid` = the slot,
    /// `alg` ES256, with `d`), encrypted under the sealing key with A128GCM (16-byte key) or
    /// ChaCha20/Poly1305 (32-byte key) and a random IV, and bound to its slot through the
    /// external AAD. The sealing key comes from the caller; on a DICE device it is derived from
    /// CDI_Seal, so that only the same firmware on the same device unseals.
    pub struct SoftwareKeyStore<C, const N: usize> {
        crypto: C,
        sealing_key: Zeroizing<[u8; 32]>,
        sealing_alg: Algorithm,
        sealing_len: usize,
        slots: [Option<P256SigningKey>; N],
    }

    impl<C, const N: usize> core::fmt::Debug for SoftwareKeyStore<C, N> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            let mut used = [false; N];
            for (u, s) in used.iter_mut().zip(&self.slots) {
                *u = s.is_some();
            }
            f.debug_struct("SoftwareKeyStore")
                .field("sealing_alg", &self.sealing_alg)
                .field("slots_in_use", &used)
                .finish_non_exhaustive()
        }
    }

    impl<C: Rng + Aead, const N: usize> SoftwareKeyStore<C, N> {
        /// An empty store sealing under `sealing_key` (16 bytes: A128GCM; 32 bytes:
        /// ChaCha20/Poly1305). The store keeps a copy of the key and zeroizes it on drop.
        pub fn new(crypto: C, sealing_key: &[u8]) -> Result<Self, KeyStoreError> {
            let sealing_alg = match sealing_key.len() {
                16 => Algorithm::A128Gcm,
                32 => Algorithm::ChaCha20Poly1305,
                n => return Err(KeyStoreError::SealingKeyLength(n)),
            };
            let mut key = Zeroizing::new([0u8; 32]);
            key.get_mut(..sealing_key.len())
                .ok_or(KeyStoreError::SealingKeyLength(sealing_key.len()))?
                .copy_from_slice(sealing_key);
            Ok(Self {
                crypto,
                sealing_key: key,
                sealing_alg,
                sealing_len: sealing_key.len(),
                slots: core::array::from_fn(|_| None),
            })
        }

        fn slot_mut(
            &mut self,
            slot: KeySlot,
        ) -> Result<&mut Option<P256SigningKey>, KeyStoreError> {
            self.slots
                .get_mut(usize::from(slot.0))
                .ok_or(KeyStoreError::NoSuchSlot(slot))
        }

        fn key(&mut self, slot: KeySlot) -> Result<&mut P256SigningKey, KeyStoreError> {
            self.slot_mut(slot)?
                .as_mut()
                .ok_or(KeyStoreError::EmptySlot(slot))
        }

        /// Seals the key in `slot` for storage at rest into `out` (at least
        /// [`SEALED_KEY_MAX_LEN`] bytes suffice); returns the length written.
        pub fn seal(&mut self, slot: KeySlot, out: &mut [u8]) -> Result<usize, KeyStoreError> {
            let key = self.key(slot)?;
            let d = key.to_bytes();
            let public = key.verifying_key().to_sec1_uncompressed();
            let kid = [slot.0];
            let cose_key = CoseKey::Ec2 {
                kid: Some(&kid),
                alg: Some(Algorithm::Es256),
                x: public.get(1..33).unwrap_or_default(),
                y: Ec2Y::Coordinate(public.get(33..).unwrap_or_default()),
                d: Some(d.as_ref()),
            };
            let mut plaintext = Zeroizing::new([0u8; PLAINTEXT_MAX_LEN]);
            let n = cose_key.encode_to(plaintext.as_mut())?;
            let aad = seal_aad(slot);
            let key =
                SymmetricKey::new(self.sealing_key.get(..self.sealing_len).unwrap_or_default());
            Ok(Encrypt0Builder::new(self.sealing_alg).encrypt(
                &mut self.crypto,
                &key,
                plaintext.get(..n).unwrap_or_default(),
                &aad,
                out,
            )?)
        }

        /// Opens a sealed key and puts it into the empty `slot`; returns its public key.
        ///
        /// Fails with [`KeyStoreError::Tampered`] when the blob does not authenticate under the
        /// sealing key for this slot, and [`KeyStoreError::MalformedSealedKey`] when it holds
        /// no consistent P-256 key for `slot`.
        pub fn unseal(
            &mut self,
            slot: KeySlot,
            sealed: &[u8],
        ) -> Result<P256PublicKey, KeyStoreError> {
            if self.slot_mut(slot)?.is_some() {
                return Err(KeyStoreError::SlotInUse(slot));
            }
            let msg = CoseEncrypt0::decode(sealed).map_err(|_| KeyStoreError::Tampered)?;
            if msg.alg().map_err(|_| KeyStoreError::Tampered)? != self.sealing_alg {
                return Err(KeyStoreError::Tampered);
            }
            let mut plaintext = Zeroizing::new([0u8; PLAINTEXT_MAX_LEN]);
            let aad = seal_aad(slot);
            let key =
                SymmetricKey::new(self.sealing_key.get(..self.sealing_len).unwrap_or_default());
            let n = msg
                .decrypt(&mut self.crypto, &key, &aad, plaintext.as_mut())
                .map_err(|e| match e {
                    iot_core::Error::BufferTooSmall => KeyStoreError::MalformedSealedKey,
                    _ => KeyStoreError::Tampered,
                })?;
            let signing = key_from_plaintext(plaintext.get(..n).unwrap_or_default(), slot)?;
            let public = P256PublicKey(signing.verifying_key().to_sec1_uncompressed());
            *self.slot_mut(slot)? = Some(signing);
            Ok(public)
        }

        /// Whether `slot` holds a key.
        pub fn is_occupied(&self, slot: KeySlot) -> bool {
            self.slots
                .get(usize::from(slot.0))
                .is_some_and(Option::is_some)
        }

        /// The sealing algorithm (A128GCM or ChaCha20/Poly1305), for diagnostics.
        pub fn sealing_algorithm(&self) -> Algorithm {
            self.sealing_alg
        }
    }

    fn seal_aad(slot: KeySlot) -> [u8; SEAL_CONTEXT.len() + 1] {
        let mut aad = [0u8; SEAL_CONTEXT.len() + 1];
        let (ctx, s) = aad.split_at_mut(SEAL_CONTEXT.len());
        ctx.copy_from_slice(SEAL_CONTEXT);
        s.fill(slot.0);
        aad
    }

    /// The signing key in a decrypted COSE_Key, checked against its slot and its public part.
    fn key_from_plaintext(pt: &[u8], slot: KeySlot) -> Result<P256SigningKey, KeyStoreError> {
        let cose_key = CoseKey::decode(pt).map_err(|_| KeyStoreError::MalformedSealedKey)?;
        let CoseKey::Ec2 {
            kid,
            x,
            y: Ec2Y::Coordinate(y),
            d: Some(_),
            ..
        } = cose_key
        else {
            return Err(KeyStoreError::MalformedSealedKey);
        };
        if kid != Some(&[slot.0][..]) {
            return Err(KeyStoreError::MalformedSealedKey);
        }
        let signing = cose_key
            .signing_key()
            .map_err(|_| KeyStoreError::MalformedSealedKey)?
            .with_algorithm(None);
        let public = signing.verifying_key().to_sec1_uncompressed();
        if public.get(1..33) != Some(x) || public.get(33..) != Some(y) {
            return Err(KeyStoreError::MalformedSealedKey);
        }
        Ok(signing)
    }

    impl<C: Rng + Aead, const N: usize> KeyStore for SoftwareKeyStore<C, N> {
        fn generate(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError> {
            if self.slot_mut(slot)?.is_some() {
                return Err(KeyStoreError::SlotInUse(slot));
            }
            let key = P256SigningKey::generate(&mut self.crypto)?;
            let public = P256PublicKey(key.verifying_key().to_sec1_uncompressed());
            *self.slot_mut(slot)? = Some(key);
            Ok(public)
        }

        fn public_key(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError> {
            Ok(P256PublicKey(
                self.key(slot)?.verifying_key().to_sec1_uncompressed(),
            ))
        }

        fn sign_digest(
            &mut self,
            slot: KeySlot,
            digest: &[u8; SHA256_LEN],
        ) -> Result<[u8; P256_SIGNATURE_LEN], KeyStoreError> {
            Ok(self.key(slot)?.sign_digest(digest)?)
        }

        fn destroy(&mut self, slot: KeySlot) -> Result<(), KeyStoreError> {
            // Dropping the key zeroizes its scalar (p256's SigningKey is ZeroizeOnDrop).
            self.slot_mut(slot)?
                .take()
                .ok_or(KeyStoreError::EmptySlot(slot))
                .map(drop)
        }
    }
}
