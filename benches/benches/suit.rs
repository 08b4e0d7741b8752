//! SUIT envelope verification beside its floor (issue 4, "C, benches, size"), one group per
//! manifest-spec example (draft-ietf-suit-manifest examples 0-5, the signed envelopes of
//! ../shared/vectors/suit/manifest-spec, ES256 under `private_key.pem`'s public key):
//! - `iot-update-manifest decode+authenticate`: `Envelope::decode` and `authenticate` (the
//!   COSE_Sign1 over the encoded SUIT_Digest, the SHA-256 of the manifest bstr compared in
//!   constant time, then the manifest decoded and every command sequence validated).
//! - `floor: sha256(manifest) + p256 verify`: the `sha2` crate hashes the manifest bstr (head
//!   included) and `p256` verifies the signature over the Sig_structure (hashing it), both
//!   prepared beforehand from the same envelope: the crypto no verifier can skip.
//!
//! Without the vectors (a fresh clone, IOT_VECTORS unset) it prints that it skipped.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use core::hint::black_box;
use criterion::{Criterion, criterion_group, criterion_main};
use iot_benches::interleaved_ratio;
use iot_core::cbor::Reader;
use iot_core::cose::CoseSign1;
use iot_core::crypto::{P256VerifyingKey, RustCrypto};
use iot_update_manifest::{Envelope, TrustAnchors};
use p256::ecdsa::signature::Verifier as _;
use p256::elliptic_curve::sec1::ToSec1Point as _;
use p256::pkcs8::DecodePrivateKey as _;
use sha2::Digest as _;

/// One signed example and what the floor needs of it.
struct Example {
    name: String,
    envelope: Vec<u8>,
    /// The manifest bstr, CBOR head included (what the SUIT_Digest covers).
    manifest: Vec<u8>,
    /// The COSE Sig_structure of the authentication block (detached payload: the SUIT_Digest).
    sig_structure: Vec<u8>,
    signature: p256::ecdsa::Signature,
}

/// Every hex block of a manifest-spec example's .txt (the envelope without and with its
/// authentication object; example 2 also without its severable members).
fn hex_blocks(txt: &str) -> Vec<Vec<u8>> {
    txt.split("~~~")
        .skip(1)
        .step_by(2)
        .filter(|b| !b.starts_with(" cbor-diag"))
        .map(|b| b.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
        .map(|h| hex::decode(h).unwrap())
        .collect()
}

/// The manifest bstr and the first authentication block's Sig_structure and signature, read
/// with iot-core's CBOR reader (`None` for an envelope without a signature).
fn floor_inputs(envelope: &[u8]) -> Option<(Vec<u8>, Vec<u8>, p256::ecdsa::Signature)> {
    let mut r = Reader::new(envelope);
    r.opt_tag().unwrap();
    let (mut wrapper, mut manifest) = (None, None);
    for _ in 0..r.map().unwrap() {
        if r.datatype().unwrap() == minicbor::data::Type::String {
            r.skip().unwrap(); // an integrated payload's name and bytes
            r.skip().unwrap();
            continue;
        }
        match r.int().unwrap() {
            2 => wrapper = Some(r.bytes().unwrap()),
            3 => manifest = Some(r.skip().unwrap()),
            _ => {
                r.skip().unwrap();
            }
        }
    }
    let mut w = Reader::new(wrapper?);
    if w.array().unwrap() < 2 {
        return None;
    }
    let digest = w.bytes().unwrap();
    let block = CoseSign1::decode(w.bytes().unwrap()).unwrap();
    let mut tbs = Vec::new();
    block
        .write_to_be_signed(Some(digest), &[], &mut tbs)
        .unwrap();
    let signature = p256::ecdsa::Signature::from_slice(block.signature).unwrap();
    Some((manifest?.to_vec(), tbs, signature))
}

fn examples() -> Option<(p256::ecdsa::VerifyingKey, Vec<Example>)> {
    let pem = iot_test_vectors::read("suit/manifest-spec/private_key.pem")?;
    let sk = p256::SecretKey::from_pkcs8_pem(core::str::from_utf8(&pem).unwrap()).unwrap();
    let key = p256::ecdsa::VerifyingKey::from(sk.public_key());
    let mut out = Vec::new();
    for i in 0..=5 {
        let txt = iot_test_vectors::read(&format!("suit/manifest-spec/example{i}.txt"))?;
        let signed: Vec<Vec<u8>> = hex_blocks(core::str::from_utf8(&txt).unwrap())
            .into_iter()
            .filter(|e| Envelope::decode(e).unwrap().authentication_blocks() > 0)
            .collect();
        for (j, envelope) in signed.into_iter().enumerate() {
            let (manifest, sig_structure, signature) = floor_inputs(&envelope).unwrap();
            let name = match j {
                0 => format!("example{i}"),
                _ => format!("example{i}.{j}"),
            };
            out.push(Example {
                name,
                envelope,
                manifest,
                sig_structure,
                signature,
            });
        }
    }
    Some((key, out))
}

fn suit_verify(c: &mut Criterion) {
    let Some((raw_key, examples)) = examples() else {
        println!("suit bench skipped: the manifest-spec vectors are not available");
        return;
    };
    let sec1 = raw_key.as_affine().to_sec1_point(false);
    let mut keys = [P256VerifyingKey::from_sec1(sec1.as_bytes()).unwrap()];
    let mut crypto = RustCrypto::<()>::default();
    for ex in &examples {
        let len = ex.envelope.len();
        let mut ours = || {
            let env = Envelope::decode(black_box(&ex.envelope)).unwrap();
            black_box(
                env.authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
                    .unwrap(),
            );
        };
        let floor = || {
            black_box(sha2::Sha256::digest(black_box(&ex.manifest)));
            raw_key
                .verify(black_box(&ex.sig_structure), &ex.signature)
                .unwrap();
        };
        // Both must accept the envelope before they are timed.
        ours();
        floor();
        interleaved_ratio(
            &format!(
                "suit_verify/{} ({len} B): decode+authenticate / floor",
                ex.name
            ),
            &mut ours,
            floor,
        );
        let mut g = c.benchmark_group(format!("suit_verify/{}", ex.name));
        g.bench_function(
            format!("iot-update-manifest decode+authenticate ({len} B)"),
            |b| b.iter(&mut ours),
        );
        g.bench_function("floor: sha256(manifest) + p256 verify", |b| b.iter(floor));
        g.finish();
    }
}

criterion_group!(benches, suit_verify);
criterion_main!(benches);
