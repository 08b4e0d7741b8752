//! SUIT_Manifest decoding through the public path (draft-ietf-suit-manifest "Manifest" and
//! "Severable Elements"): the input is wrapped as the manifest of an envelope authenticated with
//! COSE_Mac0 under a fixed key (HMAC and SHA-256 only, no curve arithmetic), together with
//! severed members taken from the input; the envelope is authenticated, and every sequence,
//! parameter and text iterator of the manifest is walked.
//!
//! Input: `count` (1 byte, low 3 bits, at most 6), then `count` severed members, each
//! `slot` (1 byte: index into `manifest_key::SEVERABLE`), `len` (2 bytes, big-endian) and `len`
//! bytes (the member's bstr content); the rest is the manifest. A slot given twice keeps the first.
//!
//! Checks: the envelope the target built always decodes and authenticates (only the manifest's own
//! faults may fail it), and the walk's invariants (see `iot_fuzz::suit::walk`).
#![no_main]

use iot_core::cose::SymmetricKey;
use iot_core::crypto::RustCrypto;
use iot_fuzz::suit::{SUIT_MAC_KEY, envelope, walk};
use iot_update_manifest::{Envelope, Error, NoVerifier, TrustAnchors, manifest_key};
use libfuzzer_sys::fuzz_target;

/// Severed members: envelope key and bstr content.
type Severed<'a> = Vec<(i64, &'a [u8])>;

/// Splits the input into severed members and the manifest.
fn split(data: &[u8]) -> Option<(Severed<'_>, &[u8])> {
    let (&count, mut rest) = data.split_first()?;
    let mut severed: Severed<'_> = Vec::new();
    for _ in 0..(count & 7).min(6) {
        let (&[slot, hi, lo], after) = rest.split_first_chunk::<3>()?;
        let (value, after) = after.split_at_checked(usize::from(u16::from_be_bytes([hi, lo])))?;
        rest = after;
        let key = manifest_key::SEVERABLE[usize::from(slot) % manifest_key::SEVERABLE.len()];
        if severed.iter().all(|(k, _)| *k != key) {
            severed.push((key, value));
        }
    }
    Some((severed, rest))
}

fuzz_target!(|data: &[u8]| {
    let Some((severed, manifest)) = split(data) else {
        return;
    };
    let bytes = envelope(manifest, &severed);
    let env = Envelope::decode(&bytes).expect("the envelope the target built decodes");
    assert_eq!(env.authentication_blocks(), 1);
    let keys = [SymmetricKey::new(&SUIT_MAC_KEY)];
    let mut anchors = TrustAnchors::<NoVerifier>::macs(&keys);
    match env.authenticate(&mut RustCrypto::<()>::default(), &mut anchors) {
        Ok(m) => walk(&m),
        Err(
            e @ (Error::NoAuthenticationBlock
            | Error::UnsupportedAuthenticationBlock(_)
            | Error::NoTrustedKey
            | Error::NotAuthenticated(_)
            | Error::DigestMismatch),
        ) => panic!("the envelope the target built did not authenticate: {e:?}"),
        Err(_) => {}
    }
});
