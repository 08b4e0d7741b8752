//! `iot-tool identity`: a registrar folder, devices enrolled from folders, verification,
//! revocation, CRLs in three formats and the inventory, run as a user runs them. OpenSSL checks
//! the certificates and CRLs when `IOT_OPENSSL` names its binary (`.ci/run` sets it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::run;
use iot_core::crypto::RustCrypto;
use iot_identity::credential::Cwt;
use iot_identity::revocation::RevocationList;
use iot_identity::x509::Certificate;
use iot_test_vectors::peer::{openssl, text};
use std::path::Path;
use std::process::Command;

/// Runs in `dir` and expects success; stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_iot-tool"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "iot-tool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs in `dir` and expects a failure with one line on stderr and nothing on stdout; the line.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_iot-tool"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "iot-tool {args:?} succeeded");
    assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    assert!(err.starts_with("iot-tool: "), "{err:?}");
    err
}

fn openssl_run(bin: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let text = text(&out);
    assert!(out.status.success(), "openssl {args:?}: {text}");
    text
}

/// `enrolled device <UEID> in <dir>: certificate serial <hex>, ...` -> (UEID, serial).
fn enrolled(line: &str) -> (String, String) {
    let ueid = line
        .strip_prefix("enrolled device ")
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let serial = line
        .split("certificate serial ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    (ueid.to_owned(), serial.to_owned())
}

fn pem_blocks(text: &str) -> usize {
    text.matches("-----BEGIN CERTIFICATE-----").count()
}

#[test]
fn ca_init_enroll_verify_and_openssl_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let init = ok(
        d,
        &["identity", "ca-init", "--out", "reg", "--name", "Test CA"],
    );
    assert!(
        init.starts_with("registrar in reg: CA \"Test CA\""),
        "{init}"
    );
    for f in ["ca-key.pem", "ca-cert.pem", "inventory.sqlite"] {
        assert!(d.join("reg").join(f).exists(), "{f}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("reg/ca-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let out = ok(
        d,
        &[
            "identity", "enroll", "--device", "dev1", "--ca", "reg", "--model", "m-1",
        ],
    );
    let (ueid, serial) = enrolled(out.trim());
    assert_eq!(ueid.len(), 34, "RAND UEID of 16 bytes: {ueid}");

    // device-cert.pem: the device's certificate, then the CA's.
    let pem = std::fs::read_to_string(d.join("dev1/device-cert.pem")).unwrap();
    assert_eq!(pem_blocks(&pem), 2);
    let ca_pem = std::fs::read_to_string(d.join("reg/ca-cert.pem")).unwrap();
    assert!(pem.ends_with(&ca_pem));
    // The sealed key is not a PEM or raw private key; the credential binds the same key.
    let sealed = std::fs::read(d.join("dev1/identity-key.cose")).unwrap();
    assert_eq!(sealed[0], 0xd0, "COSE_Encrypt0 tag 16");
    let cred = std::fs::read(d.join("dev1/device-cred.cwt")).unwrap();
    let cwt = Cwt::decode(&cred).unwrap();
    assert_eq!(cwt.claims.sub, Some(ueid.as_str()));
    assert_eq!(cwt.claims.cti.map(hex::encode), Some(serial.clone()));

    let v = ok(
        d,
        &["identity", "verify", "--ca", "reg", "dev1/device-cert.pem"],
    );
    assert!(
        v.starts_with(&format!(
            "valid: device {ueid}, serial {serial}, issued by \"Test CA\""
        )),
        "{v}"
    );
    assert!(v.trim_end().ends_with(", active"), "{v}");

    // The inventory: the device, its model, its serial, its status.
    let inv = ok(d, &["identity", "inventory", "--ca", "reg"]);
    let lines: Vec<&str> = inv.lines().collect();
    assert_eq!(lines.len(), 2, "{inv}");
    assert!(lines[0].starts_with("UEID"));
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        &cols[..4],
        &[ueid.as_str(), "active", "m-1", serial.as_str()]
    );

    if let Some(bin) = openssl("openssl verify of device-cert.pem") {
        let t = openssl_run(
            &bin,
            d,
            &[
                "verify",
                "-CAfile",
                "reg/ca-cert.pem",
                "dev1/device-cert.pem",
            ],
        );
        assert!(t.contains("dev1/device-cert.pem: OK"), "{t}");
        let t = openssl_run(
            &bin,
            d,
            &[
                "x509",
                "-in",
                "dev1/device-cert.pem",
                "-noout",
                "-serial",
                "-subject",
            ],
        );
        assert!(
            t.contains(&format!("serial={}", serial.to_uppercase())),
            "{t}"
        );
        assert!(t.contains(&ueid), "{t}");
    }
}

#[test]
fn revoked_certificates_fail_verification_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["identity", "ca-init", "--out", "reg"]);
    let (ueid1, serial1) =
        enrolled(ok(d, &["identity", "enroll", "--device", "a", "--ca", "reg"]).trim());
    let (ueid2, serial2) =
        enrolled(ok(d, &["identity", "enroll", "--device", "b", "--ca", "reg"]).trim());

    // By UEID, then by serial.
    let r = ok(d, &["identity", "revoke", "--ca", "reg", &ueid1]);
    assert_eq!(
        r.trim(),
        format!("revoked certificate {serial1} of device {ueid1}")
    );
    let err = fails(
        d,
        &["identity", "verify", "--ca", "reg", "a/device-cert.pem"],
    );
    assert!(
        err.contains(&format!("revoked: certificate serial {serial1} is revoked")),
        "{err}"
    );
    ok(
        d,
        &["identity", "verify", "--ca", "reg", "b/device-cert.pem"],
    );
    ok(d, &["identity", "revoke", "--ca", "reg", &serial2]);
    let err = fails(
        d,
        &["identity", "verify", "--ca", "reg", "b/device-cert.pem"],
    );
    assert!(err.contains("revoked"), "{err}");

    let inv = ok(d, &["identity", "inventory", "--ca", "reg"]);
    for u in [&ueid1, &ueid2] {
        let line = inv.lines().find(|l| l.starts_with(u.as_str())).unwrap();
        assert_eq!(line.split_whitespace().nth(1), Some("revoked"), "{inv}");
    }
    // OpenSSL with the CRL agrees.
    if let Some(bin) = openssl("openssl verify -crl_check") {
        ok(d, &["identity", "crl", "--ca", "reg", "-o", "crl.pem"]);
        let out = Command::new(&bin)
            .current_dir(d)
            .args([
                "verify",
                "-crl_check",
                "-CAfile",
                "reg/ca-cert.pem",
                "-CRLfile",
                "crl.pem",
                "a/device-cert.pem",
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("revoked")
                || String::from_utf8_lossy(&out.stderr).contains("revoked")
        );
    }
}

#[test]
fn wrong_issuer_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["identity", "ca-init", "--out", "reg"]);
    ok(
        d,
        &[
            "identity", "ca-init", "--out", "other", "--name", "Other CA",
        ],
    );
    ok(d, &["identity", "enroll", "--device", "dev", "--ca", "reg"]);
    let err = fails(
        d,
        &["identity", "verify", "--ca", "other", "dev/device-cert.pem"],
    );
    assert!(err.contains("issuer does not match"), "{err}");
    // DER input works too, and a CA certificate is no device certificate.
    let pem = std::fs::read_to_string(d.join("dev/device-cert.pem")).unwrap();
    let first = pem
        .split_inclusive("-----END CERTIFICATE-----\n")
        .next()
        .unwrap();
    std::fs::write(d.join("leaf.pem"), first).unwrap();
    ok(d, &["identity", "verify", "--ca", "reg", "leaf.pem"]);
    let err = fails(
        d,
        &["identity", "verify", "--ca", "reg", "other/ca-cert.pem"],
    );
    assert!(err.contains("certificate 0"), "{err}");
}

#[test]
fn crl_in_three_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["identity", "ca-init", "--out", "reg"]);
    let (ueid, serial) =
        enrolled(ok(d, &["identity", "enroll", "--device", "a", "--ca", "reg"]).trim());
    let (_, kept) = enrolled(ok(d, &["identity", "enroll", "--device", "b", "--ca", "reg"]).trim());
    ok(d, &["identity", "revoke", "--ca", "reg", &serial]);
    ok(d, &["identity", "crl", "--ca", "reg", "-o", "crl.pem"]);
    ok(
        d,
        &[
            "identity", "crl", "--ca", "reg", "--format", "der", "-o", "crl.der",
        ],
    );
    ok(
        d,
        &[
            "identity",
            "crl",
            "--ca",
            "reg",
            "--format",
            "cose",
            "-o",
            "list.cose",
        ],
    );
    let pem = std::fs::read_to_string(d.join("crl.pem")).unwrap();
    assert!(pem.starts_with("-----BEGIN X509 CRL-----"), "{pem}");
    let der = std::fs::read(d.join("crl.der")).unwrap();
    assert_eq!(der[0], 0x30, "a DER SEQUENCE");

    // Our decoder: the signed list verifies under the CA key and lists the revoked device only;
    // its version follows the two CRLs' numbers.
    let ca_pem = std::fs::read_to_string(d.join("reg/ca-cert.pem")).unwrap();
    let ca_der = iot_identity::device_dir::pem_certificates(&ca_pem)
        .unwrap()
        .remove(0);
    let ca_key = Certificate::decode(&ca_der).unwrap().public_key;
    let list = std::fs::read(d.join("list.cose")).unwrap();
    let verified = RevocationList::decode(&list)
        .unwrap()
        .verify(&mut RustCrypto::from_os(), &ca_key, 0)
        .unwrap();
    assert_eq!(verified.version(), 3);
    assert!(verified.is_revoked_serial(&hex::decode(&serial).unwrap()));
    assert!(verified.is_revoked_ueid(&hex::decode(&ueid).unwrap()));
    assert!(!verified.is_revoked_serial(&hex::decode(&kept).unwrap()));
    // To stdout too.
    let out = run(&[
        "identity",
        "crl",
        "--ca",
        d.join("reg").to_str().unwrap(),
        "--format",
        "cose",
        "-o",
        "-",
    ]);
    assert!(out.status.success());
    let v4 = RevocationList::decode(&out.stdout).unwrap();
    assert_eq!(v4.version, 4);

    if let Some(bin) = openssl("openssl crl") {
        for (file, form, number) in [("crl.pem", "PEM", "1"), ("crl.der", "DER", "2")] {
            let t = openssl_run(
                &bin,
                d,
                &[
                    "crl",
                    "-in",
                    file,
                    "-inform",
                    form,
                    "-CAfile",
                    "reg/ca-cert.pem",
                    "-noout",
                    "-text",
                ],
            );
            assert!(t.contains("verify OK"), "{t}");
            assert!(t.contains(&serial.to_uppercase()), "{t}");
            assert!(!t.contains(&kept.to_uppercase()), "{t}");
            let after = t.split("CRL Number:").nth(1).unwrap();
            assert_eq!(after.split_whitespace().next(), Some(number), "{t}");
        }
    }
}

#[test]
fn failures_are_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["identity", "ca-init", "--out", "reg"]);
    ok(d, &["identity", "enroll", "--device", "dev", "--ca", "reg"]);

    let err = fails(d, &["identity", "enroll", "--device", "dev", "--ca", "reg"]);
    assert!(err.contains("is already enrolled"), "{err}");
    let err = fails(d, &["identity", "ca-init", "--out", "reg"]);
    assert!(err.contains("already holds a registrar"), "{err}");
    for wrong in ["nowhere", "dev"] {
        let err = fails(
            d,
            &["identity", "enroll", "--device", "dev2", "--ca", wrong],
        );
        assert!(err.contains("not a registrar folder"), "{err}");
        fails(d, &["identity", "inventory", "--ca", wrong]);
        fails(
            d,
            &["identity", "verify", "--ca", wrong, "dev/device-cert.pem"],
        );
    }
    assert!(
        !d.join("dev2").exists(),
        "no device made for a wrong registrar"
    );
    let err = fails(d, &["identity", "revoke", "--ca", "reg", "0102"]);
    assert!(err.contains("not in the inventory"), "{err}");
    fails(d, &["identity", "revoke", "--ca", "reg", "xyz"]);
    fails(
        d,
        &[
            "identity", "crl", "--ca", "reg", "--format", "xml", "-o", "x",
        ],
    );
    fails(d, &["identity", "crl", "--ca", "reg"]);
    fails(d, &["identity", "verify", "--ca", "reg", "missing.pem"]);
    std::fs::write(d.join("junk.pem"), "-----BEGIN CERTIFICATE-----\nnope\n").unwrap();
    fails(d, &["identity", "verify", "--ca", "reg", "junk.pem"]);
    fails(d, &["identity", "enroll", "--device", "dev"]);
    // A tampered sealed key: the device folder no longer boots.
    let key = d.join("dev/identity-key.cose");
    let mut sealed = std::fs::read(&key).unwrap();
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    std::fs::write(&key, sealed).unwrap();
    let err = fails(d, &["identity", "enroll", "--device", "dev", "--ca", "reg"]);
    assert!(err.contains("sealed key does not authenticate"), "{err}");
}

#[test]
fn demo_tells_enrolment_first_and_decommissioning_last() {
    let out = run(&["demo", "--list"]);
    let list = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = list.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(names.first(), Some(&"enrol"));
    assert_eq!(names.last(), Some(&"decommission"));
    let out = run(&["demo", "--chapter", "decommission"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches('\u{2717}').count(), 4, "{text}");
    assert!(text.contains("certificate serial revoked"), "{text}");
}

#[test]
fn an_interrupted_first_boot_resumes() {
    use iot_identity::device_dir::{DeviceDir, RECORD_FILE};
    use iot_identity::enrolment::Lifecycle;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["identity", "ca-init", "--out", "reg"]);
    let leaf_key = |dev: &str| {
        let pem = std::fs::read_to_string(d.join(dev).join("device-cert.pem")).unwrap();
        let der = iot_identity::device_dir::pem_certificates(&pem)
            .unwrap()
            .remove(0);
        Certificate::decode(&der).unwrap().public_key
    };

    // Power lost after the key and its record were written: the key is kept and certified.
    let mut dev = DeviceDir::first_boot(&d.join("a"), &[]).unwrap();
    let key = dev.device().generate_key().unwrap();
    let ueid = dev.ueid();
    drop(dev);
    let out = ok(d, &["identity", "enroll", "--device", "a", "--ca", "reg"]);
    assert_eq!(enrolled(out.trim()).0, ueid.to_hex().as_str());
    assert_eq!(leaf_key("a"), key);
    let mut again = DeviceDir::open(&d.join("a")).unwrap();
    assert_eq!(again.state(), Lifecycle::Active);
    assert_eq!(again.device().public_key().unwrap(), key);

    // Power lost after the key was written but before its record: a new key is generated.
    let mut dev = DeviceDir::first_boot(&d.join("b"), &[]).unwrap();
    let lost = dev.device().generate_key().unwrap();
    drop(dev);
    std::fs::remove_file(d.join("b").join(RECORD_FILE)).unwrap();
    ok(d, &["identity", "enroll", "--device", "b", "--ca", "reg"]);
    assert_ne!(leaf_key("b"), lost);
    ok(
        d,
        &["identity", "verify", "--ca", "reg", "b/device-cert.pem"],
    );
}

#[test]
fn a_registrar_requiring_evidence_enrols_devices_that_attest() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let init = ok(
        d,
        &["identity", "ca-init", "--out", "reg", "--require-evidence"],
    );
    assert!(
        init.trim_end().ends_with(", attestation evidence required"),
        "{init}"
    );
    assert!(d.join("reg/require-evidence").is_file());
    let out = ok(
        d,
        &["identity", "enroll", "--device", "dev1", "--ca", "reg"],
    );
    let (ueid, serial) = enrolled(out.trim());
    ok(
        d,
        &["identity", "verify", "--ca", "reg", "dev1/device-cert.pem"],
    );
    // The inventory records the attestation result of the device's EAT.
    let inv = ok(d, &["identity", "inventory", "--ca", "reg"]);
    let lines: Vec<&str> = inv.lines().collect();
    assert_eq!(lines.len(), 2, "{inv}");
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&cols[..2], &[ueid.as_str(), "active"]);
    assert_eq!(cols[3], serial);
    assert_eq!(cols.last(), Some(&"verified"), "{inv}");

    // Without --require-evidence no evidence is asked for or recorded.
    ok(d, &["identity", "ca-init", "--out", "plain"]);
    assert!(!d.join("plain/require-evidence").exists());
    ok(
        d,
        &["identity", "enroll", "--device", "dev2", "--ca", "plain"],
    );
    let inv = ok(d, &["identity", "inventory", "--ca", "plain"]);
    let row = inv.lines().nth(1).unwrap();
    assert_eq!(row.split_whitespace().last(), Some("-"), "{inv}");
}

#[cfg(unix)]
#[test]
fn verify_does_not_need_the_ca_key() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["identity", "ca-init", "--out", "reg"]);
    ok(
        d,
        &["identity", "enroll", "--device", "dev1", "--ca", "reg"],
    );
    let key = d.join("reg/ca-key.pem");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o000)).unwrap();
    let unreadable = std::fs::read(&key).is_err(); // root reads it anyway
    let v = ok(
        d,
        &["identity", "verify", "--ca", "reg", "dev1/device-cert.pem"],
    );
    assert!(v.starts_with("valid: device "), "{v}");
    if unreadable {
        // Commands that sign still need the key.
        fails(d, &["identity", "crl", "--ca", "reg", "-o", "crl.pem"]);
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(&key).unwrap();
    let v = ok(
        d,
        &["identity", "verify", "--ca", "reg", "dev1/device-cert.pem"],
    );
    assert!(v.starts_with("valid: device "), "{v}");
    fails(d, &["identity", "crl", "--ca", "reg", "-o", "crl.pem"]);
}
