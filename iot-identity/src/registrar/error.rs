//! Why the registrar refused a request or failed.

use super::inventory::{DeviceStatus, StoreError};
use crate::credential::CredentialError;
use crate::enrolment::EnrolmentError;
use crate::revocation::RevocationError;
use crate::x509::X509Error;
use alloc::string::String;
use core::fmt;

/// Why a certificate request was refused: a typed reason, nothing issued, nothing stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The request is not a PKCS#10 request of the profile (DER, P-256, ecdsa-with-SHA256).
    MalformedCsr(X509Error),
    /// The request's self-signature does not verify under its own key: it was altered, or the
    /// requester does not hold the key (RFC 2986 section 3).
    CsrSignature,
    /// The policy asks for a signed challenge and none came.
    PossessionProofMissing,
    /// The challenge signature is not a COSE_Sign1 over the challenge by the requested key.
    PossessionProof,
    /// Neither the request's subject `serialNumber` nor the caller named the device's UEID.
    UeidMissing,
    /// The request's subject `serialNumber` is not a valid UEID (RFC 9711 section 4.2.1) in
    /// upper-case hex.
    InvalidUeid,
    /// The caller's UEID and the request's (or the evidence's) differ.
    UeidMismatch,
    /// The device is revoked or decommissioned in the inventory and gets no new certificate.
    DeviceStatus(DeviceStatus),
    /// The policy asks for attestation evidence and none came (or no verifier was given).
    EvidenceMissing,
    /// The caller's verifier refused the evidence: its reason.
    EvidenceRejected(String),
    /// The appraised evidence does not name intended use 4, certificate issuance (RFC 9711
    /// section 4.3.3).
    EvidenceIntendedUse(Option<u64>),
    /// The appraised evidence does not carry the challenge as its nonce.
    EvidenceNonce,
    /// A decommissioning receipt that does not verify under the device's certificate.
    Receipt(EnrolmentError),
    /// The certificate given with a receipt is not the device's current one in the inventory.
    ReceiptCertificate,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedCsr(e) => write!(f, "malformed certificate request: {e}"),
            Self::CsrSignature => f.write_str("certificate request signature does not verify"),
            Self::PossessionProofMissing => f.write_str("no proof of possession"),
            Self::PossessionProof => f.write_str("proof of possession does not verify"),
            Self::UeidMissing => f.write_str("no UEID in the request"),
            Self::InvalidUeid => f.write_str("request serialNumber is not a UEID in hex"),
            Self::UeidMismatch => f.write_str("UEID does not match"),
            Self::DeviceStatus(s) => write!(f, "device is {}", s.as_str()),
            Self::EvidenceMissing => f.write_str("attestation evidence required"),
            Self::EvidenceRejected(why) => write!(f, "attestation evidence rejected: {why}"),
            Self::EvidenceIntendedUse(u) => {
                write!(
                    f,
                    "evidence intended use {u:?}, not 4 (certificate issuance)"
                )
            }
            Self::EvidenceNonce => f.write_str("evidence nonce is not the challenge"),
            Self::Receipt(e) => write!(f, "decommissioning receipt: {e}"),
            Self::ReceiptCertificate => {
                f.write_str("certificate is not the device's current one in the inventory")
            }
        }
    }
}

/// Errors of the registrar.
#[derive(Debug)]
#[non_exhaustive]
pub enum RegistrarError {
    /// A request refused, with the reason.
    Refused(Refusal),
    /// The device, serial or certificate named is not in the inventory.
    NotFound,
    /// The folder already holds a registrar ([`super::Registrar::init`] never overwrites).
    AlreadyExists,
    /// A CA key that is not a P-256 PKCS#8 key.
    Key,
    /// The CA key is not the CA certificate's.
    KeyMismatch,
    /// A PEM text that does not decode, or has another label.
    Pem,
    /// A certificate, request or name the X.509 code refused.
    X509(X509Error),
    /// DER encoding or decoding failed.
    Der(der::Error),
    /// A certificate or CRL builder failed: its message.
    Builder(String),
    /// The crypto backend (random numbers, signing) failed.
    Core(iot_core::Error),
    /// A CWT credential could not be made.
    Credential(CredentialError),
    /// A revocation list could not be made.
    Revocation(RevocationError),
    /// The inventory store failed.
    Store(StoreError),
    /// Reading or writing the registrar folder failed.
    Io(std::io::Error),
}

impl fmt::Display for RegistrarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(r) => write!(f, "refused: {r}"),
            Self::NotFound => f.write_str("not in the inventory"),
            Self::AlreadyExists => f.write_str("the folder already holds a registrar"),
            Self::Key => f.write_str("CA key is not a P-256 PKCS#8 key"),
            Self::KeyMismatch => f.write_str("CA key does not match the CA certificate"),
            Self::Pem => f.write_str("PEM does not decode or has another label"),
            Self::X509(e) => e.fmt(f),
            Self::Der(e) => e.fmt(f),
            Self::Builder(e) => write!(f, "certificate builder: {e}"),
            Self::Core(e) => e.fmt(f),
            Self::Credential(e) => e.fmt(f),
            Self::Revocation(e) => e.fmt(f),
            Self::Store(e) => e.fmt(f),
            Self::Io(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for RegistrarError {}

impl From<Refusal> for RegistrarError {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<X509Error> for RegistrarError {
    fn from(e: X509Error) -> Self {
        Self::X509(e)
    }
}

impl From<der::Error> for RegistrarError {
    fn from(e: der::Error) -> Self {
        Self::Der(e)
    }
}

impl From<x509_cert::builder::Error> for RegistrarError {
    fn from(e: x509_cert::builder::Error) -> Self {
        Self::Builder(alloc::format!("{e}"))
    }
}

impl From<iot_core::Error> for RegistrarError {
    fn from(e: iot_core::Error) -> Self {
        Self::Core(e)
    }
}

impl From<StoreError> for RegistrarError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            e => Self::Store(e),
        }
    }
}

impl From<std::io::Error> for RegistrarError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
