//! Evidence of what an update installed: a libcsuit SUIT envelope is authenticated, its digest
//! goes into `manifests` and the measured image into `measurements` (CoSWID), the token is signed,
//! verified, and appraised against reference values taken from the authenticated manifest.
//! Also the appraisal of measurements and submodules: matching, mismatching, missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use iot_attest::appraise::{RefMeasurement, ReferenceValues, appraise, attestation_result};
use iot_attest::ear::{Tier, claim};
use iot_attest::measure::{CF_SWID_CBOR, Measurement, NI_SHA256};
use iot_attest::suit::{self, CF_SUIT_ENVELOPE};
use iot_attest::verify::{KeyEntry, KeyMaterial, MemoryKeyStore, Verified, Verifier};
use iot_attest::{
    Claims, ClaimsSet, Error, Nonce, Seq, Submod, Submodule, TokenBuilder, TypedContent, key,
};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, P256VerifyingKey, RustCrypto, Sha256};
use iot_update_manifest::{Envelope, TrustAnchors, digest_alg};

const NONCE: [u8; 16] = [0x4e; 16];
const KID: &[u8] = b"sensor-17";

fn crypto() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

fn device_key() -> P256SigningKey {
    P256SigningKey::from_bytes(&[0x17; 32]).unwrap()
}

/// The libcsuit `expI` envelope (integrated payload `#tc`) and its trust anchor.
fn vectors() -> Option<(Vec<u8>, P256VerifyingKey)> {
    let envelope = iot_test_vectors::read("suit/libcsuit/suit_manifest_expI.suit")?;
    let spki = iot_test_vectors::read("suit/libcsuit/key/trust_anchor_secp256r1_pub.der")?;
    let anchor = P256VerifyingKey::from_sec1(&spki[spki.len() - 65..]).unwrap();
    Some((envelope, anchor))
}

fn sign(claims: &Claims<'_>) -> Vec<u8> {
    let (mut scratch, mut out) = ([0u8; 2048], [0u8; 2400]);
    let n = TokenBuilder::new()
        .kid(KID)
        .sign(
            &mut crypto(),
            &mut device_key(),
            Algorithm::Es256,
            claims,
            &mut scratch,
            &mut out,
        )
        .unwrap();
    out[..n].to_vec()
}

fn store() -> MemoryKeyStore {
    let mut s = MemoryKeyStore::new();
    s.insert(KeyEntry {
        name: "sensor-17".into(),
        kid: Some(KID.to_vec()),
        ueid: None,
        key: KeyMaterial::P256(device_key().verifying_key()),
    })
    .unwrap();
    s
}

fn verify<'t>(store: &MemoryKeyStore, token: &'t [u8]) -> Verified<'t> {
    Verifier::new(store)
        .verify(&mut crypto(), token, Some(&NONCE))
        .unwrap()
}

fn evidence<'a>(
    manifests: Option<&'a [TypedContent<'a>]>,
    measurements: Option<&'a [TypedContent<'a>]>,
) -> Claims<'a> {
    Claims {
        nonce: Some(Nonce::One(&NONCE)),
        manifests: manifests.map(Seq::Items),
        measurements: measurements.map(Seq::Items),
        ..Claims::default()
    }
}

#[test]
fn an_installed_suit_update_is_affirmed_against_its_manifest() {
    let Some((envelope, anchor)) = vectors() else {
        return;
    };
    let mut c = crypto();

    // Device: authenticate the envelope (as the installer did), measure the installed image.
    let decoded = Envelope::decode(&envelope).unwrap();
    let mut anchors = [anchor];
    let installed = decoded
        .authenticate(&mut c, &mut TrustAnchors::signers(&mut anchors))
        .unwrap();
    let image = installed.integrated_payload("#tc").unwrap();
    let required = suit::image_digest(installed.manifest(), 0).unwrap();
    assert_eq!(required.algorithm, digest_alg::SHA256);
    assert!(required.matches(&mut c, image).unwrap());
    assert_eq!(suit::image_digest(installed.manifest(), 1), None);

    let mut buf = [0u8; 160];
    let (measured, rest) =
        suit::measure_image(&mut c, "ta", Some("1.0.0"), "sensor-17", image, &mut buf).unwrap();
    assert_eq!(measured.content_format, CF_SWID_CBOR);
    assert!(!rest.is_empty());
    let manifests = [suit::manifest_entry(&envelope)];
    let measurements = [measured];
    let token = sign(&evidence(Some(&manifests), Some(&measurements)));

    // Verifier: the entries read back, and the reference values come from the same manifest.
    let store = store();
    let ok = verify(&store, &token);
    let back = ok.claims.measurements.unwrap().iter().next().unwrap();
    let m = Measurement::from_entry(&back).unwrap().unwrap();
    assert_eq!(
        (m.name, m.version, m.entity),
        ("ta", Some("1.0.0"), "sensor-17")
    );
    assert_eq!((m.hash_alg, m.digest), (NI_SHA256, &c.sha256(image)[..]));
    let stated = ok.claims.manifests.unwrap().iter().next().unwrap();
    assert_eq!(stated.content_format, CF_SUIT_ENVELOPE);
    assert_eq!(
        suit::manifest_digest(&stated).unwrap().unwrap(),
        installed.digest()
    );

    let reference = ReferenceValues {
        measurements: vec![RefMeasurement {
            name: "ta".into(),
            digest: required.bytes.to_vec(),
            version: Some("1.0.0".into()),
        }],
        manifests: vec![installed.digest().bytes.to_vec()],
        ..ReferenceValues::default()
    };
    let a = appraise(&ok, &reference);
    assert_eq!(a.trust_vector.executables, claim::APPROVED_RUNTIME);
    assert_eq!(a.status, Tier::Affirming);

    // A manifest the verifier does not approve (another libcsuit example's) is contraindicated.
    let Some(other) = iot_test_vectors::read("suit/libcsuit/suit_manifest_exp0.suit") else {
        return;
    };
    let other_digest = Envelope::decode(&other).unwrap().digest().bytes.to_vec();
    assert_ne!(other_digest, reference.manifests[0]);
    let only_other = ReferenceValues {
        manifests: vec![other_digest],
        ..reference.clone()
    };
    let a = appraise(&ok, &only_other);
    assert_eq!(a.trust_vector.executables, claim::CONTRAINDICATED_RUNTIME);
    assert_eq!(a.status, Tier::Contraindicated);
}

#[test]
fn an_image_other_than_the_manifest_requires_is_contraindicated() {
    let Some((envelope, anchor)) = vectors() else {
        return;
    };
    let mut c = crypto();
    let mut anchors = [anchor];
    let installed = Envelope::decode(&envelope)
        .unwrap()
        .authenticate(&mut c, &mut TrustAnchors::signers(&mut anchors))
        .unwrap();
    let mut image = installed.integrated_payload("#tc").unwrap().to_vec();
    image[0] ^= 1;
    let required = suit::image_digest(installed.manifest(), 0).unwrap();
    assert!(!required.matches(&mut c, &image).unwrap());

    let mut buf = [0u8; 160];
    let (measured, _) = suit::measure_image(&mut c, "ta", None, "dev", &image, &mut buf).unwrap();
    let measurements = [measured];
    let token = sign(&evidence(None, Some(&measurements)));
    let store = store();
    let ok = verify(&store, &token);
    let reference = ReferenceValues {
        measurements: vec![RefMeasurement {
            name: "ta".into(),
            digest: required.bytes.to_vec(),
            version: None,
        }],
        ..ReferenceValues::default()
    };
    let a = appraise(&ok, &reference);
    assert_eq!(a.trust_vector.executables, claim::CONTRAINDICATED_RUNTIME);
    // The reference names SUIT manifests, but the evidence carries none: a warning on top.
    let with_manifest = ReferenceValues {
        manifests: vec![installed.digest().bytes.to_vec()],
        ..reference
    };
    let a = appraise(&ok, &with_manifest);
    assert_eq!(a.trust_vector.executables, claim::CONTRAINDICATED_RUNTIME);
}

fn measured<'b>(
    name: &str,
    version: Option<&str>,
    digest: &[u8],
    buf: &'b mut [u8],
) -> TypedContent<'b> {
    Measurement {
        name,
        version,
        entity: "dev",
        hash_alg: NI_SHA256,
        digest,
    }
    .write_entry(buf)
    .unwrap()
    .0
}

fn refs() -> Vec<RefMeasurement> {
    vec![
        RefMeasurement {
            name: "bl".into(),
            digest: vec![0xb1; 32],
            version: None,
        },
        RefMeasurement {
            name: "app".into(),
            digest: vec![0xa1; 32],
            version: Some("2.0".into()),
        },
    ]
}

fn executables(measurements: Option<&[TypedContent<'_>]>, refs: Vec<RefMeasurement>) -> i8 {
    let token = sign(&evidence(None, measurements));
    let store = store();
    let ok = verify(&store, &token);
    let reference = ReferenceValues {
        measurements: refs,
        ..ReferenceValues::default()
    };
    let a = appraise(&ok, &reference);
    assert_eq!(a.status, a.trust_vector.status());
    a.trust_vector.executables
}

#[test]
fn measurements_match_mismatch_and_go_missing() {
    let (mut b1, mut b2, mut b3) = ([0u8; 96], [0u8; 96], [0u8; 96]);
    let bl = measured("bl", Some("1.0"), &[0xb1; 32], &mut b1);
    let app = measured("app", Some("2.0"), &[0xa1; 32], &mut b2);
    // Every referenced component measured as approved.
    assert_eq!(
        executables(Some(&[bl, app]), refs()),
        claim::APPROVED_RUNTIME
    );
    // An altered app build, a wrong version, an unknown component: contraindicated.
    let altered = measured("app", Some("2.0"), &[0xa2; 32], &mut b3);
    assert_eq!(
        executables(Some(&[bl, altered]), refs()),
        claim::CONTRAINDICATED_RUNTIME
    );
    let mut b4 = [0u8; 96];
    let old = measured("app", Some("1.9"), &[0xa1; 32], &mut b4);
    assert_eq!(
        executables(Some(&[bl, old]), refs()),
        claim::CONTRAINDICATED_RUNTIME
    );
    let mut b5 = [0u8; 96];
    let extra = measured("debug-shell", None, &[0xee; 32], &mut b5);
    assert_eq!(
        executables(Some(&[bl, app, extra]), refs()),
        claim::CONTRAINDICATED_RUNTIME
    );
    // A referenced component not measured, or no measurements at all: a warning.
    assert_eq!(
        executables(Some(&[bl]), refs()),
        claim::UNRECOGNIZED_RUNTIME
    );
    assert_eq!(executables(None, refs()), claim::UNRECOGNIZED_RUNTIME);
    // A measurement in a format this verifier does not read: a warning, not an approval.
    let other = TypedContent {
        content_format: 60,
        content: &[0xa0],
    };
    assert_eq!(
        executables(Some(&[bl, app, other]), refs()),
        claim::UNRECOGNIZED_RUNTIME
    );
    // No reference measurements: no claim.
    assert_eq!(executables(Some(&[bl, app]), vec![]), claim::NO_CLAIM);
}

#[test]
fn submodules_are_appraised_each_under_its_name() {
    let (mut b1, mut b2, mut b3) = ([0u8; 96], [0u8; 96], [0u8; 96]);
    let good = [measured("ta", None, &[0x7a; 32], &mut b1)];
    let bad = [measured("ta", None, &[0x7b; 32], &mut b2)];
    let main = [measured("bl", None, &[0xb1; 32], &mut b3)];
    let tee_refs = ReferenceValues {
        measurements: vec![RefMeasurement {
            name: "ta".into(),
            digest: vec![0x7a; 32],
            version: None,
        }],
        ..ReferenceValues::default()
    };
    let reference = ReferenceValues {
        measurements: vec![refs().remove(0)],
        submods: vec![("tee".into(), tee_refs)],
        ..ReferenceValues::default()
    };
    let statuses = |tee: Option<&[TypedContent<'_>]>| {
        let sub = tee.map(|m| Claims {
            measurements: Some(Seq::Items(m)),
            ..Claims::default()
        });
        let mods = sub.as_ref().map(|c| {
            [Submod {
                name: "tee",
                module: Submodule::Claims(ClaimsSet::Claims(c)),
            }]
        });
        let claims = Claims {
            submods: mods.as_ref().map(|m| Seq::Items(&m[..])),
            ..evidence(None, Some(&main))
        };
        let token = sign(&claims);
        let store = store();
        let ok = verify(&store, &token);
        let ear = attestation_result(&ok, &token, &reference, Some(&NONCE), 1_750_000_000);
        let names: Vec<_> = ear.submods.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["EAT", "tee"]);
        let json = ear.to_json();
        assert_eq!(
            json["submods"]["tee"]["ear.status"],
            ear.submods[1].1.status.name()
        );
        (
            ear.submods[0].1.status,
            ear.submods[1].1.trust_vector.executables,
            ear.status(),
        )
    };
    assert_eq!(
        statuses(Some(&good)),
        (Tier::Affirming, claim::APPROVED_RUNTIME, Tier::Affirming)
    );
    assert_eq!(
        statuses(Some(&bad)),
        (
            Tier::Affirming,
            claim::CONTRAINDICATED_RUNTIME,
            Tier::Contraindicated
        )
    );
    assert_eq!(
        statuses(None),
        (Tier::Affirming, claim::UNRECOGNIZED_RUNTIME, Tier::Warning)
    );
}

#[test]
fn coswid_measurements_round_trip_and_foreign_tags_read() {
    let mut buf = [0u8; 128];
    let m = Measurement {
        name: "fw",
        version: Some("3.1"),
        entity: "acme",
        hash_alg: NI_SHA256,
        digest: &[0x42; 32],
    };
    let n = m.encode_to(&mut buf).unwrap();
    assert_eq!(Measurement::decode(&buf[..n]).unwrap(), m);
    // Deterministic encoding: keys 0, 1, 2, 3, 12, 13 in order.
    assert_eq!(&buf[..4], &[0xa6, 0x00, 0x62, b'f']);
    // Too small a buffer is a typed error.
    assert_eq!(
        m.encode_to(&mut buf[..20]).unwrap_err(),
        Error::Core(iot_core::Error::BufferTooSmall)
    );
    // A tag written by someone else: keys in another order, an entity array, a text key, the
    // hash in `payload` with the file in an array.
    let foreign = [
        0xa6, // map(6)
        0x06, 0xa1, 0x11, 0x81, 0xa2, 0x18, 0x18, 0x62, b'f', b'w', 0x07, 0x82, 0x01, 0x42, 0xaa,
        0xbb, // payload {file: [{fs-name: "fw", hash: [1, h'aabb']}]}
        0x01, 0x62, b'f', b'w', // software-name
        0x02, 0x81, 0xa2, 0x18, 0x1f, 0x61, b'x', 0x18, 0x21, 0x01, // entity [{..}]
        0x63, b'e', b'x', b't', 0xf5, // "ext": true
        0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // tag-id as 16 bytes
        0x0c, 0x00, // tag-version
    ];
    let f = Measurement::decode(&foreign).unwrap();
    assert_eq!(
        (f.name, f.entity, f.hash_alg, f.digest),
        ("fw", "x", 1, &[0xaa, 0xbb][..])
    );
    // No hash, no name, trailing bytes, truncation: errors, never a panic.
    assert!(Measurement::decode(&[0xa1, 0x01, 0x62, b'f', b'w']).is_err());
    assert!(Measurement::decode(&[0xa0]).is_err());
    let mut long = buf[..n].to_vec();
    long.push(0);
    assert!(Measurement::decode(&long).is_err());
    for i in 0..n {
        assert!(Measurement::decode(&buf[..i]).is_err());
    }
    // Entries of other content formats are not read as CoSWID.
    let other = TypedContent {
        content_format: 60,
        content: &buf[..n],
    };
    assert!(Measurement::from_entry(&other).is_none());
    // A manifests entry that is not a SUIT envelope is an error under the manifests key.
    let not_suit = suit::manifest_entry(&buf[..n]);
    assert_eq!(
        suit::manifest_digest(&not_suit).unwrap().unwrap_err(),
        Error::InvalidClaim {
            key: key::MANIFESTS,
            offset: 0
        }
    );
}

#[test]
fn reference_measurements_manifests_and_submods_from_json() {
    let r = ReferenceValues::from_json(
        r#"{"measurements": [{"name": "app", "digest": "a1a1", "version": "2.0"}],
            "manifests": ["00ff"],
            "submods": {"tee": {"measurements": [{"name": "ta", "digest": "7a"}]}}}"#,
    )
    .unwrap();
    assert_eq!(
        r.measurements,
        [RefMeasurement {
            name: "app".into(),
            digest: vec![0xa1, 0xa1],
            version: Some("2.0".into())
        }]
    );
    assert_eq!(r.manifests, [vec![0x00, 0xff]]);
    assert_eq!(r.submods[0].0, "tee");
    assert_eq!(r.submods[0].1.measurements[0].name, "ta");
    for bad in [
        r#"{"measurements": [{"name": "app"}]}"#,
        r#"{"measurements": [{"name": "app", "digest": "zz"}]}"#,
        r#"{"measurements": [{"name": "a", "digest": "00", "hash": 1}]}"#,
        r#"{"manifests": "00"}"#,
        r#"{"submods": {"tee": {"measurement": []}}}"#,
        r#"{"submods": []}"#,
    ] {
        assert!(ReferenceValues::from_json(bad).is_err(), "{bad}");
    }
}
