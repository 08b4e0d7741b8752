//! A device kept in a folder (feature `device-dir`, std): the first-boot identity of
//! [`crate::enrolment`] on a host, for tools, gateways' test rigs and CI.
//!
//! The folder stands in for a device's fuses and flash:
//!
//! - [`SECRET_FILE`]: 32 random bytes made at first boot (mode 0600), the unique device secret.
//!   The UEID is derived from it ([`Ueid::derive`], RFC 9711 section 4.2.1 type RAND), and so is
//!   the sealing key: HKDF-SHA-256 of the CDI_Seal of a DICE layer (Open Profile for DICE) started
//!   on the secret in mode Normal.
//! - [`KEY_FILE`]: the identity key sealed by [`SoftwareKeyStore::seal`] (COSE_Encrypt0, A128GCM),
//!   written when the key is generated and removed when it is destroyed.
//! - [`RECORD_FILE`]: the lifecycle record, [`Persistence::write_record`] replaces it atomically
//!   (a new file renamed over the old one).
//! - [`CERT_FILE`]: the installed certificate as PEM, followed by the chain up to the CA, so that
//!   other tools can use it directly (`openssl verify -CAfile ca-cert.pem device-cert.pem`).
//! - [`CREDENTIAL_FILE`]: the CWT credential the registrar issued with the certificate.

use crate::enrolment::{Device, EnrolmentError, Lifecycle, POSSESSION_AAD, Persistence};
use crate::enrolment::{PersistenceError, RECORD_LEN};
use crate::keystore::{KeySlot, KeyStore, KeyStoreError, P256PublicKey, StoreSigner};
use crate::keystore::{SEALED_KEY_MAX_LEN, SoftwareKeyStore};
use crate::ueid::{RandLen, Ueid, UeidError};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use iot_core::cose::{Algorithm, Sign1Builder};
use iot_core::crypto::{HkdfSha256, P256_SIGNATURE_LEN, Rng, RustCrypto, SHA256_LEN};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The unique device secret (32 bytes, mode 0600).
pub const SECRET_FILE: &str = "device-secret.bin";
/// The sealed identity key (COSE_Encrypt0).
pub const KEY_FILE: &str = "identity-key.cose";
/// The lifecycle record ([`RECORD_LEN`] bytes).
pub const RECORD_FILE: &str = "lifecycle.bin";
/// The device certificate and the chain up to the CA, PEM.
pub const CERT_FILE: &str = "device-cert.pem";
/// The CWT credential (RFC 8392) issued with the certificate.
pub const CREDENTIAL_FILE: &str = "device-cred.cwt";
/// The key slot of the identity key.
pub const SLOT: KeySlot = KeySlot(0);

const SECRET_LEN: usize = 32;
const SEALING_INFO: &[u8] = b"iot-identity device-dir sealing key v1";
const CERTIFICATE_LABEL: &str = "CERTIFICATE";

/// The operating system's RustCrypto backend.
pub type OsCrypto = RustCrypto<getrandom::SysRng>;

/// Why a device folder could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum DeviceDirError {
    /// The folder holds no device (no [`SECRET_FILE`]).
    NoDevice,
    /// The device secret is not 32 bytes.
    BadSecret,
    /// [`CERT_FILE`] is not PEM certificates.
    BadPem,
    /// A step of the lifecycle failed.
    Enrolment(EnrolmentError),
    /// The UEID could not be derived.
    Ueid(UeidError),
    /// Reading or writing the folder failed.
    Io(std::io::Error),
}

impl fmt::Display for DeviceDirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoDevice => write!(f, "no device here ({SECRET_FILE} missing)"),
            Self::BadSecret => write!(f, "{SECRET_FILE} is not {SECRET_LEN} bytes"),
            Self::BadPem => write!(f, "{CERT_FILE} does not hold PEM certificates"),
            Self::Enrolment(e) => e.fmt(f),
            Self::Ueid(e) => e.fmt(f),
            Self::Io(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for DeviceDirError {}

impl From<EnrolmentError> for DeviceDirError {
    fn from(e: EnrolmentError) -> Self {
        Self::Enrolment(e)
    }
}
impl From<KeyStoreError> for DeviceDirError {
    fn from(e: KeyStoreError) -> Self {
        Self::Enrolment(EnrolmentError::KeyStore(e))
    }
}
impl From<iot_core::Error> for DeviceDirError {
    fn from(e: iot_core::Error) -> Self {
        Self::Enrolment(EnrolmentError::Core(e))
    }
}
impl From<std::io::Error> for DeviceDirError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Replaces `path` atomically: a new file, synced, renamed over the old one.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let mut tmp = std::ffi::OsString::from(path.as_os_str());
    tmp.push(".new");
    let tmp = PathBuf::from(tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().and_then(|d| fs::File::open(d).ok()) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The bytes of `path`, `None` when it does not exist.
fn read_optional(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The DER certificates of a PEM text, in order (RFC 7468 section 5).
pub fn pem_certificates(text: &str) -> Result<Vec<Vec<u8>>, DeviceDirError> {
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(END) {
        let (block, tail) = rest.split_at(at.saturating_add(END.len()));
        let (label, der) =
            der::pem::decode_vec(block.trim().as_bytes()).map_err(|_| DeviceDirError::BadPem)?;
        if label != CERTIFICATE_LABEL {
            return Err(DeviceDirError::BadPem);
        }
        out.push(der);
        rest = tail;
    }
    if out.is_empty() || !rest.trim().is_empty() {
        return Err(DeviceDirError::BadPem);
    }
    Ok(out)
}

/// DER certificates as one PEM text.
pub fn certificates_pem(certificates: &[&[u8]]) -> Result<String, DeviceDirError> {
    let mut text = String::new();
    for der in certificates {
        text.push_str(
            &der::pem::encode_string(CERTIFICATE_LABEL, der::pem::LineEnding::LF, der)
                .map_err(|_| DeviceDirError::BadPem)?,
        );
    }
    Ok(text)
}

/// A [`SoftwareKeyStore`] of one slot whose key lives sealed in [`KEY_FILE`].
pub struct DirKeyStore {
    inner: SoftwareKeyStore<OsCrypto, 1>,
    path: PathBuf,
}

impl fmt::Debug for DirKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirKeyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DirKeyStore {
    /// The store over `dir/`[`KEY_FILE`], sealing under `sealing_key`; unseals the key if the
    /// file is there.
    fn open(dir: &Path, sealing_key: &[u8]) -> Result<Self, DeviceDirError> {
        let mut inner = SoftwareKeyStore::new(OsCrypto::from_os(), sealing_key)?;
        let path = dir.join(KEY_FILE);
        if let Some(sealed) = read_optional(&path)? {
            inner.unseal(SLOT, &sealed)?;
        }
        Ok(Self { inner, path })
    }
}

impl KeyStore for DirKeyStore {
    /// Generates the key and writes it sealed; a key that could not be written is destroyed.
    fn generate(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError> {
        let public = self.inner.generate(slot)?;
        let mut sealed = Zeroizing::new([0u8; SEALED_KEY_MAX_LEN]);
        let written = self.inner.seal(slot, sealed.as_mut()).and_then(|n| {
            let bytes = sealed.get(..n).unwrap_or_default();
            write_atomic(&self.path, bytes, 0o600)
                .map_err(|_| KeyStoreError::Core(iot_core::Error::Backend))
        });
        if let Err(e) = written {
            let _ = self.inner.destroy(slot);
            return Err(e);
        }
        Ok(public)
    }

    fn public_key(&mut self, slot: KeySlot) -> Result<P256PublicKey, KeyStoreError> {
        self.inner.public_key(slot)
    }

    fn sign_digest(
        &mut self,
        slot: KeySlot,
        digest: &[u8; SHA256_LEN],
    ) -> Result<[u8; P256_SIGNATURE_LEN], KeyStoreError> {
        self.inner.sign_digest(slot, digest)
    }

    /// Removes the sealed key, then zeroizes the key in memory.
    fn destroy(&mut self, slot: KeySlot) -> Result<(), KeyStoreError> {
        if slot == SLOT {
            match fs::remove_file(&self.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => return Err(KeyStoreError::Core(iot_core::Error::Backend)),
            }
        }
        self.inner.destroy(slot)
    }
}

/// The record and certificate files of a device folder. The certificate is written as PEM
/// followed by `chain` (the certificates above it, up to the CA).
#[derive(Debug)]
pub struct DirPersistence {
    dir: PathBuf,
    chain: Vec<Vec<u8>>,
}

impl Persistence for DirPersistence {
    fn read_record(&mut self, out: &mut [u8; RECORD_LEN]) -> Result<bool, PersistenceError> {
        match read_optional(&self.dir.join(RECORD_FILE)).map_err(|_| PersistenceError)? {
            None => Ok(false),
            Some(bytes) => {
                *out = bytes.as_slice().try_into().map_err(|_| PersistenceError)?;
                Ok(true)
            }
        }
    }

    fn write_record(&mut self, record: &[u8; RECORD_LEN]) -> Result<(), PersistenceError> {
        write_atomic(&self.dir.join(RECORD_FILE), record, 0o644).map_err(|_| PersistenceError)
    }

    fn write_certificate(&mut self, der: &[u8]) -> Result<(), PersistenceError> {
        let mut all: Vec<&[u8]> = Vec::with_capacity(self.chain.len().saturating_add(1));
        all.push(der);
        all.extend(self.chain.iter().map(Vec::as_slice));
        let pem = certificates_pem(&all).map_err(|_| PersistenceError)?;
        write_atomic(&self.dir.join(CERT_FILE), pem.as_bytes(), 0o644).map_err(|_| PersistenceError)
    }

    fn read_certificate(&mut self, out: &mut [u8]) -> Result<usize, PersistenceError> {
        let Some(text) = read_optional(&self.dir.join(CERT_FILE)).map_err(|_| PersistenceError)?
        else {
            return Ok(0);
        };
        let text = String::from_utf8(text).map_err(|_| PersistenceError)?;
        let certs = pem_certificates(&text).map_err(|_| PersistenceError)?;
        let leaf = certs.first().ok_or(PersistenceError)?;
        out.get_mut(..leaf.len())
            .ok_or(PersistenceError)?
            .copy_from_slice(leaf);
        Ok(leaf.len())
    }
}

/// A device kept in a folder: its [`Device`] over a [`DirKeyStore`] and a [`DirPersistence`].
pub struct DeviceDir {
    dir: PathBuf,
    sealing_key: Zeroizing<[u8; 16]>,
    device: Device<DirKeyStore, DirPersistence>,
}

impl fmt::Debug for DeviceDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceDir")
            .field("dir", &self.dir)
            .field("ueid", self.device.ueid())
            .field("state", &self.device.state())
            .finish_non_exhaustive()
    }
}

impl DeviceDir {
    /// Boots the device in `dir`; at first boot (no [`SECRET_FILE`]) creates the folder and a
    /// fresh device secret. `chain` is what follows the device's certificate in [`CERT_FILE`]
    /// when one is installed: the certificates above it up to the CA.
    pub fn first_boot(dir: &Path, chain: &[&[u8]]) -> Result<Self, DeviceDirError> {
        fs::create_dir_all(dir)?;
        let path = dir.join(SECRET_FILE);
        if !path.exists() {
            let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
            OsCrypto::from_os().fill_random(secret.as_mut())?;
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path)?;
            file.write_all(secret.as_ref())?;
            file.sync_all()?;
        }
        Self::boot(dir, chain.iter().map(|c| c.to_vec()).collect())
    }

    /// Boots the device in `dir`, which must hold one; the chain above its certificate is
    /// kept as [`CERT_FILE`] has it.
    pub fn open(dir: &Path) -> Result<Self, DeviceDirError> {
        if !dir.join(SECRET_FILE).exists() {
            return Err(DeviceDirError::NoDevice);
        }
        let chain = match read_optional(&dir.join(CERT_FILE))? {
            Some(text) => {
                let text = String::from_utf8(text).map_err(|_| DeviceDirError::BadPem)?;
                pem_certificates(&text)?.into_iter().skip(1).collect()
            }
            None => Vec::new(),
        };
        Self::boot(dir, chain)
    }

    fn boot(dir: &Path, chain: Vec<Vec<u8>>) -> Result<Self, DeviceDirError> {
        let secret = Zeroizing::new(fs::read(dir.join(SECRET_FILE))?);
        let secret: &[u8; SECRET_LEN] = secret
            .as_slice()
            .try_into()
            .map_err(|_| DeviceDirError::BadSecret)?;
        let mut crypto = OsCrypto::from_os();
        let ueid =
            Ueid::derive(&mut crypto, secret, RandLen::Bits128).map_err(DeviceDirError::Ueid)?;
        let sealing_key = sealing_key(&mut crypto, secret)?;
        let store = DirKeyStore::open(dir, sealing_key.as_ref())?;
        let persistence = DirPersistence {
            dir: dir.to_path_buf(),
            chain,
        };
        let device = Device::boot(&mut crypto, store, persistence, SLOT, ueid)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            sealing_key,
            device,
        })
    }

    /// The device's lifecycle, key and certificate.
    pub fn device(&mut self) -> &mut Device<DirKeyStore, DirPersistence> {
        &mut self.device
    }

    /// The device's UEID.
    pub fn ueid(&self) -> Ueid {
        *self.device.ueid()
    }

    /// The lifecycle state.
    pub fn state(&self) -> Lifecycle {
        self.device.state()
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Answers a registrar's challenge while the certificate request is out (state `CsrIssued`):
    /// a COSE_Sign1 (ES256) over `challenge` with external AAD [`POSSESSION_AAD`], signed with
    /// the sealed identity key, which is unsealed into a store of its own and zeroized after.
    pub fn answer_challenge(&self, challenge: &[u8]) -> Result<Vec<u8>, DeviceDirError> {
        let mut out = alloc::vec![0u8; challenge.len().saturating_add(128)];
        let n = self.with_identity_signer(|signer| {
            Sign1Builder::new(Algorithm::Es256).sign(
                &mut OsCrypto::from_os(),
                signer,
                challenge,
                POSSESSION_AAD,
                &mut out,
            )
        })??;
        out.truncate(n);
        Ok(out)
    }

    /// Runs `sign` with a signer over the sealed identity key while the certificate request is
    /// out (state `CsrIssued`), e.g. to sign attestation evidence for the registrar (an EAT
    /// with intended use 4, RFC 9711 section 4.3.3). The key is unsealed into a store of its
    /// own, which is zeroized after.
    pub fn with_identity_signer<T>(
        &self,
        sign: impl FnOnce(&mut StoreSigner<'_, DirKeyStore>) -> T,
    ) -> Result<T, DeviceDirError> {
        if self.device.state() != Lifecycle::CsrIssued {
            return Err(EnrolmentError::WrongState {
                expected: Lifecycle::CsrIssued,
                found: self.device.state(),
            }
            .into());
        }
        let mut store = DirKeyStore::open(&self.dir, self.sealing_key.as_ref())?;
        Ok(sign(&mut StoreSigner::new(&mut store, SLOT)))
    }

    /// The certificates of [`CERT_FILE`]: the device's, then the chain up to the CA.
    pub fn certificate_chain(&self) -> Result<Vec<Vec<u8>>, DeviceDirError> {
        let text = fs::read_to_string(self.dir.join(CERT_FILE))?;
        pem_certificates(&text)
    }
}

/// HKDF-SHA-256 (RFC 5869) of the CDI_Seal of a DICE layer started on `secret` in mode Normal,
/// 16 bytes (an A128GCM sealing key).
fn sealing_key(
    crypto: &mut OsCrypto,
    secret: &[u8; SECRET_LEN],
) -> Result<Zeroizing<[u8; 16]>, DeviceDirError> {
    use crate::dice::{Cdis, InputValues, Mode, Uds, derive_cdis};
    let uds = Uds::from_bytes(*secret);
    let inputs = InputValues {
        mode: Mode::Normal,
        ..InputValues::default()
    };
    let cdis = derive_cdis(crypto, &Cdis::from_uds(&uds), &inputs)
        .map_err(|_| iot_core::Error::Backend)?;
    let mut key = Zeroizing::new([0u8; 16]);
    crypto.hkdf_sha256(&[], cdis.seal.as_bytes(), SEALING_INFO, key.as_mut())?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn pem_round_trip_and_refusals() {
        let (a, b) = ([0x30u8, 1, 2].as_slice(), [0x30u8, 3].as_slice());
        let text = certificates_pem(&[a, b]).unwrap();
        assert_eq!(pem_certificates(&text).unwrap(), [a.to_vec(), b.to_vec()]);
        for bad in [
            String::new(),
            alloc::format!("{text}trailing"),
            text.replace("CERTIFICATE", "PRIVATE KEY"),
            text.replace("MAEC", "M!EC"),
        ] {
            assert!(pem_certificates(&bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn files_round_trip_and_the_key_stays_sealed() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = DirPersistence {
            dir: tmp.path().to_path_buf(),
            chain: alloc::vec![alloc::vec![0x30, 0]],
        };
        let mut record = [0u8; RECORD_LEN];
        assert!(!p.read_record(&mut record).unwrap());
        assert_eq!(p.read_certificate(&mut [0u8; 8]).unwrap(), 0);
        p.write_record(&[7; RECORD_LEN]).unwrap();
        assert!(p.read_record(&mut record).unwrap());
        assert_eq!(record, [7; RECORD_LEN]);
        p.write_certificate(&[0x30, 1, 9]).unwrap();
        let mut out = [0u8; 8];
        assert_eq!(p.read_certificate(&mut out).unwrap(), 3);
        assert_eq!(&out[..3], &[0x30, 1, 9]);
        assert!(
            p.read_certificate(&mut [0u8; 2]).is_err(),
            "buffer too small"
        );
        let text = fs::read_to_string(tmp.path().join(CERT_FILE)).unwrap();
        assert_eq!(pem_certificates(&text).unwrap().len(), 2, "leaf and chain");

        let sealing = [5u8; 16];
        let mut store = DirKeyStore::open(tmp.path(), &sealing).unwrap();
        let public = store.generate(SLOT).unwrap();
        let sealed = fs::read(tmp.path().join(KEY_FILE)).unwrap();
        assert_eq!(sealed.first(), Some(&0xd0), "COSE_Encrypt0");
        let mut again = DirKeyStore::open(tmp.path(), &sealing).unwrap();
        assert_eq!(again.public_key(SLOT).unwrap(), public);
        assert!(matches!(
            DirKeyStore::open(tmp.path(), &[6u8; 16]),
            Err(DeviceDirError::Enrolment(EnrolmentError::KeyStore(
                KeyStoreError::Tampered
            )))
        ));
        again.destroy(SLOT).unwrap();
        assert!(!tmp.path().join(KEY_FILE).exists());
        assert_eq!(again.public_key(SLOT), Err(KeyStoreError::EmptySlot(SLOT)));
        assert!(
            DirKeyStore::open(tmp.path(), &sealing).is_ok(),
            "no key: empty store"
        );
    }

    #[test]
    fn the_secret_gives_the_same_ueid_and_no_secret_no_device() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dev");
        assert!(matches!(
            DeviceDir::open(&dir),
            Err(DeviceDirError::NoDevice)
        ));
        let first = DeviceDir::first_boot(&dir, &[]).unwrap();
        assert_eq!(first.state(), Lifecycle::Unprovisioned);
        let ueid = first.ueid();
        drop(first);
        assert_eq!(DeviceDir::open(&dir).unwrap().ueid(), ueid);
        assert!(matches!(
            DeviceDir::open(&dir).unwrap().answer_challenge(b"c"),
            Err(DeviceDirError::Enrolment(EnrolmentError::WrongState { .. }))
        ));
        fs::write(dir.join(SECRET_FILE), [1u8; 31]).unwrap();
        assert!(matches!(
            DeviceDir::open(&dir),
            Err(DeviceDirError::BadSecret)
        ));
    }
}
