//! Open Profile for DICE CDI certificates (a COSE_Sign1 over CWT claims, RFC 9052 / RFC 8392):
//! decode arbitrary bytes as a certificate and as bare claims; a decoded certificate is checked
//! against open-dice's ZeroInput authority key.
#![no_main]

use iot_core::crypto::RustCrypto;
use iot_fuzz::identity::DICE_ISSUER_XY;
use iot_identity::dice::{DiceCertificate, DiceClaims, DicePublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = DiceClaims::decode(data) {
        let _ = (claims.allows_cert_sign(), claims.subject_key());
    }
    let Ok(cert) = DiceCertificate::decode(data) else {
        return;
    };
    let _ = cert.claims.subject_key();
    let _ = cert.verify(
        &mut RustCrypto::<()>::default(),
        &DicePublicKey(DICE_ISSUER_XY),
    );
});
