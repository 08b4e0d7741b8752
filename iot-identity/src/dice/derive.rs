//! CDI, key-pair and identifier derivation (Open Profile for DICE, "Computing CDI Values",
//! "Deriving Asymmetric Key Pairs", "Deriving Identifiers").

use super::crypto::{HkdfSha512, HmacSha512, P256Keys, SHA512_LEN, Sha512};
use crate::error::{Error, Result};
use iot_core::cbor::{SliceWriter, enc_err};
use iot_core::cose::Algorithm;
use minicbor::encode::Encoder;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Length of a CDI and of the UDS.
pub const CDI_LEN: usize = 32;
/// Length of the code, configuration, authority and hidden inputs (a SHA-512 digest).
pub const HASH_LEN: usize = SHA512_LEN;
/// Length of an identifier (UDS_ID, CDI_ID) before hex encoding.
pub const ID_LEN: usize = 20;
/// Length of a P-256 public key as `x || y`.
pub const PUBLIC_KEY_LEN: usize = 64;
/// Length of the seed ASYM_KDF derives a key pair from.
pub const PRIVATE_KEY_SEED_LEN: usize = 32;
/// DRBG outputs tried for a P-256 private key before giving up with [`Error::KeyDerivation`];
/// each try fails with probability about 2^-32.
pub const MAX_KEY_TRIES: usize = 8;

/// `ASYM_SALT` ("Salt").
pub const ASYM_SALT: [u8; 64] = [
    0x63, 0xB6, 0xA0, 0x4D, 0x2C, 0x07, 0x7F, 0xC1, 0x0F, 0x63, 0x9F, 0x21, 0xDA, 0x79, 0x38, 0x44,
    0x35, 0x6C, 0xC2, 0xB0, 0xB4, 0x41, 0xB3, 0xA7, 0x71, 0x24, 0x03, 0x5C, 0x03, 0xF8, 0xE1, 0xBE,
    0x60, 0x35, 0xD3, 0x1F, 0x28, 0x28, 0x21, 0xA7, 0x45, 0x0A, 0x02, 0x22, 0x2A, 0xB1, 0xB3, 0xCF,
    0xF1, 0x67, 0x9B, 0x05, 0xAB, 0x1C, 0xA5, 0xD1, 0xAF, 0xFB, 0x78, 0x9C, 0xCD, 0x2B, 0x0B, 0x3B,
];

/// `ID_SALT` ("Salt").
pub const ID_SALT: [u8; 64] = [
    0xDB, 0xDB, 0xAE, 0xBC, 0x80, 0x20, 0xDA, 0x9F, 0xF0, 0xDD, 0x5A, 0x24, 0xC8, 0x3A, 0xA5, 0xA5,
    0x42, 0x86, 0xDF, 0xC2, 0x63, 0x03, 0x1E, 0x32, 0x9B, 0x4D, 0xA1, 0x48, 0x43, 0x06, 0x59, 0xFE,
    0x62, 0xCD, 0xB5, 0xB7, 0xE1, 0xE0, 0x0F, 0xC6, 0x80, 0x30, 0x67, 0x11, 0xEB, 0x44, 0x4A, 0xF7,
    0x72, 0x09, 0x35, 0x94, 0x96, 0xFC, 0xFF, 0x1D, 0xB9, 0x52, 0x0B, 0xA5, 0x1C, 0x7B, 0x29, 0xEA,
];

const ZEROS: [u8; HASH_LEN] = [0; HASH_LEN];

/// A 32-byte secret: the UDS or a CDI. Zeroized on drop; `Debug` does not show it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Cdi([u8; CDI_LEN]);

/// The Unique Device Secret ("UDS Details"): all zeros when not provisioned.
pub type Uds = Cdi;

impl Cdi {
    /// The secret `bytes` (the caller's copy should be zeroized).
    pub fn from_bytes(bytes: [u8; CDI_LEN]) -> Self {
        Self(bytes)
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8; CDI_LEN] {
        &self.0
    }
}

impl core::fmt::Debug for Cdi {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Cdi(..)")
    }
}

/// The two CDIs of a layer ("CDI Values"): for attestation and for sealing.
#[derive(Clone, Debug)]
pub struct Cdis {
    /// CDI_Attest: changes with every input.
    pub attest: Cdi,
    /// CDI_Seal: from the stable inputs (authority, mode, hidden) only.
    pub seal: Cdi,
}

impl Cdis {
    /// The first layer's inputs: the UDS serves as both CDIs ("Architecture Diagram").
    pub fn from_uds(uds: &Uds) -> Self {
        Self {
            attest: uds.clone(),
            seal: uds.clone(),
        }
    }
}

/// The mode decision ("Mode Value Details").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// 0: a security mechanism is not configured (also what unknown values mean).
    #[default]
    NotConfigured,
    /// 1: operating normally under secure configuration.
    Normal,
    /// 2: at least one criterion of Normal is not met.
    Debug,
    /// 3: recovery or maintenance.
    Recovery,
}

impl Mode {
    /// The one-byte input value.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::NotConfigured => 0,
            Self::Normal => 1,
            Self::Debug => 2,
            Self::Recovery => 3,
        }
    }

    /// The mode of an input byte; values not defined are Not Configured, as the profile says.
    pub const fn from_byte(b: u8) -> Self {
        match b {
            1 => Self::Normal,
            2 => Self::Debug,
            3 => Self::Recovery,
            _ => Self::NotConfigured,
        }
    }
}

/// The configuration input ("Input Values", item 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Config<'a> {
    /// The 64-byte value itself; the certificate carries it as the configuration descriptor.
    Inline(&'a [u8; HASH_LEN]),
    /// A descriptor of any length; the input value is its SHA-512, and the certificate carries
    /// both the descriptor and the hash.
    Descriptor(&'a [u8]),
}

/// The inputs of one DICE computation ("Input Values"). `Debug` leaves the hidden input out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InputValues<'a> {
    /// Code (64 bytes): the hash of the target code.
    pub code_hash: &'a [u8; HASH_LEN],
    /// An optional code descriptor, carried in the certificate only.
    pub code_descriptor: Option<&'a [u8]>,
    /// Configuration data.
    pub config: Config<'a>,
    /// Authority data (64 bytes): the hash of the verified-boot authority; zeros when none.
    pub authority_hash: &'a [u8; HASH_LEN],
    /// An optional authority descriptor, carried in the certificate only.
    pub authority_descriptor: Option<&'a [u8]>,
    /// The mode decision.
    pub mode: Mode,
    /// Hidden inputs (64 bytes), in no certificate; zeros when unused. Borrowed, so that a
    /// secret here stays in the caller's (zeroizable) storage.
    pub hidden: &'a [u8; HASH_LEN],
}

impl core::fmt::Debug for InputValues<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InputValues")
            .field("code_hash", self.code_hash)
            .field("code_descriptor", &self.code_descriptor)
            .field("config", &self.config)
            .field("authority_hash", self.authority_hash)
            .field("authority_descriptor", &self.authority_descriptor)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Default for InputValues<'_> {
    /// All-zero inputs with inline configuration and mode Not Configured (the known-answer
    /// inputs of open-dice).
    fn default() -> Self {
        Self {
            code_hash: &ZEROS,
            code_descriptor: None,
            config: Config::Inline(&ZEROS),
            authority_hash: &ZEROS,
            authority_descriptor: None,
            mode: Mode::NotConfigured,
            hidden: &ZEROS,
        }
    }
}

/// SHA-512 of one whole input.
pub(crate) fn sha512<C: Sha512>(crypto: &mut C, data: &[u8]) -> [u8; HASH_LEN] {
    let mut state = crypto.sha512_start();
    crypto.sha512_update(&mut state, data);
    crypto.sha512_finish(state)
}

impl InputValues<'_> {
    /// The configuration input value: the inline value, or the descriptor's SHA-512.
    pub(crate) fn config_value<C: Sha512>(&self, crypto: &mut C) -> [u8; HASH_LEN] {
        match self.config {
            Config::Inline(v) => *v,
            Config::Descriptor(d) => sha512(crypto, d),
        }
    }

    /// `H(code + config + authority + mode + hidden)` and `H(authority + mode + hidden)`,
    /// streamed into the hash (no buffer holds the hidden input).
    fn measurements<C: Sha512>(
        &self,
        crypto: &mut C,
    ) -> (Zeroizing<[u8; HASH_LEN]>, Zeroizing<[u8; HASH_LEN]>) {
        let config = self.config_value(crypto);
        let mode = [self.mode.to_byte()];
        let mut attest = crypto.sha512_start();
        for part in [
            &self.code_hash[..],
            &config,
            self.authority_hash,
            &mode,
            self.hidden,
        ] {
            crypto.sha512_update(&mut attest, part);
        }
        let mut seal = crypto.sha512_start();
        for part in [&self.authority_hash[..], &mode, self.hidden] {
            crypto.sha512_update(&mut seal, part);
        }
        (
            Zeroizing::new(crypto.sha512_finish(attest)),
            Zeroizing::new(crypto.sha512_finish(seal)),
        )
    }
}

/// The next layer's CDIs ("Computing Layered CDI Values"):
/// `CDI_Attest[n+1] = KDF(32, CDI_Attest[n], H(code + config + authority + mode + hidden), "CDI_Attest")`
/// and `CDI_Seal[n+1] = KDF(32, CDI_Seal[n], H(authority + mode + hidden), "CDI_Seal")`.
pub fn derive_cdis<C: Sha512 + HkdfSha512>(
    crypto: &mut C,
    current: &Cdis,
    inputs: &InputValues<'_>,
) -> Result<Cdis> {
    let (attest_salt, seal_salt) = inputs.measurements(crypto);
    let mut next = Cdis {
        attest: Cdi([0; CDI_LEN]),
        seal: Cdi([0; CDI_LEN]),
    };
    crypto.hkdf_sha512(
        &attest_salt[..],
        current.attest.as_bytes(),
        b"CDI_Attest",
        &mut next.attest.0,
    )?;
    crypto.hkdf_sha512(
        &seal_salt[..],
        current.seal.as_bytes(),
        b"CDI_Seal",
        &mut next.seal.0,
    )?;
    Ok(next)
}

/// The seed of ASYM_KDF: `KDF(32, input, ASYM_SALT, "Key Pair")`, where `input` is the UDS or
/// a CDI_Attest ("Asymmetric Key Pair Derivation").
pub fn private_key_seed<C: HkdfSha512>(
    crypto: &mut C,
    cdi_attest: &Cdi,
) -> Result<Zeroizing<[u8; PRIVATE_KEY_SEED_LEN]>> {
    let mut seed = Zeroizing::new([0u8; PRIVATE_KEY_SEED_LEN]);
    crypto.hkdf_sha512(
        &ASYM_SALT,
        cdi_attest.as_bytes(),
        b"Key Pair",
        &mut seed[..],
    )?;
    Ok(seed)
}

/// A P-256 key pair from an ASYM_KDF seed, as open-dice's P-256 profile makes it ("ECDSA"):
/// the seed feeds an HMAC-SHA-512 DRBG as in RFC 6979 section 3.2 steps b to h (the seed in
/// place of `int2octets(x) || bits2octets(h1)`); the private key is the leftmost 32 bytes of the
/// first output that is a valid scalar.
pub fn p256_key_pair_from_seed<C: HmacSha512 + P256Keys>(
    crypto: &mut C,
    seed: &[u8; PRIVATE_KEY_SEED_LEN],
) -> Result<DiceKeyPair<C::SigningKey>> {
    let mut k = Zeroizing::new([0u8; SHA512_LEN]);
    let mut v = Zeroizing::new([1u8; SHA512_LEN]);
    let mut t = Zeroizing::new([0u8; SHA512_LEN]);
    // Steps d to g: K = HMAC_K(V || 0x00 || seed); V = HMAC_K(V); K = HMAC_K(V || 0x01 || seed); V = HMAC_K(V).
    crypto.hmac_sha512(&k[..], &[&v[..], &[0x00], seed], &mut t)?;
    core::mem::swap(&mut *k, &mut *t);
    crypto.hmac_sha512(&k[..], &[&v[..]], &mut t)?;
    core::mem::swap(&mut *v, &mut *t);
    crypto.hmac_sha512(&k[..], &[&v[..], &[0x01], seed], &mut t)?;
    core::mem::swap(&mut *k, &mut *t);
    crypto.hmac_sha512(&k[..], &[&v[..]], &mut t)?;
    core::mem::swap(&mut *v, &mut *t);
    let mut candidate = Zeroizing::new([0u8; 32]);
    for _ in 0..MAX_KEY_TRIES {
        // Step h: V = HMAC_K(V); the candidate is its leftmost qlen = 256 bits.
        crypto.hmac_sha512(&k[..], &[&v[..]], &mut t)?;
        core::mem::swap(&mut *v, &mut *t);
        candidate.copy_from_slice(v.get(..32).ok_or(Error::KeyDerivation)?);
        match crypto.p256_signing_key(&candidate) {
            Ok((signing_key, xy)) => {
                return Ok(DiceKeyPair {
                    signing_key,
                    public_key: DicePublicKey(xy),
                });
            }
            Err(iot_core::Error::InvalidKey) => {}
            Err(e) => return Err(e.into()),
        }
        // Out of range: K = HMAC_K(V || 0x00); V = HMAC_K(V), and try again.
        crypto.hmac_sha512(&k[..], &[&v[..], &[0x00]], &mut t)?;
        core::mem::swap(&mut *k, &mut *t);
        crypto.hmac_sha512(&k[..], &[&v[..]], &mut t)?;
        core::mem::swap(&mut *v, &mut *t);
    }
    Err(Error::KeyDerivation)
}

/// `ASYM_KDF(cdi_attest)` for P-256: the key pair of the layer whose CDI_Attest (or UDS) this is.
pub fn derive_key_pair<C: HkdfSha512 + HmacSha512 + P256Keys>(
    crypto: &mut C,
    cdi_attest: &Cdi,
) -> Result<DiceKeyPair<C::SigningKey>> {
    let seed = private_key_seed(crypto, cdi_attest)?;
    p256_key_pair_from_seed(crypto, &seed)
}

/// A P-256 public key as `x || y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DicePublicKey(pub [u8; PUBLIC_KEY_LEN]);

/// Length of [`DicePublicKey::write_cose_key`]'s output.
pub const COSE_KEY_LEN: usize = 80;

impl DicePublicKey {
    /// The x coordinate.
    pub fn x(&self) -> &[u8] {
        self.0.split_at(32).0
    }

    /// The y coordinate.
    pub fn y(&self) -> &[u8] {
        self.0.split_at(32).1
    }

    /// The key as the certificate's subjectPublicKey: a COSE_Key (RFC 9052 section 7) with
    /// kty EC2, alg ES256, key_ops `[verify]`, crv P-256, x and y, in open-dice's label order.
    /// Written here rather than with [`iot_core::cose::CoseKey`], which has no key_ops.
    pub fn write_cose_key(&self, out: &mut [u8]) -> Result<usize> {
        const KEY_OPS_VERIFY: u8 = 2;
        let mut w = SliceWriter::new(out);
        Encoder::new(&mut w)
            .map(6)
            .and_then(|e| e.i8(1)?.i8(2)) // kty: EC2
            .and_then(|e| e.i8(3)?.i64(Algorithm::Es256.id())) // alg
            .and_then(|e| e.i8(4)?.array(1)?.u8(KEY_OPS_VERIFY)) // key_ops
            .and_then(|e| e.i8(-1)?.i8(1)) // crv: P-256
            .and_then(|e| e.i8(-2)?.bytes(self.x()))
            .and_then(|e| e.i8(-3)?.bytes(self.y()))
            .map_err(enc_err)?;
        Ok(w.len())
    }

    /// The identifier of this key: `KDF(20, public key, ID_SALT, "ID")` with the top bit
    /// cleared ("Deriving Identifiers").
    pub fn id<C: HkdfSha512>(&self, crypto: &mut C) -> Result<DiceId> {
        let mut id = [0u8; ID_LEN];
        crypto.hkdf_sha512(&ID_SALT, &self.0, b"ID", &mut id)?;
        if let Some(first) = id.first_mut() {
            *first &= 0x7f;
        }
        Ok(DiceId(id))
    }
}

/// A key pair derived by DICE. The private key zeroizes itself when it is a
/// [`iot_core::crypto::P256SigningKey`].
#[derive(Debug)]
pub struct DiceKeyPair<K> {
    /// The private key, usable only to sign.
    pub signing_key: K,
    /// The public key.
    pub public_key: DicePublicKey,
}

/// A UDS_ID or CDI_ID: 20 bytes, top bit clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiceId(pub [u8; ID_LEN]);

impl DiceId {
    /// The lower-case hex encoding certificates carry as `iss` and `sub`.
    pub fn to_hex(&self) -> HexId {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 2 * ID_LEN];
        for (pair, b) in out.chunks_exact_mut(2).zip(self.0) {
            for (o, nibble) in pair.iter_mut().zip([b >> 4, b & 0x0f]) {
                *o = DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
            }
        }
        HexId(out)
    }
}

/// A [`DiceId`] in lower-case hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexId([u8; 2 * ID_LEN]);

impl HexId {
    /// The 40 hex digits.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}
