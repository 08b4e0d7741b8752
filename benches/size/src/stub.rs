//! What the SUIT images (`suit_example3`, `suit_dependency`) share: the update and boot of an
//! envelope, and the stub platform it runs against, which stands for a
//! device's flash and transport. `fetch` accepts and sets the stand-in image's size, `read`
//! serves what was written into the stub's stand-in flash and erased bytes (0xff) past it, and
//! the default `digest` leaves the hashing to the processor (through `read`). One region stands
//! for every component: a component is read back only after it was the last one written, which
//! is all these images' sequences need.

use core::hint::black_box;
use iot_core::crypto::RustCrypto;
use iot_update_manifest::{
    Component, ComponentId, Identifier, Platform, PlatformError, PlatformResult, Processor,
    TrustAnchors,
};

use super::anchor::trust_anchor;
use super::example3::{CLASS_ID, VENDOR_ID};

/// Authenticates `envelope` under the SEC1 key `anchor`, runs the update and then the boot
/// procedure against `device`, with `scratch` for dependency manifests; `None` when the
/// envelope does not authenticate.
pub fn update_and_boot<const N: usize>(
    envelope: &[u8],
    anchor: &[u8; 65],
    device: &mut Stub<N>,
    scratch: &mut [u8],
) -> Option<(bool, bool)> {
    let mut keys = [trust_anchor(anchor)?];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::<()>::default();
    let mut p = Processor::new(device, &mut crypto, &mut anchors).with_scratch(scratch);
    // Borrowed where it lies: moved out of its `Result`, the manifest would take its room on
    // the stack twice.
    let authenticated = p.authenticate(envelope);
    let manifest = authenticated.as_ref().ok()?;
    let updated = p.update(manifest).is_ok();
    let booted = p.boot(manifest).is_ok();
    Some((updated, booted))
}

/// The stub device of example 3 (its vendor and class identifiers; one component in two slots,
/// the running one being slot 1), with `N` bytes of RAM standing for flash: what is written is
/// kept there as far as it reaches.
pub struct Stub<const N: usize> {
    /// Length of the image in the component last written.
    pub len: u64,
    pub stored: Option<u64>,
    pub flash: [u8; N],
}

impl<const N: usize> Platform for Stub<N> {
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
        // A download of `uri` would go here; the stand-in has the size example 3 states.
        black_box(uri);
        self.len = black_box(34_768);
        Ok(())
    }
    fn fetch_range(&mut self, _: &str, _: u64, _: &mut [u8]) -> PlatformResult<usize> {
        // Only encrypted payloads and dependencies given by URI are fetched by range; the
        // images' envelopes have none.
        Err(PlatformError::Unsupported)
    }
    fn read(&mut self, _: &Component<'_>, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        let rest = usize::try_from(self.len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let n = rest.min(buf.len());
        let Some(out) = buf.get_mut(..n) else {
            return Ok(0);
        };
        out.fill(black_box(0xff));
        // Without stand-in flash (`N` = 0, a constant) nothing is kept.
        if N > 0
            && let Some(kept) = usize::try_from(offset)
                .ok()
                .and_then(|at| self.flash.get(at..))
        {
            let k = kept.len().min(n);
            if let (Some(o), Some(s)) = (out.get_mut(..k), kept.get(..k)) {
                o.copy_from_slice(s);
            }
        }
        Ok(n)
    }
    fn write(&mut self, _: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        self.len = offset + data.len() as u64;
        if N > 0
            && let Some(to) = usize::try_from(offset)
                .ok()
                .and_then(|at| self.flash.get_mut(at..))
        {
            let k = to.len().min(data.len());
            if let (Some(t), Some(d)) = (to.get_mut(..k), data.get(..k)) {
                t.copy_from_slice(d);
            }
        }
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
