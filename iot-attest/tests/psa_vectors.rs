//! RFC 9783 PSA tokens: the example tokens of ../shared/vectors/psa verify and decode to their
//! claims, every psa/test claims-set passes (GOOD_*) or fails (FAIL_*) profile validation, and a
//! legacy PSA_IOT_PROFILE_1 token decodes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod common;

use common::{Yaml, diag_to_cbor, jwk_d, jwk_xy, sec1_pem, yaml};
use iot_attest::psa::{self, Lifecycle};
use iot_attest::{Claims, Envelope, Error, Profile, Token, TokenBuilder, Violation, key};
use iot_core::cose::{Algorithm, SymmetricKey};
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

fn es_iak() -> Option<(P256VerifyingKey, P256SigningKey)> {
    let jwk = iot_test_vectors::json("psa/example/tfm-es-iak.json")?;
    let pem = String::from_utf8(iot_test_vectors::read("psa/example/tfm-es-iak.pem")?).unwrap();
    let (x, y) = jwk_xy(&jwk);
    let (d, px, py) = sec1_pem(&pem);
    // The JWK and the PEM hold the same key.
    assert_eq!((&px, &py), (&x, &y));
    assert_eq!(d, jwk_d(&jwk));
    let vk = P256VerifyingKey::from_coordinates(&x, &y).unwrap();
    let sk = P256SigningKey::from_bytes(&d).unwrap();
    assert_eq!(sk.verifying_key(), vk);
    Some((vk, sk))
}

/// Compares decoded claims with the YAML rendering of the PSA example, field by field.
fn assert_claims_match_yaml(claims: &Claims<'_>, doc: &[(String, Yaml)]) {
    let mut checked = 0;
    for (name, value) in doc {
        match (name.as_str(), value) {
            ("instance_id", Yaml::Binary(b)) => assert_eq!(claims.ueid, Some(&b[..])),
            ("implementation_id", Yaml::Binary(b)) => {
                assert_eq!(claims.psa_implementation_id, Some(&b[..]))
            }
            ("challenge", Yaml::Binary(b)) => {
                assert_eq!(claims.nonce.and_then(|n| n.single()), Some(&b[..]))
            }
            ("client_id", Yaml::Int(i)) => assert_eq!(claims.psa_client_id, Some(*i)),
            ("security_lifecycle", Yaml::Text(t)) => {
                let expected = match t.as_str() {
                    "sl_unknown" => Lifecycle::Unknown,
                    "sl_assembly_and_test" => Lifecycle::AssemblyAndTest,
                    "sl_psa_rot_provisioning" => Lifecycle::PsaRotProvisioning,
                    "sl_secured" => Lifecycle::Secured,
                    "sl_non_psa_rot_debug" => Lifecycle::NonPsaRotDebug,
                    "sl_recoverable_psa_rot_debug" => Lifecycle::RecoverablePsaRotDebug,
                    "sl_decommissioned" => Lifecycle::Decommissioned,
                    other => panic!("unknown lifecycle {other}"),
                };
                let got = claims.psa_lifecycle.and_then(Lifecycle::from_value);
                assert_eq!(got, Some(expected));
            }
            ("profile_id", Yaml::Text(t)) => assert_eq!(claims.profile, Some(Profile::Uri(t))),
            ("boot_seed", Yaml::Binary(b)) => assert_eq!(claims.bootseed, Some(&b[..])),
            ("sw_components", Yaml::List(items)) => {
                let comps: Vec<_> = claims.psa_software_components.unwrap().iter().collect();
                assert_eq!(comps.len(), items.len());
                for (c, fields) in comps.iter().zip(items) {
                    for (f, v) in fields {
                        match (f.as_str(), v) {
                            ("signer_id", Yaml::Binary(b)) => {
                                assert_eq!(c.signer_id, Some(&b[..]))
                            }
                            ("measurement_value", Yaml::Binary(b)) => {
                                assert_eq!(c.measurement_value, Some(&b[..]))
                            }
                            ("sw_component_type", Yaml::Text(t)) => {
                                assert_eq!(c.measurement_type, Some(t.as_str()))
                            }
                            other => panic!("unexpected component field {other:?}"),
                        }
                    }
                    assert_eq!(c.version, None);
                    assert_eq!(c.measurement_desc, None);
                }
            }
            other => panic!("unexpected YAML field {other:?}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 8, "every field of the YAML compared");
    // Nothing else is in the token.
    assert_eq!(claims.iter().count(), 8);
    assert!(claims.extra.is_empty());
}

#[test]
fn psa_sign1_example_verifies_and_decodes() {
    let Some((mut vk, mut sk)) = es_iak() else {
        return;
    };
    let Some(token) = iot_test_vectors::read("psa/example/psa-sign1.cbor") else {
        return;
    };
    let hex_text = String::from_utf8(iot_test_vectors::read("psa/example/psa-sign1.hex").unwrap())
        .unwrap()
        .split_whitespace()
        .collect::<String>();
    assert_eq!(hex::decode(hex_text).unwrap(), token);
    let doc = yaml(
        &String::from_utf8(iot_test_vectors::read("psa/example/sign1-claims.yaml").unwrap())
            .unwrap(),
    );
    let mut c = crypto();

    let t = Token::decode(&token).unwrap();
    assert!(!t.cwt_tagged);
    assert!(matches!(t.envelope, Envelope::Sign1(_)));
    let claims = t.verify(&mut c, &mut vk, &[]).unwrap();
    assert_claims_match_yaml(&claims, &doc);
    psa::validate(&claims).unwrap();

    // The claims-set diagnostic notation of the example is the same claims-set.
    let diag = String::from_utf8(iot_test_vectors::read("psa/example/sign1-claims.diag").unwrap())
        .unwrap();
    assert_eq!(diag_to_cbor(&diag), t.payload().unwrap());

    // A flipped payload bit fails.
    let mut bad = token.clone();
    let at = bad.len() - 70;
    bad[at] ^= 1;
    assert!(
        Token::decode(&bad)
            .and_then(|t| t.verify(&mut c, &mut vk, &[]))
            .is_err()
    );

    // The MAC key cannot verify a signed token, nor can another EC key.
    let k = iot_test_vectors::read("psa/example/tfm-hs-iak.bin").unwrap();
    assert!(t.verify_mac(&mut c, &SymmetricKey::new(&k), &[]).is_err());
    let mut other = P256SigningKey::from_bytes(&[9; 32])
        .unwrap()
        .verifying_key();
    assert_eq!(
        t.verify(&mut c, &mut other, &[]),
        Err(Error::Core(iot_core::Error::BadSignature))
    );

    // The example was signed with RFC 6979 ECDSA: signing its claims-set bytes with the IAK
    // reproduces the token byte for byte.
    let mut out = [0u8; 600];
    let n = TokenBuilder::new()
        .cwt_tag(false)
        .sign_payload(
            &mut c,
            &mut sk,
            Algorithm::Es256,
            t.payload().unwrap(),
            &mut out,
        )
        .unwrap();
    assert_eq!(&out[..n], &token[..]);

    // Re-signing the decoded claims (our deterministic encoding): verifies with the public key.
    let mut scratch = [0u8; 512];
    let n = TokenBuilder::new()
        .sign(
            &mut c,
            &mut sk,
            Algorithm::Es256,
            &claims,
            &mut scratch,
            &mut out,
        )
        .unwrap();
    let ours = Token::decode(&out[..n]).unwrap();
    assert!(ours.cwt_tagged);
    assert_eq!(ours.verify(&mut c, &mut vk, &[]).unwrap(), claims);
}

#[test]
fn psa_mac0_example_verifies_and_decodes() {
    let Some(key) = iot_test_vectors::read("psa/example/tfm-hs-iak.bin") else {
        return;
    };
    let token = iot_test_vectors::read("psa/example/psa-mac0.cbor").unwrap();
    let doc = yaml(
        &String::from_utf8(iot_test_vectors::read("psa/example/mac0-claims.yaml").unwrap())
            .unwrap(),
    );
    let mut c = crypto();
    let k = SymmetricKey::new(&key);
    let t = Token::decode(&token).unwrap();
    assert!(matches!(t.envelope, Envelope::Mac0(_)));
    let claims = t.verify_mac(&mut c, &k, &[]).unwrap();
    assert_claims_match_yaml(&claims, &doc);
    psa::validate(&claims).unwrap();

    let wrong = [0u8; 64];
    assert_eq!(
        t.verify_mac(&mut c, &SymmetricKey::new(&wrong), &[]),
        Err(Error::Core(iot_core::Error::BadTag))
    );

    // Our HMAC token over the example's claims-set bytes reproduces the example's tag.
    let mut out = [0u8; 400];
    let n = TokenBuilder::new()
        .cwt_tag(false)
        .mac_payload(&mut c, &k, t.payload().unwrap(), &mut out)
        .unwrap();
    assert_eq!(&out[..n], &token[..]);
}

/// The profile rule each FAIL_* claims-set breaks.
fn expected_failure(name: &str) -> Option<Error> {
    let (key, violation) = match name {
        "FAIL_BootSeed_too_big.diag" | "FAIL_BootSeed_too_small.diag" => {
            (key::BOOTSEED, Violation::Size)
        }
        "FAIL_ImplementationID_missing.diag" => (key::PSA_IMPLEMENTATION_ID, Violation::Missing),
        "FAIL_ImplementationID_wrong_format.diag" => (key::PSA_IMPLEMENTATION_ID, Violation::Size),
        "FAIL_InstanceID_missing.diag" => (key::UEID, Violation::Missing),
        "FAIL_InstanceID_wrong_format.diag" => (key::UEID, Violation::Size),
        "FAIL_SoftwareComponent_Measurement_missing.diag" => {
            (key::PSA_SOFTWARE_COMPONENTS, Violation::Missing)
        }
        _ => return None,
    };
    Some(Error::Profile { key, violation })
}

#[test]
fn psa_test_claim_sets_pass_or_fail_validation() {
    let Some(files) = iot_test_vectors::files("psa/test", ".diag") else {
        return;
    };
    let (mut good, mut fail) = (0, 0);
    for rel in &files {
        let name = rel.rsplit('/').next().unwrap();
        let text = String::from_utf8(iot_test_vectors::read(rel).unwrap()).unwrap();
        let cbor = diag_to_cbor(&text);
        let claims = Claims::decode(&cbor).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let result = psa::validate(&claims);
        if name.starts_with("GOOD_") {
            result.unwrap_or_else(|e| panic!("{rel} should pass: {e}"));
            good += 1;
        } else if name.starts_with("FAIL_") {
            let err = result.expect_err(rel);
            if let Some(expected) = expected_failure(name) {
                assert_eq!(err, expected, "{rel}");
            }
            fail += 1;
        } else {
            panic!("{rel}: neither GOOD_ nor FAIL_");
        }
    }
    println!("psa/test: {good} GOOD passed, {fail} FAIL rejected");
    assert!(good >= 2 && fail >= 7, "{good} good, {fail} fail");
}

/// The example of draft-tschofenig-rats-psa-token-07 appendix (PSA_IOT_PROFILE_1): its key and
/// token, transcribed.
const LEGACY_X: &str = "dcf0d0f4bcd5e26a54ee36cad660d283d12abc5f7307de58689e77cd60452e75";
const LEGACY_Y: &str = "8cbadb5fe9f89a7107e5a2e8ea44ec1b09b7da2a1a82a0252a4c1c26ee1ed7cf";
const LEGACY_TOKEN: &str = "\
0oRDoQEmoFkCIqk6AAEk+1ggAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\
6AAEk+lggAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh86AAEk/YSkAlggAA\
ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8EZTMuMS40BVggAAECAwQFBgcIC\
QoLDA0ODxAREhMUFRYXGBkaGxwdHh8BYkJMpAJYIAABAgMEBQYHCAkKCwwNDg8QERIT\
FBUWFxgZGhscHR4fBGMxLjEFWCAAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0\
eHwFkUFJvVKQCWCAAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHwRjMS4wBV\
ggAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8BZEFSb1SkAlggAAECAwQFB\
gcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8EYzIuMgVYIAABAgMEBQYHCAkKCwwNDg8Q\
ERITFBUWFxgZGhscHR4fAWNBcHA6AAEk+RkwADoAAST/WCAAAQIDBAUGBwgJCgsMDQ4\
PEBESExQVFhcYGRobHB0eHzoAASUBbHBzYV92ZXJpZmllcjoAAST4IDoAASUAWCEBAA\
ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh86AAEk93FQU0FfSW9UX1BST0ZJT\
EVfMVhAWIYFCO5+jMSOuoctu11pSlQrEyKtDVECPBlw30KfBlAcaDqVEIoMztCm6A4J\
ZvIr1j0cAFaXShG6My14d4f7Tw==";

#[test]
fn legacy_psa_token_verifies_and_decodes() {
    use base64ct::{Base64, Encoding};
    let token = Base64::decode_vec(LEGACY_TOKEN).unwrap();
    let mut vk = P256VerifyingKey::from_coordinates(
        &hex::decode(LEGACY_X).unwrap(),
        &hex::decode(LEGACY_Y).unwrap(),
    )
    .unwrap();
    let t = Token::decode(&token).unwrap();
    let claims = t.verify(&mut crypto(), &mut vk, &[]).unwrap();
    let seq32: Vec<u8> = (0u8..32).collect();
    let mut ueid = vec![1u8];
    ueid.extend(&seq32);
    assert!(claims.legacy_psa);
    assert_eq!(claims.profile, Some(Profile::Uri("PSA_IoT_PROFILE_1")));
    assert_eq!(claims.psa_client_id, Some(-1));
    assert_eq!(claims.psa_lifecycle, Some(0x3000));
    assert_eq!(claims.psa_implementation_id, Some(&seq32[..]));
    assert_eq!(claims.bootseed, Some(&seq32[..]));
    assert_eq!(claims.nonce.and_then(|n| n.single()), Some(&seq32[..]));
    assert_eq!(claims.ueid, Some(&ueid[..]));
    assert_eq!(claims.psa_vsi, Some("psa_verifier"));
    let comps: Vec<_> = claims.psa_software_components.unwrap().iter().collect();
    let types: Vec<_> = comps.iter().map(|c| c.measurement_type.unwrap()).collect();
    let versions: Vec<_> = comps.iter().map(|c| c.version.unwrap()).collect();
    assert_eq!(types, ["BL", "PRoT", "ARoT", "App"]);
    assert_eq!(versions, ["3.1.4", "1.1", "1.0", "2.2"]);
    assert!(comps.iter().all(|c| c.signer_id == Some(&seq32[..])));
    // It is not an RFC 9783 token.
    assert_eq!(psa::validate(&claims), Err(Error::WrongProfile));

    // A legacy key next to its successor is a duplicate claim.
    let dup = diag_to_cbor("{10: h'0001020304050607', -75008: h'0001020304050607'}");
    assert!(matches!(
        Claims::decode(&dup),
        Err(Error::DuplicateClaim { key: -75008, .. })
    ));
}

#[test]
fn our_psa_tokens_validate_and_round_trip() {
    use iot_attest::SwComponent;
    let comps = [
        SwComponent {
            measurement_type: Some("BL"),
            measurement_value: Some(&[3; 32]),
            version: Some("1.0.0"),
            signer_id: Some(&[4; 32]),
            measurement_desc: Some("sha-256"),
        },
        SwComponent {
            measurement_type: Some("PRoT"),
            measurement_value: Some(&[5; 48]),
            signer_id: Some(&[6; 64]),
            ..SwComponent::default()
        },
    ];
    let mut instance = [2u8; 33];
    instance[0] = 1;
    let evidence = psa::PsaClaims {
        nonce: &[1; 32],
        instance_id: &instance,
        implementation_id: &[0; 32],
        client_id: -1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: Some(&[7; 8]),
        certification_reference: Some("1234567890123-12345"),
        software_components: &comps,
        vsi: Some("https://veraison.example/v1/challenge-response"),
    };
    let claims = evidence.claims();
    psa::validate(&claims).unwrap();
    let mut c = crypto();
    let mut sk = P256SigningKey::from_bytes(&[5; 32]).unwrap();
    let mut vk = sk.verifying_key();
    let (mut scratch, mut out) = ([0u8; 600], [0u8; 700]);
    for alg in [Algorithm::Es256, Algorithm::Esp256] {
        let n = TokenBuilder::new()
            .kid(b"iak")
            .sign(&mut c, &mut sk, alg, &claims, &mut scratch, &mut out)
            .unwrap();
        let t = Token::decode(&out[..n]).unwrap();
        assert_eq!(t.kid(), Some(&b"iak"[..]));
        let back = t.verify(&mut c, &mut vk, &[]).unwrap();
        assert_eq!(back, claims);
        psa::validate(&back).unwrap();
    }
    // Each rule bites.
    let mut bad = claims.clone();
    bad.psa_client_id = Some(0);
    assert_eq!(
        psa::validate(&bad),
        Err(Error::Profile {
            key: key::PSA_CLIENT_ID,
            violation: Violation::Value
        })
    );
    let mut bad = claims.clone();
    bad.psa_lifecycle = Some(0x7000);
    assert!(psa::validate(&bad).is_err());
    let mut bad = claims.clone();
    bad.psa_certification_reference = Some("1234567890123");
    assert_eq!(
        psa::validate(&bad),
        Err(Error::Profile {
            key: key::PSA_CERTIFICATION_REFERENCE,
            violation: Violation::Format
        })
    );
    let mut bad = claims.clone();
    bad.nonce = Some(iot_attest::Nonce::One(&[1; 16]));
    assert_eq!(
        psa::validate(&bad),
        Err(Error::Profile {
            key: key::NONCE,
            violation: Violation::Size
        })
    );
    let mut bad = claims.clone();
    let mut other = instance;
    other[0] = 2;
    bad.ueid = Some(&other);
    assert_eq!(
        psa::validate(&bad),
        Err(Error::Profile {
            key: key::UEID,
            violation: Violation::Value
        })
    );
    let mut bad = claims.clone();
    bad.profile = Some(Profile::Uri("http://arm.com/psa/2.0.0"));
    assert_eq!(psa::validate(&bad), Err(Error::WrongProfile));
}
