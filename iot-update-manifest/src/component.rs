//! Component identifiers and the component list (draft-ietf-suit-manifest "SUIT_Component_Identifier"),
//! dependencies (draft-ietf-suit-trust-domains "SUIT_Dependencies", feature `dependencies`).

use crate::MAX_COMPONENTS;
use crate::cbor::{Cur, Items};
#[cfg(feature = "dependencies")]
use crate::error::MapKind;
use crate::error::{Capacity, Error, Result};

/// `SUIT_Component_Identifier = [* bstr]`: a path of byte-string segments, borrowed and validated.
#[derive(Debug, Clone, Copy, Eq)]
pub struct ComponentId<'a> {
    items: Items<'a>,
}

impl<'a> ComponentId<'a> {
    pub(crate) fn decode(c: &mut Cur<'a>) -> Result<Self> {
        let n = c.array()?;
        let start = c.position();
        // One counter for the loop and the count: each segment takes at least a byte of the
        // input, so it stays far below `usize::MAX`.
        let mut count = 0usize;
        while (count as u64) < n {
            c.bytes()?;
            count += 1;
        }
        Ok(Self {
            items: c.items_since(start, count)?,
        })
    }

    /// The segments, in order.
    pub fn segments(&self) -> Segments<'a> {
        Segments {
            c: self.items.cursor(),
            left: self.items.count,
        }
    }

    /// The number of segments.
    pub fn len(&self) -> usize {
        self.items.count
    }

    /// `true` for the empty identifier `[]`.
    pub fn is_empty(&self) -> bool {
        self.items.count == 0
    }
}

impl PartialEq for ComponentId<'_> {
    /// Identifiers are equal when their segments are (whatever the length encodings).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.segments().eq(other.segments())
    }
}

/// The segments of a [`ComponentId`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    c: Cur<'a>,
    left: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Validated when decoded.
        self.c.bytes().ok()
    }
}

/// `SUIT_Components = [+ SUIT_Component_Identifier]`, at most [`MAX_COMPONENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components<'a> {
    items: Items<'a>,
}

impl<'a> Components<'a> {
    pub(crate) fn decode(c: &mut Cur<'a>) -> Result<Self> {
        let at = c.position();
        let n = c.array()?;
        if n == 0 {
            return Err(Error::Core(iot_core::Error::cbor(
                iot_core::CborError::UnexpectedType,
                at,
            )));
        }
        if n > MAX_COMPONENTS as u64 {
            return Err(Error::CapacityExceeded(Capacity::Components));
        }
        let start = c.position();
        // At most `MAX_COMPONENTS`: `as` is exact.
        let count = n as usize;
        for _ in 0..count {
            ComponentId::decode(c)?;
        }
        Ok(Self {
            items: c.items_since(start, count)?,
        })
    }

    /// The number of components (at least one).
    pub fn len(&self) -> usize {
        self.items.count
    }

    /// Always `false`: the CDDL requires at least one component.
    pub fn is_empty(&self) -> bool {
        self.items.count == 0
    }

    /// The components in index order.
    pub fn iter(&self) -> ComponentIter<'a> {
        ComponentIter {
            c: self.items.cursor(),
            left: self.items.count,
        }
    }

    /// The component at `index`.
    pub fn get(&self, index: usize) -> Option<ComponentId<'a>> {
        self.iter().nth(index)
    }
}

/// The identifiers of [`Components`].
#[derive(Debug, Clone)]
pub struct ComponentIter<'a> {
    c: Cur<'a>,
    left: usize,
}

impl<'a> Iterator for ComponentIter<'a> {
    type Item = ComponentId<'a>;
    fn next(&mut self) -> Option<ComponentId<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        ComponentId::decode(&mut self.c).ok()
    }
}

#[cfg(feature = "dependencies")]
/// One entry of `SUIT_Dependencies = {+ uint => SUIT_Dependency_Metadata}`
/// (draft-ietf-suit-trust-domains "SUIT_Dependencies").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependency<'a> {
    /// The component index where the dependency manifest is found.
    pub index: u64,
    /// `suit-dependency-prefix` (1): the prefix the dependency's component ids are placed under.
    pub prefix: Option<ComponentId<'a>>,
}

#[cfg(feature = "dependencies")]
/// `suit-dependency-prefix`.
const DEPENDENCY_PREFIX: i64 = 1;

#[cfg(feature = "dependencies")]
/// `SUIT_Dependencies`, validated; at most [`MAX_COMPONENTS`] entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependencies<'a> {
    items: Items<'a>,
}

#[cfg(feature = "dependencies")]
impl<'a> Dependencies<'a> {
    pub(crate) fn decode(c: &mut Cur<'a>) -> Result<Self> {
        let n = c.map()?;
        if n > MAX_COMPONENTS as u64 {
            return Err(Error::CapacityExceeded(Capacity::Components));
        }
        let start = c.position();
        let mut indices = [0u64; MAX_COMPONENTS];
        // At most `MAX_COMPONENTS`: `as` is exact.
        let count = n as usize;
        for i in 0..count {
            let at = c.position();
            let d = decode_dependency(c)?;
            // Only the indices read so far: any uint is an index, so no value marks a free slot.
            if indices.get(..i).is_some_and(|seen| seen.contains(&d.index)) {
                return Err(Error::Core(iot_core::Error::cbor(
                    iot_core::CborError::DuplicateKey,
                    at,
                )));
            }
            if let Some(slot) = indices.get_mut(i) {
                *slot = d.index;
            }
        }
        Ok(Self {
            items: c.items_since(start, count)?,
        })
    }

    /// The number of dependencies.
    pub fn len(&self) -> usize {
        self.items.count
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.count == 0
    }

    /// The dependencies, in encoded order.
    pub fn iter(&self) -> DependencyIter<'a> {
        DependencyIter {
            c: self.items.cursor(),
            left: self.items.count,
        }
    }
}

#[cfg(feature = "dependencies")]
fn decode_dependency<'a>(c: &mut Cur<'a>) -> Result<Dependency<'a>> {
    let index = c.uint()?;
    let n = c.map()?;
    let mut prefix = None;
    let mut seen = 0u64;
    for _ in 0..crate::cbor::count(n) {
        let key = c.key(&mut seen)?;
        match key {
            DEPENDENCY_PREFIX => prefix = Some(ComponentId::decode(c)?),
            k if k < 0 => {
                // Custom members ($$SUIT_Dependency_Extensions with negative keys).
                c.skip()?;
            }
            key => {
                return Err(Error::UnknownMember {
                    map: MapKind::Dependency,
                    key: iot_core::Error::label(key),
                });
            }
        }
    }
    Ok(Dependency { index, prefix })
}

#[cfg(feature = "dependencies")]
/// The entries of [`Dependencies`].
#[derive(Debug, Clone)]
pub struct DependencyIter<'a> {
    c: Cur<'a>,
    left: usize,
}

#[cfg(feature = "dependencies")]
impl<'a> Iterator for DependencyIter<'a> {
    type Item = Dependency<'a>;
    fn next(&mut self) -> Option<Dependency<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        decode_dependency(&mut self.c).ok()
    }
}
