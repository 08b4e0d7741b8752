//! `iot-tool suit create` and `suit sever`, run as a user runs them: envelopes built from JSON
//! descriptions verify with `suit verify`, libcsuit's exp1 and expI come out byte for byte, severed
//! envelopes still verify, and bad input fails with one line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::{CLASS, VENDOR, fails, keygen, ok, run, s, suit_create};
use std::path::{Path, PathBuf};

/// The JSON descriptions of iot-update-manifest's builder tests.
fn description(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../iot-update-manifest/tests/data/builder")
        .join(format!("{name}.json"))
}

/// An update of component [h'00'] to `firmware.bin`, integrated as `#fw`, with install and text
/// severed.
fn update_json(sequence: u64) -> String {
    format!(
        r##"{{
  "sequence-number": {sequence},
  "components": [["00"]],
  "shared-sequence": [
    {{"directive-override-parameters": {{"vendor-id": "{VENDOR}", "class-id": "{CLASS}",
                                        "image": {{"file": "firmware.bin"}}}}}},
    {{"condition-vendor-identifier": 15}},
    {{"condition-class-identifier": 15}}
  ],
  "validate": [{{"condition-image-match": 15}}],
  "install": [
    {{"directive-override-parameters": {{"uri": "#fw"}}}},
    {{"directive-fetch": 2}},
    {{"condition-image-match": 15}}
  ],
  "text": {{"en": {{"update-description": "firmware 7"}}}},
  "sever": ["install", "text"],
  "integrated": {{"#fw": {{"file": "firmware.bin"}}}}
}}"##
    )
}

/// A folder with a key pair, a MAC key, the firmware and its description.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        keygen(p, "key");
        std::fs::write(p.join("mac.hex"), hex::encode([0x5a; 32])).unwrap();
        std::fs::write(p.join("firmware.bin"), b"firmware image, version 7").unwrap();
        std::fs::write(p.join("update.json"), update_json(7)).unwrap();
        Self { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// The private key (PKCS#8 PEM).
    fn key(&self) -> PathBuf {
        self.path("key.pem")
    }
    /// The public key (SPKI PEM).
    fn public(&self) -> PathBuf {
        self.path("key.pub.pem")
    }
}

#[test]
fn created_envelopes_verify_and_severed_ones_still_do() {
    let t = Setup::new();
    let (json, env, severed) = (
        t.path("update.json"),
        t.path("update.suit"),
        t.path("severed.suit"),
    );
    let line = ok(&suit_create(&t.key(), &json, &env));
    assert!(line.contains("sequence number 7"), "{line}");
    let verified = ok(&["suit", "verify", "--key", s(&t.public()), s(&env)]);
    assert_eq!(
        verified.trim_end(),
        "authenticated: sequence number 7, 1 component: [h'00']"
    );
    let tree = ok(&["suit", "inspect", "--key", s(&t.public()), s(&env)]);
    assert!(
        tree.contains("install (severed, restored from the envelope):"),
        "{tree}"
    );
    assert!(tree.contains("uri: #fw"), "{tree}");
    // Deterministic: the same description and key give the same bytes.
    let again = t.path("again.suit");
    ok(&suit_create(&t.key(), &json, &again));
    assert_eq!(std::fs::read(&env).unwrap(), std::fs::read(&again).unwrap());

    let line = ok(&["suit", "sever", s(&env), "-o", s(&severed)]);
    assert!(line.contains("removed"), "{line}");
    let (full, cut) = (
        std::fs::read(&env).unwrap(),
        std::fs::read(&severed).unwrap(),
    );
    assert!(cut.len() < full.len());
    let verified = ok(&["suit", "verify", "--key", s(&t.public()), s(&severed)]);
    assert!(verified.starts_with("authenticated: sequence number 7"));
    let tree = ok(&["suit", "inspect", "--key", s(&t.public()), s(&severed)]);
    assert!(
        tree.contains("install: severed, not in the envelope (sha-256 "),
        "{tree}"
    );
    // Severing twice changes nothing; `-o -` writes the envelope to stdout.
    let out = run(&["suit", "sever", s(&severed), "-o", "-"]);
    assert!(out.status.success());
    assert_eq!(out.stdout, cut);
    // Another key refuses it.
    let other = t.path("other.pem");
    ok(&["keygen", "--out", s(&other)]);
    let err = fails(&["suit", "verify", "--key", s(&other), s(&severed)]);
    assert!(err.contains("refused: not authenticated"), "{err}");
}

#[test]
fn a_symmetric_key_makes_a_mac0() {
    let t = Setup::new();
    let env = t.path("maced.suit");
    ok(&suit_create(
        &t.path("mac.hex"),
        &t.path("update.json"),
        &env,
    ));
    let verified = ok(&["suit", "verify", "--key", s(&t.path("mac.hex")), s(&env)]);
    assert!(verified.starts_with("authenticated: sequence number 7"));
    let err = fails(&["suit", "verify", "--key", s(&t.public()), s(&env)]);
    assert!(err.contains("refused: no trusted key"), "{err}");
}

/// libcsuit's trust anchor labels its PKCS#8 body "EC PRIVATE KEY"; given as PKCS#8 it signs.
fn libcsuit_key(dir: &Path) -> Option<PathBuf> {
    let pem = iot_test_vectors::read("suit/libcsuit/key/trust_anchor_secp256r1.pem")?;
    let pem = String::from_utf8(pem).unwrap();
    let at = pem.find("-----BEGIN EC PRIVATE KEY-----").unwrap();
    let path = dir.join("trust_anchor_pkcs8.pem");
    std::fs::write(&path, pem[at..].replace("EC PRIVATE KEY", "PRIVATE KEY")).unwrap();
    Some(path)
}

#[test]
fn libcsuit_envelopes_are_reproduced_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let Some(key) = libcsuit_key(dir.path()) else {
        return;
    };
    let lib = iot_test_vectors::path("suit/libcsuit").unwrap();
    let public = lib.join("key/trust_anchor_secp256r1_pub.pem");
    for name in ["exp1", "expI"] {
        // The description names files of the vectors folder: place it there (a copy in the
        // temporary folder, beside copies of those files).
        let json = std::fs::read_to_string(description(&format!("libcsuit-{name}"))).unwrap();
        let desc = dir.path().join(format!("{name}.json"));
        std::fs::write(&desc, &json).unwrap();
        for entry in std::fs::read_dir(&lib).unwrap() {
            let p = entry.unwrap().path();
            if p.is_file() && json.contains(p.file_name().unwrap().to_str().unwrap()) {
                std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
            }
        }
        let out = dir.path().join(format!("{name}.suit"));
        ok(&["suit", "create", "--key", s(&key), s(&desc), "-o", s(&out)]);
        let expected =
            iot_test_vectors::read(&format!("suit/libcsuit/suit_manifest_{name}.suit")).unwrap();
        assert_eq!(
            hex::encode(std::fs::read(&out).unwrap()),
            hex::encode(expected),
            "{name}"
        );
        ok(&["suit", "verify", "--key", s(&public), s(&out)]);
    }
}

#[test]
fn bad_input_fails_with_one_line() {
    let t = Setup::new();
    let out = t.path("out.suit");
    let bad = t.path("bad.json");
    std::fs::write(&bad, r#"{"sequence-number": 1}"#).unwrap();
    let err = fails(&suit_create(&t.key(), &bad, &out));
    assert!(err.contains("missing field `components`"), "{err}");
    std::fs::write(&bad, update_json(1).replace("firmware.bin", "absent.bin")).unwrap();
    let err = fails(&suit_create(&t.key(), &bad, &out));
    assert!(err.contains("absent.bin"), "{err}");
    let err = fails(&suit_create(&t.public(), &t.path("update.json"), &out));
    assert!(err.contains("signing needs a P-256 private key"), "{err}");
    assert!(!out.exists(), "nothing written on failure");
    let err = fails(&["suit", "sever", s(&t.path("firmware.bin")), "-o", s(&out)]);
    assert!(err.contains("not a SUIT envelope"), "{err}");
    assert!(!out.exists());
}

/// `"encrypt"`: a payload hosted at a URI is written beside the envelope, named by the URI's last
/// segment; it is the ciphertext (with the GCM tag) that the manifest's encryption info opens with
/// the KEK, and the envelope carries no plaintext.
#[test]
fn encrypted_payloads_are_written_beside_the_envelope() {
    use iot_core::crypto::RustCrypto;
    use iot_update_manifest::encryption::{Kek, decrypt_in_place};
    use iot_update_manifest::{Argument, Envelope, Parameter, TrustAnchors};
    use p256::pkcs8::DecodePublicKey;
    let t = Setup::new();
    let uri = "coaps://example.com/fw/firmware.enc";
    let json = format!(
        r#"{{"sequence-number": 2, "components": [["00"]],
  "install": [
    {{"directive-override-parameters": {{"uri": "{uri}", "image": {{"file": "firmware.bin"}},
                                        "encryption-info": {{"encrypted": "{uri}"}}}}}},
    {{"directive-fetch": 2}}, {{"condition-image-match": 15}}],
  "encrypt": {{"{uri}": {{"image": {{"file": "firmware.bin"}}, "algorithm": "A128GCM",
                         "kek": {{"text": "aaaaaaaaaaaaaaaa"}}, "kid": {{"text": "kid-1"}}}}}}}}"#
    );
    std::fs::write(t.path("enc.json"), json).unwrap();
    let env = t.path("enc.suit");
    let out = ok(&suit_create(&t.key(), &t.path("enc.json"), &env));
    assert!(out.contains("firmware.enc: encrypted payload"), "{out}");
    let envelope = std::fs::read(&env).unwrap();
    let firmware = std::fs::read(t.path("firmware.bin")).unwrap();
    assert!(!envelope.windows(firmware.len()).any(|w| w == firmware));
    let mut payload = std::fs::read(t.path("firmware.enc")).unwrap();
    assert_eq!(payload.len(), firmware.len() + 16);

    // The encryption info, read back from the authenticated manifest, opens the payload.
    let mut crypto = RustCrypto::from_os();
    let key = iot_core::crypto::P256VerifyingKey::from_sec1(
        &p256::PublicKey::from_public_key_pem(&std::fs::read_to_string(t.public()).unwrap())
            .unwrap()
            .to_sec1_bytes(),
    )
    .unwrap();
    let mut keys = [key];
    let decoded = Envelope::decode(&envelope).unwrap();
    let auth = decoded
        .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    let install = auth.manifest().install().unwrap().get().unwrap();
    let info = install
        .iter()
        .find_map(|(_, arg)| match arg {
            Argument::Parameters(p) => p.iter().find_map(|p| match p {
                Parameter::EncryptionInfo(i) => Some(i),
                _ => None,
            }),
            _ => None,
        })
        .unwrap();
    let n = decrypt_in_place(
        &mut crypto,
        info,
        &Kek::A128Kw(b"aaaaaaaaaaaaaaaa"),
        &mut payload,
    )
    .unwrap();
    assert_eq!(&payload[..n], firmware);
}

/// Two hosted payloads whose URIs end in the same segment, or one ending in the envelope's own
/// file name, would overwrite each other: `suit create` refuses them and writes nothing.
#[test]
fn hosted_payloads_never_overwrite_each_other_or_the_envelope() {
    let t = Setup::new();
    let encrypted = |uris: &[&str]| {
        let params: Vec<String> = uris
            .iter()
            .map(|u| {
                format!(
                    r#"{{"directive-override-parameters": {{"uri": "{u}",
                        "encryption-info": {{"encrypted": "{u}"}}}}}}, {{"directive-fetch": 2}}"#
                )
            })
            .collect();
        let encrypt: Vec<String> = uris
            .iter()
            .map(|u| {
                format!(
                    r#""{u}": {{"image": {{"file": "firmware.bin"}}, "algorithm": "A128GCM",
                        "kek": {{"text": "aaaaaaaaaaaaaaaa"}}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"sequence-number": 2, "components": [["00"]], "install": [{}],
                "encrypt": {{{}}}}}"#,
            params.join(", "),
            encrypt.join(", ")
        )
    };
    let env = t.path("enc.suit");
    for (uris, why) in [
        (
            &["coap://a.example/fw.enc", "coap://b.example/fw.enc"][..],
            "fw.enc",
        ),
        (&["coap://a.example/enc.suit"][..], "enc.suit"),
        (&["coap://a.example/fw/"][..], "no file name"),
        (&["coap://a.example/.."][..], "no file name"),
    ] {
        std::fs::write(t.path("enc.json"), encrypted(uris)).unwrap();
        let err = fails(&suit_create(&t.key(), &t.path("enc.json"), &env));
        assert!(err.contains(why), "{uris:?}: {err}");
        assert!(!env.exists(), "{uris:?}: the envelope is not written");
        assert!(!t.path("fw.enc").exists(), "{uris:?}: no payload written");
    }
    // Distinct last segments are written, each beside the envelope.
    let uris = ["coap://a.example/fw.enc", "coap://b.example/fw2.enc"];
    std::fs::write(t.path("enc.json"), encrypted(&uris)).unwrap();
    let out = ok(&suit_create(&t.key(), &t.path("enc.json"), &env));
    assert!(out.contains("fw.enc: encrypted payload"), "{out}");
    assert!(out.contains("fw2.enc: encrypted payload"), "{out}");
    assert!(t.path("fw.enc").exists() && t.path("fw2.enc").exists());
}

/// The CWT in which the private key at `issuer` (PKCS#8 PEM) confirms the public key at
/// `subject` (SPKI PEM): `{8: {1: COSE_Key}}` in a COSE_Sign1 (ES256), as draft-ietf-suit-trust-
/// domains' `suit-delegation` carries it.
fn cwt(issuer: &Path, subject: &Path) -> Vec<u8> {
    cwt_until(issuer, subject, None)
}

/// [`cwt`], with an `exp` claim (4) when given.
fn cwt_until(issuer: &Path, subject: &Path, exp: Option<u32>) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
    let pem = |p: &Path| std::fs::read_to_string(p).unwrap();
    let secret = p256::SecretKey::from_pkcs8_pem(&pem(issuer)).unwrap();
    let public = p256::PublicKey::from_public_key_pem(&pem(subject)).unwrap();
    let point = public.to_sec1_point(false);
    let (x, y) = (&point.as_bytes()[1..33], &point.as_bytes()[33..]);
    let claims = iot_test_vectors::cnf_claims(x, y, exp);
    let mut signer = iot_core::crypto::P256SigningKey::from_bytes(&secret.to_bytes()).unwrap();
    let mut out = vec![0u8; 256];
    let n = iot_core::cose::Sign1Builder::new(iot_core::cose::Algorithm::Es256)
        .sign(
            &mut iot_core::crypto::RustCrypto::from_os(),
            &mut signer,
            &claims,
            &[],
            &mut out,
        )
        .unwrap();
    out.truncate(n);
    out
}

/// A description's `"delegation"`: the envelope, signed by a delegate, verifies with
/// `suit verify --key ANCHOR` when the chain starts at that anchor; `suit inspect` shows the
/// chain; a chain from another key, a flipped CWT bit, or no delegation: refused.
#[test]
fn a_delegated_envelope_verifies_under_the_anchor() {
    let t = Setup::new();
    keygen(t.dir.path(), "anchor");
    keygen(t.dir.path(), "stranger");
    let (anchor, anchor_pub) = (t.path("anchor.pem"), t.path("anchor.pub.pem"));
    let with = |name: &str, chains: &[&[Vec<u8>]]| {
        let mut desc: serde_json::Value = serde_json::from_str(&update_json(7)).unwrap();
        let hexes: Vec<Vec<String>> = chains
            .iter()
            .map(|c| c.iter().map(hex::encode).collect())
            .collect();
        desc["delegation"] = serde_json::json!(hexes);
        let (json, env) = (
            t.path(&format!("{name}.json")),
            t.path(&format!("{name}.suit")),
        );
        std::fs::write(&json, desc.to_string()).unwrap();
        ok(&suit_create(&t.key(), &json, &env));
        env
    };
    let good = cwt(&anchor, &t.public());
    let env = with("delegated", &[std::slice::from_ref(&good)]);
    let verified = ok(&["suit", "verify", "--key", s(&anchor_pub), s(&env)]);
    assert_eq!(
        verified.trim_end(),
        "authenticated: sequence number 7, 1 component: [h'00']"
    );
    let tree = ok(&["suit", "inspect", "--key", s(&anchor_pub), s(&env)]);
    let public = std::fs::read_to_string(t.public()).unwrap();
    let point = {
        use p256::elliptic_curve::sec1::ToSec1Point;
        use p256::pkcs8::DecodePublicKey;
        p256::PublicKey::from_public_key_pem(&public)
            .unwrap()
            .to_sec1_point(false)
    };
    let x = hex::encode(&point.as_bytes()[1..33]);
    assert!(tree.contains("delegation:\n  chain 0:\n"), "{tree}");
    assert!(
        tree.contains(&format!(
            "    CWT 0: issued by a trust anchor, confirms P-256 x {x} y "
        )),
        "{tree}"
    );
    // The delegate's own key is no trust anchor of that chain: refused, by the chain.
    let err = fails(&["suit", "verify", "--key", s(&t.public()), s(&env)]);
    assert!(err.contains("delegation chain 0 CWT 0"), "{err}");
    // A chain from a key that is not the anchor; a flipped bit of the CWT's signature.
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 1;
    for (name, chain) in [
        ("stranger", cwt(&t.path("stranger.pem"), &t.public())),
        ("flipped", flipped),
    ] {
        let env = with(name, &[&[chain]]);
        let err = fails(&["suit", "verify", "--key", s(&anchor_pub), s(&env)]);
        assert!(
            err.contains("delegation chain 0 CWT 0: NotAuthenticated"),
            "{name}: {err}"
        );
    }
    // A CWT with an `exp` (in 2096): checked against --clock (this machine's by default);
    // refused without a clock.
    let until = with(
        "until",
        &[&[cwt_until(&anchor, &t.public(), Some(4_000_000_000))]],
    );
    let verify_at = |clock: Option<&'static str>| {
        let mut args = vec!["suit", "verify", "--key", s(&anchor_pub), s(&until)];
        args.extend(clock.map(|c| ["--clock", c]).into_iter().flatten());
        args
    };
    for clock in [None, Some("now"), Some("3999999999")] {
        ok(&verify_at(clock));
    }
    for (clock, why) in [
        ("4000000000", "delegation chain 0 CWT 0: Expired"),
        ("none", "delegation chain 0 CWT 0: UnsupportedClaim(4)"),
    ] {
        let err = fails(&verify_at(Some(clock)));
        assert!(err.contains(why), "{clock}: {err}");
    }
    let err = fails(&verify_at(Some("tomorrow")));
    assert!(err.contains("expected now, none or seconds"), "{err}");
    let tree = ok(&["suit", "inspect", "--key", s(&anchor_pub), s(&until)]);
    assert!(tree.contains(", expires 4000000000\n"), "{tree}");
    assert!(!tree.contains("not before"), "{tree}");
    // No delegation: the anchor does not authenticate the delegate's envelope.
    let plain = t.path("plain.suit");
    ok(&suit_create(&t.key(), &t.path("update.json"), &plain));
    let err = fails(&["suit", "verify", "--key", s(&anchor_pub), s(&plain)]);
    assert!(err.contains("refused: not authenticated"), "{err}");
}
