//! The registrar's inventory of devices behind a store trait, and its in-memory store.

use crate::ueid::Ueid;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// A device's lifecycle status as the registrar sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeviceStatus {
    /// A certificate was issued.
    Enrolled,
    /// The device reported in service (the operator's call).
    Active,
    /// Its certificate is revoked; it gets no new one.
    Revoked,
    /// Taken out of service (its receipt was checked); it gets no new certificate.
    Decommissioned,
}

impl DeviceStatus {
    /// The lower-case name stored and shown: `enrolled`, `active`, `revoked`, `decommissioned`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Enrolled => "enrolled",
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Decommissioned => "decommissioned",
        }
    }

    /// The status named by [`Self::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Enrolled,
            Self::Active,
            Self::Revoked,
            Self::Decommissioned,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Whether a device in this status may be given a new certificate.
    pub const fn may_enrol(self) -> bool {
        matches!(self, Self::Enrolled | Self::Active)
    }
}

/// The outcome of the last appraisal of a device's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationRecord {
    /// When (seconds since the Unix epoch).
    pub time: u64,
    /// The verifier's verdict, e.g. an EAR status (`affirming`, `warning`, `contraindicated`).
    pub result: String,
}

/// One device of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The device's UEID (the key of the inventory).
    pub ueid: Ueid,
    /// Its model, when known.
    pub model: Option<String>,
    /// The serial number of its current certificate (content octets, no leading zero).
    pub serial: Vec<u8>,
    /// SHA-256 of its current certificate's DER.
    pub fingerprint: [u8; 32],
    /// The end of the certificate's validity, seconds since the Unix epoch.
    pub not_after: u64,
    /// When the certificate was issued.
    pub enrolled_at: u64,
    /// Its firmware version, when known.
    pub firmware_version: Option<String>,
    /// Its lifecycle status.
    pub status: DeviceStatus,
    /// The last appraisal of its evidence, if any.
    pub last_attestation: Option<AttestationRecord>,
}

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The certificate's serial number (content octets).
    pub serial: Vec<u8>,
    /// The device it was issued to.
    pub ueid: Ueid,
    /// When it was revoked (seconds since the Unix epoch).
    pub time: u64,
}

/// Why the inventory store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// No such device.
    NotFound,
    /// The database refused or failed: its message.
    Backend(String),
    /// A stored value that does not decode (a UEID, a fingerprint, a status): which.
    Corrupt(&'static str),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("no such device"),
            Self::Backend(m) => write!(f, "inventory store: {m}"),
            Self::Corrupt(what) => write!(f, "inventory store holds an invalid {what}"),
        }
    }
}

impl core::error::Error for StoreError {}

/// Where the registrar keeps its devices, its revocations and its list version. A cloud
/// service implements this over its own database; every method is one atomic change.
pub trait InventoryStore {
    /// Inserts the device, or replaces the record with the same UEID (a re-enrolment).
    fn upsert(&mut self, record: &DeviceRecord) -> Result<(), StoreError>;
    /// The device with `ueid`.
    fn get(&self, ueid: &Ueid) -> Result<Option<DeviceRecord>, StoreError>;
    /// The device whose current certificate has `serial`.
    fn get_by_serial(&self, serial: &[u8]) -> Result<Option<DeviceRecord>, StoreError>;
    /// Every device, ordered by enrolment time.
    fn list(&self) -> Result<Vec<DeviceRecord>, StoreError>;
    /// Sets a device's lifecycle status; [`StoreError::NotFound`] if it is not there.
    fn set_status(&mut self, ueid: &Ueid, status: DeviceStatus) -> Result<(), StoreError>;
    /// Records the last appraisal of a device's evidence.
    fn record_attestation(
        &mut self,
        ueid: &Ueid,
        attestation: &AttestationRecord,
    ) -> Result<(), StoreError>;
    /// Records a device's firmware version.
    fn set_firmware_version(&mut self, ueid: &Ueid, version: &str) -> Result<(), StoreError>;
    /// Adds `entry` to the revocations and marks its device [`DeviceStatus::Revoked`], both or
    /// neither; a serial already revoked is not added twice.
    fn revoke(&mut self, entry: &RevokedEntry) -> Result<(), StoreError>;
    /// Every revocation, oldest first.
    fn revocations(&self) -> Result<Vec<RevokedEntry>, StoreError>;
    /// Whether the certificate with `serial` is revoked.
    fn is_revoked(&self, serial: &[u8]) -> Result<bool, StoreError> {
        Ok(self.revocations()?.iter().any(|r| r.serial == serial))
    }
    /// Advances the revocation list version and returns the new one (1 the first time). It
    /// never goes back, so that a relying party can refuse an older list.
    fn next_list_version(&mut self) -> Result<u64, StoreError>;
}

/// An inventory in memory (tests, short-lived tools).
#[derive(Debug, Clone, Default)]
pub struct MemoryInventory {
    devices: Vec<DeviceRecord>,
    revoked: Vec<RevokedEntry>,
    version: u64,
}

impl MemoryInventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    fn find_mut(&mut self, ueid: &Ueid) -> Result<&mut DeviceRecord, StoreError> {
        self.devices
            .iter_mut()
            .find(|d| d.ueid == *ueid)
            .ok_or(StoreError::NotFound)
    }
}

impl InventoryStore for MemoryInventory {
    fn upsert(&mut self, record: &DeviceRecord) -> Result<(), StoreError> {
        match self.devices.iter_mut().find(|d| d.ueid == record.ueid) {
            Some(d) => *d = record.clone(),
            None => self.devices.push(record.clone()),
        }
        Ok(())
    }

    fn get(&self, ueid: &Ueid) -> Result<Option<DeviceRecord>, StoreError> {
        Ok(self.devices.iter().find(|d| d.ueid == *ueid).cloned())
    }

    fn get_by_serial(&self, serial: &[u8]) -> Result<Option<DeviceRecord>, StoreError> {
        Ok(self.devices.iter().find(|d| d.serial == serial).cloned())
    }

    fn list(&self) -> Result<Vec<DeviceRecord>, StoreError> {
        let mut all = self.devices.clone();
        all.sort_by_key(|d| d.enrolled_at);
        Ok(all)
    }

    fn set_status(&mut self, ueid: &Ueid, status: DeviceStatus) -> Result<(), StoreError> {
        self.find_mut(ueid)?.status = status;
        Ok(())
    }

    fn record_attestation(
        &mut self,
        ueid: &Ueid,
        attestation: &AttestationRecord,
    ) -> Result<(), StoreError> {
        self.find_mut(ueid)?.last_attestation = Some(attestation.clone());
        Ok(())
    }

    fn set_firmware_version(&mut self, ueid: &Ueid, version: &str) -> Result<(), StoreError> {
        self.find_mut(ueid)?.firmware_version = Some(version.into());
        Ok(())
    }

    fn revoke(&mut self, entry: &RevokedEntry) -> Result<(), StoreError> {
        self.find_mut(&entry.ueid)?.status = DeviceStatus::Revoked;
        if !self.revoked.iter().any(|r| r.serial == entry.serial) {
            self.revoked.push(entry.clone());
        }
        Ok(())
    }

    fn revocations(&self) -> Result<Vec<RevokedEntry>, StoreError> {
        Ok(self.revoked.clone())
    }

    fn next_list_version(&mut self) -> Result<u64, StoreError> {
        self.version = self
            .version
            .checked_add(1)
            .ok_or(StoreError::Corrupt("list version"))?;
        Ok(self.version)
    }
}
