//! A/B updates with a tentative image (draft-ietf-suit-manifest "A/B Image Template",
//! RFC 9019 section 3 on resilience to power loss).
//!
//! Two slots hold an image each, with the envelope that installed it. An update is installed and
//! validated in the inactive slot, then a single write of the [`BootState`] switches to it as a
//! *trial*. The next boot marks the trial as booted and runs it; the application then
//! [`AbDevice::confirm`]s it. A trial that was booted and not confirmed is abandoned at the
//! following boot, and the known-good slot runs again.
//!
//! Every step is one [`Platform`] / [`AbPlatform`] call, and the only writes that change what
//! boots are [`AbPlatform::write_boot_state`] calls, so a power cut before or after any call
//! leaves a device that boots an authentic, validated image.
//!
//! The anti-rollback counter ([`Platform::store_sequence_number`]) advances when a trial is
//! confirmed (after install, validate and a boot succeeded), not at the switch: the fallback
//! image must stay bootable until then. Updates must exceed both the stored counter and the
//! known-good image's sequence number, and are refused while a trial is pending. The counters of
//! the dependency manifests stored in the slot advance with it, before it (feature
//! `dependencies`). If power fails between the confirming state write and the last counter write,
//! the next boot of the confirmed image advances the counters.

use crate::component::ComponentId;
use crate::envelope::{AuthenticatedManifest, TrustAnchors};
use crate::error::{Error, Result};
use crate::platform::{Component, Identifier, Platform, PlatformError, PlatformResult, Record};
use crate::process::{Processor, SuitCrypto};
use iot_core::crypto::Verifier;

/// Bytes of an encoded [`BootState`] ([`BootState::to_bytes`]).
pub const BOOT_STATE_LEN: usize = 32;

const MAGIC: [u8; 2] = *b"AB";
const FORMAT: u8 = 1;

/// An image on trial: installed and validated, switched to, not yet confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    /// Its slot.
    pub slot: u8,
    /// Its manifest's sequence number.
    pub sequence: u64,
    /// Whether a boot has started it (a second boot without confirmation reverts).
    pub booted: bool,
}

/// The persistent A/B state, written atomically through [`AbPlatform::write_boot_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootState {
    /// The known-good slot, 0 or 1.
    pub active: u8,
    /// The sequence number of the known-good slot's manifest.
    pub active_sequence: u64,
    /// The tentative image, if any.
    pub trial: Option<Trial>,
}

impl BootState {
    /// The slot an update is installed into.
    pub fn inactive(&self) -> u8 {
        1 - (self.active & 1)
    }

    /// A fixed-size encoding with a CRC-32, for a platform that keeps the state in flash.
    pub fn to_bytes(&self) -> [u8; BOOT_STATE_LEN] {
        let mut out = [0u8; BOOT_STATE_LEN];
        let (flag, slot, sequence) = match self.trial {
            None => (0u8, 0u8, 0u64),
            Some(t) => (1 + u8::from(t.booted), t.slot, t.sequence),
        };
        let fields: [(usize, &[u8]); 7] = [
            (0, &MAGIC),
            (2, &[FORMAT]),
            (3, &[self.active]),
            (4, &self.active_sequence.to_be_bytes()),
            (12, &[flag]),
            (13, &[slot]),
            (14, &sequence.to_be_bytes()),
        ];
        for (at, bytes) in fields {
            if let Some(d) = out.get_mut(at..at + bytes.len()) {
                d.copy_from_slice(bytes);
            }
        }
        let crc = crc32(out.get(..28).unwrap_or_default());
        if let Some(d) = out.get_mut(28..) {
            d.copy_from_slice(&crc.to_be_bytes());
        }
        out
    }

    /// Decodes [`BootState::to_bytes`]; `None` for a torn or foreign record.
    pub fn from_bytes(bytes: &[u8; BOOT_STATE_LEN]) -> Option<Self> {
        let u64_at = |at: usize| {
            bytes
                .get(at..at + 8)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map(u64::from_be_bytes)
        };
        let crc = bytes
            .get(28..)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_be_bytes)?;
        if crc != crc32(bytes.get(..28)?) || bytes.get(..2)? != MAGIC || *bytes.get(2)? != FORMAT {
            return None;
        }
        let active = *bytes.get(3)?;
        let slot = *bytes.get(13)?;
        if active > 1 || slot > 1 {
            return None;
        }
        let trial = match *bytes.get(12)? {
            0 => None,
            flag @ (1 | 2) => Some(Trial {
                slot,
                sequence: u64_at(14)?,
                booted: flag == 2,
            }),
            _ => return None,
        };
        Some(Self {
            active,
            active_sequence: u64_at(4)?,
            trial,
        })
    }
}

/// CRC-32 (IEEE 802.3, reflected).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// The persistent parts of an A/B device beyond [`Platform`]: the boot state and the envelope
/// installed with each slot's image.
pub trait AbPlatform: Platform {
    /// The boot state; `Ok(None)` when none was ever written.
    fn read_boot_state(&mut self) -> PlatformResult<Option<BootState>>;
    /// Writes the boot state atomically (two copies with a sequence, a journaled page, ...).
    fn write_boot_state(&mut self, state: &BootState) -> PlatformResult<()>;
    /// Stores the envelope that installed `slot`'s image.
    fn write_envelope(&mut self, slot: u8, envelope: &[u8]) -> PlatformResult<()>;
    /// Reads `slot`'s envelope at `offset`; 0 at the end.
    fn read_envelope(&mut self, slot: u8, offset: u64, buf: &mut [u8]) -> PlatformResult<usize>;
}

impl<P: AbPlatform + ?Sized> AbPlatform for &mut P {
    fn read_boot_state(&mut self) -> PlatformResult<Option<BootState>> {
        (**self).read_boot_state()
    }
    fn write_boot_state(&mut self, state: &BootState) -> PlatformResult<()> {
        (**self).write_boot_state(state)
    }
    fn write_envelope(&mut self, slot: u8, envelope: &[u8]) -> PlatformResult<()> {
        (**self).write_envelope(slot, envelope)
    }
    fn read_envelope(&mut self, slot: u8, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        (**self).read_envelope(slot, offset, buf)
    }
}

/// What [`AbDevice::boot`] started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booted {
    /// The slot.
    pub slot: u8,
    /// Its manifest's sequence number.
    pub sequence: u64,
    /// Whether it runs on trial (confirm it with [`AbDevice::confirm`]).
    pub tentative: bool,
    /// The trial abandoned on the way, if any.
    pub reverted: Option<Reverted>,
}

/// A trial [`AbDevice::boot`] abandoned for the known-good image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reverted {
    /// Its slot, which keeps its envelope until the next update.
    pub slot: u8,
    /// Its manifest's sequence number.
    pub sequence: u64,
    /// Why: the error its boot failed with, or [`Error::TrialNotConfirmed`] when it booted
    /// before and was never confirmed.
    pub cause: Error,
}

/// A [`Platform`] confined to one slot: components without a slot parameter are placed in it,
/// a component slot condition holds for it alone, and any other slot is refused. Sequence
/// numbers are stored only when `commit` is set (when the A/B layer advances the counters).
struct Slotted<'p, P> {
    inner: &'p mut P,
    slot: u8,
    commit: bool,
}

impl<P> Slotted<'_, P> {
    fn map<'c>(&self, c: &Component<'c>) -> PlatformResult<Component<'c>> {
        match c.slot {
            None => Ok(c.in_slot(u64::from(self.slot))),
            Some(s) if s == u64::from(self.slot) => Ok(*c),
            Some(_) => Err(PlatformError::Denied),
        }
    }
}

impl<P: Platform> Platform for Slotted<'_, P> {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        component: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        let c = self.map(component)?;
        self.inner.check_identifier(kind, &c, expected)
    }
    fn check_slot(&mut self, _component: &Component<'_>, slot: u64) -> PlatformResult<bool> {
        Ok(slot == u64::from(self.slot))
    }
    fn fetch(&mut self, uri: &str, component: &Component<'_>) -> PlatformResult<()> {
        let c = self.map(component)?;
        self.inner.fetch(uri, &c)
    }
    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        self.inner.fetch_range(uri, offset, buf)
    }
    fn read(
        &mut self,
        component: &Component<'_>,
        offset: u64,
        buf: &mut [u8],
    ) -> PlatformResult<usize> {
        let c = self.map(component)?;
        self.inner.read(&c, offset, buf)
    }
    fn write(&mut self, component: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        let c = self.map(component)?;
        self.inner.write(&c, offset, data)
    }
    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        let (a, b) = (self.map(a)?, self.map(b)?);
        self.inner.swap(&a, &b)
    }
    fn digest(
        &mut self,
        component: &Component<'_>,
        len: Option<u64>,
    ) -> PlatformResult<Option<[u8; 32]>> {
        let c = self.map(component)?;
        self.inner.digest(&c, len)
    }
    fn invoke(&mut self, component: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()> {
        let c = self.map(component)?;
        self.inner.invoke(&c, args)
    }
    fn report(&mut self, record: &Record) {
        self.inner.report(record)
    }
    fn stored_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>> {
        self.inner.stored_sequence_number(manifest)
    }
    fn store_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
        sequence_number: u64,
    ) -> PlatformResult<()> {
        // Only the A/B layer advances the counters, when a trial is confirmed.
        if !self.commit {
            return Err(PlatformError::Denied);
        }
        self.inner.store_sequence_number(manifest, sequence_number)
    }
    fn unlink(&mut self, component: &Component<'_>) -> PlatformResult<()> {
        let c = self.map(component)?;
        self.inner.unlink(&c)
    }
    fn now(&mut self) -> PlatformResult<Option<u64>> {
        self.inner.now()
    }
    fn battery_level(&mut self) -> PlatformResult<Option<u64>> {
        self.inner.battery_level()
    }
    fn update_authorized(&mut self, priority: Option<i64>) -> PlatformResult<bool> {
        self.inner.update_authorized(priority)
    }
    fn component_version(
        &mut self,
        component: &Component<'_>,
        out: &mut [i64],
    ) -> PlatformResult<Option<usize>> {
        let c = self.map(component)?;
        self.inner.component_version(&c, out)
    }
    fn wait(&mut self, component: &Component<'_>, wait_info: Option<&[u8]>) -> PlatformResult<()> {
        let c = self.map(component)?;
        self.inner.wait(&c, wait_info)
    }
    fn custom(
        &mut self,
        command: i64,
        argument: &[u8],
        component: &Component<'_>,
    ) -> PlatformResult<bool> {
        let c = self.map(component)?;
        self.inner.custom(command, argument, &c)
    }
}

/// An A/B device: updates into the inactive slot, trial boots, confirmation and reversion.
pub struct AbDevice<'r, 'k, P, C, V> {
    platform: &'r mut P,
    crypto: &'r mut C,
    anchors: &'r mut TrustAnchors<'k, V>,
    /// The key encrypted payloads are opened with ([`AbDevice::with_decryption_key`]).
    #[cfg(feature = "encryption")]
    kek: Option<crate::encryption::Kek<'r>>,
}

impl<'r, 'k, P, C, V> AbDevice<'r, 'k, P, C, V>
where
    P: AbPlatform,
    C: SuitCrypto,
    V: Verifier,
{
    /// A device over `platform`; envelopes must authenticate under `anchors`.
    pub fn new(
        platform: &'r mut P,
        crypto: &'r mut C,
        anchors: &'r mut TrustAnchors<'k, V>,
    ) -> Self {
        Self {
            platform,
            crypto,
            anchors,
            #[cfg(feature = "encryption")]
            kek: None,
        }
    }

    /// Opens encrypted payloads (firmware encryption, [`crate::encryption`]) with `kek` when
    /// installing and booting: [`Processor::with_decryption_key`] for every procedure this runs.
    #[cfg(feature = "encryption")]
    pub fn with_decryption_key(mut self, kek: crate::encryption::Kek<'r>) -> Self {
        self.kek = Some(kek);
        self
    }

    /// The platform.
    pub fn platform(&mut self) -> &mut P {
        self.platform
    }

    /// The persistent state; [`AbDevice::provision`] writes the first one.
    pub fn state(&mut self) -> Result<BootState> {
        self.platform
            .read_boot_state()?
            .ok_or(Error::NoBootableImage)
    }

    /// Factory provisioning: installs and validates `envelope` into slot 0, makes it the
    /// known-good image and stores its sequence number. Refused once a boot state exists.
    pub fn provision(&mut self, envelope: &[u8], scratch: &mut [u8]) -> Result<()> {
        if self.platform.read_boot_state()?.is_some() {
            return Err(Error::Platform(PlatformError::Denied));
        }
        let auth = self.authenticate(envelope)?;
        self.install_into(0, &auth, &mut *scratch)?;
        self.platform.write_envelope(0, envelope)?;
        let sequence = auth.manifest().sequence_number();
        self.platform.write_boot_state(&BootState {
            active: 0,
            active_sequence: sequence,
            trial: None,
        })?;
        self.advance_counters(0, &auth, sequence, scratch)
    }

    /// Installs and validates `envelope` in the inactive slot and switches to it as a trial;
    /// returns the slot. The sequence number must exceed the stored counter and the known-good
    /// image's; refused while a trial is pending ([`Error::TrialPending`]). `scratch` holds
    /// dependency manifests.
    pub fn update(&mut self, envelope: &[u8], scratch: &mut [u8]) -> Result<u8> {
        let state = self.state()?;
        if state.trial.is_some() {
            return Err(Error::TrialPending);
        }
        let auth = self.authenticate(envelope)?;
        let sequence = auth.manifest().sequence_number();
        if sequence <= state.active_sequence {
            return Err(Error::Rollback);
        }
        let target = state.inactive();
        self.install_into(target, &auth, scratch)?;
        self.platform.write_envelope(target, envelope)?;
        // The switch: one atomic write.
        self.platform.write_boot_state(&BootState {
            trial: Some(Trial {
                slot: target,
                sequence,
                booted: false,
            }),
            ..state
        })?;
        Ok(target)
    }

    /// Boots: a pending trial once, otherwise (or when the trial does not validate, or was
    /// booted before and never confirmed) the known-good slot. `buf` holds the slot's envelope
    /// and, after it, dependency manifests.
    pub fn boot(&mut self, buf: &mut [u8]) -> Result<Booted> {
        let mut state = self.state()?;
        let mut reverted = None;
        if let Some(trial) = state.trial {
            let cause = if trial.booted {
                Error::TrialNotConfirmed
            } else {
                let started = BootState {
                    trial: Some(Trial {
                        booted: true,
                        ..trial
                    }),
                    ..state
                };
                self.platform.write_boot_state(&started)?;
                // A trial that fails (for whatever reason) has had its boot.
                match self.boot_slot(trial.slot, None, &mut *buf) {
                    Ok(()) => {
                        return Ok(Booted {
                            slot: trial.slot,
                            sequence: trial.sequence,
                            tentative: true,
                            reverted: None,
                        });
                    }
                    Err(e) => e,
                }
            };
            state.trial = None;
            self.platform.write_boot_state(&state)?;
            reverted = Some(Reverted {
                slot: trial.slot,
                sequence: trial.sequence,
                cause,
            });
        }
        self.boot_slot(state.active, Some(state.active_sequence), buf)?;
        Ok(Booted {
            slot: state.active,
            sequence: state.active_sequence,
            tentative: false,
            reverted,
        })
    }

    /// Confirms the running trial: it becomes the known-good image, and the counters of its
    /// manifest and of the dependency manifests stored with it
    /// ([`Processor::store_dependency_numbers`]) advance to their sequence numbers, the
    /// manifest's last. Does nothing when no booted trial is pending. `buf`
    /// holds the trial's envelope (read back for its manifest) and, after it, dependency
    /// manifests.
    pub fn confirm(&mut self, buf: &mut [u8]) -> Result<()> {
        let state = self.state()?;
        let Some(trial) = state.trial.filter(|t| t.booted) else {
            return Ok(());
        };
        self.platform.write_boot_state(&BootState {
            active: trial.slot,
            active_sequence: trial.sequence,
            trial: None,
        })?;
        let n = self.load_envelope(trial.slot, buf)?;
        let (envelope, scratch) = buf.split_at_mut(n);
        let auth = self.authenticate(envelope)?;
        self.advance_counters(trial.slot, &auth, trial.sequence, scratch)
    }

    fn authenticate<'e>(&mut self, envelope: &'e [u8]) -> Result<AuthenticatedManifest<'e>> {
        crate::envelope::decode_and_authenticate(envelope, self.crypto, self.anchors, None)
    }

    fn install_into(
        &mut self,
        slot: u8,
        auth: &AuthenticatedManifest<'_>,
        scratch: &mut [u8],
    ) -> Result<()> {
        self.in_slot(slot, scratch, false, |mut p| p.install(auth))
    }

    /// Runs `procedure` on a processor confined to `slot`, with `scratch` for dependency
    /// manifests and the decryption key when one was given; it may store sequence numbers
    /// only with `commit`.
    fn in_slot<T>(
        &mut self,
        slot: u8,
        scratch: &mut [u8],
        commit: bool,
        procedure: impl FnOnce(Processor<'_, 'k, Slotted<'_, P>, C, V>) -> Result<T>,
    ) -> Result<T> {
        let mut slotted = Slotted {
            inner: &mut *self.platform,
            slot,
            commit,
        };
        let p = Processor::new(&mut slotted, self.crypto, self.anchors).with_scratch(scratch);
        #[cfg(feature = "encryption")]
        let p = match self.kek {
            Some(kek) => p.with_decryption_key(kek),
            None => p,
        };
        procedure(p)
    }

    /// Raises the stored counter of `auth`'s manifest, the one in `slot`, to `sequence`, and
    /// before it those of the dependency manifests stored under it in that slot
    /// ([`Processor::store_dependency_numbers`], feature `dependencies`), with `scratch` to read
    /// them into; never lowers one. Only while the manifest's own counter is behind: as it is
    /// written last, a power cut before it leaves it behind, and the next boot of the
    /// known-good slot does the whole again.
    fn advance_counters(
        &mut self,
        slot: u8,
        auth: &AuthenticatedManifest<'_>,
        sequence: u64,
        scratch: &mut [u8],
    ) -> Result<()> {
        let id = auth.manifest().component_id();
        let stored = self.platform.stored_sequence_number(id.as_ref())?;
        if stored.is_none_or(|s| s < sequence) {
            #[cfg(feature = "dependencies")]
            self.in_slot(slot, scratch, true, |mut p| {
                p.store_dependency_numbers(auth)
            })?;
            #[cfg(not(feature = "dependencies"))]
            let _ = (slot, scratch);
            self.platform.store_sequence_number(id.as_ref(), sequence)?;
        }
        Ok(())
    }

    fn load_envelope(&mut self, slot: u8, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0usize;
        loop {
            let free = buf.get_mut(n..).unwrap_or_default();
            if free.is_empty() {
                let mut probe = [0u8; 1];
                return match self.platform.read_envelope(slot, n as u64, &mut probe)? {
                    0 => Ok(n),
                    _ => Err(Error::CapacityExceeded(crate::Capacity::DependencyBuffer)),
                };
            }
            let room = free.len();
            let k = self.platform.read_envelope(slot, n as u64, free)?.min(room);
            if k == 0 {
                return Ok(n);
            }
            n += k;
        }
    }

    /// Authenticates `slot`'s envelope and runs validate, load and invoke in that slot. For the
    /// known-good slot, `known_good` is its sequence number: the manifest must carry it, and the
    /// counter is brought up to it first (after a power cut during [`AbDevice::confirm`]).
    fn boot_slot(&mut self, slot: u8, known_good: Option<u64>, buf: &mut [u8]) -> Result<()> {
        let n = self.load_envelope(slot, buf)?;
        if n == 0 {
            return Err(Error::NoBootableImage);
        }
        let (envelope, scratch) = buf.split_at_mut(n);
        let envelope: &[u8] = envelope;
        let auth = self.authenticate(envelope)?;
        if let Some(sequence) = known_good {
            if auth.manifest().sequence_number() != sequence {
                return Err(Error::NoBootableImage);
            }
            self.advance_counters(slot, &auth, sequence, &mut *scratch)?;
        }
        self.in_slot(slot, scratch, false, |mut p| p.boot(&auth))
    }
}
