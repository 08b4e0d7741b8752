//! Command sequences, commands and parameters (draft-ietf-suit-manifest "SUIT_Command_Sequence" to "Integrity Check Values";
//! the extension commands of draft-ietf-suit-trust-domains and draft-ietf-suit-update-management).
//!
//! A [`CommandSequence`] is validated whole when the manifest is decoded (every command known,
//! every argument and parameter of the right shape, nesting and lengths within the crate's
//! capacities), so that its iterators later yield plain items.

#[cfg(feature = "update-management")]
use crate::cbor::count;
use crate::cbor::{Cur, Items, Wrapped, first_time};
use crate::digest::SuitDigest;
use crate::error::{Capacity, Error, Result};
use crate::{MAX_COMMANDS, MAX_COMPONENTS, MAX_NESTING};
use iot_core::CborError;

/// A command: a condition, a directive, or a custom (negative) command code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// `suit-condition-vendor-identifier` (1).
    VendorIdentifier,
    /// `suit-condition-class-identifier` (2).
    ClassIdentifier,
    /// `suit-condition-image-match` (3).
    ImageMatch,
    /// `suit-condition-use-before` (4, update management).
    UseBefore,
    /// `suit-condition-component-slot` (5).
    ComponentSlot,
    /// `suit-condition-check-content` (6).
    CheckContent,
    /// `suit-condition-dependency-integrity` (7, trust domains).
    DependencyIntegrity,
    /// `suit-condition-is-dependency` (8, trust domains).
    IsDependency,
    /// `suit-directive-process-dependency` (11, trust domains).
    ProcessDependency,
    /// `suit-directive-set-component-index` (12).
    SetComponentIndex,
    /// `suit-condition-abort` (14).
    Abort,
    /// `suit-directive-try-each` (15).
    TryEach,
    /// `suit-directive-write` (18).
    Write,
    /// `suit-directive-set-parameters` (19).
    SetParameters,
    /// `suit-directive-override-parameters` (20).
    OverrideParameters,
    /// `suit-directive-fetch` (21).
    Fetch,
    /// `suit-directive-copy` (22).
    Copy,
    /// `suit-directive-invoke` (23).
    Invoke,
    /// `suit-condition-device-identifier` (24).
    DeviceIdentifier,
    /// `suit-condition-image-not-match` (25, update management).
    ImageNotMatch,
    /// `suit-condition-minimum-battery` (26, update management).
    MinimumBattery,
    /// `suit-condition-update-authorized` (27, update management).
    UpdateAuthorized,
    /// `suit-condition-version` (28, update management).
    Version,
    /// `suit-directive-wait` (29, update management).
    Wait,
    /// `suit-directive-fetch-uri-list` (30, update management).
    FetchUriList,
    /// `suit-directive-swap` (31).
    Swap,
    /// `suit-directive-run-sequence` (32).
    RunSequence,
    /// `suit-directive-unlink` (33, trust domains).
    Unlink,
    /// `suit-directive-override-multiple` (34, update management).
    OverrideMultiple,
    /// `suit-directive-copy-params` (35, update management).
    CopyParams,
    /// A custom command (a negative code, "SUIT_Command_Sequence") down to `i32::MIN + 1`
    /// (error payloads reserve `i32::MIN` for text labels, [`iot_core::Error::label`]): 32 bits
    /// keep a `Command` 8 bytes on 32-bit targets (16 with `i64`, which also needs 8-byte
    /// alignment), and so the [`crate::Error`] that names one and every decoded command.
    Custom(i32),
}

/// The codes of the known commands, in the order of [`Command`]'s variants.
const CODES: [u8; 30] = [
    1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    32, 33, 34, 35,
];

/// The draft's names of the known commands, in the order of [`CODES`].
const NAMES: [&str; 30] = [
    "vendor-identifier",
    "class-identifier",
    "image-match",
    "use-before",
    "component-slot",
    "check-content",
    "dependency-integrity",
    "is-dependency",
    "process-dependency",
    "set-component-index",
    "abort",
    "try-each",
    "write",
    "set-parameters",
    "override-parameters",
    "fetch",
    "copy",
    "invoke",
    "device-identifier",
    "image-not-match",
    "minimum-battery",
    "update-authorized",
    "version",
    "wait",
    "fetch-uri-list",
    "swap",
    "run-sequence",
    "unlink",
    "override-multiple",
    "copy-params",
];

// See `Command::Custom`: every decoded command and every `Error` that names one is this size.
#[cfg(target_pointer_width = "32")]
const _: () = assert!(size_of::<Command>() == 8);

impl Command {
    /// The command for `code`; `None` for a non-negative code this implementation does not know
    /// and for a code at or below `i32::MIN`. Looked up in `CODES`, a byte per known command,
    /// instead of a jump table with an arm per code. Not inlined: in the command decoder its match
    /// was merged with the argument's into a larger one (out of line: 140 B less on thumbv7em).
    #[inline(never)]
    pub const fn from_code(code: i64) -> Option<Self> {
        if code < 0 {
            return if code > i32::MIN as i64 {
                Some(Self::Custom(code as i32))
            } else {
                None
            };
        }
        let (mut i, mut rest) = (0, CODES.as_slice());
        while let [known, tail @ ..] = rest {
            if *known as i64 == code {
                return Some(Self::known(i));
            }
            (i, rest) = (i + 1, tail);
        }
        None
    }

    /// The known command at `index` in [`CODES`] (the variants' order).
    const fn known(index: usize) -> Self {
        match index {
            0 => Self::VendorIdentifier,
            1 => Self::ClassIdentifier,
            2 => Self::ImageMatch,
            3 => Self::UseBefore,
            4 => Self::ComponentSlot,
            5 => Self::CheckContent,
            6 => Self::DependencyIntegrity,
            7 => Self::IsDependency,
            8 => Self::ProcessDependency,
            9 => Self::SetComponentIndex,
            10 => Self::Abort,
            11 => Self::TryEach,
            12 => Self::Write,
            13 => Self::SetParameters,
            14 => Self::OverrideParameters,
            15 => Self::Fetch,
            16 => Self::Copy,
            17 => Self::Invoke,
            18 => Self::DeviceIdentifier,
            19 => Self::ImageNotMatch,
            20 => Self::MinimumBattery,
            21 => Self::UpdateAuthorized,
            22 => Self::Version,
            23 => Self::Wait,
            24 => Self::FetchUriList,
            25 => Self::Swap,
            26 => Self::RunSequence,
            27 => Self::Unlink,
            28 => Self::OverrideMultiple,
            _ => Self::CopyParams,
        }
    }

    /// The command code.
    pub const fn code(self) -> i64 {
        let index = match self.index() {
            Ok(i) => i,
            Err(custom) => return custom as i64,
        };
        // Every index is in the table.
        match CODES.split_at_checked(index) {
            Some((_, [code, ..])) => *code as i64,
            _ => 0,
        }
    }

    /// The draft's name of a known command, without its `suit-condition-` or
    /// `suit-directive-` prefix (`"image-match"`); `None` for a custom one.
    pub const fn name(self) -> Option<&'static str> {
        match self.index() {
            Ok(i) => match NAMES.split_at_checked(i) {
                Some((_, [name, ..])) => Some(name),
                _ => None,
            },
            Err(_) => None,
        }
    }

    /// The index of a known command in [`CODES`] and [`NAMES`]; a custom one's code.
    const fn index(self) -> core::result::Result<usize, i32> {
        Ok(match self {
            Self::VendorIdentifier => 0,
            Self::ClassIdentifier => 1,
            Self::ImageMatch => 2,
            Self::UseBefore => 3,
            Self::ComponentSlot => 4,
            Self::CheckContent => 5,
            Self::DependencyIntegrity => 6,
            Self::IsDependency => 7,
            Self::ProcessDependency => 8,
            Self::SetComponentIndex => 9,
            Self::Abort => 10,
            Self::TryEach => 11,
            Self::Write => 12,
            Self::SetParameters => 13,
            Self::OverrideParameters => 14,
            Self::Fetch => 15,
            Self::Copy => 16,
            Self::Invoke => 17,
            Self::DeviceIdentifier => 18,
            Self::ImageNotMatch => 19,
            Self::MinimumBattery => 20,
            Self::UpdateAuthorized => 21,
            Self::Version => 22,
            Self::Wait => 23,
            Self::FetchUriList => 24,
            Self::Swap => 25,
            Self::RunSequence => 26,
            Self::Unlink => 27,
            Self::OverrideMultiple => 28,
            Self::CopyParams => 29,
            Self::Custom(c) => return Err(c),
        })
    }

    /// `true` for conditions ("SUIT_Condition"): they test and never change state.
    pub const fn is_condition(self) -> bool {
        matches!(
            self,
            Self::VendorIdentifier
                | Self::ClassIdentifier
                | Self::ImageMatch
                | Self::UseBefore
                | Self::ComponentSlot
                | Self::CheckContent
                | Self::DependencyIntegrity
                | Self::IsDependency
                | Self::Abort
                | Self::DeviceIdentifier
                | Self::ImageNotMatch
                | Self::MinimumBattery
                | Self::UpdateAuthorized
                | Self::Version
        )
    }
}

/// `SUIT_Rep_Policy` ("Reporting Policy"): which records a command reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportingPolicy(pub u64);

impl ReportingPolicy {
    /// `suit-send-record-on-success`.
    pub const RECORD_ON_SUCCESS: u64 = 1;
    /// `suit-send-record-on-failure`.
    pub const RECORD_ON_FAILURE: u64 = 1 << 1;
    /// `suit-send-sysinfo-success`.
    pub const SYSINFO_ON_SUCCESS: u64 = 1 << 2;
    /// `suit-send-sysinfo-failure`.
    pub const SYSINFO_ON_FAILURE: u64 = 1 << 3;

    /// Whether `bit` (one of the constants) is set.
    pub const fn has(self, bit: u64) -> bool {
        self.0 & bit != 0
    }
}

/// `IndexArg = uint / true / [+ uint]` of `suit-directive-set-component-index` ("suit-directive-set-component-index").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexArg<'a> {
    /// One component.
    One(u64),
    /// Every component (`true`).
    All,
    /// Several components, at most [`MAX_COMPONENTS`].
    List(IndexList<'a>),
}

/// The indices of [`IndexArg::List`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexList<'a> {
    items: Items<'a>,
}

impl<'a> IndexList<'a> {
    /// The number of indices.
    pub fn len(&self) -> usize {
        self.items.count
    }

    /// Always `false`: the list holds at least one index.
    pub fn is_empty(&self) -> bool {
        self.items.count == 0
    }

    /// The indices, in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + use<'a> {
        let mut c = self.items.cursor();
        (0..self.items.count).map_while(move |_| c.uint().ok())
    }
}

/// A command's argument, decoded by the shape its command takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Argument<'a> {
    /// Conditions and most directives.
    ReportingPolicy(ReportingPolicy),
    /// `suit-directive-set-component-index`.
    Index(IndexArg<'a>),
    /// `suit-directive-set-parameters` and `suit-directive-override-parameters`.
    Parameters(Parameters<'a>),
    /// `suit-directive-try-each`.
    TryEach(TryEach<'a>),
    /// `suit-directive-run-sequence`.
    Sequence(CommandSequence<'a>),
    /// The encoded argument of `override-multiple`, `copy-params` and custom commands
    /// (well-formed, not interpreted here).
    Raw(&'a [u8]),
}

/// How deep a decode validates nested sequences.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Validate everything; the value is the nesting depth of the sequence being read.
    Validate(usize),
    /// Already validated: read the shapes, do not descend.
    Trusted,
}

/// `SUIT_Command_Sequence = [+ (command, argument)]`, validated, borrowed from the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSequence<'a> {
    items: Items<'a>,
}

impl<'a> CommandSequence<'a> {
    /// Decodes and validates the sequence inside a `bstr .cbor SUIT_Command_Sequence` at depth 1.
    pub(crate) fn decode(w: Wrapped<'a>) -> Result<Self> {
        Self::decode_mode(w, Mode::Validate(1))
    }

    fn decode_mode(w: Wrapped<'a>, mode: Mode) -> Result<Self> {
        let mut c = w.cursor();
        let at = c.position();
        let n = c.array()?;
        if n == 0 || n % 2 != 0 {
            return Err(Error::Core(iot_core::Error::cbor(
                CborError::UnexpectedType,
                at,
            )));
        }
        let commands = n / 2;
        if commands > MAX_COMMANDS as u64 {
            return Err(Error::CapacityExceeded(Capacity::Commands));
        }
        let start = c.position();
        let count = commands as usize;
        if let Mode::Validate(depth) = mode {
            if depth > MAX_NESTING {
                return Err(Error::CapacityExceeded(Capacity::Nesting));
            }
            for _ in 0..count {
                read_command(&mut c, mode)?;
            }
            c.finish()?;
            return Ok(Self {
                items: c.items_since(start, count)?,
            });
        }
        // Trusted: the content after the head is the whole rest of the bstr.
        Ok(Self {
            items: Items {
                outer: w.outer,
                base: start,
                count,
            },
        })
    }

    /// The number of commands (pairs of command and argument).
    pub fn len(&self) -> usize {
        self.items.count
    }

    /// Always `false`: a sequence holds at least one command.
    pub fn is_empty(&self) -> bool {
        self.items.count == 0
    }

    /// Where the sequence's encoding (its array head) starts in the envelope, in the unit of
    /// [`Commands::position`].
    pub(crate) fn start(&self) -> usize {
        // The head of an array of 2 * count items: one byte below 24 items, two up to 255.
        let head = if self.items.count * 2 < 24 { 1 } else { 2 };
        self.items.base.saturating_sub(head)
    }

    /// The commands with their arguments, in order.
    pub fn iter(&self) -> Commands<'a> {
        Commands {
            c: self.items.cursor(),
            left: self.items.count,
        }
    }
}

impl<'a> IntoIterator for &CommandSequence<'a> {
    type Item = (Command, Argument<'a>);
    type IntoIter = Commands<'a>;
    fn into_iter(self) -> Commands<'a> {
        self.iter()
    }
}

/// The commands of a [`CommandSequence`].
#[derive(Debug, Clone)]
pub struct Commands<'a> {
    c: Cur<'a>,
    left: usize,
}

impl Commands<'_> {
    /// The byte offset of the next command in the envelope it was decoded from.
    pub(crate) fn position(&self) -> usize {
        self.c.position()
    }
}

impl<'a> Iterator for Commands<'a> {
    type Item = (Command, Argument<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Validated when the manifest was decoded.
        read_command(&mut self.c, Mode::Trusted).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// Reads one `(command, argument)` pair.
fn read_command<'a>(c: &mut Cur<'a>, mode: Mode) -> Result<(Command, Argument<'a>)> {
    let code = c.int()?;
    let command =
        Command::from_code(code).ok_or(Error::UnknownCommand(iot_core::Error::label(code)))?;
    let at = c.position();
    let invalid = |e: Error| match e {
        Error::Core(iot_core::Error::Cbor {
            kind: CborError::UnexpectedType,
            ..
        }) => Error::InvalidArgument {
            command: iot_core::Error::label(code),
            offset: at,
        },
        other => other,
    };
    let arg = read_argument(c, command, mode).map_err(invalid)?;
    Ok((command, arg))
}

fn read_argument<'a>(c: &mut Cur<'a>, command: Command, mode: Mode) -> Result<Argument<'a>> {
    let nested = match mode {
        Mode::Validate(depth) => Mode::Validate(depth.saturating_add(1)),
        Mode::Trusted => Mode::Trusted,
    };
    Ok(match command {
        Command::SetComponentIndex => Argument::Index(read_index(c)?),
        Command::SetParameters | Command::OverrideParameters => {
            Argument::Parameters(Parameters::decode(c, mode)?)
        }
        Command::TryEach => Argument::TryEach(TryEach::decode(c, nested)?),
        Command::RunSequence => {
            Argument::Sequence(CommandSequence::decode_mode(c.wrapped()?, nested)?)
        }
        Command::OverrideMultiple | Command::CopyParams | Command::Custom(_) => {
            Argument::Raw(c.skip()?)
        }
        _ => Argument::ReportingPolicy(ReportingPolicy(c.uint()?)),
    })
}

fn read_index<'a>(c: &mut Cur<'a>) -> Result<IndexArg<'a>> {
    match c.datatype()? {
        minicbor::data::Type::Bool => {
            let at = c.position();
            if c.bool()? {
                Ok(IndexArg::All)
            } else {
                Err(Error::Core(iot_core::Error::cbor(
                    CborError::UnexpectedType,
                    at,
                )))
            }
        }
        minicbor::data::Type::Array => {
            let at = c.position();
            let n = c.array()?;
            if n == 0 {
                return Err(Error::Core(iot_core::Error::cbor(
                    CborError::UnexpectedType,
                    at,
                )));
            }
            if n > MAX_COMPONENTS as u64 {
                return Err(Error::CapacityExceeded(Capacity::Components));
            }
            // At most `MAX_COMPONENTS`: `as` is exact.
            let n = n as usize;
            let start = c.position();
            for _ in 0..n {
                c.uint()?;
            }
            Ok(IndexArg::List(IndexList {
                items: c.items_since(start, n)?,
            }))
        }
        _ => Ok(IndexArg::One(c.uint()?)),
    }
}

/// `SUIT_Directive_Try_Each_Argument = [2* bstr .cbor SUIT_Command_Sequence, ? nil]` ("suit-directive-try-each").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryEach<'a> {
    items: Items<'a>,
    empty_fallback: bool,
}

impl<'a> TryEach<'a> {
    fn decode(c: &mut Cur<'a>, mode: Mode) -> Result<Self> {
        let at = c.position();
        let n = c.array()?;
        if n > MAX_COMMANDS as u64 {
            return Err(Error::CapacityExceeded(Capacity::Commands));
        }
        // At most `MAX_COMMANDS`: `as` is exact.
        let n = n as usize;
        let start = c.position();
        let mut count = 0usize;
        let mut empty_fallback = false;
        for i in 0..n {
            if c.datatype()? == minicbor::data::Type::Null && i + 1 == n {
                c.null()?;
                empty_fallback = true;
                break;
            }
            CommandSequence::decode_mode(c.wrapped()?, mode)?;
            count += 1;
        }
        if count < 2 {
            return Err(Error::Core(iot_core::Error::cbor(
                CborError::UnexpectedType,
                at,
            )));
        }
        let mut items = c.items_since(start, count)?;
        if empty_fallback {
            // Drop the trailing nil from the sequences' bytes.
            items.outer = items
                .outer
                .get(..items.outer.len().saturating_sub(1))
                .unwrap_or_default();
        }
        Ok(Self {
            items,
            empty_fallback,
        })
    }

    /// The number of command sequences to try.
    pub fn len(&self) -> usize {
        self.items.count
    }

    /// Always `false`: there are at least two sequences.
    pub fn is_empty(&self) -> bool {
        self.items.count == 0
    }

    /// Whether the list ends with `nil`: when every sequence fails, the directive succeeds.
    pub fn has_empty_fallback(&self) -> bool {
        self.empty_fallback
    }

    /// The sequences, in the order to try them.
    pub fn iter(&self) -> impl Iterator<Item = CommandSequence<'a>> + use<'a> {
        let mut c = self.items.cursor();
        (0..self.items.count).map_while(move |_| {
            let w = c.wrapped().ok()?;
            CommandSequence::decode_mode(w, Mode::Trusted).ok()
        })
    }
}

/// Parameter keys ("SUIT_Parameters" and the extension drafts).
pub mod param {
    /// `suit-parameter-vendor-identifier`.
    pub const VENDOR_IDENTIFIER: i64 = 1;
    /// `suit-parameter-class-identifier`.
    pub const CLASS_IDENTIFIER: i64 = 2;
    /// `suit-parameter-image-digest`.
    pub const IMAGE_DIGEST: i64 = 3;
    /// `suit-parameter-use-before` (update management).
    pub const USE_BEFORE: i64 = 4;
    /// `suit-parameter-component-slot`.
    pub const COMPONENT_SLOT: i64 = 5;
    /// `suit-parameter-strict-order`.
    pub const STRICT_ORDER: i64 = 12;
    /// `suit-parameter-soft-failure`.
    pub const SOFT_FAILURE: i64 = 13;
    /// `suit-parameter-image-size`.
    pub const IMAGE_SIZE: i64 = 14;
    /// `suit-parameter-content`.
    pub const CONTENT: i64 = 18;
    /// `suit-parameter-encryption-info` (firmware encryption).
    pub const ENCRYPTION_INFO: i64 = 19;
    /// `suit-parameter-uri`.
    pub const URI: i64 = 21;
    /// `suit-parameter-source-component`.
    pub const SOURCE_COMPONENT: i64 = 22;
    /// `suit-parameter-invoke-args`.
    pub const INVOKE_ARGS: i64 = 23;
    /// `suit-parameter-device-identifier`.
    pub const DEVICE_IDENTIFIER: i64 = 24;
    /// `suit-parameter-minimum-battery` (update management).
    pub const MINIMUM_BATTERY: i64 = 26;
    /// `suit-parameter-update-priority` (update management).
    pub const UPDATE_PRIORITY: i64 = 27;
    /// `suit-parameter-version` (update management).
    pub const VERSION: i64 = 28;
    /// `suit-parameter-wait-info` (update management).
    pub const WAIT_INFO: i64 = 29;

    /// The keys above with their names, in key order.
    const NAMES: [(i8, &str); 18] = [
        (VENDOR_IDENTIFIER as i8, "vendor-id"),
        (CLASS_IDENTIFIER as i8, "class-id"),
        (IMAGE_DIGEST as i8, "image-digest"),
        (USE_BEFORE as i8, "use-before"),
        (COMPONENT_SLOT as i8, "component-slot"),
        (STRICT_ORDER as i8, "strict-order"),
        (SOFT_FAILURE as i8, "soft-failure"),
        (IMAGE_SIZE as i8, "image-size"),
        (CONTENT as i8, "content"),
        (ENCRYPTION_INFO as i8, "encryption-info"),
        (URI as i8, "uri"),
        (SOURCE_COMPONENT as i8, "source-component"),
        (INVOKE_ARGS as i8, "invoke-args"),
        (DEVICE_IDENTIFIER as i8, "device-id"),
        (MINIMUM_BATTERY as i8, "minimum-battery"),
        (UPDATE_PRIORITY as i8, "update-priority"),
        (VERSION as i8, "version"),
        (WAIT_INFO as i8, "wait-info"),
    ];

    /// The name of parameter `key`: the draft's without `suit-parameter-`, `-identifier`
    /// shortened to `-id` (`"vendor-id"`), as the builder's JSON descriptions name it (feature
    /// `json`); `None` for a key not listed here.
    pub fn name(key: i64) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|&&(k, _)| i64::from(k) == key)
            .map(|&(_, name)| name)
    }
}

/// One parameter of `SUIT_Parameters` ("SUIT_Parameters").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parameter<'a> {
    /// Vendor ID, an RFC 9562 UUID.
    VendorId(&'a [u8]),
    /// Class ID, an RFC 9562 UUID.
    ClassId(&'a [u8]),
    /// Image digest.
    ImageDigest(SuitDigest<'a>),
    #[cfg(feature = "update-management")]
    /// Use-before time, seconds since the epoch (update management).
    UseBefore(u64),
    /// Component slot.
    ComponentSlot(u64),
    /// Strict order.
    StrictOrder(bool),
    /// Soft failure.
    SoftFailure(bool),
    /// Image size in bytes.
    ImageSize(u64),
    /// Content, for `write` and `check-content`.
    Content(&'a [u8]),
    /// The SUIT_Encryption_Info (a COSE_Encrypt or COSE_Encrypt0), firmware encryption.
    EncryptionInfo(&'a [u8]),
    /// URI to fetch from.
    Uri(&'a str),
    /// Source component index for `copy` and `swap`.
    SourceComponent(u64),
    /// Arguments for `invoke`.
    InvokeArgs(&'a [u8]),
    /// Device ID, an RFC 9562 UUID.
    DeviceId(&'a [u8]),
    #[cfg(feature = "update-management")]
    /// Minimum battery level (update management).
    MinimumBattery(u64),
    #[cfg(feature = "update-management")]
    /// Update priority (update management).
    UpdatePriority(i64),
    #[cfg(feature = "update-management")]
    /// The encoded `SUIT_Parameter_Version_Match` (update management).
    Version(&'a [u8]),
    #[cfg(feature = "update-management")]
    /// The content of `bstr .cbor SUIT_Wait_Event` (update management).
    WaitInfo(&'a [u8]),
    /// A parameter this crate does not interpret: its key and encoded value.
    Other {
        /// The key.
        key: i64,
        /// The encoded value.
        value: &'a [u8],
    },
}

/// `SUIT_Parameters`: a validated map of parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameters<'a> {
    items: Items<'a>,
}

impl<'a> Parameters<'a> {
    fn decode(c: &mut Cur<'a>, mode: Mode) -> Result<Self> {
        let n = c.map()?;
        let start = c.position();
        let count = usize::try_from(n).map_err(|_| c.err(CborError::TooMany))?;
        // One loop for both modes: a second copy of the read cost more than the trusted mode's
        // unused duplicate check.
        let mut seen = 0u64;
        for _ in 0..count {
            let at = c.position();
            let key = read_parameter(c)?.key();
            if let Mode::Validate(_) = mode {
                first_time(&mut seen, key, at)?;
            }
        }
        Ok(Self {
            items: c.items_since(start, count)?,
        })
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.items.count
    }

    /// `true` for an empty map.
    pub fn is_empty(&self) -> bool {
        self.items.count == 0
    }

    /// The parameters, in encoded order.
    pub fn iter(&self) -> impl Iterator<Item = Parameter<'a>> + use<'a> {
        let mut c = self.items.cursor();
        (0..self.items.count).map_while(move |_| read_parameter(&mut c).ok())
    }
}

/// The argument of `suit-directive-override-multiple` (`{+ index => SUIT_Parameters}`) or of
/// `suit-directive-copy-params` (`{+ src-index => [+ parameter key]}`),
/// draft-ietf-suit-update-management, read entry by entry: by the processor as it runs the
/// directive, and by whatever shows it. A map, index or key of the wrong type is
/// [`Error::InvalidArgument`] of the directive at offset 0; parameters fail as
/// [`Parameters`] do.
#[cfg(feature = "update-management")]
#[derive(Debug, Clone)]
pub struct ByIndex<'a> {
    c: Cur<'a>,
    left: usize,
    command: Command,
}

#[cfg(feature = "update-management")]
impl<'a> ByIndex<'a> {
    /// The entries of `raw`, the [`Argument::Raw`] of `command`.
    pub fn new(command: Command, raw: &'a [u8]) -> Result<Self> {
        let mut c = Cur::new(raw, 0);
        let n = c.map().map_err(|_| invalid_argument(command))?;
        Ok(Self {
            c,
            left: count(n),
            command,
        })
    }

    /// The component index of the next entry; then read its value with
    /// [`ByIndex::parameters`] or [`ByIndex::keys`].
    pub fn next_index(&mut self) -> Option<Result<u64>> {
        self.left = self.left.checked_sub(1)?;
        Some(self.c.uint().map_err(|_| invalid_argument(self.command)))
    }

    /// The parameters of the entry whose index was read last (override-multiple).
    pub fn parameters(&mut self) -> Result<Parameters<'a>> {
        Parameters::decode(&mut self.c, Mode::Validate(1))
    }

    /// The parameter keys of the entry whose index was read last (copy-params).
    pub fn keys(&mut self) -> Result<impl Iterator<Item = i64> + use<'a>> {
        let invalid = |_| invalid_argument(self.command);
        let n = count(self.c.array().map_err(invalid)?);
        let start = self.c.position();
        for _ in 0..n {
            self.c.int().map_err(invalid)?;
        }
        let mut keys = self.c.items_since(start, n)?.cursor();
        Ok((0..n).map_while(move |_| keys.int().ok()))
    }
}

/// A malformed argument of `command`.
#[cfg(feature = "update-management")]
fn invalid_argument(command: Command) -> Error {
    Error::InvalidArgument {
        command: iot_core::Error::label(command.code()),
        offset: 0,
    }
}

impl Parameter<'_> {
    /// The parameter's key.
    pub fn key(&self) -> i64 {
        use param::*;
        match self {
            Self::VendorId(_) => VENDOR_IDENTIFIER,
            Self::ClassId(_) => CLASS_IDENTIFIER,
            Self::ImageDigest(_) => IMAGE_DIGEST,
            #[cfg(feature = "update-management")]
            Self::UseBefore(_) => USE_BEFORE,
            Self::ComponentSlot(_) => COMPONENT_SLOT,
            Self::StrictOrder(_) => STRICT_ORDER,
            Self::SoftFailure(_) => SOFT_FAILURE,
            Self::ImageSize(_) => IMAGE_SIZE,
            Self::Content(_) => CONTENT,
            Self::EncryptionInfo(_) => ENCRYPTION_INFO,
            Self::Uri(_) => URI,
            Self::SourceComponent(_) => SOURCE_COMPONENT,
            Self::InvokeArgs(_) => INVOKE_ARGS,
            Self::DeviceId(_) => DEVICE_IDENTIFIER,
            #[cfg(feature = "update-management")]
            Self::MinimumBattery(_) => MINIMUM_BATTERY,
            #[cfg(feature = "update-management")]
            Self::UpdatePriority(_) => UPDATE_PRIORITY,
            #[cfg(feature = "update-management")]
            Self::Version(_) => VERSION,
            #[cfg(feature = "update-management")]
            Self::WaitInfo(_) => WAIT_INFO,
            Self::Other { key, .. } => *key,
        }
    }
}

fn read_parameter<'a>(c: &mut Cur<'a>) -> Result<Parameter<'a>> {
    let key = c.int()?;
    let at = c.position();
    let invalid = |e: Error| match e {
        Error::Core(iot_core::Error::Cbor {
            kind: CborError::UnexpectedType | CborError::TrailingBytes,
            ..
        }) => Error::InvalidParameter {
            key: iot_core::Error::label(key),
            offset: at,
        },
        other => other,
    };
    read_value(c, key).map_err(invalid)
}

fn read_value<'a>(c: &mut Cur<'a>, key: i64) -> Result<Parameter<'a>> {
    use param::*;
    // One read per shape, then the variant by key: each read's error path is linked once.
    Ok(match key {
        VENDOR_IDENTIFIER | CLASS_IDENTIFIER | CONTENT | ENCRYPTION_INFO | INVOKE_ARGS
        | DEVICE_IDENTIFIER => {
            let b = c.bytes()?;
            match key {
                VENDOR_IDENTIFIER => Parameter::VendorId(b),
                CLASS_IDENTIFIER => Parameter::ClassId(b),
                CONTENT => Parameter::Content(b),
                ENCRYPTION_INFO => Parameter::EncryptionInfo(b),
                INVOKE_ARGS => Parameter::InvokeArgs(b),
                _ => Parameter::DeviceId(b),
            }
        }
        #[cfg(feature = "update-management")]
        WAIT_INFO => Parameter::WaitInfo(c.bytes()?),
        IMAGE_DIGEST => Parameter::ImageDigest(SuitDigest::decode_all(c.wrapped()?.cursor())?),
        COMPONENT_SLOT | IMAGE_SIZE | SOURCE_COMPONENT => {
            let v = c.uint()?;
            match key {
                COMPONENT_SLOT => Parameter::ComponentSlot(v),
                IMAGE_SIZE => Parameter::ImageSize(v),
                _ => Parameter::SourceComponent(v),
            }
        }
        #[cfg(feature = "update-management")]
        USE_BEFORE => Parameter::UseBefore(c.uint()?),
        #[cfg(feature = "update-management")]
        MINIMUM_BATTERY => Parameter::MinimumBattery(c.uint()?),
        STRICT_ORDER | SOFT_FAILURE => {
            let b = c.bool()?;
            if key == STRICT_ORDER {
                Parameter::StrictOrder(b)
            } else {
                Parameter::SoftFailure(b)
            }
        }
        URI => Parameter::Uri(c.str()?),
        #[cfg(feature = "update-management")]
        UPDATE_PRIORITY => Parameter::UpdatePriority(c.int()?),
        #[cfg(feature = "update-management")]
        VERSION => Parameter::Version(c.skip()?),
        key => Parameter::Other {
            key,
            value: c.skip()?,
        },
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::Command::{self, *};
    use std::vec::Vec;

    /// Every command code of draft-ietf-suit-manifest, -trust-domains and -update-management,
    /// written out here independently of [`super::CODES`].
    const SPEC: [(Command, i64); 30] = [
        (VendorIdentifier, 1),
        (ClassIdentifier, 2),
        (ImageMatch, 3),
        (UseBefore, 4),
        (ComponentSlot, 5),
        (CheckContent, 6),
        (DependencyIntegrity, 7),
        (IsDependency, 8),
        (ProcessDependency, 11),
        (SetComponentIndex, 12),
        (Abort, 14),
        (TryEach, 15),
        (Write, 18),
        (SetParameters, 19),
        (OverrideParameters, 20),
        (Fetch, 21),
        (Copy, 22),
        (Invoke, 23),
        (DeviceIdentifier, 24),
        (ImageNotMatch, 25),
        (MinimumBattery, 26),
        (UpdateAuthorized, 27),
        (Version, 28),
        (Wait, 29),
        (FetchUriList, 30),
        (Swap, 31),
        (RunSequence, 32),
        (Unlink, 33),
        (OverrideMultiple, 34),
        (CopyParams, 35),
    ];

    #[test]
    fn codes_map_both_ways() {
        for (command, code) in SPEC {
            assert_eq!(command.code(), code, "{command:?}");
            assert_eq!(Command::from_code(code), Some(command), "{code}");
        }
        for code in 0..=300 {
            let known = SPEC.iter().find(|(_, c)| *c == code).map(|(k, _)| *k);
            assert_eq!(Command::from_code(code), known, "{code}");
        }
        for code in [-1, -2, -36, -300, i64::from(i32::MIN) + 1] {
            assert_eq!(
                Command::from_code(code),
                Some(Custom(code as i32)),
                "{code}"
            );
            assert_eq!(Custom(code as i32).code(), code);
        }
        for code in [
            i64::from(i32::MIN),
            i64::from(i32::MIN) - 1,
            i64::MIN,
            i64::MAX,
            36,
        ] {
            assert_eq!(Command::from_code(code), None, "{code}");
        }
    }

    /// The names follow the commands' order: a few spot checks, and none for a custom one.
    #[test]
    fn names_follow_the_codes() {
        assert_eq!(ImageMatch.name(), Some("image-match"));
        assert_eq!(ProcessDependency.name(), Some("process-dependency"));
        assert_eq!(CopyParams.name(), Some("copy-params"));
        assert_eq!(Custom(-3).name(), None);
        let names: Vec<_> = SPEC.iter().filter_map(|(c, _)| c.name()).collect();
        assert_eq!(names.len(), SPEC.len());
        assert!(names.iter().all(|n| !n.is_empty()));
    }

    /// override-multiple's and copy-params' arguments, entry by entry, and the malformed ones.
    #[cfg(feature = "update-management")]
    #[test]
    fn by_index_reads_both_arguments() {
        use super::{ByIndex, Parameter};
        use crate::Error;
        use std::vec;
        // {0: {14: 5}, 1: {21: "u"}}
        let om = [0xa2, 0x00, 0xa1, 0x0e, 0x05, 0x01, 0xa1, 0x15, 0x61, b'u'];
        let mut e = ByIndex::new(OverrideMultiple, &om).unwrap();
        let mut seen = Vec::new();
        while let Some(i) = e.next_index() {
            let ps = e.parameters().unwrap();
            seen.push((i.unwrap(), ps.iter().collect::<Vec<_>>()));
        }
        assert_eq!(
            seen,
            [
                (0, vec![Parameter::ImageSize(5)]),
                (1, vec![Parameter::Uri("u")])
            ]
        );
        // {2: [3, 21]}
        let cp = [0xa1, 0x02, 0x82, 0x03, 0x15];
        let mut e = ByIndex::new(CopyParams, &cp).unwrap();
        assert_eq!(e.next_index(), Some(Ok(2)));
        assert_eq!(e.keys().unwrap().collect::<Vec<_>>(), [3, 21]);
        assert_eq!(e.next_index(), None);

        let invalid = |c: Command| Error::InvalidArgument {
            command: iot_core::Error::label(c.code()),
            offset: 0,
        };
        // Not a map; a text index; a text key.
        assert_eq!(
            ByIndex::new(CopyParams, &[0x80]).unwrap_err(),
            invalid(CopyParams)
        );
        let mut e = ByIndex::new(OverrideMultiple, &[0xa1, 0x61, b'x', 0xa0]).unwrap();
        assert_eq!(e.next_index(), Some(Err(invalid(OverrideMultiple))));
        let mut e = ByIndex::new(CopyParams, &[0xa1, 0x00, 0x81, 0x61, b'x']).unwrap();
        assert_eq!(e.next_index(), Some(Ok(0)));
        assert!(matches!(e.keys(), Err(err) if err == invalid(CopyParams)));
        // A parameter of the wrong type fails as in any SUIT_Parameters: {0: {14: "x"}}.
        let mut e = ByIndex::new(OverrideMultiple, &[0xa1, 0x00, 0xa1, 0x0e, 0x61, b'x']).unwrap();
        assert_eq!(e.next_index(), Some(Ok(0)));
        assert!(e.parameters().is_err());
    }
}
