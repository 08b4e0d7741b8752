//! A SUIT update with iot-update-manifest (draft-ietf-suit-manifest): no_std, no alloc,
//! RustCrypto backend, the crate without its default features: none of text, dependencies, MAC
//! authentication, update management or firmware encryption, which example 3 does not use.
//! The envelope is the draft's example 3 ("A/B images", ES256; `src/example3.rs`). It is decoded
//! and authenticated under the draft's public key, then processed by the update procedure
//! (shared sequence: vendor and class checks and the slot's try-each; install: the slot's URI,
//! fetch, image match) and by the boot procedure (validate: image match) against a stub platform.
//!
//! The stub (`src/stub.rs`, without stand-in flash) stands for a device's flash and transport:
//! `fetch` accepts, `read` serves a blank stand-in image, and the default `digest` leaves the
//! hashing to the processor (through `read`).
//! The example's digests are sample values no image has, so both image matches fail
//! on the device: the image measures the code that runs, which is the same for any outcome.
//! `suit_crypto` makes the same crypto calls alone; the difference is the SUIT code.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use panic_halt as _;

#[path = "../example3.rs"]
mod example3;
use example3::{ENVELOPE, TRUST_ANCHOR};

#[path = "../anchor.rs"]
mod anchor;

#[path = "../stub.rs"]
mod stub;
use stub::{Stub, update_and_boot};

#[entry]
fn main() -> ! {
    let mut device = Stub {
        len: 0,
        stored: black_box(Some(2)),
        flash: [],
    };
    // black_box keeps the optimizer from folding the work into a constant.
    let outcome = update_and_boot(black_box(&ENVELOPE), &TRUST_ANCHOR, &mut device, &mut []);
    black_box(outcome);
    loop {
        core::hint::spin_loop();
    }
}
