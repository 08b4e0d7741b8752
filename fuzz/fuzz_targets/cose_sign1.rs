//! COSE_Sign1 (RFC 9052 section 4.2): decode arbitrary bytes; where that succeeds, verify with a
//! fixed P-256 key, and check that the digest of the streamed Sig_structure equals the SHA-256 of
//! the Sig_structure written out whole.
#![no_main]

use iot_core::Error;
use iot_core::cbor::SliceWriter;
use iot_core::cose::{Algorithm, CoseSign1};
use iot_core::crypto::{P256VerifyingKey, RustCrypto, SHA256_LEN, Sha256, Verifier};
use iot_fuzz::{BUF, DETACHED, P256_X, P256_Y};
use libfuzzer_sys::fuzz_target;

/// A verifier that records the digest it is asked about (no curve arithmetic, so it is cheap).
struct Capture(Option<[u8; SHA256_LEN]>);

impl Verifier for Capture {
    fn algorithm(&self) -> Option<Algorithm> {
        None
    }
    fn verify_digest(&mut self, digest: &[u8; SHA256_LEN], _: &[u8]) -> iot_core::Result<()> {
        self.0 = Some(*digest);
        Err(Error::BadSignature)
    }
}

fn verify<V: Verifier>(msg: &CoseSign1<'_>, key: &mut V, aad: &[u8]) -> iot_core::Result<()> {
    let mut crypto = RustCrypto::<()>::default();
    match msg.payload {
        Some(_) => msg.verify(&mut crypto, key, aad),
        None => msg.verify_detached(&mut crypto, key, DETACHED, aad),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = CoseSign1::decode(data) else {
        return;
    };
    let _ = msg.headers.kid();
    // The real check, once: the vectors that verify with this key use no external AAD.
    let mut key = P256VerifyingKey::from_coordinates(&P256_X, &P256_Y).unwrap();
    let _ = verify(&msg, &mut key, b"");

    let mut buf = vec![0u8; BUF];
    for aad in [
        &b""[..],
        b"\x11\xaa\x22\xbb\x33\xcc\x44\xdd\x55\x00\x66\x99",
    ] {
        let mut capture = Capture(None);
        let _ = verify(&msg, &mut capture, aad);
        let mut w = SliceWriter::new(&mut buf);
        let whole = msg
            .write_to_be_signed(Some(DETACHED), aad, &mut w)
            .ok()
            .map(|()| RustCrypto::<()>::default().sha256(w.written()));
        if let Some(streamed) = capture.0 {
            // A digest was computed, so the message is well-formed for verification.
            assert_eq!(
                Some(streamed),
                whole,
                "streamed and whole Sig_structure disagree"
            );
        } else {
            // verify_digest is only skipped for a bad alg, a bad signature length or a payload mismatch.
            assert!(
                !msg.alg().is_ok_and(|a| a.is_ecdsa_p256()) || msg.signature.len() != 64,
                "no digest for a well-formed message"
            );
        }
    }
});
