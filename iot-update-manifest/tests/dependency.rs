//! libcsuit expD end to end: its dependency manifest, `8d82573a-926d-4754-9353-32dc29997f74.suit`
//! (not among libcsuit's testfiles), is libcsuit expU as a tagged envelope: expD's dependency
//! digest is expU's manifest digest, its size (389) expU's 387 bytes plus the tag. It is built
//! here by our builder from `tests/data/builder/libcsuit-expU.json` (tagged) and signed with the
//! trust anchor's key, served at expD's URI, fetched, authenticated, bound to the digest, and its
//! install runs under the dependency prefix; expD then decrypts config.json (ECDH-ES + A128KW,
//! A128CTR) and validates it. A tampered, foreign or merely different dependency is refused
//! with nothing written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim;

use core::cell::Cell;
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto, Verifier};
use iot_update_manifest::ab::AbDevice;
use iot_update_manifest::builder::json;
use iot_update_manifest::encryption::Kek;
use iot_update_manifest::{Envelope, Error, Processor, SequenceKind, TrustAnchors};
use p256::pkcs8::DecodePrivateKey;
use proptest::prelude::*;
use sim::{Cut, Sim, path};
use std::path::Path;

const DIR: &str = "suit/libcsuit";
const DEPENDENCY_URI: &str = "https://example.org/8d82573a-926d-4754-9353-32dc29997f74.suit";
const TA_URI: &str = "https://example.org/8d82573a-926d-4754-9353-32dc29997f74.ta";
/// expD's `parameter-image-digest` and `parameter-image-size` of the dependency.
const DEPENDENCY_DIGEST: &str = "b39b52b0b747ea79588c190f567bfc2c8437ba8a73f7ea983182e79f0148d59b";
const DEPENDENCY_SIZE: usize = 389;
/// The suit-firmware-encryption examples' ES-DH receiver key (kid-2), which opens expD's
/// encryption info too.
const ESDH_D: &str = "60FE6DD6D85D5740A5349B6F91267EEAC5BA81B8CB53EE249E4B4EB102C476B3";
const TEEP_VENDOR: &str = "c0ddd5f15243566087db4f5b0aa26c2f";
const TEEP_CLASS: &str = "db42f7093d8c55baa8c5265fc5820f4e";
const TC: &str = "8d82573a926d4754935332dc29997f74";

fn read(name: &str) -> Option<Vec<u8>> {
    iot_test_vectors::read(&format!("{DIR}/{name}"))
}

/// The signing key of libcsuit's trust anchor, which signs expD (`None` without the vectors).
fn trust_anchor() -> Option<P256SigningKey> {
    read("key/trust_anchor_secp256r1.pem").map(|pem| pem_key(&pem))
}

/// The P-256 key of a PEM file (libcsuit labels its PKCS#8 body "EC PRIVATE KEY").
fn pem_key(pem: &[u8]) -> P256SigningKey {
    let pem = core::str::from_utf8(pem).unwrap();
    let pem = match pem.find("-----BEGIN EC PRIVATE KEY-----") {
        Some(at) => pem[at..].replace("EC PRIVATE KEY", "PRIVATE KEY"),
        None => pem.to_owned(),
    };
    let sk = p256::SecretKey::from_pkcs8_pem(&pem).unwrap();
    P256SigningKey::from_bytes(&sk.to_bytes()).unwrap()
}

/// expU's description, tagged, with `edit` applied to its JSON text, built and signed by `key`.
fn dependency(key: &mut P256SigningKey, edit: impl Fn(String) -> String) -> Vec<u8> {
    build("libcsuit-expU.json", key, |t| {
        edit(t.replace("\"tagged\": false", "\"tagged\": true"))
    })
}

/// expD's description with sequence number `sequence`, naming `dependency` by its manifest
/// digest and size, built and signed by `key`.
fn dependent(key: &mut P256SigningKey, sequence: u64, dependency: &[u8]) -> Vec<u8> {
    let mut keys = [key.verifying_key()];
    let digest = Envelope::decode(dependency)
        .unwrap()
        .authenticate(
            &mut RustCrypto::<()>::default(),
            &mut TrustAnchors::signers(&mut keys),
        )
        .unwrap()
        .digest()
        .bytes
        .to_vec();
    build("libcsuit-expD.json", key, |t| {
        t.replace(
            "\"sequence-number\": 3",
            &format!("\"sequence-number\": {sequence}"),
        )
        .replace(DEPENDENCY_DIGEST, &hex::encode(&digest))
        .replace(
            &format!("\"image-size\": {DEPENDENCY_SIZE}"),
            &format!("\"image-size\": {}", dependency.len()),
        )
    })
}

/// The builder description `name` in `tests/data/builder`, with `edit` applied to its JSON text,
/// built and signed by `key`.
fn build(name: &str, key: &mut P256SigningKey, edit: impl Fn(String) -> String) -> Vec<u8> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/builder");
    let text = edit(std::fs::read_to_string(data.join(name)).unwrap());
    let base = iot_test_vectors::path(DIR).unwrap();
    let mut crypto = RustCrypto::from_os();
    let parsed = json::parse(&text, &base, &mut crypto).unwrap();
    let mut unsigned = parsed.description.encode(&mut crypto).unwrap();
    unsigned
        .sign(&mut crypto, key, parsed.algorithm, parsed.kid.as_deref())
        .unwrap();
    unsigned.to_bytes().unwrap()
}

/// A TEEP device that serves the TA and, when given, the dependency at expD's URI.
fn device(dependency: Option<&[u8]>) -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![hex::decode(TEEP_VENDOR).unwrap()];
    sim.class_ids = vec![hex::decode(TEEP_CLASS).unwrap()];
    sim.uris.insert(
        TA_URI.into(),
        read("8d82573a-926d-4754-9353-32dc29997f74.ta").unwrap(),
    );
    if let Some(d) = dependency {
        sim.uris.insert(DEPENDENCY_URI.into(), d.to_vec());
    }
    sim
}

/// Runs expD's update on `sim` under the trust anchor `anchor`, decrypting with the ES-DH key.
fn update(sim: &mut Sim, anchor: &P256SigningKey) -> Result<(), Error> {
    update_with(sim, anchor, &read("suit_manifest_expD.suit").unwrap())
}

/// Runs the update of `exp_d` (expD or a variant) as [`update`] does.
fn update_with(sim: &mut Sim, anchor: &P256SigningKey, exp_d: &[u8]) -> Result<(), Error> {
    let mut keys = [anchor.verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::<()>::default();
    let mut scratch = [0u8; 2048];
    let d = hex::decode(ESDH_D).unwrap();
    let mut p = Processor::new(sim, &mut crypto, &mut anchors)
        .with_scratch(&mut scratch)
        .with_decryption_key(Kek::EcdhEsP256(&d));
    let auth = p.authenticate(exp_d)?;
    p.update(&auth)
}

fn tc() -> Vec<u8> {
    hex::decode(TC).unwrap()
}

/// Where expD's install stores its dependency manifest (under its `suit-dependency-prefix`).
fn dependency_at() -> sim::Key {
    path(&[b"TEEP-Device", b"SecureFS", &tc(), b"suit"])
}

/// The offset of a byte of the signature in a dependency envelope: the COSE_Sign1's detached
/// payload (nil) is followed by the 64-byte signature.
fn signature_byte(envelope: &[u8]) -> usize {
    let at = envelope
        .windows(3)
        .position(|w| w == [0xf6, 0x58, 0x40])
        .unwrap();
    at + 3 + 10
}

#[test]
fn exp_d_processes_the_dependency_built_here() {
    let (Some(mut anchor), Some(exp_u), Some(config)) = (
        trust_anchor(),
        read("suit_manifest_expU.suit"),
        read("config.json"),
    ) else {
        return;
    };
    let built = dependency(&mut anchor, |t| t);
    // expU, tagged: the size and the manifest digest expD names.
    assert_eq!(built.len(), DEPENDENCY_SIZE);
    assert_eq!(built[..2], [0xd8, 0x6b]);
    assert_eq!(built[2..], exp_u[..]);
    let mut crypto = RustCrypto::<()>::default();
    let mut keys = [anchor.verifying_key()];
    let auth = Envelope::decode(&built)
        .unwrap()
        .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    assert_eq!(hex::encode(auth.digest().bytes), DEPENDENCY_DIGEST);

    let mut sim = device(Some(&built));
    update(&mut sim, &anchor).unwrap();
    // Fetched once (through fetch_range, checked before it was written) and stored.
    assert_eq!(
        sim.fetched.iter().filter(|u| *u == DEPENDENCY_URI).count(),
        1
    );
    assert_eq!(sim.get(&dependency_at()), Some(&built));
    let tc = tc();
    // The dependency's install ran under its prefix: the TA fetched and image-matched.
    let ta_at: &[&[u8]] = &[
        b"TEEP-Device",
        b"SecureFS",
        &tc,
        b"suit",
        b"TEEP-Device",
        b"SecureFS",
        &tc,
        b"ta",
    ];
    assert_eq!(
        sim.get(&path(ta_at)),
        read("8d82573a-926d-4754-9353-32dc29997f74.ta").as_ref()
    );
    // expD's own install decrypted config.json (A128CTR) and its validate matched the digest.
    assert_eq!(
        sim.get(&path(&[b"TEEP-Device", b"SecureFS", b"config.json"])),
        Some(&config)
    );
    // expD's sequence number and its dependency's, each under its manifest component id.
    assert_eq!(sim.flash.sequence.len(), 2);
    assert_eq!(counters(&sim), (Some(3), Some(3)));
}

/// A trust anchor that counts its signature verifications.
struct Counting<'c>(iot_core::crypto::P256VerifyingKey, &'c Cell<u32>);

impl Verifier for Counting<'_> {
    fn algorithm(&self) -> Option<Algorithm> {
        self.0.algorithm()
    }
    fn verify_digest(&mut self, digest: &[u8; 32], signature: &[u8]) -> iot_core::Result<()> {
        self.1.set(self.1.get() + 1);
        self.0.verify_digest(digest, signature)
    }
}

/// The dependency is authenticated three times in an update (fetched, processed, its sequence
/// number stored), but its signature is verified once: two P-256 verifications in all, expD's
/// and its dependency's (four before the processor kept what verified). Stored bytes that
/// changed since are verified again, and refused when forged.
#[test]
fn a_dependency_is_verified_once_unless_its_bytes_change() {
    let Some(mut anchor) = trust_anchor() else {
        return;
    };
    let built = dependency(&mut anchor, |t| t);
    let mut sim = device(Some(&built));
    let verifications = Cell::new(0);
    let mut keys = [Counting(anchor.verifying_key(), &verifications)];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::<()>::default();
    let mut scratch = [0u8; 2048];
    let d = hex::decode(ESDH_D).unwrap();
    let exp_d = read("suit_manifest_expD.suit").unwrap();
    let mut p = Processor::new(&mut sim, &mut crypto, &mut anchors)
        .with_scratch(&mut scratch)
        .with_decryption_key(Kek::EcdhEsP256(&d));
    let auth = p.authenticate(&exp_d).unwrap();
    p.update(&auth).unwrap();
    assert_eq!(
        verifications.get(),
        2,
        "expD's signature and its dependency's"
    );

    // Uninstall processes the dependency again. The stored dependency with a flipped signature
    // bit: its bytes are new, so it is verified again and refused.
    let at = dependency_at();
    let sig = signature_byte(&built);
    p.platform().flash.storage.get_mut(&at).unwrap()[sig] ^= 1;
    assert_eq!(
        p.run(&auth, SequenceKind::Uninstall),
        Err(Error::NotAuthenticated(iot_core::Error::BadSignature))
    );
    assert_eq!(verifications.get(), 3);
    // Restored, it is the envelope that verified: processed without another verification.
    p.platform().flash.storage.get_mut(&at).unwrap()[sig] ^= 1;
    p.run(&auth, SequenceKind::Uninstall).unwrap();
    assert_eq!(verifications.get(), 3);
}

/// expD's update on a fresh device serving `built`, then `edit` of the device, then its
/// uninstall (which processes the dependency again); `warm`: one processor does all, so it
/// remembers the dependency that verified; otherwise the uninstall has a processor of its own.
fn uninstall_after_update(
    built: &[u8],
    anchor: &P256SigningKey,
    warm: bool,
    edit: impl FnOnce(&mut Sim),
) -> (Result<(), Error>, sim::Flash) {
    let mut sim = device(Some(built));
    let mut keys = [anchor.verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::<()>::default();
    let mut scratch = [0u8; 2048];
    let d = hex::decode(ESDH_D).unwrap();
    let exp_d = read("suit_manifest_expD.suit").unwrap();
    let auth;
    let warm_result;
    {
        let mut p = Processor::new(&mut sim, &mut crypto, &mut anchors)
            .with_scratch(&mut scratch)
            .with_decryption_key(Kek::EcdhEsP256(&d));
        auth = p.authenticate(&exp_d).unwrap();
        p.update(&auth).unwrap();
        edit(p.platform());
        warm_result = warm.then(|| p.run(&auth, SequenceKind::Uninstall));
    }
    let result = warm_result.unwrap_or_else(|| {
        Processor::new(&mut sim, &mut crypto, &mut anchors)
            .with_scratch(&mut scratch)
            .with_decryption_key(Kek::EcdhEsP256(&d))
            .run(&auth, SequenceKind::Uninstall)
    });
    (result, sim.flash)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever bit of the stored dependency changes after it verified, a processor that
    /// remembers it decides as a fresh one does: the same result, the same flash.
    #[test]
    fn a_remembered_dependency_decides_as_a_fresh_one(at in any::<usize>(), bit in 0u8..8) {
        let Some(mut anchor) = trust_anchor() else {
            return Ok(());
        };
        let built = dependency(&mut anchor, |t| t);
        let stored = dependency_at();
        let flip = |sim: &mut Sim| {
            let bytes = sim.flash.storage.get_mut(&stored).unwrap();
            let i = at % bytes.len();
            bytes[i] ^= 1 << bit;
        };
        let warm = uninstall_after_update(&built, &anchor, true, flip);
        let cold = uninstall_after_update(&built, &anchor, false, flip);
        prop_assert_eq!(warm.0, cold.0);
        prop_assert!(warm.1 == cold.1, "the same flash");
    }
}

/// Every refused dependency leaves the device exactly as it was: nothing fetched is written,
/// no sequence number stored.
#[test]
fn a_bad_dependency_changes_nothing() {
    let Some(mut anchor) = trust_anchor() else {
        return;
    };
    let built = dependency(&mut anchor, |t| t);
    let mut other = P256SigningKey::from_bytes(&[0x11; 32]).unwrap();
    let cases: Vec<(&str, Vec<u8>, Error)> = vec![
        (
            "a flipped signature bit",
            {
                let mut b = built.clone();
                b[signature_byte(&built)] ^= 1;
                b
            },
            Error::NotAuthenticated(iot_core::Error::BadSignature),
        ),
        (
            "a flipped manifest bit",
            {
                let mut b = built.clone();
                *b.last_mut().unwrap() ^= 1;
                b
            },
            Error::DigestMismatch,
        ),
        (
            "signed by another key",
            dependency(&mut other, |t| t),
            Error::NotAuthenticated(iot_core::Error::BadSignature),
        ),
        (
            "authentic, but not the manifest expD names",
            numbered(&mut anchor, 4),
            Error::ImageMismatch,
        ),
        ("cut short", built[..200].to_vec(), Error::ImageMismatch),
    ];
    for (what, served, error) in cases {
        let mut sim = device(Some(&served));
        let before = sim.flash.clone();
        assert_eq!(update(&mut sim, &anchor), Err(error), "{what}");
        assert_eq!(sim.flash, before, "{what}: nothing written");
    }
    // Not served at all: the fetch fails, nothing written.
    let mut sim = device(None);
    assert_eq!(
        update(&mut sim, &anchor),
        Err(Error::Platform(
            iot_update_manifest::PlatformError::Unavailable
        ))
    );
    assert!(sim.flash.storage.is_empty() && sim.flash.sequence.is_empty());
}

/// The sequence numbers `sim` stores for expD and for its dependency, each under its
/// `suit-manifest-component-id`.
fn counters(sim: &Sim) -> (Option<u64>, Option<u64>) {
    let tc = tc();
    let stored = |segments: &[&[u8]]| {
        let id = segments.iter().map(|s| s.to_vec()).collect();
        sim.flash.sequence.get(&Some(id)).copied()
    };
    (
        stored(&[b"TEEP-Device", b"SecureFS", b"config.suit"]),
        stored(&[b"TEEP-Device", b"SecureFS", &tc, b"suit"]),
    )
}

/// The dependency as [`dependency`] builds it, with sequence number `n`.
fn numbered(key: &mut P256SigningKey, n: u64) -> Vec<u8> {
    dependency(key, |t| {
        t.replace(
            "\"sequence-number\": 3",
            &format!("\"sequence-number\": {n}"),
        )
    })
}

/// A dependency manifest's sequence number is stored with its dependent's once the update
/// succeeded, under its own `suit-manifest-component-id`; a later dependent that names an older
/// dependency manifest is refused with nothing stored, one that names the same one again is not.
#[test]
fn an_older_dependency_is_refused_once_a_newer_one_was_installed() {
    let Some(mut anchor) = trust_anchor() else {
        return;
    };
    let (second, third) = (numbered(&mut anchor, 2), numbered(&mut anchor, 3));
    let mut sim = device(Some(&third));
    update(&mut sim, &anchor).unwrap();
    assert_eq!(counters(&sim), (Some(3), Some(3)), "the dependency's too");

    // A newer dependent (4) that names the older dependency manifest (2).
    let downgrade = dependent(&mut anchor, 4, &second);
    sim.uris.insert(DEPENDENCY_URI.into(), second);
    let before = sim.flash.sequence.clone();
    assert_eq!(
        update_with(&mut sim, &anchor, &downgrade),
        Err(Error::Rollback)
    );
    assert_eq!(sim.flash.sequence, before, "no sequence number stored");

    // A newer dependent (5) that names the same dependency manifest (3) again.
    let same = dependent(&mut anchor, 5, &third);
    sim.uris.insert(DEPENDENCY_URI.into(), third);
    update_with(&mut sim, &anchor, &same).unwrap();
    assert_eq!(counters(&sim), (Some(5), Some(3)));
}

/// What an A/B device over `sim` does: provision, update, boot or confirm.
enum Ab<'e> {
    Provision(&'e [u8]),
    Update(&'e [u8]),
    Boot,
    Confirm,
}

/// Runs `step` on an A/B device over `sim` under `anchor`, decrypting with the ES-DH key.
fn ab(sim: &mut Sim, anchor: &P256SigningKey, step: Ab<'_>) -> Result<(), Error> {
    let mut keys = [anchor.verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::<()>::default();
    let d = hex::decode(ESDH_D).unwrap();
    let mut dev =
        AbDevice::new(sim, &mut crypto, &mut anchors).with_decryption_key(Kek::EcdhEsP256(&d));
    let mut buf = [0u8; 4096];
    match step {
        Ab::Provision(e) => dev.provision(e, &mut buf),
        Ab::Update(e) => dev.update(e, &mut buf).map(|_| ()),
        Ab::Boot => dev.boot(&mut buf).map(|_| ()),
        Ab::Confirm => dev.confirm(&mut buf),
    }
}

/// On an A/B device the dependency's number advances with its dependent's, when the trial is
/// confirmed, not when it is installed (the known-good image must stay bootable until then); a
/// power cut after the confirming state write is made good by the next boot.
#[test]
fn an_ab_device_stores_the_dependency_number_when_it_confirms() {
    let Some(mut anchor) = trust_anchor() else {
        return;
    };
    let (third, fourth, fifth) = (
        numbered(&mut anchor, 3),
        numbered(&mut anchor, 4),
        numbered(&mut anchor, 5),
    );
    let exp_d = read("suit_manifest_expD.suit").unwrap();
    let mut sim = device(Some(&third));
    ab(&mut sim, &anchor, Ab::Provision(&exp_d)).unwrap();
    assert_eq!(counters(&sim), (Some(3), Some(3)));

    // Installed as a trial: nothing advances yet.
    let update = dependent(&mut anchor, 4, &fifth);
    sim.uris.insert(DEPENDENCY_URI.into(), fifth);
    ab(&mut sim, &anchor, Ab::Update(&update)).unwrap();
    assert_eq!(
        counters(&sim),
        (Some(3), Some(3)),
        "not before it is confirmed"
    );
    ab(&mut sim, &anchor, Ab::Boot).unwrap();
    assert_eq!(counters(&sim), (Some(3), Some(3)), "nor when it boots");

    // The power goes right after the confirming state write (confirm's second call).
    let mut cut = sim.reboot();
    cut.cut = Some(Cut::After(2));
    assert!(ab(&mut cut, &anchor, Ab::Confirm).is_err());
    let mut cut = cut.reboot();
    assert_eq!(counters(&cut), (Some(3), Some(3)));
    ab(&mut cut, &anchor, Ab::Boot).unwrap();
    assert_eq!(
        counters(&cut),
        (Some(4), Some(5)),
        "made good by the next boot"
    );

    // Confirmed without a cut: both advance.
    ab(&mut sim, &anchor, Ab::Confirm).unwrap();
    assert_eq!(counters(&sim), (Some(4), Some(5)));

    // A newer dependent that names an older dependency manifest is refused, nothing changed.
    let downgrade = dependent(&mut anchor, 6, &fourth);
    sim.uris.insert(DEPENDENCY_URI.into(), fourth);
    let before = sim.flash.clone();
    assert_eq!(
        ab(&mut sim, &anchor, Ab::Update(&downgrade)),
        Err(Error::Rollback)
    );
    assert_eq!(sim.flash.boot_state, before.boot_state);
    assert_eq!(sim.flash.sequence, before.sequence);
}

/// A power cut before or after any platform call of an update's life on an A/B device (install
/// with its dependency, trial boot, confirm, boot): the dependent's counter, written last, never
/// gets ahead of its dependency's, neither goes past what was confirmed, and once the power is
/// back the update can be completed with both advanced.
#[test]
fn power_cut_anywhere_keeps_the_dependent_counter_behind_its_dependency() {
    let Some(mut anchor) = trust_anchor() else {
        return;
    };
    let (third, fifth) = (numbered(&mut anchor, 3), numbered(&mut anchor, 5));
    let update = dependent(&mut anchor, 4, &fifth);
    let mut factory = device(Some(&third));
    ab(
        &mut factory,
        &anchor,
        Ab::Provision(&read("suit_manifest_expD.suit").unwrap()),
    )
    .unwrap();
    factory.uris.insert(DEPENDENCY_URI.into(), fifth);
    let life = |sim: &mut Sim| -> Result<(), Error> {
        ab(sim, &anchor, Ab::Update(&update))?;
        ab(sim, &anchor, Ab::Boot)?;
        ab(sim, &anchor, Ab::Confirm)?;
        ab(sim, &anchor, Ab::Boot)
    };
    let mut reference = factory.reboot();
    life(&mut reference).unwrap();
    assert_eq!(counters(&reference), (Some(4), Some(5)));
    let total = reference.calls;
    // How often the power left each pair of counters: before, between the two writes, after.
    let mut seen = [0usize; 3];
    for n in 1..=total {
        for cut in [Cut::Before(n), Cut::After(n)] {
            let mut sim = factory.reboot();
            sim.cut = Some(cut);
            assert!(life(&mut sim).is_err(), "{cut:?}: the cut was not felt");
            let between = match counters(&sim) {
                (Some(3), Some(3)) => 0,
                (Some(3), Some(5)) => 1,
                (Some(4), Some(5)) => 2,
                other => panic!("{cut:?}: counters {other:?}"),
            };
            seen[between] += 1;

            // Power comes back: the update can be completed, and both counters advance.
            let mut sim = sim.reboot();
            ab(&mut sim, &anchor, Ab::Boot).unwrap_or_else(|e| panic!("{cut:?}: {e:?}"));
            let state = sim.flash.boot_state.unwrap();
            match state.trial {
                Some(t) if t.booted => ab(&mut sim, &anchor, Ab::Confirm).unwrap(),
                _ if state.active_sequence == 3 => life(&mut sim).unwrap(),
                _ => {}
            }
            ab(&mut sim, &anchor, Ab::Boot).unwrap();
            assert_eq!(counters(&sim), (Some(4), Some(5)), "{cut:?}");
        }
    }
    println!(
        "power cut before and after each of {total} platform calls: counters left before, \
         between and after their writes {seen:?}"
    );
    assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
}
