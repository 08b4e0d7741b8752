//! The value types of the CWT (RFC 8392, RFC 8747) and EAT (RFC 9711) claims, and of the PSA
//! software component (RFC 9783 section 4.4.1), each with its CBOR codec.

use crate::error::{Error, Result};
use crate::label::Label;
use crate::seq::{Ctx, Item, Seq};
use crate::util::{bytes_sized, enc, float, invalid, mismatch, number, write_float, write_raw};
use iot_core::CborError;
use iot_core::cbor::{Reader, is_float, is_int};
use iot_core::cose::CoseKey;
use minicbor::data::Type;
use minicbor::encode::{Encoder, Write};

/// A CWT `NumericDate` (RFC 8392 section 2): seconds since the epoch, an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumericDate {
    /// Whole seconds.
    Int(i64),
    /// Seconds with a fraction.
    Float(f64),
}

impl NumericDate {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let at = r.position();
        let ty = r.datatype()?;
        if is_int(ty) {
            Ok(Self::Int(r.int()?))
        } else if is_float(ty) {
            Ok(Self::Float(float(r)?))
        } else {
            Err(mismatch(at))
        }
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        match *self {
            Self::Int(i) => {
                e.i64(i).map_err(enc)?;
                Ok(())
            }
            Self::Float(f) => write_float(e, f),
        }
    }
}

/// The `aud` claim (RFC 8392 section 3.1.3): one audience or several.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Audience<'a> {
    /// A single string.
    One(&'a str),
    /// An array of strings.
    Many(Seq<'a, &'a str>),
}

impl<'a> Audience<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>, ctx: Ctx) -> Result<Self> {
        if r.datatype()? == Type::String {
            Ok(Self::One(r.str()?))
        } else {
            Ok(Self::Many(Seq::decode(r, ctx, 1)?))
        }
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        match self {
            Self::One(s) => {
                e.str(s).map_err(enc)?;
                Ok(())
            }
            Self::Many(list) => list.encode(e, 1),
        }
    }
}

/// Length bounds of one EAT nonce in CBOR (RFC 9711 section 4.1).
const NONCE_LEN: core::ops::RangeInclusive<usize> = 8..=64;

/// The `eat_nonce` claim (RFC 9711 section 4.1): one nonce of 8 to 64 bytes, or two or more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonce<'a> {
    /// One nonce.
    One(&'a [u8]),
    /// Several nonces (two or more).
    Many(Seq<'a, &'a [u8]>),
}

impl<'a> Nonce<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>, ctx: Ctx) -> Result<Self> {
        let at = r.position();
        if r.datatype()? == Type::Bytes {
            return Ok(Self::One(bytes_sized(r, NONCE_LEN)?));
        }
        let list: Seq<'a, &'a [u8]> = Seq::decode(r, ctx, 2)?;
        if list.iter().any(|n| !NONCE_LEN.contains(&n.len())) {
            return Err(invalid(at));
        }
        Ok(Self::Many(list))
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        match self {
            Self::One(n) => {
                if !NONCE_LEN.contains(&n.len()) {
                    return Err(invalid(0));
                }
                e.bytes(n).map_err(enc)?;
                Ok(())
            }
            Self::Many(list) => {
                if list.iter().any(|n| !NONCE_LEN.contains(&n.len())) {
                    return Err(invalid(0));
                }
                list.encode(e, 2)
            }
        }
    }

    /// The single nonce, or `None` when several are given.
    pub fn single(&self) -> Option<&'a [u8]> {
        match self {
            Self::One(n) => Some(n),
            Self::Many(_) => None,
        }
    }

    /// Whether `nonce` is (one of) the nonce(s).
    pub fn contains(&self, nonce: &[u8]) -> bool {
        match self {
            Self::One(n) => *n == nonce,
            Self::Many(list) => list.iter().any(|n| n == nonce),
        }
    }
}

/// The `cnf` claim (RFC 8747 section 3.1): the one proof-of-possession key of the token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Confirmation<'a> {
    /// `COSE_Key` (1): the key itself.
    Key(CoseKey<'a>),
    /// `Encrypted_COSE_Key` (2): a COSE_Encrypt0 or COSE_Encrypt, as its encoded item.
    EncryptedKey(&'a [u8]),
    /// `kid` (3): the key's identifier.
    Kid(&'a [u8]),
    /// Another confirmation method: its label and encoded value.
    Other {
        /// The confirmation method's label.
        method: i64,
        /// The encoded value.
        value: &'a [u8],
    },
}

impl<'a> Confirmation<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self> {
        let at = r.position();
        // RFC 8747 section 3.1: exactly one key per cnf.
        if r.map()? != 1 {
            return Err(invalid(at));
        }
        let method_at = r.position();
        let method = r.int()?;
        Ok(match method {
            1 => Self::Key(CoseKey::decode_from(r).map_err(|e| match e {
                iot_core::Error::Cbor { .. } => Error::Core(e),
                _ => invalid(method_at),
            })?),
            2 => {
                let ty = r.datatype()?;
                let value = r.skip()?;
                if !matches!(ty, Type::Array | Type::Tag) {
                    return Err(invalid(method_at));
                }
                Self::EncryptedKey(value)
            }
            3 => Self::Kid(r.bytes()?),
            method => Self::Other {
                method,
                value: r.skip()?,
            },
        })
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.map(1).map_err(enc)?;
        match self {
            Self::Key(k) => {
                e.u8(1).map_err(enc)?;
                k.encode(e).map_err(enc)?;
            }
            Self::EncryptedKey(raw) => {
                e.u8(2).map_err(enc)?;
                write_raw(e, raw)?;
            }
            Self::Kid(kid) => {
                e.u8(3).map_err(enc)?.bytes(kid).map_err(enc)?;
            }
            Self::Other { method, value } => {
                e.i64(*method).map_err(enc)?;
                write_raw(e, value)?;
            }
        }
        Ok(())
    }
}

/// The `oemid` claim (RFC 9711 section 4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OemId<'a> {
    /// A random 16-byte manufacturer id.
    Random(&'a [u8]),
    /// An IEEE OUI, CID or MA-L: 3 bytes.
    Ieee(&'a [u8]),
    /// An IANA Private Enterprise Number.
    Pen(u64),
}

impl<'a> OemId<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self> {
        let at = r.position();
        if is_int(r.datatype()?) {
            return Ok(Self::Pen(r.uint().map_err(|_| invalid(at))?));
        }
        let b = r.bytes()?;
        match b.len() {
            16 => Ok(Self::Random(b)),
            3 => Ok(Self::Ieee(b)),
            _ => Err(invalid(at)),
        }
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        match *self {
            Self::Random(b) if b.len() == 16 => e.bytes(b).map_err(enc)?,
            Self::Ieee(b) if b.len() == 3 => e.bytes(b).map_err(enc)?,
            Self::Pen(p) => e.u64(p).map_err(enc)?,
            _ => return Err(invalid(0)),
        };
        Ok(())
    }
}

/// `hwversion` and `swversion` (RFC 9711 sections 4.2.5 and 4.2.7): a version string and,
/// optionally, its CoSWID version scheme (RFC 9393 section 4.1: 1 multipartnumeric,
/// 2 multipartnumeric+suffix, 3 alphanumeric, 4 decimal, 16384 semver, or a text name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    /// The version.
    pub version: &'a str,
    /// Its version scheme.
    pub scheme: Option<Label<'a>>,
}

impl<'a> Version<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self> {
        let at = r.position();
        let n = r.array()?;
        if !(1..=2).contains(&n) {
            return Err(invalid(at));
        }
        let version = r.str()?;
        let scheme = if n == 2 {
            Some(Label::decode(r)?)
        } else {
            None
        };
        Ok(Self { version, scheme })
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.array(1 + u64::from(self.scheme.is_some()))
            .map_err(enc)?
            .str(self.version)
            .map_err(enc)?;
        if let Some(s) = &self.scheme {
            s.encode(e)?;
        }
        Ok(())
    }
}

/// The `dbgstat` claim (RFC 9711 section 4.2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DebugStatus {
    /// Debug is enabled.
    Enabled = 0,
    /// Debug is disabled now.
    Disabled = 1,
    /// Debug has been disabled since boot.
    DisabledSinceBoot = 2,
    /// Debug is permanently disabled (possibly not for the manufacturer).
    DisabledPermanently = 3,
    /// Debug is permanently disabled for everyone, this module and its submodules.
    DisabledFullyAndPermanently = 4,
}

impl DebugStatus {
    /// The status with the given claim value.
    pub const fn from_value(v: u64) -> Option<Self> {
        Some(match v {
            0 => Self::Enabled,
            1 => Self::Disabled,
            2 => Self::DisabledSinceBoot,
            3 => Self::DisabledPermanently,
            4 => Self::DisabledFullyAndPermanently,
            _ => return None,
        })
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let at = r.position();
        Self::from_value(r.uint().map_err(|_| invalid(at))?).ok_or(invalid(at))
    }
}

/// The `location` claim (RFC 9711 section 4.2.10); numbers are kept as `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Location {
    /// Latitude (1), degrees.
    pub latitude: f64,
    /// Longitude (2), degrees.
    pub longitude: f64,
    /// Altitude (3), meters.
    pub altitude: Option<f64>,
    /// Accuracy (4), meters.
    pub accuracy: Option<f64>,
    /// Altitude accuracy (5), meters.
    pub altitude_accuracy: Option<f64>,
    /// Heading (6), degrees from north.
    pub heading: Option<f64>,
    /// Speed (7), meters per second.
    pub speed: Option<f64>,
    /// Time the location was determined (8), epoch seconds.
    pub timestamp: Option<i64>,
    /// Age of the location when the token was made (9), seconds.
    pub age: Option<u64>,
}

impl Location {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let map_at = r.position();
        let n = r.map()?;
        let mut loc = Self::default();
        let mut seen = 0u16;
        for _ in 0..n {
            let at = r.position();
            let key = Label::decode(r)?;
            let Label::Int(k @ 1..=9) = key else {
                // Keys of other location fields are not defined for CBOR: skipped.
                r.skip()?;
                continue;
            };
            let bit = 1u16 << k;
            if seen & bit != 0 {
                return Err(Error::Core(iot_core::Error::cbor(
                    CborError::DuplicateKey,
                    at,
                )));
            }
            seen |= bit;
            match k {
                1 => loc.latitude = number(r)?,
                2 => loc.longitude = number(r)?,
                3 => loc.altitude = Some(number(r)?),
                4 => loc.accuracy = Some(number(r)?),
                5 => loc.altitude_accuracy = Some(number(r)?),
                6 => loc.heading = Some(number(r)?),
                7 => loc.speed = Some(number(r)?),
                8 => loc.timestamp = Some(r.int()?),
                _ => {
                    let at = r.position();
                    loc.age = Some(r.uint().map_err(|_| invalid(at))?);
                }
            }
        }
        if seen & 0b110 != 0b110 {
            // Latitude and longitude are mandatory.
            return Err(invalid(map_at));
        }
        Ok(loc)
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        let optional = [
            self.altitude,
            self.accuracy,
            self.altitude_accuracy,
            self.heading,
            self.speed,
        ];
        let n = 2
            + optional.iter().filter(|v| v.is_some()).count() as u64
            + u64::from(self.timestamp.is_some())
            + u64::from(self.age.is_some());
        e.map(n).map_err(enc)?.u8(1).map_err(enc)?;
        write_float(e, self.latitude)?;
        e.u8(2).map_err(enc)?;
        write_float(e, self.longitude)?;
        for (k, v) in (3u8..).zip(optional) {
            if let Some(v) = v {
                e.u8(k).map_err(enc)?;
                write_float(e, v)?;
            }
        }
        if let Some(t) = self.timestamp {
            e.u8(8).map_err(enc)?.i64(t).map_err(enc)?;
        }
        if let Some(a) = self.age {
            e.u8(9).map_err(enc)?.u64(a).map_err(enc)?;
        }
        Ok(())
    }
}

/// The `eat_profile` claim (RFC 9711 section 4.3.2): a URI or an OID (its BER content bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile<'a> {
    /// A URI (or, in legacy PSA tokens, the profile name).
    Uri(&'a str),
    /// An OID, unwrapped (no tag 111).
    Oid(&'a [u8]),
}

impl<'a> Profile<'a> {
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<Self> {
        let at = r.position();
        // Tags 32 (URI) and 111 (OID) are tolerated, though EAT sends both unwrapped.
        let tag = r.opt_tag()?;
        match (tag, r.datatype()?) {
            (None | Some(32), Type::String) => Ok(Self::Uri(r.str()?)),
            (None | Some(111), Type::Bytes) => Ok(Self::Oid(r.bytes()?)),
            _ => Err(mismatch(at)),
        }
    }

    pub(crate) fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        match *self {
            Self::Uri(u) => e.str(u).map_err(enc)?,
            Self::Oid(o) => e.bytes(o).map_err(enc)?,
        };
        Ok(())
    }
}

/// One entry of the `dloas` claim (RFC 9711 section 4.2.14): a certification or conformance
/// document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dloa<'a> {
    /// The registrar's URI.
    pub registrar: &'a str,
    /// The platform label.
    pub platform_label: &'a str,
    /// The application label.
    pub application_label: Option<&'a str>,
}

impl<'a> Item<'a> for Dloa<'a> {
    fn decode(r: &mut Reader<'a>, _: Ctx) -> Result<Self> {
        let at = r.position();
        let n = r.array()?;
        if !(2..=3).contains(&n) {
            return Err(invalid(at));
        }
        Ok(Self {
            registrar: r.str()?,
            platform_label: r.str()?,
            application_label: if n == 3 { Some(r.str()?) } else { None },
        })
    }

    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.array(2 + u64::from(self.application_label.is_some()))
            .map_err(enc)?
            .str(self.registrar)
            .map_err(enc)?
            .str(self.platform_label)
            .map_err(enc)?;
        if let Some(a) = self.application_label {
            e.str(a).map_err(enc)?;
        }
        Ok(())
    }
}

/// One entry of the `manifests` or `measurements` claim (RFC 9711 sections 4.2.15 and 4.2.16):
/// a CoAP Content-Format number and the byte-string-wrapped content (a CoSWID, a SUIT
/// envelope or manifest digest, a CoRIM...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedContent<'a> {
    /// The CoAP Content-Format of `content` (0 to 65535).
    pub content_format: u16,
    /// The content.
    pub content: &'a [u8],
}

impl<'a> Item<'a> for TypedContent<'a> {
    fn decode(r: &mut Reader<'a>, _: Ctx) -> Result<Self> {
        r.array_of(2)?;
        let at = r.position();
        let content_format = u16::try_from(r.uint()?).map_err(|_| invalid(at))?;
        Ok(Self {
            content_format,
            content: r.bytes()?,
        })
    }

    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.array(2)
            .map_err(enc)?
            .u16(self.content_format)
            .map_err(enc)?
            .bytes(self.content)
            .map_err(enc)?;
        Ok(())
    }
}

/// The outcome of one comparison in the `measres` claim (RFC 9711 section 4.2.17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeasResult {
    /// comparison-successful (1)
    Success = 1,
    /// comparison-fail (2)
    Fail = 2,
    /// comparison-not-run (3)
    NotRun = 3,
    /// measurement-absent (4)
    Absent = 4,
}

/// The identifier of one measurement result: text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultId<'a> {
    /// A text id.
    Text(&'a str),
    /// A binary id.
    Bytes(&'a [u8]),
}

/// One result of a `measres` group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndividualResult<'a> {
    /// What was measured.
    pub id: ResultId<'a>,
    /// The outcome.
    pub result: MeasResult,
}

impl<'a> Item<'a> for IndividualResult<'a> {
    fn decode(r: &mut Reader<'a>, _: Ctx) -> Result<Self> {
        r.array_of(2)?;
        let id = match r.datatype()? {
            Type::String => ResultId::Text(r.str()?),
            _ => ResultId::Bytes(r.bytes()?),
        };
        let at = r.position();
        let result = match r.uint().map_err(|_| invalid(at))? {
            1 => MeasResult::Success,
            2 => MeasResult::Fail,
            3 => MeasResult::NotRun,
            4 => MeasResult::Absent,
            _ => return Err(invalid(at)),
        };
        Ok(Self { id, result })
    }

    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.array(2).map_err(enc)?;
        match self.id {
            ResultId::Text(t) => e.str(t).map_err(enc)?,
            ResultId::Bytes(b) => e.bytes(b).map_err(enc)?,
        };
        e.u8(self.result as u8).map_err(enc)?;
        Ok(())
    }
}

/// One group of the `measres` claim: the measurement system and its results (one or more).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasResGroup<'a> {
    /// The system that made the comparisons.
    pub system: &'a str,
    /// Its results.
    pub results: Seq<'a, IndividualResult<'a>>,
}

impl<'a> Item<'a> for MeasResGroup<'a> {
    fn decode(r: &mut Reader<'a>, ctx: Ctx) -> Result<Self> {
        r.array_of(2)?;
        Ok(Self {
            system: r.str()?,
            results: Seq::decode(r, ctx, 1)?,
        })
    }

    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.array(2).map_err(enc)?.str(self.system).map_err(enc)?;
        self.results.encode(e, 1)
    }
}

/// The `intuse` claim (RFC 9711 section 4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntendedUse {
    /// generic (1)
    Generic = 1,
    /// registration (2)
    Registration = 2,
    /// provisioning (3)
    Provisioning = 3,
    /// certificate issuance (4)
    Csr = 4,
    /// proof of possession (5)
    Pop = 5,
}

impl IntendedUse {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let at = r.position();
        Ok(match r.uint().map_err(|_| invalid(at))? {
            1 => Self::Generic,
            2 => Self::Registration,
            3 => Self::Provisioning,
            4 => Self::Csr,
            5 => Self::Pop,
            _ => return Err(invalid(at)),
        })
    }
}

/// Length bounds of a UEID (RFC 9711 section 4.2.1).
pub(crate) const UEID_LEN: core::ops::RangeInclusive<usize> = 7..=33;

/// One entry of the `sueids` claim (RFC 9711 section 4.2.2): a name and a UEID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sueid<'a> {
    /// The name of the semi-permanent UEID.
    pub name: &'a str,
    /// The UEID (7 to 33 bytes).
    pub ueid: &'a [u8],
}

impl<'a> Item<'a> for Sueid<'a> {
    const PAIR: bool = true;
    fn decode(r: &mut Reader<'a>, _: Ctx) -> Result<Self> {
        Ok(Self {
            name: r.str()?,
            ueid: bytes_sized(r, UEID_LEN)?,
        })
    }

    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        if !UEID_LEN.contains(&self.ueid.len()) {
            return Err(invalid(0));
        }
        e.str(self.name)
            .map_err(enc)?
            .bytes(self.ueid)
            .map_err(enc)?;
        Ok(())
    }

    fn label(&self) -> Label<'a> {
        Label::Text(self.name)
    }
}

/// A PSA software component (RFC 9783 section 4.4.1). The decoder requires only the types;
/// [`crate::psa::validate`] checks presence and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwComponent<'a> {
    /// Measurement type (1): the component's role ("BL", "PRoT", "ARoT", "App", "TS").
    pub measurement_type: Option<&'a str>,
    /// Measurement value (2): a hash of the component.
    pub measurement_value: Option<&'a [u8]>,
    /// Version (4).
    pub version: Option<&'a str>,
    /// Signer ID (5): a hash of the signing authority's public key.
    pub signer_id: Option<&'a [u8]>,
    /// Measurement description (6): how the measurement was made.
    pub measurement_desc: Option<&'a str>,
}

impl<'a> Item<'a> for SwComponent<'a> {
    fn decode(r: &mut Reader<'a>, _: Ctx) -> Result<Self> {
        let n = r.map()?;
        let mut c = Self::default();
        let mut seen = 0u8;
        for _ in 0..n {
            let at = r.position();
            let key = Label::decode(r)?;
            let Label::Int(k @ (1 | 2 | 4 | 5 | 6)) = key else {
                r.skip()?;
                continue;
            };
            let bit = 1u8 << k;
            if seen & bit != 0 {
                return Err(Error::Core(iot_core::Error::cbor(
                    CborError::DuplicateKey,
                    at,
                )));
            }
            seen |= bit;
            match k {
                1 => c.measurement_type = Some(r.str()?),
                2 => c.measurement_value = Some(r.bytes()?),
                4 => c.version = Some(r.str()?),
                5 => c.signer_id = Some(r.bytes()?),
                _ => c.measurement_desc = Some(r.str()?),
            }
        }
        Ok(c)
    }

    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        let n = [
            self.measurement_type.is_some(),
            self.measurement_value.is_some(),
            self.version.is_some(),
            self.signer_id.is_some(),
            self.measurement_desc.is_some(),
        ]
        .iter()
        .filter(|p| **p)
        .count();
        e.map(n as u64).map_err(enc)?;
        if let Some(t) = self.measurement_type {
            e.u8(1).map_err(enc)?.str(t).map_err(enc)?;
        }
        if let Some(v) = self.measurement_value {
            e.u8(2).map_err(enc)?.bytes(v).map_err(enc)?;
        }
        if let Some(v) = self.version {
            e.u8(4).map_err(enc)?.str(v).map_err(enc)?;
        }
        if let Some(s) = self.signer_id {
            e.u8(5).map_err(enc)?.bytes(s).map_err(enc)?;
        }
        if let Some(d) = self.measurement_desc {
            e.u8(6).map_err(enc)?.str(d).map_err(enc)?;
        }
        Ok(())
    }
}
