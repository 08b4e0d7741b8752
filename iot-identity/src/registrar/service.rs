//! The registrar: a CA, an inventory store and an issuance policy, with the operations an
//! operator's tool or a cloud service calls.

use super::OsCrypto;
use super::ca::{CRL_LABEL, Ca, pem_encode};
use super::crl::{CrlOptions, write_crl};
use super::error::{Refusal, RegistrarError};
use super::inventory::{
    AttestationRecord, DeviceRecord, DeviceStatus, InventoryStore, RevokedEntry,
};
use super::issue::{Appraisal, EvidenceVerifier, IssuancePolicy, IssueRequest, check_request};
use crate::enrolment::verify_receipt;
use crate::revocation::RevocationListBuilder;
use crate::ueid::Ueid;
use crate::x509::Certificate;
use alloc::string::String;
use alloc::vec::Vec;
use iot_core::crypto::{Sha256, ct_eq};

/// A certificate the registrar issued, and what it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The device certificate, DER.
    pub certificate: Vec<u8>,
    /// The same binding as a CWT credential (see [`Ca::issue_credential`]).
    pub credential: Vec<u8>,
    /// The inventory record written for it.
    pub record: DeviceRecord,
    /// The appraisal of the evidence, when there was some.
    pub appraisal: Option<Appraisal>,
}

/// The registrar: its CA, its inventory `S` and its issuance policy.
pub struct Registrar<S> {
    pub(crate) ca: Ca,
    pub(crate) store: S,
    pub(crate) crypto: OsCrypto,
    policy: IssuancePolicy,
}

impl<S> core::fmt::Debug for Registrar<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registrar")
            .field("ca", &self.ca)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<S: InventoryStore> Registrar<S> {
    /// A registrar over `ca` and `store` with the default [`IssuancePolicy`], drawing serial
    /// numbers from the operating system.
    pub fn new(ca: Ca, store: S) -> Self {
        Self {
            ca,
            store,
            crypto: OsCrypto::from_os(),
            policy: IssuancePolicy::default(),
        }
    }

    /// The issuance policy.
    pub fn policy(&self) -> &IssuancePolicy {
        &self.policy
    }

    /// Replaces the issuance policy.
    pub fn set_policy(&mut self, policy: IssuancePolicy) {
        self.policy = policy;
    }

    /// The CA.
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// The inventory.
    pub fn inventory(&self) -> &S {
        &self.store
    }

    /// The inventory, to record attestation results, firmware versions or status changes.
    pub fn inventory_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Issues a device certificate and a CWT credential for `request` if it passes the policy
    /// (see [`Refusal`] for each reason to refuse) and the device is not revoked or
    /// decommissioned; records the
    /// device as [`DeviceStatus::Enrolled`] with the certificate's serial and fingerprint. A
    /// re-enrolment replaces the device's record (its previous certificate stays valid unless
    /// revoked). The certificate ends at the policy's validity or at the CA certificate's
    /// notAfter, whichever comes first. `verifier` appraises evidence.
    pub fn issue(
        &mut self,
        request: &IssueRequest<'_>,
        verifier: Option<&mut dyn EvidenceVerifier>,
    ) -> Result<Issued, RegistrarError> {
        let checked = check_request(&mut self.crypto, request, &self.policy, verifier)?;
        if let Some(existing) = self.store.get(&checked.ueid)?
            && !existing.status.may_enrol()
        {
            return Err(Refusal::DeviceStatus(existing.status).into());
        }
        let not_after = request
            .now
            .saturating_add(self.policy.validity_secs)
            .min(Certificate::decode(self.ca.certificate_der())?.not_after);
        let certificate = self.ca.issue_certificate(
            &mut self.crypto,
            checked.csr.subject_raw,
            &checked.csr.public_key,
            request.now,
            not_after,
        )?;
        let parsed = Certificate::decode(&certificate)?;
        let credential = self.ca.issue_credential(
            &mut self.crypto,
            &checked.ueid,
            &checked.csr.public_key,
            parsed.serial,
            request.now,
            not_after,
        )?;
        let appraisal = checked.appraisal;
        let pick = |from_evidence: Option<&String>, given: Option<&str>| {
            from_evidence.cloned().or_else(|| given.map(String::from))
        };
        let record = DeviceRecord {
            ueid: checked.ueid,
            model: pick(
                appraisal.as_ref().and_then(|a| a.model.as_ref()),
                request.model,
            ),
            serial: parsed.serial.to_vec(),
            fingerprint: self.crypto.sha256(&certificate),
            not_after: parsed.not_after,
            enrolled_at: request.now,
            firmware_version: pick(
                appraisal.as_ref().and_then(|a| a.firmware_version.as_ref()),
                request.firmware_version,
            ),
            status: DeviceStatus::Enrolled,
            last_attestation: appraisal.as_ref().map(|a| AttestationRecord {
                time: request.now,
                result: a.result.clone(),
            }),
        };
        self.store.upsert(&record)?;
        Ok(Issued {
            certificate,
            credential,
            record,
            appraisal,
        })
    }

    /// Revokes the certificate with `serial` (content octets, as [`Certificate::serial`]) at
    /// `now` and marks its device revoked.
    pub fn revoke_serial(
        &mut self,
        serial: &[u8],
        now: u64,
    ) -> Result<RevokedEntry, RegistrarError> {
        let device = self
            .store
            .get_by_serial(serial)?
            .ok_or(RegistrarError::NotFound)?;
        self.revoke_record(&device, now)
    }

    /// Revokes the current certificate of the device `ueid` at `now` and marks it revoked.
    pub fn revoke_ueid(&mut self, ueid: &Ueid, now: u64) -> Result<RevokedEntry, RegistrarError> {
        let device = self.store.get(ueid)?.ok_or(RegistrarError::NotFound)?;
        self.revoke_record(&device, now)
    }

    fn revoke_record(
        &mut self,
        device: &DeviceRecord,
        now: u64,
    ) -> Result<RevokedEntry, RegistrarError> {
        let entry = RevokedEntry {
            serial: device.serial.clone(),
            ueid: device.ueid,
            time: now,
        };
        self.store.revoke(&entry)?;
        Ok(entry)
    }

    /// Records a device's decommissioning: checks its receipt (from
    /// [`crate::enrolment::Device::decommission`], verified with
    /// [`crate::enrolment::verify_receipt`]) against `certificate`, which must be the device's
    /// current one in the inventory (same SHA-256 fingerprint) and name the receipt's UEID; then
    /// revokes it at `now` and marks the device [`DeviceStatus::Decommissioned`] (so it stays in
    /// the revocation lists and gets no new certificate). Returns the revocation.
    pub fn decommission(
        &mut self,
        receipt: &[u8],
        certificate: &[u8],
        now: u64,
    ) -> Result<RevokedEntry, RegistrarError> {
        let cert = Certificate::decode(certificate)?;
        let device = self
            .store
            .get_by_serial(cert.serial)?
            .ok_or(RegistrarError::NotFound)?;
        if !ct_eq(&self.crypto.sha256(certificate), &device.fingerprint) {
            return Err(Refusal::ReceiptCertificate.into());
        }
        let verified =
            verify_receipt(&mut self.crypto, receipt, certificate).map_err(Refusal::Receipt)?;
        if verified.ueid != device.ueid.as_bytes() {
            return Err(Refusal::UeidMismatch.into());
        }
        let entry = self.revoke_record(&device, now)?;
        self.store
            .set_status(&device.ueid, DeviceStatus::Decommissioned)?;
        Ok(entry)
    }

    /// Whether the certificate with `serial` is revoked.
    pub fn is_revoked(&self, serial: &[u8]) -> Result<bool, RegistrarError> {
        Ok(self.store.is_revoked(serial)?)
    }

    /// A DER CRL of every revocation, thisUpdate `now`, nextUpdate `next_update`; its cRLNumber
    /// is the next list version (so every CRL gets a larger number).
    pub fn crl(&mut self, now: u64, next_update: Option<u64>) -> Result<Vec<u8>, RegistrarError> {
        let revoked = self.store.revocations()?;
        let number = self.store.next_list_version()?;
        let options = CrlOptions {
            this_update: now,
            next_update,
            number,
        };
        write_crl(&mut self.crypto, &mut self.ca, &revoked, &options)
    }

    /// The signed CBOR revocation list (see [`crate::revocation`]) of every revocation: the
    /// revoked serials and the UEIDs of their devices (a revoked device is revoked whole: it
    /// gets no new certificate, and any older one it holds is refused too), issued at `now`,
    /// due again at `next_update`. Its version is the next list version, shared with
    /// [`Self::crl`]'s cRLNumber, so that every list a relying party sees is newer.
    pub fn revocation_list(
        &mut self,
        now: u64,
        next_update: Option<u64>,
    ) -> Result<Vec<u8>, RegistrarError> {
        let revoked = self.store.revocations()?;
        let serials: Vec<&[u8]> = revoked.iter().map(|r| r.serial.as_slice()).collect();
        let mut ueids: Vec<&[u8]> = Vec::new();
        for r in &revoked {
            if !ueids.contains(&r.ueid.as_bytes()) {
                ueids.push(r.ueid.as_bytes());
            }
        }
        let version = self.store.next_list_version()?;
        let list = RevocationListBuilder {
            next_update,
            serials: &serials,
            ueids: &ueids,
            ..RevocationListBuilder::new(version, now)
        };
        self.ca.sign_revocation_list(&mut self.crypto, &list)
    }

    /// [`Self::crl`] as PEM (`X509 CRL`, RFC 7468 section 6).
    pub fn crl_pem(
        &mut self,
        now: u64,
        next_update: Option<u64>,
    ) -> Result<String, RegistrarError> {
        let der = self.crl(now, next_update)?;
        pem_encode(CRL_LABEL, &der)
    }
}
