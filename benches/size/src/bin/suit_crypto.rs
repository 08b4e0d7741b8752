//! The crypto of `suit_example3` alone, so that the difference of the two images is the SUIT
//! code (envelope and manifest decoding, authentication logic, the command interpreter):
//! the same envelope and trust anchor in flash, the key decoded by the same
//! `anchor::trust_anchor`, SHA-256 streamed over the Sig_structure and over the manifest bstr,
//! an ECDSA P-256 verification of the digest, and SHA-256 over a 34,768-byte stand-in image in
//! 256-byte chunks, each digest compared in constant time, all through iot-core's RustCrypto
//! backend as the processor calls it. The ranges are the envelope's, taken as opaque offsets:
//! nothing is decoded.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use iot_core::crypto::{RustCrypto, Sha256, Verifier, ct_eq};
use panic_halt as _;

#[path = "../anchor.rs"]
mod anchor;
use anchor::trust_anchor;

#[path = "../example3.rs"]
#[allow(dead_code)] // its vendor and class IDs are the platform's business, not crypto
mod example3;
use example3::{ENVELOPE, TRUST_ANCHOR};

/// Byte ranges of the envelope: the SUIT_Digest (payload of the Sig_structure), the signature,
/// the digest bytes, the manifest bstr.
const DIGEST: (usize, usize) = (9, 45);
const SIGNATURE: (usize, usize) = (57, 121);
const DIGEST_BYTES: (usize, usize) = (13, 45);
const MANIFEST: (usize, usize) = (122, 396);

fn range(r: (usize, usize)) -> &'static [u8] {
    let (a, b) = black_box(r);
    ENVELOPE.get(a..b).unwrap_or_default()
}

fn crypto_only() -> Option<bool> {
    let mut crypto = RustCrypto::<()>::default();
    let mut key = trust_anchor(&TRUST_ANCHOR)?;
    // The Sig_structure: ["Signature1", protected, external_aad, payload], streamed.
    let mut h = crypto.sha256_start();
    for piece in [
        &b"\x84\x6aSignature1\x43\xa1\x01\x26\x40\x58\x24"[..],
        range(DIGEST),
    ] {
        crypto.sha256_update(&mut h, black_box(piece));
    }
    let tbs = crypto.sha256_finish(h);
    let signed = key.verify_digest(&tbs, range(SIGNATURE)).is_ok();
    // The manifest digest.
    let manifest = crypto.sha256(range(MANIFEST));
    let digest_ok = ct_eq(&manifest, range(DIGEST_BYTES));
    // Image match: the stand-in image read in chunks.
    let mut h = crypto.sha256_start();
    let mut chunk = [0u8; 256];
    let mut left = black_box(34_768usize);
    while left > 0 {
        let n = left.min(chunk.len());
        chunk.fill(black_box(0xff));
        crypto.sha256_update(&mut h, chunk.get(..n).unwrap_or_default());
        left -= n;
    }
    let image = crypto.sha256_finish(h);
    let image_ok = ct_eq(&image, range(DIGEST_BYTES));
    Some(signed && digest_ok && image_ok)
}

#[entry]
fn main() -> ! {
    // black_box keeps the optimizer from folding the work into a constant.
    black_box(crypto_only());
    loop {
        core::hint::spin_loop();
    }
}
