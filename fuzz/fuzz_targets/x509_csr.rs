//! PKCS#10 request (RFC 2986): decode arbitrary DER; where that succeeds, the proof-of-possession
//! check and the name accessors must return, not panic.
#![no_main]

use iot_core::crypto::RustCrypto;
use iot_identity::x509::Csr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(csr) = Csr::decode(data) else {
        return;
    };
    assert!(
        csr.info_raw.len() < data.len(),
        "info is inside the request"
    );
    let _ = csr.verify(&mut RustCrypto::<()>::default());
    let _ = (csr.common_name(), csr.serial_number());
});
