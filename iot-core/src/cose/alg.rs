//! COSE algorithm identifiers this family implements (IANA "COSE Algorithms" registry,
//! RFC 9053 and RFC 9864 for ESP256).

/// A COSE algorithm of the family's profile (DESIGN.md "Crypto").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA w/ SHA-256, curve unspecified by the id (RFC 9053 section 2.1): P-256 here.
    Es256,
    /// ECDSA using P-256 and SHA-256, fully specified (RFC 9864).
    Esp256,
    /// ECDSA w/ SHA-384 (RFC 9053 section 2.1): P-384 here.
    Es384,
    /// ECDSA w/ SHA-512 (RFC 9053 section 2.1): P-521 here.
    Es512,
    /// HMAC w/ SHA-256, 256-bit tag (RFC 9053 section 3.1).
    Hmac256,
    /// AES-CCM, 16-bit length (13-byte nonce), 64-bit tag, 128-bit key (RFC 9053 section 4.2).
    AesCcm16_64_128,
    /// ChaCha20/Poly1305, 256-bit key, 128-bit tag (RFC 9053 section 4.3).
    ChaCha20Poly1305,
    /// AES-GCM, 128-bit key, 128-bit tag (RFC 9053 section 4.1).
    A128Gcm,
    /// AES-CTR, 128-bit key, unauthenticated (RFC 9459).
    A128Ctr,
    /// AES Key Wrap, 128-bit key (RFC 9053 section 6.2.1).
    A128Kw,
    /// ECDH ephemeral-static + HKDF-SHA-256 + A128KW (RFC 9053 section 6.4).
    EcdhEsA128Kw,
    /// Direct use of the shared key (RFC 9052 section 8.5.1).
    Direct,
    /// Shared secret + HKDF-SHA-256 (RFC 9053 section 6.1.2).
    DirectHkdfSha256,
}

impl Algorithm {
    /// The registry's integer id.
    pub const fn id(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::Esp256 => -9,
            Self::Es384 => -35,
            Self::Es512 => -36,
            Self::Hmac256 => 5,
            Self::AesCcm16_64_128 => 10,
            Self::ChaCha20Poly1305 => 24,
            Self::A128Gcm => 1,
            Self::A128Ctr => -65534,
            Self::A128Kw => -3,
            Self::EcdhEsA128Kw => -29,
            Self::Direct => -6,
            Self::DirectHkdfSha256 => -10,
        }
    }

    /// The algorithm with registry id `id`, if this family implements it.
    pub const fn from_id(id: i64) -> Option<Self> {
        // Every id fits an i32, and a match on one compiles to single-word comparisons.
        if id < i32::MIN as i64 || id > i32::MAX as i64 {
            return None;
        }
        Some(match id as i32 {
            -7 => Self::Es256,
            -9 => Self::Esp256,
            -35 => Self::Es384,
            -36 => Self::Es512,
            5 => Self::Hmac256,
            10 => Self::AesCcm16_64_128,
            24 => Self::ChaCha20Poly1305,
            1 => Self::A128Gcm,
            -65534 => Self::A128Ctr,
            -3 => Self::A128Kw,
            -29 => Self::EcdhEsA128Kw,
            -6 => Self::Direct,
            -10 => Self::DirectHkdfSha256,
            _ => return None,
        })
    }

    /// The registry name, as the IANA table and the tool's `--alg` spell it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Esp256 => "ESP256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::Hmac256 => "HMAC 256/256",
            Self::AesCcm16_64_128 => "AES-CCM-16-64-128",
            Self::ChaCha20Poly1305 => "ChaCha20/Poly1305",
            Self::A128Gcm => "A128GCM",
            Self::A128Ctr => "A128CTR",
            Self::A128Kw => "A128KW",
            Self::EcdhEsA128Kw => "ECDH-ES + A128KW",
            Self::Direct => "direct",
            Self::DirectHkdfSha256 => "direct+HKDF-SHA-256",
        }
    }

    /// The algorithm whose registry name is `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        const ALL: [Algorithm; 13] = [
            Algorithm::Es256,
            Algorithm::Esp256,
            Algorithm::Es384,
            Algorithm::Es512,
            Algorithm::Hmac256,
            Algorithm::AesCcm16_64_128,
            Algorithm::ChaCha20Poly1305,
            Algorithm::A128Gcm,
            Algorithm::A128Ctr,
            Algorithm::A128Kw,
            Algorithm::EcdhEsA128Kw,
            Algorithm::Direct,
            Algorithm::DirectHkdfSha256,
        ];
        ALL.into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// ECDSA over P-256 with SHA-256 (ES256 or ESP256).
    pub const fn is_ecdsa_p256(self) -> bool {
        matches!(self, Self::Es256 | Self::Esp256)
    }

    /// The length of an ECDSA signature of this algorithm as COSE carries it (`r || s`, RFC 9053
    /// section 2.1): 64 bytes for ES256 / ESP256, 96 for ES384, 132 for ES512; `None` for others.
    pub const fn ecdsa_signature_len(self) -> Option<usize> {
        match self {
            Self::Es256 | Self::Esp256 => Some(64),
            Self::Es384 => Some(96),
            Self::Es512 => Some(132),
            _ => None,
        }
    }

    /// The AEAD this id names, if it is one.
    pub const fn aead(self) -> Option<AeadAlgorithm> {
        match self {
            Self::AesCcm16_64_128 => Some(AeadAlgorithm::AesCcm16_64_128),
            Self::ChaCha20Poly1305 => Some(AeadAlgorithm::ChaCha20Poly1305),
            Self::A128Gcm => Some(AeadAlgorithm::A128Gcm),
            _ => None,
        }
    }
}

/// The AEADs a [`crate::crypto::Aead`] backend provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AeadAlgorithm {
    /// AES-CCM-16-64-128 (COSE 10): 16-byte key, 13-byte nonce, 8-byte tag.
    AesCcm16_64_128,
    /// ChaCha20/Poly1305 (COSE 24): 32-byte key, 12-byte nonce, 16-byte tag.
    ChaCha20Poly1305,
    /// A128GCM (COSE 1): 16-byte key, 12-byte nonce, 16-byte tag.
    A128Gcm,
}

impl AeadAlgorithm {
    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            Self::AesCcm16_64_128 | Self::A128Gcm => 16,
            Self::ChaCha20Poly1305 => 32,
        }
    }

    /// Nonce length in bytes.
    pub const fn nonce_len(self) -> usize {
        match self {
            Self::AesCcm16_64_128 => 13,
            Self::ChaCha20Poly1305 | Self::A128Gcm => 12,
        }
    }

    /// Tag length in bytes.
    pub const fn tag_len(self) -> usize {
        match self {
            Self::AesCcm16_64_128 => 8,
            Self::ChaCha20Poly1305 | Self::A128Gcm => 16,
        }
    }

    /// The COSE algorithm.
    pub const fn algorithm(self) -> Algorithm {
        match self {
            Self::AesCcm16_64_128 => Algorithm::AesCcm16_64_128,
            Self::ChaCha20Poly1305 => Algorithm::ChaCha20Poly1305,
            Self::A128Gcm => Algorithm::A128Gcm,
        }
    }
}

/// The largest AEAD tag of [`AeadAlgorithm`].
pub const MAX_TAG_LEN: usize = 16;
/// The largest AEAD nonce of [`AeadAlgorithm`].
pub const MAX_NONCE_LEN: usize = 13;
