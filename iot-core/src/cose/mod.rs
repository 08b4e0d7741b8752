//! COSE (RFC 9052, RFC 9053) without allocation: messages borrow from their input, encoders write
//! into the caller's buffer, and the to-be-authenticated structures are streamed into the crypto.

mod alg;
mod encrypt;
mod encrypt0;
mod header;
mod key;
mod list;
mod mac;
mod mac0;
mod recipient;
mod sign;
mod sign1;
pub mod structure;

pub use alg::{AeadAlgorithm, Algorithm, MAX_NONCE_LEN, MAX_TAG_LEN};
pub use encrypt::{CoseEncrypt, EncryptBuilder};
pub use encrypt0::{CoseEncrypt0, Encrypt0Builder};
pub use header::{
    AlgId, ContentType, HeaderMap, Headers, MAX_CRIT, MAX_HEADER_PARAMS, X5Chain, X5ChainIter, X5t,
    label,
};
pub use key::{CoseKey, Ec2Y, SymmetricKey, kty};
pub use list::{CoseList, CoseListIter, ListItem};
pub use mac::{CoseMac, MacBuilder};
pub use mac0::{CoseMac0, Mac0Builder};
pub use recipient::{
    ContentKey, CoseRecipient, KdfInfo, MAX_CONTENT_KEY_LEN, MAX_KDF_CONTEXT, MAX_RECIPIENTS,
    PartyInfo, Recipients, kdf_label, write_recipient,
};
pub use sign::{CoseSign, CoseSignature, MAX_SIGNATURES, Signatures};
pub use sign1::{CoseSign1, Sign1Builder};

use crate::cbor::{Limits, Reader, SliceWriter, enc_err};
use crate::error::{Error, Result};
use minicbor::encode::Encoder;

/// CBOR tags of the COSE structures (RFC 9052 section 2).
pub mod tag {
    /// COSE_Sign
    pub const SIGN: u64 = 98;
    /// COSE_Sign1
    pub const SIGN1: u64 = 18;
    /// COSE_Encrypt
    pub const ENCRYPT: u64 = 96;
    /// COSE_Encrypt0
    pub const ENCRYPT0: u64 = 16;
    /// COSE_Mac
    pub const MAC: u64 = 97;
    /// COSE_Mac0
    pub const MAC0: u64 = 17;
}

/// Reads an optional COSE tag (which must be `expected`) and the array head of `len` items.
/// Returns whether the message was tagged.
pub(crate) fn open_message(r: &mut Reader<'_>, expected: u64, len: u64) -> Result<bool> {
    let tagged = match r.opt_tag()? {
        None => false,
        Some(t) if t == expected => true,
        Some(t) => return Err(Error::wrong_tag(t)),
    };
    r.array_of(len)?;
    Ok(tagged)
}

/// A reader with `limits` over a whole message; used by every `decode`.
pub(crate) fn reader(input: &[u8], limits: Limits) -> Reader<'_> {
    Reader::with_limits(input, limits)
}

/// Writes the common start of a message (`tag?`, array head, protected bstr, unprotected map) into
/// `out` and returns the writer position and the range of the protected bytes in `out`.
pub(crate) fn write_prefix(
    out: &mut [u8],
    tag: Option<u64>,
    len: u64,
    protected: &HeaderMap<'_>,
    unprotected: &HeaderMap<'_>,
) -> Result<(usize, core::ops::Range<usize>)> {
    header::check_buckets(protected, unprotected)?;
    let mut w = SliceWriter::new(out);
    {
        let mut e = Encoder::new(&mut w);
        if let Some(t) = tag {
            e.tag(minicbor::data::Tag::new(t)).map_err(enc_err)?;
        }
        e.array(len).map_err(enc_err)?;
    }
    // An empty protected bucket is the zero-length bstr (RFC 9052 section 3).
    let plen = if protected.is_empty() {
        0
    } else {
        protected.encoded_len()
    };
    structure::write_head(&mut w, 2, plen as u64)?;
    let start = w.len();
    if plen > 0 {
        protected
            .encode(&mut Encoder::new(&mut w))
            .map_err(enc_err)?;
    }
    let prot = start..w.len();
    unprotected
        .encode(&mut Encoder::new(&mut w))
        .map_err(enc_err)?;
    Ok((w.len(), prot))
}

/// Writes a bstr (head and content) or, for `None`, `nil` at `out[at..]`; returns the new position.
pub(crate) fn write_bytes_or_nil(out: &mut [u8], at: usize, value: Option<&[u8]>) -> Result<usize> {
    let mut w = SliceWriter::new(out.get_mut(at..).ok_or(Error::BufferTooSmall)?);
    let mut e = Encoder::new(&mut w);
    match value {
        Some(v) => e.bytes(v).map_err(enc_err)?,
        None => e.null().map_err(enc_err)?,
    };
    Ok(at + w.len())
}

/// The AEAD or MAC nonce for a message: the `IV` header, or the context's base IV XOR the
/// left-padded `Partial IV` (RFC 9052 section 3.1).
pub(crate) fn nonce_for(
    headers: &Headers<'_>,
    base_iv: Option<&[u8]>,
    len: usize,
    out: &mut [u8; MAX_NONCE_LEN],
) -> Result<usize> {
    let nonce = out.get_mut(..len).ok_or(Error::InvalidNonce)?;
    if let Some(iv) = headers.iv() {
        if iv.len() != len {
            return Err(Error::InvalidNonce);
        }
        nonce.copy_from_slice(iv);
    } else if let (Some(piv), Some(base)) = (headers.partial_iv(), base_iv) {
        if base.len() != len || piv.len() > len {
            return Err(Error::InvalidNonce);
        }
        nonce.copy_from_slice(base);
        let offset = len - piv.len();
        for (n, p) in nonce.iter_mut().skip(offset).zip(piv) {
            *n ^= p;
        }
    } else {
        return Err(Error::InvalidNonce);
    }
    Ok(len)
}
