//! DICE: the Open Profile for DICE (google/open-dice `docs/specification.md`, v2.6) with P-256.
//!
//! - CDIs ([`derive_cdis`]): `CDI_Attest` and `CDI_Seal` from the UDS or the previous CDIs and
//!   a layer's [`InputValues`], with SHA-512 and HKDF-SHA-512 as the profile recommends.
//! - Key pairs ([`derive_key_pair`]): `KDF(32, CDI_Attest, ASYM_SALT, "Key Pair")` seeds an
//!   HMAC-SHA-512 DRBG (RFC 6979 section 3.2) that yields the P-256 private key, as open-dice's
//!   P-256 profile does. IDs ([`DicePublicKey::id`]): `KDF(20, public key, ID_SALT, "ID")`.
//! - Certificates ([`write_certificate`], [`DiceCertificate`], [`verify_chain`]): an untagged
//!   COSE_Sign1 (ES256) over a CWT with issuer, subject, code hash, configuration, authority
//!   hash, mode, the subject key as a COSE_Key, key usage and the profile name.
//! - Layers ([`DiceLayer`]): `DiceLayer<Root>` on the UDS, `DiceLayer<Derived>` after it; each
//!   is consumed by [`DiceLayer::derive_next`].
//!
//! Secrets (UDS, CDIs, seeds, DRBG state, private keys) zeroize on drop. Nothing allocates.

mod cert;
pub mod crypto;
mod derive;
mod layer;

pub use cert::{
    DiceCertificate, DiceClaims, KEY_USAGE_CERT_SIGN, OPEN_DICE_EXAMPLE_PROFILE, certificate_len,
    certificate_len_inline, label, verify_chain, write_certificate, write_cwt,
};
pub use crypto::DiceCrypto;
pub use derive::{
    ASYM_SALT, CDI_LEN, COSE_KEY_LEN, Cdi, Cdis, Config, DiceId, DiceKeyPair, DicePublicKey,
    HASH_LEN, HexId, ID_LEN, ID_SALT, InputValues, MAX_KEY_TRIES, Mode, PRIVATE_KEY_SEED_LEN,
    PUBLIC_KEY_LEN, Uds, derive_cdis, derive_key_pair, p256_key_pair_from_seed, private_key_seed,
};
pub use layer::{Derived, DiceLayer, Root};
