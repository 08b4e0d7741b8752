//! Detached EAT bundles (RFC 9711 section 5): a main token and the claims-sets it names by
//! Detached-Submodule-Digest (section 4.2.18.2), as `#6.602([main-token, {+ name => part}])`.

use crate::claims::Claims;
use crate::error::{Error, Result};
use crate::label::Label;
use crate::submod::Submodule;
use crate::util::{enc, invalid, mismatch};
use iot_core::cbor::{Reader, SliceWriter};
use iot_core::crypto::{Sha256, ct_eq};
use minicbor::data::Type;
use minicbor::encode::Encoder;

/// The CBOR tag of a detached EAT bundle (RFC 9711 section 5).
pub const BUNDLE_TAG: u64 = 602;

/// The COSE algorithm id of SHA-256 (RFC 9054), the one hash algorithm checked here.
pub const SHA256_ALG: i64 = -16;

/// One detached claims-set of a bundle (RFC 9711 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetachedPart<'a> {
    /// `cbor-wrapped-claims-set`: the content of the byte string, an encoded claims-set.
    Cbor(&'a [u8]),
    /// `json-wrapped-claims-set`: a base64url-encoded JSON claims-set, as text.
    Json(&'a str),
}

impl<'a> DetachedPart<'a> {
    /// The bytes the Detached-Submodule-Digest covers: the wrapped claims-set.
    pub fn digested(&self) -> &'a [u8] {
        match *self {
            Self::Cbor(b) => b,
            Self::Json(t) => t.as_bytes(),
        }
    }
}

/// A decoded detached EAT bundle, borrowing from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bundle<'a> {
    /// The main token: the content of its byte string (a tagged CBOR token, CWT 61 or COSE 18/17).
    pub main: &'a [u8],
    /// The encoded map of detached claims-sets.
    parts: &'a [u8],
}

impl<'a> Bundle<'a> {
    /// Decodes a bundle, tagged 602 or not; the names are distinct, the parts well formed.
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(input);
        let at = r.position();
        match r.opt_tag()? {
            None | Some(BUNDLE_TAG) => {}
            Some(_) => return Err(mismatch(at)),
        }
        r.array_of(2)?;
        let at = r.position();
        let main = r.bytes()?;
        let mut inner = Reader::with_limits(main, r.limits());
        if inner.opt_tag()?.is_none() {
            // A CBOR Nested-Token is a tagged token (RFC 9711 section 4.2.18.3).
            return Err(invalid(at));
        }
        inner.skip()?;
        inner.finish()?;
        let start = r.position();
        let count = r.map()?;
        if count == 0 {
            return Err(invalid(start));
        }
        for _ in 0..count {
            let at = r.position();
            let name = r.str()?;
            read_part(&mut r)?;
            // Names are map keys: each at most once.
            let mut earlier = Reader::new(input.get(start..at).unwrap_or_default());
            earlier.map()?;
            while !earlier.is_empty() {
                if earlier.str()? == name {
                    return Err(Error::DuplicateClaim {
                        key: crate::error::NO_KEY,
                        offset: at,
                    });
                }
                read_part(&mut earlier)?;
            }
        }
        r.finish()?;
        let parts = input.get(start..r.position()).unwrap_or_default();
        Ok(Self { main, parts })
    }

    /// The detached claims-sets, by name, in their encoded order.
    pub fn parts(&self) -> impl Iterator<Item = (&'a str, DetachedPart<'a>)> + use<'a> {
        let mut r = Reader::new(self.parts);
        let count = r.map().unwrap_or(0);
        (0..count).map_while(move |_| {
            let name = r.str().ok()?;
            let part = read_part(&mut r).ok()?;
            Some((name, part))
        })
    }

    /// The detached claims-set named `name`.
    pub fn part(&self, name: &str) -> Option<DetachedPart<'a>> {
        self.parts().find(|(n, _)| *n == name).map(|(_, p)| p)
    }

    /// Checks every detached part against the Detached-Submodule-Digest of the same name in
    /// `main` (the main token's claims, verified by the caller): SHA-256 only, compared in
    /// constant time. Every digest needs its part, and every part its digest.
    pub fn verify_digests<C: Sha256>(&self, crypto: &mut C, main: &Claims<'_>) -> Result<()> {
        let mut digests = 0usize;
        if let Some(submods) = main.submods {
            for submod in submods.iter() {
                let Submodule::Digest(d) = submod.module else {
                    continue;
                };
                digests = digests.saturating_add(1);
                if !is_sha256(d.alg) {
                    return Err(Error::DigestAlgorithm);
                }
                let part = self.part(submod.name).ok_or(Error::DetachedMissing)?;
                let got = crypto.sha256(part.digested());
                if !ct_eq(&got, d.digest) {
                    return Err(Error::DetachedDigestMismatch);
                }
            }
        }
        if self.parts().count() != digests {
            // A part the main token does not name by digest (or names otherwise).
            return Err(Error::DetachedUnexpected);
        }
        Ok(())
    }
}

/// Whether `alg` names SHA-256: COSE id -16 or the name `sha-256`.
fn is_sha256(alg: Label<'_>) -> bool {
    match alg {
        Label::Int(i) => i == SHA256_ALG,
        Label::Text(t) => t.eq_ignore_ascii_case("sha-256"),
    }
}

fn read_part<'a>(r: &mut Reader<'a>) -> Result<DetachedPart<'a>> {
    let at = r.position();
    match r.datatype()? {
        Type::Bytes => {
            let b = r.bytes()?;
            let mut inner = Reader::with_limits(b, r.limits());
            if inner.datatype()? != Type::Map {
                return Err(invalid(at));
            }
            inner.skip()?;
            inner.finish()?;
            Ok(DetachedPart::Cbor(b))
        }
        Type::String => {
            let t = r.str()?;
            let b64url = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'=' | b'-');
            if t.is_empty() || !t.bytes().all(b64url) {
                return Err(invalid(at));
            }
            Ok(DetachedPart::Json(t))
        }
        _ => Err(mismatch(at)),
    }
}

/// Writes `#6.602([main, {name => part}])` into `buf` and returns its length. `main` is the
/// encoded main token (tagged); the parts are written in the order given, names distinct.
pub fn encode_bundle(
    main: &[u8],
    parts: &[(&str, DetachedPart<'_>)],
    buf: &mut [u8],
) -> Result<usize> {
    if parts.is_empty() {
        return Err(invalid(0));
    }
    if Reader::new(main).opt_tag()?.is_none() {
        return Err(invalid(0));
    }
    for (i, (name, _)) in parts.iter().enumerate() {
        if parts.iter().take(i).any(|(n, _)| n == name) {
            return Err(Error::DuplicateClaim {
                key: crate::error::NO_KEY,
                offset: i,
            });
        }
    }
    let mut e = Encoder::new(SliceWriter::new(buf));
    e.tag(minicbor::data::Tag::new(BUNDLE_TAG)).map_err(enc)?;
    e.array(2).map_err(enc)?;
    e.bytes(main).map_err(enc)?;
    e.map(parts.len() as u64).map_err(enc)?;
    for (name, part) in parts {
        e.str(name).map_err(enc)?;
        match part {
            DetachedPart::Cbor(b) => e.bytes(b).map_err(enc)?,
            DetachedPart::Json(t) => e.str(t).map_err(enc)?,
        };
    }
    Ok(e.into_writer().len())
}
