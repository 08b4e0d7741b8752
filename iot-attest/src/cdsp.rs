//! The Constrained Device Standard Profile (RFC 9711 section 6.3, `urn:ietf:rfc:rfc9711`): its
//! encoding and envelope rules on a whole token, and its claim rules.
//!
//! What the profile asks and what is checked here:
//! - CBOR only, definite lengths, preferred serialization: [`check_token`] walks the token, its
//!   protected header and its claims-set with [`LIMITS`] (shortest heads, no indefinite lengths)
//!   and checks that every float is in its shortest exact form (RFC 8949 section 4.1).
//! - COSE_Sign1 only (with or without tag 61): a COSE_Mac0 or a detached EAT bundle (tag 602)
//!   is [`Error::EnvelopeNotAllowed`].
//! - Algorithms: a receiver must accept ES256, ES384 and ES512; all three are accepted (and
//!   ESP256, ES256's fully specified twin), ES384 with a P-384 key and ES512 with a P-521 key
//!   (feature `rustcrypto`). Any other algorithm is [`Error::EnvelopeNotAllowed`].
//! - Key identification: the COSE kid or the UEID; the kid takes precedence ([`key_id`]).
//! - Freshness: one nonce, present ([`validate`]); the verifier compares it with its own.
//! - Claims the receiver does not understand are skipped, never an error (the decoder's rule).

use crate::claims::Claims;
use crate::error::{Error, Result, Violation};
use crate::key;
use crate::token::{Envelope, Token};
use crate::util::f64_to_f16_exact;
use crate::value::{Nonce, Profile};
use iot_core::CborError;
use iot_core::cbor::decode_float;
use iot_core::cbor::{DEFAULT_MAX_DEPTH, Limits, Reader};
use iot_core::cose::Algorithm;
use minicbor::data::Type;

/// The profile identifier (RFC 9711 section 6.3).
pub const PROFILE: &str = "urn:ietf:rfc:rfc9711";

/// The tag of a detached EAT bundle (RFC 9711 section 5), which the profile does not allow.
pub const DEB_TAG: u64 = 602;

/// The CBOR rules of the profile: definite lengths and shortest heads everywhere.
pub const LIMITS: Limits = Limits {
    max_depth: DEFAULT_MAX_DEPTH,
    allow_indefinite: false,
    require_preferred: true,
};

/// How a verifier finds the key of a token (RFC 9711 section 6.3, "Verification Key
/// Identification").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyId<'a> {
    /// The COSE `kid` header parameter.
    Kid(&'a [u8]),
    /// The `ueid` claim.
    Ueid(&'a [u8]),
}

/// The key identification of a token: its kid when it has one, else its UEID claim (read
/// before verification, for lookup only).
pub fn key_id<'a>(token: &Token<'a>, claims: &Claims<'a>) -> Option<KeyId<'a>> {
    token.kid().map(KeyId::Kid).or(claims.ueid.map(KeyId::Ueid))
}

/// Checks the profile's encoding and envelope rules on a whole token and returns it decoded.
///
/// Definite lengths and preferred serialization are checked on the COSE structure, on the
/// protected header's bytes and on the claims-set's bytes; the envelope must be a COSE_Sign1
/// with an attached payload, signed with ES256 or ESP256.
pub fn check_token(input: &[u8]) -> Result<Token<'_>> {
    let mut r = Reader::with_limits(input, LIMITS);
    let outer = r.opt_tag()?;
    let inner = if outer == Some(crate::token::CWT_TAG) {
        r.opt_tag()?
    } else {
        outer
    };
    if inner == Some(DEB_TAG) {
        return Err(Error::EnvelopeNotAllowed);
    }
    check_preferred(input)?;
    let token = Token::decode_with(input, LIMITS)?;
    let Envelope::Sign1(m) = &token.envelope else {
        return Err(Error::EnvelopeNotAllowed);
    };
    match m.alg()? {
        Algorithm::Es256 | Algorithm::Esp256 | Algorithm::Es384 | Algorithm::Es512 => {}
        _ => return Err(Error::EnvelopeNotAllowed),
    }
    check_preferred(m.headers.protected_raw)?;
    let payload = m.payload.ok_or(iot_core::Error::PayloadMismatch)?;
    check_preferred(payload)?;
    Ok(token)
}

/// Checks the profile's claim rules: `eat_profile` names [`PROFILE`] and exactly one nonce is
/// present (its 8 to 64 bytes are the decoder's rule).
pub fn validate(claims: &Claims<'_>) -> Result<()> {
    match claims.profile {
        Some(Profile::Uri(p)) if p == PROFILE => {}
        Some(_) => return Err(Error::WrongProfile),
        None => return Err(Error::profile(key::PROFILE, Violation::Missing)),
    }
    match claims.nonce {
        Some(Nonce::One(_)) => Ok(()),
        Some(Nonce::Many(_)) => Err(Error::profile(key::NONCE, Violation::Forbidden)),
        None => Err(Error::profile(key::NONCE, Violation::Missing)),
    }
}

/// Checks that `input` is one CBOR item (nothing after it) in preferred serialization with
/// definite lengths: shortest heads (via [`LIMITS`]) and shortest exact floats.
pub fn check_preferred(input: &[u8]) -> Result<()> {
    if input.is_empty() {
        return Ok(());
    }
    let mut r = Reader::with_limits(input, LIMITS);
    walk(&mut r, 0)?;
    r.finish()?;
    Ok(())
}

fn walk(r: &mut Reader<'_>, depth: u8) -> Result<()> {
    let at = r.position();
    let ty = r.datatype()?;
    let nested = matches!(ty, Type::Array | Type::Map | Type::Tag);
    if nested && depth >= LIMITS.max_depth {
        return Err(iot_core::Error::cbor(CborError::TooDeep, at).into());
    }
    match ty {
        Type::Array => {
            for _ in 0..r.array()? {
                walk(r, depth + 1)?;
            }
        }
        Type::Map => {
            for _ in 0..r.map()? {
                walk(r, depth + 1)?;
                walk(r, depth + 1)?;
            }
        }
        Type::Tag => {
            r.opt_tag()?;
            walk(r, depth + 1)?;
        }
        Type::F16 | Type::F32 | Type::F64 => {
            let raw = r.skip()?;
            if !shortest_float(raw) {
                return Err(iot_core::Error::cbor(CborError::NotPreferred, at).into());
            }
        }
        // Integers, strings and simple values: the reader checks their heads and lengths.
        _ => {
            r.skip()?;
        }
    }
    Ok(())
}

/// Whether the encoded float `raw` is the shortest of the three widths that holds its value.
fn shortest_float(raw: &[u8]) -> bool {
    let Some(v) = decode_float(raw) else {
        return false;
    };
    // A NaN is preferred as a half (f64_to_f16_exact maps every NaN to one).
    let fits_half = f64_to_f16_exact(v).is_some();
    #[allow(clippy::cast_possible_truncation)]
    let fits_single = f64::from(v as f32).to_bits() == v.to_bits();
    match raw.len() {
        3 => true,
        5 => !fits_half,
        _ => !fits_half && !fits_single,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_serialization_is_checked() {
        // {1: 2} in shortest form, and with a two-byte head for 2.
        assert!(check_preferred(&[0xa1, 0x01, 0x02]).is_ok());
        assert!(check_preferred(&[0xa1, 0x01, 0x18, 0x02]).is_err());
        // Indefinite-length array.
        assert!(check_preferred(&[0x9f, 0x01, 0xff]).is_err());
        // 1.5 as half, single and double.
        assert!(check_preferred(&[0xf9, 0x3e, 0x00]).is_ok());
        assert!(check_preferred(&[0xfa, 0x3f, 0xc0, 0x00, 0x00]).is_err());
        assert!(check_preferred(&[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).is_err());
        // 0.1 needs a double; 100000.0 fits a single but not a half.
        assert!(check_preferred(&[0xfb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]).is_ok());
        assert!(check_preferred(&[0xfa, 0x47, 0xc3, 0x50, 0x00]).is_ok());
        assert!(check_preferred(&[0xfb, 0x40, 0xf8, 0x6a, 0, 0, 0, 0, 0]).is_err());
        // Trailing bytes.
        assert!(check_preferred(&[0x01, 0x02]).is_err());
    }
}
