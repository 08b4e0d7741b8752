//! A SUIT update with iot-update-manifest (draft-ietf-suit-manifest): no_std, no alloc,
//! RustCrypto backend, the crate without its default features: none of text, dependencies, MAC
//! authentication, update management or firmware encryption, which example 3 does not use.
//! The envelope is the draft's example 3 ("A/B images", ES256; `src/example3.rs`). It is decoded
//! and authenticated under the draft's public key, then processed by the update procedure
//! (shared sequence: vendor and class checks and the slot's try-each; install: the slot's URI,
//! fetch, image match) and by the boot procedure (validate: image match) against a stub platform.
//!
//! The stub stands for a device's flash and transport: `fetch` accepts, `read` serves a blank
//! stand-in image, and the default `digest` leaves the hashing to the processor (through
//! `read`). The example's digests are sample values no image has, so both image matches fail
//! on the device: the image measures the code that runs, which is the same for any outcome.
//! `suit_crypto` makes the same crypto calls alone; the difference is the SUIT code.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use iot_core::crypto::{P256VerifyingKey, RustCrypto};
use iot_update_manifest::{
    Component, ComponentId, Identifier, Platform, PlatformError, PlatformResult, Processor,
    TrustAnchors,
};
use panic_halt as _;

#[path = "../example3.rs"]
mod example3;
use example3::{CLASS_ID, ENVELOPE, TRUST_ANCHOR, VENDOR_ID};

/// The stub device: one component in two slots, the running one being slot 1.
struct Stub {
    /// Length of the stand-in image in the slot being written.
    len: u64,
    stored: Option<u64>,
}

impl Platform for Stub {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        _: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        Ok(match kind {
            Identifier::Vendor => expected == black_box(&VENDOR_ID),
            Identifier::Class => expected == black_box(&CLASS_ID),
            Identifier::Device => false,
        })
    }
    fn check_slot(&mut self, _: &Component<'_>, slot: u64) -> PlatformResult<bool> {
        Ok(slot == black_box(0))
    }
    fn fetch(&mut self, uri: &str, _: &Component<'_>) -> PlatformResult<()> {
        // A download of `uri` would go here; the stand-in has the size the manifest states.
        black_box(uri);
        self.len = black_box(34_768);
        Ok(())
    }
    fn fetch_range(&mut self, _: &str, _: u64, _: &mut [u8]) -> PlatformResult<usize> {
        // Only encrypted payloads are fetched by range, and example 3 has none.
        Err(PlatformError::Unsupported)
    }
    fn read(&mut self, _: &Component<'_>, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        let rest = usize::try_from(self.len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let n = rest.min(buf.len());
        if let Some(b) = buf.get_mut(..n) {
            b.fill(black_box(0xff));
        }
        Ok(n)
    }
    fn write(&mut self, _: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        self.len = offset + data.len() as u64;
        Ok(())
    }
    fn invoke(&mut self, _: &Component<'_>, args: Option<&[u8]>) -> PlatformResult<()> {
        black_box(args);
        Ok(())
    }
    fn stored_sequence_number(
        &mut self,
        _: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>> {
        Ok(black_box(self.stored))
    }
    fn store_sequence_number(&mut self, _: Option<&ComponentId<'_>>, n: u64) -> PlatformResult<()> {
        self.stored = Some(black_box(n));
        Ok(())
    }
}

/// The trust anchor, decoded once at start-up. Not inlined, so that the decoding's locals are
/// not part of the frame that stays on the stack during the update.
#[inline(never)]
fn trust_anchor() -> Option<P256VerifyingKey> {
    P256VerifyingKey::from_sec1(black_box(&TRUST_ANCHOR)).ok()
}

/// Authenticates the envelope, runs the update and then the boot procedure; `None` when the
/// envelope does not authenticate.
fn update_and_boot(envelope: &[u8]) -> Option<(bool, bool)> {
    let mut keys = [trust_anchor()?];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::<()>::default();
    let mut device = Stub {
        len: 0,
        stored: black_box(Some(2)),
    };
    let mut p = Processor::new(&mut device, &mut crypto, &mut anchors);
    let manifest = p.authenticate(envelope).ok()?;
    let updated = p.update(&manifest).is_ok();
    let booted = p.boot(&manifest).is_ok();
    Some((updated, booted))
}

#[entry]
fn main() -> ! {
    // black_box keeps the optimizer from folding the work into a constant.
    let outcome = update_and_boot(black_box(&ENVELOPE));
    black_box(outcome);
    loop {
        core::hint::spin_loop();
    }
}
