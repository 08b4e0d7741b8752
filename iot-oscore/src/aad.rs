//! The Additional Authenticated Data (RFC 8613 section 5.4): the `external_aad` array, carried in
//! COSE's `Enc_structure` `["Encrypt0", h'', external_aad]` (RFC 9052 section 5.3).
//!
//! The `external_aad` is at most 20 bytes (IDs are at most 7 bytes, Partial IVs 5, and no
//! Class I options are defined), so it is written into a small array; the `Enc_structure` around it
//! is handed to the AEAD as [`EncStructure`] pieces and never assembled.

use crate::context::MAX_ID_LEN;
use crate::error::Result;
use crate::nonce::MAX_PARTIAL_IV_LEN;
use iot_core::cbor::{SliceWriter, enc_err};
use iot_core::cose::AeadAlgorithm;
use iot_core::cose::structure::EncStructure;
use minicbor::Encoder;

/// The OSCORE version of the `external_aad` (RFC 8613 section 5.4).
pub const OSCORE_VERSION: u8 = 1;

/// Capacity of [`ExternalAad`]: array head, version, algorithms array, `alg_aead` (2), kid (1 + 7),
/// Partial IV (1 + 5), empty options (1).
const CAPACITY: usize = 1 + 1 + 1 + 2 + (1 + MAX_ID_LEN) + (1 + MAX_PARTIAL_IV_LEN) + 1;

/// `external_aad = [oscore_version, [alg_aead], request_kid, request_piv, options]`, encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalAad {
    bytes: [u8; CAPACITY],
    len: usize,
}

impl ExternalAad {
    /// The `external_aad` for a message of an exchange whose request carried `request_kid` and
    /// `request_piv`; the Class I `options` are empty (none are defined).
    pub fn new(alg: AeadAlgorithm, request_kid: &[u8], request_piv: &[u8]) -> Result<Self> {
        let mut bytes = [0u8; CAPACITY];
        let mut w = SliceWriter::new(&mut bytes);
        Encoder::new(&mut w)
            .array(5)
            .and_then(|e| e.u8(OSCORE_VERSION))
            .and_then(|e| e.array(1))
            .and_then(|e| e.i64(alg.algorithm().id()))
            .and_then(|e| e.bytes(request_kid))
            .and_then(|e| e.bytes(request_piv))
            .and_then(|e| e.bytes(&[]))
            .map_err(enc_err)?;
        let len = w.len();
        Ok(Self { bytes, len })
    }

    /// The encoded array.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The AAD as `Enc_structure` pieces for [`iot_core::crypto::Aead`].
    pub fn enc_structure(&self) -> Result<EncStructure<'_>> {
        Ok(EncStructure::new("Encrypt0", &[], self.as_bytes())?)
    }
}
