//! Partial IVs (RFC 8613 section 5: the Sender Sequence Number without leading zero bytes) and
//! the AEAD nonce built from them (section 5.2).

use crate::error::{Error, Result};
use iot_core::cose::{AeadAlgorithm, MAX_NONCE_LEN};

/// The longest Partial IV: sequence numbers stay below 2^40 (RFC 8613 section 7.2.1).
pub const MAX_PARTIAL_IV_LEN: usize = 5;

/// A Partial IV: a sequence number in network byte order, leading zero bytes removed, with
/// 0 encoded as the single byte 0x00 (RFC 8613 section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialIv {
    bytes: [u8; MAX_PARTIAL_IV_LEN],
    len: u8,
}

impl PartialIv {
    /// The Partial IV of sequence number `seq`; `None` when `seq` needs more than 5 bytes.
    pub fn from_sequence_number(seq: u64) -> Option<Self> {
        if seq >= 1 << (8 * MAX_PARTIAL_IV_LEN) {
            return None;
        }
        // Bytes without the leading zeros, at least one, shifted to the front: fixed-size copies
        // only (no call to memcpy).
        let len = (8 - seq.leading_zeros() / 8).max(1);
        let front = (seq << (64 - 8 * len)).to_be_bytes();
        let (bytes, _) = front.split_first_chunk::<MAX_PARTIAL_IV_LEN>()?;
        Some(Self {
            bytes: *bytes,
            len: len as u8,
        })
    }

    /// A received Partial IV: 1 to 5 bytes without a leading zero byte (except the value 0 itself).
    pub fn from_bytes(piv: &[u8]) -> Result<Self> {
        match piv {
            [] | [0, _, ..] => Err(Error::BadOscoreOption),
            _ => {
                let mut bytes = [0u8; MAX_PARTIAL_IV_LEN];
                bytes
                    .get_mut(..piv.len())
                    .ok_or(Error::BadOscoreOption)?
                    .copy_from_slice(piv);
                Ok(Self {
                    bytes,
                    len: piv.len() as u8,
                })
            }
        }
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The sequence number.
    pub fn sequence_number(&self) -> u64 {
        self.as_bytes()
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    }
}

/// Bytes of the number a [`Nonce`] is built in.
const NUMBER_LEN: usize = size_of::<u128>();

/// An AEAD nonce; [`Nonce::as_bytes`] is as long as the algorithm's nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce {
    /// The nonce right-aligned: the bytes of a big-endian `u128`.
    bytes: [u8; NUMBER_LEN],
    len: usize,
}

impl Nonce {
    /// The nonce of RFC 8613 section 5.2: `S || pad(ID_PIV) || pad(PIV)`, `ID_PIV` padded to the
    /// nonce length minus 6 and `PIV` to 5 bytes, XORed with the Common IV. `id_piv` is the
    /// Sender ID of the endpoint that generated the Partial IV.
    pub fn new(
        alg: AeadAlgorithm,
        common_iv: &[u8],
        id_piv: &[u8],
        piv: &PartialIv,
    ) -> Result<Self> {
        Self::build(alg, common_iv, id_piv, piv).ok_or(Error::InvalidContext)
    }

    /// [`Self::new`], `None` for a Common IV of the wrong length or a too long ID.
    fn build(alg: AeadAlgorithm, common_iv: &[u8], id_piv: &[u8], piv: &PartialIv) -> Option<Self> {
        let len = alg.nonce_len();
        if common_iv.len() != len || id_piv.len() > len - 6 || len > MAX_NONCE_LEN {
            return None;
        }
        let mut iv = [0u8; NUMBER_LEN];
        let dst = iv.get_mut(NUMBER_LEN - len..)?;
        dst.copy_from_slice(common_iv);
        // S, the ID's length, in the first byte.
        *dst.first_mut()? ^= id_piv.len() as u8;
        // ID_PIV right-aligned before the last 5 bytes and PIV in them, as one number: built byte
        // by byte, the nonce would stall the AEAD, which reads it back whole.
        let id = id_piv
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let fields = u128::from(id) << (8 * MAX_PARTIAL_IV_LEN) | u128::from(piv.sequence_number());
        let bytes = (u128::from_be_bytes(iv) ^ fields).to_be_bytes();
        Some(Self { bytes, len })
    }

    /// The nonce bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(NUMBER_LEN - self.len..).unwrap_or_default()
    }
}
