//! COSE_Key (RFC 9052 section 7, RFC 9053 sections 7.1 and 7.4): EC2 P-256 and Symmetric keys.

use super::header::{Label, MAX_HEADER_PARAMS, label_seen, read_label, type_error_as};
use super::{AlgId, Algorithm};
use crate::cbor::{Limits, Reader, SliceWriter, enc_err};
use crate::error::{CborError, Error, Result};
use minicbor::data::Type;
use minicbor::encode::{Encoder, Write};

/// Key types (IANA "COSE Key Types").
pub mod kty {
    /// Octet key pair.
    pub const OKP: i64 = 1;
    /// Elliptic curve with x and y.
    pub const EC2: i64 = 2;
    /// Symmetric.
    pub const SYMMETRIC: i64 = 4;
}

const KTY: i64 = 1;
const KID: i64 = 2;
const ALG: i64 = 3;
const BASE_IV: i64 = 5;
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;
const D: i64 = -4;
/// `crv` P-256 (IANA "COSE Elliptic Curves").
const P256: i64 = 1;

/// The `y` of an EC2 key: the coordinate, or the sign bit of a compressed point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ec2Y<'a> {
    /// The 32-byte y coordinate.
    Coordinate(&'a [u8]),
    /// The sign bit of y (point compression, RFC 9053 section 7.1.1).
    Sign(bool),
}

/// A symmetric key as COSE uses it: the key bytes, and optionally its algorithm and context base IV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SymmetricKey<'a> {
    /// The key id.
    pub kid: Option<&'a [u8]>,
    /// The one algorithm the key may be used with, if restricted.
    pub alg: Option<Algorithm>,
    /// The key bytes (`k`, -1).
    pub k: &'a [u8],
    /// `Base IV` (5): combined with a message's Partial IV into the nonce.
    pub base_iv: Option<&'a [u8]>,
}

impl<'a> SymmetricKey<'a> {
    /// A key with no restriction and no base IV.
    pub fn new(k: &'a [u8]) -> Self {
        Self {
            k,
            ..Self::default()
        }
    }
}

/// A decoded COSE_Key, borrowing from its input. Private parts (`d`, `k`) are borrowed, not
/// copied: zeroize the input buffer when done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoseKey<'a> {
    /// EC2 on P-256.
    Ec2 {
        /// The key id.
        kid: Option<&'a [u8]>,
        /// The one algorithm the key may be used with, if restricted.
        alg: Option<Algorithm>,
        /// The 32-byte x coordinate.
        x: &'a [u8],
        /// y, or its sign.
        y: Ec2Y<'a>,
        /// The 32-byte private scalar, for a private key.
        d: Option<&'a [u8]>,
    },
    /// A symmetric key.
    Symmetric(SymmetricKey<'a>),
}

fn opt_alg(alg: Option<AlgId<'_>>) -> Result<Option<Algorithm>> {
    alg.map(AlgId::algorithm).transpose()
}

impl<'a> CoseKey<'a> {
    /// Decodes a whole input holding one COSE_Key map.
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        let mut r = Reader::with_limits(input, Limits::default());
        let key = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(key)
    }

    /// Decodes one COSE_Key from `r`. Labels must be unique; at most [`MAX_HEADER_PARAMS`] of them.
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self> {
        let start = r.position();
        let n = r.map()?;
        if n > MAX_HEADER_PARAMS {
            return Err(Error::CapacityExceeded);
        }
        let (mut kty_v, mut kid, mut alg, mut base_iv, mut crv) = (None, None, None, None, None);
        let (mut x, mut y, mut d) = (None, None, None);
        let mut seen: u16 = 0;
        for _ in 0..n {
            let at = r.position();
            let label = match read_label(r)? {
                text @ Label::Text(_) => {
                    if label_seen(r, start, at, text)? {
                        return Err(Error::cbor(CborError::DuplicateKey, at));
                    }
                    r.skip()?;
                    continue;
                }
                Label::Int(label) => label,
            };
            if (-4..=5).contains(&label) {
                let b = 1u16 << (label + 4);
                if seen & b != 0 {
                    return Err(Error::cbor(CborError::DuplicateKey, at));
                }
                seen |= b;
            } else if label_seen(r, start, at, Label::Int(label))? {
                return Err(Error::cbor(CborError::DuplicateKey, at));
            }
            // A value of the wrong type is an invalid key; truncation and the like stay CBOR errors.
            let bad = |e: Error| type_error_as(e, Error::InvalidKey);
            match label {
                KTY => kty_v = Some(r.int().map_err(bad)?),
                KID => kid = Some(r.bytes().map_err(bad)?),
                ALG => alg = Some(read_label(r).map_err(bad)?.into()),
                BASE_IV => base_iv = Some(r.bytes().map_err(bad)?),
                // -1 is crv for EC2 and k for Symmetric: keep the raw item and interpret it with kty.
                CRV => crv = Some(r.skip()?),
                X => x = Some(r.bytes().map_err(bad)?),
                Y => {
                    y = Some(match r.datatype()? {
                        Type::Bool => Ec2Y::Sign(r.bool()?),
                        _ => Ec2Y::Coordinate(r.bytes().map_err(bad)?),
                    })
                }
                D => d = Some(r.bytes().map_err(bad)?),
                _ => {
                    r.skip()?;
                }
            }
        }
        let alg = opt_alg(alg)?;
        let minus_one = crv.ok_or(Error::InvalidKey)?;
        match kty_v {
            Some(kty::EC2) => {
                if Reader::new(minus_one).int() != Ok(P256) {
                    return Err(Error::InvalidKey);
                }
                let (x, y) = (x.ok_or(Error::InvalidKey)?, y.ok_or(Error::InvalidKey)?);
                if x.len() != 32
                    || matches!(y, Ec2Y::Coordinate(c) if c.len() != 32)
                    || d.is_some_and(|d| d.len() != 32)
                {
                    return Err(Error::InvalidKey);
                }
                if alg.is_some_and(|a| !a.is_ecdsa_p256() && a != Algorithm::EcdhEsA128Kw) {
                    return Err(Error::AlgorithmMismatch);
                }
                Ok(Self::Ec2 { kid, alg, x, y, d })
            }
            Some(kty::SYMMETRIC) => {
                let k = Reader::new(minus_one)
                    .bytes()
                    .map_err(|_| Error::InvalidKey)?;
                if x.is_some() || y.is_some() || d.is_some() {
                    return Err(Error::InvalidKey);
                }
                Ok(Self::Symmetric(SymmetricKey {
                    kid,
                    alg,
                    k,
                    base_iv,
                }))
            }
            _ => Err(Error::InvalidKey),
        }
    }

    /// The key id.
    pub fn kid(&self) -> Option<&'a [u8]> {
        match self {
            Self::Ec2 { kid, .. } => *kid,
            Self::Symmetric(k) => k.kid,
        }
    }

    /// The algorithm restriction.
    pub fn alg(&self) -> Option<Algorithm> {
        match self {
            Self::Ec2 { alg, .. } => *alg,
            Self::Symmetric(k) => k.alg,
        }
    }

    /// The symmetric key, or [`Error::InvalidKey`] for an EC2 key.
    pub fn symmetric(&self) -> Result<SymmetricKey<'a>> {
        match self {
            Self::Symmetric(k) => Ok(*k),
            Self::Ec2 { .. } => Err(Error::InvalidKey),
        }
    }

    /// Encodes the key as a map (labels in deterministic order) with `minicbor`.
    pub fn encode<W: Write>(
        &self,
        e: &mut Encoder<W>,
    ) -> core::result::Result<(), minicbor::encode::Error<W::Error>> {
        let (kid, alg) = (self.kid(), self.alg());
        match self {
            Self::Ec2 { x, y, d, .. } => {
                let n = 4
                    + u64::from(kid.is_some())
                    + u64::from(alg.is_some())
                    + u64::from(d.is_some());
                e.map(n)?.i64(KTY)?.i64(kty::EC2)?;
                if let Some(kid) = kid {
                    e.i64(KID)?.bytes(kid)?;
                }
                if let Some(alg) = alg {
                    e.i64(ALG)?.i64(alg.id())?;
                }
                e.i64(CRV)?.i64(P256)?.i64(X)?.bytes(x)?.i64(Y)?;
                match y {
                    Ec2Y::Coordinate(c) => e.bytes(c)?,
                    Ec2Y::Sign(s) => e.bool(*s)?,
                };
                if let Some(d) = d {
                    e.i64(D)?.bytes(d)?;
                }
            }
            Self::Symmetric(k) => {
                let n = 2
                    + u64::from(kid.is_some())
                    + u64::from(alg.is_some())
                    + u64::from(k.base_iv.is_some());
                e.map(n)?.i64(KTY)?.i64(kty::SYMMETRIC)?;
                if let Some(kid) = kid {
                    e.i64(KID)?.bytes(kid)?;
                }
                if let Some(alg) = alg {
                    e.i64(ALG)?.i64(alg.id())?;
                }
                if let Some(iv) = k.base_iv {
                    e.i64(BASE_IV)?.bytes(iv)?;
                }
                e.i64(CRV)?.bytes(k.k)?;
            }
        }
        Ok(())
    }

    /// Encodes into `buf` and returns the length.
    pub fn encode_to(&self, buf: &mut [u8]) -> Result<usize> {
        let mut w = SliceWriter::new(buf);
        self.encode(&mut Encoder::new(&mut w)).map_err(enc_err)?;
        Ok(w.len())
    }

    /// The SEC1 encoding of an EC2 key's public point, written into `out`: `04 || x || y`, or
    /// `02` / `03 || x` for a compressed one (RFC 9053 section 7.1.1). Whether the point is on
    /// the curve is left to the key's user (the backend that verifies or does ECDH with it).
    pub fn sec1_point<'o>(&self, out: &'o mut [u8; 65]) -> Result<&'o [u8]> {
        let Self::Ec2 { x, y, .. } = self else {
            return Err(Error::InvalidKey);
        };
        let (tag, rest) = out.split_at_mut(1);
        let (xs, ys) = rest.split_at_mut(32);
        if x.len() != xs.len() {
            return Err(Error::InvalidKey);
        }
        xs.copy_from_slice(x);
        let (prefix, len) = match y {
            Ec2Y::Coordinate(y) if y.len() == ys.len() => {
                ys.copy_from_slice(y);
                (0x04, 65)
            }
            Ec2Y::Coordinate(_) => return Err(Error::InvalidKey),
            Ec2Y::Sign(sign) => (if *sign { 0x03 } else { 0x02 }, 33),
        };
        tag.fill(prefix);
        out.get(..len).ok_or(Error::InvalidKey)
    }

    /// The public key of an EC2 key, for verification.
    #[cfg(feature = "rustcrypto")]
    pub fn verifying_key(&self) -> Result<crate::crypto::P256VerifyingKey> {
        let Self::Ec2 { alg, .. } = self else {
            return Err(Error::InvalidKey);
        };
        let mut sec1 = [0u8; 65];
        let key = crate::crypto::P256VerifyingKey::from_sec1(self.sec1_point(&mut sec1)?)?;
        Ok(key.with_algorithm(*alg))
    }

    /// The private key of an EC2 key that has `d`, for signing.
    #[cfg(feature = "rustcrypto")]
    pub fn signing_key(&self) -> Result<crate::crypto::P256SigningKey> {
        let Self::Ec2 {
            d: Some(d), alg, ..
        } = self
        else {
            return Err(Error::InvalidKey);
        };
        Ok(crate::crypto::P256SigningKey::from_bytes(d)?.with_algorithm(*alg))
    }
}
