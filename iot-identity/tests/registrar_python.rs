//! Python `cryptography` parses what the registrar writes: the CA certificate, a device
//! certificate, our CSR and the CRL, and checks their signatures, extensions and numbers.
//!
//! Runs when `IOT_PYTHON` names a Python with `cryptography` installed (`.ci/python-attest.sh`
//! makes one at `.venv`); otherwise the test prints that it skipped and why.

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
use iot_identity::registrar::{CA_CERT_FILE, IssueRequest, Registrar};
use iot_identity::ueid::{RandLen, Ueid};
use iot_test_vectors::peer::{python, run};
use std::ffi::OsStr;

/// 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;

const SCRIPT: &str = r#"
import json, sys
from cryptography import x509
from cryptography.x509.oid import NameOID

d = sys.argv[1]
read = lambda name: open(f"{d}/{name}", "rb").read()
ca = x509.load_pem_x509_certificate(read("ca-cert.pem"))
devs = [x509.load_der_x509_certificate(read(f"dev{i}.der")) for i in range(2)]
csr = x509.load_der_x509_csr(read("dev0.csr"))
crl = x509.load_pem_x509_crl(read("crl.pem"))
bad_crl = x509.load_der_x509_crl(read("bad-crl.der"))

ext = lambda cert, cls: cert.extensions.get_extension_for_class(cls)
bc = ext(ca, x509.BasicConstraints)
ku = ext(ca, x509.KeyUsage).value
ski = ext(ca, x509.SubjectKeyIdentifier).value.digest
out = {
    "ca_is_ca": bc.critical and bc.value.ca,
    "ca_ku": [ku.key_cert_sign, ku.crl_sign, ku.digital_signature],
    "ca_self_aki": ext(ca, x509.AuthorityKeyIdentifier).value.key_identifier == ski,
    "csr_valid": csr.is_signature_valid,
    "csr_serial_number": csr.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value,
    "devices": [],
    "crl_valid": crl.is_signature_valid(ca.public_key()),
    "bad_crl_valid": bad_crl.is_signature_valid(ca.public_key()),
    "crl_number": ext(crl, x509.CRLNumber).value.crl_number,
    "crl_issuer_is_ca": crl.issuer == ca.subject,
    "crl_revoked": ["%X" % r.serial_number for r in crl],
}
for dev in devs:
    dev.verify_directly_issued_by(ca)
    dku = ext(dev, x509.KeyUsage)
    out["devices"].append({
        "serial": "%X" % dev.serial_number,
        "ueid": dev.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value,
        "not_before": int(dev.not_valid_before_utc.timestamp()),
        "ku": [dku.critical, dku.value.digital_signature, dku.value.key_cert_sign],
        "aki_is_ca_ski": ext(dev, x509.AuthorityKeyIdentifier).value.key_identifier == ski,
        "ca": ext(dev, x509.BasicConstraints).value.ca,
    })
print(json.dumps(out))
"#;

#[test]
fn python_cryptography_parses_ca_device_certificates_csr_and_crl() {
    let Some(py) = python("python cryptography cross-check") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut reg = Registrar::init(dir.path(), "python peer CA", NOW, 3650 * 86_400).unwrap();
    let mut expected = Vec::new();
    for i in 0..2 {
        let ueid = Ueid::random(&mut RustCrypto::from_os(), RandLen::Bits128).unwrap();
        let der = fresh_csr(&[5u8; 16], &ueid, Some("python peer device"));
        std::fs::write(dir.path().join(format!("dev{i}.csr")), &der).unwrap();
        let issued = reg.issue(&IssueRequest::new(&der, NOW), None).unwrap();
        std::fs::write(dir.path().join(format!("dev{i}.der")), &issued.certificate).unwrap();
        expected.push((
            hex::encode_upper(&issued.record.serial),
            ueid.to_hex().to_string(),
        ));
    }
    reg.revoke_ueid(
        &Ueid::from_bytes(&hex::decode(&expected[1].1).unwrap()).unwrap(),
        NOW + 5,
    )
    .unwrap();
    reg.crl(NOW + 6, None).unwrap(); // number 1
    let crl = reg.crl_pem(NOW + 7, None).unwrap(); // number 2
    std::fs::write(dir.path().join("crl.pem"), &crl).unwrap();
    let mut bad = iot_identity::registrar::pem_decode("X509 CRL", &crl).unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(dir.path().join("bad-crl.der"), &bad).unwrap();
    assert!(dir.path().join(CA_CERT_FILE).is_file());

    let out = run(
        &py,
        &[OsStr::new("-c"), OsStr::new(SCRIPT), dir.path().as_os_str()],
    );
    assert!(
        out.status.success(),
        "python cryptography refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ca_is_ca"], true);
    assert_eq!(v["ca_ku"], serde_json::json!([true, true, false]));
    assert_eq!(v["ca_self_aki"], true);
    assert_eq!(v["csr_valid"], true);
    assert_eq!(v["csr_serial_number"], expected[0].1);
    for (dev, (serial, ueid)) in v["devices"].as_array().unwrap().iter().zip(&expected) {
        assert_eq!(dev["serial"], *serial);
        assert_eq!(dev["ueid"], *ueid);
        assert_eq!(dev["not_before"], NOW);
        assert_eq!(dev["ku"], serde_json::json!([true, true, false]));
        assert_eq!(dev["aki_is_ca_ski"], true);
        assert_eq!(dev["ca"], false);
    }
    assert_eq!(v["crl_valid"], true);
    assert_eq!(v["bad_crl_valid"], false);
    assert_eq!(v["crl_number"], 2);
    assert_eq!(v["crl_issuer_is_ca"], true);
    assert_eq!(v["crl_revoked"], serde_json::json!([expected[1].0]));
    println!("python cryptography: CA, 2 device certificates, CSR and CRL parsed and checked");
}
