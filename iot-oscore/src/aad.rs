//! The Additional Authenticated Data (RFC 8613 section 5.4): the `external_aad` array, carried in
//! COSE's `Enc_structure` `["Encrypt0", h'', external_aad]` (RFC 9052 section 5.3).
//!
//! The `external_aad` is at most 20 bytes (IDs are at most 7 bytes, Partial IVs 5, and no
//! Class I options are defined), so every CBOR head in the AAD takes one byte, except `alg_aead`
//! above 23; the whole `Enc_structure` (at most 33 bytes) is written straight into a small array
//! and handed to the AEAD as one piece, without an encoder.

use crate::context::MAX_ID_LEN;
use crate::error::{Error, Result};
use crate::nonce::MAX_PARTIAL_IV_LEN;
use iot_core::cose::AeadAlgorithm;

/// The OSCORE version of the `external_aad` (RFC 8613 section 5.4).
pub const OSCORE_VERSION: u8 = 1;

/// `["Encrypt0", h'', ` as CBOR: array(3), text(8) "Encrypt0", bytes(0) (RFC 9052 section 5.3).
const ENC_STRUCTURE_HEAD: [u8; 11] = [
    0x83, 0x68, b'E', b'n', b'c', b'r', b'y', b'p', b't', b'0', 0x40,
];
/// Capacity of the `external_aad`: array head, version, algorithms array, `alg_aead` (2),
/// kid (1 + 7), Partial IV (1 + 5), empty options (1).
const EXTERNAL_CAPACITY: usize = 1 + 1 + 1 + 2 + (1 + MAX_ID_LEN) + (1 + MAX_PARTIAL_IV_LEN) + 1;
/// Capacity of the AAD: the `Enc_structure` head, the `external_aad` byte string head, its content.
const CAPACITY: usize = ENC_STRUCTURE_HEAD.len() + 1 + EXTERNAL_CAPACITY;
/// Where the `external_aad` starts in the AAD.
const EXTERNAL_AT: usize = ENC_STRUCTURE_HEAD.len() + 1;

/// `external_aad = [oscore_version, [alg_aead], request_kid, request_piv, options]`, encoded,
/// inside its `Enc_structure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalAad {
    bytes: [u8; CAPACITY],
    len: usize,
}

/// Appends `bytes` at `*at`.
fn put(out: &mut [u8], at: &mut usize, bytes: &[u8]) -> Result<()> {
    let end = *at + bytes.len();
    out.get_mut(*at..end)
        .ok_or(Error::InvalidContext)?
        .copy_from_slice(bytes);
    *at = end;
    Ok(())
}

/// Appends a byte string of at most 23 bytes with its one-byte head.
fn put_short_bytes(out: &mut [u8], at: &mut usize, bytes: &[u8]) -> Result<()> {
    if bytes.len() > 23 {
        return Err(Error::InvalidContext);
    }
    put(out, at, &[0x40 | bytes.len() as u8])?;
    put(out, at, bytes)
}

impl ExternalAad {
    /// The `external_aad` for a message of an exchange whose request carried `request_kid` and
    /// `request_piv`; the Class I `options` are empty (none are defined). A kid longer than
    /// [`MAX_ID_LEN`] or a Partial IV longer than [`MAX_PARTIAL_IV_LEN`] fails with
    /// [`Error::InvalidContext`].
    pub fn new(alg: AeadAlgorithm, request_kid: &[u8], request_piv: &[u8]) -> Result<Self> {
        if request_kid.len() > MAX_ID_LEN || request_piv.len() > MAX_PARTIAL_IV_LEN {
            return Err(Error::InvalidContext);
        }
        let mut bytes = [0u8; CAPACITY];
        let mut at = 0;
        put(&mut bytes, &mut at, &ENC_STRUCTURE_HEAD)?;
        at += 1; // the external_aad's byte string head, once its length is known
        // array(5), version, array(1), then alg_aead as a CBOR integer in its shortest form.
        put(&mut bytes, &mut at, &[0x85, OSCORE_VERSION, 0x81])?;
        match alg.algorithm().id() {
            id @ 0..=23 => put(&mut bytes, &mut at, &[id as u8])?,
            id @ 24..=255 => put(&mut bytes, &mut at, &[0x18, id as u8])?,
            id @ -24..=-1 => put(&mut bytes, &mut at, &[0x20 | (-1 - id) as u8])?,
            id @ -256..=-25 => put(&mut bytes, &mut at, &[0x38, (-1 - id) as u8])?,
            _ => return Err(Error::InvalidContext),
        }
        put_short_bytes(&mut bytes, &mut at, request_kid)?;
        put_short_bytes(&mut bytes, &mut at, request_piv)?;
        put_short_bytes(&mut bytes, &mut at, &[])?;
        let external_len = at - EXTERNAL_AT;
        let head = bytes
            .get_mut(EXTERNAL_AT - 1)
            .ok_or(Error::InvalidContext)?;
        *head = 0x40 | external_len as u8;
        Ok(Self { bytes, len: at })
    }

    /// The encoded `external_aad` array.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(EXTERNAL_AT..self.len).unwrap_or_default()
    }

    /// The AAD: the encoded `Enc_structure` around the `external_aad` (RFC 8613 section 5.4).
    pub fn aad(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}
