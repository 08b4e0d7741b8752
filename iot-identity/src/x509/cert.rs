//! Certificates (RFC 5280 section 4.1) read without a heap, and validation of a device's chain
//! against a pinned trust anchor (RFC 5280 section 6.1, for the profile of [`super`]).

use super::{
    P256Verify, X509Error, check_name, name_attribute, oid, read_ecdsa_sha256_alg,
    read_ecdsa_signature, read_p256_spki, read_tlv,
};
use crate::keystore::P256PublicKey;
use der::asn1::{
    BitStringRef, GeneralizedTime, ObjectIdentifier, OctetStringRef, UintRef, UtcTime,
};
use der::{Decode, Reader, SliceReader, Tag, TagNumber};
use iot_core::crypto::Sha256;

/// The most certificates below the trust anchor that [`validate_chain`] accepts: the leaf and up
/// to two intermediate CAs.
pub const MAX_CHAIN_LEN: usize = 3;

/// keyUsage bits (RFC 5280 section 4.2.1.3), bit `n` of the ASN.1 BIT STRING as `1 << n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyUsage(pub u16);

impl KeyUsage {
    /// digitalSignature (0).
    pub const DIGITAL_SIGNATURE: Self = Self(1 << 0);
    /// nonRepudiation / contentCommitment (1).
    pub const NON_REPUDIATION: Self = Self(1 << 1);
    /// keyEncipherment (2).
    pub const KEY_ENCIPHERMENT: Self = Self(1 << 2);
    /// dataEncipherment (3).
    pub const DATA_ENCIPHERMENT: Self = Self(1 << 3);
    /// keyAgreement (4).
    pub const KEY_AGREEMENT: Self = Self(1 << 4);
    /// keyCertSign (5).
    pub const KEY_CERT_SIGN: Self = Self(1 << 5);
    /// cRLSign (6).
    pub const CRL_SIGN: Self = Self(1 << 6);
    /// encipherOnly (7).
    pub const ENCIPHER_ONLY: Self = Self(1 << 7);
    /// decipherOnly (8).
    pub const DECIPHER_ONLY: Self = Self(1 << 8);

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of bits.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// basicConstraints (RFC 5280 section 4.2.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BasicConstraints {
    /// cA.
    pub ca: bool,
    /// pathLenConstraint.
    pub path_len: Option<u32>,
}

/// A decoded certificate of the profile, borrowing from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Certificate<'a> {
    /// The whole certificate, DER.
    pub raw: &'a [u8],
    /// The DER `TBSCertificate` as received (what the signature covers).
    pub tbs_raw: &'a [u8],
    /// The version: 0 for v1, 2 for v3.
    pub version: u8,
    /// The serial number's content octets (positive, leading zero stripped).
    pub serial: &'a [u8],
    /// The issuer `Name`, DER.
    pub issuer_raw: &'a [u8],
    /// The subject `Name`, DER.
    pub subject_raw: &'a [u8],
    /// notBefore, seconds since the Unix epoch.
    pub not_before: u64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: u64,
    /// The subject's P-256 public key.
    pub public_key: P256PublicKey,
    /// basicConstraints, if present.
    pub basic_constraints: Option<BasicConstraints>,
    /// keyUsage, if present.
    pub key_usage: Option<KeyUsage>,
    /// The signature as `r || s`.
    pub signature: [u8; 64],
}

impl<'a> Certificate<'a> {
    /// Decodes a DER certificate: P-256 key, ecdsa-with-SHA256, no unknown critical extension.
    pub fn decode(input: &'a [u8]) -> Result<Self, X509Error> {
        let mut r = SliceReader::new(input)?;
        let (tbs_raw, outer_alg, signature) = r.sequence(|r| {
            let tbs = r.tlv_bytes()?;
            let alg = read_ecdsa_sha256_alg(r)?;
            let sig = read_ecdsa_signature(r)?;
            Ok::<_, X509Error>((tbs, alg, sig))
        })?;
        r.finish()?;
        let mut cert = decode_tbs(tbs_raw, outer_alg)?;
        cert.raw = input;
        cert.signature = signature;
        Ok(cert)
    }

    /// The subject's `commonName`, when it is text.
    pub fn common_name(&self) -> Result<Option<&'a str>, X509Error> {
        name_attribute(self.subject_raw, oid::COMMON_NAME)
    }

    /// The subject's `serialNumber` attribute (a device's UEID in hex, see [`super::CsrSubject`]).
    pub fn subject_serial_number(&self) -> Result<Option<&'a str>, X509Error> {
        name_attribute(self.subject_raw, oid::SERIAL_NUMBER)
    }

    /// Whether the certificate is valid at `now` (seconds since the Unix epoch).
    pub fn check_validity(&self, now: u64) -> Result<(), X509Error> {
        if now < self.not_before {
            Err(X509Error::NotYetValid)
        } else if now > self.not_after {
            Err(X509Error::Expired)
        } else {
            Ok(())
        }
    }

    /// Checks this certificate's signature under `issuer_key`.
    pub fn verify_signature<C: Sha256 + P256Verify + ?Sized>(
        &self,
        crypto: &mut C,
        issuer_key: &P256PublicKey,
    ) -> Result<(), X509Error> {
        let digest = crypto.sha256(self.tbs_raw);
        crypto
            .verify_p256(issuer_key, &digest, &self.signature)
            .map_err(|e| match e {
                iot_core::Error::InvalidKey => X509Error::UnsupportedKey,
                _ => X509Error::BadSignature,
            })
    }
}

const EXPLICIT_0: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber(0),
};
const IMPLICIT_1: Tag = Tag::ContextSpecific {
    constructed: false,
    number: TagNumber(1),
};
const IMPLICIT_2: Tag = Tag::ContextSpecific {
    constructed: false,
    number: TagNumber(2),
};
const EXPLICIT_3: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber(3),
};

fn decode_tbs<'a>(tbs: &'a [u8], outer_alg: &[u8]) -> Result<Certificate<'a>, X509Error> {
    let mut r = SliceReader::new(tbs)?;
    let cert = r.sequence(|r| {
        let mut version = 0u8;
        if Tag::peek(r)? == EXPLICIT_0 {
            let (_, v) = read_tlv(r)?;
            version = u8::from_der(v)?;
            // DER: the DEFAULT v1 is never written out.
            if version != 2 {
                return Err(X509Error::UnsupportedVersion);
            }
        }
        let serial = UintRef::decode(r)?.as_bytes();
        let inner_alg = read_ecdsa_sha256_alg(r)?;
        if inner_alg != outer_alg {
            return Err(X509Error::UnsupportedSignatureAlgorithm);
        }
        let issuer_raw = r.tlv_bytes()?;
        check_name(issuer_raw)?;
        let (not_before, not_after) =
            r.sequence(|r| Ok::<_, X509Error>((read_time(r)?, read_time(r)?)))?;
        let subject_raw = r.tlv_bytes()?;
        check_name(subject_raw)?;
        let public_key = read_p256_spki(r)?;
        let mut cert = Certificate {
            raw: &[],
            tbs_raw: tbs,
            version,
            serial,
            issuer_raw,
            subject_raw,
            not_before,
            not_after,
            public_key,
            basic_constraints: None,
            key_usage: None,
            signature: [0; 64],
        };
        for unique_id in [IMPLICIT_1, IMPLICIT_2] {
            if !r.is_finished() && Tag::peek(r)? == unique_id {
                if version != 2 {
                    return Err(X509Error::UnsupportedVersion);
                }
                read_tlv(r)?;
            }
        }
        if !r.is_finished() {
            let (h, exts) = read_tlv(r)?;
            if h.tag() != EXPLICIT_3 {
                return Err(X509Error::Malformed { offset: 0 });
            }
            if version != 2 {
                return Err(X509Error::UnsupportedVersion);
            }
            read_extensions(exts, &mut cert)?;
        }
        Ok::<_, X509Error>(cert)
    })?;
    r.finish()?;
    Ok(cert)
}

/// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` as Unix seconds.
fn read_time(r: &mut SliceReader<'_>) -> Result<u64, X509Error> {
    let t = match Tag::peek(r)? {
        Tag::UtcTime => UtcTime::decode(r)?.to_unix_duration(),
        Tag::GeneralizedTime => GeneralizedTime::decode(r)?.to_unix_duration(),
        _ => return Err(X509Error::Malformed { offset: 0 }),
    };
    Ok(t.as_secs())
}

/// The extensions this profile understands; every other one must not be critical.
const KNOWN: [ObjectIdentifier; 5] = [
    oid::BASIC_CONSTRAINTS,
    oid::KEY_USAGE,
    oid::SUBJECT_KEY_IDENTIFIER,
    oid::AUTHORITY_KEY_IDENTIFIER,
    oid::SUBJECT_ALT_NAME,
];

/// Reads `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension` (the content of `[3]`).
fn read_extensions(exts: &[u8], cert: &mut Certificate<'_>) -> Result<(), X509Error> {
    let mut seen = [false; KNOWN.len()];
    let mut r = SliceReader::new(exts)?;
    r.sequence(|r| {
        if r.is_finished() {
            return Err(X509Error::Malformed { offset: 0 });
        }
        while !r.is_finished() {
            r.sequence(|r| {
                let id = ObjectIdentifier::decode(r)?;
                let critical = if Tag::peek(r)? == Tag::Boolean {
                    bool::decode(r)?
                } else {
                    false
                };
                let value = <&OctetStringRef>::decode(r)?.as_bytes();
                let Some(i) = KNOWN.iter().position(|k| *k == id) else {
                    return if critical {
                        Err(X509Error::UnknownCriticalExtension)
                    } else {
                        Ok(())
                    };
                };
                let seen = seen.get_mut(i).ok_or(X509Error::Malformed { offset: 0 })?;
                if core::mem::replace(seen, true) {
                    return Err(X509Error::DuplicateExtension);
                }
                if id == oid::BASIC_CONSTRAINTS {
                    cert.basic_constraints = Some(read_basic_constraints(value)?);
                } else if id == oid::KEY_USAGE {
                    cert.key_usage = Some(read_key_usage(value)?);
                }
                Ok::<_, X509Error>(())
            })?;
        }
        Ok::<_, X509Error>(())
    })?;
    r.finish()?;
    Ok(())
}

/// `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }`
fn read_basic_constraints(value: &[u8]) -> Result<BasicConstraints, X509Error> {
    let mut r = SliceReader::new(value)?;
    let bc = r.sequence(|r| {
        let mut bc = BasicConstraints::default();
        if !r.is_finished() && Tag::peek(r)? == Tag::Boolean {
            bc.ca = bool::decode(r)?;
        }
        if !r.is_finished() {
            bc.path_len = Some(u32::decode(r)?);
        }
        Ok::<_, X509Error>(bc)
    })?;
    r.finish()?;
    Ok(bc)
}

/// `KeyUsage ::= BIT STRING`, bits 0..=8.
fn read_key_usage(value: &[u8]) -> Result<KeyUsage, X509Error> {
    let bits = BitStringRef::from_der(value)?;
    let mut ku = 0u16;
    for (i, bit) in bits.bits().enumerate() {
        if bit {
            if i > 8 {
                return Err(X509Error::Malformed { offset: 0 });
            }
            ku |= 1 << i;
        }
    }
    Ok(KeyUsage(ku))
}

/// A pinned trust anchor (RFC 5280 section 6.1.1 (d)): a name and a P-256 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustAnchor<'a> {
    /// The anchor's subject `Name`, DER: the issuer of the top certificate of a chain.
    pub subject_raw: &'a [u8],
    /// The anchor's key.
    pub public_key: P256PublicKey,
    /// The anchor's own certificate, when it was pinned as one: a chain that ends with this
    /// very certificate is accepted, the copy being ignored.
    pub certificate: Option<&'a [u8]>,
}

impl<'a> TrustAnchor<'a> {
    /// The anchor made of a (root) certificate's subject and key. Its extensions and validity
    /// are not checked: pinning is the trust decision (RFC 5280 section 6.1.1 (d)).
    pub fn from_certificate(der: &'a [u8]) -> Result<Self, X509Error> {
        let cert = Certificate::decode(der)?;
        Ok(Self {
            subject_raw: cert.subject_raw,
            public_key: cert.public_key,
            certificate: Some(der),
        })
    }
}

/// What [`validate_chain`] asks of the chain besides RFC 5280's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidationOptions {
    /// The time to check validity periods at, seconds since the Unix epoch (the device's clock,
    /// or the time of a trusted message).
    pub now: u64,
    /// The keyUsage bits the leaf must have when it carries keyUsage (default digitalSignature:
    /// a device key signs challenges and evidence).
    pub leaf_key_usage: KeyUsage,
}

impl ValidationOptions {
    /// Validation at `now` with a leaf for digital signatures.
    pub const fn at(now: u64) -> Self {
        Self {
            now,
            leaf_key_usage: KeyUsage::DIGITAL_SIGNATURE,
        }
    }
}

/// A chain that validated: its leaf and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidatedChain<'a> {
    /// The leaf (the device's certificate).
    pub leaf: Certificate<'a>,
    /// Certificates below the anchor, leaf included.
    pub len: usize,
}

/// Why a chain was refused: the reason, and which certificate (0 = the leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainError {
    /// The index in the chain of the certificate at fault (0 = leaf; for an empty or too long
    /// chain, 0).
    pub index: usize,
    /// The reason.
    pub reason: X509Error,
}

impl core::fmt::Display for ChainError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "certificate {}: {}", self.index, self.reason)
    }
}

impl core::error::Error for ChainError {}

/// Validates `chain` (DER certificates, leaf first, each issued by the next, the last issued by
/// `anchor`; it may end with the anchor's own certificate) at `options.now`.
///
/// For each certificate, from the anchor down (RFC 5280 section 6.1.3 and 6.1.4): the issuer
/// name equal, byte for byte, to the issuing subject (stricter than RFC 5280 section 7.1's
/// comparison rules, and what every CA that copies names produces); the signature
/// (ecdsa-with-SHA256, P-256) under the issuer's key; the validity period; no unknown critical
/// extension (checked when decoding). Every issuing certificate must have basicConstraints cA, keyUsage with keyCertSign,
/// and a pathLenConstraint (if any) no smaller than the number of CA certificates below it. The
/// leaf's keyUsage, when present, must contain `options.leaf_key_usage`. Revocation is not
/// checked here.
pub fn validate_chain<'a, C: Sha256 + P256Verify + ?Sized>(
    crypto: &mut C,
    chain: &[&'a [u8]],
    anchor: &TrustAnchor<'_>,
    options: &ValidationOptions,
) -> Result<ValidatedChain<'a>, ChainError> {
    let at = |index: usize| move |reason: X509Error| ChainError { index, reason };
    let chain = match (chain.split_last(), anchor.certificate) {
        (Some((last, rest)), Some(anchor_der)) if *last == anchor_der => rest,
        _ => chain,
    };
    if chain.is_empty() {
        return Err(at(0)(X509Error::EmptyChain));
    }
    if chain.len() > MAX_CHAIN_LEN {
        return Err(at(0)(X509Error::ChainTooLong));
    }
    let mut issuer_key = anchor.public_key;
    let mut issuer_name: &[u8] = anchor.subject_raw;
    let mut leaf = None;
    for (index, der) in chain.iter().enumerate().rev() {
        let err = at(index);
        let cert = Certificate::decode(der).map_err(err)?;
        if cert.issuer_raw != issuer_name {
            return Err(err(X509Error::IssuerMismatch));
        }
        cert.verify_signature(crypto, &issuer_key).map_err(err)?;
        cert.check_validity(options.now).map_err(err)?;
        if index > 0 {
            // An issuing CA: RFC 5280 section 6.1.4 (k), (l), (m), (n).
            let bc = cert.basic_constraints.ok_or(err(X509Error::NotCa))?;
            if !bc.ca {
                return Err(err(X509Error::NotCa));
            }
            if !cert
                .key_usage
                .is_some_and(|ku| ku.contains(KeyUsage::KEY_CERT_SIGN))
            {
                return Err(err(X509Error::KeyUsage));
            }
            // CA certificates below this one, not counting the leaf.
            let below = u32::try_from(index - 1).unwrap_or(u32::MAX);
            if bc.path_len.is_some_and(|max| below > max) {
                return Err(err(X509Error::PathLenExceeded));
            }
        } else if cert
            .key_usage
            .is_some_and(|ku| !ku.contains(options.leaf_key_usage))
        {
            return Err(err(X509Error::KeyUsage));
        }
        issuer_key = cert.public_key;
        issuer_name = cert.subject_raw;
        leaf = Some(cert);
    }
    let leaf = leaf.ok_or(at(0)(X509Error::EmptyChain))?;
    Ok(ValidatedChain {
        leaf,
        len: chain.len(),
    })
}
