//! P-256 keys in PEM files (RFC 7468): the one reader and writer the registrar's CA key and
//! `iot-tool`'s key files share.
//!
//! Private keys: "PRIVATE KEY" (PKCS#8, RFC 5958) and "EC PRIVATE KEY" (SEC1, RFC 5915, or a
//! PKCS#8 body under that label, as libcsuit's trust anchor has it); public keys: "PUBLIC KEY"
//! (SubjectPublicKeyInfo, RFC 5280 section 4.1.2.7). Other blocks, such as OpenSSL's
//! "EC PARAMETERS", are passed over.

use alloc::format;
use alloc::string::String;
use core::fmt;
use iot_core::crypto::{P256SigningKey, P256VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use zeroize::Zeroizing;

/// The form a private key was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateKeyForm {
    /// "PRIVATE KEY": PKCS#8 (RFC 5958).
    Pkcs8,
    /// "EC PRIVATE KEY": SEC1 (RFC 5915).
    Sec1,
    /// "EC PRIVATE KEY" holding a PKCS#8 body.
    Pkcs8LabelledEc,
}

/// The P-256 key of a PEM text.
#[derive(Debug, Clone)]
pub enum PemKey {
    /// A private key (its public key comes with it), and the form it was in.
    Private(P256SigningKey, PrivateKeyForm),
    /// A public key.
    Public(P256VerifyingKey),
}

/// Why a PEM text gave no P-256 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyPemError {
    /// No "PRIVATE KEY", "EC PRIVATE KEY" or "PUBLIC KEY" block.
    NoKeyBlock,
    /// A "PRIVATE KEY" block that is not a P-256 PKCS#8 key.
    Pkcs8,
    /// An "EC PRIVATE KEY" block that is neither a SEC1 nor a PKCS#8 P-256 key.
    EcPrivateKey,
    /// A "PUBLIC KEY" block that is not a P-256 SubjectPublicKeyInfo.
    Spki,
    /// The key could not be encoded.
    Encode,
}

impl fmt::Display for KeyPemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoKeyBlock => {
                "PEM without a P-256 \"PRIVATE KEY\", \"EC PRIVATE KEY\" or \"PUBLIC KEY\" block"
            }
            Self::Pkcs8 => "\"PRIVATE KEY\" is not a P-256 PKCS#8 key",
            Self::EcPrivateKey => "\"EC PRIVATE KEY\" is neither SEC1 nor PKCS#8 of a P-256 key",
            Self::Spki => "\"PUBLIC KEY\" is not a P-256 SubjectPublicKeyInfo",
            Self::Encode => "the key does not encode as PEM",
        })
    }
}

impl core::error::Error for KeyPemError {}

/// The block of `text` labelled `label`, from its BEGIN line to its END line.
fn block<'t>(text: &'t str, label: &str) -> Option<&'t str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = start
        .checked_add(text.get(start..)?.find(&end)?)?
        .checked_add(end.len())?;
    text.get(start..stop)
}

/// Reads the P-256 key of a PEM text: a private key if there is one ("PRIVATE KEY" first,
/// then "EC PRIVATE KEY"), else a public key.
pub fn decode(text: &str) -> Result<PemKey, KeyPemError> {
    if let Some(b) = block(text, "PRIVATE KEY") {
        let sk = p256::SecretKey::from_pkcs8_pem(b).map_err(|_| KeyPemError::Pkcs8)?;
        return Ok(PemKey::Private(signing_key(&sk)?, PrivateKeyForm::Pkcs8));
    }
    if let Some(b) = block(text, "EC PRIVATE KEY") {
        if let Ok(sk) = p256::SecretKey::from_sec1_pem(b) {
            return Ok(PemKey::Private(signing_key(&sk)?, PrivateKeyForm::Sec1));
        }
        let (_, der) = der::pem::decode_vec(b.as_bytes()).map_err(|_| KeyPemError::EcPrivateKey)?;
        let der = Zeroizing::new(der);
        let sk = p256::SecretKey::from_pkcs8_der(&der).map_err(|_| KeyPemError::EcPrivateKey)?;
        return Ok(PemKey::Private(
            signing_key(&sk)?,
            PrivateKeyForm::Pkcs8LabelledEc,
        ));
    }
    if let Some(b) = block(text, "PUBLIC KEY") {
        let pk = p256::PublicKey::from_public_key_pem(b).map_err(|_| KeyPemError::Spki)?;
        let vk = P256VerifyingKey::from_sec1(&pk.to_sec1_bytes()).map_err(|_| KeyPemError::Spki)?;
        return Ok(PemKey::Public(vk));
    }
    Err(KeyPemError::NoKeyBlock)
}

fn signing_key(sk: &p256::SecretKey) -> Result<P256SigningKey, KeyPemError> {
    let d = Zeroizing::new(<[u8; 32]>::from(sk.to_bytes()));
    P256SigningKey::from_bytes(d.as_ref()).map_err(|_| KeyPemError::Pkcs8)
}

/// `key` as PKCS#8 (RFC 5958) PEM, LF line endings; keep it secret.
pub fn private_pkcs8(key: &P256SigningKey) -> Result<Zeroizing<String>, KeyPemError> {
    let d = key.to_bytes();
    let sk = p256::SecretKey::from_slice(d.as_ref()).map_err(|_| KeyPemError::Encode)?;
    sk.to_pkcs8_pem(der::pem::LineEnding::LF)
        .map_err(|_| KeyPemError::Encode)
}

/// `key` as SubjectPublicKeyInfo PEM ("PUBLIC KEY"), LF line endings.
pub fn public_spki(key: &P256VerifyingKey) -> Result<String, KeyPemError> {
    let pk = p256::PublicKey::from_sec1_bytes(&key.to_sec1_uncompressed())
        .map_err(|_| KeyPemError::Encode)?;
    pk.to_public_key_pem(der::pem::LineEnding::LF)
        .map_err(|_| KeyPemError::Encode)
}
