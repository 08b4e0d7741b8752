//! SUIT reports (draft-ietf-suit-report): what the processor ran and why it stopped.
//!
//! [`Reporter`] wraps a [`Platform`]: it forwards every call, keeps up to `N` records of the
//! commands that ran (the reporting policy decides which, "Reporting Policy" of
//! draft-ietf-suit-manifest; [`Reporter::record_all`] keeps every one) with the parameter the
//! command handed to the platform, and always keeps the command that failed. [`Reporter::encode`]
//! then writes the `SUIT_Report` into a caller buffer, and [`sign`] wraps it in a COSE_Sign1
//! ("Protected SUIT Report"). No heap: a record is a few words plus [`MAX_PROPERTY_LEN`] bytes.
//!
//! What a [`Record`] gives, and therefore what a `SUIT_Record` holds here:
//! - `suit-record-manifest-id` is the manifest's [`ManifestId`]: `[]` for the root manifest,
//!   the component index of each dependency on the way down for a dependency's commands;
//! - `suit-record-manifest-section` is the sequence's manifest key (`suit-common`, 3, for the
//!   shared sequence);
//! - `suit-record-section-offset` is the command's byte offset in that section (in the
//!   command sequence the section's bstr wraps, whose array head is at 0; a command nested in
//!   try-each or run-sequence has its offset in the enclosing section too);
//! - `suit-record-component-index` is the selected component, 0 when several were selected;
//! - `suit-record-properties` holds the parameter the command passed to the platform: vendor,
//!   class or device identifier (their conditions), component slot, URI (fetch), invoke args;
//!   values above [`MAX_PROPERTY_LEN`] bytes are left out.

use crate::command::{Command, ReportingPolicy, param};
use crate::component::ComponentId;
use crate::digest::SuitDigest;
use crate::envelope::AuthenticatedManifest;
use crate::error::Error;
use crate::manifest::manifest_key;
use crate::platform::{
    Component, Identifier, ManifestId, Platform, PlatformError, PlatformResult, Record,
    SequenceKind,
};
use iot_core::cbor::{SliceWriter, enc_err};
use iot_core::cose::{Algorithm, Sign1Builder};
use iot_core::crypto::{Sha256, Signer};
use minicbor::Encoder;

/// Keys of `SUIT_Report` (draft-ietf-suit-report "The SUIT_Report").
pub mod report_key {
    /// `suit-report-nonce`.
    pub const NONCE: i64 = 2;
    /// `suit-report-records`.
    pub const RECORDS: i64 = 3;
    /// `suit-report-result`.
    pub const RESULT: i64 = 4;
    /// `suit-report-result-code`.
    pub const RESULT_CODE: i64 = 5;
    /// `suit-report-result-record`.
    pub const RESULT_RECORD: i64 = 6;
    /// `suit-report-result-reason`.
    pub const RESULT_REASON: i64 = 7;
    /// `suit-reference`.
    pub const REFERENCE: i64 = 99;
}

/// Bytes of a parameter value kept with a record.
pub const MAX_PROPERTY_LEN: usize = 64;

/// `SUIT_Report_Reasons` (draft-ietf-suit-report "SUIT_Report_Reasons").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Reason {
    /// `suit-report-reason-ok`.
    Ok = 0,
    /// `suit-report-reason-cbor-parse`.
    CborParse = 1,
    /// `suit-report-reason-cose-unsupported`.
    CoseUnsupported = 2,
    /// `suit-report-reason-alg-unsupported`.
    AlgUnsupported = 3,
    /// `suit-report-reason-unauthorised`.
    Unauthorised = 4,
    /// `suit-report-reason-command-unsupported`.
    CommandUnsupported = 5,
    /// `suit-report-reason-component-unsupported`.
    ComponentUnsupported = 6,
    /// `suit-report-reason-component-unauthorised`.
    ComponentUnauthorised = 7,
    /// `suit-report-reason-parameter-unsupported`.
    ParameterUnsupported = 8,
    /// `suit-report-severing-unsupported`.
    SeveringUnsupported = 9,
    /// `suit-report-reason-condition-failed`.
    ConditionFailed = 10,
    /// `suit-report-reason-operation-failed`.
    OperationFailed = 11,
    /// `suit-report-reason-invoke-pending`.
    InvokePending = 12,
}

impl Reason {
    /// The reason an error of this crate is reported with.
    pub fn of(e: &Error) -> Self {
        match e {
            Error::Core(_)
            | Error::MissingMember { .. }
            | Error::UnknownMember { .. }
            | Error::InvalidArgument { .. }
            | Error::InvalidParameter { .. }
            | Error::CapacityExceeded(_) => Self::CborParse,
            Error::UnsupportedAuthenticationBlock(_) => Self::CoseUnsupported,
            Error::UnsupportedDigestAlgorithm(_) => Self::AlgUnsupported,
            Error::NoAuthenticationBlock
            | Error::NoTrustedKey
            | Error::NotAuthenticated(_)
            | Error::DigestMismatch
            | Error::SeveredMemberDigestMismatch(_)
            | Error::Rollback => Self::Unauthorised,
            #[cfg(feature = "delegation")]
            Error::Delegation(_) => Self::Unauthorised,
            Error::UnsupportedVersion(_)
            | Error::UnknownCommand(_)
            | Error::Unsupported(_)
            | Error::NotAllowedInSharedSequence(_)
            | Error::SoftFailureNotAllowed => Self::CommandUnsupported,
            Error::ComponentIndex(_) => Self::ComponentUnsupported,
            Error::MissingParameter { .. } => Self::ParameterUnsupported,
            Error::UnexpectedSeveredMember(_) | Error::SeveredMemberMissing(_) => {
                Self::SeveringUnsupported
            }
            Error::ConditionFailed(_) | Error::ImageMismatch => Self::ConditionFailed,
            Error::Platform(_)
            | Error::SourceIsDestination
            | Error::TrialPending
            | Error::NoBootableImage
            | Error::TrialNotConfirmed => Self::OperationFailed,
        }
    }

    /// The reason with code `code`.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => Self::Ok,
            1 => Self::CborParse,
            2 => Self::CoseUnsupported,
            3 => Self::AlgUnsupported,
            4 => Self::Unauthorised,
            5 => Self::CommandUnsupported,
            6 => Self::ComponentUnsupported,
            7 => Self::ComponentUnauthorised,
            8 => Self::ParameterUnsupported,
            9 => Self::SeveringUnsupported,
            10 => Self::ConditionFailed,
            11 => Self::OperationFailed,
            12 => Self::InvokePending,
            _ => return None,
        })
    }
}

/// `suit-report-result-code`: an implementation-defined integer; here the failing command's code
/// for a failed condition, a missing parameter (the parameter is in the record's properties
/// otherwise) or an unsupported command, the platform error for a platform failure, and 0
/// otherwise (the reason says the rest).
pub fn result_code(e: &Error) -> i64 {
    match e {
        Error::ConditionFailed(c) => c.code(),
        Error::MissingParameter { command, .. }
        | Error::UnknownCommand(command)
        | Error::NotAllowedInSharedSequence(command) => i64::from(*command),
        Error::Platform(p) => match p {
            PlatformError::NotFound => 1,
            PlatformError::Unavailable => 2,
            PlatformError::OutOfSpace => 3,
            PlatformError::Io => 4,
            PlatformError::Unsupported => 5,
            PlatformError::Denied => 6,
        },
        _ => 0,
    }
}

/// A parameter value kept with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyValue {
    /// A bstr parameter (identifiers, invoke args).
    Bytes(heapless::Vec<u8, MAX_PROPERTY_LEN>),
    /// A tstr parameter (the URI).
    Text(heapless::String<MAX_PROPERTY_LEN>),
    /// A uint parameter (the component slot).
    Uint(u64),
}

/// One `$$SUIT_Parameters` entry of `suit-record-properties`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The parameter key ([`crate::command::param`]).
    pub key: i64,
    /// Its value.
    pub value: PropertyValue,
}

impl Property {
    fn bytes(key: i64, v: &[u8]) -> Option<Self> {
        heapless::Vec::from_slice(v).ok().map(|b| Self {
            key,
            value: PropertyValue::Bytes(b),
        })
    }
}

/// A `SUIT_Record`: one command that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `suit-record-manifest-id`: the manifest the command belongs to.
    pub manifest: ManifestId,
    /// `suit-record-manifest-section`: the manifest key of the sequence.
    pub section: i64,
    /// `suit-record-section-offset`: the command's byte offset in its section (see the module docs).
    pub offset: u64,
    /// `suit-record-component-index`.
    pub component: Option<usize>,
    /// The command.
    pub command: Command,
    /// How it ended.
    pub result: Result<(), Error>,
    /// `suit-record-properties`: the parameter the command passed to the platform.
    pub property: Option<Property>,
}

/// The manifest key a sequence is reported under.
pub fn section_of(kind: SequenceKind) -> i64 {
    match kind {
        SequenceKind::Shared => manifest_key::COMMON,
        SequenceKind::DependencyResolution => manifest_key::DEPENDENCY_RESOLUTION,
        SequenceKind::PayloadFetch => manifest_key::PAYLOAD_FETCH,
        SequenceKind::CandidateVerification => manifest_key::CANDIDATE_VERIFICATION,
        SequenceKind::Install => manifest_key::INSTALL,
        SequenceKind::Validate => manifest_key::VALIDATE,
        SequenceKind::Load => manifest_key::LOAD,
        SequenceKind::Invoke => manifest_key::INVOKE,
        SequenceKind::Uninstall => manifest_key::UNINSTALL,
    }
}

/// A [`Platform`] that keeps the records of up to `N` commands for a report.
#[derive(Debug)]
pub struct Reporter<P, const N: usize> {
    inner: P,
    all: bool,
    records: heapless::Vec<Entry, N>,
    dropped: usize,
    failure: Option<Entry>,
    previous_failed: bool,
    pending: Option<Property>,
}

impl<P: Platform, const N: usize> Reporter<P, N> {
    /// Wraps `inner`; records what the commands' reporting policies ask for
    /// (`suit-send-record-on-success` / `-on-failure`).
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            all: false,
            records: heapless::Vec::new(),
            dropped: 0,
            failure: None,
            previous_failed: false,
            pending: None,
        }
    }

    /// Records every command whatever its reporting policy.
    pub fn record_all(mut self) -> Self {
        self.all = true;
        self
    }

    /// The wrapped platform.
    pub fn inner(&mut self) -> &mut P {
        &mut self.inner
    }

    /// The wrapped platform, given back.
    pub fn into_inner(self) -> P {
        self.inner
    }

    /// The records kept, in the order the commands ended.
    pub fn records(&self) -> &[Entry] {
        &self.records
    }

    /// Records left out because `N` were kept already.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The command that failed last (the innermost one of a failure that propagated out of
    /// try-each or run-sequence).
    pub fn failure(&self) -> Option<&Entry> {
        self.failure.as_ref()
    }

    /// Forgets the records, for the next run.
    pub fn clear(&mut self) {
        self.records.clear();
        self.dropped = 0;
        self.failure = None;
        self.previous_failed = false;
        self.pending = None;
    }

    /// Writes the `SUIT_Report` of a run of `auth` that ended with `outcome` into `out`; returns
    /// its length. The reference is the manifest's `suit-reference-uri` ("" without one) and its
    /// authenticated digest; `nonce` is `suit-report-nonce`.
    pub fn encode(
        &self,
        auth: &AuthenticatedManifest<'_>,
        nonce: Option<&[u8]>,
        outcome: &Result<(), Error>,
        out: &mut [u8],
    ) -> iot_core::Result<usize> {
        let uri = auth.manifest().reference_uri().unwrap_or("");
        let failure = match outcome {
            Ok(()) => None,
            Err(e) => Some((e, self.failure.as_ref().filter(|f| f.result == Err(*e)))),
        };
        encode(uri, auth.digest(), nonce, &self.records, failure, out)
    }

    fn note(&mut self, property: Option<Property>) {
        self.pending = property;
    }
}

/// Writes a `SUIT_Report` into `out` and returns its length: `failure` is `None` for success,
/// otherwise the error and the record of the command that failed (`None` when it failed outside
/// any command: the record then names `suit-manifest-sequence-number` for a rollback, section 0
/// otherwise).
pub fn encode(
    uri: &str,
    digest: SuitDigest<'_>,
    nonce: Option<&[u8]>,
    records: &[Entry],
    failure: Option<(&Error, Option<&Entry>)>,
    out: &mut [u8],
) -> iot_core::Result<usize> {
    let mut e = Encoder::new(SliceWriter::new(out));
    write_report(&mut e, uri, digest, nonce, records, failure).map_err(enc_err)?;
    Ok(e.writer().len())
}

type Enc<'b> = Encoder<SliceWriter<'b>>;
type EncResult = core::result::Result<(), minicbor::encode::Error<iot_core::cbor::EndOfBuffer>>;

fn write_report(
    e: &mut Enc<'_>,
    uri: &str,
    digest: SuitDigest<'_>,
    nonce: Option<&[u8]>,
    records: &[Entry],
    failure: Option<(&Error, Option<&Entry>)>,
) -> EncResult {
    e.map(3 + u64::from(nonce.is_some()))?;
    if let Some(n) = nonce {
        e.i64(report_key::NONCE)?.bytes(n)?;
    }
    e.i64(report_key::RECORDS)?.array(records.len() as u64)?;
    for r in records {
        write_record(e, r)?;
    }
    e.i64(report_key::RESULT)?;
    match failure {
        None => {
            e.bool(true)?;
        }
        Some((err, entry)) => {
            e.map(3)?;
            e.i64(report_key::RESULT_CODE)?.i64(result_code(err))?;
            e.i64(report_key::RESULT_RECORD)?;
            match entry {
                Some(r) => write_record(e, r)?,
                None => {
                    let section = match err {
                        Error::Rollback => manifest_key::SEQUENCE_NUMBER,
                        _ => 0,
                    };
                    e.array(5)?.array(0)?.i64(section)?.u64(0)?.u64(0)?.map(0)?;
                }
            }
            e.i64(report_key::RESULT_REASON)?
                .u8(Reason::of(err) as u8)?;
        }
    }
    e.i64(report_key::REFERENCE)?.array(2)?.str(uri)?;
    e.array(2)?.i64(digest.algorithm)?.bytes(digest.bytes)?;
    Ok(())
}

fn write_record(e: &mut Enc<'_>, r: &Entry) -> EncResult {
    let id = r.manifest.path();
    e.array(5)?.array(id.len() as u64)?;
    for &index in id {
        e.u8(index)?;
    }
    e.i64(r.section)?.u64(r.offset)?;
    e.u64(r.component.unwrap_or(0) as u64)?;
    match &r.property {
        None => {
            e.map(0)?;
        }
        Some(p) => {
            e.map(1)?.i64(p.key)?;
            match &p.value {
                PropertyValue::Bytes(b) => e.bytes(b)?,
                PropertyValue::Text(t) => e.str(t)?,
                PropertyValue::Uint(n) => e.u64(*n)?,
            };
        }
    }
    Ok(())
}

/// The most bytes [`sign`] adds to a report: tag 18 and the array head (2), the protected
/// header `{1: -7}` as a bstr (4), the empty unprotected map (1), the payload's bstr head (at
/// most 9) and the 64-byte signature as a bstr (66).
pub const SIGNED_OVERHEAD: usize = 2 + 4 + 1 + 9 + 66;

/// Signs an encoded `SUIT_Report` as a tagged COSE_Sign1 with ES256 (draft-ietf-suit-report
/// "Protected SUIT Report"; the payload attached) into `out`, which `report.len()` +
/// [`SIGNED_OVERHEAD`] bytes always hold; returns its length.
pub fn sign<C: Sha256, S: Signer>(
    crypto: &mut C,
    signer: &mut S,
    report: &[u8],
    out: &mut [u8],
) -> iot_core::Result<usize> {
    Sign1Builder::new(Algorithm::Es256).sign(crypto, signer, report, &[], out)
}

/// An A/B device's own state passes through unrecorded: it is the A/B layer's, not a command's.
impl<P: crate::ab::AbPlatform, const N: usize> crate::ab::AbPlatform for Reporter<P, N> {
    fn read_boot_state(&mut self) -> PlatformResult<Option<crate::ab::BootState>> {
        self.inner.read_boot_state()
    }
    fn write_boot_state(&mut self, state: &crate::ab::BootState) -> PlatformResult<()> {
        self.inner.write_boot_state(state)
    }
    fn write_envelope(&mut self, slot: u8, envelope: &[u8]) -> PlatformResult<()> {
        self.inner.write_envelope(slot, envelope)
    }
    fn read_envelope(&mut self, slot: u8, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        self.inner.read_envelope(slot, offset, buf)
    }
}

impl<P: Platform, const N: usize> Platform for Reporter<P, N> {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        component: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        let key = match kind {
            Identifier::Vendor => param::VENDOR_IDENTIFIER,
            Identifier::Class => param::CLASS_IDENTIFIER,
            Identifier::Device => param::DEVICE_IDENTIFIER,
        };
        self.note(Property::bytes(key, expected));
        self.inner.check_identifier(kind, component, expected)
    }
    fn check_slot(&mut self, component: &Component<'_>, slot: u64) -> PlatformResult<bool> {
        self.note(Some(Property {
            key: param::COMPONENT_SLOT,
            value: PropertyValue::Uint(slot),
        }));
        self.inner.check_slot(component, slot)
    }
    fn fetch(&mut self, uri: &str, component: &Component<'_>) -> PlatformResult<()> {
        let p = heapless::String::try_from(uri).ok().map(|s| Property {
            key: param::URI,
            value: PropertyValue::Text(s),
        });
        self.note(p);
        self.inner.fetch(uri, component)
    }
    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        let p = heapless::String::try_from(uri).ok().map(|s| Property {
            key: param::URI,
            value: PropertyValue::Text(s),
        });
        self.note(p);
        self.inner.fetch_range(uri, offset, buf)
    }
    fn read(
        &mut self,
        component: &Component<'_>,
        offset: u64,
        buf: &mut [u8],
    ) -> PlatformResult<usize> {
        self.inner.read(component, offset, buf)
    }
    fn write(&mut self, component: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        self.inner.write(component, offset, data)
    }
    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        self.inner.swap(a, b)
    }
    fn digest(
        &mut self,
        component: &Component<'_>,
        len: Option<u64>,
    ) -> PlatformResult<Option<[u8; 32]>> {
        self.inner.digest(component, len)
    }
    fn invoke(&mut self, component: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()> {
        self.note(args.and_then(|a| Property::bytes(param::INVOKE_ARGS, a)));
        self.inner.invoke(component, args)
    }
    fn report(&mut self, record: &Record) {
        let entry = Entry {
            manifest: record.manifest,
            section: section_of(record.sequence),
            offset: record.offset,
            component: record.component,
            command: record.command,
            result: record.result,
            property: self.pending.take(),
        };
        let failed = record.result.is_err();
        // A failure propagating out of try-each / run-sequence keeps the inner command.
        let propagated = failed
            && self.previous_failed
            && self
                .failure
                .as_ref()
                .is_some_and(|f| f.result == record.result);
        if failed && !propagated {
            self.failure = Some(entry.clone());
        }
        self.previous_failed = failed;
        let wanted = self.all
            || record.policy.has(if failed {
                ReportingPolicy::RECORD_ON_FAILURE
            } else {
                ReportingPolicy::RECORD_ON_SUCCESS
            });
        if wanted && self.records.push(entry).is_err() {
            self.dropped = self.dropped.saturating_add(1);
        }
        self.inner.report(record);
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
        self.inner.store_sequence_number(manifest, sequence_number)
    }
    fn unlink(&mut self, component: &Component<'_>) -> PlatformResult<()> {
        self.inner.unlink(component)
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
        self.inner.component_version(component, out)
    }
    fn wait(&mut self, component: &Component<'_>, wait_info: Option<&[u8]>) -> PlatformResult<()> {
        self.inner.wait(component, wait_info)
    }
    fn custom(
        &mut self,
        command: i64,
        argument: &[u8],
        component: &Component<'_>,
    ) -> PlatformResult<bool> {
        self.inner.custom(command, argument, component)
    }
}
