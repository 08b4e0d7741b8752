//! The signed CBOR revocation list of iot-identity: decode arbitrary bytes; a decoded list's
//! entries iterate to their count, its payload is re-encoded byte for byte by the builder (the
//! format is deterministic), and its signature is checked under a fixed registrar key (the seeds
//! are signed with it, so the verified path and its look-ups are reached too).
#![no_main]

use iot_core::crypto::{P256SigningKey, RustCrypto};
use iot_identity::keystore::P256PublicKey;
use iot_identity::revocation::{RevocationList, RevocationListBuilder};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// The registrar key of the seeds (private scalar 0x31 repeated, as in tests/revocation.rs).
static REGISTRAR: LazyLock<P256PublicKey> = LazyLock::new(|| {
    let key = P256SigningKey::from_bytes(&[0x31; 32]).expect("a valid scalar");
    P256PublicKey::from_sec1(&key.verifying_key().to_sec1_uncompressed()).expect("SEC1")
});

fuzz_target!(|data: &[u8]| {
    let Ok(list) = RevocationList::decode(data) else {
        return;
    };
    let serials: Vec<&[u8]> = list.serials.iter().collect();
    let ueids: Vec<&[u8]> = list.ueids.iter().collect();
    assert_eq!(serials.len() as u64, list.serials.len());
    assert_eq!(ueids.len() as u64, list.ueids.len());
    let builder = RevocationListBuilder {
        next_update: list.next_update,
        serials: &serials,
        ueids: &ueids,
        ..RevocationListBuilder::new(list.version, list.issued_at)
    };
    let mut payload = vec![0u8; data.len()];
    let n = builder
        .encode_payload(&mut payload)
        .expect("a decoded list re-encodes");
    assert_eq!(
        Some(&payload[..n]),
        list.message.payload,
        "deterministic payload"
    );

    let Ok(verified) = list.verify(&mut RustCrypto::<()>::default(), &REGISTRAR, 0) else {
        return;
    };
    for s in &serials {
        assert!(verified.is_revoked_serial(s));
    }
    for u in &ueids {
        assert!(verified.is_revoked_ueid(u));
    }
    assert!(!verified.is_revoked_serial(&[]));
    let _ = verified.check_current(verified.list().issued_at);
});
