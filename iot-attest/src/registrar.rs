//! Attestation evidence at enrolment: an [`EvidenceVerifier`] for iot-identity's registrar.
//!
//! The registrar refuses to certify a key unless evidence names its challenge, the device's
//! UEID and intended use 4, certificate issuance (RFC 9711 section 4.3.3); [`EatVerifier`]
//! verifies that evidence with this crate so a gateway or cloud service gets the same check as
//! `iot-tool identity enroll`.

use crate::Nonce;
use crate::verify::{KeyEntry, KeyMaterial, Rules, Verifier};
use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use iot_core::crypto::{P256VerifyingKey, RustCrypto};
use iot_identity::registrar::{Appraisal, EvidenceContext, EvidenceVerifier};

/// The registrar's [`EvidenceVerifier`] for an EAT signed by the key being certified: the
/// verifier of [`crate::verify`], with the request's public key, checks the signature and the
/// Constrained Device Standard Profile (RFC 9711 section 6.3, [`crate::cdsp`]) and reports the claims;
/// the registrar itself checks intended use, UEID and nonce. No reference values are
/// appraised, so the result recorded is `verified`.
#[derive(Debug, Clone, Copy, Default)]
pub struct EatVerifier;

impl EvidenceVerifier for EatVerifier {
    fn appraise(
        &mut self,
        evidence: &[u8],
        context: &EvidenceContext<'_>,
    ) -> Result<Appraisal, String> {
        let key =
            P256VerifyingKey::from_sec1(context.public_key.as_sec1()).map_err(|e| e.to_string())?;
        let entry = KeyEntry {
            name: "the requested key".into(),
            kid: None,
            ueid: None,
            key: KeyMaterial::P256(key),
        };
        let mut verifier = Verifier::new(&entry);
        verifier.require_known_profile = true;
        let verified = verifier
            .verify(&mut RustCrypto::<()>::default(), evidence, None)
            .map_err(|e| e.to_string())?;
        if verified.rules != Rules::Cdsp {
            return Err("not under the Constrained Device Standard Profile".into());
        }
        let c = &verified.claims;
        Ok(Appraisal {
            result: "verified".into(),
            intended_use: c.intuse.map(|u| u as u64),
            ueid: c.ueid.map(<[u8]>::to_vec),
            nonce: match c.nonce {
                Some(Nonce::One(n)) => Some(n.to_vec()),
                _ => None,
            },
            firmware_version: c.swversion.map(|v| v.version.to_owned()),
            model: c
                .hwmodel
                .and_then(|m| core::str::from_utf8(m).ok())
                .map(str::to_owned),
        })
    }
}
