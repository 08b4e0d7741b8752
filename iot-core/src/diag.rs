//! CBOR diagnostic notation (RFC 8949 section 8; `h'..'` byte strings and `/ comments /` of
//! RFC 8610 appendix G), written into any [`core::fmt::Write`] without allocation.
//!
//! The item is first checked whole with a bounded [`Reader`] (depth, indefinite lengths, preferred
//! serialization as the [`Limits`] say), so malformed or too deeply nested input yields a typed
//! [`Error`] before anything is printed, and the printer's recursion never exceeds `max_depth`.
//!
//! Choices where RFC 8949 section 8 leaves room:
//! - text strings use JSON escapes and are printed as ASCII: `"`, `\`, control characters and every
//!   non-ASCII character are escaped (`\u00fc`, surrogate pairs above U+FFFF), as RFC 8949
//!   Appendix A writes them;
//! - byte strings are `h'..'` in lower-case hex; empty indefinite-length strings are `''_` and `""_`;
//! - floats print their exact value (f16 and f32 widened to f64) in the shortest form that reads back
//!   the same, with a decimal point or exponent always (`1.0`, `1.0e+300`), and `NaN`, `Infinity`,
//!   `-Infinity`;
//! - bignums (tags 2 and 3) stay tags over their bytes (`2(h'01..')`), encoding indicators other
//!   than the indefinite-length `_` are not shown.
//!
//! ```
//! use iot_core::diag::{self, Options};
//! let mut s = heapless::String::<64>::new();
//! diag::write(&mut s, &[0xd2, 0x82, 0x01, 0x42, 0xab, 0xcd], &Options::default()).unwrap();
//! assert_eq!(s.as_str(), "18([1, h'abcd'])");
//! ```

use crate::cbor::{Limits, Reader};
use crate::error::{CborError, Error, Result};
use core::fmt::{self, Write};
use minicbor::Decoder;
use minicbor::data::Type;

/// Default nesting limit of the printer: deeper than COSE's [`crate::cbor::DEFAULT_MAX_DEPTH`], since
/// diagnostic output is for looking at arbitrary items; still small enough for any stack.
pub const DIAG_MAX_DEPTH: u8 = 16;

/// In pretty mode, arrays and maps whose encoding is longer than this many bytes are broken over
/// several lines; shorter ones stay on one line.
pub const PRETTY_INLINE_MAX: usize = 24;

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// What input is accepted: nesting depth, indefinite lengths, preferred serialization.
    pub limits: Limits,
    /// Break long arrays and maps (see [`PRETTY_INLINE_MAX`]) over lines indented two spaces per level.
    pub pretty: bool,
}

impl Default for Options {
    /// Depth [`DIAG_MAX_DEPTH`], indefinite lengths and non-preferred heads accepted, one line.
    fn default() -> Self {
        Self {
            limits: Limits {
                max_depth: DIAG_MAX_DEPTH,
                allow_indefinite: true,
                require_preferred: false,
            },
            pretty: false,
        }
    }
}

impl Options {
    /// The default options with pretty printing on.
    pub fn pretty() -> Self {
        Self {
            pretty: true,
            ..Self::default()
        }
    }
}

/// Writes the one CBOR item that `input` holds; bytes after it are [`CborError::TrailingBytes`].
///
/// A failing `out` (a full fixed-size buffer, say) is reported as [`Error::BufferTooSmall`].
pub fn write<W: Write + ?Sized>(out: &mut W, input: &[u8], opts: &Options) -> Result<()> {
    let end = check(input, 0, opts.limits)?;
    if end != input.len() {
        return Err(Error::cbor(CborError::TrailingBytes, end));
    }
    print_at(out, input, 0, opts).map(|_| ())
}

/// Writes the item that starts at byte `offset` of `input` (one item of a CBOR sequence, RFC 8742)
/// and returns the offset just after it. Error offsets count from the start of `input`.
pub fn write_next<W: Write + ?Sized>(
    out: &mut W,
    input: &[u8],
    offset: usize,
    opts: &Options,
) -> Result<usize> {
    check(input, offset, opts.limits)?;
    print_at(out, input, offset, opts)
}

/// Checks the item at `offset` with a bounded [`Reader`] and returns the offset after it.
fn check(input: &[u8], offset: usize, limits: Limits) -> Result<usize> {
    let rest = input
        .get(offset..)
        .ok_or(Error::cbor(CborError::Truncated, offset))?;
    let shift = |e: Error| match e {
        Error::Cbor { kind, offset: at } => Error::cbor(kind, at.saturating_add(offset)),
        other => other,
    };
    let mut r = Reader::with_limits(rest, limits);
    let len = r.skip().map_err(shift)?.len();
    Ok(offset + len)
}

fn print_at<W: Write + ?Sized>(
    out: &mut W,
    input: &[u8],
    offset: usize,
    opts: &Options,
) -> Result<usize> {
    let mut dec = Decoder::new(input);
    dec.set_position(offset);
    let mut p = Printer {
        dec,
        out,
        opts: *opts,
    };
    p.item(0, 0)?;
    Ok(p.dec.position())
}

/// Diagnostic notation as a [`fmt::Display`] value, for `format!`/`println!`.
///
/// Input that is not one well-formed item within the limits prints as a comment naming the error
/// (`/ CBOR: ... at byte N /`) instead of failing the formatter.
#[derive(Debug, Clone, Copy)]
pub struct Diag<'a> {
    input: &'a [u8],
    opts: Options,
}

impl<'a> Diag<'a> {
    /// One-line notation of `input` with the default [`Options`].
    pub fn new(input: &'a [u8]) -> Self {
        Self::with_options(input, Options::default())
    }

    /// Pretty-printed notation of `input` (see [`Options::pretty`]).
    pub fn pretty(input: &'a [u8]) -> Self {
        Self::with_options(input, Options::pretty())
    }

    /// Notation of `input` with the given options.
    pub fn with_options(input: &'a [u8], opts: Options) -> Self {
        Self { input, opts }
    }
}

impl fmt::Display for Diag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match write(f, self.input, &self.opts) {
            Ok(()) => Ok(()),
            Err(Error::BufferTooSmall) => Err(fmt::Error),
            Err(e) => write!(f, "/ {e} /"),
        }
    }
}

fn fmt_err(_: fmt::Error) -> Error {
    Error::BufferTooSmall
}

fn dec_err(e: &minicbor::decode::Error, at: usize) -> Error {
    let kind = if e.is_end_of_input() {
        CborError::Truncated
    } else if e.is_type_mismatch() {
        CborError::UnexpectedType
    } else {
        CborError::Malformed
    };
    Error::cbor(kind, e.position().unwrap_or(at))
}

struct Printer<'b, 'w, W: ?Sized> {
    dec: Decoder<'b>,
    out: &'w mut W,
    opts: Options,
}

impl<W: Write + ?Sized> Printer<'_, '_, W> {
    fn put(&mut self, s: &str) -> Result<()> {
        self.out.write_str(s).map_err(fmt_err)
    }

    fn newline(&mut self, indent: usize) -> Result<()> {
        self.put("\n")?;
        for _ in 0..indent {
            self.put("  ")?;
        }
        Ok(())
    }

    /// Prints one item; `depth` counts enclosing arrays, maps and tags, `indent` the pretty level.
    fn item(&mut self, depth: u8, indent: usize) -> Result<()> {
        let at = self.dec.position();
        let me = |e: minicbor::decode::Error| dec_err(&e, at);
        let ty = self.dec.datatype().map_err(me)?;
        if matches!(
            ty,
            Type::Array | Type::ArrayIndef | Type::Map | Type::MapIndef | Type::Tag
        ) && depth >= self.opts.limits.max_depth
        {
            return Err(Error::cbor(CborError::TooDeep, at));
        }
        match ty {
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => {
                let i = self.dec.int().map_err(me)?;
                write!(self.out, "{i}").map_err(fmt_err)
            }
            Type::F16 => {
                let bits = self
                    .dec
                    .input()
                    .get(at + 1..at + 3)
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                    .ok_or(Error::cbor(CborError::Truncated, at))?;
                self.dec.set_position(at + 3);
                write_float(self.out, f16_to_f64(u16::from_be_bytes(bits))).map_err(fmt_err)
            }
            Type::F32 => {
                let v = self.dec.f32().map_err(me)?;
                write_float(self.out, f64::from(v)).map_err(fmt_err)
            }
            Type::F64 => {
                let v = self.dec.f64().map_err(me)?;
                write_float(self.out, v).map_err(fmt_err)
            }
            Type::Bool => {
                let b = self.dec.bool().map_err(me)?;
                self.put(if b { "true" } else { "false" })
            }
            Type::Null => {
                self.dec.null().map_err(me)?;
                self.put("null")
            }
            Type::Undefined => {
                self.dec.undefined().map_err(me)?;
                self.put("undefined")
            }
            Type::Simple => {
                // RFC 8949 section 3.3: 0xf8 followed by a value below 32 is not well-formed.
                let two_byte = self.dec.input().get(at) == Some(&0xf8);
                let n = self.dec.simple().map_err(me)?;
                if two_byte && n < 32 {
                    return Err(Error::cbor(CborError::Malformed, at));
                }
                write!(self.out, "simple({n})").map_err(fmt_err)
            }
            Type::Bytes => {
                let b = self.dec.bytes().map_err(me)?;
                write_bytes(self.out, b).map_err(fmt_err)
            }
            Type::String => {
                let s = self.dec.str().map_err(me)?;
                write_text(self.out, s).map_err(fmt_err)
            }
            Type::BytesIndef | Type::StringIndef => self.chunks(ty == Type::BytesIndef, at),
            Type::Array | Type::ArrayIndef | Type::Map | Type::MapIndef => {
                self.container(ty, at, depth, indent)
            }
            Type::Tag => {
                let t = self.dec.tag().map_err(me)?;
                write!(self.out, "{}(", t.as_u64()).map_err(fmt_err)?;
                self.item(depth + 1, indent)?;
                self.put(")")
            }
            Type::Break | Type::Unknown(_) => Err(Error::cbor(CborError::Malformed, at)),
        }
    }

    /// An indefinite-length string: `(_ chunk, chunk)`, or `''_` / `""_` without chunks.
    fn chunks(&mut self, bytes: bool, at: usize) -> Result<()> {
        let Self { dec, out, .. } = self;
        let me = |e: minicbor::decode::Error| dec_err(&e, at);
        let mut first = true;
        if bytes {
            for chunk in dec.bytes_iter().map_err(me)? {
                let chunk = chunk.map_err(me)?;
                out.write_str(if first { "(_ " } else { ", " })
                    .map_err(fmt_err)?;
                write_bytes(*out, chunk).map_err(fmt_err)?;
                first = false;
            }
        } else {
            for chunk in dec.str_iter().map_err(me)? {
                let chunk = chunk.map_err(me)?;
                out.write_str(if first { "(_ " } else { ", " })
                    .map_err(fmt_err)?;
                write_text(*out, chunk).map_err(fmt_err)?;
                first = false;
            }
        }
        out.write_str(match (first, bytes) {
            (true, true) => "''_",
            (true, false) => "\"\"_",
            (false, _) => ")",
        })
        .map_err(fmt_err)
    }

    fn container(&mut self, ty: Type, at: usize, depth: u8, indent: usize) -> Result<()> {
        let me = |e: minicbor::decode::Error| dec_err(&e, at);
        let is_map = matches!(ty, Type::Map | Type::MapIndef);
        let multiline = self.opts.pretty && self.encoded_len(at)? > PRETTY_INLINE_MAX;
        let len = if is_map {
            self.dec.map().map_err(me)?
        } else {
            self.dec.array().map_err(me)?
        };
        self.put(if is_map { "{" } else { "[" })?;
        if len.is_none() {
            self.put("_")?;
            if !multiline {
                self.put(" ")?;
            }
        }
        let mut i: u64 = 0;
        loop {
            match len {
                Some(n) if i >= n => break,
                None if self.dec.datatype().map_err(me)? == Type::Break => {
                    self.dec.set_position(self.dec.position() + 1);
                    break;
                }
                _ => {}
            }
            if i > 0 {
                self.put(",")?;
                if !multiline {
                    self.put(" ")?;
                }
            }
            if multiline {
                self.newline(indent + 1)?;
            }
            self.item(depth + 1, indent + 1)?;
            if is_map {
                self.put(": ")?;
                self.item(depth + 1, indent + 1)?;
            }
            i += 1;
        }
        if multiline && i > 0 {
            self.newline(indent)?;
        }
        self.put(if is_map { "}" } else { "]" })
    }

    /// Encoded length of the (already checked) item at `at`.
    fn encoded_len(&self, at: usize) -> Result<usize> {
        let rest = self.dec.input().get(at..).unwrap_or_default();
        Ok(Reader::with_limits(rest, self.opts.limits).skip()?.len())
    }
}

fn write_bytes<W: Write + ?Sized>(out: &mut W, b: &[u8]) -> fmt::Result {
    out.write_str("h'")?;
    for byte in b {
        write!(out, "{byte:02x}")?;
    }
    out.write_str("'")
}

/// A JSON-style string literal in ASCII (RFC 8949 section 8 refers to JSON, RFC 8259 section 7).
fn write_text<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            ' '..='~' => out.write_char(c)?,
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(out, "\\u{u:04x}")?;
                }
            }
        }
    }
    out.write_char('"')
}

/// The value of an IEEE 754 binary16 (RFC 8949 Appendix D), exactly, as an f64.
fn f16_to_f64(h: u16) -> f64 {
    let exp = u64::from((h >> 10) & 0x1f);
    let mant = u64::from(h & 0x3ff);
    let magnitude = match exp {
        // Subnormal: mant * 2^-24, exact in f64.
        0 => (mant as f64) / 16_777_216.0,
        31 if mant == 0 => f64::INFINITY,
        31 => f64::NAN,
        // Normal: rebias the exponent (15 -> 1023) and widen the mantissa (10 -> 52 bits).
        _ => f64::from_bits(((exp + 1023 - 15) << 52) | (mant << 42)),
    };
    if h & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Plain decimals up to this many characters; longer values use an exponent (`1.0e+300`).
const PLAIN_FLOAT_MAX: usize = 20;

/// A float as RFC 8949 section 8 writes it: always with a decimal point or exponent.
fn write_float<W: Write + ?Sized>(out: &mut W, v: f64) -> fmt::Result {
    if v.is_nan() {
        return out.write_str("NaN");
    }
    if v.is_infinite() {
        return out.write_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    }
    // Shortest round-trip digits, without exponent; too long (or overflowing the buffer) falls
    // through to the exponent form.
    let mut plain = heapless::String::<32>::new();
    if write!(plain, "{v}").is_ok() && plain.len() <= PLAIN_FLOAT_MAX {
        out.write_str(&plain)?;
        if !plain.contains('.') {
            out.write_str(".0")?;
        }
        return Ok(());
    }
    // `{:e}` gives the shortest round-trip digits with an exponent: "1e300", "5.960464477539063e-8".
    let mut sci = heapless::String::<40>::new();
    write!(sci, "{v:e}")?;
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    out.write_str(mantissa)?;
    if !mantissa.contains('.') {
        out.write_str(".0")?;
    }
    out.write_char('e')?;
    if !exponent.starts_with('-') {
        out.write_char('+')?;
    }
    out.write_str(exponent)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn unhex(s: &str) -> heapless::Vec<u8, 128> {
        let s = s.trim_start_matches("0x");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn diag_with(hex: &str, opts: &Options) -> Result<heapless::String<512>> {
        let mut s = heapless::String::new();
        write(&mut s, &unhex(hex), opts)?;
        Ok(s)
    }

    fn diag(hex: &str) -> heapless::String<512> {
        diag_with(hex, &Options::default()).unwrap()
    }

    /// RFC 8949 Appendix A, Table 6: (diagnostic, encoded), transcribed.
    const APPENDIX_A: &[(&str, &str)] = &[
        ("0", "0x00"),
        ("1", "0x01"),
        ("10", "0x0a"),
        ("23", "0x17"),
        ("24", "0x1818"),
        ("25", "0x1819"),
        ("100", "0x1864"),
        ("1000", "0x1903e8"),
        ("1000000", "0x1a000f4240"),
        ("1000000000000", "0x1b000000e8d4a51000"),
        ("18446744073709551615", "0x1bffffffffffffffff"),
        ("-18446744073709551616", "0x3bffffffffffffffff"),
        ("-1", "0x20"),
        ("-10", "0x29"),
        ("-100", "0x3863"),
        ("-1000", "0x3903e7"),
        ("0.0", "0xf90000"),
        ("-0.0", "0xf98000"),
        ("1.0", "0xf93c00"),
        ("1.1", "0xfb3ff199999999999a"),
        ("1.5", "0xf93e00"),
        ("65504.0", "0xf97bff"),
        ("100000.0", "0xfa47c35000"),
        ("3.4028234663852886e+38", "0xfa7f7fffff"),
        ("1.0e+300", "0xfb7e37e43c8800759c"),
        ("5.960464477539063e-8", "0xf90001"),
        ("0.00006103515625", "0xf90400"),
        ("-4.0", "0xf9c400"),
        ("-4.1", "0xfbc010666666666666"),
        ("Infinity", "0xf97c00"),
        ("NaN", "0xf97e00"),
        ("-Infinity", "0xf9fc00"),
        ("Infinity", "0xfa7f800000"),
        ("NaN", "0xfa7fc00000"),
        ("-Infinity", "0xfaff800000"),
        ("Infinity", "0xfb7ff0000000000000"),
        ("NaN", "0xfb7ff8000000000000"),
        ("-Infinity", "0xfbfff0000000000000"),
        ("false", "0xf4"),
        ("true", "0xf5"),
        ("null", "0xf6"),
        ("undefined", "0xf7"),
        ("simple(16)", "0xf0"),
        ("simple(255)", "0xf8ff"),
        (
            "0(\"2013-03-21T20:04:00Z\")",
            "0xc074323031332d30332d32315432303a30343a30305a",
        ),
        ("1(1363896240)", "0xc11a514b67b0"),
        ("1(1363896240.5)", "0xc1fb41d452d9ec200000"),
        ("23(h'01020304')", "0xd74401020304"),
        ("24(h'6449455446')", "0xd818456449455446"),
        (
            "32(\"http://www.example.com\")",
            "0xd82076687474703a2f2f7777772e6578616d706c652e636f6d",
        ),
        ("h''", "0x40"),
        ("h'01020304'", "0x4401020304"),
        ("\"\"", "0x60"),
        ("\"a\"", "0x6161"),
        ("\"IETF\"", "0x6449455446"),
        ("\"\\\"\\\\\"", "0x62225c"),
        ("\"\\u00fc\"", "0x62c3bc"),
        ("\"\\u6c34\"", "0x63e6b0b4"),
        ("\"\\ud800\\udd51\"", "0x64f0908591"),
        ("[]", "0x80"),
        ("[1, 2, 3]", "0x83010203"),
        ("[1, [2, 3], [4, 5]]", "0x8301820203820405"),
        (
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]",
            "0x98190102030405060708090a0b0c0d0e0f101112131415161718181819",
        ),
        ("{}", "0xa0"),
        ("{1: 2, 3: 4}", "0xa201020304"),
        ("{\"a\": 1, \"b\": [2, 3]}", "0xa26161016162820203"),
        ("[\"a\", {\"b\": \"c\"}]", "0x826161a161626163"),
        (
            "{\"a\": \"A\", \"b\": \"B\", \"c\": \"C\", \"d\": \"D\", \"e\": \"E\"}",
            "0xa56161614161626142616361436164614461656145",
        ),
        ("(_ h'0102', h'030405')", "0x5f42010243030405ff"),
        ("(_ \"strea\", \"ming\")", "0x7f657374726561646d696e67ff"),
        ("[_ ]", "0x9fff"),
        ("[_ 1, [2, 3], [_ 4, 5]]", "0x9f018202039f0405ffff"),
        ("[_ 1, [2, 3], [4, 5]]", "0x9f01820203820405ff"),
        ("[1, [2, 3], [_ 4, 5]]", "0x83018202039f0405ff"),
        ("[1, [_ 2, 3], [4, 5]]", "0x83019f0203ff820405"),
        (
            "[_ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]",
            "0x9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
        ),
        ("{_ \"a\": 1, \"b\": [_ 2, 3]}", "0xbf61610161629f0203ffff"),
        ("[\"a\", {_ \"b\": \"c\"}]", "0x826161bf61626163ff"),
        (
            "{_ \"Fun\": true, \"Amt\": -2}",
            "0xbf6346756ef563416d7421ff",
        ),
    ];

    #[test]
    fn rfc8949_appendix_a() {
        for (expected, hex) in APPENDIX_A {
            assert_eq!(diag(hex).as_str(), *expected, "{hex}");
        }
    }

    /// Appendix A writes bignums as the numbers they stand for; we keep the tag over its bytes.
    #[test]
    fn bignums_stay_tags() {
        assert_eq!(
            diag("0xc249010000000000000000").as_str(),
            "2(h'010000000000000000')"
        );
        assert_eq!(
            diag("0xc349010000000000000000").as_str(),
            "3(h'010000000000000000')"
        );
    }

    #[test]
    fn more_escapes_floats_and_strings() {
        // Control characters and DEL are escaped, printable ASCII is not.
        assert_eq!(diag("0x6509410a7f7e").as_str(), "\"\\tA\\n\\u007f~\"");
        assert_eq!(diag("0x5fff").as_str(), "''_");
        assert_eq!(diag("0x7fff").as_str(), "\"\"_");
        // f32 printed exactly: 0.1f32 widened.
        assert_eq!(diag("0xfa3dcccccd").as_str(), "0.10000000149011612");
        // Largest f16 subnormal and smallest f16 normal.
        assert_eq!(diag("0xf903ff").as_str(), "6.097555160522461e-5");
        assert_eq!(diag("0xf9c000").as_str(), "-2.0");
        // Nested tags and maps with non-text keys.
        assert_eq!(diag("0xd818d81801").as_str(), "24(24(1))");
        assert_eq!(diag("0xa1f6a0").as_str(), "{null: {}}");
        assert_eq!(diag("0xa0").as_str(), "{}");
        assert_eq!(diag("0xbfff").as_str(), "{_ }");
        // A non-preferred head prints its value.
        assert_eq!(diag("0x1b0000000000000001").as_str(), "1");
    }

    #[test]
    fn pretty_breaks_long_containers_only() {
        // sign-pass-02 of cose-wg/Examples, shortened signature.
        let hex = "0xd28443a10126a1044231315454686973206973207468652063\
                   6f6e74656e742e4401020304";
        let s = diag_with(hex, &Options::pretty()).unwrap();
        assert_eq!(
            s.as_str(),
            "18([\n  h'a10126',\n  {4: h'3131'},\n  h'546869732069732074686520636f6e74656e742e',\n  h'01020304'\n])"
        );
        let s = diag_with("0x9f01820203ff", &Options::pretty()).unwrap();
        assert_eq!(s.as_str(), "[_ 1, [2, 3]]");
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let opts = Options::default();
        let e = |hex: &str| diag_with(hex, &opts).unwrap_err();
        assert_eq!(e("0x8301"), Error::cbor(CborError::Truncated, 2));
        assert_eq!(e("0x0101"), Error::cbor(CborError::TrailingBytes, 1));
        assert!(matches!(
            e("0xff"),
            Error::Cbor {
                kind: CborError::Malformed,
                offset: 0
            }
        ));
        assert!(matches!(e("0x1c"), Error::Cbor { offset: 0, .. }));
        assert!(matches!(
            e("0xf81f"),
            Error::Cbor {
                kind: CborError::Malformed,
                offset: 0
            }
        ));
        assert!(matches!(e("0x62c328"), Error::Cbor { .. }), "invalid UTF-8");
        assert!(
            matches!(e("0x5f6161ff"), Error::Cbor { .. }),
            "text chunk in a byte string"
        );
        assert!(
            matches!(e("0x5f5f40ffff"), Error::Cbor { .. }),
            "nested indefinite chunk"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut deep = [0x81u8; 100];
        deep[99] = 0x00;
        let opts = Options::default();
        let mut s = heapless::String::<512>::new();
        assert_eq!(
            write(&mut s, &deep, &opts),
            Err(Error::cbor(CborError::TooDeep, usize::from(DIAG_MAX_DEPTH)))
        );
        assert!(s.is_empty(), "nothing printed before the error");
        // Exactly at the limit is fine.
        let at = usize::from(DIAG_MAX_DEPTH);
        let ok = &deep[99 - at..];
        assert!(write(&mut s, ok, &opts).is_ok());
        // Tags count too, and a smaller limit is honoured.
        let small = Options {
            limits: Limits {
                max_depth: 2,
                ..opts.limits
            },
            ..opts
        };
        assert!(diag_with("0xc1c1c101", &small).is_err());
        assert!(diag_with("0xc1c101", &small).is_ok());
    }

    #[test]
    fn limits_can_refuse_indefinite_and_non_preferred() {
        let strict = Options {
            limits: Limits::default(),
            pretty: false,
        };
        assert_eq!(
            diag_with("0x9fff", &strict),
            Err(Error::cbor(CborError::IndefiniteLength, 0))
        );
        let preferred = Options {
            limits: Limits {
                require_preferred: true,
                ..Options::default().limits
            },
            pretty: false,
        };
        assert_eq!(
            diag_with("0x1801", &preferred),
            Err(Error::cbor(CborError::NotPreferred, 0))
        );
    }

    #[test]
    fn sequence_and_small_buffer() {
        let input = unhex("0x0182f5f6");
        let mut s = heapless::String::<64>::new();
        let next = write_next(&mut s, &input, 0, &Options::default()).unwrap();
        assert_eq!((next, s.as_str()), (1, "1"));
        s.clear();
        let next = write_next(&mut s, &input, next, &Options::default()).unwrap();
        assert_eq!((next, s.as_str()), (4, "[true, null]"));
        let mut tiny = heapless::String::<4>::new();
        assert_eq!(
            write(&mut tiny, &unhex("0x83010203"), &Options::default()),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(
            write_next(&mut s, &input, 9, &Options::default()),
            Err(Error::cbor(CborError::Truncated, 9))
        );
    }
}
