//! Appraisal of verified evidence against reference values, into an [`Ear`] (feature `alloc`).
//!
//! The policy, claim by claim of the AR4SI trustworthiness vector ([`crate::ear::claim`]):
//!
//! - **instance-identity**: 2 (recognized) — the key store knew the key, the signature or MAC
//!   verified, and the key's UEID binding held ([`crate::verify::Verifier`] refuses otherwise).
//! - **hardware**: with a reference implementation ID, 2 (genuine) when the evidence's
//!   `psa-implementation-id` equals it, else 97 (unrecognized); without one, no claim.
//! - **executables**: with reference software components, each component of the evidence
//!   (`psa-software-components`) must match one reference: the same measurement value, and the
//!   same signer ID, measurement type and version where the reference gives them. All matched:
//!   2 (approved). A component that matches none: 33 (unrecognized, a warning) when its signer
//!   ID is one the reference values trust — an unlisted build of a trusted signer — and 96
//!   (contraindicated) otherwise. Evidence without components: 33. No references: no claim.
//!   With reference measurements ([`RefMeasurement`]), the EAT `measurements` (273) read as
//!   CoSWID evidence tags ([`crate::measure`]): each must match a reference by name and
//!   SHA-256 digest (and version where the reference gives one), else 96 (contraindicated: an
//!   unknown or altered build); a referenced component the evidence does not measure, a
//!   measurement that cannot be read, or no measurements at all: 33. With reference SUIT
//!   manifest digests, each SUIT envelope of `manifests` (272, [`crate::suit`]) must name one of
//!   them, else 96; evidence without one: 33. The worst of these is kept.
//! - **configuration**: the allowed lifecycle states (PSA `psa-security-lifecycle`) and debug
//!   states (EAT `dbgstat`), each when the reference values constrain it: an allowed state is
//!   2 (approved), another one 96 (unsupportable: a debug port open, a device in manufacture
//!   or decommissioned), a constrained claim the evidence lacks 36 (unavailable). The worst
//!   of the two is kept. No constraint: no claim.
//! - **file-system**, **runtime-opaque**, **storage-opaque**, **sourced-data**: no claim; a
//!   constrained device's evidence says nothing about them.
//!
//! Submodules ([`ReferenceValues::submods`]): each named one is appraised by the same rules
//! against its own reference values and reported as its own entry of the result's `submods`
//! (instance-identity as the token's: the token's signature covers it). A named submodule the
//! evidence lacks, or one that is not a nested claims-set (a nested token or a detached
//! digest, which this verifier does not open), is appraised as an empty claims-set: every
//! constrained claim is then missing (33, 36, 97).
//!
//! The status is the worst tier of the vector. The `cnf` key of the evidence, when it is a
//! P-256 COSE_Key, is the attested key.

use crate::ear::{Appraisal, Ear, TrustVector, VerifierId, claim, p256_spki};
use crate::measure::{Measurement, NI_SHA256};
use crate::psa::Lifecycle;
use crate::value::{Confirmation, DebugStatus};
use crate::verify::{Rules, Verified};
use crate::{Claims, Submodule, suit};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use iot_core::cose::{CoseKey, Ec2Y};
use iot_core::crypto::{P256VerifyingKey, ct_eq};
use iot_update_manifest::digest_alg;

/// One reference software component.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefComponent {
    /// The component's role ("BL", "PRoT"...), compared when given.
    pub measurement_type: Option<String>,
    /// The measurement (hash) of an approved build.
    pub measurement_value: Vec<u8>,
    /// The hash of the signing authority's key, compared when given; also marks the signer as
    /// trusted.
    pub signer_id: Option<Vec<u8>>,
    /// The version, compared when given.
    pub version: Option<String>,
}

/// One reference measurement of an EAT `measurements` claim (a CoSWID evidence tag).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefMeasurement {
    /// The component's name (`software-name`).
    pub name: String,
    /// The SHA-256 digest of an approved image.
    pub digest: Vec<u8>,
    /// The version, compared when given.
    pub version: Option<String>,
}

/// Reference values: what a genuine, up-to-date device's evidence says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReferenceValues {
    /// Names the policy in the result (`ear.appraisal-policy-id`).
    pub policy_id: Option<String>,
    /// The PSA Implementation ID of the genuine hardware.
    pub implementation_id: Option<Vec<u8>>,
    /// The approved software components.
    pub software_components: Vec<RefComponent>,
    /// The allowed PSA lifecycle states, when constrained.
    pub lifecycle: Option<Vec<Lifecycle>>,
    /// The allowed EAT debug states, when constrained.
    pub debug_status: Option<Vec<DebugStatus>>,
    /// The approved EAT measurements (273).
    pub measurements: Vec<RefMeasurement>,
    /// The SHA-256 SUIT_Digests of approved SUIT manifests (272).
    pub manifests: Vec<Vec<u8>>,
    /// Reference values of named submodules (266), appraised each on its own.
    pub submods: Vec<(String, ReferenceValues)>,
}

/// The name of the attester's appraisal in the result: `PSA_IOT` for PSA tokens, `EAT` for the
/// others.
pub fn submod_name(rules: Rules) -> &'static str {
    match rules {
        Rules::Psa => "PSA_IOT",
        Rules::Cdsp | Rules::Eat => "EAT",
    }
}

/// Appraises verified evidence against `reference` (the policy is in the module docs).
pub fn appraise(verified: &Verified<'_>, reference: &ReferenceValues) -> Appraisal {
    appraise_claims(&verified.claims, reference)
}

/// Appraises the submodules `reference` names, each under its name (the policy is in the
/// module docs).
pub fn appraise_submods(
    verified: &Verified<'_>,
    reference: &ReferenceValues,
) -> Vec<(String, Appraisal)> {
    reference
        .submods
        .iter()
        .map(|(name, refs)| {
            let claims = verified
                .claims
                .submods
                .and_then(|s| s.iter().find(|m| m.name == name.as_str()))
                .and_then(|m| match m.module {
                    Submodule::Claims(set) => set.claims().ok(),
                    Submodule::Token(_) | Submodule::Digest(_) => None,
                })
                .unwrap_or_default();
            (name.clone(), appraise_claims(&claims, refs))
        })
        .collect()
}

fn appraise_claims(claims: &Claims<'_>, reference: &ReferenceValues) -> Appraisal {
    let mut tv = TrustVector {
        instance_identity: claim::TRUSTWORTHY_INSTANCE,
        ..TrustVector::default()
    };

    if let Some(expected) = &reference.implementation_id {
        tv.hardware = if claims.psa_implementation_id == Some(expected.as_slice()) {
            claim::GENUINE_HARDWARE
        } else {
            claim::UNRECOGNIZED_HARDWARE
        };
    }

    let mut executables: Option<i8> = None;
    if !reference.software_components.is_empty() {
        let psa = match claims.psa_software_components {
            None => claim::UNRECOGNIZED_RUNTIME,
            Some(c) if c.is_empty() => claim::UNRECOGNIZED_RUNTIME,
            Some(components) => components
                .iter()
                .map(|c| executable(&c, &reference.software_components))
                .max_by_key(|v| crate::ear::Tier::of_claim(*v))
                .unwrap_or(claim::UNRECOGNIZED_RUNTIME),
        };
        executables = worst(executables, psa);
    }
    if !reference.measurements.is_empty() {
        executables = worst(executables, measurements(claims, &reference.measurements));
    }
    if !reference.manifests.is_empty() {
        executables = worst(executables, manifests(claims, &reference.manifests));
    }
    tv.executables = executables.unwrap_or(claim::NO_CLAIM);

    let mut config: Option<i8> = None;
    if let Some(allowed) = &reference.lifecycle {
        let state = claims.psa_lifecycle.and_then(Lifecycle::from_value);
        config = worst(config, configuration(state, allowed));
    }
    if let Some(allowed) = &reference.debug_status {
        config = worst(config, configuration(claims.dbgstat, allowed));
    }
    tv.configuration = config.unwrap_or(claim::NO_CLAIM);

    Appraisal {
        status: tv.status(),
        trust_vector: tv,
        policy_id: reference.policy_id.clone(),
        attested_key: attested_key(claims.cnf),
    }
}

/// The attestation result of one verified token: its appraisal under the name
/// [`submod_name`] followed by those of the submodules the reference values name, the nonce the verifier asked for, the evidence itself.
pub fn attestation_result(
    verified: &Verified<'_>,
    evidence: &[u8],
    reference: &ReferenceValues,
    nonce: Option<&[u8]>,
    iat: i64,
) -> Ear {
    Ear {
        iat,
        verifier_id: VerifierId::default(),
        nonce: nonce.map(<[u8]>::to_vec),
        raw_evidence: Some(evidence.to_vec()),
        submods: core::iter::once((
            String::from(submod_name(verified.rules)),
            appraise(verified, reference),
        ))
        .chain(appraise_submods(verified, reference))
        .collect(),
    }
}

fn worst(a: Option<i8>, b: i8) -> Option<i8> {
    Some(match a {
        Some(a) if crate::ear::Tier::of_claim(a) >= crate::ear::Tier::of_claim(b) => a,
        _ => b,
    })
}

fn configuration<T: PartialEq>(state: Option<T>, allowed: &[T]) -> i8 {
    match state {
        None => claim::UNAVAILABLE_CONFIG,
        Some(s) if allowed.contains(&s) => claim::APPROVED_CONFIG,
        Some(_) => claim::UNSUPPORTABLE_CONFIG,
    }
}

fn executable(c: &crate::SwComponent<'_>, refs: &[RefComponent]) -> i8 {
    let matches = |r: &RefComponent| {
        c.measurement_value == Some(r.measurement_value.as_slice())
            && r.signer_id.as_ref().is_none_or(|s| c.signer_id == Some(s))
            && r.measurement_type
                .as_ref()
                .is_none_or(|t| c.measurement_type == Some(t))
            && r.version.as_ref().is_none_or(|v| c.version == Some(v))
    };
    if refs.iter().any(matches) {
        return claim::APPROVED_RUNTIME;
    }
    let trusted_signer = c
        .signer_id
        .is_some_and(|s| refs.iter().any(|r| r.signer_id.as_deref() == Some(s)));
    if trusted_signer {
        claim::UNRECOGNIZED_RUNTIME
    } else {
        claim::CONTRAINDICATED_RUNTIME
    }
}

/// The executables claim of the EAT `measurements` against reference measurements.
fn measurements(claims: &Claims<'_>, refs: &[RefMeasurement]) -> i8 {
    let Some(entries) = claims.measurements else {
        return claim::UNRECOGNIZED_RUNTIME;
    };
    let mut result = None;
    let mut seen = vec![false; refs.len()];
    for entry in entries.iter() {
        let Some(Ok(m)) = Measurement::from_entry(&entry) else {
            result = worst(result, claim::UNRECOGNIZED_RUNTIME);
            continue;
        };
        let matched = refs.iter().position(|r| {
            r.name == m.name
                && m.hash_alg == NI_SHA256
                && ct_eq(&r.digest, m.digest)
                && r.version.as_deref().is_none_or(|v| m.version == Some(v))
        });
        let value = match matched.and_then(|i| seen.get_mut(i)) {
            Some(s) => {
                *s = true;
                claim::APPROVED_RUNTIME
            }
            None => claim::CONTRAINDICATED_RUNTIME,
        };
        result = worst(result, value);
    }
    if seen.contains(&false) {
        result = worst(result, claim::UNRECOGNIZED_RUNTIME);
    }
    result.unwrap_or(claim::UNRECOGNIZED_RUNTIME)
}

/// The executables claim of the SUIT envelopes in `manifests` against reference digests.
fn manifests(claims: &Claims<'_>, refs: &[Vec<u8>]) -> i8 {
    let mut result = None;
    for entry in claims.manifests.iter().flat_map(|m| m.iter()) {
        let value = match suit::manifest_digest(&entry) {
            None => continue,
            Some(Ok(d)) if d.algorithm == digest_alg::SHA256 => {
                if refs.iter().any(|r| ct_eq(r, d.bytes)) {
                    claim::APPROVED_RUNTIME
                } else {
                    claim::CONTRAINDICATED_RUNTIME
                }
            }
            Some(_) => claim::UNRECOGNIZED_RUNTIME,
        };
        result = worst(result, value);
    }
    result.unwrap_or(claim::UNRECOGNIZED_RUNTIME)
}

/// The DER SubjectPublicKeyInfo of a P-256 `cnf` key.
fn attested_key(cnf: Option<Confirmation<'_>>) -> Option<Vec<u8>> {
    let Some(Confirmation::Key(CoseKey::Ec2 { x, y, .. })) = cnf else {
        return None;
    };
    let key = match y {
        Ec2Y::Coordinate(y) => P256VerifyingKey::from_coordinates(x, y).ok()?,
        Ec2Y::Sign(odd) => {
            let mut sec1 = [0u8; 33];
            let (head, rest) = sec1.split_at_mut(1);
            head.fill(if odd { 0x03 } else { 0x02 });
            rest.copy_from_slice(x.get(..32)?);
            P256VerifyingKey::from_sec1(&sec1).ok()?
        }
    };
    Some(p256_spki(&key.to_sec1_uncompressed()))
}
