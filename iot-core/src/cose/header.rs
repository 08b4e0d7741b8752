//! COSE header maps (RFC 9052 section 3): the common parameters decoded borrowed from the input,
//! unknown non-critical labels skipped, unknown critical ones rejected.

use crate::cbor::{Reader, enc_err, is_int};
use crate::error::{CborError, Error, Result};
use minicbor::data::Type;
use minicbor::encode::{Encoder, Write};

use super::Algorithm;

/// Header parameter labels (RFC 9052 section 3.1, RFC 9360, RFC 8613).
pub mod label {
    /// `alg`
    pub const ALG: i64 = 1;
    /// `crit`
    pub const CRIT: i64 = 2;
    /// `content type`
    pub const CONTENT_TYPE: i64 = 3;
    /// `kid`
    pub const KID: i64 = 4;
    /// `IV`
    pub const IV: i64 = 5;
    /// `Partial IV`
    pub const PARTIAL_IV: i64 = 6;
    /// `kid context` (RFC 8613 section 5.1)
    pub const KID_CONTEXT: i64 = 10;
    /// `x5chain` (RFC 9360)
    pub const X5CHAIN: i64 = 33;
    /// `x5t` (RFC 9360)
    pub const X5T: i64 = 34;
}

/// Where a decoded parameter goes; its discriminant is its bit in a decoder's set of labels seen.
#[derive(Clone, Copy)]
enum Slot {
    Alg,
    Crit,
    ContentType,
    Kid,
    Iv,
    PartialIv,
    KidContext,
    X5Chain,
    X5t,
}

impl Slot {
    /// The slot's bit in a set of labels.
    const fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// The labels this implementation understands, and so accepts in `crit`, with their slots, in the
/// order of [`Slot`]: a slot's bit is its index here. Each label fits an `i8`, so that the table is
/// small, and is its own error payload ([`Error::label`] leaves small labels as they are).
const UNDERSTOOD: [(i8, Slot); 9] = [
    (small(label::ALG), Slot::Alg),
    (small(label::CRIT), Slot::Crit),
    (small(label::CONTENT_TYPE), Slot::ContentType),
    (small(label::KID), Slot::Kid),
    (small(label::IV), Slot::Iv),
    (small(label::PARTIAL_IV), Slot::PartialIv),
    (small(label::KID_CONTEXT), Slot::KidContext),
    (small(label::X5CHAIN), Slot::X5Chain),
    (small(label::X5T), Slot::X5t),
];

// `check_buckets` finds a label by its slot's bit, so row `i` must hold slot `i`. Evaluated at
// compile time: indexing cannot fail at run time here.
#[allow(clippy::indexing_slicing)]
const _: () = {
    let mut i = 0;
    while i < UNDERSTOOD.len() {
        assert!(UNDERSTOOD[i].1 as usize == i);
        i += 1;
    }
};

/// `label` as an `i8`; used in constants only, where a label that does not fit fails the build.
const fn small(label: i64) -> i8 {
    assert!(label >= i8::MIN as i64 && label <= i8::MAX as i64);
    label as i8
}

/// The understood label `label` with its slot, if it is one.
fn understood(label: i64) -> Option<(i32, Slot)> {
    UNDERSTOOD
        .iter()
        .find(|&&(u, _)| i64::from(u) == label)
        .map(|&(u, slot)| (i32::from(u), slot))
}

/// How many labels a `crit` array may list here.
pub const MAX_CRIT: usize = 4;

/// How many parameters one header map may hold here.
pub const MAX_HEADER_PARAMS: u64 = 64;

/// A map key: an integer or a text label.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Label<'a> {
    Int(i64),
    Text(&'a str),
}

/// Reads a label (RFC 9052 section 1.5): a text string if the next item is one, else an integer,
/// so that an item of another type fails as the integer read fails.
// Out of line: map decoders read keys, values and earlier keys for duplicates through it.
#[inline(never)]
pub(crate) fn read_label<'a>(r: &mut Reader<'a>) -> Result<Label<'a>> {
    Ok(if next_is_text(r) {
        Label::Text(r.str()?)
    } else {
        Label::Int(r.int()?)
    })
}

/// Whether the next item is a text string. An item that cannot be typed is not: the read that
/// follows fails on it as typing it fails (a missing byte is [`CborError::Truncated`] alike).
fn next_is_text(r: &Reader<'_>) -> bool {
    r.datatype() == Ok(Type::String)
}

/// Whether `label` is a key of the map that starts at `map_at` in `r`'s input, among the entries
/// before `key_at` (all already decoded once). Used for labels outside a decoder's bit set, so that
/// duplicates are rejected without a heap; callers bound the number of entries.
pub(crate) fn label_seen(
    r: &Reader<'_>,
    map_at: usize,
    key_at: usize,
    label: Label<'_>,
) -> Result<bool> {
    let earlier = r.input().get(map_at..key_at).unwrap_or_default();
    let mut e = Reader::with_limits(earlier, r.limits());
    e.map()?;
    while !e.is_empty() {
        if read_label(&mut e)? == label {
            return Ok(true);
        }
        e.skip()?;
    }
    Ok(false)
}

/// The input `r` has consumed since position `at`.
// Out of line: its bounds checks are then written once for its callers.
#[inline(never)]
fn since<'a>(r: &Reader<'a>, at: usize) -> &'a [u8] {
    r.input().get(at..r.position()).unwrap_or_default()
}

/// Turns a CBOR type mismatch into `invalid` (a parameter of the wrong type) and keeps every other
/// error, so that truncated or indefinite input is reported as such.
pub(crate) fn type_error_as(e: Error, invalid: Error) -> Error {
    match e {
        Error::Cbor {
            kind: CborError::UnexpectedType,
            ..
        } => invalid,
        other => other,
    }
}

/// An algorithm header value: an integer id or, rarely, a text name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgId<'a> {
    /// An integer id from the IANA registry.
    Int(i64),
    /// A text id.
    Text(&'a str),
}

impl AlgId<'_> {
    /// The algorithm, if this family implements it.
    pub fn algorithm(self) -> Result<Algorithm> {
        match self {
            Self::Int(id) => {
                Algorithm::from_id(id).ok_or(Error::UnsupportedAlgorithm(Error::label(id)))
            }
            Self::Text(_) => Err(Error::UnsupportedAlgorithm(i32::MIN)),
        }
    }
}

impl<'a> From<Label<'a>> for AlgId<'a> {
    fn from(l: Label<'a>) -> Self {
        match l {
            Label::Int(i) => Self::Int(i),
            Label::Text(t) => Self::Text(t),
        }
    }
}

impl From<Algorithm> for AlgId<'_> {
    fn from(a: Algorithm) -> Self {
        Self::Int(a.id())
    }
}

/// A content type (label 3): a CoAP Content-Format number or a media-type string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType<'a> {
    /// CoAP Content-Format (0..=65535).
    Format(u16),
    /// Media type text.
    Text(&'a str),
}

/// An X.509 certificate chain (label 33, RFC 9360): one DER certificate, or several, leaf first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum X5Chain<'a> {
    /// As received: the encoded CBOR item (a bstr or an array of bstr), already checked.
    Encoded(&'a [u8]),
    /// Certificates given by an encoder.
    Certs(&'a [&'a [u8]]),
}

impl<'a> X5Chain<'a> {
    /// The certificates, leaf first.
    pub fn certs(&self) -> X5ChainIter<'a> {
        match *self {
            Self::Encoded(raw) => {
                let mut r = Reader::new(raw);
                let remaining = match r.datatype() {
                    Ok(Type::Array) => r.array().unwrap_or(0),
                    _ => 1,
                };
                X5ChainIter::Encoded(r, remaining)
            }
            Self::Certs(list) => X5ChainIter::Certs(list.iter()),
        }
    }

    fn encode<W: Write>(
        &self,
        e: &mut Encoder<W>,
    ) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
        match *self {
            Self::Encoded(raw) => e
                .writer_mut()
                .write_all(raw)
                .map_err(minicbor::encode::Error::write)
                .map(|_| ()),
            Self::Certs([one]) => e.bytes(one).map(|_| ()),
            Self::Certs(list) => {
                e.array(list.len() as u64)?;
                for c in list {
                    e.bytes(c)?;
                }
                Ok(())
            }
        }
    }
}

/// Iterator over the certificates of an [`X5Chain`].
#[derive(Debug, Clone)]
pub enum X5ChainIter<'a> {
    #[doc(hidden)]
    Encoded(Reader<'a>, u64),
    #[doc(hidden)]
    Certs(core::slice::Iter<'a, &'a [u8]>),
}

impl<'a> Iterator for X5ChainIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        match self {
            Self::Encoded(r, remaining) => {
                if *remaining == 0 {
                    return None;
                }
                *remaining -= 1;
                r.bytes().ok()
            }
            Self::Certs(it) => it.next().copied(),
        }
    }
}

/// A certificate thumbprint (label 34, RFC 9360): `[hash alg, hash value]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct X5t<'a> {
    /// The hash algorithm's COSE id (-16 for SHA-256).
    pub alg: i64,
    /// The hash of the DER certificate.
    pub hash: &'a [u8],
}

/// One header bucket (protected or unprotected), borrowing from the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderMap<'a> {
    /// `alg` (1).
    pub alg: Option<AlgId<'a>>,
    /// `crit` (2): the labels the recipient must understand (integer labels only here).
    pub crit: heapless::Vec<i64, MAX_CRIT>,
    /// `content type` (3).
    pub content_type: Option<ContentType<'a>>,
    /// `kid` (4).
    pub kid: Option<&'a [u8]>,
    /// `IV` (5).
    pub iv: Option<&'a [u8]>,
    /// `Partial IV` (6).
    pub partial_iv: Option<&'a [u8]>,
    /// `kid context` (10).
    pub kid_context: Option<&'a [u8]>,
    /// `x5chain` (33).
    pub x5chain: Option<X5Chain<'a>>,
    /// `x5t` (34).
    pub x5t: Option<X5t<'a>>,
    /// The encoded map as received (empty for a map built by an encoder); [`HeaderMap::get_raw`]
    /// finds other labels in it.
    pub raw: &'a [u8],
}

impl<'a> HeaderMap<'a> {
    /// A bucket with only `alg` set.
    pub fn with_alg(alg: Algorithm) -> Self {
        Self {
            alg: Some(alg.into()),
            ..Self::default()
        }
    }

    /// Decodes one header map from `r`. `protected` says which bucket this is: `crit` may only be protected.
    ///
    /// Labels must be unique (RFC 9052 section 3); a map may hold at most [`MAX_HEADER_PARAMS`]
    /// parameters ([`Error::CapacityExceeded`]), which bounds the duplicate check on unknown labels.
    pub fn decode(r: &mut Reader<'a>, protected: bool) -> Result<Self> {
        let mut h = HeaderMap::default();
        h.decode_into(r, protected)?;
        Ok(h)
    }

    /// [`HeaderMap::decode`] into `self`, which is empty (as [`HeaderMap::default`]), so that
    /// [`Headers::decode`] fills its buckets where they stay; on an error `self` is to be dropped.
    /// Returns the parameters set, as [`HeaderMap::present`] gives them.
    fn decode_into(&mut self, r: &mut Reader<'a>, protected: bool) -> Result<u32> {
        let start = r.position();
        let n = r.map()?;
        if n > MAX_HEADER_PARAMS {
            return Err(Error::CapacityExceeded);
        }
        let mut seen: u32 = 0;
        // At most `MAX_HEADER_PARAMS`: a narrow count is a smaller loop.
        for _ in 0..n as u32 {
            let key_at = r.position();
            // An item that cannot be typed fails in `read_label` as it fails here.
            if r.datatype()
                .is_ok_and(|ty| !is_int(ty) && ty != Type::String)
            {
                return Err(Error::cbor(CborError::UnexpectedType, key_at));
            }
            let key = read_label(r)?;
            let known = match key {
                // Private-use or application-specific: no text label is understood here.
                Label::Int(l) => understood(l),
                Label::Text(_) => None,
            };
            let duplicate = match known {
                Some((_, slot)) => {
                    let b = slot.bit();
                    let duplicate = seen & b != 0;
                    seen |= b;
                    duplicate
                }
                None => label_seen(r, start, key_at, key)?,
            };
            if duplicate {
                return Err(Error::cbor(CborError::DuplicateKey, key_at));
            }
            match known {
                // A value of the wrong type is an invalid parameter; truncation and the like stay
                // CBOR errors.
                Some((label, slot)) => self
                    .decode_value(r, label, slot, protected)
                    .map_err(|e| type_error_as(e, Error::InvalidHeader(label)))?,
                None => {
                    r.skip()?;
                }
            }
        }
        check_iv(seen)?;
        self.raw = since(r, start);
        Ok(seen)
    }

    /// Reads the value of `label` into `slot`; the caller turns a type mismatch into
    /// [`Error::InvalidHeader`].
    // Out of line: the map loop and the value reads each compile smaller apart (thumbv7em).
    #[inline(never)]
    fn decode_value(
        &mut self,
        r: &mut Reader<'a>,
        label: i32,
        slot: Slot,
        protected: bool,
    ) -> Result<()> {
        if matches!(slot, Slot::Crit) && !protected {
            return Err(Error::InvalidHeader(label));
        }
        // A value that cannot be typed fails in the arms' reads as it fails here.
        let ty = r.datatype();
        match slot {
            // alg and content type may be given as text.
            Slot::Alg => self.alg = Some(read_label(r)?.into()),
            Slot::Crit => {
                let n = r.array()?;
                if n == 0 {
                    return Err(Error::InvalidHeader(label));
                }
                for _ in 0..n {
                    if next_is_text(r) {
                        return Err(Error::UnknownCriticalHeader(i32::MIN));
                    }
                    let l = r.int()?;
                    if understood(l).is_none() {
                        return Err(Error::UnknownCriticalHeader(Error::label(l)));
                    }
                    self.crit.push(l).map_err(|_| Error::CapacityExceeded)?;
                }
            }
            Slot::ContentType => {
                self.content_type = Some(if ty == Ok(Type::String) {
                    ContentType::Text(r.str()?)
                } else {
                    ContentType::Format(
                        u16::try_from(r.uint()?).map_err(|_| Error::InvalidHeader(label))?,
                    )
                });
            }
            Slot::Kid | Slot::Iv | Slot::PartialIv | Slot::KidContext => {
                let value = Some(r.bytes()?);
                *match slot {
                    Slot::Kid => &mut self.kid,
                    Slot::Iv => &mut self.iv,
                    Slot::PartialIv => &mut self.partial_iv,
                    _ => &mut self.kid_context,
                } = value;
            }
            Slot::X5Chain => {
                let at = r.position();
                let n = match ty? {
                    Type::Bytes => 1,
                    Type::Array => {
                        let n = r.array()?;
                        if n == 0 {
                            return Err(Error::InvalidHeader(label));
                        }
                        n
                    }
                    _ => return Err(Error::InvalidHeader(label)),
                };
                for _ in 0..n {
                    r.bytes()?;
                }
                self.x5chain = Some(X5Chain::Encoded(since(r, at)));
            }
            Slot::X5t => {
                r.array_of(2)?;
                let alg = r.int()?;
                let hash = r.bytes()?;
                self.x5t = Some(X5t { alg, hash });
            }
        }
        Ok(())
    }

    /// The encoded value of integer label `label` as received, for labels this type does not model.
    pub fn get_raw(&self, wanted: i64) -> Option<&'a [u8]> {
        let mut r = Reader::new(self.raw);
        let n = r.map().ok()?;
        for _ in 0..n {
            let is_wanted = match r.datatype().ok()? {
                Type::String | Type::Bytes => {
                    r.skip().ok()?;
                    false
                }
                _ => r.int().ok()? == wanted,
            };
            let value = r.skip().ok()?;
            if is_wanted {
                return Some(value);
            }
        }
        None
    }

    /// `true` when no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.count() == 0 && self.raw.len() <= 1
    }

    /// The modelled parameters that are set: bit `Slot as u32` for each.
    fn present(&self) -> u32 {
        let bit = |set: bool, slot: Slot| u32::from(set) << slot as u32;
        bit(self.alg.is_some(), Slot::Alg)
            | bit(!self.crit.is_empty(), Slot::Crit)
            | bit(self.content_type.is_some(), Slot::ContentType)
            | bit(self.kid.is_some(), Slot::Kid)
            | bit(self.iv.is_some(), Slot::Iv)
            | bit(self.partial_iv.is_some(), Slot::PartialIv)
            | bit(self.kid_context.is_some(), Slot::KidContext)
            | bit(self.x5chain.is_some(), Slot::X5Chain)
            | bit(self.x5t.is_some(), Slot::X5t)
    }

    fn count(&self) -> u64 {
        u64::from(self.present().count_ones())
    }

    /// `true` when `label` is set in this bucket.
    pub fn has(&self, label: i64) -> bool {
        understood(label).is_some_and(|(_, slot)| self.present() & slot.bit() != 0)
    }

    /// Encodes the modelled parameters as a map, labels in ascending order (deterministic encoding,
    /// RFC 8949 section 4.2.1). A decoded map is re-encoded from its fields, not from `raw`.
    pub fn encode<W: Write>(
        &self,
        e: &mut Encoder<W>,
    ) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
        e.map(self.count())?;
        if let Some(alg) = self.alg {
            e.i64(label::ALG)?;
            match alg {
                AlgId::Int(i) => e.i64(i)?,
                AlgId::Text(t) => e.str(t)?,
            };
        }
        if !self.crit.is_empty() {
            e.i64(label::CRIT)?.array(self.crit.len() as u64)?;
            for l in &self.crit {
                e.i64(*l)?;
            }
        }
        if let Some(ct) = self.content_type {
            e.i64(label::CONTENT_TYPE)?;
            match ct {
                ContentType::Format(f) => e.u16(f)?,
                ContentType::Text(t) => e.str(t)?,
            };
        }
        for (l, v) in [
            (label::KID, self.kid),
            (label::IV, self.iv),
            (label::PARTIAL_IV, self.partial_iv),
            (label::KID_CONTEXT, self.kid_context),
        ] {
            if let Some(v) = v {
                e.i64(l)?.bytes(v)?;
            }
        }
        if let Some(chain) = &self.x5chain {
            e.i64(label::X5CHAIN)?;
            chain.encode(e)?;
        }
        if let Some(t) = self.x5t {
            e.i64(label::X5T)?.array(2)?.i64(t.alg)?.bytes(t.hash)?;
        }
        Ok(())
    }

    /// Encodes into `buf` and returns the length.
    pub fn encode_to(&self, buf: &mut [u8]) -> Result<usize> {
        let mut w = crate::cbor::SliceWriter::new(buf);
        self.encode(&mut Encoder::new(&mut w)).map_err(enc_err)?;
        Ok(w.len())
    }

    /// The encoded length.
    pub fn encoded_len(&self) -> usize {
        let mut c = crate::cbor::LenCounter::default();
        // LenCounter cannot fail.
        let _ = self.encode(&mut Encoder::new(&mut c));
        c.0
    }
}

/// The rules that span both buckets of a message, for decoders and encoders alike (RFC 9052
/// section 3): no label in both, `crit` only protected, IV and Partial IV not both (section 3.1,
/// whichever bucket: they are in the same security layer).
pub(crate) fn check_buckets(protected: &HeaderMap<'_>, unprotected: &HeaderMap<'_>) -> Result<()> {
    check_present(protected.present(), unprotected.present())
}

/// [`check_buckets`] on the parameters set in each bucket, as [`HeaderMap::present`] gives them.
fn check_present(p: u32, u: u32) -> Result<()> {
    // The lowest label in both; none when no bit is shared (trailing_zeros is then 32).
    if let Some(&(l, _)) = UNDERSTOOD.get((p & u).trailing_zeros() as usize) {
        return Err(Error::InvalidHeader(i32::from(l)));
    }
    if u & Slot::Crit.bit() != 0 {
        return Err(Error::InvalidHeader(Error::label(label::CRIT)));
    }
    check_iv(p | u)
}

/// RFC 9052 section 3.1: IV and Partial IV MUST NOT both be present among the parameters `set`.
fn check_iv(set: u32) -> Result<()> {
    let iv_and_partial_iv = Slot::Iv.bit() | Slot::PartialIv.bit();
    if set & iv_and_partial_iv == iv_and_partial_iv {
        return Err(Error::InvalidHeader(Error::label(label::PARTIAL_IV)));
    }
    Ok(())
}

/// Both buckets of a message: the protected one with the bytes it was received as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers<'a> {
    /// The protected bucket's serialized bytes, exactly as received (the bstr's content); an empty
    /// map (`h'A0'`) is kept as the zero-length string that the structures then use.
    pub protected_raw: &'a [u8],
    /// The protected bucket, decoded.
    pub protected: HeaderMap<'a>,
    /// The unprotected bucket.
    pub unprotected: HeaderMap<'a>,
}

impl<'a> Headers<'a> {
    /// Decodes `protected (bstr .cbor header_map / bstr .size 0), unprotected header_map` from `r`.
    // Out of line: every message decoder calls it, and an image that links two of them (SUIT's
    // Sign1 and Mac0 authentication blocks) would otherwise hold two copies.
    #[inline(never)]
    pub fn decode(r: &mut Reader<'a>) -> Result<Self> {
        let mut h = Self {
            protected_raw: r.bytes()?,
            ..Self::default()
        };
        // The parameters set in each bucket, as `HeaderMap::present` gives them.
        let mut protected = 0;
        if !h.protected_raw.is_empty() {
            // Errors inside the bstr report offsets in the whole input, not in the bstr.
            let base = r.position().saturating_sub(h.protected_raw.len());
            let mut pr = Reader::with_limits(h.protected_raw, r.limits());
            protected = h
                .protected
                .decode_into(&mut pr, true)
                .and_then(|set| pr.finish().map(|()| set))
                .map_err(|e| match e {
                    Error::Cbor { kind, offset } => Error::cbor(kind, offset.saturating_add(base)),
                    other => other,
                })?;
            if h.protected_raw.len() == 1 {
                // An empty map sent as h'A0' (the one map of one byte) enters the structures as the
                // zero-length string (RFC 9052 section 3: recipients accept both forms).
                h.protected_raw = h.protected_raw.get(..0).unwrap_or_default();
            }
        }
        let unprotected = h.unprotected.decode_into(r, false)?;
        check_present(protected, unprotected)?;
        Ok(h)
    }

    /// The algorithm, protected bucket first.
    pub fn alg(&self) -> Result<Algorithm> {
        self.protected
            .alg
            .or(self.unprotected.alg)
            .ok_or(Error::MissingAlgorithm)?
            .algorithm()
    }

    /// The key id, protected bucket first.
    pub fn kid(&self) -> Option<&'a [u8]> {
        self.protected.kid.or(self.unprotected.kid)
    }

    /// The IV, protected bucket first.
    pub fn iv(&self) -> Option<&'a [u8]> {
        self.protected.iv.or(self.unprotected.iv)
    }

    /// The Partial IV, protected bucket first.
    pub fn partial_iv(&self) -> Option<&'a [u8]> {
        self.protected.partial_iv.or(self.unprotected.partial_iv)
    }
}
