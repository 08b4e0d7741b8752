//! Cross-checks with Python peers: python-cwt and pycose verify the tokens and the EAR made
//! here, and the verifier here verifies tokens they make (claims with integer keys: python-cwt's
//! claim names predate RFC 9711).
//!
//! They run when `IOT_PYTHON` names a Python with `cwt` and `pycose` installed (`.ci/python-
//! attest.sh` makes one at `.venv`); otherwise each test prints that it skipped and why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_attest::appraise::{RefComponent, ReferenceValues, attestation_result};
use iot_attest::psa::{Lifecycle, PsaClaims};
use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Rules, Verifier};
use iot_attest::{
    Claims, Confirmation, DebugStatus, Error, KeyId, Nonce, Profile, SwComponent, Token,
    TokenBuilder, cdsp,
};
use iot_core::cose::{Algorithm, CoseKey, Ec2Y, SymmetricKey};
use iot_core::crypto::{P256SigningKey, P384SigningKey, P521SigningKey, RustCrypto};
use iot_test_vectors::peer::PythonScript;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// iot-attest's peer script (python-cwt and pycose) under `IOT_PYTHON`.
fn python(test: &str) -> Option<PythonScript> {
    PythonScript::from_env(
        test,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/peer.py"),
    )
}

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

struct Ec {
    key: P256SigningKey,
}

impl Ec {
    fn new(seed: u8) -> Self {
        Self {
            key: P256SigningKey::from_bytes(&[seed; 32]).unwrap(),
        }
    }
    fn public(&self) -> Value {
        let p = self.key.verifying_key().to_sec1_uncompressed();
        json!({"x": hex::encode(&p[1..33]), "y": hex::encode(&p[33..])})
    }
    fn private(&self) -> Value {
        let mut v = self.public();
        v["d"] = json!(hex::encode(self.key.to_bytes().as_ref()));
        v
    }
    fn entry(&self, kid: Option<&[u8]>, ueid: Option<&[u8]>) -> KeyEntry {
        KeyEntry {
            name: "peer".into(),
            kid: kid.map(<[u8]>::to_vec),
            ueid: ueid.map(<[u8]>::to_vec),
            key: KeyMaterial::P256(self.key.verifying_key()),
        }
    }
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

const NONCE: [u8; 32] = [0x5e; 32];
const HMAC_KEY: [u8; 32] = [0x4b; 32];

fn instance() -> [u8; 33] {
    let mut id = [0x0c; 33];
    id[0] = 0x01;
    id
}

fn firmware() -> [SwComponent<'static>; 1] {
    [SwComponent {
        measurement_type: Some("PRoT"),
        measurement_value: Some(&[0x03; 32]),
        signer_id: Some(&[0x04; 32]),
        version: Some("1.4.0"),
        ..SwComponent::default()
    }]
}

fn encode(claims: &Claims<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    let n = claims.encode_to(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn python_cwt_and_pycose_verify_our_tokens() {
    let Some(py) = python("python_cwt_and_pycose_verify_our_tokens") else {
        return;
    };
    let ec = Ec::new(0x11);
    let mut c = crypto();
    let cdsp_claims = Claims {
        profile: Some(Profile::Uri(cdsp::PROFILE)),
        nonce: Some(Nonce::One(&NONCE[..16])),
        ueid: Some(&instance()[..17]),
        swname: Some("sensor-fw"),
        dbgstat: Some(DebugStatus::DisabledPermanently),
        ..Claims::default()
    };
    let comps = firmware();
    let id = instance();
    let psa_claims = PsaClaims {
        nonce: &NONCE,
        instance_id: &id,
        implementation_id: &[0x1d; 32],
        client_id: -1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: Some(&[0x05; 16]),
        certification_reference: None,
        software_components: &comps,
        vsi: None,
    }
    .claims();

    let mut checked = 0;
    for (claims, cwt_tag) in [
        (&cdsp_claims, true),
        (&psa_claims, false),
        (&cdsp_claims, false),
    ] {
        let mut key = ec.key.clone();
        let (mut scratch, mut out) = ([0u8; 1024], [0u8; 1200]);
        let n = TokenBuilder::new()
            .kid(b"dev-11")
            .cwt_tag(cwt_tag)
            .sign(
                &mut c,
                &mut key,
                Algorithm::Es256,
                claims,
                &mut scratch,
                &mut out,
            )
            .unwrap();
        let token = &out[..n];
        // python-cwt picks the key by the token's kid.
        let args = with(
            ec.public(),
            json!({"token": hex::encode(token), "kid": hex::encode(b"dev-11")}),
        );

        let got = py.call("cwt-verify", &args).unwrap();
        let theirs = hex::decode(got["claims"].as_str().unwrap()).unwrap();
        assert_eq!(Claims::decode(&theirs).unwrap(), *claims);

        let got = py.call("pycose-verify", &args).unwrap();
        assert_eq!(got["payload"], hex::encode(encode(claims)));
        assert_eq!(got["kid"], hex::encode(b"dev-11"));

        // One flipped bit of the signature: both refuse.
        let mut bad = token.to_vec();
        *bad.last_mut().unwrap() ^= 1;
        let args = with(
            ec.public(),
            json!({"token": hex::encode(&bad), "kid": hex::encode(b"dev-11")}),
        );
        assert!(py.call("cwt-verify", &args).is_err());
        assert!(py.call("pycose-verify", &args).is_err());
        checked += 1;
    }

    // COSE_Mac0 (HMAC 256/256) of the PSA claims (python-cwt wants a kid for MACed tokens).
    let (mut scratch, mut out) = ([0u8; 1024], [0u8; 1200]);
    let n = TokenBuilder::new()
        .kid(b"hs-iak")
        .mac(
            &mut c,
            &SymmetricKey::new(&HMAC_KEY),
            &psa_claims,
            &mut scratch,
            &mut out,
        )
        .unwrap();
    let args = json!({"hmac": hex::encode(HMAC_KEY), "token": hex::encode(&out[..n]),
                      "kid": hex::encode(b"hs-iak")});
    let got = py.call("cwt-verify", &args).unwrap();
    let theirs = hex::decode(got["claims"].as_str().unwrap()).unwrap();
    assert_eq!(Claims::decode(&theirs).unwrap(), psa_claims);
    let got = py.call("pycose-verify", &args).unwrap();
    assert_eq!(got["payload"], hex::encode(encode(&psa_claims)));
    let wrong = json!({"hmac": hex::encode([0u8; 32]), "token": hex::encode(&out[..n]),
                       "kid": hex::encode(b"hs-iak")});
    assert!(py.call("pycose-verify", &wrong).is_err());
    assert!(py.call("cwt-verify", &wrong).is_err());
    eprintln!(
        "python-cwt and pycose verified {} of our tokens",
        checked + 1
    );
}

#[test]
fn we_verify_tokens_python_cwt_and_pycose_make() {
    let Some(py) = python("we_verify_tokens_python_cwt_and_pycose_make") else {
        return;
    };
    let ec = Ec::new(0x22);
    let id = instance();
    let mut c = crypto();
    let cdsp_claims = Claims {
        profile: Some(Profile::Uri(cdsp::PROFILE)),
        nonce: Some(Nonce::One(&NONCE[..12])),
        ueid: Some(&id),
        swname: Some("peer-fw"),
        ..Claims::default()
    };
    let comps = firmware();
    let psa_claims = PsaClaims {
        nonce: &NONCE,
        instance_id: &id,
        implementation_id: &[0x1d; 32],
        client_id: 7,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: None,
        certification_reference: None,
        software_components: &comps,
        vsi: None,
    }
    .claims();

    let mut store = MemoryKeyStore::new();
    store.insert(ec.entry(Some(b"peer-22"), None)).unwrap();
    let verifier = Verifier::new(&store);

    // python-cwt, tagged 61 and not: it adds exp, nbf and iat of its own.
    for tagged in [true, false] {
        let args = with(
            ec.private(),
            json!({"kid": hex::encode(b"peer-22"), "claims": hex::encode(encode(&cdsp_claims)),
                   "tagged": tagged}),
        );
        let token = hex::decode(
            py.call("cwt-sign", &args).unwrap()["token"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let t = Token::decode(&token).unwrap();
        assert_eq!(t.cwt_tagged, tagged);
        // The Constrained Device Standard Profile's encoding rules hold for python-cwt's token.
        let ok = verifier.verify(&mut c, &token, Some(&NONCE[..12])).unwrap();
        assert_eq!(ok.rules, Rules::Cdsp);
        assert_eq!(ok.found_by, KeyId::Kid(b"peer-22"));
        assert_eq!(ok.claims.swname, Some("peer-fw"));
        assert_eq!(ok.claims.ueid, Some(&id[..]));
        assert!(ok.claims.exp.is_some() && ok.claims.iat.is_some());
        assert_eq!(
            verifier.verify(&mut c, &token, Some(&[0; 12])).unwrap_err(),
            Error::NonceMismatch
        );
    }

    // pycose: COSE_Sign1 (tag 18) of the PSA claims, found by Instance ID.
    let mut by_instance = MemoryKeyStore::new();
    by_instance.insert(ec.entry(None, Some(&id))).unwrap();
    let args = with(
        ec.private(),
        json!({"claims": hex::encode(encode(&psa_claims))}),
    );
    let token = hex::decode(
        py.call("pycose-sign", &args).unwrap()["token"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let ok = Verifier::new(&by_instance)
        .verify(&mut c, &token, Some(&NONCE))
        .unwrap();
    assert_eq!(ok.rules, Rules::Psa);
    assert_eq!(ok.claims, psa_claims);
    let mut bad = token.clone();
    *bad.last_mut().unwrap() ^= 0x80;
    assert_eq!(
        Verifier::new(&by_instance)
            .verify(&mut c, &bad, Some(&NONCE))
            .unwrap_err(),
        Error::Core(iot_core::Error::BadSignature)
    );

    // pycose and python-cwt: COSE_Mac0 with HMAC 256/256.
    let mut macs = MemoryKeyStore::new();
    macs.insert(KeyEntry {
        name: "hs-iak".into(),
        kid: None,
        ueid: Some(id.to_vec()),
        key: KeyMaterial::Hmac(Zeroizing::new(HMAC_KEY.to_vec())),
    })
    .unwrap();
    for cmd in ["pycose-sign", "cwt-sign"] {
        let args =
            json!({"hmac": hex::encode(HMAC_KEY), "claims": hex::encode(encode(&psa_claims))});
        let token = hex::decode(py.call(cmd, &args).unwrap()["token"].as_str().unwrap()).unwrap();
        let ok = Verifier::new(&macs)
            .verify(&mut c, &token, Some(&NONCE))
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert_eq!(ok.rules, Rules::Psa, "{cmd}");
        assert_eq!(ok.claims.psa_client_id, Some(7), "{cmd}");
    }
    eprintln!("verified 2 python-cwt ES256, 1 pycose ES256 and 2 HMAC tokens");
}

#[test]
fn python_cwt_reads_our_signed_ear() {
    let Some(py) = python("python_cwt_reads_our_signed_ear") else {
        return;
    };
    let device = Ec::new(0x33);
    let attested = Ec::new(0x34);
    let verifier_key = Ec::new(0x35);
    let id = instance();
    let comps = firmware();
    let sec1 = attested.key.verifying_key().to_sec1_uncompressed();
    let mut claims = PsaClaims {
        nonce: &NONCE,
        instance_id: &id,
        implementation_id: &[0x1d; 32],
        client_id: -1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: None,
        certification_reference: None,
        software_components: &comps,
        vsi: None,
    }
    .claims();
    claims.cnf = Some(Confirmation::Key(CoseKey::Ec2 {
        kid: None,
        alg: None,
        x: &sec1[1..33],
        y: Ec2Y::Coordinate(&sec1[33..]),
        d: None,
    }));
    let mut c = crypto();
    let mut key = device.key.clone();
    let (mut scratch, mut out) = ([0u8; 1024], [0u8; 1400]);
    let n = TokenBuilder::new()
        .sign(
            &mut c,
            &mut key,
            Algorithm::Es256,
            &claims,
            &mut scratch,
            &mut out,
        )
        .unwrap();
    let token = &out[..n];
    let store = device.entry(None, Some(&id));
    let ok = Verifier::new(&store)
        .verify(&mut c, token, Some(&NONCE))
        .unwrap();
    let reference = ReferenceValues {
        policy_id: Some("peer-check".into()),
        implementation_id: Some(vec![0x1d; 32]),
        software_components: vec![RefComponent {
            measurement_type: None,
            measurement_value: vec![0x03; 32],
            signer_id: Some(vec![0x04; 32]),
            version: None,
        }],
        lifecycle: Some(vec![Lifecycle::Secured]),
        debug_status: None,
        ..ReferenceValues::default()
    };
    let ear = attestation_result(&ok, token, &reference, Some(&NONCE), 1_750_000_000);
    let mut signer = verifier_key.key.clone();
    let cwt = ear
        .sign(&mut c, &mut signer, Algorithm::Es256, Some(b"verifier"))
        .unwrap();

    let args = with(
        verifier_key.public(),
        json!({"token": hex::encode(&cwt), "kid": hex::encode(b"verifier")}),
    );
    let got = py.call("ear-check", &args).unwrap();
    assert_eq!(got["profile"], "tag:github.com,2023:veraison/ear");
    assert_eq!(got["iat"], 1_750_000_000);
    assert_eq!(got["nonce"], hex::encode(NONCE));
    let psa = &got["submods"]["PSA_IOT"];
    assert_eq!(psa["status"], 2);
    assert_eq!(
        psa["vector"],
        json!({"0": 2, "1": 2, "2": 2, "3": 0, "4": 2, "5": 0, "6": 0, "7": 0})
    );
    assert_eq!(psa["akpub"], attested.public());
    assert_eq!(
        got["verifier"]["1"],
        format!("iot-attest {}", env!("CARGO_PKG_VERSION"))
    );

    // Signed by another key: python-cwt refuses it.
    let args = with(
        device.public(),
        json!({"token": hex::encode(&cwt), "kid": hex::encode(b"verifier")}),
    );
    assert!(py.call("ear-check", &args).is_err());
}

#[test]
fn pycose_and_we_verify_each_others_es384_and_es512_tokens() {
    let Some(py) = python("pycose_and_we_verify_each_others_es384_and_es512_tokens") else {
        return;
    };
    let claims = Claims {
        profile: Some(Profile::Uri(cdsp::PROFILE)),
        nonce: Some(Nonce::One(&NONCE)),
        swname: Some("sensor-fw"),
        ..Claims::default()
    };
    let payload = encode(&claims);
    let p384 = P384SigningKey::from_bytes(&[0x38; 48]).unwrap();
    let p521 = P521SigningKey::from_bytes(&[0x01; 66]).unwrap();
    let keys = [
        (
            "ES384",
            "P_384",
            Algorithm::Es384,
            p384.verifying_key().to_sec1_uncompressed().to_vec(),
            [0x38u8; 48].to_vec(),
            KeyMaterial::P384(p384.verifying_key()),
        ),
        (
            "ES512",
            "P_521",
            Algorithm::Es512,
            p521.verifying_key().to_sec1_uncompressed().to_vec(),
            [0x01u8; 66].to_vec(),
            KeyMaterial::P521(p521.verifying_key()),
        ),
    ];
    for (name, crv, alg, sec1, d, material) in keys {
        let field = (sec1.len() - 1) / 2;
        let public = json!({
            "crv": crv,
            "x": hex::encode(&sec1[1..1 + field]),
            "y": hex::encode(&sec1[1 + field..]),
        });
        // Ours to pycose.
        let (mut scratch, mut out) = ([0u8; 256], [0u8; 512]);
        let n = match alg {
            Algorithm::Es384 => TokenBuilder::new().kid(b"wide").sign(
                &mut crypto(),
                &mut P384SigningKey::from_bytes(&d).unwrap(),
                alg,
                &claims,
                &mut scratch,
                &mut out,
            ),
            _ => TokenBuilder::new().kid(b"wide").sign(
                &mut crypto(),
                &mut P521SigningKey::from_bytes(&d).unwrap(),
                alg,
                &claims,
                &mut scratch,
                &mut out,
            ),
        }
        .unwrap();
        let args = with(public.clone(), json!({"token": hex::encode(&out[..n])}));
        let got = py
            .call("pycose-verify", &args)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got["payload"], hex::encode(&payload), "{name}");
        let mut bad = out[..n].to_vec();
        *bad.last_mut().unwrap() ^= 1;
        let args = with(public.clone(), json!({"token": hex::encode(&bad)}));
        assert!(py.call("pycose-verify", &args).is_err(), "{name}");

        // pycose's to us, found by kid.
        let args = with(
            public,
            json!({"d": hex::encode(&d), "alg": name, "kid": hex::encode(b"wide"),
                   "claims": hex::encode(&payload)}),
        );
        let token = hex::decode(
            py.call("pycose-sign", &args)
                .unwrap_or_else(|e| panic!("{name}: {e}"))["token"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let mut store = MemoryKeyStore::new();
        store
            .insert(KeyEntry {
                name: name.into(),
                kid: Some(b"wide".to_vec()),
                ueid: None,
                key: material,
            })
            .unwrap();
        let ok = Verifier::new(&store)
            .verify(&mut crypto(), &token, Some(&NONCE))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (ok.rules, ok.claims.swname),
            (Rules::Cdsp, Some("sensor-fw"))
        );
    }
}
