//! The RustCrypto backend's P-256 ECDH: the known answer of RFC 5903 section 8.1 (both sides,
//! uncompressed and compressed points, also as a COSE_Key gives them) and refusal of bad scalars
//! and points.

// .clippy.toml lets #[test] functions unwrap and index.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use iot_core::Error;
use iot_core::cose::{CoseKey, Ec2Y, SymmetricKey};
use iot_core::crypto::{EcdhP256, RustCrypto};

fn backend() -> RustCrypto<()> {
    RustCrypto::default()
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// `04 || x || y`.
fn point(x: &str, y: &str) -> Vec<u8> {
    [vec![4], h(x), h(y)].concat()
}

// RFC 5903 section 8.1, 256-bit Random ECP Group: initiator i, g^i; responder r, g^r; g^ir.
const I: &str = "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433";
const GIX: &str = "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180";
const GIY: &str = "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3";
const R: &str = "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53";
const GRX: &str = "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63";
const GRY: &str = "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB";
const GIRX: &str = "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE";

#[test]
fn rfc5903_known_answer() {
    let initiator = backend().p256_ecdh(&h(I), &point(GRX, GRY)).unwrap();
    assert_eq!(initiator.as_bytes().to_vec(), h(GIRX));
    let responder = backend().p256_ecdh(&h(R), &point(GIX, GIY)).unwrap();
    assert_eq!(responder.as_bytes().to_vec(), h(GIRX));

    // The compressed point: 03 as y (GRY ends in 0xAB) is odd.
    let compressed = [vec![3], h(GRX)].concat();
    let shared = backend().p256_ecdh(&h(I), &compressed).unwrap();
    assert_eq!(shared.as_bytes().to_vec(), h(GIRX));
}

#[test]
fn bad_keys_are_refused() {
    let gr = point(GRX, GRY);
    // The scalar zero, the group order n, a short scalar.
    let n = "FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC632551";
    for d in [vec![0u8; 32], h(n), h(I)[..31].to_vec()] {
        assert_eq!(backend().p256_ecdh(&d, &gr).unwrap_err(), Error::InvalidKey);
    }
    // A point off the curve (y changed), the identity, a truncated encoding, an empty one.
    let mut off = gr.clone();
    off[64] ^= 1;
    for p in [off, vec![0], gr[..64].to_vec(), Vec::new()] {
        assert_eq!(
            backend().p256_ecdh(&h(I), &p).unwrap_err(),
            Error::InvalidKey
        );
    }
}

fn ec2<'a>(x: &'a [u8], y: Ec2Y<'a>) -> CoseKey<'a> {
    CoseKey::Ec2 {
        kid: None,
        alg: None,
        x,
        y,
        d: None,
    }
}

/// `CoseKey::sec1_point` gives the point of an EC2 COSE_Key (RFC 9053 section 7.1.1) as the
/// ECDH takes it, uncompressed or compressed; malformed keys are refused.
#[test]
fn cose_key_point() {
    let (x, y) = (h(GRX), h(GRY));
    let mut out = [0u8; 65];
    let p = ec2(&x, Ec2Y::Coordinate(&y)).sec1_point(&mut out).unwrap();
    assert_eq!(p.to_vec(), point(GRX, GRY));
    let shared = backend().p256_ecdh(&h(I), p).unwrap();
    assert_eq!(shared.as_bytes().to_vec(), h(GIRX));

    let p = ec2(&x, Ec2Y::Sign(true)).sec1_point(&mut out).unwrap();
    assert_eq!(p.to_vec(), [vec![3], x.clone()].concat());
    let p = ec2(&x, Ec2Y::Sign(false)).sec1_point(&mut out).unwrap();
    assert_eq!(p.to_vec(), [vec![2], x.clone()].concat());

    for key in [
        ec2(&x[..31], Ec2Y::Coordinate(&y)),
        ec2(&x, Ec2Y::Coordinate(&y[..31])),
        ec2(&x[..31], Ec2Y::Sign(true)),
        CoseKey::Symmetric(SymmetricKey::new(&x)),
    ] {
        assert_eq!(key.sec1_point(&mut out).unwrap_err(), Error::InvalidKey);
    }
}
