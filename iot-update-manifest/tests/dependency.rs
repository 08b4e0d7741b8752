//! libcsuit expD end to end: its dependency manifest, `8d82573a-926d-4754-9353-32dc29997f74.suit`
//! (not among libcsuit's testfiles), is libcsuit expU as a tagged envelope: expD's dependency
//! digest is expU's manifest digest, its size (389) expU's 387 bytes plus the tag. It is built
//! here by our builder from `tests/data/builder/libcsuit-expU.json` (tagged) and signed with the
//! trust anchor's key, served at expD's URI, fetched, authenticated, bound to the digest, and its
//! install runs under the dependency prefix; expD then decrypts config.json (ECDH-ES + A128KW,
//! A128CTR) and validates it. A tampered, foreign or merely different dependency is refused
//! with nothing written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim;

use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_update_manifest::builder::json;
use iot_update_manifest::encryption::Kek;
use iot_update_manifest::{Envelope, Error, Processor, TrustAnchors};
use p256::pkcs8::DecodePrivateKey;
use sim::{Sim, path};
use std::path::Path;

const DIR: &str = "suit/libcsuit";
const DEPENDENCY_URI: &str = "https://example.org/8d82573a-926d-4754-9353-32dc29997f74.suit";
const TA_URI: &str = "https://example.org/8d82573a-926d-4754-9353-32dc29997f74.ta";
/// expD's `parameter-image-digest` and `parameter-image-size` of the dependency.
const DEPENDENCY_DIGEST: &str = "b39b52b0b747ea79588c190f567bfc2c8437ba8a73f7ea983182e79f0148d59b";
const DEPENDENCY_SIZE: usize = 389;
/// The suit-firmware-encryption examples' ES-DH receiver key (kid-2), which opens expD's
/// encryption info too.
const ESDH_D: &str = "60FE6DD6D85D5740A5349B6F91267EEAC5BA81B8CB53EE249E4B4EB102C476B3";
const TEEP_VENDOR: &str = "c0ddd5f15243566087db4f5b0aa26c2f";
const TEEP_CLASS: &str = "db42f7093d8c55baa8c5265fc5820f4e";
const TC: &str = "8d82573a926d4754935332dc29997f74";

fn read(name: &str) -> Option<Vec<u8>> {
    iot_test_vectors::read(&format!("{DIR}/{name}"))
}

/// The P-256 key of a PEM file (libcsuit labels its PKCS#8 body "EC PRIVATE KEY").
fn pem_key(pem: &[u8]) -> P256SigningKey {
    let pem = core::str::from_utf8(pem).unwrap();
    let pem = match pem.find("-----BEGIN EC PRIVATE KEY-----") {
        Some(at) => pem[at..].replace("EC PRIVATE KEY", "PRIVATE KEY"),
        None => pem.to_owned(),
    };
    let sk = p256::SecretKey::from_pkcs8_pem(&pem).unwrap();
    P256SigningKey::from_bytes(&sk.to_bytes()).unwrap()
}

/// expU's description, tagged, with `edit` applied to its JSON text, built and signed by `key`.
fn dependency(key: &mut P256SigningKey, edit: impl Fn(String) -> String) -> Vec<u8> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/builder");
    let text = std::fs::read_to_string(data.join("libcsuit-expU.json")).unwrap();
    let text = edit(text.replace("\"tagged\": false", "\"tagged\": true"));
    let base = iot_test_vectors::path(DIR).unwrap();
    let mut crypto = RustCrypto::from_os();
    let parsed = json::parse(&text, &base, &mut crypto).unwrap();
    let mut unsigned = parsed.description.encode(&mut crypto).unwrap();
    unsigned
        .sign(&mut crypto, key, parsed.algorithm, parsed.kid.as_deref())
        .unwrap();
    unsigned.to_bytes().unwrap()
}

/// A TEEP device that serves the TA and, when given, the dependency at expD's URI.
fn device(dependency: Option<&[u8]>) -> Sim {
    let mut sim = Sim::new();
    sim.vendor_ids = vec![hex::decode(TEEP_VENDOR).unwrap()];
    sim.class_ids = vec![hex::decode(TEEP_CLASS).unwrap()];
    sim.uris.insert(
        TA_URI.into(),
        read("8d82573a-926d-4754-9353-32dc29997f74.ta").unwrap(),
    );
    if let Some(d) = dependency {
        sim.uris.insert(DEPENDENCY_URI.into(), d.to_vec());
    }
    sim
}

/// Runs expD's update on `sim` under the trust anchor `anchor`, decrypting with the ES-DH key.
fn update(sim: &mut Sim, anchor: &P256SigningKey) -> Result<(), Error> {
    let exp_d = read("suit_manifest_expD.suit").unwrap();
    let mut keys = [anchor.verifying_key()];
    let mut anchors = TrustAnchors::signers(&mut keys);
    let mut crypto = RustCrypto::<()>::default();
    let mut scratch = [0u8; 2048];
    let d = hex::decode(ESDH_D).unwrap();
    let mut p = Processor::new(sim, &mut crypto, &mut anchors)
        .with_scratch(&mut scratch)
        .with_decryption_key(Kek::EcdhEsP256(&d));
    let auth = p.authenticate(&exp_d)?;
    p.update(&auth)
}

fn tc() -> Vec<u8> {
    hex::decode(TC).unwrap()
}

#[test]
fn exp_d_processes_the_dependency_built_here() {
    let (Some(pem), Some(exp_u), Some(config)) = (
        read("key/trust_anchor_secp256r1.pem"),
        read("suit_manifest_expU.suit"),
        read("config.json"),
    ) else {
        return;
    };
    let mut anchor = pem_key(&pem);
    let built = dependency(&mut anchor, |t| t);
    // expU, tagged: the size and the manifest digest expD names.
    assert_eq!(built.len(), DEPENDENCY_SIZE);
    assert_eq!(built[..2], [0xd8, 0x6b]);
    assert_eq!(built[2..], exp_u[..]);
    let mut crypto = RustCrypto::<()>::default();
    let mut keys = [anchor.verifying_key()];
    let auth = Envelope::decode(&built)
        .unwrap()
        .authenticate(&mut crypto, &mut TrustAnchors::signers(&mut keys))
        .unwrap();
    assert_eq!(hex::encode(auth.digest().bytes), DEPENDENCY_DIGEST);

    let mut sim = device(Some(&built));
    update(&mut sim, &anchor).unwrap();
    // Fetched once (through fetch_range, checked before it was written) and stored.
    assert_eq!(
        sim.fetched.iter().filter(|u| *u == DEPENDENCY_URI).count(),
        1
    );
    let tc = tc();
    let manifest_at: &[&[u8]] = &[b"TEEP-Device", b"SecureFS", &tc, b"suit"];
    assert_eq!(sim.get(&path(manifest_at)), Some(&built));
    // The dependency's install ran under its prefix: the TA fetched and image-matched.
    let ta_at: &[&[u8]] = &[
        b"TEEP-Device",
        b"SecureFS",
        &tc,
        b"suit",
        b"TEEP-Device",
        b"SecureFS",
        &tc,
        b"ta",
    ];
    assert_eq!(
        sim.get(&path(ta_at)),
        read("8d82573a-926d-4754-9353-32dc29997f74.ta").as_ref()
    );
    // expD's own install decrypted config.json (A128CTR) and its validate matched the digest.
    assert_eq!(
        sim.get(&path(&[b"TEEP-Device", b"SecureFS", b"config.json"])),
        Some(&config)
    );
    let stored: Vec<_> = sim.flash.sequence.values().copied().collect();
    assert_eq!(stored, [3], "expD's sequence number, stored once");
}

/// Every refused dependency leaves the device exactly as it was: nothing fetched is written,
/// no sequence number stored.
#[test]
fn a_bad_dependency_changes_nothing() {
    let Some(pem) = read("key/trust_anchor_secp256r1.pem") else {
        return;
    };
    let mut anchor = pem_key(&pem);
    let built = dependency(&mut anchor, |t| t);
    let mut other = P256SigningKey::from_bytes(&[0x11; 32]).unwrap();
    let cases: Vec<(&str, Vec<u8>, Error)> = vec![
        (
            "a flipped signature bit",
            {
                // The COSE_Sign1's detached payload (nil) is followed by the 64-byte signature.
                let mut b = built.clone();
                let at = built
                    .windows(3)
                    .position(|w| w == [0xf6, 0x58, 0x40])
                    .unwrap();
                b[at + 3 + 10] ^= 1;
                b
            },
            Error::NotAuthenticated(iot_core::Error::BadSignature),
        ),
        (
            "a flipped manifest bit",
            {
                let mut b = built.clone();
                *b.last_mut().unwrap() ^= 1;
                b
            },
            Error::DigestMismatch,
        ),
        (
            "signed by another key",
            dependency(&mut other, |t| t),
            Error::NotAuthenticated(iot_core::Error::BadSignature),
        ),
        (
            "authentic, but not the manifest expD names",
            dependency(&mut anchor, |t| {
                t.replace("\"sequence-number\": 3", "\"sequence-number\": 4")
            }),
            Error::ImageMismatch,
        ),
        ("cut short", built[..200].to_vec(), Error::ImageMismatch),
    ];
    for (what, served, error) in cases {
        let mut sim = device(Some(&served));
        let before = sim.flash.clone();
        assert_eq!(update(&mut sim, &anchor), Err(error), "{what}");
        assert_eq!(sim.flash, before, "{what}: nothing written");
    }
    // Not served at all: the fetch fails, nothing written.
    let mut sim = device(None);
    assert_eq!(
        update(&mut sim, &anchor),
        Err(Error::Platform(
            iot_update_manifest::PlatformError::Unavailable
        ))
    );
    assert!(sim.flash.storage.is_empty() && sim.flash.sequence.is_empty());
}
