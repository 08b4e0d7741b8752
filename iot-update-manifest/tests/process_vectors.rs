//! Every libcsuit envelope of ../shared/vectors, processed against the simulated platform of
//! `sim/`: integrated payloads are served from the envelope, fetched URIs from the files the
//! vector folder provides. Each vector's outcome is asserted, including the ones this processor
//! cannot complete (encrypted payloads), with the reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod libcsuit;
mod sim;

use iot_core::cose::SymmetricKey;
use iot_core::crypto::RustCrypto;
use iot_update_manifest::{
    Capacity, Command, Error, Processor, SequenceKind, TrustAnchors, Unsupported,
};
use sim::{Sim, path};

const VENDOR: [u8; 16] = hex_literal(b"fa6b4a53d5ad5fdfbe9de663e4d41ffe");
const CLASS: [u8; 16] = hex_literal(b"1492af1425695e48bf429b2d51f2ab45");
const TEEP_VENDOR: [u8; 16] = hex_literal(b"c0ddd5f15243566087db4f5b0aa26c2f");
const TEEP_CLASS: [u8; 16] = hex_literal(b"db42f7093d8c55baa8c5265fc5820f4e");
/// The sample digests of the manifest-spec examples (no image has them).
const DIGEST_A: [u8; 32] =
    hex_literal(b"00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210");
const DIGEST_B: [u8; 32] =
    hex_literal(b"0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff");
const SIZE_A: usize = 34768;
const SIZE_B: usize = 76834;

const fn hex_literal<const N: usize>(h: &[u8]) -> [u8; N] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not hex"),
        }
    }
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]);
        i += 1;
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Procedure {
    Update,
    Boot,
    Uninstall,
}

fn image_a() -> Vec<u8> {
    vec![0xa5; SIZE_A]
}

fn image_b() -> Vec<u8> {
    vec![0xb6; SIZE_B]
}

fn read(name: &str) -> Vec<u8> {
    libcsuit::read(name).unwrap()
}

/// Runs `procedure` of vector `name` on `sim`.
fn process(name: &str, sim: &mut Sim, procedure: Procedure) -> Result<(), Error> {
    process_with(name, sim, procedure, 2048)
}

/// [`process`] with a scratch buffer of `scratch_len` bytes for dependency manifests.
fn process_with(
    name: &str,
    sim: &mut Sim,
    procedure: Procedure,
    scratch_len: usize,
) -> Result<(), Error> {
    let bytes = read(&format!("suit_manifest_{name}.suit"));
    let mut keys = [libcsuit::trust_anchor().unwrap()];
    let macs = [SymmetricKey::new(&libcsuit::MAC_KEY)];
    let mut anchors = TrustAnchors::new(&mut keys, &macs);
    let mut crypto = RustCrypto::from_os();
    let mut scratch = vec![0u8; scratch_len];
    let mut p = Processor::new(sim, &mut crypto, &mut anchors).with_scratch(&mut scratch);
    let auth = p.authenticate(&bytes)?;
    match procedure {
        Procedure::Update => p.update(&auth),
        Procedure::Boot => p.boot(&auth),
        Procedure::Uninstall => p.run(&auth, SequenceKind::Uninstall),
    }
}

/// A device of the manifest-spec examples' vendor and class. With `declared`, the platform
/// reports the examples' sample digests for the stand-in images A and B (as a device that keeps
/// each image's digest would), so the command flow past image-match can be followed.
fn spec_device(declared: bool) -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![VENDOR.to_vec()];
    sim.class_ids = vec![CLASS.to_vec()];
    if declared {
        sim.declared = vec![(image_a(), DIGEST_A), (image_b(), DIGEST_B)];
    }
    for (uri, image) in [
        ("http://example.com/file.bin", image_a()),
        (
            "http://example.com/very/long/path/to/file/file.bin",
            image_a(),
        ),
        ("http://example.com/file1.bin", image_a()),
        ("http://example.com/file2.bin", image_b()),
    ] {
        sim.uris.insert(uri.into(), image);
    }
    sim
}

fn teep_device() -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![TEEP_VENDOR.to_vec()];
    sim.class_ids = vec![TEEP_CLASS.to_vec()];
    sim.uris.insert(
        "https://example.org/8d82573a-926d-4754-9353-32dc29997f74.ta".into(),
        read("8d82573a-926d-4754-9353-32dc29997f74.ta"),
    );
    sim
}

fn condition(c: Command) -> Result<(), Error> {
    Err(Error::ConditionFailed(c))
}

fn seq_of(sim: &Sim, id: Option<&[&[u8]]>) -> Option<u64> {
    let k = id.map(|segs| segs.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
    sim.flash.sequence.get(&k).copied()
}

/// Secure boot of example 0: identity checks, image match, invoke.
fn exp0() {
    // Real digests: the stored image is not the sample digest's preimage.
    let mut sim = spec_device(false);
    sim.flash.storage.insert(path(&[&[0]]), image_a());
    assert_eq!(
        process("exp0", &mut sim, Procedure::Boot),
        condition(Command::ImageMatch)
    );
    assert!(sim.invoked.is_empty());
    // Wrong class: refused at the class check, before any image is read.
    let mut sim = spec_device(true);
    sim.class_ids = vec![TEEP_CLASS.to_vec()];
    sim.flash.storage.insert(path(&[&[0]]), image_a());
    assert_eq!(
        process("exp0", &mut sim, Procedure::Boot),
        condition(Command::ClassIdentifier)
    );
    // Wrong vendor.
    let mut sim = spec_device(true);
    sim.vendor_ids.clear();
    assert_eq!(
        process("exp0", &mut sim, Procedure::Boot),
        condition(Command::VendorIdentifier)
    );
    // Declared digest: validate passes and the image is invoked.
    let mut sim = spec_device(true);
    sim.flash.storage.insert(path(&[&[0]]), image_a());
    process("exp0", &mut sim, Procedure::Boot).unwrap();
    assert_eq!(sim.invoked.len(), 1);
    assert_eq!(sim.invoked[0].0, path(&[&[0]]));
    // A stored sequence number above the manifest's (0) refuses even the boot.
    sim.flash.sequence.insert(None, 1);
    assert_eq!(
        process("exp0", &mut sim, Procedure::Boot),
        Err(Error::Rollback)
    );
}

/// Download (example 1 and 2B's severed install): fetch, then image match.
fn exp_download(name: &str, uri: &str, seq: u64) {
    let mut sim = spec_device(false);
    assert_eq!(
        process(name, &mut sim, Procedure::Update),
        condition(Command::ImageMatch)
    );
    assert_eq!(sim.fetched, [uri]);
    assert_eq!(
        seq_of(&sim, None),
        None,
        "{name}: no sequence number stored after a failure"
    );

    let mut sim = spec_device(true);
    process(name, &mut sim, Procedure::Update).unwrap();
    assert_eq!(sim.fetched, [uri]);
    assert_eq!(sim.get(&path(&[&[0]])), Some(&image_a()));
    assert_eq!(seq_of(&sim, None), Some(seq));
    // The same manifest again is a replay: refused.
    assert_eq!(
        process(name, &mut sim, Procedure::Update),
        Err(Error::Rollback)
    );
    // Booting it (equal sequence number) is allowed.
    process(name, &mut sim, Procedure::Boot).unwrap();
}

fn exp2a() {
    let mut sim = spec_device(true);
    assert_eq!(
        process("exp2A", &mut sim, Procedure::Update),
        Err(Error::SeveredMemberMissing(20))
    );
    assert!(sim.fetched.is_empty());
    sim.flash.storage.insert(path(&[&[0]]), image_a());
    process("exp2A", &mut sim, Procedure::Boot).unwrap();
    assert_eq!(sim.invoked.len(), 1);
}

/// A/B by component slot (example 3): try-each picks the slot the platform names.
fn exp3() {
    for (slot, uri, image) in [
        (0, "http://example.com/file1.bin", image_a()),
        (1, "http://example.com/file2.bin", image_b()),
    ] {
        let mut sim = spec_device(true);
        sim.slot = Some(slot);
        process("exp3", &mut sim, Procedure::Update).unwrap();
        assert_eq!(sim.fetched, [uri]);
        assert_eq!(sim.get(&(vec![vec![0]], Some(slot))), Some(&image));
        process("exp3", &mut sim, Procedure::Boot).unwrap();
        let mut sim = spec_device(false);
        sim.slot = Some(slot);
        assert_eq!(
            process("exp3", &mut sim, Procedure::Update),
            condition(Command::ImageMatch)
        );
    }
    // No slot acceptable: the shared try-each finds no sequence and fails.
    let mut sim = spec_device(true);
    assert_eq!(
        process("exp3", &mut sim, Procedure::Update),
        condition(Command::ComponentSlot)
    );
}

/// Example 4: payload-fetch into a staging component, install by copy, load by copy.
fn exp4() {
    let mut sim = spec_device(true);
    process("exp4", &mut sim, Procedure::Update).unwrap();
    assert_eq!(
        sim.get(&path(&[&[2]])),
        Some(&image_a()),
        "fetched into [h'02']"
    );
    assert_eq!(
        sim.get(&path(&[&[0]])),
        Some(&image_a()),
        "copied into [h'00']"
    );
    // Load copies [h'00'] into [h'01'] and expects digest B and size 76834: the example's
    // decompression step, whose parameter the current draft dropped. A plain copy cannot match.
    assert_eq!(
        process("exp4", &mut sim, Procedure::Boot),
        condition(Command::ImageMatch)
    );
    assert_eq!(sim.get(&path(&[&[1]])), Some(&image_a()));
    assert!(sim.invoked.is_empty());
}

/// Example 5: two components fetched and checked, one invoked.
fn exp5() {
    let mut sim = spec_device(true);
    process("exp5", &mut sim, Procedure::Update).unwrap();
    assert_eq!(
        sim.fetched,
        [
            "http://example.com/file1.bin",
            "http://example.com/file2.bin"
        ]
    );
    process("exp5", &mut sim, Procedure::Boot).unwrap();
    assert_eq!(sim.invoked.len(), 1);
    assert_eq!(sim.invoked[0].0, path(&[&[0]]));
    let mut sim = spec_device(false);
    assert_eq!(
        process("exp5", &mut sim, Procedure::Update),
        condition(Command::ImageMatch)
    );
}

/// Encrypted payloads without a decryption key ([`Processor::with_decryption_key`] not called):
/// fetched as they are, then refused where they would be decrypted.
fn encrypted(name: &str, plaintext: &[u8], encrypted: Option<(&[u8], &str)>) {
    let mut sim = Sim::new();
    let uri = "coaps://example.com/encrypted-firmware";
    if let Some((_, file)) = encrypted {
        sim.uris.insert(uri.into(), read(file));
    }
    assert_eq!(
        process(name, &mut sim, Procedure::Update),
        Err(Error::Unsupported(Unsupported::Encryption)),
        "{name}"
    );
    if let Some((component, file)) = encrypted {
        assert_eq!(sim.get(&path(&[component])), Some(&read(file)), "{name}");
    }
    assert_eq!(
        sim.get(&path(&[plaintext])),
        None,
        "{name}: nothing decrypted"
    );
}

fn exp_ed() {
    let mut sim = Sim::new();
    // The dependency (an integrated, signed envelope) is authenticated, bound to its digest and
    // stored; its install writes with the content and encryption info the dependent passed it,
    // which needs the device's key (given in tests/encryption.rs, where expED installs).
    assert_eq!(
        process("expED", &mut sim, Procedure::Update),
        Err(Error::Unsupported(Unsupported::Encryption))
    );
    assert!(sim.get(&path(&[b"dependency-manifest.suit"])).is_some());
    assert_eq!(
        sim.get(&path(&[b"dependency-manifest.suit", b"decrypted-firmware"])),
        None
    );
    assert_eq!(sim.get(&path(&[b"decrypted-firmware"])), None);
}

fn exp_d() {
    // The dependency manifest https://example.org/8d82573a-....suit is not served here (it is
    // libcsuit expU, tagged: tests/dependency.rs builds it and runs expD through).
    let mut sim = teep_device();
    assert_eq!(
        process("expD", &mut sim, Procedure::Update),
        Err(Error::Platform(
            iot_update_manifest::PlatformError::Unavailable
        ))
    );
    assert!(sim.flash.storage.is_empty());
}

const TA: &[&[u8]] = &[
    b"TEEP-Device",
    b"SecureFS",
    &hex_literal::<16>(b"8d82573a926d4754935332dc29997f74"),
    b"ta",
];
const TA_MANIFEST: &[&[u8]] = &[
    b"TEEP-Device",
    b"SecureFS",
    &hex_literal::<16>(b"8d82573a926d4754935332dc29997f74"),
    b"suit",
];

/// A trusted application, integrated (expI) or fetched (expU), then uninstalled.
fn exp_ta(name: &str, fetched: bool) {
    let mut sim = teep_device();
    process(name, &mut sim, Procedure::Update).unwrap();
    assert_eq!(sim.get(&path(TA)), Some(&b"Hello, Secure World!".to_vec()));
    assert_eq!(sim.fetched.len(), usize::from(fetched), "{name}");
    assert_eq!(seq_of(&sim, Some(TA_MANIFEST)), Some(3));
    process(name, &mut sim, Procedure::Uninstall).unwrap();
    assert_eq!(sim.unlinked, [path(TA)]);
    assert_eq!(sim.get(&path(TA)), None);
}

fn exp_s0() {
    let mut sim = Sim::new();
    process("expS0", &mut sim, Procedure::Update).unwrap();
    assert_eq!(sim.get(&path(&[b"00"])), Some(&b"hello world".to_vec()));
    assert_eq!(seq_of(&sim, Some(&[b"dependent.suit"])), Some(0));
    process("expS0", &mut sim, Procedure::Boot).unwrap();
    assert_eq!(sim.invoked.len(), 1);
    assert_eq!(sim.invoked[0].1.as_deref(), Some(&b"cat 00"[..]));
}

/// Dependencies in two trust domains: the dependent (expS2 fetches the dependency, expS3
/// carries it integrated) processes expS0 under the prefix `['dependent.suit']`.
fn exp_s23(name: &str) {
    let mut sim = Sim::new();
    let dependent = read("suit_manifest_expS0.suit");
    sim.uris.insert(
        "http://example.com/dependent.suit".into(),
        dependent.clone(),
    );
    process(name, &mut sim, Procedure::Update).unwrap();
    assert_eq!(sim.get(&path(&[b"dependent.suit"])), Some(&dependent));
    assert_eq!(
        sim.get(&path(&[b"dependent.suit", b"00"])),
        Some(&b"hello world".to_vec()),
        "written by the dependency, under its prefix"
    );
    assert_eq!(
        sim.get(&path(&[b"10"])),
        Some(&b" in multiple trust domains".to_vec())
    );
    assert_eq!(seq_of(&sim, Some(&[b"depending.suit"])), Some(0));
    process(name, &mut sim, Procedure::Boot).unwrap();
    assert_eq!(sim.invoked.len(), 1);
    assert_eq!(sim.invoked[0].0, path(&[b"10"]));
    assert_eq!(sim.invoked[0].1.as_deref(), Some(&b"cat 00 10"[..]));

    // A scratch buffer one byte too small for the dependency: refused before anything is
    // written (expS3's integrated dependency as much as expS2's fetched one), nothing stored.
    for scratch_len in [0, dependent.len() - 1] {
        let mut sim = Sim::new();
        sim.uris.insert(
            "http://example.com/dependent.suit".into(),
            dependent.clone(),
        );
        let before = sim.flash.clone();
        assert_eq!(
            process_with(name, &mut sim, Procedure::Update, scratch_len),
            Err(Error::CapacityExceeded(Capacity::DependencyBuffer)),
            "{name} with {scratch_len} B of scratch"
        );
        assert_eq!(sim.flash, before, "{name} with {scratch_len} B of scratch");
    }
    // Exactly its size is enough.
    let mut sim = Sim::new();
    sim.uris.insert(
        "http://example.com/dependent.suit".into(),
        dependent.clone(),
    );
    process_with(name, &mut sim, Procedure::Update, dependent.len()).unwrap();
    assert_eq!(sim.get(&path(&[b"dependent.suit"])), Some(&dependent));

    // A dependency that does not authenticate is refused before anything of it runs.
    let mut sim = Sim::new();
    let mut forged = dependent.clone();
    *forged.last_mut().unwrap() ^= 1;
    sim.uris
        .insert("http://example.com/dependent.suit".into(), forged);
    if name == "expS2" {
        assert_eq!(
            process(name, &mut sim, Procedure::Update),
            Err(Error::DigestMismatch)
        );
        assert_eq!(sim.get(&path(&[b"dependent.suit", b"00"])), None);
    }
}

fn update_management_device() -> Sim {
    let mut sim = spec_device(false);
    sim.now = Some(1_600_000_000);
    sim.battery = Some(50);
    sim.authorized = true;
    sim.version = Some(vec![0, 9]);
    sim
}

/// Update management: use-before, minimum battery, version, update authorized (expU0);
/// override-multiple and wait (expU1); all of them around a real fetch (expU2, expU3).
fn exp_u() {
    let mut sim = update_management_device();
    process("expU0", &mut sim, Procedure::Update).unwrap();
    for (change, failing) in [
        (
            (|s: &mut Sim| s.now = Some(1_700_000_000)) as fn(&mut Sim),
            Command::UseBefore,
        ),
        (|s: &mut Sim| s.now = None, Command::UseBefore),
        (|s: &mut Sim| s.battery = Some(9), Command::MinimumBattery),
        (
            |s: &mut Sim| s.version = Some(vec![1, 0, 1]),
            Command::Version,
        ),
        (
            |s: &mut Sim| s.authorized = false,
            Command::UpdateAuthorized,
        ),
    ] {
        let mut sim = update_management_device();
        change(&mut sim);
        assert_eq!(
            process("expU0", &mut sim, Procedure::Update),
            condition(failing)
        );
    }

    let mut sim = update_management_device();
    process("expU1", &mut sim, Procedure::Update).unwrap();
    assert_eq!(sim.waited.len(), 2);
    assert_eq!(sim.waited[0].0, path(&[&[0]]));
    assert_eq!(sim.waited[1].0, path(&[&[1]]));
    assert_ne!(
        sim.waited[0].1, sim.waited[1].1,
        "each component's own wait-info"
    );

    let raw = read("raw_image.bin");
    let mut sim = update_management_device();
    sim.now = Some(1_400_000_000); // expU2's validate demands a time before 2016-06-14
    sim.uris
        .insert("http://example.com/file.bin".into(), raw.clone());
    process("expU2", &mut sim, Procedure::Update).unwrap();
    assert_eq!(sim.get(&path(&[&[0]])), Some(&raw));
    assert_eq!(sim.waited.len(), 1);
    process("expU2", &mut sim, Procedure::Boot).unwrap();
    sim.version = Some(vec![1]);
    assert_eq!(
        process("expU2", &mut sim, Procedure::Boot),
        condition(Command::Version)
    );

    let mut sim = update_management_device();
    sim.uris
        .insert("https://cdn.example/example3.bin".into(), raw.clone());
    process("expU3", &mut sim, Procedure::Update).unwrap();
    assert_eq!(sim.get(&path(&[b"usr", b"local", b"bin"])), Some(&vec![]));
    assert_eq!(
        sim.get(&path(&[b"usr", b"local", b"bin", b"example3"])),
        Some(&raw)
    );
    assert_eq!(
        sim.get(&path(&[b"usr", b"bin", b"example"])),
        Some(&b"/usr/local/bin/example3".to_vec())
    );
    // A different image at the URI: image match fails, nothing installed.
    let mut sim = update_management_device();
    sim.uris
        .insert("https://cdn.example/example3.bin".into(), b"other".to_vec());
    assert_eq!(
        process("expU3", &mut sim, Procedure::Update),
        condition(Command::ImageMatch)
    );
    assert_eq!(sim.get(&path(&[b"usr", b"bin", b"example"])), None);
}

#[test]
fn libcsuit_vectors_process() {
    let Some(files) = iot_test_vectors::files(libcsuit::DIR, ".suit") else {
        return;
    };
    let mut covered: Vec<(&str, &str)> = Vec::new();
    exp0();
    covered.push((
        "exp0",
        "boot; sample digest (fails image-match on real content, passes declared)",
    ));
    exp_download("exp1", "http://example.com/file.bin", 1);
    covered.push(("exp1", "update + boot; sample digest"));
    exp2a();
    covered.push(("exp2A", "install severed and absent: update refused; boot"));
    exp_download(
        "exp2B",
        "http://example.com/very/long/path/to/file/file.bin",
        2,
    );
    covered.push((
        "exp2B",
        "update with restored severed install + boot; sample digest",
    ));
    exp3();
    covered.push(("exp3", "A/B by component slot, both slots; sample digests"));
    exp4();
    covered.push((
        "exp4",
        "payload-fetch / install by copy pass; load fails image-match (copy cannot decompress)",
    ));
    exp5();
    covered.push(("exp5", "two components; sample digests"));
    let (aes, esdh) = ("encrypted_image_aes.bin", "encrypted_image_esdh.bin");
    encrypted(
        "expAF",
        b"plaintext-firmware",
        Some((b"encrypted-firmware", aes)),
    );
    encrypted("expAFS", &[0], Some((&[1], aes)));
    encrypted("expAW", b"plaintext-firmware", None);
    encrypted("expEW", b"decrypted-firmware", None);
    let _ = esdh;
    for n in ["expAF", "expAFS", "expAW", "expEW"] {
        covered.push((
            n,
            "without a decryption key: refused at the encrypted copy/write; with the key \
             tests/encryption.rs processes it to the plaintext image",
        ));
    }
    exp_ed();
    covered.push((
        "expED",
        "parameters passed to the dependency; without a key its encrypted write is refused \
         (with the key it installs: tests/encryption.rs)",
    ));
    exp_d();
    covered.push((
        "expD",
        "NOT COMPLETED: its dependency manifest (8d82573a-...suit) is not in the vectors; its \
         install needs A128CTR decryption",
    ));
    exp_ta("expI", false);
    covered.push(("expI", "integrated payload, install + uninstall"));
    exp_ta("expU", true);
    covered.push(("expU", "fetched TA, install + uninstall"));
    exp_s0();
    covered.push(("expS0", "write + invoke with arguments"));
    exp_s23("expS2");
    covered.push((
        "expS2",
        "fetched dependency processed under its prefix; forged dependency refused",
    ));
    exp_s23("expS3");
    covered.push(("expS3", "integrated dependency processed under its prefix"));
    exp_u();
    for n in ["expU0", "expU1", "expU2", "expU3"] {
        covered.push((n, "update management conditions and directives"));
    }
    for (n, what) in &covered {
        println!("{n}: {what}");
    }
    for f in &files {
        let name = f
            .rsplit('/')
            .next()
            .unwrap()
            .trim_start_matches("suit_manifest_")
            .trim_end_matches(".suit");
        assert!(
            covered.iter().any(|(n, _)| *n == name),
            "vector {f} has no processing case"
        );
    }
    let incomplete = covered.iter().filter(|(_, w)| w.starts_with("NOT")).count();
    println!(
        "libcsuit: {} envelopes processed, {} to completion or to their asserted failure, {incomplete} not completed",
        files.len(),
        files.len() - incomplete
    );
}
