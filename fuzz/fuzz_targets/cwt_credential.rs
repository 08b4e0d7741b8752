//! CWT / CCS credentials of iot-identity: decode arbitrary bytes as a bare claims set (CCS) and as
//! a CWT; a decoded claims set re-encodes to bytes that decode to the same claims; a decoded CWT
//! is verified under a fixed issuer key (the seeds are signed with it) at a fixed time.
#![no_main]

use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_identity::credential::{Claims, Cwt};
use iot_identity::keystore::P256PublicKey;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// The issuer key of the seeds (private scalar 0x11 repeated).
static ISSUER: LazyLock<P256PublicKey> = LazyLock::new(|| {
    let key = P256SigningKey::from_bytes(&[0x11; 32]).expect("a valid scalar");
    P256PublicKey::from_sec1(&key.verifying_key().to_sec1_uncompressed()).expect("SEC1")
});
/// 2026-01-01T00:00:00Z, inside the seeds' validity.
const NOW: u64 = 1_767_225_600;

fn round_trip(claims: &Claims<'_>) {
    let mut buf = vec![0u8; 4096];
    let n = claims
        .encode_to(&mut buf)
        .expect("decoded claims re-encode");
    let again = Claims::decode(&buf[..n]).expect("re-encoded claims decode");
    assert_eq!(&again, claims);
    let _ = (
        claims.subject_ueid(),
        claims.cnf_public_key(),
        claims.check_time(NOW),
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = Claims::decode(data) {
        round_trip(&claims);
    }
    if let Ok(cwt) = Cwt::decode(data) {
        round_trip(&cwt.claims);
        if let Ok(cnf) = cwt.verify(&mut RustCrypto::<()>::default(), &ISSUER, NOW) {
            assert_eq!(cnf, cwt.claims.cnf);
        }
    }
});
