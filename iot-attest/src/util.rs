//! Small CBOR helpers shared by the claim codecs.

use crate::error::{Error, NO_KEY, Result};
use iot_core::CborError;
use iot_core::cbor::{Limits, Reader};
use minicbor::encode::{Encoder, Write};

/// Maps an encoder error to [`iot_core::Error::BufferTooSmall`]: the only way the writers used
/// here fail.
pub(crate) fn enc<E>(_: minicbor::encode::Error<E>) -> Error {
    Error::Core(iot_core::Error::BufferTooSmall)
}

/// A value that breaks its definition at `offset`, not yet attributed to a claim.
pub(crate) const fn invalid(offset: usize) -> Error {
    Error::InvalidClaim {
        key: NO_KEY,
        offset,
    }
}

/// A value of the wrong CBOR type at `offset`.
pub(crate) const fn mismatch(offset: usize) -> Error {
    Error::Core(iot_core::Error::cbor(CborError::UnexpectedType, offset))
}

/// Reads a byte string whose length lies in `len`.
pub(crate) fn bytes_sized<'a>(
    r: &mut Reader<'a>,
    len: core::ops::RangeInclusive<usize>,
) -> Result<&'a [u8]> {
    let at = r.position();
    let b = r.bytes()?;
    if len.contains(&b.len()) {
        Ok(b)
    } else {
        Err(invalid(at))
    }
}

/// Reads a float of any width (RFC 8949 section 3.3) as `f64`. Every float a claim holds is a
/// date or a measure (RFC 8392 section 2, RFC 9711 section 4.2.10), so a NaN or an infinity is
/// an invalid value, refused here rather than compared later (a NaN `nbf` is never "after now").
pub(crate) fn float(r: &mut Reader<'_>) -> Result<f64> {
    finite(r, Reader::float)
}

/// Reads a `number` (an integer or a float) as `f64`, a float as [`float`] does.
pub(crate) fn number(r: &mut Reader<'_>) -> Result<f64> {
    finite(r, Reader::number)
}

/// What `read` reads, when finite.
fn finite<'b>(
    r: &mut Reader<'b>,
    read: impl FnOnce(&mut Reader<'b>) -> iot_core::Result<f64>,
) -> Result<f64> {
    let at = r.position();
    let v = read(r)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(invalid(at))
    }
}

/// The half-precision encoding of `v` when it represents `v` exactly.
pub(crate) fn f64_to_f16_exact(v: f64) -> Option<u16> {
    let bits = v.to_bits();
    let sign = ((bits >> 63) as u16) << 15;
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mant = bits & ((1 << 52) - 1);
    if exp == 0x7ff {
        return if mant == 0 {
            Some(sign | 0x7c00)
        } else {
            // Every NaN is written as the canonical quiet NaN (RFC 8949 section 4.2.2).
            Some(0x7e00)
        };
    }
    if exp == 0 {
        return (mant == 0).then_some(sign);
    }
    let e = exp - 1023;
    if (-14..=15).contains(&e) {
        if mant & ((1 << 42) - 1) != 0 {
            return None;
        }
        return Some(sign | (((e + 15) as u16) << 10) | (mant >> 42) as u16);
    }
    if (-24..-14).contains(&e) {
        let sig = mant | (1 << 52);
        let shift = 52 - (e + 24);
        if sig & ((1u64 << shift) - 1) != 0 {
            return None;
        }
        return Some(sign | (sig >> shift) as u16);
    }
    None
}

/// Writes `v` as the shortest float that represents it exactly (preferred serialization,
/// RFC 8949 section 4.2.2). A NaN or an infinity is refused, as [`float`] refuses it.
pub(crate) fn write_float<W: Write>(e: &mut Encoder<W>, v: f64) -> Result<()> {
    if !v.is_finite() {
        return Err(invalid(0));
    }
    if let Some(h) = f64_to_f16_exact(v) {
        let [a, b] = h.to_be_bytes();
        e.writer_mut()
            .write_all(&[0xf9, a, b])
            .map_err(|_| Error::Core(iot_core::Error::BufferTooSmall))?;
        return Ok(());
    }
    #[allow(clippy::cast_possible_truncation)]
    let single = v as f32;
    if f64::from(single) == v {
        e.f32(single).map_err(enc)?;
    } else {
        e.f64(v).map_err(enc)?;
    }
    Ok(())
}

/// Writes an already encoded CBOR item verbatim.
pub(crate) fn write_raw<W: Write>(e: &mut Encoder<W>, raw: &[u8]) -> Result<()> {
    e.writer_mut()
        .write_all(raw)
        .map_err(|_| Error::Core(iot_core::Error::BufferTooSmall))
}

/// Limits for re-reading input that has already been validated: nesting was bounded when it
/// was first decoded, so only the indefinite-length choice is kept.
pub(crate) fn relaxed(limits: Limits) -> Limits {
    Limits {
        max_depth: u8::MAX,
        allow_indefinite: limits.allow_indefinite,
        require_preferred: false,
    }
}

/// Checks that `raw` is exactly one well-formed CBOR item within `limits`.
pub(crate) fn check_item(raw: &[u8], limits: Limits) -> Result<()> {
    let mut r = Reader::with_limits(raw, limits);
    r.skip()?;
    r.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the half-precision float `h`, as iot-core decodes it.
    fn half(h: u16) -> f64 {
        let [a, b] = h.to_be_bytes();
        iot_core::cbor::decode_float(&[0xf9, a, b]).unwrap()
    }

    #[test]
    fn half_precision_round_trips() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -2.5,
            65504.0,
            5.960_464_477_539_063e-8,
            0.000_061_035_156_25,
            f64::INFINITY,
        ] {
            let h = f64_to_f16_exact(v).unwrap();
            assert_eq!(half(h).to_bits(), v.to_bits(), "{v}");
        }
        assert_eq!(f64_to_f16_exact(0.1), None);
        assert_eq!(f64_to_f16_exact(65520.0), None);
        assert_eq!(f64_to_f16_exact(f64::NAN), Some(0x7e00));
        // Every half-precision value maps back to itself.
        for h in 0u16..=0xffff {
            let v = half(h);
            if v.is_nan() {
                continue;
            }
            assert_eq!(f64_to_f16_exact(v), Some(h), "{h:#06x}");
        }
    }
}
