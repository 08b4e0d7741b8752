//! The trust anchor's decoding, shared by the SUIT images and their crypto floor `suit_crypto`
//! so that both hold the same code for it.

use core::hint::black_box;
use iot_core::crypto::P256VerifyingKey;

/// The key of an uncompressed SEC1 trust anchor (`04 || x || y`), decoded once at start-up from
/// the coordinates it holds: a firmware that provisions an uncompressed key links no point
/// decompression. Not inlined, so that the decoding's locals are not part of the frame that
/// stays on the stack during the update.
#[inline(never)]
pub fn trust_anchor(sec1: &[u8; 65]) -> Option<P256VerifyingKey> {
    let sec1 = black_box(sec1);
    P256VerifyingKey::from_coordinates(sec1.get(1..33)?, sec1.get(33..)?).ok()
}
