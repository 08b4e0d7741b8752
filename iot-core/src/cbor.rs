//! Bounded CBOR decoding (RFC 8949).
//!
//! [`Reader`] reads the heads of data items itself (RFC 8949 section 3), with minicbor's
//! [`minicbor::Decoder`] keeping its position and naming item [`Type`]s (minicbor's typed reads
//! are no longer linked into a device image), and adds what a device-side decoder of untrusted input needs:
//! a nesting-depth limit for the items it skips, a choice to reject indefinite lengths and
//! non-preferred argument encodings, a check for trailing bytes, and errors that carry the byte offset
//! of the offending item ([`Error::Cbor`]).

use crate::error::{CborError, Error, Result};
use minicbor::data::Type;

/// Default nesting limit for skipped items: deep enough for COSE header values (x5chain, COSE_Key)
/// and the EAT submodule depth of the anchors, shallow enough for a small stack.
pub const DEFAULT_MAX_DEPTH: u8 = 8;

/// What a [`Reader`] accepts beyond well-formed CBOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Arrays, maps and tags nested deeper than this are rejected with [`CborError::TooDeep`].
    pub max_depth: u8,
    /// Accept indefinite-length items (byte and text strings, arrays, maps).
    pub allow_indefinite: bool,
    /// Require preferred serialization of heads: shortest argument encodings (RFC 8949 section 4.1).
    pub require_preferred: bool,
}

impl Default for Limits {
    /// COSE's rules: definite lengths only (RFC 9052 section 9 for the COSE structures), depth
    /// [`DEFAULT_MAX_DEPTH`], non-preferred heads tolerated as RFC 9052 asks of receivers.
    fn default() -> Self {
        Self {
            max_depth: DEFAULT_MAX_DEPTH,
            allow_indefinite: false,
            require_preferred: false,
        }
    }
}

/// A bounded, borrowing CBOR reader.
#[derive(Debug, Clone)]
pub struct Reader<'b> {
    dec: minicbor::Decoder<'b>,
    limits: Limits,
}

/// The error for the item at `at` when another type was asked for: [`CborError::UnexpectedType`],
/// or [`CborError::Truncated`] where minicbor's typing of the head needed a byte that is missing
/// (a negative integer with a one- to eight-byte argument, whose type it reads from the
/// argument's second byte).
fn mismatch(input: &[u8], at: usize) -> Error {
    let kind = match input.get(at) {
        Some(0x38..=0x3b) if input.get(at + 2).is_none() => CborError::Truncated,
        _ => CborError::UnexpectedType,
    };
    Error::cbor(kind, at)
}

impl<'b> Reader<'b> {
    /// A reader over `input` with the default [`Limits`].
    pub fn new(input: &'b [u8]) -> Self {
        Self::with_limits(input, Limits::default())
    }

    /// A reader over `input` with the given limits.
    pub fn with_limits(input: &'b [u8], limits: Limits) -> Self {
        Self {
            dec: minicbor::Decoder::new(input),
            limits,
        }
    }

    /// A reader over `input` with the given limits whose next item is at byte `position`: the
    /// positions and error offsets it reports count from the start of `input`, so that a reader
    /// over an item nested in a larger input (the content of a byte string, say) reports offsets
    /// in that whole input.
    pub fn with_limits_at(input: &'b [u8], position: usize, limits: Limits) -> Self {
        let mut r = Self::with_limits(input, limits);
        r.dec.set_position(position);
        r
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Byte offset of the next item.
    pub fn position(&self) -> usize {
        self.dec.position()
    }

    /// The whole input.
    pub fn input(&self) -> &'b [u8] {
        self.dec.input()
    }

    /// `true` when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.position() >= self.input().len()
    }

    fn err(&self, kind: CborError) -> Error {
        Error::cbor(kind, self.position())
    }

    /// The type of the next item, without consuming it.
    pub fn datatype(&self) -> Result<Type> {
        let at = self.position();
        let input = self.input();
        let truncated = Error::cbor(CborError::Truncated, at);
        let initial = *input.get(at).ok_or(truncated)?;
        // A negative integer's type depends on its argument's first byte, as minicbor types it.
        let by_sign = |narrow, wide| match input.get(at + 1) {
            Some(&b) if b < 0x80 => Ok(narrow),
            Some(_) => Ok(wide),
            None => Err(truncated),
        };
        Ok(match (initial >> 5, initial & 0x1f) {
            (0, 0..=24) => Type::U8,
            (0, 25) => Type::U16,
            (0, 26) => Type::U32,
            (0, 27) => Type::U64,
            (1, 0..=23) => Type::I8,
            (1, 24) => by_sign(Type::I8, Type::I16)?,
            (1, 25) => by_sign(Type::I16, Type::I32)?,
            (1, 26) => by_sign(Type::I32, Type::I64)?,
            (1, 27) => by_sign(Type::I64, Type::Int)?,
            (2, 0..=27) => Type::Bytes,
            (2, 31) => Type::BytesIndef,
            (3, 0..=27) => Type::String,
            (3, 31) => Type::StringIndef,
            (4, 0..=27) => Type::Array,
            (4, 31) => Type::ArrayIndef,
            (5, 0..=27) => Type::Map,
            (5, 31) => Type::MapIndef,
            (6, 0..=27) => Type::Tag,
            (7, 0..=19 | 24) => Type::Simple,
            (7, 20 | 21) => Type::Bool,
            (7, 22) => Type::Null,
            (7, 23) => Type::Undefined,
            (7, 25) => Type::F16,
            (7, 26) => Type::F32,
            (7, 27) => Type::F64,
            (7, 31) => Type::Break,
            _ => Type::Unknown(initial),
        })
    }

    /// Consumes the head of an item of major type `major` (RFC 8949 section 3.1) and returns its
    /// argument, `None` for an indefinite length (additional information 31). Errors as minicbor's
    /// typed reads give them: another major type or a reserved additional information is
    /// [`CborError::UnexpectedType`], a missing byte [`CborError::Truncated`], at the item; when
    /// [`Limits::require_preferred`] holds, an argument longer than it needs to be is first
    /// [`CborError::NotPreferred`] (simple values and floats are not checked).
    fn head(&mut self, major: u8) -> Result<Option<u64>> {
        self.head_checked(major, self.limits.require_preferred)
    }

    /// [`Reader::head`], checking preferred serialization only if `preferred`.
    fn head_checked(&mut self, major: u8, preferred: bool) -> Result<Option<u64>> {
        let at = self.position();
        let input = self.input();
        let truncated = Error::cbor(CborError::Truncated, at);
        let initial = *input.get(at).ok_or(truncated)?;
        let info = initial & 0x1f;
        let len = match info {
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => 0,
        };
        let argument = input.get(at + 1..).and_then(|rest| rest.get(..len));
        let value = argument.map(|a| a.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b)));
        if preferred && len > 0 && initial >> 5 != 7 {
            let shortest = match value.ok_or(truncated)? {
                0..=23 => 23,
                24..=0xff => 24,
                0x100..=0xffff => 25,
                0x1_0000..=0xffff_ffff => 26,
                _ => 27,
            };
            if info != shortest {
                return Err(Error::cbor(CborError::NotPreferred, at));
            }
        }
        if initial >> 5 != major {
            return Err(mismatch(input, at));
        }
        let value = match info {
            0..=23 => u64::from(info),
            24..=27 => value.ok_or(truncated)?,
            31 => {
                self.dec.set_position(at + 1);
                return Ok(None);
            }
            _ => return Err(Error::cbor(CborError::UnexpectedType, at)),
        };
        self.dec.set_position(at + 1 + len);
        Ok(Some(value))
    }

    /// [`Reader::head`] of a definite length: indefinite is [`CborError::UnexpectedType`].
    fn definite(&mut self, major: u8) -> Result<u64> {
        let at = self.position();
        self.head(major)?
            .ok_or(Error::cbor(CborError::UnexpectedType, at))
    }

    /// Consumes a definite-length string of major type `major` (2 or 3) and returns its content;
    /// its head is held to preferred serialization only if `preferred`.
    fn string(&mut self, major: u8, preferred: bool) -> Result<&'b [u8]> {
        let at = self.position();
        let len = self
            .head_checked(major, preferred)?
            .ok_or(Error::cbor(CborError::UnexpectedType, at))?;
        let len = usize::try_from(len).map_err(|_| Error::cbor(CborError::Malformed, at))?;
        let start = self.position();
        let content = self
            .input()
            .get(start..)
            .and_then(|rest| rest.get(..len))
            .ok_or(Error::cbor(CborError::Truncated, at))?;
        self.dec.set_position(start + len);
        Ok(content)
    }

    /// Consumes the one-byte item `byte` (a simple value).
    fn simple_byte(&mut self, byte: u8) -> Result<()> {
        let at = self.position();
        match self.input().get(at) {
            Some(&b) if b == byte => {
                self.dec.set_position(at + 1);
                Ok(())
            }
            Some(_) => Err(mismatch(self.input(), at)),
            None => Err(Error::cbor(CborError::Truncated, at)),
        }
    }

    /// If the next item is a tag, consumes it and returns its number.
    pub fn opt_tag(&mut self) -> Result<Option<u64>> {
        let at = self.position();
        let input = self.input();
        match input.get(at) {
            // As `datatype` types it: a negative integer's head with an argument needs that argument.
            Some(0x38..=0x3b) if input.get(at + 1).is_none() => {
                Err(Error::cbor(CborError::Truncated, at))
            }
            Some(0xc0..=0xdb) => self.definite(6).map(Some),
            _ => Ok(None),
        }
    }

    /// Consumes a definite-length array head and returns its length.
    pub fn array(&mut self) -> Result<u64> {
        let at = self.position();
        self.head(4)?
            .ok_or(Error::cbor(CborError::IndefiniteLength, at))
    }

    /// Consumes a definite-length array head of exactly `len` items.
    pub fn array_of(&mut self, len: u64) -> Result<()> {
        let at = self.position();
        if self.array()? == len {
            Ok(())
        } else {
            Err(Error::cbor(CborError::UnexpectedType, at))
        }
    }

    /// Consumes a definite-length map head and returns its number of pairs.
    pub fn map(&mut self) -> Result<u64> {
        let at = self.position();
        self.head(5)?
            .ok_or(Error::cbor(CborError::IndefiniteLength, at))
    }

    /// Consumes a definite-length byte string.
    pub fn bytes(&mut self) -> Result<&'b [u8]> {
        let at = self.position();
        if self.input().get(at) == Some(&0x5f) {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        self.string(2, self.limits.require_preferred)
    }

    /// Consumes a definite-length text string.
    pub fn str(&mut self) -> Result<&'b str> {
        let at = self.position();
        if self.input().get(at) == Some(&0x7f) {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        core::str::from_utf8(self.string(3, self.limits.require_preferred)?)
            .map_err(|_| Error::cbor(CborError::Malformed, at))
    }

    /// Consumes an integer (major type 0 or 1) that fits an `i64`.
    pub fn int(&mut self) -> Result<i64> {
        let at = self.position();
        let negative = self.input().get(at).is_some_and(|&b| b >> 5 == 1);
        let value = i64::try_from(self.definite(u8::from(negative))?)
            .map_err(|_| Error::cbor(CborError::Malformed, at))?;
        Ok(if negative { -1 - value } else { value })
    }

    /// Consumes an unsigned integer (major type 0).
    pub fn uint(&mut self) -> Result<u64> {
        self.definite(0)
    }

    /// Consumes a boolean.
    pub fn bool(&mut self) -> Result<bool> {
        let at = self.position();
        let value = self.input().get(at) == Some(&0xf5);
        self.simple_byte(if value { 0xf5 } else { 0xf4 })?;
        Ok(value)
    }

    /// Consumes a `null`.
    pub fn null(&mut self) -> Result<()> {
        self.simple_byte(0xf6)
    }

    /// Consumes a byte string, or `null` (returned as `None`).
    pub fn bytes_or_null(&mut self) -> Result<Option<&'b [u8]>> {
        if self.datatype()? == Type::Null {
            self.null()?;
            Ok(None)
        } else {
            self.bytes().map(Some)
        }
    }

    /// Consumes a float of any width (RFC 8949 section 3.3: half, single or double precision)
    /// as `f64`; any other item is `UnexpectedType`.
    pub fn float(&mut self) -> Result<f64> {
        let at = self.position();
        if !is_float(self.datatype()?) {
            return Err(Error::cbor(CborError::UnexpectedType, at));
        }
        let raw = self.skip()?;
        decode_float(raw).ok_or(Error::cbor(CborError::Malformed, at))
    }

    /// Consumes a number: an integer that fits an `i64` (integers beyond 2^53 lose precision, as
    /// in any double) or a float of any width, as `f64`; any other item is `UnexpectedType`.
    pub fn number(&mut self) -> Result<f64> {
        let ty = self.datatype()?;
        if is_float(ty) {
            self.float()
        } else if is_int(ty) {
            #[allow(clippy::cast_precision_loss)]
            Ok(self.int()? as f64)
        } else {
            Err(self.err(CborError::UnexpectedType))
        }
    }

    /// Skips one whole item, nested at most `limits.max_depth` deep, and returns its encoded bytes.
    pub fn skip(&mut self) -> Result<&'b [u8]> {
        let start = self.position();
        self.skip_at(0)?;
        self.input()
            .get(start..self.position())
            .ok_or(self.err(CborError::Malformed))
    }

    fn skip_at(&mut self, depth: u8) -> Result<()> {
        let at = self.position();
        let input = self.input();
        let initial = *input.get(at).ok_or(Error::cbor(CborError::Truncated, at))?;
        // As `datatype` types it: a negative integer's head with an argument needs that argument.
        if matches!(initial, 0x38..=0x3b) && input.get(at + 1).is_none() {
            return Err(Error::cbor(CborError::Truncated, at));
        }
        let (major, info) = (initial >> 5, initial & 0x1f);
        // Reserved additional information, and a break or indefinite length where none can be.
        let indefinite = info == 31 && matches!(major, 2..=5);
        if info >= 28 && !indefinite {
            return Err(Error::cbor(CborError::Malformed, at));
        }
        if indefinite && !self.limits.allow_indefinite {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        if matches!(major, 4..=6) && depth >= self.limits.max_depth {
            return Err(Error::cbor(CborError::TooDeep, at));
        }
        match major {
            4 | 5 => {
                // A map's pairs are two items each; counted as such, so that one loop skips them.
                let per_entry = if major == 5 { 2 } else { 1 };
                match self.head(major)? {
                    Some(n) => {
                        for _ in 0..n.saturating_mul(per_entry) {
                            self.skip_at(depth + 1)?;
                        }
                    }
                    None => loop {
                        if self.input().get(self.position()) == Some(&0xff) {
                            // Consume the break byte itself.
                            self.dec.set_position(self.position() + 1);
                            break;
                        }
                        for _ in 0..per_entry {
                            self.skip_at(depth + 1)?;
                        }
                    },
                }
            }
            6 => {
                self.head(6)?;
                self.skip_at(depth + 1)?;
            }
            // RFC 8949 section 3.3: 0xf8 followed by a value below 32 is not well-formed.
            7 if initial == 0xf8 && input.get(at + 1).is_some_and(|&n| n < 32) => {
                return Err(Error::cbor(CborError::Malformed, at));
            }
            // Scalars and strings (definite or, when allowed, indefinite); a truncated one is
            // reported at its start.
            _ => self.skip_scalar().map_err(|e| match e {
                Error::Cbor {
                    kind: CborError::Truncated,
                    ..
                } => Error::cbor(CborError::Truncated, at),
                other => other,
            })?,
        }
        Ok(())
    }

    /// Skips an integer, a simple value or float, or a string (an indefinite one chunk by chunk,
    /// each a definite string of the same major type); text must be UTF-8.
    fn skip_scalar(&mut self) -> Result<()> {
        let at = self.position();
        let major = self.input().get(at).map_or(0, |b| b >> 5);
        if !matches!(major, 2 | 3) {
            return self.head(major).map(|_| ());
        }
        if self.input().get(at) != Some(&(major << 5 | 31)) {
            return self.skip_string(major, self.limits.require_preferred);
        }
        self.dec.set_position(at + 1);
        loop {
            match self.input().get(self.position()) {
                Some(0xff) => {
                    self.dec.set_position(self.position() + 1);
                    return Ok(());
                }
                // Chunk heads are not held to preferred serialization.
                Some(_) => self.skip_string(major, false)?,
                None => return Err(self.err(CborError::Truncated)),
            }
        }
    }

    /// Skips a definite-length string of major type `major` ([`Reader::string`]); text must be UTF-8.
    fn skip_string(&mut self, major: u8, preferred: bool) -> Result<()> {
        let at = self.position();
        let content = self.string(major, preferred)?;
        if major == 3 && core::str::from_utf8(content).is_err() {
            return Err(Error::cbor(CborError::Malformed, at));
        }
        Ok(())
    }

    /// Fails with [`CborError::TrailingBytes`] unless every byte has been consumed.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(CborError::TrailingBytes))
        }
    }
}

/// A [`minicbor::encode::Write`] sink that only counts bytes: encode once into it to learn the length
/// of an item before writing the item's head (used for bstr-wrapped maps such as protected headers).
#[derive(Debug, Default, Clone, Copy)]
pub struct LenCounter(pub usize);

impl minicbor::encode::Write for LenCounter {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> core::result::Result<(), Self::Error> {
        self.0 += buf.len();
        Ok(())
    }
}

/// A [`minicbor::encode::Write`] over a caller's buffer that reports [`Error::BufferTooSmall`].
#[derive(Debug)]
pub struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceWriter<'a> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The written bytes.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// The written bytes, mutably (for in-place encryption after writing a plaintext).
    pub fn written_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.len).unwrap_or_default()
    }
}

/// The error of writing past the end of a [`SliceWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndOfBuffer;

impl From<EndOfBuffer> for Error {
    fn from(_: EndOfBuffer) -> Self {
        Error::BufferTooSmall
    }
}

impl minicbor::encode::Write for SliceWriter<'_> {
    type Error = EndOfBuffer;
    fn write_all(&mut self, data: &[u8]) -> core::result::Result<(), EndOfBuffer> {
        let end = self.len.checked_add(data.len()).ok_or(EndOfBuffer)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(EndOfBuffer)?
            .copy_from_slice(data);
        self.len = end;
        Ok(())
    }
}

/// Whether `ty` is an integer (major type 0 or 1).
pub fn is_int(ty: Type) -> bool {
    matches!(
        ty,
        Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int
    )
}

/// Whether `ty` is a float (major type 7, additional information 25 to 27).
pub fn is_float(ty: Type) -> bool {
    matches!(ty, Type::F16 | Type::F32 | Type::F64)
}

/// The value of one encoded float item (RFC 8949 section 3.3: `0xf9`, `0xfa` or `0xfb` and its
/// 2, 4 or 8 bytes); `None` for anything else.
pub fn decode_float(raw: &[u8]) -> Option<f64> {
    match raw {
        [0xf9, a, b] => Some(f16_to_f64(u16::from_be_bytes([*a, *b]))),
        [0xfa, a, b, c, d] => Some(f64::from(f32::from_be_bytes([*a, *b, *c, *d]))),
        [0xfb, rest @ ..] => rest.try_into().ok().map(f64::from_be_bytes),
        _ => None,
    }
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = u64::from(h >> 15) << 63;
    let exp = i32::from((h >> 10) & 0x1f);
    let mant = u64::from(h & 0x3ff);
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: m * 2^-24; normalise so that the leading one becomes implicit.
            let shift = m.leading_zeros() - 53; // leading one moves to bit 10
            let m = (m << shift) & 0x3ff;
            let e = -14 - i64::from(shift) + 1023;
            sign | ((e as u64) << 52) | (m << 42)
        }
        (0x1f, 0) => sign | (0x7ff << 52),
        (0x1f, m) => sign | (0x7ff << 52) | (m << 42) | (1 << 51),
        (e, m) => sign | (((i64::from(e) - 15 + 1023) as u64) << 52) | (m << 42),
    };
    f64::from_bits(bits)
}

/// Maps an encoder error over a [`SliceWriter`] (or any writer whose error converts) to [`Error`].
pub fn enc_err<E: Into<Error>>(e: minicbor::encode::Error<E>) -> Error {
    match e.into_write() {
        Some(w) => w.into(),
        None => Error::BufferTooSmall,
    }
}
