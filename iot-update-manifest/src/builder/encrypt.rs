//! Encrypting a payload for a SUIT manifest (draft-ietf-suit-firmware-encryption), the sender's
//! side of [`crate::encryption`] (features `alloc` and `rustcrypto`).
//!
//! [`encrypt`] makes a content-encryption key, encrypts the image with A128GCM (RFC 9053 section
//! 4.1) or A128CTR (RFC 9459), and writes the SUIT_Encryption_Info: a COSE_Encrypt (tag 96) with
//! detached ciphertext and one recipient that carries the key wrapped with A128KW under a shared
//! key-encryption key, or with ECDH-ES + A128KW to the device's P-256 key (an ephemeral key, the
//! KEK derived as the device derives it, [`crate::encryption`]). Maps are written in the
//! deterministic order of RFC 8949 section 4.2.1, in the layout of the draft's examples, so that
//! with their content key and IV the A128KW examples come out byte for byte. Every AES, ECDH and
//! HMAC operation runs on the crypto backend.

use super::{BuildError, Result, invalid};
use crate::encryption::derive_kek;
use alloc::vec;
use alloc::vec::Vec;
use iot_core::cose::{AeadAlgorithm, Algorithm, CoseEncrypt, CoseRecipient};
use iot_core::crypto::{Aead, AesCtr, AesKeyWrap, EcdhP256, HmacSha256, P256SigningKey, Rng};
use minicbor::Encoder;
use zeroize::Zeroizing;

/// The COSE_Encrypt tag (RFC 9052 section 2).
const ENCRYPT_TAG: u64 = 96;
/// Header labels (RFC 9052 section 3.1; RFC 9053 section 6.4.1 for the ephemeral key).
const ALG: i64 = 1;
const KID: i64 = 4;
const IV: i64 = 5;
const EPHEMERAL_KEY: i64 = -1;
/// The A128GCM and AES-KW key length.
const KEY_LEN: usize = 16;
/// The GCM tag, appended to the ciphertext as the device reads it.
const GCM_TAG_LEN: usize = 16;

/// How the content key reaches the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDistribution<'a> {
    /// A128KW (-3) under a key-encryption key the device shares (16 bytes).
    A128Kw {
        /// The key-encryption key.
        kek: &'a [u8],
    },
    /// ECDH-ES + A128KW (-29) to the device's P-256 public key (SEC1 encoding).
    EcdhEsA128Kw {
        /// The device's public key.
        recipient: &'a [u8],
        /// The ephemeral private key; `None` makes a fresh one with the backend's random
        /// generator (given, for reproducible test vectors only).
        ephemeral: Option<&'a [u8]>,
    },
}

/// What to encrypt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encryption<'a> {
    /// The content algorithm: [`Algorithm::A128Gcm`] or [`Algorithm::A128Ctr`].
    pub content: Algorithm,
    /// The recipient.
    pub distribution: KeyDistribution<'a>,
    /// A key id for the recipient's unprotected header.
    pub kid: Option<&'a [u8]>,
    /// The content-encryption key (16 bytes); `None` makes a random one.
    pub cek: Option<&'a [u8]>,
    /// The IV (12 bytes for A128GCM, 16 for A128CTR); `None` makes a random one.
    pub iv: Option<&'a [u8]>,
}

/// An encrypted payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The encoded SUIT_Encryption_Info, for `suit-parameter-encryption-info`.
    pub info: Vec<u8>,
    /// The payload to fetch: the ciphertext, followed by the tag for A128GCM.
    pub ciphertext: Vec<u8>,
}

/// What encrypting asks of the backend.
pub trait EncryptCrypto: Rng + Aead + AesCtr + AesKeyWrap + EcdhP256 + HmacSha256 {}
impl<T: Rng + Aead + AesCtr + AesKeyWrap + EcdhP256 + HmacSha256> EncryptCrypto for T {}

/// Encrypts `plaintext` as `how` says (module documentation).
pub fn encrypt<C: EncryptCrypto>(
    crypto: &mut C,
    plaintext: &[u8],
    how: &Encryption<'_>,
) -> Result<Encrypted> {
    let iv_len = match how.content {
        Algorithm::A128Gcm => 12,
        Algorithm::A128Ctr => 16,
        other => return Err(invalid(format_args!("content algorithm {}", other.name()))),
    };
    let mut cek = Zeroizing::new([0u8; KEY_LEN]);
    given_or_random(crypto, how.cek, &mut *cek, "content key")?;
    let mut iv = vec![0u8; iv_len];
    given_or_random(crypto, how.iv, &mut iv, "IV")?;
    let recipient = recipient(crypto, &cek[..], how)?;

    // A128GCM's headers are protected; A128CTR has no integrity, so its protected bucket is
    // empty (RFC 9459 section 4) and the algorithm goes unprotected.
    let protected = match how.content {
        Algorithm::A128Gcm => map_bytes(&[(ALG, Value::Int(Algorithm::A128Gcm.id()))])?,
        _ => Vec::new(),
    };
    let mut unprotected = Vec::new();
    if how.content == Algorithm::A128Ctr {
        unprotected.push((ALG, Value::Int(Algorithm::A128Ctr.id())));
    }
    unprotected.push((IV, Value::Bytes(&iv)));
    let mut info = Vec::new();
    let mut e = Encoder::new(&mut info);
    e.tag(minicbor::data::Tag::new(ENCRYPT_TAG))
        .and_then(|e| e.array(4))
        .and_then(|e| e.bytes(&protected))
        .map_err(invalid)?;
    map(&mut e, &unprotected)?;
    e.null().and_then(|e| e.array(1)).map_err(invalid)?;
    info.extend_from_slice(&recipient);

    let mut ciphertext = plaintext.to_vec();
    if how.content == Algorithm::A128Gcm {
        // The associated data is the Enc_structure of what was just written (RFC 9052 section 5.3).
        let msg = CoseEncrypt::decode(&info)?;
        let enc = msg.enc_structure(&[])?;
        let key = crypto.aead_key(AeadAlgorithm::A128Gcm, &cek[..])?;
        let mut tag = [0u8; GCM_TAG_LEN];
        crypto.aead_seal(&key, &iv, &enc.pieces(), &mut ciphertext, &mut tag)?;
        ciphertext.extend_from_slice(&tag);
    } else {
        let mut ctr = crypto.aes128_ctr_start(&cek[..], &iv)?;
        crypto.aes128_ctr_apply(&mut ctr, &mut ciphertext)?;
    }
    Ok(Encrypted { info, ciphertext })
}

/// Fills `out` with `given`, which must be as long, or with random bytes when nothing was given.
fn given_or_random<C: Rng>(
    crypto: &mut C,
    given: Option<&[u8]>,
    out: &mut [u8],
    what: &str,
) -> Result<()> {
    match given {
        Some(v) if v.len() == out.len() => out.copy_from_slice(v),
        Some(v) => {
            return Err(invalid(format_args!(
                "{what} of {} bytes: {} expected",
                v.len(),
                out.len()
            )));
        }
        None => crypto.fill_random(out)?,
    }
    Ok(())
}

/// The encoded COSE_recipient `[protected, unprotected, wrapped content key]`.
fn recipient<C: EncryptCrypto>(
    crypto: &mut C,
    cek: &[u8],
    how: &Encryption<'_>,
) -> Result<Vec<u8>> {
    let mut wrapped = [0u8; KEY_LEN + 8];
    match how.distribution {
        KeyDistribution::A128Kw { kek } => {
            crypto.aes128_kw_wrap(kek, cek, &mut wrapped)?;
            let mut unprotected = vec![(ALG, Value::Int(Algorithm::A128Kw.id()))];
            if let Some(kid) = how.kid {
                unprotected.push((KID, Value::Bytes(kid)));
            }
            recipient_bytes(&[], &unprotected, &wrapped)
        }
        KeyDistribution::EcdhEsA128Kw {
            recipient,
            ephemeral,
        } => {
            let private = ephemeral_key(crypto, ephemeral)?;
            let public = P256SigningKey::from_bytes(&private[..])?
                .verifying_key()
                .to_sec1_uncompressed();
            let (x, y) = public.get(1..).unwrap_or_default().split_at(32);
            let cose_key = map_bytes(&[
                (1, Value::Int(2)),  // kty: EC2
                (-1, Value::Int(1)), // crv: P-256
                (-2, Value::Bytes(x)),
                (-3, Value::Bytes(y)),
            ])?;
            let protected = map_bytes(&[(ALG, Value::Int(Algorithm::EcdhEsA128Kw.id()))])?;
            let mut unprotected = Vec::new();
            if let Some(kid) = how.kid {
                unprotected.push((KID, Value::Bytes(kid)));
            }
            unprotected.push((EPHEMERAL_KEY, Value::Encoded(&cose_key)));
            // The KEK's derivation reads the recipient's headers (the KDF context): derive it
            // from the recipient as the device will decode it, then wrap.
            let skeleton = recipient_bytes(&protected, &unprotected, &wrapped)?;
            let decoded = CoseRecipient::decode(&skeleton)?;
            let shared = crypto.p256_ecdh(&private[..], recipient)?;
            let mut kek = Zeroizing::new([0u8; KEY_LEN]);
            derive_kek(crypto, &decoded, shared.as_bytes(), &mut kek)
                .map_err(BuildError::Envelope)?;
            crypto.aes128_kw_wrap(&*kek, cek, &mut wrapped)?;
            recipient_bytes(&protected, &unprotected, &wrapped)
        }
    }
}

/// The ephemeral private key: `given`, or a random scalar the curve accepts.
fn ephemeral_key<C: Rng>(crypto: &mut C, given: Option<&[u8]>) -> Result<Zeroizing<[u8; 32]>> {
    let mut d = Zeroizing::new([0u8; 32]);
    if given.is_some() {
        given_or_random(crypto, given, &mut *d, "ephemeral key")?;
        P256SigningKey::from_bytes(&*d)?;
        return Ok(d);
    }
    // A random 32-byte value is a valid scalar but with probability about 2^-32; retry then.
    loop {
        crypto.fill_random(&mut *d)?;
        if P256SigningKey::from_bytes(&*d).is_ok() {
            return Ok(d);
        }
    }
}

/// A header value.
enum Value<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    /// An encoded CBOR item (a COSE_Key).
    Encoded(&'a [u8]),
}

/// Writes a header map whose labels are given in deterministic order.
fn map(e: &mut Encoder<&mut Vec<u8>>, items: &[(i64, Value<'_>)]) -> Result<()> {
    e.map(items.len() as u64).map_err(invalid)?;
    for (label, value) in items {
        e.i64(*label).map_err(invalid)?;
        match value {
            Value::Int(v) => e.i64(*v).map(|_| ()),
            Value::Bytes(b) => e.bytes(b).map(|_| ()),
            Value::Encoded(raw) => {
                e.writer_mut().extend_from_slice(raw);
                Ok(())
            }
        }
        .map_err(invalid)?;
    }
    Ok(())
}

fn map_bytes(items: &[(i64, Value<'_>)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    map(&mut Encoder::new(&mut out), items)?;
    Ok(out)
}

fn recipient_bytes(
    protected: &[u8],
    unprotected: &[(i64, Value<'_>)],
    wrapped: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out);
    e.array(3)
        .and_then(|e| e.bytes(protected))
        .map_err(invalid)?;
    map(&mut e, unprotected)?;
    e.bytes(wrapped).map_err(invalid)?;
    Ok(out)
}
