//! The crypto that the `oscore` image calls, without OSCORE: the same RustCrypto backend runs
//! HKDF-SHA-256 three times (Sender Key, Recipient Key, Common IV; RFC 8613 section 3.2.1),
//! prepares the two keys, seals a request and opens a response with AES-CCM-16-64-128 (alg 10), the algorithm chosen at
//! run time as in a security context. `oscore_dyn` minus this image is the text of OSCORE and
//! CoAP alone (issue 3: at most 6 KB). Both reach the backend through `&mut dyn Backend`, so that
//! its code is compiled alike in both.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use iot_core::cose::AeadAlgorithm;
use iot_core::crypto::{Aead, HkdfSha256, RustCrypto, RustCryptoAeadKey};
use panic_halt as _;

static MASTER_SECRET: [u8; 16] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
];
static MASTER_SALT: [u8; 8] = [0x9e, 0x7c, 0xa9, 0x22, 0x23, 0x78, 0x63, 0x40];
/// The `info` of C.1.1's Sender Key: `[h'', null, 10, "Key", 16]`.
static INFO: [u8; 9] = [0x85, 0x40, 0xf6, 0x0a, 0x63, 0x4b, 0x65, 0x79, 0x10];
/// C.4's AAD and nonce.
static AAD: [u8; 20] = [
    0x83, 0x68, 0x45, 0x6e, 0x63, 0x72, 0x79, 0x70, 0x74, 0x30, 0x40, 0x48, 0x85, 0x01, 0x81, 0x0a,
    0x40, 0x41, 0x14, 0x40,
];
static NONCE: [u8; 13] = [
    0x46, 0x22, 0xd4, 0xdd, 0x6d, 0x94, 0x41, 0x68, 0xee, 0xfb, 0x54, 0x98, 0x68,
];
/// C.4's plaintext: GET, Uri-Path "tv1".
static PLAINTEXT: [u8; 5] = [0x01, 0xb3, 0x74, 0x76, 0x31];
/// C.7's ciphertext and tag.
static RESPONSE: [u8; 22] = [
    0xdb, 0xaa, 0xd1, 0xe9, 0xa7, 0xe7, 0xb2, 0xa8, 0x13, 0xd3, 0xc3, 0x15, 0x24, 0x37, 0x83, 0x03,
    0xcd, 0xaf, 0xae, 0x11, 0x91, 0x06,
];

/// What OSCORE asks of the backend.
trait Backend: Aead + HkdfSha256 {}
impl<T: Aead + HkdfSha256> Backend for T {}

fn run(out: &mut [u8; 64]) -> iot_core::Result<usize> {
    let mut backend = RustCrypto::<()>::default();
    let crypto: &mut dyn Backend<AeadKey = RustCryptoAeadKey> = black_box(&mut backend);
    // OSCORE takes the algorithm from the context at run time: the backend's dispatch links
    // every AEAD it offers.
    let alg = black_box(AeadAlgorithm::AesCcm16_64_128);
    let mut keys = [[0u8; 16]; 3];
    for (key, len) in keys.iter_mut().zip([16, 16, 13]) {
        let okm = key.get_mut(..len).unwrap_or_default();
        crypto.hkdf_sha256(
            black_box(&MASTER_SALT),
            black_box(&MASTER_SECRET),
            black_box(&INFO),
            okm,
        )?;
    }
    black_box(&keys);
    let [sender, recipient, _] = &keys;
    // A security context prepares its two keys once.
    let sender = crypto.aead_key(alg, sender)?;
    let recipient = crypto.aead_key(alg, recipient)?;
    let (plain, tag) = out.split_at_mut(PLAINTEXT.len());
    plain.copy_from_slice(black_box(&PLAINTEXT));
    let tag = tag.get_mut(..8).unwrap_or_default();
    crypto.aead_seal(&sender, black_box(&NONCE), &[black_box(&AAD)], plain, tag)?;
    black_box(&out);
    let mut input = *black_box(&RESPONSE);
    let (ct, tag) = input.split_at_mut(14);
    crypto.aead_open(&recipient, black_box(&NONCE), &[black_box(&AAD)], ct, tag)?;
    black_box(&input);
    Ok(input.len())
}

#[entry]
fn main() -> ! {
    let mut out = [0u8; 64];
    // black_box keeps the optimizer from folding the work into a constant.
    let len = run(&mut out).unwrap_or(0);
    black_box(len);
    loop {
        core::hint::spin_loop();
    }
}
