//! UEIDs and SUEIDs (RFC 9711 sections 4.2.1 and 4.2.2).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use iot_core::crypto::{Rng, RustCrypto};
use iot_identity::ueid::{
    MAX_UEID_LEN, RandLen, SueidEpoch, Ueid, UeidError, UeidType, check_eui, derive_sueid,
};

fn backend() -> RustCrypto<getrandom::SysRng> {
    RustCrypto::from_os()
}

const SECRET: [u8; 32] = {
    let mut s = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        s[i] = i as u8;
        i += 1;
    }
    s
};

#[test]
fn random_ueids_have_the_rfc_lengths_and_differ() {
    let mut c = backend();
    for (len, total) in [
        (RandLen::Bits128, 17),
        (RandLen::Bits192, 25),
        (RandLen::Bits256, 33),
    ] {
        let a = Ueid::random(&mut c, len).unwrap();
        let b = Ueid::random(&mut c, len).unwrap();
        assert_eq!(a.as_bytes().len(), total);
        assert_eq!(a.as_bytes()[0], 0x01);
        assert_eq!(a.ueid_type(), Some(UeidType::Rand));
        assert_ne!(a, b, "two random UEIDs collided");
        assert_eq!(Ueid::from_bytes(a.as_bytes()).unwrap(), a);
    }
}

struct FailingRng;
impl Rng for FailingRng {
    fn fill_random(&mut self, _: &mut [u8]) -> iot_core::Result<()> {
        Err(iot_core::Error::Rng)
    }
}

#[test]
fn a_failing_rng_is_reported() {
    assert_eq!(
        Ueid::random(&mut FailingRng, RandLen::Bits128),
        Err(UeidError::Core(iot_core::Error::Rng))
    );
}

#[test]
fn derived_ueid_matches_an_independent_hkdf() {
    // Expected values computed with Python's hmac/hashlib (RFC 5869 written out by hand).
    let mut c = backend();
    let u = Ueid::derive(&mut c, &SECRET, RandLen::Bits128).unwrap();
    assert_eq!(
        hex::encode(u.as_bytes()),
        "01085ecd9a6506d7299e5360279f21e600"
    );
    let u = Ueid::derive(&mut c, &SECRET, RandLen::Bits256).unwrap();
    assert_eq!(
        hex::encode(u.body()),
        "085ecd9a6506d7299e5360279f21e6006b1c27c8d740e64510a3dae4cddc4579"
    );
    let mut other = SECRET;
    other[0] ^= 1;
    assert_ne!(Ueid::derive(&mut c, &other, RandLen::Bits256).unwrap(), u);
    assert_eq!(
        Ueid::derive(&mut c, &SECRET[..15], RandLen::Bits128),
        Err(UeidError::WeakSecret)
    );
}

#[test]
fn eui_validation() {
    let ok48 = [0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6];
    let u = Ueid::eui48(ok48).unwrap();
    assert_eq!(u.as_bytes(), [&[0x02][..], &ok48[..]].concat());
    assert_eq!(u.as_bytes().len(), 7);
    let ok64 = [0xac, 0xde, 0x48, 0x00, 0x00, 0x80, 0x00, 0x01];
    assert_eq!(Ueid::eui64(ok64).unwrap().as_bytes().len(), 9);
    // An extended local identifier under a CID (low nibble 1010) is globally unique.
    Ueid::eui64([0x0a, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]).unwrap();

    assert_eq!(
        Ueid::eui64([0x01, 0, 0, 0, 0, 0, 0, 1]),
        Err(UeidError::EuiGroup)
    );
    assert_eq!(Ueid::eui48([0x02, 0, 0, 0, 0, 1]), Err(UeidError::EuiLocal));
    assert_eq!(Ueid::eui48([0; 6]), Err(UeidError::EuiReserved));
    assert_eq!(Ueid::eui64([0xff; 8]), Err(UeidError::EuiReserved));
    assert_eq!(
        Ueid::eui64([0x00, 0x1b, 0x63, 0xff, 0xfe, 0x45, 0xe6, 0x01]),
        Err(UeidError::EuiReserved)
    );
    assert_eq!(
        Ueid::eui64([0x00, 0x1b, 0x63, 0xff, 0xff, 0x45, 0xe6, 0x01]),
        Err(UeidError::EuiReserved)
    );
    assert_eq!(check_eui(&[0; 7]), Err(UeidError::EuiLength(7)));
}

#[test]
fn imei_digits_and_check_digit() {
    // 49-015420-323751-8: a commonly cited IMEI whose last digit is its Luhn check digit.
    let u = Ueid::imei("490154203237518").unwrap();
    assert_eq!(u.as_bytes()[0], 0x03);
    assert_eq!(u.body(), [4, 9, 0, 1, 5, 4, 2, 0, 3, 2, 3, 7, 5, 1]);
    assert_eq!(u.as_bytes().len(), 15);
    assert_eq!(Ueid::imei("49015420323751").unwrap(), u);
    assert_eq!(
        Ueid::imei("490154203237519"),
        Err(UeidError::ImeiCheckDigit)
    );
    assert_eq!(Ueid::imei("4901542032375"), Err(UeidError::ImeiLength(13)));
    assert_eq!(
        Ueid::imei("4901542032375181"),
        Err(UeidError::ImeiLength(16))
    );
    assert_eq!(Ueid::imei("49015420323751x"), Err(UeidError::ImeiDigit));
    assert_eq!(Ueid::imei("４9015420323751"), Err(UeidError::ImeiDigit));
}

#[test]
fn from_bytes_rejects_what_the_rfc_does_not_allow() {
    assert_eq!(Ueid::from_bytes(&[]), Err(UeidError::Length(0)));
    assert_eq!(Ueid::from_bytes(&[1; 6]), Err(UeidError::Length(6)));
    assert_eq!(
        Ueid::from_bytes(&[1; MAX_UEID_LEN + 1]),
        Err(UeidError::Length(34))
    );
    assert_eq!(
        Ueid::from_bytes(&[0x07; 17]),
        Err(UeidError::UnknownType(7))
    );
    assert_eq!(
        Ueid::from_bytes(&[0x01; 20]),
        Err(UeidError::RandLength(19))
    );
    let mut imei = [0u8; 15];
    imei[0] = 3;
    Ueid::from_bytes(&imei).unwrap();
    imei[5] = 10;
    assert_eq!(Ueid::from_bytes(&imei), Err(UeidError::ImeiDigit));
    assert_eq!(
        Ueid::from_bytes(&[2, 1, 0, 0, 0, 0, 1]),
        Err(UeidError::EuiGroup)
    );
}

#[test]
fn hex_text() {
    let u = Ueid::eui48([0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6]).unwrap();
    assert_eq!(u.to_hex().as_str(), "02001B638445E6");
    let mut c = backend();
    let r = Ueid::random(&mut c, RandLen::Bits256).unwrap();
    assert_eq!(r.to_hex().as_str().len(), 66);
    assert_eq!(
        r.to_hex().as_str(),
        hex::encode_upper(r.as_bytes()).as_str()
    );
}

#[test]
fn sueids_rotate_with_the_epoch_and_are_stable_within_one() {
    let mut c = backend();
    let e0 = SueidEpoch::default();
    let a = derive_sueid(&mut c, &SECRET, e0, "owner", RandLen::Bits128).unwrap();
    // Independent HKDF in Python: salt "iot-identity SUEID v1", info = epoch (4 bytes BE) || label.
    assert_eq!(hex::encode(a.body()), "356d544e50c3b21fff2c7a5c417da9e4");
    assert_eq!(
        derive_sueid(&mut c, &SECRET, e0, "owner", RandLen::Bits128).unwrap(),
        a
    );
    let e1 = e0.next().unwrap();
    let b = derive_sueid(&mut c, &SECRET, e1, "owner", RandLen::Bits128).unwrap();
    assert_eq!(hex::encode(b.body()), "66a92ed737c7f48ff10d74dcf147ca07");
    assert_ne!(a, b);
    let other = derive_sueid(&mut c, &SECRET, e1, "network", RandLen::Bits128).unwrap();
    assert_ne!(other, b);
    assert_eq!(b.ueid_type(), Some(UeidType::Rand));
    assert_eq!(SueidEpoch(u32::MAX).next(), Err(UeidError::EpochExhausted));
    assert_eq!(
        derive_sueid(&mut c, &SECRET, e0, &"x".repeat(65), RandLen::Bits128),
        Err(UeidError::Core(iot_core::Error::CapacityExceeded))
    );
    assert_eq!(
        derive_sueid(&mut c, &[0; 8], e0, "owner", RandLen::Bits128),
        Err(UeidError::WeakSecret)
    );
}
