//! Component measurements for the `measurements` claim (RFC 9711 section 4.2.16) as CoSWID
//! evidence tags (RFC 9393), without a heap.
//!
//! RFC 9711 defines one measurement format, `bytes .cbor untagged-coswid` under the CoAP
//! Content-Format [`CF_SWID_CBOR`] (258, `application/swid+cbor`). A [`Measurement`] is written
//! as the smallest CoSWID tag that states a measured component (RFC 9393 sections 2.3, 2.8, 2.9):
//!
//! ```text
//! { 0 tag-id: name, 1 software-name: name, 2 entity: { 31 entity-name: entity, 33 role: 1 },
//!   3 evidence: { 17 file: { 7 hash: [alg, digest], 24 fs-name: name } },
//!   12 tag-version: 0, ? 13 software-version: version }
//! ```
//!
//! `role` 1 is tag-creator; `alg` is from the IANA "Named Information Hash Algorithm Registry"
//! (sha-256 is [`NI_SHA256`]). The reader takes any CoSWID tag with one file hash in its
//! `evidence` (or `payload`), keys in any order, unknown keys skipped.

use crate::error::Result;
use crate::util::{enc, invalid};
use crate::value::TypedContent;
use iot_core::cbor::{Reader, SliceWriter};
use minicbor::data::Type;
use minicbor::encode::Encoder;

/// CoAP Content-Format of `application/swid+cbor` (RFC 9393 section 6.5).
pub const CF_SWID_CBOR: u16 = 258;
/// SHA-256 in the Named Information Hash Algorithm Registry (RFC 6920), as CoSWID `hash-entry`
/// names it.
pub const NI_SHA256: i64 = 1;

/// CoSWID map keys (RFC 9393 section 6.1).
mod key {
    pub const TAG_ID: i64 = 0;
    pub const SOFTWARE_NAME: i64 = 1;
    pub const ENTITY: i64 = 2;
    pub const EVIDENCE: i64 = 3;
    pub const PAYLOAD: i64 = 6;
    pub const HASH: i64 = 7;
    pub const TAG_VERSION: i64 = 12;
    pub const SOFTWARE_VERSION: i64 = 13;
    pub const FILE: i64 = 17;
    pub const FS_NAME: i64 = 24;
    pub const ENTITY_NAME: i64 = 31;
    pub const ROLE: i64 = 33;
}
/// CoSWID role `tag-creator` (RFC 9393 section 4.2).
const ROLE_TAG_CREATOR: u64 = 1;

/// One measured component: its name, version, and the digest of its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measurement<'a> {
    /// The component's name (CoSWID `software-name`, `tag-id` and the file's `fs-name`).
    pub name: &'a str,
    /// The component's version (`software-version`), if stated.
    pub version: Option<&'a str>,
    /// Who made the tag (`entity-name` of the tag-creator entity): the attester.
    pub entity: &'a str,
    /// The hash algorithm ([`NI_SHA256`]).
    pub hash_alg: i64,
    /// The digest of the component's image.
    pub digest: &'a [u8],
}

impl<'a> Measurement<'a> {
    /// Writes the CoSWID tag into `buf` (deterministic encoding) and returns its length.
    pub fn encode_to(&self, buf: &mut [u8]) -> Result<usize> {
        let mut w = SliceWriter::new(buf);
        let mut e = Encoder::new(&mut w);
        e.map(5 + u64::from(self.version.is_some())).map_err(enc)?;
        e.i64(key::TAG_ID)
            .map_err(enc)?
            .str(self.name)
            .map_err(enc)?;
        e.i64(key::SOFTWARE_NAME).map_err(enc)?;
        e.str(self.name).map_err(enc)?;
        e.i64(key::ENTITY).map_err(enc)?.map(2).map_err(enc)?;
        e.i64(key::ENTITY_NAME)
            .map_err(enc)?
            .str(self.entity)
            .map_err(enc)?;
        e.i64(key::ROLE)
            .map_err(enc)?
            .u64(ROLE_TAG_CREATOR)
            .map_err(enc)?;
        e.i64(key::EVIDENCE).map_err(enc)?.map(1).map_err(enc)?;
        e.i64(key::FILE).map_err(enc)?.map(2).map_err(enc)?;
        e.i64(key::HASH).map_err(enc)?.array(2).map_err(enc)?;
        e.i64(self.hash_alg)
            .map_err(enc)?
            .bytes(self.digest)
            .map_err(enc)?;
        e.i64(key::FS_NAME)
            .map_err(enc)?
            .str(self.name)
            .map_err(enc)?;
        e.i64(key::TAG_VERSION).map_err(enc)?.u64(0).map_err(enc)?;
        if let Some(v) = self.version {
            e.i64(key::SOFTWARE_VERSION)
                .map_err(enc)?
                .str(v)
                .map_err(enc)?;
        }
        Ok(w.len())
    }

    /// Writes the tag at the start of `buf` and returns the `measurements` entry that borrows it,
    /// with the rest of `buf` for the next one.
    pub fn write_entry<'b>(&self, buf: &'b mut [u8]) -> Result<(TypedContent<'b>, &'b mut [u8])> {
        let n = self.encode_to(buf)?;
        let (content, rest) = buf.split_at_mut(n);
        let entry = TypedContent {
            content_format: CF_SWID_CBOR,
            content,
        };
        Ok((entry, rest))
    }

    /// Reads a `measurements` entry: `None` when its content format is not [`CF_SWID_CBOR`],
    /// an error when the CoSWID tag is malformed or states no single file hash.
    pub fn from_entry(entry: &TypedContent<'a>) -> Option<Result<Self>> {
        (entry.content_format == CF_SWID_CBOR).then(|| Self::decode(entry.content))
    }

    /// Reads a CoSWID tag (the whole input).
    pub fn decode(input: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(input);
        let (mut name, mut version, mut entity, mut hash) = (None, None, None, None);
        let n = r.map()?;
        for _ in 0..n {
            match map_key(&mut r)? {
                Some(key::SOFTWARE_NAME) => name = Some(r.str()?),
                Some(key::SOFTWARE_VERSION) => version = Some(r.str()?),
                Some(key::ENTITY) => entity = creator(&mut r)?,
                Some(key::EVIDENCE | key::PAYLOAD) => hash = Some(file_hash(&mut r)?),
                _ => {
                    r.skip()?;
                }
            }
        }
        r.finish()?;
        let (hash_alg, digest) = hash.ok_or(invalid(0))?;
        Ok(Self {
            name: name.ok_or(invalid(0))?,
            version,
            entity: entity.unwrap_or_default(),
            hash_alg,
            digest,
        })
    }
}

/// A map key: `Some` for an integer, `None` for a text key (an extension's), consumed either way.
fn map_key(r: &mut Reader<'_>) -> Result<Option<i64>> {
    if r.datatype()? == Type::String {
        r.str()?;
        return Ok(None);
    }
    Ok(Some(r.int()?))
}

/// The entity-name of the tag-creator among `entity => one-or-more<entity-entry>`.
fn creator<'a>(r: &mut Reader<'a>) -> Result<Option<&'a str>> {
    let count = if r.datatype()? == Type::Array {
        r.array()?
    } else {
        1
    };
    let mut found = None;
    for _ in 0..count {
        let n = r.map()?;
        let mut name = None;
        for _ in 0..n {
            match map_key(r)? {
                Some(key::ENTITY_NAME) => name = Some(r.str()?),
                _ => {
                    r.skip()?;
                }
            }
        }
        found = found.or(name);
    }
    Ok(found)
}

/// The one `hash` of the one `file` in an evidence or payload entry.
fn file_hash<'a>(r: &mut Reader<'a>) -> Result<(i64, &'a [u8])> {
    let start = r.position();
    let n = r.map()?;
    let mut hash = None;
    for _ in 0..n {
        match map_key(r)? {
            Some(key::FILE) => {
                if r.datatype()? == Type::Array {
                    r.array_of(1)?;
                }
                let m = r.map()?;
                for _ in 0..m {
                    if map_key(r)? == Some(key::HASH) {
                        r.array_of(2)?;
                        let alg = r.int()?;
                        hash = Some((alg, r.bytes()?));
                    } else {
                        r.skip()?;
                    }
                }
            }
            _ => {
                r.skip()?;
            }
        }
    }
    hash.ok_or(invalid(start))
}
