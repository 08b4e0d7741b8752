//! X.509 for devices, without a heap: PKCS#10 certificate requests (RFC 2986) and validation of
//! the device's own certificate chain against a pinned trust anchor (RFC 5280 section 6.1,
//! reduced to the device profile below).
//!
//! Profile: P-256 keys (`id-ecPublicKey` with `prime256v1`, RFC 5480) and ecdsa-with-SHA256
//! signatures (RFC 5758 section 3.2, parameters absent), DER only.
//!
//! Why not the `x509-cert` crate: its 0.3 release needs `alloc` unconditionally (`extern crate
//! alloc`, `Vec`-backed names and extension lists, and it turns on `der/alloc`), so a device
//! build without a heap cannot use it. Certificates and requests are read here with `der`'s
//! borrowed types (`SliceReader`, `AnyRef`, `BitStringRef`, `UintRef`, the time types) and
//! `spki`'s `SubjectPublicKeyInfoRef`, and written with `der`'s encoder into the caller's buffer.

mod cert;
mod csr;

pub use cert::{
    BasicConstraints, Certificate, ChainError, KeyUsage, MAX_CHAIN_LEN, TrustAnchor,
    ValidatedChain, ValidationOptions, validate_chain,
};
pub use csr::{Csr, CsrSubject, MAX_NAME_ATTRIBUTE_LEN, write_csr};

use crate::keystore::P256PublicKey;
use core::fmt;
use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Header, Reader, SliceReader, Tag};

/// Object identifiers of the profile.
pub mod oid {
    use der::asn1::ObjectIdentifier;

    /// ecdsa-with-SHA256 (RFC 5758 section 3.2).
    pub const ECDSA_WITH_SHA256: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    /// id-ecPublicKey (RFC 5480 section 2.1.1).
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1 / prime256v1 (RFC 5480 section 2.1.1.1).
    pub const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// id-at-commonName (RFC 5280 Appendix A.1).
    pub const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    /// id-at-serialNumber (RFC 5280 Appendix A.1).
    pub const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
    /// id-ce-subjectKeyIdentifier (RFC 5280 section 4.2.1.2).
    pub const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
    /// id-ce-keyUsage (RFC 5280 section 4.2.1.3).
    pub const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
    /// id-ce-subjectAltName (RFC 5280 section 4.2.1.6).
    pub const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
    /// id-ce-basicConstraints (RFC 5280 section 4.2.1.9).
    pub const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
    /// id-ce-authorityKeyIdentifier (RFC 5280 section 4.2.1.1).
    pub const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.5.29.35");
}

/// Why a certificate, a request or a chain was refused (or could not be written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum X509Error {
    /// Not DER, or not the ASN.1 structure expected; the byte offset where `der` stopped, when known.
    Malformed {
        /// Offset in the input (0 when `der` did not say).
        offset: usize,
    },
    /// A certificate version other than v3 (or v1 without extensions), or a request version other than v1.
    UnsupportedVersion,
    /// A signature algorithm other than ecdsa-with-SHA256, or a certificate whose two signature
    /// algorithm fields differ (RFC 5280 section 4.1.1.2).
    UnsupportedSignatureAlgorithm,
    /// A subject public key other than P-256 (uncompressed).
    UnsupportedKey,
    /// A signature that does not verify.
    BadSignature,
    /// The caller's time is before notBefore.
    NotYetValid,
    /// The caller's time is after notAfter.
    Expired,
    /// The issuer name is not the subject name of the certificate (or anchor) above it.
    IssuerMismatch,
    /// A certificate that issues another one has no basicConstraints with cA set (RFC 5280
    /// section 4.2.1.9).
    NotCa,
    /// More CA certificates follow a CA than its pathLenConstraint allows.
    PathLenExceeded,
    /// keyUsage forbids the use: a CA without keyCertSign, or a leaf without what the caller
    /// requires (RFC 5280 section 4.2.1.3).
    KeyUsage,
    /// A critical extension this profile does not process (RFC 5280 section 4.2).
    UnknownCriticalExtension,
    /// An extension that occurs twice (RFC 5280 section 4.2).
    DuplicateExtension,
    /// An empty chain.
    EmptyChain,
    /// More certificates than [`MAX_CHAIN_LEN`] below the trust anchor.
    ChainTooLong,
    /// A name attribute longer than its upper bound (RFC 5280 Appendix A.1: 64 characters), or
    /// with characters its string type cannot hold.
    InvalidName,
    /// The output buffer is too small.
    BufferTooSmall,
    /// The crypto backend (hash, signer) failed.
    Core(iot_core::Error),
}

impl fmt::Display for X509Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { offset } => write!(f, "malformed DER at byte {offset}"),
            Self::UnsupportedVersion => f.write_str("unsupported version"),
            Self::UnsupportedSignatureAlgorithm => f.write_str("unsupported signature algorithm"),
            Self::UnsupportedKey => f.write_str("public key is not P-256"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::NotYetValid => f.write_str("certificate not yet valid"),
            Self::Expired => f.write_str("certificate expired"),
            Self::IssuerMismatch => f.write_str("issuer does not match the issuing subject"),
            Self::NotCa => f.write_str("issuing certificate is not a CA"),
            Self::PathLenExceeded => f.write_str("path length constraint exceeded"),
            Self::KeyUsage => f.write_str("key usage does not allow this use"),
            Self::UnknownCriticalExtension => f.write_str("unknown critical extension"),
            Self::DuplicateExtension => f.write_str("duplicate extension"),
            Self::EmptyChain => f.write_str("empty certificate chain"),
            Self::ChainTooLong => f.write_str("certificate chain too long"),
            Self::InvalidName => f.write_str("name attribute too long or invalid"),
            Self::BufferTooSmall => f.write_str("output buffer too small"),
            Self::Core(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for X509Error {}

impl From<der::Error> for X509Error {
    fn from(e: der::Error) -> Self {
        if matches!(e.kind(), der::ErrorKind::Overflow) {
            return Self::BufferTooSmall;
        }
        let offset = e
            .position()
            .and_then(|p| usize::try_from(p).ok())
            .unwrap_or(0);
        Self::Malformed { offset }
    }
}

impl From<iot_core::Error> for X509Error {
    fn from(e: iot_core::Error) -> Self {
        match e {
            iot_core::Error::BadSignature => Self::BadSignature,
            iot_core::Error::BufferTooSmall => Self::BufferTooSmall,
            e => Self::Core(e),
        }
    }
}

/// ECDSA P-256 verification of a SHA-256 digest with a public key met in a certificate.
///
/// iot-core's [`iot_core::crypto::Verifier`] is a key object; a chain brings its keys as bytes,
/// so the backend makes the key. [`iot_core::crypto::RustCrypto`] implements this (feature
/// `rustcrypto`); a secure element's driver can too.
pub trait P256Verify {
    /// Checks the `r || s` `signature` over `digest` under `public_key`;
    /// [`iot_core::Error::BadSignature`] if it does not verify, [`iot_core::Error::InvalidKey`]
    /// if the key is not a point of P-256.
    fn verify_p256(
        &mut self,
        public_key: &P256PublicKey,
        digest: &[u8; 32],
        signature: &[u8; 64],
    ) -> iot_core::Result<()>;
}

#[cfg(feature = "rustcrypto")]
impl<R> P256Verify for iot_core::crypto::RustCrypto<R> {
    fn verify_p256(
        &mut self,
        public_key: &P256PublicKey,
        digest: &[u8; 32],
        signature: &[u8; 64],
    ) -> iot_core::Result<()> {
        use iot_core::crypto::Verifier as _;
        iot_core::crypto::P256VerifyingKey::from_sec1(public_key.as_sec1())?
            .verify_digest(digest, signature)
    }
}

/// Reads a `SubjectPublicKeyInfo` that must be a P-256 key (RFC 5480 section 2).
pub(crate) fn read_p256_spki<'a>(r: &mut SliceReader<'a>) -> Result<P256PublicKey, X509Error> {
    let spki = spki::SubjectPublicKeyInfoRef::decode(r)?;
    if spki.algorithm.oid != oid::EC_PUBLIC_KEY {
        return Err(X509Error::UnsupportedKey);
    }
    let curve = spki
        .algorithm
        .parameters
        .ok_or(X509Error::UnsupportedKey)?
        .decode_as::<ObjectIdentifier>()
        .map_err(|_| X509Error::UnsupportedKey)?;
    if curve != oid::SECP256R1 {
        return Err(X509Error::UnsupportedKey);
    }
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or(X509Error::UnsupportedKey)?;
    P256PublicKey::from_sec1(key).map_err(|_| X509Error::UnsupportedKey)
}

/// Reads an AlgorithmIdentifier that must be ecdsa-with-SHA256 without parameters; returns its
/// DER bytes (a certificate's two copies must be equal).
pub(crate) fn read_ecdsa_sha256_alg<'a>(r: &mut SliceReader<'a>) -> Result<&'a [u8], X509Error> {
    let raw = r.tlv_bytes()?;
    let alg = spki::AlgorithmIdentifierRef::from_der(raw)?;
    if alg.oid != oid::ECDSA_WITH_SHA256 || alg.parameters.is_some() {
        return Err(X509Error::UnsupportedSignatureAlgorithm);
    }
    Ok(raw)
}

/// Reads the BIT STRING holding a DER `Ecdsa-Sig-Value` (RFC 3279
/// section 2.2.3) and returns `r || s`.
pub(crate) fn read_ecdsa_signature(r: &mut SliceReader<'_>) -> Result<[u8; 64], X509Error> {
    let bits = der::asn1::BitStringRef::decode(r)?;
    let der_sig = bits.as_bytes().ok_or(X509Error::BadSignature)?;
    ecdsa_der_to_raw(der_sig)
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` to `r || s`, 32 bytes each.
pub(crate) fn ecdsa_der_to_raw(der_sig: &[u8]) -> Result<[u8; 64], X509Error> {
    let mut r = SliceReader::new(der_sig).map_err(|_| X509Error::BadSignature)?;
    let out = r
        .sequence(|r| {
            let a = UintRef::decode(r)?;
            let b = UintRef::decode(r)?;
            Ok::<_, der::Error>((a, b))
        })
        .map_err(|_| X509Error::BadSignature)?;
    r.finish().map_err(|_| X509Error::BadSignature)?;
    let mut raw = [0u8; 64];
    let (rs, ss) = raw.split_at_mut(32);
    for (dst, int) in [(rs, out.0), (ss, out.1)] {
        let bytes = int.as_bytes();
        let at = 32usize
            .checked_sub(bytes.len())
            .ok_or(X509Error::BadSignature)?;
        dst.get_mut(at..)
            .ok_or(X509Error::BadSignature)?
            .copy_from_slice(bytes);
    }
    Ok(raw)
}

/// Reads one TLV and returns its header and value.
pub(crate) fn read_tlv<'a>(r: &mut SliceReader<'a>) -> Result<(Header, &'a [u8]), X509Error> {
    let h = Header::decode(r)?;
    let v = r.read_slice(h.length())?;
    Ok((h, v))
}

/// Checks that `raw` is one DER `Name` (RFC 5280 section 4.1.2.4):
/// `SEQUENCE OF SET OF SEQUENCE { OID, ANY }`.
pub(crate) fn check_name(raw: &[u8]) -> Result<(), X509Error> {
    name_attributes(raw, |_, _, _| {})
}

/// Calls `f(type, value tag, value)` for every attribute of the DER `Name` `raw`.
pub(crate) fn name_attributes<'a>(
    raw: &'a [u8],
    mut f: impl FnMut(ObjectIdentifier, Tag, &'a [u8]),
) -> Result<(), X509Error> {
    let mut r = SliceReader::new(raw)?;
    let (h, rdns) = read_tlv(&mut r)?;
    r.finish()?;
    if h.tag() != Tag::Sequence {
        return Err(X509Error::Malformed { offset: 0 });
    }
    let mut rdns = SliceReader::new(rdns)?;
    while !rdns.is_finished() {
        let (h, atvs) = read_tlv(&mut rdns)?;
        if h.tag() != Tag::Set || atvs.is_empty() {
            return Err(X509Error::Malformed { offset: 0 });
        }
        let mut atvs = SliceReader::new(atvs)?;
        while !atvs.is_finished() {
            atvs.sequence(|r| {
                let ty = ObjectIdentifier::decode(r)?;
                let (vh, v) = read_tlv(r)?;
                f(ty, vh.tag(), v);
                Ok::<_, X509Error>(())
            })?;
        }
    }
    Ok(())
}

/// The value of the first attribute of type `ty` in the DER `Name` `raw`, as text when it is a
/// UTF8String, PrintableString or IA5String.
pub fn name_attribute(raw: &[u8], ty: ObjectIdentifier) -> Result<Option<&str>, X509Error> {
    let mut found = None;
    name_attributes(raw, |t, tag, v| {
        if found.is_none()
            && t == ty
            && matches!(tag, Tag::Utf8String | Tag::PrintableString | Tag::Ia5String)
        {
            found = core::str::from_utf8(v).ok();
        }
    })?;
    Ok(found)
}
