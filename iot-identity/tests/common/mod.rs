//! What the iot-identity test files share. Each test file is a crate of its own and uses part
//! of this.
#![allow(dead_code)]

use iot_core::crypto::RustCrypto;
use iot_identity::keystore::{KeySlot, KeyStore, StoreSigner};
use iot_identity::ueid::Ueid;
use iot_identity::x509::{CsrSubject, write_csr};

/// A PKCS#10 request (DER) for the key in `slot` of `store`, naming `ueid` and `common_name`.
pub fn csr<K: KeyStore>(
    store: &mut K,
    slot: KeySlot,
    ueid: &Ueid,
    common_name: Option<&str>,
) -> Vec<u8> {
    let public = store.public_key(slot).unwrap();
    let mut out = [0u8; 400];
    let n = write_csr(
        &mut RustCrypto::<()>::default(),
        &mut StoreSigner::new(store, slot),
        &public,
        &CsrSubject { ueid, common_name },
        &mut out,
    )
    .unwrap();
    out[..n].to_vec()
}

/// A fresh key in slot 0 of a software key store sealed under `sealing_key`, and its request.
pub fn fresh_csr(sealing_key: &[u8], ueid: &Ueid, common_name: Option<&str>) -> Vec<u8> {
    let mut store =
        iot_identity::keystore::SoftwareKeyStore::<_, 1>::new(RustCrypto::from_os(), sealing_key)
            .unwrap();
    store.generate(KeySlot(0)).unwrap();
    csr(&mut store, KeySlot(0), ueid, common_name)
}
