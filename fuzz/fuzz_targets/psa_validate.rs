//! PSA attestation token profile validation (RFC 9783): decode arbitrary bytes as a claims-set
//! and validate it; an accepted set must hold what the profile requires (checked here again from
//! the claims, independently of the validator's code path), and its re-encoding must validate too.
#![no_main]

use iot_attest::psa::{self, Lifecycle};
use iot_attest::{Claims, Nonce, Profile};
use libfuzzer_sys::fuzz_target;

fn is_hash(b: &[u8]) -> bool {
    matches!(b.len(), 32 | 48 | 64)
}

fuzz_target!(|data: &[u8]| {
    let Ok(claims) = Claims::decode(data) else {
        return;
    };
    if psa::validate(&claims).is_err() {
        return;
    }
    assert_eq!(claims.profile, Some(Profile::Uri(psa::PROFILE)));
    assert!(!claims.legacy_psa);
    assert!(matches!(claims.nonce, Some(Nonce::One(n)) if is_hash(n)));
    let ueid = claims.ueid.unwrap();
    assert!(ueid.len() == psa::INSTANCE_ID_LEN && ueid[0] == 1);
    assert_eq!(
        claims.psa_implementation_id.map(<[u8]>::len),
        Some(psa::IMPLEMENTATION_ID_LEN)
    );
    let client = claims.psa_client_id.unwrap();
    assert!(client != 0 && i32::try_from(client).is_ok());
    assert!(Lifecycle::from_value(claims.psa_lifecycle.unwrap()).is_some());
    let components = claims.psa_software_components.unwrap();
    assert!(!components.is_empty());
    for c in components.iter() {
        assert!(is_hash(c.measurement_value.unwrap()) && is_hash(c.signer_id.unwrap()));
    }
    if let Some(seed) = claims.bootseed {
        assert!((8..=32).contains(&seed.len()));
    }

    let mut buf = vec![0u8; 4 * data.len() + 256];
    let n = claims.encode_to(&mut buf).expect("valid PSA claims encode");
    let again = Claims::decode(&buf[..n]).expect("encoded PSA claims decode");
    psa::validate(&again).expect("re-encoded PSA claims validate");
});
