//! The registrar (feature `registrar`, std): the operator's side of device identity.
//!
//! - [`Ca`]: a P-256 certification authority whose key signs through iot-core's
//!   [`Signer`](iot_core::crypto::Signer); its self-signed certificate has basicConstraints cA,
//!   keyUsage keyCertSign + cRLSign and subject/authority key identifiers (RFC 5280 section
//!   4.2.1). Certificates and CRLs are laid out with `x509-cert`'s builders.
//! - Issuance ([`Registrar::issue`]): a PKCS#10 request (RFC 2986) whose self-signature
//!   verifies (proof of possession, section 3), optionally a fresh challenge signed by the same
//!   key ([`PossessionProof`]), and optionally attestation evidence appraised by the caller's
//!   [`EvidenceVerifier`] that names intended use 4, certificate issuance (RFC 9711 section
//!   4.3.3), give an end-entity certificate (random 16-byte serial, keyUsage digitalSignature,
//!   SKI/AKI) that [`crate::x509::validate_chain`] and OpenSSL accept, and a CWT credential
//!   ([`crate::credential`]) for the same key. A refusal carries a typed [`Refusal`] and
//!   changes nothing.
//! - The inventory ([`InventoryStore`]): UEID, model, certificate serial and SHA-256
//!   fingerprint, firmware version, lifecycle status, last attestation result; kept in memory
//!   ([`MemoryInventory`]), in SQLite (`SqliteInventory`, feature `sqlite`), or in a service's
//!   own database through the trait.
//! - Revocation by serial or UEID ([`Registrar::revoke_serial`], [`Registrar::revoke_ueid`]),
//!   published as the signed CBOR list devices and gateways check
//!   ([`Registrar::revocation_list`], [`crate::revocation`]) and as a DER or PEM CRL (RFC 5280
//!   section 5, v2, [`Registrar::crl`]); both carry the registrar's list version, which only
//!   grows and is kept in the store.
//!
//! A registrar folder ([`Registrar::init`] / [`Registrar::open`], feature `sqlite`) holds
//! `ca-key.pem` (PKCS#8 PEM, mode 0600), `ca-cert.pem` (PEM), `inventory.sqlite` (devices,
//! revocations and the list version) and, when issuance requires evidence
//! ([`Registrar::set_require_evidence`]), an empty `require-evidence`. `RegistrarRecords` opens
//! the certificate and the inventory without the CA key.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use iot_core::crypto::RustCrypto;
//! use iot_identity::keystore::{KeySlot, KeyStore, SoftwareKeyStore, StoreSigner};
//! use iot_identity::registrar::{IssueRequest, Registrar};
//! use iot_identity::ueid::{RandLen, Ueid};
//! use iot_identity::x509::{CsrSubject, TrustAnchor, ValidationOptions, validate_chain, write_csr};
//!
//! let now = 1_767_225_600; // the caller's clock
//! let dir = tempfile::tempdir()?;
//! let mut registrar = Registrar::init(dir.path(), "fleet CA", now, 10 * 365 * 86_400)?;
//!
//! // A device makes a CSR with its key store...
//! let mut crypto = RustCrypto::from_os();
//! let mut store = SoftwareKeyStore::<_, 1>::new(RustCrypto::from_os(), &[7; 16])?;
//! let public = store.generate(KeySlot(0))?;
//! let ueid = Ueid::random(&mut crypto, RandLen::Bits128)?;
//! let mut csr = [0u8; 400];
//! let subject = CsrSubject { ueid: &ueid, common_name: None };
//! let mut signer = StoreSigner::new(&mut store, KeySlot(0));
//! let n = write_csr(&mut crypto, &mut signer, &public, &subject, &mut csr)?;
//!
//! // ...the registrar issues...
//! let issued = registrar.issue(&IssueRequest::new(&csr[..n], now), None)?;
//!
//! // ...and the certificate chains to the CA until it is revoked.
//! let anchor = TrustAnchor::from_certificate(registrar.ca().certificate_der())?;
//! validate_chain(&mut crypto, &[&issued.certificate], &anchor, &ValidationOptions::at(now))?;
//! registrar.revoke_ueid(&ueid, now)?;
//! let crl_pem = registrar.crl_pem(now, None)?;
//! let cbor_list = registrar.revocation_list(now, None)?;
//! # let _ = (crl_pem, cbor_list);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sqlite"))]
//! # fn main() {}
//! ```
// The module docs name the folder-backed registrar, which needs `sqlite`.
#![cfg_attr(not(feature = "sqlite"), allow(rustdoc::broken_intra_doc_links))]

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
pub use folder::{
    CA_CERT_FILE, CA_KEY_FILE, INVENTORY_FILE, REQUIRE_EVIDENCE_FILE, RegistrarRecords,
};
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
