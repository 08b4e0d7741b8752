//! Device identity at rest: the enrolment lifecycle record (its first 24 bytes), a sealed key
//! (COSE_Encrypt0 around a COSE_Key, under a fixed sealing key and a null AEAD) and a UEID
//! (RFC 9711 section 4.2.1), all from the same input.
#![no_main]

use iot_fuzz::identity::{SEALING_KEY, SealCrypto};
use iot_identity::enrolment::{RECORD_LEN, Record};
use iot_identity::keystore::{KeySlot, SoftwareKeyStore};
use iot_identity::ueid::Ueid;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(bytes) = data.first_chunk::<RECORD_LEN>() {
        if let Ok(record) = Record::decode(bytes) {
            assert_eq!(&record.encode(), bytes, "record decode/encode round trip");
        }
    }
    if let Ok(ueid) = Ueid::from_bytes(data) {
        assert_eq!(ueid.as_bytes(), data, "UEID round trip");
    }
    let mut store = SoftwareKeyStore::<_, 2>::new(SealCrypto, &SEALING_KEY).expect("32-byte key");
    if store.unseal(KeySlot(0), data).is_ok() {
        assert!(store.is_occupied(KeySlot(0)));
        let mut out = [0u8; 256];
        let n = store
            .seal(KeySlot(0), &mut out)
            .expect("an unsealed key seals again");
        assert!(n > 0);
    }
});
