//! CWT / CCS credentials: deterministic encoding, borrowing decoding, signature and time checks,
//! coset cross-decoding both ways, and (with `IOT_PYTHON`) python-cwt and pycose as peers,
//! through iot-attest's peer script (`iot-attest/tests/python/peer.py`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use coset::cwt::{ClaimName, ClaimsSet, ClaimsSetBuilder, Timestamp};
use coset::{
    AsCborValue, CborSerializable, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana,
};
use iot_core::cose::{Algorithm, CoseKey, Ec2Y};
use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256, Signer};
use iot_identity::credential::{Claims, CredentialError, Cwt, CwtBuilder, claim, cnf_key};
use iot_identity::keystore::P256PublicKey;
use iot_identity::ueid::{RandLen, Ueid};
use iot_test_vectors::peer::PythonScript;
use serde_json::{Value, json};

/// 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;

type Crypto = RustCrypto<getrandom::SysRng>;

fn crypto() -> Crypto {
    RustCrypto::from_os()
}

fn key(seed: u8) -> P256SigningKey {
    P256SigningKey::from_bytes(&[seed; 32]).unwrap()
}

fn public(k: &P256SigningKey) -> P256PublicKey {
    P256PublicKey::from_sec1(&k.verifying_key().to_sec1_uncompressed()).unwrap()
}

fn sign(claims: &Claims<'_>, issuer: &mut P256SigningKey, builder: CwtBuilder<'_>) -> Vec<u8> {
    let (mut scratch, mut out) = ([0u8; 512], [0u8; 600]);
    let n = builder
        .sign(&mut crypto(), issuer, claims, &mut scratch, &mut out)
        .unwrap();
    out[..n].to_vec()
}

#[test]
fn a_ccs_encodes_deterministically_and_decodes_back() {
    let device = public(&key(0x22));
    let id = Ueid::random(&mut crypto(), RandLen::Bits128).unwrap();
    let hex = id.to_hex();
    let claims = Claims {
        iss: Some("registrar.example"),
        sub: Some(hex.as_str()),
        aud: Some("gateway"),
        exp: Some(NOW + 86_400),
        nbf: Some(NOW - 60),
        iat: Some(NOW - 60),
        cti: Some(&[1, 2, 3, 4]),
        cnf: cnf_key(&device, Some(&[0x2b])),
    };
    let mut buf = [0u8; 300];
    let n = claims.encode_to(&mut buf).unwrap();
    let bytes = &buf[..n];
    // The map of 8 claims, labels 1..8 in order, cnf = {1: COSE_Key} last.
    assert_eq!(bytes[0], 0xa8);
    assert_eq!(&bytes[1..3], &[0x01, 0x71]);
    let decoded = Claims::decode(bytes).unwrap();
    assert_eq!(decoded, claims);
    assert_eq!(decoded.subject_ueid().unwrap(), id);
    assert_eq!(decoded.cnf_public_key().unwrap(), device);

    // coset decodes it, and re-encodes the same bytes (it writes iss..cti, then the rest).
    let set = ClaimsSet::from_slice(bytes).unwrap();
    assert_eq!(set.issuer.as_deref(), Some("registrar.example"));
    assert_eq!(set.subject.as_deref(), Some(hex.as_str()));
    assert_eq!(
        set.expiration_time,
        Some(Timestamp::WholeSeconds((NOW + 86_400) as i64))
    );
    assert_eq!(set.cwt_id, Some(vec![1, 2, 3, 4]));
    assert_eq!(set.to_vec().unwrap(), bytes);

    // A buffer one byte short: BufferTooSmall, not a panic.
    assert_eq!(
        claims.encode_to(&mut buf[..n - 1]),
        Err(CredentialError::Core(iot_core::Error::BufferTooSmall))
    );
}

#[test]
fn malformed_claims_sets_are_refused_with_the_claim() {
    let device = public(&key(0x22));
    let ok = Claims::new(cnf_key(&device, None));
    let mut buf = [0u8; 200];
    let n = ok.encode_to(&mut buf).unwrap();
    assert_eq!(Claims::decode(&buf[..n]).unwrap(), ok);

    // A private key in cnf: refused when encoding and when decoding.
    let d = [0x33u8; 32];
    let private = CoseKey::Ec2 {
        kid: None,
        alg: None,
        x: device.x(),
        y: Ec2Y::Coordinate(device.y()),
        d: Some(&d),
    };
    assert_eq!(
        Claims::new(private).encode_to(&mut buf),
        Err(CredentialError::InvalidClaim(claim::CNF))
    );
    let set = |entries: Vec<(coset::cbor::Value, coset::cbor::Value)>| {
        let mut out = Vec::new();
        coset::cbor::into_writer(&coset::cbor::Value::Map(entries), &mut out).unwrap();
        out
    };
    let int = |i: i64| coset::cbor::Value::Integer(i.into());
    let cnf_of = |k: Vec<(coset::cbor::Value, coset::cbor::Value)>| {
        coset::cbor::Value::Map(vec![(int(1), coset::cbor::Value::Map(k))])
    };
    let pubkey = vec![
        (int(1), int(2)),
        (int(-1), int(1)),
        (int(-2), coset::cbor::Value::Bytes(device.x().to_vec())),
        (int(-3), coset::cbor::Value::Bytes(device.y().to_vec())),
    ];
    let mut privkey = pubkey.clone();
    privkey.push((int(-4), coset::cbor::Value::Bytes(d.to_vec())));
    let cases = [
        // No cnf.
        (set(vec![(int(1), "a".into())]), claim::CNF),
        // cnf with a private key.
        (set(vec![(int(8), cnf_of(privkey))]), claim::CNF),
        // iss that is not text.
        (
            set(vec![(int(1), int(5)), (int(8), cnf_of(pubkey.clone()))]),
            claim::ISS,
        ),
        // A negative exp.
        (
            set(vec![(int(4), int(-1)), (int(8), cnf_of(pubkey.clone()))]),
            claim::EXP,
        ),
        // exp twice.
        (
            set(vec![
                (int(4), int(1)),
                (int(4), int(2)),
                (int(8), cnf_of(pubkey.clone())),
            ]),
            claim::EXP,
        ),
        // cnf holding a kid (RFC 8747 label 3) rather than a COSE_Key.
        (
            set(vec![(
                int(8),
                coset::cbor::Value::Map(vec![(int(3), coset::cbor::Value::Bytes(vec![1]))]),
            )]),
            claim::CNF,
        ),
    ];
    for (bytes, label) in cases {
        assert_eq!(
            Claims::decode(&bytes),
            Err(CredentialError::InvalidClaim(label)),
            "{}",
            hex::encode(&bytes)
        );
    }
    // Unknown claims (integer and text labels) are skipped.
    let with_unknown = set(vec![
        (int(8), cnf_of(pubkey.clone())),
        (int(-70000), coset::cbor::Value::Array(vec![int(1)])),
        ("private".into(), int(7)),
    ]);
    assert_eq!(Claims::decode(&with_unknown).unwrap(), ok);
    // A `sub` that is not a UEID's hex text.
    let mut c = ok;
    for sub in ["0102", "01abcdef0123456789abcdef0123456789", "zz"] {
        c.sub = Some(sub);
        assert_eq!(
            c.subject_ueid(),
            Err(CredentialError::InvalidClaim(claim::SUB))
        );
    }
}

#[test]
fn a_cwt_verifies_under_its_issuer_only_and_within_its_time() {
    let mut issuer = key(0x11);
    let issuer_pub = public(&issuer);
    let device = public(&key(0x22));
    let claims = Claims {
        iss: Some("registrar"),
        exp: Some(NOW + 100),
        nbf: Some(NOW - 100),
        ..Claims::new(cnf_key(&device, None))
    };
    let mut c = crypto();
    for (alg, tag61) in [
        (Algorithm::Es256, false),
        (Algorithm::Es256, true),
        (Algorithm::Esp256, true),
    ] {
        let token = sign(
            &claims,
            &mut issuer,
            CwtBuilder::new(alg).kid(b"reg-1").cwt_tag(tag61),
        );
        assert_eq!(token[..2] == [0xd8, 0x3d], tag61);
        let cwt = Cwt::decode(&token).unwrap();
        assert_eq!(cwt.cwt_tag, tag61);
        assert_eq!(cwt.message.headers.kid(), Some(&b"reg-1"[..]));
        assert_eq!(cwt.claims, claims);
        let cnf = cwt.verify(&mut c, &issuer_pub, NOW).unwrap();
        assert_eq!(cnf, claims.cnf);

        // Time: exp is exclusive, nbf inclusive.
        assert_eq!(
            cwt.verify(&mut c, &issuer_pub, NOW + 100),
            Err(CredentialError::Expired)
        );
        assert_eq!(
            cwt.verify(&mut c, &issuer_pub, NOW - 101),
            Err(CredentialError::NotYetValid)
        );
        cwt.verify(&mut c, &issuer_pub, NOW - 100).unwrap();
        // Another issuer key.
        assert_eq!(
            cwt.verify(&mut c, &public(&key(0x12)), NOW),
            Err(CredentialError::Core(iot_core::Error::BadSignature))
        );
        // Every single flipped bit is refused, by the decoder or the verifier (without a kid:
        // the unprotected bucket is not signed, RFC 9052 section 3).
        let token = sign(&claims, &mut issuer, CwtBuilder::new(alg).cwt_tag(tag61));
        for i in 0..token.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = token.clone();
                bad[i] ^= bit;
                if let Ok(cwt) = Cwt::decode(&bad) {
                    assert!(cwt.verify(&mut c, &issuer_pub, NOW).is_err(), "byte {i}");
                }
            }
        }
        // Truncated: a decoding error.
        assert!(Cwt::decode(&token[..token.len() - 1]).is_err());
    }
}

#[test]
fn coset_reads_our_cwt_and_we_read_cosets() {
    let mut issuer = key(0x11);
    let issuer_pub = public(&issuer);
    let device = public(&key(0x22));
    let claims = Claims {
        sub: Some("01DEADBEEFDEADBEEFDEADBEEFDEADBEEF"),
        iat: Some(NOW),
        ..Claims::new(cnf_key(&device, Some(b"d1")))
    };
    let token = sign(&claims, &mut issuer, CwtBuilder::new(Algorithm::Es256));

    // Ours -> coset: the signature checks with p256 over coset's Sig_structure.
    let msg = coset::CoseSign1::from_tagged_slice(&token).unwrap();
    assert_eq!(
        msg.protected.header.alg,
        Some(iana::Algorithm::ES256.into())
    );
    let vk = issuer.verifying_key();
    msg.verify_signature(b"", |sig, tbs| {
        let digest = crypto().sha256(tbs);
        use iot_core::crypto::Verifier;
        vk.clone().verify_digest(&digest, sig)
    })
    .unwrap();
    let set = ClaimsSet::from_slice(msg.payload.as_ref().unwrap()).unwrap();
    assert_eq!(set.subject.as_deref(), claims.sub);
    assert_eq!(set.issued_at, Some(Timestamp::WholeSeconds(NOW as i64)));
    let cnf = set
        .rest
        .iter()
        .find(|(n, _)| *n == ClaimName::Assigned(iana::CwtClaimName::Cnf))
        .unwrap();
    let cose_key = cnf.1.as_map().unwrap()[0].1.clone();
    let key = coset::CoseKey::from_cbor_value(cose_key).unwrap();
    assert_eq!(key.key_id, b"d1");

    // coset -> ours: a CWT tagged 61 made by coset, signed with the issuer key.
    let mut cnf_bytes = [0u8; 120];
    let n = cnf_key(&device, None).encode_to(&mut cnf_bytes).unwrap();
    let cnf_value: coset::cbor::Value = coset::cbor::from_reader(&cnf_bytes[..n]).unwrap();
    let set = ClaimsSetBuilder::new()
        .issuer("coset".into())
        .expiration_time(Timestamp::WholeSeconds((NOW + 10) as i64))
        .claim(
            iana::CwtClaimName::Cnf,
            coset::cbor::Value::Map(vec![(coset::cbor::Value::Integer(1.into()), cnf_value)]),
        )
        .build();
    let payload = set.to_vec().unwrap();
    let signed = CoseSign1Builder::new()
        .protected(
            HeaderBuilder::new()
                .algorithm(iana::Algorithm::ES256)
                .build(),
        )
        .payload(payload)
        .create_signature(b"", |tbs| {
            let digest = crypto().sha256(tbs);
            issuer.sign_digest(&digest).unwrap().to_vec()
        })
        .build();
    let mut token = vec![0xd8, 0x3d];
    token.extend(signed.to_tagged_vec().unwrap());
    let cwt = Cwt::decode(&token).unwrap();
    assert!(cwt.cwt_tag);
    assert_eq!(cwt.claims.iss, Some("coset"));
    let cnf = cwt.verify(&mut crypto(), &issuer_pub, NOW).unwrap();
    assert_eq!(cnf, cnf_key(&device, None));
    assert_eq!(
        cwt.verify(&mut crypto(), &issuer_pub, NOW + 10),
        Err(CredentialError::Expired)
    );
}

// --- python-cwt and pycose -------------------------------------------------------------------

/// iot-attest's peer script (python-cwt and pycose) under `IOT_PYTHON`.
fn python(test: &str) -> Option<PythonScript> {
    PythonScript::from_env(
        test,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../iot-attest/tests/python/peer.py"
        ),
    )
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn peer_key(k: &P256PublicKey, kid: &[u8]) -> Value {
    json!({"x": hex::encode(k.x()), "y": hex::encode(k.y()), "kid": hex::encode(kid)})
}

#[test]
fn python_cwt_and_pycose_verify_our_credential_and_we_verify_theirs() {
    let Some(py) = python("python_cwt_and_pycose_verify_our_credential_and_we_verify_theirs")
    else {
        return;
    };
    let mut issuer = key(0x11);
    let issuer_pub = public(&issuer);
    let device = public(&key(0x22));
    let t = now();
    let id = Ueid::random(&mut crypto(), RandLen::Bits128).unwrap();
    let hex_id = id.to_hex();
    let claims = Claims {
        iss: Some("registrar"),
        sub: Some(hex_id.as_str()),
        exp: Some(t + 3600),
        nbf: Some(t - 60),
        iat: Some(t - 60),
        cti: Some(b"cred-1"),
        ..Claims::new(cnf_key(&device, Some(b"dev")))
    };
    let mut ccs = [0u8; 300];
    let n = claims.encode_to(&mut ccs).unwrap();
    let ccs = &ccs[..n];

    for tag61 in [false, true] {
        let token = sign(
            &claims,
            &mut issuer,
            CwtBuilder::new(Algorithm::Es256).kid(b"reg").cwt_tag(tag61),
        );
        let mut args = peer_key(&issuer_pub, b"reg");
        args["token"] = json!(hex::encode(&token));
        // python-cwt checks the signature, exp and nbf and hands back the claims.
        let got = py.call("cwt-verify", &args).unwrap();
        let theirs = hex::decode(got["claims"].as_str().unwrap()).unwrap();
        assert_eq!(Claims::decode(&theirs).unwrap(), claims);
        assert_eq!(theirs, ccs, "python's canonical CBOR is our encoding");
        // pycose checks the signature and returns the payload: our CCS.
        let got = py.call("pycose-verify", &args).unwrap();
        assert_eq!(got["payload"], hex::encode(ccs));
        // Under another key: both refuse.
        let mut wrong = peer_key(&public(&key(0x12)), b"reg");
        wrong["token"] = args["token"].clone();
        assert!(py.call("cwt-verify", &wrong).is_err());
        assert!(py.call("pycose-verify", &wrong).is_err());
    }

    // They sign, we verify (python-cwt with and without tag 61, pycose).
    let mut signing = json!({"d": hex::encode(issuer.to_bytes().as_ref())});
    for (k, v) in peer_key(&issuer_pub, b"reg").as_object().unwrap() {
        signing[k] = v.clone();
    }
    signing["claims"] = json!(hex::encode(ccs));
    for (cmd, tagged) in [
        ("cwt-sign", false),
        ("cwt-sign", true),
        ("pycose-sign", false),
    ] {
        signing["tagged"] = json!(tagged);
        let got = py.call(cmd, &signing).unwrap();
        let token = hex::decode(got["token"].as_str().unwrap()).unwrap();
        let cwt = Cwt::decode(&token).unwrap_or_else(|e| panic!("{cmd} {tagged}: {e}"));
        assert_eq!(cwt.cwt_tag, tagged);
        assert_eq!(cwt.claims, claims);
        assert_eq!(
            cwt.verify(&mut crypto(), &issuer_pub, t).unwrap(),
            claims.cnf
        );
        assert_eq!(
            cwt.verify(&mut crypto(), &public(&key(0x12)), t),
            Err(CredentialError::Core(iot_core::Error::BadSignature))
        );
    }
}
