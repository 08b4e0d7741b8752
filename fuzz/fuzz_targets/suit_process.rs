//! The whole SUIT processor (draft-ietf-suit-manifest "Manifest Processor") over a fake
//! in-memory device, with the report encoder (draft-ietf-suit-report) watching it.
//!
//! Authentication cannot be fuzzed through (a fuzzer does not forge SHA-256 digests), so the
//! first byte picks how the input reaches the processor:
//! - bit 0 clear: the rest is an envelope, authenticated under anchors that accept any
//!   well-formed COSE_Sign1 with a 64-byte signature and MACs under the fixed key or libcsuit's
//!   0x61 key: the vector envelopes (seeds) run unchanged, mutations mostly stop at the digest;
//! - bit 0 set: the rest is framed as `suit_manifest`'s input (severed members, then the
//!   manifest), which the target wraps in an envelope it MACs itself, so that every mutation of
//!   the manifest reaches the processor. This is how the processor is fuzzed on arbitrary
//!   manifests: there is no way around `authenticate` in the API, by design.
//!
//! Bit 1: the device accepts every vendor / class / device identifier (otherwise only libcsuit's
//! and the manifest-spec examples' ids); bit 2: fetches fail; bit 3: boot after the update.
//!
//! Checks: a failed update stores no sequence number; a successful one stores the manifest's and
//! a replay of it is then refused as a rollback; the report of each run encodes into a bounded
//! buffer (or says it is too small) as one well-formed CBOR item.
#![no_main]

use iot_core::cbor::Reader;
use iot_core::cose::SymmetricKey;
use iot_core::crypto::RustCrypto;
use iot_fuzz::AcceptAll;
use iot_fuzz::suit::{SUIT_MAC_KEY, envelope};
use iot_update_manifest::encryption::Kek;
use iot_update_manifest::report::Reporter;
use iot_update_manifest::{
    Component, ComponentId, Envelope, Error, Identifier, Platform, PlatformError, PlatformResult,
    Processor, TrustAnchors, manifest_key,
};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const VENDOR: [u8; 16] = [
    0xfa, 0x6b, 0x4a, 0x53, 0xd5, 0xad, 0x5f, 0xdf, 0xbe, 0x9d, 0xe6, 0x63, 0xe4, 0xd4, 0x1f, 0xfe,
];
const CLASS: [u8; 16] = [
    0x14, 0x92, 0xaf, 0x14, 0x25, 0x69, 0x5e, 0x48, 0xbf, 0x42, 0x9b, 0x2d, 0x51, 0xf2, 0xab, 0x45,
];
/// The largest component the fake device stores.
const MAX_COMPONENT: u64 = 1 << 16;

type Key = (Vec<Vec<u8>>, Option<u64>);
type ManifestKey = Option<Vec<Vec<u8>>>;

fn key(c: &Component<'_>) -> Key {
    (c.segments().map(<[u8]>::to_vec).collect(), c.slot)
}

fn manifest_id(m: Option<&ComponentId<'_>>) -> ManifestKey {
    m.map(|id| id.segments().map(<[u8]>::to_vec).collect())
}

#[derive(Default)]
struct Device {
    accept_all: bool,
    fetch_fails: bool,
    storage: BTreeMap<Key, Vec<u8>>,
    sequence: BTreeMap<ManifestKey, u64>,
}

impl Platform for Device {
    fn check_identifier(
        &mut self,
        kind: Identifier,
        _: &Component<'_>,
        expected: &[u8],
    ) -> PlatformResult<bool> {
        Ok(self.accept_all
            || match kind {
                Identifier::Vendor => expected == VENDOR,
                Identifier::Class => expected == CLASS,
                Identifier::Device => false,
            })
    }
    fn check_slot(&mut self, _: &Component<'_>, slot: u64) -> PlatformResult<bool> {
        Ok(slot == 1)
    }
    fn fetch(&mut self, uri: &str, c: &Component<'_>) -> PlatformResult<()> {
        if self.fetch_fails {
            return Err(PlatformError::Unavailable);
        }
        self.storage.insert(key(c), uri.as_bytes().repeat(3));
        Ok(())
    }
    fn fetch_range(&mut self, uri: &str, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        // The resource `fetch` stores, served in ranges (encrypted fetches pull it this way).
        if self.fetch_fails {
            return Err(PlatformError::Unavailable);
        }
        let data = uri.as_bytes().repeat(3);
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| data.get(o..))
            .unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
    fn read(&mut self, c: &Component<'_>, offset: u64, buf: &mut [u8]) -> PlatformResult<usize> {
        let data = self.storage.get(&key(c)).ok_or(PlatformError::NotFound)?;
        let rest = usize::try_from(offset)
            .ok()
            .and_then(|o| data.get(o..))
            .unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
    fn write(&mut self, c: &Component<'_>, offset: u64, data: &[u8]) -> PlatformResult<()> {
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(PlatformError::OutOfSpace)?;
        if end > MAX_COMPONENT {
            return Err(PlatformError::OutOfSpace);
        }
        let stored = self.storage.entry(key(c)).or_default();
        stored.resize(offset as usize, 0);
        stored.extend_from_slice(data);
        Ok(())
    }
    fn swap(&mut self, a: &Component<'_>, b: &Component<'_>) -> PlatformResult<()> {
        let (ka, kb) = (key(a), key(b));
        let va = self.storage.remove(&ka);
        let vb = self.storage.remove(&kb);
        if let Some(v) = va {
            self.storage.insert(kb, v);
        }
        if let Some(v) = vb {
            self.storage.insert(ka, v);
        }
        Ok(())
    }
    fn invoke(&mut self, c: &Component<'_>, _: Option<&[u8]>) -> PlatformResult<()> {
        if self.storage.contains_key(&key(c)) {
            Ok(())
        } else {
            Err(PlatformError::NotFound)
        }
    }
    fn unlink(&mut self, c: &Component<'_>) -> PlatformResult<()> {
        self.storage.remove(&key(c));
        Ok(())
    }
    fn stored_sequence_number(
        &mut self,
        m: Option<&ComponentId<'_>>,
    ) -> PlatformResult<Option<u64>> {
        Ok(self.sequence.get(&manifest_id(m)).copied())
    }
    fn store_sequence_number(&mut self, m: Option<&ComponentId<'_>>, n: u64) -> PlatformResult<()> {
        self.sequence.insert(manifest_id(m), n);
        Ok(())
    }
}

/// `suit_manifest`'s framing: `count` (low 3 bits, at most 6) severed members `slot`, `len` (2
/// bytes, big-endian), content; then the manifest.
fn framed(data: &[u8]) -> Option<Vec<u8>> {
    let (&count, mut rest) = data.split_first()?;
    let mut severed: Vec<(i64, &[u8])> = Vec::new();
    for _ in 0..(count & 7).min(6) {
        let (&[slot, hi, lo], after) = rest.split_first_chunk::<3>()?;
        let (value, after) = after.split_at_checked(usize::from(u16::from_be_bytes([hi, lo])))?;
        rest = after;
        let key = manifest_key::SEVERABLE[usize::from(slot) % manifest_key::SEVERABLE.len()];
        if severed.iter().all(|(k, _)| *k != key) {
            severed.push((key, value));
        }
    }
    Some(envelope(rest, &severed))
}

/// Checks that the report of a run encodes as one well-formed CBOR item (or is too big).
fn check_report<P: Platform>(
    reporter: &Reporter<P, 16>,
    auth: &iot_update_manifest::AuthenticatedManifest<'_>,
    outcome: &Result<(), Error>,
) {
    let mut out = [0u8; 2048];
    match reporter.encode(auth, Some(b"fuzz"), outcome, &mut out) {
        Ok(n) => {
            let mut r = Reader::new(&out[..n]);
            r.skip().expect("the report is CBOR");
            r.finish().expect("the report is one item");
        }
        Err(e) => assert_eq!(e, iot_core::Error::BufferTooSmall),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let Some(env) = framed(rest) else { return };
        env
    };
    let Ok(env) = Envelope::decode(&bytes) else {
        return;
    };
    let mut crypto = RustCrypto::<()>::default();
    let mut verifiers = [AcceptAll];
    let keys = [
        SymmetricKey::new(&SUIT_MAC_KEY),
        SymmetricKey::new(&[0x61; 32]),
    ];
    let mut anchors = TrustAnchors::new(&mut verifiers, &keys);
    let Ok(auth) = env.authenticate(&mut crypto, &mut anchors) else {
        return;
    };
    let m = auth.manifest();
    let root = manifest_id(m.component_id().as_ref());
    let mut device = Reporter::<_, 16>::new(Device {
        accept_all: mode & 2 != 0,
        fetch_fails: mode & 4 != 0,
        ..Device::default()
    });
    let mut scratch = vec![0u8; 4096];
    let kek = Kek::A128Kw(b"aaaaaaaaaaaaaaaa");
    let outcome = Processor::new(&mut device, &mut crypto, &mut anchors)
        .with_scratch(&mut scratch)
        .with_decryption_key(kek)
        .update(&auth);
    check_report(&device, &auth, &outcome);
    let stored = device.inner().sequence.get(&root).copied();
    match outcome {
        Ok(()) => {
            assert_eq!(stored, Some(m.sequence_number()));
            let replay = Processor::new(&mut device, &mut crypto, &mut anchors).update(&auth);
            assert!(
                matches!(replay, Err(Error::Rollback)),
                "a replayed update was not refused: {replay:?}"
            );
            if mode & 8 != 0 {
                device.clear();
                let boot = Processor::new(&mut device, &mut crypto, &mut anchors)
                    .with_scratch(&mut scratch)
                    .with_decryption_key(kek)
                    .boot(&auth);
                check_report(&device, &auth, &boot);
            }
        }
        Err(_) => assert_eq!(stored, None, "a failed update stored a sequence number"),
    }
});
