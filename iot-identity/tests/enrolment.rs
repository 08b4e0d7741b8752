//! First-boot enrolment, power loss at every storage call, proof of possession and
//! decommissioning. A tiny test CA (hand-written DER) issues certificates from our CSRs.
//!
//! The software key store stands for a secure element: it survives the simulated reboots.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256, Signer};
use iot_identity::enrolment::{
    Device, EnrolmentError, Lifecycle, OperatorIdentity, Persistence, PersistenceError, RECORD_LEN,
    Record, verify_possession, verify_receipt,
};
use iot_identity::keystore::{KeySlot, KeyStore, KeyStoreError, SoftwareKeyStore};
use iot_identity::ueid::{RandLen, Ueid};
use iot_identity::x509::{Certificate, Csr, TrustAnchor, ValidationOptions, X509Error};

/// 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;
const SLOT: KeySlot = KeySlot(0);

type Crypto = RustCrypto<getrandom::SysRng>;
type Store = SoftwareKeyStore<Crypto, 1>;

fn crypto() -> Crypto {
    RustCrypto::from_os()
}

// --- a minimal DER writer for the test CA ---------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn der_uint(v: &[u8]) -> Vec<u8> {
    let mut v = v;
    while v.len() > 1 && v[0] == 0 {
        v = &v[1..];
    }
    let mut c = Vec::new();
    if v[0] & 0x80 != 0 {
        c.push(0);
    }
    c.extend_from_slice(v);
    tlv(0x02, &c)
}

const ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const PRIME256V1: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn cn_name(cn: &str) -> Vec<u8> {
    let atv = seq(&[&[0x06, 0x03, 0x55, 0x04, 0x03], &tlv(0x0c, cn.as_bytes())]);
    seq(&[&tlv(0x31, &atv)])
}

fn spki(sec1: &[u8; 65]) -> Vec<u8> {
    let mut bits = vec![0];
    bits.extend_from_slice(sec1);
    seq(&[&seq(&[EC_PUBLIC_KEY, PRIME256V1]), &tlv(0x03, &bits)])
}

fn extension(oid_tail: u8, value: &[u8]) -> Vec<u8> {
    seq(&[
        &[0x06, 0x03, 0x55, 0x1d, oid_tail],
        &[0x01, 0x01, 0xff],
        &tlv(0x04, value),
    ])
}

/// A certificate: `ca` selects basicConstraints cA + keyUsage keyCertSign/cRLSign, else
/// keyUsage digitalSignature.
fn certificate(
    serial: u8,
    issuer: &[u8],
    subject: &[u8],
    key: &[u8; 65],
    ca: bool,
    signer: &mut P256SigningKey,
) -> Vec<u8> {
    let validity = seq(&[&tlv(0x17, b"250101000000Z"), &tlv(0x17, b"351231235959Z")]);
    let exts = if ca {
        seq(&[
            &extension(0x13, &seq(&[&[0x01, 0x01, 0xff]])),
            &extension(0x0f, &[0x03, 0x02, 0x01, 0x06]),
        ])
    } else {
        seq(&[&extension(0x0f, &[0x03, 0x02, 0x07, 0x80])])
    };
    let tbs = seq(&[
        &[0xa0, 0x03, 0x02, 0x01, 0x02],
        &[0x02, 0x01, serial],
        &seq(&[ECDSA_SHA256]),
        issuer,
        &validity,
        subject,
        &spki(key),
        &tlv(0xa3, &exts),
    ]);
    let digest = crypto().sha256(&tbs);
    let rs = signer.sign_digest(&digest).unwrap();
    let sig = seq(&[&der_uint(&rs[..32]), &der_uint(&rs[32..])]);
    let mut bits = vec![0];
    bits.extend_from_slice(&sig);
    seq(&[&tbs, &seq(&[ECDSA_SHA256]), &tlv(0x03, &bits)])
}

/// A root CA that issues leaves straight from CSRs.
struct Ca {
    key: P256SigningKey,
    name: Vec<u8>,
    cert: Vec<u8>,
}

impl Ca {
    fn new(cn: &str) -> Self {
        let mut key = P256SigningKey::generate(&mut crypto()).unwrap();
        let name = cn_name(cn);
        let public = key.verifying_key().to_sec1_uncompressed();
        let cert = certificate(1, &name, &name, &public, true, &mut key);
        Self { key, name, cert }
    }

    fn anchor(&self) -> TrustAnchor<'_> {
        TrustAnchor::from_certificate(&self.cert).unwrap()
    }

    /// Checks the CSR's signature and issues a leaf for its subject and key.
    fn issue(&mut self, csr: &[u8], serial: u8) -> Vec<u8> {
        let csr = Csr::decode(csr).unwrap();
        csr.verify(&mut crypto()).unwrap();
        let name = self.name.clone();
        certificate(
            serial,
            &name,
            csr.subject_raw,
            csr.public_key.as_sec1(),
            false,
            &mut self.key,
        )
    }
}

// --- simulated flash with power loss --------------------------------------------------------

#[derive(Debug, Default, Clone)]
struct Flash {
    record: Option<[u8; RECORD_LEN]>,
    cert: Vec<u8>,
}

/// Flash whose `fail_at`-th call (0-based, reads and writes) loses power: a record write does
/// not happen (the platform writes it atomically), a certificate write is torn in half, and
/// every later call fails too.
#[derive(Debug)]
struct Faulty {
    flash: Flash,
    calls: usize,
    fail_at: Option<usize>,
}

impl Faulty {
    fn new(flash: Flash, fail_at: Option<usize>) -> Self {
        Self {
            flash,
            calls: 0,
            fail_at,
        }
    }

    fn power_lost(&mut self) -> bool {
        let lost = self.fail_at.is_some_and(|n| self.calls >= n);
        self.calls += 1;
        lost
    }
}

impl Persistence for Faulty {
    fn read_record(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<bool, PersistenceError> {
        if self.power_lost() {
            return Err(PersistenceError);
        }
        match self.flash.record {
            Some(r) => {
                *out = r;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn write_record(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), PersistenceError> {
        if self.power_lost() {
            return Err(PersistenceError);
        }
        self.flash.record = Some(*record);
        Ok(())
    }

    fn write_certificate(&mut self, der: &[u8]) -> Result<(), PersistenceError> {
        if self.power_lost() {
            self.flash.cert = der[..der.len() / 2].to_vec();
            return Err(PersistenceError);
        }
        self.flash.cert = der.to_vec();
        Ok(())
    }

    fn read_certificate(&mut self, out: &mut [u8]) -> Result<usize, PersistenceError> {
        if self.power_lost() {
            return Err(PersistenceError);
        }
        let n = self.flash.cert.len();
        out.get_mut(..n)
            .ok_or(PersistenceError)?
            .copy_from_slice(&self.flash.cert);
        Ok(n)
    }
}

type Dev = Device<Store, Faulty>;

fn new_store() -> Store {
    SoftwareKeyStore::new(crypto(), &[7u8; 16]).unwrap()
}

fn boot(
    store: Store,
    flash: Flash,
    fail_at: Option<usize>,
    ueid: Ueid,
) -> Result<Dev, EnrolmentError> {
    Device::boot(
        &mut crypto(),
        store,
        Faulty::new(flash, fail_at),
        SLOT,
        ueid,
    )
}

fn reboot(dev: Dev, ueid: Ueid) -> Dev {
    let (store, faulty) = dev.into_parts();
    boot(store, faulty.flash, None, ueid).expect("boot after power loss")
}

/// Drives the device from wherever it is to `Active`.
fn enrol<K: KeyStore>(dev: &mut Device<K, Faulty>, ca: &mut Ca) -> Result<(), EnrolmentError> {
    let mut c = crypto();
    loop {
        match dev.state() {
            Lifecycle::Unprovisioned => {
                dev.generate_key()?;
            }
            Lifecycle::KeyGenerated | Lifecycle::CsrIssued => {
                let mut csr = [0u8; 400];
                let n = dev.issue_csr(&mut c, Some("enrolment test"), &mut csr)?;
                let leaf = ca.issue(&csr[..n], 2);
                let anchor_der = ca.cert.clone();
                let anchor = TrustAnchor::from_certificate(&anchor_der).unwrap();
                dev.install_certificate(&mut c, &[&leaf], &anchor, &ValidationOptions::at(NOW))?;
            }
            Lifecycle::Enrolled => dev.activate()?,
            Lifecycle::Active => return Ok(()),
            Lifecycle::Decommissioned => panic!("decommissioned during enrolment"),
        }
    }
}

/// The invariant: an installed certificate carries the key in the store.
fn assert_consistent(dev: &mut Dev) {
    if matches!(dev.state(), Lifecycle::Enrolled | Lifecycle::Active) {
        let mut buf = [0u8; 1024];
        let der = dev
            .installed_certificate(&mut crypto(), &mut buf)
            .unwrap()
            .to_vec();
        let cert = Certificate::decode(&der).unwrap();
        assert_eq!(cert.public_key, dev.public_key().unwrap());
    }
}

fn ueid() -> Ueid {
    Ueid::random(&mut crypto(), RandLen::Bits128).unwrap()
}

fn active_device(ca: &mut Ca) -> (Dev, Ueid) {
    let id = ueid();
    let mut dev = boot(new_store(), Flash::default(), None, id).unwrap();
    enrol(&mut dev, ca).unwrap();
    (dev, id)
}

#[test]
fn enrolment_walks_the_lifecycle_and_proves_possession() {
    let mut ca = Ca::new("Test Root");
    let id = ueid();
    let mut c = crypto();
    let mut dev = boot(new_store(), Flash::default(), None, id).unwrap();
    assert_eq!(dev.state(), Lifecycle::Unprovisioned);
    let public = dev.generate_key().unwrap();
    assert_eq!(dev.state(), Lifecycle::KeyGenerated);
    let mut csr = [0u8; 400];
    let n = dev.issue_csr(&mut c, None, &mut csr).unwrap();
    assert_eq!(dev.state(), Lifecycle::CsrIssued);
    assert_eq!(Csr::decode(&csr[..n]).unwrap().public_key, public);
    let leaf = ca.issue(&csr[..n], 9);
    let opts = ValidationOptions::at(NOW);
    dev.install_certificate(&mut c, &[&leaf, &ca.cert], &ca.anchor(), &opts)
        .unwrap();
    assert_eq!(dev.state(), Lifecycle::Enrolled);
    dev.activate().unwrap();
    assert_eq!(dev.state(), Lifecycle::Active);
    assert_eq!(dev.record().counter, 4);

    // The state and the certificate survive a reboot.
    let mut dev = reboot(dev, id);
    assert_eq!(dev.state(), Lifecycle::Active);
    let mut buf = [0u8; 1024];
    assert_eq!(
        dev.installed_certificate(&mut c, &mut buf).unwrap(),
        &leaf[..]
    );

    // Proof of possession.
    let challenge = [0x42u8; 16];
    let mut pop = [0u8; 200];
    let n = dev.prove_possession(&mut c, &challenge, &mut pop).unwrap();
    let pop = &pop[..n];
    let v = verify_possession(&mut c, pop, &challenge, &[&leaf], &ca.anchor(), &opts).unwrap();
    assert_eq!(v.leaf.public_key, public);
    // Another challenge, a flipped bit, another anchor, an expired time: refused.
    assert_eq!(
        verify_possession(&mut c, pop, &[0x43; 16], &[&leaf], &ca.anchor(), &opts),
        Err(EnrolmentError::Core(iot_core::Error::PayloadMismatch))
    );
    let mut bad = pop.to_vec();
    *bad.last_mut().unwrap() ^= 1;
    assert!(verify_possession(&mut c, &bad, &challenge, &[&leaf], &ca.anchor(), &opts).is_err());
    let other = Ca::new("Test Root");
    assert!(matches!(
        verify_possession(&mut c, pop, &challenge, &[&leaf], &other.anchor(), &opts),
        Err(EnrolmentError::Chain(e)) if e.reason == X509Error::BadSignature
    ));
    assert!(matches!(
        verify_possession(&mut c, pop, &challenge, &[&leaf], &ca.anchor(), &ValidationOptions::at(4_000_000_000)),
        Err(EnrolmentError::Chain(e)) if e.reason == X509Error::Expired
    ));
    // A proof is not a receipt.
    assert!(verify_receipt(&mut c, pop, &leaf).is_err());
}

#[test]
fn steps_out_of_order_are_refused() {
    let mut ca = Ca::new("Test Root");
    let mut c = crypto();
    let mut dev = boot(new_store(), Flash::default(), None, ueid()).unwrap();
    let mut buf = [0u8; 400];
    assert_eq!(
        dev.issue_csr(&mut c, None, &mut buf),
        Err(EnrolmentError::WrongState {
            expected: Lifecycle::KeyGenerated,
            found: Lifecycle::Unprovisioned
        })
    );
    assert!(matches!(
        dev.activate(),
        Err(EnrolmentError::WrongState { .. })
    ));
    assert!(matches!(
        dev.prove_possession(&mut c, b"x", &mut buf),
        Err(EnrolmentError::WrongState { .. })
    ));
    dev.generate_key().unwrap();
    assert!(matches!(
        dev.generate_key(),
        Err(EnrolmentError::WrongState { .. })
    ));
    let leaf = {
        let n = dev.issue_csr(&mut c, None, &mut buf).unwrap();
        ca.issue(&buf[..n], 3)
    };
    // Issuing the CSR again in CsrIssued is allowed (a lost request).
    dev.issue_csr(&mut c, None, &mut buf).unwrap();
    assert!(matches!(
        dev.activate(),
        Err(EnrolmentError::WrongState { .. })
    ));
    dev.install_certificate(&mut c, &[&leaf], &ca.anchor(), &ValidationOptions::at(NOW))
        .unwrap();
    assert!(matches!(
        dev.install_certificate(&mut c, &[&leaf], &ca.anchor(), &ValidationOptions::at(NOW)),
        Err(EnrolmentError::WrongState { .. })
    ));
}

#[test]
fn a_certificate_that_does_not_fit_is_not_installed() {
    let mut ca = Ca::new("Test Root");
    let mut c = crypto();
    let id = ueid();
    let mut dev = boot(new_store(), Flash::default(), None, id).unwrap();
    dev.generate_key().unwrap();
    let mut buf = [0u8; 400];
    let n = dev.issue_csr(&mut c, None, &mut buf).unwrap();
    let opts = ValidationOptions::at(NOW);

    // Another device's key (same subject): KeyMismatch.
    let mut other = new_store();
    let other_key = other.generate(SLOT).unwrap();
    let csr = Csr::decode(&buf[..n]).unwrap();
    let name = ca.name.clone();
    let wrong_key = certificate(
        4,
        &name,
        csr.subject_raw,
        other_key.as_sec1(),
        false,
        &mut ca.key,
    );
    assert_eq!(
        dev.install_certificate(&mut c, &[&wrong_key], &ca.anchor(), &opts),
        Err(EnrolmentError::KeyMismatch)
    );
    // The device's key under another subject: SubjectMismatch.
    let wrong_subject = certificate(
        5,
        &name,
        &cn_name("someone else"),
        dev.public_key().unwrap().as_sec1(),
        false,
        &mut ca.key,
    );
    assert_eq!(
        dev.install_certificate(&mut c, &[&wrong_subject], &ca.anchor(), &opts),
        Err(EnrolmentError::SubjectMismatch)
    );
    // Issued by an unpinned CA: the chain is refused.
    let mut rogue = Ca::new("Test Root");
    let rogue_leaf = rogue.issue(&buf[..n], 6);
    assert!(matches!(
        dev.install_certificate(&mut c, &[&rogue_leaf], &ca.anchor(), &opts),
        Err(EnrolmentError::Chain(e)) if e.reason == X509Error::BadSignature
    ));
    // Nothing was stored, the state did not move.
    assert_eq!(dev.state(), Lifecycle::CsrIssued);
    let (_, faulty) = dev.into_parts();
    assert!(faulty.flash.cert.is_empty());
}

#[test]
fn power_loss_at_every_call_during_enrolment_never_leaves_a_half_identity() {
    let mut ca = Ca::new("Test Root");
    let mut failed_in = std::collections::BTreeSet::new();
    let mut n = 0;
    loop {
        let id = ueid();
        let mut dev = match boot(new_store(), Flash::default(), Some(n), id) {
            Ok(dev) => dev,
            Err(e) => {
                // Power lost while reading the record at boot: nothing was changed.
                assert_eq!(e, EnrolmentError::Persistence);
                n += 1;
                continue;
            }
        };
        match enrol(&mut dev, &mut ca) {
            Ok(()) => {
                let mut dev = reboot(dev, id);
                assert_eq!(dev.state(), Lifecycle::Active);
                assert_consistent(&mut dev);
                break;
            }
            Err(e) => {
                assert_eq!(e, EnrolmentError::Persistence, "call {n}");
                failed_in.insert(dev.state());
                let mut dev = reboot(dev, id);
                assert_consistent(&mut dev);
                enrol(&mut dev, &mut ca).unwrap();
                assert_consistent(&mut dev);
                // The identity works: a proof of possession verifies against the chain.
                let mut buf = [0u8; 1024];
                let leaf = dev
                    .installed_certificate(&mut crypto(), &mut buf)
                    .unwrap()
                    .to_vec();
                let mut pop = [0u8; 200];
                let m = dev
                    .prove_possession(&mut crypto(), b"nonce", &mut pop)
                    .unwrap();
                verify_possession(
                    &mut crypto(),
                    &pop[..m],
                    b"nonce",
                    &[&leaf],
                    &ca.anchor(),
                    &ValidationOptions::at(NOW),
                )
                .unwrap();
            }
        }
        n += 1;
        assert!(n < 100, "enrolment never completed without a fault");
    }
    // Power was lost in every state before Active (boot read, then one call per step and the
    // certificate write).
    assert!(n >= 5, "only {n} storage calls");
    for s in [
        Lifecycle::Unprovisioned,
        Lifecycle::KeyGenerated,
        Lifecycle::CsrIssued,
        Lifecycle::Enrolled,
    ] {
        assert!(
            failed_in.contains(&s),
            "no power loss in {s:?}: {failed_in:?}"
        );
    }
}

#[test]
fn decommissioning_signs_a_receipt_then_destroys_the_key() {
    let mut ca = Ca::new("Test Root");
    let (mut dev, id) = active_device(&mut ca);
    let mut c = crypto();
    let mut buf = [0u8; 1024];
    let leaf = dev
        .installed_certificate(&mut c, &mut buf)
        .unwrap()
        .to_vec();
    let counter = dev.record().counter;
    let mut receipt = [0u8; 256];
    let n = dev
        .decommission(&mut c, 1_800_000_000, &mut receipt)
        .unwrap();
    let receipt = &receipt[..n];
    assert_eq!(dev.state(), Lifecycle::Decommissioned);

    let r = verify_receipt(&mut c, receipt, &leaf).unwrap();
    assert_eq!(r.ueid, id.as_bytes());
    assert_eq!(r.serial, &[2]);
    assert_eq!(r.counter, counter + 1);
    assert_eq!(r.counter, dev.record().counter);
    assert_eq!(r.time, 1_800_000_000);
    // Tampered, or checked against another device's certificate: refused.
    let mut bad = receipt.to_vec();
    bad[n - 1] ^= 1;
    assert!(verify_receipt(&mut c, &bad, &leaf).is_err());
    let (other, _) = active_device(&mut ca);
    let mut other = other;
    let mut obuf = [0u8; 1024];
    let other_leaf = other
        .installed_certificate(&mut c, &mut obuf)
        .unwrap()
        .to_vec();
    assert!(verify_receipt(&mut c, receipt, &other_leaf).is_err());
    // A receipt is not a proof of possession.
    assert!(
        verify_possession(
            &mut c,
            receipt,
            b"",
            &[&leaf],
            &ca.anchor(),
            &ValidationOptions::at(NOW)
        )
        .is_err()
    );

    // Signing is refused with a typed error, the key is gone from the store.
    let mut out = [0u8; 256];
    assert_eq!(
        dev.prove_possession(&mut c, b"challenge", &mut out),
        Err(EnrolmentError::Decommissioned)
    );
    assert_eq!(
        dev.decommission(&mut c, 0, &mut out),
        Err(EnrolmentError::Decommissioned)
    );
    assert!(matches!(
        dev.generate_key(),
        Err(EnrolmentError::Decommissioned)
    ));
    assert!(matches!(
        dev.public_key(),
        Err(EnrolmentError::KeyStore(KeyStoreError::EmptySlot(_)))
    ));
    let (mut store, faulty) = dev.into_parts();
    assert!(!store.is_occupied(SLOT));
    assert!(matches!(
        store.sign_digest(SLOT, &[0; 32]),
        Err(KeyStoreError::EmptySlot(_))
    ));
    // And it stays so after a reboot.
    let mut dev = boot(store, faulty.flash, None, id).unwrap();
    assert_eq!(dev.state(), Lifecycle::Decommissioned);
    assert_eq!(
        dev.prove_possession(&mut c, b"challenge", &mut out),
        Err(EnrolmentError::Decommissioned)
    );
}

#[test]
fn power_loss_during_decommissioning_keeps_the_key_or_ends_decommissioned() {
    let mut ca = Ca::new("Test Root");
    let (mut ended_active, mut ended_decommissioned) = (false, false);
    // Boot makes two calls (record, certificate); decommissioning reads the certificate and
    // writes the record.
    for n in 0..4 {
        let (dev, id) = active_device(&mut ca);
        let (store, faulty) = dev.into_parts();
        let mut dev = Device::boot(
            &mut crypto(),
            store,
            Faulty::new(faulty.flash, Some(n + 2)),
            SLOT,
            id,
        )
        .unwrap();
        let mut out = [0u8; 256];
        let done = dev.decommission(&mut crypto(), 5, &mut out).is_ok();
        let mut dev = reboot(dev, id);
        match dev.state() {
            Lifecycle::Active => {
                assert!(!done);
                ended_active = true;
                assert_consistent(&mut dev);
                // Try again: it completes.
                dev.decommission(&mut crypto(), 6, &mut out).unwrap();
            }
            Lifecycle::Decommissioned => ended_decommissioned = true,
            s => panic!("unexpected state {s:?}"),
        }
        let (store, _) = dev.into_parts();
        assert!(
            !store.is_occupied(SLOT),
            "key left after decommissioning (call {n})"
        );
    }
    assert!(ended_active && ended_decommissioned);
}

#[test]
fn records_round_trip_and_corruption_is_detected() {
    let r = Record {
        state: Lifecycle::Enrolled,
        cert_len: 517,
        cert_digest: [1, 2, 3, 4, 5, 6, 7, 8],
        counter: 0x0102_0304,
    };
    let bytes = r.encode();
    assert_eq!(&bytes[..4], b"IE\x01\x03");
    assert_eq!(Record::decode(&bytes).unwrap(), r);
    for i in 0..RECORD_LEN * 8 {
        let mut b = bytes;
        b[i / 8] ^= 1 << (i % 8);
        assert_eq!(
            Record::decode(&b),
            Err(EnrolmentError::CorruptRecord),
            "bit {i}"
        );
    }
    // A corrupt record refuses to boot.
    let mut b = bytes;
    b[3] ^= 1;
    let flash = Flash {
        record: Some(b),
        cert: Vec::new(),
    };
    assert!(matches!(
        boot(new_store(), flash, None, ueid()),
        Err(EnrolmentError::CorruptRecord)
    ));
    // A certificate area that does not match the record is refused at boot.
    let mut ca = Ca::new("Test Root");
    let (dev, id) = active_device(&mut ca);
    let (store, mut faulty) = dev.into_parts();
    faulty.flash.cert[10] ^= 1;
    assert!(matches!(
        boot(store, faulty.flash, None, id),
        Err(EnrolmentError::CertificateMismatch)
    ));
}

/// A key store whose `destroy` loses power once.
struct LosesPowerOnDestroy(Store, bool);

impl KeyStore for LosesPowerOnDestroy {
    fn generate(
        &mut self,
        slot: KeySlot,
    ) -> Result<iot_identity::keystore::P256PublicKey, KeyStoreError> {
        self.0.generate(slot)
    }
    fn public_key(
        &mut self,
        slot: KeySlot,
    ) -> Result<iot_identity::keystore::P256PublicKey, KeyStoreError> {
        self.0.public_key(slot)
    }
    fn sign_digest(&mut self, slot: KeySlot, d: &[u8; 32]) -> Result<[u8; 64], KeyStoreError> {
        self.0.sign_digest(slot, d)
    }
    fn destroy(&mut self, slot: KeySlot) -> Result<(), KeyStoreError> {
        if std::mem::take(&mut self.1) {
            return Err(KeyStoreError::Core(iot_core::Error::Backend));
        }
        self.0.destroy(slot)
    }
}

#[test]
fn a_key_left_after_the_decommissioned_record_is_destroyed_at_boot() {
    let mut ca = Ca::new("Test Root");
    let (dev, id) = active_device(&mut ca);
    let (store, faulty) = dev.into_parts();
    let mut dev = Device::boot(
        &mut crypto(),
        LosesPowerOnDestroy(store, true),
        faulty,
        SLOT,
        id,
    )
    .unwrap();
    let mut out = [0u8; 256];
    assert!(matches!(
        dev.decommission(&mut crypto(), 7, &mut out),
        Err(EnrolmentError::KeyStore(_))
    ));
    // The record says Decommissioned, the key is still there: signing is refused anyway.
    assert_eq!(dev.state(), Lifecycle::Decommissioned);
    assert_eq!(
        dev.prove_possession(&mut crypto(), b"c", &mut out),
        Err(EnrolmentError::Decommissioned)
    );
    let (store, faulty) = dev.into_parts();
    assert!(store.0.is_occupied(SLOT));
    // Boot finishes the job.
    let dev = Device::boot(&mut crypto(), store, faulty, SLOT, id).unwrap();
    assert_eq!(dev.state(), Lifecycle::Decommissioned);
    let (store, _) = dev.into_parts();
    assert!(!store.0.is_occupied(SLOT));
}

#[test]
fn proof_of_possession_refuses_a_revoked_serial_or_ueid() {
    use iot_identity::enrolment::verify_possession_unrevoked;
    use iot_identity::keystore::P256PublicKey;
    use iot_identity::revocation::{RevocationList, RevocationListBuilder, Revoked};

    let mut ca = Ca::new("Test Root");
    let (mut dev, id) = active_device(&mut ca);
    let mut c = crypto();
    let mut buf = [0u8; 1024];
    let leaf = dev
        .installed_certificate(&mut c, &mut buf)
        .unwrap()
        .to_vec();
    let serial = Certificate::decode(&leaf).unwrap().serial.to_vec();
    let challenge = [0x42u8; 16];
    let mut pop = [0u8; 200];
    let n = dev.prove_possession(&mut c, &challenge, &mut pop).unwrap();
    let pop = &pop[..n];
    let opts = ValidationOptions::at(NOW);
    let registrar =
        P256PublicKey::from_sec1(&ca.key.verifying_key().to_sec1_uncompressed()).unwrap();

    let other_ueid = ueid();
    type Entries<'e> = &'e [&'e [u8]];
    let cases: [(Entries, Entries, Option<Revoked>); 4] = [
        (&[&[0x55]], &[other_ueid.as_bytes()], None),
        (&[&[0x55], &serial], &[], Some(Revoked::Serial)),
        (
            &[],
            &[other_ueid.as_bytes(), id.as_bytes()],
            Some(Revoked::Ueid),
        ),
        (&[&serial], &[id.as_bytes()], Some(Revoked::Serial)),
    ];
    for (version, (serials, ueids, expected)) in (1..).zip(cases) {
        let builder = RevocationListBuilder {
            serials,
            ueids,
            ..RevocationListBuilder::new(version, NOW)
        };
        let (mut scratch, mut out) = ([0u8; 256], [0u8; 400]);
        let len = builder
            .sign(&mut c, &mut ca.key, &mut scratch, &mut out)
            .unwrap();
        let list = RevocationList::decode(&out[..len])
            .unwrap()
            .verify(&mut c, &registrar, version - 1)
            .unwrap();
        let got = verify_possession_unrevoked(
            &mut c,
            pop,
            &challenge,
            &[&leaf],
            &ca.anchor(),
            &opts,
            Some(&list),
        );
        match expected {
            None => assert_eq!(got.unwrap().leaf.raw, &leaf[..]),
            Some(r) => assert_eq!(got, Err(EnrolmentError::Revoked(r))),
        }
    }
    // Without a list, as verify_possession.
    verify_possession_unrevoked(&mut c, pop, &challenge, &[&leaf], &ca.anchor(), &opts, None)
        .unwrap();
}

// --- operator-issued (LDevID-like) keys --------------------------------------------------------

const IDEVID: KeySlot = KeySlot(0);
const OPERATOR_SLOTS: [KeySlot; 2] = [KeySlot(1), KeySlot(2)];

type Store3 = SoftwareKeyStore<Crypto, 3>;

/// Lends the store to the operator identity and fails the test if it touches the IDevID slot.
struct NotIdevid<'s>(&'s mut Store3);

impl NotIdevid<'_> {
    fn check(slot: KeySlot) {
        assert_ne!(
            slot, IDEVID,
            "the operator identity touched the IDevID slot"
        );
    }
}

impl KeyStore for NotIdevid<'_> {
    fn generate(
        &mut self,
        slot: KeySlot,
    ) -> Result<iot_identity::keystore::P256PublicKey, KeyStoreError> {
        Self::check(slot);
        self.0.generate(slot)
    }
    fn public_key(
        &mut self,
        slot: KeySlot,
    ) -> Result<iot_identity::keystore::P256PublicKey, KeyStoreError> {
        Self::check(slot);
        self.0.public_key(slot)
    }
    fn sign_digest(&mut self, slot: KeySlot, d: &[u8; 32]) -> Result<[u8; 64], KeyStoreError> {
        Self::check(slot);
        self.0.sign_digest(slot, d)
    }
    fn destroy(&mut self, slot: KeySlot) -> Result<(), KeyStoreError> {
        Self::check(slot);
        self.0.destroy(slot)
    }
}

type Op<'s> = OperatorIdentity<NotIdevid<'s>, Faulty>;

fn boot_operator<'s>(
    store: &'s mut Store3,
    flash: [Flash; 2],
    fail_at: [Option<usize>; 2],
    id: Ueid,
) -> Result<Op<'s>, EnrolmentError> {
    let [f0, f1] = flash;
    OperatorIdentity::boot(
        &mut crypto(),
        NotIdevid(store),
        [Faulty::new(f0, fail_at[0]), Faulty::new(f1, fail_at[1])],
        OPERATOR_SLOTS,
        id,
    )
}

fn flashes(op: Op<'_>) -> [Flash; 2] {
    let (_, [f0, f1]) = op.into_parts();
    [f0.flash, f1.flash]
}

/// Runs (or resumes) a replacement: key, CSR, certificate with `serial` from `ca`.
fn replace(op: &mut Op<'_>, ca: &mut Ca, serial: u8) -> Result<(), EnrolmentError> {
    let mut c = crypto();
    if op.pending_state() == Lifecycle::Unprovisioned {
        op.generate_key()?;
    }
    let mut csr = [0u8; 400];
    let n = op.issue_csr(&mut c, Some("operator key"), &mut csr)?;
    let leaf = ca.issue(&csr[..n], serial);
    let anchor_der = ca.cert.clone();
    let anchor = TrustAnchor::from_certificate(&anchor_der).unwrap();
    op.install_certificate(&mut c, &[&leaf], &anchor, &ValidationOptions::at(NOW))
}

fn current_certificate(op: &mut Op<'_>) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    op.certificate(&mut crypto(), &mut buf).unwrap().to_vec()
}

/// A store with an enrolled IDevID in slot 0 (through `Device`), its flash and public key.
fn with_idevid(ca: &mut Ca, id: Ueid) -> (Store3, Flash, iot_identity::keystore::P256PublicKey) {
    let mut store: Store3 = SoftwareKeyStore::new(crypto(), &[7u8; 16]).unwrap();
    let mut dev = Device::boot(
        &mut crypto(),
        &mut store,
        Faulty::new(Flash::default(), None),
        IDEVID,
        id,
    )
    .unwrap();
    enrol(&mut dev, ca).unwrap();
    let public = dev.public_key().unwrap();
    let (_, faulty) = dev.into_parts();
    (store, faulty.flash, public)
}

#[test]
fn an_operator_key_is_enrolled_and_replaced_beside_the_idevid() {
    let mut ca = Ca::new("Operator CA");
    let id = ueid();
    let mut c = crypto();
    let (mut store, idevid_flash, idevid_public) = with_idevid(&mut ca, id);

    let mut op = boot_operator(&mut store, Default::default(), [None; 2], id).unwrap();
    assert!(!op.is_enrolled());
    assert!(op.public_key().is_err());
    replace(&mut op, &mut ca, 10).unwrap();
    assert_eq!(op.current_slot(), Some(OPERATOR_SLOTS[0]));
    let first = current_certificate(&mut op);
    let first_key = op.public_key().unwrap();
    assert_eq!(Certificate::decode(&first).unwrap().public_key, first_key);
    assert_ne!(first_key, idevid_public);

    // Proof of possession with the operator key verifies against its certificate.
    let mut pop = [0u8; 200];
    let n = op.prove_possession(&mut c, b"nonce-1", &mut pop).unwrap();
    let opts = ValidationOptions::at(NOW);
    verify_possession(
        &mut c,
        &pop[..n],
        b"nonce-1",
        &[&first],
        &ca.anchor(),
        &opts,
    )
    .unwrap();

    // Out of order: no certificate before a CSR, no CSR before a key.
    let mut buf = [0u8; 400];
    assert!(matches!(
        op.issue_csr(&mut c, None, &mut buf),
        Err(EnrolmentError::WrongState { .. })
    ));
    op.generate_key().unwrap();
    assert!(matches!(
        op.install_certificate(&mut c, &[&first], &ca.anchor(), &opts),
        Err(EnrolmentError::WrongState { .. })
    ));
    // A replacement in progress can be abandoned: the current identity is untouched.
    op.abort_replacement().unwrap();
    assert_eq!(op.pending_state(), Lifecycle::Unprovisioned);
    assert_eq!(current_certificate(&mut op), first);

    // Replacement: the new key lives in the other slot, the old one is destroyed afterwards.
    replace(&mut op, &mut ca, 11).unwrap();
    assert_eq!(op.current_slot(), Some(OPERATOR_SLOTS[1]));
    let second = current_certificate(&mut op);
    let second_key = op.public_key().unwrap();
    assert_ne!(second, first);
    assert_ne!(second_key, first_key);
    let n = op.prove_possession(&mut c, b"nonce-2", &mut pop).unwrap();
    verify_possession(
        &mut c,
        &pop[..n],
        b"nonce-2",
        &[&second],
        &ca.anchor(),
        &opts,
    )
    .unwrap();
    // Signed with the new key, the proof does not pass under the old certificate.
    assert!(
        verify_possession(
            &mut c,
            &pop[..n],
            b"nonce-2",
            &[&first],
            &ca.anchor(),
            &opts
        )
        .is_err()
    );

    // A certificate for another key is not installed, and changes nothing.
    op.generate_key().unwrap();
    op.issue_csr(&mut c, None, &mut buf).unwrap();
    assert_eq!(
        op.install_certificate(&mut c, &[&second], &ca.anchor(), &opts),
        Err(EnrolmentError::KeyMismatch)
    );
    assert_eq!(op.current_slot(), Some(OPERATOR_SLOTS[1]));
    op.abort_replacement().unwrap();

    // After a reboot: the same identity; a third replacement returns to the first slot.
    let flash = flashes(op);
    let mut op = boot_operator(&mut store, flash, [None; 2], id).unwrap();
    assert_eq!(current_certificate(&mut op), second);
    replace(&mut op, &mut ca, 12).unwrap();
    assert_eq!(op.current_slot(), Some(OPERATOR_SLOTS[0]));
    drop(op);
    assert!(store.is_occupied(OPERATOR_SLOTS[0]));
    assert!(!store.is_occupied(OPERATOR_SLOTS[1]));

    // The IDevID never moved: same key, and its device boots Active.
    let mut dev = Device::boot(
        &mut crypto(),
        &mut store,
        Faulty::new(idevid_flash, None),
        IDEVID,
        id,
    )
    .unwrap();
    assert_eq!(dev.state(), Lifecycle::Active);
    assert_eq!(dev.public_key().unwrap(), idevid_public);
}

#[test]
fn power_loss_at_every_call_during_a_replacement_keeps_one_identity() {
    let mut ca = Ca::new("Operator CA");
    let id = ueid();
    let (mut old_cert, mut new_cert) = (0, 0);
    for bank in 0..2 {
        for n in 0.. {
            let (mut store, _, idevid_public) = with_idevid(&mut ca, id);
            let mut op = boot_operator(&mut store, Default::default(), [None; 2], id).unwrap();
            replace(&mut op, &mut ca, 20).unwrap();
            let before = current_certificate(&mut op);
            let before_slot = op.current_slot().unwrap();

            // The same flash, now losing power at the n-th storage call of one bank.
            let flash = flashes(op);
            let mut fail_at = [None; 2];
            fail_at[bank] = Some(n);
            let saved = flash.clone();
            let (flash, lost) = match boot_operator(&mut store, flash, fail_at, id) {
                // Power lost while booting: nothing was written.
                Err(e) => {
                    assert_eq!(e, EnrolmentError::Persistence);
                    (saved, true)
                }
                Ok(mut op) => {
                    let result = replace(&mut op, &mut ca, 21);
                    let (_, [f0, f1]) = op.into_parts();
                    let lost = [&f0, &f1]
                        .iter()
                        .any(|f| f.fail_at.is_some_and(|at| f.calls > at));
                    if lost {
                        assert_eq!(result, Err(EnrolmentError::Persistence));
                    } else {
                        result.unwrap();
                    }
                    ([f0.flash, f1.flash], lost)
                }
            };

            // Reboot: exactly one identity, whose certificate carries its key; the spare slot
            // holds a key only while a replacement is pending.
            let mut op = boot_operator(&mut store, flash, [None; 2], id).unwrap();
            let cert = current_certificate(&mut op);
            let key = op.public_key().unwrap();
            assert_eq!(Certificate::decode(&cert).unwrap().public_key, key);
            let slot = op.current_slot().unwrap();
            let spare = OPERATOR_SLOTS.into_iter().find(|s| *s != slot).unwrap();
            let pending = matches!(
                op.pending_state(),
                Lifecycle::KeyGenerated | Lifecycle::CsrIssued
            );
            if cert == before {
                assert_eq!(slot, before_slot);
                old_cert += 1;
            } else {
                assert_ne!(slot, before_slot);
                assert!(!pending);
                new_cert += 1;
            }
            let flash = flashes(op);
            assert_eq!(store.is_occupied(spare), pending, "bank {bank} call {n}");
            // Resume until the new certificate is in.
            let mut op = boot_operator(&mut store, flash, [None; 2], id).unwrap();
            if cert == before {
                replace(&mut op, &mut ca, 22).unwrap();
                assert_ne!(current_certificate(&mut op), before);
            }
            drop(op);
            assert!(store.is_occupied(IDEVID));
            assert_eq!(
                store.public_key(IDEVID).unwrap(),
                idevid_public,
                "IDevID changed"
            );
            let occupied = OPERATOR_SLOTS
                .iter()
                .filter(|s| store.is_occupied(**s))
                .count();
            assert_eq!(
                occupied, 1,
                "bank {bank} call {n}: one operator key in the end"
            );
            if !lost {
                break;
            }
        }
    }
    assert!(old_cert > 0 && new_cert > 0, "{old_cert} / {new_cert}");
}
