//! The registrar: CA, issuance from our CSRs with proof of possession and evidence, refusals
//! with typed reasons (nothing recorded), revocation, CRLs, the inventory stores (memory and
//! SQLite) and the registrar folder.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use der::{Decode, Encode};
use iot_core::cose::{Algorithm, Sign1Builder};
use iot_core::crypto::{RustCrypto, Sha256};
use iot_identity::enrolment::POSSESSION_AAD;
use iot_identity::keystore::{KeySlot, KeyStore, SoftwareKeyStore, StoreSigner};
use iot_identity::registrar::{
    Appraisal, AttestationRecord, CA_CERT_FILE, CA_KEY_FILE, Ca, DeviceRecord, DeviceStatus,
    EvidenceContext, INVENTORY_FILE, InventoryStore, IssuancePolicy, IssueRequest, MemoryInventory,
    PossessionProof, REQUIRE_EVIDENCE_FILE, Refusal, Registrar, RegistrarError, RegistrarRecords,
    RevokedEntry, SqliteInventory, StoreError,
};
use iot_identity::ueid::{RandLen, Ueid};
use iot_identity::x509::{
    Certificate, KeyUsage, P256Verify, TrustAnchor, ValidationOptions, X509Error, validate_chain,
};

/// 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;
const DAY: u64 = 86_400;
const SLOT: KeySlot = KeySlot(0);

type Crypto = RustCrypto<getrandom::SysRng>;

fn crypto() -> Crypto {
    RustCrypto::from_os()
}

/// A device: its key store (with one key) and its UEID.
struct TestDevice {
    store: SoftwareKeyStore<Crypto, 1>,
    ueid: Ueid,
}

impl TestDevice {
    fn new() -> Self {
        let mut store = SoftwareKeyStore::new(crypto(), &[7u8; 16]).unwrap();
        store.generate(SLOT).unwrap();
        Self {
            store,
            ueid: Ueid::random(&mut crypto(), RandLen::Bits128).unwrap(),
        }
    }

    fn csr(&mut self) -> Vec<u8> {
        common::csr(
            &mut self.store,
            SLOT,
            &self.ueid,
            Some("registrar test device"),
        )
    }

    /// The answer to `challenge`: COSE_Sign1 with POSSESSION_AAD by the device key.
    fn prove(&mut self, challenge: &[u8]) -> Vec<u8> {
        let mut out = [0u8; 200];
        let n = Sign1Builder::new(Algorithm::Es256)
            .sign(
                &mut crypto(),
                &mut StoreSigner::new(&mut self.store, SLOT),
                challenge,
                POSSESSION_AAD,
                &mut out,
            )
            .unwrap();
        out[..n].to_vec()
    }
}

fn registrar() -> Registrar<MemoryInventory> {
    let ca = Ca::generate(&mut crypto(), "iot registrar test CA", NOW, 3650 * DAY).unwrap();
    Registrar::new(ca, MemoryInventory::new())
}

fn validate(anchor_der: &[u8], chain: &[&[u8]], now: u64) -> Result<usize, (usize, X509Error)> {
    let anchor = TrustAnchor::from_certificate(anchor_der).unwrap();
    validate_chain(&mut crypto(), chain, &anchor, &ValidationOptions::at(now))
        .map(|v| v.len)
        .map_err(|e| (e.index, e.reason))
}

fn refusal(r: Result<impl std::fmt::Debug, RegistrarError>) -> Refusal {
    match r {
        Err(RegistrarError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn ca_certificate_is_a_self_signed_ca_for_certificates_and_crls() {
    let reg = registrar();
    let der = reg.ca().certificate_der();
    let cert = Certificate::decode(der).unwrap();
    assert_eq!(cert.issuer_raw, cert.subject_raw);
    assert_eq!(cert.common_name().unwrap(), Some("iot registrar test CA"));
    assert!(cert.basic_constraints.unwrap().ca);
    assert_eq!(
        cert.key_usage,
        Some(KeyUsage::KEY_CERT_SIGN.union(KeyUsage::CRL_SIGN))
    );
    assert_eq!(cert.not_before, NOW);
    assert_eq!(cert.not_after, NOW + 3650 * DAY);
    assert_eq!(&cert.public_key, reg.ca().public_key());
    cert.verify_signature(&mut crypto(), &cert.public_key)
        .unwrap();
    // SKI and AKI are there and equal (x509-cert's view).
    let parsed = x509_cert::Certificate::from_der(der).unwrap();
    let exts = parsed.tbs_certificate().extensions().unwrap();
    let ski = exts
        .iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.14")
        .unwrap();
    let aki = exts
        .iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.35")
        .unwrap();
    assert!(
        aki.extn_value
            .as_bytes()
            .ends_with(&ski.extn_value.as_bytes()[2..])
    );
}

#[test]
fn issued_certificate_chains_to_the_ca_and_is_recorded() {
    let mut reg = registrar();
    let mut dev = TestDevice::new();
    let csr = dev.csr();
    let mut req = IssueRequest::new(&csr, NOW);
    req.model = Some("sensor-v2");
    req.firmware_version = Some("1.4.0");
    let issued = reg.issue(&req, None).unwrap();
    let ca_der = reg.ca().certificate_der().to_vec();

    // Our validator: alone under the anchor, and with the anchor's certificate appended.
    assert_eq!(validate(&ca_der, &[&issued.certificate], NOW + DAY), Ok(1));
    assert_eq!(
        validate(&ca_der, &[&issued.certificate, &ca_der], NOW),
        Ok(1)
    );
    // Validity follows the caller's time and the policy.
    let five_years = IssuancePolicy::default().validity_secs;
    assert_eq!(
        validate(&ca_der, &[&issued.certificate], NOW - 1),
        Err((0, X509Error::NotYetValid))
    );
    assert_eq!(
        validate(&ca_der, &[&issued.certificate], NOW + five_years + 1),
        Err((0, X509Error::Expired))
    );
    // Another CA does not anchor it: same name, other key; or another name.
    let same_name = registrar();
    assert_eq!(
        validate(
            same_name.ca().certificate_der(),
            &[&issued.certificate],
            NOW
        ),
        Err((0, X509Error::BadSignature))
    );
    let other = Ca::generate(&mut crypto(), "another CA", NOW, DAY).unwrap();
    assert_eq!(
        validate(other.certificate_der(), &[&issued.certificate], NOW),
        Err((0, X509Error::IssuerMismatch))
    );

    let cert = Certificate::decode(&issued.certificate).unwrap();
    assert_eq!(cert.public_key, dev.store.public_key(SLOT).unwrap());
    assert_eq!(cert.serial.len(), 16);
    assert!(cert.serial[0] & 0x80 == 0, "serial must be positive");
    assert_eq!(cert.key_usage, Some(KeyUsage::DIGITAL_SIGNATURE));
    assert!(!cert.basic_constraints.unwrap().ca);
    assert_eq!(
        cert.subject_serial_number().unwrap(),
        Some(dev.ueid.to_hex().as_str())
    );
    assert_eq!(cert.common_name().unwrap(), Some("registrar test device"));

    let rec = reg.inventory().get(&dev.ueid).unwrap().unwrap();
    assert_eq!(rec, issued.record);
    assert_eq!(rec.serial, cert.serial);
    assert_eq!(rec.fingerprint, crypto().sha256(&issued.certificate));
    assert_eq!(rec.status, DeviceStatus::Enrolled);
    assert_eq!(rec.model.as_deref(), Some("sensor-v2"));
    assert_eq!(rec.firmware_version.as_deref(), Some("1.4.0"));
    assert_eq!(rec.not_after, NOW + five_years);
    assert_eq!(
        reg.inventory()
            .get_by_serial(cert.serial)
            .unwrap()
            .unwrap()
            .ueid,
        dev.ueid
    );

    // Two issuances never share a serial.
    let again = reg.issue(&req, None).unwrap();
    assert_ne!(again.record.serial, rec.serial);
    // A certificate never outlives its CA.
    reg.set_policy(IssuancePolicy {
        validity_secs: 100 * 365 * DAY,
        ..IssuancePolicy::default()
    });
    let capped = reg.issue(&req, None).unwrap();
    assert_eq!(capped.record.not_after, NOW + 3650 * DAY);
}

#[test]
fn tampered_or_malformed_requests_are_refused_and_nothing_is_recorded() {
    let mut reg = registrar();
    let mut dev = TestDevice::new();
    let csr = dev.csr();

    // One byte of the common name changed: DER still fine, signature broken.
    let at = csr
        .windows(b"registrar".len())
        .position(|w| w == b"registrar")
        .unwrap();
    let mut tampered = csr.clone();
    tampered[at] ^= 0x20;
    assert_eq!(
        refusal(reg.issue(&IssueRequest::new(&tampered, NOW), None)),
        Refusal::CsrSignature
    );
    // A flipped signature bit.
    let mut bad_sig = csr.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    assert_eq!(
        refusal(reg.issue(&IssueRequest::new(&bad_sig, NOW), None)),
        Refusal::CsrSignature
    );
    // Truncated.
    assert!(matches!(
        refusal(reg.issue(&IssueRequest::new(&csr[..csr.len() - 3], NOW), None)),
        Refusal::MalformedCsr(X509Error::Malformed { .. })
    ));
    // A UEID from the caller that is not the one in the request.
    let mut req = IssueRequest::new(&csr, NOW);
    req.ueid = Some(Ueid::random(&mut crypto(), RandLen::Bits128).unwrap());
    assert_eq!(refusal(reg.issue(&req, None)), Refusal::UeidMismatch);
    assert!(reg.inventory().list().unwrap().is_empty());
}

#[test]
fn challenge_signature_is_checked_when_given_or_required() {
    let mut reg = registrar();
    reg.set_policy(IssuancePolicy {
        require_possession_proof: true,
        ..IssuancePolicy::default()
    });
    let mut dev = TestDevice::new();
    let csr = dev.csr();
    assert_eq!(
        refusal(reg.issue(&IssueRequest::new(&csr, NOW), None)),
        Refusal::PossessionProofMissing
    );

    let challenge = [0x5au8; 32];
    let proof = dev.prove(&challenge);
    let mut req = IssueRequest::new(&csr, NOW);
    // Signed for another challenge.
    let other = [0xa5u8; 32];
    req.possession = Some(PossessionProof {
        challenge: &other,
        proof: &proof,
    });
    assert_eq!(refusal(reg.issue(&req, None)), Refusal::PossessionProof);
    // Signed by another key.
    let mut stranger = TestDevice::new();
    let forged = stranger.prove(&challenge);
    req.possession = Some(PossessionProof {
        challenge: &challenge,
        proof: &forged,
    });
    assert_eq!(refusal(reg.issue(&req, None)), Refusal::PossessionProof);
    assert!(reg.inventory().list().unwrap().is_empty());

    req.possession = Some(PossessionProof {
        challenge: &challenge,
        proof: &proof,
    });
    reg.issue(&req, None).unwrap();
}

#[test]
fn evidence_must_be_appraised_for_certificate_issuance() {
    let mut reg = registrar();
    reg.set_policy(IssuancePolicy {
        require_evidence: true,
        ..IssuancePolicy::default()
    });
    let mut dev = TestDevice::new();
    let csr = dev.csr();
    let challenge = [1u8; 16];
    let proof = dev.prove(&challenge);
    let ueid = dev.ueid;
    let evidence = b"an EAT the caller's verifier understands";

    // A verifier that reports what it is told to, and checks what the registrar asks of it.
    let answer = |intended_use: Option<u64>, ueid: Vec<u8>, nonce: Vec<u8>| {
        move |ev: &[u8], ctx: &EvidenceContext<'_>| -> Result<Appraisal, String> {
            assert_eq!(ev, evidence);
            assert_eq!(ctx.intended_use, 4);
            assert_eq!(ctx.nonce, Some(&challenge[..]));
            Ok(Appraisal {
                result: "affirming".into(),
                intended_use,
                ueid: Some(ueid.clone()),
                nonce: Some(nonce.clone()),
                firmware_version: Some("2.0.1".into()),
                model: Some("from-evidence".into()),
            })
        }
    };
    let mut req = IssueRequest::new(&csr, NOW);
    req.possession = Some(PossessionProof {
        challenge: &challenge,
        proof: &proof,
    });
    req.firmware_version = Some("claimed-by-device");
    assert_eq!(refusal(reg.issue(&req, None)), Refusal::EvidenceMissing);
    req.evidence = Some(evidence);
    assert_eq!(refusal(reg.issue(&req, None)), Refusal::EvidenceMissing);

    let ok = || answer(Some(4), ueid.as_bytes().to_vec(), challenge.to_vec());
    let mut wrong_use = answer(Some(1), ueid.as_bytes().to_vec(), challenge.to_vec());
    let mut no_use = answer(None, ueid.as_bytes().to_vec(), challenge.to_vec());
    let mut wrong_ueid = answer(Some(4), vec![1; 17], challenge.to_vec());
    let mut wrong_nonce = answer(Some(4), ueid.as_bytes().to_vec(), vec![2; 16]);
    let mut refusing =
        |_: &[u8], _: &EvidenceContext<'_>| Err::<Appraisal, _>("bad signature".to_string());
    assert_eq!(
        refusal(reg.issue(&req, Some(&mut wrong_use))),
        Refusal::EvidenceIntendedUse(Some(1))
    );
    assert_eq!(
        refusal(reg.issue(&req, Some(&mut no_use))),
        Refusal::EvidenceIntendedUse(None)
    );
    assert_eq!(
        refusal(reg.issue(&req, Some(&mut wrong_ueid))),
        Refusal::UeidMismatch
    );
    assert_eq!(
        refusal(reg.issue(&req, Some(&mut wrong_nonce))),
        Refusal::EvidenceNonce
    );
    assert_eq!(
        refusal(reg.issue(&req, Some(&mut refusing))),
        Refusal::EvidenceRejected("bad signature".into())
    );
    assert!(reg.inventory().list().unwrap().is_empty());

    let issued = reg.issue(&req, Some(&mut ok())).unwrap();
    let rec = reg.inventory().get(&ueid).unwrap().unwrap();
    assert_eq!(rec.firmware_version.as_deref(), Some("2.0.1"));
    assert_eq!(rec.model.as_deref(), Some("from-evidence"));
    assert_eq!(
        rec.last_attestation,
        Some(AttestationRecord {
            time: NOW,
            result: "affirming".into()
        })
    );
    assert_eq!(issued.appraisal.unwrap().intended_use, Some(4));
}

#[test]
fn revoked_devices_get_no_new_certificate_and_crls_count_up() {
    let mut reg = registrar();
    let mut a = TestDevice::new();
    let mut b = TestDevice::new();
    let (csr_a, csr_b) = (a.csr(), b.csr());
    let ia = reg.issue(&IssueRequest::new(&csr_a, NOW), None).unwrap();
    let ib = reg.issue(&IssueRequest::new(&csr_b, NOW), None).unwrap();

    assert!(matches!(
        reg.revoke_serial(&[0x42; 16], NOW),
        Err(RegistrarError::NotFound)
    ));
    let ra = reg.revoke_serial(&ia.record.serial, NOW + 10).unwrap();
    assert_eq!(ra.ueid, a.ueid);
    let rb = reg.revoke_ueid(&b.ueid, NOW + 20).unwrap();
    assert_eq!(rb.serial, ib.record.serial);
    assert!(reg.is_revoked(&ia.record.serial).unwrap());
    for u in [&a.ueid, &b.ueid] {
        assert_eq!(
            reg.inventory().get(u).unwrap().unwrap().status,
            DeviceStatus::Revoked
        );
    }
    assert_eq!(
        refusal(reg.issue(&IssueRequest::new(&csr_a, NOW + 30), None)),
        Refusal::DeviceStatus(DeviceStatus::Revoked)
    );

    // The CRL: signed by the CA, v2, numbers 1 then 2, both serials with their dates.
    let ca_key = *reg.ca().public_key();
    let first = reg.crl(NOW + 60, Some(NOW + 60 + 7 * DAY)).unwrap();
    let second = reg.crl(NOW + 120, None).unwrap();
    for (der, number) in [(&first, 1u8), (&second, 2)] {
        let crl = x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der)
            .unwrap();
        let tbs = crl.tbs_cert_list.to_der().unwrap();
        let sig = p256::ecdsa::Signature::from_der(crl.signature.raw_bytes()).unwrap();
        let raw: [u8; 64] = sig.to_bytes().into();
        crypto()
            .verify_p256(&ca_key, &crypto().sha256(&tbs), &raw)
            .unwrap();
        assert_eq!(
            crl.tbs_cert_list.version,
            x509_cert::certificate::Version::V2
        );
        let revoked = crl.tbs_cert_list.revoked_certificates.as_ref().unwrap();
        let serials: Vec<&[u8]> = revoked.iter().map(|r| r.serial_number.as_bytes()).collect();
        assert_eq!(serials, [&ia.record.serial[..], &ib.record.serial[..]]);
        let exts = crl.tbs_cert_list.crl_extensions.as_ref().unwrap();
        let number_ext = exts
            .iter()
            .find(|e| e.extn_id.to_string() == "2.5.29.20")
            .unwrap();
        assert_eq!(number_ext.extn_value.as_bytes(), [0x02, 0x01, number]);
    }
    let pem = reg.crl_pem(NOW, None).unwrap();
    assert!(pem.starts_with("-----BEGIN X509 CRL-----\n"));
}

/// Every InventoryStore method, on any store.
fn exercise_store<S: InventoryStore>(store: &mut S) {
    let ueid = Ueid::eui64([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x00, 0x01]).unwrap();
    let other = Ueid::imei("490154203237518").unwrap();
    let rec = DeviceRecord {
        ueid,
        model: Some("gw-1".into()),
        serial: vec![0x41; 16],
        fingerprint: [9; 32],
        not_after: NOW + 365 * DAY,
        enrolled_at: NOW,
        firmware_version: None,
        status: DeviceStatus::Enrolled,
        last_attestation: None,
    };
    let rec2 = DeviceRecord {
        ueid: other,
        serial: vec![0x42; 16],
        enrolled_at: NOW + 1,
        ..rec.clone()
    };
    assert_eq!(store.get(&ueid), Ok(None));
    assert_eq!(
        store.set_status(&ueid, DeviceStatus::Active),
        Err(StoreError::NotFound)
    );
    store.upsert(&rec).unwrap();
    store.upsert(&rec2).unwrap();
    assert_eq!(store.get(&ueid).unwrap().as_ref(), Some(&rec));
    assert_eq!(
        store.get_by_serial(&[0x42; 16]).unwrap().as_ref(),
        Some(&rec2)
    );
    assert_eq!(store.get_by_serial(&[0x43; 16]), Ok(None));
    store.set_status(&ueid, DeviceStatus::Active).unwrap();
    store.set_firmware_version(&ueid, "3.1.4").unwrap();
    let att = AttestationRecord {
        time: NOW + 5,
        result: "warning".into(),
    };
    store.record_attestation(&ueid, &att).unwrap();
    let got = store.get(&ueid).unwrap().unwrap();
    assert_eq!(got.status, DeviceStatus::Active);
    assert_eq!(got.firmware_version.as_deref(), Some("3.1.4"));
    assert_eq!(got.last_attestation, Some(att));
    // Re-enrolment replaces the record.
    let renewed = DeviceRecord {
        serial: vec![0x44; 16],
        ..got.clone()
    };
    store.upsert(&renewed).unwrap();
    assert_eq!(store.get(&ueid).unwrap().unwrap().serial, vec![0x44; 16]);
    assert_eq!(store.get_by_serial(&[0x41; 16]), Ok(None));
    let list = store.list().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].ueid, ueid);

    let entry = RevokedEntry {
        serial: vec![0x42; 16],
        ueid: other,
        time: NOW + 9,
    };
    store.revoke(&entry).unwrap();
    store.revoke(&entry).unwrap();
    assert_eq!(store.revocations().unwrap(), vec![entry]);
    assert_eq!(
        store.get(&other).unwrap().unwrap().status,
        DeviceStatus::Revoked
    );
    // Revoking an unknown device changes nothing.
    let stranger = RevokedEntry {
        serial: vec![0x45; 16],
        ueid: Ueid::random(&mut crypto(), RandLen::Bits128).unwrap(),
        time: NOW,
    };
    assert_eq!(store.revoke(&stranger), Err(StoreError::NotFound));
    assert_eq!(store.revocations().unwrap().len(), 1);

    let v1 = store.next_list_version().unwrap();
    let v2 = store.next_list_version().unwrap();
    assert!(v2 > v1);
}

#[test]
fn memory_inventory_round_trip() {
    exercise_store(&mut MemoryInventory::new());
}

#[test]
fn sqlite_inventory_round_trip_and_persistence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.sqlite");
    let (list, revocations) = {
        let mut store = SqliteInventory::open(&path).unwrap();
        exercise_store(&mut store);
        (store.list().unwrap(), store.revocations().unwrap())
    };
    let mut store = SqliteInventory::open(&path).unwrap();
    assert_eq!(store.list().unwrap(), list);
    assert_eq!(store.revocations().unwrap(), revocations);
    // exercise_store took versions 1 and 2; the version survives reopening.
    assert_eq!(store.next_list_version().unwrap(), 3);
}

#[test]
fn registrar_folder_init_open_issue_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registrar");
    let mut reg = Registrar::init(&path, "fleet CA", NOW, 3650 * DAY).unwrap();
    for f in [CA_KEY_FILE, CA_CERT_FILE, INVENTORY_FILE] {
        assert!(path.join(f).is_file(), "{f} missing");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path.join(CA_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key_pem = std::fs::read_to_string(path.join(CA_KEY_FILE)).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let mut dev = TestDevice::new();
    let csr = dev.csr();
    let issued = reg.issue(&IssueRequest::new(&csr, NOW), None).unwrap();
    reg.crl(NOW, None).unwrap();
    let ca_der = reg.ca().certificate_der().to_vec();
    drop(reg);

    assert!(matches!(
        Registrar::init(&path, "again", NOW, DAY),
        Err(RegistrarError::AlreadyExists)
    ));
    let mut reg = Registrar::open(&path).unwrap();
    assert_eq!(reg.ca().certificate_der(), ca_der);
    assert_eq!(
        reg.inventory().get(&dev.ueid).unwrap().unwrap(),
        issued.record
    );
    // The reopened CA still issues certificates that chain.
    let mut dev2 = TestDevice::new();
    let csr2 = dev2.csr();
    let issued2 = reg.issue(&IssueRequest::new(&csr2, NOW), None).unwrap();
    assert_eq!(validate(&ca_der, &[&issued2.certificate], NOW), Ok(1));
    reg.revoke_ueid(&dev.ueid, NOW).unwrap();
    // The list version persisted: the first CRL was 1, this one is 2.
    let crl = reg.crl(NOW, None).unwrap();
    let crl =
        x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&crl).unwrap();
    let number = crl.tbs_cert_list.crl_extensions.as_ref().unwrap()[0]
        .extn_value
        .as_bytes()
        .to_vec();
    assert_eq!(number, [0x02, 0x01, 0x02]);

    // A key that is not the certificate's is refused.
    let other = tempfile::tempdir().unwrap();
    let other_reg = Registrar::init(other.path(), "other", NOW, DAY).unwrap();
    drop(other_reg);
    std::fs::copy(other.path().join(CA_KEY_FILE), path.join(CA_KEY_FILE)).unwrap();
    assert!(matches!(
        Registrar::open(&path),
        Err(RegistrarError::KeyMismatch)
    ));
}

#[test]
fn registrar_folder_keeps_the_evidence_requirement_and_opens_read_only_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let mut reg = Registrar::init(path, "fleet CA", NOW, 3650 * DAY).unwrap();
    assert!(!reg.policy().require_evidence);
    let mut dev = TestDevice::new();
    let csr = dev.csr();
    let issued = reg.issue(&IssueRequest::new(&csr, NOW), None).unwrap();
    reg.revoke_ueid(&dev.ueid, NOW).unwrap();
    drop(reg);

    Registrar::set_require_evidence(path, true).unwrap();
    Registrar::set_require_evidence(path, true).unwrap();
    assert!(path.join(REQUIRE_EVIDENCE_FILE).is_file());
    let mut reg = Registrar::open(path).unwrap();
    assert!(reg.policy().require_evidence);
    let mut dev2 = TestDevice::new();
    let csr2 = dev2.csr();
    assert_eq!(
        refusal(reg.issue(&IssueRequest::new(&csr2, NOW), None)),
        Refusal::EvidenceMissing
    );
    assert_eq!(reg.inventory().get(&dev2.ueid).unwrap(), None);
    drop(reg);
    Registrar::set_require_evidence(path, false).unwrap();
    assert!(!path.join(REQUIRE_EVIDENCE_FILE).exists());
    assert!(!Registrar::open(path).unwrap().policy().require_evidence);

    // The certificate and the inventory open without the CA key.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = path.join(CA_KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads anyway; the point is only that the key is not needed.
        if std::fs::read(&key).is_err() {
            assert!(Registrar::open(path).is_err());
        }
        let records = RegistrarRecords::open(path).unwrap();
        assert_eq!(
            validate(&records.ca_certificate, &[&issued.certificate], NOW),
            Ok(1)
        );
        assert!(records.inventory.is_revoked(&issued.record.serial).unwrap());
        assert_eq!(
            records.inventory.get(&dev.ueid).unwrap().unwrap().status,
            DeviceStatus::Revoked
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::remove_file(path.join(CA_KEY_FILE)).unwrap();
    let records = RegistrarRecords::open(path).unwrap();
    assert!(!records.inventory.is_revoked(&[1, 2, 3]).unwrap());
    std::fs::remove_file(path.join(INVENTORY_FILE)).unwrap();
    assert!(RegistrarRecords::open(path).is_err());
}

#[test]
fn credential_binds_the_device_key_and_the_revocation_list_refuses_revoked_devices() {
    use iot_identity::credential::Cwt;
    use iot_identity::revocation::{RevocationError, RevocationList, Revoked};
    let mut reg = registrar();
    let ca_der = reg.ca().certificate_der().to_vec();
    let ca_key = *reg.ca().public_key();
    let mut devices: Vec<TestDevice> = (0..3).map(|_| TestDevice::new()).collect();
    let issued: Vec<_> = devices
        .iter_mut()
        .map(|d| {
            let csr = d.csr();
            reg.issue(&IssueRequest::new(&csr, NOW), None).unwrap()
        })
        .collect();

    // The CWT: signed by the CA, `cnf` the device key, `sub` its UEID, `cti` the X.509 serial.
    for (dev, i) in devices.iter_mut().zip(&issued) {
        let cwt = Cwt::decode(&i.credential).unwrap();
        let cnf = cwt.verify(&mut crypto(), &ca_key, NOW + 1).unwrap();
        let public = dev.store.public_key(SLOT).unwrap();
        match cnf {
            iot_core::cose::CoseKey::Ec2 { x, .. } => assert_eq!(x, public.x()),
            other => panic!("cnf {other:?}"),
        }
        assert_eq!(cwt.claims.subject_ueid().unwrap(), dev.ueid);
        assert_eq!(cwt.claims.cti, Some(&i.record.serial[..]));
        assert_eq!(cwt.claims.iss, Some("iot registrar test CA"));
        assert_eq!(cwt.claims.exp, Some(i.record.not_after));
        // Under another key it does not verify.
        let other = registrar();
        assert!(
            cwt.verify(&mut crypto(), other.ca().public_key(), NOW)
                .is_err()
        );
    }

    // Device 0 revoked by serial, device 1 by UEID; device 2 stays.
    reg.revoke_serial(&issued[0].record.serial, NOW + 10)
        .unwrap();
    reg.revoke_ueid(&devices[1].ueid, NOW + 20).unwrap();
    let crl_first = reg.crl(NOW + 30, None).unwrap();
    assert!(!crl_first.is_empty());
    let list = reg.revocation_list(NOW + 40, Some(NOW + 40 + DAY)).unwrap();
    let decoded = RevocationList::decode(&list).unwrap();
    // The CRL took version 1; the CBOR list gets 2.
    let verified = decoded.clone().verify(&mut crypto(), &ca_key, 1).unwrap();
    assert_eq!(verified.version(), 2);
    assert!(verified.is_newer());
    verified.check_current(NOW + 50).unwrap();
    assert_eq!(
        decoded
            .clone()
            .verify(&mut crypto(), &ca_key, 3)
            .map(|_| ()),
        Err(RevocationError::Stale {
            version: 2,
            last_seen: 3
        })
    );
    let other = registrar();
    assert!(
        decoded
            .verify(&mut crypto(), other.ca().public_key(), 0)
            .is_err()
    );

    // Chain validation accepts all three; combined with the list, the revoked ones fail.
    for (i, want) in [Some(Revoked::Serial), Some(Revoked::Serial), None]
        .into_iter()
        .enumerate()
    {
        let anchor = TrustAnchor::from_certificate(&ca_der).unwrap();
        let chain = validate_chain(
            &mut crypto(),
            &[&issued[i].certificate],
            &anchor,
            &ValidationOptions::at(NOW + 60),
        )
        .unwrap();
        assert_eq!(
            verified.check_certificate(&chain.leaf).err(),
            want,
            "device {i}"
        );
        assert_eq!(
            verified.is_revoked_ueid(devices[i].ueid.as_bytes()),
            want.is_some()
        );
    }
    // The longest issuer name (64 four-byte characters) still fits a credential.
    let long = "\u{1d518}".repeat(64);
    let mut long_ca = Registrar::new(
        Ca::generate(&mut crypto(), &long, NOW, DAY).unwrap(),
        MemoryInventory::new(),
    );
    let csr = devices[2].csr();
    let i = long_ca.issue(&IssueRequest::new(&csr, NOW), None).unwrap();
    let cwt = Cwt::decode(&i.credential).unwrap();
    assert_eq!(cwt.claims.iss, Some(long.as_str()));
    assert!(
        Ca::generate(&mut crypto(), &format!("{long}x"), NOW, DAY).is_err(),
        "65 characters"
    );

    // A second list counts up again.
    let next = reg.revocation_list(NOW + 70, None).unwrap();
    let next = RevocationList::decode(&next)
        .unwrap()
        .verify(&mut crypto(), &ca_key, 2)
        .unwrap();
    assert_eq!(next.version(), 3);
}

/// The device's flash: the record and the certificate.
#[derive(Default)]
struct Flash {
    record: Option<[u8; iot_identity::enrolment::RECORD_LEN]>,
    cert: Vec<u8>,
}

impl iot_identity::enrolment::Persistence for Flash {
    fn read_record(
        &mut self,
        out: &mut [u8; iot_identity::enrolment::RECORD_LEN],
    ) -> Result<bool, iot_identity::enrolment::PersistenceError> {
        Ok(self.record.map(|r| *out = r).is_some())
    }
    fn write_record(
        &mut self,
        record: &[u8; iot_identity::enrolment::RECORD_LEN],
    ) -> Result<(), iot_identity::enrolment::PersistenceError> {
        self.record = Some(*record);
        Ok(())
    }
    fn write_certificate(
        &mut self,
        der: &[u8],
    ) -> Result<(), iot_identity::enrolment::PersistenceError> {
        self.cert = der.to_vec();
        Ok(())
    }
    fn read_certificate(
        &mut self,
        out: &mut [u8],
    ) -> Result<usize, iot_identity::enrolment::PersistenceError> {
        out[..self.cert.len()].copy_from_slice(&self.cert);
        Ok(self.cert.len())
    }
}

#[test]
fn a_device_enrols_through_the_registrar_and_is_refused_after_decommissioning() {
    use iot_identity::enrolment::{
        Device, EnrolmentError, verify_possession, verify_possession_unrevoked,
    };
    use iot_identity::revocation::{RevocationList, Revoked};
    let mut reg = registrar();
    let ca_der = reg.ca().certificate_der().to_vec();
    let anchor = TrustAnchor::from_certificate(&ca_der).unwrap();
    let at = ValidationOptions::at(NOW + 1);

    // First boot: key, CSR, issuance, installation (the device checks the chain), activation.
    let ueid = Ueid::random(&mut crypto(), RandLen::Bits128).unwrap();
    let store = SoftwareKeyStore::<Crypto, 1>::new(crypto(), &[7u8; 16]).unwrap();
    let mut dev = Device::boot(&mut crypto(), store, Flash::default(), SLOT, ueid).unwrap();
    dev.generate_key().unwrap();
    let mut csr = [0u8; 400];
    let n = dev
        .issue_csr(&mut crypto(), Some("fleet device"), &mut csr)
        .unwrap();
    let issued = reg.issue(&IssueRequest::new(&csr[..n], NOW), None).unwrap();
    dev.install_certificate(&mut crypto(), &[&issued.certificate], &anchor, &at)
        .unwrap();
    dev.activate().unwrap();
    reg.inventory_mut()
        .set_status(&ueid, DeviceStatus::Active)
        .unwrap();

    // In service: its proof of possession checks out against the registrar's CA.
    let challenge = [9u8; 32];
    let mut proof = [0u8; 200];
    let m = dev
        .prove_possession(&mut crypto(), &challenge, &mut proof)
        .unwrap();
    let proof = proof[..m].to_vec();
    verify_possession(
        &mut crypto(),
        &proof,
        &challenge,
        &[&issued.certificate],
        &anchor,
        &at,
    )
    .unwrap();

    // Decommissioned: the device signs a receipt; the registrar checks it and revokes.
    let mut receipt = [0u8; 300];
    let r = dev
        .decommission(&mut crypto(), NOW + 100, &mut receipt)
        .unwrap();
    let receipt = receipt[..r].to_vec();
    let mut tampered = receipt.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        refusal(reg.decommission(&tampered, &issued.certificate, NOW + 200)),
        Refusal::Receipt(_)
    ));
    // Another device's certificate: its key did not sign the receipt.
    let mut other = TestDevice::new();
    let other_csr = other.csr();
    let other_issued = reg
        .issue(&IssueRequest::new(&other_csr, NOW), None)
        .unwrap();
    assert!(matches!(
        refusal(reg.decommission(&receipt, &other_issued.certificate, NOW + 200)),
        Refusal::Receipt(_)
    ));
    assert_eq!(
        reg.inventory().get(&ueid).unwrap().unwrap().status,
        DeviceStatus::Active
    );
    let entry = reg
        .decommission(&receipt, &issued.certificate, NOW + 200)
        .unwrap();
    assert_eq!(entry.serial, issued.record.serial);
    assert_eq!(
        reg.inventory().get(&ueid).unwrap().unwrap().status,
        DeviceStatus::Decommissioned
    );
    assert_eq!(
        refusal(reg.issue(&IssueRequest::new(&csr[..n], NOW + 300), None)),
        Refusal::DeviceStatus(DeviceStatus::Decommissioned)
    );

    // Refused afterwards: a replayed proof fails against the revocation list.
    let list = reg.revocation_list(NOW + 300, None).unwrap();
    let list = RevocationList::decode(&list)
        .unwrap()
        .verify(&mut crypto(), reg.ca().public_key(), 0)
        .unwrap();
    assert_eq!(
        verify_possession_unrevoked(
            &mut crypto(),
            &proof,
            &challenge,
            &[&issued.certificate],
            &anchor,
            &at,
            Some(&list),
        )
        .err(),
        Some(EnrolmentError::Revoked(Revoked::Serial))
    );
    // The other device is unaffected.
    assert_eq!(
        list.check_certificate(&Certificate::decode(&other_issued.certificate).unwrap()),
        Ok(())
    );
}
