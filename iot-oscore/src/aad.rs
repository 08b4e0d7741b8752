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

/// A writer of the small CBOR items of RFC 8613's fixed structures (this AAD, the HKDF `info` of
/// section 3.2.1): heads with arguments below 256, in preferred (shortest) form (RFC 8949
/// section 4.2.1). A larger argument or a full buffer is noted and reported once, by
/// [`SmallCbor::finish`], as [`Error::InvalidContext`].
pub(crate) struct SmallCbor<'b> {
    buf: &'b mut [u8],
    len: usize,
    failed: bool,
}

impl<'b> SmallCbor<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            failed: false,
        }
    }

    /// The length written, or [`Error::InvalidContext`] if anything did not fit.
    pub(crate) fn finish(&self) -> Result<usize> {
        if self.failed {
            return Err(Error::InvalidContext);
        }
        Ok(self.len)
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len = end;
            }
            None => self.failed = true,
        }
    }

    /// A head of major type `major` with argument `arg` (below 256).
    pub(crate) fn head(&mut self, major: u8, arg: u64) {
        let mt = major << 5;
        match u8::try_from(arg) {
            Ok(a @ 0..=23) => self.raw(&[mt | a]),
            Ok(a) => self.raw(&[mt | 24, a]),
            Err(_) => self.failed = true,
        }
    }

    // Out of line (code size).
    #[inline(never)]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.head(2, bytes.len() as u64);
        self.raw(bytes);
    }

    /// An integer (a COSE algorithm identifier).
    pub(crate) fn int(&mut self, v: i64) {
        match u64::try_from(v) {
            Ok(u) => self.head(0, u),
            Err(_) => self.head(1, (-1 - v) as u64),
        }
    }
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
