//! The directory-backed A/B device (`device_dir`): provisioning, updates on trial, confirmation,
//! reversion, persistence across reopening, and refusals that leave the directory byte for byte
//! as it was.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};
use iot_update_manifest::builder::{Cmd, Description, Digest, Param, Unsigned};
use iot_update_manifest::device_dir::{DirDevice, DirError, Identity, format_uuid, parse_uuid};
use iot_update_manifest::{Command, Error, PlatformError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const VENDOR: [u8; 16] = [0xfa; 16];
const CLASS: [u8; 16] = [0x14; 16];
const V1: &[u8] = b"firmware 1.0, the factory image";
const V2: &[u8] = b"firmware 2.0, the update";
const V3: &[u8] = b"firmware 3.0, which never confirms";

fn identity() -> Identity {
    Identity {
        vendor_id: VENDOR,
        class_id: CLASS,
        device_id: None,
    }
}

fn vendor_key() -> P256SigningKey {
    P256SigningKey::from_bytes(&[0x42; 32]).unwrap()
}

fn public() -> P256VerifyingKey {
    vendor_key().verifying_key()
}

/// An update of component [h'00'] to `image`, fetched from `uri` (integrated when it starts with
/// '#'), checked against its digest, validated again at boot and invoked; for `class`.
fn update_for(seq: u64, image: &[u8], uri: &str, class: [u8; 16]) -> Vec<u8> {
    let mut unsigned = unsigned_update(seq, image, uri, class);
    unsigned
        .sign(
            &mut RustCrypto::from_os(),
            &mut vendor_key(),
            Algorithm::Es256,
            None,
        )
        .unwrap();
    unsigned.to_bytes().unwrap()
}

/// [`update_for`] before it is signed.
fn unsigned_update(seq: u64, image: &[u8], uri: &str, class: [u8; 16]) -> Unsigned {
    let mut crypto = RustCrypto::from_os();
    let mut d = Description::new(seq, vec![vec![vec![0x00]]]);
    d.shared_sequence = Some(vec![
        Cmd::OverrideParameters(vec![
            Param::VendorId(VENDOR.to_vec()),
            Param::ClassId(class.to_vec()),
            Param::ImageDigest(Digest::sha256(&mut crypto, image)),
            Param::ImageSize(image.len() as u64),
        ]),
        Cmd::Policy(Command::VendorIdentifier, 15),
        Cmd::Policy(Command::ClassIdentifier, 15),
    ]);
    d.install = Some(vec![
        Cmd::OverrideParameters(vec![Param::Uri(uri.into())]),
        Cmd::Policy(Command::Fetch, 2),
        Cmd::Policy(Command::ImageMatch, 15),
    ]);
    d.validate = Some(vec![Cmd::Policy(Command::ImageMatch, 15)]);
    d.invoke = Some(vec![Cmd::Policy(Command::Invoke, 2)]);
    if uri.starts_with('#') {
        d.integrated.push((uri.into(), image.to_vec()));
    }
    d.encode(&mut crypto).unwrap()
}

fn update(seq: u64, image: &[u8], uri: &str) -> Vec<u8> {
    update_for(seq, image, uri, CLASS)
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    b"<dir>".to_vec(),
                );
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn installed(dev: &DirDevice, slot: u8) -> Option<Vec<u8>> {
    dev.component(Some(slot), &[&[0x00]])
}

/// A device provisioned with V1 (integrated) in slot 0.
fn provisioned(dir: &Path) -> DirDevice {
    let mut dev = DirDevice::init(dir, &identity()).unwrap();
    let mut crypto = RustCrypto::from_os();
    let i = dev
        .install(&mut crypto, public(), &update(1, V1, "#fw"))
        .unwrap();
    assert_eq!((i.slot, i.sequence, i.provisioned), (0, 1, true));
    dev
}

#[test]
fn init_writes_the_identity_and_refuses_a_second_device_or_user() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let id = Identity {
        device_id: Some([7; 16]),
        ..identity()
    };
    let dev = DirDevice::init(&dir, &id).unwrap();
    assert_eq!(*dev.identity(), id);
    assert_eq!(dev.boot_state(), None);
    assert_eq!(dev.trust_anchor(), None);
    let text = std::fs::read_to_string(dir.join("identity")).unwrap();
    assert!(
        text.contains("vendor-id fafafafa-fafa-fafa-fafa-fafafafafafa"),
        "{text}"
    );
    assert!(text.contains("device-id 07070707-"), "{text}");
    // The lock: a second opener is refused while the first holds the device.
    assert!(matches!(DirDevice::open(&dir), Err(DirError::Locked(_))));
    drop(dev);
    assert_eq!(*DirDevice::open(&dir).unwrap().identity(), id);
    assert!(matches!(
        DirDevice::init(&dir, &id),
        Err(DirError::NotEmpty(_))
    ));
    // A folder that is not a device.
    assert!(matches!(
        DirDevice::open(tmp.path()),
        Err(DirError::Io { .. })
    ));
    // Damaged files are named, not guessed at.
    std::fs::write(dir.join("state"), "active-slot 2\nactive-sequence 1\n").unwrap();
    let e = DirDevice::open(&dir).unwrap_err();
    assert!(
        matches!(&e, DirError::Invalid { path, .. } if path.ends_with("state")),
        "{e}"
    );
    std::fs::write(dir.join("identity"), "vendor-id nope\n").unwrap();
    assert!(matches!(
        DirDevice::open(&dir),
        Err(DirError::Invalid { .. })
    ));

    assert_eq!(
        parse_uuid("fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe").map(|u| format_uuid(&u)),
        Some("fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe".to_owned())
    );
    assert_eq!(parse_uuid("fa6b4a53d5ad5fdfbe9de663e4d41ffe"), None);
    assert_eq!(parse_uuid("fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffg"), None);
}

#[test]
fn provision_update_boot_confirm_and_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let mut crypto = RustCrypto::from_os();
    let mut dev = provisioned(&dir);
    assert_eq!(dev.trust_anchor(), Some(public()));
    assert_eq!(dev.sequence_number(), Some(1));
    assert_eq!(installed(&dev, 0).as_deref(), Some(V1));
    assert!(dir.join("slot0/00").is_file() && dir.join("slot0.suit").is_file());

    let b = dev.boot(&mut crypto, false).unwrap();
    assert_eq!(
        (b.booted.slot, b.booted.tentative, b.confirmed),
        (0, false, false)
    );
    assert_eq!(dev.invoked().len(), 1);
    assert_eq!(dev.invoked()[0].file, Path::new("slot0/00"));

    // The update is fetched from a file.
    let fw2 = tmp.path().join("fw2.bin");
    std::fs::write(&fw2, V2).unwrap();
    dev.serve("coap://fw.example/2", &fw2);
    let i = dev
        .install(&mut crypto, public(), &update(2, V2, "coap://fw.example/2"))
        .unwrap();
    assert_eq!((i.slot, i.sequence, i.provisioned), (1, 2, false));
    assert_eq!(installed(&dev, 1).as_deref(), Some(V2));
    // A second update waits for the trial to be decided.
    assert_eq!(
        dev.install(&mut crypto, public(), &update(3, V3, "#fw"))
            .unwrap_err()
            .to_string(),
        Error::TrialPending.to_string()
    );
    drop(dev);

    // Everything is on disk: a new process boots the trial and confirms it.
    let mut dev = DirDevice::open(&dir).unwrap();
    let state = std::fs::read_to_string(dir.join("state")).unwrap();
    assert!(state.contains("trial 1 2 pending"), "{state}");
    let b = dev.boot(&mut crypto, true).unwrap();
    assert_eq!((b.booted.slot, b.booted.sequence), (1, 2));
    assert!(b.booted.tentative && b.confirmed && b.booted.reverted.is_none());
    assert_eq!(dev.invoked()[0].file, Path::new("slot1/00"));
    assert_eq!(dev.sequence_number(), Some(2));
    drop(dev);
    let mut dev = DirDevice::open(&dir).unwrap();
    let b = dev.boot(&mut crypto, false).unwrap();
    assert_eq!((b.booted.slot, b.booted.tentative), (1, false));
    let state = dev.boot_state().unwrap();
    assert_eq!(
        (state.active, state.active_sequence, state.trial),
        (1, 2, None)
    );
}

#[test]
fn an_unconfirmed_trial_reverts_at_the_next_boot() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let mut crypto = RustCrypto::from_os();
    let mut dev = provisioned(&dir);
    dev.install(&mut crypto, public(), &update(3, V3, "#fw"))
        .unwrap();
    let b = dev.boot(&mut crypto, false).unwrap();
    assert_eq!((b.booted.slot, b.booted.tentative), (1, true));
    drop(dev);
    // The application never confirmed: the next boot goes back to slot 0.
    let mut dev = DirDevice::open(&dir).unwrap();
    let b = dev.boot(&mut crypto, true).unwrap();
    assert_eq!((b.booted.slot, b.booted.sequence), (0, 1));
    assert!(b.booted.reverted.is_some() && !b.booted.tentative && !b.confirmed);
    assert_eq!(dev.invoked()[0].file, Path::new("slot0/00"));
    assert_eq!(dev.sequence_number(), Some(1), "the counter never moved");
    // The same update may be tried again.
    let i = dev
        .install(&mut crypto, public(), &update(3, V3, "#fw"))
        .unwrap();
    assert_eq!((i.slot, i.sequence), (1, 3));
}

#[test]
fn refused_installs_and_boots_leave_the_directory_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let mut crypto = RustCrypto::from_os();

    // A first install that fails leaves no trust anchor and no image behind.
    let mut dev = DirDevice::init(&dir, &identity()).unwrap();
    let fresh = snapshot(&dir);
    let bad = dev.install(&mut crypto, public(), &update_for(1, V1, "#fw", [9; 16]));
    assert!(matches!(
        bad,
        Err(DirError::Suit(Error::ConditionFailed(
            Command::ClassIdentifier
        )))
    ));
    assert!(matches!(
        dev.boot(&mut crypto, false),
        Err(DirError::NotProvisioned)
    ));
    assert_eq!(snapshot(&dir), fresh);
    drop(dev);
    std::fs::remove_dir_all(&dir).unwrap();

    let mut dev = provisioned(&dir);
    let fw2 = tmp.path().join("fw2.bin");
    std::fs::write(&fw2, V2).unwrap();
    dev.serve("coap://fw.example/2", &fw2);
    dev.install(&mut crypto, public(), &update(2, V2, "coap://fw.example/2"))
        .unwrap();
    dev.boot(&mut crypto, true).unwrap();
    let before = snapshot(&dir);

    let corrupted = tmp.path().join("corrupted.bin");
    let mut image = V3.to_vec();
    image[5] ^= 1;
    std::fs::write(&corrupted, &image).unwrap();
    dev.serve("coap://fw.example/3", &corrupted);
    dev.serve("coap://fw.example/gone", tmp.path().join("missing.bin"));
    // A bit of the authentication wrapper's digest.
    let mut tampered = update(3, V3, "#fw");
    tampered[20] ^= 1;
    let other = P256SigningKey::from_bytes(&[0x43; 32])
        .unwrap()
        .verifying_key();

    let cases: Vec<(&str, P256VerifyingKey, Vec<u8>)> = vec![
        ("rollback", public(), update(1, V1, "#fw")),
        ("replay", public(), update(2, V2, "#fw")),
        (
            "corrupted image",
            public(),
            update(3, V3, "coap://fw.example/3"),
        ),
        (
            "missing payload",
            public(),
            update(3, V3, "coap://fw.example/gone"),
        ),
        ("unknown URI", public(), update(3, V3, "coap://elsewhere/3")),
        ("tampered", public(), tampered),
        ("other key", other, update(3, V3, "#fw")),
        ("other class", public(), update_for(3, V3, "#fw", [9; 16])),
    ];
    for (what, key, envelope) in cases {
        // Each refusal is checked before the next install runs.
        let r = dev.install(&mut crypto, key, &envelope);
        let e = r.err().unwrap_or_else(|| panic!("{what} accepted"));
        match what {
            "rollback" | "replay" => {
                assert!(matches!(e, DirError::Suit(Error::Rollback)), "{what}: {e}")
            }
            "corrupted image" => assert!(
                matches!(
                    e,
                    DirError::Suit(Error::ConditionFailed(Command::ImageMatch))
                ),
                "{what}: {e}"
            ),
            "missing payload" => assert!(
                matches!(&e, DirError::Io { path, .. } if path.ends_with("missing.bin")),
                "{what}: {e}"
            ),
            "unknown URI" => assert!(
                matches!(
                    e,
                    DirError::Suit(Error::Platform(PlatformError::Unavailable))
                ),
                "{what}: {e}"
            ),
            "other key" => assert!(matches!(e, DirError::NotTrustAnchor), "{what}: {e}"),
            _ => assert!(matches!(e, DirError::Suit(_)), "{what}: {e}"),
        }
        assert_eq!(snapshot(&dir), before, "{what} changed the device");
    }
    // The device still installs a good update.
    dev.install(&mut crypto, public(), &update(3, V3, "#fw"))
        .unwrap();
    assert_ne!(snapshot(&dir), before);
}

#[test]
fn a_crash_leaves_the_previous_state() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let mut crypto = RustCrypto::from_os();
    let dev = provisioned(&dir);
    drop(dev);
    // A crash during an update: the new image reached slot 1 and a temporary state file was
    // being written when the power went. The renamed state file is the switch, so the device
    // still boots slot 0, and the half-written file is never read.
    std::fs::create_dir_all(dir.join("slot1")).unwrap();
    std::fs::write(dir.join("slot1/00"), V2).unwrap();
    std::fs::write(dir.join(".state.tmp"), "active-slot 1\nactive-seq").unwrap();
    let mut dev = DirDevice::open(&dir).unwrap();
    let b = dev.boot(&mut crypto, true).unwrap();
    assert_eq!((b.booted.slot, b.booted.sequence), (0, 1));
    // A later update overwrites both.
    dev.install(&mut crypto, public(), &update(2, V2, "#fw"))
        .unwrap();
    assert!(!dir.join(".state.tmp").exists());
    // A slot's envelope replaced behind the device's back is refused at boot and the trial
    // reverts (the signature is checked again at every boot).
    let mut envelope = std::fs::read(dir.join("slot1.suit")).unwrap();
    envelope[20] ^= 1;
    std::fs::write(dir.join("slot1.suit"), &envelope).unwrap();
    let b = dev.boot(&mut crypto, true).unwrap();
    assert_eq!((b.booted.slot, b.booted.reverted.is_some()), (0, true));
}

#[test]
fn ranged_fetch_reads_the_served_file_at_an_offset() {
    use iot_update_manifest::Platform;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let mut dev = DirDevice::init(&dir, &identity()).unwrap();
    let fw = tmp.path().join("fw.bin");
    std::fs::write(&fw, b"0123456789").unwrap();
    dev.serve("coap://fw.example/enc", &fw);
    let mut buf = [0u8; 4];
    assert_eq!(dev.fetch_range("coap://fw.example/enc", 3, &mut buf), Ok(4));
    assert_eq!(&buf, b"3456");
    assert_eq!(dev.fetch_range("coap://fw.example/enc", 8, &mut buf), Ok(2));
    assert_eq!(&buf[..2], b"89");
    assert_eq!(
        dev.fetch_range("coap://fw.example/enc", 10, &mut buf),
        Ok(0)
    );
    assert_eq!(
        dev.fetch_range("coap://fw.example/other", 0, &mut buf),
        Err(PlatformError::Unavailable)
    );
}

/// An update whose image is encrypted by the builder (A128KW + A128GCM, integrated): installed
/// and booted on trial with the device's decryption key (kept across reopening), the plaintext
/// lands in the slot; without a key, or with another, it is refused and the directory is byte
/// for byte as it was. A malformed key file is refused when the device opens.
#[test]
fn encrypted_updates_install_with_the_decryption_key() {
    use iot_update_manifest::builder::encrypt::{Encryption, KeyDistribution, encrypt};
    use iot_update_manifest::device_dir::DecryptionKey;
    const KEK: [u8; 16] = *b"device 7 A128KW.";
    let encrypted_update = |seq: u64, image: &[u8]| {
        let mut crypto = RustCrypto::from_os();
        let how = Encryption {
            content: Algorithm::A128Gcm,
            distribution: KeyDistribution::A128Kw { kek: &KEK },
            kid: None,
            cek: None,
            iv: None,
        };
        let e = encrypt(&mut crypto, image, &how).unwrap();
        let mut d = Description::new(seq, vec![vec![vec![0x00]]]);
        d.install = Some(vec![
            Cmd::OverrideParameters(vec![
                Param::Uri("#fw".into()),
                Param::ImageDigest(Digest::sha256(&mut crypto, image)),
                Param::ImageSize(image.len() as u64),
                Param::EncryptionInfo(e.info),
            ]),
            Cmd::Policy(Command::Fetch, 2),
            Cmd::Policy(Command::ImageMatch, 15),
        ]);
        d.integrated.push(("#fw".into(), e.ciphertext));
        let mut unsigned = d.encode(&mut crypto).unwrap();
        unsigned
            .sign(&mut crypto, &mut vendor_key(), Algorithm::Es256, None)
            .unwrap();
        unsigned.to_bytes().unwrap()
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    let mut crypto = RustCrypto::from_os();
    {
        let _ = provisioned(&dir);
    }
    let envelope = encrypted_update(2, V2);

    // No key yet: refused, nothing changed.
    let before = snapshot(&dir);
    let mut dev = DirDevice::open(&dir).unwrap();
    let e = dev.install(&mut crypto, public(), &envelope).unwrap_err();
    assert!(matches!(e, DirError::Suit(_)), "{e:?}");
    drop(dev);
    assert_eq!(snapshot(&dir), before);

    // Another key: refused, nothing changed (the key file aside).
    let mut dev = DirDevice::open(&dir).unwrap();
    dev.set_decryption_key(DecryptionKey::A128Kw([0x55; 16].into()))
        .unwrap();
    let before = snapshot(&dir);
    assert!(dev.install(&mut crypto, public(), &envelope).is_err());
    drop(dev);
    assert_eq!(snapshot(&dir), before);

    // The key: installed on trial, decrypted, and it boots; the key survives reopening.
    let mut dev = DirDevice::open(&dir).unwrap();
    dev.set_decryption_key(DecryptionKey::A128Kw(KEK.into()))
        .unwrap();
    drop(dev);
    let mut dev = DirDevice::open(&dir).unwrap();
    let i = dev.install(&mut crypto, public(), &envelope).unwrap();
    assert_eq!((i.slot, i.sequence, i.provisioned), (1, 2, false));
    assert_eq!(installed(&dev, 1).as_deref(), Some(V2));
    let b = dev.boot(&mut crypto, true).unwrap();
    assert_eq!((b.booted.slot, b.confirmed), (1, true));
    drop(dev);

    // A key file that is not one: the device does not open.
    std::fs::write(dir.join("decryption-key"), "A128KW 0011\n").unwrap();
    assert!(matches!(
        DirDevice::open(&dir),
        Err(DirError::Invalid { .. })
    ));
}

/// The device's own text files (identity, state, decryption key), replaced by arbitrary bytes or
/// by a valid file with one byte changed: opening the device never panics; it opens, or it is
/// refused naming the file (`Invalid`, or `Io` for bytes that are not UTF-8).
#[test]
fn damaged_device_files_are_refused_not_panicked_on() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dev");
    {
        let mut dev = provisioned(&dir);
        dev.set_decryption_key(iot_update_manifest::device_dir::DecryptionKey::A128Kw(
            [7; 16].into(),
        ))
        .unwrap();
    }
    let originals: Vec<(&str, Vec<u8>)> = ["identity", "state", "decryption-key"]
        .into_iter()
        .map(|f| (f, std::fs::read(dir.join(f)).unwrap()))
        .collect();
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let strategy = (
        0..originals.len(),
        prop::collection::vec(any::<u8>(), 0..80),
        any::<bool>(),
        any::<usize>(),
        any::<u8>(),
    );
    runner
        .run(&strategy, |(file, random, edit, at, byte)| {
            let (name, original) = &originals[file];
            let content = if edit && !original.is_empty() {
                let mut c = original.clone();
                c[at % original.len()] = byte;
                c
            } else {
                random
            };
            std::fs::write(dir.join(name), &content).unwrap();
            let opened = DirDevice::open(&dir);
            std::fs::write(dir.join(name), original).unwrap();
            match opened {
                Ok(_) | Err(DirError::Invalid { .. }) | Err(DirError::Io { .. }) => Ok(()),
                Err(e) => Err(TestCaseError::fail(format!("{name}: {e:?}"))),
            }
        })
        .unwrap();
    DirDevice::open(&dir).unwrap();
}

/// `install_reported` installs exactly as `install` does and hands back the device's
/// `SUIT_Report`, read here as a rollout server reads it (`rollout::DeviceReport::decode`) and
/// as CBOR.
#[test]
fn installs_report_their_outcome() {
    use iot_update_manifest::Envelope;
    use iot_update_manifest::report::Reason;
    use iot_update_manifest::rollout::{DeviceReport, Outcome};
    let tmp = tempfile::tempdir().unwrap();
    let mut crypto = RustCrypto::from_os();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (mut reported, mut plain) = (provisioned(&a), provisioned(&b));
    let v2 = update(2, V2, "#fw");
    let digest = Envelope::decode(&v2).unwrap().digest().bytes.to_vec();

    let (done, report) = reported.install_reported(&mut crypto, public(), &v2, Some(b"nonce-1"));
    let done = done.unwrap();
    assert_eq!(done, plain.install(&mut crypto, public(), &v2).unwrap());
    assert_eq!(
        snapshot(&a).values().collect::<Vec<_>>(),
        snapshot(&b).values().collect::<Vec<_>>(),
        "the same files as a plain install"
    );
    let read = DeviceReport::decode("a", &report).unwrap();
    assert_eq!(
        (read.digest, read.outcome),
        (digest.clone(), Outcome::Success)
    );
    // {suit-report-nonce: 'nonce-1', suit-report-records: [the records the policies asked
    // for: vendor, class and image-match, each with policy 15], ...}.
    assert_eq!(
        report[0], 0xa4,
        "a map of nonce, records, result and reference"
    );
    assert!(report.windows(7).any(|w| w == b"nonce-1"));
    assert!(
        report.windows(16).any(|w| w == VENDOR),
        "the vendor id record"
    );

    // Refused, once V2 is confirmed: a rollback, another key, an image that is not the one the
    // digest names, and no envelope at all. Each leaves the directory as it was and reports why.
    reported.boot(&mut crypto, true).unwrap();
    let before = snapshot(&a);
    let mut wrong_image = update(3, V3, "#fw");
    let at = wrong_image.windows(V3.len()).position(|w| w == V3).unwrap();
    wrong_image[at] ^= 1;
    let other = P256SigningKey::from_bytes(&[0x43; 32])
        .unwrap()
        .verifying_key();
    let v1 = update(1, V1, "#fw");
    let cases: [(&[u8], P256VerifyingKey, Reason); 4] = [
        (&v1, public(), Reason::Unauthorised),
        (&v2, other, Reason::Unauthorised),
        (&wrong_image, public(), Reason::ConditionFailed),
        (b"not an envelope", public(), Reason::CborParse),
    ];
    for (envelope, key, reason) in cases {
        let (done, report) = reported.install_reported(&mut crypto, key, envelope, None);
        assert!(done.is_err());
        assert_eq!(snapshot(&a), before);
        let read = DeviceReport::decode("a", &report).unwrap();
        let Outcome::Failure { reason: got, .. } = read.outcome else {
            panic!("{:?}", read.outcome);
        };
        assert_eq!(got, Some(reason));
        let claimed = Envelope::decode(envelope).map(|e| e.digest().bytes.to_vec());
        assert_eq!(read.digest, claimed.unwrap_or_default());
    }
}

/// `boot_reported` boots exactly as `boot` does and reports the trial the boot settled, as a
/// rollout server reads it: the failure of a trial that was never confirmed or that failed its
/// boot, the success of a confirmed one, and nothing when no trial was settled.
#[test]
fn boots_report_the_trial_they_settle() {
    use iot_update_manifest::Envelope;
    use iot_update_manifest::report::Reason;
    use iot_update_manifest::rollout::{DeviceReport, Outcome};
    let tmp = tempfile::tempdir().unwrap();
    let mut crypto = RustCrypto::from_os();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    // The reporting device and a plain one, which must stay alike.
    let mut devs = [provisioned(&a), provisioned(&b)];
    fn both(devs: &mut [DirDevice; 2], confirm: bool, nonce: Option<&[u8]>) -> Option<Vec<u8>> {
        let mut crypto = RustCrypto::from_os();
        let [reported, plain] = devs;
        let (done, report) = reported.boot_reported(&mut crypto, confirm, nonce);
        assert_eq!(done.unwrap(), plain.boot(&mut crypto, confirm).unwrap());
        report
    }
    let install = |devs: &mut [DirDevice; 2], envelope: &[u8]| {
        for dev in devs {
            dev.install(&mut RustCrypto::from_os(), public(), envelope)
                .unwrap();
        }
    };
    let digest = |e: &[u8]| Envelope::decode(e).unwrap().digest().bytes.to_vec();
    let v2 = update(2, V2, "#fw");
    let same_files = |why: &str| {
        assert_eq!(
            snapshot(&a).values().collect::<Vec<_>>(),
            snapshot(&b).values().collect::<Vec<_>>(),
            "{why}: the same files as a plain boot"
        );
    };
    let outcome = |report: Option<Vec<u8>>| {
        let read = DeviceReport::decode("a", &report.expect("a report")).unwrap();
        (read.digest, read.outcome)
    };

    // No trial: nothing settled.
    assert_eq!(both(&mut devs, true, None), None);
    install(&mut devs, &v2);
    // The trial boots and is not confirmed: not settled yet.
    assert_eq!(both(&mut devs, false, None), None);
    same_files("a tentative boot");
    // The next boot abandons it.
    let failure = Outcome::Failure {
        reason: Some(Reason::OperationFailed),
        code: 0,
    };
    assert_eq!(
        outcome(both(&mut devs, true, Some(b"n-1"))),
        (digest(&v2), failure)
    );
    same_files("a reverting boot");

    // Tried again, and confirmed at its first boot.
    install(&mut devs, &v2);
    let report = both(&mut devs, true, Some(b"n-2"));
    assert!(report.as_ref().unwrap().windows(3).any(|w| w == b"n-2"));
    assert_eq!(outcome(report), (digest(&v2), Outcome::Success));
    same_files("a confirming boot");
    assert_eq!(both(&mut devs, true, None), None, "the known-good image");

    // A trial whose image was damaged fails its boot: the condition that failed is reported.
    let v3 = update(3, V3, "#fw");
    let [reported, _] = &mut devs;
    reported.install(&mut crypto, public(), &v3).unwrap();
    let image = a.join("slot0/00");
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&image, bytes).unwrap();
    let (done, report) = reported.boot_reported(&mut crypto, true, None);
    let t = done.unwrap().booted.reverted.unwrap();
    assert_eq!((t.slot, t.sequence), (0, 3));
    assert_eq!(
        outcome(report),
        (
            digest(&v3),
            Outcome::Failure {
                reason: Some(Reason::ConditionFailed),
                code: Command::ImageMatch.code()
            }
        )
    );
}

/// `set_clock`: an update signed by a key the trust anchor delegated to until `exp` installs on a
/// device whose clock is before `exp`, and is refused, the directory untouched, on one without a
/// clock or at `exp`.
#[test]
fn the_clock_decides_a_time_limited_delegation() {
    let dir = tempfile::tempdir().unwrap();
    let mut dev = provisioned(dir.path());
    let mut crypto = RustCrypto::from_os();
    let mut delegate = P256SigningKey::from_bytes(&[0x43; 32]).unwrap();
    let exp: u32 = 1_900_000_000;
    // Signed by the trust anchor.
    let sec1 = delegate.verifying_key().to_sec1_uncompressed();
    let claims = iot_test_vectors::cnf_claims(&sec1[1..33], &sec1[33..], Some(exp));
    let mut cwt = vec![0u8; 256];
    let n = iot_core::cose::Sign1Builder::new(Algorithm::Es256)
        .sign(&mut crypto, &mut vendor_key(), &claims, &[], &mut cwt)
        .unwrap();
    cwt.truncate(n);
    let mut unsigned = unsigned_update(2, V2, "#fw2", CLASS);
    unsigned
        .sign(&mut crypto, &mut delegate, Algorithm::Es256, None)
        .unwrap();
    unsigned.delegate(&[vec![cwt]]).unwrap();
    let envelope = unsigned.to_bytes().unwrap();

    let before = snapshot(dir.path());
    for clock in [None, Some(u64::from(exp))] {
        dev.set_clock(clock);
        assert!(
            matches!(
                dev.install(&mut crypto, public(), &envelope),
                Err(DirError::Suit(Error::Delegation(_)))
            ),
            "{clock:?}"
        );
        assert_eq!(snapshot(dir.path()), before, "{clock:?}");
    }
    dev.set_clock(Some(u64::from(exp) - 1));
    let i = dev.install(&mut crypto, public(), &envelope).unwrap();
    assert_eq!((i.slot, i.sequence), (1, 2));
    let report = dev.boot(&mut crypto, true).unwrap();
    assert!(report.confirmed);
    assert_eq!(installed(&dev, 1).as_deref(), Some(V2));
}
