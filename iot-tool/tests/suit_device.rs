//! `iot-tool suit device-init`, `suit install`, `suit boot` and `suit rollout`, run as a user
//! runs them: a device kept in a directory is provisioned, updated on trial, confirmed or
//! reverted, and every refused install (rollback, replay, corrupted image, tampered envelope,
//! other key, other class, missing payload) leaves the directory's hash unchanged; a fleet of
//! such devices reports its installs to a staged rollout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::{CLASS, VENDOR, fails, keygen, ok, run, s, suit_create};
use iot_core::crypto::{RustCrypto, Sha256};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Expects success and one line on stdout.
fn one_line(args: &[&str]) -> String {
    let text = ok(args);
    assert_eq!(text.lines().count(), 1, "not one line: {text:?}");
    text
}

const OTHER_CLASS: &str = "3f7e1b22-0c4d-4a1e-9b5f-2d8c6e0a7b19";

/// An update of component [h'00'] to `image` (a file), fetched from `uri` (integrated when it
/// starts with '#'), checked after the fetch and at every boot, then invoked.
fn description(sequence: u64, image: &str, uri: &str, class: &str) -> String {
    let integrated = if uri.starts_with('#') {
        format!(r#", "integrated": {{"{uri}": {{"file": "{image}"}}}}"#)
    } else {
        String::new()
    };
    format!(
        r#"{{
  "sequence-number": {sequence},
  "components": [["00"]],
  "shared-sequence": [
    {{"directive-override-parameters": {{"vendor-id": "{VENDOR}", "class-id": "{class}",
                                        "image": {{"file": "{image}"}}}}}},
    {{"condition-vendor-identifier": 15}},
    {{"condition-class-identifier": 15}}
  ],
  "validate": [{{"condition-image-match": 15}}],
  "invoke": [{{"directive-invoke": 2}}],
  "install": [
    {{"directive-override-parameters": {{"uri": "{uri}"}}}},
    {{"directive-fetch": 2}},
    {{"condition-image-match": 15}}
  ]{integrated}
}}"#
    )
}

const FW1: &[u8] = b"firmware 1.0, the factory image";
const FW2: &[u8] = b"firmware 2.0, the update";
const FW3: &[u8] = b"firmware 3.0, the next update";
const URI2: &str = "coap://fw.example/2.bin";
const URI3: &str = "coap://fw.example/3.bin?variant=a";

/// A folder with the vendor's key pair, another key pair, the images, the signed envelopes
/// v1 (integrated), v2 and v3 (fetched), v3 for another class, and an initialised device.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for name in ["vendor", "other"] {
            keygen(p, name);
        }
        for (file, image) in [("fw1.bin", FW1), ("fw2.bin", FW2), ("fw3.bin", FW3)] {
            std::fs::write(p.join(file), image).unwrap();
        }
        let envelopes = [
            ("v1", description(1, "fw1.bin", "#fw", CLASS)),
            ("v2", description(2, "fw2.bin", URI2, CLASS)),
            ("v3", description(3, "fw3.bin", URI3, CLASS)),
            (
                "v3-other-class",
                description(3, "fw3.bin", URI3, OTHER_CLASS),
            ),
        ];
        for (name, json) in envelopes {
            let desc = p.join(format!("{name}.json"));
            std::fs::write(&desc, json).unwrap();
            ok(&suit_create(
                &p.join("vendor.pem"),
                &desc,
                &p.join(format!("{name}.suit")),
            ));
        }
        let t = Self { dir };
        let line = one_line(&[
            "suit",
            "device-init",
            "--device",
            s(&t.device()),
            "--vendor-id",
            VENDOR,
            "--class-id",
            CLASS,
        ]);
        assert!(line.contains("device initialised"), "{line}");
        assert!(line.contains(&format!("class-id {CLASS}")), "{line}");
        t
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn device(&self) -> PathBuf {
        self.path("device")
    }

    /// `suit install --key vendor.pub.pem <name>.suit --device DIR [--fetch ...]`.
    fn install(&self, key: &str, name: &str, fetch: &[String]) -> Output {
        self.install_with(key, name, fetch, &[])
    }

    /// [`Setup::install`] with `extra` arguments.
    fn install_with(&self, key: &str, name: &str, fetch: &[String], extra: &[&str]) -> Output {
        let (key, env, dev) = (
            self.path(&format!("{key}.pub.pem")),
            self.path(&format!("{name}.suit")),
            self.device(),
        );
        let mut args = vec![
            "suit",
            "install",
            "--key",
            s(&key),
            s(&env),
            "--device",
            s(&dev),
        ];
        for f in fetch {
            args.extend(["--fetch", f.as_str()]);
        }
        args.extend(extra);
        run(&args)
    }

    /// `suit install` of v2 (served) with `--report FILE` and `extra` arguments.
    fn install_reported(&self, report: &Path, extra: &[&str]) -> Output {
        let fetch = [self.fetch(URI2, "fw2.bin")];
        let mut args = vec!["--report", s(report)];
        args.extend(extra);
        self.install_with("vendor", "v2", &fetch, &args)
    }

    fn installs(&self, name: &str, fetch: &[String]) -> String {
        let out = self.install("vendor", name, fetch);
        assert!(
            out.status.success(),
            "install {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.lines().count(), 1, "not one line: {text:?}");
        text
    }

    fn boot(&self, confirm: bool) -> String {
        let dev = self.device();
        let mut args = vec!["suit", "boot", "--device", s(&dev)];
        if confirm {
            args.push("--confirm");
        }
        one_line(&args)
    }

    fn fetch(&self, uri: &str, file: &str) -> String {
        format!("{uri}={}", s(&self.path(file)))
    }

    /// The SHA-256 over every file of the device directory: relative names and bytes, in order.
    fn hash(&self) -> [u8; 32] {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                if p.is_dir() {
                    out.push((rel, b"<dir>".to_vec()));
                    walk(root, &p, out);
                } else {
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.device(), &self.device(), &mut files);
        files.sort();
        let mut all = Vec::new();
        for (p, data) in files {
            all.extend(s(&p).as_bytes());
            all.push(0);
            all.extend((data.len() as u64).to_be_bytes());
            all.extend(data);
        }
        RustCrypto::from_os().sha256(&all)
    }
}

#[test]
fn install_provisions_then_updates_on_trial_and_boot_confirms() {
    let t = Setup::new();
    let line = t.installs("v1", &[]);
    assert!(
        line.contains("sequence number 1 installed in slot 0 (provisioned"),
        "{line}"
    );
    let line = t.boot(false);
    assert!(
        line.contains("booted slot 0 (sequence number 1, known-good); invoked slot0/00"),
        "{line}"
    );
    assert_eq!(std::fs::read(t.device().join("slot0/00")).unwrap(), FW1);

    let line = t.installs("v2", &[t.fetch(URI2, "fw2.bin")]);
    assert!(
        line.contains("sequence number 2 installed in slot 1 (on trial"),
        "{line}"
    );
    assert_eq!(std::fs::read(t.device().join("slot1/00")).unwrap(), FW2);
    // Nothing else goes in while the trial is pending.
    let e = String::from_utf8(
        t.install("vendor", "v3", &[t.fetch(URI3, "fw3.bin")])
            .stderr,
    )
    .unwrap();
    assert!(e.contains("a tentative image awaits confirmation"), "{e}");

    let line = t.boot(true);
    assert!(
        line.contains("booted slot 1 (sequence number 2, confirmed"),
        "{line}"
    );
    assert!(line.contains("invoked slot1/00"), "{line}");
    let state = std::fs::read_to_string(t.device().join("state")).unwrap();
    assert!(state.contains("active-slot 1"), "{state}");
    assert!(state.contains("sequence-number none 2"), "{state}");
    let line = t.boot(false);
    assert!(
        line.contains("booted slot 1 (sequence number 2, known-good)"),
        "{line}"
    );
    // The next update goes to slot 0; the URI has an '=' of its own.
    let line = t.installs("v3", &[t.fetch(URI3, "fw3.bin")]);
    assert!(line.contains("installed in slot 0"), "{line}");
}

#[test]
fn an_unconfirmed_image_reverts_at_the_next_boot() {
    let t = Setup::new();
    t.installs("v1", &[]);
    t.installs("v2", &[t.fetch(URI2, "fw2.bin")]);
    let line = t.boot(false);
    assert!(
        line.contains("booted slot 1 (sequence number 2, on trial, not confirmed"),
        "{line}"
    );
    // --confirm at the next boot is too late: the trial had its boot.
    let line = t.boot(true);
    assert!(
        line.contains(
            "trial of sequence number 2 abandoned (the tentative image booted and was not confirmed); booted slot 0 (sequence number 1, known-good); invoked slot0/00"
        ),
        "{line}"
    );
    let state = std::fs::read_to_string(t.device().join("state")).unwrap();
    assert!(state.contains("sequence-number none 1"), "{state}");
    assert!(!state.contains("trial"), "{state}");
}

#[test]
fn refused_installs_leave_the_directory_byte_for_byte_unchanged() {
    let t = Setup::new();
    // A refused first install does not provision anything (no trust anchor either).
    let fresh = t.hash();
    let e = String::from_utf8(
        t.install("vendor", "v3-other-class", &[t.fetch(URI3, "fw3.bin")])
            .stderr,
    )
    .unwrap();
    assert!(
        e.contains("refused: condition class-identifier (2) failed"),
        "{e}"
    );
    assert_eq!(t.hash(), fresh);

    t.installs("v1", &[]);
    t.installs("v2", &[t.fetch(URI2, "fw2.bin")]);
    t.boot(true);
    let before = t.hash();

    let mut corrupted = FW3.to_vec();
    corrupted[3] ^= 0x20;
    std::fs::write(t.path("corrupted.bin"), &corrupted).unwrap();
    let mut tampered = std::fs::read(t.path("v3.suit")).unwrap();
    tampered[20] ^= 1;
    std::fs::write(t.path("tampered.suit"), &tampered).unwrap();

    let cases: [(&str, &str, &str, Vec<String>, &str); 7] = [
        (
            "rollback",
            "vendor",
            "v1",
            vec![],
            "is not newer than the stored one",
        ),
        (
            "replay",
            "vendor",
            "v2",
            vec![t.fetch(URI2, "fw2.bin")],
            "is not newer than the stored one",
        ),
        (
            "corrupted image",
            "vendor",
            "v3",
            vec![t.fetch(URI3, "corrupted.bin")],
            "condition image-match (3) failed",
        ),
        (
            "tampered envelope",
            "vendor",
            "tampered",
            vec![t.fetch(URI3, "fw3.bin")],
            "refused",
        ),
        (
            "other key",
            "other",
            "v3",
            vec![t.fetch(URI3, "fw3.bin")],
            "not the device's trust anchor",
        ),
        (
            "other class",
            "vendor",
            "v3-other-class",
            vec![t.fetch(URI3, "fw3.bin")],
            "condition class-identifier (2) failed",
        ),
        (
            "missing payload",
            "vendor",
            "v3",
            vec![t.fetch(URI3, "nowhere.bin")],
            "nowhere.bin",
        ),
    ];
    for (what, key, name, fetch, reason) in cases {
        let out = t.install(key, name, &fetch);
        assert!(!out.status.success(), "{what} accepted");
        assert!(out.stdout.is_empty(), "{what} printed {:?}", out.stdout);
        let e = String::from_utf8(out.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{what}: {e:?}");
        assert!(e.contains(reason), "{what}: {e}");
        assert_eq!(t.hash(), before, "{what} changed the device directory");
    }
    // Without a --fetch for its URI the payload is unavailable.
    let e = String::from_utf8(t.install("vendor", "v3", &[]).stderr).unwrap();
    assert!(e.contains("refused: platform: unavailable"), "{e}");
    assert_eq!(t.hash(), before);
    // And the device still takes the good update.
    t.installs("v3", &[t.fetch(URI3, "fw3.bin")]);
    assert_ne!(t.hash(), before);
}

#[test]
fn bad_arguments_and_devices_fail_with_one_line() {
    let t = Setup::new();
    let dev = t.device();
    let e = fails(&["suit", "boot", "--device", s(&dev)]);
    assert!(e.contains("refused: no image installed yet"), "{e}");
    let e = fails(&[
        "suit",
        "device-init",
        "--device",
        s(&dev),
        "--vendor-id",
        VENDOR,
        "--class-id",
        CLASS,
    ]);
    assert!(e.contains("not empty"), "{e}");
    let fresh = t.path("fresh");
    let e = fails(&[
        "suit",
        "device-init",
        "--device",
        s(&fresh),
        "--vendor-id",
        "1234",
        "--class-id",
        CLASS,
    ]);
    assert!(e.contains("not a UUID"), "{e}");
    let line = one_line(&[
        "suit",
        "device-init",
        "--device",
        s(&fresh),
        "--vendor-id",
        VENDOR,
        "--class-id",
        CLASS,
        "--device-id",
        OTHER_CLASS,
    ]);
    assert!(line.contains(&format!("device-id {OTHER_CLASS}")), "{line}");
    let e = fails(&[
        "suit",
        "install",
        "--key",
        s(&t.path("vendor.pub.pem")),
        s(&t.path("v1.suit")),
        "--device",
        s(&dev),
        "--fetch",
        "no-equals-sign",
    ]);
    assert!(e.contains("URI=FILE"), "{e}");
    // A folder that is not a device.
    let e = fails(&["suit", "boot", "--device", s(t.dir.path())]);
    assert!(e.contains("identity"), "{e}");
}

/// Encrypted updates through the command line: `suit create` encrypts the image (ECDH-ES +
/// A128KW to the device's P-256 key, A128CTR, hosted at a URI; the ciphertext is written beside
/// the envelope), `device-init --decryption-key` gives the device its private key, and `suit
/// install` fetches, decrypts and installs the plaintext on trial. A device initialised without
/// the key refuses it and its directory stays as it was; a key file of the wrong size is refused
/// before any device is made.
#[test]
fn encrypted_update_installs_on_a_device_with_its_key() {
    let t = Setup::new();
    keygen(t.dir.path(), "device");
    let device_public = {
        let pem = std::fs::read_to_string(t.path("device.pub.pem")).unwrap();
        use p256::pkcs8::DecodePublicKey;
        hex::encode(
            p256::PublicKey::from_public_key_pem(&pem)
                .unwrap()
                .to_sec1_bytes(),
        )
    };
    let uri = "coap://fw.example/fw2.enc";
    let json = description(2, "fw2.bin", uri, CLASS).replace(
        r#"{"directive-override-parameters": {"uri": "coap://fw.example/fw2.enc"}}"#,
        &format!(
            r#"{{"directive-override-parameters": {{"uri": "{uri}", "encryption-info": {{"encrypted": "{uri}"}}}}}}"#
        ),
    );
    assert!(json.contains("encryption-info"));
    let json = json.trim_end().trim_end_matches('}').to_string()
        + &format!(
            r#", "encrypt": {{"{uri}": {{"image": {{"file": "fw2.bin"}}, "algorithm": "A128CTR",
                "recipient-key": {{"hex": "{device_public}"}}}}}}}}"#
        );
    std::fs::write(t.path("enc.json"), json).unwrap();
    ok(&suit_create(
        &t.path("vendor.pem"),
        &t.path("enc.json"),
        &t.path("enc.suit"),
    ));
    assert_ne!(std::fs::read(t.path("fw2.enc")).unwrap(), FW2);
    let fetch = [t.fetch(uri, "fw2.enc")];

    // The device of Setup has no decryption key: provisioned with v1, it refuses the update.
    t.installs("v1", &[]);
    let before = t.hash();
    let out = t.install("vendor", "enc", &fetch);
    assert!(!out.status.success());
    assert_eq!(t.hash(), before);

    // A device with the key installs it.
    let keyed = t.path("keyed");
    let line = one_line(&[
        "suit",
        "device-init",
        "--device",
        s(&keyed),
        "--vendor-id",
        VENDOR,
        "--class-id",
        CLASS,
        "--decryption-key",
        s(&t.path("device.pem")),
    ]);
    assert!(line.contains("decryption key (ECDH-ES + A128KW)"), "{line}");
    for (name, fetch) in [("v1", vec![]), ("enc", fetch.to_vec())] {
        let mut args = vec![
            "suit".to_string(),
            "install".into(),
            "--key".into(),
            s(&t.path("vendor.pub.pem")).into(),
            s(&t.path(&format!("{name}.suit"))).into(),
            "--device".into(),
            s(&keyed).into(),
        ];
        for f in &fetch {
            args.extend(["--fetch".to_string(), f.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&args);
    }
    assert_eq!(std::fs::read(keyed.join("slot1/00")).unwrap(), FW2);

    // A 15-byte key for A128KW: refused, and no device directory is made.
    std::fs::write(t.path("short.hex"), hex::encode([7u8; 15])).unwrap();
    let err = fails(&[
        "suit",
        "device-init",
        "--device",
        s(&t.path("never")),
        "--vendor-id",
        VENDOR,
        "--class-id",
        CLASS,
        "--decryption-key",
        s(&t.path("short.hex")),
    ]);
    assert!(err.contains("16 bytes"), "{err}");
    assert!(!t.path("never").exists());
}

/// Thresholds under which one failure halts a ring and a ring passes only when all of it
/// reported success.
const STRICT: [&str; 6] = [
    "--min-reported",
    "1",
    "--min-success",
    "1",
    "--max-failures",
    "0",
];

/// `suit rollout new` of `t`'s v2 (under the vendor's key) to the fleet in `fleet.txt`, split
/// into `rings`, with `extra` arguments, written to `plan.json`.
fn rollout_new(t: &Setup, rings: &str, extra: &[&str]) -> Vec<String> {
    let (vendor, v2, fleet, plan) = (
        t.path("vendor.pub.pem"),
        t.path("v2.suit"),
        t.path("fleet.txt"),
        t.path("plan.json"),
    );
    let mut args = vec![
        "suit",
        "rollout",
        "new",
        "--key",
        s(&vendor),
        s(&v2),
        "--devices",
        s(&fleet),
        "--rings",
        rings,
        "-o",
        s(&plan),
    ];
    args.extend(extra);
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// `suit rollout report` of `name`'s report `file` to `t`'s `plan.json`, with `extra`
/// arguments.
fn rollout_report(t: &Setup, name: &str, file: &Path, extra: &[&str]) -> Vec<String> {
    let plan = t.path("plan.json");
    let mut args = vec![
        "suit",
        "rollout",
        "report",
        "--plan",
        s(&plan),
        "--device",
        name,
    ];
    args.extend(extra);
    args.push(s(file));
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// `args` as the `&str`s `run`, `ok` and `fails` take.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// A staged rollout of v2 to a fleet of four directory devices: ring 0 is `dev-1`, ring 1 the
/// other three. Each device installs with `--report`, and the server counts the reports with
/// `suit rollout report`: ring 0 passes, a failure in ring 1 halts the rollout, a repeated report
/// changes nothing, the operator resumes with more lenient thresholds, and the last successes
/// complete it. The plan lives in a file between the commands.
#[test]
fn a_staged_rollout_advances_on_reports_halts_on_a_failure_and_resumes() {
    let t = Setup::new();
    let (vendor, v2, v3) = (
        t.path("vendor.pub.pem"),
        t.path("v2.suit"),
        t.path("v3.suit"),
    );
    let (plan, fleet) = (t.path("plan.json"), t.path("fleet.txt"));
    std::fs::write(
        &fleet,
        "# the fleet, in rollout order\ndev-1\ndev-2\n\ndev-3\ndev-4\n",
    )
    .unwrap();
    let device = |name: &str| t.path(name);
    for name in ["dev-1", "dev-2", "dev-3", "dev-4"] {
        let dir = device(name);
        ok(&[
            "suit",
            "device-init",
            "--device",
            s(&dir),
            "--vendor-id",
            VENDOR,
            "--class-id",
            CLASS,
        ]);
        let env = t.path("v1.suit");
        ok(&[
            "suit",
            "install",
            "--key",
            s(&vendor),
            s(&env),
            "--device",
            s(&dir),
        ]);
        ok(&["suit", "boot", "--device", s(&dir), "--confirm"]);
    }
    // Installs v2 (served when `served`) on `name` with a report; whether it installed.
    let install = |name: &str, env: &Path, served: bool| -> (bool, PathBuf) {
        let (dir, report) = (device(name), t.path(&format!("{name}.report")));
        let fetch = t.fetch(URI2, "fw2.bin");
        let mut args = vec![
            "suit",
            "install",
            "--key",
            s(&vendor),
            s(env),
            "--device",
            s(&dir),
            "--report",
            s(&report),
            "--nonce",
            "0a0b",
        ];
        if served {
            args.extend(["--fetch", fetch.as_str()]);
        }
        let out = run(&args);
        if !out.status.success() {
            eprintln!("{name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        (out.status.success(), report)
    };
    // `suit rollout report` of `name`'s report `file`: its one line, or why it was refused.
    let counted = |name: &str, file: &Path, expect_ok: bool| {
        let args = rollout_report(&t, name, file, &[]);
        if expect_ok {
            one_line(&strs(&args))
        } else {
            fails(&strs(&args))
        }
    };
    let report = |name: &str, file: &Path| counted(name, file, true);
    let released = |name: &str| {
        run(&[
            "suit",
            "rollout",
            "status",
            "--plan",
            s(&plan),
            "--device",
            name,
        ])
        .status
        .success()
    };

    let line = one_line(&strs(&rollout_new(&t, "0.25,1", &STRICT)));
    assert!(
        line.contains(
            "rollout of sequence number 2 to 4 devices in 2 rings (1, 3); released to ring 0"
        ),
        "{line}"
    );
    let again = fails(&strs(&rollout_new(&t, "1", &[])));
    assert!(again.contains("exists"), "{again}");
    assert!(released("dev-1") && !released("dev-2"));

    let (installed, r1) = install("dev-1", &v2, true);
    assert!(installed);
    let line = report("dev-1", &r1);
    assert!(
        line.contains("dev-1: success counted; ring 0 (1 device): 1 reported, 0 failed; passed: released to ring 1 (3 devices)"),
        "{line}"
    );
    assert!(released("dev-2") && released("dev-4"));

    // dev-2 is not served the image: refused, its directory unchanged, and the report says so.
    let (installed, r2) = install("dev-2", &v2, false);
    assert!(!installed);
    let line = report("dev-2", &r2);
    assert!(line.contains("dev-2: failure counted"), "{line}");
    assert!(line.contains("halted on 1 failure of ring 1"), "{line}");
    let line = report("dev-2", &r2);
    assert!(
        line.starts_with("dev-2: repeated report, nothing changed; halted"),
        "{line}"
    );
    let status = ok(&["suit", "rollout", "status", "--plan", s(&plan)]);
    assert_eq!(
        status.lines().collect::<Vec<_>>(),
        [
            "sequence number 2: halted at ring 1 on 1 failure",
            "ring 0 (1 device): 1 reported, 0 failed",
            "ring 1 (3 devices): 1 reported, 1 failed",
        ]
    );
    // Not counted: a device outside the fleet, a report on another manifest (v3's, refused by a
    // device that has v2 on trial: the report still names v3).
    let refused = counted("dev-9", &r1, false);
    assert!(refused.contains("not in the rollout"), "{refused}");
    let (_, r3) = install("dev-1", &v3, false);
    let refused = counted("dev-3", &r3, false);
    assert!(refused.contains("another manifest"), "{refused}");

    let line = one_line(&[
        "suit",
        "rollout",
        "resume",
        "--plan",
        s(&plan),
        "--min-reported",
        "0.6",
        "--min-success",
        "0.6",
        "--max-failures",
        "0.5",
    ]);
    assert!(
        line.contains(
            "resumed; ring 1 (3 devices): 1 reported, 1 failed; waiting (needs 2 reports)"
        ),
        "{line}"
    );
    for (name, then) in [
        ("dev-3", "waiting"),
        ("dev-4", "every ring passed: rollout complete"),
    ] {
        let (installed, r) = install(name, &v2, true);
        assert!(installed);
        let line = report(name, &r);
        assert!(
            line.contains(&format!("{name}: success counted")) && line.contains(then),
            "{line}"
        );
    }
    assert!(fails(&["suit", "rollout", "resume", "--plan", s(&plan)]).contains("not halted"));
    // A damaged plan file is refused, not guessed at.
    std::fs::write(&plan, "{\"release\": 1}").unwrap();
    assert!(
        fails(&["suit", "rollout", "status", "--plan", s(&plan)])
            .contains("not a saved rollout plan")
    );
}

/// The failure an A/B rollout most needs to see: an update installs (the device reports success
/// and its ring passes), then its trial never confirms. `suit boot --report` reports the
/// reverted trial, the failure replaces the success, and the rollout halts on the ring that had
/// passed.
#[test]
fn a_trial_that_reverts_after_its_ring_passed_halts_the_rollout() {
    let t = Setup::new();
    t.installs("v1", &[]);
    let (dev, plan) = (t.device(), t.path("plan.json"));
    std::fs::write(t.path("fleet.txt"), "device\nother\n").unwrap();
    one_line(&strs(&rollout_new(&t, "0.5,1", &STRICT)));
    let (installed, booted) = (t.path("install.report"), t.path("boot.report"));
    assert!(t.install_reported(&installed, &[]).status.success());
    let line = one_line(&strs(&rollout_report(&t, "device", &installed, &[])));
    assert!(
        line.contains("device: success counted; ring 0 (1 device): 1 reported, 0 failed; passed: released to ring 1"),
        "{line}"
    );

    let boot = |confirm: bool| {
        let mut args = vec!["suit", "boot", "--device", s(&dev), "--report", s(&booted)];
        if confirm {
            args.push("--confirm");
        }
        one_line(&args)
    };
    // The trial boots, and the application never confirms it: nothing settled yet.
    let line = boot(false);
    assert!(line.contains("on trial, not confirmed"), "{line}");
    assert!(line.ends_with("; no trial settled: no report\n"), "{line}");
    assert!(!booted.exists());
    // The next boot reverts it and reports its failure.
    let line = boot(true);
    assert!(
        line.contains("trial of sequence number 2 abandoned (the tentative image booted and was not confirmed); booted slot 0"),
        "{line}"
    );
    assert!(line.ends_with("; report written\n"), "{line}");
    let line = one_line(&strs(&rollout_report(&t, "device", &booted, &[])));
    assert!(
        line.contains("device: failure counted (OperationFailed, code 0) instead of its earlier success; halted on 1 failure of ring 0: nothing more is released"),
        "{line}"
    );
    let status = ok(&["suit", "rollout", "status", "--plan", s(&plan)]);
    assert_eq!(
        status.lines().next(),
        Some(
            "sequence number 2: halted at ring 1 on 1 failure of ring 0, reported after it passed"
        )
    );
    // The install's success again changes nothing: the failure stands.
    let line = one_line(&strs(&rollout_report(&t, "device", &installed, &[])));
    assert!(
        line.contains("contradicts its earlier failure, ignored"),
        "{line}"
    );
}

/// A device signs its report (`suit install --sign-report`) and the server verifies it with the
/// device's key (`suit rollout report --device-key`): a report verified under another key, or
/// not signed, is refused and changes nothing; the device's own is counted.
#[test]
fn signed_reports_are_verified_before_the_rollout_counts_them() {
    let t = Setup::new();
    keygen(t.dir.path(), "device-key");
    let (plan, fleet) = (t.path("plan.json"), t.path("fleet.txt"));
    std::fs::write(&fleet, "device\n").unwrap();
    t.installs("v1", &[]);
    t.boot(true);
    one_line(&strs(&rollout_new(&t, "1", &[])));
    let (signed, unsigned) = (t.path("signed.report"), t.path("unsigned.report"));
    // The install, its report signed; then the same again, refused (v2 is on trial), its
    // report unsigned.
    let device_key = t.path("device-key.pem");
    for (report, sign) in [(&signed, true), (&unsigned, false)] {
        let extra: &[&str] = if sign {
            &["--sign-report", s(&device_key)]
        } else {
            &[]
        };
        assert_eq!(t.install_reported(report, extra).status.success(), sign);
    }
    let count = |report: &Path, key: &str| {
        let key = t.path(key);
        run(&strs(&rollout_report(
            &t,
            "device",
            report,
            &["--device-key", s(&key)],
        )))
    };
    let before = std::fs::read(&plan).unwrap();
    for (report, key) in [
        (&signed, "other.pub.pem"),
        (&unsigned, "device-key.pub.pem"),
    ] {
        let out = count(report, key);
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("not a SUIT report signed by"), "{err}");
        assert_eq!(std::fs::read(&plan).unwrap(), before, "the plan unchanged");
    }
    let out = count(&signed, "device-key.pub.pem");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(
        line.contains("device: success counted; every ring passed"),
        "{line}"
    );
}
