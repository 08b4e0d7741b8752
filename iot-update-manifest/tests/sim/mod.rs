//! A simulated device for the processor tests: components in memory (keyed by their full path
//! and slot), URIs served from a table, identities, a sequence-number store, an A/B boot state,
//! and a power switch that can cut before or after any platform call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use iot_core::crypto::{RustCrypto, Sha256};
use iot_update_manifest::ab::{AbPlatform, BootState};
use iot_update_manifest::{
    Component, ComponentId, Identifier, Platform, PlatformError, PlatformResult, Record,
};
use std::collections::BTreeMap;

/// A component's address: its path segments and slot.
pub type Key = (Vec<Vec<u8>>, Option<u64>);

pub fn key(c: &Component<'_>) -> Key {
    (c.segments().map(<[u8]>::to_vec).collect(), c.slot)
}

/// A component path from string segments (slot `None`).
pub fn path(segments: &[&[u8]]) -> Key {
    (segments.iter().map(|s| s.to_vec()).collect(), None)
}

fn manifest_key(m: Option<&ComponentId<'_>>) -> Option<Vec<Vec<u8>>> {
    m.map(|id| id.segments().map(<[u8]>::to_vec).collect())
}

/// What survives a power cut.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flash {
    pub storage: BTreeMap<Key, Vec<u8>>,
    pub sequence: BTreeMap<Option<Vec<Vec<u8>>>, u64>,
    pub boot_state: Option<BootState>,
    pub envelopes: [Vec<u8>; 2],
}

/// When the power goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Call N does not happen.
    Before(usize),
    /// Call N happens, then the power goes.
    After(usize),
}

#[derive(Debug, Default)]
pub struct Sim {
    pub flash: Flash,
    /// URI => payload.
    pub uris: BTreeMap<String, Vec<u8>>,
    pub vendor_ids: Vec<Vec<u8>>,
    pub class_ids: Vec<Vec<u8>>,
    pub device_ids: Vec<Vec<u8>>,
    /// The slot `check_slot` accepts.
    pub slot: Option<u64>,
    /// Images whose digest the platform reports instead of hashing them (content => digest):
    /// stands in for payloads the vectors only give a sample digest for.
    pub declared: Vec<(Vec<u8>, [u8; 32])>,
    pub now: Option<u64>,
    pub battery: Option<u64>,
    pub authorized: bool,
    pub version: Option<Vec<i64>>,
    // What happened (RAM: lost at a power cut).
    pub fetched: Vec<String>,
    pub invoked: Vec<(Key, Option<Vec<u8>>, Vec<u8>)>,
    pub unlinked: Vec<Key>,
    pub waited: Vec<(Key, Option<Vec<u8>>)>,
    pub records: Vec<Record>,
    pub calls: usize,
    pub cut: Option<Cut>,
    pub dead: bool,
}

impl Sim {
    pub fn new() -> Self {
        Self::default()
    }

    /// A device that was switched off and on again: the flash, the environment and the
    /// configuration are kept, what happened in RAM is not.
    pub fn reboot(&self) -> Self {
        Self {
            flash: self.flash.clone(),
            uris: self.uris.clone(),
            vendor_ids: self.vendor_ids.clone(),
            class_ids: self.class_ids.clone(),
            device_ids: self.device_ids.clone(),
            slot: self.slot,
            declared: self.declared.clone(),
            now: self.now,
            battery: self.battery,
            authorized: self.authorized,
            version: self.version.clone(),
            ..Self::default()
        }
    }

    pub fn get(&self, k: &Key) -> Option<&Vec<u8>> {
        self.flash.storage.get(k)
    }

    fn before(&mut self) -> PlatformResult<()> {
        self.calls += 1;
        if self.dead {
            return Err(PlatformError::Io);
        }
        if self.cut == Some(Cut::Before(self.calls)) {
            self.dead = true;
            return Err(PlatformError::Io);
        }
        Ok(())
    }

    fn after<T>(&mut self, r: PlatformResult<T>) -> PlatformResult<T> {
        if self.cut == Some(Cut::After(self.calls)) {
            self.dead = true;
            return Err(PlatformError::Io);
        }
        r
    }
}

impl Platform for Sim {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        _component: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        self.before()?;
        let ids = match kind {
            Identifier::Vendor => &self.vendor_ids,
            Identifier::Class => &self.class_ids,
            Identifier::Device => &self.device_ids,
        };
        let r = Ok(ids.iter().any(|id| id == expected));
        self.after(r)
    }

    fn check_slot(&mut self, _component: &Component<'_>, slot: u64) -> PlatformResult<bool> {
        self.before()?;
        let r = Ok(self.slot == Some(slot));
        self.after(r)
    }

    fn fetch(&mut self, uri: &str, component: &Component<'_>) -> PlatformResult<()> {
        self.before()?;
        let r = match self.uris.get(uri) {
            Some(payload) => {
                self.flash.storage.insert(key(component), payload.clone());
                self.fetched.push(uri.to_owned());
                Ok(())
            }
            None => Err(PlatformError::Unavailable),
        };
        self.after(r)
    }

    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        self.before()?;
        let r = match self.uris.get(uri) {
            Some(payload) => {
                let rest = payload.get(offset as usize..).unwrap_or_default();
                // At most 7 bytes per call (less than a GCM tag): short reads are handled.
                let n = rest.len().min(buf.len()).min(7);
                buf[..n].copy_from_slice(&rest[..n]);
                if offset == 0 {
                    self.fetched.push(uri.to_owned());
                }
                Ok(n)
            }
            None => Err(PlatformError::Unavailable),
        };
        self.after(r)
    }

    fn read(
        &mut self,
        component: &Component<'_>,
        offset: u64,
        buf: &mut [u8],
    ) -> PlatformResult<usize> {
        self.before()?;
        let r = match self.flash.storage.get(&key(component)) {
            Some(data) => {
                let from = (offset as usize).min(data.len());
                let n = (data.len() - from).min(buf.len());
                buf[..n].copy_from_slice(&data[from..from + n]);
                Ok(n)
            }
            None => Err(PlatformError::NotFound),
        };
        self.after(r)
    }

    fn write(&mut self, component: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        self.before()?;
        let entry = self.flash.storage.entry(key(component)).or_default();
        entry.truncate(offset as usize);
        entry.resize(offset as usize, 0);
        entry.extend_from_slice(data);
        self.after(Ok(()))
    }

    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        self.before()?;
        let (ka, kb) = (key(a), key(b));
        let va = self.flash.storage.remove(&ka);
        let vb = self.flash.storage.remove(&kb);
        let r = match (va, vb) {
            (Some(va), Some(vb)) => {
                self.flash.storage.insert(ka, vb);
                self.flash.storage.insert(kb, va);
                Ok(())
            }
            (va, vb) => {
                if let Some(va) = va {
                    self.flash.storage.insert(ka, va);
                }
                if let Some(vb) = vb {
                    self.flash.storage.insert(kb, vb);
                }
                Err(PlatformError::NotFound)
            }
        };
        self.after(r)
    }

    fn digest(
        &mut self,
        component: &Component<'_>,
        len: Option<u64>,
    ) -> PlatformResult<Option<[u8; 32]>> {
        self.before()?;
        let content = self.flash.storage.get(&key(component));
        let r = Ok(content.and_then(|c| {
            if len.is_some_and(|l| l != c.len() as u64) {
                return None;
            }
            self.declared
                .iter()
                .find(|(image, _)| image == c)
                .map(|(_, d)| *d)
        }));
        self.after(r)
    }

    fn invoke(&mut self, component: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()> {
        self.before()?;
        let k = key(component);
        let r = match self.flash.storage.get(&k) {
            Some(image) => {
                let image = image.clone();
                self.invoked.push((k, args.map(<[u8]>::to_vec), image));
                Ok(())
            }
            None => Err(PlatformError::NotFound),
        };
        self.after(r)
    }

    fn report(&mut self, record: &Record) {
        self.records.push(*record);
    }

    fn stored_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>> {
        self.before()?;
        let r = Ok(self.flash.sequence.get(&manifest_key(manifest)).copied());
        self.after(r)
    }

    fn store_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
        sequence_number: u64,
    ) -> PlatformResult<()> {
        self.before()?;
        self.flash
            .sequence
            .insert(manifest_key(manifest), sequence_number);
        self.after(Ok(()))
    }

    fn unlink(&mut self, component: &Component<'_>) -> PlatformResult<()> {
        self.before()?;
        let k = key(component);
        self.flash.storage.remove(&k);
        self.unlinked.push(k);
        self.after(Ok(()))
    }

    fn now(&mut self) -> PlatformResult<Option<u64>> {
        self.before()?;
        let r = Ok(self.now);
        self.after(r)
    }

    fn battery_level(&mut self) -> PlatformResult<Option<u64>> {
        self.before()?;
        let r = Ok(self.battery);
        self.after(r)
    }

    fn update_authorized(&mut self, _priority: Option<i64>) -> PlatformResult<bool> {
        self.before()?;
        let r = Ok(self.authorized);
        self.after(r)
    }

    fn component_version(
        &mut self,
        _component: &Component<'_>,
        out: &mut [i64],
    ) -> PlatformResult<Option<usize>> {
        self.before()?;
        let r = Ok(self.version.as_ref().map(|v| {
            out[..v.len()].copy_from_slice(v);
            v.len()
        }));
        self.after(r)
    }

    fn wait(&mut self, component: &Component<'_>, wait_info: Option<&[u8]>) -> PlatformResult<()> {
        self.before()?;
        self.waited
            .push((key(component), wait_info.map(<[u8]>::to_vec)));
        self.after(Ok(()))
    }
}

impl AbPlatform for Sim {
    fn read_boot_state(&mut self) -> PlatformResult<Option<BootState>> {
        self.before()?;
        let r = Ok(self.flash.boot_state);
        self.after(r)
    }

    fn write_boot_state(&mut self, state: &BootState) -> PlatformResult<()> {
        self.before()?;
        self.flash.boot_state = Some(*state);
        self.after(Ok(()))
    }

    fn write_envelope(&mut self, slot: u8, envelope: &[u8]) -> PlatformResult<()> {
        self.before()?;
        let r = match self.flash.envelopes.get_mut(usize::from(slot)) {
            Some(e) => {
                *e = envelope.to_vec();
                Ok(())
            }
            None => Err(PlatformError::NotFound),
        };
        self.after(r)
    }

    fn read_envelope(&mut self, slot: u8, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        self.before()?;
        let r = match self.flash.envelopes.get(usize::from(slot)) {
            Some(data) => {
                let from = (offset as usize).min(data.len());
                let n = (data.len() - from).min(buf.len());
                buf[..n].copy_from_slice(&data[from..from + n]);
                Ok(n)
            }
            None => Err(PlatformError::NotFound),
        };
        self.after(r)
    }
}

/// SHA-256, for building declared digests and checking images.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    RustCrypto::from_os().sha256(data)
}
