//! EAT token decoding (RFC 9711 section 4, CWT RFC 8392 in COSE_Sign1/COSE_Mac0): decode
//! arbitrary bytes as a token; where that succeeds, "verify" a COSE_Sign1 with a verifier that
//! accepts any 64-byte signature (no curve arithmetic; this target fuzzes decoding), verify a
//! COSE_Mac0 with the HMAC key of the RFC 9783 example `psa-mac0`, and check that verified claims
//! equal the unverified ones; then walk the claims.
#![no_main]

use iot_attest::{Envelope, Token};
use iot_core::cose::{Algorithm, SymmetricKey};
use iot_core::crypto::{RustCrypto, SHA256_LEN, Verifier};
use iot_fuzz::PSA_HMAC_KEY;
use iot_fuzz::attest::walk;
use libfuzzer_sys::fuzz_target;

/// Accepts every signature and records that it was asked.
struct AcceptAll(bool);

impl Verifier for AcceptAll {
    fn algorithm(&self) -> Option<Algorithm> {
        None
    }
    fn verify_digest(&mut self, _: &[u8; SHA256_LEN], signature: &[u8]) -> iot_core::Result<()> {
        assert_eq!(
            signature.len(),
            64,
            "a P-256 signature reached the verifier"
        );
        self.0 = true;
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = Token::decode(data) else {
        return;
    };
    let _ = (token.kid(), token.payload(), token.cwt_tagged);
    let unverified = token.claims_unverified();
    let mut crypto = RustCrypto::<()>::default();
    let verified = match &token.envelope {
        Envelope::Sign1(_) => {
            let mut v = AcceptAll(false);
            let r = token.verify(&mut crypto, &mut v, b"");
            assert_eq!(r.is_ok(), v.0 && unverified.is_ok());
            assert!(
                token
                    .verify_mac(&mut crypto, &SymmetricKey::new(&PSA_HMAC_KEY), b"")
                    .is_err()
            );
            r
        }
        Envelope::Mac0(_) => {
            assert!(
                token
                    .verify(&mut crypto, &mut AcceptAll(false), b"")
                    .is_err()
            );
            token.verify_mac(&mut crypto, &SymmetricKey::new(&PSA_HMAC_KEY), b"")
        }
    };
    if let Ok(claims) = verified {
        assert_eq!(
            Ok(&claims),
            unverified.as_ref(),
            "verified and unverified claims differ"
        );
    }
    if let Ok(claims) = unverified {
        walk(&claims, 0);
    }
});
