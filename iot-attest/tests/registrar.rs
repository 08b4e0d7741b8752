//! The registrar's evidence check ([`EatVerifier`], feature `registrar`): evidence signed by the
//! key being certified, under the Constrained Device Standard Profile (RFC 9711 section 6.3),
//! reports its claims; other keys, other profiles and broken signatures are refused. The whole
//! enrolment with it runs in iot-tool's `identity_cmd` tests.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use iot_attest::registrar::EatVerifier;
use iot_attest::{Claims, IntendedUse, Nonce, Profile, TokenBuilder, Version, cdsp, psa};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_identity::keystore::P256PublicKey;
use iot_identity::registrar::{
    Appraisal, EvidenceContext, EvidenceVerifier, INTENDED_USE_CERTIFICATE_ISSUANCE,
};
use iot_identity::ueid::Ueid;

const CHALLENGE: [u8; 32] = [0x3c; 32];

fn key(seed: u8) -> P256SigningKey {
    P256SigningKey::from_bytes(&[seed; 32]).unwrap()
}

fn public(key: &P256SigningKey) -> P256PublicKey {
    P256PublicKey::from_sec1(&key.verifying_key().to_sec1_uncompressed()).unwrap()
}

fn ueid() -> Ueid {
    Ueid::from_bytes(&[[0x01].as_slice(), &[0xa5; 16]].concat()).unwrap()
}

/// Evidence as a device makes it at enrolment, changed by `change`, signed by `signer`.
fn evidence(signer: &mut P256SigningKey, change: impl FnOnce(&mut Claims<'_>)) -> Vec<u8> {
    let ueid = ueid();
    let mut claims = Claims {
        profile: Some(Profile::Uri(cdsp::PROFILE)),
        nonce: Some(Nonce::One(&CHALLENGE)),
        ueid: Some(ueid.as_bytes()),
        intuse: Some(IntendedUse::Csr),
        ..Claims::default()
    };
    change(&mut claims);
    let (mut scratch, mut token) = ([0u8; 512], [0u8; 640]);
    let n = TokenBuilder::new()
        .sign(
            &mut RustCrypto::<()>::default(),
            signer,
            Algorithm::Es256,
            &claims,
            &mut scratch,
            &mut token,
        )
        .unwrap();
    token[..n].to_vec()
}

fn appraise(evidence: &[u8], requested: &P256SigningKey) -> Result<Appraisal, String> {
    let (ueid, public_key) = (ueid(), public(requested));
    EatVerifier.appraise(
        evidence,
        &EvidenceContext {
            ueid: &ueid,
            public_key: &public_key,
            nonce: Some(&CHALLENGE),
            intended_use: INTENDED_USE_CERTIFICATE_ISSUANCE,
        },
    )
}

#[test]
fn evidence_under_the_requested_key_reports_its_claims() {
    let mut device = key(7);
    let token = evidence(&mut device, |c| {
        c.swversion = Some(Version {
            version: "4.2.0",
            scheme: None,
        });
        c.hwmodel = Some(b"sensor-1");
    });
    let ueid = ueid();
    assert_eq!(
        appraise(&token, &device).unwrap(),
        Appraisal {
            result: "verified".into(),
            intended_use: Some(INTENDED_USE_CERTIFICATE_ISSUANCE),
            ueid: Some(ueid.as_bytes().to_vec()),
            nonce: Some(CHALLENGE.to_vec()),
            firmware_version: Some("4.2.0".into()),
            model: Some("sensor-1".into()),
        }
    );
    // The registrar, not the verifier, judges intended use: another one is reported as it is.
    let registration = evidence(&mut device, |c| c.intuse = Some(IntendedUse::Registration));
    assert_eq!(
        appraise(&registration, &device).unwrap().intended_use,
        Some(2)
    );
}

#[test]
fn other_keys_profiles_and_broken_signatures_are_refused() {
    let mut device = key(7);
    let good = evidence(&mut device, |_| {});
    appraise(&good, &device).unwrap();
    // Evidence signed by another key than the one to be certified.
    assert!(appraise(&good, &key(8)).is_err());
    let mut broken = good.clone();
    *broken.last_mut().unwrap() ^= 1;
    assert!(appraise(&broken, &device).is_err());
    // No profile, or a profile this crate does not know: refused.
    let no_profile = evidence(&mut device, |c| c.profile = None);
    assert!(appraise(&no_profile, &device).is_err());
    let unknown = evidence(&mut device, |c| {
        c.profile = Some(Profile::Uri("tag:example.com,2026:unknown"))
    });
    assert!(appraise(&unknown, &device).is_err());
    // A profile other than the Constrained Device Standard Profile: PSA evidence does not enrol.
    let psa_profile = evidence(&mut device, |c| {
        c.profile = Some(Profile::Uri(psa::PROFILE))
    });
    assert!(appraise(&psa_profile, &device).is_err());
}
