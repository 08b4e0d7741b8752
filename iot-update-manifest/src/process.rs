//! The manifest processor (draft-ietf-suit-manifest "Manifest Processor Behavior"): an
//! interpreter of command sequences over a [`Platform`], without a heap.
//!
//! * Procedures: [`Processor::update`] runs dependency-resolution, payload-fetch,
//!   candidate-verification, install and validate (each after the shared sequence, in the order
//!   of draft-ietf-suit-trust-domains "Processing Dependencies") and then stores the sequence
//!   number; [`Processor::boot`] runs validate, load and invoke.
//! * Anti-rollback ("suit-manifest-sequence-number"): an update must carry a sequence number
//!   greater than the stored one; an invocation one at least as great. The number is stored only
//!   after install and validate succeeded. A dependency manifest's must be at least as great as
//!   the one stored under its own `suit-manifest-component-id`, which is stored with the
//!   dependent's ([`Processor::store_dependency_numbers`]).
//! * Soft failure ("suit-parameter-soft-failure"): a failed condition ends its sequence; inside
//!   try-each (soft failure on by default) the next sequence is tried, inside run-sequence (off
//!   by default) the failure propagates unless the sequence turned it on. Directive failures
//!   always abort.
//! * Parameters are kept per component for [`MAX_COMPONENTS`] components, borrowed from the
//!   manifest, and cleared before each top-level sequence (the shared sequence sets them again).
//! * Dependencies (draft-ietf-suit-trust-domains): a dependency manifest is read from its
//!   component into a caller-given scratch buffer, authenticated under the same trust anchors,
//!   bound to `suit-parameter-image-digest`, and its sequence of the same kind run with its
//!   components under `suit-dependency-prefix`, at most [`MAX_DEPENDENCY_DEPTH`] levels deep;
//!   each of its components starts with the parameters the dependent set for its own component
//!   of the same identifier.
//!
//! ```
//! use iot_core::crypto::{P256VerifyingKey, RustCrypto};
//! use iot_update_manifest::{
//!     Command, Component, ComponentId, Error, Identifier, Platform, PlatformError,
//!     PlatformResult, Processor, TrustAnchors,
//! };
//!
//! /// A device with one component in RAM.
//! struct Device { class: [u8; 16], image: Vec<u8>, invoked: bool, stored: Option<u64> }
//!
//! impl Platform for Device {
//!     fn check_identifier(&mut self, kind: Identifier, _: &Component<'_>, id: &[u8]) -> PlatformResult<bool> {
//!         Ok(match kind {
//!             Identifier::Vendor => id == hex::decode("fa6b4a53d5ad5fdfbe9de663e4d41ffe").unwrap(),
//!             Identifier::Class => id == self.class,
//!             Identifier::Device => false,
//!         })
//!     }
//!     fn check_slot(&mut self, _: &Component<'_>, slot: u64) -> PlatformResult<bool> { Ok(slot == 0) }
//!     fn fetch(&mut self, _: &str, _: &Component<'_>) -> PlatformResult<()> { Err(PlatformError::Unavailable) }
//!     fn fetch_range(&mut self, _: &str, _: u64, _: &mut [u8]) -> PlatformResult<usize> {
//!         Err(PlatformError::Unavailable)
//!     }
//!     fn read(&mut self, _: &Component<'_>, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
//!         let rest = self.image.get(offset as usize..).unwrap_or_default();
//!         let n = rest.len().min(buf.len());
//!         buf[..n].copy_from_slice(&rest[..n]);
//!         Ok(n)
//!     }
//!     fn write(&mut self, _: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
//!         self.image.truncate(offset as usize);
//!         self.image.extend_from_slice(data);
//!         Ok(())
//!     }
//!     fn invoke(&mut self, _: &Component<'_>, _: Option<&[u8]>) -> PlatformResult<()> {
//!         self.invoked = true;
//!         Ok(())
//!     }
//!     fn stored_sequence_number(&mut self, _: Option<&ComponentId<'_>>) -> PlatformResult<Option<u64>> {
//!         Ok(self.stored)
//!     }
//!     fn store_sequence_number(&mut self, _: Option<&ComponentId<'_>>, n: u64) -> PlatformResult<()> {
//!         self.stored = Some(n);
//!         Ok(())
//!     }
//! }
//!
//! // Example 0 of draft-ietf-suit-manifest (secure boot), as in the crate README.
//! let envelope = hex::decode(concat!(
//!     "d86ba2025873825824822f58206658ea560262696dd1f13b782239a064da7c6c5cbaf52fded428a6fc83c7e5af",
//!     "584ad28443a10126a0f65840408d0816f9b510749bf6a51b066951e08a4438f849eb092a1ac768eed9de696c1b",
//!     "1dd35d82ef149e6a73a61976ad2cfe78444b8064293350a122f332cb49f0da035871a50101020003585fa20281",
//!     "8141000458568614a40150fa6b4a53d5ad5fdfbe9de663e4d41ffe02501492af1425695e48bf429b2d51f2ab45",
//!     "035824822f582000112233445566778899aabbccddeeff0123456789abcdeffedcba98765432100e1987d0010f",
//!     "020f074382030f0943821702",
//! ))?;
//! let mut keys = [P256VerifyingKey::from_sec1(&hex::decode(concat!(
//!     "048496811aae0baaabd26157189eecda26beaa8bf11b6f3fe6e2b5659c85dbc0ad",
//!     "3b1f2a4b6c098131c0a36dacd1d78bd381dcdfb09c052db33991db7338b4a896",
//! ))?)?];
//! let mut anchors = TrustAnchors::signers(&mut keys);
//! let mut crypto = RustCrypto::from_os();
//! let class: [u8; 16] = hex::decode("1492af1425695e48bf429b2d51f2ab45")?.try_into().unwrap();
//!
//! // The shared sequence checks vendor and class, validate checks the image digest (a sample
//! // value in the example, which no image has), and only then would invoke run.
//! let mut device = Device { class, image: vec![0; 34768], invoked: false, stored: None };
//! let mut p = Processor::new(&mut device, &mut crypto, &mut anchors);
//! let manifest = p.authenticate(&envelope)?;
//! assert_eq!(p.boot(&manifest), Err(Error::ConditionFailed(Command::ImageMatch)));
//! assert!(!device.invoked);
//!
//! // Another device class: refused at the class check.
//! let mut other = Device { class: [0; 16], image: vec![], invoked: false, stored: None };
//! let mut p = Processor::new(&mut other, &mut crypto, &mut anchors);
//! let manifest = p.authenticate(&envelope)?;
//! assert_eq!(p.boot(&manifest), Err(Error::ConditionFailed(Command::ClassIdentifier)));
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

use crate::MAX_COMPONENTS;
#[cfg(feature = "update-management")]
use crate::cbor::Cur;
#[cfg(feature = "update-management")]
use crate::command::ByIndex;
use crate::command::{
    Argument, Command, CommandSequence, IndexArg, Parameter, Parameters, ReportingPolicy, TryEach,
    param,
};
use crate::component::ComponentId;
#[cfg(feature = "dependencies")]
use crate::component::Dependency;
use crate::digest::{SuitDigest, alg};
use crate::envelope::{AuthenticatedManifest, TrustAnchors, decode_and_authenticate};
use crate::error::{Capacity, Error, Result, Unsupported};
use crate::manifest::Manifest;
use crate::platform::{
    Component, Identifier, ManifestId, Platform, PlatformError, Record, SequenceKind,
};
#[cfg(feature = "update-management")]
use core::cmp::Ordering;
use iot_core::crypto::{AesCtr, AesGcmOpen, AesKeyWrap, HmacSha256, Sha256, Verifier, ct_eq};

#[cfg(feature = "dependencies")]
mod counters;
#[cfg(feature = "dependencies")]
mod verified;
#[cfg(feature = "dependencies")]
pub use verified::MAX_VERIFIED;

/// Dependency manifests processed below the root manifest, counting each level once.
pub const MAX_DEPENDENCY_DEPTH: usize = 2;
/// Bytes moved per [`Platform::read`] / [`Platform::write`] call when the processor copies,
/// digests or compares a component (a stack buffer of this size).
pub const CHUNK: usize = 256;
/// Where an encrypted payload is read from: the manifest's `suit-parameter-content`, or a component.
#[cfg_attr(not(feature = "encryption"), allow(dead_code))]
enum Source<'a, 'c> {
    Bytes(&'a [u8]),
    Component(&'c Component<'c>),
}

/// Integers in a `SUIT_Parameter_Version_Match` and in a component's version.
pub const MAX_VERSION_PARTS: usize = 8;

/// The sequences of the update procedure, in order.
pub const UPDATE_SEQUENCES: [SequenceKind; 5] = [
    SequenceKind::DependencyResolution,
    SequenceKind::PayloadFetch,
    SequenceKind::CandidateVerification,
    SequenceKind::Install,
    SequenceKind::Validate,
];
/// The sequences of the invocation procedure, in order.
pub const BOOT_SEQUENCES: [SequenceKind; 3] = [
    SequenceKind::Validate,
    SequenceKind::Load,
    SequenceKind::Invoke,
];

/// The parameters of one component ("SUIT_Parameters"), borrowed from the manifest.
#[derive(Debug, Clone, Copy, Default)]
struct Params<'a> {
    vendor_id: Option<&'a [u8]>,
    class_id: Option<&'a [u8]>,
    device_id: Option<&'a [u8]>,
    image_digest: Option<SuitDigest<'a>>,
    image_size: Option<u64>,
    slot: Option<u64>,
    content: Option<&'a [u8]>,
    encryption_info: Option<&'a [u8]>,
    uri: Option<&'a str>,
    source: Option<u64>,
    invoke_args: Option<&'a [u8]>,
    #[cfg(feature = "update-management")]
    use_before: Option<u64>,
    #[cfg(feature = "update-management")]
    minimum_battery: Option<u64>,
    #[cfg(feature = "update-management")]
    update_priority: Option<i64>,
    #[cfg(feature = "update-management")]
    version: Option<&'a [u8]>,
    #[cfg(feature = "update-management")]
    wait_info: Option<&'a [u8]>,
}

fn put<T>(slot: &mut Option<T>, value: T, keep: bool) {
    if !(keep && slot.is_some()) {
        *slot = Some(value);
    }
}

impl<'a> Params<'a> {
    /// Sets `p` ("suit-directive-override-parameters"); with `keep`, only when unset
    /// ("suit-directive-set-parameters"). Soft failure and strict order are not per component.
    fn set(&mut self, p: Parameter<'a>, keep: bool) {
        // One `put` per value type, into the slot the variant picks.
        match p {
            Parameter::VendorId(v)
            | Parameter::ClassId(v)
            | Parameter::DeviceId(v)
            | Parameter::Content(v)
            | Parameter::EncryptionInfo(v)
            | Parameter::InvokeArgs(v) => {
                let slot = match p {
                    Parameter::VendorId(_) => &mut self.vendor_id,
                    Parameter::ClassId(_) => &mut self.class_id,
                    Parameter::DeviceId(_) => &mut self.device_id,
                    Parameter::Content(_) => &mut self.content,
                    Parameter::EncryptionInfo(_) => &mut self.encryption_info,
                    _ => &mut self.invoke_args,
                };
                put(slot, v, keep)
            }
            Parameter::ImageSize(v)
            | Parameter::ComponentSlot(v)
            | Parameter::SourceComponent(v) => {
                let slot = match p {
                    Parameter::ImageSize(_) => &mut self.image_size,
                    Parameter::ComponentSlot(_) => &mut self.slot,
                    _ => &mut self.source,
                };
                put(slot, v, keep)
            }
            Parameter::ImageDigest(v) => put(&mut self.image_digest, v, keep),
            Parameter::Uri(v) => put(&mut self.uri, v, keep),
            #[cfg(feature = "update-management")]
            Parameter::UseBefore(v) => put(&mut self.use_before, v, keep),
            #[cfg(feature = "update-management")]
            Parameter::MinimumBattery(v) => put(&mut self.minimum_battery, v, keep),
            #[cfg(feature = "update-management")]
            Parameter::UpdatePriority(v) => put(&mut self.update_priority, v, keep),
            #[cfg(feature = "update-management")]
            Parameter::Version(v) => put(&mut self.version, v, keep),
            #[cfg(feature = "update-management")]
            Parameter::WaitInfo(v) => put(&mut self.wait_info, v, keep),
            // Processor-wide (handled by the caller) or not consumed by any command here.
            Parameter::SoftFailure(_) | Parameter::StrictOrder(_) | Parameter::Other { .. } => {}
        }
    }

    /// The parameter under `key`, for `copy-params`.
    #[cfg(feature = "update-management")]
    fn get(&self, key: i64) -> Option<Parameter<'a>> {
        use param::*;
        match key {
            VENDOR_IDENTIFIER => self.vendor_id.map(Parameter::VendorId),
            CLASS_IDENTIFIER => self.class_id.map(Parameter::ClassId),
            DEVICE_IDENTIFIER => self.device_id.map(Parameter::DeviceId),
            IMAGE_DIGEST => self.image_digest.map(Parameter::ImageDigest),
            IMAGE_SIZE => self.image_size.map(Parameter::ImageSize),
            COMPONENT_SLOT => self.slot.map(Parameter::ComponentSlot),
            CONTENT => self.content.map(Parameter::Content),
            ENCRYPTION_INFO => self.encryption_info.map(Parameter::EncryptionInfo),
            URI => self.uri.map(Parameter::Uri),
            SOURCE_COMPONENT => self.source.map(Parameter::SourceComponent),
            INVOKE_ARGS => self.invoke_args.map(Parameter::InvokeArgs),
            USE_BEFORE => self.use_before.map(Parameter::UseBefore),
            MINIMUM_BATTERY => self.minimum_battery.map(Parameter::MinimumBattery),
            UPDATE_PRIORITY => self.update_priority.map(Parameter::UpdatePriority),
            VERSION => self.version.map(Parameter::Version),
            WAIT_INFO => self.wait_info.map(Parameter::WaitInfo),
            _ => None,
        }
    }
}

/// The component index ("Special Cases of Component Index").
#[derive(Debug, Clone, Copy)]
enum Selection {
    One(usize),
    All,
    List([usize; MAX_COMPONENTS], usize),
}

/// How a command sequence ended without an abort.
#[derive(Debug, Clone, Copy)]
enum Flow {
    Done,
    /// A condition failed while soft failure was on.
    SoftFailed(Command),
}

/// The state of one manifest while one of its top-level sequences runs.
struct Frame<'m, 'f> {
    auth: &'f AuthenticatedManifest<'m>,
    prefix: &'f [ComponentId<'m>],
    id: ManifestId,
    kind: SequenceKind,
    /// Where the top-level sequence running now starts ([`CommandSequence::start`]).
    section: usize,
    shared: bool,
    params: [Params<'m>; MAX_COMPONENTS],
    selection: Selection,
    soft: bool,
    nesting: usize,
}

impl<'m, 'f> Frame<'m, 'f> {
    /// A frame whose parameters start unset. Not inlined with `dependencies`: the parameters
    /// are built in a temporary that would otherwise stay in [`Processor::top`]'s frame, under
    /// every authentication of a dependency.
    #[cfg_attr(feature = "dependencies", inline(never))]
    fn new(
        auth: &'f AuthenticatedManifest<'m>,
        prefix: &'f [ComponentId<'m>],
        id: ManifestId,
        kind: SequenceKind,
    ) -> Self {
        Self {
            auth,
            prefix,
            id,
            kind,
            section: 0,
            shared: false,
            params: [Params::default(); MAX_COMPONENTS],
            selection: Selection::One(0),
            soft: false,
            nesting: 0,
        }
    }

    /// A dependency's parameters as its `dependent` passes them (draft-ietf-suit-trust-domains;
    /// libcsuit expED): each of its components starts with what the dependent set for its own
    /// component of the same identifier; the dependency's override-parameters replace them, its
    /// set-parameters do not. Copied in place, not through an array on the stack.
    fn inherit(&mut self, dependent: &Frame<'m, '_>) {
        let own = dependent.manifest().common().components();
        let ids = self.manifest().common().components();
        for (slot, id) in self.params.iter_mut().zip(ids.iter()) {
            if let Some(p) = own
                .iter()
                .position(|c| c == id)
                .and_then(|j| dependent.params.get(j))
            {
                *slot = *p;
            }
        }
    }

    fn manifest(&self) -> &'f Manifest<'m> {
        self.auth.manifest()
    }

    #[cfg(feature = "dependencies")]
    fn dependency(&self, index: usize) -> Option<Dependency<'m>> {
        self.manifest().dependency(index)
    }

    /// Whether `index` names a dependency (never without the `dependencies` feature).
    fn is_dependency(&self, index: usize) -> bool {
        #[cfg(feature = "dependencies")]
        return self.dependency(index).is_some();
        #[cfg(not(feature = "dependencies"))]
        {
            let _ = index;
            false
        }
    }

    /// `index` as a valid component or dependency index.
    fn check_index(&self, index: u64) -> Result<usize> {
        match usize::try_from(index) {
            Ok(i)
                if i < MAX_COMPONENTS
                    && (i < self.manifest().common().components().len()
                        || self.is_dependency(i)) =>
            {
                Ok(i)
            }
            _ => Err(Error::ComponentIndex(iot_core::Error::uint(index))),
        }
    }

    fn select(&self, arg: IndexArg<'_>) -> Result<Selection> {
        Ok(match arg {
            IndexArg::One(i) => Selection::One(self.check_index(i)?),
            IndexArg::All => Selection::All,
            IndexArg::List(list) => {
                let mut items = [0usize; MAX_COMPONENTS];
                let mut n = 0;
                for (slot, i) in items.iter_mut().zip(list.iter()) {
                    *slot = self.check_index(i)?;
                    n += 1;
                }
                Selection::List(items, n)
            }
        })
    }

    /// The selected indices, in order. Iterated by reference: `heapless::Vec`'s by-value
    /// iterator keeps a slice bound check in its drop (240 B on thumbv7em when
    /// [`Processor::command`] had one loop per kind of command).
    fn indices(&self, selection: Selection) -> heapless::Vec<usize, MAX_COMPONENTS> {
        let mut out = heapless::Vec::new();
        match selection {
            Selection::One(i) => {
                let _ = out.push(i);
            }
            Selection::All => {
                let n = self.manifest().common().components().len();
                for i in 0..n.min(MAX_COMPONENTS) {
                    let _ = out.push(i);
                }
            }
            Selection::List(items, n) => {
                for i in items.iter().take(n) {
                    let _ = out.push(*i);
                }
            }
        }
        out
    }

    fn params(&self, index: usize) -> Result<&Params<'m>> {
        self.params
            .get(index)
            .ok_or(Error::ComponentIndex(iot_core::Error::uint(index as u64)))
    }

    fn params_mut(&mut self, index: usize) -> Result<&mut Params<'m>> {
        self.params
            .get_mut(index)
            .ok_or(Error::ComponentIndex(iot_core::Error::uint(index as u64)))
    }

    /// The platform's view of component `index` (a dependency not listed in `suit-components`
    /// is addressed by its `suit-dependency-prefix`).
    fn component(&self, index: usize) -> Result<Component<'f>> {
        let id = self
            .manifest()
            .component(index)
            .ok_or(Error::ComponentIndex(iot_core::Error::uint(index as u64)))?;
        Ok(Component {
            prefix: self.prefix,
            id,
            slot: self.params(index)?.slot,
        })
    }
}

/// A dependency's component prefix ([`Component::prefix`]): its dependent's `prefix`, then
/// its own `suit-dependency-prefix`.
#[cfg(feature = "dependencies")]
type Prefix<'m> = heapless::Vec<ComponentId<'m>, MAX_DEPENDENCY_DEPTH>;

/// Fills `nested` with the prefix of `dependency`'s components ([`Prefix`]), under its
/// dependent's `prefix`. Filled in place: returned through a `Result`, the prefix took room in
/// both callers' frames (`suit_dependency`'s stack +40 B).
#[cfg(feature = "dependencies")]
fn nest<'m>(
    nested: &mut Prefix<'m>,
    prefix: &[ComponentId<'m>],
    dependency: &Dependency<'m>,
) -> Result<()> {
    for id in prefix.iter().copied().chain(dependency.prefix) {
        nested
            .push(id)
            .map_err(|_| Error::CapacityExceeded(Capacity::DependencyDepth))?;
    }
    Ok(())
}

#[cfg(feature = "dependencies")]
fn same_digest(a: SuitDigest<'_>, b: SuitDigest<'_>) -> bool {
    a.algorithm == b.algorithm && ct_eq(a.bytes, b.bytes)
}

/// The shared sequence sets parameters and tests conditions only ("suit-common"); custom
/// commands are excluded too ("Required Checks").
fn allowed_in_shared(command: Command) -> bool {
    command.is_condition()
        || matches!(
            command,
            Command::SetComponentIndex
                | Command::OverrideParameters
                | Command::SetParameters
                | Command::TryEach
                | Command::RunSequence
                | Command::OverrideMultiple
                | Command::CopyParams
        )
}

fn condition(command: Command, holds: bool) -> Result<()> {
    if holds {
        Ok(())
    } else {
        Err(Error::ConditionFailed(command))
    }
}

fn missing(command: Command, parameter: i64) -> Error {
    Error::MissingParameter {
        command: iot_core::Error::label(command.code()),
        parameter: iot_core::Error::label(parameter),
    }
}

/// What the processor asks of its crypto backend: SHA-256 and HMAC to authenticate, and the
/// P-256 ECDH and AES operations of firmware decryption ([`crate::encryption`], feature
/// `encryption`). The bound does not change with features; a backend for a device that never
/// decrypts may answer the ECDH and AES calls with [`iot_core::Error::UnsupportedAlgorithm`].
pub trait SuitCrypto:
    Sha256 + HmacSha256 + iot_core::crypto::EcdhP256 + AesKeyWrap + AesCtr + AesGcmOpen
{
}
impl<T> SuitCrypto for T where
    T: Sha256 + HmacSha256 + iot_core::crypto::EcdhP256 + AesKeyWrap + AesCtr + AesGcmOpen
{
}

/// Fills `scratch` with what `read(offset, buf)` yields until it yields 0; the length. More
/// than fits is [`Capacity::DependencyBuffer`].
fn fill(
    scratch: &mut [u8],
    mut read: impl FnMut(u64, &mut [u8]) -> Result<usize>,
) -> Result<usize> {
    let mut n = 0usize;
    loop {
        let free = scratch.get_mut(n..).unwrap_or_default();
        if free.is_empty() {
            let mut probe = [0u8; 1];
            return match read(n as u64, &mut probe)? {
                0 => Ok(n),
                _ => Err(Error::CapacityExceeded(Capacity::DependencyBuffer)),
            };
        }
        let room = free.len();
        let k = read(n as u64, free)?.min(room);
        if k == 0 {
            return Ok(n);
        }
        n += k;
    }
}

/// Runs manifests against a [`Platform`].
///
/// `anchors` authenticate dependency manifests (and envelopes given to
/// [`Processor::authenticate`]); the scratch buffer ([`Processor::with_scratch`]) holds the
/// dependency manifests being processed, none by default.
pub struct Processor<'r, 'k, P, C, V> {
    platform: &'r mut P,
    crypto: &'r mut C,
    anchors: &'r mut TrustAnchors<'k, V>,
    scratch: &'r mut [u8],
    #[cfg(feature = "encryption")]
    kek: Option<crate::encryption::Kek<'r>>,
    #[cfg(feature = "encryption")]
    key_unwrap: Option<&'r mut dyn crate::encryption::KeyUnwrap>,
    /// The dependency envelopes that verified, so that one read again is not verified again.
    #[cfg(feature = "dependencies")]
    verified: verified::Verified,
}

impl<'r, 'k, P, C, V> Processor<'r, 'k, P, C, V>
where
    P: Platform,
    C: SuitCrypto,
    V: Verifier,
{
    /// A processor over `platform`, hashing and verifying with `crypto` under `anchors`.
    pub fn new(
        platform: &'r mut P,
        crypto: &'r mut C,
        anchors: &'r mut TrustAnchors<'k, V>,
    ) -> Self {
        Self {
            platform,
            crypto,
            anchors,
            scratch: &mut [],
            #[cfg(feature = "encryption")]
            kek: None,
            #[cfg(feature = "encryption")]
            key_unwrap: None,
            #[cfg(feature = "dependencies")]
            verified: verified::Verified::default(),
        }
    }

    /// Gives the processor the device's key-encryption key, with which write and copy decrypt
    /// a payload that has `suit-parameter-encryption-info` (draft-ietf-suit-firmware-encryption;
    /// [`crate::encryption`]). Without one such a payload is [`Unsupported::Encryption`].
    #[cfg(feature = "encryption")]
    pub fn with_decryption_key(mut self, kek: crate::encryption::Kek<'r>) -> Self {
        self.kek = Some(kek);
        self
    }

    /// As [`Processor::with_decryption_key`], with the key operation (AES-KW unwrap or P-256
    /// ECDH) done by `key`: a secure element that keeps the key ([`crate::encryption::KeyUnwrap`]).
    /// It takes precedence over a key given with [`Processor::with_decryption_key`].
    #[cfg(feature = "encryption")]
    pub fn with_key_unwrap(mut self, key: &'r mut dyn crate::encryption::KeyUnwrap) -> Self {
        self.key_unwrap = Some(key);
        self
    }

    /// The decryptor of `info` under the processor's key; without one
    /// [`Unsupported::Encryption`].
    #[cfg(feature = "encryption")]
    fn open_decryptor(&mut self, info: &[u8]) -> Result<crate::encryption::Decryptor<C>> {
        use crate::encryption::Decryptor;
        if let Some(key) = self.key_unwrap.as_deref_mut() {
            return Decryptor::open_with(self.crypto, info, key);
        }
        let mut kek = self
            .kek
            .ok_or(Error::Unsupported(Unsupported::Encryption))?;
        Decryptor::open_with(self.crypto, info, &mut kek)
    }

    /// Gives the processor `scratch` to read dependency manifests into; each level of
    /// dependency takes the size of its envelope from it.
    pub fn with_scratch(mut self, scratch: &'r mut [u8]) -> Self {
        self.scratch = scratch;
        self
    }

    /// The platform.
    pub fn platform(&mut self) -> &mut P {
        self.platform
    }

    /// Decodes and authenticates `envelope` under the processor's anchors.
    pub fn authenticate<'e>(&mut self, envelope: &'e [u8]) -> Result<AuthenticatedManifest<'e>> {
        decode_and_authenticate(envelope, self.crypto, self.anchors, None)
    }

    /// [`Processor::authenticate`] for a dependency manifest: its signature is verified once per
    /// processor for the same bytes ([`verified`]). Not inlined: the envelope's SHA-256 is then
    /// not in the frames of fetch and process-dependency, under which the dependency is processed.
    #[cfg(feature = "dependencies")]
    #[inline(never)]
    fn authenticate_dependency<'e>(
        &mut self,
        envelope: &'e [u8],
    ) -> Result<AuthenticatedManifest<'e>> {
        let hash = self.crypto.sha256(envelope);
        let block = self.verified.block(&hash);
        let authenticated = decode_and_authenticate(envelope, self.crypto, self.anchors, block);
        if let Ok(auth) = &authenticated {
            self.verified.insert(hash, auth.authenticated_by());
        }
        authenticated
    }

    /// The update procedure: checks that the sequence number is newer than the stored one, runs
    /// [`UPDATE_SEQUENCES`], and stores the sequence number once install and validate succeeded.
    /// With `dependencies`, the numbers of the dependency manifests stored under it are stored
    /// first ([`Processor::store_dependency_numbers`]).
    pub fn update(&mut self, auth: &AuthenticatedManifest<'_>) -> Result<()> {
        self.install(auth)?;
        #[cfg(feature = "dependencies")]
        self.store_dependency_numbers(auth)?;
        let m = auth.manifest();
        self.platform
            .store_sequence_number(m.component_id().as_ref(), m.sequence_number())?;
        Ok(())
    }

    /// [`Processor::update`] without storing the sequence number (the A/B layer stores it when
    /// the new image is confirmed).
    pub fn install(&mut self, auth: &AuthenticatedManifest<'_>) -> Result<()> {
        self.check_sequence(auth, true)?;
        self.procedure(auth, &UPDATE_SEQUENCES)
    }

    /// The invocation procedure: checks that the sequence number is not older than the stored
    /// one and runs [`BOOT_SEQUENCES`].
    pub fn boot(&mut self, auth: &AuthenticatedManifest<'_>) -> Result<()> {
        self.check_sequence(auth, false)?;
        self.procedure(auth, &BOOT_SEQUENCES)
    }

    /// Runs the sequence of `kind` alone (after the shared sequence): for `suit-uninstall`, say.
    /// The sequence number is checked as for an update when `kind` belongs to the update
    /// procedure (it must be newer than the stored one), as for a boot otherwise; nothing is
    /// stored. Nothing happens when the manifest has no such sequence.
    pub fn run(&mut self, auth: &AuthenticatedManifest<'_>, kind: SequenceKind) -> Result<()> {
        let strict = matches!(
            kind,
            SequenceKind::DependencyResolution
                | SequenceKind::PayloadFetch
                | SequenceKind::CandidateVerification
                | SequenceKind::Install
        );
        self.check_sequence(auth, strict)?;
        self.procedure(auth, &[kind])
    }

    /// Anti-rollback ("suit-manifest-sequence-number"): `strict` for updates.
    pub fn check_sequence(&mut self, auth: &AuthenticatedManifest<'_>, strict: bool) -> Result<()> {
        let m = auth.manifest();
        let seq = m.sequence_number();
        if let Some(stored) = self
            .platform
            .stored_sequence_number(m.component_id().as_ref())?
            && (seq < stored || (strict && seq == stored))
        {
            return Err(Error::Rollback);
        }
        Ok(())
    }

    fn procedure(
        &mut self,
        auth: &AuthenticatedManifest<'_>,
        kinds: &[SequenceKind],
    ) -> Result<()> {
        self.lending_scratch(|p, scratch| {
            for &kind in kinds {
                p.top(auth, &[], ManifestId::ROOT, kind, None, &mut *scratch)?;
            }
            Ok(())
        })
    }

    /// Runs `run` with the scratch buffer lent to it (dependency manifests are read into it
    /// while the processor itself stays usable), and puts the buffer back whatever `run` returns.
    fn lending_scratch<T>(
        &mut self,
        run: impl FnOnce(&mut Self, &mut [u8]) -> Result<T>,
    ) -> Result<T> {
        let scratch = core::mem::take(&mut self.scratch);
        let result = run(self, &mut *scratch);
        self.scratch = scratch;
        result
    }

    /// Runs the shared sequence and then the sequence of `kind` of one manifest.
    fn top<'m>(
        &mut self,
        auth: &AuthenticatedManifest<'m>,
        prefix: &[ComponentId<'m>],
        id: ManifestId,
        kind: SequenceKind,
        dependent: Option<&Frame<'m, '_>>,
        scratch: &mut [u8],
    ) -> Result<()> {
        let Some(seq) = auth.manifest().sequence(kind)? else {
            return Ok(());
        };
        let mut f = Frame::new(auth, prefix, id, kind);
        if let Some(dependent) = dependent {
            f.inherit(dependent);
        }
        if let Some(shared) = auth.manifest().common().shared_sequence() {
            f.shared = true;
            self.top_exec(&mut f, &shared, scratch)?;
            f.shared = false;
            f.selection = Selection::One(0);
        }
        self.top_exec(&mut f, &seq, scratch)
    }

    fn top_exec<'m>(
        &mut self,
        f: &mut Frame<'m, '_>,
        seq: &CommandSequence<'m>,
        scratch: &mut [u8],
    ) -> Result<()> {
        f.section = seq.start();
        match self.exec(f, seq, false, scratch)? {
            Flow::Done => Ok(()),
            // Soft failure cannot be set at the top level; kept as a failure all the same.
            Flow::SoftFailed(c) => Err(Error::ConditionFailed(c)),
        }
    }

    /// Runs one command sequence with soft failure initially `soft`.
    fn exec<'m>(
        &mut self,
        f: &mut Frame<'m, '_>,
        seq: &CommandSequence<'m>,
        soft: bool,
        scratch: &mut [u8],
    ) -> Result<Flow> {
        let saved = f.soft;
        f.soft = soft;
        f.nesting += 1;
        let mut flow = Ok(Flow::Done);
        let mut commands = seq.iter();
        loop {
            let at = commands.position();
            let Some((command, argument)) = commands.next() else {
                break;
            };
            let result = self.command(f, command, argument, scratch);
            self.platform.report(&Record {
                manifest: f.id,
                offset: at.saturating_sub(f.section) as u64,
                sequence: if f.shared {
                    SequenceKind::Shared
                } else {
                    f.kind
                },
                command,
                component: match f.selection {
                    Selection::One(i) => Some(i),
                    _ => None,
                },
                policy: match argument {
                    Argument::ReportingPolicy(p) => p,
                    _ => ReportingPolicy::default(),
                },
                result,
            });
            match result {
                Ok(()) => {}
                Err(Error::ConditionFailed(c)) if f.soft => {
                    flow = Ok(Flow::SoftFailed(c));
                    break;
                }
                Err(e) => {
                    flow = Err(e);
                    break;
                }
            }
        }
        f.nesting -= 1;
        f.soft = saved;
        flow
    }

    fn command<'m>(
        &mut self,
        f: &mut Frame<'m, '_>,
        command: Command,
        argument: Argument<'m>,
        scratch: &mut [u8],
    ) -> Result<()> {
        if f.shared && !allowed_in_shared(command) {
            return Err(Error::NotAllowedInSharedSequence(iot_core::Error::label(
                command.code(),
            )));
        }
        match (command, argument) {
            (Command::SetComponentIndex, Argument::Index(arg)) => {
                f.selection = f.select(arg)?;
                return Ok(());
            }
            #[cfg(feature = "update-management")]
            (Command::OverrideMultiple, Argument::Raw(raw)) => {
                return self.override_multiple(f, raw);
            }
            #[cfg(feature = "update-management")]
            (Command::CopyParams, Argument::Raw(raw)) => return self.copy_params(f, raw),
            _ => {}
        }
        // Once per selected component; try-each and run-sequence run theirs with the index set
        // to it ("Special Cases of Component Index": they see integer indices).
        let selection = f.selection;
        for &i in f.indices(selection).iter() {
            match (command, argument) {
                (
                    Command::OverrideParameters | Command::SetParameters,
                    Argument::Parameters(ps),
                ) => self.set_parameters(f, i, ps, command == Command::SetParameters)?,
                (Command::TryEach, Argument::TryEach(t)) => {
                    f.selection = Selection::One(i);
                    let result = self.try_each(f, &t, scratch);
                    f.selection = selection;
                    result?;
                }
                (Command::RunSequence, Argument::Sequence(seq)) => {
                    f.selection = Selection::One(i);
                    let result = self.exec(f, &seq, false, scratch);
                    f.selection = selection;
                    result?;
                }
                _ => self.on_component(f, command, argument, i, scratch)?,
            }
        }
        Ok(())
    }

    /// "suit-directive-try-each": the first sequence that completes wins; soft failure is on in
    /// each; when all fail softly, the directive fails unless the list ends with `nil`.
    fn try_each<'m>(
        &mut self,
        f: &mut Frame<'m, '_>,
        t: &TryEach<'m>,
        scratch: &mut [u8],
    ) -> Result<()> {
        let mut last = Command::TryEach;
        for seq in t.iter() {
            match self.exec(f, &seq, true, scratch)? {
                Flow::Done => return Ok(()),
                Flow::SoftFailed(c) => last = c,
            }
        }
        if t.has_empty_fallback() {
            Ok(())
        } else {
            Err(Error::ConditionFailed(last))
        }
    }

    fn set_parameters<'m>(
        &mut self,
        f: &mut Frame<'m, '_>,
        index: usize,
        ps: Parameters<'m>,
        keep: bool,
    ) -> Result<()> {
        for p in ps.iter() {
            match p {
                Parameter::SoftFailure(soft) => {
                    // Only inside try-each or run-sequence ("suit-parameter-soft-failure").
                    if f.nesting < 2 {
                        return Err(Error::SoftFailureNotAllowed);
                    }
                    f.soft = soft;
                }
                p => f.params_mut(index)?.set(p, keep),
            }
        }
        Ok(())
    }

    /// `suit-directive-override-multiple` (update management): `{+ index => SUIT_Parameters}`.
    #[cfg(feature = "update-management")]
    fn override_multiple<'m>(&mut self, f: &mut Frame<'m, '_>, raw: &'m [u8]) -> Result<()> {
        let mut entries = ByIndex::new(Command::OverrideMultiple, raw)?;
        while let Some(index) = entries.next_index() {
            let index = f.check_index(index?)?;
            let ps = entries.parameters()?;
            self.set_parameters(f, index, ps, false)?;
        }
        Ok(())
    }

    /// `suit-directive-copy-params` (update management): `{+ src-index => [+ parameter key]}`,
    /// copied into every selected component.
    #[cfg(feature = "update-management")]
    fn copy_params<'m>(&mut self, f: &mut Frame<'m, '_>, raw: &'m [u8]) -> Result<()> {
        let mut entries = ByIndex::new(Command::CopyParams, raw)?;
        while let Some(index) = entries.next_index() {
            let source = *f.params(f.check_index(index?)?)?;
            for key in entries.keys()? {
                if let Some(p) = source.get(key) {
                    for &i in f.indices(f.selection).iter() {
                        f.params_mut(i)?.set(p, false);
                    }
                }
            }
        }
        Ok(())
    }

    /// A condition or directive on component `index`. Not inlined into [`Processor::exec`]:
    /// its locals would otherwise be on the stack once more for each nested sequence.
    #[inline(never)]
    fn on_component<'m>(
        &mut self,
        f: &mut Frame<'m, '_>,
        command: Command,
        argument: Argument<'m>,
        index: usize,
        scratch: &mut [u8],
    ) -> Result<()> {
        let comp = f.component(index)?;
        let p = f.params(index)?;
        // Conditions give whether they hold, checked by one `condition` call below; directives
        // return.
        let holds = match command {
            // One call for the three identifiers.
            Command::VendorIdentifier | Command::ClassIdentifier | Command::DeviceIdentifier => {
                let (kind, expected) = match command {
                    Command::VendorIdentifier => (Identifier::Vendor, p.vendor_id),
                    Command::ClassIdentifier => (Identifier::Class, p.class_id),
                    _ => (Identifier::Device, p.device_id),
                };
                self.identifier(kind, &comp, expected)?
            }
            // One call for both: `Some(true)` holds for image-match, `Some(false)` for
            // image-not-match.
            Command::ImageMatch | Command::ImageNotMatch => {
                self.image_match(f, index, &comp, p, scratch)?
                    == Some(command == Command::ImageMatch)
            }
            Command::ComponentSlot => match p.slot {
                Some(slot) => self.platform.check_slot(&comp, slot)?,
                None => false,
            },
            Command::CheckContent => match p.content {
                Some(content) => self.check_content(&comp, content)?,
                None => false,
            },
            Command::Abort => false,
            #[cfg(feature = "dependencies")]
            Command::DependencyIntegrity => {
                f.is_dependency(index)
                    && self.dependency_integrity(&comp, p, scratch)? == Some(true)
            }
            Command::IsDependency => f.is_dependency(index),
            #[cfg(feature = "update-management")]
            Command::UseBefore => match (p.use_before, self.platform.now()?) {
                (Some(limit), Some(now)) => now < limit,
                _ => false,
            },
            #[cfg(feature = "update-management")]
            Command::MinimumBattery => match (p.minimum_battery, self.platform.battery_level()?) {
                (Some(minimum), Some(level)) => level >= minimum,
                _ => false,
            },
            #[cfg(feature = "update-management")]
            Command::UpdateAuthorized => self.platform.update_authorized(p.update_priority)?,
            #[cfg(feature = "update-management")]
            Command::Version => match p.version {
                Some(v) => self.version_matches(&comp, v)?,
                None => false,
            },
            Command::Fetch => return self.fetch(f, index, &comp, p, scratch),
            Command::Write => {
                let content = p.content.ok_or(missing(command, param::CONTENT))?;
                if let Some(info) = p.encryption_info {
                    return self.decrypt_to(&comp, info, Source::Bytes(content));
                }
                self.platform.write(&comp, 0, content)?;
                return Ok(());
            }
            Command::Copy => {
                let src = self.source(f, index, p, command)?;
                if let Some(info) = p.encryption_info {
                    return self.decrypt_to(&comp, info, Source::Component(&src));
                }
                return self.copy(&comp, &src);
            }
            Command::Swap => {
                let src = self.source(f, index, p, command)?;
                self.platform.swap(&comp, &src)?;
                return Ok(());
            }
            Command::Invoke => {
                self.platform.invoke(&comp, p.invoke_args)?;
                return Ok(());
            }
            #[cfg(feature = "dependencies")]
            Command::ProcessDependency => {
                return self.process_dependency(f, index, &comp, p, scratch);
            }
            Command::Unlink => {
                self.platform.unlink(&comp)?;
                return Ok(());
            }
            #[cfg(feature = "update-management")]
            Command::Wait => {
                self.platform.wait(&comp, p.wait_info)?;
                return Ok(());
            }
            Command::Custom(code) => {
                let raw = match argument {
                    Argument::Raw(raw) => raw,
                    _ => &[],
                };
                self.platform.custom(i64::from(code), raw, &comp)?
            }
            // fetch-uri-list (update management) and any command reaching here with an argument
            // of another shape.
            other => {
                return Err(Error::Unsupported(Unsupported::Command(
                    iot_core::Error::label(other.code()),
                )));
            }
        };
        condition(command, holds)
    }

    fn identifier(
        &mut self,
        kind: Identifier,
        comp: &Component<'_>,
        expected: Option<&[u8]>,
    ) -> Result<bool> {
        Ok(match expected {
            Some(id) => self.platform.check_identifier(kind, comp, id)?,
            None => false,
        })
    }

    /// The source component of copy and swap.
    fn source<'f>(
        &self,
        f: &Frame<'_, 'f>,
        index: usize,
        p: &Params<'_>,
        command: Command,
    ) -> Result<Component<'f>> {
        let source = p.source.ok_or(missing(command, param::SOURCE_COMPONENT))?;
        let source = f.check_index(source)?;
        if source == index {
            return Err(Error::SourceIsDestination);
        }
        f.component(source)
    }

    /// "suit-condition-image-match": `Some(matches)`, `None` when no digest is set. On a
    /// dependency, the dependency manifest's digest is compared (after it authenticated).
    /// Not inlined with `dependencies`: [`Processor::on_component`]'s frame, under which a
    /// dependency authenticates, would grow by 32 B.
    #[cfg_attr(feature = "dependencies", inline(never))]
    fn image_match(
        &mut self,
        f: &Frame<'_, '_>,
        index: usize,
        comp: &Component<'_>,
        p: &Params<'_>,
        scratch: &mut [u8],
    ) -> Result<Option<bool>> {
        #[cfg(feature = "dependencies")]
        if f.is_dependency(index) {
            return self.dependency_integrity(comp, p, scratch);
        }
        #[cfg(not(feature = "dependencies"))]
        let _ = (f, index, scratch);
        let Some(digest) = p.image_digest else {
            return Ok(None);
        };
        if digest.algorithm != alg::SHA256 {
            return Err(Error::UnsupportedDigestAlgorithm(iot_core::Error::label(
                digest.algorithm,
            )));
        }
        Ok(Some(match self.component_digest(comp, p.image_size)? {
            Some(computed) => ct_eq(&computed, digest.bytes),
            None => false,
        }))
    }

    /// SHA-256 of the first `len` bytes of `comp` (all when `None`); `None` when the component is
    /// absent or shorter than `len`. Not inlined with `dependencies`: its chunk buffer would
    /// otherwise be in [`Processor::image_match`]'s frame, under which a dependency authenticates.
    #[cfg_attr(feature = "dependencies", inline(never))]
    fn component_digest(
        &mut self,
        comp: &Component<'_>,
        len: Option<u64>,
    ) -> Result<Option<[u8; 32]>> {
        if let Some(d) = self.platform.digest(comp, len)? {
            return Ok(Some(d));
        }
        let mut state = self.crypto.sha256_start();
        let mut buf = [0u8; CHUNK];
        let mut offset = 0u64;
        loop {
            let want = match len {
                Some(len) => usize::try_from(len.saturating_sub(offset))
                    .unwrap_or(CHUNK)
                    .min(CHUNK),
                None => CHUNK,
            };
            if want == 0 {
                break;
            }
            let chunk = buf.get_mut(..want).unwrap_or_default();
            let n = match self.platform.read(comp, offset, chunk) {
                Ok(n) => n.min(want),
                Err(PlatformError::NotFound) => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                break;
            }
            self.crypto
                .sha256_update(&mut state, chunk.get(..n).unwrap_or_default());
            offset = offset.saturating_add(n as u64);
        }
        if len.is_some_and(|len| offset != len) {
            return Ok(None);
        }
        Ok(Some(self.crypto.sha256_finish(state)))
    }

    /// "suit-condition-check-content": byte for byte, without an early exit on a difference.
    fn check_content(&mut self, comp: &Component<'_>, content: &[u8]) -> Result<bool> {
        let mut buf = [0u8; CHUNK];
        let mut offset = 0usize;
        let mut diff = 0u8;
        let mut longer = false;
        loop {
            let n = match self.platform.read(comp, offset as u64, &mut buf) {
                Ok(n) => n.min(CHUNK),
                Err(PlatformError::NotFound) => return Ok(false),
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                break;
            }
            let expected = content.get(offset..).unwrap_or_default();
            for (i, b) in buf.iter().take(n).enumerate() {
                match expected.get(i) {
                    Some(e) => diff |= e ^ b,
                    None => longer = true,
                }
            }
            offset = offset.saturating_add(n);
        }
        Ok(diff == 0 && !longer && offset == content.len())
    }

    /// "suit-condition-version" (update management): the component's version against
    /// `bstr .cbor [comparison-type, [+ int]]`.
    #[cfg(feature = "update-management")]
    fn version_matches(&mut self, comp: &Component<'_>, encoded: &[u8]) -> Result<bool> {
        let bad = Error::InvalidParameter {
            key: iot_core::Error::label(param::VERSION),
            offset: 0,
        };
        let invalid = |_: Error| bad;
        let inner = Cur::new(encoded, 0).bytes().map_err(invalid)?;
        let mut c = Cur::new(inner, 0);
        if c.array().map_err(invalid)? != 2 {
            return Err(bad);
        }
        let comparison = c.uint().map_err(invalid)?;
        let n = c.array().map_err(invalid)?;
        let mut want = heapless::Vec::<i64, MAX_VERSION_PARTS>::new();
        for _ in 0..n {
            want.push(c.int().map_err(invalid)?).map_err(|_| bad)?;
        }
        let mut have = [0i64; MAX_VERSION_PARTS];
        let Some(len) = self.platform.component_version(comp, &mut have)? else {
            return Ok(false);
        };
        let have = have.get(..len.min(MAX_VERSION_PARTS)).unwrap_or_default();
        // Missing trailing parts count as 0.
        let part = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(0);
        let ord = (0..MAX_VERSION_PARTS)
            .map(|i| part(have, i).cmp(&part(&want, i)))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal);
        // SUIT_Condition_Version_Comparison_Types: greater 1, greater-equal 2, equal 3,
        // lesser-equal 4, lesser 5.
        Ok(match comparison {
            1 => ord == Ordering::Greater,
            2 => ord != Ordering::Less,
            3 => ord == Ordering::Equal,
            4 => ord != Ordering::Greater,
            5 => ord == Ordering::Less,
            _ => return Err(bad),
        })
    }

    /// "suit-directive-fetch". An integrated payload (the URI names an envelope member) is
    /// checked against the image digest and size (a dependency: authenticated and bound to the
    /// digest) before it is written, so a tampered one leaves the component as it was. A
    /// dependency manifest from a URI is pulled through [`Platform::fetch_range`] into `scratch`
    /// and checked the same way before it is written; an integrated one larger than `scratch`,
    /// which process-dependency could not read back, is refused unwritten.
    ///
    /// With `suit-parameter-encryption-info` (draft-ietf-suit-firmware-encryption section 8) the
    /// payload is ciphertext: an integrated one is decrypted as a write is, a remote one is
    /// pulled through [`Platform::fetch_range`] and decrypted as it is written
    /// ([`Processor::fetch_decrypt`]); the image digest then applies to the plaintext
    /// (condition image-match).
    ///
    /// Not inlined with `dependencies`, nor is [`Processor::process_dependency`]: the dependency
    /// manifest each authenticates would otherwise be in [`Processor::on_component`]'s frame, on
    /// the stack under every authentication of a dependency.
    #[cfg_attr(feature = "dependencies", inline(never))]
    fn fetch<'m>(
        &mut self,
        f: &Frame<'m, '_>,
        index: usize,
        comp: &Component<'_>,
        p: &Params<'m>,
        scratch: &mut [u8],
    ) -> Result<()> {
        let uri = p.uri.ok_or(missing(Command::Fetch, param::URI))?;
        if let Some(info) = p.encryption_info {
            if f.is_dependency(index) {
                return Err(Error::Unsupported(Unsupported::Encryption));
            }
            return match f.auth.integrated_payload(uri) {
                Some(payload) => self.decrypt_to(comp, info, Source::Bytes(payload)),
                None => self.fetch_decrypt(comp, info, uri),
            };
        }
        let payload: &[u8] = match f.auth.integrated_payload(uri) {
            Some(payload) => payload,
            None if f.is_dependency(index) => {
                let n = fill(scratch, |at, buf| {
                    Ok(self.platform.fetch_range(uri, at, buf)?)
                })?;
                scratch.get(..n).unwrap_or_default()
            }
            None => {
                self.platform.fetch(uri, comp)?;
                return Ok(());
            }
        };
        if let Some(size) = p.image_size
            && size != payload.len() as u64
        {
            return Err(Error::ImageMismatch);
        }
        #[cfg(feature = "dependencies")]
        if f.is_dependency(index) {
            // process-dependency reads it back into `scratch`: one that cannot fit there is
            // refused now, before it is written.
            if payload.len() > scratch.len() {
                return Err(Error::CapacityExceeded(Capacity::DependencyBuffer));
            }
            let authenticated = self.authenticate_dependency(payload);
            let dep = match &authenticated {
                Ok(dep) => dep,
                Err(e) => return Err(*e),
            };
            if p.image_digest
                .is_some_and(|d| !same_digest(dep.digest(), d))
            {
                return Err(Error::ImageMismatch);
            }
            self.platform.write(comp, 0, payload)?;
            return Ok(());
        }
        if let Some(digest) = p.image_digest
            && !digest.matches(self.crypto, payload)?
        {
            return Err(Error::ImageMismatch);
        }
        self.platform.write(comp, 0, payload)?;
        Ok(())
    }

    /// "suit-directive-copy", in [`CHUNK`]-sized reads and writes.
    fn copy(&mut self, dst: &Component<'_>, src: &Component<'_>) -> Result<()> {
        let mut buf = [0u8; CHUNK];
        let mut offset = 0u64;
        loop {
            let n = self.platform.read(src, offset, &mut buf)?.min(CHUNK);
            if n == 0 {
                if offset == 0 {
                    self.platform.write(dst, 0, &[])?;
                }
                return Ok(());
            }
            self.platform
                .write(dst, offset, buf.get(..n).unwrap_or_default())?;
            offset = offset.saturating_add(n as u64);
        }
    }

    /// Reads from `src` at `offset` into `buf`; the number of bytes read (0 at the end).
    #[cfg(feature = "encryption")]
    fn read_source(&mut self, src: &Source<'_, '_>, offset: u64, buf: &mut [u8]) -> Result<usize> {
        match src {
            Source::Bytes(b) => {
                let rest = usize::try_from(offset)
                    .ok()
                    .and_then(|o| b.get(o..))
                    .unwrap_or_default();
                let n = rest.len().min(buf.len());
                if let (Some(dst), Some(from)) = (buf.get_mut(..n), rest.get(..n)) {
                    dst.copy_from_slice(from);
                }
                Ok(n)
            }
            Source::Component(c) => Ok(self.platform.read(c, offset, buf)?.min(buf.len())),
        }
    }

    /// Reads `src[from..to]` in [`CHUNK`]s, handing each to `each` with its offset; a source that
    /// ends early is [`Error::ImageMismatch`].
    #[cfg(feature = "encryption")]
    fn stream(
        &mut self,
        src: &Source<'_, '_>,
        from: u64,
        to: u64,
        buf: &mut [u8; CHUNK],
        mut each: impl FnMut(&mut Self, u64, &mut [u8]) -> Result<()>,
    ) -> Result<()> {
        let mut offset = from;
        while offset < to {
            let want = usize::try_from(to - offset).unwrap_or(CHUNK).min(CHUNK);
            let piece = buf.get_mut(..want).unwrap_or_default();
            let n = self.read_source(src, offset, piece)?;
            if n == 0 {
                return Err(Error::ImageMismatch);
            }
            each(self, offset, piece.get_mut(..n).unwrap_or_default())?;
            offset = offset.saturating_add(n as u64);
        }
        Ok(())
    }

    /// "suit-directive-write" / "suit-directive-copy" of an encrypted payload
    /// (draft-ietf-suit-firmware-encryption section 8): `src` is the ciphertext (with the tag at
    /// its end for A128GCM), decrypted in [`CHUNK`]s with the key of
    /// [`Processor::with_decryption_key`] and written to `dst`.
    ///
    /// For A128GCM a first pass checks the tag over the whole ciphertext before anything is
    /// written, so a tampered payload, a wrong key or a wrong recipient algorithm leaves `dst`
    /// untouched; the second pass decrypts and writes, and checks the tag again (a source that
    /// changed in between is refused, but `dst` then holds a partial write: the A/B layer writes
    /// only to the inactive slot and does not switch). A128CTR has no integrity: the manifest's
    /// image digest (condition image-match) is what catches a wrong plaintext.
    #[cfg(feature = "encryption")]
    fn decrypt_to(&mut self, dst: &Component<'_>, info: &[u8], src: Source<'_, '_>) -> Result<()> {
        use crate::encryption::GCM_TAG_LEN;
        use zeroize::Zeroize;
        if self.kek.is_none() && self.key_unwrap.is_none() {
            return Err(Error::Unsupported(Unsupported::Encryption));
        }
        let mut buf = [0u8; CHUNK];
        let total = match src {
            Source::Bytes(b) => b.len() as u64,
            Source::Component(_) => {
                let mut n = 0u64;
                loop {
                    match self.read_source(&src, n, &mut buf)? {
                        0 => break n,
                        k => n = n.saturating_add(k as u64),
                    }
                }
            }
        };
        let mut d = self.open_decryptor(info)?;
        let tag_len = d.tag_len();
        let body = total
            .checked_sub(tag_len as u64)
            .ok_or(Error::Core(iot_core::Error::BadTag))?;
        let mut tag = [0u8; GCM_TAG_LEN];
        let tag = tag.get_mut(..tag_len).unwrap_or_default();
        let mut got = 0;
        while got < tag_len {
            let rest = tag.get_mut(got..).unwrap_or_default();
            match self.read_source(&src, body + got as u64, rest)? {
                0 => return Err(Error::ImageMismatch),
                k => got += k,
            }
        }
        if let Some(mut check) = d.take_tag_check() {
            // The pieces in `buf` are decrypted as the tag is computed, then thrown away.
            let checked = self
                .stream(&src, 0, body, &mut buf, |p, _, piece| {
                    check.update(p.crypto, piece)
                })
                .and_then(|()| check.finish(self.crypto, tag));
            buf.zeroize();
            checked?;
        }
        let result = self
            .stream(&src, 0, body, &mut buf, |p, offset, piece| {
                d.decrypt(p.crypto, piece)?;
                p.platform.write(dst, offset, piece)?;
                Ok(())
            })
            .and_then(|()| {
                if body == 0 {
                    self.platform.write(dst, 0, &[])?;
                }
                d.finish(self.crypto, tag)
            });
        buf.zeroize();
        result
    }

    /// "suit-directive-fetch" of an encrypted payload from `uri`, in one pass: each piece
    /// pulled with [`Platform::fetch_range`] is decrypted and written to `dst`, the last
    /// [`GCM_TAG_LEN`](crate::encryption::GCM_TAG_LEN) bytes held back as the A128GCM tag.
    /// The plaintext thus reaches `dst` before the tag is checked: on any failure after the
    /// first write (a bad tag, a wrong key's garbage, a broken transfer) `dst` is cleared (a
    /// write of nothing at offset 0), so no partial or unauthenticated image remains, and the
    /// procedure stops before the sequence number is stored. A128CTR has no tag: the image
    /// digest (condition image-match) refuses a wrong plaintext.
    #[cfg(feature = "encryption")]
    fn fetch_decrypt(&mut self, dst: &Component<'_>, info: &[u8], uri: &str) -> Result<()> {
        use crate::encryption::GCM_TAG_LEN;
        use zeroize::Zeroize;
        let mut d = self.open_decryptor(info)?;
        let tag_len = d.tag_len();
        let mut buf = [0u8; CHUNK + GCM_TAG_LEN];
        // buf[..held] was fetched and not yet decrypted: it may be (part of) the tag.
        let mut held = 0usize;
        let mut fetched = 0u64;
        let mut written = 0u64;
        let mut touched = false;
        let mut pull = || -> Result<()> {
            loop {
                let free = buf.get_mut(held..).unwrap_or_default();
                let room = free.len();
                let n = self.platform.fetch_range(uri, fetched, free)?.min(room);
                if n == 0 {
                    break;
                }
                fetched = fetched.saturating_add(n as u64);
                let have = held + n;
                let ready = have.saturating_sub(tag_len);
                let piece = buf.get_mut(..ready).unwrap_or_default();
                d.decrypt(self.crypto, piece)?;
                touched = true;
                self.platform.write(dst, written, piece)?;
                written = written.saturating_add(ready as u64);
                buf.copy_within(ready..have, 0);
                held = have - ready;
            }
            if written == 0 {
                touched = true;
                self.platform.write(dst, 0, &[])?;
            }
            if held != tag_len {
                return Err(Error::Core(iot_core::Error::BadTag));
            }
            Ok(())
        };
        let result =
            pull().and_then(|()| d.finish(self.crypto, buf.get(..held).unwrap_or_default()));
        buf.zeroize();
        if result.is_err() && touched {
            // Best effort: the error that stopped the fetch is the one reported.
            let _ = self.platform.write(dst, 0, &[]);
        }
        result
    }

    /// Without the `encryption` feature there is no decryption: [`Unsupported::Encryption`].
    #[cfg(not(feature = "encryption"))]
    fn fetch_decrypt(&mut self, _: &Component<'_>, _: &[u8], _: &str) -> Result<()> {
        Err(Error::Unsupported(Unsupported::Encryption))
    }

    /// Without the `encryption` feature there is no decryption: [`Unsupported::Encryption`].
    #[cfg(not(feature = "encryption"))]
    fn decrypt_to(&mut self, _: &Component<'_>, _: &[u8], _: Source<'_, '_>) -> Result<()> {
        Err(Error::Unsupported(Unsupported::Encryption))
    }

    /// Reads the whole of `comp` into `scratch`; its length.
    #[cfg(feature = "dependencies")]
    fn load(&mut self, comp: &Component<'_>, scratch: &mut [u8]) -> Result<usize> {
        fill(scratch, |at, buf| Ok(self.platform.read(comp, at, buf)?))
    }

    /// "suit-condition-dependency-integrity" (trust domains): the dependency manifest stored in
    /// `comp` authenticates and its digest is the image digest; `None` without a digest.
    #[cfg(feature = "dependencies")]
    fn dependency_integrity(
        &mut self,
        comp: &Component<'_>,
        p: &Params<'_>,
        scratch: &mut [u8],
    ) -> Result<Option<bool>> {
        let Some(digest) = p.image_digest else {
            return Ok(None);
        };
        let n = self.load(comp, scratch)?;
        let bytes = scratch.get(..n).unwrap_or_default();
        let authenticated = self.authenticate_dependency(bytes);
        let dep = match &authenticated {
            Ok(dep) => dep,
            Err(e) => return Err(*e),
        };
        Ok(Some(same_digest(dep.digest(), digest)))
    }

    /// "suit-directive-process-dependency" (trust domains): authenticates the dependency
    /// manifest stored at `comp`, binds it to the image digest when one is set, refuses an older
    /// one than stored, and runs its shared sequence and its sequence of the current kind with
    /// its components under the dependency prefix.
    #[inline(never)]
    #[cfg(feature = "dependencies")]
    fn process_dependency<'m>(
        &mut self,
        f: &Frame<'m, '_>,
        index: usize,
        comp: &Component<'_>,
        p: &Params<'m>,
        scratch: &mut [u8],
    ) -> Result<()> {
        let Some(dependency) = f.dependency(index) else {
            return Err(Error::ComponentIndex(iot_core::Error::uint(index as u64)));
        };
        let id =
            f.id.dependency(index)
                .ok_or(Error::CapacityExceeded(Capacity::DependencyDepth))?;
        let n = self.load(comp, scratch)?;
        let (mine, rest) = scratch.split_at_mut(n.min(scratch.len()));
        let mine: &[u8] = mine;
        // Borrowed where it lies: moved out of its `Result` (`?`), the dependency's manifest
        // would have a second place in this frame, which stays under its whole processing.
        let authenticated = self.authenticate_dependency(mine);
        let dep = match &authenticated {
            Ok(dep) => dep,
            Err(e) => return Err(*e),
        };
        if p.image_digest
            .is_some_and(|d| !same_digest(dep.digest(), d))
        {
            return Err(Error::ImageMismatch);
        }
        let m = dep.manifest();
        if let Some(stored) = self
            .platform
            .stored_sequence_number(m.component_id().as_ref())?
            && m.sequence_number() < stored
        {
            return Err(Error::Rollback);
        }
        let mut prefix = Prefix::new();
        nest(&mut prefix, f.prefix, &dependency)?;
        self.top(dep, &prefix, id, f.kind, Some(f), rest)
    }
}
