//! Properties: generated manifests read back as written; flipping any bit of a manifest, of the
//! authenticated digest or of a signature / MAC tag is rejected with its typed error; single-bit
//! flips anywhere in the vector envelopes are rejected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use core::ops::Range;
use iot_core::cose::SymmetricKey;
use iot_core::crypto::P256VerifyingKey;
use iot_update_manifest::{
    Argument, AuthenticatedManifest, Command, Envelope, Error, Parameter, Severable, TrustAnchors,
};
use minicbor::Decoder;
use minicbor::data::Type;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::DecodePublicKey;
use proptest::prelude::*;

/// Where the authenticated parts of an envelope lie.
#[derive(Debug, Default)]
struct Regions {
    /// The manifest bstr's content.
    manifest: Range<usize>,
    /// The digest bytes inside the SUIT_Digest.
    digest: Range<usize>,
    /// Each authentication block's signature or tag, and whether it is a MAC.
    tags: Vec<(Range<usize>, bool)>,
    /// Integrated payloads (name and value): not covered by authentication.
    integrated: Vec<Range<usize>>,
}

fn regions(env: &[u8]) -> Regions {
    let mut r = Regions::default();
    let mut d = Decoder::new(env);
    if d.datatype().unwrap() == Type::Tag {
        d.tag().unwrap();
    }
    let n = d.map().unwrap().unwrap();
    for _ in 0..n {
        if d.datatype().unwrap() == Type::String {
            let start = d.position();
            d.str().unwrap();
            d.bytes().unwrap();
            r.integrated.push(start..d.position());
            continue;
        }
        match d.i64().unwrap() {
            2 => {
                let w = d.bytes().unwrap();
                let base = d.position() - w.len();
                let mut inner = Decoder::new(w);
                let blocks = inner.array().unwrap().unwrap() - 1;
                let digest = inner.bytes().unwrap();
                let dbase = base + inner.position() - digest.len();
                let mut dd = Decoder::new(digest);
                dd.array().unwrap();
                dd.i64().unwrap();
                let bytes = dd.bytes().unwrap();
                let start = dbase + dd.position() - bytes.len();
                r.digest = start..start + bytes.len();
                for _ in 0..blocks {
                    let b = inner.bytes().unwrap();
                    let end = base + inner.position();
                    let mac = b[0] == 0xd1;
                    let len = if mac { 32 } else { 64 };
                    r.tags.push((end - len..end, mac));
                }
            }
            3 => {
                let m = d.bytes().unwrap();
                r.manifest = d.position() - m.len()..d.position();
            }
            _ => {
                d.skip().unwrap();
            }
        }
    }
    r
}

/// The error a flip of `region`'s bits must produce.
fn expected(region: &str, mac: bool) -> Error {
    match region {
        "manifest" => Error::DigestMismatch,
        _ if mac => Error::NotAuthenticated(iot_core::Error::BadTag),
        _ => Error::NotAuthenticated(iot_core::Error::BadSignature),
    }
}

struct Keys {
    verifiers: Vec<P256VerifyingKey>,
    macs: [SymmetricKey<'static>; 2],
}

/// The libcsuit trust anchor, if the vectors are present.
fn libcsuit_anchor() -> Option<P256VerifyingKey> {
    let pem = iot_test_vectors::read("suit/libcsuit/key/trust_anchor_secp256r1_pub.pem")?;
    let pk = p256::PublicKey::from_public_key_pem(core::str::from_utf8(&pem).unwrap()).unwrap();
    Some(P256VerifyingKey::from_sec1(pk.to_sec1_point(false).as_bytes()).unwrap())
}

/// The test support's keys and the libcsuit MAC key, with `verifiers` as the signature keys
/// (one key per test keeps the ECDSA work of the exhaustive flips down).
fn keys_with(verifiers: Vec<P256VerifyingKey>) -> Keys {
    Keys {
        verifiers,
        macs: [SymmetricKey::new(&[0x61; 32]), SymmetricKey::new(&MAC_KEY)],
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn authenticate<'a>(env: &'a [u8], keys: &mut Keys) -> Result<AuthenticatedManifest<'a>, Error> {
    Envelope::decode(env)?.authenticate(
        &mut crypto(),
        &mut TrustAnchors::new(&mut keys.verifiers, &keys.macs),
    )
}

/// Flips every bit of the manifest, the digest and every tag of `env`; each flip must fail with
/// its typed error. Returns the number of flips.
fn flip_authenticated_regions(name: &str, env: &[u8], keys: &mut Keys) -> usize {
    let r = regions(env);
    assert!(
        authenticate(env, keys).is_ok(),
        "{name} must authenticate untouched"
    );
    let mac = r.tags.iter().all(|(_, m)| *m);
    let mut all: Vec<(&str, Range<usize>)> = vec![
        ("manifest", r.manifest.clone()),
        ("digest", r.digest.clone()),
    ];
    all.extend(r.tags.iter().map(|(t, _)| ("tag", t.clone())));
    let mut flips = 0;
    let mut copy = env.to_vec();
    for (region, range) in all {
        for i in range {
            for bit in 0..8 {
                copy[i] ^= 1 << bit;
                let got = authenticate(&copy, keys).map(|_| ()).unwrap_err();
                assert_eq!(
                    got,
                    expected(region, mac),
                    "{name}: {region} byte {i} bit {bit}"
                );
                copy[i] ^= 1 << bit;
                flips += 1;
            }
        }
    }
    flips
}

#[test]
fn every_bit_of_manifest_digest_and_tag_is_authenticated() {
    let mut keys = keys_with(vec![signing_key().verifying_key()]);
    let mut total = 0;
    // Generated: one signed and one MACed envelope (always run).
    for auth in [Auth::Sign1, Auth::Mac0] {
        let env = envelope(&minimal(5), auth, &[]);
        total += flip_authenticated_regions("generated", &env, &mut keys);
    }
    // Vectors: example 0 (COSE_Sign1) and the COSE_Mac0 envelopes of libcsuit.
    let Some(anchor) = libcsuit_anchor() else {
        return;
    };
    let mut keys = keys_with(vec![anchor]);
    for f in ["exp0", "expAF", "expAFS", "expAW"] {
        let rel = format!("suit/libcsuit/suit_manifest_{f}.suit");
        let env = iot_test_vectors::read(&rel).unwrap();
        total += flip_authenticated_regions(&rel, &env, &mut keys);
    }
    println!(
        "{total} single-bit flips of manifests, digests and tags, each rejected with its typed error"
    );
}

/// Every single-bit flip anywhere in the MACed vector envelopes fails (they carry no integrated
/// payload, the one part authentication does not cover).
#[test]
fn every_bit_of_the_mac_vectors_matters() {
    let mut keys = keys_with(Vec::new());
    let mut total = 0;
    for f in ["expAF", "expAFS", "expAW"] {
        let rel = format!("suit/libcsuit/suit_manifest_{f}.suit");
        let Some(env) = iot_test_vectors::read(&rel) else {
            return;
        };
        assert!(regions(&env).integrated.is_empty());
        let mut copy = env.clone();
        for i in 0..env.len() {
            for bit in 0..8 {
                copy[i] ^= 1 << bit;
                assert!(
                    authenticate(&copy, &mut keys).is_err(),
                    "{rel}: byte {i} bit {bit} accepted"
                );
                copy[i] ^= 1 << bit;
                total += 1;
            }
        }
    }
    println!("{total} single-bit flips of whole MACed envelopes, all rejected");
}

/// The vector envelopes, when present.
fn vector_envelopes() -> Vec<(String, Vec<u8>)> {
    let Some(files) = iot_test_vectors::files("suit/libcsuit", ".suit") else {
        return Vec::new();
    };
    files
        .into_iter()
        .map(|f| {
            let b = iot_test_vectors::read(&f).unwrap();
            (f, b)
        })
        .collect()
}

proptest! {
    #![proptest_config(config(128))]

    /// A random bit of a random vector envelope, outside integrated payloads: rejected.
    #[test]
    fn random_bit_flips_in_vectors_are_rejected(pick in any::<usize>(), at in any::<usize>(), bit in 0u8..8) {
        let envs = vector_envelopes();
        if envs.is_empty() {
            return Ok(());
        }
        let (name, env) = &envs[pick % envs.len()];
        let r = regions(env);
        let i = at % env.len();
        prop_assume!(!r.integrated.iter().any(|p| p.contains(&i)));
        let mut copy = env.clone();
        copy[i] ^= 1 << bit;
        let mut keys = keys_with(libcsuit_anchor().into_iter().collect());
        let got = authenticate(&copy, &mut keys);
        prop_assert!(got.is_err(), "{name}: byte {i} bit {bit} accepted");
        // Inside an authenticated region the error is the region's.
        let mac = r.tags.iter().all(|(_, m)| *m);
        if r.manifest.contains(&i) {
            prop_assert_eq!(got.map(|_| ()).unwrap_err(), expected("manifest", mac));
        } else if r.digest.contains(&i) || r.tags.iter().any(|(t, _)| t.contains(&i)) {
            prop_assert_eq!(got.map(|_| ()).unwrap_err(), expected("tag", mac));
        }
    }
}

/// What a generated manifest says.
#[derive(Debug, Clone)]
struct Spec {
    seq: u64,
    components: Vec<Vec<Vec<u8>>>,
    vendor: [u8; 16],
    class: [u8; 16],
    image: [u8; 32],
    size: u64,
    uri: String,
    index: u64,
    sever_install: bool,
    mac: bool,
}

fn arb_spec() -> impl Strategy<Value = Spec> {
    (
        any::<u64>(),
        proptest::collection::vec(
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..3),
            1..=iot_update_manifest::MAX_COMPONENTS,
        ),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        "[a-z0-9:/.#-]{1,40}",
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(seq, components, vendor, class, image, size, uri, index, sever_install, mac)| {
                let index = index % components.len() as u64;
                Spec {
                    seq,
                    components,
                    vendor,
                    class,
                    image,
                    size,
                    uri,
                    index,
                    sever_install,
                    mac,
                }
            },
        )
}

/// The envelope for `s`: shared sequence with the identity parameters and conditions, install
/// with set-component-index / override uri / fetch / image-match, validate with image-match.
fn build(s: &Spec) -> (Vec<u8>, Vec<u8>) {
    let digest = cbor(|e| {
        e.array(2)
            .unwrap()
            .i64(-16)
            .unwrap()
            .bytes(&s.image)
            .unwrap();
    });
    let params = cbor(|e| {
        e.map(4).unwrap();
        e.u8(1).unwrap().bytes(&s.vendor).unwrap();
        e.u8(2).unwrap().bytes(&s.class).unwrap();
        e.u8(3).unwrap().bytes(&digest).unwrap();
        e.u8(14).unwrap().u64(s.size).unwrap();
    });
    let shared = sequence(&[(20, params), (1, rp(15)), (2, rp(15))]);
    let comps: Vec<Vec<&[u8]>> = s
        .components
        .iter()
        .map(|c| c.iter().map(Vec::as_slice).collect())
        .collect();
    let comps: Vec<&[&[u8]]> = comps.iter().map(Vec::as_slice).collect();
    let common = common(&comps, Some(&shared));
    let uri = cbor(|e| {
        e.map(1).unwrap().u8(21).unwrap().str(&s.uri).unwrap();
    });
    let install = sequence(&[(12, rp(s.index)), (20, uri), (21, rp(2)), (3, rp(15))]);
    let validate = sequence(&[(3, rp(15))]);
    let install_member = if s.sever_install {
        use iot_core::crypto::Sha256;
        let d = crypto().sha256(&bstr(&install));
        cbor(|e| {
            e.array(2).unwrap().i64(-16).unwrap().bytes(&d).unwrap();
        })
    } else {
        bstr(&install)
    };
    let m = manifest(
        s.seq,
        &common,
        &[(7, bstr(&validate)), (20, install_member)],
    );
    let auth = if s.mac { Auth::Mac0 } else { Auth::Sign1 };
    let extra = if s.sever_install {
        vec![Extra::Int(20, &install)]
    } else {
        vec![]
    };
    (envelope(&m, auth, &extra), m)
}

proptest! {
    #![proptest_config(config(64))]

    /// A generated manifest authenticates and reads back as written.
    #[test]
    fn generated_manifests_read_back(s in arb_spec()) {
        let (env, _) = build(&s);
        let mut keys = keys_with(vec![signing_key().verifying_key()]);
        let am = authenticate(&env, &mut keys).unwrap();
        let m = am.manifest();
        prop_assert_eq!(m.sequence_number(), s.seq);
        let comps = m.common().components();
        prop_assert_eq!(comps.len(), s.components.len());
        for (got, want) in comps.iter().zip(&s.components) {
            let segs: Vec<&[u8]> = got.segments().collect();
            let want: Vec<&[u8]> = want.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(segs, want);
        }
        let shared: Vec<_> = m.common().shared_sequence().unwrap().iter().collect();
        let (Command::OverrideParameters, Argument::Parameters(p)) = shared[0] else {
            panic!("override-parameters first")
        };
        let p: Vec<_> = p.iter().collect();
        prop_assert_eq!(p[0], Parameter::VendorId(&s.vendor));
        prop_assert_eq!(p[1], Parameter::ClassId(&s.class));
        let Parameter::ImageDigest(d) = p[2] else { panic!("image digest") };
        prop_assert_eq!(d.bytes, &s.image[..]);
        prop_assert_eq!(p[3], Parameter::ImageSize(s.size));
        let install = m.install().unwrap();
        prop_assert_eq!(matches!(install, Severable::Restored(_)), s.sever_install);
        let install: Vec<_> = install.get().unwrap().iter().collect();
        prop_assert_eq!(install.len(), 4);
        prop_assert_eq!(install[0], (Command::SetComponentIndex, Argument::Index(iot_update_manifest::IndexArg::One(s.index))));
        let (_, Argument::Parameters(u)) = install[1] else { panic!("uri") };
        prop_assert_eq!(u.iter().next(), Some(Parameter::Uri(&s.uri)));
        prop_assert_eq!(install[2].0, Command::Fetch);
    }

    /// Any bit of a generated envelope's manifest, digest or tag: rejected with its typed error.
    #[test]
    fn generated_tampering_is_rejected(s in arb_spec(), region in 0usize..3, at in any::<usize>(), bit in 0u8..8) {
        let (env, _) = build(&s);
        let r = regions(&env);
        let (name, range) = match region {
            0 => ("manifest", r.manifest.clone()),
            1 => ("digest", r.digest.clone()),
            _ => ("tag", r.tags[0].0.clone()),
        };
        let i = range.start + at % range.len();
        let mut copy = env.clone();
        copy[i] ^= 1 << bit;
        let mut keys = keys_with(vec![signing_key().verifying_key()]);
        let got = authenticate(&copy, &mut keys).map(|_| ()).unwrap_err();
        prop_assert_eq!(got, expected(name, s.mac));
    }
}
