//! A cursor over bstr-wrapped CBOR that reports byte offsets from the start of the envelope.

use crate::error::{Error, Result};
use iot_core::CborError;
use iot_core::cbor::{Limits, Reader};
use minicbor::data::Type;

/// A byte string as it sits in its parent: the encoded item (head included, the input of
/// SUIT's digests), its content, and the absolute offset of the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Wrapped<'a> {
    pub encoded: &'a [u8],
    pub content: &'a [u8],
    pub base: usize,
}

impl<'a> Wrapped<'a> {
    /// A cursor over the content.
    pub fn cursor(&self) -> Cur<'a> {
        Cur::new(self.content, self.base)
    }
}

/// A run of `count` consecutive CBOR items (an array's or a map's content after its head; a map
/// counts its pairs), already validated, with the absolute offset of its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Items<'a> {
    pub bytes: &'a [u8],
    pub base: usize,
    pub count: usize,
}

impl<'a> Items<'a> {
    /// A cursor at the first item.
    pub fn cursor(&self) -> Cur<'a> {
        Cur::new(self.bytes, self.base)
    }
}

/// A bounded [`Reader`] whose errors and positions are shifted by `base`.
#[derive(Debug, Clone)]
pub(crate) struct Cur<'a> {
    r: Reader<'a>,
    base: usize,
}

/// Limits for SUIT: definite lengths only (as for the COSE structures it carries), the default
/// nesting depth for skipped items.
fn limits() -> Limits {
    Limits::default()
}

impl<'a> Cur<'a> {
    pub fn new(input: &'a [u8], base: usize) -> Self {
        Self {
            r: Reader::with_limits(input, limits()),
            base,
        }
    }

    /// The error mapping of every read: [`rebase`] through one call that is not inlined, so that
    /// the reads' error paths do not each hold a copy of it.
    fn rebase(&self) -> impl Fn(iot_core::Error) -> Error + use<> {
        #[inline(never)]
        fn shifted(e: iot_core::Error, base: usize) -> Error {
            rebase(e, base)
        }
        let base = self.base;
        move |e| shifted(e, base)
    }

    /// Absolute offset of the next item. Not inlined: it is read before almost every item
    /// (for the errors that name it), and each inlined copy cost more than the call.
    #[inline(never)]
    pub fn position(&self) -> usize {
        self.base.saturating_add(self.r.position())
    }

    pub fn err(&self, kind: CborError) -> Error {
        Error::Core(iot_core::Error::cbor(kind, self.position()))
    }

    pub fn datatype(&self) -> Result<Type> {
        self.r.datatype().map_err(self.rebase())
    }

    pub fn opt_tag(&mut self) -> Result<Option<u64>> {
        self.r.opt_tag().map_err(self.rebase())
    }

    pub fn array(&mut self) -> Result<u64> {
        self.r.array().map_err(self.rebase())
    }

    pub fn map(&mut self) -> Result<u64> {
        self.r.map().map_err(self.rebase())
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        self.r.bytes().map_err(self.rebase())
    }

    /// A byte string with its encoded form (head included) and absolute content offset.
    pub fn wrapped(&mut self) -> Result<Wrapped<'a>> {
        let start = self.r.position();
        let content = self.bytes()?;
        let end = self.r.position();
        let encoded = self
            .r
            .input()
            .get(start..end)
            .ok_or(self.err(CborError::Malformed))?;
        Ok(Wrapped {
            encoded,
            content,
            base: self.base.saturating_add(end.saturating_sub(content.len())),
        })
    }

    pub fn str(&mut self) -> Result<&'a str> {
        self.r.str().map_err(self.rebase())
    }

    /// An integer, such as a map key: anything else is `UnexpectedType` at the item (this
    /// cursor's limits do not require preferred serialization, which would be checked first).
    pub fn int(&mut self) -> Result<i64> {
        self.r.int().map_err(self.rebase())
    }

    /// An integer map key, recorded in `seen` by [`first_time`]: a repeat is `DuplicateKey` at
    /// the key. Not inlined: every map decoder reads its keys through it.
    #[inline(never)]
    pub fn key(&mut self, seen: &mut u64) -> Result<i64> {
        let at = self.position();
        let key = self.int()?;
        first_time(seen, key, at)?;
        Ok(key)
    }

    pub fn uint(&mut self) -> Result<u64> {
        self.r.uint().map_err(self.rebase())
    }

    /// An integer or a float, as `f64` (only delegation CWTs' NumericDates are numbers).
    #[cfg(feature = "delegation")]
    pub fn number(&mut self) -> Result<f64> {
        self.r.number().map_err(self.rebase())
    }

    pub fn bool(&mut self) -> Result<bool> {
        self.r.bool().map_err(self.rebase())
    }

    pub fn null(&mut self) -> Result<()> {
        self.r.null().map_err(self.rebase())
    }

    /// Skips one item and returns its encoded bytes.
    pub fn skip(&mut self) -> Result<&'a [u8]> {
        self.r.skip().map_err(self.rebase())
    }

    /// The bytes from absolute offset `start` up to the current position, as an [`Items`] of
    /// `count` items.
    pub fn items_since(&self, start: usize, count: usize) -> Result<Items<'a>> {
        let from = start.saturating_sub(self.base);
        let bytes = self
            .r
            .input()
            .get(from..self.r.position())
            .ok_or(self.err(CborError::Malformed))?;
        Ok(Items {
            bytes,
            base: start,
            count,
        })
    }

    pub fn finish(&self) -> Result<()> {
        self.r.finish().map_err(self.rebase())
    }
}

/// Shifts the offset of a CBOR error by `base`.
pub(crate) fn rebase(e: iot_core::Error, base: usize) -> Error {
    match e {
        iot_core::Error::Cbor { kind, offset } => {
            Error::Core(iot_core::Error::cbor(kind, offset.saturating_add(base)))
        }
        other => Error::Core(other),
    }
}

/// Records integer key `key` (found at byte `at`) in `seen` and fails on a repeat. Only keys
/// 0..=63 are tracked (every standard key of the maps this crate reads); custom negative keys are not.
#[inline(never)]
pub(crate) fn first_time(seen: &mut u64, key: i64, at: usize) -> Result<()> {
    if let Ok(bit) = u32::try_from(key)
        && bit < 64
    {
        let mask = 1u64 << bit;
        if *seen & mask != 0 {
            return Err(Error::Core(iot_core::Error::cbor(
                CborError::DuplicateKey,
                at,
            )));
        }
        *seen |= mask;
    }
    Ok(())
}
