//! The registrar (feature `registrar`, std): the operator's side of device identity.
//!
//! - [`Ca`]: a P-256 certification authority whose key signs through iot-core's
//!   [`Signer`](iot_core::crypto::Signer); its self-signed certificate has basicConstraints cA,
//!   keyUsage keyCertSign + cRLSign and a subject key identifier (RFC 5280 section 4.2.1).
//! - Issuance ([`IssueRequest`], [`Registrar::issue`]): a PKCS#10 request (RFC 2986) whose
//!   self-signature verifies (proof of possession, section 3), optionally a fresh challenge signed
//!   by the same key, and optionally attestation evidence appraised by the caller's
//!   [`EvidenceVerifier`] with intended use 4, certificate issuance (RFC 9711 section 4.3.3),
//!   gives an end-entity certificate (random 16-byte serial, keyUsage digitalSignature, SKI/AKI)
//!   that [`crate::x509::validate_chain`] and OpenSSL accept.
//! - The inventory ([`InventoryStore`]): UEID, model, certificate serial and SHA-256
//!   fingerprint, firmware version, lifecycle status, last attestation result; kept in memory
//!   ([`MemoryInventory`]) or in SQLite (`SqliteInventory`, feature `sqlite`), or in a service's
//!   own database through the trait.
//! - Revocation by serial or UEID, published as a DER CRL (RFC 5280 section 5, v2, cRLNumber)
//!   whose number is the registrar's monotonically increasing list version.
//!
//! A registrar folder ([`Registrar::init`] / [`Registrar::open`], feature `sqlite`) holds
//! [`CA_KEY_FILE`] (PKCS#8 PEM, mode 0600), [`CA_CERT_FILE`] (PEM) and [`INVENTORY_FILE`]
//! (SQLite: devices, revocations and the list version).

mod ca;
mod crl;
mod error;
#[cfg(feature = "sqlite")]
mod folder;
mod inventory;
mod issue;
mod service;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use ca::{Ca, SERIAL_LEN, pem_decode, pem_encode};
pub use crl::{CrlOptions, write_crl};
pub use error::{Refusal, RegistrarError};
#[cfg(feature = "sqlite")]
pub use folder::{CA_CERT_FILE, CA_KEY_FILE, INVENTORY_FILE};
pub use inventory::{
    AttestationRecord, DeviceRecord, DeviceStatus, InventoryStore, MemoryInventory, RevokedEntry,
    StoreError,
};
pub use issue::{
    Appraisal, EvidenceContext, EvidenceVerifier, INTENDED_USE_CERTIFICATE_ISSUANCE,
    IssuancePolicy, IssueRequest, PossessionProof,
};
pub use service::{Issued, Registrar};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteInventory;

/// The operating system's RustCrypto backend the registrar draws serials and keys from.
pub type OsCrypto = iot_core::crypto::RustCrypto<getrandom::SysRng>;
