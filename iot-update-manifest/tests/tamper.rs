//! Property: tampering with any byte of an update envelope (manifest, digest, signature,
//! severable members, integrated payloads and their names, CBOR framing) is rejected by
//! decode + authenticate + process, and leaves the platform's persistent state exactly as it was.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod sim;

use common::{Auth, Extra, bstr, cbor, envelope, rp, sequence, signing_key};
use iot_core::crypto::{P256VerifyingKey, RustCrypto};
use iot_update_manifest::ab::AbDevice;
use iot_update_manifest::{Processor, TrustAnchors};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::DecodePublicKey;
use proptest::prelude::*;
use sim::{Sim, path, sha256};

const VENDOR: &[u8] = b"vendor-uuid-0001";
const CLASS: &[u8] = b"class--uuid-0001";
const OLD: &[u8] = b"the image the device runs";
const NEW: &[u8] = b"the image of the update, integrated";

fn params(items: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut out = cbor(|e| {
        e.map(items.len() as u64).unwrap();
    });
    for (k, v) in items {
        out.extend(cbor(|e| {
            e.i64(*k).unwrap();
        }));
        out.extend(v);
    }
    out
}

/// An update to [`NEW`], carried as integrated payload `#fw`, with identity checks.
fn update_envelope() -> Vec<u8> {
    let d = sha256(NEW);
    let digest = bstr(&cbor(|e| {
        e.array(2).unwrap().i64(-16).unwrap().bytes(&d).unwrap();
    }));
    let shared = sequence(&[
        (
            20,
            params(&[
                (1, bstr(VENDOR)),
                (2, bstr(CLASS)),
                (3, digest),
                (
                    14,
                    cbor(|e| {
                        e.u64(NEW.len() as u64).unwrap();
                    }),
                ),
            ]),
        ),
        (1, rp(15)),
        (2, rp(15)),
    ]);
    let install = sequence(&[
        (
            20,
            params(&[(
                21,
                cbor(|e| {
                    e.str("#fw").unwrap();
                }),
            )]),
        ),
        (21, rp(2)),
        (3, rp(15)),
    ]);
    let validate = sequence(&[(3, rp(15))]);
    let m = common::manifest(
        7,
        &common::common(&[&[b"fw"]], Some(&shared)),
        &[(20, bstr(&install)), (7, bstr(&validate))],
    );
    envelope(&m, Auth::Sign1, &[Extra::Text("#fw", NEW)])
}

fn device() -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![VENDOR.to_vec()];
    sim.class_ids = vec![CLASS.to_vec()];
    sim.flash.storage.insert(path(&[b"fw"]), OLD.to_vec());
    sim.flash.sequence.insert(None, 6);
    sim
}

/// Decode, authenticate and run the update procedure, as a device does with what it received.
fn process(
    sim: &mut Sim,
    env: &[u8],
    key: P256VerifyingKey,
) -> Result<(), iot_update_manifest::Error> {
    let mut keys = [key];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    let mut scratch = [0u8; 1024];
    let mut p = Processor::new(sim, &mut crypto, &mut anchors).with_scratch(&mut scratch);
    let auth = p.authenticate(env)?;
    p.update(&auth)
}

/// The same through the A/B layer (factory image in slot 0).
fn ab_device() -> Sim {
    let mut sim = device();
    sim.flash.storage.clear();
    sim.flash.sequence.clear();
    sim.flash
        .storage
        .insert((vec![b"fw".to_vec()], Some(0)), OLD.to_vec());
    sim.flash.sequence.insert(None, 6);
    sim.flash.boot_state = Some(iot_update_manifest::ab::BootState {
        active: 0,
        active_sequence: 6,
        trial: None,
    });
    sim.flash.envelopes[0] = b"factory envelope".to_vec();
    sim
}

fn ab_update(sim: &mut Sim, env: &[u8]) -> Result<u8, iot_update_manifest::Error> {
    let mut keys = [signing_key().verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::from_os();
    AbDevice::new(sim, &mut crypto, &mut anchors).update(env, &mut [0u8; 512])
}

fn libcsuit_key() -> Option<P256VerifyingKey> {
    let pem = iot_test_vectors::read("suit/libcsuit/key/trust_anchor_secp256r1_pub.pem")?;
    let pk = p256::PublicKey::from_public_key_pem(core::str::from_utf8(&pem).unwrap()).unwrap();
    Some(P256VerifyingKey::from_sec1(pk.to_sec1_point(false).as_bytes()).unwrap())
}

/// A pseudo-random non-zero mask for position `i` (reproducible).
fn mask(i: usize, round: u8) -> u8 {
    let m = (i as u32)
        .wrapping_mul(2_654_435_761)
        .rotate_left(u32::from(round) * 8) as u8;
    if m == 0 { 0x5a } else { m }
}

/// Every byte of `env`, tampered with two masks (the low bit, and a position-dependent one):
/// each is rejected and the flash is unchanged. Returns the number of tampered envelopes.
fn sweep(
    env: &[u8],
    fresh: &dyn Fn() -> Sim,
    run: &dyn Fn(&mut Sim, &[u8]) -> bool,
    what: &str,
) -> usize {
    // The untampered envelope goes through (so the rejections are the tampering's doing).
    let mut ok = fresh();
    assert!(
        run(&mut ok, env),
        "{what}: the genuine envelope is accepted"
    );
    assert_ne!(ok.flash, fresh().flash, "{what}: and it changes the device");
    let mut n = 0;
    for i in 0..env.len() {
        for m in [1u8, mask(i, 1)] {
            let mut t = env.to_vec();
            t[i] ^= m;
            let mut sim = fresh();
            let before = sim.flash.clone();
            assert!(!run(&mut sim, &t), "{what}: byte {i} ^ {m:#04x} accepted");
            assert_eq!(
                sim.flash, before,
                "{what}: byte {i} ^ {m:#04x} changed the device"
            );
            n += 1;
        }
    }
    n
}

#[test]
fn tampering_any_byte_is_rejected_without_state_change() {
    let env = update_envelope();
    let key = signing_key().verifying_key();
    let plain = sweep(
        &env,
        &device,
        &|sim, e| process(sim, e, key).is_ok(),
        "processor",
    );
    let ab = sweep(&env, &ab_device, &|sim, e| ab_update(sim, e).is_ok(), "A/B");
    println!(
        "{plain} tampered envelopes refused by the processor and {ab} by the A/B device, none \
         changed the flash ({} bytes, each with two masks)",
        env.len()
    );
}

#[test]
fn tampering_libcsuit_integrated_payloads_is_rejected_without_state_change() {
    let Some(key) = libcsuit_key() else {
        return;
    };
    let teep = || {
        let mut sim = Sim::new();
        sim.vendor_ids = vec![hex::decode("c0ddd5f15243566087db4f5b0aa26c2f").unwrap()];
        sim.class_ids = vec![hex::decode("db42f7093d8c55baa8c5265fc5820f4e").unwrap()];
        sim
    };
    let mut total = 0;
    // expI: a trusted application as integrated payload; expS3: an integrated dependency manifest.
    for (name, fresh) in [
        ("expI", &teep as &dyn Fn() -> Sim),
        ("expS3", &Sim::new as &dyn Fn() -> Sim),
    ] {
        let env =
            iot_test_vectors::read(&format!("suit/libcsuit/suit_manifest_{name}.suit")).unwrap();
        total += sweep(&env, fresh, &|sim, e| process(sim, e, key).is_ok(), name);
    }
    println!("{total} tampered libcsuit envelopes refused, none changed the flash");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Several random bytes replaced at once: still rejected, still no change.
    #[test]
    fn random_multi_byte_tampering(edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..6)) {
        let env = update_envelope();
        let mut t = env.clone();
        for (at, m) in &edits {
            let i = at % t.len();
            t[i] ^= m;
        }
        prop_assume!(t != env);
        let mut sim = device();
        let before = sim.flash.clone();
        prop_assert!(process(&mut sim, &t, signing_key().verifying_key()).is_err());
        prop_assert_eq!(&sim.flash, &before);
    }
}
