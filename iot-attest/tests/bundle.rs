//! Detached EAT bundles (RFC 9711 section 5): encode, decode, and the digest check of each
//! detached claims-set against the main token's Detached-Submodule-Digest.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use iot_attest::bundle::{BUNDLE_TAG, Bundle, DetachedPart, SHA256_ALG, encode_bundle};
use iot_attest::{
    Claims, DetachedDigest, Error, Label, Nonce, Seq, Submod, Submodule, Token, TokenBuilder,
};
use iot_core::cose::Algorithm;
use iot_core::crypto::{P256SigningKey, RustCrypto, Sha256};

/// An encoded claims-set for a detached submodule.
fn detached_claims(boot: bool) -> Vec<u8> {
    let c = Claims {
        ueid: Some(&[2; 17]),
        oemboot: Some(boot),
        ..Claims::default()
    };
    let mut buf = [0u8; 64];
    let n = c.encode_to(&mut buf).unwrap();
    buf[..n].to_vec()
}

/// A signed main token whose submods name `parts` by digest under `alg`.
fn main_token(parts: &[(&str, &[u8])], alg: Label<'_>) -> (Vec<u8>, P256SigningKey) {
    let mut c = RustCrypto::from_os();
    let digests: Vec<[u8; 32]> = parts.iter().map(|(_, p)| c.sha256(p)).collect();
    let submods: Vec<Submod<'_>> = parts
        .iter()
        .zip(&digests)
        .map(|((name, _), d)| Submod {
            name,
            module: Submodule::Digest(DetachedDigest { alg, digest: d }),
        })
        .collect();
    let claims = Claims {
        nonce: Some(Nonce::One(&[9; 16])),
        ueid: Some(&[1; 17]),
        submods: Some(Seq::Items(&submods)),
        ..Claims::default()
    };
    let mut key = P256SigningKey::from_bytes(&[5; 32]).unwrap();
    let (mut scratch, mut out) = ([0u8; 512], [0u8; 768]);
    let n = TokenBuilder::new()
        .cwt_tag(true)
        .sign(
            &mut c,
            &mut key,
            Algorithm::Es256,
            &claims,
            &mut scratch,
            &mut out,
        )
        .unwrap();
    (out[..n].to_vec(), key)
}

fn bundle(main: &[u8], parts: &[(&str, DetachedPart<'_>)]) -> Vec<u8> {
    let mut buf = [0u8; 2048];
    let n = encode_bundle(main, parts, &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Decodes `bytes`, verifies the main token's signature and checks the detached digests.
fn check(bytes: &[u8], key: &P256SigningKey) -> Result<(), Error> {
    let mut c = RustCrypto::from_os();
    let b = Bundle::decode(bytes)?;
    let t = Token::decode(b.main)?;
    let claims = t.verify(&mut c, &mut key.verifying_key(), &[])?;
    b.verify_digests(&mut c, &claims)
}

#[test]
fn round_trip_and_verify() {
    let (a, b) = (detached_claims(true), detached_claims(false));
    let (main, key) = main_token(&[("radio", &a), ("sensor", &b)], Label::Int(SHA256_ALG));
    let parts = [
        ("radio", DetachedPart::Cbor(&a)),
        ("sensor", DetachedPart::Cbor(&b)),
    ];
    let bytes = bundle(&main, &parts);
    // #6.602 = 0xd9 0x02 0x5a, then an array of two.
    assert_eq!(bytes[..4], [0xd9, 0x02, 0x5a, 0x82]);
    assert_eq!(BUNDLE_TAG, 0x25a);
    let d = Bundle::decode(&bytes).unwrap();
    assert_eq!(d.main, &main[..]);
    let got: Vec<_> = d.parts().collect();
    assert_eq!(got, parts);
    assert_eq!(
        Claims::decode(d.part("sensor").unwrap().digested())
            .unwrap()
            .oemboot,
        Some(false)
    );
    check(&bytes, &key).unwrap();

    // The untagged form decodes too, and the name `sha-256` is accepted for -16.
    let (main, key) = main_token(&[("radio", &a)], Label::Text("sha-256"));
    let bytes = bundle(&main, &[("radio", DetachedPart::Cbor(&a))]);
    check(&bytes[3..], &key).unwrap();
}

#[test]
fn tampered_part_rejected() {
    let a = detached_claims(true);
    let (main, key) = main_token(&[("radio", &a)], Label::Int(SHA256_ALG));
    let forged = detached_claims(false);
    let bytes = bundle(&main, &[("radio", DetachedPart::Cbor(&forged))]);
    assert_eq!(check(&bytes, &key), Err(Error::DetachedDigestMismatch));

    // One flipped byte inside the encoded bundle's part.
    let mut bytes = bundle(&main, &[("radio", DetachedPart::Cbor(&a))]);
    check(&bytes, &key).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1; // oemboot true (0xf5) becomes 0xf4
    assert_eq!(check(&bytes, &key), Err(Error::DetachedDigestMismatch));
}

#[test]
fn missing_and_extra_parts_rejected() {
    let (a, b) = (detached_claims(true), detached_claims(false));
    let (main, key) = main_token(&[("radio", &a), ("sensor", &b)], Label::Int(SHA256_ALG));
    let bytes = bundle(&main, &[("radio", DetachedPart::Cbor(&a))]);
    assert_eq!(check(&bytes, &key), Err(Error::DetachedMissing));
    // A part under another name than the digest's.
    let bytes = bundle(
        &main,
        &[
            ("radio", DetachedPart::Cbor(&a)),
            ("other", DetachedPart::Cbor(&b)),
        ],
    );
    assert_eq!(check(&bytes, &key), Err(Error::DetachedMissing));
    // A part no digest names.
    let bytes = bundle(
        &main,
        &[
            ("radio", DetachedPart::Cbor(&a)),
            ("sensor", DetachedPart::Cbor(&b)),
            ("stray", DetachedPart::Cbor(&b)),
        ],
    );
    assert_eq!(check(&bytes, &key), Err(Error::DetachedUnexpected));
}

#[test]
fn wrong_digest_algorithm_rejected() {
    let a = detached_claims(true);
    for alg in [Label::Int(-43), Label::Text("sha-384"), Label::Int(-44)] {
        let (main, key) = main_token(&[("radio", &a)], alg);
        let bytes = bundle(&main, &[("radio", DetachedPart::Cbor(&a))]);
        assert_eq!(check(&bytes, &key), Err(Error::DigestAlgorithm));
    }
}

#[test]
fn malformed_bundles_are_typed_errors() {
    let a = detached_claims(true);
    let (main, _) = main_token(&[("radio", &a)], Label::Int(SHA256_ALG));
    let good = bundle(&main, &[("radio", DetachedPart::Cbor(&a))]);
    // Every truncation fails without a panic.
    for n in 0..good.len() {
        assert!(Bundle::decode(&good[..n]).is_err(), "prefix {n}");
    }
    // Another tag than 602.
    let mut other = good.clone();
    other[2] = 0x5b;
    assert!(Bundle::decode(&other).is_err());
    // An untagged main token, a part that is no claims-set, a duplicate name, no parts.
    let mut buf = [0u8; 1024];
    let untagged = &main[2..]; // without the CWT tag 61 the COSE tag 18 remains: still tagged
    assert!(encode_bundle(untagged, &[("radio", DetachedPart::Cbor(&a))], &mut buf).is_ok());
    assert!(encode_bundle(&[0x80], &[("radio", DetachedPart::Cbor(&a))], &mut buf).is_err());
    assert!(encode_bundle(&main, &[], &mut buf).is_err());
    assert!(
        encode_bundle(
            &main,
            &[("x", DetachedPart::Cbor(&a)), ("x", DetachedPart::Cbor(&a))],
            &mut buf
        )
        .is_err()
    );
    let n = encode_bundle(&main, &[("radio", DetachedPart::Cbor(&[0x01]))], &mut buf).unwrap();
    assert!(Bundle::decode(&buf[..n]).is_err());
    let n = encode_bundle(
        &main,
        &[("radio", DetachedPart::Json("no spaces!"))],
        &mut buf,
    )
    .unwrap();
    assert!(Bundle::decode(&buf[..n]).is_err());
    let n = encode_bundle(
        &main,
        &[("radio", DetachedPart::Json("eyJhIjoxfQ"))],
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        Bundle::decode(&buf[..n]).unwrap().part("radio"),
        Some(DetachedPart::Json("eyJhIjoxfQ"))
    );
    // A duplicate name written by hand: the map {"x": a, "x": a} after the main token.
    let head = |len: usize| -> Vec<u8> {
        match len {
            0..=23 => vec![0x40 + len as u8],
            24..=255 => vec![0x58, len as u8],
            _ => vec![0x59, (len >> 8) as u8, len as u8],
        }
    };
    let map_len = 1 + 6 + head(a.len()).len() + a.len();
    let mut dup = good[..good.len() - map_len].to_vec();
    dup.push(0xa2);
    for _ in 0..2 {
        dup.extend_from_slice(&[0x61, b'x']);
        dup.extend_from_slice(&head(a.len()));
        dup.extend_from_slice(&a);
    }
    assert!(matches!(
        Bundle::decode(&dup),
        Err(Error::DuplicateClaim { .. })
    ));
    // A buffer too small.
    assert!(encode_bundle(&main, &[("radio", DetachedPart::Cbor(&a))], &mut buf[..10]).is_err());
}

/// The detached EAT bundle of the EAT repository's examples (`eat/tokens/valid_deb.diag`),
/// transcribed: its "TEE" claims-set matches the main token's SHA-256 Detached-Submodule-Digest.
#[test]
fn rfc9711_example_bundle_verifies() {
    let main = hex(concat!(
        "D83DD28443A10126A05866A70A4C3515744961254B41A6CF9C02190100500198F50A4FF6C05861C8",
        "860D13A638EA19010219FAF2190106F5190107031901048263332E310119010AA163544545822F58",
        "20AB86F765643AABFD09C84EEBE150B7F61BC24804CEE75E90C5F99CB850FE808F58408469C5F3AC",
        "750981BABE6525ED750F38B4A9EE6656A7E70815B34D0B1014E7143CEDAF81F8198EF978BCC35581",
        "C675A1D4116FDFBC1D1D1258612B255F4692A4"
    ));
    let tee = hex(concat!(
        "a40a5048df7b172d70b5a18935d0460a73dd71190106f51901070219011081821901025858a60064",
        "336132340c01016b41636d6520544545204f530d65332e312e340282a2181f6b41636d6520544545",
        "204f53182101a2181f6b41636d6520544545204f5318210206a111a118186e61636d655f7465655f",
        "332e657865"
    ));
    let mut bundle = vec![0xd9, 0x02, 0x5a, 0x82, 0x58, main.len() as u8];
    bundle.extend_from_slice(&main);
    bundle.extend_from_slice(&[0xa1, 0x63, b'T', b'E', b'E', 0x58, tee.len() as u8]);
    bundle.extend_from_slice(&tee);

    let decoded = Bundle::decode(&bundle).unwrap();
    assert_eq!(decoded.main, &main[..]);
    assert_eq!(decoded.part("TEE").map(|p| p.digested()), Some(&tee[..]));
    let token = Token::decode(decoded.main).unwrap();
    let claims = token.claims_unverified().unwrap();
    let mut crypto = RustCrypto::from_os();
    decoded.verify_digests(&mut crypto, &claims).unwrap();

    // One flipped bit in the detached claims-set breaks the digest.
    let mut copy = bundle.clone();
    let last = copy.len() - 1;
    copy[last] ^= 1;
    let tampered = Bundle::decode(&copy).unwrap();
    assert!(matches!(
        tampered.verify_digests(&mut crypto, &claims),
        Err(Error::DetachedDigestMismatch)
    ));
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
