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

/// [`Reader::datatype`]'s types by major type (row) and additional information 0 to 23, 24, 25,
/// 26, 27 and 31 (column). A negative integer whose argument's first byte is 0x80 or more takes
/// the next column, which is why its row ends in `Int`; major type 7 with 20 to 23 is typed apart.
const TYPES: [[Type; 6]; 8] = {
    use Type::{
        Array, ArrayIndef, Break, Bytes, BytesIndef, F16, F32, F64, I8, I16, I32, I64, Int, Map,
        MapIndef, Simple, String, StringIndef, Tag, U8, U16, U32, U64,
    };
    [
        [U8, U8, U16, U32, U64, U64],
        [I8, I8, I16, I32, I64, Int],
        [Bytes, Bytes, Bytes, Bytes, Bytes, BytesIndef],
        [String, String, String, String, String, StringIndef],
        [Array, Array, Array, Array, Array, ArrayIndef],
        [Map, Map, Map, Map, Map, MapIndef],
        [Tag, Tag, Tag, Tag, Tag, Tag],
        [Simple, Simple, F16, F32, F64, Break],
    ]
};

/// What [`Reader::head`] makes of an indefinite length (additional information 31).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// Accepted, as argument 0.
    Any,
    /// An error of this kind, the reader left after the head's byte.
    Definite(CborError),
    /// A chunk of an indefinite-length string (RFC 8949 section 3.2.3): the error
    /// [`CborError::UnexpectedType`], and no preferred serialization asked of the head.
    Chunk,
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

    /// The initial byte of the next item, or [`CborError::Truncated`] where [`Reader::datatype`]
    /// cannot type it: no byte, or a negative integer's head without its argument's first byte
    /// (from which minicbor types it).
    fn initial(&self) -> Result<u8> {
        let at = self.position();
        let input = self.input();
        match input.get(at) {
            Some(&b) if !matches!(b, 0x38..=0x3b) || input.get(at + 1).is_some() => Ok(b),
            _ => Err(self.err(CborError::Truncated)),
        }
    }

    /// The type of the next item, without consuming it.
    pub fn datatype(&self) -> Result<Type> {
        let initial = self.initial()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let column = match (major, info) {
            (7, 20 | 21) => return Ok(Type::Bool),
            (7, 22) => return Ok(Type::Null),
            (7, 23) => return Ok(Type::Undefined),
            (_, 0..=23) => 0,
            (_, 24..=27) => info - 23,
            (2..=5 | 7, 31) => 5,
            _ => return Ok(Type::Unknown(initial)),
        };
        // A negative integer's type also depends on its argument's first byte, as minicbor types it.
        let wider = major == 1
            && column > 0
            && self
                .input()
                .get(self.position() + 1)
                .is_some_and(|&b| b >= 0x80);
        Ok(TYPES
            .get(usize::from(major))
            .and_then(|row| row.get(usize::from(column + u8::from(wider))))
            .copied()
            .unwrap_or(Type::Unknown(initial)))
    }

    /// Consumes the head of an item of major type `major` (RFC 8949 section 3.1) and returns its
    /// argument; an indefinite length (additional information 31) as `length` says. Otherwise
    /// errors as minicbor's typed reads give them: another major type or a reserved additional
    /// information is [`CborError::UnexpectedType`], a missing byte [`CborError::Truncated`], at
    /// the item; when [`Limits::require_preferred`] holds (and it is not a [`Length::Chunk`]), an
    /// argument longer than it needs to be is first [`CborError::NotPreferred`] (simple values and
    /// floats are not checked).
    fn head(&mut self, major: u8, length: Length) -> Result<u64> {
        let at = self.position();
        let input = self.input();
        let err = |kind| Error::cbor(kind, at);
        let initial = *input.get(at).ok_or(err(CborError::Truncated))?;
        let info = initial & 0x1f;
        // Additional information 24 to 27: an argument of 1, 2, 4 or 8 bytes.
        let len = if matches!(info, 24..=27) {
            1 << (info - 24)
        } else {
            0
        };
        let checked = self.limits.require_preferred
            && length != Length::Chunk
            && len > 0
            && initial >> 5 != 7;
        if initial >> 5 != major && !checked {
            return Err(mismatch(input, at));
        }
        let argument = input
            .get(at + 1..at + 1 + len)
            .ok_or(err(CborError::Truncated))?;
        let value = if len == 0 {
            u64::from(info)
        } else {
            argument.iter().fold(0, |v, &b| (v << 8) | u64::from(b))
        };
        // Preferred: an argument below 24 in the initial byte, a wider one only where needed.
        if checked && (value < 24 || value.leading_zeros() as usize + len * 4 >= 64) {
            return Err(err(CborError::NotPreferred));
        }
        if initial >> 5 != major {
            return Err(mismatch(input, at));
        }
        if matches!(info, 28..=30) {
            return Err(err(CborError::UnexpectedType));
        }
        self.dec.set_position(at + 1 + len);
        match length {
            _ if info != 31 => Ok(value),
            Length::Any => Ok(0),
            Length::Definite(kind) => Err(err(kind)),
            Length::Chunk => Err(err(CborError::UnexpectedType)),
        }
    }

    /// Consumes a definite-length string of major type `major` (2 or 3) and returns its content,
    /// which for text must be UTF-8; `length` is [`Length::Chunk`] for a chunk of an indefinite one,
    /// else [`Length::Definite`] with [`CborError::UnexpectedType`].
    fn string(&mut self, major: u8, length: Length) -> Result<&'b [u8]> {
        let at = self.position();
        let err = |kind| Error::cbor(kind, at);
        let len = self.head(major, length)?;
        let len = usize::try_from(len).map_err(|_| err(CborError::Malformed))?;
        let start = self.position();
        let content = self
            .input()
            .get(start..)
            .and_then(|rest| rest.get(..len))
            .ok_or(err(CborError::Truncated))?;
        self.dec.set_position(start + len);
        if major == 3 && core::str::from_utf8(content).is_err() {
            return Err(err(CborError::Malformed));
        }
        Ok(content)
    }

    /// Consumes a one-byte item (a simple value) from `lo` to `hi` and returns it.
    fn simple_byte(&mut self, lo: u8, hi: u8) -> Result<u8> {
        let at = self.position();
        match self.input().get(at) {
            Some(&b) if (lo..=hi).contains(&b) => {
                self.dec.set_position(at + 1);
                Ok(b)
            }
            Some(_) => Err(mismatch(self.input(), at)),
            None => Err(self.err(CborError::Truncated)),
        }
    }

    /// If the next item is a tag, consumes it and returns its number.
    pub fn opt_tag(&mut self) -> Result<Option<u64>> {
        match self.input().get(self.position()) {
            None => Ok(None),
            // A tag's head has a definite argument.
            Some(0xc0..=0xdb) => self.head(6, Length::Any).map(Some),
            Some(_) => self.initial().map(|_| None),
        }
    }

    /// Consumes a definite-length array head and returns its length.
    #[inline(never)]
    pub fn array(&mut self) -> Result<u64> {
        self.head(4, Length::Definite(CborError::IndefiniteLength))
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
    #[inline(never)]
    pub fn map(&mut self) -> Result<u64> {
        self.head(5, Length::Definite(CborError::IndefiniteLength))
    }

    /// Consumes a definite-length string of major type `major` (2 or 3); an indefinite one is
    /// [`CborError::IndefiniteLength`].
    fn definite_string(&mut self, major: u8) -> Result<&'b [u8]> {
        if self.input().get(self.position()) == Some(&(major << 5 | 31)) {
            return Err(self.err(CborError::IndefiniteLength));
        }
        self.string(major, Length::Definite(CborError::UnexpectedType))
    }

    /// Consumes a definite-length byte string.
    pub fn bytes(&mut self) -> Result<&'b [u8]> {
        self.definite_string(2)
    }

    /// Consumes a definite-length text string.
    pub fn str(&mut self) -> Result<&'b str> {
        let at = self.position();
        // `string` has checked the text already; this second pass is what makes it a `&str`
        // without `unsafe`. Keeping the check out of `string` for this caller alone cost 52 B in
        // every image (thumbv7em) to save a pass over a short label or URI.
        core::str::from_utf8(self.definite_string(3)?)
            .map_err(|_| Error::cbor(CborError::Malformed, at))
    }

    /// Consumes an integer (major type 0 or 1) that fits an `i64`.
    pub fn int(&mut self) -> Result<i64> {
        let at = self.position();
        let negative = self.input().get(at).is_some_and(|&b| b >> 5 == 1);
        let value = self.head(
            u8::from(negative),
            Length::Definite(CborError::UnexpectedType),
        )?;
        let value = i64::try_from(value).map_err(|_| Error::cbor(CborError::Malformed, at))?;
        Ok(if negative { -1 - value } else { value })
    }

    /// Consumes an unsigned integer (major type 0).
    pub fn uint(&mut self) -> Result<u64> {
        self.head(0, Length::Definite(CborError::UnexpectedType))
    }

    /// Consumes a boolean.
    pub fn bool(&mut self) -> Result<bool> {
        Ok(self.simple_byte(0xf4, 0xf5)? == 0xf5)
    }

    /// Consumes a `null`.
    pub fn null(&mut self) -> Result<()> {
        self.simple_byte(0xf6, 0xf6).map(|_| ())
    }

    /// Consumes a byte string, or `null` (returned as `None`).
    pub fn bytes_or_null(&mut self) -> Result<Option<&'b [u8]>> {
        if self.initial()? == 0xf6 {
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
        if !matches!(self.initial()?, 0xf9..=0xfb) {
            return Err(self.err(CborError::UnexpectedType));
        }
        let raw = self.skip()?;
        decode_float(raw).ok_or(Error::cbor(CborError::Malformed, at))
    }

    /// Consumes a number: an integer that fits an `i64` (integers beyond 2^53 lose precision, as
    /// in any double) or a float of any width, as `f64`; any other item is `UnexpectedType`.
    pub fn number(&mut self) -> Result<f64> {
        match self.initial()? {
            0xf9..=0xfb => self.float(),
            #[allow(clippy::cast_precision_loss)]
            0x00..=0x1b | 0x20..=0x3b => Ok(self.int()? as f64),
            _ => Err(self.err(CborError::UnexpectedType)),
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

    /// Skips an item nested `depth` deep: its head, then its content (a string's bytes, text
    /// being UTF-8; each chunk of an indefinite string, a definite string of the same major type;
    /// or the nested items).
    fn skip_at(&mut self, depth: u8) -> Result<()> {
        let at = self.position();
        let err = |kind| Error::cbor(kind, at);
        let initial = self.initial()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        // Reserved additional information, and a break or indefinite length where none can be.
        let indefinite = info == 31 && matches!(major, 2..=5);
        if info >= 28 && !indefinite {
            return Err(err(CborError::Malformed));
        }
        if indefinite && !self.limits.allow_indefinite {
            return Err(err(CborError::IndefiniteLength));
        }
        if matches!(major, 4..=6) && depth >= self.limits.max_depth {
            return Err(err(CborError::TooDeep));
        }
        // RFC 8949 section 3.3: 0xf8 followed by a value below 32 is not well-formed.
        if initial == 0xf8 && self.input().get(at + 1).is_some_and(|&n| n < 32) {
            return Err(err(CborError::Malformed));
        }
        if matches!(major, 2 | 3) && !indefinite {
            return self
                .string(major, Length::Definite(CborError::UnexpectedType))
                .map(|_| ());
        }
        // Items nested in it, or chunks of an indefinite string: a map's pairs are two items
        // each, counted as such. An indefinite length counts down from usize::MAX (odd) and ends
        // at a break where an entry could start: before any item, or before a map's key.
        // Counted in a `usize`, saturating: the input holds fewer items than `usize::MAX`, so a
        // larger count ends in the same error.
        let n = usize::try_from(self.head(major, Length::Any)?).unwrap_or(usize::MAX);
        let mut remaining = match major {
            _ if indefinite => usize::MAX,
            4 => n,
            5 => n.saturating_mul(2),
            6 => 1,
            _ => 0,
        };
        while remaining > 0 {
            if indefinite
                && (major != 5 || remaining & 1 == 1)
                && self.input().get(self.position()) == Some(&0xff)
            {
                // Consume the break byte itself.
                self.dec.set_position(self.position() + 1);
                break;
            }
            if major < 4 {
                // Chunk heads are not held to preferred serialization; a truncated chunk is
                // reported at the string's start.
                match self.string(major, Length::Chunk) {
                    Err(Error::Cbor {
                        kind: CborError::Truncated,
                        ..
                    }) => return Err(err(CborError::Truncated)),
                    chunk => chunk?,
                };
            } else {
                self.skip_at(depth + 1)?;
            }
            remaining -= 1;
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
