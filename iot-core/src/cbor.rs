//! Bounded CBOR decoding (RFC 8949) on top of minicbor.
//!
//! [`Reader`] wraps [`minicbor::Decoder`] and adds what a device-side decoder of untrusted input needs:
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

fn map_err(e: &minicbor::decode::Error, offset: usize) -> Error {
    let kind = if e.is_end_of_input() {
        CborError::Truncated
    } else if e.is_type_mismatch() {
        CborError::UnexpectedType
    } else {
        CborError::Malformed
    };
    Error::cbor(kind, e.position().unwrap_or(offset))
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

    /// Checks the head at the current position for preferred serialization when required.
    fn check_head(&self) -> Result<()> {
        if !self.limits.require_preferred {
            return Ok(());
        }
        let input = self.input().get(self.position()..).unwrap_or_default();
        let Some((&initial, rest)) = input.split_first() else {
            return Err(self.err(CborError::Truncated));
        };
        let major = initial >> 5;
        if major == 7 {
            // Simple values and floats: shortest-float rules are not checked here.
            return Ok(());
        }
        let len = match initial & 0x1f {
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return Ok(()),
        };
        let value = rest
            .get(..len)
            .ok_or_else(|| self.err(CborError::Truncated))?
            .iter()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b));
        let shortest = match value {
            0..=23 => 23,
            24..=0xff => 24,
            0x100..=0xffff => 25,
            0x1_0000..=0xffff_ffff => 26,
            _ => 27,
        };
        if initial & 0x1f == shortest {
            Ok(())
        } else {
            Err(self.err(CborError::NotPreferred))
        }
    }

    /// The type of the next item, without consuming it.
    pub fn datatype(&self) -> Result<Type> {
        self.dec
            .datatype()
            .map_err(|e| map_err(&e, self.position()))
    }

    /// If the next item is a tag, consumes it and returns its number.
    pub fn opt_tag(&mut self) -> Result<Option<u64>> {
        if self.is_empty() || self.datatype()? != Type::Tag {
            return Ok(None);
        }
        self.check_head()?;
        let at = self.position();
        self.dec
            .tag()
            .map(|t| Some(t.as_u64()))
            .map_err(|e| map_err(&e, at))
    }

    /// Consumes a definite-length array head and returns its length.
    pub fn array(&mut self) -> Result<u64> {
        self.check_head()?;
        let at = self.position();
        match self.dec.array().map_err(|e| map_err(&e, at))? {
            Some(n) => Ok(n),
            None => Err(Error::cbor(CborError::IndefiniteLength, at)),
        }
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
        self.check_head()?;
        let at = self.position();
        match self.dec.map().map_err(|e| map_err(&e, at))? {
            Some(n) => Ok(n),
            None => Err(Error::cbor(CborError::IndefiniteLength, at)),
        }
    }

    /// Consumes a definite-length byte string.
    pub fn bytes(&mut self) -> Result<&'b [u8]> {
        self.check_head()?;
        let at = self.position();
        if self.datatype()? == Type::BytesIndef {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        self.dec.bytes().map_err(|e| map_err(&e, at))
    }

    /// Consumes a definite-length text string.
    pub fn str(&mut self) -> Result<&'b str> {
        self.check_head()?;
        let at = self.position();
        if self.datatype()? == Type::StringIndef {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        self.dec.str().map_err(|e| map_err(&e, at))
    }

    /// Consumes an integer (major type 0 or 1) that fits an `i64`.
    pub fn int(&mut self) -> Result<i64> {
        self.check_head()?;
        let at = self.position();
        self.dec.i64().map_err(|e| map_err(&e, at))
    }

    /// Consumes an unsigned integer (major type 0).
    pub fn uint(&mut self) -> Result<u64> {
        self.check_head()?;
        let at = self.position();
        self.dec.u64().map_err(|e| map_err(&e, at))
    }

    /// Consumes a boolean.
    pub fn bool(&mut self) -> Result<bool> {
        let at = self.position();
        self.dec.bool().map_err(|e| map_err(&e, at))
    }

    /// Consumes a `null`.
    pub fn null(&mut self) -> Result<()> {
        let at = self.position();
        self.dec.null().map_err(|e| map_err(&e, at))
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
        let ty = self.datatype()?;
        let indefinite = matches!(
            ty,
            Type::BytesIndef | Type::StringIndef | Type::ArrayIndef | Type::MapIndef
        );
        if indefinite && !self.limits.allow_indefinite {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        let nested = matches!(
            ty,
            Type::Array | Type::ArrayIndef | Type::Map | Type::MapIndef | Type::Tag
        );
        if nested && depth >= self.limits.max_depth {
            return Err(Error::cbor(CborError::TooDeep, at));
        }
        self.check_head()?;
        let me = |e: minicbor::decode::Error| map_err(&e, at);
        match ty {
            Type::Array | Type::ArrayIndef | Type::Map | Type::MapIndef => {
                let is_map = matches!(ty, Type::Map | Type::MapIndef);
                let len = if is_map {
                    self.dec.map().map_err(me)?
                } else {
                    self.dec.array().map_err(me)?
                };
                let per_entry = if is_map { 2 } else { 1 };
                match len {
                    Some(n) => {
                        for _ in 0..n {
                            for _ in 0..per_entry {
                                self.skip_at(depth + 1)?;
                            }
                        }
                    }
                    None => loop {
                        if self.datatype()? == Type::Break {
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
            Type::Tag => {
                self.dec.tag().map_err(me)?;
                self.skip_at(depth + 1)?;
            }
            Type::Break | Type::Unknown(_) => return Err(Error::cbor(CborError::Malformed, at)),
            // RFC 8949 section 3.3: 0xf8 followed by a value below 32 is not well-formed.
            Type::Simple
                if self.input().get(at) == Some(&0xf8)
                    && self.input().get(at + 1).is_some_and(|&n| n < 32) =>
            {
                return Err(Error::cbor(CborError::Malformed, at));
            }
            // Scalars and strings (definite or, when allowed, indefinite): minicbor skips them whole.
            _ => self.dec.skip().map_err(me)?,
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

/// Maps an encoder error over a [`SliceWriter`] (or any writer whose error converts) to [`Error`].
pub fn enc_err<E: Into<Error>>(e: minicbor::encode::Error<E>) -> Error {
    match e.into_write() {
        Some(w) => w.into(),
        None => Error::BufferTooSmall,
    }
}
