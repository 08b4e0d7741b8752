//! A claims-set (RFC 8392 section 7.1, RFC 9711 section 4): a streaming decoder over its
//! entries ([`ClaimsIter`]), the whole set as one struct ([`Claims`]), and its encoder.

use crate::claim::Claim;
use crate::error::{Error, Result};
use crate::key::{self, KNOWN, canonical, is_legacy, slot};
use crate::label::Label;
use crate::seq::Ctx;
use crate::util::{check_item, enc, invalid, relaxed, write_raw};
use crate::value::{
    Audience, Confirmation, DebugStatus, Dloa, IntendedUse, Location, MeasResGroup, Nonce,
    NumericDate, OemId, Profile, Sueid, SwComponent, TypedContent, Version,
};
use crate::{Seq, Submod};
use iot_core::CborError;
use iot_core::cbor::{Limits, Reader, SliceWriter};
use minicbor::encode::{Encoder, Write};

/// How many claims one claims-set may hold: the duplicate check on claims this crate does not
/// model is quadratic in this.
pub const MAX_CLAIMS: u64 = 64;

/// How deep submodules may nest (RFC 9711 section 4.2.18): a claims-set at depth
/// `MAX_SUBMOD_DEPTH` may not hold further claims-set submodules.
pub const MAX_SUBMOD_DEPTH: u8 = 4;

/// Decodes the next entry of the claims-set whose map head is at `map_at`: its key as received
/// and its claim. `seen` collects the modelled keys met so far, so that a claim given twice
/// (also under a legacy and a current key) is refused.
fn next_entry<'a>(
    r: &mut Reader<'a>,
    map_at: usize,
    seen: &mut u64,
    ctx: Ctx,
) -> Result<(Label<'a>, Claim<'a>)> {
    let key_at = r.position();
    let label = Label::decode(r)?;
    let known = label.int().and_then(canonical);
    match known.and_then(slot) {
        Some(bit) => {
            let bit = 1u64 << bit;
            if *seen & bit != 0 {
                return Err(duplicate(label, key_at));
            }
            *seen |= bit;
        }
        None => {
            if seen_before(r, map_at, key_at, label)? {
                return Err(duplicate(label, key_at));
            }
        }
    }
    let claim = Claim::decode(r, known, ctx)?;
    Ok((label, claim))
}

fn duplicate(label: Label<'_>, offset: usize) -> Error {
    Error::DuplicateClaim {
        key: label.int().unwrap_or(crate::error::NO_KEY),
        offset,
    }
}

/// Whether `label` is among the keys of the entries between `map_at` and `key_at`.
fn seen_before(r: &Reader<'_>, map_at: usize, key_at: usize, label: Label<'_>) -> Result<bool> {
    let earlier = r.input().get(map_at..key_at).unwrap_or_default();
    let mut e = Reader::with_limits(earlier, relaxed(r.limits()));
    e.map()?;
    while !e.is_empty() {
        if Label::decode(&mut e)? == label {
            return Ok(true);
        }
        e.skip()?;
    }
    Ok(false)
}

/// Reads a map head of at most [`MAX_CLAIMS`] entries at submodule depth `depth`.
fn open_set(r: &mut Reader<'_>, depth: u8) -> Result<u64> {
    let at = r.position();
    if depth > MAX_SUBMOD_DEPTH {
        return Err(iot_core::Error::cbor(CborError::TooDeep, at).into());
    }
    let n = r.map()?;
    if n > MAX_CLAIMS {
        return Err(iot_core::Error::CapacityExceeded.into());
    }
    Ok(n)
}

/// Validates one claims-set at `r` (a submodule at depth `ctx.depth`) and steps over it.
pub(crate) fn validate_set(r: &mut Reader<'_>, ctx: Ctx) -> Result<()> {
    let map_at = r.position();
    let n = open_set(r, ctx.depth)?;
    let mut seen = 0;
    for _ in 0..n {
        next_entry(r, map_at, &mut seen, ctx)?;
    }
    Ok(())
}

/// The entries of a claims-set, decoded one at a time: the key as received and the claim.
///
/// Keys are checked for duplicates (a legacy PSA key and its successor count as one), unknown
/// claims come as [`Claim::Unknown`], and after the last entry trailing bytes are an error.
#[derive(Debug, Clone)]
pub struct ClaimsIter<'a> {
    r: Reader<'a>,
    map_at: usize,
    remaining: u64,
    seen: u64,
    ctx: Ctx,
    done: bool,
}

impl<'a> ClaimsIter<'a> {
    /// Starts decoding the claims-set `input` (one map, nothing after it) with default [`Limits`].
    pub fn new(input: &'a [u8]) -> Result<Self> {
        Self::with_limits(input, Limits::default())
    }

    /// Starts decoding with the given limits.
    pub fn with_limits(input: &'a [u8], limits: Limits) -> Result<Self> {
        Self::at_depth(input, Ctx::top(limits))
    }

    fn at_depth(input: &'a [u8], ctx: Ctx) -> Result<Self> {
        let mut r = Reader::with_limits(input, ctx.limits);
        let remaining = open_set(&mut r, ctx.depth)?;
        Ok(Self {
            r,
            map_at: 0,
            remaining,
            seen: 0,
            ctx,
            done: false,
        })
    }
}

impl<'a> Iterator for ClaimsIter<'a> {
    type Item = Result<(Label<'a>, Claim<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.remaining == 0 {
            self.done = true;
            return self.r.finish().err().map(|e| Err(e.into()));
        }
        self.remaining -= 1;
        let entry = next_entry(&mut self.r, self.map_at, &mut self.seen, self.ctx);
        if entry.is_err() {
            self.done = true;
        }
        Some(entry)
    }
}

/// A claim this crate does not model, to encode as is: its key and its encoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawClaim<'a> {
    /// The claim key.
    pub key: Label<'a>,
    /// The value: exactly one encoded CBOR item.
    pub value: &'a [u8],
}

/// The claims of a claims-set that this crate does not model.
#[derive(Debug, Clone, Copy)]
pub enum Extra<'a> {
    /// Read from a decoded claims-set (the whole map as received).
    Decoded {
        /// The claims-set's encoded map.
        raw: &'a [u8],
        /// The limits it was decoded with.
        limits: Limits,
    },
    /// Given by the caller, to encode.
    Items(&'a [RawClaim<'a>]),
}

impl Default for Extra<'_> {
    fn default() -> Self {
        Self::Items(&[])
    }
}

impl<'a> Extra<'a> {
    /// The claims, in input (or slice) order.
    pub fn iter(&self) -> ExtraIter<'a> {
        match *self {
            Self::Decoded { raw, limits } => {
                let mut r = Reader::with_limits(raw, relaxed(limits));
                let remaining = r.map().unwrap_or(0);
                ExtraIter::Decoded { r, remaining }
            }
            Self::Items(items) => ExtraIter::Items(items.iter()),
        }
    }

    /// How many claims.
    pub fn len(&self) -> usize {
        match self {
            Self::Decoded { .. } => self.iter().count(),
            Self::Items(items) => items.len(),
        }
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Extra<'_> {
    /// Compares as sets: the order of the claims does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|a| other.iter().any(|b| a == b))
    }
}

/// Iterator over the unmodelled claims of an [`Extra`].
#[derive(Debug, Clone)]
pub enum ExtraIter<'a> {
    #[doc(hidden)]
    Decoded { r: Reader<'a>, remaining: u64 },
    #[doc(hidden)]
    Items(core::slice::Iter<'a, RawClaim<'a>>),
}

impl<'a> Iterator for ExtraIter<'a> {
    type Item = RawClaim<'a>;
    fn next(&mut self) -> Option<RawClaim<'a>> {
        match self {
            Self::Decoded { r, remaining } => {
                while *remaining > 0 {
                    *remaining -= 1;
                    // The map was validated when it was decoded.
                    let key = Label::decode(r).ok()?;
                    let value = r.skip().ok()?;
                    if key.int().and_then(canonical).is_none() {
                        return Some(RawClaim { key, value });
                    }
                }
                None
            }
            Self::Items(it) => it.next().copied(),
        }
    }
}

/// A whole claims-set: every claim this crate models as a field, the rest in [`Claims::extra`].
///
/// Decoding borrows from the input; encoding writes the claims in deterministic order
/// (RFC 8949 section 4.2.1) with preferred serialization and definite lengths.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(missing_docs)] // each field is the claim of the same name in crate::key
pub struct Claims<'a> {
    pub iss: Option<&'a str>,
    pub sub: Option<&'a str>,
    pub aud: Option<Audience<'a>>,
    pub exp: Option<NumericDate>,
    pub nbf: Option<NumericDate>,
    pub iat: Option<NumericDate>,
    pub cti: Option<&'a [u8]>,
    pub cnf: Option<Confirmation<'a>>,
    pub nonce: Option<Nonce<'a>>,
    pub ueid: Option<&'a [u8]>,
    pub sueids: Option<Seq<'a, Sueid<'a>>>,
    pub oemid: Option<OemId<'a>>,
    pub hwmodel: Option<&'a [u8]>,
    pub hwversion: Option<Version<'a>>,
    pub uptime: Option<u64>,
    pub oemboot: Option<bool>,
    pub dbgstat: Option<DebugStatus>,
    pub location: Option<Location>,
    pub profile: Option<Profile<'a>>,
    pub submods: Option<Seq<'a, Submod<'a>>>,
    pub bootcount: Option<u64>,
    pub bootseed: Option<&'a [u8]>,
    pub dloas: Option<Seq<'a, Dloa<'a>>>,
    pub swname: Option<&'a str>,
    pub swversion: Option<Version<'a>>,
    pub manifests: Option<Seq<'a, TypedContent<'a>>>,
    pub measurements: Option<Seq<'a, TypedContent<'a>>>,
    pub measres: Option<Seq<'a, MeasResGroup<'a>>>,
    pub intuse: Option<IntendedUse>,
    pub psa_client_id: Option<i64>,
    pub psa_lifecycle: Option<u64>,
    pub psa_implementation_id: Option<&'a [u8]>,
    pub psa_certification_reference: Option<&'a str>,
    pub psa_software_components: Option<Seq<'a, SwComponent<'a>>>,
    pub psa_vsi: Option<&'a str>,
    pub psa_no_sw_measurements: Option<u64>,
    /// Whether any claim was received under a PSA_IOT_PROFILE_1 key (-75000 to -75010).
    /// The encoder always writes the current keys.
    pub legacy_psa: bool,
    /// The claims this crate does not model.
    pub extra: Extra<'a>,
}

impl<'a> Claims<'a> {
    /// Decodes a whole input holding one claims-set, with the default [`Limits`].
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        Self::decode_with(input, Limits::default())
    }

    /// Decodes a whole input holding one claims-set, with the given limits.
    pub fn decode_with(input: &'a [u8], limits: Limits) -> Result<Self> {
        Self::decode_at(input, Ctx::top(limits))
    }

    pub(crate) fn decode_at(input: &'a [u8], ctx: Ctx) -> Result<Self> {
        let mut claims = Self {
            extra: Extra::Decoded {
                raw: input,
                limits: ctx.limits,
            },
            ..Self::default()
        };
        for entry in ClaimsIter::at_depth(input, ctx)? {
            let (label, claim) = entry?;
            if label.int().is_some_and(is_legacy) {
                claims.legacy_psa = true;
            }
            claims.set(claim);
        }
        Ok(claims)
    }

    /// Sets the field of `claim` (an unknown claim is ignored: add it to [`Claims::extra`]).
    pub fn set(&mut self, claim: Claim<'a>) {
        match claim {
            Claim::Iss(v) => self.iss = Some(v),
            Claim::Sub(v) => self.sub = Some(v),
            Claim::Aud(v) => self.aud = Some(v),
            Claim::Exp(v) => self.exp = Some(v),
            Claim::Nbf(v) => self.nbf = Some(v),
            Claim::Iat(v) => self.iat = Some(v),
            Claim::Cti(v) => self.cti = Some(v),
            Claim::Cnf(v) => self.cnf = Some(v),
            Claim::Nonce(v) => self.nonce = Some(v),
            Claim::Ueid(v) => self.ueid = Some(v),
            Claim::Sueids(v) => self.sueids = Some(v),
            Claim::OemId(v) => self.oemid = Some(v),
            Claim::HwModel(v) => self.hwmodel = Some(v),
            Claim::HwVersion(v) => self.hwversion = Some(v),
            Claim::Uptime(v) => self.uptime = Some(v),
            Claim::OemBoot(v) => self.oemboot = Some(v),
            Claim::DbgStat(v) => self.dbgstat = Some(v),
            Claim::Location(v) => self.location = Some(v),
            Claim::Profile(v) => self.profile = Some(v),
            Claim::Submods(v) => self.submods = Some(v),
            Claim::BootCount(v) => self.bootcount = Some(v),
            Claim::BootSeed(v) => self.bootseed = Some(v),
            Claim::Dloas(v) => self.dloas = Some(v),
            Claim::SwName(v) => self.swname = Some(v),
            Claim::SwVersion(v) => self.swversion = Some(v),
            Claim::Manifests(v) => self.manifests = Some(v),
            Claim::Measurements(v) => self.measurements = Some(v),
            Claim::MeasRes(v) => self.measres = Some(v),
            Claim::IntUse(v) => self.intuse = Some(v),
            Claim::PsaClientId(v) => self.psa_client_id = Some(v),
            Claim::PsaLifecycle(v) => self.psa_lifecycle = Some(v),
            Claim::PsaImplementationId(v) => self.psa_implementation_id = Some(v),
            Claim::PsaCertificationReference(v) => self.psa_certification_reference = Some(v),
            Claim::PsaSoftwareComponents(v) => self.psa_software_components = Some(v),
            Claim::PsaVsi(v) => self.psa_vsi = Some(v),
            Claim::PsaNoSwMeasurements(v) => self.psa_no_sw_measurements = Some(v),
            Claim::Unknown(_) => {}
        }
    }

    /// The claim with canonical key `key`, if present.
    pub fn get(&self, key: i64) -> Option<Claim<'a>> {
        match key {
            key::ISS => self.iss.map(Claim::Iss),
            key::SUB => self.sub.map(Claim::Sub),
            key::AUD => self.aud.map(Claim::Aud),
            key::EXP => self.exp.map(Claim::Exp),
            key::NBF => self.nbf.map(Claim::Nbf),
            key::IAT => self.iat.map(Claim::Iat),
            key::CTI => self.cti.map(Claim::Cti),
            key::CNF => self.cnf.map(Claim::Cnf),
            key::NONCE => self.nonce.map(Claim::Nonce),
            key::UEID => self.ueid.map(Claim::Ueid),
            key::SUEIDS => self.sueids.map(Claim::Sueids),
            key::OEMID => self.oemid.map(Claim::OemId),
            key::HWMODEL => self.hwmodel.map(Claim::HwModel),
            key::HWVERSION => self.hwversion.map(Claim::HwVersion),
            key::UPTIME => self.uptime.map(Claim::Uptime),
            key::OEMBOOT => self.oemboot.map(Claim::OemBoot),
            key::DBGSTAT => self.dbgstat.map(Claim::DbgStat),
            key::LOCATION => self.location.map(Claim::Location),
            key::PROFILE => self.profile.map(Claim::Profile),
            key::SUBMODS => self.submods.map(Claim::Submods),
            key::BOOTCOUNT => self.bootcount.map(Claim::BootCount),
            key::BOOTSEED => self.bootseed.map(Claim::BootSeed),
            key::DLOAS => self.dloas.map(Claim::Dloas),
            key::SWNAME => self.swname.map(Claim::SwName),
            key::SWVERSION => self.swversion.map(Claim::SwVersion),
            key::MANIFESTS => self.manifests.map(Claim::Manifests),
            key::MEASUREMENTS => self.measurements.map(Claim::Measurements),
            key::MEASRES => self.measres.map(Claim::MeasRes),
            key::INTUSE => self.intuse.map(Claim::IntUse),
            key::PSA_CLIENT_ID => self.psa_client_id.map(Claim::PsaClientId),
            key::PSA_LIFECYCLE => self.psa_lifecycle.map(Claim::PsaLifecycle),
            key::PSA_IMPLEMENTATION_ID => {
                self.psa_implementation_id.map(Claim::PsaImplementationId)
            }
            key::PSA_CERTIFICATION_REFERENCE => self
                .psa_certification_reference
                .map(Claim::PsaCertificationReference),
            key::PSA_SOFTWARE_COMPONENTS => self
                .psa_software_components
                .map(Claim::PsaSoftwareComponents),
            key::PSA_VSI => self.psa_vsi.map(Claim::PsaVsi),
            key::legacy::NO_SW_MEASUREMENTS => {
                self.psa_no_sw_measurements.map(Claim::PsaNoSwMeasurements)
            }
            _ => None,
        }
    }

    /// The modelled claims that are present, in deterministic encoding order.
    pub fn iter(&self) -> impl Iterator<Item = Claim<'a>> + '_ {
        KNOWN.iter().filter_map(|k| self.get(*k))
    }

    /// Encodes the claims-set (modelled claims and [`Claims::extra`] merged in deterministic
    /// key order). Refuses values their definitions forbid and extra claims with a modelled key
    /// or a key given twice.
    pub fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        let known = self.iter().count();
        let extra = self.extra.len();
        e.map((known + extra) as u64).map_err(enc)?;
        for x in self.extra.iter() {
            if let Some(k) = x.key.int().and_then(canonical) {
                return Err(Error::InvalidClaim { key: k, offset: 0 });
            }
            check_item(x.value, Limits::default())?;
        }
        let mut claims = KNOWN.iter().filter_map(|k| self.get(*k)).peekable();
        let mut last_extra: Option<Label<'a>> = None;
        let mut extras_written = 0;
        loop {
            let next_extra = self
                .extra
                .iter()
                .filter(|x| last_extra.is_none_or(|l| x.key > l))
                .min_by(|a, b| a.key.cmp(&b.key));
            let next_known = claims.peek().and_then(Claim::key).map(Label::Int);
            match (next_known, next_extra) {
                (None, None) => break,
                (Some(k), Some(x)) if x.key < k => {
                    write_raw_claim(e, &x)?;
                    last_extra = Some(x.key);
                    extras_written += 1;
                }
                (None, Some(x)) => {
                    write_raw_claim(e, &x)?;
                    last_extra = Some(x.key);
                    extras_written += 1;
                }
                (Some(_), _) => {
                    if let Some(c) = claims.next() {
                        write_claim(e, &c)?;
                    }
                }
            }
        }
        if extras_written != extra {
            // Two extra claims with the same key.
            return Err(Error::ClaimOrder);
        }
        Ok(())
    }

    /// Encodes into `buf` and returns the length.
    pub fn encode_to(&self, buf: &mut [u8]) -> Result<usize> {
        let mut w = SliceWriter::new(buf);
        self.encode(&mut Encoder::new(&mut w))?;
        Ok(w.len())
    }
}

fn write_claim<W: Write>(e: &mut Encoder<W>, c: &Claim<'_>) -> Result<()> {
    let key = c.key().ok_or(invalid(0))?;
    e.i64(key).map_err(enc)?;
    c.encode_value(e)
}

fn write_raw_claim<W: Write>(e: &mut Encoder<W>, x: &RawClaim<'_>) -> Result<()> {
    x.key.encode(e)?;
    write_raw(e, x.value)
}

/// A streaming claims-set encoder into a caller's buffer: announce the number of claims, then
/// give them one by one in deterministic key order (RFC 8949 section 4.2.1), which is checked.
///
/// No claims-set struct is built, so a device can write, say, measurements as it reads them.
#[derive(Debug)]
pub struct ClaimsWriter<'b> {
    w: SliceWriter<'b>,
    remaining: u64,
    last_key: Option<(usize, usize)>,
}

impl<'b> ClaimsWriter<'b> {
    /// Starts a claims-set of exactly `count` claims in `buf`.
    pub fn new(buf: &'b mut [u8], count: u64) -> Result<Self> {
        let mut w = SliceWriter::new(buf);
        Encoder::new(&mut w).map(count).map_err(enc)?;
        Ok(Self {
            w,
            remaining: count,
            last_key: None,
        })
    }

    fn key(&mut self, label: Label<'_>) -> Result<()> {
        if self.remaining == 0 {
            return Err(Error::ClaimOrder);
        }
        let start = self.w.len();
        label.encode(&mut Encoder::new(&mut self.w))?;
        let end = self.w.len();
        let written = self.w.written();
        if let Some((a, b)) = self.last_key
            && written.get(a..b) >= written.get(start..end)
        {
            return Err(Error::ClaimOrder);
        }
        self.last_key = Some((start, end));
        self.remaining -= 1;
        Ok(())
    }

    /// Writes one modelled claim under its canonical key (a value its definition forbids is an
    /// [`Error::InvalidClaim`] at the value's offset).
    pub fn claim(&mut self, claim: &Claim<'_>) -> Result<&mut Self> {
        let key = claim.key().ok_or(Error::ClaimOrder)?;
        self.key(Label::Int(key))?;
        let at = self.w.len();
        claim
            .encode_value(&mut Encoder::new(&mut self.w))
            .map_err(|e| e.in_claim_at(key, at))?;
        Ok(self)
    }

    /// Writes a claim this crate does not model: `value` must be one encoded CBOR item (a
    /// modelled key or a malformed value is an [`Error::InvalidClaim`] at the key's offset).
    pub fn raw(&mut self, key: Label<'_>, value: &[u8]) -> Result<&mut Self> {
        let at = self.w.len();
        let k = key.int().unwrap_or(crate::error::NO_KEY);
        if canonical(k).is_some() || check_item(value, Limits::default()).is_err() {
            return Err(Error::InvalidClaim { key: k, offset: at });
        }
        self.key(key)?;
        write_raw(&mut Encoder::new(&mut self.w), value)?;
        Ok(self)
    }

    /// Checks that every announced claim was written and returns the length.
    pub fn finish(self) -> Result<usize> {
        if self.remaining != 0 {
            return Err(Error::ClaimOrder);
        }
        Ok(self.w.len())
    }
}
