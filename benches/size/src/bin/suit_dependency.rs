//! A SUIT update with a dependency (draft-ietf-suit-trust-domains) with iot-update-manifest:
//! no_std, no alloc, RustCrypto backend, the crate with its `dependencies` feature alone (this
//! image is built with the iot-size feature `dependencies`, in a build of its own, so that
//! `suit_example3` stays without it). The envelope is libcsuit's expS3 (`src/dependency.rs`):
//! it is decoded and authenticated, then the update procedure fetches the integrated dependency
//! manifest (expS0), which is authenticated before it is written, checks its integrity
//! (authenticated again from the stub's flash), and processes it under the dependent's install
//! (authenticated once more, then its install writes under the prefix `dependent.suit`); the
//! dependent then writes its own component. The boot procedure invokes it.
//!
//! The stub platform (`src/stub.rs`, example 3's device: expS3 and expS0 check no identifier)
//! keeps what is written in a RAM stand-in for flash, from which the dependency manifest is
//! read back. The stub and the processor's scratch buffer for the dependency manifest are
//! `static`s (`.bss`), not on the stack.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use panic_halt as _;

#[path = "../dependency.rs"]
mod dependency;
use dependency::ENVELOPE;

#[path = "../example3.rs"]
#[allow(dead_code)] // its envelope is not this image's
mod example3;
use example3::TRUST_ANCHOR;

#[path = "../anchor.rs"]
mod anchor;

#[path = "../stub.rs"]
mod stub;
use stub::{Stub, update_and_boot};

#[entry]
fn main() -> ! {
    // cortex-m-rt hands these to `main` as `&'static mut`: the device, with room in its flash
    // for the dependency manifest (190 bytes) and the images, and RAM for the dependency
    // manifest.
    static mut DEVICE: Stub<256> = Stub {
        len: 0,
        stored: None,
        flash: [0; 256],
    };
    static mut SCRATCH: [u8; 256] = [0; 256];
    // black_box keeps the optimizer from folding the work into a constant.
    let outcome = update_and_boot(black_box(&ENVELOPE), &TRUST_ANCHOR, DEVICE, SCRATCH);
    black_box(outcome);
    loop {
        core::hint::spin_loop();
    }
}
