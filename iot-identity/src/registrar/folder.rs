//! A registrar kept in a folder (feature `sqlite`): the CA key and certificate as PEM files
//! and the inventory as a SQLite file, which other tools can read directly.

use super::ca::{CERTIFICATE_LABEL, Ca, pem_decode};
use super::error::RegistrarError;
use super::issue::IssuancePolicy;
use super::service::Registrar;
use super::sqlite::SqliteInventory;
use alloc::vec::Vec;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The CA's private key, PKCS#8 PEM (RFC 5958, RFC 7468 section 10), mode 0600.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// The CA certificate, PEM: the trust anchor to hand to devices and verifiers.
pub const CA_CERT_FILE: &str = "ca-cert.pem";
/// The inventory, revocations and revocation list version (SQLite).
pub const INVENTORY_FILE: &str = "inventory.sqlite";
/// Present (empty) when issuance requires attestation evidence
/// ([`super::IssuancePolicy::require_evidence`]); [`Registrar::open`] reads it.
pub const REQUIRE_EVIDENCE_FILE: &str = "require-evidence";

impl Registrar<SqliteInventory> {
    /// Creates a registrar in `dir` (created if missing): a fresh CA `CN=<common_name>` valid
    /// from `now` for `validity_secs` seconds, and an empty inventory. Refuses a folder that
    /// already holds any of the three files; on failure removes what it wrote.
    pub fn init(
        dir: &Path,
        common_name: &str,
        now: u64,
        validity_secs: u64,
    ) -> Result<Self, RegistrarError> {
        fs::create_dir_all(dir)?;
        let paths = [CA_KEY_FILE, CA_CERT_FILE, INVENTORY_FILE].map(|f| dir.join(f));
        if paths.iter().any(|p| p.exists()) {
            return Err(RegistrarError::AlreadyExists);
        }
        let mut crypto = super::OsCrypto::from_os();
        let ca = Ca::generate(&mut crypto, common_name, now, validity_secs)?;
        let mut written: Vec<PathBuf> = Vec::new();
        let result = (|| {
            let [key, cert, inventory] = &paths;
            write_new(key, ca.key_pkcs8_pem()?.as_bytes(), 0o600, &mut written)?;
            write_new(cert, ca.certificate_pem()?.as_bytes(), 0o644, &mut written)?;
            written.push(inventory.clone());
            Ok::<_, RegistrarError>(SqliteInventory::open(inventory)?)
        })();
        match result {
            Ok(store) => Ok(Self::new(ca, store)),
            Err(e) => {
                for p in written {
                    let _ = fs::remove_file(p);
                }
                Err(e)
            }
        }
    }

    /// Opens the registrar in `dir`: its CA (the key must match the certificate), its
    /// inventory, and the default [`IssuancePolicy`] with `require_evidence` set when
    /// [`REQUIRE_EVIDENCE_FILE`] is there.
    pub fn open(dir: &Path) -> Result<Self, RegistrarError> {
        let key = zeroize::Zeroizing::new(fs::read_to_string(dir.join(CA_KEY_FILE))?);
        let cert = fs::read_to_string(dir.join(CA_CERT_FILE))?;
        let ca = Ca::from_pem(&key, &cert)?;
        let mut registrar = Self::new(ca, open_inventory(dir)?);
        registrar.set_policy(IssuancePolicy {
            require_evidence: dir.join(REQUIRE_EVIDENCE_FILE).exists(),
            ..IssuancePolicy::default()
        });
        Ok(registrar)
    }

    /// Records in `dir` whether issuance requires attestation evidence (creates or removes
    /// [`REQUIRE_EVIDENCE_FILE`]); a registrar opened afterwards follows it.
    pub fn set_require_evidence(dir: &Path, on: bool) -> Result<(), RegistrarError> {
        let path = dir.join(REQUIRE_EVIDENCE_FILE);
        match (on, path.exists()) {
            (true, false) => write_new(&path, &[], 0o644, &mut Vec::new()),
            (false, true) => Ok(fs::remove_file(path)?),
            _ => Ok(()),
        }
    }
}

/// What a registrar folder publishes, opened without its CA key: the CA certificate and the
/// inventory, for checking certificates and reading the inventory.
#[derive(Debug)]
pub struct RegistrarRecords {
    /// The CA certificate, DER.
    pub ca_certificate: Vec<u8>,
    /// The inventory and revocations.
    pub inventory: SqliteInventory,
}

impl RegistrarRecords {
    /// Opens the records of the registrar in `dir` ([`CA_CERT_FILE`] and [`INVENTORY_FILE`]);
    /// [`CA_KEY_FILE`] is not read.
    pub fn open(dir: &Path) -> Result<Self, RegistrarError> {
        let cert = fs::read_to_string(dir.join(CA_CERT_FILE))?;
        Ok(Self {
            ca_certificate: pem_decode(CERTIFICATE_LABEL, &cert)?,
            inventory: open_inventory(dir)?,
        })
    }
}

/// The inventory of the registrar in `dir`, which must exist.
fn open_inventory(dir: &Path) -> Result<SqliteInventory, RegistrarError> {
    let inventory = dir.join(INVENTORY_FILE);
    if !inventory.exists() {
        return Err(RegistrarError::Io(std::io::ErrorKind::NotFound.into()));
    }
    Ok(SqliteInventory::open(&inventory)?)
}

/// Writes a new file (never replaces one) with `mode` on Unix, and notes it in `written`.
fn write_new(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    written: &mut Vec<PathBuf>,
) -> Result<(), RegistrarError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path)?;
    written.push(path.to_path_buf());
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}
