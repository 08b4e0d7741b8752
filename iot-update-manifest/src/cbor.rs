//! A cursor over bstr-wrapped CBOR that reports byte offsets from the start of the envelope.
//!
//! Every cursor reads the envelope itself (cut off at the end of the item it reads), positioned at
//! that item: its positions and its errors' offsets are the envelope's with no arithmetic, which
//! keeps every read a plain call on thumbv7em (shifting each read's error by a base cost 0.8 KB).

use crate::error::{Error, Result};
use iot_core::CborError;
use iot_core::cbor::{Limits, Reader};
use minicbor::data::Type;

/// A byte string as it sits in its parent: the encoded item (head included, the input of
/// SUIT's digests), and its content as the offset `base` in `outer`, the input up to the
/// content's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Wrapped<'a> {
    pub encoded: &'a [u8],
    pub outer: &'a [u8],
    pub base: usize,
}

impl<'a> Wrapped<'a> {
    /// The content.
    pub fn content(&self) -> &'a [u8] {
        self.outer.get(self.base..).unwrap_or_default()
    }

    /// A cursor over the content.
    pub fn cursor(&self) -> Cur<'a> {
        Cur::new(self.outer, self.base)
    }
}

/// A run of `count` consecutive CBOR items (an array's or a map's content after its head; a map
/// counts its pairs), already validated: the offset `base` of its first byte in `outer`, the
/// input up to the run's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Items<'a> {
    pub outer: &'a [u8],
    pub base: usize,
    pub count: usize,
}

impl<'a> Items<'a> {
    /// A cursor at the first item.
    pub fn cursor(&self) -> Cur<'a> {
        Cur::new(self.outer, self.base)
    }
}

/// A bounded [`Reader`] over the input up to the end of the item it reads.
#[derive(Debug, Clone)]
pub(crate) struct Cur<'a> {
    r: Reader<'a>,
}

/// Limits for SUIT: definite lengths only (as for the COSE structures it carries), the default
/// nesting depth for skipped items.
fn limits() -> Limits {
    Limits::default()
}

impl<'a> Cur<'a> {
    /// A cursor over `outer` whose next item is at byte `at`.
    pub fn new(outer: &'a [u8], at: usize) -> Self {
        Self {
            r: Reader::with_limits_at(outer, at, limits()),
        }
    }

    /// Offset of the next item.
    pub fn position(&self) -> usize {
        self.r.position()
    }

    pub fn err(&self, kind: CborError) -> Error {
        Error::Core(iot_core::Error::cbor(kind, self.position()))
    }

    pub fn datatype(&self) -> Result<Type> {
        Ok(self.r.datatype()?)
    }

    pub fn opt_tag(&mut self) -> Result<Option<u64>> {
        Ok(self.r.opt_tag()?)
    }

    pub fn array(&mut self) -> Result<u64> {
        Ok(self.r.array()?)
    }

    pub fn map(&mut self) -> Result<u64> {
        Ok(self.r.map()?)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        Ok(self.r.bytes()?)
    }

    /// A byte string with its encoded form (head included) and content offset.
    pub fn wrapped(&mut self) -> Result<Wrapped<'a>> {
        let start = self.r.position();
        let content = self.bytes()?;
        let end = self.r.position();
        let input = self.r.input();
        let (Some(encoded), Some(outer)) = (input.get(start..end), input.get(..end)) else {
            return Err(self.err(CborError::Malformed));
        };
        Ok(Wrapped {
            encoded,
            outer,
            base: end.saturating_sub(content.len()),
        })
    }

    pub fn str(&mut self) -> Result<&'a str> {
        Ok(self.r.str()?)
    }

    /// An integer, such as a map key: anything else is `UnexpectedType` at the item (this
    /// cursor's limits do not require preferred serialization, which would be checked first).
    pub fn int(&mut self) -> Result<i64> {
        Ok(self.r.int()?)
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
        Ok(self.r.uint()?)
    }

    /// An integer or a float, as `f64` (only delegation CWTs' NumericDates are numbers).
    #[cfg(feature = "delegation")]
    pub fn number(&mut self) -> Result<f64> {
        Ok(self.r.number()?)
    }

    pub fn bool(&mut self) -> Result<bool> {
        Ok(self.r.bool()?)
    }

    pub fn null(&mut self) -> Result<()> {
        Ok(self.r.null()?)
    }

    /// Skips one item and returns its encoded bytes.
    pub fn skip(&mut self) -> Result<&'a [u8]> {
        Ok(self.r.skip()?)
    }

    /// The items from offset `start` up to the current position, as an [`Items`] of `count`.
    pub fn items_since(&self, start: usize, count: usize) -> Result<Items<'a>> {
        let outer = self
            .r
            .input()
            .get(..self.r.position())
            .ok_or(self.err(CborError::Malformed))?;
        Ok(Items {
            outer,
            base: start,
            count,
        })
    }

    pub fn finish(&self) -> Result<()> {
        Ok(self.r.finish()?)
    }
}

/// An item count from a CBOR head as a loop bound. A count past `usize::MAX` saturates, which
/// changes nothing: every item takes at least a byte of an input shorter than that, so the reads
/// fail at the same item either way. On 32-bit targets a `usize` counter is cheaper than a `u64`.
pub(crate) fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
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
