//! Claim keys and other map keys: an integer or a text string (RFC 8392 section 3).

use crate::error::Result;
use crate::util::{enc, mismatch};
use core::cmp::Ordering;
use iot_core::cbor::{Reader, is_int};
use minicbor::data::Type;
use minicbor::encode::{Encoder, Write};

/// A map key: an integer or a text string.
///
/// The order is the one of RFC 8949 section 4.2.1 (bytewise order of the preferred encodings):
/// unsigned integers by value, then negative integers by magnitude, then text strings shortest
/// first and bytewise among equal lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label<'a> {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(&'a str),
}

impl<'a> Label<'a> {
    /// Decodes an integer or text key.
    pub fn decode(r: &mut Reader<'a>) -> Result<Self> {
        let at = r.position();
        let ty = r.datatype()?;
        if ty == Type::String {
            Ok(Self::Text(r.str()?))
        } else if is_int(ty) {
            Ok(Self::Int(r.int()?))
        } else {
            Err(mismatch(at))
        }
    }

    /// Encodes the key.
    pub fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        match *self {
            Self::Int(i) => e.i64(i).map_err(enc)?,
            Self::Text(t) => e.str(t).map_err(enc)?,
        };
        Ok(())
    }

    /// The integer key, if this is one.
    pub fn int(&self) -> Option<i64> {
        match *self {
            Self::Int(i) => Some(i),
            Self::Text(_) => None,
        }
    }

    /// (major type, argument, content): comparing these compares the preferred encodings.
    fn sort_key(&self) -> (u8, u64, &'a [u8]) {
        match *self {
            Self::Int(i) if i >= 0 => (0, i.unsigned_abs(), &[]),
            Self::Int(i) => (1, (i + 1).unsigned_abs(), &[]),
            Self::Text(t) => (3, t.len() as u64, t.as_bytes()),
        }
    }
}

impl Ord for Label<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Label<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iot_core::cbor::SliceWriter;

    fn encoded(l: Label<'_>) -> ([u8; 32], usize) {
        let mut buf = [0u8; 32];
        let mut w = SliceWriter::new(&mut buf);
        l.encode(&mut Encoder::new(&mut w)).unwrap();
        let n = w.len();
        (buf, n)
    }

    #[test]
    fn order_is_bytewise_order_of_encodings() {
        let labels = [
            Label::Int(0),
            Label::Int(23),
            Label::Int(24),
            Label::Int(255),
            Label::Int(256),
            Label::Int(2400),
            Label::Int(65536),
            Label::Int(-1),
            Label::Int(-24),
            Label::Int(-25),
            Label::Int(-75000),
            Label::Int(-75010),
            Label::Int(i64::MIN),
            Label::Text(""),
            Label::Text("b"),
            Label::Text("aa"),
            Label::Text("ab"),
        ];
        for a in labels {
            for b in labels {
                let (ea, na) = encoded(a);
                let (eb, nb) = encoded(b);
                assert_eq!(a.cmp(&b), ea[..na].cmp(&eb[..nb]), "{a:?} vs {b:?}");
            }
        }
    }
}
