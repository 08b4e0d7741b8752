//! The iot-tool binary, run as a user runs it, in a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::Dir;
use iot_core::cose::{CoseKey, Ec2Y, SymmetricKey};
use p256::pkcs8::{DecodePrivateKey, LineEnding};
use std::path::Path;
use std::process::Command;

#[test]
fn keygen_writes_pkcs8_and_spki_pem() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("device");
    let private = String::from_utf8(d.read(&sk)).unwrap();
    let public = String::from_utf8(d.read(&pk)).unwrap();
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{private}"
    );
    assert!(
        public.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{public}"
    );
    // The PEM parses with p256 and the public key is the private key's.
    let parsed = p256::SecretKey::from_pkcs8_pem(&private).unwrap();
    use p256::pkcs8::EncodePublicKey;
    assert_eq!(
        parsed
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
        public
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.path(&sk)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "private key readable by others: {mode:o}");
    }
    // An existing private key is not overwritten without --force; two keygens differ.
    let e = d.fails(&["keygen", "--out", &sk]);
    assert!(e.contains("exists already"), "{e}");
    d.ok(&["keygen", "--out", &sk, "--force"]);
    assert_ne!(d.read(&sk), private.as_bytes());
}

#[test]
fn sign_verify_every_flag_combination() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("k");
    let payload = b"{\"t\": 21.5} telemetry";
    d.write("payload.bin", payload);
    let mut cases = 0;
    for alg in [None, Some("ES256"), Some("ESP256")] {
        for kid in [None, Some("0a0b0c")] {
            for detached in [false, true] {
                for untagged in [false, true] {
                    for aad in [None, Some("aabb")] {
                        let mut args = vec!["cose", "sign", "--key", &sk];
                        if let Some(a) = alg {
                            args.extend(["--alg", a]);
                        }
                        if let Some(k) = kid {
                            args.extend(["--kid", k]);
                        }
                        if detached {
                            args.push("--detached");
                        }
                        if untagged {
                            args.push("--untagged");
                        }
                        if let Some(a) = aad {
                            args.extend(["--aad", a]);
                        }
                        args.extend(["payload.bin", "-o", "msg.cose"]);
                        d.ok(&args);

                        // The message says what the flags asked for.
                        let msg = d.read("msg.cose");
                        assert_eq!(msg[0] == 0xd2, !untagged, "{args:?}");
                        let diag = d.ok(&["diag", "--compact", "msg.cose"]);
                        let alg_id = if alg == Some("ESP256") {
                            "{1: -9}"
                        } else {
                            "{1: -7}"
                        };
                        let prot = if alg == Some("ESP256") {
                            "h'a10128'"
                        } else {
                            "h'a10126'"
                        };
                        assert!(diag.contains(prot), "{diag} for {alg_id}");
                        assert_eq!(diag.contains("{4: h'0a0b0c'}"), kid.is_some(), "{diag}");
                        assert_eq!(diag.contains(", null, h'"), detached, "{diag}");
                        assert_eq!(diag.starts_with("18(["), !untagged, "{diag}");

                        let mut v = vec!["cose", "verify", "--key", &pk];
                        if detached {
                            v.extend(["--payload", "payload.bin"]);
                        }
                        if let Some(a) = aad {
                            v.extend(["--aad", a]);
                        }
                        v.extend(["msg.cose", "-o", "out.bin"]);
                        let said = d.ok(&v);
                        assert!(said.starts_with("valid ES"), "{said}");
                        assert_eq!(said.contains("kid h'0a0b0c'"), kid.is_some(), "{said}");
                        assert_eq!(d.read("out.bin"), payload);
                        // The private key is accepted where the public one is wanted.
                        v[3] = &sk;
                        d.ok(&v);
                        // Without the AAD it was made with (or with one it was not), it fails.
                        let mut wrong = vec!["cose", "verify", "--key", &pk];
                        if detached {
                            wrong.extend(["--payload", "payload.bin"]);
                        }
                        wrong.extend(["--aad", if aad.is_some() { "aabc" } else { "01" }]);
                        wrong.push("msg.cose");
                        let e = d.fails(&wrong);
                        assert!(e.ends_with("signature does not verify"), "{e}");
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 48);
}

#[test]
fn verify_refuses_with_one_line_reason() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("a");
    let (_, other) = d.keygen("b");
    d.write("p.txt", b"reading 42");
    d.ok(&["cose", "sign", "--key", &sk, "p.txt", "-o", "m.cose"]);
    d.ok(&["cose", "verify", "--key", &pk, "m.cose"]);

    // Tampered: one payload byte changed.
    let mut msg = d.read("m.cose");
    let at = msg.windows(10).position(|w| w == b"reading 42").unwrap();
    msg[at] ^= 0x20;
    d.write("tampered.cose", &msg);
    let e = d.fails(&["cose", "verify", "--key", &pk, "tampered.cose"]);
    assert_eq!(e, "iot-tool: tampered.cose: signature does not verify");

    // Wrong key.
    let e = d.fails(&["cose", "verify", "--key", &other, "m.cose"]);
    assert_eq!(e, "iot-tool: m.cose: signature does not verify");

    // Detached message without --payload, and attached message with one.
    d.ok(&[
        "cose",
        "sign",
        "--key",
        &sk,
        "--detached",
        "p.txt",
        "-o",
        "det.cose",
    ]);
    let e = d.fails(&["cose", "verify", "--key", &pk, "det.cose"]);
    assert!(
        e.starts_with("iot-tool: det.cose: payload attached/detached mismatch"),
        "{e}"
    );
    assert!(e.contains("--payload"), "{e}");
    d.ok(&[
        "cose",
        "verify",
        "--key",
        &pk,
        "--payload",
        "p.txt",
        "det.cose",
    ]);
    let e = d.fails(&[
        "cose",
        "verify",
        "--key",
        &pk,
        "--payload",
        "p.txt",
        "m.cose",
    ]);
    assert!(e.contains("payload attached/detached mismatch"), "{e}");
    // Wrong detached payload.
    d.write("q.txt", b"reading 43");
    let e = d.fails(&[
        "cose",
        "verify",
        "--key",
        &pk,
        "--payload",
        "q.txt",
        "det.cose",
    ]);
    assert!(e.ends_with("signature does not verify"), "{e}");

    // Truncated message, trailing bytes, not CBOR at all, missing file, wrong key kind.
    let good = d.read("m.cose");
    d.write("short.cose", &good[..good.len() - 1]);
    let e = d.fails(&["cose", "verify", "--key", &pk, "short.cose"]);
    assert!(e.contains("input ends inside an item"), "{e}");
    d.write("long.cose", [&good[..], &[0][..]].concat());
    let e = d.fails(&["cose", "verify", "--key", &pk, "long.cose"]);
    assert!(e.contains("trailing bytes"), "{e}");
    let e = d.fails(&["cose", "verify", "--key", &pk, "nope.cose"]);
    assert!(e.contains("nope.cose"), "{e}");
    d.write("sym.hex", "00112233445566778899aabbccddeeff");
    let e = d.fails(&["cose", "verify", "--key", "sym.hex", "m.cose"]);
    assert!(
        e.contains("not a COSE_Mac0") && e.contains("unexpected CBOR tag 18"),
        "{e}"
    );
    let e = d.fails(&["cose", "sign", "--key", &pk, "p.txt", "-o", "x.cose"]);
    assert!(e.contains("signing needs a P-256 private key"), "{e}");
    // ESP256 message against a key restricted to ES256 (JWK "alg").
    d.ok(&[
        "cose", "sign", "--key", &sk, "--alg", "ESP256", "p.txt", "-o", "esp.cose",
    ]);
    let jwk = public_jwk(&d.read(&pk), Some("ES256"));
    d.write("es256.jwk", jwk);
    let e = d.fails(&["cose", "verify", "--key", "es256.jwk", "esp.cose"]);
    assert!(
        e.ends_with("algorithm does not match the key or operation"),
        "{e}"
    );
    // Usage errors are one line too.
    let e = d.fails(&[
        "cose", "sign", "--key", &sk, "--alg", "RS256", "p.txt", "-o", "x",
    ]);
    assert!(e.contains("RS256"), "{e}");
    let e = d.fails(&["cose", "verify", "m.cose"]);
    assert!(e.contains("--key"), "{e}");
}

/// A public JWK from an SPKI PEM.
fn public_jwk(spki_pem: &[u8], alg: Option<&str>) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use p256::elliptic_curve::sec1::ToSec1Point;
    use p256::pkcs8::DecodePublicKey;
    let pk = p256::PublicKey::from_public_key_pem(std::str::from_utf8(spki_pem).unwrap()).unwrap();
    let point = pk.to_sec1_point(false);
    let bytes = point.as_bytes();
    let alg = alg.map(|a| format!(",\"alg\":\"{a}\"")).unwrap_or_default();
    format!(
        "{{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"{}\",\"y\":\"{}\"{alg}}}",
        Base64UrlUnpadded::encode_string(&bytes[1..33]),
        Base64UrlUnpadded::encode_string(&bytes[33..65])
    )
}

#[test]
fn sign_and_verify_with_every_ec_key_format() {
    let d = Dir::new();
    let (sk_pem, pk_pem) = d.keygen("k");
    let sk =
        p256::SecretKey::from_pkcs8_pem(std::str::from_utf8(&d.read(&sk_pem)).unwrap()).unwrap();
    use base64ct::{Base64UrlUnpadded, Encoding};
    use p256::elliptic_curve::sec1::ToSec1Point;
    let point = sk.public_key().to_sec1_point(false);
    let (x, y) = (&point.as_bytes()[1..33], &point.as_bytes()[33..65]);
    let dbytes = sk.to_bytes();

    // SEC1 PEM, JWK and COSE_Key (binary and hex) of the same key pair.
    d.write(
        "sec1.pem",
        sk.to_sec1_pem(LineEnding::LF).unwrap().as_bytes(),
    );
    d.write(
        "private.jwk",
        format!(
            "{{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"dev\",\"x\":\"{}\",\"y\":\"{}\",\"d\":\"{}\"}}",
            Base64UrlUnpadded::encode_string(x),
            Base64UrlUnpadded::encode_string(y),
            Base64UrlUnpadded::encode_string(&dbytes)
        ),
    );
    d.write("public.jwk", public_jwk(&d.read(&pk_pem), None));
    let cose = |d_: Option<&[u8]>| {
        let k = CoseKey::Ec2 {
            kid: None,
            alg: None,
            x,
            y: Ec2Y::Coordinate(y),
            d: d_,
        };
        let mut buf = [0u8; 160];
        let n = k.encode_to(&mut buf).unwrap();
        buf[..n].to_vec()
    };
    d.write("private.cosekey", cose(Some(&dbytes)));
    d.write("public.cosekey", cose(None));
    d.write("public.cosekey.hex", hex::encode(cose(None)));
    d.write("p", b"payload");

    let privates = [
        sk_pem.as_str(),
        "sec1.pem",
        "private.jwk",
        "private.cosekey",
    ];
    let publics = [
        pk_pem.as_str(),
        "public.jwk",
        "public.cosekey",
        "public.cosekey.hex",
    ];
    for private in privates {
        d.ok(&["cose", "sign", "--key", private, "p", "-o", "m"]);
        for public in publics {
            d.ok(&["cose", "verify", "--key", public, "m"]);
        }
    }
    // Deterministic ECDSA (RFC 6979): every format gave the same key, hence the same message.
    let msgs: Vec<Vec<u8>> = privates
        .iter()
        .map(|k| {
            d.ok(&["cose", "sign", "--key", k, "p", "-o", "m"]);
            d.read("m")
        })
        .collect();
    assert!(msgs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn encrypt_decrypt_all_algorithms_and_key_formats() {
    let d = Dir::new();
    let plaintext = b"firmware telemetry: 21.5 C, 48 %rH";
    d.write("plain.bin", plaintext);
    let mut cases = 0;
    for (alg, len) in [
        ("AES-CCM-16-64-128", 16),
        ("ChaCha20/Poly1305", 32),
        ("A128GCM", 16),
    ] {
        let k: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let other: Vec<u8> = k.iter().map(|b| b ^ 0x80).collect();
        let cose_key = |k: &[u8]| {
            let mut buf = [0u8; 64];
            let n = CoseKey::Symmetric(SymmetricKey::new(k))
                .encode_to(&mut buf)
                .unwrap();
            buf[..n].to_vec()
        };
        use base64ct::{Base64UrlUnpadded, Encoding};
        let files = [
            d.write("k.hex", format!("{}\n", hex::encode(&k))),
            d.write(
                "k.jwk",
                format!(
                    "{{\"kty\":\"oct\",\"k\":\"{}\"}}",
                    Base64UrlUnpadded::encode_string(&k)
                ),
            ),
            d.write("k.cosekey", cose_key(&k)),
            d.write("k.cosekey.hex", hex::encode(cose_key(&k))),
        ];
        d.write("other.hex", hex::encode(&other));
        for enc_key in &files {
            let enc_key = enc_key.as_str();
            for kid in [None, Some("6b31")] {
                let mut args = vec!["cose", "encrypt", "--key", enc_key, "--alg", alg];
                if let Some(kid) = kid {
                    args.extend(["--kid", kid]);
                }
                args.extend(["plain.bin", "-o", "msg.cose"]);
                d.ok(&args);
                let msg = d.read("msg.cose");
                assert_eq!(msg[0], 0xd0, "tag 16");
                assert!(
                    !msg.windows(plaintext.len()).any(|w| w == plaintext),
                    "plaintext visible"
                );
                // Decrypt with every format of the same key.
                for dec_key in &files {
                    let dec_key = dec_key.as_str();
                    let _ = std::fs::remove_file(d.path("out.bin"));
                    d.ok(&[
                        "cose", "decrypt", "--key", dec_key, "msg.cose", "-o", "out.bin",
                    ]);
                    assert_eq!(d.read("out.bin"), plaintext);
                }
                let e = d.fails(&[
                    "cose",
                    "decrypt",
                    "--key",
                    "other.hex",
                    "msg.cose",
                    "-o",
                    "x",
                ]);
                assert_eq!(e, "iot-tool: msg.cose: authentication tag does not verify");
                assert!(!d.path("x").exists(), "no plaintext written on failure");
                cases += 1;
            }
        }
        // Two encryptions of the same plaintext differ (a fresh IV each).
        d.ok(&[
            "cose",
            "encrypt",
            "--key",
            "k.hex",
            "--alg",
            alg,
            "plain.bin",
            "-o",
            "a",
        ]);
        d.ok(&[
            "cose",
            "encrypt",
            "--key",
            "k.hex",
            "--alg",
            alg,
            "plain.bin",
            "-o",
            "b",
        ]);
        assert_ne!(d.read("a"), d.read("b"));
        // External AAD must match.
        d.ok(&[
            "cose",
            "encrypt",
            "--key",
            "k.hex",
            "--alg",
            alg,
            "--aad",
            "01",
            "plain.bin",
            "-o",
            "c",
        ]);
        d.ok(&[
            "cose", "decrypt", "--key", "k.hex", "--aad", "01", "c", "-o", "c.out",
        ]);
        assert_eq!(d.read("c.out"), plaintext);
        let e = d.fails(&["cose", "decrypt", "--key", "k.hex", "c", "-o", "c.out2"]);
        assert!(e.ends_with("authentication tag does not verify"), "{e}");
    }
    assert_eq!(cases, 3 * 4 * 2);

    // Keys that do not fit: a key of the wrong length, a P-256 key in PEM (PEM has no form for
    // symmetric keys), a key restricted to another algorithm.
    d.write("k16.hex", "000102030405060708090a0b0c0d0e0f");
    let e = d.fails(&[
        "cose",
        "encrypt",
        "--key",
        "k16.hex",
        "--alg",
        "ChaCha20/Poly1305",
        "plain.bin",
        "-o",
        "m",
    ]);
    assert!(e.contains("needs a 32-byte key"), "{e}");
    d.ok(&[
        "cose",
        "encrypt",
        "--key",
        "k16.hex",
        "--alg",
        "A128GCM",
        "plain.bin",
        "-o",
        "g",
    ]);
    d.write("k32.hex", "00".repeat(32));
    let e = d.fails(&["cose", "decrypt", "--key", "k32.hex", "g", "-o", "g.out"]);
    assert!(
        e.contains("A128GCM needs a 16-byte key; this is a 32-byte symmetric key (hex)"),
        "{e}"
    );
    let (pem, _) = d.keygen("ec");
    let e = d.fails(&[
        "cose",
        "encrypt",
        "--key",
        &pem,
        "--alg",
        "A128GCM",
        "plain.bin",
        "-o",
        "m",
    ]);
    assert!(
        e.contains("a symmetric key is needed; this is a P-256 private key (PKCS#8 PEM)"),
        "{e}"
    );
    d.write(
        "gcm.jwk",
        "{\"kty\":\"oct\",\"alg\":\"A128GCM\",\"k\":\"AAECAwQFBgcICQoLDA0ODw\"}",
    );
    let e = d.fails(&[
        "cose",
        "encrypt",
        "--key",
        "gcm.jwk",
        "--alg",
        "AES-CCM-16-64-128",
        "plain.bin",
        "-o",
        "m",
    ]);
    assert!(
        e.ends_with("algorithm does not match the key or operation"),
        "{e}"
    );
    d.ok(&[
        "cose",
        "encrypt",
        "--key",
        "gcm.jwk",
        "--alg",
        "A128GCM",
        "plain.bin",
        "-o",
        "m",
    ]);
    d.ok(&["cose", "decrypt", "--key", "k16.hex", "m", "-o", "m.out"]);
    assert_eq!(d.read("m.out"), plaintext);
}

#[test]
fn mac_and_verify() {
    let d = Dir::new();
    d.write("k.hex", "0f".repeat(32));
    d.write("other.hex", "0e".repeat(32));
    d.write("p", b"reading");
    for detached in [false, true] {
        let mut args = vec!["cose", "mac", "--key", "k.hex", "--kid", "01"];
        if detached {
            args.push("--detached");
        }
        args.extend(["p", "-o", "m.cose"]);
        d.ok(&args);
        assert_eq!(d.read("m.cose")[0], 0xd1, "tag 17");
        let mut v = vec!["cose", "verify", "--key", "k.hex"];
        if detached {
            v.extend(["--payload", "p"]);
        }
        v.push("m.cose");
        let said = d.ok(&v);
        assert!(
            said.starts_with("valid HMAC 256/256 tag, kid h'01'"),
            "{said}"
        );
        v[3] = "other.hex";
        let e = d.fails(&v);
        assert!(e.ends_with("authentication tag does not verify"), "{e}");
    }
}

#[test]
fn diag_binary_hex_and_sequences() {
    let d = Dir::new();
    // RFC 8949 Appendix A.
    let item = hex::decode("bf61610161629f0203ffff").unwrap();
    d.write("item.cbor", &item);
    d.write("item.hex", "BF 61 61 01 61 62 9F 02 03 FF FF\n");
    for f in ["item.cbor", "item.hex"] {
        assert_eq!(d.ok(&["diag", f]), "{_ \"a\": 1, \"b\": [_ 2, 3]}\n");
    }
    // Pretty printing breaks long containers; --compact does not.
    d.write(
        "long.hex",
        "83 6b 6162636465666768696a6b 6b 6162636465666768696a6b 01",
    );
    assert_eq!(
        d.ok(&["diag", "long.hex"]),
        "[\n  \"abcdefghijk\",\n  \"abcdefghijk\",\n  1\n]\n"
    );
    assert_eq!(
        d.ok(&["diag", "--compact", "long.hex"]),
        "[\"abcdefghijk\", \"abcdefghijk\", 1]\n"
    );
    // A CBOR sequence (RFC 8742): one item per line.
    d.write("seq.cbor", [0x01, 0x82, 0xf5, 0xf6, 0x63, b'a', b'b', b'c']);
    assert_eq!(d.ok(&["diag", "seq.cbor"]), "1\n[true, null]\n\"abc\"\n");
    // Malformed input: one line with the offset; nesting beyond the limit.
    d.write("bad.hex", "8301");
    let e = d.fails(&["diag", "bad.hex"]);
    assert_eq!(
        e,
        "iot-tool: bad.hex: CBOR: input ends inside an item at byte 2"
    );
    d.write("deep.cbor", [[0x81u8; 40].as_slice(), &[0]].concat());
    let e = d.fails(&["diag", "deep.cbor"]);
    assert!(
        e.ends_with("nesting deeper than the limit at byte 16"),
        "{e}"
    );
    d.write("empty", b"");
    d.fails(&["diag", "empty"]);
}

/// cose-wg/Examples sign-pass-02: a message we did not make verifies with its JWK, and our
/// diagnostic notation matches the one published with it.
#[test]
fn verifies_cose_wg_sign_pass_02() {
    let Some(v) = iot_test_vectors::json("cose/sign1-tests/sign-pass-02.json") else {
        return;
    };
    let d = Dir::new();
    let key = &v["input"]["sign0"]["key"];
    d.write("key.jwk", serde_json::to_string(key).unwrap());
    let cbor_hex = v["output"]["cbor"].as_str().unwrap();
    d.write("msg.hex", cbor_hex);
    let aad = v["input"]["sign0"]["external"].as_str().unwrap();
    let said = d.ok(&[
        "cose", "verify", "--key", "key.jwk", "--aad", aad, "msg.hex", "-o", "payload",
    ]);
    assert!(
        said.starts_with("valid ES256 signature, kid '11'"),
        "{said}"
    );
    assert_eq!(
        d.read("payload"),
        v["input"]["plaintext"].as_str().unwrap().as_bytes()
    );
    // The same message binary, and without its external AAD.
    d.write("msg.cose", hex::decode(cbor_hex).unwrap());
    d.ok(&[
        "cose", "verify", "--key", "key.jwk", "--aad", aad, "msg.cose",
    ]);
    let e = d.fails(&["cose", "verify", "--key", "key.jwk", "msg.cose"]);
    assert!(e.ends_with("signature does not verify"), "{e}");
    // A public-only JWK (d dropped) works too.
    let mut public = key.clone();
    public.as_object_mut().unwrap().remove("d");
    d.write("pub.jwk", serde_json::to_string(&public).unwrap());
    d.ok(&[
        "cose", "verify", "--key", "pub.jwk", "--aad", aad, "msg.cose",
    ]);
    // diag agrees with the vector's published notation (which uses upper-case hex).
    let ours = d.ok(&["diag", "--compact", "msg.cose"]);
    let theirs = v["output"]["cbor_diag"].as_str().unwrap();
    assert_eq!(ours.trim_end().to_lowercase(), theirs.to_lowercase());
}

#[test]
fn stdin_and_stdout() {
    let d = Dir::new();
    let (sk, pk) = d.keygen("k");
    let mut child = Command::new(env!("CARGO_BIN_EXE_iot-tool"))
        .args(["cose", "sign", "--key", &sk, "-", "-o", "-"])
        .current_dir(d.path(""))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    d.write("m.cose", &out.stdout);
    let payload = d.ok(&["cose", "verify", "--key", &pk, "m.cose", "-o", "-"]);
    assert_eq!(payload, "from stdin", "only the payload on stdout");
    assert!(Path::new(&d.path("m.cose")).exists());
}

#[test]
fn demo_runs_and_checks_itself() {
    let d = Dir::new();
    let start = std::time::Instant::now();
    let out = d.ok(&["demo"]);
    let took = start.elapsed();
    assert!(out.contains("Chapter 2. COSE"), "{out}");
    for line in [
        "\u{2713} the gateway verifies the signature",
        "\u{2717} a copy with one payload bit flipped: refused (signature does not verify)",
        "\u{2717} a copy with one tag bit flipped: refused (authentication tag does not verify)",
        "\u{2717} a copy with one ciphertext bit flipped: refused (authentication tag does not verify)",
        "18([",
        "17([",
        "16([",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(took.as_secs() < 5, "demo took {took:?}");
    let list = d.ok(&["demo", "--list"]);
    assert!(list.starts_with("enrol"), "{list}");
    d.ok(&["demo", "--chapter", "cose"]);
    let e = d.fails(&["demo", "--chapter", "nope"]);
    assert!(e.contains("the chapters are: enrol, cose"), "{e}");
}
