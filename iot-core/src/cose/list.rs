//! The arrays of COSE_Signature and COSE_recipient items (RFC 9052 sections 4.1, 5.1, 6.1), held
//! as the borrowed bytes they came in: checked once at decode, decoded again on demand, so that a
//! message with several of them costs no storage per item.

use crate::cbor::{Limits, Reader};
use crate::error::{CborError, Error, Result};
use core::marker::PhantomData;

/// An item of a [`CoseList`]: decodable from a reader and carrying a key id.
pub trait ListItem<'a>: Sized {
    /// Decodes one item from `r`.
    fn decode_from(r: &mut Reader<'a>) -> Result<Self>;
    /// The item's key id, protected bucket first.
    fn kid(&self) -> Option<&'a [u8]>;
}

/// A bounded, non-empty array of `T` borrowed from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseList<'a, T> {
    items: &'a [u8],
    len: usize,
    limits: Limits,
    item: PhantomData<fn() -> T>,
}

impl<'a, T: ListItem<'a>> CoseList<'a, T> {
    /// Reads an array of 1 to `max` items from `r`, checking each; more than `max` is
    /// [`CborError::TooMany`], none is [`CborError::UnexpectedType`].
    pub(crate) fn decode(r: &mut Reader<'a>, max: usize) -> Result<Self> {
        let at = r.position();
        let n = r.array()?;
        if n == 0 {
            return Err(Error::cbor(CborError::UnexpectedType, at));
        }
        if n > max as u64 {
            return Err(Error::cbor(CborError::TooMany, at));
        }
        let start = r.position();
        for _ in 0..n {
            T::decode_from(r)?;
        }
        Ok(Self {
            items: r.input().get(start..r.position()).unwrap_or_default(),
            len: n as usize,
            limits: r.limits(),
            item: PhantomData,
        })
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when there is no item (never, for a decoded message).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The items in order.
    pub fn iter(&self) -> CoseListIter<'a, T> {
        CoseListIter {
            r: Reader::with_limits(self.items, self.limits),
            remaining: self.len,
            item: PhantomData,
        }
    }

    /// Item `index`, or [`Error::NotFound`].
    pub fn get(&self, index: usize) -> Result<T> {
        self.iter().nth(index).ok_or(Error::NotFound)
    }

    /// The first item whose key id is `kid`, with its index, or [`Error::NotFound`].
    pub fn find_kid(&self, kid: &[u8]) -> Result<(usize, T)> {
        self.iter()
            .enumerate()
            .find(|(_, item)| item.kid() == Some(kid))
            .ok_or(Error::NotFound)
    }
}

impl<'a, T: ListItem<'a>> IntoIterator for &CoseList<'a, T> {
    type Item = T;
    type IntoIter = CoseListIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the items of a [`CoseList`].
#[derive(Debug, Clone)]
pub struct CoseListIter<'a, T> {
    r: Reader<'a>,
    remaining: usize,
    item: PhantomData<fn() -> T>,
}

impl<'a, T: ListItem<'a>> Iterator for CoseListIter<'a, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        // Every item decoded once already when the list was made.
        T::decode_from(&mut self.r).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}
