//! OpenSSL as the peer: it verifies our CSRs (`openssl req -verify`), issues a certificate from
//! one that our validator then accepts, and generates fresh chains (tests/data/generate.sh) on
//! which its verdicts (`openssl verify -CAfile`) and ours must agree.
//!
//! Runs when `IOT_OPENSSL` names the openssl binary (`.ci/run` sets it); otherwise each test
//! prints that it skipped and why.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use base64ct::{Base64, Encoding};
use iot_core::crypto::RustCrypto;
use iot_identity::keystore::{KeySlot, KeyStore, SoftwareKeyStore, StoreSigner};
use iot_identity::ueid::{RandLen, Ueid};
use iot_identity::x509::{
    Certificate, CsrSubject, TrustAnchor, ValidationOptions, X509Error, validate_chain, write_csr,
};
use iot_test_vectors::peer::{openssl, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// 2026-01-01T00:00:00Z, as in tests/data/README.md.
const NOW: u64 = 1_767_225_600;

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

/// A CSR from a key-store key for `ueid`.
fn make_csr(ueid: &Ueid) -> Vec<u8> {
    let mut store = SoftwareKeyStore::<_, 1>::new(crypto(), &[9u8; 16]).unwrap();
    let public = store.generate(KeySlot(0)).unwrap();
    let mut out = [0u8; 400];
    let n = write_csr(
        &mut crypto(),
        &mut StoreSigner::new(&mut store, KeySlot(0)),
        &public,
        &CsrSubject {
            ueid,
            common_name: Some("iot-identity test device"),
        },
        &mut out,
    )
    .unwrap();
    out[..n].to_vec()
}

/// `openssl req -verify -in PATH -noout`. OpenSSL 3.0 exits 0 even when the self-signature
/// fails and says so only in its message, so the verdict is read from both.
fn req_verify(bin: &Path, path: &str) -> bool {
    let out = run(bin, &["req", "-verify", "-in", path, "-noout"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = text.contains("verify OK");
    let failed = text.contains("verify failure") || !out.status.success();
    assert!(
        ok != failed,
        "unclear verdict from openssl req -verify: {text}"
    );
    ok
}

#[test]
fn openssl_verifies_our_csrs_and_refuses_tampered_ones() {
    let Some(bin) = openssl("OpenSSL CSR verification") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ueids = [
        Ueid::eui64([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x00, 0x01]).unwrap(),
        Ueid::imei("490154203237518").unwrap(),
        Ueid::random(&mut crypto(), RandLen::Bits128).unwrap(),
        Ueid::random(&mut crypto(), RandLen::Bits192).unwrap(),
    ];
    for (i, ueid) in ueids.iter().enumerate() {
        let der = make_csr(ueid);
        let path = dir.path().join(format!("csr{i}.pem"));
        std::fs::write(&path, pem("CERTIFICATE REQUEST", &der)).unwrap();
        let p = path.to_str().unwrap();
        assert!(req_verify(&bin, p), "openssl refused our CSR {i}");
        let out = run(
            &bin,
            &["req", "-in", p, "-noout", "-subject", "-nameopt", "RFC2253"],
        );
        let subject = String::from_utf8_lossy(&out.stdout);
        assert!(
            subject.contains(&format!("serialNumber={}", ueid.to_hex()))
                && subject.contains("CN=iot-identity test device"),
            "subject as OpenSSL reads it: {subject}"
        );

        // Tampered: one character of the serial number text changed, DER still well-formed.
        let hex = ueid.to_hex();
        let at = der
            .windows(hex.as_str().len())
            .position(|w| w == hex.as_str().as_bytes())
            .unwrap();
        let mut t = der.clone();
        t[at + 3] = if t[at + 3] == b'0' { b'1' } else { b'0' };
        let tpath = dir.path().join(format!("tampered{i}.pem"));
        std::fs::write(&tpath, pem("CERTIFICATE REQUEST", &t)).unwrap();
        assert!(
            !req_verify(&bin, tpath.to_str().unwrap()),
            "openssl accepted a tampered CSR"
        );
        let ours = iot_identity::x509::Csr::decode(&t)
            .unwrap()
            .verify(&mut crypto());
        assert_eq!(ours, Err(X509Error::BadSignature));
    }
    println!(
        "openssl req -verify: {} CSRs accepted, {} tampered refused",
        ueids.len(),
        ueids.len()
    );
}

/// Runs tests/data/generate.sh with this openssl into a fresh folder; returns (out, work).
fn generate(bin: &Path, root: &Path) -> (PathBuf, PathBuf) {
    let out = root.join("out");
    let work = root.join("work");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/generate.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .arg(&work)
        .env("OPENSSL", bin)
        .status()
        .unwrap();
    assert!(status.success(), "generate.sh failed");
    (out, work)
}

fn openssl_verify(bin: &Path, work: &Path, anchor: &str, untrusted: &[&str], leaf: &str) -> bool {
    let mut args = vec![
        "verify".to_string(),
        "-purpose".into(),
        "sslclient".into(),
        "-attime".into(),
        NOW.to_string(),
        "-CAfile".into(),
        work.join(format!("{anchor}.pem")).display().to_string(),
    ];
    for u in untrusted {
        args.push("-untrusted".into());
        args.push(work.join(format!("{u}.pem")).display().to_string());
    }
    args.push(work.join(format!("{leaf}.pem")).display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(bin, &args).status.success()
}

fn ours(out: &Path, chain: &[&str], anchor: &str) -> Result<usize, (usize, X509Error)> {
    let read = |n: &str| std::fs::read(out.join(format!("{n}.der"))).unwrap();
    let ders: Vec<Vec<u8>> = chain.iter().map(|n| read(n)).collect();
    let refs: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
    let anchor_der = read(anchor);
    let anchor = TrustAnchor::from_certificate(&anchor_der).unwrap();
    validate_chain(&mut crypto(), &refs, &anchor, &ValidationOptions::at(NOW))
        .map(|v| v.len)
        .map_err(|e| (e.index, e.reason))
}

#[test]
fn openssl_and_we_agree_on_fresh_chains() {
    let Some(bin) = openssl("OpenSSL chain generation and verification") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, work) = generate(&bin, dir.path());
    use X509Error::*;
    // (chain leaf first, anchor, our verdict); OpenSSL must accept exactly the Ok ones.
    type Case<'a> = (&'a [&'a str], &'a str, Result<usize, (usize, X509Error)>);
    let cases: &[Case<'_>] = &[
        (&["leaf", "inter"], "root", Ok(2)),
        (&["leaf-under-open", "inter-open"], "root", Ok(2)),
        (&["leaf-expired", "inter"], "root", Err((0, Expired))),
        (&["leaf-future", "inter"], "root", Err((0, NotYetValid))),
        (&["leaf-wrong-ku", "inter"], "root", Err((0, KeyUsage))),
        (
            &["leaf-unknown-critical", "inter"],
            "root",
            Err((0, UnknownCriticalExtension)),
        ),
        (
            &["leaf-other-issuer", "inter"],
            "root",
            Err((0, IssuerMismatch)),
        ),
        (&["leaf-impostor", "inter"], "root", Err((0, BadSignature))),
        (&["leaf-under-noca", "inter-noca"], "root", Err((1, NotCa))),
        (
            &["leaf-under-noku", "inter-noku"],
            "root",
            Err((1, KeyUsage)),
        ),
        (
            &["leaf-under-inter2", "inter2", "inter"],
            "root",
            Err((2, PathLenExceeded)),
        ),
    ];
    for (chain, anchor, want) in cases {
        assert_eq!(ours(&out, chain, anchor), *want, "ours on {chain:?}");
        let (leaf, untrusted) = chain.split_first().unwrap();
        let theirs = openssl_verify(&bin, &work, anchor, untrusted, leaf);
        assert_eq!(theirs, want.is_ok(), "openssl verify on {chain:?}");
    }
    println!(
        "{} fresh chains: OpenSSL and iot-identity agree on each",
        cases.len()
    );
}

#[test]
fn a_certificate_openssl_issues_from_our_csr_validates() {
    let Some(bin) = openssl("OpenSSL issuance from our CSR") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (out, work) = generate(&bin, dir.path());
    let ueid = Ueid::random(&mut crypto(), RandLen::Bits128).unwrap();
    let csr = work.join("ours.csr");
    std::fs::write(&csr, pem("CERTIFICATE REQUEST", &make_csr(&ueid))).unwrap();
    let cert = work.join("ours.pem");
    let w = |p: &Path| p.display().to_string();
    let o = run(
        &bin,
        &[
            "x509",
            "-req",
            "-in",
            &w(&csr),
            "-CA",
            &w(&work.join("inter.pem")),
            "-CAkey",
            &w(&work.join("inter.key")),
            "-days",
            "3650",
            "-extfile",
            &w(&work.join("ca.cnf")),
            "-extensions",
            "v3_leaf",
            "-out",
            &w(&cert),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&bin, &["x509", "-in", &w(&cert), "-outform", "DER"]);
    assert!(o.status.success());
    let leaf = o.stdout;
    let inter = std::fs::read(out.join("inter.der")).unwrap();
    let root = std::fs::read(out.join("root.der")).unwrap();
    let anchor = TrustAnchor::from_certificate(&root).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ok = validate_chain(
        &mut crypto(),
        &[&leaf, &inter],
        &anchor,
        &ValidationOptions::at(now),
    )
    .unwrap();
    let parsed = Certificate::decode(&leaf).unwrap();
    assert_eq!(ok.leaf.public_key, parsed.public_key);
    assert_eq!(
        parsed.subject_serial_number().unwrap(),
        Some(ueid.to_hex().as_str())
    );
    let o = run(
        &bin,
        &[
            "verify",
            "-CAfile",
            &w(&work.join("root.pem")),
            "-untrusted",
            &w(&work.join("inter.pem")),
            &w(&cert),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}
