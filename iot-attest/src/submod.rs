//! Submodules (RFC 9711 section 4.2.18): nested claims-sets, nested tokens and detached
//! digests, by name.

use crate::claims::{Claims, validate_set};
use crate::error::Result;
use crate::label::Label;
use crate::seq::{Ctx, Item};
use crate::util::{enc, invalid, mismatch};
use iot_core::cbor::Reader;
use minicbor::data::Type;
use minicbor::encode::{Encoder, Write};

/// A submodule's claims-set: decoded (validated, kept as its bytes) or given to encode.
#[derive(Debug, Clone, Copy)]
pub enum ClaimsSet<'a> {
    /// Received: the encoded map, decoded again by [`ClaimsSet::claims`].
    Decoded {
        /// The encoded claims-set.
        raw: &'a [u8],
        /// Where and how it was decoded.
        ctx: Ctx,
    },
    /// Given by the caller.
    Claims(&'a Claims<'a>),
}

impl<'a> ClaimsSet<'a> {
    /// The claims of the submodule.
    pub fn claims(&self) -> Result<Claims<'a>> {
        match *self {
            Self::Decoded { raw, ctx } => Claims::decode_at(raw, ctx),
            Self::Claims(c) => Ok(c.clone()),
        }
    }
}

impl PartialEq for ClaimsSet<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.claims(), other.claims()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

/// A token nested as a submodule (RFC 9711 section 4.2.18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedToken<'a> {
    /// A CBOR token (`bstr .cbor` a tagged token: CWT 61, COSE 18 or 17, detached EAT bundle
    /// 602...): the content of the byte string.
    Cbor(&'a [u8]),
    /// A JSON token, as text.
    Json(&'a str),
}

impl NestedToken<'_> {
    /// The CBOR tag of a CBOR nested token (61 for a CWT, 18 for a bare COSE_Sign1...).
    pub fn tag(&self) -> Option<u64> {
        match self {
            Self::Cbor(b) => Reader::new(b).opt_tag().ok().flatten(),
            Self::Json(_) => None,
        }
    }
}

/// A detached submodule digest (RFC 9711 section 4.2.18.2): the hash of a claims-set or token
/// that travels outside the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetachedDigest<'a> {
    /// The hash algorithm: a COSE algorithm id (-16 for SHA-256) or a name.
    pub alg: Label<'a>,
    /// The digest.
    pub digest: &'a [u8],
}

/// What a submodule holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Submodule<'a> {
    /// A nested claims-set.
    Claims(ClaimsSet<'a>),
    /// A nested token.
    Token(NestedToken<'a>),
    /// A detached digest.
    Digest(DetachedDigest<'a>),
}

/// One named submodule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Submod<'a> {
    /// The submodule's name.
    pub name: &'a str,
    /// Its content.
    pub module: Submodule<'a>,
}

impl<'a> Item<'a> for Submod<'a> {
    const PAIR: bool = true;

    fn decode(r: &mut Reader<'a>, ctx: Ctx) -> Result<Self> {
        let name = r.str()?;
        let at = r.position();
        let module = match r.datatype()? {
            Type::Map => {
                let nested = Ctx {
                    depth: ctx.depth.saturating_add(1),
                    ..ctx
                };
                if ctx.validate {
                    validate_set(r, nested)?;
                } else {
                    // Already validated (iteration reads with relaxed limits): step over it.
                    r.skip()?;
                }
                let raw = r.input().get(at..r.position()).unwrap_or_default();
                Submodule::Claims(ClaimsSet::Decoded {
                    raw,
                    ctx: Ctx {
                        validate: true,
                        ..nested
                    },
                })
            }
            Type::Bytes => {
                let content = r.bytes()?;
                if ctx.validate {
                    let mut inner = Reader::with_limits(content, ctx.limits);
                    if inner.opt_tag()?.is_none() {
                        // A CBOR nested token is a tagged token (RFC 9711 section 4.2.18.3).
                        return Err(invalid(at));
                    }
                    inner.skip()?;
                    inner.finish()?;
                }
                Submodule::Token(NestedToken::Cbor(content))
            }
            Type::String => Submodule::Token(NestedToken::Json(r.str()?)),
            Type::Array => {
                r.array_of(2)?;
                let alg = Label::decode(r)?;
                let digest = r.bytes()?;
                Submodule::Digest(DetachedDigest { alg, digest })
            }
            _ => return Err(mismatch(at)),
        };
        Ok(Self { name, module })
    }

    fn encode<W: Write>(&self, e: &mut Encoder<W>) -> Result<()> {
        e.str(self.name).map_err(enc)?;
        match &self.module {
            Submodule::Claims(set) => set.claims()?.encode(e),
            Submodule::Token(NestedToken::Cbor(b)) => {
                e.bytes(b).map_err(enc)?;
                Ok(())
            }
            Submodule::Token(NestedToken::Json(t)) => {
                e.str(t).map_err(enc)?;
                Ok(())
            }
            Submodule::Digest(d) => {
                e.array(2).map_err(enc)?;
                d.alg.encode(e)?;
                e.bytes(d.digest).map_err(enc)?;
                Ok(())
            }
        }
    }

    fn label(&self) -> Label<'a> {
        Label::Text(self.name)
    }
}
