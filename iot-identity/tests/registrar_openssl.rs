//! OpenSSL as the relying party of the registrar: `openssl verify -CAfile ca-cert.pem` accepts
//! the certificates it issues (from our CSRs and from OpenSSL's), `openssl crl -verify` accepts
//! its CRL and `openssl verify -crl_check` then refuses the revoked certificate only.
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

mod common;

use common::fresh_csr;
use iot_core::crypto::RustCrypto;
use iot_identity::registrar::{
    CA_CERT_FILE, IssueRequest, Refusal, Registrar, RegistrarError, pem_encode,
};
use iot_identity::ueid::{RandLen, Ueid};
use iot_test_vectors::peer::{openssl, run, text};
use std::path::Path;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A P-256 key and a DER CSR made by OpenSSL with `subj`.
fn openssl_csr(bin: &Path, dir: &Path, name: &str, subj: &str) -> Vec<u8> {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let w = |p: &Path| p.display().to_string();
    let o = run(
        bin,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &w(&key),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        bin,
        &[
            "req",
            "-new",
            "-sha256",
            "-key",
            &w(&key),
            "-subj",
            subj,
            "-outform",
            "DER",
            "-out",
            &w(&csr),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::read(csr).unwrap()
}

#[test]
fn openssl_accepts_issued_certificates_and_the_crl() {
    let Some(bin) = openssl("OpenSSL verification of the registrar's certificates and CRL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let regdir = dir.path().join("registrar");
    let now = now();
    let mut reg = Registrar::init(&regdir, "iot fleet CA", now - 60, 3650 * 86_400).unwrap();
    let ca = regdir.join(CA_CERT_FILE);
    let w = |p: &Path| p.display().to_string();

    // Device a: our CSR. Device b: OpenSSL's, with the UEID in serialNumber.
    let ueid_a = Ueid::random(&mut RustCrypto::from_os(), RandLen::Bits128).unwrap();
    let ueid_b = Ueid::eui64([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x00, 0x02]).unwrap();
    let csr_a = fresh_csr(&[3u8; 16], &ueid_a, None);
    let subj_b = format!("/CN=openssl device/serialNumber={}", ueid_b.to_hex());
    let csr_b = openssl_csr(&bin, dir.path(), "b", &subj_b);
    // Device c: OpenSSL's CSR without a UEID; the operator names it.
    let csr_c = openssl_csr(&bin, dir.path(), "c", "/CN=unnamed device");
    assert!(matches!(
        reg.issue(&IssueRequest::new(&csr_c, now), None),
        Err(RegistrarError::Refused(Refusal::UeidMissing))
    ));
    // A serialNumber that is no UEID in hex.
    let csr_d = openssl_csr(
        &bin,
        dir.path(),
        "d",
        "/CN=odd device/serialNumber=not-a-ueid",
    );
    assert!(matches!(
        reg.issue(&IssueRequest::new(&csr_d, now), None),
        Err(RegistrarError::Refused(Refusal::InvalidUeid))
    ));
    let mut req_c = IssueRequest::new(&csr_c, now);
    req_c.ueid = Some(Ueid::imei("490154203237518").unwrap());

    let mut serials = Vec::new();
    for (name, req) in [
        ("a", IssueRequest::new(&csr_a, now)),
        ("b", IssueRequest::new(&csr_b, now)),
        ("c", req_c),
    ] {
        let issued = reg.issue(&req, None).unwrap();
        let path = dir.path().join(format!("{name}.pem"));
        std::fs::write(
            &path,
            pem_encode("CERTIFICATE", &issued.certificate).unwrap(),
        )
        .unwrap();
        let o = run(&bin, &["verify", "-CAfile", &w(&ca), &w(&path)]);
        assert!(o.status.success(), "openssl verify {name}: {}", text(&o));
        serials.push(hex::encode_upper(&issued.record.serial));
    }
    let o = run(
        &bin,
        &[
            "x509",
            "-in",
            &w(&dir.path().join("b.pem")),
            "-noout",
            "-text",
        ],
    );
    let t = text(&o);
    assert!(
        t.contains(&format!("serialNumber = {}", ueid_b.to_hex())),
        "{t}"
    );
    assert!(
        t.contains("CA:FALSE") && t.contains("Digital Signature"),
        "{t}"
    );
    let o = run(&bin, &["x509", "-in", &w(&ca), "-noout", "-text"]);
    let t = text(&o);
    assert!(
        t.contains("CA:TRUE") && t.contains("Certificate Sign, CRL Sign"),
        "{t}"
    );

    // Revoke a; the CRL lists it, verifies under the CA, and makes OpenSSL refuse a only.
    reg.revoke_serial(&hex::decode(&serials[0]).unwrap(), now)
        .unwrap();
    let crl = dir.path().join("crl.pem");
    std::fs::write(&crl, reg.crl_pem(now, Some(now + 7 * 86_400)).unwrap()).unwrap();
    let o = run(&bin, &["crl", "-in", &w(&crl), "-noout", "-text"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("Version 2") && t.contains("X509v3 CRL Number"),
        "{t}"
    );
    assert!(t.contains(&format!("Serial Number: {}", serials[0])), "{t}");
    assert!(!t.contains(&serials[1]), "{t}");
    let o = run(
        &bin,
        &["crl", "-in", &w(&crl), "-CAfile", &w(&ca), "-noout"],
    );
    assert!(text(&o).contains("verify OK"), "{}", text(&o));
    for (name, revoked) in [("a", true), ("b", false), ("c", false)] {
        let o = run(
            &bin,
            &[
                "verify",
                "-crl_check",
                "-CRLfile",
                &w(&crl),
                "-CAfile",
                &w(&ca),
                &w(&dir.path().join(format!("{name}.pem"))),
            ],
        );
        assert_eq!(!o.status.success(), revoked, "{name}: {}", text(&o));
        if revoked {
            assert!(text(&o).contains("certificate revoked"), "{}", text(&o));
        }
    }

    // A CRL with a flipped signature bit does not verify.
    let der =
        iot_identity::registrar::pem_decode("X509 CRL", &std::fs::read_to_string(&crl).unwrap())
            .unwrap();
    let mut bad = der.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let bad_path = dir.path().join("bad-crl.pem");
    std::fs::write(&bad_path, pem_encode("X509 CRL", &bad).unwrap()).unwrap();
    let o = run(
        &bin,
        &["crl", "-in", &w(&bad_path), "-CAfile", &w(&ca), "-noout"],
    );
    assert!(!text(&o).contains("verify OK"), "{}", text(&o));
    println!("openssl verify: 3 issued certificates accepted; CRL verified; revoked one refused");
}
