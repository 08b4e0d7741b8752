//! `iot-tool identity`: a registrar folder (CA, inventory, revocation) and devices kept in
//! folders, through iot-identity's `registrar` and `device_dir`.

use crate::fail::{Context, Failure, Result, bail};
use crate::io;
use clap::{Subcommand, ValueEnum};
use iot_attest::registrar::EatVerifier;
use iot_attest::{Claims, IntendedUse, Nonce, Profile, TokenBuilder, cdsp};
use iot_core::cose::Algorithm;
use iot_core::crypto::Rng;
use iot_identity::device_dir::{CERT_FILE, CREDENTIAL_FILE, DeviceDir, OsCrypto, pem_certificates};
use iot_identity::enrolment::Lifecycle;
use iot_identity::registrar::{
    CA_CERT_FILE, DeviceRecord, DeviceStatus, InventoryStore, IssuancePolicy, IssueRequest,
    PossessionProof, Registrar, RegistrarRecords, SqliteInventory,
};
use iot_identity::ueid::Ueid;
use iot_identity::x509::{Certificate, TrustAnchor, ValidationOptions, validate_chain};
use std::path::{Path, PathBuf};

/// `iot-tool identity ...`.
#[derive(Debug, Subcommand)]
pub enum IdentityCmd {
    /// Create a registrar folder: a P-256 CA (ca-key.pem, mode 0600; ca-cert.pem) and an empty
    /// inventory (inventory.sqlite).
    CaInit {
        /// The registrar folder (created; an existing registrar is never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// The CA's common name.
        #[arg(long, default_value = "iot-tool fleet CA")]
        name: String,
        /// The CA certificate's lifetime in days.
        #[arg(long, default_value_t = 3650)]
        days: u64,
        /// Issue only to devices that present attestation evidence (an EAT with the
        /// registrar's challenge as nonce, their UEID and intended use 4, certificate issuance).
        #[arg(long)]
        require_evidence: bool,
    },
    /// First boot of a device kept in a folder: UEID, a key sealed in the folder, CSR, a signed
    /// challenge (and, when the registrar requires it, an EAT signed by the same key), issuance
    /// by the registrar and installation; writes device-cert.pem (the certificate and the CA's)
    /// and device-cred.cwt (the CWT credential).
    Enroll {
        /// The device folder (created at first boot).
        #[arg(long)]
        device: PathBuf,
        /// The registrar folder.
        #[arg(long)]
        ca: PathBuf,
        /// The device's model, for the inventory.
        #[arg(long)]
        model: Option<String>,
    },
    /// Validate a certificate (PEM or DER, optionally followed by its chain) against the
    /// registrar's CA and its revocations (the CA key is not read); exit 0 with a summary,
    /// else the reason.
    Verify {
        /// The registrar folder.
        #[arg(long)]
        ca: PathBuf,
        /// The certificate file (`-` for stdin).
        cert: PathBuf,
    },
    /// Revoke a device's certificate, named by its serial or by the device's UEID (hex).
    Revoke {
        /// The registrar folder.
        #[arg(long)]
        ca: PathBuf,
        /// A certificate serial or a UEID, in hex.
        target: io::Hex,
    },
    /// Publish the revocations: a CRL (PEM or DER, RFC 5280) or the signed CBOR list (COSE).
    Crl {
        /// The registrar folder.
        #[arg(long)]
        ca: PathBuf,
        /// The format.
        #[arg(long, value_enum, default_value = "pem")]
        format: CrlFormat,
        /// Where it goes (`-` for stdout).
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Print the registrar's inventory as a table.
    Inventory {
        /// The registrar folder.
        #[arg(long)]
        ca: PathBuf,
    },
}

/// The format of `identity crl`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CrlFormat {
    /// An X.509 v2 CRL, PEM.
    Pem,
    /// An X.509 v2 CRL, DER.
    Der,
    /// The signed CBOR revocation list (COSE_Sign1).
    Cose,
}

/// Runs an `identity` command.
pub fn run(cmd: IdentityCmd) -> Result<()> {
    match cmd {
        IdentityCmd::CaInit {
            out,
            name,
            days,
            require_evidence,
        } => {
            let reg = Registrar::init(&out, &name, now(), days.saturating_mul(86_400))
                .context(out.display())?;
            Registrar::set_require_evidence(&out, require_evidence).context(out.display())?;
            let ca = Certificate::decode(reg.ca().certificate_der()).context("CA certificate")?;
            crate::say(&format!(
                "registrar in {}: CA \"{name}\" until {}, certificate {}{}",
                out.display(),
                utc(ca.not_after),
                out.join(CA_CERT_FILE).display(),
                if require_evidence {
                    ", attestation evidence required"
                } else {
                    ""
                }
            ))
        }
        IdentityCmd::Enroll { device, ca, model } => {
            let mut reg = open(&ca)?;
            let e = enrol(&device, &mut reg, model.as_deref(), now())?;
            crate::say(&format!(
                "enrolled device {} in {}: certificate serial {}, {} and {} written",
                e.ueid.to_hex().as_str(),
                device.display(),
                hex::encode(&e.serial),
                CERT_FILE,
                CREDENTIAL_FILE
            ))
        }
        IdentityCmd::Verify { ca, cert } => {
            let records = RegistrarRecords::open(&ca)
                .context(format!("{}: not a registrar folder", ca.display()))?;
            let chain = read_certificates(&cert)?;
            let summary = check_against(&records.ca_certificate, &records.inventory, &chain, now())
                .context(cert.display())?;
            crate::say(&summary)
        }
        IdentityCmd::Revoke { ca, target } => {
            let mut reg = open(&ca)?;
            let by_ueid = Ueid::from_bytes(&target.0)
                .ok()
                .filter(|u| matches!(reg.inventory().get(u), Ok(Some(_))));
            let entry = match by_ueid {
                Some(u) => reg.revoke_ueid(&u, now()),
                None => reg.revoke_serial(&target.0, now()),
            }
            .context(format!("revoke {}", hex::encode(&target.0)))?;
            crate::say(&format!(
                "revoked certificate {} of device {}",
                hex::encode(&entry.serial),
                entry.ueid.to_hex().as_str()
            ))
        }
        IdentityCmd::Crl { ca, format, out } => {
            let mut reg = open(&ca)?;
            let bytes = match format {
                CrlFormat::Pem => reg.crl_pem(now(), None).map(String::into_bytes),
                CrlFormat::Der => reg.crl(now(), None),
                CrlFormat::Cose => reg.revocation_list(now(), None),
            }
            .context(ca.display())?;
            io::write(&out, &bytes)
        }
        IdentityCmd::Inventory { ca } => {
            let reg = open(&ca)?;
            let devices = reg.inventory().list().context(ca.display())?;
            crate::say(table(&devices).trim_end())
        }
    }
}

/// The time now, seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Opens the registrar folder `dir`.
pub fn open(dir: &Path) -> Result<Registrar<SqliteInventory>> {
    Registrar::open(dir).context(format!("{}: not a registrar folder", dir.display()))
}

/// What an enrolment left.
#[derive(Debug)]
pub struct Enrolled {
    /// The device's UEID.
    pub ueid: Ueid,
    /// Its certificate's serial.
    pub serial: Vec<u8>,
    /// Its certificate, DER.
    pub certificate: Vec<u8>,
}

/// The first boot of the device in `dir` against `reg`: key, CSR, the registrar's challenge
/// answered, issuance (which records the device), installation through the lifecycle, activation,
/// and the credential written beside the certificate.
pub fn enrol(
    dir: &Path,
    reg: &mut Registrar<SqliteInventory>,
    model: Option<&str>,
    now: u64,
) -> Result<Enrolled> {
    let at = |e: &dyn std::fmt::Display| Failure::new(format!("{}: {e}", dir.display()));
    let ca_der = reg.ca().certificate_der().to_vec();
    let mut dev = DeviceDir::first_boot(dir, &[&ca_der]).map_err(|e| at(&e))?;
    let ueid = dev.ueid();
    match dev.state() {
        Lifecycle::Enrolled | Lifecycle::Active => {
            bail!(
                "{}: device {} is already enrolled",
                dir.display(),
                ueid.to_hex().as_str()
            )
        }
        Lifecycle::Decommissioned => {
            bail!(
                "{}: device {} is decommissioned",
                dir.display(),
                ueid.to_hex().as_str()
            )
        }
        Lifecycle::Unprovisioned => {
            dev.device().generate_key().map_err(|e| at(&e))?;
        }
        Lifecycle::KeyGenerated | Lifecycle::CsrIssued => {}
    }
    let mut crypto = OsCrypto::from_os();
    let mut csr = [0u8; 512];
    let n = dev
        .device()
        .issue_csr(&mut crypto, None, &mut csr)
        .map_err(|e| at(&e))?;
    let csr = csr.get(..n).unwrap_or_default();
    let mut challenge = [0u8; 32];
    crypto.fill_random(&mut challenge)?;
    let proof = dev.answer_challenge(&challenge).map_err(|e| at(&e))?;
    reg.set_policy(IssuancePolicy {
        require_possession_proof: true,
        ..*reg.policy()
    });
    let evidence = if reg.policy().require_evidence {
        Some(device_evidence(&dev, &challenge)?)
    } else {
        None
    };
    let request = IssueRequest {
        model,
        possession: Some(PossessionProof {
            challenge: &challenge,
            proof: &proof,
        }),
        evidence: evidence.as_deref(),
        ..IssueRequest::new(csr, now)
    };
    let issued = reg
        .issue(&request, Some(&mut EatVerifier))
        .context("registrar")?;
    let anchor = TrustAnchor::from_certificate(&ca_der).context("CA certificate")?;
    dev.device()
        .install_certificate(
            &mut crypto,
            &[&issued.certificate],
            &anchor,
            &ValidationOptions::at(now),
        )
        .map_err(|e| at(&e))?;
    dev.device().activate().map_err(|e| at(&e))?;
    reg.inventory_mut()
        .set_status(&ueid, DeviceStatus::Active)
        .context("inventory")?;
    io::write(&dir.join(CREDENTIAL_FILE), &issued.credential)?;
    Ok(Enrolled {
        ueid,
        serial: issued.record.serial,
        certificate: issued.certificate,
    })
}

/// The device's attestation evidence for the registrar: an EAT under the Constrained Device
/// Standard Profile (RFC 9711 section 6.3) naming the challenge as its nonce, the device's
/// UEID and intended use 4, certificate issuance (section 4.3.3).
pub fn device_evidence(dev: &DeviceDir, challenge: &[u8]) -> Result<Vec<u8>> {
    let ueid = dev.ueid();
    let claims = Claims {
        profile: Some(Profile::Uri(cdsp::PROFILE)),
        nonce: Some(Nonce::One(challenge)),
        ueid: Some(ueid.as_bytes()),
        intuse: Some(IntendedUse::Csr),
        ..Claims::default()
    };
    sign_evidence(dev, &claims)
}

/// `claims` as a token (COSE_Sign1, ES256, tag 61) signed by the device's identity key, the
/// key its certificate request is for (while the request is out).
pub fn sign_evidence(dev: &DeviceDir, claims: &Claims<'_>) -> Result<Vec<u8>> {
    let (mut scratch, mut token) = ([0u8; 512], [0u8; 640]);
    let n = dev
        .with_identity_signer(|signer| {
            TokenBuilder::new().sign(
                &mut OsCrypto::from_os(),
                signer,
                Algorithm::Es256,
                claims,
                &mut scratch,
                &mut token,
            )
        })
        .context(dev.dir().display())?
        .context("evidence")?;
    Ok(token.get(..n).unwrap_or_default().to_vec())
}

/// The certificates of a file: PEM (one or more) or one DER certificate.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = io::read(path)?;
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => pem_certificates(text).context(path.display()),
        _ => Ok(vec![bytes]),
    }
}

/// Validates `chain` (leaf first) against the registrar's CA at `now` and checks that neither
/// the certificate nor its device is revoked; a one-line summary, or the reason.
pub fn check(reg: &Registrar<SqliteInventory>, chain: &[Vec<u8>], now: u64) -> Result<String> {
    check_against(reg.ca().certificate_der(), reg.inventory(), chain, now)
}

/// [`check`] against a CA certificate (DER) and an inventory, without the CA key.
pub fn check_against(
    ca_certificate: &[u8],
    inventory: &impl InventoryStore,
    chain: &[Vec<u8>],
    now: u64,
) -> Result<String> {
    let anchor = TrustAnchor::from_certificate(ca_certificate).context("CA certificate")?;
    let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let mut crypto = OsCrypto::from_os();
    let leaf = validate_chain(&mut crypto, &refs, &anchor, &ValidationOptions::at(now))
        .map_err(|e| Failure::new(e.to_string()))?
        .leaf;
    let serial = hex::encode(leaf.serial);
    if inventory.is_revoked(leaf.serial).context("inventory")? {
        bail!("revoked: certificate serial {serial} is revoked");
    }
    let ueid = leaf
        .subject_serial_number()
        .ok()
        .flatten()
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| Ueid::from_bytes(&b).ok());
    let record = match &ueid {
        Some(u) => inventory.get(u).context("inventory")?,
        None => None,
    };
    if let Some(r) = &record
        && !r.status.may_enrol()
    {
        bail!(
            "revoked: device {} is {}",
            r.ueid.to_hex().as_str(),
            r.status.as_str()
        );
    }
    Ok(format!(
        "valid: device {}, serial {serial}, issued by \"{}\", valid until {}, {}",
        ueid.map_or_else(|| "(no UEID)".into(), |u| u.to_hex().as_str().to_owned()),
        Certificate::decode(ca_certificate)
            .ok()
            .and_then(|c| c.common_name().ok().flatten())
            .unwrap_or("the CA"),
        utc(leaf.not_after),
        record.map_or("not in the inventory", |r| r.status.as_str())
    ))
}

/// The inventory as a table, one device a line.
pub fn table(devices: &[DeviceRecord]) -> String {
    let mut rows = vec![
        [
            "UEID",
            "STATUS",
            "MODEL",
            "SERIAL",
            "SHA-256",
            "ENROLLED",
            "NOT AFTER",
            "FIRMWARE",
            "ATTESTATION",
        ]
        .map(String::from),
    ];
    for d in devices {
        rows.push([
            d.ueid.to_hex().as_str().to_owned(),
            d.status.as_str().to_owned(),
            d.model.clone().unwrap_or_else(|| "-".into()),
            hex::encode(&d.serial),
            format!(
                "{}..",
                hex::encode(d.fingerprint.get(..8).unwrap_or_default())
            ),
            utc(d.enrolled_at),
            utc(d.not_after),
            d.firmware_version.clone().unwrap_or_else(|| "-".into()),
            d.last_attestation
                .as_ref()
                .map_or_else(|| "-".into(), |a| a.result.clone()),
        ]);
    }
    let mut widths = [0usize; 9];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if devices.is_empty() {
        out.push_str("(no devices)\n");
    }
    out
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::{EatVerifier, device_evidence, sign_evidence, utc};
    use iot_attest::{Claims, IntendedUse, Nonce, Profile, cdsp};
    use iot_core::crypto::Rng;
    use iot_identity::device_dir::{DeviceDir, OsCrypto};
    use iot_identity::registrar::{
        INTENDED_USE_CERTIFICATE_ISSUANCE, InventoryStore, IssuancePolicy, IssueRequest,
        PossessionProof, Refusal, Registrar, RegistrarError, SqliteInventory,
    };
    use iot_identity::ueid::Ueid;

    const NOW: u64 = 1_767_225_600;

    /// A registrar requiring a signed challenge and evidence, and a device with its request out.
    struct Setup {
        _tmp: tempfile::TempDir,
        reg: Registrar<SqliteInventory>,
        dev: DeviceDir,
        csr: Vec<u8>,
        challenge: [u8; 32],
        proof: Vec<u8>,
        ueid: Ueid,
    }

    fn setup() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let ca = tmp.path().join("ca");
        drop(Registrar::init(&ca, "test CA", NOW, 3650 * 86_400).unwrap());
        Registrar::set_require_evidence(&ca, true).unwrap();
        let mut reg = Registrar::open(&ca).unwrap();
        reg.set_policy(IssuancePolicy {
            require_possession_proof: true,
            ..*reg.policy()
        });
        let ca_der = reg.ca().certificate_der().to_vec();
        let mut dev = DeviceDir::first_boot(&tmp.path().join("dev"), &[&ca_der]).unwrap();
        dev.device().generate_key().unwrap();
        let mut crypto = OsCrypto::from_os();
        let mut csr = [0u8; 512];
        let n = dev.device().issue_csr(&mut crypto, None, &mut csr).unwrap();
        let mut challenge = [0u8; 32];
        crypto.fill_random(&mut challenge).unwrap();
        let proof = dev.answer_challenge(&challenge).unwrap();
        let dev_ueid = dev.ueid();
        Setup {
            _tmp: tmp,
            reg,
            dev,
            csr: csr[..n].to_vec(),
            challenge,
            proof,
            ueid: dev_ueid,
        }
    }

    impl Setup {
        fn issue(&mut self, evidence: Option<&[u8]>) -> Result<(), RegistrarError> {
            let request = IssueRequest {
                possession: Some(PossessionProof {
                    challenge: &self.challenge,
                    proof: &self.proof,
                }),
                evidence,
                ..IssueRequest::new(&self.csr, NOW)
            };
            let issued = self.reg.issue(&request, Some(&mut EatVerifier))?;
            let appraisal = issued.appraisal.unwrap();
            assert_eq!(appraisal.result, "verified");
            assert_eq!(
                appraisal.intended_use,
                Some(INTENDED_USE_CERTIFICATE_ISSUANCE)
            );
            assert_eq!(
                issued.record.last_attestation.map(|a| a.result).as_deref(),
                Some("verified")
            );
            Ok(())
        }

        /// Refused with a reason, and nothing recorded.
        fn refused(&mut self, evidence: Option<&[u8]>) -> Refusal {
            let why = match self.issue(evidence) {
                Err(RegistrarError::Refused(why)) => why,
                other => panic!("expected a refusal, got {other:?}"),
            };
            assert_eq!(self.reg.inventory().get(&self.dev.ueid()).unwrap(), None);
            why
        }

        /// Evidence as [`device_evidence`] makes it, changed by `change`.
        fn evidence<'a>(&'a self, change: impl FnOnce(&mut Claims<'a>)) -> Vec<u8> {
            let ueid = &self.ueid;
            let mut claims = Claims {
                profile: Some(Profile::Uri(cdsp::PROFILE)),
                nonce: Some(Nonce::One(&self.challenge)),
                ueid: Some(ueid.as_bytes()),
                intuse: Some(IntendedUse::Csr),
                ..Claims::default()
            };
            change(&mut claims);
            sign_evidence(&self.dev, &claims).unwrap()
        }
    }

    #[test]
    fn evidence_for_certificate_issuance_is_required_and_checked() {
        let mut s = setup();
        assert_eq!(s.refused(None), Refusal::EvidenceMissing);
        let intuse2 = s.evidence(|c| c.intuse = Some(IntendedUse::Registration));
        assert_eq!(
            s.refused(Some(&intuse2)),
            Refusal::EvidenceIntendedUse(Some(2))
        );
        let no_intuse = s.evidence(|c| c.intuse = None);
        assert_eq!(
            s.refused(Some(&no_intuse)),
            Refusal::EvidenceIntendedUse(None)
        );
        let other_nonce = [0x55; 32];
        let wrong_nonce = s.evidence(|c| c.nonce = Some(Nonce::One(&other_nonce)));
        assert_eq!(s.refused(Some(&wrong_nonce)), Refusal::EvidenceNonce);
        let other_ueid = [0x01; 17];
        let wrong_ueid = s.evidence(|c| c.ueid = Some(&other_ueid));
        assert_eq!(s.refused(Some(&wrong_ueid)), Refusal::UeidMismatch);
        let no_profile = s.evidence(|c| c.profile = None);
        assert!(matches!(
            s.refused(Some(&no_profile)),
            Refusal::EvidenceRejected(_)
        ));
        let mut bad_signature = device_evidence(&s.dev, &s.challenge).unwrap();
        *bad_signature.last_mut().unwrap() ^= 1;
        assert!(matches!(
            s.refused(Some(&bad_signature)),
            Refusal::EvidenceRejected(_)
        ));
        // Another key's evidence (a second device's) does not verify under the request's key.
        let mut other = setup();
        let theirs = device_evidence(&other.dev, &s.challenge).unwrap();
        assert!(matches!(
            s.refused(Some(&theirs)),
            Refusal::EvidenceRejected(_)
        ));

        let good = device_evidence(&s.dev, &s.challenge).unwrap();
        s.issue(Some(&good)).unwrap();
        let record = s.reg.inventory().get(&s.dev.ueid()).unwrap().unwrap();
        assert_eq!(
            record.last_attestation.map(|a| a.result).as_deref(),
            Some("verified")
        );
        let good = device_evidence(&other.dev, &other.challenge).unwrap();
        other.issue(Some(&good)).unwrap();
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(utc(2_524_608_000), "2050-01-01T00:00:00Z");
    }
}
