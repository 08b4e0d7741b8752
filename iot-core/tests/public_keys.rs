//! `from_coordinates` of the ECDSA verifying keys builds the point from `x` and `y` without SEC1
//! parsing: it must accept exactly the keys that `from_sec1` accepts as `04 || x || y`, and
//! give the same key (SEC 1 section 2.3.4: on the curve, coordinates below the field prime).

// .clippy.toml lets #[test] functions unwrap and index; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use iot_core::crypto::{
    P256SigningKey, P256VerifyingKey, P384SigningKey, P384VerifyingKey, P521SigningKey,
    P521VerifyingKey,
};
use proptest::prelude::*;

/// Both constructors on `x`, `y`: their results, as options.
macro_rules! both {
    ($vk:ty, $x:expr, $y:expr) => {{
        let (x, y): (&[u8], &[u8]) = ($x, $y);
        let sec1 = [&[0x04][..], x, y].concat();
        (
            <$vk>::from_coordinates(x, y).ok(),
            <$vk>::from_sec1(&sec1).ok(),
        )
    }};
}

/// The coordinates of the public key of scalar `d`, if `d` is a valid scalar.
macro_rules! point_of {
    ($sk:ty, $d:expr, $field:expr) => {
        <$sk>::from_bytes($d).ok().map(|k| {
            let p = k.verifying_key().to_sec1_uncompressed();
            (p[1..1 + $field].to_vec(), p[1 + $field..].to_vec())
        })
    };
}

/// Edits of a valid point that are not on the curve or not canonical, plus the point itself.
fn variants(x: &[u8], y: &[u8], edit: usize, bit: u8) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = vec![(x.to_vec(), y.to_vec())];
    let mut y2 = y.to_vec();
    y2[edit % y.len()] ^= 1 << (bit % 8);
    out.push((x.to_vec(), y2));
    let mut x2 = x.to_vec();
    x2[edit % x.len()] ^= 1 << (bit % 8);
    out.push((x2, y.to_vec()));
    // Coordinates of all ones are above every field prime here; zeros are not a point.
    out.push((vec![0xff; x.len()], y.to_vec()));
    out.push((x.to_vec(), vec![0xff; y.len()]));
    out.push((vec![0; x.len()], vec![0; y.len()]));
    // Wrong lengths.
    out.push((x[1..].to_vec(), y.to_vec()));
    out.push((x.to_vec(), [y, &[0][..]].concat()));
    out
}

proptest! {
    #[test]
    fn from_coordinates_accepts_what_from_sec1_accepts(
        d in proptest::collection::vec(any::<u8>(), 66),
        edit in any::<usize>(),
        bit in any::<u8>(),
    ) {
        if let Some((x, y)) = point_of!(P256SigningKey, &d[..32], 32) {
            for (i, (x, y)) in variants(&x, &y, edit, bit).iter().enumerate() {
                let (a, b) = both!(P256VerifyingKey, x, y);
                prop_assert_eq!(a, b);
                prop_assert_eq!(a.is_some(), i == 0, "P-256 variant {}", i);
            }
        }
        if let Some((x, y)) = point_of!(P384SigningKey, &d[..48], 48) {
            for (i, (x, y)) in variants(&x, &y, edit, bit).iter().enumerate() {
                let (a, b) = both!(P384VerifyingKey, x, y);
                prop_assert_eq!(&a, &b);
                prop_assert_eq!(a.is_some(), i == 0, "P-384 variant {}", i);
            }
        }
        // A P-521 scalar is 66 bytes below the order: clear the top bits.
        let mut d521 = d.clone();
        d521[0] &= 1;
        if let Some((x, y)) = point_of!(P521SigningKey, &d521, 66) {
            for (i, (x, y)) in variants(&x, &y, edit, bit).iter().enumerate() {
                let (a, b) = both!(P521VerifyingKey, x, y);
                prop_assert_eq!(&a, &b);
                prop_assert_eq!(a.is_some(), i == 0, "P-521 variant {}", i);
            }
        }
    }

    /// Arbitrary coordinates: both constructors agree (almost all are refused).
    #[test]
    fn arbitrary_coordinates_agree(x in proptest::collection::vec(any::<u8>(), 31..=33),
                                   y in proptest::collection::vec(any::<u8>(), 31..=33)) {
        let (a, b) = both!(P256VerifyingKey, &x, &y);
        prop_assert_eq!(a, b);
    }
}
