//! One claim: its value decoded by key, and encoded back.

use crate::error::Result;
use crate::key;
use crate::seq::{Ctx, Seq};
use crate::submod::Submod;
use crate::util::{bytes_sized, enc, invalid, write_raw};
use crate::value::{
    Audience, Confirmation, DebugStatus, Dloa, IntendedUse, Location, MeasResGroup, Nonce,
    NumericDate, OemId, Profile, Sueid, SwComponent, TypedContent, UEID_LEN, Version,
};
use iot_core::cbor::Reader;
use minicbor::encode::{Encoder, Write};

/// Length bounds of `hwmodel` (RFC 9711 section 4.2.4).
const HWMODEL_LEN: core::ops::RangeInclusive<usize> = 1..=32;

/// One claim of a claims-set, borrowing from the input (or from the caller, to encode).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Claim<'a> {
    /// `iss` (1)
    Iss(&'a str),
    /// `sub` (2)
    Sub(&'a str),
    /// `aud` (3)
    Aud(Audience<'a>),
    /// `exp` (4)
    Exp(NumericDate),
    /// `nbf` (5)
    Nbf(NumericDate),
    /// `iat` (6)
    Iat(NumericDate),
    /// `cti` (7)
    Cti(&'a [u8]),
    /// `cnf` (8)
    Cnf(Confirmation<'a>),
    /// `eat_nonce` (10)
    Nonce(Nonce<'a>),
    /// `ueid` (256): 7 to 33 bytes.
    Ueid(&'a [u8]),
    /// `sueids` (257): one or more.
    Sueids(Seq<'a, Sueid<'a>>),
    /// `oemid` (258)
    OemId(OemId<'a>),
    /// `hwmodel` (259): 1 to 32 bytes.
    HwModel(&'a [u8]),
    /// `hwversion` (260)
    HwVersion(Version<'a>),
    /// `uptime` (261): seconds since boot.
    Uptime(u64),
    /// `oemboot` (262)
    OemBoot(bool),
    /// `dbgstat` (263)
    DbgStat(DebugStatus),
    /// `location` (264)
    Location(Location),
    /// `eat_profile` (265)
    Profile(Profile<'a>),
    /// `submods` (266): one or more.
    Submods(Seq<'a, Submod<'a>>),
    /// `bootcount` (267)
    BootCount(u64),
    /// `bootseed` (268)
    BootSeed(&'a [u8]),
    /// `dloas` (269): one or more.
    Dloas(Seq<'a, Dloa<'a>>),
    /// `swname` (270)
    SwName(&'a str),
    /// `swversion` (271)
    SwVersion(Version<'a>),
    /// `manifests` (272): one or more.
    Manifests(Seq<'a, TypedContent<'a>>),
    /// `measurements` (273): one or more.
    Measurements(Seq<'a, TypedContent<'a>>),
    /// `measres` (274): one or more groups.
    MeasRes(Seq<'a, MeasResGroup<'a>>),
    /// `intuse` (275)
    IntUse(IntendedUse),
    /// `psa-client-id` (2394)
    PsaClientId(i64),
    /// `psa-security-lifecycle` (2395)
    PsaLifecycle(u64),
    /// `psa-implementation-id` (2396)
    PsaImplementationId(&'a [u8]),
    /// `psa-certification-reference` (2398)
    PsaCertificationReference(&'a str),
    /// `psa-software-components` (2399)
    PsaSoftwareComponents(Seq<'a, SwComponent<'a>>),
    /// `psa-verification-service-indicator` (2400)
    PsaVsi(&'a str),
    /// `arm_psa_no_sw_measurements` (-75007, legacy PSA)
    PsaNoSwMeasurements(u64),
    /// A claim this crate does not model: its encoded value.
    Unknown(&'a [u8]),
}

impl<'a> Claim<'a> {
    /// Decodes the value of the claim with canonical key `key` (see [`crate::key`]), or keeps it
    /// raw as [`Claim::Unknown`] for an unmodelled key.
    pub(crate) fn decode(r: &mut Reader<'a>, key: Option<i64>, ctx: Ctx) -> Result<Self> {
        let Some(key) = key else {
            return Ok(Self::Unknown(r.skip()?));
        };
        Self::decode_known(r, key, ctx).map_err(|e| e.in_claim(key))
    }

    fn decode_known(r: &mut Reader<'a>, key: i64, ctx: Ctx) -> Result<Self> {
        let at = r.position();
        let uint = |r: &mut Reader<'a>| r.uint().map_err(|_| invalid(at));
        Ok(match key {
            key::ISS => Self::Iss(r.str()?),
            key::SUB => Self::Sub(r.str()?),
            key::AUD => Self::Aud(Audience::decode(r, ctx)?),
            key::EXP => Self::Exp(NumericDate::decode(r)?),
            key::NBF => Self::Nbf(NumericDate::decode(r)?),
            key::IAT => Self::Iat(NumericDate::decode(r)?),
            key::CTI => Self::Cti(r.bytes()?),
            key::CNF => Self::Cnf(Confirmation::decode(r)?),
            key::NONCE => Self::Nonce(Nonce::decode(r, ctx)?),
            key::UEID => Self::Ueid(bytes_sized(r, UEID_LEN)?),
            key::SUEIDS => Self::Sueids(Seq::decode(r, ctx, 1)?),
            key::OEMID => Self::OemId(OemId::decode(r)?),
            key::HWMODEL => Self::HwModel(bytes_sized(r, HWMODEL_LEN)?),
            key::HWVERSION => Self::HwVersion(Version::decode(r)?),
            key::UPTIME => Self::Uptime(uint(r)?),
            key::OEMBOOT => Self::OemBoot(r.bool()?),
            key::DBGSTAT => Self::DbgStat(DebugStatus::decode(r)?),
            key::LOCATION => Self::Location(Location::decode(r)?),
            key::PROFILE => Self::Profile(Profile::decode(r)?),
            key::SUBMODS => Self::Submods(Seq::decode(r, ctx, 1)?),
            key::BOOTCOUNT => Self::BootCount(uint(r)?),
            key::BOOTSEED => Self::BootSeed(r.bytes()?),
            key::DLOAS => Self::Dloas(Seq::decode(r, ctx, 1)?),
            key::SWNAME => Self::SwName(r.str()?),
            key::SWVERSION => Self::SwVersion(Version::decode(r)?),
            key::MANIFESTS => Self::Manifests(Seq::decode(r, ctx, 1)?),
            key::MEASUREMENTS => Self::Measurements(Seq::decode(r, ctx, 1)?),
            key::MEASRES => Self::MeasRes(Seq::decode(r, ctx, 1)?),
            key::INTUSE => Self::IntUse(IntendedUse::decode(r)?),
            key::PSA_CLIENT_ID => Self::PsaClientId(r.int()?),
            key::PSA_LIFECYCLE => Self::PsaLifecycle(uint(r)?),
            key::PSA_IMPLEMENTATION_ID => Self::PsaImplementationId(r.bytes()?),
            key::PSA_CERTIFICATION_REFERENCE => Self::PsaCertificationReference(r.str()?),
            key::PSA_SOFTWARE_COMPONENTS => Self::PsaSoftwareComponents(Seq::decode(r, ctx, 0)?),
            key::PSA_VSI => Self::PsaVsi(r.str()?),
            key::legacy::NO_SW_MEASUREMENTS => Self::PsaNoSwMeasurements(uint(r)?),
            _ => Self::Unknown(r.skip()?),
        })
    }

    /// The canonical key of the claim; `None` for [`Claim::Unknown`].
    pub fn key(&self) -> Option<i64> {
        Some(match self {
            Self::Iss(_) => key::ISS,
            Self::Sub(_) => key::SUB,
            Self::Aud(_) => key::AUD,
            Self::Exp(_) => key::EXP,
            Self::Nbf(_) => key::NBF,
            Self::Iat(_) => key::IAT,
            Self::Cti(_) => key::CTI,
            Self::Cnf(_) => key::CNF,
            Self::Nonce(_) => key::NONCE,
            Self::Ueid(_) => key::UEID,
            Self::Sueids(_) => key::SUEIDS,
            Self::OemId(_) => key::OEMID,
            Self::HwModel(_) => key::HWMODEL,
            Self::HwVersion(_) => key::HWVERSION,
            Self::Uptime(_) => key::UPTIME,
            Self::OemBoot(_) => key::OEMBOOT,
            Self::DbgStat(_) => key::DBGSTAT,
            Self::Location(_) => key::LOCATION,
            Self::Profile(_) => key::PROFILE,
            Self::Submods(_) => key::SUBMODS,
            Self::BootCount(_) => key::BOOTCOUNT,
            Self::BootSeed(_) => key::BOOTSEED,
            Self::Dloas(_) => key::DLOAS,
            Self::SwName(_) => key::SWNAME,
            Self::SwVersion(_) => key::SWVERSION,
            Self::Manifests(_) => key::MANIFESTS,
            Self::Measurements(_) => key::MEASUREMENTS,
            Self::MeasRes(_) => key::MEASRES,
            Self::IntUse(_) => key::INTUSE,
            Self::PsaClientId(_) => key::PSA_CLIENT_ID,
            Self::PsaLifecycle(_) => key::PSA_LIFECYCLE,
            Self::PsaImplementationId(_) => key::PSA_IMPLEMENTATION_ID,
            Self::PsaCertificationReference(_) => key::PSA_CERTIFICATION_REFERENCE,
            Self::PsaSoftwareComponents(_) => key::PSA_SOFTWARE_COMPONENTS,
            Self::PsaVsi(_) => key::PSA_VSI,
            Self::PsaNoSwMeasurements(_) => key::legacy::NO_SW_MEASUREMENTS,
            Self::Unknown(_) => return None,
        })
    }

    /// Encodes the value (not the key) with preferred serialization; refuses a value its
    /// definition does not allow with [`crate::Error::InvalidClaim`].
    pub fn encode_value<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        let key = self.key().unwrap_or(crate::error::NO_KEY);
        self.encode_inner(e).map_err(|err| err.in_claim(key))
    }

    fn encode_inner<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        let sized = |b: &[u8], len: core::ops::RangeInclusive<usize>| {
            if len.contains(&b.len()) {
                Ok(())
            } else {
                Err(invalid(0))
            }
        };
        match self {
            Self::Iss(s) | Self::Sub(s) | Self::SwName(s) => {
                e.str(s).map_err(enc)?;
            }
            Self::PsaCertificationReference(s) | Self::PsaVsi(s) => {
                e.str(s).map_err(enc)?;
            }
            Self::Aud(a) => a.encode(e)?,
            Self::Exp(t) | Self::Nbf(t) | Self::Iat(t) => t.encode(e)?,
            Self::Cti(b) | Self::BootSeed(b) | Self::PsaImplementationId(b) => {
                e.bytes(b).map_err(enc)?;
            }
            Self::Cnf(c) => c.encode(e)?,
            Self::Nonce(n) => n.encode(e)?,
            Self::Ueid(b) => {
                sized(b, UEID_LEN)?;
                e.bytes(b).map_err(enc)?;
            }
            Self::Sueids(s) => s.encode(e, 1)?,
            Self::OemId(o) => o.encode(e)?,
            Self::HwModel(b) => {
                sized(b, HWMODEL_LEN)?;
                e.bytes(b).map_err(enc)?;
            }
            Self::HwVersion(v) | Self::SwVersion(v) => v.encode(e)?,
            Self::Uptime(n)
            | Self::BootCount(n)
            | Self::PsaLifecycle(n)
            | Self::PsaNoSwMeasurements(n) => {
                e.u64(*n).map_err(enc)?;
            }
            Self::OemBoot(b) => {
                e.bool(*b).map_err(enc)?;
            }
            Self::DbgStat(d) => {
                e.u8(*d as u8).map_err(enc)?;
            }
            Self::Location(l) => l.encode(e)?,
            Self::Profile(p) => p.encode(e)?,
            Self::Submods(s) => s.encode(e, 1)?,
            Self::Dloas(s) => s.encode(e, 1)?,
            Self::Manifests(s) | Self::Measurements(s) => s.encode(e, 1)?,
            Self::MeasRes(s) => s.encode(e, 1)?,
            Self::IntUse(u) => {
                e.u8(*u as u8).map_err(enc)?;
            }
            Self::PsaClientId(i) => {
                e.i64(*i).map_err(enc)?;
            }
            Self::PsaSoftwareComponents(s) => s.encode(e, 0)?,
            Self::Unknown(raw) => write_raw(e, raw)?,
        }
        Ok(())
    }
}
