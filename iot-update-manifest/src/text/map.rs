//! Decoding `SUIT_Text_Map` (draft-ietf-suit-manifest "Manifest Text").

use crate::cbor::{Cur, Items, first_time};
use crate::component::ComponentId;
use crate::error::Result;
use iot_core::CborError;
use minicbor::data::Type;

/// `SUIT_Text_Map = {+ tag38-ltag => SUIT_Text_LMap}`: the texts per language tag, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text<'a> {
    items: Items<'a>,
}

impl<'a> Text<'a> {
    pub(crate) fn decode(mut c: Cur<'a>) -> Result<Self> {
        let n = c.map()?;
        let start = c.position();
        let count = usize::try_from(n).map_err(|_| c.err(CborError::TooMany))?;
        for _ in 0..count {
            c.str()?;
            Language::decode(&mut c)?;
        }
        c.finish()?;
        Ok(Self {
            items: c.items_since(start, count)?,
        })
    }

    /// The languages with their texts.
    pub fn languages(&self) -> impl Iterator<Item = (&'a str, Language<'a>)> + use<'a> {
        let mut c = self.items.cursor();
        (0..self.items.count)
            .map_while(move |_| Some((c.str().ok()?, Language::decode(&mut c).ok()?)))
    }

    /// The texts for language tag `tag` (compared exactly).
    pub fn language(&self, tag: &str) -> Option<Language<'a>> {
        self.languages().find(|(t, _)| *t == tag).map(|(_, l)| l)
    }
}

/// `SUIT_Text_LMap`: the manifest's texts and each component's, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language<'a> {
    items: Items<'a>,
}

/// One entry of a [`Language`] map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEntry<'a> {
    /// A manifest-wide text ([`super::key`]).
    Manifest {
        /// The key.
        key: i64,
        /// The text.
        text: &'a str,
    },
    /// The texts about one component ([`super::component_key`]).
    Component {
        /// The component.
        component: ComponentId<'a>,
        /// Its texts.
        texts: ComponentTexts<'a>,
    },
}

impl<'a> Language<'a> {
    fn decode(c: &mut Cur<'a>) -> Result<Self> {
        let n = c.map()?;
        let start = c.position();
        let count = usize::try_from(n).map_err(|_| c.err(CborError::TooMany))?;
        let mut seen = 0u64;
        for _ in 0..count {
            let at = c.position();
            if let TextEntry::Manifest { key, .. } = read_entry(c)? {
                first_time(&mut seen, key, at)?;
            }
        }
        Ok(Self {
            items: c.items_since(start, count)?,
        })
    }

    /// The entries, in encoded order.
    pub fn entries(&self) -> impl Iterator<Item = TextEntry<'a>> + use<'a> {
        let mut c = self.items.cursor();
        (0..self.items.count).map_while(move |_| read_entry(&mut c).ok())
    }

    /// The manifest-wide text under `key`.
    pub fn get(&self, key: i64) -> Option<&'a str> {
        self.entries().find_map(|e| match e {
            TextEntry::Manifest { key: k, text } if k == key => Some(text),
            _ => None,
        })
    }
}

fn read_entry<'a>(c: &mut Cur<'a>) -> Result<TextEntry<'a>> {
    if c.datatype()? == Type::Array {
        let component = ComponentId::decode(c)?;
        let texts = ComponentTexts::decode(c)?;
        Ok(TextEntry::Component { component, texts })
    } else {
        let key = c.int()?;
        let text = c.str()?;
        Ok(TextEntry::Manifest { key, text })
    }
}

/// `{+ SUIT_Text_Component_Keys => tstr}`: one component's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentTexts<'a> {
    items: Items<'a>,
}

impl<'a> ComponentTexts<'a> {
    fn decode(c: &mut Cur<'a>) -> Result<Self> {
        let n = c.map()?;
        let start = c.position();
        let count = usize::try_from(n).map_err(|_| c.err(CborError::TooMany))?;
        let mut seen = 0u64;
        for _ in 0..count {
            c.key(&mut seen)?;
            c.str()?;
        }
        Ok(Self {
            items: c.items_since(start, count)?,
        })
    }

    /// The `(key, text)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &'a str)> + use<'a> {
        let mut c = self.items.cursor();
        (0..self.items.count).map_while(move |_| Some((c.int().ok()?, c.str().ok()?)))
    }

    /// The text under `key`.
    pub fn get(&self, key: i64) -> Option<&'a str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, t)| t)
    }
}
