//! The Additional Authenticated Data (RFC 8613 section 5.4): the `external_aad` array, carried in
//! COSE's `Enc_structure` `["Encrypt0", h'', external_aad]` (RFC 9052 section 5.3).
//!
//! The `external_aad` is at most 20 bytes (IDs are at most 7 bytes, Partial IVs 5, and no
//! Class I options are defined), so every CBOR head in the AAD takes one byte, except `alg_aead`
//! above 23; the whole `Enc_structure` (at most 32 bytes) is written straight into a small array
//! and handed to the AEAD as one piece, without an encoder.

use crate::context::MAX_ID_LEN;
use crate::error::{Error, Result};
use crate::nonce::MAX_PARTIAL_IV_LEN;
use iot_core::cose::AeadAlgorithm;

/// The OSCORE version of the `external_aad` (RFC 8613 section 5.4).
pub const OSCORE_VERSION: u8 = 1;

/// The AAD's first bytes, the same in every message: `["Encrypt0", h'', ` (array(3), text(8)
/// "Encrypt0", bytes(0); RFC 9052 section 5.3), the `external_aad`'s byte string head (its length
/// is added), and of the `external_aad` the array head, the version and the `algorithms` array head.
const FIXED: [u8; FIXED_LEN] = [
    0x83,
    0x68,
    b'E',
    b'n',
    b'c',
    b'r',
    b'y',
    b'p',
    b't',
    b'0',
    0x40,
    0x40,
    0x85,
    OSCORE_VERSION,
    0x81,
];
const FIXED_LEN: usize = 15;
/// Where the `external_aad` starts in the AAD.
const EXTERNAL_AT: usize = 12;
/// Capacity of the AAD: the fixed bytes, `alg_aead` (2), kid (1 + 7), Partial IV (1 + 5), empty
/// options (1).
const CAPACITY: usize = FIXED_LEN + 2 + (1 + MAX_ID_LEN) + (1 + MAX_PARTIAL_IV_LEN) + 1;

/// `external_aad = [oscore_version, [alg_aead], request_kid, request_piv, options]`, encoded,
/// inside its `Enc_structure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalAad {
    bytes: [u8; CAPACITY],
    len: usize,
}

impl ExternalAad {
    /// The `external_aad` for a message of an exchange whose request carried `request_kid` and
    /// `request_piv`; the Class I `options` are empty (none are defined). A kid longer than
    /// [`MAX_ID_LEN`] or a Partial IV longer than [`MAX_PARTIAL_IV_LEN`] fails with
    /// [`Error::InvalidContext`].
    pub fn new(alg: AeadAlgorithm, request_kid: &[u8], request_piv: &[u8]) -> Result<Self> {
        let alg_id = u8::try_from(alg.algorithm().id()).map_err(|_| Error::InvalidContext)?;
        if request_kid.len() > MAX_ID_LEN || request_piv.len() > MAX_PARTIAL_IV_LEN {
            return Err(Error::InvalidContext);
        }
        // Byte by byte into an array that holds the longest AAD (the lengths are checked above),
        // every head one byte but `alg_aead`'s above 23: no encoder, no copies (the hot path).
        let mut bytes = [0u8; CAPACITY];
        let (fixed, rest) = bytes
            .split_first_chunk_mut::<FIXED_LEN>()
            .ok_or(Error::InvalidContext)?;
        *fixed = FIXED;
        let mut len = 0;
        let mut push = |b: u8| {
            if let Some(d) = rest.get_mut(len) {
                *d = b;
            }
            len += 1;
        };
        if alg_id > 23 {
            push(24);
        }
        push(alg_id);
        push(0x40 | request_kid.len() as u8);
        request_kid.iter().for_each(|&b| push(b));
        push(0x40 | request_piv.len() as u8);
        request_piv.iter().for_each(|&b| push(b));
        push(0x40); // options: empty
        // The external_aad's byte string head (its length is under 24).
        fixed[EXTERNAL_AT - 1] |= (FIXED_LEN - EXTERNAL_AT + len) as u8;
        Ok(Self {
            bytes,
            len: FIXED_LEN + len,
        })
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
