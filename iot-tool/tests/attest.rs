//! `iot-tool attest create | verify | appraise`, run as a user runs them, in a temporary folder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::Dir;
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    iot_attest::json::b64url(bytes)
}

const NONCE: &str = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";

fn instance_id() -> Vec<u8> {
    let mut id = vec![0x0c; 33];
    id[0] = 0x01;
    id
}

fn psa_claims() -> Value {
    json!({
        "ueid": b64(&instance_id()),
        "psa-implementation-id": b64(&[0x1d; 32]),
        "psa-client-id": -1,
        "psa-security-lifecycle": 0x3000,
        "psa-software-components": [
            {"measurement-type": "BL", "measurement-value": b64(&[0xb1; 32]),
             "signer-id": b64(&[0x51; 32]), "version": "1.0.0"},
            {"measurement-type": "App", "measurement-value": b64(&[0xa1; 32]),
             "signer-id": b64(&[0x51; 32]), "version": "2.3.0"}
        ]
    })
}

fn reference(app: &str) -> Value {
    json!({
        "policy_id": "cli-test",
        "implementation_id": hex::encode([0x1d; 32]),
        "software_components": [
            {"measurement_type": "BL", "measurement_value": hex::encode([0xb1; 32]),
             "signer_id": hex::encode([0x51; 32])},
            {"measurement_type": "App", "measurement_value": app,
             "signer_id": hex::encode([0x51; 32])}
        ],
        "lifecycle": ["secured"]
    })
}

#[test]
fn create_and_verify_an_eat_of_the_constrained_device_profile() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("device");
    let claims = d.write(
        "claims.json",
        json!({"ueid": b64(&[1, 2, 3, 4, 5, 6, 7, 8]), "swname": "sensor-fw",
               "swversion": ["1.2.0"], "dbgstat": "disabled-since-boot", "oemid": 76543})
        .to_string(),
    );
    let nonce = "00112233445566778899aabbccddeeff";
    d.ok(&[
        "attest", "create", "--key", &sk, "--claims", &claims, "--nonce", nonce, "-o", "eat.cbor",
    ]);
    let token = d.read("eat.cbor");
    assert_eq!(&token[..3], &[0xd8, 0x3d, 0xd2], "61(18(...))");

    let j = d.json(&[
        "attest", "verify", "--key", &pk, "eat.cbor", "--nonce", nonce,
    ]);
    assert_eq!(j["eat_profile"], "urn:ietf:rfc:rfc9711");
    assert_eq!(j["eat_nonce"], b64(&hex::decode(nonce).unwrap()));
    assert_eq!(j["swname"], "sensor-fw");
    assert_eq!(j["swversion"], json!(["1.2.0"]));
    assert_eq!(j["dbgstat"], "disabled-since-boot");
    assert_eq!(j["oemid"], 76543);
    // Without --nonce the nonce is not compared.
    d.ok(&["attest", "verify", "--key", &pk, "eat.cbor"]);

    let e = d.fails(&[
        "attest",
        "verify",
        "--key",
        &pk,
        "eat.cbor",
        "--nonce",
        "ffeeddccbbaa99887766554433221100",
    ]);
    assert!(
        e.ends_with("the token's nonce is not the expected one"),
        "{e}"
    );
    let e = d.fails(&[
        "attest", "verify", "--key", &pk, "eat.cbor", "--nonce", "0011",
    ]);
    assert!(e.contains("nonce"), "{e}");
    let (_, other) = d.keygen("other");
    let e = d.fails(&["attest", "verify", "--key", &other, "eat.cbor"]);
    assert!(e.ends_with("signature does not verify"), "{e}");
    let mut bad = token.clone();
    let at = bad.windows(9).position(|w| w == b"sensor-fw").unwrap();
    bad[at] ^= 0x20;
    d.write("bad.cbor", &bad);
    let e = d.fails(&["attest", "verify", "--key", &pk, "bad.cbor"]);
    assert!(e.ends_with("signature does not verify"), "{e}");
    // Hex on stdin works too.
    let hexed = d.write("eat.hex", hex::encode(&token));
    d.ok(&["attest", "verify", "--key", &pk, &hexed]);
}

#[test]
fn create_refuses_what_the_profile_forbids() {
    let d = Dir::new();
    let (sk, _) = d.keygen("device");
    let mac = d.write("mac.hex", hex::encode([0x4b; 32]));
    // No kid and no ueid: the Constrained Device Standard Profile cannot identify the key.
    let anon = d.write("anon.json", json!({"swname": "x"}).to_string());
    let e = d.fails(&[
        "attest", "create", "--key", &sk, "--claims", &anon, "--nonce", NONCE, "-o", "t",
    ]);
    assert!(e.contains("kid or UEID"), "{e}");
    d.ok(&[
        "attest", "create", "--key", &sk, "--claims", &anon, "--nonce", NONCE, "--kid", "6b31",
        "-o", "t",
    ]);
    // No nonce.
    let e = d.fails(&[
        "attest", "create", "--key", &sk, "--claims", &anon, "--kid", "6b31", "-o", "t",
    ]);
    assert!(e.contains("profile violation: claim 10 is missing"), "{e}");
    // COSE_Mac0 under the Constrained Device Standard Profile.
    let e = d.fails(&[
        "attest",
        "create",
        "--mac-key",
        &mac,
        "--claims",
        &anon,
        "--nonce",
        NONCE,
        "--kid",
        "6b31",
        "-o",
        "t",
    ]);
    assert!(e.contains("COSE_Sign1 only"), "{e}");
    // A PSA token without its mandatory claims.
    let e = d.fails(&[
        "attest",
        "create",
        "--key",
        &sk,
        "--claims",
        &anon,
        "--nonce",
        NONCE,
        "--profile",
        "psa",
        "-o",
        "t",
    ]);
    assert!(e.contains("PSA profile: profile violation"), "{e}");
    // A PSA nonce must have 32, 48 or 64 bytes.
    let psa = d.write("psa.json", psa_claims().to_string());
    let e = d.fails(&[
        "attest",
        "create",
        "--key",
        &sk,
        "--claims",
        &psa,
        "--nonce",
        "0011223344556677",
        "--profile",
        "psa",
        "-o",
        "t",
    ]);
    assert!(e.contains("claim 10 has a length"), "{e}");
    // --profile and the claims disagree.
    let mut named = psa_claims();
    named["eat_profile"] = json!("urn:ietf:rfc:rfc9711");
    let named = d.write("named.json", named.to_string());
    let e = d.fails(&[
        "attest",
        "create",
        "--key",
        &sk,
        "--claims",
        &named,
        "--nonce",
        NONCE,
        "--profile",
        "psa",
        "-o",
        "t",
    ]);
    assert!(e.contains("--profile names"), "{e}");
    // Unknown claim names and bad values are named.
    let typo = d.write("typo.json", json!({"eat_nonse": "AAAA"}).to_string());
    let e = d.fails(&[
        "attest", "create", "--key", &sk, "--claims", &typo, "-o", "t",
    ]);
    assert!(e.contains("unknown claim name \"eat_nonse\""), "{e}");
    // Neither key.
    let out = d.run(&["attest", "create", "--claims", &psa, "-o", "t"]);
    assert!(!out.status.success());
}

#[test]
fn psa_tokens_signed_and_maced() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("iak");
    let mac = d.write("hs-iak.hex", hex::encode([0x4b; 32]));
    let psa = d.write("psa.json", psa_claims().to_string());
    d.ok(&[
        "attest",
        "create",
        "--key",
        &sk,
        "--claims",
        &psa,
        "--nonce",
        NONCE,
        "--profile",
        "psa",
        "-o",
        "psa.cbor",
    ]);
    let j = d.json(&[
        "attest", "verify", "--key", &pk, "--nonce", NONCE, "psa.cbor",
    ]);
    assert_eq!(j["eat_profile"], "tag:psacertified.org,2023:psa#tfm");
    assert_eq!(j["psa-software-components"][1]["version"], "2.3.0");
    assert_eq!(j["ueid"], b64(&instance_id()));

    d.ok(&[
        "attest",
        "create",
        "--mac-key",
        &mac,
        "--claims",
        &psa,
        "--nonce",
        NONCE,
        "--profile",
        "psa",
        "-o",
        "mac.cbor",
    ]);
    let token = d.read("mac.cbor");
    assert_eq!(&token[..3], &[0xd8, 0x3d, 0xd1], "61(17(...))");
    let j = d.json(&[
        "attest", "verify", "--key", &mac, "--nonce", NONCE, "mac.cbor",
    ]);
    assert_eq!(j["psa-client-id"], -1);
    let e = d.fails(&["attest", "verify", "--key", &pk, "mac.cbor"]);
    assert!(e.contains("algorithm does not match"), "{e}");
    let wrong = d.write("wrong.hex", hex::encode([0x4c; 32]));
    let e = d.fails(&["attest", "verify", "--key", &wrong, "mac.cbor"]);
    assert!(e.ends_with("authentication tag does not verify"), "{e}");
}

#[test]
fn appraise_prints_an_ear() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("iak");
    let (vsk, vpk) = d.keygen("verifier");
    let psa = d.write("psa.json", psa_claims().to_string());
    d.ok(&[
        "attest",
        "create",
        "--key",
        &sk,
        "--claims",
        &psa,
        "--nonce",
        NONCE,
        "-o",
        "psa.cbor",
        "--profile",
        "psa",
    ]);
    let good = d.write("ref.json", reference(&hex::encode([0xa1; 32])).to_string());
    let ear = d.json(&[
        "attest",
        "appraise",
        "--key",
        &pk,
        "--reference",
        &good,
        "--nonce",
        NONCE,
        "psa.cbor",
        "--ear-key",
        &vsk,
        "--ear-out",
        "ear.cwt",
    ]);
    assert_eq!(ear["eat_profile"], "tag:github.com,2023:veraison/ear");
    assert_eq!(ear["eat_nonce"], b64(&hex::decode(NONCE).unwrap()));
    let a = &ear["submods"]["PSA_IOT"];
    assert_eq!(a["ear.status"], "affirming");
    assert_eq!(a["ear.appraisal-policy-id"], "cli-test");
    assert_eq!(a["ear.trustworthiness-vector"]["executables"], 2);
    assert_eq!(a["ear.trustworthiness-vector"]["hardware"], 2);
    assert_eq!(
        iot_attest::json::from_b64url(ear["ear.raw-evidence"].as_str().unwrap()).unwrap(),
        d.read("psa.cbor")
    );
    // The signed EAR verifies with the verifier's public key and holds the same result.
    let cwt = d.read("ear.cwt");
    let t = iot_attest::Token::decode(&cwt).unwrap();
    let vk = p256_public(&d.read(&vpk));
    let mut vk = iot_core::crypto::P256VerifyingKey::from_sec1(&vk).unwrap();
    let claims = t
        .verify(&mut iot_core::crypto::RustCrypto::from_os(), &mut vk, &[])
        .unwrap();
    assert_eq!(
        claims.profile,
        Some(iot_attest::Profile::Uri("tag:github.com,2023:veraison/ear"))
    );

    // The App measurement is not among the reference values; its signer is: a warning.
    let newer = d.write("ref2.json", reference(&hex::encode([0xa2; 32])).to_string());
    let ear = d.json(&[
        "attest",
        "appraise",
        "--key",
        &pk,
        "--reference",
        &newer,
        "psa.cbor",
    ]);
    assert_eq!(ear["submods"]["PSA_IOT"]["ear.status"], "warning");
    assert_eq!(ear.get("eat_nonce"), None);

    // A wrong nonce is refused outright, with the reason.
    let e = d.fails(&[
        "attest",
        "appraise",
        "--key",
        &pk,
        "--reference",
        &good,
        "--nonce",
        &"00".repeat(32),
        "psa.cbor",
    ]);
    assert!(
        e.ends_with("the token's nonce is not the expected one"),
        "{e}"
    );
    // Misspelt reference values are refused, not ignored.
    let typo = d.write("typo.json", r#"{"lifecyle": ["secured"]}"#);
    let e = d.fails(&[
        "attest",
        "appraise",
        "--key",
        &pk,
        "--reference",
        &typo,
        "psa.cbor",
    ]);
    assert!(e.contains("unknown reference value \"lifecyle\""), "{e}");
}

#[test]
fn appraise_finds_the_key_in_a_folder_by_instance_id_or_kid() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("iak");
    let (sk2, pk2) = d.keygen("other");
    std::fs::create_dir(d.path("keys")).unwrap();
    std::fs::copy(
        d.path(&pk),
        d.path(&format!("keys/{}.pem", hex::encode(instance_id()))),
    )
    .unwrap();
    std::fs::copy(d.path(&pk2), d.path("keys/sensor-2.pem")).unwrap();
    let psa = d.write("psa.json", psa_claims().to_string());
    let reference = d.write("ref.json", reference(&hex::encode([0xa1; 32])).to_string());
    d.ok(&[
        "attest",
        "create",
        "--key",
        &sk,
        "--claims",
        &psa,
        "--nonce",
        NONCE,
        "-o",
        "psa.cbor",
        "--profile",
        "psa",
    ]);
    let ear = d.json(&[
        "attest",
        "appraise",
        "--keys",
        "keys",
        "--reference",
        &reference,
        "--nonce",
        NONCE,
        "psa.cbor",
    ]);
    assert_eq!(ear["submods"]["PSA_IOT"]["ear.status"], "affirming");

    // A token with kid "sensor-2" is found by kid; the other device's key file is bound to no
    // UEID, so its own claims pass.
    let eat = d.write(
        "eat.json",
        json!({"swname": "fw", "ueid": b64(&[9; 16])}).to_string(),
    );
    d.ok(&[
        "attest",
        "create",
        "--key",
        &sk2,
        "--claims",
        &eat,
        "--nonce",
        NONCE,
        "--kid",
        &hex::encode("sensor-2"),
        "-o",
        "eat.cbor",
    ]);
    let ear = d.json(&[
        "attest",
        "appraise",
        "--keys",
        "keys",
        "--reference",
        "ref.json",
        "eat.cbor",
    ]);
    let a = &ear["submods"]["EAT"];
    // No PSA software components or lifecycle in this EAT: not affirmed.
    assert_eq!(a["ear.trustworthiness-vector"]["executables"], 33);
    assert_eq!(a["ear.trustworthiness-vector"]["configuration"], 36);
    assert_eq!(a["ear.trustworthiness-vector"]["hardware"], 97);
    assert_eq!(a["ear.status"], "contraindicated");

    // A token of a device the folder does not know.
    let (sk3, _) = d.keygen("stranger");
    d.ok(&[
        "attest",
        "create",
        "--key",
        &sk3,
        "--claims",
        &eat,
        "--nonce",
        NONCE,
        "--kid",
        "ff",
        "-o",
        "stranger.cbor",
    ]);
    let e = d.fails(&[
        "attest",
        "appraise",
        "--keys",
        "keys",
        "--reference",
        "ref.json",
        "stranger.cbor",
    ]);
    assert!(
        e.ends_with("no key is known for the token's kid or UEID"),
        "{e}"
    );
    // A file in the folder that is not a key.
    std::fs::write(d.path("keys/notes.txt"), "not a key").unwrap();
    let e = d.fails(&[
        "attest",
        "appraise",
        "--keys",
        "keys",
        "--reference",
        "ref.json",
        "psa.cbor",
    ]);
    assert!(e.contains("notes.txt"), "{e}");
}

#[test]
fn the_psa_example_token_verifies() {
    let Some(pem) = iot_test_vectors::path("psa/example/tfm-es-iak.pem") else {
        return;
    };
    let token = iot_test_vectors::path("psa/example/psa-sign1.cbor").unwrap();
    let d = Dir::new();
    let j = d.json(&[
        "attest",
        "verify",
        "--key",
        pem.to_str().unwrap(),
        "--nonce",
        &"01".repeat(32),
        token.to_str().unwrap(),
    ]);
    assert_eq!(j["psa-client-id"], 2_147_483_647);
    assert_eq!(j["psa-security-lifecycle"], 0x3000);
    assert_eq!(j["psa-software-components"][0]["measurement-type"], "PRoT");
    assert_eq!(j["bootseed"], b64(&[0; 8]));
}

/// The SEC1 point of an SPKI PEM file.
fn p256_public(pem: &[u8]) -> Vec<u8> {
    use p256::pkcs8::DecodePublicKey;
    let text = std::str::from_utf8(pem).unwrap();
    p256::PublicKey::from_public_key_pem(text)
        .unwrap()
        .to_sec1_bytes()
        .to_vec()
}
