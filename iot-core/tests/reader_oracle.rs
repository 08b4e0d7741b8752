//! The CBOR reader against an oracle: the reads as they were when `Reader` delegated them to
//! minicbor's `Decoder` (its error mapping included). Since `Reader` reads heads itself, every
//! typed read and `skip` must give the same value, error (kind and offset) and position as the
//! oracle on any input and under every limit.

// .clippy.toml lets #[test] functions unwrap, panic and index; the oracle below is test code too.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use iot_core::cbor::{Limits, Reader};
use iot_core::{CborError, Error};
use minicbor::data::Type;
use proptest::prelude::*;

type Result<T> = core::result::Result<T, Error>;

/// The former `Reader`, on minicbor's `Decoder`.
#[derive(Debug, Clone)]
struct Old<'b> {
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

impl<'b> Old<'b> {
    /// A reader over `input` with the given limits.
    fn with_limits(input: &'b [u8], limits: Limits) -> Self {
        Self {
            dec: minicbor::Decoder::new(input),
            limits,
        }
    }

    /// Byte offset of the next item.
    fn position(&self) -> usize {
        self.dec.position()
    }

    /// The whole input.
    fn input(&self) -> &'b [u8] {
        self.dec.input()
    }

    /// `true` when every byte has been consumed.
    fn is_empty(&self) -> bool {
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
    fn datatype(&self) -> Result<Type> {
        self.dec
            .datatype()
            .map_err(|e| map_err(&e, self.position()))
    }

    /// If the next item is a tag, consumes it and returns its number.
    fn opt_tag(&mut self) -> Result<Option<u64>> {
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
    fn array(&mut self) -> Result<u64> {
        self.check_head()?;
        let at = self.position();
        match self.dec.array().map_err(|e| map_err(&e, at))? {
            Some(n) => Ok(n),
            None => Err(Error::cbor(CborError::IndefiniteLength, at)),
        }
    }

    /// Consumes a definite-length map head and returns its number of pairs.
    fn map(&mut self) -> Result<u64> {
        self.check_head()?;
        let at = self.position();
        match self.dec.map().map_err(|e| map_err(&e, at))? {
            Some(n) => Ok(n),
            None => Err(Error::cbor(CborError::IndefiniteLength, at)),
        }
    }

    /// Consumes a definite-length byte string.
    fn bytes(&mut self) -> Result<&'b [u8]> {
        self.check_head()?;
        let at = self.position();
        if self.datatype()? == Type::BytesIndef {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        self.dec.bytes().map_err(|e| map_err(&e, at))
    }

    /// Consumes a definite-length text string.
    fn str(&mut self) -> Result<&'b str> {
        self.check_head()?;
        let at = self.position();
        if self.datatype()? == Type::StringIndef {
            return Err(Error::cbor(CborError::IndefiniteLength, at));
        }
        self.dec.str().map_err(|e| map_err(&e, at))
    }

    /// Consumes an integer (major type 0 or 1) that fits an `i64`.
    fn int(&mut self) -> Result<i64> {
        self.check_head()?;
        let at = self.position();
        self.dec.i64().map_err(|e| map_err(&e, at))
    }

    /// Consumes an unsigned integer (major type 0).
    fn uint(&mut self) -> Result<u64> {
        self.check_head()?;
        let at = self.position();
        self.dec.u64().map_err(|e| map_err(&e, at))
    }

    /// Consumes a boolean.
    fn bool(&mut self) -> Result<bool> {
        let at = self.position();
        self.dec.bool().map_err(|e| map_err(&e, at))
    }

    /// Consumes a `null`.
    fn null(&mut self) -> Result<()> {
        let at = self.position();
        self.dec.null().map_err(|e| map_err(&e, at))
    }

    /// Consumes a byte string, or `null` (returned as `None`).
    fn bytes_or_null(&mut self) -> Result<Option<&'b [u8]>> {
        if self.datatype()? == Type::Null {
            self.null()?;
            Ok(None)
        } else {
            self.bytes().map(Some)
        }
    }

    /// Skips one whole item, nested at most `limits.max_depth` deep, and returns its encoded bytes.
    fn skip(&mut self) -> Result<&'b [u8]> {
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
}

/// Runs read number `op` on reader `$r` (the new or the old one, which have the same methods):
/// its outcome as text (value or error) and the position after it.
macro_rules! run {
    ($r:expr, $op:expr) => {{
        let mut r = $r;
        let out = match $op {
            0 => format!("{:?}", r.opt_tag()),
            1 => format!("{:?}", r.array()),
            2 => format!("{:?}", r.map()),
            3 => format!("{:?}", r.bytes()),
            4 => format!("{:?}", r.str()),
            5 => format!("{:?}", r.int()),
            6 => format!("{:?}", r.uint()),
            7 => format!("{:?}", r.bool()),
            8 => format!("{:?}", r.null()),
            9 => format!("{:?}", r.bytes_or_null()),
            10 => format!("{:?}", r.datatype()),
            _ => format!("{:?}", r.skip()),
        };
        (out, r.position())
    }};
}

fn run_new(input: &[u8], limits: Limits, op: usize) -> (String, usize) {
    run!(Reader::with_limits(input, limits), op)
}

fn run_old(input: &[u8], limits: Limits, op: usize) -> (String, usize) {
    run!(Old::with_limits(input, limits), op)
}

const LIMITS: [Limits; 4] = [
    Limits {
        max_depth: 8,
        allow_indefinite: false,
        require_preferred: false,
    },
    Limits {
        max_depth: 8,
        allow_indefinite: true,
        require_preferred: false,
    },
    Limits {
        max_depth: 3,
        allow_indefinite: true,
        require_preferred: true,
    },
    Limits {
        max_depth: 0,
        allow_indefinite: false,
        require_preferred: true,
    },
];

fn check(input: &[u8]) {
    for limits in LIMITS {
        for op in 0..=11 {
            let new = run_new(input, limits, op);
            let old = run_old(input, limits, op);
            // The position after a failed read is unspecified; after a success it must agree.
            if old.0.starts_with("Ok") {
                assert_eq!(new, old, "op {op} on {input:02x?} with {limits:?}");
            } else {
                assert_eq!(new.0, old.0, "op {op} on {input:02x?} with {limits:?}");
            }
        }
    }
}

/// Bytes biased towards heads: every initial byte, arguments near the width limits, breaks.
fn cbor_ish() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        any::<u8>(),
        (0u8..8, 24u8..32).prop_map(|(major, info)| major << 5 | info),
        Just(0xff),
        Just(0x00),
        Just(0x61),
    ];
    prop::collection::vec(byte, 0..=12)
}

#[test]
fn every_initial_byte_alone_and_followed() {
    for b in 0..=255u8 {
        check(&[b]);
        for tail in [
            &[][..],
            &[0x00],
            &[0xff],
            &[0x80, 0x00],
            &[0xc3, 0xb1],
            &[0xff; 9],
            &[0x7f; 9],
        ] {
            let mut input = vec![b];
            input.extend_from_slice(tail);
            check(&input);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn reads_agree_with_the_oracle(input in cbor_ish()) {
        check(&input);
    }
}
