//! What a certificate request must show before the registrar issues: a request whose
//! self-signature verifies, a UEID, optionally a signed challenge and appraised evidence.

use super::error::Refusal;
use crate::credential::ueid_from_hex;
use crate::enrolment::POSSESSION_AAD;
use crate::keystore::P256PublicKey;
use crate::ueid::Ueid;
use crate::x509::{Csr, P256Verify, X509Error};
use alloc::string::String;
use alloc::vec::Vec;
use iot_core::cose::{Algorithm, CoseSign1};
use iot_core::crypto::{P256VerifyingKey, Sha256, ct_eq};

/// Intended use "certificate issuance" (RFC 9711 section 4.3.3, `intuse` value 4): evidence
/// presented to a registrar must name it.
pub const INTENDED_USE_CERTIFICATE_ISSUANCE: u64 = 4;

/// A challenge the registrar sent and the device's answer: a COSE_Sign1 (ES256) over the
/// challenge with external AAD [`POSSESSION_AAD`], signed by the key of the request (what
/// [`crate::enrolment::Device::prove_possession`] makes, or any holder of the key through
/// [`crate::keystore::StoreSigner`] and `iot_core::cose::Sign1Builder`). It shows the key is
/// held now, where the request's own signature could be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PossessionProof<'a> {
    /// The registrar's fresh challenge.
    pub challenge: &'a [u8],
    /// The device's COSE_Sign1.
    pub proof: &'a [u8],
}

/// What the caller's [`EvidenceVerifier`] is asked to check the evidence against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceContext<'a> {
    /// The device the request is for.
    pub ueid: &'a Ueid,
    /// The key to be certified.
    pub public_key: &'a P256PublicKey,
    /// The challenge, when there is one: the evidence's expected nonce.
    pub nonce: Option<&'a [u8]>,
    /// Always [`INTENDED_USE_CERTIFICATE_ISSUANCE`].
    pub intended_use: u64,
}

/// What an appraisal found in verified evidence. The registrar checks intended use, UEID and
/// nonce itself; the rest goes to the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Appraisal {
    /// The verdict stored as the last attestation result (e.g. an EAR status, `affirming`).
    pub result: String,
    /// The evidence's `intuse` claim (RFC 9711 section 4.3.3).
    pub intended_use: Option<u64>,
    /// The evidence's `ueid` claim.
    pub ueid: Option<Vec<u8>>,
    /// The evidence's `eat_nonce` claim.
    pub nonce: Option<Vec<u8>>,
    /// The firmware version the evidence reports (`swversion` or a SUIT manifest's).
    pub firmware_version: Option<String>,
    /// The model the evidence reports (`hwmodel`).
    pub model: Option<String>,
}

/// Appraises attestation evidence for the registrar: a caller's implementation (iot-attest's
/// `registrar::EatVerifier`, behind its `registrar` feature) verifies the evidence's signature
/// and claims against its policy and reference values and reports what it found, or why it
/// refused. Closures `FnMut(&[u8], &EvidenceContext) -> Result<Appraisal, String>` are
/// verifiers too.
pub trait EvidenceVerifier {
    /// Verifies and appraises `evidence`.
    fn appraise(
        &mut self,
        evidence: &[u8],
        context: &EvidenceContext<'_>,
    ) -> Result<Appraisal, String>;
}

impl<F> EvidenceVerifier for F
where
    F: FnMut(&[u8], &EvidenceContext<'_>) -> Result<Appraisal, String>,
{
    fn appraise(
        &mut self,
        evidence: &[u8],
        context: &EvidenceContext<'_>,
    ) -> Result<Appraisal, String> {
        self(evidence, context)
    }
}

/// What the registrar asks of every request, and how long its certificates last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuancePolicy {
    /// Certificate lifetime in seconds from issuance.
    pub validity_secs: u64,
    /// Require a [`PossessionProof`] besides the request's self-signature.
    pub require_possession_proof: bool,
    /// Require evidence appraised by an [`EvidenceVerifier`].
    pub require_evidence: bool,
}

impl Default for IssuancePolicy {
    /// Five years; neither a challenge nor evidence required.
    fn default() -> Self {
        Self {
            validity_secs: 5 * 365 * 86_400,
            require_possession_proof: false,
            require_evidence: false,
        }
    }
}

/// A device's request for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueRequest<'a> {
    /// The DER PKCS#10 request (from [`crate::x509::write_csr`], OpenSSL, ...).
    pub csr: &'a [u8],
    /// The device's UEID, when the request's subject has no `serialNumber` holding it in hex;
    /// when both are there they must agree.
    pub ueid: Option<Ueid>,
    /// The device's model, for the inventory (evidence that names one wins).
    pub model: Option<&'a str>,
    /// The device's firmware version, for the inventory (evidence that names one wins).
    pub firmware_version: Option<&'a str>,
    /// A signed challenge.
    pub possession: Option<PossessionProof<'a>>,
    /// Attestation evidence (an EAT, a PSA token) for the [`EvidenceVerifier`].
    pub evidence: Option<&'a [u8]>,
    /// The time of issuance, seconds since the Unix epoch: the certificate's notBefore.
    pub now: u64,
}

impl<'a> IssueRequest<'a> {
    /// A request with nothing but the CSR and the time.
    pub fn new(csr: &'a [u8], now: u64) -> Self {
        Self {
            csr,
            ueid: None,
            model: None,
            firmware_version: None,
            possession: None,
            evidence: None,
            now,
        }
    }
}

/// A request that passed every check of the policy.
pub(crate) struct Checked<'a> {
    pub(crate) csr: Csr<'a>,
    pub(crate) ueid: Ueid,
    pub(crate) appraisal: Option<Appraisal>,
}

/// Checks `req` under `policy`: the request decodes and its self-signature verifies, a UEID
/// is named (consistently), the challenge signature (if any, or required) verifies under the
/// request's key, and evidence (if any, or required) is appraised by `verifier`, names intended
/// use 4, the same UEID and the challenge as its nonce.
pub(crate) fn check_request<'a, C: Sha256 + P256Verify>(
    crypto: &mut C,
    req: &IssueRequest<'a>,
    policy: &IssuancePolicy,
    verifier: Option<&mut dyn EvidenceVerifier>,
) -> Result<Checked<'a>, Refusal> {
    let csr = Csr::decode(req.csr).map_err(Refusal::MalformedCsr)?;
    csr.verify(crypto).map_err(|e| match e {
        X509Error::BadSignature => Refusal::CsrSignature,
        e => Refusal::MalformedCsr(e),
    })?;
    let ueid = request_ueid(&csr, req.ueid)?;
    match req.possession {
        Some(p) => check_possession(crypto, &p, &csr.public_key)?,
        None if policy.require_possession_proof => return Err(Refusal::PossessionProofMissing),
        None => {}
    }
    let nonce = req.possession.map(|p| p.challenge);
    let appraisal = match (req.evidence, verifier) {
        (Some(evidence), Some(verifier)) => {
            let context = EvidenceContext {
                ueid: &ueid,
                public_key: &csr.public_key,
                nonce,
                intended_use: INTENDED_USE_CERTIFICATE_ISSUANCE,
            };
            let a = verifier
                .appraise(evidence, &context)
                .map_err(Refusal::EvidenceRejected)?;
            if a.intended_use != Some(INTENDED_USE_CERTIFICATE_ISSUANCE) {
                return Err(Refusal::EvidenceIntendedUse(a.intended_use));
            }
            if a.ueid.as_deref().is_some_and(|u| u != ueid.as_bytes()) {
                return Err(Refusal::UeidMismatch);
            }
            if let Some(n) = nonce
                && !a.nonce.as_deref().is_some_and(|found| ct_eq(found, n))
            {
                return Err(Refusal::EvidenceNonce);
            }
            Some(a)
        }
        _ if policy.require_evidence => return Err(Refusal::EvidenceMissing),
        _ => None,
    };
    Ok(Checked {
        csr,
        ueid,
        appraisal,
    })
}

/// The UEID from the request's `serialNumber` (upper-case hex, as [`crate::x509::write_csr`]
/// writes it) and/or the caller's.
fn request_ueid(csr: &Csr<'_>, given: Option<Ueid>) -> Result<Ueid, Refusal> {
    let in_csr = match csr.serial_number().map_err(Refusal::MalformedCsr)? {
        Some(text) => Some(ueid_from_hex(text).ok_or(Refusal::InvalidUeid)?),
        None => None,
    };
    match (in_csr, given) {
        (Some(a), Some(b)) if a != b => Err(Refusal::UeidMismatch),
        (Some(u), _) | (None, Some(u)) => Ok(u),
        (None, None) => Err(Refusal::UeidMissing),
    }
}

/// Checks a [`PossessionProof`] under the request's key.
fn check_possession<C: Sha256>(
    crypto: &mut C,
    proof: &PossessionProof<'_>,
    key: &P256PublicKey,
) -> Result<(), Refusal> {
    let bad = |_| Refusal::PossessionProof;
    let msg = CoseSign1::decode(proof.proof).map_err(bad)?;
    if !matches!(
        msg.alg().map_err(bad)?,
        Algorithm::Es256 | Algorithm::Esp256
    ) {
        return Err(Refusal::PossessionProof);
    }
    let mut vk = P256VerifyingKey::from_sec1(key.as_sec1()).map_err(bad)?;
    msg.verify(crypto, &mut vk, POSSESSION_AAD).map_err(bad)?;
    match msg.payload {
        Some(p) if ct_eq(p, proof.challenge) => Ok(()),
        _ => Err(Refusal::PossessionProof),
    }
}
