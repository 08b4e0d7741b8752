//! Arrays and maps of claim values without a heap: borrowed from the input when decoded,
//! borrowed from the caller's slice when encoded, iterated the same way in both cases.

use crate::error::{Error, Result};
use crate::label::Label;
use crate::util::{enc, invalid, relaxed};
use iot_core::CborError;
use iot_core::cbor::{Limits, Reader};
use minicbor::encode::{Encoder, Write};

/// How many entries a map-shaped value (submodules, sueids) may hold: its duplicate-key check
/// and its deterministic encoding are quadratic in this.
pub const MAX_MAP_ENTRIES: u64 = 32;

/// What an element decoder needs to know about where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// Submodule nesting depth of the claims-set the value belongs to (0 for the top).
    pub depth: u8,
    /// `false` when re-reading input that was already validated (iteration).
    pub validate: bool,
    /// The limits the input was decoded with.
    pub limits: Limits,
}

impl Ctx {
    pub(crate) fn top(limits: Limits) -> Self {
        Self {
            depth: 0,
            validate: true,
            limits,
        }
    }
}

/// One element of a [`Seq`]: an array element, or one key/value pair of a map.
pub trait Item<'a>: Sized + Clone {
    /// `true` when the container is a map and an element is one key/value pair.
    const PAIR: bool = false;
    /// Decodes one element.
    fn decode(r: &mut Reader<'a>, ctx: Ctx) -> Result<Self>;
    /// Encodes one element; fails with [`Error::InvalidClaim`] for a value its definition forbids.
    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()>;
    /// The map key of a pair.
    fn label(&self) -> Label<'a> {
        Label::Int(0)
    }
}

impl<'a> Item<'a> for &'a str {
    fn decode(r: &mut Reader<'a>, _: Ctx) -> Result<Self> {
        Ok(r.str()?)
    }
    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.str(self).map_err(enc)?;
        Ok(())
    }
}

impl<'a> Item<'a> for &'a [u8] {
    fn decode(r: &mut Reader<'a>, _: Ctx) -> Result<Self> {
        Ok(r.bytes()?)
    }
    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.bytes(self).map_err(enc)?;
        Ok(())
    }
}

/// A decoded array or map, kept as its encoded bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded<'a> {
    raw: &'a [u8],
    len: u64,
    ctx: Ctx,
}

impl<'a> Encoded<'a> {
    /// The encoded item as received.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
}

/// An array (or map) of `T`: decoded from the input, or given by the caller to encode.
#[derive(Debug, Clone, Copy)]
pub enum Seq<'a, T> {
    /// Elements decoded from an input, read again on iteration.
    Decoded(Encoded<'a>),
    /// Elements given by the caller.
    Items(&'a [T]),
}

impl<'a, T: Item<'a>> Seq<'a, T> {
    /// Decodes an array (a map when `T::PAIR`) of at least `min` elements.
    pub fn decode(r: &mut Reader<'a>, ctx: Ctx, min: u64) -> Result<Self> {
        let start = r.position();
        let len = if T::PAIR { r.map()? } else { r.array()? };
        if len < min {
            return Err(invalid(start));
        }
        if T::PAIR && len > MAX_MAP_ENTRIES {
            return Err(iot_core::Error::CapacityExceeded.into());
        }
        for _ in 0..len {
            T::decode(r, ctx)?;
        }
        let raw = r.input().get(start..r.position()).unwrap_or_default();
        if T::PAIR && ctx.validate {
            check_unique_keys(raw, start, ctx.limits)?;
        }
        Ok(Self::Decoded(Encoded { raw, len, ctx }))
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            Self::Decoded(d) => usize::try_from(d.len).unwrap_or(usize::MAX),
            Self::Items(items) => items.len(),
        }
    }

    /// `true` when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements, in input (or slice) order.
    pub fn iter(&self) -> SeqIter<'a, T> {
        match *self {
            Self::Decoded(d) => {
                let mut r = Reader::with_limits(d.raw, relaxed(d.ctx.limits));
                let head = if T::PAIR { r.map() } else { r.array() };
                let ctx = Ctx {
                    validate: false,
                    ..d.ctx
                };
                SeqIter::Decoded {
                    r,
                    remaining: head.map(|_| d.len).unwrap_or(0),
                    ctx,
                }
            }
            Self::Items(items) => SeqIter::Items(items.iter()),
        }
    }

    /// Encodes at least `min` elements; a map's entries go in deterministic key order
    /// (RFC 8949 section 4.2.1) whatever the order given, and duplicate keys are refused.
    pub fn encode<W: Write>(&self, e: &mut Encoder<W>, min: u64) -> Result<()> {
        let len = self.len() as u64;
        if len < min {
            return Err(invalid(0));
        }
        if !T::PAIR {
            e.array(len).map_err(enc)?;
            for item in self.iter() {
                item.encode(e)?;
            }
            return Ok(());
        }
        if len > MAX_MAP_ENTRIES {
            return Err(iot_core::Error::CapacityExceeded.into());
        }
        e.map(len).map_err(enc)?;
        let mut last: Option<Label<'a>> = None;
        for _ in 0..len {
            let mut best: Option<T> = None;
            for item in self.iter() {
                let l = item.label();
                if last.is_some_and(|last| l <= last) {
                    continue;
                }
                if best.as_ref().is_none_or(|b| l < b.label()) {
                    best = Some(item);
                }
            }
            // Fewer distinct keys than entries: a duplicate key.
            let best = best.ok_or(invalid(0))?;
            best.encode(e)?;
            last = Some(best.label());
        }
        Ok(())
    }
}

impl<'a, T: Item<'a> + PartialEq> PartialEq for Seq<'a, T> {
    /// Arrays compare element by element in order; maps compare as sets of entries.
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        if T::PAIR {
            self.iter().all(|a| other.iter().any(|b| a == b))
        } else {
            self.iter().eq(other.iter())
        }
    }
}

/// Iterator over the elements of a [`Seq`].
#[derive(Debug, Clone)]
pub enum SeqIter<'a, T> {
    #[doc(hidden)]
    Decoded {
        r: Reader<'a>,
        remaining: u64,
        ctx: Ctx,
    },
    #[doc(hidden)]
    Items(core::slice::Iter<'a, T>),
}

impl<'a, T: Item<'a>> Iterator for SeqIter<'a, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Self::Decoded { r, remaining, ctx } => {
                if *remaining == 0 {
                    return None;
                }
                *remaining -= 1;
                // The input was validated when it was decoded, so this does not fail.
                T::decode(r, *ctx).ok()
            }
            Self::Items(it) => it.next().cloned(),
        }
    }
}

/// Fails with a duplicate-key error when a key of the map `raw` (at `base` in the input) occurs twice.
fn check_unique_keys(raw: &[u8], base: usize, limits: Limits) -> Result<()> {
    let limits = relaxed(limits);
    let mut outer = Reader::with_limits(raw, limits);
    let n = outer.map()?;
    for i in 0..n {
        let key = Label::decode(&mut outer)?;
        outer.skip()?;
        let mut inner = outer.clone();
        for _ in i + 1..n {
            let other_at = inner.position();
            if Label::decode(&mut inner)? == key {
                return Err(Error::Core(iot_core::Error::cbor(
                    CborError::DuplicateKey,
                    base + other_at,
                )));
            }
            inner.skip()?;
        }
    }
    Ok(())
}
