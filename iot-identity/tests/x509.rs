//! X.509: CSRs written without a heap and read back; chain validation over the checked-in
//! certificates of tests/data (see its README) and the COSE WG x509 examples.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::crypto::{P256SigningKey, RustCrypto, Signer};
use iot_identity::keystore::{KeySlot, KeyStore, P256PublicKey, SoftwareKeyStore, StoreSigner};
use iot_identity::ueid::{RandLen, Ueid};
use iot_identity::x509::{
    Certificate, Csr, CsrSubject, KeyUsage, MAX_CHAIN_LEN, TrustAnchor, ValidationOptions,
    X509Error, validate_chain, write_csr,
};
use std::path::Path;

/// 2026-01-01T00:00:00Z: inside every "good" certificate's validity (tests/data/README.md).
const NOW: u64 = 1_767_225_600;

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

fn data(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn software_key() -> (P256SigningKey, P256PublicKey) {
    let key = P256SigningKey::generate(&mut crypto()).unwrap();
    let public = P256PublicKey::from_sec1(&key.verifying_key().to_sec1_uncompressed()).unwrap();
    (key, public)
}

fn csr_for(ueid: &Ueid, cn: Option<&str>) -> Vec<u8> {
    let (mut key, public) = software_key();
    let mut out = [0u8; 400];
    let n = write_csr(
        &mut crypto(),
        &mut key,
        &public,
        &CsrSubject {
            ueid,
            common_name: cn,
        },
        &mut out,
    )
    .unwrap();
    out[..n].to_vec()
}

#[test]
fn csr_reads_back_and_verifies() {
    let ueid = Ueid::eui64([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6, 0x00, 0x01]).unwrap();
    let der = csr_for(&ueid, Some("Thermostat ünit"));
    let csr = Csr::decode(&der).unwrap();
    csr.verify(&mut crypto()).unwrap();
    assert_eq!(csr.common_name().unwrap(), Some("Thermostat ünit"));
    assert_eq!(csr.serial_number().unwrap(), Some("02001B638445E60001"));
    assert!(csr.attributes_raw.is_empty());
    // The common name defaults to the UEID.
    let der = csr_for(&ueid, None);
    let csr = Csr::decode(&der).unwrap();
    assert_eq!(csr.common_name().unwrap(), Some("02001B638445E60001"));
}

#[test]
fn csr_from_a_key_store_key() {
    let mut store = SoftwareKeyStore::<_, 2>::new(crypto(), &[7u8; 32]).unwrap();
    let public = store.generate(KeySlot(1)).unwrap();
    let ueid = Ueid::random(&mut crypto(), RandLen::Bits192).unwrap();
    let mut out = [0u8; 400];
    let n = write_csr(
        &mut crypto(),
        &mut StoreSigner::new(&mut store, KeySlot(1)),
        &public,
        &CsrSubject {
            ueid: &ueid,
            common_name: None,
        },
        &mut out,
    )
    .unwrap();
    let csr = Csr::decode(&out[..n]).unwrap();
    assert_eq!(csr.public_key, public);
    csr.verify(&mut crypto()).unwrap();
    assert_eq!(csr.serial_number().unwrap(), Some(ueid.to_hex().as_str()));
}

#[test]
fn csr_signature_length_varies_and_the_encoding_stays_right() {
    // DER INTEGERs of r and s take 32 or 33 bytes (and rarely fewer); try many keys so that
    // every outer length occurs, and check each request reads back and verifies.
    let ueid = Ueid::imei("490154203237518").unwrap();
    let mut lens = std::collections::BTreeSet::new();
    for _ in 0..64 {
        let der = csr_for(&ueid, None);
        lens.insert(der.len());
        Csr::decode(&der).unwrap().verify(&mut crypto()).unwrap();
    }
    assert!(lens.len() >= 2, "signature lengths did not vary: {lens:?}");
    println!("CSR lengths over 64 keys (IMEI UEID): {lens:?} bytes");
}

#[test]
fn tampered_csrs_are_refused() {
    let ueid = Ueid::eui48([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6]).unwrap();
    let der = csr_for(&ueid, None);
    let csr = Csr::decode(&der).unwrap();
    let info_start = 4; // 30 82 LL LL, then the CertificationRequestInfo
    let mut rejected = 0;
    for i in 0..der.len() {
        let mut t = der.clone();
        t[i] ^= 0x01;
        let result = Csr::decode(&t).and_then(|c| c.verify(&mut crypto()).map(|()| c));
        match result {
            Err(_) => rejected += 1,
            Ok(c) => panic!("byte {i} flipped and still accepted: {c:?}"),
        }
    }
    assert_eq!(rejected, der.len());
    // A change inside the signed part that keeps the DER intact is a bad signature.
    let name_at = der
        .windows(6)
        .position(|w| w == b"02001B")
        .expect("serial number text");
    let mut t = der.clone();
    t[name_at + 2] = b'1';
    assert_eq!(
        Csr::decode(&t).unwrap().verify(&mut crypto()),
        Err(X509Error::BadSignature)
    );
    assert!(name_at > info_start && name_at < info_start + csr.info_raw.len());
}

#[test]
fn csr_limits() {
    let (mut key, public) = software_key();
    let long = Ueid::random(&mut crypto(), RandLen::Bits256).unwrap();
    let mut out = [0u8; 400];
    let subject = CsrSubject {
        ueid: &long,
        common_name: Some("device"),
    };
    assert_eq!(
        write_csr(&mut crypto(), &mut key, &public, &subject, &mut out),
        Err(X509Error::InvalidName)
    );
    let ueid = Ueid::random(&mut crypto(), RandLen::Bits128).unwrap();
    let cn = "x".repeat(65);
    let subject = CsrSubject {
        ueid: &ueid,
        common_name: Some(&cn),
    };
    assert_eq!(
        write_csr(&mut crypto(), &mut key, &public, &subject, &mut out),
        Err(X509Error::InvalidName)
    );
    let subject = CsrSubject {
        ueid: &ueid,
        common_name: None,
    };
    let n = write_csr(&mut crypto(), &mut key, &public, &subject, &mut out).unwrap();
    for small in [0, 10, 100, n - 1] {
        assert_eq!(
            write_csr(
                &mut crypto(),
                &mut key,
                &public,
                &subject,
                &mut out[..small]
            ),
            Err(X509Error::BufferTooSmall),
            "buffer of {small}"
        );
    }
    assert_eq!(key.sign_digest(&[0; 32]).map(|_| ()), Ok(()));
}

fn check(chain: &[&str], anchor: &str, now: u64) -> Result<usize, (usize, X509Error)> {
    let ders: Vec<Vec<u8>> = chain.iter().map(|n| data(n)).collect();
    let refs: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
    let anchor_der = data(anchor);
    let anchor = TrustAnchor::from_certificate(&anchor_der).unwrap();
    validate_chain(&mut crypto(), &refs, &anchor, &ValidationOptions::at(now))
        .map(|v| v.len)
        .map_err(|e| (e.index, e.reason))
}

#[test]
fn good_chains_validate() {
    assert_eq!(check(&["leaf.der", "inter.der"], "root.der", NOW), Ok(2));
    // The chain may carry the anchor's own certificate at its end.
    assert_eq!(
        check(&["leaf.der", "inter.der", "root.der"], "root.der", NOW),
        Ok(2)
    );
    assert_eq!(
        check(&["leaf-under-open.der", "inter-open.der"], "root.der", NOW),
        Ok(2)
    );
    // The intermediate itself, pinned as the anchor.
    assert_eq!(check(&["leaf.der"], "inter.der", NOW), Ok(1));
}

#[test]
fn the_leaf_reads_as_expected() {
    let der = data("leaf.der");
    let leaf = Certificate::decode(&der).unwrap();
    assert_eq!(leaf.version, 2);
    assert_eq!(leaf.common_name().unwrap(), Some("IoT Test Device"));
    assert_eq!(
        leaf.subject_serial_number().unwrap(),
        Some("0102030405060708090A0B0C0D0E0F1011")
    );
    assert_eq!(leaf.not_before, 1_748_736_000); // 2025-06-01
    assert_eq!(leaf.not_after, 2_366_841_600); // 2045-01-01
    assert_eq!(leaf.key_usage, Some(KeyUsage::DIGITAL_SIGNATURE));
    assert!(!leaf.basic_constraints.unwrap().ca);
    let inter_der = data("inter.der");
    let inter = Certificate::decode(&inter_der).unwrap();
    let bc = inter.basic_constraints.unwrap();
    assert!(bc.ca);
    assert_eq!(bc.path_len, Some(0));
    assert_eq!(
        inter.key_usage,
        Some(KeyUsage::KEY_CERT_SIGN.union(KeyUsage::CRL_SIGN))
    );
    assert_eq!(leaf.issuer_raw, inter.subject_raw);
}

#[test]
fn every_bad_chain_is_refused_with_its_reason() {
    use X509Error::*;
    type Case<'a> = (&'a [&'a str], &'a str, u64, (usize, X509Error));
    let cases: &[Case<'_>] = &[
        (
            &["leaf-expired.der", "inter.der"],
            "root.der",
            NOW,
            (0, Expired),
        ),
        (
            &["leaf-future.der", "inter.der"],
            "root.der",
            NOW,
            (0, NotYetValid),
        ),
        (
            &["leaf.der", "inter.der"],
            "root.der",
            1_700_000_000,
            (1, NotYetValid),
        ),
        (
            &["leaf.der", "inter.der"],
            "root.der",
            2_600_000_000,
            (1, Expired),
        ),
        (
            &["leaf-wrong-ku.der", "inter.der"],
            "root.der",
            NOW,
            (0, KeyUsage),
        ),
        (
            &["leaf-unknown-critical.der", "inter.der"],
            "root.der",
            NOW,
            (0, UnknownCriticalExtension),
        ),
        (
            &["leaf-other-issuer.der", "inter.der"],
            "root.der",
            NOW,
            (0, IssuerMismatch),
        ),
        (
            &["leaf.der", "inter.der"],
            "other-root.der",
            NOW,
            (1, IssuerMismatch),
        ),
        (
            &["leaf-impostor.der", "inter.der"],
            "root.der",
            NOW,
            (0, BadSignature),
        ),
        (
            &["leaf.der", "impostor-inter.der"],
            "impostor-inter.der",
            NOW,
            (0, BadSignature),
        ),
        (
            &["leaf-under-noca.der", "inter-noca.der"],
            "root.der",
            NOW,
            (1, NotCa),
        ),
        (
            &["leaf-under-noku.der", "inter-noku.der"],
            "root.der",
            NOW,
            (1, KeyUsage),
        ),
        (
            &["leaf-under-inter2.der", "inter2.der", "inter.der"],
            "root.der",
            NOW,
            (2, PathLenExceeded),
        ),
        // A leaf presented as the issuer of another certificate is no CA.
        (&["leaf.der", "leaf.der"], "inter.der", NOW, (1, NotCa)),
        (
            &["inter.der", "leaf.der"],
            "root.der",
            NOW,
            (1, IssuerMismatch),
        ),
        (&[], "root.der", NOW, (0, EmptyChain)),
        (&["root.der"], "root.der", NOW, (0, EmptyChain)),
        (
            &["leaf.der", "inter.der", "inter.der", "inter.der"],
            "root.der",
            NOW,
            (0, ChainTooLong),
        ),
    ];
    for (chain, anchor, now, want) in cases {
        assert_eq!(
            check(chain, anchor, *now),
            Err(*want),
            "{chain:?} under {anchor} at {now}"
        );
    }
    assert_eq!(MAX_CHAIN_LEN, 3);
}

#[test]
fn a_leaf_without_the_required_usage_is_refused() {
    let ders = [data("leaf.der"), data("inter.der")];
    let refs: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
    let root = data("root.der");
    let anchor = TrustAnchor::from_certificate(&root).unwrap();
    let mut options = ValidationOptions::at(NOW);
    options.leaf_key_usage = KeyUsage::KEY_AGREEMENT;
    let err = validate_chain(&mut crypto(), &refs, &anchor, &options).unwrap_err();
    assert_eq!((err.index, err.reason), (0, X509Error::KeyUsage));
}

#[test]
fn every_flipped_bit_of_a_chain_is_refused() {
    let leaf = data("leaf.der");
    let inter = data("inter.der");
    let root = data("root.der");
    let anchor = TrustAnchor::from_certificate(&root).unwrap();
    for (which, der) in [(0usize, &leaf), (1, &inter)] {
        for i in 0..der.len() {
            let mut t = der.clone();
            t[i] ^= 0x04;
            let chain: [&[u8]; 2] = if which == 0 {
                [&t, &inter]
            } else {
                [&leaf, &t]
            };
            let r = validate_chain(&mut crypto(), &chain, &anchor, &ValidationOptions::at(NOW));
            assert!(
                r.is_err(),
                "certificate {which} byte {i} flipped and accepted"
            );
        }
    }
}

#[test]
fn malformed_input_is_a_typed_error() {
    for bad in [
        &[][..],
        &[0x30],
        &[0x30, 0x00],
        &[0x04, 0x01, 0x00],
        &[0x30, 0x81],
    ] {
        assert!(matches!(
            Certificate::decode(bad),
            Err(X509Error::Malformed { .. })
        ));
        assert!(matches!(Csr::decode(bad), Err(X509Error::Malformed { .. })));
    }
    let mut leaf = data("leaf.der");
    leaf.push(0);
    assert!(matches!(
        Certificate::decode(&leaf),
        Err(X509Error::Malformed { .. })
    ));
    for n in 0..leaf.len() - 1 {
        assert!(Certificate::decode(&leaf[..n]).is_err(), "prefix of {n}");
    }
}

/// The COSE WG x509 examples: an end-entity certificate and its self-signed CA, both with
/// GeneralizedTime notAfter (2053).
#[test]
fn cose_wg_x509_example_chain_validates() {
    let Some(v) = iot_test_vectors::json("cose/x509-examples/signed-04.json") else {
        return;
    };
    let chain = v["input"]["sign"]["signers"][0]["unprotected"]["x5chain"]
        .as_array()
        .unwrap();
    let ders: Vec<Vec<u8>> = chain
        .iter()
        .map(|c| hex::decode(c.as_str().unwrap()).unwrap())
        .collect();
    let ee = Certificate::decode(&ders[0]).unwrap();
    assert_eq!(ee.common_name().unwrap(), Some("Alice Lovelace"));
    assert_eq!(ee.not_after, 2_643_730_045); // 2053-10-10T17:27:25Z, GeneralizedTime
    let anchor = TrustAnchor::from_certificate(&ders[1]).unwrap();
    let refs: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
    let ok = validate_chain(&mut crypto(), &refs, &anchor, &ValidationOptions::at(NOW)).unwrap();
    assert_eq!(ok.len, 1);
    assert_eq!(ok.leaf.public_key, ee.public_key);
    let err = validate_chain(
        &mut crypto(),
        &refs,
        &anchor,
        &ValidationOptions::at(1_500_000_000),
    )
    .unwrap_err();
    assert_eq!((err.index, err.reason), (0, X509Error::NotYetValid));
}
