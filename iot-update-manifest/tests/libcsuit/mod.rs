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

/// The key that signed `suit/encryption/suit-manifest-es-ecdh-dependency.hex.signed` (its
/// dependent envelope): libcsuit's "delegated authority" (testfiles/suit_manifest_expED.md, the
/// variant with `suit-delegation`), whose COSE_Key x / y are transcribed here.
pub const DELEGATED_X: &str = "0E908AA8F066DB1F084E0C3652C63952BD99F2A5BDB22F9E01367AAD03ABA68B";
pub const DELEGATED_Y: &str = "77DA1BD8AC4F0CB490BA210648BF79AB164D49AD3551D71D314B2749EE42D29A";
/// That variant's delegation CWT: `18([<< {1: -7} >>, {}, << {8: {1: COSE_Key}} >>, sig])`
/// signed by the trust anchor; the signature, transcribed.
pub const DELEGATION_SIG: &str = concat!(
    "FB2D5ACF66B9C8573CE92E13BFB8D113F798715CC10B5A0010B11925C155E724",
    "5A64E131073B87AC50CAC71650A21315B82D06CA2298CD1A95519AAE4C4B5315"
);

/// The delegated authority's public key.
pub fn delegated_key() -> P256VerifyingKey {
    let sec1 = [
        vec![4],
        hex::decode(DELEGATED_X).unwrap(),
        hex::decode(DELEGATED_Y).unwrap(),
    ];
    P256VerifyingKey::from_sec1(&sec1.concat()).unwrap()
}

/// That variant's delegation claims set, `{8: {1: COSE_Key}}` with the delegated key.
pub fn delegation_claims() -> Vec<u8> {
    [
        &[
            0xa1, 0x08, 0xa1, 0x01, 0xa4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20,
        ][..],
        &hex::decode(DELEGATED_X).unwrap(),
        &[0x22, 0x58, 0x20],
        &hex::decode(DELEGATED_Y).unwrap(),
    ]
    .concat()
}

/// That variant's delegation CWT, `18([<< {1: -7} >>, {}, << claims >>, signature])`.
pub fn delegation_cwt() -> Vec<u8> {
    let claims = delegation_claims();
    [
        &[
            0xd2,
            0x84,
            0x43,
            0xa1,
            0x01,
            0x26,
            0xa0,
            0x58,
            claims.len() as u8,
        ][..],
        &claims,
        &[0x58, 0x40],
        &hex::decode(DELEGATION_SIG).unwrap(),
    ]
    .concat()
}

/// `env` (tagged, a map of fewer than 23 members) with `suit-delegation` = `member` first.
/// The member is outside the authentication wrapper: the signatures still hold.
pub fn with_delegation(env: &[u8], member: &[u8]) -> Vec<u8> {
    assert_eq!(env[..2], [0xd8, 0x6b]);
    assert!((0xa0..0xb7).contains(&env[2]));
    let mut head = minicbor::Encoder::new(Vec::new());
    head.bytes(member).unwrap();
    [
        &[0xd8, 0x6b, env[2] + 1, 0x01][..],
        head.writer(),
        &env[3..],
    ]
    .concat()
}

/// `[[delegation_cwt()]]`: one chain of the one CWT.
pub fn delegation_member() -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.array(1).unwrap().array(1).unwrap();
    e.bytes(&delegation_cwt()).unwrap();
    e.into_writer()
}
