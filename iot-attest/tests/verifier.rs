//! The verifier (key lookup, nonce, profile rules, signature/MAC), the appraisal against
//! reference values and the EAR it produces, on the PSA example tokens of ../shared/vectors and
//! on tokens made here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod common;

use common::{jwk_xy, yaml};
use iot_attest::appraise::{RefComponent, ReferenceValues, appraise, attestation_result};
use iot_attest::ear::{Tier, TrustVector, claim};
use iot_attest::psa::{self, Lifecycle, PsaClaims};
use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Rules, Verifier};
use iot_attest::{
    Claims, Confirmation, DebugStatus, Error, KeyId, Nonce, NumericDate, Profile, SwComponent,
    Token, TokenBuilder, Violation, cdsp, key,
};
use iot_core::cose::{Algorithm, CoseKey, Ec2Y, SymmetricKey};
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto};
use zeroize::Zeroizing;

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

fn p256(name: &str, kid: Option<&[u8]>, ueid: Option<&[u8]>, key: P256VerifyingKey) -> KeyEntry {
    KeyEntry {
        name: name.into(),
        kid: kid.map(<[u8]>::to_vec),
        ueid: ueid.map(<[u8]>::to_vec),
        key: KeyMaterial::P256(key),
    }
}

const NONCE: [u8; 32] = [0x01; 32];

fn instance_id(b: u8) -> [u8; 33] {
    let mut id = [b; 33];
    id[0] = 0x01;
    id
}

// ---------------------------------------------------------------------------------------------
// The PSA examples

#[test]
fn psa_sign1_example_is_found_by_instance_id_and_verified() {
    let Some(jwk) = iot_test_vectors::json("psa/example/tfm-es-iak.json") else {
        return;
    };
    let token = iot_test_vectors::read("psa/example/psa-sign1.cbor").unwrap();
    let doc = yaml(
        &String::from_utf8(iot_test_vectors::read("psa/example/sign1-claims.yaml").unwrap())
            .unwrap(),
    );
    let Some((_, common::Yaml::Binary(instance))) = doc.iter().find(|(n, _)| n == "instance_id")
    else {
        panic!("no instance_id in sign1-claims.yaml");
    };
    let (x, y) = jwk_xy(&jwk);
    let iak = P256VerifyingKey::from_coordinates(&x, &y).unwrap();
    let mut store = MemoryKeyStore::new();
    store
        .insert(p256("tfm-es-iak", None, Some(instance), iak))
        .unwrap();
    let mut c = crypto();
    let v = Verifier::new(&store);

    let ok = v.verify(&mut c, &token, Some(&NONCE)).unwrap();
    assert_eq!(ok.rules, Rules::Psa);
    assert_eq!(ok.found_by, KeyId::Ueid(instance));
    assert_eq!(ok.key.name, "tfm-es-iak");
    assert_eq!(ok.claims.psa_client_id, Some(2_147_483_647));

    // Another nonce, a nonce of the wrong length, no nonce check at all.
    assert_eq!(
        v.verify(&mut c, &token, Some(&[0x02; 32])).unwrap_err(),
        Error::NonceMismatch
    );
    assert_eq!(
        v.verify(&mut c, &token, Some(&[0x01; 7])).unwrap_err(),
        Error::Core(iot_core::Error::InvalidNonce)
    );
    assert!(v.verify(&mut c, &token, None).is_ok());

    // A store that does not know this Instance ID.
    let mut other = MemoryKeyStore::new();
    other
        .insert(p256("x", None, Some(&instance_id(9)), iak))
        .unwrap();
    assert_eq!(
        Verifier::new(&other)
            .verify(&mut c, &token, None)
            .unwrap_err(),
        Error::UnknownKey
    );

    // The right Instance ID with another key: the signature fails.
    let wrong = P256SigningKey::from_bytes(&[7; 32])
        .unwrap()
        .verifying_key();
    let mut bad = MemoryKeyStore::new();
    bad.insert(p256("wrong", None, Some(instance), wrong))
        .unwrap();
    assert_eq!(
        Verifier::new(&bad)
            .verify(&mut c, &token, None)
            .unwrap_err(),
        Error::Core(iot_core::Error::BadSignature)
    );

    // One bit of the signed claims flipped.
    let mut tampered = token.clone();
    let at = tampered.len() - 70;
    tampered[at] ^= 1;
    assert!(v.verify(&mut c, &tampered, Some(&NONCE)).is_err());

    // A single key told to the verifier answers any lookup, and its UEID binding is checked.
    let single = p256("given", None, Some(&instance_id(3)), iak);
    assert_eq!(
        Verifier::new(&single)
            .verify(&mut c, &token, None)
            .unwrap_err(),
        Error::InstanceMismatch
    );
    let single = p256("given", None, None, iak);
    assert!(Verifier::new(&single).verify(&mut c, &token, None).is_ok());
}

#[test]
fn psa_mac0_example_verifies_with_the_hmac_key_of_its_instance() {
    let Some(k) = iot_test_vectors::read("psa/example/tfm-hs-iak.bin") else {
        return;
    };
    let token = iot_test_vectors::read("psa/example/psa-mac0.cbor").unwrap();
    let claims = Token::decode(&token).unwrap().claims_unverified().unwrap();
    let instance = claims.ueid.unwrap().to_vec();
    let nonce = claims.nonce.unwrap().single().unwrap().to_vec();
    let mut store = MemoryKeyStore::new();
    store
        .insert(KeyEntry {
            name: "tfm-hs-iak".into(),
            kid: None,
            ueid: Some(instance.clone()),
            key: KeyMaterial::Hmac(Zeroizing::new(k.clone())),
        })
        .unwrap();
    let mut c = crypto();
    let ok = Verifier::new(&store)
        .verify(&mut c, &token, Some(&nonce))
        .unwrap();
    assert_eq!(ok.rules, Rules::Psa);

    // A P-256 key under the same Instance ID cannot verify a MAC.
    let mut mixed = MemoryKeyStore::new();
    let vk = P256SigningKey::from_bytes(&[7; 32])
        .unwrap()
        .verifying_key();
    mixed.insert(p256("ec", None, Some(&instance), vk)).unwrap();
    assert_eq!(
        Verifier::new(&mixed)
            .verify(&mut c, &token, None)
            .unwrap_err(),
        Error::Core(iot_core::Error::AlgorithmMismatch)
    );
}

#[test]
fn a_store_refuses_a_kid_or_ueid_twice() {
    let vk = P256SigningKey::from_bytes(&[7; 32])
        .unwrap()
        .verifying_key();
    let mut s = MemoryKeyStore::new();
    s.insert(p256("a", Some(b"k1"), Some(&instance_id(1)), vk))
        .unwrap();
    assert!(s.insert(p256("b", Some(b"k1"), None, vk)).is_err());
    assert!(
        s.insert(p256("c", None, Some(&instance_id(1)), vk))
            .is_err()
    );
    s.insert(p256("d", Some(b"k2"), None, vk)).unwrap();
    assert_eq!(s.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Tokens made here

struct Device {
    key: P256SigningKey,
    instance: [u8; 33],
}

fn device(seed: u8) -> Device {
    Device {
        key: P256SigningKey::from_bytes(&[seed; 32]).unwrap(),
        instance: instance_id(seed),
    }
}

const BL: [u8; 32] = [0xb1; 32];
const APP: [u8; 32] = [0xa1; 32];
const SIGNER: [u8; 32] = [0x51; 32];
const IMPL: [u8; 32] = [0x1d; 32];

fn psa_token(
    d: &Device,
    nonce: &[u8],
    lifecycle: Lifecycle,
    firmware: &[SwComponent<'_>],
) -> Vec<u8> {
    let claims = PsaClaims {
        nonce,
        instance_id: &d.instance,
        implementation_id: &IMPL,
        client_id: -1,
        lifecycle: lifecycle.value() as u16,
        boot_seed: None,
        certification_reference: None,
        software_components: firmware,
        vsi: None,
    }
    .claims();
    psa::validate(&claims).unwrap();
    sign(d, &claims, None)
}

fn sign(d: &Device, claims: &Claims<'_>, kid: Option<&[u8]>) -> Vec<u8> {
    let mut k = d.key.clone();
    let (mut scratch, mut out) = ([0u8; 1024], [0u8; 1200]);
    let mut b = TokenBuilder::new();
    b.kid = kid;
    let n = b
        .sign(
            &mut crypto(),
            &mut k,
            Algorithm::Es256,
            claims,
            &mut scratch,
            &mut out,
        )
        .unwrap();
    out[..n].to_vec()
}

fn fw<'a>(bl: &'a [u8], app: &'a [u8], signer: &'a [u8]) -> [SwComponent<'a>; 2] {
    [
        SwComponent {
            measurement_type: Some("BL"),
            measurement_value: Some(bl),
            signer_id: Some(signer),
            version: Some("1.0.0"),
            ..SwComponent::default()
        },
        SwComponent {
            measurement_type: Some("App"),
            measurement_value: Some(app),
            signer_id: Some(signer),
            version: Some("2.3.0"),
            ..SwComponent::default()
        },
    ]
}

fn reference() -> ReferenceValues {
    ReferenceValues {
        policy_id: Some("test-policy".into()),
        implementation_id: Some(IMPL.to_vec()),
        software_components: vec![
            RefComponent {
                measurement_type: Some("BL".into()),
                measurement_value: BL.to_vec(),
                signer_id: Some(SIGNER.to_vec()),
                version: None,
            },
            RefComponent {
                measurement_type: Some("App".into()),
                measurement_value: APP.to_vec(),
                signer_id: Some(SIGNER.to_vec()),
                version: Some("2.3.0".into()),
            },
        ],
        lifecycle: Some(vec![Lifecycle::Secured]),
        debug_status: None,
        ..ReferenceValues::default()
    }
}

fn store_of(d: &Device) -> MemoryKeyStore {
    let mut s = MemoryKeyStore::new();
    s.insert(p256("dev", None, Some(&d.instance), d.key.verifying_key()))
        .unwrap();
    s
}

fn vector(d: &Device, token: &[u8], nonce: &[u8]) -> TrustVector {
    let store = store_of(d);
    let ok = Verifier::new(&store)
        .verify(&mut crypto(), token, Some(nonce))
        .unwrap();
    let a = appraise(&ok, &reference());
    assert_eq!(a.status, a.trust_vector.status());
    a.trust_vector
}

#[test]
fn genuine_firmware_is_affirmed() {
    let d = device(0x21);
    let nonce = [0x33; 32];
    let token = psa_token(&d, &nonce, Lifecycle::Secured, &fw(&BL, &APP, &SIGNER));
    let tv = vector(&d, &token, &nonce);
    assert_eq!(
        tv,
        TrustVector {
            instance_identity: claim::TRUSTWORTHY_INSTANCE,
            configuration: claim::APPROVED_CONFIG,
            executables: claim::APPROVED_RUNTIME,
            hardware: claim::GENUINE_HARDWARE,
            ..TrustVector::default()
        }
    );
    assert_eq!(tv.status(), Tier::Affirming);
}

#[test]
fn unknown_firmware_debug_and_foreign_hardware_are_not_affirmed() {
    let d = device(0x22);
    let nonce = [0x44; 48];
    // A build of the trusted signer that is not listed: a warning.
    let token = psa_token(
        &d,
        &nonce,
        Lifecycle::Secured,
        &fw(&BL, &[0xee; 32], &SIGNER),
    );
    let tv = vector(&d, &token, &nonce);
    assert_eq!(tv.executables, claim::UNRECOGNIZED_RUNTIME);
    assert_eq!(tv.status(), Tier::Warning);
    // A listed measurement from another signer, or an unknown build of an unknown signer:
    // contraindicated.
    let token = psa_token(&d, &nonce, Lifecycle::Secured, &fw(&BL, &APP, &[0x66; 32]));
    assert_eq!(
        vector(&d, &token, &nonce).executables,
        claim::CONTRAINDICATED_RUNTIME
    );
    let token = psa_token(
        &d,
        &nonce,
        Lifecycle::Secured,
        &fw(&[0x99; 32], &APP, &[0x66; 32]),
    );
    let tv = vector(&d, &token, &nonce);
    assert_eq!(tv.executables, claim::CONTRAINDICATED_RUNTIME);
    assert_eq!(tv.status(), Tier::Contraindicated);
    // The right App measurement with another version than the reference's.
    let mut comps = fw(&BL, &APP, &SIGNER);
    comps[1].version = Some("2.2.9");
    let token = psa_token(&d, &nonce, Lifecycle::Secured, &comps);
    assert_eq!(
        vector(&d, &token, &nonce).executables,
        claim::UNRECOGNIZED_RUNTIME
    );
    // Debug lifecycle: unsupportable configuration.
    let token = psa_token(
        &d,
        &nonce,
        Lifecycle::RecoverablePsaRotDebug,
        &fw(&BL, &APP, &SIGNER),
    );
    let tv = vector(&d, &token, &nonce);
    assert_eq!(tv.configuration, claim::UNSUPPORTABLE_CONFIG);
    assert_eq!(tv.executables, claim::APPROVED_RUNTIME);
    assert_eq!(tv.status(), Tier::Contraindicated);
}

#[test]
fn implementation_id_and_debug_status_constraints() {
    let d = device(0x23);
    let nonce = [0x55; 32];
    let firmware = fw(&BL, &APP, &SIGNER);
    let mut claims = PsaClaims {
        nonce: &nonce,
        instance_id: &d.instance,
        implementation_id: &[0x2e; 32],
        client_id: 1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: None,
        certification_reference: None,
        software_components: &firmware,
        vsi: None,
    }
    .claims();
    claims.dbgstat = Some(DebugStatus::Enabled);
    let token = sign(&d, &claims, None);
    let store = store_of(&d);
    let ok = Verifier::new(&store)
        .verify(&mut crypto(), &token, Some(&nonce))
        .unwrap();
    let mut r = reference();
    assert_eq!(
        appraise(&ok, &r).trust_vector.hardware,
        claim::UNRECOGNIZED_HARDWARE
    );
    r.implementation_id = None;
    assert_eq!(appraise(&ok, &r).trust_vector.hardware, claim::NO_CLAIM);

    r.debug_status = Some(vec![DebugStatus::DisabledSinceBoot]);
    assert_eq!(
        appraise(&ok, &r).trust_vector.configuration,
        claim::UNSUPPORTABLE_CONFIG
    );
    r.debug_status = Some(vec![DebugStatus::Enabled]);
    assert_eq!(
        appraise(&ok, &r).trust_vector.configuration,
        claim::APPROVED_CONFIG
    );
    // A constraint the evidence cannot answer: unavailable.
    claims.dbgstat = None;
    let token = sign(&d, &claims, None);
    let ok = Verifier::new(&store)
        .verify(&mut crypto(), &token, Some(&nonce))
        .unwrap();
    assert_eq!(
        appraise(&ok, &r).trust_vector.configuration,
        claim::UNAVAILABLE_CONFIG
    );
    // No constraints at all: no claims but instance identity.
    let none = ReferenceValues::default();
    let a = appraise(&ok, &none);
    assert_eq!(
        a.trust_vector,
        TrustVector {
            instance_identity: claim::TRUSTWORTHY_INSTANCE,
            ..TrustVector::default()
        }
    );
    assert_eq!(a.status, Tier::Affirming);
    assert_eq!(a.policy_id, None);
}

// ---------------------------------------------------------------------------------------------
// The Constrained Device Standard Profile

fn cdsp_claims<'a>(nonce: &'a [u8], ueid: Option<&'a [u8]>) -> Claims<'a> {
    Claims {
        profile: Some(Profile::Uri(cdsp::PROFILE)),
        nonce: Some(Nonce::One(nonce)),
        ueid,
        swname: Some("sensor-fw"),
        dbgstat: Some(DebugStatus::DisabledPermanently),
        ..Claims::default()
    }
}

#[test]
fn cdsp_tokens_are_checked_against_the_profile() {
    let d = device(0x31);
    let nonce = [0x77; 16];
    let mut s = MemoryKeyStore::new();
    s.insert(p256("dev", Some(b"dev-31"), None, d.key.verifying_key()))
        .unwrap();
    s.insert(KeyEntry {
        name: "mac".into(),
        kid: Some(b"mac-31".to_vec()),
        ueid: None,
        key: KeyMaterial::Hmac(Zeroizing::new(vec![0x5a; 32])),
    })
    .unwrap();
    let mut c = crypto();
    let v = Verifier::new(&s);

    let good = sign(&d, &cdsp_claims(&nonce, None), Some(b"dev-31"));
    let ok = v.verify(&mut c, &good, Some(&nonce)).unwrap();
    assert_eq!(ok.rules, Rules::Cdsp);
    assert_eq!(ok.found_by, KeyId::Kid(b"dev-31"));

    // COSE_Mac0 is not allowed under this profile, even with a good MAC.
    let mut out = [0u8; 512];
    let mut scratch = [0u8; 512];
    let mut b = TokenBuilder::new();
    b.kid = Some(b"mac-31");
    let n = b
        .mac(
            &mut c,
            &SymmetricKey::new(&[0x5a; 32]),
            &cdsp_claims(&nonce, None),
            &mut scratch,
            &mut out,
        )
        .unwrap();
    assert_eq!(
        v.verify(&mut c, &out[..n], Some(&nonce)).unwrap_err(),
        Error::EnvelopeNotAllowed
    );

    // Neither kid nor UEID: no key identification.
    let anon = sign(&d, &cdsp_claims(&nonce, None), None);
    assert_eq!(
        v.verify(&mut c, &anon, None).unwrap_err(),
        Error::UnknownKey
    );

    // Two nonces: the profile asks for one.
    let two = [&nonce[..], &[0x78; 16][..]];
    let mut claims = cdsp_claims(&nonce, None);
    claims.nonce = Some(Nonce::Many(iot_attest::Seq::Items(&two)));
    let many = sign(&d, &claims, Some(b"dev-31"));
    assert_eq!(
        v.verify(&mut c, &many, Some(&nonce)).unwrap_err(),
        Error::Profile {
            key: key::NONCE,
            violation: Violation::Forbidden
        }
    );
    // ... which the general rules accept, when the nonce is among them.
    claims.profile = Some(Profile::Uri("tag:example.com,2025:other"));
    let general = sign(&d, &claims, Some(b"dev-31"));
    assert_eq!(
        v.verify(&mut c, &general, Some(&[0x78; 16])).unwrap().rules,
        Rules::Eat
    );
    let mut strict = Verifier::new(&s);
    strict.require_known_profile = true;
    assert_eq!(
        strict.verify(&mut c, &general, None).unwrap_err(),
        Error::WrongProfile
    );

    // A claims-set with a non-preferred head (uptime 5 as 0x18 0x05), signed as it is.
    let mut raw = vec![0u8; 256];
    let n = cdsp_claims(&nonce, None).encode_to(&mut raw).unwrap();
    raw.truncate(n);
    raw[0] += 1; // one more entry in the map
    raw.extend_from_slice(&[0x19, 0x01, 0x05, 0x18, 0x05]);
    Claims::decode(&raw).unwrap();
    let mut k = d.key.clone();
    let mut out = [0u8; 512];
    let mut b = TokenBuilder::new();
    b.kid = Some(b"dev-31");
    let n = b
        .sign_payload(&mut c, &mut k, Algorithm::Es256, &raw, &mut out)
        .unwrap();
    assert!(matches!(
        v.verify(&mut c, &out[..n], Some(&nonce)).unwrap_err(),
        Error::Core(iot_core::Error::Cbor {
            kind: iot_core::CborError::NotPreferred,
            ..
        })
    ));

    // A detached EAT bundle (tag 602) is refused before anything else.
    let mut deb = vec![0xd9, 0x02, 0x5a];
    deb.extend_from_slice(&good);
    assert_eq!(
        cdsp::check_token(&deb).unwrap_err(),
        Error::EnvelopeNotAllowed
    );
}

#[test]
fn cdsp_kid_takes_precedence_over_the_ueid() {
    let d = device(0x32);
    let other = device(0x33);
    let nonce = [0x10; 8];
    let mut s = MemoryKeyStore::new();
    s.insert(p256(
        "by-ueid",
        None,
        Some(&d.instance),
        d.key.verifying_key(),
    ))
    .unwrap();
    s.insert(p256("by-kid", Some(b"k"), None, other.key.verifying_key()))
        .unwrap();
    let mut c = crypto();
    let token = sign(&d, &cdsp_claims(&nonce, Some(&d.instance)), Some(b"k"));
    // The kid names the other device's key, so the signature does not verify.
    assert_eq!(
        Verifier::new(&s).verify(&mut c, &token, None).unwrap_err(),
        Error::Core(iot_core::Error::BadSignature)
    );
    let token = sign(&d, &cdsp_claims(&nonce, Some(&d.instance)), None);
    let ok = Verifier::new(&s).verify(&mut c, &token, None).unwrap();
    assert_eq!(ok.key.name, "by-ueid");
    // A kid the store does not know ends the search: no fallback to the UEID.
    let token = sign(&d, &cdsp_claims(&nonce, Some(&d.instance)), Some(b"nobody"));
    assert_eq!(
        Verifier::new(&s).verify(&mut c, &token, None).unwrap_err(),
        Error::UnknownKey
    );
}

#[test]
fn a_psa_token_with_an_unknown_kid_is_found_by_its_instance_id() {
    let d = device(0x35);
    let nonce = [0x36; 32];
    let firmware = fw(&BL, &APP, &SIGNER);
    let claims = PsaClaims {
        nonce: &nonce,
        instance_id: &d.instance,
        implementation_id: &IMPL,
        client_id: -1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: None,
        certification_reference: None,
        software_components: &firmware,
        vsi: None,
    }
    .claims();
    // TF-M puts a kid of its own (a hash of the key) in the header.
    let token = sign(&d, &claims, Some(&[0xab; 32]));
    let store = store_of(&d);
    let ok = Verifier::new(&store)
        .verify(&mut crypto(), &token, Some(&nonce))
        .unwrap();
    assert_eq!(ok.found_by, KeyId::Ueid(&d.instance));
    // A kid the store knows wins over the Instance ID.
    let mut s = MemoryKeyStore::new();
    s.insert(p256(
        "by-kid",
        Some(&[0xab; 32]),
        None,
        d.key.verifying_key(),
    ))
    .unwrap();
    let ok = Verifier::new(&s)
        .verify(&mut crypto(), &token, Some(&nonce))
        .unwrap();
    assert_eq!(ok.found_by, KeyId::Kid(&[0xab; 32]));
}

#[test]
fn validity_period_is_checked_when_the_verifier_has_a_clock() {
    let d = device(0x34);
    let nonce = [0x10; 8];
    let mut s = MemoryKeyStore::new();
    s.insert(p256("dev", Some(b"k"), None, d.key.verifying_key()))
        .unwrap();
    let mut claims = cdsp_claims(&nonce, None);
    claims.nbf = Some(NumericDate::Int(1000));
    claims.exp = Some(NumericDate::Int(2000));
    let token = sign(&d, &claims, Some(b"k"));
    let mut v = Verifier::new(&s);
    let mut c = crypto();
    for (now, ok) in [(999, false), (1000, true), (1999, true), (2000, false)] {
        v.now = Some(now);
        assert_eq!(v.verify(&mut c, &token, None).is_ok(), ok, "now {now}");
    }
    v.now = Some(500);
    assert_eq!(
        v.verify(&mut c, &token, None).unwrap_err(),
        Error::NotValidNow
    );
}

// ---------------------------------------------------------------------------------------------
// The EAR

#[test]
fn ear_carries_the_appraisal_the_nonce_and_the_attested_key() {
    let d = device(0x41);
    let nonce = [0x42; 32];
    let attested = P256SigningKey::from_bytes(&[0x43; 32])
        .unwrap()
        .verifying_key();
    let sec1 = attested.to_sec1_uncompressed();
    let firmware = fw(&BL, &APP, &SIGNER);
    let mut claims = PsaClaims {
        nonce: &nonce,
        instance_id: &d.instance,
        implementation_id: &IMPL,
        client_id: -1,
        lifecycle: Lifecycle::Secured.value() as u16,
        boot_seed: None,
        certification_reference: None,
        software_components: &firmware,
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
    let token = sign(&d, &claims, None);
    let store = store_of(&d);
    let ok = Verifier::new(&store)
        .verify(&mut crypto(), &token, Some(&nonce))
        .unwrap();
    let ear = attestation_result(&ok, &token, &reference(), Some(&nonce), 1_700_000_000);
    assert_eq!(ear.status(), Tier::Affirming);
    let (name, a) = &ear.submods[0];
    assert_eq!(name, "PSA_IOT");
    let spki = a.attested_key.as_ref().unwrap();
    assert_eq!(spki.len(), 91);
    assert_eq!(&spki[..4], &[0x30, 0x59, 0x30, 0x13]);
    assert_eq!(&spki[26..], &sec1[..]);

    // The same key as a compressed point gives the same SPKI.
    claims.cnf = Some(Confirmation::Key(CoseKey::Ec2 {
        kid: None,
        alg: None,
        x: &sec1[1..33],
        y: Ec2Y::Sign(sec1[64] & 1 == 1),
        d: None,
    }));
    let token2 = sign(&d, &claims, None);
    let ok2 = Verifier::new(&store)
        .verify(&mut crypto(), &token2, Some(&nonce))
        .unwrap();
    assert_eq!(
        appraise(&ok2, &reference()).attested_key.as_ref(),
        Some(spki)
    );

    // CBOR: the profile's keys in deterministic order, readable as a claims-set.
    let cbor = ear.to_cbor().unwrap();
    let back = Claims::decode(&cbor).unwrap();
    assert_eq!(back.profile, Some(Profile::Uri(iot_attest::ear::PROFILE)));
    assert_eq!(back.iat, Some(NumericDate::Int(1_700_000_000)));
    assert_eq!(back.nonce.unwrap().single(), Some(&nonce[..]));
    let extra: Vec<_> = back.extra.iter().map(|x| x.key).collect();
    assert_eq!(
        extra,
        vec![iot_attest::Label::Int(1002), iot_attest::Label::Int(1004)]
    );
    let sub = back.submods.unwrap().iter().next().unwrap();
    assert_eq!(sub.name, "PSA_IOT");
    let iot_attest::Submodule::Claims(set) = sub.module else {
        panic!("the appraisal is a map");
    };
    let appraisal = set.claims().unwrap();
    let keys: Vec<_> = appraisal.extra.iter().map(|x| x.key).collect();
    assert_eq!(
        keys,
        vec![
            iot_attest::Label::Int(1000),
            iot_attest::Label::Int(1001),
            iot_attest::Label::Int(1003),
            iot_attest::Label::Int(-70002)
        ]
    );
    let status = appraisal.extra.iter().next().unwrap().value;
    assert_eq!(status, &[0x02]);

    // Signed as a CWT: it verifies with the verifier's key and carries the same claims-set.
    let mut vk = P256SigningKey::from_bytes(&[0x50; 32]).unwrap();
    let cwt = ear
        .sign(
            &mut crypto(),
            &mut vk,
            Algorithm::Es256,
            Some(b"verifier-1"),
        )
        .unwrap();
    let t = Token::decode(&cwt).unwrap();
    assert!(t.cwt_tagged);
    assert_eq!(t.kid(), Some(&b"verifier-1"[..]));
    t.verify(&mut crypto(), &mut vk.verifying_key(), &[])
        .unwrap();
    assert_eq!(t.payload(), Some(&cbor[..]));

    // JSON: the profile's names.
    let j = ear.to_json();
    assert_eq!(j["eat_profile"], "tag:github.com,2023:veraison/ear");
    assert_eq!(j["iat"], 1_700_000_000);
    let psa = &j["submods"]["PSA_IOT"];
    assert_eq!(psa["ear.status"], "affirming");
    assert_eq!(psa["ear.appraisal-policy-id"], "test-policy");
    let tv = psa["ear.trustworthiness-vector"].as_object().unwrap();
    assert_eq!(tv.len(), 8);
    assert_eq!(tv["instance-identity"], 2);
    assert_eq!(tv["executables"], 2);
    assert_eq!(tv["file-system"], 0);
    let akpub = psa["ear.veraison.key-attestation"]["akpub"]
        .as_str()
        .unwrap();
    assert_eq!(iot_attest::json::from_b64url(akpub).unwrap(), *spki);
    assert_eq!(
        iot_attest::json::from_b64url(j["eat_nonce"].as_str().unwrap()).unwrap(),
        nonce
    );
    assert_eq!(
        iot_attest::json::from_b64url(j["ear.raw-evidence"].as_str().unwrap()).unwrap(),
        token
    );
    assert!(
        j["ear.verifier-id"]["build"]
            .as_str()
            .unwrap()
            .starts_with("iot-attest ")
    );
}

#[test]
fn reference_values_from_json() {
    let r = ReferenceValues::from_json(
        r#"{
            "policy_id": "p1",
            "implementation_id": "1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d",
            "software_components": [
                {"measurement_type": "BL", "measurement_value": "b1b1", "signer_id": "5151"},
                {"measurement_value": "a1a1", "version": "2.3.0"}
            ],
            "lifecycle": ["secured", "psa-lifecycle-non-psa-rot-debug", 12288],
            "debug_status": ["disabled-since-boot", 3]
        }"#,
    )
    .unwrap();
    assert_eq!(r.policy_id.as_deref(), Some("p1"));
    assert_eq!(r.implementation_id, Some(IMPL.to_vec()));
    assert_eq!(r.software_components.len(), 2);
    assert_eq!(r.software_components[0].signer_id, Some(vec![0x51, 0x51]));
    assert_eq!(r.software_components[1].measurement_type, None);
    assert_eq!(
        r.lifecycle,
        Some(vec![
            Lifecycle::Secured,
            Lifecycle::NonPsaRotDebug,
            Lifecycle::Secured
        ])
    );
    assert_eq!(
        r.debug_status,
        Some(vec![
            DebugStatus::DisabledSinceBoot,
            DebugStatus::DisabledPermanently
        ])
    );
    for bad in [
        r#"{"lifecyle": ["secured"]}"#,
        r#"{"implementation_id": "zz"}"#,
        r#"{"software_components": [{"signer_id": "51"}]}"#,
        r#"{"lifecycle": ["on-fire"]}"#,
        r#"{"debug_status": ["sometimes"]}"#,
        r#"[]"#,
    ] {
        assert!(ReferenceValues::from_json(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_folder_of_keys_is_found_by_kid_and_instance_id() {
    let dir = std::env::temp_dir().join(format!("iot-attest-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = device(0x61);
    let b = device(0x62);
    let cose = |d: &Device, kid: Option<&[u8]>| {
        let sec1 = d.key.verifying_key().to_sec1_uncompressed();
        let k = CoseKey::Ec2 {
            kid,
            alg: None,
            x: &sec1[1..33],
            y: Ec2Y::Coordinate(&sec1[33..]),
            d: None,
        };
        let mut buf = [0u8; 128];
        let n = k.encode_to(&mut buf).unwrap();
        buf[..n].to_vec()
    };
    std::fs::write(dir.join("sensor-a.cose"), cose(&a, None)).unwrap();
    std::fs::write(
        dir.join(format!("{}.cose", hex::encode(b.instance))),
        cose(&b, Some(b"b-kid")),
    )
    .unwrap();
    std::fs::write(dir.join(".hidden"), b"not a key").unwrap();
    let parse = |_: &std::path::Path, bytes: &[u8]| {
        let k = CoseKey::decode(bytes).map_err(|e| e.to_string())?;
        Ok(iot_attest::verify::ParsedKey {
            key: KeyMaterial::P256(k.verifying_key().map_err(|e| e.to_string())?),
            kid: k.kid().map(<[u8]>::to_vec),
        })
    };
    let store = MemoryKeyStore::load_dir(&dir, parse).unwrap();
    assert_eq!(store.len(), 2);
    use iot_attest::verify::KeyStore;
    let found = store.find(KeyId::Kid(b"sensor-a")).unwrap().unwrap();
    assert_eq!(found.name, "sensor-a.cose");
    assert_eq!(found.ueid, None);
    let found = store.find(KeyId::Ueid(&b.instance)).unwrap().unwrap();
    assert_eq!(found.kid.as_deref(), Some(&b"b-kid"[..]));
    assert!(store.find(KeyId::Kid(b"nobody")).unwrap().is_none());

    // A PSA token of device b is found by its Instance ID in the folder.
    let nonce = [0x64; 32];
    let token = psa_token(&b, &nonce, Lifecycle::Secured, &fw(&BL, &APP, &SIGNER));
    let ok = Verifier::new(&store)
        .verify(&mut crypto(), &token, Some(&nonce))
        .unwrap();
    assert_eq!(ok.key.name, format!("{}.cose", hex::encode(b.instance)));

    // A file that is not a key is an error naming it.
    std::fs::write(dir.join("junk.cose"), b"\x01\x02").unwrap();
    let e = MemoryKeyStore::load_dir(&dir, parse)
        .unwrap_err()
        .to_string();
    assert!(e.contains("junk.cose"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
