//! `iot-tool dice derive` against open-dice's known answers for all-zero inputs
//! (../shared/vectors/dice/open-dice-p256-zero-input.json), run as a user runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::run;
use std::collections::BTreeMap;

/// Runs and expects success; the `name: value` lines of stdout.
fn fields(args: &[&str]) -> BTreeMap<String, String> {
    let out = run(args);
    assert!(
        out.status.success(),
        "iot-tool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

const ZERO_UDS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn all_zero_inputs_give_open_dice_known_answers() {
    let Some(v) = iot_test_vectors::json("dice/open-dice-p256-zero-input.json") else {
        return;
    };
    let inputs = &v["inputs"];
    let expected = &v["expected"];
    let s = |j: &serde_json::Value| j.as_str().unwrap().to_owned();
    assert_eq!(inputs["mode"], 0);
    let dir = tempfile::tempdir().unwrap();
    let f = fields(&[
        "dice",
        "derive",
        "--uds",
        &s(&inputs["uds_or_current_cdi"]),
        "--code-hash",
        &s(&inputs["code_hash"]),
        "--config",
        &s(&inputs["config_value"]),
        "--authority-hash",
        &s(&inputs["authority_hash"]),
        "--mode",
        "not-configured",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(f["CDI_Attest"], s(&expected["cdi_attest"]));
    assert_eq!(f["CDI_Seal"], s(&expected["cdi_seal"]));
    assert_eq!(f["UDS_public_key"], s(&expected["issuer_public_key_xy"]));
    assert_eq!(f["UDS_ID"], s(&expected["issuer_id"]));
    assert_eq!(f["CDI_public_key"], s(&expected["subject_public_key_xy"]));
    assert_eq!(f["CDI_ID"], s(&expected["subject_id"]));

    // The certificate: every byte before the (randomized) 64-byte ECDSA signature.
    let cert = std::fs::read(dir.path().join("cdi_certificate.cbor")).unwrap();
    let want = hex::decode(s(&expected["certificate_cbor"])).unwrap();
    assert_eq!(cert.len(), want.len());
    assert_eq!(cert[..cert.len() - 64], want[..want.len() - 64]);
    assert!(f["certificate"].starts_with(&format!("{} bytes written to ", cert.len())));

    // The defaults are the all-zero inputs; without --out the certificate is printed.
    let d = fields(&["dice", "derive", "--uds", ZERO_UDS]);
    assert_eq!(d["CDI_Attest"], f["CDI_Attest"]);
    assert_eq!(d["CDI_Seal"], f["CDI_Seal"]);
    let printed = hex::decode(&d["certificate"]).unwrap();
    assert_eq!(printed[..printed.len() - 64], want[..want.len() - 64]);
}

#[test]
fn each_input_reaches_the_cdis_it_should() {
    let base = fields(&["dice", "derive", "--uds", ZERO_UDS]);
    let with = |extra: &[&str]| {
        let mut args = vec!["dice", "derive", "--uds", ZERO_UDS];
        args.extend_from_slice(extra);
        fields(&args)
    };
    let ones = "11".repeat(64);
    // Code and configuration feed CDI_Attest only; authority and mode feed both.
    for (extra, seal_changes) in [
        (vec!["--code-hash", ones.as_str()], false),
        (vec!["--config", ones.as_str()], false),
        (vec!["--config", "0102"], false),
        (vec!["--authority-hash", ones.as_str()], true),
        (vec!["--mode", "normal"], true),
        (vec!["--mode", "debug"], true),
        (vec!["--mode", "maintenance"], true),
    ] {
        let f = with(&extra);
        assert_ne!(f["CDI_Attest"], base["CDI_Attest"], "{extra:?}");
        assert_eq!(f["CDI_Seal"] != base["CDI_Seal"], seal_changes, "{extra:?}");
        // The UDS key pair does not depend on the inputs; the next layer's does.
        assert_eq!(f["UDS_ID"], base["UDS_ID"], "{extra:?}");
        assert_ne!(f["CDI_ID"], base["CDI_ID"], "{extra:?}");
    }
    let again = with(&[]);
    assert_eq!(again["CDI_Attest"], base["CDI_Attest"], "deterministic");
}

#[test]
fn wrong_lengths_are_refused_in_one_line() {
    for args in [
        vec!["dice", "derive", "--uds", "00"],
        vec!["dice", "derive", "--uds", ZERO_UDS, "--code-hash", "00"],
        vec![
            "dice",
            "derive",
            "--uds",
            ZERO_UDS,
            "--authority-hash",
            "00",
        ],
        vec!["dice", "derive", "--uds", "xyz"],
        vec!["dice", "derive", "--uds", ZERO_UDS, "--mode", "secure"],
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(out.stdout.is_empty(), "{args:?} printed");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    }
}
