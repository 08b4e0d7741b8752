//! SUIT updates through the C API (`iot_update_manifest`, draft-ietf-suit-manifest): an
//! envelope authenticated under a trusted P-256 key, then its update or boot procedure run
//! against a device whose `Platform` is a table of C callbacks.

use crate::oscore::bytes_mut;
use crate::{IotStatus, backend, bytes, check_range, guard, opt_bytes, overlaps, verifying_key};
use core::ffi::{c_char, c_void};
use iot_core::Error as CoreError;
use iot_core::cose::{Algorithm, SymmetricKey};
use iot_core::crypto::{AesKeyWrap, EcdhP256, P256SharedSecret, P256VerifyingKey};
use iot_update_manifest::encryption::{Kek, KeyUnwrap};
use iot_update_manifest::platform::{
    Component, Identifier, PlatformError, PlatformResult, Record, SequenceKind,
};
use iot_update_manifest::{
    AuthenticatedManifest, ComponentId, Envelope, Error, Platform, Processor, TrustAnchors,
};
use zeroize::Zeroize;

/// `iot_suit_process` procedure: update (dependency-resolution, payload-fetch,
/// candidate-verification, install, validate; the sequence number is stored after them).
pub const IOT_SUIT_UPDATE: u32 = 1;
/// `iot_suit_process` procedure: boot (validate, load, invoke).
pub const IOT_SUIT_BOOT: u32 = 2;

/// `IotSuitOptions::decryption_kind`: an A128KW key shared with the sender (16 bytes).
pub const IOT_SUIT_KEY_A128KW: u32 = 1;
/// `IotSuitOptions::decryption_kind`: the device's static P-256 private key, the 32-byte scalar,
/// for ECDH-ES + A128KW (draft-ietf-suit-firmware-encryption).
pub const IOT_SUIT_KEY_ECDH_ES_P256: u32 = 2;

/// A platform callback's result: success.
pub const IOT_SUIT_PLATFORM_OK: i32 = 0;
/// A platform callback's result: no such component, slot, URI or stored value.
pub const IOT_SUIT_PLATFORM_NOT_FOUND: i32 = 1;
/// A platform callback's result: a transport or resource is not reachable.
pub const IOT_SUIT_PLATFORM_UNAVAILABLE: i32 = 2;
/// A platform callback's result: the storage is too small.
pub const IOT_SUIT_PLATFORM_OUT_OF_SPACE: i32 = 3;
/// A platform callback's result: a storage or device fault (any other non-zero value too).
pub const IOT_SUIT_PLATFORM_IO: i32 = 4;
/// A platform callback's result: the platform does not implement the operation (also what a
/// NULL callback means).
pub const IOT_SUIT_PLATFORM_UNSUPPORTED: i32 = 5;
/// A platform callback's result: the platform refuses the operation.
pub const IOT_SUIT_PLATFORM_DENIED: i32 = 6;

/// The most trusted keys of one kind `iot_suit_process_with_options` takes: P-256 keys
/// (`public_key` and the `public_keys` array together) and as many HMAC keys (`mac_key` and
/// `mac_keys`). They are decoded into fixed arrays on the stack; more is refused with
/// `IOT_STATUS_CAPACITY_EXCEEDED` before anything runs.
pub const IOT_SUIT_MAX_TRUST_ANCHORS: usize = 4;

/// An `IotSuitKeyUnwrap` callback's result: the element refuses its input as a key. From
/// `unwrap_a128kw`: the wrapped key fails its integrity check (RFC 3394 section 2.2.3; the call
/// ends with `IOT_STATUS_BAD_TAG`); from `ecdh_p256`: the ephemeral key is not a P-256 point
/// (`IOT_STATUS_INVALID_KEY`).
pub const IOT_SUIT_KEY_REJECTED: i32 = 100;

/// The most path segments (dependency prefixes included) a component passed to a callback has;
/// a deeper one fails the call with `IOT_SUIT_PLATFORM_UNSUPPORTED`.
pub const IOT_SUIT_MAX_SEGMENTS: usize = 8;

/// A byte string: `len` bytes at `ptr` (NULL only when `len` is 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotBytes {
    /// The bytes.
    pub ptr: *const u8,
    /// How many.
    pub len: usize,
}

/// A component as the callbacks see it: its path (the `suit-dependency-prefix`es it was reached
/// through, then its `SUIT_Component_Identifier`), and `suit-parameter-component-slot` when set.
/// Valid only during the callback.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotSuitComponent {
    /// The path's byte-string segments.
    pub segments: *const IotBytes,
    /// How many.
    pub segment_count: usize,
    /// 1 when `slot` is set, 0 otherwise.
    pub has_slot: u8,
    /// The component slot.
    pub slot: u64,
}

/// What the manifest processor asks of the device (draft-ietf-suit-manifest "Abstract Machine
/// Description"): one callback per effect, each called with `ctx`. A callback returns
/// `IOT_SUIT_PLATFORM_OK` or an `IOT_SUIT_PLATFORM_*` error, which stops processing with
/// `IOT_STATUS_SUIT_PLATFORM`. A NULL callback is `IOT_SUIT_PLATFORM_UNSUPPORTED`, except
/// `digest` (NULL: the library reads the component and hashes it) and `report` (NULL: no
/// reports). Pointers passed to a callback are valid only during it. `fetch_range` is the last
/// member: a table that zeroes the struct before setting its callbacks leaves it NULL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotSuitPlatform {
    /// Passed to every callback.
    pub ctx: *mut c_void,
    /// Whether the device's vendor (`kind` 0), class (1) or device (2) identifier of `component`
    /// is `expected`: writes 1 or 0 into `*matches`.
    pub check_identifier: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            kind: u32,
            component: *const IotSuitComponent,
            expected: *const u8,
            expected_len: usize,
            matches: *mut u8,
        ) -> i32,
    >,
    /// Whether `slot` is the slot this procedure uses for `component`: 1 or 0 into `*matches`.
    pub check_slot: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            component: *const IotSuitComponent,
            slot: u64,
            matches: *mut u8,
        ) -> i32,
    >,
    /// Fetches the URI (UTF-8, `uri_len` bytes, not NUL-terminated) into `component`.
    pub fetch: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            uri: *const c_char,
            uri_len: usize,
            component: *const IotSuitComponent,
        ) -> i32,
    >,
    /// Reads `component` at `offset` into `buf` (`buf_len` bytes); `*read` receives how many
    /// bytes were read, 0 at the end. `IOT_SUIT_PLATFORM_NOT_FOUND` when it holds nothing.
    pub read: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            component: *const IotSuitComponent,
            offset: u64,
            buf: *mut u8,
            buf_len: usize,
            read: *mut usize,
        ) -> i32,
    >,
    /// Writes `data` into `component` at `offset`; the component is then `offset + data_len`
    /// bytes long (a write at 0 starts a new image, consecutive writes append).
    pub write: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            component: *const IotSuitComponent,
            offset: u64,
            data: *const u8,
            data_len: usize,
        ) -> i32,
    >,
    /// Exchanges the contents of `a` and `b`.
    pub swap: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            a: *const IotSuitComponent,
            b: *const IotSuitComponent,
        ) -> i32,
    >,
    /// Optional: the SHA-256 of the first `*len` bytes of `component` (all of it when `len` is
    /// NULL) into `digest` (32 bytes), `*known` = 1; or `*known` = 0 to let the library hash it.
    pub digest: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            component: *const IotSuitComponent,
            len: *const u64,
            digest: *mut u8,
            known: *mut u8,
        ) -> i32,
    >,
    /// Transfers execution to `component` with `suit-parameter-invoke-args` (NULL when absent).
    pub invoke: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            component: *const IotSuitComponent,
            args: *const u8,
            args_len: usize,
        ) -> i32,
    >,
    /// The stored anti-rollback sequence number of the manifest named `manifest`
    /// (`suit-manifest-component-id`; NULL for a manifest without one): `*present` = 1 and
    /// `*value`, or `*present` = 0 when none was stored.
    pub stored_sequence_number: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            manifest: *const IotSuitComponent,
            present: *mut u8,
            value: *mut u64,
        ) -> i32,
    >,
    /// Stores the sequence number of `manifest`, atomically.
    pub store_sequence_number: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            manifest: *const IotSuitComponent,
            value: u64,
        ) -> i32,
    >,
    /// Optional: one record per command: the sequence (0 shared, 1 dependency-resolution,
    /// 2 payload-fetch, 3 candidate-verification, 4 install, 5 validate, 6 load, 7 invoke,
    /// 8 uninstall), the command code, the component index (-1 when not one) and how it ended.
    pub report: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            sequence: u32,
            command: i64,
            component: i64,
            status: IotStatus,
        ),
    >,
    /// Optional: reads the resource at the URI (as for `fetch`) from `offset` into `buf`
    /// (`buf_len` bytes); `*read` receives how many bytes were read, 0 at the end. The library
    /// pulls a dependency manifest fetched by URI this way into the scratch buffer (and checks
    /// it before writing it to its component), and an encrypted payload fetched by URI (only
    /// its decrypted pieces are written). NULL: such fetches fail with
    /// `IOT_SUIT_PLATFORM_UNSUPPORTED`.
    pub fetch_range: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            uri: *const c_char,
            uri_len: usize,
            offset: u64,
            buf: *mut u8,
            buf_len: usize,
            read: *mut usize,
        ) -> i32,
    >,
}

/// The options of `iot_suit_process_with_options`: the trust anchors an authentication block
/// must verify under (P-256 keys for COSE_Sign1, HMAC 256/256 keys for COSE_Mac0; at least one
/// key in all), the device's key for encrypted payloads, in memory or in a secure element
/// (optional), and a scratch buffer for dependency manifests (optional).
///
/// Zero the whole struct (`memset`, or `= {0}`) before setting members: members are only ever
/// added at the end, and a zeroed member means "none", so code written before a member existed
/// keeps its meaning when compiled against a newer header.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotSuitOptions {
    /// The trusted P-256 public key, 65 bytes `04 || x || y` or a COSE_Key; NULL for none.
    pub public_key: *const u8,
    /// Its length.
    pub public_key_len: usize,
    /// The trusted HMAC 256/256 key (COSE_Mac0 authentication blocks); NULL for none.
    pub mac_key: *const u8,
    /// Its length.
    pub mac_key_len: usize,
    /// `IOT_SUIT_KEY_A128KW`, `IOT_SUIT_KEY_ECDH_ES_P256`, or 0 with `decryption_key` NULL.
    pub decryption_kind: u32,
    /// The key that opens the payloads' SUIT_Encryption_Info (16 bytes for A128KW, the 32-byte
    /// scalar for ECDH-ES); NULL for none.
    pub decryption_key: *const u8,
    /// Its length.
    pub decryption_key_len: usize,
    /// Writable memory the dependency manifests (draft-ietf-suit-trust-domains) are read into
    /// while they are processed: each level of dependency takes its envelope's size from it.
    /// NULL (with `scratch_len` 0) for none: fetching a dependency or processing one is then
    /// refused with `IOT_STATUS_CAPACITY_EXCEEDED`, before it is written. It must not overlap the
    /// envelope or the keys; its contents after the call are unspecified.
    pub scratch: *mut u8,
    /// Its length.
    pub scratch_len: usize,
    /// More trusted P-256 keys, each as `public_key`: `public_keys_count` byte strings (NULL
    /// with a count of 0 for none). With `public_key`, at most `IOT_SUIT_MAX_TRUST_ANCHORS`.
    pub public_keys: *const IotBytes,
    /// How many.
    pub public_keys_count: usize,
    /// More trusted HMAC 256/256 keys, each as `mac_key` and not empty (NULL with a count of 0
    /// for none). With `mac_key`, at most `IOT_SUIT_MAX_TRUST_ANCHORS`.
    pub mac_keys: *const IotBytes,
    /// How many.
    pub mac_keys_count: usize,
    /// The decryption key in a secure element instead of `decryption_key` (then
    /// `decryption_kind` is 0 and `decryption_key` NULL); NULL for none.
    pub key_unwrap: *const IotSuitKeyUnwrap,
    /// The device's time from a clock it trusts, seconds since the Unix epoch, against which
    /// `suit-delegation` CWTs' `exp` and `nbf` are checked; 0 for a device without a clock,
    /// which refuses a CWT that carries either (`IOT_STATUS_SUIT_NOT_AUTHENTICATED`).
    pub unix_time: u64,
}

/// A decryption key kept in a secure element (draft-ietf-suit-firmware-encryption): the element
/// does the key's own operation and never releases the key; the COSE structures, the KDF and,
/// for ECDH-ES, the unwrap under the derived KEK run in the library. Each callback is called
/// with `ctx` and returns `IOT_SUIT_PLATFORM_OK`, `IOT_SUIT_KEY_REJECTED`, or an
/// `IOT_SUIT_PLATFORM_*` error (the element failed: the call ends with
/// `IOT_STATUS_SUIT_PLATFORM` and the code in `IotSuitResult::platform_error`). What a callback
/// writes into its output buffer is zeroized by the library after use (also on failure).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IotSuitKeyUnwrap {
    /// Passed to the callbacks.
    pub ctx: *mut c_void,
    /// `IOT_SUIT_KEY_A128KW` (`unwrap_a128kw` must be set) or `IOT_SUIT_KEY_ECDH_ES_P256`
    /// (`ecdh_p256` must be set): the recipient algorithm the key opens.
    pub kind: u32,
    /// A128KW (RFC 3394 section 2.2.2): unwraps the `wrapped_len`-byte `wrapped` (24 bytes for a
    /// 16-byte content key) under the element's key into `cek` (16 bytes).
    pub unwrap_a128kw: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            wrapped: *const u8,
            wrapped_len: usize,
            cek: *mut u8,
        ) -> i32,
    >,
    /// ECDH (RFC 9053 section 6.3.1): the x-coordinate of the element's static P-256 key times
    /// the sender's `ephemeral` point (SEC1, uncompressed or compressed), 32 bytes big-endian,
    /// into `shared`. The library has checked that the point is on the curve and not the
    /// identity (one that is not ends the call with `IOT_STATUS_INVALID_KEY` before this runs).
    pub ecdh_p256: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            ephemeral: *const u8,
            ephemeral_len: usize,
            shared: *mut u8,
        ) -> i32,
    >,
}

/// What `iot_suit_verify` and `iot_suit_process` tell besides the status.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct IotSuitResult {
    /// The manifest's sequence number (once it authenticated; 0 before).
    pub sequence_number: u64,
    /// The number of components the manifest declares.
    pub component_count: usize,
    /// The code of the command that failed (`IOT_STATUS_SUIT_CONDITION_FAILED`: the condition),
    /// 0 when none.
    pub command: i64,
    /// The callback's error for `IOT_STATUS_SUIT_PLATFORM`, 0 otherwise.
    pub platform_error: i32,
}

impl From<Error> for IotStatus {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(e) => e.into(),
            Error::MissingMember { .. }
            | Error::UnknownMember { .. }
            | Error::UnsupportedVersion(_)
            | Error::UnknownCommand(_)
            | Error::InvalidArgument { .. }
            | Error::InvalidParameter { .. }
            | Error::UnexpectedSeveredMember(_) => Self::SuitMalformed,
            Error::NoAuthenticationBlock
            | Error::UnsupportedAuthenticationBlock(_)
            | Error::NoTrustedKey
            | Error::NotAuthenticated(_)
            | Error::DigestMismatch
            | Error::Delegation(_)
            | Error::SeveredMemberDigestMismatch(_) => Self::SuitNotAuthenticated,
            Error::ConditionFailed(_) => Self::SuitConditionFailed,
            Error::Rollback => Self::SuitRollback,
            Error::Platform(_) => Self::SuitPlatform,
            Error::ImageMismatch => Self::SuitImageMismatch,
            Error::SeveredMemberMissing(_) => Self::SuitSeveredMemberMissing,
            Error::UnsupportedDigestAlgorithm(_) | Error::Unsupported(_) => Self::SuitUnsupported,
            Error::MissingParameter { .. }
            | Error::ComponentIndex(_)
            | Error::SoftFailureNotAllowed
            | Error::SourceIsDestination
            | Error::NotAllowedInSharedSequence(_) => Self::SuitInvalidManifest,
            Error::CapacityExceeded(_) => Self::CapacityExceeded,
            _ => Self::Internal,
        }
    }
}

fn platform_error(code: i32) -> PlatformError {
    match code {
        IOT_SUIT_PLATFORM_NOT_FOUND => PlatformError::NotFound,
        IOT_SUIT_PLATFORM_UNAVAILABLE => PlatformError::Unavailable,
        IOT_SUIT_PLATFORM_OUT_OF_SPACE => PlatformError::OutOfSpace,
        IOT_SUIT_PLATFORM_UNSUPPORTED => PlatformError::Unsupported,
        IOT_SUIT_PLATFORM_DENIED => PlatformError::Denied,
        _ => PlatformError::Io,
    }
}

fn platform_code(e: PlatformError) -> i32 {
    match e {
        PlatformError::NotFound => IOT_SUIT_PLATFORM_NOT_FOUND,
        PlatformError::Unavailable => IOT_SUIT_PLATFORM_UNAVAILABLE,
        PlatformError::OutOfSpace => IOT_SUIT_PLATFORM_OUT_OF_SPACE,
        PlatformError::Unsupported => IOT_SUIT_PLATFORM_UNSUPPORTED,
        PlatformError::Denied => IOT_SUIT_PLATFORM_DENIED,
        _ => IOT_SUIT_PLATFORM_IO,
    }
}

fn check(code: i32) -> PlatformResult<()> {
    if code == IOT_SUIT_PLATFORM_OK {
        Ok(())
    } else {
        Err(platform_error(code))
    }
}

/// A component path flattened for C: the segments on the stack.
struct Path {
    segments: [IotBytes; IOT_SUIT_MAX_SEGMENTS],
    count: usize,
}

impl Path {
    fn new<'a>(segments: impl Iterator<Item = &'a [u8]>) -> PlatformResult<Self> {
        let mut path = Self {
            segments: [IotBytes {
                ptr: core::ptr::null(),
                len: 0,
            }; IOT_SUIT_MAX_SEGMENTS],
            count: 0,
        };
        for s in segments {
            let slot = path
                .segments
                .get_mut(path.count)
                .ok_or(PlatformError::Unsupported)?;
            *slot = IotBytes {
                ptr: s.as_ptr(),
                len: s.len(),
            };
            path.count += 1;
        }
        Ok(path)
    }

    /// The C view; borrows `self`, so it lives no longer than the segments.
    fn view(&self, slot: Option<u64>) -> IotSuitComponent {
        IotSuitComponent {
            segments: self.segments.as_ptr(),
            segment_count: self.count,
            has_slot: u8::from(slot.is_some()),
            slot: slot.unwrap_or(0),
        }
    }
}

fn component_path(c: &Component<'_>) -> PlatformResult<Path> {
    Path::new(c.segments())
}

/// The C callbacks as a [`Platform`]; also remembers the last callback error for the result.
struct CPlatform<'p> {
    p: &'p IotSuitPlatform,
    last_error: i32,
}

impl CPlatform<'_> {
    fn done(&mut self, code: i32) -> PlatformResult<()> {
        check(code).inspect_err(|e| self.last_error = platform_code(*e))
    }

    /// [`CPlatform::done`] for a callback that read into a buffer of `cap` bytes and says it
    /// read `n`: more than the buffer holds is `IOT_SUIT_PLATFORM_IO`.
    fn read_count(&mut self, code: i32, n: usize, cap: usize) -> PlatformResult<usize> {
        self.done(code)?;
        if n > cap {
            self.last_error = IOT_SUIT_PLATFORM_IO;
            return Err(PlatformError::Io);
        }
        Ok(n)
    }
}

// SAFETY (for every callback call below): the caller of `iot_suit_process` guarantees that each
// non-NULL callback is a function of the documented signature that may be called with `ctx`
// and only accesses the pointers it is given within their stated lengths during the call; the
// pointers passed are to live locals (the component views and their segments, output
// variables) or into the envelope and the processor's buffers, valid for the call.
impl Platform for CPlatform<'_> {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        component: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        let f = self.p.check_identifier.ok_or(PlatformError::Unsupported)?;
        let kind = match kind {
            Identifier::Vendor => 0,
            Identifier::Class => 1,
            Identifier::Device => 2,
        };
        let path = component_path(component)?;
        let view = path.view(component.slot);
        let mut matches = 0u8;
        // SAFETY: see above.
        let code = unsafe {
            f(
                self.p.ctx,
                kind,
                &view,
                expected.as_ptr(),
                expected.len(),
                &mut matches,
            )
        };
        self.done(code)?;
        Ok(matches != 0)
    }

    fn check_slot(&mut self, component: &Component<'_>, slot: u64) -> PlatformResult<bool> {
        let f = self.p.check_slot.ok_or(PlatformError::Unsupported)?;
        let path = component_path(component)?;
        let view = path.view(component.slot);
        let mut matches = 0u8;
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, &view, slot, &mut matches) };
        self.done(code)?;
        Ok(matches != 0)
    }

    fn fetch(&mut self, uri: &str, component: &Component<'_>) -> PlatformResult<()> {
        let f = self.p.fetch.ok_or(PlatformError::Unsupported)?;
        let path = component_path(component)?;
        let view = path.view(component.slot);
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, uri.as_ptr().cast(), uri.len(), &view) };
        self.done(code)
    }

    fn read(
        &mut self,
        component: &Component<'_>,
        offset: u64,
        buf: &mut [u8],
    ) -> PlatformResult<usize> {
        let f = self.p.read.ok_or(PlatformError::Unsupported)?;
        let path = component_path(component)?;
        let view = path.view(component.slot);
        let mut n = 0usize;
        // SAFETY: see above.
        let code = unsafe {
            f(
                self.p.ctx,
                &view,
                offset,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        self.read_count(code, n, buf.len())
    }

    fn write(&mut self, component: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        let f = self.p.write.ok_or(PlatformError::Unsupported)?;
        let path = component_path(component)?;
        let view = path.view(component.slot);
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, &view, offset, data.as_ptr(), data.len()) };
        self.done(code)
    }

    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        let f = self.p.fetch_range.ok_or(PlatformError::Unsupported)?;
        let mut n = 0usize;
        // SAFETY: see above.
        let code = unsafe {
            f(
                self.p.ctx,
                uri.as_ptr().cast(),
                uri.len(),
                offset,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        self.read_count(code, n, buf.len())
    }

    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        let f = self.p.swap.ok_or(PlatformError::Unsupported)?;
        let (pa, pb) = (component_path(a)?, component_path(b)?);
        let (va, vb) = (pa.view(a.slot), pb.view(b.slot));
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, &va, &vb) };
        self.done(code)
    }

    fn digest(
        &mut self,
        component: &Component<'_>,
        len: Option<u64>,
    ) -> PlatformResult<Option<[u8; 32]>> {
        let Some(f) = self.p.digest else {
            return Ok(None);
        };
        let path = component_path(component)?;
        let view = path.view(component.slot);
        let mut digest = [0u8; 32];
        let mut known = 0u8;
        let len_ptr = len.as_ref().map_or(core::ptr::null(), |l| l as *const u64);
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, &view, len_ptr, digest.as_mut_ptr(), &mut known) };
        self.done(code)?;
        Ok((known != 0).then_some(digest))
    }

    fn invoke(&mut self, component: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()> {
        let f = self.p.invoke.ok_or(PlatformError::Unsupported)?;
        let path = component_path(component)?;
        let view = path.view(component.slot);
        let (a, n) = args.map_or((core::ptr::null(), 0), |a| (a.as_ptr(), a.len()));
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, &view, a, n) };
        self.done(code)
    }

    fn report(&mut self, record: &Record) {
        let Some(f) = self.p.report else {
            return;
        };
        let sequence = match record.sequence {
            SequenceKind::Shared => 0,
            SequenceKind::DependencyResolution => 1,
            SequenceKind::PayloadFetch => 2,
            SequenceKind::CandidateVerification => 3,
            SequenceKind::Install => 4,
            SequenceKind::Validate => 5,
            SequenceKind::Load => 6,
            SequenceKind::Invoke => 7,
            SequenceKind::Uninstall => 8,
        };
        let component = record
            .component
            .and_then(|c| i64::try_from(c).ok())
            .unwrap_or(-1);
        let status = match record.result {
            Ok(()) => IotStatus::Ok,
            Err(e) => e.into(),
        };
        // SAFETY: see above.
        unsafe {
            f(
                self.p.ctx,
                sequence,
                record.command.code(),
                component,
                status,
            )
        };
    }

    fn stored_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>> {
        let f = self
            .p
            .stored_sequence_number
            .ok_or(PlatformError::Unsupported)?;
        let path = manifest.map(|m| Path::new(m.segments())).transpose()?;
        let view = path.as_ref().map(|p| p.view(None));
        let view_ptr = view.as_ref().map_or(core::ptr::null(), |v| v as *const _);
        let (mut present, mut value) = (0u8, 0u64);
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, view_ptr, &mut present, &mut value) };
        self.done(code)?;
        Ok((present != 0).then_some(value))
    }

    fn store_sequence_number(
        &mut self,
        manifest: Option<&ComponentId<'_>>,
        sequence_number: u64,
    ) -> PlatformResult<()> {
        let f = self
            .p
            .store_sequence_number
            .ok_or(PlatformError::Unsupported)?;
        let path = manifest.map(|m| Path::new(m.segments())).transpose()?;
        let view = path.as_ref().map(|p| p.view(None));
        let view_ptr = view.as_ref().map_or(core::ptr::null(), |v| v as *const _);
        // SAFETY: see above.
        let code = unsafe { f(self.p.ctx, view_ptr, sequence_number) };
        self.done(code)
    }
}

/// Authenticates `envelope` under `anchors` and fills `result` from its manifest.
fn authenticate<'e>(
    envelope: &'e [u8],
    anchors: &mut TrustAnchors<'_, P256VerifyingKey>,
    result: &mut IotSuitResult,
) -> Result<AuthenticatedManifest<'e>, IotStatus> {
    let auth = Envelope::decode(envelope)?.authenticate(&mut backend(), anchors)?;
    let m = auth.manifest();
    result.sequence_number = m.sequence_number();
    result.component_count = m.common().components().len();
    Ok(auth)
}

/// Writes `result` to `out` when it is not NULL (checked aligned by the caller of this fn).
///
/// # Safety
/// `out`, if not NULL, must point to a writable, aligned `IotSuitResult`.
unsafe fn put(out: *mut IotSuitResult, result: IotSuitResult) {
    if !out.is_null() {
        // SAFETY: forwarded from the caller.
        unsafe { out.write(result) };
    }
}

/// Decodes a SUIT envelope (tag 107 or untagged) and authenticates it (draft-ietf-suit-manifest
/// "Authenticated Manifests"): a COSE_Sign1 (ES256 / ESP256) of its authentication wrapper
/// verifies under `public_key` and the manifest's SHA-256 is the signed digest; then the
/// manifest decodes. Nothing is processed.
///
/// - `public_key`, `public_key_len`: the trusted key, 65 bytes `04 || x || y` or a COSE_Key.
/// - `result`: NULL, or receives the sequence number and component count (zeroed on failure).
///
/// `IOT_STATUS_SUIT_NOT_AUTHENTICATED` when no signature verifies or the digest differs;
/// `IOT_STATUS_SUIT_MALFORMED` or `IOT_STATUS_CBOR` for an envelope or manifest that does not
/// decode.
///
/// # Safety
/// `envelope` and `public_key` must point to their lengths of readable bytes no one writes
/// during the call; `result`, unless NULL, to a writable, aligned `IotSuitResult`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_suit_verify(
    envelope: *const u8,
    envelope_len: usize,
    public_key: *const u8,
    public_key_len: usize,
    result: *mut IotSuitResult,
) -> IotStatus {
    // A NULL `public_key` names no trust anchor: IOT_STATUS_NULL_ARGUMENT.
    let options = IotSuitOptions {
        public_key,
        public_key_len,
        ..NO_OPTIONS
    };
    // SAFETY: forwarded from the caller; `options` is a valid, aligned IotSuitOptions.
    unsafe { iot_suit_verify_with_options(envelope, envelope_len, &options, result) }
}

/// `iot_suit_verify` under the trust anchors of `options`: any of its P-256 keys (COSE_Sign1)
/// or HMAC 256/256 keys (COSE_Mac0), as `iot_suit_process_with_options` takes them. Only the
/// key members of `options` are read: nothing is decrypted, fetched or written.
///
/// Statuses: those of `iot_suit_verify`; before anything is decoded, those
/// `iot_suit_process_with_options` gives for its keys (`IOT_STATUS_NULL_ARGUMENT` for no trust
/// anchor, `IOT_STATUS_CAPACITY_EXCEEDED` for too many, `IOT_STATUS_INVALID_KEY` for one that
/// does not decode).
///
/// # Safety
/// `envelope` must point to `envelope_len` readable bytes no one writes during the call;
/// `options` to an `IotSuitOptions` whose key members are readable as
/// `iot_suit_process_with_options` requires; `result`, unless NULL, to a writable, aligned
/// `IotSuitResult`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_suit_verify_with_options(
    envelope: *const u8,
    envelope_len: usize,
    options: *const IotSuitOptions,
    result: *mut IotSuitResult,
) -> IotStatus {
    if !result.is_aligned() || !options.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    let mut r = IotSuitResult::default();
    let status = if envelope.is_null() || options.is_null() {
        IotStatus::NullArgument
    } else {
        guard(|| {
            // SAFETY: the caller guarantees the input is readable for its length.
            let envelope = unsafe { bytes(envelope, envelope_len) }?;
            // SAFETY: non-NULL and aligned; the caller guarantees a readable IotSuitOptions
            // whose keys are readable.
            let keys = unsafe { AnchorKeys::new(&*options) }?;
            keys.with_anchors(|anchors| authenticate(envelope, anchors, &mut r).map(drop))
        })
    };
    if status != IotStatus::Ok {
        r = IotSuitResult::default();
    }
    // SAFETY: aligned (checked); writable (caller).
    unsafe { put(result, r) };
    status
}

/// Authenticates a SUIT envelope as `iot_suit_verify` does, then runs a procedure of its
/// manifest against the device `platform` (draft-ietf-suit-manifest "Manifest Processor"):
/// `IOT_SUIT_UPDATE` (the sequence number must exceed the stored one, and is stored after
/// install and validate succeeded, just after those of the dependency manifests stored under
/// it) or `IOT_SUIT_BOOT` (at least the stored one). Integrated
/// payloads are served from the envelope; nothing of the manifest is acted on before it
/// authenticated. `iot_suit_process_with_options` also takes a MAC key, a decryption key and a
/// scratch buffer for dependency manifests.
///
/// - `result`: NULL, or receives the sequence number and component count (once authenticated),
///   the failing command's code for `IOT_STATUS_SUIT_CONDITION_FAILED`, and the callback's error
///   for `IOT_STATUS_SUIT_PLATFORM`.
///
/// Statuses: `IOT_STATUS_SUIT_CONDITION_FAILED` (a condition failed: wrong vendor, class, image
/// digest, slot ...), `IOT_STATUS_SUIT_ROLLBACK`, `IOT_STATUS_SUIT_PLATFORM`,
/// `IOT_STATUS_SUIT_IMAGE_MISMATCH`, `IOT_STATUS_SUIT_UNSUPPORTED` (an encrypted payload without
/// a decryption key), `IOT_STATUS_CAPACITY_EXCEEDED` (a dependency manifest: it needs the
/// scratch buffer of `iot_suit_process_with_options`), those of `iot_suit_verify`, ...
///
/// # Safety
/// As for `iot_suit_verify`; `platform` must point to an `IotSuitPlatform` whose non-NULL
/// callbacks have the documented signatures and may be called with its `ctx` during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_suit_process(
    envelope: *const u8,
    envelope_len: usize,
    public_key: *const u8,
    public_key_len: usize,
    procedure: u32,
    platform: *const IotSuitPlatform,
    result: *mut IotSuitResult,
) -> IotStatus {
    // A NULL `public_key` names no trust anchor: IOT_STATUS_NULL_ARGUMENT.
    let options = IotSuitOptions {
        public_key,
        public_key_len,
        ..NO_OPTIONS
    };
    // SAFETY: forwarded from the caller; `options` is a valid, aligned IotSuitOptions.
    unsafe {
        iot_suit_process_with_options(
            envelope,
            envelope_len,
            &options,
            procedure,
            platform,
            result,
        )
    }
}

/// `iot_suit_process` with the keys and buffers in `options`: a COSE_Sign1 (ES256 / ESP256)
/// block under `options->public_key` or one of `options->public_keys`, or a COSE_Mac0 (HMAC
/// 256/256) block under `options->mac_key` or one of `options->mac_keys`, authenticates the
/// envelope (any one block under any one trusted key), and `options->decryption_key`, or the
/// secure element behind `options->key_unwrap`, opens encrypted payloads
/// (draft-ietf-suit-firmware-encryption), decrypted in chunks as they are written or copied;
/// A128GCM payloads are authenticated in a first pass, so a wrong key or a tampered
/// payload writes nothing. With `options->scratch`, dependency manifests
/// (draft-ietf-suit-trust-domains), integrated or fetched by URI through the platform's
/// `fetch_range`, are read into it, authenticated under the same trust anchors, bound to their
/// digest before they are written, and processed with their components under the dependency
/// prefix.
///
/// Statuses: those of `iot_suit_process`; before anything runs, `IOT_STATUS_NULL_ARGUMENT`
/// when `options` names no trust anchor, a key array is NULL with a nonzero count or holds a
/// NULL key of nonzero length, a decryption kind comes without its key, or `key_unwrap` lacks
/// the callback of its kind; `IOT_STATUS_CAPACITY_EXCEEDED` for more than
/// `IOT_SUIT_MAX_TRUST_ANCHORS` keys of one kind; `IOT_STATUS_INVALID_KEY` (or
/// `IOT_STATUS_CBOR`) for a trusted key that does not decode, an empty key in an array, or a
/// decryption key of the wrong length; `IOT_STATUS_INVALID_ARGUMENT` for an unknown kind, a key
/// without a kind, both a decryption key and `key_unwrap`, or a scratch buffer that overlaps the
/// envelope or a key. While processing, a `key_unwrap` callback's `IOT_SUIT_KEY_REJECTED` is
/// `IOT_STATUS_BAD_TAG` (A128KW) or `IOT_STATUS_INVALID_KEY` (ECDH), its other errors
/// `IOT_STATUS_SUIT_PLATFORM`;
/// `IOT_STATUS_BAD_TAG` when the key does not open the content key or the payload does not
/// authenticate; `IOT_STATUS_ALGORITHM_MISMATCH` when the payload's recipient is for the other
/// kind of key; `IOT_STATUS_CAPACITY_EXCEEDED` when a dependency manifest does not fit in what
/// is left of the scratch buffer (or there is none).
///
/// # Safety
/// As for `iot_suit_process`; `options` must point to an `IotSuitOptions` whose non-NULL key
/// pointers each point to their lengths of readable bytes no one writes during the call, whose
/// key arrays, unless NULL, point to their counts of such `IotBytes`, whose `key_unwrap`, unless
/// NULL, points to an `IotSuitKeyUnwrap` whose non-NULL callbacks have the documented signatures
/// and may be called with its `ctx` during the call, and
/// whose `scratch`, unless NULL, points to `scratch_len` writable bytes nothing else accesses
/// during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn iot_suit_process_with_options(
    envelope: *const u8,
    envelope_len: usize,
    options: *const IotSuitOptions,
    procedure: u32,
    platform: *const IotSuitPlatform,
    result: *mut IotSuitResult,
) -> IotStatus {
    if !result.is_aligned() || !platform.is_aligned() || !options.is_aligned() {
        return IotStatus::InvalidArgument;
    }
    let mut r = IotSuitResult::default();
    let status = if envelope.is_null() || options.is_null() || platform.is_null() {
        IotStatus::NullArgument
    } else {
        guard(|| {
            // SAFETY: the caller guarantees the input is readable for its length.
            let envelope = unsafe { bytes(envelope, envelope_len) }?;
            // SAFETY: non-NULL and aligned; the caller guarantees a readable IotSuitOptions.
            let o = unsafe { &*options };
            // SAFETY: the caller guarantees each non-NULL key and key array is readable.
            let anchor_keys = unsafe { AnchorKeys::new(o) }?;
            // SAFETY: as above.
            let decryption_key = unsafe { opt_bytes(o.decryption_key, o.decryption_key_len) }?;
            if !o.key_unwrap.is_aligned() {
                return Err(IotStatus::InvalidArgument);
            }
            // SAFETY: aligned (checked); the caller guarantees a readable IotSuitKeyUnwrap
            // when it is not NULL. Copied, so that nothing borrows the caller's struct.
            let key_unwrap = unsafe { o.key_unwrap.as_ref() }.copied();
            let mut inputs = core::iter::once(envelope)
                .chain(anchor_keys.iter())
                .chain(decryption_key);
            if inputs.any(|i| overlaps(i, o.scratch.cast_const(), o.scratch_len)) {
                return Err(IotStatus::InvalidArgument);
            }
            let scratch: &mut [u8] = if o.scratch.is_null() {
                check_range(o.scratch.cast_const(), o.scratch_len)?;
                &mut []
            } else {
                // SAFETY: the caller guarantees `scratch_len` writable bytes nothing else
                // accesses during the call; no input overlaps them (checked above).
                unsafe { bytes_mut(o.scratch, o.scratch_len) }?
            };
            // SAFETY: non-NULL and aligned; the caller guarantees a readable IotSuitPlatform.
            let platform = unsafe { &*platform };
            if procedure != IOT_SUIT_UPDATE && procedure != IOT_SUIT_BOOT {
                return Err(IotStatus::InvalidArgument);
            }
            let kek = kek(o.decryption_kind, decryption_key)?;
            let mut unwrapper = key_unwrap.map(CKeyUnwrap::new).transpose()?;
            if kek.is_some() && unwrapper.is_some() {
                return Err(IotStatus::InvalidArgument);
            }
            anchor_keys.with_anchors(|anchors| {
                let auth = authenticate(envelope, anchors, &mut r)?;
                let mut device = CPlatform {
                    p: platform,
                    last_error: 0,
                };
                let mut crypto = backend();
                let mut processor =
                    Processor::new(&mut device, &mut crypto, anchors).with_scratch(scratch);
                if let Some(kek) = kek {
                    processor = processor.with_decryption_key(kek);
                }
                if let Some(unwrapper) = unwrapper.as_mut() {
                    processor = processor.with_key_unwrap(unwrapper);
                }
                let outcome = if procedure == IOT_SUIT_UPDATE {
                    processor.update(&auth)
                } else {
                    processor.boot(&auth)
                };
                match outcome {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        if let Error::ConditionFailed(c) = e {
                            r.command = c.code();
                        }
                        if let Error::Platform(p) = e {
                            r.platform_error = if device.last_error != 0 {
                                device.last_error
                            } else {
                                platform_code(p)
                            };
                        }
                        Err(e.into())
                    }
                }
            })
        })
    };
    // SAFETY: aligned (checked); writable (caller).
    unsafe { put(result, r) };
    status
}

/// The decryption key of an `IotSuitOptions`: its kind and length checked.
fn kek(kind: u32, key: Option<&[u8]>) -> Result<Option<Kek<'_>>, IotStatus> {
    let (kek, len) = match (kind, key) {
        (0, None) => return Ok(None),
        (IOT_SUIT_KEY_A128KW, Some(k)) => (Kek::A128Kw(k), 16),
        (IOT_SUIT_KEY_ECDH_ES_P256, Some(k)) => (Kek::EcdhEsP256(k), 32),
        (IOT_SUIT_KEY_A128KW | IOT_SUIT_KEY_ECDH_ES_P256, None) => {
            return Err(IotStatus::NullArgument);
        }
        _ => return Err(IotStatus::InvalidArgument),
    };
    if key.map(<[u8]>::len) != Some(len) {
        return Err(IotStatus::InvalidKey);
    }
    Ok(Some(kek))
}

/// An `IotSuitOptions` zeroed, as a C caller starts one: no key, no clock, nothing.
const NO_OPTIONS: IotSuitOptions = IotSuitOptions {
    public_key: core::ptr::null(),
    public_key_len: 0,
    mac_key: core::ptr::null(),
    mac_key_len: 0,
    decryption_kind: 0,
    decryption_key: core::ptr::null(),
    decryption_key_len: 0,
    scratch: core::ptr::null_mut(),
    scratch_len: 0,
    public_keys: core::ptr::null(),
    public_keys_count: 0,
    mac_keys: core::ptr::null(),
    mac_keys_count: 0,
    key_unwrap: core::ptr::null(),
    unix_time: 0,
};

/// The trust anchors an `IotSuitOptions` names: its P-256 keys and its HMAC keys, and the
/// device's time (`unix_time`) they are used at.
struct AnchorKeys<'o> {
    public: KeyList<'o>,
    mac: KeyList<'o>,
    now: Option<u64>,
}

impl<'o> AnchorKeys<'o> {
    /// Reads the keys of `o` (as [`KeyList::new`] does).
    ///
    /// # Safety
    /// Each non-NULL key and key array of `o` must be readable as `IotSuitOptions` documents,
    /// and nothing may write them during `'o`.
    unsafe fn new(o: &'o IotSuitOptions) -> Result<Self, IotStatus> {
        // SAFETY: forwarded from the caller.
        let public_key = unsafe { opt_bytes(o.public_key, o.public_key_len) }?;
        // SAFETY: as above.
        let public = unsafe { KeyList::new(public_key, o.public_keys, o.public_keys_count) }?;
        // SAFETY: as above.
        let mac_key = unsafe { opt_bytes(o.mac_key, o.mac_key_len) }?;
        // SAFETY: as above.
        let mac = unsafe { KeyList::new(mac_key, o.mac_keys, o.mac_keys_count) }?;
        let now = (o.unix_time != 0).then_some(o.unix_time);
        Ok(Self { public, mac, now })
    }

    /// Every key, for the overlap checks.
    fn iter(&self) -> impl Iterator<Item = &'o [u8]> + '_ {
        self.public.iter().chain(self.mac.iter())
    }

    /// Runs `f` with the keys as trust anchors: `IOT_STATUS_NULL_ARGUMENT` when there are none,
    /// `IOT_STATUS_INVALID_KEY` (or `IOT_STATUS_CBOR`) when a P-256 key does not decode.
    fn with_anchors<T>(
        &self,
        f: impl FnOnce(&mut TrustAnchors<'_, P256VerifyingKey>) -> Result<T, IotStatus>,
    ) -> Result<T, IotStatus> {
        if self.public.is_empty() && self.mac.is_empty() {
            return Err(IotStatus::NullArgument);
        }
        let mut verifiers = self.public.verifiers()?;
        let macs = self.mac.mac_keys();
        f(&mut TrustAnchors::new(
            verifiers
                .as_mut()
                .and_then(|v| v.get_mut(..self.public.len()))
                .unwrap_or_default(),
            macs.get(..self.mac.len()).unwrap_or_default(),
        )
        .at_time(self.now))
    }
}

/// Up to `IOT_SUIT_MAX_TRUST_ANCHORS` trusted keys of one kind: the single key of an
/// `IotSuitOptions`, then its array.
struct KeyList<'o> {
    keys: [&'o [u8]; IOT_SUIT_MAX_TRUST_ANCHORS],
    len: usize,
}

impl<'o> KeyList<'o> {
    /// `one`, then the `count` keys at `many`. NULL with a nonzero count is
    /// `IOT_STATUS_NULL_ARGUMENT`, more than `IOT_SUIT_MAX_TRUST_ANCHORS` keys in all
    /// `IOT_STATUS_CAPACITY_EXCEEDED` (before `many` is read), an empty key in the array
    /// `IOT_STATUS_INVALID_KEY`.
    ///
    /// # Safety
    /// `many`, unless NULL, must point to `count` readable `IotBytes`, each naming its length of
    /// readable bytes that nothing writes during `'o`.
    unsafe fn new(
        one: Option<&'o [u8]>,
        many: *const IotBytes,
        count: usize,
    ) -> Result<Self, IotStatus> {
        if many.is_null() && count != 0 {
            return Err(IotStatus::NullArgument);
        }
        if !many.is_aligned() {
            return Err(IotStatus::InvalidArgument);
        }
        if count.saturating_add(usize::from(one.is_some())) > IOT_SUIT_MAX_TRUST_ANCHORS {
            return Err(IotStatus::CapacityExceeded);
        }
        let many: &[IotBytes] = if many.is_null() {
            &[]
        } else {
            // SAFETY: non-NULL and aligned (checked), `count` is at most
            // IOT_SUIT_MAX_TRUST_ANCHORS, and the caller guarantees the elements are readable.
            unsafe { core::slice::from_raw_parts(many, count) }
        };
        let mut list = Self {
            keys: [&[]; IOT_SUIT_MAX_TRUST_ANCHORS],
            len: 0,
        };
        if let Some(key) = one {
            list.push(key)?;
        }
        for b in many {
            // SAFETY: the caller guarantees each element names readable bytes.
            let key = unsafe { bytes(b.ptr, b.len) }?;
            if key.is_empty() {
                return Err(IotStatus::InvalidKey);
            }
            list.push(key)?;
        }
        Ok(list)
    }

    fn push(&mut self, key: &'o [u8]) -> Result<(), IotStatus> {
        let slot = self
            .keys
            .get_mut(self.len)
            .ok_or(IotStatus::CapacityExceeded)?;
        *slot = key;
        self.len += 1;
        Ok(())
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn iter(&self) -> impl Iterator<Item = &'o [u8]> + '_ {
        self.keys.iter().take(self.len).copied()
    }

    /// The keys as P-256 public keys (`None` when there are none); the slots past
    /// [`KeyList::len`] repeat the first key and are not used.
    fn verifiers(
        &self,
    ) -> Result<Option<[P256VerifyingKey; IOT_SUIT_MAX_TRUST_ANCHORS]>, IotStatus> {
        let mut keys = self.iter().map(verifying_key);
        let Some(first) = keys.next().transpose()? else {
            return Ok(None);
        };
        let mut out = [first; IOT_SUIT_MAX_TRUST_ANCHORS];
        for (slot, key) in out.iter_mut().skip(1).zip(keys) {
            *slot = key?;
        }
        Ok(Some(out))
    }

    /// The keys as HMAC keys; the slots past [`KeyList::len`] are empty and not used.
    fn mac_keys(&self) -> [SymmetricKey<'o>; IOT_SUIT_MAX_TRUST_ANCHORS] {
        let mut out = [SymmetricKey::default(); IOT_SUIT_MAX_TRUST_ANCHORS];
        for (slot, key) in out.iter_mut().zip(self.iter()) {
            *slot = SymmetricKey::new(key);
        }
        out
    }
}

/// An `IotSuitKeyUnwrap` as a [`KeyUnwrap`]: the key operation done by the C callbacks.
struct CKeyUnwrap {
    u: IotSuitKeyUnwrap,
    algorithm: Algorithm,
}

impl CKeyUnwrap {
    /// Checks the kind and that its callback is set.
    fn new(u: IotSuitKeyUnwrap) -> Result<Self, IotStatus> {
        let algorithm = match (u.kind, u.unwrap_a128kw, u.ecdh_p256) {
            (IOT_SUIT_KEY_A128KW, Some(_), _) => Algorithm::A128Kw,
            (IOT_SUIT_KEY_ECDH_ES_P256, _, Some(_)) => Algorithm::EcdhEsA128Kw,
            (IOT_SUIT_KEY_A128KW | IOT_SUIT_KEY_ECDH_ES_P256, _, _) => {
                return Err(IotStatus::NullArgument);
            }
            _ => return Err(IotStatus::InvalidArgument),
        };
        Ok(Self { u, algorithm })
    }
}

/// A key callback's result: `IOT_SUIT_KEY_REJECTED` is `rejected`, any other error a platform
/// error (as the platform callbacks' are).
fn key_result(code: i32, rejected: CoreError) -> Result<(), Error> {
    match code {
        IOT_SUIT_KEY_REJECTED => Err(Error::Core(rejected)),
        code => check(code).map_err(Error::Platform),
    }
}

// SAFETY (for both callback calls below): the caller of `iot_suit_process_with_options`
// guarantees that each non-NULL callback has the documented signature and may be called with
// `ctx`; the pointers passed are to the processor's input and to live output arrays of the
// documented lengths.
impl KeyUnwrap for CKeyUnwrap {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn unwrap_a128kw(
        &mut self,
        _: &mut dyn AesKeyWrap,
        wrapped: &[u8],
        cek: &mut [u8; 16],
    ) -> Result<(), Error> {
        let f = self
            .u
            .unwrap_a128kw
            .ok_or(Error::Core(CoreError::AlgorithmMismatch))?;
        // SAFETY: see above.
        let code = unsafe {
            f(
                self.u.ctx,
                wrapped.as_ptr(),
                wrapped.len(),
                cek.as_mut_ptr(),
            )
        };
        // On success the decryptor zeroizes the content key after use.
        key_result(code, CoreError::BadTag).inspect_err(|_| cek.zeroize())
    }

    fn ecdh_p256(
        &mut self,
        _: &mut dyn EcdhP256,
        ephemeral: &[u8],
    ) -> Result<P256SharedSecret, Error> {
        let f = self
            .u
            .ecdh_p256
            .ok_or(Error::Core(CoreError::AlgorithmMismatch))?;
        let mut x = [0u8; 32];
        // SAFETY: see above.
        let code = unsafe {
            f(
                self.u.ctx,
                ephemeral.as_ptr(),
                ephemeral.len(),
                x.as_mut_ptr(),
            )
        };
        // P256SharedSecret zeroizes its copy on drop.
        let shared = key_result(code, CoreError::InvalidKey).map(|()| P256SharedSecret::new(x));
        x.zeroize();
        shared
    }
}
