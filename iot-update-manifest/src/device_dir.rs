//! A simulated A/B device kept in a directory (`std`): a [`Platform`] and [`AbPlatform`] whose
//! storage is files, for gateways, CI pipelines and `iot-tool suit install` / `suit boot`.
//!
//! ```text
//! DIR/identity        vendor-id, class-id and optional device-id (RFC 9562 UUIDs), one per line
//! DIR/state           the A/B boot state and the stored sequence numbers (text)
//! DIR/trust-anchor    the P-256 key envelopes must be signed with (SEC1, hex), set by the first install
//! DIR/decryption-key  the key encrypted payloads are opened with, if the device has one
//!                     ("A128KW <hex>" or "ECDH-ES+A128KW <hex of the P-256 scalar>"; a simulation:
//!                     a real device keeps it in a secure element)
//! DIR/slot0.suit      the envelope that installed slot 0 (slot1.suit: slot 1)
//! DIR/slot0/<id>      component <id> of slot 0: its segments in hex joined by '.' ('_' for an
//!                     empty segment); DIR/components/<id> for a component addressed without a slot
//! DIR/lock            held with an advisory lock while the device is open
//! ```
//!
//! Every file is replaced atomically (a synced temporary file renamed over it, then the directory
//! synced), so a crash leaves each file old or new, never torn. Component writes are staged in
//! memory and reach the disk only with the next persistent write ([`AbPlatform::write_envelope`],
//! [`AbPlatform::write_boot_state`], [`Platform::store_sequence_number`]), which the processor
//! and [`AbDevice`] make only after an image installed and validated: a refused envelope (bad
//! signature, rollback, wrong identity, an image that does not match its digest) leaves the
//! directory byte for byte as it was. Files go to disk in the order of the calls, components
//! first, so the power-cut argument of [`crate::ab`] holds: the state file's rename is the switch.
//!
//! [`DirDevice::install`] and [`DirDevice::boot`] are the A/B procedures over the directory: the
//! first install provisions the device (slot 0, known-good, its key becomes the trust anchor),
//! later ones go to the inactive slot on trial; a boot runs validate, load and invoke, confirms a
//! trial when asked, and reverts a trial that was booted and not confirmed
//! (draft-ietf-suit-manifest "A/B Image Template").

extern crate std;

use crate::ab::{AbDevice, AbPlatform, BootState, Booted, Trial};
use crate::component::ComponentId;
use crate::digest::SuitDigest;
use crate::envelope::{Envelope, TrustAnchors};
use crate::error::Error;
use crate::platform::{Component, Identifier, Platform, PlatformError, PlatformResult};
use crate::process::SuitCrypto;
use crate::report::{self, Entry, Reporter};
use core::fmt;
use iot_core::crypto::P256VerifyingKey;
use std::borrow::ToOwned;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

/// Bytes a [`DirDevice::install`] or [`DirDevice::boot`] reserves for dependency manifests.
pub const SCRATCH: usize = 64 * 1024;

const IDENTITY: &str = "identity";
const STATE: &str = "state";
const TRUST_ANCHOR: &str = "trust-anchor";
const DECRYPTION_KEY: &str = "decryption-key";
const LOCK: &str = "lock";

/// The key a directory device opens encrypted payloads with (draft-ietf-suit-firmware-encryption);
/// zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub enum DecryptionKey {
    /// A128KW: the key-encryption key shared with the sender.
    A128Kw(zeroize::Zeroizing<[u8; 16]>),
    /// ECDH-ES + A128KW: the device's P-256 private key (the scalar).
    EcdhEsP256(zeroize::Zeroizing<[u8; 32]>),
}

impl fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::A128Kw(_) => "DecryptionKey::A128Kw(..)",
            Self::EcdhEsP256(_) => "DecryptionKey::EcdhEsP256(..)",
        })
    }
}

impl DecryptionKey {
    const A128KW: &str = "A128KW";
    const ECDH_ES: &str = "ECDH-ES+A128KW";

    /// The key as the processor takes it.
    pub fn kek(&self) -> crate::encryption::Kek<'_> {
        match self {
            Self::A128Kw(k) => crate::encryption::Kek::A128Kw(&k[..]),
            Self::EcdhEsP256(d) => crate::encryption::Kek::EcdhEsP256(&d[..]),
        }
    }

    fn to_text(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(match self {
            Self::A128Kw(k) => format!("{} {}\n", Self::A128KW, hex::encode(&k[..])),
            Self::EcdhEsP256(d) => format!("{} {}\n", Self::ECDH_ES, hex::encode(&d[..])),
        })
    }

    fn parse(text: &str) -> Option<Self> {
        let (kind, key) = text.split_once(' ')?;
        let bytes = zeroize::Zeroizing::new(hex::decode(key.trim()).ok()?);
        match kind {
            Self::A128KW => Some(Self::A128Kw(zeroize::Zeroizing::new(
                bytes.as_slice().try_into().ok()?,
            ))),
            Self::ECDH_ES => Some(Self::EcdhEsP256(zeroize::Zeroizing::new(
                bytes.as_slice().try_into().ok()?,
            ))),
            _ => None,
        }
    }
}

/// Why a device directory could not be used, or what it refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum DirError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A file of the device does not read as its format says.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// `init` on a directory that is not empty.
    NotEmpty(PathBuf),
    /// Another process has the device open.
    Locked(PathBuf),
    /// No image was ever installed: nothing to boot, no trust anchor.
    NotProvisioned,
    /// The key given is not the device's trust anchor.
    NotTrustAnchor,
    /// The SUIT processor or the A/B layer refused.
    Suit(Error),
}

impl fmt::Display for DirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Invalid { path, reason } => write!(f, "{}: {reason}", path.display()),
            Self::NotEmpty(p) => write!(f, "{}: not empty", p.display()),
            Self::Locked(p) => write!(f, "{}: in use by another process", p.display()),
            Self::NotProvisioned => f.write_str("no image installed yet"),
            Self::NotTrustAnchor => f.write_str("the key is not the device's trust anchor"),
            Self::Suit(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for DirError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Suit(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for DirError {
    fn from(e: Error) -> Self {
        Self::Suit(e)
    }
}

/// The file `name` of the device in `dir`, trimmed and read by `parse`; `None` when it does not
/// exist. Its text is zeroized after reading (the decryption key is one such file).
fn optional_file<T>(
    dir: &Path,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, &'static str>,
) -> Result<Option<T>, DirError> {
    let path = dir.join(name);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let text = zeroize::Zeroizing::new(text);
            parse(text.trim())
                .map(Some)
                .map_err(|why| invalid(&path, why))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path, e)),
    }
}

fn io_error(path: &Path, source: io::Error) -> DirError {
    DirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(path: &Path, reason: impl Into<String>) -> DirError {
    DirError::Invalid {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// A UUID in RFC 9562 text form (`fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe`).
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let dashes: Vec<usize> = text.match_indices('-').map(|(i, _)| i).collect();
    if text.len() != 36 || dashes != [8, 13, 18, 23] {
        return None;
    }
    <[u8; 16]>::try_from(hex::decode(text.replace('-', "")).ok()?).ok()
}

/// 16 bytes in RFC 9562 text form.
pub fn format_uuid(uuid: &[u8; 16]) -> String {
    let h = hex::encode(uuid);
    let part = |r: core::ops::Range<usize>| h.get(r).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

/// What the manifest's identifier conditions compare against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// `suit-parameter-vendor-identifier`.
    pub vendor_id: [u8; 16],
    /// `suit-parameter-class-identifier`.
    pub class_id: [u8; 16],
    /// `suit-parameter-device-identifier`, if the device has one.
    pub device_id: Option<[u8; 16]>,
}

impl Identity {
    fn to_text(self) -> String {
        let mut text = format!(
            "vendor-id {}\nclass-id {}\n",
            format_uuid(&self.vendor_id),
            format_uuid(&self.class_id)
        );
        if let Some(d) = self.device_id {
            text.push_str(&format!("device-id {}\n", format_uuid(&d)));
        }
        text
    }

    fn parse(text: &str, path: &Path) -> Result<Self, DirError> {
        let (mut vendor, mut class, mut device) = (None, None, None);
        for (key, value) in lines(text, path)? {
            let uuid = parse_uuid(value)
                .ok_or_else(|| invalid(path, format!("{key}: not a UUID: {value}")))?;
            let slot = match key {
                "vendor-id" => &mut vendor,
                "class-id" => &mut class,
                "device-id" => &mut device,
                other => return Err(invalid(path, format!("unknown entry {other:?}"))),
            };
            if slot.replace(uuid).is_some() {
                return Err(invalid(path, format!("{key} given twice")));
            }
        }
        Ok(Self {
            vendor_id: vendor.ok_or_else(|| invalid(path, "no vendor-id"))?,
            class_id: class.ok_or_else(|| invalid(path, "no class-id"))?,
            device_id: device,
        })
    }
}

/// `key value` lines, `#` comments and blank lines skipped.
fn lines<'t>(text: &'t str, path: &Path) -> Result<Vec<(&'t str, &'t str)>, DirError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split_once(' ')
                .map(|(k, v)| (k, v.trim()))
                .ok_or_else(|| invalid(path, format!("not a `key value` line: {l:?}")))
        })
        .collect()
}

/// A manifest's `suit-manifest-component-id` as the state file keys its sequence number.
type ManifestKey = Option<Vec<Vec<u8>>>;

/// The content of the `state` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct State {
    boot: Option<BootState>,
    sequence: BTreeMap<ManifestKey, u64>,
}

/// A component id's segments in hex joined by '.', '_' for an empty segment, '-' for none.
fn segments_name<'s>(segments: impl Iterator<Item = &'s [u8]>) -> String {
    let parts: Vec<String> = segments
        .map(|s| {
            if s.is_empty() {
                "_".to_owned()
            } else {
                hex::encode(s)
            }
        })
        .collect();
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(".")
    }
}

fn parse_segments(name: &str) -> Option<Vec<Vec<u8>>> {
    if name == "-" {
        return Some(Vec::new());
    }
    name.split('.')
        .map(|p| {
            if p == "_" {
                Some(Vec::new())
            } else {
                hex::decode(p).ok().filter(|b| !b.is_empty())
            }
        })
        .collect()
}

impl State {
    fn to_text(&self) -> String {
        let mut text = String::from("# iot-update-manifest directory device\n");
        if let Some(b) = self.boot {
            text.push_str(&format!(
                "active-slot {}\nactive-sequence {}\n",
                b.active, b.active_sequence
            ));
            if let Some(t) = b.trial {
                let booted = if t.booted { "booted" } else { "pending" };
                text.push_str(&format!("trial {} {} {booted}\n", t.slot, t.sequence));
            }
        }
        for (manifest, n) in &self.sequence {
            let name = match manifest {
                None => "none".to_owned(),
                Some(segments) => segments_name(segments.iter().map(Vec::as_slice)),
            };
            text.push_str(&format!("sequence-number {name} {n}\n"));
        }
        text
    }

    fn parse(text: &str, path: &Path) -> Result<Self, DirError> {
        let bad = |what: &str| invalid(path, what.to_string());
        let number = |v: &str| v.parse::<u64>().map_err(|_| bad("not a number"));
        let slot = |v: &str| match v {
            "0" => Ok(0u8),
            "1" => Ok(1u8),
            _ => Err(bad("a slot is 0 or 1")),
        };
        let (mut active, mut active_sequence, mut trial) = (None, None, None);
        let mut sequence = BTreeMap::new();
        for (key, value) in lines(text, path)? {
            match key {
                "active-slot" => active = Some(slot(value)?),
                "active-sequence" => active_sequence = Some(number(value)?),
                "trial" => {
                    let mut parts = value.split_whitespace();
                    let (Some(s), Some(n), Some(b), None) =
                        (parts.next(), parts.next(), parts.next(), parts.next())
                    else {
                        return Err(bad("trial: `slot sequence pending|booted`"));
                    };
                    let booted = match b {
                        "pending" => false,
                        "booted" => true,
                        _ => return Err(bad("trial: pending or booted")),
                    };
                    trial = Some(Trial {
                        slot: slot(s)?,
                        sequence: number(n)?,
                        booted,
                    });
                }
                "sequence-number" => {
                    let (name, n) = value
                        .split_once(' ')
                        .ok_or_else(|| bad("sequence-number: `manifest-id number`"))?;
                    let manifest = match name {
                        "none" => None,
                        other => Some(parse_segments(other).ok_or_else(|| bad("bad manifest id"))?),
                    };
                    if sequence.insert(manifest, number(n.trim())?).is_some() {
                        return Err(bad("a manifest's sequence number given twice"));
                    }
                }
                other => return Err(invalid(path, format!("unknown entry {other:?}"))),
            }
        }
        let boot = match (active, active_sequence) {
            (Some(active), Some(active_sequence)) => Some(BootState {
                active,
                active_sequence,
                trial,
            }),
            (None, None) if trial.is_none() => None,
            _ => return Err(bad("active-slot and active-sequence go together")),
        };
        Ok(Self { boot, sequence })
    }
}

/// An invocation ("suit-directive-invoke") the device performed: which file ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    /// The component's file, relative to the device directory.
    pub file: PathBuf,
    /// `suit-parameter-invoke-args`.
    pub args: Option<Vec<u8>>,
}

/// What [`DirDevice::install`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Installed {
    /// The slot the image went to.
    pub slot: u8,
    /// Its manifest's sequence number.
    pub sequence: u64,
    /// `true` for the first install (known-good at once); `false` for an update on trial.
    pub provisioned: bool,
}

/// What [`DirDevice::boot`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootReport {
    /// What booted (and whether a trial was abandoned on the way).
    pub booted: Booted,
    /// Whether the booted trial was confirmed as the known-good image.
    pub confirmed: bool,
}

/// A device kept in a directory (see the module documentation for its layout).
#[derive(Debug)]
pub struct DirDevice {
    dir: PathBuf,
    identity: Identity,
    state: State,
    anchor: Option<P256VerifyingKey>,
    decryption_key: Option<DecryptionKey>,
    /// The device's time ([`DirDevice::set_clock`]).
    clock: Option<u64>,
    /// Files written since the last persistent write, relative to `dir`; `None`: removed.
    pending: BTreeMap<PathBuf, Option<Vec<u8>>>,
    uris: BTreeMap<String, PathBuf>,
    invoked: Vec<Invoked>,
    /// The last file error behind a [`PlatformError`], for the message.
    last_io: Option<(PlatformError, PathBuf, io::Error)>,
    _lock: File,
}

impl DirDevice {
    /// Creates a device in `dir` (created if missing; it must be empty) with `identity`, no image
    /// and no trust anchor, and opens it.
    pub fn init(dir: &Path, identity: &Identity) -> Result<Self, DirError> {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let mut entries = fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
        if entries.next().is_some() {
            return Err(DirError::NotEmpty(dir.to_path_buf()));
        }
        File::create(dir.join(LOCK)).map_err(|e| io_error(&dir.join(LOCK), e))?;
        atomic_write(dir, Path::new(STATE), State::default().to_text().as_bytes())?;
        // The identity last: a directory without it is not a device, so `init` may be retried.
        atomic_write(dir, Path::new(IDENTITY), identity.to_text().as_bytes())?;
        Self::open(dir)
    }

    /// Opens the device in `dir`, holding its lock until dropped.
    pub fn open(dir: &Path) -> Result<Self, DirError> {
        let read = |name: &str| {
            let path = dir.join(name);
            fs::read_to_string(&path).map_err(|e| io_error(&path, e))
        };
        let identity = Identity::parse(&read(IDENTITY)?, &dir.join(IDENTITY))?;
        let lock_path = dir.join(LOCK);
        let lock = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| io_error(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(DirError::Locked(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(io_error(&lock_path, e)),
        }
        let state = State::parse(&read(STATE)?, &dir.join(STATE))?;
        let anchor = optional_file(dir, TRUST_ANCHOR, |text| {
            hex::decode(text)
                .ok()
                .and_then(|b| P256VerifyingKey::from_sec1(&b).ok())
                .ok_or("not a SEC1 P-256 key in hex")
        })?;
        let decryption_key = optional_file(dir, DECRYPTION_KEY, |text| {
            DecryptionKey::parse(text).ok_or("not \"A128KW <hex>\" or \"ECDH-ES+A128KW <hex>\"")
        })?;
        Ok(Self {
            dir: dir.to_path_buf(),
            identity,
            state,
            anchor,
            decryption_key,
            clock: None,
            pending: BTreeMap::new(),
            uris: BTreeMap::new(),
            invoked: Vec::new(),
            last_io: None,
            _lock: lock,
        })
    }

    /// Gives the device `key` to open encrypted payloads with (stored in `decryption-key`,
    /// replacing any earlier one).
    pub fn set_decryption_key(&mut self, key: DecryptionKey) -> Result<(), DirError> {
        atomic_write(
            &self.dir,
            Path::new(DECRYPTION_KEY),
            key.to_text().as_bytes(),
        )?;
        self.decryption_key = Some(key);
        Ok(())
    }

    /// Gives the device a clock reading `now` (seconds since the Unix epoch), or none: every
    /// authentication (install, boot, report) then checks delegation CWTs' `exp` and `nbf`
    /// against it ([`TrustAnchors::at_time`]); without one, a CWT that carries them is refused.
    /// Not stored: a clock is the running device's, not its directory's.
    pub fn set_clock(&mut self, now: Option<u64>) {
        self.clock = now;
    }

    /// `keys` as trust anchors at the device's time.
    fn anchors<'k>(&self, keys: &'k mut [P256VerifyingKey]) -> TrustAnchors<'k, P256VerifyingKey> {
        TrustAnchors::signers(keys).at_time(self.clock)
    }

    /// Serves `uri` from `file` to `suit-directive-fetch`.
    pub fn serve(&mut self, uri: impl Into<String>, file: impl Into<PathBuf>) {
        self.uris.insert(uri.into(), file.into());
    }

    /// The device's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The device's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The key envelopes must be signed with, once the first install set it.
    pub fn trust_anchor(&self) -> Option<P256VerifyingKey> {
        self.anchor
    }

    /// The A/B boot state, once an image was installed.
    pub fn boot_state(&self) -> Option<BootState> {
        self.state.boot
    }

    /// The stored anti-rollback sequence number of the manifest without a
    /// `suit-manifest-component-id`.
    pub fn sequence_number(&self) -> Option<u64> {
        self.state.sequence.get(&None).copied()
    }

    /// What was invoked since the device was opened.
    pub fn invoked(&self) -> &[Invoked] {
        &self.invoked
    }

    /// The content of `component` in `slot` as stored (staged writes included).
    pub fn component(&self, slot: Option<u8>, id: &[&[u8]]) -> Option<Vec<u8>> {
        let file = file_of(slot.map(u64::from), id.iter().copied());
        match self.pending.get(&file) {
            Some(staged) => staged.clone(),
            None => fs::read(self.dir.join(file)).ok(),
        }
    }

    /// Installs `envelope`, which must be signed by `key`: the first install provisions slot 0
    /// as the known-good image and makes `key` the trust anchor; later installs must be signed
    /// by that anchor and go on trial into the inactive slot. Refused installs leave the
    /// directory as it was.
    pub fn install<C: SuitCrypto>(
        &mut self,
        crypto: &mut C,
        key: P256VerifyingKey,
        envelope: &[u8],
    ) -> Result<Installed, DirError> {
        let r = self.try_install(crypto, key, envelope, None);
        self.settle(r)
    }

    /// [`DirDevice::install`], and the `SUIT_Report` (draft-ietf-suit-report, unsigned) the
    /// device sends its server whatever the outcome: the records the manifest's reporting
    /// policies ask for (at most [`REPORT_RECORDS`]), the result, and on failure the failing
    /// command's record and reason, with `nonce` as `suit-report-nonce`. Its reference is the
    /// manifest's reference URI and digest; for an envelope that does not authenticate under
    /// `key`, the digest the envelope claims (and no URI). A refusal outside the processor is
    /// reported as the SUIT error it amounts to: another key than the anchor as
    /// [`Error::NoTrustedKey`], a file error as a platform I/O error.
    pub fn install_reported<C: SuitCrypto>(
        &mut self,
        crypto: &mut C,
        key: P256VerifyingKey,
        envelope: &[u8],
        nonce: Option<&[u8]>,
    ) -> (Result<Installed, DirError>, Vec<u8>) {
        let mut kept = Kept::default();
        let r = self.try_install(crypto, key, envelope, Some(&mut kept));
        let r = self.settle(r);
        let error = match &r {
            Ok(_) => None,
            Err(DirError::Suit(e)) => Some(*e),
            Err(DirError::NotTrustAnchor) => Some(Error::NoTrustedKey),
            Err(_) => Some(Error::Platform(PlatformError::Io)),
        };
        let mut keys = [key];
        let report = kept.report(
            crypto,
            &mut self.anchors(&mut keys),
            envelope,
            nonce,
            error.as_ref(),
        );
        (r, report)
    }

    fn try_install<C: SuitCrypto>(
        &mut self,
        crypto: &mut C,
        key: P256VerifyingKey,
        envelope: &[u8],
        kept: Option<&mut Kept>,
    ) -> Result<Installed, DirError> {
        let provisioned = self.state.boot.is_none();
        match self.anchor {
            Some(anchor) if anchor.to_sec1_uncompressed() != key.to_sec1_uncompressed() => {
                return Err(DirError::NotTrustAnchor);
            }
            Some(_) => {}
            // Staged: written with the image, or not at all.
            None => {
                let text = hex::encode(key.to_sec1_uncompressed()) + "\n";
                self.pending
                    .insert(PathBuf::from(TRUST_ANCHOR), Some(text.into_bytes()));
            }
        }
        let mut scratch = vec![0u8; SCRATCH];
        let run = Install {
            provision: provisioned,
            envelope,
            scratch: &mut scratch,
        };
        let slot = self.run(crypto, key, run, kept)?;
        self.anchor = Some(key);
        let sequence = match self.state.boot {
            Some(BootState { trial: Some(t), .. }) => t.sequence,
            Some(b) => b.active_sequence,
            None => return Err(DirError::NotProvisioned),
        };
        Ok(Installed {
            slot,
            sequence,
            provisioned,
        })
    }

    /// Boots (validate, load, invoke of the slot [`crate::ab`] chooses); with `confirm`, a trial
    /// that booted is confirmed as the known-good image. A trial booted before and never
    /// confirmed is abandoned and the known-good image boots.
    pub fn boot<C: SuitCrypto>(
        &mut self,
        crypto: &mut C,
        confirm: bool,
    ) -> Result<BootReport, DirError> {
        let r = self.try_boot(crypto, confirm, None);
        self.settle(r)
    }

    /// [`DirDevice::boot`], and the `SUIT_Report` (draft-ietf-suit-report, unsigned, `nonce`
    /// as `suit-report-nonce`) of the trial this boot settled, which a staged rollout
    /// ([`crate::rollout`]) counts: a success when the trial booted and `confirm` confirmed it
    /// (with the records its manifest's reporting policies ask for), a failure when the boot
    /// abandoned it ([`crate::ab::Reverted::cause`] as the reason, with the record of the command that
    /// failed, if one did). Its reference is the trial's manifest. `None` when the boot settled
    /// no trial: the known-good image booted with none pending, a trial runs unconfirmed, or
    /// the boot failed (its error says why).
    pub fn boot_reported<C: SuitCrypto>(
        &mut self,
        crypto: &mut C,
        confirm: bool,
        nonce: Option<&[u8]>,
    ) -> (Result<BootReport, DirError>, Option<Vec<u8>>) {
        let mut kept = Kept::default();
        let r = self.try_boot(crypto, confirm, Some(&mut kept));
        let r = self.settle(r);
        let settled = match &r {
            Ok(b) if b.confirmed => Some((b.booted.slot, None)),
            Ok(b) => b.booted.reverted.map(|t| (t.slot, Some(t.cause))),
            Err(_) => None,
        };
        let report = settled.and_then(|(slot, cause)| {
            if cause.is_some() {
                // The trial's records are mixed with the known-good image's: only the failing
                // command's is kept.
                kept.records.clear();
            }
            let envelope = fs::read(self.dir.join(envelope_file(slot))).ok()?;
            let mut keys = [self.anchor?];
            Some(kept.report(
                crypto,
                &mut self.anchors(&mut keys),
                &envelope,
                nonce,
                cause.as_ref(),
            ))
        });
        (r, report)
    }

    fn try_boot<C: SuitCrypto>(
        &mut self,
        crypto: &mut C,
        confirm: bool,
        kept: Option<&mut Kept>,
    ) -> Result<BootReport, DirError> {
        let anchor = self.anchor.ok_or(DirError::NotProvisioned)?;
        if self.state.boot.is_none() {
            return Err(DirError::NotProvisioned);
        }
        let longest = [0u8, 1]
            .iter()
            .filter_map(|s| fs::metadata(self.dir.join(envelope_file(*s))).ok())
            .map(|m| usize::try_from(m.len()).unwrap_or(usize::MAX))
            .max()
            .unwrap_or(0);
        let mut buf = vec![0u8; longest.saturating_add(SCRATCH)];
        let run = Boot {
            confirm,
            buf: &mut buf,
        };
        Ok(self.run(crypto, anchor, run, kept)?)
    }

    /// Runs `run` on an [`AbDevice`] over this device, trusting `key` and opening encrypted
    /// payloads with the device's decryption key; behind a [`Reporter`] whose records go to
    /// `kept` when given.
    fn run<C: SuitCrypto, R: AbRun>(
        &mut self,
        crypto: &mut C,
        key: P256VerifyingKey,
        run: R,
        kept: Option<&mut Kept>,
    ) -> Result<R::Out, Error> {
        let mut keys = [key];
        let mut anchors = self.anchors(&mut keys);
        let decryption_key = self.decryption_key.clone();
        let kek = decryption_key.as_ref().map(DecryptionKey::kek);
        let Some(kept) = kept else {
            return run.on(with_kek(AbDevice::new(self, crypto, &mut anchors), kek));
        };
        let mut reporter = Reporter::<_, REPORT_RECORDS>::new(&mut *self);
        let r = run.on(with_kek(
            AbDevice::new(&mut reporter, crypto, &mut anchors),
            kek,
        ));
        kept.records = reporter.records().to_vec();
        kept.failure = reporter.failure().cloned();
        r
    }

    /// Drops staged writes after a failure, and names the file behind a platform I/O error.
    fn settle<T>(&mut self, r: Result<T, DirError>) -> Result<T, DirError> {
        if r.is_err() {
            self.pending.clear();
        }
        let io = self.last_io.take();
        match (r, io) {
            (Err(DirError::Suit(Error::Platform(e))), Some((noted, path, source)))
                if e == noted =>
            {
                Err(DirError::Io { path, source })
            }
            (r, _) => r,
        }
    }

    fn note<T>(&mut self, path: &Path, r: io::Result<T>) -> PlatformResult<T> {
        r.map_err(|e| {
            let mapped = match e.kind() {
                io::ErrorKind::NotFound => PlatformError::NotFound,
                _ => PlatformError::Io,
            };
            self.last_io = Some((mapped, path.to_path_buf(), e));
            mapped
        })
    }

    /// Writes the staged files, then `file` (all atomically, in that order).
    fn persist(&mut self, file: &Path, content: &[u8]) -> PlatformResult<()> {
        while let Some((path, staged)) = self.pending.pop_first() {
            let r = match staged {
                Some(data) => atomic_write(&self.dir, &path, &data),
                None => remove(&self.dir, &path),
            };
            self.record(r)?;
        }
        let r = atomic_write(&self.dir, file, content);
        self.record(r)
    }

    fn record(&mut self, r: Result<(), DirError>) -> PlatformResult<()> {
        match r {
            Ok(()) => Ok(()),
            Err(DirError::Io { path, source }) => self.note(&path, Err(source)),
            Err(_) => Err(PlatformError::Io),
        }
    }

    fn write_state(&mut self, state: State) -> PlatformResult<()> {
        self.persist(Path::new(STATE), state.to_text().as_bytes())?;
        self.state = state;
        Ok(())
    }

    /// The staged or stored content of `file`; `None` when it does not exist.
    fn content(&mut self, file: &Path) -> PlatformResult<Option<Vec<u8>>> {
        if let Some(staged) = self.pending.get(file) {
            return Ok(staged.clone());
        }
        let path = self.dir.join(file);
        match fs::read(&path) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => self.note(&path, Err(e)),
        }
    }

    fn read_file(&mut self, file: &Path, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        if let Some(staged) = self.pending.get(file) {
            let data = staged.as_deref().ok_or(PlatformError::NotFound)?;
            let from = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let rest = data.get(from..).unwrap_or_default();
            let n = rest.len().min(buf.len());
            if let (Some(d), Some(s)) = (buf.get_mut(..n), rest.get(..n)) {
                d.copy_from_slice(s);
            }
            return Ok(n);
        }
        let path = self.dir.join(file);
        let r = File::open(&path).and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))?;
            read_full(&mut f, buf)
        });
        self.note(&path, r)
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(free) = buf.get_mut(n..).filter(|b| !b.is_empty()) {
        match f.read(free)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn envelope_file(slot: u8) -> PathBuf {
    PathBuf::from(format!("slot{slot}.suit"))
}

fn file_of<'s>(slot: Option<u64>, segments: impl Iterator<Item = &'s [u8]>) -> PathBuf {
    let folder = match slot {
        Some(s) => format!("slot{s}"),
        None => "components".to_owned(),
    };
    Path::new(&folder).join(segments_name(segments))
}

fn file(c: &Component<'_>) -> PathBuf {
    file_of(c.slot, c.segments())
}

/// Replaces `dir/file` with `content`: a synced temporary file renamed over it, then the folder
/// synced, so a crash leaves the old file or the new one.
fn atomic_write(dir: &Path, file: &Path, content: &[u8]) -> Result<(), DirError> {
    let path = dir.join(file);
    let folder = path.parent().unwrap_or(dir).to_path_buf();
    fs::create_dir_all(&folder).map_err(|e| io_error(&folder, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = folder.join(format!(".{name}.tmp"));
    let r = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(&folder)?.sync_all()
    })();
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r.map_err(|e| io_error(&path, e))
}

fn remove(dir: &Path, file: &Path) -> Result<(), DirError> {
    let path = dir.join(file);
    match fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error(&path, e)),
    }
    let folder = path.parent().unwrap_or(dir);
    File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(folder, e))
}

fn manifest_key(m: Option<&ComponentId<'_>>) -> ManifestKey {
    m.map(|id| id.segments().map(<[u8]>::to_vec).collect())
}

impl Platform for DirDevice {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        _component: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        Ok(match kind {
            Identifier::Vendor => expected == self.identity.vendor_id,
            Identifier::Class => expected == self.identity.class_id,
            Identifier::Device => self.identity.device_id.is_some_and(|d| expected == d),
        })
    }

    /// Slots are chosen by the A/B layer ([`DirDevice::install`], [`DirDevice::boot`]), which
    /// answers this condition itself.
    fn check_slot(&mut self, _component: &Component<'_>, _slot: u64) -> PlatformResult<bool> {
        Err(PlatformError::Unsupported)
    }

    fn fetch(&mut self, uri: &str, component: &Component<'_>) -> PlatformResult<()> {
        let source = self
            .uris
            .get(uri)
            .ok_or(PlatformError::Unavailable)?
            .clone();
        let data = fs::read(&source).map_err(|e| {
            self.last_io = Some((PlatformError::Unavailable, source, e));
            PlatformError::Unavailable
        })?;
        self.pending.insert(file(component), Some(data));
        Ok(())
    }

    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        let source = self
            .uris
            .get(uri)
            .ok_or(PlatformError::Unavailable)?
            .clone();
        let r = File::open(&source).and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))?;
            read_full(&mut f, buf)
        });
        r.map_err(|e| {
            self.last_io = Some((PlatformError::Unavailable, source, e));
            PlatformError::Unavailable
        })
    }

    fn read(
        &mut self,
        component: &Component<'_>,
        offset: u64,
        buf: &mut [u8],
    ) -> PlatformResult<usize> {
        self.read_file(&file(component), offset, buf)
    }

    fn write(&mut self, component: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        let f = file(component);
        let mut content = match offset {
            0 => Vec::new(),
            _ => self.content(&f)?.unwrap_or_default(),
        };
        let at = usize::try_from(offset).map_err(|_| PlatformError::OutOfSpace)?;
        content.resize(at, 0);
        content.extend_from_slice(data);
        self.pending.insert(f, Some(content));
        Ok(())
    }

    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        let (fa, fb) = (file(a), file(b));
        let (Some(ca), Some(cb)) = (self.content(&fa)?, self.content(&fb)?) else {
            return Err(PlatformError::NotFound);
        };
        self.pending.insert(fa, Some(cb));
        self.pending.insert(fb, Some(ca));
        Ok(())
    }

    fn invoke(&mut self, component: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()> {
        let f = file(component);
        if self.content(&f)?.is_none() {
            return Err(PlatformError::NotFound);
        }
        self.invoked.push(Invoked {
            file: f,
            args: args.map(<[u8]>::to_vec),
        });
        Ok(())
    }

    fn stored_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>> {
        Ok(self.state.sequence.get(&manifest_key(manifest)).copied())
    }

    fn store_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
        sequence_number: u64,
    ) -> PlatformResult<()> {
        let mut state = self.state.clone();
        state
            .sequence
            .insert(manifest_key(manifest), sequence_number);
        self.write_state(state)
    }

    fn unlink(&mut self, component: &Component<'_>) -> PlatformResult<()> {
        self.pending.insert(file(component), None);
        Ok(())
    }
}

/// The records [`DirDevice::install_reported`] keeps for its report, at most.
pub const REPORT_RECORDS: usize = 64;

/// One A/B install (provisioning, or an update on trial) of an envelope.
struct Install<'r> {
    provision: bool,
    envelope: &'r [u8],
    scratch: &'r mut [u8],
}

/// An A/B procedure [`DirDevice::run`] runs on an [`AbDevice`] over any [`AbPlatform`]: the
/// device itself, or the device behind a [`Reporter`].
trait AbRun {
    type Out;
    fn on<P: AbPlatform, C: SuitCrypto>(
        self,
        ab: AbDevice<'_, '_, P, C, P256VerifyingKey>,
    ) -> Result<Self::Out, Error>;
}

/// `ab` opening encrypted payloads with `kek`, when there is one.
fn with_kek<'r, 'k, P: AbPlatform, C: SuitCrypto>(
    ab: AbDevice<'r, 'k, P, C, P256VerifyingKey>,
    kek: Option<crate::encryption::Kek<'r>>,
) -> AbDevice<'r, 'k, P, C, P256VerifyingKey> {
    match kek {
        Some(k) => ab.with_decryption_key(k),
        None => ab,
    }
}

impl AbRun for Install<'_> {
    /// The slot the image went to.
    type Out = u8;
    fn on<P: AbPlatform, C: SuitCrypto>(
        self,
        mut ab: AbDevice<'_, '_, P, C, P256VerifyingKey>,
    ) -> Result<u8, Error> {
        if self.provision {
            ab.provision(self.envelope, self.scratch)?;
            Ok(0)
        } else {
            ab.update(self.envelope, self.scratch)
        }
    }
}

/// One A/B boot of whichever slot [`AbDevice::boot`] chooses, confirming a trial that booted
/// when `confirm` is set.
struct Boot<'r> {
    confirm: bool,
    buf: &'r mut [u8],
}

impl AbRun for Boot<'_> {
    type Out = BootReport;
    fn on<P: AbPlatform, C: SuitCrypto>(
        self,
        mut ab: AbDevice<'_, '_, P, C, P256VerifyingKey>,
    ) -> Result<BootReport, Error> {
        let booted = ab.boot(&mut *self.buf)?;
        let confirmed = self.confirm && booted.tentative;
        if confirmed {
            ab.confirm(self.buf)?;
        }
        Ok(BootReport { booted, confirmed })
    }
}

/// What a [`Reporter`] kept of an install or a boot, for its report.
#[derive(Default)]
struct Kept {
    records: Vec<Entry>,
    failure: Option<Entry>,
}

impl Kept {
    /// The encoded `SUIT_Report` of the processing of `envelope` that ended with `error`.
    fn report<C: SuitCrypto>(
        &self,
        crypto: &mut C,
        anchors: &mut TrustAnchors<'_, P256VerifyingKey>,
        envelope: &[u8],
        nonce: Option<&[u8]>,
        error: Option<&Error>,
    ) -> Vec<u8> {
        // Decoded once: authenticated for the reference URI, else the digest it claims.
        let (uri, digest) = match Envelope::decode(envelope) {
            Ok(env) => match env.authenticate(crypto, anchors) {
                Ok(a) => (a.manifest().reference_uri().unwrap_or(""), a.digest()),
                Err(_) => ("", env.digest()),
            },
            Err(_) => (
                "",
                SuitDigest {
                    algorithm: crate::digest_alg::SHA256,
                    bytes: &[],
                },
            ),
        };
        let failure = error.map(|e| (e, self.failure.as_ref().filter(|f| f.result == Err(*e))));
        // Into a buffer that doubles until the report fits (its parts are all bounded), rather
        // than one sized by an estimate that, were it short, would lose the report.
        let mut out = vec![0u8; 512];
        loop {
            match report::encode(uri, digest, nonce, &self.records, failure, &mut out) {
                Ok(n) => {
                    out.truncate(n);
                    return out;
                }
                Err(iot_core::Error::BufferTooSmall) => out.resize(out.len() * 2, 0),
                // The encoder fails only for room.
                Err(_) => return Vec::new(),
            }
        }
    }
}

impl AbPlatform for DirDevice {
    fn read_boot_state(&mut self) -> PlatformResult<Option<BootState>> {
        Ok(self.state.boot)
    }

    fn write_boot_state(&mut self, state: &BootState) -> PlatformResult<()> {
        let next = State {
            boot: Some(*state),
            ..self.state.clone()
        };
        self.write_state(next)
    }

    fn write_envelope(&mut self, slot: u8, envelope: &[u8]) -> PlatformResult<()> {
        if slot > 1 {
            return Err(PlatformError::NotFound);
        }
        self.persist(&envelope_file(slot), envelope)
    }

    fn read_envelope(&mut self, slot: u8, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        match self.read_file(&envelope_file(slot), offset, buf) {
            Err(PlatformError::NotFound) => Ok(0),
            r => r,
        }
    }
}
