//! Decodes and decrypts a COSE_Encrypt0 (RFC 9052 section 5.2) with iot-core: no_std, no alloc,
//! RustCrypto backend. The message is cose-wg/Examples aes-ccm-enc-01 (AES-CCM-16-64-128, alg 10).
//! The algorithm is read from the message, so every AEAD of the backend is linked in.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use iot_core::cose::{CoseEncrypt0, SymmetricKey};
use iot_core::crypto::RustCrypto;
use panic_halt as _;

static MESSAGE: [u8; 52] = [
    0xd0, 0x83, 0x43, 0xa1, 0x01, 0x0a, 0xa1, 0x05, 0x4d, 0x89, 0xf5, 0x2f, 0x65, 0xa1, 0xc5, 0x80,
    0x93, 0x3b, 0x52, 0x61, 0xa7, 0x2f, 0x58, 0x1c, 0x68, 0x99, 0xda, 0x0a, 0x13, 0x2b, 0xd2, 0xd2,
    0xb9, 0xb1, 0x09, 0x15, 0x74, 0x3e, 0xe1, 0xf7, 0xb9, 0x2a, 0x46, 0x80, 0xe7, 0xc5, 0x1b, 0xdb,
    0xc1, 0xb3, 0x20, 0xea,
];
static KEY: [u8; 16] = [
    0x84, 0x9b, 0x57, 0x21, 0x9d, 0xae, 0x48, 0xde, 0x64, 0x6d, 0x07, 0xdb, 0xb5, 0x33, 0x56, 0x6e,
];

fn decrypt(msg: &[u8], k: &[u8], out: &mut [u8]) -> iot_core::Result<usize> {
    let mut crypto = RustCrypto::<()>::default();
    CoseEncrypt0::decode(msg)?.decrypt(&mut crypto, &SymmetricKey::new(k), &[], out)
}

#[entry]
fn main() -> ! {
    let mut out = [0u8; 64];
    // black_box keeps the optimizer from folding the decryption into a constant.
    let len = decrypt(black_box(&MESSAGE), black_box(&KEY), &mut out).unwrap_or(0);
    black_box((len, &out));
    loop {
        core::hint::spin_loop();
    }
}
