//! What the device provides to the manifest processor: the [`Platform`] trait
//! (draft-ietf-suit-manifest "Abstract Machine Description").
//!
//! The processor decides; the platform acts. Every effect of a manifest (storage, fetching,
//! invocation, the persistent sequence number) goes through one call of this trait, so that a
//! device maps it onto its flash driver, its transport and its boot hand-over, and a test can
//! count, fail or cut any of them.

use crate::command::{Command, ReportingPolicy};
use crate::component::ComponentId;
use crate::error::Error;
use core::fmt;

/// The error a [`Platform`] call returns; the processor stops and returns it as
/// [`Error::Platform`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlatformError {
    /// No such component, slot, URI or stored value.
    NotFound,
    /// A transport or resource is not reachable (a fetch failed).
    Unavailable,
    /// The storage is too small for what is written.
    OutOfSpace,
    /// A storage or device fault (also: the power went).
    Io,
    /// This platform does not implement the operation.
    Unsupported,
    /// The platform refuses the operation (a write to the running slot, say).
    Denied,
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotFound => "not found",
            Self::Unavailable => "unavailable",
            Self::OutOfSpace => "out of space",
            Self::Io => "i/o error",
            Self::Unsupported => "unsupported by the platform",
            Self::Denied => "denied by the platform",
        })
    }
}

impl core::error::Error for PlatformError {}

/// The result of a [`Platform`] call.
pub type PlatformResult<T> = core::result::Result<T, PlatformError>;

/// The identifier a condition compares ("suit-condition-vendor-identifier,
/// suit-condition-class-identifier, and suit-condition-device-identifier").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifier {
    /// `suit-parameter-vendor-identifier`.
    Vendor,
    /// `suit-parameter-class-identifier`.
    Class,
    /// `suit-parameter-device-identifier`.
    Device,
}

/// A component as the platform addresses it: the manifest's `SUIT_Component_Identifier`, the
/// `suit-dependency-prefix`es of the dependency manifests it was reached through
/// (draft-ietf-suit-trust-domains), and the component slot parameter when one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component<'a> {
    /// Prefixes, outermost first; empty in the root manifest.
    pub prefix: &'a [ComponentId<'a>],
    /// The identifier from `suit-components` (for a dependency that is not listed there, its
    /// `suit-dependency-prefix`).
    pub id: ComponentId<'a>,
    /// `suit-parameter-component-slot`, when set for this component.
    pub slot: Option<u64>,
}

impl<'a> Component<'a> {
    /// Every segment of the full path: the prefixes' segments, then the identifier's.
    pub fn segments(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let prefix: &'a [ComponentId<'a>] = self.prefix;
        prefix
            .iter()
            .flat_map(|p| p.segments())
            .chain(self.id.segments())
    }

    /// The same component in slot `slot`.
    pub fn in_slot(&self, slot: u64) -> Self {
        Self {
            slot: Some(slot),
            ..*self
        }
    }
}

/// The command sequences of a manifest (draft-ietf-suit-manifest "SUIT_Command_Sequence";
/// draft-ietf-suit-trust-domains for dependency resolution, candidate verification and uninstall).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceKind {
    /// `suit-shared-sequence`, run before each of the others.
    Shared,
    /// `suit-dependency-resolution`.
    DependencyResolution,
    /// `suit-payload-fetch`.
    PayloadFetch,
    /// `suit-candidate-verification`.
    CandidateVerification,
    /// `suit-install`.
    Install,
    /// `suit-validate`.
    Validate,
    /// `suit-load`.
    Load,
    /// `suit-invoke`.
    Invoke,
    /// `suit-uninstall`.
    Uninstall,
}

/// Which manifest a command belongs to (draft-ietf-suit-report `suit-record-manifest-id`): the
/// component index at which each dependency was processed, from the root manifest down; empty
/// for the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ManifestId {
    path: [u8; crate::process::MAX_DEPENDENCY_DEPTH],
    len: u8,
}

impl ManifestId {
    /// The root manifest's: `[]`.
    pub const ROOT: Self = Self {
        path: [0; crate::process::MAX_DEPENDENCY_DEPTH],
        len: 0,
    };

    /// The id of the dependency processed at component `index` of this manifest; `None` past
    /// [`crate::process::MAX_DEPENDENCY_DEPTH`] levels.
    pub fn dependency(self, index: usize) -> Option<Self> {
        let mut next = self;
        *next.path.get_mut(usize::from(self.len))? = u8::try_from(index).ok()?;
        next.len += 1;
        Some(next)
    }

    /// The component indices, root first.
    pub fn path(&self) -> &[u8] {
        self.path.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// How many dependency levels below the root (0 for the root).
    pub fn depth(&self) -> usize {
        usize::from(self.len)
    }
}

/// What the processor tells the reporting engine after each command
/// (draft-ietf-suit-manifest "Reporting Policy"). The report format itself is
/// draft-ietf-suit-report's and not built here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// The manifest the command belongs to (the root or a dependency).
    pub manifest: ManifestId,
    /// The sequence the command belongs to ([`SequenceKind::Shared`] while the shared sequence runs).
    pub sequence: SequenceKind,
    /// The command's byte offset in its sequence's encoding (the content of the bstr that wraps
    /// the top-level sequence: its array head is at 0), also for commands nested in try-each
    /// or run-sequence.
    pub offset: u64,
    /// The command.
    pub command: Command,
    /// The component index, when exactly one was selected.
    pub component: Option<usize>,
    /// The command's reporting policy (zero for commands whose argument is not a policy).
    pub policy: ReportingPolicy,
    /// How it ended.
    pub result: Result<(), Error>,
}

/// The device under the manifest processor.
///
/// Each method is one operation the processor may interrupt at: a device that loses power
/// between two calls must come back consistent (the A/B layer, [`crate::ab`], builds on that).
/// Storage methods address a [`Component`]; `write` at `offset` leaves the component
/// `offset + data.len()` bytes long, so a write at offset 0 starts a new image and consecutive
/// writes append.
pub trait Platform {
    /// Whether `component` of this device matches identifier `expected`.
    fn check_identifier(
        &mut self,
        kind: Identifier,
        component: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool>;

    /// Whether `slot` is the slot this procedure uses for `component`
    /// ("suit-condition-component-slot"): the inactive slot while updating, the slot being
    /// booted while invoking.
    fn check_slot(&mut self, component: &Component<'_>, slot: u64) -> PlatformResult<bool>;

    /// Fetches `uri` into `component` ("suit-directive-fetch"). Integrated payloads
    /// (`#name` URIs the envelope carries) never reach this call.
    fn fetch(&mut self, uri: &str, component: &Component<'_>) -> PlatformResult<()>;

    /// Reads the resource at `uri` from `offset` into `buf` (a ranged fetch); returns how many
    /// bytes were read, 0 at the end. A fetch with `suit-parameter-encryption-info`
    /// (draft-ietf-suit-firmware-encryption section 8) pulls the ciphertext this way and writes
    /// only the decrypted pieces to the component. Required (no default), so that a platform
    /// wrapping another one cannot silently drop it; a device without ranged fetches returns
    /// [`PlatformError::Unsupported`], and such an encrypted fetch is then refused.
    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize>;

    /// Reads from `component` at `offset` into `buf`; returns how many bytes were read, 0 at
    /// the end. [`PlatformError::NotFound`] when the component holds nothing.
    fn read(
        &mut self,
        component: &Component<'_>,
        offset: u64,
        buf: &mut [u8],
    ) -> PlatformResult<usize>;

    /// Writes `data` into `component` at `offset`; the component is then `offset + data.len()`
    /// bytes long.
    fn write(&mut self, component: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()>;

    /// Exchanges the contents of `a` and `b` ("suit-directive-swap"), resumably.
    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        let _ = (a, b);
        Err(PlatformError::Unsupported)
    }

    /// The SHA-256 of the first `len` bytes of `component` (all of it when `None`), when the
    /// platform computes it (a hash engine, a digest kept at write time). `Ok(None)`, the
    /// default, makes the processor read the component and hash it itself.
    fn digest(
        &mut self,
        component: &Component<'_>,
        len: Option<u64>,
    ) -> PlatformResult<Option<[u8; 32]>> {
        let _ = (component, len);
        Ok(None)
    }

    /// Transfers execution to `component` ("suit-directive-invoke") with `suit-parameter-invoke-args`.
    fn invoke(&mut self, component: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()>;

    /// Takes one record per command; the default drops it.
    fn report(&mut self, record: &Record) {
        let _ = record;
    }

    /// The stored anti-rollback sequence number of the manifest with `suit-manifest-component-id`
    /// `manifest` (`None` for a manifest without one); `Ok(None)` when none was ever stored.
    fn stored_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>>;

    /// Stores the anti-rollback sequence number of `manifest`, atomically.
    fn store_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
        sequence_number: u64,
    ) -> PlatformResult<()>;

    /// Removes `component` ("suit-directive-unlink", trust domains).
    fn unlink(&mut self, component: &Component<'_>) -> PlatformResult<()> {
        let _ = component;
        Err(PlatformError::Unsupported)
    }

    /// The current time in seconds since the epoch, if the device knows it
    /// ("suit-condition-use-before", update management).
    fn now(&mut self) -> PlatformResult<Option<u64>> {
        Ok(None)
    }

    /// The battery level in the unit the manifest's `suit-parameter-minimum-battery` uses.
    fn battery_level(&mut self) -> PlatformResult<Option<u64>> {
        Ok(None)
    }

    /// Whether an update of `priority` may proceed now ("suit-condition-update-authorized").
    fn update_authorized(&mut self, priority: Option<i64>) -> PlatformResult<bool> {
        let _ = priority;
        Ok(false)
    }

    /// Writes the installed version of `component` (a list of integers) into `out` and returns
    /// its length ("suit-condition-version"); `Ok(None)` when unknown.
    fn component_version(
        &mut self,
        component: &Component<'_>,
        out: &mut [i64],
    ) -> PlatformResult<Option<usize>> {
        let _ = (component, out);
        Ok(None)
    }

    /// Waits for the event `wait_info` describes ("suit-directive-wait").
    fn wait(&mut self, component: &Component<'_>, wait_info: Option<&[u8]>) -> PlatformResult<()> {
        let _ = (component, wait_info);
        Err(PlatformError::Unsupported)
    }

    /// Runs custom command `command` (a negative code) with its encoded argument; `Ok(false)`
    /// means a custom condition failed.
    fn custom(
        &mut self,
        command: i64,
        argument: &[u8],
        component: &Component<'_>,
    ) -> PlatformResult<bool> {
        let _ = (command, argument, component);
        Err(PlatformError::Unsupported)
    }
}

impl<P: Platform + ?Sized> Platform for &mut P {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        component: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        (**self).check_identifier(kind, component, expected)
    }
    fn check_slot(&mut self, component: &Component<'_>, slot: u64) -> PlatformResult<bool> {
        (**self).check_slot(component, slot)
    }
    fn fetch(&mut self, uri: &str, component: &Component<'_>) -> PlatformResult<()> {
        (**self).fetch(uri, component)
    }
    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        (**self).fetch_range(uri, offset, buf)
    }
    fn read(
        &mut self,
        component: &Component<'_>,
        offset: u64,
        buf: &mut [u8],
    ) -> PlatformResult<usize> {
        (**self).read(component, offset, buf)
    }
    fn write(&mut self, component: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        (**self).write(component, offset, data)
    }
    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        (**self).swap(a, b)
    }
    fn digest(
        &mut self,
        component: &Component<'_>,
        len: Option<u64>,
    ) -> PlatformResult<Option<[u8; 32]>> {
        (**self).digest(component, len)
    }
    fn invoke(&mut self, component: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()> {
        (**self).invoke(component, args)
    }
    fn report(&mut self, record: &Record) {
        (**self).report(record)
    }
    fn stored_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>> {
        (**self).stored_sequence_number(manifest)
    }
    fn store_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
        sequence_number: u64,
    ) -> PlatformResult<()> {
        (**self).store_sequence_number(manifest, sequence_number)
    }
    fn unlink(&mut self, component: &Component<'_>) -> PlatformResult<()> {
        (**self).unlink(component)
    }
    fn now(&mut self) -> PlatformResult<Option<u64>> {
        (**self).now()
    }
    fn battery_level(&mut self) -> PlatformResult<Option<u64>> {
        (**self).battery_level()
    }
    fn update_authorized(&mut self, priority: Option<i64>) -> PlatformResult<bool> {
        (**self).update_authorized(priority)
    }
    fn component_version(
        &mut self,
        component: &Component<'_>,
        out: &mut [i64],
    ) -> PlatformResult<Option<usize>> {
        (**self).component_version(component, out)
    }
    fn wait(&mut self, component: &Component<'_>, wait_info: Option<&[u8]>) -> PlatformResult<()> {
        (**self).wait(component, wait_info)
    }
    fn custom(
        &mut self,
        command: i64,
        argument: &[u8],
        component: &Component<'_>,
    ) -> PlatformResult<bool> {
        (**self).custom(command, argument, component)
    }
}
