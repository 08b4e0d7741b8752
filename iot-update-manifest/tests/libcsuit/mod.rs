//! The keys of the libcsuit vectors (../shared/vectors/suit/libcsuit) and the SUIT
//! firmware-encryption examples, for the tests that authenticate or decrypt them.
#![allow(clippy::unwrap_used, dead_code)]

use iot_core::crypto::P256VerifyingKey;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::pkcs8::DecodePublicKey;

/// The vectors' folder, under ../shared/vectors.
pub const DIR: &str = "suit/libcsuit";

/// The HMAC 256/256 key of libcsuit's COSE_Mac0-authenticated envelopes (expAF, expAFS, expAW).
/// libcsuit's testfiles do not publish it; it is 32 bytes of 'a' (0x61), the pattern of the SUIT
/// firmware-encryption examples' KEK. A 256-bit HMAC tag that verifies under it is no accident,
/// and every other key tried (tests/vectors.rs `mac_envelopes_reject_other_keys`) fails.
pub const MAC_KEY: [u8; 32] = [0x61; 32];

/// The firmware-encryption examples' receiver P-256 private key for ECDH-ES + A128KW (kid-2).
pub const ESDH_D: &str = "60FE6DD6D85D5740A5349B6F91267EEAC5BA81B8CB53EE249E4B4EB102C476B3";

/// A file of the vectors' folder; `None` (the caller skips) when ../shared is absent and
/// IOT_VECTORS is unset.
pub fn read(name: &str) -> Option<Vec<u8>> {
    iot_test_vectors::read(&format!("{DIR}/{name}"))
}

/// libcsuit's trust anchor, key/trust_anchor_secp256r1_pub.pem.
pub fn trust_anchor() -> Option<P256VerifyingKey> {
    let pem = read("key/trust_anchor_secp256r1_pub.pem")?;
    let pk = p256::PublicKey::from_public_key_pem(core::str::from_utf8(&pem).unwrap()).unwrap();
    Some(P256VerifyingKey::from_sec1(pk.to_sec1_point(false).as_bytes()).unwrap())
}
