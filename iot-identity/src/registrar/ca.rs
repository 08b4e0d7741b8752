//! The registrar's certification authority: a P-256 key behind iot-core's [`Signer`] and its
//! self-signed certificate; certificates and CRLs are laid out by `x509-cert`'s builders and
//! signed here, ecdsa-with-SHA256 (RFC 5758 section 3.2).

use super::error::RegistrarError;
use crate::credential::{Claims, CwtBuilder, cnf_key};
use crate::key_pem::{self, PemKey};
use crate::keystore::P256PublicKey;
use crate::revocation::{MAX_SERIAL_LEN, RevocationListBuilder};
use crate::ueid::{MAX_UEID_LEN, Ueid};
use crate::x509::{MAX_NAME_ATTRIBUTE_LEN, TrustAnchor, X509Error, oid};
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use der::asn1::{Any, BitString, GeneralizedTime, UtcTime};
use der::pem::LineEnding;
use der::{Decode, Encode, Tag};
use iot_core::crypto::{P256SigningKey, Rng, Sha256, Signer};
use p256::ecdsa::signature::Keypair;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, SubjectPublicKeyInfoOwned,
    SubjectPublicKeyInfoRef,
};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, attr::AttributeTypeAndValue};
use zeroize::Zeroizing;

/// PEM label of a certificate (RFC 7468 section 5).
pub(crate) const CERTIFICATE_LABEL: &str = "CERTIFICATE";
/// PEM label of a CRL (RFC 7468 section 6).
pub(crate) const CRL_LABEL: &str = "X509 CRL";
/// Length of the random serial numbers this CA gives (RFC 5280 section 4.1.2.2: at most 20).
pub const SERIAL_LEN: usize = 16;
/// Room for a CWT credential of this CA: claims of at most a 64-character (256-byte) issuer, a
/// 66-character subject, three times, a 20-byte `cti` and a P-256 key (under 500 bytes), plus
/// the COSE_Sign1 around them (under 100).
const MAX_CREDENTIAL_LEN: usize = 640;
/// 2050-01-01T00:00:00Z: from then on validity dates are GeneralizedTime (RFC 5280 section
/// 4.1.2.5), before it UTCTime.
const YEAR_2050: u64 = 2_524_608_000;

/// A P-256 certification authority: its private key (zeroized on drop) and its certificate.
pub struct Ca {
    key: P256SigningKey,
    public_key: P256PublicKey,
    certificate: Certificate,
    certificate_der: Vec<u8>,
}

impl core::fmt::Debug for Ca {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ca")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// A fresh CA: a key from `crypto`'s random number generator and a self-signed v3
    /// certificate `CN=<common_name>` valid from `now` for `validity_secs` seconds, with
    /// basicConstraints cA (critical, no path length: a registrar may delegate to intermediates),
    /// keyUsage keyCertSign + cRLSign (critical), subjectKeyIdentifier and the matching
    /// authorityKeyIdentifier (RFC 5280 section 4.2.1).
    pub fn generate<C: Rng + Sha256>(
        crypto: &mut C,
        common_name: &str,
        now: u64,
        validity_secs: u64,
    ) -> Result<Self, RegistrarError> {
        let mut key = P256SigningKey::generate(crypto)?;
        let public_key = P256PublicKey::from_sec1(&key.verifying_key().to_sec1_uncompressed())
            .map_err(|_| RegistrarError::Key)?;
        let name = common_name_only(common_name)?;
        let profile = Profile {
            issuer: name.clone(),
            subject: name,
            ca: true,
        };
        let builder = CertificateBuilder::new(
            profile,
            random_serial(crypto)?,
            validity(now, validity_secs)?,
            spki(&public_key)?,
        )?;
        let certificate = sign(crypto, &mut key, &public_key, builder)?;
        let certificate_der = certificate.to_der()?;
        Ok(Self {
            key,
            public_key,
            certificate,
            certificate_der,
        })
    }

    /// The CA from its private key (PEM as [`crate::key_pem`] reads it: PKCS#8, RFC 5958, as
    /// the registrar writes it, or SEC1) and its certificate (PEM); the key must be the
    /// certificate's.
    pub fn from_pem(key_pem: &str, certificate_pem: &str) -> Result<Self, RegistrarError> {
        let PemKey::Private(key, _) = key_pem::decode(key_pem).map_err(|_| RegistrarError::Key)?
        else {
            return Err(RegistrarError::Key);
        };
        let certificate_der = pem_decode(CERTIFICATE_LABEL, certificate_pem)?;
        let certificate = Certificate::from_der(&certificate_der)?;
        let public_key = crate::x509::Certificate::decode(&certificate_der)?.public_key;
        if key.verifying_key().to_sec1_uncompressed() != *public_key.as_sec1() {
            return Err(RegistrarError::KeyMismatch);
        }
        Ok(Self {
            key,
            public_key,
            certificate,
            certificate_der,
        })
    }

    /// The private key as PKCS#8 (RFC 5958) PEM; keep it secret (the registrar folder writes it
    /// with mode 0600).
    pub fn key_pkcs8_pem(&self) -> Result<Zeroizing<String>, RegistrarError> {
        key_pem::private_pkcs8(&self.key).map_err(|_| RegistrarError::Key)
    }

    /// The CA certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The CA certificate, PEM.
    pub fn certificate_pem(&self) -> Result<String, RegistrarError> {
        pem_encode(CERTIFICATE_LABEL, &self.certificate_der)
    }

    /// The CA's public key.
    pub fn public_key(&self) -> &P256PublicKey {
        &self.public_key
    }

    /// The CA certificate as the trust anchor devices and verifiers pin.
    pub fn trust_anchor(&self) -> Result<TrustAnchor<'_>, X509Error> {
        TrustAnchor::from_certificate(&self.certificate_der)
    }

    /// The CA certificate, parsed.
    pub(crate) fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Issues an end-entity certificate for `public_key` named `subject` (a DER `Name`, copied
    /// byte for byte from the request): a random positive [`SERIAL_LEN`]-byte serial, validity
    /// `not_before..=not_after`, basicConstraints without cA (critical), keyUsage
    /// digitalSignature (critical), subjectKeyIdentifier and authorityKeyIdentifier (the CA's
    /// key identifier). Returns the DER certificate.
    pub fn issue_certificate<C: Rng + Sha256>(
        &mut self,
        crypto: &mut C,
        subject: &[u8],
        public_key: &P256PublicKey,
        not_before: u64,
        not_after: u64,
    ) -> Result<Vec<u8>, RegistrarError> {
        let validity = Validity::new(x509_time(not_before)?, x509_time(not_after)?);
        let profile = Profile {
            issuer: self.certificate.tbs_certificate().subject().clone(),
            subject: Name::from_der(subject)?,
            ca: false,
        };
        let builder =
            CertificateBuilder::new(profile, random_serial(crypto)?, validity, spki(public_key)?)?;
        let cert = sign(crypto, &mut self.key, &self.public_key, builder)?;
        Ok(cert.to_der()?)
    }

    /// Issues a CWT credential (RFC 8392, see [`crate::credential`]) for `public_key`: `iss` the
    /// CA's common name, `sub` the UEID in hex, `iat` and `nbf` `not_before`, `exp` `not_after`,
    /// `cti` the serial of the X.509 certificate issued with it, `cnf` the device key; a tagged
    /// COSE_Sign1 (ES256) by the CA key.
    pub fn issue_credential<C: Sha256>(
        &mut self,
        crypto: &mut C,
        ueid: &Ueid,
        public_key: &P256PublicKey,
        serial: &[u8],
        not_before: u64,
        not_after: u64,
    ) -> Result<Vec<u8>, RegistrarError> {
        let ca = crate::x509::Certificate::decode(&self.certificate_der)?;
        let sub = ueid.to_hex();
        let claims = Claims {
            iss: ca.common_name()?,
            sub: Some(sub.as_str()),
            iat: Some(not_before),
            nbf: Some(not_before),
            exp: Some(not_after),
            cti: Some(serial),
            ..Claims::new(cnf_key(public_key, None))
        };
        let mut scratch = [0u8; MAX_CREDENTIAL_LEN];
        let mut out = [0u8; MAX_CREDENTIAL_LEN];
        let n = CwtBuilder::new(iot_core::cose::Algorithm::Es256)
            .sign(crypto, &mut self.key, &claims, &mut scratch, &mut out)
            .map_err(RegistrarError::Credential)?;
        Ok(out.get(..n).unwrap_or_default().to_vec())
    }

    /// Signs a CBOR revocation list (see [`crate::revocation`]) with the CA key.
    pub(crate) fn sign_revocation_list<C: Sha256>(
        &mut self,
        crypto: &mut C,
        list: &RevocationListBuilder<'_>,
    ) -> Result<Vec<u8>, RegistrarError> {
        let payload_len =
            64 + list.serials.len() * (MAX_SERIAL_LEN + 1) + list.ueids.len() * (MAX_UEID_LEN + 2);
        let mut scratch = alloc::vec![0u8; payload_len];
        let mut out = alloc::vec![0u8; payload_len + 128];
        let n = list
            .sign(crypto, &mut self.key, &mut scratch, &mut out)
            .map_err(RegistrarError::Revocation)?;
        out.truncate(n);
        Ok(out)
    }

    /// Signs what `builder` lays out (a certificate or a CRL) with the CA key.
    pub(crate) fn sign<B: Builder, C: Sha256>(
        &mut self,
        crypto: &mut C,
        builder: B,
    ) -> Result<B::Output, RegistrarError> {
        sign(crypto, &mut self.key, &self.public_key, builder)
    }
}

/// The public half the builders ask for: the key (for the issuer's key identifier) and the
/// signature algorithm, ecdsa-with-SHA256 without parameters (RFC 5758 section 3.2).
struct PublicHalf(p256::PublicKey);

impl Keypair for PublicHalf {
    type VerifyingKey = p256::PublicKey;
    fn verifying_key(&self) -> Self::VerifyingKey {
        self.0
    }
}

impl DynSignatureAlgorithmIdentifier for PublicHalf {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: oid::ECDSA_WITH_SHA256,
            parameters: None,
        })
    }
}

/// Hashes what `builder` finalizes, signs the digest with `key` and assembles the result with
/// the DER `Ecdsa-Sig-Value` (RFC 3279 section 2.2.3).
fn sign<B: Builder, C: Sha256 + ?Sized>(
    crypto: &mut C,
    key: &mut P256SigningKey,
    public_key: &P256PublicKey,
    mut builder: B,
) -> Result<B::Output, RegistrarError> {
    let half = PublicHalf(
        p256::PublicKey::from_sec1_bytes(public_key.as_sec1()).map_err(|_| RegistrarError::Key)?,
    );
    let tbs = builder.finalize(&half)?;
    let digest = crypto.sha256(&tbs);
    let raw = key.sign_digest(&digest)?;
    let sig = p256::ecdsa::Signature::from_slice(&raw).map_err(|_| RegistrarError::Key)?;
    let bits = BitString::from_bytes(sig.to_der().as_bytes())?;
    Ok(builder.assemble(bits, &half)?)
}

/// The extensions of the two kinds of certificate this CA makes.
struct Profile {
    issuer: Name,
    subject: Name,
    ca: bool,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut exts = Vec::new();
        let bc = BasicConstraints {
            ca: self.ca,
            path_len_constraint: None,
        };
        exts.push(bc.to_extension(subject, &exts)?);
        let usage = if self.ca {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature.into()
        };
        exts.push(KeyUsage(usage).to_extension(subject, &exts)?);
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        exts.push(ski.to_extension(subject, &exts)?);
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(SubjectKeyIdentifier::try_from(issuer_spk)?.0),
            ..Default::default()
        };
        exts.push(aki.to_extension(subject, &exts)?);
        Ok(exts)
    }
}

/// `CN=<cn>` as a UTF8String, at most 64 characters (RFC 5280 Appendix A.1).
fn common_name_only(cn: &str) -> Result<Name, RegistrarError> {
    if cn.is_empty() || cn.chars().count() > MAX_NAME_ATTRIBUTE_LEN {
        return Err(X509Error::InvalidName.into());
    }
    let atv = AttributeTypeAndValue {
        oid: oid::COMMON_NAME,
        value: Any::new(Tag::Utf8String, cn.as_bytes())?,
    };
    let mut rdns = RdnSequence::default();
    rdns.push(RelativeDistinguishedName::try_from(alloc::vec![atv])?);
    Ok(Name::from_der(&rdns.to_der()?)?)
}

/// A P-256 key as a `SubjectPublicKeyInfo` (RFC 5480 section 2).
fn spki(key: &P256PublicKey) -> Result<SubjectPublicKeyInfoOwned, RegistrarError> {
    let vk =
        p256::PublicKey::from_sec1_bytes(key.as_sec1()).map_err(|_| X509Error::UnsupportedKey)?;
    Ok(SubjectPublicKeyInfoOwned::from_key(&vk).map_err(|_| X509Error::UnsupportedKey)?)
}

/// A random positive serial of [`SERIAL_LEN`] bytes, its top byte in `0x40..=0x7f` so that the
/// DER INTEGER has exactly that many content octets (RFC 5280 section 4.1.2.2).
fn random_serial<C: Rng + ?Sized>(crypto: &mut C) -> Result<SerialNumber, RegistrarError> {
    let mut bytes = [0u8; SERIAL_LEN];
    crypto.fill_random(&mut bytes)?;
    if let Some(top) = bytes.first_mut() {
        *top = (*top & 0x3f) | 0x40;
    }
    Ok(SerialNumber::new(&bytes)?)
}

/// `notBefore = now`, `notAfter = now + validity_secs`.
fn validity(now: u64, validity_secs: u64) -> Result<Validity, RegistrarError> {
    Ok(Validity::new(
        x509_time(now)?,
        x509_time(now.saturating_add(validity_secs))?,
    ))
}

/// Unix seconds as UTCTime before 2050, GeneralizedTime from then on (RFC 5280 section 4.1.2.5).
pub(crate) fn x509_time(secs: u64) -> Result<Time, RegistrarError> {
    let d = Duration::from_secs(secs);
    Ok(if secs < YEAR_2050 {
        Time::UtcTime(UtcTime::from_unix_duration(d)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d)?)
    })
}

/// `der` as PEM with `label` (RFC 7468), LF line endings.
pub fn pem_encode(label: &str, der: &[u8]) -> Result<String, RegistrarError> {
    der::pem::encode_string(label, LineEnding::LF, der).map_err(|_| RegistrarError::Pem)
}

/// The DER inside a PEM text whose label must be `label` (RFC 7468).
pub fn pem_decode(label: &str, text: &str) -> Result<Vec<u8>, RegistrarError> {
    let (found, der) = der::pem::decode_vec(text.as_bytes()).map_err(|_| RegistrarError::Pem)?;
    if found != label {
        return Err(RegistrarError::Pem);
    }
    Ok(der)
}
